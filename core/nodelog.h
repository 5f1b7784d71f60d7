/* SPDX-License-Identifier: MIT */
/*
 * core/nodelog.h: what the log tells an operator about a running node
 * (docs/control.md, "Log lines"): each reload and whether it was applied
 * (who asked: SIGHUP, or the control socket and the client's uid), each
 * policy change through the control socket, and per peer its verification
 * (after how long), a new endpoint (roaming, old -> new), a new epoch (the
 * peer restarted), and silence for three keepalive intervals and the
 * return from it.
 *
 * The peer events are found off the packet path: once a second the timer
 * (timers.c, in slices of SN_VERIFY_SLICE peers spread over the second)
 * compares each peer's session with what was last logged about it (struct
 * sn_peer_watch, part of the peer object, so a reload that keeps a peer
 * keeps it without a copy). The data path itself does nothing for them.
 */
#ifndef SN_NODELOG_H
#define SN_NODELOG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "subnetra/packet.h"

struct sn_node;
struct sn_peer;

#define SN_SILENT_INTERVALS 3 /* keepalive intervals without a word: silent */

/* What was last logged about one peer. */
struct sn_peer_watch {
	uint32_t id;
	uint64_t since_ns;        /* its session began: our start, or the reload that
				   * added or re-keyed it */
	uint64_t verified_ns;     /* the verification logged (0: none yet) */
	bool has_epoch;
	uint32_t rx_epoch;        /* its epoch logged */
	struct sn_addr endpoint;  /* its endpoint logged */
	uint64_t last_rx_ns;      /* its last_rx_ns at the last look */
	bool silent;              /* "silent" logged, "back" not yet */
	uint64_t silent_rx_ns;    /* its last_rx_ns when it fell silent */
	uint64_t data_tx;         /* spoke: data datagrams sent to it at the last look */
	uint64_t waiting_ns;      /* spoke: since when our data went unanswered (0: it is not) */
};

struct sn_nodelog {
	bool synced;              /* the first sync (at our start) was made */
	uint32_t cursor;          /* the next peer a sliced look visits */
	uint32_t ticks;           /* whole looks so far (the drop summary runs every 10th) */
};

/* After setup or a reload: the watches of the peers the registry's build
 * made (n->peers.fresh: new and re-keyed ones; at the start, all) start,
 * at our start or now; a watch already started is kept unless its peer's
 * session is new. O(fresh peers), control path. */
void sn_nodelog_sync(struct sn_node *n, uint64_t now_ns);
/* The once-a-second look: log what changed since the last. */
void sn_nodelog_tick(struct sn_node *n, uint64_t now_ns);
/* The same look for peers [from, from + count) of the registry (timers.c
 * spreads a look over the second in slices). */
void sn_nodelog_look(struct sn_node *n, uint64_t now_ns, uint32_t from, uint32_t count);

/* Whether p is up: verified and not silent. On a hub a spoke is silent when
 * nothing came from it for SN_SILENT_INTERVALS keepalive intervals (spokes
 * send a keepalive every interval); a hub sends no keepalives of its own
 * (docs/protocol.md, section 8), so on a spoke the hub is silent only when
 * our data has gone unanswered that long. keepalive: 0 has no intervals:
 * up is verified. */
bool sn_nodelog_peer_up(const struct sn_node *n, const struct sn_peer *p, uint64_t now_ns);

/* A reload's outcome; who: "SIGHUP" or "control socket, uid 1000". */
void sn_nodelog_reload(struct sn_node *n, const char *who, int rc, const char *err);
/* A policy change through the control socket by uid: what, e.g. "add
 * 10.9.0.0/24 forward 2", and the policy now active. */
void sn_nodelog_policy(struct sn_node *n, uid_t uid, const char *what);

#endif
