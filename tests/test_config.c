/* SPDX-License-Identifier: MIT */
/*
 * tests/test_config.c: the config loader (core/config*.c, core/prefix.c).
 * Every rule is checked with its exact message, file:line:col included;
 * the conf/ examples load from a private copy (YAML and JSON alike), and
 * garbage never crashes the loader.
 */
#include <errno.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "config.h"
#include "tmpfiles.h"

#define KEY_HUB "cZ3k4qThZTPxNA/DxpsHshSz01z5SPDNGir2jbG082o="
#define KEY_A "X0O52YIg4foGNf2e77FDInwXWpumYTKdInIHceQN+yE="
#define KEY_B "i3mQC/pZrQBDtFUxe7U6xEfvJVoIKs85ZRo4Byd0mFs="
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Line numbers in the comments: the expected messages depend on them. */
static const char HUB[] =
	"node:\n"                              /* 1 */
	"  id: 1\n"                            /* 2 */
	"  role: hub\n"                        /* 3 */
	"  private_key_file: keys/hub.key\n"   /* 4 */
	"  listen: \"0.0.0.0:51820\"\n"        /* 5 */
	"overlay:\n"                           /* 6 */
	"  subnet: 10.0.0.0/24\n"              /* 7 */
	"  address: 10.0.0.1\n"                /* 8 */
	"  mtu: 1420\n"                        /* 9 */
	"peers:\n"                             /* 10 */
	"  - id: 2\n"                          /* 11 */
	"    public_key: " KEY_A "\n"          /* 12 */
	"    address: 10.0.0.2\n"              /* 13 */
	"    routes: [192.168.1.0/24]\n"       /* 14 */
	"  - id: 3\n"                          /* 15 */
	"    public_key: " KEY_B "\n"          /* 16 */
	"    address: 10.0.0.3\n"              /* 17 */
	"    routes: [192.168.2.0/24]\n";      /* 18 */

static const char SPOKE[] =
	"node:\n"                              /* 1 */
	"  id: 2\n"                            /* 2 */
	"  role: spoke\n"                      /* 3 */
	"  private_key_file: keys/spoke-a.key\n" /* 4 */
	"overlay:\n"                           /* 5 */
	"  subnet: 10.0.0.0/24\n"              /* 6 */
	"  address: 10.0.0.2\n"                /* 7 */
	"  lans: [192.168.1.0/24]\n"           /* 8 */
	"hub:\n"                               /* 9 */
	"  id: 1\n"                            /* 10 */
	"  public_key: " KEY_HUB "\n"          /* 11 */
	"  endpoint: 172.31.2.1:51820\n"       /* 12 */
	"  routes: [192.168.2.0/24]\n";        /* 13 */

/* ---- helpers ----------------------------------------------------------- */

/* base with the first `from` replaced by `to`; from NULL appends to; with
 * cut, everything from `from` on is replaced. */
static char *edit(const char *base, const char *from, const char *to, bool cut)
{
	const char *at = from ? strstr(base, from) : base + strlen(base);
	size_t head, tail_len;
	char *out;

	assert_non_null(at);
	head = (size_t)(at - base);
	tail_len = cut || !from ? 0 : strlen(at + strlen(from));
	out = malloc(head + strlen(to) + tail_len + 1);
	assert_non_null(out);
	memcpy(out, base, head);
	strcpy(out + head, to);
	if (tail_len)
		strcat(out, at + strlen(from));
	return out;
}

static int load_text(const char *text, struct sn_config **c, char *err, size_t len)
{
	return sn_config_load_buffer("t.yaml", text, strlen(text), false, c, err, len);
}

static struct sn_config *load_ok(const char *text)
{
	struct sn_config *c = NULL;
	char err[512] = "";
	int rc = load_text(text, &c, err, sizeof(err));

	if (rc < 0)
		print_error("unexpected error: %s\n", err);
	assert_int_equal(rc, 0);
	assert_non_null(c);
	return c;
}

static void expect_err(const char *text, const char *want)
{
	struct sn_config *c = (struct sn_config *)1;
	char err[512] = "";
	int rc = load_text(text, &c, err, sizeof(err));

	assert_int_equal(rc, -EINVAL);
	assert_null(c);
	assert_string_equal(err, want);
}

static uint32_t ip(const char *s)
{
	uint32_t a = 0;

	assert_int_equal(sn_ipv4_parse(s, &a), 0);
	return a;
}

/* ---- error table ------------------------------------------------------- */

struct err_case {
	const char *base;
	const char *from;   /* NULL: append */
	const char *to;
	bool cut;
	const char *want;
};

#define POL "policy:\n  - {prefix: 192.168.0.0/16, "

static const struct err_case node_cases[] = {
	{ HUB, "id: 1\n", "id: 0\n", 0, "t.yaml:2:7: node.id: 0 is out of range (expected 1..4294967294)" },
	{ HUB, "id: 1\n", "id: 4294967295\n", 0, "t.yaml:2:7: node.id: 4294967295 is out of range (expected 1..4294967294)" },
	{ HUB, "id: 1\n", "id: 99999999999999999999\n", 0, "t.yaml:2:7: node.id: 99999999999999999999 is out of range (expected 1..4294967294)" },
	{ HUB, "id: 1\n", "id: abc\n", 0, "t.yaml:2:7: node.id: expected an integer 1..4294967294, got 'abc'" },
	{ HUB, "id: 1\n", "id: -1\n", 0, "t.yaml:2:7: node.id: expected an integer 1..4294967294, got '-1'" },
	{ HUB, "id: 1\n", "id: \"1\"\n", 0, "t.yaml:2:7: node.id: expected an integer 1..4294967294, got the string \"1\" (remove the quotes)" },
	{ HUB, "id: 1\n", "id: [1]\n", 0, "t.yaml:2:7: node.id: expected an integer 1..4294967294, got a list" },
	{ HUB, "id: 1\n", "id:\n", 0, "t.yaml:2:6: node.id: has no value (expected an integer 1..4294967294)" },
	{ HUB, "role: hub", "role: router", 0, "t.yaml:3:9: node.role: 'router' is not a role (expected hub or spoke)" },
	{ HUB, "  role: hub\n", "", 0, "t.yaml:2:3: node: missing required key 'role' (hub or spoke)" },
	{ HUB, "  private_key_file: keys/hub.key\n", "", 0, "t.yaml:2:3: node: missing required key 'private_key_file' (a file written by wg genkey)" },
	{ HUB, "role:", "rol:", 0, "t.yaml:3:3: node.rol: unknown key (did you mean 'role'?)" },
	{ HUB, "  role: hub\n", "  role: hub\n  rt_priority: 100\n", 0, "t.yaml:4:16: node.rt_priority: 100 is out of range (expected 0..99)" },
	{ HUB, "  role: hub\n", "  role: hub\n  rt_priority: -1\n", 0, "t.yaml:4:16: node.rt_priority: expected an integer 0..99, got '-1'" },
	{ HUB, "  role: hub\n", "  role: hub\n  slice_us: 50\n", 0, "t.yaml:4:13: node.slice_us: 50 us is shorter than the kernel takes (expected 0 for the kernel's default, or 100..100000 microseconds)" },
	{ HUB, "  role: hub\n", "  role: hub\n  colour: red\n", 0, "t.yaml:4:3: node.colour: unknown key (expected one of: id, role, private_key_file, listen, state_dir, user, slice_us, rt_priority)" },
	{ HUB, "  id: 1\n", "  id: 1\n  id: 5\n", 0, "t.yaml:3:3: node.id: duplicate key (first set at line 2)" },
	{ HUB, "  listen: \"0.0.0.0:51820\"\n", "", 0, "t.yaml:2:3: node: missing required key 'listen' (a hub listens on a fixed port, e.g. listen: \"0.0.0.0:51820\")" },
	{ HUB, "\"0.0.0.0:51820\"", "\":0\"", 0, "t.yaml:5:11: node.listen: a hub needs a fixed port, not 0 (e.g. \"0.0.0.0:51820\")" },
	{ HUB, "\"0.0.0.0:51820\"", "51820", 0, "t.yaml:5:11: node.listen: 51820 has no address part (did you mean \":51820\"?)" },
	{ HUB, "\"0.0.0.0:51820\"", "\"0.0.0.0:70000\"", 0, "t.yaml:5:11: node.listen: '0.0.0.0:70000' has a bad port (expected 0..65535)" },
	{ HUB, "  role: hub\n", "  role: hub\n  user: \"bad user\"\n", 0, "t.yaml:4:9: node.user: 'bad user' is not a user name (letters, digits, '_', '.' and '-', at most 32)" },
	{ HUB, "node:\n", "nodes:\n", 0, "t.yaml:1:1: nodes: unknown key (did you mean 'node'?)" },
	{ HUB, "node:\n", "\"no\\e[1mde\": 1\nnode:\n", 0, "t.yaml:1:1: no?[1mde: unknown key (expected one of: node, overlay, plugins, peers, peers_dir, hub, keepalive, aqm, policy, control, metrics)" },
	{ HUB, "node:\n  id: 1\n  role: hub\n  private_key_file: keys/hub.key\n  listen: \"0.0.0.0:51820\"\n", "node: 1\n", 0, "t.yaml:1:7: node: expected a mapping of key: value lines, got '1'" },
	{ HUB, "overlay:\n", "", 1, "t.yaml:1:1: missing required section 'overlay' (it holds subnet and address)" },
	{ HUB, "node:\n", "", 1, "t.yaml:1:1: the file is empty (expected the sections node: and overlay:)" },
	{ HUB, NULL, "node: {}\n", 0, "t.yaml:19:1: node: duplicate key (first set at line 1)" },
	{ HUB, NULL, "---\nnode: {}\n", 0, "t.yaml:19:1: a second YAML document (a config file holds one; remove the '---' line)" },
	{ HUB, "id: 1\n", "id: &x 1\n  user: *x\n", 0, "t.yaml:3:9: YAML aliases are not supported (write the value out in full)" },
};

#define LISTEN "\"0.0.0.0:51820\""
#define NOT_V4(h) "t.yaml:5:11: node.listen: '" h "' is not an IPv4 address (listen takes \"ADDRESS:PORT\" with an IPv4 address, or \":PORT\")"
#define BAD_PORT(v) "t.yaml:5:11: node.listen: '" v "' has a bad port (expected 0..65535)"
#define L64 "1111111111111111111111111111111111111111111111111111111111111111"

