/* SPDX-License-Identifier: MIT */
/*
 * subnetra/egress.h: the egress (underlay transport) operations.
 *
 * The host drives an egress: it watches fd() for readability and calls
 * recv_batch() with at most 64 packets per wake-up (the budget that keeps
 * the TUN device and the socket from starving each other); after a call
 * that filled every packet it calls again soon, readable or not (see
 * recv_batch). It hands sealed datagrams to send_batch(). An egress that
 * needs timers (ARQ, FEC) uses the host's timer API and hands late
 * datagrams up with host_api.deliver().
 *
 * Composition (docs/plugin-sdk.md, "Composition"): an egress that declares
 * SN_EGRESS_F_LAYER sits over another one, named by its option `over`
 * (default raw_direct), which the host loads below it and hands to
 * attach() before open(). The host drives only the top layer; each layer
 * drives the one below it through struct sn_egress_lower, with the same
 * operations and the same ownership rules the host follows.
 */
#ifndef SUBNETRA_EGRESS_H
#define SUBNETRA_EGRESS_H

#include "subnetra/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Flags in sn_egress_ops.flags. */
#define SN_EGRESS_F_GSO 0x0001u /* send_batch takes runs (SN_PKT_F_RUN, subnetra/packet.h):
				 * the host marks each run of datagrams of one size (the
				 * last may be shorter) to one address; without the flag
				 * every entry is one datagram */
#define SN_EGRESS_F_LAYER 0x0002u /* a layer over another egress (attach, below): it
				   * transforms datagrams, the egress below moves them */

/* Layers stacked at most, the top included (the host refuses deeper). */
#define SN_EGRESS_MAX_LAYERS 4u

/* Arguments of open(); owned by the host, valid during the call only. */
struct sn_egress_open {
	uint32_t struct_size;  /* sizeof(struct sn_egress_open) in the host */
	uint32_t flags;        /* 0 */
	struct sn_addr listen; /* local address to bind; port 0 = any port */
	uint32_t rcvbuf;       /* socket receive buffer bytes wanted, 0 = OS default */
	uint32_t sndbuf;       /* socket send buffer bytes wanted, 0 = OS default */
	uint32_t reserved0;    /* 0 */
	char *err;             /* on failure write a one-line reason here */
	uint32_t err_len;
	uint32_t reserved;
};

struct sn_egress_ops;

/* The egress below a layer, as attach() gets it. The struct is the host's
 * and valid during attach() only: copy it; what it points to stays valid
 * until the layer's destroy() returns (the host destroys layers top first). */
struct sn_egress_lower {
	uint32_t struct_size;            /* sizeof(struct sn_egress_lower) in the host */
	uint32_t flags;                  /* the lower's sn_egress_ops.flags */
	const char *name;                /* its config name, e.g. "raw_direct" */
	void *inst;                      /* its instance: the first argument of its ops */
	const struct sn_egress_ops *ops; /* its operations (required ones all present) */
	uint32_t headroom;               /* bytes the egresses below need in front of a
					  * datagram, summed (leave data there at least) */
	uint32_t overhead;               /* bytes they add on the wire, summed */
	uint32_t datagram_max;           /* the longest datagram the host hands the top's
					  * send_batch (what the pool's room holds) */
	uint32_t reserved;               /* 0 */
};

struct sn_egress_ops {
	uint32_t struct_size; /* sizeof(struct sn_egress_ops) in the plugin */
	uint32_t flags;       /* SN_EGRESS_F_* */

	/* Required: bind the underlay. 0 or a negative errno (reason in
	 * args->err). */
	int (*open)(void *inst, const struct sn_egress_open *args);

	/* Required: the file descriptor the host watches for readability, or
	 * a negative errno before open(). Non-blocking. */
	int (*fd)(void *inst);

	/* Required: the bound local address (after open). */
	int (*local_addr)(void *inst, struct sn_addr *out);

	/* Required: receive up to n datagrams into pkts[0..n-1], which the host
	 * owns and lends for the call (each has off = headroom, len = 0 and
	 * cap - off bytes of room). Sets len and addr of each filled packet,
	 * and time_ns where the kernel says when the datagram arrived
	 * (converted to the host's now_ns() clock; 0 otherwise: the host then
	 * takes the time of the call). The egress may reorder the entries of
	 * pkts: on return pkts[0..k-1] are the k filled packets in the order
	 * the datagrams arrived, and every entry is still the host's. Returns
	 * k (0 when nothing is pending) or a negative errno. Never blocks.
	 *
	 * An egress may take more datagrams from the kernel than it was lent
	 * packets for (a coalesced UDP GRO buffer holds up to 64): it keeps
	 * the rest, in order, and hands them out first in the next call. The
	 * host calls recv_batch again, whether or not fd() is readable, after
	 * every call that filled all n packets. */
	int (*recv_batch)(void *inst, struct sn_pkt **pkts, uint32_t n);

