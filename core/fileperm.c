/* SPDX-License-Identifier: MIT */
#include "fileperm.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOT_OURS "neither root nor the user the daemon runs as"

const char *sn_strerror(int e, char *buf, size_t len)
{
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
	return strerror_r(e, buf, len);
#else
	if (strerror_r(e, buf, len) != 0)
		snprintf(buf, len, "error %d", e);
	return buf;
#endif
}

void sn_owners_init(struct sn_owners *o)
{
	o->n = 0;
	sn_owners_add(o, 0);
	sn_owners_add(o, geteuid());
}

bool sn_owners_has(const struct sn_owners *o, uid_t uid)
{
	for (uint32_t i = 0; i < o->n; i++)
		if (o->uid[i] == uid)
			return true;
	return false;
}

void sn_owners_add(struct sn_owners *o, uid_t uid)
{
	if (!sn_owners_has(o, uid) && o->n < SN_OWNERS_MAX)
		o->uid[o->n++] = uid;
}

int sn_user_ids(const char *user, uid_t *uid, gid_t *gid, char *err, size_t err_len)
{
	struct passwd pw, *res = NULL;
	char buf[16384], why[128];
	int r;

	if (!user) {
		*uid = geteuid();
		*gid = getegid();
		return 0;
	}
	r = getpwnam_r(user, &pw, buf, sizeof(buf), &res);
	if (r != 0) {
		snprintf(err, err_len, "node.user: cannot look up user '%s': %s", user,
			 sn_strerror(r, why, sizeof(why)));
		return -r;
	}
	if (!res) {
		snprintf(err, err_len, "node.user: no such user '%s' (create it, e.g. useradd "
			 "--system --no-create-home %s, or remove node.user)", user, user);
		return -ENOENT;
	}
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	return 0;
}

/* The directory part of path: "." without a slash, "/" for "/x". */
static void dir_of(const char *path, char *out, size_t len)
{
	const char *s = strrchr(path, '/');

	if (!s)
		snprintf(out, len, ".");
	else if (s == path)
		snprintf(out, len, "/");
	else
		snprintf(out, len, "%.*s", (int)(s - path), path);
}

/* The directory holding file (named by what in messages) may let nobody
 * but an allowed owner replace it; sticky_ok: a sticky directory may be
 * writable by others (they cannot rename or remove a file they do not own,
 * and the file's owner is an allowed one). */
static int holder_trusted(const char *file, const char *what, const struct sn_owners *o,
			  bool sticky_ok, char *err, size_t err_len)
{
	char dir[PATH_MAX], why[128];
	struct stat st;

	dir_of(file, dir, sizeof(dir));
	if (stat(dir, &st) < 0) {
		int e = errno;

		snprintf(err, err_len, "%s: cannot check its directory %s: %s", what, dir,
			 sn_strerror(e, why, sizeof(why)));
		return -e;
	}
	if (!sn_owners_has(o, st.st_uid)) {
		snprintf(err, err_len, "%s: its directory %s is owned by uid %u, " NOT_OURS
			 ", who could replace the file (run chown root %s)", what, dir,
			 (unsigned)st.st_uid, dir);
		return -EPERM;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(sticky_ok && (st.st_mode & S_ISVTX))) {
		snprintf(err, err_len, "%s: its directory %s is writable by group or others, who "
			 "could replace the file (mode %04o; run chmod go-w %s)", what, dir,
			 (unsigned)(st.st_mode & 07777), dir);
		return -EPERM;
	}
	return 0;
}

/* "PATH", or "PATH (a link to TARGET)" with TARGET in real. */
static bool describe(const char *path, char *real, char *what, size_t len)
{
	struct stat st;

	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && realpath(path, real)) {
		snprintf(what, len, "%s (a link to %s)", path, real);
		return true;
	}
	snprintf(what, len, "%s", path);
	return false;
}

int sn_file_trusted(int fd, const char *path, const struct sn_owners *o, char *err,
		    size_t err_len)
{
	char real[PATH_MAX], what[2 * PATH_MAX + 32], why[128];
	bool link = describe(path, real, what, sizeof(what));
	struct stat st;
	int r;

	if (fstat(fd, &st) < 0) {
		int e = errno;

		snprintf(err, err_len, "%s: cannot check it: %s", what, sn_strerror(e, why, sizeof(why)));
		return -e;
	}
	if (!sn_owners_has(o, st.st_uid)) {
		snprintf(err, err_len, "%s is owned by uid %u, " NOT_OURS " (run chown root %s)",
			 what, (unsigned)st.st_uid, path);
		return -EPERM;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, err_len, "%s is writable by group or others (mode %04o; run chmod "
			 "go-w %s)", what, (unsigned)(st.st_mode & 07777), path);
		return -EPERM;
	}
	r = holder_trusted(path, what, o, true, err, err_len);
	if (r == 0 && link)
		r = holder_trusted(real, what, o, true, err, err_len);
	return r;
}

/* st is dir's: owned by an allowed owner, no group- or world-write bit. */
static int dir_stat_trusted(const struct stat *st, const char *dir, const char *what,
			    const struct sn_owners *o, char *err, size_t err_len)
{
	if (!S_ISDIR(st->st_mode)) {
		snprintf(err, err_len, "%s %s is not a directory", what, dir);
		return -ENOTDIR;
	}
	if (!sn_owners_has(o, st->st_uid)) {
		snprintf(err, err_len, "%s %s is owned by uid %u, " NOT_OURS " (run chown root %s)",
			 what, dir, (unsigned)st->st_uid, dir);
		return -EPERM;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, err_len, "%s %s is writable by group or others (mode %04o; run chmod "
			 "go-w %s)", what, dir, (unsigned)(st->st_mode & 07777), dir);
		return -EPERM;
	}
	return 0;
}

int sn_dir_trusted(const char *dir, const char *what, const struct sn_owners *o, char *err,
		   size_t err_len)
{
	char why[128];
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

	if (fd < 0) {
		r = -errno;
		snprintf(err, err_len, "%s %s: %s", what, dir, sn_strerror(-r, why, sizeof(why)));
		return r;
	}
	r = sn_dir_fd_trusted(fd, dir, what, o, err, err_len);
	close(fd);
	return r;
}

int sn_dir_fd_trusted(int fd, const char *dir, const char *what, const struct sn_owners *o,
		      char *err, size_t err_len)
{
	char why[128];
	struct stat st;

	if (fstat(fd, &st) < 0) {
		int e = errno;

		snprintf(err, err_len, "%s %s: %s", what, dir, sn_strerror(e, why, sizeof(why)));
		return -e;
	}
	return dir_stat_trusted(&st, dir, what, o, err, err_len);
}
