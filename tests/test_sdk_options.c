/* SPDX-License-Identifier: MIT */
/*
 * tests/test_sdk_options.c: the SDK's option helpers (subnetra/options.h):
 * every value type with its syntax and bounds, unknown options with and
 * without a "did you mean", options given twice, absent options keeping
 * their defaults; and the edit distance the host shares with them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "subnetra/options.h"

struct vals {
	uint64_t window, size, flush;
	int strict;
};

static int parse(struct vals *v, const char *key, const char *val, char *err, uint32_t len)
{
	const struct sn_opt_def defs[] = {
		{"window", SN_OPT_UINT, 1, 1024, &v->window},
		{"size", SN_OPT_SIZE, 512, 1u << 30, &v->size},
		{"flush", SN_OPT_DURATION, 100000, 1000000000, &v->flush},
		{"strict", SN_OPT_BOOL, 0, 0, &v->strict},
	};
	struct sn_option o = {key, val};
	struct sn_options opts = {&o, 1, 0};

	return sn_options_parse("mine", &opts, defs, 4, err, len);
}

static void test_options_values(void **state)
{
	static const struct {
		const char *key, *val;
		uint64_t want; /* in the key's field; strict: 0/1 */
		const char *msg; /* error, or NULL */
	} cases[] = {
		{"window", "64", 64, NULL},
		{"window", "1024", 1024, NULL},
		{"window", "0", 0, "mine: option window: '0' is out of range (1..1024)"},
		{"window", "1025", 0, "mine: option window: '1025' is out of range (1..1024)"},
		{"window", "-1", 0, "mine: option window: '-1' is not a whole number"},
		{"window", "6x", 0, "mine: option window: '6x' is not a whole number"},
		{"window", "99999999999999999999", 0, "is not a whole number"},
		{"size", "65536", 65536, NULL},
		{"size", "64k", 65536, NULL},
		{"size", "4MiB", 4u << 20, NULL},
		{"size", "1G", 1u << 30, NULL},
		{"size", "2G", 0, "mine: option size: '2G' is out of range (512..1073741824 bytes)"},
		{"size", "4 MiB", 0, "is not a size in bytes such as 65536, 64k or 4MiB"},
		{"size", "16T", 0, "is not a size in bytes"},
		{"flush", "5ms", 5000000, NULL},
		{"flush", "500us", 500000, NULL},
		{"flush", "1s", 1000000000, NULL},
		{"flush", "2s", 0, "'2s' is out of range (100000..1000000000 ns)"},
		{"flush", "5", 0, "mine: option flush: '5' needs a unit (ns, us, ms, s, m, h; e.g. 5ms)"},
		{"flush", "5 ms", 0, "is not a duration such as 500us, 5ms or 2s"},
		{"flush", "99999999999h", 0, "is not a duration"},
		{"strict", "true", 1, NULL},
		{"strict", "on", 1, NULL},
		{"strict", "no", 0, NULL},
		{"strict", "0", 0, NULL},
		{"strict", "maybe", 0, "mine: option strict: 'maybe' is not true or false (yes/no, on/off)"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vals v = {7, 7, 7, 7};
		char err[256] = "";
		int r = parse(&v, cases[i].key, cases[i].val, err, sizeof(err));
		uint64_t got = cases[i].key[0] == 'w' ? v.window : cases[i].key[1] == 'i' ? v.size :
			       cases[i].key[0] == 'f' ? v.flush : (uint64_t)v.strict;

		if ((r == 0) != !cases[i].msg || (cases[i].msg && !strstr(err, cases[i].msg)) ||
		    (!cases[i].msg && got != cases[i].want))
			fail_msg("%s: %s -> rc %d, value %llu, err '%s'", cases[i].key, cases[i].val, r,
				 (unsigned long long)got, err);
	}
}

static void test_options_unknown_and_twice(void **state)
{
	struct vals v = {7, 7, 7, 7};
	const struct sn_opt_def defs[] = {{"window", SN_OPT_UINT, 1, 9, &v.window}};
	struct sn_option two[] = {{"window", "3"}, {"window", "4"}};
	struct sn_options opts = {two, 2, 0};
	char err[256] = "";

	assert_int_equal(parse(&v, "windw", "3", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "mine: unknown option 'windw' (did you mean 'window'?)");
	assert_int_equal(parse(&v, "colour", "blue", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "mine: unknown option 'colour' (known: window, size, flush, strict)");
	assert_int_equal(sn_options_parse("mine", &opts, defs, 1, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "mine: option window given twice");
	assert_int_equal(sn_options_parse("mine", &opts, NULL, 0, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "mine: unknown option 'window' (it takes none)");
	/* the first window was stored before the second failed (documented) */
	assert_int_equal(v.window, 3);
	/* nothing given: defaults stay */
	v.window = 7;
	opts.count = 0;
	assert_int_equal(sn_options_parse("mine", &opts, defs, 1, err, sizeof(err)), 0);
	assert_int_equal(v.window, 7);
	assert_int_equal(sn_options_parse("mine", NULL, defs, 1, err, sizeof(err)), 0);
}

static void test_options_closest(void **state)
{
	static const char *const names[] = {"raw_direct", "udp_basic", "fec_xor"};

	assert_int_equal(sn_opt_distance("raw_direct", "raw_direct"), 0);
	assert_int_equal(sn_opt_distance("raw_drect", "raw_direct"), 1);
	assert_int_equal(sn_opt_distance("raw_dierct", "raw_direct"), 1); /* transposition */
	assert_int_equal(sn_opt_distance("RAW_DIRECT", "raw_direct"), 0);
	assert_string_equal(sn_opt_closest("raw_directt", names, 3), "raw_direct");
	assert_string_equal(sn_opt_closest("fec_xr", names, 3), "fec_xor");
	assert_null(sn_opt_closest("quic", names, 3));
	assert_null(sn_opt_closest("ab", (const char *const[]){"xy"}, 1)); /* 2 edits of 2 bytes */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options_values),
		cmocka_unit_test(test_options_unknown_and_twice),
		cmocka_unit_test(test_options_closest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
