/* SPDX-License-Identifier: MIT */
/*
 * plugins/egress_raw_direct/io_msg.c: raw_direct's datagram I/O where the
 * kernel has no batch calls (macOS): one recvmsg() or sendmsg() per
 * datagram, a batch being a loop of them. There is no UDP GSO or GRO, so
 * the gso and gro options are accepted (a config stays valid across
 * platforms) and change nothing, the egress declares no runs, and there is
 * no count of the datagrams the kernel dropped for a full
 * receive buffer (on macOS, `netstat -s -p udp` has it: "dropped due to
 * full socket buffers").
 *
 * Every datagram is read straight into the next packet to hand up, so a
 * truncated one (larger than the packet's room) is counted rx_error and its
 * packet is filled again by the next read; a batch reads at most n
 * datagrams, dropped ones included, as one recvmmsg() would.
 *
 * On a socket bound to 0.0.0.0, where the platform has IP_PKTINFO, each
 * datagram's local address goes to the host and each goes out from the
 * one the host names (or from the OS's choice once the kernel refuses it).
 */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "raw_direct.h"

void sn__raw_io_setup(struct raw *r)
{
}

void sn__raw_io_apply(struct raw *r)
{
	bool asked = r->opt.gso == GSO_ON || r->opt.gro == GSO_ON;

	r->api->log(r->host, asked ? SN_LOG_INFO : SN_LOG_DEBUG,
		    NAME ": UDP segmentation and receive offloads off (this platform has none)%s",
		    asked ? "; the options gso and gro change nothing here" : "");
}

void sn__raw_io_close(struct raw *r)
{
}

/* One datagram into p: 1 when filled, 0 when the socket is empty or the
 * datagram was dropped (*more says whether to go on), -errno to pass up. */
/* The local address of a received datagram (r->pktinfo), into local. */
static void read_local(struct raw *r, struct msghdr *h, struct sn_addr *local)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); r->pktinfo && c; c = CMSG_NXTHDR(h, c))
		if (sn__raw_pktinfo_read(c, local))
			return;
}

static int read_one(struct raw *r, struct sn_pkt *p, bool *more)
{
	struct sockaddr_in sa;
	struct iovec iov = {sn_pkt_data(p), sn__raw_room(p)};
	union {
		struct cmsghdr align;
		char buf[RAW_PKTINFO_SPACE + 1];
	} ctl;
	struct msghdr h = {.msg_name = &sa, .msg_namelen = sizeof(sa), .msg_iov = &iov,
			   .msg_iovlen = 1, .msg_control = r->pktinfo ? ctl.buf : NULL,
			   .msg_controllen = r->pktinfo ? sizeof(ctl.buf) : 0};
	ssize_t got = recvmsg(r->fd, &h, MSG_DONTWAIT);

	*more = got >= 0;
	if (got < 0)
		return sn__raw_rx_error(r, errno);
	if (h.msg_flags & MSG_TRUNC) {
		sn__raw_drop_truncated(r, &sa, sn__raw_room(p));
		return 0;
	}
	p->len = (uint32_t)got;
	sn__raw_from_sockaddr(&p->addr, &sa);
	read_local(r, &h, &p->local);
	return 1;
}

int sn__raw_io_recv(struct raw *r, struct sn_pkt **pkts, uint32_t n)
{
	uint32_t k = 0;
	bool more = true;
	int rc;

	for (uint32_t reads = 0; reads < n && more; reads++) {
		rc = read_one(r, pkts[k], &more);
		if (rc < 0)
			return k ? (int)k : rc;
		k += (uint32_t)rc;
	}
	return (int)k;
}

/* 1 when p was taken (sent, or refused for good and dropped), 0 when the
 * socket buffer is full and p stays the caller's. */
static int send_one(struct raw *r, struct sn_pkt *p)
{
	struct sockaddr_in sa;
	struct iovec iov = {sn_pkt_data(p), p->len};
	union {
		struct cmsghdr align;
		char buf[RAW_PKTINFO_SPACE + 1];
	} ctl;
	struct msghdr h = {.msg_name = &sa, .msg_namelen = sizeof(sa), .msg_iov = &iov,
			   .msg_iovlen = 1, .msg_control = ctl.buf};
	ssize_t s;

	if (!sn__raw_to_sockaddr(&p->addr, &sa)) {
		sn__raw_tx_drop(r, p, EAFNOSUPPORT);
		return 1;
	}
	memset(&ctl, 0, sizeof(ctl));
	h.msg_controllen = r->pktinfo ? sn__raw_pktinfo_put(CMSG_FIRSTHDR(&h), &p->local) : 0;
	if (!h.msg_controllen)
		h.msg_control = NULL;
	do {
		s = sendmsg(r->fd, &h, MSG_DONTWAIT);
		if (s < 0 && h.msg_control && sn__raw_source_refused(errno)) {
			h.msg_control = NULL; /* not the host's any more: the OS picks */
			h.msg_controllen = 0;
			errno = EINTR;
		}
	} while (s < 0 && errno == EINTR);
	if (s < 0 && sn__raw_blocked(errno))
		return 0;
	if (s < 0)
		sn__raw_tx_drop(r, p, errno);
	else
		r->api->pkt_release(r->host, p);
	return 1;
}

int sn__raw_io_send(struct raw *r, struct sn_pkt *const *pkts, uint32_t n)
{
	uint32_t i = 0;

	while (i < n && send_one(r, pkts[i]))
		i++;
	return (int)i;
}
