/* SPDX-License-Identifier: MIT */
/*
 * tests/test_config_json.c: the strict JSON reader of the config loader
 * (core/config_json.c). A table of invalid texts with their exact message
 * (line:column included) and a table of valid texts with the tree they
 * give; node positions; and whole configs through sn_config_load_buffer()
 * (numbers that are exact integers, surrogate pairs in a name).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config_priv.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define KEY_HUB "cZ3k4qThZTPxNA/DxpsHshSz01z5SPDNGir2jbG082o="

/* ---- helpers ----------------------------------------------------------- */

struct dump {
	char buf[1024];
	size_t len;
};

static void put(struct dump *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct dump *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	d->len += (size_t)vsnprintf(d->buf + d->len, sizeof(d->buf) - d->len, fmt, ap);
	va_end(ap);
	assert_true(d->len < sizeof(d->buf));
}

/* A string scalar in double quotes, bytes outside printable ASCII as \xNN. */
static void put_str(struct dump *d, const struct sn__cn *n)
{
	put(d, "\"");
	for (size_t i = 0; i < n->len; i++) {
		unsigned char c = (unsigned char)n->s[i];

		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			put(d, "\\x%02x", c);
		else
			put(d, "%c", c);
	}
	put(d, "\"");
}

/* The tree in a compact form: plain scalars bare, strings quoted. */
static void dump(struct dump *d, const struct sn__cn *n)
{
	const struct sn__cn *k;

	if (n->kind == SN__CN_SCALAR) {
		if (n->plain)
			put(d, "%s", n->s);
		else
			put_str(d, n);
		return;
	}
	put(d, n->kind == SN__CN_MAP ? "{" : "[");
	for (k = n->first; k; k = k->next) {
		if (k != n->first)
			put(d, ",");
		dump(d, k);
		if (n->kind == SN__CN_MAP) {
			put(d, ":");
			dump(d, k->val);
		}
	}
	put(d, n->kind == SN__CN_MAP ? "}" : "]");
}

struct parsed {
	struct sn__ld ld;
	struct sn_config c;
	char err[256];
	int rc;
};

static void parse(struct parsed *p, const char *text, size_t len)
{
	memset(p, 0, sizeof(*p));
	p->ld.c = &p->c;
	p->ld.name = "t.json";
	p->ld.err = p->err;
	p->ld.err_len = sizeof(p->err);
	sn_arena_init(&p->ld.tmp, 0);
	p->rc = sn__conf_parse(&p->ld, NULL, text, len, &p->ld.root);
}

static void done(struct parsed *p)
{
	sn_arena_free(&p->ld.tmp);
}

/* ---- invalid texts ----------------------------------------------------- */

