/* SPDX-License-Identifier: MIT */
/*
 * tests/support/cryptotest.c: the tests every crypto plugin must pass
 * (cryptotest.h), against docs/protocol.md ("Keys", "Datagram") and its
 * test vector, through the plugin's operations and core/seal.c.
 */
#include "cryptotest.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

const char *const ct_priv_hex[3] = {
	NULL,
	"0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20",
	"2122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f40",
};
const char *const ct_pub_hex[3] = {
	NULL,
	"07a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0b2b86d1c7c",
	"5869aff450549732cbaaed5e5df9b30a6da31cb0e5742bad5ad4a1a768f1a67b",
};

const struct ct_vector ct_vectors[2] = {
	{
		2, 1,
		"b0521ecd2b97d1a9aca79772d809f56b81f316c0c4ecb67c9dc60b781a8edaf9",
		"4500001c00004000400126df0a0000020a0000010800e5ca12340001",
		"01000000000000026553f1000000000000000007"
		"5cd4afc0b4080311d798d6ff65412aeb0143a534c6a74ed05a85bbf3"
		"de87c1f17ab536a2fbb52aee769cccd1",
	},
	{
		1, 2,
		"24434c9ff109fe5af522d9519536403a926d0ef686ea7da714f9dd382adc7b53",
		"4500001c00004000400126df0a0000010a0000020000edca12340001",
		"01000000000000016553f1000000000000000007"
		"2067b59f739410efff00d92ee0e518c817e5ad2ee314bfdc79149848"
		"f3d65db9c2ffa7da343071fa8669fadf",
	},
};

const struct ct_rnd_vector ct_rnd_vectors[2] = {
	{
		1, 2, SN_WIRE_F_CHALLENGE, 0x8000000000000001ull,
		"000102030405060708090a0b0c0d0e0f",
		"01020000000000016553f1008000000000000001"
		"3e6343066121f6ffce2a76a8e460eb7d"
		"77d901cf9188e117235f7d905cdd5b08",
	},
	{
		2, 1, SN_WIRE_F_RESPONSE, 0xc0ffee0000000002ull,
		"000102030405060708090a0b0c0d0e0f000000000000000000000007",
		"01040000000000026553f100c0ffee0000000002"
		"faec49ca3c211abee60393a11e713afe7fc66e3707b3b0433a25af1e"
		"82cb146a9c0aa1a8dbc7ce5a3813589e",
	},
};

static const char *plugin_name; /* the plugin ct_run() tests */

void ct_dir_msg(uint8_t msg[static 28], const struct ct_vector *v)
{
	memcpy(msg, "subnetra/v1/data", 16);
	sn__store_be32(msg + 16, v->sender);
	sn__store_be32(msg + 20, v->receiver);
	sn__store_be32(msg + 24, CT_EPOCH);
}

uint32_t ct_unhex(uint8_t *out, uint32_t cap, const char *hex)
{
	size_t n = strlen(hex) / 2;
	size_t bin_len = 0;

	assert_true(n <= cap);
	assert_int_equal(sodium_hex2bin(out, cap, hex, strlen(hex), NULL, &bin_len, NULL), 0);
	assert_int_equal(bin_len, n);
	return (uint32_t)n;
}

void *ct_alloc_aligned(uint32_t size, uint32_t align)
{
	size_t sz = ((size_t)size + align - 1) / align * align;
	void *p = aligned_alloc(align, sz ? sz : align);

	assert_non_null(p);
	memset(p, 0, sz ? sz : align);
	return p;
}

/* An instance as the host makes one: zeroed, aligned, created. */
void *ct_instance_new(const struct ct_plugin *pl, struct sn_host *host)
{
	struct sn_create_args args = {.struct_size = sizeof(args)};
	char err[128] = "";
	uint32_t align = pl->desc->instance_align ? pl->desc->instance_align : 16;
	void *inst = ct_alloc_aligned(pl->desc->instance_size, align);

	args.host = host;
	args.api = sn_host_api_table();
	args.err = err;
	args.err_len = sizeof(err);
	if (pl->desc->create(inst, &args) != 0)
		fail_msg("%s: create: %s", pl->desc->name, err);
	return inst;
}

