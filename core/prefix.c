/* SPDX-License-Identifier: MIT */
/*
 * core/prefix.c: strict parsing and formatting of IPv4 addresses and
 * prefixes. Strict means: exactly four decimal octets, no leading zeros
 * (inet_aton would read "010" as octal 8), no spaces, no trailing junk, and
 * no host bits past the prefix length.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config.h"

/* Longest input echoed back in an error. */
#define ECHO_MAX 48

static void say(char *err, size_t err_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !err_len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
}

/* A decimal number of at most max_digits digits with no leading zero,
 * ending at *end. -1 when s does not start with one. */
static long number(const char *s, int max_digits, const char **end)
{
	long v = 0;
	int n = 0;

	while (s[n] >= '0' && s[n] <= '9') {
		if (n == max_digits)
			return -1;
		v = v * 10 + (s[n] - '0');
		n++;
	}
	if (n == 0 || (n > 1 && s[0] == '0'))
		return -1;
	*end = s + n;
	return v;
}

/* Parse the dotted quad at s, stopping at *end. */
static int quad(const char *s, uint32_t *out, const char **end)
{
	uint32_t a = 0;
	long v;
	int i;

	for (i = 0; i < 4; i++) {
		if (i > 0) {
			if (*s != '.')
				return -EINVAL;
			s++;
		}
		v = number(s, 3, &s);
		if (v < 0 || v > 255)
			return -EINVAL;
		a = a << 8 | (uint32_t)v;
	}
	*out = a;
	*end = s;
	return 0;
}

int sn_ipv4_parse(const char *s, uint32_t *out)
{
	const char *end;
	uint32_t a;

	if (!s || quad(s, &a, &end) < 0 || *end)
		return -EINVAL;
	*out = a;
	return 0;
}

static uint32_t mask_of(unsigned len)
{
	return len ? 0xffffffffu << (32 - len) : 0;
}

static void fill(struct sn_prefix *p, uint32_t addr, unsigned len)
{
	memset(p, 0, sizeof(*p));
	p->addr = addr;
	p->len = (uint8_t)len;
}

int sn_prefix_parse(const char *s, struct sn_prefix *out, char *err, size_t err_len)
{
	const char *end;
	struct sn_prefix fixed;
	char buf[20];
	uint32_t a;
	long len;

	if (!s || quad(s, &a, &end) < 0 || (*end && *end != '/')) {
		say(err, err_len, "'%.*s' is not a prefix (expected ADDRESS/LENGTH, e.g. 192.168.1.0/24)",
		    ECHO_MAX, s ? s : "");
		return -EINVAL;
	}
	if (!*end) {
		say(err, err_len, "%s has no prefix length (did you mean %s/32?)", s, s);
		return -EINVAL;
	}
	len = number(end + 1, 2, &end);
	if (len < 0 || len > 32 || *end) {
		say(err, err_len, "'%.*s' has a bad prefix length (expected /0 to /32 without leading zeros)",
		    ECHO_MAX, s);
		return -EINVAL;
	}
	if (a & ~mask_of((unsigned)len)) {
		fill(&fixed, a & mask_of((unsigned)len), (unsigned)len);
		say(err, err_len, "%s has host bits set (did you mean %s?)", s,
		    sn_prefix_str(&fixed, buf, sizeof(buf)));
		return -EINVAL;
	}
	fill(out, a, (unsigned)len);
	return 0;
}

const char *sn_prefix_str(const struct sn_prefix *p, char *buf, size_t len)
{
	uint32_t a = p->addr;

	snprintf(buf, len, "%u.%u.%u.%u/%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff,
		 a & 0xff, p->len);
	return buf;
}

const char *sn__ipv4_str(uint32_t a, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
	return buf;
}

bool sn__prefix_overlap(const struct sn_prefix *a, const struct sn_prefix *b)
{
	unsigned len = a->len < b->len ? a->len : b->len;

	return ((a->addr ^ b->addr) & mask_of(len)) == 0;
}

bool sn__prefix_has(const struct sn_prefix *p, uint32_t addr)
{
	return ((p->addr ^ addr) & mask_of(p->len)) == 0;
}
