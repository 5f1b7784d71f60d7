/* SPDX-License-Identifier: MIT */
/*
 * core/onboard.c: what `subnetra add-spoke` decides from a loaded hub
 * config (core/onboard.h): the next free id and overlay address, whether
 * a LAN is free, whether a name is usable, and the hub's remembered
 * "# subnetra:" lines. Nothing here touches a file.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onboard.h"

static int say(char *why, size_t len, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int say(char *why, size_t len, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return rc;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* The lowest value in lo..hi not in used (n values, sorted here): lo..hi
 * is walked once against the sorted list, so holes are filled first. */
static int lowest_free(uint32_t *used, uint32_t n, uint64_t lo, uint64_t hi, uint32_t *out)
{
	uint64_t cand = lo;

	qsort(used, n, sizeof(*used), cmp_u32);
	for (uint32_t i = 0; i < n && cand <= hi; i++) {
		if (used[i] > cand)
			break;
		if (used[i] == cand)
			cand++;
	}
	if (cand > hi)
		return -ENOSPC;
	*out = (uint32_t)cand;
	return 0;
}

int sn_onboard_next_id(const struct sn_config *c, uint32_t *out)
{
	uint32_t *used = malloc((c->n_peers + 1) * sizeof(*used));
	int rc;

	if (!used)
		return -ENOMEM;
	used[0] = c->node_id;
	for (uint32_t i = 0; i < c->n_peers; i++)
		used[i + 1] = c->peers[i].id;
	rc = lowest_free(used, c->n_peers + 1, 1, 0xFFFFFFFEu, out);
	free(used);
	return rc;
}

static uint32_t mask_of(uint8_t len)
{
	return len ? 0xFFFFFFFFu << (32 - len) : 0;
}

int sn_onboard_next_address(const struct sn_config *c, uint32_t *out, char *why, size_t why_len)
{
	uint32_t net = c->subnet.addr & mask_of(c->subnet.len), k = 0, *used;
	uint64_t top = (uint64_t)net + (1ull << (32 - c->subnet.len)) - 1;
	uint64_t lo = c->subnet.len == 31 ? net : (uint64_t)net + 1;
	uint64_t hi = c->subnet.len == 31 ? top : top - 1;
	char b[20];
	int rc;

	used = malloc((c->n_peers + 1) * sizeof(*used));
	if (!used)
		return -ENOMEM;
	used[k++] = c->address;
	for (uint32_t i = 0; i < c->n_peers; i++)
		if (c->peers[i].has & SN_PEER_HAS_ADDRESS)
			used[k++] = c->peers[i].address;
	rc = lowest_free(used, k, lo, hi, out);
	free(used);
	if (rc == -ENOSPC)
		say(why, why_len, rc,
		    "the overlay %s is full: its %llu usable addresses belong to the hub and %u spoke(s) (remove a spoke, or give the network a larger overlay.subnet)",
		    sn_prefix_str(&c->subnet, b, sizeof(b)), (unsigned long long)(hi - lo + 1),
		    c->n_peers);
	return rc;
}

static int overlaps(const struct sn_prefix *a, const struct sn_prefix *b)
{
	uint8_t len = a->len < b->len ? a->len : b->len;

	return ((a->addr ^ b->addr) & mask_of(len)) == 0;
}

int sn_onboard_covered(const struct sn_onboard_meta *m, const struct sn_prefix *p)
{
	for (uint32_t i = 0; i < m->n_spoke_routes; i++)
		if (m->spoke_routes[i].len <= p->len && overlaps(&m->spoke_routes[i], p))
			return 1;
	return 0;
}

static int peer_clash(const struct sn_config *c, const struct sn_prefix *lan, char *why,
		      size_t why_len)
{
	char a[20], b[20];

	for (uint32_t i = 0; i < c->n_peers; i++) {
		const struct sn_conf_peer *p = &c->peers[i];

		for (uint32_t j = 0; j < p->n_routes; j++)
			if (overlaps(lan, &p->routes[j]))
				return say(why, why_len, -EEXIST,
					   "%s overlaps %s, a LAN of spoke %s (id %u, %s); a prefix can belong to one node only",
					   sn_prefix_str(lan, a, sizeof(a)),
					   sn_prefix_str(&p->routes[j], b, sizeof(b)), p->name,
					   p->id, p->file ? p->file : c->path);
	}
	return 0;
}

int sn_onboard_lan_check(const struct sn_config *c, const struct sn_prefix *lan, char *why,
			 size_t why_len)
{
	char a[20], b[20];

	sn_prefix_str(lan, a, sizeof(a));
	if (overlaps(lan, &c->subnet))
		return say(why, why_len, -EEXIST,
			   "%s overlaps the overlay subnet %s (%s); a LAN must lie outside it", a,
			   sn_prefix_str(&c->subnet, b, sizeof(b)), c->path);
	for (uint32_t i = 0; i < c->n_lans; i++)
		if (overlaps(lan, &c->lans[i]))
			return say(why, why_len, -EEXIST,
				   "%s overlaps %s, a LAN of the hub (%s, overlay.lans); a prefix can belong to one node only",
				   a, sn_prefix_str(&c->lans[i], b, sizeof(b)), c->path);
	return peer_clash(c, lan, why, why_len);
}

