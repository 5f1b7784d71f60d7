/* SPDX-License-Identifier: MIT */
/* tests/test_loader.c: every way plugin loading can fail, and its message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

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
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check(SN_KIND_EGRESS, &cases[i]);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loader_failures_name_file_and_reason),
		cmocka_unit_test(test_loader_good_plugin_loads_creates_unloads),
		cmocka_unit_test(test_loader_create_failure_carries_plugin_reason),
		cmocka_unit_test(test_loader_path_name_loads_that_file),
		cmocka_unit_test(test_loader_builtin_uses_same_checks),
		cmocka_unit_test(test_loader_real_plugins_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
