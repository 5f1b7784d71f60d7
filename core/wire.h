/* SPDX-License-Identifier: MIT */
/*
 * core/wire.h: the bytes on the wire (docs/protocol.md, protocol version 1,
 * revision 2) and the checks a receiver can make on them before any key is
 * touched.
 *
 * Every integer on the wire is big-endian. A datagram is
 *
 *   offset size field
 *   0      1    version   SN_WIRE_VERSION
 *   1      1    flags     at most one of KEEPALIVE 0x01, CHALLENGE 0x02,
 *                         RESPONSE 0x04; bits 3..7 reserved, 0
 *   2      2    reserved  0
 *   4      4    key_id    sender's node id
 *   8      4    epoch     sender's session epoch
 *   12     8    seq       sender's sequence number in this epoch; random
 *                         with the top bit set for CHALLENGE and RESPONSE
 *   20     n    ciphertext: n > 0 for data, 0 for a keepalive, 16 for a
 *                         challenge, 28 for a response
 *   20+n   16   Poly1305 tag
 *
 * The functions are C11 inline definitions so the packet path inlines
 * them; wire.c holds the one external definition of each.
 */
#ifndef SN_WIRE_H
#define SN_WIRE_H

#include <stdint.h>

#include "subnetra/counters.h"

#define SN_WIRE_VERSION 1
#define SN_WIRE_HDR_LEN 20
#define SN_WIRE_TAG_LEN 16
#define SN_WIRE_OVERHEAD (SN_WIRE_HDR_LEN + SN_WIRE_TAG_LEN)
#define SN_WIRE_MIN_LEN SN_WIRE_OVERHEAD /* a keepalive: nothing but header and tag */
#define SN_WIRE_NONCE_LEN 12

#define SN_WIRE_F_KEEPALIVE 0x01u
#define SN_WIRE_F_CHALLENGE 0x02u
#define SN_WIRE_F_RESPONSE 0x04u
#define SN_WIRE_F_KINDS (SN_WIRE_F_KEEPALIVE | SN_WIRE_F_CHALLENGE | SN_WIRE_F_RESPONSE)

/* Plaintext sizes of the verification datagrams (docs/protocol.md,
 * "Verifying a peer"): a challenge is 16 random bytes; a response is the
 * 16 challenge bytes, be32(accepted epoch), be64(next sequenced seq). */
#define SN_WIRE_CHALLENGE_LEN 16
#define SN_WIRE_RESPONSE_LEN 28
/* Sequenced seqs (data, keepalive) stay below this; challenges and
 * responses use a random seq at or above it, so they never share a nonce
 * with sequenced traffic. */
#define SN_WIRE_SEQ_RANDOM (UINT64_C(1) << 63)

#define SN_IPV4_HDR_MIN 20

/* A decoded header; the reserved bits and byte are not kept because a
 * header that decoded has them all 0. */
struct sn_wire_hdr {
	uint8_t version;
	uint8_t flags;
	uint32_t key_id;
	uint32_t epoch;
	uint64_t seq;
};

inline uint16_t sn__load_be16(const uint8_t p[static 2])
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

inline uint32_t sn__load_be32(const uint8_t p[static 4])
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

inline uint64_t sn__load_be64(const uint8_t p[static 8])
{
	return (uint64_t)sn__load_be32(p) << 32 | sn__load_be32(p + 4);
}

