/* SPDX-License-Identifier: MIT */
/*
 * tests/test_kcp_arq.c: kcp_arq's framing and arithmetic (plugins/
 * egress_kcp_arq/frame.c, window.c: frames against the format's rules,
 * acknowledgement blocks across the sequence wrap, the send window and
 * its wrap, the receive window, RFC 6298 timeouts, backoff, the deadline,
 * the ticks that hold their timeouts),
 * and the layer itself between two nodes, each on the SDK's mock host
 * (sdk/mock) over "wire", an egress built into this test that carries the
 * frames to the other node after a delay and loses the ones a test picks:
 * no loss, no head-of-line blocking (a later datagram goes up before the
 * lost one is resent), fast retransmit, timeouts doubled, timeouts held
 * after a stall of the loop, no skips from acknowledgements of resent
 * datagrams, the deadline,
 * duplicates, a full window, acknowledgements piggybacked, a sender that
 * starts over, random loss both ways, options and reloads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "kcp_arq.h"
#include "mock_host.h"
#include "window.h"

#define MS 1000000ull
#define POOL 2048u
#define DMAX 1500u
#define QMAX 4096u
#define SENT_MAX 4096u

/* ---- framing ---------------------------------------------------------- */

static const struct {
	uint8_t b[40];
	uint32_t len;
	int rc;
} frames[] = {
	{{0x10, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 5, 0xaa}, 13, 0},    /* data seq 5 */
	{{0x10, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 5}, 12, -EINVAL},    /* data without a datagram */
	{{0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0xaa}, 13, -EINVAL}, /* session 0 */
	{{0x12, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0xaa}, 13, 0},    /* plain */
	{{0x12, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 1, 0xaa}, 13, -EINVAL}, /* plain with a seq */
	{{0x11, 1, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 7, 1, 0, 0, 0, 0, 2}, 26, 0},
	/* ack frame: session 3 acked, seqs 7..9 */
	{{0x11, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0}, 12, -EINVAL},    /* ack frame without a block */
	{{0x11, 1, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 7, 1, 0, 0, 0, 0, 2, 0xaa},
	 27, -EINVAL},                                             /* ack frame with a body */
	{{0x11, 1, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 7, 2, 0, 0, 0, 0, 2, 0, 3, 0, 0},
	 30, -EINVAL},                                             /* second range adjacent to the first */
	{{0x11, 1, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 7, 2, 0, 0, 0, 0, 2, 0, 4, 0, 0},
	 30, 0},                                                   /* 7..9 and 11 */
	{{0x11, 1, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 7, 1, 0, 0, 1, 0, 0}, 26,
	 -EINVAL},                                                 /* first offset not 0 */
	{{0x11, 1, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 7, 2, 0, 0, 0, 0, 2, 0xff, 0xff, 0, 1},
	 30, -EINVAL},                                             /* a range past base + 65535 */
	{{0x11, 1, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 7, 0, 0}, 22, -EINVAL}, /* n 0 */
	{{0x11, 1, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 1, 0, 0, 0, 0, 2}, 26,
	 -EINVAL},                                                 /* session acked 0 */
	{{0x10, 1, 0, 0, 0, 0, 0, 9, 0, 0, 0, 5, 0, 0, 0, 3, 0, 0, 0, 7, 1, 0, 0, 0, 0, 0, 0xaa}, 27, 0},
	/* data carrying an ack of 7 */
	{{0x10, 2, 0, 0, 0, 0, 0, 9, 0, 0, 0, 5, 0xaa}, 13, -EINVAL}, /* unknown flag */
	{{0x13, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0xaa}, 13, -EINVAL}, /* unknown type */
	{{0x20, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 5, 0xaa}, 13, -EINVAL}, /* version 2 */
	{{0x10, 0, 1, 0, 0, 0, 0, 9, 0, 0, 0, 5, 0xaa}, 13, -EINVAL}, /* reserved byte */
	{{0x10, 0, 0}, 3, -EINVAL},                                   /* short */
};

static void test_kcp_frame_parse(void **state)
{
	struct kcp_hdr h;
	struct kcp_ack a;
	uint8_t out[40];
	uint32_t body;

	for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
		int rc = kcp_frame_parse(frames[i].b, frames[i].len, &h, &a, &body);

		if (rc != frames[i].rc)
			fail_msg("frame %zu: rc %d, want %d", i, rc, frames[i].rc);
		if (rc)
			continue;
		kcp_hdr_write(out, &h);
		if (h.flags & KCP_F_ACK)
			assert_int_equal(kcp_ack_write(out + KCP_HDR_LEN, &a) + KCP_HDR_LEN, body);
		assert_memory_equal(out, frames[i].b, body);
	}
	assert_int_equal(kcp_frame_parse(frames[9].b, frames[9].len, &h, &a, &body), 0);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.r[0].first, 7);
	assert_int_equal(a.r[0].count, 3);
	assert_int_equal(a.r[1].first, 11);
	assert_int_equal(a.r[1].count, 1);
	assert_int_equal(KCP_HEADROOM, 38);
}

/* Blocks across the wrap of the sequence numbers; ranges limited; a seq
 * past base + 65535 starts the next block. */
