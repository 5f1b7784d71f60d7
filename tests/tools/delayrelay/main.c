/* SPDX-License-Identifier: MIT */
/*
 * sn-delayrelay: a UDP delay relay and its test traffic (delayrelay.h).
 *
 *   sn-delayrelay relay --listen ADDR:PORT --to ADDR:PORT [--delay-ms D]
 *                 [--jitter-ms J] [--reorder N] [--slack-us U] [--ring SLOTS]
 *                 [--clients N] [--bind ADDR[:PORT]] [--secs S] [--ready FILE] [--stats FILE]
 *       Datagrams from each client to LISTEN go to TO from a socket of the
 *       client's own, the replies back to the client; each direction waits
 *       D ms (default 10; + uniform [0, J] ms, order kept; every N-th
 *       datagram swapped with the next, when the next comes before the
 *       N-th left). A batch leaves once its oldest
 *       datagram is U us late (default 200): never early, at most U us plus
 *       the scheduler's latency late. --bind: the local address of the
 *       clients' sockets, client i's port PORT + i (so a firewall can tell
 *       the relay's traffic apart). SLOTS per direction (default 8192, of
 *       2 KiB; a full ring drops and counts). On SIGTERM/SIGINT or after S
 *       seconds, writes {"up": {...}, "down": {...}, "clients": N} to FILE
 *       (stdout by default): the counters of delayrelay.h, late_max_us and
 *       late_mean_us (how late datagrams left), queued (left at exit).
 *   sn-delayrelay blast --to ADDR:PORT [--size B] [--rate PPS] [--secs S | --count N]
 *                 [--stream ID] [--echo [--wait S]] [--out FILE]
 *       Send datagrams of B bytes (default 1400) at PPS a second (default 0:
 *       as fast as it can) for S seconds (default 1) or N datagrams; with
 *       --echo, count what comes back (round trip, every byte checked).
 *   sn-delayrelay sink --listen ADDR:PORT [--secs S] [--idle S] [--echo]
 *                 [--ready FILE] [--out FILE]
 *       Count what arrives, per stream, every byte checked, the one-way
 *       delay; --echo sends each datagram back to where it came from.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "delayrelay.h"

static volatile int stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void usage(void)
{
	fputs("usage: sn-delayrelay relay|blast|sink ... (see tests/tools/delayrelay/main.c)\n",
	      stderr);
	exit(2);
}

uint64_t dr_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int dr_udp_socket(const struct sockaddr_in *bind_to, int bufsize)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	/* root: past the namespace's rmem_max; else what the limit allows */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsize, sizeof(bufsize)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof(bufsize));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bufsize, sizeof(bufsize)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof(bufsize));
	if (bind_to && bind(fd, (const struct sockaddr *)bind_to, sizeof(*bind_to)) < 0) {
		int e = errno;

		fprintf(stderr, "sn-delayrelay: cannot bind %s:%u: %s\n",
			inet_ntoa(bind_to->sin_addr), ntohs(bind_to->sin_port), strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

int dr_touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0) {
		fprintf(stderr, "sn-delayrelay: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	close(fd);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void dr_pctl(uint64_t *v, uint64_t n, uint64_t out[4])
{
	if (!n)
		return;
	qsort(v, n, sizeof(*v), cmp_u64);
	out[0] = v[0];
	out[1] = v[n / 2];
	out[2] = v[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1];
	out[3] = v[n - 1];
}

/* ---- arguments -------------------------------------------------------------- */

static void die_arg(const char *opt, const char *val, const char *want)
{
	fprintf(stderr, "sn-delayrelay: %s '%s': expected %s\n", opt, val, want);
	exit(2);
}

static void addr_arg(const char *opt, const char *s, struct sockaddr_in *out, int need_port)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	size_t hl = colon ? (size_t)(colon - s) : strlen(s);
	char *end;
	long port = 0;

	if (hl >= sizeof(host))
		die_arg(opt, s, "IPv4:PORT");
	memcpy(host, s, hl);
	host[hl] = 0;
	if (colon) {
		port = strtol(colon + 1, &end, 10);
		if (*end || port < 0 || port > 65535)
			die_arg(opt, s, "IPv4:PORT with a port of 0-65535");
	} else if (need_port)
		die_arg(opt, s, "IPv4:PORT");
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	out->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &out->sin_addr) != 1)
		die_arg(opt, s, "an IPv4 address");
}

