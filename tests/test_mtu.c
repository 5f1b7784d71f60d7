/* SPDX-License-Identifier: MIT */
/*
 * tests/test_mtu.c: the overlay MTU over the egress stack (core/mtu.c):
 * unset, 1420 less what the layers add beyond raw_direct's IPv4 and UDP
 * headers, within 576..1420; set, the operator's, warned of (numbers,
 * place, largest MTU that fits) when its datagrams exceed 1500 bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "mtu.h"

/* The built-ins' declared overheads (plugins/ *: raw_direct's IPv4+UDP,
 * kcp_arq's longest frame header, fec_xor's parity header; the crypto
 * backends' protocol header and tag). */
#define RAW 28
#define KCP 38
#define FEC 8
#define CRYPTO 36

/* conf/spoke-a.yaml with its "  mtu: 1420" line (line 19) replaced by
 * mtu_line ("" for none). */
static struct sn_config *conf(const char *mtu_line)
{
	char text[8192], out[8192], err[512] = "";
	struct sn_config *c = NULL;
	FILE *f = fopen(SN_TEST_SOURCE_DIR "/conf/spoke-a.yaml", "rb");
	size_t n;
	char *at;
	int w;

	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	at = strstr(text, "\n  mtu: 1420\n");
	assert_non_null(at);
	*at = '\0';
	w = snprintf(out, sizeof(out), "%s\n%s%s", text, mtu_line, at + strlen("\n  mtu: 1420\n"));
	assert_true(w > 0 && (size_t)w < sizeof(out));
	if (sn_config_load_buffer("t.yaml", out, (size_t)w, false, &c, err, sizeof(err)) < 0)
		fail_msg("config: %s", err);
	return c;
}

static struct sn_mtu resolve(const char *mtu_line, uint32_t eg, uint32_t cr)
{
	struct sn_config *c = conf(mtu_line);
	struct sn_mtu m;

	sn_mtu_resolve(&m, c, eg, cr);
	sn_config_free(c);
	return m;
}

