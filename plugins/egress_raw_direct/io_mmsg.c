/* SPDX-License-Identifier: MIT */
/*
 * plugins/egress_raw_direct/io_mmsg.c: raw_direct's datagram I/O where the
 * kernel batches (Linux): a batch of datagrams costs one recvmmsg() or
 * sendmmsg(), because on the machines we measure a system call costs
 * about a microsecond and calls per packet, not the cipher, set the
 * packet rate. On send, runs of same-size datagrams to one address go out
 * as one UDP GSO message; on receive, the kernel's count of datagrams it
 * dropped for a full buffer (SO_RXQ_OVFL) is counted rx_overflow.
 *
 * Truncated datagrams (larger than the room of the lent packet) are
 * counted rx_error and never handed up: the datagrams behind them in the
 * batch are copied forward so that the host still finds the filled packets
 * at pkts[0..k-1] (the lent array is const, so packets cannot be swapped;
 * the copy only happens in a batch that had a truncation).
 */
#include <errno.h>
#include <netinet/udp.h>
#include <string.h>

#include "raw_direct.h"

/* ---- setup ---- */

void sn__raw_io_setup(struct raw *r)
{
	/* best effort: without it, overflow drops are only in /proc/net/snmp */
	setsockopt(r->fd, SOL_SOCKET, SO_RXQ_OVFL, &(int){1}, sizeof(int));
}

/* UDP GSO unless the options turn it off or the kernel lacks UDP_SEGMENT
 * (setting the socket-wide segment size to 0 changes nothing but tells). */
void sn__raw_io_apply(struct raw *r)
{
	int zero = 0;

	r->io.gso = r->opt.gso != GSO_OFF &&
		    setsockopt(r->fd, SOL_UDP, UDP_SEGMENT, &zero, sizeof(zero)) == 0;
	r->api->log(r->host, SN_LOG_DEBUG, NAME ": UDP segmentation offload %s",
		    r->io.gso ? "on" : "off");
}

/* ---- receive ---- */

static void prep_msg(struct raw *r, uint32_t i, void *data, size_t len)
{
	struct msghdr *h = &r->io.msg[i].msg_hdr;

	r->io.iov[i].iov_base = data;
	r->io.iov[i].iov_len = len;
	memset(h, 0, sizeof(*h));
	h->msg_name = &r->io.sa[i];
	h->msg_namelen = sizeof(r->io.sa[i]);
	h->msg_iov = &r->io.iov[i];
	h->msg_iovlen = 1;
}

/* Hand datagram i up in packet dst (dst == pkts[i] unless an earlier
 * datagram of the batch was dropped). */
static bool fill(struct raw *r, uint32_t i, struct sn_pkt *dst, const struct sn_pkt *src)
{
	uint32_t len = r->io.msg[i].msg_len;

	if (dst != src) {
		if (len > sn__raw_room(dst))
			return false;
		memcpy(sn_pkt_data(dst), sn_pkt_data(src), len);
	}
	dst->len = len;
	sn__raw_from_sockaddr(&dst->addr, &r->io.sa[i]);
	return true;
}

/* Count what the kernel dropped before we could read it (the counter in
 * the newest message is cumulative for the socket). */
static void count_overflow(struct raw *r, uint32_t last)
{
	struct msghdr *h = &r->io.msg[last].msg_hdr;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
		uint32_t v;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SO_RXQ_OVFL)
			continue;
		memcpy(&v, CMSG_DATA(c), sizeof(v));
		if (v != r->io.ovfl_seen)
			r->api->count(r->host, SN_CTR_DROP_RX_OVERFLOW, 0,
				      (uint32_t)(v - r->io.ovfl_seen));
		r->io.ovfl_seen = v;
	}
}

