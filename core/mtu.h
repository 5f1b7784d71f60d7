/* SPDX-License-Identifier: MIT */
/*
 * core/mtu.h: the overlay MTU the node runs with (docs/configuration.md,
 * overlay.mtu). Unset, it is the default 1420 less what the egress stack
 * adds to a datagram beyond raw_direct's IPv4 and UDP headers, so a
 * datagram still fits a 1500-byte underlay; set, it is the operator's,
 * with a warning when its datagrams do not fit one.
 */
#ifndef SN_MTU_H
#define SN_MTU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* The underlay MTU the default and the warning are made for (Ethernet). */
#define SN_MTU_UNDERLAY 1500
/* What raw_direct declares: the underlay's IPv4 and UDP headers. */
#define SN_MTU_UDP_IP 28
/* The datagram of the default MTU on raw_direct, the protocol's header
 * and tag included: 1484 bytes, 16 to spare on a 1500-byte underlay. */
#define SN_MTU_DEFAULT_WIRE (SN_CONF_DEFAULT_MTU + SN_MTU_UDP_IP + 36)

/* One egress of the stack, top first, for the messages. */
struct sn_mtu_layer {
	const char *name;
	uint32_t overhead; /* its declared overhead (struct sn_host_decl) */
};

struct sn_mtu {
	uint32_t mtu;         /* the TUN device's */
	bool automatic;       /* overlay.mtu unset: derived from the stack */
	uint32_t eg_overhead; /* the egress stack's overhead, summed */
	uint32_t protocol;    /* the protocol header and tag (the crypto plugin's) */
	uint32_t datagram;    /* the longest datagram on the underlay at mtu */
	uint32_t fits;        /* the largest MTU whose datagrams fit SN_MTU_UNDERLAY */
};

/* The MTU of config c over an egress stack adding eg_overhead bytes (its
 * layers' overheads summed, the mover's IPv4 and UDP headers included)
 * and a crypto plugin declaring cr_overhead (the protocol's header and
 * tag: never counted as less than those 36 bytes). */
void sn_mtu_resolve(struct sn_mtu *m, const struct sn_config *c, uint32_t eg_overhead,
		    uint32_t cr_overhead);

/* The warning for an overlay.mtu whose datagrams exceed SN_MTU_UNDERLAY,
 * naming the numbers, each layer's share (l[0..n), top first) and the
 * largest MTU that fits; "" when there is nothing to warn of. Returns
 * true when it wrote one. */
bool sn_mtu_warning(const struct sn_mtu *m, const struct sn_config *c,
		    const struct sn_mtu_layer *l, uint32_t n, char *buf, size_t len);

/* The line logged at start for an automatic MTU ("" for a set one).
 * Returns true when it wrote one. */
bool sn_mtu_describe(const struct sn_mtu *m, const struct sn_mtu_layer *l, uint32_t n,
		     char *buf, size_t len);

#endif