static void test_kcp_ack_build(void **state)
{
	uint32_t s[] = {1, 0xffffffffu, 5, 0xfffffffeu, 0, 1, 6, 70000, 9};
	struct kcp_ack a, b;
	uint8_t buf[KCP_ACK_LEN(KCP_RANGES_MAX)];
	uint32_t n = kcp_seq_sort(s, 9), used, body;
	struct kcp_hdr h;

	assert_int_equal(n, 8);
	assert_int_equal(s[0], 0xfffffffeu);
	assert_int_equal(s[7], 70000);
	used = kcp_ack_build(s, n, KCP_RANGES_MAX, &a);
	assert_int_equal(used, 7); /* 70000 is past 0xfffffffe + 65535 */
	assert_int_equal(a.n, 3);
	assert_int_equal(a.r[0].first, 0xfffffffeu);
	assert_int_equal(a.r[0].count, 4); /* fffffffe, ffffffff, 0, 1 */
	assert_int_equal(a.r[1].first, 5);
	assert_int_equal(a.r[1].count, 2);
	assert_int_equal(a.r[2].first, 9);
	assert_int_equal(kcp_ack_build(s, n, 2, &b), 6);
	assert_int_equal(kcp_ack_build(s + 7, 1, 4, &b), 1);
	assert_int_equal(b.r[0].first, 70000);
	/* written and parsed back, in an ack frame */
	a.session = 77;
	h = (struct kcp_hdr){KCP_T_ACK, KCP_F_ACK, 5, 0};
	kcp_hdr_write(buf, &h);
	assert_int_equal(kcp_ack_write(buf + KCP_HDR_LEN, &a), KCP_ACK_LEN(3));
	assert_int_equal(kcp_frame_parse(buf, KCP_HDR_LEN + KCP_ACK_LEN(3), &h, &b, &body), 0);
	assert_int_equal(b.session, 77);
	assert_int_equal(b.n, 3);
	assert_memory_equal(b.r, a.r, 3 * sizeof(a.r[0]));
}

/* ---- windows and timers ------------------------------------------------ */

static struct kcp_slot slots[64];
static uint8_t slot_buf[64 * 16];

/* The send window across the wrap: full at w, freed out of order, una
 * held by the oldest in flight. */
static void test_kcp_window_wrap(void **state)
{
	struct kcp_snd s = {.w = 64, .stride = 16, .slot = slots, .buf = slot_buf};
	struct kcp_slot *sl;
	uint8_t d[16] = {1, 2, 3};

	kcp_snd_reset(&s, 0xffffffe0u);
	for (uint32_t i = 0; i < 64; i++)
		assert_non_null(kcp_snd_push(&s, d, 3, i));
	assert_null(kcp_snd_push(&s, d, 3, 99)); /* full */
	assert_int_equal(s.nxt, 0x20);
	assert_null(kcp_snd_push(&s, d, 17, 99) ? (void *)1 : NULL);
	sl = kcp_snd_find(&s, 0xffffffe1u);
	assert_non_null(sl);
	assert_memory_equal(kcp_snd_buf(&s, sl), d, 3);
	kcp_snd_free(&s, sl);
	assert_int_equal(s.una, 0xffffffe0u); /* the oldest is still out */
	assert_null(kcp_snd_push(&s, d, 3, 99));
	kcp_snd_free(&s, kcp_snd_find(&s, 0xffffffe0u));
	assert_int_equal(s.una, 0xffffffe2u);
	assert_non_null(kcp_snd_push(&s, d, 3, 99));
	assert_non_null(kcp_snd_push(&s, d, 3, 99));
	assert_null(kcp_snd_push(&s, d, 3, 99));
	assert_null(kcp_snd_find(&s, 0xffffffe0u)); /* acknowledged: gone */
	assert_null(kcp_snd_find(&s, 0x22));        /* not sent yet */
	for (uint32_t q = 0xffffffe2u; q != 0x22; q++)
		kcp_snd_free(&s, kcp_snd_find(&s, q));
	assert_int_equal(s.inflight, 0);
	assert_int_equal(s.una, 0x22);
	sl = kcp_snd_push(&s, d, 3, 5);
	kcp_snd_resent(&s, sl, 9);
	assert_int_equal(sl->xmit, 2);
	assert_int_equal(sl->last_ns, 9);
	assert_int_equal(sl->first_ns, 5);
}

/* The receive window, table-driven: each step a seq and what it is. */
static void test_kcp_receive_window(void **state)
{
	static const struct {
		uint32_t seq;
		int want;
	} steps[] = {
		{100, KCP_RCV_NEW}, {100, KCP_RCV_DUP}, {99, KCP_RCV_NEW}, {103, KCP_RCV_NEW},
		{101, KCP_RCV_NEW}, {101, KCP_RCV_DUP}, {99, KCP_RCV_DUP},
		{100 + KCP_RWIN, KCP_RCV_NEW}, /* 99 .. 103 fall out of the window, 100 is the limit */
		{101, KCP_RCV_NEW}, {100, KCP_RCV_OLD}, {99, KCP_RCV_OLD},
		{0xfffffff0u, KCP_RCV_OLD},   /* far behind */
		{90000, KCP_RCV_NEW},         /* a jump: everything before forgotten */
		{90000 - KCP_RWIN + 1, KCP_RCV_NEW}, {90000 - KCP_RWIN + 1, KCP_RCV_DUP},
	};
	struct kcp_rcv r;

	kcp_rcv_reset(&r);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (kcp_rcv_mark(&r, steps[i].seq) != steps[i].want)
			fail_msg("step %zu: seq %u not %d", i, steps[i].seq, steps[i].want);
	/* across the wrap */
	kcp_rcv_reset(&r);
	for (uint32_t s = 0xffffff00u; s != 0x100; s += 2)
		assert_int_equal(kcp_rcv_mark(&r, s), KCP_RCV_NEW);
	for (uint32_t s = 0xffffff00u; s != 0x100; s += 2)
		assert_int_equal(kcp_rcv_mark(&r, s), KCP_RCV_DUP);
	for (uint32_t s = 0xffffff01u; s != 0x101; s += 2)
		assert_int_equal(kcp_rcv_mark(&r, s), KCP_RCV_NEW);
}

