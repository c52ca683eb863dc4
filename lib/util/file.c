#include "fedval/util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

fv_err fv_file_read(const char *path, size_t max, uint8_t **buf, size_t *len, struct fv_diag *d)
{
	fv_err e = FV_OK;
	uint8_t *b = NULL;
	size_t cap = 0, n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return fv_diag_set(d, errno == ENOENT ? FV_ENOTFOUND : FV_EIO, "%s: %s", path,
				   strerror(errno));
	for (;;) {
		ssize_t r;
		if (n + 1 >= cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			uint8_t *nb;
			if (cap > 0 && cap - 1 > max) {
				e = fv_diag_set(d, FV_ELIMIT, "%s: larger than %zu bytes", path,
						max);
				goto fail;
			}
			nb = fv_realloc(b, ncap);
			if (!nb) {
				e = fv_diag_set(d, FV_ENOMEM, "%s: out of memory", path);
				goto fail;
			}
			b = nb;
			cap = ncap;
		}
		r = read(fd, b + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			e = fv_diag_set(d, FV_EIO, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			e = fv_diag_set(d, FV_ELIMIT, "%s: larger than %zu bytes", path, max);
			goto fail;
		}
	}
	if (!b && !(b = fv_alloc(1))) {
		e = fv_diag_set(d, FV_ENOMEM, "%s: out of memory", path);
		goto fail;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	close(fd);
	return FV_OK;
fail:
	fv_free(b);
	close(fd);
	return e;
}

void fv_file_sync_dir(const char *path)
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

fv_err fv_file_write_atomic(const char *path, const void *buf, size_t len, unsigned mode,
			    struct fv_diag *d)
{
	char tmp[4096];
	const uint8_t *p = buf;
	fv_err e = FV_OK;
	int fd;

	/* A fresh, exclusively created name: two writers of one path (threads of one process
	 * included) never share a temp file, and a planted symlink is not followed. */
	if (fv_fmt(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) != FV_OK)
		return fv_diag_set(d, FV_ELIMIT, "%s: path too long", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return fv_diag_set(d, FV_EIO, "%s: %s", tmp, strerror(errno));
	/* open() applies the umask; make the mode exact (0600 for keys must not become wider,
	 * 0644 for public files should not become narrower). */
	if (fchmod(fd, (mode_t)mode) != 0) {
		e = fv_diag_set(d, FV_EIO, "%s: chmod: %s", tmp, strerror(errno));
		goto fail;
	}
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			e = fv_diag_set(d, FV_EIO, "%s: %s", tmp, strerror(errno));
			goto fail;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) != 0) {
		e = fv_diag_set(d, FV_EIO, "%s: fsync: %s", tmp, strerror(errno));
		goto fail;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, path) != 0) {
		e = fv_diag_set(d, FV_EIO, "%s: rename: %s", path, strerror(errno));
		goto fail;
	}
	fv_file_sync_dir(path);
	return FV_OK;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return e;
}

fv_err fv_file_check_private(const char *path, struct fv_diag *d)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return fv_diag_set(d, errno == ENOENT ? FV_ENOTFOUND : FV_EIO, "%s: %s", path,
				   strerror(errno));
	if (st.st_mode & (S_IRWXG | S_IRWXO))
		return fv_diag_set(d, FV_EAUTH,
				   "%s: private key is accessible by group or others (mode %03o); "
				   "run chmod 600 %s",
				   path, (unsigned)(st.st_mode & 0777), path);
	return FV_OK;
}

fv_err fv_mkdir_p(const char *path, unsigned mode, struct fv_diag *d)
{
	char buf[4096];
	size_t len;

	if (fv_strlcpy(buf, path, sizeof(buf)) >= sizeof(buf))
		return fv_diag_set(d, FV_ELIMIT, "%s: path too long", path);
	len = strlen(buf);
	for (size_t i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		char c = buf[i];
		buf[i] = '\0';
		if (mkdir(buf, (mode_t)mode) != 0) {
			struct stat st;
			/* EEXIST is fine only for a directory: a file in the way is an error. */
			if (errno != EEXIST || stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
				return fv_diag_set(d, FV_EIO, "mkdir %s: %s", buf,
						   errno == EEXIST || errno == 0 ? "not a directory"
										 : strerror(errno));
		}
		buf[i] = c;
	}
	return FV_OK;
}
