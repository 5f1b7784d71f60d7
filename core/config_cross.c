/* SPDX-License-Identifier: MIT */
/*
 * core/config_cross.c: the rules of docs/configuration.md between values of
 * different peers (unique ids, overlay addresses and public keys, prefixes
 * that belong to one node only), in O(n log n) for a hub of 100,000 peers:
 * sort, then compare neighbours.
 *
 * Every rule reports exactly what the pairwise scan it replaced reported:
 * the first value in file order that breaks it, against the first earlier
 * value it clashes with. That is why the sorts carry each value's index and
 * the checks then walk the values in file order: first[i], the smallest
 * index holding the same key as i, is all a uniqueness rule needs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "config_priv.h"

/* ---- first occurrences --------------------------------------------------- */

struct item {
	const void *k; /* a string or 32 key bytes; unused for u32 keys */
	uint32_t v;    /* a u32 key */
	uint32_t i;    /* index in file order */
};

static int by_index(uint32_t a, uint32_t b)
{
	return (a > b) - (a < b);
}

/* Each kind of key: its order (key, then index) and its equality. */
struct kind {
	int (*cmp)(const void *, const void *);
	int (*key_cmp)(const struct item *, const struct item *);
};

static int u32_key(const struct item *a, const struct item *b)
{
	return (a->v > b->v) - (a->v < b->v);
}

static int bytes_key(const struct item *a, const struct item *b)
{
	return memcmp(a->k, b->k, 32);
}

static int str_key(const struct item *a, const struct item *b)
{
	return strcmp(a->k, b->k);
}

static int cmp_u32(const void *x, const void *y)
{
	int c = u32_key(x, y);

	return c ? c : by_index(((const struct item *)x)->i, ((const struct item *)y)->i);
}

static int cmp_bytes(const void *x, const void *y)
{
	int c = bytes_key(x, y);

	return c ? c : by_index(((const struct item *)x)->i, ((const struct item *)y)->i);
}

static int cmp_str(const void *x, const void *y)
{
	int c = str_key(x, y);

	return c ? c : by_index(((const struct item *)x)->i, ((const struct item *)y)->i);
}

static const struct kind U32 = { cmp_u32, u32_key };
static const struct kind BYTES = { cmp_bytes, bytes_key };
static const struct kind STR = { cmp_str, str_key };

/* Sort it[0..n); first[it.i] = the smallest index holding the same key
 * (first has room for every index an item carries). */
static void firsts(struct item *it, uint32_t n, const struct kind *k, uint32_t *first)
{
	uint32_t g = 0;

	qsort(it, n, sizeof(*it), k->cmp);
	for (uint32_t x = 0; x < n; x++) {
		if (k->key_cmp(&it[g], &it[x]))
			g = x;
		first[it[x].i] = it[g].i;
	}
}

uint32_t *sn__conf_first_strs(struct sn__ld *ld, const char *const *keys, uint32_t n)
{
	struct item *it = sn_arena_alloc(&ld->tmp, (size_t)n * sizeof(*it) + 1);
	uint32_t *first = sn_arena_alloc(&ld->tmp, (size_t)n * sizeof(*first) + 1);

	if (!it || !first)
		return NULL;
	for (uint32_t i = 0; i < n; i++)
		it[i] = (struct item){ keys[i], 0, i };
	firsts(it, n, &STR, first);
	return first;
}

/* ---- ids ------------------------------------------------------------------- */

/* c->by_id: peer indexes sorted by (id, index), so equal ids are
 * neighbours with the first one first. Built when the peers are read,
 * before policy rules look peers up. */
int sn__conf_index_ids(struct sn__ld *ld)
{
	struct sn_config *c = ld->c;
	struct item *it = sn_arena_alloc(&ld->tmp, (size_t)c->n_peers * sizeof(*it) + 1);

	c->by_id = sn_arena_alloc(&c->arena, (size_t)c->n_peers * sizeof(*c->by_id) + 1);
	if (!it || !c->by_id)
		return sn__conf_oom(ld);
	for (uint32_t i = 0; i < c->n_peers; i++)
		it[i] = (struct item){ NULL, c->peers[i].id, i };
	qsort(it, c->n_peers, sizeof(*it), cmp_u32);
	for (uint32_t x = 0; x < c->n_peers; x++)
		c->by_id[x] = it[x].i;
	return 0;
}

