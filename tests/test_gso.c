/* SPDX-License-Identifier: MIT */
/*
 * tests/test_gso.c: cutting super-packets into segments, completing
 * partial checksums, marking runs (core/gso.h), and the checksum helpers
 * under them (core/csum.h). Every checksum is checked against the
 * independent RFC 1071 loop of tests/support/ipref.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "csum.h"
#include "gso.h"
#include "ipref.h"
#include "wire.h"

#define BIG 70000

static uint8_t super[BIG], seg[BIG];

static uint32_t be16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t be32(const uint8_t *p)
{
	return be16(p) << 16 | be16(p + 2);
}

/* ---- csum.h against the reference ----------------------------------------- */

static void test_gso_csum_matches_reference(void **state)
{
	uint8_t buf[200], copy[200];

	srand(7);
	for (uint32_t n = 0; n <= sizeof(buf); n++) {
		for (uint32_t i = 0; i < n; i++)
			buf[i] = (uint8_t)rand();
		memset(copy, 0, sizeof(copy));
		uint16_t want = ipref_csum(buf, n, 0), got, got_copy;
		uint64_t s = sn_csum_add(0, buf, n), c = sn_csum_copy(copy, buf, n, 0);

		got = (uint16_t)~sn_csum_fold(s);
		got_copy = (uint16_t)~sn_csum_fold(c);
		got = (uint16_t)be16((uint8_t *)&got); /* stored order -> value */
		got_copy = (uint16_t)be16((uint8_t *)&got_copy);
		assert_int_equal(got, want);
		assert_int_equal(got_copy, want);
		assert_memory_equal(copy, buf, n);
		if (n < sizeof(copy))
			assert_int_equal(copy[n], 0); /* nothing written past n */
	}
}

/* RFC 1624: changing one word and patching the checksum gives the same
 * checksum as computing it afresh. */
static void test_gso_csum_incremental_update(void **state)
{
	uint8_t ip[60];
	struct ipref_spec s = { .proto = IPREF_ICMP, .tos = 0x02, .id = 77 };
	uint32_t len = ipref_build(ip, sizeof(ip), &s);
	uint8_t old[2], now[2];

	for (int tos = 0; tos < 256; tos++) {
		memcpy(old, ip, 2);
		ip[1] = (uint8_t)tos;
		memcpy(now, ip, 2);
		sn_csum_replace16(ip + 10, old, now);
		assert_true(ipref_valid(ip, len));
		assert_int_equal(ipref_csum(ip, 20, 0), 0);
	}
}

/* ---- segmentation ---------------------------------------------------------- */

/* Cut the super-packet and check every segment: well formed, checksums
 * right, headers and payload what the kernel's segmentation gives. */
static void check_cut(const struct ipref_spec *sp, uint32_t mss, uint32_t want_segs)
{
	uint32_t len = ipref_build(super, sizeof(super), sp), ihl = 20 + sp->ip_opt_words * 4u;
	uint32_t l4 = sp->proto == IPREF_UDP ? 8 : 20 + sp->tcp_opt_words * 4u, done = 0;
	uint8_t fl0 = super[ihl + 13];
	struct sn_gso g;

	assert_true(len > 0);
	assert_int_equal(sn_gso_init(&g, super, len, mss), 0);
	assert_int_equal(g.segs, want_segs);
	assert_int_equal(g.hlen, ihl + l4);
	for (uint32_t i = 0; i < g.segs; i++) {
		uint32_t n = sn_gso_seg_len(&g, i), pay = n - ihl - l4;

		memset(seg, 0xee, n + 16);
		sn_gso_seg(&g, i, seg);
		assert_int_equal(seg[n], 0xee);
		assert_true(ipref_valid(seg, n));
		assert_int_equal(be16(seg + 4), (uint16_t)(sp->id + i));
		assert_memory_equal(seg + 20, super + 20, ihl - 20); /* IPv4 options */
		assert_true(pay <= mss);
		if (i + 1 < g.segs)
			assert_int_equal(pay, mss);
		for (uint32_t k = 0; k < pay; k++)
			assert_int_equal(seg[ihl + l4 + k], ipref_byte(sp->seed + done + k));
		if (sp->proto != IPREF_UDP) {
			uint8_t want = fl0;

			assert_int_equal(be32(seg + ihl + 4), sp->seq + done);
			if (i + 1 < g.segs)
				want &= (uint8_t)~0x09; /* FIN, PSH on the last only */
			if (i > 0)
				want &= (uint8_t)~0x80; /* CWR on the first only */
			assert_int_equal(seg[ihl + 13], want);
			assert_memory_equal(seg + ihl + 20, super + ihl + 20, l4 - 20); /* options */
		} else {
			assert_int_equal(be16(seg + ihl + 4), 8 + pay);
		}
		done += pay;
	}
	assert_int_equal(done, len - ihl - l4);
}

