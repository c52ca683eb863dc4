/* fedval audit: the append-only log file -- verifying it line by line, opening it for
 * appends, recovering from an append cut short by a crash. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit_int.h"
#include "fedval/limits.h"
#include "fedval/util.h"

struct fv_audit {
	pthread_mutex_t mu; /* guards everything below and the order of writes to fd */
	int fd;		    /* O_APPEND, flock'ed for the handle's life */
	char *path;
	uint64_t seq;		  /* seq of the last entry, 0 if none */
	char head[FV_SHA256_HEX]; /* hash of the last entry */
	uint64_t size;		  /* bytes of acknowledged entries: where the file should end */
	bool broken;		  /* an append failed and could not be rolled back */
};

/* ---- reading lines with a bounded buffer ---- */

enum { LINE_OK, LINE_EOF, LINE_TORN, LINE_LONG, LINE_IOERR };

struct reader {
	int fd;
	char *buf; /* FV_MAX_AUDIT_LINE + 1 + READ_CHUNK bytes */
	size_t cap, beg, end;
	bool eof;
};

#define READ_CHUNK 65536

/* The next line in *line, *len without its newline. LINE_TORN: bytes after the last newline
 * at end of file (in *line, *len). LINE_LONG: no newline within FV_MAX_AUDIT_LINE bytes. */
static int next_line(struct reader *r, const char **line, size_t *len)
{
	for (;;) {
		char *nl = memchr(r->buf + r->beg, '\n', r->end - r->beg);
		ssize_t n;
		if (nl) {
			*line = r->buf + r->beg;
			*len = (size_t)(nl - *line);
			r->beg += *len + 1;
			return *len > FV_MAX_AUDIT_LINE ? LINE_LONG : LINE_OK;
		}
		if (r->end - r->beg > FV_MAX_AUDIT_LINE)
			return LINE_LONG;
		if (r->eof) {
			*line = r->buf + r->beg;
			*len = r->end - r->beg;
			r->beg = r->end;
			return *len ? LINE_TORN : LINE_EOF;
		}
		if (r->beg > 0) {
			memmove(r->buf, r->buf + r->beg, r->end - r->beg);
			r->end -= r->beg;
			r->beg = 0;
		}
		n = read(r->fd, r->buf + r->end, r->cap - r->end);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return LINE_IOERR;
		if (n == 0)
			r->eof = true;
		r->end += (size_t)n;
	}
}

static void verdict_init(struct fv_audit_verdict *v)
{
	memset(v, 0, sizeof(*v));
	memcpy(v->head, FV_AUDIT_GENESIS, FV_SHA256_HEX);
}

fv_err fv_audit_verify_fd(int fd, const char *path, fv_audit_entry_fn fn, void *ctx,
			  struct fv_audit_verdict *v, uint64_t *good_end, struct fv_diag *d)
{
	struct reader r = {.fd = fd, .cap = FV_MAX_AUDIT_LINE + 1 + READ_CHUNK};
	uint64_t lineno = 0, off = 0;
	json_t *entry = NULL;
	fv_err e = FV_OK;

