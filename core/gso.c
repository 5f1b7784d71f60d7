/* SPDX-License-Identifier: MIT */
/*
 * core/gso.c: cutting super-packets into segments, completing partial
 * checksums, marking runs for the egress (gso.h).
 */
#include "gso.h"

#include <errno.h>
#include <string.h>

#include "csum.h"
#include "subnetra/egress.h"
#include "wire.h"

#define TCP_FIN 0x01u
#define TCP_PSH 0x08u
#define TCP_CWR 0x80u

static void store_be16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The TCP or UDP header length of the L4 header at l4 with room bytes
 * behind it, or 0 when it does not fit. */
static uint32_t l4_hlen(uint8_t proto, const uint8_t *l4, uint32_t room)
{
	uint32_t h;

	if (proto == SN_IPPROTO_UDP)
		return room >= 8 ? 8 : 0;
	if (proto != SN_IPPROTO_TCP || room < 20)
		return 0;
	h = (uint32_t)(l4[12] >> 4) * 4;
	return h >= 20 && h <= room ? h : 0;
}

int sn_gso_init(struct sn_gso *g, const uint8_t *pkt, uint32_t len, uint32_t mss)
{
	uint32_t ihl, l4;

	if (len < SN_IPV4_HDR_MIN || pkt[0] >> 4 != 4 || mss == 0)
		return -EINVAL;
	ihl = (pkt[0] & 0x0fu) * 4;
	if (ihl < SN_IPV4_HDR_MIN || ihl > len || sn__load_be16(pkt + 2) != len ||
	    (sn__load_be16(pkt + 6) & 0x3fffu) != 0)
		return -EINVAL; /* bad lengths, or a fragment (MF or an offset) */
	l4 = l4_hlen(pkt[9], pkt + ihl, len - ihl);
	if (!l4)
		return -EINVAL;
	g->pkt = pkt;
	g->len = len;
	g->ihl = ihl;
	g->hlen = ihl + l4;
	g->mss = mss;
	g->proto = pkt[9];
	g->segs = len > g->hlen ? (len - g->hlen + mss - 1) / mss : 1;
	return 0;
}

uint32_t sn_gso_seg_len(const struct sn_gso *g, uint32_t i)
{
	uint32_t payload = g->len - g->hlen, off = i * g->mss;

	return g->hlen + (payload - off < g->mss ? payload - off : g->mss);
}

/* TCP: the segment's sequence number and flags, then its checksum. */
static void seg_tcp(const struct sn_gso *g, uint32_t i, uint8_t *out, uint32_t n)
{
	uint8_t *th = out + g->ihl;
	uint64_t sum;

	sn__store_be32(th + 4, sn__load_be32(g->pkt + g->ihl + 4) + i * g->mss);
	if (i + 1 < g->segs)
		th[13] &= (uint8_t)~(TCP_FIN | TCP_PSH);
	if (i > 0)
		th[13] &= (uint8_t)~TCP_CWR;
	th[16] = th[17] = 0;
	sum = sn_csum_pseudo(out, g->hlen - g->ihl + n);
	sum = sn_csum_add(sum, th, g->hlen - g->ihl);
	sum = sn_csum_copy(out + g->hlen, g->pkt + g->hlen + i * g->mss, n, sum);
	sn_csum_store(th + 16, sum);
}

/* UDP: each segment a datagram of its own, 0 sent as 0xffff. */
static void seg_udp(const struct sn_gso *g, uint32_t i, uint8_t *out, uint32_t n)
{
	uint8_t *uh = out + g->ihl;
	uint64_t sum;

	store_be16(uh + 4, 8 + n);
	uh[6] = uh[7] = 0;
	sum = sn_csum_pseudo(out, 8 + n);
	sum = sn_csum_add(sum, uh, 8);
	sum = sn_csum_copy(out + g->hlen, g->pkt + g->hlen + i * g->mss, n, sum);
	if (sn_csum_fold(sum) == 0xffff)
		uh[6] = uh[7] = 0xff;
	else
		sn_csum_store(uh + 6, sum);
}

void sn_gso_seg(const struct sn_gso *g, uint32_t i, uint8_t *out)
{
	uint32_t total = sn_gso_seg_len(g, i);

	memcpy(out, g->pkt, g->hlen);
	store_be16(out + 2, total);
	store_be16(out + 4, sn__load_be16(g->pkt + 4) + i);
	sn_csum_ip(out, g->ihl);
	if (g->proto == SN_IPPROTO_TCP)
		seg_tcp(g, i, out, total - g->hlen);
	else
		seg_udp(g, i, out, total - g->hlen);
}

int sn_gso_csum(uint8_t *pkt, uint32_t len, uint32_t start, uint32_t offset)
{
	uint64_t sum;

	if (start > len || offset % 2 || offset > len - start || len - start - offset < 2)
		return -EINVAL;
	sum = sn_csum_add(0, pkt + start, len - start);
	if (len >= SN_IPV4_HDR_MIN && pkt[9] == SN_IPPROTO_UDP && sn_csum_fold(sum) == 0xffff)
		pkt[start + offset] = pkt[start + offset + 1] = 0xff;
	else
		sn_csum_store(pkt + start + offset, sum);
	return 0;
}

/* ---- runs for the egress ---------------------------------------------------- */

uint32_t sn_gso_runs(struct sn_pkt *const *v, uint32_t n)
{
	return sn_egress_mark_runs(v, n);
}
