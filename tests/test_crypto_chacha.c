/* SPDX-License-Identifier: MIT */
/*
 * tests/test_crypto_chacha.c: the crypto_chacha plugin and core/seal.c
 * against docs/protocol.md ("Keys", "Datagram") and its test vector: the
 * tests every crypto plugin passes (tests/support/cryptotest.c), and the
 * vector's intermediate values recomputed with libsodium's primitives
 * called directly.
 */
#include "cryptotest.h"

#include <string.h>

#include <sodium.h>

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
		ct_unhex(priv[n], 32, ct_priv_hex[n]);
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
	ct_unhex(want, 32, CT_PAIR_HEX);
	assert_memory_equal(pair, want, 32);
	for (size_t i = 0; i < sizeof(ct_vectors) / sizeof(ct_vectors[0]); i++) {
		const struct ct_vector *v = &ct_vectors[i];
		uint32_t np = ct_unhex(plain, sizeof(plain), v->plain);

		ct_unhex(sealed, sizeof(sealed), v->sealed);
		ct_dir_msg(msg, v);
		crypto_generichash(dk, 32, msg, 28, pair, 32);
		ct_unhex(want, 32, v->dir_key);
		assert_memory_equal(dk, want, 32);
		/* sealed[0..20) is the header; sealed[12..20) is be64(seq) and
		 * sealed[8..12) be32(epoch), so the nonce is sealed[8..20) */
		memcpy(out, sealed, 20);
		crypto_aead_chacha20poly1305_ietf_encrypt(out + 20, NULL, plain, np, sealed, 20,
							  NULL, sealed + 8, dk);
		assert_memory_equal(out, sealed, 20 + np + 16);
	}
}

int main(void)
{
	const struct CMUnitTest extra[] = {
		cmocka_unit_test(test_chacha_vector_matches_libsodium_direct),
	};

	return ct_run("chacha", extra, sizeof(extra) / sizeof(extra[0]));
}
