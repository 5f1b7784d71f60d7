/* SPDX-License-Identifier: MIT */
/*
 * core/datapath.c: the packet path: receive and verify (wire-protocol.md
 * section 5, in its order), deliver or relay, and TUN ingress to sealed
 * datagrams. No allocation, no system call except through the plugins'
 * batch operations in sn_dp_flush(), no key derivation except once per new
 * candidate epoch of a peer.
 */
#include <string.h>

#include "node.h"
#include "wire.h"

/* Count a drop for the node and the peer (0 = none) and release the packet:
 * the single exit of every drop site. */
static void drop(struct sn_node *n, struct sn_pkt *p, uint32_t reason, uint32_t peer_id)
{
	sn_host_count(&n->host, reason, peer_id, 1);
	sn_pool_put(&n->pool, p);
}

static int same_addr(const struct sn_addr *a, const struct sn_addr *b)
{
	return a->family == b->family && a->port == b->port && !memcmp(a->ip, b->ip, 4);
}

static void stage_udp(struct sn_node *n, struct sn_pkt *p)
{
	if (n->n_udp_out == SN_BATCH)
		sn_dp_flush(n);
	n->udp_out[n->n_udp_out++] = p;
}

static void stage_tun(struct sn_node *n, struct sn_pkt *p)
{
	if (n->n_tun_out == SN_BATCH)
		sn_dp_flush(n);
	n->tun_out[n->n_tun_out++] = p;
}

/* Seal p's plaintext (inner packet, or nothing for a keepalive) for peer
 * and stage it for the underlay. */
static void seal_and_send(struct sn_node *n, struct sn_peer *peer, struct sn_pkt *p, uint8_t flags)
{
	struct sn_wire_hdr h = {
		.version = SN_WIRE_VERSION,
		.flags = flags,
		.key_id = n->cfg->node_id,
		.epoch = peer->tx_epoch,
		.seq = peer->tx_seq,
	};
	uint32_t inner = p->len;

	/* seq never wraps: at 2^64 - 1 the node would have to move to a new
	 * epoch first (section 4); no real link gets there, so refuse. */
	if (peer->tx_seq == UINT64_MAX ||
	    sn_seal_pkt(&n->cr, peer->tx_key, &h, p) < 0) {
		drop(n, p, SN_CTR_DROP_TX_ERROR, peer->id);
		return;
	}
	peer->tx_seq++;
	peer->last_tx_ns = uv_hrtime();
	p->addr = peer->endpoint;
	p->peer_id = peer->id;
	sn_host_count(&n->host, SN_CTR_TX_PACKETS, peer->id, 1);
	sn_host_count(&n->host, SN_CTR_TX_BYTES, peer->id, inner);
	stage_udp(n, p);
}

static void stage_keepalive(struct sn_node *n, struct sn_peer *peer)
{
	struct sn_pkt *p = sn_pool_get(&n->pool);

	if (!p) {
		sn_host_count(&n->host, SN_CTR_DROP_NO_BUFFER, peer->id, 1);
		return;
	}
	sn_host_count(&n->host, SN_CTR_KEEPALIVE_TX, peer->id, 1);
	seal_and_send(n, peer, p, SN_WIRE_F_KEEPALIVE);
}

/* Step 11 (and the TUN-side lookup): where the packet goes. */
static void route(struct sn_node *n, const struct sn_policy *t, struct sn_pkt *p,
		  struct sn_peer *from)
{
	uint32_t dst = sn_ipv4_dst(sn_pkt_data(p));
	const struct sn_policy_rule *r = sn_policy_lookup(t, dst);
	uint32_t from_id = from ? from->id : 0;
	struct sn_peer *to;

	if (!r)
		return drop(n, p, SN_CTR_DROP_NO_ROUTE, from_id);
	if (r->action == SN_ACT_DROP)
		return drop(n, p, SN_CTR_DROP_POLICY_DROP, from_id);
	if (r->action == SN_ACT_LOCAL) {
		if (!from)
			return drop(n, p, SN_CTR_DROP_TUN_LOOP, 0);
		p->peer_id = from_id;
		return stage_tun(n, p);
	}
	if (from && !n->is_hub)
		return drop(n, p, SN_CTR_DROP_NOT_LOCAL, from_id);
	if (from && r->peer_id == from_id)
		return drop(n, p, SN_CTR_DROP_RELAY_LOOP, from_id);
	to = sn_peer_find(&n->peers, r->peer_id);
	if (!to || to->endpoint.family == SN_AF_NONE)
		return drop(n, p, SN_CTR_DROP_NO_ENDPOINT, from_id);
	if (from)
		sn_host_count(&n->host, SN_CTR_RELAYED, from_id, 1);
	seal_and_send(n, to, p, 0);
}

/* Steps 5-7: which key opens this datagram; NULL with *reason set if none. */
static void *pick_key(struct sn_node *n, struct sn_peer *peer, const struct sn_wire_hdr *h,
		      uint32_t *reason)
{
	if (peer->rx_has_epoch && h->epoch < peer->rx_epoch) {
		*reason = SN_CTR_DROP_STALE_EPOCH;
		return NULL;
	}
	if (peer->rx_has_epoch && h->epoch == peer->rx_epoch) {
		if (!sn_replay_check(&peer->rx_window, h->seq)) {
			*reason = SN_CTR_DROP_REPLAY;
			return NULL;
		}
		return peer->rx_key;
	}
	/* A newer epoch: derive its key once per candidate, change nothing
	 * else until the tag verifies. */
	if (!peer->cand_valid || peer->cand_epoch != h->epoch) {
		peer->cand_valid = n->cr.ops->dir_key(n->cr.inst, peer->cand_key, peer->pair_key,
						      peer->id, n->cfg->node_id, h->epoch) == 0;
		peer->cand_epoch = h->epoch;
		if (!peer->cand_valid) {
			*reason = SN_CTR_DROP_AUTH_FAIL;
			return NULL;
		}
	}
	return peer->cand_key;
}

