/* SPDX-License-Identifier: MIT */
/*
 * sn-inject: a test tool that crafts Subnetra datagrams from the spec alone
 * and sends them over UDP: valid ones sealed with a node's real keys (for
 * relay_loop / inner_src / replay tests), or deliberately broken ones.
 *
 *   sn-inject --to ADDR:PORT [--from-port P] --key PRIVFILE --peer-pub B64
 *             --id SENDER --peer-id RECEIVER --epoch E --seq S
 *             [--src A.B.C.D --dst A.B.C.D] [--keepalive] [--flip N]
 *             [--raw-key-id ID] [--count N] [--plugin-dir DIR] [--hex]
 *             [--raw-inner HEX]
 *
 * The inner packet is a UDP/IPv4 datagram src:9 -> dst:9 with 16 bytes of
 * payload; --raw-inner HEX seals those bytes (1..160 of them) as the
 * plaintext instead, as they are (for bad_inner: not IPv4, a wrong length). --flip N flips byte N of the sealed datagram; --raw-key-id puts
 * another key_id in the header after sealing (an unknown peer); --count
 * sends N datagrams with seq, seq+1, ...; --hex prints instead of sending.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "keys.h"
#include "loader.h"
#include "seal.h"
#include "wire.h"

struct args {
	const char *to, *key, *peer_pub, *src, *dst, *plugin_dir, *raw_inner;
	uint32_t id, peer_id, epoch, raw_key_id, count, from_port;
	uint64_t seq;
	int keepalive, flip, hex;
};

static void die(const char *m)
{
	fprintf(stderr, "sn-inject: %s\n", m);
	exit(2);
}

static void parse(int argc, char **argv, struct args *a)
{
	memset(a, 0, sizeof(*a));
	a->flip = -1;
	a->count = 1;
	a->src = "10.0.0.3";
	a->dst = "10.0.0.1";
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(o, "--keepalive")) { a->keepalive = 1; continue; }
		if (!strcmp(o, "--hex")) { a->hex = 1; continue; }
		if (!v)
			die("option needs a value");
		i++;
		if (!strcmp(o, "--to")) a->to = v;
		else if (!strcmp(o, "--key")) a->key = v;
		else if (!strcmp(o, "--peer-pub")) a->peer_pub = v;
		else if (!strcmp(o, "--src")) a->src = v;
		else if (!strcmp(o, "--dst")) a->dst = v;
		else if (!strcmp(o, "--plugin-dir")) a->plugin_dir = v;
		else if (!strcmp(o, "--id")) a->id = (uint32_t)strtoul(v, NULL, 0);
		else if (!strcmp(o, "--peer-id")) a->peer_id = (uint32_t)strtoul(v, NULL, 0);
		else if (!strcmp(o, "--epoch")) a->epoch = (uint32_t)strtoul(v, NULL, 0);
		else if (!strcmp(o, "--seq")) a->seq = strtoull(v, NULL, 0);
		else if (!strcmp(o, "--flip")) a->flip = atoi(v);
		else if (!strcmp(o, "--raw-key-id")) a->raw_key_id = (uint32_t)strtoul(v, NULL, 0);
		else if (!strcmp(o, "--count")) a->count = (uint32_t)strtoul(v, NULL, 0);
		else if (!strcmp(o, "--from-port")) a->from_port = (uint32_t)strtoul(v, NULL, 0);
		else if (!strcmp(o, "--raw-inner")) a->raw_inner = v;
		else die("unknown option");
	}
	if (!a->key || !a->peer_pub || !a->id || !a->peer_id || !a->plugin_dir)
		die("need --key --peer-pub --id --peer-id --plugin-dir");
}

static uint16_t csum(const uint8_t *p, int n)
{
	uint32_t s = 0;

	for (int i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* A 44-byte UDP/IPv4 packet src:9 -> dst:9 with 16 bytes of payload. */
static uint32_t inner(uint8_t *p, const char *src, const char *dst)
{
	uint16_t c;

	memset(p, 0, 44);
	p[0] = 0x45;
	p[3] = 44;
	p[8] = 64;
	p[9] = 17;
	if (inet_pton(AF_INET, src, p + 12) != 1 || inet_pton(AF_INET, dst, p + 16) != 1)
		die("bad --src/--dst");
	c = csum(p, 20);
	p[10] = (uint8_t)(c >> 8);
	p[11] = (uint8_t)c;
	p[21] = 9;
	p[23] = 9;
	p[25] = 24;
	memcpy(p + 28, "subnetra-inject!", 16);
	return 44;
}

