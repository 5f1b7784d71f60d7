/* SPDX-License-Identifier: MIT */
/*
 * crypto_openssl: the AEAD and key schedule of docs/protocol.md, version 1,
 * on OpenSSL 3's EVP interface, byte for byte what crypto_chacha computes:
 * X25519 (EVP_PKEY), keyed BLAKE2b-256 (EVP_MAC "BLAKE2BMAC" with a 32-byte
 * key and output: RFC 7693's keyed mode, the bytes of libsodium's
 * crypto_generichash with a key), ChaCha20-Poly1305 (RFC 8439). Why another
 * library: OpenSSL's ChaCha20 and Poly1305 have AVX2 and AVX-512 code that
 * libsodium 1.0.18 lacks (bench/README.md, "Crypto limits").
 *
 * Where the state lives:
 * - A key context (host memory, key_ctx_size bytes) holds the direction
 *   key and a stamp, nothing else: plain bytes, as in crypto_chacha, so the
 *   host may copy one (core/carry.c does across a reload) and seal with it
 *   from any thread.
 * - Each thread that seals or opens has its own pair of EVP_CIPHER_CTX,
 *   allocated once (for the thread that calls create(), in create()). A
 *   context is re-keyed only when the key context's stamp differs from the
 *   one it holds; per packet only the nonce is set. Nothing is allocated
 *   per packet, nor in dir_key, which the data path calls for a candidate
 *   epoch (core/datapath.c).
 * - The key schedule's EVP_MAC_CTX is the instance's, behind a mutex: a
 *   reload derives keys on a worker thread (core/reload.c) while the loop
 *   may derive a candidate epoch's key.
 * - OpenSSL keeps state of its own per thread that calls it (the error
 *   queue). A reload's worker is a thread of libuv's pool, which outlives
 *   OpenSSL's atexit cleanup: off the thread that created the instance,
 *   the key schedule hands that state back after each call.
 *
 * Resident memory: loading libcrypto and its first use (relocations, the
 * default provider's tables of every algorithm, each operation's methods)
 * map about 2.8 MiB of its file pages, the kernel mapping each touched
 * page's 64 KiB neighbourhood with it (fault-around), and the first peers'
 * key schedule (X25519 through the generic key code) as much again; the
 * data path comes back to about 1 MiB of them. So create() warms every
 * operation up and unmaps libcrypto's clean pages (shed_startup_pages),
 * and again at the loop's first turn, once the host derived its peers'
 * keys: about 1.8 MiB less resident in a hub (bench/README.md, "Memory").
 * Later key schedules (a reload) map what they touch again.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "subnetra/sdk.h"

/* The datagram framing sealed around the plaintext (docs/protocol.md,
 * "Datagram"): the 20-byte header in front is the AEAD's aad, the tag
 * follows the ciphertext. Declared here, as in crypto_chacha, so that a
 * pool sized from the descriptors alone has room for the whole datagram. */
#define HDR_LEN 20

#define LABEL_PAIR "subnetra/v1/pair"
#define LABEL_DATA "subnetra/v1/data"
#define LABEL_LEN 16

_Static_assert(sizeof(LABEL_PAIR) - 1 == LABEL_LEN && sizeof(LABEL_DATA) - 1 == LABEL_LEN,
	       "labels are 16 ASCII bytes, no NUL");

/* One direction key and the stamp of the dir_key() call that wrote it:
 * unique in the process, copied along with the key, 0 once wiped. */
struct key_ctx {
	uint8_t key[SN_KEY_LEN];
	uint64_t stamp;
};

/* A thread's AEAD contexts and the stamp of the key each one holds. */
struct tstate {
	EVP_CIPHER_CTX *seal;
	EVP_CIPHER_CTX *open;
	uint64_t seal_stamp;
	uint64_t open_stamp;
};

struct ossl {
	struct sn_host *host;
	const struct sn_host_api *api;
	EVP_CIPHER *aead;        /* ChaCha20-Poly1305, fetched once */
	EVP_MAC *mac;            /* BLAKE2BMAC, fetched once */
	EVP_MAC_CTX *kdf;        /* the key schedule's, under kdf_lock */
	pthread_mutex_t kdf_lock;
	pthread_key_t tls;       /* struct tstate * of the calling thread */
	pthread_t owner;         /* the thread that called create(): the loop's */
	struct sn_timer *settled; /* sheds after key schedules (create()) */
	atomic_int keyed;        /* a key schedule mapped pages since the last shed */
	uint8_t has_lock, has_tls;
};

