/* SPDX-License-Identifier: MIT */
/*
 * tests/test_epoch.c: the state directory and the epoch file (core/epoch.c).
 *
 * Each test works in a private mkdtemp directory. As root (CI is root) the
 * ownership cases chown to uid 65534; without root they are skipped. Every
 * refusal is checked with its whole message, and every success with the
 * file left behind: "N\n", mode 0600, owned by the daemon's user, no
 * epoch.tmp. An attacker who wins the race between removing a stale
 * epoch.tmp and creating the new one is played by a --wrap of unlinkat.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "epoch.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define NOBODY 65534
#define T0 1700000000u
#define RECOVER(f) "to recover, remove it (rm " f "): the node then starts from the clock " \
	"and moves past any later epoch its peers report having accepted (docs/protocol.md, " \
	"section 7)"

struct fx {
	char base[64];
	char dir[128];  /* base/s: the state directory most tests use */
	char file[160]; /* dir/epoch */
	char tmp[160];  /* dir/epoch.tmp */
	char err[1024];
	struct sn_state st;
};

#ifdef SN_WRAP_UNLINKAT
/* When set, the next unlinkat of epoch.tmp is followed at once by an
 * attacker's symbolic link of that name to this file. */
static const char *plant_link;

int __real_unlinkat(int dirfd, const char *name, int flags);
int __wrap_unlinkat(int dirfd, const char *name, int flags)
{
	int r = __real_unlinkat(dirfd, name, flags);
	int e = errno;

	if (plant_link && !strcmp(name, "epoch.tmp")) {
		assert_int_equal(symlinkat(plant_link, dirfd, "epoch.tmp"), 0);
		plant_link = NULL;
	}
	errno = e;
	return r;
}
#endif

/* ---- fixture and helpers --------------------------------------------------- */

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->base, "/tmp/sn-test-epoch-XXXXXX");
	if (!mkdtemp(f->base))
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/s", f->base);
	snprintf(f->file, sizeof(f->file), "%s/epoch", f->dir);
	snprintf(f->tmp, sizeof(f->tmp), "%s/epoch.tmp", f->dir);
	*state = f;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	sn_state_close(&f->st);
	nftw(f->base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void need_root(void)
{
	if (geteuid() != 0)
		skip();
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

/* A regular file's text (symlinks followed); NULL for anything else. */
static const char *read_text(const char *path)
{
	static char buf[256];
	struct stat s;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NONBLOCK);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &s) < 0 || !S_ISREG(s.st_mode)) {
		close(fd);
		return NULL;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	return buf;
}

/* printf into a static buffer, for expected messages. */
static const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static const char *fmt(const char *f, ...)
{
	static char buf[2][1024];
	static int k;
	va_list ap;

	k ^= 1;
	va_start(ap, f);
	vsnprintf(buf[k], sizeof(buf[k]), f, ap);
	va_end(ap);
	return buf[k];
}

static void open_ok(struct fx *f, uid_t uid)
{
	if (sn_state_open(&f->st, f->dir, uid, uid, f->err, sizeof(f->err)) < 0)
		fail_msg("sn_state_open: %s", f->err);
}

/* sn_epoch_next succeeds with want, and the file says so. */
static void next_ok(struct fx *f, uint64_t now, uint32_t min, uint32_t want)
{
	struct stat s;
	uint32_t got = 0;

	if (sn_epoch_next(&f->st, now, min, &got, f->err, sizeof(f->err)) < 0)
		fail_msg("sn_epoch_next: %s", f->err);
	assert_int_equal(got, want);
	assert_string_equal(read_text(f->file), fmt("%u\n", want));
	assert_int_equal(lstat(f->file, &s), 0);
	assert_true(S_ISREG(s.st_mode));
	assert_int_equal(s.st_mode & 07777, 0600);
	assert_int_equal(s.st_uid, f->st.uid);
	assert_int_equal(access(f->tmp, F_OK), -1);
}

/* sn_epoch_next fails with rc and msg, and leaves the file as it was. */
static void next_fails(struct fx *f, uint64_t now, uint32_t min, int rc, const char *msg)
{
	char before[256] = "";
	const char *t = read_text(f->file);
	uint32_t got = 12345;

	if (t)
		snprintf(before, sizeof(before), "%s", t);
	assert_int_equal(sn_epoch_next(&f->st, now, min, &got, f->err, sizeof(f->err)), rc);
	assert_string_equal(f->err, msg);
	assert_int_equal(got, 12345);
	t = read_text(f->file);
	if (before[0] || t)
		assert_string_equal(t ? t : "", before);
}

