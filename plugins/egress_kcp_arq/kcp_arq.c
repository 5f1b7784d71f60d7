/* SPDX-License-Identifier: MIT */
/*
 * egress_kcp_arq: selective-repeat ARQ in the spirit of KCP as an egress
 * layer (docs/plugin-sdk.md, "Composition"), in the framing of
 * docs/kcp_arq.md: sequence numbers per peer, acknowledgements piggybacked
 * or batched, fast retransmit on gaps, timeouts from a smoothed RTT, a
 * deadline after which a datagram is given up, and no head-of-line
 * blocking (each datagram goes up as it arrives). It sits over the egress
 * its option `over` names (the host's; default raw_direct). This file:
 * options, the peer table and its memory, the egress operations, the
 * descriptor; tx.c sends, rx.c receives.
 *
 * Options (plugins.options.kcp_arq.*): window, peers (restart), ack_delay,
 * deadline, rto_min, rto_max, fast_resend (reload); see the table below
 * and docs/kcp_arq.md.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#if defined(__linux__) || defined(__APPLE__)
#include <sys/random.h>
#endif

#include "kcp_arq.h"
#include "layer.h"

#define MS 1000000ull

static int parse_options(const struct sn_options *opts, struct kcp_opts *out, char *err,
			 uint32_t err_len)
{
	struct kcp_opts o = {.window = 256, .peers = 64, .ack_delay = 2 * MS, .deadline = 0,
			     .rto_min = 30 * MS, .rto_max = 1000 * MS, .fast_resend = 2};
	const struct sn_opt_def defs[] = {
		{"window", SN_OPT_UINT, 16, KCP_WINDOW_MAX, &o.window},
		{"peers", SN_OPT_UINT, 1, PEERS_MAX, &o.peers},
		{"ack_delay", SN_OPT_DURATION, MS, 100 * MS, &o.ack_delay},
		{"deadline", SN_OPT_DURATION, 0, 10000 * MS, &o.deadline},
		{"rto_min", SN_OPT_DURATION, MS, 1000 * MS, &o.rto_min},
		{"rto_max", SN_OPT_DURATION, 10 * MS, 10000 * MS, &o.rto_max},
		{"fast_resend", SN_OPT_UINT, 0, 16, &o.fast_resend},
	};

	if (sn_options_parse(NAME, opts, defs, sizeof(defs) / sizeof(defs[0]), err, err_len) < 0)
		return -EINVAL;
	if (o.deadline && o.deadline < MS) {
		snprintf(err, err_len, NAME ": option deadline: %llu ns is neither 0ms (auto) nor "
			 "1ms or more", (unsigned long long)o.deadline);
		return -EINVAL;
	}
	if (o.rto_min > o.rto_max) {
		snprintf(err, err_len, NAME ": rto_min (%llu ms) is above rto_max (%llu ms)",
			 (unsigned long long)(o.rto_min / MS), (unsigned long long)(o.rto_max / MS));
		return -EINVAL;
	}
	*out = o;
	return 0;
}

/* ---- the peer table ---- */

static uint32_t hash(const struct sn_addr *a, uint32_t slots)
{
	uint64_t k = (uint64_t)a->ip[0] << 40 | (uint64_t)a->ip[1] << 32 | (uint64_t)a->ip[2] << 24 |
		     (uint64_t)a->ip[3] << 16 | a->port;

	return (uint32_t)((k * 0x9e3779b97f4a7c15ull) >> 32) % slots;
}

static uint32_t session_next(struct kcp *f)
{
	uint64_t z;

	do { /* splitmix64 */
		z = (f->seed += 0x9e3779b97f4a7c15ull);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
	} while (!(uint32_t)z);
	return (uint32_t)z;
}

