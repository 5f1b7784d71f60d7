/* SPDX-License-Identifier: MIT */
#include "host.h"

#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "subnetra/version.h"

struct sn_timer {
	uv_timer_t t;
	sn_timer_cb cb;
	void *arg;
};

static const char *const counter_names[SN_CTR_MAX] = {
	[SN_CTR_RX_PACKETS] = "rx_packets",
	[SN_CTR_RX_BYTES] = "rx_bytes",
	[SN_CTR_TX_PACKETS] = "tx_packets",
	[SN_CTR_TX_BYTES] = "tx_bytes",
	[SN_CTR_TUN_RX] = "tun_rx_packets",
	[SN_CTR_TUN_TX] = "tun_tx_packets",
	[SN_CTR_RELAYED] = "relayed_packets",
	[SN_CTR_KEEPALIVE_RX] = "keepalive_rx",
	[SN_CTR_KEEPALIVE_TX] = "keepalive_tx",
	[SN_CTR_CHALLENGE_RX] = "challenge_rx",
	[SN_CTR_CHALLENGE_TX] = "challenge_tx",
	[SN_CTR_RESPONSE_RX] = "response_rx",
	[SN_CTR_RESPONSE_TX] = "response_tx",
	[SN_CTR_TUN_RX_GSO] = "tun_rx_gso",
	[SN_CTR_TUN_TX_GSO] = "tun_tx_gso",
	[SN_CTR_RX_GRO] = "rx_gro",
	[SN_CTR_TX_GSO] = "tx_gso",
	[SN_CTR_AQM_MARK] = "aqm_marked",
	[SN_CTR_DROP_SHORT] = "short",
	[SN_CTR_DROP_BAD_VERSION] = "bad_version",
	[SN_CTR_DROP_BAD_HEADER] = "bad_header",
	[SN_CTR_DROP_UNKNOWN_PEER] = "unknown_peer",
	[SN_CTR_DROP_UNVERIFIED] = "unverified",
	[SN_CTR_DROP_STALE_EPOCH] = "stale_epoch",
	[SN_CTR_DROP_REPLAY] = "replay",
	[SN_CTR_DROP_AUTH_FAIL] = "auth_fail",
	[SN_CTR_DROP_EPOCH_LIMIT] = "epoch_limit",
	[SN_CTR_DROP_BAD_RESPONSE] = "bad_response",
	[SN_CTR_DROP_BAD_INNER] = "bad_inner",
	[SN_CTR_DROP_INNER_SRC] = "inner_src",
	[SN_CTR_DROP_RELAY_LOOP] = "relay_loop",
	[SN_CTR_DROP_NO_ENDPOINT] = "no_endpoint",
	[SN_CTR_DROP_NOT_LOCAL] = "not_local",
	[SN_CTR_DROP_POLICY_DROP] = "policy_drop",
	[SN_CTR_DROP_NO_ROUTE] = "no_route",
	[SN_CTR_DROP_TUN_LOOP] = "tun_loop",
	[SN_CTR_DROP_TOO_BIG] = "too_big",
	[SN_CTR_DROP_TX_ERROR] = "tx_error",
	[SN_CTR_DROP_TUN_ERROR] = "tun_error",
	[SN_CTR_DROP_NO_BUFFER] = "no_buffer",
	[SN_CTR_DROP_RX_ERROR] = "rx_error",
	[SN_CTR_DROP_RX_OVERFLOW] = "rx_overflow",
	[SN_CTR_DROP_TUN_QUEUE] = "tun_queue",
	[SN_CTR_DROP_AQM] = "aqm",
};

const char *sn_counter_name(uint32_t id)
{
	return id < SN_CTR_MAX && counter_names[id] ? counter_names[id] : "unknown";
}

/* The node's handle behind a layer's (host.h). */
static struct sn_host *node_of(struct sn_host *h)
{
	return h && h->node ? h->node : h;
}

static void vlog(struct sn_host *h, int level, const char *fmt, va_list ap)
{
	h = node_of(h);
	sn_log_v(h && h->log_name ? h->log_name : "subnetrad", h ? h->log_level : SN_LOG_DEBUG,
		 level, fmt, ap);
}

void sn_log(struct sn_host *h, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(h, level, fmt, ap);
	va_end(ap);
}

static void api_log(struct sn_host *h, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(h, level, fmt, ap);
	va_end(ap);
}

static uint64_t api_now_ns(struct sn_host *h)
{
	(void)h;
	return uv_hrtime();
}

static struct sn_pkt *api_pkt_alloc(struct sn_host *h)
{
	h = node_of(h);
	return h->pool ? sn_pool_get(h->pool) : NULL;
}

static void api_pkt_release(struct sn_host *h, struct sn_pkt *p)
{
	h = node_of(h);
	sn_pool_put(h->pool, p);
}

void sn_host_count(struct sn_host *h, uint32_t id, uint32_t peer_id, uint64_t n)
{
	uint64_t *pc;

	h = node_of(h);
	if (id >= SN_CTR_MAX)
		return;
	h->counters[id] += n;
	if (peer_id && h->peer_counters) {
		pc = h->peer_counters(h->ctx, peer_id);
		if (pc)
			pc[id] += n;
	}
}

static void on_timer(uv_timer_t *t)
{
	struct sn_timer *st = (struct sn_timer *)t;

	st->cb(st->arg);
}

static struct sn_timer *api_timer_new(struct sn_host *h, sn_timer_cb cb, void *arg)
{
	struct sn_timer *t;

