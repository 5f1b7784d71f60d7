/* SPDX-License-Identifier: MIT */
/*
 * core/seal.h: turning a plaintext packet into a datagram and back, in
 * place, with a crypto plugin and a direction key context the caller
 * derived beforehand (docs/protocol.md, section 3). Nothing here allocates
 * or derives keys: that happens once per (peer, direction, epoch).
 */
#ifndef SN_SEAL_H
#define SN_SEAL_H

#include "subnetra/crypto.h"
#include "subnetra/packet.h"
#include "wire.h"

/* A created crypto plugin: its operations and its instance. */
struct sn_crypto {
	const struct sn_crypto_ops *ops;
	void *inst;
};

/*
 * p holds the plaintext (an inner packet; len 0 with SN_WIRE_F_KEEPALIVE;
 * the 16 or 28 bytes of a challenge or response with their flag in
 * h->flags). Push the encoded header h in front, encrypt in place with
 * aad = header, nonce = (h->epoch, h->seq), and append the tag: p->len
 * becomes 20 + n + 16. Returns 0; -ENOSPC when p has less than 20 bytes of
 * headroom or 16 of tailroom (p unchanged); -EINVAL when the flags and
 * the plaintext's length disagree (sn_wire_plain_ok: a receiver would drop
 * it as bad_header); or the plugin's error (p's off and len restored, its bytes
 * unspecified).
 */
int sn_seal_pkt(const struct sn_crypto *c, const void *key_ctx, const struct sn_wire_hdr *h,
		struct sn_pkt *p);

/*
 * p holds a whole datagram that sn_wire_decode() accepted into h. Verify the
 * tag and decrypt in place; on success strip header and tag so p's data is
 * the plaintext (len 0 for a keepalive). Returns 0, or -EBADMSG when the tag
 * does not verify or p is too short to be a datagram; p's off and len are
 * then unchanged but the bytes behind the header are not (crypto_chacha
 * zeroes them, as libsodium does): a caller that would try a second key
 * must copy the datagram first.
 */
int sn_open_pkt(const struct sn_crypto *c, const void *key_ctx, const struct sn_wire_hdr *h,
		struct sn_pkt *p);

#endif
