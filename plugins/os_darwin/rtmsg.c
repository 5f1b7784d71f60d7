/* SPDX-License-Identifier: MIT */
/*
 * plugins/os_darwin/rtmsg.c: routing-socket messages, see rtmsg.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "darwin_sys.h"
#include "rtmsg.h"

_Static_assert(SN_RTMSG_MAX == sizeof(struct rt_msghdr) + 2 * sizeof(struct sockaddr_in) +
				   sizeof(struct sockaddr_dl),
	       "SN_RTMSG_MAX fits the largest message (all sockaddrs are 4-byte multiples)");

static uint32_t prefix_mask(uint8_t len)
{
	return len == 0 ? 0 : 0xffffffffu << (32 - len);
}

/* Routing-socket addresses are packed at 4-byte boundaries on Darwin. */
static size_t roundup4(size_t n)
{
	return n ? (n + 3) & ~(size_t)3 : 4;
}

static void put(uint8_t *buf, size_t *at, const void *sa, size_t len)
{
	memcpy(buf + *at, sa, len);
	memset(buf + *at + len, 0, roundup4(len) - len);
	*at += roundup4(len);
}

/* addr in host order into a sockaddr_in, its address in network order */
static void put_inet(uint8_t *buf, size_t *at, uint32_t addr)
{
	struct sockaddr_in sin;
	const uint8_t be[4] = {(uint8_t)(addr >> 24), (uint8_t)(addr >> 16), (uint8_t)(addr >> 8),
			       (uint8_t)addr};

	memset(&sin, 0, sizeof(sin));
	sin.sin_len = sizeof(sin);
	sin.sin_family = AF_INET;
	memcpy(&sin.sin_addr, be, sizeof(be));
	put(buf, at, &sin, sizeof(sin));
}

static void put_link(uint8_t *buf, size_t *at, const struct sn_rt_dev *dev)
{
	struct sockaddr_dl sdl;
	size_t nlen = dev->name ? strlen(dev->name) : 0;

	memset(&sdl, 0, sizeof(sdl));
	sdl.sdl_len = sizeof(sdl);
	sdl.sdl_family = AF_LINK;
	sdl.sdl_index = dev->index;
	if (nlen <= sizeof(sdl.sdl_data)) {
		sdl.sdl_nlen = (uint8_t)nlen;
		memcpy(sdl.sdl_data, dev->name, nlen);
	}
	put(buf, at, &sdl, sizeof(sdl));
}

int sn_darwin_rtmsg(void *buf, size_t cap, int type, int seq, const struct sn_rt_dev *dev,
		    uint32_t addr, uint8_t len)
{
	struct rt_msghdr h;
	uint8_t *out = buf;
	bool host = len == 32;
	size_t at = sizeof(h);

	if (len > 32 || (addr & ~prefix_mask(len)) != 0 || (type != RTM_ADD && type != RTM_DELETE))
		return -EINVAL;
	if (cap < sizeof(h) + roundup4(sizeof(struct sockaddr_in)) * (host ? 1 : 2) +
			  roundup4(sizeof(struct sockaddr_dl)))
		return -ENOSPC;
	put_inet(out, &at, addr);
	put_link(out, &at, dev);
	if (!host)
		put_inet(out, &at, prefix_mask(len));
	memset(&h, 0, sizeof(h));
	h.rtm_msglen = (uint16_t)at;
	h.rtm_version = RTM_VERSION;
	h.rtm_type = (uint8_t)type;
	h.rtm_index = dev->index;
	h.rtm_flags = RTF_UP | RTF_STATIC | (host ? RTF_HOST : 0);
	h.rtm_addrs = RTA_DST | RTA_GATEWAY | (host ? 0 : RTA_NETMASK);
	h.rtm_seq = seq;
	memcpy(out, &h, sizeof(h));
	return (int)at;
}
