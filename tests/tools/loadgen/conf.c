/* SPDX-License-Identifier: MIT */
/*
 * tests/tools/loadgen/conf.c: the spokes a seed makes (their keys, overlay
 * addresses and LANs) and the hub's peer files for them: one file per
 * spoke for a peers_dir (docs/configuration.md, "peers_dir"), or the
 * entries of one peers: list.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "keys.h"
#include "loadgen.h"
#include "wire.h"

void lg_spoke_key(const struct lg_set *set, uint32_t id, uint8_t priv[32], uint8_t pub[32])
{
	uint8_t msg[sizeof(LG_SEED_LABEL) - 1 + 4], key[32];

	/* the seed text is the BLAKE2b key (hashed to 32 bytes first) */
	crypto_generichash(key, sizeof(key), (const uint8_t *)set->seed, strlen(set->seed), NULL, 0);
	memcpy(msg, LG_SEED_LABEL, sizeof(LG_SEED_LABEL) - 1);
	sn__store_be32(msg + sizeof(LG_SEED_LABEL) - 1, id);
	crypto_generichash(priv, 32, msg, sizeof(msg), key, sizeof(key));
	priv[0] &= 248; /* clamped as X25519 (and wg genkey) does */
	priv[31] &= 127;
	priv[31] |= 64;
	crypto_scalarmult_base(pub, priv);
	sodium_memzero(key, sizeof(key));
}

uint32_t lg_spoke_addr(const struct lg_set *set, uint32_t i)
{
	return set->addr_base + i;
}

uint32_t lg_spoke_lan(uint32_t i)
{
	return 0xac100000u + 16 * i; /* 172.16.0.0/12 in /28s: room for 65,536 */
}

static const char *ip_str(uint32_t a, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255);
	return buf;
}

/* The keys of one peer entry, each line starting with lead. */
static int entry(char *buf, size_t len, const struct lg_set *set, uint32_t i, const char *first,
		 const char *lead)
{
	uint8_t priv[32], pub[32];
	char b64[SN_KEY_B64_LEN + 1], a[16], l[16];
	uint32_t id = set->first_id + i;
	int n;

	lg_spoke_key(set, id, priv, pub);
	sodium_memzero(priv, sizeof(priv));
	sn_key_to_b64(b64, pub);
	n = snprintf(buf, len, "%sid: %u\n%sname: lg-%u\n%spublic_key: %s\n%saddress: %s\n", first, id,
		     lead, id, lead, b64, lead, ip_str(lg_spoke_addr(set, i), a, sizeof(a)));
	if (set->routes && n > 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, "%sroutes: [%s/28]\n", lead,
			      ip_str(lg_spoke_lan(i), l, sizeof(l)));
	return n;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -EIO;
}

int lg_conf(const struct lg_set *set, const char *dir, const char *list_file)
{
	FILE *list = list_file ? fopen(list_file, "w") : NULL;
	char text[512], path[4096];
	int r = 0;

	if (list_file && !list) {
		fprintf(stderr, "sn-loadgen: cannot write %s: %s\n", list_file, strerror(errno));
		return -errno;
	}
	if (dir && mkdir(dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "sn-loadgen: cannot make %s: %s\n", dir, strerror(errno));
		r = -errno;
	}
	for (uint32_t i = 0; i < set->count && r == 0; i++) {
		if (list) {
			entry(text, sizeof(text), set, i, "  - ", "    ");
			fputs(text, list);
			continue;
		}
		entry(text, sizeof(text), set, i, "", "");
		snprintf(path, sizeof(path), "%s/lg-%08u.yaml", dir, set->first_id + i);
		if ((r = write_file(path, text)) < 0)
			fprintf(stderr, "sn-loadgen: cannot write %s: %s\n", path, strerror(-r));
	}
	if (list && fclose(list) != 0)
		r = -EIO;
	return r;
}
