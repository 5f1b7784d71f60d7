/* SPDX-License-Identifier: MIT */
/*
 * tests/test_sojourn.c: the sojourn histogram (core/sojourn.c): every
 * bucket's bounds against a plain search, quantiles on known samples.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "sojourn.h"

/* Buckets are contiguous, ascending, each a quarter octave (or 1 us
 * below 8 us), and every value lands in the bucket whose bounds hold it. */
static void test_sojourn_buckets_tile_the_range(void **state)
{
	uint64_t lo, hi;

	assert_int_equal(sn_sojourn_lo_us(0), 0);
	assert_int_equal(sn_sojourn_lo_us(SN_SOJOURN_BUCKETS - 1), SN_SOJOURN_TOP_US);
	for (uint32_t b = 0; b + 1 < SN_SOJOURN_BUCKETS; b++) {
		lo = sn_sojourn_lo_us(b);
		hi = sn_sojourn_lo_us(b + 1);
		assert_true(hi > lo);
		if (lo >= 8)
			assert_true((hi - lo) * 4 <= lo && (hi - lo) * 7 >= lo);
		assert_int_equal(sn_sojourn_bucket(lo), b);
		assert_int_equal(sn_sojourn_bucket(hi - 1), b);
	}
	for (uint64_t us = 0; us < 200000; us += 7) {
		uint32_t b = sn_sojourn_bucket(us);

		assert_true(sn_sojourn_lo_us(b) <= us);
		if (b + 1 < SN_SOJOURN_BUCKETS)
			assert_true(us < sn_sojourn_lo_us(b + 1));
	}
	assert_int_equal(sn_sojourn_bucket(UINT64_MAX / 1000), SN_SOJOURN_BUCKETS - 1);
}

static void test_sojourn_quantiles(void **state)
{
	static const struct {
		uint32_t permille;
		uint64_t want_us; /* the upper bound of the bucket holding it */
	} cases[] = {
		{ 500, 112 },   /* 100 us is in [96, 112) */
		{ 900, 112 },
		{ 990, 112 },   /* the 990th of 1000 is still 100 us */
		{ 995, 5120 },  /* 5000 us is in [4096, 5120) */
		{ 1000, 5120 },
		{ 0, 112 },     /* the first packet's */
	};
	struct sn_sojourn h;

	memset(&h, 0, sizeof(h));

	assert_int_equal(sn_sojourn_quantile_us(&h, 500), 0);
	for (int i = 0; i < 990; i++)
		sn_sojourn_add(&h, 100000);
	for (int i = 0; i < 10; i++)
		sn_sojourn_add(&h, 5000000);
	assert_int_equal(h.packets, 1000);
	assert_int_equal(h.max_ns, 5000000);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(sn_sojourn_quantile_us(&h, cases[i].permille), cases[i].want_us);
	/* the open-ended last bucket says its maximum */
	sn_sojourn_add(&h, 900000000ull);
	assert_int_equal(sn_sojourn_quantile_us(&h, 1000), 900000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sojourn_buckets_tile_the_range),
		cmocka_unit_test(test_sojourn_quantiles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