/* Process-wide, so two instances never hand out the same stamp. */
static atomic_uint_fast64_t next_stamp = 1;

static void set_err(char *buf, uint32_t len, const char *msg)
{
	if (buf && len)
		snprintf(buf, len, "%s", msg);
}

static void store_be32(uint8_t out[static 4], uint32_t v)
{
	out[0] = (uint8_t)(v >> 24);
	out[1] = (uint8_t)(v >> 16);
	out[2] = (uint8_t)(v >> 8);
	out[3] = (uint8_t)v;
}

/* After a key-schedule call: OpenSSL's per-thread state of a thread other
 * than the loop's is released (OPENSSL_thread_stop), see the top. heavy:
 * the call went through OpenSSL's generic key code (X25519), or ran on
 * another thread (a reload's worker): it mapped pages the loop's timer
 * unmaps again (on_settled). */
static void thread_done(struct ossl *o, int heavy)
{
	int other = !pthread_equal(pthread_self(), o->owner);

	if (heavy || other)
		atomic_store(&o->keyed, 1);
	if (other)
		OPENSSL_thread_stop();
}

/* ---- X25519 -------------------------------------------------------------- */

static int public_key(void *inst, uint8_t pub[static SN_KEY_LEN],
		      const uint8_t priv[static SN_KEY_LEN])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, SN_KEY_LEN);
	size_t n = SN_KEY_LEN;
	int ok;

	ok = k && EVP_PKEY_get_raw_public_key(k, pub, &n) == 1 && n == SN_KEY_LEN;
	EVP_PKEY_free(k);
	thread_done(inst, 1);
	return ok ? 0 : -EINVAL;
}

/* The raw X25519 result, peer key unvalidated (as libsodium): OpenSSL
 * itself refuses an all-zero result, the caller checks again. */
static int x25519(uint8_t out[static SN_KEY_LEN], const uint8_t priv[static SN_KEY_LEN],
		  const uint8_t peer[static SN_KEY_LEN])
{
	EVP_PKEY *own = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, SN_KEY_LEN);
	EVP_PKEY *other = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, SN_KEY_LEN);
	EVP_PKEY_CTX *dc = own ? EVP_PKEY_CTX_new_from_pkey(NULL, own, NULL) : NULL;
	size_t n = SN_KEY_LEN;
	int ok;

	ok = dc && other && EVP_PKEY_derive_init(dc) == 1 &&
	     EVP_PKEY_derive_set_peer_ex(dc, other, 0) == 1 &&
	     EVP_PKEY_derive(dc, out, &n) == 1 && n == SN_KEY_LEN;
	EVP_PKEY_CTX_free(dc);
	EVP_PKEY_free(other);
	EVP_PKEY_free(own);
	return ok ? 0 : -EINVAL;
}

static int is_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

/* ---- keyed BLAKE2b-256 ------------------------------------------------------ */

struct part {
	const uint8_t *p;
	size_t n;
};

/* out = BLAKE2b-256(key; parts...). The shared context is re-keyed with
 * zeros before the lock is released, so no key outlives the call in it. */
static int kdf(struct ossl *o, uint8_t out[static SN_KEY_LEN], const uint8_t key[static SN_KEY_LEN],
	       const struct part *parts, size_t n_parts)
{
	static const uint8_t zero[SN_KEY_LEN];
	size_t n = 0;
	int ok;

	pthread_mutex_lock(&o->kdf_lock);
	ok = EVP_MAC_init(o->kdf, key, SN_KEY_LEN, NULL) == 1;
	for (size_t i = 0; ok && i < n_parts; i++)
		ok = EVP_MAC_update(o->kdf, parts[i].p, parts[i].n) == 1;
	ok = ok && EVP_MAC_final(o->kdf, out, &n, SN_KEY_LEN) == 1 && n == SN_KEY_LEN;
	EVP_MAC_init(o->kdf, zero, sizeof(zero), NULL);
	pthread_mutex_unlock(&o->kdf_lock);
	if (!ok)
		OPENSSL_cleanse(out, SN_KEY_LEN);
	return ok ? 0 : -EINVAL;
}

