/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_wire.c: the checks a receiver makes before any key is
 * touched (core/wire.h): sn_wire_decode() on the whole input as a datagram,
 * sn_ipv4_check() on the input and on what would be the plaintext of a
 * datagram (the bytes after the header).
 *
 * Invariants:
 * - decode returns 0 or one of SHORT, BAD_VERSION, BAD_HEADER, the one the
 *   rules of docs/protocol.md, section 6 steps 1-3 give, restated here
 *   independently of wire.h;
 * - after 0, the decoded fields encode to the same 20 bytes, and the nonce
 *   is be32(epoch) || be64(seq) read straight from the header bytes;
 * - sn_ipv4_check returns 0 or BAD_INNER as the IPv4 rules give, and after
 *   0 the addresses lie inside the checked bytes.
 * Reads past the input are ASan's to find (the input is an exact-size copy).
 */
#include <string.h>

#include <stdbool.h>

#include "fuzz.h"
#include "wire.h"

static uint64_t be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Section 5 steps 1-3. */
static int expected_decode(const uint8_t *d, size_t n)
{
	if (n < 36)
		return SN_CTR_DROP_SHORT;
	if (d[0] != 1)
		return SN_CTR_DROP_BAD_VERSION;
	uint64_t epoch = be(d + 8, 4), seq = be(d + 12, 8);
	bool random_kind = d[1] == 2 || d[1] == 4;

	if (d[2] || d[3])
		return SN_CTR_DROP_BAD_HEADER;
	/* flags: none (data, a plaintext), 1 (keepalive, none), 2 (challenge,
	 * 16 bytes), 4 (response, 28 bytes); anything else is malformed */
	if (!(d[1] == 0 ? n > 36 : d[1] == 1 ? n == 36 : d[1] == 2 ? n == 52 :
	      d[1] == 4 ? n == 64 : false))
		return SN_CTR_DROP_BAD_HEADER;
	if (epoch == 0 || epoch == 0xffffffffu || (seq >> 63) != (uint64_t)random_kind)
		return SN_CTR_DROP_BAD_HEADER;
	return 0;
}

static int expected_ipv4(const uint8_t *p, size_t n)
{
	if (n < 20 || p[0] >> 4 != 4 || (p[0] & 15) < 5 || (size_t)(p[0] & 15) * 4 > n ||
	    be(p + 2, 2) != n)
		return SN_CTR_DROP_BAD_INNER;
	return 0;
}

static void check_ipv4(const uint8_t *p, size_t n)
{
	int r = sn_ipv4_check(p, (uint32_t)n);

	FZ_CHECK(r == 0 || r == SN_CTR_DROP_BAD_INNER, "sn_ipv4_check returned %d", r);
	FZ_CHECK(r == expected_ipv4(p, n), "sn_ipv4_check: %d, rules say %d (len %zu)", r,
		 expected_ipv4(p, n), n);
	if (r == 0) {
		FZ_CHECK(sn_ipv4_src(p) == be(p + 12, 4), "source address");
		FZ_CHECK(sn_ipv4_dst(p) == be(p + 16, 4), "destination address");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sn_wire_hdr h;
	uint8_t again[SN_WIRE_HDR_LEN], nonce[SN_WIRE_NONCE_LEN];
	int r;

	if (size > UINT32_MAX)
		return 0;
	memset(&h, 0xa5, sizeof(h));
	r = sn_wire_decode(data, (uint32_t)size, &h);
	FZ_CHECK(r == 0 || r == SN_CTR_DROP_SHORT || r == SN_CTR_DROP_BAD_VERSION ||
		 r == SN_CTR_DROP_BAD_HEADER, "sn_wire_decode returned %d", r);
	FZ_CHECK(r == expected_decode(data, size), "sn_wire_decode: %d, the rules say %d", r,
		 expected_decode(data, size));
	if (r == 0) {
		FZ_CHECK(h.version == SN_WIRE_VERSION, "version %u", h.version);
		FZ_CHECK(h.key_id == be(data + 4, 4) && h.epoch == be(data + 8, 4) &&
			 h.seq == be(data + 12, 8), "decoded fields");
		sn_wire_encode(again, &h);
		FZ_CHECK(!memcmp(again, data, SN_WIRE_HDR_LEN), "decode/encode does not round trip");
		sn_wire_nonce(nonce, h.epoch, h.seq);
		FZ_CHECK(!memcmp(nonce, data + 8, SN_WIRE_NONCE_LEN),
			 "the nonce is not the header's epoch and seq");
	}
	check_ipv4(data, size);
	if (size >= SN_WIRE_OVERHEAD)
		check_ipv4(data + SN_WIRE_HDR_LEN, size - SN_WIRE_OVERHEAD);
	return 0;
}