/* node.listen: never a truncated or half-read address. */
static const struct err_case listen_cases[] = {
	{ HUB, LISTEN, "\"192.168.100.1001:51820\"", 0, NOT_V4("192.168.100.1001") },
	{ HUB, LISTEN, "192.168.100.1001:51820", 0, NOT_V4("192.168.100.1001") },
	{ HUB, LISTEN, "\"1.2.3:5\"", 0, NOT_V4("1.2.3") },
	{ HUB, LISTEN, "\"1.2.3.4.5:5\"", 0, NOT_V4("1.2.3.4.5") },
	{ HUB, LISTEN, "\"256.1.1.1:5\"", 0, NOT_V4("256.1.1.1") },
	{ HUB, LISTEN, "\"1.2.3.4x:5\"", 0, NOT_V4("1.2.3.4x") },
	{ HUB, LISTEN, "\"1.2.3.4 :5\"", 0, NOT_V4("1.2.3.4 ") },
	{ HUB, LISTEN, "\" 1.2.3.4:5\"", 0, NOT_V4(" 1.2.3.4") },
	{ HUB, LISTEN, "\"01.2.3.4:5\"", 0, NOT_V4("01.2.3.4") },
	{ HUB, LISTEN, "\"1.2.3.4:5:6\"", 0, NOT_V4("1.2.3.4:5") },
	{ HUB, LISTEN, "\"hub.example.net:5\"", 0, NOT_V4("hub.example.net") },
	{ HUB, LISTEN, "\"" L64 "1.1:5\"", 0, NOT_V4(L64) },
	{ HUB, LISTEN, "\"1.2.3.4:51820x\"", 0, BAD_PORT("1.2.3.4:51820x") },
	{ HUB, LISTEN, "\"1.2.3.4:51820 \"", 0, BAD_PORT("1.2.3.4:51820 ") },
	{ HUB, LISTEN, "\"1.2.3.4:65536\"", 0, BAD_PORT("1.2.3.4:65536") },
	{ HUB, LISTEN, "\"1.2.3.4:99999\"", 0, BAD_PORT("1.2.3.4:99999") },
	{ HUB, LISTEN, "\"1.2.3.4:100000\"", 0, BAD_PORT("1.2.3.4:100000") },
	{ HUB, LISTEN, "\"1.2.3.4:-1\"", 0, BAD_PORT("1.2.3.4:-1") },
	{ HUB, LISTEN, "\"1.2.3.4:+5\"", 0, BAD_PORT("1.2.3.4:+5") },
	{ HUB, LISTEN, "\"1.2.3.4:051820\"", 0, BAD_PORT("1.2.3.4:051820") },
	{ HUB, LISTEN, "\"1.2.3.4:\"", 0, BAD_PORT("1.2.3.4:") },
	{ HUB, LISTEN, "\":\"", 0, BAD_PORT(":") },
	{ HUB, LISTEN, "\"1.2.3.4\"", 0, "t.yaml:5:11: node.listen: '1.2.3.4' has no port (expected \"ADDRESS:PORT\" or \":PORT\", e.g. \"0.0.0.0:51820\")" },
	{ HUB, LISTEN, "\"1.2.3.4:0\"", 0, "t.yaml:5:11: node.listen: a hub needs a fixed port, not 0 (e.g. \"0.0.0.0:51820\")" },
};

static const struct err_case overlay_cases[] = {
	{ HUB, "10.0.0.0/24", "10.0.0.1/24", 0, "t.yaml:7:11: overlay.subnet: 10.0.0.1/24 has host bits set (did you mean 10.0.0.0/24?)" },
	{ HUB, "10.0.0.0/24", "10.0.0.0", 0, "t.yaml:7:11: overlay.subnet: 10.0.0.0 has no prefix length (did you mean 10.0.0.0/32?)" },
	{ HUB, "10.0.0.0/24", "10.0.0.0/33", 0, "t.yaml:7:11: overlay.subnet: '10.0.0.0/33' has a bad prefix length (expected /0 to /32 without leading zeros)" },
	{ HUB, "10.0.0.0/24", "10.0.0.1/32", 0, "t.yaml:7:11: overlay.subnet: a /32 has room for one node only (use a shorter prefix such as /24)" },
	{ HUB, "10.0.0.0/24", "ten", 0, "t.yaml:7:11: overlay.subnet: 'ten' is not a prefix (expected ADDRESS/LENGTH, e.g. 192.168.1.0/24)" },
	{ HUB, "  subnet: 10.0.0.0/24\n", "", 0, "t.yaml:7:3: overlay: missing required key 'subnet' (the overlay prefix, e.g. 10.0.0.0/24)" },
	{ HUB, "address: 10.0.0.1\n", "address: 10.0.1.1\n", 0, "t.yaml:8:12: overlay.address: 10.0.1.1 is outside the overlay subnet 10.0.0.0/24 (overlay.subnet, line 7)" },
	{ HUB, "address: 10.0.0.1\n", "address: 10.0.0.0\n", 0, "t.yaml:8:12: overlay.address: 10.0.0.0 is the network address of 10.0.0.0/24 (use one from 10.0.0.1 to 10.0.0.254)" },
	{ HUB, "address: 10.0.0.1\n", "address: 10.0.0.255\n", 0, "t.yaml:8:12: overlay.address: 10.0.0.255 is the broadcast address of 10.0.0.0/24 (use one from 10.0.0.1 to 10.0.0.254)" },
	{ HUB, "address: 10.0.0.1\n", "address: 10.0.0.1/24\n", 0, "t.yaml:8:12: overlay.address: '10.0.0.1/24' is not an IPv4 address (write the address without /24)" },
	{ HUB, "address: 10.0.0.1\n", "address: 010.0.0.1\n", 0, "t.yaml:8:12: overlay.address: '010.0.0.1' is not an IPv4 address (expected a.b.c.d, e.g. 10.0.0.2)" },
	{ HUB, "mtu: 1420", "mtu: 100", 0, "t.yaml:9:8: overlay.mtu: 100 is out of range (expected 576..9000)" },
	{ HUB, "mtu: 1420", "mtu: 9001", 0, "t.yaml:9:8: overlay.mtu: 9001 is out of range (expected 576..9000)" },
	{ HUB, "mtu: 1420", "mtu: 1420.5", 0, "t.yaml:9:8: overlay.mtu: expected an integer 576..9000, got '1420.5'" },
	{ HUB, "mtu: 1420", "mtuu: 1420", 0, "t.yaml:9:3: overlay.mtuu: unknown key (did you mean 'mtu'?)" },
	{ HUB, "mtu: 1420", "MTU: 1420", 0, "t.yaml:9:3: overlay.MTU: unknown key (did you mean 'mtu'?)" },
	{ HUB, "mtu: 1420\n", "mtu: 1420\n  interface: subnetra0123456789\n", 0, "t.yaml:10:14: overlay.interface: 'subnetra0123456789' is not an interface name (1 to 15 letters, digits, '_', '.' or '-', e.g. subnetra0)" },
	{ HUB, "mtu: 1420\n", "mtu: 1420\n  interface: \"tun/0\"\n", 0, "t.yaml:10:14: overlay.interface: 'tun/0' is not an interface name (1 to 15 letters, digits, '_', '.' or '-', e.g. subnetra0)" },
	{ HUB, "mtu: 1420\n", "mtu: 1420\n  interface: subnetra0\nplugins: {os: darwin}\n", 0, "t.yaml:10:14: overlay.interface: 'subnetra0' is not a utun device name (macOS names them itself: utun for the first free one, or utunN, e.g. utun7)" },
	{ HUB, "mtu: 1420\n", "mtu: 1420\n  interface: utun07\nplugins: {os: darwin}\n", 0, "t.yaml:10:14: overlay.interface: 'utun07' is not a utun device name (macOS names them itself: utun for the first free one, or utunN, e.g. utun7)" },
	{ HUB, "mtu: 1420\n", "mtu: 1420\n  interface: utun65535\nplugins: {os: darwin}\n", 0, "t.yaml:10:14: overlay.interface: 'utun65535' is not a utun device name (macOS names them itself: utun for the first free one, or utunN, e.g. utun7)" },
	{ HUB, "mtu: 1420\n", "mtu: 1420\n  interface: utunx\nplugins: {os: darwin}\n", 0, "t.yaml:10:14: overlay.interface: 'utunx' is not a utun device name (macOS names them itself: utun for the first free one, or utunN, e.g. utun7)" },
	{ HUB, "mtu: 1420\n", "mtu: 1420\n  manage_routes: maybe\n", 0, "t.yaml:10:18: overlay.manage_routes: expected true or false, got 'maybe'" },
	{ HUB, "mtu: 1420\n", "mtu: 1420\n  manage_routes: \"true\"\n", 0, "t.yaml:10:18: overlay.manage_routes: expected true or false, got the string \"true\" (remove the quotes)" },
	{ HUB, "mtu: 1420\n", "mtu: 1420\n  lans: 192.168.5.0/24\n", 0, "t.yaml:10:9: overlay.lans: expected a list of prefixes such as [192.168.1.0/24], got '192.168.5.0/24' (write [192.168.5.0/24])" },
	{ HUB, "mtu: 1420\n", "mtu: 1420\n  lans: {a: 1}\n", 0, "t.yaml:10:9: overlay.lans: expected a list of prefixes such as [192.168.1.0/24], got a mapping" },
	{ HUB, "mtu: 1420\n", "mtu: 1420\n  lans: [10.0.0.0/16]\n", 0, "t.yaml:10:10: overlay.lans[0]: 10.0.0.0/16 overlaps the overlay subnet 10.0.0.0/24 (overlay.subnet, line 7); a LAN or route must lie outside it" },
	{ HUB, "mtu: 1420\n", "mtu: 1420\n  lans: [192.168.1.128/25]\n", 0, "t.yaml:15:14: peers[0].routes[0]: 192.168.1.0/24 overlaps 192.168.1.128/25 at overlay.lans[0] (line 10), which belongs to this node; a prefix can belong to one node only" },
	{ HUB, "mtu: 1420\n", "mtu: 1420\n  lans: [172.16.0.0/12, 172.16.0.0/12]\n", 0, "t.yaml:10:25: overlay.lans[1]: 172.16.0.0/12 is listed twice (also at overlay.lans[0], line 10)" },
};

