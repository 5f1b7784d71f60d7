/* SPDX-License-Identifier: MIT */
/*
 * core/verify.h: verifying each peer after a start with one challenge and
 * response (docs/protocol.md, "Verifying a peer"), and moving to a new
 * epoch when a peer reports having accepted ours already.
 *
 * A node that has just started remembers nothing of what it accepted
 * before, yet every datagram a peer ever sent still authenticates. So a
 * peer becomes verified only through a RESPONSE that carries the random
 * bytes of our CHALLENGE; until then we send it nothing else and drop what
 * it sends as `unverified`. The response also says which of our epochs the
 * peer accepts and the next sequenced seq it will use towards us, the floor
 * below which its datagrams are replays.
 */
#ifndef SN_VERIFY_H
#define SN_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "subnetra/packet.h"
#include "wire.h"

struct sn_node;
struct sn_peer;

/* At most one challenge, and one response, per (peer, destination address)
 * per SN_VERIFY_GAP_NS; a table of SN_VERIFY_RL_SLOTS remembers the last
 * ones (hashed; a collision forgets the older entry, which can only allow
 * one more datagram, never suppress the real peer's). */
#define SN_VERIFY_GAP_NS 100000000ull /* 100 ms */
#define SN_VERIFY_RL_SLOTS 1024
/* Unverified peers are challenged again this often: at a configured
 * endpoint for as long as they stay unverified, at an address a datagram
 * came from (or remembered from the last run) SN_VERIFY_TRIES times. */
#define SN_VERIFY_RETRY_MS 1000
/* Peers one callback of the round visits (core/timers.c). */
#define SN_VERIFY_SLICE 256
#define SN_VERIFY_TRIES 30

struct sn_verify_rl {
	struct {
		uint64_t last_ns;
		uint32_t peer_id;
		uint8_t kind; /* SN_WIRE_F_CHALLENGE or SN_WIRE_F_RESPONSE */
		struct sn_addr to;
	} slot[SN_VERIFY_RL_SLOTS];
};

/* A request to move to a new epoch (persisted off the loop thread first). */
struct sn_epoch_move {
	uint32_t target;  /* the next epoch must be >= target; 0 = none asked */
	bool running;     /* a persisting job is out */
	uint32_t job;     /* the target the running job persists (worker reads it) */
	uint32_t result;  /* what the job persisted (0 = it failed) */
	char err[512];    /* why it failed */
};

/* Receive step 4a: an authentic challenge is answered (rate limit
 * permitting) and changes nothing else; p is consumed (reused as the
 * response or released). */
void sn_verify_on_challenge(struct sn_node *n, struct sn_peer *peer, const struct sn_wire_hdr *h,
			    struct sn_pkt *p, uint64_t now);
/* Step 4b: a datagram of a peer that is not verified: dropped as
 * unverified; if it authenticates, the peer is challenged at its source. */
void sn_verify_on_unverified(struct sn_node *n, struct sn_peer *peer,
			     const struct sn_wire_hdr *h, struct sn_pkt *p, uint64_t now);
/* Steps 7 and 8 of a response: auth_fail, bad_response, or the peer is
 * verified (and we may have to move to a new epoch first). */
void sn_verify_on_response(struct sn_node *n, struct sn_peer *peer, const struct sn_wire_hdr *h,
			   struct sn_pkt *p, uint64_t now);
/* Challenge peer at to now, from our local address from (NONE: the OS
 * picks), unless one went to to less than 100 ms ago. */
void sn_verify_challenge(struct sn_node *n, struct sn_peer *peer, const struct sn_addr *to,
			 const struct sn_addr *from, uint64_t now);
/* The once-a-second round: challenge every unverified peer that has an
 * address to go to, retry a failed epoch move. Returns whether anything is
 * still pending (a timer may stop when not). */
bool sn_verify_tick(struct sn_node *n, uint64_t now);
/* The same for peers [from, from + count) of the registry (timers.c runs a
 * round in slices); an epoch move is retried with the slice at 0. */
bool sn_verify_round(struct sn_node *n, uint64_t now, uint32_t from, uint32_t count);

/* Ask for a new epoch >= target (persisted first); peers wait meanwhile. */
void sn_verify_request_epoch(struct sn_node *n, uint32_t target);
/* Every peer moves to epoch (persisted): tx_epoch, seq 0, tx key; peers
 * that waited for it are verified again. Loop thread. */
void sn_verify_epoch_moved(struct sn_node *n, uint32_t epoch);

#endif
