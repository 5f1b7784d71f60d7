/* SPDX-License-Identifier: MIT */
/*
 * egress_udp_basic: a small complete Subnetra egress, written the way a
 * third party would write one: it includes only <subnetra/sdk.h>, reaches
 * the daemon only through the host API, and moves each batch with one
 * recvmmsg()/sendmmsg() call (Linux), SN_BATCH datagrams at most. It has
 * none of raw_direct's offloads (UDP GSO/GRO): use it as a template.
 *
 * Config:   plugins: { egress: udp_basic }   (example.yaml beside this file)
 * Options:  sndbuf, rcvbuf  socket buffer sizes (64k..64MiB, e.g. 4MiB;
 *                           default: the kernel's)
 * Counters: short_sends     batches the socket took only part of
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* recvmmsg, sendmmsg */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <subnetra/sdk.h>

struct udp_basic {
	int fd;
	struct sn_host *host;
	const struct sn_host_api *api;
	uint64_t sndbuf, rcvbuf;     /* options, 0 = the kernel's default */
	uint32_t short_sends;        /* counter index */
	/* one batch's system-call arrays, preallocated with the instance */
	struct mmsghdr msg[SN_BATCH];
	struct iovec iov[SN_BATCH];
	struct sockaddr_in sa[SN_BATCH];
};

static void to_sockaddr(const struct sn_addr *a, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(a->port);
	memcpy(&sa->sin_addr, a->ip, 4);
}

static void from_sockaddr(const struct sockaddr_in *sa, struct sn_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = SN_AF_INET;
	a->port = ntohs(sa->sin_port);
	memcpy(a->ip, &sa->sin_addr, 4);
}

static int ub_open(void *inst, const struct sn_egress_open *args)
{
	struct udp_basic *u = inst;
	struct sockaddr_in sa;

	u->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (u->fd < 0) {
		snprintf(args->err, args->err_len, "socket: %s", strerror(errno));
		return -errno;
	}
	if (u->sndbuf)
		setsockopt(u->fd, SOL_SOCKET, SO_SNDBUF, &(int){(int)u->sndbuf}, sizeof(int));
	if (u->rcvbuf)
		setsockopt(u->fd, SOL_SOCKET, SO_RCVBUF, &(int){(int)u->rcvbuf}, sizeof(int));
	to_sockaddr(&args->listen, &sa);
	if (bind(u->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;

		snprintf(args->err, args->err_len, "bind port %u: %s", args->listen.port,
			 strerror(e));
		close(u->fd);
		u->fd = -1;
		return -e;
	}
	return 0;
}

static int ub_fd(void *inst)
{
	return ((struct udp_basic *)inst)->fd;
}

static int ub_local_addr(void *inst, struct sn_addr *out)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	if (getsockname(((struct udp_basic *)inst)->fd, (struct sockaddr *)&sa, &len) != 0)
		return -errno;
	from_sockaddr(&sa, out);
	return 0;
}

/* Point message i at packet p's buffer (room: what is free from its data
 * start on receive; its data on send) and address slot i. */
static void set_msg(struct udp_basic *u, uint32_t i, struct sn_pkt *p, uint32_t len)
{
	u->iov[i] = (struct iovec){sn_pkt_data(p), len};
	memset(&u->msg[i], 0, sizeof(u->msg[i]));
	u->msg[i].msg_hdr.msg_iov = &u->iov[i];
	u->msg[i].msg_hdr.msg_iovlen = 1;
	u->msg[i].msg_hdr.msg_name = &u->sa[i];
	u->msg[i].msg_hdr.msg_namelen = sizeof(u->sa[i]);
}

/* One recvmmsg() into the lent packets; a truncated datagram is counted
 * rx_error and its packet reused. */
