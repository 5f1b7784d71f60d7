/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_kcp.c: kcp_arq's frame parser, acknowledgement blocks and
 * windows (plugins/egress_kcp_arq/frame.c, window.c; the format:
 * docs/kcp_arq.md).
 *
 * Input: records of len (2 bytes, big-endian) + frame, at most 40.
 * Invariants:
 * - kcp_frame_parse accepts a frame exactly when it obeys the rules of
 *   docs/kcp_arq.md (restated here), and writing the parsed header and
 *   block gives their bytes back;
 * - every accepted block, applied to a send window of 64 in flight (as a
 *   sender would: ranges clipped to the window), leaves the window
 *   consistent: inflight equals the used slots, all of them between una
 *   and nxt, una's slot used when anything is in flight;
 * - a data frame's seq marked twice in the receive window is never new the
 *   second time;
 * - the seqs of the data frames, sorted and folded into blocks, parse back
 *   to exactly those seqs.
 * Each frame lives in a buffer of exactly its size: reads past it are
 * ASan's to find.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "frame.h"
#include "fuzz.h"
#include "window.h"

#define MAX_REC 40
#define W 64u

static uint32_t be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* The block at b (len bytes): its length by the rules, or 0. */
static uint32_t block_ok(const uint8_t *b, uint32_t len)
{
	uint32_t n, end = 0;

	if (len < 10 || !be32(b) || b[8] < 1 || b[8] > 64 || b[9] || len < 10u + 4u * b[8])
		return 0;
	n = b[8];
	for (uint32_t i = 0; i < n; i++) {
		uint32_t off = (uint32_t)b[10 + 4 * i] << 8 | b[11 + 4 * i];
		uint32_t cnt = ((uint32_t)b[12 + 4 * i] << 8 | b[13 + 4 * i]) + 1;

		if (i == 0 ? off != 0 : off <= end)
			return 0;
		if (off + cnt - 1 > 0xffff)
			return 0;
		end = off + cnt;
	}
	return 10 + 4 * n;
}

static bool frame_ok(const uint8_t *b, uint32_t len)
{
	uint32_t type, at = 12, blk;

	if (len < 12 || b[0] >> 4 != 1 || (b[1] & ~1u) || b[2] || b[3] || !be32(b + 4))
		return false;
	type = b[0] & 0xfu;
	if (b[1] & 1u) {
		if (!(blk = block_ok(b + 12, len - 12)))
			return false;
		at += blk;
	}
	if (type == 0)
		return len > at;
	if (type == 2)
		return !be32(b + 8) && len > at;
	if (type == 1)
		return !be32(b + 8) && (b[1] & 1u) && len == at;
	return false;
}

static struct kcp_slot slots[W];
static uint8_t bufs[W * 8];

static void window_check(const struct kcp_snd *s)
{
	uint32_t used = 0;

	FZ_CHECK(s->nxt - s->una <= s->w, "span %u past the window", s->nxt - s->una);
	for (uint32_t i = 0; i < s->w; i++)
		if (slots[i].used) {
			used++;
			FZ_CHECK(slots[i].seq - s->una < s->nxt - s->una, "slot %u outside", i);
		}
	FZ_CHECK(used == s->inflight, "inflight %u, %u used", s->inflight, used);
	FZ_CHECK(!s->inflight || slots[s->una % s->w].used, "una's slot free");
}

/* The block a applied as kcp_arq's rx.c does, then the window refilled. */
static void apply(struct kcp_snd *s, const struct kcp_ack *a)
{
	uint32_t una0 = s->una, span = s->nxt - una0;

	for (uint32_t i = 0; i < a->n; i++) {
		int64_t lo = (int32_t)(a->r[i].first - una0), hi = lo + a->r[i].count;

		for (int64_t j = lo < 0 ? 0 : lo; j < (hi > span ? span : hi); j++) {
			struct kcp_slot *sl = kcp_snd_find(s, una0 + (uint32_t)j);

			if (sl)
				kcp_snd_free(s, sl);
		}
	}
	window_check(s);
	while (kcp_snd_push(s, (const uint8_t *)"datagram", 8, 0))
		;
	window_check(s);
}

