/* SPDX-License-Identifier: MIT */
/*
 * os_darwin: the macOS backend. The TUN device is a utun interface, made
 * by connecting a PF_SYSTEM kernel-control socket to
 * "com.apple.net.utun_control"; the socket is the device and dies with it.
 * Every packet on that socket carries a 4-byte protocol family in network
 * byte order in front: reads strip it, writes put it in the headroom the
 * descriptor declares (utun_frame.c). MTU, address and flags are set by
 * ioctl, routes through a PF_ROUTE socket (the messages: rtmsg.c).
 *
 * NEVER RUN ON A REAL MAC: this file is built only for macOS (and
 * cross-compiled and linked for arm64 and x86_64 by scripts/macos-cross.sh);
 * its framing and routing messages are unit-tested on Linux
 * (tests/test_os_darwin.c), the system calls here are not.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/kern_control.h>
#include <sys/sockio.h>
#include <sys/uio.h>
#include <unistd.h>

#include "subnetra/sdk.h"

#include "darwin_sys.h"
#include "rtmsg.h"
#include "utun_frame.h"

/* <sys/sys_domain.h> and <net/if_utun.h> are in Apple's SDK but not in
 * every copy of its headers (zig's, which scripts/macos-cross.sh builds
 * with, has neither, and not every SDK ships if_utun.h): the four values
 * used, as Apple's headers define them. struct ctl_info and sockaddr_ctl
 * are in <sys/kern_control.h>. */
#if defined(__has_include)
#if __has_include(<sys/sys_domain.h>)
#include <sys/sys_domain.h>
#endif
#endif
#ifndef SYSPROTO_CONTROL
#define SYSPROTO_CONTROL 2 /* <sys/sys_domain.h>: the kernel control protocol */
#endif
#ifndef AF_SYS_CONTROL
#define AF_SYS_CONTROL 2   /* <sys/sys_domain.h>: its address subtype */
#endif
#ifndef UTUN_CONTROL_NAME
#define UTUN_CONTROL_NAME "com.apple.net.utun_control" /* <net/if_utun.h> */
#endif
#ifndef UTUN_OPT_IFNAME
#define UTUN_OPT_IFNAME 2  /* <net/if_utun.h>: getsockopt, the device's name */
#endif

#define NAME "darwin"
#define AF_HDR_LEN SN_UTUN_HDR_LEN
/* The kernel refuses an MTU outside IF_MINMTU..IF_MAXMTU (<net/if_var.h>)
 * for every interface, utun included. */
#define MTU_MIN 72u
#define MTU_MAX 65535u
#define UNIT_MAX 65534u

struct dw {
	struct sn_host *host;
	const struct sn_host_api *api;
	int fd;          /* the utun control socket; -1 before tun_open() */
	uint16_t ifindex; /* if_nametoindex() of the device, > 0 once open */
	int rt_seq;      /* sequence number of the last routing message */
	char name[IFNAMSIZ];
};

static const char *perm_hint(int e)
{
	return e == EPERM || e == EACCES ? " (needs root)" : "";
}

static uint32_t prefix_mask(uint8_t len)
{
	return len == 0 ? 0 : 0xffffffffu << (32 - len);
}

static void set_inet(struct sockaddr_in *sin, uint32_t addr)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_len = sizeof(*sin);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(addr);
}

/* ---- utun ---- */

/* "utunN" -> sc_unit N + 1 (N without leading zeros, so that the name
 * asked for is the name made); "utun", NULL or "" -> 0, the kernel's
 * choice of a free unit. */
static int parse_unit(const char *name, uint32_t *unit, char *err, uint32_t el)
{
	const char *d = name ? name + 4 : NULL;
	unsigned long n;
	char *end;

	*unit = 0;
	if (!name || !*name || !strcmp(name, "utun"))
		return 0;
	if (strncmp(name, "utun", 4) == 0 && *d >= '0' && *d <= '9' && (*d != '0' || !d[1])) {
		errno = 0;
		n = strtoul(d, &end, 10);
		if (!errno && !*end && n <= UNIT_MAX) {
			*unit = (uint32_t)n + 1;
			return 0;
		}
	}
	sn_errf(err, el, "interface name '%s' is not valid on macOS (expected utun for the first "
	        "free unit, or utunN with N 0..%u)", name, UNIT_MAX);
	return -EINVAL;
}

static int set_flags(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	return 0;
}

