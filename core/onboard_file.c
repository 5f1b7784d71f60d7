/* SPDX-License-Identifier: MIT */
/*
 * core/onboard_file.c: the files of the onboarding commands. Every file
 * is written whole into a dotfile beside its name (peers_dir ignores
 * dotfiles, so a hub reloading meanwhile never reads half a spoke),
 * fsynced, and then linked to its name: link(2) fails on an existing
 * name, so nothing the operator has is ever replaced by accident.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "keys.h"
#include "onboard.h"
#include "tool.h"

#define READ_MAX (1u << 20) /* a hub config the tool reads for its comments */

static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t w = write(fd, data, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

/* fsync the directory that holds path, so the new name is on disk too. */
static void sync_dir(const char *path)
{
	char d[4096];
	int fd;

	snprintf(d, sizeof(d), "%s", path);
	fd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

static int tmp_name(char *tmp, size_t len, const char *path)
{
	char d[4096], b[4096];

	snprintf(d, sizeof(d), "%s", path);
	snprintf(b, sizeof(b), "%s", path);
	if ((size_t)snprintf(tmp, len, "%s/.%s.tmp.%ld", dirname(d), basename(b), (long)getpid()) >=
	    len)
		return -ENAMETOOLONG;
	return 0;
}

int sn_onboard_write(const char *path, const char *data, size_t len, int replace)
{
	char tmp[4200];
	int fd, rc = tmp_name(tmp, sizeof(tmp), path);

	if (rc < 0)
		return rc;
	unlink(tmp); /* a leftover of a run of the same pid that was killed */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	rc = write_all(fd, data, len);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && (replace ? rename(tmp, path) : link(tmp, path)) < 0)
		rc = -errno;
	unlink(tmp); /* after rename(2) there is nothing left to remove */
	if (rc == 0)
		sync_dir(path);
	return rc;
}

int sn_onboard_write_key(const char *path, const uint8_t key[static 32])
{
	char t[SN_KEY_B64_LEN + 1];
	int rc;

	sn_key_to_b64(t, key);
	t[SN_KEY_B64_LEN] = '\n';
	rc = sn_onboard_write(path, t, sizeof(t), 0);
	sodium_memzero(t, sizeof(t));
	return rc;
}

int sn_onboard_mkdir(const char *path)
{
	struct stat st;

	if (mkdir(path, 0700) == 0)
		return 0;
	if (errno != EEXIST)
		return -errno;
	if (stat(path, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int sn_onboard_read(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = malloc(READ_MAX + 1);
	int rc = 0;

	if (!f || !buf) {
		rc = f ? -ENOMEM : -errno;
		free(buf);
		if (f)
			fclose(f);
		return rc;
	}
	*len = fread(buf, 1, READ_MAX + 1, f);
	if (ferror(f))
		rc = -EIO;
	else if (*len > READ_MAX)
		rc = -EFBIG;
	fclose(f);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	buf[*len] = 0;
	*out = buf;
	return 0;
}

int sn_onboard_reload(const struct sn_config *c)
{
	struct sn_tool_opts o = {.socket = c->control_socket};
	char *argv[] = {"reload", NULL};
	int rc;

	printf("reloading the hub (%s): ", c->control_socket);
	fflush(stdout);
	rc = sn_tool_control_if_running(&o, 1, argv);
	if (rc == SN_TOOL_NOT_RUNNING) {
		printf("the hub is not running (nothing answers on %s); it reads %s when it starts\n",
		       c->control_socket, c->peers_dir);
		return 0;
	}
	if (rc != 0)
		fprintf(stderr, "subnetra: the running hub did not apply the change (above); the files are written and a later reload or restart reads them\n");
	return rc;
}
