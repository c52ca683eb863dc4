/* fedval fuzz targets: what every target shares. An invariant that fails aborts (a crash for
 * libFuzzer and for the corpus replay tests alike); every error an entry point returns must be
 * one of the codes its contract names, with a NUL-terminated message when it takes a diag.
 *
 * Header-only: each target is its own program, or is #included into its replay test. */
#ifndef FEDVAL_FUZZ_COMMON_H
#define FEDVAL_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fedval/err.h"

#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz: invariant failed: %s (%s:%d)\n", #cond, __FILE__,   \
				__LINE__);                                                         \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* A set of fv_err codes, for the errors an entry point may return. */
#define FUZZ_ERR(e) (1u << (unsigned)(e))

/* What the replay tests look at after a run: the result of the target's main entry point
 * (a seed named "ok-*" must be accepted) and how often each code came back. */
struct fuzz_tally {
	fv_err last;
	unsigned long n[FV_ERR_COUNT];
};
static struct fuzz_tally fuzz_tally;

/* Check a result against the allowed codes (FV_OK is always allowed) and, when d is given,
 * that a failure came with a message. Returns e. */
static inline fv_err fuzz_check_err(fv_err e, const struct fv_diag *d, unsigned allowed)
{
	if ((unsigned)e >= FV_ERR_COUNT || (e != FV_OK && !(allowed & FUZZ_ERR(e)))) {
		fprintf(stderr, "fuzz: unexpected error %d (%s): %s\n", (int)e,
			(unsigned)e < FV_ERR_COUNT ? fv_strerror(e) : "?", d ? d->msg : "");
		abort();
	}
	FUZZ_CHECK(fv_strerror(e) != NULL && fv_strerror(e)[0] != '\0');
	if (e != FV_OK && d)
		FUZZ_CHECK(d->msg[0] != '\0' && memchr(d->msg, '\0', sizeof(d->msg)) != NULL);
	fuzz_tally.n[e]++;
	return e;
}

/* Record the main entry point's result for the replay test. */
static inline void fuzz_result(fv_err e)
{
	fuzz_tally.last = e;
}

/* The input as a file: a memfd read back through /proc/self/fd/N (path holds >= 64 bytes),
 * no file system, nothing left behind. Returns the fd to close. */
static inline int fuzz_memfd(const uint8_t *data, size_t size, char *path, size_t cap)
{
	size_t off = 0;
	int fd = memfd_create("fedval_fuzz", MFD_CLOEXEC);

	FUZZ_CHECK(fd >= 0);
	while (off < size) {
		ssize_t w = write(fd, data + off, size - off);
		FUZZ_CHECK(w > 0);
		off += (size_t)w;
	}
	snprintf(path, cap, "/proc/self/fd/%d", fd);
	return fd;
}

#endif