void ct_instance_free(const struct ct_plugin *pl, void *inst)
{
	pl->desc->destroy(inst);
	free(inst);
}

void ct_plugin_open(struct ct_plugin *pl, struct sn_host *host, const char *name)
{
	char path[512];
	sn_plugin_entry_fn entry;

	snprintf(path, sizeof(path), "%s/plugins/crypto_%s.so", SN_TEST_BINARY_DIR, name);
	memset(pl, 0, sizeof(*pl));
	pl->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!pl->dl)
		fail_msg("%s", dlerror());
	*(void **)&entry = dlsym(pl->dl, SN_PLUGIN_ENTRY_V1);
	assert_non_null(entry);
	pl->desc = entry();
	pl->ops = pl->desc->ops;
	pl->c.ops = pl->ops;
	pl->c.inst = ct_instance_new(pl, host);
}

void ct_plugin_close(struct ct_plugin *pl)
{
	ct_instance_free(pl, pl->c.inst);
	dlclose(pl->dl);
	memset(pl, 0, sizeof(*pl));
}

static int setup(void **state)
{
	struct ct_fx *f = calloc(1, sizeof(*f));

	if (!f || sodium_init() < 0)
		return -1;
	sn_host_init(&f->host, NULL, NULL);
	ct_plugin_open(&f->pl, &f->host, plugin_name);
	f->ops = f->pl.ops;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct ct_fx *f = *state;

	ct_plugin_close(&f->pl);
	free(f);
	return 0;
}

void *ct_ctx_new(const struct ct_plugin *pl)
{
	return ct_alloc_aligned(pl->ops->key_ctx_size, 16);
}

void ct_ctx_free(const struct ct_plugin *pl, void *ctx)
{
	pl->ops->wipe(pl->c.inst, ctx);
	free(ctx);
}

/* Node me's side of the vector, as a daemon has it: its own private key
 * and the peer's public key from config. */
static void vector_pair_key(const struct ct_plugin *pl, uint32_t me, uint32_t peer,
			    uint8_t out[static 32])
{
	uint8_t priv[32], pub[32], ppub[32];

	ct_unhex(priv, 32, ct_priv_hex[me]);
	ct_unhex(ppub, 32, ct_pub_hex[peer]);
	assert_int_equal(pl->ops->public_key(pl->c.inst, pub, priv), 0);
	assert_int_equal(pl->ops->pair_key(pl->c.inst, out, priv, pub, ppub, NULL), 0);
	sodium_memzero(priv, sizeof(priv));
}

void *ct_vector_ctx(const struct ct_plugin *pl, uint32_t me, uint32_t sender, uint32_t receiver)
{
	uint8_t pair[32];
	void *ctx = ct_ctx_new(pl);

	vector_pair_key(pl, me, me == sender ? receiver : sender, pair);
	assert_int_equal(pl->ops->dir_key(pl->c.inst, ctx, pair, sender, receiver, CT_EPOCH), 0);
	sodium_memzero(pair, sizeof(pair));
	return ctx;
}

struct sn_pkt *ct_pkt_fill(struct ct_fx *f, const uint8_t *data, uint32_t n)
{
	struct sn_pkt *p = &f->pkt;

	memset(p, 0, sizeof(*p));
	memset(f->buf, 0xcc, sizeof(f->buf));
	p->buf = f->buf;
	p->cap = sizeof(f->buf);
	p->off = CT_HEADROOM;
	p->len = n;
	if (n)
		memcpy(p->buf + p->off, data, n);
	return p;
}

static struct sn_wire_hdr vector_hdr(uint32_t sender)
{
	struct sn_wire_hdr h = {SN_WIRE_VERSION, 0, sender, CT_EPOCH, CT_SEQ};

	return h;
}

