/* SPDX-License-Identifier: MIT */
/*
 * plugins/os_linux/tun_io.c: packets through the TUN device.
 *
 * Plain (IFF_TUN | IFF_NO_PI): every read and write is one IPv4 packet.
 *
 * With offloads (IFF_VNET_HDR and TUNSETOFFLOAD, linux.c): every read and
 * write starts with a virtio_net_hdr (vnet.h). A read may return a TCP or
 * UDP super-packet of up to 64 KiB, or a packet whose checksum is partial;
 * the header says which, and vnet.h turns that into SN_PKT_F_GSO /
 * SN_PKT_F_CSUM for the host, which cuts and completes (core/gso.c). Each
 * read goes into a normal lent packet first and, past its room, into the
 * tail of a big one: a small packet costs no copy, a super-packet one copy
 * of the normal packet's room to the front of the big one, which then
 * takes the normal packet's place in the batch. A write of a run (the
 * host's coalesced TCP segments, core/gro.c) is one writev() of the header
 * and every entry's data.
 */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal.h"
#include "vnet.h"

/* A packet longer than the room is cut short by the driver, which returns
 * either the whole length (older kernels) or just what it copied (newer
 * ones). Reading with one spare byte behind the room tells both apart from
 * a packet that exactly fits: more than room bytes means cut short. */
static void drop_too_big(struct lx *x, uint32_t rm)
{
	x->api->count(x->host, SN_CTR_DROP_TOO_BIG, 0, 1);
	x->api->log(x->host, SN_LOG_DEBUG,
		    NAME ": dropped a packet from %s larger than the %u bytes of packet room",
		    x->name, rm);
}

/* The read said to stop (0), to go on (1), or failed (-errno). */
static int read_result(ssize_t r)
{
	if (r > 0)
		return 1;
	if (r < 0 && errno == EINTR)
		return 1;
	if (r == 0 || errno == EAGAIN || errno == EWOULDBLOCK)
		return 0;
	return -errno;
}

static int read_plain(struct lx *x, struct sn_pkt **pkts, uint32_t n)
{
	uint8_t spare;
	struct iovec iov[2] = {{NULL, 0}, {&spare, 1}};
	uint32_t i = 0, rm;
	ssize_t r;
	int go;

	while (i < n) {
		rm = sn_pkt_room(pkts[i]);
		iov[0] = (struct iovec){sn_pkt_data(pkts[i]), rm};
		r = readv(x->fd, iov, 2);
		if ((go = read_result(r)) <= 0)
			return go < 0 && !i ? go : (int)i;
		if (r < 0)
			continue; /* EINTR */
		if ((size_t)r > rm) {
			drop_too_big(x, rm);
			continue;
		}
		pkts[i++]->len = (uint32_t)r;
	}
	return (int)i;
}

/* A header the host cannot take (a GSO type we never offered): dropped as
 * not ours, like any packet that is not IPv4. */
static void drop_unknown(struct lx *x, const uint8_t h[static VNET_HDR_LEN])
{
	x->api->count(x->host, SN_CTR_DROP_NO_ROUTE, 0, 1);
	x->api->log(x->host, SN_LOG_DEBUG, NAME ": dropped a packet from %s with GSO type %u",
		    x->name, h[1]);
}

/* Fill q (len bytes, after header h) with what h says; false if the host
 * cannot take it. */
static bool take_header(struct lx *x, const uint8_t h[static VNET_HDR_LEN], struct sn_pkt *q,
			uint32_t len)
{
	struct sn_pkt t = { 0 };

	if (sn__vnet_to_pkt(h, &t) < 0) {
		drop_unknown(x, h);
		return false;
	}
	q->len = len;
	q->flags |= t.flags;
	q->gso_size = t.gso_size;
	q->csum_start = t.csum_start;
	q->csum_offset = t.csum_offset;
	return true;
}

/* pkts[0..nn) are normal packets, pkts[nn..n) big ones. Each read goes into
 * the next normal packet and on into the next big one; once the big ones
 * are used up the batch ends, since the next read may be a super-packet
 * (with none lent at all, one is cut short and counted too_big). */
