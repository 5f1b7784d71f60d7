/* SPDX-License-Identifier: MIT */
/* tests/test_wire.c: the header codec, the receive checks of docs/protocol.md,
 * section 6 steps 1-3 and 9, and the nonce layout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "wire.h"

/* A datagram buffer: header, up to 64 plaintext bytes, tag. */
#define DGRAM_MAX (SN_WIRE_OVERHEAD + 64)

static const struct sn_wire_hdr sample = {
	.version = SN_WIRE_VERSION,
	.flags = 0,
	.key_id = 0x01020304,
	.epoch = 0x05060708,
	.seq = 0x090a0b0c0d0e0f10ull,
};

/* Header h followed by filler: decode reads only the header and the
 * length it is given, never the bytes behind the header. */
static void make(uint8_t buf[static DGRAM_MAX], const struct sn_wire_hdr *h)
{
	memset(buf, 0xa5, DGRAM_MAX);
	sn_wire_encode(buf, h);
}

static void test_wire_encode_decode_round_trip(void **state)
{
	static const struct sn_wire_hdr cases[] = {
		{SN_WIRE_VERSION, 0, 1, 1, 0},
		{SN_WIRE_VERSION, 0, 0xfffffffeu, 0xfffffffeu, (UINT64_C(1) << 63) - 1},
		{SN_WIRE_VERSION, 0, 2, 1700000000u, 7},
	};
	uint8_t buf[DGRAM_MAX];
	struct sn_wire_hdr out;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		make(buf, &cases[i]);
		memset(&out, 0xee, sizeof(out));
		assert_int_equal(sn_wire_decode(buf, SN_WIRE_MIN_LEN + 1, &out), 0);
		assert_int_equal(out.version, cases[i].version);
		assert_int_equal(out.flags, cases[i].flags);
		assert_int_equal(out.key_id, cases[i].key_id);
		assert_int_equal(out.epoch, cases[i].epoch);
		assert_true(out.seq == cases[i].seq);
	}
}

static void test_wire_encode_big_endian_positions(void **state)
{
	static const uint8_t want[SN_WIRE_HDR_LEN] = {
		0x01, 0x00, 0x00, 0x00,                         /* version flags reserved */
		0x01, 0x02, 0x03, 0x04,                         /* key_id */
		0x05, 0x06, 0x07, 0x08,                         /* epoch */
		0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, /* seq */
	};
	uint8_t buf[SN_WIRE_HDR_LEN + 1];

	buf[SN_WIRE_HDR_LEN] = 0x5a;
	sn_wire_encode(buf, &sample);
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(buf[SN_WIRE_HDR_LEN], 0x5a); /* writes exactly 20 bytes */
}

static void test_wire_encode_keeps_only_kind_flags(void **state)
{
	struct sn_wire_hdr h = sample;
	uint8_t buf[SN_WIRE_HDR_LEN];

	h.flags = 0xff;
	sn_wire_encode(buf, &h);
	assert_int_equal(buf[1], SN_WIRE_F_KEEPALIVE | SN_WIRE_F_CHALLENGE | SN_WIRE_F_RESPONSE);
	h.flags = 0xf8;
	sn_wire_encode(buf, &h);
	assert_int_equal(buf[1], 0);
}

static void test_wire_decode_keepalive(void **state)
{
	struct sn_wire_hdr h = sample, out;
	uint8_t buf[DGRAM_MAX];

	h.flags = SN_WIRE_F_KEEPALIVE;
	make(buf, &h);
	assert_int_equal(sn_wire_decode(buf, SN_WIRE_MIN_LEN, &out), 0);
	assert_int_equal(out.flags, SN_WIRE_F_KEEPALIVE);
}

