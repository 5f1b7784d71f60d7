/* SPDX-License-Identifier: MIT */
/*
 * tests/test_os_darwin.c: the parts of os_darwin that need no macOS kernel,
 * run on any OS: the utun framing (plugins/os_darwin/utun_frame.c) and the
 * PF_ROUTE messages (plugins/os_darwin/rtmsg.c). Off macOS they are built
 * against tests/darwin/layouts.h, copies of Apple's layouts that
 * plugins/os_darwin/darwin_sys.h pins to the sizes and offsets of Apple's
 * own headers.
 *
 * The expected routing messages are spelled out byte by byte: the header
 * fields are in host byte order, which is little-endian on both macOS
 * architectures (arm64, x86_64) as on the machines this runs on.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "darwin_sys.h"
#include "rtmsg.h"
#include "utun_frame.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "the expected routing messages below are little-endian, as every Mac is");

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- utun framing ---------------------------------------------------------- */

struct frame_fx {
	uint8_t buf[64];
	struct sn_pkt p;
};

/* A packet of len bytes starting with first at offset off of a 64-byte buffer. */
static void packet(struct frame_fx *f, uint32_t off, uint32_t len, uint8_t first)
{
	memset(f, 0, sizeof(*f));
	memset(f->buf, 0xee, sizeof(f->buf));
	f->p.buf = f->buf;
	f->p.cap = sizeof(f->buf);
	f->p.off = off;
	f->p.len = len;
	if (len)
		f->buf[off] = first;
}

static void test_utun_encap_puts_family_in_network_order(void **state)
{
	static const struct { uint8_t first; uint8_t hdr[4]; } cases[] = {
		{0x45, {0, 0, 0, 2}},    /* IPv4: AF_INET */
		{0x4f, {0, 0, 0, 2}},    /* IPv4 with options */
		{0x60, {0, 0, 0, 30}},   /* IPv6: Darwin's AF_INET6 */
	};
	struct frame_fx f;

	for (size_t i = 0; i < N(cases); i++) {
		packet(&f, 8, 20, cases[i].first);
		assert_int_equal(sn_utun_encap(&f.p), 0);
		assert_int_equal(f.p.off, 4);
		assert_int_equal(f.p.len, 24);
		assert_memory_equal(f.buf + 4, cases[i].hdr, 4);
		assert_int_equal(f.buf[8], cases[i].first);
	}
}

static void test_utun_encap_refuses_and_leaves_packet(void **state)
{
	static const struct { uint32_t off, len; uint8_t first; int rc; } cases[] = {
		{3, 20, 0x45, -ENOSPC},          /* headroom smaller than the header */
		{0, 20, 0x45, -ENOSPC},
		{8, 20, 0x00, -EPROTONOSUPPORT}, /* version 0: not IP */
		{8, 20, 0x55, -EPROTONOSUPPORT}, /* version 5 */
		{8, 0, 0x45, -EPROTONOSUPPORT},  /* empty */
	};
	struct frame_fx f;

	for (size_t i = 0; i < N(cases); i++) {
		packet(&f, cases[i].off, cases[i].len, cases[i].first);
		assert_int_equal(sn_utun_encap(&f.p), cases[i].rc);
		assert_int_equal(f.p.off, cases[i].off);
		assert_int_equal(f.p.len, cases[i].len);
	}
}

/* A datagram of got bytes read at data - 4 of a packet with off 4 and
 * room 60 (cap 64): the header is taken apart, the rest is the packet. */
static void test_utun_decap_table(void **state)
{
	static const struct {
		const char *what;
		uint32_t off;
		size_t got;
		uint8_t hdr[4];
		int rc;
		uint32_t len, family;
	} cases[] = {
		{"IPv4", 4, 24, {0, 0, 0, 2}, 0, 20, 2},
		{"IPv6", 4, 44, {0, 0, 0, 30}, 0, 40, 30},
		{"header only", 4, 4, {0, 0, 0, 2}, 0, 0, 2},
		{"exactly the room", 4, 64, {0, 0, 0, 2}, 0, 60, 2},
		{"family in network order", 4, 24, {0x01, 0x02, 0x03, 0x04}, 0, 20, 0x01020304},
		{"one byte over the room", 4, 65, {0, 0, 0, 2}, -EMSGSIZE, 0, 0},
		{"short of the header", 4, 3, {0, 0, 0, 2}, -EBADMSG, 0, 0},
		{"nothing", 4, 0, {0, 0, 0, 2}, -EBADMSG, 0, 0},
		{"no headroom", 2, 24, {0, 0, 0, 2}, -EINVAL, 0, 0},
	};
	struct frame_fx f;

	for (size_t i = 0; i < N(cases); i++) {
		uint32_t fam = 0xdead;

		packet(&f, cases[i].off, 0, 0);
		if (cases[i].off >= 4)
			memcpy(f.buf + cases[i].off - 4, cases[i].hdr, 4);
		print_message("%s\n", cases[i].what);
		assert_int_equal(sn_utun_decap(&f.p, cases[i].got, &fam), cases[i].rc);
		if (cases[i].rc) {
			assert_int_equal(f.p.len, 0);
			assert_int_equal(fam, 0xdead);
			continue;
		}
		assert_int_equal(f.p.len, cases[i].len);
		assert_int_equal(f.p.off, cases[i].off);
		assert_int_equal(fam, cases[i].family);
	}
}

