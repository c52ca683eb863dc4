/* fedval data source: a folder of PNG and DICOM images with a CSV index (docs/data-sources.md,
 * "Image folder").
 *
 * Contract
 *   - The index is read by the CSV reader (lib/data/csv.c) with the spec's CSV options; its
 *     columns are the cursor's first columns, as text. The column spec->image_column holds each
 *     record's image path, relative to the index file's directory: an absolute path, an empty
 *     path or one with a ".." component is refused, naming the line.
 *   - The cursor's last C*H*W columns are numeric (source_int.h), named pixel_0 ... in C,H,W
 *     order (channel-major, then row-major): pixel_k is channel k / (H*W), row (k % (H*W)) / W,
 *     column k % W. This is the memory layout of one sample of an NCHW tensor.
 *   - Every image must be exactly H x W pixels: a PNG (found by its signature) of bit depth 8
 *     or 16, gray or RGB (an alpha channel is dropped, not composited; palette images are
 *     refused), or a DICOM Part 10 file (found by "DICM" at byte 128; dicom.c says which).
 *     Stored sample values are used as they are: no gamma or colour-profile correction, no
 *     resizing. A value is v / scale (8-bit) or v / (257 * scale) (16-bit), so the brightest
 *     PNG sample is 255 / scale at both depths; with the default scale 255 PNG pixels lie in
 *     [0, 1]. v is a PNG's sample; for DICOM it is fv_dicom_value: the stored value (Bits
 *     Stored, Pixel Representation), MONOCHROME1 inverted, times Rescale Slope plus Rescale
 *     Intercept.
 *   - C = 1 of an RGB image is the ITU-R BT.601 luma 0.299 R + 0.587 G + 0.114 B (computed in
 *     double, then divided as above); C = 3 of a gray image repeats the gray value.
 *   - Any failure to read an image (missing, not a regular file, larger than
 *     FV_MAX_IMAGE_BYTES, not a PNG, truncated, corrupt, wrong size or format) is FV_EINVAL
 *     naming the index line and the image's path; pixel values are never shown.
 *   - Memory: one decoded image (H * W * 8 bytes at most) and its C*H*W floats, reused from
 *     record to record; a PNG is read through libpng's reader in small pieces, anything else
 *     whole (at most FV_MAX_IMAGE_BYTES, the buffer kept for the next record).
 *   - Files are opened read-only with open(2) as records are read (the node's sandbox allows
 *     that for this source). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dicom.h"
#include "fedval/limits.h"
#include "fedval/util.h"
#include "source_int.h"

/* Bytes of an image path shown in a message. */
#define IMG_SHOWN_PATH 160
/* Default divisor: 8-bit samples come out in [0, 1]. */
#define IMG_DEFAULT_SCALE 255.0
/* Bounds on image_scale: the largest pixel value, 255 / scale, stays far inside a float. */
#define IMG_MIN_SCALE 1e-3
#define IMG_MAX_SCALE 1e9
/* Ancillary chunks libpng keeps per image (sPLT, text, unknown): none is needed. */
#define IMG_MAX_CHUNKS 128

struct rows_images {
	struct fv_rows base;
	struct fv_csv *c;
	size_t nidx;	/* index columns */
	size_t img_col; /* the index column holding the path */
	char *dir;	/* the index file's directory with a trailing '/', or "" */
	char *pool;	/* names of the pixel columns, back to back */
	unsigned ch, h, w;
	double scale;
	float *px;	     /* ch * h * w values of the current record */
	unsigned char *raw;  /* the decoded image: h rows of stride bytes */
	size_t stride;	     /* w * 3 channels * 2 bytes: the widest row after stripping alpha */
	png_bytep *rowp;     /* h pointers into raw */
	char path[PATH_MAX]; /* the image being read */
	/* libpng's reader state: in the cursor, not on the stack, so that nothing setjmp
	 * returns to lives in a register. */
	int fd;
	char why[128];	/* libpng's message on error */
	uint8_t *file;	/* a non-PNG file read whole */
	size_t filecap; /* bytes allocated at file */
};

/* Copy s into buf for a message: at most IMG_SHOWN_PATH bytes, control characters as '?'. */
static const char *show_path(char *buf, size_t cap, const char *s)
{
	size_t n = strlen(s), keep = n < IMG_SHOWN_PATH ? n : IMG_SHOWN_PATH, i;

	if (keep + 4 > cap)
		keep = cap > 4 ? cap - 4 : 0;
	for (i = 0; i < keep; i++)
		buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	if (keep < n) {
		memcpy(buf + keep, "...", 3);
		keep += 3;
	}
	buf[keep] = '\0';
	return buf;
}

