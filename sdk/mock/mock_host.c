/* SPDX-License-Identifier: MIT */
/*
 * mock_host.c: the SDK's host for plugin unit tests (mock_host.h says how
 * to use it and what it promises).
 */
#include "mock_host.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOCK_TIMERS 64
#define MOCK_COUNTERS SN_PLUGIN_COUNTERS_MAX
#define MOCK_PEERS 64
#define MOCK_DELIVERED 1024
#define MOCK_LOG (64 * 1024)

struct sn_timer {
	struct sn_host *h;
	sn_timer_cb cb;
	void *arg;
	int armed;
	uint64_t due_ns, repeat_ns;
};

struct mock_counter {
	char name[SN_COUNTER_NAME_MAX + 1];
	char help[SN_COUNTER_HELP_MAX + 1];
	uint64_t value;
};

struct sn_host {
	struct sn_pkt *pkts;         /* the pool's packets */
	uint8_t *mem;                /* their buffers */
	struct sn_pkt **free;        /* free stack */
	uint32_t n_pkts, n_free, headroom;
	uint64_t now_ns;
	int creating, log_level;
	uint64_t counters[SN_CTR_MAX];
	struct { uint32_t id; uint64_t c[SN_CTR_MAX]; } peers[MOCK_PEERS];
	uint32_t n_peers;
	struct mock_counter pc[MOCK_COUNTERS];
	uint32_t n_pc;
	uint32_t head, tail, over;   /* room_set */
	struct sn_timer *timers[MOCK_TIMERS];
	struct sn_pkt *delivered[MOCK_DELIVERED];
	uint32_t n_delivered;
	char log[MOCK_LOG];
	size_t log_len;
};

