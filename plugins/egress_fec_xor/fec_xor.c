/* SPDX-License-Identifier: MIT */
/*
 * egress_fec_xor: forward error correction as an egress layer
 * (docs/plugin-sdk.md, "Composition"): XOR parity over groups of k sealed
 * datagrams per peer, in the framing of docs/fec_xor.md; one lost datagram
 * per group is rebuilt. It sits over the egress its option `over` names
 * (the host's; default raw_direct), which moves the frames, with its own
 * batching, GSO and GRO. This file: options, the peer tables and their
 * memory, the egress operations, the descriptor; tx.c sends, rx.c
 * receives.
 *
 * Options (plugins.options.fec_xor.*):
 *   k           datagrams per group, 2..32 (default 4): one parity each
 *   interleave  groups open at once per peer, filled in turn, 1..8
 *               (default 1): a burst of that many losses is repaired
 *   flush_ms    a group not full after this long gets its parity anyway,
 *               1..1000 (default 5)
 *   peers       peers with groups in each direction, 1..4096 (default 64);
 *               the datagrams of others go unprotected (counted)
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "fec_xor.h"
#include "layer.h"

/* ---- options ---- */

struct opt_def {
	const char *key;
	uint32_t min, max;
	size_t off;
};

static const struct opt_def opt_defs[] = {
	{"k", FEC_K_MIN, FEC_K_MAX, offsetof(struct fec_opts, k)},
	{"interleave", 1, DEPTH_MAX, offsetof(struct fec_opts, depth)},
	{"flush_ms", 1, 1000, offsetof(struct fec_opts, flush_ms)},
	{"peers", 1, PEERS_MAX, offsetof(struct fec_opts, peers)},
};

#define N_OPTS (sizeof(opt_defs) / sizeof(opt_defs[0]))

static int parse_one(const struct sn_option *o, struct fec_opts *out, char *err, uint32_t err_len)
{
	unsigned long v;
	char *end;

	for (size_t i = 0; i < N_OPTS; i++) {
		const struct opt_def *d = &opt_defs[i];

		if (!o->key || strcmp(o->key, d->key))
			continue;
		errno = 0;
		v = o->value && *o->value >= '0' && *o->value <= '9' ? strtoul(o->value, &end, 10) : 0;
		if (!o->value || *o->value < '0' || *o->value > '9' || errno || *end || v < d->min ||
		    v > d->max) {
			sn_errf(err, err_len, NAME ": option %s: '%s' is not an integer %u..%u", d->key,
			        o->value ? o->value : "", d->min, d->max);
			return -EINVAL;
		}
		*(uint32_t *)((char *)out + d->off) = (uint32_t)v;
		return 0;
	}
	sn_errf(err, err_len, NAME ": unknown option '%s' (known: k, interleave, flush_ms, peers; "
	        "'over' names the egress below)", o->key ? o->key : "");
	return -EINVAL;
}

static int parse_options(const struct sn_options *opts, struct fec_opts *out, char *err,
			 uint32_t err_len)
{
	struct fec_opts o = {.k = 4, .depth = 1, .flush_ms = 5, .peers = 64};
	int rc;

	for (uint32_t i = 0; opts && i < opts->count; i++)
		if ((rc = parse_one(&opts->items[i], &o, err, err_len)) < 0)
			return rc;
	*out = o;
	return 0;
}

/* ---- the peer tables ---- */

static uint32_t hash(uint64_t id, uint32_t slots)
{
	return (uint32_t)((id * 0x9e3779b97f4a7c15ull) >> 32) % slots;
}

struct fec_peer *sn__fec_peer(struct fec *f, struct fec_table *t, uint64_t id)
{
	uint32_t slots = 2 * f->opt.peers, i;

	if (!id || !t->peer)
		return NULL;
	for (i = hash(id, slots);; i = (i + 1) % slots) {
		uint32_t e = t->index[i];

		if (e && t->peer[e - 1].id == id)
			return &t->peer[e - 1];
		if (!e)
			break;
	}
	if (t->used == f->opt.peers)
		return NULL;
	t->peer[t->used].id = id;
	t->index[i] = ++t->used;
	return &t->peer[t->used - 1];
}

