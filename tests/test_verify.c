/* SPDX-License-Identifier: MIT */
/*
 * tests/test_verify.c: verifying a peer after a start (core/verify.c,
 * docs/protocol.md "Verifying a peer").
 *
 * A hub and spoke A are built from conf/ with their real keys (tests/
 * support/testnode.c); the test carries datagrams between them by hand.
 * First the state machine, table-driven: every kind of datagram from spoke
 * A (authentic and forged data, keepalive, challenge, matching and
 * mismatching response) against every state the hub can hold for it
 * (unverified, verified, waiting for an epoch move), with the counter it
 * must move, the state it must leave, and what the hub must send. Then the
 * exchanges: a one-sided restart of either node, both at once, a rolled-back
 * epoch, the freshness floor against recorded datagrams, rate limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testnode.h"
#include "wire.h"

#define E_HUB 1700000000u
#define E_SPOKE 1700000100u
#define HUB_ADDR "172.31.2.1:51820"
#define A_ADDR "172.31.2.2:40000"

struct fx {
	struct tn *hub, *a;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->hub = tn_new("hub", E_HUB, HUB_ADDR);
	f->a = tn_new("spoke-a", E_SPOKE, A_ADDR);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	tn_free(f->hub);
	tn_free(f->a);
	free(f);
	return 0;
}

/* Run the exchange both ways until nothing more is sent (bounded). */
static void settle(struct fx *f)
{
	for (int i = 0; i < 8 && (f->hub->n_sent || f->a->n_sent); i++) {
		tn_pass(f->a, f->hub);
		tn_pass(f->hub, f->a);
	}
	assert_int_equal(f->hub->n_sent + f->a->n_sent, 0);
}

/* Both fresh: spoke A's round challenges the hub (its configured endpoint),
 * the hub answers, A verifies it and speaks, the hub challenges A, A
 * answers: both verified, nobody moved epochs. */
static void verify_both(struct fx *f)
{
	sn_verify_tick(f->a->n, 0);
	settle(f);
	assert_int_equal(tn_peer(f->hub, 2)->s.state, SN_PEER_VERIFIED);
	assert_int_equal(tn_peer(f->a, 1)->s.state, SN_PEER_VERIFIED);
}

/* ---- the state machine --------------------------------------------------- */

enum kind { DATA, KEEPALIVE, CHALLENGE, RESP_MATCH, RESP_OTHER };

struct row {
	uint8_t state;    /* the hub's state for spoke A before */
	enum kind kind;
	int flip;         /* -1 authentic, else the byte flipped */
	uint32_t counter; /* the counter of peer 2 that moves by exactly 1 */
	uint8_t after;    /* the state after */
	uint8_t sends;    /* the flag of what the hub sends back (0xff: nothing) */
	uint32_t tun;     /* packets delivered to the hub's TUN */
};

