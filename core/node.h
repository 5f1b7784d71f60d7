/* SPDX-License-Identifier: MIT */
/*
 * core/node.h: one running node: its config, plugins, packet pool, peers,
 * policy and event-loop handles. The data path (datapath.c) works on it
 * without libuv; the reactor (reactor.c) wires it to the loop and sets it
 * up and down, with the plugin stack (stack.c), the kernel routes
 * (routes.c) and the timers (timers.c) in rooms of their own; the control
 * socket (ctl_server.c) reads and changes it between packets.
 */
#ifndef SN_NODE_H
#define SN_NODE_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "aqm.h"
#include "config.h"
#include "droplog.h"
#include "epoch.h"
#include "host.h"
#include "loader.h"
#include "mtu.h"
#include "nodelog.h"
#include "notify.h"
#include "peer.h"
#include "policy.h"
#include "pool.h"
#include "resolve.h"
#include "routes.h"
#include "seal.h"
#include "egstack.h"
#include "sojourn.h"
#include "verify.h"

/* SN_BATCH (subnetra/packet.h): packets per wake-up per file descriptor */
#define SN_POOL_PKTS 1024 /* preallocated packet buffers */
#define SN_STAGE 128      /* packets staged per output between flushes */
#define SN_TUN_BIG 2      /* big packets lent per TUN read with offloads on */
#define SN_POOL_BIG 4     /* big packets in the pool with offloads on */
/* the underlay socket buffers the host asks the egress for in open():
 * room for bursts at Gbit/s rates (raw_direct's own default is the same) */
#define SN_UNDERLAY_BUF (4u << 20)

struct sn_ctl; /* control server (ctl_server.c) */
struct sn_http; /* metrics over HTTP (http.c) */
struct sn_reload; /* a reload in progress (reload.c) */

/* The session of a peer identity (id + pair key) that left the registry on
 * a reload (removed or re-keyed). If the same identity comes back before
 * the node restarts, it continues where it stopped: the next seq (a (key,
 * nonce) pair is never used twice), the replay window (old datagrams stay
 * replays), its verification and its counters. Kept until exit. The pair
 * key itself is not kept: a fingerprint of it identifies the identity. */
struct sn_peer_saved {
	uint32_t id;
	uint8_t fingerprint[32]; /* BLAKE2b-256 of the pair key */
	struct sn_session s;
	uint64_t counters[SN_CTR_MAX];
};

/*
 * What a reload changes about the peers (core/carry.c), worked out on the
 * reload's worker thread and applied in the commit on the loop, where it
 * costs O(changed peers): unchanged peers are shared between the old and
 * the new registry (sn_peers_build) and need nothing at all.
 */
struct sn_carry {
	struct sn_arena arena;   /* the arrays below */
	struct sn_carry_move {   /* a session from a peer object to a saved one or back */
		struct sn_peer *p;
		struct sn_peer_saved *sv;
	} *gone, *restore;       /* gone: old peers that leave (sv: their new saved
				  * entry); restore: fresh peers that continue sv */
	uint32_t n_gone, n_restore;
	struct sn_carry_patch {  /* a shared peer whose config entry changed */
		struct sn_peer *p;
		char name[SN_PEER_NAME_MAX + 1];
		bool static_endpoint;
		bool set_endpoint;   /* the configured endpoint changed: take it */
		struct sn_addr endpoint;
	} *patch;
	uint32_t n_patch;
	struct sn_peer_saved **saved; /* the node's saved list after the commit (malloc'd) */
	uint32_t n_saved;
	bool applied;            /* the commit took it: what it replaced is to free */
	struct sn_peer_saved **old_saved; /* after the commit: the list it replaced */
};

/* The loop's longest iterations (core/loopstat.c), with SUBNETRA_LOOP_STATS=1. */
struct sn_loopstat {
	bool on;
	uv_prepare_t prep;
	uint64_t last_ns, last_idle, last_cpu; /* at the last prepare */
	uint64_t busy_max_ns;         /* the longest iteration outside the poll, since start */
	uint64_t reload_busy_max_ns;  /* the same during the last reload */
	uint64_t cpu_max_ns, reload_cpu_max_ns; /* the same in the thread's own CPU time */
	uint64_t iterations;
	uint32_t after;               /* iterations after a commit still counted */
};

