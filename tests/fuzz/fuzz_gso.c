/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_gso.c: the offloads' packet surgery. A TUN read's
 * virtio_net_hdr goes through os_linux's translation (plugins/os_linux/
 * vnet.h) and its packet through the host's segmentation or checksum
 * completion (core/gso.h); batches of packets go through coalescing
 * (core/gro.h) and are cut again.
 *
 * Input: byte 0 is the mode.
 *   even: bytes 1..10 are a virtio_net_hdr as the kernel writes it, the
 *         rest the packet read behind it; the segments then go through
 *         coalescing too.
 *   odd:  records len(2, big-endian) + packet, one packet each (at most
 *         SN_GRO_MAX). Unless bit 1 is set, the target fixes the IPv4
 *         header checksum and the TCP/UDP checksum of every record that
 *         has them, so that inputs reach the coalescing rules behind the
 *         checksum checks.
 *
 * Invariants (checksums restated here, the RFC 1071 loop):
 * - a header the host refuses, or a packet sn_gso_init refuses, is dropped
 *   whole; otherwise every segment is a well-formed IPv4 packet
 *   (sn_ipv4_check) with a right header checksum and a right TCP or UDP
 *   checksum, the first segment is the longest, and the segments' payloads
 *   in order are the super-packet's payload;
 * - a partial checksum (no GSO) is refused or completed: the region from
 *   csum_start, with what the field held before added, then sums right;
 * - coalescing puts out every packet exactly once; a packet written alone
 *   is unchanged; every run, cut again with its gso_size, gives back its
 *   packets byte for byte; packets of one TCP flow keep their order.
 * Each packet lives in a buffer of exactly its size: reads and writes past
 * it are ASan's to find.
 */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "gro.h"
#include "gso.h"
#include "vnet.h"
#include "wire.h"

struct batch {
	struct sn_pkt p[SN_GRO_MAX];
	struct sn_pkt *v[SN_GRO_MAX], *out[SN_GRO_MAX];
	uint8_t *orig[SN_GRO_MAX];
	uint32_t olen[SN_GRO_MAX];
	uint32_t n;
};

static uint16_t ref_csum(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n % 2)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t ref_pseudo(const uint8_t *ip, uint32_t l4_len)
{
	uint32_t s = l4_len + ip[9];

	for (int i = 12; i < 20; i += 2)
		s += (uint32_t)ip[i] << 8 | ip[i + 1];
	return s;
}

static uint32_t be16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

/* ---- a batch of packets ---------------------------------------------------- */

static void add(struct batch *b, const uint8_t *d, uint32_t len)
{
	struct sn_pkt *p = &b->p[b->n];
	uint8_t *buf = malloc(len ? len : 1);

	FZ_SETUP(buf, "out of memory");
	memcpy(buf, d, len);
	*p = (struct sn_pkt){ .buf = buf, .cap = len, .len = len };
	b->orig[b->n] = malloc(len ? len : 1);
	FZ_SETUP(b->orig[b->n], "out of memory");
	memcpy(b->orig[b->n], d, len);
	b->olen[b->n] = len;
	b->v[b->n] = p;
	b->n++;
}

static void batch_free(struct batch *b)
{
	for (uint32_t i = 0; i < b->n; i++) {
		free(b->p[i].buf);
		free(b->orig[i]);
	}
	b->n = 0;
}

/* The IPv4 and TCP/UDP checksums of d[0..len) made right, where it has them. */
static void fix_checksums(uint8_t *d, uint32_t len)
{
	uint32_t ihl, c;

	if (len < 20 || d[0] >> 4 != 4 || (ihl = (d[0] & 15u) * 4) < 20 || ihl > len)
		return;
	d[10] = d[11] = 0;
	c = ref_csum(d, ihl, 0);
	d[10] = (uint8_t)(c >> 8), d[11] = (uint8_t)c;
	if (d[9] == SN_IPPROTO_TCP && len >= ihl + 20) {
		d[ihl + 16] = d[ihl + 17] = 0;
		c = ref_csum(d + ihl, len - ihl, ref_pseudo(d, len - ihl));
		d[ihl + 16] = (uint8_t)(c >> 8), d[ihl + 17] = (uint8_t)c;
	}
}

/* ---- coalescing -------------------------------------------------------------- */