#define NONE 0xff
static const struct row rows[] = {
	{ SN_PEER_UNVERIFIED, DATA, -1, SN_CTR_DROP_UNVERIFIED, SN_PEER_UNVERIFIED, SN_WIRE_F_CHALLENGE, 0 },
	{ SN_PEER_UNVERIFIED, KEEPALIVE, -1, SN_CTR_DROP_UNVERIFIED, SN_PEER_UNVERIFIED, SN_WIRE_F_CHALLENGE, 0 },
	{ SN_PEER_UNVERIFIED, CHALLENGE, -1, SN_CTR_CHALLENGE_RX, SN_PEER_UNVERIFIED, SN_WIRE_F_RESPONSE, 0 },
	{ SN_PEER_UNVERIFIED, RESP_MATCH, -1, SN_CTR_RESPONSE_RX, SN_PEER_VERIFIED, SN_WIRE_F_KEEPALIVE, 0 },
	{ SN_PEER_UNVERIFIED, RESP_OTHER, -1, SN_CTR_DROP_BAD_RESPONSE, SN_PEER_UNVERIFIED, NONE, 0 },
	{ SN_PEER_UNVERIFIED, DATA, 30, SN_CTR_DROP_UNVERIFIED, SN_PEER_UNVERIFIED, NONE, 0 },
	{ SN_PEER_UNVERIFIED, KEEPALIVE, 35, SN_CTR_DROP_UNVERIFIED, SN_PEER_UNVERIFIED, NONE, 0 },
	{ SN_PEER_UNVERIFIED, CHALLENGE, 25, SN_CTR_DROP_AUTH_FAIL, SN_PEER_UNVERIFIED, NONE, 0 },
	{ SN_PEER_UNVERIFIED, RESP_MATCH, 50, SN_CTR_DROP_AUTH_FAIL, SN_PEER_UNVERIFIED, NONE, 0 },
	{ SN_PEER_UNVERIFIED, RESP_MATCH, 19, SN_CTR_DROP_AUTH_FAIL, SN_PEER_UNVERIFIED, NONE, 0 },
	{ SN_PEER_VERIFIED, DATA, -1, SN_CTR_RX_PACKETS, SN_PEER_VERIFIED, NONE, 1 },
	{ SN_PEER_VERIFIED, KEEPALIVE, -1, SN_CTR_KEEPALIVE_RX, SN_PEER_VERIFIED, NONE, 0 },
	{ SN_PEER_VERIFIED, CHALLENGE, -1, SN_CTR_CHALLENGE_RX, SN_PEER_VERIFIED, SN_WIRE_F_RESPONSE, 0 },
	{ SN_PEER_VERIFIED, RESP_MATCH, -1, SN_CTR_DROP_BAD_RESPONSE, SN_PEER_VERIFIED, NONE, 0 },
	{ SN_PEER_VERIFIED, RESP_OTHER, -1, SN_CTR_DROP_BAD_RESPONSE, SN_PEER_VERIFIED, NONE, 0 },
	{ SN_PEER_VERIFIED, DATA, 30, SN_CTR_DROP_AUTH_FAIL, SN_PEER_VERIFIED, NONE, 0 },
	{ SN_PEER_VERIFIED, CHALLENGE, 25, SN_CTR_DROP_AUTH_FAIL, SN_PEER_VERIFIED, NONE, 0 },
	{ SN_PEER_VERIFIED, RESP_MATCH, 50, SN_CTR_DROP_AUTH_FAIL, SN_PEER_VERIFIED, NONE, 0 },
	{ SN_PEER_EPOCH_WAIT, DATA, -1, SN_CTR_RX_PACKETS, SN_PEER_EPOCH_WAIT, NONE, 1 },
	{ SN_PEER_EPOCH_WAIT, KEEPALIVE, -1, SN_CTR_KEEPALIVE_RX, SN_PEER_EPOCH_WAIT, NONE, 0 },
	{ SN_PEER_EPOCH_WAIT, CHALLENGE, -1, SN_CTR_CHALLENGE_RX, SN_PEER_EPOCH_WAIT, SN_WIRE_F_RESPONSE, 0 },
	{ SN_PEER_EPOCH_WAIT, RESP_MATCH, -1, SN_CTR_DROP_BAD_RESPONSE, SN_PEER_EPOCH_WAIT, NONE, 0 },
	{ SN_PEER_EPOCH_WAIT, DATA, 30, SN_CTR_DROP_AUTH_FAIL, SN_PEER_EPOCH_WAIT, NONE, 0 },
};

/* Put the hub's view of spoke A into state st. */
static void set_state(struct fx *f, uint8_t st)
{
	struct sn_peer *p = tn_peer(f->hub, 2);

	if (st != SN_PEER_UNVERIFIED) {
		verify_both(f);
		p->s.state = st;
	}
	tn_later(f->hub);
}

/* The datagram of a row, sealed by spoke A. A response carries the hub's
 * challenge (RESP_MATCH) or other bytes; its next seq is spoke A's. */
static struct sn_pkt *make(struct fx *f, enum kind k, int flip)
{
	struct sn_peer *h = tn_peer(f->a, 1);
	uint8_t b[64] = { 0 };
	uint64_t rnd = SN_WIRE_SEQ_RANDOM | 0x123456789ull;
	uint32_t len;

