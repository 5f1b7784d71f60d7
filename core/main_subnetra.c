/* SPDX-License-Identifier: MIT */
/*
 * subnetra: the operator's tool. Key commands work offline; the others talk
 * to a running subnetrad over its control socket (ctl_client.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "build_config.h"
#include "config.h"
#include "keys.h"
#include "onboard.h"
#include "tool.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: subnetra [-s SOCKET] [--json] COMMAND [ARGS]\n"
		"\n"
		"Keys (offline, same text form as wg(8)):\n"
		"  genkey                 print a new private key\n"
		"  pubkey                 read a private key on stdin, print its public key\n"
		"  genpsk                 print a new preshared key\n"
		"\n"
		"Growing the network (on the hub, offline; then a running hub reloads):\n"
		"  init hub [OPTIONS]     write a hub config, its key and an empty peers.d/\n"
		"  add-spoke NAME [--lan PREFIX]...\n"
		"                         the next free id and address, a key, the hub's\n"
		"                         peers.d entry and the spoke's config to copy over\n"
		"  remove-spoke NAME      remove the spoke's peers.d entry and its config\n"
		"  (subnetra COMMAND --help: the options of each)\n"
		"\n"
		"Talking to a running subnetrad (control socket, default %s):\n"
		"  status                 node, peers, counters and drops by reason\n"
		"  status summary         node and the number of peers in each state\n"
		"  status peer PEER       node and one peer (id or name)\n"
		"  peers                  one line per peer\n"
		"  metrics                counters in the Prometheus text format\n"
		"  policy list            the active policy rules\n"
		"  policy add PREFIX forward PEER | PREFIX drop\n"
		"  policy del PREFIX      remove a rule added at run time\n"
		"  policy replace FILE    replace all run-time rules with FILE's rules\n"
		"  reload                 reread the config file (same as SIGHUP)\n"
		"\n"
		"Options:\n"
		"  -s, --socket PATH      control socket path\n"
		"  -c, --config FILE      take the socket path from this config file\n"
		"  -j, --json             JSON output for scripts\n"
		"      --summary          status summary\n"
		"      --peer PEER        status peer PEER\n"
		"  -h, --help             this text\n"
		"  -V, --version          version\n",
		SN_CONF_DEFAULT_SOCKET);
}

static int read_stdin(char *buf, size_t len)
{
	size_t n = 0;
	ssize_t r;

	while (n < len - 1 && (r = read(0, buf + n, len - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = 0;
	return (int)n;
}

/* A secret written to a file (`subnetra genkey > hub.key`): the shell made
 * the file with its own umask, so make it 0600 before writing the key. */
static void restrict_stdout(void)
{
	struct stat st;

	if (fstat(1, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) &&
	    fchmod(1, 0600) != 0)
		fprintf(stderr, "subnetra: warning: cannot make the key file mode 0600: %s\n",
			strerror(errno));
}

/* Write key k as one line of text to stdout with write(2), not stdio, so
 * the text is in no buffer but t, which is wiped (as are the caller's key
 * bytes: that is where every key path of the tool ends). */
static int put_key(const char *cmd, uint8_t k[static 32])
{
	char t[SN_KEY_B64_LEN + 1]; /* the text, then '\n' where its NUL was */
	size_t off = 0;
	ssize_t w;
	int e = 0;

	sn_key_to_b64(t, k);
	sodium_memzero(k, 32);
	t[SN_KEY_B64_LEN] = '\n';
	while (off < sizeof(t) && !e) {
		w = write(1, t + off, sizeof(t) - off);
		if (w > 0)
			off += (size_t)w;
		else if (w < 0 && errno != EINTR)
			e = errno;
	}
	sodium_memzero(t, sizeof(t));
	if (e)
		fprintf(stderr, "subnetra: %s: cannot write the key: %s\n", cmd, strerror(e));
	return e ? 1 : 0;
}

static int cmd_genkey(void)
{
	uint8_t k[32];

	if (sn_key_generate(k) < 0) {
		fprintf(stderr, "subnetra: genkey: cannot initialise the random generator\n");
		return 1;
	}
	if (isatty(1))
		fprintf(stderr, "subnetra: warning: writing a private key to a terminal\n");
	restrict_stdout();
	return put_key("genkey", k);
}

static int cmd_genpsk(void)
{
	uint8_t k[32];

	if (sn_key_generate_psk(k) < 0) {
		fprintf(stderr, "subnetra: genpsk: cannot initialise the random generator\n");
		return 1;
	}
	restrict_stdout();
	return put_key("genpsk", k);
}

static int cmd_pubkey(void)
{
	char in[256];
	uint8_t priv[32], pub[32];
	int n = read_stdin(in, sizeof(in)), rc = 1;

	if (n >= (int)sizeof(in) - 1 || sn_key_from_b64(priv, in, (size_t)n) < 0)
		fprintf(stderr, "subnetra: pubkey: stdin is not a private key "
				"(expected 44 base64 characters, as made by 'subnetra genkey')\n");
	else if (sn_key_public(pub, priv) < 0)
		fprintf(stderr, "subnetra: pubkey: cannot compute the public key\n");
	else
		rc = put_key("pubkey", pub);
	sodium_memzero(in, sizeof(in));
	sodium_memzero(priv, sizeof(priv));
	return rc;
}

