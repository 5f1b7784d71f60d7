/* SPDX-License-Identifier: MIT */
/*
 * core/config_json.c: a strict JSON (RFC 8259) reader that builds the same
 * tree as the YAML reader (struct sn__cn, core/config_priv.h), every node
 * with the line and column it starts at, so the config's messages point
 * into a .json file as they do into a YAML one.
 *
 * Refused, each with its own message at its line:column: trailing commas,
 * single quotes, unquoted member names, comments, anything that is not a
 * JSON value (block YAML among it), duplicate member names, lone surrogate
 * escapes, control characters and invalid UTF-8 in strings, numbers with
 * a leading zero, NaN and Infinity, text after the value. Everything RFC
 * 8259 allows is read, surrogate pairs and every escape included; a UTF-8
 * byte order mark at the start is skipped (section 8.1 allows that).
 *
 * Strings become scalars that are not plain (quoted); numbers, true, false
 * and null become plain scalars, as the YAML reader makes them, so the
 * typed getters work unchanged. A number whose value is an exact integer
 * is written in canonical decimal (2e3, 2000.0 and 2000 all read "2000");
 * any other number keeps its text, and a getter that wants an integer
 * refuses it. Columns count characters (UTF-8 sequences), as libyaml's do.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_priv.h"

/* Digits of the longest integer written out in canonical form; a longer
 * one keeps its text (every getter refuses it as out of range anyway). */
#define CANON_MAX 40
/* Bytes of a bad token echoed in a message. */
#define WORD_MAX 16

struct jp {
	struct sn__ld *ld;
	const char *file;          /* a peers_dir file; NULL: the config itself */
	const unsigned char *p, *end;
	uint32_t line, col;
	int depth;
};

/* ---- position and errors ------------------------------------------------- */

static void step(struct jp *j, size_t n)
{
	for (; n && j->p < j->end; n--, j->p++) {
		if (*j->p == '\n') {
			j->line++;
			j->col = 1;
		} else if ((*j->p & 0xc0) != 0x80) {
			j->col++;
		}
	}
}

static int fail_at(struct jp *j, uint32_t line, uint32_t col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail_at(struct jp *j, uint32_t line, uint32_t col, const char *fmt, ...)
{
	struct sn_conf_loc loc = { line, col, j->file };
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return sn__conf_fail_at(j->ld, -EINVAL, NULL, loc, "invalid JSON: %s", msg);
}

#define FAIL(j, ...) fail_at((j), (j)->line, (j)->col, __VA_ARGS__)

static int peek(const struct jp *j)
{
	return j->p < j->end ? *j->p : -1;
}

static void skip_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		step(j, 1);
}

/* Length of the run of letters, digits and "_-+." at p (for echoes). */
static size_t word_at(const unsigned char *p, const unsigned char *end)
{
	size_t n = 0;

	while (p + n < end && n < WORD_MAX && p[n] &&
	       (strchr("_-+.", p[n]) || (p[n] >= '0' && p[n] <= '9') ||
		((p[n] | 0x20) >= 'a' && (p[n] | 0x20) <= 'z')))
		n++;
	return n;
}

static size_t word_len(const struct jp *j)
{
	return word_at(j->p, j->end);
}

/* What stands at p where a value, a member name or punctuation was wanted:
 * the message for the usual mistakes, else "expected WANT, got ...". */
static int unexpected(struct jp *j, const char *want)
{
	int c = peek(j);
	size_t n = word_len(j);

	if (c < 0)
		return FAIL(j, "the text ends where %s was expected", want);
	if (c == '\'')
		return FAIL(j, "strings take double quotes, not single quotes");
	if (c == '#' || (c == '/' && j->p + 1 < j->end && (j->p[1] == '/' || j->p[1] == '*')))
		return FAIL(j, "JSON has no comments (remove it)");
	if (n && j->p + n < j->end && j->p[n] == ':')
		return FAIL(j, "'%.*s:' is YAML, not JSON (a .json file must hold JSON; name a YAML "
			    "config .yaml)", (int)n, (const char *)j->p);
	if (n)
		return FAIL(j, "expected %s, got '%.*s'", want, (int)n, (const char *)j->p);
	if (c < 0x20 || c >= 0x7f)
		return FAIL(j, "expected %s, got byte 0x%02x", want, (unsigned)c);
	return FAIL(j, "expected %s, got '%c'", want, c);
}

/* ---- nodes ----------------------------------------------------------------- */

