/* SPDX-License-Identifier: MIT */
#include "keys.h"

#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <string.h>

void sn_key_to_b64(char out[static SN_KEY_B64_LEN + 1], const uint8_t key[static 32])
{
	sodium_bin2base64(out, SN_KEY_B64_LEN + 1, key, 32, sodium_base64_VARIANT_ORIGINAL);
}

int sn_key_from_b64(uint8_t key[static 32], const char *text, size_t len)
{
	size_t got = 0;
	const char *end = NULL;

	while (len && isspace((unsigned char)*text)) {
		text++;
		len--;
	}
	while (len && isspace((unsigned char)text[len - 1]))
		len--;
	if (len != SN_KEY_B64_LEN || text[len - 1] != '=')
		return -EINVAL;
	if (sodium_base642bin(key, 32, text, len, NULL, &got, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    got != 32 || end != text + len) {
		sodium_memzero(key, 32); /* no part of a key left behind */
		return -EINVAL;
	}
	return 0;
}

static int init(void)
{
	return sodium_init() < 0 ? -EIO : 0;
}

int sn_key_generate(uint8_t key[static 32])
{
	if (init() < 0)
		return -EIO;
	randombytes_buf(key, 32);
	key[0] &= 248;
	key[31] = (key[31] & 127) | 64;
	return 0;
}

int sn_key_generate_psk(uint8_t key[static 32])
{
	if (init() < 0)
		return -EIO;
	randombytes_buf(key, 32);
	return 0;
}

int sn_key_public(uint8_t pub[static 32], const uint8_t priv[static 32])
{
	if (init() < 0)
		return -EIO;
	return crypto_scalarmult_base(pub, priv) == 0 ? 0 : -EINVAL;
}
