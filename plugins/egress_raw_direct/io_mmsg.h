/* SPDX-License-Identifier: MIT */
/*
 * plugins/egress_raw_direct/io_mmsg.h: the state of the batched Linux I/O
 * (io_mmsg.c). Included by raw_direct.h only.
 */
#ifndef SN_RAW_IO_MMSG_H
#define SN_RAW_IO_MMSG_H

#include <stdbool.h>
#include <sys/uio.h>
#include <time.h>

#define RAW_IO_DESCRIPTION "IPv4 UDP underlay, one socket, recvmmsg/sendmmsg batches, UDP GSO and GRO"
#define RAW_IO_FLAGS SN_EGRESS_F_GSO /* the host hands runs to UDP GSO */

#define SLOTS 16          /* GRO: messages per recvmmsg, each a train of up to 64 */
#define SLOT_SIZE 65536u  /* the largest UDP payload fits */
#define TX_IOV 256        /* entries one send prepares at most */

/* A message read with GRO: datagrams of seg bytes (the last may be
 * shorter) in len bytes, handed out from off on. */
struct slot {
	uint32_t len, off, seg;
	bool empty; /* an empty datagram, still to be handed up (the host counts it short) */
	uint64_t time_ns;
	struct sockaddr_in sa;
};

struct raw_io {
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in sa[BATCH];
	/* on received messages: SO_RXQ_OVFL (the kernel's running count of
	 * datagrams it dropped because the receive buffer was full), the
	 * arrival time (SO_TIMESTAMPNS), the train's segment size (UDP_GRO) */
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(uint32_t)) + CMSG_SPACE(sizeof(struct timespec)) +
			 CMSG_SPACE(sizeof(int))];
	} ctl[BATCH];
	uint32_t ovfl_seen; /* last count reported to the host */
	/* UDP GRO on receive: the slots and what they still hold */
	bool gro;
	uint8_t *slot_mem;  /* SLOTS * SLOT_SIZE bytes; NULL until GRO is first on */
	struct slot slot[SLOTS];
	uint32_t cur, filled; /* slot[cur..filled) hold datagrams not handed out */
	/* UDP GSO on send: one message carries a run (SN_PKT_F_RUN) and the
	 * kernel cuts it (UDP_SEGMENT) */
	bool gso;
	struct iovec txiov[TX_IOV];
	uint8_t segs[BATCH]; /* entries in each prepared message */
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(uint16_t))];
	} txctl[BATCH];
};

#endif
