/* SPDX-License-Identifier: MIT */
/*
 * core/gro.c: joining a batch's TCP segments into runs for the TUN device
 * (gro.h has the rules).
 */
#include "gro.h"

#include <stdbool.h>
#include <string.h>

#include "csum.h"
#include "gso.h"
#include "wire.h"

#define TCP_FIN 0x01u
#define TCP_SYN 0x02u
#define TCP_RST 0x04u
#define TCP_PSH 0x08u
#define TCP_ACK 0x10u
#define TCP_URG 0x20u
#define TCP_CWR 0x80u
#define IP_HLEN 20u  /* runs are of packets without IPv4 options */
#define END UINT32_MAX

/* What one packet is to the coalescer. */
struct seg {
	const uint8_t *ip; /* NULL: no TCP ports to tell its flow by */
	uint32_t ihl;      /* IPv4 header bytes */
	uint32_t hlen;     /* IPv4 + TCP header bytes */
	uint32_t payload;  /* TCP payload bytes */
	bool cand;         /* may be part of a run */
};

/* One entry of the output: a packet alone, or a run. */
struct item {
	uint32_t head, last; /* indices into v */
	uint32_t segs;
	uint32_t bytes;      /* the super-packet's total length */
	uint32_t mss;        /* the head's payload */
};

struct gro {
	struct seg s[SN_GRO_MAX];
	struct item it[SN_GRO_MAX];
	uint32_t next[SN_GRO_MAX];  /* the next member of i's item, END */
	uint32_t open[SN_GRO_OPEN]; /* items a segment may still join, oldest first */
	uint32_t n_it, n_open;
};

/* ---- what a packet is ------------------------------------------------------ */

/* Is the TCP segment's checksum right, and the one form of it the kernel's
 * segmentation writes back (0xffff is the other form of 0)? */
static bool tcp_csum_ok(const uint8_t *ip, uint32_t len, uint32_t ihl)
{
	uint64_t sum = sn_csum_pseudo(ip, len - ihl);

	sum = sn_csum_add(sum, ip + ihl, len - ihl);
	return sn_csum_ok(sum) && !(ip[ihl + 16] == 0xff && ip[ihl + 17] == 0xff);
}

static bool candidate(const struct seg *s, const uint8_t *ip, uint32_t len)
{
	uint8_t fl = ip[s->ihl + 13];

	return s->ihl == IP_HLEN && s->hlen <= len && sn__load_be16(ip + 2) == len &&
	       (sn__load_be16(ip + 6) & 0x3fffu) == 0 && (fl & TCP_ACK) &&
	       !(fl & (TCP_SYN | TCP_RST | TCP_URG | TCP_CWR)) && len > s->hlen &&
	       sn_csum_ok(sn_csum_add(0, ip, IP_HLEN)) && tcp_csum_ok(ip, len, IP_HLEN);
}

static void parse(struct seg *s, const struct sn_pkt *p)
{
	const uint8_t *ip = sn_pkt_data(p);
	uint32_t len = p->len;

	memset(s, 0, sizeof(*s));
	if (len < IP_HLEN || ip[0] >> 4 != 4 || ip[9] != SN_IPPROTO_TCP)
		return;
	s->ihl = (ip[0] & 0x0fu) * 4;
	if (s->ihl < IP_HLEN || len < s->ihl + 20 || (sn__load_be16(ip + 6) & 0x1fffu) != 0)
		return; /* no TCP header here (a later fragment has none) */
	s->ip = ip;
	s->hlen = s->ihl + (uint32_t)(ip[s->ihl + 12] >> 4) * 4;
	if (s->hlen < s->ihl + 20)
		return;
	s->cand = candidate(s, ip, len);
	if (s->cand)
		s->payload = len - s->hlen;
}

static bool same_flow(const struct seg *a, const struct seg *b)
{
	return !memcmp(a->ip + 12, b->ip + 12, 8) && !memcmp(a->ip + a->ihl, b->ip + b->ihl, 4);
}

/* ---- joining ------------------------------------------------------------------ */

static bool headers_match(const uint8_t *h, const uint8_t *q, uint32_t hlen)
{
	const uint8_t *ht = h + IP_HLEN, *qt = q + IP_HLEN;

	return h[1] == q[1] && h[8] == q[8] && !memcmp(h + 6, q + 6, 2) && /* TOS, TTL, frag */
	       !memcmp(ht + 8, qt + 8, 4) && ht[12] == qt[12] &&          /* ack, offset */
	       !((ht[13] ^ qt[13]) & ~(TCP_PSH | TCP_FIN)) &&             /* flags */
	       !memcmp(ht + 14, qt + 14, 2) && !memcmp(ht + 18, qt + 18, 2) && /* window, urg */
	       !memcmp(ht + 20, qt + 20, hlen - IP_HLEN - 20);           /* options */
}

