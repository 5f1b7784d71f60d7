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
};

#ifdef __cplusplus
}
#endif
#endif
