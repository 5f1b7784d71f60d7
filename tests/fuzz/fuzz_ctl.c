/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_ctl.c: control requests (core/ctl_proto.c): the tokenizer
 * and every command, run against a hub built from a private copy of
 * conf/hub.yaml (so "reload" rereads a real file) with a fake os backend
 * whose route table is a list in memory.
 *
 * The input is cut the way the server cuts it: at the first newline and at
 * SN_CTL_MAX_LINE bytes. Bytes after the newline (which the server never
 * reads) set the node's counters, peer endpoints, epochs and times that the
 * status, peers and metrics output print; without them the node has fixed
 * values. Invariants:
 * - the tokenizer agrees with an independent split on spaces and tabs: the
 *   same words, "json" only as the first word, at most SN_CTL_MAX_ARGS words
 *   with overflow set exactly when there were more, rest[i] the line from
 *   word i on; a control character is -EINVAL naming the first one;
 * - every reply is NUL-free text ending in one status line, "ok" or
 *   "error ..."; an error reply is that line alone; with "json", every line
 *   before "ok" is one valid JSON value;
 * - after the run-time rules are cleared again, the node is back where it
 *   started: same rules, same routes in the node's list and in the fake
 *   kernel table (no route leaked or lost), every retired tree reclaimed.
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "fuzz.h"
#include "node.h"

#define SEC 1000000000ull
#define START (1000 * SEC)
#define NOW (START + 7380 * SEC)
#define MAX_KROUTES 4096

static struct sn_node *node;
static char tmpdir[64];
static char cfg_path[160];  /* node->config_path: the command line's, in the daemon */
static uint32_t base_routes;
static struct sn_prefix *base_list;

/* ---- the fake os backend: a route table ---------------------------------- */

static struct sn_prefix kroutes[MAX_KROUTES];
static uint32_t n_kroutes;

static int kfind(const struct sn_prefix *p)
{
	for (uint32_t i = 0; i < n_kroutes; i++)
		if (kroutes[i].addr == p->addr && kroutes[i].len == p->len)
			return (int)i;
	return -1;
}

static int fake_route_add(void *inst, const struct sn_prefix *p)
{
	if (kfind(p) >= 0)
		return -EEXIST;
	if (n_kroutes == MAX_KROUTES)
		return -ENOSPC;
	kroutes[n_kroutes++] = *p;
	return 0;
}

static int fake_route_del(void *inst, const struct sn_prefix *p)
{
	int i = kfind(p);

	if (i < 0)
		return -ESRCH;
	kroutes[i] = kroutes[--n_kroutes];
	return 0;
}

static const char *fake_tun_name(void *inst)
{
	return "fuzz0";
}

static const struct sn_os_ops fake_os = {
	.struct_size = sizeof(struct sn_os_ops),
	.route_add = fake_route_add,
	.route_del = fake_route_del,
	.tun_name = fake_tun_name,
};

/* ---- the state the output prints -------------------------------------------- */

struct knobs {
	uint64_t node_ctr[SN_CTR_MAX];
	uint64_t peer_ctr[2][SN_CTR_MAX];
	struct {
		uint8_t has_endpoint, has_epoch;
		uint16_t port;
		uint8_t ip[4];
		uint32_t rx_epoch;
		uint64_t epochs_accepted;
		uint64_t last_rx_ns;   /* 0 = never; taken modulo NOW */
	} peer[2];
	uint64_t start_ns;         /* modulo NOW */
	uint64_t reloads;
};

static struct knobs defaults;

static void default_knobs(void)
{
	defaults.node_ctr[SN_CTR_RX_PACKETS] = 1234;
	defaults.node_ctr[SN_CTR_DROP_AUTH_FAIL] = 12;
	defaults.peer[0].has_endpoint = 1;
	defaults.peer[0].port = 40012;
	memcpy(defaults.peer[0].ip, (uint8_t[]){ 198, 51, 100, 7 }, 4);
	defaults.peer[0].has_epoch = 1;
	defaults.peer[0].rx_epoch = 1700000100;
	defaults.peer[0].last_rx_ns = NOW - 3 * SEC;
	defaults.start_ns = START;
}