static bool can_join(const struct gro *g, const struct item *it, uint32_t i)
{
	const struct seg *h = &g->s[it->head], *l = &g->s[it->last], *q = &g->s[i];

	return q->cand && q->hlen == h->hlen && q->payload <= it->mss &&
	       it->segs < SN_GSO_MAX_SEGS && it->bytes + q->payload <= SN_GSO_MAX_BYTES &&
	       sn__load_be16(q->ip + 4) == (uint16_t)(sn__load_be16(l->ip + 4) + 1) &&
	       sn__load_be32(q->ip + IP_HLEN + 4) == sn__load_be32(l->ip + IP_HLEN + 4) + l->payload &&
	       headers_match(h->ip, q->ip, h->hlen);
}

static void close_open(struct gro *g, uint32_t o)
{
	memmove(g->open + o, g->open + o + 1, (g->n_open - o - 1) * sizeof(g->open[0]));
	g->n_open--;
}

/* Does a run end after segment i? */
static bool ends_run(const struct gro *g, const struct item *it, uint32_t i)
{
	const struct seg *q = &g->s[i];

	return (q->ip[IP_HLEN + 13] & (TCP_PSH | TCP_FIN)) || q->payload < it->mss;
}

static void new_item(struct gro *g, const struct sn_pkt *p, uint32_t i)
{
	struct item *it = &g->it[g->n_it];

	*it = (struct item){ .head = i, .last = i, .segs = 1, .bytes = p->len,
			     .mss = g->s[i].payload };
	g->next[i] = END;
	if (!g->s[i].cand || ends_run(g, it, i)) {
		g->n_it++;
		return;
	}
	if (g->n_open == SN_GRO_OPEN)
		close_open(g, 0);
	g->open[g->n_open++] = g->n_it++;
}

static int find_open(const struct gro *g, uint32_t i)
{
	for (uint32_t o = 0; o < g->n_open; o++)
		if (same_flow(&g->s[g->it[g->open[o]].head], &g->s[i]))
			return (int)o;
	return -1;
}

static void place(struct gro *g, const struct sn_pkt *p, uint32_t i)
{
	int o = g->s[i].ip ? find_open(g, i) : -1;
	struct item *it;

	if (o >= 0) {
		it = &g->it[g->open[o]];
		if (can_join(g, it, i)) {
			g->next[it->last] = i;
			g->next[i] = END;
			it->last = i;
			it->segs++;
			it->bytes += g->s[i].payload;
			if (ends_run(g, it, i))
				close_open(g, (uint32_t)o);
			return;
		}
		close_open(g, (uint32_t)o); /* keep the flow's order: nothing joins behind i */
	}
	new_item(g, p, i);
}

/* ---- the super-packet --------------------------------------------------------- */

static void finish(const struct gro *g, const struct item *it, struct sn_pkt *const *v)
{
	struct sn_pkt *h = v[it->head];
	uint8_t *ip = sn_pkt_data(h);
	uint16_t pseudo;

	ip[2] = (uint8_t)(it->bytes >> 8);
	ip[3] = (uint8_t)it->bytes;
	sn_csum_ip(ip, IP_HLEN);
	ip[IP_HLEN + 13] |= g->s[it->last].ip[IP_HLEN + 13] & (TCP_PSH | TCP_FIN);
	pseudo = sn_csum_fold(sn_csum_pseudo(ip, it->bytes - IP_HLEN));
	memcpy(ip + IP_HLEN + 16, &pseudo, 2);
	h->flags |= SN_PKT_F_RUN | SN_PKT_F_CSUM;
	h->csum_start = IP_HLEN;
	h->csum_offset = 16;
	h->gso_size = (uint16_t)it->mss;
	h->gso_segs = (uint16_t)it->segs;
	for (uint32_t j = g->next[it->head]; j != END; j = g->next[j])
		sn_pkt_pull(v[j], g->s[j].hlen);
}

uint32_t sn_gro_coalesce(struct sn_pkt *const *v, uint32_t n, struct sn_pkt **out)
{
	static struct gro g; /* 12 KiB: the loop thread's, not the stack's */
	uint32_t k = 0, runs = 0, m = n < SN_GRO_MAX ? n : SN_GRO_MAX;

	g.n_it = g.n_open = 0;
	for (uint32_t i = 0; i < m; i++) {
		parse(&g.s[i], v[i]);
		place(&g, v[i], i);
	}
	for (uint32_t t = 0; t < g.n_it; t++) {
		for (uint32_t j = g.it[t].head; j != END; j = g.next[j])
			out[k++] = v[j];
		if (g.it[t].segs > 1) {
			finish(&g, &g.it[t], v);
			runs++;
		}
	}
	while (k < n) /* past SN_GRO_MAX (never, from the data path): as they came */
		out[k] = v[k], k++;
	return runs;
}
