/* SPDX-License-Identifier: MIT */
/*
 * tests/test_config_peers_dir.c: a hub's peers_dir (core/config_peers_dir.c):
 * one spoke per *.yaml or *.json file, read in name order after peers:,
 * dotfiles and other names ignored; every error names the peer's own
 * file, line and column, and clashes with other peers name where those
 * are; a file anyone untrusted could change is refused like the config.
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
#include "tmpfiles.h"

#define KEY_A "X0O52YIg4foGNf2e77FDInwXWpumYTKdInIHceQN+yE="
#define KEY_B "i3mQC/pZrQBDtFUxe7U6xEfvJVoIKs85ZRo4Byd0mFs="
#define KEY_C "AAAAAFpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo="

/* A hub whose peers: holds spoke A (lines 11-14) and whose peers_dir is d/. */
static const char HUB[] =
	"node:\n"                              /* 1 */
	"  id: 1\n"                            /* 2 */
	"  role: hub\n"                        /* 3 */
	"  private_key_file: keys/hub.key\n"   /* 4 */
	"  listen: \"0.0.0.0:51820\"\n"        /* 5 */
	"overlay:\n"                           /* 6 */
	"  subnet: 10.0.0.0/24\n"              /* 7 */
	"  address: 10.0.0.1\n"                /* 8 */
	"peers_dir: d\n"                       /* 9 */
	"peers:\n"                             /* 10 */
	"  - id: 2\n"                          /* 11 */
	"    public_key: " KEY_A "\n"          /* 12 */
	"    address: 10.0.0.2\n"              /* 13 */
	"    routes: [192.168.1.0/24]\n";      /* 14 */

/* Spoke B as a file of its own, YAML (lines 1-4) or JSON (one line). */
static const char B_YAML[] =
	"id: 3\n"
	"public_key: " KEY_B "\n"
	"address: 10.0.0.3\n"
	"routes: [192.168.2.0/24]\n";
static const char C_JSON[] =
	"{\"id\": 4, \"name\": \"spoke-c\", \"public_key\": \"" KEY_C "\", \"address\": \"10.0.0.4\"}\n";

struct fx {
	char dir[64];
	char d[96];   /* dir/d: the peers_dir */
	char hub[96]; /* dir/hub.yaml */
};

static void put_file(const struct fx *f, const char *name, const char *text)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", f->d, name);
	tf_write(path, text, 0644);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/sn-test-peersdir-XXXXXX");
	tf_dir(f->dir, 0755);
	snprintf(f->d, sizeof(f->d), "%s/d", f->dir);
	snprintf(f->hub, sizeof(f->hub), "%s/hub.yaml", f->dir);
	assert_int_equal(mkdir(f->d, 0755), 0);
	tf_key(f->dir, "hub.key");
	tf_write(f->hub, HUB, 0644);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	tf_rmtree(f->dir);
	free(f);
	return 0;
}

/* Load f's hub from its file (every check, key files and trust included). */
static int load(const struct fx *f, struct sn_config **c, char *err, size_t len)
{
	return sn_config_load(f->hub, c, err, len);
}

static void expect_err(const struct fx *f, const char *want_fmt, const char *arg)
{
	struct sn_config *c = (struct sn_config *)1;
	char err[1024] = "", want[1024];

	snprintf(want, sizeof(want), want_fmt, arg, arg, arg);
	assert_true(load(f, &c, err, sizeof(err)) < 0);
	assert_null(c);
	assert_string_equal(err, want);
}

