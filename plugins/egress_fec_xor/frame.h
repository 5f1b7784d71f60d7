/* SPDX-License-Identifier: MIT */
/*
 * plugins/egress_fec_xor/frame.h: fec_xor's framing (docs/fec_xor.md), the
 * 8 bytes in front of every sealed datagram, and the XOR groups the parity
 * frames cover. Neither touches the host: the plugin (fec_xor.c), the unit
 * test and the fuzz target use them alike.
 *
 *   0       version (high nibble, 2) | flags (low nibble: FEC_F_*)
 *   1       k: data frame: the group's size as configured (2..32);
 *              parity frame: the data frames it covers (1..32);
 *              plain frame: 0
 *   2..3    data frame: index (its place in the group, 0..k-1), 0;
 *              parity frame: the XOR of the covered datagrams' lengths
 *              (big-endian); plain frame: 0, 0
 *   4..7    group id, big-endian (plain frame: 0)
 *   8..     data or plain frame: the sealed datagram, unchanged
 *           parity frame: the XOR of the covered datagrams, each padded
 *           with zeros to the longest, as long as the longest: a parity
 *           is as long as the longest data frame it covers, so a group of
 *           equal datagrams and its parity are one GSO run
 */
#ifndef SN_FEC_FRAME_H
#define SN_FEC_FRAME_H

#include <stdbool.h>
#include <stdint.h>

#define FEC_HDR_LEN 8u
#define FEC_OVERHEAD FEC_HDR_LEN /* the most a frame adds (a parity: to the longest) */
#define FEC_VERSION 2u
#define FEC_F_PARITY 0x1u
#define FEC_F_PLAIN 0x2u  /* no group: a peer the tables have no room for */
#define FEC_K_MIN 2u
#define FEC_K_MAX 32u

struct fec_hdr {
	uint8_t flags; /* 0 (data), FEC_F_PARITY or FEC_F_PLAIN */
	uint8_t k;
	uint8_t index;    /* a parity frame: k */
	uint32_t group;
	uint16_t len_xor; /* a parity frame: the covered datagrams' lengths XORed */
};

void fec_hdr_write(uint8_t out[FEC_HDR_LEN], const struct fec_hdr *h);

/* Parse the frame buf[0..len): 0 with *h filled when it is well formed
 * (the rules above; every frame carries at least one byte after its
 * header), else -EINVAL. */
int fec_frame_parse(const uint8_t *buf, uint32_t len, struct fec_hdr *h);

/*
 * One group's XOR so far, in buf (cap bytes, zero past len). The sender
 * adds each data frame's datagram; the receiver adds the data frames it
 * gets and the parity, and rebuilds the one missing datagram.
 */
struct fec_acc {
	uint8_t *buf;
	uint32_t cap;      /* bytes at buf: the longest datagram */
	uint32_t len;      /* the longest added so far (bytes of buf in use) */
	uint32_t group;
	uint32_t have;     /* receiver: bit i = data frame i added */
	uint64_t open_ns;  /* sender: when the first datagram was added */
	uint16_t len_xor;  /* the XOR of the added lengths (and the parity's) */
	uint8_t count;     /* sender: datagrams added; receiver: the parity's k (0: none yet) */
	uint8_t seen;      /* receiver: data frames added */
	uint8_t k;         /* sender: the group's size */
	bool used;         /* receiver: the slot holds a group */
	bool done;         /* receiver: complete or rebuilt: nothing more to do */
};

/* Empty it for group (zeroes what was in use). */
void fec_acc_reset(struct fec_acc *a, uint32_t group);

/* XOR d[0..len) into it (len <= cap) and len into len_xor. */
void fec_acc_add(struct fec_acc *a, const uint8_t *d, uint32_t len);

/* Receiver: add data frame index of the group (its datagram d[0..len)).
 * false when it is there already (a duplicate) or cannot be added. */
bool fec_acc_add_data(struct fec_acc *a, uint32_t index, const uint8_t *d, uint32_t len);

/* Receiver: add a parity covering k data frames, the XOR of their lengths
 * len_xor (its header's) and its body p[0..len). false when there is one
 * already or it does not fit. */
bool fec_acc_add_parity(struct fec_acc *a, uint32_t k, uint16_t len_xor, const uint8_t *p,
			uint32_t len);

/* Receiver: can exactly one datagram be rebuilt now (parity there, all but
 * one data frame)? Then its index and length (the length 0 or past the
 * parity's: an inconsistent group, -EINVAL) and its bytes at a->buf. */
int fec_acc_missing(const struct fec_acc *a, uint32_t *index, uint32_t *len);

/* Receiver: data frames missing from a group that had its parity (0 when
 * no parity came: nothing is known). */
uint32_t fec_acc_lost(const struct fec_acc *a);

/* Sender: write the parity body of a (a->len bytes) to out; its header
 * carries a->len_xor. */
void fec_acc_parity(const struct fec_acc *a, uint8_t *out);

#endif