static int pair_key(void *inst, uint8_t out[static SN_KEY_LEN],
		    const uint8_t own_priv[static SN_KEY_LEN], const uint8_t own_pub[static SN_KEY_LEN],
		    const uint8_t peer_pub[static SN_KEY_LEN], const uint8_t *psk)
{
	const uint8_t *lo = own_pub, *hi = peer_pub;
	uint8_t dh[SN_KEY_LEN];
	int rc = -EINVAL;

	/* the two public keys in memcmp order: both ends hash the same bytes */
	if (memcmp(own_pub, peer_pub, SN_KEY_LEN) > 0) {
		lo = peer_pub;
		hi = own_pub;
	}
	if (x25519(dh, own_priv, peer_pub) == 0 && !is_zero(dh, sizeof(dh))) {
		struct part parts[] = {
			{(const uint8_t *)LABEL_PAIR, LABEL_LEN},
			{lo, SN_KEY_LEN},
			{hi, SN_KEY_LEN},
			{psk, psk ? SN_KEY_LEN : 0},
		};

		rc = kdf(inst, out, dh, parts, psk ? 4 : 3);
	}
	OPENSSL_cleanse(dh, sizeof(dh));
	thread_done(inst, 1);
	return rc;
}

static int dir_key(void *inst, void *ctx, const uint8_t pair[static SN_KEY_LEN],
		   uint32_t sender, uint32_t receiver, uint32_t epoch)
{
	struct key_ctx *k = ctx;
	uint8_t msg[LABEL_LEN + 12];
	struct part part = {msg, sizeof(msg)};
	int rc;

	memcpy(msg, LABEL_DATA, LABEL_LEN);
	store_be32(msg + LABEL_LEN, sender);
	store_be32(msg + LABEL_LEN + 4, receiver);
	store_be32(msg + LABEL_LEN + 8, epoch);
	rc = kdf(inst, k->key, pair, &part, 1);
	k->stamp = rc == 0 ? atomic_fetch_add(&next_stamp, 1) : 0;
	thread_done(inst, 0);
	return rc;
}

/* ---- per-thread AEAD contexts ----------------------------------------------- */

static void tstate_free(void *p)
{
	struct tstate *t = p;

	if (!t)
		return;
	EVP_CIPHER_CTX_free(t->seal);
	EVP_CIPHER_CTX_free(t->open);
	free(t);
}

/* The calling thread's contexts, made on its first seal or open. */
static struct tstate *tstate_get(struct ossl *o)
{
	struct tstate *t = pthread_getspecific(o->tls);

	if (t)
		return t;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->seal = EVP_CIPHER_CTX_new();
	t->open = EVP_CIPHER_CTX_new();
	if (!t->seal || !t->open || EVP_EncryptInit_ex2(t->seal, o->aead, NULL, NULL, NULL) != 1 ||
	    EVP_DecryptInit_ex2(t->open, o->aead, NULL, NULL, NULL) != 1 ||
	    pthread_setspecific(o->tls, t) != 0) {
		tstate_free(t);
		return NULL;
	}
	return t;
}

/* Point c at this packet: its nonce, and the key when c holds another. */
static int start(EVP_CIPHER_CTX *c, uint64_t *held, const struct key_ctx *k, int enc,
		 const uint8_t nonce[static SN_NONCE_LEN])
{
	const uint8_t *key = NULL;

	if (*held != k->stamp || !k->stamp) {
		key = k->key;
		*held = 0; /* until the init below has taken it */
	}
	if (EVP_CipherInit_ex2(c, NULL, key, nonce, enc, NULL) != 1)
		return -EINVAL;
	if (key)
		*held = k->stamp;
	return 0;
}

/* The aad and the message through c (in place: EVP allows out == in). */
static int run(EVP_CIPHER_CTX *c, const uint8_t *aad, uint32_t aad_len, uint8_t *msg,
	       uint32_t len)
{
	int n;

	if (aad_len > INT_MAX || len > INT_MAX)
		return -EINVAL;
	if (aad_len && EVP_CipherUpdate(c, NULL, &n, aad, (int)aad_len) != 1)
		return -EINVAL;
	if (len && EVP_CipherUpdate(c, msg, &n, msg, (int)len) != 1)
		return -EINVAL;
	return 0;
}

