/* SPDX-License-Identifier: MIT */
/*
 * tests/test_netplan.c: `subnetrad --print-network-plan` (core/netplan.c).
 *
 * The plans of the conf/ examples (hub, spoke-a) for every platform are
 * compared with tests/golden/netplan-<platform>-<node>.txt, the routeros
 * ones once per RouterOS version the plan is written for
 * (netplan-routeros-7.<minor>-<node>.txt); the private copy's directory is
 * written as "conf". SN_UPDATE_GOLDEN=1 rewrites the golden files instead;
 * review the diff before committing it. Then the variations the examples
 * do not cover: routes the operator manages, a spoke without a LAN, another
 * MTU, a container link that must move, a hub given by name, a key outside
 * the config's directory, bad platforms, versions and configs.
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
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "daemon.h"
#include "netplan.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct fx {
	char dir[64];
	struct sn_config *hub, *spoke;
};

static const char *const platforms[] = { "linux", "macos", "routeros" };
static const char *const ros_versions[] = { "7.19", "7.20", "7.21" };

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

static struct sn_config *load(struct fx *f, const char *name)
{
	struct sn_config *c = NULL;
	char path[160], err[1024] = "";

	snprintf(path, sizeof(path), "%s/%s.yaml", f->dir, name);
	if (sn_config_load(path, &c, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	return c;
}

static int setup(void **state)
{
	static const char *const files[][2] = {
		{ "hub.yaml", "0644" }, { "spoke-a.yaml", "0644" },
		{ "keys/hub.key", "0600" }, { "keys/spoke-a.key", "0600" },
	};
	struct fx *f = calloc(1, sizeof(*f));
	char from[512], to[160];

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/sn-test-netplan-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(to, sizeof(to), "%s/keys", f->dir);
	mkdir(to, 0700);
	for (size_t i = 0; i < N(files); i++) {
		snprintf(from, sizeof(from), "%s/conf/%s", SN_TEST_SOURCE_DIR, files[i][0]);
		snprintf(to, sizeof(to), "%s/%s", f->dir, files[i][0]);
		copy_file(from, to, (mode_t)strtoul(files[i][1], NULL, 8));
	}
	f->hub = load(f, "hub");
	f->spoke = load(f, "spoke-a");
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

	sn_config_free(f->hub);
	sn_config_free(f->spoke);
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* The plan as a string (malloc'd), with the private directory named "conf". */
static char *plan_v(struct fx *f, const struct sn_config *c, const char *platform,
		    const char *version, int *rc)
{
	char *buf = NULL, *out, *p, *o;
	size_t len = 0, dl = strlen(f->dir);
	FILE *m = open_memstream(&buf, &len);

	assert_non_null(m);
	*rc = sn_netplan_print(c, platform, version, m);
	fclose(m);
	out = malloc(len + 1);
	assert_non_null(out);
	for (p = buf, o = out; *p;) {
		if (!strncmp(p, f->dir, dl)) {
			memcpy(o, "conf", 4);
			o += 4;
			p += dl;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	free(buf);
	return out;
}

static char *plan(struct fx *f, const struct sn_config *c, const char *platform, int *rc)
{
	return plan_v(f, c, platform, NULL, rc);
}

static char *read_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *s;
	long n;

	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	s = calloc(1, (size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	return s;
}

/* The first line where a and b differ, for a readable failure. */
static void first_diff(const char *a, const char *b, const char *what)
{
	const char *la = a, *lb = b;
	int line = 1;

	while (*a && *a == *b) {
		if (*a == '\n') {
			line++;
			la = a + 1;
			lb = b + 1;
		}
		a++;
		b++;
	}
	fail_msg("%s differs at line %d:\n  got:  %.*s\n  want: %.*s", what, line,
		 (int)strcspn(la, "\n"), la, (int)strcspn(lb, "\n"), lb);
}

static void check_golden(struct fx *f, const struct sn_config *c, const char *node,
			 const char *platform, const char *version)
{
	char path[512];
	int rc;
	char *got = plan_v(f, c, platform, version, &rc), *want;

	assert_int_equal(rc, 0);
	snprintf(path, sizeof(path), "%s/tests/golden/netplan-%s%s%s-%s.txt", SN_TEST_SOURCE_DIR,
		 platform, version ? "-" : "", version ? version : "", node);
	if (getenv("SN_UPDATE_GOLDEN")) {
		FILE *fp = fopen(path, "w");

		assert_non_null(fp);
		fputs(got, fp);
		fclose(fp);
	}
	want = read_file(path);
	if (!want)
		fail_msg("no golden file %s (run with SN_UPDATE_GOLDEN=1 to make it)", path);
	if (strcmp(got, want))
		first_diff(got, want, path);
	free(got);
	free(want);
}

static void test_netplan_golden(void **state)
{
	struct fx *f = *state;

	for (size_t i = 0; i < 2; i++) {
		check_golden(f, f->hub, "hub", platforms[i], NULL);
		check_golden(f, f->spoke, "spoke-a", platforms[i], NULL);
	}
	for (size_t i = 0; i < N(ros_versions); i++) {
		check_golden(f, f->hub, "hub", "routeros", ros_versions[i]);
		check_golden(f, f->spoke, "spoke-a", "routeros", ros_versions[i]);
	}
}

/* The shell plans are at least valid sh. */
static void test_netplan_shell_syntax(void **state)
{
	struct fx *f = *state;
	const struct sn_config *cs[2] = { f->hub, f->spoke };
	char path[160], cmd[256];
	int rc;

	snprintf(path, sizeof(path), "%s/plan.sh", f->dir);
	snprintf(cmd, sizeof(cmd), "sh -n %s", path);
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < 2; k++) {
			char *s = plan(f, cs[i], platforms[k], &rc);
			FILE *fp = fopen(path, "w");

			assert_non_null(fp);
			fputs(s, fp);
			fclose(fp);
			assert_int_equal(system(cmd), 0);
			free(s);
		}
}

static void test_netplan_default_platform(void **state)
{
	struct fx *f = *state;
	int rc;
	char *a = plan(f, f->hub, NULL, &rc), *b = plan(f, f->hub, "linux", &rc);

	assert_string_equal(a, b);
	assert_non_null(strstr(a, " on linux, from conf/hub.yaml.\n"));
	free(a);
	free(b);
}

static void test_netplan_unknown_platform(void **state)
{
	struct fx *f = *state;
	int rc;
	char *s = plan(f, f->hub, "windows", &rc);

	assert_int_equal(rc, -EINVAL);
	assert_string_equal(s, "");
	free(s);
	assert_false(sn_netplan_platform_ok("Linux"));
	assert_false(sn_netplan_platform_ok("darwin"));
	assert_true(sn_netplan_platform_ok("routeros"));
	assert_true(sn_netplan_platform_ok(NULL));
}

static void test_netplan_daemon_plan(void **state)
{
	struct fx *f = *state;
	char path[160], missing[160], *buf = NULL;
	size_t len = 0;
	struct sn_daemon_opts o = { .config = path, .plan = 1 };
	FILE *m;

	snprintf(path, sizeof(path), "%s/hub.yaml", f->dir);
	snprintf(missing, sizeof(missing), "%s/nope.yaml", f->dir);
	m = open_memstream(&buf, &len);
	assert_non_null(m);
	o.platform = "bsd";
	assert_int_equal(sn_daemon_plan(&o, m), 2);
	o.platform = "routeros";
	o.routeros_version = "6.49";
	assert_int_equal(sn_daemon_plan(&o, m), 2);
	o.routeros_version = NULL;
	o.platform = "routeros";
	o.config = missing;
	assert_int_equal(sn_daemon_plan(&o, m), 1);
	fflush(m);
	assert_int_equal(len, 0);
	o.config = path;
	assert_int_equal(sn_daemon_plan(&o, m), 0);
	fclose(m);
	assert_non_null(strstr(buf, "/interface/veth add name=veth-subnetra"));
	free(buf);
}

static void test_netplan_unmanaged_routes(void **state)
{
	struct fx *f = *state;
	int rc;
	char *s;

	f->hub->manage_routes = false;
	s = plan(f, f->hub, "linux", &rc);
	assert_non_null(strstr(s, "# overlay.manage_routes is false: add them yourself"));
	assert_non_null(strstr(s, "\nip route replace 192.168.1.0/24 dev subnetra0\n"
				  "ip route replace 192.168.2.0/24 dev subnetra0\n"));
	free(s);
	s = plan(f, f->hub, "macos", &rc);
	assert_non_null(strstr(s, "\nroute -q -n add -net 192.168.2.0/24 -interface \"$IF\"\n"));
	free(s);
}

static void test_netplan_spoke_without_lan(void **state)
{
	struct fx *f = *state;
	int rc;
	char *s;

	f->spoke->n_lans = 0;
	s = plan(f, f->spoke, "linux", &rc);
	assert_non_null(strstr(s, "# --- 3. IPv4 forwarding ----"));
	assert_non_null(strstr(s, "\n# Not needed: this spoke routes no LAN (overlay.lans is empty).\n"));
	assert_null(strstr(s, "sysctl"));
	free(s);
}

static void test_netplan_mtu(void **state)
{
	struct fx *f = *state;
	int rc;
	char *s;

	f->spoke->mtu = 1280;
	for (size_t i = 0; i < N(platforms); i++) {
		s = plan(f, f->spoke, platforms[i], &rc);
		assert_non_null(strstr(s, "# MTU 1280 leaves a TCP MSS of 1240 (MTU - 40)."));
		assert_non_null(strstr(s, i == 0 ? "tcp option maxseg size 1241-65535 tcp option "
						   "maxseg size set 1240\n" :
					   i == 1 ? "scrub on $IF all max-mss 1240\n" :
						    "tcp-mss=1241-65535 out-interface=br-subnetra "
						    "action=change-mss new-mss=1240 "));
		free(s);
	}
}

static void test_netplan_routeros_link_moves(void **state)
{
	struct fx *f = *state;
	struct sn_prefix p;
	int rc;
	char *s;

	assert_int_equal(sn_prefix_parse("172.16.0.0/15", &p, NULL, 0), 0);
	f->spoke->lans[0] = p; /* takes 172.16.x and 172.17.x */
	s = plan(f, f->spoke, "routeros", &rc);
	assert_non_null(strstr(s, "/interface/veth add name=veth-subnetra address=172.18.0.2/24 "
				  "gateway=172.18.0.1 comment=subnetra\n"));
	assert_non_null(strstr(s, "/ip/route add dst-address=192.168.2.0/24 gateway=172.18.0.2 "));
	assert_null(strstr(s, "172.17.0."));
	free(s);
}

/* The container properties each version names, and what it must not name. */
static void test_netplan_routeros_versions(void **state)
{
	static const struct {
		const char *version;
		const char *has[6];
		const char *lacks[3];
	} cases[] = {
		{ "7.19",
		  { "/container/envs add name=subnetra key=SUBNETRA_CONFIG ",
		    "/container/mounts add name=subnetra-etc src=disk1/subnetra/etc ",
		    " mounts=subnetra-etc envlist=subnetra ",
		    "([/container/get $c status] = \"stopped\")",
		    "#   /container/shell [find comment=subnetra]\n# then type subnetra status" },
		  { "envlists=", "mountlists=", "cmd=\"subnetra status\"" } },
		{ "7.20",
		  { "/container/envs add list=subnetra key=SUBNETRA_CONFIG ",
		    "/container/mounts add name=subnetra-etc ",
		    " mounts=subnetra-etc envlists=subnetra ",
		    ":while ((![/container/get $c stopped]) && ($t < 300))",
		    "/container/shell [find comment=subnetra] cmd=\"subnetra status\"" },
		  { "envlist=", "mountlists=", "status] = \"stopped\"" } },
		{ "7.21",
		  { "/container/envs add list=subnetra ",
		    "/container/mounts add list=subnetra-etc src=disk1/subnetra/etc dst=/etc/subnetra\n",
		    " mountlists=subnetra-etc envlists=subnetra ", "# RouterOS 7.21 commands" },
		  { "envlist=", " mounts=", "Written against" } },
		{ "7.21.2", { " mountlists=subnetra-etc envlists=subnetra ", "RouterOS 7.21 " }, { NULL } },
		{ "7.4", { " mounts=subnetra-etc envlist=subnetra ", "# RouterOS 7.4 commands" }, { NULL } },
		{ "7.23",
		  { " mountlists=subnetra-etc envlists=subnetra ",
		    "# Written against 7.19, 7.20 and 7.21: 7.23 gets 7.21's names.\n" },
		  { NULL } },
	};
	struct fx *f = *state;
	int rc;

	for (size_t i = 0; i < N(cases); i++) {
		char *s = plan_v(f, f->spoke, "routeros", cases[i].version, &rc);

		assert_int_equal(rc, 0);
		for (size_t k = 0; k < N(cases[i].has) && cases[i].has[k]; k++)
			if (!strstr(s, cases[i].has[k]))
				fail_msg("%s: no '%s'", cases[i].version, cases[i].has[k]);
		for (size_t k = 0; k < N(cases[i].lacks) && cases[i].lacks[k]; k++)
			if (strstr(s, cases[i].lacks[k]))
				fail_msg("%s: has '%s'", cases[i].version, cases[i].lacks[k]);
		free(s);
	}
}

static void test_netplan_routeros_default_version(void **state)
{
	struct fx *f = *state;
	int rc;
	char *a = plan(f, f->hub, "routeros", &rc), *b = plan_v(f, f->hub, "routeros",
								 SN_NETPLAN_ROUTEROS_DEFAULT, &rc);

	assert_string_equal(SN_NETPLAN_ROUTEROS_DEFAULT, "7.21");
	assert_string_equal(a, b);
	free(a);
	free(b);
	/* the other platforms do not care */
	a = plan_v(f, f->hub, "linux", "7.19", &rc);
	b = plan(f, f->hub, "linux", &rc);
	assert_string_equal(a, b);
	free(a);
	free(b);
}

static void test_netplan_routeros_bad_versions(void **state)
{
	static const struct {
		const char *v, *why;
	} cases[] = {
		{ "7", "is not a RouterOS version (expected 7.MINOR, e.g. 7.19, 7.20 or 7.21)" },
		{ "7.", "is not a RouterOS version" },
		{ "7.x", "is not a RouterOS version" },
		{ "7.21.", "is not a RouterOS version" },
		{ "7.21beta3", "is not a RouterOS version" },
		{ " 7.21", "is not a RouterOS version" },
		{ "7.1234", "is not a RouterOS version" },
		{ "", "is not a RouterOS version" },
		{ "6.49", "6.49 has no containers (the container package came with RouterOS 7.4" },
		{ "8.1", "8.1 has no containers" },
		{ "7.3", "7.3 has no containers" },
	};
	struct fx *f = *state;
	char err[256];
	unsigned minor = 0;
	int rc;

	for (size_t i = 0; i < N(cases); i++) {
		char *s;

		err[0] = '\0';
		assert_int_equal(sn_netplan_routeros_version(cases[i].v, &minor, err, sizeof(err)),
				 -EINVAL);
		if (!strstr(err, cases[i].why))
			fail_msg("'%s': %s", cases[i].v, err);
		s = plan_v(f, f->hub, "routeros", cases[i].v, &rc);
		assert_int_equal(rc, -EINVAL);
		assert_string_equal(s, "");
		free(s);
	}
	assert_int_equal(sn_netplan_routeros_version("7.20.10", &minor, err, sizeof(err)), 0);
	assert_int_equal(minor, 20);
}

/* A hub given by name: the container gets the router as its resolver. */
static void test_netplan_routeros_dns(void **state)
{
	struct fx *f = *state;
	int rc;
	char *s = plan(f, f->spoke, "routeros", &rc);

	assert_null(strstr(s, "dns="));
	free(s);
	f->spoke->peers[0].endpoint_text = "hub.example.net:51820";
	s = plan(f, f->spoke, "routeros", &rc);
	assert_non_null(strstr(s, " envlists=subnetra dns=172.17.0.1 start-on-boot=yes "));
	assert_non_null(strstr(s, "# The hub is given by name (hub.example.net:51820): the container "
				  "asks the router's\n# DNS at 172.17.0.1 "));
	free(s);
}

/* A key file outside the config's directory cannot travel with it. */
static void test_netplan_routeros_key_outside(void **state)
{
	struct fx *f = *state;
	int rc;
	char *s = plan(f, f->spoke, "routeros", &rc);

	assert_non_null(strstr(s, "with its key file\n# (keys/spoke-a.key): any file mode will do"));
	assert_null(strstr(s, "is not inside the config's"));
	free(s);
	f->spoke->private_key_file = "/srv/subnetra/node.key";
	s = plan(f, f->spoke, "routeros", &rc);
	assert_non_null(strstr(s, "# But node.private_key_file (/srv/subnetra/node.key) is not inside "
				  "the config's\n"));
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_netplan_golden),
		T(test_netplan_shell_syntax),
		T(test_netplan_default_platform),
		T(test_netplan_unknown_platform),
		T(test_netplan_daemon_plan),
		T(test_netplan_unmanaged_routes),
		T(test_netplan_spoke_without_lan),
		T(test_netplan_mtu),
		T(test_netplan_routeros_link_moves),
		T(test_netplan_routeros_versions),
		T(test_netplan_routeros_default_version),
		T(test_netplan_routeros_bad_versions),
		T(test_netplan_routeros_dns),
		T(test_netplan_routeros_key_outside),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
