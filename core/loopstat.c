/* SPDX-License-Identifier: MIT */
/*
 * core/loopstat.c: how long the loop goes without looking at its sockets.
 *
 * The node has one packet thread: while a callback runs, nothing is
 * forwarded. With SUBNETRA_LOOP_STATS=1 in the environment the daemon
 * measures, for every loop iteration, the time it spent outside the
 * kernel's poll (libuv's idle-time metric, UV_METRICS_IDLE_TIME): the
 * longest such stretch since start, and the longest during the last
 * reload (from its start to one iteration after its commit), reported by
 * `subnetra --json status` (docs/control.md); both in wall-clock time and
 * in the packet thread's own CPU time (the difference is time the
 * scheduler gave to something else). Off by default: it costs three clock
 * reads per iteration, one of them a system call. bench/scale.sh and tests/e2e/scale.sh read it.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node.h"

/* Iterations after a reload's commit still counted as the reload's (the
 * commit's own, which also frees the replaced policy tree). */
#define AFTER_COMMIT 2

/* The packet thread's own CPU time: an iteration that took long because
 * the scheduler ran something else meanwhile shows in the wall-clock
 * figure, not in this one. */
static uint64_t thread_cpu_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void keep_max(uint64_t *max, uint64_t v)
{
	if (v > *max)
		*max = v;
}

static void on_prepare(uv_prepare_t *h)
{
	struct sn_node *n = h->data;
	struct sn_loopstat *ls = &n->lstat;
	uint64_t now = uv_hrtime(), idle = uv_metrics_idle_time(&n->loop), cpu = thread_cpu_ns();
	uint64_t busy = now - ls->last_ns - (idle - ls->last_idle), used = cpu - ls->last_cpu;
	bool in_reload = n->reload || ls->after;

	if (ls->last_ns) {
		keep_max(&ls->busy_max_ns, busy);
		keep_max(&ls->cpu_max_ns, used);
		if (in_reload) {
			keep_max(&ls->reload_busy_max_ns, busy);
			keep_max(&ls->reload_cpu_max_ns, used);
		}
		if (!n->reload && ls->after)
			ls->after--;
		ls->iterations++;
	}
	ls->last_ns = now;
	ls->last_idle = idle;
	ls->last_cpu = cpu;
}

int sn__loopstat_start(struct sn_node *n)
{
	const char *e = getenv("SUBNETRA_LOOP_STATS");
	int r;

	if (!e || strcmp(e, "1"))
		return 0;
	if ((r = uv_loop_configure(&n->loop, UV_METRICS_IDLE_TIME)) < 0 ||
	    (r = uv_prepare_init(&n->loop, &n->lstat.prep)) < 0)
		return r;
	n->lstat.prep.data = n;
	n->lstat.on = true;
	return uv_prepare_start(&n->lstat.prep, on_prepare);
}

void sn__loopstat_reload_started(struct sn_node *n)
{
	n->lstat.reload_busy_max_ns = n->lstat.reload_cpu_max_ns = 0;
	n->lstat.after = AFTER_COMMIT;
}
