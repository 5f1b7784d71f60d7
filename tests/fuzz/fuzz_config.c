/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_config.c: the config loader (core/config*.c) on any
 * bytes, through sn_config_load_buffer() without key files (nothing on
 * disk is opened: a fuzzed private_key_file could name a device). Every
 * input is loaded twice, as fuzz.yaml (libyaml, config_tree.c) and as
 * fuzz.json (the strict JSON reader, config_json.c).
 *
 * Invariants, for both names:
 * - a load either succeeds, and the config holds what the rules promise
 *   (role, ids, MTU, address in the subnet, prefixes without host bits,
 *   one peer on a spoke, distinct peer ids) and its policy tree builds, or
 *   it fails with a negative errno and one line of error that starts with
 *   the file name and holds no control character;
 * - loading again with a 16-byte error buffer gives the same result and the
 *   same error cut short (no overflow: both buffers are exact-size);
 * - nothing leaks (LeakSanitizer under SN_SANITIZE or SN_FUZZ).
 * And for the JSON reader itself (sn__conf_parse_json on the input): a
 * tree it builds has every node at a line and column inside the input,
 * written back as JSON (strings escaped, numbers and literals as read) it
 * reads again into the same tree, and that text is read to the same tree
 * once more (the canonical integers are a fixed point).
 *
 * Host names in endpoints go through getaddrinfo(); the link wraps it
 * (-Wl,--wrap, STYLE rule 22) with a resolver that answers from the name
 * alone, so fuzzing never waits on DNS and runs the same everywhere.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config_priv.h"
#include "fuzz.h"
#include "policy.h"
#include "routes.h"

#define ERR_LEN 1024
#define SHORT_ERR_LEN 16

int __wrap_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		       struct addrinfo **res);
void __wrap_freeaddrinfo(struct addrinfo *ai);

/* Names ending in ".invalid" (RFC 6761) and one name in four do not
 * resolve; the rest resolve to 192.0.2.x (TEST-NET-1), x from the name. */
int __wrap_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		       struct addrinfo **res)
{
	struct {
		struct addrinfo ai;
		struct sockaddr_in sin;
	} *r;
	size_t n = node ? strlen(node) : 0;
	uint32_t h = 2166136261u;

	(void)service;
	(void)hints;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)node[i]) * 16777619u;
	if (!n || (n >= 8 && !strcmp(node + n - 8, ".invalid")) || h % 4 == 0)
		return EAI_NONAME;
	r = calloc(1, sizeof(*r));
	if (!r)
		return EAI_MEMORY;
	r->sin.sin_family = AF_INET;
	r->sin.sin_addr.s_addr = htonl(0xc0000200u | (h >> 8 & 0xff));
	r->ai.ai_family = AF_INET;
	r->ai.ai_socktype = SOCK_DGRAM;
	r->ai.ai_addrlen = sizeof(r->sin);
	r->ai.ai_addr = (struct sockaddr *)&r->sin;
	*res = &r->ai;
	return 0;
}

void __wrap_freeaddrinfo(struct addrinfo *ai)
{
	free(ai); /* one allocation, made above */
}

static void check_prefix(const struct sn_prefix *p, const char *what)
{
	FZ_CHECK(p->len <= 32, "%s: length %u", what, p->len);
	FZ_CHECK(p->len == 32 || !(p->addr & (0xffffffffu >> p->len)), "%s: host bits", what);
}

static bool in_prefix(const struct sn_prefix *p, uint32_t a)
{
	return p->len == 0 || !((p->addr ^ a) >> (32 - p->len));
}

