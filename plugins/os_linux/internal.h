/* SPDX-License-Identifier: MIT */
/* plugins/os_linux/internal.h: what the files of os_linux share. */
#ifndef SN_LX_INTERNAL_H
#define SN_LX_INTERNAL_H
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "netlink.h"
#include "subnetra/sdk.h"

#define NAME "linux"

/* txq.c: the TUN queue's length with offloads, TXQ_BUDGET bytes of what
 * the device hands over, TXQ_MIN..TXQ_MAX entries. */
#define TXQ_BUDGET (1u << 20)
#define TXQ_MIN 32u
#define TXQ_MAX 1000u

struct sn__lx_txq {
	struct sn_timer *timer; /* NULL: the length is fixed */
	int ctl;                /* AF_INET socket for SIOCSIFTXQLEN; -1 */
	uint32_t len;           /* the length set now */
	uint64_t bytes;         /* read since the last change */
	uint64_t squares;       /* sum of each read's length squared */
};

struct lx {
	struct sn_host *host;
	const struct sn_host_api *api;
	int fd;            /* TUN; -1 before tun_open() */
	int ifindex;
	uint32_t txqlen;
	bool txqlen_set;   /* the option gave it */
	bool want_offload; /* the option offload (default true) */
	bool vnet;         /* the device carries a virtio_net_hdr (offloads on) */
	bool uso;          /* ... and takes UDP segmentation (USO) too */
	struct sn__nl nl;  /* for routes; opened by tun_open() */
	struct sn__lx_txq txq;
	char name[IFNAMSIZ];
};

/* tun_io.c: the TUN device's reads and writes (sn_os_ops.tun_read_batch
 * and tun_write_batch) on an open device, plain or with a virtio_net_hdr. */
int sn__lx_read(struct lx *x, struct sn_pkt **pkts, uint32_t n);
int sn__lx_write(struct lx *x, struct sn_pkt *const *pkts, uint32_t n);

/* txq.c: start resizing the queue (now len entries) from what is read;
 * stop (destroy, or when a resize fails). What the resize would be given
 * the bytes and squares read and the length now (a pure function). */
void sn__lx_txq_start(struct lx *x, uint32_t len);
void sn__lx_txq_stop(struct lx *x);
uint32_t sn__lx_txq_want(uint64_t bytes, uint64_t squares, uint32_t cur);

/* A read of len bytes, for txq.c. */
static inline void sn__lx_txq_note(struct lx *x, uint32_t len)
{
	x->txq.bytes += len;
	x->txq.squares += (uint64_t)len * len;
}

/* Switch to a->user keeping CAP_NET_ADMIN with SN_PRIV_KEEP_NET_ADMIN, else
 * no capability. 0 or -errno with a reason in a->err. */
int sn__lx_drop_privileges(const struct sn_priv_args *a);
/* The TUN device's tx_dropped from /proc/net/dev. 0 or -errno. */
int sn__lx_tun_dropped(const char *ifname, uint64_t *out);
#endif
