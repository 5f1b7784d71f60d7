/* SPDX-License-Identifier: MIT */
/*
 * core/peer.h: the peer registry: per peer its keys, endpoint, epochs,
 * sequence counters, replay window and counters, with O(1) lookup by the
 * key_id carried in every datagram.
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

struct sn_peer {
	uint32_t id;
	const char *name;
	uint8_t public_key[32];
	uint8_t pair_key[32];      /* wire-protocol.md section 1 */
	bool has_psk;
	uint8_t psk[32];

	struct sn_addr endpoint;   /* family NONE until known */
	bool static_endpoint;      /* from config */

	/* sending: our epoch, the next seq, the key for (us -> peer, epoch) */
	uint32_t tx_epoch;
	uint64_t tx_seq;
	void *tx_key;
	uint64_t last_tx_ns;       /* last datagram sent (keepalive timing) */

	/* receiving: the accepted epoch and its window and key */
	bool rx_has_epoch;
	uint32_t rx_epoch;
	struct sn_replay rx_window;
	void *rx_key;
	/* the key of the last newer epoch tried, derived once per candidate */
	bool cand_valid;
	uint32_t cand_epoch;
	void *cand_key;
	uint64_t rx_max_seq;       /* highest seq accepted in rx_epoch */
	uint64_t last_rx_ns;       /* 0 = never */
	uint64_t epochs_accepted;  /* how many epochs were accepted from this peer */

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
 * derived with crypto, tx keys for our epoch. 0 or a negative errno with a
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

/* Counter array of a peer (for sn_host.peer_counters). */
uint64_t *sn_peers_counters(void *ps, uint32_t peer_id);

#endif