static void m_log(struct sn_host *h, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void m_log(struct sn_host *h, int level, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	va_list ap;
	int k;

	if (level > h->log_level || level < 0 || h->log_len + 2 >= sizeof(h->log))
		return;
	k = snprintf(h->log + h->log_len, sizeof(h->log) - h->log_len, "%s: ",
		     names[level > 3 ? 3 : level]);
	h->log_len += (size_t)k;
	va_start(ap, fmt);
	k = vsnprintf(h->log + h->log_len, sizeof(h->log) - h->log_len - 1, fmt, ap);
	va_end(ap);
	h->log_len += (size_t)k < sizeof(h->log) - h->log_len - 1 ? (size_t)k :
		      sizeof(h->log) - h->log_len - 2;
	h->log[h->log_len++] = '\n';
	h->log[h->log_len] = 0;
}

static uint64_t m_now_ns(struct sn_host *h)
{
	return h->now_ns;
}

static struct sn_pkt *m_pkt_alloc(struct sn_host *h)
{
	struct sn_pkt *p;

	if (!h->n_free)
		return NULL;
	p = h->free[--h->n_free];
	p->off = h->headroom;
	p->len = p->flags = p->peer_id = 0;
	p->gso_size = p->gso_segs = p->csum_start = p->csum_offset = 0;
	p->user = p->time_ns = 0;
	memset(&p->addr, 0, sizeof(p->addr));
	memset(&p->local, 0, sizeof(p->local)); /* family SN_AF_NONE, as the pool does */
	return p;
}

static void m_pkt_release(struct sn_host *h, struct sn_pkt *p)
{
	if (p < h->pkts || p >= h->pkts + h->n_pkts || h->n_free == h->n_pkts) {
		fprintf(stderr, "mock host: pkt_release of a packet not from the pool, or twice\n");
		abort();
	}
	h->free[h->n_free++] = p;
}

static uint64_t *peer_counters(struct sn_host *h, uint32_t peer_id)
{
	for (uint32_t i = 0; i < h->n_peers; i++)
		if (h->peers[i].id == peer_id)
			return h->peers[i].c;
	if (h->n_peers == MOCK_PEERS)
		return NULL;
	h->peers[h->n_peers].id = peer_id;
	return h->peers[h->n_peers++].c;
}

static void m_count(struct sn_host *h, uint32_t id, uint32_t peer_id, uint64_t n)
{
	uint64_t *pc;

	if (id >= SN_CTR_MAX)
		return;
	h->counters[id] += n;
	if (peer_id && (pc = peer_counters(h, peer_id)))
		pc[id] += n;
}

static struct sn_timer *m_timer_new(struct sn_host *h, sn_timer_cb cb, void *arg)
{
	for (uint32_t i = 0; cb && i < MOCK_TIMERS; i++) {
		if (h->timers[i])
			continue;
		h->timers[i] = calloc(1, sizeof(struct sn_timer));
		if (!h->timers[i])
			return NULL;
		*h->timers[i] = (struct sn_timer){h, cb, arg, 0, 0, 0};
		return h->timers[i];
	}
	return NULL;
}

static int m_timer_start(struct sn_host *h, struct sn_timer *t, uint64_t timeout_ms,
			 uint64_t repeat_ms)
{
	t->armed = 1;
	t->due_ns = h->now_ns + timeout_ms * 1000000;
	t->repeat_ns = repeat_ms * 1000000;
	return 0;
}

static void m_timer_stop(struct sn_host *h, struct sn_timer *t)
{
	(void)h;
	t->armed = 0;
}

static void m_timer_free(struct sn_host *h, struct sn_timer *t)
{
	for (uint32_t i = 0; t && i < MOCK_TIMERS; i++)
		if (h->timers[i] == t) {
			h->timers[i] = NULL;
			free(t);
		}
}

static int m_deliver(struct sn_host *h, struct sn_pkt *const *pkts, uint32_t n)
{
	if (n > MOCK_DELIVERED - h->n_delivered)
		return -ENOBUFS;
	for (uint32_t i = 0; i < n; i++)
		h->delivered[h->n_delivered++] = pkts[i];
	return (int)n;
}

static int m_counter_register(struct sn_host *h, const char *name, const char *help)
{
	if (!h->creating)
		return -EPERM;
	if (!sn_counter_name_ok(name) || !sn_counter_help_ok(help))
		return -EINVAL;
	for (uint32_t i = 0; i < h->n_pc; i++)
		if (!strcmp(h->pc[i].name, name))
			return -EEXIST;
	if (h->n_pc == MOCK_COUNTERS)
		return -ENOSPC;
	snprintf(h->pc[h->n_pc].name, sizeof(h->pc[0].name), "%s", name);
	snprintf(h->pc[h->n_pc].help, sizeof(h->pc[0].help), "%s", help);
	h->pc[h->n_pc].value = 0;
	return (int)h->n_pc++;
}

static void m_counter_add(struct sn_host *h, uint32_t index, uint64_t n)
{
	if (index < h->n_pc)
		h->pc[index].value += n;
}

static int m_log_enabled(struct sn_host *h, int level)
{
	return level <= h->log_level;
}

static int m_room_set(struct sn_host *h, uint32_t headroom, uint32_t tailroom, uint32_t overhead)
{
	if (!h->creating)
		return -EPERM;
	h->head = headroom;
	h->tail = tailroom;
	h->over = overhead;
	return headroom > SN_ROOM_MAX || tailroom > SN_ROOM_MAX || overhead > SN_ROOM_MAX ? -EINVAL
											 : 0;
}

static const struct sn_host_api mock_api = {
	.abi_major = SN_ABI_MAJOR,
	.abi_minor = SN_ABI_MINOR,
	.struct_size = sizeof(struct sn_host_api),
	.log = m_log,
	.now_ns = m_now_ns,
	.pkt_alloc = m_pkt_alloc,
	.pkt_release = m_pkt_release,
	.count = m_count,
	.timer_new = m_timer_new,
	.timer_start = m_timer_start,
	.timer_stop = m_timer_stop,
	.timer_free = m_timer_free,
	.deliver = m_deliver,
	.counter_register = m_counter_register,
	.counter_add = m_counter_add,
	.log_enabled = m_log_enabled,
	.room_set = m_room_set,
};

const struct sn_host_api *sn_mock_api(void)
{
	return &mock_api;
}

struct sn_host *sn_mock_new(uint32_t pkts, uint32_t headroom, uint32_t room)
{
	struct sn_host *h = calloc(1, sizeof(*h));
	size_t buf = (size_t)headroom + room;

	if (!h)
		return NULL;
	h->pkts = calloc(pkts ? pkts : 1, sizeof(*h->pkts));
	h->free = calloc(pkts ? pkts : 1, sizeof(*h->free));
	h->mem = calloc(pkts ? pkts : 1, buf ? buf : 1);
	if (!h->pkts || !h->free || !h->mem) {
		sn_mock_free(h);
		return NULL;
	}
	for (uint32_t i = 0; i < pkts; i++) {
		h->pkts[i].buf = h->mem + i * buf;
		h->pkts[i].cap = (uint32_t)buf;
		h->free[i] = &h->pkts[pkts - 1 - i];
	}
	h->n_pkts = h->n_free = pkts;
	h->headroom = headroom;
	h->now_ns = 1000000000ull;
	h->log_level = SN_LOG_DEBUG;
	return h;
}

void sn_mock_free(struct sn_host *h)
{
	if (!h)
		return;
	for (uint32_t i = 0; i < MOCK_TIMERS; i++)
		free(h->timers[i]);
	free(h->pkts);
	free(h->free);
	free(h->mem);
	free(h);
}

struct sn_create_args sn_mock_args(struct sn_host *h, const struct sn_options *opts, char *err,
				   uint32_t err_len)
{
	struct sn_create_args a;

	memset(&a, 0, sizeof(a));
	a.struct_size = sizeof(a);
	a.host = h;
	a.api = &mock_api;
	if (opts)
		a.options = *opts;
	a.err = err;
	a.err_len = err_len;
	h->creating = 1;
	return a;
}

void sn_mock_created(struct sn_host *h)
{
	h->creating = 0;
}

void sn_mock_log_level(struct sn_host *h, int level)
{
	h->log_level = level;
}

const char *sn_mock_log(const struct sn_host *h)
{
	return h->log;
}

void sn_mock_log_clear(struct sn_host *h)
{
	h->log_len = 0;
	h->log[0] = 0;
}

/* The armed timer due first at or before limit, or NULL. */
static struct sn_timer *next_due(struct sn_host *h, uint64_t limit)
{
	struct sn_timer *best = NULL;

	for (uint32_t i = 0; i < MOCK_TIMERS; i++) {
		struct sn_timer *t = h->timers[i];

		if (t && t->armed && t->due_ns <= limit && (!best || t->due_ns < best->due_ns))
			best = t;
	}
	return best;
}

uint32_t sn_mock_advance(struct sn_host *h, uint64_t ms)
{
	uint64_t end = h->now_ns + ms * 1000000;
	struct sn_timer *t;
	uint32_t ran = 0;

	while ((t = next_due(h, end))) {
		h->now_ns = t->due_ns > h->now_ns ? t->due_ns : h->now_ns;
		if (t->repeat_ns)
			t->due_ns += t->repeat_ns;
		else
			t->armed = 0;
		ran++;
		t->cb(t->arg); /* may stop, restart or free t */
	}
	h->now_ns = end;
	return ran;
}

uint32_t sn_mock_timers_armed(const struct sn_host *h)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < MOCK_TIMERS; i++)
		n += h->timers[i] && h->timers[i]->armed;
	return n;
}

