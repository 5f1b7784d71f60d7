/* SPDX-License-Identifier: MIT */
/*
 * subnetra/options.h: parsing a plugin's options (header only).
 *
 * A plugin gets its options (plugins.options.<name> in the config) as
 * key/value strings, as written (struct sn_options, subnetra/plugin.h).
 * Describe them in a table and let sn_options_parse() check them all:
 *
 *   uint64_t window = 64, flush_ns = 2000000;   // defaults
 *   int strict = 0;
 *   const struct sn_opt_def defs[] = {
 *       {"window", SN_OPT_UINT, 1, 1024, &window},
 *       {"flush", SN_OPT_DURATION, 100000, 1000000000, &flush_ns},
 *       {"strict", SN_OPT_BOOL, 0, 0, &strict},
 *   };
 *   if (sn_options_parse("mine", &args->options, defs, 3, args->err, args->err_len) < 0)
 *       return -EINVAL;
 *
 * Value syntax:
 *   SN_OPT_UINT      decimal digits, min..max                  -> uint64_t
 *   SN_OPT_SIZE      bytes, optionally with k/K/KiB, m/M/MiB or g/G/GiB
 *                    (powers of 1024): "65536", "64k", "4MiB"   -> uint64_t bytes
 *   SN_OPT_DURATION  digits and a unit ns, us, ms, s, m or h:
 *                    "500us", "5ms", "2s" (the unit is required) -> uint64_t ns
 *   SN_OPT_BOOL      true/false, yes/no, on/off, 1/0          -> int 1/0
 * min and max bound UINT and SIZE values, and DURATION values in ns
 * (max 0 = no bound); BOOL ignores them. An option that is not given
 * leaves its output alone: put the default there first. On an error the
 * outputs of the options before it may be written already: parse into
 * copies when a failed reconfigure must keep the old values.
 *
 * Errors are one line in err, prefixed with the plugin's name:
 *   mine: unknown option 'windw' (did you mean 'window'?)
 *   mine: unknown option 'colour' (known: window, flush, strict)
 *   mine: option window: '0' is out of range (1..1024)
 *   mine: option flush: '5' needs a unit (ns, us, ms, s, m, h; e.g. 5ms)
 *   mine: option window given twice
 * sn_opt_closest() is the "did you mean" (the host uses the same one).
 */
#ifndef SUBNETRA_OPTIONS_H
#define SUBNETRA_OPTIONS_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "subnetra/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

enum sn_opt_type {
	SN_OPT_UINT = 1,
	SN_OPT_BOOL = 2,
	SN_OPT_DURATION = 3,
	SN_OPT_SIZE = 4
};

struct sn_opt_def {
	const char *key;
	uint32_t type;     /* enum sn_opt_type */
	uint64_t min, max; /* bounds (above); max 0 = none */
	void *out;         /* uint64_t * (UINT, SIZE, DURATION in ns) or int * (BOOL) */
};

static inline char sn__opt_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Edit distance with transpositions (optimal string alignment), ignoring
 * case; strings longer than 63 bytes count as far apart (99). */
static inline unsigned sn_opt_distance(const char *a, const char *b)
{
	unsigned d[64][64], i, j, la = (unsigned)strlen(a), lb = (unsigned)strlen(b);

	if (la > 63 || lb > 63)
		return 99;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			unsigned v = d[i - 1][j - 1] + (sn__opt_lower(a[i - 1]) != sn__opt_lower(b[j - 1]));

			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

/* The candidate closest to s (fewer than 3 edits, and fewer than s has
 * bytes), or NULL. */
static inline const char *sn_opt_closest(const char *s, const char *const *cands, uint32_t n)
{
	unsigned best = 3, dist;
	const char *hint = NULL;

	for (uint32_t i = 0; i < n; i++) {
		if (!cands[i])
			continue;
		dist = sn_opt_distance(s, cands[i]);
		if (dist < best && dist < strlen(s)) {
			best = dist;
			hint = cands[i];
		}
	}
	return hint;
}

/* Decimal digits into *v; the rest of s in *end. -ERANGE past 2^64 - 1,
 * -EINVAL without a digit. */
static inline int sn__opt_digits(const char *s, uint64_t *v, const char **end)
{
	uint64_t x = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9'; p++) {
		if (x > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -ERANGE;
		x = x * 10 + (uint64_t)(*p - '0');
	}
	if (p == s)
		return -EINVAL;
	*v = x;
	*end = p;
	return 0;
}

/* v times the unit named by u (one of names, with the scale at the same
 * index); -EINVAL for an unknown unit, -ERANGE on overflow. */
static inline int sn__opt_scale(uint64_t *v, const char *u, const char *const *names,
				const uint64_t *scale, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		if (strcmp(u, names[i]) != 0)
			continue;
		if (*v > UINT64_MAX / scale[i])
			return -ERANGE;
		*v *= scale[i];
		return 0;
	}
	return -EINVAL;
}

static inline int sn__opt_bool(const char *s, int *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"}, *const no[] = {"false", "no", "off", "0"};

	for (uint32_t i = 0; i < 4; i++) {
		if (!strcmp(s, yes[i]) || !strcmp(s, no[i])) {
			*out = !strcmp(s, yes[i]);
			return 0;
		}
	}
	return -EINVAL;
}

/* One value of def into *v (BOOL: into def->out directly); 0 or an errno
 * with what was expected in why. */
