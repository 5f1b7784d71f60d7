/* SPDX-License-Identifier: MIT */
/*
 * egress_raw_direct: the default underlay. One non-blocking IPv4 UDP
 * socket; a batch of datagrams costs one recvmmsg() or sendmmsg(), because
 * on the machines we measure a system call costs about a microsecond and
 * calls per packet, not the cipher, set the packet rate.
 *
 * Options (plugins.options.raw_direct.*):
 *   rcvbuf  socket receive buffer in bytes (default: the open() argument,
 *           else 4 MiB)
 *   sndbuf  socket send buffer in bytes (same defaults)
 *
 * Truncated datagrams (larger than the room of the lent packet) are
 * counted rx_error and never handed up: the datagrams behind them in the
 * batch are copied forward so that the host still finds the filled packets
 * at pkts[0..k-1] (the lent array is const, so packets cannot be swapped;
 * the copy only happens in a batch that had a truncation).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "subnetra/sdk.h"

#define NAME "raw_direct"
#define BATCH 64               /* the host's wake-up budget */
#define BUF_DEFAULT (4u << 20)
#define BUF_MIN 4096u
#define BUF_MAX (1u << 30)     /* the kernel doubles the value into an int */
#define UDP_IP_OVERHEAD 28     /* 8 (UDP) + 20 (IPv4, no options) */

/* Socket buffer sizes in bytes; 0 = unset. */
struct settings {
	uint32_t rcv;
	uint32_t snd;
	uint32_t gso; /* GSO_UNSET, GSO_ON, GSO_OFF */
};

enum { GSO_UNSET = 0, GSO_ON = 1, GSO_OFF = 2 };

struct raw {
	struct sn_host *host;
	const struct sn_host_api *api;
	int fd;          /* -1 before open() */
	struct settings opt; /* from the plugin options */
	struct settings arg; /* from open() */
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in sa[BATCH];
	/* SO_RXQ_OVFL: the kernel's running count of datagrams it dropped
	 * because the receive buffer was full, carried on received messages */
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(uint32_t))];
	} ctl[BATCH];
	uint32_t ovfl_seen; /* last count reported to the host */
	/* UDP GSO on send: one message carries a run of datagrams of the same
	 * size to the same address, and the kernel cuts it (UDP_SEGMENT) */
	bool gso;
	uint8_t segs[BATCH]; /* datagrams in each prepared message */
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(uint16_t))];
	} txctl[BATCH];
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
	errf(err, err_len, NAME ": option %s: '%s' is not a size in bytes (expected an integer %u..%u)",
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
		errf(err, err_len, NAME ": %s: '%s' is not on or off", key, val ? val : "");
		return -EINVAL;
	}
	return 0;
}

