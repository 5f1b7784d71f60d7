/* SPDX-License-Identifier: MIT */
/*
 * tests/test_fec_xor.c: fec_xor's framing and groups (plugins/egress_fec_xor/
 * frame.c: every single loss in a group rebuilt with its length, two lost
 * unrecoverable), and the layer itself stacked by the host's real stack
 * loader (core/stack.c) and host API (core/host.c) over "memloop", an
 * egress built into this test that keeps what it is sent and hands it
 * back, so that chosen frames can be lost: every single loss with
 * interleave, bursts, two losses counted, the flush timer on a real loop,
 * runs marked for an egress below with GSO, deliver from below (lower_
 * deliver), and the composition rules (room summed, `over` only on a
 * layer, no endless stacks, a layer must attach).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "config.h"
#include "frame.h"
#include "egstack.h"

#define PLUGDIR SN_TEST_BINARY_DIR "/plugins"
#define DMAX 1500u  /* datagram_max given to the stack */
#define QMAX 512
#define NMAX 256

/* ---- framing --------------------------------------------------------- */

static const struct {
	uint8_t b[12];
	uint32_t len;
	int rc;
} frames[] = {
	{{0x20, 4, 0, 0, 0, 0, 0, 1, 0xaa}, 9, 0},          /* data, index 0 of 4 */
	{{0x20, 4, 3, 0, 0xff, 0, 0, 1, 0xaa}, 9, 0},       /* data, last index */
	{{0x20, 4, 4, 0, 0, 0, 0, 1, 0xaa}, 9, -EINVAL},    /* index past k */
	{{0x20, 1, 0, 0, 0, 0, 0, 1, 0xaa}, 9, -EINVAL},    /* k 1 for data */
	{{0x20, 33, 0, 0, 0, 0, 0, 1, 0xaa}, 9, -EINVAL},   /* k past 32 */
	{{0x20, 4, 0, 0, 0, 0, 0, 1}, 8, -EINVAL},          /* no datagram */
	{{0x21, 3, 0, 5, 0, 0, 0, 9, 0xaa}, 9, 0},          /* parity over 3, lengths' XOR 5 */
	{{0x21, 1, 0xff, 0xff, 0, 0, 0, 9, 0xaa}, 9, 0},    /* parity over 1 (flushed) */
	{{0x21, 0, 0, 5, 0, 0, 0, 9, 0xaa}, 9, -EINVAL},    /* parity over none */
	{{0x21, 33, 0, 5, 0, 0, 0, 9, 0xaa}, 9, -EINVAL},   /* parity past 32 */
	{{0x21, 3, 0, 5, 0, 0, 0, 9}, 8, -EINVAL},          /* parity without bytes */
	{{0x22, 0, 0, 0, 0, 0, 0, 0, 0xaa}, 9, 0},          /* plain */
	{{0x22, 0, 0, 0, 0, 0, 0, 1, 0xaa}, 9, -EINVAL},    /* plain with a group */
	{{0x22, 0, 0, 1, 0, 0, 0, 0, 0xaa}, 9, -EINVAL},    /* plain, reserved byte */
	{{0x23, 4, 4, 0, 0, 0, 0, 1, 0xaa}, 9, -EINVAL},    /* two flags */
	{{0x10, 4, 0, 0, 0, 0, 0, 1, 0xaa}, 9, -EINVAL},    /* version 1 (parity lengths in the body) */
	{{0x11, 3, 3, 0, 0, 0, 0, 9, 0, 5, 0xaa}, 11, -EINVAL}, /* a version 1 parity */
	{{0x20, 4, 0, 1, 0, 0, 0, 1, 0xaa}, 9, -EINVAL},    /* reserved byte */
	{{0x20, 4, 0}, 3, -EINVAL},                         /* short */
};