	verdict_init(v);
	*good_end = 0;
	if (lseek(fd, 0, SEEK_SET) < 0)
		return fv_diag_set(d, FV_EIO, "%s: seek: %s", path, strerror(errno));
	if (!(r.buf = fv_alloc(r.cap)))
		return fv_diag_set(d, FV_ENOMEM, "%s: out of memory", path);
	for (;;) {
		const char *line = NULL;
		size_t len = 0;
		json_error_t jerr;
		char hash[FV_SHA256_HEX];
		int rc = next_line(&r, &line, &len);

		if (rc == LINE_EOF)
			break;
		lineno++;
		if (rc == LINE_IOERR) {
			e = fv_diag_set(d, FV_EIO, "%s: line %llu: %s", path,
					(unsigned long long)lineno, strerror(errno));
			goto out;
		}
		if (rc == LINE_TORN) {
			v->fault = FV_AUDIT_TORN;
			snprintf(v->why, sizeof(v->why),
				 "%zu bytes at the end of the file without a newline", len);
		} else if (rc == LINE_LONG) {
			v->fault = FV_AUDIT_FORM;
			snprintf(v->why, sizeof(v->why), "line longer than %d bytes",
				 FV_MAX_AUDIT_LINE);
		} else if (!(entry = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr))) {
			v->fault = FV_AUDIT_JSON;
			snprintf(v->why, sizeof(v->why), "column %d: %s", jerr.column, jerr.text);
		} else {
			v->fault = fv_audit_entry_check(entry, line, len, v->last_seq + 1, v->head,
							hash, v->why, sizeof(v->why));
		}
		if (v->fault != FV_AUDIT_OK) {
			v->bad_line = lineno;
			e = fv_diag_set(d, FV_ECORRUPT, "%s: line %llu: %s: %s", path,
					(unsigned long long)lineno, fv_audit_fault_name(v->fault),
					v->why);
			goto out;
		}
		if (fn && fn(ctx, entry, len) != 0) {
			e = FV_ECANCELED;
			goto out;
		}
		json_decref(entry);
		entry = NULL;
		if (v->entries++ == 0)
			v->first_seq = 1;
		v->last_seq++;
		memcpy(v->head, hash, FV_SHA256_HEX);
		off += len + 1;
		*good_end = off;
	}
out:
	json_decref(entry);
	fv_free(r.buf);
	return e;
}

fv_err fv_audit_verify_file(const char *path, struct fv_audit_verdict *v, struct fv_diag *d)
{
	uint64_t end;
	fv_err e;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	verdict_init(v);
	if (fd < 0)
		return fv_diag_set(d, errno == ENOENT ? FV_ENOTFOUND : FV_EIO, "%s: %s", path,
				   strerror(errno));
	e = fv_audit_verify_fd(fd, path, NULL, NULL, v, &end, d);
	close(fd);
	return e;
}

/* ---- writing ---- */

/* Make a new file's directory entry durable (best effort, as fv_file_write_atomic). */
static void sync_parent(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int fd;

	if (!slash)
		fv_strlcpy(dir, ".", sizeof(dir));
	else if (slash == path)
		fv_strlcpy(dir, "/", sizeof(dir));
	else if ((size_t)(slash - path) < sizeof(dir))
		fv_strlcpy(dir, path, (size_t)(slash - path) + 1);
	else
		return;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/* Open or create path for appending; never follows a symlink, never opens a non-file. */
static fv_err open_file(const char *path, int *out, struct fv_diag *d)
{
	struct stat st;
	int flags = O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW;
	int fd = open(path, flags | O_CREAT | O_EXCL, 0600);

	if (fd >= 0) {
		/* open() applied the umask; the mode must be exactly 0600. */
		if (fchmod(fd, 0600) != 0) {
			fv_diag_set(d, FV_EIO, "%s: chmod: %s", path, strerror(errno));
			close(fd);
			unlink(path);
			return FV_EIO;
		}
		sync_parent(path);
		fv_log(FV_LOG_INFO, "audit_created", "path=%s", FV_Q(path));
	} else if (errno == EEXIST) {
		fd = open(path, flags);
	}
	if (fd < 0)
		return fv_diag_set(d, FV_EIO, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fv_diag_set(d, FV_EIO, "%s: not a regular file", path);
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO))
		fv_log(FV_LOG_WARN, "audit_mode_wide", "path=%s mode=%03o", FV_Q(path),
		       (unsigned)(st.st_mode & 0777));
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int err = errno;
		close(fd);
		if (err == EWOULDBLOCK)
			return fv_diag_set(d, FV_ESTATE, "%s: in use by another process", path);
		return fv_diag_set(d, FV_EIO, "%s: lock: %s", path, strerror(err));
	}
	*out = fd;
	return FV_OK;
}

