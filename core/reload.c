/* SPDX-License-Identifier: MIT */
/*
 * core/reload.c: changing a running node: run-time policy rules and hot
 * reload of the config file (SIGHUP, `subnetra reload`).
 *
 * Everything is built and validated first (new config, new peer registry,
 * new policy tree); only when all of it succeeded is the running state
 * swapped, between two packets (the loop is single-threaded). A rejected
 * change leaves the node exactly as it was. Peers whose id, public key and
 * PSK are unchanged keep their epoch, sequence numbers, replay window,
 * endpoint and counters: their tunnels never notice.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "node.h"

static bool same_prefix(const struct sn_prefix *a, const struct sn_prefix *b)
{
	return a->addr == b->addr && a->len == b->len;
}

static bool in_list(const struct sn_prefix *v, uint32_t n, const struct sn_prefix *p)
{
	for (uint32_t i = 0; i < n; i++)
		if (same_prefix(&v[i], p))
			return true;
	return false;
}

/* Routes wanted by a config plus the FORWARD run-time rules. */
static struct sn_prefix *wanted(const struct sn_config *c, const struct sn_policy_rule *rt,
				uint32_t n_rt, uint32_t *cnt)
{
	uint32_t k = 0;
	struct sn_prefix *base = sn__node_wanted_routes(c, &k), *v;

	if (!base)
		return NULL;
	v = realloc(base, (k + n_rt + 1) * sizeof(*v));
	if (!v) {
		free(base);
		return NULL;
	}
	for (uint32_t i = 0; i < n_rt; i++)
		if (rt[i].action == SN_ACT_FORWARD && !in_list(v, k, &rt[i].prefix))
			v[k++] = rt[i].prefix;
	*cnt = k;
	return v;
}

/* Bring the kernel routes from what (old config, old rules) wanted to what
 * (new config, new rules) wants. */
static void sync_routes(struct sn_node *n, const struct sn_config *oc,
			const struct sn_policy_rule *ort, uint32_t n_ort, const struct sn_config *nc,
			const struct sn_policy_rule *nrt, uint32_t n_nrt)
{
	uint32_t no = 0, nn = 0;
	struct sn_prefix *o, *w;

	if (!nc->manage_routes)
		return;
	o = wanted(oc, ort, n_ort, &no);
	w = wanted(nc, nrt, n_nrt, &nn);
	if (o && w) {
		for (uint32_t i = 0; i < no; i++)
			if (!in_list(w, nn, &o[i]))
				sn__node_route_del(n, &o[i]);
		for (uint32_t i = 0; i < nn; i++)
			if (!in_list(o, no, &w[i]))
				sn__node_route_add(n, &w[i]);
	}
	free(o);
	free(w);
}

int sn_node_set_rules(struct sn_node *n, const struct sn_policy_rule *rules, uint32_t cnt,
		      char *err, size_t err_len)
{
	struct sn_arena a;
	struct sn_policy_rule *copy;
	struct sn_policy *t;
	int r;

	sn_arena_init(&a, 0);
	copy = sn_arena_alloc(&a, (cnt ? cnt : 1) * sizeof(*copy));
	if (!copy) {
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < cnt; i++) {
		copy[i] = rules[i];
		copy[i].origin = SN_POLICY_ORIGIN_RUNTIME;
	}
	r = sn_policy_from_config(n->cfg, copy, cnt, n->policy_version + 1, &t, err, err_len);
	if (r < 0) {
		sn_arena_free(&a);
		return r;
	}
	n->policy_version++;
	sn_policy_publish(&n->policy, t);
	if (n->os.inst)
		sync_routes(n, n->cfg, n->rt_rules, n->n_rt_rules, n->cfg, copy, cnt);
	sn_arena_free(&n->rt_arena);
	n->rt_arena = a;
	n->rt_rules = copy;
	n->n_rt_rules = cnt;
	return 0;
}

/* ---- hot reload ------------------------------------------------------ */

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool addr_eq(const struct sn_addr *a, const struct sn_addr *b)
{
	return a->family == b->family && a->port == b->port && !memcmp(a->ip, b->ip, 16);
}

