/* SPDX-License-Identifier: MIT */
/*
 * test_pad.c: a unit test of the SDK example layer pad, driven through the
 * SDK's mock host (mock_host.h) over a fake egress below it, as its author
 * would test it: options and room sizes; every length padded to the block
 * with the framing of README.md; runs marked for a lower that takes them;
 * what the lower does not take counted; frames unpadded on receive, bad
 * pads counted bad_pad and rx_error and moved behind the good ones; lent
 * packets lent again while the lower fills all; lower_deliver; no packet
 * leaked. Build (README.md, or docs/plugin-sdk.md "Writing a transform
 * egress"):
 *   cc $(pkg-config --cflags subnetra-sdk cmocka) -I$MOCK test_pad.c pad.c \
 *      $MOCK/mock_host.c $(pkg-config --libs cmocka) -o test_pad && ./test_pad
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock_host.h"

#define POOL 256
#define ROOM 2048

/* ---- a fake egress below: what it was sent, what it will receive ---- */

struct frame {
	uint8_t b[ROOM];
	uint32_t len, flags;
	uint16_t gso_size, gso_segs;
};

static struct fake {
	struct sn_host *h;
	uint32_t take;          /* entries send_batch takes (UINT32_MAX: all) */
	uint32_t batches;       /* send_batch calls */
	struct frame sent[256];
	uint32_t n_sent;
	struct frame rx[256];   /* what recv_batch hands out, in order */
	uint32_t n_rx, rx_next, recv_calls;
} fk;

static int fake_send(void *inst, struct sn_pkt *const *pkts, uint32_t n)
{
	uint32_t k = n < fk.take ? n : fk.take;

	fk.batches++;
	for (uint32_t i = 0; i < k; i++) {
		struct frame *f = &fk.sent[fk.n_sent++];

		memcpy(f->b, sn_pkt_data(pkts[i]), pkts[i]->len);
		f->len = pkts[i]->len;
		f->flags = pkts[i]->flags;
		f->gso_size = pkts[i]->gso_size;
		f->gso_segs = pkts[i]->gso_segs;
		sn_mock_api()->pkt_release(fk.h, pkts[i]);
	}
	return (int)k;
}

static int fake_recv(void *inst, struct sn_pkt **pkts, uint32_t n)
{
	uint32_t k = 0;

	fk.recv_calls++;
	for (; k < n && fk.rx_next < fk.n_rx; k++, fk.rx_next++) {
		memcpy(sn_pkt_data(pkts[k]), fk.rx[fk.rx_next].b, fk.rx[fk.rx_next].len);
		pkts[k]->len = fk.rx[fk.rx_next].len;
	}
	return (int)k;
}

static int fake_open(void *inst, const struct sn_egress_open *a) { return 0; }
static int fake_fd(void *inst) { return 7; }
static int fake_local(void *inst, struct sn_addr *out) { return -ENOTSUP; }

static const struct sn_egress_ops fake_ops = {
	.struct_size = sizeof(struct sn_egress_ops),
	.open = fake_open, .fd = fake_fd, .local_addr = fake_local,
	.recv_batch = fake_recv, .send_batch = fake_send,
};

/* ---- pad under test ---- */

struct ut {
	struct sn_host *h;
	const struct sn_plugin_desc *d;
	const struct sn_egress_ops *ops;
	void *inst;
};

static int pad_new(struct ut *u, const char *block, char *err, uint32_t err_len)
{
	struct sn_option o[] = {{"block", block}};
	struct sn_options opts = {o, block ? 1 : 0, 0};
	struct sn_create_args a;
	int r;

	u->h = sn_mock_new(POOL, 64, ROOM);
	assert_non_null(u->h);
	u->d = sn_plugin_entry_v1();
	u->ops = u->d->ops;
	assert_true(u->ops->flags & SN_EGRESS_F_LAYER);
	u->inst = calloc(1, u->d->instance_size);
	assert_non_null(u->inst);
	a = sn_mock_args(u->h, &opts, err, err_len);
	r = u->d->create(u->inst, &a);
	sn_mock_created(u->h);
	return r;
}

