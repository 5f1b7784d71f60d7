/* SPDX-License-Identifier: MIT */
/* tests/test_policy.c: the policy tree (core/policy.c, core/policy_config.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"

#define L SN_POLICY_ORIGIN_LOCAL
#define P SN_POLICY_ORIGIN_PEER
#define C SN_POLICY_ORIGIN_CONFIG
#define RT SN_POLICY_ORIGIN_RUNTIME
#define FWD SN_ACT_FORWARD
#define DROP SN_ACT_DROP
#define LOCAL SN_ACT_LOCAL

static const uint32_t peers23[] = { 2, 3 };
static const uint32_t peers18[] = { 1, 2, 3, 4, 5, 6, 7, 8 };

/* Dotted quad to host order; no checks (the strings are ours). */
static uint32_t ip(const char *s)
{
	unsigned a, b, c, d;

	assert_int_equal(sscanf(s, "%u.%u.%u.%u", &a, &b, &c, &d), 4);
	return a << 24 | b << 16 | c << 8 | d;
}

/* "a.b.c.d/len" with host bits and lengths as written (to test refusals). */
static struct sn_prefix pfx(const char *s)
{
	struct sn_prefix p = { 0 };
	unsigned len;

	p.addr = ip(s);
	assert_int_equal(sscanf(strchr(s, '/'), "/%u", &len), 1);
	p.len = (uint8_t)len;
	return p;
}

static struct sn_policy_rule rule(const char *s, enum sn_action act, uint32_t peer,
				  uint32_t origin)
{
	return (struct sn_policy_rule){ .prefix = pfx(s), .action = act, .peer_id = peer,
					.origin = origin };
}

static struct sn_policy *build_ok(const struct sn_policy_rule *r, uint32_t n, uint64_t version)
{
	struct sn_policy *t = NULL;
	char err[256] = "";
	int rc = sn_policy_build(r, n, peers18, 8, version, &t, err, sizeof(err));

	if (rc)
		fail_msg("build: %d %s", rc, err);
	assert_non_null(t);
	return t;
}

/* ---- longest-prefix match -------------------------------------------- */

struct lpm_case {
	const char *addr;
	const char *want; /* prefix of the matching rule, NULL = no route */
};

static void check_cases(const struct sn_policy *t, const struct lpm_case *cs, size_t n)
{
	char buf[20];

	for (size_t i = 0; i < n; i++) {
		const struct sn_policy_rule *r = sn_policy_lookup(t, ip(cs[i].addr));

		if (!cs[i].want) {
			if (r)
				fail_msg("%s: want no route, got %s", cs[i].addr,
					 sn_prefix_str(&r->prefix, buf, sizeof(buf)));
			continue;
		}
		if (!r)
			fail_msg("%s: want %s, got no route", cs[i].addr, cs[i].want);
		assert_string_equal(sn_prefix_str(&r->prefix, buf, sizeof(buf)), cs[i].want);
	}
}

static void test_policy_lookup_nested_and_siblings(void **state)
{
	const struct sn_policy_rule rules[] = {
		rule("10.0.0.0/8", FWD, 2, C),      rule("10.1.0.0/16", FWD, 3, C),
		rule("10.1.2.0/24", DROP, 0, C),    rule("10.1.2.3/32", FWD, 4, C),
		rule("10.128.0.0/9", FWD, 5, C),    rule("10.1.2.128/27", FWD, 6, C),
		rule("192.168.0.0/24", FWD, 2, C),  rule("192.168.1.0/24", FWD, 3, C),
		rule("172.16.0.0/12", DROP, 0, C),  rule("172.16.0.0/13", FWD, 7, C),
		rule("100.64.0.2/31", FWD, 8, C),   rule("128.0.0.0/1", DROP, 0, C),
		rule("255.255.255.255/32", LOCAL, 0, L),
	};
	static const struct lpm_case cs[] = {
		{ "10.0.0.0", "10.0.0.0/8" },        { "10.255.255.255", "10.128.0.0/9" },
		{ "10.127.255.255", "10.0.0.0/8" },  { "10.128.0.0", "10.128.0.0/9" },
		{ "10.1.0.0", "10.1.0.0/16" },       { "10.1.255.255", "10.1.0.0/16" },
		{ "10.1.2.0", "10.1.2.0/24" },       { "10.1.2.2", "10.1.2.0/24" },
		{ "10.1.2.3", "10.1.2.3/32" },       { "10.1.2.4", "10.1.2.0/24" },
		{ "10.1.2.127", "10.1.2.0/24" },     { "10.1.2.128", "10.1.2.128/27" },
		{ "10.1.2.159", "10.1.2.128/27" },   { "10.1.2.160", "10.1.2.0/24" },
		{ "10.1.1.255", "10.1.0.0/16" },     { "10.1.3.0", "10.1.0.0/16" },
		{ "9.255.255.255", NULL },           { "11.0.0.0", NULL },
		{ "192.168.0.0", "192.168.0.0/24" }, { "192.168.0.255", "192.168.0.0/24" },
		{ "192.168.1.0", "192.168.1.0/24" }, { "192.168.1.255", "192.168.1.0/24" },
		{ "192.168.2.0", "128.0.0.0/1" },    { "172.16.0.1", "172.16.0.0/13" },
		{ "172.23.255.255", "172.16.0.0/13" }, { "172.24.0.0", "172.16.0.0/12" },
		{ "172.31.255.255", "172.16.0.0/12" }, { "172.32.0.0", "128.0.0.0/1" },
		{ "100.64.0.1", NULL },               { "100.64.0.2", "100.64.0.2/31" },
		{ "100.64.0.3", "100.64.0.2/31" },   { "100.64.0.4", NULL },
		{ "127.255.255.255", NULL },         { "128.0.0.0", "128.0.0.0/1" },
		{ "0.0.0.0", NULL },                 { "255.255.255.254", "128.0.0.0/1" },
		{ "255.255.255.255", "255.255.255.255/32" },
	};
	struct sn_policy *t = build_ok(rules, sizeof(rules) / sizeof(rules[0]), 1);

	check_cases(t, cs, sizeof(cs) / sizeof(cs[0]));
	sn_policy_free(t);
}

