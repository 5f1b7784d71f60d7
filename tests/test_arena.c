/* SPDX-License-Identifier: MIT */
/*
 * tests/test_arena.c: core/arena.c, plain and secret, and the key hygiene
 * built on secret arenas: a freed config (private key, PSKs) and a freed
 * peer registry (pair keys, PSKs, key contexts of the real crypto plugin)
 * leave no key in any chunk they return to the system.
 *
 * sn_arena_wiped_hook sees every secret mapping after the wipe and before
 * munmap(): it records where the mapping was, whether it is all zero and
 * whether one of the test's key byte strings is still in it. A key that was
 * not in a secret arena at all shows up as an address no mapping covered.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "arena.h"
#include "config.h"
#include "host.h"
#include "keys.h"
#include "loader.h"
#include "peer.h"

#define PLUGIN_DIR SN_TEST_BINARY_DIR "/plugins"
#define MAX_MAPS 256
#define MAX_SECRETS 64
#define N(a) (sizeof(a) / sizeof((a)[0]))

#define KEY_A "X0O52YIg4foGNf2e77FDInwXWpumYTKdInIHceQN+yE="
#define KEY_B "i3mQC/pZrQBDtFUxe7U6xEfvJVoIKs85ZRo4Byd0mFs="

/* ---- the hook ---------------------------------------------------------- */

static struct {
	uintptr_t lo[MAX_MAPS], hi[MAX_MAPS];
	uint32_t n;
	bool all_zero;
	const uint8_t *secret[MAX_SECRETS]; /* copies of key bytes to look for */
	size_t secret_len[MAX_SECRETS];
	uint32_t n_secret;
	uint32_t found;                     /* mappings that still held a secret */
} seen;

static void wiped(const void *mem, size_t len)
{
	const uint8_t *m = mem;

	assert_true(seen.n < MAX_MAPS);
	seen.lo[seen.n] = (uintptr_t)mem;
	seen.hi[seen.n++] = (uintptr_t)mem + len;
	for (size_t i = 0; i < len; i++)
		if (m[i])
			seen.all_zero = false;
	for (uint32_t s = 0; s < seen.n_secret; s++)
		if (memmem(m, len, seen.secret[s], seen.secret_len[s]))
			seen.found++;
}

static void watch_start(void)
{
	for (uint32_t s = 0; s < seen.n_secret; s++)
		free((void *)seen.secret[s]);
	memset(&seen, 0, sizeof(seen));
	seen.all_zero = true;
	sn_arena_wiped_hook = wiped;
}

/* Look for a copy of these bytes (as they are now) in every wiped mapping. */
static void watch_bytes(const void *p, size_t len)
{
	uint8_t *copy = malloc(len);

	assert_non_null(copy);
	assert_true(seen.n_secret < MAX_SECRETS);
	memcpy(copy, p, len);
	assert_false(sodium_is_zero(copy, len)); /* a zero key would prove nothing */
	seen.secret[seen.n_secret] = copy;
	seen.secret_len[seen.n_secret++] = len;
}

static bool covered(const void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p;

	for (uint32_t i = 0; i < seen.n; i++)
		if (a >= seen.lo[i] && a + len <= seen.hi[i])
			return true;
	return false;
}

/* After the free: every mapping zero, no secret in any, each address in one. */
static void watch_check(const void *const *addrs, const size_t *lens, size_t n)
{
	sn_arena_wiped_hook = NULL;
	assert_true(seen.n > 0);
	assert_true(seen.all_zero);
	assert_int_equal(seen.found, 0);
	for (size_t i = 0; i < n; i++)
		assert_true(covered(addrs[i], lens[i]));
}

/* ---- /proc/self/smaps -------------------------------------------------- */

/* The Locked: kB and whether VmFlags has "dd" (no dump) for the mapping
 * holding p. -1 when not found. */
static long smaps_locked_kb(const void *p, bool *dontdump)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	bool in = false;
	long kb = -1;

	assert_non_null(f);
	*dontdump = false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
			continue;
		}
		if (in && !strncmp(line, "Locked:", 7))
			kb = strtol(line + 7, NULL, 10);
		if (in && !strncmp(line, "VmFlags:", 8))
			*dontdump = strstr(line, " dd") != NULL;
	}
	fclose(f);
	return kb;
}

/* ---- the arena itself -------------------------------------------------- */

