/* SPDX-License-Identifier: MIT */
/*
 * tests/tools/loadgen/run.c: sn-loadgen run: the spokes' event loop (epoll
 * over one socket per spoke; a timer tick for challenges, keepalives and
 * pings; a timerfd that paces the stream), the status file, and signals:
 * SIGUSR1 replays every spoke's recorded datagrams, SIGUSR2 starts a new
 * window for the stream's longest gap, SIGTERM/SIGINT end the run.
 *
 * The status file is rewritten (tmp + rename) every 250 ms, one JSON
 * object: counters, how many spokes verified the hub and were heard from
 * (the hub verified them), and for each hub epoch seen when it was first
 * seen and when every spoke had heard from the hub in it: a fresh hub's
 * join time and a restarted hub's time to verify everyone again.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "loadgen.h"

#define TICK_NS 20000000ull   /* challenges, keepalives, pings */
#define STATUS_NS 250000000ull
#define BATCH 32
#define TAG_TIMER UINT32_MAX
#define TAG_SIGNAL (UINT32_MAX - 1)

static double secs_since(const struct lg *g, uint64_t t)
{
	return t ? (double)(t - g->start_ns) / 1e9 : -1;
}

static void json_epochs(FILE *f, const struct lg *g)
{
	fputs(",\"epochs\":[", f);
	for (uint32_t i = 0; i < g->n_ep; i++) {
		fprintf(f, "%s{\"epoch\":%u,\"first_s\":%.6f,\"heard\":%u,", i ? "," : "",
			g->ep[i].epoch, secs_since(g, g->ep[i].first_ns), g->ep[i].heard);
		if (g->ep[i].all_ns)
			fprintf(f, "\"all_heard_s\":%.6f,\"all_after_first_s\":%.6f}",
				secs_since(g, g->ep[i].all_ns),
				(double)(g->ep[i].all_ns - g->ep[i].first_ns) / 1e9);
		else
			fputs("\"all_heard_s\":null,\"all_after_first_s\":null}", f);
	}
	fputs("]", f);
}

/* The first epoch's join time and the last epoch's, flat for scripts. */
static void json_last(FILE *f, const struct lg *g)
{
	if (g->n_ep && g->ep[0].all_ns)
		fprintf(f, ",\"join_s\":%.6f", secs_since(g, g->ep[0].all_ns));
	else
		fputs(",\"join_s\":null", f);
	if (!g->n_ep) {
		fputs(",\"last_epoch\":null,\"last_heard\":0,\"last_all_after_first_s\":null", f);
		return;
	}
	fprintf(f, ",\"last_epoch\":%u,\"last_heard\":%u,", g->ep[g->n_ep - 1].epoch,
		g->ep[g->n_ep - 1].heard);
	if (g->ep[g->n_ep - 1].all_ns)
		fprintf(f, "\"last_all_after_first_s\":%.6f",
			(double)(g->ep[g->n_ep - 1].all_ns - g->ep[g->n_ep - 1].first_ns) / 1e9);
	else
		fputs("\"last_all_after_first_s\":null", f);
}

static void write_status(const struct lg *g, const char *path)
{
	const struct lg_stats *st = &g->st;
	uint32_t verified = 0, heard = 0, last = g->n_ep ? g->ep[g->n_ep - 1].epoch : 0;
	char tmp[4200];
	FILE *f;

	for (uint32_t i = 0; i < g->n; i++) {
		verified += g->s[i].hub_verified;
		heard += g->s[i].heard && g->s[i].heard_epoch == last;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (!(f = fopen(tmp, "w")))
		return;
	fprintf(f, "{\"t\":%.3f,\"spokes\":%u,\"hub_verified\":%u,\"heard_last_epoch\":%u,"
		"\"rx\":%llu,\"tx\":%llu,\"challenges_tx\":%llu,\"responses_tx\":%llu,"
		"\"responses_rx\":%llu,\"keepalives_rx\":%llu,\"data_rx\":%llu,\"pings_tx\":%llu,"
		"\"pings_ok\":%llu,\"pings_dup\":%llu,\"pings_bad\":%llu,\"drop_auth\":%llu,"
		"\"drop_replay\":%llu,\"drop_stale\":%llu,\"drop_unverified\":%llu,"
		"\"drop_other\":%llu,\"epoch_moves\":%llu,\"replayed\":%llu,", secs_since(g, lg_now()),
		g->n, verified, heard, (unsigned long long)st->rx, (unsigned long long)st->tx,
		(unsigned long long)st->challenges_tx, (unsigned long long)st->responses_tx,
		(unsigned long long)st->responses_rx, (unsigned long long)st->keepalives_rx,
		(unsigned long long)st->data_rx, (unsigned long long)st->pings_tx,
		(unsigned long long)st->pings_ok, (unsigned long long)st->pings_dup,
		(unsigned long long)st->pings_bad, (unsigned long long)st->drop_auth,
		(unsigned long long)st->drop_replay, (unsigned long long)st->drop_stale,
		(unsigned long long)st->drop_unverified, (unsigned long long)st->drop_other,
		(unsigned long long)st->epoch_moves, (unsigned long long)st->replayed);
	fprintf(f, "\"stream\":{\"tx\":%llu,\"rx\":%llu,\"lost\":%llu,\"gap_max_us\":%.1f,"
		"\"gaps_over_0_5ms\":%llu,\"gaps_over_1ms\":%llu,\"gaps_over_2ms\":%llu,"
		"\"gaps_over_5ms\":%llu,\"gaps_over_10ms\":%llu}",
		(unsigned long long)st->stream_tx, (unsigned long long)st->stream_rx,
		(unsigned long long)st->stream_lost, (double)st->stream_gap_max_ns / 1e3,
		(unsigned long long)st->stream_gaps[0], (unsigned long long)st->stream_gaps[1],
		(unsigned long long)st->stream_gaps[2], (unsigned long long)st->stream_gaps[3],
		(unsigned long long)st->stream_gaps[4]);
	json_epochs(f, g);
	json_last(f, g);
	fputs("}\n", f);
	if (fclose(f) == 0)
		rename(tmp, path);
}

static int add_fd(int ep, int fd, uint32_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static void drain(struct lg *g, struct lg_spoke *s)
{
	static uint8_t buf[BATCH][LG_MAX_DGRAM];
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in from[BATCH];
	int got;

	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ buf[i], sizeof(buf[i]) };
		m[i].msg_hdr = (struct msghdr){ .msg_name = &from[i], .msg_namelen = sizeof(from[i]),
						.msg_iov = &iov[i], .msg_iovlen = 1 };
	}
	got = recvmmsg(s->fd, m, BATCH, MSG_DONTWAIT, NULL);
	for (int i = 0; i < got; i++)
		lg_spoke_rx(g, s, buf[i], m[i].msg_len, &from[i]);
}

