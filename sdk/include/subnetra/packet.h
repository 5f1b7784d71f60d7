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
 * What a plugin declares (struct sn_plugin_desc, or sn_host_api.room_set
 * at create when it depends on the options), each at most SN_ROOM_MAX:
 *   headroom  bytes it may prepend to the data it is handed (sn_pkt_push),
 *             e.g. a header of its own in front of a sealed datagram;
 *   tailroom  bytes it may append behind the data it is handed (growing
 *             len past what it got), e.g. a trailer, a tag or padding;
 *   overhead  bytes by which a datagram it receives may exceed what it
 *             hands up: its own headers and trailers on the wire (an
 *             egress that moves datagrams in UDP also counts the IP and
 *             UDP headers, 28 bytes). The host makes every packet's room
 *             at least the overlay MTU plus the overheads of the egress
 *             and the crypto backend, so the largest datagram a peer may
 *             send fits.
 * The host sums each over the stack (its own wire header and tag
 * included) when it sizes the pool; a fresh packet has off = the summed
 * headroom. A stage that uses room another stage declared is a bug.
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

/* Packet flags (struct sn_pkt.flags); 0x0001 is unused (kept free). */
#define SN_PKT_F_GSO 0x0002u       /* one super-packet to cut into segments (below) */
#define SN_PKT_F_CSUM 0x0004u      /* the L4 checksum is partial (below) */
#define SN_PKT_F_RUN 0x0008u       /* heads a run of gso_segs entries (below) */

/* Offload limits: a run has at most SN_GSO_MAX_SEGS entries and
 * SN_GSO_MAX_BYTES bytes of data (the largest UDP payload, which also keeps
 * a coalesced IPv4 packet under 65535 bytes). A packet with room for a
 * super-packet (a "big" one) has at least SN_PKT_BIG_ROOM bytes from its
 * data start. */
#define SN_GSO_MAX_SEGS 64u
#define SN_GSO_MAX_BYTES 65507u
#define SN_PKT_BIG_ROOM 65536u

/* The batch budget: the host reads at most SN_BATCH packets per wake-up
 * per file descriptor, so the TUN device and the socket cannot starve each
 * other. recv_batch is lent n <= SN_BATCH packets, tun_read_batch
 * SN_BATCH plain ones plus, with SN_OS_F_GSO, a few big ones. send_batch
 * and tun_write_batch may be offered more entries than that (the segments
 * of cut super-packets): take SN_BATCH per system call and loop, or take
 * fewer. Size per-call arrays (struct mmsghdr, iovec) with it. */
#define SN_BATCH 64

/* The most headroom, tailroom or overhead one plugin may declare. */
#define SN_ROOM_MAX 1024u

