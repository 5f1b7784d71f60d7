/* SPDX-License-Identifier: MIT */
/*
 * core/ctl_format.c: what the control commands print: status, peers and
 * policy list as aligned tables with human units or as one JSON object,
 * metrics in the Prometheus text exposition format 0.0.4. Everything is
 * written into the request's arena; nothing here touches the loop, so
 * tests call these with a node they filled in by hand.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "node.h"
#include "build_config.h"

/* ---- the output buffer -------------------------------------------------- */

void sn__ctl_out_init(struct sn_ctl_out *o, struct sn_arena *a)
{
	memset(o, 0, sizeof(*o));
	o->arena = a;
}

void sn__ctl_out_reset(struct sn_ctl_out *o)
{
	o->len = 0;
	o->err = 0;
	if (o->buf)
		o->buf[0] = '\0';
}

/* Room for more bytes plus a NUL. A bigger buffer is a new arena block
 * (the old one stays until the request ends: at most twice the output). */
static int reserve(struct sn_ctl_out *o, size_t more)
{
	size_t cap = o->cap ? o->cap : 1024;
	char *nb;

	if (o->err)
		return o->err;
	if (o->len + more < o->cap)
		return 0;
	while (cap <= o->len + more)
		cap *= 2;
	nb = sn_arena_alloc(o->arena, cap);
	if (!nb)
		return o->err = -ENOMEM;
	if (o->len)
		memcpy(nb, o->buf, o->len);
	o->buf = nb;
	o->cap = cap;
	return 0;
}

static void put_n(struct sn_ctl_out *o, const char *s, size_t n)
{
	if (reserve(o, n) < 0)
		return;
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

void sn__ctl_put(struct sn_ctl_out *o, const char *s)
{
	put_n(o, s, strlen(s));
}

void sn__ctl_printf(struct sn_ctl_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || reserve(o, (size_t)n) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	o->len += (size_t)n;
}

void sn__ctl_json_str(struct sn_ctl_out *o, const char *s)
{
	put_n(o, "\"", 1);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			sn__ctl_printf(o, "\\%c", c);
		else if (c < 0x20)
			sn__ctl_printf(o, "\\u%04x", c);
		else
			put_n(o, s, 1);
	}
	put_n(o, "\"", 1);
}

/* A Prometheus label value: backslash, quote and newline escaped. */
static void label_str(struct sn_ctl_out *o, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\' || *s == '"')
			sn__ctl_printf(o, "\\%c", *s);
		else if (*s == '\n')
			put_n(o, "\\n", 2);
		else
			put_n(o, s, 1);
	}
}

/* ---- human units -------------------------------------------------------- */

const char *sn__ctl_bytes(uint64_t v, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double d = (double)v;
	int i = 0;

	if (v < 1024) {
		snprintf(buf, len, "%llu B", (unsigned long long)v);
		return buf;
	}
	while (d >= 1023.95 && i < 6) {
		d /= 1024;
		i++;
	}
	snprintf(buf, len, "%.1f %s", d, unit[i]);
	return buf;
}

const char *sn__ctl_count(uint64_t v, char *buf, size_t len)
{
	static const char unit[] = " kMGTPE";
	double d = (double)v;
	int i = 0;

	if (v < 1000) {
		snprintf(buf, len, "%llu", (unsigned long long)v);
		return buf;
	}
	while (d >= 999.95 && i < 6) {
		d /= 1000;
		i++;
	}
	snprintf(buf, len, "%.1f%c", d, unit[i]);
	return buf;
}

const char *sn__ctl_duration(uint64_t s, char *buf, size_t len)
{
	unsigned long long v = s;

	if (v < 60)
		snprintf(buf, len, "%llus", v);
	else if (v < 3600)
		snprintf(buf, len, "%llum%02llus", v / 60, v % 60);
	else if (v < 86400)
		snprintf(buf, len, "%lluh%02llum", v / 3600, v / 60 % 60);
	else
		snprintf(buf, len, "%llud%02lluh", v / 86400, v / 3600 % 24);
	return buf;
}

/* ---- node facts ---------------------------------------------------------- */

const char *sn__ctl_addr_str(const struct sn_addr *a, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (a->family == SN_AF_INET6) {
		inet_ntop(AF_INET6, a->ip, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, a->port);
	} else if (a->family == SN_AF_INET) {
		inet_ntop(AF_INET, a->ip, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, a->port);
	} else {
		snprintf(buf, len, "-");
	}
	return buf;
}

/* The bound underlay address when the egress is open, else the config's. */
static const char *listen_str(const struct sn_node *n, char *buf, size_t len)
{
	struct sn_addr a = n->cfg->listen;

	if (n->eg_ops && n->egress.inst && n->eg_ops->local_addr(n->egress.inst, &a) < 0)
		a = n->cfg->listen;
	if (a.family == SN_AF_NONE && a.port == 0)
		snprintf(buf, len, "any");
	else if (a.family == SN_AF_NONE)
		snprintf(buf, len, "0.0.0.0:%u", a.port);
	else
		sn__ctl_addr_str(&a, buf, len);
	return buf;
}

static const char *ifname(const struct sn_node *n)
{
	if (n->os_ops && n->os.inst)
		return n->os_ops->tun_name(n->os.inst);
	return n->cfg->ifname;
}