static void test_json_invalid_refused_with_place(void **state)
{
	static const struct {
		const char *in, *err;
	} t[] = {
		/* what the issue lists */
		{ "{\"a\": 1,}", "t.json:1:9: invalid JSON: a trailing comma before '}' (JSON allows none; remove the comma)" },
		{ "[1, 2,\n]", "t.json:2:1: invalid JSON: a trailing comma before ']' (JSON allows none; remove the comma)" },
		{ "{'a': 1}", "t.json:1:2: invalid JSON: strings take double quotes, not single quotes" },
		{ "{\"a\": 'x'}", "t.json:1:7: invalid JSON: strings take double quotes, not single quotes" },
		{ "{node: 1}", "t.json:1:2: invalid JSON: member names take double quotes (write \"node\")" },
		{ "# hub\n{}", "t.json:1:1: invalid JSON: JSON has no comments (remove it)" },
		{ "{\"a\": 1 // one\n}", "t.json:1:9: invalid JSON: JSON has no comments (remove it)" },
		{ "{/* x */}", "t.json:1:2: invalid JSON: JSON has no comments (remove it)" },
		{ "{\"a\": 1} # end", "t.json:1:10: invalid JSON: text after the JSON value (a file holds one value; is a ',' or a bracket missing?)" },
		{ "node:\n  id: 1\n", "t.json:1:1: invalid JSON: 'node:' is YAML, not JSON (a .json file must hold JSON; name a YAML config .yaml)" },
		{ "{\"a\": 1,\n \"b\": 2,\n \"a\": 3}", "t.json:3:2: invalid JSON: duplicate member name \"a\" (first at line 1, column 2)" },
		{ "{\"x\": {\"b\": 1, \"c\": 1, \"b\": 2, \"c\": 2, \"b\": 3}}", "t.json:1:24: invalid JSON: duplicate member name \"b\" (first at line 1, column 8)" },
		{ "[\"\\ud83d\"]", "t.json:1:3: invalid JSON: lone surrogate \\ud83d (a high surrogate must be followed by a low one, \\uDC00-\\uDFFF)" },
		{ "[\"\\ud83dx\"]", "t.json:1:3: invalid JSON: lone surrogate \\ud83d (a high surrogate must be followed by a low one, \\uDC00-\\uDFFF)" },
		{ "[\"\\ud83d\\u0041\"]", "t.json:1:3: invalid JSON: lone surrogate \\ud83d (a high surrogate must be followed by a low one, \\uDC00-\\uDFFF)" },
		{ "[\"ok \\ude00\"]", "t.json:1:6: invalid JSON: lone low surrogate \\ude00 (it must follow a high surrogate \\uD800-\\uDBFF)" },
		{ "[\"a\tb\"]", "t.json:1:4: invalid JSON: control character 0x09 in a string (write it as an escape, e.g. \\n or \\u0009)" },
		{ "[\"line\nbreak\"]", "t.json:1:7: invalid JSON: control character 0x0a in a string (write it as an escape, e.g. \\n or \\u000a)" },
		{ "[01]", "t.json:1:2: invalid JSON: a number with a leading zero ('01'; JSON numbers start with 0 only when they are 0 or 0.x)" },
		{ "[-007]", "t.json:1:2: invalid JSON: a number with a leading zero ('-007'; JSON numbers start with 0 only when they are 0 or 0.x)" },
		{ "[NaN]", "t.json:1:2: invalid JSON: NaN is not a JSON number (JSON has no NaN or Infinity)" },
		{ "[Infinity]", "t.json:1:2: invalid JSON: Infinity is not a JSON number (JSON has no NaN or Infinity)" },
		{ "[-Infinity]", "t.json:1:2: invalid JSON: -Infinity is not a JSON number (JSON has no NaN or Infinity)" },
		/* numbers */
		{ "[+1]", "t.json:1:2: invalid JSON: a JSON number starts with '-' or a digit, not '+'" },
		{ "[.5]", "t.json:1:2: invalid JSON: a JSON number starts with '-' or a digit, not '.'" },
		{ "[1.]", "t.json:1:2: invalid JSON: a '.' in a number must be followed by a digit" },
		{ "[1.e3]", "t.json:1:2: invalid JSON: a '.' in a number must be followed by a digit" },
		{ "[1e]", "t.json:1:2: invalid JSON: an exponent in a number needs digits" },
		{ "[1e+]", "t.json:1:2: invalid JSON: an exponent in a number needs digits" },
		{ "[-]", "t.json:1:2: invalid JSON: '-' must be followed by a digit" },
		{ "[0x10]", "t.json:1:3: invalid JSON: expected ',' or ']' after an array item, got 'x10'" },
		{ "[1 2]", "t.json:1:4: invalid JSON: expected ',' or ']' after an array item, got '2'" },
		/* literals */
		{ "[True]", "t.json:1:2: invalid JSON: 'True' is not a JSON value (write true, in lower case)" },
		{ "[NULL]", "t.json:1:2: invalid JSON: 'NULL' is not a JSON value (write null, in lower case)" },
		{ "[nul]", "t.json:1:2: invalid JSON: expected a JSON value, got 'nul'" },
		{ "[truex]", "t.json:1:2: invalid JSON: expected a JSON value, got 'truex'" },
		{ "[hub]", "t.json:1:2: invalid JSON: expected a JSON value, got 'hub'" },
		/* strings */
		{ "[\"abc", "t.json:1:2: invalid JSON: a string is not closed (missing '\"')" },
		{ "[\"abc\\", "t.json:1:6: invalid JSON: a string is not closed (missing '\"')" },
		{ "[\"\\x41\"]", "t.json:1:3: invalid JSON: '\\x' is not a JSON escape (valid: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)" },
		{ "[\"\\'\"]", "t.json:1:3: invalid JSON: '\\'' is not a JSON escape (valid: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)" },
		{ "[\"\\u12\"]", "t.json:1:3: invalid JSON: '\\u' must be followed by 4 hex digits" },
		{ "[\"\\u12g4\"]", "t.json:1:3: invalid JSON: '\\u' must be followed by 4 hex digits" },
		{ "[\"\xff\"]", "t.json:1:3: invalid JSON: invalid UTF-8 in a string (byte 0xff)" },
		{ "[\"\xc0\xaf\"]", "t.json:1:3: invalid JSON: invalid UTF-8 in a string (byte 0xc0)" },   /* overlong '/' */
		{ "[\"\xed\xa0\x80\"]", "t.json:1:3: invalid JSON: invalid UTF-8 in a string (byte 0xed)" }, /* U+D800 in UTF-8 */
		{ "[\"\xf4\x90\x80\x80\"]", "t.json:1:3: invalid JSON: invalid UTF-8 in a string (byte 0xf4)" }, /* above U+10FFFF */
		{ "[\"\xe2\x82\"]", "t.json:1:3: invalid JSON: invalid UTF-8 in a string (byte 0xe2)" },  /* cut short */
		{ "[\"\\u0000\"]", "t.json:1:2: a value contains a NUL character (remove it)" },
		/* structure */
		{ "{\"a\" 1}", "t.json:1:6: invalid JSON: expected ':' after a member name, got '1'" },
		{ "{\"a\": 1 \"b\": 2}", "t.json:1:9: invalid JSON: expected ',' or '}' after a member, got '\"'" },
		{ "{\"a\": }", "t.json:1:7: invalid JSON: expected a JSON value, got '}'" },
		{ "{,}", "t.json:1:2: invalid JSON: expected a member name in double quotes, got ','" },
		{ "[,1]", "t.json:1:2: invalid JSON: expected a JSON value, got ','" },
		{ "{\"a\": [1, 2}", "t.json:1:12: invalid JSON: expected ',' or ']' after an array item, got '}'" },
		{ "{\"a\": 1", "t.json:1:8: invalid JSON: the text ends where ',' or '}' after a member was expected" },
		{ "[", "t.json:1:2: invalid JSON: the text ends where a JSON value was expected" },
		{ "{} {}", "t.json:1:4: invalid JSON: text after the JSON value (a file holds one value; is a ',' or a bracket missing?)" },
		{ "[\xc3\xa9]", "t.json:1:2: invalid JSON: expected a JSON value, got byte 0xc3" },
		{ "[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]", "t.json:1:17: invalid JSON: nested more than 16 levels deep (a config is at most 4 deep)" },
		/* columns count characters, not bytes */
		{ "[\"\xc3\xa9\xc3\xa9\", x]", "t.json:1:8: invalid JSON: expected a JSON value, got 'x'" },
	};
	struct parsed p;

	for (size_t i = 0; i < N(t); i++) {
		parse(&p, t[i].in, strlen(t[i].in));
		if (p.rc != -EINVAL || strcmp(p.err, t[i].err))
			print_error("case %zu: %s\n  got  %d %s\n  want %s\n", i, t[i].in, p.rc, p.err,
				    t[i].err);
		assert_int_equal(p.rc, -EINVAL);
		assert_string_equal(p.err, t[i].err);
		done(&p);
	}
}

