/* SPDX-License-Identifier: MIT */
/*
 * tests/support/cryptotest.h: what every crypto plugin must do, as one
 * cmocka group run against a built plugin: docs/protocol.md's test vector
 * both ways (the four datagrams, the pair keys with and without PSK, the
 * direction keys), the key schedule, sealing and opening in place through
 * core/seal.c. tests/test_crypto_<name>.c runs it with its own extra tests
 * (the vector recomputed with the plugin's library called directly, ...).
 *
 * The vector: node 1's private key is the bytes 0x01..0x20, node 2's is
 * 0x21..0x40; epoch 1700000000, seq 7, no PSK. Node 2 sends node 1 a 28-byte
 * ICMP echo request 10.0.0.2 -> 10.0.0.1 (id 0x1234, seq 1, no payload,
 * DF, TTL 64, both checksums correct); node 1 answers with the echo reply
 * 10.0.0.1 -> 10.0.0.2. The sealed bytes were computed with crypto_chacha
 * and checked against an independent pure-Python implementation (RFC 7748
 * X25519, RFC 8439 ChaCha20-Poly1305, hashlib's BLAKE2b).
 */
#ifndef SN_CRYPTOTEST_H
#define SN_CRYPTOTEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "host.h"
#include "seal.h"
#include "subnetra/sdk.h"
#include "wire.h"

#define CT_EPOCH 1700000000u
#define CT_SEQ 7u
#define CT_HEADROOM 64
#define CT_BUF_LEN 256

extern const char *const ct_priv_hex[3]; /* [1], [2]: the nodes' private keys */
extern const char *const ct_pub_hex[3];
#define CT_PAIR_HEX "b82997f3e5ae1fa73a78ba77e01c426bfc76edc1899a210587624053bfea56fe"
#define CT_PSK_HEX "4142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f60"
#define CT_PAIR_PSK_HEX "0e5078ccd72fde067f4c4983a8590d678fbe3ab60e9d9fa5e2ff73a6cd591127"

/* The two data datagrams of the vector. */
struct ct_vector {
	uint32_t sender, receiver;
	const char *dir_key; /* dir_key(sender, receiver, CT_EPOCH) */
	const char *plain;
	const char *sealed;
};
extern const struct ct_vector ct_vectors[2];
/* What dir_key hashes for v (docs/protocol.md, "Keys"): the 16-byte label
 * "subnetra/v1/data", be32(sender), be32(receiver), be32(epoch). */
void ct_dir_msg(uint8_t msg[static 28], const struct ct_vector *v);

/* The verification datagrams: node 1 challenges node 2 (challenge bytes
 * 0x00..0x0f, seq 2^63 + 1), node 2 answers (the same bytes, accepted
 * epoch 0, next seq 7, seq 0xc0ffee0000000002), both in epoch 1700000000. */
struct ct_rnd_vector {
	uint32_t sender, receiver;
	uint8_t flags;
	uint64_t seq;
	const char *plain;
	const char *sealed;
};
extern const struct ct_rnd_vector ct_rnd_vectors[2];

/* One loaded crypto plugin with one created instance. */
struct ct_plugin {
	void *dl;
	const struct sn_plugin_desc *desc;
	const struct sn_crypto_ops *ops;
	struct sn_crypto c;
};

/* The group's state: the plugin under test, a host, a packet buffer. */
struct ct_fx {
	struct ct_plugin pl;
	const struct sn_crypto_ops *ops; /* == pl.ops */
	struct sn_host host;
	uint8_t buf[CT_BUF_LEN];
	struct sn_pkt pkt;
};

/* The plugin of name in the build tree, loaded and created (fails the test
 * on any error), and its release. */
void ct_plugin_open(struct ct_plugin *pl, struct sn_host *host, const char *name);
void ct_plugin_close(struct ct_plugin *pl);
/* Another instance of pl's plugin, as the host makes one. */
void *ct_instance_new(const struct ct_plugin *pl, struct sn_host *host);
void ct_instance_free(const struct ct_plugin *pl, void *inst);

uint32_t ct_unhex(uint8_t *out, uint32_t cap, const char *hex);
void *ct_alloc_aligned(uint32_t size, uint32_t align);
void *ct_ctx_new(const struct ct_plugin *pl);          /* zeroed, 16-aligned */
void ct_ctx_free(const struct ct_plugin *pl, void *ctx); /* wiped, freed */
/* Node me's key context for sender -> receiver in the vector's epoch,
 * derived from me's private key and the other node's public key. */
void *ct_vector_ctx(const struct ct_plugin *pl, uint32_t me, uint32_t sender, uint32_t receiver);
/* n bytes in the fixture's packet, CT_HEADROOM bytes in front. */
struct sn_pkt *ct_pkt_fill(struct ct_fx *f, const uint8_t *data, uint32_t n);

/* Run the common tests, then extra, against crypto_<name>.so; main()'s
 * return value. */
int ct_run(const char *name, const struct CMUnitTest *extra, size_t n_extra);

#endif
