/* SPDX-License-Identifier: MIT */
/*
 * container/cmdline.c: sn_entry_split (container/entry.h), the word
 * splitting of the image's /bin/sh (container/sh.c): enough for
 * `subnetra status` or `subnetra policy add 10.1.0.0/16 drop` typed into
 * /container/shell, not a POSIX shell (no variables, pipes or redirections).
 */
#include "entry.h"

#include <errno.h>

static int blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Copy one word from *in to *out (which never passes *in: unquoting only
 * shrinks a word), end it, and step *in past the blank after it. 0, or
 * -EINVAL for an unclosed quote. */
static int word(char **in, char **out)
{
	char *s = *in, *o = *out, q = 0, end;

	for (; *s && (q || !blank(*s)); s++) {
		if (q && *s == q)
			q = 0;
		else if (!q && (*s == '\'' || *s == '"'))
			q = *s;
		else if (*s == '\\' && q != '\'' && s[1])
			*o++ = *++s;
		else
			*o++ = *s;
	}
	if (q)
		return -EINVAL;
	end = *s;  /* the terminator below may land on it */
	*o++ = '\0';
	*in = end ? s + 1 : s;
	*out = o;
	return 0;
}

int sn_entry_split(char *line, char **argv, int max)
{
	char *in = line, *out = line;
	int n = 0;

	for (;;) {
		while (blank(*in))
			in++;
		if (!*in || *in == '#')
			break;
		if (n + 1 >= max)
			return -E2BIG;
		argv[n++] = out;
		if (word(&in, &out) < 0)
			return -EINVAL;
	}
	argv[n] = NULL;
	return n;
}