static void test_policy_lookup_default_route(void **state)
{
	const struct sn_policy_rule rules[] = {
		rule("0.0.0.0/0", FWD, 2, C),
		rule("0.0.0.0/32", DROP, 0, C),
		rule("10.0.0.0/8", FWD, 3, C),
	};
	static const struct lpm_case cs[] = {
		{ "0.0.0.0", "0.0.0.0/32" },      { "0.0.0.1", "0.0.0.0/0" },
		{ "9.255.255.255", "0.0.0.0/0" }, { "10.0.0.0", "10.0.0.0/8" },
		{ "10.255.255.255", "10.0.0.0/8" }, { "11.0.0.0", "0.0.0.0/0" },
		{ "255.255.255.255", "0.0.0.0/0" },
	};
	struct sn_policy *t = build_ok(rules, 3, 1);

	check_cases(t, cs, sizeof(cs) / sizeof(cs[0]));
	assert_int_equal(sn_policy_lookup(t, 0)->action, DROP);
	assert_int_equal(sn_policy_lookup(t, 1)->peer_id, 2);
	sn_policy_free(t);
}

static void test_policy_lookup_empty(void **state)
{
	struct sn_policy *t = build_ok(NULL, 0, 9);
	uint32_t n = 99;

	assert_null(sn_policy_lookup(t, 0));
	assert_null(sn_policy_lookup(t, 0xffffffffu));
	assert_null(sn_policy_lookup(t, ip("10.0.0.1")));
	assert_false(sn_policy_src_ok(t, ip("10.0.0.1"), 2));
	assert_int_equal(sn_policy_count(t), 0);
	sn_policy_rules(t, &n);
	assert_int_equal(n, 0);
	assert_int_equal(sn_policy_version(t), 9);
	sn_policy_free(t);
}

/* ---- randomized cross-check against a linear scan ---------------------- */

static uint64_t rng_state;

static uint32_t rnd(void)
{
	/* splitmix64: the same sequence on every libc */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (uint32_t)((z ^ (z >> 31)) >> 32);
}

static uint32_t mask(unsigned len)
{
	return len ? 0xffffffffu << (32 - len) : 0;
}

static const struct sn_policy_rule *naive(const struct sn_policy_rule *r, uint32_t n,
					  uint32_t addr)
{
	const struct sn_policy_rule *best = NULL;

	for (uint32_t i = 0; i < n; i++)
		if (((r[i].prefix.addr ^ addr) & mask(r[i].prefix.len)) == 0 &&
		    (!best || r[i].prefix.len > best->prefix.len))
			best = &r[i];
	return best;
}

static bool have(const struct sn_policy_rule *r, uint32_t n, struct sn_prefix p)
{
	for (uint32_t i = 0; i < n; i++)
		if (r[i].prefix.addr == p.addr && r[i].prefix.len == p.len)
			return true;
	return false;
}

/* n distinct random prefixes inside base/base_len, lengths min_len..32. */
static uint32_t random_rules(struct sn_policy_rule *r, uint32_t n, uint32_t base,
			     unsigned base_len, unsigned min_len)
{
	uint32_t got = 0;

	for (uint32_t tries = 0; got < n && tries < n * 20; tries++) {
		struct sn_prefix p = { 0 };
		uint32_t a = rnd();

		p.len = (uint8_t)(min_len + rnd() % (33 - min_len));
		p.addr = (base & mask(base_len)) | (a & ~mask(base_len));
		p.addr &= mask(p.len);
		if (have(r, got, p))
			continue;
		r[got] = (struct sn_policy_rule){ .prefix = p, .origin = C };
		r[got].action = rnd() % 4 ? FWD : DROP;
		r[got].peer_id = r[got].action == FWD ? 1 + rnd() % 8 : 0;
		got++;
	}
	return got;
}

