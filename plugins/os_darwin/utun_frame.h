/* SPDX-License-Identifier: MIT */
/*
 * plugins/os_darwin/utun_frame.h: the framing of packets on a utun control
 * socket. Every packet read or written carries a 4-byte protocol family in
 * network byte order in front (AF_INET = 2, AF_INET6 = 30: Darwin's
 * values), which os_darwin keeps in the headroom it declares. Pure
 * functions on packets, unit-tested on Linux (tests/test_os_darwin.c).
 */
#ifndef SN_UTUN_FRAME_H
#define SN_UTUN_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "subnetra/packet.h"

#define SN_UTUN_HDR_LEN 4u

/* The Darwin family of an IP packet by its version nibble: AF_INET,
 * AF_INET6, or 0 when it is neither (or empty). */
uint32_t sn_utun_family(const uint8_t *ip, uint32_t len);

/* Push the family header in front of the IP packet p. 0, -ENOSPC when p
 * has less than SN_UTUN_HDR_LEN of headroom, -EPROTONOSUPPORT when p is
 * not IPv4 or IPv6 (p unchanged in both cases). */
int sn_utun_encap(struct sn_pkt *p);

/* The datagram read into p is got bytes, the family header included, read
 * from p's data minus SN_UTUN_HDR_LEN. Sets p->len to the IP packet's
 * length and *family to the header's family, and returns 0; -EMSGSIZE
 * when the datagram filled more than p's room (it was cut short: read with
 * one spare byte behind the room to tell), -EBADMSG when it is shorter
 * than the header, -EINVAL when p has no headroom for the header. */
int sn_utun_decap(struct sn_pkt *p, size_t got, uint32_t *family);

#endif
