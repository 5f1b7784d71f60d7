/* SPDX-License-Identifier: MIT */
/*
 * os_linux: the TUN device (/dev/net/tun, IFF_TUN | IFF_NO_PI), its
 * address and MTU by ioctl, routes through it by rtnetlink (netlink.c).
 * With offloads (the default, where the kernel has them) the device is
 * opened with IFF_VNET_HDR and TUNSETOFFLOAD (checksum, TSO4 with ECN,
 * USO4): reads may then be 64 KiB super-packets and writes coalesced ones
 * (tun_io.c, vnet.h; docs/plugin-sdk.md, "Offloads"). A kernel that
 * refuses them gets a plain device, where every read and write is exactly
 * one IPv4 packet.
 *
 * The device is not persistent: closing the fd (destroy) makes the kernel
 * remove it together with its addresses and routes, so a crash leaves
 * nothing behind.
 *
 * Options (plugins.options.linux.*):
 *   txqueuelen  the device's transmit queue length: the packets the kernel
 *               holds for the daemon to read (default 1000; with offloads,
 *               where an entry may be a 64 KiB super-packet, the default is
 *               a length that follows the traffic, 1 MiB of it: txq.c)
 *   offload     true (default) or false: use the offloads where the kernel
 *               has them
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/rtnetlink.h>

#include "internal.h"

#define TUN_PATH "/dev/net/tun"
#define TXQLEN_DEFAULT 1000u
#define TXQLEN_MAX 1000000u
#define MTU_MIN 68u     /* the IPv4 minimum */
#define MTU_MAX 65535u  /* the TUN driver's maximum */

/* Offload bits Debian 12's linux/if_tun.h (6.1) lacks: USO came with 6.2. */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif

static const char *open_hint(int e)
{
	switch (e) {
	case ENOENT:
	case ENODEV:
	case ENXIO:
		return " (is the tun module loaded?)";
	case EACCES:
	case EPERM:
		return " (needs CAP_NET_ADMIN or access to " TUN_PATH ")";
	default:
		return "";
	}
}

static const char *ioctl_hint(int e)
{
	switch (e) {
	case EPERM:
	case EACCES:
		return " (needs CAP_NET_ADMIN)";
	case EBUSY:
		return " (the device is in use by another process)";
	default:
		return "";
	}
}

/* ---- tun_open ---- */

/* The kernel's dev_valid_name(), checked here to say what is wrong. */
static int check_name(const char *name, char *err, uint32_t el)
{
	size_t n = strlen(name);

	if (n >= IFNAMSIZ) {
		sn_errf(err, el, "interface name '%s' is too long (%zu characters, at most %d)", name, n,
		        IFNAMSIZ - 1);
		return -EINVAL;
	}
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strpbrk(name, "/: \t\n\r\v\f")) {
		sn_errf(err, el, "interface name '%s' is not valid (no '/', ':' or spaces; not . or ..)",
		        name);
		return -EINVAL;
	}
	return 0;
}

static int check_config(const struct sn_tun_config *cfg, const char *name)
{
	int rc = check_name(name, cfg->err, cfg->err_len);

	if (rc)
		return rc;
	if (cfg->mtu < MTU_MIN || cfg->mtu > MTU_MAX) {
		sn_errf(cfg->err, cfg->err_len, "MTU %u is out of range (%u..%u)", cfg->mtu, MTU_MIN,
		        MTU_MAX);
		return -EINVAL;
	}
	if (!(cfg->flags & SN_TUN_F_NO_ADDR) && cfg->prefix_len > 32) {
		sn_errf(cfg->err, cfg->err_len, "prefix length %u is out of range (0..32)",
		        cfg->prefix_len);
		return -EINVAL;
	}
	return 0;
}

static int open_tun(struct lx *x, const char *name, bool vnet, char *err, uint32_t el)
{
	struct ifreq ifr;
	int e;

	x->fd = open(TUN_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (x->fd < 0) {
		e = errno;
		sn_errf(err, el, "cannot open " TUN_PATH ": %s%s", strerror(e), open_hint(e));
		return -e;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0);
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(x->fd, TUNSETIFF, &ifr) != 0) {
		e = errno;
		sn_errf(err, el, "TUNSETIFF %s: %s%s", name[0] ? name : "(any name)", strerror(e),
		        e == EINVAL ? " (an interface of another type has that name?)" : ioctl_hint(e));
		return -e;
	}
	memcpy(x->name, ifr.ifr_name, IFNAMSIZ);
	x->name[IFNAMSIZ - 1] = '\0';
	return 0;
}

