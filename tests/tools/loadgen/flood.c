/* SPDX-License-Identifier: MIT */
/*
 * tests/tools/loadgen/flood.c: sn-loadgen flood: hostile datagrams at a
 * paced rate, each of a kind that a receiver must drop at a known step of
 * docs/protocol.md section 6, for a known reason:
 *
 *   unknown  a key_id that is no peer                          unknown_peer
 *   badtag   a verified peer's id and accepted epoch, a seq
 *            above its window, a random tag                    auth_fail
 *   epoch    the peer's id, ever new epochs above the accepted
 *            one, a random tag                                 epoch_limit (one auth_fail per 100 ms)
 *   stale    the peer's id, the epoch below the accepted one   stale_epoch
 *   replay   the peer's own datagrams, recorded (--replay-frames,
 *            a pkt.py sniff capture)                           replay
 *   short    20 bytes                                          short
 *
 * Kinds take turns. With --spoof every datagram comes from a random source
 * address in a prefix (a raw socket writes the IPv4 and UDP headers), else
 * from 16 UDP sockets' ports. The totals go to --result as JSON.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/ip.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "loadgen.h"
#include "wire.h"

#define BATCH 64
#define SOCKS 16
#define DGRAM 64    /* header, 28 bytes, tag: the size of a ping */
#define MAX_KINDS 8
#define MAX_REPLAY 4096

/* The flood's own random numbers: not secret, and cheap (libsodium's
 * randombytes makes a system call each time: at 200,000 datagrams a second
 * that alone would be the flooder's limit). splitmix64, seeded once. */
static uint64_t rng_state;

static uint64_t rnd64(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform enough in [0, n) for a flood. */
static uint32_t rnd(uint32_t n)
{
	return (uint32_t)((rnd64() >> 32) * n >> 32);
}

static void rnd_fill(uint8_t *d, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t v = rnd64();

		memcpy(d + i, &v, n - i < 8 ? n - i : 8);
	}
}

enum kind { K_UNKNOWN, K_BADTAG, K_EPOCH, K_STALE, K_REPLAY, K_SHORT, K_N };
static const char *const kind_names[K_N] = { "unknown", "badtag", "epoch", "stale", "replay",
					      "short" };

struct flood {
	const struct lg_flood *f;
	enum kind kinds[MAX_KINDS];
	uint32_t n_kinds, next;
	uint64_t sent[K_N];
	uint8_t (*rec)[LG_MAX_DGRAM];
	uint16_t *rec_len;
	uint32_t n_rec;
	int fds[SOCKS];
	int raw;
};

static int parse_kinds(struct flood *fl, const char *list)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", list);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int k = 0;

		while (k < K_N && strcmp(kind_names[k], t))
			k++;
		if (k == K_N || fl->n_kinds == MAX_KINDS) {
			fprintf(stderr, "sn-loadgen: unknown flood kind '%s' (unknown, badtag, epoch, "
				"stale, replay, short)\n", t);
			return -EINVAL;
		}
		fl->kinds[fl->n_kinds++] = (enum kind)k;
	}
	return fl->n_kinds ? 0 : -EINVAL;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The UDP payload of one Ethernet frame in hex (a pkt.py sniff line). */
static uint32_t frame_payload(const char *hex, uint8_t *out, size_t max)
{
	uint8_t fr[2048];
	size_t n = 0;
	uint32_t ihl;

	for (; hex[0] && hex[1] && n < sizeof(fr); hex += 2) {
		int a = hexval(hex[0]), b = hexval(hex[1]);

		if (a < 0 || b < 0)
			break;
		fr[n++] = (uint8_t)(a << 4 | b);
	}
	if (n < 14 + 28 || fr[12] != 0x08 || fr[13] != 0 || fr[14 + 9] != 17)
		return 0;
	ihl = (fr[14] & 15u) * 4;
	if (14 + ihl + 8 > n || n - 14 - ihl - 8 > max)
		return 0;
	memcpy(out, fr + 14 + ihl + 8, n - 14 - ihl - 8);
	return (uint32_t)(n - 14 - ihl - 8);
}

static int load_replays(struct flood *fl, const char *path)
{
	char line[8192];
	FILE *in = fopen(path, "r");

	if (!in) {
		fprintf(stderr, "sn-loadgen: cannot read %s: %s\n", path, strerror(errno));
		return -errno;
	}
	fl->rec = calloc(MAX_REPLAY, sizeof(*fl->rec));
	fl->rec_len = calloc(MAX_REPLAY, sizeof(*fl->rec_len));
	while (fl->rec && fl->rec_len && fl->n_rec < MAX_REPLAY && fgets(line, sizeof(line), in)) {
		uint32_t n = frame_payload(line, fl->rec[fl->n_rec], sizeof(fl->rec[0]));

		if (n >= SN_WIRE_MIN_LEN && sn__load_be32(fl->rec[fl->n_rec] + 4) == fl->f->peer_id)
			fl->rec_len[fl->n_rec++] = (uint16_t)n;
	}
	fclose(in);
	return fl->n_rec ? 0 : -ENOENT;
}

