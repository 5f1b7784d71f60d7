/* SPDX-License-Identifier: MIT */
/*
 * tests/test_sdk_mock.c: the SDK's mock host (sdk/mock/) driving the SDK
 * example egress (sdk/examples/egress_udp_basic), compiled in as a plugin
 * author would: create with options, its counter, a batch sent to itself
 * over loopback and received back, no packet leaked; and the mock's own
 * promises: timers run by the test's clock, log capture and level, the
 * create-only calls, deliver.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mock_host.h"

#define POOL 128

struct ex {
	struct sn_host *h;
	const struct sn_plugin_desc *d;
	const struct sn_egress_ops *ops;
	void *inst;
};

static int ex_create(struct ex *e, const struct sn_option *o, uint32_t n, char *err, uint32_t len)
{
	struct sn_options opts = {o, n, 0};
	struct sn_create_args a;
	int r;

	e->h = sn_mock_new(POOL, 64, 2048);
	assert_non_null(e->h);
	e->d = sn_plugin_entry_v1();
	e->ops = e->d->ops;
	e->inst = calloc(1, e->d->instance_size);
	assert_non_null(e->inst);
	a = sn_mock_args(e->h, &opts, err, len);
	r = e->d->create(e->inst, &a);
	sn_mock_created(e->h);
	return r;
}

static void ex_destroy(struct ex *e, bool created)
{
	if (created)
		e->d->destroy(e->inst);
	free(e->inst);
	sn_mock_free(e->h);
}

static void test_mock_example_options(void **state)
{
	static const struct sn_option bad[] = {{"sndbuff", "1MiB"}}, small[] = {{"rcvbuf", "1k"}};
	struct ex e;
	char err[256] = "";

	assert_int_equal(ex_create(&e, bad, 1, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "udp_basic: unknown option 'sndbuff' (did you mean 'sndbuf'?)");
	ex_destroy(&e, false);
	assert_int_equal(ex_create(&e, small, 1, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "udp_basic: option rcvbuf: '1k' is out of range "
			    "(65536..67108864 bytes)");
	ex_destroy(&e, false);
}

/* 40 datagrams to itself in one send_batch, all back through recv_batch in
 * order, the pool whole again afterwards. */
static void test_mock_example_batch_loopback(void **state)
{
	static const struct sn_option o[] = {{"sndbuf", "1MiB"}};
	struct sn_egress_open oa = {.struct_size = sizeof(oa)};
	struct sn_pkt *out[40], *in[SN_BATCH];
	struct sn_addr self;
	struct ex e;
	char err[256] = "";
	uint32_t got = 0;

	assert_int_equal(ex_create(&e, o, 1, err, sizeof(err)), 0);
	assert_int_equal(sn_mock_counter(e.h, "short_sends"), 0);
	assert_non_null(strstr(sn_mock_counter_help(e.h, "short_sends"), "took only part"));
	oa.listen = (struct sn_addr){.family = SN_AF_INET, .ip = {127, 0, 0, 1}};
	oa.err = err;
	oa.err_len = sizeof(err);
	assert_int_equal(e.ops->open(e.inst, &oa), 0);
	assert_int_equal(e.ops->local_addr(e.inst, &self), 0);
	assert_true(self.port != 0);
	for (uint32_t i = 0; i < 40; i++) {
		out[i] = sn_mock_api()->pkt_alloc(e.h);
		assert_non_null(out[i]);
		out[i]->len = (uint32_t)snprintf((char *)sn_pkt_data(out[i]), 64, "datagram %u", i);
		out[i]->addr = self;
	}
	assert_int_equal(e.ops->send_batch(e.inst, out, 40), 40);
	assert_int_equal(sn_mock_pool_free(e.h), POOL); /* every taken packet released */
	while (got < 40) {
		struct pollfd pfd = {e.ops->fd(e.inst), POLLIN, 0};
		int k;

		for (uint32_t i = 0; i < SN_BATCH; i++)
			in[i] = sn_mock_api()->pkt_alloc(e.h);
		assert_int_equal(poll(&pfd, 1, 2000), 1);
		k = e.ops->recv_batch(e.inst, in, SN_BATCH);
		assert_true(k > 0);
		for (int i = 0; i < k; i++, got++) {
			char want[32];

			snprintf(want, sizeof(want), "datagram %u", got);
			assert_int_equal(in[i]->len, strlen(want));
			assert_memory_equal(sn_pkt_data(in[i]), want, strlen(want));
			assert_int_equal(in[i]->addr.port, self.port);
		}
		for (uint32_t i = 0; i < SN_BATCH; i++)
			sn_mock_api()->pkt_release(e.h, in[i]);
	}
	assert_int_equal(sn_mock_count(e.h, SN_CTR_DROP_TX_ERROR), 0);
	assert_int_equal(sn_mock_count(e.h, SN_CTR_DROP_RX_ERROR), 0);
	assert_int_equal(sn_mock_pool_free(e.h), POOL);
	ex_destroy(&e, true);
}