static const struct err_case plugin_cases[] = {
	{ HUB, NULL, "plugins:\n  crypto: evil.so\n", 0, "t.yaml:20:11: plugins.crypto: 'evil.so' is not a plugin name (letters, digits and '_', e.g. raw_direct, or a path to the plugin's .so)" },
	{ HUB, NULL, "plugins:\n  options:\n    ./x.so: {a: 1}\n", 0, "t.yaml:21:5: plugins.options../x.so: './x.so' is not a plugin name (letters, digits and '_', e.g. raw_direct)" },
	{ HUB, NULL, "plugins:\n  egres: raw_direct\n", 0, "t.yaml:20:3: plugins.egres: unknown key (did you mean 'egress'?)" },
	{ HUB, NULL, "plugins:\n  options:\n    raw_direct: {batch: [1]}\n", 0, "t.yaml:21:25: plugins.options.raw_direct.batch: expected a single value, got a list" },
	{ HUB, NULL, "plugins:\n  options:\n    raw_direct: 5\n", 0, "t.yaml:21:17: plugins.options.raw_direct: expected a mapping of option: value lines, got '5'" },
	{ HUB, NULL, "plugins:\n  options:\n    raw_direct: {a: 1, a: 2}\n", 0, "t.yaml:21:24: plugins.options.raw_direct.a: duplicate key (first set at line 21)" },
	{ HUB, NULL, "plugins:\n", 0, "t.yaml:19:9: plugins: has no value (expected a mapping of key: value lines)" },
	{ HUB, NULL, "keepalive: 3601\n", 0, "t.yaml:19:12: keepalive: 3601 is out of range (expected 0..3600)" },
	{ HUB, NULL, "aqm: maybe\n", 0, "t.yaml:19:6: aqm: expected off, on, or { target_ms: 5, interval_ms: 100 }" },
	{ HUB, NULL, "aqm: { target_ms: 0 }\n", 0, "t.yaml:19:19: aqm.target_ms: '0' is not a time in milliseconds (expected a number above 0 and up to 10000, with at most three decimals, e.g. 5 or 0.5)" },
	{ HUB, NULL, "aqm: { target_ms: 0.0001 }\n", 0, "t.yaml:19:19: aqm.target_ms: '0.0001' is not a time in milliseconds (expected a number above 0 and up to 10000, with at most three decimals, e.g. 5 or 0.5)" },
	{ HUB, NULL, "aqm: { target_ms: 5. }\n", 0, "t.yaml:19:19: aqm.target_ms: '5.' is not a time in milliseconds (expected a number above 0 and up to 10000, with at most three decimals, e.g. 5 or 0.5)" },
	{ HUB, NULL, "aqm: { interval_ms: 10001 }\n", 0, "t.yaml:19:21: aqm.interval_ms: '10001' is not a time in milliseconds (expected a number above 0 and up to 10000, with at most three decimals, e.g. 5 or 0.5)" },
	{ HUB, NULL, "aqm: { target_ms: 0.499 }\n", 0, "t.yaml:19:19: aqm.target_ms: 0.499 ms is below 0.5 ms (expected 0.5 to 10000): a datagram waits that long in the socket for the packet loop to wake up even on an idle link, so CoDel would signal senders that do not queue" },
	{ HUB, NULL, "aqm: { target_ms: 0.001, interval_ms: 1 }\n", 0, "t.yaml:19:19: aqm.target_ms: 0.001 ms is below 0.5 ms (expected 0.5 to 10000): a datagram waits that long in the socket for the packet loop to wake up even on an idle link, so CoDel would signal senders that do not queue" },
	{ HUB, NULL, "aqm: { target_ms: 100, interval_ms: 100 }\n", 0, "t.yaml:19:6: aqm: target_ms (100000 us) must be shorter than interval_ms (100000 us): CoDel acts on a delay that lasted an interval (RFC 8289 suggests a target of 5-10 % of the interval)" },
	{ HUB, NULL, "aqm: { target: 5 }\n", 0, "t.yaml:19:8: aqm.target: unknown key (expected one of: target_ms, interval_ms)" },
	{ HUB, NULL, "control:\n  group: \"a b\"\n", 0, "t.yaml:20:10: control.group: 'a b' is not a group name (letters, digits, '_', '.' and '-', at most 32)" },
	{ HUB, NULL, "control:\n  socket: /run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\n", 0,
	  "t.yaml:20:11: control.socket: /run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock is 119 bytes long (a socket path holds at most 107; use a shorter one)" },
	{ HUB, NULL, "control: [a]\n", 0, "t.yaml:19:10: control: expected a mapping of key: value lines, got a list" },
	{ HUB, NULL, "metrics:\n  listen: \"127.0.0.1:0\"\n", 0, "t.yaml:20:11: metrics.listen: the metrics need a fixed port, not 0 (e.g. \"127.0.0.1:9586\")" },
	{ HUB, NULL, "metrics:\n  listen: 9586\n", 0, "t.yaml:20:11: metrics.listen: 9586 has no address part (did you mean \":9586\"?)" },
	{ HUB, NULL, "metrics:\n  listen: \"localhost:9586\"\n", 0, "t.yaml:20:11: metrics.listen: 'localhost' is not an IPv4 address (listen takes \"ADDRESS:PORT\" with an IPv4 address, or \":PORT\")" },
	{ HUB, NULL, "metrics:\n  port: 9586\n", 0, "t.yaml:20:3: metrics.port: unknown key (expected one of: listen)" },
	{ HUB, NULL, "metrics: {}\n", 0, "t.yaml:19:10: metrics: missing required key 'listen' (where GET /metrics is served, e.g. \"127.0.0.1:9586\")" },
};

static const struct err_case peer_cases[] = {
	{ HUB, "[192.168.2.0/24]", "[192.168.2.1/24]", 0, "t.yaml:18:14: peers[1].routes[0]: 192.168.2.1/24 has host bits set (did you mean 192.168.2.0/24?)" },
	{ HUB, "  - id: 2\n", "  - id: 1\n", 0, "t.yaml:11:9: peers[0].id: 1 is this node's own id (node.id, line 2); every node needs its own id" },
	{ HUB, "  - id: 3\n", "  - id: 2\n", 0, "t.yaml:15:9: peers[1].id: 2 is already the id of peers[0] (line 11); every node needs its own id" },
	{ HUB, "address: 10.0.0.2\n", "address: 10.0.0.1\n", 0, "t.yaml:13:14: peers[0].address: 10.0.0.1 is this node's own overlay address (overlay.address, line 8)" },
	{ HUB, "address: 10.0.0.3\n", "address: 10.0.0.2\n", 0, "t.yaml:17:14: peers[1].address: 10.0.0.2 is already the address of peers[0] (line 13)" },
	{ HUB, "address: 10.0.0.2\n", "address: 10.0.5.2\n", 0, "t.yaml:13:14: peers[0].address: 10.0.5.2 is outside the overlay subnet 10.0.0.0/24 (overlay.subnet, line 7)" },
	{ HUB, "    address: 10.0.0.2\n", "", 0, "t.yaml:11:5: peers[0]: missing required key 'address' (the spoke's overlay address, inside overlay.subnet)" },
	{ HUB, "    public_key: " KEY_A "\n", "", 0, "t.yaml:11:5: peers[0]: missing required key 'public_key' (the spoke's key from wg pubkey)" },
	{ HUB, KEY_A, "X0O52YIg4foGNf2e77FDInwXWpumYTKdInIHceQN+yE", 0, "t.yaml:12:17: peers[0].public_key: is 43 characters long (a key is 44 characters of base64, as printed by wg pubkey)" },
	{ HUB, KEY_A, "X0O52YIg4foGNf2e77FDInwXWpumYTKdInIHceQN!yE=", 0, "t.yaml:12:17: peers[0].public_key: is not valid base64 (a key is 44 characters of base64, as printed by wg pubkey)" },
	{ HUB, KEY_A, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 0, "t.yaml:12:17: peers[0].public_key: is all zeros (a key is 44 characters of base64, as printed by wg pubkey)" },
	{ HUB, KEY_B, KEY_A, 0, "t.yaml:16:17: peers[1].public_key: is the same key as peers[0].public_key (line 12); every node needs its own key pair" },
	{ HUB, "public_key: " KEY_A, "public-key: " KEY_A, 0, "t.yaml:12:5: peers[0].public-key: unknown key (did you mean 'public_key'?)" },
	{ HUB, "peers:\n", "peers: []\n", 1, "t.yaml:10:8: peers: a hub needs at least one peer (the list is empty)" },
	{ HUB, "peers:\n", "peers:\n  id: 2\n", 1, "t.yaml:11:3: peers: expected a list of spokes, got a mapping" },
	{ HUB, "peers:\n", "", 1, "t.yaml:1:1: missing required section 'peers' (a hub lists its spokes there)" },
	{ HUB, NULL, "hub:\n  id: 9\n", 0, "t.yaml:19:1: hub: not allowed on a hub (a hub lists its spokes under peers:)" },
	{ HUB, "[192.168.2.0/24]", "[192.168.0.0/16]", 0, "t.yaml:18:14: peers[1].routes[0]: 192.168.0.0/16 overlaps 192.168.1.0/24 at peers[0].routes[0] (line 14), which belongs to node 2; a prefix can belong to one node only" },
	{ HUB, "[192.168.2.0/24]", "[10.0.0.0/8]", 0, "t.yaml:18:14: peers[1].routes[0]: 10.0.0.0/8 overlaps the overlay subnet 10.0.0.0/24 (overlay.subnet, line 7); a LAN or route must lie outside it" },
	{ HUB, "[192.168.1.0/24]", "[192.168.1.0/24, 192.168.1.0/24]", 0, "t.yaml:14:30: peers[0].routes[1]: 192.168.1.0/24 is listed twice (also at peers[0].routes[0], line 14)" },
	{ HUB, "10.0.0.2\n", "10.0.0.2\n    endpoint: 1.2.3.4\n", 0, "t.yaml:14:15: peers[0].endpoint: '1.2.3.4' is not host:port (e.g. 203.0.113.1:51820)" },
	{ HUB, "10.0.0.2\n", "10.0.0.2\n    endpoint: 1.2.3.4:0\n", 0, "t.yaml:14:15: peers[0].endpoint: '1.2.3.4:0' has a bad port (expected 1..65535)" },
	{ HUB, "10.0.0.2\n", "10.0.0.2\n    endpoint: \"[::1]:51820\"\n", 0, "t.yaml:14:15: peers[0].endpoint: IPv6 endpoints are not supported in this release (use an IPv4 address or a host name)" },
	{ HUB, "10.0.0.2\n", "10.0.0.2\n    endpoint: bad_host!:1\n", 0, "t.yaml:14:15: peers[0].endpoint: 'bad_host!' is neither an IPv4 address nor a host name" },
	{ HUB, "10.0.0.2\n", "10.0.0.2\n    endpoint: 300.1.1.1:1\n", 0, "t.yaml:14:15: peers[0].endpoint: '300.1.1.1' is neither an IPv4 address nor a host name" },
	{ HUB, NULL, POL "action: forward}\n", 0, "t.yaml:20:5: policy[0]: missing required key 'peer' (action forward needs the id of a configured peer)" },
	{ HUB, NULL, POL "action: drop, peer: 2}\n", 0, "t.yaml:20:50: policy[0].peer: not allowed with action drop (remove it)" },
	{ HUB, NULL, POL "action: forward, peer: 9}\n", 0, "t.yaml:20:53: policy[0].peer: no configured peer has id 9 (configured: 2, 3)" },
	{ HUB, NULL, POL "action: reject}\n", 0, "t.yaml:20:38: policy[0].action: 'reject' is not an action (expected forward or drop)" },
	{ HUB, NULL, "policy:\n  - {prefix: 192.168.0.1/16, action: drop}\n", 0, "t.yaml:20:14: policy[0].prefix: 192.168.0.1/16 has host bits set (did you mean 192.168.0.0/16?)" },
	{ HUB, NULL, "policy:\n  - {action: drop}\n", 0, "t.yaml:20:5: policy[0]: missing required key 'prefix' (e.g. 192.168.2.0/24)" },
};