/* Apply k to the node (and to whatever peers a reload left it). */
static void apply(const struct knobs *k)
{
	memcpy(node->host.counters, k->node_ctr, sizeof(k->node_ctr));
	node->start_ns = k->start_ns % (NOW + 1);
	node->reloads = k->reloads;
	for (uint32_t i = 0; i < node->peers.n && i < 2; i++) {
		struct sn_peer *p = node->peers.v[i];

		memcpy(p->counters, k->peer_ctr[i], sizeof(p->counters));
		memset(&p->s.endpoint, 0, sizeof(p->s.endpoint));
		if (k->peer[i].has_endpoint & 1) {
			p->s.endpoint.family = SN_AF_INET;
			p->s.endpoint.port = k->peer[i].port;
			memcpy(p->s.endpoint.ip, k->peer[i].ip, 4);
		}
		p->s.rx_has_epoch = k->peer[i].has_epoch & 1;
		p->s.rx_epoch = k->peer[i].rx_epoch;
		p->s.epochs_accepted = k->peer[i].epochs_accepted;
		p->s.last_rx_ns = k->peer[i].last_rx_ns % (NOW + 1);
		/* bits 1-2: the verification state, bit 3: when it was verified */
		p->s.state = (uint8_t)((k->peer[i].has_epoch >> 1 & 3) % 3);
		p->s.verified_ns = k->peer[i].has_epoch & 8 ? p->s.last_rx_ns : 0;
	}
}

/* ---- JSON, checked ----------------------------------------------------------- */

static const char *json_value(const char *s, int depth);

static const char *json_ws(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return s;
}

static const char *json_string(const char *s)
{
	if (*s++ != '"')
		return NULL;
	for (; *s != '"'; s++) {
		if ((unsigned char)*s < 0x20)
			return NULL;
		if (*s == '\\') {
			s++;
			if (*s == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF", s[i]) || !s[i])
						return NULL;
				s += 4;
			} else if (!*s || !strchr("\"\\/bfnrt", *s)) {
				return NULL;
			}
		}
	}
	return s + 1;
}

static const char *json_number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return NULL;
	if (*s == '.') {
		if (*++s < '0' || *s > '9')
			return NULL;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (*s < '0' || *s > '9')
			return NULL;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return s;
}

static const char *json_items(const char *s, char close, bool keys, int depth)
{
	s = json_ws(s + 1);
	if (*s == close)
		return s + 1;
	for (;;) {
		if (keys) {
			s = json_string(json_ws(s));
			if (!s || *(s = json_ws(s)) != ':')
				return NULL;
			s++;
		}
		s = json_value(s, depth + 1);
		if (!s)
			return NULL;
		s = json_ws(s);
		if (*s == close)
			return s + 1;
		if (*s++ != ',')
			return NULL;
	}
}

static const char *json_value(const char *s, int depth)
{
	s = json_ws(s);
	if (depth > 64)
		return NULL;
	switch (*s) {
	case '{':
		return json_items(s, '}', true, depth);
	case '[':
		return json_items(s, ']', false, depth);
	case '"':
		return json_string(s);
	case 't':
		return strncmp(s, "true", 4) ? NULL : s + 4;
	case 'f':
		return strncmp(s, "false", 5) ? NULL : s + 5;
	case 'n':
		return strncmp(s, "null", 4) ? NULL : s + 4;
	default:
		return json_number(s);
	}
}

/* Every line of out before the last ("ok") is one JSON value. */
static void check_json_lines(const char *out)
{
	const char *nl;

	for (const char *l = out; (nl = strchr(l, '\n')) && nl[1]; l = nl + 1) {
		char *line = strndup(l, (size_t)(nl - l));
		const char *end;

		FZ_SETUP(line, "out of memory");
		end = json_value(line, 0);
		FZ_CHECK(end && !*json_ws(end), "not JSON: %s", line);
		free(line);
	}
}

/* ---- setup ------------------------------------------------------------------ */