static void test_crypto_descriptor(void **state)
{
	struct ct_fx *f = *state;
	const struct sn_plugin_desc *d = f->pl.desc;
	char why[128] = "";

	assert_int_equal(d->abi_major, SN_ABI_MAJOR);
	assert_true(d->abi_minor <= SN_ABI_MINOR);
	assert_int_equal(d->kind, SN_KIND_CRYPTO);
	assert_string_equal(d->name, plugin_name);
	assert_non_null(d->probe);
	assert_int_equal(d->probe(why, sizeof(why)), 0);
	assert_true(d->tailroom >= SN_TAG_LEN);
	assert_true(f->ops->struct_size >= sizeof(struct sn_crypto_ops));
	assert_true(f->ops->key_ctx_size >= 32 && f->ops->key_ctx_size <= 512);
	assert_non_null(f->ops->public_key);
	assert_non_null(f->ops->pair_key);
	assert_non_null(f->ops->dir_key);
	assert_non_null(f->ops->seal);
	assert_non_null(f->ops->open);
	assert_non_null(f->ops->wipe);
	/* static helpers stay hidden; only the entry symbol is exported */
	assert_null(dlsym(f->pl.dl, "pair_key"));
	assert_null(dlsym(f->pl.dl, "desc"));
}

static void test_crypto_public_key_matches_libsodium(void **state)
{
	struct ct_fx *f = *state;
	uint8_t priv[32], pub[32], want[32];

	for (int i = 0; i < 8; i++) {
		randombytes_buf(priv, sizeof(priv));
		assert_int_equal(f->ops->public_key(f->pl.c.inst, pub, priv), 0);
		assert_int_equal(crypto_scalarmult_base(want, priv), 0);
		assert_memory_equal(pub, want, 32);
	}
	for (uint32_t n = 1; n <= 2; n++) {
		ct_unhex(priv, 32, ct_priv_hex[n]);
		ct_unhex(want, 32, ct_pub_hex[n]);
		assert_int_equal(f->ops->public_key(f->pl.c.inst, pub, priv), 0);
		assert_memory_equal(pub, want, 32);
	}
}

static void test_crypto_pair_key_symmetric(void **state)
{
	struct ct_fx *f = *state;
	uint8_t a_priv[32], a_pub[32], b_priv[32], b_pub[32], ab[32], ba[32], want[32];
	void *inst = f->pl.c.inst;

	for (int i = 0; i < 4; i++) {
		crypto_box_keypair(a_pub, a_priv);
		crypto_box_keypair(b_pub, b_priv);
		assert_int_equal(f->ops->pair_key(inst, ab, a_priv, a_pub, b_pub, NULL), 0);
		assert_int_equal(f->ops->pair_key(inst, ba, b_priv, b_pub, a_pub, NULL), 0);
		assert_memory_equal(ab, ba, 32);
	}
	vector_pair_key(&f->pl, 1, 2, ab);
	vector_pair_key(&f->pl, 2, 1, ba);
	ct_unhex(want, 32, CT_PAIR_HEX);
	assert_memory_equal(ab, want, 32);
	assert_memory_equal(ba, want, 32);
}

static void test_crypto_pair_key_psk_changes_it(void **state)
{
	struct ct_fx *f = *state;
	uint8_t p1[32], u1[32], p2[32], u2[32], psk[32], none[32], k12[32], k21[32], want[32];
	void *inst = f->pl.c.inst;

	ct_unhex(p1, 32, ct_priv_hex[1]);
	ct_unhex(p2, 32, ct_priv_hex[2]);
	ct_unhex(psk, 32, CT_PSK_HEX);
	f->ops->public_key(inst, u1, p1);
	f->ops->public_key(inst, u2, p2);
	assert_int_equal(f->ops->pair_key(inst, none, p1, u1, u2, NULL), 0);
	assert_int_equal(f->ops->pair_key(inst, k12, p1, u1, u2, psk), 0);
	assert_int_equal(f->ops->pair_key(inst, k21, p2, u2, u1, psk), 0);
	ct_unhex(want, 32, CT_PAIR_PSK_HEX);
	assert_memory_equal(k12, want, 32);
	assert_memory_equal(k21, want, 32);
	assert_memory_not_equal(k12, none, 32);
	psk[31] ^= 1;
	assert_int_equal(f->ops->pair_key(inst, k21, p2, u2, u1, psk), 0);
	assert_memory_not_equal(k12, k21, 32);
}

