/* SPDX-License-Identifier: MIT */
/*
 * tests/test_sdk_abi.c: the size and offset of every SDK struct, frozen.
 *
 * The plugin ABI is a promise: these layouts may only grow at the end (with
 * a "since 1.N" comment and a minor bump). A failing assertion here means a
 * change broke every plugin built against an earlier SDK. The numbers are
 * for LP64 (x86_64, aarch64), the platforms Subnetra ships on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "subnetra/sdk.h"
#include "pool.h"

#define SN_ASSERT_SIZE(T, n) _Static_assert(sizeof(struct T) == (n), "sizeof " #T)
#define SN_ASSERT_OFF(T, m, n) _Static_assert(offsetof(struct T, m) == (n), #T "." #m)

#if UINTPTR_MAX == UINT64_MAX
static inline void frozen_layouts(void)
{
	SN_ASSERT_SIZE(sn_addr, 20);
	SN_ASSERT_OFF(sn_addr, family, 0);
	SN_ASSERT_OFF(sn_addr, reserved, 1);
	SN_ASSERT_OFF(sn_addr, port, 2);
	SN_ASSERT_OFF(sn_addr, ip, 4);
	SN_ASSERT_SIZE(sn_prefix, 8);
	SN_ASSERT_OFF(sn_prefix, addr, 0);
	SN_ASSERT_OFF(sn_prefix, len, 4);
	SN_ASSERT_SIZE(sn_pkt, 96);
	SN_ASSERT_OFF(sn_pkt, buf, 0);
	SN_ASSERT_OFF(sn_pkt, cap, 8);
	SN_ASSERT_OFF(sn_pkt, off, 12);
	SN_ASSERT_OFF(sn_pkt, len, 16);
	SN_ASSERT_OFF(sn_pkt, flags, 20);
	SN_ASSERT_OFF(sn_pkt, gso_size, 24);
	SN_ASSERT_OFF(sn_pkt, gso_segs, 26);
	SN_ASSERT_OFF(sn_pkt, peer_id, 28);
	SN_ASSERT_OFF(sn_pkt, addr, 32);
	SN_ASSERT_OFF(sn_pkt, csum_start, 52);
	SN_ASSERT_OFF(sn_pkt, csum_offset, 54);
	SN_ASSERT_OFF(sn_pkt, user, 56);
	SN_ASSERT_OFF(sn_pkt, time_ns, 64);
	SN_ASSERT_OFF(sn_pkt, local, 72);
	SN_ASSERT_OFF(sn_pkt, reserved, 92);
	SN_ASSERT_SIZE(sn_host_api, 128);
	SN_ASSERT_OFF(sn_host_api, abi_major, 0);
	SN_ASSERT_OFF(sn_host_api, abi_minor, 4);
	SN_ASSERT_OFF(sn_host_api, struct_size, 8);
	SN_ASSERT_OFF(sn_host_api, log, 16);
	SN_ASSERT_OFF(sn_host_api, now_ns, 24);
	SN_ASSERT_OFF(sn_host_api, pkt_alloc, 32);
	SN_ASSERT_OFF(sn_host_api, pkt_release, 40);
	SN_ASSERT_OFF(sn_host_api, count, 48);
	SN_ASSERT_OFF(sn_host_api, timer_new, 56);
	SN_ASSERT_OFF(sn_host_api, timer_start, 64);
	SN_ASSERT_OFF(sn_host_api, timer_stop, 72);
	SN_ASSERT_OFF(sn_host_api, timer_free, 80);
	SN_ASSERT_OFF(sn_host_api, deliver, 88);
	SN_ASSERT_OFF(sn_host_api, counter_register, 96);
	SN_ASSERT_OFF(sn_host_api, counter_add, 104);
	SN_ASSERT_OFF(sn_host_api, log_enabled, 112);
	SN_ASSERT_OFF(sn_host_api, room_set, 120);
	SN_ASSERT_SIZE(sn_option, 16);
	SN_ASSERT_OFF(sn_option, key, 0);
	SN_ASSERT_OFF(sn_option, value, 8);
	SN_ASSERT_SIZE(sn_options, 16);
	SN_ASSERT_OFF(sn_options, items, 0);
	SN_ASSERT_OFF(sn_options, count, 8);
	SN_ASSERT_SIZE(sn_create_args, 56);
	SN_ASSERT_OFF(sn_create_args, struct_size, 0);
	SN_ASSERT_OFF(sn_create_args, host, 8);
	SN_ASSERT_OFF(sn_create_args, api, 16);
	SN_ASSERT_OFF(sn_create_args, options, 24);
	SN_ASSERT_OFF(sn_create_args, err, 40);
	SN_ASSERT_OFF(sn_create_args, err_len, 48);
	SN_ASSERT_SIZE(sn_plugin_desc, 96);
	SN_ASSERT_OFF(sn_plugin_desc, abi_major, 0);
	SN_ASSERT_OFF(sn_plugin_desc, abi_minor, 4);
	SN_ASSERT_OFF(sn_plugin_desc, struct_size, 8);
	SN_ASSERT_OFF(sn_plugin_desc, kind, 12);
	SN_ASSERT_OFF(sn_plugin_desc, name, 16);
	SN_ASSERT_OFF(sn_plugin_desc, version, 24);
	SN_ASSERT_OFF(sn_plugin_desc, description, 32);
	SN_ASSERT_OFF(sn_plugin_desc, instance_size, 40);
	SN_ASSERT_OFF(sn_plugin_desc, instance_align, 44);
	SN_ASSERT_OFF(sn_plugin_desc, headroom, 48);
	SN_ASSERT_OFF(sn_plugin_desc, tailroom, 52);
	SN_ASSERT_OFF(sn_plugin_desc, overhead, 56);
	SN_ASSERT_OFF(sn_plugin_desc, probe, 64);
	SN_ASSERT_OFF(sn_plugin_desc, create, 72);
	SN_ASSERT_OFF(sn_plugin_desc, destroy, 80);
	SN_ASSERT_OFF(sn_plugin_desc, ops, 88);
	SN_ASSERT_SIZE(sn_egress_open, 56);
	SN_ASSERT_OFF(sn_egress_open, struct_size, 0);
	SN_ASSERT_OFF(sn_egress_open, flags, 4);
	SN_ASSERT_OFF(sn_egress_open, listen, 8);
	SN_ASSERT_OFF(sn_egress_open, rcvbuf, 28);
	SN_ASSERT_OFF(sn_egress_open, sndbuf, 32);
	SN_ASSERT_OFF(sn_egress_open, err, 40);
	SN_ASSERT_OFF(sn_egress_open, err_len, 48);
	SN_ASSERT_SIZE(sn_egress_ops, 72);
	SN_ASSERT_OFF(sn_egress_ops, struct_size, 0);
	SN_ASSERT_OFF(sn_egress_ops, flags, 4);
	SN_ASSERT_OFF(sn_egress_ops, open, 8);
	SN_ASSERT_OFF(sn_egress_ops, fd, 16);
	SN_ASSERT_OFF(sn_egress_ops, local_addr, 24);
	SN_ASSERT_OFF(sn_egress_ops, recv_batch, 32);
	SN_ASSERT_OFF(sn_egress_ops, send_batch, 40);
	SN_ASSERT_OFF(sn_egress_ops, reconfigure, 48);
	SN_ASSERT_OFF(sn_egress_ops, attach, 56);
	SN_ASSERT_OFF(sn_egress_ops, lower_deliver, 64);
	SN_ASSERT_SIZE(sn_egress_lower, 48);
	SN_ASSERT_OFF(sn_egress_lower, struct_size, 0);
	SN_ASSERT_OFF(sn_egress_lower, flags, 4);
	SN_ASSERT_OFF(sn_egress_lower, name, 8);
	SN_ASSERT_OFF(sn_egress_lower, inst, 16);
	SN_ASSERT_OFF(sn_egress_lower, ops, 24);
	SN_ASSERT_OFF(sn_egress_lower, headroom, 32);
	SN_ASSERT_OFF(sn_egress_lower, overhead, 36);
	SN_ASSERT_OFF(sn_egress_lower, datagram_max, 40);
	SN_ASSERT_SIZE(sn_crypto_ops, 56);
	SN_ASSERT_OFF(sn_crypto_ops, struct_size, 0);
	SN_ASSERT_OFF(sn_crypto_ops, key_ctx_size, 4);
	SN_ASSERT_OFF(sn_crypto_ops, public_key, 8);
	SN_ASSERT_OFF(sn_crypto_ops, pair_key, 16);
	SN_ASSERT_OFF(sn_crypto_ops, dir_key, 24);
	SN_ASSERT_OFF(sn_crypto_ops, seal, 32);
	SN_ASSERT_OFF(sn_crypto_ops, open, 40);
	SN_ASSERT_OFF(sn_crypto_ops, wipe, 48);
	SN_ASSERT_SIZE(sn_tun_config, 48);
	SN_ASSERT_OFF(sn_tun_config, struct_size, 0);
	SN_ASSERT_OFF(sn_tun_config, flags, 4);
	SN_ASSERT_OFF(sn_tun_config, ifname, 8);
	SN_ASSERT_OFF(sn_tun_config, mtu, 16);
	SN_ASSERT_OFF(sn_tun_config, addr, 20);
	SN_ASSERT_OFF(sn_tun_config, prefix_len, 24);
	SN_ASSERT_OFF(sn_tun_config, offload, 28);
	SN_ASSERT_OFF(sn_tun_config, err, 32);
	SN_ASSERT_OFF(sn_tun_config, err_len, 40);
	SN_ASSERT_SIZE(sn_priv_args, 32);
	SN_ASSERT_OFF(sn_priv_args, struct_size, 0);
	SN_ASSERT_OFF(sn_priv_args, flags, 4);
	SN_ASSERT_OFF(sn_priv_args, user, 8);
	SN_ASSERT_OFF(sn_priv_args, err, 16);
	SN_ASSERT_OFF(sn_priv_args, err_len, 24);
	SN_ASSERT_OFF(sn_priv_args, reserved, 28);
	SN_ASSERT_SIZE(sn_os_ops, 80);
	SN_ASSERT_OFF(sn_os_ops, struct_size, 0);
	SN_ASSERT_OFF(sn_os_ops, flags, 4);
	SN_ASSERT_OFF(sn_os_ops, tun_open, 8);
	SN_ASSERT_OFF(sn_os_ops, tun_fd, 16);
	SN_ASSERT_OFF(sn_os_ops, tun_name, 24);
	SN_ASSERT_OFF(sn_os_ops, tun_read_batch, 32);
	SN_ASSERT_OFF(sn_os_ops, tun_write_batch, 40);
	SN_ASSERT_OFF(sn_os_ops, route_add, 48);
	SN_ASSERT_OFF(sn_os_ops, route_del, 56);
	SN_ASSERT_OFF(sn_os_ops, drop_privileges, 64);
	SN_ASSERT_OFF(sn_os_ops, tun_dropped, 72);
}
#endif

/* The same facts at run time, so the test also reports them when it runs. */
static void test_sdk_abi_layouts_are_frozen(void **state)
{
	assert_int_equal(sizeof(struct sn_pkt), 96);
	assert_int_equal(sizeof(struct sn_addr), 20);
	assert_int_equal(sizeof(struct sn_plugin_desc), 96);
	assert_int_equal(offsetof(struct sn_plugin_desc, ops), 88);
	assert_int_equal(sizeof(struct sn_host_api), 128);
	assert_int_equal(SN_ROOM_MAX, 1024);
	assert_int_equal(SN_PLUGIN_COUNTERS_MAX, 16);
	assert_int_equal(SN_COUNTER_NAME_MAX, 32);
	assert_int_equal(SN_COUNTER_HELP_MAX, 160);
	assert_int_equal(sizeof(struct sn_priv_args), 32);
	assert_int_equal(SN_PRIV_KEEP_NET_ADMIN, 0x1u);
}