/* RFC 6298 (section 2): the first sample sets srtt = R, rttvar = R/2; later
 * ones rttvar = 3/4 rttvar + 1/4 |srtt - R'|, srtt = 7/8 srtt + 1/8 R';
 * rto = srtt + max(G, 4 rttvar) within min..max; backoff doubles; the
 * automatic deadline is 3 srtt or 4 rto, the larger, within 50 ms..1 s. */
static void test_kcp_rtt(void **state)
{
	struct kcp_rtt r;

	kcp_rtt_init(&r, KCP_RTO_INITIAL);
	assert_int_equal(r.rto, 100 * MS);
	assert_int_equal(kcp_deadline(&r, 0), 400 * MS); /* 4 rto: 3 sendings */
	kcp_rtt_sample(&r, 40 * MS, 2 * MS, 10 * MS, 1000 * MS);
	assert_int_equal(r.srtt, 40 * MS);
	assert_int_equal(r.rttvar, 20 * MS);
	assert_int_equal(r.rto, 120 * MS);
	kcp_rtt_sample(&r, 24 * MS, 2 * MS, 10 * MS, 1000 * MS);
	assert_int_equal(r.rttvar, 19 * MS); /* (3 * 20 + 16) / 4 */
	assert_int_equal(r.srtt, 38 * MS);   /* (7 * 40 + 24) / 8 */
	assert_int_equal(r.rto, 38 * MS + 76 * MS);
	assert_int_equal(kcp_deadline(&r, 0), 4 * 114 * MS);
	assert_int_equal(kcp_deadline(&r, 7 * MS), 7 * MS);
	for (int i = 0; i < 50; i++)
		kcp_rtt_sample(&r, 1 * MS, 2 * MS, 10 * MS, 1000 * MS);
	assert_int_equal(r.rto, 10 * MS); /* rto_min */
	assert_int_equal(kcp_deadline(&r, 0), 50 * MS); /* not 40 */
	r.rto = 30 * MS;
	assert_int_equal(kcp_deadline(&r, 0), 120 * MS); /* not 3 srtt, 3 ms */
	r.rto = 10 * MS;
	kcp_rtt_sample(&r, 5000 * MS, 2 * MS, 10 * MS, 1000 * MS);
	assert_int_equal(r.rto, 1000 * MS); /* rto_max */
	assert_int_equal(r.samples, 53);
	assert_int_equal(kcp_rto_backoff(30 * MS, 1, 1000 * MS), 30 * MS);
	assert_int_equal(kcp_rto_backoff(30 * MS, 3, 1000 * MS), 120 * MS);
	assert_int_equal(kcp_rto_backoff(30 * MS, 9, 1000 * MS), 1000 * MS);
	r.srtt = 2000 * MS;
	assert_int_equal(kcp_deadline(&r, 0), 1000 * MS);
}

/* The timer's tick holds its timeouts when it runs late (more than 2
 * periods after the one before) or the last read filled its batch, at most
 * KCP_HOLD_MAX ticks in a row; on time and drained it holds nothing. */
static void test_kcp_tick_hold(void **state)
{
	struct kcp_tick t;
	uint64_t now = 1000 * MS;

	kcp_tick_start(&t, now);
	assert_false(kcp_tick_hold(&t, now += 2 * MS, 2 * MS, false));
	assert_false(kcp_tick_hold(&t, now += 4 * MS, 2 * MS, false)); /* 2 periods: on time */
	assert_true(kcp_tick_hold(&t, now += 4 * MS + 1, 2 * MS, false)); /* late */
	assert_false(kcp_tick_hold(&t, now += 2 * MS, 2 * MS, false));
	assert_true(kcp_tick_hold(&t, now += 2 * MS, 2 * MS, true)); /* backlog */
	assert_false(kcp_tick_hold(&t, now += 2 * MS, 2 * MS, false));
	for (uint32_t i = 0; i < KCP_HOLD_MAX; i++) /* late and behind, again and again */
		assert_true(kcp_tick_hold(&t, now += 50 * MS, 2 * MS, true));
	assert_false(kcp_tick_hold(&t, now += 50 * MS, 2 * MS, true)); /* it resends at last */
	assert_true(kcp_tick_hold(&t, now += 50 * MS, 2 * MS, true));
	kcp_tick_start(&t, now += 500 * MS); /* the timer starts again: not late */
	assert_false(kcp_tick_hold(&t, now += 2 * MS, 2 * MS, false));
}

/* ---- two nodes over "wire" --------------------------------------------- */

struct node;

/* A frame in flight: its bytes, when it arrives. */
struct wframe {
	uint8_t b[DMAX];
	uint32_t len;
	uint64_t due;
};

struct wire {
	struct node *self;
};

struct node {
	struct sn_host *h;
	const struct sn_plugin_desc *d;
	const struct sn_egress_ops *ops;
	struct kcp *k;
	struct wire w;
	struct sn_addr addr;
	struct node *other;
	struct wframe *q; /* frames to the other node */
	uint32_t head, nq;
	uint32_t nth;     /* data frames sent so far (the drop rules count them) */
	uint32_t up[SENT_MAX]; /* indexes of the datagrams that came up, in order */
	uint32_t n_up;
	uint32_t sent;    /* datagrams the test sent from here */
};

static uint64_t g_delay = 5 * MS;                 /* one way */
static bool (*g_drop)(struct node *from, const struct kcp_hdr *h, uint32_t nth);
static uint32_t g_rand = 12345;
static uint32_t g_loss_pct;

static int wire_open(void *inst, const struct sn_egress_open *a)
{
	return 0;
}

static int wire_fd(void *inst)
{
	return 42;
}

static int wire_local(void *inst, struct sn_addr *out)
{
	*out = ((struct wire *)inst)->self->addr;
	return 0;
}

static uint64_t now_of(struct node *n)
{
	return sn_mock_api()->now_ns(n->h);
}

