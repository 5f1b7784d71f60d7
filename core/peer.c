/* SPDX-License-Identifier: MIT */
#include "peer.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "keys.h"

static int index_peers(struct sn_peers *ps)
{
	uint32_t size = 8;

	while (size < ps->n * 2)
		size <<= 1;
	ps->slots = sn_arena_alloc(&ps->arena, size * sizeof(*ps->slots));
	if (!ps->slots)
		return -ENOMEM;
	ps->mask = size - 1;
	for (uint32_t i = 0; i < size; i++)
		ps->slots[i] = -1;
	for (uint32_t i = 0; i < ps->n; i++) {
		uint32_t h = (ps->v[i].id * 2654435761u) & ps->mask;

		while (ps->slots[h] >= 0)
			h = (h + 1) & ps->mask;
		ps->slots[h] = (int32_t)i;
	}
	return 0;
}

static int setup_peer(struct sn_peers *ps, struct sn_peer *p, const struct sn_conf_peer *cp,
		      const struct sn_config *c, const struct sn_crypto *cr, uint32_t epoch,
		      const uint8_t own_pub[static 32], char *err, size_t err_len)
{
	int r;

	p->id = cp->id;
	p->name = cp->name;
	memcpy(p->public_key, cp->public_key, 32);
	p->has_psk = cp->has & SN_PEER_HAS_PSK;
	if (p->has_psk)
		memcpy(p->psk, cp->psk, 32);
	p->static_endpoint = cp->has & SN_PEER_HAS_ENDPOINT;
	sn_session_init(&p->s, epoch, p->static_endpoint ? &cp->endpoint : NULL);
	p->tx_key = sn_arena_alloc(&ps->arena, ps->key_ctx_size);
	p->rx_key = sn_arena_alloc(&ps->arena, ps->key_ctx_size);
	p->cand_key = sn_arena_alloc(&ps->arena, ps->key_ctx_size);
	if (!p->tx_key || !p->rx_key || !p->cand_key)
		return -ENOMEM;
	r = cr->ops->pair_key(cr->inst, p->pair_key, c->private_key, own_pub, p->public_key,
			      p->has_psk ? p->psk : NULL);
	if (r < 0) {
		snprintf(err, err_len, "%s: %s.public_key: not a usable X25519 public key "
			 "(the shared secret is all zeros)", c->path, cp->key_path);
		return r;
	}
	return cr->ops->dir_key(cr->inst, p->tx_key, p->pair_key, c->node_id, p->id, epoch);
}

int sn_peers_build(struct sn_peers *ps, const struct sn_config *c, const struct sn_crypto *cr,
		   uint32_t epoch, char *err, size_t err_len)
{
	uint8_t own_pub[32];
	int r;

	memset(ps, 0, sizeof(*ps));
	sn_arena_init_secret(&ps->arena, 0); /* pair keys, PSKs, key contexts */
	ps->own_id = c->node_id;
	ps->key_ctx_size = cr->ops->key_ctx_size ? cr->ops->key_ctx_size : 16;
	r = cr->ops->public_key(cr->inst, own_pub, c->private_key);
	if (r < 0) {
		snprintf(err, err_len, "%s: cannot derive the public key of %s", c->path,
			 c->private_key_file);
		return r;
	}
	ps->v = sn_arena_alloc(&ps->arena, (c->n_peers ? c->n_peers : 1) * sizeof(*ps->v));
	if (!ps->v)
		return -ENOMEM;
	for (uint32_t i = 0; i < c->n_peers; i++) {
		r = setup_peer(ps, &ps->v[i], &c->peers[i], c, cr, epoch, own_pub, err, err_len);
		if (r < 0) {
			ps->n = i + 1;
			sn_peers_destroy(ps, cr);
			return r;
		}
		ps->n = i + 1;
	}
	r = index_peers(ps);
	if (r < 0)
		sn_peers_destroy(ps, cr);
	return r;
}

void sn_peers_destroy(struct sn_peers *ps, const struct sn_crypto *cr)
{
	for (uint32_t i = 0; i < ps->n; i++) {
		struct sn_peer *p = &ps->v[i];

		if (p->tx_key)
			cr->ops->wipe(cr->inst, p->tx_key);
		if (p->rx_key)
			cr->ops->wipe(cr->inst, p->rx_key);
		if (p->cand_key)
			cr->ops->wipe(cr->inst, p->cand_key);
		memset(p->pair_key, 0, sizeof(p->pair_key));
		memset(p->psk, 0, sizeof(p->psk));
	}
	sn_arena_free(&ps->arena);
	memset(ps, 0, sizeof(*ps));
}

void sn_session_init(struct sn_session *s, uint32_t epoch, const struct sn_addr *endpoint)
{
	memset(s, 0, sizeof(*s));
	s->tx_epoch = epoch;
	s->state = SN_PEER_UNVERIFIED;
	randombytes_buf(s->challenge, sizeof(s->challenge));
	if (endpoint)
		s->endpoint = *endpoint;
}

uint64_t *sn_peers_counters(void *ctx, uint32_t peer_id)
{
	struct sn_peer *p = sn_peer_find(ctx, peer_id);

	return p ? p->counters : NULL;
}
