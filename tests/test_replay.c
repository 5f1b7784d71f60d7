/* SPDX-License-Identifier: MIT */
/*
 * tests/test_replay.c: the anti-replay window, table-driven in the manner of
 * WireGuard's counter selftest: each step offers a seq, states whether the
 * window must accept it, and accepted ones are then marked seen, as the
 * receive path does after the tag verified.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"

#define W ((uint64_t)SN_REPLAY_WINDOW)
#define MAX UINT64_MAX

struct step {
	uint64_t seq;
	bool ok; /* sn_replay_check's answer */
};

static int setup(void **state)
{
	struct sn_replay *r = malloc(sizeof(*r));

	if (!r)
		return -1;
	memset(r, 0xa5, sizeof(*r)); /* reset must not rely on zeroed memory */
	sn_replay_reset(r);
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static void run(struct sn_replay *r, const struct step *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool ok = sn_replay_check(r, s[i].seq);

		if (ok != s[i].ok)
			fail_msg("step %zu: seq %llu: check said %d, want %d", i,
				 (unsigned long long)s[i].seq, ok, s[i].ok);
		if (ok)
			sn_replay_update(r, s[i].seq);
	}
}

#define RUN(r, steps) run(r, steps, sizeof(steps) / sizeof(steps[0]))

static void test_replay_in_order_reorder_duplicates(void **state)
{
	static const struct step steps[] = {
		{0, true}, {1, true}, {1, false}, {9, true}, {8, true}, {7, true}, {7, false},
		{0, false}, {2, true}, {2, false}, {10, true}, {11, true}, {10, false},
		{64, true}, {63, true}, {65, true}, {64, false}, {3, true}, {3, false},
	};

	RUN(*state, steps);
}

static void test_replay_window_edges(void **state)
{
	static const struct step steps[] = {
		{W, true},            /* newest = W */
		{W - 1, true},
		{W - 1, false},
		{0, false},           /* newest - W: just outside */
		{1, true},            /* newest - W + 1: the oldest still inside */
		{1, false},
		{W + 1, true},        /* newest = W + 1 */
		{1, false},           /* now newest - W */
		{2, true},            /* newest - W + 1 */
		{W + 100, true},      /* newest = W + 100 */
		{99, false},          /* newest - W - 1 */
		{100, false},         /* newest - W */
		{101, true},          /* newest - W + 1 */
		{W + 99, true},
		{W + 100, false},
	};

	RUN(*state, steps);
}

static void test_replay_big_jumps(void **state)
{
	static const struct step steps[] = {
		{5, true},
		{5 + 5 * W, true},             /* far ahead: everything older is gone */
		{5, false},
		{5 + 4 * W, false},
		{5 + 4 * W + 1, true},          /* newest - W + 1, never seen */
		{5 + 5 * W - 1, true},
		{5 + 5 * W, false},
		{(uint64_t)1 << 62, true},      /* ahead by ~2^62 in one step */
		{((uint64_t)1 << 62) - 1, true},
		{((uint64_t)1 << 62) - W, false},
		{((uint64_t)1 << 62) - W + 1, true},
		{5 + 5 * W + 1, false},
	};

	RUN(*state, steps);
}

/* Bits left by an earlier lap of the ring must not read as "seen" once the
 * window moved past them: seq and seq + SN_REPLAY_BITS share a bit. Each
 * jump lands on the last seq of a block whose slot is full of stale bits,
 * so the rest of that block is below the top and judged by the bitmap. */
static void fill_block(struct sn_replay *r, uint64_t block)
{
	for (uint64_t s = block * 64; s < block * 64 + 64; s++)
		sn_replay_update(r, s);
}

static void expect_block_fresh(const struct sn_replay *r, uint64_t block)
{
	for (uint64_t s = block * 64; s < block * 64 + 63; s++)
		if (!sn_replay_check(r, s))
			fail_msg("seq %llu refused: a stale bit survived", (unsigned long long)s);
	assert_false(sn_replay_check(r, block * 64 + 63));
}

static void test_replay_jump_clears_stale_bits(void **state)
{
	struct sn_replay *r = *state;
	uint64_t s;

	fill_block(r, 0);
	sn_replay_update(r, 64 * 64 + 63); /* exactly one lap: block 64, slot 0 */
	expect_block_fresh(r, 64);
	for (s = 64 * 64 + 63 - W + 1; s < 64 * 64; s++)
		assert_true(sn_replay_check(r, s));
	fill_block(r, 65);                      /* slot 1, now the top block */
	sn_replay_update(r, 257 * 64 + 63);   /* three laps on, slot 1 again */
	expect_block_fresh(r, 257);
	for (s = 257 * 64 + 63 - W + 1; s < 257 * 64; s++)
		assert_true(sn_replay_check(r, s));
}

static void test_replay_seq_zero_first(void **state)
{
	static const struct step steps[] = {
		{0, true}, {0, false}, {1, true}, {0, false},
	};

	RUN(*state, steps);
}

static void test_replay_uint64_max_first(void **state)
{
	static const struct step steps[] = {
		{MAX, true},
		{MAX, false},
		{MAX - 1, true},
		{MAX - 1, false},
		{MAX - W, false},
		{MAX - W + 1, true},
		{MAX - W + 1, false},
		{MAX - 2, true},
		{0, false},
	};

	RUN(*state, steps);
}

static void test_replay_uint64_max_approach(void **state)
{
	static const struct step steps[] = {
		{0, true},
		{MAX - 1, true},
		{MAX - 1, false},
		{MAX, true},
		{MAX, false},
		{MAX - 1, false},
		{MAX - 3, true},
		{MAX - W, false},
		{MAX - W + 1, true},
	};

	RUN(*state, steps);
}