/* pad (block 64 unless given) attached over the fake egress. */
static void pad_up(struct ut *u, const char *block, uint32_t lower_flags)
{
	struct sn_egress_lower l = {.struct_size = sizeof(l), .flags = lower_flags,
				    .name = "fake", .inst = &fk, .ops = &fake_ops,
				    .datagram_max = 1500};
	char err[256] = "";

	memset(&fk, 0, sizeof(fk));
	fk.take = UINT32_MAX;
	assert_int_equal(pad_new(u, block, err, sizeof(err)), 0);
	fk.h = u->h;
	assert_int_equal(u->ops->attach(u->inst, &l, err, sizeof(err)), 0);
	assert_int_equal(u->ops->fd(u->inst), 7);
}

static void pad_down(struct ut *u, bool created)
{
	if (created)
		u->d->destroy(u->inst);
	free(u->inst);
	assert_int_equal(sn_mock_pool_free(u->h), POOL); /* nothing leaked */
	sn_mock_free(u->h);
}

/* A datagram of len bytes (byte i = seed + i) to 192.0.2.1:51820. */
static struct sn_pkt *datagram(struct ut *u, uint32_t len, uint8_t seed)
{
	struct sn_pkt *p = sn_mock_api()->pkt_alloc(u->h);

	assert_non_null(p);
	for (uint32_t i = 0; i < len; i++)
		sn_pkt_data(p)[i] = (uint8_t)(seed + i);
	p->len = len;
	p->peer_id = 2;
	p->addr = (struct sn_addr){.family = SN_AF_INET, .port = 51820, .ip = {192, 0, 2, 1}};
	return p;
}

/* ---- options and room ---- */

static void test_pad_options(void **state)
{
	static const struct {
		const char *block, *err;
		uint32_t room;
	} cases[] = {
		{NULL, "", 65},
		{"16", "", 17},
		{"1023", "", 1024},
		{"15", "pad: option block: '15' is out of range (16..1023)", 0},
		{"1024", "pad: option block: '1024' is out of range (16..1023)", 0},
		{"64k", "pad: option block: '64k' is not a whole number", 0},
	};
	struct sn_option typo[] = {{"blok", "64"}};
	struct sn_options opts = {typo, 1, 0};
	uint32_t hd, tl, ov;
	char err[256];
	struct ut u;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = 0;
		int r = pad_new(&u, cases[i].block, err, sizeof(err));

		assert_string_equal(err, cases[i].err);
		assert_int_equal(r, cases[i].err[0] ? -EINVAL : 0);
		sn_mock_room(u.h, &hd, &tl, &ov);
		assert_true(hd == 0 && tl == cases[i].room && ov == cases[i].room);
		if (!r)
			assert_int_equal(sn_mock_counter(u.h, "bad_pad"), 0);
		pad_down(&u, r == 0);
	}
	u.h = sn_mock_new(POOL, 0, 64);
	u.d = sn_plugin_entry_v1();
	u.inst = calloc(1, u.d->instance_size);
	struct sn_create_args a = sn_mock_args(u.h, &opts, err, sizeof(err));

	assert_int_equal(u.d->create(u.inst, &a), -EINVAL);
	assert_string_equal(err, "pad: unknown option 'blok' (did you mean 'block'?)");
	pad_down(&u, false);
}

/* ---- send ---- */

static uint32_t trailer(const struct frame *f)
{
	return (uint32_t)f->b[f->len - 2] << 8 | f->b[f->len - 1];
}

/* Each length padded to the block: data unchanged, zeros, the length. */
static void test_pad_send_lengths(void **state)
{
	static const struct {
		const char *block;
		uint32_t len, want;
	} cases[] = {
		{"64", 0, 64},     {"64", 1, 64},       {"64", 62, 64},     {"64", 63, 128},
		{"64", 64, 128},   {"64", 120, 128},    {"64", 1406, 1408}, {"64", 1407, 1472},
		{"16", 14, 16},    {"16", 15, 32},      {"1000", 1, 1000},  {"1000", 999, 2000},
	};
	struct ut u;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sn_pkt *p;
		const struct frame *f;

		pad_up(&u, cases[i].block, 0);
		p = datagram(&u, cases[i].len, (uint8_t)i);
		assert_int_equal(u.ops->send_batch(u.inst, &p, 1), 1);
		assert_int_equal(fk.n_sent, 1);
		f = &fk.sent[0];
		assert_int_equal(f->len, cases[i].want);
		assert_int_equal(trailer(f), cases[i].len);
		for (uint32_t j = 0; j < f->len - 2; j++)
			assert_int_equal(f->b[j], j < cases[i].len ? (uint8_t)(i + j) : 0);
		assert_int_equal(f->flags & SN_PKT_F_RUN, 0);
		pad_down(&u, true);
	}
}

