/* SPDX-License-Identifier: MIT */
/*
 * core/routes.c: the kernel routes of a node (routes.h): the wanted set,
 * the difference a reload or new run-time rules make, and the routes this
 * node added. The setup installs them (reactor.c), a commit applies a
 * difference worked out off the loop (reload.c), the teardown removes
 * them; `--print-network-plan` prints the wanted set (netplan.c).
 */
#include "routes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"

struct sn_prefix *sn_routes_wanted(const struct sn_config *c, uint32_t *cnt)
{
	uint32_t cap = 1, k = 0;
	struct sn_prefix *v;

	for (uint32_t i = 0; i < c->n_peers; i++)
		cap += c->peers[i].n_routes;
	cap += c->n_rules;
	v = calloc(cap, sizeof(*v));
	if (!v)
		return NULL;
	for (uint32_t i = 0; i < c->n_peers; i++)
		for (uint32_t j = 0; j < c->peers[i].n_routes; j++)
			v[k++] = c->peers[i].routes[j];
	for (uint32_t i = 0; i < c->n_rules; i++)
		if (c->rules[i].action == SN_ACT_FORWARD)
			v[k++] = c->rules[i].prefix;
	*cnt = k;
	return v;
}

static bool same_prefix(const struct sn_prefix *a, const struct sn_prefix *b)
{
	return a->addr == b->addr && a->len == b->len;
}

static int cmp_prefix(const void *x, const void *y)
{
	const struct sn_prefix *a = x, *b = y;

	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	return (a->len > b->len) - (a->len < b->len);
}

/* Routes wanted by a config plus the FORWARD run-time rules: sorted, each
 * once. */
static struct sn_prefix *wanted_with(const struct sn_config *c, const struct sn_policy_rule *rt,
				     uint32_t n_rt, uint32_t *cnt)
{
	uint32_t k = 0, u = 0;
	struct sn_prefix *base = sn_routes_wanted(c, &k), *v;

	if (!base)
		return NULL;
	v = realloc(base, (k + n_rt + 1) * sizeof(*v));
	if (!v) {
		free(base);
		return NULL;
	}
	for (uint32_t i = 0; i < n_rt; i++)
		if (rt[i].action == SN_ACT_FORWARD)
			v[k++] = rt[i].prefix;
	qsort(v, k, sizeof(*v), cmp_prefix);
	for (uint32_t i = 0; i < k; i++)
		if (!u || !same_prefix(&v[u - 1], &v[i]))
			v[u++] = v[i];
	*cnt = u;
	return v;
}

int sn_routes_diff(struct sn_route_diff *d, const struct sn_config *oc,
		   const struct sn_policy_rule *ort, uint32_t n_ort, const struct sn_config *nc,
		   const struct sn_policy_rule *nrt, uint32_t n_nrt)
{
	uint32_t no = 0, nn = 0, i = 0, j = 0;
	struct sn_prefix *o, *w;

	memset(d, 0, sizeof(*d));
	if (!nc->manage_routes)
		return 0;
	o = wanted_with(oc, ort, n_ort, &no);
	w = wanted_with(nc, nrt, n_nrt, &nn);
	d->del = o;
	d->add = w;
	if (!o || !w) {
		free(o);
		free(w);
		memset(d, 0, sizeof(*d));
		return -ENOMEM;
	}
	while (i < no || j < nn) {
		int c = i == no ? 1 : j == nn ? -1 : cmp_prefix(&o[i], &w[j]);

		if (c < 0)
			o[d->n_del++] = o[i++]; /* only wanted before */
		else if (c > 0)
			w[d->n_add++] = w[j++]; /* only wanted now */
		else
			i++, j++;
	}
	return 0;
}

void sn_routes_diff_free(struct sn_route_diff *d)
{
	free(d->add);
	free(d->del);
	memset(d, 0, sizeof(*d));
}

/* ---- a node's routes ---- */

int sn_routes_install(struct sn_node *n)
{
	uint32_t k = 0;
	struct sn_prefix *want;

	if (!n->cfg->manage_routes)
		return 0;
	want = sn_routes_wanted(n->cfg, &k);
	if (!want)
		return -ENOMEM;
	for (uint32_t i = 0; i < k; i++)
		sn_routes_add(n, &want[i]);
	free(want);
	return 0;
}

/* Room for one more entry in the list. */
static bool room(struct sn_routes *rs)
{
	uint32_t cap;
	struct sn_prefix *v;

	if (rs->n < rs->cap)
		return true;
	cap = rs->cap ? rs->cap * 2 : 16;
	v = realloc(rs->v, cap * sizeof(*v));
	if (!v)
		return false;
	rs->v = v;
	rs->cap = cap;
	return true;
}

void sn_routes_add(struct sn_node *n, const struct sn_prefix *p)
{
	char buf[24];
	int r;

	if (!room(&n->routes)) {
		sn_log(&n->host, SN_LOG_ERROR, "out of memory for the route list");
		return;
	}
	sn_prefix_str(p, buf, sizeof(buf));
	r = n->os_ops->route_add(n->os.inst, p);
	if (r == 0)
		n->routes.v[n->routes.n++] = *p;
	else if (r == -EEXIST)
		sn_log(&n->host, SN_LOG_WARN, "route %s exists already; leaving it alone", buf);
	else
		sn_log(&n->host, SN_LOG_ERROR, "cannot add route %s via %s: %s", buf,
		       n->os_ops->tun_name(n->os.inst), strerror(-r));
}

void sn_routes_del(struct sn_node *n, const struct sn_prefix *p)
{
	struct sn_routes *rs = &n->routes;
	char buf[24];

	for (uint32_t i = 0; i < rs->n; i++) {
		int r;

		if (!same_prefix(&rs->v[i], p))
			continue;
		r = n->os_ops->route_del(n->os.inst, p);
		if (r < 0 && r != -ESRCH)
			sn_log(&n->host, SN_LOG_WARN, "cannot remove route %s: %s",
			       sn_prefix_str(p, buf, sizeof(buf)), strerror(-r));
		rs->v[i] = rs->v[--rs->n];
		return;
	}
}

void sn_routes_apply(struct sn_node *n, const struct sn_route_diff *d)
{
	for (uint32_t i = 0; i < d->n_del; i++)
		sn_routes_del(n, &d->del[i]);
	for (uint32_t i = 0; i < d->n_add; i++)
		sn_routes_add(n, &d->add[i]);
}

void sn_routes_sync(struct sn_node *n, const struct sn_config *oc,
		    const struct sn_policy_rule *ort, uint32_t n_ort, const struct sn_config *nc,
		    const struct sn_policy_rule *nrt, uint32_t n_nrt)
{
	struct sn_route_diff d;

	if (sn_routes_diff(&d, oc, ort, n_ort, nc, nrt, n_nrt) < 0)
		sn_log(&n->host, SN_LOG_ERROR, "out of memory: the kernel routes were not updated");
	sn_routes_apply(n, &d);
	sn_routes_diff_free(&d);
}

void sn_routes_remove_all(struct sn_node *n)
{
	struct sn_routes *rs = &n->routes;

	while (rs->n)
		sn_routes_del(n, &rs->v[rs->n - 1]);
	free(rs->v);
	memset(rs, 0, sizeof(*rs));
}