static void png_on_error(png_structp png, png_const_charp msg)
{
	struct rows_images *ri = png_get_error_ptr(png);

	fv_strlcpy(ri->why, msg ? msg : "libpng error", sizeof(ri->why));
	png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg; /* a benign oddity (unknown chunk, bad gamma): the samples are still read */
}

static void png_on_read(png_structp png, png_bytep out, size_t len)
{
	struct rows_images *ri = png_get_io_ptr(png);
	size_t got = 0;

	while (got < len) {
		ssize_t r = read(ri->fd, out + got, len - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			png_error(png, "read error");
		if (r == 0)
			png_error(png, "the file is truncated");
		got += (size_t)r;
	}
}

/* Write a reason to why and return FV_EINVAL. */
static fv_err refuse(char *why, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static fv_err refuse(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, cap, fmt, ap);
	va_end(ap);
	return FV_EINVAL;
}

/* One 8- or 16-bit sample. */
static inline unsigned sample(const unsigned char *row, size_t i, int depth)
{
	return depth == 16 ? ((unsigned)row[2 * i] << 8) | row[2 * i + 1] : row[i];
}

/* Turn the decoded rows into ch planes of floats. */
static void to_floats(struct rows_images *ri, int depth, int gray)
{
	size_t plane = (size_t)ri->h * ri->w;
	double div = depth == 16 ? 257.0 * ri->scale : ri->scale;

	for (size_t y = 0; y < ri->h; y++) {
		const unsigned char *row = ri->rowp[y];
		for (size_t x = 0; x < ri->w; x++) {
			size_t o = y * ri->w + x;
			if (gray) {
				float v = (float)(sample(row, x, depth) / div);
				for (size_t c = 0; c < ri->ch; c++)
					ri->px[c * plane + o] = v;
			} else if (ri->ch == 1) {
				double r = sample(row, 3 * x, depth),
				       g = sample(row, 3 * x + 1, depth),
				       b = sample(row, 3 * x + 2, depth);
				ri->px[o] = (float)((0.299 * r + 0.587 * g + 0.114 * b) / div);
			} else {
				for (size_t c = 0; c < 3; c++)
					ri->px[c * plane + o] =
					    (float)(sample(row, 3 * x + c, depth) / div);
			}
		}
	}
}

/* Read the PNG behind png (its signature already consumed) into ri->px. libpng errors come
 * back here through longjmp; nothing set after setjmp is used on that path. */
static fv_err read_png(struct rows_images *ri, png_structp png, png_infop info, char *why,
		       size_t cap)
{
	png_uint_32 w, h;
	int depth, color, interlace;

	if (setjmp(png_jmpbuf(png))) {
		fv_fmt(why, cap, "%s", ri->why[0] ? ri->why : "corrupt PNG");
		return FV_EINVAL;
	}
	png_set_read_fn(png, ri, png_on_read);
	png_set_sig_bytes(png, 8);
	/* The size is checked against the spec once the header is read, before any pixel. */
	png_set_chunk_malloc_max(png, FV_MAX_PNG_CHUNK);
	png_set_chunk_cache_max(png, IMG_MAX_CHUNKS);
	png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, 0);
	png_read_info(png, info);
	png_get_IHDR(png, info, &w, &h, &depth, &color, &interlace, NULL, NULL);
	if (w != ri->w || h != ri->h)
		return refuse(why, cap, "is %lux%lu pixels (width x height), expected %ux%u",
			      (unsigned long)w, (unsigned long)h, ri->w, ri->h);
	if (depth != 8 && depth != 16)
		return refuse(why, cap, "bit depth %d; only 8 or 16 are read", depth);
	if (color & PNG_COLOR_MASK_PALETTE)
		return refuse(why, cap, "a palette image; save it as gray or RGB");
	if (color & PNG_COLOR_MASK_ALPHA)
		png_set_strip_alpha(png);
	if (interlace != PNG_INTERLACE_NONE)
		png_set_interlace_handling(png);
	png_read_update_info(png, info);
	if (png_get_rowbytes(png, info) > ri->stride)
		return refuse(why, cap, "unexpected row size");
	png_read_image(png, ri->rowp);
	/* To the end: a file cut after its pixels, or a bad checksum there, is refused too. */
	png_read_end(png, NULL);
	to_floats(ri, depth, !(color & PNG_COLOR_MASK_COLOR));
	return FV_OK;
}