/* What a reload cannot change without a restart: first difference, or NULL. */
static const char *fixed_change(const struct sn_config *o, const struct sn_config *c)
{
	if (o->node_id != c->node_id)
		return "node.id";
	if (o->role != c->role)
		return "node.role";
	if (!str_eq(o->private_key_file, c->private_key_file))
		return "node.private_key_file"; /* the key itself is never reread */
	if (!addr_eq(&o->listen, &c->listen))
		return "node.listen";
	if (!str_eq(o->state_dir, c->state_dir))
		return "node.state_dir";
	if (!str_eq(o->user, c->user))
		return "node.user";
	if (!same_prefix(&o->subnet, &c->subnet))
		return "overlay.subnet";
	if (o->address != c->address)
		return "overlay.address";
	if (o->mtu != c->mtu)
		return "overlay.mtu";
	if (!str_eq(o->ifname, c->ifname))
		return "overlay.interface";
	if (o->manage_routes != c->manage_routes)
		return "overlay.manage_routes";
	if (!str_eq(o->plugin_dir, c->plugin_dir) || !str_eq(o->os, c->os) ||
	    !str_eq(o->crypto, c->crypto) || !str_eq(o->egress, c->egress))
		return "plugins";
	if (!str_eq(o->control_socket, c->control_socket) ||
	    !str_eq(o->control_group, c->control_group))
		return "control";
	return NULL;
}

static bool opts_eq(const struct sn_conf_plugin_opts *a, const struct sn_conf_plugin_opts *b)
{
	if (!a || !b)
		return !a == !b || (a ? a->n : b->n) == 0;
	if (a->n != b->n)
		return false;
	for (uint32_t i = 0; i < a->n; i++)
		if (strcmp(a->keys[i], b->keys[i]) || strcmp(a->values[i], b->values[i]))
			return false;
	return true;
}

/* Plugin options: only the egress can change them at run time (its
 * optional reconfigure operation); anything else needs a restart. */
static int check_plugin_options(struct sn_node *n, const struct sn_config *c, bool *egress_changed,
				char *err, size_t err_len)
{
	const char *names[3] = {c->os, c->crypto, c->egress};

	*egress_changed = false;
	for (int i = 0; i < 3; i++) {
		if (opts_eq(sn_config_plugin_opts(n->cfg, names[i]), sn_config_plugin_opts(c, names[i])))
			continue;
		if (i == 2 && SN_HAS_OP(struct sn_egress_ops, n->eg_ops, reconfigure)) {
			*egress_changed = true;
			continue;
		}
		snprintf(err, err_len, "%s: plugins.options.%s changed, and plugin '%s' cannot "
			 "apply options at run time: restart subnetrad to apply them",
			 c->path, names[i], names[i]);
		return -ENOTSUP;
	}
	return 0;
}

static int apply_egress_options(struct sn_node *n, const struct sn_config *c, char *err,
				size_t err_len)
{
	const struct sn_conf_plugin_opts *po = sn_config_plugin_opts(c, c->egress);
	struct sn_option items[64];
	struct sn_options o = {items, 0, 0};
	char why[256] = "";
	int r;

	for (uint32_t i = 0; po && i < po->n && i < 64; i++, o.count++) {
		items[i].key = po->keys[i];
		items[i].value = po->values[i];
	}
	r = n->eg_ops->reconfigure(n->egress.inst, &o, why, sizeof(why));
	if (r < 0)
		snprintf(err, err_len, "%s: plugins.options.%s: %s", c->path, c->egress,
			 why[0] ? why : strerror(-r));
	return r;
}

static void copy_rx(struct sn_peer *p, bool has, uint32_t epoch, const struct sn_replay *w,
		    uint64_t max_seq, uint64_t accepted)
{
	p->rx_has_epoch = has;
	p->rx_epoch = epoch;
	p->rx_window = *w;
	p->rx_max_seq = max_seq;
	p->epochs_accepted = accepted;
}

/* A peer identity (id + pair key) that was saved when it left: continue its
 * session. Its rx key is derived again (control path). */
static bool restore_saved(struct sn_node *n, struct sn_peer *p)
{
	for (uint32_t i = 0; i < n->n_saved; i++) {
		struct sn_peer_saved *s = &n->saved[i];

		if (s->id != p->id || memcmp(s->pair_key, p->pair_key, 32))
			continue;
		p->tx_seq = s->tx_seq;
		copy_rx(p, s->rx_has_epoch, s->rx_epoch, &s->rx_window, s->rx_max_seq,
			s->epochs_accepted);
		if (s->rx_has_epoch)
			n->cr.ops->dir_key(n->cr.inst, p->rx_key, p->pair_key, p->id, n->cfg->node_id,
					   s->rx_epoch);
		if (!p->static_endpoint)
			p->endpoint = s->endpoint;
		sodium_memzero(s, sizeof(*s));
		n->saved[i] = n->saved[--n->n_saved];
		return true;
	}
	return false;
}

/* Room for every old peer that may leave; done before the commit so the
 * commit cannot fail. */
static int reserve_saved(struct sn_node *n, uint32_t more)
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

