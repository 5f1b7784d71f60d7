/* SPDX-License-Identifier: MIT */
/*
 * egress_pad: the SDK's example of a transform egress, a layer
 * (docs/plugin-sdk.md, "Composition") that pads every sealed datagram to a
 * multiple of `block` bytes and sits over another egress (raw_direct by
 * default) that moves the frames, with its own batching, GSO and GRO.
 *
 * Framing, one frame per sealed datagram (README.md beside this file):
 *
 *   | sealed datagram: len bytes | zeros | len: 2 bytes, big endian |
 *   |<------------- a multiple of block bytes, >= len + 2 ----------->|
 *
 * Config:   plugins: { egress: pad, options: { pad: { over: raw_direct, block: 64 } } }
 * Options:  block    16..1023 (default 64); both ends must use the same
 * Counters: bad_pad  received frames that are not padded this way (dropped)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <subnetra/sdk.h>

struct pad {
	struct sn_host *host;
	const struct sn_host_api *api;
	uint64_t block;               /* option block */
	uint32_t bad_pad;             /* counter index */
	struct sn_egress_lower low;   /* the egress below, from attach() */
	struct sn_pkt *out[SN_BATCH]; /* one batch for it */
};

/* ---- the transform: a few dozen lines ---- */

/* Pad p in place (into its tailroom) to a multiple of the block. */
static int pad_one(const struct pad *s, struct sn_pkt *p)
{
	uint32_t len = p->len, b = (uint32_t)s->block, total = (len + 2 + b - 1) / b * b;
	uint8_t *d = sn_pkt_data(p);

	if (len > 0xffffu || total - len > sn_pkt_tailroom(p))
		return -ENOSPC;
	memset(d + len, 0, total - len - 2);
	d[total - 2] = (uint8_t)(len >> 8);
	d[total - 1] = (uint8_t)len;
	p->len = total;
	return 0;
}

/* Undo pad_one; -EBADMSG for a frame it cannot have made. */
static int unpad_one(const struct pad *s, struct sn_pkt *p)
{
	const uint8_t *d = sn_pkt_data(p);
	uint32_t total = p->len, len;

	if (total < 2 || total % s->block)
		return -EBADMSG;
	len = (uint32_t)d[total - 2] << 8 | d[total - 1];
	if (len + 2 > total || total - len > s->block + 1)
		return -EBADMSG;
	for (uint32_t i = len; i < total - 2; i++)
		if (d[i])
			return -EBADMSG;
	p->len = len;
	return 0;
}

/* Unpad pkts[0..n) in place: the good ones to pkts[0..k), k returned; the
 * bad ones behind them, counted (they stay the host's). */
static uint32_t unpad_batch(struct pad *s, struct sn_pkt **pkts, uint32_t n)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < n; i++) {
		struct sn_pkt *p = pkts[i];

		if (unpad_one(s, p) < 0) {
			s->api->counter_add(s->host, s->bad_pad, 1);
			s->api->count(s->host, SN_CTR_DROP_RX_ERROR, 0, 1);
			continue;
		}
		pkts[i] = pkts[k];
		pkts[k++] = p;
	}
	return k;
}

/* A packet of ours the egress below did not get or take: counted, released. */
static void drop_tx(struct pad *s, struct sn_pkt *p)
{
	s->api->count(s->host, SN_CTR_DROP_TX_ERROR, p->peer_id, 1);
	s->api->pkt_release(s->host, p);
}

/* out[0..m) to the egress below, as runs when it takes them. */
static void push_down(struct pad *s, uint32_t m)
{
	int took = 0;

	if (s->low.flags & SN_EGRESS_F_GSO)
		sn_egress_mark_runs(s->out, m);
	if (m)
		took = s->low.ops->send_batch(s->low.inst, s->out, m);
	for (uint32_t i = took > 0 ? (uint32_t)took : 0; i < m; i++)
		drop_tx(s, s->out[i]);
}

/* ---- the egress operations: the lower's, with the transform between ---- */

static int pad_send_batch(void *inst, struct sn_pkt *const *pkts, uint32_t n)
{
	struct pad *s = inst;
	uint32_t m = 0;

	for (uint32_t i = 0; i < n; i++) {
		if (pad_one(s, pkts[i]) < 0) {
			drop_tx(s, pkts[i]);
			continue;
		}
		s->out[m++] = pkts[i];
		if (m == SN_BATCH) {
			push_down(s, m);
			m = 0;
		}
	}
	push_down(s, m);
	return (int)n; /* all taken: what failed was counted and released */
}