/* Carve a table of groups groups per peer out of *mem, each buffer cap. */
static void carve(struct fec *f, struct fec_table *t, uint32_t groups, uint8_t **mem,
		  uint32_t cap, bool sender)
{
	uint32_t np = f->opt.peers;

	t->peer = (struct fec_peer *)*mem;
	*mem += (size_t)np * sizeof(struct fec_peer);
	t->index = (uint32_t *)*mem;
	*mem += (size_t)2 * np * sizeof(uint32_t);
	for (uint32_t i = 0; i < np; i++) {
		t->peer[i].acc = (struct fec_acc *)*mem;
		*mem += (size_t)groups * sizeof(struct fec_acc);
		for (uint32_t j = 0; j < groups; j++) {
			struct fec_acc *a = &t->peer[i].acc[j];

			a->cap = cap;
			if (sender) {
				a->group = j;
				a->k = (uint8_t)f->opt.k;
			}
		}
	}
	for (uint32_t i = 0; i < np; i++)
		for (uint32_t j = 0; j < groups; j++) {
			t->peer[i].acc[j].buf = *mem;
			*mem += (cap + 7u) & ~7u;
		}
	if (sender)
		for (uint32_t i = 0; i < np; i++)
			t->peer[i].next_group = groups;
}

static uint64_t table_bytes(uint32_t np, uint32_t groups, uint32_t cap)
{
	return (uint64_t)np * (sizeof(struct fec_peer) + 2 * sizeof(uint32_t) +
			       groups * (sizeof(struct fec_acc) + ((cap + 7u) & ~7u)));
}

/* ---- the egress operations ---- */

static int fec_attach(void *inst, const struct sn_egress_lower *lower, char *err, uint32_t err_len)
{
	struct fec *f = inst;
	uint32_t cap = lower->datagram_max;
	uint8_t *m;

	if (f->attached) {
		sn_errf(err, err_len, NAME ": already over '%s'", f->low.name);
		return -EALREADY;
	}
	if (cap == 0 || cap > 0xffffu) {
		sn_errf(err, err_len, NAME ": datagrams of %u bytes cannot be grouped (1..65535)", cap);
		return -EINVAL;
	}
	f->low = *lower;
	f->rx_slots = 2 * f->opt.depth + 2;
	f->mem_len = table_bytes(f->opt.peers, f->opt.depth, cap) +
		     table_bytes(f->opt.peers, f->rx_slots, cap);
	m = mmap(NULL, f->mem_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		sn_errf(err, err_len, NAME ": cannot allocate %llu bytes for %u peers' groups: %s",
		        (unsigned long long)f->mem_len, f->opt.peers, strerror(errno));
		return -ENOMEM;
	}
	f->mem = m;
	carve(f, &f->tx, f->opt.depth, &m, cap, true);
	carve(f, &f->rx, f->rx_slots, &m, cap, false);
	f->timer = f->api->timer_new(f->host, sn__fec_on_timer, f);
	f->attached = true;
	return 0;
}

static int fec_open(void *inst, const struct sn_egress_open *args)
{
	struct fec *f = inst;

	return sn_layer_open(&f->low, f->attached, NAME, args);
}

static int fec_fd(void *inst)
{
	struct fec *f = inst;

	return sn_layer_fd(&f->low, f->attached);
}

static int fec_local_addr(void *inst, struct sn_addr *out)
{
	struct fec *f = inst;

	return sn_layer_local_addr(&f->low, f->attached, out);
}

static uint32_t take(void *layer, struct sn_pkt **pkts, uint32_t n)
{
	return sn__fec_receive(layer, pkts, n);
}

/* The host's packets go on to the egress below and what it filled is taken
 * apart in place (parities consumed: plugins/common/layer.h). */
static int fec_recv_batch(void *inst, struct sn_pkt **pkts, uint32_t n)
{
	struct fec *f = inst;

	return f->attached ? sn_layer_recv(&f->low, take, f, pkts, n) : -EBADF;
}

static int fec_send_batch(void *inst, struct sn_pkt *const *pkts, uint32_t n)
{
	struct fec *f = inst;

	if (!f->attached)
		return -EBADF;
	return sn__fec_send(f, pkts, n);
}

/* What the egress below delivered: taken apart like a received batch, the
 * datagrams handed on up, the rest released. */
static int fec_lower_deliver(void *inst, struct sn_pkt *const *pkts, uint32_t n)
{
	struct fec *f = inst;

	return sn_layer_lower_deliver(f->api, f->host, take, f, pkts, n);
}

