/* SPDX-License-Identifier: MIT */
/*
 * os_darwin: the macOS backend. The TUN device is a utun interface, made
 * by connecting a PF_SYSTEM kernel-control socket to
 * "com.apple.net.utun_control"; the socket is the device and dies with it.
 * Every packet on that socket carries a 4-byte protocol family in network
 * byte order in front (AF_INET for us): reads strip it, writes put it in
 * the headroom the descriptor declares. MTU, address and flags are set by
 * ioctl, routes through a PF_ROUTE socket.
 *
 * UNTESTED on real macOS: this file is only built on Apple platforms and
 * was written against the documented headers without a Mac to run it on.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <net/if_dl.h>
#include <net/route.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/kern_control.h>
#include <sys/socket.h>
#include <sys/sockio.h>
#include <sys/sys_domain.h>
#include <sys/uio.h>
#include <unistd.h>

#include "subnetra/sdk.h"

/* From <net/if_utun.h>, which not every SDK ships. */
#ifndef UTUN_CONTROL_NAME
#define UTUN_CONTROL_NAME "com.apple.net.utun_control"
#endif
#ifndef UTUN_OPT_IFNAME
#define UTUN_OPT_IFNAME 2
#endif

#define NAME "darwin"
#define AF_HDR_LEN 4
#define MTU_MIN 68u
#define MTU_MAX 65535u
#define UNIT_MAX 65534u

struct dw {
	struct sn_host *host;
	const struct sn_host_api *api;
	int fd;          /* the utun control socket; -1 before tun_open() */
	unsigned ifindex;
	int rt_seq;      /* sequence number of the last routing message */
	char name[IFNAMSIZ];
};

