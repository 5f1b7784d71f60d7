/* SPDX-License-Identifier: MIT */
#include "arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sodium.h>

struct sn_arena_chunk {
	struct sn_arena_chunk *next;
	size_t size;   /* usable bytes in data */
	size_t pos;    /* next free byte */
	size_t mapped; /* secret: bytes mmap()ed (header included); 0 = malloc()ed */
	bool locked;   /* secret: mlock() succeeded */
	_Alignas(16) unsigned char data[];
};

void (*sn_arena_wiped_hook)(const void *mem, size_t len);

void sn_arena_init(struct sn_arena *a, size_t chunk_size)
{
	a->head = NULL;
	a->chunk_size = chunk_size ? chunk_size : 16384;
	a->used = 0;
	a->flags = 0;
	a->unlocked = 0;
}

void sn_arena_init_mapped(struct sn_arena *a, size_t chunk_size)
{
	sn_arena_init(a, chunk_size);
	a->flags = SN_ARENA_MAPPED;
}

void sn_arena_init_secret(struct sn_arena *a, size_t chunk_size)
{
	sn_arena_init(a, chunk_size);
	a->flags = SN_ARENA_SECRET;
}

/* A chunk of its own pages; a secret arena's are locked and out of core
 * dumps. */
static struct sn_arena_chunk *map_chunk(struct sn_arena *a, size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), len;
	struct sn_arena_chunk *c;

	if (size > SIZE_MAX - sizeof(*c) - page)
		return NULL;
	len = (sizeof(*c) + size + page - 1) / page * page;
	c = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (c == MAP_FAILED)
		return NULL;
	c->locked = false;
	c->mapped = len;
	c->size = len - sizeof(*c);
	if (!(a->flags & SN_ARENA_SECRET))
		return c;
#ifdef MADV_DONTDUMP
	madvise(c, len, MADV_DONTDUMP);
#endif
	c->locked = mlock(c, len) == 0;
	if (!c->locked)
		a->unlocked++;
	c->size = len - sizeof(*c);
	return c;
}

static struct sn_arena_chunk *grow(struct sn_arena *a, size_t n)
{
	size_t size = n > a->chunk_size ? n : a->chunk_size;
	struct sn_arena_chunk *c;

	if (a->flags & (SN_ARENA_SECRET | SN_ARENA_MAPPED)) {
		c = map_chunk(a, size);
	} else {
		if (size > SIZE_MAX - sizeof(*c))
			return NULL;
		c = malloc(sizeof(*c) + size);
		if (c) {
			c->mapped = 0;
			c->locked = false;
			c->size = size;
		}
	}
	if (!c)
		return NULL;
	c->next = a->head;
	c->pos = 0;
	a->head = c;
	return c;
}

void *sn_arena_alloc(struct sn_arena *a, size_t n)
{
	struct sn_arena_chunk *c = a->head;
	size_t need = (n + 15) & ~(size_t)15;
	void *p;

	if (need < n)
		return NULL;
	if (!c || c->size - c->pos < need) {
		c = grow(a, need);
		if (!c)
			return NULL;
	}
	p = c->data + c->pos;
	c->pos += need;
	a->used += need;
	memset(p, 0, n);
	return p;
}

char *sn_arena_strndup(struct sn_arena *a, const char *s, size_t n)
{
	char *d = sn_arena_alloc(a, n + 1);

	if (d)
		memcpy(d, s, n);
	return d;
}

char *sn_arena_strdup(struct sn_arena *a, const char *s)
{
	return sn_arena_strndup(a, s, strlen(s));
}

char *sn_arena_printf(struct sn_arena *a, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *d;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	d = sn_arena_alloc(a, (size_t)n + 1);
	if (!d)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(d, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return d;
}

/* A secret chunk's whole mapping, header too, is wiped before it goes back. */
static void unmap_chunk(struct sn_arena_chunk *c, bool secret)
{
	size_t len = c->mapped;
	bool locked = c->locked;

	if (secret) {
		sodium_memzero(c, len);
		if (sn_arena_wiped_hook)
			sn_arena_wiped_hook(c, len);
	}
	if (locked)
		munlock(c, len);
	munmap(c, len);
}

void sn_arena_free(struct sn_arena *a)
{
	struct sn_arena_chunk *c = a->head, *next;

	for (; c; c = next) {
		next = c->next;
		if (c->mapped)
			unmap_chunk(c, a->flags & SN_ARENA_SECRET);
		else
			free(c);
	}
	a->head = NULL;
	a->used = 0;
	a->unlocked = 0;
}

bool sn_arena_locked(const struct sn_arena *a)
{
	return a->unlocked == 0;
}
