/* SPDX-License-Identifier: MIT */
/*
 * malloc_count.so: an LD_PRELOAD shim that counts every call to the heap
 * allocator in a process (malloc, calloc, realloc, free, posix_memalign,
 * aligned_alloc). On SIGUSR2 it writes "malloc=N calloc=N realloc=N free=N
 * memalign=N" to the file named by $SN_MALLOC_COUNT_FILE, using only
 * async-signal-safe calls. The zero-allocation test reads it before and
 * after pushing traffic through a node.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static atomic_ulong n_malloc, n_calloc, n_realloc, n_free, n_memalign;

/* glibc's own entry points, so no dlsym (which may itself allocate). */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

__attribute__((visibility("default"))) void *malloc(size_t n)
{
	n_malloc++;
	return __libc_malloc(n);
}

__attribute__((visibility("default"))) void *calloc(size_t a, size_t b)
{
	n_calloc++;
	return __libc_calloc(a, b);
}

__attribute__((visibility("default"))) void *realloc(void *p, size_t n)
{
	n_realloc++;
	return __libc_realloc(p, n);
}

__attribute__((visibility("default"))) void free(void *p)
{
	if (p)
		n_free++;
	__libc_free(p);
}

__attribute__((visibility("default"))) int posix_memalign(void **out, size_t align, size_t n)
{
	void *p;

	n_memalign++;
	p = __libc_memalign(align, n);
	if (!p)
		return 12; /* ENOMEM */
	*out = p;
	return 0;
}

__attribute__((visibility("default"))) void *aligned_alloc(size_t align, size_t n)
{
	n_memalign++;
	return __libc_memalign(align, n);
}

static char *put(char *p, const char *s, unsigned long v)
{
	char d[24];
	int k = 0;

	while (*s)
		*p++ = *s++;
	do
		d[k++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (k)
		*p++ = d[--k];
	*p++ = ' ';
	return p;
}

static void report(int sig)
{
	const char *path = getenv("SN_MALLOC_COUNT_FILE");
	char buf[256], *p = buf;
	int fd;

	(void)sig;
	if (!path)
		return;
	p = put(p, "malloc=", n_malloc);
	p = put(p, "calloc=", n_calloc);
	p = put(p, "realloc=", n_realloc);
	p = put(p, "free=", n_free);
	p = put(p, "memalign=", n_memalign);
	p[-1] = '\n';
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		ssize_t w = write(fd, buf, (size_t)(p - buf));

		(void)w;
		close(fd);
	}
}

__attribute__((constructor)) static void init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = report;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR2, &sa, NULL);
}