/* One hostile datagram of kind k into d; its length. */
static uint32_t make(struct flood *fl, enum kind k, uint8_t *d)
{
	const struct lg_flood *f = fl->f;
	struct sn_wire_hdr h = { SN_WIRE_VERSION, 0, f->peer_id, f->epoch, 0 };

	rnd_fill(d, DGRAM);
	switch (k) {
	case K_UNKNOWN:
		h.key_id = 0x80000000u | rnd(0x7ffffffe);
		h.epoch = 1 + rnd(0xfffffffd);
		break;
	case K_BADTAG:
		h.seq = (UINT64_C(1) << 62) + rnd(1u << 30);
		break;
	case K_EPOCH:
		h.epoch = f->epoch + 1 + rnd(1u << 20);
		break;
	case K_STALE:
		h.epoch = f->epoch - 1;
		break;
	case K_REPLAY: {
		uint32_t i = (uint32_t)(fl->sent[K_REPLAY] % fl->n_rec);

		memcpy(d, fl->rec[i], fl->rec_len[i]);
		return fl->rec_len[i];
	}
	case K_SHORT:
		sn_wire_encode(d, &h);
		return 20;
	default:
		break;
	}
	sn_wire_encode(d, &h);
	return DGRAM;
}

static int open_sockets(struct flood *fl)
{
	fl->raw = -1;
	if (fl->f->spoof) {
		fl->raw = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
		return fl->raw < 0 ? -errno : 0;
	}
	for (int i = 0; i < SOCKS; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET };

		fl->fds[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fl->fds[i] < 0 || bind(fl->fds[i], (struct sockaddr *)&a, sizeof(a)) < 0)
			return -errno;
	}
	return 0;
}

/* IPv4 and UDP headers in front of a payload of n bytes at p + 28, from a
 * random address of the spoofed prefix. */
static uint32_t spoofed(const struct lg_flood *f, uint8_t *p, uint32_t n)
{
	uint32_t host = f->spoof_len >= 32 ? 0 : rnd(1u << (32 - f->spoof_len));
	uint32_t src = f->spoof_net | host, len = 28 + n, sport;

	memset(p, 0, 28);
	p[0] = 0x45;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[8] = 64;
	p[9] = 17;
	sn__store_be32(p + 12, src);
	memcpy(p + 16, &f->to.sin_addr, 4);
	sport = 1024 + rnd(60000);
	p[20] = (uint8_t)(sport >> 8);
	p[21] = (uint8_t)sport;
	memcpy(p + 22, &f->to.sin_port, 2);
	p[24] = (uint8_t)((8 + n) >> 8);
	p[25] = (uint8_t)(8 + n);
	return len; /* the kernel fills the IPv4 checksum; a UDP checksum of 0 is none */
}

/* Send one batch of BATCH datagrams; how many went. */
static int batch(struct flood *fl)
{
	static uint8_t buf[BATCH][28 + LG_MAX_DGRAM];
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in to = fl->f->to;

	for (int i = 0; i < BATCH; i++) {
		enum kind k = fl->kinds[fl->next++ % fl->n_kinds];
		uint32_t n = make(fl, k, buf[i] + 28);

		fl->sent[k]++;
		iov[i] = fl->f->spoof ? (struct iovec){ buf[i], spoofed(fl->f, buf[i], n) }
				      : (struct iovec){ buf[i] + 28, n };
		m[i].msg_hdr = (struct msghdr){ .msg_name = &to, .msg_namelen = sizeof(to),
						.msg_iov = &iov[i], .msg_iovlen = 1 };
	}
	return sendmmsg(fl->f->spoof ? fl->raw : fl->fds[fl->next / BATCH % SOCKS], m, BATCH, 0);
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = { (time_t)(t / 1000000000ull), (long)(t % 1000000000ull) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void report(const struct flood *fl, uint64_t sent, uint64_t failed, double secs)
{
	FILE *out = fl->f->result ? fopen(fl->f->result, "w") : stdout;

	if (!out)
		return;
	fprintf(out, "{\"sent\":%llu,\"failed\":%llu,\"secs\":%.3f,\"rate\":%.0f,\"kinds\":{",
		(unsigned long long)sent, (unsigned long long)failed, secs, (double)sent / secs);
	for (int k = 0, sep = 0; k < K_N; k++)
		if (fl->sent[k])
			fprintf(out, "%s\"%s\":%llu", sep++ ? "," : "", kind_names[k],
				(unsigned long long)fl->sent[k]);
	fputs("}}\n", out);
	if (out != stdout)
		fclose(out);
}

int lg_flood(const struct lg_flood *f)
{
	const char *replay_frames = f->replay_frames;
	struct flood fl = { .f = f };
	uint64_t start, sent = 0, failed = 0, end;
	int r;

	if ((r = parse_kinds(&fl, f->kinds)) < 0)
		return 2;
	for (uint32_t i = 0; i < fl.n_kinds; i++)
		if (fl.kinds[i] == K_REPLAY && (!replay_frames || load_replays(&fl, replay_frames) < 0)) {
			fprintf(stderr, "sn-loadgen: kind replay needs --replay-frames with datagrams of "
				"peer %u\n", f->peer_id);
			return 2;
		}
	if ((r = open_sockets(&fl)) < 0) {
		fprintf(stderr, "sn-loadgen: cannot open the flood's sockets: %s\n", strerror(-r));
		return 1;
	}
	randombytes_buf(&rng_state, sizeof(rng_state));
	start = lg_now();
	end = start + (uint64_t)(f->secs * 1e9);
	while (lg_now() < end) {
		int got = batch(&fl);

		sent += got > 0 ? (uint64_t)got : 0;
		failed += got < BATCH ? (uint64_t)(BATCH - (got > 0 ? got : 0)) : 0;
		sleep_until(start + (uint64_t)((double)(sent + failed) / f->rate * 1e9));
	}
	report(&fl, sent, failed, (double)(lg_now() - start) / 1e9);
	free(fl.rec);
	free(fl.rec_len);
	return 0;
}
