/* SPDX-License-Identifier: MIT */
/*
 * core/pool.h: the packet pool. All packet buffers are allocated once at
 * start, mlock()ed, and recycled through a LIFO free stack: nothing on the
 * packet path allocates or frees.
 */
#ifndef SN_POOL_H
#define SN_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "subnetra/packet.h"

struct sn_pool {
	struct sn_pkt *pkts;    /* count descriptors */
	struct sn_pkt **free;   /* free stack */
	uint8_t *mem;           /* count * buf_size bytes, page aligned */
	uint32_t count;
	uint32_t n_free;
	uint32_t headroom;      /* off of a fresh packet */
	uint32_t buf_size;      /* cap of every packet */
	uint64_t mem_bytes;     /* bytes allocated (descriptors + buffers) */
	bool locked;            /* mlock() succeeded */
};

/*
 * Allocate count buffers of headroom + room + tailroom bytes (rounded up to
 * 64). With lock, mlock() them (a failure is reported in *locked, not an
 * error: an unprivileged test still runs). 0 or -ENOMEM / -EINVAL.
 */
int sn_pool_init(struct sn_pool *p, uint32_t count, uint32_t headroom, uint32_t room,
		 uint32_t tailroom, bool lock);
void sn_pool_destroy(struct sn_pool *p);

/* A free packet with off = headroom, len = 0, flags = 0; NULL when empty. */
static inline struct sn_pkt *sn_pool_get(struct sn_pool *p)
{
	struct sn_pkt *k;

	if (p->n_free == 0)
		return 0;
	k = p->free[--p->n_free];
	k->off = p->headroom;
	k->len = 0;
	k->flags = 0;
	k->gso_size = 0;
	k->gso_segs = 0;
	k->peer_id = 0;
	return k;
}

/* Return a packet taken from this pool. */
static inline void sn_pool_put(struct sn_pool *p, struct sn_pkt *k)
{
	p->free[p->n_free++] = k;
}

#endif
