/* SPDX-License-Identifier: MIT */
/*
 * subnetra/counters.h: the counter ids shared by host and plugins.
 *
 * Counters are uint64_t arrays indexed by this enum, node-wide and per peer.
 * The drop reasons carry the names of the protocol's receive steps
 * (docs/protocol.md, "Receiving") so that `subnetra status` shows exactly
 * the protocol's vocabulary. Traffic counters come first, drop reasons from
 * SN_CTR_FIRST_DROP to SN_CTR_MAX. Values are part of the ABI: once it is
 * released, new ids are only appended in their group by a new minor (see
 * subnetra/version.h for the one renumbering before the first release).
 */
#ifndef SUBNETRA_COUNTERS_H
#define SUBNETRA_COUNTERS_H

#ifdef __cplusplus
extern "C" {
#endif

enum sn_counter {
	/* traffic */
	SN_CTR_RX_PACKETS = 0, /* data and keepalive datagrams accepted (receive step 8) */
	SN_CTR_RX_BYTES,       /* inner bytes of accepted datagrams */
	SN_CTR_TX_PACKETS,     /* data and keepalive datagrams sent to the underlay */
	SN_CTR_TX_BYTES,       /* inner bytes of datagrams sent */
	SN_CTR_TUN_RX,         /* packets read from the TUN device (a super-packet's segments each) */
	SN_CTR_TUN_TX,         /* packets handed to the TUN device (tun_error: those it refused) */
	SN_CTR_RELAYED,        /* packets relayed hub -> another spoke */
	SN_CTR_KEEPALIVE_RX,   /* keepalives accepted */
	SN_CTR_KEEPALIVE_TX,   /* keepalives sent */
	SN_CTR_CHALLENGE_RX,   /* authentic challenges received (each answered unless rate-limited) */
	SN_CTR_CHALLENGE_TX,   /* challenges sent (a peer not yet verified) */
	SN_CTR_RESPONSE_RX,    /* responses that verified a peer */
	SN_CTR_RESPONSE_TX,    /* responses sent (answers to authentic challenges) */
	SN_CTR_TUN_RX_GSO,     /* super-packets read from the TUN device (cut into tun_rx_packets) */
	SN_CTR_TUN_TX_GSO,     /* coalesced super-packets written (runs of tun_tx_packets) */
	SN_CTR_RX_GRO,         /* coalesced underlay buffers (UDP GRO) split into datagrams */
	SN_CTR_TX_GSO,         /* underlay messages that carried a run of datagrams (UDP GSO) */
	SN_CTR_AQM_MARK,       /* inner packets marked ECN CE by the AQM instead of dropped */

	/* drops on receive, in the order of the receive steps */
	SN_CTR_DROP_SHORT,        /* shorter than 36 bytes */
	SN_CTR_DROP_BAD_VERSION,  /* version != 1 */
	SN_CTR_DROP_BAD_HEADER,   /* reserved bit/byte, kinds, length, epoch or seq range */
	SN_CTR_DROP_UNKNOWN_PEER, /* key_id not a configured peer, or our own id */
	SN_CTR_DROP_UNVERIFIED,   /* from (step 4b) or to (step 11, TUN) a peer not verified */
	SN_CTR_DROP_STALE_EPOCH,  /* epoch older than the accepted one */
	SN_CTR_DROP_REPLAY,       /* seq outside the window or already seen */
	SN_CTR_DROP_AUTH_FAIL,    /* tag does not verify */
	SN_CTR_DROP_EPOCH_LIMIT,  /* a new epoch of a peer within 100 ms of its last new one (tag not checked) */
	SN_CTR_DROP_BAD_RESPONSE, /* an authentic response that answers no outstanding challenge */
	SN_CTR_DROP_BAD_INNER,    /* plaintext not a well-formed IPv4 packet */
	SN_CTR_DROP_INNER_SRC,    /* inner source not routed to the sending peer */
	SN_CTR_DROP_RELAY_LOOP,   /* would relay back to the sender */
	SN_CTR_DROP_NO_ENDPOINT,  /* destination peer has no known endpoint */
	SN_CTR_DROP_NOT_LOCAL,    /* a spoke asked to forward */
	SN_CTR_DROP_POLICY_DROP,  /* a DROP rule matched */
	SN_CTR_DROP_NO_ROUTE,     /* no rule matched */
	/* drops on the TUN side */
	SN_CTR_DROP_TUN_LOOP,     /* TUN packet whose destination is LOCAL */
	SN_CTR_DROP_TOO_BIG,      /* TUN packet larger than the overlay MTU */
	/* drops that are not the peer's fault */
	SN_CTR_DROP_TX_ERROR,     /* the underlay refused a datagram (send error, full buffer) */
	SN_CTR_DROP_TUN_ERROR,    /* the TUN device refused a packet */
	SN_CTR_DROP_NO_BUFFER,    /* the packet pool was empty */
	SN_CTR_DROP_RX_ERROR,     /* the underlay reported a receive error or a truncated datagram */
	SN_CTR_DROP_RX_OVERFLOW,  /* the kernel dropped datagrams: the underlay socket's receive buffer was full */
	SN_CTR_DROP_TUN_QUEUE,    /* the kernel dropped packets bound for the daemon: the TUN queue was full */
	SN_CTR_DROP_AQM,          /* the AQM (CoDel) dropped a packet that waited too long, not ECN-capable */

	SN_CTR_MAX
};

#define SN_CTR_FIRST_DROP SN_CTR_DROP_SHORT

#ifdef __cplusplus
}
#endif
#endif
