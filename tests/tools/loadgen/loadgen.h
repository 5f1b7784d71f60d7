/* SPDX-License-Identifier: MIT */
/*
 * tests/tools/loadgen/loadgen.h: sn-loadgen, one process that plays many
 * spokes against a hub (docs/protocol.md, revision 2), writes the hub's
 * peer files for them, and floods a hub with hostile datagrams.
 *
 *   conf   the spokes' peer files for a hub's peers_dir (or one peers:
 *          list), keys derived from a seed (keys.c, conf.c)
 *   run    N spokes, one UDP socket each: each verifies the hub and
 *          answers its challenges as section 7 says, keeps alive, pings
 *          and streams through the hub, checks what comes back, records
 *          datagrams and replays them on SIGUSR1 (spoke.c, run.c)
 *   flood  hostile datagrams at a paced rate (flood.c)
 *
 * It uses the project's own wire format (core/wire.h), seal (core/seal.c),
 * replay window (core/replay.c) and the crypto plugin through the loader.
 */
#ifndef SN_LOADGEN_H
#define SN_LOADGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "replay.h"
#include "seal.h"

#define LG_SEED_LABEL "sn-loadgen/v1/key"
#define LG_RECORD 4           /* datagrams each spoke records for replays */
#define LG_MAX_DGRAM 1500
#define LG_STREAM_PORT 9000   /* the inner UDP port of stream packets */

/* Which spokes a seed makes: spoke i has id first_id + i, overlay address
 * addr_base + i and (with routes) the LAN 172.16.0.0/12 + 16 * i /28. */
struct lg_set {
	char seed[64];
	uint32_t first_id;
	uint32_t count;
	uint32_t addr_base;  /* host order */
	bool routes;
};

/* A spoke's private key from the seed (keys.c); its public key. */
void lg_spoke_key(const struct lg_set *set, uint32_t id, uint8_t priv[32], uint8_t pub[32]);
uint32_t lg_spoke_addr(const struct lg_set *set, uint32_t i);
uint32_t lg_spoke_lan(uint32_t i);

/* conf.c: the peer files. 0 or -errno (message on stderr). */
int lg_conf(const struct lg_set *set, const char *dir, const char *list_file);

/* One spoke (spoke.c). */
struct lg_spoke {
	uint32_t id, addr;
	int fd;
	struct sockaddr_in local;
	uint8_t pair[32];
	/* sending */
	uint32_t epoch;
	uint64_t tx_seq;
	void *tx_key;
	uint64_t last_tx_ns, last_chal_ns, last_resp_ns, last_ping_ns;
	/* the hub */
	bool hub_verified;          /* our challenge was answered */
	uint8_t chal[16];
	uint32_t answered_epoch;    /* the hub's epoch of the last challenge we answered */
	bool has_hub_epoch;
	uint32_t hub_epoch;         /* accepted from the hub */
	struct sn_replay win;
	void *rx_key;
	bool cand_valid;
	uint32_t cand_epoch;
	void *cand_key;
	bool heard;                 /* a sequenced datagram of the hub accepted in hub_epoch */
	uint32_t heard_epoch;       /* the hub epoch it was heard in */
	uint64_t heard_ns;
	/* pings to the hub (or any overlay address) */
	uint16_t ping_seq;
	uint64_t ping_outstanding;  /* bit k: seq ping_seq - 1 - k not answered yet */
	/* datagrams recorded for a replay */
	uint8_t rec[LG_RECORD][128];
	uint16_t rec_len[LG_RECORD];
	uint32_t n_rec;
};

/* What the spokes saw, for the status file. */
struct lg_stats {
	uint64_t rx, tx, challenges_tx, responses_tx, responses_rx, keepalives_rx, data_rx;
	uint64_t pings_tx, pings_ok, pings_dup, pings_bad;
	uint64_t drop_auth, drop_replay, drop_stale, drop_unverified, drop_other;
	uint64_t epoch_moves, replayed;
	uint64_t stream_tx, stream_rx, stream_lost, stream_gap_max_ns, stream_last_ns;
	uint64_t stream_next_seq;
	uint64_t stream_gaps[5];   /* gaps of >= 0.5, 1, 2, 5, 10 ms (since SIGUSR2) */
};

/* The run's shared state. */
struct lg {
	struct lg_set set;
	struct sn_crypto cr;
	uint32_t ks;               /* key context size */
	uint32_t hub_id;
	uint8_t hub_pub[32];
	struct sockaddr_in hub;
	uint32_t ping_dst;         /* overlay address pinged; 0: none */
	uint64_t ping_every_ns;    /* 0: no pings */
	uint64_t keepalive_ns;
	uint32_t epoch_min;
	struct lg_spoke *s;
	uint32_t n;
	struct lg_stats st;
	uint64_t start_ns;
	/* the hub epochs seen: when each was first seen and all spokes heard it */
	struct {
		uint32_t epoch;
		uint64_t first_ns, all_ns;
		uint32_t heard;
	} ep[8];
	uint32_t n_ep;
	/* a stream from spoke stream_from to the overlay address stream_to */
	int stream_from;           /* -1: none */
	uint32_t stream_to;
	uint64_t stream_every_ns;
};

uint64_t lg_now(void);
/* spoke.c */
int lg_spoke_setup(struct lg *g, struct lg_spoke *s, uint32_t i, const char *bind_ip,
		   uint16_t base_port);
void lg_spoke_rx(struct lg *g, struct lg_spoke *s, uint8_t *buf, uint32_t len,
		 const struct sockaddr_in *from);
void lg_spoke_tick(struct lg *g, struct lg_spoke *s, uint64_t now);
void lg_spoke_stream(struct lg *g, struct lg_spoke *s, uint64_t now);
void lg_spoke_replay(struct lg *g, struct lg_spoke *s);
/* run.c */
int lg_run(struct lg *g, const char *bind_ip, uint16_t base_port, const char *status_file,
	   double secs);
/* flood.c */
struct lg_flood {
	struct sockaddr_in to;
	double rate;            /* datagrams per second */
	double secs;
	const char *kinds;      /* comma-separated: unknown,badtag,epoch,stale,replay,short */
	uint32_t peer_id;       /* a configured, verified peer of the hub */
	uint32_t epoch;         /* the epoch the hub accepts from it */
	bool spoof;             /* random source addresses (raw socket) */
	uint32_t spoof_net, spoof_len;
	const char *result;     /* where the totals go (JSON), or stdout */
	const char *replay_frames; /* recorded datagrams (kind replay) */
};
int lg_flood(const struct lg_flood *f);

#endif
