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
 * Packets without an arrival time (an egress that cannot tell) are not
 * looked at and change nothing.
 */
#ifndef SN_AQM_H
#define SN_AQM_H

#include <stdbool.h>
#include <stdint.h>

#define SN_AQM_TARGET_US 5000     /* RFC 8289's defaults */
#define SN_AQM_INTERVAL_US 100000

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
 * interval in ns. Returns what to do with it.
 *
 * RFC 8289 also holds back while less than an MTU is queued. What waits
 * behind a datagram in the socket a node cannot see without a system call,
 * and "the read found nothing more" is no measure of it: a node short of
 * CPU drains its socket many times a second and still lets every packet
 * wait for milliseconds. So the sojourn alone decides: a packet that waited
 * less than target ends the episode, as the RFC has it.
 */
enum sn_aqm_verdict sn_aqm_check(struct sn_aqm *q, uint64_t sojourn, uint64_t now,
				 uint64_t target, uint64_t interval);

/*
 * Signal with the IPv4 packet ip[0..len) (a well-formed one): mark it CE
 * when its ECN field says ECN-capable (ECT(0), ECT(1), or CE already),
 * fixing its header checksum. True when marked, false when it must be
 * dropped.
 */
bool sn_aqm_mark(uint8_t *ip, uint32_t len);

#endif
