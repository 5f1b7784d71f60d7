/* SPDX-License-Identifier: MIT */
/*
 * plugins/egress_raw_direct/io_mmsg.c: raw_direct's datagram I/O where the
 * kernel batches and segments (Linux): a batch of messages costs one
 * recvmmsg() or sendmmsg(), because on the machines we measure a system
 * call costs about a microsecond and calls per packet, not the cipher, set
 * the packet rate; and a message can carry a train of datagrams that the
 * kernel handles as one all the way through its UDP and IP layers.
 *
 * Send: the host marks runs of datagrams of one size to one address
 * (SN_PKT_F_RUN, docs/plugin-sdk.md, "Offloads"; the egress declares
 * SN_EGRESS_F_GSO); each run goes out as one message with a UDP_SEGMENT
 * cmsg, every other datagram as a message of its own. Without UDP GSO (the
 * gso option off, an old kernel, or a refusal) a run goes datagram by
 * datagram.
 *
 * Receive, with UDP GRO (the gro option, on by default): the kernel hands
 * over trains of datagrams coalesced into one buffer, with their size in a
 * UDP_GRO cmsg. Messages are read into the plugin's slots of 64 KiB each
 * (SLOTS of them, allocated when GRO is turned on), and every datagram is
 * split off into a packet the host lent, in arrival order. A train can hold
 * more datagrams than the call was lent packets for: the rest stay in the
 * slots and go out first in the next call, which the host makes because
 * this one filled every packet (subnetra/egress.h, recv_batch). Without
 * GRO messages are read straight into the lent packets.
 *
 * Either way the kernel's arrival time of each message (SO_TIMESTAMPNS)
 * goes to the host in time_ns, for its AQM, and its count of datagrams it
 * dropped for a full buffer (SO_RXQ_OVFL) is counted rx_overflow.
 * Truncated datagrams (larger than the room of the lent packet) are counted
 * rx_error and never handed up.
 */
#include <errno.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "raw_direct.h"

#ifndef UDP_GRO
#define UDP_GRO 104 /* linux/udp.h; glibc's netinet/udp.h has it since 2.30 */
#endif

/* ---- setup ---- */

void sn__raw_io_setup(struct raw *r)
{
	int one = 1;

	/* best effort: without them, overflow drops are only in
	 * /proc/net/snmp and the host times packets itself */
	setsockopt(r->fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	setsockopt(r->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
}

/* GRO's slots: allocated once, on the first turn-on, kept until destroy. */
static bool slots_ready(struct raw *r)
{
	void *m;

	if (r->io.slot_mem)
		return true;
	m = mmap(NULL, (size_t)SLOTS * SLOT_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return false;
	r->io.slot_mem = m;
	return true;
}

static bool gro_on(struct raw *r)
{
	int v = r->opt.gro != GSO_OFF;

	if (setsockopt(r->fd, SOL_UDP, UDP_GRO, &v, sizeof(v)) != 0)
		return false;
	if (v && !slots_ready(r)) {
		v = 0;
		setsockopt(r->fd, SOL_UDP, UDP_GRO, &v, sizeof(v));
	}
	return v;
}

/* UDP GSO unless the options turn it off or the kernel lacks UDP_SEGMENT
 * (setting the socket-wide segment size to 0 changes nothing but tells);
 * UDP GRO likewise. */
void sn__raw_io_apply(struct raw *r)
{
	int zero = 0;
	r->io.gso = r->opt.gso != GSO_OFF &&
		    setsockopt(r->fd, SOL_UDP, UDP_SEGMENT, &zero, sizeof(zero)) == 0;
	/* turned off with datagrams still in the slots: read on through the
	 * slots (they take single datagrams as well) */
	r->io.gro = gro_on(r) || r->io.cur < r->io.filled;
	r->api->log(r->host, SN_LOG_DEBUG, NAME ": UDP segmentation offload %s, receive offload %s",
		    r->io.gso ? "on" : "off", r->io.gro ? "on" : "off");
}

void sn__raw_io_close(struct raw *r)
{
	if (r->io.slot_mem)
		munmap(r->io.slot_mem, (size_t)SLOTS * SLOT_SIZE);
	memset(&r->io, 0, sizeof(r->io));
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
	h->msg_control = r->io.ctl[i].buf;
	h->msg_controllen = sizeof(r->io.ctl[i].buf);
}

/* What the cmsgs of message i say: the kernel's overflow count (cumulative
 * for the socket: the newest message's is counted), the segment size of a
 * coalesced train, the arrival time (host clock; 0 = not known). */
struct rx_info {
	uint32_t seg;
	uint64_t time_ns;
};

static uint64_t host_time(const struct timespec *ts, const struct timespec *real, uint64_t mono)
{
	int64_t ago = (int64_t)(real->tv_sec - ts->tv_sec) * 1000000000 +
		      (real->tv_nsec - ts->tv_nsec);

	/* a clock step makes the arrival time meaningless: say unknown */
	return ago < 0 || ago > (int64_t)10000000000 || (uint64_t)ago > mono ? 0 : mono - (uint64_t)ago;
}

static void read_cmsgs(struct raw *r, uint32_t i, const struct timespec *real, uint64_t mono,
		       struct rx_info *out)
{
	struct msghdr *h = &r->io.msg[i].msg_hdr;
	struct timespec ts;
	uint32_t v;
	int seg;

	out->seg = 0;
	out->time_ns = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
			memcpy(&v, CMSG_DATA(c), sizeof(v));
			if (v != r->io.ovfl_seen)
				r->api->count(r->host, SN_CTR_DROP_RX_OVERFLOW, 0,
					      (uint32_t)(v - r->io.ovfl_seen));
			r->io.ovfl_seen = v;
		} else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) {
			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			out->time_ns = host_time(&ts, real, mono);
		} else if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
			memcpy(&seg, CMSG_DATA(c), sizeof(seg));
			out->seg = seg > 0 ? (uint32_t)seg : 0;
		}
	}
}

