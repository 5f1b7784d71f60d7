/* SPDX-License-Identifier: MIT */
/*
 * tests/test_ctl.c: the control socket (core/ctl_*.c).
 *
 * The tokenizer and every command run against a node built by hand from a
 * private copy of conf/hub.yaml (crypto plugin, peers, policy, counters set
 * to known values), so the formatted status, peers, metrics and policy
 * output are checked number by number. Then the server runs for real on a
 * uv loop driven with UV_RUN_NOWAIT while the test is the client: each
 * command and error over the socket, oversized lines, a client that hangs
 * up mid-reply, one that never writes, too many clients, stale and live
 * socket files, unsafe socket directories, the socket's mode under any
 * umask, and (as root) clients let in or refused by SO_PEERCRED and
 * SO_PEERGROUPS.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl.h"
#include "node.h"

#define SEC 1000000000ull
#define START (1000 * SEC)
#define NOW (START + 7380 * SEC) /* up 2h03m */
#define N(a) (sizeof(a) / sizeof((a)[0]))

struct fx {
	char dir[64];
	char cfg[128];
	struct sn_node *n;
	bool loop;
	struct sn_arena a;
	struct sn_ctl_out o;
};

/* ---- fixture ------------------------------------------------------------- */

static void copy_file(const char *from, const char *to, mode_t mode)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	char buf[4096];
	size_t k;

	assert_non_null(in);
	assert_non_null(out);
	while ((k = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, k, out), k);
	fclose(in);
	fclose(out);
	assert_int_equal(chmod(to, mode), 0);
}

static void set_counters(struct sn_node *n)
{
	uint64_t *k = n->host.counters;
	struct sn_peer *a = sn_peer_find(&n->peers, 2);

	k[SN_CTR_RX_PACKETS] = 1234;
	k[SN_CTR_RX_BYTES] = 1572864;       /* 1.5 MiB */
	k[SN_CTR_TX_PACKETS] = 3400000;     /* 3.4M */
	k[SN_CTR_TX_BYTES] = 5368709120ull; /* 5.0 GiB */
	k[SN_CTR_TUN_RX] = 10;
	k[SN_CTR_TUN_TX] = 20;
	k[SN_CTR_RELAYED] = 30;
	k[SN_CTR_DROP_AUTH_FAIL] = 12;
	k[SN_CTR_DROP_SHORT] = 3;
	a->counters[SN_CTR_RX_PACKETS] = 1200;
	a->counters[SN_CTR_RX_BYTES] = 1536000; /* 1.5 MiB */
	a->counters[SN_CTR_TX_PACKETS] = 999;
	a->counters[SN_CTR_TX_BYTES] = 1023;
	a->counters[SN_CTR_DROP_AUTH_FAIL] = 3;
	a->counters[SN_CTR_DROP_REPLAY] = 1;
	a->s.endpoint = (struct sn_addr){ .family = SN_AF_INET, .port = 40012,
					.ip = { 198, 51, 100, 7 } };
	a->s.last_rx_ns = NOW - 3 * SEC;
	a->s.rx_has_epoch = true;
	a->s.rx_epoch = 1700000100;
	a->s.epochs_accepted = 2;
	a->s.state = SN_PEER_VERIFIED;
	a->s.verified_ns = NOW - 5 * SEC;
}