static void check_loaded(const struct sn_config *c, const char *name)
{
	struct sn_policy *t = NULL;
	struct sn_prefix *routes;
	char err[ERR_LEN];
	uint32_t k;
	int r;

	FZ_CHECK(!strcmp(c->path, name), "path '%s'", c->path);
	FZ_CHECK(c->role == SN_ROLE_HUB || c->role == SN_ROLE_SPOKE, "role %d", c->role);
	FZ_CHECK(c->node_id >= 1 && c->node_id <= 0xfffffffeu, "node id %u", c->node_id);
	FZ_CHECK(c->mtu >= 576 && c->mtu <= 9000, "mtu %u", c->mtu);
	check_prefix(&c->subnet, "subnet");
	FZ_CHECK(in_prefix(&c->subnet, c->address), "address outside the subnet");
	FZ_CHECK(c->ifname && c->state_dir && c->control_socket && c->os && c->crypto && c->egress,
		 "a default was not filled in");
	FZ_CHECK(c->n_peers >= 1, "no peers");
	FZ_CHECK(c->role != SN_ROLE_SPOKE || c->n_peers == 1, "a spoke with %u peers", c->n_peers);
	for (uint32_t i = 0; i < c->n_lans; i++)
		check_prefix(&c->lans[i], "lan");
	for (uint32_t i = 0; i < c->n_peers; i++) {
		const struct sn_conf_peer *p = &c->peers[i];

		FZ_CHECK(p->id >= 1 && p->id <= 0xfffffffeu && p->id != c->node_id, "peer id %u",
			 p->id);
		FZ_CHECK(p->name, "peer %u has no name", p->id);
		FZ_CHECK(!(p->has & SN_PEER_HAS_PSK), "a PSK without key files");
		FZ_CHECK(sn_config_peer(c, p->id) == p, "peer id %u twice", p->id);
		FZ_CHECK(!(p->has & SN_PEER_HAS_ENDPOINT) || p->endpoint.family == SN_AF_INET,
			 "endpoint family %u", p->endpoint.family);
		for (uint32_t j = 0; j < p->n_routes; j++)
			check_prefix(&p->routes[j], "route");
	}
	for (uint32_t i = 0; i < c->n_rules; i++) {
		check_prefix(&c->rules[i].prefix, "rule");
		FZ_CHECK(c->rules[i].action == SN_ACT_FORWARD || c->rules[i].action == SN_ACT_DROP,
			 "rule action %d", c->rules[i].action);
	}
	for (uint32_t i = 0; i < c->n_plugin_opts; i++)
		FZ_CHECK(sn_config_plugin_opts(c, c->plugin_opts[i].plugin), "plugin options lookup");

	/* A config that loads must start: its policy tree builds. */
	err[0] = '\0';
	r = sn_policy_from_config(c, NULL, 0, 1, &t, err, sizeof(err));
	FZ_CHECK(r == 0, "config loads but its policy does not build (%d): %s", r, err);
	sn_policy_free(t);
	routes = sn_routes_wanted(c, &k);
	FZ_SETUP(routes, "out of memory");
	free(routes);
}

static void check_error(int r, const char *err, const char *name)
{
	size_t n = strlen(name);

	FZ_CHECK(r < 0 && r > -4096, "load returned %d", r);
	FZ_CHECK(!strncmp(err, name, n) && err[n] == ':', "error does not start with the name: %s",
		 err);
	FZ_CHECK(strlen(err) > n + 1, "empty error: %s", err);
	for (const char *s = err; *s; s++)
		FZ_CHECK((unsigned char)*s >= 0x20 && *s != 0x7f,
			 "control character 0x%02x in error: %s", (unsigned char)*s, err);
}

static void load_as(const char *name, const uint8_t *data, size_t size)
{
	char *err = malloc(ERR_LEN), *short_err = malloc(SHORT_ERR_LEN);
	struct sn_config *c = NULL, *c2 = NULL;
	int r, r2;

	FZ_SETUP(err && short_err, "out of memory");
	r = sn_config_load_buffer(name, (const char *)data, size, false, &c, err, ERR_LEN);
	if (fz_verbose())
		fprintf(stderr, "%s: %s\n", name, r ? err : "loaded");
	if (r == 0) {
		FZ_CHECK(c, "success without a config");
		check_loaded(c, name);
	} else {
		FZ_CHECK(!c, "a config on failure");
		check_error(r, err, name);
	}
	r2 = sn_config_load_buffer(name, (const char *)data, size, false, &c2, short_err,
				   SHORT_ERR_LEN);
	FZ_CHECK(r2 == r, "second load returned %d, first %d", r2, r);
	if (r) {
		FZ_CHECK(strlen(short_err) == SHORT_ERR_LEN - 1 || !strcmp(short_err, err),
			 "short error '%s'", short_err);
		FZ_CHECK(!strncmp(short_err, err, strlen(short_err)),
			 "error differs between loads: '%s' / '%s'", short_err, err);
	}
	sn_config_free(c);
	sn_config_free(c2);
	free(err);
	free(short_err);
}