static int ub_recv_batch(void *inst, struct sn_pkt **pkts, uint32_t n)
{
	struct udp_basic *u = inst;
	uint32_t k = 0;
	int got;

	if (n > SN_BATCH)
		n = SN_BATCH;
	for (uint32_t i = 0; i < n; i++)
		set_msg(u, i, pkts[i], sn_pkt_room(pkts[i]));
	got = recvmmsg(u->fd, u->msg, n, MSG_DONTWAIT, NULL);
	if (got < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	for (uint32_t i = 0; i < (uint32_t)got; i++) {
		struct sn_pkt *p = pkts[i];

		if (u->msg[i].msg_hdr.msg_flags & MSG_TRUNC) {
			u->api->count(u->host, SN_CTR_DROP_RX_ERROR, 0, 1);
			continue;
		}
		p->len = u->msg[i].msg_len;
		from_sockaddr(&u->sa[i], &p->addr);
		pkts[i] = pkts[k]; /* keep the filled ones first, in order */
		pkts[k++] = p;
	}
	return (int)k;
}

/* sendmmsg() SN_BATCH at a time. The datagrams the kernel took are taken;
 * a full socket buffer (EAGAIN, ENOBUFS) stops the batch, the rest stays
 * the host's. Another error on the first datagram drops that one, counted
 * tx_error, and goes on. */
static int ub_send_batch(void *inst, struct sn_pkt *const *pkts, uint32_t n)
{
	struct udp_basic *u = inst;
	uint32_t k = 0, m;
	int sent;

	while (k < n) {
		m = n - k < SN_BATCH ? n - k : SN_BATCH;
		for (uint32_t i = 0; i < m; i++) {
			set_msg(u, i, pkts[k + i], pkts[k + i]->len);
			to_sockaddr(&pkts[k + i]->addr, &u->sa[i]);
		}
		sent = sendmmsg(u->fd, u->msg, m, MSG_DONTWAIT);
		if (sent < 0 && (errno == EAGAIN || errno == ENOBUFS))
			break;
		if (sent < 0) {
			u->api->count(u->host, SN_CTR_DROP_TX_ERROR, pkts[k]->peer_id, 1);
			sent = 1;
		}
		for (int i = 0; i < sent; i++)
			u->api->pkt_release(u->host, pkts[k + (uint32_t)i]);
		k += (uint32_t)sent;
		if ((uint32_t)sent < m) {
			u->api->counter_add(u->host, u->short_sends, 1);
			break;
		}
	}
	return (int)k;
}

static int ub_create(void *inst, const struct sn_create_args *args)
{
	struct udp_basic *u = inst;
	const struct sn_opt_def defs[] = {
		{"sndbuf", SN_OPT_SIZE, 65536, 64u << 20, &u->sndbuf},
		{"rcvbuf", SN_OPT_SIZE, 65536, 64u << 20, &u->rcvbuf},
	};
	int r;

	u->fd = -1;
	u->host = args->host;
	u->api = args->api;
	if (sn_options_parse("udp_basic", &args->options, defs, 2, args->err, args->err_len) < 0)
		return -EINVAL;
	r = u->api->counter_register(u->host, "short_sends",
				     "Batches the socket took only part of (its buffer was full).");
	if (r < 0) {
		snprintf(args->err, args->err_len, "udp_basic: cannot register a counter: %s",
			 strerror(-r));
		return r;
	}
	u->short_sends = (uint32_t)r;
	return 0;
}

static void ub_destroy(void *inst)
{
	struct udp_basic *u = inst;

	if (u->fd >= 0)
		close(u->fd);
}

static const struct sn_egress_ops ops = {
	.struct_size = sizeof(struct sn_egress_ops),
	.open = ub_open,
	.fd = ub_fd,
	.local_addr = ub_local_addr,
	.recv_batch = ub_recv_batch,
	.send_batch = ub_send_batch,
};

static const struct sn_plugin_desc desc = {
	SN_PLUGIN_DESC_INIT(SN_KIND_EGRESS, "udp_basic", struct udp_basic),
	.version = "1.0.0",
	.description = "plain UDP, one recvmmsg/sendmmsg per batch (SDK example)",
	.create = ub_create,
	.destroy = ub_destroy,
	.ops = &ops,
};

SN_PLUGIN_ENTRY(desc)