/* Points of small order make X25519 output all zeros whatever the scalar:
 * a peer that sends one would otherwise force a known pair key. */
static void test_crypto_pair_key_rejects_zero_dh(void **state)
{
	static const char *const low_order[] = {
		"0000000000000000000000000000000000000000000000000000000000000000", /* 0 */
		"0100000000000000000000000000000000000000000000000000000000000000", /* 1 */
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p - 1 */
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p */
	};
	struct ct_fx *f = *state;
	uint8_t priv[32], pub[32], bad[32], out[32];
	void *inst = f->pl.c.inst;

	ct_unhex(priv, 32, ct_priv_hex[1]);
	f->ops->public_key(inst, pub, priv);
	for (size_t i = 0; i < sizeof(low_order) / sizeof(low_order[0]); i++) {
		ct_unhex(bad, 32, low_order[i]);
		assert_int_equal(f->ops->pair_key(inst, out, priv, pub, bad, NULL), -EINVAL);
	}
}

/* The challenge and response of the vector: sealed by the sender's side,
 * byte for byte; opened by the receiver's side, from its own keys. */
static void test_crypto_vector_challenge_response(void **state)
{
	struct ct_fx *f = *state;

	for (size_t i = 0; i < 2; i++) {
		const struct ct_rnd_vector *v = &ct_rnd_vectors[i];
		struct sn_wire_hdr h = {SN_WIRE_VERSION, v->flags, v->sender, CT_EPOCH, v->seq}, d;
		uint8_t plain[64], want[128];
		uint32_t n = ct_unhex(plain, sizeof(plain), v->plain);
		uint32_t m = ct_unhex(want, sizeof(want), v->sealed);
		void *tx = ct_vector_ctx(&f->pl, v->sender, v->sender, v->receiver);
		void *rx = ct_vector_ctx(&f->pl, v->receiver, v->sender, v->receiver);
		struct sn_pkt *p = ct_pkt_fill(f, plain, n);

		assert_int_equal(sn_seal_pkt(&f->pl.c, tx, &h, p), 0);
		assert_int_equal(p->len, m);
		assert_memory_equal(sn_pkt_data(p), want, m);
		assert_int_equal(sn_wire_decode(want, m, &d), 0);
		assert_int_equal(d.flags, v->flags);
		p = ct_pkt_fill(f, want, m);
		assert_int_equal(sn_open_pkt(&f->pl.c, rx, &d, p), 0);
		assert_int_equal(p->len, n);
		assert_memory_equal(sn_pkt_data(p), plain, n);
		ct_ctx_free(&f->pl, tx);
		ct_ctx_free(&f->pl, rx);
	}
}

/* Same plaintext, header and nonce under two keys: equal ciphertexts would
 * mean equal keys. */
static void seal_with(struct ct_fx *f, const void *ctx, uint8_t out[static 64])
{
	uint8_t plain[28];
	struct sn_wire_hdr h = vector_hdr(2);
	struct sn_pkt *p = ct_pkt_fill(f, plain, ct_unhex(plain, sizeof(plain), ct_vectors[0].plain));

	assert_int_equal(sn_seal_pkt(&f->pl.c, ctx, &h, p), 0);
	assert_int_equal(p->len, 64);
	memcpy(out, sn_pkt_data(p), 64);
}

static void test_crypto_dir_key_differs_per_direction_and_epoch(void **state)
{
	struct ct_fx *f = *state;
	uint8_t pair[32], a[64], b[64], c[64];
	void *ctx = ct_ctx_new(&f->pl), *inst = f->pl.c.inst;

	ct_unhex(pair, 32, CT_PAIR_HEX);
	assert_int_equal(f->ops->dir_key(inst, ctx, pair, 2, 1, CT_EPOCH), 0);
	seal_with(f, ctx, a);
	assert_int_equal(f->ops->dir_key(inst, ctx, pair, 1, 2, CT_EPOCH), 0);
	seal_with(f, ctx, b);
	assert_int_equal(f->ops->dir_key(inst, ctx, pair, 2, 1, CT_EPOCH + 1), 0);
	seal_with(f, ctx, c);
	assert_memory_not_equal(a + SN_WIRE_HDR_LEN, b + SN_WIRE_HDR_LEN, 64 - SN_WIRE_HDR_LEN);
	assert_memory_not_equal(a + SN_WIRE_HDR_LEN, c + SN_WIRE_HDR_LEN, 64 - SN_WIRE_HDR_LEN);
	assert_memory_not_equal(b + SN_WIRE_HDR_LEN, c + SN_WIRE_HDR_LEN, 64 - SN_WIRE_HDR_LEN);
	ct_ctx_free(&f->pl, ctx);
}

