/* SPDX-License-Identifier: MIT */
/* subnetrad: the Subnetra daemon. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "build_config.h"
#include "daemon.h"
#include "log.h"
#include "netplan.h"
#include "subnetra/host.h"
#include "subnetra/version.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: subnetrad -c FILE [--check | --print-network-plan [--platform P]\n"
		"                 [--routeros-version V]]\n"
		"                 [--plugin-dir DIR] [-v | -q]\n"
		"\n"
		"Runs a Subnetra node (hub or spoke) from the YAML or JSON config FILE in\n"
		"the foreground until SIGINT or SIGTERM; SIGHUP rereads the config.\n"
		"\n"
		"  -c, --config FILE        the node's config (required)\n"
		"      --check              load and check the config and plugins, print a\n"
		"                           summary, exit 0 if all is well\n"
		"      --print-network-plan print the host commands around the daemon\n"
		"      --platform P         linux (default), macos or routeros\n"
		"      --routeros-version V the RouterOS version of a routeros plan: 7.19,\n"
		"                           7.20, 7.21 (default %s) or later\n"
		"      --plugin-dir DIR     load plugins from DIR (default: config's\n"
		"                           plugins.directory, else %s)\n"
		"  -v, --verbose            debug logging\n"
		"  -q, --quiet              errors and warnings only\n"
		"  -h, --help               this text\n"
		"  -V, --version            version and plugin ABI\n",
		SN_NETPLAN_ROUTEROS_DEFAULT, SN_PLUGIN_DIR);
}

/* Keys are in memory from the moment the config is read: no core dump may
 * carry them. RLIMIT_CORE 0 (soft and hard) everywhere; on Linux the
 * process is also not dumpable, which keeps ptrace and /proc/PID/mem away
 * from other processes of the same user (root with CAP_SYS_PTRACE, e.g.
 * gdb or strace run as root, still attaches). */
static int no_core_dumps(void)
{
	struct rlimit none = {0, 0};

	if (setrlimit(RLIMIT_CORE, &none) != 0) {
		fprintf(stderr, "subnetrad: cannot turn core dumps off (setrlimit RLIMIT_CORE 0): %s\n",
			strerror(errno));
		return -1;
	}
#ifdef __linux__
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		fprintf(stderr, "subnetrad: cannot turn core dumps off (prctl PR_SET_DUMPABLE 0): %s\n",
			strerror(errno));
		return -1;
	}
#endif
	return 0;
}

static int need_arg(int i, int argc, const char *opt)
{
	if (i + 1 < argc)
		return 1;
	fprintf(stderr, "subnetrad: %s needs an argument (see subnetrad --help)\n", opt);
	return 0;
}

int main(int argc, char **argv)
{
	struct sn_daemon_opts o = {.log_level = SN_LOG_INFO};

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("subnetrad %s (plugin ABI %d.%d)\n", SN_PROJECT_VERSION, SN_ABI_MAJOR,
			       SN_ABI_MINOR);
			return 0;
		} else if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
			if (!need_arg(i, argc, a))
				return 2;
			o.config = argv[++i];
		} else if (!strcmp(a, "--plugin-dir")) {
			if (!need_arg(i, argc, a))
				return 2;
			o.plugin_dir = argv[++i];
		} else if (!strcmp(a, "--platform")) {
			if (!need_arg(i, argc, a))
				return 2;
			o.platform = argv[++i];
		} else if (!strcmp(a, "--routeros-version")) {
			if (!need_arg(i, argc, a))
				return 2;
			o.routeros_version = argv[++i];
		} else if (!strcmp(a, "--check")) {
			o.check = 1;
		} else if (!strcmp(a, "--print-network-plan")) {
			o.plan = 1;
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			o.log_level = SN_LOG_DEBUG;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			o.log_level = SN_LOG_WARN;
		} else {
			fprintf(stderr, "subnetrad: unknown argument '%s' (see subnetrad --help)\n", a);
			return 2;
		}
	}
	if (!o.config) {
		fprintf(stderr, "subnetrad: no config file given (use -c FILE; see subnetrad --help)\n");
		return 2;
	}
	if (o.platform && !o.plan) {
		fprintf(stderr, "subnetrad: --platform goes with --print-network-plan\n");
		return 2;
	}
	if (o.routeros_version && (!o.platform || strcmp(o.platform, "routeros"))) {
		fprintf(stderr, "subnetrad: --routeros-version goes with --print-network-plan "
			"--platform routeros\n");
		return 2;
	}
	umask(077);
	sn_log_setup();
	if (no_core_dumps() < 0)
		return 1;
	if (o.check)
		return sn_daemon_check(&o, stdout);
	if (o.plan)
		return sn_daemon_plan(&o, stdout);
	return sn_daemon_run(&o);
}