static const struct err_case spoke_cases[] = {
	{ SPOKE, NULL, "peers:\n  - id: 5\n", 0, "t.yaml:14:1: peers: not allowed on a spoke (a spoke has one peer, its hub: write it under hub:)" },
	{ SPOKE, "hub:\n", "", 1, "t.yaml:1:1: missing required section 'hub' (a spoke names its hub there: id, public_key, endpoint)" },
	{ SPOKE, "  endpoint: 172.31.2.1:51820\n", "", 0, "t.yaml:10:3: hub: missing required key 'endpoint' (where the hub listens, e.g. 203.0.113.1:51820)" },
	{ SPOKE, "hub:\n  id: 1\n", "hub:\n  id: 2\n", 0, "t.yaml:10:7: hub.id: 2 is this node's own id (node.id, line 2); every node needs its own id" },
	{ SPOKE, "[192.168.2.0/24]", "[192.168.0.0/16]", 0, "t.yaml:13:12: hub.routes[0]: 192.168.0.0/16 overlaps 192.168.1.0/24 at overlay.lans[0] (line 8), which belongs to this node; a prefix can belong to one node only" },
	{ SPOKE, NULL, "  address: 10.0.0.2\n", 0, "t.yaml:14:12: hub.address: 10.0.0.2 is this node's own overlay address (overlay.address, line 7)" },
	{ SPOKE, "hub:\n", "hub:\n  - id: 1\n", 1, "t.yaml:10:3: hub: expected a mapping of key: value lines, got a list" },
	{ SPOKE, "[192.168.1.0/24]", "[10.0.0.0/25]", 0, "t.yaml:8:10: overlay.lans[0]: 10.0.0.0/25 overlaps the overlay subnet 10.0.0.0/24 (overlay.subnet, line 6); a LAN or route must lie outside it" },
	{ SPOKE, "172.31.2.1:51820", "172.31.2.1", 0, "t.yaml:12:13: hub.endpoint: '172.31.2.1' is not host:port (e.g. 203.0.113.1:51820)" },
	{ SPOKE, "  id: 2\n", "\tid: 2\n", 0, "t.yaml:2:1: syntax error: found character that cannot start any token (while scanning for the next token at line 2 column 1; YAML does not allow tabs here, indent with spaces)" },
	{ SPOKE, "[192.168.2.0/24]", "[192.168.2.0/24", 0, "t.yaml:14:1: syntax error: did not find expected ',' or ']' (while parsing a flow sequence at line 13 column 11)" },
	{ SPOKE, "  role: spoke\n", "  role: spoke\n roles: x\n", 0, "t.yaml:4:2: syntax error: did not find expected key (while parsing a block mapping at line 1 column 1)" },
};

static void run_cases(const struct err_case *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char *text = edit(t[i].base, t[i].from, t[i].to, t[i].cut);

		print_message("case: %s\n", t[i].want);
		expect_err(text, t[i].want);
		free(text);
	}
}

static void test_config_node_errors(void **state)
{
	run_cases(node_cases, N(node_cases));
}

static void test_config_listen_errors(void **state)
{
	run_cases(listen_cases, N(listen_cases));
}

/* The bounds that are fine, and what they mean. */
static void test_config_listen_accepts(void **state)
{
	static const struct { const char *text; uint8_t ip[4]; uint16_t port; } ok[] = {
		{ "\"0.0.0.0:51820\"", { 0, 0, 0, 0 }, 51820 },
		{ "\":1\"", { 0, 0, 0, 0 }, 1 },
		{ "\":65535\"", { 0, 0, 0, 0 }, 65535 },
		{ "\"255.255.255.255:65535\"", { 255, 255, 255, 255 }, 65535 },
		{ "\"192.168.100.100:51820\"", { 192, 168, 100, 100 }, 51820 },
		{ "10.0.0.1:7", { 10, 0, 0, 1 }, 7 },
	};

	for (size_t i = 0; i < N(ok); i++) {
		char *text = edit(HUB, LISTEN, ok[i].text, false);
		struct sn_config *c = load_ok(text);

		assert_int_equal(c->listen.family, SN_AF_INET);
		assert_memory_equal(c->listen.ip, ok[i].ip, 4);
		assert_int_equal(c->listen.port, ok[i].port);
		sn_config_free(c);
		free(text);
	}
}

static void test_config_overlay_errors(void **state)
{
	run_cases(overlay_cases, N(overlay_cases));
}

static void test_config_plugin_keepalive_control_errors(void **state)
{
	run_cases(plugin_cases, N(plugin_cases));
}

static void test_config_peer_and_policy_errors(void **state)
{
	run_cases(peer_cases, N(peer_cases));
}

static void test_config_spoke_and_syntax_errors(void **state)
{
	run_cases(spoke_cases, N(spoke_cases));
}

/* ---- values, defaults and has bits ------------------------------------- */

/* aqm: off, on, and times in milliseconds with up to three decimals. */
static void test_config_aqm_values(void **state)
{
	static const struct {
		const char *text;
		bool on;
		uint32_t target, interval;
	} cases[] = {
		{ "aqm: off\n", false, 5000, 100000 },
		{ "aqm: false\n", false, 5000, 100000 },
		{ "aqm: on\n", true, 5000, 100000 },
		{ "aqm: { target_ms: 1, interval_ms: 20 }\n", true, 1000, 20000 },
		{ "aqm: { target_ms: 0.5 }\n", true, 500, 100000 },
		{ "aqm: { target_ms: 2.125, interval_ms: 50.5 }\n", true, 2125, 50500 },
		{ "aqm: { interval_ms: 10000 }\n", true, 5000, 10000000 },
	};

	for (size_t i = 0; i < N(cases); i++) {
		char *t = edit(HUB, NULL, cases[i].text, false);
		struct sn_config *c = load_ok(t);

		assert_int_equal(c->aqm_on, cases[i].on);
		assert_int_equal(c->aqm_target_us, cases[i].target);
		assert_int_equal(c->aqm_interval_us, cases[i].interval);
		assert_true(c->has & SN_CONF_HAS_AQM);
		sn_config_free(c);
		free(t);
	}
}

/* node.rt_priority: 0 (none, the default) or a SCHED_FIFO priority 1..99. */
static void test_config_rt_priority_values(void **state)
{
	static const struct {
		const char *text;
		uint32_t prio;
	} cases[] = {
		{ "  role: hub\n", 0 },
		{ "  role: hub\n  rt_priority: 0\n", 0 },
		{ "  role: hub\n  rt_priority: 1\n", 1 },
		{ "  role: hub\n  rt_priority: 10\n", 10 },
		{ "  role: hub\n  rt_priority: 99\n", 99 },
	};

	for (size_t i = 0; i < N(cases); i++) {
		char *t = edit(HUB, "  role: hub\n", cases[i].text, false);
		struct sn_config *c = load_ok(t);

		assert_int_equal(c->rt_priority, cases[i].prio);
		sn_config_free(c);
		free(t);
	}
}

/* node.slice_us: 0 (the kernel's), 100..100000, default SN_CONF_DEFAULT_SLICE_US. */
static void test_config_slice_values(void **state)
{
	static const struct {
		const char *text;
		uint32_t us;
		bool has;
	} cases[] = {
		{ "  role: hub\n", SN_CONF_DEFAULT_SLICE_US, false },
		{ "  role: hub\n  slice_us: 0\n", 0, true },
		{ "  role: hub\n  slice_us: 100\n", 100, true },
		{ "  role: hub\n  slice_us: 3000\n", 3000, true },
		{ "  role: hub\n  slice_us: 100000\n", 100000, true },
	};

	for (size_t i = 0; i < N(cases); i++) {
		char *t = edit(HUB, "  role: hub\n", cases[i].text, false);
		struct sn_config *c = load_ok(t);

		assert_int_equal(c->slice_us, cases[i].us);
		assert_int_equal(!!(c->has & SN_CONF_HAS_SLICE), cases[i].has);
		sn_config_free(c);
		free(t);
	}
}

static void test_config_defaults_applied(void **state)
{
	struct sn_config *c = load_ok(SPOKE);
	const struct sn_conf_peer *h;

	assert_int_equal(c->has, 0);
	assert_int_equal(c->node_id, 2);
	assert_int_equal(c->role, SN_ROLE_SPOKE);
	assert_int_equal(c->mtu, SN_CONF_DEFAULT_MTU);
	assert_int_equal(c->keepalive, SN_CONF_DEFAULT_KEEPALIVE);
	assert_true(c->aqm_on);
	assert_int_equal(c->aqm_target_us, 5000);
	assert_int_equal(c->aqm_interval_us, 100000);
	assert_string_equal(c->ifname, SN_CONF_DEFAULT_IFNAME);
	assert_string_equal(c->state_dir, SN_CONF_DEFAULT_STATE_DIR);
	assert_string_equal(c->control_socket, SN_CONF_DEFAULT_SOCKET);
	assert_string_equal(c->os, SN_CONF_DEFAULT_OS);
	assert_string_equal(c->crypto, SN_CONF_DEFAULT_CRYPTO);
	assert_string_equal(c->egress, SN_CONF_DEFAULT_EGRESS);
	assert_true(c->manage_routes);
	assert_null(c->user);
	assert_null(c->control_group);
	assert_null(c->plugin_dir);
	assert_int_equal(c->listen.family, SN_AF_NONE);
	assert_int_equal(c->listen.port, 0);
	assert_int_equal(c->n_rules, 0);
	assert_int_equal(c->n_plugin_opts, 0);
	assert_int_equal(c->n_lans, 1);
	assert_int_equal(c->lans[0].addr, ip("192.168.1.0"));
	assert_int_equal(c->lans[0].len, 24);
	assert_int_equal(c->subnet.addr, ip("10.0.0.0"));
	assert_int_equal(c->address, ip("10.0.0.2"));
	assert_int_equal(c->n_peers, 1);
	h = sn_config_peer(c, 1);
	assert_ptr_equal(h, &c->peers[0]);
	assert_null(sn_config_peer(c, 2));
	assert_int_equal(h->has, SN_PEER_HAS_ENDPOINT);
	assert_string_equal(h->name, "peer-1");
	assert_string_equal(h->key_path, "hub");
	assert_string_equal(h->endpoint_text, "172.31.2.1:51820");
	assert_int_equal(h->endpoint.family, SN_AF_INET);
	assert_int_equal(h->endpoint.port, 51820);
	assert_memory_equal(h->endpoint.ip, "\xac\x1f\x02\x01", 4);
	assert_int_equal(h->n_routes, 1);
	assert_int_equal(h->routes[0].addr, ip("192.168.2.0"));
	assert_int_equal(h->loc.line, 10);
	assert_int_equal(h->loc.column, 3);
	sn_config_free(c);
}

/* With the darwin OS plugin the interface is a utun device macOS names:
 * "utun" (any free unit) or "utunN"; elsewhere utun is a name like any. */
static void test_config_darwin_takes_utun_names(void **state)
{
	static const char *const names[] = {"utun", "utun0", "utun7", "utun65534"};
	struct sn_config *c;
	char *text;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char to[128];

		snprintf(to, sizeof(to), "mtu: 1420\n  interface: %s\nplugins: {os: darwin}\n",
			 names[i]);
		text = edit(HUB, "mtu: 1420\n", to, false);
		c = load_ok(text);
		assert_string_equal(c->os, "darwin");
		assert_string_equal(c->ifname, names[i]);
		sn_config_free(c);
		free(text);
	}
	text = edit(HUB, "mtu: 1420\n", "mtu: 1420\n  interface: utun\nplugins: {os: linux}\n",
		    false);
	c = load_ok(text);
	assert_string_equal(c->ifname, "utun");
	sn_config_free(c);
	free(text);
}