/* peers: first, then the files in name order; other names are not peers. */
static void test_peers_dir_merged_in_name_order(void **state)
{
	struct fx *f = *state;
	struct sn_config *c = NULL;
	char err[1024] = "", path[256];

	put_file(f, "b-spoke.yaml", B_YAML);
	put_file(f, "a-spoke.json", C_JSON);
	put_file(f, ".b-spoke.yaml.swp", "garbage: [");
	put_file(f, ".hidden.yaml", "garbage: [");
	put_file(f, "README", "garbage: [");
	put_file(f, "old.yaml.bak", "garbage: [");
	put_file(f, "x.yml", "garbage: [");
	if (load(f, &c, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(c->n_peers, 3);
	assert_int_equal(c->peers[0].id, 2);
	assert_null(c->peers[0].file);
	assert_int_equal(c->peers[1].id, 4);
	assert_string_equal(c->peers[1].name, "spoke-c");
	snprintf(path, sizeof(path), "%s/a-spoke.json", f->d);
	assert_string_equal(c->peers[1].file, path);
	assert_int_equal(c->peers[2].id, 3);
	assert_string_equal(c->peers[2].name, "peer-3");
	assert_int_equal(c->peers[2].n_routes, 1);
	assert_int_equal(c->peers[2].loc.line, 1);
	snprintf(path, sizeof(path), "%s/b-spoke.yaml", f->d);
	assert_string_equal(c->peers[2].loc.file, path);
	snprintf(path, sizeof(path), "%s/d", f->dir);
	assert_string_equal(c->peers_dir, path);
	assert_int_equal(sn_config_peer(c, 3)->id, 3);
	sn_config_free(c);
}

/* Errors point into the peer's own file; clashes name the other place. */
static void test_peers_dir_errors_name_the_file(void **state)
{
	struct fx *f = *state;
	struct {
		const char *file, *text, *want; /* %s: f->d */
	} cases[] = {
		{ "b.yaml", "id: 3\npublic_key: nope\naddress: 10.0.0.3\n",
		  "%s/b.yaml:2:13: public_key: is 4 characters long (a key is 44 characters of base64, as printed by wg pubkey)" },
		{ "b.yaml", "id: 3\npublic_key: " KEY_B "\naddress: 10.0.0.3\nroute: []\n",
		  "%s/b.yaml:4:1: route: unknown key (did you mean 'routes'?)" },
		{ "b.yaml", "id: 3\npublic_key: " KEY_B "\n",
		  "%s/b.yaml:1:1: missing required key 'address' (the spoke's overlay address, inside overlay.subnet)" },
		{ "b.yaml", "id: 2\npublic_key: " KEY_B "\naddress: 10.0.0.3\n",
		  "%s/b.yaml:1:5: id: 2 is already the id of peers[0] (line 11); every node needs its own id" },
		{ "b.yaml", "id: 3\npublic_key: " KEY_A "\naddress: 10.0.0.3\n",
		  "%s/b.yaml:2:13: public_key: is the same key as peers[0].public_key (line 12); every node needs its own key pair" },
		{ "b.yaml", "id: 3\npublic_key: " KEY_B "\naddress: 10.0.0.2\n",
		  "%s/b.yaml:3:10: address: 10.0.0.2 is already the address of peers[0] (line 13)" },
		{ "b.yaml", "id: 3\npublic_key: " KEY_B "\naddress: 10.0.0.3\nroutes: [192.168.0.0/16]\n",
		  "%s/b.yaml:4:10: routes[0]: 192.168.0.0/16 overlaps 192.168.1.0/24 at peers[0].routes[0] (line 14), which belongs to node 2; a prefix can belong to one node only" },
		{ "b.yaml", "- id: 3\n", "%s/b.yaml:1:1: expected a mapping of key: value lines, got a list" },
		{ "b.yaml", "", "%s/b.yaml:1:1: the file is empty (expected one peer: id, public_key, address, ...)" },
		{ "b.yaml", "id: [3\n", NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[256];

		put_file(f, cases[i].file, cases[i].text);
		if (cases[i].want) {
			expect_err(f, cases[i].want, f->d);
		} else { /* a syntax error: at least the file and a place */
			struct sn_config *c = NULL;
			char err[1024] = "", want[300];

			assert_true(load(f, &c, err, sizeof(err)) < 0);
			snprintf(want, sizeof(want), "%s/b.yaml:", f->d);
			assert_memory_equal(err, want, strlen(want));
		}
		snprintf(path, sizeof(path), "%s/%s", f->d, cases[i].file);
		unlink(path);
	}
}

/* Two files clash: the later one (in name order) is blamed, naming the first. */
static void test_peers_dir_clash_between_files(void **state)
{
	struct fx *f = *state;

	put_file(f, "b.yaml", B_YAML);
	put_file(f, "c.yaml", "id: 3\npublic_key: " KEY_C "\naddress: 10.0.0.4\nroutes: [192.168.2.128/25]\n");
	expect_err(f, "%s/c.yaml:1:5: id: 3 is already the id of %s/b.yaml (line 1); every node needs its own id", f->d);
	put_file(f, "c.yaml", "id: 4\npublic_key: " KEY_B "\naddress: 10.0.0.4\n");
	expect_err(f, "%s/c.yaml:2:13: public_key: is the same key as public_key in %s/b.yaml (line 2); every node needs its own key pair", f->d);
	put_file(f, "c.yaml", "id: 4\npublic_key: " KEY_C "\naddress: 10.0.0.4\nroutes: [192.168.2.128/25]\n");
	expect_err(f, "%s/c.yaml:4:10: routes[0]: 192.168.2.128/25 overlaps 192.168.2.0/24 at routes[0] in %s/b.yaml (line 4), which belongs to node 3; a prefix can belong to one node only", f->d);
}

/* The shapes a hub may have: peers_dir alone (even empty), not on a spoke,
 * a directory that must exist; a file that is not regular is refused. */
static void test_peers_dir_shapes(void **state)
{
	struct fx *f = *state;
	struct sn_config *c = NULL;
	char err[1024] = "", text[1024], path[512];
	const char *cut = strstr(HUB, "peers:\n");

	snprintf(text, sizeof(text), "%.*s", (int)(cut - HUB), HUB);
	tf_write(f->hub, text, 0644);
	if (load(f, &c, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(c->n_peers, 0); /* a hub whose spokes are added later */
	sn_config_free(c);
	put_file(f, "b.yaml", B_YAML);
	assert_int_equal(load(f, &c, err, sizeof(err)), 0);
	assert_int_equal(c->n_peers, 1);
	sn_config_free(c);
	snprintf(path, sizeof(path), "%s/sub.yaml", f->d);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(text, sizeof(text), "%s/sub.yaml: not a regular file (peers_dir holds one file per spoke)", f->d);
	assert_true(load(f, &c, err, sizeof(err)) < 0);
	assert_string_equal(err, text);
	rmdir(path);
	snprintf(text, sizeof(text), "%.*speers_dir: missing\n", (int)(strstr(HUB, "peers_dir") - HUB), HUB);
	tf_write(f->hub, text, 0644);
	snprintf(path, sizeof(path), "%s:9:12: peers_dir: cannot open the directory %s/missing: No such file or directory (peers_dir holds one file per spoke)",
		 f->hub, f->dir);
	assert_true(load(f, &c, err, sizeof(err)) < 0);
	assert_string_equal(err, path);
}

static void test_peers_dir_not_on_a_spoke(void **state)
{
	static const char spoke[] =
		"node:\n  id: 2\n  role: spoke\n  private_key_file: k\n"
		"overlay:\n  subnet: 10.0.0.0/24\n  address: 10.0.0.2\n"
		"peers_dir: d\n"
		"hub:\n  id: 1\n  public_key: " KEY_A "\n  endpoint: 172.31.2.1:51820\n";
	struct sn_config *c = NULL;
	char err[512] = "";

	assert_int_equal(sn_config_load_buffer("s.yaml", spoke, strlen(spoke), false, &c, err,
					       sizeof(err)), -EINVAL);
	assert_string_equal(err, "s.yaml:8:1: peers_dir: not allowed on a spoke (a spoke has one peer, its hub: write it under hub:)");
}

/* A peer file that others could change grants them routes: refused. */
static void test_peers_dir_file_trusted(void **state)
{
	struct fx *f = *state;
	struct sn_config *c = NULL;
	char err[1024] = "", path[256];

	put_file(f, "b.yaml", B_YAML);
	snprintf(path, sizeof(path), "%s/b.yaml", f->d);
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(load(f, &c, err, sizeof(err)), -EPERM);
	assert_null(c);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "writable by group or others"));
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(chmod(f->d, 0777), 0);
	assert_int_equal(load(f, &c, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, f->d));
	assert_int_equal(chmod(f->d, 0755), 0);
	assert_int_equal(load(f, &c, err, sizeof(err)), 0);
	sn_config_free(c);
}

/* A peer file is at most 64 KiB. */
static void test_peers_dir_file_size(void **state)
{
	struct fx *f = *state;
	static char big[70000];
	char want[512];

	memset(big, '#', sizeof(big) - 2);
	big[sizeof(big) - 2] = '\n';
	put_file(f, "big.yaml", big);
	snprintf(want, sizeof(want), "%%s/big.yaml: cannot read the peer file: %s (a peer file is at most 64 KiB)",
		 strerror(EFBIG));
	expect_err(f, want, f->d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_peers_dir_merged_in_name_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peers_dir_errors_name_the_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peers_dir_clash_between_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peers_dir_shapes, setup, teardown),
		cmocka_unit_test(test_peers_dir_not_on_a_spoke),
		cmocka_unit_test_setup_teardown(test_peers_dir_file_trusted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peers_dir_file_size, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
