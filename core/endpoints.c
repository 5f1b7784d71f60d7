/* SPDX-License-Identifier: MIT */
/*
 * core/endpoints.c: the addresses a node remembers across a restart.
 *
 * A hub knows no spoke's address after a start, so it could only verify a
 * spoke once that spoke speaks again, up to a keepalive interval later. At
 * exit it therefore writes, for each verified peer without a configured
 * endpoint, the address it last had to DIR/endpoints in the state
 * directory; at start it challenges each such peer there (docs/protocol.md,
 * "Verifying a peer": the challenges of an unverified peer without a
 * configured endpoint). Nothing else is taken from the file: it only says
 * where challenges go, a bounded number of times, and a peer is verified
 * by its answer alone.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"

#define FILE_NAME "endpoints"
#define LINE_MAX_LEN 48 /* "4294967294 255.255.255.255:65535\n" */

static int parse_line(const char *s, uint32_t *id, struct sn_addr *a)
{
	char ip[16];
	unsigned long v;
	unsigned port;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end != ' ' || v == 0 || v > 0xFFFFFFFEul ||
	    sscanf(end + 1, "%15[0-9.]:%5u", ip, &port) != 2 || port == 0 || port > 65535)
		return -EINVAL;
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, ip, a->ip) != 1)
		return -EINVAL;
	a->family = SN_AF_INET;
	a->port = (uint16_t)port;
	*id = (uint32_t)v;
	return 0;
}

/* Challenge at a remembered address: a peer that comes back answers
 * within these tries (one a second); one that is gone stops costing
 * anything after them. */
static void remember(struct sn_peer *p, const struct sn_addr *a)
{
	p->s.chal_to = *a;
	p->s.chal_tries = SN_VERIFY_TRIES;
}

void sn_endpoints_load(struct sn_node *n)
{
	size_t cap = (size_t)n->peers.n * LINE_MAX_LEN + 256, len, bad = 0, used = 0;
	char *buf = malloc(cap), err[512] = "";
	int r;

	if (!buf)
		return;
	r = sn_state_read(&n->state, FILE_NAME, buf, cap, &len, err, sizeof(err));
	if (r < 0 && r != -ENOENT)
		sn_log(&n->host, SN_LOG_WARN, "not using the remembered endpoints: %s", err);
	for (char *line = buf, *nl; r == 0 && line < buf + len; line = nl + 1) {
		struct sn_peer *p;
		struct sn_addr a;
		uint32_t id;

		nl = strchr(line, '\n');
		if (!nl)
			nl = buf + len;
		*nl = '\0';
		if (*line == '#' || !*line)
			continue;
		if (parse_line(line, &id, &a) < 0) {
			bad++;
			continue;
		}
		p = sn_peer_find(&n->peers, id);
		if (p && !p->static_endpoint) {
			remember(p, &a);
			used++;
		}
	}
	if (bad)
		sn_log(&n->host, SN_LOG_WARN, "%s/" FILE_NAME ": %zu malformed line(s) ignored",
		       n->state.dir, bad);
	if (used)
		sn_log(&n->host, SN_LOG_INFO, "challenging %zu peer(s) at the endpoints they had at "
		       "the last exit", used);
	free(buf);
}

void sn_endpoints_save(struct sn_node *n)
{
	size_t cap = (size_t)n->peers.n * LINE_MAX_LEN + 128, len;
	char *buf = malloc(cap), err[512];

	if (!buf || !n->state.open) {
		free(buf);
		return;
	}
	len = (size_t)snprintf(buf, cap, "# the last verified address of each peer without a "
			       "configured endpoint, written at exit (core/endpoints.c)\n");
	for (uint32_t i = 0; i < n->peers.n; i++) {
		const struct sn_peer *p = n->peers.v[i];
		char ip[INET_ADDRSTRLEN];

		if (p->static_endpoint || p->s.state == SN_PEER_UNVERIFIED ||
		    p->s.endpoint.family != SN_AF_INET ||
		    !inet_ntop(AF_INET, p->s.endpoint.ip, ip, sizeof(ip)))
			continue;
		len += (size_t)snprintf(buf + len, cap - len, "%u %s:%u\n", p->id, ip,
					p->s.endpoint.port);
	}
	if (sn_state_write(&n->state, FILE_NAME, buf, err, sizeof(err)) < 0)
		sn_log(&n->host, SN_LOG_WARN, "cannot remember the peers' endpoints: %s", err);
	free(buf);
}
