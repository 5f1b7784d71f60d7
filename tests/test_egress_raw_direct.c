/* SPDX-License-Identifier: MIT */
/*
 * tests/test_egress_raw_direct.c: the raw_direct egress plugin, loaded as
 * the daemon loads it (dlopen of the built .so), over loopback only.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gso.h"
#include "host.h"
#include "pool.h"
#include "subnetra/sdk.h"

#define PLUGIN_PATH SN_TEST_BINARY_DIR "/plugins/egress_raw_direct.so"
#define POOL_COUNT 256
#define MAX_INST 4
#define PEER 7
#define POLL_MS 1000
#define MAX_POLLS 20

struct fx {
	void *dl;
	const struct sn_plugin_desc *desc;
	const struct sn_egress_ops *ops;
	struct sn_pool pool;
	struct sn_host host;
	uint64_t peer_ctr[SN_CTR_MAX];
	void *inst[MAX_INST];
	int n_inst;
	char err[256];
};

static uint64_t *peer_counters(void *ctx, uint32_t peer_id)
{
	struct fx *f = ctx;

	return peer_id == PEER ? f->peer_ctr : NULL;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	sn_plugin_entry_fn entry;

	assert_non_null(f);
	f->dl = dlopen(PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);
	if (!f->dl)
		fail_msg("dlopen %s: %s", PLUGIN_PATH, dlerror());
	entry = (sn_plugin_entry_fn)dlsym(f->dl, SN_PLUGIN_ENTRY_V1);
	assert_non_null(entry);
	f->desc = entry();
	assert_int_equal(f->desc->kind, SN_KIND_EGRESS);
	assert_string_equal(f->desc->name, "raw_direct");
	f->ops = f->desc->ops;
	assert_int_equal(sn_pool_init(&f->pool, POOL_COUNT, 64, 2048, 64, false), 0);
	sn_host_init(&f->host, NULL, &f->pool);
	f->host.peer_counters = peer_counters;
	f->host.ctx = f;
	f->host.log_level = SN_LOG_ERROR;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	for (int i = 0; i < f->n_inst; i++) {
		f->desc->destroy(f->inst[i]);
		free(f->inst[i]);
	}
	sn_pool_destroy(&f->pool);
	dlclose(f->dl);
	free(f);
	return 0;
}

/* Create an instance with options; NULL (and *rc) when create() fails. */
static void *create(struct fx *f, const struct sn_option *opts, uint32_t n, int *rc)
{
	size_t align = f->desc->instance_align ? f->desc->instance_align : 16;
	size_t size = (f->desc->instance_size + align - 1) / align * align;
	struct sn_create_args args = {
		.struct_size = sizeof(args),
		.host = &f->host,
		.api = sn_host_api_table(),
		.options = {.items = opts, .count = n},
		.err = f->err,
		.err_len = sizeof(f->err),
	};
	void *inst = aligned_alloc(align, size);

	assert_non_null(inst);
	memset(inst, 0, size);
	f->err[0] = '\0';
	*rc = f->desc->create(inst, &args);
	if (*rc) {
		free(inst);
		return NULL;
	}
	assert_true(f->n_inst < MAX_INST);
	f->inst[f->n_inst++] = inst;
	return inst;
}

static void *open_inst(struct fx *f, const struct sn_option *opts, uint32_t n, uint32_t rcvbuf)
{
	struct sn_egress_open args = {
		.struct_size = sizeof(args),
		.listen = {.family = SN_AF_INET, .ip = {127, 0, 0, 1}},
		.rcvbuf = rcvbuf,
		.err = f->err,
		.err_len = sizeof(f->err),
	};
	int rc;
	void *inst = create(f, opts, n, &rc);

	assert_int_equal(rc, 0);
	rc = f->ops->open(inst, &args);
	if (rc)
		fail_msg("open: %d %s", rc, f->err);
	return inst;
}

static struct sn_addr local(struct fx *f, void *inst)
{
	struct sn_addr a;

	assert_int_equal(f->ops->local_addr(inst, &a), 0);
	assert_int_equal(a.family, SN_AF_INET);
	assert_int_not_equal(a.port, 0);
	return a;
}

