/* SPDX-License-Identifier: MIT */
/*
 * tests/test_gro.c: coalescing TCP segments into runs for the TUN device
 * (core/gro.h). Segments are built by tests/support/ipref.c with its own
 * checksum; every run is checked against that checksum (the partial one in
 * the head, the whole super-packet completed) and cut again with core/gso.h
 * to give back, byte for byte, the segments that went in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <string.h>

#include "gro.h"
#include "gso.h"
#include "ipref.h"

#define NPKT 80
#define ROOM 2048
#define MSS 1348

static uint8_t bufs[NPKT][ROOM], orig[NPKT][ROOM], super[70000], seg[ROOM];
static struct sn_pkt pk[NPKT];
static struct sn_pkt *v[NPKT], *out[NPKT];
static uint32_t olen[NPKT];

/* Packet i of the test from spec s (kept as it was in orig[i]). */
static void put(uint32_t i, const struct ipref_spec *s)
{
	pk[i] = (struct sn_pkt){ .buf = bufs[i], .cap = ROOM, .off = 0 };
	pk[i].len = ipref_build(bufs[i], ROOM, s);
	assert_true(pk[i].len > 0);
	memcpy(orig[i], bufs[i], pk[i].len);
	olen[i] = pk[i].len;
	v[i] = &pk[i];
}

/* Segment k of a bulk flow: full MSS, timestamps, ids and seqs counting. */
static struct ipref_spec bulk(uint32_t k, uint16_t sport)
{
	return (struct ipref_spec){ .tcp_opt_words = 3, .payload = MSS, .seq = 1000 + k * MSS,
				    .seed = k * MSS, .id = (uint16_t)(500 + k), .sport = sport,
				    .tsval = 42, .ack = 77 };
}

static uint32_t index_of(const struct sn_pkt *p)
{
	return (uint32_t)(p - pk);
}

/* Concatenate the run at out[at] into super; returns its length. */
static uint32_t gather(uint32_t at)
{
	uint32_t len = 0;

	for (uint32_t j = 0; j < out[at]->gso_segs; j++) {
		memcpy(super + len, sn_pkt_data(out[at + j]), out[at + j]->len);
		len += out[at + j]->len;
	}
	return len;
}

/* The run at out[at]: its head's headers and partial checksum are right,
 * and cutting it gives back the original packets. */
static void check_run(uint32_t at)
{
	const struct sn_pkt *h = out[at];
	uint32_t len = gather(at), ps = ipref_pseudo(super, len - 20);
	struct sn_gso g;

	assert_true(h->flags & SN_PKT_F_RUN);
	assert_true(h->flags & SN_PKT_F_CSUM);
	assert_int_equal(h->csum_start, 20);
	assert_int_equal(h->csum_offset, 16);
	assert_int_equal((uint32_t)super[2] << 8 | super[3], len);
	assert_int_equal(ipref_csum(super, 20, 0), 0);
	while (ps >> 16)
		ps = (ps & 0xffff) + (ps >> 16);
	assert_int_equal((uint32_t)super[36] << 8 | super[37], ps);
	/* completed as the kernel would, it is a valid packet */
	assert_int_equal(sn_gso_csum(super, len, 20, 16), 0);
	assert_true(ipref_valid(super, len));
	assert_int_equal(sn_gso_init(&g, super, len, h->gso_size), 0);
	assert_int_equal(g.segs, h->gso_segs);
	for (uint32_t j = 0; j < g.segs; j++) {
		uint32_t i = index_of(out[at + j]);

		assert_int_equal(sn_gso_seg_len(&g, j), olen[i]);
		sn_gso_seg(&g, j, seg);
		assert_memory_equal(seg, orig[i], olen[i]);
	}
}

/* Entries written alone are untouched. */
static void check_alone(uint32_t at)
{
	uint32_t i = index_of(out[at]);

	assert_false(out[at]->flags & SN_PKT_F_RUN);
	assert_int_equal(out[at]->len, olen[i]);
	assert_memory_equal(sn_pkt_data(out[at]), orig[i], olen[i]);
}

/* The output as "run of k" / "alone" items, in the order given. */
static void expect(uint32_t n, const uint32_t *items, const uint32_t *first)
{
	uint32_t at = 0;

	for (uint32_t t = 0; at < n; t++) {
		assert_int_equal(index_of(out[at]), first[t]);
		if (items[t] > 1) {
			assert_int_equal(out[at]->gso_segs, items[t]);
			check_run(at);
		} else {
			check_alone(at);
		}
		at += items[t];
	}
}

