/* SPDX-License-Identifier: MIT */
/*
 * core/resolve.h: configured endpoints given by name (a spoke's
 * hub.endpoint, a hub's peers[].endpoint), resolved again while the node
 * runs: every SN_RESOLVE_EVERY_NS, and when the peer has been silent for
 * SN_RESOLVE_SILENT keepalive intervals, off the loop (uv_getaddrinfo on
 * libuv's worker threads). Every A record is kept, in the resolver's
 * order, and tried in turn: a silent address gives way to the next. The
 * timer is the reactor's; timers.c fires it once a second.
 * docs/configuration.md, hub.endpoint, describes the behaviour.
 */
#ifndef SN_RESOLVE_H
#define SN_RESOLVE_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "subnetra/packet.h"

#define SN_RESOLVE_ADDRS 8                            /* A records kept per name */
#define SN_RESOLVE_EVERY_NS (300ull * 1000000000ull)  /* resolved again every 5 minutes */
#define SN_RESOLVE_SILENT 3                           /* keepalive intervals without a word */

struct sn_node;

/* A name's addresses and the one in use. */
struct sn_addrlist {
	struct sn_addr v[SN_RESOLVE_ADDRS];
	uint32_t n;   /* 0: none */
	uint32_t cur; /* v[cur] is in use (when n > 0) */
};

/* The list of one address (none when a is family NONE). */
void sn_addrlist_init(struct sn_addrlist *l, const struct sn_addr *a);
/* A new answer a[0..k-1] (IPv4; repeats dropped, at most SN_RESOLVE_ADDRS
 * kept): the address in use stays in use when the answer has it, else the
 * answer's first is. k == 0 changes nothing. Returns whether the address
 * in use changed. */
bool sn_addrlist_set(struct sn_addrlist *l, const struct sn_addr *a, uint32_t k);
/* The next address after the one in use (after the last: the first).
 * Returns whether that is another address (n > 1). */
bool sn_addrlist_next(struct sn_addrlist *l);
/* The address in use, or NULL when there is none. */
const struct sn_addr *sn_addrlist_cur(const struct sn_addrlist *l);

/* What a name needs at now (times in ns; silent_ns 0: no silence rule). */
enum sn_resolve_step {
	SN_RESOLVE_WAIT = 0, /* nothing */
	SN_RESOLVE_AGAIN,    /* resolve again: next_ns has come */
	SN_RESOLVE_NEXT,     /* nothing heard for silent_ns since max(since_ns,
			      * last_rx_ns): the next address, and resolve again */
};
enum sn_resolve_step sn_resolve_due(uint64_t now, uint64_t next_ns, uint64_t since_ns,
				    uint64_t last_rx_ns, uint64_t silent_ns);

/* One peer's endpoint name. Its own allocation, so that a lookup in
 * flight outlives a reload that drops it (gone: freed in the callback). */
struct sn_resolve_name {
	struct sn_node *n;
	uint32_t peer_id;
	char host[256];
	uint16_t port;
	struct sn_addr configured; /* what the config's load resolved it to */
	struct sn_addrlist addrs;
	uint64_t next_ns;          /* the next periodic lookup */
	uint64_t since_ns;         /* when the address in use was taken */
	bool busy;                 /* a lookup runs */
	bool gone;                 /* no longer configured: freed when the lookup ends */
	bool failing;              /* the last lookup failed (logged once) */
	uv_getaddrinfo_t req;
};

struct sn_resolver {
	struct sn_resolve_name **v; /* malloc'd */
	uint32_t n;
};

/* The names of n->cfg's endpoints, at setup and after a reload: a name
 * that stays keeps its addresses; a new one is looked up at once. */
void sn_resolve_sync(struct sn_node *n, uint64_t now);
/* Once a second: lookups due, silent addresses moved on. */
void sn_resolve_tick(struct sn_node *n, uint64_t now);
/* Teardown: cancel the lookups, free what can be freed now (the rest is
 * freed as their callbacks run while the loop runs dry). */
void sn_resolve_stop(struct sn_node *n);

#endif