/* recvmmsg() of the m prepared messages, with the clocks to time them. */
static int receive(struct raw *r, uint32_t m, struct timespec *real, uint64_t *mono)
{
	int got = recvmmsg(r->fd, r->io.msg, m, MSG_DONTWAIT, NULL);

	if (got > 0) {
		clock_gettime(CLOCK_REALTIME, real);
		*mono = r->api->now_ns(r->host);
	}
	return got;
}

/* Without GRO: each message straight into its lent packet; a truncated
 * one is dropped and the packet behind it moves up (reordering the lent
 * entries, which the host allows). */
static int recv_direct(struct raw *r, struct sn_pkt **pkts, uint32_t n)
{
	struct timespec real;
	struct rx_info info;
	uint64_t mono = 0;
	uint32_t k = 0;
	int got;

	for (uint32_t i = 0; i < n; i++)
		prep_msg(r, i, sn_pkt_data(pkts[i]), sn__raw_room(pkts[i]));
	got = receive(r, n, &real, &mono);
	if (got < 0)
		return sn__raw_rx_error(r, errno);
	for (uint32_t i = 0; i < (uint32_t)got; i++) {
		struct sn_pkt *p = pkts[i];

		read_cmsgs(r, i, &real, mono, &info);
		if (r->io.msg[i].msg_hdr.msg_flags & MSG_TRUNC) {
			sn__raw_drop_truncated(r, &r->io.sa[i], sn__raw_room(p));
			continue;
		}
		p->len = r->io.msg[i].msg_len;
		p->time_ns = info.time_ns;
		sn__raw_from_sockaddr(&p->addr, &r->io.sa[i]);
		pkts[i] = pkts[k];
		pkts[k++] = p;
	}
	return (int)k;
}

/* With GRO: hand out the datagrams the slots still hold, in order, into
 * pkts[*k..n). */
static void drain(struct raw *r, struct sn_pkt **pkts, uint32_t n, uint32_t *k)
{
	struct raw_io *io = &r->io;

	while (*k < n && io->cur < io->filled) {
		struct slot *s = &io->slot[io->cur];
		uint32_t d = s->len - s->off < s->seg ? s->len - s->off : s->seg;
		struct sn_pkt *p = pkts[*k];

		if (s->empty) {
			p->len = 0;
			p->time_ns = s->time_ns;
			sn__raw_from_sockaddr(&p->addr, &s->sa);
			s->empty = false;
			(*k)++;
			continue;
		}
		if (s->off >= s->len) {
			io->cur++;
			continue;
		}
		if (d > sn__raw_room(p)) {
			sn__raw_drop_truncated(r, &s->sa, sn__raw_room(p));
		} else {
			memcpy(sn_pkt_data(p), io->slot_mem + (size_t)io->cur * SLOT_SIZE + s->off, d);
			p->len = d;
			p->time_ns = s->time_ns;
			sn__raw_from_sockaddr(&p->addr, &s->sa);
			(*k)++;
		}
		s->off += d;
	}
	if (io->cur == io->filled)
		io->cur = io->filled = 0;
}

