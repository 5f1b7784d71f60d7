/* SPDX-License-Identifier: MIT */
#include "peer.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "keys.h"

static size_t round16(size_t n)
{
	return (n + 15) & ~(size_t)15;
}

size_t sn_peer_object_size(uint32_t key_ctx_size)
{
	return round16(sizeof(struct sn_peer)) + 3 * round16(key_ctx_size);
}

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
		ps->slots[i].i = SN_PEER_SLOT_EMPTY;
	for (uint32_t i = 0; i < ps->n; i++) {
		uint32_t h = (ps->v[i]->id * 2654435761u) & ps->mask;

		while (ps->slots[h].i != SN_PEER_SLOT_EMPTY)
			h = (h + 1) & ps->mask;
		ps->slots[h].id = ps->v[i]->id;
		ps->slots[h].i = i;
	}
	return 0;
}

/* The peer of old that cp describes unchanged (same id, key and PSK), or NULL. */
static struct sn_peer *same_identity(const struct sn_peers *old, const struct sn_conf_peer *cp)
{
	struct sn_peer *o = old ? sn_peer_find(old, cp->id) : NULL;
	bool psk = cp->has & SN_PEER_HAS_PSK;

	if (!o || o->has_psk != psk || sodium_memcmp(o->public_key, cp->public_key, 32) ||
	    (psk && sodium_memcmp(o->psk, cp->psk, 32)))
		return NULL;
	return o;
}

static void copy_name(struct sn_peer *p, const struct sn_conf_peer *cp)
{
	snprintf(p->name, sizeof(p->name), "%s", cp->name ? cp->name : "");
}

/* A fresh object for cp: keys derived, a fresh session. */
static int fresh_peer(struct sn_peers *ps, struct sn_peer **out, const struct sn_conf_peer *cp,
		      const struct sn_config *c, const struct sn_crypto *cr, struct sn_slab *slab,
		      uint32_t epoch, const uint8_t own_pub[static 32], char *err, size_t err_len)
{
	size_t ks = round16(ps->key_ctx_size);
	struct sn_peer *p = sn_slab_get(slab);
	int r;

	if (!(*out = p))
		return -ENOMEM;
	p->id = cp->id;
	copy_name(p, cp);
	memcpy(p->public_key, cp->public_key, 32);
	p->has_psk = cp->has & SN_PEER_HAS_PSK;
	if (p->has_psk)
		memcpy(p->psk, cp->psk, 32);
	p->static_endpoint = cp->has & SN_PEER_HAS_ENDPOINT;
	sn_session_init(&p->s, epoch, p->static_endpoint ? &cp->endpoint : NULL);
	p->tx_key = (unsigned char *)p + round16(sizeof(*p));
	p->rx_key = (unsigned char *)p->tx_key + ks;
	p->cand_key = (unsigned char *)p->rx_key + ks;
	r = cr->ops->pair_key(cr->inst, p->pair_key, c->private_key, own_pub, p->public_key,
			      p->has_psk ? p->psk : NULL);
	if (r < 0) {
		snprintf(err, err_len, "%s: %s%spublic_key: not a usable X25519 public key "
			 "(the shared secret is all zeros)", cp->file ? cp->file : c->path,
			 cp->file ? "" : cp->key_path, cp->file ? "" : ".");
		return r;
	}
	return cr->ops->dir_key(cr->inst, p->tx_key, p->pair_key, c->node_id, p->id, epoch);
}

static int alloc_arrays(struct sn_peers *ps, uint32_t n)
{
	ps->v = sn_arena_alloc(&ps->arena, (n ? n : 1) * sizeof(*ps->v));
	ps->fresh = sn_arena_alloc(&ps->arena, (n ? n : 1) * sizeof(*ps->fresh));
	return ps->v && ps->fresh ? 0 : -ENOMEM;
}

int sn_peers_build(struct sn_peers *ps, const struct sn_config *c, const struct sn_crypto *cr,
		   struct sn_slab *slab, uint32_t epoch, const struct sn_peers *old, char *err,
		   size_t err_len)
{
	uint8_t own_pub[32];
	int r;

	memset(ps, 0, sizeof(*ps));
	sn_arena_init(&ps->arena, 0);
	ps->own_id = c->node_id;
	ps->key_ctx_size = cr->ops->key_ctx_size ? cr->ops->key_ctx_size : 16;
	r = cr->ops->public_key(cr->inst, own_pub, c->private_key);
	if (r < 0) {
		snprintf(err, err_len, "%s: cannot derive the public key of %s", c->path,
			 c->private_key_file);
		return r;
	}
	if ((r = alloc_arrays(ps, c->n_peers)) < 0)
		goto fail;
	for (uint32_t i = 0; i < c->n_peers; i++, ps->n++) {
		struct sn_peer *o = same_identity(old, &c->peers[i]);

		if (o) {
			ps->v[i] = o;
			continue;
		}
		r = fresh_peer(ps, &ps->v[i], &c->peers[i], c, cr, slab, epoch, own_pub, err,
			       err_len);
		if (ps->v[i])
			ps->fresh[ps->n_fresh++] = ps->v[i];
		if (r < 0)
			goto fail;
	}
	if ((r = index_peers(ps)) == 0)
		return 0;
fail:
	if (r == -ENOMEM)
		snprintf(err, err_len, "%s: out of memory building the peers", c->path);
	sn_peers_discard(ps, cr, slab);
	return r;
}

void sn_peer_free(struct sn_peer *p, const struct sn_crypto *cr, struct sn_slab *slab)
{
	if (!p)
		return;
	if (p->tx_key)
		cr->ops->wipe(cr->inst, p->tx_key);
	if (p->rx_key)
		cr->ops->wipe(cr->inst, p->rx_key);
	if (p->cand_key)
		cr->ops->wipe(cr->inst, p->cand_key);
	sn_slab_put(slab, p); /* wipes the rest */
}

void sn_peers_free_index(struct sn_peers *ps)
{
	sn_arena_free(&ps->arena);
	memset(ps, 0, sizeof(*ps));
}

void sn_peers_discard(struct sn_peers *ps, const struct sn_crypto *cr, struct sn_slab *slab)
{
	for (uint32_t i = 0; i < ps->n_fresh; i++)
		sn_peer_free(ps->fresh[i], cr, slab);
	sn_peers_free_index(ps);
}

void sn_peers_destroy(struct sn_peers *ps, const struct sn_crypto *cr, struct sn_slab *slab)
{
	for (uint32_t i = 0; i < ps->n; i++)
		sn_peer_free(ps->v[i], cr, slab);
	sn_peers_free_index(ps);
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
