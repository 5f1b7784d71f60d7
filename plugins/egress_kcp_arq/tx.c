/* SPDX-License-Identifier: MIT */
/*
 * plugins/egress_kcp_arq/tx.c: sending. Each datagram to a peer is kept in
 * the peer's send window (a copy in memory allocated at attach) and leaves
 * as a data frame with the next sequence number; the acknowledgements
 * waiting for that peer ride on the first one of a batch when they fit in
 * KCP_RANGES_PIGGY ranges, else they go ahead of it as ack frames. With
 * the window full, or no room in the peer table, a datagram leaves as a
 * plain frame (counted): nothing blocks. One periodic host timer (period
 * ack_delay, running while anything is in flight or waiting) sends the
 * acknowledgements no datagram carried, resends what timed out (RFC 6298
 * timeouts, doubled per resending) and gives up what is past the
 * deadline, except in a tick that runs late or follows a read that filled
 * its batch (kcp_tick_hold: acknowledgements may be waiting unread).
 * Resendings are copies of the kept bytes in packets of the pool.
 */
#include <string.h>

#include "kcp_arq.h"

#define MS 1000000ull

void sn__kcp_arm(struct kcp *f)
{
	uint64_t ms = f->opt.ack_delay / MS;

	if (!f->timer || f->timer_armed)
		return;
	if (f->api->timer_start(f->host, f->timer, ms ? ms : 1, ms ? ms : 1) == 0) {
		f->timer_armed = true;
		kcp_tick_start(&f->tick, f->api->now_ns(f->host));
	}
}

void sn__kcp_push(struct kcp *f)
{
	uint32_t m = f->n_out;
	int took;

	if (!m)
		return;
	f->n_out = 0;
	if (f->low.flags & SN_EGRESS_F_GSO)
		sn_egress_mark_runs(f->out, m);
	took = f->low.ops->send_batch(f->low.inst, f->out, m);
	if (took < 0)
		took = 0;
	for (uint32_t i = (uint32_t)took; i < m; i++) {
		f->api->count(f->host, SN_CTR_DROP_TX_ERROR, f->out[i]->peer_id, 1);
		f->api->pkt_release(f->host, f->out[i]);
	}
}

void sn__kcp_out(struct kcp *f, struct sn_pkt *q)
{
	f->out[f->n_out++] = q;
	if (f->n_out == OUT_MAX)
		sn__kcp_push(f);
}

/* Header h (and block a) in front of pkt's data; false without room. */
static bool frame(struct sn_pkt *pkt, const struct kcp_hdr *h, const struct kcp_ack *a)
{
	uint8_t *d = sn_pkt_push(pkt, KCP_HDR_LEN + (a ? KCP_ACK_LEN(a->n) : 0));

	if (!d)
		return false;
	kcp_hdr_write(d, h);
	if (a)
		kcp_ack_write(d + KCP_HDR_LEN, a);
	return true;
}

static void address(struct sn_pkt *q, const struct kcp_peer *p)
{
	q->addr = p->addr;
	q->local = p->local;
	q->peer_id = p->peer_id;
	q->flags = 0;
}

void sn__kcp_ack_flush(struct kcp *f, struct kcp_peer *p)
{
	uint32_t n = kcp_seq_sort(p->ackq, p->n_ack), done = 0;
	struct kcp_hdr h = {KCP_T_ACK, KCP_F_ACK, p->session, 0};
	struct kcp_ack a;

	while (done < n) {
		struct sn_pkt *q = f->api->pkt_alloc(f->host);
		uint8_t *d;

		if (!q) {
			f->api->count(f->host, SN_CTR_DROP_NO_BUFFER, p->peer_id, 1);
			break;
		}
		done += kcp_ack_build(p->ackq + done, n - done, KCP_RANGES_MAX, &a);
		a.session = p->rx_session;
		d = sn_pkt_data(q);
		kcp_hdr_write(d, &h);
		q->len = KCP_HDR_LEN + kcp_ack_write(d + KCP_HDR_LEN, &a);
		address(q, p);
		sn__kcp_count(f, KCP_ACKS_SENT, 1);
		sn__kcp_out(f, q);
	}
	p->n_ack = 0;
}

void sn__kcp_ack_queue(struct kcp *f, struct kcp_peer *p, uint32_t seq)
{
	if (p->n_ack == ACKQ)
		sn__kcp_ack_flush(f, p);
	p->ackq[p->n_ack++] = seq;
	sn__kcp_arm(f);
}

/* p's waiting acknowledgements in a for a datagram to carry, when they fit;
 * else they go as ack frames. true when a holds them. */
static bool piggy(struct kcp *f, struct kcp_peer *p, struct kcp_ack *a)
{
	if (!p->n_ack)
		return false;
	p->n_ack = kcp_seq_sort(p->ackq, p->n_ack);
	if (kcp_ack_build(p->ackq, p->n_ack, KCP_RANGES_PIGGY, a) < p->n_ack) {
		sn__kcp_ack_flush(f, p);
		return false;
	}
	a->session = p->rx_session;
	p->n_ack = 0;
	sn__kcp_count(f, KCP_ACKS_SENT, 1);
	sn__kcp_count(f, KCP_PIGGYBACKED, 1);
	return true;
}

