/* SPDX-License-Identifier: MIT */
/*
 * container/view.c: sn_entry_prepare (container/entry.h): which config the
 * entrypoint hands to subnetrad, and the private view of the config's
 * directory when a key file has to be stood in for.
 *
 * subnetrad refuses a key file that group or others may read
 * (docs/configuration.md), and a RouterOS disk shows every file with such
 * a mode. The view V (/run/subnetra/etc) holds a symbolic link to every
 * entry of the config's directory D, except that the directories on the
 * way to a key file are real (0700) and the key file is a 0600 copy. The
 * config read as V/NAME then resolves its relative paths exactly as in D:
 * the state directory still lives in D, the key files are the copies, and
 * the control socket's directory is a real one in V (subnetrad refuses a
 * socket directory reached through a link as its last component). A config given as text (SUBNETRA_CONFIG_TEXT)
 * is written into V, which is then its directory.
 */
#include "entry.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

#define KEY_MAX 65536 /* a key file is one line; anything this big is not one */

struct job {
	const char *path; /* the key file the config names (resolved) */
	const char *what; /* its key path: node.private_key_file, peers[1].psk_file */
	const char *text; /* its content from the environment; NULL: copy the file */
	unsigned mode;    /* the file's mode when copied */
};

struct view {
	struct sn_entry *e;
	char *err;
	size_t err_len;
	char dir[PATH_MAX]; /* D: the directory the config's relative paths start from */
	char name[PATH_MAX]; /* the config's file name in D (and in V) */
	struct job jobs[SN_ENTRY_MAX_KEYS];
	char whats[SN_ENTRY_MAX_KEYS][48];
	unsigned n_jobs;
};

#define fail(v, rc, ...) sn__entry_fail((v)->err, (v)->err_len, rc, __VA_ARGS__)
#define say(v, ...) sn__entry_say((v)->e->log, __VA_ARGS__)

static int join(struct view *v, char *out, const char *a, const char *b)
{
	size_t n = strlen(a);

	if (snprintf(out, PATH_MAX, "%s%s%s", a, n && a[n - 1] == '/' ? "" : "/", b) >= PATH_MAX)
		return fail(v, -ENAMETOOLONG, "%s/%s: path too long (at most %d bytes)", a, b,
			    PATH_MAX - 1);
	return 0;
}

/* The part of path below dir ("keys/a.key"), or NULL when path is not
 * inside dir or climbs out of it with "..". */
static const char *below(const char *dir, const char *path)
{
	size_t n = strlen(dir);
	const char *rel, *s;

	if (n > 1 && dir[n - 1] == '/')
		n--;
	if (strncmp(path, dir, n) || path[n] != '/' || !path[n + 1])
		return NULL;
	rel = path + n + 1;
	for (s = rel; *s; s += strcspn(s, "/"), s += *s == '/') {
		size_t k = strcspn(s, "/");

		if (k == 0 || (k == 1 && s[0] == '.') || (k == 2 && s[0] == '.' && s[1] == '.'))
			return NULL;
	}
	return rel;
}

/* ---- reading and loading the config --------------------------------------- */

static int slurp(struct view *v, const char *path, size_t max, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	char *buf;
	ssize_t n;

	if (fd < 0)
		return fail(v, -errno, "%s: cannot read it: %s", path, strerror(errno));
	buf = malloc(max + 1);
	if (!buf) {
		close(fd);
		return fail(v, -ENOMEM, "%s: out of memory", path);
	}
	*len = 0;
	while ((n = read(fd, buf + *len, max + 1 - *len)) > 0 && *len + (size_t)n <= max)
		*len += (size_t)n;
	close(fd);
	if (n != 0) {
		int rc = n < 0 ? -errno : -EFBIG;

		free(buf);
		return fail(v, rc, "%s: cannot read it: %s", path,
			    n < 0 ? strerror(errno) : "larger than expected");
	}
	buf[*len] = '\0';
	*out = buf;
	return 0;
}

static int load(struct view *v, const char *name, const char *text, size_t len,
		struct sn_config **c)
{
	return sn_config_load_buffer(name, text, len, false, c, v->err, v->err_len);
}