static void written_back(const uint8_t *f, uint32_t len, const struct kcp_hdr *h,
			 const struct kcp_ack *a, uint32_t body)
{
	uint8_t out[12 + KCP_ACK_LEN(KCP_RANGES_MAX)];
	uint32_t n = 12;

	kcp_hdr_write(out, h);
	if (h->flags & KCP_F_ACK)
		n += kcp_ack_write(out + 12, a);
	FZ_CHECK(n == body && !memcmp(out, f, n), "header and block not written back");
}

/* seqs[0..n) sorted into blocks and parsed back: the same seqs. */
static void blocks_round_trip(uint32_t *seqs, uint32_t n)
{
	uint8_t f[12 + KCP_ACK_LEN(KCP_RANGES_MAX)];
	struct kcp_hdr h = {KCP_T_ACK, KCP_F_ACK, 1, 0}, g;
	struct kcp_ack a, b;
	uint32_t done = 0, body, k, at;

	n = kcp_seq_sort(seqs, n);
	for (uint32_t i = 1; i < n; i++)
		FZ_CHECK((int32_t)(seqs[i] - seqs[i - 1]) > 0, "not sorted at %u", i);
	while (done < n) {
		k = kcp_ack_build(seqs + done, n - done, KCP_RANGES_MAX, &a);
		FZ_CHECK(k >= 1 && k <= n - done, "built %u of %u", k, n - done);
		a.session = 9;
		kcp_hdr_write(f, &h);
		at = 12 + kcp_ack_write(f + 12, &a);
		FZ_CHECK(kcp_frame_parse(f, at, &g, &b, &body) == 0 && body == at, "block does not parse");
		for (uint32_t i = 0, s = done; i < b.n; i++)
			for (uint32_t c = 0; c < b.r[i].count; c++, s++)
				FZ_CHECK(s < done + k && seqs[s] == b.r[i].first + c, "seq %u not in order", s);
		done += k;
	}
}

static void frames(uint8_t *const *rec, const uint32_t *len, uint32_t n)
{
	struct kcp_snd s = {.w = W, .stride = 8, .slot = slots, .buf = bufs};
	static struct kcp_rcv r;
	uint32_t seqs[MAX_REC], ns = 0, k = 0, body;
	struct kcp_hdr h;
	struct kcp_ack a;

	kcp_snd_reset(&s, n && len[0] >= 12 ? be32(rec[0] + 8) : 0); /* the input says where */
	while (kcp_snd_push(&s, (const uint8_t *)"datagram", 8, 0))
		;
	kcp_rcv_reset(&r);
	for (uint32_t i = 0; i < n; i++) {
		int rc = kcp_frame_parse(rec[i], len[i], &h, &a, &body);

		FZ_CHECK((rc == 0) == frame_ok(rec[i], len[i]), "record %u: parse %d disagrees", i, rc);
		if (rc)
			continue;
		written_back(rec[i], len[i], &h, &a, body);
		if (h.flags & KCP_F_ACK)
			apply(&s, &a);
		if (h.type == KCP_T_DATA) {
			kcp_rcv_mark(&r, h.seq);
			FZ_CHECK(kcp_rcv_mark(&r, h.seq) != KCP_RCV_NEW, "seq %u new twice", h.seq);
			seqs[ns++] = h.seq;
		}
	}
	/* blocks need seqs within 2^31 of each other: keep those near the first */
	for (uint32_t i = 0; i < ns; i++)
		if (seqs[i] - seqs[0] + 0x40000000u < 0x80000000u)
			seqs[k++] = seqs[i];
	blocks_round_trip(seqs, k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *rec[MAX_REC];
	uint32_t len[MAX_REC], n = fz_records(data, size, rec, len, MAX_REC);

	frames(rec, len, n);
	fz_records_free(rec, n);
	return 0;
}
