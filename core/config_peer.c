/* SPDX-License-Identifier: MIT */
/*
 * core/config_peer.c: the peers: list of a hub, the hub: section of a
 * spoke, and the policy: list.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "config_priv.h"

#define ECHO_MAX 64
#define N(a) (sizeof(a) / sizeof((a)[0]))
#define KEY_HELP "a key is 44 characters of base64, as printed by wg pubkey"

/* obj of the peer handlers: the index into c->peers. */
static struct sn_conf_peer *peer_of(struct sn__ld *ld, void *obj)
{
	return &ld->c->peers[*(uint32_t *)obj];
}

static struct sn__peer_at *at_of(struct sn__ld *ld, void *obj)
{
	return &ld->peer_at[*(uint32_t *)obj];
}

static int peer_id(struct sn__ld *ld, const struct sn__cn *v, void *obj)
{
	at_of(ld, obj)->id = v;
	return sn__conf_u32(ld, v, 1, 0xFFFFFFFEu, &peer_of(ld, obj)->id);
}

static int peer_name(struct sn__ld *ld, const struct sn__cn *v, void *obj)
{
	struct sn_conf_peer *p = peer_of(ld, obj);
	size_t i;
	int rc = sn__conf_scalar(ld, v, "a name");

	if (rc < 0)
		return rc;
	for (i = 0; i < v->len; i++)
		if (v->s[i] <= ' ' || v->s[i] > '~')
			break;
	if (i < v->len || v->len > 64)
		return sn__conf_fail(ld, v, "'%.*s' is not a usable name (1 to 64 printable characters without spaces, e.g. spoke-a)",
				     ECHO_MAX, v->s);
	p->has |= SN_PEER_HAS_NAME;
	return sn__conf_str(ld, v, "a name", &p->name);
}

