/* SPDX-License-Identifier: MIT */
/*
 * sn-loadgen: many spokes from one process, their peer files, and floods
 * (tests/tools/loadgen/loadgen.h says what each part does).
 *
 *   sn-loadgen conf  --seed S --count N [--first-id ID] [--addr-base A] [--routes]
 *                    (--peers-dir DIR | --list FILE)
 *   sn-loadgen run   --seed S --count N [--first-id ID] [--addr-base A]
 *                    --hub ADDR:PORT (--hub-pub B64 | --hub-pub-file F) [--hub-id ID]
 *                    --plugin-dir DIR [--bind IP] [--base-port P] [--keepalive S]
 *                    [--ping IP --ping-every MS] [--stream-to IP --stream-rate PPS]
 *                    [--epoch-min E] [--status FILE] [--secs S]
 *   sn-loadgen sizes [--count N]  the hub's bytes per peer (struct sizes, and a
 *                    config of N spokes loaded: its arena and policy tree), JSON
 *   sn-loadgen flood --to ADDR:PORT --rate R --secs S --kinds LIST [--peer ID]
 *                    [--epoch E] [--spoof NET/LEN] [--replay-frames FILE] [--result FILE]
 *
 * Spoke i (0-based) has id first-id + i (default 100), overlay address
 * addr-base + i (default 10.0.1.0) and, with --routes, the LAN
 * 172.16.0.0 + 16 i /28; its key comes from the seed alone, so conf and
 * run agree without sharing a file.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "config.h"
#include "host.h"
#include "keys.h"
#include "loader.h"
#include "loadgen.h"
#include "node.h"
#include "peer.h"

static void usage(void)
{
	fputs("usage: sn-loadgen conf|run|flood ... (see tests/tools/loadgen/main.c)\n", stderr);
	exit(2);
}

static uint32_t ip_arg(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1) {
		fprintf(stderr, "sn-loadgen: '%s' is not an IPv4 address\n", s);
		exit(2);
	}
	return ntohl(a.s_addr);
}

static void addr_arg(const char *s, struct sockaddr_in *out)
{
	char host[64];
	const char *colon = strrchr(s, ':');

	if (!colon || (size_t)(colon - s) >= sizeof(host)) {
		fprintf(stderr, "sn-loadgen: '%s' is not ADDR:PORT\n", s);
		exit(2);
	}
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	out->sin_port = htons((uint16_t)atoi(colon + 1));
	out->sin_addr.s_addr = htonl(ip_arg(host));
}

static void key_arg(const char *b64, const char *file, uint8_t out[32])
{
	char buf[128] = "";
	FILE *f;

	if (file && (f = fopen(file, "r"))) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
		b64 = buf;
	}
	if (!b64 || sn_key_from_b64(out, b64, strlen(b64)) < 0) {
		fprintf(stderr, "sn-loadgen: need the hub's public key (--hub-pub or --hub-pub-file)\n");
		exit(2);
	}
}

/* The value of option o in argv, or def. */
static const char *opt(int argc, char **argv, const char *o, const char *def)
{
	for (int i = 2; i + 1 < argc; i++)
		if (!strcmp(argv[i], o))
			return argv[i + 1];
	return def;
}

static bool flag(int argc, char **argv, const char *o)
{
	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], o))
			return true;
	return false;
}

static void set_arg(int argc, char **argv, struct lg_set *set)
{
	const char *seed = opt(argc, argv, "--seed", NULL), *n = opt(argc, argv, "--count", NULL);

	if (!seed || !n)
		usage();
	snprintf(set->seed, sizeof(set->seed), "%s", seed);
	set->count = (uint32_t)strtoul(n, NULL, 0);
	set->first_id = (uint32_t)strtoul(opt(argc, argv, "--first-id", "100"), NULL, 0);
	set->addr_base = ip_arg(opt(argc, argv, "--addr-base", "10.0.1.0"));
	set->routes = flag(argc, argv, "--routes");
}