	h = node_of(h);
	if (!h->loop || !cb)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	if (uv_timer_init(h->loop, &t->t) != 0) {
		free(t);
		return NULL;
	}
	t->cb = cb;
	t->arg = arg;
	return t;
}

static int api_timer_start(struct sn_host *h, struct sn_timer *t, uint64_t timeout_ms,
			   uint64_t repeat_ms)
{
	(void)h;
	return uv_timer_start(&t->t, on_timer, timeout_ms, repeat_ms);
}

static void api_timer_stop(struct sn_host *h, struct sn_timer *t)
{
	(void)h;
	uv_timer_stop(&t->t);
}

static void timer_closed(uv_handle_t *handle)
{
	free(handle);
}

/* At shutdown the host closes every handle of its loop, plugin timers
 * included, before it destroys the plugins (reactor.c): a timer freed
 * after that is already closed, its loop gone, and only its memory left. */
static void api_timer_free(struct sn_host *h, struct sn_timer *t)
{
	if (!t)
		return;
	h = node_of(h);
	if (!h->loop)
		free(t);
	else
		uv_close((uv_handle_t *)&t->t, timer_closed);
}

/* The node's handle: the receive path (datapath.c, sn_dp_deliver); a
 * layer's: the layer above (stack.c). */
static int api_deliver(struct sn_host *h, struct sn_pkt *const *pkts, uint32_t n)
{
	if (!h->deliver)
		return -ENOTSUP;
	if (n == 0)
		return 0;
	return h->deliver(h->deliver_ctx, pkts, n);
}

/* The plugin in create() is marked on the handle it was given (a layer's
 * own, below the top of the egress stack); its counters live in the
 * node's handle, where status and metrics find them. */
static int api_counter_register(struct sn_host *lh, const char *name, const char *help)
{
	struct sn_host_decl *d = lh->creating;
	struct sn_host *h = node_of(lh);
	struct sn_host_pctr *c;

	if (!d)
		return -EPERM;
	if (!sn_counter_name_ok(name) || !sn_counter_help_ok(help))
		return -EINVAL;
	for (uint32_t i = 0; i < h->n_pctr; i++)
		if (h->pctr[i].owner == d && !strcmp(h->pctr[i].name, name))
			return -EEXIST;
	if (d->n_counters == SN_PLUGIN_COUNTERS_MAX || h->n_pctr == SN_HOST_PCTR_MAX)
		return -ENOSPC;
	c = &h->pctr[h->n_pctr];
	c->owner = d;
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->help, sizeof(c->help), "%s", help);
	h->pctr_val[h->n_pctr] = 0;
	d->n_counters++;
	return (int)h->n_pctr++;
}

static void api_counter_add(struct sn_host *h, uint32_t index, uint64_t n)
{
	h = node_of(h);
	if (index < SN_HOST_PCTR_MAX)
		h->pctr_val[index] += n;
}

void sn_host_drop_counters(struct sn_host *h, const struct sn_host_decl *d)
{
	h = node_of(h);
	for (uint32_t i = 0; i < h->n_pctr; i++)
		if (h->pctr[i].owner == d)
			h->pctr[i].owner = NULL;
	while (h->n_pctr && !h->pctr[h->n_pctr - 1].owner)
		h->n_pctr--;
}

static int api_log_enabled(struct sn_host *h, int level)
{
	h = node_of(h);
	return level <= (h ? h->log_level : SN_LOG_DEBUG);
}

static int api_room_set(struct sn_host *h, uint32_t headroom, uint32_t tailroom,
			uint32_t overhead)
{
	struct sn_host_decl *d = h->creating;

	if (!d)
		return -EPERM;
	d->headroom = headroom;
	d->tailroom = tailroom;
	d->overhead = overhead;
	return headroom > SN_ROOM_MAX || tailroom > SN_ROOM_MAX || overhead > SN_ROOM_MAX ? -EINVAL
											 : 0;
}

static const struct sn_host_api api = {
	.abi_major = SN_ABI_MAJOR,
	.abi_minor = SN_ABI_MINOR,
	.struct_size = sizeof(struct sn_host_api),
	.log = api_log,
	.now_ns = api_now_ns,
	.pkt_alloc = api_pkt_alloc,
	.pkt_release = api_pkt_release,
	.count = sn_host_count,
	.timer_new = api_timer_new,
	.timer_start = api_timer_start,
	.timer_stop = api_timer_stop,
	.timer_free = api_timer_free,
	.deliver = api_deliver,
	.counter_register = api_counter_register,
	.counter_add = api_counter_add,
	.log_enabled = api_log_enabled,
	.room_set = api_room_set,
};

const struct sn_host_api *sn_host_api_table(void)
{
	return &api;
}

void sn_host_init(struct sn_host *h, struct uv_loop_s *loop, struct sn_pool *pool)
{
	memset(h, 0, sizeof(*h));
	h->node = h;
	h->loop = loop;
	h->pool = pool;
	h->log_name = "subnetrad";
	h->log_level = SN_LOG_INFO;
}

void sn_host_init_layer(struct sn_host *h, struct sn_host *node, sn_deliver_fn fn, void *ctx)
{
	memset(h, 0, sizeof(*h));
	h->node = node;
	h->deliver = fn;
	h->deliver_ctx = ctx;
	h->log_name = node->log_name;
	h->log_level = node->log_level;
}