static int peer_key(struct sn__ld *ld, const struct sn__cn *v, void *obj)
{
	uint8_t *key = peer_of(ld, obj)->public_key;
	const char *end = NULL;
	size_t n = 0;
	int rc = sn__conf_scalar(ld, v, "a public key (" KEY_HELP ")");

	at_of(ld, obj)->public_key = v;
	if (rc < 0)
		return rc;
	if (v->len != 44)
		return sn__conf_fail(ld, v, "is %zu characters long (" KEY_HELP ")", v->len);
	if (sodium_base642bin(key, 32, v->s, v->len, NULL, &n, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 || n != 32 || end != v->s + 44)
		return sn__conf_fail(ld, v, "is not valid base64 (" KEY_HELP ")");
	if (sodium_is_zero(key, 32))
		return sn__conf_fail(ld, v, "is all zeros (" KEY_HELP ")");
	return 0;
}

static int peer_address(struct sn__ld *ld, const struct sn__cn *v, void *obj)
{
	struct sn_conf_peer *p = peer_of(ld, obj);

	at_of(ld, obj)->address = v;
	p->has |= SN_PEER_HAS_ADDRESS;
	return sn__conf_ipv4(ld, v, &p->address);
}

static int peer_endpoint(struct sn__ld *ld, const struct sn__cn *v, void *obj)
{
	struct sn_conf_peer *p = peer_of(ld, obj);
	int rc = sn__conf_endpoint(ld, v, &p->endpoint);

	if (rc < 0)
		return rc;
	p->has |= SN_PEER_HAS_ENDPOINT;
	return sn__conf_str(ld, v, "host:port", &p->endpoint_text);
}

static int peer_routes(struct sn__ld *ld, const struct sn__cn *v, void *obj)
{
	struct sn_conf_peer *p = peer_of(ld, obj);

	return sn__conf_prefixes(ld, v, &p->routes, &p->n_routes, SN__ASG_ROUTE,
				 *(uint32_t *)obj + 1);
}

static int peer_psk(struct sn__ld *ld, const struct sn__cn *v, void *obj)
{
	at_of(ld, obj)->psk_file = v;
	return sn__conf_path(ld, v, &peer_of(ld, obj)->psk_file);
}

/* Entries of a hub's peers: list (its spokes). */
static const struct sn__field spoke_fields[] = {
	{ "id", peer_id, true, "the spoke's node id" },
	{ "name", peer_name, false, NULL },
	{ "public_key", peer_key, true, "the spoke's key from wg pubkey" },
	{ "address", peer_address, true, "the spoke's overlay address, inside overlay.subnet" },
	{ "endpoint", peer_endpoint, false, NULL },
	{ "routes", peer_routes, false, NULL },
	{ "psk_file", peer_psk, false, NULL },
};

/* A spoke's hub: section. */
static const struct sn__field hub_fields[] = {
	{ "id", peer_id, true, "the hub's node id" },
	{ "name", peer_name, false, NULL },
	{ "public_key", peer_key, true, "the hub's key from wg pubkey" },
	{ "endpoint", peer_endpoint, true, "where the hub listens, e.g. 203.0.113.1:51820" },
	{ "address", peer_address, false, NULL },
	{ "routes", peer_routes, false, NULL },
	{ "psk_file", peer_psk, false, NULL },
};

static int alloc_peers(struct sn__ld *ld, uint32_t n)
{
	struct sn_config *c = ld->c;

	c->peers = sn_arena_alloc(&c->arena, n * sizeof(*c->peers));
	ld->peer_at = sn_arena_alloc(&ld->tmp, n * sizeof(*ld->peer_at));
	if (!c->peers || !ld->peer_at)
		return sn__conf_oom(ld);
	c->n_peers = n;
	return 0;
}

static int one_peer(struct sn__ld *ld, const struct sn__cn *m, uint32_t i,
		    const struct sn__field *f, size_t n)
{
	struct sn_conf_peer *p = &ld->c->peers[i];

	p->loc = sn__conf_loc(m);
	if (!p->key_path)
		p->key_path = sn_arena_strdup(&ld->c->arena, ld->path);
	if (!p->key_path)
		return sn__conf_oom(ld);
	return sn__conf_map(ld, m, f, n, &i);
}

int sn__conf_spoke(struct sn__ld *ld, const struct sn__cn *m, uint32_t i)
{
	return one_peer(ld, m, i, spoke_fields, N(spoke_fields));
}

/* The peers: list into c->peers[0 .. v->n). */
static int peer_list(struct sn__ld *ld, const struct sn__cn *v)
{
	const struct sn__cn *it;
	uint32_t i = 0;
	size_t mark;
	int rc = 0;

	for (it = v->first; it && rc == 0; it = it->next, i++) {
		mark = sn__conf_path_idx(ld, i);
		rc = sn__conf_spoke(ld, it, i);
		sn__conf_path_pop(ld, mark);
	}
	return rc;
}

/* peers_dir's files into c->peers[first ..]: each file is a peer of its
 * own, named by its path, its keys named alone in messages. */
static int peer_files(struct sn__ld *ld, struct sn__cn **roots, const char **names, uint32_t n,
		      uint32_t first)
{
	char saved[sizeof(ld->path)];
	size_t plen = ld->plen;
	int rc = 0;

	memcpy(saved, ld->path, sizeof(saved));
	sn__conf_path_pop(ld, 0);
	for (uint32_t f = 0; f < n && rc == 0; f++) {
		struct sn_conf_peer *p = &ld->c->peers[first + f];

		p->file = p->key_path = names[f]; /* in the config's arena */
		if (!roots[f] || (roots[f]->kind == SN__CN_SCALAR && roots[f]->plain && !roots[f]->len))
			rc = sn__conf_fail_at(ld, -EINVAL, NULL, (struct sn_conf_loc){ 1, 1, p->file },
					      "the file is empty (expected one peer: id, public_key, address, ...)");
		else
			rc = sn__conf_spoke(ld, roots[f], first + f);
	}
	memcpy(ld->path, saved, sizeof(saved));
	ld->plen = plen;
	return rc;
}

/* A hub's spokes: the peers: list, then one per peers_dir file. */
static int hub_peers(struct sn__ld *ld, const struct sn__cn *list, const struct sn__cn *dir)
{
	struct sn__cn **roots = NULL;
	const char **names = NULL;
	uint32_t nf = 0, nl;
	size_t mark;
	int rc = 0;

	if (list) {
		mark = sn__conf_path_key(ld, "peers");
		rc = sn__conf_seq(ld, list, "a list of spokes");
		if (rc == 0 && list->n == 0 && !dir)
			rc = sn__conf_fail(ld, list, "a hub needs at least one peer (the list is empty)");
		sn__conf_path_pop(ld, mark);
	}
	if (rc == 0 && dir) {
		mark = sn__conf_path_key(ld, "peers_dir");
		rc = sn__conf_path(ld, dir, &ld->c->peers_dir);
		if (rc == 0)
			rc = sn__conf_peers_dir(ld, dir, &roots, &names, &nf);
		sn__conf_path_pop(ld, mark);
	}
	nl = list ? list->n : 0;
	if (rc == 0)
		rc = alloc_peers(ld, nl + nf);
	if (rc == 0 && list) {
		mark = sn__conf_path_key(ld, "peers");
		rc = peer_list(ld, list);
		sn__conf_path_pop(ld, mark);
	}
	return rc == 0 ? peer_files(ld, roots, names, nf, nl) : rc;
}

static int spoke_hub(struct sn__ld *ld, const struct sn__cn *v)
{
	int rc = alloc_peers(ld, 1);
	size_t mark;

	if (rc < 0)
		return rc;
	mark = sn__conf_path_key(ld, "hub");
	rc = one_peer(ld, v, 0, hub_fields, N(hub_fields));
	sn__conf_path_pop(ld, mark);
	return rc;
}

int sn__conf_peers(struct sn__ld *ld)
{
	const struct sn__cn *peers = sn__conf_key(ld->root, "peers");
	const struct sn__cn *hub = sn__conf_key(ld->root, "hub");
	const struct sn__cn *dir = sn__conf_key(ld->root, "peers_dir");
	bool is_hub = ld->c->role == SN_ROLE_HUB;
	int rc;

	if (is_hub && hub)
		return sn__conf_fail_at(ld, -EINVAL, "hub", sn__conf_loc(hub),
					"not allowed on a hub (a hub lists its spokes under peers:)");
	if (!is_hub && peers)
		return sn__conf_fail_at(ld, -EINVAL, "peers", sn__conf_loc(peers),
					"not allowed on a spoke (a spoke has one peer, its hub: write it under hub:)");
	if (!is_hub && dir)
		return sn__conf_fail_at(ld, -EINVAL, "peers_dir", sn__conf_loc(dir),
					"not allowed on a spoke (a spoke has one peer, its hub: write it under hub:)");
	if (is_hub && !peers && !dir)
		return sn__conf_fail(ld, ld->root,
				     "missing required section 'peers' (a hub lists its spokes there)");
	if (!is_hub && !hub)
		return sn__conf_fail(ld, ld->root,
				     "missing required section 'hub' (a spoke names its hub there: id, public_key, endpoint)");
	rc = is_hub ? hub_peers(ld, peers ? peers->val : NULL, dir ? dir->val : NULL)
		    : spoke_hub(ld, hub->val);
	return rc < 0 ? rc : sn__conf_index_ids(ld);
}

/* ---- policy ------------------------------------------------------------ */

struct rctx {
	struct sn_conf_rule *r;
	const struct sn__cn *peer;
};

static int rule_prefix(struct sn__ld *ld, const struct sn__cn *v, void *obj)
{
	return sn__conf_prefix(ld, v, &((struct rctx *)obj)->r->prefix);
}

static int rule_action(struct sn__ld *ld, const struct sn__cn *v, void *obj)
{
	struct sn_conf_rule *r = ((struct rctx *)obj)->r;
	int rc = sn__conf_scalar(ld, v, "forward or drop");

	if (rc < 0)
		return rc;
	if (!strcmp(v->s, "forward"))
		r->action = SN_ACT_FORWARD;
	else if (!strcmp(v->s, "drop"))
		r->action = SN_ACT_DROP;
	else
		return sn__conf_fail(ld, v, "'%.*s' is not an action (expected forward or drop)",
				     ECHO_MAX, v->s);
	return 0;
}

static int rule_peer(struct sn__ld *ld, const struct sn__cn *v, void *obj)
{
	struct rctx *x = obj;

	x->peer = v;
	return sn__conf_u32(ld, v, 1, 0xFFFFFFFEu, &x->r->peer_id);
}

static const struct sn__field rule_fields[] = {
	{ "prefix", rule_prefix, true, "e.g. 192.168.2.0/24" },
	{ "action", rule_action, true, "forward or drop" },
	{ "peer", rule_peer, false, NULL },
};

static void peer_ids(const struct sn_config *c, char *buf, size_t len)
{
	size_t used = 0;
	uint32_t i;

	buf[0] = '\0';
	for (i = 0; i < c->n_peers && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%u", i ? ", " : "",
					 c->peers[i].id);
}

static int rule_peer_check(struct sn__ld *ld, const struct sn__cn *m, struct rctx *x)
{
	char ids[128];
	size_t mark;
	int rc = 0;

	if (x->r->action == SN_ACT_FORWARD && !x->peer)
		return sn__conf_fail(ld, m, "missing required key 'peer' (action forward needs the id of a configured peer)");
	if (!x->peer)
		return 0;
	mark = sn__conf_path_key(ld, "peer");
	if (x->r->action == SN_ACT_DROP) {
		rc = sn__conf_fail(ld, x->peer, "not allowed with action drop (remove it)");
	} else if (!sn_config_peer(ld->c, x->r->peer_id)) {
		peer_ids(ld->c, ids, sizeof(ids));
		rc = sn__conf_fail(ld, x->peer, "no configured peer has id %u (configured: %s)",
				   x->r->peer_id, ids);
	}
	sn__conf_path_pop(ld, mark);
	return rc;
}

static int one_rule(struct sn__ld *ld, const struct sn__cn *m, struct sn_conf_rule *r)
{
	struct rctx x = { r, NULL };
	int rc;

	r->loc = sn__conf_loc(m);
	rc = sn__conf_map(ld, m, rule_fields, N(rule_fields), &x);
	return rc < 0 ? rc : rule_peer_check(ld, m, &x);
}

int sn__conf_policy(struct sn__ld *ld, const struct sn__cn *v)
{
	struct sn_config *c = ld->c;
	const struct sn__cn *it;
	size_t mark, mark2;
	uint32_t i = 0;
	int rc;

	if (!v)
		return 0;
	mark = sn__conf_path_key(ld, "policy");
	rc = sn__conf_seq(ld, v, "a list of rules (prefix, action, peer)");
	if (rc == 0 && v->n) {
		c->rules = sn_arena_alloc(&c->arena, v->n * sizeof(*c->rules));
		if (!c->rules)
			rc = sn__conf_oom(ld);
	}
	for (it = rc == 0 ? v->first : NULL; it && rc == 0; it = it->next, i++) {
		mark2 = sn__conf_path_idx(ld, i);
		rc = one_rule(ld, it, &c->rules[i]);
		sn__conf_path_pop(ld, mark2);
	}
	c->n_rules = i;
	sn__conf_path_pop(ld, mark);
	return rc;
}
