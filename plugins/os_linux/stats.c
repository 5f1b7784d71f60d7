/* SPDX-License-Identifier: MIT */
/* plugins/os_linux/stats.c: kernel-side drops on the TUN device. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* /proc/net/dev follows the reading process's network namespace, so this
 * is right inside `ip netns exec` too (unlike a sysfs mounted elsewhere).
 * Columns after "name:": rx bytes packets errs drop fifo frame compressed
 * multicast, tx bytes packets errs drop ... */
int sn__lx_tun_dropped(const char *ifname, uint64_t *out)
{
	FILE *f = fopen("/proc/net/dev", "re");
	char line[512];
	size_t len = strlen(ifname);
	int r = -ENODEV;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *p = line;
		unsigned long long v[12];

		while (*p == ' ')
			p++;
		if (strncmp(p, ifname, len) != 0 || p[len] != ':')
			continue;
		if (sscanf(p + len + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9],
			   &v[10], &v[11]) == 12) {
			*out = v[11];
			r = 0;
		}
		break;
	}
	fclose(f);
	return r;
}
