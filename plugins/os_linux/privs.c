/* SPDX-License-Identifier: MIT */
/*
 * plugins/os_linux/privs.c: dropping root after setup (node.user).
 *
 * The TUN fd, the UDP socket and the control socket are open when this
 * runs. The one privileged thing the daemon may do later is add and remove
 * routes (run-time rules, reload, removal at exit), and only when the host
 * says so (SN_PRIV_KEEP_NET_ADMIN, for overlay.manage_routes): then
 * CAP_NET_ADMIN stays in the permitted and effective sets, else no
 * capability stays. The bounding and ambient sets are emptied and
 * PR_SET_NO_NEW_PRIVS is set, and each step is read back, so nothing the
 * process does later can gain a privilege back. No libcap: a few system
 * calls are enough.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

static int fail(const struct sn_priv_args *a, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(const struct sn_priv_args *a, int r, const char *fmt, ...)
{
	va_list ap;

	if (a->err && a->err_len) {
		va_start(ap, fmt);
		vsnprintf(a->err, a->err_len, fmt, ap);
		va_end(ap);
	}
	return r;
}

/* The kernel's highest capability number; -1 when it does not say. */
static int kernel_last_cap(void)
{
	char buf[16] = "";
	int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	return n > 0 ? atoi(buf) : -1;
}

/* Empty the bounding set (needs CAP_SETPCAP: before the user switch). */
static int clear_bounding(const struct sn_priv_args *a)
{
	int last = kernel_last_cap();
	bool known = last >= 0;

	if (!known)
		last = CAP_LAST_CAP; /* the header's; newer kernels' extra caps stay */
	for (int c = 0; c <= last; c++) {
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) == 0 || (!known && errno == EINVAL))
			continue;
		return fail(a, -errno, "cannot drop capability %d from the bounding set: %s", c,
			    strerror(errno));
	}
	for (int c = 0; c <= last; c++)
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
			return fail(a, -EPERM, "capability %d is still in the bounding set after "
				    "PR_CAPBSET_DROP", c);
	/* kernels before 4.3 have no ambient set: nothing to clear */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
		return fail(a, -errno, "cannot clear the ambient capabilities: %s", strerror(errno));
	return 0;
}

/* uid, gid and supplementary groups of pw; with keep the permitted set
 * survives setresuid() (PR_SET_KEEPCAPS), else the kernel clears it. */
static int switch_user(const struct sn_priv_args *a, const struct passwd *pw, bool keep)
{
	int r = 0;

	if (keep && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
		r = -errno;
	if (r == 0 && (initgroups(pw->pw_name, pw->pw_gid) != 0 ||
		       setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0 ||
		       setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0))
		r = -errno;
	if (keep)
		prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	if (r < 0)
		return fail(a, r, "cannot switch to user '%s' (uid %u): %s", a->user,
			    (unsigned)pw->pw_uid, strerror(-r));
	return 0;
}

/* Permitted = effective = want (bits of the first 32 caps), the rest and
 * the inheritable set empty; read back. */
static int set_caps(const struct sn_priv_args *a, uint32_t want)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = want;
	if (syscall(SYS_capset, &h, d) != 0)
		return fail(a, -errno, "switched to user '%s' but cannot set its capabilities: %s",
			    a->user, strerror(errno));
	memset(d, 0xff, sizeof(d));
	if (syscall(SYS_capget, &h, d) != 0)
		return fail(a, -errno, "cannot read back the capabilities: %s", strerror(errno));
	if (d[0].effective != want || d[0].permitted != want || d[0].inheritable ||
	    d[1].effective || d[1].permitted || d[1].inheritable)
		return fail(a, -EPERM, "capabilities after the drop are effective %08x%08x, "
			    "permitted %08x%08x (want %08x)", d[1].effective, d[0].effective,
			    d[1].permitted, d[0].permitted, want);
	return 0;
}

/* The last word: no new privileges through exec, and root is gone. */
static int seal_drop(const struct sn_priv_args *a)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return fail(a, -errno, "cannot set PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return fail(a, -EPERM, "PR_SET_NO_NEW_PRIVS did not take (PR_GET_NO_NEW_PRIVS "
			    "says it is off)");
	if (setresuid(0, 0, 0) == 0 || setresgid(0, 0, 0) == 0)
		return fail(a, -EPERM, "after switching to user '%s' the process could become "
			    "root again", a->user);
	return 0;
}

int sn__lx_drop_privileges(const struct sn_priv_args *a)
{
	bool keep = a->flags & SN_PRIV_KEEP_NET_ADMIN;
	struct passwd *pw;
	int r;

	errno = 0;
	pw = getpwnam(a->user);
	if (!pw)
		return fail(a, errno ? -errno : -ENOENT, "node.user: no such user '%s'%s%s",
			    a->user, errno ? ": " : "", errno ? strerror(errno) : "");
	if (pw->pw_uid == 0)
		return fail(a, -EINVAL, "node.user: '%s' is uid 0, so the daemon would keep every "
			    "privilege (name an unprivileged user, or remove node.user)", a->user);
	if ((r = clear_bounding(a)) < 0 || (r = switch_user(a, pw, keep)) < 0 ||
	    (r = set_caps(a, keep ? 1u << CAP_NET_ADMIN : 0)) < 0)
		return r;
	return seal_drop(a);
}