static struct sn_pkt *datagram(struct sn_pool *pool, struct sn_addr to, uint32_t len, uint8_t seed)
{
	struct sn_pkt *p = sn_pool_get(pool);

	assert_non_null(p);
	for (uint32_t j = 0; j < len; j++)
		sn_pkt_data(p)[j] = (uint8_t)(seed * 7 + j);
	p->len = len;
	p->addr = to;
	return p;
}

static void check_datagram(const struct sn_pkt *p, uint32_t len, uint8_t seed)
{
	assert_int_equal(p->len, len);
	for (uint32_t j = 0; j < len; j++)
		assert_int_equal(sn_pkt_data(p)[j], (uint8_t)(seed * 7 + j));
}

static void wait_readable(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	assert_true(poll(&pfd, 1, POLL_MS) >= 0);
}

/* Receive into batches of lend packets from pool until want are filled or
 * the polls run out; the filled ones go to out (room for every datagram
 * sent), the unused are returned. */
static uint32_t recv_some(struct fx *f, struct sn_pool *pool, void *inst, struct sn_pkt **out,
			  uint32_t want, uint32_t lend)
{
	struct sn_pkt *lent[64];
	uint32_t got = 0, n = lend;
	int k = 0;

	assert_true(lend <= 64);
	for (int tries = 0; got < want && tries < MAX_POLLS; tries++) {
		if ((uint32_t)k < n) /* a full batch: the egress may hold more (egress.h) */
			wait_readable(f->ops->fd(inst));
		for (uint32_t i = 0; i < n; i++)
			assert_non_null(lent[i] = sn_pool_get(pool));
		k = f->ops->recv_batch(inst, lent, n);
		assert_true(k >= 0 && (uint32_t)k <= n);
		for (uint32_t i = 0; i < n; i++) {
			if (i < (uint32_t)k)
				out[got++] = lent[i];
			else
				sn_pool_put(pool, lent[i]);
		}
	}
	return got;
}

static void put_all(struct sn_pool *pool, struct sn_pkt **pkts, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		sn_pool_put(pool, pkts[i]);
}

static void assert_same_addr(struct sn_addr a, struct sn_addr b)
{
	assert_int_equal(a.family, b.family);
	assert_int_equal(a.port, b.port);
	assert_memory_equal(a.ip, b.ip, 4);
}

/* Send count datagrams a -> b in one call and receive them all in order. */
static void roundtrip(struct fx *f, uint32_t count)
{
	void *a = open_inst(f, NULL, 0, 0), *b = open_inst(f, NULL, 0, 0);
	struct sn_addr from = local(f, a), to = local(f, b);
	struct sn_pkt *pkts[POOL_COUNT / 2];

	assert_true(count <= POOL_COUNT / 2);
	for (uint32_t i = 0; i < count; i++)
		pkts[i] = datagram(&f->pool, to, 1 + i * 9, (uint8_t)i);
	assert_int_equal(f->ops->send_batch(a, pkts, count), count);
	assert_int_equal(f->pool.n_free, POOL_COUNT);

	assert_int_equal(recv_some(f, &f->pool, b, pkts, count, 64), count);
	for (uint32_t i = 0; i < count; i++) {
		check_datagram(pkts[i], 1 + i * 9, (uint8_t)i);
		assert_same_addr(pkts[i]->addr, from);
	}
	put_all(&f->pool, pkts, count);
	assert_int_equal(f->pool.n_free, POOL_COUNT);
	assert_int_equal(f->host.counters[SN_CTR_DROP_TX_ERROR], 0);
	assert_int_equal(f->host.counters[SN_CTR_DROP_RX_ERROR], 0);
}

static void test_raw_direct_batch_of_64_roundtrip(void **state)
{
	roundtrip(*state, 64);
}

static void test_raw_direct_batch_larger_than_64_roundtrip(void **state)
{
	roundtrip(*state, 100);
}

/* Runs of same-size datagrams go out as UDP GSO messages (a shorter one may
 * end a run); what arrives must be exactly what was sent, per destination,
 * in order, with GSO on and off. */
