/* SPDX-License-Identifier: MIT */
/*
 * tests/test_log.c: how log lines look (core/log.c): the journal decision
 * from JOURNAL_STREAM and fstat(2), the priority prefixes against the
 * plain form, cut lines that stay lines, the per-call-site rate limit, and
 * that a line is one write to stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "capture.h"
#include "log.h"
#include "subnetra/host.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the journal decision ---------------------------------------------- */

static void test_log_journal_stream_matches_fstat(void **state)
{
	char path[] = "/tmp/sn-test-log-XXXXXX", good[64], other[64];
	int fd = mkstemp(path), fd2;
	struct stat st;

	assert_true(fd >= 0);
	fd2 = open("/dev/null", O_WRONLY);
	assert_true(fd2 >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	snprintf(good, sizeof(good), "%" PRIuMAX ":%" PRIuMAX, (uintmax_t)st.st_dev,
		 (uintmax_t)st.st_ino);
	snprintf(other, sizeof(other), "%" PRIuMAX ":%" PRIuMAX, (uintmax_t)st.st_dev,
		 (uintmax_t)st.st_ino + 1);
	assert_true(sn_log_is_journal(good, fd));
	assert_false(sn_log_is_journal(good, fd2));  /* another file: not the journal */
	assert_false(sn_log_is_journal(other, fd));  /* another inode */
	assert_false(sn_log_is_journal(good, -1));   /* fstat fails */
	assert_false(sn_log_is_journal(NULL, fd));   /* not under systemd */
	close(fd);
	close(fd2);
	unlink(path);
}

static void test_log_journal_stream_malformed(void **state)
{
	static const char *const bad[] = {
		"", ":", "1", "1:", ":1", "a:b", "1:b", "-1:5", "1:-5", "+1:5", "1:5:7", "1:5 ",
		" 1:5", "1 :5", "1: 5", "0x10:5", "99999999999999999999999:1",
	};
	char path[] = "/tmp/sn-test-log-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	for (size_t i = 0; i < N(bad); i++)
		assert_false(sn_log_is_journal(bad[i], fd));
	close(fd);
	unlink(path);
}

/* ---- the line ---------------------------------------------------------- */

static void test_log_format_prefixes(void **state)
{
	static const struct {
		int level;
		const char *journal, *plain;
	} t[] = {
		{ SN_LOG_ERROR, "<3>x y\n", "subnetrad: error: x y\n" },
		{ SN_LOG_WARN, "<4>x y\n", "subnetrad: warning: x y\n" },
		{ SN_LOG_INFO, "<6>x y\n", "subnetrad: info: x y\n" },
		{ SN_LOG_DEBUG, "<7>x y\n", "subnetrad: debug: x y\n" },
		{ -5, "<3>x y\n", "subnetrad: error: x y\n" },   /* out of range: clamped */
		{ 42, "<7>x y\n", "subnetrad: debug: x y\n" },
	};
	char buf[64];

	for (size_t i = 0; i < N(t); i++) {
		assert_int_equal(sn_log_format(buf, sizeof(buf), true, "subnetrad", t[i].level, "x y"),
				 strlen(t[i].journal));
		assert_string_equal(buf, t[i].journal);
		assert_int_equal(sn_log_format(buf, sizeof(buf), false, "subnetrad", t[i].level, "x y"),
				 strlen(t[i].plain));
		assert_string_equal(buf, t[i].plain);
	}
}

static void test_log_format_cut_keeps_newline(void **state)
{
	char buf[12];

	assert_int_equal(sn_log_format(buf, sizeof(buf), true, "n", SN_LOG_INFO, "0123456789abc"), 11);
	assert_string_equal(buf, "<6>0123456\n");
	assert_int_equal(sn_log_format(buf, 0, true, "n", SN_LOG_INFO, "x"), 0);
}

/* ---- what reaches stderr ----------------------------------------------- */

static void say(int max, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(int max, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sn_log_v("subnetrad", max, level, fmt, ap);
	va_end(ap);
}

static void test_log_lines_to_stderr(void **state)
{
	struct capture c;
	char *out;

	sn_log_set_journal(true);
	capture_start(&c);
	say(SN_LOG_INFO, SN_LOG_ERROR, "reload (%s) refused", "SIGHUP");
	say(SN_LOG_INFO, SN_LOG_WARN, "peer %u is silent", 2u);
	say(SN_LOG_INFO, SN_LOG_INFO, "peer %u is back", 2u);
	say(SN_LOG_INFO, SN_LOG_DEBUG, "not shown at info");
	sn_log_fatal("subnetrad", "t.yaml:2:7: node.id: bad");
	sn_log_set_journal(false);
	say(SN_LOG_DEBUG, SN_LOG_DEBUG, "shown at %s", "debug");
	sn_log_fatal("subnetrad", "t.yaml:2:7: node.id: bad");
	out = capture_end(&c);
	assert_string_equal(out,
			    "<3>reload (SIGHUP) refused\n"
			    "<4>peer 2 is silent\n"
			    "<6>peer 2 is back\n"
			    "<3>t.yaml:2:7: node.id: bad\n"
			    "subnetrad: debug: shown at debug\n"
			    "subnetrad: t.yaml:2:7: node.id: bad\n");
}

/* At most SN_LOG_BURST lines a second from one call site; the next line
 * let through says how many were held back. Another call site is not
 * affected. */
static void test_log_rate_limit_per_call_site(void **state)
{
	struct capture c;
	unsigned lines = 0, other = 0, told = 0;
	char *out, *l, *save = NULL;

	sn_log_set_journal(false);
	capture_start(&c);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 100; i++)
			say(SN_LOG_INFO, SN_LOG_WARN, "flood %d", i);
		say(SN_LOG_INFO, SN_LOG_WARN, "another site");
		if (round == 0)
			sleep(1);
	}
	out = capture_end(&c);
	for (l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		lines += !strncmp(l, "subnetrad: warning: flood ", 26);
		other += !strcmp(l, "subnetrad: warning: another site");
		told += strstr(l, "(95 similar messages suppressed)") != NULL;
	}
	/* both rounds let SN_LOG_BURST through (a round that crosses a second
	 * boundary up to twice as many, and then the count differs) */
	assert_in_range(lines, 2 * SN_LOG_BURST, 4 * SN_LOG_BURST);
	assert_int_equal(other, 2);
	if (lines == 2 * SN_LOG_BURST)
		assert_int_equal(told, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log_journal_stream_matches_fstat),
		cmocka_unit_test(test_log_journal_stream_malformed),
		cmocka_unit_test(test_log_format_prefixes),
		cmocka_unit_test(test_log_format_cut_keeps_newline),
		cmocka_unit_test(test_log_lines_to_stderr),
		cmocka_unit_test(test_log_rate_limit_per_call_site),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