/* Keep pkt in p's window when there is room: its header then. */
static void keep(struct kcp *f, struct kcp_peer *p, struct sn_pkt *pkt, struct kcp_hdr *h,
		 uint64_t now)
{
	struct kcp_slot *sl = kcp_snd_push(&p->snd, sn_pkt_data(pkt), pkt->len, now);

	p->last_ns = now;
	p->peer_id = pkt->peer_id;
	p->local = pkt->local;
	if (!sl) {
		sn__kcp_count(f, pkt->len > p->snd.stride ? KCP_UNPROTECTED : KCP_WINDOW_FULL, 1);
		return;
	}
	h->type = KCP_T_DATA;
	h->seq = sl->seq;
	sn__kcp_count(f, KCP_SENT, 1);
	sn__kcp_arm(f);
}

static void send_one(struct kcp *f, struct sn_pkt *pkt, uint64_t now)
{
	struct kcp_peer *p = sn__kcp_peer(f, &pkt->addr, true, now);
	struct kcp_hdr h = {KCP_T_PLAIN, 0, p ? p->session : 1, 0};
	struct kcp_ack a;
	bool ack = false;

	pkt->flags &= ~SN_PKT_F_RUN;
	if (p) {
		keep(f, p, pkt, &h, now);
		ack = piggy(f, p, &a);
	} else {
		sn__kcp_count(f, KCP_UNPROTECTED, 1);
	}
	h.flags = ack ? KCP_F_ACK : 0;
	if (!frame(pkt, &h, ack ? &a : NULL)) { /* kept: the timer resends it */
		f->api->count(f->host, SN_CTR_DROP_TX_ERROR, pkt->peer_id, 1);
		f->api->pkt_release(f->host, pkt);
		return;
	}
	sn__kcp_out(f, pkt);
}

int sn__kcp_send(struct kcp *f, struct sn_pkt *const *pkts, uint32_t n)
{
	uint64_t now = f->api->now_ns(f->host);

	for (uint32_t i = 0; i < n; i++)
		send_one(f, pkts[i], now);
	sn__kcp_push(f);
	return (int)n;
}

void sn__kcp_resend(struct kcp *f, struct kcp_peer *p, struct kcp_slot *sl, uint64_t now, bool fast)
{
	struct kcp_hdr h = {KCP_T_DATA, 0, p->session, sl->seq};
	struct sn_pkt *q = f->api->pkt_alloc(f->host);

	if (!q) { /* tried again at the next tick */
		f->api->count(f->host, SN_CTR_DROP_NO_BUFFER, p->peer_id, 1);
		return;
	}
	if (sl->len > sn_pkt_room(q)) {
		f->api->count(f->host, SN_CTR_DROP_TX_ERROR, p->peer_id, 1);
		f->api->pkt_release(f->host, q);
		return;
	}
	memcpy(sn_pkt_data(q), kcp_snd_buf(&p->snd, sl), sl->len);
	q->len = sl->len;
	frame(q, &h, NULL); /* the stack's headroom holds ours */
	address(q, p);
	kcp_snd_resent(&p->snd, sl, now);
	sn__kcp_count(f, fast ? KCP_FAST_RETRANSMITS : KCP_RETRANSMITS, 1);
	sn__kcp_out(f, q);
}

/* Give up what is past the deadline, resend what timed out. */
static void tick_peer(struct kcp *f, struct kcp_peer *p, uint64_t now)
{
	uint64_t deadline = kcp_deadline(&p->rtt, f->opt.deadline);

	for (uint32_t seq = p->snd.una, end = p->snd.nxt; seq != end; seq++) {
		struct kcp_slot *sl = kcp_snd_find(&p->snd, seq);

		if (!sl)
			continue;
		if (now - sl->first_ns >= deadline) {
			kcp_snd_free(&p->snd, sl);
			sn__kcp_count(f, KCP_GIVEN_UP, 1);
		} else if (now - sl->last_ns >= kcp_rto_backoff(p->rtt.rto, sl->xmit, f->opt.rto_max)) {
			sn__kcp_resend(f, p, sl, now, false);
		}
	}
}

void sn__kcp_on_timer(void *arg)
{
	struct kcp *f = arg;
	uint64_t now = f->api->now_ns(f->host);
	bool busy = false, hold = kcp_tick_hold(&f->tick, now, f->opt.ack_delay, f->backlog);

	for (uint32_t i = 0; i < f->used; i++) {
		struct kcp_peer *p = &f->peer[i];

		if (p->n_ack)
			sn__kcp_ack_flush(f, p);
		if (p->snd.inflight && !hold)
			tick_peer(f, p, now);
		busy |= p->snd.inflight > 0 || p->n_ack > 0;
	}
	sn__kcp_push(f);
	if (!busy) {
		f->api->timer_stop(f->host, f->timer);
		f->timer_armed = false;
	}
}