/* What the device may hand us: checksums left partial, TCP super-packets
 * (with CWR, which the host keeps on the first segment), UDP ones where the
 * kernel has USO (6.2 on; USO4 goes only with USO6). 0 or -errno. */
static int set_offload(struct lx *x)
{
	unsigned int f = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO_ECN;

	x->uso = ioctl(x->fd, TUNSETOFFLOAD, f | TUN_F_USO4 | TUN_F_USO6) == 0;
	if (x->uso || ioctl(x->fd, TUNSETOFFLOAD, f) == 0)
		return 0;
	return -errno;
}

/* The device with offloads if wanted and the kernel has them, else a plain
 * one (the first closed, which removes it, and the name opened again). */
static int open_device(struct lx *x, const char *name, char *err, uint32_t el)
{
	int rc;

	if (x->want_offload) {
		rc = open_tun(x, name, true, err, el);
		if (rc == 0 && (rc = set_offload(x)) == 0) {
			x->vnet = true;
			return 0;
		}
		x->api->log(x->host, SN_LOG_INFO, NAME ": no offloads on %s (%s): one packet "
			    "per read and write", name[0] ? name : "the device", strerror(-rc));
		if (x->fd >= 0)
			close(x->fd);
		x->fd = -1;
	}
	return open_tun(x, name, false, err, el);
}

/* One interface ioctl on socket s; what names the request and its value. */
static int if_ioctl(struct lx *x, int s, unsigned long req, struct ifreq *ifr, const char *what,
		    char *err, uint32_t el)
{
	int e;

	memcpy(ifr->ifr_name, x->name, IFNAMSIZ);
	if (ioctl(s, req, ifr) == 0)
		return 0;
	e = errno;
	sn_errf(err, el, "%s %s: %s%s", what, x->name, strerror(e), ioctl_hint(e));
	return -e;
}

static void set_inet(struct sockaddr *out, uint32_t addr)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(addr);
	memcpy(out, &sin, sizeof(sin));
}

static uint32_t prefix_mask(uint8_t len)
{
	return len == 0 ? 0 : 0xffffffffu << (32 - len);
}

static int set_addr(struct lx *x, int s, const struct sn_tun_config *cfg)
{
	struct ifreq ifr;
	char what[48];
	int rc;

	memset(&ifr, 0, sizeof(ifr));
	set_inet(&ifr.ifr_addr, cfg->addr);
	snprintf(what, sizeof(what), "SIOCSIFADDR %u.%u.%u.%u", cfg->addr >> 24,
		 (cfg->addr >> 16) & 0xff, (cfg->addr >> 8) & 0xff, cfg->addr & 0xff);
	rc = if_ioctl(x, s, SIOCSIFADDR, &ifr, what, cfg->err, cfg->err_len);
	if (rc)
		return rc;
	memset(&ifr, 0, sizeof(ifr));
	set_inet(&ifr.ifr_netmask, prefix_mask(cfg->prefix_len));
	snprintf(what, sizeof(what), "SIOCSIFNETMASK /%u", cfg->prefix_len);
	return if_ioctl(x, s, SIOCSIFNETMASK, &ifr, what, cfg->err, cfg->err_len);
}

static int set_mtu(struct lx *x, int s, const struct sn_tun_config *cfg)
{
	struct ifreq ifr;
	char what[32];

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_mtu = (int)cfg->mtu;
	snprintf(what, sizeof(what), "SIOCSIFMTU %u", cfg->mtu);
	return if_ioctl(x, s, SIOCSIFMTU, &ifr, what, cfg->err, cfg->err_len);
}

/* A short queue drops bursts the loop would have read a moment later; not
 * fatal, the device works with the default. */
static void set_txqlen(struct lx *x, int s)
{
	struct ifreq ifr;
	char err[128];

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_qlen = (int)(x->txqlen_set || !x->vnet ? x->txqlen : TXQ_MAX);
	if (if_ioctl(x, s, SIOCSIFTXQLEN, &ifr, "SIOCSIFTXQLEN", err, sizeof(err)) != 0)
		x->api->log(x->host, SN_LOG_WARN, NAME ": %s", err);
}

/* The overlay carries IPv4 only. With IPv6 on, the kernel would send
 * router solicitations and MLD reports into the device as soon as it is
 * up, which the host could only drop. Best effort: no IPv6 in the kernel
 * means no file and nothing to do. */
static void disable_ipv6(struct lx *x)
{
	char path[80];
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", x->name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "1", 1) != 1)
		x->api->log(x->host, SN_LOG_DEBUG, NAME ": cannot disable IPv6 on %s: %s", x->name,
			    strerror(errno));
	if (fd >= 0)
		close(fd);
}

