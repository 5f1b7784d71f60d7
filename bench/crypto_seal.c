/* SPDX-License-Identifier: MIT */
/*
 * bench/crypto_seal.c: how many packets one core seals and opens, and the
 * relay ceiling that implies (bench/README.md, "Crypto limits"). Built by
 * CMake as build/bench/crypto_seal:
 *
 *   crypto_seal [-r RUNS] [-t SECONDS] [-n BYTES] [--plugin-dir DIR]
 *
 * Cases: the crypto plugins as the daemon uses them (loaded and created by
 * the daemon's loader, a direction key from dir_key, seal and open in
 * place with the 20-byte header as aad), and as references libsodium's
 * function and OpenSSL's EVP called directly (key set once, the nonce per
 * packet; and with the key set again per packet, what a context shared by
 * many keys costs). Per case: "seal" (a fresh nonce per packet), "open"
 * (each packet a copy of one sealed datagram, the 1.4 KB copy included),
 * and for the plugins "relay" (open under one key and reseal under another,
 * the keys swapping every packet: a hub's work per relayed packet, with
 * each of crypto_openssl's contexts re-keyed every time, its worst case).
 *
 * Rates are packets per CPU-second of this thread (CLOCK_THREAD_CPUTIME_ID),
 * i.e. of one core, median of RUNS runs of SECONDS each, the cases
 * interleaved run by run. A relayed packet costs 4 seals or opens (the
 * spoke seals, the hub opens and seals, the other spoke opens) and the
 * star has 2 cores, so the ceiling is 2 * seal_rate / 4 packets/s, times
 * BYTES * 8 bits. Lines starting "JSON " carry the same figures.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#ifdef SN_BENCH_OPENSSL
#include <openssl/evp.h>
#endif

#include "build_config.h"
#include "host.h"
#include "loader.h"

#define MAX_LEN 9000
#define MAX_RUNS 31
#define BATCH 64
#define HDR 20

enum op { OP_SEAL, OP_OPEN, OP_RELAY, N_OPS };
static const char *const op_name[N_OPS] = {"seal", "open", "relay"};

struct pkt {
	uint8_t hdr[HDR]; /* the aad; bytes 8..20 are the nonce, as on the wire */
	uint8_t msg[MAX_LEN];
	uint8_t tag[16];
};

/* One implementation under test. keys[1] is relay's second key. */
struct impl {
	const char *name;
	int (*seal)(struct impl *im, int key, struct pkt *p, uint32_t len);
	int (*open)(struct impl *im, int key, struct pkt *p, uint32_t len);
	struct sn_plugin pl;
	void *keys[2];
	uint8_t raw[2][32];
#ifdef SN_BENCH_OPENSSL
	EVP_CIPHER_CTX *evp;
	int rekey;
#endif
	double rate[N_OPS][MAX_RUNS];
};

struct opts {
	int runs;
	double secs;
	uint32_t len;
	const char *plugin_dir;
};

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void set_seq(struct pkt *p, uint64_t seq)
{
	for (int i = 0; i < 8; i++)
		p->hdr[12 + i] = (uint8_t)(seq >> (56 - 8 * i));
}

/* ---- the plugins, through their operations --------------------------------- */

static int plugin_seal(struct impl *im, int key, struct pkt *p, uint32_t len)
{
	const struct sn_crypto_ops *o = sn_plugin_ops(&im->pl);

	return o->seal(im->pl.inst, im->keys[key], p->hdr + 8, p->hdr, HDR, p->msg, len, p->tag);
}

static int plugin_open(struct impl *im, int key, struct pkt *p, uint32_t len)
{
	const struct sn_crypto_ops *o = sn_plugin_ops(&im->pl);

	return o->open(im->pl.inst, im->keys[key], p->hdr + 8, p->hdr, HDR, p->msg, len, p->tag);
}

static int plugin_setup(struct impl *im, struct sn_host *host, const char *name, const char *dir)
{
	const struct sn_crypto_ops *o;
	uint8_t pair[32];
	char err[1024];

	if (sn_loader_load(SN_KIND_CRYPTO, name, dir, &im->pl, err, sizeof(err)) < 0 ||
	    sn_plugin_create(&im->pl, host, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "crypto_seal: skipping crypto_%s: %s\n", name, err);
		sn_plugin_unload(&im->pl);
		return -1;
	}
	o = sn_plugin_ops(&im->pl);
	randombytes_buf(pair, sizeof(pair));
	for (int k = 0; k < 2; k++) {
		if (posix_memalign(&im->keys[k], 16, o->key_ctx_size) != 0)
			return -1;
		if (o->dir_key(im->pl.inst, im->keys[k], pair, 1, 2 + (uint32_t)k, 7) != 0)
			return -1;
	}
	im->seal = plugin_seal;
	im->open = plugin_open;
	return 0;
}

/* ---- libsodium directly ------------------------------------------------------ */

static int sodium_seal(struct impl *im, int key, struct pkt *p, uint32_t len)
{
	return crypto_aead_chacha20poly1305_ietf_encrypt_detached(p->msg, p->tag, NULL, p->msg, len,
								   p->hdr, HDR, NULL, p->hdr + 8,
								   im->raw[key]);
}