static int parse_options(const struct sn_options *opts, struct settings *out, char *err,
			 uint32_t err_len)
{
	struct settings b = {0, 0, GSO_UNSET};
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
		else {
			errf(err, err_len, NAME ": unknown option '%s' (known: rcvbuf, sndbuf, gso)",
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

static bool to_sockaddr(const struct sn_addr *a, struct sockaddr_in *sa)
{
	if (a->family != SN_AF_INET)
		return false;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(a->port);
	memcpy(&sa->sin_addr, a->ip, 4);
	return true;
}

static void from_sockaddr(struct sn_addr *a, const struct sockaddr_in *sa)
{
	memset(a, 0, sizeof(*a));
	a->family = SN_AF_INET;
	a->port = ntohs(sa->sin_port);
	memcpy(a->ip, &sa->sin_addr, 4);
}

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

/* Try the privileged option first: it ignores net.core.[rw]mem_max, which
 * in a fresh network namespace is a read-only 208 KiB and makes bursts
 * overflow. Without CAP_NET_ADMIN fall back to the capped one. A buffer
 * that cannot be set is not fatal: the OS default still works. */
static void set_buf(struct raw *r, int force_opt, int opt, const char *what, uint32_t want)
{
	bool rcv = opt == SO_RCVBUF;
	int v = (int)want, got = 0;
	socklen_t len = sizeof(got);
	bool forced = setsockopt(r->fd, SOL_SOCKET, force_opt, &v, sizeof(v)) == 0;

	if (!forced && setsockopt(r->fd, SOL_SOCKET, opt, &v, sizeof(v)) != 0)
		r->api->log(r->host, SN_LOG_WARN, NAME ": cannot set %s to %u: %s", what, want,
			    strerror(errno));
	if (getsockopt(r->fd, SOL_SOCKET, opt, &got, &len) != 0)
		return;
	/* Linux reports twice the value set: half is bookkeeping overhead. */
	r->api->log(r->host, SN_LOG_DEBUG, NAME ": %s %d bytes (asked %u, set with %s)", what, got,
		    want, forced ? (rcv ? "SO_RCVBUFFORCE" : "SO_SNDBUFFORCE")
				 : (rcv ? "SO_RCVBUF" : "SO_SNDBUF"));
	if ((uint32_t)got / 2 < want)
		r->api->log(r->host, SN_LOG_WARN,
			    NAME ": %s is %d bytes, less than the %u asked: run with CAP_NET_ADMIN "
			    "or raise net.core.%s_max, or bursts will be dropped",
			    what, got / 2, want, rcv ? "rmem" : "wmem");
}

static void apply_bufs(struct raw *r)
{
	set_buf(r, SO_RCVBUFFORCE, SO_RCVBUF, "rcvbuf", pick(r->opt.rcv, r->arg.rcv));
	set_buf(r, SO_SNDBUFFORCE, SO_SNDBUF, "sndbuf", pick(r->opt.snd, r->arg.snd));
}

/* UDP GSO unless the options turn it off or the kernel lacks UDP_SEGMENT
 * (setting the socket-wide segment size to 0 changes nothing but tells). */
static void apply_gso(struct raw *r)
{
	int zero = 0;

	r->gso = r->opt.gso != GSO_OFF &&
		 setsockopt(r->fd, SOL_UDP, UDP_SEGMENT, &zero, sizeof(zero)) == 0;
	r->api->log(r->host, SN_LOG_DEBUG, NAME ": UDP segmentation offload %s",
		    r->gso ? "on" : "off");
}

/* An overlay datagram larger than the underlay path MTU must still get
 * through: the inner TCP only sees the overlay MTU, and with DF set the
 * kernel would refuse or a router would drop the datagram, while the ICMP
 * "fragmentation needed" goes to this socket rather than to the inner
 * sender: a silent black hole. Without DF the kernel fragments instead,
 * which costs some throughput but never loses the connection. */
static int no_pmtu_discovery(struct raw *r, char *err, uint32_t err_len)
{
	int v = IP_PMTUDISC_DONT;

	if (setsockopt(r->fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof(v)) == 0)
		return 0;
	errf(err, err_len, NAME ": cannot set IP_MTU_DISCOVER: %s", strerror(errno));
	return -errno;
}

static int bind_to(struct raw *r, const struct sockaddr_in *sa, char *err, uint32_t err_len)
{
	char ip[INET_ADDRSTRLEN];
	int e;

	if (bind(r->fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
		return 0;
	e = errno;
	errf(err, err_len, NAME ": cannot bind %s:%u: %s", sa_str(sa, ip), ntohs(sa->sin_port),
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
	if (to_sockaddr(a, sa))
		return 0;
	errf(err, err_len, NAME ": listen address family %u is not supported (v1 underlays are IPv4)",
	     a->family);
	return -EAFNOSUPPORT;
}

static int raw_open(void *inst, const struct sn_egress_open *args)
{
	struct raw *r = inst;
	struct sockaddr_in sa;
	int rc;

	if (r->fd >= 0) {
		errf(args->err, args->err_len, NAME ": already open");
		return -EALREADY;
	}
	rc = listen_addr(&args->listen, &sa, args->err, args->err_len);
	if (rc)
		return rc;
	r->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (r->fd < 0) {
		rc = -errno;
		errf(args->err, args->err_len, NAME ": cannot create a UDP socket: %s", strerror(-rc));
		return rc;
	}
	r->arg = (struct settings){args->rcvbuf, args->sndbuf, GSO_UNSET};
	/* best effort: without it, overflow drops are only in /proc/net/snmp */
	setsockopt(r->fd, SOL_SOCKET, SO_RXQ_OVFL, &(int){1}, sizeof(int));
	rc = no_pmtu_discovery(r, args->err, args->err_len);
	if (!rc) {
		apply_bufs(r);
		apply_gso(r);
		rc = bind_to(r, &sa, args->err, args->err_len);
	}
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
	from_sockaddr(out, &sa);
	return 0;
}

/* ---- receive ---- */

static void prep_msg(struct raw *r, uint32_t i, void *data, size_t len)
{
	struct msghdr *h = &r->msg[i].msg_hdr;

	r->iov[i].iov_base = data;
	r->iov[i].iov_len = len;
	memset(h, 0, sizeof(*h));
	h->msg_name = &r->sa[i];
	h->msg_namelen = sizeof(r->sa[i]);
	h->msg_iov = &r->iov[i];
	h->msg_iovlen = 1;
}

static uint32_t room(const struct sn_pkt *p)
{
	return p->cap > p->off ? p->cap - p->off : 0;
}

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

static int rx_error(struct raw *r, int e)
{
	if (e == EAGAIN || e == EWOULDBLOCK || e == EINTR)
		return 0;
	if (!transient(e))
		return -e;
	r->api->count(r->host, SN_CTR_DROP_RX_ERROR, 0, 1);
	r->api->log(r->host, SN_LOG_DEBUG, NAME ": receive error: %s", strerror(e));
	return 0;
}

static void drop_truncated(struct raw *r, uint32_t i, const struct sn_pkt *p)
{
	char ip[INET_ADDRSTRLEN];

	r->api->count(r->host, SN_CTR_DROP_RX_ERROR, 0, 1);
	r->api->log(r->host, SN_LOG_DEBUG,
		    NAME ": dropped a datagram from %s:%u larger than the %u bytes of packet room",
		    sa_str(&r->sa[i], ip), ntohs(r->sa[i].sin_port), room(p));
}

/* Hand datagram i up in packet dst (dst == pkts[i] unless an earlier
 * datagram of the batch was dropped). */
static bool fill(struct raw *r, uint32_t i, struct sn_pkt *dst, const struct sn_pkt *src)
{
	uint32_t len = r->msg[i].msg_len;

	if (dst != src) {
		if (len > room(dst))
			return false;
		memcpy(sn_pkt_data(dst), sn_pkt_data(src), len);
	}
	dst->len = len;
	from_sockaddr(&dst->addr, &r->sa[i]);
	return true;
}

/* Count what the kernel dropped before we could read it (the counter in
 * the newest message is cumulative for the socket). */
static void count_overflow(struct raw *r, uint32_t last)
{
	struct msghdr *h = &r->msg[last].msg_hdr;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
		uint32_t v;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SO_RXQ_OVFL)
			continue;
		memcpy(&v, CMSG_DATA(c), sizeof(v));
		if (v != r->ovfl_seen)
			r->api->count(r->host, SN_CTR_DROP_RX_OVERFLOW, 0, (uint32_t)(v - r->ovfl_seen));
		r->ovfl_seen = v;
	}
}

static int raw_recv_batch(void *inst, struct sn_pkt *const *pkts, uint32_t n)
{
	struct raw *r = inst;
	uint32_t k = 0;
	int got;

	if (r->fd < 0)
		return -EBADF;
	if (n > BATCH)
		n = BATCH;
	if (n == 0)
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		prep_msg(r, i, sn_pkt_data(pkts[i]), room(pkts[i]));
		r->msg[i].msg_hdr.msg_control = r->ctl[i].buf;
		r->msg[i].msg_hdr.msg_controllen = sizeof(r->ctl[i].buf);
	}
	got = recvmmsg(r->fd, r->msg, n, MSG_DONTWAIT, NULL);
	if (got < 0)
		return rx_error(r, errno);
	if (got > 0)
		count_overflow(r, (uint32_t)got - 1);
	for (uint32_t i = 0; i < (uint32_t)got; i++) {
		if ((r->msg[i].msg_hdr.msg_flags & MSG_TRUNC) || !fill(r, i, pkts[k], pkts[i]))
			drop_truncated(r, i, pkts[i]);
		else
			k++;
	}
	return (int)k;
}

/* ---- send ---- */

#define GSO_MAX_SEGS 64      /* UDP_MAX_SEGMENTS of older kernels */
#define GSO_MAX_BYTES 60000  /* well under the 64 KiB a UDP message may carry */

static bool same_dest(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
	return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
}

/* Can packet p join message m (which starts at packet first)? All of a
 * GSO message's datagrams have the first one's size except the last, which
 * may be shorter. */
static bool can_join(const struct raw *r, uint32_t m, struct sn_pkt *const *pkts, uint32_t first,
		     uint32_t i, const struct sockaddr_in *sa)
{
	uint32_t seg = pkts[first]->len, k = r->segs[m];

	return r->gso && same_dest(&r->sa[m], sa) && k < GSO_MAX_SEGS &&
	       pkts[i]->len <= seg && pkts[first + k - 1]->len == seg &&
	       (uint64_t)seg * (k + 1) <= GSO_MAX_BYTES;
}

static void set_segment(struct raw *r, uint32_t m, uint16_t size)
{
	struct msghdr *h = &r->msg[m].msg_hdr;
	struct cmsghdr *c;

	h->msg_control = r->txctl[m].buf;
	h->msg_controllen = sizeof(r->txctl[m].buf);
	c = CMSG_FIRSTHDR(h);
	c->cmsg_level = SOL_UDP;
	c->cmsg_type = UDP_SEGMENT;
	c->cmsg_len = CMSG_LEN(sizeof(size));
	memcpy(CMSG_DATA(c), &size, sizeof(size));
}

/* Prepare messages for the leading packets that have an IPv4 destination
 * (at most BATCH packets): one per packet, or with GSO one per run of
 * same-size datagrams to the same address. Returns the number of messages;
 * *np is the number of packets they carry. */
static uint32_t prep_tx(struct raw *r, struct sn_pkt *const *pkts, uint32_t n, uint32_t *np)
{
	uint32_t i, m = 0, first = 0;
	struct sockaddr_in sa;

	for (i = 0; i < n && i < BATCH; i++) {
		if (!to_sockaddr(&pkts[i]->addr, &sa))
			break;
		r->iov[i].iov_base = sn_pkt_data(pkts[i]);
		r->iov[i].iov_len = pkts[i]->len;
		if (m > 0 && can_join(r, m - 1, pkts, first, i, &sa)) {
			r->msg[m - 1].msg_hdr.msg_iovlen++;
			r->segs[m - 1]++;
			continue;
		}
		memset(&r->msg[m].msg_hdr, 0, sizeof(r->msg[m].msg_hdr));
		r->sa[m] = sa;
		r->msg[m].msg_hdr.msg_name = &r->sa[m];
		r->msg[m].msg_hdr.msg_namelen = sizeof(r->sa[m]);
		r->msg[m].msg_hdr.msg_iov = &r->iov[i];
		r->msg[m].msg_hdr.msg_iovlen = 1;
		r->segs[m] = 1;
		first = i;
		m++;
	}
	for (uint32_t j = 0, p = 0; j < m; p += r->segs[j++])
		if (r->segs[j] > 1)
			set_segment(r, j, (uint16_t)pkts[p]->len);
	*np = i;
	return m;
}

static void release(struct raw *r, struct sn_pkt *const *pkts, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		r->api->pkt_release(r->host, pkts[i]);
}

/* The kernel refused this datagram for good: take it, count it, free it. */
static void tx_drop(struct raw *r, struct sn_pkt *p, int e)
{
	struct sockaddr_in sa;
	char ip[INET_ADDRSTRLEN] = "?";

	if (to_sockaddr(&p->addr, &sa))
		sa_str(&sa, ip);
	else
		sa.sin_port = 0;
	r->api->count(r->host, SN_CTR_DROP_TX_ERROR, p->peer_id, 1);
	r->api->log(r->host, SN_LOG_WARN, NAME ": cannot send %u bytes to %s:%u (peer %u): %s",
		    p->len, ip, ntohs(sa.sin_port), p->peer_id, strerror(e));
	r->api->pkt_release(r->host, p);
}

static bool blocked(int e)
{
	return e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS;
}

/* A GSO message the kernel cannot cut (no UDP_SEGMENT support, a segment
 * larger than the path MTU, a device without checksum offload): send
 * datagram by datagram from now on rather than lose anything. */
static bool gso_refused(struct raw *r, uint32_t m, int e)
{
	if (r->segs[m] < 2 || (e != EINVAL && e != EIO && e != EOPNOTSUPP && e != EMSGSIZE))
		return false;
	r->gso = false;
	r->api->log(r->host, SN_LOG_INFO, NAME ": UDP segmentation offload refused (%s); "
		    "sending one datagram per message from now on", strerror(e));
	return true;
}

/* Send the m prepared messages; returns how many packets were taken (sent,
 * or dropped on a hard error). Stops early when the socket buffer is full
 * or GSO was just turned off (the caller prepares the rest again). */
static uint32_t send_run(struct raw *r, struct sn_pkt *const *pkts, uint32_t m)
{
	uint32_t i = 0, p = 0;
	int s;

	while (i < m) {
		s = sendmmsg(r->fd, r->msg + i, m - i, MSG_DONTWAIT);
		if (s < 0 && errno == EINTR)
			continue;
		if (s == 0 || (s < 0 && blocked(errno)))
			break;
		if (s < 0 && gso_refused(r, i, errno))
			break;
		if (s < 0) {
			/* sendmmsg reports an error only for the first
			 * message of the call: that one is refused. */
			int e = errno;

			for (uint32_t k = 0; k < r->segs[i]; k++)
				tx_drop(r, pkts[p + k], e);
			p += r->segs[i++];
			continue;
		}
		for (int k = 0; k < s; k++) {
			release(r, pkts + p, r->segs[i]);
			p += r->segs[i++];
		}
	}
	return p;
}

static int raw_send_batch(void *inst, struct sn_pkt *const *pkts, uint32_t n)
{
	struct raw *r = inst;
	uint32_t done = 0, m, np, k;
	bool gso;

	if (r->fd < 0)
		return -EBADF;
	if (n > INT32_MAX)
		n = INT32_MAX;
	while (done < n) {
		m = prep_tx(r, pkts + done, n - done, &np);
		if (m == 0) {
			tx_drop(r, pkts[done++], EAFNOSUPPORT);
			continue;
		}
		gso = r->gso;
		k = send_run(r, pkts + done, m);
		done += k;
		if (k < np && gso == r->gso)
			break; /* the socket buffer is full */
	}
	return (int)done;
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
		apply_gso(r);
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

	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

static const struct sn_egress_ops raw_ops = {
	.struct_size = sizeof(struct sn_egress_ops),
	.flags = 0,
	.open = raw_open,
	.fd = raw_fd,
	.local_addr = raw_local_addr,
	.recv_batch = raw_recv_batch,
	.send_batch = raw_send_batch,
	.reconfigure = raw_reconfigure,
};

static const struct sn_plugin_desc raw_desc = {
	.abi_major = SN_ABI_MAJOR,
	.abi_minor = SN_ABI_MINOR,
	.struct_size = sizeof(struct sn_plugin_desc),
	.kind = SN_KIND_EGRESS,
	.name = "raw_direct",
	.version = SN_VERSION_STRING,
	.description = "IPv4 UDP underlay, one socket, recvmmsg/sendmmsg batches",
	.instance_size = sizeof(struct raw),
	.instance_align = _Alignof(struct raw),
	.headroom = 0,
	.tailroom = 0,
	.overhead = UDP_IP_OVERHEAD,
	.probe = NULL,
	.create = raw_create,
	.destroy = raw_destroy,
	.ops = &raw_ops,
};

SN_PLUGIN_EXPORT const struct sn_plugin_desc *sn_plugin_entry_v1(void)
{
	return &raw_desc;
}