static int control_id(int fd, uint32_t *id, char *err, uint32_t el)
{
	struct ctl_info info;
	int e;

	memset(&info, 0, sizeof(info));
	snprintf(info.ctl_name, sizeof(info.ctl_name), "%s", UTUN_CONTROL_NAME);
	if (ioctl(fd, CTLIOCGINFO, &info) != 0) {
		e = errno;
		sn_errf(err, el, "CTLIOCGINFO %s: %s", UTUN_CONTROL_NAME, strerror(e));
		return -e;
	}
	*id = info.ctl_id;
	return 0;
}

static int connect_utun(struct dw *x, uint32_t id, uint32_t unit, char *err, uint32_t el)
{
	struct sockaddr_ctl sc;
	socklen_t len = sizeof(x->name);
	int e;

	memset(&sc, 0, sizeof(sc));
	sc.sc_len = sizeof(sc);
	sc.sc_family = AF_SYSTEM;
	sc.ss_sysaddr = AF_SYS_CONTROL;
	sc.sc_id = id;
	sc.sc_unit = unit;
	if (connect(x->fd, (struct sockaddr *)&sc, sizeof(sc)) != 0) {
		e = errno;
		if (unit)
			sn_errf(err, el, "cannot create utun%u: %s%s", unit - 1, strerror(e),
			        e == EBUSY ? " (in use by another process)" : perm_hint(e));
		else
			sn_errf(err, el, "cannot create a utun device: %s%s", strerror(e), perm_hint(e));
		return -e;
	}
	if (getsockopt(x->fd, SYSPROTO_CONTROL, UTUN_OPT_IFNAME, x->name, &len) != 0) {
		e = errno;
		sn_errf(err, el, "UTUN_OPT_IFNAME: %s", strerror(e));
		return -e;
	}
	x->name[IFNAMSIZ - 1] = '\0';
	return 0;
}

static int open_utun(struct dw *x, uint32_t unit, char *err, uint32_t el)
{
	uint32_t id;
	int rc;

	x->fd = socket(PF_SYSTEM, SOCK_DGRAM, SYSPROTO_CONTROL);
	if (x->fd < 0) {
		rc = -errno;
		sn_errf(err, el, "cannot open a PF_SYSTEM control socket: %s", strerror(-rc));
		return rc;
	}
	rc = set_flags(x->fd);
	if (rc) {
		sn_errf(err, el, "cannot make the utun socket non-blocking: %s", strerror(-rc));
		return rc;
	}
	rc = control_id(x->fd, &id, err, el);
	if (!rc)
		rc = connect_utun(x, id, unit, err, el);
	return rc;
}

/* ---- interface configuration ---- */

static int if_ioctl(struct dw *x, int s, unsigned long req, void *arg, const char *what,
		    char *err, uint32_t el)
{
	int e;

	if (ioctl(s, req, arg) == 0)
		return 0;
	e = errno;
	sn_errf(err, el, "%s %s: %s%s", what, x->name, strerror(e), perm_hint(e));
	return -e;
}

static int set_mtu(struct dw *x, int s, const struct sn_tun_config *cfg)
{
	struct ifreq ifr;
	char what[32];

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, x->name, IFNAMSIZ);
	ifr.ifr_mtu = (int)cfg->mtu;
	snprintf(what, sizeof(what), "SIOCSIFMTU %u", cfg->mtu);
	return if_ioctl(x, s, SIOCSIFMTU, &ifr, what, cfg->err, cfg->err_len);
}

/* utun is point-to-point: the destination is our own address (there is no
 * single far end), and the subnet gets a route of its own below, because a
 * point-to-point address installs none. */
static int set_addr(struct dw *x, int s, const struct sn_tun_config *cfg)
{
	struct ifaliasreq ifra;
	struct sockaddr_in sin;

	memset(&ifra, 0, sizeof(ifra));
	memcpy(ifra.ifra_name, x->name, IFNAMSIZ);
	set_inet(&sin, cfg->addr);
	memcpy(&ifra.ifra_addr, &sin, sizeof(sin));
	memcpy(&ifra.ifra_broadaddr, &sin, sizeof(sin));
	set_inet(&sin, prefix_mask(cfg->prefix_len));
	memcpy(&ifra.ifra_mask, &sin, sizeof(sin));
	return if_ioctl(x, s, SIOCAIFADDR, &ifra, "SIOCAIFADDR", cfg->err, cfg->err_len);
}

