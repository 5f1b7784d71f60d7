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

/* Exit status of sn_tool_control_if_running when no daemon listens. */
#define SN_TOOL_NOT_RUNNING 3

/* As sn_tool_control, but a socket nothing listens on (no such file, or
 * the connection refused) is not an error: SN_TOOL_NOT_RUNNING, without a
 * message (`subnetra add-spoke` then says the hub picks the change up at
 * its start). */
int sn_tool_control_if_running(const struct sn_tool_opts *o, int argc, char **argv);

#endif
