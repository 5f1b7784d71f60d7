/* SPDX-License-Identifier: MIT */
/*
 * core/sojourn.h: how long the underlay's datagrams waited, as a histogram.
 *
 * Every datagram with a kernel arrival time (struct sn_pkt.time_ns) has a
 * sojourn: from its arrival at the node's underlay socket until the node
 * handles it (aqm.h). CoDel acts on it one packet at a time; this keeps
 * its distribution, so that `subnetra status` tells which node's socket
 * holds the wait under load (docs/control.md, "status"). Buckets are a
 * quarter of an octave wide (under 8 us: one per microsecond), the last
 * one open-ended from SN_SOJOURN_TOP_US; counting one is a shift, an add
 * and no branch on the packet's contents.
 */
#ifndef SN_SOJOURN_H
#define SN_SOJOURN_H

#include <stdint.h>

#define SN_SOJOURN_BUCKETS 64u
#define SN_SOJOURN_TOP_US 114688u /* the last bucket's lower bound */

struct sn_sojourn {
	uint64_t count[SN_SOJOURN_BUCKETS];
	uint64_t packets;
	uint64_t max_ns;
};

/* Bucket of a sojourn of us microseconds. */
uint32_t sn_sojourn_bucket(uint64_t us);

/* Lower bound in microseconds of bucket b; its upper bound is the next
 * bucket's lower bound (none for the last). */
uint64_t sn_sojourn_lo_us(uint32_t b);

/* Count one packet that waited ns nanoseconds. */
void sn_sojourn_add(struct sn_sojourn *h, uint64_t ns);

/* The permille-th quantile (500 = median, 990 = p99) in microseconds, as
 * the upper bound of its bucket (the maximum in the last one); 0 when
 * nothing was counted. */
uint64_t sn_sojourn_quantile_us(const struct sn_sojourn *h, uint32_t permille);

#endif
