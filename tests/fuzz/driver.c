/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/driver.c: runs a libFuzzer-style target without libFuzzer, so
 * the targets build with any compiler and run under ctest.
 *
 *   fuzz_<target>                 every seed of the target's corpus, then
 *                                 deterministic mutations for a bounded time
 *   fuzz_<target> PATH...         only these files (or every file in these
 *                                 directories): reproduce a crash
 *
 * Environment:
 *   SN_FUZZ_SECONDS     time for mutations (default 3; 0 = seeds only)
 *   SN_FUZZ_ITERATIONS  most mutated inputs (default 20000)
 *   SN_FUZZ_SEED        seed of the pseudo-random generator (default 1)
 *   SN_FUZZ_MAX_LEN     longest mutated input (default: twice the longest
 *                       seed, at least 1024)
 *   SN_FUZZ_CORPUS      seed directory (default: the source tree's
 *                       tests/fuzz/corpus/<target>)
 *   SN_FUZZ_DICT        dictionary file, libFuzzer format (default
 *                       tests/fuzz/dict/<target>.dict when it exists)
 *   SN_FUZZ_ARTIFACTS   where crash inputs are written (default: .)
 *   SN_FUZZ_TIMEOUT     seconds one input may take (default 10)
 *
 * There is no coverage feedback: mutations start from a seed each time, a
 * few stacked (bit flips, interesting values, inserts, deletes, copies,
 * splices of two seeds, dictionary words). When an input crashes, fails an
 * invariant (abort()), trips a sanitizer or hangs, it is written to
 * crash-<target>-<hash> before the process dies; run the target on that
 * file to reproduce.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"

#ifndef SN_FUZZ_TARGET
#define SN_FUZZ_TARGET "target"
#endif
#ifndef SN_FUZZ_CORPUS_DIR
#define SN_FUZZ_CORPUS_DIR ""
#endif
#ifndef SN_FUZZ_DICT_FILE
#define SN_FUZZ_DICT_FILE ""
#endif

/* Provided by ASan/UBSan runtimes when linked in; NULL otherwise. */
void __sanitizer_set_death_callback(void (*cb)(void)) __attribute__((weak));

struct blob {
	uint8_t *p;
	size_t n;
	bool text; /* mostly printable: mutate with printable bytes */
};

struct list {
	struct blob *v;
	size_t n, cap;
};

/* ---- crash artifacts ----------------------------------------------------- */

/* The input being run, for the crash handlers (set before each call). */
static const uint8_t *cur_data;
static size_t cur_size;
static char artifact_dir[1024] = ".";
static volatile sig_atomic_t dumped;

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

/* Async-signal-safe: only open/write/close and hand-made formatting. */
static void dump_input(void)
{
	static const char hex[] = "0123456789abcdef";
	char path[1200], msg[1300];
	uint64_t h;
	size_t k = 0, d;
	int fd;

	if (dumped || !cur_data)
		return;
	dumped = 1;
	h = fnv1a(cur_data, cur_size);
	for (d = 0; artifact_dir[d] && k < 1024; d++)
		path[k++] = artifact_dir[d];
	memcpy(path + k, "/crash-" SN_FUZZ_TARGET "-", sizeof("/crash-" SN_FUZZ_TARGET "-") - 1);
	k += sizeof("/crash-" SN_FUZZ_TARGET "-") - 1;
	for (int i = 60; i >= 0; i -= 4)
		path[k++] = hex[(h >> i) & 15];
	path[k] = '\0';
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		size_t off = 0;

		while (off < cur_size) {
			ssize_t w = write(fd, cur_data + off, cur_size - off);

			if (w <= 0)
				break;
			off += (size_t)w;
		}
		close(fd);
	}
	k = 0;
	memcpy(msg, "fuzz driver: input written to ", 30);
	k = 30;
	for (d = 0; path[d]; d++)
		msg[k++] = path[d];
	msg[k++] = '\n';
	if (write(2, msg, k) < 0)
		return;
}

static void on_fatal(int sig)
{
	dump_input();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void on_alarm(int sig)
{
	static const char m[] = "fuzz driver: input timed out\n";

	(void)sig;
	if (write(2, m, sizeof(m) - 1) < 0)
		(void)0;
	dump_input();
	signal(SIGABRT, SIG_DFL);
	abort();
}

static void install_handlers(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], on_fatal);
	signal(SIGALRM, on_alarm);
	if (__sanitizer_set_death_callback)
		__sanitizer_set_death_callback(dump_input);
}