/* ---- valid texts ------------------------------------------------------- */

static void test_json_valid_gives_tree(void **state)
{
	static const struct {
		const char *in, *tree;
	} t[] = {
		{ "{}", "{}" },
		{ " [ ] ", "[]" },
		{ "\xef\xbb\xbf{\"a\": 1}", "{\"a\":1}" },   /* a byte order mark is skipped */
		{ "\t{\r\n\"a\"\t:\n[true, false, null]\r\n}\n", "{\"a\":[true,false,null]}" },
		{ "\"top\"", "\"top\"" },
		{ "42", "42" },
		/* every escape */
		{ "[\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"]", "[\"\\x22 \\x5c / \\x08 \\x0c \\x0a \\x0d \\x09\"]" },
		{ "[\"\\u0041\\u00e9\\u20AC\"]", "[\"A\\xc3\\xa9\\xe2\\x82\\xac\"]" },
		/* surrogate pairs */
		{ "[\"\\ud83d\\ude00\"]", "[\"\\xf0\\x9f\\x98\\x80\"]" },
		{ "[\"\\uD834\\uDD1E x\"]", "[\"\\xf0\\x9d\\x84\\x9e x\"]" },
		{ "[\"\\udbff\\udfff\"]", "[\"\\xf4\\x8f\\xbf\\xbf\"]" },
		/* raw UTF-8 as it stands */
		{ "[\"h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"]", "[\"h\\xc3\\xa9 \\xe2\\x82\\xac \\xf0\\x9f\\x98\\x80\"]" },
		{ "[\"\"]", "[\"\"]" },
		/* numbers: exact integers canonical, the rest as written */
		{ "[0, -0, 7, -7, 1420]", "[0,0,7,-7,1420]" },
		{ "[2e3, 2E3, 2e+3, 5.0, 1420.000, 14.2e2, 142000e-2, 0.5e1]", "[2000,2000,2000,5,1420,1420,1420,5]" },
		{ "[0e0, 0.0, -0.0e-5, 1e0, 100]", "[0,0,0,1,100]" },
		{ "[1.5, 1e-3, -2.25, 0.1e1000000]", "[1.5,1e-3,-2.25,0.1e1000000]" },
		{ "[1e39, 1e40]", "[1000000000000000000000000000000000000000,1e40]" },
		{ "[1.0000000000000000000000000000000000000000000000000]", "[1]" },
		/* names may be anything a string is, and are not plain */
		{ "{\"\": 1, \"a b\": 2, \"\\u00e9\": 3}", "{\"\":1,\"a b\":2,\"\\xc3\\xa9\":3}" },
		{ "{\"a\": {\"a\": {\"a\": 1}}}", "{\"a\":{\"a\":{\"a\":1}}}" },
		{ "[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]", "[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]" },
		/* nothing but whitespace: no tree (the loader says the file is empty) */
		{ " \n\t ", "" },
	};
	struct parsed p;
	struct dump d;

	for (size_t i = 0; i < N(t); i++) {
		parse(&p, t[i].in, strlen(t[i].in));
		if (p.rc)
			print_error("case %zu: %s: %s\n", i, t[i].in, p.err);
		assert_int_equal(p.rc, 0);
		memset(&d, 0, sizeof(d));
		if (p.ld.root)
			dump(&d, p.ld.root);
		assert_string_equal(d.buf, t[i].tree);
		done(&p);
	}
}

