/* SPDX-License-Identifier: MIT */
/*
 * core/ctl_proto.c: one control request: split the line into words, run
 * the command, end the reply with "ok" or "error <reason>". The policy
 * commands build the new list of run-time rules here and hand it to
 * sn_node_set_rules(), which validates and swaps the tree atomically; a
 * refused change leaves everything as it was.
 *
 *   [json] status | peers | metrics | reload
 *   [json] policy list
 *   policy add PREFIX forward PEER      (PEER: node id or peer name)
 *   policy add PREFIX drop
 *   policy del PREFIX                   ("delete" works too)
 *   policy replace [RULE[;RULE]...]     (RULE: "PREFIX forward PEER" or
 *                                        "PREFIX drop"; none clears)
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "node.h"

#define TRY " (try: status, peers, metrics, policy, reload)"
#define ADD_USAGE "usage: policy add PREFIX forward PEER_ID | policy add PREFIX drop"
#define RULE_USAGE "expected 'PREFIX forward PEER_ID' or 'PREFIX drop'"
/* Longest piece of a request echoed back in an error. */
#define ECHO_MAX 64

struct ctx {
	struct sn_node *n;
	uid_t uid;
	struct sn_ctl_req req;
	struct sn_ctl_out *o;
	uint64_t now;
	struct sn_ctl_later *later;
	char err[1024];
};

static int fail(struct ctx *x, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(struct ctx *x, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->err, sizeof(x->err), fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- the tokenizer ------------------------------------------------------- */

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static int check_bytes(const char *s, size_t len, char *err, size_t err_len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			snprintf(err, err_len, "request contains a control character (0x%02x at byte %zu)",
				 c, i + 1);
			return -EINVAL;
		}
	}
	return 0;
}

int sn__ctl_parse(struct sn_ctl_req *r, const char *line, size_t len, struct sn_arena *a,
		  char *err, size_t err_len)
{
	uint32_t words = 0;
	size_t i = 0;
	char *s;

	memset(r, 0, sizeof(*r));
	if (len && line[len - 1] == '\r')
		len--;
	if (check_bytes(line, len, err, err_len) < 0)
		return -EINVAL;
	s = sn_arena_strndup(a, line, len);
	if (!s)
		return -ENOMEM;
	for (;;) {
		size_t start;

		while (i < len && is_space(s[i]))
			i++;
		if (i == len)
			return 0;
		start = i;
		while (i < len && !is_space(s[i]))
			i++;
		if (++words > SN_CTL_MAX_ARGS) {
			r->overflow = true;
			return 0;
		}
		if (words == 1 && i - start == 4 && !memcmp(s + start, "json", 4)) {
			r->json = true;
			continue;
		}
		r->argv[r->argc] = sn_arena_strndup(a, s + start, i - start);
		if (!r->argv[r->argc])
			return -ENOMEM;
		r->rest[r->argc++] = s + start;
	}
}

/* ---- rules --------------------------------------------------------------- */

/* A node id written strictly in decimal (no sign, no leading zero). */
static bool parse_id(const char *s, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (s[0] < '1' || s[0] > '9')
		return false;
	v = strtoull(s, &end, 10);
	if (*end || v > 0xfffffffeull)
		return false;
	*out = (uint32_t)v;
	return true;
}

static void peer_list(struct ctx *x, char *buf, size_t len)
{
	size_t k = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < x->n->peers.n && k < len; i++) {
		const struct sn_peer *p = x->n->peers.v[i];
		int w = snprintf(buf + k, len - k, "%s%u %s", i ? ", " : "", p->id, p->name);

		k += w > 0 ? (size_t)w : 0;
	}
}

/* PEER: a node id or a peer's name, which must be a peer of this node. */
static int parse_peer(struct ctx *x, const char *s, uint32_t *id)
{
	char list[512];

	if (parse_id(s, id) && sn_peer_find(&x->n->peers, *id))
		return 0;
	for (uint32_t i = 0; i < x->n->peers.n; i++) {
		if (!strcmp(x->n->peers.v[i]->name, s)) {
			*id = x->n->peers.v[i]->id;
			return 0;
		}
	}
	peer_list(x, list, sizeof(list));
	return fail(x, -EINVAL, "'%.*s' is not a peer of this node (peers: %s)", ECHO_MAX, s,
		    list[0] ? list : "none");
}

