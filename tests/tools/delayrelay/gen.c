/* SPDX-License-Identifier: MIT */
/*
 * Traffic for sn-delayrelay's tests and ceiling (delayrelay.h). Each
 * datagram carries a stream id, a magic, its index and its send time
 * (CLOCK_MONOTONIC: the same clock in every namespace), then bytes of a
 * pattern that depends on the index, so a receiver checks every byte.
 *
 * blast sends (paced, or as fast as sendmmsg goes) and, with --echo,
 * measures the round trip of what comes back; sink counts what arrives,
 * per stream, with the one-way delay, and with --echo sends it back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "delayrelay.h"

#define MAGIC 0x534e4452u /* "SNDR" */
#define MAX_SAMPLES (4u << 20)
#define MAX_STREAMS 16
#define DUP_BITS (1u << 20) /* indices per stream checked for duplicates */

struct hdr {
	uint32_t stream;
	uint32_t magic;
	uint64_t index;
	uint64_t sent_ns;
};

static unsigned char pat[256 + DR_SLOT];
static unsigned char buf[DR_BATCH][DR_SLOT];
static struct mmsghdr msg[DR_BATCH];
static struct iovec iov[DR_BATCH];
static struct sockaddr_in name[DR_BATCH];

struct tally {
	uint64_t got, bytes, corrupt, foreign, dups, reordered, first_ns, last_ns, nsamples;
	uint64_t *samples;
	uint64_t per[MAX_STREAMS];
	uint64_t top[MAX_STREAMS];   /* highest index + 1 */
	unsigned char *seen[MAX_STREAMS];
};

static void pat_init(void)
{
	size_t i;

	for (i = 0; i < sizeof(pat); i++)
		pat[i] = (unsigned char)i;
}

static const unsigned char *pattern_of(uint64_t index)
{
	return pat + ((index * 131u) & 0xff);
}

static void fill(unsigned char *p, uint32_t size, uint32_t stream, uint64_t index)
{
	struct hdr h = { stream, MAGIC, index, dr_now() };

	memcpy(p, &h, sizeof(h));
	memcpy(p + DR_HDR, pattern_of(index), size - DR_HDR);
}

/* 0: intact; -1: not ours or damaged */
static int check(const unsigned char *p, uint32_t len, struct hdr *h)
{
	if (len < DR_HDR)
		return -1;
	memcpy(h, p, sizeof(*h));
	if (h->magic != MAGIC)
		return -1;
	return memcmp(p + DR_HDR, pattern_of(h->index), len - DR_HDR) ? -1 : 0;
}

static int tally_init(struct tally *t)
{
	int s;

	memset(t, 0, sizeof(*t));
	t->samples = calloc(MAX_SAMPLES, sizeof(*t->samples));
	for (s = 0; s < MAX_STREAMS; s++)
		t->seen[s] = calloc(DUP_BITS / 8, 1);
	for (s = 0; s < MAX_STREAMS; s++)
		if (!t->seen[s])
			return -ENOMEM;
	return t->samples ? 0 : -ENOMEM;
}

static void tally_free(struct tally *t)
{
	int s;

	free(t->samples);
	for (s = 0; s < MAX_STREAMS; s++)
		free(t->seen[s]);
}

/* count one intact datagram of stream s, index i, that took ns */
static void tally_add(struct tally *t, const struct hdr *h, uint32_t len, uint64_t now)
{
	uint32_t s = h->stream % MAX_STREAMS;

	if (h->index < DUP_BITS) {
		unsigned char bit = (unsigned char)(1u << (h->index & 7));

		if (t->seen[s][h->index >> 3] & bit) {
			t->dups++;
			return;
		}
		t->seen[s][h->index >> 3] |= bit;
	}
	t->got++;
	t->bytes += len;
	t->per[s]++;
	if (h->index + 1 < t->top[s]) /* a higher index came first */
		t->reordered++;
	if (h->index + 1 > t->top[s])
		t->top[s] = h->index + 1;
	if (!t->first_ns)
		t->first_ns = now;
	t->last_ns = now;
	if (t->nsamples < MAX_SAMPLES)
		t->samples[t->nsamples++] = now - h->sent_ns;
}

static void print_us(FILE *f, const char *key, struct tally *t)
{
	uint64_t q[4] = { 0 };

	dr_pctl(t->samples, t->nsamples, q);
	fprintf(f, "\"%s\": {\"min\": %.1f, \"p50\": %.1f, \"p99\": %.1f, \"max\": %.1f}",
		key, q[0] / 1e3, q[1] / 1e3, q[2] / 1e3, q[3] / 1e3);
}

