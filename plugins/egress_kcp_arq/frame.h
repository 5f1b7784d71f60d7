/* SPDX-License-Identifier: MIT */
/*
 * plugins/egress_kcp_arq/frame.h: kcp_arq's framing (docs/kcp_arq.md), the
 * 12 bytes in front of every sealed datagram and the acknowledgement block
 * that may follow them. Nothing here touches the host: the plugin, the unit
 * test and the fuzz target use it alike. Multi-byte fields are big-endian.
 *
 *   header (12 bytes)
 *   0       version (high nibble, 1) | type (low nibble: KCP_T_*)
 *   1       flags: KCP_F_ACK = an acknowledgement block follows the header
 *   2..3    0
 *   4..7    session: the sender's, chosen when it first sent to this
 *           address (not 0); a new one tells the receiver to start over
 *   8..11   seq: data frame: its sequence number; ack and plain frames: 0
 *   acknowledgement block (10 + 4 * n bytes; data and plain frames may
 *   carry one, an ack frame carries exactly one and nothing else)
 *   0..3    session acknowledged: the data sender's
 *   4..7    base: the first sequence number acknowledged
 *   8       n: ranges, 1..KCP_RANGES_MAX
 *   9       0
 *   10..    n times: offset from base (2 bytes), count - 1 (2 bytes); the
 *           first offset is 0, each range starts past the end of the one
 *           before it with a gap (they are as few as they can be), none
 *           ends past base + 65535
 *   then    data and plain frames: the sealed datagram, at least 1 byte
 */
#ifndef SN_KCP_FRAME_H
#define SN_KCP_FRAME_H

#include <stdint.h>

#define KCP_VERSION 1u
#define KCP_T_DATA 0u   /* a datagram under ARQ */
#define KCP_T_ACK 1u    /* an acknowledgement block alone */
#define KCP_T_PLAIN 2u  /* a datagram without ARQ (window full, no table room) */
#define KCP_F_ACK 0x01u /* an acknowledgement block follows the header */
#define KCP_HDR_LEN 12u
#define KCP_ACK_FIXED 10u
#define KCP_RANGES_MAX 64u   /* in one block */
#define KCP_RANGES_PIGGY 4u  /* in a block a datagram carries */
#define KCP_ACK_LEN(n) (KCP_ACK_FIXED + 4u * (n))
/* The most a frame puts in front of a datagram: the header and a block of
 * KCP_RANGES_PIGGY ranges (an ack frame is a packet of its own). */
#define KCP_HEADROOM (KCP_HDR_LEN + KCP_ACK_LEN(KCP_RANGES_PIGGY))

struct kcp_hdr {
	uint8_t type;     /* KCP_T_* */
	uint8_t flags;    /* KCP_F_* */
	uint32_t session;
	uint32_t seq;
};

/* One range of acknowledged sequence numbers: first .. first + count - 1. */
struct kcp_range {
	uint32_t first;
	uint32_t count; /* 1..65536 */
};

struct kcp_ack {
	uint32_t session; /* the data sender's */
	uint32_t n;       /* ranges, 1..KCP_RANGES_MAX */
	struct kcp_range r[KCP_RANGES_MAX];
};

void kcp_hdr_write(uint8_t out[KCP_HDR_LEN], const struct kcp_hdr *h);

/* Write block a (its ranges obey the rules above) to out, which has room
 * for KCP_ACK_LEN(a->n) bytes; returns that length. */
uint32_t kcp_ack_write(uint8_t *out, const struct kcp_ack *a);

/* Parse the frame buf[0..len): 0 with *h (and *a when h->flags has
 * KCP_F_ACK) filled and *body the offset of the datagram (len for an ack
 * frame), or -EINVAL when it breaks a rule above. */
int kcp_frame_parse(const uint8_t *buf, uint32_t len, struct kcp_hdr *h, struct kcp_ack *a,
		    uint32_t *body);

/* Fold seqs[0..n) (sorted in serial order, no duplicates) into a block of
 * at most max_ranges ranges from seqs[0] on; returns how many of them it
 * holds (at least 1 when n > 0). */
uint32_t kcp_ack_build(const uint32_t *seqs, uint32_t n, uint32_t max_ranges, struct kcp_ack *a);

/* Sort seqs[0..n) in serial number order (RFC 1982; they lie within 2^31
 * of each other) and drop repeats; returns the new count. */
uint32_t kcp_seq_sort(uint32_t *seqs, uint32_t n);

#endif
