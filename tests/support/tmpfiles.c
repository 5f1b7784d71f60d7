/* SPDX-License-Identifier: MIT */
/* tests/support/tmpfiles.c: see tmpfiles.h. */
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tmpfiles.h"

void tf_read(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

void tf_write(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

void tf_copy(const char *from, const char *to, mode_t mode)
{
	static char buf[65536];

	tf_read(from, buf, sizeof(buf));
	tf_write(to, buf, mode);
}

void tf_dir(char *tmpl, mode_t mode)
{
	char keys[4096];

	assert_non_null(mkdtemp(tmpl));
	assert_int_equal(chmod(tmpl, mode), 0);
	snprintf(keys, sizeof(keys), "%s/keys", tmpl);
	assert_int_equal(mkdir(keys, 0700), 0);
}

void tf_key(const char *dir, const char *name)
{
	char from[4096], to[4096];

	snprintf(from, sizeof(from), "%s/conf/keys/%s", SN_TEST_SOURCE_DIR, name);
	snprintf(to, sizeof(to), "%s/keys/%s", dir, name);
	tf_copy(from, to, 0600);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

void tf_rmtree(const char *dir)
{
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}
