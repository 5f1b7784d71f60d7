/* SPDX-License-Identifier: MIT */
/*
 * tests/test_onboard.c: what `subnetra add-spoke` decides (core/onboard.c)
 * from a hub config loaded by the daemon's loader: the next free id and
 * overlay address (holes first, a full overlay refused), LANs that clash
 * with the overlay, the hub's LANs or a spoke's routes (the owner named),
 * usable spoke names, endpoints, the "# subnetra:" lines of a hub config,
 * and the YAML scalars the tool writes. Table-driven.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "keys.h"
#include "onboard.h"

#define MAXP 8

/* A hub: node id, overlay subnet and address, its LANs, and up to MAXP
 * spokes given as "ID ADDRESS [ROUTE]" (each gets a key of its own). */
struct hub_def {
	uint32_t id;
	const char *subnet, *address, *lans;
	const char *peers[MAXP];
};

static char dir[64]; /* holds an empty peers_dir, d/ */

static int setup(void **state)
{
	char d[96];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sn-test-onboard.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(d, sizeof(d), "%s/d", dir);
	return mkdir(d, 0700);
}

static int teardown(void **state)
{
	char d[96];

	(void)state;
	snprintf(d, sizeof(d), "%s/d", dir);
	rmdir(d);
	return rmdir(dir);
}

static void put_peer(FILE *f, const char *def)
{
	char addr[32] = "", route[32] = "", pub[SN_KEY_B64_LEN + 1];
	uint8_t k[32], p[32];
	unsigned id;

	assert_true(sscanf(def, "%u %31s %31s", &id, addr, route) >= 2);
	assert_int_equal(sn_key_generate(k), 0);
	assert_int_equal(sn_key_public(p, k), 0);
	sn_key_to_b64(pub, p);
	fprintf(f, "  - id: %u\n    public_key: %s\n    address: %s\n", id, pub, addr);
	if (route[0])
		fprintf(f, "    routes: [%s]\n", route);
}

static struct sn_config *load_hub(const struct hub_def *h)
{
	struct sn_config *c = NULL;
	char *text = NULL, name[128], err[512];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	fprintf(f, "node:\n  id: %u\n  role: hub\n  private_key_file: k\n  listen: \"0.0.0.0:51820\"\n"
		   "overlay:\n  subnet: %s\n  address: %s\n",
		h->id ? h->id : 1, h->subnet, h->address);
	if (h->lans)
		fprintf(f, "  lans: [%s]\n", h->lans);
	fprintf(f, "peers_dir: d\n");
	if (h->peers[0])
		fprintf(f, "peers:\n");
	for (int i = 0; i < MAXP && h->peers[i]; i++)
		put_peer(f, h->peers[i]);
	assert_int_equal(fclose(f), 0);
	snprintf(name, sizeof(name), "%s/hub.yaml", dir);
	if (sn_config_load_buffer(name, text, len, false, &c, err, sizeof(err)) < 0)
		fail_msg("hub config did not load: %s\n%s", err, text);
	free(text);
	return c;
}

static void test_onboard_next_id(void **state)
{
	static const struct {
		struct hub_def hub;
		uint32_t want;
	} cases[] = {
		{{1, "10.0.0.0/24", "10.0.0.1", NULL, {NULL}}, 2},
		{{1, "10.0.0.0/24", "10.0.0.1", NULL, {"2 10.0.0.2", "3 10.0.0.3"}}, 4},
		{{1, "10.0.0.0/24", "10.0.0.1", NULL, {"2 10.0.0.2", "4 10.0.0.4"}}, 3},
		{{1, "10.0.0.0/24", "10.0.0.1", NULL, {"5 10.0.0.5", "3 10.0.0.3", "2 10.0.0.2"}}, 4},
		{{1, "10.0.0.0/24", "10.0.0.1", NULL, {"3 10.0.0.3"}}, 2},
		{{5, "10.0.0.0/24", "10.0.0.1", NULL, {"1 10.0.0.2", "2 10.0.0.3"}}, 3},
		{{2, "10.0.0.0/24", "10.0.0.1", NULL, {"3 10.0.0.2"}}, 1},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sn_config *c = load_hub(&cases[i].hub);
		uint32_t got = 0;

		assert_int_equal(sn_onboard_next_id(c, &got), 0);
		if (got != cases[i].want)
			fail_msg("case %zu: next id %u, want %u", i, got, cases[i].want);
		sn_config_free(c);
	}
}