static void copy_file(const char *from, const char *to, mode_t mode)
{
	size_t n;
	char *buf = fz_read_file(from, &n);
	FILE *f = fopen(to, "wb");

	FZ_SETUP(f && fwrite(buf, 1, n, f) == n && fclose(f) == 0 && chmod(to, mode) == 0,
		 "cannot write %s", to);
	free(buf);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void teardown(void)
{
	if (node) {
		fz_node_free(node);
		free(node);
		node = NULL;
	}
	free(base_list);
	if (tmpdir[0])
		nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* libFuzzer ends a timed run with _Exit(), so atexit() never removes the
 * directory: the next run removes those whose process is gone. */
#define STALE_PREFIX "sn-fuzz-ctl-"

static void remove_stale(void)
{
	DIR *d = opendir("/tmp");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[300], *end;
		long pid;

		if (strncmp(e->d_name, STALE_PREFIX, sizeof(STALE_PREFIX) - 1))
			continue;
		pid = strtol(e->d_name + sizeof(STALE_PREFIX) - 1, &end, 10);
		if (*end || pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "/tmp/%s", e->d_name);
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	}
	closedir(d);
}

static void setup(void)
{
	char path[160], from[4096], err[1024];
	struct sn_config *cfg;
	struct sn_prefix *want;
	uint32_t k = 0;

	remove_stale();
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/" STALE_PREFIX "%ld", (long)getpid());
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	FZ_SETUP(mkdir(tmpdir, 0700) == 0, "mkdir %s", tmpdir);
	atexit(teardown);
	snprintf(path, sizeof(path), "%s/keys", tmpdir);
	FZ_SETUP(mkdir(path, 0700) == 0, "mkdir %s", path);
	snprintf(from, sizeof(from), "%s/conf/hub.yaml", fz_source_dir());
	snprintf(path, sizeof(path), "%s/hub.yaml", tmpdir);
	copy_file(from, path, 0644);
	snprintf(from, sizeof(from), "%s/conf/keys/hub.key", fz_source_dir());
	snprintf(path, sizeof(path), "%s/keys/hub.key", tmpdir);
	copy_file(from, path, 0600);
	snprintf(cfg_path, sizeof(cfg_path), "%s/hub.yaml", tmpdir);
	FZ_SETUP(sn_config_load(cfg_path, &cfg, err, sizeof(err)) == 0, "%s", err);
	node = calloc(1, sizeof(*node));
	FZ_SETUP(node, "out of memory");
	fz_node_build(node, cfg, 1700000000);
	node->config_path = cfg_path;
	node->start_ns = START;
	node->os_ops = &fake_os;
	node->os.inst = kroutes; /* non-NULL: route changes go through the fake */
	/* the routes the daemon adds at start */
	want = sn_routes_wanted(cfg, &k);
	FZ_SETUP(want, "out of memory");
	for (uint32_t i = 0; i < k; i++)
		sn_routes_add(node, &want[i]);
	free(want);
	base_routes = node->routes.n;
	base_list = malloc((base_routes + 1) * sizeof(*base_list));
	FZ_SETUP(base_list, "out of memory");
	memcpy(base_list, node->routes.v, base_routes * sizeof(*base_list));
	FZ_SETUP(node->peers.n == 2, "hub.yaml has %u peers, not 2", node->peers.n);
	default_knobs();
}

/* ---- the tokenizer, restated ---------------------------------------------- */

static bool space(char c)
{
	return c == ' ' || c == '\t';
}

static void check_parse(const char *line, size_t len, struct sn_arena *a)
{
	struct sn_ctl_req r;
	char err[256] = "", want[256];
	size_t i = 0, n = len;
	uint32_t words = 0, argc = 0;
	bool json = false;
	int rc = sn__ctl_parse(&r, line, len, a, err, sizeof(err));

	if (n && line[n - 1] == '\r')
		n--;
	for (size_t j = 0; j < n; j++) {
		unsigned char c = (unsigned char)line[j];

		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			snprintf(want, sizeof(want),
				 "request contains a control character (0x%02x at byte %zu)", c, j + 1);
			FZ_CHECK(rc == -EINVAL, "control character accepted (%d)", rc);
			FZ_CHECK(!strcmp(err, want), "error '%s', expected '%s'", err, want);
			return;
		}
	}
	FZ_CHECK(rc == 0, "parse returned %d (%s)", rc, err);
	for (;;) {
		size_t start;

		while (i < n && space(line[i]))
			i++;
		if (i == n)
			break;
		start = i;
		while (i < n && !space(line[i]))
			i++;
		if (++words > SN_CTL_MAX_ARGS)
			break;
		if (words == 1 && i - start == 4 && !memcmp(line + start, "json", 4)) {
			json = true;
			continue;
		}
		FZ_CHECK(argc < r.argc, "word %u missing", argc);
		FZ_CHECK(strlen(r.argv[argc]) == i - start &&
			 !memcmp(r.argv[argc], line + start, i - start), "word %u is '%s'", argc,
			 r.argv[argc]);
		FZ_CHECK(strlen(r.rest[argc]) == n - start &&
			 !memcmp(r.rest[argc], line + start, n - start), "rest of word %u", argc);
		argc++;
	}
	FZ_CHECK(r.argc == argc, "%u words, expected %u", r.argc, argc);
	FZ_CHECK(r.argc <= SN_CTL_MAX_ARGS, "argc %u over the limit", r.argc);
	FZ_CHECK(r.json == json, "json flag");
	FZ_CHECK(r.overflow == (words > SN_CTL_MAX_ARGS), "overflow flag");
}