uint64_t sn_mock_count(const struct sn_host *h, uint32_t id)
{
	return id < SN_CTR_MAX ? h->counters[id] : 0;
}

uint64_t sn_mock_peer_count(const struct sn_host *h, uint32_t peer_id, uint32_t id)
{
	for (uint32_t i = 0; id < SN_CTR_MAX && i < h->n_peers; i++)
		if (h->peers[i].id == peer_id)
			return h->peers[i].c[id];
	return 0;
}

static const struct mock_counter *find_counter(const struct sn_host *h, const char *name)
{
	for (uint32_t i = 0; i < h->n_pc; i++)
		if (!strcmp(h->pc[i].name, name))
			return &h->pc[i];
	return NULL;
}

uint64_t sn_mock_counter(const struct sn_host *h, const char *name)
{
	const struct mock_counter *c = find_counter(h, name);

	return c ? c->value : UINT64_MAX;
}

const char *sn_mock_counter_help(const struct sn_host *h, const char *name)
{
	const struct mock_counter *c = find_counter(h, name);

	return c ? c->help : NULL;
}

void sn_mock_room(const struct sn_host *h, uint32_t *headroom, uint32_t *tailroom,
		  uint32_t *overhead)
{
	*headroom = h->head;
	*tailroom = h->tail;
	*overhead = h->over;
}

uint32_t sn_mock_pool_free(const struct sn_host *h)
{
	return h->n_free;
}

struct sn_pkt *const *sn_mock_delivered(const struct sn_host *h, uint32_t *n)
{
	*n = h->n_delivered;
	return h->delivered;
}

void sn_mock_delivered_clear(struct sn_host *h)
{
	for (uint32_t i = 0; i < h->n_delivered; i++)
		m_pkt_release(h, h->delivered[i]);
	h->n_delivered = 0;
}
