/* SPDX-License-Identifier: MIT */
/*
 * core/gso.h: segmentation, the half of the offloads the host does on the
 * way from the TUN device to the underlay (subnetra/packet.h, "Offloads";
 * docs/plugin-sdk.md):
 *
 *  - a super-packet the os backend read (SN_PKT_F_GSO) is cut into
 *    segments exactly as the kernel's own GSO would cut it: for TCP the
 *    sequence number advances by the payload before it, FIN and PSH stay
 *    on the last segment only and CWR on the first only; for UDP each
 *    segment is a datagram with its own length; IPv4 ids count up from the
 *    super-packet's, total lengths and every checksum are recomputed. The
 *    payload is copied and checksummed in one pass, straight into the
 *    packet that is then sealed in place;
 *  - a partial checksum (SN_PKT_F_CSUM) is completed;
 *  - the datagrams staged for an egress that takes runs are marked in
 *    runs (SN_PKT_F_RUN) of one size to one address from one local address.
 *
 * Pure functions on buffers: nothing here allocates or keeps state.
 */
#ifndef SN_GSO_H
#define SN_GSO_H

#include <stdint.h>

#include "subnetra/packet.h"

#define SN_IPPROTO_TCP 6
#define SN_IPPROTO_UDP 17

/* A super-packet checked and ready to cut (sn_gso_init). */
struct sn_gso {
	const uint8_t *pkt; /* the super-packet: IPv4 header, TCP or UDP header, payload */
	uint32_t len;       /* its bytes (== its IPv4 total length) */
	uint32_t ihl;       /* IPv4 header bytes */
	uint32_t hlen;      /* IPv4 + TCP/UDP header bytes, copied into every segment */
	uint32_t mss;       /* payload bytes of every segment but the last */
	uint32_t segs;      /* segments (>= 1; 1 when the payload fits one, or is empty) */
	uint8_t proto;      /* SN_IPPROTO_TCP or SN_IPPROTO_UDP */
};

/*
 * Check that pkt[0..len) is a super-packet that can be cut into segments of
 * mss payload bytes: IPv4 (version 4, IHL >= 5, total length == len, not a
 * fragment) carrying TCP (data offset >= 5) or UDP, headers inside len,
 * mss >= 1. 0 with *g filled, or -EINVAL (nothing cut: the caller drops the
 * packet). The checksums it carries are not looked at: every segment's are
 * computed afresh.
 */
int sn_gso_init(struct sn_gso *g, const uint8_t *pkt, uint32_t len, uint32_t mss);

/* Bytes of segment i (i < g->segs): headers plus its share of the payload. */
uint32_t sn_gso_seg_len(const struct sn_gso *g, uint32_t i);

/* Write segment i (sn_gso_seg_len(g, i) bytes) to out, which must not
 * overlap the super-packet. */
void sn_gso_seg(const struct sn_gso *g, uint32_t i, uint8_t *out);

/*
 * Complete the partial checksum of the IPv4 packet pkt[0..len): sum from
 * start to the end (the checksum field, holding the pseudo-header's sum,
 * included) and store the complement at start + offset; a UDP checksum
 * that comes out 0 is sent as 0xffff (RFC 768). 0, or -EINVAL when the
 * field does not lie inside the packet at an even offset from start.
 */
int sn_gso_csum(uint8_t *pkt, uint32_t len, uint32_t start, uint32_t offset);

/*
 * For an egress that takes runs (SN_EGRESS_F_GSO): mark in v[0..n) every
 * longest stretch of at least two consecutive datagrams to the same
 * address from the same local address (addr and local), all as long as
 * the first but the last (which may be shorter),
 * at most SN_GSO_MAX_SEGS of them and SN_GSO_MAX_BYTES bytes in all: its
 * first entry gets SN_PKT_F_RUN, gso_size and gso_segs. Returns the number
 * of runs. This is the SDK's sn_egress_mark_runs (subnetra/egress.h), which
 * an egress layer uses for the egress below it.
 */
uint32_t sn_gso_runs(struct sn_pkt *const *v, uint32_t n);

#endif