static int wire_send(void *inst, struct sn_pkt *const *pkts, uint32_t n)
{
	struct node *me = ((struct wire *)inst)->self;

	for (uint32_t i = 0; i < n; i++) {
		struct sn_pkt *p = pkts[i];
		struct wframe *w = &me->q[me->nq % QMAX];
		struct kcp_hdr h;
		struct kcp_ack a;
		uint32_t body;

		assert_true(me->nq - me->head < QMAX);
		assert_int_equal(kcp_frame_parse(sn_pkt_data(p), p->len, &h, &a, &body), 0);
		assert_true(sn_egress_same_addr(&p->addr, &me->other->addr));
		if (h.type == KCP_T_DATA)
			me->nth++;
		if (!(g_drop && g_drop(me, &h, me->nth))) {
			memcpy(w->b, sn_pkt_data(p), p->len);
			w->len = p->len;
			w->due = now_of(me) + g_delay;
			me->nq++;
		}
		sn_mock_api()->pkt_release(me->h, p);
	}
	return (int)n;
}

/* What arrived by now at the node whose wire this is, from the other. */
static int wire_recv(void *inst, struct sn_pkt **pkts, uint32_t n)
{
	struct node *me = ((struct wire *)inst)->self, *o = me->other;
	uint32_t k = 0;

	while (k < n && o->head < o->nq && o->q[o->head % QMAX].due <= now_of(me)) {
		struct wframe *w = &o->q[o->head++ % QMAX];

		memcpy(sn_pkt_data(pkts[k]), w->b, w->len);
		pkts[k]->len = w->len;
		pkts[k++]->addr = o->addr;
	}
	return (int)k;
}

static const struct sn_egress_ops wire_ops = {
	.struct_size = sizeof(struct sn_egress_ops),
	.open = wire_open,
	.fd = wire_fd,
	.local_addr = wire_local,
	.recv_batch = wire_recv,
	.send_batch = wire_send,
};

static int node_create(struct node *n, const struct sn_option *o, uint32_t no, char *err,
		       uint32_t len)
{
	struct sn_options opts = {o, no, 0};
	struct sn_create_args a;
	int r;

	n->h = sn_mock_new(POOL, 64, 2048);
	assert_non_null(n->h);
	n->d = sn_plugin_entry_v1();
	n->ops = n->d->ops;
	n->k = aligned_alloc(64, (n->d->instance_size + 63) & ~63u);
	memset(n->k, 0, n->d->instance_size);
	a = sn_mock_args(n->h, &opts, err, len);
	r = n->d->create(n->k, &a);
	sn_mock_created(n->h);
	return r;
}

static void node_attach(struct node *n)
{
	struct sn_egress_lower low = {.struct_size = sizeof(low), .name = "wire", .inst = &n->w,
				      .ops = &wire_ops, .overhead = 28, .datagram_max = DMAX};
	struct sn_egress_open oa = {.struct_size = sizeof(oa)};
	char err[256] = "";

	n->w.self = n;
	n->q = calloc(QMAX, sizeof(*n->q));
	if (n->ops->attach(n->k, &low, err, sizeof(err)) < 0)
		fail_msg("attach: %s", err);
	assert_int_equal(n->ops->open(n->k, &oa), 0);
	assert_int_equal(n->ops->fd(n->k), 42);
}

static void node_free(struct node *n)
{
	n->d->destroy(n->k);
	free(n->k);
	free(n->q);
	assert_int_equal(sn_mock_pool_free(n->h), POOL);
	sn_mock_free(n->h);
}

static void unpair(struct node *a, struct node *b)
{
	node_free(a);
	node_free(b);
}

/* Nodes a (10.9.9.1:4000) and b (10.9.9.2:4000) with the same options. */
static void pair(struct node *a, struct node *b, const struct sn_option *o, uint32_t no)
{
	char err[256] = "";

	memset(a, 0, sizeof(*a));
	memset(b, 0, sizeof(*b));
	g_drop = NULL;
	g_delay = 5 * MS;
	g_loss_pct = 0;
	if (node_create(a, o, no, err, sizeof(err)) < 0 || node_create(b, o, no, err, sizeof(err)) < 0)
		fail_msg("create: %s", err);
	a->addr = (struct sn_addr){SN_AF_INET, 0, 4000, {10, 9, 9, 1}};
	b->addr = (struct sn_addr){SN_AF_INET, 0, 4000, {10, 9, 9, 2}};
	a->other = b;
	b->other = a;
	node_attach(a);
	node_attach(b);
}

/* Datagram i from n: 4 bytes of i, then bytes of it; 40..1400 bytes. */
static uint32_t fill(uint8_t *d, uint32_t i)
{
	uint32_t len = 40 + (i * 397) % 1360;

	memcpy(d, &i, 4);
	for (uint32_t j = 4; j < len; j++)
		d[j] = (uint8_t)(j * 31 + i);
	return len;
}

static void send_n(struct node *n, uint32_t count)
{
	struct sn_pkt *v[SN_BATCH];
	const struct sn_host_api *api = sn_mock_api();

	for (uint32_t done = 0; done < count;) {
		uint32_t c = count - done < SN_BATCH ? count - done : SN_BATCH;

		for (uint32_t i = 0; i < c; i++) {
			v[i] = api->pkt_alloc(n->h);
			assert_non_null(v[i]);
			v[i]->len = fill(sn_pkt_data(v[i]), n->sent++);
			v[i]->addr = n->other->addr;
			v[i]->peer_id = 7;
		}
		assert_int_equal(n->ops->send_batch(n->k, v, c), (int)c);
		done += c;
	}
}