static void build_node(struct fx *f)
{
	struct sn_node *n = f->n;
	struct sn_options none = { 0 };
	struct sn_policy *t;
	char err[1024] = "";

	if (sn_config_load(f->cfg, &n->cfg, err, sizeof(err)) < 0)
		fail_msg("config: %s", err);
	n->config_path = f->cfg;
	sn_host_init(&n->host, NULL, NULL);
	n->host.log_level = SN_LOG_ERROR;
	n->host.peer_counters = sn_peers_counters;
	n->host.ctx = &n->peers;
	if (sn_loader_load(SN_KIND_CRYPTO, "chacha", SN_TEST_BINARY_DIR "/plugins", &n->crypto, err,
			   sizeof(err)) < 0 ||
	    sn_plugin_create(&n->crypto, &n->host, &none, err, sizeof(err)) < 0)
		fail_msg("crypto plugin: %s", err);
	n->cr.ops = sn_plugin_ops(&n->crypto);
	n->cr.inst = n->crypto.inst;
	sn_mtu_resolve(&n->mtu, n->cfg, SN_MTU_UDP_IP, n->crypto.decl.overhead); /* raw_direct's */
	n->epoch = 1700000000;
	n->is_hub = true;
	n->start_ns = START;
	n->reloads = 2;
	if (sn_slab_init(&n->peer_slab, sn_peer_object_size(n->cr.ops->key_ctx_size), 0) < 0 ||
	    sn_peers_build(&n->peers, n->cfg, &n->cr, &n->peer_slab, n->epoch, NULL, err,
			   sizeof(err)) < 0)
		fail_msg("peers: %s", err);
	sn_policy_slot_init(&n->policy);
	if (sn_policy_from_config(n->cfg, NULL, 0, 1, &t, err, sizeof(err)) < 0)
		fail_msg("policy: %s", err);
	sn_policy_publish(&n->policy, t);
	n->policy_version = 1;
	sn_arena_init(&n->rt_arena, 0);
	set_counters(n);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char p[160];

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/sn-test-ctl-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(p, sizeof(p), "%s/keys", f->dir);
	mkdir(p, 0700);
	snprintf(f->cfg, sizeof(f->cfg), "%s/hub.yaml", f->dir);
	copy_file(SN_TEST_SOURCE_DIR "/conf/hub.yaml", f->cfg, 0644);
	snprintf(p, sizeof(p), "%s/keys/hub.key", f->dir);
	copy_file(SN_TEST_SOURCE_DIR "/conf/keys/hub.key", p, 0600);
	f->n = calloc(1, sizeof(*f->n));
	if (!f->n)
		return -1;
	build_node(f);
	sn_arena_init(&f->a, 0);
	sn__ctl_out_init(&f->o, &f->a);
	*state = f;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	struct sn_node *n = f->n;

	sn_ctl_stop(n);
	if (f->loop) {
		uv_run(&n->loop, UV_RUN_DEFAULT);
		assert_int_equal(uv_loop_close(&n->loop), 0);
	}
	sn_peers_destroy(&n->peers, &n->cr, &n->peer_slab);
	sn__node_forget_saved(n);
	assert_int_equal(n->peer_slab.live, 0);
	sn_slab_destroy(&n->peer_slab);
	sn_policy_slot_destroy(&n->policy);
	sn_plugin_unload(&n->crypto);
	sn_arena_free(&n->rt_arena);
	sn_config_free(n->cfg);
	free(n);
	sn_arena_free(&f->a);
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* Run one request line through sn__ctl_exec; the whole reply. */
static const char *exec(struct fx *f, const char *line)
{
	sn__ctl_out_reset(&f->o);
	sn__ctl_exec(f->n, line, strlen(line), 0, NOW, &f->o, NULL);
	assert_int_equal(f->o.err, 0);
	return f->o.buf;
}

static void assert_has(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("missing\n  %s\nin\n%s", needle, hay);
}

static void assert_lacks(const char *hay, const char *needle)
{
	if (strstr(hay, needle))
		fail_msg("unexpected\n  %s\nin\n%s", needle, hay);
}

static int count(const char *hay, const char *needle)
{
	int k = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		k++;
	return k;
}

static bool ends_with(const char *s, const char *end)
{
	size_t a = strlen(s), b = strlen(end);

	return a >= b && !strcmp(s + a - b, end);
}

/* Runs of spaces made one, to compare table rows without their padding. */
static char *squeeze(const char *s)
{
	char *d = malloc(strlen(s) + 1), *o = d;

	assert_non_null(d);
	for (; *s; s++)
		if (*s != ' ' || o == d || o[-1] != ' ')
			*o++ = *s;
	*o = '\0';
	return d;
}

static void assert_row(const char *out, const char *row)
{
	char *sq = squeeze(out);

	assert_has(sq, row);
	free(sq);
}

/* ---- tokenizer ----------------------------------------------------------- */

static void test_ctl_parse_words(void **state)
{
	struct fx *f = *state;
	struct sn_ctl_req r;
	char err[128];
	const char *l1 = "  json\tpolicy  add 10.1.0.0/16   drop \r";

	assert_int_equal(sn__ctl_parse(&r, l1, strlen(l1), &f->a, err, sizeof(err)), 0);
	assert_true(r.json);
	assert_int_equal(r.argc, 4);
	assert_string_equal(r.argv[0], "policy");
	assert_string_equal(r.argv[3], "drop");
	assert_string_equal(r.rest[2], "10.1.0.0/16   drop ");
	assert_false(r.overflow);
	/* json only counts first; quotes are ordinary characters */
	assert_int_equal(sn__ctl_parse(&r, "status json \"a b\"", 17, &f->a, err, sizeof(err)), 0);
	assert_false(r.json);
	assert_int_equal(r.argc, 4);
	assert_string_equal(r.argv[1], "json");
	assert_string_equal(r.argv[2], "\"a");
	assert_string_equal(r.argv[3], "b\"");
	assert_int_equal(sn__ctl_parse(&r, "", 0, &f->a, err, sizeof(err)), 0);
	assert_int_equal(r.argc, 0);
}

static void test_ctl_parse_limits(void **state)
{
	struct fx *f = *state;
	struct sn_ctl_req r;
	char line[256] = "", err[128];

	for (int i = 0; i < 32; i++)
		strcat(line, "w ");
	assert_int_equal(sn__ctl_parse(&r, line, strlen(line), &f->a, err, sizeof(err)), 0);
	assert_int_equal(r.argc, 32);
	assert_false(r.overflow);
	strcat(line, "x");
	assert_int_equal(sn__ctl_parse(&r, line, strlen(line), &f->a, err, sizeof(err)), 0);
	assert_true(r.overflow);
	assert_int_equal(r.argc, 32);
	line[strlen(line) - 1] = '\0';
	memmove(line + 5, line, strlen(line) + 1); /* "json" counts as a word too */
	memcpy(line, "json ", 5);
	assert_int_equal(sn__ctl_parse(&r, line, strlen(line), &f->a, err, sizeof(err)), 0);
	assert_true(r.json);
	assert_true(r.overflow);
	line[strlen(line) - 2] = '\0';
	assert_int_equal(sn__ctl_parse(&r, line, strlen(line), &f->a, err, sizeof(err)), 0);
	assert_false(r.overflow);
	assert_int_equal(r.argc, 31);
	assert_int_equal(sn__ctl_parse(&r, "st\x01tus", 7, &f->a, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "request contains a control character (0x01 at byte 3)");
	assert_int_equal(sn__ctl_parse(&r, "st\0tus", 6, &f->a, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "request contains a control character (0x00 at byte 3)");
}

static void test_ctl_exec_errors(void **state)
{
	struct fx *f = *state;
	char line[512] = "status";

	assert_string_equal(exec(f, ""), "error empty request (try: status, peers, metrics, "
					  "policy, reload)\n");
	assert_string_equal(exec(f, "json"), "error empty request (try: status, peers, metrics, "
					      "policy, reload)\n");
	assert_string_equal(exec(f, "frob"), "error unknown command 'frob' (try: status, peers, "
					      "metrics, policy, reload)\n");
	assert_string_equal(exec(f, "status now"),
			    "error 'status' takes no arguments, 'summary' or 'peer PEER' (got 'now')\n");
	assert_string_equal(exec(f, "status peer"), "error usage: status [summary | peer PEER]\n");
	assert_string_equal(exec(f, "status summary 2"), "error usage: status [summary | peer PEER]\n");
	assert_string_equal(exec(f, "status peer 9"),
			    "error '9' is not a peer of this node (peers: 2 spoke-a, 3 spoke-b)\n");
	assert_string_equal(exec(f, "json metrics"),
			    "error metrics are only in the Prometheus text format (drop --json)\n");
	assert_string_equal(exec(f, "policy"),
			    "error policy needs a subcommand (list, add, del or replace)\n");
	assert_string_equal(exec(f, "policy frob"), "error unknown policy subcommand 'frob' "
						     "(try: list, add, del, replace)\n");
	for (int i = 0; i < 40; i++)
		strcat(line, " x");
	assert_string_equal(exec(f, line), "error too many arguments (max 32)\n");
	memcpy(line, "policy", 6);
	assert_string_equal(exec(f, "policy list x"), "error 'policy list' takes no arguments\n");
}

/* Lines made of command words, prefixes, separators and junk, and lines of
 * random bytes: every reply ends in exactly one status line. */
static void test_ctl_exec_garbage(void **state)
{
	static const char *const words[] = {
		"json", "status", "peers", "metrics", "policy", "list", "add", "del", "replace",
		"forward", "drop", "local", "2", "3", "0", "4294967295", "spoke-a", "10.0.0.0/8",
		"10.1.0.0/16", "10.1.0.1/16", "0.0.0.0/0", "192.168.1.0/24", "1.2.3.4/33", ";", ";;",
		" ", "\t", "\"", "\xff\xfe", "10.2.0.0/16;", "drop;10.3.0.0/16",
	};
	struct fx *f = *state;
	char line[SN_CTL_MAX_LINE + 1];
	unsigned seed = 12345;

	for (int i = 0; i < 3000; i++) {
		size_t len = 0;
		const char *r, *last;

		if (i % 3 == 0) {
			len = (size_t)(rand_r(&seed) % 200);
			for (size_t j = 0; j < len; j++)
				line[j] = (char)(rand_r(&seed) % 256);
		} else {
			int n = rand_r(&seed) % 12;

			for (int j = 0; j < n; j++) {
				const char *w = words[rand_r(&seed) % N(words)];

				len += (size_t)snprintf(line + len, sizeof(line) - len, "%s ", w);
			}
		}
		line[len] = '\0';
		sn__ctl_out_reset(&f->o);
		sn__ctl_exec(f->n, line, len, 0, NOW, &f->o, NULL);
		r = f->o.buf;
		assert_true(ends_with(r, "\n"));
		last = r + strlen(r) - 1;
		while (last > r && last[-1] != '\n')
			last--;
		if (strncmp(last, "error ", 6))
			assert_string_equal(last, "ok\n");
		else
			assert_true(last == r);
	}
}

/* ---- units ----------------------------------------------------------------- */

static void test_ctl_units(void **state)
{
	static const struct { uint64_t v; const char *bytes, *count; } c[] = {
		{ 0, "0 B", "0" },
		{ 999, "999 B", "999" },
		{ 1000, "1000 B", "1.0k" },
		{ 1023, "1023 B", "1.0k" },
		{ 1024, "1.0 KiB", "1.0k" },
		{ 1234, "1.2 KiB", "1.2k" },
		{ 999949, "976.5 KiB", "999.9k" },
		{ 999999, "976.6 KiB", "1.0M" },
		{ 1048575, "1.0 MiB", "1.0M" },
		{ 1572864, "1.5 MiB", "1.6M" },
		{ 3400000, "3.2 MiB", "3.4M" },
		{ 5368709120ull, "5.0 GiB", "5.4G" },
		{ UINT64_MAX, "16.0 EiB", "18.4E" },
	};
	static const struct { uint64_t s; const char *want; } d[] = {
		{ 0, "0s" }, { 59, "59s" }, { 60, "1m00s" }, { 3599, "59m59s" },
		{ 3600, "1h00m" }, { 7380, "2h03m" }, { 86399, "23h59m" }, { 86400, "1d00h" },
		{ 90061, "1d01h" }, { 8640000, "100d00h" },
	};
	char b[32];

	(void)state;
	for (size_t i = 0; i < N(c); i++) {
		assert_string_equal(sn__ctl_bytes(c[i].v, b, sizeof(b)), c[i].bytes);
		assert_string_equal(sn__ctl_count(c[i].v, b, sizeof(b)), c[i].count);
	}
	for (size_t i = 0; i < N(d); i++)
		assert_string_equal(sn__ctl_duration(d[i].s, b, sizeof(b)), d[i].want);
}

/* ---- output ------------------------------------------------------------------ */

static void test_ctl_status_text(void **state)
{
	struct fx *f = *state;
	const char *s = exec(f, "status");
	const char *hdr, *row;

	if (getenv("SN_TEST_SHOW"))
		printf("%s", s);
	assert_true(ends_with(s, "\nok\n"));
	assert_has(s, "node 1 (hub), epoch 1700000000, up 2h03m\n");
	assert_has(s, "  overlay   10.0.0.1/24 on subnetra0, MTU 1420\n");
	assert_has(s, "  listen    0.0.0.0:51820\n");
	assert_has(s, "  policy    version 1, 5 rules (0 run-time), 2 reloads\n");
	assert_has(s, "  underlay  rx 1.2k packets (1.5 MiB), tx 3.4M packets (5.0 GiB)\n");
	assert_has(s, "  tun       rx 10, tx 20 packets; relayed 30; keepalives rx 0, tx 0\n");
	assert_has(s, "  drops     short 3, auth_fail 12\n");
	assert_has(s, "  peers     2: 1 verified, 1 unverified, 0 waiting for an epoch move\n");
	assert_row(s, "ID PEER ENDPOINT STATE LAST RX RX PKTS RX BYTES TX PKTS TX BYTES EPOCH EPOCHS DROPS\n");
	assert_row(s, "2 spoke-a 198.51.100.7:40012 verified 3s ago 1.2k 1.5 MiB 999 1023 B 1700000100 2 "
		      "replay 1, auth_fail 3\n");
	assert_row(s, "3 spoke-b - unverified never 0 0 B 0 0 B - 0 -\n");
	/* aligned: every peer's endpoint starts under ENDPOINT */
	hdr = strstr(s, "ID  ");
	row = strstr(s, "\n2  ");
	assert_non_null(hdr);
	assert_non_null(row);
	row++;
	assert_int_equal(strstr(hdr, "ENDPOINT") - hdr, strstr(row, "198.51") - row);
	assert_int_equal(strstr(hdr, "EPOCHS") + 6 - hdr, strstr(row, "2  replay") + 1 - row);
}

/* status summary: the node and the peers by state; status peer: one peer. */
static void test_ctl_status_selected(void **state)
{
	struct fx *f = *state;
	const char *s = exec(f, "status summary");

	assert_has(s, "  peers     2: 1 verified, 1 unverified, 0 waiting for an epoch move\nok\n");
	assert_null(strstr(s, "spoke-a"));
	s = exec(f, "json status summary");
	assert_has(s, "\"peers_total\":2,\"peers_verified\":1,\"peers_unverified\":1,"
		      "\"peers_epoch_wait\":0,\"reload_switch_us\":0}");
	assert_null(strstr(s, "\"peers\":["));
	s = exec(f, "status peer spoke-b");
	assert_row(s, "3 spoke-b - unverified never 0 0 B 0 0 B - 0 -\n");
	assert_null(strstr(s, "spoke-a"));
	s = exec(f, "json status peer 2");
	assert_has(s, "\"peers\":[{\"id\":2,\"name\":\"spoke-a\"");
	assert_null(strstr(s, "spoke-b"));
}

static void test_ctl_status_json(void **state)
{
	struct fx *f = *state;
	const char *s = exec(f, "json status");

	if (getenv("SN_TEST_SHOW"))
		printf("%s", s);
	assert_true(ends_with(s, "}\nok\n"));
	assert_true(s[0] == '{');
	assert_has(s, "\"node\":{\"id\":1,\"role\":\"hub\",\"epoch\":1700000000,"
		      "\"uptime_seconds\":7380,\"policy_version\":1,\"policy_rules\":5,"
		      "\"runtime_rules\":0,\"reloads\":2,\"interface\":\"subnetra0\","
		      "\"overlay\":\"10.0.0.1/24\",\"mtu\":1420,\"mtu_automatic\":false,"
		      "\"datagram_max\":1484,\"listen\":\"0.0.0.0:51820\","
		      "\"rx_packets\":1234,\"rx_bytes\":1572864,\"tx_packets\":3400000,"
		      "\"tx_bytes\":5368709120,\"tun_rx_packets\":10,\"tun_tx_packets\":20,"
		      "\"relayed_packets\":30,");
	assert_has(s, "\"drops\":{\"short\":3,\"bad_version\":0,");
	assert_has(s, "\"auth_fail\":12,");
	assert_has(s, "{\"id\":2,\"name\":\"spoke-a\",\"endpoint\":\"198.51.100.7:40012\","
		      "\"last_rx_seconds\":3,\"rx_epoch\":1700000100,\"epochs_accepted\":2,"
		      "\"state\":\"verified\",\"verified_seconds\":5,"
		      "\"rx_packets\":1200,\"rx_bytes\":1536000,\"tx_packets\":999,\"tx_bytes\":1023,");
	assert_has(s, "\"replay\":1,\"auth_fail\":3,");
	assert_has(s, "{\"id\":3,\"name\":\"spoke-b\",\"endpoint\":null,\"last_rx_seconds\":null,"
		      "\"rx_epoch\":null,\"epochs_accepted\":0,\"state\":\"unverified\","
		      "\"verified_seconds\":null,");
	/* every reason, zeros included, for the node and both peers; TUN
	 * counters only for the node */
	assert_int_equal(count(s, "\"rx_error\":"), 3);
	assert_int_equal(count(s, "\"bad_version\":0"), 3);
	assert_int_equal(count(s, "\"tun_rx_packets\":"), 1);
}

static void test_ctl_json_escapes(void **state)
{
	struct fx *f = *state;

	snprintf(f->n->peers.v[1]->name, sizeof(f->n->peers.v[1]->name), "%s", "we\"ird\\na\tme");
	assert_has(exec(f, "json peers"), "\"name\":\"we\\\"ird\\\\na\\u0009me\"");
	assert_has(exec(f, "metrics"), "peer=\"we\\\"ird\\\\na\tme\"");
}

static void test_ctl_peers(void **state)
{
	struct fx *f = *state;
	const char *s = exec(f, "peers");

	if (getenv("SN_TEST_SHOW"))
		printf("%s", s);
	assert_row(s, "2 spoke-a 198.51.100.7:40012 last rx 3s ago rx 1.2k pkts 1.5 MiB "
		      "tx 999 pkts 1023 B\n");
	assert_row(s, "3 spoke-b - last rx never rx 0 pkts 0 B tx 0 pkts 0 B\nok\n");
	s = exec(f, "json peers");
	assert_true(!strncmp(s, "{\"peers\":[{\"id\":2,", 18));
	assert_true(ends_with(s, "]}\nok\n"));
}

/* Every sample line is NAME{LABELS} VALUE or NAME VALUE, after a # HELP
 * and a # TYPE line for its family; counters end in _total. */
static void check_exposition(const char *s)
{
	char fam[128] = "", type[16] = "", name[128];
	const char *line = s;

	while (*line && strcmp(line, "ok\n")) {
		const char *nl = strchr(line, '\n');
		size_t len;

		assert_non_null(nl);
		len = (size_t)(nl - line);
		if (!strncmp(line, "# HELP ", 7)) {
			assert_int_equal(sscanf(line, "# HELP %127s", fam), 1);
			assert_true(!strncmp(nl + 1, "# TYPE ", 7));
		} else if (!strncmp(line, "# TYPE ", 7)) {
			assert_int_equal(sscanf(line, "# TYPE %127s %15s", name, type), 2);
			assert_string_equal(name, fam);
			assert_true(!strcmp(type, "counter") || !strcmp(type, "gauge"));
			assert_int_equal(!strcmp(type, "counter"), ends_with(fam, "_total"));
		} else {
			size_t k = strlen(fam);

			assert_true(len > k && !strncmp(line, fam, k) &&
				    (line[k] == ' ' || line[k] == '{'));
			assert_true((line[len - 1] >= '0' && line[len - 1] <= '9') ||
				    (!strcmp(type, "gauge") && len > 5 && !strncmp(nl - 5, " +Inf", 5)));
		}
		line = nl + 1;
	}
	assert_string_equal(line, "ok\n");
}

static void test_ctl_metrics(void **state)
{
	struct fx *f = *state;
	const char *s = exec(f, "metrics");

	if (getenv("SN_TEST_SHOW"))
		printf("%s", s);
	check_exposition(s);
	assert_has(s, "# TYPE subnetra_uptime_seconds gauge\nsubnetra_uptime_seconds 7380\n");
	assert_has(s, "\nsubnetra_epoch 1700000000\n");
	assert_has(s, "\nsubnetra_policy_version 1\n");
	assert_has(s, "\nsubnetra_reloads_total 2\n");
	assert_has(s, "subnetra_node_info{id=\"1\",role=\"hub\",interface=\"subnetra0\",version=\"");
	assert_has(s, "\nsubnetra_tun_rx_packets_total 10\n");
	assert_has(s, "# TYPE subnetra_drops_total counter\n");
	assert_has(s, "\nsubnetra_drops_total{reason=\"auth_fail\"} 12\n");
	assert_has(s, "\nsubnetra_drops_total{reason=\"short\"} 3\n");
	assert_has(s, "\nsubnetra_drops_total{reason=\"replay\"} 0\n");
	assert_has(s, "# TYPE subnetra_rx_packets_total counter\n");
	assert_has(s, "\nsubnetra_rx_packets_total{peer=\"spoke-a\",id=\"2\"} 1200\n");
	assert_has(s, "\nsubnetra_rx_bytes_total{peer=\"spoke-a\",id=\"2\"} 1536000\n");
	assert_has(s, "\nsubnetra_tx_bytes_total{peer=\"spoke-a\",id=\"2\"} 1023\n");
	assert_has(s, "\nsubnetra_tx_packets_total{peer=\"spoke-b\",id=\"3\"} 0\n");
	assert_has(s, "\nsubnetra_peer_drops_total{peer=\"spoke-a\",id=\"2\",reason=\"replay\"} 1\n");
	assert_has(s, "\nsubnetra_peer_drops_total{peer=\"spoke-a\",id=\"2\",reason=\"auth_fail\"} 3\n");
	assert_has(s, "\nsubnetra_peer_last_rx_age_seconds{peer=\"spoke-a\",id=\"2\"} 3\n");
	/* every peer has its age and up gauges from the start: never heard is +Inf */
	assert_has(s, "\nsubnetra_peer_last_rx_age_seconds{peer=\"spoke-b\",id=\"3\"} +Inf\n");
	assert_has(s, "# TYPE subnetra_peer_up gauge\n");
	assert_has(s, "\nsubnetra_peer_up{peer=\"spoke-a\",id=\"2\"} 1\n");
	assert_has(s, "\nsubnetra_peer_up{peer=\"spoke-b\",id=\"3\"} 0\n");
	assert_has(s, "\nsubnetra_peer_rx_epoch{peer=\"spoke-a\",id=\"2\"} 1700000100\n");
	assert_has(s, "\nsubnetra_peer_epochs_accepted_total{peer=\"spoke-b\",id=\"3\"} 0\n");
	assert_has(s, "# TYPE subnetra_peer_verified gauge\n");
	assert_has(s, "\nsubnetra_peer_verified{peer=\"spoke-a\",id=\"2\"} 1\n");
	assert_has(s, "\nsubnetra_peer_verified{peer=\"spoke-b\",id=\"3\"} 0\n");
	assert_has(s, "\nsubnetra_drops_total{reason=\"unverified\"} 0\n");
	assert_has(s, "\nsubnetra_drops_total{reason=\"bad_response\"} 0\n");
	assert_has(s, "# TYPE subnetra_challenge_tx_total counter\n");
	assert_lacks(s, "subnetra_tun_rx_packets_total{");
}

/* Counters plugins register show under the plugin's name, in the order
 * registered, in status, JSON status and metrics; a plugin that is gone
 * takes its counters along. */
static void test_ctl_plugin_counters(void **state)
{
	struct fx *f = *state;
	const struct sn_host_api *api = sn_host_api_table();
	struct sn_host_decl fec = {.name = "fec_xor"}, raw = {.name = "raw_direct"};
	struct sn_host *h = &f->n->host;
	const char *s;
	int g, rec;

	assert_has(exec(f, "json status"), "},\"egress\":[],\"plugins\":{},\"peers\":[");
	assert_null(strstr(exec(f, "status"), "  plugin "));
	h->creating = &fec;
	g = api->counter_register(h, "groups", "Groups of datagrams sent.");
	rec = api->counter_register(h, "recovered", "Datagrams rebuilt from parity.");
	h->creating = &raw;
	assert_int_equal(api->counter_register(h, "gso_fallback", "Runs sent one by one."), 2);
	h->creating = NULL;
	assert_int_equal(g, 0);
	assert_int_equal(rec, 1);
	api->counter_add(h, (uint32_t)g, 12);
	api->counter_add(h, (uint32_t)rec, 3);
	api->counter_add(h, (uint32_t)rec, 1);
	s = exec(f, "status");
	assert_has(s, "  drops     short 3, auth_fail 12\n"
		      "  plugin    fec_xor: groups 12, recovered 4\n"
		      "  plugin    raw_direct: gso_fallback 0\n"
		      "  peers     2:");
	s = exec(f, "json status summary");
	assert_has(s, ",\"plugins\":{\"fec_xor\":{\"groups\":12,\"recovered\":4},"
		      "\"raw_direct\":{\"gso_fallback\":0}}}\n");
	s = exec(f, "metrics");
	check_exposition(s);
	assert_has(s, "# HELP subnetra_plugin_fec_xor_recovered_total Datagrams rebuilt from parity.\n"
		      "# TYPE subnetra_plugin_fec_xor_recovered_total counter\n"
		      "subnetra_plugin_fec_xor_recovered_total 4\n");
	assert_has(s, "\nsubnetra_plugin_raw_direct_gso_fallback_total 0\n");
	sn_host_drop_counters(h, &fec);
	s = exec(f, "status");
	assert_null(strstr(s, "fec_xor"));
	assert_has(s, "  plugin    raw_direct: gso_fallback 0\n");
	assert_null(strstr(exec(f, "metrics"), "fec_xor"));
	sn_host_drop_counters(h, &raw);
	assert_int_equal(h->n_pctr, 0);
}

static void test_ctl_policy_list(void **state)
{
	struct fx *f = *state;
	const char *s = exec(f, "policy list");

	if (getenv("SN_TEST_SHOW"))
		printf("%s", s);
	assert_true(!strncmp(s, "policy version 1, 5 rules\nPREFIX ", 33));
	assert_row(s, "\n10.0.0.1/32 local - local\n");
	assert_row(s, "\n10.0.0.2/32 forward 2 (spoke-a) peer\n");
	assert_row(s, "\n192.168.2.0/24 forward 3 (spoke-b) peer\nok\n");
	s = exec(f, "json policy list");
	assert_has(s, "{\"version\":1,\"rules\":[{\"prefix\":\"10.0.0.1/32\",\"action\":\"local\","
		      "\"peer\":null,\"origin\":\"local\"},");
	assert_has(s, "{\"prefix\":\"192.168.1.0/24\",\"action\":\"forward\",\"peer\":2,"
		      "\"origin\":\"peer\"}");
	assert_true(ends_with(s, "}]}\nok\n"));
}

/* ---- policy changes ---------------------------------------------------------- */

static void test_ctl_policy_add_del(void **state)
{
	struct fx *f = *state;
	struct sn_node *n = f->n;

	assert_string_equal(exec(f, "policy add 172.16.0.0/12 forward 2"),
			    "policy version 2, 6 rules (1 run-time)\nok\n");
	assert_string_equal(exec(f, "json policy add 100.64.0.0/10 drop"),
			    "{\"policy_version\":3,\"policy_rules\":7,\"runtime_rules\":2}\nok\n");
	assert_string_equal(exec(f, "policy add 10.9.0.0/16 forward spoke-b"),
			    "policy version 4, 8 rules (3 run-time)\nok\n");
	assert_int_equal(n->n_rt_rules, 3);
	assert_int_equal(n->rt_rules[2].peer_id, 3);
	assert_row(exec(f, "policy list"), "\n172.16.0.0/12 forward 2 (spoke-a) runtime\n");
	assert_string_equal(exec(f, "policy add 172.16.0.0/12 drop"),
			    "error a run-time rule for 172.16.0.0/12 exists already "
			    "(policy del it first)\n");
	assert_string_equal(exec(f, "policy add 172.16.0.1/12 drop"),
			    "error 172.16.0.1/12 has host bits set (did you mean 172.16.0.0/12?)\n");
	assert_string_equal(exec(f, "policy add 172.16.0.0 drop"),
			    "error 172.16.0.0 has no prefix length (did you mean 172.16.0.0/32?)\n");
	assert_string_equal(exec(f, "policy add 10.8.0.0/16 forward 9"),
			    "error '9' is not a peer of this node (peers: 2 spoke-a, 3 spoke-b)\n");
	assert_string_equal(exec(f, "policy add 10.8.0.0/16 forward"),
			    "error usage: policy add PREFIX forward PEER_ID | policy add PREFIX drop\n");
	assert_string_equal(exec(f, "policy add 10.8.0.0/16 drop now"),
			    "error usage: policy add PREFIX forward PEER_ID | policy add PREFIX drop\n");
	assert_true(!strncmp(exec(f, "policy add 10.8.0.0/16 local"), "error 10.8.0.0/16: local "
								     "rules come from", 40));
	/* refused by the policy build: nothing changes */
	assert_true(!strncmp(exec(f, "policy add 192.168.1.128/25 forward 3"), "error ", 6));
	assert_int_equal(n->n_rt_rules, 3);
	assert_int_equal(n->policy_version, 4);
	/* delete */
	assert_string_equal(exec(f, "policy del 100.64.0.0/10"),
			    "policy version 5, 7 rules (2 run-time)\nok\n");
	assert_string_equal(exec(f, "policy delete 10.9.0.0/16"),
			    "policy version 6, 6 rules (1 run-time)\nok\n");
	assert_string_equal(exec(f, "policy del 100.64.0.0/10"),
			    "error no run-time rule for 100.64.0.0/10 (config rules are changed in "
			    "the config file)\n");
	assert_string_equal(exec(f, "policy del 192.168.1.0/24"),
			    "error no run-time rule for 192.168.1.0/24 (config rules are changed in "
			    "the config file)\n");
	assert_string_equal(exec(f, "policy del 192.168.1.1/24"),
			    "error 192.168.1.1/24 has host bits set (did you mean 192.168.1.0/24?)\n");
	assert_string_equal(exec(f, "policy del"), "error usage: policy del PREFIX\n");
	assert_int_equal(n->n_rt_rules, 1);
}

static void test_ctl_policy_replace(void **state)
{
	struct fx *f = *state;
	struct sn_node *n = f->n;
	char line[4096] = "policy replace";

	assert_string_equal(exec(f, "policy replace 10.1.0.0/16 forward 2; 10.2.0.0/16 drop ;"),
			    "policy version 2, 7 rules (2 run-time)\nok\n");
	assert_int_equal(n->n_rt_rules, 2);
	assert_string_equal(exec(f, "policy replace 10.1.0.0/16 drop;10.1.0.0/16 drop"),
			    "error rule 2: 10.1.0.0/16 is also rule 1\n");
	assert_string_equal(exec(f, "policy replace 10.3.0.0/16 drop; 10.4.0.1/16 drop"),
			    "error rule 2 ('10.4.0.1/16 drop'): 10.4.0.1/16 has host bits set "
			    "(did you mean 10.4.0.0/16?)\n");
	assert_string_equal(exec(f, "policy replace 10.3.0.0/16 forward"),
			    "error rule 1 ('10.3.0.0/16 forward'): expected 'PREFIX forward "
			    "PEER_ID' or 'PREFIX drop'\n");
	assert_string_equal(exec(f, "policy replace 10.3.0.0/16 drop x y"),
			    "error rule 1 ('10.3.0.0/16 drop x y'): expected 'PREFIX forward "
			    "PEER_ID' or 'PREFIX drop'\n");
	assert_int_equal(n->n_rt_rules, 2);
	assert_int_equal(n->policy_version, 2);
	/* more words than a request may have: replace reads the rest of the line */
	for (int i = 0; i < 40; i++)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), " 10.%d.0.0/16 forward 3;",
			 100 + i);
	assert_string_equal(exec(f, line), "policy version 3, 45 rules (40 run-time)\nok\n");
	assert_string_equal(exec(f, "policy replace"), "policy version 4, 5 rules (0 run-time)\nok\n");
	assert_int_equal(n->n_rt_rules, 0);
}

/* ---- reload ------------------------------------------------------------------ */

static void write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static char *read_text(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *s = calloc(1, 65536);

	assert_non_null(fp);
	assert_non_null(s);
	fread(s, 1, 65535, fp);
	fclose(fp);
	return s;
}

static void test_ctl_reload(void **state)
{
	struct fx *f = *state;
	char *text = read_text(f->cfg), *p, want[256];

	snprintf(want, sizeof(want), "reloaded %s, policy version 2\nok\n", f->cfg);
	assert_string_equal(exec(f, "reload"), want);
	assert_int_equal(f->n->reloads, 3);
	assert_string_equal(exec(f, "json reload"), "{\"reloaded\":true,\"policy_version\":3}\nok\n");
	/* a change that needs a restart is refused with the reason */
	p = strstr(text, "id: 1 ");
	assert_non_null(p);
	p[4] = '7';
	write_text(f->cfg, text);
	snprintf(want, sizeof(want), "error %s: node.id changed: restart subnetrad to apply that "
		 "change\n", f->cfg);
	assert_string_equal(exec(f, "reload"), want);
	assert_int_equal(f->n->cfg->node_id, 1);
	write_text(f->cfg, "node: [\n");
	assert_true(!strncmp(exec(f, "reload"), "error ", 6));
	assert_has(f->o.buf, f->cfg);
	assert_int_equal(f->n->reloads, 4);
	free(text);
}

/* ---- the socket server ------------------------------------------------------- */

static void serve(struct fx *f)
{
	char err[1024] = "";

	assert_int_equal(uv_loop_init(&f->n->loop), 0);
	f->loop = true;
	f->n->host.loop = &f->n->loop;
	if (sn_ctl_start(f->n, err, sizeof(err)) < 0)
		fail_msg("sn_ctl_start: %s", err);
	assert_non_null(f->n->ctl);
}

static uint64_t ms_now(void)
{
	return uv_hrtime() / 1000000u;
}

static void pump(struct fx *f, int ms)
{
	uint64_t end = ms_now() + (uint64_t)ms;

	do {
		uv_run(&f->n->loop, UV_RUN_NOWAIT);
		usleep(500);
	} while (ms_now() < end);
}

static int dial(struct fx *f)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->n->cfg->control_socket);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		fail_msg("connect %s: %s", sa.sun_path, strerror(errno));
	return fd;
}

