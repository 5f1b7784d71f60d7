/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_rx.c: the whole receive path, sn_dp_underlay_rx() (and
 * the TUN side, sn_dp_tun_rx()), on a hub built from conf/hub.yaml and a
 * spoke built from conf/spoke-a.yaml, with the real crypto plugin and fake
 * os and egress backends that check and count what they are handed.
 *
 * The nodes use a private key of their own, not the demo keys in conf/keys/,
 * so nothing sealed with those (the seed datagrams from sn-inject) opens.
 * The harness can still make authentic datagrams: it seals as the peer with
 * the key the node itself derives for that peer and epoch. Run-time rules
 * (a DROP, and a FORWARD on the hub) sit on top of the config's.
 *
 * Input: one byte choosing the node and its state, then records
 *
 *   op(1) len(2, big-endian) [epoch(4) seq(8) with mode 2] body(len)
 *
 *   byte 0 bit 0  0 hub, 1 spoke
 *          bit 1  0: every peer verified, as after a challenge answered
 *                 (accepting epochs newer than EPOCH - 1000, no floor);
 *                 1: the node has just restarted: every peer unverified,
 *                 nothing accepted, a challenge outstanding for each
 *   op bits 0-1  mode: 0 the body is the datagram, as is
 *                      1 the body with a valid-looking header forced on it
 *                        (version 1, flags and reserved bytes 0 but the
 *                        keepalive bit when it is 36 bytes, key_id a peer's),
 *                        so it reaches the key and tag checks
 *                      2 sealed by a peer with the right key (authentic).
 *                        seq < 2^63: the body is the plaintext (empty = a
 *                        keepalive). seq >= 2^63, bit 62 clear: a
 *                        CHALLENGE whose 16 bytes come from the body; bit
 *                        62 set: a RESPONSE of 28 bytes from the body,
 *                        whose first 16 are replaced by the node's own
 *                        outstanding challenge for that peer when bit 61 is
 *                        clear (a matching response)
 *                      3 the body read from the TUN device
 *   op bits 2-3  which peer (mode 1: 3 keeps the key_id bytes as they are)
 *   op bits 4-5  which of four underlay source addresses
 *   op bit 6     batch with the next record (up to 64, one side at a time)
 *   op bit 7     the backends take only half of what they are handed
 *
 * State (epochs, windows, verification, endpoints, counters) is reset
 * before each input. An epoch move a response asks for completes at the end
 * of its batch, as if the state directory had persisted it.
 * Invariants, per batch:
 * - without an authentic datagram, nothing reaches the TUN device, nothing
 *   is sent, no peer's state (session, keys) changes, and no byte outside
 *   the packets' data is touched (ASan poisons the rest of their buffers);
 * - each datagram is counted once: accepted (rx_packets), an authentic
 *   challenge (challenge_rx), a verifying response (response_rx), or one
 *   drop before acceptance;
 * - a packet delivered to TUN is well-formed IPv4 whose destination is
 *   LOCAL, whose source the sending peer may use, from a verified peer;
 * - every datagram sent opens with the peer's key, goes to an endpoint the
 *   peer had during the batch or a source it sent from, and uses our epoch:
 *   a challenge (random seq, the peer's challenge bytes, the peer was not
 *   verified), a response (random seq, the bytes of an authentic challenge
 *   of this batch, our accepted epoch and next seq), or a sequenced datagram
 *   (strictly increasing seq below 2^63 in each epoch, to a verified peer):
 *   a keepalive (to a peer just verified) or an inner packet the
 *   policy forwards to that peer, and a relayed one never goes back to the
 *   peer it came from;
 * - an authentic sequenced datagram accepted once is never accepted again,
 *   nor one below the floor a verifying response set for its epoch;
 * - a peer that stays unverified accepts nothing; an unverified peer's
 *   endpoint moves only with a verifying response;
 * - the accepted epoch never goes back;
 * - the pool is full again after every batch.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "node.h"
#include "wire.h"

#define EPOCH 1700000000u
#define MAX_RECORDS 256
#define MAX_ACCEPTED 256
#define MAX_FLOORS 64
#define N_PREACCEPT 9

/* The drops before acceptance, but unverified: that one is also what an
 * accepted packet for an unverified peer is dropped as (step 11). */
static const uint32_t preaccept[N_PREACCEPT] = {
	SN_CTR_DROP_SHORT, SN_CTR_DROP_BAD_VERSION, SN_CTR_DROP_BAD_HEADER,
	SN_CTR_DROP_UNKNOWN_PEER, SN_CTR_DROP_STALE_EPOCH, SN_CTR_DROP_REPLAY,
	SN_CTR_DROP_AUTH_FAIL, SN_CTR_DROP_EPOCH_LIMIT, SN_CTR_DROP_BAD_RESPONSE,
};

struct fnode {
	struct sn_node *n;
	struct sn_peer *snap[2]; /* the peers: [0] verified, [1] just restarted */
	uint32_t epoch;          /* the node's epoch as built */
	void *seal_key;          /* key context for sealing as a peer */
};

static struct fnode nodes[2];
static struct fnode *cur;

/* The batch being processed, for the fake backends. */
static struct {
	bool auth;              /* holds an authentic datagram */
	bool tun;               /* read from the TUN device */
	bool refuse;            /* backends take half */
	bool response;          /* holds an authentic response */
	uint32_t tun_writes, udp_sends;
	const struct sn_peer *old;            /* the peers before the batch */
	struct { uint32_t id; struct sn_addr src; } from[SN_BATCH]; /* authentic sources */
	uint32_t n_from;
	/* authentic challenges of this batch: who, the bytes, where from */
	struct { uint32_t id; uint8_t bytes[16]; struct sn_addr src; } chal[SN_BATCH];
	uint32_t n_chal;
	/* responses of this batch carrying the node's challenge: who, the
	 * epoch, the floor they name */
	struct { uint32_t id, epoch; uint64_t next; } resp[SN_BATCH];
	uint32_t n_resp;
} b;

/* Per input: the last sequenced seq sent to each peer in each epoch, and
 * authentic datagrams accepted, and the floors verifying responses set. */
static struct { bool any; uint32_t epoch; uint64_t seq; } sent[16];
static struct { uint32_t id, epoch; uint64_t seq; } accepted[MAX_ACCEPTED];
static uint32_t n_accepted;
static struct { uint32_t id, epoch; uint64_t floor; } floors[MAX_FLOORS];
static uint32_t n_floors;

static uint8_t scratch[16384] __attribute__((aligned(16)));

/* ---- the fake backends ---------------------------------------------------- */

static void check_bounds(const struct sn_pkt *p)
{
	const struct sn_pool *pool = &cur->n->pool;

	FZ_CHECK(p >= pool->pkts && p < pool->pkts + pool->count, "not a pool packet");
	FZ_CHECK((uint64_t)p->off + p->len <= p->cap, "data past the buffer (off %u len %u cap %u)",
		 p->off, p->len, p->cap);
}

static uint32_t peer_index(const struct sn_node *n, const struct sn_peer *p)
{
	uint32_t i = 0;

	while (i < n->peers.n && n->peers.v[i] != p)
		i++;
	return i;
}

/* The peers' structs, in registry order, copied out of or into their objects. */
static void save_peers(struct sn_peer *to, const struct sn_node *n)
{
	for (uint32_t i = 0; i < n->peers.n; i++)
		memcpy(&to[i], n->peers.v[i], sizeof(*to));
}

static void load_peers(struct sn_node *n, const struct sn_peer *from)
{
	for (uint32_t i = 0; i < n->peers.n; i++)
		memcpy(n->peers.v[i], &from[i], sizeof(*from));
}

static bool addr_eq(const struct sn_addr *x, const struct sn_addr *y)
{
	return !memcmp(x, y, sizeof(*x));
}

/* Was peer at a during this batch? A datagram is addressed when it is staged
 * and sent at the end of the batch, by when the peer may have moved on. A
 * challenge may also go to the last source that earned one. */
static bool was_at(const struct sn_node *n, const struct sn_peer *peer, const struct sn_addr *a)
{
	const struct sn_peer *o = &b.old[peer_index(n, peer)];

	if (addr_eq(a, &peer->s.endpoint) || addr_eq(a, &o->s.endpoint) ||
	    addr_eq(a, &o->s.chal_to))
		return true;
	for (uint32_t i = 0; i < b.n_from; i++)
		if (b.from[i].id == peer->id && addr_eq(a, &b.from[i].src))
			return true;
	return false;
}

/* A challenge sent: to a peer that was not verified, with its bytes. */
static void check_challenge(struct sn_node *n, const struct sn_peer *peer, const uint8_t *d)
{
	const struct sn_peer *o = &b.old[peer_index(n, peer)];

	FZ_CHECK(o->s.state == SN_PEER_UNVERIFIED, "challenged peer %u, verified", peer->id);
	FZ_CHECK(!memcmp(d, o->s.challenge, 16), "a challenge with other bytes than peer %u's",
		 peer->id);
}

/* A response sent: answers an authentic challenge of this batch from its
 * source, with what we accept and our next seq; changed nothing. */
static void check_response(struct sn_node *n, const struct sn_peer *peer, const uint8_t *d,
			   const struct sn_addr *to)
{
	const struct sn_peer *o = &b.old[peer_index(n, peer)];
	bool found = false;
	uint32_t e;
	uint64_t q;

	for (uint32_t i = 0; i < b.n_chal && !found; i++)
		found = b.chal[i].id == peer->id && !memcmp(b.chal[i].bytes, d, 16) &&
			addr_eq(&b.chal[i].src, to);
	FZ_CHECK(found, "a response to peer %u that answers no authentic challenge", peer->id);
	/* what we accepted and our next seq at the time: between the values
	 * before and after the batch (both only go forward; seq restarts at
	 * 0 with an epoch move) */
	e = sn__load_be32(d + 16);
	FZ_CHECK(o->s.rx_has_epoch ? e >= o->s.rx_epoch && e <= peer->s.rx_epoch :
		 e == 0 || (peer->s.rx_has_epoch && e <= peer->s.rx_epoch),
		 "response: epoch %u is not one we accepted", e);
	q = sn__load_be64(d + 20);
	FZ_CHECK((q >= o->s.tx_seq && q <= peer->s.tx_seq) || peer->s.tx_epoch != o->s.tx_epoch,
		 "response: next seq %llu is not ours", (unsigned long long)q);
}

/* A sequenced datagram sent: a strictly increasing seq in the epoch. */
static void check_sequenced(struct sn_node *n, const struct sn_peer *peer,
			    const struct sn_wire_hdr *h)
{
	uint32_t i = peer_index(n, peer);

	FZ_CHECK(h->seq < SN_WIRE_SEQ_RANDOM, "sequenced seq %llu", (unsigned long long)h->seq);
	FZ_CHECK(peer->s.state == SN_PEER_VERIFIED, "sent to peer %u, not verified", peer->id);
	FZ_CHECK(!sent[i].any || h->epoch != sent[i].epoch || h->seq > sent[i].seq,
		 "seq %llu after %llu in epoch %u: nonce reuse", (unsigned long long)h->seq,
		 (unsigned long long)sent[i].seq, h->epoch);
	FZ_CHECK(!sent[i].any || h->epoch >= sent[i].epoch, "our epoch went back");
	sent[i].any = true;
	sent[i].epoch = h->epoch;
	sent[i].seq = h->seq;
}

/* A datagram handed to the underlay: open it as its receiver would. */
static void check_sent(struct sn_node *n, const struct sn_pkt *p)
{
	const struct sn_policy *t = sn_policy_active(&n->policy);
	const struct sn_policy_rule *r;
	struct sn_peer *peer = sn_peer_find(&n->peers, p->peer_id);
	struct sn_pkt o = { .buf = scratch, .cap = sizeof(scratch), .off = 64 };
	struct sn_wire_hdr h;

	check_bounds(p);
	FZ_CHECK(b.auth || b.tun, "a datagram sent in answer to unauthenticated input");
	FZ_CHECK(peer, "sent to peer %u, not a peer", p->peer_id);
	FZ_CHECK(p->addr.family == SN_AF_INET && was_at(n, peer, &p->addr),
		 "sent to %u.%u.%u.%u:%u, peer %u is at %u.%u.%u.%u:%u", p->addr.ip[0], p->addr.ip[1],
		 p->addr.ip[2], p->addr.ip[3], p->addr.port, peer->id, peer->s.endpoint.ip[0],
		 peer->s.endpoint.ip[1], peer->s.endpoint.ip[2], peer->s.endpoint.ip[3],
		 peer->s.endpoint.port);
	FZ_CHECK(sn_wire_decode(sn_pkt_data(p), p->len, &h) == 0, "sent datagram does not decode");
	FZ_CHECK(h.key_id == n->cfg->node_id && h.epoch == peer->s.tx_epoch, "key_id or epoch");
	FZ_CHECK(p->len + 64 <= sizeof(scratch), "datagram of %u bytes", p->len);
	memcpy(scratch + 64, sn_pkt_data(p), p->len);
	o.len = p->len;
	FZ_CHECK(sn_open_pkt(&n->cr, peer->tx_key, &h, &o) == 0, "sent datagram does not open");
	if (h.flags & (SN_WIRE_F_CHALLENGE | SN_WIRE_F_RESPONSE)) {
		FZ_CHECK(h.seq >= SN_WIRE_SEQ_RANDOM, "a challenge or response with a sequenced seq");
		if (h.flags & SN_WIRE_F_CHALLENGE)
			return check_challenge(n, peer, sn_pkt_data(&o));
		return check_response(n, peer, sn_pkt_data(&o), &p->addr);
	}
	check_sequenced(n, peer, &h);
	if (h.flags & SN_WIRE_F_KEEPALIVE) {
		FZ_CHECK(o.len == 0, "keepalive with data");
		FZ_CHECK(b.response && !b.tun, "a keepalive nobody asked for (one per verification)");
		return;
	}
	FZ_CHECK(sn_ipv4_check(sn_pkt_data(&o), o.len) == 0, "sent a malformed inner packet");
	r = sn_policy_lookup(t, sn_ipv4_dst(sn_pkt_data(&o)));
	FZ_CHECK(r && r->action == SN_ACT_FORWARD && r->peer_id == p->peer_id,
		 "sent to peer %u what the policy does not forward there", p->peer_id);
	FZ_CHECK(b.tun || n->is_hub, "a spoke relayed");
	/* a relayed packet's source belongs to its sender: never send it back */
	FZ_CHECK(b.tun || !sn_policy_src_ok(t, sn_ipv4_src(sn_pkt_data(&o)), p->peer_id),
		 "relayed back to peer %u, its sender", p->peer_id);
}

static int fake_send(void *inst, struct sn_pkt *const *v, uint32_t cnt)
{
	uint32_t take = b.refuse ? cnt / 2 : cnt;

	for (uint32_t i = 0; i < cnt; i++)
		check_sent(cur->n, v[i]);
	for (uint32_t i = 0; i < take; i++)
		sn_pool_put(&cur->n->pool, v[i]);
	b.udp_sends += cnt;
	return (int)take;
}

static int fake_tun_write(void *inst, struct sn_pkt *const *v, uint32_t cnt)
{
	struct sn_node *n = cur->n;
	const struct sn_policy *t = sn_policy_active(&n->policy);
	uint32_t take = b.refuse ? cnt / 2 : cnt;

	for (uint32_t i = 0; i < cnt; i++) {
		const struct sn_pkt *p = v[i];
		const struct sn_policy_rule *r;
		const struct sn_peer *from = sn_peer_find(&n->peers, p->peer_id);
		const uint8_t *d = sn_pkt_data(p);

		check_bounds(p);
		FZ_CHECK(b.auth && !b.tun, "delivered to TUN without an authentic datagram");
		FZ_CHECK(sn_ipv4_check(d, p->len) == 0, "delivered a malformed packet");
		r = sn_policy_lookup(t, sn_ipv4_dst(d));
		FZ_CHECK(r && r->action == SN_ACT_LOCAL, "delivered a packet not for us");
		FZ_CHECK(from, "delivered from peer %u", p->peer_id);
		FZ_CHECK(from->s.state != SN_PEER_UNVERIFIED, "delivered from unverified peer %u",
			 from->id);
		FZ_CHECK(sn_policy_src_ok(t, sn_ipv4_src(d), p->peer_id),
			 "delivered a source peer %u may not use", p->peer_id);
	}
	for (uint32_t i = 0; i < take; i++)
		sn_pool_put(&n->pool, v[i]);
	b.tun_writes += cnt;
	return (int)take;
}

static const struct sn_os_ops fake_os = {
	.struct_size = sizeof(struct sn_os_ops),
	.tun_write_batch = fake_tun_write,
};

static const struct sn_egress_ops fake_egress = {
	.struct_size = sizeof(struct sn_egress_ops),
	.send_batch = fake_send,
};

/* ---- setup ------------------------------------------------------------------ */

/* The verified state: as if each peer had answered our challenge while
 * accepting an old epoch of its own, with nothing seen yet. */
static void make_verified(struct sn_peer *v, uint32_t np)
{
	for (uint32_t i = 0; i < np; i++) {
		struct sn_session *s = &v[i].s;

		s->state = SN_PEER_VERIFIED;
		s->rx_has_epoch = true;
		s->rx_epoch = EPOCH - 1000;
		s->epochs_accepted = 1;
		memset(s->challenge, 0, sizeof(s->challenge));
		sn_replay_reset(&s->rx_window);
	}
}

static void setup_node(struct fnode *f, const char *file)
{
	static const struct sn_policy_rule rules[] = {
		{ .prefix = { 0xc0a80280u, 25, { 0 } }, .action = SN_ACT_DROP },    /* 192.168.2.128/25 */
		{ .prefix = { 0xac100000u, 12, { 0 } }, .action = SN_ACT_FORWARD, .peer_id = 2 }, /* 172.16/12 */
	};
	char path[4096], err[1024];
	struct sn_config *cfg;
	size_t len, ks, bytes;
	char *text;

	snprintf(path, sizeof(path), "%s/conf/%s", fz_source_dir(), file);
	text = fz_read_file(path, &len);
	FZ_SETUP(sn_config_load_buffer(path, text, len, false, &cfg, err, sizeof(err)) == 0, "%s",
		 err);
	free(text);
	/* A key of our own (not the demo key), so no seed datagram opens. */
	for (int i = 0; i < 32; i++)
		cfg->private_key[i] = (uint8_t)(0x5a ^ (i * 29));
	f->n = calloc(1, sizeof(*f->n));
	FZ_SETUP(f->n, "out of memory");
	f->epoch = EPOCH + (cfg->role == SN_ROLE_HUB ? 0 : 7);
	fz_node_build(f->n, cfg, f->epoch);
	/* run-time rules on top of the config's, as `subnetra policy` adds them:
	 * a DROP inside spoke-b's LAN and, on the hub, a FORWARD to spoke-a */
	FZ_SETUP(sn_node_set_rules(f->n, rules, f->n->is_hub ? 2 : 1, err, sizeof(err)) == 0,
		 "run-time rules: %s", err);
	sn_policy_reclaim(&f->n->policy);
	f->n->os_ops = &fake_os;
	f->n->eg_ops = &fake_egress;
	FZ_SETUP(f->n->peers.n <= 16, "too many peers");
	bytes = f->n->peers.n * sizeof(struct sn_peer);
	for (int i = 0; i < 2; i++) {
		f->snap[i] = malloc(bytes);
		FZ_SETUP(f->snap[i], "out of memory");
		save_peers(f->snap[i], f->n);
	}
	make_verified(f->snap[0], f->n->peers.n);
	ks = (f->n->peers.key_ctx_size + 15) & ~(size_t)15;
	f->seal_key = aligned_alloc(16, ks);
	FZ_SETUP(f->seal_key, "out of memory");
}

static void teardown(void)
{
	for (int i = 0; i < 2; i++) {
		if (!nodes[i].n)
			continue;
		nodes[i].n->cr.ops->wipe(nodes[i].n->cr.inst, nodes[i].seal_key);
		free(nodes[i].seal_key);
		free(nodes[i].snap[0]);
		free(nodes[i].snap[1]);
		fz_node_free(nodes[i].n);
		free(nodes[i].n);
		nodes[i].n = NULL;
	}
}

static void setup(void)
{
	setup_node(&nodes[0], "hub.yaml");
	setup_node(&nodes[1], "spoke-a.yaml");
	atexit(teardown);
}

/* Back to the state of the input's first byte. The key contexts are
 * shared with the snapshots and the last input may have written them
 * (candidates, an epoch move): derive them again. */
static void reset(struct fnode *f, bool restarted)
{
	struct sn_node *n = f->n;

	load_peers(n, f->snap[restarted]);
	for (uint32_t i = 0; i < n->peers.n; i++) {
		struct sn_peer *p = n->peers.v[i];

		n->cr.ops->dir_key(n->cr.inst, p->tx_key, p->pair_key, n->cfg->node_id, p->id,
				   f->epoch);
		if (p->s.rx_has_epoch)
			n->cr.ops->dir_key(n->cr.inst, p->rx_key, p->pair_key, p->id,
					   n->cfg->node_id, p->s.rx_epoch);
	}
	n->epoch = f->epoch;
	memset(&n->emove, 0, sizeof(n->emove));
	memset(&n->verify_rl, 0, sizeof(n->verify_rl));
	memset(n->host.counters, 0, sizeof(n->host.counters));
	memset(sent, 0, sizeof(sent));
	n_accepted = n_floors = 0;
	FZ_CHECK(n->pool.n_free == n->pool.count, "pool not full at the start");
}

/* ---- batches ---------------------------------------------------------------- */

struct batch {
	struct sn_pkt *v[SN_BATCH];
	uint32_t from[SN_BATCH];  /* the sending peer of an authentic datagram, else 0 */
	uint32_t k;
	bool auth, tun, refuse, response;
	/* with one authentic sequenced record: what it was */
	bool one_seq;
	uint32_t peer_id, epoch;
	uint64_t seq;
};

static uint64_t preaccept_sum(const uint64_t *c)
{
	uint64_t s = 0;

	for (int i = 0; i < N_PREACCEPT; i++)
		s += c[preaccept[i]];
	return s;
}

static uint64_t taken_sum(const uint64_t *c)
{
	return c[SN_CTR_RX_PACKETS] + c[SN_CTR_CHALLENGE_RX] + c[SN_CTR_RESPONSE_RX];
}

static bool was_accepted(uint32_t id, uint32_t epoch, uint64_t seq)
{
	for (uint32_t i = 0; i < n_accepted; i++)
		if (accepted[i].id == id && accepted[i].epoch == epoch && accepted[i].seq == seq)
			return true;
	for (uint32_t i = 0; i < n_floors; i++)
		if (floors[i].id == id && floors[i].epoch == epoch && seq < floors[i].floor)
			return true;
	return false;
}

/* The state nothing unauthenticated may change. */
static void same_state(const struct sn_peer *a, const struct sn_peer *o)
{
	FZ_CHECK(!memcmp(&a->s, &o->s, sizeof(a->s)),
		 "peer %u: session changed by unauthenticated input", a->id);
	FZ_CHECK(a->rx_key == o->rx_key && a->tx_key == o->tx_key,
		 "peer %u: keys changed by unauthenticated input", a->id);
}

/* What an authentic batch may and may not have changed, peer by peer. */
static void check_peer_after(const struct sn_peer *a, const struct sn_peer *o)
{
	FZ_CHECK(!o->s.rx_has_epoch || (a->s.rx_has_epoch && a->s.rx_epoch >= o->s.rx_epoch),
		 "peer %u: accepted epoch went back", a->id);
	if (o->s.state == SN_PEER_UNVERIFIED && a->s.state == SN_PEER_UNVERIFIED) {
		FZ_CHECK(a->counters[SN_CTR_RX_PACKETS] == o->counters[SN_CTR_RX_PACKETS],
			 "peer %u: accepted while unverified", a->id);
		FZ_CHECK(!memcmp(&a->s.endpoint, &o->s.endpoint, sizeof(a->s.endpoint)),
			 "peer %u: endpoint moved while unverified", a->id);
		FZ_CHECK(!memcmp(a->s.challenge, o->s.challenge, 16),
			 "peer %u: challenge changed while unverified", a->id);
	}
	if (o->s.state == SN_PEER_UNVERIFIED && a->s.state != SN_PEER_UNVERIFIED)
		FZ_CHECK(a->counters[SN_CTR_RESPONSE_RX] == o->counters[SN_CTR_RESPONSE_RX] + 1,
			 "peer %u: verified without a response", a->id);
	FZ_CHECK(o->s.state == SN_PEER_UNVERIFIED || a->s.state != SN_PEER_UNVERIFIED,
		 "peer %u: verified peer became unverified", a->id);
}

/* A verifying response sets a floor: remember the one that verified each
 * peer (the first matching response of the batch) for the accepted check. */
static void note_floors(const struct sn_node *n, const struct sn_peer *old)
{
	for (uint32_t i = 0; i < n->peers.n; i++) {
		const struct sn_peer *a = n->peers.v[i];

		if (old[i].s.state != SN_PEER_UNVERIFIED || a->s.state == SN_PEER_UNVERIFIED)
			continue;
		for (uint32_t j = 0; j < b.n_resp; j++) {
			if (b.resp[j].id != a->id)
				continue;
			if (n_floors < MAX_FLOORS) {
				floors[n_floors].id = a->id;
				floors[n_floors].epoch = b.resp[j].epoch;
				floors[n_floors++].floor = b.resp[j].next;
			}
			break;
		}
	}
}

static void poison_outside_data(struct batch *bt, bool on)
{
	for (uint32_t i = 0; i < bt->k; i++) {
		struct sn_pkt *p = bt->v[i];

		if (on) {
			FZ_POISON(p->buf, p->off);
			FZ_POISON(sn_pkt_data(p) + p->len, p->cap - p->off - p->len);
		} else {
			FZ_UNPOISON(p->buf, p->cap);
		}
	}
}

static void check_counts(struct batch *bt, const uint64_t *before)
{
	const uint64_t *c = cur->n->host.counters;
	uint64_t rx = c[SN_CTR_RX_PACKETS] - before[SN_CTR_RX_PACKETS];
	uint64_t taken = taken_sum(c) - taken_sum(before), rest, unv;

	if (bt->tun) {
		FZ_CHECK(c[SN_CTR_TUN_RX] - before[SN_CTR_TUN_RX] == bt->k, "tun_rx count");
		FZ_CHECK(taken == 0, "TUN input counted as received");
		return;
	}
	/* the rest were dropped as unverified: at step 4b, or (at most one
	 * per accepted packet) at step 11, forwarding to an unverified peer */
	rest = bt->k - taken - (preaccept_sum(c) - preaccept_sum(before));
	unv = c[SN_CTR_DROP_UNVERIFIED] - before[SN_CTR_DROP_UNVERIFIED];
	FZ_CHECK(taken + preaccept_sum(c) - preaccept_sum(before) <= bt->k && rest <= unv &&
		 unv <= rest + rx, "%u datagrams, %llu taken, %llu dropped before acceptance, "
		 "%llu unverified", bt->k, (unsigned long long)taken,
		 (unsigned long long)(preaccept_sum(c) - preaccept_sum(before)),
		 (unsigned long long)unv);
	if (!bt->auth)
		FZ_CHECK(taken == 0, "unauthenticated datagrams taken");
	/* one authentic sequenced datagram alone: was it accepted, and may it be? */
	if (bt->one_seq && bt->k == 1 && rx == 1) {
		FZ_CHECK(!was_accepted(bt->peer_id, bt->epoch, bt->seq),
			 "peer %u epoch %u seq %llu accepted twice or below the floor", bt->peer_id,
			 bt->epoch, (unsigned long long)bt->seq);
		if (n_accepted < MAX_ACCEPTED) {
			accepted[n_accepted].id = bt->peer_id;
			accepted[n_accepted].epoch = bt->epoch;
			accepted[n_accepted++].seq = bt->seq;
		}
	}
}

static void flush(struct batch *bt)
{
	struct sn_node *n = cur->n;
	uint64_t before[SN_CTR_MAX];
	struct sn_peer old[16];
	uint32_t np = n->peers.n;
	bool guard = !bt->auth && !bt->tun;

	if (!bt->k)
		return;
	memcpy(before, n->host.counters, sizeof(before));
	save_peers(old, n);
	b.old = old;
	b.n_from = 0;
	for (uint32_t i = 0; i < bt->k; i++)
		if (bt->from[i])
			b.from[b.n_from].id = bt->from[i], b.from[b.n_from++].src = bt->v[i]->addr;
	b.auth = bt->auth;
	b.tun = bt->tun;
	b.refuse = bt->refuse;
	b.response = bt->response;
	b.tun_writes = b.udp_sends = 0;
	if (guard)
		poison_outside_data(bt, true);
	if (bt->tun)
		sn_dp_tun_rx(n, bt->v, bt->k);
	else
		sn_dp_underlay_rx(n, bt->v, bt->k);
	if (guard)
		poison_outside_data(bt, false);
	FZ_CHECK(n->pool.n_free == n->pool.count, "pool: %u of %u free after a batch",
		 n->pool.n_free, n->pool.count);
	FZ_CHECK(!n->n_udp_out && !n->n_tun_out, "packets left staged");
	check_counts(bt, before);
	for (uint32_t i = 0; i < np; i++) {
		if (guard)
			same_state(n->peers.v[i], &old[i]);
		check_peer_after(n->peers.v[i], &old[i]);
	}
	note_floors(n, old);
	if (guard)
		FZ_CHECK(!b.tun_writes && !b.udp_sends, "output for unauthenticated input");
	if (bt->tun)
		FZ_CHECK(!b.tun_writes, "a TUN packet went back to TUN");
	/* an epoch move asked for: persisted now, as the reactor's job would */
	if (n->emove.target > n->epoch && n->emove.target <= SN_EPOCH_MAX) {
		FZ_CHECK(b.response, "an epoch move without a response");
		save_peers(old, n);
		b.auth = true;
		sn_verify_epoch_moved(n, n->emove.target);
		FZ_CHECK(n->pool.n_free == n->pool.count, "pool not full after the epoch move");
	}
	bt->k = 0;
	bt->auth = bt->tun = bt->refuse = bt->response = bt->one_seq = false;
	b.n_chal = b.n_resp = 0;
}

/* ---- records ---------------------------------------------------------------- */

static const struct sn_addr sources[4] = {
	{ .family = SN_AF_INET, .port = 40001, .ip = { 198, 51, 100, 1 } },
	{ .family = SN_AF_INET, .port = 40002, .ip = { 198, 51, 100, 2 } },
	{ .family = SN_AF_INET, .port = 51820, .ip = { 172, 31, 2, 1 } },
	{ .family = SN_AF_INET, .port = 40004, .ip = { 203, 0, 113, 9 } },
};

static uint64_t take_be(const uint8_t **d, size_t *n, int bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes; i++) {
		v <<= 8;
		if (*n) {
			v |= **d;
			(*d)++;
			(*n)--;
		}
	}
	return v;
}