static uint32_t index_of(const struct batch *b, const struct sn_pkt *p)
{
	return (uint32_t)(p - b->p);
}

/* TCP over IPv4 with ports readable: its flow key, else false. */
static bool flow_of(const uint8_t *d, uint32_t len, uint8_t key[12])
{
	uint32_t ihl;

	if (len < 20 || d[0] >> 4 != 4 || d[9] != SN_IPPROTO_TCP || (be16(d + 6) & 0x1fff))
		return false;
	ihl = (d[0] & 15u) * 4;
	if (ihl < 20 || len < ihl + 20)
		return false;
	memcpy(key, d + 12, 8);
	memcpy(key + 8, d + ihl, 4);
	return true;
}

static void check_run(struct batch *b, uint32_t at)
{
	const struct sn_pkt *h = b->out[at];
	uint32_t k = h->gso_segs, len = 0;
	struct sn_gso g;
	uint8_t *super, *seg;

	FZ_CHECK(k >= 2 && at + k <= b->n, "run of %u at %u of %u", k, at, b->n);
	for (uint32_t j = 0; j < k; j++)
		len += b->out[at + j]->len;
	super = malloc(len);
	FZ_SETUP(super, "out of memory");
	len = 0;
	for (uint32_t j = 0; j < k; j++) {
		FZ_CHECK(j == 0 || !(b->out[at + j]->flags & SN_PKT_F_RUN), "a run inside a run");
		memcpy(super + len, sn_pkt_data(b->out[at + j]), b->out[at + j]->len);
		len += b->out[at + j]->len;
	}
	FZ_CHECK(be16(super + 2) == len, "total length %u of a %u-byte run", be16(super + 2), len);
	FZ_CHECK(sn_gso_init(&g, super, len, h->gso_size) == 0 && g.segs == k,
		 "a run of %u does not cut into %u", k, g.segs);
	for (uint32_t j = 0; j < k; j++) {
		uint32_t i = index_of(b, b->out[at + j]), n = sn_gso_seg_len(&g, j);

		FZ_CHECK(n == b->olen[i], "segment %u: %u bytes, was %u", j, n, b->olen[i]);
		seg = malloc(n);
		FZ_SETUP(seg, "out of memory");
		sn_gso_seg(&g, j, seg);
		FZ_CHECK(!memcmp(seg, b->orig[i], n), "segment %u of a run differs from packet %u", j, i);
		free(seg);
	}
	free(super);
}

static void check_order(const struct batch *b)
{
	uint8_t ki[12], kj[12];

	for (uint32_t i = 0; i < b->n; i++) {
		uint32_t a = index_of(b, b->out[i]);

		if (!flow_of(b->orig[a], b->olen[a], ki))
			continue;
		for (uint32_t j = i + 1; j < b->n; j++) {
			uint32_t c = index_of(b, b->out[j]);

			if (flow_of(b->orig[c], b->olen[c], kj) && !memcmp(ki, kj, 12))
				FZ_CHECK(a < c, "flow order: packet %u written after %u", a, c);
		}
	}
}

static void coalesce(struct batch *b)
{
	uint32_t seen[SN_GRO_MAX] = { 0 }, runs, found = 0;

	runs = sn_gro_coalesce(b->v, b->n, b->out);
	for (uint32_t i = 0; i < b->n; i++)
		FZ_CHECK(seen[index_of(b, b->out[i])]++ == 0, "packet %u written twice",
			 index_of(b, b->out[i]));
	check_order(b);
	for (uint32_t at = 0; at < b->n;) {
		const struct sn_pkt *p = b->out[at];
		uint32_t i = index_of(b, p);

		if (p->flags & SN_PKT_F_RUN) {
			check_run(b, at);
			found++;
			at += p->gso_segs;
			continue;
		}
		FZ_CHECK(p->len == b->olen[i] && !memcmp(sn_pkt_data(p), b->orig[i], p->len),
			 "packet %u written alone but changed", i);
		at++;
	}
	FZ_CHECK(found == runs, "%u runs reported, %u found", runs, found);
	if (fz_verbose())
		fprintf(stderr, "coalesce: %u packets, %u runs\n", b->n, runs);
}

/* ---- a TUN read ------------------------------------------------------------------ */