static int read_vnet(struct lx *x, struct sn_pkt **pkts, uint32_t n)
{
	uint8_t h[VNET_HDR_LEN], spare;
	uint32_t nn = n, k = 0, b, rm, len;
	struct iovec iov[3];
	struct sn_pkt *p, *big;
	ssize_t r;
	int go;

	while (nn > 0 && sn_pkt_room(pkts[nn - 1]) >= SN_PKT_BIG_ROOM)
		nn--;
	b = nn;
	while (k < nn && (b < n || nn == n)) {
		p = pkts[k];
		big = b < n ? pkts[b] : NULL;
		rm = sn_pkt_room(p);
		iov[0] = (struct iovec){h, VNET_HDR_LEN};
		iov[1] = (struct iovec){sn_pkt_data(p), rm};
		iov[2] = big ? (struct iovec){sn_pkt_data(big) + rm, sn_pkt_room(big) - rm}
			     : (struct iovec){&spare, 1};
		r = readv(x->fd, iov, 3);
		if ((go = read_result(r)) <= 0)
			return go < 0 && !k ? go : (int)k;
		if (r < VNET_HDR_LEN)
			continue; /* EINTR, or a read shorter than its header */
		len = (uint32_t)r - VNET_HDR_LEN;
		if (len > rm && !big) {
			drop_too_big(x, rm);
			continue;
		}
		if (len > rm) { /* a super-packet: the big one takes p's place */
			memcpy(sn_pkt_data(big), sn_pkt_data(p), rm);
			pkts[k] = big;
			pkts[b++] = p;
		}
		sn__lx_txq_note(x, len);
		if (take_header(x, h, pkts[k], len))
			k++;
		else if (pkts[k] != p) /* not taken: p back in front, big back for reuse */
			pkts[k] = p, pkts[--b] = big;
	}
	return (int)k;
}

int sn__lx_read(struct lx *x, struct sn_pkt **pkts, uint32_t n)
{
	return x->vnet ? read_vnet(x, pkts, n) : read_plain(x, pkts, n);
}

/* ---- writes ----------------------------------------------------------------- */

static void tun_drop(struct lx *x, struct sn_pkt *p, int e)
{
	x->api->count(x->host, SN_CTR_DROP_TUN_ERROR, p->peer_id, 1);
	x->api->log(x->host, SN_LOG_WARN, NAME ": %s refused a %u-byte packet (peer %u): %s",
		    x->name, p->len, p->peer_id, strerror(e));
	x->api->pkt_release(x->host, p);
}

/* Entries the write at pkts[0] covers: a whole run, or one. */
static uint32_t unit_len(struct sn_pkt *const *pkts, uint32_t n)
{
	uint32_t k = pkts[0]->gso_segs;

	return (pkts[0]->flags & SN_PKT_F_RUN) && k > 1 && k <= SN_GSO_MAX_SEGS && k <= n ? k : 1;
}

/* Write one unit (k entries): 1 when taken (written, or refused and
 * counted), 0 when the device is full and it stays the caller's. */
static int write_unit(struct lx *x, struct sn_pkt *const *pkts, uint32_t k)
{
	struct iovec iov[1 + SN_GSO_MAX_SEGS];
	uint8_t h[VNET_HDR_LEN];
	uint32_t v = 0;
	ssize_t r;
	int e;

	if (x->vnet) {
		sn__vnet_from_pkt(pkts[0], h);
		if (k == 1)
			h[1] = 0, memset(h + 2, 0, 4); /* no GSO for a lone entry */
		iov[v++] = (struct iovec){h, VNET_HDR_LEN};
	}
	for (uint32_t j = 0; j < k; j++)
		iov[v++] = (struct iovec){sn_pkt_data(pkts[j]), pkts[j]->len};
	do
		r = writev(x->fd, iov, (int)v);
	while (r < 0 && errno == EINTR);
	e = errno;
	if (r < 0 && (e == EAGAIN || e == EWOULDBLOCK))
		return 0;
	for (uint32_t j = 0; j < k; j++) {
		if (r < 0)
			tun_drop(x, pkts[j], e);
		else
			x->api->pkt_release(x->host, pkts[j]);
	}
	return 1;
}

int sn__lx_write(struct lx *x, struct sn_pkt *const *pkts, uint32_t n)
{
	uint32_t i = 0, k;

	while (i < n) {
		k = x->vnet ? unit_len(pkts + i, n - i) : 1;
		if (!write_unit(x, pkts + i, k))
			break;
		i += k;
	}
	return (int)i;
}