static void send_all(struct fx *f, int fd, const char *s, size_t len)
{
	uint64_t end = ms_now() + 3000;

	while (len) {
		ssize_t w = write(fd, s, len);

		if (w > 0) {
			s += w;
			len -= (size_t)w;
		} else if (errno == EAGAIN) {
			pump(f, 1);
		} else {
			fail_msg("write: %s", strerror(errno));
		}
		assert_true(ms_now() < end);
	}
}

static char reply[1 << 21];

/* Read until the server closes, running the loop meanwhile. */
static size_t read_all(struct fx *f, int fd, int timeout_ms)
{
	uint64_t end = ms_now() + (uint64_t)timeout_ms;
	size_t n = 0;

	for (;;) {
		ssize_t r = read(fd, reply + n, sizeof(reply) - 1 - n);

		if (r > 0) {
			n += (size_t)r;
			continue;
		}
		if (r == 0 || errno != EAGAIN)
			break;
		if (ms_now() > end)
			fail_msg("no end of reply within %d ms (got %zu bytes)", timeout_ms, n);
		uv_run(&f->n->loop, UV_RUN_NOWAIT);
		usleep(200);
	}
	reply[n] = '\0';
	return n;
}

static const char *talk_n(struct fx *f, const char *req, size_t len)
{
	int fd = dial(f);

	send_all(f, fd, req, len);
	shutdown(fd, SHUT_WR);
	read_all(f, fd, 5000);
	close(fd);
	return reply;
}