/* Turn a parsed DICOM image of the spec's size into ch planes of floats. */
static void dicom_to_floats(struct rows_images *ri, const struct fv_dicom_image *im)
{
	size_t plane = (size_t)ri->h * ri->w;
	double div = im->bits_allocated == 16 ? 257.0 * ri->scale : ri->scale;

	for (unsigned y = 0; y < ri->h; y++) {
		for (unsigned x = 0; x < ri->w; x++) {
			size_t o = (size_t)y * ri->w + x;
			if (im->samples == 1) {
				float v = (float)(fv_dicom_value(im, 0, y, x) / div);
				for (size_t c = 0; c < ri->ch; c++)
					ri->px[c * plane + o] = v;
			} else if (ri->ch == 1) {
				double r = fv_dicom_value(im, 0, y, x),
				       g = fv_dicom_value(im, 1, y, x),
				       b = fv_dicom_value(im, 2, y, x);
				ri->px[o] = (float)((0.299 * r + 0.587 * g + 0.114 * b) / div);
			} else {
				for (unsigned c = 0; c < 3; c++)
					ri->px[c * plane + o] =
					    (float)(fv_dicom_value(im, c, y, x) / div);
			}
		}
	}
}

/* Read the rest of ri->fd (size bytes in all, sig[0..nsig) already read) into ri->file. */
static fv_err read_whole(struct rows_images *ri, const unsigned char *sig, size_t nsig, size_t size,
			 size_t *len, char *why, size_t cap)
{
	size_t got = nsig;

	if (size < nsig)
		size = nsig;
	if (size > ri->filecap || !ri->file) {
		uint8_t *p =
		    fv_realloc(ri->file, size ? size : 1); /* never NULL, even when empty */
		if (!p) {
			fv_fmt(why, cap, "out of memory");
			return FV_ENOMEM;
		}
		ri->file = p;
		ri->filecap = size;
	}
	memcpy(ri->file, sig, nsig);
	while (got < size) {
		ssize_t r = read(ri->fd, ri->file + got, size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fv_fmt(why, cap, "read error: %s", strerror(errno));
			return FV_EINVAL;
		}
		if (r == 0)
			break; /* shrunk since fstat: what is there is the file */
		got += (size_t)r;
	}
	*len = got;
	return FV_OK;
}

/* Whether path ends in ext (ASCII, any case). */
static bool has_ext(const char *path, const char *ext)
{
	size_t n = strlen(path), k = strlen(ext);

	return n >= k && !strcasecmp(path + n - k, ext);
}

/* Read a file that is not a PNG: a DICOM file of the spec's size, or an error. */
static fv_err read_dicom(struct rows_images *ri, const unsigned char *sig, size_t nsig, size_t size,
			 char *why, size_t cap)
{
	struct fv_dicom_image im;
	size_t len;
	fv_err e;

	if ((e = read_whole(ri, sig, nsig, size, &len, why, cap)) != FV_OK)
		return e;
	if (!fv_dicom_is_dicom(ri->file, len) && !has_ext(ri->path, ".dcm")) {
		fv_fmt(why, cap, "%s",
		       has_ext(ri->path, ".png") ? "not a PNG file"
						 : "neither a PNG nor a DICOM file (no PNG "
						   "signature, no 'DICM' at byte 128)");
		return FV_EINVAL;
	}
	if ((e = fv_dicom_parse(ri->file, len, &im, why, cap)) != FV_OK)
		return e;
	if (im.rows != ri->h || im.cols != ri->w)
		return refuse(why, cap, "is %ux%u pixels (width x height), expected %ux%u", im.cols,
			      im.rows, ri->w, ri->h);
	dicom_to_floats(ri, &im);
	return FV_OK;
}