/*
 * `policy replace FILE`: the daemon takes the rules inline on one line,
 * separated by ';'. FILE holds one rule per line ("PREFIX forward PEER" or
 * "PREFIX drop"); blank lines and '#' comments are skipped. "-" is stdin.
 */
static int cmd_policy_replace(const struct sn_tool_opts *o, const char *file)
{
	FILE *f = strcmp(file, "-") ? fopen(file, "r") : stdin;
	char line[512], joined[4096] = "";
	size_t n = 0;
	unsigned lineno = 0;
	char *argv[3] = {"policy", "replace", joined};

	if (!f) {
		fprintf(stderr, "subnetra: cannot open %s: %s\n", file, strerror(errno));
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *s = line, *e;

		lineno++;
		if ((e = strchr(s, '#')))
			*e = 0;
		while (*s == ' ' || *s == '\t')
			s++;
		e = s + strlen(s);
		while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
			*--e = 0;
		if (!*s)
			continue;
		if (strchr(s, ';') || n + strlen(s) + 2 >= sizeof(joined)) {
			fprintf(stderr, "subnetra: %s:%u: %s\n", file, lineno,
				strchr(s, ';') ? "';' is not allowed in a rule" :
						 "too many rules for one request (4096 bytes)");
			if (f != stdin)
				fclose(f);
			return 1;
		}
		n += (size_t)snprintf(joined + n, sizeof(joined) - n, "%s%s", n ? ";" : "", s);
	}
	if (f != stdin)
		fclose(f);
	return sn_tool_control(o, 3, argv);
}

/* status --summary, status --peer PEER: the words the daemon takes. */
static int control(const struct sn_tool_opts *o, int argc, char **argv, const char *peer,
		   int summary)
{
	char *w[argc + 2];
	int n = 0;

	if ((peer || summary) && (argc != 1 || strcmp(argv[0], "status") || (peer && summary))) {
		fprintf(stderr, "subnetra: --summary and --peer go with status only, one of them\n");
		return 2;
	}
	for (int i = 0; i < argc; i++)
		w[n++] = argv[i];
	if (summary)
		w[n++] = "summary";
	if (peer) {
		w[n++] = "peer";
		w[n++] = (char *)peer;
	}
	return sn_tool_control(o, n, w);
}

/* The onboarding commands take options of their own (core/onboard.h). */
static int onboard(int argc, char **argv)
{
	if (!strcmp(argv[0], "init"))
		return sn_onboard_init(argc, argv);
	if (!strcmp(argv[0], "add-spoke"))
		return sn_onboard_add_spoke(argc, argv);
	if (!strcmp(argv[0], "remove-spoke"))
		return sn_onboard_remove_spoke(argc, argv);
	return -1;
}

int main(int argc, char **argv)
{
	struct sn_tool_opts o = {.socket = NULL};
	const char *peer = NULL;
	int i, words = 1, summary = 0;

	umask(077);
	if (argc > 1 && (i = onboard(argc - 1, argv + 1)) >= 0)
		return i;
	if (argc == 2 && !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	/* Options may stand before or after the command ("subnetra status
	 * --json"); the words that are not options form the command. No
	 * command word starts with '-' (prefixes, ids and names never do). */
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (a[0] != '-' || !a[1]) {
			argv[words++] = argv[i];
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("subnetra %s (plugin ABI %d.%d)\n", SN_PROJECT_VERSION, SN_ABI_MAJOR,
			       SN_ABI_MINOR);
			return 0;
		} else if (!strcmp(a, "-j") || !strcmp(a, "--json")) {
			o.json = 1;
		} else if (!strcmp(a, "--summary")) {
			summary = 1;
		} else if (!strcmp(a, "--peer") && i + 1 < argc) {
			peer = argv[++i];
		} else if ((!strcmp(a, "-s") || !strcmp(a, "--socket")) && i + 1 < argc) {
			o.socket = argv[++i];
		} else if ((!strcmp(a, "-c") || !strcmp(a, "--config")) && i + 1 < argc) {
			o.config = argv[++i];
		} else {
			fprintf(stderr, "subnetra: %s '%s' (see subnetra --help)\n",
				!strcmp(a, "-s") || !strcmp(a, "--socket") || !strcmp(a, "-c") ||
						!strcmp(a, "--config") || !strcmp(a, "--peer") ?
					"missing value after" : "unknown option", a);
			return 2;
		}
	}
	argc = words;
	i = 1;
	if (i == argc) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[i], "genkey") && i + 1 == argc)
		return cmd_genkey();
	if (!strcmp(argv[i], "genpsk") && i + 1 == argc)
		return cmd_genpsk();
	if (!strcmp(argv[i], "pubkey") && i + 1 == argc)
		return cmd_pubkey();
	if (!strcmp(argv[i], "policy") && i + 2 < argc && !strcmp(argv[i + 1], "replace")) {
		if (i + 3 != argc) {
			fprintf(stderr, "subnetra: usage: subnetra policy replace FILE\n");
			return 2;
		}
		return cmd_policy_replace(&o, argv[i + 2]);
	}
	return control(&o, argc - i, argv + i, peer, summary);
}