struct ticks {
	struct sn_host *h;
	struct sn_timer *t;
	uint32_t n;
	uint64_t at[8];
	bool free_self;
};

static void tick(void *arg)
{
	struct ticks *k = arg;

	if (k->n < 8)
		k->at[k->n] = sn_mock_api()->now_ns(k->h);
	k->n++;
	if (k->free_self)
		sn_mock_api()->timer_free(k->h, k->t);
}

static void test_mock_timers(void **state)
{
	const struct sn_host_api *api = sn_mock_api();
	struct sn_host *h = sn_mock_new(4, 0, 64);
	struct ticks once = {.h = h}, every = {.h = h};
	uint64_t t0 = api->now_ns(h);

	once.t = api->timer_new(h, tick, &once);
	every.t = api->timer_new(h, tick, &every);
	once.free_self = true;
	assert_int_equal(api->timer_start(h, once.t, 10, 0), 0);
	assert_int_equal(api->timer_start(h, every.t, 4, 4), 0);
	assert_int_equal(sn_mock_timers_armed(h), 2);
	assert_int_equal(sn_mock_advance(h, 3), 0);
	/* due at 4, 8 (periodic) and 10 (one-shot, frees itself), in that order */
	assert_int_equal(sn_mock_advance(h, 7), 3);
	assert_int_equal(every.n, 2);
	assert_int_equal(once.n, 1);
	assert_int_equal(every.at[0] - t0, 4000000);
	assert_int_equal(every.at[1] - t0, 8000000);
	assert_int_equal(once.at[0] - t0, 10000000);
	assert_int_equal(sn_mock_timers_armed(h), 1);
	api->timer_stop(h, every.t);
	assert_int_equal(sn_mock_advance(h, 100), 0);
	api->timer_free(h, every.t);
	sn_mock_free(h);
}

static void test_mock_log_counters_deliver(void **state)
{
	const struct sn_host_api *api = sn_mock_api();
	struct sn_host *h = sn_mock_new(4, 16, 64);
	struct sn_options none = {0};
	struct sn_create_args a = sn_mock_args(h, &none, NULL, 0);
	struct sn_pkt *p[2];
	uint32_t n, hd, tl, ov;
	int c;

	api->log(a.host, SN_LOG_WARN, "mine: cannot %s", "fly");
	sn_mock_log_level(h, SN_LOG_INFO);
	assert_false(api->log_enabled(h, SN_LOG_DEBUG));
	api->log(h, SN_LOG_DEBUG, "mine: not kept");
	assert_string_equal(sn_mock_log(h), "warning: mine: cannot fly\n");
	sn_mock_log_clear(h);
	assert_string_equal(sn_mock_log(h), "");
	c = api->counter_register(h, "parities", "Parity datagrams sent.");
	assert_int_equal(c, 0);
	assert_int_equal(api->counter_register(h, "parities", "Again."), -EEXIST);
	assert_int_equal(api->counter_register(h, "Bad", "Fine."), -EINVAL);
	assert_int_equal(api->room_set(h, 8, 4, 12), 0);
	sn_mock_created(h);
	assert_int_equal(api->counter_register(h, "late", "Too late."), -EPERM);
	assert_int_equal(api->room_set(h, 0, 0, 0), -EPERM);
	sn_mock_room(h, &hd, &tl, &ov);
	assert_true(hd == 8 && tl == 4 && ov == 12);
	api->counter_add(h, (uint32_t)c, 5);
	assert_int_equal(sn_mock_counter(h, "parities"), 5);
	assert_int_equal(sn_mock_counter(h, "nothing"), UINT64_MAX);
	api->count(h, SN_CTR_DROP_RX_ERROR, 7, 2);
	assert_int_equal(sn_mock_count(h, SN_CTR_DROP_RX_ERROR), 2);
	assert_int_equal(sn_mock_peer_count(h, 7, SN_CTR_DROP_RX_ERROR), 2);
	p[0] = api->pkt_alloc(h);
	p[1] = api->pkt_alloc(h);
	assert_int_equal(p[0]->off, 16);
	assert_int_equal(p[0]->user, 0);
	assert_int_equal(api->deliver(h, p, 2), 2);
	assert_ptr_equal(sn_mock_delivered(h, &n)[1], p[1]);
	assert_int_equal(n, 2);
	assert_int_equal(sn_mock_pool_free(h), 2);
	sn_mock_delivered_clear(h);
	assert_int_equal(sn_mock_pool_free(h), 4);
	sn_mock_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mock_example_options),
		cmocka_unit_test(test_mock_example_batch_loopback),
		cmocka_unit_test(test_mock_timers),
		cmocka_unit_test(test_mock_log_counters_deliver),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
