/* SPDX-License-Identifier: MIT */
/*
 * subnetra/packet.h: packet buffers, addresses and prefixes shared by the
 * host and every plugin.
 *
 * Packets live in a pool the host preallocates and mlock()s at start, sized
 * from the headroom, tailroom and overhead every loaded plugin declares
 * (struct sn_plugin_desc). Nobody allocates on the packet path: a stage that
 * needs room in front of the data moves `off` back into the headroom, one
 * that needs room behind it grows `len` into the tailroom.
 *
 *   buf                buf+off            buf+off+len          buf+cap
 *   |<--- headroom --->|<------ data ----->|<---- tailroom ---->|
 *
 * Layouts are fixed-width and never depend on build options; a test
 * static-asserts every size and offset (tests/test_sdk_abi.c).
 */
#ifndef SUBNETRA_PACKET_H
#define SUBNETRA_PACKET_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Address families in struct sn_addr (not the OS's AF_* values). */
enum sn_addr_family {
	SN_AF_NONE = 0, /* no address (an endpoint not yet known) */
	SN_AF_INET = 4, /* IPv4: ip[0..3] */
	SN_AF_INET6 = 6 /* IPv6: ip[0..15]; reserved, v1 underlays are IPv4 */
};

/* An underlay endpoint, independent of the OS's sockaddr layout. */
struct sn_addr {
	uint8_t family;   /* enum sn_addr_family */
	uint8_t reserved; /* 0 */
	uint16_t port;    /* UDP port, host byte order */
	uint8_t ip[16];   /* network byte order; IPv4 uses the first 4 bytes */
};

/* An IPv4 prefix: addr is host byte order, bits past len are 0. */
struct sn_prefix {
	uint32_t addr;
	uint8_t len;         /* 0..32 */
	uint8_t reserved[3]; /* 0 */
};

/* Packet flags (struct sn_pkt.flags). */
#define SN_PKT_F_KEEPALIVE 0x0001u /* an empty keepalive datagram */
#define SN_PKT_F_GSO 0x0002u       /* data holds gso_segs segments of gso_size */

/*
 * One packet, or one segmented super-packet.
 *
 * A batch entry normally carries one packet: gso_size = 0 and data is one
 * IPv4 packet (TUN side) or one datagram (underlay side). A backend that
 * uses kernel segmentation offloads (TUN IFF_VNET_HDR, UDP GSO/GRO) may
 * instead set SN_PKT_F_GSO and carry gso_segs segments of gso_size bytes
 * each (the last may be shorter) in one buffer; only backends that declare
 * SN_OS_F_GSO / SN_EGRESS_F_GSO receive such entries.
 *
 * Ownership: a packet belongs to exactly one party at a time. The pool owns
 * free packets; sn_host_api.pkt_alloc hands one out, pkt_release returns it.
 * Batch calls say in their documentation which packets they take.
 */
struct sn_pkt {
	uint8_t *buf;       /* start of the buffer; owned by the pool, never freed by a plugin */
	uint32_t cap;       /* bytes at buf */
	uint32_t off;       /* data starts at buf + off */
	uint32_t len;       /* data bytes */
	uint32_t flags;     /* SN_PKT_F_* */
	uint16_t gso_size;  /* segment size with SN_PKT_F_GSO, else 0 */
	uint16_t gso_segs;  /* segment count with SN_PKT_F_GSO, else 0 */
	uint32_t peer_id;   /* node id of the peer this packet comes from or goes to; 0 = none */
	struct sn_addr addr; /* underlay address: source on receive, destination on send */
	uint32_t reserved;  /* 0 */
	uint64_t user;      /* scratch for the packet's current owner; not preserved across owners */
};

/* Pointer to the first data byte. */
static inline uint8_t *sn_pkt_data(const struct sn_pkt *p)
{
	return p->buf + p->off;
}

/* Bytes free in front of the data. */
static inline uint32_t sn_pkt_headroom(const struct sn_pkt *p)
{
	return p->off;
}

/* Bytes free behind the data. */
static inline uint32_t sn_pkt_tailroom(const struct sn_pkt *p)
{
	return p->cap - p->off - p->len;
}

/*
 * Prepend n bytes (move the data start back into the headroom) and return
 * the new data start, or 0 (NULL) if the headroom is too small.
 */
static inline uint8_t *sn_pkt_push(struct sn_pkt *p, uint32_t n)
{
	if (n > p->off)
		return 0;
	p->off -= n;
	p->len += n;
	return p->buf + p->off;
}

/* Remove n bytes from the front; returns the new data start or 0. */
static inline uint8_t *sn_pkt_pull(struct sn_pkt *p, uint32_t n)
{
	if (n > p->len)
		return 0;
	p->off += n;
	p->len -= n;
	return p->buf + p->off;
}

#ifdef __cplusplus
}
#endif
#endif