struct sn_node {
	struct sn_config *cfg;     /* active config (replaced on reload) */
	const char *config_path;   /* as given on the command line */
	const char *plugin_dir;    /* resolved plugin directory */
	struct sn_host host;
	struct sn_pool pool;
	struct sn_plugin os, crypto, egress; /* egress: the top of the stack */
	struct sn_egstack eg_stack;  /* the egresses below it (egstack.h) */
	struct sn_mtu mtu;         /* the overlay MTU over that stack (mtu.h) */
	const struct sn_os_ops *os_ops;
	const struct sn_egress_ops *eg_ops;
	struct sn_crypto cr;
	struct sn_slab peer_slab;  /* every peer object (core/slab.h) */
	struct sn_peers peers;
	struct sn_policy_slot policy;
	uint64_t policy_version;
	/* run-time rules injected through the control socket (control arena) */
	struct sn_policy_rule *rt_rules;
	uint32_t n_rt_rules;
	struct sn_arena rt_arena;

	struct sn_state state;     /* the state directory, locked while the node lives */
	uint32_t epoch;            /* our session epoch */
	struct sn_epoch_move emove; /* a new epoch asked for (verify.c) */
	/* start persisting emove.target off the loop (reactor.c; NULL in tests:
	 * the request is only recorded) */
	void (*persist_epoch)(struct sn_node *n);
	struct sn_verify_rl verify_rl; /* challenges and responses sent lately */
	bool is_hub;
	uint64_t start_ns;         /* uv_hrtime() at start */
	uint64_t start_unix;       /* wall clock at start */
	uint64_t reloads;          /* successful reloads */
	uint64_t commit_ns;        /* how long the last reload's commit took on the loop */
	struct sn_loopstat lstat;
	struct sn_reload *reload;  /* the reload running, NULL when none (reload.c) */
	bool reload_again;         /* a SIGHUP came during it */
	bool stopping;             /* shutting down: nothing more is committed */
	struct sn_peer_saved **saved; /* malloc'd, each entry too; see struct sn_peer_saved */
	uint32_t n_saved;

	uint64_t tun_dropped_base; /* the TUN device's tx_dropped at start */

	struct sn_droplog drops;   /* who sends what we drop (droplog.h) */
	struct sn_nodelog log;     /* what was logged about each peer (nodelog.h) */

	struct sn_routes routes;   /* the routes this node added (routes.h) */
	struct sn_resolver resolver; /* endpoint names looked up again (resolve.h) */

	struct sn_aqm aqm;         /* CoDel on what the underlay delivers (aqm.h) */
	struct sn_sojourn sojourn; /* how long it waited (sojourn.h) */
	struct sn_pingtrace *ptrace; /* SUBNETRA_PING_TRACE's notes, NULL: off (pingtrace.c) */

	/* offloads (docs/plugin-sdk.md, "Offloads"), set at start */
	uint32_t tun_offload;      /* SN_TUN_OFFLOAD_* of the TUN device (0: none) */
	bool eg_gso;               /* the egress takes runs (SN_EGRESS_F_GSO) */

	/* event loop (reactor.c) */
	uv_loop_t loop;
	uv_poll_t tun_poll, udp_poll;
	uv_idle_t udp_again;       /* the last underlay read filled every packet: read again */
	uv_signal_t sig_int, sig_term, sig_hup;
	uv_timer_t keepalive, verify, logtick, resolve;
	uint32_t verify_cursor;    /* the next peer the verification round visits */
	bool verify_pending;       /* the round so far found something to do */
	bool verify_first;         /* the first round after a start or reload: fast */
	uv_work_t emove_work;
	uv_check_t reclaim;
	bool running;
	struct sn_ctl *ctl;
	struct sn_notify notify;   /* the service manager (notify.c; zeroed: none) */
	struct sn_http *http;      /* metrics over HTTP (http.c); NULL when off */

