/* SPDX-License-Identifier: MIT */
/*
 * egress_udp_basic: the smallest useful Subnetra egress, written the way a
 * third party would write one: it includes only <subnetra/sdk.h>, reaches
 * the daemon only through the host API, and sends and receives one datagram
 * per system call (sendto/recvfrom), where raw_direct batches with
 * sendmmsg/recvmmsg. Use it as a template.
 *
 * Config:   plugins: { egress: udp_basic }
 * Options:  none.
 */
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

/* Fill lent packets until the socket is empty or n are filled. */
static int ub_recv_batch(void *inst, struct sn_pkt **pkts, uint32_t n)
{
	struct udp_basic *u = inst;
	uint32_t k = 0;

	while (k < n) {
		struct sockaddr_in sa;
		socklen_t len = sizeof(sa);
		struct sn_pkt *p = pkts[k];
		ssize_t r = recvfrom(u->fd, sn_pkt_data(p), p->cap - p->off, MSG_TRUNC,
				     (struct sockaddr *)&sa, &len);

		if (r < 0)
			return k ? (int)k : (errno == EAGAIN ? 0 : -errno);
		if ((size_t)r > p->cap - p->off) {
			u->api->count(u->host, SN_CTR_DROP_RX_ERROR, 0, 1);
			continue; /* truncated: not handed up, buffer reused */
		}
		p->len = (uint32_t)r;
		from_sockaddr(&sa, &p->addr);
		k++;
	}
	return (int)k;
}

/* Take packets in order; a full socket buffer stops the batch. */
static int ub_send_batch(void *inst, struct sn_pkt *const *pkts, uint32_t n)
{
	struct udp_basic *u = inst;
	uint32_t k;

	for (k = 0; k < n; k++) {
		struct sockaddr_in sa;
		struct sn_pkt *p = pkts[k];

		to_sockaddr(&p->addr, &sa);
		if (sendto(u->fd, sn_pkt_data(p), p->len, 0, (struct sockaddr *)&sa,
			   sizeof(sa)) < 0) {
			if (errno == EAGAIN || errno == ENOBUFS)
				break;
			u->api->count(u->host, SN_CTR_DROP_TX_ERROR, p->peer_id, 1);
		}
		u->api->pkt_release(u->host, p);
	}
	return (int)k;
}

static int ub_create(void *inst, const struct sn_create_args *args)
{
	struct udp_basic *u = inst;

	if (args->options.count) {
		snprintf(args->err, args->err_len, "udp_basic: unknown option '%s' (it has none)",
			 args->options.items[0].key);
		return -EINVAL;
	}
	u->fd = -1;
	u->host = args->host;
	u->api = args->api;
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
	.description = "plain UDP, one datagram per system call (SDK example)",
	.create = ub_create,
	.destroy = ub_destroy,
	.ops = &ops,
};

SN_PLUGIN_ENTRY(desc)
