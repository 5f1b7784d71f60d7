/* SPDX-License-Identifier: MIT */
/*
 * core/policy.c: building, checking and looking up policy trees, and the
 * RCU slot. The design and the reclamation contract are in policy.h.
 *
 * Node layout: nodes[] is one array of FANOUT-entry nodes, node 0 the root.
 * Level L of the trie indexes address bits [L * STRIDE, (L + 1) * STRIDE)
 * counted from the top. An entry is
 *   0                 no route,
 *   CHILD | i         go on in node i,
 *   r + 1             rules[r] is the longest match.
 * A prefix of length len ends at level (len - 1) / STRIDE and fills the
 * 2^((level + 1) * STRIDE - len) entries it covers there. Inserting prefixes
 * shortest first means a shorter rule is always in place before a longer one
 * overwrites part of it, and a new child node starts as a copy of the entry
 * it replaces (leaf pushing), so no lookup ever needs to backtrack.
 */
#include "policy.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STRIDE SN_POLICY_STRIDE
#define FANOUT (1u << STRIDE)
#define LEVELS (32 / STRIDE)
#define CHILD 0x80000000u

_Static_assert(32 % STRIDE == 0 && STRIDE <= 16, "SN_POLICY_STRIDE must divide 32");
_Static_assert(SN_POLICY_MAX_RULES < CHILD, "rule index collides with CHILD");

struct sn_policy {
	struct sn_arena arena;             /* holds this struct, rules and nodes */
	uint64_t version;
	const uint32_t *nodes;             /* n_nodes * FANOUT entries */
	const struct sn_policy_rule *rules; /* sorted by address, then length */
	uint32_t n_rules;
	uint32_t n_nodes;
	struct sn_policy *retired_next;    /* slot's retired list; writer only */
};

/* A rule and its index in the caller's array, while checking. */
struct item {
	struct sn_policy_rule r;
	uint32_t idx;
};

