/* SPDX-License-Identifier: MIT */
/*
 * tests/test_slab.c: the slab of peer objects (core/slab.c): objects come
 * zeroed and aligned, a freed one is wiped at once and handed out again,
 * chunks are carved as needed, the count of live objects is kept, two
 * threads may allocate and free at once, and destroying the slab wipes
 * its memory before it goes back (a secret arena's chunks).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "slab.h"

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static void test_slab_zeroed_aligned_reused_wiped(void **state)
{
	struct sn_slab s;
	unsigned char *a, *b, *c;

	assert_int_equal(sn_slab_init(&s, 100, 4), 0);
	assert_int_equal(s.size, 112); /* rounded to 16 */
	assert_true(s.arena.flags & SN_ARENA_SECRET);
	a = sn_slab_get(&s);
	b = sn_slab_get(&s);
	assert_non_null(a);
	assert_non_null(b);
	assert_true(all_zero(a, s.size));
	assert_int_equal((uintptr_t)a % 16, 0);
	assert_int_equal((uintptr_t)b % 16, 0);
	assert_true(a + s.size <= b || b + s.size <= a);
	assert_int_equal(s.live, 2);
	memset(a, 0xa5, s.size);
	sn_slab_put(&s, a);
	/* wiped at once, not when reused; only the free list's link is left */
	assert_true(all_zero(a + sizeof(void *), s.size - sizeof(void *)));
	assert_int_equal(s.live, 1);
	c = sn_slab_get(&s);
	assert_ptr_equal(c, a); /* the freed object comes back first */
	assert_true(all_zero(c, s.size));
	sn_slab_put(&s, NULL); /* ignored */
	sn_slab_put(&s, b);
	sn_slab_put(&s, c);
	assert_int_equal(s.live, 0);
	sn_slab_destroy(&s);
	assert_int_equal(sn_slab_init(&s, 0, 0), -EINVAL);
}

/* Many objects: chunks are carved on demand, every object is distinct. */
static void test_slab_grows_in_chunks(void **state)
{
	enum { N = 1000 };
	static void *v[N];
	struct sn_slab s;

	assert_int_equal(sn_slab_init(&s, 1008, 0), 0);
	assert_int_equal(s.per_chunk, (65536 - 64) / 1008);
	for (int i = 0; i < N; i++) {
		v[i] = sn_slab_get(&s);
		assert_non_null(v[i]);
		memset(v[i], i & 0xff, 1008);
	}
	for (int i = 0; i < N; i++)
		assert_int_equal(((unsigned char *)v[i])[1007], i & 0xff); /* nothing overlaps */
	assert_true(sn_slab_bytes(&s) >= (size_t)N * 1008);
	assert_true(sn_slab_bytes(&s) < (size_t)N * 1008 + 2 * 65536);
	for (int i = 0; i < N; i++)
		sn_slab_put(&s, v[i]);
	assert_int_equal(s.live, 0);
	sn_slab_destroy(&s);
}

struct churn {
	struct sn_slab *s;
	int rounds;
};

static void churn(void *arg)
{
	struct churn *c = arg;
	void *v[16];

	for (int r = 0; r < c->rounds; r++) {
		for (int i = 0; i < 16; i++)
			v[i] = sn_slab_get(c->s);
		for (int i = 0; i < 16; i++)
			sn_slab_put(c->s, v[i]);
	}
}

/* A reload's worker allocates while another worker frees: the lock holds. */
static void test_slab_two_threads(void **state)
{
	struct sn_slab s;
	struct churn c = { &s, 20000 };
	uv_thread_t t1, t2;

	assert_int_equal(sn_slab_init(&s, 64, 0), 0);
	assert_int_equal(uv_thread_create(&t1, churn, &c), 0);
	assert_int_equal(uv_thread_create(&t2, churn, &c), 0);
	uv_thread_join(&t1);
	uv_thread_join(&t2);
	assert_int_equal(s.live, 0);
	assert_true(sn_slab_bytes(&s) <= 64 * 32 + 2 * 65536); /* objects were reused */
	sn_slab_destroy(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slab_zeroed_aligned_reused_wiped),
		cmocka_unit_test(test_slab_grows_in_chunks),
		cmocka_unit_test(test_slab_two_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
