/* SPDX-License-Identifier: MIT */
/*
 * core/timers.c: the node's timers (STYLE rule 26): the spokes' keepalives,
 * the once-a-second verification round (docs/protocol.md, "Endpoints, NAT
 * and keepalive" and "Verifying a peer"), and the once-a-second look for
 * the log (nodelog.h) with the drop summary every SN_DROPLOG_WINDOW_S
 * seconds (droplog.h). The reactor owns the handles; this file decides
 * when they fire and what they do.
 */
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
		struct sn_peer *p = &n->peers.v[i];
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

/* Challenges to unverified peers and a failed epoch move retried, every
 * SN_VERIFY_RETRY_MS until nothing is pending. */
static void on_verify(uv_timer_t *t)
{
	struct sn_node *n = t->data;

	if (!sn_verify_tick(n, uv_hrtime()))
		uv_timer_stop(t);
}

/* The log's look at the peers, and every SN_DROPLOG_WINDOW_S looks the
 * drop summary (at most SN_DROPLOG_TOP + 1 lines). */
static void on_logtick(uv_timer_t *t)
{
	struct sn_node *n = t->data;
	char lines[SN_DROPLOG_TOP + 1][SN_DROPLOG_LINE];
	uint32_t k;

	sn_nodelog_tick(n, uv_hrtime());
	if (++n->log.ticks % SN_DROPLOG_WINDOW_S)
		return;
	k = sn_droplog_flush(&n->drops, lines);
	for (uint32_t i = 0; i < k; i++)
		sn_log(&n->host, SN_LOG_WARN, "dropped: %s", lines[i]);
}

void sn__node_verify_start(struct sn_node *n)
{
	if (n->verify.loop && !uv_is_active((uv_handle_t *)&n->verify))
		uv_timer_start(&n->verify, on_verify, SN_VERIFY_RETRY_MS, SN_VERIFY_RETRY_MS);
}

void sn__node_timers_restart(struct sn_node *n)
{
	if (!n->verify.loop)
		return; /* the handles are not set up (tests): nothing runs by itself */
	sn_nodelog_sync(n, uv_hrtime());
	if (!uv_is_active((uv_handle_t *)&n->logtick))
		uv_timer_start(&n->logtick, on_logtick, 1000, 1000);
	uv_timer_stop(&n->keepalive);
	if (!n->is_hub && n->cfg->keepalive)
		uv_timer_start(&n->keepalive, on_keepalive, 0, 0);
	uv_timer_start(&n->verify, on_verify, 0, SN_VERIFY_RETRY_MS);
}