static int bring_up(struct lx *x, int s, const struct sn_tun_config *cfg)
{
	struct ifreq ifr;
	int rc;

	memset(&ifr, 0, sizeof(ifr));
	rc = if_ioctl(x, s, SIOCGIFFLAGS, &ifr, "SIOCGIFFLAGS", cfg->err, cfg->err_len);
	if (rc)
		return rc;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	return if_ioctl(x, s, SIOCSIFFLAGS, &ifr, "SIOCSIFFLAGS up", cfg->err, cfg->err_len);
}

static int configure(struct lx *x, int s, const struct sn_tun_config *cfg)
{
	struct ifreq ifr;
	int rc;

	memset(&ifr, 0, sizeof(ifr));
	rc = if_ioctl(x, s, SIOCGIFINDEX, &ifr, "SIOCGIFINDEX", cfg->err, cfg->err_len);
	if (rc)
		return rc;
	x->ifindex = ifr.ifr_ifindex;
	rc = set_mtu(x, s, cfg);
	if (rc)
		return rc;
	set_txqlen(x, s);
	if (!(cfg->flags & SN_TUN_F_NO_ADDR)) {
		rc = set_addr(x, s, cfg);
		if (rc)
			return rc;
	}
	disable_ipv6(x);
	return bring_up(x, s, cfg);
}

static int configure_all(struct lx *x, const struct sn_tun_config *cfg)
{
	int s, rc;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		rc = -errno;
		sn_errf(cfg->err, cfg->err_len, "cannot create a control socket: %s", strerror(-rc));
		return rc;
	}
	rc = configure(x, s, cfg);
	close(s);
	if (rc)
		return rc;
	rc = sn__nl_open(&x->nl);
	if (rc)
		sn_errf(cfg->err, cfg->err_len, "cannot open a NETLINK_ROUTE socket: %s",
		        strerror(-rc));
	return rc;
}

static void close_all(struct lx *x)
{
	sn__lx_txq_stop(x);
	sn__nl_close(&x->nl);
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
	x->ifindex = 0;
	x->vnet = x->uso = false;
	x->name[0] = '\0';
}

static int lx_tun_open(void *inst, struct sn_tun_config *cfg)
{
	struct lx *x = inst;
	const char *name = cfg->ifname ? cfg->ifname : "";
	int rc;

	if (x->fd >= 0) {
		sn_errf(cfg->err, cfg->err_len, "the TUN device %s is already open", x->name);
		return -EALREADY;
	}
	rc = check_config(cfg, name);
	if (rc)
		return rc;
	rc = open_device(x, name, cfg->err, cfg->err_len);
	if (!rc)
		rc = configure_all(x, cfg);
	if (rc) {
		close_all(x);
		return rc;
	}
	cfg->offload = x->vnet ? SN_TUN_OFFLOAD_RX | SN_TUN_OFFLOAD_TX : 0;
	if (x->vnet && !x->txqlen_set)
		sn__lx_txq_start(x, TXQ_MAX);
	x->api->log(x->host, SN_LOG_DEBUG, NAME ": %s up, index %d, mtu %u, offloads %s%s", x->name,
		    x->ifindex, cfg->mtu, x->vnet ? "checksum, TSO4" : "off",
		    x->uso ? ", USO4" : "");
	return 0;
}

static int lx_tun_fd(void *inst)
{
	struct lx *x = inst;

	return x->fd >= 0 ? x->fd : -EBADF;
}

static const char *lx_tun_name(void *inst)
{
	struct lx *x = inst;

	return x->name;
}

/* ---- packets (tun_io.c) ---- */

static int lx_tun_read_batch(void *inst, struct sn_pkt **pkts, uint32_t n)
{
	struct lx *x = inst;

	return x->fd < 0 ? -EBADF : sn__lx_read(x, pkts, n);
}

static int lx_tun_write_batch(void *inst, struct sn_pkt *const *pkts, uint32_t n)
{
	struct lx *x = inst;

	if (x->fd < 0)
		return -EBADF;
	return sn__lx_write(x, pkts, n > INT32_MAX ? INT32_MAX : n);
}

/* ---- routes ---- */

static int route(struct lx *x, int type, const struct sn_prefix *p)
{
	if (x->fd < 0)
		return -ENODEV;
	if (p->len > 32 || (p->addr & ~prefix_mask(p->len)) != 0) {
		x->api->log(x->host, SN_LOG_WARN, NAME ": route %u.%u.%u.%u/%u: not a prefix",
			    p->addr >> 24, (p->addr >> 16) & 0xff, (p->addr >> 8) & 0xff,
			    p->addr & 0xff, p->len);
		return -EINVAL;
	}
	return sn__nl_route(&x->nl, type, x->ifindex, p->addr, p->len);
}

