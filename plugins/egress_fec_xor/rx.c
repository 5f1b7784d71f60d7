/* SPDX-License-Identifier: MIT */
/*
 * plugins/egress_fec_xor/rx.c: receiving. Each frame is taken apart in its
 * packet: a data or plain frame loses its header and goes up as the sealed
 * datagram it carries; a data frame and a parity frame are added to their
 * group (the sender's key_id, the group id), and when a group has its
 * parity and all but one data frame, the missing datagram is rebuilt, with
 * its length, in a packet of the pool and handed up through
 * host_api.deliver, where it passes every check any datagram does
 * (docs/protocol.md, "Receiving"). A group whose slot a newer group takes
 * with two or more data frames still missing is counted unrecoverable.
 */
#include <string.h>

#include "fec_xor.h"

/* Receive groups are kept per source address: a group's data frames and
 * its parity come from one (an IPv4 underlay: docs/protocol.md). Not
 * authenticated: a forgery can spoil a group, and what is rebuilt from it
 * fails the tag check like any forged datagram. 0: no address. */
static uint64_t source(const struct sn_addr *a)
{
	if (a->family != SN_AF_INET)
		return 0;
	return 1ull << 48 | (uint64_t)a->ip[0] << 40 | (uint64_t)a->ip[1] << 32 |
	       (uint64_t)a->ip[2] << 24 | (uint64_t)a->ip[3] << 16 | a->port;
}

/* Group ids count up: is a newer than b (serial number arithmetic)? */
static bool newer(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

static void end_group(struct fec *f, struct fec_acc *a)
{
	if (a->used && !a->done && fec_acc_lost(a) >= 2)
		sn__fec_count(f, FEC_UNRECOVERABLE, 1);
	a->used = false;
}

/* The slot of group g of peer p, taken from an older group if need be;
 * NULL when g is older than what the slot holds. */
static struct fec_acc *slot(struct fec *f, struct fec_peer *p, uint32_t g)
{
	struct fec_acc *a = &p->acc[g % f->rx_slots];

	if (a->used && a->group == g)
		return a;
	if (a->used && !newer(g, a->group))
		return NULL;
	end_group(f, a);
	fec_acc_reset(a, g);
	return a;
}

/* Rebuild a's missing datagram and hand it up, from the address its group
 * came from. */
static void rebuild(struct fec *f, struct fec_acc *a, const struct sn_addr *from)
{
	struct sn_pkt *q;
	uint32_t index, len;

	if (fec_acc_missing(a, &index, &len) != 0)
		return;
	a->done = true;
	q = f->api->pkt_alloc(f->host);
	if (!q) {
		f->api->count(f->host, SN_CTR_DROP_NO_BUFFER, 0, 1);
		return;
	}
	if (len > sn_pkt_room(q)) {
		f->api->count(f->host, SN_CTR_DROP_RX_ERROR, 0, 1);
		f->api->pkt_release(f->host, q);
		return;
	}
	memcpy(sn_pkt_data(q), a->buf, len);
	q->len = len;
	q->addr = *from;
	q->time_ns = 0;
	if (f->api->deliver(f->host, &q, 1) != 1) {
		f->api->count(f->host, SN_CTR_DROP_NO_BUFFER, 0, 1);
		f->api->pkt_release(f->host, q);
		return;
	}
	sn__fec_count(f, FEC_RECOVERED, 1);
}

/* Add frame h (its body b[0..len)) to its group. */
static void add(struct fec *f, const struct fec_hdr *h, const uint8_t *b, uint32_t len,
		const struct sn_addr *from)
{
	struct fec_peer *p = sn__fec_peer(f, &f->rx, source(from));
	struct fec_acc *a = p ? slot(f, p, h->group) : NULL;
	bool ok;

	if (!a) {
		sn__fec_count(f, FEC_UNPROTECTED, !(h->flags & FEC_F_PARITY));
		return;
	}
	if (a->done)
		return;
	ok = h->flags & FEC_F_PARITY ? fec_acc_add_parity(a, h->k, h->len_xor, b, len)
				     : fec_acc_add_data(a, h->index, b, len);
	if (!ok && !(h->flags & FEC_F_PARITY) && len > a->cap)
		sn__fec_count(f, FEC_UNPROTECTED, 1);
	if (ok)
		rebuild(f, a, from);
}

/* One frame: true when its datagram goes up (header gone), false when
 * it was consumed (a parity, a bad frame). */
static bool take_apart(struct fec *f, struct sn_pkt *pkt)
{
	struct fec_hdr h;
	uint8_t *d = sn_pkt_data(pkt);
	uint32_t body = pkt->len - (pkt->len < FEC_HDR_LEN ? pkt->len : FEC_HDR_LEN);

	if (fec_frame_parse(d, pkt->len, &h) < 0) {
		sn__fec_count(f, FEC_BAD_FRAMES, 1);
		f->api->count(f->host, SN_CTR_DROP_RX_ERROR, 0, 1);
		return false;
	}
	if (h.flags == FEC_F_PARITY) {
		add(f, &h, d + FEC_HDR_LEN, body, &pkt->addr);
		return false;
	}
	if (h.flags == 0)
		add(f, &h, d + FEC_HDR_LEN, body, &pkt->addr);
	sn_pkt_pull(pkt, FEC_HDR_LEN);
	return true;
}

uint32_t sn__fec_receive(struct fec *f, struct sn_pkt **pkts, uint32_t n)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < n; i++) {
		struct sn_pkt *p = pkts[i];

		if (!take_apart(f, p))
			continue;
		pkts[i] = pkts[k];
		pkts[k++] = p;
	}
	return k;
}
