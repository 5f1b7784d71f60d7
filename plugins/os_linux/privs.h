/* SPDX-License-Identifier: MIT */
#ifndef SN_LX_PRIVS_H
#define SN_LX_PRIVS_H
#include <stdint.h>
/* Switch to user keeping only CAP_NET_ADMIN. 0 or -errno with a reason. */
int sn__lx_drop_privileges(const char *user, char *err, uint32_t err_len);
#endif
