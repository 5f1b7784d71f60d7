/* SPDX-License-Identifier: MIT */
/*
 * The delay queue of sn-delayrelay (delayrelay.h): a FIFO of preallocated
 * slots. A fixed delay keeps arrival order, so the oldest datagram is always
 * the next one due; jitter is added without reordering (due times never go
 * back), and --reorder swaps two neighbours in place.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "delayrelay.h"

int dr_ring_init(struct dr_ring *r, uint32_t cap)
{
	memset(r, 0, sizeof(*r));
	if (cap < 2)
		return -EINVAL;
	r->cap = cap;
	r->data = calloc(cap, DR_SLOT);
	r->len = calloc(cap, sizeof(*r->len));
	r->client = calloc(cap, sizeof(*r->client));
	r->due = calloc(cap, sizeof(*r->due));
	if (!r->data || !r->len || !r->client || !r->due) {
		dr_ring_free(r);
		return -ENOMEM;
	}
	return 0;
}

void dr_ring_free(struct dr_ring *r)
{
	free(r->data);
	free(r->len);
	free(r->client);
	free(r->due);
	memset(r, 0, sizeof(*r));
}

uint32_t dr_ring_free_at(const struct dr_ring *r, uint32_t k)
{
	return (r->head + r->count + k) % r->cap;
}

uint32_t dr_ring_at(const struct dr_ring *r, uint32_t k)
{
	return (r->head + k) % r->cap;
}

void dr_ring_push(struct dr_ring *r, uint64_t due)
{
	uint32_t i = dr_ring_free_at(r, 0);

	if (due < r->last_due)
		due = r->last_due;
	r->due[i] = due;
	r->last_due = due;
	r->count++;
}

int dr_ring_swap_last(struct dr_ring *r)
{
	unsigned char tmp[DR_SLOT];
	uint32_t a, b;
	uint16_t l, c;

	if (r->count < 2)
		return -ENOENT;
	a = dr_ring_at(r, r->count - 2);
	b = dr_ring_at(r, r->count - 1);
	memcpy(tmp, r->data + (size_t)a * DR_SLOT, r->len[a]);
	memcpy(r->data + (size_t)a * DR_SLOT, r->data + (size_t)b * DR_SLOT, r->len[b]);
	memcpy(r->data + (size_t)b * DR_SLOT, tmp, r->len[a]);
	l = r->len[a], r->len[a] = r->len[b], r->len[b] = l;
	c = r->client[a], r->client[a] = r->client[b], r->client[b] = c;
	r->due[a] = r->due[b];
	return 0;
}

uint32_t dr_ring_due(const struct dr_ring *r, uint64_t now, uint32_t max)
{
	uint32_t n = 0;

	while (n < r->count && n < max && r->due[dr_ring_at(r, n)] <= now)
		n++;
	return n;
}

void dr_ring_pop(struct dr_ring *r, uint32_t n)
{
	r->head = (r->head + n) % r->cap;
	r->count -= n;
}

uint64_t dr_ring_next(const struct dr_ring *r)
{
	return r->count ? r->due[r->head] : UINT64_MAX;
}