static const char *talk(struct fx *f, const char *req)
{
	return talk_n(f, req, strlen(req));
}

static void wait_idle(struct fx *f)
{
	uint64_t end = ms_now() + 3000;

	while (f->n->ctl->conns) {
		assert_true(ms_now() < end);
		pump(f, 1);
	}
	assert_int_equal(f->n->ctl->n_conns, 0);
}

static void test_ctl_server_commands(void **state)
{
	struct fx *f = *state;
	struct stat st;
	char dir[160];
	mode_t mask = umask(077); /* the daemon's */

	serve(f);
	umask(mask);
	/* the run/ directory was made for the socket; the socket is 0660 */
	snprintf(dir, sizeof(dir), "%s/run", f->dir);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(stat(f->n->cfg->control_socket, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);

	assert_has(talk(f, "status\n"), "node 1 (hub), epoch 1700000000, up ");
	assert_true(ends_with(reply, "\nok\n"));
	assert_true(!strncmp(talk(f, "json status\n"), "{\"node\":{\"id\":1,", 16));
	assert_has(talk(f, "peers\n"), "spoke-a");
	check_exposition(talk(f, "metrics\n"));
	assert_has(talk(f, "policy list\n"), "192.168.2.0/24");
	assert_string_equal(talk(f, "policy add 10.7.0.0/16 drop\n"),
			    "policy version 2, 6 rules (1 run-time)\nok\n");
	assert_string_equal(talk(f, "policy del 10.7.0.0/16"), /* no newline: EOF ends it */
			    "policy version 3, 5 rules (0 run-time)\nok\n");
	assert_has(talk(f, "reload\n"), "reloaded ");
	assert_string_equal(talk(f, "policy add 10.7.0.1/16 drop\n"),
			    "error 10.7.0.1/16 has host bits set (did you mean 10.7.0.0/16?)\n");
	assert_string_equal(talk(f, "frob\n"), "error unknown command 'frob' (try: status, peers, "
					       "metrics, policy, reload)\n");
	assert_string_equal(talk(f, "status extra junk\n"),
			    "error 'status' takes no arguments, 'summary' or 'peer PEER' (got 'extra')\n");
	assert_string_equal(talk(f, ""), "error empty request (try: status, peers, metrics, "
					 "policy, reload)\n");
	/* only the first line counts */
	assert_true(!strncmp(talk(f, "peers\nstatus\n"), "2  spoke-a", 10));
	wait_idle(f);
}

static void test_ctl_server_limits(void **state)
{
	struct fx *f = *state;
	static char big[8192];
	char line[256] = "status";

	serve(f);
	memset(big, 'a', sizeof(big));
	/* exactly SN_CTL_MAX_LINE bytes and a newline: a (bad) request */
	big[SN_CTL_MAX_LINE] = '\n';
	assert_string_equal(talk_n(f, big, SN_CTL_MAX_LINE + 1),
			    "error unknown command 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			    "aaaaaaaa' (try: status, peers, metrics, policy, reload)\n");
	/* one more byte: too long, whether or not the newline follows */
	big[SN_CTL_MAX_LINE] = 'a';
	big[SN_CTL_MAX_LINE + 1] = '\n';
	assert_string_equal(talk_n(f, big, SN_CTL_MAX_LINE + 2),
			    "error request too long (max 4096 bytes)\n");
	assert_string_equal(talk_n(f, big, sizeof(big)), "error request too long (max 4096 bytes)\n");
	for (int i = 0; i < 40; i++)
		strcat(line, " x");
	strcat(line, "\n");
	assert_string_equal(talk(f, line), "error too many arguments (max 32)\n");
	assert_string_equal(talk_n(f, "sta\0tus\n", 8),
			    "error request contains a control character (0x00 at byte 4)\n");
	wait_idle(f);
	assert_has(talk(f, "status\n"), "\nok\n");
}

static void test_ctl_server_hangup(void **state)
{
	struct fx *f = *state;
	struct sn_policy_rule *v = calloc(8000, sizeof(*v));
	char err[512];
	size_t n;
	int fd;

	serve(f);
	/* a client that sends and goes away before the reply */
	fd = dial(f);
	send_all(f, fd, "metrics\n", 8);
	close(fd);
	pump(f, 20);
	wait_idle(f);
	/* a reply far larger than the socket buffer, and a client that reads
	 * 100 bytes of it and hangs up */
	assert_non_null(v);
	for (uint32_t i = 0; i < 8000; i++)
		v[i] = (struct sn_policy_rule){ .prefix = { (100u << 24) | (64u << 16) | i, 32, { 0 } },
						.action = SN_ACT_DROP };
	if (sn_node_set_rules(f->n, v, 8000, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	free(v);
	fd = dial(f);
	send_all(f, fd, "policy list\n", 12);
	shutdown(fd, SHUT_WR);
	for (n = 0; n < 100;) {
		ssize_t r = read(fd, reply, 100 - n);

		if (r > 0)
			n += (size_t)r;
		else
			pump(f, 1);
	}
	close(fd);
	pump(f, 20);
	wait_idle(f);
	/* the whole big reply still arrives for a client that reads it */
	n = strlen(talk(f, "policy list\n"));
	assert_true(n > 300000);
	assert_true(ends_with(reply, "\nok\n"));
	assert_has(reply, "\n100.64.31.63/32 ");
}

static void test_ctl_server_timeout(void **state)
{
	struct fx *f = *state;
	uint64_t t0;
	int idle;

	serve(f);
	f->n->ctl->timeout_ms = 200;
	t0 = ms_now();
	idle = dial(f);
	pump(f, 20);
	/* others are served meanwhile */
	assert_true(ends_with(talk(f, "status\n"), "\nok\n"));
	read_all(f, idle, 3000);
	assert_string_equal(reply, "error no request within 200 ms\n");
	assert_true(ms_now() - t0 >= 190);
	close(idle);
	wait_idle(f);
}

static void test_ctl_server_max_conns(void **state)
{
	struct fx *f = *state;
	int fds[SN_CTL_MAX_CONNS];

	serve(f);
	for (int i = 0; i < SN_CTL_MAX_CONNS; i++)
		fds[i] = dial(f);
	pump(f, 30);
	assert_int_equal(f->n->ctl->n_conns, SN_CTL_MAX_CONNS);
	assert_string_equal(talk(f, "status\n"),
			    "error too many control connections (max 16); try again\n");
	for (int i = 0; i < SN_CTL_MAX_CONNS; i++)
		close(fds[i]);
	wait_idle(f);
	assert_true(ends_with(talk(f, "status\n"), "\nok\n"));
}

static void test_ctl_server_socket_file(void **state)
{
	struct fx *f = *state;
	struct sn_node *n = f->n, *n2 = calloc(1, sizeof(*n2));
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = n->cfg->control_socket;
	char err[1024] = "", want[512];
	int fd;

	assert_non_null(n2);
	/* a stale socket file (nobody listens) is replaced */
	mkdir(strcat(strcpy(want, f->dir), "/run"), 0700);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	serve(f);
	assert_true(ends_with(talk(f, "status\n"), "\nok\n"));
	/* a live one is left alone */
	n2->cfg = n->cfg;
	assert_int_equal(uv_loop_init(&n2->loop), 0);
	assert_int_equal(sn_ctl_start(n2, err, sizeof(err)), -EADDRINUSE);
	snprintf(want, sizeof(want), "control socket %s is in use by another subnetrad", path);
	assert_string_equal(err, want);
	assert_null(n2->ctl);
	assert_int_equal(uv_loop_close(&n2->loop), 0);
	pump(f, 10);
	assert_true(ends_with(talk(f, "status\n"), "\nok\n"));
	/* stop removes the file */
	sn_ctl_stop(n);
	assert_int_equal(access(path, F_OK), -1);
	/* a file that is not a socket is refused */
	write_text(path, "x");
	assert_int_equal(sn_ctl_start(n, err, sizeof(err)), -EEXIST);
	snprintf(want, sizeof(want), "%s exists and is not a socket (remove it, or set "
		 "control.socket to another path)", path);
	assert_string_equal(err, want);
	free(n2);
}

static void test_ctl_server_unknown_group(void **state)
{
	struct fx *f = *state;
	char err[1024] = "", want[512];

	f->n->cfg->control_group = "no-such-group-sn";
	assert_int_equal(uv_loop_init(&f->n->loop), 0);
	f->loop = true;
	assert_true(sn_ctl_start(f->n, err, sizeof(err)) < 0);
	snprintf(want, sizeof(want), "%s: control.group: unknown group 'no-such-group-sn' (create "
		 "it, e.g. groupadd --system no-such-group-sn, or remove the key to allow root "
		 "only)", f->cfg);
	assert_string_equal(err, want);
	assert_null(f->n->ctl);
}

/* The socket's directory may be changed by root or the daemon's user only,
 * and is never reached through a symbolic link. */
static void test_ctl_server_unsafe_dir(void **state)
{
	struct fx *f = *state;
	static const mode_t open_modes[] = { 0777, 0775, 0757, 01777 };
	char run[128], real[128], err[1024] = "", want[512];

	assert_int_equal(uv_loop_init(&f->n->loop), 0);
	f->loop = true;
	snprintf(run, sizeof(run), "%s/run", f->dir);
	snprintf(real, sizeof(real), "%s/real", f->dir);
	assert_int_equal(mkdir(real, 0755), 0);
	assert_int_equal(symlink(real, run), 0);
	assert_int_equal(sn_ctl_start(f->n, err, sizeof(err)), -ELOOP);
	snprintf(want, sizeof(want), "control socket directory %s is a symbolic link, which the "
		 "daemon does not follow (name the real directory in control.socket)", run);
	assert_string_equal(err, want);
	assert_null(f->n->ctl);
	assert_int_equal(unlink(run), 0);
	assert_int_equal(mkdir(run, 0755), 0);
	for (size_t i = 0; i < N(open_modes); i++) {
		assert_int_equal(chmod(run, open_modes[i]), 0);
		assert_int_equal(sn_ctl_start(f->n, err, sizeof(err)), -EPERM);
		snprintf(want, sizeof(want), "control socket directory %s is writable by group or "
			 "others (mode %04o; run chmod go-w %s)", run, (unsigned)open_modes[i], run);
		assert_string_equal(err, want);
		assert_null(f->n->ctl);
	}
	assert_int_equal(chmod(run, 0755), 0);
	if (geteuid() == 0) {
		assert_int_equal(chown(run, 65534, 65534), 0);
		assert_int_equal(sn_ctl_start(f->n, err, sizeof(err)), -EPERM);
		snprintf(want, sizeof(want), "control socket directory %s is owned by uid 65534, "
			 "neither root nor the user the daemon runs as (run chown root %s)", run, run);
		assert_string_equal(err, want);
		assert_int_equal(chown(run, 0, 0), 0);
	}
	/* nothing was created in either place */
	assert_int_equal(access(f->n->cfg->control_socket, F_OK), -1);
	assert_int_equal(access(strcat(real, "/hub.sock"), F_OK), -1);
}

/* Mode 0660 from bind on, whatever the process's umask, which is left as it was. */
static void test_ctl_server_socket_mode(void **state)
{
	struct fx *f = *state;
	struct stat st;
	mode_t mask = umask(0);

	serve(f);
	assert_int_equal(umask(mask), 0);
	assert_int_equal(lstat(f->n->cfg->control_socket, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(st.st_uid, geteuid());
	assert_true(ends_with(talk(f, "status\n"), "\nok\n"));
	/* stop removes it; a file someone else put in its place would stay */
	sn_ctl_stop(f->n);
	assert_int_equal(access(f->n->cfg->control_socket, F_OK), -1);
}

/* ---- credentials (root only) ------------------------------------------------- */

enum { CHILD_REPLY = 0, CHILD_EACCES = 10, CHILD_OTHER = 20 };

/* The child's verdict goes through a pipe, not its exit status (which a
 * leak checker may replace with its own). */
static void verdict(int out, int code)
{
	unsigned char c = (unsigned char)code;

	if (write(out, &c, 1) != 1)
		_exit(1);
	_exit(0);
}

/* Who the client becomes: uid, gid and at most one supplementary group
 * (sup 0: none). */
struct who {
	uid_t uid;
	gid_t gid, sup;
};

/* In a child: become w, send status and compare the reply's last line with
 * want; the verdict goes to out. */
static void child(int out, const char *path, struct who w, const char *want)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct pollfd p;
	char buf[65536];
	size_t n = 0;
	ssize_t r;
	int fd;

	if (setgroups(w.sup ? 1 : 0, &w.sup) < 0 || setgid(w.gid) < 0 || setuid(w.uid) < 0)
		verdict(out, CHILD_OTHER + 1);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		verdict(out, errno == EACCES ? CHILD_EACCES : CHILD_OTHER + 2);
	if (write(fd, "status\n", 7) != 7)
		verdict(out, CHILD_OTHER + 3);
	shutdown(fd, SHUT_WR);
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	while (n < sizeof(buf) - 1 && poll(&p, 1, 5000) > 0 &&
	       (r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	if (!ends_with(buf, want)) {
		fprintf(stderr, "child got: %s\n", buf);
		verdict(out, CHILD_OTHER + 4);
	}
	verdict(out, CHILD_REPLY);
}

static int as_client(struct fx *f, struct who w, const char *want)
{
	uint64_t end = ms_now() + 5000;
	unsigned char code = 255;
	int fds[2], st = 0;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		child(fds[1], f->n->cfg->control_socket, w, want);
	}
	close(fds[1]);
	while (waitpid(pid, &st, WNOHANG) == 0) {
		assert_true(ms_now() < end);
		pump(f, 1);
	}
	assert_int_equal(read(fds[0], &code, 1), 1);
	close(fds[0]);
	return code;
}

static int as_user(struct fx *f, uid_t uid, gid_t gid, const char *want)
{
	return as_client(f, (struct who){ uid, gid, 0 }, want);
}

static void test_ctl_server_credentials(void **state)
{
	struct fx *f = *state;
	const char *path;
	char want[128];
	struct stat st;
	struct group *g = getgrgid(65534);

	if (geteuid() != 0 || !g)
		skip();
	assert_int_equal(chmod(f->dir, 0777), 0);
	serve(f);
	path = f->n->cfg->control_socket;
	/* no control.group: mode 0660 root:root keeps nobody out at connect() */
	assert_int_equal(as_user(f, 65534, 65534, "ok\n"), CHILD_EACCES);
	/* and with the mode opened up, SO_PEERCRED still does */
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(as_user(f, 65534, 65534,
				 "error permission denied: not root (no control.group is "
				 "configured)\n"), CHILD_REPLY);
	sn_ctl_stop(f->n);
	pump(f, 10);

	/* control.group = nobody's group: the socket is root:<group> 0660 */
	f->n->cfg->control_group = sn_arena_strdup(&f->a, g->gr_name);
	if (sn_ctl_start(f->n, want, sizeof(want)) < 0)
		fail_msg("%s", want);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_gid, 65534);
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(as_user(f, 65534, 65534, "\nok\n"), CHILD_REPLY);
	/* what counts is the process's groups, not the user database: nobody's
	 * passwd entry names the group, but this process runs without it */
	assert_int_equal(chmod(path, 0666), 0);
	snprintf(want, sizeof(want), "error permission denied: not root and not in group %s\n",
		 g->gr_name);
	assert_int_equal(as_user(f, 65534, 1, want), CHILD_REPLY);
	/* a user that is not in the group */
	assert_int_equal(as_user(f, 1, 1, want), CHILD_REPLY);
}

/* A client in the control group by a supplementary group only, as the
 * kernel reports it (SO_PEERGROUPS), is let in; without it, it is not. */
static void test_ctl_server_supplementary_group(void **state)
{
	struct fx *f = *state;
	struct group *g = getgrgid(65534);
	char want[160];

	if (geteuid() != 0 || !g)
		skip();
	assert_int_equal(chmod(f->dir, 0777), 0);
	f->n->cfg->control_group = sn_arena_strdup(&f->a, g->gr_name);
	serve(f);
	assert_int_equal(chmod(f->n->cfg->control_socket, 0666), 0);
	assert_int_equal(as_client(f, (struct who){ 1, 1, 65534 }, "\nok\n"), CHILD_REPLY);
	snprintf(want, sizeof(want), "error permission denied: not root and not in group %s\n",
		 g->gr_name);
	assert_int_equal(as_client(f, (struct who){ 1, 1, 2 }, want), CHILD_REPLY);
	assert_int_equal(as_client(f, (struct who){ 65534, 2, 3 }, want), CHILD_REPLY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_ctl_parse_words),
		T(test_ctl_parse_limits),
		T(test_ctl_exec_errors),
		T(test_ctl_exec_garbage),
		cmocka_unit_test(test_ctl_units),
		T(test_ctl_status_text),
		T(test_ctl_status_json),
		T(test_ctl_status_selected),
		T(test_ctl_json_escapes),
		T(test_ctl_peers),
		T(test_ctl_metrics),
		T(test_ctl_plugin_counters),
		T(test_ctl_policy_list),
		T(test_ctl_policy_add_del),
		T(test_ctl_policy_replace),
		T(test_ctl_reload),
		T(test_ctl_server_commands),
		T(test_ctl_server_limits),
		T(test_ctl_server_hangup),
		T(test_ctl_server_timeout),
		T(test_ctl_server_max_conns),
		T(test_ctl_server_socket_file),
		T(test_ctl_server_unknown_group),
		T(test_ctl_server_credentials),
		T(test_ctl_server_supplementary_group),
		T(test_ctl_server_unsafe_dir),
		T(test_ctl_server_socket_mode),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