static const char FULL_EXTRA[] =
	"  state_dir: /var/lib/sn\n"
	"  user: nobody\n"
	"  listen: \"192.0.2.1:0\"\n"
	"overlay:\n"
	"  subnet: 10.0.0.0/24\n"
	"  address: 10.0.0.2\n"
	"  mtu: 576\n"
	"  interface: sn.test-0_1\n"
	"  manage_routes: false\n"
	"  lans: []\n"
	"plugins:\n"
	"  directory: ./plugins\n"
	"  os: linux\n"
	"  crypto: chacha\n"
	"  egress: my_egress\n"
	"  options:\n"
	"    raw_direct: {batch: 32, busy_poll: true}\n"
	"    my_egress: {}\n"
	"hub:\n"
	"  id: 4294967294\n"
	"  name: the-hub\n"
	"  public_key: " KEY_HUB "\n"
	"  endpoint: localhost:9\n"
	"  address: 10.0.0.1\n"
	"  routes: []\n"
	"keepalive: 0\n"
	"policy:\n"
	"  - {prefix: 0.0.0.0/0, action: forward, peer: 4294967294}\n"
	"  - prefix: 192.168.9.0/24\n"
	"    action: drop\n"
	"control:\n"
	"  socket: sock/s.sock\n"
	"  group: wheel\n"
	"metrics:\n"
	"  listen: \"127.0.0.1:9586\"\n";

/* A plugin chosen by path: resolved against the config's directory; its
 * options go under the name it declares (core/plugin_opts.c). Where each
 * choice stands is kept for the loader's messages. */
static void test_config_plugin_path(void **state)
{
	char *text = edit(HUB, NULL, "plugins:\n  egress: ../mine/egress_x.so\n  crypto: chacha\n"
			  "  options:\n    x: {a: 1}\n", true);
	struct sn_config *c = load_ok(text);
	const char *tail = "/../mine/egress_x.so";

	free(text);
	assert_true(c->egress[0] == '/');
	assert_true(strlen(c->egress) > strlen(tail));
	assert_string_equal(c->egress + strlen(c->egress) - strlen(tail), tail);
	assert_int_equal(c->egress_at.line, 20);
	assert_int_equal(c->egress_at.column, 11);
	assert_int_equal(c->crypto_at.line, 21);
	assert_int_equal(c->os_at.line, 0); /* the default */
	assert_int_equal(c->plugin_opts[0].loc.line, 23);
	assert_int_equal(c->plugin_opts[0].loc.column, 5);
	sn_config_free(c);
}

static void test_config_has_bits_and_values(void **state)
{
	char *text = edit(SPOKE, "overlay:\n", FULL_EXTRA, true);
	struct sn_config *c = load_ok(text);
	const struct sn_conf_plugin_opts *o;

	free(text);
	assert_int_equal(c->has, SN_CONF_HAS_LISTEN | SN_CONF_HAS_MTU | SN_CONF_HAS_KEEPALIVE |
					 SN_CONF_HAS_IFNAME | SN_CONF_HAS_STATE_DIR | SN_CONF_HAS_SOCKET |
					 SN_CONF_HAS_GROUP | SN_CONF_HAS_PLUGIN_DIR | SN_CONF_HAS_USER |
					 SN_CONF_HAS_METRICS | SN_CONF_HAS_CRYPTO);
	assert_int_equal(c->metrics_listen.family, SN_AF_INET);
	assert_int_equal(c->metrics_listen.port, 9586);
	assert_memory_equal(c->metrics_listen.ip, "\x7f\x00\x00\x01", 4);
	assert_int_equal(c->keepalive, 0);
	assert_int_equal(c->mtu, 576);
	assert_int_equal(c->listen.family, SN_AF_INET);
	assert_int_equal(c->listen.port, 0);
	assert_memory_equal(c->listen.ip, "\xc0\x00\x02\x01", 4);
	assert_string_equal(c->state_dir, "/var/lib/sn");
	assert_string_equal(c->user, "nobody");
	assert_string_equal(c->ifname, "sn.test-0_1");
	assert_false(c->manage_routes);
	assert_int_equal(c->n_lans, 0);
	assert_string_equal(c->egress, "my_egress");
	assert_string_equal(c->crypto, "chacha");
	assert_int_equal(c->n_plugin_opts, 2);
	o = sn_config_plugin_opts(c, "raw_direct");
	assert_non_null(o);
	assert_int_equal(o->n, 2);
	assert_string_equal(o->keys[0], "batch");
	assert_string_equal(o->values[0], "32");
	assert_string_equal(o->keys[1], "busy_poll");
	assert_string_equal(o->values[1], "true");
	assert_int_equal(sn_config_plugin_opts(c, "my_egress")->n, 0);
	assert_null(sn_config_plugin_opts(c, "chacha"));
	assert_int_equal(c->peers[0].has, SN_PEER_HAS_ENDPOINT | SN_PEER_HAS_ADDRESS | SN_PEER_HAS_NAME);
	assert_int_equal(c->peers[0].id, 4294967294u);
	assert_string_equal(c->peers[0].name, "the-hub");
	assert_int_equal(c->peers[0].address, ip("10.0.0.1"));
	assert_memory_equal(c->peers[0].endpoint.ip, "\x7f\x00\x00\x01", 4);
	assert_int_equal(c->peers[0].endpoint.port, 9);
	assert_int_equal(c->n_rules, 2);
	assert_int_equal(c->rules[0].action, SN_ACT_FORWARD);
	assert_int_equal(c->rules[0].peer_id, 4294967294u);
	assert_int_equal(c->rules[0].prefix.len, 0);
	assert_int_equal(c->rules[1].action, SN_ACT_DROP);
	assert_int_equal(c->rules[1].prefix.addr, ip("192.168.9.0"));
	assert_int_equal(c->rules[1].loc.line, 33);
	assert_string_equal(c->control_group, "wheel");
	sn_config_free(c);
}

static void test_config_relative_paths(void **state)
{
	static const char *names[][2] = {
		{ "/etc/subnetra/hub.yaml", "/etc/subnetra/keys/hub.key" },
		{ "/hub.yaml", "/keys/hub.key" },
	};
	struct sn_config *c;
	char err[256], cwd[4096], want[4200];
	char *text = edit(HUB, "keys/hub.key", "./keys/hub.key", false);
	size_t i;

	for (i = 0; i < N(names); i++) {
		assert_int_equal(sn_config_load_buffer(names[i][0], text, strlen(text), false, &c,
						       err, sizeof(err)), 0);
		assert_string_equal(c->path, names[i][0]);
		assert_string_equal(c->private_key_file, names[i][1]);
		sn_config_free(c);
	}
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	c = load_ok(text);
	snprintf(want, sizeof(want), "%s/keys/hub.key", cwd);
	assert_string_equal(c->private_key_file, want);
	sn_config_free(c);
	free(text);
	text = edit(HUB, "keys/hub.key", "/abs/k", false);
	c = load_ok(text);
	assert_string_equal(c->private_key_file, "/abs/k");
	sn_config_free(c);
	free(text);
}

static void test_config_json_same_as_yaml(void **state)
{
	static const char json[] =
		"{\"node\": {\"id\": 2, \"role\": \"spoke\", \"private_key_file\": \"keys/spoke-a.key\"},\n"
		" \"overlay\": {\"subnet\": \"10.0.0.0/24\", \"address\": \"10.0.0.2\",\n"
		"             \"lans\": [\"192.168.1.0/24\"]},\n"
		" \"hub\": {\"id\": 1, \"public_key\": \"" KEY_HUB "\",\n"
		"         \"endpoint\": \"172.31.2.1:51820\", \"routes\": [\"192.168.2.0/24\"]}}\n";
	static const char bad1[] = "{\"node\": {\"id\": \"2\"}, \"overlay\": {}}";
	static const char bad2[] = "{\"node\": {\"id\": 2,,}}";
	struct sn_config *c = NULL;
	char err[256];

	assert_int_equal(sn_config_load_buffer("t.json", json, strlen(json), false, &c, err,
					       sizeof(err)), 0);
	assert_int_equal(c->peers[0].endpoint.port, 51820);
	assert_int_equal(c->n_lans, 1);
	sn_config_free(c);
	assert_int_equal(sn_config_load_buffer("t.json", bad1, strlen(bad1), false, &c, err,
					       sizeof(err)), -EINVAL);
	assert_string_equal(err, "t.json:1:17: node.id: expected an integer 1..4294967294, got the string \"2\" (remove the quotes)");
	assert_int_equal(sn_config_load_buffer("t.json", bad2, strlen(bad2), false, &c, err,
					       sizeof(err)), -EINVAL);
	assert_string_equal(err, "t.json:1:19: invalid JSON: expected a member name in double quotes, got ','");
}

/* ---- prefixes and addresses -------------------------------------------- */

static void test_config_ipv4_parse_strict(void **state)
{
	static const char *bad[] = { "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4 ",
				     " 1.2.3.4", "1..2.3", "1.2.3.4/32", "a.b.c.d", "1.2.3.-4",
				     "1.2.3.0004", "4294967295" };
	uint32_t a = 7;
	size_t i;

	for (i = 0; i < N(bad); i++)
		assert_int_equal(sn_ipv4_parse(bad[i], &a), -EINVAL);
	assert_int_equal(a, 7);
	assert_int_equal(sn_ipv4_parse(NULL, &a), -EINVAL);
	assert_int_equal(sn_ipv4_parse("0.0.0.0", &a), 0);
	assert_int_equal(a, 0);
	assert_int_equal(sn_ipv4_parse("255.255.255.255", &a), 0);
	assert_int_equal(a, 0xffffffffu);
	assert_int_equal(sn_ipv4_parse("10.20.30.40", &a), 0);
	assert_int_equal(a, 0x0a141e28u);
}

static void test_config_prefix_parse_strict(void **state)
{
	static const struct {
		const char *in, *err;
	} t[] = {
		{ "10.0.0.0/8", NULL },
		{ "0.0.0.0/0", NULL },
		{ "1.2.3.4/32", NULL },
		{ "192.168.1.1/24", "192.168.1.1/24 has host bits set (did you mean 192.168.1.0/24?)" },
		{ "1.0.0.0/0", "1.0.0.0/0 has host bits set (did you mean 0.0.0.0/0?)" },
		{ "10.0.0.1", "10.0.0.1 has no prefix length (did you mean 10.0.0.1/32?)" },
		{ "10.0.0.0/33", "'10.0.0.0/33' has a bad prefix length (expected /0 to /32 without leading zeros)" },
		{ "10.0.0.0/024", "'10.0.0.0/024' has a bad prefix length (expected /0 to /32 without leading zeros)" },
		{ "10.0.0.0/", "'10.0.0.0/' has a bad prefix length (expected /0 to /32 without leading zeros)" },
		{ "10.0.0.0/8x", "'10.0.0.0/8x' has a bad prefix length (expected /0 to /32 without leading zeros)" },
		{ "10.0.0.0 /8", "'10.0.0.0 /8' is not a prefix (expected ADDRESS/LENGTH, e.g. 192.168.1.0/24)" },
		{ "010.0.0.0/8", "'010.0.0.0/8' is not a prefix (expected ADDRESS/LENGTH, e.g. 192.168.1.0/24)" },
		{ "", "'' is not a prefix (expected ADDRESS/LENGTH, e.g. 192.168.1.0/24)" },
	};
	struct sn_prefix p;
	char err[128], buf[20];
	size_t i;

	for (i = 0; i < N(t); i++) {
		err[0] = '\0';
		if (!t[i].err) {
			assert_int_equal(sn_prefix_parse(t[i].in, &p, err, sizeof(err)), 0);
			assert_string_equal(sn_prefix_str(&p, buf, sizeof(buf)), t[i].in);
			continue;
		}
		assert_int_equal(sn_prefix_parse(t[i].in, &p, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, t[i].err);
	}
	assert_int_equal(sn_prefix_parse("255.255.255.255/32", &p, NULL, 0), 0);
	assert_int_equal(p.addr, 0xffffffffu);
	assert_int_equal(p.len, 32);
	assert_string_equal(sn_prefix_str(&p, buf, sizeof(buf)), "255.255.255.255/32");
	assert_int_equal(sn_prefix_parse("1.2.3.5/31", &p, NULL, 0), -EINVAL);
}

/* ---- the conf/ examples in a private copy ------------------------------ */

static const char *const examples[] = { "hub", "spoke-a", "spoke-b" };
static const char *const key_files[] = { "hub.key", "spoke-a.key", "spoke-b.key" };

struct tmp {
	char dir[64];
};

static int tmp_setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));
	char from[4096], to[256];
	size_t i;

	if (!t)
		return -1;
	strcpy(t->dir, "/tmp/sn-test-config-XXXXXX");
	tf_dir(t->dir, 0700);
	for (i = 0; i < N(examples); i++) {
		const char *ext[] = { "yaml", "json" };

		for (size_t e = 0; e < 2; e++) {
			snprintf(from, sizeof(from), "%s/conf/%s.%s", SN_TEST_SOURCE_DIR, examples[i], ext[e]);
			snprintf(to, sizeof(to), "%s/%s.%s", t->dir, examples[i], ext[e]);
			tf_copy(from, to, 0644);
		}
		tf_key(t->dir, key_files[i]);
	}
	*state = t;
	return 0;
}

