/* SPDX-License-Identifier: MIT */
/*
 * core/carry.c: peer sessions across a reload (docs/protocol.md section 9).
 * A peer whose identity (id, public key, PSK) is unchanged keeps its
 * session, key contexts and counters by being the same object in the new
 * registry (sn_peers_build shares it): nothing is copied. A peer that
 * leaves is saved and continues its session if it comes back before the
 * node restarts, so that no (key, nonce) pair is used twice and old
 * datagrams stay replays (docs/protocol.md, sections 5 and 9).
 *
 * A reload plans on its worker thread (which peers leave, which saved
 * sessions come back, which shared peers' names or configured endpoints
 * changed; every allocation and key derivation) and applies the plan in
 * its commit on the loop, between two packets, in O(changed peers).
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
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

static int alloc_arrays(struct sn_carry *plan, uint32_t old_n, uint32_t new_n, uint32_t n_saved)
{
	sn_arena_init(&plan->arena, 0);
	plan->gone = sn_arena_alloc(&plan->arena, (old_n + 1) * sizeof(*plan->gone));
	plan->restore = sn_arena_alloc(&plan->arena, (new_n + 1) * sizeof(*plan->restore));
	plan->patch = sn_arena_alloc(&plan->arena, (new_n + 1) * sizeof(*plan->patch));
	plan->saved = calloc((size_t)n_saved + old_n + 1, sizeof(*plan->saved));
	return plan->gone && plan->restore && plan->patch && plan->saved ? 0 : -ENOMEM;
}

/* Old peers that the new registry does not share leave: each gets a saved
 * entry now, filled in the commit (the session goes on until then). */
static int plan_gone(const struct sn_node *n, const struct sn_peers *np, struct sn_carry *plan)
{
	for (uint32_t i = 0; i < n->peers.n; i++) {
		struct sn_peer *o = n->peers.v[i];
		struct sn_peer_saved *sv;

		if (sn_peer_find(np, o->id) == o)
			continue;
		if (!(sv = calloc(1, sizeof(*sv))))
			return -ENOMEM;
		sv->id = o->id;
		fingerprint(sv->fingerprint, o->pair_key);
		plan->gone[plan->n_gone++] = (struct sn_carry_move){ o, sv };
	}
	return 0;
}

static int cmp_saved(const void *a, const void *b)
{
	const struct sn_peer_saved *x = *(struct sn_peer_saved *const *)a;
	const struct sn_peer_saved *y = *(struct sn_peer_saved *const *)b;

	return (x->id > y->id) - (x->id < y->id);
}