	switch (k) {
	case DATA:
		len = tn_ipv4(b, "10.0.0.2", "10.0.0.1");
		return tn_craft(f->a, f->hub, 0, b, len, h->s.tx_seq++, flip);
	case KEEPALIVE:
		return tn_craft(f->a, f->hub, SN_WIRE_F_KEEPALIVE, b, 0, h->s.tx_seq++, flip);
	case CHALLENGE:
		memset(b, 0xc5, 16);
		return tn_craft(f->a, f->hub, SN_WIRE_F_CHALLENGE, b, 16, rnd, flip);
	default:
		if (k == RESP_MATCH)
			memcpy(b, tn_peer(f->hub, 2)->s.challenge, 16);
		else
			memset(b, 0x77, 16);
		sn__store_be32(b + 16, 0);
		sn__store_be64(b + 20, h->s.tx_seq);
		return tn_craft(f->a, f->hub, SN_WIRE_F_RESPONSE, b, 28, rnd, flip);
	}
}

static void test_verify_state_machine(void **state)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct fx *f;
		struct sn_peer *p;
		uint64_t before;

		setup((void **)&f);
		set_state(f, r->state);
		p = tn_peer(f->hub, 2);
		before = p->counters[r->counter];
		tn_rx(f->hub, make(f, r->kind, r->flip));
		if (p->counters[r->counter] != before + 1)
			fail_msg("row %zu: %s did not move by 1", i, sn_counter_name(r->counter));
		if (p->s.state != r->after)
			fail_msg("row %zu: state %u, want %u", i, p->s.state, r->after);
		if (f->hub->n_tun != r->tun)
			fail_msg("row %zu: %u packets delivered, want %u", i, f->hub->n_tun, r->tun);
		if (r->sends == NONE ? f->hub->n_sent != 0 :
		    f->hub->n_sent != 1 || tn_hdr(f->hub->sent[0]).flags != r->sends)
			fail_msg("row %zu: the hub sent %u datagram(s) (flags %02x), want %s", i,
				 f->hub->n_sent, f->hub->n_sent ? tn_hdr(f->hub->sent[0]).flags : 0,
				 r->sends == NONE ? "none" : "one");
		if (r->sends == SN_WIRE_F_KEEPALIVE) /* one to the peer just verified */
			assert_int_equal(tn_hdr(f->hub->sent[0]).seq, p->s.tx_seq - 1);
		if (r->sends == SN_WIRE_F_CHALLENGE || r->sends == SN_WIRE_F_RESPONSE) {
			struct sn_wire_hdr h = tn_hdr(f->hub->sent[0]);

			assert_true(h.seq >= SN_WIRE_SEQ_RANDOM);
			assert_int_equal(h.epoch, E_HUB);
			assert_memory_equal(&f->hub->sent[0]->addr, &f->a->addr, sizeof(struct sn_addr));
		}
		teardown((void **)&f);
	}
}

/* A challenge changes nothing of the one who answers it, and every
 * challenge to an unverified peer carries the same bytes. */
static void test_verify_challenge_changes_nothing(void **state)
{
	struct fx *f = *state;
	struct sn_peer *p = tn_peer(f->hub, 2);
	struct sn_session before = p->s;

	tn_rx(f->hub, make(f, CHALLENGE, -1));
	assert_memory_equal(&p->s, &before, offsetof(struct sn_session, answered_epoch));
	assert_memory_equal(&p->s.endpoint, &before.endpoint, sizeof(before.endpoint));
	tn_clear(f->hub);
	/* two challenges from the hub to spoke A, 100 ms apart: same bytes */
	tn_rx(f->hub, make(f, DATA, -1));
	assert_int_equal(f->hub->n_sent, 1);
	tn_clear(f->hub);
	tn_later(f->hub);
	tn_rx(f->hub, make(f, DATA, -1));
	assert_int_equal(f->hub->n_sent, 1);
	assert_memory_equal(p->s.challenge, before.challenge, 16);
	tn_clear(f->hub);
}

/* ---- exchanges ------------------------------------------------------------ */

