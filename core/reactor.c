/* SPDX-License-Identifier: MIT */
/*
 * core/reactor.c: the single-threaded libuv reactor. It owns the loop and
 * its handles, sets the node up (plugins, pool, epoch, peers, policy, TUN,
 * underlay, routes), runs it, and tears it down in the order of STYLE rule
 * 20: stop reads, remove routes, close the control socket and the metrics
 * server, destroy plugins in reverse, close every handle, run the loop dry,
 * uv_loop_close() == 0.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "epoch.h"
#include "fileperm.h"
#include "http.h"
#include "node.h"
#include "wire.h"

static int load_one(struct sn_node *n, struct sn_plugin *p, uint32_t kind, const char *name,
		    char *err, size_t err_len)
{
	struct sn_option items[64];
	struct sn_options o;
	int r = sn_loader_load(kind, name, n->plugin_dir, p, err, err_len);

	if (r < 0)
		return r;
	return sn_plugin_create(p, &n->host, sn_stack_options(n->cfg, name, false, &o, items, 64),
				err, err_len);
}

/* plugins.crypto unset: the build's default (crypto_openssl where it was
 * built), else crypto_chacha, the same protocol on libsodium, which the
 * daemon links anyway. Named in the config: that one or nothing. */
static int load_crypto(struct sn_node *n, char *err, size_t err_len)
{
	const char *name = n->cfg->crypto;
	int r = load_one(n, &n->crypto, SN_KIND_CRYPTO, name, err, err_len);

	if (r == 0 || (n->cfg->has & SN_CONF_HAS_CRYPTO) || !strcmp(name, SN_CONF_FALLBACK_CRYPTO))
		return r;
	sn_log(&n->host, SN_LOG_WARN, "plugins.crypto is not set and the default crypto plugin "
	       "'%s' cannot be used: %s; using '%s' instead (the same protocol; set "
	       "plugins.crypto to choose)", name, err, SN_CONF_FALLBACK_CRYPTO);
	sn_plugin_unload(&n->crypto);
	return load_one(n, &n->crypto, SN_KIND_CRYPTO, SN_CONF_FALLBACK_CRYPTO, err, err_len);
}

/* The longest sealed datagram the node sends: a full overlay MTU packet
 * (docs/protocol.md, section 3). */
static uint32_t datagram_max(const struct sn_node *n)
{
	return SN_WIRE_HDR_LEN + n->cfg->mtu + n->crypto.desc->overhead + SN_WIRE_TAG_LEN;
}

int sn__node_load_plugins(struct sn_node *n, char *err, size_t err_len)
{
	int r;

	if ((r = load_one(n, &n->os, SN_KIND_OS, n->cfg->os, err, err_len)) < 0 ||
	    (r = load_crypto(n, err, err_len)) < 0 ||
	    (r = sn_stack_load(&n->eg_stack, &n->egress, &n->host, n->cfg, n->plugin_dir,
			       datagram_max(n), err, err_len)) < 0)
		return r;
	n->os_ops = sn_plugin_ops(&n->os);
	n->eg_ops = sn_plugin_ops(&n->egress);
	n->cr.ops = sn_plugin_ops(&n->crypto);
	n->cr.inst = n->crypto.inst;
	return 0;
}

void sn__node_unload_plugins(struct sn_node *n)
{
	sn_stack_unload(&n->eg_stack, &n->egress);
	sn_plugin_unload(&n->crypto);
	sn_plugin_unload(&n->os);
}

/* The pool: headroom, room and tailroom summed over the plugins, every
 * egress of the stack included. */