const struct sn_conf_peer *sn_onboard_peer_named(const struct sn_config *c, const char *name)
{
	for (uint32_t i = 0; i < c->n_peers; i++)
		if (c->peers[i].name && !strcmp(c->peers[i].name, name))
			return &c->peers[i];
	return NULL;
}

int sn_onboard_name_check(const char *name, char *why, size_t why_len)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < n; i++)
		if (name[i] <= ' ' || name[i] > '~' || name[i] == '/')
			return say(why, why_len, -EINVAL,
				   "'%.64s' is not a usable spoke name (1 to 64 printable characters without spaces or '/', e.g. branch-17)",
				   name);
	if (n == 0 || n > SN_ONBOARD_NAME_MAX)
		return say(why, why_len, -EINVAL,
			   "a spoke name has 1 to 64 characters, not %zu (e.g. branch-17)", n);
	if (name[0] == '.' || name[0] == '-')
		return say(why, why_len, -EINVAL,
			   "'%s' is not a usable spoke name: it may not start with '%c' (it names the spoke's files; e.g. branch-17)",
			   name, name[0]);
	return 0;
}

static int host_ok(const char *h, size_t n)
{
	if (n == 0 || n > 253)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z') ||
		      (h[i] >= '0' && h[i] <= '9') || h[i] == '.' || h[i] == '-'))
			return 0;
	return h[0] != '-' && h[0] != '.';
}

int sn_onboard_endpoint_check(const char *ep, char *why, size_t why_len)
{
	const char *colon = strrchr(ep, ':');
	char *end;
	unsigned long port;

	if (!colon || !host_ok(ep, (size_t)(colon - ep)))
		return say(why, why_len, -EINVAL,
			   "'%.262s' is not HOST:PORT (an IPv4 address or a host name, then the port, e.g. 203.0.113.1:51820)",
			   ep);
	port = strtoul(colon + 1, &end, 10);
	if (*end || colon[1] < '1' || colon[1] > '9' || port > 65535)
		return say(why, why_len, -EINVAL,
			   "'%.262s' has no usable port (1 to 65535, e.g. 203.0.113.1:51820)", ep);
	return 0;
}

static int meta_line(const char *key, const char *val, struct sn_onboard_meta *m, char *why,
		     size_t why_len)
{
	struct sn_prefix p;

	if (!strcmp(key, "name")) {
		if (sn_onboard_name_check(val, why, why_len) < 0)
			return -EINVAL;
		snprintf(m->name, sizeof(m->name), "%s", val);
	} else if (!strcmp(key, "endpoint")) {
		if (sn_onboard_endpoint_check(val, why, why_len) < 0)
			return -EINVAL;
		snprintf(m->endpoint, sizeof(m->endpoint), "%s", val);
	} else if (!strcmp(key, "spoke-route")) {
		if (sn_prefix_parse(val, &p, why, why_len) < 0)
			return -EINVAL;
		if (m->n_spoke_routes == SN_ONBOARD_SPOKE_ROUTES_MAX)
			return say(why, why_len, -E2BIG, "more than %d spoke routes",
				   SN_ONBOARD_SPOKE_ROUTES_MAX);
		m->spoke_routes[m->n_spoke_routes++] = p;
	} else if (!strcmp(key, "spoke-config")) {
		snprintf(m->spoke_config, sizeof(m->spoke_config), "%s", val);
	} else {
		return say(why, why_len, -EINVAL,
			   "unknown key '%s' (the tool writes name, endpoint, spoke-route and spoke-config)",
			   key);
	}
	return 0;
}

/* One "# subnetra: KEY VALUE" line (without its newline), or another line. */
static int one_line(char *s, struct sn_onboard_meta *m, char *why, size_t why_len)
{
	static const char tag[] = "# subnetra:";
	char *key, *val, *e;

	if (strncmp(s, tag, sizeof(tag) - 1))
		return 0;
	key = s + sizeof(tag) - 1;
	key += strspn(key, " \t");
	val = key + strcspn(key, " \t");
	if (*val)
		*val++ = 0;
	val += strspn(val, " \t");
	e = val + strlen(val);
	while (e > val && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = 0;
	return meta_line(key, val, m, why, why_len);
}

int sn_onboard_meta_parse(const char *text, size_t len, struct sn_onboard_meta *m, char *why,
			  size_t why_len)
{
	char line[4200], inner[400];
	size_t i = 0, lineno = 0;

	memset(m, 0, sizeof(*m));
	while (i < len) {
		size_t n = 0;

		while (i < len && text[i] != '\n') {
			if (n + 1 < sizeof(line))
				line[n++] = text[i];
			i++;
		}
		i++;
		line[n] = 0;
		lineno++;
		if (one_line(line, m, inner, sizeof(inner)) < 0)
			return say(why, why_len, -EINVAL, "line %zu: # subnetra: %s", lineno, inner);
	}
	return 0;
}