fv_err fv_audit_open(const char *path, struct fv_audit **out, struct fv_diag *d)
{
	struct fv_audit *a = NULL;
	struct fv_audit_verdict v;
	uint64_t good_end = 0, dropped = 0;
	fv_err e;
	int fd = -1;

	*out = NULL;
	if ((e = open_file(path, &fd, d)) != FV_OK)
		return e;
	e = fv_audit_verify_fd(fd, path, NULL, NULL, &v, &good_end, d);
	if (e == FV_ECORRUPT && v.fault == FV_AUDIT_TORN) {
		/* Only an append that never returned can leave a line without its newline: each
		 * acknowledged entry was written whole and fdatasync'ed. Drop it and say so. */
		struct stat st;
		if (fstat(fd, &st) == 0 && (uint64_t)st.st_size > good_end)
			dropped = (uint64_t)st.st_size - good_end;
		if (ftruncate(fd, (off_t)good_end) != 0 || fdatasync(fd) != 0) {
			e = fv_diag_set(d, FV_EIO, "%s: truncating an incomplete final line: %s",
					path, strerror(errno));
			goto fail;
		}
		fv_log(FV_LOG_WARN, "audit_torn_line_dropped", "path=%s line=%llu bytes=%llu",
		       FV_Q(path), (unsigned long long)v.bad_line, (unsigned long long)dropped);
		e = FV_OK;
	} else if (e == FV_ECORRUPT) {
		fv_diag_prefix(d, "refusing to append to a broken chain: ");
		goto fail;
	} else if (e != FV_OK) {
		goto fail;
	}
	if (!(a = fv_calloc(1, sizeof(*a))) || !(a->path = fv_strdup(path))) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto fail;
	}
	if (pthread_mutex_init(&a->mu, NULL) != 0) {
		fv_free(a->path);
		fv_free(a);
		a = NULL;
		e = fv_diag_set(d, FV_ENOMEM, "mutex: out of resources");
		goto fail;
	}
	a->fd = fd;
	a->seq = v.last_seq;
	a->size = good_end;
	memcpy(a->head, v.head, FV_SHA256_HEX);
	if (v.fault == FV_AUDIT_TORN) {
		char detail[96];
		fv_fmt(detail, sizeof(detail), "{\"dropped_bytes\":\"%llu\"}",
		       (unsigned long long)dropped);
		if ((e = fv_audit_append(a, "audit.recovered", "fedval", NULL, 0, detail, NULL,
					 d)) != FV_OK) {
			fv_audit_close(a);
			return e;
		}
	}
	*out = a;
	return FV_OK;
fail:
	if (a) {
		fv_free(a->path);
		fv_free(a);
	}
	close(fd);
	return e;
}

void fv_audit_close(struct fv_audit *a)
{
	if (!a)
		return;
	close(a->fd); /* releases the flock */
	pthread_mutex_destroy(&a->mu);
	fv_free(a->path);
	fv_free(a);
}

void fv_audit_head(struct fv_audit *a, uint64_t *seq, char head[FV_SHA256_HEX])
{
	pthread_mutex_lock(&a->mu);
	if (seq)
		*seq = a->seq;
	if (head)
		memcpy(head, a->head, FV_SHA256_HEX);
	pthread_mutex_unlock(&a->mu);
}

fv_err fv_audit_append(struct fv_audit *a, const char *event, const char *principal,
		       const void *payload, size_t payload_len, const char *detail_json,
		       char hash_out[FV_SHA256_HEX], struct fv_diag *d)
{
	char digest[FV_SHA256_HEX];

	fv_sha256_hex(payload, payload_len, digest);
	return fv_audit_append_digest(a, event, principal, digest, detail_json, hash_out, d);
}