static void test_wire_decode_short(void **state)
{
	uint8_t buf[DGRAM_MAX];
	struct sn_wire_hdr out;

	make(buf, &sample);
	for (uint32_t len = 0; len < SN_WIRE_MIN_LEN; len++)
		assert_int_equal(sn_wire_decode(buf, len, &out), SN_CTR_DROP_SHORT);
	/* length is checked first: a short datagram is short whatever it says */
	buf[0] = 9;
	assert_int_equal(sn_wire_decode(buf, SN_WIRE_MIN_LEN - 1, &out), SN_CTR_DROP_SHORT);
}

static void test_wire_decode_bad_version(void **state)
{
	static const uint8_t versions[] = {0, 2, 0x10, 0xff};
	uint8_t buf[DGRAM_MAX];
	struct sn_wire_hdr out;

	for (size_t i = 0; i < sizeof(versions); i++) {
		make(buf, &sample);
		buf[0] = versions[i];
		buf[1] = 0x80; /* version is checked before the flags */
		assert_int_equal(sn_wire_decode(buf, DGRAM_MAX, &out), SN_CTR_DROP_BAD_VERSION);
	}
}

struct bad_hdr {
	uint32_t off;  /* byte to set */
	uint8_t val;
	uint32_t len;  /* datagram length */
};

static void test_wire_decode_bad_header(void **state)
{
	static const struct bad_hdr cases[] = {
		{1, 0x08, DGRAM_MAX},                         /* reserved flag bit 3 */
		{1, 0x80, DGRAM_MAX},                         /* reserved flag bit 7 */
		{1, 0x09, SN_WIRE_MIN_LEN},                   /* keepalive + reserved bit */
		{1, 0x03, SN_WIRE_MIN_LEN},                   /* keepalive + challenge */
		{1, 0x03, SN_WIRE_MIN_LEN + 16},
		{1, 0x06, SN_WIRE_MIN_LEN + 16},              /* challenge + response */
		{1, 0x06, SN_WIRE_MIN_LEN + 28},
		{1, 0x05, SN_WIRE_MIN_LEN + 28},              /* keepalive + response */
		{1, 0x07, SN_WIRE_MIN_LEN + 28},
		{1, SN_WIRE_F_CHALLENGE, SN_WIRE_MIN_LEN},    /* challenge of the wrong size */
		{1, SN_WIRE_F_CHALLENGE, SN_WIRE_MIN_LEN + 15},
		{1, SN_WIRE_F_CHALLENGE, SN_WIRE_MIN_LEN + 17},
		{1, SN_WIRE_F_CHALLENGE, SN_WIRE_MIN_LEN + 28},
		{1, SN_WIRE_F_RESPONSE, SN_WIRE_MIN_LEN},     /* response of the wrong size */
		{1, SN_WIRE_F_RESPONSE, SN_WIRE_MIN_LEN + 16},
		{1, SN_WIRE_F_RESPONSE, SN_WIRE_MIN_LEN + 27},
		{1, SN_WIRE_F_RESPONSE, SN_WIRE_MIN_LEN + 29},
		{1, SN_WIRE_F_RESPONSE, DGRAM_MAX},
		{2, 0x01, DGRAM_MAX},                         /* reserved byte 2 */
		{3, 0x80, DGRAM_MAX},                         /* reserved byte 3 */
		{1, 0x00, SN_WIRE_MIN_LEN},                   /* data with empty plaintext */
		{1, SN_WIRE_F_KEEPALIVE, SN_WIRE_MIN_LEN + 1}, /* keepalive with a plaintext */
		{1, SN_WIRE_F_KEEPALIVE, DGRAM_MAX},
	};
	uint8_t buf[DGRAM_MAX];
	struct sn_wire_hdr out;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		make(buf, &sample);
		buf[cases[i].off] = cases[i].val;
		if (sn_wire_decode(buf, cases[i].len, &out) != SN_CTR_DROP_BAD_HEADER)
			fail_msg("case %zu: byte %u = 0x%02x, len %u not bad_header", i,
				 cases[i].off, cases[i].val, cases[i].len);
	}
}