static void test_onboard_next_address(void **state)
{
	static const struct {
		struct hub_def hub;
		const char *want; /* NULL: the overlay is full */
	} cases[] = {
		{{1, "10.0.0.0/24", "10.0.0.1", NULL, {NULL}}, "10.0.0.2"},
		{{1, "10.0.0.0/24", "10.0.0.1", NULL, {"2 10.0.0.2", "3 10.0.0.4"}}, "10.0.0.3"},
		{{1, "10.0.0.0/24", "10.0.0.1", NULL, {"2 10.0.0.3", "3 10.0.0.2"}}, "10.0.0.4"},
		{{1, "10.0.0.0/24", "10.0.0.5", NULL, {NULL}}, "10.0.0.1"},
		{{1, "10.0.0.0/24", "10.0.0.1", NULL, {"2 10.0.0.254"}}, "10.0.0.2"},
		{{1, "10.0.0.0/30", "10.0.0.1", NULL, {NULL}}, "10.0.0.2"},
		{{1, "10.0.0.0/30", "10.0.0.1", NULL, {"2 10.0.0.2"}}, NULL},
		{{1, "10.0.0.0/31", "10.0.0.0", NULL, {NULL}}, "10.0.0.1"},
		{{1, "10.0.0.0/31", "10.0.0.1", NULL, {NULL}}, "10.0.0.0"},
		{{1, "10.0.0.0/31", "10.0.0.0", NULL, {"2 10.0.0.1"}}, NULL},
		{{1, "10.0.0.0/29", "10.0.0.6", NULL,
		  {"2 10.0.0.1", "3 10.0.0.2", "4 10.0.0.3", "5 10.0.0.4", "6 10.0.0.5"}}, NULL},
		{{1, "10.0.0.0/29", "10.0.0.6", NULL,
		  {"2 10.0.0.1", "3 10.0.0.2", "4 10.0.0.4", "5 10.0.0.5"}}, "10.0.0.3"},
		{{1, "172.16.0.0/12", "172.16.0.1", NULL, {"2 172.16.0.2"}}, "172.16.0.3"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sn_config *c = load_hub(&cases[i].hub);
		uint32_t got = 0, want = 0;
		char why[512] = "";
		int rc = sn_onboard_next_address(c, &got, why, sizeof(why));

		if (!cases[i].want) {
			if (rc != -ENOSPC)
				fail_msg("case %zu: rc %d, want -ENOSPC (overlay full)", i, rc);
			assert_non_null(strstr(why, "is full"));
			assert_non_null(strstr(why, cases[i].hub.subnet));
		} else {
			assert_int_equal(sn_ipv4_parse(cases[i].want, &want), 0);
			if (rc != 0 || got != want)
				fail_msg("case %zu: rc %d, address %08x, want %s", i, rc, got,
					 cases[i].want);
		}
		sn_config_free(c);
	}
}

static void test_onboard_lan_check(void **state)
{
	static const struct hub_def hub = {
		1, "10.0.0.0/24", "10.0.0.1", "172.16.0.0/16",
		{"2 10.0.0.2 192.168.1.0/24", "3 10.0.0.3 192.168.2.0/24"}};
	static const struct {
		const char *lan;
		const char *why; /* NULL: free; else a part of the reason */
	} cases[] = {
		{"192.168.3.0/24", NULL},
		{"192.168.1.0/24", "a LAN of spoke peer-2 (id 2"},
		{"192.168.1.128/25", "overlaps 192.168.1.0/24, a LAN of spoke peer-2"},
		{"192.168.2.7/32", "a LAN of spoke peer-3 (id 3"},
		{"192.168.0.0/16", "overlaps 192.168.1.0/24"},
		{"10.0.0.128/25", "overlaps the overlay subnet 10.0.0.0/24"},
		{"10.0.0.0/8", "overlaps the overlay subnet"},
		{"172.16.9.0/24", "a LAN of the hub"},
		{"172.0.0.0/8", "a LAN of the hub"},
		{"172.17.0.0/16", NULL},
		{"0.0.0.0/0", "overlaps the overlay subnet"},
		{"10.0.1.0/24", NULL},
	};
	struct sn_config *c;

	(void)state;
	c = load_hub(&hub);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sn_prefix p;
		char why[512] = "", e[128];
		int rc;

		assert_int_equal(sn_prefix_parse(cases[i].lan, &p, e, sizeof(e)), 0);
		rc = sn_onboard_lan_check(c, &p, why, sizeof(why));
		if (!cases[i].why && rc != 0)
			fail_msg("case %zu (%s): refused: %s", i, cases[i].lan, why);
		if (cases[i].why && (rc != -EEXIST || !strstr(why, cases[i].why)))
			fail_msg("case %zu (%s): rc %d, '%s', want '%s'", i, cases[i].lan, rc, why,
				 cases[i].why);
	}
	sn_config_free(c);
}