/* The entry without seq, ts_us, prev and hash, which are set under the lock. */
static fv_err entry_new(const char *event, const char *principal, const char *payload_sha256,
			const char *detail_json, json_t **out, struct fv_diag *d)
{
	json_t *j = NULL, *detail = NULL;
	json_error_t jerr;
	char why[256];

	if (!fv_audit_token_valid(event))
		return fv_diag_set(d, FV_EINVAL,
				   "audit event must be 1-64 chars of "
				   "[A-Za-z0-9._:@-]");
	if (!fv_audit_token_valid(principal))
		return fv_diag_set(d, FV_EINVAL,
				   "audit principal must be 1-64 chars of "
				   "[A-Za-z0-9._:@-]");
	if (!fv_audit_hex64_valid(payload_sha256))
		return fv_diag_set(d, FV_EINVAL, "payload digest must be 64 lowercase hex digits");
	if (detail_json) {
		if (!(detail = json_loads(detail_json, JSON_REJECT_DUPLICATES, &jerr)))
			return fv_diag_set(d, FV_EINVAL, "audit detail: column %d: %s", jerr.column,
					   jerr.text);
		if (!fv_audit_detail_valid(detail, why, sizeof(why))) {
			json_decref(detail);
			return fv_diag_set(d, FV_EINVAL, "audit detail: %s", why);
		}
	}
	j = json_pack("{s:s, s:s, s:s}", "event", event, "principal", principal, "payload_sha256",
		      payload_sha256);
	if (!j || (detail && json_object_set_new(j, "detail", detail) != 0)) {
		if (!j)
			json_decref(detail);
		json_decref(j);
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	}
	*out = j;
	return FV_OK;
}

/* Write line[0..len) with one write(2) and make it durable. On a failure the file is cut
 * back to the last acknowledged entry; if even that fails the handle is marked broken. */
static fv_err write_line(struct fv_audit *a, const char *line, size_t len, struct fv_diag *d)
{
	ssize_t w;
	int err;

	do {
		w = write(a->fd, line, len);
	} while (w < 0 && errno == EINTR);
	if (w == (ssize_t)len && fdatasync(a->fd) == 0)
		return FV_OK;
	err = w < 0 ? errno : (w == (ssize_t)len ? errno : ENOSPC);
	/* After a failed fdatasync the page cache's state is unknown: never trust it again. */
	if (w == (ssize_t)len || ftruncate(a->fd, (off_t)a->size) != 0)
		a->broken = true;
	fv_log(FV_LOG_ERROR, "audit_write_failed", "path=%s seq=%llu err=%s broken=%d",
	       FV_Q(a->path), (unsigned long long)a->seq + 1, FV_Q(strerror(err)), a->broken);
	return fv_diag_set(d, FV_EIO, "%s: append: %s", a->path, strerror(err));
}

fv_err fv_audit_append_digest(struct fv_audit *a, const char *event, const char *principal,
			      const char *payload_sha256, const char *detail_json,
			      char hash_out[FV_SHA256_HEX], struct fv_diag *d)
{
	json_t *j = NULL;
	char *line = NULL;
	char hash[FV_SHA256_HEX];
	size_t len;
	fv_err e;

	if ((e = entry_new(event, principal, payload_sha256, detail_json, &j, d)) != FV_OK)
		return e;
	pthread_mutex_lock(&a->mu);
	if (a->broken) {
		e = fv_diag_set(d, FV_ESTATE, "%s: an earlier append failed; reopen the log",
				a->path);
		goto out;
	}
	if (json_object_set_new(j, "seq", json_integer((json_int_t)(a->seq + 1))) ||
	    json_object_set_new(j, "ts_us", json_integer((json_int_t)fv_now_us())) ||
	    json_object_set_new(j, "prev", json_string(a->head)) ||
	    fv_audit_entry_hash(j, hash) != FV_OK ||
	    json_object_set_new(j, "hash", json_string(hash)) ||
	    !(line = json_dumps(j, FV_AUDIT_JSON_FLAGS))) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto out;
	}
	len = strlen(line);
	if (len > FV_MAX_AUDIT_LINE) {
		e = fv_diag_set(d, FV_ELIMIT, "audit entry longer than %d bytes",
				FV_MAX_AUDIT_LINE);
		goto out;
	}
	/* json_dumps left room only for its NUL: that byte becomes the newline. */
	line[len] = '\n';
	if ((e = write_line(a, line, len + 1, d)) != FV_OK)
		goto out;
	a->seq++;
	a->size += len + 1;
	memcpy(a->head, hash, FV_SHA256_HEX);
	if (hash_out)
		memcpy(hash_out, hash, FV_SHA256_HEX);
out:
	pthread_mutex_unlock(&a->mu);
	free(line);
	json_decref(j);
	return e;
}
