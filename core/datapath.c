/* SPDX-License-Identifier: MIT */
/*
 * core/datapath.c: the packet path: receive and verify (docs/protocol.md,
 * "Receiving", in its order), deliver or relay, and TUN ingress to sealed
 * datagrams. Challenges and responses go to verify.c. No allocation, no
 * system call except through the plugins' batch operations in
 * sn_dp_flush(), no key derivation except once per new candidate epoch of a
 * peer (and at most one such per peer per 100 ms).
 */
#include <errno.h>
#include <string.h>

#include "gro.h"
#include "gso.h"
#include "node.h"
#include "verify.h"
#include "wire.h"

void sn__dp_count(struct sn_node *n, struct sn_peer *peer, uint32_t id, uint64_t v)
{
	n->host.counters[id] += v;
	if (peer)
		peer->counters[id] += v;
}

/* Count a drop for the node and the peer (NULL = none) and release the
 * packet: the single exit of every drop site. */
void sn__dp_drop(struct sn_node *n, struct sn_pkt *p, uint32_t reason, struct sn_peer *peer)
{
	sn__dp_count(n, peer, reason, 1);
	sn_droplog_note(&n->drops, reason, &p->addr);
	sn_pool_put(&n->pool, p);
}

static int same_addr(const struct sn_addr *a, const struct sn_addr *b)
{
	return a->family == b->family && a->port == b->port && !memcmp(a->ip, b->ip, 4);
}

void sn__dp_stage_udp(struct sn_node *n, struct sn_pkt *p)
{
	if (n->n_udp_out == SN_STAGE)
		sn_dp_flush(n);
	n->udp_out[n->n_udp_out++] = p;
}

static void stage_tun(struct sn_node *n, struct sn_pkt *p)
{
	if (n->n_tun_out == SN_STAGE)
		sn_dp_flush(n);
	n->tun_out[n->n_tun_out++] = p;
}

/* Seal p's plaintext (inner packet, or nothing for a keepalive) for a
 * verified peer with the next sequenced seq and stage it for the underlay.
 * A seq that would reach 2^63 asks for a new epoch first (docs/protocol.md,
 * section 5); the packet is dropped meanwhile. */
static void seal_and_send(struct sn_node *n, struct sn_peer *peer, struct sn_pkt *p, uint8_t flags)
{
	struct sn_session *s = &peer->s;
	struct sn_wire_hdr h = {
		.version = SN_WIRE_VERSION,
		.flags = flags,
		.key_id = n->cfg->node_id,
		.epoch = s->tx_epoch,
		.seq = s->tx_seq,
	};
	uint32_t inner = p->len;

	if (s->tx_seq >= SN_WIRE_SEQ_RANDOM) {
		s->state = SN_PEER_EPOCH_WAIT;
		sn_verify_request_epoch(n, n->epoch + 1);
		return sn__dp_drop(n, p, SN_CTR_DROP_UNVERIFIED, peer);
	}
	if (sn_seal_pkt(&n->cr, peer->tx_key, &h, p) < 0)
		return sn__dp_drop(n, p, SN_CTR_DROP_TX_ERROR, peer);
	s->tx_seq++;
	s->last_tx_ns = uv_hrtime();
	p->addr = s->endpoint;
	p->local = s->local;
	p->peer_id = peer->id;
	sn__dp_count(n, peer, SN_CTR_TX_PACKETS, 1);
	sn__dp_count(n, peer, SN_CTR_TX_BYTES, inner);
	sn__dp_stage_udp(n, p);
}

void sn__dp_stage_keepalive(struct sn_node *n, struct sn_peer *peer)
{
	struct sn_pkt *p;

	if (peer->s.state != SN_PEER_VERIFIED || peer->s.endpoint.family == SN_AF_NONE)
		return;
	p = sn_pool_get(&n->pool);
	if (!p) {
		sn__dp_count(n, peer, SN_CTR_DROP_NO_BUFFER, 1);
		return;
	}
	sn__dp_count(n, peer, SN_CTR_KEEPALIVE_TX, 1);
	seal_and_send(n, peer, p, SN_WIRE_F_KEEPALIVE);
}