/* Receive what has arrived at n; each datagram is checked byte for byte. */
static void recv_all(struct node *n)
{
	const struct sn_host_api *api = sn_mock_api();
	struct sn_pkt *v[SN_BATCH];
	uint8_t want[DMAX];
	int got;

	do {
		for (uint32_t i = 0; i < SN_BATCH; i++)
			v[i] = api->pkt_alloc(n->h);
		got = n->ops->recv_batch(n->k, v, SN_BATCH);
		assert_true(got >= 0);
		for (int i = 0; i < got; i++) {
			uint32_t idx;

			memcpy(&idx, sn_pkt_data(v[i]), 4);
			assert_true(idx < n->other->sent);
			assert_int_equal(v[i]->len, fill(want, idx));
			assert_memory_equal(sn_pkt_data(v[i]), want, v[i]->len);
			assert_true(n->n_up < SENT_MAX);
			n->up[n->n_up++] = idx;
		}
		for (uint32_t i = 0; i < SN_BATCH; i++)
			api->pkt_release(n->h, v[i]);
	} while (got == SN_BATCH);
}

/* ms milliseconds pass, one at a time: timers run, frames arrive. */
static void run(struct node *a, struct node *b, uint32_t ms)
{
	for (uint32_t i = 0; i < ms; i++) {
		sn_mock_advance(a->h, 1);
		sn_mock_advance(b->h, 1);
		recv_all(a);
		recv_all(b);
	}
}

static uint64_t ctr(struct node *n, const char *name)
{
	uint64_t v = sn_mock_counter(n->h, name);

	if (v == UINT64_MAX)
		fail_msg("no counter %s", name);
	return v;
}

/* How many datagrams from the other node never came up; none came up twice. */
static uint32_t missing(struct node *n)
{
	static uint8_t seen[SENT_MAX];
	uint32_t m = 0;

	memset(seen, 0, sizeof(seen));
	for (uint32_t i = 0; i < n->n_up; i++) {
		if (seen[n->up[i]]++)
			fail_msg("datagram %u came up twice", n->up[i]);
	}
	for (uint32_t i = 0; i < n->other->sent; i++)
		m += !seen[i];
	return m;
}

/* Each datagram from the other node came up exactly once. */
static void check_once(struct node *n)
{
	uint32_t m = missing(n);

	if (m)
		fail_msg("%u datagrams never came up", m);
}

static void test_kcp_layer_no_loss(void **state)
{
	struct node a, b;

	pair(&a, &b, NULL, 0);
	send_n(&a, 200);
	run(&a, &b, 30);
	check_once(&b);
	assert_int_equal(ctr(&a, "sent"), 200);
	assert_int_equal(ctr(&a, "retransmits") + ctr(&a, "fast_retransmits"), 0);
	assert_true(ctr(&a, "acks_received") > 0);
	assert_int_equal(ctr(&a, "acks_received"), ctr(&b, "acks_sent"));
	assert_int_equal(ctr(&a, "rtt_samples"), 200);
	assert_int_equal(a.k->peer[0].snd.inflight, 0);
	/* the RTT seen: 2 x 5 ms of wire and the ack delay at most */
	assert_true(a.k->peer[0].rtt.srtt >= 10 * MS && a.k->peer[0].rtt.srtt <= 13 * MS);
	assert_true(ctr(&a, "rtt_us_sum") >= 200 * 10000u);
	run(&a, &b, 10);
	assert_int_equal(sn_mock_timers_armed(a.h) + sn_mock_timers_armed(b.h), 0); /* idle */
	unpair(&a, &b);
}

static bool drop_third(struct node *from, const struct kcp_hdr *h, uint32_t nth)
{
	return h->type == KCP_T_DATA && nth == 4; /* seq 3, the first time only */
}

/* No head-of-line blocking: with seq 3 lost, 4..9 come up before it, and
 * it comes after acks of later ones made it fast-retransmitted. */
static void test_kcp_layer_no_hol(void **state)
{
	struct node a, b;
	uint32_t pos = 0;

	pair(&a, &b, NULL, 0);
	g_drop = drop_third;
	for (uint32_t i = 0; i < 10; i++) {
		send_n(&a, 1);
		run(&a, &b, 2);
	}
	assert_int_equal(b.n_up, 7); /* 0..2 and 4..7 so far: 8 and 9 are on the wire */
	for (uint32_t i = 0; i < b.n_up; i++)
		assert_int_not_equal(b.up[i], 3);
	run(&a, &b, 40);
	check_once(&b);
	while (b.up[pos] != 3)
		pos++;
	assert_int_equal(pos, 9); /* the last to come up */
	assert_int_equal(ctr(&a, "fast_retransmits"), 1);
	assert_int_equal(ctr(&a, "retransmits"), 0);
	assert_int_equal(ctr(&b, "duplicates"), 0);
	unpair(&a, &b);
}

static bool drop_first_twice(struct node *from, const struct kcp_hdr *h, uint32_t nth)
{
	return h->type == KCP_T_DATA && h->seq == 0 && nth <= 2;
}

/* A lone datagram lost twice: no later acks, so timeouts resend it, the
 * second after twice the first (no sample yet: 100 ms, then 200 ms). */
static void test_kcp_layer_rto_backoff(void **state)
{
	static const struct sn_option o[] = {{"deadline", "1s"}};
	struct node a, b;

	pair(&a, &b, o, 1);
	g_drop = drop_first_twice;
	send_n(&a, 1);
	run(&a, &b, 99);
	assert_int_equal(ctr(&a, "retransmits"), 0);
	run(&a, &b, 3);
	assert_int_equal(ctr(&a, "retransmits"), 1);
	run(&a, &b, 196);
	assert_int_equal(ctr(&a, "retransmits"), 1);
	run(&a, &b, 4);
	assert_int_equal(ctr(&a, "retransmits"), 2);
	assert_int_equal(b.n_up, 0);
	run(&a, &b, 15);
	check_once(&b);
	assert_int_equal(ctr(&a, "rtt_samples"), 0); /* Karn: a resent one gives none */
	assert_int_equal(a.k->peer[0].snd.inflight, 0);
	unpair(&a, &b);
}