/* Both start at once: verified after the exchange, no epoch move on
 * either side (our answer explains the report of our own epoch). */
static void test_verify_simultaneous_start(void **state)
{
	struct fx *f = *state;

	verify_both(f);
	assert_int_equal(f->hub->n->emove.target, 0);
	assert_int_equal(f->a->n->emove.target, 0);
	assert_int_equal(tn_peer(f->hub, 2)->s.rx_epoch, E_SPOKE);
	assert_int_equal(tn_peer(f->a, 1)->s.rx_epoch, E_HUB);
	/* the spoke's first data is accepted and delivered */
	tn_rx(f->hub, make(f, DATA, -1));
	assert_int_equal(f->hub->n_tun, 1);
}

/* Spoke A's datagrams recorded, then the hub restarts (same ids, new
 * epoch): replays are unverified until A answers, then below the floor
 * (replay); A's endpoint never moves to the replayer; traffic resumes. */
static void test_verify_hub_restart_and_replays(void **state)
{
	struct fx *f = *state;
	struct sn_pkt *rec[4];
	struct sn_addr evil = f->a->addr;
	struct sn_peer *p;
	uint8_t b[64];
	uint32_t len = tn_ipv4(b, "10.0.0.2", "10.0.0.1");

	verify_both(f);
	tn_free(f->hub);
	f->hub = tn_new("hub", E_HUB + 50, HUB_ADDR);
	tn_later(f->a); /* a restart takes longer than the rate limit's 100 ms */
	p = tn_peer(f->hub, 2);
	evil.ip[3] = 99;
	for (int i = 0; i < 4; i++) { /* recorded now, replayed after the restart */
		rec[i] = tn_craft(f->a, f->hub, 0, b, len, tn_peer(f->a, 1)->s.tx_seq++, -1);
		rec[i]->addr = evil;
	}
	tn_rx(f->hub, rec[0]); /* earns a challenge to the replayer's address */
	assert_int_equal(tn_ctr(f->hub, 2, SN_CTR_DROP_UNVERIFIED), 1);
	assert_int_equal(f->hub->n_sent, 1);
	assert_memory_equal(&f->hub->sent[0]->addr, &evil, sizeof(evil));
	tn_clear(f->hub); /* the replayer cannot answer it */
	tn_rx(f->hub, rec[1]);
	assert_int_equal(f->hub->n_sent, 0); /* rate limit per (peer, address) */
	/* the real spoke speaks (a keepalive): challenged at its own address */
	tn_rx(f->hub, make(f, KEEPALIVE, -1));
	assert_int_equal(f->hub->n_sent, 1);
	settle(f);
	assert_int_equal(p->s.state, SN_PEER_VERIFIED);
	assert_memory_equal(&p->s.endpoint, &f->a->addr, sizeof(f->a->addr));
	tn_rx(f->hub, rec[2]);
	tn_rx(f->hub, rec[3]);
	assert_int_equal(tn_ctr(f->hub, 2, SN_CTR_DROP_REPLAY), 2);
	assert_int_equal(f->hub->n_tun, 0);
	assert_memory_equal(&p->s.endpoint, &f->a->addr, sizeof(f->a->addr));
	tn_rx(f->hub, make(f, DATA, -1));
	assert_int_equal(f->hub->n_tun, 1);
	assert_int_equal(f->hub->n->emove.target, 0);
}

/* Spoke A restarts: the hub's datagram recorded earlier and replayed from
 * elsewhere moves nothing; A challenges the hub at its configured endpoint
 * and is verified in one round trip; the hub (which did not restart) takes
 * A's new epoch as soon as it authenticates. */
