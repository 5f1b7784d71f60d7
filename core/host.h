/* SPDX-License-Identifier: MIT */
/*
 * core/host.h: the daemon's side of the plugin host API (struct
 * sn_host_api in the SDK): logging, clock, packet pool, counters, timers,
 * and the receive hook egress plugins deliver into.
 */
#ifndef SN_HOST_H
#define SN_HOST_H

#include <stdint.h>

#include "pool.h"
#include "subnetra/host.h"
#include "subnetra/counters.h"

struct uv_loop_s;

/* Resolves a peer id to its counter array (SN_CTR_MAX entries), or NULL. */
typedef uint64_t *(*sn_peer_counters_fn)(void *ctx, uint32_t peer_id);
/* The receive path egress plugins hand datagrams to (takes all n). */
typedef int (*sn_deliver_fn)(void *ctx, struct sn_pkt *const *pkts, uint32_t n);

/* What a plugin declares about itself during create() through the host API
 * (room_set, counter_register); the loader points sn_host.creating at the
 * declaration of the plugin it creates, and clears it after. */
struct sn_host_decl {
	const char *name;       /* the plugin's name (its descriptor's) */
	uint32_t headroom;      /* the descriptor's, or what room_set said */
	uint32_t tailroom;
	uint32_t overhead;
	uint32_t n_counters;    /* counters it registered */
};

/* One plugin-defined counter (counter_register). */
#define SN_HOST_PCTR_MAX 64 /* in the whole node */
struct sn_host_pctr {
	const struct sn_host_decl *owner; /* NULL: its plugin is gone, the slot unused */
	char name[SN_COUNTER_NAME_MAX + 1];
	char help[SN_COUNTER_HELP_MAX + 1];
};

/*
 * The handle plugins get. The node has one; every egress below the top of a
 * stack (core/egstack.h) gets a handle of its own whose deliver goes to the
 * layer above instead of the receive path. Such a handle has node set to
 * the node's handle, which holds everything else (loop, pool, counters, log
 * settings); the node's own handle has node == itself.
 */
struct sn_host {
	struct sn_host *node;          /* the node's handle (itself for the node's) */
	struct uv_loop_s *loop;        /* NULL: timers are unavailable (tests, --check) */
	struct sn_pool *pool;          /* NULL: pkt_alloc returns NULL */
	uint64_t counters[SN_CTR_MAX]; /* node-wide counters */
	sn_peer_counters_fn peer_counters;
	sn_deliver_fn deliver;         /* NULL: deliver returns -ENOTSUP */
	void *ctx;                     /* passed to peer_counters */
	void *deliver_ctx;             /* passed to deliver */
	const char *log_name;          /* prefix of log lines, e.g. "subnetrad" */
	int log_level;                 /* enum sn_log_level: messages above it are dropped */
	struct sn_host_decl *creating; /* the plugin in create(), else NULL */
	struct sn_host_pctr pctr[SN_HOST_PCTR_MAX]; /* plugin counters, [0, n_pctr) used */
	uint64_t pctr_val[SN_HOST_PCTR_MAX];
	uint32_t n_pctr;
};

void sn_host_init(struct sn_host *h, struct uv_loop_s *loop, struct sn_pool *pool);

/* A handle for a plugin below the top of the egress stack: everything from
 * node, deliver to fn(ctx, ...). */
void sn_host_init_layer(struct sn_host *h, struct sn_host *node, sn_deliver_fn fn, void *ctx);

/* The table handed to plugins. */
const struct sn_host_api *sn_host_api_table(void);

/* Count for the node and, when peer_id != 0 and known, the peer. */
void sn_host_count(struct sn_host *h, uint32_t id, uint32_t peer_id, uint64_t n);

/* Log through the host (same rate limit as plugins; core/log.h says how
 * lines look). */
void sn_log(struct sn_host *h, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Forget the counters the plugin of d registered (it is destroyed): they
 * leave status and metrics; their slots are not reused. */
void sn_host_drop_counters(struct sn_host *h, const struct sn_host_decl *d);

/* The name of a counter as status shows it ("auth_fail", "rx_packets", ...;
 * docs/control.md, "Drop reasons"). */
const char *sn_counter_name(uint32_t id);

#endif