static double num_arg(const char *opt, const char *s, double lo, double hi)
{
	char *end;
	double v = strtod(s, &end);

	if (*end || end == s || v < lo || v > hi) {
		char want[96];

		snprintf(want, sizeof(want), "a number from %g to %g", lo, hi);
		die_arg(opt, s, want);
	}
	return v;
}

/* the value of option argv[*i], which must have one */
static const char *val(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc) {
		fprintf(stderr, "sn-delayrelay: %s needs a value\n", argv[*i]);
		exit(2);
	}
	return argv[++*i];
}

static void relay_args(int argc, char **argv, struct dr_opts *o)
{
	int i, have_listen = 0, have_to = 0;

	*o = (struct dr_opts){ .delay_ns = 10000000, .slack_ns = 200000, .ring = 8192,
			       .max_clients = DR_MAX_CLIENTS };
	o->bind.sin_family = AF_INET;
	for (i = 2; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--listen"))
			addr_arg(a, val(argc, argv, &i), &o->listen, 1), have_listen = 1;
		else if (!strcmp(a, "--to"))
			addr_arg(a, val(argc, argv, &i), &o->to, 1), have_to = 1;
		else if (!strcmp(a, "--bind"))
			addr_arg(a, val(argc, argv, &i), &o->bind, 0);
		else if (!strcmp(a, "--delay-ms"))
			o->delay_ns = (uint64_t)(num_arg(a, val(argc, argv, &i), 0, 10000) * 1e6);
		else if (!strcmp(a, "--jitter-ms"))
			o->jitter_ns = (uint64_t)(num_arg(a, val(argc, argv, &i), 0, 10000) * 1e6);
		else if (!strcmp(a, "--slack-us"))
			o->slack_ns = (uint64_t)(num_arg(a, val(argc, argv, &i), 0, 1e6) * 1e3);
		else if (!strcmp(a, "--reorder"))
			o->reorder = (uint32_t)num_arg(a, val(argc, argv, &i), 0, 1e9);
		else if (!strcmp(a, "--ring"))
			o->ring = (uint32_t)num_arg(a, val(argc, argv, &i), 2, 1 << 20);
		else if (!strcmp(a, "--clients"))
			o->max_clients = (uint32_t)num_arg(a, val(argc, argv, &i), 1, DR_MAX_CLIENTS);
		else if (!strcmp(a, "--secs"))
			o->secs = num_arg(a, val(argc, argv, &i), 0, 1e7);
		else if (!strcmp(a, "--ready"))
			o->ready = val(argc, argv, &i);
		else if (!strcmp(a, "--stats"))
			o->stats = val(argc, argv, &i);
		else
			die_arg("option", a, "one of those in tests/tools/delayrelay/main.c");
	}
	if (!have_listen || !have_to)
		die_arg("relay", have_listen ? "--to" : "--listen", "this option");
}