static void test_gso_cuts_like_the_kernel(void **state)
{
	static const struct {
		struct ipref_spec s;
		uint32_t mss, segs;
	} cases[] = {
		/* a TSO packet as Linux sends one: timestamps, PSH, 64 KiB */
		{ { .tcp_opt_words = 3, .tcp_flags = 0x18, .payload = 65483 - 52 + 20, .seq = 1000,
		    .id = 65530, .tsval = 99 }, 1348, 49 },
		{ { .tcp_flags = 0x19 | 0x80, .payload = 10000, .seq = 0xfffff000u }, 1380, 8 },
		{ { .tcp_flags = 0x10, .payload = 2760, .seq = 5 }, 1380, 2 },
		{ { .tcp_flags = 0x10, .payload = 999, .seq = 5 }, 1380, 1 },
		{ { .tcp_flags = 0x11, .payload = 0 }, 1380, 1 },
		{ { .tcp_flags = 0x10, .payload = 5001, .ip_opt_words = 2 }, 999, 6 },
		{ { .tcp_flags = 0x10, .payload = 4001, .tcp_opt_words = 1 }, 1, 4001 },
		{ { .proto = IPREF_UDP, .payload = 4000, .id = 3 }, 1372, 3 },
		{ { .proto = IPREF_UDP, .payload = 4116 }, 1372, 3 },
		{ { .proto = IPREF_UDP, .payload = 0 }, 1372, 1 },
		{ { .proto = IPREF_UDP, .payload = 1001, .ip_opt_words = 10 }, 7, 143 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("case %zu\n", i);
		check_cut(&cases[i].s, cases[i].mss, cases[i].segs);
	}
}

/* A UDP segment whose checksum computes to 0 goes out as 0xffff. */
static void test_gso_udp_zero_checksum_sent_as_ffff(void **state)
{
	struct ipref_spec sp = { .proto = IPREF_UDP, .payload = 100 };
	uint32_t len = ipref_build(super, sizeof(super), &sp);
	struct sn_gso g;
	uint16_t c;

	/* make the payload's last word cancel the rest: the sum is 0xffff */
	super[len - 2] = super[len - 1] = 0;
	super[26] = super[27] = 0;
	c = ipref_csum(super + 20, len - 20, ipref_pseudo(super, len - 20));
	super[len - 2] = (uint8_t)(c >> 8);
	super[len - 1] = (uint8_t)c;
	assert_int_equal(sn_gso_init(&g, super, len, 1400), 0);
	sn_gso_seg(&g, 0, seg);
	assert_int_equal(seg[26], 0xff);
	assert_int_equal(seg[27], 0xff);
	assert_true(ipref_valid(seg, len));
}

static void test_gso_refuses_what_it_cannot_cut(void **state)
{
	struct ipref_spec sp = { .payload = 3000 };
	uint32_t len = ipref_build(super, sizeof(super), &sp);
	struct sn_gso g;
	uint8_t save;

	assert_int_equal(sn_gso_init(&g, super, len, 0), -EINVAL);       /* no mss */
	assert_int_equal(sn_gso_init(&g, super, len - 1, 1000), -EINVAL); /* total length */
	assert_int_equal(sn_gso_init(&g, super, 19, 1000), -EINVAL);
	super[6] |= 0x20; /* MF: a fragment */
	assert_int_equal(sn_gso_init(&g, super, len, 1000), -EINVAL);
	super[6] &= (uint8_t)~0x20;
	super[7] = 1; /* an offset */
	assert_int_equal(sn_gso_init(&g, super, len, 1000), -EINVAL);
	super[7] = 0;
	super[9] = IPREF_ICMP;
	assert_int_equal(sn_gso_init(&g, super, len, 1000), -EINVAL);
	super[9] = IPREF_TCP;
	save = super[32];
	super[32] = 0x40; /* TCP data offset 4 */
	assert_int_equal(sn_gso_init(&g, super, len, 1000), -EINVAL);
	super[32] = save;
	super[0] = 0x4f; /* IHL 60 bytes: headers past a 40-byte packet */
	assert_int_equal(sn_gso_init(&g, super, 40, 1000), -EINVAL);
	super[0] = 0x45;
	super[0] = 0x65; /* version 6 */
	assert_int_equal(sn_gso_init(&g, super, len, 1000), -EINVAL);
	super[0] = 0x45;
	assert_int_equal(sn_gso_init(&g, super, len, 1000), 0);
}

/* ---- partial checksums ------------------------------------------------------ */

static void test_gso_completes_partial_checksum(void **state)
{
	static const struct ipref_spec cases[] = {
		{ .payload = 0 }, { .payload = 1 }, { .payload = 1379, .tcp_opt_words = 3 },
		{ .proto = IPREF_UDP, .payload = 63 }, { .proto = IPREF_UDP, .payload = 64 },
		{ .payload = 20, .ip_opt_words = 3 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t len = ipref_build(super, sizeof(super), &cases[i]);
		uint32_t ihl = (super[0] & 15u) * 4, off = cases[i].proto == IPREF_UDP ? 6 : 16;
		uint32_t ps = ipref_pseudo(super, len - ihl);
		uint16_t partial;

		/* what the kernel hands over with CHECKSUM_PARTIAL: the folded
		 * pseudo-header sum, not complemented */
		while (ps >> 16)
			ps = (ps & 0xffff) + (ps >> 16);
		partial = (uint16_t)ps;
		super[ihl + off] = (uint8_t)(partial >> 8);
		super[ihl + off + 1] = (uint8_t)partial;
		assert_int_equal(sn_gso_csum(super, len, ihl, off), 0);
		assert_true(ipref_valid(super, len));
	}
	assert_int_equal(sn_gso_csum(super, 40, 20, 19), -EINVAL); /* odd offset */
	assert_int_equal(sn_gso_csum(super, 40, 20, 19 + 1), -EINVAL); /* field past the end */
	assert_int_equal(sn_gso_csum(super, 40, 41, 0), -EINVAL);
	assert_int_equal(sn_gso_csum(super, 40, 20, 18), 0);
}

/* ---- runs -------------------------------------------------------------------- */

static void test_gso_runs_marked(void **state)
{
	static const struct {
		const char *name;
		uint32_t n;
		uint32_t len[12];
		uint8_t to[12];   /* destination port */
		uint16_t want[12]; /* gso_segs of each entry, 0 = not a head */
		uint8_t from[12]; /* last byte of the local address (0: NONE) */
	} cases[] = {
		{ "one run", 4, { 1436, 1436, 1436, 1436 }, { 1, 1, 1, 1 }, { 4 }, { 0 } },
		{ "last shorter", 3, { 1436, 1436, 200 }, { 1, 1, 1 }, { 3 }, { 0 } },
		{ "a shorter one ends it", 4, { 1436, 200, 1436, 1436 }, { 1, 1, 1, 1 }, { 2, 0, 2, 0 }, { 0 } },
		{ "longer starts anew", 3, { 200, 1436, 1436 }, { 1, 1, 1 }, { 0, 2, 0 }, { 0 } },
		{ "other address", 4, { 100, 100, 100, 100 }, { 1, 2, 2, 1 }, { 0, 2, 0, 0 }, { 0 } },
		{ "alone", 1, { 100 }, { 1 }, { 0 }, { 0 } },
		{ "bytes", 3, { 30000, 30000, 30000 }, { 1, 1, 1 }, { 2, 0, 0 }, { 0 } },
		{ "one local address", 3, { 100, 100, 100 }, { 1, 1, 1 }, { 3 }, { 5, 5, 5 } },
		{ "other local address", 4, { 100, 100, 100, 100 }, { 1, 1, 1, 1 }, { 2, 0, 2, 0 },
		  { 5, 5, 9, 9 } },
		{ "local and none", 3, { 100, 100, 100 }, { 1, 1, 1 }, { 0, 2, 0 }, { 5, 0, 0 } },
	};
	static uint8_t bufs[12][4];
	struct sn_pkt pk[80], *v[80];

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		uint32_t runs = 0;

		print_message("%s\n", cases[c].name);
		for (uint32_t i = 0; i < cases[c].n; i++) {
			pk[i] = (struct sn_pkt){ .buf = bufs[i], .len = cases[c].len[i] };
			pk[i].addr.family = SN_AF_INET;
			pk[i].addr.port = cases[c].to[i];
			if (cases[c].from[i]) {
				pk[i].local.family = SN_AF_INET;
				pk[i].local.ip[0] = 172;
				pk[i].local.ip[3] = cases[c].from[i];
			}
			v[i] = &pk[i];
		}
		for (uint32_t i = 0; i < cases[c].n; i++)
			runs += cases[c].want[i] != 0;
		assert_int_equal(sn_gso_runs(v, cases[c].n), runs);
		for (uint32_t i = 0; i < cases[c].n; i++) {
			assert_int_equal(pk[i].gso_segs, cases[c].want[i]);
			assert_int_equal(!!(pk[i].flags & SN_PKT_F_RUN), cases[c].want[i] != 0);
			if (cases[c].want[i])
				assert_int_equal(pk[i].gso_size, cases[c].len[i]);
		}
	}
	/* at most SN_GSO_MAX_SEGS per run */
	for (uint32_t i = 0; i < 80; i++) {
		pk[i] = (struct sn_pkt){ .buf = bufs[0], .len = 100 };
		pk[i].addr.family = SN_AF_INET;
		v[i] = &pk[i];
	}
	assert_int_equal(sn_gso_runs(v, 80), 2);
	assert_int_equal(pk[0].gso_segs, SN_GSO_MAX_SEGS);
	assert_int_equal(pk[SN_GSO_MAX_SEGS].gso_segs, 80 - SN_GSO_MAX_SEGS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gso_csum_matches_reference),
		cmocka_unit_test(test_gso_csum_incremental_update),
		cmocka_unit_test(test_gso_cuts_like_the_kernel),
		cmocka_unit_test(test_gso_udp_zero_checksum_sent_as_ffff),
		cmocka_unit_test(test_gso_refuses_what_it_cannot_cut),
		cmocka_unit_test(test_gso_completes_partial_checksum),
		cmocka_unit_test(test_gso_runs_marked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