/* ---- inputs -------------------------------------------------------------- */

static void list_add(struct list *l, uint8_t *p, size_t n)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (!l->v) {
			fprintf(stderr, "fuzz driver: out of memory\n");
			exit(2);
		}
	}
	l->v[l->n].p = p;
	l->v[l->n++].n = n;
}

static bool read_blob(const char *path, struct list *l)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0, got;

	if (!f)
		return false;
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			buf = realloc(buf, cap);
			if (!buf) {
				fclose(f);
				return false;
			}
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	fclose(f);
	list_add(l, buf, n);
	return true;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file in dir (not recursive), in name order so runs repeat. */
static bool read_dir(const char *dir, struct list *l)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (!d) {
		fprintf(stderr, "fuzz driver: cannot open %s: %s\n", dir, strerror(errno));
		return false;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			names = realloc(names, cap * sizeof(*names));
		}
		if (!names)
			break;
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	if (names)
		qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && !read_blob(path, l))
			fprintf(stderr, "fuzz driver: cannot read %s\n", path);
		free(names[i]);
	}
	free(names);
	return true;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* libFuzzer dictionary: lines name="value" or "value", # comments, with
 * \\, \" and \xNN escapes. */
static void read_dict(const char *path, struct list *l)
{
	FILE *f = fopen(path, "r");
	char line[4096];

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *q = strchr(line, '"'), *e;
		uint8_t *tok;
		size_t n = 0;

		if (line[strspn(line, " \t")] == '#' || !q)
			continue;
		e = strrchr(line, '"');
		if (e == q)
			continue;
		tok = malloc((size_t)(e - q) + 1);
		if (!tok)
			break;
		for (char *s = q + 1; s < e; s++) {
			if (*s == '\\' && s + 1 < e && s[1] == 'x' && s + 3 < e &&
			    hexval(s[2]) >= 0 && hexval(s[3]) >= 0) {
				tok[n++] = (uint8_t)(hexval(s[2]) << 4 | hexval(s[3]));
				s += 3;
			} else if (*s == '\\' && s + 1 < e) {
				tok[n++] = (uint8_t)*++s;
			} else {
				tok[n++] = (uint8_t)*s;
			}
		}
		if (n)
			list_add(l, tok, n);
		else
			free(tok);
	}
	fclose(f);
}

/* ---- running ------------------------------------------------------------- */

static unsigned timeout_s = 10;

/* Run one input from an exact-size heap copy, so that reading one byte past
 * its end is an ASan error, as under libFuzzer. */
static void run_one(const uint8_t *p, size_t n)
{
	uint8_t *copy = malloc(n ? n : 1);

	if (!copy) {
		fprintf(stderr, "fuzz driver: out of memory\n");
		exit(2);
	}
	if (n)
		memcpy(copy, p, n);
	cur_data = copy;
	cur_size = n;
	if (timeout_s)
		alarm(timeout_s);
	LLVMFuzzerTestOneInput(copy, n);
	if (timeout_s)
		alarm(0);
	cur_data = NULL;
	free(copy);
}

/* ---- mutations ----------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static size_t below(size_t n)
{
	return n ? (size_t)(rnd() % n) : 0;
}

/* Text targets (config, control lines, prefixes) get mostly printable
 * random bytes: a control character ends most of their paths early. */
static bool text_mode;

static uint8_t rbyte(void)
{
	static const char extra[] = " \t\n:;/.,-\"'[]{}#";

	if (!text_mode || below(10) == 0)
		return (uint8_t)rnd();
	if (below(4) == 0)
		return (uint8_t)extra[below(sizeof(extra) - 1)];
	return (uint8_t)(0x21 + below(0x7e - 0x21 + 1));
}

