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
 * Input: one byte choosing the node (bit 0: 0 hub, 1 spoke), then records
 *
 *   op(1) len(2, big-endian) [epoch(4) seq(8) with mode 2] body(len)
 *
 *   op bits 0-1  mode: 0 the body is the datagram, as is
 *                      1 the body with a valid-looking header forced on it
 *                        (version 1, flags and reserved bytes 0 but the
 *                        keepalive bit when it is 36 bytes, key_id a peer's),
 *                        so it reaches the key and tag checks
 *                      2 the body sealed as plaintext by a peer with the
 *                        right key (authentic; empty = a keepalive)
 *                      3 the body read from the TUN device
 *   op bits 2-3  which peer (mode 1: 3 keeps the key_id bytes as they are)
 *   op bits 4-5  which of four underlay source addresses
 *   op bit 6     batch with the next record (up to 64, one side at a time)
 *   op bit 7     the backends take only half of what they are handed
 *
 * State (epochs, windows, endpoints, counters) is reset before each input.
 * Invariants, per batch:
 * - without an authentic datagram, nothing reaches the TUN device, nothing
 *   is sent, no peer's receive state (epoch, window, endpoint, times, tx
 *   seq) changes, rx_packets does not move, and no byte outside the packets'
 *   data is touched (ASan poisons the rest of their buffers);
 * - each datagram is counted once: accepted or one pre-accept drop;
 * - a packet delivered to TUN is well-formed IPv4 whose destination is
 *   LOCAL and whose source the sending peer may use;
 * - every datagram sent opens with the peer's key, goes to an endpoint the
 *   peer had during the batch, uses our epoch and a strictly increasing seq, and is a
 *   keepalive (hub, after an authentic datagram) or an inner packet the
 *   policy forwards to that peer, and a relayed one never goes back to the
 *   peer it came from;
 * - an authentic datagram accepted once is never accepted again;
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
#define N_PREAUTH 7

static const uint32_t preauth[N_PREAUTH] = {
	SN_CTR_DROP_SHORT, SN_CTR_DROP_BAD_VERSION, SN_CTR_DROP_BAD_HEADER,
	SN_CTR_DROP_UNKNOWN_PEER, SN_CTR_DROP_STALE_EPOCH, SN_CTR_DROP_REPLAY,
	SN_CTR_DROP_AUTH_FAIL,
};

struct fnode {
	struct sn_node *n;
	struct sn_peer *snap;   /* the peers as built, restored before each input */
	void *seal_key;         /* key context for sealing as a peer */
};

static struct fnode nodes[2];
static struct fnode *cur;

/* The batch being processed, for the fake backends. */
static struct {
	bool auth;              /* holds an authentic datagram */
	bool tun;               /* read from the TUN device */
	bool refuse;            /* backends take half */
	uint32_t tun_writes, udp_sends;
	const struct sn_peer *old;            /* the peers before the batch */
	struct { uint32_t id; struct sn_addr src; } from[SN_BATCH]; /* authentic sources */
	uint32_t n_from;
} b;

/* Per input: the last seq sent to each peer, and authentic datagrams accepted. */
static uint64_t sent_seq[16];
static bool sent_any[16];
static struct { uint32_t id, epoch; uint64_t seq; } accepted[MAX_ACCEPTED];
static uint32_t n_accepted;

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
	return (uint32_t)(p - n->peers.v);
}

static bool addr_eq(const struct sn_addr *x, const struct sn_addr *y)
{
	return !memcmp(x, y, sizeof(*x));
}

/* Was peer at a during this batch? A datagram is addressed when it is staged
 * and sent at the end of the batch, by when the peer may have moved on. */
static bool was_at(const struct sn_node *n, const struct sn_peer *peer, const struct sn_addr *a)
{
	if (addr_eq(a, &peer->endpoint) || addr_eq(a, &b.old[peer_index(n, peer)].endpoint))
		return true;
	for (uint32_t i = 0; i < b.n_from; i++)
		if (b.from[i].id == peer->id && addr_eq(a, &b.from[i].src))
			return true;
	return false;
}

