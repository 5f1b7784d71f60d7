/* SPDX-License-Identifier: MIT */
/*
 * subnetra/os.h: the OS backend operations: the TUN device and routes.
 */
#ifndef SUBNETRA_OS_H
#define SUBNETRA_OS_H

#include "subnetra/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Flags in sn_os_ops.flags. */
#define SN_OS_F_GSO 0x0001u /* can use the device's offloads: tun_open may report
			     * SN_TUN_OFFLOAD_* in sn_tun_config.offload (the host
			     * ignores them from a backend without this flag) */

/* Flags in sn_priv_args.flags. */
#define SN_PRIV_KEEP_NET_ADMIN 0x0001u /* the host still changes routes after the drop
					* (overlay.manage_routes): keep what that
					* needs (Linux: CAP_NET_ADMIN) and nothing
					* else; without the flag keep nothing */

/* Flags in sn_tun_config.flags. */
#define SN_TUN_F_NO_ADDR 0x0001u /* leave the interface address alone */

/* What the opened device does (sn_tun_config.offload, set by tun_open). */
#define SN_TUN_OFFLOAD_RX 0x0001u /* reads may return SN_PKT_F_CSUM and, in the big packets
				   * the host then lends, SN_PKT_F_GSO super-packets */
#define SN_TUN_OFFLOAD_TX 0x0002u /* writes take runs (SN_PKT_F_RUN): coalesced TCP segments */

/* Arguments of tun_open(); owned by the host, valid during the call only. */
struct sn_tun_config {
	uint32_t struct_size;   /* sizeof(struct sn_tun_config) in the host */
	uint32_t flags;         /* SN_TUN_F_* */
	const char *ifname;     /* wanted interface name, or NULL/"" for the OS's choice */
	uint32_t mtu;           /* overlay MTU */
	uint32_t addr;          /* overlay address, host byte order */
	uint8_t prefix_len;     /* overlay subnet length */
	uint8_t reserved[3];
	uint32_t offload;       /* out: SN_TUN_OFFLOAD_* the device was set up with (the host
				 * passes 0; a backend without SN_OS_F_GSO leaves it) */
	char *err;              /* on failure write a one-line reason here */
	uint32_t err_len;
	uint32_t reserved3;
};

/* Arguments of drop_privileges(); owned by the host, valid during the call only. */
struct sn_priv_args {
	uint32_t struct_size;   /* sizeof(struct sn_priv_args) in the host */
	uint32_t flags;         /* SN_PRIV_* */
	const char *user;       /* the user to become (node.user) */
	char *err;              /* on failure write a one-line reason here */
	uint32_t err_len;
	uint32_t reserved;
};

struct sn_os_ops {
	uint32_t struct_size; /* sizeof(struct sn_os_ops) in the plugin */
	uint32_t flags;       /* SN_OS_F_* */

	/* Required: create and configure the TUN device (name, MTU, address,
	 * up), non-blocking; set cfg->offload to what the device does. 0 or a
	 * negative errno (reason in cfg->err). */
	int (*tun_open)(void *inst, struct sn_tun_config *cfg);

	/* Required: the TUN fd the host watches for readability. */
	int (*tun_fd)(void *inst);

	/* Required: the actual interface name (valid until destroy). */
	const char *(*tun_name)(void *inst);

	/* Required: read up to n raw IPv4 packets into pkts[0..n-1], lent by
	 * the host as in sn_egress_ops.recv_batch (the backend may reorder
	 * the entries; on return pkts[0..k-1] are the k filled ones, in the
	 * order read). With SN_TUN_OFFLOAD_RX some of the lent packets, at the
	 * end of the array, are big (sn_pkt_room() >= SN_PKT_BIG_ROOM): only
	 * those may come back as SN_PKT_F_GSO super-packets. Entries may carry
	 * SN_PKT_F_CSUM. Returns k (0 when nothing is pending) or a negative
	 * errno. */
	int (*tun_read_batch)(void *inst, struct sn_pkt **pkts, uint32_t n);

	/* Required: write pkts[0..n-1] (raw IPv4 packets, with
	 * SN_TUN_OFFLOAD_TX also runs of them, SN_PKT_F_RUN) to the device.
	 * Returns how many entries it took (the first k); taken packets
	 * belong to the backend, which releases them with
	 * host_api.pkt_release (os_linux before returning). The host counts
	 * each taken entry as one packet written (tun_tx_packets); one the
	 * device then refuses the backend counts itself with
	 * host_api.count(h, SN_CTR_DROP_TUN_ERROR, p->peer_id, 1) before
	 * releasing it. Entries not taken stay the caller's, which counts them
	 * dropped as tun_error. A negative errno means none were taken. */
	int (*tun_write_batch)(void *inst, struct sn_pkt *const *pkts, uint32_t n);

	/* Required: add / remove a route for prefix through the TUN device.
	 * route_add of an existing route returns -EEXIST; route_del of a
	 * missing one -ESRCH. */
	int (*route_add)(void *inst, const struct sn_prefix *prefix);
	int (*route_del)(void *inst, const struct sn_prefix *prefix);

	/* Optional: after setup, stop running as root for good: switch to
	 * args->user (its uid, primary gid and supplementary groups), keep
	 * only what args->flags asks for, and leave no way to gain a
	 * privilege back (os_linux: empty bounding and ambient sets,
	 * PR_SET_NO_NEW_PRIVS, checked). A user that is uid 0 is refused.
	 * 0, or a negative errno with a reason in args->err; on an error the
	 * host exits. */
	int (*drop_privileges)(void *inst, const struct sn_priv_args *args);

	/* Optional: the running total of packets the kernel dropped on their
	 * way to the daemon because the device's queue was full (Linux: the
	 * TUN device's tx_dropped). Control path only; may read files. */
	int (*tun_dropped)(void *inst, uint64_t *out);
};

#ifdef __cplusplus
}
#endif
#endif
