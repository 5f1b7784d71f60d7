/* SPDX-License-Identifier: MIT */
/*
 * core/mtu.c: the overlay MTU over the egress stack (mtu.h).
 */
#include "mtu.h"

#include <stdio.h>

#include "wire.h"

#define MTU_MIN 576 /* overlay.mtu's least value (config.c) */

_Static_assert(SN_WIRE_OVERHEAD == 36, "SN_MTU_DEFAULT_WIRE counts the protocol's 36 bytes");

void sn_mtu_resolve(struct sn_mtu *m, const struct sn_config *c, uint32_t eg_overhead,
		    uint32_t cr_overhead)
{
	uint32_t prot = cr_overhead > SN_WIRE_OVERHEAD ? cr_overhead : SN_WIRE_OVERHEAD;
	uint32_t over = eg_overhead + prot;

	m->automatic = !(c->has & SN_CONF_HAS_MTU);
	m->eg_overhead = eg_overhead;
	m->protocol = prot;
	m->fits = over < SN_MTU_UNDERLAY ? SN_MTU_UNDERLAY - over : 0;
	if (!m->automatic)
		m->mtu = c->mtu;
	else if (over + MTU_MIN >= SN_MTU_DEFAULT_WIRE)
		m->mtu = MTU_MIN;
	else if (over + SN_CONF_DEFAULT_MTU <= SN_MTU_DEFAULT_WIRE)
		m->mtu = SN_CONF_DEFAULT_MTU; /* never above the default */
	else
		m->mtu = SN_MTU_DEFAULT_WIRE - over;
	m->datagram = m->mtu + over;
}

/* "kcp_arq 38, raw_direct 28": each egress's share, top first. */
static void shares(const struct sn_mtu_layer *l, uint32_t n, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < n && used < len; i++) {
		int w = snprintf(buf + used, len - used, "%s%s %u", i ? ", " : "", l[i].name,
				 l[i].overhead);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

/* "kcp_arq over raw_direct" */
static void stack_name(const struct sn_mtu_layer *l, uint32_t n, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < n && used < len; i++) {
		int w = snprintf(buf + used, len - used, "%s%s", i ? " over " : "", l[i].name);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

bool sn_mtu_warning(const struct sn_mtu *m, const struct sn_config *c,
		    const struct sn_mtu_layer *l, uint32_t n, char *buf, size_t len)
{
	char sh[160], st[128], where[300], fit[96];

	buf[0] = '\0';
	if (m->datagram <= SN_MTU_UNDERLAY)
		return false;
	shares(l, n, sh, sizeof(sh));
	stack_name(l, n, st, sizeof(st));
	if (c->mtu_at.line)
		snprintf(where, sizeof(where), "%s:%u:%u: ", c->mtu_at.file ? c->mtu_at.file : c->path,
			 c->mtu_at.line, c->mtu_at.column);
	else
		snprintf(where, sizeof(where), "%s: ", c->path ? c->path : "config");
	if (m->fits >= MTU_MIN)
		snprintf(fit, sizeof(fit), "the largest overlay.mtu that fits is %u", m->fits);
	else
		snprintf(fit, sizeof(fit), "no overlay.mtu from %u fits", MTU_MIN);
	snprintf(buf, len, "%soverlay.mtu: %u%s makes datagrams of up to %u bytes on the underlay "
		 "(%u + %u protocol header and tag + %u egress %s: %s), more than a %u-byte "
		 "underlay carries without fragments (fine on a jumbo underlay); %s%s",
		 where, m->mtu, m->automatic ? " (automatic, the least)" : "", m->datagram, m->mtu,
		 m->protocol, m->eg_overhead, st, sh, SN_MTU_UNDERLAY, fit,
		 m->automatic ? "" : ", or leave overlay.mtu unset for one that fits");
	return true;
}

bool sn_mtu_describe(const struct sn_mtu *m, const struct sn_mtu_layer *l, uint32_t n,
		     char *buf, size_t len)
{
	char sh[160], st[128];

	buf[0] = '\0';
	if (!m->automatic)
		return false;
	shares(l, n, sh, sizeof(sh));
	stack_name(l, n, st, sizeof(st));
	snprintf(buf, len, "overlay MTU %u (overlay.mtu not set: %u less what egress %s adds beyond "
		 "IPv4 and UDP; %u + %u protocol header and tag + %u egress (%s) = %u-byte "
		 "datagrams on the underlay)", m->mtu, SN_CONF_DEFAULT_MTU, st, m->mtu, m->protocol,
		 m->eg_overhead, sh, m->datagram);
	return true;
}