static void open_fails(struct fx *f, const char *dir, uid_t uid, int rc, const char *msg)
{
	struct sn_state st;

	assert_int_equal(sn_state_open(&st, dir, uid, uid, f->err, sizeof(f->err)), rc);
	assert_string_equal(f->err, msg);
	assert_false(st.open);
	sn_state_close(&st); /* a no-op on a state that did not open */
}

/* ---- the directory ------------------------------------------------------------ */

static void test_epoch_state_dir_created(void **state)
{
	struct fx *f = *state;
	char top[160];
	struct stat s;

	need_root();
	snprintf(top, sizeof(top), "%s/a", f->base);
	snprintf(f->dir, sizeof(f->dir), "%s/a/b/state", f->base);
	snprintf(f->file, sizeof(f->file), "%s/epoch", f->dir);
	snprintf(f->tmp, sizeof(f->tmp), "%s/epoch.tmp", f->dir);
	open_ok(f, NOBODY);
	/* mkdir -p, mode 0700; only the state directory itself goes to the user */
	assert_int_equal(stat(top, &s), 0);
	assert_int_equal(s.st_mode & 07777, 0700);
	assert_int_equal(s.st_uid, 0);
	assert_int_equal(stat(f->dir, &s), 0);
	assert_int_equal(s.st_mode & 07777, 0700);
	assert_int_equal(s.st_uid, NOBODY);
	assert_int_equal(s.st_gid, NOBODY);
	/* the lock file holds our pid */
	assert_string_equal(read_text(fmt("%s/lock", f->dir)), fmt("%ld\n", (long)getpid()));
	/* the epoch file the root daemon writes belongs to the user too */
	next_ok(f, T0, 0, T0);
	next_ok(f, T0, 0, T0 + 1);
	sn_state_close(&f->st);
	sn_state_close(&f->st); /* twice is fine */
	/* a trailing slash changes nothing */
	assert_int_equal(sn_state_open(&f->st, fmt("%s/", f->dir), NOBODY, NOBODY, f->err,
				       sizeof(f->err)), 0);
	assert_string_equal(f->st.dir, f->dir);
	next_ok(f, T0, 0, T0 + 2);
}

struct dir_case {
	const char *what;
	void (*make)(const struct fx *f);
	const char *name;   /* the dir to open, relative to base */
	int rc;
	const char *msg;    /* %1$s: base */
};

static void mk_link(const struct fx *f)
{
	assert_int_equal(mkdir(fmt("%s/real", f->base), 0700), 0);
	assert_int_equal(symlink(fmt("%s/real", f->base), f->dir), 0);
}

static void mk_dangling(const struct fx *f)
{
	assert_int_equal(symlink(fmt("%s/nowhere", f->base), f->dir), 0);
}

static void mk_mode(const struct fx *f, mode_t m)
{
	assert_int_equal(mkdir(f->dir, 0700), 0);
	assert_int_equal(chmod(f->dir, m), 0);
}

static void mk_gw(const struct fx *f) { mk_mode(f, 0770); }
static void mk_ow(const struct fx *f) { mk_mode(f, 0702); }
static void mk_sticky_ow(const struct fx *f) { mk_mode(f, 01777); }

static void mk_other_owner(const struct fx *f)
{
	mk_mode(f, 0700);
	assert_int_equal(chown(f->dir, NOBODY, NOBODY), 0);
}

static void mk_file(const struct fx *f)
{
	write_text(f->dir, "x", 0600);
}

static void mk_lock_link(const struct fx *f)
{
	mk_mode(f, 0700);
	assert_int_equal(symlink(fmt("%s/victim", f->base), fmt("%s/lock", f->dir)), 0);
}

#define LINKED "state directory %1$s/s is a symbolic link, which the daemon never follows " \
	"there (set node.state_dir to the real directory, or replace the link with a directory " \
	"owned by root)"