static void gen_args(int argc, char **argv, struct dr_gen_opts *o, int blast)
{
	int i, have_addr = 0;

	*o = (struct dr_gen_opts){ .size = 1400, .secs = 1, .wait = 1 };
	for (i = 2; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, blast ? "--to" : "--listen"))
			addr_arg(a, val(argc, argv, &i), &o->addr, 1), have_addr = 1;
		else if (blast && !strcmp(a, "--size"))
			o->size = (uint32_t)num_arg(a, val(argc, argv, &i), DR_HDR, DR_SLOT);
		else if (blast && !strcmp(a, "--rate"))
			o->rate = (uint64_t)num_arg(a, val(argc, argv, &i), 0, 1e8);
		else if (blast && !strcmp(a, "--count"))
			o->count = (uint64_t)num_arg(a, val(argc, argv, &i), 1, 1e12);
		else if (blast && !strcmp(a, "--stream"))
			o->stream = (uint32_t)num_arg(a, val(argc, argv, &i), 0, 15);
		else if (blast && !strcmp(a, "--wait"))
			o->wait = num_arg(a, val(argc, argv, &i), 0, 600);
		else if (!blast && !strcmp(a, "--idle"))
			o->idle = num_arg(a, val(argc, argv, &i), 0, 600);
		else if (!blast && !strcmp(a, "--ready"))
			o->ready = val(argc, argv, &i);
		else if (!strcmp(a, "--secs"))
			o->secs = num_arg(a, val(argc, argv, &i), 0, 1e7);
		else if (!strcmp(a, "--echo"))
			o->echo = 1;
		else if (!strcmp(a, "--out"))
			o->out = val(argc, argv, &i);
		else
			die_arg("option", a, "one of those in tests/tools/delayrelay/main.c");
	}
	if (!have_addr)
		die_arg(argv[1], blast ? "--to" : "--listen", "this option");
}

/* ---- the relay's statistics -------------------------------------------------- */

static void print_dir(FILE *f, const struct dr_relay *rl, enum dr_dir d)
{
	const uint64_t *c = rl->ctr[d];
	int k;

	fprintf(f, "\"%s\": {", d == DR_UP ? "up" : "down");
	for (k = 0; k < DR_CTR_MAX; k++)
		fprintf(f, "\"%s\": %llu, ", dr_ctr_name((enum dr_ctr)k), (unsigned long long)c[k]);
	fprintf(f, "\"queued\": %u, \"late_max_us\": %.1f, \"late_mean_us\": %.1f}",
		rl->ring[d].count, rl->late_max[d] / 1e3,
		c[DR_OUT] ? rl->late_sum[d] / 1e3 / (double)c[DR_OUT] : 0.0);
}

static int write_stats(const struct dr_relay *rl, const char *path)
{
	FILE *f = path ? fopen(path, "w") : stdout;

	if (!f) {
		fprintf(stderr, "sn-delayrelay: --stats %s: %s\n", path, strerror(errno));
		return -errno;
	}
	fputs("{", f);
	print_dir(f, rl, DR_UP);
	fputs(", ", f);
	print_dir(f, rl, DR_DOWN);
	fprintf(f, ", \"clients\": %u}\n", rl->nclients);
	return f == stdout ? fflush(f) : fclose(f);
}

static int run_relay(int argc, char **argv)
{
	static struct dr_relay rl;
	struct dr_opts o;
	int rc;

	relay_args(argc, argv, &o);
	rc = dr_relay_open(&rl, &o);
	if (rc == 0)
		rc = dr_relay_run(&rl, &stop_flag);
	if (rc < 0)
		fprintf(stderr, "sn-delayrelay: relay: %s\n", strerror(-rc));
	if (write_stats(&rl, o.stats) < 0 && rc == 0)
		rc = -EIO;
	dr_relay_close(&rl);
	return rc < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct dr_gen_opts g;
	int rc;

	if (argc < 2)
		usage();
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (!strcmp(argv[1], "relay"))
		return run_relay(argc, argv);
	if (strcmp(argv[1], "blast") && strcmp(argv[1], "sink"))
		usage();
	gen_args(argc, argv, &g, !strcmp(argv[1], "blast"));
	rc = argv[1][0] == 'b' ? dr_blast(&g, &stop_flag) : dr_sink(&g, &stop_flag);
	if (rc < 0)
		fprintf(stderr, "sn-delayrelay: %s: %s\n", argv[1], strerror(-rc));
	return rc < 0 ? 1 : 0;
}