static int setup_pool(struct sn_node *n, char *err, size_t err_len)
{
	const struct sn_plugin_desc *os = n->os.desc, *cr = n->crypto.desc;
	const struct sn_stack *eg = &n->eg_stack;
	uint32_t head = SN_WIRE_HDR_LEN + os->headroom + eg->headroom + cr->headroom;
	uint32_t tail = SN_WIRE_TAG_LEN + os->tailroom + eg->tailroom + cr->tailroom;
	uint32_t room = n->cfg->mtu + eg->overhead + cr->overhead;
	int r;

	head = (head + 15) & ~15u;
	r = sn_pool_init(&n->pool, SN_POOL_PKTS, head, room, tail, true);
	if (r < 0) {
		snprintf(err, err_len, "cannot allocate the packet pool (%u x %u bytes): %s",
			 SN_POOL_PKTS, head + room + tail, strerror(-r));
		return r;
	}
	if (!n->pool.locked)
		sn_log(&n->host, SN_LOG_WARN, "could not mlock() the packet pool (%llu bytes); "
		       "continuing unlocked", (unsigned long long)n->pool.mem_bytes);
	n->host.pool = &n->pool;
	return 0;
}

static int setup_policy(struct sn_node *n, char *err, size_t err_len)
{
	struct sn_policy *t;
	int r;

	sn_policy_slot_init(&n->policy);
	r = sn_policy_from_config(n->cfg, NULL, 0, ++n->policy_version, &t, err, err_len);
	if (r < 0)
		return r;
	sn_policy_publish(&n->policy, t);
	return 0;
}

/* What the TUN device offloads (a backend without SN_OS_F_GSO reports
 * nothing); with reads that may be super-packets, the pool gets its big
 * packets. */
static void tun_offloads(struct sn_node *n, uint32_t reported)
{
	int r;

	n->tun_offload = (n->os_ops->flags & SN_OS_F_GSO) ? reported : 0;
	if ((n->tun_offload & SN_TUN_OFFLOAD_RX) &&
	    (r = sn_pool_add_big(&n->pool, SN_POOL_BIG, true)) < 0) {
		sn_log(&n->host, SN_LOG_WARN, "cannot allocate %u packets for the TUN device's "
		       "super-packets (%s); reading without offloads is not possible once they "
		       "are on, so reads of super-packets will be dropped", SN_POOL_BIG,
		       strerror(-r));
	}
	sn_log(&n->host, SN_LOG_INFO, "%s: offloads %s%s%s", n->os_ops->tun_name(n->os.inst),
	       n->tun_offload ? "" : "off",
	       n->tun_offload & SN_TUN_OFFLOAD_RX ? "rx (TSO/USO reads, partial checksums) " : "",
	       n->tun_offload & SN_TUN_OFFLOAD_TX ? "tx (coalesced writes)" : "");
}

static int open_tun(struct sn_node *n, char *err, size_t err_len)
{
	char why[256] = "";
	struct sn_tun_config tc = {
		.struct_size = sizeof(tc),
		.ifname = n->cfg->ifname,
		.mtu = n->cfg->mtu,
		.addr = n->cfg->address,
		.prefix_len = n->cfg->subnet.len,
		.err = why,
		.err_len = sizeof(why),
	};
	int r = n->os_ops->tun_open(n->os.inst, &tc);

	if (r < 0) {
		snprintf(err, err_len, "%s: %s", n->os.path, why[0] ? why : strerror(-r));
		return r;
	}
	if (SN_HAS_OP(struct sn_os_ops, n->os_ops, tun_dropped))
		n->os_ops->tun_dropped(n->os.inst, &n->tun_dropped_base);
	tun_offloads(n, tc.offload);
	return 0;
}

void sn_node_kernel_counters(struct sn_node *n)
{
	uint64_t v;

	if (!n->os.inst || !SN_HAS_OP(struct sn_os_ops, n->os_ops, tun_dropped) ||
	    n->os_ops->tun_dropped(n->os.inst, &v) < 0 || v < n->tun_dropped_base)
		return;
	n->host.counters[SN_CTR_DROP_TUN_QUEUE] = v - n->tun_dropped_base;
}

static int open_underlay(struct sn_node *n, char *err, size_t err_len)
{
	char why[256] = "";
	struct sn_egress_open eo = {
		.struct_size = sizeof(eo),
		.listen = n->cfg->listen,
		.rcvbuf = SN_UNDERLAY_BUF,
		.sndbuf = SN_UNDERLAY_BUF,
		.err = why,
		.err_len = sizeof(why),
	};
	int r;

	if (eo.listen.family == SN_AF_NONE)
		eo.listen.family = SN_AF_INET;
	r = n->eg_ops->open(n->egress.inst, &eo);
	if (r < 0)
		snprintf(err, err_len, "%s: %s", n->egress.path, why[0] ? why : strerror(-r));
	n->eg_gso = (n->eg_ops->flags & SN_EGRESS_F_GSO) != 0;
	return r;
}

