/* fedval: the one error type. Functions return fv_err; results go out through pointers.
 * Context (which field, which line) goes into an optional struct fv_diag. */
#ifndef FEDVAL_ERR_H
#define FEDVAL_ERR_H

#include <stdarg.h>
#include <stddef.h>

typedef enum fv_err {
	FV_OK = 0,
	FV_ENOMEM,	 /* allocation failed */
	FV_EINVAL,	 /* bad argument, bad config or bad input value */
	FV_EPROTO,	 /* malformed or unexpected message */
	FV_EIO,		 /* file or socket I/O failed */
	FV_ECRYPTO,	 /* key, certificate or signature problem */
	FV_EAUTH,	 /* peer is not who it claims or may not do this */
	FV_ENOTFOUND,	 /* named object does not exist */
	FV_EEXIST,	 /* object exists and may not be replaced */
	FV_ELIMIT,	 /* a hostile-input limit of limits.h was exceeded */
	FV_ETIMEDOUT,	 /* the peer did not answer in time */
	FV_EUNSUPPORTED, /* valid but not supported (operator, version, ...) */
	FV_ECORRUPT,	 /* stored or received data fails its digest or format */
	FV_ESTATE,	 /* operation not allowed in the object's current state */
	FV_EDB,		 /* the store failed */
	FV_EREFUSED,	 /* refused by policy (disclosure, approval, budget) */
	FV_ECANCELED,	 /* stopped on request */
	FV_ERR_COUNT
} fv_err;

const char *fv_strerror(fv_err e);

/* Optional detail for a failing call: a human-readable sentence naming what was wrong. */
struct fv_diag {
	char msg[512];
};

/* Set d->msg (if d is non-NULL) and return e, so that "return fv_diag_set(d, FV_EINVAL, ...)"
 * states the error and its reason in one place. */
fv_err fv_diag_set(struct fv_diag *d, fv_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
fv_err fv_diag_vset(struct fv_diag *d, fv_err e, const char *fmt, va_list ap);
/* Prepend context ("reading x.csv: ") to an existing message. */
void fv_diag_prefix(struct fv_diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
