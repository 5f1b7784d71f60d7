/* SPDX-License-Identifier: MIT */
/*
 * egress_raw_direct: the default underlay. One non-blocking IPv4 UDP
 * socket. This file is the plugin on every platform: options, the socket
 * and its lifetime, the descriptor; the datagram I/O is io_mmsg.c
 * (recvmmsg/sendmmsg batches and UDP GSO, Linux) or io_msg.c (one
 * recvmsg/sendmsg per datagram, macOS), see raw_direct.h.
 *
 * Options (plugins.options.raw_direct.*):
 *   rcvbuf  socket receive buffer in bytes (default: the open() argument,
 *           else 4 MiB)
 *   sndbuf  socket send buffer in bytes (same defaults)
 *   gso     on (default) or off: UDP segmentation offload where the
 *           kernel has it (io_mmsg.c): a run of datagrams is one message
 *   gro     on (default) or off: UDP receive offload where the kernel has
 *           it (io_mmsg.c): a train of datagrams is one message
 *
 * Listening on 0.0.0.0, it tells the host the local address each datagram
 * came to and sends from the one the host asks for (IP_PKTINFO, struct
 * sn_pkt.local).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "raw_direct.h"

#define BUF_DEFAULT (4u << 20)
#define BUF_MIN 4096u
#define BUF_MAX (1u << 30)     /* the kernel doubles the value into an int */
#define UDP_IP_OVERHEAD 28     /* 8 (UDP) + 20 (IPv4, no options) */

/* ---- options ---- */

static int parse_size(const char *key, const char *val, uint32_t *out, char *err,
		      uint32_t err_len)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (!val || *val < '0' || *val > '9')
		goto bad;
	v = strtoull(val, &end, 10);
	if (errno || *end || v < BUF_MIN || v > BUF_MAX)
		goto bad;
	*out = (uint32_t)v;
	return 0;
bad:
	sn_errf(err, err_len, NAME ": option %s: '%s' is not a size in bytes (expected an integer %u..%u)",
	        key, val ? val : "", BUF_MIN, BUF_MAX);
	return -EINVAL;
}

static int parse_onoff(const char *key, const char *val, uint32_t *out, char *err,
		       uint32_t err_len)
{
	if (val && (!strcmp(val, "on") || !strcmp(val, "true") || !strcmp(val, "yes")))
		*out = GSO_ON;
	else if (val && (!strcmp(val, "off") || !strcmp(val, "false") || !strcmp(val, "no")))
		*out = GSO_OFF;
	else {
		sn_errf(err, err_len, NAME ": %s: '%s' is not on or off", key, val ? val : "");
		return -EINVAL;
	}
	return 0;
}

static int parse_options(const struct sn_options *opts, struct settings *out, char *err,
			 uint32_t err_len)
{
	struct settings b = {0, 0, GSO_UNSET, GSO_UNSET};
	const struct sn_option *o;
	int rc;

	for (uint32_t i = 0; opts && i < opts->count; i++) {
		o = &opts->items[i];
		if (o->key && strcmp(o->key, "rcvbuf") == 0)
			rc = parse_size(o->key, o->value, &b.rcv, err, err_len);
		else if (o->key && strcmp(o->key, "sndbuf") == 0)
			rc = parse_size(o->key, o->value, &b.snd, err, err_len);
		else if (o->key && strcmp(o->key, "gso") == 0)
			rc = parse_onoff(o->key, o->value, &b.gso, err, err_len);
		else if (o->key && strcmp(o->key, "gro") == 0)
			rc = parse_onoff(o->key, o->value, &b.gro, err, err_len);
		else {
			sn_errf(err, err_len, NAME ": unknown option '%s' (known: rcvbuf, sndbuf, gso, gro)",
			        o->key ? o->key : "");
			rc = -EINVAL;
		}
		if (rc)
			return rc;
	}
	*out = b;
	return 0;
}

/* ---- addresses ---- */

static const char *sa_str(const struct sockaddr_in *sa, char buf[static INET_ADDRSTRLEN])
{
	if (!inet_ntop(AF_INET, &sa->sin_addr, buf, INET_ADDRSTRLEN))
		snprintf(buf, INET_ADDRSTRLEN, "?");
	return buf;
}

/* ---- socket setup ---- */

