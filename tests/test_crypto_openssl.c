/* SPDX-License-Identifier: MIT */
/*
 * tests/test_crypto_openssl.c: the crypto_openssl plugin against
 * docs/protocol.md and its test vector (the tests every crypto plugin
 * passes, tests/support/cryptotest.c), the vector recomputed with
 * OpenSSL's primitives called directly, and crypto_openssl against
 * crypto_chacha in one process: the same public and pair keys, and every
 * packet size 0..1500 sealed by one plugin byte for byte as the other seals
 * it and opened by the other. Also: no allocation per packet, and key
 * derivation on a second thread (a reload's worker) beside packets on the
 * first. And: a new instance hands libcrypto's start-up pages back
 * (mapped clean pages before and after create()) and still seals as the
 * first one does.
 */
#include "cryptotest.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <sodium.h>

#define MAX_MSG 1500

/* ---- OpenSSL directly: the vector's intermediate values -------------------- */

static void b2_mac(uint8_t out[static 32], const uint8_t key[static 32], const uint8_t *a,
		   size_t an, const uint8_t *b, size_t bn)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "BLAKE2BMAC", NULL);
	EVP_MAC_CTX *c = mac ? EVP_MAC_CTX_new(mac) : NULL;
	size_t size = 32, n = 0;
	OSSL_PARAM p[] = {OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
			  OSSL_PARAM_construct_end()};

	assert_non_null(c);
	assert_int_equal(EVP_MAC_init(c, key, 32, p), 1);
	assert_int_equal(EVP_MAC_update(c, a, an), 1);
	if (bn)
		assert_int_equal(EVP_MAC_update(c, b, bn), 1);
	assert_int_equal(EVP_MAC_final(c, out, &n, 32), 1);
	assert_int_equal(n, 32);
	EVP_MAC_CTX_free(c);
	EVP_MAC_free(mac);
}

static EVP_PKEY *x_priv(const uint8_t priv[static 32])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, 32);

	assert_non_null(k);
	return k;
}

static void x_dh(uint8_t out[static 32], const uint8_t priv[static 32], const uint8_t pub[static 32])
{
	EVP_PKEY *own = x_priv(priv);
	EVP_PKEY *peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, pub, 32);
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(own, NULL);
	size_t n = 32;

	assert_non_null(c);
	assert_int_equal(EVP_PKEY_derive_init(c), 1);
	assert_int_equal(EVP_PKEY_derive_set_peer(c, peer), 1);
	assert_int_equal(EVP_PKEY_derive(c, out, &n), 1);
	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(peer);
	EVP_PKEY_free(own);
}

static void evp_seal(uint8_t *out, const uint8_t key[static 32], const uint8_t nonce[static 12],
		     const uint8_t *aad, int aad_len, const uint8_t *plain, int n)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int l;

	assert_int_equal(EVP_EncryptInit_ex(c, EVP_chacha20_poly1305(), NULL, key, nonce), 1);
	assert_int_equal(EVP_EncryptUpdate(c, NULL, &l, aad, aad_len), 1);
	assert_int_equal(EVP_EncryptUpdate(c, out, &l, plain, n), 1);
	assert_int_equal(EVP_EncryptFinal_ex(c, out + n, &l), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, out + n), 1);
	EVP_CIPHER_CTX_free(c);
}