int sn__raw_io_recv(struct raw *r, struct sn_pkt **pkts, uint32_t n)
{
	uint32_t k = 0;
	int got;

	for (uint32_t i = 0; i < n; i++) {
		prep_msg(r, i, sn_pkt_data(pkts[i]), sn__raw_room(pkts[i]));
		r->io.msg[i].msg_hdr.msg_control = r->io.ctl[i].buf;
		r->io.msg[i].msg_hdr.msg_controllen = sizeof(r->io.ctl[i].buf);
	}
	got = recvmmsg(r->fd, r->io.msg, n, MSG_DONTWAIT, NULL);
	if (got < 0)
		return sn__raw_rx_error(r, errno);
	if (got > 0)
		count_overflow(r, (uint32_t)got - 1);
	for (uint32_t i = 0; i < (uint32_t)got; i++) {
		if ((r->io.msg[i].msg_hdr.msg_flags & MSG_TRUNC) || !fill(r, i, pkts[k], pkts[i]))
			sn__raw_drop_truncated(r, &r->io.sa[i], pkts[i]);
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
	uint32_t seg = pkts[first]->len, k = r->io.segs[m];

	return r->io.gso && same_dest(&r->io.sa[m], sa) && k < GSO_MAX_SEGS &&
	       pkts[i]->len <= seg && pkts[first + k - 1]->len == seg &&
	       (uint64_t)seg * (k + 1) <= GSO_MAX_BYTES;
}

static void set_segment(struct raw *r, uint32_t m, uint16_t size)
{
	struct msghdr *h = &r->io.msg[m].msg_hdr;
	struct cmsghdr *c;

	h->msg_control = r->io.txctl[m].buf;
	h->msg_controllen = sizeof(r->io.txctl[m].buf);
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
	struct raw_io *io = &r->io;
	uint32_t i, m = 0, first = 0;
	struct sockaddr_in sa;

	for (i = 0; i < n && i < BATCH; i++) {
		if (!sn__raw_to_sockaddr(&pkts[i]->addr, &sa))
			break;
		io->iov[i].iov_base = sn_pkt_data(pkts[i]);
		io->iov[i].iov_len = pkts[i]->len;
		if (m > 0 && can_join(r, m - 1, pkts, first, i, &sa)) {
			io->msg[m - 1].msg_hdr.msg_iovlen++;
			io->segs[m - 1]++;
			continue;
		}
		memset(&io->msg[m].msg_hdr, 0, sizeof(io->msg[m].msg_hdr));
		io->sa[m] = sa;
		io->msg[m].msg_hdr.msg_name = &io->sa[m];
		io->msg[m].msg_hdr.msg_namelen = sizeof(io->sa[m]);
		io->msg[m].msg_hdr.msg_iov = &io->iov[i];
		io->msg[m].msg_hdr.msg_iovlen = 1;
		io->segs[m] = 1;
		first = i;
		m++;
	}
	for (uint32_t j = 0, p = 0; j < m; p += io->segs[j++])
		if (io->segs[j] > 1)
			set_segment(r, j, (uint16_t)pkts[p]->len);
	*np = i;
	return m;
}

static void release(struct raw *r, struct sn_pkt *const *pkts, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		r->api->pkt_release(r->host, pkts[i]);
}

/* A GSO message the kernel cannot cut (no UDP_SEGMENT support, a segment
 * larger than the path MTU, a device without checksum offload): send
 * datagram by datagram from now on rather than lose anything. */
static bool gso_refused(struct raw *r, uint32_t m, int e)
{
	if (r->io.segs[m] < 2 || (e != EINVAL && e != EIO && e != EOPNOTSUPP && e != EMSGSIZE))
		return false;
	r->io.gso = false;
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
		s = sendmmsg(r->fd, r->io.msg + i, m - i, MSG_DONTWAIT);
		if (s < 0 && errno == EINTR)
			continue;
		if (s == 0 || (s < 0 && sn__raw_blocked(errno)))
			break;
		if (s < 0 && gso_refused(r, i, errno))
			break;
		if (s < 0) {
			/* sendmmsg reports an error only for the first
			 * message of the call: that one is refused. */
			int e = errno;

			for (uint32_t k = 0; k < r->io.segs[i]; k++)
				sn__raw_tx_drop(r, pkts[p + k], e);
			p += r->io.segs[i++];
			continue;
		}
		for (int k = 0; k < s; k++) {
			release(r, pkts + p, r->io.segs[i]);
			p += r->io.segs[i++];
		}
	}
	return p;
}

int sn__raw_io_send(struct raw *r, struct sn_pkt *const *pkts, uint32_t n)
{
	uint32_t done = 0, m, np, k;
	bool gso;

	while (done < n) {
		m = prep_tx(r, pkts + done, n - done, &np);
		if (m == 0) {
			sn__raw_tx_drop(r, pkts[done++], EAFNOSUPPORT);
			continue;
		}
		gso = r->io.gso;
		k = send_run(r, pkts + done, m);
		done += k;
		if (k < np && gso == r->io.gso)
			break; /* the socket buffer is full */
	}
	return (int)done;
}
