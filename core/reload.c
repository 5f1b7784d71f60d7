/* SPDX-License-Identifier: MIT */
/*
 * core/reload.c: changing a running node: run-time policy rules and hot
 * reload of the config file (SIGHUP, `subnetra reload`).
 *
 * Everything is built and validated first (new config, new peer registry,
 * new policy tree); only when all of it succeeded is the running state
 * swapped, between two packets (the loop is single-threaded). A rejected
 * change leaves the node exactly as it was. Peers whose id, public key and
 * PSK are unchanged keep their session (carry.c): their tunnels never
 * notice. Added or re-keyed peers start unverified and are challenged.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "node.h"
#include "routes.h"
#include "stack.h"
#include "timers.h"

static bool same_prefix(const struct sn_prefix *a, const struct sn_prefix *b)
{
	return a->addr == b->addr && a->len == b->len;
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
		sn_routes_sync(n, n->cfg, n->rt_rules, n->n_rt_rules, n->cfg, copy, cnt);
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

/* What a reload cannot change without a restart: first difference, or NULL.
 * The overlay MTU is the one c gives over the running egress stack (which
 * a reload cannot change either): `mtu:` set to the automatic value, or
 * removed where it was that value, changes nothing. */
static const char *fixed_change(const struct sn_node *n, const struct sn_config *o,
				const struct sn_config *c)
{
	struct sn_mtu m;

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
	if (o->slice_us != c->slice_us)
		return "node.slice_us";
	if (o->rt_priority != c->rt_priority)
		return "node.rt_priority";
	if (!same_prefix(&o->subnet, &c->subnet))
		return "overlay.subnet";
	if (o->address != c->address)
		return "overlay.address";
	sn_mtu_resolve(&m, c, n->mtu.eg_overhead, n->mtu.protocol);
	if (m.mtu != n->mtu.mtu)
		return "overlay.mtu";
	if (!str_eq(o->ifname, c->ifname))
		return "overlay.interface";
	if (o->manage_routes != c->manage_routes)
		return "overlay.manage_routes";
	if (!str_eq(o->egress, c->egress))
		return "plugins.egress"; /* the stack, its overhead and so the MTU */
	if (!str_eq(o->plugin_dir, c->plugin_dir) || !str_eq(o->os, c->os) ||
	    !str_eq(o->crypto, c->crypto))
		return "plugins";
	if (!str_eq(o->control_socket, c->control_socket) ||
	    !str_eq(o->control_group, c->control_group))
		return "control";
	if (!addr_eq(&o->metrics_listen, &c->metrics_listen))
		return "metrics.listen";
	return NULL;
}

/* Plugin options: the os and crypto plugins take them at start only; the
 * egresses of the stack can change them at run time (their optional
 * reconfigure operation, egstack.c). */
static int check_plugin_options(struct sn_node *n, const struct sn_config *c, bool *egress_changed,
				char *err, size_t err_len)
{
	const struct sn_plugin *const pl[2] = {&n->os, &n->crypto};
	const char *names[2] = {c->os, c->crypto};
	int r;

	*egress_changed = false;
	if ((r = sn_stack_options_check(n, c, err, err_len)) < 0)
		return r;
	for (int i = 0; i < 2; i++) /* options go under the name a plugin declares */
		if (pl[i]->desc)
			names[i] = pl[i]->desc->name;
	for (int i = 0; i < 2; i++) {
		if (sn_egstack_opts_eq(sn_config_plugin_opts(n->cfg, names[i]),
				       sn_config_plugin_opts(c, names[i])))
			continue;
		snprintf(err, err_len, "%s: plugins.options.%s changed, and plugin '%s' cannot "
			 "apply options at run time: restart subnetrad to apply them",
			 c->path, names[i], names[i]);
		return -ENOTSUP;
	}
	return sn_egstack_reload_check(&n->eg_stack, &n->egress, n->cfg, c, egress_changed, err,
				       err_len);
}

/*
 * A reload runs in three steps (what it may change: docs/control.md,
 * "reload"):
 *
 *   worker thread   read, parse and check the config (file reads, user and
 *                   name lookups may block), build the policy tree and the
 *                   new peer registry (unchanged peers shared, new ones
 *                   keyed), plan the sessions (carry.c) and the kernel
 *                   route changes. Touches nothing of the running node
 *                   but what only a commit changes: the running config,
 *                   the plugins' operation tables, the old registry's
 *                   arrays and its peers' ids, keys and names, the saved
 *                   sessions.
 *   loop thread     the commit, between two packets, in O(changed peers):
 *                   egress options, the carry plan, the registry and the
 *                   policy swapped (two pointer-sized stores), the route
 *                   changes.
 *   worker thread   what was replaced (the old registry's arrays, the
 *                   peers that left, the old config) wiped and freed.
 *
 * One reload at a time; a node without a loop (tests, --check) runs all
 * three inline.
 */
