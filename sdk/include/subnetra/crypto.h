/* SPDX-License-Identifier: MIT */
/*
 * subnetra/crypto.h: the crypto operations: the AEAD and the key schedule
 * of docs/protocol.md, section 1.
 *
 * The host derives direction keys once per (peer, direction, epoch) with
 * dir_key() into a key context of key_ctx_size bytes it allocates (never
 * per packet), then seals and opens in place with it.
 */
#ifndef SUBNETRA_CRYPTO_H
#define SUBNETRA_CRYPTO_H

#include "subnetra/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SN_KEY_LEN 32   /* X25519 keys, PSK, pair key */
#define SN_NONCE_LEN 12 /* be32(epoch) || be64(seq) */
#define SN_TAG_LEN 16   /* Poly1305 tag */

struct sn_crypto_ops {
	uint32_t struct_size;  /* sizeof(struct sn_crypto_ops) in the plugin */
	uint32_t key_ctx_size; /* bytes of one direction key context (<= 512) */

	/* Required: the public key of a private key. 0 or -EINVAL. */
	int (*public_key)(void *inst, uint8_t pub[static SN_KEY_LEN],
			  const uint8_t priv[static SN_KEY_LEN]);

	/* Required: the pair key of section 1. psk is NULL when none is
	 * configured. -EINVAL if the DH result is all zeros (a bad peer key).
	 * All pointers are the caller's and read during the call only. */
	int (*pair_key)(void *inst, uint8_t out[static SN_KEY_LEN],
			const uint8_t own_priv[static SN_KEY_LEN],
			const uint8_t own_pub[static SN_KEY_LEN],
			const uint8_t peer_pub[static SN_KEY_LEN], const uint8_t *psk);

	/* Required: dir_key(sender, receiver, epoch) into key_ctx, which the
	 * host owns (key_ctx_size bytes, 16-byte aligned). */
	int (*dir_key)(void *inst, void *key_ctx, const uint8_t pair_key[static SN_KEY_LEN],
		       uint32_t sender, uint32_t receiver, uint32_t epoch);

	/* Required: encrypt len bytes at msg in place and write the tag to
	 * tag (which may directly follow msg). 0 or a negative errno. */
	int (*seal)(void *inst, const void *key_ctx, const uint8_t nonce[static SN_NONCE_LEN],
		    const uint8_t *aad, uint32_t aad_len, uint8_t *msg, uint32_t len,
		    uint8_t tag[static SN_TAG_LEN]);

	/* Required: verify tag and decrypt len bytes at msg in place. 0, or
	 * -EBADMSG when the tag does not verify (msg is then unspecified). */
	int (*open)(void *inst, const void *key_ctx, const uint8_t nonce[static SN_NONCE_LEN],
		    const uint8_t *aad, uint32_t aad_len, uint8_t *msg, uint32_t len,
		    const uint8_t tag[static SN_TAG_LEN]);

	/* Required: erase a key context before the host reuses or frees it. */
	void (*wipe)(void *inst, void *key_ctx);
};

#ifdef __cplusplus
}
#endif
#endif
