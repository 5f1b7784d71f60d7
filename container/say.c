/* SPDX-License-Identifier: MIT */
/* container/say.c: the entrypoint's log lines and error texts (entry.h). */
#include "entry.h"

#include <stdarg.h>

int sn__entry_fail(char *err, size_t len, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && len) {
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return rc;
}

void sn__entry_say(FILE *log, const char *fmt, ...)
{
	va_list ap;

	if (!log)
		return;
	fprintf(log, "subnetra-entrypoint: info: ");
	va_start(ap, fmt);
	vfprintf(log, fmt, ap);
	va_end(ap);
	fputc('\n', log);
	fflush(log);
}