static void test_fec_frame_parse(void **state)
{
	struct fec_hdr h, w;
	uint8_t out[FEC_HDR_LEN];

	for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
		int rc = fec_frame_parse(frames[i].b, frames[i].len, &h);

		if (rc != frames[i].rc)
			fail_msg("frame %zu: rc %d, want %d", i, rc, frames[i].rc);
		if (rc)
			continue;
		fec_hdr_write(out, &h);
		assert_memory_equal(out, frames[i].b, FEC_HDR_LEN);
	}
	w = (struct fec_hdr){0, 7, 6, 0xdeadbeefu, 0x1234};
	fec_hdr_write(out, &w);
	assert_int_equal(out[2], 6); /* a data frame's lengths field is not written */
	assert_int_equal(out[3], 0);
	assert_int_equal(out[4], 0xde);
	assert_int_equal(out[7], 0xef);
	w = (struct fec_hdr){FEC_F_PARITY, 7, 7, 3, 0x1234};
	fec_hdr_write(out, &w);
	assert_int_equal(out[2], 0x12);
	assert_int_equal(out[3], 0x34);
	assert_int_equal(fec_frame_parse((uint8_t[]){0x21, 7, 0x12, 0x34, 0, 0, 0, 3, 1}, 9, &h), 0);
	assert_int_equal(h.len_xor, 0x1234);
	assert_int_equal(h.index, 7);
}

/* ---- groups, without the plugin ---------------------------------------- */

static uint8_t bufs[FEC_K_MAX + 2][DMAX];

static uint32_t fill(uint8_t *d, uint32_t i, uint32_t seed)
{
	uint32_t len = 36 + (i * 397 + seed * 131) % (DMAX - 36);

	for (uint32_t j = 0; j < len; j++)
		d[j] = (uint8_t)(j * 31 + i * 7 + seed);
	return len;
}

/* A group of k built by a sender, each single loss (or the parity's)
 * rebuilt by a receiver exactly, with its length; two losses not. */
static void test_fec_group_every_loss(void **state)
{
	static const uint32_t ks[] = {2, 3, 4, 7, 32};
	uint8_t pbody[DMAX];
	struct fec_acc tx = {.buf = bufs[FEC_K_MAX], .cap = DMAX}, rx = {.buf = bufs[FEC_K_MAX + 1], .cap = DMAX};
	uint8_t d[FEC_K_MAX][DMAX];
	uint32_t len[FEC_K_MAX], index, got;

	for (size_t c = 0; c < sizeof(ks) / sizeof(ks[0]); c++) {
		uint32_t k = ks[c];

		fec_acc_reset(&tx, 5);
		for (uint32_t i = 0; i < k; i++) {
			len[i] = fill(d[i], i, k);
			fec_acc_add(&tx, d[i], len[i]);
		}
		fec_acc_parity(&tx, pbody);
		for (uint32_t lost = 0; lost <= k; lost++) { /* k: the parity lost */
			fec_acc_reset(&rx, 5);
			for (uint32_t i = 0; i < k; i++)
				if (i != lost)
					assert_true(fec_acc_add_data(&rx, i, d[i], len[i]));
			assert_false(fec_acc_add_data(&rx, lost == 0 ? 1 : 0, d[0], len[0]));
			if (lost == k) {
				assert_int_equal(fec_acc_missing(&rx, &index, &got), -EAGAIN);
				continue;
			}
			assert_true(fec_acc_add_parity(&rx, k, tx.len_xor, pbody, tx.len));
			assert_int_equal(fec_acc_missing(&rx, &index, &got), 0);
			assert_int_equal(index, lost);
			assert_int_equal(got, len[lost]);
			assert_memory_equal(rx.buf, d[lost], len[lost]);
		}
		/* two lost: nothing to rebuild, both counted lost */
		fec_acc_reset(&rx, 5);
		for (uint32_t i = 2; i < k; i++)
			fec_acc_add_data(&rx, i, d[i], len[i]);
		assert_true(fec_acc_add_parity(&rx, k, tx.len_xor, pbody, tx.len));
		assert_int_equal(fec_acc_missing(&rx, &index, &got), -EAGAIN);
		assert_int_equal(fec_acc_lost(&rx), 2);
	}
}

/* ---- memloop: an egress that keeps what it is sent ---------------------- */

struct mem {
	struct sn_host *h;
	const struct sn_host_api *api;
	struct sn_pkt *q[QMAX];
	uint32_t nq, head;
	bool deliver; /* hand frames up with deliver instead of recv_batch */
};

static struct mem *g_mem;

static int mem_create(void *inst, const struct sn_create_args *a)
{
	struct mem *m = inst;

	m->h = a->host;
	m->api = a->api;
	g_mem = m;
	return 0;
}