/* What encap writes, decap reads back: the same bytes, the same family. */
static void test_utun_encap_decap_roundtrip(void **state)
{
	struct frame_fx f;
	uint32_t fam;

	packet(&f, 4, 28, 0x45);
	for (uint32_t i = 1; i < 28; i++)
		f.buf[4 + i] = (uint8_t)i;
	assert_int_equal(sn_utun_encap(&f.p), 0);
	/* as a read of the whole frame back into the original packet would */
	f.p.off = 4;
	f.p.len = 0;
	assert_int_equal(sn_utun_decap(&f.p, 32, &fam), 0);
	assert_int_equal(fam, AF_INET);
	assert_int_equal(f.p.len, 28);
	assert_int_equal(f.buf[4], 0x45);
	for (uint32_t i = 1; i < 28; i++)
		assert_int_equal(f.buf[4 + i], i);
}

/* ---- routing messages ---------------------------------------------------- */

#define Z4 0, 0, 0, 0
#define Z8 Z4, Z4
#define RMX Z8, Z8, Z8, Z8, Z8, Z8, Z8 /* struct rt_metrics: 56 bytes of zeros */

/* RTM_ADD 10.1.0.0/16 via utun3 (index 7), seq 9 */
static const uint8_t ADD_NET[] = {
	0x90, 0x00,             /* rtm_msglen 144 */
	5, 1,                   /* RTM_VERSION, RTM_ADD */
	7, 0,                   /* rtm_index */
	0, 0,                   /* padding */
	0x01, 0x08, 0, 0,       /* rtm_flags RTF_UP | RTF_STATIC */
	0x07, 0, 0, 0,          /* rtm_addrs DST | GATEWAY | NETMASK */
	Z4,                     /* rtm_pid: the kernel's to fill */
	9, 0, 0, 0,             /* rtm_seq */
	Z4, Z4, Z4,             /* rtm_errno, rtm_use, rtm_inits */
	RMX,
	/* RTA_DST: sockaddr_in 10.1.0.0 */
	16, 2, 0, 0, 10, 1, 0, 0, Z8,
	/* RTA_GATEWAY: sockaddr_dl, index 7, name "utun3" */
	20, 18, 7, 0, 0, 5, 0, 0, 'u', 't', 'u', 'n', '3', 0, 0, 0, Z4,
	/* RTA_NETMASK: sockaddr_in 255.255.0.0 */
	16, 2, 0, 0, 255, 255, 0, 0, Z8,
};

/* RTM_DELETE 10.0.0.2/32 via utun12 (index 300), seq 70000: a host
 * route, no netmask */
static const uint8_t DEL_HOST[] = {
	0x80, 0x00,             /* rtm_msglen 128 */
	5, 2,                   /* RTM_VERSION, RTM_DELETE */
	0x2c, 0x01,             /* rtm_index 300 */
	0, 0,
	0x05, 0x08, 0, 0,       /* RTF_UP | RTF_HOST | RTF_STATIC */
	0x03, 0, 0, 0,          /* DST | GATEWAY */
	Z4,
	0x70, 0x11, 0x01, 0,    /* rtm_seq 70000 */
	Z4, Z4, Z4,
	RMX,
	16, 2, 0, 0, 10, 0, 0, 2, Z8,
	20, 18, 0x2c, 0x01, 0, 6, 0, 0, 'u', 't', 'u', 'n', '1', '2', 0, 0, Z4,
};

static void test_rtmsg_add_network_route_bytes(void **state)
{
	const struct sn_rt_dev dev = {7, "utun3"};
	uint8_t buf[SN_RTMSG_MAX + 8];

	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(sn_darwin_rtmsg(buf, sizeof(buf), RTM_ADD, 9, &dev, 0x0a010000, 16),
			 sizeof(ADD_NET));
	assert_memory_equal(buf, ADD_NET, sizeof(ADD_NET));
	assert_int_equal(buf[sizeof(ADD_NET)], 0xee); /* nothing written past the end */
}

static void test_rtmsg_delete_host_route_bytes(void **state)
{
	const struct sn_rt_dev dev = {300, "utun12"};
	uint8_t buf[SN_RTMSG_MAX];

	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(sn_darwin_rtmsg(buf, sizeof(buf), RTM_DELETE, 70000, &dev, 0x0a000002, 32),
			 sizeof(DEL_HOST));
	assert_memory_equal(buf, DEL_HOST, sizeof(DEL_HOST));
}

