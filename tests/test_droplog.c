/* SPDX-License-Identifier: MIT */
/*
 * tests/test_droplog.c: the drop summary table (core/droplog.c): a fixed
 * size whatever comes, counts per (reason, source address), the lines a
 * window prints (the biggest first, the rest in one), eviction that keeps
 * a heavy sender, and what is not noted (outside an underlay batch,
 * tx_error and tun_error).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "droplog.h"
#include "subnetra/counters.h"

static struct sn_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
	struct sn_addr x = { .family = SN_AF_INET, .port = port, .ip = { a, b, c, d } };

	return x;
}

static void note_n(struct sn_droplog *d, uint32_t reason, struct sn_addr a, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		sn_droplog_note(d, reason, &a);
}

static uint32_t flush(struct sn_droplog *d, char lines[][SN_DROPLOG_LINE])
{
	memset(lines, 0, (SN_DROPLOG_TOP + 1) * SN_DROPLOG_LINE);
	return sn_droplog_flush(d, lines);
}

/* The table is a fixed array inside the node: no pointer, nothing grows. */
static void test_droplog_fixed_size(void **state)
{
	assert_int_equal(sizeof(((struct sn_droplog *)0)->slot),
			 SN_DROPLOG_SLOTS * sizeof(struct sn_droplog_slot));
	assert_true(sizeof(struct sn_droplog) <= 64 + SN_DROPLOG_SLOTS * 40);
}

static void test_droplog_lines(void **state)
{
	static struct sn_droplog d;
	char lines[SN_DROPLOG_TOP + 1][SN_DROPLOG_LINE];

	d.receiving = true;
	note_n(&d, SN_CTR_DROP_AUTH_FAIL, v4(198, 51, 100, 7, 40000), 1234);
	note_n(&d, SN_CTR_DROP_AUTH_FAIL, v4(198, 51, 100, 7, 40001), 6); /* another port: same source */
	note_n(&d, SN_CTR_DROP_REPLAY, v4(198, 51, 100, 7, 40000), 30);   /* another reason */
	note_n(&d, SN_CTR_DROP_SHORT, v4(203, 0, 113, 9, 1), 200);
	note_n(&d, SN_CTR_DROP_UNKNOWN_PEER, v4(192, 0, 2, 1, 2), 20);
	note_n(&d, SN_CTR_DROP_BAD_VERSION, v4(192, 0, 2, 2, 2), 7);
	assert_int_equal(d.total, 1497);
	assert_int_equal(flush(&d, lines), 4);
	assert_string_equal(lines[0], "1240 auth_fail from 198.51.100.7 in the last 10 s");
	assert_string_equal(lines[1], "200 short from 203.0.113.9 in the last 10 s");
	assert_string_equal(lines[2], "30 replay from 198.51.100.7 in the last 10 s");
	assert_string_equal(lines[3], "27 other drops in the last 10 s");
	/* a new window */
	assert_int_equal(d.total, 0);
	assert_int_equal(flush(&d, lines), 0);
	note_n(&d, SN_CTR_DROP_STALE_EPOCH, v4(10, 1, 2, 3, 9), 1);
	assert_int_equal(flush(&d, lines), 1);
	assert_string_equal(lines[0], "1 stale_epoch from 10.1.2.3 in the last 10 s");
}

static void test_droplog_ipv6_source(void **state)
{
	static struct sn_droplog d;
	char lines[SN_DROPLOG_TOP + 1][SN_DROPLOG_LINE];
	struct sn_addr a = { .family = SN_AF_INET6, .port = 5,
			     .ip = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } };

	d.receiving = true;
	note_n(&d, SN_CTR_DROP_AUTH_FAIL, a, 3);
	assert_int_equal(flush(&d, lines), 1);
	assert_string_equal(lines[0], "3 auth_fail from 2001:db8::1 in the last 10 s");
}

/* Only datagrams of an underlay batch; never tx_error or tun_error, whose
 * address is where the packet was going. */
static void test_droplog_what_is_noted(void **state)
{
	static struct sn_droplog d;
	char lines[SN_DROPLOG_TOP + 1][SN_DROPLOG_LINE];

	note_n(&d, SN_CTR_DROP_NO_ROUTE, v4(1, 2, 3, 4, 5), 10); /* a TUN batch */
	assert_int_equal(d.total, 0);
	d.receiving = true;
	note_n(&d, SN_CTR_DROP_TX_ERROR, v4(1, 2, 3, 4, 5), 10);
	note_n(&d, SN_CTR_DROP_TUN_ERROR, v4(1, 2, 3, 4, 5), 10);
	assert_int_equal(d.total, 0);
	assert_int_equal(flush(&d, lines), 0);
}

/* A flood from many sources (a spoofed one) fills the table and takes
 * slots from one another, but never from the heavy sender, and the total
 * stays exact: the lines still add up to every drop. */
static void test_droplog_eviction_keeps_heavy_sender(void **state)
{
	static struct sn_droplog d;
	char lines[SN_DROPLOG_TOP + 1][SN_DROPLOG_LINE];
	unsigned long long named = 0, rest = 0, n;
	uint32_t k;

	d.receiving = true;
	note_n(&d, SN_CTR_DROP_AUTH_FAIL, v4(198, 51, 100, 7, 1), 500);
	for (unsigned i = 0; i < 100000; i++) {
		struct sn_addr a = v4(10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i, 7);

		sn_droplog_note(&d, SN_CTR_DROP_UNKNOWN_PEER, &a);
		if (i % 1000 == 0)
			note_n(&d, SN_CTR_DROP_AUTH_FAIL, v4(198, 51, 100, 7, 1), 1);
	}
	assert_int_equal(d.total, 500 + 100000 + 100);
	k = flush(&d, lines);
	assert_int_equal(k, SN_DROPLOG_TOP + 1);
	assert_string_equal(lines[0], "600 auth_fail from 198.51.100.7 in the last 10 s");
	for (uint32_t i = 0; i < SN_DROPLOG_TOP; i++) {
		assert_int_equal(sscanf(lines[i], "%llu ", &n), 1);
		named += n;
	}
	assert_int_equal(sscanf(lines[SN_DROPLOG_TOP], "%llu other drops in the last 10 s", &rest), 1);
	assert_int_equal(named + rest, 500 + 100000 + 100);
}

/* Sources that fit all keep exact counts. */
static void test_droplog_exact_when_it_fits(void **state)
{
	static struct sn_droplog d;
	char lines[SN_DROPLOG_TOP + 1][SN_DROPLOG_LINE];

	d.receiving = true;
	for (uint8_t i = 1; i <= 16; i++)
		note_n(&d, SN_CTR_DROP_REPLAY, v4(172, 31, 0, i, 1), i * 10u);
	assert_int_equal(flush(&d, lines), 4);
	assert_string_equal(lines[0], "160 replay from 172.31.0.16 in the last 10 s");
	assert_string_equal(lines[1], "150 replay from 172.31.0.15 in the last 10 s");
	assert_string_equal(lines[2], "140 replay from 172.31.0.14 in the last 10 s");
	assert_string_equal(lines[3], "910 other drops in the last 10 s");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_droplog_fixed_size),
		cmocka_unit_test(test_droplog_lines),
		cmocka_unit_test(test_droplog_ipv6_source),
		cmocka_unit_test(test_droplog_what_is_noted),
		cmocka_unit_test(test_droplog_eviction_keeps_heavy_sender),
		cmocka_unit_test(test_droplog_exact_when_it_fits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
