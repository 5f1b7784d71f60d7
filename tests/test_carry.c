/* SPDX-License-Identifier: MIT */
/*
 * tests/test_carry.c: peer sessions across a reload (core/carry.c): the
 * steps sn_node_reload() takes between building the new registry and
 * switching to it, run on a hub built from conf/hub.yaml (tests/support/
 * testnode.c) with sessions set to known values. An unchanged peer keeps
 * its whole session, key contexts and counters; a peer that leaves is
 * saved and, if its identity comes back, continues exactly where it
 * stopped (next seq, window, verification, counters); a re-keyed peer starts
 * fresh and unverified; a changed static endpoint is taken; a session saved
 * before an epoch move continues in the new epoch from seq 0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "keys.h"
#include "testnode.h"

#define EPOCH 1700000000u

static char *hub_yaml(void)
{
	static char buf[8192];
	FILE *f = fopen(SN_TEST_SOURCE_DIR "/conf/hub.yaml", "rb");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* hub.yaml with the first occurrence of from replaced by to. */
static char *edit(const char *text, const char *from, const char *to)
{
	static char out[8192];
	const char *at = strstr(text, from);

	assert_non_null(at);
	snprintf(out, sizeof(out), "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	return out;
}

/* What the last reload_with() planned. */
static struct {
	uint32_t fresh, gone, restore, patch;
} last;

/* A new registry for the config text, the steps of a reload (the worker's
 * build and plan, the commit's apply), the switch, and what the retire
 * job frees. */
static void reload_with(struct tn *t, const char *text)
{
	struct sn_node *n = t->n;
	struct sn_config *c, *old = n->cfg;
	struct sn_peers np, oldp = n->peers;
	struct sn_carry plan;
	char err[1024] = "";

	if (sn_config_load_buffer(SN_TEST_SOURCE_DIR "/conf/hub.yaml", text, strlen(text), false, &c,
				  err, sizeof(err)) < 0)
		fail_msg("%s", err);
	memcpy(c->private_key, old->private_key, 32);
	if (sn_peers_build(&np, c, &n->cr, &n->peer_slab, n->epoch, &n->peers, err, sizeof(err)) < 0 ||
	    sn__carry_plan(n, old, c, &np, &plan, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	last.fresh = np.n_fresh;
	last.gone = plan.n_gone;
	last.restore = plan.n_restore;
	last.patch = plan.n_patch;
	sn__carry_apply(n, &plan, &np, n->epoch);
	n->peers = np;
	n->cfg = c;
	for (uint32_t i = 0; i < plan.n_gone; i++)
		sn_peer_free(plan.gone[i].p, &n->cr, &n->peer_slab);
	sn__carry_release(&plan);
	sn_peers_free_index(&oldp);
	sn_config_free(old);
}

/* A session as traffic leaves it: verified, an accepted epoch, a window
 * with seqs marked, an endpoint, counters. */
static void use(struct sn_peer *p, uint32_t rx_epoch, uint64_t seqs, uint8_t ip)
{
	struct sn_session *s = &p->s;

	s->state = SN_PEER_VERIFIED;
	s->verified_ns = 42;
	s->rx_has_epoch = true;
	s->rx_epoch = rx_epoch;
	s->epochs_accepted = 3;
	sn_replay_floor(&s->rx_window, seqs);
	sn_replay_update(&s->rx_window, seqs + 7);
	s->tx_seq = seqs * 2;
	s->last_rx_ns = 1000;
	s->last_tx_ns = 2000;
	s->endpoint = (struct sn_addr){ .family = SN_AF_INET, .port = 40000, .ip = { 198, 51, 100, ip } };
	p->counters[SN_CTR_RX_PACKETS] = seqs;
	p->counters[SN_CTR_DROP_REPLAY] = 5;
}

static int setup(void **state)
{
	*state = tn_new("hub", EPOCH, "172.31.2.1:51820");
	return 0;
}

static int teardown(void **state)
{
	tn_free(*state);
	return 0;
}

/* A reload that changes nothing about the peers: every session, key
 * context and counter is the same afterwards, byte for byte. */
static void test_carry_unchanged_peers_keep_everything(void **state)
{
	struct tn *t = *state;
	struct sn_peer *a = tn_peer(t, 2), *b = tn_peer(t, 3);
	struct sn_session sa, sb;
	uint8_t tx[512], rx[512];
	uint32_t ks = t->n->peers.key_ctx_size;

	use(a, 1700000100, 5000, 2);
	use(b, 1700000200, 70, 3);
	t->n->cr.ops->dir_key(t->n->cr.inst, a->rx_key, a->pair_key, 2, 1, 1700000100);
	sa = a->s;
	sb = b->s;
	memcpy(tx, a->tx_key, ks);
	memcpy(rx, a->rx_key, ks);
	reload_with(t, edit(hub_yaml(), "keepalive: 25", "keepalive: 30"));
	assert_ptr_equal(tn_peer(t, 2), a); /* the same objects: nothing copied */
	assert_ptr_equal(tn_peer(t, 3), b);
	assert_int_equal(last.fresh + last.gone + last.restore + last.patch, 0);
	a = tn_peer(t, 2);
	b = tn_peer(t, 3);
	assert_memory_equal(&a->s, &sa, sizeof(sa));
	assert_memory_equal(&b->s, &sb, sizeof(sb));
	assert_memory_equal(a->tx_key, tx, ks);
	assert_memory_equal(a->rx_key, rx, ks);
	assert_int_equal(a->counters[SN_CTR_RX_PACKETS], 5000);
	assert_int_equal(t->n->n_saved, 0);
}

/* Spoke B leaves and comes back in the same run: its session continues
 * (no seq reused, old datagrams still replays, still verified). */
static void test_carry_leave_and_return(void **state)
{
	struct tn *t = *state;
	struct sn_peer *b = tn_peer(t, 3);
	struct sn_session sb;
	const char *full = hub_yaml();
	char without[8192];
	const char *cut = strstr(full, "  - id: 3"), *end = strstr(full, "keepalive: 25");

	use(b, 1700000200, 70, 3);
	sb = b->s;
	snprintf(without, sizeof(without), "%.*s%s", (int)(cut - full), full, end);
	reload_with(t, without);
	assert_null(sn_peer_find(&t->n->peers, 3));
	assert_int_equal(t->n->n_saved, 1);
	reload_with(t, hub_yaml());
	b = tn_peer(t, 3);
	assert_memory_equal(&b->s, &sb, sizeof(sb));
	assert_int_equal(b->counters[SN_CTR_RX_PACKETS], 70);
	assert_int_equal(b->counters[SN_CTR_DROP_REPLAY], 5);
	assert_false(sn_replay_check(&b->s.rx_window, 69)); /* below the floor still */
	assert_int_equal(t->n->n_saved, 0);
}

/* Spoke A re-keyed: a fresh, unverified session with a new challenge; the
 * old identity is saved and comes back whole when the key goes back. */
static void test_carry_rekey_and_back(void **state)
{
	struct tn *t = *state;
	struct sn_peer *a = tn_peer(t, 2);
	struct sn_session sa;
	uint8_t priv[32], pub[32], zero[16] = { 0 };
	char b64[SN_KEY_B64_LEN + 1], *rekeyed;

	use(a, 1700000100, 5000, 2);
	sa = a->s;
	assert_int_equal(sn_key_generate(priv), 0);
	assert_int_equal(sn_key_public(pub, priv), 0);
	sn_key_to_b64(b64, pub);
	rekeyed = strdup(edit(hub_yaml(), "X0O52YIg4foGNf2e77FDInwXWpumYTKdInIHceQN+yE=", b64));
	reload_with(t, rekeyed);
	a = tn_peer(t, 2);
	assert_int_equal(a->s.state, SN_PEER_UNVERIFIED);
	assert_false(a->s.rx_has_epoch);
	assert_int_equal(a->s.tx_seq, 0);
	assert_int_equal(a->s.endpoint.family, SN_AF_NONE);
	assert_memory_not_equal(a->s.challenge, zero, 16);
	assert_int_equal(a->counters[SN_CTR_RX_PACKETS], 0);
	assert_int_equal(t->n->n_saved, 1);
	reload_with(t, hub_yaml());
	a = tn_peer(t, 2);
	assert_memory_equal(&a->s, &sa, sizeof(sa));
	assert_int_equal(t->n->n_saved, 1); /* the re-keyed identity, saved in turn */
	free(rekeyed);
}

/* A static endpoint: kept while the config's stays the same (a learned one
 * wins), replaced when the config changes it. */
static void test_carry_static_endpoint(void **state)
{
	struct tn *t = *state;
	const char *with = edit(hub_yaml(), "    # endpoint: 172.31.2.2:51820",
				"    endpoint: 172.31.2.2:51820");
	char first[8192];
	struct sn_peer *a;

	snprintf(first, sizeof(first), "%s", with);
	reload_with(t, first);
	a = tn_peer(t, 2);
	assert_int_equal(a->s.endpoint.ip[3], 2);
	use(a, 1700000100, 10, 9); /* roamed to 198.51.100.9 */
	reload_with(t, first);
	assert_int_equal(tn_peer(t, 2)->s.endpoint.ip[3], 9);
	assert_int_equal(tn_peer(t, 2)->s.endpoint.ip[0], 198);
	reload_with(t, edit(first, "endpoint: 172.31.2.2:51820", "endpoint: 172.31.2.6:51820"));
	a = tn_peer(t, 2);
	assert_int_equal(a->s.endpoint.ip[0], 172);
	assert_int_equal(a->s.endpoint.ip[3], 6);
	assert_int_equal(a->s.state, SN_PEER_VERIFIED); /* same identity */
}

/* A session saved before an epoch move comes back in the new epoch at seq
 * 0 (its tx key is the new epoch's), its receive side unchanged. */
static void test_carry_saved_across_epoch_move(void **state)
{
	struct tn *t = *state;
	struct sn_peer *b = tn_peer(t, 3);
	const char *full = hub_yaml();
	char without[8192];
	const char *cut = strstr(full, "  - id: 3"), *end = strstr(full, "keepalive: 25");

	use(b, 1700000200, 70, 3);
	snprintf(without, sizeof(without), "%.*s%s", (int)(cut - full), full, end);
	reload_with(t, without);
	t->n->emove.target = EPOCH + 5;
	sn_verify_epoch_moved(t->n, EPOCH + 5);
	tn_clear(t);
	reload_with(t, hub_yaml());
	b = tn_peer(t, 3);
	assert_int_equal(b->s.tx_epoch, EPOCH + 5);
	assert_int_equal(b->s.tx_seq, 0);
	assert_int_equal(b->s.rx_epoch, 1700000200);
	assert_int_equal(b->s.state, SN_PEER_VERIFIED);
}

/* A renamed peer keeps its session: the commit changes the name in place. */
static void test_carry_rename_in_place(void **state)
{
	struct tn *t = *state;
	struct sn_peer *a = tn_peer(t, 2);
	struct sn_session sa;

	use(a, 1700000100, 5000, 2);
	sa = a->s;
	reload_with(t, edit(hub_yaml(), "name: spoke-a", "name: branch-0002"));
	assert_ptr_equal(tn_peer(t, 2), a);
	assert_string_equal(a->name, "branch-0002");
	assert_memory_equal(&a->s, &sa, sizeof(sa));
	assert_int_equal(last.patch, 1);
	assert_int_equal(last.fresh, 0);
}

/* A hub of the ids ids[0..n) (keys[i] their public keys) in 10.0.0.0/16. */
static const char *many(const uint32_t *ids, char (*keys)[SN_KEY_B64_LEN + 1], uint32_t n)
{
	static char text[1 << 20];
	size_t k = (size_t)snprintf(text, sizeof(text),
				    "node:\n  id: 1\n  role: hub\n  private_key_file: keys/hub.key\n"
				    "  listen: \"0.0.0.0:51820\"\noverlay:\n  subnet: 10.0.0.0/16\n"
				    "  address: 10.0.0.1\npeers:\n");

	for (uint32_t i = 0; i < n; i++)
		k += (size_t)snprintf(text + k, sizeof(text) - k,
				      "  - id: %u\n    public_key: %s\n    address: 10.0.%u.%u\n", ids[i],
				      keys[i], ids[i] / 250, 1 + ids[i] % 250);
	return text;
}

static void new_key(char out[SN_KEY_B64_LEN + 1])
{
	uint8_t priv[32], pub[32];

	assert_int_equal(sn_key_generate(priv), 0);
	assert_int_equal(sn_key_public(pub, priv), 0);
	sn_key_to_b64(out, pub);
}

/* Of 1,000 peers, a reload that removes one, re-keys one and adds one
 * plans exactly those and shares the other 998 objects. */
static void test_carry_plans_only_what_changed(void **state)
{
	struct tn *t = *state;
	static uint32_t ids[1001];
	static char keys[1001][SN_KEY_B64_LEN + 1];
	struct sn_peer *p500;

	for (uint32_t i = 0; i < 1000; i++) {
		ids[i] = 10 + i;
		new_key(keys[i]);
	}
	reload_with(t, many(ids, keys, 1000));
	assert_int_equal(t->n->peers.n, 1000);
	assert_int_equal(last.fresh, 1000);
	assert_int_equal(last.gone, 2); /* spokes A and B of conf/hub.yaml */
	p500 = tn_peer(t, 510);
	use(p500, 1700000300, 40, 5);
	ids[3] = 2000;   /* spoke 13 leaves, spoke 2000 comes */
	new_key(keys[3]);
	new_key(keys[7]); /* spoke 17 re-keyed */
	reload_with(t, many(ids, keys, 1000));
	assert_int_equal(t->n->peers.n, 1000);
	assert_int_equal(last.fresh, 2);
	assert_int_equal(last.gone, 2);
	assert_int_equal(last.restore, 0);
	assert_int_equal(last.patch, 0);
	assert_int_equal(t->n->n_saved, 4);
	assert_ptr_equal(tn_peer(t, 510), p500);
	assert_int_equal(p500->s.state, SN_PEER_VERIFIED);
	assert_null(sn_peer_find(&t->n->peers, 13));
	assert_int_equal(tn_peer(t, 17)->s.state, SN_PEER_UNVERIFIED);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_carry_unchanged_peers_keep_everything),
		T(test_carry_leave_and_return),
		T(test_carry_rekey_and_back),
		T(test_carry_static_endpoint),
		T(test_carry_saved_across_epoch_move),
		T(test_carry_rename_in_place),
		T(test_carry_plans_only_what_changed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