static void mem_destroy(void *inst)
{
	struct mem *m = inst;

	for (uint32_t i = m->head; i < m->nq; i++)
		m->api->pkt_release(m->h, m->q[i]);
	g_mem = NULL;
}

static int mem_open(void *inst, const struct sn_egress_open *a)
{
	return a->rcvbuf == 123 ? 0 : -EINVAL;
}

static int mem_fd(void *inst)
{
	return 42;
}

static int mem_local(void *inst, struct sn_addr *out)
{
	memset(out, 0, sizeof(*out));
	return 0;
}

static int mem_send(void *inst, struct sn_pkt *const *pkts, uint32_t n)
{
	struct mem *m = inst;
	uint32_t k = 0;

	while (k < n && m->nq < QMAX)
		m->q[m->nq++] = pkts[k++];
	return (int)k;
}

static int mem_recv(void *inst, struct sn_pkt **pkts, uint32_t n)
{
	struct mem *m = inst;
	uint32_t k = 0;

	while (k < n && m->head < m->nq) {
		struct sn_pkt *s = m->q[m->head++];

		memcpy(sn_pkt_data(pkts[k]), sn_pkt_data(s), s->len);
		pkts[k]->len = s->len;
		pkts[k++]->addr = s->addr;
		m->api->pkt_release(m->h, s);
	}
	return (int)k;
}

static const struct sn_egress_ops mem_ops = {
	.struct_size = sizeof(struct sn_egress_ops),
	.flags = SN_EGRESS_F_GSO,
	.open = mem_open,
	.fd = mem_fd,
	.local_addr = mem_local,
	.recv_batch = mem_recv,
	.send_batch = mem_send,
};

static const struct sn_plugin_desc mem_desc = {
	.abi_major = SN_ABI_MAJOR,
	.abi_minor = SN_ABI_MINOR,
	.struct_size = sizeof(struct sn_plugin_desc),
	.kind = SN_KIND_EGRESS,
	.name = "memloop",
	.version = "test",
	.instance_size = sizeof(struct mem),
	.headroom = 4,
	.tailroom = 2,
	.overhead = 28,
	.create = mem_create,
	.destroy = mem_destroy,
	.ops = &mem_ops,
};

static const struct sn_plugin_desc *mem_entry(void)
{
	return &mem_desc;
}

/* A layer that forgot attach. */
static const struct sn_egress_ops noattach_ops = {
	.struct_size = sizeof(struct sn_egress_ops),
	.flags = SN_EGRESS_F_LAYER,
	.open = mem_open,
	.fd = mem_fd,
	.local_addr = mem_local,
	.recv_batch = mem_recv,
	.send_batch = mem_send,
};

static const struct sn_plugin_desc noattach_desc = {
	.abi_major = SN_ABI_MAJOR,
	.abi_minor = SN_ABI_MINOR,
	.struct_size = sizeof(struct sn_plugin_desc),
	.kind = SN_KIND_EGRESS,
	.name = "noattach",
	.instance_size = sizeof(struct mem),
	.create = mem_create,
	.destroy = mem_destroy,
	.ops = &noattach_ops,
};

static const struct sn_plugin_desc *noattach_entry(void)
{
	return &noattach_desc;
}

/* ---- a host with fec_xor over memloop ------------------------------------ */

struct fx {
	struct sn_config *cfg;
	struct sn_pool pool;
	struct sn_host host;
	uv_loop_t loop;
	struct sn_plugin top;
	struct sn_egstack stack;
	const struct sn_egress_ops *ops;
	struct sn_pkt *up[NMAX]; /* what reached the host: recv_batch and deliver */
	uint32_t n_up, n_delivered;
	uint8_t sent[NMAX][DMAX];
	uint32_t sent_len[NMAX], n_sent;
};

static int cap_deliver(void *ctx, struct sn_pkt *const *pkts, uint32_t n)
{
	struct fx *f = ctx;

	for (uint32_t i = 0; i < n; i++)
		f->up[f->n_up++] = pkts[i];
	f->n_delivered += n;
	return (int)n;
}