static void peer_init(struct kcp *f, struct kcp_peer *p, const struct sn_addr *addr, uint64_t now)
{
	p->addr = *addr;
	p->local = (struct sn_addr){0};
	p->peer_id = 0;
	p->session = session_next(f);
	p->rx_session = 0;
	p->n_ack = 0;
	p->last_ns = now;
	kcp_snd_reset(&p->snd, 0);
	kcp_rtt_init(&p->rtt, KCP_RTO_INITIAL);
	kcp_rcv_reset(&p->rcv);
}

static uint32_t *index_slot(struct kcp *f, const struct sn_addr *a)
{
	uint32_t slots = 2 * (uint32_t)f->opt.peers, i = hash(a, slots);

	for (;; i = (i + 1) % slots) {
		uint32_t e = f->index[i];

		if (!e || sn_egress_same_addr(&f->peer[e - 1].addr, a))
			return &f->index[i];
	}
}

/* Take over an entry idle for IDLE_NS with nothing in flight or waiting
 * (rare: the index is rebuilt). */
static struct kcp_peer *take_idle(struct kcp *f, const struct sn_addr *addr, uint64_t now)
{
	uint32_t i = 0;

	while (i < f->used && !(now - f->peer[i].last_ns >= IDLE_NS && !f->peer[i].snd.inflight &&
				!f->peer[i].n_ack))
		i++;
	if (i == f->used)
		return NULL;
	peer_init(f, &f->peer[i], addr, now);
	memset(f->index, 0, 2 * f->opt.peers * sizeof(*f->index));
	for (uint32_t j = 0; j < f->used; j++)
		*index_slot(f, &f->peer[j].addr) = j + 1;
	return &f->peer[i];
}

struct kcp_peer *sn__kcp_peer(struct kcp *f, const struct sn_addr *addr, bool make, uint64_t now)
{
	uint32_t *e;

	if (addr->family != SN_AF_INET || !f->peer)
		return NULL;
	if (f->last && sn_egress_same_addr(&f->last->addr, addr))
		return f->last;
	e = index_slot(f, addr);
	if (*e)
		return f->last = &f->peer[*e - 1];
	if (!make)
		return NULL;
	if (f->used == f->opt.peers)
		return f->last = take_idle(f, addr, now);
	peer_init(f, &f->peer[f->used], addr, now);
	*e = ++f->used;
	return f->last = &f->peer[f->used - 1];
}

static uint64_t stride_of(uint32_t cap)
{
	return ((uint64_t)cap + 7u) & ~7ull;
}

static uint64_t table_bytes(const struct kcp_opts *o, uint32_t cap)
{
	uint64_t per = sizeof(struct kcp_peer) + 2 * sizeof(uint32_t) + ACKQ * sizeof(uint32_t) +
		       o->window * (sizeof(struct kcp_slot) + stride_of(cap));

	return o->peers * per;
}

/* Carve the tables out of m: entries, index, then each peer's slots,
 * acknowledgement queue and kept datagrams. */
static void carve(struct kcp *f, uint8_t *m, uint32_t cap)
{
	uint32_t np = (uint32_t)f->opt.peers, w = (uint32_t)f->opt.window;

	f->peer = (struct kcp_peer *)m;
	m += np * sizeof(struct kcp_peer);
	f->index = (uint32_t *)m;
	m += 2 * np * sizeof(uint32_t);
	for (uint32_t i = 0; i < np; i++) {
		struct kcp_peer *p = &f->peer[i];

		p->snd.w = w;
		p->snd.stride = (uint32_t)stride_of(cap);
		p->snd.slot = (struct kcp_slot *)m;
		m += w * sizeof(struct kcp_slot);
		p->ackq = (uint32_t *)m;
		m += ACKQ * sizeof(uint32_t);
	}
	for (uint32_t i = 0; i < np; i++) {
		f->peer[i].snd.buf = m;
		m += w * stride_of(cap);
	}
}

/* ---- the egress operations ---- */