struct sn_prefix *sn__node_wanted_routes(const struct sn_config *c, uint32_t *cnt)
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

/* Routes for every FORWARD prefix outside the overlay subnet (the TUN
 * address's own subnet covers that), unless the operator manages routes. */
static int add_routes(struct sn_node *n)
{
	uint32_t k = 0;
	struct sn_prefix *want;

	if (!n->cfg->manage_routes)
		return 0;
	want = sn__node_wanted_routes(n->cfg, &k);
	if (!want)
		return -ENOMEM;
	for (uint32_t i = 0; i < k; i++)
		sn__node_route_add(n, &want[i]);
	free(want);
	return 0;
}

void sn__node_route_add(struct sn_node *n, const struct sn_prefix *p)
{
	char buf[24];
	int r;

	if (n->n_routes == n->cap_routes) {
		uint32_t cap = n->cap_routes ? n->cap_routes * 2 : 16;
		struct sn_prefix *v = realloc(n->routes, cap * sizeof(*v));

		if (!v) {
			sn_log(&n->host, SN_LOG_ERROR, "out of memory for the route list");
			return;
		}
		n->routes = v;
		n->cap_routes = cap;
	}
	sn_prefix_str(p, buf, sizeof(buf));
	r = n->os_ops->route_add(n->os.inst, p);
	if (r == 0)
		n->routes[n->n_routes++] = *p;
	else if (r == -EEXIST)
		sn_log(&n->host, SN_LOG_WARN, "route %s exists already; leaving it alone", buf);
	else
		sn_log(&n->host, SN_LOG_ERROR, "cannot add route %s via %s: %s", buf,
		       n->os_ops->tun_name(n->os.inst), strerror(-r));
}

void sn__node_route_del(struct sn_node *n, const struct sn_prefix *p)
{
	char buf[24];

	for (uint32_t i = 0; i < n->n_routes; i++) {
		int r;

		if (n->routes[i].addr != p->addr || n->routes[i].len != p->len)
			continue;
		r = n->os_ops->route_del(n->os.inst, p);
		if (r < 0 && r != -ESRCH)
			sn_log(&n->host, SN_LOG_WARN, "cannot remove route %s: %s",
			       sn_prefix_str(p, buf, sizeof(buf)), strerror(-r));
		n->routes[i] = n->routes[--n->n_routes];
		return;
	}
}

static void remove_routes(struct sn_node *n)
{
	while (n->n_routes)
		sn__node_route_del(n, &n->routes[n->n_routes - 1]);
	free(n->routes);
	n->routes = NULL;
	n->cap_routes = 0;
}

/* ---- loop callbacks -------------------------------------------------- */

/* Lend up to SN_BATCH packets (and big ones when the TUN device's reads
 * may be super-packets), read into them, process what was filled, return
 * the rest. Returns whether every lent packet was filled. */
static bool lend_and_read(struct sn_node *n, int (*rd)(void *, struct sn_pkt **, uint32_t),
			  void *inst, uint32_t big,
			  void (*process)(struct sn_node *, struct sn_pkt *const *, uint32_t))
{
	struct sn_pkt *v[SN_BATCH + SN_TUN_BIG];
	uint32_t k = 0, b = 0;
	int got;

	while (k < SN_BATCH && (v[k] = sn_pool_get(&n->pool)))
		k++;
	while (b < big && (v[k + b] = sn_pool_get_big(&n->pool)))
		b++;
	k += b;
	if (k == 0) {
		sn__dp_count(n, NULL, SN_CTR_DROP_NO_BUFFER, 1);
		return false;
	}
	got = rd(inst, v, k);
	if (got < 0) {
		if (got != -EAGAIN && got != -EINTR)
			sn_log(&n->host, SN_LOG_WARN, "read error: %s", strerror(-got));
		got = 0;
	}
	for (uint32_t i = (uint32_t)got; i < k; i++)
		sn_pool_put(&n->pool, v[i]);
	if (got)
		process(n, v, (uint32_t)got);
	return (uint32_t)got == k;
}