struct sn_reload {
	uv_work_t work;
	struct sn_node *n;
	sn_reload_cb cb;
	void *arg;
	/* taken on the loop when the job starts */
	struct sn_policy_rule *rt;   /* copy of the run-time rules */
	uint32_t n_rt;
	uint64_t policy_version;
	uint32_t epoch;
	uint64_t start_ns;
	/* the worker's results */
	int rc;
	char err[2048];
	struct sn_config *c;
	struct sn_policy *t;
	struct sn_peers np;
	bool has_np;
	struct sn_carry plan;
	bool has_plan;
	struct sn_route_diff routes;
	bool eg_changed;
};

/* What a commit replaced, or what a refused reload built: freed off the
 * loop (O(n) wipes and frees). */
struct sn_retire {
	uv_work_t work;
	struct sn_crypto cr;
	struct sn_slab *slab;
	struct sn_peers peers;  /* arrays freed; with discard, its fresh peers too */
	bool discard;
	struct sn_carry plan;   /* released; applied: its gone peers freed */
	struct sn_config *cfg;
	struct sn_policy *t;
};

/*
 * The reload's work runs on a libuv worker thread at nice 10: on a machine
 * with fewer cores than runnable threads the scheduler then gives the
 * packet thread (nice 0) about nine times the worker's share, so parsing
 * 10,000 peer files does not take the packet thread's turns. (Linux sets
 * niceness per thread; once the daemon runs as node.user it cannot lower
 * it again, so the worker stays at 10: only control-path jobs run there.)
 */
static void yield_to_packets(void)
{
#ifdef __linux__
	setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10);
#endif
}

static void build_work(uv_work_t *w)
{
	struct sn_reload *j = w->data;
	struct sn_node *n = j->n;
	const char *what;

	if (w->loop)
		yield_to_packets(); /* a worker thread, not the loop's (inline) */
	j->rc = sn_config_reload(n->config_path, n->cfg, &j->c, j->err, sizeof(j->err));
	if (j->rc < 0)
		return;
	if ((what = fixed_change(n, n->cfg, j->c))) {
		snprintf(j->err, sizeof(j->err), "%s: %s changed: restart subnetrad to apply that "
			 "change", j->c->path, what);
		j->rc = -ENOTSUP;
		return;
	}
	if ((j->rc = check_plugin_options(n, j->c, &j->eg_changed, j->err, sizeof(j->err))) < 0 ||
	    (j->rc = sn_policy_from_config(j->c, j->rt, j->n_rt, j->policy_version + 1, &j->t,
					   j->err, sizeof(j->err))) < 0 ||
	    (j->rc = sn_peers_build(&j->np, j->c, &n->cr, &n->peer_slab, j->epoch, &n->peers,
				    j->err, sizeof(j->err))) < 0)
		return;
	j->has_np = true;
	if ((j->rc = sn__carry_plan(n, n->cfg, j->c, &j->np, &j->plan, j->err,
				    sizeof(j->err))) < 0)
		return;
	j->has_plan = true;
	if ((j->rc = sn_routes_diff(&j->routes, n->cfg, j->rt, j->n_rt, j->c, j->rt, j->n_rt)) < 0)
		snprintf(j->err, sizeof(j->err), "out of memory planning the route changes");
}

static void retire_work(uv_work_t *w)
{
	struct sn_retire *r = w->data;

	if (w->loop)
		yield_to_packets(); /* a worker thread, not the loop's (inline) */
	if (r->plan.applied)
		for (uint32_t i = 0; i < r->plan.n_gone; i++)
			sn_peer_free(r->plan.gone[i].p, &r->cr, r->slab);
	sn__carry_release(&r->plan);
	if (r->discard)
		sn_peers_discard(&r->peers, &r->cr, r->slab);
	else
		sn_peers_free_index(&r->peers);
	sn_policy_free(r->t);
	sn_config_free(r->cfg);
}

static void retire_done(uv_work_t *w, int status)
{
	free(w->data);
}

/* Free r's contents: off the loop when there is one. */
static void retire(struct sn_node *n, struct sn_retire *r)
{
	struct sn_retire *job = malloc(sizeof(*job));

	r->cr = n->cr;
	r->slab = &n->peer_slab;
	if (!job) { /* no memory for the job: pay for it here */
		retire_work(&(uv_work_t){ .data = r });
		return;
	}
	*job = *r;
	job->work.data = job;
	if (!n->host.loop || uv_queue_work(n->host.loop, &job->work, retire_work, retire_done) < 0) {
		retire_work(&job->work);
		free(job);
	}
}

