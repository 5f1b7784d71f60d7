/* SPDX-License-Identifier: MIT */
/*
 * core/sojourn.c: the sojourn histogram (sojourn.h). Bucket b >= 8 holds
 * [ (4 + s) << (e - 2), (5 + s) << (e - 2) ) us with e = 3 + (b - 8) / 4
 * and s = (b - 8) % 4: the top three bits of the value pick it.
 */
#include "sojourn.h"

uint32_t sn_sojourn_bucket(uint64_t us)
{
	uint32_t e, b;

	if (us < 8)
		return (uint32_t)us;
	e = 63u - (uint32_t)__builtin_clzll(us);
	b = 8u + (e - 3u) * 4u + (uint32_t)((us >> (e - 2u)) & 3u);
	return b < SN_SOJOURN_BUCKETS ? b : SN_SOJOURN_BUCKETS - 1u;
}

uint64_t sn_sojourn_lo_us(uint32_t b)
{
	if (b < 8)
		return b;
	return (uint64_t)(4u + (b - 8u) % 4u) << (3u + (b - 8u) / 4u - 2u);
}

void sn_sojourn_add(struct sn_sojourn *h, uint64_t ns)
{
	h->count[sn_sojourn_bucket(ns / 1000u)]++;
	h->packets++;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

uint64_t sn_sojourn_quantile_us(const struct sn_sojourn *h, uint32_t permille)
{
	/* the rank of the quantile, 1-based: ceil(packets * permille / 1000) */
	uint64_t rank = (h->packets * permille + 999u) / 1000u, seen = 0;

	if (!h->packets)
		return 0;
	if (!rank)
		rank = 1;
	for (uint32_t b = 0; b + 1u < SN_SOJOURN_BUCKETS; b++) {
		seen += h->count[b];
		if (seen >= rank)
			return sn_sojourn_lo_us(b + 1u);
	}
	return h->max_ns / 1000u;
}
