/* SPDX-License-Identifier: MIT */
/*
 * The relay of sn-delayrelay (delayrelay.h). A datagram from a client to
 * the listening socket goes to the target from a socket of that client's
 * own (connected, so the target sees one address per client and its
 * replies map back); replies go back to the client from the listening
 * socket. In each direction a datagram waits in the ring until it is due;
 * a batch leaves when its oldest datagram is slack late (a timerfd), so
 * sends stay batched at high rates while a datagram is never early.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "delayrelay.h"

#define EV_LISTEN 0
#define EV_TIMER 1
#define EV_CLIENT 2 /* + client index */
#define RECV_ROUNDS 4 /* batches read from one socket per wake-up */
#define RETRY_NS 100000ull /* after EAGAIN/ENOBUFS */
#define BUFSIZE (8 << 20)

static const char *const ctr_names[DR_CTR_MAX] = {
	[DR_IN] = "in", [DR_OUT] = "out", [DR_RING_FULL] = "ring_full",
	[DR_TOO_BIG] = "too_big", [DR_SEND_ERROR] = "send_error",
	[DR_NO_CLIENT] = "no_client", [DR_SWAPPED] = "swapped",
};

const char *dr_ctr_name(enum dr_ctr c)
{
	return ctr_names[c];
}

/* scratch for datagrams read while the ring is full (dropped, counted) */
static unsigned char scratch[DR_BATCH][DR_SLOT];
static struct mmsghdr msg[DR_BATCH];
static struct iovec iov[DR_BATCH];
static struct sockaddr_in name[DR_BATCH];
static uint32_t slot[DR_BATCH];

