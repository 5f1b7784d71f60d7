/* SPDX-License-Identifier: MIT */
/* core/tool.h: the control-socket client behind the subnetra tool. */
#ifndef SN_TOOL_H
#define SN_TOOL_H

#include "subnetra/version.h"

struct sn_tool_opts {
	const char *socket; /* control socket path, NULL = from config or default */
	const char *config; /* config file to take the socket path from */
	int json;           /* --json */
};

/* Run argv[0..argc-1] (e.g. "status") against the daemon; returns the exit
 * status (0 ok, 1 error reply or failure, 2 usage). */
int sn_tool_control(const struct sn_tool_opts *o, int argc, char **argv);

#endif