static int bring_up(struct dw *x, int s, const struct sn_tun_config *cfg)
{
	struct ifreq ifr;
	int rc;

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, x->name, IFNAMSIZ);
	rc = if_ioctl(x, s, SIOCGIFFLAGS, &ifr, "SIOCGIFFLAGS", cfg->err, cfg->err_len);
	if (rc)
		return rc;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	return if_ioctl(x, s, SIOCSIFFLAGS, &ifr, "SIOCSIFFLAGS up", cfg->err, cfg->err_len);
}

static int configure(struct dw *x, const struct sn_tun_config *cfg)
{
	int s, rc;

	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0) {
		rc = -errno;
		sn_errf(cfg->err, cfg->err_len, "cannot create a control socket: %s", strerror(-rc));
		return rc;
	}
	rc = set_mtu(x, s, cfg);
	if (!rc && !(cfg->flags & SN_TUN_F_NO_ADDR))
		rc = set_addr(x, s, cfg);
	if (!rc)
		rc = bring_up(x, s, cfg);
	close(s);
	return rc;
}

/* ---- routes ---- */

/* The kernel answers a bad request by failing the write() itself: EEXIST
 * for a route that exists, ESRCH for one that does not. The socket is
 * opened per request so that it never fills up with the routing messages
 * of the whole system. */
static int route(struct dw *x, int type, const struct sn_prefix *p)
{
	const struct sn_rt_dev dev = {x->ifindex, x->name};
	uint8_t msg[SN_RTMSG_MAX];
	ssize_t n;
	int s, len, e = 0;

	if (x->fd < 0)
		return -ENODEV;
	len = sn_darwin_rtmsg(msg, sizeof(msg), type, ++x->rt_seq, &dev, p->addr, p->len);
	if (len < 0)
		return len;
	s = socket(PF_ROUTE, SOCK_RAW, AF_INET);
	if (s < 0)
		return -errno;
	n = write(s, msg, (size_t)len);
	if (n < 0)
		e = errno;
	else if (n != len)
		e = EIO;
	close(s);
	return -e;
}

static int dw_route_add(void *inst, const struct sn_prefix *prefix)
{
	return route(inst, RTM_ADD, prefix);
}

static int dw_route_del(void *inst, const struct sn_prefix *prefix)
{
	return route(inst, RTM_DELETE, prefix);
}

/* The overlay subnet through the device (see set_addr). */
static int subnet_route(struct dw *x, const struct sn_tun_config *cfg)
{
	struct sn_prefix p = {cfg->addr & prefix_mask(cfg->prefix_len), cfg->prefix_len, {0}};
	int rc;

	if ((cfg->flags & SN_TUN_F_NO_ADDR) || cfg->prefix_len == 32)
		return 0;
	rc = route(x, RTM_ADD, &p);
	if (rc == -EEXIST)
		rc = 0;
	if (rc)
		sn_errf(cfg->err, cfg->err_len, "route to the overlay subnet /%u via %s: %s",
		        cfg->prefix_len, x->name, strerror(-rc));
	return rc;
}

/* ---- tun_open ---- */

static int check_config(const struct sn_tun_config *cfg)
{
	if (cfg->mtu < MTU_MIN || cfg->mtu > MTU_MAX) {
		sn_errf(cfg->err, cfg->err_len, "MTU %u is out of range for a utun device (%u..%u, "
		        "macOS refuses the rest)", cfg->mtu, MTU_MIN, MTU_MAX);
		return -EINVAL;
	}
	if (!(cfg->flags & SN_TUN_F_NO_ADDR) && cfg->prefix_len > 32) {
		sn_errf(cfg->err, cfg->err_len, "prefix length %u is out of range (0..32)",
		        cfg->prefix_len);
		return -EINVAL;
	}
	return 0;
}

/* The device's index names it in routing messages, which have 16 bits for
 * it; 0 means the name is unknown (the device went away already). */
static int get_index(struct dw *x, char *err, uint32_t el)
{
	unsigned i = if_nametoindex(x->name);
	int e = i ? ERANGE : (errno ? errno : ENXIO);

	if (i > 0 && i <= UINT16_MAX) {
		x->ifindex = (uint16_t)i;
		return 0;
	}
	sn_errf(err, el, "if_nametoindex(%s): %s", x->name, i ? "index above 65535" : strerror(e));
	return -e;
}

static void close_all(struct dw *x)
{
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
	x->ifindex = 0;
	x->name[0] = '\0';
}