/* words[0..cnt-1]: "PREFIX forward PEER" or "PREFIX drop"; usage is the
 * message for any other shape. */
static int parse_rule(struct ctx *x, char *const *w, uint32_t cnt, const char *usage,
		      struct sn_policy_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->origin = SN_POLICY_ORIGIN_RUNTIME;
	if (cnt < 2)
		return fail(x, -EINVAL, "%s", usage);
	if (sn_prefix_parse(w[0], &r->prefix, x->err, sizeof(x->err)) < 0)
		return -EINVAL;
	if (!strcmp(w[1], "drop") && cnt == 2) {
		r->action = SN_ACT_DROP;
		return 0;
	}
	if (!strcmp(w[1], "forward") && cnt == 3) {
		r->action = SN_ACT_FORWARD;
		return parse_peer(x, w[2], &r->peer_id);
	}
	if (!strcmp(w[1], "local"))
		return fail(x, -EINVAL, "%s: local rules come from the node config (overlay.address, "
			    "overlay.lans); use forward or drop", w[0]);
	return fail(x, -EINVAL, "%s", usage);
}

static int find_rt(const struct sn_node *n, struct sn_prefix p)
{
	for (uint32_t i = 0; i < n->n_rt_rules; i++)
		if (n->rt_rules[i].prefix.addr == p.addr && n->rt_rules[i].prefix.len == p.len)
			return (int)i;
	return -1;
}

/* "10.9.0.0/24 forward spoke-a (2)" or "10.9.0.0/24 drop". */
static const char *rule_str(const struct ctx *x, const struct sn_policy_rule *r, char *buf,
			    size_t len)
{
	const struct sn_peer *p = sn_peer_find(&x->n->peers, r->peer_id);
	char b[24];

	sn_prefix_str(&r->prefix, b, sizeof(b));
	if (r->action == SN_ACT_FORWARD)
		snprintf(buf, len, "%s forward %s (%u)", b, p && p->name[0] ? p->name : "?", r->peer_id);
	else
		snprintf(buf, len, "%s drop", b);
	return buf;
}

/* Install rules as the run-time rules, log what (the change, for the
 * operator) and report the new policy. */
static int apply(struct ctx *x, const struct sn_policy_rule *rules, uint32_t cnt,
		 const char *what)
{
	const struct sn_policy *t;

	if (sn_node_set_rules(x->n, rules, cnt, x->err, sizeof(x->err)) < 0)
		return -EINVAL;
	sn_nodelog_policy(x->n, x->uid, what);
	t = sn_policy_active(&x->n->policy);
	if (x->req.json)
		sn__ctl_printf(x->o, "{\"policy_version\":%llu,\"policy_rules\":%u,\"runtime_rules\":%u}\n",
			       (unsigned long long)(t ? sn_policy_version(t) : 0),
			       t ? sn_policy_count(t) : 0, x->n->n_rt_rules);
	else
		sn__ctl_printf(x->o, "policy version %llu, %u rules (%u run-time)\n",
			       (unsigned long long)(t ? sn_policy_version(t) : 0),
			       t ? sn_policy_count(t) : 0, x->n->n_rt_rules);
	return 0;
}

static struct sn_policy_rule *rules_alloc(struct ctx *x, uint32_t cnt)
{
	struct sn_policy_rule *v = sn_arena_alloc(x->o->arena, (cnt ? cnt : 1) * sizeof(*v));

	if (!v)
		fail(x, -ENOMEM, "out of memory");
	return v;
}

