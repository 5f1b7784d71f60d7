/* SPDX-License-Identifier: MIT */
/*
 * tests/test_aqm.c: CoDel (core/aqm.c) against RFC 8289's behaviour, and
 * the ECN mark with the checksum checked by tests/support/ipref.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "aqm.h"
#include "ipref.h"

#define MS 1000000ull
#define TARGET (5 * MS)
#define INTERVAL (100 * MS)

/* Feed one packet every step ns from t0 to t1, each having waited
 * sojourn(t) ns; record when a signal came. Returns the number. */
static uint32_t run(struct sn_aqm *q, uint64_t t0, uint64_t t1, uint64_t step,
		    uint64_t (*sojourn)(uint64_t), uint64_t *at, uint32_t max)
{
	uint32_t n = 0;

	for (uint64_t t = t0; t < t1; t += step)
		if (sn_aqm_check(q, sojourn(t), t, TARGET, INTERVAL) == SN_AQM_SIGNAL) {
			if (n < max)
				at[n] = t;
			n++;
		}
	return n;
}

static uint64_t low(uint64_t t)
{
	return TARGET - 1;
}

static uint64_t high(uint64_t t)
{
	return 20 * MS;
}

/* High for the first second, low after. */
static uint64_t burst(uint64_t t)
{
	return t < 1000 * MS + 1 ? 20 * MS : 1 * MS;
}

static void test_aqm_below_target_never_signals(void **state)
{
	struct sn_aqm q = { 0 };
	uint64_t at[4];

	assert_int_equal(run(&q, 1 * MS, 10000 * MS, 100000, low, at, 4), 0);
	assert_false(q.dropping);
}

/* Above target: nothing for one interval, then signals spaced by the
 * control law, interval / sqrt(count). */
static void test_aqm_control_law(void **state)
{
	struct sn_aqm q = { 0 };
	uint64_t at[64];
	uint32_t n = run(&q, 1 * MS, 3000 * MS, 10000, high, at, 64);

	assert_true(n > 20);
	/* the first signal one interval after the sojourn went above */
	assert_true(at[0] >= 1 * MS + INTERVAL && at[0] <= 1 * MS + INTERVAL + 10000);
	for (uint32_t i = 1; i < 20; i++) {
		/* signal i comes interval / sqrt(i) after signal i - 1 (the
		 * count was i when it was scheduled): (interval / gap)^2 is i,
		 * to the 10 us the packets are spaced by */
		double gap = (double)(at[i] - at[i - 1]), c = (double)INTERVAL * INTERVAL / (gap * gap);

		assert_true(c > i * 0.99 && c < i * 1.01);
	}
	assert_true(q.dropping);
}

/* Once the sojourn falls below target the dropping state ends at once;
 * coming back soon resumes near the old rate (RFC 8289 section 5.6). */
static void test_aqm_leaves_and_resumes(void **state)
{
	struct sn_aqm q = { 0 };
	uint64_t at[64], at2[64];
	uint32_t n = run(&q, 1 * MS, 2000 * MS, 10000, burst, at, 64), n2;

	assert_true(n > 5);
	assert_true(at[n - 1] <= 1000 * MS);
	assert_false(q.dropping);
	/* high again 50 ms later: the first signal after one interval, then
	 * spaced as at the count reached before, not as a fresh start */
	n2 = run(&q, 2050 * MS, 2400 * MS, 10000, high, at2, 64);
	assert_true(n2 >= 3);
	assert_true(at2[1] - at2[0] < INTERVAL / 2);
}

/* One packet below target ends the wait for an interval: the clock of
 * "above target" starts again with the next one above. */
static void test_aqm_one_below_target_resets(void **state)
{
	struct sn_aqm q = { 0 };

	assert_int_equal(sn_aqm_check(&q, 20 * MS, 1 * MS, TARGET, INTERVAL), SN_AQM_PASS);
	assert_int_equal(sn_aqm_check(&q, 1 * MS, 50 * MS, TARGET, INTERVAL), SN_AQM_PASS);
	assert_int_equal(q.first_above, 0);
	assert_int_equal(sn_aqm_check(&q, 20 * MS, 60 * MS, TARGET, INTERVAL), SN_AQM_PASS);
	assert_int_equal(sn_aqm_check(&q, 20 * MS, 150 * MS, TARGET, INTERVAL), SN_AQM_PASS);
	assert_int_equal(sn_aqm_check(&q, 20 * MS, 161 * MS, TARGET, INTERVAL), SN_AQM_SIGNAL);
}

/* ECT(0), ECT(1) and CE are marked CE with a right checksum; Not-ECT is
 * left for the caller to drop, unchanged. */
static void test_aqm_mark(void **state)
{
	static const struct {
		uint8_t tos;
		bool marked;
	} cases[] = {
		{ 0x00, false }, { 0xb8, false }, { 0x02, true }, { 0x01, true }, { 0x03, true },
		{ 0xba, true },
	};
	uint8_t ip[100], before[100];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ipref_spec s = { .tos = cases[i].tos, .payload = 30, .id = (uint16_t)(i * 977) };
		uint32_t len = ipref_build(ip, sizeof(ip), &s);

		memcpy(before, ip, len);
		assert_int_equal(sn_aqm_mark(ip, len), cases[i].marked);
		if (!cases[i].marked) {
			assert_memory_equal(ip, before, len);
			continue;
		}
		assert_int_equal(ip[1], cases[i].tos | 0x03);
		assert_true(ipref_valid(ip, len));
		assert_memory_equal(ip + 12, before + 12, len - 12);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aqm_below_target_never_signals),
		cmocka_unit_test(test_aqm_control_law),
		cmocka_unit_test(test_aqm_leaves_and_resumes),
		cmocka_unit_test(test_aqm_one_below_target_resets),
		cmocka_unit_test(test_aqm_mark),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
