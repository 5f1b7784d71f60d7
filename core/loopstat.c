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
 * `subnetra --json status` (docs/control.md). Off by default: it costs two
 * clock reads per iteration. bench/scale.sh and tests/e2e/scale.sh read it.
 */
#include <stdlib.h>
#include <string.h>

#include "node.h"

/* Iterations after a reload's commit still counted as the reload's (the
 * commit's own, which also frees the replaced policy tree). */
#define AFTER_COMMIT 2

static void on_prepare(uv_prepare_t *h)
{
	struct sn_node *n = h->data;
	struct sn_loopstat *ls = &n->lstat;
	uint64_t now = uv_hrtime(), idle = uv_metrics_idle_time(&n->loop), busy;

	if (ls->last_ns) {
		busy = now - ls->last_ns - (idle - ls->last_idle);
		if (busy > ls->busy_max_ns)
			ls->busy_max_ns = busy;
		if ((n->reload || ls->after) && busy > ls->reload_busy_max_ns)
			ls->reload_busy_max_ns = busy;
		if (!n->reload && ls->after)
			ls->after--;
		ls->iterations++;
	}
	ls->last_ns = now;
	ls->last_idle = idle;
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
	n->lstat.reload_busy_max_ns = 0;
	n->lstat.after = AFTER_COMMIT;
}
