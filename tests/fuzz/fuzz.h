/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz.h: what every fuzz target shares. A target defines
 * LLVMFuzzerTestOneInput() and nothing else that the harness calls: the
 * same object links with libFuzzer (SN_FUZZ=ON, clang) or with driver.c
 * (any compiler, run by ctest).
 *
 * Targets set themselves up lazily on their first input (so neither
 * LLVMFuzzerInitialize nor a constructor is needed) and keep that state
 * for the life of the process; everything one input allocates is freed
 * before the call returns.
 */
#ifndef SN_FUZZ_H
#define SN_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant of the code under test: on failure say which and abort, so
 * libFuzzer and the driver both keep the input as a crash. */
#define FZ_CHECK(cond, ...)                                                              \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "%s:%d: invariant failed: %s: ", __FILE__, __LINE__, \
				#cond);                                                  \
			fprintf(stderr, __VA_ARGS__);                                    \
			fputc('\n', stderr);                                             \
			abort();                                                         \
		}                                                                        \
	} while (0)

/* A failure of the harness itself (missing file, plugin not built): not a
 * finding, so exit with a message rather than abort. */
#define FZ_SETUP(cond, ...)                                                              \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "fuzz setup: " __VA_ARGS__);                     \
			fputc('\n', stderr);                                             \
			exit(2);                                                         \
		}                                                                        \
	} while (0)

/* Manual ASan poisoning (no-ops without ASan), for memory ASan does not
 * manage itself, like the mmap()ed packet pool. */
#if defined(__SANITIZE_ADDRESS__)
#define FZ_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FZ_ASAN 1
#endif
#endif
#ifdef FZ_ASAN
#include <sanitizer/asan_interface.h>
#define FZ_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define FZ_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define FZ_POISON(p, n) ((void)(p), (void)(n))
#define FZ_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* Where the source tree and the built plugins are: the build's paths,
 * overridable with SN_FUZZ_SOURCE_DIR / SN_FUZZ_PLUGIN_DIR at run time. */
static inline const char *fz_source_dir(void)
{
	const char *e = getenv("SN_FUZZ_SOURCE_DIR");

	return e && *e ? e : SN_FUZZ_SOURCE_DIR;
}

static inline const char *fz_plugin_dir(void)
{
	const char *e = getenv("SN_FUZZ_PLUGIN_DIR");

	return e && *e ? e : SN_FUZZ_PLUGIN_DIR;
}

/* SN_FUZZ_VERBOSE=1: targets say what each input did (to check seeds). */
static inline int fz_verbose(void)
{
	static int v = -1;

	if (v < 0)
		v = getenv("SN_FUZZ_VERBOSE") && *getenv("SN_FUZZ_VERBOSE") == '1';
	return v;
}

/* Split an input into records of len (2 bytes, big-endian) + bytes (the
 * last cut at the input's end), at most max, each copied into a malloc()ed
 * buffer of exactly its size (reads past it are ASan's to find); returns
 * how many. fz_records_free() frees them. */
static inline uint32_t fz_records(const uint8_t *data, size_t size, uint8_t **rec, uint32_t *len,
				  uint32_t max)
{
	uint32_t n = 0;
	size_t at = 0;

	while (n < max && at + 2 <= size) {
		uint32_t l = (uint32_t)data[at] << 8 | data[at + 1];

		at += 2;
		if (l > size - at)
			l = (uint32_t)(size - at);
		rec[n] = malloc(l ? l : 1);
		FZ_SETUP(rec[n], "out of memory");
		memcpy(rec[n], data + at, l);
		len[n++] = l;
		at += l;
	}
	return n;
}

static inline void fz_records_free(uint8_t **rec, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		free(rec[i]);
}

/* fuzz_node.c: a node built by hand (no loop, no TUN, no socket) for the
 * control and receive-path targets. */
struct sn_node;
struct sn_config;

/* Read a whole file into a malloc()ed, NUL-terminated buffer; exits on error. */
char *fz_read_file(const char *path, size_t *len);
/* Fill n (zeroed by the caller) around cfg, which it takes: crypto plugin,
 * peers for our epoch, policy published, counters, pool. Exits on error. */
void fz_node_build(struct sn_node *n, struct sn_config *cfg, uint32_t epoch);
/* Undo fz_node_build (the pool, peers, policy, plugin, config). */
void fz_node_free(struct sn_node *n);

#endif