static void test_arena_alloc_zeroed_aligned_both_modes(void **state)
{
	for (int secret = 0; secret < 2; secret++) {
		struct sn_arena a;
		size_t sizes[] = {1, 15, 16, 17, 100, 16384, 40000, 3};

		if (secret)
			sn_arena_init_secret(&a, 0);
		else
			sn_arena_init(&a, 0);
		for (size_t i = 0; i < N(sizes); i++) {
			uint8_t *p = sn_arena_alloc(&a, sizes[i]);

			assert_non_null(p);
			assert_int_equal((uintptr_t)p % 16, 0);
			assert_true(sodium_is_zero(p, sizes[i]));
			memset(p, 0xA5, sizes[i]);
		}
		assert_string_equal(sn_arena_printf(&a, "%s-%d", "x", 7), "x-7");
		assert_string_equal(sn_arena_strndup(&a, "abcdef", 3), "abc");
		assert_null(sn_arena_alloc(&a, SIZE_MAX - 3));
		sn_arena_free(&a);
		assert_null(a.head);
		assert_int_equal(a.used, 0);
		/* usable again after a free */
		assert_non_null(sn_arena_alloc(&a, 10));
		sn_arena_free(&a);
	}
}

static void test_arena_secret_wiped_before_unmap(void **state)
{
	static const char secret[] = "not a real key, but 32 bytes ok!";
	struct sn_arena a;
	void *at[3];
	size_t len[3] = {32, 32, 32};

	watch_start();
	sn_arena_init_secret(&a, 0);
	for (int i = 0; i < 3; i++) {
		/* the last one is larger than a chunk: a mapping of its own */
		char *p = sn_arena_alloc(&a, i == 2 ? 100000 : 5000);

		assert_non_null(p);
		memcpy(p, secret, 32);
		at[i] = p;
	}
	watch_bytes(secret, 32);
	sn_arena_free(&a);
	watch_check((const void *const *)at, len, 3);
	assert_int_equal(seen.n, 2);
}

static void test_arena_plain_never_hooked(void **state)
{
	struct sn_arena a;

	watch_start();
	sn_arena_init(&a, 0);
	assert_non_null(sn_arena_alloc(&a, 100));
	sn_arena_free(&a);
	sn_arena_wiped_hook = NULL;
	assert_int_equal(seen.n, 0);
	assert_true(sn_arena_locked(&a));
}

/* Root (CAP_IPC_LOCK) always locks; anyone else only within RLIMIT_MEMLOCK,
 * and then sn_arena_locked() must say so truthfully either way. */
static void test_arena_secret_chunks_locked_and_not_dumped(void **state)
{
	struct sn_arena a;
	bool dd = false;
	long kb;
	void *p;

	sn_arena_init_secret(&a, 0);
	p = sn_arena_alloc(&a, 64);
	assert_non_null(p);
	kb = smaps_locked_kb(p, &dd);
	assert_true(kb >= 0);
#ifdef __linux__
	assert_true(dd);
#endif
#ifdef __SANITIZE_ADDRESS__
	/* ASan's mlock() interceptor does nothing and reports success */
	sn_arena_free(&a);
	skip();
#endif
	if (!sn_arena_locked(&a)) {
		assert_int_equal(kb, 0);
		sn_arena_free(&a);
		assert_true(geteuid() != 0);
		skip(); /* not root and over RLIMIT_MEMLOCK: locking is not checked */
	}
	assert_true(kb * 1024 >= 16384);
	sn_arena_free(&a);
}

/* ---- configs and peer registries --------------------------------------- */

struct fx {
	char dir[64];
	char name[96];        /* dir/t.yaml: anchors the relative key paths */
	char *text;
	size_t len;
	struct sn_host host;
	struct sn_plugin crypto;
	struct sn_crypto cr;
};