static int fail(char *err, size_t err_len, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t err_len, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && err_len) {
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static uint32_t mask_of(unsigned len)
{
	return len ? 0xffffffffu << (32 - len) : 0;
}

/* outer contains inner (or is the same prefix). */
static bool contains(const struct sn_prefix *outer, const struct sn_prefix *inner)
{
	return outer->len <= inner->len && ((outer->addr ^ inner->addr) & mask_of(outer->len)) == 0;
}

static const char *pstr(const struct sn_prefix *p, char buf[static 20])
{
	return sn_prefix_str(p, buf, 20);
}

/* ---- checking ---------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static int cmp_prefix(const struct sn_prefix *a, const struct sn_prefix *b)
{
	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	return (a->len > b->len) - (a->len < b->len);
}

/* Address, then length (outer prefixes before the ones they contain), then
 * input order, so of two equal prefixes the later one is blamed. */
static int cmp_item(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	int c = cmp_prefix(&x->r.prefix, &y->r.prefix);

	return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

/* "(configured peers: 2, 3)": the right ids, at most 8 of them. */
static void peer_hint(char *buf, size_t len, const uint32_t *peers, uint32_t n)
{
	size_t pos;

	if (!n) {
		snprintf(buf, len, "no peers are configured");
		return;
	}
	pos = (size_t)snprintf(buf, len, "configured peers:");
	for (uint32_t i = 0; i < n && i < 8 && pos < len; i++)
		pos += (size_t)snprintf(buf + pos, len - pos, "%s %u", i ? "," : "", peers[i]);
	if (n > 8 && pos < len)
		snprintf(buf + pos, len - pos, ", ...");
}

static int check_forward(const struct sn_policy_rule *r, const char *p, const uint32_t *peers,
			 uint32_t n_peers, char *err, size_t err_len)
{
	char hint[128];

	if (!r->peer_id)
		return fail(err, err_len, -EINVAL, "%s: forward needs a peer id (forward PEER_ID)",
			    p);
	if (bsearch(&r->peer_id, peers, n_peers, sizeof(*peers), cmp_u32))
		return 0;
	peer_hint(hint, sizeof(hint), peers, n_peers);
	return fail(err, err_len, -EINVAL, "%s: unknown peer %u (%s)", p, r->peer_id, hint);
}

/* The checks that need only the rule itself. peers is sorted. */
static int check_rule(const struct sn_policy_rule *r, const uint32_t *peers, uint32_t n_peers,
		      char *err, size_t err_len)
{
	struct sn_prefix fix = { .len = r->prefix.len };
	char p[20], f[20];

	pstr(&r->prefix, p);
	if (r->prefix.len > 32)
		return fail(err, err_len, -EINVAL, "%s: prefix length must be 0..32", p);
	fix.addr = r->prefix.addr & mask_of(r->prefix.len);
	if (fix.addr != r->prefix.addr)
		return fail(err, err_len, -EINVAL, "%s has host bits set (did you mean %s?)", p,
			    pstr(&fix, f));
	if (r->origin < SN_POLICY_ORIGIN_LOCAL || r->origin > SN_POLICY_ORIGIN_RUNTIME)
		return fail(err, err_len, -EINVAL,
			    "%s: unknown origin %u (local, peer, config or runtime)", p, r->origin);
	switch (r->action) {
	case SN_ACT_LOCAL:
		if (r->origin == SN_POLICY_ORIGIN_LOCAL)
			return 0;
		return fail(err, err_len, -EINVAL,
			    "%s: local is only for the node's own address and LANs (use forward or drop)",
			    p);
	case SN_ACT_FORWARD:
		return check_forward(r, p, peers, n_peers, err, err_len);
	case SN_ACT_DROP:
		return 0;
	}
	return fail(err, err_len, -EINVAL, "%s: unknown action %d (local, forward or drop)", p,
		    (int)r->action);
}

/* What rule r is, for "already ..." in a duplicate message. */
static void describe(const struct sn_policy_rule *r, char *buf, size_t len)
{
	switch (r->origin) {
	case SN_POLICY_ORIGIN_LOCAL:
		snprintf(buf, len, "the node's own address or LAN");
		break;
	case SN_POLICY_ORIGIN_PEER:
		snprintf(buf, len, "a route of peer %u in the node config", r->peer_id);
		break;
	case SN_POLICY_ORIGIN_CONFIG:
		snprintf(buf, len, "a rule in the config");
		break;
	default:
		snprintf(buf, len, "a runtime rule");
		break;
	}
}

/* r (a FORWARD rule) against the chain of prefixes that contain it. */
static int check_nesting(const struct item *const *up, uint32_t depth,
			 const struct sn_policy_rule *r, char *err, size_t err_len)
{
	char p[20], o[20];

	for (uint32_t k = depth; k-- > 0;) {
		const struct sn_policy_rule *a = &up[k]->r;

		if (a->action == SN_ACT_LOCAL)
			return fail(err, err_len, -EINVAL,
				    "%s: forward to peer %u would override local %s (use a prefix outside %s)",
				    pstr(&r->prefix, p), r->peer_id, pstr(&a->prefix, o), o);
		if (a->origin == SN_POLICY_ORIGIN_PEER && a->action == SN_ACT_FORWARD &&
		    a->peer_id != r->peer_id)
			return fail(err, err_len, -EINVAL,
				    "%s: forward to peer %u would take traffic that %s routes to peer %u (forward to peer %u, or use drop)",
				    pstr(&r->prefix, p), r->peer_id, pstr(&a->prefix, o), a->peer_id,
				    a->peer_id);
	}
	return 0;
}

/*
 * The checks between rules, over items sorted by cmp_item: duplicates are
 * neighbours, and a stack of the prefixes that contain the current one is
 * kept by popping every prefix that does not (prefixes nest or are
 * disjoint, so this is the whole chain, at most 33 deep).
 */
static int check_set(const struct item *it, uint32_t n, uint32_t *bad, char *err, size_t err_len)
{
	const struct item *up[33];
	uint32_t depth = 0;
	char p[20], d[96];
	int rc;

	for (uint32_t i = 0; i < n; i++) {
		*bad = it[i].idx;
		if (i && cmp_prefix(&it[i - 1].r.prefix, &it[i].r.prefix) == 0) {
			describe(&it[i - 1].r, d, sizeof(d));
			return fail(err, err_len, -EEXIST,
				    "%s: duplicate prefix, already %s (keep one rule per prefix)",
				    pstr(&it[i].r.prefix, p), d);
		}
		while (depth && !contains(&up[depth - 1]->r.prefix, &it[i].r.prefix))
			depth--;
		if (it[i].r.action == SN_ACT_FORWARD) {
			rc = check_nesting(up, depth, &it[i].r, err, err_len);
			if (rc)
				return rc;
		}
		up[depth++] = &it[i];
	}
	*bad = UINT32_MAX;
	return 0;
}

/* Copy, check one by one, sort, check the set. */
static int check_all(const struct sn_policy_rule *rules, uint32_t n, const uint32_t *peers,
		     uint32_t *sorted_peers, uint32_t n_peers, struct item *it, uint32_t *bad,
		     char *err, size_t err_len)
{
	int rc;

	if (n_peers)
		memcpy(sorted_peers, peers, (size_t)n_peers * sizeof(*peers));
	qsort(sorted_peers, n_peers, sizeof(*sorted_peers), cmp_u32);
	for (uint32_t i = 0; i < n; i++) {
		*bad = i;
		rc = check_rule(&rules[i], sorted_peers, n_peers, err, err_len);
		if (rc)
			return rc;
		it[i].r = rules[i];
		memset(it[i].r.prefix.reserved, 0, sizeof(it[i].r.prefix.reserved));
		if (it[i].r.action != SN_ACT_FORWARD)
			it[i].r.peer_id = 0;
		it[i].idx = i;
	}
	qsort(it, n, sizeof(*it), cmp_item);
	return check_set(it, n, bad, err, err_len);
}

/* ---- building ---------------------------------------------------------- */

static unsigned level_of(unsigned len)
{
	return len ? (len - 1) / STRIDE : 0;
}

static uint32_t slot_of(uint32_t addr, unsigned level)
{
	return (addr >> (32 - (level + 1) * STRIDE)) & (FANOUT - 1);
}

/* Nodes the trie needs: the root, plus one per distinct top L * STRIDE bits
 * among prefixes longer than that, per level L >= 1. it is sorted, so equal
 * tops are neighbours. */
static uint32_t count_nodes(const struct item *it, uint32_t n)
{
	uint32_t count = 1;

	for (unsigned lv = 1; lv < LEVELS; lv++) {
		unsigned bits = lv * STRIDE;
		uint32_t last = 0;
		bool any = false;

		for (uint32_t i = 0; i < n; i++) {
			uint32_t top = it[i].r.prefix.addr >> (32 - bits);

			if (it[i].r.prefix.len <= bits)
				continue;
			if (!any || top != last)
				count++;
			any = true;
			last = top;
		}
	}
	return count;
}

static void insert(uint32_t *nodes, uint32_t *next, const struct sn_prefix *p, uint32_t value)
{
	unsigned level = level_of(p->len);
	uint32_t *node = nodes, first, span;

	for (unsigned lv = 0; lv < level; lv++) {
		uint32_t *e = &node[slot_of(p->addr, lv)];

		if (!(*e & CHILD)) {
			uint32_t *child = nodes + (size_t)*next * FANOUT;

			for (uint32_t k = 0; k < FANOUT; k++)
				child[k] = *e;
			*e = CHILD | (*next)++;
		}
		node = nodes + (size_t)(*e & ~CHILD) * FANOUT;
	}
	first = slot_of(p->addr, level);
	span = 1u << ((level + 1) * STRIDE - p->len);
	for (uint32_t k = 0; k < span; k++)
		node[first + k] = value;
}

/* Shortest prefixes first (see the top of the file). */
static void fill(uint32_t *nodes, const struct sn_policy_rule *rules, uint32_t n)
{
	uint32_t next = 1;

	for (unsigned len = 0; len <= 32; len++)
		for (uint32_t i = 0; i < n; i++)
			if (rules[i].prefix.len == len)
				insert(nodes, &next, &rules[i].prefix, i + 1);
}

static struct sn_policy *make_tree(const struct item *it, uint32_t n, uint64_t version)
{
	uint32_t n_nodes = count_nodes(it, n);
	size_t rules_sz = (size_t)(n ? n : 1) * sizeof(struct sn_policy_rule);
	size_t nodes_sz = (size_t)n_nodes * FANOUT * sizeof(uint32_t);
	struct sn_arena a;
	struct sn_policy *t;
	struct sn_policy_rule *rules;
	uint32_t *nodes;

	/* One chunk: every piece rounded up to the arena's 16-byte alignment. */
	sn_arena_init(&a, ((sizeof(*t) + 15) & ~(size_t)15) + ((rules_sz + 15) & ~(size_t)15) +
				  ((nodes_sz + 15) & ~(size_t)15));
	t = sn_arena_alloc(&a, sizeof(*t));
	rules = t ? sn_arena_alloc(&a, rules_sz) : NULL;
	nodes = rules ? sn_arena_alloc(&a, nodes_sz) : NULL;
	if (!nodes) {
		sn_arena_free(&a);
		return NULL;
	}
	for (uint32_t i = 0; i < n; i++)
		rules[i] = it[i].r;
	fill(nodes, rules, n);
	t->version = version;
	t->nodes = nodes;
	t->rules = rules;
	t->n_rules = n;
	t->n_nodes = n_nodes;
	t->arena = a;
	return t;
}

int sn__policy_build(const struct sn_policy_rule *rules, uint32_t n, const uint32_t *peers,
		     uint32_t n_peers, uint64_t version, struct sn_policy **out, uint32_t *bad,
		     char *err, size_t err_len)
{
	struct sn_arena scratch;
	struct item *it;
	uint32_t *sorted_peers;
	struct sn_policy *t = NULL;
	int rc;

	*bad = UINT32_MAX;
	if (n > SN_POLICY_MAX_RULES)
		return fail(err, err_len, -E2BIG, "too many policy rules (%u, at most %u)", n,
			    SN_POLICY_MAX_RULES);
	sn_arena_init(&scratch, 0);
	it = sn_arena_alloc(&scratch, (size_t)n * sizeof(*it) + 1);
	sorted_peers = sn_arena_alloc(&scratch, (size_t)n_peers * sizeof(*peers) + 1);
	if (!it || !sorted_peers)
		rc = -ENOMEM;
	else
		rc = check_all(rules, n, peers, sorted_peers, n_peers, it, bad, err, err_len);
	if (rc == 0) {
		t = make_tree(it, n, version);
		rc = t ? 0 : -ENOMEM;
	}
	sn_arena_free(&scratch);
	if (rc == -ENOMEM)
		return fail(err, err_len, rc, "out of memory building the policy tree");
	if (rc == 0)
		*out = t;
	return rc;
}

int sn_policy_build(const struct sn_policy_rule *rules, uint32_t n, const uint32_t *peers,
		    uint32_t n_peers, uint64_t version, struct sn_policy **out, char *err,
		    size_t err_len)
{
	uint32_t bad;

	return sn__policy_build(rules, n, peers, n_peers, version, out, &bad, err, err_len);
}

void sn_policy_free(struct sn_policy *t)
{
	struct sn_arena a;

	if (!t)
		return;
	a = t->arena; /* the arena struct lives inside what it frees */
	sn_arena_free(&a);
}

/* ---- lookups ----------------------------------------------------------- */

const struct sn_policy_rule *sn_policy_lookup(const struct sn_policy *t, uint32_t addr)
{
	const uint32_t *node = t->nodes;
	unsigned shift = 32 - STRIDE;
	uint32_t e;

	for (;;) {
		e = node[(addr >> shift) & (FANOUT - 1)];
		if (!(e & CHILD))
			break;
		node = t->nodes + (size_t)(e & ~CHILD) * FANOUT;
		shift -= STRIDE;
	}
	return e ? &t->rules[e - 1] : NULL;
}

bool sn_policy_src_ok(const struct sn_policy *t, uint32_t src, uint32_t peer_id)
{
	const struct sn_policy_rule *r = sn_policy_lookup(t, src);

	return r && r->action == SN_ACT_FORWARD && r->peer_id == peer_id;
}

static int cmp_key(const void *key, const void *rule)
{
	return cmp_prefix(key, &((const struct sn_policy_rule *)rule)->prefix);
}

const struct sn_policy_rule *sn_policy_find(const struct sn_policy *t, struct sn_prefix p)
{
	return bsearch(&p, t->rules, t->n_rules, sizeof(*t->rules), cmp_key);
}

uint64_t sn_policy_version(const struct sn_policy *t)
{
	return t->version;
}

uint32_t sn_policy_count(const struct sn_policy *t)
{
	return t->n_rules;
}

size_t sn_policy_mem(const struct sn_policy *t)
{
	return t->arena.used;
}

const struct sn_policy_rule *sn_policy_rules(const struct sn_policy *t, uint32_t *n)
{
	*n = t->n_rules;
	return t->rules;
}

/* ---- the RCU slot ------------------------------------------------------ */

void sn_policy_slot_init(struct sn_policy_slot *s)
{
	atomic_init(&s->active, NULL);
	s->retired = NULL;
	s->n_retired = 0;
}

void sn_policy_publish(struct sn_policy_slot *s, struct sn_policy *next)
{
	/* Only the writer stores to active, so a relaxed load sees its own last
	 * store; the release store orders every write that built next before
	 * any reader's acquire load can return it. */
	struct sn_policy *old = atomic_load_explicit(&s->active, memory_order_relaxed);

	if (next == old)
		return;
	atomic_store_explicit(&s->active, next, memory_order_release);
	if (!old)
		return;
	/* Readers never touch retired_next, so this write races with nothing. */
	old->retired_next = s->retired;
	s->retired = old;
	s->n_retired++;
}

void sn_policy_reclaim(struct sn_policy_slot *s)
{
	struct sn_policy *t = s->retired, *next;

	for (; t; t = next) {
		next = t->retired_next;
		sn_policy_free(t);
	}
	s->retired = NULL;
	s->n_retired = 0;
}

void sn_policy_slot_destroy(struct sn_policy_slot *s)
{
	sn_policy_reclaim(s);
	sn_policy_free(atomic_load_explicit(&s->active, memory_order_relaxed));
	atomic_store_explicit(&s->active, NULL, memory_order_relaxed);
}