static void gso_runs(struct fx *f, const char *gso)
{
	struct sn_option o = {"gso", gso};
	void *a = open_inst(f, &o, 1, 0), *b = open_inst(f, NULL, 0, 0), *c = open_inst(f, NULL, 0, 0);
	struct sn_addr tb = local(f, b), tc = local(f, c);
	static const struct { uint32_t n, len; int to_c; } runs[] = {
		{40, 1200, 0}, {1, 700, 0}, {10, 1200, 1}, {5, 1200, 0}, {3, 64, 1}};
	struct sn_pkt *pkts[64], *got[64];
	uint32_t n = 0, nb = 0, nc = 0, ib = 0, ic = 0;

	for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++)
		for (uint32_t k = 0; k < runs[r].n; k++, n++)
			pkts[n] = datagram(&f->pool, runs[r].to_c ? tc : tb, runs[r].len, (uint8_t)n);
	if (f->ops->flags & SN_EGRESS_F_GSO) /* what the host does (core/gso.h) */
		assert_int_equal(sn_gso_runs(pkts, n), 4);
	assert_int_equal(f->ops->send_batch(a, pkts, n), n);
	assert_int_equal(f->pool.n_free, POOL_COUNT);
	for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++)
		*(runs[r].to_c ? &nc : &nb) += runs[r].n;
	assert_int_equal(recv_some(f, &f->pool, b, got, nb, 64), nb);
	for (size_t r = 0, seed = 0; r < sizeof(runs) / sizeof(runs[0]); r++)
		for (uint32_t k = 0; k < runs[r].n; k++, seed++)
			if (!runs[r].to_c)
				check_datagram(got[ib++], runs[r].len, (uint8_t)seed);
	put_all(&f->pool, got, nb);
	assert_int_equal(recv_some(f, &f->pool, c, got, nc, 64), nc);
	for (size_t r = 0, seed = 0; r < sizeof(runs) / sizeof(runs[0]); r++)
		for (uint32_t k = 0; k < runs[r].n; k++, seed++)
			if (runs[r].to_c)
				check_datagram(got[ic++], runs[r].len, (uint8_t)seed);
	put_all(&f->pool, got, nc);
	assert_int_equal(f->host.counters[SN_CTR_DROP_TX_ERROR], 0);
	assert_int_equal(f->host.counters[SN_CTR_DROP_RX_ERROR], 0);
}

static void test_raw_direct_gso_runs_arrive_intact(void **state)
{
	gso_runs(*state, "on");
}

static void test_raw_direct_gso_off_same_result(void **state)
{
	gso_runs(*state, "off");
}

/* A run sent as one GSO message arrives, with GRO, as one train that is
 * split into the lent packets; lent fewer than it holds, the egress keeps
 * the rest for the calls after. Every datagram arrives, in order, timed
 * (where the platform times them), and GSO and GRO are counted. */
static void gro_split(struct fx *f, uint32_t lend)
{
	void *a = open_inst(f, NULL, 0, 0), *b = open_inst(f, NULL, 0, 0);
	struct sn_addr to = local(f, b);
	struct sn_pkt *pkts[40], *got[40];
	uint64_t before = f->host.counters[SN_CTR_RX_GRO], now;
	bool offloads = f->ops->flags & SN_EGRESS_F_GSO;

	for (uint32_t i = 0; i < 40; i++)
		pkts[i] = datagram(&f->pool, to, i < 39 ? 1200 : 300, (uint8_t)i);
	if (offloads)
		assert_int_equal(sn_gso_runs(pkts, 40), 1);
	assert_int_equal(f->ops->send_batch(a, pkts, 40), 40);
	assert_int_equal(recv_some(f, &f->pool, b, got, 40, lend), 40);
	now = f->host.counters[SN_CTR_RX_GRO];
	for (uint32_t i = 0; i < 40; i++) {
		check_datagram(got[i], i < 39 ? 1200 : 300, (uint8_t)i);
		if (offloads)
			assert_true(got[i]->time_ns > 0 && got[i]->time_ns <= sn_host_api_table()->now_ns(&f->host));
	}
	put_all(&f->pool, got, 40);
	assert_int_equal(f->pool.n_free, POOL_COUNT);
	if (offloads) {
		assert_true(f->host.counters[SN_CTR_TX_GSO] >= 1);
		assert_true(now > before); /* loopback hands the GSO message up as one train */
	}
	assert_int_equal(f->host.counters[SN_CTR_DROP_RX_ERROR], 0);
}

