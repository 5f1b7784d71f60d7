/* SPDX-License-Identifier: MIT */
#include "daemon.h"

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdlib.h>
#include <string.h>

#include "build_config.h"
#include "log.h"
#include "node.h"
#include "stack.h"

static const char *plugin_dir(const struct sn_daemon_opts *o, const struct sn_config *c)
{
	if (o->plugin_dir)
		return o->plugin_dir;
	if (c->plugin_dir)
		return c->plugin_dir;
	return SN_PLUGIN_DIR;
}

static int load_config(const struct sn_daemon_opts *o, struct sn_config **c)
{
	char err[2048];

	if (sn_config_load(o->config, c, err, sizeof(err)) < 0) {
		sn_log_fatal("subnetrad", err);
		return -1;
	}
	return 0;
}

static void print_peer(FILE *out, const struct sn_conf_peer *p)
{
	char buf[24], ep[64] = "learned";

	if (p->has & SN_PEER_HAS_ENDPOINT)
		snprintf(ep, sizeof(ep), "%s", p->endpoint_text);
	fprintf(out, "  peer      %s (id %u)", p->name, p->id);
	if (p->has & SN_PEER_HAS_ADDRESS) {
		struct sn_prefix a = {p->address, 32, {0}};

		fprintf(out, ", overlay %s", sn_prefix_str(&a, buf, sizeof(buf)));
	}
	fprintf(out, ", endpoint %s", ep);
	for (uint32_t i = 0; i < p->n_routes; i++)
		fprintf(out, "%s%s", i ? ", " : ", routes ", sn_prefix_str(&p->routes[i], buf, sizeof(buf)));
	fprintf(out, "%s\n", p->has & SN_PEER_HAS_PSK ? ", psk" : "");
}

static void print_plugin(FILE *out, const char *label, const struct sn_plugin *p)
{
	fprintf(out, "  %-9s %s %s (ABI %u.%u) from %s\n", label, p->desc->name,
		p->desc->version ? p->desc->version : "", p->desc->abi_major, p->desc->abi_minor,
		p->path);
}

static void print_summary(FILE *out, const struct sn_node *n)
{
	const struct sn_config *c = n->cfg;
	const struct sn_plugin *pl[3] = {&n->os, &n->crypto, &n->egress};
	struct sn_prefix a = {c->address, c->subnet.len, {0}};
	char buf[24];

	fprintf(out, "%s: configuration OK\n", c->path);
	fprintf(out, "  node      id %u, %s, overlay %s on %s, MTU %u%s\n", c->node_id,
		c->role == SN_ROLE_HUB ? "hub" : "spoke", sn_prefix_str(&a, buf, sizeof(buf)),
		c->ifname, n->mtu.mtu, n->mtu.automatic ? " (automatic)" : "");
	for (uint32_t i = 0; i < c->n_lans; i++)
		fprintf(out, "  lan       %s\n", sn_prefix_str(&c->lans[i], buf, sizeof(buf)));
	for (uint32_t i = 0; i < c->n_peers; i++)
		print_peer(out, &c->peers[i]);
	for (int i = 0; i < 3; i++)
		print_plugin(out, sn_kind_name(pl[i]->kind), pl[i]);
	for (uint32_t i = 0; i < n->eg_stack.n; i++) /* the egresses below the top */
		print_plugin(out, "over", &n->eg_stack.below[i]);
	fprintf(out, "  policy    %u rules, keepalive %u s, state %s, control %s\n",
		sn_policy_count(sn_policy_active(&n->policy)), c->keepalive, c->state_dir,
		c->control_socket);
}

/* A zeroed node with its config loaded; -1 after printing the error. */
static int node_init(struct sn_node *n, const struct sn_daemon_opts *o)
{
	memset(n, 0, sizeof(*n));
	if (load_config(o, &n->cfg) < 0)
		return -1;
	sn_host_init(&n->host, NULL, NULL);
	n->host.log_level = o->log_level;
	n->config_path = o->config;
	n->plugin_dir = plugin_dir(o, n->cfg);
	return 0;
}

int sn_daemon_check(const struct sn_daemon_opts *o, FILE *out)
{
	struct sn_node n;
	struct sn_policy *t;
	char err[2048];
	int rc = 1;

	if (node_init(&n, o) < 0)
		return 1;
	sn_policy_slot_init(&n.policy);
	if (sn_stack_load(&n, err, sizeof(err)) < 0 ||
	    sn_policy_from_config(n.cfg, NULL, 0, 1, &t, err, sizeof(err)) < 0) {
		sn_log_fatal("subnetrad", err);
		goto out;
	}
	sn_policy_publish(&n.policy, t);
	print_summary(out, &n);
	rc = 0;
out:
	sn_policy_slot_destroy(&n.policy);
	sn_stack_unload(&n);
	sn_config_free(n.cfg);
	return rc;
}

int sn_daemon_mtu(const struct sn_daemon_opts *o, unsigned *mtu, char *err, size_t err_len)
{
	struct sn_node n;
	int r;

	if (node_init(&n, o) < 0) {
		snprintf(err, err_len, "the config does not load");
		return -EINVAL;
	}
	r = sn_stack_load(&n, err, err_len);
	*mtu = n.mtu.mtu;
	sn_stack_unload(&n);
	sn_config_free(n.cfg);
	return r;
}

/* Keys live in secret arenas (core/arena.h); locking them is best effort,
 * like the packet pool's. */
static void warn_unlocked(struct sn_node *n)
{
	if (!sn_arena_locked(&n->cfg->arena) || !sn_arena_locked(&n->peer_slab.arena))
		sn_log(&n->host, SN_LOG_WARN, "could not mlock() the memory holding keys "
		       "(RLIMIT_MEMLOCK too low?); continuing unlocked: keys may reach swap");
}

/* $NOTIFY_SOCKET, when a service manager started us (notify.h); a bad
 * one is logged and the node runs without telling anyone. */
static void open_notify(struct sn_node *n)
{
	char err[256];

	n->notify.log = &n->host;
	if (sn_notify_open(&n->notify, getenv("NOTIFY_SOCKET"), err, sizeof(err)) < 0)
		sn_log(&n->host, SN_LOG_WARN, "%s", err);
}

/* Large blocks (a reload's arrays and policy tree of a 10,000-peer hub)
 * are pages of their own, given back when freed: glibc's default raises
 * that threshold after each such free, and a reload's worker thread then
 * keeps megabytes in its malloc arena (bench/README.md, "Memory"). */
static void malloc_big_blocks_mapped(void)
{
#ifdef __GLIBC__
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
}

int sn_daemon_run(const struct sn_daemon_opts *o)
{
	static struct sn_node n; /* large; lives for the whole run */
	char err[2048];
	int rc = 1;

	malloc_big_blocks_mapped();
	if (node_init(&n, o) < 0)
		return 1;
	open_notify(&n);
	if (sn_node_setup(&n, err, sizeof(err)) < 0) {
		sn_log_fatal("subnetrad", err);
		goto out;
	}
	sn_log(&n.host, SN_LOG_INFO, "node %u (%s) up on %s, epoch %u, %u peer(s), crypto %s",
	       n.cfg->node_id, n.is_hub ? "hub" : "spoke", n.os_ops->tun_name(n.os.inst), n.epoch,
	       n.peers.n, n.crypto.desc->name);
	warn_unlocked(&n);
	sn_node_notify_ready(&n);
	sn_node_run(&n);
	sn_node_notify_stopping(&n);
	rc = 0;
out:
	sn_node_teardown(&n);
	sn_notify_close(&n.notify);
	sn_config_free(n.cfg);
	return rc;
}