static void print_streams(FILE *f, const struct tally *t)
{
	int s, first = 1;

	fputs("\"streams\": {", f);
	for (s = 0; s < MAX_STREAMS; s++) {
		if (!t->per[s])
			continue;
		fprintf(f, "%s\"%d\": {\"received\": %llu, \"highest\": %llu}", first ? "" : ", ", s,
			(unsigned long long)t->per[s], (unsigned long long)t->top[s]);
		first = 0;
	}
	fputs("}", f);
}

static FILE *out_file(const char *path)
{
	FILE *f = path ? fopen(path, "w") : stdout;

	if (!f)
		fprintf(stderr, "sn-delayrelay: %s: %s\n", path, strerror(errno));
	return f;
}

static int close_out(FILE *f)
{
	return f == stdout ? fflush(f) : fclose(f);
}

/* read what is there (nonblocking), check it; returns datagrams read */
static int take(int fd, struct tally *t, int flags)
{
	struct hdr h;
	uint64_t now;
	int n, k;

	for (k = 0; k < DR_BATCH; k++) {
		iov[k] = (struct iovec){ buf[k], DR_SLOT };
		msg[k].msg_hdr = (struct msghdr){ .msg_iov = &iov[k], .msg_iovlen = 1,
			.msg_name = &name[k], .msg_namelen = sizeof(name[k]) };
	}
	n = recvmmsg(fd, msg, DR_BATCH, flags, NULL);
	if (n <= 0)
		return 0;
	now = dr_now();
	for (k = 0; k < n; k++) {
		if (check(buf[k], msg[k].msg_len, &h) < 0)
			t->corrupt++;
		else
			tally_add(t, &h, msg[k].msg_len, now);
	}
	return n;
}

/* ---- blast ----------------------------------------------------------------- */