static void cross_check(const struct sn_policy *t, const struct sn_policy_rule *r, uint32_t n,
			uint32_t addr)
{
	const struct sn_policy_rule *want = naive(r, n, addr), *got = sn_policy_lookup(t, addr);

	if (!want && !got)
		return;
	if (!want || !got || want->prefix.addr != got->prefix.addr ||
	    want->prefix.len != got->prefix.len || want->action != got->action ||
	    want->peer_id != got->peer_id)
		fail_msg("address %08x: trie and linear scan disagree", addr);
}

struct random_case {
	uint64_t seed;
	uint32_t n_rules;
	const char *base; /* all prefixes inside this one (deep nesting) */
	unsigned min_len;
	uint32_t n_addrs;
};

static void test_policy_lookup_matches_linear_scan(void **state)
{
	static const struct random_case cs[] = {
		{ 1, 200, "0.0.0.0/0", 0, 100000 },
		{ 2, 200, "0.0.0.0/0", 8, 100000 },
		{ 3, 300, "10.0.0.0/12", 12, 100000 },
		{ 4, 2000, "10.0.0.0/16", 16, 50000 },
	};
	struct sn_policy_rule *r = calloc(2000, sizeof(*r));

	assert_non_null(r);
	for (size_t c = 0; c < sizeof(cs) / sizeof(cs[0]); c++) {
		struct sn_prefix base = pfx(cs[c].base);
		struct sn_policy *t;
		uint32_t n;

		rng_state = cs[c].seed;
		n = random_rules(r, cs[c].n_rules, base.addr, base.len, cs[c].min_len);
		assert_true(n > cs[c].n_rules / 2);
		t = build_ok(r, n, c);
		assert_int_equal(sn_policy_count(t), n);
		for (uint32_t i = 0; i < cs[c].n_addrs; i++) {
			uint32_t a = rnd();

			cross_check(t, r, n, a);
			cross_check(t, r, n, (base.addr & mask(base.len)) | (a & ~mask(base.len)));
		}
		/* both edges of every prefix, and one past each */
		for (uint32_t i = 0; i < n; i++) {
			uint32_t lo = r[i].prefix.addr, hi = lo | ~mask(r[i].prefix.len);

			cross_check(t, r, n, lo);
			cross_check(t, r, n, hi);
			cross_check(t, r, n, lo - 1);
			cross_check(t, r, n, hi + 1);
		}
		sn_policy_free(t);
	}
	free(r);
}

/* ---- rule list, find, version ----------------------------------------- */

static void test_policy_rules_sorted_and_normalized(void **state)
{
	const struct sn_policy_rule rules[] = {
		rule("192.168.0.0/16", DROP, 5, C), /* peer id dropped: not forward */
		rule("10.1.0.0/16", FWD, 3, RT),
		rule("10.0.0.0/8", FWD, 2, C),
		rule("10.0.0.0/16", FWD, 4, C),
		rule("0.0.0.0/0", DROP, 0, C),
	};
	static const char *const want[] = { "0.0.0.0/0", "10.0.0.0/8", "10.0.0.0/16",
					    "10.1.0.0/16", "192.168.0.0/16" };
	struct sn_policy *t = build_ok(rules, 5, 77);
	const struct sn_policy_rule *list;
	char buf[20];
	uint32_t n;

	list = sn_policy_rules(t, &n);
	assert_int_equal(n, 5);
	assert_int_equal(sn_policy_count(t), 5);
	assert_int_equal(sn_policy_version(t), 77);
	assert_true(sn_policy_mem(t) > 0);
	for (uint32_t i = 0; i < n; i++)
		assert_string_equal(sn_prefix_str(&list[i].prefix, buf, sizeof(buf)), want[i]);
	assert_int_equal(list[4].peer_id, 0);
	assert_int_equal(list[3].origin, RT);
	assert_ptr_equal(sn_policy_find(t, pfx("10.0.0.0/16")), &list[2]);
	assert_ptr_equal(sn_policy_find(t, pfx("0.0.0.0/0")), &list[0]);
	assert_null(sn_policy_find(t, pfx("10.0.0.0/9")));
	assert_null(sn_policy_find(t, pfx("10.1.0.0/24")));
	sn_policy_free(t);
}

/* ---- validation -------------------------------------------------------- */

/* A rule as text, for static tables. */
struct srule {
	const char *p;
	enum sn_action act;
	uint32_t peer;
	uint32_t origin;
};

struct error_case {
	struct srule rules[4]; /* up to the first with p == NULL */
	bool no_peers;         /* configured peers: none instead of 2, 3 */
	int rc;
	uint32_t bad;          /* index of the rule blamed */
	const char *msg;
};

