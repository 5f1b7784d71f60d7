/* SPDX-License-Identifier: MIT */
/*
 * core/fileperm.h: files that grant the daemon's privileges (the config, the
 * private key and PSK files, the plugin directory and its plugins) are
 * refused when a user other than root or the daemon's own can change them
 * (docs/configuration.md, "Files the daemon trusts").
 *
 * A file is trusted when its owner is one of the allowed owners, it has no
 * group- or world-write bit, and the directory that holds it (the one its
 * name is in, and the one its target is in when the name is a symbolic
 * link) is owned by an allowed owner and not writable by group or others,
 * unless that directory is sticky (like /tmp: others cannot rename or
 * remove a file they do not own). A symbolic link is fine: the file it
 * reaches is what the fd shows.
 *
 * Everything here is reentrant; messages name the file and the fix.
 */
#ifndef SN_FILEPERM_H
#define SN_FILEPERM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SN_OWNERS_MAX 3

/* Who may own a trusted file: root, the daemon's euid, and maybe one more. */
struct sn_owners {
	uid_t uid[SN_OWNERS_MAX];
	uint32_t n;
};

/* root and geteuid(). */
void sn_owners_init(struct sn_owners *o);
/* Also allow uid (no-op when already allowed or full). */
void sn_owners_add(struct sn_owners *o, uid_t uid);
bool sn_owners_has(const struct sn_owners *o, uid_t uid);

/* The uid and gid the daemon runs as once setup is done: user's (getpwnam_r)
 * when user is set, else geteuid()/getegid(). 0, or -ENOENT (or the lookup's
 * error) with "node.user: no such user 'x' (...)" in err. */
int sn_user_ids(const char *user, uid_t *uid, gid_t *gid, char *err, size_t err_len);

/* fd is path opened for reading (symlinks followed). 0 when the file and
 * its directory are trusted as described above, else -EPERM with the reason
 * and the fix in err, e.g. "/etc/subnetra/hub.yaml is writable by group or
 * others (mode 0664; run chmod go-w /etc/subnetra/hub.yaml)". */
int sn_file_trusted(int fd, const char *path, const struct sn_owners *o, char *err,
		    size_t err_len);

/* A directory whose files the daemon trusts by name (the plugin directory):
 * owned by an allowed owner, no group- or world-write bit, sticky or not.
 * what names it in messages ("plugin directory"). 0 or -errno with reason. */
int sn_dir_trusted(const char *dir, const char *what, const struct sn_owners *o, char *err,
		   size_t err_len);
/* The same for the directory open as fd (named dir in messages). */
int sn_dir_fd_trusted(int fd, const char *dir, const char *what, const struct sn_owners *o,
		      char *err, size_t err_len);

/* strerror_r, whichever flavour the C library has. */
const char *sn_strerror(int e, char *buf, size_t len);

#endif
