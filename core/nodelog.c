/* SPDX-License-Identifier: MIT */
/*
 * core/nodelog.c: the operator's log lines about a running node
 * (core/nodelog.h): reloads, policy changes, and the peer events found by
 * the once-a-second look at every peer's session.
 */
#include "nodelog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "node.h"

/* ---- reloads and policy -------------------------------------------------- */

static unsigned long long active_version(const struct sn_node *n)
{
	const struct sn_policy *t = sn_policy_active(&n->policy);

	return t ? (unsigned long long)sn_policy_version(t) : 0;
}

void sn_nodelog_reload(struct sn_node *n, const char *who, int rc, const char *err)
{
	if (rc < 0)
		sn_log(&n->host, SN_LOG_ERROR, "reload (%s) refused, running state unchanged: %s",
		       who, err && *err ? err : "failed");
	else
		sn_log(&n->host, SN_LOG_INFO, "reload (%s) applied: %s, policy version %llu, "
		       "%u peer(s)", who, n->cfg->path, active_version(n), n->peers.n);
}

void sn_nodelog_policy(struct sn_node *n, uid_t uid, const char *what)
{
	const struct sn_policy *t = sn_policy_active(&n->policy);

	sn_log(&n->host, SN_LOG_INFO, "policy (control socket, uid %u): %s; now version %llu, "
	       "%u rules (%u run-time)", (unsigned)uid, what, active_version(n),
	       t ? sn_policy_count(t) : 0, n->n_rt_rules);
}

/* ---- the watch list ------------------------------------------------------ */

static void watch_init(struct sn_peer_watch *w, const struct sn_peer *p, uint64_t since)
{
	memset(w, 0, sizeof(*w));
	w->id = p->id;
	w->since_ns = since;
	w->last_rx_ns = p->s.last_rx_ns;
}

/* An entry kept across a reload for a peer whose session is new (re-keyed:
 * unverified again) starts over. */
static bool fresh_session(const struct sn_peer_watch *w, const struct sn_peer *p)
{
	return w->verified_ns && p->s.verified_ns != w->verified_ns;
}

void sn_nodelog_sync(struct sn_node *n, uint64_t now)
{
	uint64_t since = n->log.synced ? now : n->start_ns; /* the first sync is at our start */

	for (uint32_t i = 0; i < n->peers.n_fresh; i++) {
		struct sn_peer *p = n->peers.fresh[i];

		if (p->watch.id != p->id || fresh_session(&p->watch, p))
			watch_init(&p->watch, p, since);
	}
	n->log.synced = true;
}

/* ---- peer events ----------------------------------------------------------- */

static uint64_t silence_ns(const struct sn_node *n)
{
	return (uint64_t)n->cfg->keepalive * SN_SILENT_INTERVALS * 1000000000ull;
}

/* Since when p has owed us a word (0: it does not). */
static uint64_t owed_since(const struct sn_node *n, const struct sn_peer *p,
			   const struct sn_peer_watch *w)
{
	if (p->s.state != SN_PEER_VERIFIED || !n->cfg->keepalive)
		return 0;
	if (n->is_hub)
		return p->s.last_rx_ns;
	return w ? w->waiting_ns : 0;
}

static const struct sn_peer_watch *watch_of(const struct sn_node *n, const struct sn_peer *p)
{
	return p->watch.id == p->id ? &p->watch : NULL;
}

bool sn_nodelog_peer_up(const struct sn_node *n, const struct sn_peer *p, uint64_t now)
{
	uint64_t since = owed_since(n, p, watch_of(n, p));

	return p->s.state == SN_PEER_VERIFIED && (!since || now - since < silence_ns(n));
}

static double secs(uint64_t ns)
{
	return (double)ns / 1e9;
}

static bool same_addr(const struct sn_addr *a, const struct sn_addr *b)
{
	return a->family == b->family && a->port == b->port && !memcmp(a->ip, b->ip, 16);
}

