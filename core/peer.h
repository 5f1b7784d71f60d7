/* SPDX-License-Identifier: MIT */
/*
 * core/peer.h: the peer registry: per peer its keys, its session (endpoint,
 * epochs, sequence counters, replay window, verification) and counters,
 * with O(1) lookup by the key_id carried in every datagram.
 *
 * Built on the control path (start, reload); the data path only reads and
 * updates fields in place.
 */
#ifndef SN_PEER_H
#define SN_PEER_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "config.h"
#include "nodelog.h"
#include "replay.h"
#include "seal.h"
#include "slab.h"
#include "subnetra/counters.h"

/* Where a peer stands after our start (docs/protocol.md, "Verifying a peer"). */
enum sn_peer_state {
	SN_PEER_UNVERIFIED = 0, /* we send it nothing but challenges and responses */
	SN_PEER_VERIFIED,       /* normal traffic both ways */
	SN_PEER_EPOCH_WAIT,     /* verified, but it reported having accepted our epoch
				 * (a lost or rolled-back state directory): we send it
				 * nothing sequenced until our next epoch is persisted */
};

/*
 * One peer's session: everything that must travel together across a reload
 * or a leave-and-return (STYLE rule 25), so carrying it is one assignment.
 * The key contexts are not in it: they are derived from it (tx_epoch,
 * rx_epoch) and the pair key.
 */
struct sn_session {
	/* sending */
	uint32_t tx_epoch;         /* our epoch towards the peer */
	uint64_t tx_seq;           /* the next sequenced seq (data, keepalive): < 2^63 */
	uint64_t last_tx_ns;       /* last sequenced datagram sent (keepalive timing) */

	/* receiving: the accepted epoch and its window (its top is the
	 * highest seq accepted, which roaming needs) */
	bool rx_has_epoch;
	uint32_t rx_epoch;
	struct sn_replay rx_window;
	uint64_t epochs_accepted;  /* how many epochs were accepted from this peer */
	uint64_t last_rx_ns;       /* 0 = never */
	bool heard;                /* a data or keepalive datagram of it was accepted:
				    * it has verified us (keepalive timing) */

	/* verification */
	uint8_t state;             /* enum sn_peer_state */
	uint8_t challenge[16];     /* while unverified: the bytes every challenge carries */
	struct sn_addr chal_to;    /* no configured endpoint: where the last datagram
				    * that earned a challenge came from, or the endpoint
				    * remembered from the last run (family NONE: none) */
	struct sn_addr chal_from;  /* our local address that datagram came to (hub; NONE: any) */
	uint8_t chal_tries;        /* once-a-second challenges left for chal_to */
	uint64_t verified_ns;      /* when it was verified (0: not since our start) */
	uint32_t answered_epoch;   /* the peer's epoch of the last challenge we answered
				    * in our current epoch (0: none); see verify.c */

	struct sn_addr endpoint;   /* family NONE until known */
	struct sn_addr local;      /* a hub's: its own address the peer sends to, which
				    * it answers from (packet.h, "Local addresses");
				    * family NONE: unknown, the OS picks */
};

#define SN_PEER_NAME_MAX 64 /* docs/configuration.md: a peer's name */
/* At most one new candidate epoch per peer per this time (docs/protocol.md
 * section 6, step 7): a flood of forged new epochs costs one derivation per
 * 100 ms, not one per datagram. */
#define SN_CAND_GAP_NS 100000000ull

/*
 * One peer. An object of its own (core/slab.h), not an element of the
 * registry's array: a reload shares the objects of unchanged peers between
 * the old and the new registry, so their sessions and counters go on
 * without being copied. Its identity (id, public key, PSK, and so its
 * pair key) never changes while it lives; the name and the static
 * endpoint change only in a reload's commit on the loop (core/carry.c).
 * The three key contexts follow the struct in the same object.
 */
struct sn_peer {
	uint32_t id;
	bool has_psk;
	bool static_endpoint;      /* endpoint from config */
	uint8_t public_key[32];
	uint8_t psk[32];
	uint8_t pair_key[32];      /* docs/protocol.md, "Keys" */
	char name[SN_PEER_NAME_MAX + 1];