	/* Required: send pkts[0..n-1], each a datagram at its data with its
	 * destination in addr, or with SN_EGRESS_F_GSO a run (SN_PKT_F_RUN)
	 * of them. Returns how many entries it took: the first k (k <= n) now
	 * belong to the egress, the rest stay the caller's, which counts them
	 * dropped as tx_error (runs included: what is not taken is dropped,
	 * never offered again). A taken packet
	 * is the egress's to send and release (host_api.pkt_release; raw_direct
	 * does both before returning, an ARQ keeps it longer); one that it
	 * then fails to send it counts itself, with host_api.count(h,
	 * SN_CTR_DROP_TX_ERROR, p->peer_id, 1), before releasing it: the host
	 * learns nothing more from the return value. A negative errno means
	 * none were taken. Never blocks: a full socket buffer takes fewer. */
	int (*send_batch)(void *inst, struct sn_pkt *const *pkts, uint32_t n);

	/* Optional: apply changed options at run time (hot reload). 0, or
	 * -ENOTSUP when an option needs a restart, or another negative errno
	 * with a reason in err. */
	int (*reconfigure)(void *inst, const struct sn_options *opts, char *err,
			   uint32_t err_len);

	/* Required with SN_EGRESS_F_LAYER (never called otherwise): the egress
	 * below, once, after create() and before open(). Preallocate here
	 * what depends on lower->datagram_max. 0 or a negative errno with a
	 * reason in err. The layer then implements open, fd, local_addr,
	 * recv_batch and send_batch in terms of the lower's:
	 *   open        passes args on (the host's listen, rcvbuf, sndbuf);
	 *   fd          the lower's (the host watches it for the whole stack);
	 *   recv_batch  lends the host's packets on to the lower's recv_batch
	 *               and transforms what it filled in place; entries it
	 *               consumes (a parity, a bad frame) it moves behind the
	 *               k it returns: they stay the host's;
	 *   send_batch  takes the host's datagrams, hands the lower its own
	 *               batch (marking runs with sn_egress_mark_runs when
	 *               lower->flags has SN_EGRESS_F_GSO); what the lower does
	 *               not take stays the layer's, which counts it tx_error
	 *               and releases it.
	 * reconfigure is called by the host for each layer with its own
	 * options: a layer does not pass it on. */
	int (*attach)(void *inst, const struct sn_egress_lower *lower, char *err,
		      uint32_t err_len);

	/* Optional, for a layer: datagrams the egress below handed up with
	 * host_api.deliver (produced outside its recv_batch). The layer
	 * transforms them like a received batch and hands what it keeps on
	 * up with its own host_api.deliver. Same contract as deliver: takes
	 * all n and returns n, or a negative errno taking none (without the
	 * operation the lower's deliver gets -ENOTSUP). */
	int (*lower_deliver)(void *inst, struct sn_pkt *const *pkts, uint32_t n);
};

/* Mark runs for an egress below that takes them (SN_EGRESS_F_GSO): in
 * v[0..n) every stretch of at least two datagrams to one address from one
 * local address (struct sn_pkt.local), all of one size but the last
 * (which may be shorter and ends the stretch), at most SN_GSO_MAX_SEGS entries and SN_GSO_MAX_BYTES bytes, gets
 * SN_PKT_F_RUN, gso_size and gso_segs on its head (subnetra/packet.h,
 * "Offloads"); the flags of the others are cleared of SN_PKT_F_RUN. The
 * host marks its own batches the same way. Returns the number of runs. */
static inline int sn_egress_same_addr(const struct sn_addr *a, const struct sn_addr *b)
{
	uint32_t i = 0;

	if (a->family != b->family || a->port != b->port)
		return 0;
	while (i < 16 && a->ip[i] == b->ip[i])
		i++;
	return i == 16;
}

/* How many entries from v[0] on form one run (1: none). */
static inline uint32_t sn_egress_run_len(struct sn_pkt *const *v, uint32_t n)
{
	uint32_t size = v[0]->len, bytes = size, k = 1;

	while (k < n && k < SN_GSO_MAX_SEGS && v[k]->len <= size && v[k]->len > 0 &&
	       bytes + v[k]->len <= SN_GSO_MAX_BYTES && sn_egress_same_addr(&v[k]->addr, &v[0]->addr) &&
	       sn_egress_same_addr(&v[k]->local, &v[0]->local)) {
		bytes += v[k]->len;
		if (v[k++]->len < size)
			break; /* a shorter one ends the run */
	}
	return k;
}

static inline uint32_t sn_egress_mark_runs(struct sn_pkt *const *v, uint32_t n)
{
	uint32_t i = 0, runs = 0, k;

	while (i < n) {
		v[i]->flags &= ~SN_PKT_F_RUN;
		k = sn_egress_run_len(v + i, n - i);
		if (k > 1 && v[i]->len <= 0xffffu) {
			v[i]->flags |= SN_PKT_F_RUN;
			v[i]->gso_size = (uint16_t)v[i]->len;
			v[i]->gso_segs = (uint16_t)k;
			for (uint32_t j = 1; j < k; j++)
				v[i + j]->flags &= ~SN_PKT_F_RUN;
			runs++;
		} else {
			k = 1;
		}
		i += k;
	}
	return runs;
}

#ifdef __cplusplus
}
#endif
#endif