static void test_verify_spoke_restart(void **state)
{
	struct fx *f = *state;
	struct sn_pkt *old;
	struct sn_peer *h;
	uint8_t b[64];
	uint32_t len = tn_ipv4(b, "10.0.0.1", "10.0.0.2");

	verify_both(f);
	tn_free(f->a);
	f->a = tn_new("spoke-a", E_SPOKE + 10, A_ADDR);
	h = tn_peer(f->a, 1);
	/* a datagram of the hub's current session, recorded earlier, replayed
	 * from another address */
	old = tn_craft(f->hub, f->a, 0, b, len, tn_peer(f->hub, 2)->s.tx_seq++, -1);
	old->addr.ip[3] = 77;
	tn_rx(f->a, old);
	assert_int_equal(tn_ctr(f->a, 1, SN_CTR_DROP_UNVERIFIED), 1);
	assert_int_equal(f->a->n_tun, 0);
	assert_int_equal(h->s.endpoint.ip[3], 1); /* still the configured 172.31.2.1 */
	tn_clear(f->a);
	tn_later(f->hub); /* a restart takes longer than the rate limit's 100 ms */
	sn_verify_tick(f->a->n, 0);
	settle(f);
	assert_int_equal(h->s.state, SN_PEER_VERIFIED);
	assert_int_equal(tn_peer(f->hub, 2)->s.rx_epoch, E_SPOKE + 10);
	assert_int_equal(tn_peer(f->hub, 2)->s.epochs_accepted, 2);
	assert_int_equal(f->a->n->emove.target, 0);
}

/* Spoke A restarts in the epoch it used before (its state directory was
 * rolled back): the hub reports having accepted it, A moves past it before
 * it sends anything sequenced, and no seq is reused in the old epoch. */
static void test_verify_rolled_back_epoch(void **state)
{
	struct fx *f = *state;
	struct sn_peer *h, *hp = tn_peer(f->hub, 2);
	struct sn_pkt *t;

	verify_both(f);
	tn_rx(f->hub, make(f, DATA, -1));
	tn_free(f->a);
	f->a = tn_new("spoke-a", E_SPOKE, A_ADDR);
	h = tn_peer(f->a, 1);
	tn_later(f->hub);
	sn_verify_tick(f->a->n, 0);
	settle(f);
	assert_int_equal(h->s.state, SN_PEER_EPOCH_WAIT);
	assert_int_equal(f->a->n->emove.target, E_SPOKE + 1);
	/* nothing sequenced goes out while it waits */
	t = sn_pool_get(&f->a->n->pool);
	t->len = tn_ipv4(sn_pkt_data(t), "10.0.0.2", "10.0.0.1");
	sn_dp_tun_rx(f->a->n, &t, 1);
	assert_int_equal(f->a->n_sent, 0);
	assert_int_equal(tn_ctr(f->a, 0, SN_CTR_DROP_UNVERIFIED), 1);
	sn_verify_epoch_moved(f->a->n, E_SPOKE + 1); /* the state directory persisted it */
	assert_int_equal(h->s.state, SN_PEER_VERIFIED);
	assert_int_equal(h->s.tx_epoch, E_SPOKE + 1);
	assert_int_equal(f->a->n_sent, 1); /* its keepalive, seq 0 of the new epoch */
	assert_int_equal(tn_hdr(f->a->sent[0]).epoch, E_SPOKE + 1);
	assert_int_equal(tn_hdr(f->a->sent[0]).seq, 0);
	settle(f);
	assert_int_equal(hp->s.rx_epoch, E_SPOKE + 1);
}

/* A second, unrelated response after verification, and a response whose
 * bytes are another challenge's: bad_response, nothing moves. */
static void test_verify_stale_and_foreign_responses(void **state)
{
	struct fx *f = *state;
	struct sn_peer *p = tn_peer(f->hub, 2);
	struct sn_session s;

	tn_rx(f->hub, make(f, RESP_OTHER, -1));
	assert_int_equal(tn_ctr(f->hub, 2, SN_CTR_DROP_BAD_RESPONSE), 1);
	assert_int_equal(p->s.state, SN_PEER_UNVERIFIED);
	verify_both(f);
	s = p->s;
	tn_rx(f->hub, make(f, RESP_MATCH, -1)); /* the challenge is forgotten: no match */
	assert_int_equal(tn_ctr(f->hub, 2, SN_CTR_DROP_BAD_RESPONSE), 2);
	assert_memory_equal(&p->s, &s, sizeof(s));
}