/* The kind of an authentic record from its seq (see the input format),
 * and its plaintext made to fit. */
static uint8_t kind_of(struct sn_peer *p, struct sn_pkt *k, uint64_t seq)
{
	uint8_t *d = sn_pkt_data(k);

	if (seq < SN_WIRE_SEQ_RANDOM)
		return k->len ? 0 : SN_WIRE_F_KEEPALIVE;
	if (!(seq >> 62 & 1)) {
		if (k->len < SN_WIRE_CHALLENGE_LEN)
			memset(d + k->len, 0, SN_WIRE_CHALLENGE_LEN - k->len);
		k->len = SN_WIRE_CHALLENGE_LEN;
		return SN_WIRE_F_CHALLENGE;
	}
	if (k->len < SN_WIRE_RESPONSE_LEN)
		memset(d + k->len, 0, SN_WIRE_RESPONSE_LEN - k->len);
	k->len = SN_WIRE_RESPONSE_LEN;
	if (!(seq >> 61 & 1))
		memcpy(d, p->s.challenge, SN_WIRE_CHALLENGE_LEN);
	return SN_WIRE_F_RESPONSE;
}

/* Seal k's data as peer p sends it to us; false when that cannot be done. */
static bool seal_as(struct sn_peer *p, struct sn_pkt *k, uint32_t epoch, uint64_t seq,
		    uint8_t kind)
{
	struct sn_node *n = cur->n;
	struct sn_wire_hdr h = { SN_WIRE_VERSION, kind, p->id, epoch, seq };

	if (n->cr.ops->dir_key(n->cr.inst, cur->seal_key, p->pair_key, p->id, n->cfg->node_id,
			       epoch) < 0 ||
	    sn_seal_pkt(&n->cr, cur->seal_key, &h, k) < 0)
		return false;
	/* where the egress would have put it: at the headroom */
	memmove(k->buf + n->pool.headroom, sn_pkt_data(k), k->len);
	k->off = n->pool.headroom;
	return true;
}

