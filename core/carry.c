/* SPDX-License-Identifier: MIT */
/*
 * core/carry.c: peer sessions across a reload. A peer whose identity (id
 * and pair key) is unchanged keeps its session and key contexts; one that
 * leaves is saved, and continues its session if it comes back before the
 * node restarts, so that no (key, nonce) pair is used twice and old
 * datagrams stay replays (docs/protocol.md, sections 5 and 9).
 * Control path only: called by sn_node_reload() between two packets.
 */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"

static bool addr_eq(const struct sn_addr *a, const struct sn_addr *b)
{
	return a->family == b->family && a->port == b->port && !memcmp(a->ip, b->ip, 16);
}

static void fingerprint(uint8_t out[static 32], const uint8_t pair_key[static 32])
{
	crypto_generichash(out, 32, pair_key, 32, NULL, 0);
}

/* The identity of a saved session that belongs to p, or -1. */
static int64_t find_saved(const struct sn_node *n, const struct sn_peer *p)
{
	uint8_t fp[32];

	fingerprint(fp, p->pair_key);
	for (uint32_t i = 0; i < n->n_saved; i++)
		if (n->saved[i].id == p->id && !sodium_memcmp(n->saved[i].fingerprint, fp, 32))
			return i;
	return -1;
}

/* p was here before in this run: continue its session. Its tx key was
 * derived for our current epoch by sn_peers_build: a session saved in an
 * older epoch of ours (we moved since) starts that epoch at seq 0. */
static void restore_saved(struct sn_node *n, struct sn_peer *p)
{
	int64_t i = find_saved(n, p);
	struct sn_addr fresh = p->s.endpoint;
	struct sn_peer_saved *sv;

	if (i < 0)
		return; /* new: fresh and unverified */
	sv = &n->saved[i];
	p->s = sv->s;
	memcpy(p->counters, sv->counters, sizeof(p->counters));
	if (p->s.tx_epoch != n->epoch) {
		p->s.tx_epoch = n->epoch;
		p->s.tx_seq = 0;
		if (p->s.state == SN_PEER_EPOCH_WAIT && n->epoch >= n->emove.target)
			p->s.state = SN_PEER_VERIFIED; /* the move it waited for is done */
	}
	if (p->s.rx_has_epoch)
		n->cr.ops->dir_key(n->cr.inst, p->rx_key, p->pair_key, p->id, n->cfg->node_id,
				   p->s.rx_epoch);
	if (p->static_endpoint)
		p->s.endpoint = fresh;
	n->saved[i] = n->saved[--n->n_saved];
}

int sn__carry_reserve(struct sn_node *n, uint32_t more)
{
	uint32_t cap = n->cap_saved;
	struct sn_peer_saved *v;

	if (n->n_saved + more <= cap)
		return 0;
	while (cap < n->n_saved + more)
		cap = cap ? cap * 2 : 8;
	v = realloc(n->saved, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	n->saved = v;
	n->cap_saved = cap;
	return 0;
}

void sn__carry_save_leaving(struct sn_node *n, const struct sn_peers *np)
{
	for (uint32_t i = 0; i < n->peers.n; i++) {
		const struct sn_peer *o = &n->peers.v[i], *p = sn_peer_find(np, o->id);
		struct sn_peer_saved *sv;

		if (p && !sodium_memcmp(o->pair_key, p->pair_key, 32))
			continue;
		sv = &n->saved[n->n_saved++];
		sv->id = o->id;
		fingerprint(sv->fingerprint, o->pair_key);
		sv->s = o->s;
		memcpy(sv->counters, o->counters, sizeof(sv->counters));
	}
}

void sn__carry_peers(struct sn_node *n, const struct sn_config *oc, struct sn_peers *np)
{
	uint32_t ks = n->peers.key_ctx_size;

	for (uint32_t i = 0; i < np->n; i++) {
		struct sn_peer *p = &np->v[i], *o = sn_peer_find(&n->peers, p->id);
		const struct sn_conf_peer *ocp = sn_config_peer(oc, p->id);
		struct sn_addr fresh = p->s.endpoint;

		if (!o || sodium_memcmp(o->pair_key, p->pair_key, 32)) {
			restore_saved(n, p); /* new or re-keyed */
			continue;
		}
		p->s = o->s;
		memcpy(p->tx_key, o->tx_key, ks);
		memcpy(p->rx_key, o->rx_key, ks);
		memcpy(p->counters, o->counters, sizeof(p->counters));
		/* keep a learned endpoint unless the config's static one changed */
		if (p->static_endpoint &&
		    !(ocp && (ocp->has & SN_PEER_HAS_ENDPOINT) && addr_eq(&ocp->endpoint, &fresh)))
			p->s.endpoint = fresh;
	}
}

void sn__node_forget_saved(struct sn_node *n)
{
	if (n->saved)
		sodium_memzero(n->saved, n->cap_saved * sizeof(*n->saved));
	free(n->saved);
	n->saved = NULL;
	n->n_saved = n->cap_saved = 0;
}
