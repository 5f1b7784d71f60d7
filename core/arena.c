/* SPDX-License-Identifier: MIT */
#include "arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sn_arena_chunk {
	struct sn_arena_chunk *next;
	size_t size; /* usable bytes in data */
	size_t pos;  /* next free byte */
	_Alignas(16) unsigned char data[];
};

void sn_arena_init(struct sn_arena *a, size_t chunk_size)
{
	a->head = NULL;
	a->chunk_size = chunk_size ? chunk_size : 16384;
	a->used = 0;
}

static struct sn_arena_chunk *grow(struct sn_arena *a, size_t n)
{
	size_t size = n > a->chunk_size ? n : a->chunk_size;
	struct sn_arena_chunk *c = malloc(sizeof(*c) + size);

	if (!c)
		return NULL;
	c->next = a->head;
	c->size = size;
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

void sn_arena_free(struct sn_arena *a)
{
	struct sn_arena_chunk *c = a->head, *next;

	for (; c; c = next) {
		next = c->next;
		free(c);
	}
	a->head = NULL;
	a->used = 0;
}