/* A signal: 1 to end the run. */
static int on_signal(struct lg *g, int sfd)
{
	struct signalfd_siginfo si;

	if (read(sfd, &si, sizeof(si)) != sizeof(si))
		return 0;
	if (si.ssi_signo == SIGUSR1)
		for (uint32_t i = 0; i < g->n; i++)
			lg_spoke_replay(g, &g->s[i]);
	else if (si.ssi_signo == SIGUSR2) {
		g->st.stream_gap_max_ns = 0;
		memset(g->st.stream_gaps, 0, sizeof(g->st.stream_gaps));
	}
	else
		return 1;
	return 0;
}

static void on_stream_timer(struct lg *g, int tfd)
{
	uint64_t n = 0;

	if (read(tfd, &n, sizeof(n)) != sizeof(n))
		return;
	for (uint64_t i = 0; i < n && i < 16; i++)
		lg_spoke_stream(g, &g->s[g->stream_from], lg_now());
}

static int signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	return signalfd(-1, &set, SFD_CLOEXEC);
}

static int stream_timer(const struct lg *g)
{
	struct itimerspec it = { 0 };
	int t = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);

	it.it_interval.tv_sec = (time_t)(g->stream_every_ns / 1000000000ull);
	it.it_interval.tv_nsec = (long)(g->stream_every_ns % 1000000000ull);
	it.it_value = it.it_interval;
	if (t >= 0)
		timerfd_settime(t, 0, &it, NULL);
	return t;
}

static int setup_spokes(struct lg *g, const char *bind_ip, uint16_t base_port)
{
	struct rlimit rl = { g->n + 256, g->n + 256 };
	size_t ks = (g->ks + 15) & ~(size_t)15;
	uint8_t *keys;
	int r;

	setrlimit(RLIMIT_NOFILE, &rl);
	g->s = calloc(g->n, sizeof(*g->s));
	keys = aligned_alloc(16, ks * 3 * g->n);
	if (!g->s || !keys)
		return -ENOMEM;
	for (uint32_t i = 0; i < g->n; i++) {
		g->s[i].tx_key = keys + ks * (3 * i);
		g->s[i].rx_key = keys + ks * (3 * i + 1);
		g->s[i].cand_key = keys + ks * (3 * i + 2);
		if ((r = lg_spoke_setup(g, &g->s[i], i, bind_ip, base_port)) < 0) {
			fprintf(stderr, "sn-loadgen: spoke %u: %s\n", g->set.first_id + i, strerror(-r));
			return r;
		}
	}
	return 0;
}

int lg_run(struct lg *g, const char *bind_ip, uint16_t base_port, const char *status_file,
	   double secs)
{
	struct epoll_event ev[256];
	uint64_t last_tick = 0, last_status = 0, now;
	int ep, sfd, tfd = -1, done = 0;

	g->n = g->set.count;
	if (setup_spokes(g, bind_ip, base_port) < 0 || (ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (sfd = signals()) < 0 || add_fd(ep, sfd, TAG_SIGNAL) < 0)
		return 1;
	for (uint32_t i = 0; i < g->n; i++)
		if (add_fd(ep, g->s[i].fd, i) < 0)
			return 1;
	if (g->stream_from >= 0 && ((tfd = stream_timer(g)) < 0 || add_fd(ep, tfd, TAG_TIMER) < 0))
		return 1;
	g->start_ns = lg_now();
	while (!done) {
		int k = epoll_wait(ep, ev, 256, 5);

		for (int i = 0; i < k; i++) {
			if (ev[i].data.u32 == TAG_SIGNAL)
				done = on_signal(g, sfd);
			else if (ev[i].data.u32 == TAG_TIMER)
				on_stream_timer(g, tfd);
			else
				drain(g, &g->s[ev[i].data.u32]);
		}
		now = lg_now();
		if (now - last_tick >= TICK_NS) {
			for (uint32_t i = 0; i < g->n; i++)
				lg_spoke_tick(g, &g->s[i], now);
			last_tick = now;
		}
		if (status_file && now - last_status >= STATUS_NS) {
			write_status(g, status_file);
			last_status = now;
		}
		if (secs > 0 && (double)(now - g->start_ns) / 1e9 >= secs)
			done = 1;
	}
	if (status_file)
		write_status(g, status_file);
	return 0;
}
