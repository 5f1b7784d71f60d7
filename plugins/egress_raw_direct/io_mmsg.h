/* SPDX-License-Identifier: MIT */
/*
 * plugins/egress_raw_direct/io_mmsg.h: the state of the batched Linux I/O
 * (io_mmsg.c). Included by raw_direct.h only.
 */
#ifndef SN_RAW_IO_MMSG_H
#define SN_RAW_IO_MMSG_H

#include <sys/uio.h>

#define RAW_IO_DESCRIPTION "IPv4 UDP underlay, one socket, recvmmsg/sendmmsg batches"

struct raw_io {
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in sa[BATCH];
	/* SO_RXQ_OVFL: the kernel's running count of datagrams it dropped
	 * because the receive buffer was full, carried on received messages */
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(uint32_t))];
	} ctl[BATCH];
	uint32_t ovfl_seen; /* last count reported to the host */
	/* UDP GSO on send: one message carries a run of datagrams of the same
	 * size to the same address, and the kernel cuts it (UDP_SEGMENT) */
	bool gso;
	uint8_t segs[BATCH]; /* datagrams in each prepared message */
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(uint16_t))];
	} txctl[BATCH];
};

#endif