/* Over a lower with GSO: one run of equal padded sizes, ended by a shorter
 * one; without the flag no entry is a run. */
static void test_pad_send_runs(void **state)
{
	static const uint32_t lens[] = {1400, 1390, 1406, 1400, 100, 1400};
	struct sn_pkt *p[6];
	struct ut u;

	for (int gso = 0; gso < 2; gso++) {
		pad_up(&u, NULL, gso ? SN_EGRESS_F_GSO : 0);
		for (int i = 0; i < 6; i++)
			p[i] = datagram(&u, lens[i], 0);
		assert_int_equal(u.ops->send_batch(u.inst, p, 6), 6);
		assert_int_equal(fk.n_sent, 6);
		for (int i = 0; i < 6; i++)
			assert_int_equal(fk.sent[i].len, i == 4 ? 128 : 1408);
		assert_int_equal(fk.sent[0].flags & SN_PKT_F_RUN, gso ? SN_PKT_F_RUN : 0);
		if (gso) {
			assert_int_equal(fk.sent[0].gso_size, 1408);
			assert_int_equal(fk.sent[0].gso_segs, 5); /* the 128 ends it */
		}
		for (int i = 1; i < 6; i++)
			assert_int_equal(fk.sent[i].flags & SN_PKT_F_RUN, 0);
		pad_down(&u, true);
	}
}

/* What the lower does not take, and what has no tailroom, is counted
 * tx_error and released; more than SN_BATCH goes down in batches. */
static void test_pad_send_partial(void **state)
{
	struct sn_pkt *p[100];
	struct ut u;

	pad_up(&u, NULL, 0);
	fk.take = 3;
	for (int i = 0; i < 5; i++)
		p[i] = datagram(&u, 200, 0);
	assert_int_equal(u.ops->send_batch(u.inst, p, 5), 5);
	assert_int_equal(fk.n_sent, 3);
	assert_int_equal(sn_mock_count(u.h, SN_CTR_DROP_TX_ERROR), 2);
	assert_int_equal(sn_mock_peer_count(u.h, 2, SN_CTR_DROP_TX_ERROR), 2);
	fk.take = UINT32_MAX;
	p[0] = datagram(&u, ROOM - 1, 0); /* 1 byte behind it: its frame needs 65 */
	assert_int_equal(u.ops->send_batch(u.inst, p, 1), 1);
	assert_int_equal(sn_mock_count(u.h, SN_CTR_DROP_TX_ERROR), 3);
	fk.n_sent = fk.batches = 0;
	for (int i = 0; i < 100; i++)
		p[i] = datagram(&u, 80, 0);
	assert_int_equal(u.ops->send_batch(u.inst, p, 100), 100);
	assert_int_equal(fk.n_sent, 100);
	assert_int_equal(fk.batches, 2); /* SN_BATCH, then the rest */
	pad_down(&u, true);
}

/* ---- receive ---- */

/* Queue for the fake's recv_batch the frame pad makes of len bytes. */
static void queue_good(struct ut *u, uint32_t len, uint8_t seed)
{
	struct sn_pkt *p = datagram(u, len, seed);
	uint32_t before = fk.n_sent;

	assert_int_equal(u->ops->send_batch(u->inst, &p, 1), 1);
	assert_int_equal(fk.n_sent, before + 1);
	fk.rx[fk.n_rx++] = fk.sent[--fk.n_sent];
}

/* Queue a frame by hand: len data bytes, zeros up to total - 2, then the
 * 2-byte length field holding field. */
static void queue_frame(uint32_t len, uint32_t total, uint32_t field)
{
	struct frame *f = &fk.rx[fk.n_rx++];

	memset(f, 0, sizeof(*f));
	for (uint32_t i = 0; i < len; i++)
		f->b[i] = (uint8_t)(1 + i);
	f->b[total - 2] = (uint8_t)(field >> 8);
	f->b[total - 1] = (uint8_t)field;
	f->len = total;
}