/* Step 11 (and the TUN-side lookup): where the packet goes. */
static void route(struct sn_node *n, const struct sn_policy *t, struct sn_pkt *p,
		  struct sn_peer *from)
{
	uint32_t dst = sn_ipv4_dst(sn_pkt_data(p));
	const struct sn_policy_rule *r = sn_policy_lookup(t, dst);
	struct sn_peer *to;

	if (!r)
		return sn__dp_drop(n, p, SN_CTR_DROP_NO_ROUTE, from);
	if (r->action == SN_ACT_DROP)
		return sn__dp_drop(n, p, SN_CTR_DROP_POLICY_DROP, from);
	if (r->action == SN_ACT_LOCAL) {
		if (!from)
			return sn__dp_drop(n, p, SN_CTR_DROP_TUN_LOOP, NULL);
		p->peer_id = from->id;
		return stage_tun(n, p);
	}
	if (from && !n->is_hub)
		return sn__dp_drop(n, p, SN_CTR_DROP_NOT_LOCAL, from);
	if (from && r->peer_id == from->id)
		return sn__dp_drop(n, p, SN_CTR_DROP_RELAY_LOOP, from);
	to = sn_peer_find(&n->peers, r->peer_id);
	if (to && to->s.state != SN_PEER_VERIFIED)
		return sn__dp_drop(n, p, SN_CTR_DROP_UNVERIFIED, from);
	if (!to || to->s.endpoint.family == SN_AF_NONE)
		return sn__dp_drop(n, p, SN_CTR_DROP_NO_ENDPOINT, from);
	if (from)
		sn__dp_count(n, from, SN_CTR_RELAYED, 1);
	seal_and_send(n, to, p, 0);
}

void *sn__dp_epoch_key(struct sn_node *n, struct sn_peer *peer, uint32_t epoch, uint64_t now,
		       uint32_t *reason)
{
	*reason = SN_CTR_DROP_AUTH_FAIL;
	if (peer->s.rx_has_epoch && epoch == peer->s.rx_epoch)
		return peer->rx_key;
	/* another epoch: derive its key once per candidate, change nothing
	 * else until a tag verifies; a new candidate at most once per
	 * SN_CAND_GAP_NS, so forgeries of ever new epochs cost no derivation
	 * each (docs/protocol.md section 6, step 7) */
	if (!peer->cand_valid || peer->cand_epoch != epoch) {
		if (peer->cand_tried && now - peer->cand_ns < SN_CAND_GAP_NS) {
			*reason = SN_CTR_DROP_EPOCH_LIMIT;
			return NULL;
		}
		peer->cand_tried = true;
		peer->cand_ns = now;
		peer->cand_valid = n->cr.ops->dir_key(n->cr.inst, peer->cand_key, peer->pair_key,
						      peer->id, n->cfg->node_id, epoch) == 0;
		peer->cand_epoch = epoch;
	}
	return peer->cand_valid ? peer->cand_key : NULL;
}

void sn__dp_take_epoch(struct sn_peer *peer, uint32_t epoch, void *key)
{
	struct sn_session *s = &peer->s;

	if (key == peer->cand_key) {
		peer->cand_key = peer->rx_key;
		peer->rx_key = key;
		peer->cand_valid = false;
	}
	if (!s->rx_has_epoch || s->rx_epoch != epoch)
		s->epochs_accepted++;
	s->rx_has_epoch = true;
	s->rx_epoch = epoch;
}

/* Steps 5-7 for a verified peer: which key opens this datagram; NULL with
 * *reason set if none. */
static void *pick_key(struct sn_node *n, struct sn_peer *peer, const struct sn_wire_hdr *h,
		      uint64_t now, uint32_t *reason)
{
	const struct sn_session *s = &peer->s;

	if (s->rx_has_epoch && h->epoch < s->rx_epoch) {
		*reason = SN_CTR_DROP_STALE_EPOCH;
		return NULL;
	}
	if (s->rx_has_epoch && h->epoch == s->rx_epoch && !sn_replay_check(&s->rx_window, h->seq)) {
		*reason = SN_CTR_DROP_REPLAY;
		return NULL;
	}
	return sn__dp_epoch_key(n, peer, h->epoch, now, reason);
}

