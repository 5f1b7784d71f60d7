/* SPDX-License-Identifier: MIT */
/*
 * core/onboard_args.c: the command lines of `subnetra init`, `add-spoke`
 * and `remove-spoke` (core/onboard.h): long options with a value, either
 * "--lan 192.168.1.0/24" or "--lan=192.168.1.0/24", repeated ones, flags,
 * and the words between them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "onboard.h"

static const struct sn_onboard_opt *find(const struct sn_onboard_opt *opts, const char *a,
					 size_t n)
{
	for (; opts->name; opts++)
		if (strlen(opts->name) == n && !strncmp(opts->name, a, n))
			return opts;
	return NULL;
}

static int bad(const char *cmd, const char *what, const char *a)
{
	fprintf(stderr, "subnetra: %s: %s '%s' (see subnetra %s --help)\n", cmd, what, a, cmd);
	return 2;
}

static int take(const char *cmd, const struct sn_onboard_opt *o, const char *v)
{
	if (o->value) {
		*o->value = v;
	} else if (*o->n == SN_ONBOARD_LIST_MAX) {
		fprintf(stderr, "subnetra: %s: %s given more than %d times\n", cmd, o->name,
			SN_ONBOARD_LIST_MAX);
		return 2;
	} else {
		o->list[(*o->n)++] = v;
	}
	return 0;
}

/* One option at argv[*i]; moves *i past its value. */
static int one_opt(int argc, char **argv, int *i, const struct sn_onboard_opt *opts)
{
	const char *a = argv[*i], *eq = strchr(a, '=');
	const struct sn_onboard_opt *o = find(opts, a, eq ? (size_t)(eq - a) : strlen(a));

	if (!o)
		return bad(argv[0], "unknown option", a);
	if (o->flag) {
		if (eq)
			return bad(argv[0], "takes no value:", a);
		*o->flag = 1;
		return 0;
	}
	if (eq)
		return take(argv[0], o, eq + 1);
	if (*i + 1 >= argc)
		return bad(argv[0], "missing value after", a);
	return take(argv[0], o, argv[++*i]);
}

int sn_onboard_args(int argc, char **argv, const struct sn_onboard_opt *opts, const char **pos,
		    uint32_t max_pos, uint32_t *n_pos, const char *usage)
{
	*n_pos = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int rc;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, stdout);
			return 1;
		}
		if (a[0] == '-' && a[1]) {
			if ((rc = one_opt(argc, argv, &i, opts)))
				return rc;
		} else if (*n_pos == max_pos) {
			return bad(argv[0], "unexpected argument", a);
		} else {
			pos[(*n_pos)++] = a;
		}
	}
	return 0;
}

int sn_onboard_prefixes(const char *cmd, const char *opt, const char *const *s, uint32_t n,
			struct sn_prefix *out)
{
	char why[256];

	for (uint32_t i = 0; i < n; i++)
		if (sn_prefix_parse(s[i], &out[i], why, sizeof(why)) < 0) {
			fprintf(stderr, "subnetra: %s: %s %s: %s\n", cmd, opt, s[i], why);
			return -EINVAL;
		}
	return 0;
}

int sn_onboard_path(char *buf, size_t len, const char *dir, const char *name, const char *ext)
{
	const char *sep = dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/";

	if ((size_t)snprintf(buf, len, "%s%s%s%s", dir, sep, name, ext) < len)
		return 0;
	fprintf(stderr, "subnetra: the path %s%s%s%s is too long\n", dir, sep, name, ext);
	return -ENAMETOOLONG;
}

int sn_onboard_node_paths(const char *name, const char *state_dir, const char *socket,
			  char state[static 4096], char sock[static 4096])
{
	char run[4096];

	snprintf(run, sizeof(run), "%s", SN_CONF_DEFAULT_SOCKET);
	*strrchr(run, '/') = 0; /* /run/subnetra */
	if (sn_onboard_path(state, 4096, SN_CONF_DEFAULT_STATE_DIR, name, "") < 0 ||
	    sn_onboard_path(sock, 4096, run, name, ".sock") < 0)
		return -ENAMETOOLONG;
	if (state_dir)
		snprintf(state, 4096, "%s", state_dir);
	if (socket)
		snprintf(sock, 4096, "%s", socket);
	return 0;
}

int sn_onboard_key_path(char *buf, size_t len, const char *conf)
{
	size_t n = strlen(conf);
	const char *slash = strrchr(conf, '/'), *dot = strrchr(conf, '.');

	if (dot && (!slash || dot > slash + 1))
		n = (size_t)(dot - conf);
	if ((size_t)snprintf(buf, len, "%.*s.key", (int)n, conf) < len)
		return 0;
	fprintf(stderr, "subnetra: the path %.*s.key is too long\n", (int)n, conf);
	return -ENAMETOOLONG;
}
