/* SPDX-License-Identifier: MIT */
/*
 * plugins/os_darwin/rtmsg.h: the PF_ROUTE messages os_darwin writes to add
 * and delete the routes through its utun device. A pure function,
 * unit-tested on Linux (tests/test_os_darwin.c).
 *
 * A message is a struct rt_msghdr followed by the sockaddrs its rtm_addrs
 * bits name, in bit order, each padded to a multiple of 4 bytes (Darwin's
 * routing socket rounds to sizeof(uint32_t), not to sizeof(long) as the
 * other BSDs do):
 *
 *   RTA_DST      sockaddr_in   the prefix's network address
 *   RTA_GATEWAY  sockaddr_dl   the interface (index and name), as
 *                              `route add -interface utunN` sends: no
 *                              RTF_GATEWAY, so the route is direct
 *   RTA_NETMASK  sockaddr_in   the prefix's mask; absent for a /32, which
 *                              is an RTF_HOST route instead
 */
#ifndef SN_RTMSG_H
#define SN_RTMSG_H

#include <stddef.h>
#include <stdint.h>

/* Room for the largest message: 92 + 16 + 20 + 16 bytes. */
#define SN_RTMSG_MAX 144u

/* The interface a route goes through. */
struct sn_rt_dev {
	uint16_t index;   /* if_nametoindex() of the device, > 0 */
	const char *name; /* "utun3"; left out of the message when longer than
			   * sockaddr_dl's 12 bytes of sdl_data (the index is
			   * what the kernel goes by) */
};

/*
 * Write the message of type (RTM_ADD or RTM_DELETE) with sequence number
 * seq for the IPv4 prefix addr/len (addr in host byte order) through dev
 * into buf. Returns its length (at most cap), -EINVAL for a prefix with
 * host bits or a length over 32 or a type that is neither, -ENOSPC when
 * cap is too small.
 */
int sn_darwin_rtmsg(void *buf, size_t cap, int type, int seq, const struct sn_rt_dev *dev,
		    uint32_t addr, uint8_t len);

#endif