static int policy_add(struct ctx *x)
{
	struct sn_policy_rule r, *v;
	char b[24], rs[112], what[128];

	if (parse_rule(x, x->req.argv + 2, x->req.argc - 2, ADD_USAGE, &r) < 0)
		return -EINVAL;
	if (find_rt(x->n, r.prefix) >= 0)
		return fail(x, -EEXIST, "a run-time rule for %s exists already (policy del it first)",
			    sn_prefix_str(&r.prefix, b, sizeof(b)));
	v = rules_alloc(x, x->n->n_rt_rules + 1);
	if (!v)
		return -ENOMEM;
	if (x->n->n_rt_rules)
		memcpy(v, x->n->rt_rules, x->n->n_rt_rules * sizeof(*v));
	v[x->n->n_rt_rules] = r;
	snprintf(what, sizeof(what), "add %s", rule_str(x, &r, rs, sizeof(rs)));
	return apply(x, v, x->n->n_rt_rules + 1, what);
}

static int policy_del(struct ctx *x)
{
	struct sn_policy_rule *v;
	struct sn_prefix p;
	uint32_t k = 0;
	char b[24], rs[112], what[128];
	int at;

	if (x->req.argc != 3)
		return fail(x, -EINVAL, "usage: policy del PREFIX");
	if (sn_prefix_parse(x->req.argv[2], &p, x->err, sizeof(x->err)) < 0)
		return -EINVAL;
	at = find_rt(x->n, p);
	if (at < 0)
		return fail(x, -ENOENT, "no run-time rule for %s (config rules are changed in the "
			    "config file)", sn_prefix_str(&p, b, sizeof(b)));
	v = rules_alloc(x, x->n->n_rt_rules);
	if (!v)
		return -ENOMEM;
	for (uint32_t i = 0; i < x->n->n_rt_rules; i++)
		if ((int)i != at)
			v[k++] = x->n->rt_rules[i];
	snprintf(what, sizeof(what), "del %s", rule_str(x, &x->n->rt_rules[at], rs, sizeof(rs)));
	return apply(x, v, k, what);
}

/* Split s at sep into at most max pieces (in place); count returned. */
static uint32_t split(char *s, char sep, char **out, uint32_t max)
{
	uint32_t k = 0;

	while (s && k < max) {
		char *e = strchr(s, sep);

		if (e)
			*e++ = '\0';
		out[k++] = s;
		s = e;
	}
	return k;
}