/* Strings are not plain, numbers and literals are: the typed getters tell
 * "1420" from 1420 as they do in YAML. */
static void test_json_plain_flags(void **state)
{
	static const char text[] = "{\"s\": \"1420\", \"n\": 1420, \"b\": true, \"z\": null}";
	const struct sn__cn *k;
	struct parsed p;
	bool want[] = { false, true, true, true };
	int i = 0;

	parse(&p, text, strlen(text));
	assert_int_equal(p.rc, 0);
	for (k = p.ld.root->first; k; k = k->next, i++) {
		assert_false(k->plain);
		assert_int_equal(k->val->plain, want[i]);
	}
	done(&p);
}

/* Every node carries the line and column it starts at (a string: its
 * opening quote), counted in characters. */
static void test_json_positions(void **state)
{
	static const char text[] =
		"{\n"                                  /* 1 */
		"  \"node\": {\"id\": 1,\n"            /* 2 */
		"    \"role\": \"hub\"},\n"            /* 3 */
		"  \"\xc3\xa9t\xc3\xa9\": [ \"x\", -2.5e1 ]\n" /* 4 */
		"}\n";
	static const struct {
		const char *path;
		uint32_t line, col;
	} want[] = {
		{ "root", 1, 1 },   { "node", 2, 3 },   { "node=", 2, 11 }, { "id", 2, 12 },
		{ "id=", 2, 18 },   { "role", 3, 5 },   { "role=", 3, 13 }, { "ete", 4, 3 },
		{ "ete=", 4, 10 },  { "ete[0]", 4, 12 }, { "ete[1]", 4, 17 },
	};
	const struct sn__cn *r, *node, *id, *role, *ete, *got[N(want)];
	struct parsed p;

	parse(&p, text, strlen(text));
	assert_int_equal(p.rc, 0);
	r = p.ld.root;
	node = r->first;
	id = node->val->first;
	role = id->next;
	ete = node->next;
	got[0] = r, got[1] = node, got[2] = node->val, got[3] = id, got[4] = id->val;
	got[5] = role, got[6] = role->val, got[7] = ete, got[8] = ete->val;
	got[9] = ete->val->first, got[10] = ete->val->first->next;
	for (size_t i = 0; i < N(want); i++) {
		if (got[i]->line != want[i].line || got[i]->col != want[i].col)
			print_error("%s at %u:%u, want %u:%u\n", want[i].path, got[i]->line,
				    got[i]->col, want[i].line, want[i].col);
		assert_int_equal(got[i]->line, want[i].line);
		assert_int_equal(got[i]->col, want[i].col);
	}
	assert_string_equal(ete->val->first->next->s, "-25");
	done(&p);
}

