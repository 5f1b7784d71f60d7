/* SPDX-License-Identifier: MIT */
/*
 * tests/test_datapath.c: the packet path's offloads and AQM (core/
 * datapath.c) between a hub and spoke A built by hand (tests/support/
 * testnode.c): a TUN super-packet cut, sealed and, at the other end,
 * coalesced again; partial checksums completed; runs marked for a GSO
 * egress; what a backend does not take counted, not guessed; CoDel marking
 * ECN-capable packets and dropping the others once they waited too long.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gso.h"
#include "ipref.h"
#include "testnode.h"
#include "wire.h"

#define E_HUB 1700000000u
#define E_SPOKE 1700000100u
#define HUB_ADDR "172.31.2.1:51820"
#define A_ADDR "172.31.2.2:40000"
#define A_OVL 0x0a000002u   /* 10.0.0.2 */
#define HUB_OVL 0x0a000001u /* 10.0.0.1: LOCAL on the hub */

struct fx {
	struct tn *hub, *a;
};

static void settle(struct fx *f)
{
	for (int i = 0; i < 8 && (f->hub->n_sent || f->a->n_sent); i++) {
		tn_pass(f->a, f->hub);
		tn_pass(f->hub, f->a);
	}
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->hub = tn_new("hub", E_HUB, HUB_ADDR);
	f->a = tn_new("spoke-a", E_SPOKE, A_ADDR);
	assert_int_equal(sn_pool_add_big(&f->a->n->pool, 2, false), 0);
	sn_verify_tick(f->a->n, 0);
	settle(f);
	assert_int_equal(tn_peer(f->hub, 2)->s.state, SN_PEER_VERIFIED);
	assert_int_equal(tn_peer(f->a, 1)->s.state, SN_PEER_VERIFIED);
	tn_clear(f->hub);
	tn_clear(f->a);
	*state = f;
	return 0;
}

/* Nothing leaked, big packets included (tn_free checks the others). */
static int teardown(void **state)
{
	struct fx *f = *state;

	assert_int_equal(f->a->n->pool.n_big_free, f->a->n->pool.big_count);
	tn_free(f->hub);
	tn_free(f->a);
	free(f);
	return 0;
}

/* A packet of t's pool (big when big) holding what s builds. */
static struct sn_pkt *packet(struct tn *t, const struct ipref_spec *s, bool big)
{
	struct sn_pkt *p = big ? sn_pool_get_big(&t->n->pool) : sn_pool_get(&t->n->pool);

	assert_non_null(p);
	p->len = ipref_build(sn_pkt_data(p), sn_pkt_room(p), s);
	assert_true(p->len > 0);
	return p;
}

/* Leave p's L4 checksum (at offset off of the L4 header) partial, as a
 * kernel with checksum offload hands it over: the pseudo-header's sum. */
static void partial(struct sn_pkt *p, uint16_t off)
{
	uint8_t *d = sn_pkt_data(p);
	uint32_t ps = ipref_pseudo(d, p->len - 20);

	while (ps >> 16)
		ps = (ps & 0xffff) + (ps >> 16);
	d[20 + off] = (uint8_t)(ps >> 8);
	d[21 + off] = (uint8_t)ps;
	p->flags |= SN_PKT_F_CSUM;
	p->csum_start = 20;
	p->csum_offset = off;
}

/* The TCP super-packet a kernel with TSO would hand over. */
static struct sn_pkt *super_packet(struct tn *t, uint32_t payload, uint16_t mss)
{
	struct ipref_spec s = { .src = A_OVL, .dst = HUB_OVL, .payload = payload, .seq = 1,
				.tcp_flags = 0x18, .tcp_opt_words = 3, .id = 100 };
	struct sn_pkt *p = packet(t, &s, true);

	partial(p, 16);
	p->flags |= SN_PKT_F_GSO;
	p->gso_size = mss;
	return p;
}

/* Spoke A reads a 20000-byte super-packet: cut into 16 segments of 1300
 * payload bytes, each sealed, marked as one run for a GSO egress; the hub
 * opens them all and, with coalescing writes, hands its TUN one run whose
 * segments are exactly the kernel's segmentation of the super-packet. */