static int aead_seal(void *inst, const void *ctx, const uint8_t nonce[static SN_NONCE_LEN],
		     const uint8_t *aad, uint32_t aad_len, uint8_t *msg, uint32_t len,
		     uint8_t tag[static SN_TAG_LEN])
{
	struct tstate *t = tstate_get(inst);
	uint8_t none[16];
	int n;

	if (!t)
		return -ENOMEM;
	if (start(t->seal, &t->seal_stamp, ctx, 1, nonce) < 0 ||
	    run(t->seal, aad, aad_len, msg, len) < 0 || EVP_EncryptFinal_ex(t->seal, none, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(t->seal, EVP_CTRL_AEAD_GET_TAG, SN_TAG_LEN, tag) <= 0)
		return -EINVAL;
	return 0;
}

static int aead_open(void *inst, const void *ctx, const uint8_t nonce[static SN_NONCE_LEN],
		     const uint8_t *aad, uint32_t aad_len, uint8_t *msg, uint32_t len,
		     const uint8_t tag[static SN_TAG_LEN])
{
	struct tstate *t = tstate_get(inst);
	uint8_t none[16];
	int n;

	if (!t)
		return -ENOMEM;
	if (start(t->open, &t->open_stamp, ctx, 0, nonce) < 0)
		return -EINVAL;
	/* OpenSSL decrypts before it checks the tag: on a mismatch, zero msg
	 * as libsodium does, rather than leave unauthenticated bytes. */
	if (run(t->open, aad, aad_len, msg, len) < 0 ||
	    EVP_CIPHER_CTX_ctrl(t->open, EVP_CTRL_AEAD_SET_TAG, SN_TAG_LEN, (void *)tag) <= 0 ||
	    EVP_DecryptFinal_ex(t->open, none, &n) <= 0) {
		if (len <= INT_MAX)
			memset(msg, 0, len);
		return -EBADMSG;
	}
	return 0;
}

static void wipe(void *inst, void *ctx)
{
	(void)inst;
	OPENSSL_cleanse(ctx, sizeof(struct key_ctx));
}

/* ---- lifecycle -------------------------------------------------------------- */

/* What this OpenSSL must provide (a FIPS-only configuration has none of
 * it). The first OpenSSL call of the process: it keeps the system's
 * configuration but not the error strings, which the plugin never prints
 * (about 380 KiB of a daemon's resident memory). */
static const char *missing(EVP_CIPHER **aead, EVP_MAC **mac)
{
	EVP_PKEY_CTX *x;
	const char *what = NULL;

	*aead = NULL;
	*mac = NULL;
	if (OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS, NULL) != 1)
		return "OpenSSL failed to initialise (OPENSSL_init_crypto)";
	x = EVP_PKEY_CTX_new_from_name(NULL, "X25519", NULL);
	*aead = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
	*mac = EVP_MAC_fetch(NULL, "BLAKE2BMAC", NULL);
	if (!*aead)
		what = "OpenSSL provides no ChaCha20-Poly1305 (EVP_CIPHER_fetch)";
	else if (!*mac)
		what = "OpenSSL provides no BLAKE2BMAC (EVP_MAC_fetch)";
	else if (!x)
		what = "OpenSSL provides no X25519 (EVP_PKEY_CTX_new_from_name)";
	EVP_PKEY_CTX_free(x);
	return what;
}

static int probe(char *why, uint32_t why_len)
{
	EVP_CIPHER *aead;
	EVP_MAC *mac;
	const char *what = missing(&aead, &mac);

	EVP_CIPHER_free(aead);
	EVP_MAC_free(mac);
	if (what) {
		set_err(why, why_len, what);
		return -ENOTSUP;
	}
	return 0;
}

/* The key schedule's context: 32-byte output (the key is given per call). */
static EVP_MAC_CTX *kdf_new(EVP_MAC *mac)
{
	size_t size = SN_KEY_LEN;
	OSSL_PARAM p[] = {OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
			  OSSL_PARAM_construct_end()};
	EVP_MAC_CTX *c = EVP_MAC_CTX_new(mac);

	if (c && EVP_MAC_CTX_set_params(c, p) != 1) {
		EVP_MAC_CTX_free(c);
		c = NULL;
	}
	return c;
}

static void destroy(void *inst)
{
	struct ossl *o = inst;

	if (o->has_tls) {
		tstate_free(pthread_getspecific(o->tls));
		pthread_key_delete(o->tls);
	}
	if (o->settled)
		o->api->timer_free(o->host, o->settled);
	if (o->has_lock)
		pthread_mutex_destroy(&o->kdf_lock);
	EVP_MAC_CTX_free(o->kdf);
	EVP_MAC_free(o->mac);
	EVP_CIPHER_free(o->aead);
	memset(o, 0, sizeof(*o));
}

