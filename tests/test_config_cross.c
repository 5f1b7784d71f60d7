/* SPDX-License-Identifier: MIT */
/*
 * tests/test_config_cross.c: the rules between peers at scale
 * (core/config_cross.c). A hub of 100,000 peers loads (a pairwise check
 * would take minutes, the sorted one takes well under a second); a
 * clash planted at the far end of a big config is found with the message
 * of the pairwise scan; and on random sets of prefixes the sorted overlap
 * check reports exactly what a pairwise reference reports.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "config.h"

/* A growing text buffer. */
struct text {
	char *s;
	size_t len, cap;
	unsigned lines; /* lines written so far */
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		assert_true(n >= 0);
		if ((size_t)n < t->cap - t->len)
			break;
		t->cap = t->cap * 2 + (size_t)n + 4096;
		t->s = realloc(t->s, t->cap);
		assert_non_null(t->s);
	}
	for (const char *p = t->s + t->len; *p; p++)
		t->lines += *p == '\n';
	t->len += (size_t)n;
}

/* A peer's public key: 32 bytes made of its number (never all zeros). */
static void key_of(uint32_t i, char out[45])
{
	uint8_t k[32];

	memset(k, 0x5a, sizeof(k));
	memcpy(k, &i, sizeof(i));
	sodium_bin2base64(out, 45, k, sizeof(k), sodium_base64_VARIANT_ORIGINAL);
}

/* Peer i: id i + 2, address 10.0.0.0/8 + i + 2, route 172.16.0.0/12 split in /28s. */
static void hub_header(struct text *t)
{
	put(t, "node:\n  id: 1\n  role: hub\n  private_key_file: k\n  listen: \"0.0.0.0:51820\"\n"
	       "overlay:\n  subnet: 10.0.0.0/8\n  address: 10.0.0.1\n  lans: [192.168.0.0/24]\n"
	       "peers:\n");
}

static uint32_t peer_line; /* the line of the last peer's "- id:" */

static void peer(struct text *t, uint32_t i, uint32_t id, uint32_t addr, uint32_t key, uint32_t route)
{
	char k[45];
	uint32_t a = 0x0a000000u + addr, r = 0xac100000u + route * 16;

	key_of(key, k);
	peer_line = t->lines + 1;
	put(t, "  - id: %u\n    public_key: %s\n    address: 10.%u.%u.%u\n"
	       "    routes: [172.%u.%u.%u/28]\n", id, k, a >> 16 & 255, a >> 8 & 255, a & 255,
	    r >> 16 & 255, r >> 8 & 255, r & 255);
}

/* n peers, peer i with everything derived from i. */
static struct text big(uint32_t n)
{
	struct text t = { 0 };

	hub_header(&t);
	for (uint32_t i = 0; i < n; i++)
		peer(&t, i, i + 2, i + 2, i, i);
	return t;
}

static int load(const struct text *t, struct sn_config **c, char *err, size_t len)
{
	return sn_config_load_buffer("t.yaml", t->s, t->len, false, c, err, len);
}