static uint64_t secs(uint64_t now_ns, uint64_t then_ns)
{
	return now_ns > then_ns ? (now_ns - then_ns) / 1000000000u : 0;
}

static uint64_t policy_version(const struct sn_node *n)
{
	const struct sn_policy *t = sn_policy_active(&n->policy);

	return t ? sn_policy_version(t) : n->policy_version;
}

static uint32_t policy_count(const struct sn_node *n)
{
	const struct sn_policy *t = sn_policy_active(&n->policy);

	return t ? sn_policy_count(t) : 0;
}

static const char *role_name(const struct sn_node *n)
{
	return n->cfg->role == SN_ROLE_HUB ? "hub" : "spoke";
}

/* Counters that are per peer as well as node-wide (not those of the TUN
 * device and of the underlay's offloads). */
static bool per_peer(uint32_t id)
{
	switch (id) {
	case SN_CTR_TUN_RX:
	case SN_CTR_TUN_TX:
	case SN_CTR_TUN_RX_GSO:
	case SN_CTR_TUN_TX_GSO:
	case SN_CTR_RX_GRO:
	case SN_CTR_TX_GSO:
		return false;
	default:
		return true;
	}
}

/* ---- aligned tables ------------------------------------------------------ */

#define TABLE_MAX_COLS 12

struct table {
	struct sn_ctl_out *o;
	uint32_t ncol, nrow, max_rows, col;
	uint32_t right;      /* bit i: column i is right-aligned */
	const char **cell;   /* max_rows * ncol */
};

static int table_init(struct table *t, struct sn_ctl_out *o, uint32_t ncol, uint32_t max_rows,
		      uint32_t right)
{
	memset(t, 0, sizeof(*t));
	t->o = o;
	t->ncol = ncol;
	t->max_rows = max_rows;
	t->right = right;
	t->cell = sn_arena_alloc(o->arena, (size_t)ncol * max_rows * sizeof(*t->cell));
	if (!t->cell)
		o->err = -ENOMEM;
	return t->cell ? 0 : -ENOMEM;
}

static void table_row(struct table *t)
{
	if (t->nrow < t->max_rows)
		t->nrow++;
	t->col = 0;
}