static int split_name(struct view *v, const char *path)
{
	const char *slash = strrchr(path, '/');

	if (path[0] != '/' || !slash || !slash[1])
		return fail(v, -EINVAL, "SUBNETRA_CONFIG=%s: expected the absolute path of a file, "
			    "e.g. /etc/subnetra/subnetra.yaml", path);
	if (slash == path)
		return fail(v, -EINVAL, "SUBNETRA_CONFIG=%s: the config needs a directory of its own "
			    "(e.g. /etc/subnetra), not /", path);
	snprintf(v->dir, sizeof(v->dir), "%.*s", (int)(slash - path), path);
	snprintf(v->name, sizeof(v->name), "%s", slash + 1);
	return 0;
}

static int from_file(struct view *v, struct sn_config **c)
{
	const char *path = v->e->config, *view = v->e->view_dir;
	char *text;
	size_t len;
	int rc = split_name(v, path);

	if (rc < 0)
		return rc;
	if (below(view, path) || below(v->dir, view) || !strcmp(v->dir, view))
		return fail(v, -EINVAL, "SUBNETRA_CONFIG=%s: the config cannot share a directory with "
			    "%s, which the entrypoint makes afresh at each start", path, view);
	rc = slurp(v, path, 1u << 20, &text, &len);
	if (rc < 0)
		return rc;
	rc = load(v, path, text, len, c);
	free(text);
	return rc;
}

static int from_text(struct view *v, struct sn_config **c)
{
	const char *text = v->e->config_text;

	snprintf(v->dir, sizeof(v->dir), "%s", v->e->view_dir);
	snprintf(v->name, sizeof(v->name), "subnetra.yaml");
	if (join(v, v->e->run_config, v->dir, v->name) < 0)
		return -ENAMETOOLONG;
	return load(v, v->e->run_config, text, strlen(text), c);
}

/* ---- which key files need a stand-in -------------------------------------- */

static void add_job(struct view *v, const char *path, const char *what, const char *text,
		    unsigned mode)
{
	struct job *j = &v->jobs[v->n_jobs];

	snprintf(v->whats[v->n_jobs], sizeof(v->whats[0]), "%s", what);
	*j = (struct job){ path, v->whats[v->n_jobs], text, mode };
	v->n_jobs++;
}

/* A key file subnetrad would refuse for its mode: its mode, else 0. */
static unsigned too_open(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 077))
		return 0;
	return (unsigned)(st.st_mode & 07777);
}

static int collect(struct view *v, const struct sn_config *c)
{
	unsigned mode;
	char what[48];

	if (c->n_peers + 1 > SN_ENTRY_MAX_KEYS)
		return fail(v, -E2BIG, "%s: more than %d key files", c->path, SN_ENTRY_MAX_KEYS);
	if (v->e->config_text && !v->e->private_key && below(v->dir, c->private_key_file))
		return fail(v, -EINVAL, "SUBNETRA_CONFIG_TEXT: node.private_key_file %s would be in "
			    "%s, which the entrypoint makes afresh: set SUBNETRA_PRIVATE_KEY, or name "
			    "a mounted key file by its absolute path", c->private_key_file,
			    v->e->view_dir);
	if (v->e->private_key)
		add_job(v, c->private_key_file, "node.private_key_file", v->e->private_key, 0);
	else if ((mode = too_open(c->private_key_file)))
		add_job(v, c->private_key_file, "node.private_key_file", NULL, mode);
	for (uint32_t i = 0; i < c->n_peers; i++) {
		const char *psk = c->peers[i].psk_file;

		if (!psk || !(mode = too_open(psk)))
			continue;
		snprintf(what, sizeof(what), "peers[%u].psk_file", i);
		add_job(v, psk, what, NULL, mode);
	}
	return 0;
}

/* ---- building the view ----------------------------------------------------- */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

/* mkdir -p; what it creates last gets mode, the directories on the way 0755. */
static int mkdirs(struct view *v, const char *path, mode_t mode)
{
	char p[PATH_MAX];
	size_t n = strlen(path);
	int made = 0;

	if (n >= sizeof(p))
		return fail(v, -ENAMETOOLONG, "%s: path too long", path);
	memcpy(p, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		made = mkdir(p, i == n ? mode : 0755) == 0;
		if (!made && errno != EEXIST)
			return fail(v, -errno, "cannot create the directory %s: %s", p,
				    strerror(errno));
		if (i < n)
			p[i] = '/';
	}
	if (made && chmod(path, mode) < 0) /* the umask narrowed mkdir's mode */
		return fail(v, -errno, "cannot set mode %04o on %s: %s", (unsigned)mode, path,
			    strerror(errno));
	return 0;
}

