#include "fedval/err.h"

#include <stdio.h>
#include <string.h>

/* Copy with truncation; returns the length written (not the source length). */
static size_t fv_strlcpy_err(char *dst, const char *src, size_t cap)
{
	size_t n = strlen(src);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return n;
}

static const char *const names[FV_ERR_COUNT] = {
    [FV_OK] = "ok",
    [FV_ENOMEM] = "out of memory",
    [FV_EINVAL] = "invalid argument or input",
    [FV_EPROTO] = "protocol error",
    [FV_EIO] = "I/O error",
    [FV_ECRYPTO] = "cryptographic error",
    [FV_EAUTH] = "not authorised",
    [FV_ENOTFOUND] = "not found",
    [FV_EEXIST] = "already exists",
    [FV_ELIMIT] = "limit exceeded",
    [FV_ETIMEDOUT] = "timed out",
    [FV_EUNSUPPORTED] = "not supported",
    [FV_ECORRUPT] = "corrupt data",
    [FV_ESTATE] = "wrong state",
    [FV_EDB] = "store error",
    [FV_EREFUSED] = "refused by policy",
    [FV_ECANCELED] = "canceled",
};

const char *fv_strerror(fv_err e)
{
	if ((int)e < 0 || e >= FV_ERR_COUNT)
		return "unknown error";
	return names[e];
}

fv_err fv_diag_vset(struct fv_diag *d, fv_err e, const char *fmt, va_list ap)
{
	if (d)
		vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	return e;
}

fv_err fv_diag_set(struct fv_diag *d, fv_err e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fv_diag_vset(d, e, fmt, ap);
	va_end(ap);
	return e;
}

void fv_diag_prefix(struct fv_diag *d, const char *fmt, ...)
{
	char pre[256];
	char old[sizeof(d->msg)];
	size_t pl;
	va_list ap;

	if (!d)
		return;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, d->msg, sizeof(old));
	pl = fv_strlcpy_err(d->msg, pre, sizeof(d->msg));
	if (pl < sizeof(d->msg))
		fv_strlcpy_err(d->msg + pl, old, sizeof(d->msg) - pl);
}