static void errf(char *buf, uint32_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void errf(char *buf, uint32_t len, const char *fmt, ...)
{
	va_list ap;

	if (!buf || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

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

/* "utunN" -> sc_unit N + 1; NULL or "" -> 0, the kernel's choice. */
static int parse_unit(const char *name, uint32_t *unit, char *err, uint32_t el)
{
	unsigned long n;
	char *end;

	*unit = 0;
	if (!name || !*name)
		return 0;
	if (strncmp(name, "utun", 4) == 0 && name[4] >= '0' && name[4] <= '9') {
		errno = 0;
		n = strtoul(name + 4, &end, 10);
		if (!errno && !*end && n <= UNIT_MAX) {
			*unit = (uint32_t)n + 1;
			return 0;
		}
	}
	errf(err, el, "interface name '%s' is not valid on macOS (expected utunN, or none)", name);
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
		errf(err, el, "CTLIOCGINFO %s: %s", UTUN_CONTROL_NAME, strerror(e));
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
			errf(err, el, "cannot create utun%u: %s%s", unit - 1, strerror(e),
			     e == EBUSY ? " (in use by another process)" : perm_hint(e));
		else
			errf(err, el, "cannot create a utun device: %s%s", strerror(e), perm_hint(e));
		return -e;
	}
	if (getsockopt(x->fd, SYSPROTO_CONTROL, UTUN_OPT_IFNAME, x->name, &len) != 0) {
		e = errno;
		errf(err, el, "UTUN_OPT_IFNAME: %s", strerror(e));
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
		errf(err, el, "cannot open a PF_SYSTEM control socket: %s", strerror(-rc));
		return rc;
	}
	rc = set_flags(x->fd);
	if (rc) {
		errf(err, el, "cannot make the utun socket non-blocking: %s", strerror(-rc));
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
	errf(err, el, "%s %s: %s%s", what, x->name, strerror(e), perm_hint(e));
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
		errf(cfg->err, cfg->err_len, "cannot create a control socket: %s", strerror(-rc));
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

struct rt_req {
	struct rt_msghdr hdr;
	char addrs[3 * 32];
};

/* Routing-socket addresses are packed at 4-byte boundaries on Darwin. */
static size_t rt_roundup(size_t n)
{
	return n ? (n + 3) & ~(size_t)3 : 4;
}

static void rt_put(struct rt_req *req, size_t *at, const void *sa, size_t len)
{
	memcpy(req->addrs + *at, sa, len);
	*at += rt_roundup(len);
}

static size_t rt_build(struct dw *x, struct rt_req *req, int type, const struct sn_prefix *p)
{
	struct sockaddr_in sin;
	struct sockaddr_dl sdl;
	size_t at = 0, nlen = strlen(x->name);

	memset(req, 0, sizeof(*req));
	req->hdr.rtm_version = RTM_VERSION;
	req->hdr.rtm_type = (u_char)type;
	req->hdr.rtm_index = (u_short)x->ifindex;
	req->hdr.rtm_flags = RTF_UP | RTF_STATIC | (p->len == 32 ? RTF_HOST : 0);
	req->hdr.rtm_addrs = RTA_DST | RTA_GATEWAY | (p->len == 32 ? 0 : RTA_NETMASK);
	req->hdr.rtm_seq = ++x->rt_seq;
	set_inet(&sin, p->addr);
	rt_put(req, &at, &sin, sizeof(sin));
	/* The gateway is the interface's link address, as `route add
	 * -interface utunN` does: no RTF_GATEWAY, so the route is direct. */
	memset(&sdl, 0, sizeof(sdl));
	sdl.sdl_len = sizeof(sdl);
	sdl.sdl_family = AF_LINK;
	sdl.sdl_index = (u_short)x->ifindex;
	if (nlen <= sizeof(sdl.sdl_data)) {
		sdl.sdl_nlen = (u_char)nlen;
		memcpy(sdl.sdl_data, x->name, nlen);
	}
	rt_put(req, &at, &sdl, sizeof(sdl));
	if (p->len != 32) {
		set_inet(&sin, prefix_mask(p->len));
		rt_put(req, &at, &sin, sizeof(sin));
	}
	req->hdr.rtm_msglen = (u_short)(sizeof(req->hdr) + at);
	return req->hdr.rtm_msglen;
}

/* The kernel answers a bad request by failing the write() itself: EEXIST
 * for a route that exists, ESRCH for one that does not. The socket is
 * opened per request so that it never fills up with the routing messages
 * of the whole system. */
static int route(struct dw *x, int type, const struct sn_prefix *p)
{
	struct rt_req req;
	size_t len;
	ssize_t n;
	int s, e = 0;

	if (x->fd < 0)
		return -ENODEV;
	if (p->len > 32 || (p->addr & ~prefix_mask(p->len)) != 0)
		return -EINVAL;
	s = socket(PF_ROUTE, SOCK_RAW, AF_INET);
	if (s < 0)
		return -errno;
	len = rt_build(x, &req, type, p);
	n = write(s, &req, len);
	if (n < 0)
		e = errno;
	else if ((size_t)n != len)
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
		errf(cfg->err, cfg->err_len, "route to the overlay subnet /%u via %s: %s",
		     cfg->prefix_len, x->name, strerror(-rc));
	return rc;
}

/* ---- tun_open ---- */

static int check_config(const struct sn_tun_config *cfg)
{
	if (cfg->mtu < MTU_MIN || cfg->mtu > MTU_MAX) {
		errf(cfg->err, cfg->err_len, "MTU %u is out of range (%u..%u)", cfg->mtu, MTU_MIN,
		     MTU_MAX);
		return -EINVAL;
	}
	if (!(cfg->flags & SN_TUN_F_NO_ADDR) && cfg->prefix_len > 32) {
		errf(cfg->err, cfg->err_len, "prefix length %u is out of range (0..32)",
		     cfg->prefix_len);
		return -EINVAL;
	}
	return 0;
}

static void close_all(struct dw *x)
{
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
	x->ifindex = 0;
	x->name[0] = '\0';
}

static int dw_tun_open(void *inst, const struct sn_tun_config *cfg)
{
	struct dw *x = inst;
	uint32_t unit;
	int rc;

	if (x->fd >= 0) {
		errf(cfg->err, cfg->err_len, "the TUN device %s is already open", x->name);
		return -EALREADY;
	}
	rc = parse_unit(cfg->ifname, &unit, cfg->err, cfg->err_len);
	if (!rc)
		rc = check_config(cfg);
	if (!rc)
		rc = open_utun(x, unit, cfg->err, cfg->err_len);
	if (!rc) {
		x->ifindex = if_nametoindex(x->name);
		rc = configure(x, cfg);
	}
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
	uint32_t rm = room(p);
	struct iovec iov[2] = {{sn_pkt_data(p) - AF_HDR_LEN, rm + AF_HDR_LEN}, {&spare, 1}};
	ssize_t r;

	do
		r = readv(x->fd, iov, 2);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if ((size_t)r > (size_t)rm + AF_HDR_LEN) {
		count_drop(x, SN_CTR_DROP_TOO_BIG, p, "larger than the packet room");
		return 0;
	}
	if (r < AF_HDR_LEN) {
		count_drop(x, SN_CTR_DROP_TUN_ERROR, p, "shorter than the family header");
		return 0;
	}
	/* Packets of other families (IPv6) are passed on: the host drops
	 * anything that is not IPv4 and counts it. */
	p->len = (uint32_t)r - AF_HDR_LEN;
	return 1;
}

static int dw_tun_read_batch(void *inst, struct sn_pkt *const *pkts, uint32_t n)
{
	struct dw *x = inst;
	uint32_t i = 0;
	int rc;

	if (x->fd < 0)
		return -EBADF;
	while (i < n) {
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
	uint32_t fam = htonl(AF_INET);
	uint8_t *hdr;
	ssize_t r;

	hdr = sn_pkt_push(p, AF_HDR_LEN);
	if (!hdr) {
		count_drop(x, SN_CTR_DROP_TUN_ERROR, p, "no headroom for the family header");
		x->api->pkt_release(x->host, p);
		return 1;
	}
	memcpy(hdr, &fam, AF_HDR_LEN);
	do
		r = write(x->fd, hdr, p->len);
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
		errf(a->err, a->err_len, "node.user: on macOS only root can change routes, and "
		     "overlay.manage_routes is on (set it to false and add the routes yourself, "
		     "see subnetrad --print-network-plan --platform macos, or remove node.user)");
		return -ENOTSUP;
	}
	errno = 0;
	pw = getpwnam(a->user);
	if (!pw) {
		e = errno;
		errf(a->err, a->err_len, "node.user: no such user '%s'%s%s", a->user, e ? ": " : "",
		     e ? strerror(e) : "");
		return e ? -e : -ENOENT;
	}
	if (pw->pw_uid == 0) {
		errf(a->err, a->err_len, "node.user: '%s' is uid 0, so the daemon would keep every "
		     "privilege (name an unprivileged user, or remove node.user)", a->user);
		return -EINVAL;
	}
	if (initgroups(pw->pw_name, (int)pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		e = errno;
		errf(a->err, a->err_len, "cannot switch to user '%s' (uid %u): %s", a->user,
		     (unsigned)pw->pw_uid, strerror(e));
		return -e;
	}
	if (setuid(0) == 0 || seteuid(0) == 0 || getuid() != pw->pw_uid || geteuid() != pw->pw_uid) {
		errf(a->err, a->err_len, "after switching to user '%s' the process could become "
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
		errf(why, why_len, "no PF_SYSTEM control sockets: %s", strerror(-rc));
		return rc;
	}
	rc = control_id(fd, &id, why, why_len);
	close(fd);
	if (!rc && geteuid() != 0) {
		errf(why, why_len, "creating a utun device needs root");
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
		errf(args->err, args->err_len, NAME ": unknown option '%s' (this plugin takes none)",
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
	.abi_major = SN_ABI_MAJOR,
	.abi_minor = SN_ABI_MINOR,
	.struct_size = sizeof(struct sn_plugin_desc),
	.kind = SN_KIND_OS,
	.name = "darwin",
	.version = SN_VERSION_STRING,
	.description = "macOS utun device and PF_ROUTE routes (untested on real macOS)",
	.instance_size = sizeof(struct dw),
	.instance_align = _Alignof(struct dw),
	.headroom = AF_HDR_LEN,
	.tailroom = 0,
	.overhead = 0,
	.probe = dw_probe,
	.create = dw_create,
	.destroy = dw_destroy,
	.ops = &dw_ops,
};

SN_PLUGIN_EXPORT const struct sn_plugin_desc *sn_plugin_entry_v1(void)
{
	return &dw_desc;
}
