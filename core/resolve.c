/* SPDX-License-Identifier: MIT */
/*
 * core/resolve.c: configured endpoints given by name, resolved again while
 * the node runs (resolve.h). The config's load resolved each name once,
 * to its first A record (config_check.c); from the start on, the node
 * looks each name up again off the loop (uv_getaddrinfo runs getaddrinfo
 * on a libuv worker thread, so a slow name server never holds up a
 * packet): at once, to learn all its A records, then every 5 minutes, and
 * whenever the peer has said nothing for 3 keepalive intervals, when the
 * address in use also gives way to the next one. A changed answer moves
 * the peer to it without a reload. Every change is logged.
 */
#include "resolve.h"

#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "node.h"

/* ---- the address list (pure) ---- */

static bool same(const struct sn_addr *a, const struct sn_addr *b)
{
	return a->family == b->family && a->port == b->port && !memcmp(a->ip, b->ip, 4);
}

static int find(const struct sn_addrlist *l, const struct sn_addr *a)
{
	for (uint32_t i = 0; i < l->n; i++)
		if (same(&l->v[i], a))
			return (int)i;
	return -1;
}

void sn_addrlist_init(struct sn_addrlist *l, const struct sn_addr *a)
{
	memset(l, 0, sizeof(*l));
	if (a->family == SN_AF_INET)
		l->v[l->n++] = *a;
}

bool sn_addrlist_set(struct sn_addrlist *l, const struct sn_addr *a, uint32_t k)
{
	struct sn_addrlist nl = { .n = 0 };
	const struct sn_addr *was = sn_addrlist_cur(l);
	int at;

	for (uint32_t i = 0; i < k && nl.n < SN_RESOLVE_ADDRS; i++)
		if (a[i].family == SN_AF_INET && find(&nl, &a[i]) < 0)
			nl.v[nl.n++] = a[i];
	if (!nl.n)
		return false;
	at = was ? find(&nl, was) : -1;
	nl.cur = at < 0 ? 0 : (uint32_t)at;
	*l = nl;
	return at < 0;
}

bool sn_addrlist_next(struct sn_addrlist *l)
{
	if (l->n < 2)
		return false;
	l->cur = (l->cur + 1) % l->n;
	return true;
}

const struct sn_addr *sn_addrlist_cur(const struct sn_addrlist *l)
{
	return l->n ? &l->v[l->cur] : NULL;
}

enum sn_resolve_step sn_resolve_due(uint64_t now, uint64_t next_ns, uint64_t since_ns,
				    uint64_t last_rx_ns, uint64_t silent_ns)
{
	uint64_t heard = last_rx_ns > since_ns ? last_rx_ns : since_ns;

	if (silent_ns && now >= heard && now - heard >= silent_ns)
		return SN_RESOLVE_NEXT;
	return now >= next_ns ? SN_RESOLVE_AGAIN : SN_RESOLVE_WAIT;
}

/* ---- the node's names ---- */

/* Move the peer to the address in use; log why. */
static void take(struct sn_node *n, struct sn_resolve_name *e, struct sn_peer *p,
		 uint64_t now, const char *why)
{
	const struct sn_addr *a = sn_addrlist_cur(&e->addrs);
	char from[32], to[32];

	e->since_ns = now;
	if (!a || same(a, &p->s.endpoint))
		return;
	sn_log(&n->host, SN_LOG_INFO, "peer %s (%u): %s; endpoint %s -> %s (address %u of %u of %s)",
	       p->name, p->id, why, sn__ctl_addr_str(&p->s.endpoint, from, sizeof(from)),
	       sn__ctl_addr_str(a, to, sizeof(to)), e->addrs.cur + 1, e->addrs.n, e->host);
	p->s.endpoint = *a;
	memset(&p->s.local, 0, sizeof(p->s.local)); /* learned for the old address */
}

/* The A records of res, with e's port. */
static uint32_t collect(const struct sn_resolve_name *e, const struct addrinfo *res,
			struct sn_addr v[SN_RESOLVE_ADDRS])
{
	uint32_t k = 0;

	for (; res && k < SN_RESOLVE_ADDRS; res = res->ai_next) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)res->ai_addr;

		if (res->ai_family != AF_INET || !sin)
			continue;
		memset(&v[k], 0, sizeof(v[k]));
		v[k].family = SN_AF_INET;
		v[k].port = e->port;
		memcpy(v[k++].ip, &sin->sin_addr, 4);
	}
	return k;
}

static void failed(struct sn_node *n, struct sn_resolve_name *e, int status)
{
	const struct sn_addr *a = sn_addrlist_cur(&e->addrs);
	char buf[32] = "nothing";

	if (e->failing)
		return;
	e->failing = true;
	if (a)
		sn__ctl_addr_str(a, buf, sizeof(buf));
	sn_log(&n->host, SN_LOG_WARN, "peer %u: cannot resolve %s again: %s; keeping %s",
	       e->peer_id, e->host, status < 0 ? uv_strerror(status) : "no IPv4 address", buf);
}

static void on_lookup(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct sn_resolve_name *e = req->data;
	struct sn_node *n = e->n;
	struct sn_addr v[SN_RESOLVE_ADDRS];
	uint32_t k = status == 0 ? collect(e, res, v) : 0;
	struct sn_peer *p;
	char why[300];

	uv_freeaddrinfo(res);
	e->busy = false;
	if (e->gone) {
		free(e);
		return;
	}
	if (status == UV_ECANCELED)
		return;
	if (!k)
		return failed(n, e, status);
	if (e->failing)
		sn_log(&n->host, SN_LOG_INFO, "peer %u: %s resolves again", e->peer_id, e->host);
	e->failing = false;
	p = sn_peer_find(&n->peers, e->peer_id);
	snprintf(why, sizeof(why), "%s now resolves to %u address(es)", e->host, k);
	if (sn_addrlist_set(&e->addrs, v, k) && p)
		take(n, e, p, uv_hrtime(), why);
}