static void test_raw_direct_gro_train_split_in_order(void **state)
{
	gro_split(*state, 64);
}

static void test_raw_direct_gro_leftovers_kept_for_next_call(void **state)
{
	gro_split(*state, 7);
}

static void test_raw_direct_gso_option_checked(void **state)
{
	struct fx *f = *state;
	struct sn_option o = {"gso", "maybe"};
	int rc;

	assert_null(create(f, &o, 1, &rc));
	assert_int_equal(rc, -EINVAL);
	assert_string_equal(f->err, "raw_direct: gso: 'maybe' is not on or off");
}

static void test_raw_direct_recv_empty_returns_zero(void **state)
{
	struct fx *f = *state;
	void *a = open_inst(f, NULL, 0, 0);
	struct sn_pkt *p = sn_pool_get(&f->pool);

	assert_int_equal(f->ops->recv_batch(a, &p, 1), 0);
	assert_int_equal(p->len, 0);
	sn_pool_put(&f->pool, p);
}

static void test_raw_direct_unknown_option_fails_create(void **state)
{
	struct fx *f = *state;
	const struct sn_option opts[] = {{"rcvbuf", "1048576"}, {"foo", "1"}};
	int rc;

	assert_null(create(f, opts, 2, &rc));
	assert_int_equal(rc, -EINVAL);
	assert_string_equal(f->err, "raw_direct: unknown option 'foo' (known: rcvbuf, sndbuf, gso, gro)");
}

static void test_raw_direct_bad_size_fails_create(void **state)
{
	struct fx *f = *state;
	const char *bad[] = {"", "12k", "-1", "100", "4294967296", "0x1000"};
	struct sn_option o = {"sndbuf", NULL};
	int rc;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o.value = bad[i];
		assert_null(create(f, &o, 1, &rc));
		assert_int_equal(rc, -EINVAL);
		assert_non_null(strstr(f->err, "raw_direct: option sndbuf: '"));
	}
}

static void test_raw_direct_fd_before_open_is_error(void **state)
{
	struct fx *f = *state;
	struct sn_pkt *p = sn_pool_get(&f->pool);
	struct sn_addr a;
	int rc;
	void *inst = create(f, NULL, 0, &rc);

	assert_int_equal(rc, 0);
	assert_true(f->ops->fd(inst) < 0);
	assert_true(f->ops->local_addr(inst, &a) < 0);
	assert_true(f->ops->recv_batch(inst, &p, 1) < 0);
	assert_true(f->ops->send_batch(inst, &p, 1) < 0);
	sn_pool_put(&f->pool, p);
}

static int sockopt(int fd, int opt)
{
	int v = 0;
	socklen_t len = sizeof(v);

	assert_int_equal(getsockopt(fd, SOL_SOCKET, opt, &v, &len), 0);
	return v;
}

/* As root the sizes are forced exactly (Linux reports twice the value);
 * otherwise they are capped by net.core.[rw]mem_max but still set. */
static void assert_buf(int fd, int opt, int want)
{
	int got = sockopt(fd, opt);

	if (geteuid() == 0)
		assert_int_equal(got, 2 * want);
	else
		assert_true(got > 0);
}

static void test_raw_direct_buffer_sizes_follow_options(void **state)
{
	struct fx *f = *state;
	const struct sn_option opts[] = {{"rcvbuf", "262144"}, {"sndbuf", "131072"}};
	void *a = open_inst(f, opts, 2, 65536);
	void *b = open_inst(f, NULL, 0, 65536);
	void *c = open_inst(f, NULL, 0, 0);

	assert_buf(f->ops->fd(a), SO_RCVBUF, 262144); /* option beats open() */
	assert_buf(f->ops->fd(a), SO_SNDBUF, 131072);
	assert_buf(f->ops->fd(b), SO_RCVBUF, 65536);  /* open() beats the default */
	assert_buf(f->ops->fd(b), SO_SNDBUF, 4 << 20);
	assert_buf(f->ops->fd(c), SO_RCVBUF, 4 << 20);
}

