/* SPDX-License-Identifier: MIT */
/*
 * tests/test_crypto_chacha.c: the crypto_chacha plugin and core/seal.c
 * against docs/protocol.md ("Keys", "Datagram") and its test vector.
 *
 * The vector: node 1's private key is the bytes 0x01..0x20, node 2's is
 * 0x21..0x40; epoch 1700000000, seq 7, no PSK. Node 2 sends node 1 a 28-byte
 * ICMP echo request 10.0.0.2 -> 10.0.0.1 (id 0x1234, seq 1, no payload,
 * DF, TTL 64, both checksums correct); node 1 answers with the echo reply
 * 10.0.0.1 -> 10.0.0.2. The sealed bytes were computed with this plugin and
 * checked against an independent pure-Python implementation (RFC 7748
 * X25519, RFC 8439 ChaCha20-Poly1305, hashlib's BLAKE2b) and, below, against
 * libsodium's primitives called directly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "host.h"
#include "seal.h"
#include "subnetra/sdk.h"
#include "wire.h"

#define PLUGIN SN_TEST_BINARY_DIR "/plugins/crypto_chacha.so"

#define EPOCH 1700000000u
#define SEQ 7u
#define HEADROOM 64
#define BUF_LEN 256

static const char *const priv_hex[3] = {
	NULL,
	"0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20",
	"2122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f40",
};
static const char *const pub_hex[3] = {
	NULL,
	"07a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0b2b86d1c7c",
	"5869aff450549732cbaaed5e5df9b30a6da31cb0e5742bad5ad4a1a768f1a67b",
};
#define PAIR_HEX "b82997f3e5ae1fa73a78ba77e01c426bfc76edc1899a210587624053bfea56fe"
#define PSK_HEX "4142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f60"
#define PAIR_PSK_HEX "0e5078ccd72fde067f4c4983a8590d678fbe3ab60e9d9fa5e2ff73a6cd591127"

struct vector {
	uint32_t sender, receiver;
	const char *dir_key; /* dir_key(sender, receiver, EPOCH) */
	const char *plain;
	const char *sealed;
};