static int kcp_attach(void *inst, const struct sn_egress_lower *lower, char *err, uint32_t err_len)
{
	struct kcp *f = inst;
	uint32_t cap = lower->datagram_max;
	void *m;

	if (f->attached) {
		snprintf(err, err_len, NAME ": already over '%s'", f->low.name);
		return -EALREADY;
	}
	if (cap == 0 || cap > 0xffffu) {
		snprintf(err, err_len, NAME ": datagrams of %u bytes cannot be kept (1..65535)", cap);
		return -EINVAL;
	}
	f->low = *lower;
	f->mem_len = table_bytes(&f->opt, cap);
	m = mmap(NULL, f->mem_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		snprintf(err, err_len, NAME ": cannot allocate %llu bytes for %llu peers' windows of "
			 "%llu: %s", (unsigned long long)f->mem_len, (unsigned long long)f->opt.peers,
			 (unsigned long long)f->opt.window, strerror(errno));
		return -ENOMEM;
	}
	f->mem = m;
	carve(f, m, cap);
	f->timer = f->api->timer_new(f->host, sn__kcp_on_timer, f);
	f->attached = true;
	return 0;
}

static int kcp_open(void *inst, const struct sn_egress_open *args)
{
	struct kcp *f = inst;

	return sn_layer_open(&f->low, f->attached, NAME, args);
}

static int kcp_fd(void *inst)
{
	struct kcp *f = inst;

	return sn_layer_fd(&f->low, f->attached);
}

static int kcp_local_addr(void *inst, struct sn_addr *out)
{
	struct kcp *f = inst;

	return sn_layer_local_addr(&f->low, f->attached, out);
}

static uint32_t take(void *layer, struct sn_pkt **pkts, uint32_t n)
{
	return sn__kcp_receive(layer, pkts, n);
}

static int kcp_recv_batch(void *inst, struct sn_pkt **pkts, uint32_t n)
{
	struct kcp *f = inst;
	int r;

	if (!f->attached)
		return -EBADF;
	r = sn_layer_recv(&f->low, take, f, pkts, n);
	f->backlog = r == (int)n; /* the host reads again: more may wait */
	return r;
}

static int kcp_send_batch(void *inst, struct sn_pkt *const *pkts, uint32_t n)
{
	struct kcp *f = inst;

	return f->attached ? sn__kcp_send(f, pkts, n) : -EBADF;
}

static int kcp_lower_deliver(void *inst, struct sn_pkt *const *pkts, uint32_t n)
{
	struct kcp *f = inst;

	return sn_layer_lower_deliver(f->api, f->host, take, f, pkts, n);
}

static const struct {
	const char *name, *help;
} ctr_names[KCP_CTR_MAX] = {
	[KCP_SENT] = {"sent", "Datagrams sent under ARQ (first sendings)."},
	[KCP_RETRANSMITS] = {"retransmits", "Datagrams resent after their retransmission timeout."},
	[KCP_FAST_RETRANSMITS] = {"fast_retransmits",
				  "Datagrams resent after acknowledgements of later ones (fast_resend)."},
	[KCP_GIVEN_UP] = {"given_up", "Datagrams no longer resent: unacknowledged past the deadline."},
	[KCP_ACKS_SENT] = {"acks_sent", "Acknowledgement blocks sent (ack frames and piggybacked)."},
	[KCP_PIGGYBACKED] = {"piggybacked", "Acknowledgement blocks carried by a datagram."},
	[KCP_ACKS_RECEIVED] = {"acks_received", "Acknowledgement blocks received."},
	[KCP_DUPLICATES] = {"duplicates", "Received datagrams seen before (dropped by the layer)."},
	[KCP_WINDOW_FULL] = {"window_full", "Datagrams sent without ARQ: the send window was full."},
	[KCP_UNPROTECTED] = {"unprotected",
			     "Datagrams sent without ARQ: no room in the peer table, or too long."},
	[KCP_RTT_SAMPLES] = {"rtt_samples", "Round-trip time samples taken."},
	[KCP_RTT_US_SUM] = {"rtt_us_sum",
			    "Sum of the round-trip samples in microseconds (mean: over rtt_samples)."},
	[KCP_BAD_FRAMES] = {"bad_frames", "Received frames that do not parse (dropped, rx_error)."},
};

