/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_node.c: a node assembled the way reactor.c does it, minus
 * the loop, the TUN device and the socket: the real crypto plugin (dlopen()ed
 * from the build tree), peers for a fixed epoch, the policy tree built from
 * the config and published, node and peer counters, and a packet pool sized
 * by the same sum as setup_pool(). Operations of the os and egress plugins
 * are the caller's (fakes that count).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "node.h"
#include "wire.h"

/* Fewer than the daemon's SN_POOL_PKTS: enough for a batch of 64 plus the
 * keepalives it may trigger, and quick to set up. */
#define FZ_POOL_PKTS 256

char *fz_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	FZ_SETUP(f, "cannot open %s", path);
	FZ_SETUP(fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0,
		 "cannot size %s", path);
	buf = malloc((size_t)n + 1);
	FZ_SETUP(buf, "out of memory");
	FZ_SETUP(fread(buf, 1, (size_t)n, f) == (size_t)n, "cannot read %s", path);
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

static void setup_pool(struct sn_node *n)
{
	const struct sn_plugin_desc *cr = n->crypto.desc;
	uint32_t head = (SN_WIRE_HDR_LEN + cr->headroom + 15) & ~15u;
	uint32_t tail = SN_WIRE_TAG_LEN + cr->tailroom;
	uint32_t room = n->cfg->mtu + cr->overhead;

	FZ_SETUP(sn_pool_init(&n->pool, FZ_POOL_PKTS, head, room, tail, false) == 0,
		 "cannot allocate the packet pool");
	n->host.pool = &n->pool;
}

void fz_node_build(struct sn_node *n, struct sn_config *cfg, uint32_t epoch)
{
	struct sn_options none = { 0 };
	struct sn_policy *t;
	char err[1024] = "";

	n->cfg = cfg; /* n->config_path is the caller's: it must outlive reloads */
	n->plugin_dir = fz_plugin_dir();
	sn_host_init(&n->host, NULL, NULL);
	n->host.log_level = SN_LOG_ERROR;
	n->host.peer_counters = sn_peers_counters;
	n->host.ctx = &n->peers;
	FZ_SETUP(sn_loader_load(SN_KIND_CRYPTO, cfg->crypto, n->plugin_dir, &n->crypto, err,
				sizeof(err)) == 0 &&
		 sn_plugin_create(&n->crypto, &n->host, &none, err, sizeof(err)) == 0,
		 "crypto plugin: %s (build the crypto_chacha target first)", err);
	n->cr.ops = sn_plugin_ops(&n->crypto);
	n->cr.inst = n->crypto.inst;
	n->epoch = epoch;
	n->is_hub = cfg->role == SN_ROLE_HUB;
	FZ_SETUP(sn_slab_init(&n->peer_slab, sn_peer_object_size(n->cr.ops->key_ctx_size), 0) == 0 &&
		 sn_peers_build(&n->peers, cfg, &n->cr, &n->peer_slab, epoch, NULL, err,
				sizeof(err)) == 0, "peers: %s", err);
	sn_policy_slot_init(&n->policy);
	FZ_SETUP(sn_policy_from_config(cfg, NULL, 0, ++n->policy_version, &t, err, sizeof(err)) == 0,
		 "policy: %s", err);
	sn_policy_publish(&n->policy, t);
	sn_arena_init(&n->rt_arena, 0);
	setup_pool(n);
}

void fz_node_free(struct sn_node *n)
{
	sn_pool_destroy(&n->pool);
	sn_peers_destroy(&n->peers, &n->cr, &n->peer_slab);
	sn_slab_destroy(&n->peer_slab);
	sn__node_forget_saved(n);
	sn_policy_slot_destroy(&n->policy);
	sn_arena_free(&n->rt_arena);
	sn_plugin_unload(&n->crypto);
	sn_config_free(n->cfg);
	free(n->routes.v);
	n->cfg = NULL;
	n->routes.v = NULL;
}