	/* staging for the data path: outputs collected during one batch */
	struct sn_pkt *tun_out[SN_STAGE];
	uint32_t n_tun_out;
	struct sn_pkt *tun_plan[SN_STAGE]; /* tun_out in write order, with runs (gro.h) */
	struct sn_pkt *udp_out[SN_STAGE];
	uint32_t n_udp_out;
	/* host_api.deliver during a call into the egress (datapath.c): the
	 * datagrams wait here until the call returns */
	uint32_t eg_depth;         /* calls into the egress running */
	struct sn_pkt *rx_later[SN_BATCH];
	uint32_t n_rx_later;
};

/* datapath.c: process a batch of datagrams from the underlay / packets read
 * from the TUN device. Takes every packet: each is delivered, relayed or
 * dropped (counted) and returned to the pool. */
void sn_dp_underlay_rx(struct sn_node *n, struct sn_pkt *const *pkts, uint32_t cnt);
void sn_dp_tun_rx(struct sn_node *n, struct sn_pkt *const *pkts, uint32_t cnt);
/* host_api.deliver of the node's handle (ctx = the node): the datagrams go
 * the receive path's way, now, or after the call into the egress that is
 * running returns (at most SN_BATCH wait; -ENOBUFS beyond). Takes all cnt,
 * returns cnt. */
int sn_dp_deliver(void *ctx, struct sn_pkt *const *pkts, uint32_t cnt);
/* Process what deliver kept back during a call into the egress. */
void sn_dp_rx_later(struct sn_node *n);
/* Send a keepalive to peer p now (a verified peer with an endpoint). */
void sn_dp_keepalive(struct sn_node *n, struct sn_peer *p);
/* Flush staged outputs (called at the end of each batch). */
void sn_dp_flush(struct sn_node *n);

/* datapath.c, shared with verify.c */
/* Count for the node and, when peer is not NULL, the peer. */
void sn__dp_count(struct sn_node *n, struct sn_peer *peer, uint32_t id, uint64_t v);
/* Count a drop and release the packet. */
void sn__dp_drop(struct sn_node *n, struct sn_pkt *p, uint32_t reason, struct sn_peer *peer);
void sn__dp_stage_udp(struct sn_node *n, struct sn_pkt *p);
void sn__dp_stage_keepalive(struct sn_node *n, struct sn_peer *peer);
/* The local address p came to as n keeps it for answers: p->local on a
 * hub, family NONE on a spoke (subnetra/packet.h, "Local addresses"). */
const struct sn_addr *sn__dp_local(const struct sn_node *n, const struct sn_pkt *p);
/* The key for datagrams of peer in epoch: the accepted epoch's, else a
 * candidate derived once per epoch, a new candidate at most once per
 * SN_CAND_GAP_NS; NULL with *reason (auth_fail: it cannot be derived;
 * epoch_limit: the peer's last new candidate is too recent), else
 * *reason is auth_fail for a tag that then fails. */
void *sn__dp_epoch_key(struct sn_node *n, struct sn_peer *peer, uint32_t epoch, uint64_t now,
		       uint32_t *reason);
/* An authentic datagram of epoch opened with key: epoch becomes the
 * accepted one (a candidate key becomes the rx key). The window is the
 * caller's. */
void sn__dp_take_epoch(struct sn_peer *peer, uint32_t epoch, void *key);

/* reactor.c */
int sn_node_setup(struct sn_node *n, char *err, size_t err_len);
int sn_node_run(struct sn_node *n);
void sn_node_stop(struct sn_node *n);
void sn_node_teardown(struct sn_node *n);
/* Fold what the kernel dropped on the node's behalf (TUN queue full) into
 * the counters; control path (status, metrics). */