/* Decode ri->path into ri->px. On failure a reason without the path goes to why. */
static fv_err decode(struct rows_images *ri, char *why, size_t cap)
{
	png_structp png = NULL;
	png_infop info = NULL;
	unsigned char sig[8];
	struct stat st;
	ssize_t r;
	size_t nsig = 0;
	fv_err e = FV_EINVAL;

	ri->why[0] = '\0';
	if ((ri->fd = open(ri->path, O_RDONLY | O_CLOEXEC)) < 0) {
		fv_fmt(why, cap, "%s", errno == ENOENT ? "no such file" : strerror(errno));
		return FV_EINVAL;
	}
	if (fstat(ri->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		fv_fmt(why, cap, "not a regular file");
		goto out;
	}
	if ((uint64_t)st.st_size > FV_MAX_IMAGE_BYTES) {
		fv_fmt(why, cap, "larger than %u bytes", (unsigned)FV_MAX_IMAGE_BYTES);
		goto out;
	}
	while (nsig < sizeof(sig)) {
		r = read(ri->fd, sig + nsig, sizeof(sig) - nsig);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		nsig += (size_t)r;
	}
	if (nsig != sizeof(sig) || png_sig_cmp(sig, 0, sizeof(sig)) != 0) {
		e = read_dicom(ri, sig, nsig, (size_t)st.st_size, why, cap);
		goto out;
	}
	png = png_create_read_struct(PNG_LIBPNG_VER_STRING, ri, png_on_error, png_on_warning);
	if (!png || !(info = png_create_info_struct(png))) {
		e = FV_ENOMEM;
		fv_fmt(why, cap, "out of memory");
		goto out;
	}
	e = read_png(ri, png, info, why, cap);
out:
	png_destroy_read_struct(png ? &png : NULL, info ? &info : NULL, NULL);
	close(ri->fd);
	ri->fd = -1;
	return e;
}

/* The image path of a record, relative to the index: refused when absolute, empty or climbing
 * out with "..". */
static const char *bad_relpath(const char *p)
{
	const char *q = p;

	if (!*p)
		return "is empty";
	if (*p == '/')
		return "is absolute; paths are relative to the index file's directory";
	while (*q) {
		size_t n = strcspn(q, "/");
		if (n == 2 && q[0] == '.' && q[1] == '.')
			return "has a '..' component; images must lie under the index file's "
			       "directory";
		q += n;
		if (*q == '/')
			q++;
	}
	return NULL;
}

static fv_err img_next(struct fv_rows *r, char ***fields, bool *eof, struct fv_diag *d)
{
	struct rows_images *ri = (struct rows_images *)r;
	char shown[IMG_SHOWN_PATH + 8], why[256];
	const char *rel, *bad;
	fv_err e;

	if ((e = fv_csv_next(ri->c, fields, eof, d)) != FV_OK || *eof)
		return e;
	rel = (*fields)[ri->img_col];
	if (fv_csv_is_na(ri->c, rel))
		return fv_diag_set(d, FV_EINVAL, "line %llu: image column '%s' is missing",
				   (unsigned long long)fv_csv_line(ri->c),
				   ri->base.colnames[ri->img_col]);
	if ((bad = bad_relpath(rel)) != NULL)
		return fv_diag_set(d, FV_EINVAL, "line %llu: image path '%s' %s",
				   (unsigned long long)fv_csv_line(ri->c),
				   show_path(shown, sizeof(shown), rel), bad);
	if (strlen(ri->dir) + strlen(rel) >= sizeof(ri->path))
		return fv_diag_set(d, FV_EINVAL, "line %llu: image path '%s' is too long",
				   (unsigned long long)fv_csv_line(ri->c),
				   show_path(shown, sizeof(shown), rel));
	fv_fmt(ri->path, sizeof(ri->path), "%s%s", ri->dir, rel);
	if ((e = decode(ri, why, sizeof(why))) != FV_OK)
		return fv_diag_set(d, e, "line %llu: image '%s': %s",
				   (unsigned long long)fv_csv_line(ri->c),
				   show_path(shown, sizeof(shown), rel), why);
	return FV_OK;
}

static void img_where(struct fv_rows *r, char *buf, size_t cap)
{
	fv_fmt(buf, cap, "line %llu",
	       (unsigned long long)fv_csv_line(((struct rows_images *)r)->c));
}

static bool img_is_na(struct fv_rows *r, const char *field)
{
	return fv_csv_is_na(((struct rows_images *)r)->c, field);
}

static fv_err img_parse(struct fv_rows *r, const char *field, double *out, struct fv_diag *d)
{
	return fv_csv_parse_double(((struct rows_images *)r)->c, field, out, d);
}

/* The share of the index read: images are of one size, so it is the share of the work. */
static double img_progress(struct fv_rows *r)
{
	return fv_csv_progress(((struct rows_images *)r)->c);
}

static const float *img_numbers(struct fv_rows *r)
{
	return ((struct rows_images *)r)->px;
}

static void img_close(struct fv_rows *r)
{
	struct rows_images *ri = (struct rows_images *)r;

	fv_csv_close(ri->c);
	fv_free(ri->base.colnames);
	fv_free(ri->pool);
	fv_free(ri->dir);
	fv_free(ri->px);
	fv_free(ri->raw);
	fv_free(ri->rowp);
	fv_free(ri->file);
	fv_free(ri);
}

static const struct fv_rows_ops images_ops = {img_next,	    img_where, img_is_na,   img_parse,
					      img_progress, img_close, img_numbers, NULL};

/* The spec's image settings, checked. */
static fv_err check_spec(const struct fv_source_spec *spec, double *scale, struct fv_diag *d)
{
	uint64_t n;

	if (!spec->path || !spec->image_column)
		return fv_diag_set(d, FV_EINVAL,
				   "images source needs path (the CSV index) and image_column");
	if (spec->image_channels != 1 && spec->image_channels != 3)
		return fv_diag_set(d, FV_EINVAL, "image_channels is %u: 1 (gray) or 3 (RGB)",
				   spec->image_channels);
	n = (uint64_t)spec->image_channels * spec->image_height * spec->image_width;
	if (!spec->image_height || !spec->image_width || n > FV_MAX_FEATURES)
		return fv_diag_set(d, FV_EINVAL,
				   "image shape %ux%ux%u (channels x height x width): at least 1 "
				   "pixel and at most %u values in all",
				   spec->image_channels, spec->image_height, spec->image_width,
				   (unsigned)FV_MAX_FEATURES);
	*scale = spec->image_scale == 0 ? IMG_DEFAULT_SCALE : spec->image_scale;
	if (!(*scale >= IMG_MIN_SCALE && *scale <= IMG_MAX_SCALE))
		return fv_diag_set(d, FV_EINVAL, "image_scale %g: a number from %g to %g",
				   spec->image_scale, IMG_MIN_SCALE, IMG_MAX_SCALE);
	return FV_OK;
}

fv_err fv_rows_open_images(const struct fv_source_spec *spec, struct fv_rows **out,
			   struct fv_diag *d)
{
	struct rows_images *ri = fv_calloc(1, sizeof(*ri));
	const char *slash;
	size_t npx, poolcap, used = 0, dirlen;
	long k;
	fv_err e;

	if (!ri)
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	ri->base.ops = &images_ops;
	ri->fd = -1;
	if ((e = check_spec(spec, &ri->scale, d)) != FV_OK)
		goto fail;
	ri->ch = spec->image_channels;
	ri->h = spec->image_height;
	ri->w = spec->image_width;
	npx = (size_t)ri->ch * ri->h * ri->w;
	if ((e = fv_csv_open(spec->path, &spec->csv, &ri->c, d)) != FV_OK)
		goto fail;
	ri->nidx = fv_csv_ncols(ri->c);
	if ((k = fv_csv_find(ri->c, spec->image_column)) < 0) {
		e = fv_diag_set(d, FV_EINVAL, "%s: image_column '%s' is not in the index's header",
				spec->path, spec->image_column);
		goto fail;
	}
	ri->img_col = (size_t)k;
	slash = strrchr(spec->path, '/');
	dirlen = slash ? (size_t)(slash - spec->path) + 1 : 0;
	/* "pixel_" + at most 4 digits (npx <= FV_MAX_FEATURES) + NUL each. */
	poolcap = npx * 12;
	ri->base.nnum = npx;
	ri->base.ncols = ri->nidx + npx;
	ri->stride = (size_t)ri->w * 3 * 2;
	if (!(ri->dir = fv_alloc(dirlen + 1)) ||
	    !(ri->base.colnames = fv_calloc(ri->base.ncols, sizeof(char *))) ||
	    !(ri->pool = fv_alloc(poolcap)) || !(ri->px = fv_calloc(npx, sizeof(float))) ||
	    !(ri->raw = fv_alloc(ri->stride * ri->h)) ||
	    !(ri->rowp = fv_calloc(ri->h, sizeof(*ri->rowp)))) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto fail;
	}
	memcpy(ri->dir, spec->path, dirlen);
	ri->dir[dirlen] = '\0';
	for (size_t y = 0; y < ri->h; y++)
		ri->rowp[y] = ri->raw + y * ri->stride;
	/* Index names are owned by the CSV reader; pixel names by the pool. */
	for (size_t i = 0; i < ri->nidx; i++)
		ri->base.colnames[i] = (char *)fv_csv_colname(ri->c, i);
	for (size_t i = 0; i < npx; i++) {
		char *name = ri->pool + used;
		fv_fmt(name, poolcap - used, "pixel_%zu", i);
		used += strlen(name) + 1;
		if (fv_csv_find(ri->c, name) >= 0) {
			e = fv_diag_set(d, FV_EINVAL,
					"%s: index column '%s' has the name of a pixel column",
					spec->path, name);
			goto fail;
		}
		ri->base.colnames[ri->nidx + i] = name;
	}
	*out = &ri->base;
	return FV_OK;
fail:
	img_close(&ri->base);
	return e;
}
