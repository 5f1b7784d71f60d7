/* SPDX-License-Identifier: MIT */
/*
 * core/log.c: log lines (core/log.h): the journal's priority prefixes or
 * plain "name: level:" lines, the per-call-site rate limit, one write(2)
 * per line so lines from different threads never interleave.
 */
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "subnetra/host.h"

static bool journal;

/* "DEV:INO", both decimal without sign, nothing else. */
static int parse_stream(const char *s, uintmax_t *dev, uintmax_t *ino)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*dev = strtoumax(s, &end, 10);
	if (errno || *end != ':' || end[1] < '0' || end[1] > '9')
		return -EINVAL;
	*ino = strtoumax(end + 1, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

bool sn_log_is_journal(const char *journal_stream, int fd)
{
	uintmax_t dev, ino;
	struct stat st;

	if (parse_stream(journal_stream, &dev, &ino) < 0 || fstat(fd, &st) < 0)
		return false;
	return (uintmax_t)st.st_dev == dev && (uintmax_t)st.st_ino == ino;
}

void sn_log_setup(void)
{
	journal = sn_log_is_journal(getenv("JOURNAL_STREAM"), STDERR_FILENO);
}

void sn_log_set_journal(bool on)
{
	journal = on;
}

static int clamp(int level)
{
	return level < SN_LOG_ERROR ? SN_LOG_ERROR : level > SN_LOG_DEBUG ? SN_LOG_DEBUG : level;
}

size_t sn_log_format(char *buf, size_t len, bool to_journal, const char *name, int level,
		     const char *text)
{
	static const char *const word[] = {"error", "warning", "info", "debug"};
	static const char prio[] = {'3', '4', '6', '7'};
	int n;

	if (!len)
		return 0;
	if (to_journal)
		n = snprintf(buf, len, "<%c>%s\n", prio[clamp(level)], text);
	else
		n = snprintf(buf, len, "%s: %s: %s\n", name, word[clamp(level)], text);
	if (n < 0)
		n = 0;
	if ((size_t)n >= len) { /* cut: keep the line a line */
		n = (int)len - 1;
		if (n > 0)
			buf[n - 1] = '\n';
	}
	return (size_t)n;
}

static void write_all(const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(STDERR_FILENO, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

/* Rate limit: per call site (format pointer), at most SN_LOG_BURST lines a
 * second; the number held back is told with the next line let through. */
#define RL_SLOTS 64
static struct {
	const char *fmt;
	time_t sec;
	uint32_t n;
	uint32_t suppressed;
} rl[RL_SLOTS];

static int rate_ok(const char *fmt, uint32_t *suppressed)
{
	size_t i = ((uintptr_t)fmt >> 3) % RL_SLOTS;
	time_t now = time(NULL);

	if (rl[i].fmt != fmt || rl[i].sec != now) {
		*suppressed = rl[i].fmt == fmt ? rl[i].suppressed : 0;
		rl[i].fmt = fmt;
		rl[i].sec = now;
		rl[i].n = 0;
		rl[i].suppressed = 0;
	}
	if (++rl[i].n > SN_LOG_BURST) {
		rl[i].suppressed++;
		return 0;
	}
	return 1;
}

void sn_log_reset_limits(void)
{
	memset(rl, 0, sizeof(rl));
}

void sn_log_v(const char *name, int max_level, int level, const char *fmt, va_list ap)
{
	char text[SN_LOG_LINE], line[SN_LOG_LINE + 64];
	uint32_t suppressed = 0;
	int k;

	if (level > max_level || !rate_ok(fmt, &suppressed))
		return;
	k = vsnprintf(text, sizeof(text), fmt, ap);
	if (k >= 0 && (size_t)k < sizeof(text) && suppressed)
		snprintf(text + k, sizeof(text) - (size_t)k, " (%" PRIu32 " similar messages suppressed)",
			 suppressed);
	write_all(line, sn_log_format(line, sizeof(line), journal, name, level, text));
}

void sn_log_fatal(const char *name, const char *text)
{
	char line[SN_LOG_LINE + 64];
	int n = journal ? snprintf(line, sizeof(line), "<3>%s\n", text)
			: snprintf(line, sizeof(line), "%s: %s\n", name, text);

	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = (int)sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	write_all(line, (size_t)n);
}