static char *config_text(const char *plugins)
{
	char path[512], *buf = malloc(1 << 16), *out = malloc(1 << 16), *e;
	FILE *fp;
	size_t len;

	snprintf(path, sizeof(path), "%s/conf/hub.yaml", SN_TEST_SOURCE_DIR);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	len = fread(buf, 1, (1 << 16) - 1, fp);
	fclose(fp);
	buf[len] = '\0';
	e = strstr(buf, "\nplugins:\n");
	assert_non_null(e);
	*e = '\0';
	/* the plugins block is replaced: the rest of the file follows at peers: */
	snprintf(out, 1 << 16, "%s\nplugins:\n%s\n%s", buf, plugins, strstr(e + 1, "\npeers:") + 1);
	free(buf);
	return out;
}

/* Load the stack the plugins block names; rc and err as sn_egstack_load. */
static int fx_load(struct fx *f, const char *plugins, char *err, size_t err_len)
{
	char *text = config_text(plugins);
	int r;

	memset(f, 0, sizeof(*f));
	if (sn_config_load_buffer("t.yaml", text, strlen(text), false, &f->cfg, err, err_len) < 0)
		fail_msg("config: %s", err);
	free(text);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	assert_int_equal(sn_pool_init(&f->pool, QMAX + 2 * NMAX, 64, 1600, 64, false), 0);
	sn_host_init(&f->host, &f->loop, &f->pool);
	f->host.log_level = SN_LOG_ERROR;
	f->host.deliver = cap_deliver;
	f->host.deliver_ctx = f;
	r = sn_egstack_load(&f->stack, &f->top, &f->host, f->cfg, PLUGDIR, DMAX, err, err_len);
	if (r == 0)
		f->ops = sn_plugin_ops(&f->top);
	return r;
}

static struct fx *fx_new(const char *opts)
{
	struct fx *f = malloc(sizeof(*f));
	char plugins[256], err[1024] = "";
	struct sn_egress_open o = {.struct_size = sizeof(o), .rcvbuf = 123, .err = err,
				   .err_len = sizeof(err)};

	snprintf(plugins, sizeof(plugins),
		 "  egress: fec_xor\n  options:\n    fec_xor: { over: memloop%s }\n", opts);
	if (fx_load(f, plugins, err, sizeof(err)) < 0)
		fail_msg("stack: %s", err);
	assert_int_equal(f->ops->open(f->top.inst, &o), 0);
	assert_int_equal(f->ops->fd(f->top.inst), 42);
	return f;
}

static void close_open(uv_handle_t *h, void *arg)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void fx_free(struct fx *f)
{
	for (uint32_t i = 0; i < f->n_up; i++)
		sn_pool_put(&f->pool, f->up[i]);
	sn_egstack_unload(&f->stack, &f->top);
	uv_walk(&f->loop, close_open, NULL);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	assert_int_equal(f->pool.n_free, f->pool.count);
	sn_pool_destroy(&f->pool);
	sn_config_free(f->cfg);
	free(f);
}

/* Send n datagrams of varied lengths to peer 7 through the stack. */
static void fx_send(struct fx *f, uint32_t n, uint32_t len_fixed)
{
	struct sn_pkt *v[NMAX];

	for (uint32_t i = 0; i < n; i++) {
		uint32_t id = f->n_sent++;

		v[i] = sn_pool_get(&f->pool);
		f->sent_len[id] = len_fixed ? len_fixed : fill(f->sent[id], id, 3);
		if (len_fixed)
			memset(f->sent[id], (int)id, len_fixed);
		memcpy(sn_pkt_data(v[i]), f->sent[id], f->sent_len[id]);
		v[i]->len = f->sent_len[id];
		v[i]->peer_id = 7;
		v[i]->addr = (struct sn_addr){SN_AF_INET, 0, 4000, {10, 9, 9, 9}};
	}
	assert_int_equal(f->ops->send_batch(f->top.inst, v, n), (int)n);
}

static bool is_data(const struct sn_pkt *p)
{
	return (sn_pkt_data(p)[0] & 0xfu) == 0;
}

/* Lose the data frames number first..first+count-1 (counting data frames
 * only) of what memloop holds. */
static void lose(uint32_t first, uint32_t count)
{
	struct mem *m = g_mem;
	uint32_t d = 0, k = m->head;

	for (uint32_t i = m->head; i < m->nq; i++) {
		bool drop = is_data(m->q[i]) && d >= first && d < first + count;

		d += is_data(m->q[i]);
		if (drop)
			m->api->pkt_release(m->h, m->q[i]);
		else
			m->q[k++] = m->q[i];
	}
	m->nq = k;
}