/* Step 8: the datagram is authentic; only now does state change. A newer
 * epoch starts with an empty window (safe: the peer is verified, and no
 * datagram of a newer epoch can have been seen); the endpoint follows the
 * highest seq (roaming), and so does the local address a hub answers
 * from (dst: NONE on a spoke). */
static void accept_datagram(struct sn_peer *peer, const struct sn_wire_hdr *h, void *key,
			    const struct sn_addr *src, const struct sn_addr *dst, uint64_t now)
{
	struct sn_session *s = &peer->s;

	if (!s->rx_has_epoch || h->epoch != s->rx_epoch) {
		sn__dp_take_epoch(peer, h->epoch, key);
		sn_replay_reset(&s->rx_window);
	}
	sn_replay_update(&s->rx_window, h->seq);
	s->last_rx_ns = now;
	s->heard = true;
	if (h->seq != s->rx_window.top)
		return;
	if (!same_addr(&s->endpoint, src))
		s->endpoint = *src;
	if (!same_addr(&s->local, dst))
		s->local = *dst;
}

/* The local address a datagram came to, as this node keeps it: a hub
 * answers from it, a spoke lets the OS pick (packet.h, "Local
 * addresses"). */
const struct sn_addr *sn__dp_local(const struct sn_node *n, const struct sn_pkt *p)
{
	static const struct sn_addr none;

	return n->is_hub ? &p->local : &none;
}

/* CoDel on a datagram the kernel queued at p->time_ns (aqm.h): true to go
 * on with it (maybe marked CE), false when it was dropped. */
static bool aqm_pass(struct sn_node *n, struct sn_pkt *p, struct sn_peer *peer, uint64_t now)
{
	const struct sn_config *c = n->cfg;
	uint64_t sojourn = now > p->time_ns ? now - p->time_ns : 0;

	if (p->time_ns)
		sn_sojourn_add(&n->sojourn, sojourn);
	if (!c->aqm_on || !p->time_ns ||
	    sn_aqm_check(&n->aqm, sojourn, now, c->aqm_target_us * 1000ull,
			 c->aqm_interval_us * 1000ull) == SN_AQM_PASS)
		return true;
	if (sn_aqm_mark(sn_pkt_data(p), p->len)) {
		sn__dp_count(n, peer, SN_CTR_AQM_MARK, 1);
		return true;
	}
	sn__dp_drop(n, p, SN_CTR_DROP_AQM, peer);
	return false;
}

static void rx_one(struct sn_node *n, const struct sn_policy *t, struct sn_pkt *p, uint64_t now)
{
	struct sn_wire_hdr h;
	struct sn_peer *peer;
	uint32_t reason;
	void *key;

	reason = (uint32_t)sn_wire_decode(sn_pkt_data(p), p->len, &h);
	if (reason)
		return sn__dp_drop(n, p, reason, NULL);
	peer = sn_peer_find(&n->peers, h.key_id);
	if (!peer)
		return sn__dp_drop(n, p, SN_CTR_DROP_UNKNOWN_PEER, NULL);
	if (h.flags & SN_WIRE_F_CHALLENGE)
		return sn_verify_on_challenge(n, peer, &h, p, now);
	if (h.flags & SN_WIRE_F_RESPONSE)
		return sn_verify_on_response(n, peer, &h, p, now);
	if (peer->s.state == SN_PEER_UNVERIFIED)
		return sn_verify_on_unverified(n, peer, &h, p, now);
	key = pick_key(n, peer, &h, now, &reason);
	if (!key || sn_open_pkt(&n->cr, key, &h, p) < 0)
		return sn__dp_drop(n, p, reason, peer);
	accept_datagram(peer, &h, key, &p->addr, sn__dp_local(n, p), now);
	sn__dp_count(n, peer, SN_CTR_RX_PACKETS, 1);
	sn__dp_count(n, peer, SN_CTR_RX_BYTES, p->len);
	if (h.flags & SN_WIRE_F_KEEPALIVE) {
		sn__dp_count(n, peer, SN_CTR_KEEPALIVE_RX, 1);
		return sn_pool_put(&n->pool, p);
	}
	if (sn_ipv4_check(sn_pkt_data(p), p->len))
		return sn__dp_drop(n, p, SN_CTR_DROP_BAD_INNER, peer);
	if (!sn_policy_src_ok(t, sn_ipv4_src(sn_pkt_data(p)), peer->id))
		return sn__dp_drop(n, p, SN_CTR_DROP_INNER_SRC, peer);
	if (n->ptrace)
		sn__pingtrace_note(n, sn_pkt_data(p), p->len, p->time_ns, true);
	if (aqm_pass(n, p, peer, now))
		route(n, t, p, peer);
}