static void check_segment(const uint8_t *s, uint32_t n, uint32_t hlen, uint8_t proto)
{
	uint32_t ihl = (s[0] & 15u) * 4;

	FZ_CHECK(sn_ipv4_check(s, n) == 0, "segment not well-formed IPv4");
	FZ_CHECK(ref_csum(s, ihl, 0) == 0, "IPv4 header checksum wrong");
	FZ_CHECK(n >= hlen && s[9] == proto, "segment headers");
	FZ_CHECK(ref_csum(s + ihl, n - ihl, ref_pseudo(s, n - ihl)) == 0, "%s checksum wrong",
		 proto == SN_IPPROTO_TCP ? "TCP" : "UDP");
	if (proto == SN_IPPROTO_UDP)
		FZ_CHECK(be16(s + ihl + 4) == n - ihl, "UDP length");
}

static void cut(const uint8_t *pkt, uint32_t len, uint32_t mss)
{
	static struct batch b;
	uint32_t done = 0, first;
	struct sn_gso g;
	uint8_t *seg;

	if (sn_gso_init(&g, pkt, len, mss) < 0)
		return;
	first = sn_gso_seg_len(&g, 0);
	seg = malloc(first);
	FZ_SETUP(seg, "out of memory");
	for (uint32_t i = 0; i < g.segs; i++) {
		uint32_t n = sn_gso_seg_len(&g, i);

		FZ_CHECK(n <= first && n >= g.hlen, "segment %u of %u: %u bytes", i, g.segs, n);
		sn_gso_seg(&g, i, seg);
		check_segment(seg, n, g.hlen, g.proto);
		FZ_CHECK(!memcmp(seg + g.hlen, pkt + g.hlen + done, n - g.hlen), "payload of %u", i);
		done += n - g.hlen;
		if (b.n < SN_GRO_MAX)
			add(&b, seg, n);
	}
	FZ_CHECK(done == len - g.hlen, "payload %u of %u", done, len - g.hlen);
	free(seg);
	if (fz_verbose())
		fprintf(stderr, "cut: %u bytes, mss %u, %u segments\n", len, mss, g.segs);
	coalesce(&b);
	batch_free(&b);
}

static void complete(const uint8_t *pkt, uint32_t len, const struct sn_pkt *p)
{
	uint8_t *c = malloc(len ? len : 1);
	uint32_t s = p->csum_start, o = p->csum_offset, before;

	FZ_SETUP(c, "out of memory");
	memcpy(c, pkt, len);
	if (sn_gso_csum(c, len, s, o) == 0) {
		before = be16(pkt + s + o);
		FZ_CHECK(ref_csum(c + s, len - s, before) == 0, "completed checksum wrong");
	}
	free(c);
}

static void tun_read(const uint8_t *d, size_t size)
{
	struct sn_pkt p = { 0 };
	uint8_t *pkt;
	uint32_t len;

	if (size < 1 + VNET_HDR_LEN || size - 1 - VNET_HDR_LEN > 70000)
		return;
	len = (uint32_t)(size - 1 - VNET_HDR_LEN);
	if (sn__vnet_to_pkt(d + 1, &p) < 0)
		return;
	pkt = malloc(len ? len : 1);
	FZ_SETUP(pkt, "out of memory");
	memcpy(pkt, d + 1 + VNET_HDR_LEN, len);
	if (p.flags & SN_PKT_F_GSO)
		cut(pkt, len, p.gso_size);
	else if (p.flags & SN_PKT_F_CSUM)
		complete(pkt, len, &p);
	free(pkt);
}

static void records(const uint8_t *d, size_t size, bool fix)
{
	static struct batch b;
	size_t at = 1;

	while (at + 2 <= size && b.n < SN_GRO_MAX) {
		uint32_t len = be16(d + at);

		at += 2;
		if (len > size - at)
			len = (uint32_t)(size - at);
		add(&b, d + at, len);
		if (fix) {
			fix_checksums(b.p[b.n - 1].buf, len);
			memcpy(b.orig[b.n - 1], b.p[b.n - 1].buf, len);
		}
		at += len;
	}
	coalesce(&b);
	batch_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		records(data, size, !(data[0] & 2));
	else
		tun_read(data, size);
	return 0;
}