inline void sn__store_be32(uint8_t p[static 4], uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

inline void sn__store_be64(uint8_t p[static 8], uint64_t v)
{
	sn__store_be32(p, (uint32_t)(v >> 32));
	sn__store_be32(p + 4, (uint32_t)v);
}

/* Write the 20 header bytes; reserved bits and bytes are always 0 and only
 * the kind bits of h->flags are carried. */
inline void sn_wire_encode(uint8_t out[static SN_WIRE_HDR_LEN], const struct sn_wire_hdr *h)
{
	out[0] = h->version;
	out[1] = h->flags & SN_WIRE_F_KINDS;
	out[2] = 0;
	out[3] = 0;
	sn__store_be32(out + 4, h->key_id);
	sn__store_be32(out + 8, h->epoch);
	sn__store_be64(out + 12, h->seq);
}

/*
 * Does a plaintext of n bytes fit the datagram kind in flags (exactly one
 * kind bit, or none for data)? Data must not be empty; a keepalive is
 * empty; a challenge and a response have their fixed sizes.
 */
inline int sn_wire_plain_ok(uint8_t flags, uint32_t n)
{
	switch (flags) {
	case 0:
		return n > 0;
	case SN_WIRE_F_KEEPALIVE:
		return n == 0;
	case SN_WIRE_F_CHALLENGE:
		return n == SN_WIRE_CHALLENGE_LEN;
	case SN_WIRE_F_RESPONSE:
		return n == SN_WIRE_RESPONSE_LEN;
	default:
		return 0;
	}
}

/*
 * Receive steps 1-3 (docs/protocol.md, "Receiving") on a whole datagram of
 * len bytes. Returns 0 with *out filled, or the drop counter (enum
 * sn_counter, never 0):
 *   SN_CTR_DROP_SHORT        len < 36
 *   SN_CTR_DROP_BAD_VERSION  version != 1
 *   SN_CTR_DROP_BAD_HEADER   a reserved bit or byte set; more than one kind
 *                            bit; a length the kind does not allow (empty
 *                            data, a keepalive with a plaintext, a challenge
 *                            or response of the wrong size); an epoch no
 *                            sender may use (0, 0xFFFFFFFF); or a seq of the
 *                            wrong range for the kind (data and keepalive
 *                            below 2^63, challenge and response at or above)
 * All of it is decided before any key work.
 */
inline int sn_wire_decode(const uint8_t *buf, uint32_t len, struct sn_wire_hdr *out)
{
	if (len < SN_WIRE_MIN_LEN)
		return SN_CTR_DROP_SHORT;
	if (buf[0] != SN_WIRE_VERSION)
		return SN_CTR_DROP_BAD_VERSION;
	if ((buf[1] & ~SN_WIRE_F_KINDS) || buf[2] || buf[3] ||
	    !sn_wire_plain_ok(buf[1], len - SN_WIRE_OVERHEAD))
		return SN_CTR_DROP_BAD_HEADER;
	out->version = buf[0];
	out->flags = buf[1];
	out->key_id = sn__load_be32(buf + 4);
	out->epoch = sn__load_be32(buf + 8);
	out->seq = sn__load_be64(buf + 12);
	if (out->epoch == 0 || out->epoch == UINT32_MAX ||
	    (out->seq >= SN_WIRE_SEQ_RANDOM) != !!(out->flags & (SN_WIRE_F_CHALLENGE | SN_WIRE_F_RESPONSE)))
		return SN_CTR_DROP_BAD_HEADER;
	return 0;
}

/* The AEAD nonce: be32(epoch) || be64(seq). Unique per direction key as
 * long as seq never repeats within an epoch (docs/protocol.md, section 5). */
inline void sn_wire_nonce(uint8_t out[static SN_WIRE_NONCE_LEN], uint32_t epoch, uint64_t seq)
{
	sn__store_be32(out, epoch);
	sn__store_be64(out + 4, seq);
}

/*
 * Receive step 9: is p[0..len) a well-formed IPv4 packet (version 4, IHL >= 5,
 * header within len, total length == len)? 0 or SN_CTR_DROP_BAD_INNER.
 * Only after this may sn_ipv4_src/dst read the addresses.
 */
inline int sn_ipv4_check(const uint8_t *p, uint32_t len)
{
	uint32_t ihl;

	if (len < SN_IPV4_HDR_MIN || p[0] >> 4 != 4)
		return SN_CTR_DROP_BAD_INNER;
	ihl = p[0] & 0x0fu;
	if (ihl < 5 || ihl * 4 > len || sn__load_be16(p + 2) != len)
		return SN_CTR_DROP_BAD_INNER;
	return 0;
}

/* Source and destination address, host byte order. */
inline uint32_t sn_ipv4_src(const uint8_t *p)
{
	return sn__load_be32(p + 12);
}

inline uint32_t sn_ipv4_dst(const uint8_t *p)
{
	return sn__load_be32(p + 16);
}

#endif