/* Mode 2: make the record authentic; false when it cannot be. */
static bool authentic(struct batch *bt, struct sn_peer *p, struct sn_pkt *k, uint32_t epoch,
		      uint64_t seq)
{
	struct sn_node *n = cur->n;
	uint32_t room = n->pool.buf_size - n->pool.headroom;
	uint8_t kind;

	if (k->len + SN_WIRE_OVERHEAD > room)
		k->len = room - SN_WIRE_OVERHEAD;
	kind = kind_of(p, k, seq);
	if (kind == SN_WIRE_F_CHALLENGE && b.n_chal < SN_BATCH) {
		b.chal[b.n_chal].id = p->id;
		memcpy(b.chal[b.n_chal].bytes, sn_pkt_data(k), 16);
		b.chal[b.n_chal++].src = k->addr;
	}
	if (kind == SN_WIRE_F_RESPONSE && !(seq >> 61 & 1) && b.n_resp < SN_BATCH) {
		b.resp[b.n_resp].id = p->id;
		b.resp[b.n_resp].epoch = epoch;
		b.resp[b.n_resp++].next = sn__load_be64(sn_pkt_data(k) + 20);
	}
	if (!seal_as(p, k, epoch, seq, kind))
		return false;
	bt->auth = true;
	bt->response |= kind == SN_WIRE_F_RESPONSE;
	bt->one_seq = kind == 0 || kind == SN_WIRE_F_KEEPALIVE;
	bt->peer_id = p->id;
	bt->epoch = epoch;
	bt->seq = seq;
	return true;
}