/* The first index of id in by_id (sorted), or n. */
static uint32_t lower_bound(struct sn_peer_saved *const *by_id, uint32_t n, uint32_t id)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (by_id[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The saved entry of p's identity, or NULL. */
static struct sn_peer_saved *find_saved(struct sn_peer_saved *const *by_id, uint32_t n,
					const struct sn_peer *p)
{
	uint8_t fp[32];

	fingerprint(fp, p->pair_key);
	for (uint32_t i = lower_bound(by_id, n, p->id); i < n && by_id[i]->id == p->id; i++)
		if (!sodium_memcmp(by_id[i]->fingerprint, fp, 32))
			return by_id[i];
	return NULL;
}

/* Fresh peers that were here before in this run continue their saved
 * session; their rx key is derived now for the epoch it accepted. */
static int plan_restore(const struct sn_node *n, const struct sn_peers *np, struct sn_carry *plan)
{
	struct sn_peer_saved **by_id;

	if (!n->n_saved)
		return 0;
	by_id = sn_arena_alloc(&plan->arena, n->n_saved * sizeof(*by_id));
	if (!by_id)
		return -ENOMEM;
	memcpy(by_id, n->saved, n->n_saved * sizeof(*by_id));
	qsort(by_id, n->n_saved, sizeof(*by_id), cmp_saved);
	for (uint32_t i = 0; i < np->n_fresh; i++) {
		struct sn_peer *p = np->fresh[i];
		struct sn_peer_saved *sv = find_saved(by_id, n->n_saved, p);

		if (!sv)
			continue;
		plan->restore[plan->n_restore++] = (struct sn_carry_move){ p, sv };
		if (sv->s.rx_has_epoch)
			n->cr.ops->dir_key(n->cr.inst, p->rx_key, p->pair_key, p->id, np->own_id,
					   sv->s.rx_epoch);
	}
	return 0;
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;

	return (x > y) - (x < y);
}

/* The node's saved list after the commit: what stays, then what leaves now. */
static int plan_saved(const struct sn_node *n, struct sn_carry *plan)
{
	struct sn_peer_saved **used = sn_arena_alloc(&plan->arena,
						     (plan->n_restore + 1) * sizeof(*used));

	if (!used)
		return -ENOMEM;
	for (uint32_t i = 0; i < plan->n_restore; i++)
		used[i] = plan->restore[i].sv;
	qsort(used, plan->n_restore, sizeof(*used), cmp_ptr);
	for (uint32_t i = 0; i < n->n_saved; i++)
		if (!bsearch(&n->saved[i], used, plan->n_restore, sizeof(*used), cmp_ptr))
			plan->saved[plan->n_saved++] = n->saved[i];
	for (uint32_t i = 0; i < plan->n_gone; i++)
		plan->saved[plan->n_saved++] = plan->gone[i].sv;
	return 0;
}

/* Shared peers whose name or configured endpoint changed. A learned
 * endpoint is kept unless the config's static one changed. */
static void plan_patches(const struct sn_config *oc, const struct sn_config *nc,
			 const struct sn_peers *np, struct sn_carry *plan)
{
	for (uint32_t i = 0, f = 0; i < np->n; i++) {
		struct sn_peer *p = np->v[i];
		const struct sn_conf_peer *cp = &nc->peers[i], *ocp;
		bool stat = cp->has & SN_PEER_HAS_ENDPOINT, set;

		if (f < np->n_fresh && np->fresh[f] == p) {
			f++; /* fresh: made from cp */
			continue;
		}
		ocp = sn_config_peer(oc, p->id);
		set = stat && !(ocp && (ocp->has & SN_PEER_HAS_ENDPOINT) &&
				addr_eq(&ocp->endpoint, &cp->endpoint));
		if (!set && stat == p->static_endpoint && !strcmp(p->name, cp->name))
			continue;
		plan->patch[plan->n_patch] = (struct sn_carry_patch){ .p = p, .static_endpoint = stat,
								       .set_endpoint = set,
								       .endpoint = cp->endpoint };
		snprintf(plan->patch[plan->n_patch++].name, SN_PEER_NAME_MAX + 1, "%s", cp->name);
	}
}

int sn__carry_plan(const struct sn_node *n, const struct sn_config *oc, const struct sn_config *nc,
		   const struct sn_peers *np, struct sn_carry *plan, char *err, size_t err_len)
{
	int r;

	memset(plan, 0, sizeof(*plan));
	if ((r = alloc_arrays(plan, n->peers.n, np->n, n->n_saved)) < 0 ||
	    (r = plan_gone(n, np, plan)) < 0 || (r = plan_restore(n, np, plan)) < 0 ||
	    (r = plan_saved(n, plan)) < 0) {
		snprintf(err, err_len, "out of memory planning the reload");
		sn__carry_release(plan);
		return r;
	}
	plan_patches(oc, nc, np, plan);
	return 0;
}

/* p was here before in this run: continue its session (rx key derived by
 * the plan). Its tx key was derived for epoch: a session saved in another
 * epoch of ours (we moved since) starts ours at seq 0. */
static void restore_one(struct sn_node *n, const struct sn_carry_move *m)
{
	struct sn_peer *p = m->p;
	struct sn_addr configured = p->s.endpoint;

	p->s = m->sv->s;
	memcpy(p->counters, m->sv->counters, sizeof(p->counters));
	if (p->s.tx_epoch != n->epoch) {
		p->s.tx_epoch = n->epoch;
		p->s.tx_seq = 0;
		if (p->s.state == SN_PEER_EPOCH_WAIT && n->epoch >= n->emove.target)
			p->s.state = SN_PEER_VERIFIED; /* the move it waited for is done */
	}
	if (p->static_endpoint && !addr_eq(&p->s.endpoint, &configured)) {
		p->s.endpoint = configured;
		memset(&p->s.local, 0, sizeof(p->s.local));
	}
}

static void patch_one(const struct sn_carry_patch *pt)
{
	struct sn_peer *p = pt->p;

	memcpy(p->name, pt->name, sizeof(p->name));
	p->static_endpoint = pt->static_endpoint;
	if (pt->set_endpoint) {
		p->s.endpoint = pt->endpoint;
		memset(&p->s.local, 0, sizeof(p->s.local)); /* learned for the old one */
	}
}

/* An epoch move finished while the plan was made: fresh peers' tx keys are
 * for the old epoch (shared peers moved with the node). */
static void catch_up_epoch(struct sn_node *n, struct sn_peers *np, uint32_t epoch)
{
	if (epoch == n->epoch)
		return;
	for (uint32_t i = 0; i < np->n_fresh; i++) {
		struct sn_peer *p = np->fresh[i];

		p->s.tx_epoch = n->epoch;
		n->cr.ops->dir_key(n->cr.inst, p->tx_key, p->pair_key, n->cfg->node_id, p->id,
				   n->epoch);
	}
}

void sn__carry_apply(struct sn_node *n, struct sn_carry *plan, struct sn_peers *np, uint32_t epoch)
{
	for (uint32_t i = 0; i < plan->n_gone; i++) {
		plan->gone[i].sv->s = plan->gone[i].p->s;
		memcpy(plan->gone[i].sv->counters, plan->gone[i].p->counters,
		       sizeof(plan->gone[i].sv->counters));
	}
	for (uint32_t i = 0; i < plan->n_restore; i++)
		restore_one(n, &plan->restore[i]);
	catch_up_epoch(n, np, epoch);
	for (uint32_t i = 0; i < plan->n_patch; i++)
		patch_one(&plan->patch[i]);
	plan->old_saved = n->saved;
	n->saved = plan->saved;
	n->n_saved = plan->n_saved;
	plan->saved = NULL;
	plan->applied = true;
}

static void free_saved(struct sn_peer_saved *sv)
{
	sodium_memzero(sv, sizeof(*sv));
	free(sv);
}

void sn__carry_release(struct sn_carry *plan)
{
	if (plan->applied) {
		for (uint32_t i = 0; i < plan->n_restore; i++)
			free_saved(plan->restore[i].sv); /* continued by its peer */
		free(plan->old_saved);
	} else {
		for (uint32_t i = 0; i < plan->n_gone; i++)
			free_saved(plan->gone[i].sv); /* never filled */
		free(plan->saved);
	}
	sn_arena_free(&plan->arena);
	memset(plan, 0, sizeof(*plan));
}

void sn__node_forget_saved(struct sn_node *n)
{
	for (uint32_t i = 0; i < n->n_saved; i++)
		free_saved(n->saved[i]);
	free(n->saved);
	n->saved = NULL;
	n->n_saved = 0;
}
