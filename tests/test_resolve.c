/* SPDX-License-Identifier: MIT */
/*
 * tests/test_resolve.c: the endpoint names' address lists and when a name
 * is looked up again or moves on (core/resolve.c), table-driven.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "resolve.h"

/* 10.0.0.x:51820; x == 0 is "no address" (family NONE) */
static struct sn_addr A(uint8_t x)
{
	struct sn_addr a = { 0 };

	if (!x)
		return a;
	a.family = SN_AF_INET;
	a.port = 51820;
	a.ip[0] = 10;
	a.ip[3] = x;
	return a;
}

static uint8_t last(const struct sn_addrlist *l)
{
	const struct sn_addr *a = sn_addrlist_cur(l);

	return a ? a->ip[3] : 0;
}

/* A list of the addresses x[0..], 0 ending it. */
static uint32_t addrs(const uint8_t *x, struct sn_addr *v)
{
	uint32_t k = 0;

	while (k < 12 && x[k]) {
		v[k] = A(x[k]);
		k++;
	}
	return k;
}

static void test_resolve_list_set_keeps_the_address_in_use(void **state)
{
	static const struct {
		const char *name;
		uint8_t start;       /* the config's address (0: none) */
		uint8_t next;        /* how many times to move on before the answer */
		uint8_t answer[12];  /* 0-terminated */
		uint8_t want_cur;    /* the address in use after it */
		uint8_t want_n;
		bool want_changed;
	} cases[] = {
		{ "same answer", 1, 0, { 1 }, 1, 1, false },
		{ "more records, first kept", 1, 0, { 1, 2, 3 }, 1, 3, false },
		{ "in use later in the answer", 2, 0, { 1, 2 }, 2, 2, false },
		{ "answer changed", 1, 0, { 4 }, 4, 1, true },
		{ "moved on, same answer", 1, 1, { 1, 2 }, 2, 2, false },
		{ "repeats dropped", 1, 0, { 1, 1, 2, 1 }, 1, 2, false },
		{ "empty list takes the first", 0, 0, { 5, 6 }, 5, 2, true },
		{ "at most SN_RESOLVE_ADDRS", 9, 0, { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, 1, 8, true },
		{ "empty answer changes nothing", 1, 0, { 0 }, 1, 1, false },
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct sn_addrlist l;
		struct sn_addr start = A(cases[c].start), v[12];
		uint32_t k;

		print_message("%s\n", cases[c].name);
		sn_addrlist_init(&l, &start);
		if (cases[c].next) {
			struct sn_addr two[2] = { A(1), A(2) };

			sn_addrlist_set(&l, two, 2);
			for (uint8_t i = 0; i < cases[c].next; i++)
				assert_true(sn_addrlist_next(&l));
		}
		k = addrs(cases[c].answer, v);
		assert_int_equal(sn_addrlist_set(&l, v, k), cases[c].want_changed);
		assert_int_equal(last(&l), cases[c].want_cur);
		assert_int_equal(l.n, cases[c].want_n);
	}
}

static void test_resolve_list_next_goes_round(void **state)
{
	struct sn_addrlist l;
	struct sn_addr one = A(1), v[3] = { A(1), A(2), A(3) }, none = A(0);
	static const uint8_t order[] = { 2, 3, 1, 2 };

	sn_addrlist_init(&l, &one);
	assert_false(sn_addrlist_next(&l)); /* one address: nowhere to go */
	assert_int_equal(last(&l), 1);
	sn_addrlist_set(&l, v, 3);
	for (size_t i = 0; i < sizeof(order); i++) {
		assert_true(sn_addrlist_next(&l));
		assert_int_equal(last(&l), order[i]);
	}
	sn_addrlist_init(&l, &none);
	assert_null(sn_addrlist_cur(&l));
	assert_false(sn_addrlist_next(&l));
}

#define S 1000000000ull

static void test_resolve_due_table(void **state)
{
	static const struct {
		const char *name;
		uint64_t now, next, since, last_rx, silent;
		enum sn_resolve_step want;
	} cases[] = {
		{ "nothing due", 10 * S, 300 * S, 0, 9 * S, 3 * S, SN_RESOLVE_WAIT },
		{ "periodic", 300 * S, 300 * S, 0, 299 * S, 3 * S, SN_RESOLVE_AGAIN },
		{ "silent since the last datagram", 20 * S, 300 * S, 0, 17 * S, 3 * S, SN_RESOLVE_NEXT },
		{ "not yet silent", 20 * S, 300 * S, 0, 18 * S, 3 * S, SN_RESOLVE_WAIT },
		{ "never heard, counted from the switch", 20 * S, 300 * S, 16 * S, 0, 3 * S,
		  SN_RESOLVE_NEXT },
		{ "a new address gets its time", 20 * S, 300 * S, 18 * S, 5 * S, 3 * S,
		  SN_RESOLVE_WAIT },
		{ "keepalive off: periodic only", 500 * S, 300 * S, 0, 0, 0, SN_RESOLVE_AGAIN },
		{ "keepalive off: silence does nothing", 100 * S, 300 * S, 0, 0, 0, SN_RESOLVE_WAIT },
		{ "datagram after now (clock read earlier)", 10 * S, 300 * S, 0, 11 * S, 3 * S,
		  SN_RESOLVE_WAIT },
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		print_message("%s\n", cases[c].name);
		assert_int_equal(sn_resolve_due(cases[c].now, cases[c].next, cases[c].since,
						cases[c].last_rx, cases[c].silent),
				 cases[c].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve_list_set_keeps_the_address_in_use),
		cmocka_unit_test(test_resolve_list_next_goes_round),
		cmocka_unit_test(test_resolve_due_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