static const struct error_case error_cases[] = {
	{ { { "10.0.0.0/33", DROP, 0, C } }, false, -EINVAL, 0,
	  "10.0.0.0/33: prefix length must be 0..32" },
	{ { { "10.0.0.0/8", DROP, 0, C }, { "10.1.2.3/16", FWD, 2, C } }, false, -EINVAL, 1,
	  "10.1.2.3/16 has host bits set (did you mean 10.1.0.0/16?)" },
	{ { { "0.0.0.1/0", DROP, 0, C } }, false, -EINVAL, 0,
	  "0.0.0.1/0 has host bits set (did you mean 0.0.0.0/0?)" },
	{ { { "10.0.0.0/8", DROP, 0, 9 } }, false, -EINVAL, 0,
	  "10.0.0.0/8: unknown origin 9 (local, peer, config or runtime)" },
	{ { { "10.0.0.0/8", DROP, 0, 0 } }, false, -EINVAL, 0,
	  "10.0.0.0/8: unknown origin 0 (local, peer, config or runtime)" },
	{ { { "10.0.0.0/8", (enum sn_action)7, 0, C } }, false, -EINVAL, 0,
	  "10.0.0.0/8: unknown action 7 (local, forward or drop)" },
	{ { { "10.9.0.0/16", LOCAL, 0, RT } }, false, -EINVAL, 0,
	  "10.9.0.0/16: local is only for the node's own address and LANs (use forward or drop)" },
	{ { { "10.0.0.0/8", FWD, 0, C } }, false, -EINVAL, 0,
	  "10.0.0.0/8: forward needs a peer id (forward PEER_ID)" },
	{ { { "10.0.0.0/8", FWD, 7, C } }, false, -EINVAL, 0,
	  "10.0.0.0/8: unknown peer 7 (configured peers: 2, 3)" },
	{ { { "10.0.0.0/8", FWD, 2, C } }, true, -EINVAL, 0,
	  "10.0.0.0/8: unknown peer 2 (no peers are configured)" },
	/* duplicates: the later rule is blamed, the earlier one described */
	{ { { "10.0.0.0/24", FWD, 2, C }, { "10.0.0.0/24", DROP, 0, C } }, false, -EEXIST, 1,
	  "10.0.0.0/24: duplicate prefix, already a rule in the config (keep one rule per prefix)" },
	{ { { "10.0.0.0/24", DROP, 0, RT }, { "10.0.0.0/25", DROP, 0, RT },
	    { "10.0.0.0/24", DROP, 0, RT } }, false, -EEXIST, 2,
	  "10.0.0.0/24: duplicate prefix, already a runtime rule (keep one rule per prefix)" },
	{ { { "192.168.2.0/24", FWD, 2, P }, { "192.168.2.0/24", DROP, 0, RT } }, false, -EEXIST,
	  1,
	  "192.168.2.0/24: duplicate prefix, already a route of peer 2 in the node config (keep one rule per prefix)" },
	{ { { "10.0.0.1/32", LOCAL, 0, L }, { "10.0.0.1/32", FWD, 3, P } }, false, -EEXIST, 1,
	  "10.0.0.1/32: duplicate prefix, already the node's own address or LAN (keep one rule per prefix)" },
	/* forward must not override local */
	{ { { "192.168.1.0/24", LOCAL, 0, L }, { "192.168.1.128/25", FWD, 2, C } }, false,
	  -EINVAL, 1,
	  "192.168.1.128/25: forward to peer 2 would override local 192.168.1.0/24 (use a prefix outside 192.168.1.0/24)" },
	{ { { "192.168.1.7/32", FWD, 3, RT }, { "192.168.1.0/24", LOCAL, 0, L },
	    { "192.168.1.0/28", DROP, 0, C } }, false, -EINVAL, 0,
	  "192.168.1.7/32: forward to peer 3 would override local 192.168.1.0/24 (use a prefix outside 192.168.1.0/24)" },
	/* forward must not hijack another peer's prefixes */
	{ { { "192.168.3.0/24", FWD, 3, P }, { "192.168.3.128/25", FWD, 2, RT } }, false,
	  -EINVAL, 1,
	  "192.168.3.128/25: forward to peer 2 would take traffic that 192.168.3.0/24 routes to peer 3 (forward to peer 3, or use drop)" },
	{ { { "10.0.0.3/32", FWD, 3, P }, { "10.0.0.2/32", FWD, 2, P },
	    { "10.0.0.0/30", FWD, 2, C }, { "10.0.0.3/32", FWD, 2, C } }, false, -EEXIST, 3,
	  "10.0.0.3/32: duplicate prefix, already a route of peer 3 in the node config (keep one rule per prefix)" },
	{ { { "172.16.0.0/12", FWD, 2, P }, { "172.16.0.0/16", DROP, 0, C },
	    { "172.16.5.0/24", FWD, 3, C } }, false, -EINVAL, 2,
	  "172.16.5.0/24: forward to peer 3 would take traffic that 172.16.0.0/12 routes to peer 2 (forward to peer 2, or use drop)" },
};

static uint32_t to_rules(const struct srule *s, size_t max, struct sn_policy_rule *out)
{
	uint32_t n = 0;

	for (; n < max && s[n].p; n++)
		out[n] = rule(s[n].p, s[n].act, s[n].peer, s[n].origin);
	return n;
}