static int tmp_teardown(void **state)
{
	struct tmp *t = *state;

	tf_rmtree(t->dir);
	free(t);
	return 0;
}

static struct sn_config *load_file_ok(const struct tmp *t, const char *name)
{
	struct sn_config *c = NULL;
	char path[256], err[512] = "";
	int rc;

	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	rc = sn_config_load(path, &c, err, sizeof(err));
	if (rc < 0)
		print_error("%s\n", err);
	assert_int_equal(rc, 0);
	return c;
}

/* Loads dir/name and expects "dir/name:LINE:COL: rest", where LINE:COL is
 * where the value after the first `at` starts (with key_mode: where `at`
 * itself starts, spaces skipped). */
static void expect_file_err(const struct tmp *t, const char *name, const char *at, bool key_mode,
			    const char *rest, int want_rc)
{
	struct sn_config *c = NULL;
	char path[256], text[65536], want[1024], err[1024] = "";
	const char *v, *line = NULL, *q;
	unsigned ln = 0;

	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	tf_read(path, text, sizeof(text));
	v = strstr(text, at);
	assert_non_null(v);
	v += key_mode ? 0 : strlen(at);
	v += strspn(v, " \n");
	for (q = text; q && q <= v; q = strchr(q, '\n'), q = q ? q + 1 : NULL) {
		line = q;
		ln++;
	}
	snprintf(want, sizeof(want), "%s:%u:%u: %s", path, ln, (unsigned)(v - line + 1), rest);
	assert_int_equal(sn_config_load(path, &c, err, sizeof(err)), want_rc);
	assert_null(c);
	assert_string_equal(err, want);
}

static void expect_same(const struct sn_config *a, const struct sn_config *b);

static void test_config_examples_load(void **state)
{
	const struct tmp *t = *state;
	struct sn_config *c;
	uint8_t key[32];
	char path[256], name[32], text[128];
	size_t n, i;

	for (i = 0; i < N(examples); i++) {
		snprintf(name, sizeof(name), "%s.yaml", examples[i]);
		c = load_file_ok(t, name);
		snprintf(path, sizeof(path), "%s/keys/%s", t->dir, key_files[i]);
		assert_string_equal(c->private_key_file, path);
		tf_read(path, text, sizeof(text));
		assert_int_equal(sodium_base642bin(key, 32, text, 44, NULL, &n, NULL,
						   sodium_base64_VARIANT_ORIGINAL), 0);
		assert_memory_equal(c->private_key, key, 32);
		assert_int_equal(c->node_id, (uint32_t)i + 1);
		assert_int_equal(c->mtu, 1420);
		assert_int_equal(c->address, ip("10.0.0.1") + (uint32_t)i);
		assert_int_equal(c->subnet.addr, ip("10.0.0.0"));
		assert_int_equal(c->subnet.len, 24);
		snprintf(path, sizeof(path), "%s/run/%s.sock", t->dir, examples[i]);
		assert_string_equal(c->control_socket, path);
		snprintf(path, sizeof(path), "%s/state/%s", t->dir, examples[i]);
		assert_string_equal(c->state_dir, path);
		assert_int_equal(c->n_peers, i == 0 ? 2 : 1);
		sn_config_free(c);
	}
	c = load_file_ok(t, "hub.yaml");
	assert_int_equal(c->listen.port, 51820);
	assert_int_equal(c->peers[0].routes[0].addr, ip("192.168.1.0"));
	assert_int_equal(c->peers[1].routes[0].addr, ip("192.168.2.0"));
	sn_config_free(c);
	c = load_file_ok(t, "spoke-b.yaml");
	assert_memory_equal(c->peers[0].endpoint.ip, "\xac\x1f\x03\x01", 4);
	assert_int_equal(c->peers[0].routes[0].addr, ip("192.168.1.0"));
	sn_config_free(c);
}

static void expect_same_peer(const struct sn_conf_peer *p, const struct sn_conf_peer *q)
{
	assert_int_equal(p->has, q->has);
	assert_int_equal(p->id, q->id);
	assert_string_equal(p->name, q->name);
	assert_memory_equal(p->public_key, q->public_key, 32);
	assert_memory_equal(p->psk, q->psk, 32);
	assert_true((p->endpoint_text == NULL) == (q->endpoint_text == NULL));
	if (p->endpoint_text)
		assert_string_equal(p->endpoint_text, q->endpoint_text);
	assert_memory_equal(&p->endpoint, &q->endpoint, sizeof(p->endpoint));
	assert_int_equal(p->address, q->address);
	assert_int_equal(p->n_routes, q->n_routes);
	if (p->n_routes)
		assert_memory_equal(p->routes, q->routes, p->n_routes * sizeof(*p->routes));
	assert_string_equal(p->key_path, q->key_path);
	assert_true((p->psk_file == NULL) == (q->psk_file == NULL));
}

static void expect_same_str(const char *a, const char *b)
{
	assert_true((a == NULL) == (b == NULL));
	if (a)
		assert_string_equal(a, b);
}

static void expect_same(const struct sn_config *a, const struct sn_config *b)
{
	uint32_t i;

	assert_int_equal(a->has, b->has);
	assert_int_equal(a->node_id, b->node_id);
	assert_int_equal(a->role, b->role);
	expect_same_str(a->private_key_file, b->private_key_file);
	assert_memory_equal(a->private_key, b->private_key, 32);
	assert_memory_equal(&a->listen, &b->listen, sizeof(a->listen));
	expect_same_str(a->state_dir, b->state_dir);
	expect_same_str(a->user, b->user);
	assert_memory_equal(&a->subnet, &b->subnet, sizeof(a->subnet));
	assert_int_equal(a->address, b->address);
	assert_int_equal(a->mtu, b->mtu);
	expect_same_str(a->ifname, b->ifname);
	assert_int_equal(a->manage_routes, b->manage_routes);
	assert_int_equal(a->n_lans, b->n_lans);
	if (a->n_lans)
		assert_memory_equal(a->lans, b->lans, a->n_lans * sizeof(*a->lans));
	expect_same_str(a->plugin_dir, b->plugin_dir);
	expect_same_str(a->os, b->os);
	expect_same_str(a->crypto, b->crypto);
	expect_same_str(a->egress, b->egress);
	assert_int_equal(a->n_plugin_opts, b->n_plugin_opts);
	assert_int_equal(a->n_peers, b->n_peers);
	for (i = 0; i < a->n_peers; i++)
		expect_same_peer(&a->peers[i], &b->peers[i]);
	assert_int_equal(a->keepalive, b->keepalive);
	assert_int_equal(a->n_rules, b->n_rules);
	expect_same_str(a->control_socket, b->control_socket);
	expect_same_str(a->control_group, b->control_group);
}

static void test_config_examples_yaml_equals_json(void **state)
{
	const struct tmp *t = *state;
	char path[64];
	size_t i;

	for (i = 0; i < N(examples); i++) {
		struct sn_config *y, *j;

		snprintf(path, sizeof(path), "%s.yaml", examples[i]);
		y = load_file_ok(t, path);
		snprintf(path, sizeof(path), "%s.json", examples[i]);
		j = load_file_ok(t, path);
		expect_same(y, j);
		sn_config_free(y);
		sn_config_free(j);
	}
}

/* Replace `from` with `to` in dir/name. */
static void corrupt(const struct tmp *t, const char *name, const char *from, const char *to)
{
	char path[256], text[65536];
	char *out;

	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	tf_read(path, text, sizeof(text));
	out = edit(text, from, to, false);
	tf_write(path, out, 0644);
	free(out);
}

static void test_config_examples_corrupted(void **state)
{
	const struct tmp *t = *state;

	corrupt(t, "hub.yaml", "  mtu:", "  mut:");
	expect_file_err(t, "hub.yaml", "  mut:", true, "overlay.mut: unknown key (did you mean 'mtu'?)",
			-EINVAL);
	corrupt(t, "spoke-a.yaml", "192.168.1.0/24", "192.168.1.1/24");
	expect_file_err(t, "spoke-a.yaml", "    - ", false,
			"overlay.lans[0]: 192.168.1.1/24 has host bits set (did you mean 192.168.1.0/24?)",
			-EINVAL);
	corrupt(t, "spoke-b.json", "\"mtu\": 1420", "\"mtu\": 100");
	expect_file_err(t, "spoke-b.json", "\"mtu\":", false,
			"overlay.mtu: 100 is out of range (expected 576..9000)", -EINVAL);
	corrupt(t, "hub.json", "raw_direct", "raw-direct");
	expect_file_err(t, "hub.json", "\"egress\":", false,
			"plugins.egress: 'raw-direct' is not a plugin name (letters, digits and '_', "
			"e.g. raw_direct, or a path to the plugin's .so)",
			-EINVAL);
	corrupt(t, "spoke-a.json", "\"192.168.2.0/24\"", "\"192.168.1.0/24\"");
	expect_file_err(t, "spoke-a.json", "\"routes\": [\n      ", false,
			"hub.routes[0]: 192.168.1.0/24 overlaps 192.168.1.0/24 at overlay.lans[0] (line 14), which belongs to this node; a prefix can belong to one node only",
			-EINVAL);
}

/* ---- key files --------------------------------------------------------- */

static void test_config_key_file_mode(void **state)
{
	const struct tmp *t = *state;
	static const mode_t bad[] = { 0644, 0640, 0604, 0660, 0610, 0601 };
	char key[256], rest[768];
	struct sn_config *c;
	size_t i;

	snprintf(key, sizeof(key), "%s/keys/hub.key", t->dir);
	for (i = 0; i < N(bad); i++) {
		assert_int_equal(chmod(key, bad[i]), 0);
		snprintf(rest, sizeof(rest),
			 "node.private_key_file: %s is accessible by group or others (mode %04o; run chmod 600 %s)",
			 key, (unsigned)bad[i], key);
		expect_file_err(t, "hub.yaml", "private_key_file:", false, rest, -EACCES);
	}
	assert_int_equal(chmod(key, 0400), 0);
	c = load_file_ok(t, "hub.json");
	sn_config_free(c);
}