static int dw_tun_open(void *inst, struct sn_tun_config *cfg)
{
	struct dw *x = inst;
	uint32_t unit;
	int rc;

	if (x->fd >= 0) {
		sn_errf(cfg->err, cfg->err_len, "the TUN device %s is already open", x->name);
		return -EALREADY;
	}
	rc = parse_unit(cfg->ifname, &unit, cfg->err, cfg->err_len);
	if (!rc)
		rc = check_config(cfg);
	if (!rc)
		rc = open_utun(x, unit, cfg->err, cfg->err_len);
	if (!rc)
		rc = get_index(x, cfg->err, cfg->err_len);
	if (!rc)
		rc = configure(x, cfg);
	if (!rc)
		rc = subnet_route(x, cfg);
	if (rc)
		close_all(x);
	return rc;
}

static int dw_tun_fd(void *inst)
{
	struct dw *x = inst;

	return x->fd >= 0 ? x->fd : -EBADF;
}

static const char *dw_tun_name(void *inst)
{
	struct dw *x = inst;

	return x->name;
}

/* ---- packets ---- */

static uint32_t room(const struct sn_pkt *p)
{
	return p->cap > p->off ? p->cap - p->off : 0;
}

static void count_drop(struct dw *x, uint32_t id, const struct sn_pkt *p, const char *why)
{
	x->api->count(x->host, id, p->peer_id, 1);
	x->api->log(x->host, SN_LOG_DEBUG, NAME ": %s: dropped a packet (peer %u): %s", x->name,
		    p->peer_id, why);
}

/* One packet into p: the family header lands in the headroom, one spare
 * byte behind the room tells a datagram cut short from one that fits.
 * 1 when p is filled, 0 when it was dropped, -errno otherwise. */
static int read_one(struct dw *x, struct sn_pkt *p)
{
	uint8_t spare;
	uint32_t rm = room(p), family;
	struct iovec iov[2] = {{sn_pkt_data(p) - AF_HDR_LEN, rm + AF_HDR_LEN}, {&spare, 1}};
	ssize_t r;
	int rc;

	do
		r = readv(x->fd, iov, 2);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -EPIPE; /* every utun packet has its header: the device is gone */
	rc = sn_utun_decap(p, (size_t)r, &family);
	if (rc == -EMSGSIZE) {
		count_drop(x, SN_CTR_DROP_TOO_BIG, p, "larger than the packet room");
		return 0;
	}
	if (rc) {
		count_drop(x, SN_CTR_DROP_TUN_ERROR, p, "shorter than the family header");
		return 0;
	}
	/* Packets of other families (IPv6) are passed on: the host drops
	 * anything that is not IPv4 and counts it. */
	return 1;
}

/* At most n reads, dropped packets included, so that a flood of bad ones
 * cannot hold the loop. */
static int dw_tun_read_batch(void *inst, struct sn_pkt **pkts, uint32_t n)
{
	struct dw *x = inst;
	uint32_t i = 0;
	int rc;

	if (x->fd < 0)
		return -EBADF;
	for (uint32_t reads = 0; reads < n && i < n; reads++) {
		if (pkts[i]->off < AF_HDR_LEN)
			return i ? (int)i : -EINVAL; /* the host ignored our headroom */
		rc = read_one(x, pkts[i]);
		if (rc == -EAGAIN || rc == -EWOULDBLOCK)
			break;
		if (rc < 0)
			return i ? (int)i : rc;
		i += (uint32_t)rc;
	}
	return (int)i;
}

/* 1 when written or dropped (p is released either way), 0 when the device
 * would block (p stays the caller's). */
static int write_one(struct dw *x, struct sn_pkt *p)
{
	ssize_t r;
	int rc = sn_utun_encap(p);

	if (rc) {
		count_drop(x, SN_CTR_DROP_TUN_ERROR, p, rc == -ENOSPC ?
			   "no headroom for the family header" : "not an IP packet");
		x->api->pkt_release(x->host, p);
		return 1;
	}
	do
		r = write(x->fd, sn_pkt_data(p), p->len);
	while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
		sn_pkt_pull(p, AF_HDR_LEN);
		return 0;
	}
	if (r < 0)
		count_drop(x, SN_CTR_DROP_TUN_ERROR, p, strerror(errno));
	x->api->pkt_release(x->host, p);
	return 1;
}

