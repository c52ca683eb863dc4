/* fedval: the evaluation worker's sandbox (DESIGN.md §4, docs/sandbox.md). Linux only.
 *
 * A process that has opened its inputs calls fv_sandbox_enter once; from then on the kernel
 * allows it to compute, allocate, run threads, read and write descriptors it already holds, and
 * nothing else: no new files (unless allowed read-only), no network (unless allowed), no
 * exec, no fork, no ptrace, no executable memory. A forbidden system call kills the whole
 * process with SIGSYS (a documented few fail with an errno instead, so that libraries that
 * probe them fail cleanly). The restriction is irreversible and covers every thread. */
#ifndef FEDVAL_SANDBOX_H
#define FEDVAL_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "fedval/err.h"

/* RLIMIT_NOFILE when opts->max_open_files is 0: the worker's few inputs (a CSV file, an
 * SQLite database with its journal probe, a PostgreSQL socket) plus headroom. */
#define FV_SANDBOX_DEFAULT_NOFILE 64

struct fv_sandbox_opts {
	/* openat/open with O_RDONLY (no O_CREAT, O_TRUNC, O_APPEND) of any path the user can
	 * read, for sources that open files after the sandbox is entered. Off: every open fails
	 * with EPERM. Opens for writing fail with EPERM either way. */
	bool allow_open_rdonly;
	/* Use sockets already open (send/recv/poll/getsockopt...), e.g. a PostgreSQL connection
	 * made before entering. New sockets are still refused. */
	bool allow_socket_io;
	/* Also create AF_UNIX/AF_INET/AF_INET6 sockets and connect them (implies
	 * allow_socket_io), e.g. for libpq's cancel request. Off: socket() fails with EPERM. */
	bool allow_network;
	/* RLIMIT_AS in bytes, 0 = none. Counts reserved address space, not resident memory:
	 * glibc reserves 64 MiB per malloc arena (one per thread) and 8 MiB per thread stack.
	 * Not applied in AddressSanitizer builds (the shadow memory reserves terabytes). */
	size_t max_memory;
	/* RLIMIT_NOFILE (soft and hard), 0 = FV_SANDBOX_DEFAULT_NOFILE. Descriptors already
	 * open above it stay open. */
	unsigned max_open_files;
	/* Leave RLIMIT_FSIZE as it is instead of 0. For when stderr is a regular file (the
	 * node started with 2>node.log) and the worker's log lines must reach it: with
	 * RLIMIT_FSIZE 0 they fail with EFBIG. Opening files for writing stays forbidden, so
	 * after fv_sandbox_close_fds only stderr itself can grow. */
	bool allow_file_growth;
	/* Deny with SIGSYS through a handler that writes "level=error event=sandbox_violation
	 * syscall=N" to stderr before the process dies of SIGSYS, instead of a silent kill.
	 * The forbidden call never runs either way. For diagnosing a new code path. */
	bool report;
};

/* Enter the sandbox: RLIMIT_NOFILE, RLIMIT_FSIZE = 0 (SIGXFSZ ignored, so growing a regular
 * file fails with EFBIG rather than killing), RLIMIT_CORE = 0, optional RLIMIT_AS; drop
 * every capability; PR_SET_NO_NEW_PRIVS; then a seccomp filter synchronised over all threads.
 * o may be NULL (all defaults: no opens, no network, no memory cap).
 *
 * Returns FV_OK, or FV_EIO/FV_EUNSUPPORTED with the reason in d. On failure the process may be
 * partially restricted and must not go on to handle untrusted input: report and _exit.
 * Not async-signal-safe; call once, from one thread, after opening every input. */
fv_err fv_sandbox_enter(const struct fv_sandbox_opts *o, struct fv_diag *d);

/* Close every descriptor >= 3 except those in keep[0..nkeep), so that a forked worker does
 * not inherit its parent's sockets, database handles or log files. Call in the child before
 * opening the inputs. */
fv_err fv_sandbox_close_fds(const int *keep, size_t nkeep, struct fv_diag *d);

#endif