static const struct vector vectors[] = {
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

/* The verification datagrams of docs/protocol.md, "Test vector": node 1
 * challenges node 2 (challenge bytes 0x00..0x0f, seq 2^63 + 1), node 2
 * answers (the same bytes, accepted epoch 0, next seq 7, seq
 * 0xc0ffee0000000002), both in epoch 1700000000. */
struct rnd_vector {
	uint32_t sender, receiver;
	uint8_t flags;
	uint64_t seq;
	const char *plain;
	const char *sealed;
};

static const struct rnd_vector rnd_vectors[] = {
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

struct fx {
	void *dl;
	const struct sn_plugin_desc *desc;
	const struct sn_crypto_ops *ops;
	struct sn_host host;
	struct sn_crypto c;
	uint8_t buf[BUF_LEN];
	struct sn_pkt pkt;
};

static uint32_t unhex(uint8_t *out, uint32_t cap, const char *hex)
{
	size_t n = strlen(hex) / 2;
	size_t bin_len = 0;

	assert_true(n <= cap);
	assert_int_equal(sodium_hex2bin(out, cap, hex, strlen(hex), NULL, &bin_len, NULL), 0);
	assert_int_equal(bin_len, n);
	return (uint32_t)n;
}

static void *alloc_aligned(uint32_t size, uint32_t align)
{
	size_t sz = ((size_t)size + align - 1) / align * align;
	void *p = aligned_alloc(align, sz ? sz : align);

	assert_non_null(p);
	memset(p, 0, sz ? sz : align);
	return p;
}

/* An instance as the host makes one: zeroed, aligned, created. */
static void *instance_new(struct fx *f)
{
	struct sn_create_args args = {.struct_size = sizeof(args)};
	char err[128] = "";
	uint32_t align = f->desc->instance_align ? f->desc->instance_align : 16;
	void *inst = alloc_aligned(f->desc->instance_size, align);

	args.host = &f->host;
	args.api = sn_host_api_table();
	args.err = err;
	args.err_len = sizeof(err);
	if (f->desc->create(inst, &args) != 0)
		fail_msg("create: %s", err);
	return inst;
}

static void instance_free(struct fx *f, void *inst)
{
	f->desc->destroy(inst);
	free(inst);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	sn_plugin_entry_fn entry;

	if (!f || sodium_init() < 0)
		return -1;
	f->dl = dlopen(PLUGIN, RTLD_NOW | RTLD_LOCAL);
	if (!f->dl) {
		print_error("%s\n", dlerror());
		free(f);
		return -1;
	}
	entry = (sn_plugin_entry_fn)dlsym(f->dl, SN_PLUGIN_ENTRY_V1);
	if (!entry)
		return -1;
	f->desc = entry();
	f->ops = f->desc->ops;
	sn_host_init(&f->host, NULL, NULL);
	f->c.ops = f->ops;
	f->c.inst = instance_new(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	instance_free(f, f->c.inst);
	dlclose(f->dl);
	free(f);
	return 0;
}

static void *ctx_new(struct fx *f)
{
	return alloc_aligned(f->ops->key_ctx_size, 16);
}

static void ctx_free(struct fx *f, void *ctx)
{
	f->ops->wipe(f->c.inst, ctx);
	free(ctx);
}

/* Node me's side of the vector, as a daemon has it: its own private key
 * and the peer's public key from config. */
static void vector_pair_key(struct fx *f, uint32_t me, uint32_t peer, uint8_t out[static 32])
{
	uint8_t priv[32], pub[32], ppub[32];

	unhex(priv, 32, priv_hex[me]);
	unhex(ppub, 32, pub_hex[peer]);
	assert_int_equal(f->ops->public_key(f->c.inst, pub, priv), 0);
	assert_int_equal(f->ops->pair_key(f->c.inst, out, priv, pub, ppub, NULL), 0);
	sodium_memzero(priv, sizeof(priv));
}

static void *vector_ctx(struct fx *f, uint32_t me, uint32_t sender, uint32_t receiver)
{
	uint8_t pair[32];
	void *ctx = ctx_new(f);

	vector_pair_key(f, me, me == sender ? receiver : sender, pair);
	assert_int_equal(f->ops->dir_key(f->c.inst, ctx, pair, sender, receiver, EPOCH), 0);
	sodium_memzero(pair, sizeof(pair));
	return ctx;
}

/* Put n bytes in the fixture's packet with room on both sides. */
static struct sn_pkt *pkt_fill(struct fx *f, const uint8_t *data, uint32_t n)
{
	struct sn_pkt *p = &f->pkt;

	memset(p, 0, sizeof(*p));
	memset(f->buf, 0xcc, sizeof(f->buf));
	p->buf = f->buf;
	p->cap = sizeof(f->buf);
	p->off = HEADROOM;
	p->len = n;
	if (n)
		memcpy(p->buf + p->off, data, n);
	return p;
}

static struct sn_wire_hdr vector_hdr(uint32_t sender)
{
	struct sn_wire_hdr h = {SN_WIRE_VERSION, 0, sender, EPOCH, SEQ};

	return h;
}

static void test_chacha_descriptor(void **state)
{
	struct fx *f = *state;
	char why[128] = "";

	assert_int_equal(f->desc->abi_major, SN_ABI_MAJOR);
	assert_true(f->desc->abi_minor <= SN_ABI_MINOR);
	assert_int_equal(f->desc->kind, SN_KIND_CRYPTO);
	assert_string_equal(f->desc->name, "chacha");
	assert_non_null(f->desc->probe);
	assert_int_equal(f->desc->probe(why, sizeof(why)), 0);
	assert_true(f->desc->tailroom >= SN_TAG_LEN);
	assert_true(f->ops->struct_size >= sizeof(struct sn_crypto_ops));
	assert_true(f->ops->key_ctx_size >= 32 && f->ops->key_ctx_size <= 512);
	assert_non_null(f->ops->public_key);
	assert_non_null(f->ops->pair_key);
	assert_non_null(f->ops->dir_key);
	assert_non_null(f->ops->seal);
	assert_non_null(f->ops->open);
	assert_non_null(f->ops->wipe);
	/* static helpers stay hidden; only the entry symbol is exported */
	assert_null(dlsym(f->dl, "pair_key"));
	assert_null(dlsym(f->dl, "desc"));
}

static void test_chacha_public_key_matches_libsodium(void **state)
{
	struct fx *f = *state;
	uint8_t priv[32], pub[32], want[32];

	for (int i = 0; i < 8; i++) {
		randombytes_buf(priv, sizeof(priv));
		assert_int_equal(f->ops->public_key(f->c.inst, pub, priv), 0);
		assert_int_equal(crypto_scalarmult_base(want, priv), 0);
		assert_memory_equal(pub, want, 32);
	}
	for (uint32_t n = 1; n <= 2; n++) {
		unhex(priv, 32, priv_hex[n]);
		unhex(want, 32, pub_hex[n]);
		assert_int_equal(f->ops->public_key(f->c.inst, pub, priv), 0);
		assert_memory_equal(pub, want, 32);
	}
}

static void test_chacha_pair_key_symmetric(void **state)
{
	struct fx *f = *state;
	uint8_t a_priv[32], a_pub[32], b_priv[32], b_pub[32], ab[32], ba[32], want[32];

	for (int i = 0; i < 4; i++) {
		crypto_box_keypair(a_pub, a_priv);
		crypto_box_keypair(b_pub, b_priv);
		assert_int_equal(f->ops->pair_key(f->c.inst, ab, a_priv, a_pub, b_pub, NULL), 0);
		assert_int_equal(f->ops->pair_key(f->c.inst, ba, b_priv, b_pub, a_pub, NULL), 0);
		assert_memory_equal(ab, ba, 32);
	}
	vector_pair_key(f, 1, 2, ab);
	vector_pair_key(f, 2, 1, ba);
	unhex(want, 32, PAIR_HEX);
	assert_memory_equal(ab, want, 32);
	assert_memory_equal(ba, want, 32);
}

static void test_chacha_pair_key_psk_changes_it(void **state)
{
	struct fx *f = *state;
	uint8_t p1[32], u1[32], p2[32], u2[32], psk[32], none[32], k12[32], k21[32], want[32];

	unhex(p1, 32, priv_hex[1]);
	unhex(p2, 32, priv_hex[2]);
	unhex(psk, 32, PSK_HEX);
	f->ops->public_key(f->c.inst, u1, p1);
	f->ops->public_key(f->c.inst, u2, p2);
	assert_int_equal(f->ops->pair_key(f->c.inst, none, p1, u1, u2, NULL), 0);
	assert_int_equal(f->ops->pair_key(f->c.inst, k12, p1, u1, u2, psk), 0);
	assert_int_equal(f->ops->pair_key(f->c.inst, k21, p2, u2, u1, psk), 0);
	unhex(want, 32, PAIR_PSK_HEX);
	assert_memory_equal(k12, want, 32);
	assert_memory_equal(k21, want, 32);
	assert_memory_not_equal(k12, none, 32);
	psk[31] ^= 1;
	assert_int_equal(f->ops->pair_key(f->c.inst, k21, p2, u2, u1, psk), 0);
	assert_memory_not_equal(k12, k21, 32);
}

/* Points of small order make X25519 output all zeros whatever the scalar:
 * a peer that sends one would otherwise force a known pair key. */
static void test_chacha_pair_key_rejects_zero_dh(void **state)
{
	static const char *const low_order[] = {
		"0000000000000000000000000000000000000000000000000000000000000000", /* 0 */
		"0100000000000000000000000000000000000000000000000000000000000000", /* 1 */
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p - 1 */
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p */
	};
	struct fx *f = *state;
	uint8_t priv[32], pub[32], bad[32], out[32];

	unhex(priv, 32, priv_hex[1]);
	f->ops->public_key(f->c.inst, pub, priv);
	for (size_t i = 0; i < sizeof(low_order) / sizeof(low_order[0]); i++) {
		unhex(bad, 32, low_order[i]);
		assert_int_equal(f->ops->pair_key(f->c.inst, out, priv, pub, bad, NULL), -EINVAL);
	}
}

/* The challenge and response of the vector: sealed by the sender's side,
 * byte for byte; opened by the receiver's side, from its own keys. */
static void test_chacha_vector_challenge_response(void **state)
{
	struct fx *f = *state;

	for (size_t i = 0; i < 2; i++) {
		const struct rnd_vector *v = &rnd_vectors[i];
		struct sn_wire_hdr h = {SN_WIRE_VERSION, v->flags, v->sender, EPOCH, v->seq}, d;
		uint8_t plain[64], want[128];
		uint32_t n = unhex(plain, sizeof(plain), v->plain);
		uint32_t m = unhex(want, sizeof(want), v->sealed);
		void *tx = vector_ctx(f, v->sender, v->sender, v->receiver);
		void *rx = vector_ctx(f, v->receiver, v->sender, v->receiver);
		struct sn_pkt *p = pkt_fill(f, plain, n);

		assert_int_equal(sn_seal_pkt(&f->c, tx, &h, p), 0);
		assert_int_equal(p->len, m);
		assert_memory_equal(sn_pkt_data(p), want, m);
		assert_int_equal(sn_wire_decode(want, m, &d), 0);
		assert_int_equal(d.flags, v->flags);
		p = pkt_fill(f, want, m);
		assert_int_equal(sn_open_pkt(&f->c, rx, &d, p), 0);
		assert_int_equal(p->len, n);
		assert_memory_equal(sn_pkt_data(p), plain, n);
		ctx_free(f, tx);
		ctx_free(f, rx);
	}
}

/* Same plaintext, header and nonce under two keys: equal ciphertexts would
 * mean equal keys. */
static void seal_with(struct fx *f, const void *ctx, uint8_t out[static 64])
{
	uint8_t plain[28];
	struct sn_wire_hdr h = vector_hdr(2);
	struct sn_pkt *p = pkt_fill(f, plain, unhex(plain, sizeof(plain), vectors[0].plain));

	assert_int_equal(sn_seal_pkt(&f->c, ctx, &h, p), 0);
	assert_int_equal(p->len, 64);
	memcpy(out, sn_pkt_data(p), 64);
}

static void test_chacha_dir_key_differs_per_direction_and_epoch(void **state)
{
	struct fx *f = *state;
	uint8_t pair[32], a[64], b[64], c[64];
	void *ctx = ctx_new(f);

	unhex(pair, 32, PAIR_HEX);
	assert_int_equal(f->ops->dir_key(f->c.inst, ctx, pair, 2, 1, EPOCH), 0);
	seal_with(f, ctx, a);
	assert_int_equal(f->ops->dir_key(f->c.inst, ctx, pair, 1, 2, EPOCH), 0);
	seal_with(f, ctx, b);
	assert_int_equal(f->ops->dir_key(f->c.inst, ctx, pair, 2, 1, EPOCH + 1), 0);
	seal_with(f, ctx, c);
	assert_memory_not_equal(a + SN_WIRE_HDR_LEN, b + SN_WIRE_HDR_LEN, 64 - SN_WIRE_HDR_LEN);
	assert_memory_not_equal(a + SN_WIRE_HDR_LEN, c + SN_WIRE_HDR_LEN, 64 - SN_WIRE_HDR_LEN);
	assert_memory_not_equal(b + SN_WIRE_HDR_LEN, c + SN_WIRE_HDR_LEN, 64 - SN_WIRE_HDR_LEN);
	ctx_free(f, ctx);
}

static void round_trip(struct fx *f, const void *ctx, uint8_t flags, uint32_t n)
{
	uint8_t plain[1500];
	struct sn_wire_hdr h = {SN_WIRE_VERSION, flags, 9, 123, 456789}, d;
	struct sn_pkt *p;
	uint8_t fbuf[1600];

	randombytes_buf(plain, n);
	p = pkt_fill(f, plain, 0);
	p->buf = fbuf; /* big enough for an MTU-sized packet */
	p->cap = sizeof(fbuf);
	memcpy(p->buf + p->off, plain, n);
	p->len = n;
	assert_int_equal(sn_seal_pkt(&f->c, ctx, &h, p), 0);
	assert_int_equal(p->off, HEADROOM - SN_WIRE_HDR_LEN);
	assert_int_equal(p->len, SN_WIRE_OVERHEAD + n);
	assert_int_equal(sn_wire_decode(sn_pkt_data(p), p->len, &d), 0);
	assert_int_equal(d.key_id, 9);
	assert_int_equal(d.flags, flags);
	assert_int_equal(sn_open_pkt(&f->c, ctx, &d, p), 0);
	assert_int_equal(p->off, HEADROOM);
	assert_int_equal(p->len, n);
	if (n)
		assert_memory_equal(sn_pkt_data(p), plain, n);
}

static void test_seal_open_round_trip(void **state)
{
	static const uint32_t sizes[] = {1, 20, 28, 63, 64, 65, 576, 1420, 1500};
	struct fx *f = *state;
	void *ctx = vector_ctx(f, 2, 2, 1);

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		round_trip(f, ctx, 0, sizes[i]);
	round_trip(f, ctx, SN_WIRE_F_KEEPALIVE, 0);
	ctx_free(f, ctx);
}

/* Every bit of the header (the aad), the ciphertext and the tag is
 * authenticated: any flip fails and leaves the packet's bounds alone. */
static void test_open_rejects_any_flipped_byte(void **state)
{
	static const uint8_t bits[] = {0x01, 0x80, 0xff};
	struct fx *f = *state;
	uint8_t dgram[64];
	uint32_t n = unhex(dgram, sizeof(dgram), vectors[0].sealed);
	struct sn_wire_hdr h;
	void *ctx = vector_ctx(f, 1, 2, 1);

	assert_int_equal(sn_wire_decode(dgram, n, &h), 0);
	for (uint32_t i = 0; i < n; i++) {
		for (size_t b = 0; b < sizeof(bits); b++) {
			struct sn_pkt *p = pkt_fill(f, dgram, n);

			p->buf[p->off + i] ^= bits[b];
			if (sn_open_pkt(&f->c, ctx, &h, p) != -EBADMSG)
				fail_msg("byte %u ^ 0x%02x was accepted", i, bits[b]);
			assert_int_equal(p->off, HEADROOM);
			assert_int_equal(p->len, n);
		}
	}
	ctx_free(f, ctx);
}

static void test_open_rejects_wrong_key_and_short(void **state)
{
	struct fx *f = *state;
	uint8_t dgram[64];
	uint32_t n = unhex(dgram, sizeof(dgram), vectors[0].sealed);
	struct sn_wire_hdr h;
	void *wrong_dir = vector_ctx(f, 1, 1, 2);
	void *right = vector_ctx(f, 1, 2, 1);
	struct sn_pkt *p;

	assert_int_equal(sn_wire_decode(dgram, n, &h), 0);
	p = pkt_fill(f, dgram, n);
	assert_int_equal(sn_open_pkt(&f->c, wrong_dir, &h, p), -EBADMSG);
	h.seq++; /* a nonce other than the sender's */
	assert_int_equal(sn_open_pkt(&f->c, right, &h, p), -EBADMSG);
	h.seq--;
	p = pkt_fill(f, dgram, SN_WIRE_MIN_LEN - 1);
	assert_int_equal(sn_open_pkt(&f->c, right, &h, p), -EBADMSG);
	assert_int_equal(p->len, SN_WIRE_MIN_LEN - 1);
	ctx_free(f, wrong_dir);
	ctx_free(f, right);
}

static void test_seal_needs_room_and_consistent_flags(void **state)
{
	struct fx *f = *state;
	uint8_t plain[28];
	struct sn_wire_hdr h = vector_hdr(2);
	uint32_t n = unhex(plain, sizeof(plain), vectors[0].plain);
	void *ctx = vector_ctx(f, 2, 2, 1);
	struct sn_pkt *p;

	p = pkt_fill(f, plain, n);
	p->off = SN_WIRE_HDR_LEN - 1;
	memcpy(p->buf + p->off, plain, n);
	assert_int_equal(sn_seal_pkt(&f->c, ctx, &h, p), -ENOSPC);
	assert_int_equal(p->off, SN_WIRE_HDR_LEN - 1);
	assert_int_equal(p->len, n);
	p = pkt_fill(f, plain, n);
	p->cap = HEADROOM + n + SN_WIRE_TAG_LEN - 1;
	assert_int_equal(sn_seal_pkt(&f->c, ctx, &h, p), -ENOSPC);
	assert_int_equal(p->len, n);
	p->cap++; /* exactly enough */
	assert_int_equal(sn_seal_pkt(&f->c, ctx, &h, p), 0);
	p = pkt_fill(f, plain, 0);
	assert_int_equal(sn_seal_pkt(&f->c, ctx, &h, p), -EINVAL); /* data, empty */
	h.flags = SN_WIRE_F_KEEPALIVE;
	p = pkt_fill(f, plain, n);
	assert_int_equal(sn_seal_pkt(&f->c, ctx, &h, p), -EINVAL); /* keepalive, not empty */
	assert_int_equal(p->off, HEADROOM);
	ctx_free(f, ctx);
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

static void check_vector(struct fx *f, const struct vector *v)
{
	uint8_t plain[28], sealed[64];
	uint32_t np = unhex(plain, sizeof(plain), v->plain);
	uint32_t ns = unhex(sealed, sizeof(sealed), v->sealed);
	struct sn_wire_hdr h = vector_hdr(v->sender), d;
	void *tx = vector_ctx(f, v->sender, v->sender, v->receiver);
	void *rx = vector_ctx(f, v->receiver, v->sender, v->receiver);
	struct sn_pkt *p;

	assert_int_equal(sn_ipv4_check(plain, np), 0);
	assert_int_equal(inet_sum(plain, 20), 0);
	assert_int_equal(inet_sum(plain + 20, np - 20), 0);
	/* the sender seals exactly the documented bytes */
	p = pkt_fill(f, plain, np);
	assert_int_equal(sn_seal_pkt(&f->c, tx, &h, p), 0);
	assert_int_equal(p->len, ns);
	assert_memory_equal(sn_pkt_data(p), sealed, ns);
	/* the receiver, from its own private key, recovers the packet */
	p = pkt_fill(f, sealed, ns);
	assert_int_equal(sn_wire_decode(sn_pkt_data(p), p->len, &d), 0);
	assert_int_equal(d.key_id, v->sender);
	assert_int_equal(d.epoch, EPOCH);
	assert_true(d.seq == SEQ);
	assert_int_equal(sn_open_pkt(&f->c, rx, &d, p), 0);
	assert_int_equal(p->len, np);
	assert_memory_equal(sn_pkt_data(p), plain, np);
	ctx_free(f, tx);
	ctx_free(f, rx);
}

static void test_chacha_vector_node2_to_node1(void **state)
{
	check_vector(*state, &vectors[0]);
}

static void test_chacha_vector_node1_to_node2(void **state)
{
	check_vector(*state, &vectors[1]);
}

/* The documented intermediate values, recomputed with libsodium's
 * primitives directly (no plugin code): the key schedule of section 1 and
 * the sealing of section 3 written out once more. */
static void test_chacha_vector_matches_libsodium_direct(void **state)
{
	uint8_t priv[3][32], pub[3][32], dh[32], pair[32], want[32], dk[32], msg[28];
	uint8_t plain[28], sealed[64], out[64];
	crypto_generichash_state st;

	(void)state;
	for (int n = 1; n <= 2; n++) {
		unhex(priv[n], 32, priv_hex[n]);
		assert_int_equal(crypto_scalarmult_base(pub[n], priv[n]), 0);
	}
	assert_int_equal(crypto_scalarmult(dh, priv[2], pub[1]), 0);
	crypto_generichash_init(&st, dh, 32, 32);
	crypto_generichash_update(&st, (const uint8_t *)"subnetra/v1/pair", 16);
	/* pub1 (0x07...) < pub2 (0x58...) */
	assert_true(memcmp(pub[1], pub[2], 32) < 0);
	crypto_generichash_update(&st, pub[1], 32);
	crypto_generichash_update(&st, pub[2], 32);
	crypto_generichash_final(&st, pair, 32);
	unhex(want, 32, PAIR_HEX);
	assert_memory_equal(pair, want, 32);
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct vector *v = &vectors[i];
		uint32_t np = unhex(plain, sizeof(plain), v->plain);

		unhex(sealed, sizeof(sealed), v->sealed);
		memcpy(msg, "subnetra/v1/data", 16);
		sn__store_be32(msg + 16, v->sender);
		sn__store_be32(msg + 20, v->receiver);
		sn__store_be32(msg + 24, EPOCH);
		crypto_generichash(dk, 32, msg, 28, pair, 32);
		unhex(want, 32, v->dir_key);
		assert_memory_equal(dk, want, 32);
		/* sealed[0..20) is the header; sealed[12..20) is be64(seq) and
		 * sealed[8..12) be32(epoch), so the nonce is sealed[8..20) */
		memcpy(out, sealed, 20);
		crypto_aead_chacha20poly1305_ietf_encrypt(out + 20, NULL, plain, np, sealed, 20,
							  NULL, sealed + 8, dk);
		assert_memory_equal(out, sealed, 20 + np + 16);
	}
}

/* seal and open depend on nothing but the key context: with the private
 * and pair keys gone, a byte copy of the context in a fresh instance still
 * produces the vector, and a wiped context no longer does. */
static void test_chacha_no_per_packet_derivation(void **state)
{
	struct fx *f = *state;
	const struct vector *v = &vectors[0];
	uint8_t plain[28], sealed[64];
	uint32_t np = unhex(plain, sizeof(plain), v->plain);
	uint32_t ns = unhex(sealed, sizeof(sealed), v->sealed);
	struct sn_wire_hdr h = vector_hdr(v->sender);
	void *ctx = vector_ctx(f, 2, 2, 1);
	void *copy = ctx_new(f);
	struct sn_crypto other = {f->ops, instance_new(f)};
	struct sn_pkt *p;

	memcpy(copy, ctx, f->ops->key_ctx_size);
	f->ops->wipe(f->c.inst, ctx);
	p = pkt_fill(f, plain, np);
	assert_int_equal(sn_seal_pkt(&other, copy, &h, p), 0);
	assert_memory_equal(sn_pkt_data(p), sealed, ns);
	assert_int_equal(sn_open_pkt(&other, copy, &h, p), 0);
	p = pkt_fill(f, plain, np);
	assert_int_equal(sn_seal_pkt(&f->c, ctx, &h, p), 0);
	assert_memory_not_equal(sn_pkt_data(p), sealed, ns);
	instance_free(f, other.inst);
	ctx_free(f, copy);
	ctx_free(f, ctx);
}

#define T(t) cmocka_unit_test(t)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_chacha_descriptor),
		T(test_chacha_public_key_matches_libsodium),
		T(test_chacha_pair_key_symmetric),
		T(test_chacha_pair_key_psk_changes_it),
		T(test_chacha_pair_key_rejects_zero_dh),
		T(test_chacha_dir_key_differs_per_direction_and_epoch),
		T(test_seal_open_round_trip),
		T(test_open_rejects_any_flipped_byte),
		T(test_open_rejects_wrong_key_and_short),
		T(test_seal_needs_room_and_consistent_flags),
		T(test_chacha_vector_node2_to_node1),
		T(test_chacha_vector_node1_to_node2),
		T(test_chacha_vector_matches_libsodium_direct),
		T(test_chacha_vector_challenge_response),
		T(test_chacha_no_per_packet_derivation),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