void sn_node_kernel_counters(struct sn_node *n);
/* reload.c: reread the config file and apply it (`subnetra reload`).
 * The file reads, lookups and key derivation run off the loop; cb(n, 0 or
 * -errno, err, arg) is called on the loop once it is applied or refused
 * (refused: nothing changed). Returns 0 when started (cb is then called
 * exactly once; before this returns on a node without a loop), -EBUSY
 * when a reload is running already, -ENOMEM. */
typedef void (*sn_reload_cb)(struct sn_node *n, int rc, const char *err, void *arg);
int sn_node_reload_start(struct sn_node *n, sn_reload_cb cb, void *arg);
/* SIGHUP: a reload whose outcome is logged; one that arrives during a
 * reload runs once that one is done. */
void sn_node_reload_signal(struct sn_node *n);
/* The caller behind arg went away: do not call it back. */
void sn_node_reload_forget_cb(struct sn_node *n, void *arg);
/* Replace the run-time policy rules with rules[0..cnt-1] (copied): build a
 * new tree, validate, swap atomically. 0 or -errno with reason, nothing changed. */
int sn_node_set_rules(struct sn_node *n, const struct sn_policy_rule *rules, uint32_t cnt,
		      char *err, size_t err_len);

/* plugin_opts.c: put "FILE:LINE:COL: key: " (the config location at) in
 * front of err, unless at is unknown (line 0, a default); and refuse
 * options under a name that none of the n loaded plugins pl declares (with
 * a "did you mean"). */
void sn__plugin_err_at(const struct sn_config *c, const struct sn_conf_loc *at, const char *key,
		       char *err, size_t err_len);
int sn__plugin_options_check(const struct sn_config *c, const struct sn_plugin *const *pl,
			     uint32_t n, char *err, size_t err_len);
/* carry.c: sessions across a reload (struct sn_carry). plan runs off the
 * loop: it reads of n only what a commit alone changes (the registry, the
 * saved list) and the crypto operations; np was built from n->peers for
 * config nc, oc is the running config. apply runs in the commit, before
 * n->peers becomes np, and cannot fail; epoch is the node's epoch np's
 * fresh tx keys were derived for. release frees what is left (after the
 * commit, or instead of it), off the loop. */
int sn__carry_plan(const struct sn_node *n, const struct sn_config *oc, const struct sn_config *nc,
		   const struct sn_peers *np, struct sn_carry *plan, char *err, size_t err_len);
void sn__carry_apply(struct sn_node *n, struct sn_carry *plan, struct sn_peers *np,
		     uint32_t epoch);
void sn__carry_release(struct sn_carry *plan);
void sn__node_forget_saved(struct sn_node *n);

/* pingtrace.c: when each ICMP echo passed (SUBNETRA_PING_TRACE=PATH):
 * start reads the environment, note one inner IPv4 packet (arrival: the
 * kernel's time_ns, 0 for a TUN read), stop writes PATH and frees. */
struct sn_pingtrace;
void sn__pingtrace_start(struct sn_node *n);
void sn__pingtrace_note(struct sn_node *n, const uint8_t *ip, uint32_t len, uint64_t arrival,
			bool udp);
void sn__pingtrace_stop(struct sn_node *n);

/* sched.c: ask for node.slice_us as the calling (packet) thread's slice. */
void sn__sched_slice(struct sn_node *n);
/* sched.c: node.rt_priority's SCHED_FIFO for the calling (packet) thread,
 * before privileges are dropped. */
void sn__sched_rt(struct sn_node *n);

/* loopstat.c: the loop's longest iterations (SUBNETRA_LOOP_STATS=1). */
int sn__loopstat_start(struct sn_node *n);
void sn__loopstat_reload_started(struct sn_node *n);

/* endpoints.c: remember the peers' last endpoints across a restart (the
 * state directory's endpoints file): load after the registry is built,
 * save at exit. */
void sn_endpoints_load(struct sn_node *n);
void sn_endpoints_save(struct sn_node *n);

/* ctl_server.c: the control socket (optional during setup). */
int sn_ctl_start(struct sn_node *n, char *err, size_t err_len);
void sn_ctl_stop(struct sn_node *n);

#endif