static struct sn__cn *node(struct jp *j, enum sn__cn_kind kind, uint32_t line, uint32_t col)
{
	struct sn__cn *n = sn_arena_alloc(&j->ld->tmp, sizeof(*n));

	if (n) {
		memset(n, 0, sizeof(*n));
		n->kind = kind;
		n->line = line;
		n->col = col;
		n->file = j->file;
		n->s = "";
	}
	return n;
}

static void append(struct sn__cn *parent, struct sn__cn **tail, struct sn__cn *n)
{
	if (*tail)
		(*tail)->next = n;
	else
		parent->first = n;
	*tail = n;
	parent->n++;
}

/* ---- strings ---------------------------------------------------------------- */

static int hex4(const unsigned char *p, const unsigned char *end, uint32_t *out)
{
	uint32_t v = 0;

	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int c = p[i], d = c >= '0' && c <= '9' ? c - '0' : (c | 0x20) >= 'a' && (c | 0x20) <= 'f'
						? (c | 0x20) - 'a' + 10 : -1;

		if (d < 0)
			return -1;
		v = v << 4 | (uint32_t)d;
	}
	*out = v;
	return 0;
}

static size_t put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A \u escape at p (p[0] == '\\', p[1] == 'u'), a surrogate pair taken
 * whole: its code point and its length in bytes. */