/* The version header and the descriptor agree with what the host checks. */
static void test_sdk_abi_version_is_1_0(void **state)
{
	assert_int_equal(SN_ABI_MAJOR, 1);
	assert_int_equal(SN_ABI_MINOR, 0);
}

/* Optional fields and operations are detected by struct_size. */
static void test_sdk_abi_has_op_respects_struct_size(void **state)
{
	struct sn_egress_ops ops = {0};
	int (*fn)(void *, const struct sn_options *, char *, uint32_t) =
		(int (*)(void *, const struct sn_options *, char *, uint32_t))1;

	ops.reconfigure = fn;
	ops.struct_size = offsetof(struct sn_egress_ops, reconfigure);
	assert_false(SN_HAS_OP(struct sn_egress_ops, &ops, reconfigure));
	ops.struct_size = sizeof(ops);
	assert_true(SN_HAS_OP(struct sn_egress_ops, &ops, reconfigure));
	ops.reconfigure = NULL;
	assert_false(SN_HAS_OP(struct sn_egress_ops, &ops, reconfigure));
}

/* Packet helpers keep data inside the buffer. */
static void test_sdk_abi_pkt_push_pull_bounds(void **state)
{
	uint8_t mem[128];
	struct sn_pkt p = {.buf = mem, .cap = sizeof(mem), .off = 20, .len = 10};

	assert_ptr_equal(sn_pkt_push(&p, 20), mem);
	assert_int_equal(p.len, 30);
	assert_null(sn_pkt_push(&p, 1));
	assert_ptr_equal(sn_pkt_pull(&p, 20), mem + 20);
	assert_null(sn_pkt_pull(&p, 11));
	assert_int_equal(sn_pkt_tailroom(&p), 128 - 20 - 10);
	assert_int_equal(sn_pkt_room(&p), 128 - 20);
	p.off = 200; /* a corrupt offset is no room, not a huge one */
	assert_int_equal(sn_pkt_room(&p), 0);
}