void sn_dp_underlay_rx(struct sn_node *n, struct sn_pkt *const *pkts, uint32_t cnt)
{
	const struct sn_policy *t = sn_policy_active(&n->policy);
	uint64_t now = uv_hrtime();

	for (uint32_t i = 0; i < cnt; i++)
		rx_one(n, t, pkts[i], now);
	sn_dp_flush(n);
}

int sn_dp_deliver(void *ctx, struct sn_pkt *const *pkts, uint32_t cnt)
{
	struct sn_node *n = ctx;

	if (!n->eg_depth) {
		sn_dp_underlay_rx(n, pkts, cnt);
		return (int)cnt;
	}
	if (cnt > SN_BATCH - n->n_rx_later)
		return -ENOBUFS;
	memcpy(n->rx_later + n->n_rx_later, pkts, cnt * sizeof(*pkts));
	n->n_rx_later += cnt;
	return (int)cnt;
}

void sn_dp_rx_later(struct sn_node *n)
{
	struct sn_pkt *v[SN_BATCH];
	uint32_t cnt = n->n_rx_later;

	if (!cnt || n->eg_depth)
		return;
	memcpy(v, n->rx_later, cnt * sizeof(*v));
	n->n_rx_later = 0;
	sn_dp_underlay_rx(n, v, cnt);
}

/* A super-packet from the TUN device (SN_PKT_F_GSO): each segment is cut
 * straight into a pool packet, which is routed and sealed in place before
 * the next one is cut (docs/plugin-sdk.md, "Offloads"). */
static void tun_rx_gso(struct sn_node *n, const struct sn_policy *t, struct sn_pkt *big)
{
	struct sn_gso g;
	struct sn_pkt *p;
	uint32_t len;

	sn__dp_count(n, NULL, SN_CTR_TUN_RX_GSO, 1);
	if (sn_gso_init(&g, sn_pkt_data(big), big->len, big->gso_size) < 0) {
		/* not TCP or UDP over IPv4: not ours, like any non-IPv4 packet */
		sn__dp_count(n, NULL, SN_CTR_TUN_RX, 1);
		return sn__dp_drop(n, big, SN_CTR_DROP_NO_ROUTE, NULL);
	}
	for (uint32_t i = 0; i < g.segs; i++) {
		sn__dp_count(n, NULL, SN_CTR_TUN_RX, 1);
		len = sn_gso_seg_len(&g, i);
		if (len > n->mtu.mtu) {
			sn__dp_count(n, NULL, SN_CTR_DROP_TOO_BIG, 1);
			continue;
		}
		if (!(p = sn_pool_get(&n->pool))) {
			sn__dp_count(n, NULL, SN_CTR_DROP_NO_BUFFER, 1);
			continue;
		}
		sn_gso_seg(&g, i, sn_pkt_data(p));
		p->len = len;
		route(n, t, p, NULL);
	}
	sn_pool_put(&n->pool, big);
}

/* One packet from the TUN device; a partial checksum (SN_PKT_F_CSUM) is
 * completed before anything else looks at it. */