static void test_config_key_file_content(void **state)
{
	const struct tmp *t = *state;
	static const char *good[] = {
		"cHJpdmF0ZSBrZXkgZm9yIHRlc3RzIG9ubHkgMTIzNDU=",
		"cHJpdmF0ZSBrZXkgZm9yIHRlc3RzIG9ubHkgMTIzNDU=\n",
		"cHJpdmF0ZSBrZXkgZm9yIHRlc3RzIG9ubHkgMTIzNDU=\r\n",
	};
	static const char *bad[] = {
		"", "\n", "cHJpdmF0ZSBrZXkgZm9yIHRlc3RzIG9ubHkgMTIzNDU",
		"cHJpdmF0ZSBrZXkgZm9yIHRlc3RzIG9ubHkgMTIzNDU=\nx\n",
		"!HJpdmF0ZSBrZXkgZm9yIHRlc3RzIG9ubHkgMTIzNDU=",
		"cHJpdmF0ZSBrZXkgZm9yIHRlc3RzIG9ubHkgMTIzNDU=cHJpdmF0ZSBrZXkgZm9yIHRlc3RzIG9ubHkgMTIzNDU=",
	};
	char key[256], rest[768];
	struct sn_config *c;
	size_t i;

	snprintf(key, sizeof(key), "%s/keys/spoke-b.key", t->dir);
	for (i = 0; i < N(good); i++) {
		tf_write(key, good[i], 0600);
		c = load_file_ok(t, "spoke-b.yaml");
		assert_memory_equal(c->private_key, "private key for tests only 12345", 32);
		sn_config_free(c);
	}
	snprintf(rest, sizeof(rest),
		 "node.private_key_file: %s does not hold a key (expected one line of 44 base64 characters, as written by wg genkey)",
		 key);
	for (i = 0; i < N(bad); i++) {
		tf_write(key, bad[i], 0600);
		expect_file_err(t, "spoke-b.yaml", "private_key_file:", false, rest, -EINVAL);
	}
	unlink(key);
	snprintf(rest, sizeof(rest),
		 "node.private_key_file: %s does not exist (create it with: umask 077; wg genkey > %s)",
		 key, key);
	expect_file_err(t, "spoke-b.yaml", "private_key_file:", false, rest, -ENOENT);
	assert_int_equal(mkdir(key, 0700), 0);
	snprintf(rest, sizeof(rest),
		 "node.private_key_file: %s is not a regular file (expected a file holding one key)", key);
	expect_file_err(t, "spoke-b.yaml", "private_key_file:", false, rest, -EINVAL);
}

static void test_config_own_public_key_as_peer(void **state)
{
	const struct tmp *t = *state;

	corrupt(t, "hub.yaml", KEY_A, KEY_HUB);
	expect_file_err(t, "hub.yaml", "public_key:", false,
			"peers[0].public_key: is this node's own public key (node.private_key_file); every node needs its own key pair",
			-EINVAL);
}

static void test_config_psk_file(void **state)
{
	const struct tmp *t = *state;
	char psk[256], rest[768];
	struct sn_config *c;

	corrupt(t, "spoke-a.yaml", "  address: 10.0.0.1", "  psk_file: keys/a.psk\n  address: 10.0.0.1");
	snprintf(psk, sizeof(psk), "%s/keys/a.psk", t->dir);
	tf_write(psk, "cHJlc2hhcmVkIGtleSBmb3IgdGVzdHMgb25seSAxMjM=\n", 0600);
	c = load_file_ok(t, "spoke-a.yaml");
	assert_int_equal(c->peers[0].has & SN_PEER_HAS_PSK, SN_PEER_HAS_PSK);
	assert_string_equal(c->peers[0].psk_file, psk);
	assert_memory_equal(c->peers[0].psk, "preshared key for tests only 123", 32);
	sn_config_free(c);
	assert_int_equal(chmod(psk, 0644), 0);
	snprintf(rest, sizeof(rest),
		 "hub.psk_file: %s is accessible by group or others (mode 0644; run chmod 600 %s)",
		 psk, psk);
	expect_file_err(t, "spoke-a.yaml", "psk_file:", false, rest, -EACCES);
}

/* ---- files that grant root ----------------------------------------------- */

#define NOBODY 65534
#define NOT_OURS "neither root nor the user the daemon runs as"

static void need_root(void)
{
	if (geteuid() != 0)
		skip();
}

/* Loading dir/name fails with -EPERM and exactly want. */
static void expect_untrusted(const struct tmp *t, const char *name, const char *want)
{
	struct sn_config *c = (struct sn_config *)1;
	char path[256], err[2048] = "";

	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	assert_int_equal(sn_config_load(path, &c, err, sizeof(err)), -EPERM);
	assert_null(c);
	assert_string_equal(err, want);
}

static void test_config_file_trusted(void **state)
{
	const struct tmp *t = *state;
	char cfg[256], want[2048], other[256], real[300];

	need_root();
	snprintf(cfg, sizeof(cfg), "%s/hub.yaml", t->dir);
	assert_int_equal(chmod(cfg, 0664), 0);
	snprintf(want, sizeof(want), "%s is writable by group or others (mode 0664; run chmod "
		 "go-w %s)", cfg, cfg);
	expect_untrusted(t, "hub.yaml", want);
	assert_int_equal(chmod(cfg, 0646), 0);
	snprintf(want, sizeof(want), "%s is writable by group or others (mode 0646; run chmod "
		 "go-w %s)", cfg, cfg);
	expect_untrusted(t, "hub.yaml", want);
	assert_int_equal(chmod(cfg, 0644), 0);
	assert_int_equal(chown(cfg, NOBODY, NOBODY), 0);
	snprintf(want, sizeof(want), "%s is owned by uid 65534, " NOT_OURS " (run chown root %s)",
		 cfg, cfg);
	expect_untrusted(t, "hub.yaml", want);
	assert_int_equal(chown(cfg, 0, 0), 0);
	sn_config_free(load_file_ok(t, "hub.yaml"));
	/* the directory holding it */
	assert_int_equal(chmod(t->dir, 0777), 0);
	snprintf(want, sizeof(want), "%s: its directory %s is writable by group or others, who "
		 "could replace the file (mode 0777; run chmod go-w %s)", cfg, t->dir, t->dir);
	expect_untrusted(t, "hub.yaml", want);
	assert_int_equal(chmod(t->dir, 01777), 0); /* sticky, like /tmp: others cannot swap it */
	sn_config_free(load_file_ok(t, "hub.yaml"));
	assert_int_equal(chmod(t->dir, 0700), 0);
	assert_int_equal(chown(t->dir, NOBODY, NOBODY), 0);
	snprintf(want, sizeof(want), "%s: its directory %s is owned by uid 65534, " NOT_OURS
		 ", who could replace the file (run chown root %s)", cfg, t->dir, t->dir);
	expect_untrusted(t, "hub.yaml", want);
	assert_int_equal(chown(t->dir, 0, 0), 0);
	/* a symbolic link is fine; what it reaches, and where, is checked */
	snprintf(other, sizeof(other), "%s/other", t->dir);
	assert_int_equal(mkdir(other, 0755), 0);
	snprintf(real, sizeof(real), "%s/hub.yaml", other);
	tf_copy(cfg, real, 0644);
	snprintf(cfg, sizeof(cfg), "%s/link.yaml", t->dir);
	assert_int_equal(symlink(real, cfg), 0);
	sn_config_free(load_file_ok(t, "link.yaml"));
	assert_int_equal(chown(real, NOBODY, NOBODY), 0);
	snprintf(want, sizeof(want), "%s (a link to %s) is owned by uid 65534, " NOT_OURS " (run "
		 "chown root %s)", cfg, real, cfg);
	expect_untrusted(t, "link.yaml", want);
	assert_int_equal(chown(real, 0, 0), 0);
	assert_int_equal(chmod(other, 0757), 0);
	snprintf(want, sizeof(want), "%s (a link to %s): its directory %s is writable by group or "
		 "others, who could replace the file (mode 0757; run chmod go-w %s)", cfg, real,
		 other, other);
	expect_untrusted(t, "link.yaml", want);
}

static void test_config_key_file_trusted(void **state)
{
	const struct tmp *t = *state;
	char key[256], keys[200], psk[256], rest[2048];
	struct passwd *pw = getpwuid(NOBODY);
	struct sn_config *c;

	need_root();
	snprintf(keys, sizeof(keys), "%s/keys", t->dir);
	snprintf(key, sizeof(key), "%s/hub.key", keys);
	assert_int_equal(chown(key, NOBODY, NOBODY), 0);
	snprintf(rest, sizeof(rest), "node.private_key_file: %s is owned by uid 65534, " NOT_OURS
		 " (run chown root %s)", key, key);
	expect_file_err(t, "hub.yaml", "private_key_file:", false, rest, -EPERM);
	/* node.user may own its keys: a reload after the drop reads them as that user */
	if (pw) {
		char line[128];

		snprintf(line, sizeof(line), "  user: %s\n  role: hub", pw->pw_name);
		corrupt(t, "hub.yaml", "  role: hub", line);
		sn_config_free(load_file_ok(t, "hub.yaml"));
		corrupt(t, "hub.yaml", line, "  role: hub");
	}
	assert_int_equal(chown(key, 0, 0), 0);
	assert_int_equal(chmod(keys, 0777), 0);
	snprintf(rest, sizeof(rest), "node.private_key_file: %s: its directory %s is writable by "
		 "group or others, who could replace the file (mode 0777; run chmod go-w %s)", key,
		 keys, keys);
	expect_file_err(t, "hub.yaml", "private_key_file:", false, rest, -EPERM);
	assert_int_equal(chmod(keys, 01777), 0);
	sn_config_free(load_file_ok(t, "hub.yaml"));
	assert_int_equal(chmod(keys, 0700), 0);
	/* a PSK file is a key file */
	corrupt(t, "spoke-a.yaml", "  address: 10.0.0.1", "  psk_file: keys/a.psk\n  address: 10.0.0.1");
	snprintf(psk, sizeof(psk), "%s/a.psk", keys);
	tf_write(psk, "cHJlc2hhcmVkIGtleSBmb3IgdGVzdHMgb25seSAxMjM=\n", 0600);
	assert_int_equal(chown(psk, NOBODY, NOBODY), 0);
	snprintf(rest, sizeof(rest), "hub.psk_file: %s is owned by uid 65534, " NOT_OURS " (run "
		 "chown root %s)", psk, psk);
	expect_file_err(t, "spoke-a.yaml", "psk_file:", false, rest, -EPERM);
	assert_int_equal(chown(psk, 0, 0), 0);
	c = load_file_ok(t, "spoke-a.yaml");
	assert_int_equal(c->peers[0].has & SN_PEER_HAS_PSK, SN_PEER_HAS_PSK);
	sn_config_free(c);
}

/* ---- node.user and reload --------------------------------------------- */

/* node.user is looked up when a config is loaded with its files (start,
 * --check): root and unknown users are errors before anything starts. */