/* The host's packets are lent on to the egress below. While it fills every
 * one, the bad frames' packets are lent to it again: it may hold more (a GRO
 * train), and the host calls again only after a call that filled all. */
static int pad_recv_batch(void *inst, struct sn_pkt **pkts, uint32_t n)
{
	struct pad *s = inst;
	uint32_t k = 0;
	int got;

	while (k < n) {
		uint32_t ask = n - k;

		if ((got = s->low.ops->recv_batch(s->low.inst, pkts + k, ask)) < 0)
			return k ? (int)k : got;
		k += unpad_batch(s, pkts + k, (uint32_t)got);
		if ((uint32_t)got < ask)
			break;
		for (uint32_t i = k; i < n; i++)
			pkts[i]->len = 0; /* the bad ones, lent again as they came */
	}
	return (int)k;
}

/* What the egress below handed up outside recv_batch (fec_xor under us
 * rebuilds datagrams): unpadded, and on up. */
static int pad_lower_deliver(void *inst, struct sn_pkt *const *pkts, uint32_t n)
{
	struct pad *s = inst;

	for (uint32_t i = 0; i < n; i++) {
		struct sn_pkt *p = pkts[i];

		if (unpad_batch(s, &p, 1) == 0) { /* a bad frame: counted */
			s->api->pkt_release(s->host, p);
		} else if (s->api->deliver(s->host, &p, 1) != 1) {
			s->api->count(s->host, SN_CTR_DROP_NO_BUFFER, 0, 1);
			s->api->pkt_release(s->host, p);
		}
	}
	return (int)n;
}

static int pad_attach(void *inst, const struct sn_egress_lower *lower, char *err, uint32_t err_len)
{
	(void)err;
	(void)err_len; /* nothing to refuse: any egress below will do */
	((struct pad *)inst)->low = *lower;
	return 0;
}

static int pad_open(void *inst, const struct sn_egress_open *args)
{
	struct pad *s = inst;

	return s->low.ops->open(s->low.inst, args);
}

static int pad_fd(void *inst)
{
	struct pad *s = inst;

	return s->low.ops ? s->low.ops->fd(s->low.inst) : -EBADF;
}

static int pad_local_addr(void *inst, struct sn_addr *out)
{
	struct pad *s = inst;

	return s->low.ops ? s->low.ops->local_addr(s->low.inst, out) : -EBADF;
}

/* ---- lifetime and the descriptor ---- */

static int pad_create(void *inst, const struct sn_create_args *args)
{
	struct pad *s = inst;
	const struct sn_opt_def defs[] = {{"block", SN_OPT_UINT, 16, 1023, &s->block}};
	int r;

	s->host = args->host;
	s->api = args->api;
	s->block = 64;
	if (sn_options_parse("pad", &args->options, defs, 1, args->err, args->err_len) < 0)
		return -EINVAL;
	/* A frame is 2..block + 1 bytes longer than its datagram, all behind it:
	 * that much tailroom, and as much overhead on the wire. No headroom. */
	r = s->api->room_set(s->host, 0, (uint32_t)s->block + 1, (uint32_t)s->block + 1);
	if (r == 0)
		r = s->api->counter_register(s->host, "bad_pad", "Received frames not padded "
					     "as pad pads (another block size?): dropped, rx_error.");
	if (r < 0) {
		snprintf(args->err, args->err_len, "pad: cannot set up: %s", strerror(-r));
		return r;
	}
	s->bad_pad = (uint32_t)r;
	return 0;
}

static void pad_destroy(void *inst)
{
	(void)inst; /* nothing to free: the host frees the instance */
}

static const struct sn_egress_ops ops = {
	.struct_size = sizeof(struct sn_egress_ops),
	.flags = SN_EGRESS_F_LAYER,
	.open = pad_open,
	.fd = pad_fd,
	.local_addr = pad_local_addr,
	.recv_batch = pad_recv_batch,
	.send_batch = pad_send_batch,
	.attach = pad_attach,
	.lower_deliver = pad_lower_deliver,
};

static const struct sn_plugin_desc desc = {
	SN_PLUGIN_DESC_INIT(SN_KIND_EGRESS, "pad", struct pad),
	.version = "1.0.0",
	.description = "pads each datagram to a multiple of block bytes; a layer over "
		       "another egress (SDK example)",
	.create = pad_create,
	.destroy = pad_destroy,
	.ops = &ops,
};

SN_PLUGIN_ENTRY(desc)
