/* SPDX-License-Identifier: MIT */
/*
 * tests/support/ipref.h: IPv4, TCP and UDP packets for the offload tests
 * (test_gso.c, test_gro.c, the datapath tests), built and checked with an
 * Internet checksum written here independently of core/csum.h: the
 * textbook RFC 1071 loop over big-endian 16-bit words, one at a time.
 */
#ifndef SN_IPREF_H
#define SN_IPREF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPREF_TCP 6
#define IPREF_UDP 17
#define IPREF_ICMP 1

/* What to build. Zero fields take the defaults noted. */
struct ipref_spec {
	uint8_t proto;          /* IPREF_TCP (default), IPREF_UDP, IPREF_ICMP */
	uint32_t src, dst;      /* host order; default 10.0.1.1 -> 10.0.2.2 */
	uint16_t sport, dport;  /* default 40000 -> 5001 */
	uint8_t tos, ttl;       /* ttl default 64 */
	uint16_t id;
	uint16_t frag;          /* the IPv4 flags + offset field; default DF (0x4000) */
	uint8_t ip_opt_words;   /* 32-bit words of IPv4 options (NOPs + end) */
	uint32_t seq, ack;      /* TCP */
	uint8_t tcp_flags;      /* default ACK */
	uint16_t window;        /* default 502 */
	uint8_t tcp_opt_words;  /* 32-bit words of TCP options (timestamps when 3) */
	uint32_t tsval;         /* TCP timestamp value */
	uint32_t payload;       /* payload bytes: byte k of the stream is (seed + k) * 7 */
	uint32_t seed;          /* stream offset of the first payload byte */
};

/* RFC 1071 over p[0..n), plus pseudo, complemented. */
uint16_t ipref_csum(const uint8_t *p, size_t n, uint32_t pseudo);
/* The pseudo-header sum of the L4 region of the IPv4 packet ip. */
uint32_t ipref_pseudo(const uint8_t *ip, uint32_t l4_len);
/* Build into out (room bytes); returns the length, 0 if it does not fit. */
uint32_t ipref_build(uint8_t *out, uint32_t room, const struct ipref_spec *s);
/* Is ip[0..len) a well-formed IPv4 packet whose header checksum and (TCP,
 * UDP) L4 checksum are right? */
bool ipref_valid(const uint8_t *ip, uint32_t len);
/* The payload byte at stream offset k. */
uint8_t ipref_byte(uint32_t k);

#endif
