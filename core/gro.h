/* SPDX-License-Identifier: MIT */
/*
 * core/gro.h: coalescing, the half of the offloads the host does on the
 * way from the underlay to the TUN device (subnetra/packet.h, "Offloads";
 * docs/plugin-sdk.md). The packets a batch delivers are put in write order
 * with the consecutive in-order TCP segments of each flow joined into runs
 * (SN_PKT_F_RUN) that the os backend writes as one super-packet, so a
 * burst costs one write instead of one per packet.
 *
 * A segment joins the run of its flow (same addresses and ports) under the
 * rules of the kernel's own TCP GRO, so that cutting the super-packet again
 * (gso.h) gives back exactly the segments that went in:
 *  - IPv4 without options, not a fragment, header checksum right; TCP with
 *    ACK, without SYN, RST, URG or CWR, with payload and a right checksum
 *    (the kernel trusts a coalesced packet's checksum, so each segment's
 *    is checked here first);
 *  - it follows the run's last segment: sequence number just after it,
 *    IPv4 id one more; and it matches the run's first in TOS, TTL,
 *    fragment bits, acknowledgment number, window, every other flag but
 *    PSH and FIN, urgent pointer and every option byte;
 *  - all segments of a run carry the first one's payload length except the
 *    last, which may be shorter; a shorter one, or one with PSH or FIN,
 *    ends the run; at most SN_GSO_MAX_SEGS segments, SN_GSO_MAX_BYTES.
 * Every other packet is written as it came. Packets of one flow keep their
 * order; packets of different flows may be reordered (runs are written in
 * the order of their first segment). Pure: nothing allocated, no state.
 */
#ifndef SN_GRO_H
#define SN_GRO_H

#include <stdint.h>

#include "subnetra/packet.h"

#define SN_GRO_MAX 256   /* packets per call at most */
#define SN_GRO_OPEN 8    /* flows with a run still open at a time */

/*
 * Put v[0..n) (IPv4 packets) into out[0..n) in write order (packets past
 * the first SN_GRO_MAX stay as they are, at the end). The first entry of each run of two or more segments becomes the
 * super-packet's head: its IPv4 total length and header checksum are the
 * whole's, its TCP flags gain the last segment's PSH and FIN, its TCP
 * checksum field holds the pseudo-header sum (SN_PKT_F_CSUM, csum_start =
 * the IPv4 header length, csum_offset = 16), and it carries SN_PKT_F_RUN
 * with gso_size = its payload length and gso_segs = the run's length. The
 * other entries of the run are pulled past their IPv4 and TCP headers
 * (their data is their payload). Returns the number of runs.
 */
uint32_t sn_gro_coalesce(struct sn_pkt *const *v, uint32_t n, struct sn_pkt **out);

#endif