static uint32_t pick(uint32_t opt, uint32_t arg)
{
	if (opt)
		return opt;
	if (arg)
		return arg < BUF_MAX ? arg : BUF_MAX;
	return BUF_DEFAULT;
}

/* What the kernel reports back for a buffer size it set: Linux doubles
 * the value (the other half is its bookkeeping), BSD kernels do not. */
#ifdef __linux__
#define BUF_REPORTED 2
#else
#define BUF_REPORTED 1
#endif

/* SO_RCVBUFFORCE/SO_SNDBUFFORCE (Linux, CAP_NET_ADMIN) ignore the
 * system's cap; elsewhere the capped option is all there is. */
#ifdef SO_RCVBUFFORCE
#define RCVBUF_FORCE SO_RCVBUFFORCE
#define SNDBUF_FORCE SO_SNDBUFFORCE
#else
#define RCVBUF_FORCE (-1)
#define SNDBUF_FORCE (-1)
#endif

static const char *buf_hint(bool rcv)
{
#ifdef SO_RCVBUFFORCE
	return rcv ? "run with CAP_NET_ADMIN or raise net.core.rmem_max"
		   : "run with CAP_NET_ADMIN or raise net.core.wmem_max";
#else
	return "raise the sysctl kern.ipc.maxsockbuf";
#endif
}

/* Try the privileged option first: it ignores net.core.[rw]mem_max, which
 * in a fresh network namespace is a read-only 208 KiB and makes bursts
 * overflow. Without CAP_NET_ADMIN fall back to the capped one. A buffer
 * that cannot be set is not fatal: the OS default still works. */
static void set_buf(struct raw *r, int force_opt, int opt, const char *what, uint32_t want)
{
	bool rcv = opt == SO_RCVBUF;
	int v = (int)want, got = 0;
	socklen_t len = sizeof(got);
	bool forced = force_opt >= 0 &&
		      setsockopt(r->fd, SOL_SOCKET, force_opt, &v, sizeof(v)) == 0;

	if (!forced && setsockopt(r->fd, SOL_SOCKET, opt, &v, sizeof(v)) != 0)
		r->api->log(r->host, SN_LOG_WARN, NAME ": cannot set %s to %u: %s", what, want,
			    strerror(errno));
	if (getsockopt(r->fd, SOL_SOCKET, opt, &got, &len) != 0)
		return;
	r->api->log(r->host, SN_LOG_DEBUG, NAME ": %s %d bytes (asked %u, set with %s)", what, got,
		    want, forced ? (rcv ? "SO_RCVBUFFORCE" : "SO_SNDBUFFORCE")
				 : (rcv ? "SO_RCVBUF" : "SO_SNDBUF"));
	if ((uint32_t)got / BUF_REPORTED < want)
		r->api->log(r->host, SN_LOG_WARN,
			    NAME ": %s is %d bytes, less than the %u asked: %s, or bursts will be "
			    "dropped", what, got / BUF_REPORTED, want, buf_hint(rcv));
}

static void apply_bufs(struct raw *r)
{
	set_buf(r, RCVBUF_FORCE, SO_RCVBUF, "rcvbuf", pick(r->opt.rcv, r->arg.rcv));
	set_buf(r, SNDBUF_FORCE, SO_SNDBUF, "sndbuf", pick(r->opt.snd, r->arg.snd));
}

/* Clearing DF: Linux with IP_MTU_DISCOVER, BSD kernels (which set DF only
 * when asked to) with IP_DONTFRAG, to say no explicitly. */
#if defined(IP_MTU_DISCOVER)
#define DF_OPT IP_MTU_DISCOVER
#define DF_OPT_NAME "IP_MTU_DISCOVER"
#define DF_OFF IP_PMTUDISC_DONT
#elif defined(IP_DONTFRAG)
#define DF_OPT IP_DONTFRAG
#define DF_OPT_NAME "IP_DONTFRAG"
#define DF_OFF 0
#else
#error "raw_direct: no socket option to clear the IPv4 DF bit (IP_MTU_DISCOVER or IP_DONTFRAG)"
#endif

/* An overlay datagram larger than the underlay path MTU must still get
 * through: the inner TCP only sees the overlay MTU, and with DF set the
 * kernel would refuse or a router would drop the datagram, while the ICMP
 * "fragmentation needed" goes to this socket rather than to the inner
 * sender: a silent black hole. Without DF the kernel fragments instead,
 * which costs some throughput but never loses the connection. */