static int sodium_open(struct impl *im, int key, struct pkt *p, uint32_t len)
{
	return crypto_aead_chacha20poly1305_ietf_decrypt_detached(p->msg, NULL, p->msg, len, p->tag,
								   p->hdr, HDR, p->hdr + 8,
								   im->raw[key]);
}

/* ---- OpenSSL's EVP directly -------------------------------------------------- */

#ifdef SN_BENCH_OPENSSL
static int evp_run(struct impl *im, int key, struct pkt *p, uint32_t len, int enc)
{
	EVP_CIPHER_CTX *c = im->evp;
	uint8_t none[16];
	int n;

	if (EVP_CipherInit_ex(c, NULL, NULL, im->rekey ? im->raw[key] : NULL, p->hdr + 8, enc) != 1 ||
	    EVP_CipherUpdate(c, NULL, &n, p->hdr, HDR) != 1 ||
	    EVP_CipherUpdate(c, p->msg, &n, p->msg, (int)len) != 1)
		return -1;
	if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, 16, p->tag) != 1)
		return -1;
	if (EVP_CipherFinal_ex(c, none, &n) != 1)
		return -1;
	return enc ? (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, p->tag) == 1 ? 0 : -1) : 0;
}

static int evp_seal(struct impl *im, int key, struct pkt *p, uint32_t len)
{
	return evp_run(im, key, p, len, 1);
}

static int evp_open(struct impl *im, int key, struct pkt *p, uint32_t len)
{
	return evp_run(im, key, p, len, 0);
}

static int evp_setup(struct impl *im, int rekey)
{
	im->evp = EVP_CIPHER_CTX_new();
	im->rekey = rekey;
	if (!im->evp ||
	    EVP_CipherInit_ex(im->evp, EVP_chacha20_poly1305(), NULL, im->raw[0], NULL, 1) != 1)
		return -1;
	im->seal = evp_seal;
	im->open = evp_open;
	return 0;
}
#endif

/* ---- timing ------------------------------------------------------------------ */

/* Packets per CPU-second of op for about secs seconds; 0 on an error. */
static double measure(struct impl *im, enum op op, struct pkt *p, const struct pkt *master,
		      uint32_t len, double secs)
{
	uint64_t n = 0, seq = 1;
	double t0 = cpu_now(), t;
	int bad = 0;

	do {
		for (int i = 0; i < BATCH; i++, seq++) {
			if (op == OP_SEAL) {
				set_seq(p, seq);
				bad |= im->seal(im, 0, p, len);
			} else if (op == OP_OPEN) {
				memcpy(p, master, sizeof(p->hdr) + len);
				memcpy(p->tag, master->tag, sizeof(p->tag));
				bad |= im->open(im, 0, p, len);
			} else { /* sealed under key seq & 1: open, reseal under the other */
				bad |= im->open(im, (int)(seq & 1), p, len);
				bad |= im->seal(im, (int)((seq + 1) & 1), p, len);
			}
		}
		n += BATCH;
		t = cpu_now();
	} while (t - t0 < secs);
	if (bad) {
		fprintf(stderr, "crypto_seal: %s %s failed\n", im->name, op_name[op]);
		return 0;
	}
	return (double)n / (t - t0);
}

