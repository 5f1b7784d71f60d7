/* SPDX-License-Identifier: MIT */
/*
 * os_linux/netlink.c: routes through the TUN device over rtnetlink, the
 * interface `ip route` itself uses, so the daemon never runs a program.
 *
 * Requests are synchronous: one message with NLM_F_ACK, then read until the
 * NLMSG_ERROR carrying our sequence number (error 0 is the ACK). The kernel
 * handles a route request while we send it, so the answer is normally
 * queued before sendto() returns; the receive timeout only guards against
 * the impossible.
 */
#include "netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define REPLY_TIMEOUT_MS 2000
#define MAX_READS 16

struct route_req {
	struct nlmsghdr nh;
	struct rtmsg rt;
	char attrs[2 * RTA_SPACE(sizeof(uint32_t))];
};

int sn__nl_open(struct sn__nl *nl)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	struct timeval tv = {REPLY_TIMEOUT_MS / 1000, (REPLY_TIMEOUT_MS % 1000) * 1000};
	int one = 1, e;

	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nl->fd < 0)
		return -errno;
	/* The ACK need not echo our request back. */
	(void)setsockopt(nl->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (setsockopt(nl->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    bind(nl->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		e = errno;
		sn__nl_close(nl);
		return -e;
	}
	return 0;
}

void sn__nl_close(struct sn__nl *nl)
{
	if (nl->fd >= 0)
		close(nl->fd);
	nl->fd = -1;
}

/* Append a 4-byte attribute; the request has room for two. */
static void put_u32(struct nlmsghdr *nh, unsigned short type, uint32_t v)
{
	struct rtattr *rta = (struct rtattr *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(sizeof(v));
	memcpy(RTA_DATA(rta), &v, sizeof(v));
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

static void build(struct route_req *req, uint32_t seq, int type, int ifindex, uint32_t addr,
		  uint8_t len)
{
	memset(req, 0, sizeof(*req));
	req->nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	req->nh.nlmsg_type = (unsigned short)type;
	req->nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	if (type == RTM_NEWROUTE)
		req->nh.nlmsg_flags |= NLM_F_CREATE | NLM_F_EXCL;
	req->nh.nlmsg_seq = seq;
	req->rt.rtm_family = AF_INET;
	req->rt.rtm_dst_len = len;
	req->rt.rtm_table = RT_TABLE_MAIN;
	req->rt.rtm_protocol = RTPROT_STATIC;
	/* A delete with scope "nowhere" matches any scope, like `ip route del`. */
	req->rt.rtm_scope = type == RTM_NEWROUTE ? RT_SCOPE_LINK : RT_SCOPE_NOWHERE;
	req->rt.rtm_type = RTN_UNICAST;
	put_u32(&req->nh, RTA_DST, htonl(addr));
	put_u32(&req->nh, RTA_OIF, (uint32_t)ifindex);
}

/* The error of the NLMSG_ERROR answering seq in buf, or 1 if none is there. */
static int find_ack(const void *buf, size_t n, uint32_t seq)
{
	const struct nlmsghdr *nh = buf;
	const struct nlmsgerr *e;

	for (; NLMSG_OK(nh, n); nh = NLMSG_NEXT(nh, n)) {
		if (nh->nlmsg_seq != seq || nh->nlmsg_type != NLMSG_ERROR)
			continue;
		if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
			return -EPROTO;
		e = NLMSG_DATA(nh);
		return e->error <= 0 ? e->error : -EPROTO;
	}
	return 1;
}

static int read_ack(struct sn__nl *nl, uint32_t seq)
{
	union {
		struct nlmsghdr nh;
		char b[8192];
	} buf;
	ssize_t n;
	int rc;

	for (int i = 0; i < MAX_READS; i++) {
		n = recv(nl->fd, &buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		rc = find_ack(&buf, (size_t)n, seq);
		if (rc <= 0)
			return rc;
	}
	return -ETIMEDOUT;
}

int sn__nl_route(struct sn__nl *nl, int type, int ifindex, uint32_t addr, uint8_t len)
{
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	struct route_req req;
	ssize_t n;

	if (nl->fd < 0)
		return -ENODEV;
	build(&req, ++nl->seq, type, ifindex, addr, len);
	do
		n = sendto(nl->fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel,
			   sizeof(kernel));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return read_ack(nl, req.nh.nlmsg_seq);
}