/* a's loop is held up for 40 ms (a stall of the process, as on a loaded
 * machine): its clock runs, its timer does not, nothing is read; b's
 * acknowledgements of a's datagrams wait on the wire. */
static void stall(struct node *a, struct node *b, uint32_t ms)
{
	sn_mock_api()->timer_stop(a->h, a->k->timer);
	for (uint32_t i = 0; i < ms; i++) {
		sn_mock_advance(a->h, 1);
		sn_mock_advance(b->h, 1);
		recv_all(b);
	}
}

/* After a stall the loop runs its timers before it reads (libuv): the tick
 * that comes late, and the one after a read that filled its batch, resend
 * nothing, though every datagram in flight is older than its timeout: the
 * acknowledgements read next free them all. Nothing is sent twice. */
static void test_kcp_layer_stall(void **state)
{
	static const struct sn_option o[] = {{"rto_min", "10ms"}};
	const struct sn_host_api *api = sn_mock_api();
	struct sn_pkt *v[4];
	struct node a, b;

	pair(&a, &b, o, 1);
	send_n(&a, 20);
	run(&a, &b, 30); /* samples: rto about 20 ms */
	assert_true(a.k->peer[0].rtt.rto < 40 * MS);
	send_n(&a, 20);
	stall(&a, &b, 40);
	sn__kcp_on_timer(a.k); /* late: held */
	assert_int_equal(ctr(&a, "retransmits"), 0);
	for (uint32_t i = 0; i < 4; i++)
		v[i] = api->pkt_alloc(a.h);
	assert_int_equal(a.ops->recv_batch(a.k, v, 4), 0); /* 4 ack frames: all consumed */
	for (uint32_t i = 0; i < 4; i++)
		api->pkt_release(a.h, v[i]);
	sn_mock_advance(a.h, 2);
	sn__kcp_on_timer(a.k); /* on time, but the read filled its batch: held */
	assert_int_equal(ctr(&a, "retransmits"), 0);
	assert_int_equal(ctr(&a, "given_up"), 0);
	recv_all(&a); /* the rest */
	assert_int_equal(a.k->peer[0].snd.inflight, 0);
	assert_int_equal(api->timer_start(a.h, a.k->timer, 2, 2), 0); /* the loop runs on */
	run(&a, &b, 50);
	check_once(&b);
	assert_int_equal(ctr(&a, "retransmits") + ctr(&a, "fast_retransmits"), 0);
	assert_int_equal(ctr(&b, "duplicates"), 0);
	/* a stall that outlasts the holds: the timeouts run out at last */
	send_n(&a, 5);
	stall(&a, &b, 40);
	for (uint32_t i = 0; i <= KCP_HOLD_MAX; i++) {
		sn_mock_advance(a.h, 5);
		sn__kcp_on_timer(a.k);
	}
	assert_int_equal(ctr(&a, "retransmits"), 5);
	recv_all(&a);
	assert_int_equal(api->timer_start(a.h, a.k->timer, 2, 2), 0);
	run(&a, &b, 50);
	assert_int_equal(ctr(&b, "duplicates"), 5);
	unpair(&a, &b);
}

static bool drop_early_acks(struct node *from, const struct kcp_hdr *h, uint32_t nth)
{
	return from->addr.ip[3] == 2 && (h->flags & KCP_F_ACK) && now_of(from) < 1105 * MS; /* the clock starts at 1 s */
}

/* An acknowledgement of a resent datagram may be of its first sending: it
 * shows nothing about the datagrams sent between the two. Seq 0 (sent at
 * 0 ms) and seq 1 (at 50 ms) arrive, their acks are lost; seq 0 is resent
 * at 100 ms and acknowledged (a duplicate): seq 1 counts no skip from that
 * (fast_resend 1), and is resent only when its own timeout runs out. */
static void test_kcp_layer_resent_ack_no_skip(void **state)
{
	static const struct sn_option o[] = {{"fast_resend", "1"}};
	struct node a, b;

	pair(&a, &b, o, 1);
	g_drop = drop_early_acks;
	send_n(&a, 1);
	run(&a, &b, 50);
	send_n(&a, 1);
	run(&a, &b, 90); /* 140 ms: seq 0 resent and acknowledged */
	assert_int_equal(ctr(&a, "retransmits"), 1);
	assert_int_equal(ctr(&a, "acks_received"), 1);
	assert_int_equal(a.k->peer[0].snd.inflight, 1);
	assert_int_equal(ctr(&a, "fast_retransmits"), 0);
	run(&a, &b, 30); /* seq 1's timeout at 150 ms */
	assert_int_equal(ctr(&a, "retransmits"), 2);
	assert_int_equal(ctr(&a, "fast_retransmits"), 0);
	assert_int_equal(a.k->peer[0].snd.inflight, 0);
	check_once(&b);
	unpair(&a, &b);
}

static bool drop_data(struct node *from, const struct kcp_hdr *h, uint32_t nth)
{
	return h->type == KCP_T_DATA && from->addr.ip[3] == 1;
}

/* Nothing gets through: each datagram is given up at the deadline, the
 * window empties and the timer stops; later traffic is not held back. */