static void one_run(struct impl *im, int run, const struct opts *o, struct pkt *p,
		    struct pkt *master)
{
	set_seq(master, 0);
	randombytes_buf(master->msg, o->len);
	if (im->seal(im, 0, master, o->len) != 0) {
		fprintf(stderr, "crypto_seal: %s: seal failed\n", im->name);
		exit(1);
	}
	memcpy(p, master, sizeof(*p));
	im->rate[OP_SEAL][run] = measure(im, OP_SEAL, p, master, o->len, o->secs);
	im->rate[OP_OPEN][run] = measure(im, OP_OPEN, p, master, o->len, o->secs);
	if (im->pl.desc) { /* relay: p starts sealed under key 1 (seq 1 is odd) */
		memcpy(p, master, sizeof(*p));
		set_seq(p, 0);
		im->seal(im, 1, p, o->len);
		im->rate[OP_RELAY][run] = measure(im, OP_RELAY, p, master, o->len, o->secs);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
	double s[MAX_RUNS];

	memcpy(s, v, (size_t)n * sizeof(*s));
	qsort(s, (size_t)n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static double lowest(const double *v, int n)
{
	double m = v[0];

	for (int i = 1; i < n; i++)
		m = v[i] < m ? v[i] : m;
	return m;
}

static double highest(const double *v, int n)
{
	double m = v[0];

	for (int i = 1; i < n; i++)
		m = v[i] > m ? v[i] : m;
	return m;
}

static void report(struct impl *im, const struct opts *o)
{
	double seal = median(im->rate[OP_SEAL], o->runs), open = median(im->rate[OP_OPEN], o->runs);
	double relay = im->pl.desc ? median(im->rate[OP_RELAY], o->runs) : 0;
	double ceil_pps = 2.0 * seal / 4.0, ceil_gbit = ceil_pps * o->len * 8 / 1e9;

	char rl[32] = "–";

	if (relay > 0)
		snprintf(rl, sizeof(rl), "%.0f", relay);
	printf("| %-23s | %9.0f | %7.3f | %9.0f | %9s | %9.0f | %6.2f |\n", im->name, seal,
	       1e6 / seal, open, rl, ceil_pps, ceil_gbit);
	printf("JSON {\"impl\":\"%s\",\"len\":%u,\"runs\":%d,\"seal_pps\":%.0f,\"seal_min\":%.0f,"
	       "\"seal_max\":%.0f,\"open_pps\":%.0f,\"relay_pps\":%.0f,\"ceiling_pps\":%.0f,"
	       "\"ceiling_gbit\":%.3f}\n", im->name, o->len, o->runs, seal,
	       lowest(im->rate[OP_SEAL], o->runs), highest(im->rate[OP_SEAL], o->runs), open, relay,
	       ceil_pps, ceil_gbit);
}

static int parse(int argc, char **argv, struct opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v) {
			fprintf(stderr, "crypto_seal: %s needs a value\n", a);
			return -1;
		}
		if (!strcmp(a, "-r"))
			o->runs = atoi(v);
		else if (!strcmp(a, "-t"))
			o->secs = atof(v);
		else if (!strcmp(a, "-n"))
			o->len = (uint32_t)atoi(v);
		else if (!strcmp(a, "--plugin-dir"))
			o->plugin_dir = v;
		else {
			fprintf(stderr, "usage: crypto_seal [-r RUNS] [-t SECONDS] [-n BYTES] "
				"[--plugin-dir DIR]\n");
			return -1;
		}
		i++;
	}
	if (o->runs < 1 || o->runs > MAX_RUNS || o->secs <= 0 || o->len < 1 || o->len > MAX_LEN) {
		fprintf(stderr, "crypto_seal: -r 1..%d, -t > 0, -n 1..%d\n", MAX_RUNS, MAX_LEN);
		return -1;
	}
	return 0;
}

static void release(struct impl *im)
{
	for (int k = 0; k < 2 && im->pl.desc; k++) {
		const struct sn_crypto_ops *o = sn_plugin_ops(&im->pl);

		if (im->keys[k])
			o->wipe(im->pl.inst, im->keys[k]);
		free(im->keys[k]);
	}
	if (im->pl.desc)
		sn_plugin_unload(&im->pl);
#ifdef SN_BENCH_OPENSSL
	EVP_CIPHER_CTX_free(im->evp);
#endif
	sodium_memzero(im->raw, sizeof(im->raw));
}

/* The cases this build and plugin directory have; how many. */
static int setup_all(struct impl *v, struct sn_host *host, const struct opts *o)
{
	static const char *const plugins[] = {"chacha", "openssl"};
	int n = 0;

	for (size_t i = 0; i < sizeof(plugins) / sizeof(plugins[0]); i++) {
		v[n].name = i ? "crypto_openssl" : "crypto_chacha";
		if (plugin_setup(&v[n], host, plugins[i], o->plugin_dir) == 0)
			n++;
	}
	v[n].name = "libsodium direct";
	randombytes_buf(v[n].raw, sizeof(v[n].raw));
	v[n].seal = sodium_seal;
	v[n].open = sodium_open;
	n++;
#ifdef SN_BENCH_OPENSSL
	for (int rekey = 0; rekey <= 1; rekey++) {
		v[n].name = rekey ? "OpenSSL EVP, key/packet" : "OpenSSL EVP direct";
		randombytes_buf(v[n].raw, sizeof(v[n].raw));
		if (evp_setup(&v[n], rekey) == 0)
			n++;
	}
#endif
	return n;
}

int main(int argc, char **argv)
{
	struct opts o = {5, 1.0, 1420, SN_BUILD_PLUGIN_DIR};
	static struct impl v[8];
	static struct pkt p, master;
	struct sn_host host;
	int n;

	if (parse(argc, argv, &o) < 0 || sodium_init() < 0)
		return 2;
	sn_host_init(&host, NULL, NULL);
	n = setup_all(v, &host, &o);
	printf("# %u-byte packets, %d runs of %g s per case, median, one core\n", o.len, o.runs,
	       o.secs);
	printf("# libsodium %s", sodium_version_string());
#ifdef SN_BENCH_OPENSSL
	printf(", %s", OpenSSL_version(OPENSSL_VERSION));
#endif
	printf("\n| case | seal pkt/s | us/seal | open pkt/s | relay (open + reseal) pkt/s | "
	       "ceiling pkt/s | ceiling Gbit/s |\n|---|---|---|---|---|---|---|\n");
	for (int r = 0; r < o.runs; r++)
		for (int i = 0; i < n; i++)
			one_run(&v[i], r, &o, &p, &master);
	for (int i = 0; i < n; i++)
		report(&v[i], &o);
	for (int i = 0; i < n; i++)
		release(&v[i]);
	return 0;
}
