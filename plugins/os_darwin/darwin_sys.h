/* SPDX-License-Identifier: MIT */
/*
 * plugins/os_darwin/darwin_sys.h: the macOS structures and constants the
 * kernel-free parts of os_darwin (utun_frame.c, rtmsg.c) are written
 * against. On macOS they come from Apple's headers; a unit test on another
 * OS defines SN_DARWIN_LAYOUTS to a header of its own with copies of them
 * (tests/darwin/layouts.h). The asserts below pin the layouts both must
 * have, so that the macOS build (scripts/macos-cross.sh compiles this
 * against Apple's headers) fails the day the copies and Apple's disagree.
 */
#ifndef SN_DARWIN_SYS_H
#define SN_DARWIN_SYS_H

#include <stddef.h>

#ifdef SN_DARWIN_LAYOUTS
#include SN_DARWIN_LAYOUTS
#else
#include <sys/types.h>
#include <sys/socket.h>
#include <net/if.h>
#include <net/if_dl.h>
#include <net/route.h>
#include <netinet/in.h>
#endif

/* <sys/socket.h> */
_Static_assert(AF_INET == 2 && AF_LINK == 18 && AF_INET6 == 30, "Darwin address families");

/* <netinet/in.h>: BSD sockaddrs start with their length */
_Static_assert(sizeof(struct sockaddr_in) == 16, "sockaddr_in size");
_Static_assert(offsetof(struct sockaddr_in, sin_len) == 0 &&
	       offsetof(struct sockaddr_in, sin_family) == 1 &&
	       offsetof(struct sockaddr_in, sin_port) == 2 &&
	       offsetof(struct sockaddr_in, sin_addr) == 4, "sockaddr_in layout");

/* <net/if_dl.h> */
_Static_assert(sizeof(struct sockaddr_dl) == 20, "sockaddr_dl size");
_Static_assert(offsetof(struct sockaddr_dl, sdl_index) == 2 &&
	       offsetof(struct sockaddr_dl, sdl_type) == 4 &&
	       offsetof(struct sockaddr_dl, sdl_nlen) == 5 &&
	       offsetof(struct sockaddr_dl, sdl_data) == 8, "sockaddr_dl layout");

/* <net/route.h> */
_Static_assert(sizeof(struct rt_msghdr) == 92, "rt_msghdr size");
_Static_assert(offsetof(struct rt_msghdr, rtm_version) == 2 &&
	       offsetof(struct rt_msghdr, rtm_type) == 3 &&
	       offsetof(struct rt_msghdr, rtm_index) == 4 &&
	       offsetof(struct rt_msghdr, rtm_flags) == 8 &&
	       offsetof(struct rt_msghdr, rtm_addrs) == 12 &&
	       offsetof(struct rt_msghdr, rtm_seq) == 20 &&
	       offsetof(struct rt_msghdr, rtm_rmx) == 36, "rt_msghdr layout");
_Static_assert(RTM_VERSION == 5 && RTM_ADD == 1 && RTM_DELETE == 2, "routing message types");
_Static_assert(RTF_UP == 0x1 && RTF_GATEWAY == 0x2 && RTF_HOST == 0x4 && RTF_STATIC == 0x800,
	       "route flags");
_Static_assert(RTA_DST == 0x1 && RTA_GATEWAY == 0x2 && RTA_NETMASK == 0x4, "route address bits");

#endif