static void test_openssl_vector_matches_openssl_direct(void **state)
{
	uint8_t priv[3][32], pub[3][32], dh[32], pair[32], want[32], dk[32], msg[28];
	uint8_t plain[28], sealed[64], out[64], pubs[64];
	size_t n = 32;

	(void)state;
	for (int i = 1; i <= 2; i++) {
		EVP_PKEY *k;

		ct_unhex(priv[i], 32, ct_priv_hex[i]);
		k = x_priv(priv[i]);
		assert_int_equal(EVP_PKEY_get_raw_public_key(k, pub[i], &n), 1);
		EVP_PKEY_free(k);
		ct_unhex(want, 32, ct_pub_hex[i]);
		assert_memory_equal(pub[i], want, 32);
	}
	x_dh(dh, priv[2], pub[1]);
	memcpy(pubs, pub[1], 32); /* pub1 (0x07...) < pub2 (0x58...) */
	memcpy(pubs + 32, pub[2], 32);
	b2_mac(pair, dh, (const uint8_t *)"subnetra/v1/pair", 16, pubs, 64);
	ct_unhex(want, 32, CT_PAIR_HEX);
	assert_memory_equal(pair, want, 32);
	for (size_t i = 0; i < 2; i++) {
		const struct ct_vector *v = &ct_vectors[i];
		uint32_t np = ct_unhex(plain, sizeof(plain), v->plain);

		ct_unhex(sealed, sizeof(sealed), v->sealed);
		ct_dir_msg(msg, v);
		b2_mac(dk, pair, msg, sizeof(msg), NULL, 0);
		ct_unhex(want, 32, v->dir_key);
		assert_memory_equal(dk, want, 32);
		/* the header is the aad; its bytes 8..20 are the nonce */
		memcpy(out, sealed, 20);
		evp_seal(out + 20, dk, sealed + 8, sealed, 20, plain, (int)np);
		assert_memory_equal(out, sealed, 20 + np + 16);
	}
}

/* ---- crypto_openssl against crypto_chacha --------------------------------- */

static void chacha_open(struct ct_fx *f, struct ct_plugin *c)
{
	ct_plugin_open(c, &f->host, "chacha");
}

/* a's and b's results for the same inputs: both refuse, or equal keys. */
static void same_pair_key(struct ct_plugin *a, struct ct_plugin *b, const uint8_t priv[static 32],
			  const uint8_t pub[static 32], const uint8_t peer[static 32],
			  const uint8_t *psk)
{
	uint8_t ka[32], kb[32];
	int ra = a->ops->pair_key(a->c.inst, ka, priv, pub, peer, psk);
	int rb = b->ops->pair_key(b->c.inst, kb, priv, pub, peer, psk);

	assert_int_equal(ra, rb);
	if (ra == 0)
		assert_memory_equal(ka, kb, 32);
}

/* Public keys, pair keys with and without PSK from both ends, and peer
 * keys that are not all valid points (any 32 bytes, the small-order ones,
 * their top-bit twins): the same answer from both plugins. */
static void test_openssl_cross_key_schedule(void **state)
{
	static const char *const odd[] = {
		"0000000000000000000000000000000000000000000000000000000000000000",
		"0100000000000000000000000000000000000000000000000000000000000000",
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
		"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"0000000000000000000000000000000000000000000000000000000000000080",
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
		"0900000000000000000000000000000000000000000000000000000000000000",
	};
	struct ct_fx *f = *state;
	struct ct_plugin c, *o = &f->pl;
	uint8_t a_priv[32], a_pub[32], b_priv[32], b_pub[32], pa[32], pb[32], psk[32], k1[32], k2[32];

	chacha_open(f, &c);
	for (int i = 0; i < 64; i++) {
		randombytes_buf(a_priv, 32);
		randombytes_buf(b_priv, 32);
		randombytes_buf(psk, 32);
		assert_int_equal(o->ops->public_key(o->c.inst, a_pub, a_priv), 0);
		assert_int_equal(c.ops->public_key(c.c.inst, pa, a_priv), 0);
		assert_memory_equal(a_pub, pa, 32);
		assert_int_equal(o->ops->public_key(o->c.inst, b_pub, b_priv), 0);
		assert_int_equal(c.ops->public_key(c.c.inst, pb, b_priv), 0);
		assert_memory_equal(b_pub, pb, 32);
		same_pair_key(o, &c, a_priv, a_pub, b_pub, NULL);
		same_pair_key(o, &c, a_priv, a_pub, b_pub, psk);
		/* the two ends, one on each plugin */
		assert_int_equal(o->ops->pair_key(o->c.inst, k1, a_priv, a_pub, b_pub, psk), 0);
		assert_int_equal(c.ops->pair_key(c.c.inst, k2, b_priv, b_pub, a_pub, psk), 0);
		assert_memory_equal(k1, k2, 32);
		randombytes_buf(pb, 32); /* any 32 bytes as the peer's key */
		same_pair_key(o, &c, a_priv, a_pub, pb, NULL);
	}
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		ct_unhex(pb, 32, odd[i]);
		same_pair_key(o, &c, a_priv, a_pub, pb, NULL);
	}
	ct_plugin_close(&c);
}

