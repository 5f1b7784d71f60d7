/* SPDX-License-Identifier: MIT */
/*
 * core/csum.h: the Internet checksum (RFC 1071) for the offload code
 * (gso.c, gro.c, aqm.c): sums, a copy that sums what it copies, the
 * pseudo-header of TCP and UDP over IPv4, and the incremental update of
 * RFC 1624.
 *
 * Sums are kept in the machine's byte order, as RFC 1071 section 2(B)
 * allows: a 64-bit accumulator of native 32-bit words, folded to 16 bits
 * at the end. A folded sum stored with memcpy() is the checksum in network
 * byte order. Every piece summed must start at an even offset of the
 * checksummed region (all of ours do: IPv4 and TCP/UDP headers are whole
 * 32-bit words), and only the last piece may have an odd length.
 *
 * C11 inline definitions, so the packet path inlines them; csum.c holds
 * the one external definition of each.
 */
#ifndef SN_CSUM_H
#define SN_CSUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Add the bytes p[0..n) to sum. */
inline uint64_t sn_csum_add(uint64_t sum, const uint8_t *p, size_t n)
{
	uint64_t w = 0;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		sum += (w & 0xffffffffu) + (w >> 32);
	}
	if (n) {
		w = 0;
		memcpy(&w, p, n);
		sum += (w & 0xffffffffu) + (w >> 32);
	}
	return sum;
}

/* Copy n bytes from src to dst (not overlapping) and add them to sum. */
inline uint64_t sn_csum_copy(uint8_t *dst, const uint8_t *src, size_t n, uint64_t sum)
{
	uint64_t w;

	for (; n >= 8; src += 8, dst += 8, n -= 8) {
		memcpy(&w, src, 8);
		memcpy(dst, &w, 8);
		sum += (w & 0xffffffffu) + (w >> 32);
	}
	if (n) {
		w = 0;
		memcpy(&w, src, n);
		memcpy(dst, &w, n);
		sum += (w & 0xffffffffu) + (w >> 32);
	}
	return sum;
}

/* The 16-bit one's complement sum of sum (not complemented). */
inline uint16_t sn_csum_fold(uint64_t sum)
{
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffu) + (sum >> 16);
	sum = (sum & 0xffffu) + (sum >> 16);
	return (uint16_t)sum;
}

/* The pseudo-header of a TCP or UDP segment of l4_len bytes in the IPv4
 * packet ip (its addresses and protocol), as a sum. */
inline uint64_t sn_csum_pseudo(const uint8_t *ip, uint32_t l4_len)
{
	uint8_t w[4] = { 0, ip[9], (uint8_t)(l4_len >> 8), (uint8_t)l4_len };

	return sn_csum_add(sn_csum_add(0, ip + 12, 8), w, 4);
}

/* Store the checksum of sum (its complement) at p, in network order. */
inline void sn_csum_store(uint8_t *p, uint64_t sum)
{
	uint16_t v = (uint16_t)~sn_csum_fold(sum);

	memcpy(p, &v, 2);
}

/* Recompute the IPv4 header checksum of the hlen-byte header ip. */
inline void sn_csum_ip(uint8_t *ip, uint32_t hlen)
{
	ip[10] = ip[11] = 0;
	sn_csum_store(ip + 10, sn_csum_add(0, ip, hlen));
}

/* Is sum, taken over a region with its checksum field, a valid one? */
inline int sn_csum_ok(uint64_t sum)
{
	return sn_csum_fold(sum) == 0xffff;
}

/* RFC 1624 eqn. 3: the 16-bit word at field changes from old to new
 * (both as the bytes in the packet); fix the checksum at check. */
inline void sn_csum_replace16(uint8_t check[static 2], const uint8_t old[static 2],
			      const uint8_t new_[static 2])
{
	uint16_t c, o, n;
	uint64_t sum;

	memcpy(&c, check, 2);
	memcpy(&o, old, 2);
	memcpy(&n, new_, 2);
	sum = (uint16_t)~c;
	sum += (uint16_t)~o;
	sum += n;
	c = (uint16_t)~sn_csum_fold(sum);
	memcpy(check, &c, 2);
}

#endif
