/* SPDX-License-Identifier: MIT */
/* plugins/egress_kcp_arq/frame.c: the framing and acknowledgement blocks (frame.h). */
#include "frame.h"

#include <errno.h>
#include <stdbool.h>

static void put32(uint8_t *o, uint32_t v)
{
	o[0] = (uint8_t)(v >> 24);
	o[1] = (uint8_t)(v >> 16);
	o[2] = (uint8_t)(v >> 8);
	o[3] = (uint8_t)v;
}

static void put16(uint8_t *o, uint32_t v)
{
	o[0] = (uint8_t)(v >> 8);
	o[1] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static uint32_t get16(const uint8_t *b)
{
	return (uint32_t)b[0] << 8 | b[1];
}

void kcp_hdr_write(uint8_t out[KCP_HDR_LEN], const struct kcp_hdr *h)
{
	out[0] = (uint8_t)(KCP_VERSION << 4 | (h->type & 0xfu));
	out[1] = h->flags;
	out[2] = out[3] = 0;
	put32(out + 4, h->session);
	put32(out + 8, h->seq);
}

uint32_t kcp_ack_write(uint8_t *out, const struct kcp_ack *a)
{
	uint32_t base = a->r[0].first;

	put32(out, a->session);
	put32(out + 4, base);
	out[8] = (uint8_t)a->n;
	out[9] = 0;
	for (uint32_t i = 0; i < a->n; i++) {
		put16(out + KCP_ACK_FIXED + 4 * i, a->r[i].first - base);
		put16(out + KCP_ACK_FIXED + 4 * i + 2, a->r[i].count - 1);
	}
	return KCP_ACK_LEN(a->n);
}

/* The block at b (len bytes there): its length, or 0 when it breaks a rule. */
static uint32_t ack_parse(const uint8_t *b, uint32_t len, struct kcp_ack *a)
{
	uint32_t base, end = 0;

	if (len < KCP_ACK_FIXED)
		return 0;
	a->session = get32(b);
	base = get32(b + 4);
	a->n = b[8];
	if (!a->session || a->n < 1 || a->n > KCP_RANGES_MAX || b[9] || len < KCP_ACK_LEN(a->n))
		return 0;
	for (uint32_t i = 0; i < a->n; i++) {
		uint32_t off = get16(b + KCP_ACK_FIXED + 4 * i), cnt = get16(b + KCP_ACK_FIXED + 4 * i + 2) + 1;

		if ((i == 0 && off != 0) || (i > 0 && off <= end) || off + cnt - 1 > 0xffffu)
			return 0;
		a->r[i] = (struct kcp_range){base + off, cnt};
		end = off + cnt;
	}
	return KCP_ACK_LEN(a->n);
}

static bool type_ok(const struct kcp_hdr *h, uint32_t body_len)
{
	switch (h->type) {
	case KCP_T_DATA:
		return body_len > 0;
	case KCP_T_PLAIN:
		return h->seq == 0 && body_len > 0;
	case KCP_T_ACK:
		return h->seq == 0 && (h->flags & KCP_F_ACK) && body_len == 0;
	default:
		return false;
	}
}

int kcp_frame_parse(const uint8_t *buf, uint32_t len, struct kcp_hdr *h, struct kcp_ack *a,
		    uint32_t *body)
{
	uint32_t off = KCP_HDR_LEN, n;

	if (len < KCP_HDR_LEN || buf[0] >> 4 != KCP_VERSION || buf[2] || buf[3])
		return -EINVAL;
	h->type = buf[0] & 0xfu;
	h->flags = buf[1];
	h->session = get32(buf + 4);
	h->seq = get32(buf + 8);
	if (!h->session || (h->flags & ~KCP_F_ACK))
		return -EINVAL;
	if (h->flags & KCP_F_ACK) {
		if (!(n = ack_parse(buf + off, len - off, a)))
			return -EINVAL;
		off += n;
	}
	if (!type_ok(h, len - off))
		return -EINVAL;
	*body = off;
	return 0;
}

uint32_t kcp_ack_build(const uint32_t *seqs, uint32_t n, uint32_t max_ranges, struct kcp_ack *a)
{
	uint32_t base, i = 1;

	if (!n || !max_ranges)
		return 0;
	base = seqs[0];
	a->n = 1;
	a->r[0] = (struct kcp_range){base, 1};
	for (; i < n && seqs[i] - base <= 0xffffu; i++) {
		struct kcp_range *r = &a->r[a->n - 1];

		if (seqs[i] == r->first + r->count) {
			r->count++;
			continue;
		}
		if (a->n == max_ranges)
			break;
		a->r[a->n++] = (struct kcp_range){seqs[i], 1};
	}
	return i;
}

uint32_t kcp_seq_sort(uint32_t *seqs, uint32_t n)
{
	uint32_t k = 0;

	for (uint32_t i = 1; i < n; i++) { /* insertion: acks come nearly in order */
		uint32_t v = seqs[i], j = i;

		for (; j > 0 && (int32_t)(seqs[j - 1] - v) > 0; j--)
			seqs[j] = seqs[j - 1];
		seqs[j] = v;
	}
	for (uint32_t i = 0; i < n; i++)
		if (!k || seqs[i] != seqs[k - 1])
			seqs[k++] = seqs[i];
	return k;
}
