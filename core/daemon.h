/* SPDX-License-Identifier: MIT */
/* core/daemon.h: what subnetrad does once its options are parsed. */
#ifndef SN_DAEMON_H
#define SN_DAEMON_H

#include <stdio.h>

struct sn_daemon_opts {
	const char *config;     /* -c FILE */
	const char *plugin_dir; /* --plugin-dir, overrides the config and the built-in dir */
	const char *platform;   /* --platform for --print-network-plan */
	const char *routeros_version; /* --routeros-version for --platform routeros */
	int check;              /* --check */
	int plan;               /* --print-network-plan */
	int log_level;          /* enum sn_log_level */
};

/* --check: load config and plugins, print a summary to out. Exit status. */
int sn_daemon_check(const struct sn_daemon_opts *o, FILE *out);
/* Run the node until SIGINT/SIGTERM. Exit status. */
int sn_daemon_run(const struct sn_daemon_opts *o);
/* The overlay MTU the node of o's config runs with (core/mtu.h): its
 * plugins loaded as --check loads them. 0, or -errno with the reason in
 * err. */
int sn_daemon_mtu(const struct sn_daemon_opts *o, unsigned *mtu, char *err, size_t err_len);
/* --print-network-plan (netplan.c). Exit status. */
int sn_daemon_plan(const struct sn_daemon_opts *o, FILE *out);

#endif