/* Only a name ending in .json (any case) is read as JSON. */
static void test_json_by_name(void **state)
{
	static const char text[] = "{a: 1}"; /* YAML flow, not JSON */
	static const char *const json[] = { "x.json", "X.JSON", "/etc/subnetra/hub.Json" };
	static const char *const yaml[] = { "x.yaml", "x.yml", "json", "x.json.yaml", "x.jsn" };
	struct parsed p;

	for (size_t i = 0; i < N(json); i++) {
		memset(&p, 0, sizeof(p));
		p.ld.name = json[i];
		p.ld.err = p.err;
		p.ld.err_len = sizeof(p.err);
		sn_arena_init(&p.ld.tmp, 0);
		assert_int_equal(sn__conf_parse(&p.ld, NULL, text, strlen(text), &p.ld.root), -EINVAL);
		done(&p);
	}
	for (size_t i = 0; i < N(yaml); i++) {
		memset(&p, 0, sizeof(p));
		p.ld.name = yaml[i];
		sn_arena_init(&p.ld.tmp, 0);
		assert_int_equal(sn__conf_parse(&p.ld, NULL, text, strlen(text), &p.ld.root), 0);
		assert_int_equal(p.ld.root->kind, SN__CN_MAP);
		done(&p);
	}
}

/* ---- whole configs ----------------------------------------------------- */

static const char SPOKE_JSON[] =
	"{\"node\": {\"id\": %s, \"role\": \"spoke\", \"private_key_file\": \"k\"},\n"
	" \"overlay\": {\"subnet\": \"10.0.0.0/24\", \"address\": \"10.0.0.2\", \"mtu\": %s},\n"
	" \"hub\": {\"id\": 1, \"name\": \"%s\", \"public_key\": \"" KEY_HUB "\",\n"
	"         \"endpoint\": \"172.31.2.1:51820\"},\n"
	" \"keepalive\": %s,\n"
	" \"plugins\": {\"options\": {\"raw_direct\": {\"label\": \"%s\"}}}}\n";

static int load_spoke(const char *id, const char *mtu, const char *name, const char *ka,
		      const char *label, struct sn_config **c, char *err, size_t len)
{
	char text[1024];

	snprintf(text, sizeof(text), SPOKE_JSON, id, mtu, name, ka, label);
	return sn_config_load_buffer("s.json", text, strlen(text), false, c, err, len);
}

/* An integer key takes any number whose value is an exact integer; others
 * are refused as YAML's 1.5 would be. */
