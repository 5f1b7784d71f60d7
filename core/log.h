/* SPDX-License-Identifier: MIT */
/*
 * core/log.h: where log lines go and how they look. Every line is one
 * write to stderr. When stderr is the systemd journal (JOURNAL_STREAM
 * names its device and inode, systemd.exec(5)) a line starts with its
 * syslog priority, "<3>" error, "<4>" warning, "<6>" info, "<7>" debug
 * (sd-daemon(3)), so `journalctl -p err` finds the errors; otherwise it is
 * "subnetrad: level: text". Lines of one call site are rate limited (at
 * most SN_LOG_BURST a second; the number held back is told with the next).
 */
#ifndef SN_LOG_H
#define SN_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define SN_LOG_BURST 5   /* lines per call site per second */
#define SN_LOG_LINE 4096 /* longest line written; longer ones are cut */

/* Whether fd is the stream journal_stream names: "DEV:INO" in decimal,
 * as systemd sets JOURNAL_STREAM, equal to fstat(fd)'s st_dev and st_ino.
 * NULL, malformed text or a failing fstat: false. */
bool sn_log_is_journal(const char *journal_stream, int fd);

/* Decide once, from JOURNAL_STREAM and stderr, how lines look (start of
 * main; until then lines are plain). */
void sn_log_setup(void);
/* Set it by hand (tests). */
void sn_log_set_journal(bool journal);
/* Forget what the rate limit counted (tests). */
void sn_log_reset_limits(void);

/* The line for a message into buf: "<N>text\n" for the journal, else
 * "name: level: text\n". Returns its length (cut to len - 1). */
size_t sn_log_format(char *buf, size_t len, bool journal, const char *name, int level,
		     const char *text);

/* Write one message of level: rate limited per fmt, nothing when level is
 * above max_level. name prefixes plain lines ("subnetrad"). */
void sn_log_v(const char *name, int max_level, int level, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

/* A fatal error before or instead of the loop (a config the daemon cannot
 * start with): "name: text" plainly, "<3>text" to the journal; no rate
 * limit. */
void sn_log_fatal(const char *name, const char *text);

#endif