static void tun_rx_one(struct sn_node *n, const struct sn_policy *t, struct sn_pkt *p)
{
	sn__dp_count(n, NULL, SN_CTR_TUN_RX, 1);
	if (p->len > n->mtu.mtu)
		return sn__dp_drop(n, p, SN_CTR_DROP_TOO_BIG, NULL);
	/* not IPv4 (an IPv6 packet the kernel routed here), or a partial
	 * checksum outside the packet: not ours */
	if (sn_ipv4_check(sn_pkt_data(p), p->len) ||
	    ((p->flags & SN_PKT_F_CSUM) &&
	     sn_gso_csum(sn_pkt_data(p), p->len, p->csum_start, p->csum_offset) < 0))
		return sn__dp_drop(n, p, SN_CTR_DROP_NO_ROUTE, NULL);
	p->flags &= ~SN_PKT_F_CSUM;
	if (n->ptrace)
		sn__pingtrace_note(n, sn_pkt_data(p), p->len, 0, false);
	route(n, t, p, NULL);
}

void sn_dp_tun_rx(struct sn_node *n, struct sn_pkt *const *pkts, uint32_t cnt)
{
	const struct sn_policy *t = sn_policy_active(&n->policy);

	for (uint32_t i = 0; i < cnt; i++) {
		if (pkts[i]->flags & SN_PKT_F_GSO)
			tun_rx_gso(n, t, pkts[i]);
		else
			tun_rx_one(n, t, pkts[i]);
	}
	sn_dp_flush(n);
}

void sn_dp_keepalive(struct sn_node *n, struct sn_peer *peer)
{
	sn__dp_stage_keepalive(n, peer);
	sn_dp_flush(n);
}

/* Hand staged packets to a plugin (send_batch or tun_write_batch). What it
 * took is its own, failures included, which it counts itself (subnetra/
 * egress.h, os.h); what it did not take is dropped here under reason.
 * Returns how many it took. */
static uint32_t flush_out(struct sn_node *n, struct sn_pkt **v, uint32_t *cnt, uint32_t reason,
			  int (*send)(void *, struct sn_pkt *const *, uint32_t), void *inst)
{
	int taken = *cnt ? send(inst, v, *cnt) : 0;

	if (taken < 0)
		taken = 0;
	for (uint32_t i = (uint32_t)taken; i < *cnt; i++)
		sn__dp_drop(n, v[i], reason, sn_peer_find(&n->peers, v[i]->peer_id));
	*cnt = 0;
	return (uint32_t)taken;
}

/* The top egress's send_batch; deliver waits while it runs. */
static int eg_send(void *node, struct sn_pkt *const *pkts, uint32_t cnt)
{
	struct sn_node *n = node;
	int r;

	n->eg_depth++;
	r = n->eg_ops->send_batch(n->egress.inst, pkts, cnt);
	n->eg_depth--;
	return r;
}

/* The underlay: with an egress that takes them, runs of one size to one
 * address are marked for UDP GSO (gso.h). What the egress delivered during
 * the call goes up after it. */
static void flush_udp(struct sn_node *n)
{
	if (n->eg_gso && n->n_udp_out > 1)
		sn_gso_runs(n->udp_out, n->n_udp_out);
	flush_out(n, n->udp_out, &n->n_udp_out, SN_CTR_DROP_TX_ERROR, eg_send, n);
	sn_dp_rx_later(n);
}

/* The TUN device: with a device that takes them, consecutive segments of a
 * TCP flow are coalesced into runs first (gro.h). */
static void flush_tun(struct sn_node *n)
{
	struct sn_pkt **v = n->tun_out;
	uint32_t cnt = n->n_tun_out;

	if ((n->tun_offload & SN_TUN_OFFLOAD_TX) && cnt > 1) {
		sn__dp_count(n, NULL, SN_CTR_TUN_TX_GSO, sn_gro_coalesce(v, cnt, n->tun_plan));
		v = n->tun_plan;
	}
	n->n_tun_out = 0;
	sn__dp_count(n, NULL, SN_CTR_TUN_TX,
		     flush_out(n, v, &cnt, SN_CTR_DROP_TUN_ERROR, n->os_ops->tun_write_batch,
			       n->os.inst));
}

void sn_dp_flush(struct sn_node *n)
{
	flush_udp(n);
	flush_tun(n);
}