/* ---- the reply ----------------------------------------------------------- */

static void check_reply(const struct sn_ctl_out *o)
{
	const char *last;

	FZ_CHECK(o->err == 0, "output error %d", o->err);
	FZ_CHECK(o->buf && o->len > 0, "no reply");
	FZ_CHECK(strlen(o->buf) == o->len, "NUL inside the reply");
	FZ_CHECK(o->buf[o->len - 1] == '\n', "reply does not end in a newline");
	last = o->buf + o->len - 1;
	while (last > o->buf && last[-1] != '\n')
		last--;
	if (strncmp(last, "error ", 6)) {
		FZ_CHECK(!strcmp(last, "ok\n"), "last line '%s'", last);
	} else {
		FZ_CHECK(last == o->buf, "an error reply with output before it: %s", o->buf);
		FZ_CHECK(o->len > 7, "error without a reason");
		FZ_CHECK(!strchr(o->buf, '\r'), "CR in an error");
	}
}

/* Clear the run-time rules, reclaim, and check nothing stayed behind. */
static void reset(void)
{
	char err[1024] = "";

	if (node->n_rt_rules)
		FZ_CHECK(sn_node_set_rules(node, NULL, 0, err, sizeof(err)) == 0,
			 "clearing the run-time rules failed: %s", err);
	sn_policy_reclaim(&node->policy);
	FZ_CHECK(node->policy.n_retired == 0 && !node->policy.retired, "retired trees left");
	FZ_CHECK(node->routes.n == base_routes, "%u routes in the node's list, %u at start",
		 node->routes.n, base_routes);
	FZ_CHECK(n_kroutes == base_routes, "%u routes in the kernel table, %u at start", n_kroutes,
		 base_routes);
	for (uint32_t i = 0; i < base_routes; i++)
		FZ_CHECK(kfind(&base_list[i]) >= 0, "a start route is gone from the kernel table");
	FZ_CHECK(node->peers.n == 2 && node->cfg, "peers or config lost");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sn_arena a;
	struct sn_ctl_out o;
	const uint8_t *nl = memchr(data, '\n', size);
	size_t len = nl ? (size_t)(nl - data) : size;
	char *line;

	if (!node)
		setup();
	if (len > SN_CTL_MAX_LINE)
		return 0; /* the server answers "request too long" itself */
	if (nl) {
		struct knobs k;
		size_t rest = size - len - 1;

		memset(&k, 0, sizeof(k));
		memcpy(&k, nl + 1, rest < sizeof(k) ? rest : sizeof(k));
		apply(&k);
	} else {
		apply(&defaults);
	}
	line = malloc(len + 1);
	FZ_SETUP(line, "out of memory");
	memcpy(line, data, len);
	line[len] = '\0';
	sn_arena_init(&a, 0);
	check_parse(line, len, &a);
	sn__ctl_out_init(&o, &a);
	sn__ctl_exec(node, line, len, 0, NOW, &o, NULL);
	check_reply(&o);
	if (!strncmp(line + strspn(line, " \t"), "json", 4) && !strncmp(o.buf + o.len - 3, "ok\n", 3))
		check_json_lines(o.buf);
	if (fz_verbose())
		fprintf(stderr, "> %s\n%s", line, o.buf);
	reset();
	sn_arena_free(&a);
	free(line);
	return 0;
}