static void read_udp(struct sn_node *n);

/* The top egress's recv_batch; deliver waits while it runs (datapath.c). */
static int eg_recv(void *node, struct sn_pkt **pkts, uint32_t k)
{
	struct sn_node *n = node;
	int r;

	n->eg_depth++;
	r = n->eg_ops->recv_batch(n->egress.inst, pkts, k);
	n->eg_depth--;
	return r;
}

static void on_udp_again(uv_idle_t *h)
{
	struct sn_node *n = h->data;

	uv_idle_stop(h);
	read_udp(n);
}

/* The underlay: after a read that filled every packet, the egress may hold
 * more than the socket shows (subnetra/egress.h, recv_batch): read again
 * on the next turn of the loop, after the other descriptors had theirs. */
static void read_udp(struct sn_node *n)
{
	bool again;

	n->drops.receiving = true; /* the drop summary notes these (droplog.h) */
	again = lend_and_read(n, eg_recv, n, 0, sn_dp_underlay_rx);
	sn_dp_rx_later(n);
	n->drops.receiving = false;
	if (again)
		uv_idle_start(&n->udp_again, on_udp_again);
}

static void on_udp(uv_poll_t *h, int status, int events)
{
	struct sn_node *n = h->data;

	if (status < 0)
		return;
	read_udp(n);
}

static void on_tun(uv_poll_t *h, int status, int events)
{
	struct sn_node *n = h->data;

	if (status < 0)
		return;
	lend_and_read(n, n->os_ops->tun_read_batch, n->os.inst,
		      n->tun_offload & SN_TUN_OFFLOAD_RX ? SN_TUN_BIG : 0, sn_dp_tun_rx);
}

/* An epoch move (verify.c): persist emove.job on a worker thread, then
 * every peer moves to it on the loop. */
static void persist_work(uv_work_t *w)
{
	struct sn_node *n = w->data;
	struct sn_epoch_move *m = &n->emove;

	m->err[0] = '\0';
	if (sn_epoch_next(&n->state, (uint64_t)time(NULL), m->job, &m->result, m->err,
			  sizeof(m->err)) < 0)
		m->result = 0;
}

static void persist_done(uv_work_t *w, int status)
{
	struct sn_node *n = w->data;
	struct sn_epoch_move *m = &n->emove;
	uint32_t old = n->epoch;

	m->running = false;
	if (status < 0 || !n->running)
		return;
	if (!m->result) {
		sn_log(&n->host, SN_LOG_ERROR, "cannot move to a new epoch (a peer reported having "
		       "accepted ours); sending it nothing until this works, retrying: %s", m->err);
		sn__node_verify_start(n); /* its round retries the move */
		return;
	}
	sn_verify_epoch_moved(n, m->result);
	sn_log(&n->host, SN_LOG_WARN, "moved from epoch %u to %u: a peer reported having accepted "
	       "epoch %u or later of ours (a lost or rolled-back state directory)", old, m->result,
	       m->job - 1);
	if (m->target > n->epoch)
		sn_verify_request_epoch(n, m->target);
}

static void persist_epoch(struct sn_node *n)
{
	struct sn_epoch_move *m = &n->emove;

	m->job = m->target;
	if (uv_queue_work(&n->loop, &n->emove_work, persist_work, persist_done) == 0)
		m->running = true;
}

static void on_check(uv_check_t *c)
{
	struct sn_node *n = c->data;

	sn_policy_reclaim(&n->policy);
}

static void on_signal(uv_signal_t *s, int sig)
{
	struct sn_node *n = s->data;

	if (sig == SIGHUP) {
		sn_node_reload_signal(n);
		return;
	}
	sn_log(&n->host, SN_LOG_INFO, "signal %d: shutting down", sig);
	sn_node_stop(n);
}

/* The loop exists before the plugins are created, so that they can take
 * timers (sn_host_api.timer_new) from the start. */