static bool is_text(const uint8_t *p, size_t n)
{
	size_t bad = 0;

	for (size_t i = 0; i < n; i++)
		bad += (p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r') || p[i] > 0x7e;
	return bad * 20 <= n;
}

static const uint32_t interesting[] = {
	0, 1, 2, 4, 8, 15, 16, 19, 20, 21, 31, 32, 33, 35, 36, 37, 63, 64, 100, 127, 128, 255, 256,
	512, 576, 1000, 1024, 1420, 1500, 4096, 9000, 32767, 32768, 65535, 65536, 0x7fffffff,
	0x80000000u, 0xfffffffeu, 0xffffffffu,
};

static void put_value(uint8_t *b, size_t n, size_t at, uint32_t v)
{
	size_t w = (size_t)1 << below(3); /* 1, 2 or 4 bytes */
	bool be = rnd() & 1;

	if (at + w > n)
		w = n - at;
	for (size_t i = 0; i < w; i++)
		b[at + i] = (uint8_t)(be ? v >> (8 * (w - 1 - i)) : v >> (8 * i));
}

/* Make room for k bytes at at (n + k <= max checked by the caller). */
static void open_gap(uint8_t *b, size_t n, size_t at, size_t k)
{
	size_t tail = n > at ? n - at : 0;

	/* byte by byte from the end: gcc cannot prove at <= n for memmove */
	while (tail--)
		b[at + k + tail] = b[at + tail];
}

/* One mutation of b (n bytes, room for max); the new length. */
static size_t mutate_once(uint8_t *b, size_t n, size_t max, const struct list *seeds,
			  const struct list *dict)
{
	size_t at, k;

	switch (below(12)) {
	case 0: /* flip a bit */
		if (n)
			b[below(n)] ^= (uint8_t)(1u << below(8));
		return n;
	case 1: /* a random byte */
		if (n)
			b[below(n)] = rbyte();
		return n;
	case 2: /* an interesting value */
		if (n)
			put_value(b, n, below(n),
				  interesting[below(sizeof(interesting) / sizeof(interesting[0]))]);
		return n;
	case 3: /* add or subtract a little */
		if (n)
			b[below(n)] += (uint8_t)(below(35) - 17);
		return n;
	case 4: /* insert random bytes */
		k = 1 + below(8);
		if (n + k > max)
			return n;
		at = below(n + 1);
		open_gap(b, n, at, k);
		for (size_t i = 0; i < k; i++)
			b[at + i] = rbyte();
		return n + k;
	case 5: /* insert a run of one byte */
		k = 1 + below(64);
		if (n + k > max)
			return n;
		at = below(n + 1);
		open_gap(b, n, at, k);
		memset(b + at, n ? b[below(n)] : rbyte(), k);
		return n + k;
	case 6: /* delete a range */
		if (!n)
			return n;
		at = below(n);
		k = 1 + below(n - at < 32 ? n - at : 32);
		memmove(b + at, b + at + k, n - at - k);
		return n - k;
	case 7: /* copy a range over another place */
		if (n < 2)
			return n;
		at = below(n);
		k = 1 + below(n - at);
		memmove(b + below(n - k + 1), b + at, k);
		return n;
	case 8: /* insert a piece of another seed */
	case 9: /* or cut here and continue with another seed */
		if (seeds->n) {
			const struct blob *o = &seeds->v[below(seeds->n)];
			size_t from = below(o->n + 1), len = below(o->n - from + 1);

			at = below(n + 1);
			if (at + len > max)
				len = max - at;
			if (rnd() & 1) { /* splice: our head, its tail */
				memcpy(b + at, o->p + from, len);
				return at + len;
			}
			if (n + len > max)
				return n;
			open_gap(b, n, at, len);
			memcpy(b + at, o->p + from, len);
			return n + len;
		}
		return n;
	case 10: /* insert a dictionary word */
	case 11: /* or write it over the bytes there */
		if (dict->n) {
			const struct blob *w = &dict->v[below(dict->n)];

			at = below(n + 1);
			if (at + w->n > max)
				return n;
			if (below(2) && at + w->n <= n) {
				memcpy(b + at, w->p, w->n);
				return n;
			}
			if (n + w->n > max)
				return n;
			open_gap(b, n, at, w->n);
			memcpy(b + at, w->p, w->n);
			return n + w->n;
		}
		return n;
	}
	return n;
}

static unsigned long env_num(const char *name, unsigned long def)
{
	const char *e = getenv(name);
	char *end;
	unsigned long v;

	if (!e || !*e)
		return def;
	v = strtoul(e, &end, 10);
	return *end ? def : v;
}

static const char *env_str(const char *name, const char *def)
{
	const char *e = getenv(name);

	return e && *e ? e : def;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Only the files given: reproduce. */
static int run_paths(int argc, char **argv)
{
	struct list l = { 0 };

	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			read_dir(argv[i], &l);
		else if (!read_blob(argv[i], &l))
			fprintf(stderr, "fuzz driver: cannot read %s\n", argv[i]);
	}
	for (size_t i = 0; i < l.n; i++) {
		run_one(l.v[i].p, l.v[i].n);
		free(l.v[i].p);
	}
	fprintf(stderr, "fuzz_%s: %zu inputs ran\n", SN_FUZZ_TARGET, l.n);
	free(l.v);
	return 0;
}

int main(int argc, char **argv)
{
	struct list seeds = { 0 }, dict = { 0 };
	unsigned long secs = env_num("SN_FUZZ_SECONDS", 3);
	unsigned long iters = env_num("SN_FUZZ_ITERATIONS", 20000);
	unsigned long seed = env_num("SN_FUZZ_SEED", 1);
	size_t max_len = env_num("SN_FUZZ_MAX_LEN", 0), longest = 0, n_text = 0;
	unsigned long done = 0;
	double t0, t_end;
	uint8_t *buf;

	timeout_s = (unsigned)env_num("SN_FUZZ_TIMEOUT", 10);
	snprintf(artifact_dir, sizeof(artifact_dir), "%s", env_str("SN_FUZZ_ARTIFACTS", "."));
	install_handlers();
	if (argc > 1)
		return run_paths(argc, argv);

	/* A missing corpus is a broken setup, not a pass. */
	if (!read_dir(env_str("SN_FUZZ_CORPUS", SN_FUZZ_CORPUS_DIR), &seeds))
		return 2;
	read_dict(env_str("SN_FUZZ_DICT", SN_FUZZ_DICT_FILE), &dict);
	t0 = now_s();
	/* Every seed as it is, and an empty input. */
	run_one(NULL, 0);
	for (size_t i = 0; i < seeds.n; i++) {
		run_one(seeds.v[i].p, seeds.v[i].n);
		if (seeds.v[i].n > longest)
			longest = seeds.v[i].n;
		seeds.v[i].text = is_text(seeds.v[i].p, seeds.v[i].n);
		n_text += seeds.v[i].text;
	}
	if (!max_len)
		max_len = longest * 2 > 1024 ? longest * 2 : 1024;
	buf = malloc(max_len);
	if (!buf) {
		fprintf(stderr, "fuzz driver: out of memory\n");
		return 2;
	}
	rng_state = seed * 0x9E3779B97F4A7C15ull + 1;
	t_end = t0 + (double)secs;
	while (secs && done < iters && (done % 64 || now_s() < t_end)) {
		size_t n = 0, rounds = 1;

		/* mostly one or two mutations, sometimes up to 16 */
		while (rounds < 16 && below(2))
			rounds *= 2;

		if (seeds.n && below(16)) {
			const struct blob *s = &seeds.v[below(seeds.n)];

			n = s->n < max_len ? s->n : max_len;
			memcpy(buf, s->p, n);
			text_mode = s->text;
		} else { /* now and then, random bytes */
			text_mode = n_text * 2 > seeds.n;
			n = below(max_len < 256 ? max_len : 256);
			for (size_t i = 0; i < n; i++)
				buf[i] = rbyte();
		}
		for (size_t r = 0; r < rounds; r++)
			n = mutate_once(buf, n, max_len, &seeds, &dict);
		run_one(buf, n);
		done++;
	}
	fprintf(stderr, "fuzz_%s: %zu seeds (%zu text), %zu dictionary words, %lu mutated "
		"inputs (max %zu bytes) in %.1f s, seed %lu: no failure\n",
		SN_FUZZ_TARGET, seeds.n, n_text, dict.n, done, max_len, now_s() - t0, seed);
	for (size_t i = 0; i < seeds.n; i++)
		free(seeds.v[i].p);
	for (size_t i = 0; i < dict.n; i++)
		free(dict.v[i].p);
	free(seeds.v);
	free(dict.v);
	free(buf);
	return 0;
}
