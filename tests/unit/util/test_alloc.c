/* Tests lib/util/alloc.c: the allocation wrappers and fault injection. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "fedval/util.h"

static void disarm(void)
{
	fv_alloc_fail_after(0);
}

TestSuite(alloc, .fini = disarm);

Test(alloc, wrappers_work)
{
	char *s = fv_strdup("hello");
	char *t = fv_strndup("hello", 3);
	uint8_t *z = fv_calloc(16, 4);
	void *p = fv_alloc(0);

	cr_assert_str_eq(s, "hello");
	cr_assert_str_eq(t, "hel");
	for (int i = 0; i < 64; i++)
		cr_assert_eq(z[i], 0);
	cr_assert_not_null(p, "a zero-byte allocation is a valid pointer");
	z = fv_realloc(z, 128);
	cr_assert_not_null(z);
	fv_free(s);
	fv_free(t);
	fv_free(z);
	fv_free(p);
	fv_free(NULL);
}

Test(alloc, calloc_refuses_overflow)
{
	cr_assert_null(fv_calloc(SIZE_MAX / 2, 3));
}

Test(alloc, fail_after_n)
{
	void *a, *b, *c;

	fv_alloc_fail_after(1);
	cr_assert_null(fv_alloc(8), "1 = the next allocation fails");
	cr_assert_null(fv_alloc(8), "and every later one");
	cr_assert_null(fv_calloc(1, 8));
	cr_assert_null(fv_realloc(NULL, 8));
	cr_assert_null(fv_strdup("x"));

	fv_alloc_fail_after(3);
	a = fv_alloc(8);
	b = fv_strdup("x");
	c = fv_alloc(8);
	cr_assert_not_null(a);
	cr_assert_not_null(b);
	cr_assert_null(c, "the third allocation fails");
	cr_assert_null(fv_alloc(1));

	fv_alloc_fail_after(0);
	c = fv_alloc(8);
	cr_assert_not_null(c, "0 disarms");
	fv_free(a);
	fv_free(b);
	fv_free(c);
}
