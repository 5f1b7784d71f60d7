/* SPDX-License-Identifier: MIT */
/*
 * core/netplan.h: `subnetrad --print-network-plan`: the host commands that
 * make a node's network work around the daemon (addresses, routes,
 * forwarding, MSS clamp, firewall), as a commented script for one platform.
 * docs/network-plan.md describes what each platform's plan does.
 */
#ifndef SN_NETPLAN_H
#define SN_NETPLAN_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"

/* Whether platform is one the plan knows: linux, macos, routeros. */
bool sn_netplan_platform_ok(const char *platform);

/* The RouterOS version the routeros plan is for unless told otherwise. */
#define SN_NETPLAN_ROUTEROS_DEFAULT "7.21"

/* Check a RouterOS version for the routeros plan: "7.MINOR" or
 * "7.MINOR.PATCH" with MINOR >= 4 (containers came with 7.4); NULL is
 * SN_NETPLAN_ROUTEROS_DEFAULT. 0 and *minor, or -EINVAL with the reason
 * in err. The plan uses 7.19's property names before 7.20, 7.20's in
 * 7.20, and 7.21's from 7.21 on (docs/network-plan.md). */
int sn_netplan_routeros_version(const char *v, unsigned *minor, char *err, size_t err_len);

/* Print the plan of config c for platform (NULL = linux) to out;
 * routeros_version (NULL = the default) matters to routeros only.
 * 0, or -EINVAL for an unknown platform or a bad version (nothing
 * printed), -ENOMEM. */
int sn_netplan_print(const struct sn_config *c, const char *platform,
		     const char *routeros_version, FILE *out);

#endif