static void test_datapath_super_packet_cut_sealed_coalesced(void **state)
{
	struct fx *f = *state;
	struct sn_pkt *p = super_packet(f->a, 20000, 1300);
	static uint8_t whole[70000], run[70000], seg[2000], seg2[2000];
	uint32_t len = 0;
	uint64_t tx0;
	struct sn_gso g, g2;

	memcpy(whole, sn_pkt_data(p), p->len);
	assert_int_equal(sn_gso_init(&g, whole, p->len, 1300), 0);
	f->a->n->eg_gso = true;
	f->hub->n->tun_offload = SN_TUN_OFFLOAD_TX;
	tx0 = tn_ctr(f->a, 1, SN_CTR_TX_PACKETS);
	sn_dp_tun_rx(f->a->n, &p, 1);
	assert_int_equal(tn_ctr(f->a, 0, SN_CTR_TUN_RX_GSO), 1);
	assert_int_equal(tn_ctr(f->a, 0, SN_CTR_TUN_RX), 16);
	assert_int_equal(tn_ctr(f->a, 1, SN_CTR_TX_PACKETS), tx0 + 16);
	assert_int_equal(f->a->n_sent, 16);
	assert_true(f->a->sent[0]->flags & SN_PKT_F_RUN);
	assert_int_equal(f->a->sent[0]->gso_segs, 16);
	assert_int_equal(f->a->sent[0]->gso_size, f->a->sent[0]->len);
	assert_int_equal(f->a->n->pool.n_big_free, 2); /* the big packet is back */
	tn_pass(f->a, f->hub);
	assert_int_equal(tn_ctr(f->hub, 2, SN_CTR_RX_PACKETS), 16);
	assert_int_equal(f->hub->n_tun, 16);
	assert_int_equal(tn_ctr(f->hub, 0, SN_CTR_TUN_TX), 16);
	assert_int_equal(tn_ctr(f->hub, 0, SN_CTR_TUN_TX_GSO), 1);
	assert_true(f->hub->tun[0]->flags & SN_PKT_F_RUN);
	assert_int_equal(f->hub->tun[0]->gso_segs, 16);
	for (uint32_t i = 0; i < 16; i++) {
		const struct sn_pkt *q = f->hub->tun[i];

		memcpy(run + len, sn_pkt_data(q), q->len);
		len += q->len;
	}
	assert_int_equal(len, 20000 + 52); /* one set of headers for the run */
	/* what the hub's kernel will cut the run into is what A's kernel
	 * meant: the segmentation of the super-packet, well formed */
	assert_int_equal(sn_gso_init(&g2, run, len, f->hub->tun[0]->gso_size), 0);
	assert_int_equal(g2.segs, g.segs);
	for (uint32_t i = 0; i < g.segs; i++) {
		sn_gso_seg(&g, i, seg);
		sn_gso_seg(&g2, i, seg2);
		assert_true(ipref_valid(seg, sn_gso_seg_len(&g, i)));
		assert_memory_equal(seg, seg2, sn_gso_seg_len(&g, i));
	}
	assert_int_equal(tn_ctr(f->hub, 0, SN_CTR_DROP_TOO_BIG), 0);
}

/* A super-packet whose segments would exceed the MTU: each such one
 * counted too_big, the short last one sent. One that is not TCP or UDP
 * over IPv4: no_route. */
static void test_datapath_super_packet_refused(void **state)
{
	struct fx *f = *state;
	struct sn_pkt *p = super_packet(f->a, 5000, 1400);

	sn_dp_tun_rx(f->a->n, &p, 1);
	assert_int_equal(f->a->n_sent, 1);
	assert_int_equal(tn_ctr(f->a, 0, SN_CTR_DROP_TOO_BIG), 3); /* 1452-byte segments, MTU 1420 */
	assert_int_equal(tn_ctr(f->a, 0, SN_CTR_TUN_RX), 4);
	p = super_packet(f->a, 5000, 1300);
	sn_pkt_data(p)[9] = 1; /* ICMP */
	sn_dp_tun_rx(f->a->n, &p, 1);
	assert_int_equal(tn_ctr(f->a, 0, SN_CTR_DROP_NO_ROUTE), 1);
	assert_int_equal(f->a->n->pool.n_big_free, 2);
}

