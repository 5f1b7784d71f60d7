/* SPDX-License-Identifier: MIT */
/*
 * plugins/egress_raw_direct/io_msg.h: the state of the portable I/O
 * (io_msg.c): none, every call works on the stack. Included by
 * raw_direct.h only.
 */
#ifndef SN_RAW_IO_MSG_H
#define SN_RAW_IO_MSG_H

#define RAW_IO_DESCRIPTION "IPv4 UDP underlay, one socket, one recvmsg/sendmsg per datagram"
#define RAW_IO_FLAGS 0u /* no runs: every entry is one datagram */

struct raw_io {
	uint8_t unused; /* C has no empty structs */
};

#endif
