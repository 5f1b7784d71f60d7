/* SPDX-License-Identifier: MIT */
#include "replay.h"

#include <string.h>

_Static_assert(SN_REPLAY_WINDOW >= 2048, "docs/protocol.md: receive step 6");

static inline uint64_t block_of(uint64_t seq)
{
	return seq / SN_REPLAY_BLOCK_BITS;
}

/* The ring slot holding seq's block. */
static inline uint64_t slot(uint64_t seq)
{
	return block_of(seq) % SN_REPLAY_BLOCKS;
}

static inline uint64_t mask(uint64_t seq)
{
	return (uint64_t)1 << (seq % SN_REPLAY_BLOCK_BITS);
}

void sn_replay_reset(struct sn_replay *r)
{
	memset(r, 0, sizeof(*r));
}

/* top = next - 1 with it and everything below marked. Every slot but
 * top's is filled: those below top are the window's past, the others hold
 * blocks above top, which advance() clears before they are used. In top's
 * own block only the bits up to top are set: seqs above it are not seen. */
void sn_replay_floor(struct sn_replay *r, uint64_t next)
{
	uint64_t top = next - 1, bit = top % SN_REPLAY_BLOCK_BITS;

	sn_replay_reset(r);
	if (!next)
		return;
	memset(r->bits, 0xff, sizeof(r->bits));
	r->bits[slot(top)] = bit == 63 ? UINT64_MAX : (mask(top) << 1) - 1;
	r->top = top;
}

/* Written as top - seq >= WINDOW rather than seq + WINDOW <= top so that no
 * sum can wrap near UINT64_MAX. */
static inline bool too_old(const struct sn_replay *r, uint64_t seq)
{
	return seq <= r->top && r->top - seq >= SN_REPLAY_WINDOW;
}

bool sn_replay_check(const struct sn_replay *r, uint64_t seq)
{
	if (seq > r->top)
		return true;
	if (too_old(r, seq))
		return false;
	return !(r->bits[slot(seq)] & mask(seq));
}

/* Clear the blocks between the old top's block and seq's, at most the whole
 * ring: a jump of any size costs SN_REPLAY_BLOCKS stores at most. */
static void advance(struct sn_replay *r, uint64_t seq)
{
	uint64_t from = block_of(r->top), n = block_of(seq) - from, i;

	if (n > SN_REPLAY_BLOCKS)
		n = SN_REPLAY_BLOCKS;
	for (i = 1; i <= n; i++)
		r->bits[(from + i) % SN_REPLAY_BLOCKS] = 0;
	r->top = seq;
}

void sn_replay_update(struct sn_replay *r, uint64_t seq)
{
	if (seq > r->top)
		advance(r, seq);
	else if (too_old(r, seq))
		return; /* its bit now belongs to a newer seq: never mark that */
	r->bits[slot(seq)] |= mask(seq);
}
