#include "fedval/util.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Countdown for fault injection: <= 0 means disarmed. Atomic so worker threads may allocate
 * while a test has it armed. */
static atomic_long fail_countdown;
static atomic_bool failing;

void fv_alloc_fail_after(long n)
{
	atomic_store(&failing, false);
	atomic_store(&fail_countdown, n);
}

static bool should_fail(void)
{
	if (atomic_load(&failing))
		return true;
	if (atomic_load(&fail_countdown) <= 0)
		return false;
	if (atomic_fetch_sub(&fail_countdown, 1) == 1) {
		atomic_store(&failing, true);
		return true;
	}
	return false;
}

void *fv_alloc(size_t n)
{
	if (should_fail())
		return NULL;
	return malloc(n ? n : 1);
}

void *fv_calloc(size_t count, size_t size)
{
	size_t total;
	if (fv_mul_overflow(count, size, &total) || should_fail())
		return NULL;
	return calloc(total ? total : 1, 1);
}

void *fv_realloc(void *p, size_t n)
{
	if (should_fail())
		return NULL;
	return realloc(p, n ? n : 1);
}

void fv_free(void *p)
{
	free(p);
}

char *fv_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *r = fv_alloc(len + 1);
	if (r) {
		memcpy(r, s, len);
		r[len] = '\0';
	}
	return r;
}

char *fv_strdup(const char *s)
{
	return fv_strndup(s, strlen(s));
}