/* One direction key in both plugins' key contexts. */
struct dual_key {
	void *o, *c;
};

static void dual_derive(struct ct_plugin *o, struct ct_plugin *c, struct dual_key *k)
{
	uint8_t pair[32];
	uint32_t ids[3];

	randombytes_buf(pair, sizeof(pair));
	randombytes_buf(ids, sizeof(ids));
	assert_int_equal(o->ops->dir_key(o->c.inst, k->o, pair, ids[0], ids[1], ids[2]), 0);
	assert_int_equal(c->ops->dir_key(c->c.inst, k->c, pair, ids[0], ids[1], ids[2]), 0);
}

/* msg (n bytes) sealed by from with key kf, opened by to with key kt. */
struct sealed {
	uint8_t aad[32], nonce[12], msg[MAX_MSG], tag[16];
	uint32_t aad_len;
};

static void seal_by(struct ct_plugin *pl, const void *key, const struct sealed *in,
		    const uint8_t *plain, uint32_t n, struct sealed *out)
{
	*out = *in;
	memcpy(out->msg, plain, n);
	assert_int_equal(pl->ops->seal(pl->c.inst, key, out->nonce, out->aad, out->aad_len,
				       out->msg, n, out->tag), 0);
}

static void open_by(struct ct_plugin *pl, const void *key, struct sealed *s, uint32_t n,
		    const uint8_t *plain)
{
	assert_int_equal(pl->ops->open(pl->c.inst, key, s->nonce, s->aad, s->aad_len, s->msg, n,
				       s->tag), 0);
	if (n)
		assert_memory_equal(s->msg, plain, n);
}

/* A flipped bit anywhere fails in both, and both leave msg zeroed. */
static void both_refuse(struct ct_plugin *o, struct ct_plugin *c, struct dual_key *k,
			const struct sealed *s, uint32_t n)
{
	static const uint8_t zero[MAX_MSG];
	struct sealed a = *s, b;
	uint32_t at = randombytes_uniform(n + 16 + a.aad_len);

	if (at < n)
		a.msg[at] ^= 0x10;
	else if (at < n + 16)
		a.tag[at - n] ^= 0x10;
	else
		a.aad[at - n - 16] ^= 0x10;
	b = a;
	assert_int_equal(o->ops->open(o->c.inst, k->o, a.nonce, a.aad, a.aad_len, a.msg, n, a.tag),
			 -EBADMSG);
	assert_int_equal(c->ops->open(c->c.inst, k->c, b.nonce, b.aad, b.aad_len, b.msg, n, b.tag),
			 -EBADMSG);
	if (n) {
		assert_memory_equal(a.msg, zero, n);
		assert_memory_equal(b.msg, zero, n);
	}
}

/* Every size 0..1500 with a random aad (the 20-byte header, or 0..32
 * bytes) and nonce, under keys that change between packets (four keys
 * in turn, one of them a byte copy of another's context): the two plugins
 * seal the same bytes, each opens what the other sealed, both refuse the
 * same forgeries. */