static int lx_route_add(void *inst, const struct sn_prefix *prefix)
{
	return route(inst, RTM_NEWROUTE, prefix);
}

static int lx_route_del(void *inst, const struct sn_prefix *prefix)
{
	return route(inst, RTM_DELROUTE, prefix);
}

/* ---- lifetime ---- */

static int parse_txqlen(const char *val, uint32_t *out, char *err, uint32_t el)
{
	unsigned long v;
	char *end;

	errno = 0;
	if (val && *val >= '0' && *val <= '9') {
		v = strtoul(val, &end, 10);
		if (!errno && !*end && v <= TXQLEN_MAX) {
			*out = (uint32_t)v;
			return 0;
		}
	}
	sn_errf(err, el, NAME ": option txqueuelen: '%s' is not a queue length (expected 0..%u)",
	        val ? val : "", TXQLEN_MAX);
	return -EINVAL;
}

static int parse_bool(const char *val, bool *out, char *err, uint32_t el)
{
	if (val && (!strcmp(val, "true") || !strcmp(val, "on") || !strcmp(val, "yes")))
		*out = true;
	else if (val && (!strcmp(val, "false") || !strcmp(val, "off") || !strcmp(val, "no")))
		*out = false;
	else {
		sn_errf(err, el, NAME ": option offload: '%s' is not true or false", val ? val : "");
		return -EINVAL;
	}
	return 0;
}

static int parse_options(struct lx *x, const struct sn_options *opts, char *err, uint32_t el)
{
	const struct sn_option *o;
	int rc;

	for (uint32_t i = 0; opts && i < opts->count; i++) {
		o = &opts->items[i];
		if (o->key && strcmp(o->key, "txqueuelen") == 0) {
			rc = parse_txqlen(o->value, &x->txqlen, err, el);
			x->txqlen_set = true;
		} else if (o->key && strcmp(o->key, "offload") == 0) {
			rc = parse_bool(o->value, &x->want_offload, err, el);
		} else {
			sn_errf(err, el, NAME ": unknown option '%s' (known: txqueuelen, offload)",
			        o->key ? o->key : "");
			rc = -EINVAL;
		}
		if (rc)
			return rc;
	}
	return 0;
}

static int lx_probe(char *why, uint32_t why_len)
{
	int e;

	if (access(TUN_PATH, R_OK | W_OK) == 0)
		return 0;
	e = errno;
	sn_errf(why, why_len, TUN_PATH ": %s%s", strerror(e), open_hint(e));
	return -e;
}

static int lx_create(void *inst, const struct sn_create_args *args)
{
	struct lx *x = inst;

	x->host = args->host;
	x->api = args->api;
	x->fd = -1;
	x->nl.fd = -1;
	x->txq.ctl = -1;
	x->txqlen = TXQLEN_DEFAULT;
	x->want_offload = true;
	return parse_options(x, &args->options, args->err, args->err_len);
}

static void lx_destroy(void *inst)
{
	close_all(inst);
}

static int lx_drop_privileges(void *inst, const struct sn_priv_args *args)
{
	(void)inst;
	return sn__lx_drop_privileges(args);
}

static int lx_tun_dropped(void *inst, uint64_t *out)
{
	struct lx *l = inst;

	return l->fd < 0 ? -ENODEV : sn__lx_tun_dropped(l->name, out);
}

static const struct sn_os_ops lx_ops = {
	.struct_size = sizeof(struct sn_os_ops),
	.flags = SN_OS_F_GSO,
	.tun_open = lx_tun_open,
	.tun_fd = lx_tun_fd,
	.tun_name = lx_tun_name,
	.tun_read_batch = lx_tun_read_batch,
	.tun_write_batch = lx_tun_write_batch,
	.route_add = lx_route_add,
	.route_del = lx_route_del,
	.drop_privileges = lx_drop_privileges,
	.tun_dropped = lx_tun_dropped,
};

static const struct sn_plugin_desc lx_desc = {
	SN_PLUGIN_DESC_INIT(SN_KIND_OS, "linux", struct lx),
	.version = SN_VERSION_STRING,
	.description = "Linux TUN device (/dev/net/tun) and rtnetlink routes",
	.probe = lx_probe,
	.create = lx_create,
	.destroy = lx_destroy,
	.ops = &lx_ops,
};

SN_PLUGIN_ENTRY(lx_desc)
