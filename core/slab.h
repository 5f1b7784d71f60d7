/* SPDX-License-Identifier: MIT */
/*
 * core/slab.h: fixed-size objects that hold keys (the peers, core/peer.h),
 * each allocated and freed on its own, so that a peer object can outlive
 * the registry that made it: a reload shares unchanged peers between the
 * old and the new registry instead of copying them (core/reload.c).
 *
 * Objects live in the chunks of a secret arena (core/arena.h: mlock()ed,
 * out of core dumps, wiped before unmapping); a freed object is wiped at
 * once and kept for the next allocation. Chunks are given back only by
 * sn_slab_destroy(). Allocation and freeing take a mutex: a reload's
 * worker thread allocates while another one frees the peers of the
 * previous reload. Control path only; the data path never allocates.
 */
#ifndef SN_SLAB_H
#define SN_SLAB_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "arena.h"

struct sn_slab {
	uv_mutex_t lock;
	struct sn_arena arena; /* secret: the chunks */
	size_t size;           /* bytes per object, a multiple of 16 */
	uint32_t per_chunk;    /* objects carved from the arena at a time */
	void *free;            /* freed objects, linked through their first bytes */
	uint64_t live;         /* objects handed out and not freed */
};

/* Objects of size bytes (rounded up to 16), per_chunk at a time (0: as
 * many as fit in 64 KiB). 0 or -errno. */
int sn_slab_init(struct sn_slab *s, size_t size, uint32_t per_chunk);
/* A zeroed, 16-byte aligned object; NULL when out of memory. */
void *sn_slab_get(struct sn_slab *s);
/* Wipe obj and keep it for reuse (NULL is ignored); its first bytes then
 * hold the free list's link, nothing of what it held. */
void sn_slab_put(struct sn_slab *s, void *obj);
/* Bytes the slab holds (its chunks), for status and measurements. */
size_t sn_slab_bytes(struct sn_slab *s);
/* Give every chunk back (wiped); every object must have been put back or
 * be abandoned with it. */
void sn_slab_destroy(struct sn_slab *s);

#endif