static void test_kcp_layer_deadline(void **state)
{
	static const struct sn_option o[] = {{"deadline", "60ms"}, {"rto_min", "10ms"}};
	struct node a, b;

	pair(&a, &b, o, 2);
	g_drop = drop_data;
	send_n(&a, 30);
	run(&a, &b, 59);
	assert_int_equal(ctr(&a, "given_up"), 0);
	assert_int_equal(a.k->peer[0].snd.inflight, 30);
	assert_int_equal(ctr(&a, "retransmits"), 0); /* no sample: the first timeout is 100 ms */
	run(&a, &b, 4);
	assert_int_equal(ctr(&a, "given_up"), 30);
	assert_int_equal(a.k->peer[0].snd.inflight, 0);
	run(&a, &b, 5);
	assert_int_equal(sn_mock_timers_armed(a.h), 0);
	g_drop = NULL;
	a.sent = 0; /* b checks the datagrams from here on */
	send_n(&a, 10);
	run(&a, &b, 20);
	check_once(&b);
	unpair(&a, &b);
}

static bool drop_acks(struct node *from, const struct kcp_hdr *h, uint32_t nth)
{
	return from->addr.ip[3] == 2 && (h->flags & KCP_F_ACK) && now_of(from) < 2000 * MS;
}

/* The acks are lost: the sender resends, the receiver drops what it had
 * (duplicates, counted) and acknowledges again; once acks get through the
 * window empties. */
static void test_kcp_layer_duplicates(void **state)
{
	struct node a, b;

	pair(&a, &b, NULL, 0);
	g_drop = drop_acks;
	send_n(&a, 20);
	run(&a, &b, 150);
	assert_true(ctr(&a, "retransmits") >= 20);
	assert_int_equal(ctr(&b, "duplicates"), ctr(&a, "retransmits"));
	assert_int_equal(b.n_up, 20);
	g_drop = NULL;
	while (now_of(&b) < 2000 * MS)
		run(&a, &b, 50);
	send_n(&a, 1);
	run(&a, &b, 400);
	check_once(&b);
	assert_int_equal(a.k->peer[0].snd.inflight, 0);
	unpair(&a, &b);
}

/* A window of 16: 20 at once, the last 4 go plain (counted) and still
 * arrive; none is blocked. */
static void test_kcp_layer_window_full(void **state)
{
	static const struct sn_option o[] = {{"window", "16"}};
	struct node a, b;

	pair(&a, &b, o, 1);
	send_n(&a, 20);
	assert_int_equal(ctr(&a, "window_full"), 4);
	assert_int_equal(ctr(&a, "sent"), 16);
	run(&a, &b, 20);
	check_once(&b);
	send_n(&a, 16); /* acknowledged: room again */
	assert_int_equal(ctr(&a, "window_full"), 4);
	run(&a, &b, 20);
	check_once(&b);
	unpair(&a, &b);
}

/* Traffic both ways: b's datagrams carry its acks, so few ack frames. */
static void test_kcp_layer_piggyback(void **state)
{
	static const struct sn_option o[] = {{"ack_delay", "10ms"}};
	struct node a, b;

	pair(&a, &b, o, 1);
	for (uint32_t i = 0; i < 50; i++) {
		send_n(&a, 2);
		send_n(&b, 2);
		run(&a, &b, 1);
	}
	run(&a, &b, 40);
	check_once(&a);
	check_once(&b);
	assert_true(ctr(&b, "piggybacked") >= 40);
	assert_true(ctr(&a, "piggybacked") >= 40);
	assert_true(ctr(&a, "acks_sent") - ctr(&a, "piggybacked") <= 3);
	assert_int_equal(a.k->peer[0].snd.inflight + b.k->peer[0].snd.inflight, 0);
	unpair(&a, &b);
}

/* a restarts (a new instance: seq 0 again, a new session): b takes its
 * datagrams as new, not as duplicates of the old ones. */
static void test_kcp_layer_restart(void **state)
{
	struct node a, b;
	char err[256] = "";

	pair(&a, &b, NULL, 0);
	send_n(&a, 10);
	run(&a, &b, 20);
	check_once(&b);
	node_free(&a); /* a new host too: its clock starts over, its frames arrive at once */
	memset(&a, 0, sizeof(a));
	if (node_create(&a, NULL, 0, err, sizeof(err)) < 0)
		fail_msg("create: %s", err);
	a.addr = (struct sn_addr){SN_AF_INET, 0, 4000, {10, 9, 9, 1}};
	a.other = &b;
	node_attach(&a);
	b.n_up = 0;
	send_n(&a, 10);
	run(&a, &b, 20);
	check_once(&b);
	assert_int_equal(ctr(&b, "duplicates"), 0);
	unpair(&a, &b);
}

static bool drop_random(struct node *from, const struct kcp_hdr *h, uint32_t nth)
{
	g_rand = g_rand * 1103515245u + 12345u;
	return (g_rand >> 16) % 100 < g_loss_pct;
}

/* 10 % loss both ways (data, acks, resendings), 2000 datagrams each way
 * paced over 4 s: none comes up twice, at most 6 of the 4000 never come up
 * (the automatic deadline, 120 ms here, 4 x the rto of 30 ms (rto_min),
 * leaves three tries: 1 in 1000 lost all three times), each of those counted
 * given up by its sender, and the windows empty. */
static void test_kcp_layer_random_loss(void **state)
{
	struct node a, b;

	pair(&a, &b, NULL, 0);
	g_drop = drop_random;
	g_loss_pct = 10;
	for (uint32_t i = 0; i < 1000; i++) {
		send_n(&a, 2);
		send_n(&b, 2);
		run(&a, &b, 4);
	}
	run(&a, &b, 1000);
	/* lost 3 times in a row (1 in 1000) before the deadline: 2 here */
	assert_true(missing(&b) <= ctr(&a, "given_up"));
	assert_true(missing(&a) <= ctr(&b, "given_up"));
	assert_true(missing(&a) + missing(&b) <= 6);
	assert_true(ctr(&a, "given_up") < 20);
	assert_true(ctr(&a, "fast_retransmits") > 50);
	assert_true(ctr(&a, "retransmits") > 0);
	assert_true(ctr(&b, "duplicates") > 0);
	assert_int_equal(a.k->peer[0].snd.inflight + b.k->peer[0].snd.inflight, 0);
	unpair(&a, &b);
}