static int ep_add(int efd, int fd, uint32_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	return epoll_ctl(efd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int dr_relay_open(struct dr_relay *rl, const struct dr_opts *opt)
{
	int d, rc;

	memset(rl, 0, sizeof(*rl));
	rl->opt = *opt;
	rl->lfd = rl->efd = rl->tfd = -1;
	rl->rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
	for (d = 0; d < DR_DIRS; d++)
		if ((rc = dr_ring_init(&rl->ring[d], opt->ring)) < 0)
			return rc;
	rl->lfd = dr_udp_socket(&opt->listen, BUFSIZE);
	if (rl->lfd < 0)
		return rl->lfd;
	rl->efd = epoll_create1(EPOLL_CLOEXEC);
	rl->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (rl->efd < 0 || rl->tfd < 0)
		return -errno;
	if ((rc = ep_add(rl->efd, rl->lfd, EV_LISTEN)) < 0)
		return rc;
	return ep_add(rl->efd, rl->tfd, EV_TIMER);
}

void dr_relay_close(struct dr_relay *rl)
{
	uint32_t i;
	int d;

	for (i = 0; i < rl->nclients; i++)
		close(rl->client[i].fd);
	if (rl->lfd >= 0)
		close(rl->lfd);
	if (rl->efd >= 0)
		close(rl->efd);
	if (rl->tfd >= 0)
		close(rl->tfd);
	for (d = 0; d < DR_DIRS; d++)
		dr_ring_free(&rl->ring[d]);
}

/* the client index of addr, a new one (with its socket) if it is new; -1: table full */
static int client_of(struct dr_relay *rl, const struct sockaddr_in *a)
{
	struct sockaddr_in local = rl->opt.bind;
	struct dr_client *c;
	uint32_t i;

	for (i = 0; i < rl->nclients; i++)
		if (rl->client[i].addr.sin_port == a->sin_port &&
		    rl->client[i].addr.sin_addr.s_addr == a->sin_addr.s_addr)
			return (int)i;
	if (rl->nclients >= rl->opt.max_clients)
		return -1;
	if (local.sin_port) /* client i: port + i */
		local.sin_port = htons((uint16_t)(ntohs(local.sin_port) + rl->nclients));
	c = &rl->client[rl->nclients];
	c->addr = *a;
	c->fd = dr_udp_socket(&local, BUFSIZE);
	if (c->fd < 0)
		return -1;
	if (connect(c->fd, (const struct sockaddr *)&rl->opt.to, sizeof(rl->opt.to)) < 0 ||
	    ep_add(rl->efd, c->fd, EV_CLIENT + rl->nclients) < 0) {
		fprintf(stderr, "sn-delayrelay: a socket for client %u to the target: %s\n",
			rl->nclients, strerror(errno));
		close(c->fd);
		return -1;
	}
	return (int)rl->nclients++;
}

static uint64_t due_time(struct dr_relay *rl, uint64_t now)
{
	uint64_t due = now + rl->opt.delay_ns;

	if (rl->opt.jitter_ns) {
		rl->rng ^= rl->rng << 13, rl->rng ^= rl->rng >> 7, rl->rng ^= rl->rng << 17;
		due += rl->rng % (rl->opt.jitter_ns + 1);
	}
	return due;
}

/* queue the first free slot (filled by recvmmsg), reordering every N-th */
static void enqueue(struct dr_relay *rl, enum dr_dir d, uint64_t now)
{
	struct dr_ring *r = &rl->ring[d];

	dr_ring_push(r, due_time(rl, now));
	if (!rl->opt.reorder)
		return;
	if (rl->since_swap[d] == rl->opt.reorder) {
		if (dr_ring_swap_last(r) == 0)
			rl->ctr[d][DR_SWAPPED]++;
		rl->since_swap[d] = 0;
	}
	rl->since_swap[d]++;
}

/* one recvmmsg from fd into the ring of d; cl: the client (down) or -1 (up) */
static int recv_batch(struct dr_relay *rl, int fd, enum dr_dir d, int cl)
{
	struct dr_ring *r = &rl->ring[d];
	uint32_t room = r->cap - r->count, n = room < DR_BATCH ? room : DR_BATCH, k;
	int full = n == 0, got, c;
	uint64_t now;

	if (full)
		n = DR_BATCH;
	for (k = 0; k < n; k++) {
		slot[k] = full ? 0 : dr_ring_free_at(r, k);
		iov[k].iov_base = full ? scratch[k] : r->data + (size_t)slot[k] * DR_SLOT;
		iov[k].iov_len = DR_SLOT;
		msg[k].msg_hdr = (struct msghdr){ .msg_iov = &iov[k], .msg_iovlen = 1,
			.msg_name = &name[k], .msg_namelen = sizeof(name[k]) };
	}
	got = recvmmsg(fd, msg, n, MSG_DONTWAIT, NULL);
	if (got <= 0)
		return 0;
	now = dr_now();
	rl->ctr[d][DR_IN] += (uint64_t)got;
	if (full) {
		rl->ctr[d][DR_RING_FULL] += (uint64_t)got;
		return got;
	}
	for (k = 0; k < (uint32_t)got; k++) {
		uint32_t w = dr_ring_free_at(r, 0);

		if (msg[k].msg_hdr.msg_flags & MSG_TRUNC) {
			rl->ctr[d][DR_TOO_BIG]++;
			continue;
		}
		c = cl >= 0 ? cl : client_of(rl, &name[k]);
		if (c < 0) {
			rl->ctr[d][DR_NO_CLIENT]++;
			continue;
		}
		if (w != slot[k]) /* a dropped one before it: close the gap */
			memmove(r->data + (size_t)w * DR_SLOT, iov[k].iov_base, msg[k].msg_len);
		r->len[w] = (uint16_t)msg[k].msg_len;
		r->client[w] = (uint16_t)c;
		enqueue(rl, d, now);
	}
	return got;
}

static void recv_from(struct dr_relay *rl, int fd, enum dr_dir d, int cl)
{
	int i;

	for (i = 0; i < RECV_ROUNDS; i++)
		if (recv_batch(rl, fd, d, cl) < DR_BATCH)
			break;
}

/* how many of the n due datagrams share the oldest one's socket */
static uint32_t run_len(const struct dr_ring *r, enum dr_dir d, uint32_t n)
{
	uint16_t c0 = r->client[dr_ring_at(r, 0)];
	uint32_t k = 1;

	if (d == DR_DOWN) /* one socket, the address in each message */
		return n;
	while (k < n && r->client[dr_ring_at(r, k)] == c0)
		k++;
	return k;
}

static void account_sent(struct dr_relay *rl, enum dr_dir d, uint32_t n, uint64_t now)
{
	struct dr_ring *r = &rl->ring[d];
	uint32_t k;

	for (k = 0; k < n; k++) {
		uint64_t late = now - r->due[dr_ring_at(r, k)];

		rl->late_sum[d] += late;
		if (late > rl->late_max[d])
			rl->late_max[d] = late;
	}
	rl->ctr[d][DR_OUT] += n;
	dr_ring_pop(r, n);
}

/* one sendmmsg of due datagrams; 0: nothing due or sending must wait */
static int send_batch(struct dr_relay *rl, enum dr_dir d, uint64_t now)
{
	struct dr_ring *r = &rl->ring[d];
	uint32_t n = dr_ring_due(r, now, DR_BATCH), k;
	int fd, sent;

	if (!n)
		return 0;
	n = run_len(r, d, n);
	for (k = 0; k < n; k++) {
		uint32_t i = dr_ring_at(r, k);

		iov[k].iov_base = r->data + (size_t)i * DR_SLOT;
		iov[k].iov_len = r->len[i];
		msg[k].msg_hdr = (struct msghdr){ .msg_iov = &iov[k], .msg_iovlen = 1 };
		if (d == DR_DOWN) {
			msg[k].msg_hdr.msg_name = &rl->client[r->client[i]].addr;
			msg[k].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
		}
	}
	fd = d == DR_DOWN ? rl->lfd : rl->client[r->client[dr_ring_at(r, 0)]].fd;
	sent = sendmmsg(fd, msg, n, MSG_DONTWAIT);
	if (sent > 0) {
		account_sent(rl, d, (uint32_t)sent, now);
		return sent;
	}
	if (errno == EAGAIN || errno == ENOBUFS || errno == EINTR) {
		rl->retry = 1;
		return 0;
	}
	rl->ctr[d][DR_SEND_ERROR]++; /* e.g. ECONNREFUSED from the target: drop one */
	dr_ring_pop(r, 1);
	return 1;
}

/* send what is due in d, if its oldest datagram is slack late (or anything is, after a retry) */
static void flush(struct dr_relay *rl, enum dr_dir d, int force)
{
	uint64_t now = dr_now(), next = dr_ring_next(&rl->ring[d]);

	if (next == UINT64_MAX || (next + rl->opt.slack_ns > now && !force))
		return;
	while (send_batch(rl, d, now) > 0)
		;
}

static int arm(struct dr_relay *rl)
{
	uint64_t next = dr_ring_next(&rl->ring[DR_UP]);
	struct itimerspec its = { 0 };

	if (dr_ring_next(&rl->ring[DR_DOWN]) < next)
		next = dr_ring_next(&rl->ring[DR_DOWN]);
	if (next != UINT64_MAX)
		next += rl->opt.slack_ns;
	if (rl->retry && dr_now() + RETRY_NS < next)
		next = dr_now() + RETRY_NS;
	if (next == UINT64_MAX)
		next = 0;
	if (next == rl->armed)
		return 0;
	rl->armed = next;
	its.it_value.tv_sec = (time_t)(next / 1000000000ull);
	its.it_value.tv_nsec = (long)(next % 1000000000ull);
	return timerfd_settime(rl->tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0 ? -errno : 0;
}

static void handle(struct dr_relay *rl, uint32_t tag)
{
	uint64_t expirations;

	if (tag == EV_LISTEN)
		recv_from(rl, rl->lfd, DR_UP, -1);
	else if (tag == EV_TIMER) {
		if (read(rl->tfd, &expirations, sizeof(expirations)) < 0)
			expirations = 0;
		rl->armed = 0;
	} else
		recv_from(rl, rl->client[tag - EV_CLIENT].fd, DR_DOWN, (int)(tag - EV_CLIENT));
}

int dr_relay_run(struct dr_relay *rl, volatile int *stop)
{
	uint64_t end = rl->opt.secs > 0 ? dr_now() + (uint64_t)(rl->opt.secs * 1e9) : UINT64_MAX;
	struct epoll_event ev[8];
	int n, i, rc, force;

	if (rl->opt.ready && (rc = dr_touch(rl->opt.ready)) < 0)
		return rc;
	while (!*stop && dr_now() < end) {
		n = epoll_wait(rl->efd, ev, 8, 1000);
		if (n < 0 && errno != EINTR)
			return -errno;
		for (i = 0; i < n; i++)
			handle(rl, ev[i].data.u32);
		force = rl->retry;
		rl->retry = 0;
		flush(rl, DR_UP, force);
		flush(rl, DR_DOWN, force);
		if ((rc = arm(rl)) < 0)
			return rc;
	}
	return 0;
}