static void look_verified(struct sn_node *n, const struct sn_peer *p, struct sn_peer_watch *w)
{
	char ep[64];

	if (p->s.state != SN_PEER_VERIFIED || p->s.verified_ns == w->verified_ns)
		return;
	w->verified_ns = p->s.verified_ns;
	w->endpoint = p->s.endpoint;
	w->has_epoch = p->s.rx_has_epoch;
	w->rx_epoch = p->s.rx_epoch;
	sn_log(&n->host, SN_LOG_INFO, "peer %s (%u) verified at %s, epoch %u, %.1f s after %s",
	       p->name, p->id, sn__ctl_addr_str(&p->s.endpoint, ep, sizeof(ep)), p->s.rx_epoch,
	       secs(p->s.verified_ns - w->since_ns),
	       w->since_ns == n->start_ns ? "our start" : "the reload that added or re-keyed it");
}

static void look_endpoint(struct sn_node *n, const struct sn_peer *p, struct sn_peer_watch *w)
{
	char a[64], b[64];

	if (!w->verified_ns || p->s.endpoint.family == SN_AF_NONE ||
	    same_addr(&p->s.endpoint, &w->endpoint))
		return;
	sn_log(&n->host, SN_LOG_INFO, "peer %s (%u) has a new endpoint: %s -> %s", p->name, p->id,
	       sn__ctl_addr_str(&w->endpoint, a, sizeof(a)),
	       sn__ctl_addr_str(&p->s.endpoint, b, sizeof(b)));
	w->endpoint = p->s.endpoint;
}

static void look_epoch(struct sn_node *n, const struct sn_peer *p, struct sn_peer_watch *w)
{
	if (!w->verified_ns || !p->s.rx_has_epoch || (w->has_epoch && p->s.rx_epoch == w->rx_epoch))
		return;
	if (w->has_epoch)
		sn_log(&n->host, SN_LOG_INFO, "peer %s (%u) has a new epoch: %u -> %u (it restarted)",
		       p->name, p->id, w->rx_epoch, p->s.rx_epoch);
	w->has_epoch = true;
	w->rx_epoch = p->s.rx_epoch;
}

/* A spoke: our data to the hub that nothing has answered since. */
static void look_owed(const struct sn_node *n, const struct sn_peer *p, struct sn_peer_watch *w,
		      uint64_t now)
{
	uint64_t data = p->counters[SN_CTR_TX_PACKETS] - p->counters[SN_CTR_KEEPALIVE_TX];

	if (p->s.last_rx_ns != w->last_rx_ns)
		w->waiting_ns = 0; /* it spoke since the last look */
	else if (data != w->data_tx && !w->waiting_ns)
		w->waiting_ns = now;
	w->data_tx = data;
}

static void look_silence(struct sn_node *n, const struct sn_peer *p, struct sn_peer_watch *w,
			 uint64_t now)
{
	char ep[64];

	if (!n->is_hub)
		look_owed(n, p, w, now);
	w->last_rx_ns = p->s.last_rx_ns;
	if (!w->silent && !sn_nodelog_peer_up(n, p, now) && owed_since(n, p, w)) {
		w->silent = true;
		w->silent_rx_ns = p->s.last_rx_ns;
		sn_log(&n->host, SN_LOG_WARN, "peer %s (%u) is silent: %s for %llu s (%u keepalive "
		       "intervals of %u s)", p->name, p->id,
		       n->is_hub ? "nothing from it" : "our data to it unanswered",
		       (unsigned long long)((now - owed_since(n, p, w)) / 1000000000u),
		       SN_SILENT_INTERVALS, n->cfg->keepalive);
	} else if (w->silent && p->s.last_rx_ns != w->silent_rx_ns) {
		w->silent = false;
		sn_log(&n->host, SN_LOG_INFO, "peer %s (%u) is back after %llu s of silence, at %s",
		       p->name, p->id,
		       (unsigned long long)((p->s.last_rx_ns - w->silent_rx_ns) / 1000000000u),
		       sn__ctl_addr_str(&p->s.endpoint, ep, sizeof(ep)));
	}
}

void sn_nodelog_tick(struct sn_node *n, uint64_t now)
{
	sn_nodelog_look(n, now, 0, n->peers.n);
}

void sn_nodelog_look(struct sn_node *n, uint64_t now, uint32_t from, uint32_t count)
{
	for (uint32_t i = from; i < from + count && i < n->peers.n; i++) {
		struct sn_peer *p = n->peers.v[i];
		struct sn_peer_watch *w = &p->watch;

		if (w->id != p->id)
			continue;
		look_verified(n, p, w);
		look_endpoint(n, p, w);
		look_epoch(n, p, w);
		look_silence(n, p, w, now);
	}
}