static void test_raw_direct_reconfigure_applies_buffers(void **state)
{
	struct fx *f = *state;
	void *a = open_inst(f, NULL, 0, 0);
	const struct sn_option good = {"rcvbuf", "1048576"}, bad = {"rcvbuff", "1"};
	struct sn_options opts = {.items = &good, .count = 1};

	assert_non_null(f->ops->reconfigure);
	assert_int_equal(f->ops->reconfigure(a, &opts, f->err, sizeof(f->err)), 0);
	assert_buf(f->ops->fd(a), SO_RCVBUF, 1048576);
	opts.items = &bad;
	assert_int_equal(f->ops->reconfigure(a, &opts, f->err, sizeof(f->err)), -EINVAL);
	assert_string_equal(f->err, "raw_direct: unknown option 'rcvbuff' (known: rcvbuf, sndbuf, gso, gro)");
	assert_buf(f->ops->fd(a), SO_RCVBUF, 1048576);
}

/* Port 0 is refused by the kernel (EINVAL) and an address that is not
 * IPv4 by the plugin: both are taken, counted for the peer, released, and
 * the datagrams around them still go out. */
static void test_raw_direct_hard_send_error_counted_and_skipped(void **state)
{
	struct fx *f = *state;
	void *a = open_inst(f, NULL, 0, 0), *b = open_inst(f, NULL, 0, 0);
	struct sn_addr to = local(f, b), port0 = to, none = {0};
	struct sn_pkt *pkts[4];

	port0.port = 0;
	pkts[0] = datagram(&f->pool, to, 10, 0);
	pkts[1] = datagram(&f->pool, port0, 20, 1);
	pkts[2] = datagram(&f->pool, none, 30, 2);
	pkts[3] = datagram(&f->pool, to, 40, 3);
	pkts[1]->peer_id = PEER;
	pkts[2]->peer_id = PEER;
	assert_int_equal(f->ops->send_batch(a, pkts, 4), 4);
	assert_int_equal(f->pool.n_free, POOL_COUNT);
	assert_int_equal(f->host.counters[SN_CTR_DROP_TX_ERROR], 2);
	assert_int_equal(f->peer_ctr[SN_CTR_DROP_TX_ERROR], 2);

	assert_int_equal(recv_some(f, &f->pool, b, pkts, 2, 64), 2);
	check_datagram(pkts[0], 10, 0);
	check_datagram(pkts[1], 40, 3);
	put_all(&f->pool, pkts, 2);
}

/* A loopback port nobody listens on (bound, read back, closed). */
static struct sn_addr closed_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	struct sn_addr a = {.family = SN_AF_INET, .ip = {127, 0, 0, 1}};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	a.port = ntohs(sa.sin_port);
	return a;
}

/* An unconnected UDP socket does not report the ICMP port unreachable a
 * closed port answers with, so all that is certain is that sending there
 * takes the packets, frees them and breaks nothing. */
static void test_raw_direct_send_to_closed_port_is_harmless(void **state)
{
	struct fx *f = *state;
	void *a = open_inst(f, NULL, 0, 0);
	struct sn_addr to = closed_port();
	struct sn_pkt *p;

	for (int i = 0; i < 3; i++) {
		p = datagram(&f->pool, to, 64, (uint8_t)i);
		assert_int_equal(f->ops->send_batch(a, &p, 1), 1);
		usleep(10000);
	}
	assert_int_equal(f->pool.n_free, POOL_COUNT);
	p = sn_pool_get(&f->pool);
	assert_true(f->ops->recv_batch(a, &p, 1) >= 0);
	sn_pool_put(&f->pool, p);
}

/* Datagrams larger than the lent room are counted rx_error and not handed
 * up; the good ones behind them still arrive at pkts[0..k-1]. */
