/* SPDX-License-Identifier: MIT */
#include "epoch.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileperm.h"

#define PATH_LEN (sizeof(((struct sn_state *)0)->dir) + 16)
#define RECOVER "to recover, remove it (rm %s): the node then starts from the clock and " \
	"moves past any later epoch its peers report having accepted (docs/protocol.md, " \
	"section 7)"

/* uid's name for a message ("subnetra"), or the number. */
static const char *user_name(uid_t uid, char *buf, size_t len)
{
	struct passwd pw, *res = NULL;
	char tmp[4096];

	if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) == 0 && res)
		snprintf(buf, len, "%s", pw.pw_name);
	else
		snprintf(buf, len, "%u", (unsigned)uid);
	return buf;
}

/* ---- the directory ------------------------------------------------------ */

/* mkdir -p with mode 0700; *created when the last component is new. */
static int make_dirs(const char *dir, bool *created, char *err, size_t err_len)
{
	char path[sizeof(((struct sn_state *)0)->dir)], why[128];

	snprintf(path, sizeof(path), "%s", dir);
	*created = false;
	for (char *p = path + 1;; p++) {
		char c = *p;
		int r;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		r = mkdir(path, 0700);
		if (r != 0 && errno != EEXIST) {
			int e = errno;

			snprintf(err, err_len, "state directory %s: cannot create %s: %s", dir, path,
				 sn_strerror(e, why, sizeof(why)));
			return -e;
		}
		*p = c;
		if (!c) {
			*created = r == 0;
			return 0;
		}
	}
}

static int open_dir(struct sn_state *st, char *err, size_t err_len)
{
	char why[128], user[64];
	struct stat ls;
	int e;

	st->dirfd = open(st->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (st->dirfd >= 0)
		return 0;
	e = errno;
	if (lstat(st->dir, &ls) == 0 && S_ISLNK(ls.st_mode)) {
		snprintf(err, err_len, "state directory %s is a symbolic link, which the daemon "
			 "never follows there (set node.state_dir to the real directory, or replace "
			 "the link with a directory owned by %s)", st->dir,
			 user_name(st->uid, user, sizeof(user)));
		return -ELOOP;
	}
	snprintf(err, err_len, "state directory %s: %s", st->dir,
		 e == ENOTDIR ? "not a directory" : sn_strerror(e, why, sizeof(why)));
	return -e;
}

/* Give what we just made to the daemon's user; refuse what others could change. */
static int check_dir(struct sn_state *st, bool created, char *err, size_t err_len)
{
	char why[128], user[64];
	struct stat s;

	if (created && geteuid() != st->uid && fchown(st->dirfd, st->uid, st->gid) < 0) {
		int e = errno;

		snprintf(err, err_len, "state directory %s: cannot give it to %s: %s", st->dir,
			 user_name(st->uid, user, sizeof(user)), sn_strerror(e, why, sizeof(why)));
		return -e;
	}
	if (fstat(st->dirfd, &s) < 0)
		return -errno;
	if (s.st_uid != st->uid) {
		user_name(st->uid, user, sizeof(user));
		snprintf(err, err_len, "state directory %s is owned by uid %u, not by %s, the user "
			 "the daemon runs as (run chown %s %s)", st->dir, (unsigned)s.st_uid, user,
			 user, st->dir);
		return -EPERM;
	}
	if (s.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, err_len, "state directory %s is writable by group or others (mode "
			 "%04o; run chmod go-w %s)", st->dir, (unsigned)(s.st_mode & 07777), st->dir);
		return -EPERM;
	}
	return 0;
}

/* ---- the lock ------------------------------------------------------------ */

/* DIR/lock, read-write; read-only on a read-only file system (the lock
 * still works; the epoch write will say what is wrong). */
