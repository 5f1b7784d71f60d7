/* SPDX-License-Identifier: MIT */
/*
 * plugins/egress_fec_xor/fec_xor.h: the layer's state, shared by its files:
 * fec_xor.c (options, lifetime, the descriptor, the egress operations),
 * tx.c (framing datagrams into groups, parities, the flush timer) and
 * rx.c (taking frames apart, rebuilding). frame.h is the format.
 */
#ifndef SN_FEC_XOR_H
#define SN_FEC_XOR_H

#include <stdbool.h>
#include <stdint.h>

#include "frame.h"
#include "subnetra/sdk.h"

#define NAME "fec_xor"
#define DEPTH_MAX 8u    /* interleave */
#define PEERS_MAX 4096u
#define CHUNK 64u       /* host datagrams framed per call to the lower */
#define OUT_MAX (CHUNK + CHUNK / FEC_K_MIN + DEPTH_MAX)

/* The layer's own counters, plugin counters of the host (counter_register
 * at create; status, JSON and metrics show them under fec_xor). */
enum fec_ctr {
	FEC_GROUPS,        /* groups closed on send (full or flushed) */
	FEC_FLUSHED,       /* of those, closed by the flush timer before they were full */
	FEC_PARITIES_SENT, /* parity frames the egress below took */
	FEC_RECOVERED,     /* datagrams rebuilt and handed up */
	FEC_UNRECOVERABLE, /* received groups that ended with two or more data frames missing */
	FEC_UNPROTECTED,   /* datagrams sent or received without a group (tables full, too long) */
	FEC_BAD_FRAMES,    /* frames that do not parse (dropped) */
	FEC_CTR_MAX
};

struct fec_opts {
	uint32_t k;        /* 2..32 */
	uint32_t depth;    /* interleave, 1..8 */
	uint32_t flush_ms; /* 1..1000 */
	uint32_t peers;    /* 1..4096: peers with groups (each direction) */
};

/* One peer's groups: sending (depth of them, filled in turn) or receiving
 * (rx_slots of them, by group id). */
struct fec_peer {
	uint64_t id;           /* send: peer_id; receive: the source address; 0 = free */
	struct sn_addr addr;   /* send: where its datagrams go */
	uint32_t next_group;   /* send: the next group id */
	uint32_t turn;         /* send: the group the next datagram joins */
	struct fec_acc *acc;   /* depth (send) or rx_slots (receive) entries */
};

struct fec_table {
	struct fec_peer *peer; /* opts.peers entries */
	uint32_t *index;       /* 2 * peers slots: peer number + 1, 0 = empty */
	uint32_t used;
};

struct fec {
	struct sn_host *host;
	const struct sn_host_api *api;
	struct fec_opts opt;
	struct sn_egress_lower low;
	bool attached;
	uint32_t rx_slots;     /* 2 * depth + 2 */
	struct fec_table tx, rx;
	void *mem;             /* every buffer, allocated at attach */
	uint64_t mem_len;
	struct sn_timer *timer;
	bool timer_armed;
	int ctr[FEC_CTR_MAX];  /* the host's index of each counter */
	struct sn_pkt *out[OUT_MAX];  /* a batch for the lower */
};

/* Count n under counter c (no allocation: an add in the host's table). */
static inline void sn__fec_count(struct fec *f, enum fec_ctr c, uint64_t n)
{
	f->api->counter_add(f->host, (uint32_t)f->ctr[c], n);
}

/* tx.c */
int sn__fec_send(struct fec *f, struct sn_pkt *const *pkts, uint32_t n);
/* The flush timer's work: close the groups open for flush_ms or longer
 * (all with force), arm the timer for the rest. */
void sn__fec_flush(struct fec *f, bool force);
void sn__fec_on_timer(void *arg);

/* rx.c: frames pkts[0..n) (taken apart in place); the datagrams to hand up
 * end up in pkts[0..k), k returned, the rest are consumed: still in
 * pkts[k..n), the caller's to return or release. Rebuilt datagrams go up
 * through host_api.deliver. */
uint32_t sn__fec_receive(struct fec *f, struct sn_pkt **pkts, uint32_t n);

/* fec_xor.c: the peer's entry in t, made when there is room; NULL when t
 * is full (and for id 0). */
struct fec_peer *sn__fec_peer(struct fec *f, struct fec_table *t, uint64_t id);

#endif