/* On the loop: switch to what the worker built. 0 or -errno with j->err. */
static int commit(struct sn_reload *j)
{
	struct sn_node *n = j->n;
	struct sn_retire old = { .peers = n->peers, .cfg = n->cfg };
	int r;

	if (n->policy_version != j->policy_version) {
		/* run-time rules changed meanwhile: the tree and the route
		 * changes are worked out again (here: rare) */
		sn_policy_free(j->t);
		j->t = NULL;
		sn_routes_diff_free(&j->routes);
		if ((r = sn_policy_from_config(j->c, n->rt_rules, n->n_rt_rules,
					       n->policy_version + 1, &j->t, j->err,
					       sizeof(j->err))) < 0)
			return r;
		if (sn_routes_diff(&j->routes, n->cfg, n->rt_rules, n->n_rt_rules, j->c, n->rt_rules,
			       n->n_rt_rules) < 0) {
			snprintf(j->err, sizeof(j->err), "out of memory planning the route changes");
			return -ENOMEM;
		}
	}
	if (j->eg_changed &&
	    (r = sn_egstack_reconfigure(&n->eg_stack, &n->egress, n->cfg, j->c, j->err,
				      sizeof(j->err))) < 0)
		return r;
	/* nothing below can fail */
	sn__carry_apply(n, &j->plan, &j->np, j->epoch);
	n->peers = j->np;
	n->policy_version++;
	sn_policy_publish(&n->policy, j->t);
	n->cfg = j->c;
	sn_mtu_resolve(&n->mtu, n->cfg, n->mtu.eg_overhead, n->mtu.protocol); /* same MTU */
	if (n->os.inst)
		sn_routes_apply(n, &j->routes);
	n->reloads++;
	sn_timers_restart(n);
	old.plan = j->plan;
	j->c = NULL;
	j->t = NULL;
	j->has_np = j->has_plan = false;
	retire(n, &old);
	return 0;
}

/* What the job still holds (a refused reload): freed off the loop. */
static void job_free(struct sn_reload *j)
{
	struct sn_retire r = { .discard = j->has_np, .cfg = j->c, .t = j->t };

	if (j->has_np)
		r.peers = j->np;
	if (j->has_plan)
		r.plan = j->plan;
	sn_routes_diff_free(&j->routes);
	if (j->has_np || j->c || j->t)
		retire(j->n, &r);
	free(j->rt);
	free(j);
}

static void build_done(uv_work_t *w, int status)
{
	struct sn_reload *j = w->data;
	struct sn_node *n = j->n;

	n->reload = NULL;
	if (status < 0 && j->rc == 0) {
		snprintf(j->err, sizeof(j->err), "the reload was cancelled");
		j->rc = status;
	}
	if (j->rc == 0 && n->stopping) {
		snprintf(j->err, sizeof(j->err), "subnetrad is shutting down");
		j->rc = -ECANCELED;
	}
	if (j->rc == 0) {
		uint64_t t0 = uv_hrtime();

		j->rc = commit(j);
		n->commit_ns = uv_hrtime() - t0;
	}
	if (j->cb)
		j->cb(n, j->rc, j->err, j->arg);
	job_free(j);
	if (n->reload_again && !n->stopping) {
		n->reload_again = false;
		sn_node_reload_signal(n);
	}
}

int sn_node_reload_start(struct sn_node *n, sn_reload_cb cb, void *arg)
{
	struct sn_reload *j;

	if (n->reload)
		return -EBUSY;
	j = calloc(1, sizeof(*j));
	if (!j || !(j->rt = malloc((n->n_rt_rules ? n->n_rt_rules : 1) * sizeof(*j->rt)))) {
		free(j);
		return -ENOMEM;
	}
	j->n = n;
	j->cb = cb;
	j->arg = arg;
	j->n_rt = n->n_rt_rules;
	if (n->n_rt_rules)
		memcpy(j->rt, n->rt_rules, n->n_rt_rules * sizeof(*j->rt));
	j->policy_version = n->policy_version;
	j->epoch = n->epoch;
	j->work.data = j;
	n->reload = j;
	sn__loopstat_reload_started(n);
	if (n->host.loop &&
	    uv_queue_work(n->host.loop, &j->work, build_work, build_done) == 0)
		return 0;
	build_work(&j->work); /* no loop (tests, --check): inline */
	build_done(&j->work, 0);
	return 0;
}

void sn_node_reload_forget_cb(struct sn_node *n, void *arg)
{
	if (n->reload && n->reload->arg == arg)
		n->reload->cb = NULL;
}


static void signal_done(struct sn_node *n, int rc, const char *err, void *arg)
{
	sn_nodelog_reload(n, "SIGHUP", rc, err);
	sn_node_notify_ready(n); /* the service manager waits for it (notify.h) */
}

void sn_node_reload_signal(struct sn_node *n)
{
	int r;

	sn_node_notify_reloading(n);
	r = sn_node_reload_start(n, signal_done, NULL);
	if (r == -EBUSY) {
		n->reload_again = true; /* once the running one is done */
	} else if (r < 0) {
		sn_log(&n->host, SN_LOG_ERROR, "cannot start a reload: %s", strerror(-r));
		sn_node_notify_ready(n);
	}
}
