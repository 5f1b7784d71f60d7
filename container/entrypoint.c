/* SPDX-License-Identifier: MIT */
/*
 * subnetra-entrypoint: the container image's entrypoint (docs/container.md).
 * Takes the config and key from the mounted directory or the environment,
 * stands in for key files whose mode a RouterOS disk cannot keep, turns on
 * IPv4 forwarding, makes /dev/net/tun if missing and links the control
 * socket for `subnetra status`, then execs subnetrad in the foreground, so
 * the container's state is the daemon's. Its own arguments go to subnetrad
 * (e.g. -v).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "entry.h"

#ifndef SN_ENTRY_DAEMON
#define SN_ENTRY_DAEMON "/usr/sbin/subnetrad"
#endif
#define DEFAULT_CONFIG "/etc/subnetra/subnetra.yaml"
#define VIEW_DIR "/run/subnetra/etc"
#define MAX_ARGS 64

static void usage(void)
{
	printf("usage: subnetra-entrypoint [subnetrad options, e.g. -v]\n"
	       "\n"
	       "Runs subnetrad -c CONFIG in the foreground. Environment:\n"
	       "  SUBNETRA_CONFIG       the config file (default %s)\n"
	       "  SUBNETRA_CONFIG_TEXT  the config itself, YAML or one-line JSON; used\n"
	       "                        instead of SUBNETRA_CONFIG, written to %s\n"
	       "  SUBNETRA_PRIVATE_KEY  the node's private key (as `subnetra genkey` prints);\n"
	       "                        stands in for the file node.private_key_file names\n"
	       "  SUBNETRA_IP_FORWARD   1 (default): turn on IPv4 forwarding; 0: leave it\n"
	       "A key file that group or others may read (RouterOS disks cannot keep\n"
	       "0600) is replaced by a 0600 copy in %s; the log says so.\n",
	       DEFAULT_CONFIG, VIEW_DIR "/subnetra.yaml", VIEW_DIR);
}

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static int die(const char *what, const char *err)
{
	fprintf(stderr, "subnetra-entrypoint: error: %s%s%s\n", what, *err ? ": " : "", err);
	return 1;
}

static void warn(const char *err)
{
	fprintf(stderr, "subnetra-entrypoint: warning: %s\n", err);
}

/* Forwarding and the TUN device: a failure is a warning, subnetrad says
 * more if it cannot work without them. */
static void host_setup(void)
{
	const char *fwd = env("SUBNETRA_IP_FORWARD");
	char err[512];

	if (fwd && strcmp(fwd, "0") && strcmp(fwd, "1"))
		warn("SUBNETRA_IP_FORWARD is neither 0 nor 1: taken as 1");
	if ((!fwd || strcmp(fwd, "0")) &&
	    sn_entry_forwarding("/proc/sys/net/ipv4/ip_forward", stdout, err, sizeof(err)) < 0)
		warn(err);
	if (sn_entry_tun("/dev/net/tun", stdout, err, sizeof(err)) < 0)
		warn(err);
}

static int run(const struct sn_entry *e, int argc, char **argv)
{
	char *args[MAX_ARGS + 4];
	int n = 0;

	if (argc > MAX_ARGS) {
		fprintf(stderr, "subnetra-entrypoint: error: more than %d arguments\n", MAX_ARGS);
		return 2;
	}
	args[n++] = "subnetrad";
	args[n++] = "-c";
	args[n++] = (char *)e->run_config;
	for (int i = 1; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	printf("subnetra-entrypoint: info: exec %s -c %s%s\n", SN_ENTRY_DAEMON, e->run_config,
	       argc > 1 ? " ..." : "");
	fflush(stdout);
	execv(SN_ENTRY_DAEMON, args);
	fprintf(stderr, "subnetra-entrypoint: error: cannot run %s: %s\n", SN_ENTRY_DAEMON,
		strerror(errno));
	return 127;
}

int main(int argc, char **argv)
{
	struct sn_entry e = {
		.config = env("SUBNETRA_CONFIG") ? env("SUBNETRA_CONFIG") : DEFAULT_CONFIG,
		.config_text = env("SUBNETRA_CONFIG_TEXT"),
		.private_key = env("SUBNETRA_PRIVATE_KEY"),
		.view_dir = VIEW_DIR,
		.log = stdout,
	};
	char err[2048] = "";

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage();
		return 0;
	}
	umask(077);
	if (e.config_text && env("SUBNETRA_CONFIG"))
		warn("both SUBNETRA_CONFIG_TEXT and SUBNETRA_CONFIG are set: using the text");
	if (sn_entry_prepare(&e, err, sizeof(err)) < 0)
		return die("cannot prepare the config", err);
	if (sn_entry_link_socket(SN_CONF_DEFAULT_SOCKET, e.socket, stdout, err, sizeof(err)) < 0)
		warn(err);
	host_setup();
	return run(&e, argc, argv);
}
