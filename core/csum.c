/* SPDX-License-Identifier: MIT */
/*
 * core/csum.c: the external definitions of the inline functions in csum.h
 * (C11 6.7.4), for callers the compiler chose not to inline into.
 */
#include "csum.h"

extern inline uint64_t sn_csum_add(uint64_t sum, const uint8_t *p, size_t n);
extern inline uint64_t sn_csum_copy(uint8_t *dst, const uint8_t *src, size_t n, uint64_t sum);
extern inline uint16_t sn_csum_fold(uint64_t sum);
extern inline uint64_t sn_csum_pseudo(const uint8_t *ip, uint32_t l4_len);
extern inline void sn_csum_store(uint8_t *p, uint64_t sum);
extern inline void sn_csum_ip(uint8_t *ip, uint32_t hlen);
extern inline int sn_csum_ok(uint64_t sum);
extern inline void sn_csum_replace16(uint8_t check[static 2], const uint8_t old[static 2],
				     const uint8_t new_[static 2]);
