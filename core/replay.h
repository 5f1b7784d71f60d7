/* SPDX-License-Identifier: MIT */
/*
 * core/replay.h: the anti-replay window of docs/protocol.md, "Receiving"
 * (steps 6 and 8), an RFC 6479 bitmap of SN_REPLAY_BITS bits kept as a ring
 * of 64-bit blocks.
 *
 * Check and update are separate because the receive steps check the window
 * before the tag is verified and change state only after (docs/protocol.md,
 * section 6): a forged datagram must not move the window. Both cost
 * constant time whatever seq is.
 */
#ifndef SN_REPLAY_H
#define SN_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#define SN_REPLAY_BLOCK_BITS 64
/* 32 blocks of window and the one RFC 6479 gives up: the protocol's
 * minimum of 2048 in 264 bytes, the size that lets a hub keep 10,000
 * peers in 2 KiB each (bench/README.md, "Memory"). Not a power of two:
 * the ring index is a remainder (a multiplication, constant time). */
#define SN_REPLAY_BLOCKS 33
#define SN_REPLAY_BITS (SN_REPLAY_BLOCKS * SN_REPLAY_BLOCK_BITS) /* 2112 */
/*
 * Sequence numbers newer than top - SN_REPLAY_WINDOW are judged exactly;
 * older ones are refused. One block is given up (RFC 6479 section 3) so that
 * moving forward only ever clears whole blocks: the block holding top is
 * shared with numbers above it that have not arrived yet.
 */
#define SN_REPLAY_WINDOW (SN_REPLAY_BITS - SN_REPLAY_BLOCK_BITS) /* 2048 */

/* After a reset top is 0 with nothing marked: with an empty bitmap that
 * judges every seq exactly as "nothing seen yet" would, so no flag is kept. */
struct sn_replay {
	uint64_t top;                    /* highest seq marked in this epoch */
	uint64_t bits[SN_REPLAY_BLOCKS]; /* bit seq % SN_REPLAY_BITS: seen */
};

/* An empty window for a new epoch: nothing seen, every seq acceptable. */
void sn_replay_reset(struct sn_replay *r);

/* A window in which every seq below next counts as seen and every seq from
 * next on is acceptable: the freshness floor a verifying response sets
 * (docs/protocol.md, "Verifying a peer"). next 0 is an empty window. */
void sn_replay_floor(struct sn_replay *r, uint64_t next);

/* May seq be accepted (not seen, not too old)? Changes nothing. */
bool sn_replay_check(const struct sn_replay *r, uint64_t seq);

/* Mark seq seen, moving the window forward if it is the newest. Call only
 * after sn_replay_check(seq) passed and the tag verified. */
void sn_replay_update(struct sn_replay *r, uint64_t seq);

#endif