static void test_pad_recv(void **state)
{
	struct sn_pkt *in[SN_BATCH];
	struct ut u;
	int k;

	pad_up(&u, NULL, 0);
	queue_good(&u, 100, 10);
	queue_frame(100, 130, 100); /* not a multiple of the block */
	queue_frame(100, 128, 127); /* its length past the frame */
	queue_good(&u, 0, 0);
	queue_frame(100, 128, 100);
	fk.rx[fk.n_rx - 1].b[110] = 0xff; /* a pad byte not zero */
	queue_frame(10, 128, 10);   /* more pad than a block needs */
	queue_frame(0, 2, 0);       /* 2 bytes */
	fk.rx[fk.n_rx++].len = 0;   /* an empty datagram */
	queue_good(&u, 1407, 20);
	for (int i = 0; i < SN_BATCH; i++)
		in[i] = sn_mock_api()->pkt_alloc(u.h);
	k = u.ops->recv_batch(u.inst, in, SN_BATCH);
	assert_int_equal(k, 3);
	assert_int_equal(in[0]->len, 100);
	assert_int_equal(in[1]->len, 0);
	assert_int_equal(in[2]->len, 1407);
	for (uint32_t j = 0; j < 1407; j++)
		assert_int_equal(sn_pkt_data(in[2])[j], (uint8_t)(20 + j));
	assert_int_equal(sn_pkt_data(in[0])[99], (uint8_t)(10 + 99));
	assert_int_equal(sn_mock_counter(u.h, "bad_pad"), 6);
	assert_int_equal(sn_mock_count(u.h, SN_CTR_DROP_RX_ERROR), 6);
	for (int i = 0; i < SN_BATCH; i++) /* every entry still the host's */
		sn_mock_api()->pkt_release(u.h, in[i]);
	pad_down(&u, true);
}

/* The lower fills all 4 it is lent, 2 bad: those 2 are lent again at once,
 * so the call still returns 4 good ones. */
static void test_pad_recv_lends_again(void **state)
{
	struct sn_pkt *in[4];
	struct ut u;

	pad_up(&u, NULL, 0);
	queue_good(&u, 50, 0);
	queue_frame(50, 65, 50);
	queue_good(&u, 51, 0);
	queue_frame(50, 63, 50);
	queue_good(&u, 52, 0);
	queue_good(&u, 53, 0);
	queue_good(&u, 54, 0);
	for (int i = 0; i < 4; i++)
		in[i] = sn_mock_api()->pkt_alloc(u.h);
	assert_int_equal(u.ops->recv_batch(u.inst, in, 4), 4);
	assert_int_equal(fk.recv_calls, 2);
	for (int i = 0; i < 4; i++)
		assert_int_equal(in[i]->len, 50 + (uint32_t)i);
	assert_int_equal(sn_mock_counter(u.h, "bad_pad"), 2);
	assert_int_equal(u.ops->recv_batch(u.inst, in, 4), 1); /* the rest, then empty */
	assert_int_equal(in[0]->len, 54);
	for (int i = 0; i < 4; i++)
		sn_mock_api()->pkt_release(u.h, in[i]);
	pad_down(&u, true);
}

/* A frame the lower delivers is unpadded and goes up; a bad one is
 * released and counted. */
static void test_pad_lower_deliver(void **state)
{
	struct sn_pkt *p[2];
	struct sn_pkt *const *up;
	uint32_t n;
	struct ut u;

	pad_up(&u, NULL, 0);
	queue_good(&u, 77, 3);
	queue_frame(77, 128, 77);
	fk.rx[1].b[80] = 9;
	for (int i = 0; i < 2; i++) {
		p[i] = sn_mock_api()->pkt_alloc(u.h);
		memcpy(sn_pkt_data(p[i]), fk.rx[i].b, fk.rx[i].len);
		p[i]->len = fk.rx[i].len;
	}
	assert_int_equal(u.ops->lower_deliver(u.inst, p, 2), 2);
	up = sn_mock_delivered(u.h, &n);
	assert_int_equal(n, 1);
	assert_ptr_equal(up[0], p[0]);
	assert_int_equal(up[0]->len, 77);
	assert_int_equal(sn_mock_counter(u.h, "bad_pad"), 1);
	sn_mock_delivered_clear(u.h);
	pad_down(&u, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pad_options),
		cmocka_unit_test(test_pad_send_lengths),
		cmocka_unit_test(test_pad_send_runs),
		cmocka_unit_test(test_pad_send_partial),
		cmocka_unit_test(test_pad_recv),
		cmocka_unit_test(test_pad_recv_lends_again),
		cmocka_unit_test(test_pad_lower_deliver),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