/* ---- options and reloads -------------------------------------------------- */

static void test_kcp_options(void **state)
{
	static const struct {
		struct sn_option o;
		const char *err;
	} bad[] = {
		{{"windw", "64"}, "kcp_arq: unknown option 'windw' (did you mean 'window'?)"},
		{{"window", "8"}, "kcp_arq: option window: '8' is out of range (16..4096)"},
		{{"ack_delay", "2"}, "kcp_arq: option ack_delay: '2' needs a unit (ns, us, ms, s, m, h; e.g. 5ms)"},
		{{"deadline", "500us"}, "kcp_arq: option deadline: 500000 ns is neither 0ms (auto) nor 1ms or more"},
		{{"rto_min", "2s"}, "kcp_arq: option rto_min: '2s' is out of range (1000000..1000000000 ns)"},
		{{"fast_resend", "17"}, "kcp_arq: option fast_resend: '17' is out of range (0..16)"},
	};
	static const struct sn_option inverted[] = {{"rto_min", "500ms"}, {"rto_max", "100ms"}};
	static const struct sn_option later[] = {{"deadline", "200ms"}, {"ack_delay", "5ms"},
						 {"fast_resend", "0"}};
	static const struct sn_option bigger[] = {{"window", "512"}};
	struct sn_options opts;
	struct node a, b;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct node n = {0};

		err[0] = 0;
		assert_int_equal(node_create(&n, &bad[i].o, 1, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, bad[i].err);
		free(n.k);
		sn_mock_free(n.h);
	}
	{
		struct node n = {0};

		assert_int_equal(node_create(&n, inverted, 2, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, "kcp_arq: rto_min (500 ms) is above rto_max (100 ms)");
		free(n.k);
		sn_mock_free(n.h);
	}
	pair(&a, &b, NULL, 0);
	assert_int_equal(a.k->opt.window, 256);
	assert_int_equal(a.k->opt.peers, 64);
	assert_int_equal(a.k->opt.fast_resend, 2);
	assert_int_equal(sn_mock_counter(a.h, "retransmits"), 0);
	assert_non_null(sn_mock_counter_help(a.h, "given_up"));
	opts = (struct sn_options){later, 3, 0};
	assert_int_equal(a.ops->reconfigure(a.k, &opts, err, sizeof(err)), 0);
	assert_int_equal(a.k->opt.deadline, 200 * MS);
	assert_int_equal(a.k->opt.ack_delay, 5 * MS);
	opts = (struct sn_options){bigger, 1, 0};
	assert_int_equal(a.ops->reconfigure(a.k, &opts, err, sizeof(err)), -ENOTSUP);
	assert_string_equal(err, "kcp_arq: window and peers size its tables: restart subnetrad to "
				 "change them");
	opts = (struct sn_options){&bad[0].o, 1, 0};
	assert_int_equal(a.ops->reconfigure(a.k, &opts, err, sizeof(err)), -EINVAL);
	assert_int_equal(a.k->opt.deadline, 200 * MS); /* unchanged */
	/* the reloaded fast_resend 0: a gap waits for the timeout */
	g_drop = drop_third;
	for (uint32_t i = 0; i < 10; i++) {
		send_n(&a, 1);
		run(&a, &b, 2);
	}
	run(&a, &b, 150);
	check_once(&b);
	assert_int_equal(ctr(&a, "fast_retransmits"), 0);
	assert_int_equal(ctr(&a, "retransmits"), 1);
	unpair(&a, &b);
}

/* Frames that do not parse are dropped and counted; a datagram from a
 * node without ARQ state (a plain frame) goes up. */
static void test_kcp_layer_bad_frames(void **state)
{
	struct node a, b;
	struct wframe *w;

	pair(&a, &b, NULL, 0);
	w = &a.q[a.nq++];
	memcpy(w->b, "\x20\0\0\0\0\0\0\x09\0\0\0\0xyz", 15);
	w->len = 15;
	w->due = 0;
	w = &a.q[a.nq++];
	memcpy(w->b, "\x12\0\0\0\0\0\0\x09\0\0\0\0", 12);
	memcpy(w->b + 12, "\x00\x00\x00\x00", 4); /* "datagram 0" */
	w->len = 12 + fill(w->b + 12, 0);
	w->due = 0;
	a.sent = 1;
	recv_all(&b);
	assert_int_equal(ctr(&b, "bad_frames"), 1);
	assert_int_equal(sn_mock_count(b.h, SN_CTR_DROP_RX_ERROR), 1);
	check_once(&b);
	unpair(&a, &b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kcp_frame_parse),
		cmocka_unit_test(test_kcp_ack_build),
		cmocka_unit_test(test_kcp_window_wrap),
		cmocka_unit_test(test_kcp_receive_window),
		cmocka_unit_test(test_kcp_rtt),
		cmocka_unit_test(test_kcp_tick_hold),
		cmocka_unit_test(test_kcp_layer_no_loss),
		cmocka_unit_test(test_kcp_layer_no_hol),
		cmocka_unit_test(test_kcp_layer_rto_backoff),
		cmocka_unit_test(test_kcp_layer_stall),
		cmocka_unit_test(test_kcp_layer_resent_ack_no_skip),
		cmocka_unit_test(test_kcp_layer_deadline),
		cmocka_unit_test(test_kcp_layer_duplicates),
		cmocka_unit_test(test_kcp_layer_window_full),
		cmocka_unit_test(test_kcp_layer_piggyback),
		cmocka_unit_test(test_kcp_layer_restart),
		cmocka_unit_test(test_kcp_layer_random_loss),
		cmocka_unit_test(test_kcp_options),
		cmocka_unit_test(test_kcp_layer_bad_frames),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