static void test_cross_hundred_thousand_peers(void **state)
{
	struct text t = big(100000);
	struct sn_config *c = NULL;
	char err[512] = "";
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	if (load(&t, &c, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	clock_gettime(CLOCK_MONOTONIC, &b);
	print_message("100000 peers, %zu bytes: loaded and checked in %.2f s\n", t.len,
		      (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
	assert_int_equal(c->n_peers, 100000);
	for (uint32_t id = 2; id < 100002; id += 997)
		assert_int_equal(sn_config_peer(c, id)->id, id);
	assert_null(sn_config_peer(c, 1));
	assert_null(sn_config_peer(c, 100002));
	sn_config_free(c);
	free(t.s);
}

/* A clash between the last peer and a peer far before it: the message
 * names both places. */
static void test_cross_clash_at_the_end(void **state)
{
	struct {
		uint32_t id, addr, key, route; /* of the last peer; 5 (or 7: its id) copies peer 5 */
		uint32_t dl;                   /* the line of the value in a peer's entry */
		const char *want;              /* %u: the last peer's line, then peer 5's */
	} cases[] = {
		{ 7, 50000, 50000, 50000, 0, "t.yaml:%u:9: peers[20000].id: 7 is already the id of peers[5] (line %u); every node needs its own id" },
		{ 1, 50000, 50000, 50000, 0, "t.yaml:%u:9: peers[20000].id: 1 is this node's own id (node.id, line 2); every node needs its own id" },
		{ 20002, 7, 50000, 50000, 2, "t.yaml:%u:14: peers[20000].address: 10.0.0.7 is already the address of peers[5] (line %u)" },
		{ 20002, 50000, 5, 50000, 1, "t.yaml:%u:17: peers[20000].public_key: is the same key as peers[5].public_key (line %u); every node needs its own key pair" },
		{ 20002, 50000, 50000, 5, 3, "t.yaml:%u:14: peers[20000].routes[0]: 172.16.0.80/28 overlaps 172.16.0.80/28 at peers[5].routes[0] (line %u), which belongs to node 7; a prefix can belong to one node only" },
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct text t = { 0 };
		struct sn_config *c = (struct sn_config *)1;
		char err[512] = "", want[512];
		uint32_t line5 = 0;

		hub_header(&t);
		for (uint32_t i = 0; i < 20000; i++) {
			peer(&t, i, i + 2, i + 2, i, i);
			if (i == 5)
				line5 = peer_line;
		}
		peer(&t, 20000, cases[k].id, cases[k].addr, cases[k].key, cases[k].route);
		snprintf(want, sizeof(want), cases[k].want, peer_line + cases[k].dl, line5 + cases[k].dl);
		assert_int_equal(load(&t, &c, err, sizeof(err)), -EINVAL);
		assert_null(c);
		assert_string_equal(err, want);
		free(t.s);
	}
}

/* A mapping of many keys (checked by sorting, core/config_tree.c): the first
 * repeat in file order is named with the line its key was first set. */
static void test_cross_duplicate_key_in_a_big_mapping(void **state)
{
	struct text t = { 0 };
	struct sn_config *c = (struct sn_config *)1;
	char err[512] = "", want[256];
	unsigned first = 0, dup = 0;

	hub_header(&t);
	peer(&t, 0, 2, 2, 0, 0);
	put(&t, "plugins:\n  options:\n    raw_direct:\n");
	for (int i = 0; i < 300; i++) {
		if (i == 7)
			first = t.lines + 1;
		if (i == 250)
			dup = t.lines + 1;
		if (i == 280) /* a second repeat, later: not the one named */
			put(&t, "      o8: x\n");
		put(&t, "      o%d: x\n", i == 250 ? 7 : i);
	}
	snprintf(want, sizeof(want), "t.yaml:%u:7: plugins.options.raw_direct.o7: duplicate key "
		 "(first set at line %u)", dup, first);
	assert_int_equal(load(&t, &c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, want);
	free(t.s);
}

/* ---- random prefixes against the pairwise reference --------------------- */

struct route {
	uint32_t addr, len, owner; /* owner 0: this node's LAN, k: peers[k - 1] */
	unsigned line;
	char path[48];
};

static bool overlap(const struct route *a, const struct route *b)
{
	uint32_t len = a->len < b->len ? a->len : b->len;
	uint32_t m = len ? 0xffffffffu << (32 - len) : 0;

	return ((a->addr ^ b->addr) & m) == 0;
}

static void pstr(const struct route *r, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u/%u", r->addr >> 24, r->addr >> 16 & 255, r->addr >> 8 & 255,
		 r->addr & 255, r->len);
}

/* What the pairwise scan of the old loader said, or "" for no clash. */
static void reference(const struct route *r, uint32_t n, char *out, size_t len)
{
	char pa[20], pb[20], who[32];

	out[0] = '\0';
	for (uint32_t a = 0; a < n; a++)
		for (uint32_t b = 0; b < a; b++) {
			if (!overlap(&r[a], &r[b]))
				continue;
			pstr(&r[a], pa, sizeof(pa));
			pstr(&r[b], pb, sizeof(pb));
			if (r[a].owner != r[b].owner) {
				if (r[b].owner)
					snprintf(who, sizeof(who), "node %u", r[b].owner + 1);
				else
					snprintf(who, sizeof(who), "this node");
				snprintf(out, len, "t.yaml:%u:9: %s: %s overlaps %s at %s (line %u), which belongs to %s; a prefix can belong to one node only",
					 r[a].line, r[a].path, pa, pb, r[b].path, r[b].line, who);
				return;
			}
			if (r[a].len == r[b].len) {
				snprintf(out, len, "t.yaml:%u:9: %s: %s is listed twice (also at %s, line %u)",
					 r[a].line, r[a].path, pa, r[b].path, r[b].line);
				return;
			}
		}
}

static uint32_t rnd(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

/* A random prefix inside 192.168.0.0/16, lengths 16..32 with host bits cleared. */
static void random_prefix(uint32_t *seed, struct route *r)
{
	uint32_t len = 16 + rnd(seed) % 17, m = 0xffffffffu << (32 - len);

	r->len = len;
	r->addr = (0xc0a80000u | (rnd(seed) & (len >= 24 ? 0x1ff : 0xffff))) & m;
	if (len > 24)
		r->addr |= rnd(seed) % 4 << 8;
	r->addr &= m;
}

/* How many random cases ended clean, in an overlap, in a repeat. */
static unsigned outcome[3];

static void random_case(uint32_t *seed, uint32_t peers, uint32_t lans, uint32_t per_peer)
{
	struct route r[64];
	struct text t = { 0 };
	struct sn_config *c = NULL;
	char err[512] = "", want[512], k[45];
	uint32_t n = 0;

	put(&t, "node:\n  id: 1\n  role: hub\n  private_key_file: k\n  listen: \"0.0.0.0:51820\"\n"
		"overlay:\n  subnet: 10.0.0.0/24\n  address: 10.0.0.1\n  lans:%s\n", lans ? "" : " []");
	for (uint32_t i = 0; i < lans; i++, n++) {
		random_prefix(seed, &r[n]);
		r[n].owner = 0;
		r[n].line = t.lines + 1;
		snprintf(r[n].path, sizeof(r[n].path), "overlay.lans[%u]", i);
		put(&t, "      - %u.%u.%u.%u/%u\n", r[n].addr >> 24, r[n].addr >> 16 & 255,
		    r[n].addr >> 8 & 255, r[n].addr & 255, r[n].len);
	}
	put(&t, "peers:\n");
	for (uint32_t p = 0; p < peers; p++) {
		key_of(p, k);
		put(&t, "  - id: %u\n    public_key: %s\n    address: 10.0.0.%u\n    routes:\n", p + 2,
		    k, p + 2);
		for (uint32_t i = 0; i < per_peer; i++, n++) {
			random_prefix(seed, &r[n]);
			r[n].owner = p + 1;
			r[n].line = t.lines + 1;
			snprintf(r[n].path, sizeof(r[n].path), "peers[%u].routes[%u]", p, i);
			put(&t, "      - %u.%u.%u.%u/%u\n", r[n].addr >> 24, r[n].addr >> 16 & 255,
			    r[n].addr >> 8 & 255, r[n].addr & 255, r[n].len);
		}
	}
	reference(r, n, want, sizeof(want));
	outcome[!want[0] ? 0 : strstr(want, "twice") ? 2 : 1]++;
	if (!want[0]) {
		if (load(&t, &c, err, sizeof(err)) < 0)
			fail_msg("no clash expected, got: %s\n%s", err, t.s);
		sn_config_free(c);
	} else {
		assert_int_equal(load(&t, &c, err, sizeof(err)), -EINVAL);
		if (strcmp(err, want))
			fail_msg("got:  %s\nwant: %s\n%s", err, want, t.s);
	}
	free(t.s);
}

static void test_cross_overlaps_match_pairwise(void **state)
{
	uint32_t seed = 12345;

	for (int i = 0; i < 3000; i++)
		random_case(&seed, 1 + i % 4, i % 3, 1 + i % 7);
	print_message("3000 random sets: %u without a clash, %u overlaps, %u repeats\n",
		      outcome[0], outcome[1], outcome[2]);
	/* the sets exercise every outcome */
	assert_true(outcome[0] > 300 && outcome[1] > 300 && outcome[2] > 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cross_hundred_thousand_peers),
		cmocka_unit_test(test_cross_clash_at_the_end),
		cmocka_unit_test(test_cross_duplicate_key_in_a_big_mapping),
		cmocka_unit_test(test_cross_overlaps_match_pairwise),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
