/* SPDX-License-Identifier: MIT */
#include "epoch.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* mkdir -p with mode 0700 for what it creates. */
static int make_dir(const char *dir)
{
	char path[4096];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, len + 1);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* The last epoch, 0 when there is none; -EINVAL when the file is corrupt. */
static int read_last(const char *file, uint64_t *last)
{
	char buf[32];
	char *end;
	ssize_t n;
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	*last = 0;
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	errno = 0;
	*last = strtoull(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n') || *last > UINT32_MAX)
		return -EINVAL;
	return 0;
}

static int write_durably(const char *dir, const char *file, uint32_t epoch)
{
	char tmp[4200], text[16];
	int fd, n = snprintf(text, sizeof(text), "%" PRIu32 "\n", epoch);

	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, text, (size_t)n) != n || fsync(fd) != 0) {
		int e = errno ? errno : EIO;

		close(fd);
		unlink(tmp);
		return -e;
	}
	close(fd);
	if (rename(tmp, file) != 0)
		return -errno;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}

int sn_epoch_next(const char *dir, uint64_t now, uint32_t min_epoch, uint32_t *out, char *err,
		  size_t err_len)
{
	char file[4096];
	uint64_t last, epoch;
	int r;

	if ((r = make_dir(dir)) < 0) {
		snprintf(err, err_len, "state directory %s: cannot create it: %s", dir, strerror(-r));
		return r;
	}
	snprintf(file, sizeof(file), "%s/epoch", dir);
	if ((r = read_last(file, &last)) < 0) {
		snprintf(err, err_len, "%s: %s (remove the file to start over from the clock)",
			 file, r == -EINVAL ? "not a valid epoch number" : strerror(-r));
		return r;
	}
	epoch = now > last + 1 ? now : last + 1;
	if (epoch < min_epoch)
		epoch = min_epoch;
	if (epoch == 0 || epoch > UINT32_MAX) {
		snprintf(err, err_len, "%s: epoch space exhausted (last epoch %" PRIu64 ")", file,
			 last);
		return -ERANGE;
	}
	if ((r = write_durably(dir, file, (uint32_t)epoch)) < 0) {
		snprintf(err, err_len, "%s: cannot persist the new epoch: %s (refusing to start)",
			 file, strerror(-r));
		return r;
	}
	*out = (uint32_t)epoch;
	return 0;
}