static void test_openssl_cross_seal_every_size(void **state)
{
	struct ct_fx *f = *state;
	struct ct_plugin c, *o = &f->pl;
	struct dual_key keys[4];
	static struct sealed in, by_o, by_c;
	static uint8_t plain[MAX_MSG];

	chacha_open(f, &c);
	for (int i = 0; i < 4; i++) {
		keys[i].o = ct_ctx_new(o);
		keys[i].c = ct_ctx_new(&c);
		if (i < 3)
			dual_derive(o, &c, &keys[i]);
	}
	memcpy(keys[3].o, keys[1].o, o->ops->key_ctx_size); /* as core/carry.c copies */
	memcpy(keys[3].c, keys[1].c, c.ops->key_ctx_size);
	for (uint32_t n = 0; n <= MAX_MSG; n++) {
		struct dual_key *k = &keys[randombytes_uniform(4)];

		randombytes_buf(plain, n);
		randombytes_buf(&in, sizeof(in));
		in.aad_len = n % 3 ? SN_WIRE_HDR_LEN : randombytes_uniform(33);
		seal_by(o, k->o, &in, plain, n, &by_o);
		seal_by(&c, k->c, &in, plain, n, &by_c);
		assert_memory_equal(by_o.msg, by_c.msg, n);
		assert_memory_equal(by_o.tag, by_c.tag, 16);
		both_refuse(o, &c, k, &by_o, n);
		open_by(&c, k->c, &by_o, n, plain);
		open_by(o, k->o, &by_c, n, plain);
	}
	for (int i = 0; i < 4; i++) {
		ct_ctx_free(o, keys[i].o);
		ct_ctx_free(&c, keys[i].c);
	}
	ct_plugin_close(&c);
}

/* ---- no allocation per packet ------------------------------------------------ */

#ifdef SN_TEST_COUNT_MALLOC
/* Every heap call in this process goes through these (glibc's own entry
 * points underneath, as tests/tools/malloc_count.c does for the daemon);
 * exported, so that the dlopen()ed plugin and libcrypto call them too. */
#define SN_HEAP_API __attribute__((visibility("default")))
static atomic_ulong heap_calls;
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

SN_HEAP_API void *malloc(size_t n)
{
	heap_calls++;
	return __libc_malloc(n);
}

SN_HEAP_API void *calloc(size_t a, size_t b)
{
	heap_calls++;
	return __libc_calloc(a, b);
}

SN_HEAP_API void *realloc(void *p, size_t n)
{
	heap_calls++;
	return __libc_realloc(p, n);
}

SN_HEAP_API void *aligned_alloc(size_t align, size_t n)
{
	heap_calls++;
	return __libc_memalign(align, n);
}

SN_HEAP_API int posix_memalign(void **out, size_t align, size_t n)
{
	heap_calls++;
	*out = __libc_memalign(align, n);
	return *out ? 0 : ENOMEM;
}

/* What the data path asks of the plugin, 3000 times over: seal and open
 * under keys that alternate, forgeries, and a candidate epoch's key
 * derived (core/datapath.c): not one heap call. */
static void test_openssl_no_alloc_per_packet(void **state)
{
	struct ct_fx *f = *state;
	struct ct_plugin *o = &f->pl;
	void *keys[3] = {ct_ctx_new(o), ct_ctx_new(o), ct_ctx_new(o)};
	static uint8_t msg[MAX_MSG];
	uint8_t pair[32], nonce[12] = {0}, aad[20] = {0}, tag[16];
	unsigned long before, calls;
	int bad = 0;

	randombytes_buf(pair, sizeof(pair));
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(o->ops->dir_key(o->c.inst, keys[i], pair, 1, 2 + i, 7), 0);
	before = heap_calls;
	for (uint32_t i = 0; i < 3000; i++) {
		const void *k = keys[i % 3];
		uint32_t n = (i * 7) % MAX_MSG;

		nonce[11] = (uint8_t)i;
		bad |= o->ops->seal(o->c.inst, k, nonce, aad, sizeof(aad), msg, n, tag) != 0;
		bad |= o->ops->open(o->c.inst, k, nonce, aad, sizeof(aad), msg, n, tag) != 0;
		tag[0] ^= 1;
		bad |= o->ops->open(o->c.inst, k, nonce, aad, sizeof(aad), msg, n, tag) != -EBADMSG;
		if (i % 100 == 0)
			bad |= o->ops->dir_key(o->c.inst, keys[2], pair, 2, 1, 8 + i) != 0;
	}
	calls = heap_calls - before;
	assert_int_equal(bad, 0);
	assert_int_equal(calls, 0);
	for (int i = 0; i < 3; i++)
		ct_ctx_free(o, keys[i]);
}
#endif