static int open_lock(struct sn_state *st, bool *rw)
{
	int fd = openat(st->dirfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK,
			0600);

	*rw = fd >= 0;
	if (fd < 0 && errno == EROFS)
		fd = openat(st->dirfd, "lock", O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	return fd < 0 ? -errno : fd;
}

static int busy(struct sn_state *st, char *err, size_t err_len)
{
	char buf[32] = "", *end;
	ssize_t n = pread(st->lockfd, buf, sizeof(buf) - 1, 0);
	long pid = 0;

	if (n > 0) {
		buf[n] = '\0';
		pid = strtol(buf, &end, 10);
		if (end == buf || (*end && *end != '\n'))
			pid = 0;
	}
	if (pid > 0)
		snprintf(err, err_len, "state directory %s is in use by another subnetrad (pid %ld)",
			 st->dir, pid);
	else
		snprintf(err, err_len, "state directory %s is in use by another subnetrad", st->dir);
	return -EBUSY;
}

static int write_pid(struct sn_state *st)
{
	char text[24];
	int n = snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	struct stat s;

	if (fstat(st->lockfd, &s) < 0)
		return -errno;
	if (s.st_uid != st->uid && geteuid() != st->uid && fchown(st->lockfd, st->uid, st->gid) < 0)
		return -errno;
	if (ftruncate(st->lockfd, 0) < 0 || pwrite(st->lockfd, text, (size_t)n, 0) != n)
		return errno ? -errno : -EIO;
	return 0;
}

static int take_lock(struct sn_state *st, char *err, size_t err_len)
{
	char why[128];
	bool rw;
	int r = open_lock(st, &rw);

	if (r < 0) {
		snprintf(err, err_len, "%s/lock: %s (remove it)", st->dir,
			 r == -ELOOP ? "is a symbolic link" : sn_strerror(-r, why, sizeof(why)));
		return r;
	}
	st->lockfd = r;
	if (flock(st->lockfd, LOCK_EX | LOCK_NB) < 0) {
		r = -errno;
		if (r == -EWOULDBLOCK)
			return busy(st, err, err_len);
		snprintf(err, err_len, "%s/lock: cannot lock it: %s", st->dir,
			 sn_strerror(-r, why, sizeof(why)));
		return r;
	}
	if (rw && (r = write_pid(st)) < 0) {
		snprintf(err, err_len, "%s/lock: cannot record our pid: %s", st->dir,
			 sn_strerror(-r, why, sizeof(why)));
		return r;
	}
	return 0;
}

/* ---- open and close ------------------------------------------------------ */

static int set_dir(struct sn_state *st, const char *dir, char *err, size_t err_len)
{
	size_t len = strlen(dir);

	while (len > 1 && dir[len - 1] == '/')
		len--; /* "dir/" would follow a symbolic link named dir */
	if (len == 0 || len >= sizeof(st->dir)) {
		snprintf(err, err_len, "state directory '%s': %s", dir,
			 len ? "path too long" : "empty path");
		return len ? -ENAMETOOLONG : -EINVAL;
	}
	memcpy(st->dir, dir, len);
	st->dir[len] = '\0';
	return 0;
}

int sn_state_open(struct sn_state *st, const char *dir, uid_t run_uid, gid_t run_gid, char *err,
		  size_t err_len)
{
	bool created = false;
	int r;

	memset(st, 0, sizeof(*st));
	st->dirfd = st->lockfd = -1;
	st->uid = run_uid;
	st->gid = run_gid;
	if ((r = set_dir(st, dir, err, err_len)) < 0 ||
	    (r = make_dirs(st->dir, &created, err, err_len)) < 0 ||
	    (r = open_dir(st, err, err_len)) < 0 ||
	    (r = check_dir(st, created, err, err_len)) < 0 ||
	    (r = take_lock(st, err, err_len)) < 0 ||
	    (r = -pthread_mutex_init(&st->lock, NULL)) < 0) {
		if (st->lockfd >= 0)
			close(st->lockfd);
		if (st->dirfd >= 0)
			close(st->dirfd);
		st->dirfd = st->lockfd = -1;
		return r;
	}
	st->open = true;
	return 0;
}

void sn_state_close(struct sn_state *st)
{
	if (!st->open)
		return;
	close(st->lockfd);
	close(st->dirfd);
	pthread_mutex_destroy(&st->lock);
	st->dirfd = st->lockfd = -1;
	st->open = false;
}

/* ---- the epoch file ------------------------------------------------------ */

/* Decimal digits and an optional newline; -EINVAL for anything else,
 * -ERANGE past SN_EPOCH_MAX. */
static int parse_epoch(const char *s, size_t n, uint64_t *v)
{
	size_t i = 0;

	*v = 0;
	if (n && s[n - 1] == '\n')
		n--;
	if (n == 0)
		return -EINVAL;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		if (*v <= SN_EPOCH_MAX)
			*v = *v * 10 + (uint64_t)(s[i] - '0');
	}
	return *v > SN_EPOCH_MAX ? -ERANGE : 0;
}