static void round_trip(struct ct_fx *f, const void *ctx, uint8_t flags, uint32_t n)
{
	uint8_t plain[1500];
	struct sn_wire_hdr h = {SN_WIRE_VERSION, flags, 9, 123, 456789}, d;
	struct sn_pkt *p;
	uint8_t fbuf[1600];

	randombytes_buf(plain, n);
	p = ct_pkt_fill(f, plain, 0);
	p->buf = fbuf; /* big enough for an MTU-sized packet */
	p->cap = sizeof(fbuf);
	memcpy(p->buf + p->off, plain, n);
	p->len = n;
	assert_int_equal(sn_seal_pkt(&f->pl.c, ctx, &h, p), 0);
	assert_int_equal(p->off, CT_HEADROOM - SN_WIRE_HDR_LEN);
	assert_int_equal(p->len, SN_WIRE_OVERHEAD + n);
	assert_int_equal(sn_wire_decode(sn_pkt_data(p), p->len, &d), 0);
	assert_int_equal(d.key_id, 9);
	assert_int_equal(d.flags, flags);
	assert_int_equal(sn_open_pkt(&f->pl.c, ctx, &d, p), 0);
	assert_int_equal(p->off, CT_HEADROOM);
	assert_int_equal(p->len, n);
	if (n)
		assert_memory_equal(sn_pkt_data(p), plain, n);
}

static void test_crypto_seal_open_round_trip(void **state)
{
	static const uint32_t sizes[] = {1, 20, 28, 63, 64, 65, 576, 1420, 1500};
	struct ct_fx *f = *state;
	void *ctx = ct_vector_ctx(&f->pl, 2, 2, 1);

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		round_trip(f, ctx, 0, sizes[i]);
	round_trip(f, ctx, SN_WIRE_F_KEEPALIVE, 0);
	ct_ctx_free(&f->pl, ctx);
}

/* Every bit of the header (the aad), the ciphertext and the tag is
 * authenticated: any flip fails and leaves the packet's bounds alone. */
static void test_crypto_open_rejects_any_flipped_byte(void **state)
{
	static const uint8_t bits[] = {0x01, 0x80, 0xff};
	struct ct_fx *f = *state;
	uint8_t dgram[64];
	uint32_t n = ct_unhex(dgram, sizeof(dgram), ct_vectors[0].sealed);
	struct sn_wire_hdr h;
	void *ctx = ct_vector_ctx(&f->pl, 1, 2, 1);

	assert_int_equal(sn_wire_decode(dgram, n, &h), 0);
	for (uint32_t i = 0; i < n; i++) {
		for (size_t b = 0; b < sizeof(bits); b++) {
			struct sn_pkt *p = ct_pkt_fill(f, dgram, n);

			p->buf[p->off + i] ^= bits[b];
			if (sn_open_pkt(&f->pl.c, ctx, &h, p) != -EBADMSG)
				fail_msg("byte %u ^ 0x%02x was accepted", i, bits[b]);
			assert_int_equal(p->off, CT_HEADROOM);
			assert_int_equal(p->len, n);
		}
	}
	ct_ctx_free(&f->pl, ctx);
}

