/* SPDX-License-Identifier: MIT */
/*
 * core/node.h: one running node: its config, plugins, packet pool, peers,
 * policy and event-loop handles. The data path (datapath.c) works on it
 * without libuv; the reactor (reactor.c) wires it to the loop; the control
 * socket (ctl_server.c) reads and changes it between packets.
 */
#ifndef SN_NODE_H
#define SN_NODE_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "epoch.h"
#include "host.h"
#include "loader.h"
#include "peer.h"
#include "policy.h"
#include "pool.h"
#include "seal.h"

#define SN_BATCH 64       /* packets per wake-up per file descriptor */
#define SN_POOL_PKTS 1024 /* preallocated packet buffers */

struct sn_ctl; /* control server (ctl_server.c) */

/* The session state of a peer identity (id + pair key) that left the
 * registry on a reload (removed or re-keyed). If the same identity comes
 * back before the node restarts, it continues where it stopped: the next
 * seq (a (key, nonce) pair is never used twice) and the replay window (old
 * datagrams stay replays). Kept until exit; a few hundred bytes each. */
struct sn_peer_saved {
	uint32_t id;
	uint8_t pair_key[32];
	uint64_t tx_seq;
	bool rx_has_epoch;
	uint32_t rx_epoch;
	uint64_t rx_max_seq;
	uint64_t epochs_accepted;
	struct sn_replay rx_window;
	struct sn_addr endpoint;
};

struct sn_node {
	struct sn_config *cfg;     /* active config (replaced on reload) */
	const char *config_path;   /* as given on the command line */
	const char *plugin_dir;    /* resolved plugin directory */
	struct sn_host host;
	struct sn_pool pool;
	struct sn_plugin os, crypto, egress;
	const struct sn_os_ops *os_ops;
	const struct sn_egress_ops *eg_ops;
	struct sn_crypto cr;
	struct sn_peers peers;
	struct sn_policy_slot policy;
	uint64_t policy_version;
	/* run-time rules injected through the control socket (control arena) */
	struct sn_policy_rule *rt_rules;
	uint32_t n_rt_rules;
	struct sn_arena rt_arena;

	struct sn_state state;     /* the state directory, locked while the node lives */
	uint32_t epoch;            /* our session epoch */
	bool is_hub;
	uint64_t start_ns;         /* uv_hrtime() at start */
	uint64_t start_unix;       /* wall clock at start */
	uint64_t reloads;          /* successful reloads */
	struct sn_peer_saved *saved; /* malloc'd; see struct sn_peer_saved */
	uint32_t n_saved, cap_saved;

	uint64_t tun_dropped_base; /* the TUN device's tx_dropped at start */

	/* routes this node added and must remove at exit (malloc'd, control path) */
	struct sn_prefix *routes;
	uint32_t n_routes, cap_routes;

	/* event loop (reactor.c) */
	uv_loop_t loop;
	uv_poll_t tun_poll, udp_poll;
	uv_signal_t sig_int, sig_term, sig_hup;
	uv_timer_t keepalive;
	uv_check_t reclaim;
	bool running;
	struct sn_ctl *ctl;

	/* staging for the data path: outputs collected during one batch */
	struct sn_pkt *tun_out[SN_BATCH];
	uint32_t n_tun_out;
	struct sn_pkt *udp_out[SN_BATCH];
	uint32_t n_udp_out;
};

/* datapath.c: process a batch of datagrams from the underlay / packets read
 * from the TUN device. Takes every packet: each is delivered, relayed or
 * dropped (counted) and returned to the pool. */
void sn_dp_underlay_rx(struct sn_node *n, struct sn_pkt *const *pkts, uint32_t cnt);
void sn_dp_tun_rx(struct sn_node *n, struct sn_pkt *const *pkts, uint32_t cnt);
/* Send a keepalive to peer p now. */
void sn_dp_keepalive(struct sn_node *n, struct sn_peer *p);
/* Flush staged outputs (called at the end of each batch). */
void sn_dp_flush(struct sn_node *n);

/* reactor.c */
int sn_node_setup(struct sn_node *n, char *err, size_t err_len);
int sn_node_run(struct sn_node *n);
void sn_node_stop(struct sn_node *n);
void sn_node_teardown(struct sn_node *n);
/* Fold what the kernel dropped on the node's behalf (TUN queue full) into
 * the counters; control path (status, metrics). */
void sn_node_kernel_counters(struct sn_node *n);
/* Reread the config file and apply it (SIGHUP, `subnetra reload`).
 * 0, or a negative errno with the reason in err and nothing changed. */
int sn_node_reload(struct sn_node *n, char *err, size_t err_len);
/* Replace the run-time policy rules with rules[0..cnt-1] (copied): build a
 * new tree, validate, swap atomically. 0 or -errno with reason, nothing changed. */
int sn_node_set_rules(struct sn_node *n, const struct sn_policy_rule *rules, uint32_t cnt,
		      char *err, size_t err_len);

/* internal, shared between reactor.c and reload.c */
int sn__node_load_plugins(struct sn_node *n, char *err, size_t err_len);
void sn__node_unload_plugins(struct sn_node *n);
void sn__node_route_add(struct sn_node *n, const struct sn_prefix *p);
void sn__node_route_del(struct sn_node *n, const struct sn_prefix *p);
/* The prefixes config c routes through the overlay (FORWARD, outside the
 * subnet); *n set; malloc'd array the caller frees. */
void sn__node_keepalive_restart(struct sn_node *n);
void sn__node_forget_saved(struct sn_node *n);
struct sn_prefix *sn__node_wanted_routes(const struct sn_config *c, uint32_t *n);

/* ctl_server.c: the control socket (optional during setup). */
int sn_ctl_start(struct sn_node *n, char *err, size_t err_len);
void sn_ctl_stop(struct sn_node *n);

#endif