/* A partial checksum from the TUN is completed before sealing: the hub
 * gets a packet the kernel will take. */
static void test_datapath_partial_checksum_completed(void **state)
{
	struct fx *f = *state;
	struct ipref_spec s = { .proto = IPREF_UDP, .src = A_OVL, .dst = HUB_OVL, .payload = 77 };
	struct sn_pkt *p = packet(f->a, &s, false);

	partial(p, 6);
	assert_false(ipref_valid(sn_pkt_data(p), p->len));
	sn_dp_tun_rx(f->a->n, &p, 1);
	tn_pass(f->a, f->hub);
	assert_int_equal(f->hub->n_tun, 1);
	assert_false(f->hub->tun[0]->flags & SN_PKT_F_CSUM);
	assert_true(ipref_valid(sn_pkt_data(f->hub->tun[0]), f->hub->tun[0]->len));
}

/* A backend that takes fewer than it was handed: the rest is counted
 * dropped (tx_error, tun_error), and tun_tx counts what it took. */
static void test_datapath_untaken_counted(void **state)
{
	struct fx *f = *state;
	struct ipref_spec s = { .proto = IPREF_UDP, .src = A_OVL, .dst = HUB_OVL, .payload = 10 };
	struct sn_pkt *v[3];

	for (int i = 0; i < 3; i++)
		v[i] = packet(f->a, &s, false);
	f->a->take = 1;
	sn_dp_tun_rx(f->a->n, v, 3);
	assert_int_equal(f->a->n_sent, 1);
	assert_int_equal(tn_ctr(f->a, 1, SN_CTR_DROP_TX_ERROR), 2);
	for (int i = 0; i < 3; i++)
		v[i] = packet(f->a, &s, false);
	f->a->take = 0;
	sn_dp_tun_rx(f->a->n, v, 3);
	f->hub->take = 2;
	tn_pass(f->a, f->hub);
	assert_int_equal(f->hub->n_tun, 2);
	assert_int_equal(tn_ctr(f->hub, 0, SN_CTR_TUN_TX), 2);
	assert_int_equal(tn_ctr(f->hub, 2, SN_CTR_DROP_TUN_ERROR), 2);
}

/* Datagrams that waited 5 ms, for longer than an interval of 1 ms: CoDel
 * marks the ECN-capable ones CE and drops the others (`aqm`); with aqm off
 * nothing happens to them. */
static uint32_t aqm_round(struct fx *f, uint64_t ms, uint64_t *marked_ce)
{
	struct ipref_spec s = { .proto = IPREF_UDP, .src = A_OVL, .dst = HUB_OVL, .payload = 40 };
	static uint64_t seq = 100;
	uint64_t start = uv_hrtime();
	uint8_t buf[100];
	uint32_t sent = 0;

	while (uv_hrtime() - start < ms * 1000000) {
		struct sn_pkt *v[SN_BATCH];

		for (int i = 0; i < SN_BATCH; i++, sent++) {
			s.tos = (sent * 2654435761u) >> 31 ? 0x02 : 0x00; /* ECT(0) for about half */
			s.id = (uint16_t)sent;
			v[i] = tn_craft(f->a, f->hub, 0, buf, ipref_build(buf, sizeof(buf), &s), seq++, -1);
			v[i]->time_ns = uv_hrtime() - 5000000;
		}
		sn_dp_underlay_rx(f->hub->n, v, SN_BATCH);
		for (uint32_t j = 0; j < f->hub->n_tun; j++)
			*marked_ce += (sn_pkt_data(f->hub->tun[j])[1] & 3) == 3;
		tn_clear(f->hub);
	}
	return sent;
}