/* Old peers whose identity is not in the new registry: save their session. */
static void save_leaving(struct sn_node *n, const struct sn_peers *np)
{
	for (uint32_t i = 0; i < n->peers.n; i++) {
		const struct sn_peer *o = &n->peers.v[i], *p = sn_peer_find(np, o->id);
		struct sn_peer_saved *s;

		if (p && !memcmp(o->pair_key, p->pair_key, 32))
			continue;
		s = &n->saved[n->n_saved++];
		s->id = o->id;
		memcpy(s->pair_key, o->pair_key, 32);
		s->tx_seq = o->tx_seq;
		s->rx_has_epoch = o->rx_has_epoch;
		s->rx_epoch = o->rx_epoch;
		s->rx_max_seq = o->rx_max_seq;
		s->epochs_accepted = o->epochs_accepted;
		s->rx_window = o->rx_window;
		s->endpoint = o->endpoint;
	}
}

/* Carry the running state of peers that did not change identity, and
 * restore the saved session of identities that come back. */
static void carry_peers(struct sn_node *n, const struct sn_config *oc, struct sn_peers *np)
{
	uint32_t ks = n->peers.key_ctx_size;

	for (uint32_t i = 0; i < np->n; i++) {
		struct sn_peer *p = &np->v[i], *o = sn_peer_find(&n->peers, p->id);
		const struct sn_conf_peer *ocp = sn_config_peer(oc, p->id);

		if (!o || memcmp(o->pair_key, p->pair_key, 32)) {
			restore_saved(n, p); /* new or re-keyed: fresh unless it was here before */
			continue;
		}
		memcpy(p->tx_key, o->tx_key, ks);
		memcpy(p->rx_key, o->rx_key, ks);
		p->tx_epoch = o->tx_epoch;
		p->tx_seq = o->tx_seq;
		p->last_tx_ns = o->last_tx_ns;
		copy_rx(p, o->rx_has_epoch, o->rx_epoch, &o->rx_window, o->rx_max_seq,
			o->epochs_accepted);
		p->last_rx_ns = o->last_rx_ns;
		memcpy(p->counters, o->counters, sizeof(p->counters));
		/* keep a learned endpoint unless the config's static one changed */
		if (!p->static_endpoint ||
		    (ocp && (ocp->has & SN_PEER_HAS_ENDPOINT) && addr_eq(&ocp->endpoint, &p->endpoint)))
			p->endpoint = o->endpoint;
	}
}

/* At exit: the saved sessions hold pair keys. */
void sn__node_forget_saved(struct sn_node *n)
{
	if (n->saved)
		sodium_memzero(n->saved, n->cap_saved * sizeof(*n->saved));
	free(n->saved);
	n->saved = NULL;
	n->n_saved = n->cap_saved = 0;
}

int sn_node_reload(struct sn_node *n, char *err, size_t err_len)
{
	struct sn_config *c = NULL, *old = n->cfg;
	struct sn_peers np;
	struct sn_policy *t = NULL;
	bool eg_changed;
	const char *what;
	int r;

	if ((r = sn_config_reload(n->config_path, old, &c, err, err_len)) < 0)
		return r;
	if ((what = fixed_change(old, c))) {
		snprintf(err, err_len, "%s: %s changed: restart subnetrad to apply that change",
			 c->path, what);
		r = -ENOTSUP;
		goto fail_cfg;
	}
	if ((r = check_plugin_options(n, c, &eg_changed, err, err_len)) < 0)
		goto fail_cfg;
	if ((r = sn_policy_from_config(c, n->rt_rules, n->n_rt_rules, n->policy_version + 1, &t,
				       err, err_len)) < 0)
		goto fail_cfg;
	if ((r = sn_peers_build(&np, c, &n->cr, n->epoch, err, err_len)) < 0)
		goto fail_policy;
	if ((r = reserve_saved(n, n->peers.n)) < 0) {
		snprintf(err, err_len, "out of memory");
		goto fail_peers;
	}
	if (eg_changed && (r = apply_egress_options(n, c, err, err_len)) < 0)
		goto fail_peers;

	/* commit: nothing below can fail */
	carry_peers(n, old, &np);
	save_leaving(n, &np);
	sn_peers_destroy(&n->peers, &n->cr);
	n->peers = np;
	n->policy_version++;
	sn_policy_publish(&n->policy, t);
	n->cfg = c;
	sync_routes(n, old, n->rt_rules, n->n_rt_rules, c, n->rt_rules, n->n_rt_rules);
	sn_config_free(old);
	n->reloads++;
	sn__node_keepalive_restart(n);
	return 0;

fail_peers:
	sn_peers_destroy(&np, &n->cr);
fail_policy:
	sn_policy_free(t);
fail_cfg:
	sn_config_free(c);
	return r;
}
