/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_fec.c: fec_xor's frame parser and groups
 * (plugins/egress_fec_xor/frame.c; the format: docs/fec_xor.md).
 *
 * Input: records of len (2 bytes, big-endian) + frame, at most 40.
 * Invariants:
 * - fec_frame_parse accepts a frame exactly when its fields obey the
 *   table of docs/fec_xor.md (restated here), and writing the parsed
 *   header gives its 8 bytes back;
 * - the accepted data and parity frames, added to the groups a receiver
 *   keeps (any order, duplicates, lies about k and lengths included),
 *   never make it read or write past a group's buffer, and a datagram it
 *   says it can rebuild is no longer than the group's longest;
 * - the bodies of the records, as the datagrams of one group a sender
 *   builds (up to 32), come back byte for byte and with their length from
 *   the parity and all the others, whichever one is lost.
 * Each frame lives in a buffer of exactly its size: reads past it are
 * ASan's to find.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "frame.h"
#include "fuzz.h"

#define CAP 512u
#define MAX_REC 40

static bool fields_ok(const uint8_t *b, uint32_t len)
{
	uint8_t fl = b[0] & 0xfu, k = b[1], ix = b[2];
	uint32_t g = (uint32_t)b[4] << 24 | (uint32_t)b[5] << 16 | (uint32_t)b[6] << 8 | b[7];

	if (b[0] >> 4 != 2)
		return false;
	if (fl == 1) /* bytes 2..3: the lengths' XOR, anything */
		return k >= 1 && k <= 32 && len > 8;
	if (b[3] != 0)
		return false;
	if (fl == 0)
		return k >= 2 && k <= 32 && ix < k && len > 8;
	if (fl == 2)
		return k == 0 && ix == 0 && g == 0 && len > 8;
	return false;
}

static uint8_t mem[4][CAP];

/* The receiver's side: every frame into one of two groups. */
static void receiver(uint8_t *const *rec, const uint32_t *len, uint32_t n)
{
	struct fec_acc a[2] = {{.buf = mem[0], .cap = CAP}, {.buf = mem[1], .cap = CAP}};
	uint32_t index, got;
	struct fec_hdr h;

	fec_acc_reset(&a[0], 0);
	fec_acc_reset(&a[1], 1);
	for (uint32_t i = 0; i < n; i++) {
		int rc = len[i] >= FEC_HDR_LEN ? fec_frame_parse(rec[i], len[i], &h) : -EINVAL;
		uint8_t out[FEC_HDR_LEN];
		struct fec_acc *g;

		FZ_CHECK((rc == 0) == (len[i] >= FEC_HDR_LEN && fields_ok(rec[i], len[i])),
			 "record %u: parse %d disagrees with the format", i, rc);
		if (rc)
			continue;
		fec_hdr_write(out, &h);
		FZ_CHECK(!memcmp(out, rec[i], FEC_HDR_LEN), "record %u: header not written back", i);
		if (h.flags == FEC_F_PLAIN)
			continue;
		g = &a[h.group & 1];
		if (h.flags == FEC_F_PARITY)
			fec_acc_add_parity(g, h.k, h.len_xor, rec[i] + FEC_HDR_LEN, len[i] - FEC_HDR_LEN);
		else
			fec_acc_add_data(g, h.index, rec[i] + FEC_HDR_LEN, len[i] - FEC_HDR_LEN);
		FZ_CHECK(g->len <= g->cap, "group longer than its buffer");
		if (fec_acc_missing(g, &index, &got) == 0)
			FZ_CHECK(got > 0 && got <= g->len && index < g->count,
				 "rebuilt %u bytes at %u of a group of %u bytes", got, index, g->len);
	}
}

/* The sender's side: the bodies as one group, each loss rebuilt. */
static void round_trip(uint8_t *const *rec, const uint32_t *len, uint32_t n)
{
	struct fec_acc tx = {.buf = mem[2], .cap = CAP}, rx = {.buf = mem[3], .cap = CAP};
	static uint8_t par[CAP];
	uint32_t k = 0, use[FEC_K_MAX], index, got;

	fec_acc_reset(&tx, 0);
	for (uint32_t i = 0; i < n && k < FEC_K_MAX; i++)
		if (len[i] > 0 && len[i] <= CAP) {
			use[k++] = i;
			fec_acc_add(&tx, rec[i], len[i]);
		}
	if (k < 1)
		return;
	fec_acc_parity(&tx, par);
	for (uint32_t lost = 0; lost < k; lost++) {
		fec_acc_reset(&rx, 0);
		for (uint32_t j = 0; j < k; j++)
			if (j != lost)
				FZ_CHECK(fec_acc_add_data(&rx, j, rec[use[j]], len[use[j]]), "add %u", j);
		FZ_CHECK(fec_acc_add_parity(&rx, k, tx.len_xor, par, tx.len), "parity");
		FZ_CHECK(fec_acc_missing(&rx, &index, &got) == 0, "loss %u not rebuildable", lost);
		FZ_CHECK(index == lost && got == len[use[lost]] &&
				 !memcmp(rx.buf, rec[use[lost]], got),
			 "loss %u: rebuilt index %u, %u bytes, want %u", lost, index, got,
			 len[use[lost]]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *rec[MAX_REC];
	uint32_t len[MAX_REC], n = fz_records(data, size, rec, len, MAX_REC);

	memset(mem, 0, sizeof(mem)); /* a group's buffer is zero past its len */
	receiver(rec, len, n);
	round_trip(rec, len, n);
	fz_records_free(rec, n);
	return 0;
}
