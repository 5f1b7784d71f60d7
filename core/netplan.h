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

/* Print the plan of config c for platform (NULL = linux) to out.
 * 0, or -EINVAL for an unknown platform (nothing printed), -ENOMEM. */
int sn_netplan_print(const struct sn_config *c, const char *platform, FILE *out);

#endif