/* The round challenges only unverified peers with an address: the spoke
 * its configured hub; the hub nobody until a datagram earned one, then
 * that source, once per 100 ms. */
static void test_verify_tick_targets(void **state)
{
	struct fx *f = *state;

	assert_true(sn_verify_tick(f->hub->n, 0));
	assert_int_equal(f->hub->n_sent, 0);
	assert_true(sn_verify_tick(f->a->n, 0));
	assert_int_equal(f->a->n_sent, 1);
	assert_int_equal(tn_hdr(f->a->sent[0]).flags, SN_WIRE_F_CHALLENGE);
	assert_int_equal(f->a->sent[0]->addr.ip[3], 1);
	tn_clear(f->a);
	assert_true(sn_verify_tick(f->a->n, 50000000ull)); /* 50 ms later: limited */
	assert_int_equal(f->a->n_sent, 0);
	assert_true(sn_verify_tick(f->a->n, 150000000ull));
	assert_int_equal(f->a->n_sent, 1);
	tn_clear(f->a);
	verify_both(f);
	assert_false(sn_verify_tick(f->a->n, 0));
	/* the hub still waits for spoke B, which has sent nothing: no address */
	assert_true(sn_verify_tick(f->hub->n, 0));
	assert_int_equal(f->hub->n_sent, 0);
}

/* A sender about to reach 2^63 moves to a new epoch first. */
static void test_verify_seq_exhausted_moves_epoch(void **state)
{
	struct fx *f = *state;
	struct sn_peer *p;
	struct sn_pkt *t;

	verify_both(f);
	p = tn_peer(f->hub, 2);
	p->s.tx_seq = SN_WIRE_SEQ_RANDOM;
	t = sn_pool_get(&f->hub->n->pool);
	t->len = tn_ipv4(sn_pkt_data(t), "10.0.0.1", "10.0.0.2");
	sn_dp_tun_rx(f->hub->n, &t, 1);
	assert_int_equal(f->hub->n_sent, 0);
	assert_int_equal(p->s.state, SN_PEER_EPOCH_WAIT);
	assert_int_equal(f->hub->n->emove.target, E_HUB + 1);
	sn_verify_epoch_moved(f->hub->n, E_HUB + 1);
	assert_int_equal(p->s.state, SN_PEER_VERIFIED);
	/* the new epoch starts at seq 0: its first datagram is the keepalive
	 * that tells the spoke it may speak */
	assert_int_equal(f->hub->n_sent, 1);
	assert_int_equal(tn_hdr(f->hub->sent[0]).epoch, E_HUB + 1);
	assert_int_equal(tn_hdr(f->hub->sent[0]).seq, 0);
	assert_int_equal(p->s.tx_seq, 1);
}

/* Spoke A's key for epoch e, as its restart would derive it. */
static void spoke_epoch(struct fx *f, uint32_t e)
{
	struct sn_peer *h = tn_peer(f->a, 1);

	h->s.tx_epoch = e;
	h->s.tx_seq = 0;
	f->a->n->cr.ops->dir_key(f->a->n->cr.inst, h->tx_key, h->pair_key, 2, 1, e);
}

/* A forged keepalive of spoke A claiming epoch e (sealed in A's real
 * epoch: the tag fails under any key of e). */
static struct sn_pkt *forged_in(struct fx *f, uint32_t e)
{
	struct sn_peer *h = tn_peer(f->a, 1);
	uint32_t real = h->s.tx_epoch;
	uint8_t none[1] = { 0 };
	struct sn_pkt *p;

	h->s.tx_epoch = e;
	p = tn_craft(f->a, f->hub, SN_WIRE_F_KEEPALIVE, none, 0, 5, -1);
	h->s.tx_epoch = real;
	return p;
}

/* New epochs of a verified peer cost one key derivation per 100 ms at
 * most: forgeries in ever new epochs are dropped as epoch_limit without
 * a tag check in between; the candidate tried stays usable; a real new
 * epoch of the peer gets in once the limit allows, and nothing of the
 * forgeries changed the session. */