static void run_error_case(const struct error_case *ec)
{
	struct sn_policy *sentinel = (struct sn_policy *)&sentinel, *t = sentinel;
	struct sn_policy_rule r[4];
	uint32_t n = to_rules(ec->rules, 4, r), bad = 12345, np = ec->no_peers ? 0 : 2;
	char err[256] = "";
	int rc;

	rc = sn__policy_build(r, n, np ? peers23 : NULL, np, 1, &t, &bad, err, sizeof(err));
	if (rc != ec->rc)
		fail_msg("%s: rc %d, want %d (%s)", ec->rules[0].p, rc, ec->rc, err);
	assert_string_equal(err, ec->msg);
	assert_int_equal(bad, ec->bad);
	assert_ptr_equal(t, sentinel);
	/* the public entry fails the same way, and takes a NULL err */
	assert_int_equal(sn_policy_build(r, n, peers23, np, 1, &t, NULL, 0), ec->rc);
	assert_ptr_equal(t, sentinel);
}

static void test_policy_build_refuses_bad_rules(void **state)
{
	for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++)
		run_error_case(&error_cases[i]);
}

static void test_policy_build_refuses_too_many_rules(void **state)
{
	struct sn_policy *t = NULL;
	char err[128];

	assert_int_equal(sn_policy_build(NULL, SN_POLICY_MAX_RULES + 1, NULL, 0, 1, &t, err,
					 sizeof(err)),
			 -E2BIG);
	assert_string_equal(err, "too many policy rules (1048577, at most 1048576)");
	assert_null(t);
}

/* Sets that look close to an error but are fine. */
static const struct srule allowed_sets[][4] = {
	/* DROP may cover anything: inside local, inside a peer's prefix, above all */
	{ { "192.168.1.0/24", LOCAL, 0, L }, { "192.168.1.64/26", DROP, 0, RT } },
	{ { "192.168.3.0/24", FWD, 3, P }, { "192.168.3.66/32", DROP, 0, C },
	  { "0.0.0.0/0", DROP, 0, C } },
	/* forward to the same peer inside its own prefix */
	{ { "192.168.3.0/24", FWD, 3, P }, { "192.168.3.0/25", FWD, 3, RT } },
	/* a shorter forward around another peer's prefix: the longer one wins */
	{ { "10.0.0.3/32", FWD, 3, P }, { "0.0.0.0/0", FWD, 2, C },
	  { "10.0.0.1/32", LOCAL, 0, L } },
	/* a spoke: its own /32 inside the subnet it routes to the hub */
	{ { "10.0.0.0/24", FWD, 2, P }, { "10.0.0.2/32", LOCAL, 0, L },
	  { "10.0.0.128/25", FWD, 2, RT } },
	/* explicit rules may override each other */
	{ { "10.8.0.0/16", FWD, 2, C }, { "10.8.1.0/24", FWD, 3, RT } },
};

static void test_policy_build_accepts_overrides_that_are_safe(void **state)
{
	for (size_t i = 0; i < sizeof(allowed_sets) / sizeof(allowed_sets[0]); i++) {
		struct sn_policy_rule r[4];
		uint32_t n = to_rules(allowed_sets[i], 4, r);

		sn_policy_free(build_ok(r, n, 1));
	}
}

/* ---- building from a node config -------------------------------------- */

static struct sn_prefix hub_lans[] = { { .addr = 0xc0a80100, .len = 24 } };   /* 192.168.1.0/24 */
static struct sn_prefix s2_routes[] = { { .addr = 0xc0a80200, .len = 24 } };  /* 192.168.2.0/24 */
static struct sn_prefix s3_routes[] = { { .addr = 0xc0a80300, .len = 24 },    /* 192.168.3.0/24 */
					{ .addr = 0xac100000, .len = 12 } };  /* 172.16.0.0/12 */

/* Hub 1 (10.0.0.1, LAN 192.168.1.0/24) with spokes 2 and 3. */
static void hub_config(struct sn_config *c, struct sn_conf_peer peers[2],
		       struct sn_conf_rule rules[2])
{
	memset(c, 0, sizeof(*c));
	memset(peers, 0, 2 * sizeof(*peers));
	memset(rules, 0, 2 * sizeof(*rules));
	c->path = "conf/hub.yaml";
	c->node_id = 1;
	c->role = SN_ROLE_HUB;
	c->subnet = pfx("10.0.0.0/24");
	c->address = ip("10.0.0.1");
	c->lans = hub_lans;
	c->n_lans = 1;
	peers[0] = (struct sn_conf_peer){ .has = SN_PEER_HAS_ADDRESS, .id = 2,
					  .address = ip("10.0.0.2"), .routes = s2_routes,
					  .n_routes = 1, .loc = { 12, 5 }, .key_path = "peers[0]" };
	peers[1] = (struct sn_conf_peer){ .has = SN_PEER_HAS_ADDRESS, .id = 3,
					  .address = ip("10.0.0.3"), .routes = s3_routes,
					  .n_routes = 2, .loc = { 20, 5 }, .key_path = "peers[1]" };
	c->peers = peers;
	c->n_peers = 2;
	rules[0] = (struct sn_conf_rule){ .prefix = pfx("192.168.3.66/32"), .action = DROP,
					  .loc = { 30, 5 } };
	rules[1] = (struct sn_conf_rule){ .prefix = pfx("8.8.8.0/24"), .action = FWD,
					  .peer_id = 2, .loc = { 33, 5 } };
	c->rules = rules;
	c->n_rules = 2;
}

