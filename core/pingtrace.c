/* SPDX-License-Identifier: MIT */
/*
 * core/pingtrace.c: when each ping passed this node (a debugging aid for
 * latency under load, bench/README.md "Latency under load").
 *
 * With SUBNETRA_PING_TRACE=PATH in the environment the node notes every
 * ICMP echo request and reply it handles: from the TUN device (when it was
 * read) or from the underlay (when the kernel queued the datagram, its
 * time_ns, and when the node took it, after opening it). The notes stay in
 * memory, SN_PINGTRACE_MAX of them, allocated once at start; at exit they
 * are written to PATH, one line each:
 *
 *   <tun|udp> <type 8|0> <icmp id> <icmp seq> <arrival ns> <handled ns>
 *
 * in CLOCK_REALTIME nanoseconds, the clock of tcpdump's timestamps (arrival
 * 0: none known, a TUN read). Off by default: a branch per packet.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node.h"

#define SN_PINGTRACE_MAX 8192u

struct sn_pingnote {
	uint64_t arrival_ns, handled_ns;
	uint16_t id, seq;
	uint8_t type, udp;
};

struct sn_pingtrace {
	char path[256];
	uint32_t n;
	struct sn_pingnote v[SN_PINGTRACE_MAX];
};

void sn__pingtrace_start(struct sn_node *n)
{
	const char *e = getenv("SUBNETRA_PING_TRACE");

	if (!e || !*e || strlen(e) >= sizeof(n->ptrace->path))
		return;
	n->ptrace = calloc(1, sizeof(*n->ptrace));
	if (n->ptrace)
		memcpy(n->ptrace->path, e, strlen(e) + 1);
}

static uint64_t real_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

void sn__pingtrace_note(struct sn_node *n, const uint8_t *ip, uint32_t len, uint64_t arrival,
			bool udp)
{
	struct sn_pingtrace *t = n->ptrace;
	uint32_t ihl = (ip[0] & 15u) * 4u;
	uint64_t mono = uv_hrtime(), real = real_ns();
	struct sn_pingnote *p;

	if (t->n >= SN_PINGTRACE_MAX || len < ihl + 8 || ip[9] != 1 || (ip[ihl] != 8 && ip[ihl]))
		return;
	p = &t->v[t->n++];
	p->type = ip[ihl];
	p->id = (uint16_t)(ip[ihl + 4] << 8 | ip[ihl + 5]);
	p->seq = (uint16_t)(ip[ihl + 6] << 8 | ip[ihl + 7]);
	p->udp = udp;
	p->handled_ns = real;
	p->arrival_ns = arrival && arrival <= mono ? real - (mono - arrival) : 0;
}

void sn__pingtrace_stop(struct sn_node *n)
{
	struct sn_pingtrace *t = n->ptrace;
	FILE *f;

	if (!t)
		return;
	f = fopen(t->path, "w");
	for (uint32_t i = 0; f && i < t->n; i++)
		fprintf(f, "%s %u %u %u %llu %llu\n", t->v[i].udp ? "udp" : "tun", t->v[i].type,
			t->v[i].id, t->v[i].seq, (unsigned long long)t->v[i].arrival_ns,
			(unsigned long long)t->v[i].handled_ns);
	if (f)
		fclose(f);
	else
		sn_log(&n->host, SN_LOG_WARN, "SUBNETRA_PING_TRACE: cannot write %s", t->path);
	free(t);
	n->ptrace = NULL;
}
