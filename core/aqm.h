/* SPDX-License-Identifier: MIT */
/*
 * core/aqm.h: active queue management, CoDel (RFC 8289), one per node, on
 * the packets the node receives from the underlay.
 *
 * A TCP stream that meets no loss fills every buffer on its way, and every
 * other packet waits behind it: the underlay socket's receive buffer holds
 * megabytes, milliseconds of data. The kernel tells the egress when each
 * datagram arrived (struct sn_pkt.time_ns), so the time a packet waited
 * until the node handles it, its sojourn, is known. CoDel watches it: once
 * the sojourn has stayed above target for a whole interval, it signals
 * the senders, one packet at first and then more often (interval /
 * sqrt(count)) until the sojourn falls below target again. A signal marks
 * an ECN-capable inner packet Congestion Experienced (the inner IPv4
 * checksum fixed incrementally, RFC 1624) and drops any other, counted
 * under the drop reason `aqm` (docs/control.md).
 *
 * A packet with (about) nothing queued behind it ends the episode as one
 * that waited less than target does (RFC 8289, section 5: "bytes() <=
 * MAXPACKET"): what it waited was the node's wake-up, not a standing
 * queue. Without this, a target below the wake-up latency would keep
 * CoDel dropping for good, a lone SYN or ping included.
 *
 * Packets without an arrival time (an egress that cannot tell) are not
 * looked at and change nothing.
 */
#ifndef SN_AQM_H
#define SN_AQM_H

#include <stdbool.h>
#include <stdint.h>

#define SN_AQM_TARGET_US 5000     /* RFC 8289's defaults */
#define SN_AQM_INTERVAL_US 100000
/* The shortest target the config takes (docs/configuration.md, aqm): a
 * lone packet's wake-up (epoll, recvmmsg, the scheduler) alone takes tens
 * of microseconds, 0.08 ms at the median on the bench star's sending
 * spoke (bench/README.md, "Latency under load"): a shorter target is met
 * by no packet under any load. */
#define SN_AQM_TARGET_MIN_US 100

/* CoDel's state (RFC 8289, section 5). */
struct sn_aqm {
	uint64_t first_above; /* when the sojourn may be acted on; 0 = it is below target */
	uint64_t drop_next;   /* the next signal while dropping */
	uint32_t count;       /* signals in this dropping state */
	uint32_t lastcount;   /* count when the last dropping state began */
	bool dropping;
};

enum sn_aqm_verdict {
	SN_AQM_PASS = 0, /* deliver as it is */
	SN_AQM_SIGNAL,   /* mark (ECN) or drop */
};

/*
 * One packet handled at now (ns) after waiting sojourn ns, with target and
 * interval in ns; drained: at most one datagram's worth of bytes is queued
 * behind it (RFC 8289's bytes() <= MAXPACKET). Returns what to do with it.
 *
 * The datapath (datapath.c) calls a packet drained when it came last in
 * a read that returned fewer datagrams than it had room for (the egress
 * had nothing more), with at most a datagram's worth of bytes behind it
 * in that read, and the socket shows nothing more (a poll, asked once per
 * read and only when the sojourn is above target). A packet that waited
 * less than target, or one drained, ends the episode.
 */
enum sn_aqm_verdict sn_aqm_check(struct sn_aqm *q, uint64_t sojourn, uint64_t now,
				 uint64_t target, uint64_t interval, bool drained);

/*
 * Signal with the IPv4 packet ip[0..len) (a well-formed one): mark it CE
 * when its ECN field says ECN-capable (ECT(0), ECT(1), or CE already),
 * fixing its header checksum. True when marked, false when it must be
 * dropped.
 */
bool sn_aqm_mark(uint8_t *ip, uint32_t len);

#endif