/* The epoch file must be what only the daemon's user could have written. */
static int check_file(const struct sn_state *st, int fd, const char *file, char *err,
		      size_t err_len)
{
	char user[64];
	struct stat s;

	if (fstat(fd, &s) < 0)
		return -errno;
	if (!S_ISREG(s.st_mode)) {
		snprintf(err, err_len, "%s is not a regular file; " RECOVER, file, file);
		return -EINVAL;
	}
	if (s.st_uid != st->uid) {
		user_name(st->uid, user, sizeof(user));
		snprintf(err, err_len, "%s is owned by uid %u, not by %s, the user the daemon runs "
			 "as (if nobody else wrote it, run chown %s %s)", file, (unsigned)s.st_uid,
			 user, user, file);
		return -EPERM;
	}
	if (s.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, err_len, "%s is writable by group or others (mode %04o; if nobody "
			 "else wrote it, run chmod go-w %s)", file, (unsigned)(s.st_mode & 07777), file);
		return -EPERM;
	}
	return 0;
}

static int read_epoch(int fd, const char *file, uint64_t *last, char *err, size_t err_len)
{
	char buf[32], why[128];
	ssize_t n = read(fd, buf, sizeof(buf));
	int r;

	if (n < 0) {
		r = -errno;
		snprintf(err, err_len, "%s: cannot read it: %s", file, sn_strerror(-r, why, sizeof(why)));
		return r;
	}
	r = n == (ssize_t)sizeof(buf) ? -EINVAL : parse_epoch(buf, (size_t)n, last);
	if (r == -EINVAL)
		snprintf(err, err_len, "%s does not hold an epoch (expected decimal digits and a "
			 "newline); " RECOVER, file, file);
	else if (r == -ERANGE)
		snprintf(err, err_len, "%s holds %.*s, past the last usable epoch %u; " RECOVER, file,
			 (int)(n && buf[n - 1] == '\n' ? n - 1 : n), buf, SN_EPOCH_MAX, file);
	return r;
}

/* The last epoch in DIR/epoch, 0 when there is no file. */
static int last_epoch(const struct sn_state *st, const char *file, uint64_t *last, char *err,
		      size_t err_len)
{
	char why[128];
	int fd, r;

	*last = 0;
	fd = openat(st->dirfd, "epoch", O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 && errno == ELOOP) {
		snprintf(err, err_len, "%s is a symbolic link, which the daemon never follows; "
			 RECOVER, file, file);
		return -ELOOP;
	}
	if (fd < 0) {
		r = -errno;
		snprintf(err, err_len, "%s: cannot open it: %s", file, sn_strerror(-r, why, sizeof(why)));
		return r;
	}
	r = check_file(st, fd, file, err, err_len);
	if (r == 0)
		r = read_epoch(fd, file, last, err, err_len);
	close(fd);
	return r;
}

/* max(now, last + 1, min_epoch), when it is a usable epoch. */
static int pick(const char *file, uint64_t now, uint64_t last, uint32_t min_epoch,
		uint64_t *next, char *err, size_t err_len)
{
	uint64_t e = now > last + 1 ? now : last + 1;

	e = e > min_epoch ? e : min_epoch;
	*next = e;
	if (e <= SN_EPOCH_MAX)
		return 0;
	if (last + 1 > SN_EPOCH_MAX)
		snprintf(err, err_len, "%s holds %" PRIu64 ", the last usable epoch: none is left "
			 "after it; " RECOVER, file, last, file);
	else if (now > SN_EPOCH_MAX)
		snprintf(err, err_len, "the clock (%" PRIu64 " s since 1970) is past the last usable "
			 "epoch %u (set the system clock right)", now, SN_EPOCH_MAX);
	else
		snprintf(err, err_len, "no usable epoch is left at or above %" PRIu32 " (the last "
			 "is %u): a peer accepted an epoch this node cannot move past; restart that "
			 "peer (it then forgets the epochs it accepted)", min_epoch, SN_EPOCH_MAX);
	return -ERANGE;
}

static int write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Fill the new epoch.tmp (fd) with text: the daemon's user's, on disk. */
static int fill_tmp(const struct sn_state *st, int fd, const char *text, const char **step)
{
	int r;

	*step = "give to the daemon's user";
	if (geteuid() != st->uid && fchown(fd, st->uid, st->gid) < 0)
		return -errno;
	*step = "write";
	if ((r = write_all(fd, text, strlen(text))) < 0)
		return r;
	*step = "fsync";
	return fsync(fd) < 0 ? -errno : 0;
}

