/* SPDX-License-Identifier: MIT */
/*
 * core/wire.c: the external definitions of the inline functions in wire.h
 * (C11 6.7.4), for callers the compiler chose not to inline into.
 */
#include "wire.h"

_Static_assert(SN_WIRE_MIN_LEN == 36, "docs/protocol.md: receive step 1");
_Static_assert(SN_WIRE_OVERHEAD == 36, "docs/protocol.md: sizes");
_Static_assert(SN_CTR_DROP_SHORT != 0 && SN_CTR_DROP_BAD_VERSION != 0 &&
	       SN_CTR_DROP_BAD_HEADER != 0 && SN_CTR_DROP_BAD_INNER != 0,
	       "decode results use 0 for success");

extern inline uint16_t sn__load_be16(const uint8_t p[static 2]);
extern inline uint32_t sn__load_be32(const uint8_t p[static 4]);
extern inline uint64_t sn__load_be64(const uint8_t p[static 8]);
extern inline void sn__store_be32(uint8_t p[static 4], uint32_t v);
extern inline void sn__store_be64(uint8_t p[static 8], uint64_t v);
extern inline void sn_wire_encode(uint8_t out[static SN_WIRE_HDR_LEN],
				  const struct sn_wire_hdr *h);
extern inline int sn_wire_plain_ok(uint8_t flags, uint32_t n);
extern inline int sn_wire_decode(const uint8_t *buf, uint32_t len, struct sn_wire_hdr *out);
extern inline void sn_wire_nonce(uint8_t out[static SN_WIRE_NONCE_LEN], uint32_t epoch,
				 uint64_t seq);
extern inline int sn_ipv4_check(const uint8_t *p, uint32_t len);
extern inline uint32_t sn_ipv4_src(const uint8_t *p);
extern inline uint32_t sn_ipv4_dst(const uint8_t *p);
