/* SPDX-License-Identifier: MIT */
/*
 * core/reactor.c: the single-threaded libuv reactor. It owns the loop and
 * its handles, sets the node up (plugins, pool, epoch, peers, policy, TUN,
 * underlay, routes), runs it, and tears it down in the order of STYLE rule
 * 20: stop reads, remove routes, close the control socket and the metrics
 * server, destroy plugins in reverse, close every handle, run the loop dry,
 * uv_loop_close() == 0. What each step does lives in its own room: the
 * plugin stack and the privilege drop in stack.c, the kernel routes in
 * routes.c, when the timers fire in timers.c.
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
#include "routes.h"
#include "stack.h"
#include "timers.h"
#include "wire.h"

/* The pool: headroom, room and tailroom summed over the plugins, every
 * egress of the stack included (what each declared, at most SN_ROOM_MAX
 * each: core/loader.c). */
static int setup_pool(struct sn_node *n, char *err, size_t err_len)
{
	const struct sn_host_decl *os = &n->os.decl, *cr = &n->crypto.decl;
	const struct sn_egstack *eg = &n->eg_stack;
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
		.mtu = n->mtu.mtu,
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
		sn_timers_verify_start(n); /* its round retries the move */
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
	uv_timer_init(&n->loop, &n->resolve);
	uv_check_init(&n->loop, &n->reclaim);
	n->udp_again.data = n;
	n->tun_poll.data = n->udp_poll.data = n->sig_int.data = n->sig_term.data =
		n->sig_hup.data = n->keepalive.data = n->verify.data = n->reclaim.data =
		n->logtick.data = n->resolve.data = n->emove_work.data = n;
	n->persist_epoch = persist_epoch;
	uv_poll_start(&n->tun_poll, UV_READABLE, on_tun);
	uv_poll_start(&n->udp_poll, UV_READABLE, on_udp);
	uv_signal_start(&n->sig_int, on_signal, SIGINT);
	uv_signal_start(&n->sig_term, on_signal, SIGTERM);
	uv_signal_start(&n->sig_hup, on_signal, SIGHUP);
	uv_check_start(&n->reclaim, on_check);
	sn_timers_restart(n);
	sn__pingtrace_start(n);
	if ((r = sn__loopstat_start(n)) < 0)
		sn_log(&n->host, SN_LOG_WARN, "SUBNETRA_LOOP_STATS: cannot measure the loop: %s",
		       uv_strerror(r));
	return 0;
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
	    (r = sn_stack_load(n, err, err_len)) < 0 ||
	    (r = setup_pool(n, err, err_len)) < 0 ||
	    (r = open_state(n, err, err_len)) < 0 ||
	    (r = build_peers(n, err, err_len)) < 0 ||
	    (r = setup_policy(n, err, err_len)) < 0 ||
	    (r = open_tun(n, err, err_len)) < 0 ||
	    (r = open_underlay(n, err, err_len)) < 0 ||
	    (r = sn_routes_install(n)) < 0 ||
	    (r = start_handles(n, err, err_len)) < 0)
		return r;
	if ((r = sn_ctl_start(n, err, err_len)) < 0 || (r = sn_http_start(n, err, err_len)) < 0)
		return r;
	sn__sched_rt(n);
	if ((r = sn_stack_drop_privileges(n, err, err_len)) < 0)
		return r;
	n->running = true;
	return 0;
}

int sn_node_run(struct sn_node *n)
{
	sn__sched_slice(n);
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
	if (n->os.inst && n->routes.v)
		sn_routes_remove_all(n);
	if (n->peers.v)
		sn_endpoints_save(n);
	sn_ctl_stop(n);
	sn_http_stop(n);
	sn_resolve_stop(n);
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
	sn_stack_unload(n);
	sn_pool_destroy(&n->pool);
	sn_arena_free(&n->rt_arena);
	sn__pingtrace_stop(n);
	sn_state_close(&n->state);
}