static void cell(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void cell(struct table *t, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (!t->cell || !t->nrow || t->col >= t->ncol)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	t->cell[(t->nrow - 1) * t->ncol + t->col++] = sn_arena_strdup(t->o->arena, buf);
}

/* Display width: UTF-8 continuation bytes take no column. */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; s && *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static void pad(struct sn_ctl_out *o, size_t n)
{
	while (n--)
		put_n(o, " ", 1);
}

static void table_print(struct table *t)
{
	size_t w[TABLE_MAX_COLS] = { 0 };

	for (uint32_t r = 0; r < t->nrow; r++)
		for (uint32_t c = 0; c < t->ncol && c < TABLE_MAX_COLS; c++)
			if (width(t->cell[r * t->ncol + c]) > w[c])
				w[c] = width(t->cell[r * t->ncol + c]);
	for (uint32_t r = 0; r < t->nrow; r++) {
		for (uint32_t c = 0; c < t->ncol && c < TABLE_MAX_COLS; c++) {
			const char *s = t->cell[r * t->ncol + c] ? t->cell[r * t->ncol + c] : "";
			bool last = c + 1 == t->ncol, right = t->right & (1u << c);

			if (right)
				pad(t->o, w[c] - width(s));
			sn__ctl_put(t->o, s);
			if (!last && !right)
				pad(t->o, w[c] - width(s));
			if (!last)
				put_n(t->o, "  ", 2);
		}
		put_n(t->o, "\n", 1);
	}
}

/* ---- status -------------------------------------------------------------- */

/* "auth_fail 3, replay 1" for the non-zero drop counters, or "-". */
static const char *drops_str(struct sn_arena *a, const uint64_t *ctr)
{
	struct sn_ctl_out o;

	sn__ctl_out_init(&o, a);
	for (uint32_t i = SN_CTR_FIRST_DROP; i < SN_CTR_MAX; i++)
		if (ctr[i])
			sn__ctl_printf(&o, "%s%s %llu", o.len ? ", " : "", sn_counter_name(i),
				       (unsigned long long)ctr[i]);
	return o.len ? o.buf : "-";
}

/* How many peers are in each state (enum sn_peer_state). */
static void count_states(const struct sn_node *n, uint32_t k[3])
{
	k[0] = k[1] = k[2] = 0;
	for (uint32_t i = 0; i < n->peers.n; i++)
		if (n->peers.v[i]->s.state < 3)
			k[n->peers.v[i]->s.state]++;
}

/* "1.234 ms" of a time in microseconds. */
static const char *ms_str(uint64_t us, char *b, size_t len)
{
	snprintf(b, len, "%llu.%03llu ms", (unsigned long long)(us / 1000),
		 (unsigned long long)(us % 1000));
	return b;
}

/* How long the underlay's datagrams waited before the node took them
 * (sojourn.h): quantiles as their bucket's upper bound. */
static void sojourn_text(struct sn_ctl_out *o, const struct sn_sojourn *h)
{
	char b[4][32];

	if (!h->packets)
		return;
	sn__ctl_printf(o, "  sojourn   p50 < %s, p99 < %s, max %s over %s datagrams\n",
		       ms_str(sn_sojourn_quantile_us(h, 500), b[0], 32),
		       ms_str(sn_sojourn_quantile_us(h, 990), b[1], 32),
		       ms_str(h->max_ns / 1000, b[2], 32), sn__ctl_count(h->packets, b[3], 32));
}

/* "sojourn":{...}: the quantiles, the maximum and the non-empty buckets
 * as [lower bound in us, count] (sojourn.h), so that two samples can be
 * subtracted. */
static void sojourn_json(struct sn_ctl_out *o, const struct sn_sojourn *h)
{
	bool sep = false;

	sn__ctl_printf(o, ",\"sojourn\":{\"packets\":%llu,\"p50_us\":%llu,\"p90_us\":%llu,"
		       "\"p99_us\":%llu,\"max_us\":%llu,\"buckets\":[",
		       (unsigned long long)h->packets,
		       (unsigned long long)sn_sojourn_quantile_us(h, 500),
		       (unsigned long long)sn_sojourn_quantile_us(h, 900),
		       (unsigned long long)sn_sojourn_quantile_us(h, 990),
		       (unsigned long long)(h->max_ns / 1000));
	for (uint32_t i = 0; i < SN_SOJOURN_BUCKETS; i++) {
		if (!h->count[i])
			continue;
		sn__ctl_printf(o, "%s[%llu,%llu]", sep ? "," : "",
			       (unsigned long long)sn_sojourn_lo_us(i),
			       (unsigned long long)h->count[i]);
		sep = true;
	}
	sn__ctl_put(o, "]}");
}

static void status_node_text(struct sn_ctl_out *o, const struct sn_node *n, uint64_t now_ns)
{
	uint32_t st[3];
	const struct sn_config *c = n->cfg;
	const uint64_t *k = n->host.counters;
	struct sn_prefix ov = { c->address, c->subnet.len, { 0 } };
	char b[6][32], ep[64];

	sn__ctl_printf(o, "node %u (%s), epoch %u, up %s\n", c->node_id, role_name(n), n->epoch,
		       sn__ctl_duration(secs(now_ns, n->start_ns), b[0], sizeof(b[0])));
	sn__ctl_printf(o, "  overlay   %s on %s, MTU %u%s\n", sn_prefix_str(&ov, b[0], sizeof(b[0])),
		       ifname(n), n->mtu.mtu, n->mtu.automatic ? " (automatic)" : "");
	sn__ctl_printf(o, "  listen    %s\n", listen_str(n, ep, sizeof(ep)));
	sn__ctl_printf(o, "  policy    version %llu, %u rules (%u run-time), %llu reloads\n",
		       (unsigned long long)policy_version(n), policy_count(n), n->n_rt_rules,
		       (unsigned long long)n->reloads);
	sn__ctl_printf(o, "  underlay  rx %s packets (%s), tx %s packets (%s)\n",
		       sn__ctl_count(k[SN_CTR_RX_PACKETS], b[0], 32),
		       sn__ctl_bytes(k[SN_CTR_RX_BYTES], b[1], 32),
		       sn__ctl_count(k[SN_CTR_TX_PACKETS], b[2], 32),
		       sn__ctl_bytes(k[SN_CTR_TX_BYTES], b[3], 32));
	sn__ctl_printf(o, "  tun       rx %s, tx %s packets; relayed %s; keepalives rx %s, tx %s\n",
		       sn__ctl_count(k[SN_CTR_TUN_RX], b[0], 32),
		       sn__ctl_count(k[SN_CTR_TUN_TX], b[1], 32),
		       sn__ctl_count(k[SN_CTR_RELAYED], b[2], 32),
		       sn__ctl_count(k[SN_CTR_KEEPALIVE_RX], b[3], 32),
		       sn__ctl_count(k[SN_CTR_KEEPALIVE_TX], b[4], 32));
	sn__ctl_printf(o, "  offload   tun %s super-packets in, %s coalesced out; underlay %s GRO "
		       "buffers in, %s GSO messages out\n",
		       sn__ctl_count(k[SN_CTR_TUN_RX_GSO], b[0], 32),
		       sn__ctl_count(k[SN_CTR_TUN_TX_GSO], b[1], 32),
		       sn__ctl_count(k[SN_CTR_RX_GRO], b[2], 32),
		       sn__ctl_count(k[SN_CTR_TX_GSO], b[3], 32));
	if (c->aqm_on)
		sn__ctl_printf(o, "  aqm       CoDel, target %u.%03u ms, interval %u.%03u ms; %s marked, "
			       "%s dropped\n", c->aqm_target_us / 1000, c->aqm_target_us % 1000,
			       c->aqm_interval_us / 1000, c->aqm_interval_us % 1000,
			       sn__ctl_count(k[SN_CTR_AQM_MARK], b[0], 32),
			       sn__ctl_count(k[SN_CTR_DROP_AQM], b[1], 32));
	else
		sn__ctl_put(o, "  aqm       off\n");
	sojourn_text(o, &n->sojourn);
	sn__ctl_printf(o, "  drops     %s\n", drops_str(o->arena, k));
	sn__ctl_plugin_text(o, &n->host);
	count_states(n, st);
	sn__ctl_printf(o, "  peers     %u: %u verified, %u unverified, %u waiting for an epoch move\n",
		       n->peers.n, st[SN_PEER_VERIFIED], st[SN_PEER_UNVERIFIED], st[SN_PEER_EPOCH_WAIT]);
}

static const char *state_name(const struct sn_peer *p)
{
	static const char *const v[] = { "unverified", "verified", "epoch_wait" };

	return p->s.state < 3 ? v[p->s.state] : "?";
}

static void peer_row(struct table *t, const struct sn_peer *p, uint64_t now_ns)
{
	const uint64_t *k = p->counters;
	char b[64];

	table_row(t);
	cell(t, "%u", p->id);
	cell(t, "%s", p->name[0] ? p->name : "-");
	cell(t, "%s", sn__ctl_addr_str(&p->s.endpoint, b, sizeof(b)));
	cell(t, "%s", state_name(p));
	if (p->s.last_rx_ns)
		cell(t, "%s ago", sn__ctl_duration(secs(now_ns, p->s.last_rx_ns), b, sizeof(b)));
	else
		cell(t, "never");
	cell(t, "%s", sn__ctl_count(k[SN_CTR_RX_PACKETS], b, sizeof(b)));
	cell(t, "%s", sn__ctl_bytes(k[SN_CTR_RX_BYTES], b, sizeof(b)));
	cell(t, "%s", sn__ctl_count(k[SN_CTR_TX_PACKETS], b, sizeof(b)));
	cell(t, "%s", sn__ctl_bytes(k[SN_CTR_TX_BYTES], b, sizeof(b)));
	if (p->s.rx_has_epoch)
		cell(t, "%u", p->s.rx_epoch);
	else
		cell(t, "-");
	cell(t, "%llu", (unsigned long long)p->s.epochs_accepted);
	cell(t, "%s", drops_str(t->o->arena, k));
}

/* Right-aligned columns of the peer table: the four traffic columns and
 * the epoch count. */
#define PEER_RIGHT ((1u << 5) | (1u << 6) | (1u << 7) | (1u << 8) | (1u << 10))

static void status_peers_text(struct sn_ctl_out *o, const struct sn_node *n, uint64_t now_ns,
			      const struct sn_peer *only)
{
	struct table t;

	if (!n->peers.n) {
		sn__ctl_put(o, "no peers\n");
		return;
	}
	if (table_init(&t, o, 12, (only ? 1 : n->peers.n) + 1, PEER_RIGHT) < 0)
		return;
	table_row(&t);
	cell(&t, "ID");
	cell(&t, "PEER");
	cell(&t, "ENDPOINT");
	cell(&t, "STATE");
	cell(&t, "LAST RX");
	cell(&t, "RX PKTS");
	cell(&t, "RX BYTES");
	cell(&t, "TX PKTS");
	cell(&t, "TX BYTES");
	cell(&t, "EPOCH");
	cell(&t, "EPOCHS");
	cell(&t, "DROPS");
	for (uint32_t i = 0; i < n->peers.n; i++)
		if (!only || n->peers.v[i] == only)
			peer_row(&t, n->peers.v[i], now_ns);
	table_print(&t);
}

/* "name":value for counters first..last-1, all of them (zeros too). */
static void json_counters(struct sn_ctl_out *o, const uint64_t *k, uint32_t first, uint32_t last,
			  bool peer)
{
	bool sep = false;

	for (uint32_t i = first; i < last; i++) {
		if (peer && !per_peer(i))
			continue;
		sn__ctl_printf(o, "%s\"%s\":%llu", sep ? "," : "", sn_counter_name(i),
			       (unsigned long long)k[i]);
		sep = true;
	}
}

/* The peers by state, the last reload's switch, and the loop's longest
 * iterations when they are measured (core/loopstat.c). */
static void json_node_scale(struct sn_ctl_out *o, const struct sn_node *n)
{
	const struct sn_loopstat *ls = &n->lstat;
	uint32_t st[3];

	count_states(n, st);
	sn__ctl_printf(o, ",\"peers_total\":%u,\"peers_verified\":%u,\"peers_unverified\":%u,"
		       "\"peers_epoch_wait\":%u,\"reload_switch_us\":%llu", n->peers.n,
		       st[SN_PEER_VERIFIED], st[SN_PEER_UNVERIFIED], st[SN_PEER_EPOCH_WAIT],
		       (unsigned long long)(n->commit_ns / 1000));
	if (ls->on)
		sn__ctl_printf(o, ",\"loop\":{\"iterations\":%llu,\"busy_max_us\":%llu,"
			       "\"reload_busy_max_us\":%llu,\"cpu_max_us\":%llu,"
			       "\"reload_cpu_max_us\":%llu}", (unsigned long long)ls->iterations,
			       (unsigned long long)(ls->busy_max_ns / 1000),
			       (unsigned long long)(ls->reload_busy_max_ns / 1000),
			       (unsigned long long)(ls->cpu_max_ns / 1000),
			       (unsigned long long)(ls->reload_cpu_max_ns / 1000));
}

/* The egress at the bottom of the stack, the one that talks to the kernel,
 * sends runs (a layer above marks them for it: docs/plugin-sdk.md,
 * "Composition"). */
static bool underlay_runs(const struct sn_node *n)
{
	const struct sn_plugin *p = n->eg_stack.n ? &n->eg_stack.below[n->eg_stack.n - 1]
						   : &n->egress;
	const struct sn_egress_ops *ops = p->desc ? sn_plugin_ops(p) : NULL;

	return n->eg_stack.n ? ops && (ops->flags & SN_EGRESS_F_GSO) : n->eg_gso;
}

static void json_node(struct sn_ctl_out *o, const struct sn_node *n, uint64_t now_ns)
{
	const struct sn_config *c = n->cfg;
	struct sn_prefix ov = { c->address, c->subnet.len, { 0 } };
	char b[32], ep[64];

	sn__ctl_printf(o, "\"node\":{\"id\":%u,\"role\":\"%s\",\"epoch\":%u,\"uptime_seconds\":%llu,",
		       c->node_id, role_name(n), n->epoch,
		       (unsigned long long)secs(now_ns, n->start_ns));
	sn__ctl_printf(o, "\"policy_version\":%llu,\"policy_rules\":%u,\"runtime_rules\":%u,"
		       "\"reloads\":%llu,\"interface\":", (unsigned long long)policy_version(n),
		       policy_count(n), n->n_rt_rules, (unsigned long long)n->reloads);
	sn__ctl_json_str(o, ifname(n));
	sn__ctl_printf(o, ",\"overlay\":\"%s\",\"mtu\":%u,\"mtu_automatic\":%s,"
		       "\"datagram_max\":%u,\"listen\":\"%s\",", sn_prefix_str(&ov, b, sizeof(b)),
		       n->mtu.mtu, n->mtu.automatic ? "true" : "false", n->mtu.datagram,
		       listen_str(n, ep, sizeof(ep)));

	json_counters(o, n->host.counters, 0, SN_CTR_FIRST_DROP, false);
	sn__ctl_printf(o, ",\"offload\":{\"tun_rx\":%s,\"tun_tx\":%s,\"underlay_runs\":%s}",
		       n->tun_offload & SN_TUN_OFFLOAD_RX ? "true" : "false",
		       n->tun_offload & SN_TUN_OFFLOAD_TX ? "true" : "false",
		       underlay_runs(n) ? "true" : "false");
	if (c->aqm_on)
		sn__ctl_printf(o, ",\"aqm\":{\"target_us\":%u,\"interval_us\":%u}",
			       c->aqm_target_us, c->aqm_interval_us);
	else
		sn__ctl_put(o, ",\"aqm\":null");
	sojourn_json(o, &n->sojourn);
	json_node_scale(o, n);
	sn__ctl_put(o, "}");
}

static void json_peer(struct sn_ctl_out *o, const struct sn_peer *p, uint64_t now_ns)
{
	char b[64];

	sn__ctl_printf(o, "{\"id\":%u,\"name\":", p->id);
	sn__ctl_json_str(o, p->name);
	if (p->s.endpoint.family != SN_AF_NONE)
		sn__ctl_printf(o, ",\"endpoint\":\"%s\"", sn__ctl_addr_str(&p->s.endpoint, b, sizeof(b)));
	else
		sn__ctl_put(o, ",\"endpoint\":null");
	if (p->s.last_rx_ns)
		sn__ctl_printf(o, ",\"last_rx_seconds\":%llu",
			       (unsigned long long)secs(now_ns, p->s.last_rx_ns));
	else
		sn__ctl_put(o, ",\"last_rx_seconds\":null");
	if (p->s.rx_has_epoch)
		sn__ctl_printf(o, ",\"rx_epoch\":%u", p->s.rx_epoch);
	else
		sn__ctl_put(o, ",\"rx_epoch\":null");
	sn__ctl_printf(o, ",\"epochs_accepted\":%llu,\"state\":\"%s\",",
		       (unsigned long long)p->s.epochs_accepted, state_name(p));
	if (p->s.verified_ns)
		sn__ctl_printf(o, "\"verified_seconds\":%llu,",
			       (unsigned long long)secs(now_ns, p->s.verified_ns));
	else
		sn__ctl_put(o, "\"verified_seconds\":null,");
	json_counters(o, p->counters, 0, SN_CTR_FIRST_DROP, true);
	sn__ctl_put(o, ",\"drops\":{");
	json_counters(o, p->counters, SN_CTR_FIRST_DROP, SN_CTR_MAX, false);
	sn__ctl_put(o, "}}");
}

static void json_peers(struct sn_ctl_out *o, const struct sn_node *n, uint64_t now_ns,
		       const struct sn_peer *only)
{
	bool sep = false;

	sn__ctl_put(o, "\"peers\":[");
	for (uint32_t i = 0; i < n->peers.n; i++) {
		if (only && n->peers.v[i] != only)
			continue;
		if (sep)
			sn__ctl_put(o, ",");
		json_peer(o, n->peers.v[i], now_ns);
		sep = true;
	}
	sn__ctl_put(o, "]");
}

/* The egress stack, top first ("fec_xor over raw_direct"); the counters of
 * each are plugin counters (ctl_plugin.c). */
static const struct sn_plugin *egress_layer(const struct sn_node *n, uint32_t i)
{
	const struct sn_plugin *p = i == 0 ? &n->egress : &n->eg_stack.below[i - 1];

	return p->desc ? p : NULL;
}

static void status_egress_text(struct sn_ctl_out *o, const struct sn_node *n)
{
	const struct sn_plugin *p;

	for (uint32_t i = 0; i <= n->eg_stack.n && (p = egress_layer(n, i)); i++)
		sn__ctl_printf(o, "%s%s", i ? " over " : "  egress    ", p->desc->name);
	sn__ctl_put(o, n->egress.desc ? "\n" : "");
}

static void json_egress(struct sn_ctl_out *o, const struct sn_node *n)
{
	const struct sn_plugin *p;

	sn__ctl_put(o, ",\"egress\":[");
	for (uint32_t i = 0; i <= n->eg_stack.n && (p = egress_layer(n, i)); i++) {
		sn__ctl_put(o, i ? "," : "");
		sn__ctl_json_str(o, p->desc->name);
	}
	sn__ctl_put(o, "]");
}

void sn__ctl_status(struct sn_ctl_out *o, const struct sn_node *n, uint64_t now_ns, bool json,
		    const struct sn_ctl_sel *sel)
{
	if (json) {
		sn__ctl_put(o, "{");
		json_node(o, n, now_ns);
		sn__ctl_put(o, ",\"drops\":{");
		json_counters(o, n->host.counters, SN_CTR_FIRST_DROP, SN_CTR_MAX, false);
		sn__ctl_put(o, "}");
		json_egress(o, n);
		sn__ctl_put(o, ",");
		sn__ctl_plugin_json(o, &n->host);
		if (!sel->summary) {
			sn__ctl_put(o, ",");
			json_peers(o, n, now_ns, sel->peer);
		}
		sn__ctl_put(o, "}\n");
		return;
	}
	status_node_text(o, n, now_ns);
	status_egress_text(o, n);
	if (sel->summary)
		return;
	sn__ctl_put(o, "\n");
	status_peers_text(o, n, now_ns, sel->peer);
}

/* ---- peers --------------------------------------------------------------- */

static void peers_text(struct sn_ctl_out *o, const struct sn_node *n, uint64_t now_ns)
{
	struct table t;
	char b[64];

	if (table_init(&t, o, 6, n->peers.n ? n->peers.n : 1, 0) < 0)
		return;
	for (uint32_t i = 0; i < n->peers.n; i++) {
		const struct sn_peer *p = n->peers.v[i];
		const uint64_t *k = p->counters;

		table_row(&t);
		cell(&t, "%u", p->id);
		cell(&t, "%s", p->name[0] ? p->name : "-");
		cell(&t, "%s", sn__ctl_addr_str(&p->s.endpoint, b, sizeof(b)));
		if (p->s.last_rx_ns)
			cell(&t, "last rx %s ago",
			     sn__ctl_duration(secs(now_ns, p->s.last_rx_ns), b, sizeof(b)));
		else
			cell(&t, "last rx never");
		cell(&t, "rx %s pkts %s", sn__ctl_count(k[SN_CTR_RX_PACKETS], b, 24),
		     sn__ctl_bytes(k[SN_CTR_RX_BYTES], b + 24, 24));
		cell(&t, "tx %s pkts %s", sn__ctl_count(k[SN_CTR_TX_PACKETS], b, 24),
		     sn__ctl_bytes(k[SN_CTR_TX_BYTES], b + 24, 24));
	}
	table_print(&t);
}

void sn__ctl_peers(struct sn_ctl_out *o, const struct sn_node *n, uint64_t now_ns, bool json)
{
	if (!json) {
		peers_text(o, n, now_ns);
		return;
	}
	sn__ctl_put(o, "{");
	json_peers(o, n, now_ns, NULL);
	sn__ctl_put(o, "}\n");
}

/* ---- metrics ------------------------------------------------------------- */

static void family(struct sn_ctl_out *o, const char *name, const char *type, const char *help)
{
	sn__ctl_printf(o, "# HELP subnetra_%s %s\n# TYPE subnetra_%s %s\n", name, help, name, type);
}

static void peer_labels(struct sn_ctl_out *o, const struct sn_peer *p)
{
	sn__ctl_put(o, "peer=\"");
	label_str(o, p->name);
	sn__ctl_printf(o, "\",id=\"%u\"", p->id);
}

static void gauge(struct sn_ctl_out *o, const char *name, const char *help, uint64_t v)
{
	family(o, name, "gauge", help);
	sn__ctl_printf(o, "subnetra_%s %llu\n", name, (unsigned long long)v);
}

/* The node-only traffic counters (per_peer() false). */
static const char *const node_help[SN_CTR_FIRST_DROP] = {
	[SN_CTR_TUN_RX] = "Packets read from the TUN device (each segment of a super-packet).",
	[SN_CTR_TUN_TX] = "Packets handed to the TUN device.",
	[SN_CTR_TUN_RX_GSO] = "Super-packets read from the TUN device (TSO/USO offload).",
	[SN_CTR_TUN_TX_GSO] = "Coalesced TCP super-packets written to the TUN device.",
	[SN_CTR_RX_GRO] = "Coalesced underlay buffers (UDP GRO) split into datagrams.",
	[SN_CTR_TX_GSO] = "Underlay messages that carried a run of datagrams (UDP GSO).",
};

static void metrics_node(struct sn_ctl_out *o, const struct sn_node *n, uint64_t now_ns)
{
	const uint64_t *k = n->host.counters;

	family(o, "node_info", "gauge", "Node identity; the value is always 1.");
	sn__ctl_printf(o, "subnetra_node_info{id=\"%u\",role=\"%s\",interface=\"", n->cfg->node_id,
		       role_name(n));
	label_str(o, ifname(n));
	sn__ctl_printf(o, "\",version=\"%s\"} 1\n", SN_PROJECT_VERSION);
	gauge(o, "uptime_seconds", "Seconds since subnetrad started.", secs(now_ns, n->start_ns));
	gauge(o, "epoch", "This node's session epoch.", n->epoch);
	gauge(o, "policy_version", "Version of the active policy tree.", policy_version(n));
	gauge(o, "policy_rules", "Rules in the active policy tree.", policy_count(n));
	gauge(o, "policy_runtime_rules", "Rules added through the control socket.", n->n_rt_rules);
	family(o, "reloads_total", "counter", "Successful config reloads.");
	sn__ctl_printf(o, "subnetra_reloads_total %llu\n", (unsigned long long)n->reloads);
	for (uint32_t i = 0; i < SN_CTR_FIRST_DROP; i++) {
		char name[64];

		if (per_peer(i))
			continue;
		snprintf(name, sizeof(name), "%s_total", sn_counter_name(i));
		family(o, name, "counter", node_help[i] ? node_help[i] : sn_counter_name(i));
		sn__ctl_printf(o, "subnetra_%s %llu\n", name, (unsigned long long)k[i]);
	}
	family(o, "drops_total", "counter", "Packets dropped by this node, by reason.");
	for (uint32_t i = SN_CTR_FIRST_DROP; i < SN_CTR_MAX; i++)
		sn__ctl_printf(o, "subnetra_drops_total{reason=\"%s\"} %llu\n", sn_counter_name(i),
			       (unsigned long long)k[i]);
}

static const char *const traffic_help[SN_CTR_FIRST_DROP] = {
	[SN_CTR_RX_PACKETS] = "Authenticated datagrams received from the peer.",
	[SN_CTR_RX_BYTES] = "Inner bytes of datagrams received from the peer.",
	[SN_CTR_TX_PACKETS] = "Datagrams sent to the peer.",
	[SN_CTR_TX_BYTES] = "Inner bytes of datagrams sent to the peer.",
	[SN_CTR_RELAYED] = "Packets from the peer relayed to another spoke.",
	[SN_CTR_KEEPALIVE_RX] = "Keepalives received from the peer.",
	[SN_CTR_KEEPALIVE_TX] = "Keepalives sent to the peer.",
	[SN_CTR_CHALLENGE_RX] = "Authentic challenges received from the peer.",
	[SN_CTR_CHALLENGE_TX] = "Challenges sent to the peer while it was not verified.",
	[SN_CTR_RESPONSE_RX] = "Responses from the peer that verified it.",
	[SN_CTR_RESPONSE_TX] = "Responses sent to the peer's challenges.",
	[SN_CTR_AQM_MARK] = "Packets from the peer marked ECN CE by the AQM (instead of dropped).",
};

static void metrics_peer_counters(struct sn_ctl_out *o, const struct sn_node *n)
{
	char name[64];

	for (uint32_t i = 0; i < SN_CTR_FIRST_DROP; i++) {
		if (!per_peer(i))
			continue;
		snprintf(name, sizeof(name), "%s_total", sn_counter_name(i));
		family(o, name, "counter", traffic_help[i] ? traffic_help[i] : sn_counter_name(i));
		for (uint32_t j = 0; j < n->peers.n; j++) {
			sn__ctl_printf(o, "subnetra_%s{", name);
			peer_labels(o, n->peers.v[j]);
			sn__ctl_printf(o, "} %llu\n", (unsigned long long)n->peers.v[j]->counters[i]);
		}
	}
	family(o, "peer_drops_total", "counter", "Packets from or to the peer dropped, by reason.");
	for (uint32_t j = 0; j < n->peers.n; j++)
		for (uint32_t i = SN_CTR_FIRST_DROP; i < SN_CTR_MAX; i++) {
			sn__ctl_put(o, "subnetra_peer_drops_total{");
			peer_labels(o, n->peers.v[j]);
			sn__ctl_printf(o, ",reason=\"%s\"} %llu\n", sn_counter_name(i),
				       (unsigned long long)n->peers.v[j]->counters[i]);
		}
}

/* Per-peer gauges and the epoch counter. Every peer has its up and age
 * gauges from the start (a series that appears only later breaks rate()
 * and absent() alike); a peer never heard from is +Inf seconds old, so an
 * "age > N" alert fires for it (NaN would compare false). The accepted
 * epoch has no value before there is one and is left out until then. */
static void metrics_peer_values(struct sn_ctl_out *o, const struct sn_node *n, uint64_t now_ns)
{
	const struct sn_peers *ps = &n->peers;

	family(o, "peer_up", "gauge",
	       "1 when the peer is verified and not silent (heard from within three keepalive "
	       "intervals; on a spoke: its data to the hub answered), else 0.");
	for (uint32_t j = 0; j < ps->n; j++) {
		sn__ctl_put(o, "subnetra_peer_up{");
		peer_labels(o, ps->v[j]);
		sn__ctl_printf(o, "} %d\n", sn_nodelog_peer_up(n, ps->v[j], now_ns));
	}
	family(o, "peer_last_rx_age_seconds", "gauge",
	       "Seconds since the last authenticated datagram from the peer (+Inf: never).");
	for (uint32_t j = 0; j < ps->n; j++) {
		sn__ctl_put(o, "subnetra_peer_last_rx_age_seconds{");
		peer_labels(o, ps->v[j]);
		if (ps->v[j]->s.last_rx_ns)
			sn__ctl_printf(o, "} %llu\n",
				       (unsigned long long)secs(now_ns, ps->v[j]->s.last_rx_ns));
		else
			sn__ctl_put(o, "} +Inf\n");
	}
	family(o, "peer_rx_epoch", "gauge", "The peer's accepted epoch (absent: none yet).");
	for (uint32_t j = 0; j < ps->n; j++) {
		if (!ps->v[j]->s.rx_has_epoch)
			continue;
		sn__ctl_put(o, "subnetra_peer_rx_epoch{");
		peer_labels(o, ps->v[j]);
		sn__ctl_printf(o, "} %u\n", ps->v[j]->s.rx_epoch);
	}
	family(o, "peer_verified", "gauge",
	       "1 when the peer is verified since this node's start (challenge answered), else 0.");
	for (uint32_t j = 0; j < ps->n; j++) {
		sn__ctl_put(o, "subnetra_peer_verified{");
		peer_labels(o, ps->v[j]);
		sn__ctl_printf(o, "} %d\n", ps->v[j]->s.state == SN_PEER_VERIFIED);
	}
	family(o, "peer_epochs_accepted_total", "counter", "Epochs accepted from the peer.");
	for (uint32_t j = 0; j < ps->n; j++) {
		sn__ctl_put(o, "subnetra_peer_epochs_accepted_total{");
		peer_labels(o, ps->v[j]);
		sn__ctl_printf(o, "} %llu\n", (unsigned long long)ps->v[j]->s.epochs_accepted);
	}
}

void sn__ctl_metrics(struct sn_ctl_out *o, const struct sn_node *n, uint64_t now_ns)
{
	metrics_node(o, n, now_ns);
	sn__ctl_plugin_metrics(o, &n->host);
	metrics_peer_counters(o, n);
	metrics_peer_values(o, n, now_ns);
}

/* ---- policy list --------------------------------------------------------- */

static const char *action_name(enum sn_action a)
{
	return a == SN_ACT_LOCAL ? "local" : a == SN_ACT_FORWARD ? "forward" :
	       a == SN_ACT_DROP ? "drop" : "?";
}

static const char *origin_name(uint32_t o)
{
	static const char *const v[] = { "?", "local", "peer", "config", "runtime" };

	return o < 5 ? v[o] : "?";
}

static void policy_json(struct sn_ctl_out *o, const struct sn_policy_rule *r, uint32_t cnt,
			uint64_t version)
{
	char b[24];

	sn__ctl_printf(o, "{\"version\":%llu,\"rules\":[", (unsigned long long)version);
	for (uint32_t i = 0; i < cnt; i++) {
		sn__ctl_printf(o, "%s{\"prefix\":\"%s\",\"action\":\"%s\",", i ? "," : "",
			       sn_prefix_str(&r[i].prefix, b, sizeof(b)), action_name(r[i].action));
		if (r[i].action == SN_ACT_FORWARD)
			sn__ctl_printf(o, "\"peer\":%u,", r[i].peer_id);
		else
			sn__ctl_put(o, "\"peer\":null,");
		sn__ctl_printf(o, "\"origin\":\"%s\"}", origin_name(r[i].origin));
	}
	sn__ctl_put(o, "]}\n");
}

static void policy_text(struct sn_ctl_out *o, const struct sn_node *n,
			const struct sn_policy_rule *r, uint32_t cnt)
{
	struct table t;
	char b[24];

	sn__ctl_printf(o, "policy version %llu, %u rules\n", (unsigned long long)policy_version(n),
		       cnt);
	if (table_init(&t, o, 4, cnt + 1, 0) < 0)
		return;
	table_row(&t);
	cell(&t, "PREFIX");
	cell(&t, "ACTION");
	cell(&t, "PEER");
	cell(&t, "ORIGIN");
	for (uint32_t i = 0; i < cnt; i++) {
		const struct sn_peer *p = sn_peer_find(&n->peers, r[i].peer_id);

		table_row(&t);
		cell(&t, "%s", sn_prefix_str(&r[i].prefix, b, sizeof(b)));
		cell(&t, "%s", action_name(r[i].action));
		if (r[i].action != SN_ACT_FORWARD)
			cell(&t, "-");
		else if (p && p->name[0])
			cell(&t, "%u (%s)", r[i].peer_id, p->name);
		else
			cell(&t, "%u", r[i].peer_id);
		cell(&t, "%s", origin_name(r[i].origin));
	}
	table_print(&t);
}

void sn__ctl_policy_list(struct sn_ctl_out *o, const struct sn_node *n, bool json)
{
	const struct sn_policy *t = sn_policy_active(&n->policy);
	const struct sn_policy_rule *r = NULL;
	uint32_t cnt = 0;

	if (t)
		r = sn_policy_rules(t, &cnt);
	if (json)
		policy_json(o, r, cnt, policy_version(n));
	else
		policy_text(o, n, r, cnt);
}