/* Force a header that passes steps 1-3, keeping epoch and seq. */
static void force_header(struct sn_pkt *k, uint32_t key_id, bool keep_id)
{
	uint8_t *d = sn_pkt_data(k);

	if (k->len < SN_WIRE_MIN_LEN) {
		memset(d + k->len, 0, SN_WIRE_MIN_LEN - k->len);
		k->len = SN_WIRE_MIN_LEN;
	}
	d[0] = SN_WIRE_VERSION;
	d[1] = k->len == SN_WIRE_MIN_LEN ? SN_WIRE_F_KEEPALIVE : 0;
	d[2] = d[3] = 0;
	if (!keep_id)
		sn__store_be32(d + 4, key_id);
}

/* SN_FUZZ_VERBOSE=1: the node's counters after the input. */
static void say(const struct sn_node *n)
{
	fprintf(stderr, "%s:", n->is_hub ? "hub" : "spoke");
	for (uint32_t i = 0; i < SN_CTR_MAX; i++)
		if (n->host.counters[i])
			fprintf(stderr, " %s=%llu", sn_counter_name(i),
				(unsigned long long)n->host.counters[i]);
	fputc('\n', stderr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct batch bt = { .k = 0 };
	struct sn_node *n;
	uint32_t room, records = 0;

	if (!nodes[0].n)
		setup();
	if (!size)
		return 0;
	cur = &nodes[data[0] & 1];
	n = cur->n;
	reset(cur, data[0] & 2);
	data++, size--;
	b.n_chal = b.n_resp = 0;
	room = n->pool.buf_size - n->pool.headroom;
	while (size >= 3 && records++ < MAX_RECORDS) {
		uint8_t op = data[0];
		uint32_t mode = op & 3, sel = (op >> 2) & 3, len;
		uint32_t epoch = 0;
		uint64_t seq = 0;
		struct sn_peer *peer = n->peers.v[sel % n->peers.n];
		struct sn_pkt *k;

		len = (uint32_t)data[1] << 8 | data[2];
		data += 3, size -= 3;
		if (mode == 2) {
			epoch = (uint32_t)take_be(&data, &size, 4);
			seq = take_be(&data, &size, 8);
		}
		if (len > size)
			len = (uint32_t)size;
		if ((mode == 3) != bt.tun && bt.k)
			flush(&bt);
		k = sn_pool_get(&n->pool);
		FZ_CHECK(k, "pool empty with %u packets pending", bt.k);
		k->addr = sources[(op >> 4) & 3];
		k->len = len < room ? len : room;
		memcpy(sn_pkt_data(k), data, k->len);
		data += len, size -= len;
		if (mode == 1)
			force_header(k, peer->id, sel == 3);
		if (mode == 2 && !authentic(&bt, peer, k, epoch, seq)) {
			sn_pool_put(&n->pool, k);
			continue;
		}
		bt.tun = mode == 3;
		bt.refuse |= (op & 0x80) != 0;
		bt.from[bt.k] = mode == 2 ? peer->id : 0;
		bt.v[bt.k++] = k;
		if (!(op & 0x40) || bt.k == SN_BATCH)
			flush(&bt);
	}
	flush(&bt);
	FZ_CHECK(n->pool.n_free == n->pool.count, "pool not full after the input");
	if (fz_verbose())
		say(n);
	return 0;
}
