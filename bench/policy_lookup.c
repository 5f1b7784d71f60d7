/* SPDX-License-Identifier: MIT */
/*
 * bench/policy_lookup.c: nanoseconds per sn_policy_lookup. Not built by
 * default; from the source tree:
 *
 *   cc -O2 -std=c11 -D_GNU_SOURCE -Icore -Isdk/include bench/policy_lookup.c \
 *      core/policy.c core/prefix.c core/arena.c -o /tmp/policy_lookup
 *   /tmp/policy_lookup [seconds per case, default 1]
 *
 * Per table: build time, bytes held, and lookups over 1M preset addresses,
 * both random ones (mostly no route, short walks) and ones inside the
 * longest prefixes (full-depth walks). "indep" runs lookups back to back
 * (throughput: the CPU overlaps them); "chain" makes each address depend on
 * the previous result (latency of one lookup).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "policy.h"

#define N_ADDRS (1u << 20)

static uint64_t rng = 42;

static uint32_t rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (uint32_t)((z ^ (z >> 31)) >> 32);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint32_t mask_of(unsigned len)
{
	return len ? 0xffffffffu << (32 - len) : 0;
}

/* A hub: n spokes, each an overlay /32 and two LANs, plus a default drop. */
static uint32_t hub_rules(struct sn_policy_rule *r, uint32_t spokes)
{
	uint32_t n = 0;

	r[n++] = (struct sn_policy_rule){ { 0x0a000001, 32, { 0 } }, SN_ACT_LOCAL, 0,
					  SN_POLICY_ORIGIN_LOCAL };
	r[n++] = (struct sn_policy_rule){ { 0, 0, { 0 } }, SN_ACT_DROP, 0, SN_POLICY_ORIGIN_CONFIG };
	for (uint32_t i = 0; i < spokes; i++) {
		uint32_t id = i + 2;

		r[n++] = (struct sn_policy_rule){ { 0x0a000000 + id, 32, { 0 } }, SN_ACT_FORWARD, id,
						  SN_POLICY_ORIGIN_PEER };
		r[n++] = (struct sn_policy_rule){ { 0xc0000000 + (id << 8), 24, { 0 } }, SN_ACT_FORWARD,
						  id, SN_POLICY_ORIGIN_PEER };
		r[n++] = (struct sn_policy_rule){ { 0xac000000 + (id << 12), 20, { 0 } },
						  SN_ACT_FORWARD, id, SN_POLICY_ORIGIN_PEER };
	}
	return n;
}

static int cmp_rule(const void *a, const void *b)
{
	const struct sn_prefix *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return (x->len > y->len) - (x->len < y->len);
}

/* About n random prefixes, lengths 8..32, random actions (duplicates are
 * removed afterwards, so a few less). */
static uint32_t random_rules(struct sn_policy_rule *r, uint32_t n, uint32_t n_peers)
{
	uint32_t got = 0;

	for (uint32_t i = 0; i < n; i++) {
		unsigned len = 8 + rnd() % 25;

		r[i] = (struct sn_policy_rule){ { rnd() & mask_of(len), (uint8_t)len, { 0 } },
						SN_ACT_DROP, 0, SN_POLICY_ORIGIN_RUNTIME };
		if (rnd() % 4) {
			r[i].action = SN_ACT_FORWARD;
			r[i].peer_id = 1 + rnd() % n_peers;
		}
	}
	qsort(r, n, sizeof(*r), cmp_rule);
	for (uint32_t i = 0; i < n; i++)
		if (!got || cmp_rule(&r[got - 1], &r[i]))
			r[got++] = r[i];
	return got;
}

static double run_indep(const struct sn_policy *t, const uint32_t *addrs, double secs,
			uint64_t *sink)
{
	double t0 = now(), t1;
	uint64_t done = 0, sum = 0;

	do {
		for (uint32_t i = 0; i < N_ADDRS; i++) {
			const struct sn_policy_rule *r = sn_policy_lookup(t, addrs[i]);

			sum += r ? r->peer_id : 1;
		}
		done += N_ADDRS;
		t1 = now();
	} while (t1 - t0 < secs);
	*sink += sum;
	return (t1 - t0) * 1e9 / (double)done;
}

static double run_chain(const struct sn_policy *t, const uint32_t *addrs, double secs,
			uint64_t *sink)
{
	double t0 = now(), t1;
	uint64_t done = 0;
	uint32_t dep = 0;

	do {
		for (uint32_t i = 0; i < N_ADDRS; i++) {
			const struct sn_policy_rule *r = sn_policy_lookup(t, addrs[i] ^ dep);

			/* always 0, but only known once the lookup is done */
			dep = (uint32_t)((uintptr_t)r >> (sizeof(uintptr_t) * 8 - 1));
		}
		done += N_ADDRS;
		t1 = now();
	} while (t1 - t0 < secs);
	*sink += dep;
	return (t1 - t0) * 1e9 / (double)done;
}

static void bench(const char *name, const struct sn_policy_rule *r, uint32_t n, uint32_t n_peers,
		  uint32_t *addrs, double secs)
{
	uint32_t *peers = malloc((n_peers + 1) * sizeof(*peers)), sorted_n;
	const struct sn_policy_rule *sorted;
	struct sn_policy *t = NULL;
	char err[256];
	uint64_t sink = 0;
	double b0, b1;

	for (uint32_t i = 0; i < n_peers; i++)
		peers[i] = i + 1;
	b0 = now();
	if (sn_policy_build(r, n, peers, n_peers, 1, &t, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", name, err);
		exit(1);
	}
	b1 = now();
	sorted = sn_policy_rules(t, &sorted_n);
	printf("%-22s %7u rules  build %8.3f ms  %9zu bytes\n", name, n, (b1 - b0) * 1e3,
	       sn_policy_mem(t));
	for (uint32_t i = 0; i < N_ADDRS; i++)
		addrs[i] = rnd();
	printf("  random addresses:   indep %6.2f ns/lookup   chain %6.2f ns/lookup\n",
	       run_indep(t, addrs, secs, &sink), run_chain(t, addrs, secs, &sink));
	for (uint32_t i = 0; i < N_ADDRS; i++) {
		const struct sn_prefix *p = &sorted[rnd() % sorted_n].prefix;

		addrs[i] = p->addr | (rnd() & ~mask_of(p->len));
	}
	printf("  inside the prefixes: indep %6.2f ns/lookup   chain %6.2f ns/lookup  (%llu)\n",
	       run_indep(t, addrs, secs, &sink), run_chain(t, addrs, secs, &sink),
	       (unsigned long long)(sink & 1));
	sn_policy_free(t);
	free(peers);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	struct sn_policy_rule *r = calloc(100000, sizeof(*r));
	uint32_t *addrs = malloc(N_ADDRS * sizeof(*addrs));

	if (!r || !addrs)
		return 1;
	printf("stride %d bits, %d levels at most\n", SN_POLICY_STRIDE, 32 / SN_POLICY_STRIDE);
	bench("hub, 50 spokes", r, hub_rules(r, 50), 51, addrs, secs);
	bench("hub, 1000 spokes", r, hub_rules(r, 1000), 1001, addrs, secs);
	bench("random 200", r, random_rules(r, 200, 8), 8, addrs, secs);
	bench("random 10000", r, random_rules(r, 10000, 64), 64, addrs, secs);
	bench("random 100000", r, random_rules(r, 100000, 64), 64, addrs, secs);
	free(r);
	free(addrs);
	return 0;
}
