/* SPDX-License-Identifier: MIT */
/*
 * tests/test_loader.c: every way plugin loading can fail, and its message;
 * and the plugin directory and plugin files that anyone but root or the
 * daemon's user could change, refused, from a private copy (chown cases as
 * root only).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader.h"

#define TDIR SN_TEST_BINARY_DIR "/test-plugins"

struct expect {
	const char *name;   /* plugins.egress value */
	int rc;             /* expected return */
	const char *msg;    /* expected substring of the error */
};

static void check(uint32_t kind, const struct expect *e)
{
	struct sn_plugin p;
	char err[1024] = "";
	int r = sn_loader_load(kind, e->name, TDIR, &p, err, sizeof(err));

	if (r != e->rc || !strstr(err, e->msg))
		print_error("name=%s rc=%d err='%s' (want rc=%d msg='%s')\n", e->name, r, err,
			    e->rc, e->msg);
	assert_int_equal(r, e->rc);
	assert_non_null(strstr(err, e->msg));
}

static void test_loader_failures_name_file_and_reason(void **state)
{
	static const struct expect cases[] = {
		{"t_missing", -ENOENT, TDIR "/egress_t_missing.so: egress plugin file not found"},
		{"t_text", -ENOEXEC, TDIR "/egress_t_text.so: cannot load as a shared object"},
		{"t_nosym", -ENOEXEC, TDIR "/egress_t_nosym.so: no sn_plugin_entry_v1 symbol"},
		{"t_major", -EPROTO, "egress_t_major.so: plugin ABI 2.0 is not supported by this subnetrad (ABI 1.0): major versions differ"},
		{"t_minor", -EPROTO, "egress_t_minor.so: plugin needs ABI 1.1 but this subnetrad provides 1.0"},
		{"t_kind", -EINVAL, "egress_t_kind.so: is an os plugin, but plugins.egress names it"},
		{"t_missing_op", -EINVAL, "egress_t_missing_op.so: required operation egress.send_batch is missing"},
		{"t_probe_no", -ENODEV, "egress_t_probe_no.so: not available on this machine: needs hardware this machine does not have"},
		{"t_badalign", -EINVAL, "egress_t_badalign.so: instance_align 24 is not a power of two"},
		{"t_noname", -EINVAL, "egress_t_noname.so: declares the name 'somebody_else', expected 't_noname'"},
		{"t_bigtail", -E2BIG, "egress_t_bigtail.so: egress plugin 't_bigtail' declares 1073741824 bytes of tailroom; a plugin may have at most 1024 (SN_ROOM_MAX"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check(SN_KIND_EGRESS, &cases[i]);
}

/* A name that is not installed: the closest one that is, and all of them
 * (sorted); or that none of the kind is. */
static void test_loader_missing_suggests_installed(void **state)
{
	static const struct expect egress = {"t_goood", -ENOENT,
		TDIR "/egress_t_goood.so: egress plugin file not found (No such file or directory); "
		"did you mean 't_good'?; installed in " TDIR ": t_badalign, t_bigtail, t_good, "
		"t_kind, t_major, t_minor, t_missing_op, t_noname, t_nosym, t_probe_no, t_text"};
	static const struct expect far = {"quic", -ENOENT,
		"(No such file or directory); installed in " TDIR ": t_badalign,"};
	static const struct expect os = {"linux", -ENOENT,
		TDIR "/os_linux.so: os plugin file not found (No such file or directory); "
		"no os plugin is installed in " TDIR};

	check(SN_KIND_EGRESS, &egress);
	check(SN_KIND_EGRESS, &far);
	check(SN_KIND_OS, &os);
}

static void test_loader_good_plugin_loads_creates_unloads(void **state)
{
	struct sn_plugin p;
	struct sn_host host;
	char err[512] = "";
	const struct sn_egress_ops *ops;
	struct sn_egress_open oa = {.struct_size = sizeof(oa)};

	sn_host_init(&host, NULL, NULL);
	assert_int_equal(sn_loader_load(SN_KIND_EGRESS, "t_good", TDIR, &p, err, sizeof(err)), 0);
	assert_string_equal(p.desc->name, "t_good");
	assert_int_equal(sn_plugin_create(&p, &host, NULL, err, sizeof(err)), 0);
	ops = sn_plugin_ops(&p);
	assert_int_equal(ops->open(p.inst, &oa), 0);
	assert_int_equal(*(int *)p.inst, 1);
	sn_plugin_unload(&p);
	assert_null(p.inst);
}

static void test_loader_create_failure_carries_plugin_reason(void **state)
{
	struct sn_plugin p;
	struct sn_host host;
	char err[512] = "";
	struct sn_option o = {"colour", "blue"};
	struct sn_options opts = {&o, 1, 0};

	sn_host_init(&host, NULL, NULL);
	assert_int_equal(sn_loader_load(SN_KIND_EGRESS, "t_good", TDIR, &p, err, sizeof(err)), 0);
	assert_int_equal(sn_plugin_create(&p, &host, &opts, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "egress_t_good.so: unknown option 'colour'"));
	sn_plugin_unload(&p);
}

/* create(p) with options opts (key/value pairs, n of them). */
static int create_with(struct sn_plugin *p, struct sn_host *h, const struct sn_option *o, uint32_t n,
		       char *err, size_t err_len)
{
	struct sn_options opts = {o, n, 0};

	assert_int_equal(sn_loader_load(SN_KIND_EGRESS, "t_good", TDIR, p, err, err_len), 0);
	return sn_plugin_create(p, h, &opts, err, err_len);
}

/* Room that depends on the options: declared at create, bounded, and the
 * refusal names the plugin (not a pool that fails to allocate later). */
static void test_loader_room_set_at_create(void **state)
{
	static const struct sn_option ok[] = {{"tailroom", "100"}}, big[] = {{"tailroom", "2000"}};
	struct sn_plugin p;
	struct sn_host host;
	char err[512] = "";

	sn_host_init(&host, NULL, NULL);
	assert_int_equal(create_with(&p, &host, ok, 1, err, sizeof(err)), 0);
	assert_int_equal(p.decl.tailroom, 100);
	assert_int_equal(p.decl.headroom, 0);
	assert_null(host.creating);
	/* outside create() the host refuses */
	assert_int_equal(sn_host_api_table()->room_set(&host, 0, 1, 0), -EPERM);
	sn_plugin_unload(&p);
	assert_int_equal(create_with(&p, &host, big, 1, err, sizeof(err)), -E2BIG);
	assert_string_equal(err, TDIR "/egress_t_good.so: egress plugin 't_good' asks at create for "
			    "2000 bytes of tailroom; a plugin may have at most 1024 (SN_ROOM_MAX, "
			    "subnetra/packet.h)");
	assert_null(p.inst);
	sn_plugin_unload(&p);
}

/* Counters registered at create live as long as their plugin. */
static void test_loader_counters_follow_the_plugin(void **state)
{
	static const struct sn_option two[] = {{"counter", "alpha"}, {"counter", "beta"}};
	static const struct sn_option dup[] = {{"counter", "gamma"}, {"counter", "gamma"}};
	const struct sn_host_api *api = sn_host_api_table();
	struct sn_plugin p, q;
	struct sn_host host;
	char err[512] = "";

	sn_host_init(&host, NULL, NULL);
	assert_int_equal(create_with(&p, &host, two, 2, err, sizeof(err)), 0);
	assert_int_equal(host.n_pctr, 2);
	assert_string_equal(host.pctr[1].name, "beta");
	assert_string_equal(host.pctr[1].owner->name, "t_good");
	assert_string_equal(host.pctr[1].help, "A test counter.");
	assert_int_equal(host.pctr_val[0], 1);
	api->counter_add(&host, 1, 41);
	assert_int_equal(host.pctr_val[1], 42);
	api->counter_add(&host, 9999, 1); /* out of bounds: ignored */
	assert_int_equal(api->counter_register(&host, "late", "Too late."), -EPERM);
	/* a failed create leaves no counter behind */
	assert_int_equal(create_with(&q, &host, dup, 2, err, sizeof(err)), -EEXIST);
	assert_int_equal(host.n_pctr, 2);
	sn_plugin_unload(&q);
	sn_plugin_unload(&p);
	assert_int_equal(host.n_pctr, 0);
}

/* What counter_register accepts, and its limits. */
static void test_loader_counter_rules(void **state)
{
	static const struct { const char *name, *help; int rc; } cases[] = {
		{"ok_1", "Fine.", 0},
		{"Upper", "Fine.", -EINVAL},
		{"1st", "Fine.", -EINVAL},
		{"", "Fine.", -EINVAL},
		{"has-dash", "Fine.", -EINVAL},
		{"a23456789012345678901234567890123", "Fine.", -EINVAL}, /* 33 bytes */
		{"a2345678901234567890123456789012", "Fine.", 1},        /* 32 bytes */
		{"no_help", "", -EINVAL},
		{"quote", "say \"hi\"", -EINVAL},
		{"newline", "two\nlines", -EINVAL},
		{"ok_1", "Again.", -EEXIST},
	};
	const struct sn_host_api *api = sn_host_api_table();
	struct sn_host_decl d = {.name = "t"}, d2 = {.name = "u"};
	struct sn_host host;
	char name[8];
	int r;

	sn_host_init(&host, NULL, NULL);
	host.creating = &d;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = api->counter_register(&host, cases[i].name, cases[i].help);
		if (r != cases[i].rc)
			print_error("name '%s' help '%s': %d, want %d\n", cases[i].name,
				    cases[i].help, r, cases[i].rc);
		assert_int_equal(r, cases[i].rc);
	}
	for (int i = 2; i < SN_PLUGIN_COUNTERS_MAX; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		assert_int_equal(api->counter_register(&host, name, "Fine."), i);
	}
	assert_int_equal(api->counter_register(&host, "one_more", "Fine."), -ENOSPC);
	/* another plugin may use the same names */
	host.creating = &d2;
	assert_int_equal(api->counter_register(&host, "ok_1", "Fine."), SN_PLUGIN_COUNTERS_MAX);
	assert_int_equal(api->log_enabled(&host, SN_LOG_INFO), 1);
	assert_int_equal(api->log_enabled(&host, SN_LOG_DEBUG), 0);
}

static void test_loader_path_name_loads_that_file(void **state)
{
	struct sn_plugin p;
	char err[512] = "";

	assert_int_equal(sn_loader_load(SN_KIND_EGRESS, TDIR "/egress_t_good.so", "/nonexistent",
					&p, err, sizeof(err)), 0);
	sn_plugin_unload(&p);
}

static const struct sn_plugin_desc *builtin_entry(void);
static const struct sn_egress_ops builtin_ops; /* deliberately empty: fails the op check */
static int b_create(void *i, const struct sn_create_args *a) { return 0; }
static void b_destroy(void *i) {}
static const struct sn_plugin_desc builtin_desc = {
	.abi_major = SN_ABI_MAJOR, .abi_minor = SN_ABI_MINOR,
	.struct_size = sizeof(struct sn_plugin_desc), .kind = SN_KIND_EGRESS,
	.name = "t_builtin", .create = b_create, .destroy = b_destroy, .ops = &builtin_ops,
};
static const struct sn_plugin_desc *builtin_entry(void) { return &builtin_desc; }

static void test_loader_builtin_uses_same_checks(void **state)
{
	struct sn_plugin p;
	char err[512] = "";

	assert_int_equal(sn_loader_register_builtin(builtin_entry), 0);
	assert_int_equal(sn_loader_load(SN_KIND_EGRESS, "t_builtin", TDIR, &p, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "built-in:t_builtin: required operation egress.open is missing"));
}

static void test_loader_real_plugins_load(void **state)
{
	static const struct { uint32_t kind; const char *name; } real[] = {
		{SN_KIND_EGRESS, "raw_direct"}, {SN_KIND_CRYPTO, "chacha"}, {SN_KIND_OS, "linux"}};
	struct sn_host host;

	sn_host_init(&host, NULL, NULL);
	for (size_t i = 0; i < 3; i++) {
		struct sn_plugin p;
		char err[512] = "";
		int r = sn_loader_load(real[i].kind, real[i].name, SN_TEST_BINARY_DIR "/plugins", &p,
				       err, sizeof(err));
		if (r)
			print_error("%s\n", err);
		assert_int_equal(r, 0);
		assert_int_equal(sn_plugin_create(&p, &host, NULL, err, sizeof(err)), 0);
		sn_plugin_unload(&p);
	}
}

/* ---- files that grant root ------------------------------------------------ */

#define NOBODY 65534
#define NOT_OURS "neither root nor the user the daemon runs as"

struct pdir {
	char base[64];   /* mkdtemp */
	char dir[96];    /* base/plugins: a private plugin directory */
	char so[160];    /* dir/egress_t_good.so, a copy */
};

static void copy_so(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	char buf[65536];
	size_t k;

	assert_non_null(in);
	assert_non_null(out);
	while ((k = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, k, out), k);
	fclose(in);
	fclose(out);
	assert_int_equal(chmod(to, 0755), 0);
}

static int pdir_setup(void **state)
{
	struct pdir *d = calloc(1, sizeof(*d));

	if (!d)
		return -1;
	strcpy(d->base, "/tmp/sn-test-loader-XXXXXX");
	if (!mkdtemp(d->base))
		return -1;
	snprintf(d->dir, sizeof(d->dir), "%s/plugins", d->base);
	snprintf(d->so, sizeof(d->so), "%s/egress_t_good.so", d->dir);
	if (mkdir(d->dir, 0755) < 0)
		return -1;
	copy_so(TDIR "/egress_t_good.so", d->so);
	*state = d;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int pdir_teardown(void **state)
{
	struct pdir *d = *state;

	nftw(d->base, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(d);
	return 0;
}

/* name loads from d->dir (want NULL), or fails with -EPERM and exactly want. */
static void load_from(const struct pdir *d, const char *name, const char *want)
{
	struct sn_plugin p;
	char err[2048] = "";
	int r = sn_loader_load(SN_KIND_EGRESS, name, d->dir, &p, err, sizeof(err));

	if (!want) {
		if (r < 0)
			fail_msg("%s", err);
		sn_plugin_unload(&p);
		return;
	}
	assert_int_equal(r, -EPERM);
	assert_string_equal(err, want);
}

static const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static const char *fmt(const char *f, ...)
{
	static char buf[2048];
	va_list ap;

	va_start(ap, f);
	vsnprintf(buf, sizeof(buf), f, ap);
	va_end(ap);
	return buf;
}

static void test_loader_plugin_dir_trusted(void **state)
{
	const struct pdir *d = *state;
	struct sn_plugin p;
	char err[512] = "";

	load_from(d, "t_good", NULL);
	/* anyone who can add a file there could add a plugin: sticky or not */
	assert_int_equal(chmod(d->dir, 0775), 0);
	load_from(d, "t_good", fmt("plugin directory %s is writable by group or others (mode 0775; "
				   "run chmod go-w %s)", d->dir, d->dir));
	assert_int_equal(chmod(d->dir, 01777), 0);
	load_from(d, "t_good", fmt("plugin directory %s is writable by group or others (mode 1777; "
				   "run chmod go-w %s)", d->dir, d->dir));
	assert_int_equal(chmod(d->dir, 0755), 0);
	if (geteuid() == 0) {
		assert_int_equal(chown(d->dir, NOBODY, NOBODY), 0);
		load_from(d, "t_good", fmt("plugin directory %s is owned by uid 65534, " NOT_OURS
					   " (run chown root %s)", d->dir, d->dir));
		assert_int_equal(chown(d->dir, 0, 0), 0);
	}
	/* a missing directory says so */
	assert_int_equal(sn_loader_load(SN_KIND_EGRESS, "t_good", "/nonexistent/plugins", &p, err,
					sizeof(err)), -ENOENT);
	assert_string_equal(err, "plugin directory /nonexistent/plugins: No such file or directory");
}

static void test_loader_plugin_file_trusted(void **state)
{
	const struct pdir *d = *state;
	char other[128], real[192];

	assert_int_equal(chmod(d->so, 0775), 0);
	load_from(d, "t_good", fmt("%s is writable by group or others (mode 0775; run chmod go-w %s)",
				   d->so, d->so));
	assert_int_equal(chmod(d->so, 0757), 0);
	load_from(d, "t_good", fmt("%s is writable by group or others (mode 0757; run chmod go-w %s)",
				   d->so, d->so));
	assert_int_equal(chmod(d->so, 0755), 0);
	if (geteuid() == 0) {
		assert_int_equal(chown(d->so, NOBODY, NOBODY), 0);
		load_from(d, "t_good", fmt("%s is owned by uid 65534, " NOT_OURS " (run chown root %s)",
					   d->so, d->so));
		assert_int_equal(chown(d->so, 0, 0), 0);
	}
	/* a link (as for versioned .so names): its target and the target's directory count */
	snprintf(other, sizeof(other), "%s/lib", d->base);
	snprintf(real, sizeof(real), "%s/t_good.so.1", other);
	assert_int_equal(mkdir(other, 0755), 0);
	assert_int_equal(rename(d->so, real), 0);
	assert_int_equal(symlink(real, d->so), 0);
	load_from(d, "t_good", NULL);
	assert_int_equal(chmod(other, 0777), 0);
	load_from(d, "t_good", fmt("%s (a link to %s): its directory %s is writable by group or "
				   "others, who could replace the file (mode 0777; run chmod go-w %s)",
				   d->so, real, other, other));
	/* a plugin named by path may sit in a sticky directory (like /tmp) */
	assert_int_equal(chmod(other, 01777), 0);
	load_from(d, real, NULL);
	assert_int_equal(chmod(other, 0757), 0);
	load_from(d, real, fmt("%s: its directory %s is writable by group or others, who could "
			       "replace the file (mode 0757; run chmod go-w %s)", real, other, other));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loader_failures_name_file_and_reason),
		cmocka_unit_test(test_loader_good_plugin_loads_creates_unloads),
		cmocka_unit_test(test_loader_create_failure_carries_plugin_reason),
		cmocka_unit_test(test_loader_missing_suggests_installed),
		cmocka_unit_test(test_loader_room_set_at_create),
		cmocka_unit_test(test_loader_counters_follow_the_plugin),
		cmocka_unit_test(test_loader_counter_rules),
		cmocka_unit_test(test_loader_path_name_loads_that_file),
		cmocka_unit_test(test_loader_builtin_uses_same_checks),
		cmocka_unit_test(test_loader_real_plugins_load),
		cmocka_unit_test_setup_teardown(test_loader_plugin_dir_trusted, pdir_setup,
						pdir_teardown),
		cmocka_unit_test_setup_teardown(test_loader_plugin_file_trusted, pdir_setup,
						pdir_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