/* Step 8: the datagram is authentic; only now does state change. Returns
 * true when the peer started a new epoch or moved to a new endpoint. */
static bool accept_datagram(struct sn_peer *peer, const struct sn_wire_hdr *h,
			    const struct sn_addr *src, uint64_t now)
{
	bool news = false;

	if (!peer->rx_has_epoch || h->epoch != peer->rx_epoch) {
		void *k = peer->rx_key;

		peer->rx_key = peer->cand_key;
		peer->cand_key = k;
		peer->cand_valid = false;
		peer->rx_has_epoch = true;
		peer->rx_epoch = h->epoch;
		peer->rx_max_seq = h->seq;
		peer->epochs_accepted++;
		sn_replay_reset(&peer->rx_window);
		news = true;
	}
	sn_replay_update(&peer->rx_window, h->seq);
	peer->last_rx_ns = now;
	if (h->seq >= peer->rx_max_seq) {
		peer->rx_max_seq = h->seq;
		if (!same_addr(&peer->endpoint, src)) {
			peer->endpoint = *src;
			news = true;
		}
	}
	return news;
}

static void rx_one(struct sn_node *n, const struct sn_policy *t, struct sn_pkt *p, uint64_t now)
{
	struct sn_wire_hdr h;
	struct sn_peer *peer;
	uint32_t reason;
	void *key;

	reason = (uint32_t)sn_wire_decode(sn_pkt_data(p), p->len, &h);
	if (reason)
		return drop(n, p, reason, 0);
	peer = sn_peer_find(&n->peers, h.key_id);
	if (!peer)
		return drop(n, p, SN_CTR_DROP_UNKNOWN_PEER, 0);
	key = pick_key(n, peer, &h, &reason);
	if (!key)
		return drop(n, p, reason, peer->id);
	if (sn_open_pkt(&n->cr, key, &h, p) < 0)
		return drop(n, p, SN_CTR_DROP_AUTH_FAIL, peer->id);
	/* A hub answers a spoke's new session or new address with one
	 * keepalive, so the spoke knows it is heard (it repeats its own
	 * keepalives quickly until then). */
	if (accept_datagram(peer, &h, &p->addr, now) && n->is_hub)
		stage_keepalive(n, peer);
	sn_host_count(&n->host, SN_CTR_RX_PACKETS, peer->id, 1);
	sn_host_count(&n->host, SN_CTR_RX_BYTES, peer->id, p->len);
	if (h.flags & SN_WIRE_F_KEEPALIVE) {
		sn_host_count(&n->host, SN_CTR_KEEPALIVE_RX, peer->id, 1);
		return sn_pool_put(&n->pool, p);
	}
	if (sn_ipv4_check(sn_pkt_data(p), p->len))
		return drop(n, p, SN_CTR_DROP_BAD_INNER, peer->id);
	if (!sn_policy_src_ok(t, sn_ipv4_src(sn_pkt_data(p)), peer->id))
		return drop(n, p, SN_CTR_DROP_INNER_SRC, peer->id);
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

void sn_dp_tun_rx(struct sn_node *n, struct sn_pkt *const *pkts, uint32_t cnt)
{
	const struct sn_policy *t = sn_policy_active(&n->policy);

	for (uint32_t i = 0; i < cnt; i++) {
		struct sn_pkt *p = pkts[i];

		sn_host_count(&n->host, SN_CTR_TUN_RX, 0, 1);
		if (p->len > n->cfg->mtu) {
			drop(n, p, SN_CTR_DROP_TOO_BIG, 0);
			continue;
		}
		if (sn_ipv4_check(sn_pkt_data(p), p->len)) {
			/* not IPv4 (an IPv6 packet the kernel routed here): not ours */
			drop(n, p, SN_CTR_DROP_NO_ROUTE, 0);
			continue;
		}
		route(n, t, p, NULL);
	}
	sn_dp_flush(n);
}

void sn_dp_keepalive(struct sn_node *n, struct sn_peer *peer)
{
	if (peer->endpoint.family == SN_AF_NONE)
		return;
	stage_keepalive(n, peer);
	sn_dp_flush(n);
}

/* Hand staged packets to a plugin; what it does not take is dropped under
 * reason. Returns how many it took and did not count as failed itself. */
static uint32_t flush_out(struct sn_node *n, struct sn_pkt **v, uint32_t *cnt, uint32_t reason,
			  int (*send)(void *, struct sn_pkt *const *, uint32_t), void *inst)
{
	uint64_t failed = n->host.counters[reason];
	int taken = *cnt ? send(inst, v, *cnt) : 0;

	failed = n->host.counters[reason] - failed;
	if (taken < 0)
		taken = 0;
	for (uint32_t i = (uint32_t)taken; i < *cnt; i++)
		drop(n, v[i], reason, v[i]->peer_id);
	*cnt = 0;
	return (uint32_t)taken - (uint32_t)failed;
}

void sn_dp_flush(struct sn_node *n)
{
	flush_out(n, n->udp_out, &n->n_udp_out, SN_CTR_DROP_TX_ERROR, n->eg_ops->send_batch,
		  n->egress.inst);
	n->host.counters[SN_CTR_TUN_TX] += flush_out(n, n->tun_out, &n->n_tun_out,
						     SN_CTR_DROP_TUN_ERROR,
						     n->os_ops->tun_write_batch, n->os.inst);
}