/* Read up to SLOTS messages into the (empty) slots. 0 or -errno. */
static int fill_slots(struct raw *r)
{
	struct raw_io *io = &r->io;
	struct timespec real;
	struct rx_info info;
	uint64_t mono = 0;
	int got;

	for (uint32_t i = 0; i < SLOTS; i++)
		prep_msg(r, i, io->slot_mem + (size_t)i * SLOT_SIZE, SLOT_SIZE);
	got = receive(r, SLOTS, &real, &mono);
	if (got < 0)
		return sn__raw_rx_error(r, errno);
	for (uint32_t i = 0; i < (uint32_t)got; i++) {
		struct slot *s = &io->slot[i];

		read_cmsgs(r, i, &real, mono, &info);
		bool trunc = io->msg[i].msg_hdr.msg_flags & MSG_TRUNC;

		s->len = trunc ? 0 : io->msg[i].msg_len;
		s->empty = !trunc && !s->len;
		s->seg = info.seg && info.seg < s->len ? info.seg : s->len;
		s->off = 0;
		s->time_ns = info.time_ns;
		s->sa = io->sa[i];
		if (trunc)
			sn__raw_drop_truncated(r, &s->sa, SLOT_SIZE);
		else if (s->seg < s->len)
			r->api->count(r->host, SN_CTR_RX_GRO, 0, 1);
	}
	io->cur = 0;
	io->filled = (uint32_t)got;
	return 0;
}

int sn__raw_io_recv(struct raw *r, struct sn_pkt **pkts, uint32_t n)
{
	uint32_t k = 0;
	int rc;

	if (!r->io.gro)
		return recv_direct(r, pkts, n);
	drain(r, pkts, n, &k);
	if (k == n)
		return (int)k;
	rc = fill_slots(r);
	if (rc < 0)
		return k ? (int)k : rc;
	drain(r, pkts, n, &k);
	return (int)k;
}

/* ---- send ---- */

/* Entries from pkts[0] one message takes: a run (with GSO on), or one. A
 * run that is not what the host promises (one address, one size but the
 * last) goes one by one: the kernel would cut it at the wrong places. */
static uint32_t msg_entries(const struct raw *r, struct sn_pkt *const *pkts, uint32_t n)
{
	uint32_t k = pkts[0]->gso_segs, size = pkts[0]->gso_size;

	if (!r->io.gso || !(pkts[0]->flags & SN_PKT_F_RUN) || k < 2 || k > n || k > SN_GSO_MAX_SEGS)
		return 1;
	for (uint32_t j = 0; j < k; j++)
		if (pkts[j]->addr.port != pkts[0]->addr.port ||
		    memcmp(pkts[j]->addr.ip, pkts[0]->addr.ip, 4) ||
		    (j + 1 < k ? pkts[j]->len != size : pkts[j]->len > size))
			return 1;
	return k;
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

/* Prepare messages for the leading entries that have an IPv4 destination:
 * at most BATCH messages and TX_IOV entries. Returns the number of
 * messages; *np is the number of entries they carry. */
static uint32_t prep_tx(struct raw *r, struct sn_pkt *const *pkts, uint32_t n, uint32_t *np)
{
	struct raw_io *io = &r->io;
	uint32_t i = 0, m = 0, k;
	struct sockaddr_in sa;

	while (i < n && m < BATCH && sn__raw_to_sockaddr(&pkts[i]->addr, &sa)) {
		k = msg_entries(r, pkts + i, n - i);
		if (i + k > TX_IOV)
			break;
		memset(&io->msg[m].msg_hdr, 0, sizeof(io->msg[m].msg_hdr));
		io->sa[m] = sa;
		io->msg[m].msg_hdr.msg_name = &io->sa[m];
		io->msg[m].msg_hdr.msg_namelen = sizeof(io->sa[m]);
		io->msg[m].msg_hdr.msg_iov = &io->txiov[i];
		io->msg[m].msg_hdr.msg_iovlen = k;
		for (uint32_t j = 0; j < k; j++)
			io->txiov[i + j] = (struct iovec){sn_pkt_data(pkts[i + j]), pkts[i + j]->len};
		if (k > 1)
			set_segment(r, m, pkts[i]->gso_size);
		io->segs[m++] = (uint8_t)k;
		i += k;
	}
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

/* Send the m prepared messages; returns how many entries were taken (sent,
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
			if (r->io.segs[i] > 1)
				r->api->count(r->host, SN_CTR_TX_GSO, 0, 1);
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
