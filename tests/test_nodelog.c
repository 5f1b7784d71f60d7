/* SPDX-License-Identifier: MIT */
/*
 * tests/test_nodelog.c: the operator's log lines about a node
 * (core/nodelog.c), with exact text: a peer verified (after how long), a
 * new endpoint, a new epoch, silence for three keepalive intervals and the
 * return, on a hub (a spoke's keepalives are due) and on a spoke (the hub
 * owes an answer only to our data); peer_up as the metrics use it; the
 * watch list kept by id across a re-sync; reload and policy lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "capture.h"
#include "log.h"
#include "node.h"
#include "testnode.h"

#define S 1000000000ull
#define T0 (100 * S)

static struct sn_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
	struct sn_addr x = { .family = SN_AF_INET, .port = port, .ip = { a, b, c, d } };

	return x;
}

static struct tn *node(const char *conf, uint32_t keepalive)
{
	struct tn *t = tn_new(conf, 1000, strcmp(conf, "hub") ? "172.31.2.2:40000"
							       : "172.31.2.1:51820");

	t->n->cfg->keepalive = keepalive;
	t->n->host.log_level = SN_LOG_DEBUG;
	t->n->start_ns = T0;
	sn_log_set_journal(true);
	sn_log_reset_limits(); /* each test's lines count from 0 */
	sn_nodelog_sync(t->n, T0);
	return t;
}

static void verify(struct sn_peer *p, uint64_t at, struct sn_addr ep, uint32_t epoch)
{
	p->s.state = SN_PEER_VERIFIED;
	p->s.verified_ns = at;
	p->s.last_rx_ns = at;
	p->s.endpoint = ep;
	p->s.rx_has_epoch = true;
	p->s.rx_epoch = epoch;
}

/* The lines one look at now writes. */
static char *tick(struct tn *t, uint64_t now)
{
	struct capture c;

	capture_start(&c);
	sn_nodelog_tick(t->n, now);
	return capture_end(&c);
}

static void test_nodelog_hub_peer_events(void **state)
{
	struct tn *t = node("hub", 1);
	struct sn_peer *a = tn_peer(t, 2);

	assert_string_equal(tick(t, T0 + S / 2), "");
	verify(a, T0 + 8 * S / 10, v4(172, 31, 2, 2, 34332), 1700000000);
	assert_true(sn_nodelog_peer_up(t->n, a, T0 + S));
	assert_string_equal(tick(t, T0 + S),
			    "<6>peer spoke-a (2) verified at 172.31.2.2:34332, epoch 1700000000, "
			    "0.8 s after our start\n");
	assert_string_equal(tick(t, T0 + 2 * S / 10 * 9), "");

	/* roaming: the endpoint follows an authentic datagram from elsewhere */
	a->s.endpoint = v4(172, 31, 2, 2, 40001);
	a->s.last_rx_ns = T0 + 2 * S;
	assert_string_equal(tick(t, T0 + 2 * S),
			    "<6>peer spoke-a (2) has a new endpoint: 172.31.2.2:34332 -> "
			    "172.31.2.2:40001\n");

	/* a restart of the peer: its new epoch is accepted, from a new port */
	a->s.rx_epoch = 1700000050;
	a->s.endpoint = v4(172, 31, 2, 2, 40002);
	a->s.last_rx_ns = T0 + 3 * S;
	assert_string_equal(tick(t, T0 + 3 * S),
			    "<6>peer spoke-a (2) has a new endpoint: 172.31.2.2:40001 -> 172.31.2.2:40002\n"
			    "<6>peer spoke-a (2) has a new epoch: 1700000000 -> 1700000050 (it restarted)\n");

	/* silent: nothing for 3 keepalive intervals (1 s each) */
	assert_string_equal(tick(t, T0 + 5 * S), "");
	assert_true(sn_nodelog_peer_up(t->n, a, T0 + 6 * S - 1));
	assert_false(sn_nodelog_peer_up(t->n, a, T0 + 6 * S));
	assert_string_equal(tick(t, T0 + 6 * S),
			    "<4>peer spoke-a (2) is silent: nothing from it for 3 s "
			    "(3 keepalive intervals of 1 s)\n");
	assert_string_equal(tick(t, T0 + 9 * S), ""); /* said once */
	a->s.last_rx_ns = T0 + 13 * S;
	assert_true(sn_nodelog_peer_up(t->n, a, T0 + 13 * S));
	assert_string_equal(tick(t, T0 + 13 * S),
			    "<6>peer spoke-a (2) is back after 10 s of silence, at 172.31.2.2:40002\n");
	assert_string_equal(tick(t, T0 + 14 * S), "");
	tn_free(t);
}

/* keepalive: 0 has no intervals: never silent, up while verified. */
static void test_nodelog_no_keepalive_no_silence(void **state)
{
	struct tn *t = node("hub", 0);
	struct sn_peer *a = tn_peer(t, 2);

	verify(a, T0 + S, v4(172, 31, 2, 2, 1), 5);
	tick(t, T0 + S);
	assert_string_equal(tick(t, T0 + 10000 * S), "");
	assert_true(sn_nodelog_peer_up(t->n, a, T0 + 10000 * S));
	assert_false(sn_nodelog_peer_up(t->n, tn_peer(t, 3), T0)); /* not verified */
	tn_free(t);
}