static int no_pmtu_discovery(struct raw *r, char *err, uint32_t err_len)
{
	int v = DF_OFF;

	if (setsockopt(r->fd, IPPROTO_IP, DF_OPT, &v, sizeof(v)) == 0)
		return 0;
	sn_errf(err, err_len, NAME ": cannot set " DF_OPT_NAME ": %s", strerror(errno));
	return -errno;
}

/* Non-blocking and close-on-exec: in the socket() call where the kernel
 * takes the flags there (Linux), with fcntl() right after elsewhere. */
static int udp_socket(void)
{
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);

	return fd >= 0 ? fd : -errno;
#else
	int fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP), fl, e;

	if (fd < 0)
		return -errno;
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 && (fl = fcntl(fd, F_GETFL)) >= 0 &&
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0)
		return fd;
	e = errno;
	close(fd);
	return -e;
#endif
}

static int bind_to(struct raw *r, const struct sockaddr_in *sa, char *err, uint32_t err_len)
{
	char ip[INET_ADDRSTRLEN];
	int e;

	if (bind(r->fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
		return 0;
	e = errno;
	sn_errf(err, err_len, NAME ": cannot bind %s:%u: %s", sa_str(sa, ip), ntohs(sa->sin_port),
	        strerror(e));
	return -e;
}

static int listen_addr(const struct sn_addr *a, struct sockaddr_in *sa, char *err,
		       uint32_t err_len)
{
	if (a->family == SN_AF_NONE) {
		memset(sa, 0, sizeof(*sa));
		sa->sin_family = AF_INET;
		sa->sin_port = htons(a->port);
		return 0;
	}
	if (sn__raw_to_sockaddr(a, sa))
		return 0;
	sn_errf(err, err_len, NAME ": listen address family %u is not supported (v1 underlays are IPv4)",
	        a->family);
	return -EAFNOSUPPORT;
}

/* Bound to 0.0.0.0: learn each datagram's local address and answer from
 * it (IP_PKTINFO), so a host with several addresses keeps every peer on
 * the one it chose. Best effort: without it the OS picks the source. */
static void want_pktinfo(struct raw *r, const struct sockaddr_in *sa)
{
#ifdef IP_PKTINFO
	int one = 1;

	if (sa->sin_addr.s_addr != htonl(INADDR_ANY))
		return;
	r->pktinfo = setsockopt(r->fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) == 0;
	if (!r->pktinfo)
		r->api->log(r->host, SN_LOG_WARN, NAME ": cannot set IP_PKTINFO (%s): answers go "
			    "from the address the OS picks, not the one each peer sent to",
			    strerror(errno));
#endif
}

static int raw_open(void *inst, const struct sn_egress_open *args)
{
	struct raw *r = inst;
	struct sockaddr_in sa;
	int rc;

	if (r->fd >= 0) {
		sn_errf(args->err, args->err_len, NAME ": already open");
		return -EALREADY;
	}
	rc = listen_addr(&args->listen, &sa, args->err, args->err_len);
	if (rc)
		return rc;
	rc = udp_socket();
	if (rc < 0) {
		sn_errf(args->err, args->err_len, NAME ": cannot create a UDP socket: %s", strerror(-rc));
		return rc;
	}
	r->fd = rc;
	r->arg = (struct settings){args->rcvbuf, args->sndbuf, GSO_UNSET, GSO_UNSET};
	sn__raw_io_setup(r);
	rc = no_pmtu_discovery(r, args->err, args->err_len);
	if (!rc) {
		apply_bufs(r);
		sn__raw_io_apply(r);
		rc = bind_to(r, &sa, args->err, args->err_len);
	}
	if (!rc)
		want_pktinfo(r, &sa);
	if (rc) {
		close(r->fd);
		r->fd = -1;
	}
	return rc;
}

static int raw_fd(void *inst)
{
	struct raw *r = inst;

	return r->fd >= 0 ? r->fd : -EBADF;
}

static int raw_local_addr(void *inst, struct sn_addr *out)
{
	struct raw *r = inst;
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	if (r->fd < 0)
		return -EBADF;
	if (getsockname(r->fd, (struct sockaddr *)&sa, &len) != 0)
		return -errno;
	sn__raw_from_sockaddr(out, &sa);
	return 0;
}

/* ---- datagrams (the I/O itself is io_mmsg.c or io_msg.c) ---- */

/* Errors the socket reports once and then recovers from (a pending ICMP
 * error, memory pressure): counted, not passed up. */
static bool transient(int e)
{
	switch (e) {
	case ECONNREFUSED:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
	case ENETDOWN:
	case ECONNRESET:
	case ENOBUFS:
	case ENOMEM:
		return true;
	default:
		return false;
	}
}

int sn__raw_rx_error(struct raw *r, int e)
{
	if (e == EAGAIN || e == EWOULDBLOCK || e == EINTR)
		return 0;
	if (!transient(e))
		return -e;
	r->api->count(r->host, SN_CTR_DROP_RX_ERROR, 0, 1);
	r->api->log(r->host, SN_LOG_DEBUG, NAME ": receive error: %s", strerror(e));
	return 0;
}

void sn__raw_drop_truncated(struct raw *r, const struct sockaddr_in *sa, uint32_t room)
{
	char ip[INET_ADDRSTRLEN];

	r->api->count(r->host, SN_CTR_DROP_RX_ERROR, 0, 1);
	r->api->log(r->host, SN_LOG_DEBUG,
		    NAME ": dropped a datagram from %s:%u larger than the %u bytes of packet room",
		    sa_str(sa, ip), ntohs(sa->sin_port), room);
}

void sn__raw_tx_drop(struct raw *r, struct sn_pkt *p, int e)
{
	struct sockaddr_in sa;
	char ip[INET_ADDRSTRLEN] = "?";

	if (sn__raw_to_sockaddr(&p->addr, &sa))
		sa_str(&sa, ip);
	else
		sa.sin_port = 0;
	r->api->count(r->host, SN_CTR_DROP_TX_ERROR, p->peer_id, 1);
	r->api->log(r->host, SN_LOG_WARN, NAME ": cannot send %u bytes to %s:%u (peer %u): %s",
		    p->len, ip, ntohs(sa.sin_port), p->peer_id, strerror(e));
	r->api->pkt_release(r->host, p);
}

bool sn__raw_blocked(int e)
{
	return e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS;
}

static int raw_recv_batch(void *inst, struct sn_pkt **pkts, uint32_t n)
{
	struct raw *r = inst;

	if (r->fd < 0)
		return -EBADF;
	if (n > BATCH)
		n = BATCH;
	if (n == 0)
		return 0;
	return sn__raw_io_recv(r, pkts, n);
}

static int raw_send_batch(void *inst, struct sn_pkt *const *pkts, uint32_t n)
{
	struct raw *r = inst;

	if (r->fd < 0)
		return -EBADF;
	if (n > INT32_MAX)
		n = INT32_MAX;
	return sn__raw_io_send(r, pkts, n);
}

/* ---- lifetime ---- */

static int raw_reconfigure(void *inst, const struct sn_options *opts, char *err,
			   uint32_t err_len)
{
	struct raw *r = inst;
	struct settings b;
	int rc;

	rc = parse_options(opts, &b, err, err_len);
	if (rc)
		return rc;
	r->opt = b;
	if (r->fd >= 0) {
		apply_bufs(r);
		sn__raw_io_apply(r);
	}
	return 0;
}

static int raw_create(void *inst, const struct sn_create_args *args)
{
	struct raw *r = inst;

	r->host = args->host;
	r->api = args->api;
	r->fd = -1;
	return parse_options(&args->options, &r->opt, args->err, args->err_len);
}

static void raw_destroy(void *inst)
{
	struct raw *r = inst;

	sn__raw_io_close(r);
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

static const struct sn_egress_ops raw_ops = {
	.struct_size = sizeof(struct sn_egress_ops),
	.flags = RAW_IO_FLAGS,
	.open = raw_open,
	.fd = raw_fd,
	.local_addr = raw_local_addr,
	.recv_batch = raw_recv_batch,
	.send_batch = raw_send_batch,
	.reconfigure = raw_reconfigure,
};

static const struct sn_plugin_desc raw_desc = {
	SN_PLUGIN_DESC_INIT(SN_KIND_EGRESS, "raw_direct", struct raw),
	.version = SN_VERSION_STRING,
	.description = RAW_IO_DESCRIPTION,
	.overhead = UDP_IP_OVERHEAD,
	.create = raw_create,
	.destroy = raw_destroy,
	.ops = &raw_ops,
};

SN_PLUGIN_ENTRY(raw_desc)
