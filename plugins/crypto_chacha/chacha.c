/* SPDX-License-Identifier: MIT */
/*
 * crypto_chacha: the AEAD and key schedule of docs/protocol.md, version 1,
 * on libsodium: X25519, keyed BLAKE2b-256, ChaCha20-Poly1305 (RFC 8439).
 *
 * Keys are derived on the control path only (pair_key, dir_key); seal and
 * open use nothing but the key context the host hands them, so the packet
 * path does no hashing and no scalar multiplication.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "subnetra/sdk.h"

/* The datagram framing sealed around the plaintext (docs/protocol.md,
 * section 3): the 20-byte header in front is the AEAD's aad, the tag
 * follows the ciphertext. The header is encoded by the host (core/wire.h);
 * it is declared here so that a pool sized from the descriptors alone
 * has room for the whole datagram. */
#define HDR_LEN 20

#define LABEL_PAIR "subnetra/v1/pair"
#define LABEL_DATA "subnetra/v1/data"
#define LABEL_LEN 16

_Static_assert(SN_KEY_LEN == crypto_scalarmult_BYTES, "X25519 output size");
_Static_assert(SN_KEY_LEN == crypto_scalarmult_SCALARBYTES, "X25519 scalar size");
_Static_assert(SN_KEY_LEN == crypto_aead_chacha20poly1305_ietf_KEYBYTES, "AEAD key size");
_Static_assert(SN_NONCE_LEN == crypto_aead_chacha20poly1305_ietf_NPUBBYTES, "AEAD nonce size");
_Static_assert(SN_TAG_LEN == crypto_aead_chacha20poly1305_ietf_ABYTES, "AEAD tag size");
_Static_assert(SN_KEY_LEN >= crypto_generichash_KEYBYTES_MIN &&
	       SN_KEY_LEN <= crypto_generichash_KEYBYTES_MAX, "BLAKE2b key size");
_Static_assert(sizeof(LABEL_PAIR) - 1 == LABEL_LEN && sizeof(LABEL_DATA) - 1 == LABEL_LEN,
	       "labels are 16 ASCII bytes, no NUL");

/* One direction key; nothing else, so wiping it erases all secret state. */
struct key_ctx {
	uint8_t key[SN_KEY_LEN];
};

/* The instance holds no secrets: keys live in the host's key contexts. */
struct chacha {
	struct sn_host *host;
	const struct sn_host_api *api;
};

static void set_err(char *buf, uint32_t len, const char *msg)
{
	if (buf && len)
		snprintf(buf, len, "%s", msg);
}

static void store_be32(uint8_t out[static 4], uint32_t v)
{
	out[0] = (uint8_t)(v >> 24);
	out[1] = (uint8_t)(v >> 16);
	out[2] = (uint8_t)(v >> 8);
	out[3] = (uint8_t)v;
}

static int public_key(void *inst, uint8_t pub[static SN_KEY_LEN],
		      const uint8_t priv[static SN_KEY_LEN])
{
	(void)inst;
	if (crypto_scalarmult_base(pub, priv) != 0)
		return -EINVAL;
	return 0;
}

/* The pair's two public keys in memcmp order, so both ends hash the same
 * bytes without agreeing on roles first. */
static void hash_pubs(crypto_generichash_state *st, const uint8_t a[static SN_KEY_LEN],
		      const uint8_t b[static SN_KEY_LEN])
{
	const uint8_t *lo = a, *hi = b;

	if (memcmp(a, b, SN_KEY_LEN) > 0) {
		lo = b;
		hi = a;
	}
	crypto_generichash_update(st, lo, SN_KEY_LEN);
	crypto_generichash_update(st, hi, SN_KEY_LEN);
}

static int pair_key(void *inst, uint8_t out[static SN_KEY_LEN],
		    const uint8_t own_priv[static SN_KEY_LEN], const uint8_t own_pub[static SN_KEY_LEN],
		    const uint8_t peer_pub[static SN_KEY_LEN], const uint8_t *psk)
{
	crypto_generichash_state st;
	uint8_t dh[SN_KEY_LEN];
	int rc = -EINVAL;

	(void)inst;
	/* libsodium already fails on an all-zero result (a low-order peer
	 * key); the explicit check keeps the rule of docs/protocol.md,
	 * section 1 (an all-zero dh refuses the peer key), independent of
	 * that. */
	if (crypto_scalarmult(dh, own_priv, peer_pub) != 0 || sodium_is_zero(dh, sizeof(dh)))
		goto out;
	crypto_generichash_init(&st, dh, sizeof(dh), SN_KEY_LEN);
	crypto_generichash_update(&st, (const uint8_t *)LABEL_PAIR, LABEL_LEN);
	hash_pubs(&st, own_pub, peer_pub);
	if (psk)
		crypto_generichash_update(&st, psk, SN_KEY_LEN);
	crypto_generichash_final(&st, out, SN_KEY_LEN);
	rc = 0;
out:
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(dh, sizeof(dh));
	return rc;
}

