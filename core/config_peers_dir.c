/* SPDX-License-Identifier: MIT */
/*
 * core/config_peers_dir.c: a hub's peers_dir (docs/configuration.md,
 * "peers_dir"): a directory with one file per spoke, so that a tool can
 * add or remove a spoke by writing or removing one file and reloading,
 * without rewriting a config of 10,000 peers.
 *
 * Every *.yaml and *.json file in it (dotfiles ignored: an editor's or a
 * tool's temporary file) is read in name order (strcmp, so the order does
 * not depend on the locale), checked like the config itself (a file
 * that grants routes to a peer must not be writable by anyone the daemon
 * does not trust) and parsed into its own tree whose nodes name the file,
 * so every error points into the peer's own file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_priv.h"

struct names {
	const char **v;
	uint32_t n, cap;
};

static bool wanted(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && ((n > 5 && !strcmp(name + n - 5, ".yaml")) ||
				  (n > 5 && !strcmp(name + n - 5, ".json")));
}

static int push(struct sn__ld *ld, struct names *l, const char *name)
{
	if (l->n == l->cap) {
		uint32_t cap = l->cap ? l->cap * 2 : 64;
		const char **v = sn_arena_alloc(&ld->tmp, cap * sizeof(*v));

		if (!v)
			return sn__conf_oom(ld);
		if (l->n)
			memcpy(v, l->v, l->n * sizeof(*v));
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n] = sn_arena_strdup(&ld->tmp, name);
	return l->v[l->n++] ? 0 : sn__conf_oom(ld);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names of the peer files in dir, sorted. */
static int list_dir(struct sn__ld *ld, const struct sn__cn *v, const char *dir, struct names *l)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return sn__conf_fail_at(ld, -errno, ld->path, sn__conf_loc(v),
					"cannot open the directory %s: %s (peers_dir holds one file per spoke)",
					dir, strerror(errno));
	errno = 0;
	while (rc == 0 && (e = readdir(d)))
		if (wanted(e->d_name))
			rc = push(ld, l, e->d_name);
	if (rc == 0 && errno)
		rc = sn__conf_fail_at(ld, -errno, ld->path, sn__conf_loc(v),
				      "cannot read the directory %s: %s", dir, strerror(errno));
	closedir(d);
	if (rc == 0 && l->n)
		qsort(l->v, l->n, sizeof(*l->v), cmp_name);
	return rc;
}

/* The file a peers_dir file is: a regular file the daemon trusts. */
static int check_file(struct sn__ld *ld, int fd, const char *path)
{
	struct sn_conf_loc at = { 0, 0, path };
	struct sn_owners o;
	struct stat st;
	char why[2048];

	if (fstat(fd, &st) < 0)
		return sn__conf_fail_at(ld, -errno, NULL, at, "cannot stat the file: %s",
					strerror(errno));
	if (!S_ISREG(st.st_mode))
		return sn__conf_fail_at(ld, -EINVAL, NULL, at,
					"not a regular file (peers_dir holds one file per spoke)");
	if (!ld->check_keys)
		return 0; /* a load from a buffer (tests): no file is judged */
	sn_owners_init(&o);
	if (sn_file_trusted(fd, path, &o, why, sizeof(why)) < 0)
		return sn__conf_fail_raw(ld, -EPERM, why); /* it names the file and the fix */
	return 0;
}

/* Read and parse one file into *root; *total grows by its size. */
static int one_file(struct sn__ld *ld, const struct sn__cn *v, const char *path, size_t *total,
		    struct sn__cn **root)
{
	struct sn_conf_loc at = { 0, 0, path };
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (fd < 0)
		return sn__conf_fail_at(ld, -errno, NULL, at, "cannot read the peer file: %s",
					strerror(errno));
	rc = check_file(ld, fd, path);
	if (rc == 0 && (rc = sn__conf_read_all(fd, SN__CONF_PEER_FILE_MAX, &buf, &len)) < 0)
		sn__conf_fail_at(ld, rc, NULL, at, "cannot read the peer file: %s%s", strerror(-rc),
				 rc == -EFBIG ? " (a peer file is at most 64 KiB)" : "");
	close(fd);
	*total += len;
	if (rc == 0 && *total > SN__CONF_PEERS_DIR_MAX)
		rc = sn__conf_fail_at(ld, -EFBIG, ld->path, sn__conf_loc(v),
				      "its files hold more than %u MiB together (the limit for a hub's peers)",
				      SN__CONF_PEERS_DIR_MAX >> 20);
	if (rc == 0)
		rc = sn__conf_parse(ld, path, buf, len, root);
	free(buf);
	return rc;
}

int sn__conf_peers_dir(struct sn__ld *ld, const struct sn__cn *v, struct sn__cn ***roots,
		       const char ***names, uint32_t *n)
{
	const char *dir = ld->c->peers_dir, *sep = dir[strlen(dir) - 1] == '/' ? "" : "/";
	struct names l = { 0 };
	size_t total = 0;
	int rc = list_dir(ld, v, dir, &l);

	*n = 0;
	if (rc < 0)
		return rc;
	*roots = sn_arena_alloc(&ld->tmp, (l.n + 1) * sizeof(**roots));
	*names = sn_arena_alloc(&ld->tmp, (l.n + 1) * sizeof(**names));
	if (!*roots || !*names)
		return sn__conf_oom(ld);
	for (uint32_t i = 0; i < l.n && rc == 0; i++) {
		/* in the config's arena: the peer's messages name it after the load */
		(*names)[i] = sn_arena_printf(&ld->c->arena, "%s%s%s", dir, sep, l.v[i]);
		if (!(*names)[i])
			return sn__conf_oom(ld);
		rc = one_file(ld, v, (*names)[i], &total, &(*roots)[i]);
	}
	*n = l.n;
	return rc;
}
