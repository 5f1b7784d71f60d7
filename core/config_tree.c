/* SPDX-License-Identifier: MIT */
/*
 * core/config_tree.c: turns a YAML buffer into a tree of nodes that
 * remember their line and column (libyaml's event API; a .json file goes
 * to config_json.c instead, which builds the same tree), walks mappings
 * against key tables, and reads typed values. Every error is one line:
 *   FILE:LINE:COL: key.path: what is wrong (what would be right)
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "config_priv.h"
#include "subnetra/options.h"

/* Longest piece of user text echoed back in an error. */
#define ECHO_MAX 64

/* ---- errors and key paths ---------------------------------------------- */

/* Keep the message one line and free of terminal escapes from the file. */
static void clean(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < ' ' || *s == 0x7f)
			*s = '?';
}

static void vput(struct sn__ld *ld, const char *path, struct sn_conf_loc loc, const char *fmt,
		 va_list ap)
{
	size_t len = ld->err_len;
	const char *file;
	int n;

	if (ld->failed || !ld->err || !len) {
		ld->failed = true;
		return;
	}
	ld->failed = true;
	file = loc.file ? loc.file : ld->name;
	if (loc.line)
		n = snprintf(ld->err, len, "%s:%u:%u: ", file, loc.line, loc.column);
	else
		n = snprintf(ld->err, len, "%s: ", file);
	if (n >= 0 && (size_t)n < len && path && *path)
		n += snprintf(ld->err + n, len - (size_t)n, "%s: ", path);
	if (n >= 0 && (size_t)n < len)
		vsnprintf(ld->err + n, len - (size_t)n, fmt, ap);
	clean(ld->err);
}

int sn__conf_fail_at(struct sn__ld *ld, int rc, const char *path, struct sn_conf_loc loc,
		     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vput(ld, path, loc, fmt, ap);
	va_end(ap);
	return rc;
}

