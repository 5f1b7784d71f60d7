/* SPDX-License-Identifier: MIT */
/*
 * sn-delayrelay: a userspace UDP relay that delays datagrams, for benchmarks
 * and tests of an impaired underlay (the test machines have no netem).
 *
 *   ring.c   the delay queue: a preallocated FIFO of datagrams, each with
 *            the time it is due to leave
 *   relay.c  the relay: clients on a listening socket, one connected
 *            socket per client towards the target, epoll + timerfd,
 *            recvmmsg/sendmmsg batches, one thread
 *   gen.c    a paced or unpaced datagram source (blast) and a sink, both
 *            checking every byte, measuring one-way delay and round trips
 *   main.c   options, statistics as JSON
 *
 * Datagrams are received straight into ring slots and sent from them: no
 * allocation and no copy per datagram (a reordered pair is swapped in place).
 */
#ifndef SN_DELAYRELAY_H
#define SN_DELAYRELAY_H

#include <netinet/in.h>
#include <stdint.h>

#define DR_SLOT 2048      /* the largest datagram carried; longer ones count too_big */
#define DR_BATCH 64       /* datagrams per recvmmsg / sendmmsg */
#define DR_MAX_CLIENTS 64 /* distinct client addresses a relay maps */

/* ---- ring.c ---------------------------------------------------------------- */

struct dr_ring {
	uint32_t cap;           /* slots */
	uint32_t head;          /* the oldest datagram */
	uint32_t count;         /* datagrams queued */
	uint64_t last_due;      /* due time of the newest: due times never go back */
	unsigned char *data;    /* cap * DR_SLOT bytes */
	uint16_t *len;          /* bytes in each slot */
	uint16_t *client;       /* the client a datagram came from (up) or goes to (down) */
	uint64_t *due;          /* CLOCK_MONOTONIC ns at which it may leave */
};

int dr_ring_init(struct dr_ring *r, uint32_t cap);
void dr_ring_free(struct dr_ring *r);
/* index of the k-th free slot after the newest datagram (k < cap - count) */
uint32_t dr_ring_free_at(const struct dr_ring *r, uint32_t k);
/* index of the k-th queued datagram from the oldest (k < count) */
uint32_t dr_ring_at(const struct dr_ring *r, uint32_t k);
/* queue the first free slot, filled by the caller, due at max(due, last_due) */
void dr_ring_push(struct dr_ring *r, uint64_t due);
/* swap the contents of the two newest datagrams (both keep the later due time);
 * -ENOENT: the older one has left already */
int dr_ring_swap_last(struct dr_ring *r);
/* how many of the oldest datagrams are due at now, at most max */
uint32_t dr_ring_due(const struct dr_ring *r, uint64_t now, uint32_t max);
void dr_ring_pop(struct dr_ring *r, uint32_t n);
/* due time of the oldest datagram, UINT64_MAX when empty */
uint64_t dr_ring_next(const struct dr_ring *r);

/* ---- relay.c --------------------------------------------------------------- */

enum dr_dir { DR_UP, DR_DOWN, DR_DIRS }; /* up: clients -> target; down: target -> clients */

enum dr_ctr {
	DR_IN,         /* datagrams read */
	DR_OUT,        /* datagrams sent on */
	DR_RING_FULL,  /* dropped: the delay ring was full */
	DR_TOO_BIG,    /* dropped: longer than DR_SLOT */
	DR_SEND_ERROR, /* dropped: sendmmsg failed with an error other than EAGAIN/ENOBUFS */
	DR_NO_CLIENT,  /* dropped (up): the client table was full */
	DR_SWAPPED,    /* datagrams sent after the one that followed them (--reorder) */
	DR_CTR_MAX
};

struct dr_opts {
	struct sockaddr_in listen;  /* where clients send */
	struct sockaddr_in to;      /* the target */
	struct sockaddr_in bind;    /* local address of the per-client sockets; a port P:
				     * client i's is P + i (0: the kernel's choice) */
	uint64_t delay_ns;          /* added in each direction */
	uint64_t jitter_ns;         /* plus uniform [0, jitter], order kept */
	uint64_t slack_ns;          /* a batch leaves when its oldest is this late */
	uint32_t reorder;           /* every N-th datagram swapped with the next (if it is
				     * still queued when the next comes); 0: off */
	uint32_t ring;              /* slots per direction */
	uint32_t max_clients;
	double secs;                /* stop after this long; 0: until SIGTERM/SIGINT */
	const char *ready;          /* created once the sockets are bound */
	const char *stats;          /* JSON written on exit; NULL: stdout */
};

struct dr_client {
	struct sockaddr_in addr;    /* as seen on the listening socket */
	int fd;                     /* connected to the target */
};

struct dr_relay {
	struct dr_opts opt;
	int lfd, efd, tfd;
	uint64_t armed;             /* the timerfd's expiry, 0: disarmed */
	uint32_t nclients;
	struct dr_client client[DR_MAX_CLIENTS];
	struct dr_ring ring[DR_DIRS];
	uint64_t ctr[DR_DIRS][DR_CTR_MAX];
	uint64_t late_max[DR_DIRS];  /* ns a datagram left after its due time, worst */
	uint64_t late_sum[DR_DIRS];
	uint64_t rng;
	uint32_t since_swap[DR_DIRS];
	int retry;                  /* a send hit EAGAIN: try again shortly */
};

int dr_relay_open(struct dr_relay *rl, const struct dr_opts *opt);
int dr_relay_run(struct dr_relay *rl, volatile int *stop);
void dr_relay_close(struct dr_relay *rl);
const char *dr_ctr_name(enum dr_ctr c);

/* ---- gen.c ----------------------------------------------------------------- */

struct dr_gen_opts {
	struct sockaddr_in addr;    /* blast: where to send; sink: where to listen */
	uint32_t size;              /* blast: bytes per datagram (>= DR_HDR) */
	uint64_t rate;              /* blast: datagrams per second; 0: as fast as it can */
	uint64_t count;             /* blast: stop after this many; 0: after secs */
	double secs;                /* blast: sending time; sink: listening time */
	uint32_t stream;            /* blast: stream id carried in each datagram */
	int echo;                   /* sink: send each datagram back; blast: expect it */
	double wait;                /* blast --echo: seconds to wait for the last echoes */
	double idle;                /* sink: stop this long after the last datagram (0: off) */
	const char *ready;
	const char *out;            /* JSON result; NULL: stdout */
};

#define DR_HDR 24 /* stream u32, magic u32, index u64, send time u64; then pattern bytes */

int dr_blast(const struct dr_gen_opts *o, volatile int *stop);
int dr_sink(const struct dr_gen_opts *o, volatile int *stop);

/* ---- main.c (shared helpers) ----------------------------------------------- */

uint64_t dr_now(void);                       /* CLOCK_MONOTONIC, ns */
int dr_udp_socket(const struct sockaddr_in *bind_to, int bufsize);
int dr_touch(const char *path);
void dr_pctl(uint64_t *v, uint64_t n, uint64_t out[4]); /* min, p50, p99, max (sorts v) */

#endif