/* The hub sends no keepalives: an idle spoke hears nothing from it and
 * that is not silence; data of ours that goes unanswered for three
 * intervals is. */
static void test_nodelog_spoke_watches_hub(void **state)
{
	struct tn *t = node("spoke-a", 2);
	struct sn_peer *h = tn_peer(t, 1);

	verify(h, T0 + S, v4(172, 31, 2, 1, 51820), 1600000000);
	tick(t, T0 + S);
	h->counters[SN_CTR_TX_PACKETS] = h->counters[SN_CTR_KEEPALIVE_TX] = 40; /* keepalives only */
	assert_string_equal(tick(t, T0 + 100 * S), "");
	assert_true(sn_nodelog_peer_up(t->n, h, T0 + 100 * S));
	h->counters[SN_CTR_TX_PACKETS] += 3; /* data */
	assert_string_equal(tick(t, T0 + 101 * S), "");
	h->counters[SN_CTR_TX_PACKETS] += 3;
	assert_string_equal(tick(t, T0 + 106 * S), "");
	assert_false(sn_nodelog_peer_up(t->n, h, T0 + 107 * S));
	assert_string_equal(tick(t, T0 + 107 * S),
			    "<4>peer hub (1) is silent: our data to it unanswered for 6 s "
			    "(3 keepalive intervals of 2 s)\n");
	h->s.last_rx_ns = T0 + 110 * S;
	assert_string_equal(tick(t, T0 + 110 * S),
			    "<6>peer hub (1) is back after 109 s of silence, at 172.31.2.1:51820\n");
	assert_true(sn_nodelog_peer_up(t->n, h, T0 + 110 * S));
	/* answered data: no silence */
	h->counters[SN_CTR_TX_PACKETS] += 3;
	h->s.last_rx_ns = T0 + 111 * S;
	tick(t, T0 + 111 * S);
	assert_string_equal(tick(t, T0 + 200 * S), "");
	tn_free(t);
}

/* A re-sync (what a reload does) keeps every entry by id: nothing is
 * logged again; a peer whose session is new (re-keyed) starts over. */
static void test_nodelog_sync_keeps_by_id(void **state)
{
	struct tn *t = node("hub", 25);
	struct sn_peer *a = tn_peer(t, 2), *b = tn_peer(t, 3);

	verify(a, T0 + S, v4(172, 31, 2, 2, 1), 7);
	verify(b, T0 + 2 * S, v4(172, 31, 3, 2, 1), 8);
	assert_string_equal(tick(t, T0 + 3 * S),
			    "<6>peer spoke-a (2) verified at 172.31.2.2:1, epoch 7, 1.0 s after our start\n"
			    "<6>peer spoke-b (3) verified at 172.31.3.2:1, epoch 8, 2.0 s after our start\n");
	sn_nodelog_sync(t->n, T0 + 4 * S);
	assert_string_equal(tick(t, T0 + 5 * S), "");
	/* spoke B re-keyed by a reload at T0 + 6 s: a fresh session */
	memset(&b->s, 0, sizeof(b->s));
	sn_nodelog_sync(t->n, T0 + 6 * S);
	verify(b, T0 + 6 * S + S / 2, v4(172, 31, 3, 2, 2), 9);
	assert_string_equal(tick(t, T0 + 7 * S),
			    "<6>peer spoke-b (3) verified at 172.31.3.2:2, epoch 9, 0.5 s after the "
			    "reload that added or re-keyed it\n");
	tn_free(t);
}

static void test_nodelog_reload_and_policy_lines(void **state)
{
	struct tn *t = node("hub", 25);
	struct capture c;
	char *out, want[512];

	capture_start(&c);
	sn_nodelog_reload(t->n, "SIGHUP", 0, NULL);
	sn_nodelog_reload(t->n, "control socket, uid 1000", -22, "hub.yaml:3:7: node.id: bad");
	sn_nodelog_policy(t->n, 1000, "add 10.9.0.0/24 drop");
	out = capture_end(&c);
	snprintf(want, sizeof(want),
		 "<6>reload (SIGHUP) applied: %s, policy version %llu, 2 peer(s)\n"
		 "<3>reload (control socket, uid 1000) refused, running state unchanged: "
		 "hub.yaml:3:7: node.id: bad\n"
		 "<6>policy (control socket, uid 1000): add 10.9.0.0/24 drop; now version %llu, "
		 "%u rules (0 run-time)\n",
		 t->n->cfg->path, (unsigned long long)t->n->policy_version,
		 (unsigned long long)t->n->policy_version,
		 sn_policy_count(sn_policy_active(&t->n->policy)));
	assert_string_equal(out, want);
	tn_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nodelog_hub_peer_events),
		cmocka_unit_test(test_nodelog_no_keepalive_no_silence),
		cmocka_unit_test(test_nodelog_spoke_watches_hub),
		cmocka_unit_test(test_nodelog_sync_keeps_by_id),
		cmocka_unit_test(test_nodelog_reload_and_policy_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
