/* SPDX-License-Identifier: MIT */
/*
 * plugins/common/layer.h: what every egress layer of this tree (fec_xor,
 * kcp_arq) does the same way towards the egress below it, by the rules of
 * docs/plugin-sdk.md, "Composition": the receive loop that lends the
 * host's packets on and lends consumed ones again, and lower_deliver.
 * Header only; a layer passes its own frame parser as take.
 */
#ifndef SN_PLUGINS_LAYER_H
#define SN_PLUGINS_LAYER_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "subnetra/sdk.h"

/* Takes frames pkts[0..n) apart in place: the datagrams to hand up end in
 * pkts[0..k), k returned; the consumed ones stay in pkts[k..n). */
typedef uint32_t (*sn_layer_take)(void *layer, struct sn_pkt **pkts, uint32_t n);

/* recv_batch of a layer: the host's packets go on to the egress below and
 * what it filled is taken apart in place. While it fills every entry it is
 * lent, what the frames consumed is lent to it again: it may hold more
 * (GRO), and the host calls again only after a call that filled all. */
static inline int sn_layer_recv(const struct sn_egress_lower *low, sn_layer_take take,
				void *layer, struct sn_pkt **pkts, uint32_t n)
{
	uint32_t k = 0, ask;
	int got;

	while (k < n) {
		ask = n - k;
		got = low->ops->recv_batch(low->inst, pkts + k, ask);
		if (got < 0)
			return k ? (int)k : got;
		k += take(layer, pkts + k, (uint32_t)got);
		if ((uint32_t)got < ask)
			break;
		for (uint32_t i = k; i < n; i++)
			pkts[i]->len = 0; /* consumed: lent again as they came */
	}
	return (int)k;
}

/* lower_deliver of a layer: what the egress below delivered is taken
 * apart like a received batch, the datagrams handed on up with the
 * layer's own deliver, the rest released. Takes all n. */
static inline int sn_layer_lower_deliver(const struct sn_host_api *api, struct sn_host *h,
					 sn_layer_take take, void *layer,
					 struct sn_pkt *const *pkts, uint32_t n)
{
	struct sn_pkt *v[SN_BATCH];
	uint32_t c, k;

	for (uint32_t done = 0; done < n; done += c) {
		c = n - done < SN_BATCH ? n - done : SN_BATCH;
		memcpy(v, pkts + done, c * sizeof(*v));
		k = take(layer, v, c);
		for (uint32_t i = k; i < c; i++)
			api->pkt_release(h, v[i]);
		if (k && api->deliver(h, v, k) != (int)k)
			for (uint32_t i = 0; i < k; i++) {
				api->count(h, SN_CTR_DROP_NO_BUFFER, 0, 1);
				api->pkt_release(h, v[i]);
			}
	}
	return (int)n;
}

/* open, fd and local_addr of a layer: the lower's, once attached. */
static inline int sn_layer_open(const struct sn_egress_lower *low, bool attached,
				const char *name, const struct sn_egress_open *args)
{
	if (!attached) {
		snprintf(args->err, args->err_len, "%s: no egress below (the host calls attach first)",
			 name);
		return -EINVAL;
	}
	return low->ops->open(low->inst, args);
}

static inline int sn_layer_fd(const struct sn_egress_lower *low, bool attached)
{
	return attached ? low->ops->fd(low->inst) : -EBADF;
}

static inline int sn_layer_local_addr(const struct sn_egress_lower *low, bool attached,
				      struct sn_addr *out)
{
	return attached ? low->ops->local_addr(low->inst, out) : -EBADF;
}

#endif