int sn__conf_fail(struct sn__ld *ld, const struct sn__cn *at, const char *fmt, ...)
{
	struct sn_conf_loc loc = sn__conf_loc(at);
	va_list ap;

	va_start(ap, fmt);
	vput(ld, ld->path, loc, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int sn__conf_fail_raw(struct sn__ld *ld, int rc, const char *msg)
{
	if (!ld->failed && ld->err && ld->err_len) {
		snprintf(ld->err, ld->err_len, "%s", msg);
		clean(ld->err);
	}
	ld->failed = true;
	return rc;
}

int sn__conf_oom(struct sn__ld *ld)
{
	struct sn_conf_loc none = { 0, 0, NULL };

	return sn__conf_fail_at(ld, -ENOMEM, NULL, none, "out of memory");
}

struct sn_conf_loc sn__conf_loc(const struct sn__cn *v)
{
	struct sn_conf_loc loc = { 0, 0, NULL };

	if (v) {
		loc.line = v->line;
		loc.column = v->col;
		loc.file = v->file;
	}
	return loc;
}

size_t sn__conf_path_key(struct sn__ld *ld, const char *key)
{
	size_t mark = ld->plen;

	snprintf(ld->path + mark, sizeof(ld->path) - mark, "%s%.*s", mark ? "." : "", ECHO_MAX,
		 key);
	ld->plen = strlen(ld->path);
	return mark;
}

size_t sn__conf_path_idx(struct sn__ld *ld, uint32_t i)
{
	size_t mark = ld->plen;

	snprintf(ld->path + mark, sizeof(ld->path) - mark, "[%u]", i);
	ld->plen = strlen(ld->path);
	return mark;
}

void sn__conf_path_pop(struct sn__ld *ld, size_t mark)
{
	ld->plen = mark;
	ld->path[mark] = '\0';
}

/* ---- building the tree from libyaml events ----------------------------- */

struct frame {
	struct sn__cn *cn;
	struct sn__cn *tail;  /* last item or key */
	bool want_key;        /* a mapping waits for a key, not a value */
};

struct builder {
	struct sn__ld *ld;
	const char *file;     /* NULL: the config itself */
	struct sn__cn **root;
	const char *buf;
	size_t len;
	struct frame st[SN__CONF_MAX_DEPTH];
	int depth;
	int docs;
};

static int fail_mark(struct builder *b, const yaml_mark_t *m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail_mark(struct builder *b, const yaml_mark_t *m, const char *fmt, ...)
{
	struct sn_conf_loc loc = { (uint32_t)m->line + 1, (uint32_t)m->column + 1, b->file };
	va_list ap;

	va_start(ap, fmt);
	vput(b->ld, NULL, loc, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static struct sn__cn *new_node(struct builder *b, enum sn__cn_kind kind, const yaml_mark_t *m)
{
	struct sn__cn *n = sn_arena_alloc(&b->ld->tmp, sizeof(*n));

	if (n) {
		n->kind = kind;
		n->line = (uint32_t)m->line + 1;
		n->col = (uint32_t)m->column + 1;
		n->file = b->file;
		n->s = "";
	}
	return n;
}

static int attach(struct builder *b, struct sn__cn *n, const yaml_mark_t *m)
{
	struct frame *f;

	if (b->depth == 0) {
		*b->root = n;
		return 0;
	}
	f = &b->st[b->depth - 1];
	if (f->cn->kind == SN__CN_MAP && !f->want_key) {
		f->tail->val = n;
		f->want_key = true;
		return 0;
	}
	if (f->cn->kind == SN__CN_MAP && n->kind != SN__CN_SCALAR)
		return fail_mark(b, m, "a key must be a word, not a list or mapping");
	if (f->tail)
		f->tail->next = n;
	else
		f->cn->first = n;
	f->tail = n;
	f->cn->n++;
	f->want_key = false;
	return 0;
}

static int push(struct builder *b, enum sn__cn_kind kind, const yaml_mark_t *m)
{
	struct sn__cn *n = new_node(b, kind, m);
	int rc;

	if (!n)
		return sn__conf_oom(b->ld);
	rc = attach(b, n, m);
	if (rc < 0)
		return rc;
	if (b->depth == SN__CONF_MAX_DEPTH)
		return fail_mark(b, m, "nested more than %d levels deep (a config is at most 4 deep)",
				 SN__CONF_MAX_DEPTH);
	b->st[b->depth].cn = n;
	b->st[b->depth].tail = NULL;
	b->st[b->depth].want_key = true;
	b->depth++;
	return 0;
}

static int scalar(struct builder *b, const yaml_event_t *ev)
{
	const yaml_mark_t *m = &ev->start_mark;
	size_t len = ev->data.scalar.length;
	struct sn__cn *n;

	if (memchr(ev->data.scalar.value, '\0', len))
		return fail_mark(b, m, "a value contains a NUL character (remove it)");
	n = new_node(b, SN__CN_SCALAR, m);
	if (!n)
		return sn__conf_oom(b->ld);
	n->s = sn_arena_strndup(&b->ld->tmp, (const char *)ev->data.scalar.value, len);
	if (!n->s)
		return sn__conf_oom(b->ld);
	n->len = len;
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	return attach(b, n, m);
}

static int event(struct builder *b, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++b->docs > 1)
			return fail_mark(b, &ev->start_mark,
					 "a second YAML document (a config file holds one; remove the '---' line)");
		return 0;
	case YAML_ALIAS_EVENT:
		return fail_mark(b, &ev->start_mark,
				 "YAML aliases are not supported (write the value out in full)");
	case YAML_SCALAR_EVENT:
		return scalar(b, ev);
	case YAML_SEQUENCE_START_EVENT:
		return push(b, SN__CN_SEQ, &ev->start_mark);
	case YAML_MAPPING_START_EVENT:
		return push(b, SN__CN_MAP, &ev->start_mark);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		b->depth--;
		return 0;
	default:
		return 0;
	}
}

/* The byte at 0-based line/column, or -1. */
static int byte_at(const struct builder *b, size_t line, size_t col)
{
	size_t i = 0;

	for (; line > 0 && i < b->len; i++)
		if (b->buf[i] == '\n')
			line--;
	if (line > 0 || i + col >= b->len)
		return -1;
	return (unsigned char)b->buf[i + col];
}

static yaml_mark_t offset_mark(const struct builder *b, size_t off)
{
	yaml_mark_t m = { 0, 0, 0 };
	size_t i;

	for (i = 0; i < off && i < b->len; i++) {
		if (b->buf[i] == '\n') {
			m.line++;
			m.column = 0;
		} else {
			m.column++;
		}
	}
	return m;
}

static int syntax(struct builder *b, const yaml_parser_t *p)
{
	yaml_mark_t m = p->problem_mark;
	const char *what = p->problem ? p->problem : "unknown problem";
	const char *tab = "";

	if (p->error == YAML_MEMORY_ERROR)
		return sn__conf_oom(b->ld);
	if (p->error == YAML_READER_ERROR)
		m = offset_mark(b, p->problem_offset);
	if (byte_at(b, m.line, m.column) == '\t')
		tab = "YAML does not allow tabs here, indent with spaces";
	if (p->context)
		return fail_mark(b, &m, "syntax error: %s (%s at line %zu column %zu%s%s)", what,
				 p->context, p->context_mark.line + 1, p->context_mark.column + 1,
				 *tab ? "; " : "", tab);
	if (*tab)
		return fail_mark(b, &m, "syntax error: %s (%s)", what, tab);
	return fail_mark(b, &m, "syntax error: %s", what);
}

static bool json_name(const char *name)
{
	size_t n = strlen(name);

	return n >= 5 && !strcasecmp(name + n - 5, ".json");
}

int sn__conf_parse(struct sn__ld *ld, const char *file, const char *buf, size_t len,
		   struct sn__cn **root)
{
	struct builder b = { .ld = ld, .file = file, .root = root, .buf = buf, .len = len };
	yaml_parser_t p;
	yaml_event_t ev;
	bool done = false;
	int rc = 0;

	if (json_name(file ? file : ld->name))
		return sn__conf_parse_json(ld, file, buf, len, root);
	if (!yaml_parser_initialize(&p))
		return sn__conf_oom(ld);
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	while (!done && rc == 0) {
		if (!yaml_parser_parse(&p, &ev)) {
			rc = syntax(&b, &p);
			break;
		}
		rc = event(&b, &ev);
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return rc;
}

/* ---- walking mappings -------------------------------------------------- */

static int unknown(struct sn__ld *ld, const struct sn__cn *k, const struct sn__field *f, size_t n)
{
	const char *cands[64], *hint;
	char known[256] = "";
	size_t i, used = 0;

	for (i = 0; i < n && i < 64; i++)
		cands[i] = f[i].key;
	hint = sn_opt_closest(k->s, cands, (uint32_t)i);
	for (i = 0; i < n; i++) {
		if (used < sizeof(known))
			used += (size_t)snprintf(known + used, sizeof(known) - used, "%s%s",
						 i ? ", " : "", f[i].key);
	}
	if (hint)
		return sn__conf_fail(ld, k, "unknown key (did you mean '%s'?)", hint);
	return sn__conf_fail(ld, k, "unknown key (expected one of: %s)", known);
}

const struct sn__cn *sn__conf_key(const struct sn__cn *m, const char *key)
{
	const struct sn__cn *k;

	if (!m || m->kind != SN__CN_MAP)
		return NULL;
	for (k = m->first; k; k = k->next)
		if (!strcmp(k->s, key))
			return k;
	return NULL;
}

const struct sn__cn *sn__conf_get(const struct sn__cn *m, const char *key)
{
	const struct sn__cn *k = sn__conf_key(m, key);

	return k ? k->val : NULL;
}

static bool is_null(const struct sn__cn *v)
{
	return v->kind == SN__CN_SCALAR && v->plain &&
	       (!v->len || !strcmp(v->s, "~") || !strcmp(v->s, "null") ||
		!strcmp(v->s, "Null") || !strcmp(v->s, "NULL"));
}

static const char *shape(const struct sn__cn *v)
{
	return v->kind == SN__CN_SEQ ? "a list" : v->kind == SN__CN_MAP ? "a mapping" : "a value";
}

static int duplicate(struct sn__ld *ld, const struct sn__cn *k, const struct sn__cn *first)
{
	size_t mark = sn__conf_path_key(ld, k->s);

	sn__conf_fail(ld, k, "duplicate key (first set at line %u)", first->line);
	sn__conf_path_pop(ld, mark);
	return -EINVAL;
}

/* Mappings of more keys than this are checked by sorting (O(n log n)). */
#define KEYS_SCAN_MAX 16

/* The first key of m (in order) that repeats an earlier one is refused,
 * naming the first time it was set. */
static int unique_keys(struct sn__ld *ld, const struct sn__cn *m)
{
	const struct sn__cn *k, *j, **v;
	const char **keys;
	uint32_t *first, i = 0;

	if (m->n <= KEYS_SCAN_MAX) {
		for (k = m->first; k; k = k->next)
			for (j = m->first; j != k; j = j->next)
				if (!strcmp(j->s, k->s))
					return duplicate(ld, k, j);
		return 0;
	}
	v = sn_arena_alloc(&ld->tmp, m->n * sizeof(*v));
	keys = sn_arena_alloc(&ld->tmp, m->n * sizeof(*keys));
	if (!v || !keys)
		return sn__conf_oom(ld);
	for (k = m->first; k; k = k->next, i++) {
		v[i] = k;
		keys[i] = k->s;
	}
	if (!(first = sn__conf_first_strs(ld, keys, i)))
		return sn__conf_oom(ld);
	for (uint32_t x = 0; x < i; x++)
		if (first[x] != x)
			return duplicate(ld, v[x], v[first[x]]);
	return 0;
}

int sn__conf_keys(struct sn__ld *ld, const struct sn__cn *m, const char *what)
{
	if (is_null(m))
		return sn__conf_fail(ld, m, "has no value (expected %s)", what);
	if (m->kind == SN__CN_SCALAR)
		return sn__conf_fail(ld, m, "expected %s, got '%.*s'", what, ECHO_MAX, m->s);
	if (m->kind != SN__CN_MAP)
		return sn__conf_fail(ld, m, "expected %s, got %s", what, shape(m));
	return unique_keys(ld, m);
}

static const struct sn__field *field(const struct sn__field *f, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(f[i].key, key))
			return &f[i];
	return NULL;
}

static int missing(struct sn__ld *ld, const struct sn__cn *m, const struct sn__field *f)
{
	const char *sep = f->hint ? " (" : "", *end = f->hint ? ")" : "";

	if (!ld->plen && !m->file) /* the top of the config (a peer file's top holds keys) */
		return sn__conf_fail(ld, m, "missing required section '%s'%s%s%s", f->key, sep,
				     f->hint ? f->hint : "", end);
	return sn__conf_fail(ld, m, "missing required key '%s'%s%s%s", f->key, sep,
			     f->hint ? f->hint : "", end);
}

int sn__conf_map(struct sn__ld *ld, const struct sn__cn *m, const struct sn__field *f, size_t n,
		 void *obj)
{
	const struct sn__cn *k;
	const struct sn__field *fk;
	size_t mark, i;
	int rc;

	rc = sn__conf_keys(ld, m, "a mapping of key: value lines");
	for (k = m->first; k && rc == 0; k = k->next) {
		mark = sn__conf_path_key(ld, k->s);
		fk = field(f, n, k->s);
		rc = fk ? fk->fn(ld, k->val, obj) : unknown(ld, k, f, n);
		sn__conf_path_pop(ld, mark);
	}
	for (i = 0; i < n && rc == 0; i++)
		if (f[i].required && !sn__conf_key(m, f[i].key))
			rc = missing(ld, m, &f[i]);
	return rc;
}

/* ---- typed values ------------------------------------------------------ */

int sn__conf_seq(struct sn__ld *ld, const struct sn__cn *v, const char *what)
{
	if (v->kind == SN__CN_SEQ)
		return 0;
	if (is_null(v))
		return sn__conf_fail(ld, v, "has no value (expected %s; write [] for none)", what);
	if (v->kind == SN__CN_SCALAR)
		return sn__conf_fail(ld, v, "expected %s, got '%.*s' (write [%.*s])", what, ECHO_MAX,
				     v->s, ECHO_MAX, v->s);
	return sn__conf_fail(ld, v, "expected %s, got a mapping", what);
}

int sn__conf_scalar(struct sn__ld *ld, const struct sn__cn *v, const char *what)
{
	if (v->kind != SN__CN_SCALAR)
		return sn__conf_fail(ld, v, "expected %s, got %s", what, shape(v));
	if (is_null(v))
		return sn__conf_fail(ld, v, "has no value (expected %s)", what);
	return 0;
}

/* A plain scalar where a number or boolean is expected. */
static int unquoted(struct sn__ld *ld, const struct sn__cn *v, const char *what)
{
	int rc = sn__conf_scalar(ld, v, what);

	if (rc == 0 && !v->plain)
		rc = sn__conf_fail(ld, v, "expected %s, got the string \"%.*s\" (remove the quotes)",
				   what, ECHO_MAX, v->s);
	return rc;
}

int sn__conf_u32(struct sn__ld *ld, const struct sn__cn *v, uint32_t min, uint32_t max,
		 uint32_t *out)
{
	char what[48];
	uint64_t x = 0;
	size_t i;
	int rc;

	snprintf(what, sizeof(what), "an integer %u..%u", min, max);
	rc = unquoted(ld, v, what);
	if (rc < 0)
		return rc;
	for (i = 0; i < v->len && x <= UINT32_MAX; i++) {
		if (v->s[i] < '0' || v->s[i] > '9' || (i == 0 && v->s[0] == '0' && v->len > 1))
			return sn__conf_fail(ld, v, "expected %s, got '%.*s'", what, ECHO_MAX, v->s);
		x = x * 10 + (uint64_t)(v->s[i] - '0');
	}
	if (x < min || x > max)
		return sn__conf_fail(ld, v, "%.*s is out of range (expected %u..%u)", ECHO_MAX, v->s,
				     min, max);
	*out = (uint32_t)x;
	return 0;
}

int sn__conf_bool(struct sn__ld *ld, const struct sn__cn *v, bool *out)
{
	int rc = unquoted(ld, v, "true or false");

	if (rc < 0)
		return rc;
	if (!strcmp(v->s, "true") || !strcmp(v->s, "True") || !strcmp(v->s, "TRUE"))
		*out = true;
	else if (!strcmp(v->s, "false") || !strcmp(v->s, "False") || !strcmp(v->s, "FALSE"))
		*out = false;
	else
		return sn__conf_fail(ld, v, "expected true or false, got '%.*s'", ECHO_MAX, v->s);
	return 0;
}

int sn__conf_str(struct sn__ld *ld, const struct sn__cn *v, const char *what, const char **out)
{
	int rc = sn__conf_scalar(ld, v, what);

	if (rc < 0)
		return rc;
	*out = sn_arena_strndup(&ld->c->arena, v->s, v->len);
	return *out ? 0 : sn__conf_oom(ld);
}

int sn__conf_prefix(struct sn__ld *ld, const struct sn__cn *v, struct sn_prefix *out)
{
	char why[160];
	int rc = sn__conf_scalar(ld, v, "a prefix such as 192.168.1.0/24");

	if (rc < 0)
		return rc;
	if (sn_prefix_parse(v->s, out, why, sizeof(why)) < 0)
		return sn__conf_fail(ld, v, "%s", why);
	return 0;
}

int sn__conf_ipv4(struct sn__ld *ld, const struct sn__cn *v, uint32_t *out)
{
	const char *slash;
	int rc = sn__conf_scalar(ld, v, "an IPv4 address such as 10.0.0.2");

	if (rc < 0)
		return rc;
	if (sn_ipv4_parse(v->s, out) == 0)
		return 0;
	slash = strchr(v->s, '/');
	if (slash && slash != v->s && (size_t)(slash - v->s) <= ECHO_MAX)
		return sn__conf_fail(ld, v, "'%.*s' is not an IPv4 address (write the address without %.*s)",
				     ECHO_MAX, v->s, ECHO_MAX, slash);
	return sn__conf_fail(ld, v, "'%.*s' is not an IPv4 address (expected a.b.c.d, e.g. 10.0.0.2)",
			     ECHO_MAX, v->s);
}

int sn__conf_port(const char *s, uint32_t min, uint16_t *out)
{
	uint32_t v = 0;
	size_t i;

	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 5 || (i == 1 && s[0] == '0'))
			return -EINVAL;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	if (i == 0 || v < min || v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

/* Relative paths are relative to the directory of the config file. */
int sn__conf_path(struct sn__ld *ld, const struct sn__cn *v, const char **out)
{
	const char *s;
	int rc = sn__conf_scalar(ld, v, "a path");

	if (rc < 0)
		return rc;
	s = v->s;
	if (s[0] == '/') {
		*out = sn_arena_strdup(&ld->c->arena, s);
	} else {
		while (s[0] == '.' && s[1] == '/')
			s += 2;
		*out = sn_arena_printf(&ld->c->arena, "%s%s%s", ld->dir,
				       ld->dir[strlen(ld->dir) - 1] == '/' ? "" : "/", s);
	}
	return *out ? 0 : sn__conf_oom(ld);
}

/* A user or group name: letters, digits, '_', '.', '-', not starting with '-'. */
int sn__conf_name(struct sn__ld *ld, const struct sn__cn *v, const char *what, const char **out)
{
	size_t i;
	int rc = sn__conf_scalar(ld, v, what);

	if (rc < 0)
		return rc;
	for (i = 0; i < v->len; i++)
		if (!isalnum((unsigned char)v->s[i]) && !strchr("_.-", v->s[i]))
			break;
	if (i < v->len || v->len > 32 || v->s[0] == '-')
		return sn__conf_fail(ld, v, "'%.*s' is not %s (letters, digits, '_', '.' and '-', at most 32)",
				     ECHO_MAX, v->s, what);
	return sn__conf_str(ld, v, what, out);
}