static int cmd_conf(int argc, char **argv)
{
	struct lg_set set;
	const char *dir = opt(argc, argv, "--peers-dir", NULL), *list = opt(argc, argv, "--list", NULL);

	set_arg(argc, argv, &set);
	if (!dir == !list)
		usage();
	return lg_conf(&set, dir, list) < 0 ? 1 : 0;
}

static int load_crypto(struct lg *g, const char *dir, struct sn_plugin *pl, struct sn_host *h)
{
	char err[512];

	sn_host_init(h, NULL, NULL);
	if (sn_loader_load(SN_KIND_CRYPTO, "chacha", dir, pl, err, sizeof(err)) < 0 ||
	    sn_plugin_create(pl, h, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "sn-loadgen: %s\n", err);
		return -1;
	}
	g->cr.ops = sn_plugin_ops(pl);
	g->cr.inst = pl->inst;
	g->ks = g->cr.ops->key_ctx_size ? g->cr.ops->key_ctx_size : 16;
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	static struct lg g;
	struct sn_plugin pl;
	struct sn_host h;
	const char *hub = opt(argc, argv, "--hub", NULL), *ping = opt(argc, argv, "--ping", NULL);
	const char *stream = opt(argc, argv, "--stream-to", NULL);

	set_arg(argc, argv, &g.set);
	if (!hub)
		usage();
	addr_arg(hub, &g.hub);
	key_arg(opt(argc, argv, "--hub-pub", NULL), opt(argc, argv, "--hub-pub-file", NULL),
		g.hub_pub);
	g.hub_id = (uint32_t)strtoul(opt(argc, argv, "--hub-id", "1"), NULL, 0);
	g.keepalive_ns = (uint64_t)(atof(opt(argc, argv, "--keepalive", "25")) * 1e9);
	g.ping_dst = ping ? ip_arg(ping) : 0;
	g.ping_every_ns = ping ? (uint64_t)(atof(opt(argc, argv, "--ping-every", "1000")) * 1e6) : 0;
	g.epoch_min = (uint32_t)strtoul(opt(argc, argv, "--epoch-min", "0"), NULL, 0);
	g.stream_from = stream ? 0 : -1;
	g.stream_to = stream ? ip_arg(stream) : 0;
	g.stream_every_ns = (uint64_t)(1e9 / atof(opt(argc, argv, "--stream-rate", "1000")));
	if (load_crypto(&g, opt(argc, argv, "--plugin-dir", "."), &pl, &h) < 0)
		return 1;
	return lg_run(&g, opt(argc, argv, "--bind", "0.0.0.0"),
		      (uint16_t)atoi(opt(argc, argv, "--base-port", "0")),
		      opt(argc, argv, "--status", NULL), atof(opt(argc, argv, "--secs", "0")));
}

static int cmd_flood(int argc, char **argv)
{
	struct lg_flood f = { 0 };
	const char *to = opt(argc, argv, "--to", NULL), *spoof = opt(argc, argv, "--spoof", NULL);

	if (!to)
		usage();
	addr_arg(to, &f.to);
	f.rate = atof(opt(argc, argv, "--rate", "200000"));
	f.secs = atof(opt(argc, argv, "--secs", "5"));
	f.kinds = opt(argc, argv, "--kinds", "unknown,badtag,epoch,stale,short");
	f.peer_id = (uint32_t)strtoul(opt(argc, argv, "--peer", "2"), NULL, 0);
	f.epoch = (uint32_t)strtoul(opt(argc, argv, "--epoch", "1700000000"), NULL, 0);
	f.result = opt(argc, argv, "--result", NULL);
	f.replay_frames = opt(argc, argv, "--replay-frames", NULL);
	if (spoof) {
		char net[32];
		const char *slash = strchr(spoof, '/');

		snprintf(net, sizeof(net), "%.*s", slash ? (int)(slash - spoof) : 31, spoof);
		f.spoof = true;
		f.spoof_len = slash ? (uint32_t)atoi(slash + 1) : 32;
		f.spoof_net = ip_arg(net);
	}
	if (f.rate <= 0 || f.secs <= 0)
		usage();
	return lg_flood(&f);
}

