/* SPDX-License-Identifier: MIT */
/*
 * core/policy_config.c: the rule list a node's config implies
 * (docs/control.md, "policy"), built into a tree by sn__policy_build.
 * When a rule is refused, the message says where in the config (or which
 * runtime rule) it came from.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "policy.h"

/* Where one rule of the list came from. */
enum src_kind {
	SRC_ADDRESS = 1, /* overlay.address */
	SRC_LAN,         /* overlay.lans[a] */
	SRC_SUBNET,      /* overlay.subnet (a spoke's route to its hub) */
	SRC_PEER_ADDR,   /* peers[a].address */
	SRC_PEER_ROUTE,  /* peers[a].routes[b] */
	SRC_RULE,        /* policy[a] */
	SRC_EXTRA        /* runtime rule a */
};

struct src {
	enum src_kind kind;
	uint32_t a, b;
};

struct list {
	struct sn_policy_rule *r;
	struct src *src;
	uint32_t n;
};

static void add(struct list *l, struct sn_prefix p, enum sn_action act, uint32_t peer,
		uint32_t origin, struct src s)
{
	struct sn_policy_rule *r = &l->r[l->n];

	r->prefix = p;
	r->action = act;
	r->peer_id = peer;
	r->origin = origin;
	l->src[l->n++] = s;
}

static struct sn_prefix host(uint32_t addr)
{
	return (struct sn_prefix){ .addr = addr, .len = 32 };
}

static uint32_t count_rules(const struct sn_config *c, uint32_t n_extra)
{
	uint64_t n = 1 + (uint64_t)c->n_lans + c->n_rules + n_extra;

	if (c->role == SN_ROLE_SPOKE)
		n++;
	for (uint32_t i = 0; i < c->n_peers; i++)
		n += 1 + (uint64_t)c->peers[i].n_routes;
	return n > SN_POLICY_MAX_RULES ? SN_POLICY_MAX_RULES + 1 : (uint32_t)n;
}

static void add_local(struct list *l, const struct sn_config *c)
{
	add(l, host(c->address), SN_ACT_LOCAL, 0, SN_POLICY_ORIGIN_LOCAL,
	    (struct src){ SRC_ADDRESS, 0, 0 });
	for (uint32_t i = 0; i < c->n_lans; i++)
		add(l, c->lans[i], SN_ACT_LOCAL, 0, SN_POLICY_ORIGIN_LOCAL,
		    (struct src){ SRC_LAN, i, 0 });
}

/* A peer's routes; on a hub also its overlay /32 (on a spoke the overlay
 * subnet covers the hub's address). */
static void add_peer(struct list *l, const struct sn_config *c, uint32_t i)
{
	const struct sn_conf_peer *p = &c->peers[i];

	if (c->role == SN_ROLE_HUB && (p->has & SN_PEER_HAS_ADDRESS))
		add(l, host(p->address), SN_ACT_FORWARD, p->id, SN_POLICY_ORIGIN_PEER,
		    (struct src){ SRC_PEER_ADDR, i, 0 });
	for (uint32_t k = 0; k < p->n_routes; k++)
		add(l, p->routes[k], SN_ACT_FORWARD, p->id, SN_POLICY_ORIGIN_PEER,
		    (struct src){ SRC_PEER_ROUTE, i, k });
}

static void add_rules(struct list *l, const struct sn_config *c,
		      const struct sn_policy_rule *extra, uint32_t n_extra)
{
	for (uint32_t i = 0; i < c->n_rules; i++) {
		const struct sn_conf_rule *r = &c->rules[i];

		add(l, r->prefix, r->action, r->peer_id, SN_POLICY_ORIGIN_CONFIG,
		    (struct src){ SRC_RULE, i, 0 });
	}
	for (uint32_t i = 0; i < n_extra; i++)
		add(l, extra[i].prefix, extra[i].action, extra[i].peer_id,
		    SN_POLICY_ORIGIN_RUNTIME, (struct src){ SRC_EXTRA, i, 0 });
}

static void collect(struct list *l, const struct sn_config *c, const struct sn_policy_rule *extra,
		    uint32_t n_extra)
{
	add_local(l, c);
	if (c->role == SN_ROLE_SPOKE)
		add(l, c->subnet, SN_ACT_FORWARD, c->peers[0].id, SN_POLICY_ORIGIN_PEER,
		    (struct src){ SRC_SUBNET, 0, 0 });
	for (uint32_t i = 0; i < c->n_peers; i++)
		add_peer(l, c, i);
	add_rules(l, c, extra, n_extra);
}

/* The key path of s ("peers[1].routes[0]"), and its place in the file. */
static void key_of(const struct sn_config *c, const struct src *s, char *buf, size_t len,
		   struct sn_conf_loc *loc)
{
	const struct sn_conf_peer *p = s->kind == SRC_PEER_ADDR || s->kind == SRC_PEER_ROUTE
					       ? &c->peers[s->a] : NULL;
	char pk[32];