	struct sn_session s;

	/* key contexts (key_ctx_size bytes each, behind the struct) */
	void *tx_key;              /* dir_key(us, peer, s.tx_epoch) */
	void *rx_key;              /* dir_key(peer, us, s.rx_epoch) when s.rx_has_epoch */
	/* the key of the last other epoch tried, derived once per candidate,
	 * a new candidate at most once per SN_CAND_GAP_NS (cand_ns: when) */
	bool cand_valid;
	bool cand_tried;
	uint32_t cand_epoch;
	uint64_t cand_ns;
	void *cand_key;

	uint64_t counters[SN_CTR_MAX];

	struct sn_peer_watch watch; /* what the log said about it (nodelog.c) */
};

/* The index of a registry: open addressing on id, the id kept in the slot
 * so a lookup touches no peer but the one it finds. */
struct sn_peer_slot {
	uint32_t id;
	uint32_t i; /* index into v; SN_PEER_SLOT_EMPTY: none */
};
#define SN_PEER_SLOT_EMPTY UINT32_MAX

/* A registry: which peers the node has. Its arrays are its own (plain
 * arena); its peers are objects of the node's slab, maybe shared with the
 * registry it replaced. */
struct sn_peers {
	struct sn_arena arena;
	struct sn_peer **v;        /* config order */
	uint32_t n;
	uint32_t mask;             /* index size - 1 */
	struct sn_peer_slot *slots;
	uint32_t own_id;
	uint32_t key_ctx_size;
	/* what the build that made it made: peers that are not shared with the
	 * old registry it was built from (all of them without one) */
	struct sn_peer **fresh;
	uint32_t n_fresh;
};

/* The size of one peer object with its key contexts. */
size_t sn_peer_object_size(uint32_t key_ctx_size);

/*
 * Build the registry for config c. A peer of old (NULL: none) with the
 * same id, public key and PSK is shared: the new registry points to the
 * same object (nothing derived, nothing copied). Every other peer is a
 * fresh object from slab: pair key derived with crypto, tx key for epoch,
 * a fresh session (unverified, a new random challenge), listed in
 * ps->fresh. Reads of old only what never changes while it lives (ids,
 * keys, the arrays), so a worker thread may run it while the loop uses
 * old. 0 or a negative errno with a reason in err (nothing left behind).
 */
int sn_peers_build(struct sn_peers *ps, const struct sn_config *c, const struct sn_crypto *crypto,
		   struct sn_slab *slab, uint32_t epoch, const struct sn_peers *old, char *err,
		   size_t err_len);
/* Free the registry's arrays and its fresh peers (a build that is not
 * used: its shared peers belong to the registry they came from). */
void sn_peers_discard(struct sn_peers *ps, const struct sn_crypto *crypto, struct sn_slab *slab);
/* Free the registry's arrays only. */
void sn_peers_free_index(struct sn_peers *ps);
/* Free the registry and every peer in it (exit). */
void sn_peers_destroy(struct sn_peers *ps, const struct sn_crypto *crypto, struct sn_slab *slab);
/* Wipe a peer's key contexts and give the object back. */
void sn_peer_free(struct sn_peer *p, const struct sn_crypto *crypto, struct sn_slab *slab);

/* O(1) lookup by node id; NULL when not a peer. */
static inline struct sn_peer *sn_peer_find(const struct sn_peers *ps, uint32_t id)
{
	uint32_t h = (id * 2654435761u) & ps->mask;

	if (!ps->slots)
		return 0;
	for (;;) {
		const struct sn_peer_slot *sl = &ps->slots[h];

		if (sl->i == SN_PEER_SLOT_EMPTY)
			return 0;
		if (sl->id == id)
			return ps->v[sl->i];
		h = (h + 1) & ps->mask;
	}
}

/* A fresh session in our epoch: unverified, a new random challenge, the
 * configured endpoint (family NONE when there is none). */
void sn_session_init(struct sn_session *s, uint32_t epoch, const struct sn_addr *endpoint);

/* Counter array of a peer (for sn_host.peer_counters). */
uint64_t *sn_peers_counters(void *ps, uint32_t peer_id);

#endif