/* A datagram handed to the underlay: open it as its receiver would. */
static void check_sent(struct sn_node *n, const struct sn_pkt *p)
{
	const struct sn_policy *t = sn_policy_active(&n->policy);
	const struct sn_policy_rule *r;
	struct sn_peer *peer = sn_peer_find(&n->peers, p->peer_id);
	struct sn_pkt o = { .buf = scratch, .cap = sizeof(scratch), .off = 64 };
	struct sn_wire_hdr h;
	uint32_t i;

	check_bounds(p);
	FZ_CHECK(b.auth || b.tun, "a datagram sent in answer to unauthenticated input");
	FZ_CHECK(peer, "sent to peer %u, not a peer", p->peer_id);
	FZ_CHECK(p->addr.family == SN_AF_INET && was_at(n, peer, &p->addr),
		 "sent to %u.%u.%u.%u:%u, peer %u is at %u.%u.%u.%u:%u", p->addr.ip[0], p->addr.ip[1],
		 p->addr.ip[2], p->addr.ip[3], p->addr.port, peer->id, peer->endpoint.ip[0],
		 peer->endpoint.ip[1], peer->endpoint.ip[2], peer->endpoint.ip[3],
		 peer->endpoint.port);
	FZ_CHECK(sn_wire_decode(sn_pkt_data(p), p->len, &h) == 0, "sent datagram does not decode");
	FZ_CHECK(h.key_id == n->cfg->node_id && h.epoch == peer->tx_epoch, "key_id or epoch");
	i = peer_index(n, peer);
	FZ_CHECK(!sent_any[i] || h.seq > sent_seq[i], "seq %llu after %llu: nonce reuse",
		 (unsigned long long)h.seq, (unsigned long long)sent_seq[i]);
	sent_any[i] = true;
	sent_seq[i] = h.seq;
	FZ_CHECK(p->len + 64 <= sizeof(scratch), "datagram of %u bytes", p->len);
	memcpy(scratch + 64, sn_pkt_data(p), p->len);
	o.len = p->len;
	FZ_CHECK(sn_open_pkt(&n->cr, peer->tx_key, &h, &o) == 0, "sent datagram does not open");
	if (h.flags & SN_WIRE_F_KEEPALIVE) {
		FZ_CHECK(o.len == 0, "keepalive with data");
		FZ_CHECK(n->is_hub && b.auth && !b.tun, "a keepalive nobody asked for");
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
		const uint8_t *d = sn_pkt_data(p);

		check_bounds(p);
		FZ_CHECK(b.auth && !b.tun, "delivered to TUN without an authentic datagram");
		FZ_CHECK(sn_ipv4_check(d, p->len) == 0, "delivered a malformed packet");
		r = sn_policy_lookup(t, sn_ipv4_dst(d));
		FZ_CHECK(r && r->action == SN_ACT_LOCAL, "delivered a packet not for us");
		FZ_CHECK(sn_peer_find(&n->peers, p->peer_id), "delivered from peer %u", p->peer_id);
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

static void setup_node(struct fnode *f, const char *file)
{
	static const struct sn_policy_rule rules[] = {
		{ .prefix = { 0xc0a80280u, 25, { 0 } }, .action = SN_ACT_DROP },    /* 192.168.2.128/25 */
		{ .prefix = { 0xac100000u, 12, { 0 } }, .action = SN_ACT_FORWARD, .peer_id = 2 }, /* 172.16/12 */
	};
	char path[4096], err[1024];
	struct sn_config *cfg;
	size_t len, ks;
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
	fz_node_build(f->n, cfg, EPOCH + (cfg->role == SN_ROLE_HUB ? 0 : 7));
	/* run-time rules on top of the config's, as `subnetra policy` adds them:
	 * a DROP inside spoke-b's LAN and, on the hub, a FORWARD to spoke-a */
	FZ_SETUP(sn_node_set_rules(f->n, rules, f->n->is_hub ? 2 : 1, err, sizeof(err)) == 0,
		 "run-time rules: %s", err);
	sn_policy_reclaim(&f->n->policy);
	f->n->os_ops = &fake_os;
	f->n->eg_ops = &fake_egress;
	FZ_SETUP(f->n->peers.n <= 16, "too many peers");
	f->snap = malloc(f->n->peers.n * sizeof(*f->snap));
	FZ_SETUP(f->snap, "out of memory");
	memcpy(f->snap, f->n->peers.v, f->n->peers.n * sizeof(*f->snap));
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
		free(nodes[i].snap);
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

static void reset(struct fnode *f)
{
	struct sn_node *n = f->n;

	memcpy(n->peers.v, f->snap, n->peers.n * sizeof(*f->snap));
	memset(n->host.counters, 0, sizeof(n->host.counters));
	memset(sent_any, 0, sizeof(sent_any));
	n_accepted = 0;
	FZ_CHECK(n->pool.n_free == n->pool.count, "pool not full at the start");
}

/* ---- batches ---------------------------------------------------------------- */

struct batch {
	struct sn_pkt *v[SN_BATCH];
	uint32_t from[SN_BATCH];  /* the sending peer of an authentic datagram, else 0 */
	uint32_t k;
	bool auth, tun, refuse;
	/* with one authentic record: what it was */
	uint32_t peer_id, epoch;
	uint64_t seq;
};

static uint64_t preauth_sum(const uint64_t *c)
{
	uint64_t s = 0;

	for (int i = 0; i < N_PREAUTH; i++)
		s += c[preauth[i]];
	return s;
}

static bool was_accepted(uint32_t id, uint32_t epoch, uint64_t seq)
{
	for (uint32_t i = 0; i < n_accepted; i++)
		if (accepted[i].id == id && accepted[i].epoch == epoch && accepted[i].seq == seq)
			return true;
	return false;
}

/* The receive state nothing unauthenticated may change. */
static void same_rx_state(const struct sn_peer *a, const struct sn_peer *o)
{
	FZ_CHECK(a->rx_has_epoch == o->rx_has_epoch && a->rx_epoch == o->rx_epoch &&
		 a->rx_max_seq == o->rx_max_seq && a->epochs_accepted == o->epochs_accepted,
		 "peer %u: epoch state changed by unauthenticated input", a->id);
	FZ_CHECK(!memcmp(&a->rx_window, &o->rx_window, sizeof(a->rx_window)),
		 "peer %u: replay window changed by unauthenticated input", a->id);
	FZ_CHECK(!memcmp(&a->endpoint, &o->endpoint, sizeof(a->endpoint)),
		 "peer %u: endpoint changed by unauthenticated input", a->id);
	FZ_CHECK(a->last_rx_ns == o->last_rx_ns && a->tx_seq == o->tx_seq &&
		 a->rx_key == o->rx_key, "peer %u: state changed by unauthenticated input", a->id);
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

static void flush(struct batch *bt)
{
	struct sn_node *n = cur->n;
	const uint64_t *c = n->host.counters;
	uint64_t before[SN_CTR_MAX];
	struct sn_peer old[16];
	uint32_t np = n->peers.n;
	bool guard = !bt->auth && !bt->tun;

	if (!bt->k)
		return;
	memcpy(before, n->host.counters, sizeof(before));
	memcpy(old, n->peers.v, np * sizeof(*old));
	b.old = old;
	b.n_from = 0;
	for (uint32_t i = 0; i < bt->k; i++)
		if (bt->from[i])
			b.from[b.n_from].id = bt->from[i], b.from[b.n_from++].src = bt->v[i]->addr;
	b.auth = bt->auth;
	b.tun = bt->tun;
	b.refuse = bt->refuse;
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
	if (bt->tun) {
		FZ_CHECK(c[SN_CTR_TUN_RX] - before[SN_CTR_TUN_RX] == bt->k, "tun_rx count");
		FZ_CHECK(c[SN_CTR_RX_PACKETS] == before[SN_CTR_RX_PACKETS], "TUN input counted as rx");
	} else {
		uint64_t rx = c[SN_CTR_RX_PACKETS] - before[SN_CTR_RX_PACKETS];

		FZ_CHECK(rx + preauth_sum(c) - preauth_sum(before) == bt->k,
			 "%u datagrams, %llu accepted, %llu dropped before acceptance", bt->k,
			 (unsigned long long)rx,
			 (unsigned long long)(preauth_sum(c) - preauth_sum(before)));
		if (!bt->auth)
			FZ_CHECK(rx == 0, "unauthenticated datagrams accepted");
		/* one authentic datagram alone: was it accepted, and may it be? */
		if (bt->auth && bt->k == 1) {
			if (rx == 1) {
				FZ_CHECK(!was_accepted(bt->peer_id, bt->epoch, bt->seq),
					 "peer %u epoch %u seq %llu accepted twice", bt->peer_id,
					 bt->epoch, (unsigned long long)bt->seq);
				if (n_accepted < MAX_ACCEPTED) {
					accepted[n_accepted].id = bt->peer_id;
					accepted[n_accepted].epoch = bt->epoch;
					accepted[n_accepted++].seq = bt->seq;
				}
			}
		}
	}
	for (uint32_t i = 0; i < np; i++) {
		const struct sn_peer *a = &n->peers.v[i];

		if (guard)
			same_rx_state(a, &old[i]);
		FZ_CHECK(!old[i].rx_has_epoch || (a->rx_has_epoch && a->rx_epoch >= old[i].rx_epoch),
			 "peer %u: accepted epoch went back", a->id);
	}
	if (guard)
		FZ_CHECK(!b.tun_writes && !b.udp_sends, "output for unauthenticated input");
	if (bt->tun)
		FZ_CHECK(!b.tun_writes, "a TUN packet went back to TUN");
	bt->k = 0;
	bt->auth = bt->tun = bt->refuse = false;
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

/* Seal k's data as peer p sends it to us; false when that cannot be done. */
static bool seal_as(struct sn_peer *p, struct sn_pkt *k, uint32_t epoch, uint64_t seq)
{
	struct sn_node *n = cur->n;
	struct sn_wire_hdr h = { SN_WIRE_VERSION, 0, p->id, epoch, seq };
	uint32_t room = n->pool.buf_size - n->pool.headroom;

	if (k->len + SN_WIRE_OVERHEAD > room)
		k->len = room - SN_WIRE_OVERHEAD;
	h.flags = k->len ? 0 : SN_WIRE_F_KEEPALIVE;
	if (n->cr.ops->dir_key(n->cr.inst, cur->seal_key, p->pair_key, p->id, n->cfg->node_id,
			       epoch) < 0 ||
	    sn_seal_pkt(&n->cr, cur->seal_key, &h, k) < 0)
		return false;
	/* where the egress would have put it: at the headroom */
	memmove(k->buf + n->pool.headroom, sn_pkt_data(k), k->len);
	k->off = n->pool.headroom;
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
	data++, size--;
	reset(cur);
	room = n->pool.buf_size - n->pool.headroom;
	while (size >= 3 && records++ < MAX_RECORDS) {
		uint8_t op = data[0];
		uint32_t mode = op & 3, sel = (op >> 2) & 3, len;
		uint32_t epoch = 0;
		uint64_t seq = 0;
		struct sn_peer *peer = &n->peers.v[sel % n->peers.n];
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
		if (mode == 2) {
			if (!seal_as(peer, k, epoch, seq)) {
				sn_pool_put(&n->pool, k);
				continue;
			}
			bt.auth = true;
			bt.peer_id = peer->id;
			bt.epoch = epoch;
			bt.seq = seq;
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
