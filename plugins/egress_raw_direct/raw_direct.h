/* SPDX-License-Identifier: MIT */
/*
 * plugins/egress_raw_direct/raw_direct.h: what the parts of raw_direct
 * share. raw_direct.c is the plugin (options, the socket, its lifetime,
 * the descriptor) and is the same on every platform; the datagram I/O is
 * one of two files, chosen by CMake from what the platform has:
 *
 *   io_mmsg.c  recvmmsg()/sendmmsg() batches, UDP GSO (UDP_SEGMENT) and GRO
 *              (UDP_GRO), the kernel's overflow count (SO_RXQ_OVFL) and
 *              arrival times (SO_TIMESTAMPNS): Linux
 *   io_msg.c   one recvmsg()/sendmsg() per datagram: everywhere else
 *              (macOS)
 *
 * Both answer each peer from the local address it sent to when the socket
 * listens on 0.0.0.0 (IP_PKTINFO where the platform has it; struct
 * sn_pkt.local, subnetra/packet.h, "Local addresses").
 *
 * Each I/O file keeps its own state in struct raw_io (io_mmsg.h, io_msg.h),
 * says in RAW_IO_FLAGS whether it takes runs, and implements the
 * sn__raw_io_* calls below.
 */
#ifndef SN_RAW_DIRECT_H
#define SN_RAW_DIRECT_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "subnetra/sdk.h"

#define NAME "raw_direct"
#define BATCH SN_BATCH         /* the host's batch budget (subnetra/packet.h) */

/* The local address of each datagram (IP_PKTINFO): the room its cmsg
 * takes, on receive and on send. */
#ifdef IP_PKTINFO
#define RAW_PKTINFO_SPACE CMSG_SPACE(sizeof(struct in_pktinfo))
#else
#define RAW_PKTINFO_SPACE 0
#endif

enum { GSO_UNSET = 0, GSO_ON = 1, GSO_OFF = 2 };

/* Socket buffer sizes in bytes (0 = unset), offloads. */
struct settings {
	uint32_t rcv;
	uint32_t snd;
	uint32_t gso; /* GSO_UNSET, GSO_ON, GSO_OFF */
	uint32_t gro; /* likewise */
};

#if defined(SN_RAW_IO_MMSG)
#include "io_mmsg.h"
#elif defined(SN_RAW_IO_MSG)
#include "io_msg.h"
#else
#error "build raw_direct with its CMakeLists.txt, which picks SN_RAW_IO_MMSG or SN_RAW_IO_MSG"
#endif

struct raw {
	struct sn_host *host;
	const struct sn_host_api *api;
	int fd;              /* -1 before open() */
	struct settings opt; /* from the plugin options */
	struct settings arg; /* from open() */
	bool pktinfo;        /* bound to 0.0.0.0 with IP_PKTINFO on: local addresses known */
	struct raw_io io;    /* the I/O file's own */
};

/* ---- the I/O file's calls (io_mmsg.c or io_msg.c) ---- */

/* Socket options the I/O needs, set once before bind(); best effort. */
void sn__raw_io_setup(struct raw *r);
/* Apply r->opt.gso and .gro (at open and on every reconfigure). */
void sn__raw_io_apply(struct raw *r);
/* Release what the I/O acquired (destroy; the socket is closed after). */
void sn__raw_io_close(struct raw *r);
/* The egress recv_batch and send_batch (sdk/include/subnetra/egress.h) on
 * an open socket, with 0 < n <= BATCH for recv and 0 < n <= INT32_MAX for
 * send. */
int sn__raw_io_recv(struct raw *r, struct sn_pkt **pkts, uint32_t n);
int sn__raw_io_send(struct raw *r, struct sn_pkt *const *pkts, uint32_t n);

/* ---- shared by both I/O files (raw_direct.c) ---- */

/* A receive error: 0 when it is nothing (EAGAIN, EINTR) or was transient
 * and has been counted rx_error, else the negative errno to pass up. */
int sn__raw_rx_error(struct raw *r, int e);
/* A datagram from sa larger than room: counted rx_error. */
void sn__raw_drop_truncated(struct raw *r, const struct sockaddr_in *sa, uint32_t room);
/* The kernel refused p for good (error e): counted tx_error, released. */
void sn__raw_tx_drop(struct raw *r, struct sn_pkt *p, int e);
/* The socket buffer is full: stop and let the host retry. */
bool sn__raw_blocked(int e);

/* Per packet, so inline. */
static inline bool sn__raw_to_sockaddr(const struct sn_addr *a, struct sockaddr_in *sa)
{
	if (a->family != SN_AF_INET)
		return false;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(a->port);
	memcpy(&sa->sin_addr, a->ip, 4);
	return true;
}

static inline void sn__raw_from_sockaddr(struct sn_addr *a, const struct sockaddr_in *sa)
{
	memset(a, 0, sizeof(*a));
	a->family = SN_AF_INET;
	a->port = ntohs(sa->sin_port);
	memcpy(a->ip, &sa->sin_addr, 4);
}

/* An IP_PKTINFO cmsg into local (port 0); false when c is another one. */
static inline bool sn__raw_pktinfo_read(const struct cmsghdr *c, struct sn_addr *local)
{
#ifdef IP_PKTINFO
	struct in_pktinfo pi;

	if (c->cmsg_level != IPPROTO_IP || c->cmsg_type != IP_PKTINFO)
		return false;
	memcpy(&pi, CMSG_DATA(c), sizeof(pi));
	memset(local, 0, sizeof(*local));
	local->family = SN_AF_INET;
	memcpy(local->ip, &pi.ipi_addr, 4); /* the address the datagram was sent to */
	return true;
#else
	return false;
#endif
}

/* Write an IP_PKTINFO cmsg at c that sends from local; returns the bytes
 * it takes (0: none, local is NONE or the platform has no IP_PKTINFO). */
static inline size_t sn__raw_pktinfo_put(struct cmsghdr *c, const struct sn_addr *local)
{
#ifdef IP_PKTINFO
	struct in_pktinfo pi;

	if (local->family != SN_AF_INET)
		return 0;
	memset(&pi, 0, sizeof(pi));
	memcpy(&pi.ipi_spec_dst, local->ip, 4); /* the source; ifindex 0: by route */
	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(pi));
	memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	return CMSG_SPACE(sizeof(pi));
#else
	return 0;
#endif
}

/* A send from a local address the kernel refuses (it is no longer the
 * host's): the entry goes again with the source the OS picks. */
static inline bool sn__raw_source_refused(int e)
{
	return e == EINVAL || e == EADDRNOTAVAIL;
}

/* Same local address (family and IPv4 address). */
static inline bool sn__raw_same_local(const struct sn_addr *a, const struct sn_addr *b)
{
	return a->family == b->family && (a->family != SN_AF_INET || !memcmp(a->ip, b->ip, 4));
}

static inline uint32_t sn__raw_room(const struct sn_pkt *p)
{
	return p->cap > p->off ? p->cap - p->off : 0;
}

#endif