static int dir_key(void *inst, void *ctx, const uint8_t pair[static SN_KEY_LEN],
		   uint32_t sender, uint32_t receiver, uint32_t epoch)
{
	struct key_ctx *k = ctx;
	crypto_generichash_state st;
	uint8_t msg[LABEL_LEN + 12];
	int rc = 0;

	(void)inst;
	memcpy(msg, LABEL_DATA, LABEL_LEN);
	store_be32(msg + LABEL_LEN, sender);
	store_be32(msg + LABEL_LEN + 4, receiver);
	store_be32(msg + LABEL_LEN + 8, epoch);
	/* The state on our stack holds the keyed hash of the pair key: ours
	 * to wipe, which the one-call crypto_generichash() would not let us do. */
	if (crypto_generichash_init(&st, pair, SN_KEY_LEN, SN_KEY_LEN) != 0 ||
	    crypto_generichash_update(&st, msg, sizeof(msg)) != 0 ||
	    crypto_generichash_final(&st, k->key, SN_KEY_LEN) != 0) {
		sodium_memzero(k, sizeof(*k));
		rc = -EINVAL;
	}
	sodium_memzero(&st, sizeof(st));
	return rc;
}

static int aead_seal(void *inst, const void *ctx, const uint8_t nonce[static SN_NONCE_LEN],
		     const uint8_t *aad, uint32_t aad_len, uint8_t *msg, uint32_t len,
		     uint8_t tag[static SN_TAG_LEN])
{
	const struct key_ctx *k = ctx;

	(void)inst;
	/* libsodium allows c == m: the ciphertext overwrites the plaintext. */
	if (crypto_aead_chacha20poly1305_ietf_encrypt_detached(msg, tag, NULL, msg, len, aad,
								aad_len, NULL, nonce, k->key) != 0)
		return -EINVAL;
	return 0;
}

static int aead_open(void *inst, const void *ctx, const uint8_t nonce[static SN_NONCE_LEN],
		     const uint8_t *aad, uint32_t aad_len, uint8_t *msg, uint32_t len,
		     const uint8_t tag[static SN_TAG_LEN])
{
	const struct key_ctx *k = ctx;

	(void)inst;
	/* libsodium verifies the tag before it decrypts anything, and on a
	 * mismatch zeroes msg rather than leave unauthenticated bytes. */
	if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(msg, NULL, msg, len, tag, aad,
								aad_len, nonce, k->key) != 0)
		return -EBADMSG;
	return 0;
}

static void wipe(void *inst, void *ctx)
{
	(void)inst;
	sodium_memzero(ctx, sizeof(struct key_ctx));
}

static int probe(char *why, uint32_t why_len)
{
	if (sodium_init() < 0) {
		set_err(why, why_len, "libsodium failed to initialise");
		return -EIO;
	}
	return 0;
}

static int create(void *inst, const struct sn_create_args *args)
{
	struct chacha *c = inst;

	if (sodium_init() < 0) {
		set_err(args->err, args->err_len, "libsodium failed to initialise");
		return -EIO;
	}
	c->host = args->host;
	c->api = args->api;
	return 0;
}

static void destroy(void *inst)
{
	(void)inst;
}

static const struct sn_crypto_ops ops = {
	.struct_size = sizeof(struct sn_crypto_ops),
	.key_ctx_size = sizeof(struct key_ctx),
	.public_key = public_key,
	.pair_key = pair_key,
	.dir_key = dir_key,
	.seal = aead_seal,
	.open = aead_open,
	.wipe = wipe,
};

static const struct sn_plugin_desc desc = {
	SN_PLUGIN_DESC_INIT(SN_KIND_CRYPTO, "chacha", struct chacha),
	.version = SN_VERSION_STRING,
	.description = "ChaCha20-Poly1305 + X25519 + BLAKE2b (libsodium), wire protocol v1",
	.headroom = HDR_LEN,
	.tailroom = SN_TAG_LEN,
	.overhead = HDR_LEN + SN_TAG_LEN,
	.probe = probe,
	.create = create,
	.destroy = destroy,
	.ops = &ops,
};

SN_PLUGIN_ENTRY(desc)