	memset(loc, 0, sizeof(*loc));
	if (p) {
		*loc = p->loc;
		if (!p->key_path)
			snprintf(pk, sizeof(pk), "peers[%u]", s->a);
	}
	switch (s->kind) {
	case SRC_ADDRESS:
		snprintf(buf, len, "overlay.address");
		break;
	case SRC_LAN:
		snprintf(buf, len, "overlay.lans[%u]", s->a);
		break;
	case SRC_SUBNET:
		snprintf(buf, len, "overlay.subnet");
		break;
	case SRC_PEER_ADDR:
		if (p->file) /* a peers_dir file: its keys are named alone */
			snprintf(buf, len, "address");
		else
			snprintf(buf, len, "%s.address", p->key_path ? p->key_path : pk);
		break;
	case SRC_PEER_ROUTE:
		if (p->file)
			snprintf(buf, len, "routes[%u]", s->b);
		else
			snprintf(buf, len, "%s.routes[%u]", p->key_path ? p->key_path : pk, s->b);
		break;
	default:
		*loc = c->rules[s->a].loc;
		snprintf(buf, len, "policy[%u]", s->a);
		break;
	}
}

/* Prefix msg with where the refused rule came from (STYLE rule 14). */
static void say_where(const struct sn_config *c, const struct src *s, const char *msg,
		      char *err, size_t err_len)
{
	const char *file = c->path ? c->path : "config";
	struct sn_conf_loc loc;
	char key[64];

	if (s->kind == SRC_EXTRA) {
		snprintf(err, err_len, "runtime rule %u: %s", s->a, msg);
		return;
	}
	key_of(c, s, key, sizeof(key), &loc);
	if (loc.file)
		file = loc.file;
	if (loc.line)
		snprintf(err, err_len, "%s:%u:%u: %s: %s", file, loc.line, loc.column, key, msg);
	else
		snprintf(err, err_len, "%s: %s: %s", file, key, msg);
}

static int check_shape(const struct sn_config *c, char *err, size_t err_len)
{
	const char *file = c->path ? c->path : "config";

	if (c->role != SN_ROLE_HUB && c->role != SN_ROLE_SPOKE) {
		if (err && err_len)
			snprintf(err, err_len, "%s: node.role: must be hub or spoke", file);
		return -EINVAL;
	}
	if (c->role == SN_ROLE_SPOKE && c->n_peers != 1) {
		if (err && err_len)
			snprintf(err, err_len,
				 "%s: peers: a spoke has exactly one peer, the hub (found %u)", file,
				 c->n_peers);
		return -EINVAL;
	}
	return 0;
}

static int build(const struct sn_config *c, const struct list *l, struct sn_arena *tmp,
		 uint64_t version, struct sn_policy **out, char *err, size_t err_len)
{
	uint32_t *peers = sn_arena_alloc(tmp, (size_t)c->n_peers * sizeof(*peers) + 1);
	char msg[320];
	uint32_t bad;
	int rc;

	if (!peers) {
		if (err && err_len)
			snprintf(err, err_len, "out of memory building the policy tree");
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < c->n_peers; i++)
		peers[i] = c->peers[i].id;
	rc = sn__policy_build(l->r, l->n, peers, c->n_peers, version, out, &bad, msg,
			      sizeof(msg));
	if (rc < 0 && err && err_len) {
		if (bad < l->n)
			say_where(c, &l->src[bad], msg, err, err_len);
		else
			snprintf(err, err_len, "%s", msg);
	}
	return rc;
}

int sn_policy_from_config(const struct sn_config *c, const struct sn_policy_rule *extra,
			  uint32_t n_extra, uint64_t version, struct sn_policy **out, char *err,
			  size_t err_len)
{
	struct sn_arena tmp;
	struct list l = { 0 };
	uint32_t n;
	int rc = check_shape(c, err, err_len);

	if (rc)
		return rc;
	n = count_rules(c, n_extra);
	if (n > SN_POLICY_MAX_RULES)
		return sn_policy_build(NULL, n, NULL, 0, version, out, err, err_len);
	sn_arena_init(&tmp, 0);
	l.r = sn_arena_alloc(&tmp, (size_t)n * sizeof(*l.r));
	l.src = sn_arena_alloc(&tmp, (size_t)n * sizeof(*l.src));
	if (l.r && l.src) {
		collect(&l, c, extra, n_extra);
		rc = build(c, &l, &tmp, version, out, err, err_len);
	} else {
		rc = -ENOMEM;
		if (err && err_len)
			snprintf(err, err_len, "out of memory building the policy tree");
	}
	sn_arena_free(&tmp);
	return rc;
}
