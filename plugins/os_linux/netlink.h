/* SPDX-License-Identifier: MIT */
/*
 * os_linux/netlink.h: the few rtnetlink requests the backend needs (routes
 * through the TUN device), shared by linux.c and netlink.c only.
 */
#ifndef SN_OS_LINUX_NETLINK_H
#define SN_OS_LINUX_NETLINK_H

#include <stdint.h>

struct sn__nl {
	int fd;       /* NETLINK_ROUTE socket; -1 when closed */
	uint32_t seq; /* sequence number of the last request */
};

/* Open the socket (blocking, with a receive timeout so a lost reply
 * cannot hang the loop). 0 or a negative errno. */
int sn__nl_open(struct sn__nl *nl);
void sn__nl_close(struct sn__nl *nl);

/* RTM_NEWROUTE (create, exclusive) or RTM_DELROUTE of addr/len (host byte
 * order) in the main table through interface ifindex. Returns the kernel's
 * answer: 0, -EEXIST, -ESRCH, ... */
int sn__nl_route(struct sn__nl *nl, int type, int ifindex, uint32_t addr, uint8_t len);

#endif
