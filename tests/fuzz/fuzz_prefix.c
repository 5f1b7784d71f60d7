/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_prefix.c: strict IPv4 prefix and address parsing
 * (core/prefix.c), which config, policy and control requests all go through.
 *
 * The input is one string (up to its first NUL), or two separated by a
 * space. Invariants:
 * - sn_prefix_parse and sn_ipv4_parse accept exactly what an independent
 *   strict grammar accepts (four decimal octets 0..255 without leading
 *   zeros, "/", a length 0..32 without leading zeros, no host bits);
 * - what they accept is canonical: formatting it gives the input back, and
 *   parsing that again gives the same prefix;
 * - a refusal is -EINVAL with a non-empty reason, one line unless the
 *   input had a line break (it is echoed; callers clean it); a suggestion
 *   "(did you mean X?)" names a prefix that parses; any err_len (even 1,
 *   or no buffer) is safe;
 * - for two prefixes, overlap is symmetric and agrees with containment.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config_priv.h"
#include "fuzz.h"

/* d digits without a leading zero making a number <= max; end set. */
static bool dec(const char *s, unsigned max, const char **end, unsigned *out)
{
	unsigned v = 0;
	int n = 0;

	while (s[n] >= '0' && s[n] <= '9' && n < 4)
		v = v * 10 + (unsigned)(s[n++] - '0');
	if (n == 0 || n == 4 || (n > 1 && s[0] == '0') || v > max)
		return false;
	*end = s + n;
	*out = v;
	return true;
}

static bool ref_quad(const char *s, uint32_t *a, const char **end)
{
	unsigned v;

	*a = 0;
	for (int i = 0; i < 4; i++) {
		if (i && *s++ != '.')
			return false;
		if (!dec(s, 255, &s, &v))
			return false;
		*a = *a << 8 | v;
	}
	*end = s;
	return true;
}

static bool ref_prefix(const char *s, uint32_t *addr, unsigned *len)
{
	const char *e;

	if (!ref_quad(s, addr, &e) || *e != '/' || !dec(e + 1, 32, &e, len) || *e)
		return false;
	return *len == 32 || !(*addr & (0xffffffffu >> *len));
}

static void check_err(const char *s, const char *err)
{
	const char *dm;

	FZ_CHECK(err[0], "empty reason");
	/* The reason echoes the input (callers clean control characters), but
	 * adds no line break of its own. */
	FZ_CHECK(strpbrk(s, "\r\n") || !strpbrk(err, "\r\n"), "reason is not one line: %s", err);
	dm = strstr(err, "(did you mean ");
	if (dm && !strstr(s, "(did you mean ")) { /* not an echo of the input */
		char sug[64];
		struct sn_prefix p;
		size_t n = strcspn(dm + 14, "?");

		FZ_CHECK(n < sizeof(sug), "long suggestion: %s", err);
		memcpy(sug, dm + 14, n);
		sug[n] = '\0';
		FZ_CHECK(sn_prefix_parse(sug, &p, NULL, 0) == 0, "suggestion '%s' does not parse", sug);
	}
}

/* Parse s into *out as a prefix, checking every invariant; true if it parsed. */
static bool one(const char *s, struct sn_prefix *out)
{
	char err[256], buf[24];
	struct sn_prefix p, q;
	uint32_t ref_addr = 0, a;
	unsigned ref_len = 0;
	bool ok = ref_prefix(s, &ref_addr, &ref_len), aok;
	const char *end;
	int r;

	memset(&p, 0x5a, sizeof(p));
	err[0] = '\0';
	r = sn_prefix_parse(s, &p, err, sizeof(err));
	FZ_CHECK(r == 0 || r == -EINVAL, "sn_prefix_parse returned %d", r);
	FZ_CHECK((r == 0) == ok, "sn_prefix_parse('%s') = %d, the grammar says %s", s, r,
		 ok ? "valid" : "invalid");
	if (r == 0) {
		FZ_CHECK(p.addr == ref_addr && p.len == ref_len, "'%s' parsed wrong", s);
		FZ_CHECK(!p.reserved[0] && !p.reserved[1] && !p.reserved[2], "reserved bytes set");
		sn_prefix_str(&p, buf, sizeof(buf));
		FZ_CHECK(!strcmp(buf, s), "'%s' formats as '%s'", s, buf);
		FZ_CHECK(sn_prefix_parse(buf, &q, NULL, 0) == 0 && !memcmp(&p, &q, sizeof(p)),
			 "'%s' does not parse back", buf);
		*out = p;
	} else {
		check_err(s, err);
	}
	/* Every error buffer size, and none, is safe. */
	for (size_t n = 1; n <= 8 && r; n++) {
		char *e = malloc(n);

		FZ_SETUP(e, "out of memory");
		FZ_CHECK(sn_prefix_parse(s, &q, e, n) == r, "result depends on err_len");
		FZ_CHECK(strlen(e) < n, "err not terminated");
		free(e);
	}
	FZ_CHECK(sn_prefix_parse(s, &q, NULL, 0) == r, "result depends on err");

	/* The same text as an address. */
	aok = ref_quad(s, &ref_addr, &end) && !*end;
	r = sn_ipv4_parse(s, &a);
	FZ_CHECK((r == 0) == aok, "sn_ipv4_parse('%s') = %d", s, r);
	if (r == 0) {
		FZ_CHECK(a == ref_addr, "'%s' parsed wrong", s);
		sn__ipv4_str(a, buf, sizeof(buf));
		FZ_CHECK(!strcmp(buf, s), "'%s' formats as '%s'", s, buf);
	}
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *sp;
	struct sn_prefix a, b;

	FZ_SETUP(s, "out of memory");
	memcpy(s, data, size);
	s[size] = '\0';
	sp = strchr(s, ' ');
	if (!sp) {
		one(s, &a);
	} else {
		bool ao, bo;

		*sp = '\0';
		ao = one(s, &a);
		bo = one(sp + 1, &b);
		if (ao && bo) {
			bool o = sn__prefix_overlap(&a, &b);

			FZ_CHECK(o == sn__prefix_overlap(&b, &a), "overlap is not symmetric");
			FZ_CHECK(o == ((a.len <= b.len && sn__prefix_has(&a, b.addr)) ||
				       (b.len <= a.len && sn__prefix_has(&b, a.addr))),
				 "overlap disagrees with containment");
			FZ_CHECK(sn__prefix_has(&a, a.addr) && sn__prefix_has(&b, b.addr),
				 "a prefix does not hold its own address");
		}
	}
	free(s);
	return 0;
}