/* The same through the struct definitions, for the prefix lengths between. */
static void test_rtmsg_fields_by_prefix_length(void **state)
{
	static const struct { uint32_t addr; uint8_t len; uint8_t mask[4]; } cases[] = {
		{0x00000000, 0, {0, 0, 0, 0}},
		{0xc0a80000, 17, {255, 255, 128, 0}},
		{0xc0a80100, 24, {255, 255, 255, 0}},
		{0xc0a80102, 31, {255, 255, 255, 254}},
	};
	const struct sn_rt_dev dev = {4, "utun0"};
	uint8_t buf[SN_RTMSG_MAX];

	for (size_t i = 0; i < N(cases); i++) {
		struct rt_msghdr h;
		struct sockaddr_in dst, mask;
		struct sockaddr_dl sdl;
		const uint8_t *a = buf + sizeof(h);
		uint8_t be[4] = {(uint8_t)(cases[i].addr >> 24), (uint8_t)(cases[i].addr >> 16),
				 (uint8_t)(cases[i].addr >> 8), (uint8_t)cases[i].addr};

		assert_int_equal(sn_darwin_rtmsg(buf, sizeof(buf), RTM_ADD, (int)i, &dev,
						 cases[i].addr, cases[i].len), 144);
		memcpy(&h, buf, sizeof(h));
		memcpy(&dst, a, sizeof(dst));
		memcpy(&sdl, a + 16, sizeof(sdl));
		memcpy(&mask, a + 36, sizeof(mask));
		assert_int_equal(h.rtm_msglen, 144);
		assert_int_equal(h.rtm_flags, RTF_UP | RTF_STATIC);
		assert_int_equal(h.rtm_addrs, RTA_DST | RTA_GATEWAY | RTA_NETMASK);
		assert_int_equal(h.rtm_seq, (int)i);
		assert_int_equal(dst.sin_len, 16);
		assert_int_equal(dst.sin_family, AF_INET);
		assert_memory_equal(&dst.sin_addr, be, 4);
		assert_int_equal(sdl.sdl_family, AF_LINK);
		assert_int_equal(sdl.sdl_index, 4);
		assert_int_equal(mask.sin_family, AF_INET);
		assert_memory_equal(&mask.sin_addr, cases[i].mask, 4);
	}
}

/* A name longer than sdl_data is left out; the index still names the device. */
static void test_rtmsg_long_name_left_out(void **state)
{
	const struct sn_rt_dev dev = {9, "utun-very-long"};
	uint8_t buf[SN_RTMSG_MAX];
	struct sockaddr_dl sdl;

	assert_int_equal(sn_darwin_rtmsg(buf, sizeof(buf), RTM_ADD, 1, &dev, 0x0a000000, 8), 144);
	memcpy(&sdl, buf + sizeof(struct rt_msghdr) + 16, sizeof(sdl));
	assert_int_equal(sdl.sdl_len, 20);
	assert_int_equal(sdl.sdl_index, 9);
	assert_int_equal(sdl.sdl_nlen, 0);
	for (size_t i = 0; i < sizeof(sdl.sdl_data); i++)
		assert_int_equal(sdl.sdl_data[i], 0);
}

static void test_rtmsg_refusals(void **state)
{
	static const struct { int type; uint32_t addr; uint8_t len; size_t cap; int rc; } cases[] = {
		{RTM_ADD, 0x0a010100, 16, SN_RTMSG_MAX, -EINVAL},   /* host bits set */
		{RTM_ADD, 0x0a000000, 33, SN_RTMSG_MAX, -EINVAL},   /* no such length */
		{3, 0x0a000000, 8, SN_RTMSG_MAX, -EINVAL},          /* RTM_CHANGE: not ours */
		{RTM_ADD, 0x0a000000, 8, SN_RTMSG_MAX - 1, -ENOSPC},
		{RTM_ADD, 0x0a000001, 32, 127, -ENOSPC},
		{RTM_ADD, 0x0a000001, 32, 128, 128},                /* a host route fits in less */
	};
	const struct sn_rt_dev dev = {2, "utun1"};
	uint8_t buf[SN_RTMSG_MAX];

	for (size_t i = 0; i < N(cases); i++)
		assert_int_equal(sn_darwin_rtmsg(buf, cases[i].cap, cases[i].type, 1, &dev,
						 cases[i].addr, cases[i].len), cases[i].rc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utun_encap_puts_family_in_network_order),
		cmocka_unit_test(test_utun_encap_refuses_and_leaves_packet),
		cmocka_unit_test(test_utun_decap_table),
		cmocka_unit_test(test_utun_encap_decap_roundtrip),
		cmocka_unit_test(test_rtmsg_add_network_route_bytes),
		cmocka_unit_test(test_rtmsg_delete_host_route_bytes),
		cmocka_unit_test(test_rtmsg_fields_by_prefix_length),
		cmocka_unit_test(test_rtmsg_long_name_left_out),
		cmocka_unit_test(test_rtmsg_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
