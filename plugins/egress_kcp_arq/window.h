/* SPDX-License-Identifier: MIT */
/*
 * plugins/egress_kcp_arq/window.h: the ARQ's arithmetic, free of the host
 * (the plugin, the unit test and the fuzz target use it alike): a send
 * window of kept datagrams, a receive window that suppresses duplicates,
 * and the retransmission timer of RFC 6298. Times are nanoseconds of one
 * monotonic clock; sequence numbers wrap (serial arithmetic, RFC 1982).
 */
#ifndef SN_KCP_WINDOW_H
#define SN_KCP_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

#define KCP_WINDOW_MAX 4096u /* send window, datagrams */
#define KCP_RWIN 4096u       /* receive window, sequence numbers (>= any send window) */

/* One datagram in flight, its bytes kept at kcp_snd_buf(). */
struct kcp_slot {
	uint32_t seq;
	uint32_t len;      /* bytes of the sealed datagram */
	uint64_t first_ns; /* first sent */
	uint64_t last_ns;  /* last (re)sent */
	uint64_t xno;      /* the window's transmission number of the last sending */
	uint16_t xmit;     /* times sent */
	uint16_t skip;     /* acks for datagrams sent after it, since it was last sent */
	uint8_t used;
	uint8_t reserved[3];
};

/* Datagrams una .. nxt - 1 may be in flight (slot seq % w). */
struct kcp_snd {
	uint32_t una;      /* the oldest in flight (= nxt when none) */
	uint32_t nxt;      /* the next to send */
	uint32_t w;        /* slots */
	uint32_t inflight; /* used slots */
	uint32_t stride;   /* bytes kept per slot: the longest datagram */
	uint64_t xno;      /* transmissions so far */
	struct kcp_slot *slot;
	uint8_t *buf;      /* w * stride bytes */
};

/* Empty, starting at seq first. */
void kcp_snd_reset(struct kcp_snd *s, uint32_t first);
/* Keep d[0..len) as the next datagram, sent now: its slot, or NULL when the
 * window is full or len is past stride. */
struct kcp_slot *kcp_snd_push(struct kcp_snd *s, const uint8_t *d, uint32_t len, uint64_t now);
/* The slot of seq when it is in flight, else NULL. */
struct kcp_slot *kcp_snd_find(struct kcp_snd *s, uint32_t seq);
/* The kept bytes of a slot. */
uint8_t *kcp_snd_buf(const struct kcp_snd *s, const struct kcp_slot *sl);
/* Mark it sent again now. */
void kcp_snd_resent(struct kcp_snd *s, struct kcp_slot *sl, uint64_t now);
/* Done with it (acknowledged or given up); una moves up past free slots. */
void kcp_snd_free(struct kcp_snd *s, struct kcp_slot *sl);

/* Which sequence numbers arrived: the highest and a bitmap of the KCP_RWIN
 * below it. */
struct kcp_rcv {
	uint32_t top;  /* the highest seen */
	uint32_t any;  /* 0 until the first */
	uint64_t bits[KCP_RWIN / 64];
};

#define KCP_RCV_NEW 1
#define KCP_RCV_DUP 0
#define KCP_RCV_OLD (-1) /* older than the window: not known, treated as seen */

void kcp_rcv_reset(struct kcp_rcv *r);
/* Record seq: KCP_RCV_NEW the first time, KCP_RCV_DUP again, KCP_RCV_OLD
 * when it is KCP_RWIN or more below the highest. */
int kcp_rcv_mark(struct kcp_rcv *r, uint32_t seq);

/* RFC 6298: srtt, rttvar and rto from samples; g is the clock granularity
 * (the layer's timer period), rto kept within min..max. */
struct kcp_rtt {
	uint64_t srtt, rttvar, rto;
	uint64_t samples;
};

void kcp_rtt_init(struct kcp_rtt *r, uint64_t initial_rto);
void kcp_rtt_sample(struct kcp_rtt *r, uint64_t sample, uint64_t g, uint64_t min, uint64_t max);
/* The timeout of a datagram sent xmit times: rto doubled per resending,
 * at most max. */
uint64_t kcp_rto_backoff(uint64_t rto, uint32_t xmit, uint64_t max);
/* The retransmit deadline: the option when set, else 3 * srtt or 4 * rto
 * (the first sending and two resendings), the larger, within 50 ms .. 1 s
 * (4 * the initial rto before the first sample). */
uint64_t kcp_deadline(const struct kcp_rtt *r, uint64_t opt);

/* Whether the timer's tick may resend and give up (kcp_tick_hold). */
struct kcp_tick {
	uint64_t last_ns; /* the tick before, or when the timer started */
	uint32_t held;    /* ticks held in a row */
};

#define KCP_HOLD_MAX 4u /* ticks held in a row at most */

/* Start counting from now (the timer starts). */
void kcp_tick_start(struct kcp_tick *t, uint64_t now);
/* A tick at now, of a timer of this period: true when it must resend and
 * give up nothing, because acknowledgements may be waiting unread: it runs
 * late (more than 2 periods after the tick before: the loop was held up,
 * and runs its timers before it reads what arrived meanwhile), or backlog
 * (the last read from the egress below filled its whole batch: more is
 * waiting). At most KCP_HOLD_MAX ticks in a row are held. */
bool kcp_tick_hold(struct kcp_tick *t, uint64_t now, uint64_t period, bool backlog);

#define KCP_RTO_INITIAL 100000000ull   /* before a sample: 100 ms */
#define KCP_DEADLINE_MIN 50000000ull   /* auto deadline bounds */
#define KCP_DEADLINE_MAX 1000000000ull

#endif