/* A hub config of set's spokes in peers: (the peers_dir form differs only
 * by each peer's file path); its arena and policy tree per peer. */
static int config_bytes(const struct lg_set *set, double *conf, double *policy)
{
	static const char head[] = "node:\n  id: 1\n  role: hub\n  private_key_file: k\n"
				   "  listen: \"0.0.0.0:51820\"\noverlay:\n  subnet: 10.0.0.0/16\n"
				   "  address: 10.0.0.1\npeers:\n";
	char tmp[64], err[512];
	struct sn_config *c;
	struct sn_policy *t;
	size_t len = 0;
	char *text;
	FILE *f;

	snprintf(tmp, sizeof(tmp), "/tmp/sn-loadgen-sizes.%d", (int)getpid());
	if (lg_conf(set, NULL, tmp) < 0 || !(f = fopen(tmp, "r")))
		return -1;
	text = malloc((size_t)set->count * 512 + sizeof(head));
	memcpy(text, head, sizeof(head) - 1);
	len = sizeof(head) - 1 + fread(text + sizeof(head) - 1, 1, (size_t)set->count * 512, f);
	fclose(f);
	unlink(tmp);
	if (sn_config_load_buffer("sizes.yaml", text, len, false, &c, err, sizeof(err)) < 0 ||
	    sn_policy_from_config(c, NULL, 0, 1, &t, err, sizeof(err)) < 0) {
		fprintf(stderr, "sn-loadgen: %s\n", err);
		return -1;
	}
	*conf = (double)c->arena.used / set->count;
	*policy = (double)sn_policy_mem(t) / set->count;
	sn_policy_free(t);
	sn_config_free(c);
	free(text);
	return 0;
}

/* Where a hub's bytes per peer go (bench/README.md, "Memory"). */
static int cmd_sizes(int argc, char **argv)
{
	struct lg_set set = { .first_id = 100, .count = 10000, .addr_base = 0x0a000100u,
			      .routes = true };
	double conf = 0, policy = 0;

	snprintf(set.seed, sizeof(set.seed), "sizes");
	set.count = (uint32_t)strtoul(opt(argc, argv, "--count", "10000"), NULL, 0);
	if (set.count && config_bytes(&set, &conf, &policy) < 0)
		return 1;
	printf("{\"sn_peer\":%zu,\"sn_session\":%zu,\"sn_replay\":%zu,\"counters\":%zu,"
	       "\"name\":%d,\"peer_object_chacha\":%zu,\"registry_per_peer\":%zu,"
	       "\"sn_conf_peer\":%zu,\"sn_peer_saved\":%zu,\"config_arena_per_peer\":%.1f,"
	       "\"policy_per_peer\":%.1f,\"peers\":%u}\n",
	       sizeof(struct sn_peer), sizeof(struct sn_session), sizeof(struct sn_replay),
	       sizeof(((struct sn_peer *)0)->counters), SN_PEER_NAME_MAX + 1,
	       sn_peer_object_size(32), sizeof(struct sn_peer *) + 2 * sizeof(struct sn_peer_slot),
	       sizeof(struct sn_conf_peer), sizeof(struct sn_peer_saved), conf, policy, set.count);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || sodium_init() < 0)
		usage();
	if (!strcmp(argv[1], "conf"))
		return cmd_conf(argc, argv);
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc, argv);
	if (!strcmp(argv[1], "flood"))
		return cmd_flood(argc, argv);
	if (!strcmp(argv[1], "sizes"))
		return cmd_sizes(argc, argv);
	usage();
	return 2;
}