/* A challenge is exactly 52 bytes, a response exactly 64. */
static void test_wire_decode_challenge_and_response(void **state)
{
	static const struct { uint8_t flags; uint32_t len; } ok[] = {
		{ SN_WIRE_F_CHALLENGE, 52 },
		{ SN_WIRE_F_RESPONSE, 64 },
	};
	uint8_t buf[DGRAM_MAX];
	struct sn_wire_hdr h = sample, out;

	for (size_t i = 0; i < 2; i++) {
		h.flags = ok[i].flags;
		h.seq = SN_WIRE_SEQ_RANDOM | 0x1234;
		make(buf, &h);
		assert_int_equal(sn_wire_decode(buf, ok[i].len, &out), 0);
		assert_int_equal(out.flags, ok[i].flags);
		assert_true(out.seq == (SN_WIRE_SEQ_RANDOM | 0x1234));
	}
}

/* Which plaintext sizes each kind allows (also what sealing refuses). */
static void test_wire_plain_ok_table(void **state)
{
	static const struct { uint8_t flags; uint32_t n; int ok; } cases[] = {
		{ 0, 0, 0 }, { 0, 1, 1 }, { 0, 1400, 1 },
		{ SN_WIRE_F_KEEPALIVE, 0, 1 }, { SN_WIRE_F_KEEPALIVE, 1, 0 },
		{ SN_WIRE_F_CHALLENGE, 16, 1 }, { SN_WIRE_F_CHALLENGE, 0, 0 },
		{ SN_WIRE_F_CHALLENGE, 15, 0 }, { SN_WIRE_F_CHALLENGE, 28, 0 },
		{ SN_WIRE_F_RESPONSE, 28, 1 }, { SN_WIRE_F_RESPONSE, 16, 0 },
		{ SN_WIRE_F_RESPONSE, 29, 0 }, { 0x03, 16, 0 }, { 0x06, 28, 0 }, { 0x08, 5, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (sn_wire_plain_ok(cases[i].flags, cases[i].n) != cases[i].ok)
			fail_msg("flags 0x%02x, %u bytes: want %d", cases[i].flags, cases[i].n,
				 cases[i].ok);
}

/* Values no sender may use (docs/protocol.md, section 5): epoch 0 and
 * 0xFFFFFFFF, a sequenced kind with a random-range seq and the reverse. */
static void test_wire_decode_out_of_range(void **state)
{
	static const struct { uint8_t flags; uint32_t epoch; uint64_t seq; uint32_t len; } bad[] = {
		{ 0, 0, 5, 40 }, { 0, 0xffffffffu, 5, 40 }, { SN_WIRE_F_KEEPALIVE, 0, 5, 36 },
		{ 0, 7, UINT64_C(1) << 63, 40 }, { SN_WIRE_F_KEEPALIVE, 7, UINT64_MAX, 36 },
		{ SN_WIRE_F_CHALLENGE, 7, 5, 52 }, { SN_WIRE_F_RESPONSE, 7, (UINT64_C(1) << 63) - 1, 64 },
		{ SN_WIRE_F_CHALLENGE, 0, UINT64_MAX, 52 }, { SN_WIRE_F_RESPONSE, 0xffffffffu, UINT64_MAX, 64 },
	};
	uint8_t buf[DGRAM_MAX];
	struct sn_wire_hdr h = sample, out;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		h.flags = bad[i].flags;
		h.epoch = bad[i].epoch;
		h.seq = bad[i].seq;
		make(buf, &h);
		if (sn_wire_decode(buf, bad[i].len, &out) != SN_CTR_DROP_BAD_HEADER)
			fail_msg("case %zu: flags %02x epoch %u seq %llx not bad_header", i, h.flags,
				 h.epoch, (unsigned long long)h.seq);
	}
}

static void test_wire_decode_smallest_data_datagram(void **state)
{
	uint8_t buf[DGRAM_MAX];
	struct sn_wire_hdr out;

	make(buf, &sample);
	assert_int_equal(sn_wire_decode(buf, SN_WIRE_MIN_LEN + 1, &out), 0);
}

static void test_wire_nonce_layout(void **state)
{
	static const uint8_t want[SN_WIRE_NONCE_LEN] = {
		0x65, 0x53, 0xf1, 0x00,                         /* be32(1700000000) */
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* be64(seq) */
	};
	uint8_t out[SN_WIRE_NONCE_LEN];

	sn_wire_nonce(out, 1700000000u, 0x0102030405060708ull);
	assert_memory_equal(out, want, sizeof(want));
}

/* A 28-byte ICMP echo request 10.0.0.2 -> 10.0.0.1 (the test vector's). */
static const uint8_t icmp[28] = {
	0x45, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x40, 0x00, 0x40, 0x01, 0x26, 0xdf,
	0x0a, 0x00, 0x00, 0x02, 0x0a, 0x00, 0x00, 0x01,
	0x08, 0x00, 0xe5, 0xca, 0x12, 0x34, 0x00, 0x01,
};

static void test_ipv4_check_good(void **state)
{
	uint8_t p[64];

	assert_int_equal(sn_ipv4_check(icmp, sizeof(icmp)), 0);
	/* IHL 6 (one option word) with the header still inside the packet */
	memcpy(p, icmp, sizeof(icmp));
	p[0] = 0x46;
	assert_int_equal(sn_ipv4_check(p, sizeof(icmp)), 0);
}

struct bad_inner {
	uint32_t off;
	uint8_t val;
	uint32_t len;
};

static void test_ipv4_check_bad(void **state)
{
	static const struct bad_inner cases[] = {
		{0, 0x65, 28}, /* version 6 */
		{0, 0x05, 28}, /* version 0 */
		{0, 0x44, 28}, /* IHL 4 */
		{0, 0x40, 28}, /* IHL 0 */
		{0, 0x48, 28}, /* IHL 8: 32 header bytes in 28 */
		{0, 0x4f, 28}, /* IHL 15 */
		{3, 0x1d, 28}, /* total length 29 > 28 */
		{3, 0x1b, 28}, /* total length 27 < 28 */
		{2, 0x01, 28}, /* total length 284 */
		{3, 0x1c, 19}, /* shorter than a minimal header */
		{3, 0x1c, 0},  /* empty */
	};
	uint8_t p[sizeof(icmp)];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(p, icmp, sizeof(icmp));
		p[cases[i].off] = cases[i].val;
		if (sn_ipv4_check(p, cases[i].len) != SN_CTR_DROP_BAD_INNER)
			fail_msg("case %zu: byte %u = 0x%02x, len %u not bad_inner", i,
				 cases[i].off, cases[i].val, cases[i].len);
	}
}

static void test_ipv4_addresses_host_order(void **state)
{
	assert_int_equal(sn_ipv4_src(icmp), 0x0a000002u);
	assert_int_equal(sn_ipv4_dst(icmp), 0x0a000001u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wire_encode_decode_round_trip),
		cmocka_unit_test(test_wire_encode_big_endian_positions),
		cmocka_unit_test(test_wire_encode_keeps_only_kind_flags),
		cmocka_unit_test(test_wire_decode_challenge_and_response),
		cmocka_unit_test(test_wire_plain_ok_table),
		cmocka_unit_test(test_wire_decode_out_of_range),
		cmocka_unit_test(test_wire_decode_keepalive),
		cmocka_unit_test(test_wire_decode_short),
		cmocka_unit_test(test_wire_decode_bad_version),
		cmocka_unit_test(test_wire_decode_bad_header),
		cmocka_unit_test(test_wire_decode_smallest_data_datagram),
		cmocka_unit_test(test_wire_nonce_layout),
		cmocka_unit_test(test_ipv4_check_good),
		cmocka_unit_test(test_ipv4_check_bad),
		cmocka_unit_test(test_ipv4_addresses_host_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