const struct sn_conf_peer *sn_config_peer(const struct sn_config *c, uint32_t id)
{
	uint32_t lo = 0, hi = c->n_peers;

	if (!c->by_id) { /* a config not built by the loader */
		for (uint32_t i = 0; i < c->n_peers; i++)
			if (c->peers[i].id == id)
				return &c->peers[i];
		return NULL;
	}
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (c->peers[c->by_id[mid]].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < c->n_peers && c->peers[c->by_id[lo]].id == id ? &c->peers[c->by_id[lo]] : NULL;
}

/* "peers[1].id", or "id" for a peer of its own peers_dir file. */
const char *sn__conf_peer_path(char *buf, size_t len, const struct sn_conf_peer *p,
			       const char *key)
{
	if (p->file)
		snprintf(buf, len, "%s", key);
	else
		snprintf(buf, len, "%s.%s", p->key_path, key);
	return buf;
}

/* Another peer's KEY in a message: "peers[1].public_key", or
 * "public_key in FILE" for a peer of its own peers_dir file. */
const char *sn__conf_peer_ref(char *buf, size_t len, const struct sn_conf_peer *p,
			      const char *key)
{
	if (p->file)
		snprintf(buf, len, "%s in %s", key, p->file);
	else
		snprintf(buf, len, "%s.%s", p->key_path, key);
	return buf;
}

int sn__conf_check_ids(struct sn__ld *ld)
{
	const struct sn_config *c = ld->c;
	uint32_t *first = sn_arena_alloc(&ld->tmp, (size_t)c->n_peers * sizeof(*first) + 1);
	char path[1100];

	if (!first)
		return sn__conf_oom(ld);
	for (uint32_t x = 0, g = 0; x < c->n_peers; x++) {
		if (c->peers[c->by_id[x]].id != c->peers[c->by_id[g]].id)
			g = x;
		first[c->by_id[x]] = c->by_id[g];
	}
	for (uint32_t i = 0; i < c->n_peers; i++) {
		const struct sn_conf_peer *p = &c->peers[i];
		struct sn_conf_loc at = sn__conf_loc(ld->peer_at[i].id);
		uint32_t j = first[i];

		sn__conf_peer_path(path, sizeof(path), p, "id");
		if (p->id == c->node_id)
			return sn__conf_fail_at(ld, -EINVAL, path, at,
						"%u is this node's own id (node.id, line %u); every node needs its own id",
						p->id, ld->at_id->line);
		if (j != i)
			return sn__conf_fail_at(ld, -EINVAL, path, at,
						"%u is already the id of %s (line %u); every node needs its own id",
						p->id, c->peers[j].key_path, ld->peer_at[j].id->line);
	}
	return 0;
}

/* ---- overlay addresses ------------------------------------------------------- */

static int check_host(struct sn__ld *ld, const char *path, const struct sn__cn *v, uint32_t a)
{
	const struct sn_prefix *s = &ld->c->subnet;
	uint32_t last = s->addr | (s->len ? ~(0xffffffffu << (32 - s->len)) : 0xffffffffu);
	char ab[16], sb[20], fb[16], lb[16];
	const char *what = NULL;

	sn__ipv4_str(a, ab, sizeof(ab));
	sn_prefix_str(s, sb, sizeof(sb));
	if (!sn__prefix_has(s, a))
		return sn__conf_fail_at(ld, -EINVAL, path, sn__conf_loc(v),
					"%s is outside the overlay subnet %s (overlay.subnet, line %u)",
					ab, sb, ld->at_subnet->line);
	if (s->len <= 30 && a == s->addr)
		what = "network";
	else if (s->len <= 30 && a == last)
		what = "broadcast";
	if (!what)
		return 0;
	return sn__conf_fail_at(ld, -EINVAL, path, sn__conf_loc(v),
				"%s is the %s address of %s (use one from %s to %s)", ab, what, sb,
				sn__ipv4_str(s->addr + 1, fb, sizeof(fb)),
				sn__ipv4_str(last - 1, lb, sizeof(lb)));
}

static int check_peer_address(struct sn__ld *ld, uint32_t i, uint32_t j)
{
	const struct sn_config *c = ld->c;
	const struct sn_conf_peer *p = &c->peers[i];
	const struct sn__cn *v = ld->peer_at[i].address;
	char path[1100], ab[16];
	int rc;

	sn__conf_peer_path(path, sizeof(path), p, "address");
	rc = check_host(ld, path, v, p->address);
	if (rc < 0)
		return rc;
	sn__ipv4_str(p->address, ab, sizeof(ab));
	if (p->address == c->address)
		return sn__conf_fail_at(ld, -EINVAL, path, sn__conf_loc(v),
					"%s is this node's own overlay address (overlay.address, line %u)",
					ab, ld->at_address->line);
	if (j != i)
		return sn__conf_fail_at(ld, -EINVAL, path, sn__conf_loc(v),
					"%s is already the address of %s (line %u)", ab,
					c->peers[j].key_path, ld->peer_at[j].address->line);
	return 0;
}

int sn__conf_check_addresses(struct sn__ld *ld)
{
	const struct sn_config *c = ld->c;
	struct item *it = sn_arena_alloc(&ld->tmp, (size_t)c->n_peers * sizeof(*it) + 1);
	uint32_t *first = sn_arena_alloc(&ld->tmp, (size_t)c->n_peers * sizeof(*first) + 1);
	uint32_t k = 0;
	int rc;

	if (!it || !first)
		return sn__conf_oom(ld);
	if (c->subnet.len == 32)
		return sn__conf_fail_at(ld, -EINVAL, "overlay.subnet", sn__conf_loc(ld->at_subnet),
					"a /32 has room for one node only (use a shorter prefix such as /24)");
	rc = check_host(ld, "overlay.address", ld->at_address, c->address);
	for (uint32_t i = 0; i < c->n_peers; i++)
		if (c->peers[i].has & SN_PEER_HAS_ADDRESS)
			it[k++] = (struct item){ NULL, c->peers[i].address, i };
	firsts(it, k, &U32, first);
	for (uint32_t i = 0; i < c->n_peers && rc == 0; i++)
		if (c->peers[i].has & SN_PEER_HAS_ADDRESS)
			rc = check_peer_address(ld, i, first[i]);
	return rc;
}

/* ---- public keys -------------------------------------------------------------- */

int sn__conf_check_public_keys(struct sn__ld *ld, const uint8_t *own)
{
	const struct sn_config *c = ld->c;
	struct item *it = sn_arena_alloc(&ld->tmp, (size_t)c->n_peers * sizeof(*it) + 1);
	uint32_t *first = sn_arena_alloc(&ld->tmp, (size_t)c->n_peers * sizeof(*first) + 1);
	char path[1100], path2[1100];

	if (!it || !first)
		return sn__conf_oom(ld);
	for (uint32_t i = 0; i < c->n_peers; i++)
		it[i] = (struct item){ c->peers[i].public_key, 0, i };
	firsts(it, c->n_peers, &BYTES, first);
	for (uint32_t i = 0; i < c->n_peers; i++) {
		struct sn_conf_loc at = sn__conf_loc(ld->peer_at[i].public_key);
		uint32_t j = first[i];

		sn__conf_peer_path(path, sizeof(path), &c->peers[i], "public_key");
		if (own && !sodium_memcmp(own, c->peers[i].public_key, 32))
			return sn__conf_fail_at(ld, -EINVAL, path, at,
						"is this node's own public key (node.private_key_file); every node needs its own key pair");
		if (j != i)
			return sn__conf_fail_at(ld, -EINVAL, path, at,
						"is the same key as %s (line %u); every node needs its own key pair",
						sn__conf_peer_ref(path2, sizeof(path2), &c->peers[j], "public_key"),
						ld->peer_at[j].public_key->line);
	}
	return 0;
}

/* ---- prefixes that belong to one node only ------------------------------------ */

/*
 * Two prefixes overlap when one contains the other. Sorted by (address,
 * length), prefixes come in the order of a walk down the tree that
 * containment makes of them (a prefix before the ones it contains, and
 * those before the next disjoint one), so one stack of the prefixes that
 * contain the current one gives every prefix its parent, and popping a
 * prefix hands what its subtree holds to its parent: O(n log n) for the
 * sort, O(n * 33) for the rest (a chain of nested prefixes is at most 33
 * long). Equal prefixes form one group.
 *
 * A pair clashes when the owners differ or the prefixes are equal. What
 * each value needs is its smallest clashing partner: per group (its own
 * entries) and per subtree (everything it contains) that takes the two
 * smallest indexes held by different owners.
 */

#define NONE UINT32_MAX

/* The smallest index (i1, its owner o1) and the smallest whose owner is
 * not o1 (i2, o2). */
struct agg {
	uint32_t i1, o1, i2, o2;
};

struct group {
	struct sn_prefix p;
	uint32_t first, n;  /* its entries: sorted[first .. first + n), by index */
	int32_t parent;     /* the group that contains it most closely, -1: none */
	struct agg self;    /* its own entries */
	struct agg below;   /* the entries of every prefix it contains */
};

struct entry {
	struct sn_prefix p;
	uint32_t owner;
	uint32_t i; /* index in file order */
};

static const struct agg AGG_EMPTY = { NONE, 0, NONE, 0 };

static void agg_add(struct agg *a, uint32_t i, uint32_t o)
{
	if (i == NONE)
		return;
	if (i < a->i1) {
		if (a->i1 != NONE && o != a->o1) {
			a->i2 = a->i1;
			a->o2 = a->o1;
		}
		a->i1 = i;
		a->o1 = o;
	} else if (o != a->o1 && i < a->i2) {
		a->i2 = i;
		a->o2 = o;
	}
}

static void agg_merge(struct agg *a, const struct agg *b)
{
	agg_add(a, b->i1, b->o1);
	agg_add(a, b->i2, b->o2);
}

/* The smallest index in a whose owner is not o. */
static uint32_t agg_other(const struct agg *a, uint32_t o)
{
	return a->o1 != o ? a->i1 : a->i2;
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static int cmp_entry(const void *x, const void *y)
{
	const struct entry *a = x, *b = y;

	if (a->p.addr != b->p.addr)
		return a->p.addr < b->p.addr ? -1 : 1;
	if (a->p.len != b->p.len)
		return a->p.len < b->p.len ? -1 : 1;
	return by_index(a->i, b->i);
}

static bool contains(const struct sn_prefix *outer, const struct sn_prefix *inner)
{
	return outer->len <= inner->len && sn__prefix_has(outer, inner->addr);
}

/* Close the top of the stack: its subtree goes to its parent. */
static void pop(struct group *g, int32_t *stack, uint32_t *depth)
{
	struct group *h = &g[stack[--*depth]];

	if (*depth) {
		agg_merge(&g[stack[*depth - 1]].below, &h->self);
		agg_merge(&g[stack[*depth - 1]].below, &h->below);
	}
}

/* Groups of equal prefixes, each with its parent and aggregates; group_of[i]
 * for every entry index. Returns the number of groups. */
static uint32_t build_groups(const struct entry *s, uint32_t n, struct group *g, uint32_t *group_of)
{
	int32_t stack[34];
	uint32_t k = 0, depth = 0;

	for (uint32_t x = 0; x < n; x++) {
		if (!x || s[x].p.addr != s[x - 1].p.addr || s[x].p.len != s[x - 1].p.len) {
			while (depth && !contains(&g[stack[depth - 1]].p, &s[x].p))
				pop(g, stack, &depth);
			g[k] = (struct group){ s[x].p, x, 0, depth ? stack[depth - 1] : -1, AGG_EMPTY,
					       AGG_EMPTY };
			stack[depth++] = (int32_t)k++;
		}
		g[k - 1].n++;
		agg_add(&g[k - 1].self, s[x].i, s[x].owner);
		group_of[s[x].i] = k - 1;
	}
	while (depth)
		pop(g, stack, &depth);
	return k;
}

/* The smallest index that clashes with entry i (owner o, group gi), or NONE. */
static uint32_t partner(const struct entry *s, const struct group *g, uint32_t gi, uint32_t i,
			uint32_t o)
{
	const struct group *h = &g[gi];
	uint32_t m = s[h->first].i != i ? s[h->first].i : h->n > 1 ? s[h->first + 1].i : NONE;

	m = min_u32(m, agg_other(&h->below, o));
	for (int32_t a = h->parent; a >= 0; a = g[a].parent)
		m = min_u32(m, agg_other(&g[a].self, o));
	return m;
}

static const char *owner_str(const struct sn__ld *ld, uint32_t owner, char *buf, size_t len)
{
	if (owner == 0)
		snprintf(buf, len, "this node");
	else
		snprintf(buf, len, "node %u", ld->c->peers[owner - 1].id);
	return buf;
}

/* a clashes with the earlier b. */
static int clash(struct sn__ld *ld, const struct sn__asg *a, const struct sn__asg *b)
{
	char pa[20], pb[20], who[32];

	sn_prefix_str(&a->p, pa, sizeof(pa));
	sn_prefix_str(&b->p, pb, sizeof(pb));
	if (a->owner != b->owner)
		return sn__conf_fail_at(ld, -EINVAL, a->path, a->loc,
					"%s overlaps %s at %s (line %u), which belongs to %s; a prefix can belong to one node only",
					pa, pb, b->ref, b->loc.line,
					owner_str(ld, b->owner, who, sizeof(who)));
	return sn__conf_fail_at(ld, -EINVAL, a->path, a->loc,
				"%s is listed twice (also at %s, line %u)", pa, b->ref, b->loc.line);
}

static int subnet_clash(struct sn__ld *ld, const struct sn__asg *a)
{
	char pa[20], ps[20];

	return sn__conf_fail_at(ld, -EINVAL, a->path, a->loc,
				"%s overlaps the overlay subnet %s (overlay.subnet, line %u); a LAN or route must lie outside it",
				sn_prefix_str(&a->p, pa, sizeof(pa)),
				sn_prefix_str(&ld->c->subnet, ps, sizeof(ps)), ld->at_subnet->line);
}

/* The first prefix in file order that overlaps the subnet or an earlier
 * prefix of another node (or repeats one), against the first such earlier
 * prefix. */
int sn__conf_check_overlaps(struct sn__ld *ld)
{
	uint32_t n = ld->n_asg, i = 0;
	const struct sn__asg **v = sn_arena_alloc(&ld->tmp, (size_t)n * sizeof(*v) + 1);
	struct entry *s = sn_arena_alloc(&ld->tmp, (size_t)n * sizeof(*s) + 1);
	struct group *g = sn_arena_alloc(&ld->tmp, (size_t)n * sizeof(*g) + 1);
	uint32_t *group_of = sn_arena_alloc(&ld->tmp, (size_t)n * sizeof(*group_of) + 1);

	if (!v || !s || !g || !group_of)
		return sn__conf_oom(ld);
	for (const struct sn__asg *a = ld->asg; a; a = a->next, i++) {
		v[i] = a;
		s[i] = (struct entry){ a->p, a->owner, i };
	}
	qsort(s, n, sizeof(*s), cmp_entry);
	build_groups(s, n, g, group_of);
	for (i = 0; i < n; i++) {
		uint32_t m;

		if (sn__prefix_overlap(&v[i]->p, &ld->c->subnet))
			return subnet_clash(ld, v[i]);
		m = partner(s, g, group_of[i], i, v[i]->owner);
		if (m < i)
			return clash(ld, v[i], v[m]);
	}
	return 0;
}