static void test_onboard_name_check(void **state)
{
	static const char n64[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	static const char n65[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	static const struct {
		const char *name;
		int ok;
	} cases[] = {
		{"spoke-a", 1}, {"branch_17.b", 1}, {"x:y", 1}, {"A", 1}, {n64, 1},
		{"", 0}, {n65, 0}, {"a b", 0}, {"a\tb", 0}, {"a/b", 0}, {".hidden", 0},
		{"-x", 0}, {"caf\xc3\xa9", 0}, {"a\x7f", 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char why[256] = "";
		int rc = sn_onboard_name_check(cases[i].name, why, sizeof(why));

		if (cases[i].ok != (rc == 0))
			fail_msg("case %zu ('%s'): rc %d (%s)", i, cases[i].name, rc, why);
		if (rc)
			assert_true(why[0] != 0);
	}
}

static void test_onboard_peer_named(void **state)
{
	static const struct hub_def hub = {1, "10.0.0.0/24", "10.0.0.1", NULL, {"7 10.0.0.7"}};
	struct sn_config *c = load_hub(&hub);

	(void)state;
	assert_non_null(sn_onboard_peer_named(c, "peer-7")); /* the default name counts */
	assert_null(sn_onboard_peer_named(c, "peer-8"));
	sn_config_free(c);
}

/* The spoke config carries overlay.mtu only when the hub's sets it: else
 * the spoke derives its own from its egress stack (core/mtu.h). */
static void test_onboard_spoke_mtu(void **state)
{
	static const struct hub_def hub = {1, "10.0.0.0/24", "10.0.0.1", NULL, {"7 10.0.0.7"}};
	struct sn_config *c = load_hub(&hub);
	struct sn_onboard_spoke sp = { .name = "b", .id = 8, .key_file = "b.key",
				       .state_dir = "state", .socket = "b.sock",
				       .endpoint = "192.0.2.1:51820" };
	struct sn_onboard_meta m = { 0 };
	uint8_t pub[32] = { 0 };
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_int_equal(sn_ipv4_parse("10.0.0.8", &sp.address), 0);
	for (int set = 0; set < 2; set++) {
		if (set) {
			c->has |= SN_CONF_HAS_MTU;
			c->mtu = 1400;
		}
		assert_non_null(f = open_memstream(&text, &len));
		sn_onboard_spoke_text(f, &sp, c, &m, pub);
		assert_int_equal(fclose(f), 0);
		if (set)
			assert_non_null(strstr(text, "\n  address: 10.0.0.8\n  mtu: 1400\n"));
		else
			assert_null(strstr(text, "mtu:"));
		free(text);
		text = NULL;
	}
	sn_config_free(c);
}

static void test_onboard_endpoint_check(void **state)
{
	static const struct {
		const char *ep;
		int ok;
	} cases[] = {
		{"203.0.113.1:51820", 1}, {"hub.example.net:1", 1}, {"h:65535", 1},
		{"h:65536", 0}, {"h:0", 0}, {"h:051820", 0}, {"h", 0}, {":51820", 0},
		{"h:", 0}, {"h x:1", 0}, {"-h:1", 0}, {"h:1x", 0}, {"[::1]:51820", 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char why[512];
		int rc = sn_onboard_endpoint_check(cases[i].ep, why, sizeof(why));

		if (cases[i].ok != (rc == 0))
			fail_msg("case %zu ('%s'): rc %d", i, cases[i].ep, rc);
	}
}

static void test_onboard_meta_parse(void **state)
{
	static const struct {
		const char *text;
		const char *name, *endpoint, *routes; /* routes: the prefixes joined by ' ' */
		const char *err;                      /* NULL: parses */
	} cases[] = {
		{"# subnetra: name hub\n# subnetra: endpoint 203.0.113.1:51820\nnode:\n", "hub",
		 "203.0.113.1:51820", "", NULL},
		{"#subnetra: endpoint x:1\n# other: y\n  # subnetra: endpoint y:1\n", "", "", "", NULL},
		{"# subnetra:   spoke-route   192.168.0.0/16  \r\n# subnetra: spoke-route 172.16.0.0/12",
		 "", "", "192.168.0.0/16 172.16.0.0/12", NULL},
		{"a: 1\n# subnetra: endpoint nohost\n", NULL, NULL, NULL, "line 2:"},
		{"# subnetra: spoke-route 192.168.1.1/16\n", NULL, NULL, NULL, "host bits"},
		{"# subnetra: colour blue\n", NULL, NULL, NULL, "unknown key 'colour'"},
		{"# subnetra: name .x\n", NULL, NULL, NULL, "may not start with '.'"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sn_onboard_meta m;
		char why[512] = "", routes[256] = "", b[20];
		int rc = sn_onboard_meta_parse(cases[i].text, strlen(cases[i].text), &m, why,
					       sizeof(why));

		if (cases[i].err) {
			if (rc != -EINVAL || !strstr(why, cases[i].err))
				fail_msg("case %zu: rc %d '%s', want '%s'", i, rc, why, cases[i].err);
			continue;
		}
		if (rc)
			fail_msg("case %zu: %s", i, why);
		for (uint32_t j = 0; j < m.n_spoke_routes; j++)
			snprintf(routes + strlen(routes), sizeof(routes) - strlen(routes), "%s%s",
				 j ? " " : "", sn_prefix_str(&m.spoke_routes[j], b, sizeof(b)));
		assert_string_equal(m.name, cases[i].name);
		assert_string_equal(m.endpoint, cases[i].endpoint);
		assert_string_equal(routes, cases[i].routes);
	}
}

static void test_onboard_covered(void **state)
{
	struct sn_onboard_meta m = {.n_spoke_routes = 1};
	static const struct {
		const char *p;
		int want;
	} cases[] = {
		{"192.168.1.0/24", 1}, {"192.168.0.0/16", 1}, {"192.0.0.0/8", 0}, {"10.1.0.0/16", 0},
	};
	char e[128];

	(void)state;
	assert_int_equal(sn_prefix_parse("192.168.0.0/16", &m.spoke_routes[0], e, sizeof(e)), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sn_prefix p;

		assert_int_equal(sn_prefix_parse(cases[i].p, &p, e, sizeof(e)), 0);
		if (sn_onboard_covered(&m, &p) != cases[i].want)
			fail_msg("case %zu (%s): covered %d", i, cases[i].p, !cases[i].want);
	}
}

static void test_onboard_put_str(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"spoke-a", "spoke-a"}, {"/var/lib/subnetra/x", "/var/lib/subnetra/x"},
		{"true", "\"true\""}, {"No", "\"No\""}, {"123", "\"123\""}, {"a b", "\"a b\""},
		{"x:y", "\"x:y\""}, {"a\"b\\c", "\"a\\\"b\\\\c\""}, {"#x", "\"#x\""},
		{"run/hub.sock", "run/hub.sock"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);

		assert_non_null(f);
		sn_onboard_put_str(f, cases[i].in);
		assert_int_equal(fclose(f), 0);
		assert_string_equal(text, cases[i].out);
		free(text);
	}
}

static void test_onboard_key_path(void **state)
{
	static const struct {
		const char *conf, *key;
	} cases[] = {
		{"/etc/subnetra/spokes/b.yaml", "/etc/subnetra/spokes/b.key"},
		{"b.json", "b.key"},
		{"/x.d/b", "/x.d/b.key"},
		{"/x/.b", "/x/.b.key"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char key[128];

		assert_int_equal(sn_onboard_key_path(key, sizeof(key), cases[i].conf), 0);
		assert_string_equal(key, cases[i].key);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_onboard_next_id),
		cmocka_unit_test(test_onboard_next_address),
		cmocka_unit_test(test_onboard_lan_check),
		cmocka_unit_test(test_onboard_name_check),
		cmocka_unit_test(test_onboard_peer_named),
		cmocka_unit_test(test_onboard_spoke_mtu),
		cmocka_unit_test(test_onboard_endpoint_check),
		cmocka_unit_test(test_onboard_meta_parse),
		cmocka_unit_test(test_onboard_covered),
		cmocka_unit_test(test_onboard_put_str),
		cmocka_unit_test(test_onboard_key_path),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
