/* SPDX-License-Identifier: MIT */
/*
 * core/droplog.h: who is sending us what we drop, for the log. Every
 * datagram from the underlay that is dropped bumps one counter of a fixed
 * table keyed by (reason, source address), constant work and no
 * allocation whatever the flood; every SN_DROPLOG_WINDOW_S seconds the
 * timer (timers.c) prints the SN_DROPLOG_TOP biggest entries and one line
 * for the rest, and empties the table:
 *
 *   1234 auth_fail from 198.51.100.7 in the last 10 s
 *   57 other drops in the last 10 s
 *
 * So a flood costs at most SN_DROPLOG_TOP + 1 lines a window. Only
 * datagrams received from the underlay are noted (reactor.c marks the
 * batch): a packet read from the TUN device has no underlay source, and
 * tx_error and tun_error are counted on the way out, where the address is
 * the destination. The source is the address without the port (a flood
 * from random ports is one source).
 */
#ifndef SN_DROPLOG_H
#define SN_DROPLOG_H

#include <stdbool.h>
#include <stdint.h>

#include "subnetra/packet.h"

#define SN_DROPLOG_SLOTS 64    /* (reason, source) pairs a window keeps apart */
#define SN_DROPLOG_PROBE 4     /* slots a pair may take (from its hash on) */
#define SN_DROPLOG_TOP 3       /* pairs named per window */
#define SN_DROPLOG_WINDOW_S 10 /* seconds per window */
#define SN_DROPLOG_LINE 128    /* bytes of one summary line */

struct sn_droplog_slot {
	uint64_t n;              /* drops this window; 0 = free */
	uint32_t reason;         /* SN_CTR_DROP_* */
	uint8_t family;          /* enum sn_addr_family */
	uint8_t ip[16];
};

struct sn_droplog {
	bool receiving;          /* a batch from the underlay is being processed */
	uint64_t total;          /* drops noted this window */
	struct sn_droplog_slot slot[SN_DROPLOG_SLOTS];
};

/* The packet path: a datagram from src dropped for reason. When all
 * SN_DROPLOG_PROBE slots of its hash hold other pairs, the smallest of
 * them gives way (its drops still count in the total, as "other"), so a
 * heavy sender keeps its slot however many others come and go. */
void sn_droplog_note(struct sn_droplog *d, uint32_t reason, const struct sn_addr *src);

/* The window's summary into lines (at most SN_DROPLOG_TOP + 1, biggest
 * first, then the rest as one), and a new window. Returns the number of
 * lines; 0 when nothing was dropped. */
uint32_t sn_droplog_flush(struct sn_droplog *d, char lines[][SN_DROPLOG_LINE]);

#endif
