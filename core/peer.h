/* SPDX-License-Identifier: MIT */
/*
 * core/peer.h: the peer registry: per peer its keys, its session (endpoint,
 * epochs, sequence counters, replay window, verification) and counters,
 * with O(1) lookup by the key_id carried in every datagram.
 *
 * Built on the control path (start, reload) in an arena; the data path only
 * reads and updates fields in place.
 */
#ifndef SN_PEER_H
#define SN_PEER_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "config.h"
#include "replay.h"
#include "seal.h"
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
	uint8_t chal_tries;        /* once-a-second challenges left for chal_to */
	uint64_t verified_ns;      /* when it was verified (0: not since our start) */
	uint32_t answered_epoch;   /* the peer's epoch of the last challenge we answered
				    * in our current epoch (0: none); see verify.c */

	struct sn_addr endpoint;   /* family NONE until known */
};

struct sn_peer {
	uint32_t id;
	const char *name;
	uint8_t public_key[32];
	uint8_t pair_key[32];      /* docs/protocol.md, "Keys" */
	bool has_psk;
	uint8_t psk[32];
	bool static_endpoint;      /* endpoint from config */

	struct sn_session s;

	/* key contexts (key_ctx_size bytes each, in the registry's arena) */
	void *tx_key;              /* dir_key(us, peer, s.tx_epoch) */
	void *rx_key;              /* dir_key(peer, us, s.rx_epoch) when s.rx_has_epoch */
	/* the key of the last other epoch tried, derived once per candidate */
	bool cand_valid;
	uint32_t cand_epoch;
	void *cand_key;

	uint64_t counters[SN_CTR_MAX];
};

struct sn_peers {
	struct sn_arena arena;
	struct sn_peer *v;
	uint32_t n;
	uint32_t mask;      /* hash table size - 1 */
	int32_t *slots;     /* index into v, -1 = empty */
	uint32_t own_id;
	uint32_t key_ctx_size;
};

/*
 * Build the registry for config c: one peer per configured peer, pair keys
 * derived with crypto, tx keys for our epoch, every session fresh
 * (unverified, with a new random challenge). 0 or a negative errno with a
 * reason in err.
 */
int sn_peers_build(struct sn_peers *ps, const struct sn_config *c, const struct sn_crypto *crypto,
		   uint32_t epoch, char *err, size_t err_len);
void sn_peers_destroy(struct sn_peers *ps, const struct sn_crypto *crypto);

/* O(1) lookup by node id; NULL when not a peer. */
static inline struct sn_peer *sn_peer_find(const struct sn_peers *ps, uint32_t id)
{
	uint32_t h = (id * 2654435761u) & ps->mask;

	if (!ps->slots)
		return 0;
	for (;;) {
		int32_t i = ps->slots[h];

		if (i < 0)
			return 0;
		if (ps->v[i].id == id)
			return &ps->v[i];
		h = (h + 1) & ps->mask;
	}
}

/* A fresh session in our epoch: unverified, a new random challenge, the
 * configured endpoint (family NONE when there is none). */
void sn_session_init(struct sn_session *s, uint32_t epoch, const struct sn_addr *endpoint);

/* Counter array of a peer (for sn_host.peer_counters). */
uint64_t *sn_peers_counters(void *ps, uint32_t peer_id);

#endif