static void test_raw_direct_truncated_datagram_dropped(void **state)
{
	struct fx *f = *state;
	void *a = open_inst(f, NULL, 0, 0), *b = open_inst(f, NULL, 0, 0);
	struct sn_addr from = local(f, a), to = local(f, b);
	const uint32_t lens[] = {200, 10, 300, 65, 20, 64};
	struct sn_pkt *pkts[6];
	struct sn_pool small;

	assert_int_equal(sn_pool_init(&small, 16, 0, 64, 0, false), 0);
	for (int i = 0; i < 6; i++)
		pkts[i] = datagram(&f->pool, to, lens[i], (uint8_t)i);
	assert_int_equal(f->ops->send_batch(a, pkts, 6), 6);

	assert_int_equal(recv_some(f, &small, b, pkts, 3, 6), 3);
	check_datagram(pkts[0], 10, 1);
	check_datagram(pkts[1], 20, 4);
	check_datagram(pkts[2], 64, 5);
	for (int i = 0; i < 3; i++)
		assert_same_addr(pkts[i]->addr, from);
	assert_int_equal(f->host.counters[SN_CTR_DROP_RX_ERROR], 3);
	put_all(&small, pkts, 3);
	assert_int_equal(small.n_free, 16);
	sn_pool_destroy(&small);
}

/* An empty datagram is handed up with len 0, for the host to count short,
 * not taken for a truncated one (rx_error): with GRO and without. */
static void empty_datagrams(struct fx *f, const char *gro)
{
	struct sn_option o = {"gro", gro};
	void *a = open_inst(f, NULL, 0, 0), *b = open_inst(f, &o, 1, 0);
	struct sn_addr to = local(f, b);
	const uint32_t lens[] = {0, 10, 0};
	struct sn_pkt *pkts[3];

	for (int i = 0; i < 3; i++)
		pkts[i] = datagram(&f->pool, to, lens[i], (uint8_t)i);
	assert_int_equal(f->ops->send_batch(a, pkts, 3), 3);
	assert_int_equal(recv_some(f, &f->pool, b, pkts, 3, 3), 3);
	assert_int_equal(pkts[0]->len, 0);
	check_datagram(pkts[1], 10, 1);
	assert_int_equal(pkts[2]->len, 0);
	assert_int_equal(f->host.counters[SN_CTR_DROP_RX_ERROR], 0);
	put_all(&f->pool, pkts, 3);
}

static void test_raw_direct_empty_datagram_handed_up_gro(void **state)
{
	empty_datagrams(*state, "on");
}

static void test_raw_direct_empty_datagram_handed_up_plain(void **state)
{
	empty_datagrams(*state, "off");
}

static void test_raw_direct_descriptor_is_sane(void **state)
{
	struct fx *f = *state;

	assert_int_equal(f->desc->abi_major, SN_ABI_MAJOR);
	assert_true(f->desc->abi_minor <= SN_ABI_MINOR);
	assert_int_equal(f->desc->struct_size, sizeof(struct sn_plugin_desc));
	assert_int_equal(f->desc->overhead, 28);
	assert_non_null(f->ops->open);
	assert_non_null(f->ops->fd);
	assert_non_null(f->ops->local_addr);
	assert_non_null(f->ops->recv_batch);
	assert_non_null(f->ops->send_batch);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_raw_direct_descriptor_is_sane),
		T(test_raw_direct_batch_of_64_roundtrip),
		T(test_raw_direct_batch_larger_than_64_roundtrip),
		T(test_raw_direct_recv_empty_returns_zero),
		T(test_raw_direct_unknown_option_fails_create),
		T(test_raw_direct_bad_size_fails_create),
		T(test_raw_direct_fd_before_open_is_error),
		T(test_raw_direct_buffer_sizes_follow_options),
		T(test_raw_direct_reconfigure_applies_buffers),
		T(test_raw_direct_hard_send_error_counted_and_skipped),
		T(test_raw_direct_send_to_closed_port_is_harmless),
		T(test_raw_direct_truncated_datagram_dropped),
		T(test_raw_direct_gso_runs_arrive_intact),
		T(test_raw_direct_gso_off_same_result),
		T(test_raw_direct_gso_option_checked),
		T(test_raw_direct_gro_train_split_in_order),
		T(test_raw_direct_gro_leftovers_kept_for_next_call),
		T(test_raw_direct_empty_datagram_handed_up_gro),
		T(test_raw_direct_empty_datagram_handed_up_plain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
