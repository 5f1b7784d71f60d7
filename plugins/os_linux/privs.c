/* SPDX-License-Identifier: MIT */
/*
 * plugins/os_linux/privs.c: dropping root after setup (node.user).
 *
 * The TUN fd and the UDP socket are already open when this runs; what the
 * daemon still needs later is to add and remove routes (run-time rules,
 * reload, exit), so CAP_NET_ADMIN stays in the permitted and effective sets
 * and everything else goes. No libcap: the two system calls are enough.
 */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

static int keep_net_admin(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = 1u << CAP_NET_ADMIN;
	return syscall(SYS_capset, &h, d) == 0 ? 0 : -errno;
}

int sn__lx_drop_privileges(const char *user, char *err, uint32_t err_len)
{
	struct passwd *pw;
	int r;

	errno = 0;
	pw = getpwnam(user);
	if (!pw) {
		snprintf(err, err_len, "node.user: no such user '%s'%s%s", user, errno ? ": " : "",
			 errno ? strerror(errno) : "");
		return errno ? -errno : -ENOENT;
	}
	if (pw->pw_uid == 0)
		return 0; /* staying root was asked for */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0 ||
	    initgroups(pw->pw_name, pw->pw_gid) != 0 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0) {
		r = -errno;
		snprintf(err, err_len, "cannot switch to user '%s' (uid %u): %s", user,
			 (unsigned)pw->pw_uid, strerror(-r));
		return r;
	}
	if ((r = keep_net_admin()) < 0) {
		snprintf(err, err_len, "switched to user '%s' but cannot keep CAP_NET_ADMIN: %s",
			 user, strerror(-r));
		return r;
	}
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	return 0;
}