static void pace(const struct dr_gen_opts *o, uint64_t t0, uint64_t sent)
{
	uint64_t next = t0 + sent * 1000000000ull / o->rate;
	struct timespec ts = { (time_t)(next / 1000000000ull), (long)(next % 1000000000ull) };

	if (next > dr_now())
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/* how many to send now: paced, the ones due; else a full batch */
static uint32_t batch_size(const struct dr_gen_opts *o, uint64_t t0, uint64_t sent)
{
	uint64_t want = DR_BATCH;

	if (o->rate) {
		uint64_t due = (dr_now() - t0) * o->rate / 1000000000ull + 1;

		want = due > sent ? due - sent : 0;
		want = want > DR_BATCH ? DR_BATCH : want;
	}
	if (o->count && sent + want > o->count)
		want = o->count - sent;
	return (uint32_t)want;
}

static int send_some(int fd, const struct dr_gen_opts *o, uint64_t sent, uint32_t n)
{
	uint32_t k;
	int rc;

	for (k = 0; k < n; k++) {
		fill(buf[k], o->size, o->stream, sent + k);
		iov[k] = (struct iovec){ buf[k], o->size };
		msg[k].msg_hdr = (struct msghdr){ .msg_iov = &iov[k], .msg_iovlen = 1 };
	}
	rc = sendmmsg(fd, msg, n, 0);
	if (rc < 0 && errno != EAGAIN && errno != ENOBUFS && errno != EINTR &&
	    errno != ECONNREFUSED)
		return -errno;
	return rc < 0 ? 0 : rc;
}

static void blast_report(FILE *f, const struct dr_gen_opts *o, struct tally *t, uint64_t sent,
			 double secs)
{
	fprintf(f, "{\"sent\": %llu, \"size\": %u, \"secs\": %.3f, \"pkt_s\": %.0f, "
		"\"gbit_s\": %.3f, \"echoed\": %llu, \"corrupt\": %llu, \"dups\": %llu, "
		"\"foreign\": %llu, ", (unsigned long long)sent, o->size, secs, sent / secs,
		sent * o->size * 8 / secs / 1e9, (unsigned long long)(t->got - t->foreign),
		(unsigned long long)t->corrupt, (unsigned long long)t->dups,
		(unsigned long long)t->foreign);
	print_us(f, "rtt_us", t);
	fputs("}\n", f);
}

/* echoes of another stream are counted foreign (the relay mixed clients up) */
static void take_echoes(int fd, struct tally *t, uint32_t stream)
{
	uint64_t before = t->per[stream % MAX_STREAMS], got = t->got;

	while (take(fd, t, MSG_DONTWAIT) > 0)
		;
	t->foreign += (t->got - got) - (t->per[stream % MAX_STREAMS] - before);
}

int dr_blast(const struct dr_gen_opts *o, volatile int *stop)
{
	uint64_t t0, end, sent = 0, wait_end;
	struct tally t;
	FILE *f;
	int fd, rc;
	uint32_t n;

	pat_init();
	if ((rc = tally_init(&t)) < 0)
		return rc;
	fd = dr_udp_socket(NULL, 8 << 20);
	if (fd < 0 || connect(fd, (const struct sockaddr *)&o->addr, sizeof(o->addr)) < 0)
		return fd < 0 ? fd : -errno;
	t0 = dr_now();
	end = o->count ? UINT64_MAX : t0 + (uint64_t)(o->secs * 1e9);
	while (!*stop && dr_now() < end && (!o->count || sent < o->count)) {
		n = batch_size(o, t0, sent);
		if (n == 0)
			pace(o, t0, sent);
		else if ((rc = send_some(fd, o, sent, n)) < 0)
			break;
		else
			sent += (uint64_t)rc;
		if (o->echo)
			take_echoes(fd, &t, o->stream);
	}
	double secs = (dr_now() - t0) / 1e9;
	wait_end = dr_now() + (uint64_t)(o->wait * 1e9);
	while (o->echo && !*stop && t.got < sent && dr_now() < wait_end) {
		struct timespec ms = { 0, 1000000 };

		take_echoes(fd, &t, o->stream);
		nanosleep(&ms, NULL);
	}
	close(fd);
	if ((f = out_file(o->out))) {
		blast_report(f, o, &t, sent, secs);
		close_out(f);
	}
	tally_free(&t);
	return rc < 0 ? rc : 0;
}

/* ---- sink ------------------------------------------------------------------ */

static void echo_back(int fd, int n)
{
	int k, sent = 0, rc;

	for (k = 0; k < n; k++) {
		iov[k].iov_len = msg[k].msg_len;
		msg[k].msg_hdr.msg_namelen = sizeof(name[k]);
	}
	while (sent < n) {
		rc = sendmmsg(fd, msg + sent, (unsigned)(n - sent), 0);
		if (rc <= 0)
			break;
		sent += rc;
	}
}

static void sink_report(FILE *f, struct tally *t)
{
	double secs = t->last_ns > t->first_ns ? (t->last_ns - t->first_ns) / 1e9 : 0;

	fprintf(f, "{\"received\": %llu, \"bytes\": %llu, \"corrupt\": %llu, \"dups\": %llu, "
		"\"reordered\": %llu, \"secs\": %.3f, \"pkt_s\": %.0f, \"gbit_s\": %.3f, ",
		(unsigned long long)t->got, (unsigned long long)t->bytes,
		(unsigned long long)t->corrupt, (unsigned long long)t->dups,
		(unsigned long long)t->reordered, secs,
		secs > 0 ? t->got / secs : 0, secs > 0 ? t->bytes * 8 / secs / 1e9 : 0);
	print_streams(f, t);
	fputs(", ", f);
	print_us(f, "delay_us", t);
	fputs("}\n", f);
}

int dr_sink(const struct dr_gen_opts *o, volatile int *stop)
{
	struct timeval tv = { 0, 50000 };
	uint64_t end;
	struct tally t;
	FILE *f;
	int fd, n, rc;

	pat_init();
	if ((rc = tally_init(&t)) < 0)
		return rc;
	fd = dr_udp_socket(&o->addr, 8 << 20);
	if (fd < 0)
		return fd;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    (o->ready && (rc = dr_touch(o->ready)) < 0))
		return rc < 0 ? rc : -errno;
	end = o->secs > 0 ? dr_now() + (uint64_t)(o->secs * 1e9) : UINT64_MAX;
	while (!*stop && dr_now() < end) {
		if (o->idle > 0 && t.last_ns && dr_now() - t.last_ns > (uint64_t)(o->idle * 1e9))
			break;
		n = take(fd, &t, MSG_WAITFORONE);
		if (n > 0 && o->echo)
			echo_back(fd, n);
	}
	close(fd);
	if ((f = out_file(o->out))) {
		sink_report(f, &t);
		close_out(f);
	}
	tally_free(&t);
	return 0;
}