static const struct dir_case dir_cases[] = {
	{ "a symbolic link to a directory", mk_link, "s", -ELOOP,
	  LINKED },
	{ "the same, named with a trailing slash", mk_link, "s/", -ELOOP,
	  LINKED },
	{ "a dangling symbolic link", mk_dangling, "s", -ELOOP,
	  LINKED },
	{ "owned by another user", mk_other_owner, "s", -EPERM,
	  "state directory %1$s/s is owned by uid 65534, not by root, the user the daemon runs as "
	  "(run chown root %1$s/s)" },
	{ "group-writable", mk_gw, "s", -EPERM,
	  "state directory %1$s/s is writable by group or others (mode 0770; run chmod go-w %1$s/s)" },
	{ "world-writable", mk_ow, "s", -EPERM,
	  "state directory %1$s/s is writable by group or others (mode 0702; run chmod go-w %1$s/s)" },
	{ "world-writable and sticky", mk_sticky_ow, "s", -EPERM,
	  "state directory %1$s/s is writable by group or others (mode 1777; run chmod go-w %1$s/s)" },
	{ "a file", mk_file, "s", -ENOTDIR, "state directory %1$s/s: not a directory" },
	{ "a path under a file", mk_file, "s/x", -ENOTDIR,
	  "state directory %1$s/s/x: cannot create %1$s/s/x: Not a directory" },
	{ "its lock file a symbolic link", mk_lock_link, "s", -ELOOP,
	  "%1$s/s/lock: is a symbolic link (remove it)" },
};

static void test_epoch_state_dir_refused(void **state)
{
	struct fx *f = *state;

	need_root();
	for (size_t i = 0; i < N(dir_cases); i++) {
		const struct dir_case *c = &dir_cases[i];
		char msg[1024];

		print_message("case: %s\n", c->what);
		nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		remove(fmt("%s/real", f->base));
		remove(f->dir);
		c->make(f);
		snprintf(msg, sizeof(msg), c->msg, f->base);
		open_fails(f, fmt("%s/%s", f->base, c->name), 0, c->rc, msg);
	}
	/* the victim of the lock link was never created */
	assert_int_equal(access(fmt("%s/victim", f->base), F_OK), -1);
}

static void test_epoch_state_dir_empty_path(void **state)
{
	struct fx *f = *state;

	open_fails(f, "", 0, -EINVAL, "state directory '': empty path");
}

static void test_epoch_state_dir_locked(void **state)
{
	struct fx *f = *state;
	struct sn_state second;

	open_ok(f, geteuid());
	/* two open file descriptions of DIR/lock conflict, even in one process */
	open_fails(f, f->dir, geteuid(), -EBUSY,
		   fmt("state directory %s is in use by another subnetrad (pid %ld)", f->dir,
		       (long)getpid()));
	/* without a pid in the file the message says less, nothing wrong */
	write_text(fmt("%s/lock", f->dir), "", 0600);
	open_fails(f, f->dir, geteuid(), -EBUSY,
		   fmt("state directory %s is in use by another subnetrad", f->dir));
	sn_state_close(&f->st);
	/* released with the state */
	assert_int_equal(sn_state_open(&second, f->dir, geteuid(), getegid(), f->err,
				       sizeof(f->err)), 0);
	sn_state_close(&second);
}

/* ---- the epoch file ----------------------------------------------------------- */

struct file_case {
	const char *what;
	const char *text;   /* content of DIR/epoch; NULL: made by make */
	void (*make)(const struct fx *f);
	int rc;
	const char *msg;    /* %1$s: the epoch file */
};

static void mk_epoch_link(const struct fx *f)
{
	write_text(fmt("%s/target", f->base), "1\n", 0600);
	assert_int_equal(symlink(fmt("%s/target", f->base), f->file), 0);
}

static void mk_epoch_dir(const struct fx *f)
{
	assert_int_equal(mkdir(f->file, 0700), 0);
}

static void mk_epoch_fifo(const struct fx *f)
{
	assert_int_equal(mkfifo(f->file, 0600), 0);
}

static void mk_epoch_other(const struct fx *f)
{
	write_text(f->file, "1700000000\n", 0600);
	assert_int_equal(chown(f->file, NOBODY, NOBODY), 0);
}