static int dw_tun_write_batch(void *inst, struct sn_pkt *const *pkts, uint32_t n)
{
	struct dw *x = inst;
	uint32_t i = 0;

	if (x->fd < 0)
		return -EBADF;
	if (n > INT32_MAX)
		n = INT32_MAX;
	while (i < n && write_one(x, pkts[i]))
		i++;
	return (int)i;
}

/* ---- privileges ---- */

/* macOS has no capabilities: without root a process cannot change routes,
 * so a node that still manages routes cannot drop root at all; one that
 * does not switches user for good (real, effective and saved ids, which
 * setuid() as root sets together) and checks that root is gone. */
static int dw_drop_privileges(void *inst, const struct sn_priv_args *a)
{
	struct passwd *pw;
	int e;

	(void)inst;
	if (a->flags & SN_PRIV_KEEP_NET_ADMIN) {
		sn_errf(a->err, a->err_len, "node.user: on macOS only root can change routes, and "
		        "overlay.manage_routes is on (set it to false and add the routes yourself, "
		        "see subnetrad --print-network-plan --platform macos, or remove node.user)");
		return -ENOTSUP;
	}
	errno = 0;
	pw = getpwnam(a->user);
	if (!pw) {
		e = errno;
		sn_errf(a->err, a->err_len, "node.user: no such user '%s'%s%s", a->user, e ? ": " : "",
		        e ? strerror(e) : "");
		return e ? -e : -ENOENT;
	}
	if (pw->pw_uid == 0) {
		sn_errf(a->err, a->err_len, "node.user: '%s' is uid 0, so the daemon would keep every "
		        "privilege (name an unprivileged user, or remove node.user)", a->user);
		return -EINVAL;
	}
	if (initgroups(pw->pw_name, (int)pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		e = errno;
		sn_errf(a->err, a->err_len, "cannot switch to user '%s' (uid %u): %s", a->user,
		        (unsigned)pw->pw_uid, strerror(e));
		return -e;
	}
	if (setuid(0) == 0 || seteuid(0) == 0 || getuid() != pw->pw_uid || geteuid() != pw->pw_uid) {
		sn_errf(a->err, a->err_len, "after switching to user '%s' the process could become "
		        "root again", a->user);
		return -EPERM;
	}
	return 0;
}

/* ---- lifetime ---- */

static int dw_probe(char *why, uint32_t why_len)
{
	uint32_t id;
	int fd, rc;

	fd = socket(PF_SYSTEM, SOCK_DGRAM, SYSPROTO_CONTROL);
	if (fd < 0) {
		rc = -errno;
		sn_errf(why, why_len, "no PF_SYSTEM control sockets: %s", strerror(-rc));
		return rc;
	}
	rc = control_id(fd, &id, why, why_len);
	close(fd);
	if (!rc && geteuid() != 0) {
		sn_errf(why, why_len, "creating a utun device needs root");
		rc = -EPERM;
	}
	return rc;
}

static int dw_create(void *inst, const struct sn_create_args *args)
{
	struct dw *x = inst;

	x->host = args->host;
	x->api = args->api;
	x->fd = -1;
	if (args->options.count > 0) {
		sn_errf(args->err, args->err_len, NAME ": unknown option '%s' (this plugin takes none)",
		        args->options.items[0].key ? args->options.items[0].key : "");
		return -EINVAL;
	}
	return 0;
}

static void dw_destroy(void *inst)
{
	close_all(inst);
}

static const struct sn_os_ops dw_ops = {
	.struct_size = sizeof(struct sn_os_ops),
	.flags = 0,
	.tun_open = dw_tun_open,
	.tun_fd = dw_tun_fd,
	.tun_name = dw_tun_name,
	.tun_read_batch = dw_tun_read_batch,
	.tun_write_batch = dw_tun_write_batch,
	.route_add = dw_route_add,
	.route_del = dw_route_del,
	.drop_privileges = dw_drop_privileges,
};

static const struct sn_plugin_desc dw_desc = {
	SN_PLUGIN_DESC_INIT(SN_KIND_OS, "darwin", struct dw),
	.version = SN_VERSION_STRING,
	.description = "macOS utun device and PF_ROUTE routes (never run on a real Mac)",
	.headroom = AF_HDR_LEN,
	.probe = dw_probe,
	.create = dw_create,
	.destroy = dw_destroy,
	.ops = &dw_ops,
};

SN_PLUGIN_ENTRY(dw_desc)