static void test_gro_one_flow_one_run(void **state)
{
	static const uint32_t items[] = { 10 }, first[] = { 0 };
	struct ipref_spec s;

	for (uint32_t k = 0; k < 10; k++) {
		s = bulk(k, 40000);
		if (k == 9) {
			s.payload = 100;
			s.tcp_flags = 0x18; /* PSH on the last */
		}
		put(k, &s);
	}
	assert_int_equal(sn_gro_coalesce(v, 10, out), 1);
	assert_int_equal(out[0]->gso_size, MSS);
	assert_int_equal(out[0]->buf[33], 0x18); /* the head took the PSH */
	expect(10, items, first);
}

/* Two interleaved flows: two runs, each in its own order. */
static void test_gro_two_flows(void **state)
{
	static const uint32_t items[] = { 4, 4 }, first[] = { 0, 1 };
	struct ipref_spec s;

	for (uint32_t k = 0; k < 8; k++) {
		s = bulk(k / 2, (uint16_t)(40000 + k % 2));
		put(k, &s);
	}
	assert_int_equal(sn_gro_coalesce(v, 8, out), 2);
	for (uint32_t j = 0; j < 4; j++) {
		assert_int_equal(index_of(out[j]), 2 * j);
		assert_int_equal(index_of(out[4 + j]), 2 * j + 1);
	}
	expect(8, items, first);
}

/* Case c of test_gro_what_ends_a_run: packet k (of five bulk segments)
 * changed. "rest" cases change packets 2..4, the others packet 2 only. */
static void mutate(size_t c, uint32_t k, struct ipref_spec *s)
{
	bool two = k == 2, rest = k >= 2;

	switch (c) {
	case 0: if (rest) s->seq += MSS, s->seed += MSS; break; /* a segment lost */
	case 2: if (two) s->ip_opt_words = 1; break;
	case 3: if (two) s->payload = 0; break;
	case 4: if (rest) s->ttl = 63; break;
	case 5: if (rest) s->tos = 3; break;
	case 6: if (rest) s->id += 7; break;
	case 7: if (two) s->tcp_flags = 0x90; break;
	case 8: if (rest) s->window = 9; break;
	case 9: if (rest) s->tsval = 43; break;
	case 10: if (two) s->payload = 10; break;
	case 11: if (two) s->tcp_flags = 0x18; break;
	case 12: if (two) s->payload = MSS + 1; break;
	case 14:
		if (two)
			s->proto = IPREF_UDP;
		if (k > 2) /* the TCP flow goes on where it was */
			*s = bulk(k - 1, 40000);
		break;
	default: break;
	}
}

/* Make 0 the right checksum of packet i (a payload word cancels the rest),
 * then write it in its other form, 0xffff. */
static void ffff_form(uint32_t i)
{
	uint8_t *p = bufs[i];
	uint32_t l4 = pk[i].len - 20;
	uint16_t c0;

	p[52] = p[53] = p[36] = p[37] = 0;
	c0 = ipref_csum(p + 20, l4, ipref_pseudo(p, l4));
	p[52] = (uint8_t)(c0 >> 8);
	p[53] = (uint8_t)c0;
	assert_int_equal(ipref_csum(p + 20, l4, ipref_pseudo(p, l4)), 0);
	p[36] = p[37] = 0xff;
	assert_true(ipref_valid(p, pk[i].len));
}