static void mk_epoch_nul(const struct fx *f)
{
	int fd = open(f->file, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_int_equal(write(fd, "17\0", 3), 3);
	close(fd);
}

static void mk_epoch_gw(const struct fx *f) { write_text(f->file, "1700000000\n", 0620); }
static void mk_epoch_ow(const struct fx *f) { write_text(f->file, "1700000000\n", 0602); }

#define GARBAGE(f) "%1$s does not hold an epoch (expected decimal digits and a newline); " RECOVER(f)

static const struct file_case file_cases[] = {
	{ "a symbolic link", NULL, mk_epoch_link, -ELOOP,
	  "%1$s is a symbolic link, which the daemon never follows; " RECOVER("%1$s") },
	{ "a directory", NULL, mk_epoch_dir, -EINVAL,
	  "%1$s is not a regular file; " RECOVER("%1$s") },
	{ "a FIFO (never blocks)", NULL, mk_epoch_fifo, -EINVAL,
	  "%1$s is not a regular file; " RECOVER("%1$s") },
	{ "owned by another user", NULL, mk_epoch_other, -EPERM,
	  "%1$s is owned by uid 65534, not by root, the user the daemon runs as (if nobody else "
	  "wrote it, run chown root %1$s)" },
	{ "group-writable", NULL, mk_epoch_gw, -EPERM,
	  "%1$s is writable by group or others (mode 0620; if nobody else wrote it, run chmod go-w %1$s)" },
	{ "world-writable", NULL, mk_epoch_ow, -EPERM,
	  "%1$s is writable by group or others (mode 0602; if nobody else wrote it, run chmod go-w %1$s)" },
	{ "empty", "", NULL, -EINVAL, GARBAGE("%1$s") },
	{ "a newline only", "\n", NULL, -EINVAL, GARBAGE("%1$s") },
	{ "letters", "abc\n", NULL, -EINVAL, GARBAGE("%1$s") },
	{ "a sign", "-5\n", NULL, -EINVAL, GARBAGE("%1$s") },
	{ "a leading blank", " 17\n", NULL, -EINVAL, GARBAGE("%1$s") },
	{ "a trailing blank", "17 \n", NULL, -EINVAL, GARBAGE("%1$s") },
	{ "two newlines", "17\n\n", NULL, -EINVAL, GARBAGE("%1$s") },
	{ "a NUL", NULL, mk_epoch_nul, -EINVAL, GARBAGE("%1$s") },
	{ "more than a number can be", "123456789012345678901234567890123\n", NULL, -EINVAL,
	  GARBAGE("%1$s") },
	{ "2^32 - 1", "4294967295\n", NULL, -ERANGE,
	  "%1$s holds 4294967295, past the last usable epoch 4294967294; " RECOVER("%1$s") },
	{ "a 20-digit number", "99999999999999999999", NULL, -ERANGE,
	  "%1$s holds 99999999999999999999, past the last usable epoch 4294967294; " RECOVER("%1$s") },
	{ "the last usable epoch", "4294967294\n", NULL, -ERANGE,
	  "%1$s holds 4294967294, the last usable epoch: none is left after it; " RECOVER("%1$s") },
};

static void test_epoch_file_refused(void **state)
{
	struct fx *f = *state;

	need_root();
	open_ok(f, 0);
	for (size_t i = 0; i < N(file_cases); i++) {
		const struct file_case *c = &file_cases[i];
		char msg[2048];

		print_message("case: %s\n", c->what);
		nftw(f->file, rm_one, 4, FTW_DEPTH | FTW_PHYS);
		remove(f->file);
		if (c->make) {
			c->make(f);
		} else {
			int fd = open(f->file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
			size_t len = strlen(c->text);

			assert_int_equal(write(fd, c->text, len), (ssize_t)len);
			close(fd);
		}
		snprintf(msg, sizeof(msg), c->msg, f->file);
		next_fails(f, T0, 0, c->rc, msg);
		assert_int_equal(access(f->tmp, F_OK), -1);
	}
	/* the link's target was neither read as an epoch nor written */
	assert_string_equal(read_text(fmt("%s/target", f->base)), "1\n");
}

/* ---- choosing the next epoch -------------------------------------------------- */

struct pick_case {
	const char *last;   /* DIR/epoch before; NULL: none */
	uint64_t now;
	uint32_t min;
	uint32_t want;
};

static const struct pick_case pick_cases[] = {
	{ NULL, T0, 0, T0 },                       /* the clock */
	{ NULL, 0, 0, 1 },                         /* epoch 0 is never used */
	{ "0\n", 0, 0, 1 },
	{ "1700000000\n", T0, 0, T0 + 1 },         /* restarted within the second */
	{ "1700000000\n", T0 + 60, 0, T0 + 60 },   /* later: the clock again */
	{ "1800000000\n", T0, 0, 1800000001 },     /* the clock went back */
	{ "1800000000", T0, 0, 1800000001 },       /* no newline is fine */
	{ "007\n", 3, 0, 8 },                      /* leading zeros are digits */
	{ "5\n", 3, 10, 10 },                      /* min_epoch: a peer accepted 9 */
	{ "5\n", 3, 6, 6 },
	{ "5\n", 3, 5, 6 },                        /* min below last + 1 */
	{ "5\n", 30, 10, 30 },                     /* min below now */
	{ NULL, 0, SN_EPOCH_MAX, SN_EPOCH_MAX },
	{ NULL, SN_EPOCH_MAX, 0, SN_EPOCH_MAX },
	{ "4294967293\n", 0, 0, SN_EPOCH_MAX },
};

static void test_epoch_next_picks_max(void **state)
{
	struct fx *f = *state;

	open_ok(f, geteuid());
	for (size_t i = 0; i < N(pick_cases); i++) {
		const struct pick_case *c = &pick_cases[i];

		print_message("case: last %.*s now %llu min %u\n",
			      c->last ? (int)strcspn(c->last, "\n") : 4, c->last ? c->last : "none",
			      (unsigned long long)c->now, c->min);
		remove(f->file);
		if (c->last)
			write_text(f->file, c->last, 0600);
		next_ok(f, c->now, c->min, c->want);
	}
	/* and each call moves on from the last */
	remove(f->file);
	for (uint32_t i = 0; i < 5; i++)
		next_ok(f, T0, 0, T0 + i);
}

static void test_epoch_next_none_left(void **state)
{
	struct fx *f = *state;

	open_ok(f, geteuid());
	next_fails(f, (uint64_t)SN_EPOCH_MAX + 1, 0, -ERANGE,
		   "the clock (4294967295 s since 1970) is past the last usable epoch 4294967294 "
		   "(set the system clock right)");
	next_fails(f, T0, SN_EPOCH_MAX + 1u, -ERANGE,
		   "no usable epoch is left at or above 4294967295 (the last is 4294967294): a peer "
		   "accepted an epoch this node cannot move past; restart that peer (it then "
		   "forgets the epochs it accepted)");
	assert_int_equal(access(f->file, F_OK), -1);
	/* recovery as the messages say: without the file, the clock */
	write_text(f->file, "4294967294\n", 0600);
	next_fails(f, T0, 0, -ERANGE,
		   fmt("%s holds 4294967294, the last usable epoch: none is left after it; %s",
		       f->file, fmt("to recover, remove it (rm %s): the node then starts from the "
				    "clock and moves past any later epoch its peers report having "
				    "accepted (docs/protocol.md, section 7)", f->file)));
	assert_int_equal(unlink(f->file), 0);
	next_ok(f, T0, 0, T0);
}

static void test_epoch_next_needs_open_state(void **state)
{
	struct fx *f = *state;
	uint32_t e = 0;

	assert_int_equal(sn_epoch_next(&f->st, T0, 0, &e, f->err, sizeof(f->err)), -EBADF);
	assert_string_equal(f->err, "the state directory is not open");
}

/* ---- persisting ---------------------------------------------------------------- */

static void test_epoch_stale_tmp_replaced(void **state)
{
	struct fx *f = *state;
	char victim[160];

	open_ok(f, geteuid());
	/* a leftover of a crash between create and rename */
	write_text(f->tmp, "garbage", 0644);
	next_ok(f, T0, 0, T0);
	/* a symbolic link someone left there: removed, its target untouched */
	snprintf(victim, sizeof(victim), "%s/victim", f->base);
	write_text(victim, "precious\n", 0644);
	assert_int_equal(symlink(victim, f->tmp), 0);
	next_ok(f, T0, 0, T0 + 1);
	assert_string_equal(read_text(victim), "precious\n");
}

static void test_epoch_tmp_created_exclusively(void **state)
{
#ifdef SN_WRAP_UNLINKAT
	struct fx *f = *state;
	char victim[160];
	struct stat s;

	open_ok(f, geteuid());
	next_ok(f, T0, 0, T0);
	snprintf(victim, sizeof(victim), "%s/victim", f->base);
	write_text(victim, "precious\n", 0644);
	/* a link planted right after the stale file is removed: O_EXCL refuses it */
	plant_link = victim;
	next_fails(f, T0, 0, -EEXIST,
		   fmt("%s: cannot persist epoch %u (create %s.tmp: File exists)", f->file, T0 + 1,
		       f->file));
	assert_null(plant_link);
	assert_string_equal(read_text(victim), "precious\n");
	assert_int_equal(lstat(f->tmp, &s), 0);
	assert_true(S_ISLNK(s.st_mode));
	/* the next try removes it and goes through */
	next_ok(f, T0, 0, T0 + 1);
	assert_string_equal(read_text(victim), "precious\n");
#else
	skip(); /* no --wrap on this linker */
#endif
}

/* In a child that became uid 65534: sn_epoch_next's result is want_rc and
 * its message want (NULL: *got == want_epoch). The child's exit status says. */
static void as_nobody(struct fx *f, uint32_t min, int want_rc, const char *want,
		      uint32_t want_epoch)
{
	pid_t pid = fork();
	int st = 0;

	assert_true(pid >= 0);
	if (pid == 0) {
		char err[1024] = "";
		uint32_t e = 0;
		int ok = setgroups(0, NULL) == 0 && setgid(NOBODY) == 0 && setuid(NOBODY) == 0 &&
			 sn_epoch_next(&f->st, T0, min, &e, err, sizeof(err)) == want_rc &&
			 (want ? !strcmp(err, want) : e == want_epoch);

		if (!ok)
			fprintf(stderr, "child: epoch %u, '%s'\n", e, err);
		_exit(ok ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_epoch_persist_error_names_the_file(void **state)
{
	struct fx *f = *state;

	need_root();
	open_ok(f, NOBODY);
	/* a directory its owner cannot write: the write fails and says where */
	assert_int_equal(chmod(f->dir, 0500), 0);
	as_nobody(f, 0, -EACCES, fmt("%s: cannot persist epoch %u (create %s.tmp: Permission "
				     "denied)", f->file, T0, f->file), 0);
	assert_int_equal(access(f->file, F_OK), -1);
}

/* ---- after the drop, and from threads ------------------------------------------ */

static void test_epoch_next_after_dropping_root(void **state)
{
	struct fx *f = *state;

	need_root();
	open_ok(f, NOBODY);
	next_ok(f, T0, 0, T0);
	/* an epoch jump after the drop: the directory and file are the user's */
	as_nobody(f, T0 + 100, 0, NULL, T0 + 100);
	next_ok(f, T0, 0, T0 + 101);
}

#define THREADS 4
#define CALLS 40

struct worker {
	struct sn_state *st;
	uint32_t got[CALLS];
	int rc;
	char err[1024];
};

static void *work(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < CALLS && w->rc == 0; i++)
		w->rc = sn_epoch_next(w->st, T0, 0, &w->got[i], w->err, sizeof(w->err));
	return NULL;
}

static void test_epoch_next_from_threads(void **state)
{
	struct fx *f = *state;
	static struct worker w[THREADS];
	pthread_t t[THREADS];
	static uint8_t seen[THREADS * CALLS];

	open_ok(f, geteuid());
	memset(seen, 0, sizeof(seen));
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .st = &f->st };
		assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	/* every call got its own epoch, and the file holds the last */
	for (int i = 0; i < THREADS; i++) {
		if (w[i].rc)
			fail_msg("thread %d: %s", i, w[i].err);
		for (int k = 0; k < CALLS; k++) {
			uint32_t e = w[i].got[k];

			assert_true(e >= T0 && e < T0 + THREADS * CALLS);
			assert_int_equal(seen[e - T0], 0);
			seen[e - T0] = 1;
		}
	}
	assert_string_equal(read_text(f->file), fmt("%u\n", T0 + THREADS * CALLS - 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_epoch_state_dir_created),
		T(test_epoch_state_dir_refused),
		T(test_epoch_state_dir_empty_path),
		T(test_epoch_state_dir_locked),
		T(test_epoch_file_refused),
		T(test_epoch_next_picks_max),
		T(test_epoch_next_none_left),
		T(test_epoch_next_needs_open_state),
		T(test_epoch_stale_tmp_replaced),
		T(test_epoch_tmp_created_exclusively),
		T(test_epoch_persist_error_names_the_file),
		T(test_epoch_next_after_dropping_root),
		T(test_epoch_next_from_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