static void test_verify_new_epochs_limited(void **state)
{
	struct fx *f = *state;
	struct sn_peer *p = tn_peer(f->hub, 2);
	struct sn_session s;
	uint64_t ka;

	verify_both(f);
	tn_later(f->hub);
	s = p->s;
	tn_rx(f->hub, forged_in(f, E_SPOKE + 1)); /* a candidate derived: its tag fails */
	assert_int_equal(tn_ctr(f->hub, 2, SN_CTR_DROP_AUTH_FAIL), 1);
	assert_int_equal(p->cand_epoch, E_SPOKE + 1);
	for (uint32_t i = 2; i < 1000; i++) /* 998 more new epochs at once */
		tn_rx(f->hub, forged_in(f, E_SPOKE + i));
	assert_int_equal(tn_ctr(f->hub, 2, SN_CTR_DROP_EPOCH_LIMIT), 998);
	assert_int_equal(tn_ctr(f->hub, 2, SN_CTR_DROP_AUTH_FAIL), 1);
	assert_int_equal(p->cand_epoch, E_SPOKE + 1); /* derived once */
	tn_rx(f->hub, forged_in(f, E_SPOKE + 1));     /* the cached candidate: a tag check */
	assert_int_equal(tn_ctr(f->hub, 2, SN_CTR_DROP_AUTH_FAIL), 2);
	assert_memory_equal(&p->s, &s, sizeof(s));
	/* spoke A restarts in a new epoch while the limit holds: its first
	 * keepalive waits; 100 ms later the next one is taken */
	spoke_epoch(f, E_SPOKE + 2000);
	tn_rx(f->hub, make(f, KEEPALIVE, -1));
	assert_int_equal(tn_ctr(f->hub, 2, SN_CTR_DROP_EPOCH_LIMIT), 999);
	assert_int_equal(p->s.rx_epoch, E_SPOKE);
	tn_later(f->hub);
	ka = tn_ctr(f->hub, 2, SN_CTR_KEEPALIVE_RX);
	tn_rx(f->hub, make(f, KEEPALIVE, -1));
	assert_int_equal(p->s.rx_epoch, E_SPOKE + 2000);
	assert_int_equal(tn_ctr(f->hub, 2, SN_CTR_KEEPALIVE_RX), ka + 1);
	assert_int_equal(tn_ctr(f->hub, 0, SN_CTR_DROP_EPOCH_LIMIT), 999);
}

/* A candidate that opens a challenge is an epoch the peer used: it does
 * not count against the limit, so the peer's next epoch (it moved right
 * after challenging, as a rolled-back node does) is taken at once. */
static void test_verify_challenge_refunds_the_limit(void **state)
{
	struct fx *f = *state;
	struct sn_peer *p = tn_peer(f->hub, 2);
	uint64_t ch;

	verify_both(f);
	tn_later(f->hub);
	ch = tn_ctr(f->hub, 2, SN_CTR_CHALLENGE_RX);
	spoke_epoch(f, E_SPOKE + 30);
	tn_rx(f->hub, make(f, CHALLENGE, -1));
	assert_int_equal(tn_ctr(f->hub, 2, SN_CTR_CHALLENGE_RX), ch + 1);
	tn_clear(f->hub);
	spoke_epoch(f, E_SPOKE + 31);
	tn_rx(f->hub, make(f, KEEPALIVE, -1));
	assert_int_equal(tn_ctr(f->hub, 2, SN_CTR_DROP_EPOCH_LIMIT), 0);
	assert_int_equal(p->s.rx_epoch, E_SPOKE + 31);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify_state_machine),
		T(test_verify_challenge_changes_nothing),
		T(test_verify_simultaneous_start),
		T(test_verify_hub_restart_and_replays),
		T(test_verify_spoke_restart),
		T(test_verify_rolled_back_epoch),
		T(test_verify_stale_and_foreign_responses),
		T(test_verify_tick_targets),
		T(test_verify_seq_exhausted_moves_epoch),
		T(test_verify_new_epochs_limited),
		T(test_verify_challenge_refunds_the_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