static int init_loop(struct sn_node *n, char *err, size_t err_len)
{
	int r = uv_loop_init(&n->loop);

	if (r < 0) {
		snprintf(err, err_len, "cannot create the event loop: %s", uv_strerror(r));
		return r;
	}
	n->host.loop = &n->loop;
	return 0;
}

static int start_handles(struct sn_node *n, char *err, size_t err_len)
{
	int r;

	uv_poll_init(&n->loop, &n->tun_poll, n->os_ops->tun_fd(n->os.inst));
	uv_poll_init(&n->loop, &n->udp_poll, n->eg_ops->fd(n->egress.inst));
	uv_signal_init(&n->loop, &n->sig_int);
	uv_signal_init(&n->loop, &n->sig_term);
	uv_signal_init(&n->loop, &n->sig_hup);
	uv_idle_init(&n->loop, &n->udp_again);
	uv_timer_init(&n->loop, &n->keepalive);
	uv_timer_init(&n->loop, &n->verify);
	uv_timer_init(&n->loop, &n->logtick);
	uv_check_init(&n->loop, &n->reclaim);
	n->udp_again.data = n;
	n->tun_poll.data = n->udp_poll.data = n->sig_int.data = n->sig_term.data =
		n->sig_hup.data = n->keepalive.data = n->verify.data = n->reclaim.data =
		n->logtick.data = n->emove_work.data = n;
	n->persist_epoch = persist_epoch;
	uv_poll_start(&n->tun_poll, UV_READABLE, on_tun);
	uv_poll_start(&n->udp_poll, UV_READABLE, on_udp);
	uv_signal_start(&n->sig_int, on_signal, SIGINT);
	uv_signal_start(&n->sig_term, on_signal, SIGTERM);
	uv_signal_start(&n->sig_hup, on_signal, SIGHUP);
	uv_check_start(&n->reclaim, on_check);
	sn__node_timers_restart(n);
	if ((r = sn__loopstat_start(n)) < 0)
		sn_log(&n->host, SN_LOG_WARN, "SUBNETRA_LOOP_STATS: cannot measure the loop: %s",
		       uv_strerror(r));
	return 0;
}

/* node.user: everything that needs root is done; the os backend switches
 * users keeping only what later route changes need, and only when the node
 * manages routes (run-time rules, reload and exit change them). */
static int drop_privileges(struct sn_node *n, char *err, size_t err_len)
{
	char why[256] = "";
	bool keep = n->cfg->manage_routes;
	struct sn_priv_args a = {
		.struct_size = sizeof(a),
		.flags = keep ? SN_PRIV_KEEP_NET_ADMIN : 0,
		.user = n->cfg->user,
		.err = why,
		.err_len = sizeof(why),
	};
	int r;

	if (!n->cfg->user)
		return 0;
	if (!SN_HAS_OP(struct sn_os_ops, n->os_ops, drop_privileges)) {
		snprintf(err, err_len, "%s: node.user is set, but os plugin '%s' cannot drop "
			 "privileges (remove node.user or use another os plugin)",
			 n->cfg->path, n->os.desc->name);
		return -ENOTSUP;
	}
	r = n->os_ops->drop_privileges(n->os.inst, &a);
	if (r < 0)
		snprintf(err, err_len, "%s: %s", n->cfg->path, why[0] ? why : strerror(-r));
	else
		sn_log(&n->host, SN_LOG_INFO, "running as user %s, %s", n->cfg->user,
		       keep ? "keeping only the right to change routes (overlay.manage_routes)"
			    : "with no privileges (overlay.manage_routes is false)");
	return r;
}

/* The state directory, owned by the user the daemon runs as after setup
 * (so an epoch jump still works after the drop), and the first epoch. */
static int open_state(struct sn_node *n, char *err, size_t err_len)
{
	char why[512];
	uid_t uid;
	gid_t gid;
	int r;

	if ((r = sn_user_ids(n->cfg->user, &uid, &gid, why, sizeof(why))) < 0 ||
	    (r = sn_state_open(&n->state, n->cfg->state_dir, uid, gid, why, sizeof(why))) < 0 ||
	    (r = sn_epoch_next(&n->state, n->start_unix, 0, &n->epoch, why, sizeof(why))) < 0)
		snprintf(err, err_len, "%s: %s", n->cfg->path, why);
	return r;
}