/* Receive everything memloop holds; what came up goes to f->up. */
static void fx_recv(struct fx *f)
{
	struct sn_pkt *v[64u];
	uint32_t k;
	int got;

	do {
		for (k = 0; k < 64u; k++)
			v[k] = sn_pool_get(&f->pool);
		got = f->ops->recv_batch(f->top.inst, v, 64u);
		assert_true(got >= 0);
		for (int i = 0; i < got; i++)
			f->up[f->n_up++] = v[i];
		for (k = (uint32_t)got; k < 64u; k++)
			sn_pool_put(&f->pool, v[k]);
	} while (got == (int)64u);
}

/* Every datagram sent came up exactly once, byte for byte. */
static void check_all_up(struct fx *f)
{
	bool seen[NMAX] = {false};

	assert_int_equal(f->n_up, f->n_sent);
	for (uint32_t i = 0; i < f->n_up; i++) {
		uint32_t j = 0;

		while (j < f->n_sent && (seen[j] || f->up[i]->len != f->sent_len[j] ||
					 memcmp(sn_pkt_data(f->up[i]), f->sent[j], f->sent_len[j])))
			j++;
		if (j == f->n_sent)
			fail_msg("datagram %u that came up (%u bytes) was never sent", i, f->up[i]->len);
		seen[j] = true;
	}
}

/* fec_xor's plugin counter name, from the host's table (counter_register). */
static uint64_t ctr(struct fx *f, const char *name)
{
	for (uint32_t i = 0; i < f->host.n_pctr; i++)
		if (f->host.pctr[i].owner && !strcmp(f->host.pctr[i].owner->name, "fec_xor") &&
		    !strcmp(f->host.pctr[i].name, name))
			return f->host.pctr_val[i];
	fail_msg("no counter %s", name);
	return 0;
}

/* k * depth datagrams, the data frames first..first+count-1 lost: every
 * one comes up, the lost through deliver, rebuilt. */
static void lose_case(uint32_t k, uint32_t depth, uint32_t first, uint32_t count)
{
	char opts[64];
	struct fx *f;

	snprintf(opts, sizeof(opts), ", k: %u, interleave: %u", k, depth);
	f = fx_new(opts);
	fx_send(f, k * depth, 0);
	assert_int_equal(g_mem->nq, k * depth + depth);
	lose(first, count);
	fx_recv(f);
	check_all_up(f);
	assert_int_equal(f->n_delivered, count);
	assert_int_equal(ctr(f, "recovered"), count);
	assert_int_equal(ctr(f, "groups"), depth);
	assert_int_equal(ctr(f, "parities_sent"), depth);
	fx_free(f);
}

/* Every single lost data frame, with interleave 1..3; with interleave, a
 * burst of depth consecutive losses from every place, one per group. */
static void test_fec_layer_every_loss(void **state)
{
	static const uint32_t ks[] = {2, 4, 5};

	for (uint32_t depth = 1; depth <= 3; depth++)
		for (size_t c = 0; c < sizeof(ks) / sizeof(ks[0]); c++)
			for (uint32_t first = 0; first < ks[c] * depth; first++) {
				lose_case(ks[c], depth, first, 1);
				if (depth > 1 && first + depth <= ks[c] * depth)
					lose_case(ks[c], depth, first, depth);
			}
}

/* Two lost in one group: not rebuilt; counted once its slot is taken by a
 * newer group (2 * depth + 2 slots). */
static void test_fec_layer_two_lost(void **state)
{
	struct fx *f = fx_new(", k: 4");

	fx_send(f, 4, 0);
	lose(1, 2);
	fx_recv(f);
	assert_int_equal(f->n_up, 2);
	assert_int_equal(ctr(f, "recovered"), 0);
	assert_int_equal(ctr(f, "unrecoverable"), 0);
	fx_send(f, 4 * 4, 0);
	fx_recv(f);
	assert_int_equal(ctr(f, "unrecoverable"), 1);
	assert_int_equal(f->n_up, 18);
	fx_free(f);
}