/* NULL, or what is missing; destroy() releases what was made. */
static const char *setup(struct ossl *o)
{
	const char *what = missing(&o->aead, &o->mac);

	if (what)
		return what;
	o->kdf = kdf_new(o->mac);
	if (!o->kdf)
		return "cannot set up BLAKE2BMAC with a 32-byte output";
	if (pthread_mutex_init(&o->kdf_lock, NULL) != 0)
		return "pthread_mutex_init failed";
	o->has_lock = 1;
	if (pthread_key_create(&o->tls, tstate_free) != 0)
		return "pthread_key_create failed";
	o->has_tls = 1;
	/* the calling thread is the loop's: its first packet allocates nothing */
	if (!tstate_get(o))
		return "cannot allocate the ChaCha20-Poly1305 contexts";
	return NULL;
}

/* ---- resident memory -------------------------------------------------------- */

/* The mappings of libcrypto that shed_startup_pages() may empty at most
 * (it has five: headers and symbols, text, constants, relro, data). */
#define SHED_MAX 8

struct shed_range {
	uintptr_t start, end;
	unsigned long rss_kib; /* mapped before */
};

/* /proc/self/smaps line by line, with read(2) into this buffer: no heap
 * (the loop's timer calls it while packets flow, core's no-malloc test
 * counts every heap call). */
struct line_reader {
	int fd;
	uint32_t pos, len;
	char buf[4096];
};

/* The next line in line (cut at cap - 1 bytes, the rest of it skipped);
 * 0 at the end or on an error. */
static int next_line(struct line_reader *r, char *line, size_t cap)
{
	size_t n = 0;
	int got = 0;

	for (;;) {
		char c;

		if (r->pos == r->len) {
			ssize_t k = read(r->fd, r->buf, sizeof(r->buf));

			if (k <= 0)
				break;
			r->pos = 0;
			r->len = (uint32_t)k;
		}
		got = 1;
		c = r->buf[r->pos++];
		if (c == '\n')
			break;
		if (n + 1 < cap)
			line[n++] = c;
	}
	line[n] = '\0';
	return got;
}

/* Libcrypto's mappings that are not writable and hold no page of their own
 * (smaps' Anonymous: 0, so no relocated relro, nothing a debugger or an
 * uprobe wrote): every page in them is the file's, and dropping it loses
 * nothing. Found by the address of its first mapping (a path may differ
 * between the loader's view and /proc's: /lib vs /usr/lib); n of them. */
static uint32_t shed_find(uintptr_t base, struct shed_range out[static SHED_MAX])
{
	struct line_reader r = {.fd = open("/proc/self/smaps", O_RDONLY | O_CLOEXEC)};
	char line[256], perms[8] = "";
	uintptr_t start = 0, end = 0;
	unsigned long long lib_inode = 0;
	unsigned lib_maj = 0, lib_min = 0;
	int in_lib = 0, anon = 0;
	unsigned long rss = 0;
	uint32_t n = 0;

	if (r.fd < 0)
		return 0;
	for (int more = 1; more;) {
		uintptr_t s, e;
		unsigned long long off, ino;
		unsigned ma, mi;
		char pm[8];
		long kb;

		more = next_line(&r, line, sizeof(line));
		if (more && sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %7s %llx %x:%x %llu", &s, &e, pm,
				   &off, &ma, &mi, &ino) != 7) {
			if (in_lib && sscanf(line, "Anonymous: %ld kB", &kb) == 1 && kb > 0)
				anon = 1;
			else if (in_lib && sscanf(line, "Rss: %ld kB", &kb) == 1 && kb > 0)
				rss = (unsigned long)kb;
			continue;
		}
		/* a mapping's block ended: take it if it qualifies */
		if (in_lib && !anon && !strchr(perms, 'w') && n < SHED_MAX)
			out[n++] = (struct shed_range){start, end, rss};
		if (!more)
			break;
		if (s == base && ino != 0) {
			lib_inode = ino;
			lib_maj = ma;
			lib_min = mi;
		}
		in_lib = lib_inode && ino == lib_inode && ma == lib_maj && mi == lib_min;
		start = s;
		end = e;
		anon = 0;
		rss = 0;
		memcpy(perms, pm, sizeof(perms));
	}
	close(r.fd);
	return n;
}

/* Once set up, unmap libcrypto's clean file pages (MADV_DONTNEED): the page
 * cache keeps them, and what the data path and the key schedule use comes
 * back on its first touch (a minor fault each, no I/O). Best effort: when
 * /proc is not there, nothing happens. Returns the KiB that were mapped. */