static void test_crypto_open_rejects_wrong_key_and_short(void **state)
{
	struct ct_fx *f = *state;
	uint8_t dgram[64];
	uint32_t n = ct_unhex(dgram, sizeof(dgram), ct_vectors[0].sealed);
	struct sn_wire_hdr h;
	void *wrong_dir = ct_vector_ctx(&f->pl, 1, 1, 2);
	void *right = ct_vector_ctx(&f->pl, 1, 2, 1);
	struct sn_pkt *p;

	assert_int_equal(sn_wire_decode(dgram, n, &h), 0);
	p = ct_pkt_fill(f, dgram, n);
	assert_int_equal(sn_open_pkt(&f->pl.c, wrong_dir, &h, p), -EBADMSG);
	h.seq++; /* a nonce other than the sender's */
	assert_int_equal(sn_open_pkt(&f->pl.c, right, &h, p), -EBADMSG);
	h.seq--;
	p = ct_pkt_fill(f, dgram, SN_WIRE_MIN_LEN - 1);
	assert_int_equal(sn_open_pkt(&f->pl.c, right, &h, p), -EBADMSG);
	assert_int_equal(p->len, SN_WIRE_MIN_LEN - 1);
	ct_ctx_free(&f->pl, wrong_dir);
	ct_ctx_free(&f->pl, right);
}

static void test_crypto_seal_needs_room_and_consistent_flags(void **state)
{
	struct ct_fx *f = *state;
	uint8_t plain[28];
	struct sn_wire_hdr h = vector_hdr(2);
	uint32_t n = ct_unhex(plain, sizeof(plain), ct_vectors[0].plain);
	void *ctx = ct_vector_ctx(&f->pl, 2, 2, 1);
	struct sn_pkt *p;

	p = ct_pkt_fill(f, plain, n);
	p->off = SN_WIRE_HDR_LEN - 1;
	memcpy(p->buf + p->off, plain, n);
	assert_int_equal(sn_seal_pkt(&f->pl.c, ctx, &h, p), -ENOSPC);
	assert_int_equal(p->off, SN_WIRE_HDR_LEN - 1);
	assert_int_equal(p->len, n);
	p = ct_pkt_fill(f, plain, n);
	p->cap = CT_HEADROOM + n + SN_WIRE_TAG_LEN - 1;
	assert_int_equal(sn_seal_pkt(&f->pl.c, ctx, &h, p), -ENOSPC);
	assert_int_equal(p->len, n);
	p->cap++; /* exactly enough */
	assert_int_equal(sn_seal_pkt(&f->pl.c, ctx, &h, p), 0);
	p = ct_pkt_fill(f, plain, 0);
	assert_int_equal(sn_seal_pkt(&f->pl.c, ctx, &h, p), -EINVAL); /* data, empty */
	h.flags = SN_WIRE_F_KEEPALIVE;
	p = ct_pkt_fill(f, plain, n);
	assert_int_equal(sn_seal_pkt(&f->pl.c, ctx, &h, p), -EINVAL); /* keepalive, not empty */
	assert_int_equal(p->off, CT_HEADROOM);
	ct_ctx_free(&f->pl, ctx);
}

