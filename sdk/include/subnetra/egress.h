/* SPDX-License-Identifier: MIT */
/*
 * subnetra/egress.h: the egress (underlay transport) operations.
 *
 * The host drives an egress: it watches fd() for readability, then calls
 * recv_batch() until it returns fewer than asked for or the wake-up budget
 * (at most 64 packets) is spent; it hands sealed datagrams to send_batch().
 * An egress that needs timers (ARQ, FEC) uses the host's timer API and
 * hands late datagrams up with host_api.deliver().
 */
#ifndef SUBNETRA_EGRESS_H
#define SUBNETRA_EGRESS_H

#include "subnetra/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Flags in sn_egress_ops.flags. */
#define SN_EGRESS_F_GSO 0x0001u /* accepts SN_PKT_F_GSO entries in send_batch */

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
	 * cap - off bytes of room). Sets len and addr of each filled packet.
	 * Returns how many were filled (0 when nothing is pending) or a
	 * negative errno. Never blocks. */
	int (*recv_batch)(void *inst, struct sn_pkt *const *pkts, uint32_t n);

	/* Required: send pkts[0..n-1], each a datagram at its data with its
	 * destination in addr. Returns how many it took: the first k packets
	 * (k <= n) now belong to the egress, which releases them with
	 * host_api.pkt_release once sent (raw_direct does so before
	 * returning); the rest stay the caller's. A negative errno means none
	 * were taken. Never blocks: a full socket buffer takes fewer. */
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