static void test_config_user_checked_at_load(void **state)
{
	const struct tmp *t = *state;
	struct sn_config *c;

	corrupt(t, "spoke-a.yaml", "  role: spoke\n", "  role: spoke\n  user: root\n");
	expect_file_err(t, "spoke-a.yaml", "user:", false,
			"node.user: 'root' is uid 0, so the daemon would keep every privilege (name an unprivileged user, or remove node.user)",
			-EINVAL);
	corrupt(t, "spoke-a.yaml", "user: root", "user: sn-no-such-user");
	expect_file_err(t, "spoke-a.yaml", "user:", false,
			"node.user: no such user 'sn-no-such-user' (create one for subnetrad, e.g. useradd --system --no-create-home sn-no-such-user, or remove node.user)",
			-ENOENT);
	if (!getpwnam("nobody"))
		skip();
	corrupt(t, "spoke-a.yaml", "user: sn-no-such-user", "user: nobody");
	c = load_file_ok(t, "spoke-a.yaml");
	assert_string_equal(c->user, "nobody");
	sn_config_free(c);
}

/* A reload takes the private key from the running config and never opens
 * the key file; PSK files are read again. */
static void test_config_reload_keeps_private_key(void **state)
{
	const struct tmp *t = *state;
	struct sn_config *run = load_file_ok(t, "spoke-a.yaml"), *c = NULL;
	char path[256], key[256], psk[256], err[512] = "";

	snprintf(path, sizeof(path), "%s/spoke-a.yaml", t->dir);
	snprintf(key, sizeof(key), "%s/keys/spoke-a.key", t->dir);
	snprintf(psk, sizeof(psk), "%s/keys/a.psk", t->dir);
	assert_int_equal(unlink(key), 0);
	assert_int_equal(sn_config_load(path, &c, err, sizeof(err)), -ENOENT);
	corrupt(t, "spoke-a.yaml", "  address: 10.0.0.1", "  psk_file: keys/a.psk\n  address: 10.0.0.1");
	tf_write(psk, "cHJlc2hhcmVkIGtleSBmb3IgdGVzdHMgb25seSAxMjM=\n", 0600);
	if (sn_config_reload(path, run, &c, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_memory_equal(c->private_key, run->private_key, 32);
	assert_false(sodium_is_zero(c->private_key, 32));
	assert_int_equal(c->peers[0].has & SN_PEER_HAS_PSK, SN_PEER_HAS_PSK);
	assert_memory_equal(c->peers[0].psk, "preshared key for tests only 123", 32);
	sn_config_free(c);
	/* a PSK file that went bad fails the reload as it fails a start */
	assert_int_equal(chmod(psk, 0640), 0);
	assert_int_equal(sn_config_reload(path, run, &c, err, sizeof(err)), -EACCES);
	assert_null(c);
	sn_config_free(run);
}

/* What a reload as node.user says when it cannot read the config or a PSK
 * file: run in a child that became nobody (the test itself stays root). */
static void reload_as_nobody(const char *path, const struct sn_config *run, uid_t uid, gid_t gid,
			     bool want_ok, char *err, size_t err_len)
{
	int fds[2], st = 0;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sn_config *c = NULL;
		char e[1024] = "";
		int rc = 2;

		if (setresgid(gid, gid, gid) == 0 && setresuid(uid, uid, uid) == 0)
			rc = sn_config_reload(path, run, &c, e, sizeof(e)) < 0 ? 0 : 1;
		sn_config_free(c);
		_exit(write(fds[1], e, sizeof(e)) == (ssize_t)sizeof(e) ? rc : 3);
	}
	close(fds[1]);
	memset(err, 0, err_len);
	assert_int_equal(read(fds[0], err, err_len - 1), (ssize_t)err_len - 1);
	close(fds[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), want_ok ? 1 : 0); /* 1: the reload loaded */
}

static void test_config_reload_as_user_errors_say_so(void **state)
{
	const struct tmp *t = *state;
	struct passwd *pw = getpwnam("nobody");
	struct sn_config *run;
	char path[256], psk[256], err[1024], want[1024];
	uid_t uid;
	gid_t gid;

	if (geteuid() != 0 || !pw)
		skip();
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	corrupt(t, "spoke-a.yaml", "  role: spoke\n", "  role: spoke\n  user: nobody\n");
	corrupt(t, "spoke-a.yaml", "  address: 10.0.0.1", "  psk_file: keys/a.psk\n  address: 10.0.0.1");
	snprintf(path, sizeof(path), "%s/spoke-a.yaml", t->dir);
	snprintf(psk, sizeof(psk), "%s/keys/a.psk", t->dir);
	tf_write(psk, "cHJlc2hhcmVkIGtleSBmb3IgdGVzdHMgb25seSAxMjM=\n", 0600);
	run = load_file_ok(t, "spoke-a.yaml");
	/* the temporary directory is 0700 root: nobody cannot open the config */
	reload_as_nobody(path, run, uid, gid, false, err, 1024);
	snprintf(want, sizeof(want), "%s: cannot read the config: Permission denied (a reload runs as node.user 'nobody': make the file readable by that user)",
		 path);
	assert_string_equal(err, want);
	/* config readable, the PSK file root's own */
	assert_int_equal(chmod(t->dir, 0755), 0);
	snprintf(want, sizeof(want), "%s/keys", t->dir);
	assert_int_equal(chmod(want, 0755), 0);
	reload_as_nobody(path, run, uid, gid, false, err, 1024);
	assert_non_null(strstr(err, "hub.psk_file: cannot read "));
	snprintf(want, sizeof(want), "cannot read %s: Permission denied (a reload runs as node.user 'nobody' and rereads PSK files: make the file owned by nobody, mode 0600)",
		 psk);
	assert_non_null(strstr(err, want));
	/* owned by nobody: the reload works, without the root-only key file */
	assert_int_equal(chown(psk, uid, gid), 0);
	reload_as_nobody(path, run, uid, gid, true, err, 1024);
	assert_string_equal(err, "");
	sn_config_free(run);
}

/* The tool's reading: only control.socket, resolved against the file's
 * directory; the rest may be wrong, name hosts that do not resolve, or
 * keys nobody can read. A syntax error is still an error. */
static void test_config_load_socket_only(void **state)
{
	const struct tmp *t = *state;
	struct sn_config *c;
	char path[256], want[256], err[512] = "";

	snprintf(path, sizeof(path), "%s/only.yaml", t->dir);
	tf_write(path, "node: { id: 0, role: nonsense, private_key_file: /nonexistent }\n"
		   "hub: { endpoint: no-such-host.invalid:1 }\n"
		   "control: { socket: run/x.sock }\n", 0644);
	assert_int_equal(sn_config_load_socket(path, &c, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "%s/run/x.sock", t->dir);
	assert_string_equal(c->control_socket, want);
	assert_int_equal(c->node_id, 0);
	sn_config_free(c);
	tf_write(path, "node: { id: 2 }\n", 0644);
	assert_int_equal(sn_config_load_socket(path, &c, err, sizeof(err)), 0);
	assert_string_equal(c->control_socket, SN_CONF_DEFAULT_SOCKET);
	sn_config_free(c);
	tf_write(path, "control: { socket: [a, b\n", 0644);
	assert_true(sn_config_load_socket(path, &c, err, sizeof(err)) < 0);
	assert_null(c);
	assert_non_null(strstr(err, "only.yaml:"));
}

static void test_config_load_errors(void **state)
{
	struct sn_config *c = (struct sn_config *)1;
	char err[256];

	assert_int_equal(sn_config_load("/nonexistent/hub.yaml", &c, err, sizeof(err)), -ENOENT);
	assert_null(c);
	assert_string_equal(err, "/nonexistent/hub.yaml: cannot read the config: No such file or directory");
	assert_int_equal(sn_config_load("/", &c, err, sizeof(err)), -EISDIR);
	assert_string_equal(err, "/: cannot read the config: Is a directory");
	/* A tiny error buffer truncates but never overflows. */
	assert_int_equal(load_text("node: 1\n", &c, err, 8), -EINVAL);
	assert_string_equal(err, "t.yaml:");
	assert_int_equal(load_text("node: 1\n", &c, NULL, 0), -EINVAL);
}

/* ---- garbage never crashes --------------------------------------------- */

static void load_garbage(const char *buf, size_t len)
{
	struct sn_config *c = NULL;
	char err[256];

	if (sn_config_load_buffer("g.yaml", buf, len, false, &c, err, sizeof(err)) == 0)
		sn_config_free(c);
	else
		assert_non_null(strchr(err, ':'));
}

static void test_config_garbage_does_not_crash(void **state)
{
	static const char *texts[] = { HUB, SPOKE };
	char buf[4096];
	uint32_t seed = 12345;
	size_t i, k, len;

	for (k = 0; k < N(texts); k++) {
		len = strlen(texts[k]);
		for (i = 0; i <= len; i++)
			load_garbage(texts[k], i);
	}
	/* Single-byte mutations of the hub (which resolves no host names, so no
	 * mutation can trigger a DNS query). */
	len = strlen(HUB);
	for (i = 0; i < 3000; i++) {
		memcpy(buf, HUB, len);
		seed = seed * 1103515245u + 12345u;
		buf[(seed >> 8) % len] = (char)(seed >> 24);
		load_garbage(buf, len);
	}
	for (i = 0; i < 300; i++) {
		for (k = 0; k < sizeof(buf); k++) {
			seed = seed * 1103515245u + 12345u;
			buf[k] = (char)(seed >> 24);
		}
		load_garbage(buf, (seed >> 4) % sizeof(buf));
	}
	memset(buf, '[', sizeof(buf));
	load_garbage(buf, sizeof(buf));
	memset(buf, '{', sizeof(buf));
	load_garbage(buf, sizeof(buf));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_node_errors),
		cmocka_unit_test(test_config_listen_errors),
		cmocka_unit_test(test_config_listen_accepts),
		cmocka_unit_test(test_config_overlay_errors),
		cmocka_unit_test(test_config_plugin_keepalive_control_errors),
		cmocka_unit_test(test_config_slice_values),
		cmocka_unit_test(test_config_rt_priority_values),
		cmocka_unit_test(test_config_aqm_values),
		cmocka_unit_test(test_config_peer_and_policy_errors),
		cmocka_unit_test(test_config_spoke_and_syntax_errors),
		cmocka_unit_test(test_config_defaults_applied),
		cmocka_unit_test(test_config_darwin_takes_utun_names),
		cmocka_unit_test(test_config_plugin_path),
		cmocka_unit_test(test_config_has_bits_and_values),
		cmocka_unit_test(test_config_relative_paths),
		cmocka_unit_test(test_config_json_same_as_yaml),
		cmocka_unit_test(test_config_ipv4_parse_strict),
		cmocka_unit_test(test_config_prefix_parse_strict),
		cmocka_unit_test_setup_teardown(test_config_examples_load, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_config_examples_yaml_equals_json, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_config_examples_corrupted, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_config_key_file_mode, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_config_key_file_content, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_config_own_public_key_as_peer, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_config_psk_file, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_config_file_trusted, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_config_key_file_trusted, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_config_user_checked_at_load, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_config_reload_keeps_private_key, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_config_reload_as_user_errors_say_so, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_config_load_socket_only, tmp_setup, tmp_teardown),
		cmocka_unit_test(test_config_load_errors),
		cmocka_unit_test(test_config_garbage_does_not_crash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