/* ---- resident memory -------------------------------------------------------- */

/* KiB of libcrypto's file pages this process has mapped: its mappings
 * without write access and without pages of their own (what create() may
 * hand back: the relocated relro is not among them). */
static long libcrypto_clean_kib(void)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	char line[1024];
	int in = 0, ro = 0;
	long kib = 0, rss = 0, anon = 0, v;

	assert_non_null(f);
	for (;;) {
		char perms[8];
		int more = fgets(line, sizeof(line), f) != NULL;
		int header = more && sscanf(line, "%*x-%*x %7s", perms) == 1;

		if (!more || header) {
			if (in && ro && anon == 0)
				kib += rss;
			if (!more)
				break;
			in = strstr(line, "/libcrypto.so") != NULL;
			ro = strchr(perms, 'w') == NULL;
			rss = anon = 0;
		} else if (sscanf(line, "Rss: %ld kB", &v) == 1) {
			rss = v;
		} else if (sscanf(line, "Anonymous: %ld kB", &v) == 1) {
			anon = v;
		}
	}
	fclose(f);
	return kib;
}

/* With libcrypto's pages mapped (what this process called so far, and a
 * key exchange, a MAC and a seal of its own), a new instance's create()
 * unmaps them: what is left is a small part; the new instance still seals
 * what the first one seals. */
static void test_openssl_sheds_startup_pages(void **state)
{
	struct ct_fx *f = *state;
	struct ct_plugin *o = &f->pl;
	uint8_t priv[32], pub[32], dh[32], key[32] = {7}, nonce[12] = {0}, aad[20] = {0};
	static uint8_t msg[1420], sealed[1420 + 16];
	uint8_t t1[16], t2[16], pair[32];
	void *inst, *k1 = ct_ctx_new(o), *k2 = ct_ctx_new(o);
	long before, after;

	randombytes_buf(priv, sizeof(priv));
	assert_int_equal(o->ops->public_key(o->c.inst, pub, priv), 0);
	x_dh(dh, priv, pub);
	evp_seal(sealed, key, nonce, aad, sizeof(aad), msg, sizeof(msg));
	before = libcrypto_clean_kib();
	inst = ct_instance_new(o, &f->host);
	after = libcrypto_clean_kib();
	print_message("libcrypto's clean pages mapped: %ld KiB before create(), %ld KiB after\n",
		      before, after);
	assert_true(before >= 512);
	assert_true(after * 4 <= before);

	randombytes_buf(pair, sizeof(pair));
	assert_int_equal(o->ops->dir_key(o->c.inst, k1, pair, 1, 2, 3), 0);
	assert_int_equal(o->ops->dir_key(inst, k2, pair, 1, 2, 3), 0);
	assert_int_equal(o->ops->seal(o->c.inst, k1, nonce, aad, sizeof(aad), msg, sizeof(msg), t1), 0);
	memcpy(sealed, msg, sizeof(msg));
	assert_int_equal(o->ops->open(inst, k2, nonce, aad, sizeof(aad), msg, sizeof(msg), t1), 0);
	assert_int_equal(o->ops->seal(inst, k2, nonce, aad, sizeof(aad), msg, sizeof(msg), t2), 0);
	assert_memory_equal(t1, t2, sizeof(t1));
	assert_memory_equal(msg, sealed, sizeof(msg));
	ct_ctx_free(o, k1);
	ct_ctx_free(o, k2);
	ct_instance_free(o, inst);
}