struct route_case {
	const char *addr;
	enum sn_action act; /* 0 = no route */
	uint32_t peer;
	uint32_t origin;
};

static void check_routes(const struct sn_policy *t, const struct route_case *cs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct sn_policy_rule *r = sn_policy_lookup(t, ip(cs[i].addr));

		if (!cs[i].act) {
			if (r)
				fail_msg("%s: want no route", cs[i].addr);
			continue;
		}
		if (!r)
			fail_msg("%s: want a route, got none", cs[i].addr);
		if (r->action != cs[i].act || r->peer_id != cs[i].peer || r->origin != cs[i].origin)
			fail_msg("%s: got action %d peer %u origin %u", cs[i].addr, (int)r->action,
				 r->peer_id, r->origin);
	}
}

static void test_policy_from_config_hub(void **state)
{
	static const struct route_case cs[] = {
		{ "10.0.0.1", LOCAL, 0, L },        { "192.168.1.200", LOCAL, 0, L },
		{ "10.0.0.2", FWD, 2, P },          { "10.0.0.3", FWD, 3, P },
		{ "10.0.0.4", 0, 0, 0 },            { "10.0.0.0", 0, 0, 0 },
		{ "192.168.2.1", FWD, 2, P },       { "192.168.3.65", FWD, 3, P },
		{ "192.168.3.66", DROP, 0, C },     { "172.31.0.1", FWD, 3, P },
		{ "8.8.8.8", FWD, 2, C },           { "1.1.1.1", FWD, 3, RT },
		{ "1.1.2.1", 0, 0, 0 },
	};
	/* a runtime rule's origin is forced to RUNTIME */
	const struct sn_policy_rule extra[] = { rule("1.1.1.0/24", FWD, 3, C) };
	struct sn_conf_peer peers[2];
	struct sn_conf_rule rules[2];
	struct sn_config c;
	struct sn_policy *t = NULL;
	char err[256] = "";

	hub_config(&c, peers, rules);
	assert_int_equal(sn_policy_from_config(&c, extra, 1, 5, &t, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	check_routes(t, cs, sizeof(cs) / sizeof(cs[0]));
	assert_int_equal(sn_policy_count(t), 10);
	assert_int_equal(sn_policy_version(t), 5);
	sn_policy_free(t);
}

static void test_policy_from_config_spoke(void **state)
{
	static const struct route_case cs[] = {
		{ "10.0.0.2", LOCAL, 0, L },     { "192.168.2.9", LOCAL, 0, L },
		{ "10.0.0.1", FWD, 1, P },       { "10.0.0.3", FWD, 1, P },
		{ "10.0.0.255", FWD, 1, P },     { "192.168.1.1", FWD, 1, P },
		{ "192.168.3.1", FWD, 1, P },    { "10.0.1.0", 0, 0, 0 },
		{ "8.8.8.8", 0, 0, 0 },
	};
	static struct sn_prefix hub_routes[] = { { .addr = 0xc0a80100, .len = 24 },
						 { .addr = 0xc0a80300, .len = 24 } };
	struct sn_conf_peer hub = { .has = SN_PEER_HAS_ADDRESS | SN_PEER_HAS_ENDPOINT, .id = 1,
				    .address = ip("10.0.0.1"), .routes = hub_routes,
				    .n_routes = 2, .loc = { 9, 3 }, .key_path = "hub" };
	struct sn_config c = { .path = "conf/spoke.yaml", .node_id = 2, .role = SN_ROLE_SPOKE,
			       .address = ip("10.0.0.2"), .lans = s2_routes, .n_lans = 1,
			       .peers = &hub, .n_peers = 1 };
	struct sn_policy *t = NULL;
	char err[256] = "";

	c.subnet = pfx("10.0.0.0/24");
	assert_int_equal(sn_policy_from_config(&c, NULL, 0, 1, &t, err, sizeof(err)), 0);
	check_routes(t, cs, sizeof(cs) / sizeof(cs[0]));
	assert_int_equal(sn_policy_count(t), 5);
	assert_true(sn_policy_src_ok(t, ip("10.0.0.3"), 1));
	assert_true(sn_policy_src_ok(t, ip("192.168.3.7"), 1));
	assert_false(sn_policy_src_ok(t, ip("10.0.0.2"), 1));   /* our own address */
	assert_false(sn_policy_src_ok(t, ip("192.168.2.5"), 1)); /* our own LAN */
	assert_false(sn_policy_src_ok(t, ip("8.8.8.8"), 1));     /* no route */
	sn_policy_free(t);
}

static void expect_config_error(const struct sn_config *c, const struct sn_policy_rule *extra,
				uint32_t n_extra, int rc, const char *msg)
{
	struct sn_policy *sentinel = (struct sn_policy *)&sentinel, *t = sentinel;
	char err[320] = "";

	assert_int_equal(sn_policy_from_config(c, extra, n_extra, 1, &t, err, sizeof(err)), rc);
	assert_string_equal(err, msg);
	assert_ptr_equal(t, sentinel);
}

static void test_policy_from_config_names_the_place(void **state)
{
	struct sn_prefix dup_route[] = { pfx("192.168.3.0/24") };
	struct sn_prefix wide_lan[] = { pfx("192.168.0.0/16") };
	const struct sn_policy_rule hijack[] = { rule("1.1.1.0/24", DROP, 0, RT),
						 rule("192.168.2.0/25", FWD, 3, RT) };
	struct sn_conf_peer peers[2];
	struct sn_conf_rule rules[2];
	struct sn_config c;

	hub_config(&c, peers, rules);
	rules[1].peer_id = 7;
	expect_config_error(&c, NULL, 0, -EINVAL,
			    "conf/hub.yaml:33:5: policy[1]: 8.8.8.0/24: unknown peer 7 (configured peers: 2, 3)");
	rules[1].peer_id = 2;
	rules[1].prefix = pfx("192.168.2.0/24");
	expect_config_error(&c, NULL, 0, -EEXIST,
			    "conf/hub.yaml:33:5: policy[1]: 192.168.2.0/24: duplicate prefix, already a route of peer 2 in the node config (keep one rule per prefix)");
	hub_config(&c, peers, rules);
	expect_config_error(&c, hijack, 2, -EINVAL,
			    "runtime rule 1: 192.168.2.0/25: forward to peer 3 would take traffic that 192.168.2.0/24 routes to peer 2 (forward to peer 2, or use drop)");
	/* the loader refuses this; the tree refuses it too, and says where */
	peers[0].routes = dup_route;
	expect_config_error(&c, NULL, 0, -EEXIST,
			    "conf/hub.yaml:20:5: peers[1].routes[0]: 192.168.3.0/24: duplicate prefix, already a route of peer 2 in the node config (keep one rule per prefix)");
	hub_config(&c, peers, rules);
	c.lans = wide_lan;
	expect_config_error(&c, NULL, 0, -EINVAL,
			    "conf/hub.yaml:12:5: peers[0].routes[0]: 192.168.2.0/24: forward to peer 2 would override local 192.168.0.0/16 (use a prefix outside 192.168.0.0/16)");
}

static void test_policy_from_config_checks_the_shape(void **state)
{
	struct sn_conf_peer peers[2];
	struct sn_conf_rule rules[2];
	struct sn_config c;

	hub_config(&c, peers, rules);
	c.role = SN_ROLE_SPOKE;
	expect_config_error(&c, NULL, 0, -EINVAL,
			    "conf/hub.yaml: peers: a spoke has exactly one peer, the hub (found 2)");
	c.role = (enum sn_role)0;
	expect_config_error(&c, NULL, 0, -EINVAL, "conf/hub.yaml: node.role: must be hub or spoke");
}

/* ---- inner-source check ------------------------------------------------ */

static void test_policy_src_ok(void **state)
{
	static const struct {
		const char *src;
		uint32_t peer;
		bool ok;
	} cs[] = {
		{ "192.168.2.5", 2, true },  { "10.0.0.2", 2, true },   { "192.168.2.5", 3, false },
		{ "10.0.0.3", 2, false },    { "10.0.0.1", 2, false },  { "192.168.1.9", 2, false },
		{ "192.168.3.66", 3, false }, { "192.168.3.67", 3, true }, { "9.9.9.9", 2, false },
		{ "8.8.8.8", 2, true },      { "8.8.8.8", 0, false },
	};
	struct sn_conf_peer peers[2];
	struct sn_conf_rule rules[2];
	struct sn_config c;
	struct sn_policy *t = NULL;

	hub_config(&c, peers, rules);
	assert_int_equal(sn_policy_from_config(&c, NULL, 0, 1, &t, NULL, 0), 0);
	for (size_t i = 0; i < sizeof(cs) / sizeof(cs[0]); i++)
		if (sn_policy_src_ok(t, ip(cs[i].src), cs[i].peer) != cs[i].ok)
			fail_msg("src %s peer %u: want %d", cs[i].src, cs[i].peer, cs[i].ok);
	sn_policy_free(t);
}

/* ---- the RCU slot ------------------------------------------------------ */

struct slot_fixture {
	struct sn_policy_slot slot;
	struct sn_config c;
	struct sn_conf_peer peers[2];
	struct sn_conf_rule rules[2];
};

static int slot_setup(void **state)
{
	struct slot_fixture *f = calloc(1, sizeof(*f));
	struct sn_policy *t = NULL;

	if (!f)
		return -1;
	hub_config(&f->c, f->peers, f->rules);
	sn_policy_slot_init(&f->slot);
	if (sn_policy_from_config(&f->c, NULL, 0, 1, &t, NULL, 0))
		return -1;
	sn_policy_publish(&f->slot, t);
	*state = f;
	return 0;
}

static int slot_teardown(void **state)
{
	struct slot_fixture *f = *state;

	sn_policy_slot_destroy(&f->slot);
	free(f);
	return 0;
}

static void test_policy_slot_first_publish(void **state)
{
	struct sn_policy_slot s;
	struct sn_policy *t = build_ok(NULL, 0, 1);

	sn_policy_slot_init(&s);
	assert_null(sn_policy_active(&s));
	sn_policy_publish(&s, t);
	assert_ptr_equal(sn_policy_active(&s), t);
	assert_null(s.retired);
	sn_policy_reclaim(&s); /* nothing retired: nothing freed */
	assert_ptr_equal(sn_policy_active(&s), t);
	sn_policy_slot_destroy(&s);
	assert_null(sn_policy_active(&s));
}

static void test_policy_slot_old_tree_readable_until_reclaim(void **state)
{
	struct slot_fixture *f = *state;
	const struct sn_policy *old = sn_policy_active(&f->slot);
	const struct sn_policy_rule extra[] = { rule("1.1.1.0/24", FWD, 3, RT) };
	struct sn_policy *next = NULL, *third = NULL;

	assert_null(sn_policy_lookup(old, ip("1.1.1.1")));
	assert_int_equal(sn_policy_from_config(&f->c, extra, 1, 2, &next, NULL, 0), 0);
	sn_policy_publish(&f->slot, next);
	assert_ptr_equal(sn_policy_active(&f->slot), next);
	assert_int_equal(sn_policy_version(sn_policy_active(&f->slot)), 2);
	assert_int_equal(sn_policy_lookup(next, ip("1.1.1.1"))->peer_id, 3);
	/* a reader that loaded the old pointer before the swap still works */
	assert_int_equal(f->slot.n_retired, 1);
	assert_null(sn_policy_lookup(old, ip("1.1.1.1")));
	assert_int_equal(sn_policy_lookup(old, ip("10.0.0.2"))->peer_id, 2);
	assert_int_equal(sn_policy_version(old), 1);
	/* two swaps in one loop iteration: both old trees wait */
	assert_int_equal(sn_policy_from_config(&f->c, NULL, 0, 3, &third, NULL, 0), 0);
	sn_policy_publish(&f->slot, third);
	assert_int_equal(f->slot.n_retired, 2);
	assert_int_equal(sn_policy_lookup(next, ip("1.1.1.1"))->peer_id, 3);
	sn_policy_publish(&f->slot, third); /* same tree again: nothing retired */
	assert_int_equal(f->slot.n_retired, 2);
	sn_policy_reclaim(&f->slot);
	assert_int_equal(f->slot.n_retired, 0);
	assert_null(f->slot.retired);
	assert_ptr_equal(sn_policy_active(&f->slot), third);
	assert_null(sn_policy_lookup(third, ip("1.1.1.1")));
}

static void test_policy_slot_rejected_update_changes_nothing(void **state)
{
	struct slot_fixture *f = *state;
	const struct sn_policy *before = sn_policy_active(&f->slot);
	const struct sn_policy_rule bad[] = { rule("1.1.1.0/24", FWD, 3, RT),
					      rule("10.0.0.2/32", DROP, 0, RT),
					      rule("10.0.0.2/32", FWD, 2, RT) };
	struct sn_policy *sentinel = (struct sn_policy *)&sentinel, *t = sentinel;
	char err[256];

	assert_int_equal(sn_policy_from_config(&f->c, bad, 3, 2, &t, err, sizeof(err)), -EEXIST);
	assert_string_equal(err, "runtime rule 1: 10.0.0.2/32: duplicate prefix, already a route of peer 2 in the node config (keep one rule per prefix)");
	assert_ptr_equal(t, sentinel);
	assert_ptr_equal(sn_policy_active(&f->slot), before);
	assert_int_equal(f->slot.n_retired, 0);
	assert_int_equal(sn_policy_version(before), 1);
	assert_null(sn_policy_lookup(before, ip("1.1.1.1")));
	assert_int_equal(sn_policy_lookup(before, ip("10.0.0.2"))->action, FWD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_lookup_nested_and_siblings),
		cmocka_unit_test(test_policy_lookup_default_route),
		cmocka_unit_test(test_policy_lookup_empty),
		cmocka_unit_test(test_policy_lookup_matches_linear_scan),
		cmocka_unit_test(test_policy_rules_sorted_and_normalized),
		cmocka_unit_test(test_policy_build_refuses_bad_rules),
		cmocka_unit_test(test_policy_build_refuses_too_many_rules),
		cmocka_unit_test(test_policy_build_accepts_overrides_that_are_safe),
		cmocka_unit_test(test_policy_from_config_hub),
		cmocka_unit_test(test_policy_from_config_spoke),
		cmocka_unit_test(test_policy_from_config_names_the_place),
		cmocka_unit_test(test_policy_from_config_checks_the_shape),
		cmocka_unit_test(test_policy_src_ok),
		cmocka_unit_test(test_policy_slot_first_publish),
		cmocka_unit_test_setup_teardown(test_policy_slot_old_tree_readable_until_reclaim,
						slot_setup, slot_teardown),
		cmocka_unit_test_setup_teardown(test_policy_slot_rejected_update_changes_nothing,
						slot_setup, slot_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
