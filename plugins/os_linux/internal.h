/* SPDX-License-Identifier: MIT */
/* plugins/os_linux/internal.h: functions shared between the files of os_linux. */
#ifndef SN_LX_INTERNAL_H
#define SN_LX_INTERNAL_H
#include <stdint.h>
/* Switch to user keeping only CAP_NET_ADMIN. 0 or -errno with a reason. */
int sn__lx_drop_privileges(const char *user, char *err, uint32_t err_len);
/* The TUN device's tx_dropped from /proc/net/dev. 0 or -errno. */
int sn__lx_tun_dropped(const char *ifname, uint64_t *out);
#endif
