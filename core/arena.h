/* SPDX-License-Identifier: MIT */
/*
 * core/arena.h: bump allocator for control-plane work (config, policy
 * rebuilds, control requests). An arena is freed as a whole; nothing in it
 * is freed one by one. The data plane never allocates.
 *
 * A secret arena (sn_arena_init_secret) holds keys: the config's private
 * key and PSKs, the peer registry's pair keys and key contexts. Its chunks
 * are mmap()ed of their own (never shared with malloc's heap), mlock()ed
 * so they do not reach swap, kept out of core dumps (MADV_DONTDUMP where
 * the system has it), and wiped with sodium_memzero() before they are
 * unlocked and unmapped, so no key stays behind in freed memory after a
 * reload or at exit.
 */
#ifndef SN_ARENA_H
#define SN_ARENA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sn_arena_chunk;

/* sn_arena.flags */
#define SN_ARENA_SECRET 0x1u
#define SN_ARENA_MAPPED 0x2u /* chunks mmap()ed (not locked, not wiped) */

struct sn_arena {
	struct sn_arena_chunk *head; /* newest chunk first */
	size_t chunk_size;           /* default size of a new chunk */
	size_t used;                 /* total bytes handed out (for status) */
	uint32_t flags;              /* SN_ARENA_* */
	uint32_t unlocked;           /* secret chunks mlock() refused (RLIMIT_MEMLOCK) */
};

/* Initialise an empty arena; chunk_size 0 picks 16 KiB. Allocates nothing yet. */
void sn_arena_init(struct sn_arena *a, size_t chunk_size);
/* An arena whose chunks are pages of their own (mmap), given back to the
 * system when it is freed: for a large short-lived arena made on a worker
 * thread (a reload's parse tree), whose malloc()ed chunks would stay in
 * that thread's malloc arena. */
void sn_arena_init_mapped(struct sn_arena *a, size_t chunk_size);
/* The same for an arena that will hold keys (see above). Locking is best
 * effort and silent: the caller asks sn_arena_locked() and warns once. */
void sn_arena_init_secret(struct sn_arena *a, size_t chunk_size);
/* Zeroed, 16-byte aligned memory valid until sn_arena_free; NULL when out of memory. */
void *sn_arena_alloc(struct sn_arena *a, size_t n);
/* Copy of s (NUL-terminated) in the arena; NULL when out of memory. */
char *sn_arena_strdup(struct sn_arena *a, const char *s);
/* Copy of the first n bytes of s plus a NUL. */
char *sn_arena_strndup(struct sn_arena *a, const char *s, size_t n);
/* printf into the arena. */
char *sn_arena_printf(struct sn_arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Release every chunk (a secret arena's wiped first); the arena can be
 * used again afterwards. */
void sn_arena_free(struct sn_arena *a);
/* False when a chunk of a secret arena could not be locked in memory (it is
 * used unlocked); true for every other arena. */
bool sn_arena_locked(const struct sn_arena *a);

/* Test hook, NULL unless a test sets it: called with each mapping of a
 * secret arena (len bytes, the chunk header included) after the wipe and
 * before munmap(), so a test can check that no key survived. */
extern void (*sn_arena_wiped_hook)(const void *mem, size_t len);

#endif