/* Words of one replace item (in place); more than 3 counts as 4. */
static uint32_t words(char *s, char **w)
{
	uint32_t k = 0;

	char *save = NULL;

	for (char *t = strtok_r(s, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
		if (k < 4)
			w[k++] = t;
		else
			return 4;
	return k;
}

/* Parse item (its text kept in echo for messages) into r. 0, 1 for an empty item. */
static int replace_item(struct ctx *x, char *item, uint32_t no, struct sn_policy_rule *r)
{
	char *w[4], echo[ECHO_MAX + 1], why[sizeof(x->err)];
	uint32_t k;

	while (*item == ' ' || *item == '\t')
		item++;
	snprintf(echo, sizeof(echo), "%s", item);
	k = words(item, w);
	if (k == 0)
		return 1;
	if (parse_rule(x, w, k, RULE_USAGE, r) == 0)
		return 0;
	snprintf(why, sizeof(why), "%s", x->err);
	return fail(x, -EINVAL, "rule %u ('%s'): %s", no, echo, why);
}

static int check_dups(struct ctx *x, const struct sn_policy_rule *v, uint32_t cnt)
{
	char b[24];

	for (uint32_t i = 0; i < cnt; i++)
		for (uint32_t j = 0; j < i; j++)
			if (v[i].prefix.addr == v[j].prefix.addr && v[i].prefix.len == v[j].prefix.len)
				return fail(x, -EEXIST, "rule %u: %s is also rule %u", i + 1,
					    sn_prefix_str(&v[i].prefix, b, sizeof(b)), j + 1);
	return 0;
}

static uint32_t count_char(const char *s, char c)
{
	uint32_t k = 0;

	for (; *s; s++)
		k += *s == c;
	return k;
}

static int policy_replace(struct ctx *x)
{
	const char *rest = x->req.argc > 2 ? x->req.rest[2] : "";
	uint32_t max = count_char(rest, ';') + 1, cnt = 0, k;
	char what[64];
	char *text = sn_arena_strdup(x->o->arena, rest);
	char **items = sn_arena_alloc(x->o->arena, max * sizeof(char *));
	struct sn_policy_rule *v = rules_alloc(x, max);

	if (!text || !items || !v)
		return fail(x, -ENOMEM, "out of memory");
	k = split(text, ';', items, max);
	for (uint32_t i = 0; i < k; i++) {
		int r = replace_item(x, items[i], cnt + 1, &v[cnt]);

		if (r < 0)
			return r;
		cnt += r == 0;
	}
	if (check_dups(x, v, cnt) < 0)
		return -EEXIST;
	snprintf(what, sizeof(what), "replace: %u run-time rule%s (was %u)", cnt,
		 cnt == 1 ? "" : "s", x->n->n_rt_rules);
	return apply(x, v, cnt, what);
}

/* ---- commands ------------------------------------------------------------ */

static int no_args(struct ctx *x)
{
	if (x->req.argc > 1)
		return fail(x, -EINVAL, "'%s' takes no arguments (got '%.*s')", x->req.argv[0],
			    ECHO_MAX, x->req.argv[1]);
	return 0;
}

static int cmd_policy(struct ctx *x)
{
	const char *sub = x->req.argc > 1 ? x->req.argv[1] : "";

	if (x->req.overflow && strcmp(sub, "replace"))
		return fail(x, -E2BIG, "too many arguments (max %d)", SN_CTL_MAX_ARGS);
	if (!strcmp(sub, "list")) {
		if (x->req.argc > 2)
			return fail(x, -EINVAL, "'policy list' takes no arguments");
		sn__ctl_policy_list(x->o, x->n, x->req.json);
		return 0;
	}
	if (!strcmp(sub, "add"))
		return policy_add(x);
	if (!strcmp(sub, "del") || !strcmp(sub, "delete"))
		return policy_del(x);
	if (!strcmp(sub, "replace"))
		return policy_replace(x);
	if (!*sub)
		return fail(x, -EINVAL, "policy needs a subcommand (list, add, del or replace)");
	return fail(x, -EINVAL, "unknown policy subcommand '%.*s' (try: list, add, del, replace)",
		    ECHO_MAX, sub);
}

/* status, status summary, status peer PEER (docs/control.md). */
static int cmd_status(struct ctx *x)
{
	struct sn_ctl_sel sel = { 0 };
	const char *sub = x->req.argc > 1 ? x->req.argv[1] : NULL;
	uint32_t id;

	if (sub && !strcmp(sub, "summary") && x->req.argc == 2) {
		sel.summary = true;
	} else if (sub && !strcmp(sub, "peer") && x->req.argc == 3) {
		if (parse_peer(x, x->req.argv[2], &id) < 0)
			return -EINVAL;
		sel.peer = sn_peer_find(&x->n->peers, id);
	} else if (sub && (!strcmp(sub, "summary") || !strcmp(sub, "peer"))) {
		return fail(x, -EINVAL, "usage: status [summary | peer PEER]");
	} else if (sub) {
		return fail(x, -EINVAL, "'status' takes no arguments, 'summary' or 'peer PEER' "
			    "(got '%.*s')", ECHO_MAX, sub);
	}
	sn_node_kernel_counters(x->n);
	sn__ctl_status(x->o, x->n, x->now, x->req.json, &sel);
	return 0;
}

/* What a reload's reply needs once the reload is done (in the reply's arena). */
struct reload_wait {
	struct sn_ctl_out *o;
	bool json;
	char who[48];            /* for the log: "control socket, uid N" */
	struct sn_ctl_later later;
};

static void error_line(struct sn_ctl_out *o, const char *err);

static void reload_done(struct sn_node *n, int rc, const char *err, void *arg)
{
	struct reload_wait *w = arg;
	const struct sn_policy *t = sn_policy_active(&n->policy);
	unsigned long long v = t ? sn_policy_version(t) : 0;

	sn_nodelog_reload(n, w->who, rc, err);
	sn__ctl_out_reset(w->o);
	if (rc < 0)
		error_line(w->o, err);
	else if (w->json)
		sn__ctl_printf(w->o, "{\"reloaded\":true,\"policy_version\":%llu}\nok\n", v);
	else
		sn__ctl_printf(w->o, "reloaded %s, policy version %llu\nok\n", n->cfg->path, v);
	if (w->later.done)
		w->later.done(w->later.arg);
}

/* 1: the reply comes when the reload is done (or at once, without a loop). */
static int cmd_reload(struct ctx *x)
{
	struct reload_wait *w = sn_arena_alloc(x->o->arena, sizeof(*w));
	int r;

	if (!w)
		return fail(x, -ENOMEM, "out of memory");
	w->o = x->o;
	w->json = x->req.json;
	snprintf(w->who, sizeof(w->who), "control socket, uid %u", (unsigned)x->uid);
	if (x->later) {
		w->later = *x->later;
		x->later->pending = w;
	} else if (x->n->host.loop) {
		return fail(x, -EINVAL, "reload needs a reply channel");
	}
	r = sn_node_reload_start(x->n, reload_done, w);
	if (r == -EBUSY)
		fail(x, r, "a reload is running already (a SIGHUP or another client's); "
		     "run it again when that one is done");
	else if (r < 0)
		fail(x, r, "cannot start a reload: %s", strerror(-r));
	if (r < 0)
		sn_nodelog_reload(x->n, w->who, r, x->err);
	return r < 0 ? r : 1;
}

static int dispatch(struct ctx *x)
{
	const char *cmd = x->req.argc ? x->req.argv[0] : "";

	if (!x->req.argc && !x->req.overflow)
		return fail(x, -EINVAL, "empty request" TRY);
	if (!strcmp(cmd, "policy"))
		return cmd_policy(x);
	if (x->req.overflow)
		return fail(x, -E2BIG, "too many arguments (max %d)", SN_CTL_MAX_ARGS);
	if (!strcmp(cmd, "status"))
		return cmd_status(x);
	if (!strcmp(cmd, "peers") || !strcmp(cmd, "metrics") || !strcmp(cmd, "reload")) {
		if (no_args(x) < 0)
			return -EINVAL;
	}
	if (!strcmp(cmd, "metrics"))
		sn_node_kernel_counters(x->n);
	if (!strcmp(cmd, "peers"))
		sn__ctl_peers(x->o, x->n, x->now, x->req.json);
	else if (!strcmp(cmd, "metrics") && x->req.json)
		return fail(x, -EINVAL, "metrics are only in the Prometheus text format (drop --json)");
	else if (!strcmp(cmd, "metrics"))
		sn__ctl_metrics(x->o, x->n, x->now);
	else if (!strcmp(cmd, "reload"))
		return cmd_reload(x);
	else
		return fail(x, -EINVAL, "unknown command '%.*s'" TRY, ECHO_MAX, cmd);
	return 0;
}

/* The status line: "error " and err with any line break made a space. */
static void error_line(struct sn_ctl_out *o, const char *err)
{
	size_t from;

	sn__ctl_out_reset(o);
	sn__ctl_put(o, "error ");
	from = o->len;
	sn__ctl_put(o, err[0] ? err : "request failed");
	for (size_t i = from; o->buf && i < o->len; i++)
		if (o->buf[i] == '\n' || o->buf[i] == '\r')
			o->buf[i] = ' ';
	sn__ctl_put(o, "\n");
}

int sn__ctl_exec(struct sn_node *n, const char *line, size_t len, uid_t uid, uint64_t now_ns,
		 struct sn_ctl_out *o, struct sn_ctl_later *later)
{
	struct ctx x = { .n = n, .uid = uid, .o = o, .now = now_ns, .later = later };
	int r = sn__ctl_parse(&x.req, line, len, o->arena, x.err, sizeof(x.err));

	if (r == -ENOMEM)
		fail(&x, r, "out of memory");
	if (r == 0)
		r = dispatch(&x);
	if (r == 1)
		return later && n->reload ? 1 : 0; /* the reply is (or will be) in o */
	if (r == 0 && o->err)
		r = fail(&x, o->err, "out of memory while formatting the reply");
	if (r < 0)
		error_line(o, x.err);
	else
		sn__ctl_put(o, "ok\n");
	return 0;
}
