/* SPDX-License-Identifier: MIT */
/*
 * core/droplog.c: the drop summary table of core/droplog.h.
 */
#include "droplog.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "host.h"

static uint32_t ip_len(uint8_t family)
{
	return family == SN_AF_INET6 ? 16 : 4;
}

static uint32_t hash(uint32_t reason, const struct sn_addr *a)
{
	uint32_t h = 2166136261u ^ reason * 2654435761u;

	for (uint32_t i = 0; i < ip_len(a->family); i++)
		h = (h ^ a->ip[i]) * 16777619u;
	return h ^ h >> 16;
}

static bool same(const struct sn_droplog_slot *s, uint32_t reason, const struct sn_addr *a)
{
	return s->n && s->reason == reason && s->family == a->family &&
	       !memcmp(s->ip, a->ip, ip_len(a->family));
}

void sn_droplog_note(struct sn_droplog *d, uint32_t reason, const struct sn_addr *src)
{
	uint32_t h = hash(reason, src), take = h % SN_DROPLOG_SLOTS;
	struct sn_droplog_slot *s;

	if (!d->receiving || reason == SN_CTR_DROP_TX_ERROR || reason == SN_CTR_DROP_TUN_ERROR)
		return;
	d->total++;
	for (uint32_t i = 0; i < SN_DROPLOG_PROBE; i++) {
		uint32_t k = (h + i) % SN_DROPLOG_SLOTS;

		if (same(&d->slot[k], reason, src)) {
			d->slot[k].n++;
			return;
		}
		if (d->slot[k].n < d->slot[take].n)
			take = k; /* a free slot (n = 0) wins, else the smallest */
	}
	s = &d->slot[take];
	s->n = 1;
	s->reason = reason;
	s->family = src->family;
	memset(s->ip, 0, sizeof(s->ip));
	memcpy(s->ip, src->ip, ip_len(src->family));
}

static const char *source(const struct sn_droplog_slot *s, char *buf, size_t len)
{
	if (!inet_ntop(s->family == SN_AF_INET6 ? AF_INET6 : AF_INET, s->ip, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

/* The index of the biggest slot not yet printed, or -1. */
static int biggest(const struct sn_droplog *d, const bool *done)
{
	int best = -1;

	for (int i = 0; i < SN_DROPLOG_SLOTS; i++)
		if (d->slot[i].n && !done[i] && (best < 0 || d->slot[i].n > d->slot[best].n))
			best = i;
	return best;
}

uint32_t sn_droplog_flush(struct sn_droplog *d, char lines[][SN_DROPLOG_LINE])
{
	bool done[SN_DROPLOG_SLOTS] = {false};
	uint64_t named = 0;
	uint32_t k = 0;
	char ip[64];
	int i;

	while (k < SN_DROPLOG_TOP && (i = biggest(d, done)) >= 0) {
		done[i] = true;
		named += d->slot[i].n;
		snprintf(lines[k++], SN_DROPLOG_LINE, "%llu %s from %s in the last %u s",
			 (unsigned long long)d->slot[i].n, sn_counter_name(d->slot[i].reason),
			 source(&d->slot[i], ip, sizeof(ip)), SN_DROPLOG_WINDOW_S);
	}
	if (d->total > named)
		snprintf(lines[k++], SN_DROPLOG_LINE, "%llu other drops in the last %u s",
			 (unsigned long long)(d->total - named), SN_DROPLOG_WINDOW_S);
	d->total = 0;
	memset(d->slot, 0, sizeof(d->slot));
	return k;
}
