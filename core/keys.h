/* SPDX-License-Identifier: MIT */
/*
 * core/keys.h: key text form (standard base64 with padding, 44 characters,
 * the form `wg genkey` / `wg pubkey` use) and key generation.
 */
#ifndef SN_KEYS_H
#define SN_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define SN_KEY_B64_LEN 44 /* without the NUL */

/* Encode 32 bytes; out holds at least SN_KEY_B64_LEN + 1 bytes. */
void sn_key_to_b64(char out[static SN_KEY_B64_LEN + 1], const uint8_t key[static 32]);
/* Decode text (leading/trailing whitespace ignored) to exactly 32 bytes.
 * 0, or -EINVAL when it is not 44 base64 characters of a 32-byte key. */
int sn_key_from_b64(uint8_t key[static 32], const char *text, size_t len);
/* A new random private key, clamped as X25519 wants (same as wg genkey). */
int sn_key_generate(uint8_t key[static 32]);
/* A new random preshared key. */
int sn_key_generate_psk(uint8_t key[static 32]);
/* The X25519 public key of a private key. 0 or -EINVAL. */
int sn_key_public(uint8_t pub[static 32], const uint8_t priv[static 32]);

#endif
