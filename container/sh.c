/* SPDX-License-Identifier: MIT */
/*
 * The image's /bin/sh: a command runner, so that RouterOS' /container/shell
 * (which starts /bin/sh) can run `subnetra status` in an image that ships
 * no real shell. `sh -c 'LINE'` runs one command line; `sh` reads lines
 * from its input. Words split as sn_entry_split does (container/cmdline.c):
 * no variables, pipes, redirections or globbing. Built-ins: cd, exit, help.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "entry.h"

#define MAX_WORDS 64

static void help(void)
{
	printf("This is not a full shell: it runs one command per line, with words split\n"
	       "at blanks and '...' or \"...\" quoting; no variables, pipes or redirections.\n"
	       "Built-ins: cd DIR, exit [N], help. For example:\n"
	       "  subnetra status\n"
	       "  subnetra peers\n"
	       "  subnetra --help\n");
}

static int builtin(char **w, int *status)
{
	if (!strcmp(w[0], "exit")) {
		exit(w[1] ? atoi(w[1]) : *status);
	} else if (!strcmp(w[0], "cd")) {
		*status = chdir(w[1] ? w[1] : "/") < 0;
		if (*status)
			fprintf(stderr, "sh: cd: %s: %s\n", w[1] ? w[1] : "/", strerror(errno));
	} else if (!strcmp(w[0], "help")) {
		help();
		*status = 0;
	} else {
		return 0;
	}
	return 1;
}

static int split(char *line, char **w)
{
	int n = sn_entry_split(line, w, MAX_WORDS);

	if (n == -EINVAL)
		fprintf(stderr, "sh: unclosed quote\n");
	else if (n < 0)
		fprintf(stderr, "sh: more than %d words\n", MAX_WORDS - 1);
	return n;
}

static void exec_words(char **w)
{
	execvp(w[0], w);
	fprintf(stderr, "sh: %s: %s\n", w[0], errno == ENOENT ? "not found (try help)" :
							       strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

static int run_line(char *line, int status)
{
	char *w[MAX_WORDS];
	int n = split(line, w), st;
	pid_t pid;

	if (n <= 0)
		return n < 0 ? 2 : status;
	if (builtin(w, &status))
		return status;
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "sh: cannot fork: %s\n", strerror(errno));
		return 126;
	}
	if (pid == 0)
		exec_words(w);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 126;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int one_command(char *line)
{
	char *w[MAX_WORDS];
	int n = split(line, w), status = 0;

	if (n <= 0)
		return n < 0 ? 2 : 0;
	if (builtin(w, &status))
		return status;
	exec_words(w);
	return 127;
}

int main(int argc, char **argv)
{
	char *line = NULL;
	size_t cap = 0;
	int status = 0, tty = isatty(0);

	setenv("PATH", getenv("PATH") ? getenv("PATH") : "/usr/sbin:/usr/bin:/sbin:/bin", 0);
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-c"))
			return i + 1 < argc ? one_command(argv[i + 1]) : 2;
	if (tty)
		printf("subnetra container shell: one command per line, `help` for more.\n");
	for (;;) {
		if (tty) {
			printf("# ");
			fflush(stdout);
		}
		if (getline(&line, &cap, stdin) < 0)
			break;
		status = run_line(line, status);
	}
	free(line);
	return status;
}
