/* SPDX-License-Identifier: MIT */
#include "testnode.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "keys.h"
#include "wire.h"

#define TN_POOL 512

static int fake_send(void *inst, struct sn_pkt *const *v, uint32_t cnt)
{
	struct tn *t = inst;

	if (t->take && cnt > t->take)
		cnt = t->take;
	for (uint32_t i = 0; i < cnt; i++) {
		if (t->n_sent == TN_MAX)
			fail_msg("more than %d datagrams sent", TN_MAX);
		t->sent[t->n_sent++] = v[i];
	}
	return (int)cnt;
}

static int fake_tun_write(void *inst, struct sn_pkt *const *v, uint32_t cnt)
{
	struct tn *t = inst;

	if (t->take && cnt > t->take)
		cnt = t->take;
	for (uint32_t i = 0; i < cnt; i++) {
		if (t->n_tun == TN_MAX)
			fail_msg("more than %d packets written", TN_MAX);
		t->tun[t->n_tun++] = v[i];
	}
	return (int)cnt;
}

static const char *fake_tun_name(void *inst)
{
	(void)inst;
	return "subnetra0";
}

static const struct sn_os_ops fake_os = {
	.struct_size = sizeof(struct sn_os_ops),
	.tun_write_batch = fake_tun_write,
	.tun_name = fake_tun_name,
};