/* A group that does not fill gets its parity from the flush timer. */
static void test_fec_layer_flush(void **state)
{
	struct fx *f = fx_new(", k: 8, flush_ms: 2");
	uint64_t t0 = uv_hrtime();

	fx_send(f, 3, 0);
	assert_int_equal(g_mem->nq, 3);
	while (g_mem->nq == 3 && uv_hrtime() - t0 < 1000000000ull)
		uv_run(&f->loop, UV_RUN_ONCE);
	assert_int_equal(g_mem->nq, 4); /* the parity over 3 */
	assert_int_equal(ctr(f, "flushed"), 1);
	lose(2, 1);
	fx_recv(f);
	check_all_up(f);
	assert_int_equal(ctr(f, "recovered"), 1);
	fx_free(f);
}

/* Frames of one size to one address leave as runs for memloop's GSO, and a
 * parity is as long as the longest datagram it covers: a group of equal
 * datagrams, its parity and the next group's frames are one run (a parity
 * longer than the data frames around it would end a run at each group and
 * cost the egress below a message per k + 1 datagrams). A shorter datagram
 * ends a run; the parity over it and a longer one is as long as the
 * longer. */
static void test_fec_layer_runs(void **state)
{
	struct fx *f = fx_new(", k: 4");
	struct sn_pkt **q = g_mem->q;

	fx_send(f, 6, 1000);
	assert_int_equal(g_mem->nq, 7);
	assert_true(q[0]->flags & SN_PKT_F_RUN);
	assert_int_equal(q[0]->gso_segs, 7);
	assert_int_equal(q[0]->gso_size, 1000 + FEC_HDR_LEN);
	assert_int_equal(q[4]->len, 1000 + FEC_HDR_LEN); /* the parity */
	assert_int_equal(sn_pkt_data(q[4])[0], FEC_VERSION << 4 | FEC_F_PARITY);
	for (uint32_t i = 1; i < 7; i++)
		assert_false(q[i]->flags & SN_PKT_F_RUN);
	fx_recv(f);
	check_all_up(f);
	fx_free(f);

	f = fx_new(", k: 2");
	q = g_mem->q;
	fx_send(f, 1, 1000);
	fx_send(f, 1, 600);
	assert_int_equal(g_mem->nq, 3);
	assert_int_equal(q[2]->len, 1000 + FEC_HDR_LEN);
	lose(0, 1);
	fx_recv(f);
	check_all_up(f);
	assert_int_equal(ctr(f, "recovered"), 1);
	fx_free(f);
}

/* The egress below hands frames up with deliver: they come to the layer
 * (lower_deliver), which takes them apart and hands the datagrams on up
 * through its own deliver; a lost one is rebuilt on that path too. */
static void test_fec_layer_lower_deliver(void **state)
{
	struct fx *f = fx_new(", k: 4");
	struct mem *m = g_mem;
	struct sn_pkt *v[QMAX];
	uint32_t n;

	fx_send(f, 8, 0);
	lose(5, 1);
	n = m->nq - m->head;
	memcpy(v, m->q + m->head, n * sizeof(*v));
	m->head = m->nq;
	assert_int_equal(m->api->deliver(m->h, v, n), (int)n);
	check_all_up(f);
	assert_int_equal(f->n_delivered, 8);
	assert_int_equal(ctr(f, "recovered"), 1);
	fx_free(f);
}

/* The host's side of composition: room summed, `over` for a layer only,
 * no endless stacks, a layer must attach, the option itself hidden. */