static int register_counters(struct kcp *f, char *err, uint32_t err_len)
{
	for (int i = 0; i < KCP_CTR_MAX; i++) {
		f->ctr[i] = f->api->counter_register(f->host, ctr_names[i].name, ctr_names[i].help);
		if (f->ctr[i] < 0) {
			snprintf(err, err_len, NAME ": cannot register counter %s: %s",
				 ctr_names[i].name, strerror(-f->ctr[i]));
			return f->ctr[i];
		}
	}
	return 0;
}

/* The timings change at once; window and peers size the tables: a restart. */
static int kcp_reconfigure(void *inst, const struct sn_options *opts, char *err, uint32_t err_len)
{
	struct kcp *f = inst;
	struct kcp_opts o;
	int rc = parse_options(opts, &o, err, err_len);

	if (rc < 0)
		return rc;
	if (o.window != f->opt.window || o.peers != f->opt.peers) {
		snprintf(err, err_len, NAME ": window and peers size its tables: restart subnetrad "
			 "to change them");
		return -ENOTSUP;
	}
	if (o.ack_delay != f->opt.ack_delay && f->timer_armed) {
		f->api->timer_stop(f->host, f->timer);
		f->timer_armed = false;
	}
	f->opt = o;
	if (f->attached)
		sn__kcp_arm(f);
	return 0;
}

/* ---- lifetime ---- */

static uint64_t seed_of(struct kcp *f)
{
	uint64_t s = 0;

#if defined(__linux__) || defined(__APPLE__)
	if (getentropy(&s, sizeof(s)) == 0)
		return s;
#endif
	return f->api->now_ns(f->host) ^ (uint64_t)getpid() << 32;
}

static int kcp_create(void *inst, const struct sn_create_args *args)
{
	struct kcp *f = inst;
	int r;

	f->host = args->host;
	f->api = args->api;
	f->seed = seed_of(f);
	r = parse_options(&args->options, &f->opt, args->err, args->err_len);
	return r < 0 ? r : register_counters(f, args->err, args->err_len);
}

static void kcp_destroy(void *inst)
{
	struct kcp *f = inst;

	for (uint32_t i = 0; i < f->n_out; i++)
		f->api->pkt_release(f->host, f->out[i]);
	if (f->timer)
		f->api->timer_free(f->host, f->timer);
	if (f->mem)
		munmap(f->mem, f->mem_len);
	memset(f, 0, sizeof(*f));
}

static const struct sn_egress_ops kcp_ops = {
	.struct_size = sizeof(struct sn_egress_ops),
	.flags = SN_EGRESS_F_LAYER,
	.open = kcp_open,
	.fd = kcp_fd,
	.local_addr = kcp_local_addr,
	.recv_batch = kcp_recv_batch,
	.send_batch = kcp_send_batch,
	.reconfigure = kcp_reconfigure,
	.attach = kcp_attach,
	.lower_deliver = kcp_lower_deliver,
};

static const struct sn_plugin_desc kcp_desc = {
	SN_PLUGIN_DESC_INIT(SN_KIND_EGRESS, NAME, struct kcp),
	.version = SN_VERSION_STRING,
	.description = "selective-repeat ARQ per peer: acknowledgements, fast retransmit, "
		       "timeouts from the RTT, a deadline, no head-of-line blocking; a layer "
		       "over another egress",
	.headroom = KCP_HEADROOM,
	.tailroom = 0,
	.overhead = KCP_HEADROOM,
	.create = kcp_create,
	.destroy = kcp_destroy,
	.ops = &kcp_ops,
};

SN_PLUGIN_ENTRY(kcp_desc)