static int fresh_view(struct view *v)
{
	const char *view = v->e->view_dir;

	if (view[0] != '/' || !view[1])
		return fail(v, -EINVAL, "%s: the view directory must be an absolute path below /",
			    view);
	if (nftw(view, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
		return fail(v, -errno, "cannot remove the old %s: %s", view, strerror(errno));
	return mkdirs(v, view, 0700);
}

/* A symbolic link in dst to each entry of src. */
static int mirror(struct view *v, const char *src, const char *dst)
{
	char from[PATH_MAX], to[PATH_MAX];
	DIR *d = opendir(src);
	struct dirent *de;
	int rc = 0;

	if (!d)
		return fail(v, -errno, "cannot list %s: %s", src, strerror(errno));
	while (rc == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		rc = join(v, from, src, de->d_name);
		if (rc == 0)
			rc = join(v, to, dst, de->d_name);
		if (rc == 0 && symlink(from, to) < 0)
			rc = fail(v, -errno, "cannot link %s to %s: %s", to, from, strerror(errno));
	}
	closedir(d);
	return rc;
}

/* The directories the daemon creates inside D (the state directory, the
 * control socket's), made now so that the view links to them instead of
 * the daemon creating them inside V. */
static int precreate(struct view *v, const struct sn_config *c)
{
	char sock[PATH_MAX], p[PATH_MAX];
	const char *rel;
	char *slash;
	int rc = 0;

	if ((rel = below(v->dir, c->state_dir)) && (rc = join(v, p, v->dir, rel)) == 0)
		rc = mkdirs(v, p, 0700);
	snprintf(sock, sizeof(sock), "%s", c->control_socket);
	slash = strrchr(sock, '/');
	if (slash)
		*slash = '\0';
	if (rc == 0 && slash && (rel = below(v->dir, sock)) && (rc = join(v, p, v->dir, rel)) == 0)
		rc = mkdirs(v, p, 0755);
	return rc;
}

/* Make every directory on the way to V/rel a real one (0700) that links to
 * the entries of its counterpart in D. */
static int open_up(struct view *v, const char *rel)
{
	char sub[PATH_MAX], in_v[PATH_MAX], in_d[PATH_MAX];
	struct stat st;
	int rc = 0;

	for (const char *s = strchr(rel, '/'); s && rc == 0; s = strchr(s + 1, '/')) {
		snprintf(sub, sizeof(sub), "%.*s", (int)(s - rel), rel);
		if ((rc = join(v, in_v, v->e->view_dir, sub)) < 0 ||
		    (rc = join(v, in_d, v->dir, sub)) < 0)
			break;
		if (lstat(in_v, &st) == 0 && S_ISDIR(st.st_mode))
			continue;
		if (unlink(in_v) < 0 && errno != ENOENT)
			return fail(v, -errno, "cannot replace %s: %s", in_v, strerror(errno));
		if (mkdir(in_v, 0700) < 0)
			return fail(v, -errno, "cannot create %s: %s", in_v, strerror(errno));
		if (stat(in_d, &st) == 0 && S_ISDIR(st.st_mode))
			rc = mirror(v, in_d, in_v);
	}
	return rc;
}

static int write_secret(struct view *v, const char *path, const char *buf, size_t len)
{
	int fd;
	ssize_t n = 0;

	if (unlink(path) < 0 && errno != ENOENT)
		return fail(v, -errno, "cannot replace %s: %s", path, strerror(errno));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return fail(v, -errno, "cannot create %s: %s", path, strerror(errno));
	for (size_t done = 0; done < len && n >= 0; done += (size_t)n)
		n = write(fd, buf + done, len - done);
	if (n < 0 || fchmod(fd, 0600) < 0) {
		int e = errno;

		close(fd);
		return fail(v, -e, "cannot write %s: %s", path, strerror(e));
	}
	return close(fd) < 0 ? fail(v, -errno, "cannot write %s: %s", path, strerror(errno)) : 0;
}

static int stand_in(struct view *v, const struct job *j)
{
	const char *rel = below(v->dir, j->path);
	char dst[PATH_MAX], *buf = NULL;
	size_t len;
	int rc;

	if (!rel)
		return fail(v, -EPERM, "%s %s %s, outside the config's directory %s: the entrypoint "
			    "stands in only for key files inside it (give %s relative to the config, "
			    "e.g. keys/node.key)", j->what, j->path,
			    j->text ? "would take SUBNETRA_PRIVATE_KEY but lies" :
				      "is readable by group or others and lies",
			    v->dir, j->what);
	if ((rc = join(v, dst, v->e->view_dir, rel)) < 0 || (rc = open_up(v, rel)) < 0)
		return rc;
	if (j->text) {
		rc = write_secret(v, dst, j->text, strlen(j->text));
	} else if ((rc = slurp(v, j->path, KEY_MAX, &buf, &len)) == 0) {
		rc = write_secret(v, dst, buf, len);
		memset(buf, 0, len);
		free(buf);
	}
	if (rc < 0)
		return rc;
	v->e->copies++;
	if (j->text)
		say(v, "%s: using SUBNETRA_PRIVATE_KEY, written to %s (mode 0600)", j->what, dst);
	else
		say(v, "%s: %s has mode %04o, which subnetrad refuses for a key (RouterOS disks "
		    "cannot keep 0600): using a copy of mode 0600, %s", j->what, j->path, j->mode,
		    dst);
	return 0;
}

/* The path the daemon will use for p once its config is read from V. */
/* subnetrad refuses a control socket directory that is a symbolic link
 * (docs/control.md): the directories on the way to the socket are made
 * real in V, and a link to an old socket file in D is removed. The socket
 * then lives in V, which is only this container's run time state. */
static int socket_dir(struct view *v, const struct sn_config *c)
{
	const char *rel = below(v->dir, c->control_socket);
	char p[PATH_MAX];
	struct stat st;
	int rc;

	if (!rel)
		return 0;
	if ((rc = open_up(v, rel)) < 0 || (rc = join(v, p, v->e->view_dir, rel)) < 0)
		return rc;
	if (lstat(p, &st) == 0 && S_ISLNK(st.st_mode) && unlink(p) < 0)
		return fail(v, -errno, "cannot remove %s: %s", p, strerror(errno));
	return 0;
}

static void in_view(struct view *v, const char *p, char *out)
{
	const char *rel = below(v->dir, p);

	if (!rel || join(v, out, v->e->view_dir, rel) < 0)
		snprintf(out, PATH_MAX, "%s", p);
}

static int build(struct view *v, const struct sn_config *c)
{
	struct sn_entry *e = v->e;
	int rc = fresh_view(v);

	if (rc == 0 && e->config_text)
		rc = write_secret(v, e->run_config, e->config_text, strlen(e->config_text));
	else if (rc == 0 && (rc = precreate(v, c)) == 0 && (rc = mirror(v, v->dir, e->view_dir)) == 0)
		rc = join(v, e->run_config, e->view_dir, v->name);
	for (unsigned i = 0; i < v->n_jobs && rc == 0; i++)
		rc = stand_in(v, &v->jobs[i]);
	if (rc == 0 && !e->config_text)
		rc = socket_dir(v, c);
	if (rc < 0)
		return rc;
	in_view(v, c->control_socket, e->socket);
	if (e->config_text)
		say(v, "config from SUBNETRA_CONFIG_TEXT, written to %s (mode 0600)", e->run_config);
	else
		say(v, "config %s, read as %s: a view of %s with %u key file%s stood in for",
		    e->config, e->run_config, v->dir, e->copies, e->copies == 1 ? "" : "s");
	return 0;
}

static void direct(struct view *v, const struct sn_config *c)
{
	snprintf(v->e->run_config, sizeof(v->e->run_config), "%s", v->e->config);
	snprintf(v->e->socket, sizeof(v->e->socket), "%s", c->control_socket);
	say(v, "config %s; its key files are private already (mode 0600 or stricter)",
	    v->e->config);
}

int sn_entry_prepare(struct sn_entry *e, char *err, size_t err_len)
{
	struct view *v = calloc(1, sizeof(*v));
	struct sn_config *c = NULL;
	int rc;

	if (!v) {
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	*v = (struct view){ .e = e, .err = err, .err_len = err_len };
	e->copies = 0;
	e->run_config[0] = e->socket[0] = '\0';
	rc = e->config_text ? from_text(v, &c) : from_file(v, &c);
	if (rc == 0)
		rc = collect(v, c);
	if (rc == 0 && (e->config_text || v->n_jobs))
		rc = build(v, c);
	else if (rc == 0)
		direct(v, c);
	sn_config_free(c);
	free(v);
	return rc;
}
