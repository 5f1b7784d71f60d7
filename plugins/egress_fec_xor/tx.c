/* SPDX-License-Identifier: MIT */
/*
 * plugins/egress_fec_xor/tx.c: sending. Each datagram to a peer gets a data
 * frame and joins the peer's group whose turn it is (interleave: depth
 * groups open at once, filled in turn, so a burst of up to depth lost
 * datagrams costs each group one); a group that fills is followed by its
 * parity frame at once, one that is not full after flush_ms gets its parity
 * from the flush timer, so a quiet link waits for nothing. The frames go to
 * the egress below in one batch per CHUNK datagrams, with runs marked when
 * it takes them.
 */
#include <string.h>

#include "fec_xor.h"

static uint64_t flush_ns(const struct fec *f)
{
	return (uint64_t)f->opt.flush_ms * 1000000u;
}

static void arm(struct fec *f, uint64_t ms)
{
	if (!f->timer || f->timer_armed)
		return;
	if (f->api->timer_start(f->host, f->timer, ms ? ms : 1, 0) == 0)
		f->timer_armed = true;
}

/* A parity frame for a's group, to peer p; NULL (counted) when the pool is
 * empty. It starts as far in front as the egress below allows. */
static struct sn_pkt *parity(struct fec *f, const struct fec_peer *p, const struct fec_acc *a)
{
	struct sn_pkt *q = f->api->pkt_alloc(f->host);
	struct fec_hdr h = {FEC_F_PARITY, a->count, a->count, a->group, a->len_xor};

	if (!q) {
		f->api->count(f->host, SN_CTR_DROP_NO_BUFFER, (uint32_t)p->id, 1);
		return NULL;
	}
	q->off = f->low.headroom;
	q->len = FEC_HDR_LEN + a->len; /* as long as the longest data frame: their run goes on */
	if (q->len > sn_pkt_room(q)) {
		f->api->count(f->host, SN_CTR_DROP_TX_ERROR, (uint32_t)p->id, 1);
		f->api->pkt_release(f->host, q);
		return NULL;
	}
	fec_hdr_write(sn_pkt_data(q), &h);
	fec_acc_parity(a, sn_pkt_data(q) + FEC_HDR_LEN);
	q->addr = p->addr;
	q->peer_id = (uint32_t)p->id;
	q->flags = 0;
	return q;
}

/* Close a's group: its parity into out (when there is one), a anew. */
static void close_group(struct fec *f, struct fec_peer *p, struct fec_acc *a, uint32_t *m)
{
	struct sn_pkt *q = parity(f, p, a);

	if (q)
		f->out[(*m)++] = q;
	sn__fec_count(f, FEC_GROUPS, 1);
	fec_acc_reset(a, p->next_group++);
	a->k = (uint8_t)f->opt.k;
}

/* Hand out[0..m) to the egress below; what it does not take is ours to
 * count and release. */
static void push_down(struct fec *f, uint32_t m)
{
	uint8_t par[OUT_MAX];
	int took;

	if (!m)
		return;
	for (uint32_t i = 0; i < m; i++) /* the egress below may release them at once */
		par[i] = sn_pkt_data(f->out[i])[0] & FEC_F_PARITY;
	if (f->low.flags & SN_EGRESS_F_GSO)
		sn_egress_mark_runs(f->out, m);
	took = f->low.ops->send_batch(f->low.inst, f->out, m);
	if (took < 0)
		took = 0;
	for (uint32_t i = 0; i < (uint32_t)took; i++)
		sn__fec_count(f, FEC_PARITIES_SENT, par[i]);
	for (uint32_t i = (uint32_t)took; i < m; i++) {
		f->api->count(f->host, SN_CTR_DROP_TX_ERROR, f->out[i]->peer_id, 1);
		f->api->pkt_release(f->host, f->out[i]);
	}
}

/* Frame p (header pushed in front) and add it to its peer's group; a full
 * group's parity follows it into out. */
static void frame_one(struct fec *f, struct sn_pkt *pkt, uint32_t *m, uint64_t now)
{
	struct fec_peer *p = sn__fec_peer(f, &f->tx, pkt->peer_id);
	struct fec_hdr h = {FEC_F_PLAIN, 0, 0, 0, 0};
	struct fec_acc *a = NULL;
	uint32_t len = pkt->len;
	uint8_t *d;

	if (p && len <= f->low.datagram_max) {
		a = &p->acc[p->turn];
		h = (struct fec_hdr){0, a->k, a->count, a->group, 0};
	} else {
		sn__fec_count(f, FEC_UNPROTECTED, 1);
	}
	pkt->flags &= ~SN_PKT_F_RUN;
	if (!(d = sn_pkt_push(pkt, FEC_HDR_LEN))) {
		f->api->count(f->host, SN_CTR_DROP_TX_ERROR, pkt->peer_id, 1);
		f->api->pkt_release(f->host, pkt);
		return;
	}
	fec_hdr_write(d, &h);
	f->out[(*m)++] = pkt;
	if (!a)
		return;
	p->addr = pkt->addr;
	if (!a->count++) {
		a->open_ns = now;
		arm(f, f->opt.flush_ms);
	}
	fec_acc_add(a, d + FEC_HDR_LEN, len);
	p->turn = (p->turn + 1) % f->opt.depth;
	if (a->count == a->k)
		close_group(f, p, a, m);
}

int sn__fec_send(struct fec *f, struct sn_pkt *const *pkts, uint32_t n)
{
	uint64_t now = f->api->now_ns(f->host);
	uint32_t done = 0, m, c;

	while (done < n) {
		c = n - done < CHUNK ? n - done : CHUNK;
		m = 0;
		for (uint32_t i = 0; i < c; i++)
			frame_one(f, pkts[done + i], &m, now);
		push_down(f, m);
		done += c;
	}
	return (int)n;
}

void sn__fec_flush(struct fec *f, bool force)
{
	uint64_t now = f->api->now_ns(f->host), wait = 0, age;
	uint32_t m = 0;

	for (uint32_t i = 0; i < f->tx.used; i++) {
		struct fec_peer *p = &f->tx.peer[i];

		for (uint32_t j = 0; j < f->opt.depth; j++) {
			struct fec_acc *a = &p->acc[j];

			if (!a->count)
				continue;
			age = now - a->open_ns;
			if (force || age + 100000u >= flush_ns(f)) {
				sn__fec_count(f, FEC_FLUSHED, 1);
				close_group(f, p, a, &m);
			} else if (!wait || flush_ns(f) - age < wait) {
				wait = flush_ns(f) - age;
			}
			if (m + 1 >= OUT_MAX) {
				push_down(f, m);
				m = 0;
			}
		}
	}
	push_down(f, m);
	if (wait)
		arm(f, (wait + 999999u) / 1000000u);
}

void sn__fec_on_timer(void *arg)
{
	struct fec *f = arg;

	f->timer_armed = false;
	sn__fec_flush(f, false);
}
