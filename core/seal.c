/* SPDX-License-Identifier: MIT */
#include "seal.h"

#include <errno.h>

_Static_assert(SN_WIRE_TAG_LEN == SN_TAG_LEN, "the wire tag is the AEAD tag");
_Static_assert(SN_WIRE_NONCE_LEN == SN_NONCE_LEN, "the wire nonce is the AEAD nonce");

int sn_seal_pkt(const struct sn_crypto *c, const void *key_ctx, const struct sn_wire_hdr *h,
		struct sn_pkt *p)
{
	uint8_t nonce[SN_WIRE_NONCE_LEN];
	uint8_t *hdr;
	uint32_t n = p->len;
	int rc;

	if (!sn_wire_plain_ok(h->flags, n))
		return -EINVAL;
	if (sn_pkt_headroom(p) < SN_WIRE_HDR_LEN || sn_pkt_tailroom(p) < SN_WIRE_TAG_LEN)
		return -ENOSPC;
	hdr = sn_pkt_push(p, SN_WIRE_HDR_LEN);
	sn_wire_encode(hdr, h);
	sn_wire_nonce(nonce, h->epoch, h->seq);
	rc = c->ops->seal(c->inst, key_ctx, nonce, hdr, SN_WIRE_HDR_LEN, hdr + SN_WIRE_HDR_LEN, n,
			  hdr + SN_WIRE_HDR_LEN + n);
	if (rc < 0) {
		sn_pkt_pull(p, SN_WIRE_HDR_LEN);
		return rc;
	}
	p->len += SN_WIRE_TAG_LEN;
	return 0;
}

int sn_open_pkt(const struct sn_crypto *c, const void *key_ctx, const struct sn_wire_hdr *h,
		struct sn_pkt *p)
{
	uint8_t nonce[SN_WIRE_NONCE_LEN];
	uint8_t *hdr = sn_pkt_data(p);
	uint32_t n;

	if (p->len < SN_WIRE_MIN_LEN)
		return -EBADMSG;
	n = p->len - SN_WIRE_OVERHEAD;
	sn_wire_nonce(nonce, h->epoch, h->seq);
	/* The aad is the header as received, not re-encoded from h: the tag
	 * covers exactly the bytes the sender put on the wire. */
	if (c->ops->open(c->inst, key_ctx, nonce, hdr, SN_WIRE_HDR_LEN, hdr + SN_WIRE_HDR_LEN, n,
			 hdr + SN_WIRE_HDR_LEN + n) != 0)
		return -EBADMSG;
	sn_pkt_pull(p, SN_WIRE_HDR_LEN);
	p->len -= SN_WIRE_TAG_LEN;
	return 0;
}
