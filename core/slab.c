/* SPDX-License-Identifier: MIT */
#include "slab.h"

#include <errno.h>
#include <string.h>

#include <sodium.h>

int sn_slab_init(struct sn_slab *s, size_t size, uint32_t per_chunk)
{
	memset(s, 0, sizeof(*s));
	if (!size || size > (1u << 20))
		return -EINVAL;
	s->size = (size + 15) & ~(size_t)15;
	s->per_chunk = per_chunk ? per_chunk : (uint32_t)((65536 - 64) / s->size);
	if (!s->per_chunk)
		s->per_chunk = 1;
	sn_arena_init_secret(&s->arena, s->size * s->per_chunk);
	return uv_mutex_init(&s->lock);
}

/* Carve per_chunk objects out of one arena chunk onto the free list. */
static int refill(struct sn_slab *s)
{
	unsigned char *c = sn_arena_alloc(&s->arena, s->size * s->per_chunk);

	if (!c)
		return -ENOMEM;
	for (uint32_t i = s->per_chunk; i-- > 0;) {
		*(void **)(c + i * s->size) = s->free;
		s->free = c + i * s->size;
	}
	return 0;
}

void *sn_slab_get(struct sn_slab *s)
{
	void *o = NULL;

	uv_mutex_lock(&s->lock);
	if (s->free || refill(s) == 0) {
		o = s->free;
		s->free = *(void **)o;
		memset(o, 0, sizeof(void *)); /* the rest is zero: wiped on put, fresh from the arena */
		s->live++;
	}
	uv_mutex_unlock(&s->lock);
	return o;
}

void sn_slab_put(struct sn_slab *s, void *o)
{
	if (!o)
		return;
	sodium_memzero(o, s->size);
	uv_mutex_lock(&s->lock);
	*(void **)o = s->free;
	s->free = o;
	s->live--;
	uv_mutex_unlock(&s->lock);
}

size_t sn_slab_bytes(struct sn_slab *s)
{
	size_t v;

	uv_mutex_lock(&s->lock);
	v = s->arena.used;
	uv_mutex_unlock(&s->lock);
	return v;
}

void sn_slab_destroy(struct sn_slab *s)
{
	if (!s->size)
		return;
	sn_arena_free(&s->arena);
	uv_mutex_destroy(&s->lock);
	memset(s, 0, sizeof(*s));
}
