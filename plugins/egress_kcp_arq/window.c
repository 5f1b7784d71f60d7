/* SPDX-License-Identifier: MIT */
/* plugins/egress_kcp_arq/window.c: send and receive windows, RTT (window.h). */
#include "window.h"

#include <string.h>

void kcp_snd_reset(struct kcp_snd *s, uint32_t first)
{
	for (uint32_t i = 0; i < s->w; i++)
		s->slot[i].used = 0;
	s->una = s->nxt = first;
	s->inflight = 0;
}

struct kcp_slot *kcp_snd_push(struct kcp_snd *s, const uint8_t *d, uint32_t len, uint64_t now)
{
	struct kcp_slot *sl;

	if (s->nxt - s->una >= s->w || len > s->stride)
		return NULL;
	sl = &s->slot[s->nxt % s->w];
	*sl = (struct kcp_slot){.seq = s->nxt++, .len = len, .first_ns = now, .last_ns = now,
				.xno = ++s->xno, .xmit = 1, .used = 1};
	memcpy(kcp_snd_buf(s, sl), d, len);
	s->inflight++;
	return sl;
}

struct kcp_slot *kcp_snd_find(struct kcp_snd *s, uint32_t seq)
{
	struct kcp_slot *sl;

	if (seq - s->una >= s->nxt - s->una)
		return NULL;
	sl = &s->slot[seq % s->w];
	return sl->used && sl->seq == seq ? sl : NULL;
}

uint8_t *kcp_snd_buf(const struct kcp_snd *s, const struct kcp_slot *sl)
{
	return s->buf + (size_t)(sl - s->slot) * s->stride;
}

void kcp_snd_resent(struct kcp_snd *s, struct kcp_slot *sl, uint64_t now)
{
	sl->last_ns = now;
	sl->xno = ++s->xno;
	sl->xmit++;
	sl->skip = 0;
}

void kcp_snd_free(struct kcp_snd *s, struct kcp_slot *sl)
{
	if (!sl->used)
		return;
	sl->used = 0;
	s->inflight--;
	while (s->una != s->nxt && !s->slot[s->una % s->w].used)
		s->una++;
}

void kcp_rcv_reset(struct kcp_rcv *r)
{
	memset(r, 0, sizeof(*r));
}

static uint64_t *word(struct kcp_rcv *r, uint32_t seq, uint64_t *bit)
{
	*bit = 1ull << (seq % 64);
	return &r->bits[(seq / 64) % (KCP_RWIN / 64)];
}

/* Move the top up to seq, forgetting what falls out of the window. */
static void advance(struct kcp_rcv *r, uint32_t seq)
{
	/* word numbers (seq / 64) wrap at 2^26, a multiple of the ring's 64 */
	uint32_t from = r->top / 64 + 1, to = seq / 64, words = ((to - from) & 0x3ffffffu) + 1;

	if (to != r->top / 64) {
		if (words > KCP_RWIN / 64)
			words = KCP_RWIN / 64;
		for (uint32_t i = 0; i < words; i++)
			r->bits[(from + i) % (KCP_RWIN / 64)] = 0;
	}
	r->top = seq;
}

int kcp_rcv_mark(struct kcp_rcv *r, uint32_t seq)
{
	int32_t d = (int32_t)(seq - r->top);
	uint64_t bit, *w;

	if (!r->any) {
		r->any = 1;
		r->top = seq;
		memset(r->bits, 0, sizeof(r->bits));
	} else if (d > 0) {
		advance(r, seq);
	} else if ((uint32_t)-d >= KCP_RWIN) {
		return KCP_RCV_OLD;
	}
	w = word(r, seq, &bit);
	if (*w & bit)
		return KCP_RCV_DUP;
	*w |= bit;
	return KCP_RCV_NEW;
}

void kcp_rtt_init(struct kcp_rtt *r, uint64_t initial_rto)
{
	*r = (struct kcp_rtt){.rto = initial_rto};
}

void kcp_rtt_sample(struct kcp_rtt *r, uint64_t sample, uint64_t g, uint64_t min, uint64_t max)
{
	uint64_t var;

	if (!r->samples++) {
		r->srtt = sample;
		r->rttvar = sample / 2;
	} else {
		uint64_t dev = r->srtt > sample ? r->srtt - sample : sample - r->srtt;

		r->rttvar = (3 * r->rttvar + dev) / 4;
		r->srtt = (7 * r->srtt + sample) / 8;
	}
	var = 4 * r->rttvar > g ? 4 * r->rttvar : g;
	r->rto = r->srtt + var;
	if (r->rto < min)
		r->rto = min;
	if (r->rto > max)
		r->rto = max;
}

void kcp_tick_start(struct kcp_tick *t, uint64_t now)
{
	*t = (struct kcp_tick){.last_ns = now};
}

bool kcp_tick_hold(struct kcp_tick *t, uint64_t now, uint64_t period, bool backlog)
{
	bool late = now - t->last_ns > 2 * period;

	t->last_ns = now;
	if ((late || backlog) && t->held < KCP_HOLD_MAX) {
		t->held++;
		return true;
	}
	t->held = 0;
	return false;
}

uint64_t kcp_rto_backoff(uint64_t rto, uint32_t xmit, uint64_t max)
{
	for (uint32_t i = 1; i < xmit && rto < max; i++)
		rto *= 2;
	return rto < max ? rto : max;
}

uint64_t kcp_deadline(const struct kcp_rtt *r, uint64_t opt)
{
	uint64_t d = 3 * (r->samples ? r->srtt : KCP_RTO_INITIAL);

	if (opt)
		return opt;
	if (d < 4 * r->rto)
		d = 4 * r->rto; /* the first sending and two resendings at the least */
	return d < KCP_DEADLINE_MIN ? KCP_DEADLINE_MIN : d > KCP_DEADLINE_MAX ? KCP_DEADLINE_MAX : d;
}
