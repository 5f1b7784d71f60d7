/* SPDX-License-Identifier: MIT */
/*
 * container/setup.c: what the container itself must offer subnetrad
 * (container/entry.h): IPv4 forwarding, the TUN device node, and the
 * control socket where `subnetra status` looks without options.
 */
#include "entry.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define fail sn__entry_fail
#define say sn__entry_say

/* mkdir of path's parent directory (one level: /run/subnetra, /dev/net). */
static int parent_dir(const char *path, char *err, size_t len)
{
	char dir[PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return fail(err, len, -errno, "cannot create the directory %s: %s", dir,
			    strerror(errno));
	return 0;
}

int sn_entry_link_socket(const char *default_path, const char *actual, FILE *log, char *err,
			 size_t err_len)
{
	struct stat st;
	int rc;

	if (lstat(default_path, &st) == 0 && (S_ISLNK(st.st_mode) || S_ISSOCK(st.st_mode)) &&
	    unlink(default_path) < 0)
		return fail(err, err_len, -errno, "cannot remove the old %s: %s", default_path,
			    strerror(errno));
	if (!strcmp(default_path, actual))
		return 0;
	if (lstat(default_path, &st) == 0)
		return fail(err, err_len, -EEXIST, "%s exists and is not a socket or a link: "
			    "cannot point it to the control socket %s", default_path, actual);
	if ((rc = parent_dir(default_path, err, err_len)) < 0)
		return rc;
	if (symlink(actual, default_path) < 0)
		return fail(err, err_len, -errno, "cannot link %s to %s: %s", default_path, actual,
			    strerror(errno));
	say(log, "control socket %s, linked from %s for `subnetra status`", actual, default_path);
	return 0;
}

static int read_switch(const char *path, char *v)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, v, 1);
	close(fd);
	return n == 1 ? 0 : -EIO;
}

int sn_entry_forwarding(const char *proc_path, FILE *log, char *err, size_t err_len)
{
	int fd = open(proc_path, O_WRONLY | O_CLOEXEC);
	int e = 0;
	char v = 0;

	if (fd < 0 || write(fd, "1\n", 2) != 2)
		e = errno;
	if (fd >= 0 && close(fd) < 0 && !e)
		e = errno;
	if (!e) {
		say(log, "IPv4 forwarding on (%s = 1)", proc_path);
		return 0;
	}
	if (read_switch(proc_path, &v) == 0 && v == '1') {
		say(log, "IPv4 forwarding on already (%s = 1; cannot write it: %s)", proc_path,
		    strerror(e));
		return 0;
	}
	return fail(err, err_len, -e, "cannot turn on IPv4 forwarding (%s: %s): the container "
		    "will not route between its interface and the overlay (podman: --sysctl "
		    "net.ipv4.ip_forward=1; or set SUBNETRA_IP_FORWARD=0 if it needs none)",
		    proc_path, strerror(e));
}

int sn_entry_tun(const char *path, FILE *log, char *err, size_t err_len)
{
	struct stat st;
	int rc;

	if (stat(path, &st) == 0)
		return S_ISCHR(st.st_mode) ? 0 :
		       fail(err, err_len, -ENODEV, "%s exists but is not a device", path);
	if ((rc = parent_dir(path, err, err_len)) < 0)
		return rc;
	if (mknod(path, S_IFCHR | 0600, makedev(10, 200)) < 0)
		return fail(err, err_len, -errno, "no %s and cannot create it: %s (give the "
			    "container the device, e.g. podman --device /dev/net/tun)", path,
			    strerror(errno));
	say(log, "created %s (char 10:200)", path);
	return 0;
}