static int build_peers(struct sn_node *n, char *err, size_t err_len)
{
	uint32_t ks = n->cr.ops->key_ctx_size ? n->cr.ops->key_ctx_size : 16;
	int r = sn_slab_init(&n->peer_slab, sn_peer_object_size(ks), 0);

	if (r < 0) {
		snprintf(err, err_len, "cannot set up the peer memory: %s", strerror(-r));
		return r;
	}
	r = sn_peers_build(&n->peers, n->cfg, &n->cr, &n->peer_slab, n->epoch, NULL, err, err_len);

	if (r == 0)
		sn_endpoints_load(n);
	return r;
}

int sn_node_setup(struct sn_node *n, char *err, size_t err_len)
{
	int r;

	n->is_hub = n->cfg->role == SN_ROLE_HUB;
	n->start_ns = uv_hrtime();
	n->start_unix = (uint64_t)time(NULL);
	sn_arena_init(&n->rt_arena, 0);
	n->host.peer_counters = sn_peers_counters;
	n->host.ctx = &n->peers;
	n->host.deliver = sn_dp_deliver;
	n->host.deliver_ctx = n;
	if ((r = init_loop(n, err, err_len)) < 0 ||
	    (r = sn__node_load_plugins(n, err, err_len)) < 0 ||
	    (r = setup_pool(n, err, err_len)) < 0 ||
	    (r = open_state(n, err, err_len)) < 0 ||
	    (r = build_peers(n, err, err_len)) < 0 ||
	    (r = setup_policy(n, err, err_len)) < 0 ||
	    (r = open_tun(n, err, err_len)) < 0 ||
	    (r = open_underlay(n, err, err_len)) < 0 ||
	    (r = add_routes(n)) < 0 ||
	    (r = start_handles(n, err, err_len)) < 0)
		return r;
	if ((r = sn_ctl_start(n, err, err_len)) < 0 || (r = sn_http_start(n, err, err_len)) < 0 ||
	    (r = drop_privileges(n, err, err_len)) < 0)
		return r;
	n->running = true;
	return 0;
}

int sn_node_run(struct sn_node *n)
{
	return uv_run(&n->loop, UV_RUN_DEFAULT);
}

static void close_cb(uv_handle_t *h)
{
}

static void close_all(uv_handle_t *h, void *arg)
{
	if (!uv_is_closing(h))
		uv_close(h, close_cb);
}

void sn_node_stop(struct sn_node *n)
{
	if (!n->running)
		return;
	n->running = false;
	n->stopping = true;
	uv_poll_stop(&n->tun_poll);
	uv_poll_stop(&n->udp_poll);
	uv_idle_stop(&n->udp_again);
	uv_stop(&n->loop);
}

void sn_node_teardown(struct sn_node *n)
{
	int r;

	n->stopping = true;
	if (n->os.inst && n->routes)
		remove_routes(n);
	if (n->peers.v)
		sn_endpoints_save(n);
	sn_ctl_stop(n);
	sn_http_stop(n);
	if (n->host.loop) {
		uv_walk(&n->loop, close_all, NULL);
		uv_run(&n->loop, UV_RUN_DEFAULT);
		r = uv_loop_close(&n->loop);
		if (r != 0)
			sn_log(&n->host, SN_LOG_WARN, "event loop did not close cleanly: %s",
			       uv_strerror(r));
		n->host.loop = NULL;
	}
	if (n->cr.ops)
		sn_peers_destroy(&n->peers, &n->cr, &n->peer_slab);
	sn_slab_destroy(&n->peer_slab);
	sn__node_forget_saved(n);
	sn_policy_slot_destroy(&n->policy);
	sn__node_unload_plugins(n);
	sn_pool_destroy(&n->pool);
	sn_arena_free(&n->rt_arena);
	sn_state_close(&n->state);
}