static int unicode_escape(struct jp *j, uint32_t *cp, size_t *len)
{
	uint32_t lo;

	if (hex4(j->p + 2, j->end, cp) < 0)
		return FAIL(j, "'\\u' must be followed by 4 hex digits");
	*len = 6;
	if (*cp >= 0xdc00 && *cp <= 0xdfff)
		return FAIL(j, "lone low surrogate \\u%04x (it must follow a high surrogate "
			    "\\uD800-\\uDBFF)", *cp);
	if (*cp < 0xd800 || *cp > 0xdbff)
		return 0;
	if (j->end - j->p < 12 || j->p[6] != '\\' || j->p[7] != 'u' ||
	    hex4(j->p + 8, j->end, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
		return FAIL(j, "lone surrogate \\u%04x (a high surrogate must be followed by a low "
			    "one, \\uDC00-\\uDFFF)", *cp);
	*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
	*len = 12;
	return 0;
}

/* One escape at p into o: bytes written, or -EINVAL. */
static int escape(struct jp *j, char *o)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *k = j->p + 1 < j->end && j->p[1] ? strchr(from, j->p[1]) : NULL;
	uint32_t cp = 0;
	size_t len = 0, w;

	if (k) {
		*o = to[k - from];
		step(j, 2);
		return 1;
	}
	if (j->p + 1 >= j->end)
		return FAIL(j, "a string is not closed (missing '\"')");
	if (j->p[1] != 'u')
		return j->p[1] < 0x20 || j->p[1] >= 0x7f
			? FAIL(j, "'\\' followed by byte 0x%02x is not a JSON escape", j->p[1])
			: FAIL(j, "'\\%c' is not a JSON escape (valid: \\\" \\\\ \\/ \\b \\f \\n \\r "
			       "\\t \\uXXXX)", j->p[1]);
	if (unicode_escape(j, &cp, &len) < 0)
		return -EINVAL;
	w = put_utf8(o, cp);
	step(j, len);
	return (int)w;
}

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlong form, no
 * surrogate, nothing above U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	size_t n = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc0 ? 2 : 0;
	unsigned char lo = 0x80, hi = 0xbf;

	if (!n || *p > 0xf4 || *p < 0xc2 || (size_t)(end - p) < n)
		return 0;
	if (*p == 0xe0)
		lo = 0xa0;
	else if (*p == 0xed)
		hi = 0x9f;
	else if (*p == 0xf0)
		lo = 0x90;
	else if (*p == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* One character of a string body at p into o: bytes written, 0 at the
 * closing quote, or -EINVAL. */
static int str_char(struct jp *j, char *o)
{
	unsigned char c = *j->p;
	size_t n;

	if (c == '"')
		return 0;
	if (c == '\\')
		return escape(j, o);
	if (c < 0x20)
		return FAIL(j, "control character 0x%02x in a string (write it as an escape, e.g. "
			    "\\n or \\u%04x)", c, c);
	n = c < 0x80 ? 1 : utf8_len(j->p, j->end);
	if (!n)
		return FAIL(j, "invalid UTF-8 in a string (byte 0x%02x)", c);
	memcpy(o, j->p, n);
	step(j, n);
	return (int)n;
}

/* Bytes from p (an opening quote) to its closing quote, or to the end:
 * the decoded text is never longer (every escape shrinks or keeps). */
static size_t extent(const struct jp *j)
{
	size_t i = 1, n = (size_t)(j->end - j->p);

	while (i < n && j->p[i] != '"')
		i += j->p[i] == '\\' ? 2 : 1;
	return i < n ? i : n;
}

/* A string at p (p[0] == '"') as a scalar that is not plain. */
static int string(struct jp *j, struct sn__cn **out)
{
	uint32_t line = j->line, col = j->col;
	struct sn__cn *n = node(j, SN__CN_SCALAR, line, col);
	char *o = n ? sn_arena_alloc(&j->ld->tmp, extent(j) + 1) : NULL;
	size_t len = 0;
	int w;

	if (!o)
		return sn__conf_oom(j->ld);
	step(j, 1);
	for (;;) {
		if (j->p >= j->end)
			return fail_at(j, line, col, "a string is not closed (missing '\"')");
		if ((w = str_char(j, o + len)) < 0)
			return w;
		if (w == 0)
			break;
		len += (size_t)w;
	}
	step(j, 1);
	if (memchr(o, '\0', len))
		return sn__conf_fail_at(j->ld, -EINVAL, NULL, sn__conf_loc(n),
					"a value contains a NUL character (remove it)");
	o[len] = '\0';
	n->s = o;
	n->len = len;
	*out = n;
	return 0;
}

/* ---- numbers ------------------------------------------------------------------ */

/* The parts of a number that passed the grammar. */
struct num {
	bool neg;
	const unsigned char *int_d, *frac_d; /* digits */
	size_t n_int, n_frac;
	long exp;                            /* clamped to +-1000000 */
};

static size_t digits(const struct jp *j, const unsigned char *p)
{
	size_t n = 0;

	while (p + n < j->end && p[n] >= '0' && p[n] <= '9')
		n++;
	return n;
}

/* The exponent at p (after 'e' or 'E'): bytes taken, or 0 when it has no digits. */
static size_t exponent(const struct jp *j, const unsigned char *p, long *exp)
{
	bool neg = p < j->end && *p == '-';
	size_t s = p < j->end && (*p == '-' || *p == '+'), n = digits(j, p + s);

	*exp = 0;
	for (size_t i = 0; i < n; i++)
		if (*exp < 1000000)
			*exp = *exp * 10 + (p[s + i] - '0');
	if (neg)
		*exp = -*exp;
	return n ? s + n : 0;
}

/* Check the grammar at p (RFC 8259, section 6): bytes taken, or -EINVAL. */
static int number_syntax(struct jp *j, struct num *v)
{
	const unsigned char *p = j->p;
	size_t k;

	memset(v, 0, sizeof(*v));
	v->neg = *p == '-';
	p += v->neg;
	v->int_d = p;
	v->n_int = digits(j, p);
	if (!v->n_int)
		return p < j->end && (*p == 'I' || *p == 'N')
			? FAIL(j, "-%.*s is not a JSON number (JSON has no NaN or Infinity)",
			       (int)word_at(p, j->end), (const char *)p)
			: FAIL(j, "'-' must be followed by a digit");
	if (*p == '0' && v->n_int > 1)
		return FAIL(j, "a number with a leading zero ('%.*s'; JSON numbers start with 0 only "
			    "when they are 0 or 0.x)", (int)(v->n_int + v->neg), (const char *)j->p);
	p += v->n_int;
	if (p < j->end && *p == '.') {
		v->frac_d = ++p;
		if (!(v->n_frac = digits(j, p)))
			return FAIL(j, "a '.' in a number must be followed by a digit");
		p += v->n_frac;
	}
	if (p < j->end && (*p == 'e' || *p == 'E')) {
		if (!(k = exponent(j, p + 1, &v->exp)))
			return FAIL(j, "an exponent in a number needs digits");
		p += 1 + k;
	}
	return (int)(p - j->p);
}

/* The canonical decimal text of v into o (CANON_MAX + 2 bytes) when v is an
 * exact integer that fits; false otherwise. Value = D x 10^(pos - |D|)
 * with D the digits of both parts, leading and trailing zeros dropped. */
static bool canonical(const struct num *v, char *o)
{
	char d[CANON_MAX];
	size_t nd = 0, lead = 0, zeros = 0, k = 0;
	long pos = (long)v->n_int + v->exp;

	for (size_t i = 0; i < v->n_int + v->n_frac; i++) {
		char c = (char)(i < v->n_int ? v->int_d[i] : v->frac_d[i - v->n_int]);

		if (c == '0') {
			if (nd)
				zeros++;
			else
				lead++;
			continue;
		}
		if (nd + zeros + 1 > CANON_MAX)
			return false;
		memset(d + nd, '0', zeros);
		nd += zeros;
		zeros = 0;
		d[nd++] = c;
	}
	pos -= (long)lead;
	if (nd == 0)
		return strcpy(o, "0"), true;
	if (pos < (long)nd || pos > CANON_MAX)
		return false;
	if (v->neg)
		o[k++] = '-';
	memcpy(o + k, d, nd);
	memset(o + k + nd, '0', (size_t)pos - nd);
	o[k + (size_t)pos] = '\0';
	return true;
}

static int number(struct jp *j, struct sn__cn **out)
{
	struct sn__cn *n = node(j, SN__CN_SCALAR, j->line, j->col);
	char canon[CANON_MAX + 2];
	struct num v;
	int len;

	if (!n)
		return sn__conf_oom(j->ld);
	if ((len = number_syntax(j, &v)) < 0)
		return len;
	n->plain = true;
	n->s = canonical(&v, canon) ? sn_arena_strdup(&j->ld->tmp, canon)
				    : sn_arena_strndup(&j->ld->tmp, (const char *)j->p, (size_t)len);
	if (!n->s)
		return sn__conf_oom(j->ld);
	n->len = strlen(n->s);
	step(j, (size_t)len);
	*out = n;
	return 0;
}

/* ---- literals --------------------------------------------------------------- */

static int literal(struct jp *j, struct sn__cn **out)
{
	static const char *const lit[] = { "true", "false", "null" };
	size_t n = word_len(j);
	struct sn__cn *v;

	for (size_t i = 0; i < 3; i++) {
		if (n != strlen(lit[i]) || memcmp(j->p, lit[i], n))
			continue;
		if (!(v = node(j, SN__CN_SCALAR, j->line, j->col)))
			return sn__conf_oom(j->ld);
		v->plain = true;
		v->s = lit[i];
		v->len = n;
		step(j, n);
		*out = v;
		return 0;
	}
	if ((n == 3 && !memcmp(j->p, "NaN", 3)) || (n == 8 && !memcmp(j->p, "Infinity", 8)))
		return FAIL(j, "%.*s is not a JSON number (JSON has no NaN or Infinity)", (int)n,
			    (const char *)j->p);
	for (size_t i = 0; i < 3; i++)
		if (n == strlen(lit[i]) && !strncasecmp((const char *)j->p, lit[i], n))
			return FAIL(j, "'%.*s' is not a JSON value (write %s, in lower case)", (int)n,
				    (const char *)j->p, lit[i]);
	return unexpected(j, "a JSON value");
}

/* ---- objects and arrays ------------------------------------------------------- */

static int value(struct jp *j, struct sn__cn **out);

static int by_name(const void *a, const void *b)
{
	const struct sn__cn *x = *(const struct sn__cn *const *)a, *y = *(const struct sn__cn *const *)b;
	int c = strcmp(x->s, y->s);

	if (c)
		return c;
	return x->line != y->line ? (x->line < y->line ? -1 : 1) : (x->col < y->col ? -1 : 1);
}

static bool before(const struct sn__cn *a, const struct sn__cn *b)
{
	return a->line < b->line || (a->line == b->line && a->col < b->col);
}

/* Member names of m must be distinct (RFC 8259 section 4 says SHOULD; a
 * config whose second "id" silently wins is a trap). Sorted, not compared
 * pairwise: an object of many members costs n log n. The message names
 * the earliest second occurrence in the file. */
static int distinct(struct jp *j, const struct sn__cn *m)
{
	const struct sn__cn **v, *k, *dup = NULL, *first = NULL;
	uint32_t i = 0;

	if (m->n < 2)
		return 0;
	if (!(v = sn_arena_alloc(&j->ld->tmp, m->n * sizeof(*v))))
		return sn__conf_oom(j->ld);
	for (k = m->first; k; k = k->next)
		v[i++] = k;
	qsort(v, m->n, sizeof(*v), by_name);
	for (i = 1; i < m->n; i++) {
		if (strcmp(v[i]->s, v[i - 1]->s) || (i > 1 && !strcmp(v[i]->s, v[i - 2]->s)))
			continue; /* a later repeat of the same name is reported by its second */
		if (!dup || before(v[i], dup)) {
			dup = v[i];
			first = v[i - 1];
		}
	}
	if (!dup)
		return 0;
	return fail_at(j, dup->line, dup->col, "duplicate member name \"%.*s\" (first at line %u, "
		       "column %u)", WORD_MAX * 4, dup->s, first->line, first->col);
}

/* After an item: ',' then another item, or the closing bracket. 1 when the
 * container goes on, 0 when it closed, or -EINVAL. */
static int next_item(struct jp *j, char close, const char *what)
{
	char want[64];

	skip_ws(j);
	if (peek(j) == close) {
		step(j, 1);
		return 0;
	}
	if (peek(j) != ',') {
		snprintf(want, sizeof(want), "',' or '%c' after %s", close, what);
		return unexpected(j, want);
	}
	step(j, 1);
	skip_ws(j);
	if (peek(j) == close)
		return FAIL(j, "a trailing comma before '%c' (JSON allows none; remove the comma)",
			    close);
	return 1;
}

static int member(struct jp *j, struct sn__cn *m, struct sn__cn **tail)
{
	struct sn__cn *k;
	int c = peek(j), rc;

	if (c == '_' || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
		return FAIL(j, "member names take double quotes (write \"%.*s\")", (int)word_len(j),
			    (const char *)j->p);
	if (c != '"')
		return unexpected(j, "a member name in double quotes");
	if ((rc = string(j, &k)) < 0)
		return rc;
	skip_ws(j);
	if (peek(j) != ':')
		return unexpected(j, "':' after a member name");
	step(j, 1);
	skip_ws(j);
	if ((rc = value(j, &k->val)) < 0)
		return rc;
	append(m, tail, k);
	return 0;
}

static int object(struct jp *j, struct sn__cn *m)
{
	struct sn__cn *tail = NULL;
	int rc;

	step(j, 1);
	skip_ws(j);
	if (peek(j) == '}') {
		step(j, 1);
		return 0;
	}
	do {
		if ((rc = member(j, m, &tail)) < 0)
			return rc;
	} while ((rc = next_item(j, '}', "a member")) == 1);
	return rc < 0 ? rc : distinct(j, m);
}

static int array(struct jp *j, struct sn__cn *a)
{
	struct sn__cn *tail = NULL, *v;
	int rc;

	step(j, 1);
	skip_ws(j);
	if (peek(j) == ']') {
		step(j, 1);
		return 0;
	}
	do {
		if ((rc = value(j, &v)) < 0)
			return rc;
		append(a, &tail, v);
	} while ((rc = next_item(j, ']', "an array item")) == 1);
	return rc;
}

static int container(struct jp *j, enum sn__cn_kind kind, struct sn__cn **out)
{
	struct sn__cn *n = node(j, kind, j->line, j->col);
	int rc;

	if (!n)
		return sn__conf_oom(j->ld);
	if (j->depth == SN__CONF_MAX_DEPTH)
		return FAIL(j, "nested more than %d levels deep (a config is at most 4 deep)",
			    SN__CONF_MAX_DEPTH);
	j->depth++;
	rc = kind == SN__CN_MAP ? object(j, n) : array(j, n);
	j->depth--;
	*out = n;
	return rc;
}

static int value(struct jp *j, struct sn__cn **out)
{
	int c = peek(j);

	if (c == '{')
		return container(j, SN__CN_MAP, out);
	if (c == '[')
		return container(j, SN__CN_SEQ, out);
	if (c == '"')
		return string(j, out);
	if (c == '-' || (c >= '0' && c <= '9'))
		return number(j, out);
	if (c == '+' || c == '.')
		return FAIL(j, "a JSON number starts with '-' or a digit, not '%c'", c);
	return literal(j, out);
}

int sn__conf_parse_json(struct sn__ld *ld, const char *file, const char *buf, size_t len,
			struct sn__cn **root)
{
	struct jp j = { .ld = ld, .file = file, .p = (const unsigned char *)buf,
			.end = (const unsigned char *)buf + len, .line = 1, .col = 1 };
	int rc;

	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
		j.p += 3;
	skip_ws(&j);
	if (j.p == j.end)
		return 0; /* no value: the loader says the file is empty */
	if ((rc = value(&j, root)) < 0)
		return rc;
	skip_ws(&j);
	if (j.p < j.end)
		return FAIL(&j, "text after the JSON value (a file holds one value; is a ',' or a "
			    "bracket missing?)");
	return 0;
}