/* ---- threads ------------------------------------------------------------------ */

#define THREAD_ROUNDS 400

struct worker {
	struct ct_plugin *o;
	uint8_t pair[32];
	int bad;
};

/* A reload's worker: direction keys (the shared BLAKE2b context) and, once,
 * a packet of its own (its own AEAD contexts, freed at its exit). */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct ct_plugin *o = w->o;
	uint8_t *k1 = ct_alloc_aligned(o->ops->key_ctx_size, 16);
	uint8_t *k2 = ct_alloc_aligned(o->ops->key_ctx_size, 16);
	uint8_t nonce[12] = {0}, msg[64] = {0}, t1[16], t2[16];

	for (int i = 0; i < THREAD_ROUNDS; i++) {
		w->bad |= o->ops->dir_key(o->c.inst, k1, w->pair, 5, 6, (uint32_t)i) != 0;
		w->bad |= o->ops->dir_key(o->c.inst, k2, w->pair, 5, 6, (uint32_t)i) != 0;
		/* same inputs, same key: the two seals agree */
		w->bad |= o->ops->seal(o->c.inst, k1, nonce, NULL, 0, msg, 0, t1) != 0;
		w->bad |= o->ops->seal(o->c.inst, k2, nonce, NULL, 0, msg, 0, t2) != 0;
		w->bad |= memcmp(t1, t2, 16) != 0;
	}
	o->ops->wipe(o->c.inst, k1);
	o->ops->wipe(o->c.inst, k2);
	free(k1);
	free(k2);
	return NULL;
}

/* Key derivation on two threads at once gives what it gives on one; the
 * other thread's packets do not disturb this one's. */
static void test_openssl_two_threads(void **state)
{
	struct ct_fx *f = *state;
	struct ct_plugin *o = &f->pl;
	struct worker w = {.o = o};
	uint8_t pair[32], want[SN_TAG_LEN], tag[SN_TAG_LEN], nonce[12] = {1};
	static uint8_t msg[1420];
	void *k = ct_ctx_new(o), *ref = ct_ctx_new(o);
	pthread_t t;
	int bad = 0;

	randombytes_buf(pair, sizeof(pair));
	randombytes_buf(w.pair, sizeof(w.pair));
	assert_int_equal(o->ops->dir_key(o->c.inst, ref, pair, 2, 1, 99), 0);
	memset(msg, 0x5a, sizeof(msg));
	assert_int_equal(o->ops->seal(o->c.inst, ref, nonce, NULL, 0, msg, sizeof(msg), want), 0);
	assert_int_equal(pthread_create(&t, NULL, worker_main, &w), 0);
	for (int i = 0; i < THREAD_ROUNDS; i++) {
		bad |= o->ops->dir_key(o->c.inst, k, pair, 2, 1, 99) != 0;
		memset(msg, 0x5a, sizeof(msg));
		bad |= o->ops->seal(o->c.inst, i % 2 ? k : ref, nonce, NULL, 0, msg, sizeof(msg),
				    tag) != 0;
		bad |= memcmp(tag, want, sizeof(tag)) != 0;
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(w.bad, 0);
	assert_int_equal(bad, 0);
	ct_ctx_free(o, k);
	ct_ctx_free(o, ref);
}

int main(void)
{
	const struct CMUnitTest extra[] = {
		cmocka_unit_test(test_openssl_vector_matches_openssl_direct),
		cmocka_unit_test(test_openssl_cross_key_schedule),
		cmocka_unit_test(test_openssl_cross_seal_every_size),
#ifdef SN_TEST_COUNT_MALLOC
		cmocka_unit_test(test_openssl_no_alloc_per_packet),
#endif
		cmocka_unit_test(test_openssl_two_threads),
		cmocka_unit_test(test_openssl_sheds_startup_pages),
	};

	return ct_run("openssl", extra, sizeof(extra) / sizeof(extra[0]));
}