/* The inner packet is a real one: both checksums sum to zero. */
static uint16_t inet_sum(const uint8_t *p, uint32_t n)
{
	uint32_t s = 0;

	for (uint32_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void check_vector(struct ct_fx *f, const struct ct_vector *v)
{
	uint8_t plain[28], sealed[64];
	uint32_t np = ct_unhex(plain, sizeof(plain), v->plain);
	uint32_t ns = ct_unhex(sealed, sizeof(sealed), v->sealed);
	struct sn_wire_hdr h = vector_hdr(v->sender), d;
	void *tx = ct_vector_ctx(&f->pl, v->sender, v->sender, v->receiver);
	void *rx = ct_vector_ctx(&f->pl, v->receiver, v->sender, v->receiver);
	struct sn_pkt *p;

	assert_int_equal(sn_ipv4_check(plain, np), 0);
	assert_int_equal(inet_sum(plain, 20), 0);
	assert_int_equal(inet_sum(plain + 20, np - 20), 0);
	/* the sender seals exactly the documented bytes */
	p = ct_pkt_fill(f, plain, np);
	assert_int_equal(sn_seal_pkt(&f->pl.c, tx, &h, p), 0);
	assert_int_equal(p->len, ns);
	assert_memory_equal(sn_pkt_data(p), sealed, ns);
	/* the receiver, from its own private key, recovers the packet */
	p = ct_pkt_fill(f, sealed, ns);
	assert_int_equal(sn_wire_decode(sn_pkt_data(p), p->len, &d), 0);
	assert_int_equal(d.key_id, v->sender);
	assert_int_equal(d.epoch, CT_EPOCH);
	assert_true(d.seq == CT_SEQ);
	assert_int_equal(sn_open_pkt(&f->pl.c, rx, &d, p), 0);
	assert_int_equal(p->len, np);
	assert_memory_equal(sn_pkt_data(p), plain, np);
	ct_ctx_free(&f->pl, tx);
	ct_ctx_free(&f->pl, rx);
}

static void test_crypto_vector_node2_to_node1(void **state)
{
	check_vector(*state, &ct_vectors[0]);
}

static void test_crypto_vector_node1_to_node2(void **state)
{
	check_vector(*state, &ct_vectors[1]);
}

/* seal and open depend on nothing but the key context: with the private
 * and pair keys gone, a byte copy of the context in a fresh instance still
 * produces the vector, and a wiped context no longer does. */
static void test_crypto_no_per_packet_derivation(void **state)
{
	struct ct_fx *f = *state;
	const struct ct_vector *v = &ct_vectors[0];
	uint8_t plain[28], sealed[64];
	uint32_t np = ct_unhex(plain, sizeof(plain), v->plain);
	uint32_t ns = ct_unhex(sealed, sizeof(sealed), v->sealed);
	struct sn_wire_hdr h = vector_hdr(v->sender);
	void *ctx = ct_vector_ctx(&f->pl, 2, 2, 1);
	void *copy = ct_ctx_new(&f->pl);
	struct sn_crypto other = {f->ops, ct_instance_new(&f->pl, &f->host)};
	struct sn_pkt *p;

	memcpy(copy, ctx, f->ops->key_ctx_size);
	f->ops->wipe(f->pl.c.inst, ctx);
	p = ct_pkt_fill(f, plain, np);
	assert_int_equal(sn_seal_pkt(&other, copy, &h, p), 0);
	assert_memory_equal(sn_pkt_data(p), sealed, ns);
	assert_int_equal(sn_open_pkt(&other, copy, &h, p), 0);
	p = ct_pkt_fill(f, plain, np);
	assert_int_equal(sn_seal_pkt(&f->pl.c, ctx, &h, p), 0);
	assert_memory_not_equal(sn_pkt_data(p), sealed, ns);
	ct_instance_free(&f->pl, other.inst);
	ct_ctx_free(&f->pl, copy);
	ct_ctx_free(&f->pl, ctx);
}

#define T(t) cmocka_unit_test(t)

static const struct CMUnitTest common[] = {
	T(test_crypto_descriptor),
	T(test_crypto_public_key_matches_libsodium),
	T(test_crypto_pair_key_symmetric),
	T(test_crypto_pair_key_psk_changes_it),
	T(test_crypto_pair_key_rejects_zero_dh),
	T(test_crypto_dir_key_differs_per_direction_and_epoch),
	T(test_crypto_seal_open_round_trip),
	T(test_crypto_open_rejects_any_flipped_byte),
	T(test_crypto_open_rejects_wrong_key_and_short),
	T(test_crypto_seal_needs_room_and_consistent_flags),
	T(test_crypto_vector_node2_to_node1),
	T(test_crypto_vector_node1_to_node2),
	T(test_crypto_vector_challenge_response),
	T(test_crypto_no_per_packet_derivation),
};

int ct_run(const char *name, const struct CMUnitTest *extra, size_t n_extra)
{
	size_t n_common = sizeof(common) / sizeof(common[0]);
	struct CMUnitTest *all = calloc(n_common + n_extra, sizeof(*all));
	char group[64];
	int rc;

	if (!all)
		return 1;
	memcpy(all, common, sizeof(common));
	if (n_extra)
		memcpy(all + n_common, extra, n_extra * sizeof(*extra));
	plugin_name = name;
	snprintf(group, sizeof(group), "crypto_%s", name);
	rc = _cmocka_run_group_tests(group, all, n_common + n_extra, setup, teardown);
	free(all);
	return rc;
}
