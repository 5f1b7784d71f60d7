/* SPDX-License-Identifier: MIT */
#include "ipref.h"

#include <string.h>

uint16_t ipref_csum(const uint8_t *p, size_t n, uint32_t pseudo)
{
	uint32_t sum = pseudo;

	for (size_t i = 0; i + 1 < n; i += 2) {
		sum += (uint32_t)p[i] << 8 | p[i + 1];
		sum = (sum & 0xffff) + (sum >> 16);
	}
	if (n % 2)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint32_t ipref_pseudo(const uint8_t *ip, uint32_t l4_len)
{
	uint32_t sum = 0;

	for (int i = 12; i < 20; i += 2)
		sum += (uint32_t)ip[i] << 8 | ip[i + 1];
	return sum + ip[9] + l4_len;
}

uint8_t ipref_byte(uint32_t k)
{
	return (uint8_t)(k * 7u + (k >> 8));
}

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

static uint32_t l4_header(uint8_t *l4, const struct ipref_spec *s)
{
	uint32_t words = s->tcp_opt_words;

	if (s->proto == IPREF_UDP) {
		put16(l4, s->sport);
		put16(l4 + 2, s->dport);
		return 8;
	}
	if (s->proto == IPREF_ICMP) {
		l4[0] = 8; /* echo request */
		put16(l4 + 4, s->sport);
		put16(l4 + 6, s->seq);
		return 8;
	}
	put16(l4, s->sport);
	put16(l4 + 2, s->dport);
	put32(l4 + 4, s->seq);
	put32(l4 + 8, s->ack);
	l4[12] = (uint8_t)((5 + words) << 4);
	l4[13] = s->tcp_flags;
	put16(l4 + 14, s->window ? s->window : 502);
	memset(l4 + 20, 1, words * 4); /* NOPs */
	if (words >= 3) {             /* NOP NOP TIMESTAMP(10) */
		l4[22] = 8;
		l4[23] = 10;
		put32(l4 + 24, s->tsval);
		put32(l4 + 28, 7);
	}
	return 20 + words * 4;
}

static void l4_csum(uint8_t *ip, uint32_t ihl, uint32_t len, uint8_t proto)
{
	uint8_t *l4 = ip + ihl;
	uint16_t c;

	if (proto == IPREF_ICMP) {
		put16(l4 + 2, ipref_csum(l4, len - ihl, 0));
		return;
	}
	if (proto == IPREF_UDP)
		put16(l4 + 4, len - ihl);
	c = ipref_csum(l4, len - ihl, ipref_pseudo(ip, len - ihl));
	if (proto == IPREF_UDP)
		put16(l4 + 6, c ? c : 0xffff);
	else
		put16(l4 + 16, c);
}

uint32_t ipref_build(uint8_t *out, uint32_t room, const struct ipref_spec *in)
{
	struct ipref_spec s = *in;
	uint32_t ihl, len, l4;

	if (!s.proto)
		s.proto = IPREF_TCP;
	if (!s.src)
		s.src = 0x0a000101;
	if (!s.dst)
		s.dst = 0x0a000202;
	if (!s.sport)
		s.sport = 40000;
	if (!s.dport)
		s.dport = 5001;
	if (!s.ttl)
		s.ttl = 64;
	if (!s.frag)
		s.frag = 0x4000;
	if (s.proto == IPREF_TCP && !s.tcp_flags)
		s.tcp_flags = 0x10;
	ihl = 20 + s.ip_opt_words * 4u;
	len = ihl + (s.proto == IPREF_TCP ? 20 + s.tcp_opt_words * 4u : 8) + s.payload;
	if (len > room || len > 65535)
		return 0;
	memset(out, 0, len);
	out[0] = (uint8_t)(0x40 | ihl / 4);
	out[1] = s.tos;
	put16(out + 2, len);
	put16(out + 4, s.id);
	put16(out + 6, s.frag);
	out[8] = s.ttl;
	out[9] = s.proto;
	put32(out + 12, s.src);
	put32(out + 16, s.dst);
	memset(out + 20, 1, ihl - 20); /* NOP options; the last byte ends the list */
	if (ihl > 20)
		out[ihl - 1] = 0;
	put16(out + 10, ipref_csum(out, ihl, 0));
	l4 = l4_header(out + ihl, &s);
	for (uint32_t k = 0; k < s.payload; k++)
		out[ihl + l4 + k] = ipref_byte(s.seed + k);
	l4_csum(out, ihl, len, s.proto);
	return len;
}

bool ipref_valid(const uint8_t *ip, uint32_t len)
{
	uint32_t ihl;

	if (len < 20 || ip[0] >> 4 != 4)
		return false;
	ihl = (ip[0] & 15u) * 4;
	if (ihl < 20 || ihl > len || ((uint32_t)ip[2] << 8 | ip[3]) != len || ipref_csum(ip, ihl, 0))
		return false;
	if (ip[9] == IPREF_TCP)
		return len >= ihl + 20 && !ipref_csum(ip + ihl, len - ihl, ipref_pseudo(ip, len - ihl));
	if (ip[9] == IPREF_UDP)
		return len >= ihl + 8 && ((uint32_t)ip[ihl + 4] << 8 | ip[ihl + 5]) == len - ihl &&
		       !ipref_csum(ip + ihl, len - ihl, ipref_pseudo(ip, len - ihl));
	return true;
}