/* ---- the JSON reader's round trip ------------------------------------------ */

struct text {
	char *buf;
	size_t len, cap;
};

static void emit(struct text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		t->cap = (t->len + n + 1) * 2;
		t->buf = realloc(t->buf, t->cap);
		FZ_SETUP(t->buf, "out of memory");
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

static void emit_str(struct text *t, const struct sn__cn *n)
{
	char esc[8];

	emit(t, "\"", 1);
	for (size_t i = 0; i < n->len; i++) {
		unsigned char c = (unsigned char)n->s[i];

		if (c < 0x20 || c == '"' || c == '\\') {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			emit(t, esc, 6);
		} else {
			emit(t, n->s + i, 1);
		}
	}
	emit(t, "\"", 1);
}

static void emit_tree(struct text *t, const struct sn__cn *n)
{
	if (n->kind == SN__CN_SCALAR) {
		if (n->plain)
			emit(t, n->s, n->len);
		else
			emit_str(t, n);
		return;
	}
	emit(t, n->kind == SN__CN_MAP ? "{" : "[", 1);
	for (const struct sn__cn *k = n->first; k; k = k->next) {
		if (k != n->first)
			emit(t, ",\n", 2);
		emit_tree(t, k);
		if (n->kind == SN__CN_MAP) {
			emit(t, ":", 1);
			emit_tree(t, k->val);
		}
	}
	emit(t, n->kind == SN__CN_MAP ? "}" : "]", 1);
}

static void same_tree(const struct sn__cn *a, const struct sn__cn *b)
{
	FZ_CHECK(a->kind == b->kind && a->n == b->n && a->plain == b->plain, "tree shape differs");
	FZ_CHECK(a->len == b->len && !memcmp(a->s, b->s, a->len), "scalar '%s' became '%s'", a->s,
		 b->s);
	FZ_CHECK(!a->val == !b->val, "a key lost its value");
	if (a->val)
		same_tree(a->val, b->val);
	for (a = a->first, b = b->first; a && b; a = a->next, b = b->next)
		same_tree(a, b);
	FZ_CHECK(!a && !b, "a container lost an item");
}

static void check_places(const struct sn__cn *n, uint32_t lines)
{
	FZ_CHECK(n->line >= 1 && n->line <= lines && n->col >= 1, "node at %u:%u of %u lines",
		 n->line, n->col, lines);
	if (n->val)
		check_places(n->val, lines);
	for (const struct sn__cn *k = n->first; k; k = k->next)
		check_places(k, lines);
}

struct tree {
	struct sn_config c;
	struct sn__ld ld;
	char err[ERR_LEN];
	int rc;
};

static void tree_parse(struct tree *t, const char *buf, size_t len)
{
	memset(t, 0, sizeof(*t));
	t->ld.c = &t->c;
	t->ld.name = "fuzz.json";
	t->ld.err = t->err;
	t->ld.err_len = sizeof(t->err);
	sn_arena_init(&t->ld.tmp, 0);
	t->rc = sn__conf_parse_json(&t->ld, NULL, buf, len, &t->ld.root);
}

static void json_round_trip(const uint8_t *data, size_t size)
{
	struct tree *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct text t1 = { 0 }, t2 = { 0 };
	uint32_t lines = 1;

	FZ_SETUP(a && b, "out of memory");
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	tree_parse(a, (const char *)data, size);
	if (a->rc == 0 && a->ld.root) {
		check_places(a->ld.root, lines);
		emit_tree(&t1, a->ld.root);
		tree_parse(b, t1.buf, t1.len);
		FZ_CHECK(b->rc == 0, "the written tree does not read back: %s\n%s", b->err, t1.buf);
		same_tree(a->ld.root, b->ld.root);
		emit_tree(&t2, b->ld.root);
		FZ_CHECK(t1.len == t2.len && !memcmp(t1.buf, t2.buf, t1.len), "not a fixed point");
		sn_arena_free(&b->ld.tmp);
	}
	sn_arena_free(&a->ld.tmp);
	free(t1.buf);
	free(t2.buf);
	free(a);
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	load_as("fuzz.yaml", data, size);
	load_as("fuzz.json", data, size);
	json_round_trip(data, size);
	return 0;
}