static inline int sn__opt_value(const struct sn_opt_def *def, const char *s, uint64_t *v,
				const char **why)
{
	static const char *const dn[] = {"ns", "us", "ms", "s", "m", "h"};
	static const uint64_t ds[] = {1, 1000, 1000000, 1000000000ull, 60000000000ull,
				      3600000000000ull};
	static const char *const sn[] = {"", "k", "K", "KiB", "m", "M", "MiB", "g", "G", "GiB"};
	static const uint64_t ss[] = {1, 1024, 1024, 1024, 1u << 20, 1u << 20, 1u << 20,
				      1u << 30, 1u << 30, 1u << 30};
	const char *end = s;
	int r;

	if (def->type == SN_OPT_BOOL) {
		*why = "true or false (yes/no, on/off)";
		return sn__opt_bool(s, (int *)def->out);
	}
	*why = def->type == SN_OPT_DURATION ? "a duration such as 500us, 5ms or 2s" :
	       def->type == SN_OPT_SIZE ? "a size in bytes such as 65536, 64k or 4MiB" :
	       "a whole number";
	if ((r = sn__opt_digits(s, v, &end)) < 0)
		return r;
	if (def->type == SN_OPT_UINT)
		return *end ? -EINVAL : 0;
	if (def->type == SN_OPT_SIZE)
		return sn__opt_scale(v, end, sn, ss, 10);
	if (!*end) {
		*why = "a unit (ns, us, ms, s, m, h; e.g. 5ms)";
		return -EDOM;
	}
	return sn__opt_scale(v, end, dn, ds, 6);
}

/* "window, flush, strict" into buf. */
static inline void sn__opt_known(const struct sn_opt_def *defs, uint32_t n, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = 0;
	for (uint32_t i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", defs[i].key);
}

static inline int sn__opt_unknown(const char *plugin, const char *key,
				  const struct sn_opt_def *defs, uint32_t n, char *err,
				  uint32_t err_len)
{
	const char *cands[64], *hint;
	char known[256];
	uint32_t k = n < 64 ? n : 64;

	for (uint32_t i = 0; i < k; i++)
		cands[i] = defs[i].key;
	hint = sn_opt_closest(key, cands, k);
	sn__opt_known(defs, n, known, sizeof(known));
	if (hint)
		snprintf(err, err_len, "%s: unknown option '%s' (did you mean '%s'?)", plugin, key,
			 hint);
	else if (n)
		snprintf(err, err_len, "%s: unknown option '%s' (known: %s)", plugin, key, known);
	else
		snprintf(err, err_len, "%s: unknown option '%s' (it takes none)", plugin, key);
	return -EINVAL;
}

/* The bounds check of a parsed number; writes the message on failure. */
static inline int sn__opt_bounds(const char *plugin, const struct sn_opt_def *def,
				 const char *val, uint64_t v, char *err, uint32_t err_len)
{
	if (v >= def->min && (!def->max || v <= def->max)) {
		*(uint64_t *)def->out = v;
		return 0;
	}
	if (def->max)
		snprintf(err, err_len, "%s: option %s: '%s' is out of range (%llu..%llu%s)", plugin,
			 def->key, val, (unsigned long long)def->min, (unsigned long long)def->max,
			 def->type == SN_OPT_DURATION ? " ns" : def->type == SN_OPT_SIZE ? " bytes" : "");
	else
		snprintf(err, err_len, "%s: option %s: '%s' is below the minimum %llu%s", plugin,
			 def->key, val, (unsigned long long)def->min,
			 def->type == SN_OPT_DURATION ? " ns" : def->type == SN_OPT_SIZE ? " bytes" : "");
	return -EINVAL;
}

static inline int sn__opt_one(const char *plugin, const struct sn_opt_def *def, const char *val,
			      char *err, uint32_t err_len)
{
	const char *why = "";
	uint64_t v = 0;
	int r = sn__opt_value(def, val, &v, &why);

	if (r == -EDOM) {
		snprintf(err, err_len, "%s: option %s: '%s' needs %s", plugin, def->key, val, why);
		return -EINVAL;
	}
	if (r < 0) {
		snprintf(err, err_len, "%s: option %s: '%s' is not %s", plugin, def->key, val, why);
		return -EINVAL;
	}
	if (def->type == SN_OPT_BOOL)
		return 0;
	return sn__opt_bounds(plugin, def, val, v, err, err_len);
}

/* Check every option in opts against defs[0..n-1] and store the values.
 * 0, or -EINVAL with one line in err (see the top of this file). */
static inline int sn_options_parse(const char *plugin, const struct sn_options *opts,
				   const struct sn_opt_def *defs, uint32_t n, char *err,
				   uint32_t err_len)
{
	for (uint32_t i = 0; opts && i < opts->count; i++) {
		const struct sn_option *o = &opts->items[i];
		const char *key = o->key ? o->key : "", *val = o->value ? o->value : "";
		uint32_t d;
		int r;

		for (d = 0; d < n && strcmp(defs[d].key, key) != 0; d++)
			;
		if (d == n)
			return sn__opt_unknown(plugin, key, defs, n, err, err_len);
		for (uint32_t j = 0; j < i; j++) {
			if (opts->items[j].key && !strcmp(opts->items[j].key, key)) {
				snprintf(err, err_len, "%s: option %s given twice", plugin, key);
				return -EINVAL;
			}
		}
		if ((r = sn__opt_one(plugin, &defs[d], val, err, err_len)) < 0)
			return r;
	}
	return 0;
}

#ifdef __cplusplus
}
#endif
#endif
