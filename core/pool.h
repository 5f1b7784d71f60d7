/* SPDX-License-Identifier: MIT */
/*
 * core/pool.h: the packet pool. All packet buffers are allocated once at
 * start, mlock()ed, and recycled through LIFO free stacks: nothing on the
 * packet path allocates or frees.
 *
 * Two sizes: count packets with room for one datagram of the overlay MTU
 * (the packet path's), and, once an os backend turns on the TUN device's
 * offloads, a few big ones with room for a 64 KiB super-packet
 * (SN_PKT_BIG_ROOM, subnetra/packet.h), lent only to its reads. A packet
 * goes back to the stack of its size: its cap tells which.
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
	struct sn_pkt *big;     /* big_count descriptors of big packets (NULL: none) */
	struct sn_pkt **big_free;
	uint8_t *big_mem;
	uint32_t big_count;
	uint32_t n_big_free;
	uint32_t big_size;      /* cap of a big packet */
	uint64_t mem_bytes;     /* bytes allocated (descriptors + buffers) */
	bool locked;            /* mlock() succeeded (for everything allocated so far) */
};

/*
 * Allocate count buffers of headroom + room + tailroom bytes (rounded up to
 * 64). With lock, mlock() them (a failure is reported in *locked, not an
 * error: an unprivileged test still runs). 0 or -ENOMEM / -EINVAL.
 */
int sn_pool_init(struct sn_pool *p, uint32_t count, uint32_t headroom, uint32_t room,
		 uint32_t tailroom, bool lock);
/* Add count big packets with SN_PKT_BIG_ROOM bytes of room (and the same
 * headroom); once only. 0 or -ENOMEM / -EALREADY. */
int sn_pool_add_big(struct sn_pool *p, uint32_t count, bool lock);
void sn_pool_destroy(struct sn_pool *p);

static inline struct sn_pkt *sn__pool_fresh(struct sn_pkt *k, uint32_t headroom)
{
	k->off = headroom;
	k->len = 0;
	k->flags = 0;
	k->gso_size = 0;
	k->gso_segs = 0;
	k->peer_id = 0;
	k->csum_start = 0;
	k->csum_offset = 0;
	k->time_ns = 0;
	k->user = 0;
	k->local = (struct sn_addr){ 0 }; /* family SN_AF_NONE */
	return k;
}

/* A free packet with off = headroom, len = 0, no flags; NULL when empty. */
static inline struct sn_pkt *sn_pool_get(struct sn_pool *p)
{
	if (p->n_free == 0)
		return 0;
	return sn__pool_fresh(p->free[--p->n_free], p->headroom);
}

/* A free big packet, likewise; NULL when none is free (or there are none). */
static inline struct sn_pkt *sn_pool_get_big(struct sn_pool *p)
{
	if (p->n_big_free == 0)
		return 0;
	return sn__pool_fresh(p->big_free[--p->n_big_free], p->headroom);
}

/* Return a packet taken from this pool (either size). */
static inline void sn_pool_put(struct sn_pool *p, struct sn_pkt *k)
{
	if (k->cap > p->buf_size)
		p->big_free[p->n_big_free++] = k;
	else
		p->free[p->n_free++] = k;
}

#endif