#define RAW_INNER_MAX 160

/* --raw-inner: hex digits to bytes; the length, or dies. */
static uint32_t raw_inner(uint8_t *p, const char *hex)
{
	size_t n = strlen(hex);

	if (n == 0 || n % 2 || n / 2 > RAW_INNER_MAX)
		die("--raw-inner needs 2..320 hex digits (1..160 bytes)");
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			die("--raw-inner: not hex");
		p[i] = (uint8_t)v;
	}
	return (uint32_t)(n / 2);
}

static int read_key(const char *path, uint8_t k[32])
{
	char buf[128];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return sn_key_from_b64(k, buf, n);
}

int main(int argc, char **argv)
{
	struct args a;
	struct sn_plugin pl;
	struct sn_host host;
	struct sn_crypto cr;
	uint8_t priv[32], pub[32], peer[32], pair[32], key[512] __attribute__((aligned(16)));
	uint8_t mem[256];
	char err[512];
	int fd = -1;
	struct sockaddr_in to = {.sin_family = AF_INET}, from = {.sin_family = AF_INET};

	parse(argc, argv, &a);
	if (read_key(a.key, priv) < 0 || sn_key_from_b64(peer, a.peer_pub, strlen(a.peer_pub)) < 0)
		die("bad --key file or --peer-pub");
	sn_host_init(&host, NULL, NULL);
	if (sn_loader_load(SN_KIND_CRYPTO, "chacha", a.plugin_dir, &pl, err, sizeof(err)) < 0 ||
	    sn_plugin_create(&pl, &host, NULL, err, sizeof(err)) < 0)
		die(err);
	cr.ops = sn_plugin_ops(&pl);
	cr.inst = pl.inst;
	cr.ops->public_key(cr.inst, pub, priv);
	if (cr.ops->pair_key(cr.inst, pair, priv, pub, peer, NULL) < 0 ||
	    cr.ops->dir_key(cr.inst, key, pair, a.id, a.peer_id, a.epoch) < 0)
		die("key derivation failed");
	if (!a.hex) {
		char host_s[64];
		char *colon;

		if (!a.to || strlen(a.to) >= sizeof(host_s))
			die("need --to ADDR:PORT");
		strcpy(host_s, a.to);
		colon = strrchr(host_s, ':');
		if (!colon)
			die("--to needs ADDR:PORT");
		*colon = 0;
		to.sin_port = htons((uint16_t)atoi(colon + 1));
		if (inet_pton(AF_INET, host_s, &to.sin_addr) != 1)
			die("bad --to address");
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		from.sin_port = htons((uint16_t)a.from_port);
		if (fd < 0 || bind(fd, (struct sockaddr *)&from, sizeof(from)) != 0)
			die("cannot bind the sending socket");
	}
	for (uint32_t i = 0; i < a.count; i++) {
		struct sn_pkt p = {.buf = mem, .cap = sizeof(mem), .off = 64};
		struct sn_wire_hdr h = {SN_WIRE_VERSION, a.keepalive ? SN_WIRE_F_KEEPALIVE : 0,
					a.id, a.epoch, a.seq + i};

		p.len = a.keepalive ? 0 : a.raw_inner ? raw_inner(sn_pkt_data(&p), a.raw_inner)
						      : inner(sn_pkt_data(&p), a.src, a.dst);
		if (sn_seal_pkt(&cr, key, &h, &p) < 0)
			die("seal failed");
		if (a.raw_key_id)
			sn__store_be32(sn_pkt_data(&p) + 4, a.raw_key_id);
		if (a.flip >= 0 && (uint32_t)a.flip < p.len)
			sn_pkt_data(&p)[a.flip] ^= 0x01;
		if (a.hex) {
			for (uint32_t j = 0; j < p.len; j++)
				printf("%02x", sn_pkt_data(&p)[j]);
			printf("\n");
		} else if (sendto(fd, sn_pkt_data(&p), p.len, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
			die("sendto failed");
		}
	}
	if (fd >= 0)
		close(fd);
	sn_plugin_unload(&pl);
	return 0;
}
