/* SPDX-License-Identifier: MIT */
/*
 * core/arena.h: bump allocator for control-plane work (config, policy
 * rebuilds, control requests). An arena is freed as a whole; nothing in it
 * is freed one by one. The data plane never allocates.
 */
#ifndef SN_ARENA_H
#define SN_ARENA_H

#include <stddef.h>

struct sn_arena_chunk;

struct sn_arena {
	struct sn_arena_chunk *head; /* newest chunk first */
	size_t chunk_size;           /* default size of a new chunk */
	size_t used;                 /* total bytes handed out (for status) */
};

/* Initialise an empty arena; chunk_size 0 picks 16 KiB. Allocates nothing yet. */
void sn_arena_init(struct sn_arena *a, size_t chunk_size);
/* Zeroed, 16-byte aligned memory valid until sn_arena_free; NULL when out of memory. */
void *sn_arena_alloc(struct sn_arena *a, size_t n);
/* Copy of s (NUL-terminated) in the arena; NULL when out of memory. */
char *sn_arena_strdup(struct sn_arena *a, const char *s);
/* Copy of the first n bytes of s plus a NUL. */
char *sn_arena_strndup(struct sn_arena *a, const char *s, size_t n);
/* printf into the arena. */
char *sn_arena_printf(struct sn_arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Release every chunk; the arena can be used again afterwards. */
void sn_arena_free(struct sn_arena *a);

#endif