static unsigned long shed_startup_pages(void)
{
	struct shed_range r[SHED_MAX];
	unsigned long kib = 0;
	Dl_info di;
	uint32_t n;

	if (!dladdr((void *)EVP_CIPHER_fetch, &di) || !di.dli_fbase)
		return 0;
	n = shed_find((uintptr_t)di.dli_fbase, r);
	for (uint32_t i = 0; i < n; i++)
		if (madvise((void *)r[i].start, r[i].end - r[i].start, MADV_DONTNEED) == 0)
			kib += r[i].rss_kib;
	return kib;
}

/* Each of OpenSSL's operations builds its methods on first use (key
 * management, key exchange, MAC, cipher): one of each on throwaway keys, so
 * that what create() sheds afterwards is the start-up's and not the first
 * peer's. 0, or a negative errno if one failed. */
static int warm_up(struct ossl *o)
{
	uint8_t priv[SN_KEY_LEN], pub[SN_KEY_LEN], pair[SN_KEY_LEN], nonce[SN_NONCE_LEN] = {0};
	uint8_t hdr[HDR_LEN] = {0}, msg[64] = {0}, tag[SN_TAG_LEN];
	struct key_ctx k;
	int rc;

	for (uint32_t i = 0; i < sizeof(priv); i++)
		priv[i] = (uint8_t)(i + 1);
	rc = public_key(o, pub, priv);
	if (rc == 0)
		rc = pair_key(o, pair, priv, pub, pub, NULL);
	if (rc == 0)
		rc = dir_key(o, &k, pair, 1, 2, 1);
	if (rc == 0)
		rc = aead_seal(o, &k, nonce, hdr, sizeof(hdr), msg, sizeof(msg), tag);
	if (rc == 0)
		rc = aead_open(o, &k, nonce, hdr, sizeof(hdr), msg, sizeof(msg), tag);
	OPENSSL_cleanse(priv, sizeof(priv));
	OPENSSL_cleanse(pair, sizeof(pair));
	wipe(o, &k);
	return rc;
}

static void shed(struct ossl *o, const char *when)
{
	unsigned long kib = shed_startup_pages();

	o->api->log(o->host, SN_LOG_DEBUG, "openssl: %lu KiB of libcrypto's pages unmapped (%s)",
		    kib, when);
}

/* On the loop's first turn (the host has derived its peers' keys by then),
 * then every SHED_EVERY_MS if a key schedule ran since (thread_done: a
 * reload, on its worker thread): X25519 goes through OpenSSL's generic key
 * code, 1.8 MiB of pages for a first call. */
#define SHED_EVERY_MS 5000

static void on_settled(void *arg)
{
	struct ossl *o = arg;

	if (atomic_exchange(&o->keyed, 0))
		shed(o, "after a key schedule");
}

static int create(void *inst, const struct sn_create_args *args)
{
	struct ossl *o = inst;
	const char *what;

	o->owner = pthread_self();
	what = setup(o);

	o->host = args->host;
	o->api = args->api;
	if (what) {
		set_err(args->err, args->err_len, what);
		destroy(o);
		return -ENOTSUP;
	}
	if (warm_up(o) == 0) {
		shed(o, "start-up");
		atomic_store(&o->keyed, 0);
		o->settled = o->api->timer_new(o->host, on_settled, o);
		if (o->settled &&
		    o->api->timer_start(o->host, o->settled, 0, SHED_EVERY_MS) < 0) {
			o->api->timer_free(o->host, o->settled);
			o->settled = NULL;
		}
	}
	return 0;
}

static const struct sn_crypto_ops ops = {
	.struct_size = sizeof(struct sn_crypto_ops),
	.key_ctx_size = sizeof(struct key_ctx),
	.public_key = public_key,
	.pair_key = pair_key,
	.dir_key = dir_key,
	.seal = aead_seal,
	.open = aead_open,
	.wipe = wipe,
};

static const struct sn_plugin_desc desc = {
	SN_PLUGIN_DESC_INIT(SN_KIND_CRYPTO, "openssl", struct ossl),
	.version = SN_VERSION_STRING,
	.description = "ChaCha20-Poly1305 + X25519 + BLAKE2b (OpenSSL 3 EVP), wire protocol v1",
	.headroom = HDR_LEN,
	.tailroom = SN_TAG_LEN,
	.overhead = HDR_LEN + SN_TAG_LEN,
	.probe = probe,
	.create = create,
	.destroy = destroy,
	.ops = &ops,
};

SN_PLUGIN_ENTRY(desc)
