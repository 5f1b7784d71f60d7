/* SPDX-License-Identifier: MIT */
/* plugins/os_linux/internal.h: functions shared between the files of os_linux. */
#ifndef SN_LX_INTERNAL_H
#define SN_LX_INTERNAL_H
#include <stdint.h>

#include "subnetra/os.h"

/* Switch to a->user keeping CAP_NET_ADMIN with SN_PRIV_KEEP_NET_ADMIN, else
 * no capability. 0 or -errno with a reason in a->err. */
int sn__lx_drop_privileges(const struct sn_priv_args *a);
/* The TUN device's tx_dropped from /proc/net/dev. 0 or -errno. */
int sn__lx_tun_dropped(const char *ifname, uint64_t *out);
#endif