/* What breaks a run, and what does not. */
static void test_gro_what_ends_a_run(void **state)
{
	static const struct {
		const char *name;
		uint32_t items[5], first[5];
	} cases[] = {
		{ "seq gap", { 2, 3 }, { 0, 2 } },
		{ "bad checksum", { 2, 1, 2 }, { 0, 2, 3 } },
		{ "IPv4 options", { 2, 1, 2 }, { 0, 2, 3 } },
		{ "pure ACK", { 2, 1, 2 }, { 0, 2, 3 } },
		{ "TTL", { 2, 3 }, { 0, 2 } },
		{ "TOS (a CE mark)", { 2, 3 }, { 0, 2 } },
		{ "id", { 2, 3 }, { 0, 2 } },
		{ "CWR", { 2, 1, 2 }, { 0, 2, 3 } },
		{ "window", { 2, 3 }, { 0, 2 } },
		{ "timestamp", { 2, 3 }, { 0, 2 } },
		{ "short", { 3, 2 }, { 0, 3 } },
		{ "PSH", { 3, 2 }, { 0, 3 } },
		{ "longer", { 2, 1, 2 }, { 0, 2, 3 } },
		{ "ffff checksum form", { 2, 1, 2 }, { 0, 2, 3 } },
		{ "UDP in between ends nothing", { 4, 1 }, { 0, 2 } },
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		print_message("%s\n", cases[c].name);
		for (uint32_t k = 0; k < 5; k++) {
			struct ipref_spec s = bulk(k, 40000);

			mutate(c, k, &s);
			put(k, &s);
			if (k == 2 && c == 1)
				bufs[2][60] ^= 1; /* a payload byte: the checksum no longer matches */
			if (k == 2 && c == 13)
				ffff_form(2);
			memcpy(orig[k], bufs[k], pk[k].len);
		}
		sn_gro_coalesce(v, 5, out);
		expect(5, cases[c].items, cases[c].first);
	}
}

/* A flow's non-candidate packet keeps its place: nothing of the flow that
 * comes after it is written before it. */
static void test_gro_keeps_flow_order(void **state)
{
	static const uint32_t items[] = { 2, 1, 1, 2 }, first[] = { 0, 2, 3, 4 };
	struct ipref_spec s;

	for (uint32_t k = 0; k < 6; k++) {
		s = bulk(k, 40000);
		if (k == 2) /* another flow in between: joins nothing, ends nothing */
			s = bulk(0, 50000), s.payload = 10;
		if (k == 3) /* a window update of the flow (no payload) ends its run */
			s = bulk(2, 40000), s.payload = 0;
		if (k >= 4)
			s = bulk(k - 2, 40000);
		put(k, &s);
	}
	sn_gro_coalesce(v, 6, out);
	expect(6, items, first);
}

/* At most SN_GSO_MAX_SEGS segments and SN_GSO_MAX_BYTES per run. */
static void test_gro_limits(void **state)
{
	static const uint32_t items[] = { 48, 22 }, first[] = { 0, 48 };
	static const uint32_t items2[] = { 64, 6 }, first2[] = { 0, 64 };
	struct ipref_spec s;

	for (uint32_t k = 0; k < 70; k++) {
		s = bulk(k, 40000);
		put(k, &s);
	}
	assert_int_equal(sn_gro_coalesce(v, 70, out), 2);
	expect(70, items, first); /* 48 x 1400 bytes < 65507 < 49 x 1400 */
	for (uint32_t k = 0; k < 70; k++) {
		s = bulk(k, 40000);
		s.payload = 500, s.seq = 1000 + k * 500, s.seed = k * 500;
		put(k, &s);
	}
	assert_int_equal(sn_gro_coalesce(v, 70, out), 2);
	expect(70, items2, first2);
}

/* More open flows than SN_GRO_OPEN: the oldest is closed, nothing lost. */
static void test_gro_many_flows(void **state)
{
	uint32_t n = 2 * (SN_GRO_OPEN + 2), seen[NPKT] = { 0 };
	struct ipref_spec s;

	for (uint32_t k = 0; k < n; k++) {
		s = bulk(k / (SN_GRO_OPEN + 2), (uint16_t)(40000 + k % (SN_GRO_OPEN + 2)));
		put(k, &s);
	}
	sn_gro_coalesce(v, n, out);
	for (uint32_t k = 0; k < n; k++)
		seen[index_of(out[k])]++;
	for (uint32_t k = 0; k < n; k++)
		assert_int_equal(seen[k], 1);
	for (uint32_t at = 0; at < n; at += out[at]->flags & SN_PKT_F_RUN ? out[at]->gso_segs : 1)
		if (out[at]->flags & SN_PKT_F_RUN)
			check_run(at);
		else
			check_alone(at);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gro_one_flow_one_run),
		cmocka_unit_test(test_gro_two_flows),
		cmocka_unit_test(test_gro_what_ends_a_run),
		cmocka_unit_test(test_gro_keeps_flow_order),
		cmocka_unit_test(test_gro_limits),
		cmocka_unit_test(test_gro_many_flows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