/*
 * One packet, one super-packet, or the head of a run.
 *
 * A batch entry normally carries one packet: flags without SN_PKT_F_GSO
 * and SN_PKT_F_RUN, gso_size = gso_segs = 0, and data is one IPv4 packet
 * (TUN side) or one datagram (underlay side).
 *
 * Offloads. A kernel cuts and merges packets for much less than a system
 * call per packet costs, so backends that use its segmentation offloads
 * (Linux: TUN IFF_VNET_HDR, UDP GSO) exchange bigger units with the host.
 * Only a backend that says it can handle them sees them: an os backend
 * that declares SN_OS_F_GSO and reported the offload from tun_open
 * (struct sn_tun_config.offload), an egress that declares SN_EGRESS_F_GSO.
 * Every other backend gets and gives one plain packet per entry, and loses
 * nothing but speed: the wire format is the same either way.
 *
 *  - SN_PKT_F_CSUM, os backend -> host (tun_read_batch): the TCP or UDP
 *    checksum of the IPv4 packet is not computed yet. The 16-bit field at
 *    data + csum_start + csum_offset holds the one's complement sum of the
 *    pseudo-header only (Linux CHECKSUM_PARTIAL); the host completes it
 *    (sums data from csum_start to the end, field included, and stores
 *    the complement) before anything leaves the node. Host -> os backend
 *    (tun_write_batch): only on the head of a run, same convention.
 *  - SN_PKT_F_GSO, os backend -> host (tun_read_batch, in a big packet):
 *    data is one IPv4 TCP or UDP super-packet (its protocol field says
 *    which) of up to 64 KiB, always with SN_PKT_F_CSUM. The host cuts its
 *    payload into segments of gso_size bytes (the last may be shorter;
 *    gso_segs is not used) and gives each the headers the kernel's own segmentation
 *    would: TCP sequence numbers, FIN and PSH on the last segment only,
 *    CWR on the first only; UDP lengths; IPv4 ids counting up, lengths,
 *    every checksum.
 *  - SN_PKT_F_RUN, host -> backend (send_batch, tun_write_batch): this
 *    entry and the gso_segs - 1 entries after it in the batch are one unit
 *    for the kernel's segmentation offload; their data, concatenated in
 *    order, is
 *      egress: gso_segs datagrams to this entry's addr from its local, each gso_size
 *              bytes except the last, which may be shorter;
 *      os:     one IPv4 TCP (the host coalesces TCP only) or UDP
 *              super-packet: the head entry holds the IPv4 and TCP/UDP
 *              headers (total length and flags of the whole,
 *              SN_PKT_F_CSUM) and the first gso_size payload bytes, the
 *              others only their payload (gso_size bytes each, the last
 *              may be shorter), which the kernel cuts into segments of
 *              gso_size as above.
 *    Only the head carries the flag. A backend that cannot send a run as
 *    one (the kernel refuses) sends its entries one by one.
 *
 * Local addresses. A host with several underlay addresses whose egress
 * listens on all of them (0.0.0.0) must answer each peer from the address
 * that peer sent to, or the peer sees its answers come from elsewhere and
 * follows them there. An egress that can tell (raw_direct: IP_PKTINFO)
 * sets `local` on each received datagram; the host keeps it per peer
 * beside the learned endpoint and sets it on what it sends to that peer
 * (a hub does; a spoke leaves it NONE, so a spoke whose own address
 * changes is never held to the old one). An egress sends each entry with
 * `local` as its source, or lets the OS pick when it is NONE or the
 * address is no longer the host's; a run (SN_PKT_F_RUN) has one `local`.
 * An egress that cannot leaves `local` NONE and ignores it on send.
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
	uint16_t gso_size;  /* with SN_PKT_F_GSO or SN_PKT_F_RUN: segment size, else 0 */
	uint16_t gso_segs;  /* with SN_PKT_F_GSO or SN_PKT_F_RUN: segment count, else 0 */
	uint32_t peer_id;   /* node id of the peer this packet comes from or goes to; 0 = none */
	struct sn_addr addr; /* underlay address: source on receive, destination on send */
	uint16_t csum_start;  /* with SN_PKT_F_CSUM: offset of the TCP/UDP header from data */
	uint16_t csum_offset; /* with SN_PKT_F_CSUM: offset of its checksum field in that header */
	uint64_t user;      /* scratch for the packet's current owner: the host never reads it,
			     * pkt_alloc and lent packets start with 0, a packet handed on
			     * may come back with anything in it */
	uint64_t time_ns;   /* receive: when the kernel queued it for us, in the host's now_ns()
			     * clock (an egress sets it where the kernel says, else 0) */
	struct sn_addr local; /* the local underlay address (port 0): on receive the one the
			       * datagram was sent to, where the egress knows it (raw_direct
			       * bound to 0.0.0.0: IP_PKTINFO); on send the one to send from.
			       * Family SN_AF_NONE: unknown / the OS picks. See "Local
			       * addresses" above. */
	uint32_t reserved;  /* 0 */
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

/* Bytes from the data start to the end of the buffer. */
static inline uint32_t sn_pkt_room(const struct sn_pkt *p)
{
	return p->cap > p->off ? p->cap - p->off : 0;
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
