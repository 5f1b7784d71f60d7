/* SPDX-License-Identifier: MIT */
/*
 * plugins/os_linux/txq.c: the TUN device's queue sized to a byte budget.
 *
 * The queue between the kernel and the daemon counts packets
 * (txqueuelen), and with offloads one entry may be a 92-byte UDP packet or
 * a 64 KiB TSO super-packet. No one length suits both: 1000 entries of
 * super-packets are 64 MiB, a quarter of a second at 2 Gbit/s, in front of
 * every other packet (a TCP sender whose path is not paced fills them);
 * 32 entries of small packets overflow whenever the daemon waits a
 * moment for the CPU. So the length follows what the device hands over:
 * every 200 ms the reads' byte-weighted mean size (sum of size squared
 * over sum of size: the size of the entries that hold the bytes) sets
 * the length to TXQ_BUDGET bytes of them, between TXQ_MIN and TXQ_MAX
 * entries, changed only when it is off by half or more (a resize copies
 * the kernel's ring). The kernel has no byte limit for this queue, and no
 * arrival times on its packets for an AQM to act on: this is the bound.
 *
 * Only with offloads and without the txqueuelen option; needs
 * CAP_NET_ADMIN (kept after the privilege drop when the node manages
 * routes); without it the length stays where it was, said once.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

#define TXQ_PERIOD_MS 200
#define TXQ_SAMPLE (256u << 10) /* bytes read before the mean says anything */

uint32_t sn__lx_txq_want(uint64_t bytes, uint64_t squares, uint32_t cur)
{
	uint64_t mean, want;

	if (bytes < TXQ_SAMPLE)
		return cur;
	mean = squares / bytes;
	want = TXQ_BUDGET / (mean ? mean : 1);
	want = want < TXQ_MIN ? TXQ_MIN : want > TXQ_MAX ? TXQ_MAX : want;
	return want * 2 <= cur || want >= (uint64_t)cur * 2 ? (uint32_t)want : cur;
}

static int set_len(struct lx *x, uint32_t len)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, x->name, IFNAMSIZ);
	ifr.ifr_qlen = (int)len;
	return ioctl(x->txq.ctl, SIOCSIFTXQLEN, &ifr) == 0 ? 0 : -errno;
}

static void on_timer(void *arg)
{
	struct lx *x = arg;
	struct sn__lx_txq *q = &x->txq;
	uint32_t want = sn__lx_txq_want(q->bytes, q->squares, q->len);
	int rc;

	if (q->bytes >= TXQ_SAMPLE)
		q->bytes = q->squares = 0;
	if (want == q->len)
		return;
	rc = set_len(x, want);
	if (rc == 0) {
		x->api->log(x->host, SN_LOG_DEBUG, NAME ": %s queue %u -> %u entries", x->name,
			    q->len, want);
		q->len = want;
		return;
	}
	x->api->log(x->host, SN_LOG_INFO, NAME ": cannot resize the queue of %s (%s); it stays "
		    "at %u entries", x->name, strerror(-rc), q->len);
	sn__lx_txq_stop(x);
}

void sn__lx_txq_start(struct lx *x, uint32_t len)
{
	struct sn__lx_txq *q = &x->txq;

	q->len = len;
	q->ctl = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	q->timer = q->ctl >= 0 ? x->api->timer_new(x->host, on_timer, x) : NULL;
	if (!q->timer || x->api->timer_start(x->host, q->timer, TXQ_PERIOD_MS, TXQ_PERIOD_MS) < 0)
		sn__lx_txq_stop(x); /* no loop (a test) or no socket: a fixed length */
}

void sn__lx_txq_stop(struct lx *x)
{
	struct sn__lx_txq *q = &x->txq;

	if (q->timer)
		x->api->timer_free(x->host, q->timer);
	if (q->ctl >= 0)
		close(q->ctl);
	q->timer = NULL;
	q->ctl = -1;
}