/* The offload flags are distinct bits, and a run fits what UDP GSO and an
 * IPv4 total length allow. */
static void test_sdk_abi_offload_flags(void **state)
{
	uint32_t all = SN_PKT_F_GSO | SN_PKT_F_CSUM | SN_PKT_F_RUN;

	assert_int_equal(__builtin_popcount(all), 3);
	assert_int_equal(all & 0x0001u, 0); /* the keepalive flag's bit stays free */
	assert_int_equal(SN_TUN_OFFLOAD_RX & SN_TUN_OFFLOAD_TX, 0);
	assert_true(SN_GSO_MAX_BYTES <= 65535 - 20 - 8);
	assert_true(SN_PKT_BIG_ROOM > 65535);
}

/* sn_pkt.user is the owner's scratch: a packet from the pool starts with
 * 0 whatever its last owner left in it (subnetra/packet.h). */
static void test_sdk_abi_user_starts_zero(void **state)
{
	struct sn_pool pool;
	struct sn_pkt *p;

	assert_int_equal(sn_pool_init(&pool, 1, 16, 128, 16, false), 0);
	p = sn_pool_get(&pool);
	assert_non_null(p);
	assert_int_equal(p->user, 0);
	p->user = 0xdeadbeef;
	sn_pool_put(&pool, p);
	p = sn_pool_get(&pool);
	assert_int_equal(p->user, 0);
	sn_pool_put(&pool, p);
	sn_pool_destroy(&pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sdk_abi_layouts_are_frozen),
		cmocka_unit_test(test_sdk_abi_version_is_1_0),
		cmocka_unit_test(test_sdk_abi_has_op_respects_struct_size),
		cmocka_unit_test(test_sdk_abi_pkt_push_pull_bounds),
		cmocka_unit_test(test_sdk_abi_offload_flags),
		cmocka_unit_test(test_sdk_abi_user_starts_zero),
	};
	(void)frozen_layouts;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