static void lookup(struct sn_node *n, struct sn_resolve_name *e)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_DGRAM };
	int r;

	if (e->busy || !n->host.loop)
		return;
	e->req.data = e;
	r = uv_getaddrinfo(&n->loop, &e->req, on_lookup, e->host, NULL, &hints);
	if (r == 0)
		e->busy = true;
	else
		failed(n, e, r);
}

/* The silence rule: nothing heard from the address in use for
 * SN_RESOLVE_SILENT keepalive intervals. */
static void silent(struct sn_node *n, struct sn_resolve_name *e, struct sn_peer *p,
		   uint64_t now)
{
	char why[160], a[32];

	snprintf(why, sizeof(why), "nothing heard from %s for %u keepalive intervals",
		 sn__ctl_addr_str(&p->s.endpoint, a, sizeof(a)), SN_RESOLVE_SILENT);
	if (sn_addrlist_next(&e->addrs))
		take(n, e, p, now, why);
	e->since_ns = now;
}

void sn_resolve_tick(struct sn_node *n, uint64_t now)
{
	uint64_t silent_ns = (uint64_t)n->cfg->keepalive * SN_RESOLVE_SILENT * 1000000000ull;

	for (uint32_t i = 0; i < n->resolver.n; i++) {
		struct sn_resolve_name *e = n->resolver.v[i];
		struct sn_peer *p = sn_peer_find(&n->peers, e->peer_id);
		enum sn_resolve_step st;

		if (!p || e->busy)
			continue;
		st = sn_resolve_due(now, e->next_ns, e->since_ns, p->s.last_rx_ns, silent_ns);
		if (st == SN_RESOLVE_WAIT)
			continue;
		if (st == SN_RESOLVE_NEXT)
			silent(n, e, p, now);
		e->next_ns = now + SN_RESOLVE_EVERY_NS;
		lookup(n, e);
	}
}

/* The host of a configured endpoint "host:port" when it is a name (not
 * an IPv4 literal): true with host set. */
static bool endpoint_name(const struct sn_conf_peer *cp, char host[256])
{
	const char *t = cp->endpoint_text, *colon;
	uint32_t ip;

	if (!(cp->has & SN_PEER_HAS_ENDPOINT) || !t || !(colon = strrchr(t, ':')) ||
	    (size_t)(colon - t) >= 256)
		return false;
	memcpy(host, t, (size_t)(colon - t));
	host[colon - t] = '\0';
	return sn_ipv4_parse(host, &ip) < 0;
}

/* The entry of old that stays for cp (same peer, name and answer at
 * load), taken out of old; NULL when there is none. */
static struct sn_resolve_name *keep(struct sn_resolver *old, const struct sn_conf_peer *cp,
				    const char *host)
{
	for (uint32_t i = 0; i < old->n; i++) {
		struct sn_resolve_name *e = old->v[i];

		if (e && e->peer_id == cp->id && !strcmp(e->host, host) &&
		    same(&e->configured, &cp->endpoint)) {
			old->v[i] = NULL;
			return e;
		}
	}
	return NULL;
}

static struct sn_resolve_name *fresh(struct sn_node *n, const struct sn_conf_peer *cp,
				     const char *host, uint64_t now)
{
	struct sn_resolve_name *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->n = n;
	e->peer_id = cp->id;
	snprintf(e->host, sizeof(e->host), "%s", host);
	e->port = cp->endpoint.port;
	e->configured = cp->endpoint;
	sn_addrlist_init(&e->addrs, &cp->endpoint);
	e->next_ns = now; /* at once: all its A records */
	e->since_ns = now;
	return e;
}

static void drop(struct sn_resolve_name *e)
{
	if (!e)
		return;
	if (e->busy) {
		e->gone = true; /* on_lookup frees it */
		uv_cancel((uv_req_t *)&e->req);
	} else {
		free(e);
	}
}

/* The names of a reload's config are looked for among the old entries one
 * by one: fine for the few names a node has (a spoke: its hub). */
void sn_resolve_sync(struct sn_node *n, uint64_t now)
{
	const struct sn_config *c = n->cfg;
	struct sn_resolver old = n->resolver;
	struct sn_resolve_name **v = calloc(c->n_peers ? c->n_peers : 1, sizeof(*v));
	uint32_t k = 0;
	char host[256];

	if (!v) {
		sn_log(&n->host, SN_LOG_ERROR, "out of memory: endpoint names are not resolved again");
		return;
	}
	for (uint32_t i = 0; i < c->n_peers; i++) {
		const struct sn_conf_peer *cp = &c->peers[i];

		if (endpoint_name(cp, host) &&
		    ((v[k] = keep(&old, cp, host)) || (v[k] = fresh(n, cp, host, now))))
			k++;
	}
	for (uint32_t i = 0; i < old.n; i++)
		drop(old.v[i]);
	free(old.v);
	n->resolver.v = v;
	n->resolver.n = k;
}

void sn_resolve_stop(struct sn_node *n)
{
	for (uint32_t i = 0; i < n->resolver.n; i++)
		drop(n->resolver.v[i]);
	free(n->resolver.v);
	memset(&n->resolver, 0, sizeof(n->resolver));
}