static void write_key(const char *dir, const char *file, const uint8_t key[static 32])
{
	char path[160], t[SN_KEY_B64_LEN + 2];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	sn_key_to_b64(t, key);
	strcat(t, "\n");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, t, strlen(t)), (ssize_t)strlen(t));
	close(fd);
	sodium_memzero(t, sizeof(t));
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct sn_options none = {0};
	uint8_t k[32];
	char err[512] = "";
	int n;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/sn-test-arena.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->name, sizeof(f->name), "%s/t.yaml", f->dir);
	assert_int_equal(sn_key_generate(k), 0);
	write_key(f->dir, "hub.key", k);
	assert_int_equal(sn_key_generate_psk(k), 0);
	write_key(f->dir, "a.psk", k);
	assert_int_equal(sn_key_generate_psk(k), 0);
	write_key(f->dir, "b.psk", k);
	sodium_memzero(k, sizeof(k));
	n = asprintf(&f->text,
		     "node: { id: 1, role: hub, private_key_file: hub.key, listen: \"0.0.0.0:51820\" }\n"
		     "overlay: { subnet: 10.0.0.0/24, address: 10.0.0.1 }\n"
		     "peers:\n"
		     "  - { id: 2, public_key: " KEY_A ", address: 10.0.0.2, psk_file: a.psk }\n"
		     "  - { id: 3, public_key: " KEY_B ", address: 10.0.0.3, psk_file: b.psk }\n");
	assert_true(n > 0);
	f->len = (size_t)n;
	sn_host_init(&f->host, NULL, NULL);
	f->host.log_level = SN_LOG_ERROR;
	if (sn_loader_load(SN_KIND_CRYPTO, "chacha", PLUGIN_DIR, &f->crypto, err, sizeof(err)) < 0 ||
	    sn_plugin_create(&f->crypto, &f->host, &none, err, sizeof(err)) < 0)
		fail_msg("crypto plugin: %s", err);
	f->cr.ops = sn_plugin_ops(&f->crypto);
	f->cr.inst = f->crypto.inst;
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	const char *files[] = {"hub.key", "a.psk", "b.psk"};
	char path[160];

	sn_plugin_unload(&f->crypto);
	for (size_t i = 0; i < N(files); i++) {
		snprintf(path, sizeof(path), "%s/%s", f->dir, files[i]);
		unlink(path);
	}
	rmdir(f->dir);
	free(f->text);
	free(f);
	watch_start();
	sn_arena_wiped_hook = NULL;
	return 0;
}

static struct sn_config *load(struct fx *f)
{
	struct sn_config *c = NULL;
	char err[1024] = "";

	if (sn_config_load_buffer(f->name, f->text, f->len, true, &c, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_true(c->peers[0].has & SN_PEER_HAS_PSK);
	assert_true(c->peers[1].has & SN_PEER_HAS_PSK);
	return c;
}

static void test_arena_config_free_leaves_no_key(void **state)
{
	struct fx *f = *state;
	struct sn_config *c = load(f);
	const void *at[3] = {c->private_key, c->peers[0].psk, c->peers[1].psk};
	size_t len[3] = {32, 32, 32};

	assert_true(c->arena.flags & SN_ARENA_SECRET);
	watch_start();
	for (size_t i = 0; i < N(at); i++)
		watch_bytes(at[i], 32);
	sn_config_free(c);
	watch_check(at, len, N(at));
}

static void test_arena_peers_destroy_leaves_no_key(void **state)
{
	struct fx *f = *state;
	struct sn_config *c = load(f);
	struct sn_peers ps;
	struct sn_slab slab;
	const void *at[2 * 5];
	size_t len[2 * 5], n = 0, ks;
	char err[512] = "";

	assert_int_equal(sn_slab_init(&slab, sn_peer_object_size(f->cr.ops->key_ctx_size), 0), 0);
	if (sn_peers_build(&ps, c, &f->cr, &slab, 1700000000u, NULL, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	sn_config_free(c);
	assert_true(slab.arena.flags & SN_ARENA_SECRET); /* the peers' keys live there */
	ks = ps.key_ctx_size;
	watch_start();
	for (uint32_t i = 0; i < ps.n; i++) {
		struct sn_peer *p = ps.v[i];

		/* a receive and a candidate key as the data path derives them */
		assert_int_equal(f->cr.ops->dir_key(f->cr.inst, p->rx_key, p->pair_key, p->id, 1,
						    1700000001u), 0);
		assert_int_equal(f->cr.ops->dir_key(f->cr.inst, p->cand_key, p->pair_key, p->id, 1,
						    1700000002u), 0);
		const void *keys[5] = {p->pair_key, p->psk, p->tx_key, p->rx_key, p->cand_key};
		size_t lens[5] = {32, 32, ks, ks, ks};

		for (int k = 0; k < 5; k++) {
			watch_bytes(keys[k], lens[k]);
			at[n] = keys[k];
			len[n++] = lens[k];
		}
	}
	sn_peers_destroy(&ps, &f->cr, &slab);
	sn_slab_destroy(&slab);
	watch_check(at, len, n);
}

int main(void)
{
	const struct CMUnitTest basic[] = {
		cmocka_unit_test(test_arena_alloc_zeroed_aligned_both_modes),
		cmocka_unit_test(test_arena_secret_wiped_before_unmap),
		cmocka_unit_test(test_arena_plain_never_hooked),
		cmocka_unit_test(test_arena_secret_chunks_locked_and_not_dumped),
	};
	const struct CMUnitTest keys[] = {
		cmocka_unit_test_setup_teardown(test_arena_config_free_leaves_no_key, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_arena_peers_destroy_leaves_no_key, fx_setup,
						fx_teardown),
	};
	int rc = cmocka_run_group_tests_name("arena", basic, NULL, NULL);

	return rc | cmocka_run_group_tests_name("arena keys", keys, NULL, NULL);
}