static void test_datapath_aqm_marks_and_drops(void **state)
{
	struct fx *f = *state;
	uint64_t ce = 0;
	uint32_t sent;

	f->hub->n->cfg->aqm_target_us = 100;
	f->hub->n->cfg->aqm_interval_us = 1000;
	sent = aqm_round(f, 20, &ce);
	print_message("%u sent: %llu marked, %llu dropped\n", sent,
		      (unsigned long long)tn_ctr(f->hub, 2, SN_CTR_AQM_MARK),
		      (unsigned long long)tn_ctr(f->hub, 2, SN_CTR_DROP_AQM));
	assert_true(tn_ctr(f->hub, 2, SN_CTR_AQM_MARK) > 0);
	assert_true(tn_ctr(f->hub, 2, SN_CTR_DROP_AQM) > 0);
	assert_int_equal(ce, tn_ctr(f->hub, 2, SN_CTR_AQM_MARK));
	assert_int_equal(tn_ctr(f->hub, 0, SN_CTR_DROP_AQM), tn_ctr(f->hub, 2, SN_CTR_DROP_AQM));
	/* the rest arrived */
	assert_int_equal(tn_ctr(f->hub, 0, SN_CTR_TUN_TX) + tn_ctr(f->hub, 2, SN_CTR_DROP_AQM), sent);
}

static void test_datapath_aqm_off_leaves_packets(void **state)
{
	struct fx *f = *state;
	uint64_t ce = 0;

	f->hub->n->cfg->aqm_on = false;
	f->hub->n->cfg->aqm_target_us = 100;
	f->hub->n->cfg->aqm_interval_us = 1000;
	aqm_round(f, 10, &ce);
	assert_int_equal(ce, 0);
	assert_int_equal(tn_ctr(f->hub, 2, SN_CTR_AQM_MARK), 0);
	assert_int_equal(tn_ctr(f->hub, 2, SN_CTR_DROP_AQM), 0);
}

/* host_api.deliver through the node's handle goes the receive path's way:
 * every check applies (a replay, a forgery dropped and counted); during a
 * call into the egress the datagrams wait until it returns. */
static void test_datapath_deliver(void **state)
{
	struct fx *f = *state;
	struct ipref_spec s = { .proto = IPREF_UDP, .src = A_OVL, .dst = HUB_OVL, .payload = 40 };
	const struct sn_host_api *api = sn_host_api_table();
	struct sn_host *h = &f->hub->n->host;
	struct sn_pkt *v[3];
	uint8_t buf[100];
	uint32_t len = ipref_build(buf, sizeof(buf), &s);

	h->deliver = sn_dp_deliver;
	h->deliver_ctx = f->hub->n;
	v[0] = tn_craft(f->a, f->hub, 0, buf, len, 500, -1);
	v[1] = tn_craft(f->a, f->hub, 0, buf, len, 500, -1);   /* the same seq: a replay */
	v[2] = tn_craft(f->a, f->hub, 0, buf, len, 501, 30);   /* a forgery */
	assert_int_equal(api->deliver(h, v, 3), 3);
	assert_int_equal(f->hub->n_tun, 1);
	assert_int_equal(tn_ctr(f->hub, 2, SN_CTR_DROP_REPLAY), 1);
	assert_int_equal(tn_ctr(f->hub, 2, SN_CTR_DROP_AUTH_FAIL), 1);

	f->hub->n->eg_depth = 1;
	v[0] = tn_craft(f->a, f->hub, 0, buf, len, 502, -1);
	assert_int_equal(api->deliver(h, v, 1), 1);
	assert_int_equal(f->hub->n_tun, 1);
	sn_dp_rx_later(f->hub->n);
	assert_int_equal(f->hub->n_tun, 1); /* still inside the call */
	f->hub->n->eg_depth = 0;
	sn_dp_rx_later(f->hub->n);
	assert_int_equal(f->hub->n_tun, 2);
	assert_int_equal(api->deliver(h, v, 0), 0);
	h->deliver = NULL;
	assert_int_equal(api->deliver(h, v, 1), -ENOTSUP);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_datapath_super_packet_cut_sealed_coalesced),
		T(test_datapath_super_packet_refused),
		T(test_datapath_partial_checksum_completed),
		T(test_datapath_untaken_counted),
		T(test_datapath_aqm_marks_and_drops),
		T(test_datapath_aqm_off_leaves_packets),
		T(test_datapath_deliver),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
