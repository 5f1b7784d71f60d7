/* SPDX-License-Identifier: MIT */
/*
 * tests/darwin/layouts.h: copies of the macOS structures and constants
 * that plugins/os_darwin/utun_frame.c and rtmsg.c use, so that
 * tests/test_os_darwin.c can build and run them on Linux
 * (SN_DARWIN_LAYOUTS, see plugins/os_darwin/darwin_sys.h). Each block
 * names the Apple SDK header it is copied from; the types are spelled
 * with <stdint.h> widths (u_char = uint8_t, u_short = uint16_t, int and
 * pid_t = int32_t on both macOS ABIs). darwin_sys.h asserts the sizes and
 * offsets, and the macOS cross build asserts the same of Apple's own
 * headers, so the two cannot drift apart unnoticed.
 *
 * Nothing here may meet the host's <sys/socket.h> or <netinet/in.h>: the
 * test includes neither.
 */
#ifndef SN_TEST_DARWIN_LAYOUTS_H
#define SN_TEST_DARWIN_LAYOUTS_H

#include <stdint.h>

/* <sys/socket.h> */
#define AF_INET 2
#define AF_LINK 18
#define AF_INET6 30

/* <netinet/in.h> */
struct in_addr {
	uint32_t s_addr;        /* network byte order */
};

struct sockaddr_in {
	uint8_t sin_len;
	uint8_t sin_family;     /* sa_family_t */
	uint16_t sin_port;      /* in_port_t */
	struct in_addr sin_addr;
	char sin_zero[8];
};

/* <net/if_dl.h> */
struct sockaddr_dl {
	uint8_t sdl_len;        /* total length of sockaddr */
	uint8_t sdl_family;     /* AF_LINK */
	uint16_t sdl_index;     /* if != 0, system given index for interface */
	uint8_t sdl_type;       /* interface type */
	uint8_t sdl_nlen;       /* interface name length, no trailing 0 reqd. */
	uint8_t sdl_alen;       /* link level address length */
	uint8_t sdl_slen;       /* link layer selector length */
	char sdl_data[12];      /* minimum work area: if name and ll address */
};

/* <net/route.h> */
struct rt_metrics {
	uint32_t rmx_locks;
	uint32_t rmx_mtu;
	uint32_t rmx_hopcount;
	int32_t rmx_expire;
	uint32_t rmx_recvpipe;
	uint32_t rmx_sendpipe;
	uint32_t rmx_ssthresh;
	uint32_t rmx_rtt;
	uint32_t rmx_rttvar;
	uint32_t rmx_pksent;
	uint32_t rmx_state;
	uint32_t rmx_filler[3];
};

struct rt_msghdr {
	uint16_t rtm_msglen;    /* to skip over non-understood messages */
	uint8_t rtm_version;    /* future binary compatibility */
	uint8_t rtm_type;       /* message type */
	uint16_t rtm_index;     /* index for associated ifp */
	int32_t rtm_flags;      /* flags, incl. kern & message, e.g. DONE */
	int32_t rtm_addrs;      /* bitmask identifying sockaddrs in msg */
	int32_t rtm_pid;        /* identify sender */
	int32_t rtm_seq;        /* for sender to identify action */
	int32_t rtm_errno;      /* why failed */
	int32_t rtm_use;        /* from rtentry */
	uint32_t rtm_inits;     /* which metrics we are initializing */
	struct rt_metrics rtm_rmx;
};

#define RTM_VERSION 5
#define RTM_ADD 0x1
#define RTM_DELETE 0x2
#define RTF_UP 0x1
#define RTF_GATEWAY 0x2
#define RTF_HOST 0x4
#define RTF_STATIC 0x800
#define RTA_DST 0x1
#define RTA_GATEWAY 0x2
#define RTA_NETMASK 0x4

#endif