static void test_replay_reset_forgets(void **state)
{
	struct sn_replay *r = *state;

	sn_replay_update(r, 0);
	sn_replay_update(r, 100000);
	assert_false(sn_replay_check(r, 0));
	assert_false(sn_replay_check(r, 100000));
	sn_replay_reset(r);
	assert_true(sn_replay_check(r, 0));
	assert_true(sn_replay_check(r, 100000));
	assert_true(sn_replay_check(r, MAX));
}

/* Misuse (update without a passing check) must not mark a newer seq that
 * shares the old one's bit. */
static void test_replay_update_ignores_too_old(void **state)
{
	struct sn_replay *r = *state;

	sn_replay_update(r, 10000);
	sn_replay_update(r, 9999 - SN_REPLAY_BITS);
	assert_true(sn_replay_check(r, 9999));
}

/* The spec checks before the tag is verified: a check of anything, forged
 * or not, must leave the window as it was. */
static void test_replay_check_does_not_change_state(void **state)
{
	static const uint64_t probes[] = {0, 1, 7, 8, W, W + 7, 1000000, MAX - 1, MAX};
	struct sn_replay *r = *state, before;

	for (int round = 0; round < 2; round++) {
		memcpy(&before, r, sizeof(before));
		for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
			(void)sn_replay_check(r, probes[i]);
		assert_memory_equal(&before, r, sizeof(before));
		sn_replay_update(r, 7); /* and again with something seen */
	}
}

/* A straightforward model: every seq it ever saw, in a plain array. */
#define SPAN (3 * SN_REPLAY_BITS)

struct model {
	bool started;
	uint64_t top;
	bool seen[SPAN];
};

static bool model_check(const struct model *m, uint64_t seq)
{
	if (!m->started || seq > m->top)
		return true;
	return m->top - seq < W && !m->seen[seq];
}

static void model_update(struct model *m, uint64_t seq)
{
	if (!m->started || seq > m->top)
		m->top = seq;
	m->started = true;
	m->seen[seq] = true;
}

/* Random traffic around a moving front, against the model. */
static void test_replay_matches_model(void **state)
{
	struct sn_replay *r = *state;
	static struct model m;
	uint64_t front = 0, seq;

	srand(6479);
	for (int i = 0; i < 200000 && front < SPAN - 100; i++) {
		int back = rand() % (int)(W + 200);

		seq = (uint64_t)(rand() % 4 == 0 ? front + (uint64_t)(rand() % 16) :
			front > (uint64_t)back ? front - (uint64_t)back : 0);
		if (seq >= SPAN)
			continue;
		assert_int_equal(sn_replay_check(r, seq), model_check(&m, seq));
		if (model_check(&m, seq)) {
			sn_replay_update(r, seq);
			model_update(&m, seq);
			if (seq > front)
				front = seq;
		}
	}
	assert_true(front > 2 * SN_REPLAY_BITS); /* the ring went round more than once */
}

/* The freshness floor a verifying response sets: every seq below next is
 * seen, every seq from next on acceptable, in any order, at every offset
 * inside a 64-bit block (the floor must not mark the numbers above it that
 * share its block). */
static void test_replay_floor_exact(void **state)
{
	static const uint64_t nexts[] = {
		1, 2, 63, 64, 65, 127, 128, 129, 1000, W - 1, W, W + 1, 2 * SN_REPLAY_BITS + 5,
		UINT64_C(1) << 62, (UINT64_C(1) << 63) - 1,
	};
	struct sn_replay *r = *state;

	for (size_t i = 0; i < sizeof(nexts) / sizeof(nexts[0]); i++) {
		uint64_t next = nexts[i];

		sn_replay_floor(r, next);
		for (uint64_t d = 1; d <= 130 && d <= next; d++)
			if (sn_replay_check(r, next - d))
				fail_msg("floor %llu: seq %llu below it accepted",
					 (unsigned long long)next, (unsigned long long)(next - d));
		if (next > W && sn_replay_check(r, next - W - 1))
			fail_msg("floor %llu: seq far below accepted", (unsigned long long)next);
		/* above the floor, out of order: next + 5 first, then next .. next + 70 */
		assert_true(sn_replay_check(r, next + 5));
		sn_replay_update(r, next + 5);
		for (uint64_t q = next; q <= next + 70; q++) {
			bool want = q != next + 5;

			if (sn_replay_check(r, q) != want)
				fail_msg("floor %llu: seq %llu: want %d", (unsigned long long)next,
					 (unsigned long long)q, want);
			if (want)
				sn_replay_update(r, q);
		}
		for (uint64_t d = 1; d <= 130 && d <= next; d++)
			assert_false(sn_replay_check(r, next - d));
	}
}

/* Floor 0 is an empty window: seq 0 is acceptable, as after a reset. */
static void test_replay_floor_zero(void **state)
{
	struct sn_replay *r = *state, e;
	static const struct step steps[] = {{0, true}, {0, false}, {3, true}, {1, true}};

	sn_replay_reset(&e);
	memset(r, 0x5a, sizeof(*r));
	sn_replay_floor(r, 0);
	assert_memory_equal(r, &e, sizeof(e));
	RUN(r, steps);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_replay_in_order_reorder_duplicates),
		T(test_replay_window_edges),
		T(test_replay_big_jumps),
		T(test_replay_jump_clears_stale_bits),
		T(test_replay_seq_zero_first),
		T(test_replay_uint64_max_first),
		T(test_replay_uint64_max_approach),
		T(test_replay_reset_forgets),
		T(test_replay_update_ignores_too_old),
		T(test_replay_check_does_not_change_state),
		T(test_replay_matches_model),
		T(test_replay_floor_exact),
		T(test_replay_floor_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
