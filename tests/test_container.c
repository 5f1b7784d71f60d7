/* SPDX-License-Identifier: MIT */
/*
 * tests/test_container.c: the container entrypoint's steps (container/):
 * the private view of the config directory with 0600 key copies
 * (sn_entry_prepare), the control socket link, the forwarding switch, the
 * TUN node, and the word splitting of the image's /bin/sh.
 *
 * Each test works in its own temporary directory: D holds a copy of
 * conf/spoke-a.yaml and conf/keys, V is the view. The proof that a view
 * works is that sn_config_load, which checks key modes as subnetrad does,
 * accepts the config the entrypoint hands over.
 */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "entry.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct fx {
	char top[64];
	char d[96], v[96], conf[160], key[160];
	struct sn_entry e;
	char err[2048];
	char *log;
	size_t log_len;
};

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = calloc(1, (size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return s;
}

static void put(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

/* s with the first old replaced by new (malloc'd). */
static char *replace(const char *s, const char *old, const char *new)
{
	const char *at = strstr(s, old);
	char *out;

	assert_non_null(at);
	out = malloc(strlen(s) + strlen(new) + 1);
	assert_non_null(out);
	sprintf(out, "%.*s%s%s", (int)(at - s), s, new, at + strlen(old));
	return out;
}

static void copy(const char *from, const char *to, mode_t mode)
{
	char *s = slurp(from);

	put(to, s, mode);
	free(s);
}

static int setup(void **state)
{
	static const char *const keys[] = { "hub.key", "spoke-a.key", "spoke-b.key", "README" };
	struct fx *f = calloc(1, sizeof(*f));
	char from[512], to[256];

	if (!f)
		return -1;
	strcpy(f->top, "/tmp/sn-test-container-XXXXXX");
	if (!mkdtemp(f->top))
		return -1;
	snprintf(f->d, sizeof(f->d), "%s/etc", f->top);
	snprintf(f->v, sizeof(f->v), "%s/run/view", f->top);
	snprintf(f->conf, sizeof(f->conf), "%s/spoke-a.yaml", f->d);
	snprintf(f->key, sizeof(f->key), "%s/keys/spoke-a.key", f->d);
	snprintf(to, sizeof(to), "%s/keys", f->d);
	mkdir(f->d, 0755);
	mkdir(to, 0755);
	snprintf(from, sizeof(from), "%s/conf/spoke-a.yaml", SN_TEST_SOURCE_DIR);
	copy(from, f->conf, 0644);
	for (size_t i = 0; i < N(keys); i++) {
		snprintf(from, sizeof(from), "%s/conf/keys/%s", SN_TEST_SOURCE_DIR, keys[i]);
		snprintf(to, sizeof(to), "%s/keys/%s", f->d, keys[i]);
		copy(from, to, 0600);
	}
	f->e = (struct sn_entry){ .config = f->conf, .view_dir = f->v };
	f->e.log = open_memstream(&f->log, &f->log_len);
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

	fclose(f->e.log);
	free(f->log);
	nftw(f->top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static int prepare(struct fx *f)
{
	int rc = sn_entry_prepare(&f->e, f->err, sizeof(f->err));

	fflush(f->e.log);
	return rc;
}

/* The config the entrypoint hands over loads with key checks, as in subnetrad. */
static struct sn_config *loads(const char *path)
{
	struct sn_config *c = NULL;
	char err[1024];

	if (sn_config_load(path, &c, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	return c;
}

static mode_t mode_of(const char *path, int follow)
{
	struct stat st;

	assert_int_equal(follow ? stat(path, &st) : lstat(path, &st), 0);
	return st.st_mode;
}

static void test_container_private_key_runs_direct(void **state)
{
	struct fx *f = *state;
	struct stat st;

	assert_int_equal(prepare(f), 0);
	assert_string_equal(f->e.run_config, f->conf);
	assert_int_equal(f->e.copies, 0);
	assert_int_not_equal(lstat(f->v, &st), 0); /* no view */
	assert_non_null(strstr(f->log, "key files are private already"));
	assert_non_null(strstr(f->e.socket, "/etc/run/spoke-a.sock"));
}

static void test_container_open_key_gets_a_copy(void **state)
{
	struct fx *f = *state;
	char p[256], err[1024], *want, *got;
	struct sn_config *c = NULL;

	assert_int_equal(chmod(f->key, 0644), 0);
	/* what subnetrad says of the config as it is */
	assert_int_equal(sn_config_load(f->conf, &c, err, sizeof(err)), -EACCES);
	assert_non_null(strstr(err, "is accessible by group or others (mode 0644"));
	assert_int_equal(prepare(f), 0);
	snprintf(p, sizeof(p), "%s/spoke-a.yaml", f->v);
	assert_string_equal(f->e.run_config, p);
	assert_int_equal(f->e.copies, 1);
	assert_true(S_ISLNK(mode_of(p, 0)));
	/* keys/ is a real private directory: the key a copy, the rest links */
	snprintf(p, sizeof(p), "%s/keys", f->v);
	assert_int_equal(mode_of(p, 0) & 07777, 0700);
	snprintf(p, sizeof(p), "%s/keys/spoke-a.key", f->v);
	assert_int_equal(mode_of(p, 0), S_IFREG | 0600);
	want = slurp(f->key);
	got = slurp(p);
	assert_string_equal(got, want);
	snprintf(p, sizeof(p), "%s/keys/hub.key", f->v);
	assert_true(S_ISLNK(mode_of(p, 0)));
	/* state and socket directories were made in D, and V links to them */
	snprintf(p, sizeof(p), "%s/state/spoke-a", f->d);
	assert_true(S_ISDIR(mode_of(p, 0)));
	snprintf(p, sizeof(p), "%s/state", f->v);
	assert_true(S_ISLNK(mode_of(p, 0)));
	snprintf(p, sizeof(p), "%s/run/spoke-a.sock", f->v);
	assert_string_equal(f->e.socket, p);
	c = loads(f->e.run_config);
	assert_non_null(strstr(f->log, "has mode 0644, which subnetrad refuses for a key"));
	assert_non_null(strstr(f->log, "using a copy of mode 0600"));
	sn_config_free(c);
	free(want);
	free(got);
}

static void test_container_view_is_made_afresh(void **state)
{
	struct fx *f = *state;
	char p[256];
	struct stat st;

	assert_int_equal(chmod(f->key, 0640), 0);
	assert_int_equal(prepare(f), 0);
	snprintf(p, sizeof(p), "%s/leftover", f->v);
	put(p, "x", 0600);
	assert_int_equal(prepare(f), 0);
	assert_int_not_equal(lstat(p, &st), 0);
	sn_config_free(loads(f->e.run_config));
}

static void test_container_key_from_environment(void **state)
{
	struct fx *f = *state;
	struct sn_config *c;
	char *file_key;

	file_key = slurp(f->key);
	assert_int_equal(unlink(f->key), 0); /* the key lives only in the variable */
	f->e.private_key = strtok(file_key, "\n");
	assert_int_equal(prepare(f), 0);
	assert_int_equal(f->e.copies, 1);
	assert_non_null(strstr(f->log, "node.private_key_file: using SUBNETRA_PRIVATE_KEY"));
	c = loads(f->e.run_config);
	sn_config_free(c);
	free(file_key);
}

static void test_container_config_from_environment(void **state)
{
	struct fx *f = *state;
	char from[512], p[256], *json, *key;
	struct sn_config *c;

	snprintf(from, sizeof(from), "%s/conf/spoke-a.json", SN_TEST_SOURCE_DIR);
	json = slurp(from);
	key = slurp(f->key);
	f->e.config = NULL;
	f->e.config_text = json;
	/* without the key, nothing could provide keys/spoke-a.key in the view */
	assert_int_equal(prepare(f), -EINVAL);
	assert_non_null(strstr(f->err, "set SUBNETRA_PRIVATE_KEY, or name a mounted key file"));
	f->e.private_key = key;
	assert_int_equal(prepare(f), 0);
	snprintf(p, sizeof(p), "%s/subnetra.yaml", f->v);
	assert_string_equal(f->e.run_config, p);
	assert_int_equal(mode_of(p, 0), S_IFREG | 0600);
	snprintf(p, sizeof(p), "%s/keys/spoke-a.key", f->v);
	assert_int_equal(mode_of(p, 0), S_IFREG | 0600);
	snprintf(p, sizeof(p), "%s/run/spoke-a.sock", f->v);
	assert_string_equal(f->e.socket, p);
	c = loads(f->e.run_config);
	assert_int_equal(c->node_id, 2);
	sn_config_free(c);
	free(json);
	free(key);
}

/* What cannot work gets an error that says why and what would. */
static void test_container_refusals(void **state)
{
	struct fx *f = *state;
	char p[256], *s, *t;

	f->e.config = "etc/spoke-a.yaml";
	assert_int_equal(prepare(f), -EINVAL);
	assert_non_null(strstr(f->err, "expected the absolute path of a file"));

	/* a key outside the config's directory cannot be stood in for */
	snprintf(p, sizeof(p), "%s/outside.key", f->top);
	copy(f->key, p, 0644);
	s = slurp(f->conf);
	t = replace(s, "keys/spoke-a.key", "../outside.key");
	put(f->conf, t, 0644);
	f->e.config = f->conf;
	assert_int_equal(prepare(f), -EPERM);
	assert_non_null(strstr(f->err, "outside the config's directory"));
	assert_non_null(strstr(f->err, "give node.private_key_file relative to the config"));
	free(s);
	free(t);

	/* a config the loader refuses: its message, with the place */
	put(f->conf, "node: {id: 2\n", 0644);
	assert_int_equal(prepare(f) < 0, 1);
	assert_non_null(strstr(f->err, "spoke-a.yaml:"));

	/* the view may not hold the config */
	f->e.view_dir = f->d;
	assert_int_equal(prepare(f), -EINVAL);
	assert_non_null(strstr(f->err, "cannot share a directory"));
}

static void test_container_socket_link(void **state)
{
	struct fx *f = *state;
	char def[256], target[256], got[256];
	ssize_t n;

	snprintf(def, sizeof(def), "%s/sock/subnetra.sock", f->top);
	snprintf(target, sizeof(target), "%s/etc/run/spoke-a.sock", f->top);
	assert_int_equal(sn_entry_link_socket(def, target, f->e.log, f->err, sizeof(f->err)), 0);
	n = readlink(def, got, sizeof(got) - 1);
	assert_true(n > 0);
	got[n] = '\0';
	assert_string_equal(got, target);
	/* started again with the default socket: the stale link goes */
	assert_int_equal(sn_entry_link_socket(def, def, f->e.log, f->err, sizeof(f->err)), 0);
	assert_int_not_equal(access(def, F_OK), 0);
	/* never over something that is not a socket or a link */
	put(def, "data", 0600);
	assert_int_equal(sn_entry_link_socket(def, target, f->e.log, f->err, sizeof(f->err)),
			 -EEXIST);
	assert_non_null(strstr(f->err, "is not a socket or a link"));
}

static void test_container_forwarding(void **state)
{
	struct fx *f = *state;
	char p[256], *s;

	snprintf(p, sizeof(p), "%s/ip_forward", f->top);
	put(p, "0\n", 0644);
	assert_int_equal(sn_entry_forwarding(p, f->e.log, f->err, sizeof(f->err)), 0);
	s = slurp(p);
	assert_string_equal(s, "1\n");
	free(s);
	snprintf(p, sizeof(p), "%s/no/such/ip_forward", f->top);
	assert_int_equal(sn_entry_forwarding(p, f->e.log, f->err, sizeof(f->err)), -ENOENT);
	assert_non_null(strstr(f->err, "cannot turn on IPv4 forwarding"));
	assert_non_null(strstr(f->err, "SUBNETRA_IP_FORWARD=0"));
}

static void test_container_tun_node(void **state)
{
	struct fx *f = *state;
	char p[256];
	struct stat st;

	if (geteuid() != 0)
		skip();
	snprintf(p, sizeof(p), "%s/dev", f->top);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/dev/net/tun", f->top);
	assert_int_equal(sn_entry_tun(p, f->e.log, f->err, sizeof(f->err)), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(major(st.st_rdev), 10);
	assert_int_equal(minor(st.st_rdev), 200);
	assert_int_equal(sn_entry_tun(p, f->e.log, f->err, sizeof(f->err)), 0); /* there already */
	snprintf(p, sizeof(p), "%s/not-a-device", f->top);
	put(p, "", 0600);
	assert_int_equal(sn_entry_tun(p, f->e.log, f->err, sizeof(f->err)), -ENODEV);
}

static void test_container_split(void **state)
{
	static const struct {
		const char *line;
		int n;
		const char *words[5];
	} cases[] = {
		{ "subnetra status\n", 2, { "subnetra", "status" } },
		{ "  subnetra\t--json   status  ", 3, { "subnetra", "--json", "status" } },
		{ "subnetra policy add '10.1.0.0/16' drop", 5,
		  { "subnetra", "policy", "add", "10.1.0.0/16", "drop" } },
		{ "echo \"a b\" 'c\"d' e\\ f", 4, { "echo", "a b", "c\"d", "e f" } },
		{ "x\"\"y ''", 2, { "xy", "" } },
		{ "", 0, { NULL } },
		{ "   # a comment", 0, { NULL } },
		{ "ls # rest", 1, { "ls" } },
		{ "say 'unclosed", -EINVAL, { NULL } },
		{ "a b c d e f g h", -E2BIG, { NULL } },
	};
	char buf[128], *argv[6];

	for (size_t i = 0; i < N(cases); i++) {
		int n;

		snprintf(buf, sizeof(buf), "%s", cases[i].line);
		n = sn_entry_split(buf, argv, (int)N(argv));
		assert_int_equal(n, cases[i].n);
		for (int k = 0; k < n; k++)
			assert_string_equal(argv[k], cases[i].words[k]);
		if (n >= 0)
			assert_null(argv[n]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_container_private_key_runs_direct),
		T(test_container_open_key_gets_a_copy),
		T(test_container_view_is_made_afresh),
		T(test_container_key_from_environment),
		T(test_container_config_from_environment),
		T(test_container_refusals),
		T(test_container_socket_link),
		T(test_container_forwarding),
		T(test_container_tun_node),
		T(test_container_split),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
