/* SPDX-License-Identifier: MIT */
/*
 * plugins/os_linux/vnet.h: the virtio_net_hdr in front of every packet of
 * a TUN device opened with IFF_VNET_HDR, and its translation to and from
 * the SDK's offload fields (subnetra/packet.h, "Offloads"). Kept apart
 * from linux.c, and free of Linux headers, so that tests/fuzz/fuzz_gso.c
 * can feed any header through exactly this code.
 *
 * The layout is the virtio specification's (10 bytes, little-endian on
 * the machines Subnetra runs on, which is what the TUN driver uses unless
 * told otherwise with TUNSETVNETBE):
 *   0 flags        VNET_F_NEEDS_CSUM: the checksum at csum_start +
 *                  csum_offset holds the pseudo-header sum only
 *   1 gso_type     VNET_GSO_NONE, _TCPV4, _UDP_L4, | VNET_GSO_ECN
 *   2 hdr_len      bytes of headers (a hint for the kernel's allocation)
 *   4 gso_size     payload bytes per segment
 *   6 csum_start, 8 csum_offset
 */
#ifndef SN_LX_VNET_H
#define SN_LX_VNET_H

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "subnetra/packet.h"

#define VNET_HDR_LEN 10
#define VNET_F_NEEDS_CSUM 0x01u
#define VNET_GSO_NONE 0u
#define VNET_GSO_TCPV4 1u
#define VNET_GSO_UDP 3u     /* UFO, which we never offer */
#define VNET_GSO_TCPV6 4u
#define VNET_GSO_UDP_L4 5u  /* USO; Debian 12's headers predate it */
#define VNET_GSO_ECN 0x80u

static inline uint16_t sn__vnet_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline void sn__vnet_put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/*
 * What the header the kernel wrote in front of a read says about p:
 * SN_PKT_F_CSUM with csum_start and csum_offset, SN_PKT_F_GSO with
 * gso_size. 0, or -EINVAL for a packet the host cannot take (a GSO type
 * other than TCPv4 and UDP L4, GSO without a partial checksum or without
 * a segment size).
 */
static inline int sn__vnet_to_pkt(const uint8_t h[static VNET_HDR_LEN], struct sn_pkt *p)
{
	uint32_t type = h[1] & ~VNET_GSO_ECN;

	if (h[0] & VNET_F_NEEDS_CSUM) {
		p->flags |= SN_PKT_F_CSUM;
		p->csum_start = sn__vnet_le16(h + 6);
		p->csum_offset = sn__vnet_le16(h + 8);
	}
	if (type == VNET_GSO_NONE)
		return 0;
	if ((type != VNET_GSO_TCPV4 && type != VNET_GSO_UDP_L4) ||
	    !(h[0] & VNET_F_NEEDS_CSUM) || !sn__vnet_le16(h + 4))
		return -EINVAL;
	p->flags |= SN_PKT_F_GSO;
	p->gso_size = sn__vnet_le16(h + 4);
	return 0;
}

/* The header for writing p: zero for a plain packet; for the head of a run
 * (a coalesced TCP super-packet) its segment size, headers and partial
 * checksum. */
static inline void sn__vnet_from_pkt(const struct sn_pkt *p, uint8_t h[static VNET_HDR_LEN])
{
	const uint8_t *d = sn_pkt_data(p);
	uint32_t l4;

	memset(h, 0, VNET_HDR_LEN);
	if (!(p->flags & SN_PKT_F_CSUM) || p->csum_start + 20u > p->len)
		return;
	h[0] = VNET_F_NEEDS_CSUM;
	sn__vnet_put16(h + 6, p->csum_start);
	sn__vnet_put16(h + 8, p->csum_offset);
	if (!(p->flags & SN_PKT_F_RUN))
		return;
	l4 = d[9] == 17 ? 8u : (uint32_t)(d[p->csum_start + 12] >> 4) * 4;
	h[1] = d[9] == 17 ? VNET_GSO_UDP_L4 : VNET_GSO_TCPV4;
	sn__vnet_put16(h + 2, p->csum_start + l4);
	sn__vnet_put16(h + 4, p->gso_size);
}

#endif