static const struct sn_egress_ops fake_egress = {
	.struct_size = sizeof(struct sn_egress_ops),
	.send_batch = fake_send,
};

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(1 << 16);

	if (!f || !buf)
		fail_msg("cannot read %s", path);
	*len = fread(buf, 1, (1 << 16) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static struct sn_config *load_config(const char *conf)
{
	char path[512], err[1024] = "", *text;
	struct sn_config *c;
	size_t len;

	snprintf(path, sizeof(path), "%s/conf/%s.yaml", SN_TEST_SOURCE_DIR, conf);
	text = read_file(path, &len);
	if (sn_config_load_buffer(path, text, len, false, &c, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	free(text);
	snprintf(path, sizeof(path), "%s/conf/keys/%s.key", SN_TEST_SOURCE_DIR, conf);
	text = read_file(path, &len);
	if (sn_key_from_b64(c->private_key, text, len) < 0)
		fail_msg("%s: not a key", path);
	free(text);
	return c;
}

static void parse_addr(struct sn_addr *a, const char *s)
{
	char host[64];
	const char *colon = strrchr(s, ':');

	memset(a, 0, sizeof(*a));
	snprintf(host, sizeof(host), "%.*s", (int)(colon - s), s);
	a->family = SN_AF_INET;
	a->port = (uint16_t)atoi(colon + 1);
	if (inet_pton(AF_INET, host, a->ip) != 1)
		fail_msg("bad address %s", s);
}

static void build(struct tn *t, struct sn_config *c, uint32_t epoch)
{
	struct sn_node *n = t->n;
	struct sn_options none = { 0 };
	struct sn_policy *pol;
	char err[1024] = "";
	uint32_t head;

	n->cfg = c;
	sn_host_init(&n->host, NULL, NULL);
	n->host.log_level = SN_LOG_ERROR;
	n->host.peer_counters = sn_peers_counters;
	n->host.ctx = &n->peers;
	if (sn_loader_load(SN_KIND_CRYPTO, c->crypto, SN_TEST_BINARY_DIR "/plugins", &n->crypto, err,
			   sizeof(err)) < 0 ||
	    sn_plugin_create(&n->crypto, &n->host, &none, err, sizeof(err)) < 0)
		fail_msg("crypto plugin: %s", err);
	n->cr.ops = sn_plugin_ops(&n->crypto);
	n->cr.inst = n->crypto.inst;
	n->epoch = epoch;
	n->is_hub = c->role == SN_ROLE_HUB;
	if (sn_slab_init(&n->peer_slab, sn_peer_object_size(n->cr.ops->key_ctx_size), 0) < 0 ||
	    sn_peers_build(&n->peers, c, &n->cr, &n->peer_slab, epoch, NULL, err, sizeof(err)) < 0)
		fail_msg("peers: %s", err);
	sn_policy_slot_init(&n->policy);
	if (sn_policy_from_config(c, NULL, 0, ++n->policy_version, &pol, err, sizeof(err)) < 0)
		fail_msg("policy: %s", err);
	sn_policy_publish(&n->policy, pol);
	sn_arena_init(&n->rt_arena, 0);
	head = (SN_WIRE_HDR_LEN + n->crypto.desc->headroom + 15) & ~15u;
	if (sn_pool_init(&n->pool, TN_POOL, head, c->mtu + n->crypto.desc->overhead,
			 SN_WIRE_TAG_LEN + n->crypto.desc->tailroom, false) < 0)
		fail_msg("pool");
	n->host.pool = &n->pool;
	sn_mtu_resolve(&n->mtu, c, SN_MTU_UDP_IP, n->crypto.desc->overhead); /* as over raw_direct */
	n->os_ops = &fake_os;
	n->eg_ops = &fake_egress;
	n->os.inst = n->egress.inst = t;
}

struct tn *tn_new(const char *conf, uint32_t epoch, const char *addr)
{
	struct tn *t = calloc(1, sizeof(*t));

	if (!t || !(t->n = calloc(1, sizeof(*t->n))))
		fail_msg("out of memory");
	parse_addr(&t->addr, addr);
	build(t, load_config(conf), epoch);
	return t;
}

void tn_clear(struct tn *t)
{
	for (uint32_t i = 0; i < t->n_sent; i++)
		sn_pool_put(&t->n->pool, t->sent[i]);
	for (uint32_t i = 0; i < t->n_tun; i++)
		sn_pool_put(&t->n->pool, t->tun[i]);
	t->n_sent = t->n_tun = 0;
}

void tn_free(struct tn *t)
{
	struct sn_node *n = t->n;

	tn_clear(t);
	assert_int_equal(n->pool.n_free, n->pool.count); /* nothing leaked */
	sn_pool_destroy(&n->pool);
	sn_peers_destroy(&n->peers, &n->cr, &n->peer_slab);
	assert_int_equal(n->peer_slab.live, 0); /* no peer object leaked */
	sn_slab_destroy(&n->peer_slab);
	sn__node_forget_saved(n);
	sn_policy_slot_destroy(&n->policy);
	sn_arena_free(&n->rt_arena);
	sn_plugin_unload(&n->crypto);
	sn_config_free(n->cfg);
	free(n->routes.v);
	free(n);
	free(t);
}

void tn_rx(struct tn *t, struct sn_pkt *p)
{
	sn_dp_underlay_rx(t->n, &p, 1);
}

uint32_t tn_pass(struct tn *from, struct tn *to)
{
	struct sn_pkt *v[TN_MAX];
	uint32_t k = from->n_sent;

	for (uint32_t i = 0; i < k; i++) {
		struct sn_pkt *p = from->sent[i], *q = sn_pool_get(&to->n->pool);

		if (!q)
			fail_msg("receiver's pool is empty");
		memcpy(sn_pkt_data(q), sn_pkt_data(p), p->len);
		q->len = p->len;
		q->addr = from->addr;
		sn_pool_put(&from->n->pool, p);
		v[i] = q;
	}
	from->n_sent = 0;
	for (uint32_t i = 0; i < k; i += SN_BATCH)
		sn_dp_underlay_rx(to->n, v + i, k - i < SN_BATCH ? k - i : SN_BATCH);
	return k;
}

struct sn_peer *tn_peer(struct tn *t, uint32_t id)
{
	struct sn_peer *p = sn_peer_find(&t->n->peers, id);

	if (!p)
		fail_msg("no peer %u", id);
	return p;
}

uint64_t tn_ctr(struct tn *t, uint32_t id, uint32_t ctr)
{
	return id ? tn_peer(t, id)->counters[ctr] : t->n->host.counters[ctr];
}

void tn_later(struct tn *t)
{
	memset(&t->n->verify_rl, 0, sizeof(t->n->verify_rl));
	for (uint32_t i = 0; i < t->n->peers.n; i++)
		t->n->peers.v[i]->cand_tried = false; /* a new candidate epoch may be tried */
}

struct sn_pkt *tn_craft(struct tn *from, struct tn *to, uint8_t flags, const void *p,
			uint32_t len, uint64_t seq, int flip)
{
	struct sn_peer *peer = tn_peer(from, to->n->cfg->node_id);
	struct sn_pkt *k = sn_pool_get(&to->n->pool);
	struct sn_wire_hdr h = {
		.version = SN_WIRE_VERSION,
		.flags = flags,
		.key_id = from->n->cfg->node_id,
		.epoch = peer->s.tx_epoch,
		.seq = seq,
	};

	if (!k)
		fail_msg("receiver's pool is empty");
	memcpy(sn_pkt_data(k), p, len);
	k->len = len;
	if (sn_seal_pkt(&from->n->cr, peer->tx_key, &h, k) < 0)
		fail_msg("cannot seal");
	if (flip >= 0)
		sn_pkt_data(k)[flip] ^= 1;
	k->addr = from->addr;
	return k;
}

struct sn_wire_hdr tn_hdr(const struct sn_pkt *p)
{
	struct sn_wire_hdr h;

	if (sn_wire_decode(sn_pkt_data(p), p->len, &h) != 0)
		fail_msg("a sent datagram does not decode");
	return h;
}

uint32_t tn_ipv4(uint8_t *buf, const char *src, const char *dst)
{
	static const uint8_t tmpl[28] = {
		0x45, 0, 0, 28, 0, 0, 0x40, 0, 64, 17, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 9, 0, 9, 0, 8, 0, 0,
	};

	memcpy(buf, tmpl, sizeof(tmpl));
	inet_pton(AF_INET, src, buf + 12);
	inet_pton(AF_INET, dst, buf + 16);
	return sizeof(tmpl);
}