static void test_mtu_unset_follows_the_stack(void **state)
{
	static const struct { uint32_t eg, cr, mtu; } cases[] = {
		{ RAW, CRYPTO, 1420 },             /* raw_direct: the default */
		{ KCP + RAW, CRYPTO, 1382 },       /* kcp_arq over raw_direct */
		{ FEC + RAW, CRYPTO, 1412 },       /* fec_xor over raw_direct */
		{ FEC + KCP + RAW, CRYPTO, 1374 }, /* fec_xor over kcp_arq over raw_direct */
		{ 8 + RAW, CRYPTO, 1412 },         /* sdk pad: 8 */
		{ 0, CRYPTO, 1420 },               /* adds less than raw_direct: not above 1420 */
		{ RAW, 0, 1420 },                  /* a crypto plugin declaring nothing: still 36 */
		{ RAW, CRYPTO + 4, 1416 },         /* one declaring more */
		{ 1000, CRYPTO, 576 },             /* the least overlay.mtu */
		{ 844 + RAW, CRYPTO, 576 },        /* 1484 - 908: exactly the least */
		{ 843 + RAW, CRYPTO, 577 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sn_mtu m = resolve("", cases[i].eg, cases[i].cr);

		assert_true(m.automatic);
		assert_int_equal(m.mtu, cases[i].mtu);
		assert_int_equal(m.eg_overhead, cases[i].eg);
		assert_int_equal(m.protocol, cases[i].cr > CRYPTO ? cases[i].cr : CRYPTO);
		assert_int_equal(m.datagram, m.mtu + m.eg_overhead + m.protocol);
		if (m.mtu > 576)
			assert_true(m.datagram <= SN_MTU_DEFAULT_WIRE);
	}
}

static void test_mtu_set_is_the_operators(void **state)
{
	struct sn_mtu m = resolve("  mtu: 1420\n", KCP + RAW, CRYPTO);

	(void)state;
	assert_false(m.automatic);
	assert_int_equal(m.mtu, 1420);
	assert_int_equal(m.datagram, 1420 + 36 + 66);
	assert_int_equal(m.fits, 1500 - 36 - 66);
	m = resolve("  mtu: 9000\n", RAW, CRYPTO);
	assert_int_equal(m.mtu, 9000);
	assert_int_equal(m.fits, 1436);
}

static bool warns(const char *mtu_line, uint32_t eg, const struct sn_mtu_layer *l, uint32_t n,
		  char *buf, size_t len)
{
	struct sn_config *c = conf(mtu_line);
	struct sn_mtu m;
	bool w;

	sn_mtu_resolve(&m, c, eg, CRYPTO);
	w = sn_mtu_warning(&m, c, l, n, buf, len);
	assert_int_equal(w, buf[0] != '\0');
	sn_config_free(c);
	return w;
}

static void test_mtu_warning_when_datagrams_exceed_1500(void **state)
{
	const struct sn_mtu_layer raw[] = { { "raw_direct", RAW } };
	const struct sn_mtu_layer kcp[] = { { "kcp_arq", KCP }, { "raw_direct", RAW } };
	char b[1024];

	(void)state;
	assert_false(warns("", RAW, raw, 1, b, sizeof(b)));
	assert_false(warns("", KCP + RAW, kcp, 2, b, sizeof(b)));
	assert_false(warns("  mtu: 1420\n", RAW, raw, 1, b, sizeof(b)));
	assert_false(warns("  mtu: 1436\n", RAW, raw, 1, b, sizeof(b))); /* exactly 1500 */
	assert_false(warns("  mtu: 1398\n", KCP + RAW, kcp, 2, b, sizeof(b)));
	assert_true(warns("  mtu: 1437\n", RAW, raw, 1, b, sizeof(b)));
	assert_string_equal(b, "t.yaml:19:8: overlay.mtu: 1437 makes datagrams of up to 1501 bytes "
			    "on the underlay (1437 + 36 protocol header and tag + 28 egress "
			    "raw_direct: raw_direct 28), more than a 1500-byte underlay carries "
			    "without fragments (fine on a jumbo underlay); the largest overlay.mtu "
			    "that fits is 1436, or leave overlay.mtu unset for one that fits");
	assert_true(warns("  mtu: 1420\n", KCP + RAW, kcp, 2, b, sizeof(b)));
	assert_string_equal(b, "t.yaml:19:8: overlay.mtu: 1420 makes datagrams of up to 1522 bytes "
			    "on the underlay (1420 + 36 protocol header and tag + 66 egress kcp_arq "
			    "over raw_direct: kcp_arq 38, raw_direct 28), more than a 1500-byte "
			    "underlay carries without fragments (fine on a jumbo underlay); the "
			    "largest overlay.mtu that fits is 1398, or leave overlay.mtu unset for "
			    "one that fits");
	/* a stack that leaves no MTU room: said so, also when automatic */
	assert_true(warns("", 1000, raw, 1, b, sizeof(b)));
	assert_non_null(strstr(b, "t.yaml: overlay.mtu: 576 (automatic, the least) makes datagrams "
				  "of up to 1612 bytes"));
	assert_non_null(strstr(b, "; no overlay.mtu from 576 fits"));
}

static void test_mtu_describe_automatic(void **state)
{
	const struct sn_mtu_layer kcp[] = { { "kcp_arq", KCP }, { "raw_direct", RAW } };
	struct sn_mtu m = resolve("", KCP + RAW, CRYPTO);
	char b[512];

	(void)state;
	assert_true(sn_mtu_describe(&m, kcp, 2, b, sizeof(b)));
	assert_string_equal(b, "overlay MTU 1382 (overlay.mtu not set: 1420 less what egress kcp_arq "
			    "over raw_direct adds beyond IPv4 and UDP; 1382 + 36 protocol header "
			    "and tag + 66 egress (kcp_arq 38, raw_direct 28) = 1484-byte datagrams "
			    "on the underlay)");
	m = resolve("  mtu: 1382\n", KCP + RAW, CRYPTO);
	assert_false(sn_mtu_describe(&m, kcp, 2, b, sizeof(b)));
	assert_string_equal(b, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mtu_unset_follows_the_stack),
		cmocka_unit_test(test_mtu_set_is_the_operators),
		cmocka_unit_test(test_mtu_warning_when_datagrams_exceed_1500),
		cmocka_unit_test(test_mtu_describe_automatic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
