/* SPDX-License-Identifier: MIT */
/*
 * plugins/egress_kcp_arq/kcp_arq.h: the layer's state, shared by its files:
 * kcp_arq.c (options, the peer table and its memory, the egress
 * operations, the descriptor), tx.c (sending, acknowledging, the timer:
 * retransmission and giving up) and rx.c (taking frames apart,
 * duplicates, acknowledgements received). frame.h is the format, window.h
 * the arithmetic.
 */
#ifndef SN_KCP_ARQ_H
#define SN_KCP_ARQ_H

#include <stdbool.h>
#include <stdint.h>

#include "frame.h"
#include "subnetra/sdk.h"
#include "window.h"

#define NAME "kcp_arq"
#define PEERS_MAX 4096u
#define ACKQ 256u        /* acknowledgements a peer may have waiting */
#define OUT_MAX 128u     /* frames per batch to the lower */
#define IDLE_NS 60000000000ull /* a peer entry unused this long may be taken for another */

/* The layer's own counters, plugin counters of the host (counter_register
 * at create; status, JSON and metrics show them under kcp_arq). */
enum kcp_ctr {
	KCP_SENT,             /* datagrams sent under ARQ (first time) */
	KCP_RETRANSMITS,      /* resent after their retransmission timeout */
	KCP_FAST_RETRANSMITS, /* resent after fast_resend acks of later datagrams */
	KCP_GIVEN_UP,         /* in flight past the deadline: no longer resent */
	KCP_ACKS_SENT,        /* acknowledgement blocks sent (ack frames and piggybacked) */
	KCP_PIGGYBACKED,      /* of those, carried by a datagram */
	KCP_ACKS_RECEIVED,    /* acknowledgement blocks received */
	KCP_DUPLICATES,       /* received datagrams seen before (dropped here) */
	KCP_WINDOW_FULL,      /* sent as plain frames: the send window was full */
	KCP_UNPROTECTED,      /* sent as plain frames: no table room, too long */
	KCP_RTT_SAMPLES,      /* round-trip samples taken */
	KCP_RTT_US_SUM,       /* their sum in microseconds (mean = sum / samples) */
	KCP_BAD_FRAMES,       /* frames that do not parse (dropped) */
	KCP_CTR_MAX
};

/* What reconfigure may change (durations in ns) and what it may not. */
struct kcp_opts {
	uint64_t window;      /* 16..4096 datagrams in flight per peer (restart) */
	uint64_t peers;       /* 1..4096 peers with windows (restart) */
	uint64_t ack_delay;   /* 1 ms..100 ms: the timer's period */
	uint64_t deadline;    /* 0 = auto (kcp_deadline), else 1 ms..10 s */
	uint64_t rto_min;     /* 1 ms..1 s */
	uint64_t rto_max;     /* 10 ms..10 s */
	uint64_t fast_resend; /* 0 (off)..16 */
};

/* One peer, by underlay address: what we send it and what it sends us. */
struct kcp_peer {
	struct sn_addr addr;  /* the key; SN_AF_NONE = free */
	struct sn_addr local; /* our address it talks to (sent to / sent from) */
	uint32_t peer_id;     /* the host's, from what we send it (0 until then) */
	uint32_t session;     /* ours towards it */
	uint32_t rx_session;  /* its, as last seen (0: none yet) */
	uint32_t n_ack;       /* acknowledgements waiting in ackq */
	uint64_t last_ns;     /* last activity */
	struct kcp_snd snd;
	struct kcp_rtt rtt;
	struct kcp_rcv rcv;
	uint32_t *ackq;       /* ACKQ entries */
};

struct kcp {
	struct sn_host *host;
	const struct sn_host_api *api;
	struct kcp_opts opt;
	struct sn_egress_lower low;
	bool attached;
	struct kcp_peer *peer; /* opt.peers entries */
	uint32_t *index;       /* 2 * peers slots: entry + 1, 0 = empty */
	uint32_t used;
	struct kcp_peer *last; /* the entry found last (batches go to one peer) */
	uint64_t seed;         /* sessions */
	void *mem;             /* every table, allocated at attach */
	uint64_t mem_len;
	struct sn_timer *timer;
	bool timer_armed;
	bool backlog;          /* the last read from the lower filled its batch */
	struct kcp_tick tick;  /* the timer's ticks (kcp_tick_hold) */
	int ctr[KCP_CTR_MAX];  /* the host's index of each counter */
	uint32_t n_out;
	struct sn_pkt *out[OUT_MAX]; /* a batch for the lower */
};

/* Count n under counter c (no allocation: an add in the host's table). */
static inline void sn__kcp_count(struct kcp *f, enum kcp_ctr c, uint64_t n)
{
	f->api->counter_add(f->host, (uint32_t)f->ctr[c], n);
}

/* kcp_arq.c: the entry of addr, made when make and there is room (an idle
 * one is taken over); NULL otherwise. */
struct kcp_peer *sn__kcp_peer(struct kcp *f, const struct sn_addr *addr, bool make, uint64_t now);

/* tx.c */
int sn__kcp_send(struct kcp *f, struct sn_pkt *const *pkts, uint32_t n);
/* Frame q (to p) into the batch for the lower, which goes down when full. */
void sn__kcp_out(struct kcp *f, struct sn_pkt *q);
/* Hand the batch to the lower; what it does not take is counted and released. */
void sn__kcp_push(struct kcp *f);
/* Resend sl (of p) now; fast: after acks of later datagrams. */
void sn__kcp_resend(struct kcp *f, struct kcp_peer *p, struct kcp_slot *sl, uint64_t now, bool fast);
/* Queue an acknowledgement of seq to p (ack frames go out when the queue fills). */
void sn__kcp_ack_queue(struct kcp *f, struct kcp_peer *p, uint32_t seq);
/* The waiting acknowledgements of p as ack frames into the batch. */
void sn__kcp_ack_flush(struct kcp *f, struct kcp_peer *p);
/* Start the timer when it is not running. */
void sn__kcp_arm(struct kcp *f);
void sn__kcp_on_timer(void *arg);

/* rx.c: frames pkts[0..n) (taken apart in place); the datagrams to hand up
 * end up in pkts[0..k), k returned, the rest are consumed: still in
 * pkts[k..n), the caller's. Acknowledgements and retransmissions they
 * cause go down before it returns. */
uint32_t sn__kcp_receive(struct kcp *f, struct sn_pkt **pkts, uint32_t n);

#endif