static void test_json_config_integers(void **state)
{
	static const struct {
		const char *id, *mtu, *ka;
		uint32_t want_id, want_mtu, want_ka;
		const char *err;
	} t[] = {
		{ "2", "1420", "25", 2, 1420, 25, NULL },
		{ "2e0", "1.42e3", "2.5e1", 2, 1420, 25, NULL },
		{ "20e-1", "1420.0", "0", 2, 1420, 0, NULL },
		{ "2.000", "14200e-1", "0e5", 2, 1420, 0, NULL },
		{ "1.5", "1420", "25", 0, 0, 0, "s.json:1:17: node.id: expected an integer 1..4294967294, got '1.5'" },
		{ "2", "1420.5", "25", 0, 0, 0, "s.json:2:69: overlay.mtu: expected an integer 576..9000, got '1420.5'" },
		{ "2", "9e3", "1e-1", 0, 0, 0, "s.json:5:15: keepalive: expected an integer 0..3600, got '1e-1'" },
		{ "4294967295", "1420", "25", 0, 0, 0, "s.json:1:17: node.id: 4294967295 is out of range (expected 1..4294967294)" },
		{ "4.294967295e9", "1420", "25", 0, 0, 0, "s.json:1:17: node.id: 4294967295 is out of range (expected 1..4294967294)" },
		{ "-2", "1420", "25", 0, 0, 0, "s.json:1:17: node.id: expected an integer 1..4294967294, got '-2'" },
		{ "2", "\"1420\"", "25", 0, 0, 0, "s.json:2:69: overlay.mtu: expected an integer 576..9000, got the string \"1420\" (remove the quotes)" },
	};
	struct sn_config *c;
	char err[256];

	for (size_t i = 0; i < N(t); i++) {
		int rc = load_spoke(t[i].id, t[i].mtu, "hub", t[i].ka, "x", &c, err, sizeof(err));

		if (!t[i].err) {
			if (rc)
				print_error("case %zu: %s\n", i, err);
			assert_int_equal(rc, 0);
			assert_int_equal(c->node_id, t[i].want_id);
			assert_int_equal(c->mtu, t[i].want_mtu);
			assert_int_equal(c->keepalive, t[i].want_ka);
			sn_config_free(c);
			continue;
		}
		if (rc != -EINVAL || strcmp(err, t[i].err))
			print_error("case %zu: got %d %s\n", i, rc, err);
		assert_int_equal(rc, -EINVAL);
		assert_string_equal(err, t[i].err);
	}
}

/* Strings written with escapes, a surrogate pair among them, are the
 * UTF-8 they stand for. */
static void test_json_config_escapes(void **state)
{
	struct sn_config *c;
	char err[256];
	int rc = load_spoke("2", "1420", "hub\\u002d1\\/x", "25", "\\ud83d\\ude00 \\u00e9\\t\\\"",
			    &c, err, sizeof(err));

	if (rc)
		print_error("%s\n", err);
	assert_int_equal(rc, 0);
	assert_string_equal(c->peers[0].name, "hub-1/x");
	assert_int_equal(c->n_plugin_opts, 1);
	assert_string_equal(c->plugin_opts[0].values[0], "\xf0\x9f\x98\x80 \xc3\xa9\t\"");
	sn_config_free(c);
	assert_int_equal(load_spoke("2", "1420", "hub", "25", "x\\ud83d", &c, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "s.json:6:52: invalid JSON: lone surrogate \\ud83d (a high surrogate must be followed by a low one, \\uDC00-\\uDFFF)");
}

/* The loader's own messages for a JSON file that is valid JSON but not a
 * config, and for one that is empty. */
static void test_json_config_shape(void **state)
{
	static const struct {
		const char *in, *err;
	} t[] = {
		{ "", "t.json:1:1: the file is empty (expected the sections node: and overlay:)" },
		{ "  \n", "t.json:1:1: the file is empty (expected the sections node: and overlay:)" },
		{ "[]", "t.json:1:1: expected a mapping of sections (node:, overlay:, ...), got a list" },
		{ "null", "t.json:1:1: expected a mapping of sections (node:, overlay:, ...), got a single value" },
		{ "{\"node\": {\"id\": 1, \"id\": 2}}", "t.json:1:20: invalid JSON: duplicate member name \"id\" (first at line 1, column 11)" },
	};
	struct sn_config *c;
	char err[256];

	for (size_t i = 0; i < N(t); i++) {
		assert_int_equal(sn_config_load_buffer("t.json", t[i].in, strlen(t[i].in), false, &c,
						       err, sizeof(err)), -EINVAL);
		assert_string_equal(err, t[i].err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_invalid_refused_with_place),
		cmocka_unit_test(test_json_valid_gives_tree),
		cmocka_unit_test(test_json_plain_flags),
		cmocka_unit_test(test_json_positions),
		cmocka_unit_test(test_json_by_name),
		cmocka_unit_test(test_json_config_integers),
		cmocka_unit_test(test_json_config_escapes),
		cmocka_unit_test(test_json_config_shape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