/* NAME.tmp, new (O_EXCL: never an existing file, nor a link someone put
 * there), holding text. *step says what failed. */
static int write_tmp(const struct sn_state *st, const char *tmp, const char *text,
		     const char **step)
{
	int fd, r;

	*step = "remove the stale";
	if (unlinkat(st->dirfd, tmp, 0) < 0 && errno != ENOENT)
		return -errno;
	*step = "create";
	fd = openat(st->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
		    0600);
	if (fd < 0)
		return -errno;
	r = fill_tmp(st, fd, text, step);
	if (close(fd) < 0 && r == 0) {
		*step = "close";
		r = -errno;
	}
	if (r < 0)
		unlinkat(st->dirfd, tmp, 0);
	return r;
}

/* Durably replace DIR/name with text: NAME.tmp, fsync, rename, fsync the
 * directory. *step and the errno say what failed. */
static int replace_file(const struct sn_state *st, const char *name, const char *text,
			const char **step)
{
	char tmp[64];
	int r;

	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	r = write_tmp(st, tmp, text, step);
	if (r == 0) {
		*step = "rename into place";
		r = renameat(st->dirfd, tmp, st->dirfd, name) < 0 ? -errno : 0;
	}
	if (r == 0) {
		*step = "fsync the directory of";
		r = fsync(st->dirfd) < 0 ? -errno : 0;
	}
	return r;
}

static int persist(const struct sn_state *st, const char *file, uint32_t epoch, char *err,
		   size_t err_len)
{
	char text[16], why[128];
	const char *step = "";
	int r;

	snprintf(text, sizeof(text), "%" PRIu32 "\n", epoch);
	r = replace_file(st, "epoch", text, &step);
	if (r < 0)
		snprintf(err, err_len, "%s: cannot persist epoch %" PRIu32 " (%s %s.tmp: %s)", file,
			 epoch, step, file, sn_strerror(-r, why, sizeof(why)));
	return r;
}

int sn_state_write(struct sn_state *st, const char *name, const char *text, char *err,
		   size_t err_len)
{
	const char *step = "";
	char why[128];
	int r;

	if (!st->open) {
		snprintf(err, err_len, "the state directory is not open");
		return -EBADF;
	}
	pthread_mutex_lock(&st->lock);
	r = replace_file(st, name, text, &step);
	pthread_mutex_unlock(&st->lock);
	if (r < 0)
		snprintf(err, err_len, "%s/%s: cannot write it (%s %s.tmp: %s)", st->dir, name, step,
			 name, sn_strerror(-r, why, sizeof(why)));
	return r;
}

int sn_state_read(struct sn_state *st, const char *name, char *buf, size_t cap, size_t *len,
		  char *err, size_t err_len)
{
	char file[PATH_LEN], why[128];
	ssize_t n;
	int fd, r;

	*len = 0;
	if (!st->open)
		return -EBADF;
	snprintf(file, sizeof(file), "%s/%s", st->dir, name);
	fd = openat(st->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		if (r != -ENOENT)
			snprintf(err, err_len, "%s: cannot open it: %s", file,
				 sn_strerror(-r, why, sizeof(why)));
		return r;
	}
	r = check_file(st, fd, file, err, err_len);
	if (r == 0 && (n = read(fd, buf, cap - 1)) < 0) {
		r = -errno;
		snprintf(err, err_len, "%s: cannot read it: %s", file, sn_strerror(-r, why, sizeof(why)));
	} else if (r == 0) {
		buf[n] = '\0';
		*len = (size_t)n;
	}
	close(fd);
	return r;
}

int sn_epoch_next(struct sn_state *st, uint64_t now, uint32_t min_epoch, uint32_t *out,
		  char *err, size_t err_len)
{
	char file[PATH_LEN];
	uint64_t last = 0, next = 0;
	int r;

	if (!st->open) {
		snprintf(err, err_len, "the state directory is not open");
		return -EBADF;
	}
	snprintf(file, sizeof(file), "%s/epoch", st->dir);
	pthread_mutex_lock(&st->lock);
	r = last_epoch(st, file, &last, err, err_len);
	if (r == 0)
		r = pick(file, now, last, min_epoch, &next, err, err_len);
	if (r == 0)
		r = persist(st, file, (uint32_t)next, err, err_len);
	pthread_mutex_unlock(&st->lock);
	if (r == 0)
		*out = (uint32_t)next;
	return r;
}