static void test_fec_stack_rules(void **state)
{
	struct fx *f = fx_new("");
	char err[1024] = "";
	int r;

	assert_int_equal(f->stack.n, 1);
	assert_string_equal(f->stack.below[0].desc->name, "memloop");
	assert_int_equal(f->stack.headroom, FEC_HDR_LEN + 4);
	assert_int_equal(f->stack.tailroom, 2);
	assert_int_equal(f->stack.overhead, FEC_OVERHEAD + 28);
	fx_free(f);

	f = malloc(sizeof(*f));
	r = fx_load(f, "  egress: memloop\n  options:\n    memloop: { over: fec_xor }\n", err,
		    sizeof(err));
	assert_int_equal(r, -EINVAL);
	assert_non_null(strstr(err, "plugins.options.memloop.over: egress 'memloop' moves "
				    "datagrams itself and cannot sit over another"));
	sn_egstack_unload(&f->stack, &f->top);
	uv_loop_close(&f->loop);
	sn_pool_destroy(&f->pool);
	sn_config_free(f->cfg);

	r = fx_load(f, "  egress: fec_xor\n  options:\n    fec_xor: { over: fec_xor }\n", err,
		    sizeof(err));
	assert_int_equal(r, -ELOOP);
	assert_non_null(strstr(err, "more than 4 egress layers stacked"));
	sn_egstack_unload(&f->stack, &f->top);
	uv_loop_close(&f->loop);
	sn_pool_destroy(&f->pool);
	sn_config_free(f->cfg);

	r = fx_load(f, "  egress: noattach\n", err, sizeof(err));
	assert_int_equal(r, -EINVAL);
	assert_non_null(strstr(err, "declares SN_EGRESS_F_LAYER but has no attach operation"));
	sn_egstack_unload(&f->stack, &f->top);
	uv_loop_close(&f->loop);
	sn_pool_destroy(&f->pool);
	sn_config_free(f->cfg);
	free(f);
}

/* A config of the same stack with other options, for reload checks. */
static struct sn_config *other(const char *opts)
{
	char plugins[256], err[1024] = "", *text;
	struct sn_config *c;

	snprintf(plugins, sizeof(plugins), "  egress: fec_xor\n  options:\n%s", opts);
	text = config_text(plugins);
	if (sn_config_load_buffer("t.yaml", text, strlen(text), false, &c, err, sizeof(err)) < 0)
		fail_msg("config: %s", err);
	free(text);
	return c;
}

/* Reload: each egress of the stack takes its own changed options (fec_xor's
 * k at once, interleave refused); `over` changing, or options of an
 * egress without reconfigure, need a restart. */
static void test_fec_stack_reload(void **state)
{
	static const struct {
		const char *opts;
		int check, apply;
		const char *msg;
	} cases[] = {
		{"    fec_xor: { over: memloop }\n", 0, 0, NULL},
		{"    fec_xor: { over: memloop, k: 6 }\n", 0, 0, NULL},
		{"    fec_xor: { over: memloop, interleave: 2 }\n", 0, -ENOTSUP,
		 "plugins.options.fec_xor: fec_xor: interleave and peers size its tables"},
		{"    fec_xor: { over: memloop }\n    memloop: { x: 1 }\n", -ENOTSUP, 0,
		 "plugins.options.memloop changed, and plugin 'memloop' cannot apply options"},
		{"    fec_xor: { over: raw_direct }\n", -ENOTSUP, 0,
		 "plugins.options.fec_xor.over changed from 'memloop' to 'raw_direct'"},
	};
	struct fx *f = fx_new("");

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sn_config *c = other(cases[i].opts);
		char err[1024] = "";
		bool changed = true;
		int r = sn_egstack_reload_check(&f->stack, &f->top, f->cfg, c, &changed, err,
					      sizeof(err));

		assert_int_equal(r, cases[i].check);
		if (r == 0) {
			assert_int_equal(changed, i > 0);
			r = sn_egstack_reconfigure(&f->stack, &f->top, f->cfg, c, err, sizeof(err));
			assert_int_equal(r, cases[i].apply);
		}
		if (cases[i].msg && !strstr(err, cases[i].msg))
			fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].msg);
		sn_config_free(c);
	}
	/* k 6 took: a group is 6 now */
	fx_send(f, 6, 0);
	assert_int_equal(g_mem->nq, 7);
	assert_int_equal(sn_pkt_data(g_mem->q[0])[1], 6);
	assert_int_equal(ctr(f, "groups"), 1);
	fx_recv(f);
	check_all_up(f);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fec_frame_parse),
		cmocka_unit_test(test_fec_group_every_loss),
		cmocka_unit_test(test_fec_layer_every_loss),
		cmocka_unit_test(test_fec_layer_two_lost),
		cmocka_unit_test(test_fec_layer_flush),
		cmocka_unit_test(test_fec_layer_runs),
		cmocka_unit_test(test_fec_layer_lower_deliver),
		cmocka_unit_test(test_fec_stack_rules),
		cmocka_unit_test(test_fec_stack_reload),
	};

	sn_loader_register_builtin(mem_entry);
	sn_loader_register_builtin(noattach_entry);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
