/* SPDX-License-Identifier: MIT */
/* plugins/egress_fec_xor/frame.c: the framing and the XOR groups (frame.h). */
#include "frame.h"

#include <errno.h>
#include <string.h>

void fec_hdr_write(uint8_t out[FEC_HDR_LEN], const struct fec_hdr *h)
{
	out[0] = (uint8_t)(FEC_VERSION << 4 | (h->flags & 0xfu));
	out[1] = h->k;
	if (h->flags == FEC_F_PARITY) {
		out[2] = (uint8_t)(h->len_xor >> 8);
		out[3] = (uint8_t)h->len_xor;
	} else {
		out[2] = h->index;
		out[3] = 0;
	}
	out[4] = (uint8_t)(h->group >> 24);
	out[5] = (uint8_t)(h->group >> 16);
	out[6] = (uint8_t)(h->group >> 8);
	out[7] = (uint8_t)h->group;
}

static bool fields_ok(const struct fec_hdr *h, uint32_t body)
{
	switch (h->flags) {
	case 0:
		return h->k >= FEC_K_MIN && h->k <= FEC_K_MAX && h->index < h->k && body > 0;
	case FEC_F_PARITY:
		return h->k >= 1 && h->k <= FEC_K_MAX && body > 0;
	case FEC_F_PLAIN:
		return h->k == 0 && h->index == 0 && h->group == 0 && body > 0;
	default:
		return false;
	}
}

int fec_frame_parse(const uint8_t *buf, uint32_t len, struct fec_hdr *h)
{
	if (len < FEC_HDR_LEN || buf[0] >> 4 != FEC_VERSION)
		return -EINVAL;
	h->flags = buf[0] & 0xfu;
	h->k = buf[1];
	h->index = h->flags == FEC_F_PARITY ? h->k : buf[2];
	h->len_xor = h->flags == FEC_F_PARITY ? (uint16_t)(buf[2] << 8 | buf[3]) : 0;
	if (h->flags != FEC_F_PARITY && buf[3] != 0)
		return -EINVAL;
	h->group = (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 | (uint32_t)buf[6] << 8 | buf[7];
	return fields_ok(h, len - FEC_HDR_LEN) ? 0 : -EINVAL;
}

void fec_acc_reset(struct fec_acc *a, uint32_t group)
{
	memset(a->buf, 0, a->len);
	a->len = 0;
	a->group = group;
	a->have = 0;
	a->open_ns = 0;
	a->len_xor = 0;
	a->count = a->seen = 0;
	a->used = true;
	a->done = false;
}

void fec_acc_add(struct fec_acc *a, const uint8_t *d, uint32_t len)
{
	uint64_t x, y;
	uint32_t i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&x, a->buf + i, 8);
		memcpy(&y, d + i, 8);
		x ^= y;
		memcpy(a->buf + i, &x, 8);
	}
	for (; i < len; i++)
		a->buf[i] ^= d[i];
	if (len > a->len)
		a->len = len;
	a->len_xor ^= (uint16_t)len;
}

bool fec_acc_add_data(struct fec_acc *a, uint32_t index, const uint8_t *d, uint32_t len)
{
	if (index >= FEC_K_MAX || (a->have >> index & 1u) || len > a->cap || len > 0xffffu)
		return false;
	fec_acc_add(a, d, len);
	a->have |= 1u << index;
	a->seen++;
	return true;
}

bool fec_acc_add_parity(struct fec_acc *a, uint32_t k, uint16_t len_xor, const uint8_t *p,
			uint32_t len)
{
	if (a->count || len == 0 || len > a->cap)
		return false;
	fec_acc_add(a, p, len);
	/* the parity's own length is not one of the group's: take it out */
	a->len_xor ^= (uint16_t)len ^ len_xor;
	a->count = (uint8_t)k;
	return true;
}

int fec_acc_missing(const struct fec_acc *a, uint32_t *index, uint32_t *len)
{
	uint32_t i = 0;

	if (!a->count || a->done || a->seen + 1u != a->count)
		return -EAGAIN;
	while (i < a->count && (a->have >> i & 1u))
		i++;
	if (i == a->count)
		return -EINVAL; /* data frames past the parity's k */
	*index = i;
	*len = a->len_xor;
	return *len == 0 || *len > a->len ? -EINVAL : 0;
}

uint32_t fec_acc_lost(const struct fec_acc *a)
{
	return a->count > a->seen ? a->count - a->seen : 0;
}

void fec_acc_parity(const struct fec_acc *a, uint8_t *out)
{
	memcpy(out, a->buf, a->len);
}
