/* SPDX-License-Identifier: MIT */
/*
 * plugins/os_darwin/utun_frame.c: the utun family header, see
 * utun_frame.h.
 */
#include <errno.h>

#include "darwin_sys.h"
#include "utun_frame.h"

uint32_t sn_utun_family(const uint8_t *ip, uint32_t len)
{
	if (len == 0)
		return 0;
	switch (ip[0] >> 4) {
	case 4:
		return AF_INET;
	case 6:
		return AF_INET6;
	default:
		return 0;
	}
}

int sn_utun_encap(struct sn_pkt *p)
{
	uint32_t fam = sn_utun_family(sn_pkt_data(p), p->len);
	uint8_t *h;

	if (!fam)
		return -EPROTONOSUPPORT;
	h = sn_pkt_push(p, SN_UTUN_HDR_LEN);
	if (!h)
		return -ENOSPC;
	h[0] = (uint8_t)(fam >> 24);
	h[1] = (uint8_t)(fam >> 16);
	h[2] = (uint8_t)(fam >> 8);
	h[3] = (uint8_t)fam;
	return 0;
}

int sn_utun_decap(struct sn_pkt *p, size_t got, uint32_t *family)
{
	const uint8_t *h = p->buf + p->off - SN_UTUN_HDR_LEN;
	uint32_t room = p->cap > p->off ? p->cap - p->off : 0;

	if (p->off < SN_UTUN_HDR_LEN)
		return -EINVAL;
	if (got < SN_UTUN_HDR_LEN)
		return -EBADMSG;
	if (got - SN_UTUN_HDR_LEN > room)
		return -EMSGSIZE;
	*family = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
	p->len = (uint32_t)(got - SN_UTUN_HDR_LEN);
	return 0;
}
