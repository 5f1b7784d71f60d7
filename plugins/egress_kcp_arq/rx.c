/* SPDX-License-Identifier: MIT */
/*
 * plugins/egress_kcp_arq/rx.c: receiving. Each frame is taken apart in its
 * packet. A data frame goes up at once as the sealed datagram it carries,
 * whatever came before it (an L3 tunnel needs no ordering: no head-of-line
 * blocking), unless the receive window saw its sequence number before (a
 * duplicate: dropped here, counted); each one, duplicates included, is
 * acknowledged. An acknowledgement block, alone or carried by a datagram,
 * frees what it names from the send window (a round-trip sample from those
 * sent once: Karn), and the datagrams sent before the newest one it names
 * count one more skip each: fast_resend skips resend them. A plain frame
 * just goes up. Peers are kept by source address (docs/kcp_arq.md); frames
 * are not authenticated: a forged one can hold back or spoil the ARQ's
 * bookkeeping, and a datagram it makes go up fails the tag check like any
 * forged datagram (docs/protocol.md, "Receiving").
 */
#include <string.h>

#include "kcp_arq.h"


static void sample(struct kcp *f, struct kcp_peer *p, uint64_t rtt)
{
	kcp_rtt_sample(&p->rtt, rtt, f->opt.ack_delay, f->opt.rto_min, f->opt.rto_max);
	sn__kcp_count(f, KCP_RTT_SAMPLES, 1);
	sn__kcp_count(f, KCP_RTT_US_SUM, rtt / 1000u);
}

/* Free what range r names of the window (clipped to it: una0 .. + span);
 * the newest transmission number freed into *max_xno. */
static void ack_range(struct kcp *f, struct kcp_peer *p, const struct kcp_range *r, uint32_t una0,
		      uint32_t span, uint64_t now, uint64_t *max_xno)
{
	int64_t lo = (int32_t)(r->first - una0), hi = lo + r->count;

	if (lo < 0)
		lo = 0;
	if (hi > span)
		hi = span;
	for (int64_t i = lo; i < hi; i++) {
		struct kcp_slot *sl = kcp_snd_find(&p->snd, una0 + (uint32_t)i);

		if (!sl)
			continue;
		/* a resent one's acknowledgement may be of its first sending: it
		 * gives no sample (Karn) and shows no datagram sent after it */
		if (sl->xmit == 1) {
			sample(f, p, now - sl->first_ns);
			if (sl->xno > *max_xno)
				*max_xno = sl->xno;
		}
		kcp_snd_free(&p->snd, sl);
	}
}

/* Datagrams sent before the newest acknowledged one: one more skip each. */
static void skips(struct kcp *f, struct kcp_peer *p, uint64_t max_xno, uint64_t now)
{
	uint64_t deadline = kcp_deadline(&p->rtt, f->opt.deadline);

	for (uint32_t seq = p->snd.una, end = p->snd.nxt; seq != end; seq++) {
		struct kcp_slot *sl = kcp_snd_find(&p->snd, seq);

		if (!sl || sl->xno >= max_xno || now - sl->first_ns >= deadline)
			continue;
		if (++sl->skip >= f->opt.fast_resend)
			sn__kcp_resend(f, p, sl, now, true);
	}
}

static void on_ack(struct kcp *f, struct kcp_peer *p, const struct kcp_ack *a, uint64_t now)
{
	uint32_t una0 = p->snd.una, span = p->snd.nxt - una0;
	uint64_t max_xno = 0;

	if (a->session != p->session)
		return; /* for what we sent before we started over */
	sn__kcp_count(f, KCP_ACKS_RECEIVED, 1);
	for (uint32_t i = 0; i < a->n; i++)
		ack_range(f, p, &a->r[i], una0, span, now, &max_xno);
	if (max_xno && f->opt.fast_resend)
		skips(f, p, max_xno, now);
}

/* A data frame from p: true when it goes up (seen for the first time). */
static bool accept(struct kcp *f, struct kcp_peer *p, const struct kcp_hdr *h)
{
	int r;

	if (h->session != p->rx_session) { /* the peer started over */
		kcp_rcv_reset(&p->rcv);
		p->n_ack = 0;
		p->rx_session = h->session;
	}
	r = kcp_rcv_mark(&p->rcv, h->seq);
	if (r != KCP_RCV_OLD)
		sn__kcp_ack_queue(f, p, h->seq);
	if (r == KCP_RCV_NEW)
		return true;
	sn__kcp_count(f, KCP_DUPLICATES, 1);
	return false;
}

/* One frame: true when its datagram goes up (header gone), false when it
 * was consumed (an ack frame, a duplicate, a bad frame). */
static bool take_apart(struct kcp *f, struct sn_pkt *pkt, uint64_t now)
{
	struct kcp_peer *p;
	struct kcp_hdr h;
	struct kcp_ack a;
	uint32_t body;

	if (kcp_frame_parse(sn_pkt_data(pkt), pkt->len, &h, &a, &body) < 0) {
		sn__kcp_count(f, KCP_BAD_FRAMES, 1);
		f->api->count(f->host, SN_CTR_DROP_RX_ERROR, 0, 1);
		return false;
	}
	p = sn__kcp_peer(f, &pkt->addr, h.type == KCP_T_DATA, now);
	if (p) {
		p->last_ns = now;
		if (pkt->local.family != SN_AF_NONE)
			p->local = pkt->local;
		if (h.flags & KCP_F_ACK)
			on_ack(f, p, &a, now);
	}
	if (h.type == KCP_T_ACK)
		return false;
	if (h.type == KCP_T_DATA && p && !accept(f, p, &h))
		return false;
	sn_pkt_pull(pkt, body);
	return true;
}

uint32_t sn__kcp_receive(struct kcp *f, struct sn_pkt **pkts, uint32_t n)
{
	uint64_t now = f->api->now_ns(f->host);
	uint32_t k = 0;

	for (uint32_t i = 0; i < n; i++) {
		struct sn_pkt *p = pkts[i];

		if (!take_apart(f, p, now))
			continue;
		pkts[i] = pkts[k];
		pkts[k++] = p;
	}
	sn__kcp_push(f);
	return k;
}