static const struct {
	const char *name, *help;
} ctr_names[FEC_CTR_MAX] = {
	[FEC_GROUPS] = {"groups", "Groups closed on send (full, or flushed)."},
	[FEC_FLUSHED] = {"flushed", "Groups closed by the flush timer before they were full."},
	[FEC_PARITIES_SENT] = {"parities_sent", "Parity frames the egress below took."},
	[FEC_RECOVERED] = {"recovered", "Lost datagrams rebuilt from their group and handed up."},
	[FEC_UNRECOVERABLE] = {"unrecoverable",
			       "Received groups that ended with two or more datagrams missing."},
	[FEC_UNPROTECTED] = {"unprotected",
			     "Datagrams sent or received outside any group (tables full, too long)."},
	[FEC_BAD_FRAMES] = {"bad_frames", "Received frames that do not parse (dropped, rx_error)."},
};

static int register_counters(struct fec *f, char *err, uint32_t err_len)
{
	for (int i = 0; i < FEC_CTR_MAX; i++) {
		f->ctr[i] = f->api->counter_register(f->host, ctr_names[i].name, ctr_names[i].help);
		if (f->ctr[i] < 0) {
			snprintf(err, err_len, "cannot register counter %s: %s", ctr_names[i].name,
				 strerror(-f->ctr[i]));
			return f->ctr[i];
		}
	}
	return 0;
}

/* k and flush_ms change at once (open groups keep their k); interleave and
 * peers size the tables: a restart. */
static int fec_reconfigure(void *inst, const struct sn_options *opts, char *err, uint32_t err_len)
{
	struct fec *f = inst;
	struct fec_opts o;
	int rc = parse_options(opts, &o, err, err_len);

	if (rc < 0)
		return rc;
	if (o.depth != f->opt.depth || o.peers != f->opt.peers) {
		sn_errf(err, err_len, NAME ": interleave and peers size its tables: restart subnetrad "
		        "to change them");
		return -ENOTSUP;
	}
	f->opt = o;
	for (uint32_t i = 0; f->attached && i < o.peers; i++) /* groups not begun take the new k */
		for (uint32_t j = 0; j < o.depth; j++)
			if (!f->tx.peer[i].acc[j].count)
				f->tx.peer[i].acc[j].k = (uint8_t)o.k;
	return 0;
}

/* ---- lifetime ---- */

static int fec_create(void *inst, const struct sn_create_args *args)
{
	struct fec *f = inst;
	int r;

	f->host = args->host;
	f->api = args->api;
	r = parse_options(&args->options, &f->opt, args->err, args->err_len);
	return r < 0 ? r : register_counters(f, args->err, args->err_len);
}

static void fec_destroy(void *inst)
{
	struct fec *f = inst;

	if (f->timer)
		f->api->timer_free(f->host, f->timer);
	if (f->mem)
		munmap(f->mem, f->mem_len);
	memset(f, 0, sizeof(*f));
}

static const struct sn_egress_ops fec_ops = {
	.struct_size = sizeof(struct sn_egress_ops),
	.flags = SN_EGRESS_F_LAYER,
	.open = fec_open,
	.fd = fec_fd,
	.local_addr = fec_local_addr,
	.recv_batch = fec_recv_batch,
	.send_batch = fec_send_batch,
	.reconfigure = fec_reconfigure,
	.attach = fec_attach,
	.lower_deliver = fec_lower_deliver,
};

static const struct sn_plugin_desc fec_desc = {
	.abi_major = SN_ABI_MAJOR,
	.abi_minor = SN_ABI_MINOR,
	.struct_size = sizeof(struct sn_plugin_desc),
	.kind = SN_KIND_EGRESS,
	.name = NAME,
	.version = SN_VERSION_STRING,
	.description = "XOR parity over groups of k datagrams per peer, one loss per group "
		       "rebuilt; a layer over another egress",
	.instance_size = sizeof(struct fec),
	.instance_align = _Alignof(struct fec),
	.headroom = FEC_HDR_LEN,
	.tailroom = 0,
	.overhead = FEC_OVERHEAD,
	.probe = NULL,
	.create = fec_create,
	.destroy = fec_destroy,
	.ops = &fec_ops,
};

SN_PLUGIN_EXPORT const struct sn_plugin_desc *sn_plugin_entry_v1(void)
{
	return &fec_desc;
}
