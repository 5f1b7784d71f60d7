/* SPDX-License-Identifier: MIT */
/*
 * core/timers.c: the node's timers (STYLE rule 26): the spokes' keepalives,
 * the once-a-second verification round (docs/protocol.md, "Endpoints, NAT
 * and keepalive" and "Verifying a peer"), and the once-a-second look for
 * the log (nodelog.h) with the drop summary every SN_DROPLOG_WINDOW_S
 * seconds (droplog.h), and once a second the endpoint names' look
 * (resolve.h: lookups due, silent addresses moved on). The reactor owns
 * the handles; this file decides when they fire and what they do.
 */
#include "timers.h"

#include "node.h"

/* Until the hub is heard from (a data or keepalive datagram of it
 * accepted: it verified us), keepalives go every second: the one that
 * earns us the hub's challenge may have been lost. */
#define SN_KEEPALIVE_EAGER_NS 1000000000ull

/* A keepalive to every verified peer that has been sent nothing for
 * keepalive seconds (every second until it is heard), the timer rearmed
 * for exactly the next such moment. Peers that are not verified get
 * challenges instead (on_verify). */
static void on_keepalive(uv_timer_t *t)
{
	struct sn_node *n = t->data;
	uint64_t k = (uint64_t)n->cfg->keepalive * 1000000000ull, now = uv_hrtime(), next = k;

	if (!k)
		return;
	for (uint32_t i = 0; i < n->peers.n; i++) {
		struct sn_peer *p = n->peers.v[i];
		uint64_t last, every = p->s.heard || k < SN_KEEPALIVE_EAGER_NS ? k : SN_KEEPALIVE_EAGER_NS;

		if (p->s.state != SN_PEER_VERIFIED) {
			if (SN_KEEPALIVE_EAGER_NS < next)
				next = SN_KEEPALIVE_EAGER_NS; /* it may be verified by then */
			continue;
		}
		if (!p->s.last_tx_ns || now - p->s.last_tx_ns >= every)
			sn_dp_keepalive(n, p);
		last = p->s.last_tx_ns;
		if (last && last + every > now && last + every - now < next)
			next = last + every - now;
	}
	uv_timer_start(t, on_keepalive, (next + 999999) / 1000000, 0);
}

/* The round of challenges to unverified peers (and a failed epoch move
 * retried) visits every peer once each SN_VERIFY_RETRY_MS, in slices of
 * SN_VERIFY_SLICE peers spread over that time, never all in one callback
 * that would hold up packets. The first round after a start or a reload
 * goes at a slice per millisecond (a hub that restarts challenges its
 * 10,000 remembered spokes in 40 ms, with packets in between); later
 * rounds spread over the second. Stops after a round with nothing
 * pending. */
/* The time between two slices so that a round over every peer takes
 * SN_VERIFY_RETRY_MS (fast: one millisecond). */
static uint64_t period_ms(const struct sn_node *n, bool fast)
{
	uint32_t slices = (n->peers.n + SN_VERIFY_SLICE - 1) / SN_VERIFY_SLICE;
	uint64_t ms = SN_VERIFY_RETRY_MS / (slices ? slices : 1);

	return ms && !fast ? ms : 1;
}

static uint64_t slice_ms(const struct sn_node *n)
{
	return period_ms(n, n->verify_first);
}

static void on_verify(uv_timer_t *t)
{
	struct sn_node *n = t->data;
	uint32_t from = n->verify_cursor < n->peers.n ? n->verify_cursor : 0, count;

	count = n->peers.n - from < SN_VERIFY_SLICE ? n->peers.n - from : SN_VERIFY_SLICE;
	n->verify_pending |= sn_verify_round(n, uv_hrtime(), from, count);
	n->verify_cursor = from + count;
	if (n->verify_cursor >= n->peers.n) {
		n->verify_cursor = 0;
		n->verify_first = false;
		if (!n->verify_pending)
			return; /* a whole round with nothing to do: the timer rests */
		n->verify_pending = false;
	}
	uv_timer_start(t, on_verify, slice_ms(n), 0);
}

/* The log's look at the peers, and every SN_DROPLOG_WINDOW_S looks the
 * drop summary (at most SN_DROPLOG_TOP + 1 lines). */
static void drop_summary(struct sn_node *n)
{
	char lines[SN_DROPLOG_TOP + 1][SN_DROPLOG_LINE];
	uint32_t k = sn_droplog_flush(&n->drops, lines);

	for (uint32_t i = 0; i < k; i++)
		sn_log(&n->host, SN_LOG_WARN, "dropped: %s", lines[i]);
}

/* The look runs in slices of SN_VERIFY_SLICE peers like the verification
 * round, a whole look once a second. */
static void on_logtick(uv_timer_t *t)
{
	struct sn_node *n = t->data;
	uint32_t from = n->log.cursor < n->peers.n ? n->log.cursor : 0, count;

	count = n->peers.n - from < SN_VERIFY_SLICE ? n->peers.n - from : SN_VERIFY_SLICE;
	sn_nodelog_look(n, uv_hrtime(), from, count);
	n->log.cursor = from + count;
	if (n->log.cursor >= n->peers.n) {
		n->log.cursor = 0;
		if (++n->log.ticks % SN_DROPLOG_WINDOW_S == 0)
			drop_summary(n);
	}
	uv_timer_start(t, on_logtick, period_ms(n, false), 0);
}

/* Endpoint names (resolve.c): a look once a second while there are any. */
static void on_resolve(uv_timer_t *t)
{
	struct sn_node *n = t->data;

	sn_resolve_tick(n, uv_hrtime());
}

static void resolve_restart(struct sn_node *n)
{
	sn_resolve_sync(n, uv_hrtime());
	uv_timer_stop(&n->resolve);
	if (n->resolver.n)
		uv_timer_start(&n->resolve, on_resolve, 0, 1000);
}

void sn_timers_verify_start(struct sn_node *n)
{
	if (n->verify.loop && !uv_is_active((uv_handle_t *)&n->verify))
		uv_timer_start(&n->verify, on_verify, slice_ms(n), 0);
}

void sn_timers_restart(struct sn_node *n)
{
	if (!n->verify.loop)
		return; /* the handles are not set up (tests): nothing runs by itself */
	sn_nodelog_sync(n, uv_hrtime());
	if (!uv_is_active((uv_handle_t *)&n->logtick))
		uv_timer_start(&n->logtick, on_logtick, period_ms(n, false), 0);
	uv_timer_stop(&n->keepalive);
	if (!n->is_hub && n->cfg->keepalive)
		uv_timer_start(&n->keepalive, on_keepalive, 0, 0);
	n->verify_cursor = 0;
	n->verify_pending = false;
	n->verify_first = true;
	uv_timer_start(&n->verify, on_verify, 0, 0);
	resolve_restart(n);
}
