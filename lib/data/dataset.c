/* fedval: a CSV file read into a dataset through a site's mapping of benchmark variables to
 * local columns.
 *
 * Contract
 *   - Every mapped variable must be a finite number in every record; an NA token, an empty
 *     field, text, inf/nan or a value outside the range of a float is an error naming the
 *     variable, its column, the line and (at most 40 bytes of) the value. Imputation, if a
 *     benchmark ever allows it, belongs to a layer above this one.
 *   - The label must be a number equal to 0 or 1 ("1", "0", "1.0", "0,00" with decimal ',').
 *   - Unmapped columns are read (they must still be well-formed CSV) and ignored.
 *   - Rows are kept in memory: arrays grow geometrically, at most FV_MAX_ROWS rows. */
#include "fedval/data.h"

#include <float.h>
#include <string.h>

#include "fedval/limits.h"
#include "fedval/util.h"
#include "source_int.h"

/* Rows allocated at first; doubled from there. */
#define DS_INITIAL_ROWS 1024
/* Records asked of the source at a time. */
#define DS_BATCH 4096

/* Make room for one more row. */
static fv_err ds_grow(size_t nvars, size_t *cap, float **x, uint8_t **y)
{
	size_t ncap, xbytes;
	float *nx;
	uint8_t *ny;
	fv_err e = FV_OK;

	ncap = *cap ? *cap : DS_INITIAL_ROWS;
	if (*cap && fv_mul_overflow(*cap, 2, &ncap)) {
		e = FV_ENOMEM;
		goto out;
	}
	if (ncap > FV_MAX_ROWS)
		ncap = FV_MAX_ROWS;
	if (fv_mul_overflow(ncap, nvars, &xbytes) ||
	    fv_mul_overflow(xbytes, sizeof(float), &xbytes)) {
		e = FV_ENOMEM;
		goto out;
	}
	nx = fv_realloc(*x, xbytes);
	if (!nx) {
		e = FV_ENOMEM;
		goto out;
	}
	*x = nx;
	ny = fv_realloc(*y, ncap);
	if (!ny) {
		e = FV_ENOMEM;
		goto out;
	}
	*y = ny;
	*cap = ncap;
out:
	return e;
}

fv_err fv_data_read_csv(const char *path, const struct fv_csv_opts *opts,
			const struct fv_mapping *map, struct fv_dataset *out, struct fv_diag *d)
{
	struct fv_source_spec spec = {.kind = FV_SOURCE_CSV, .path = path};
	struct fv_source *src = NULL;
	size_t n = 0, cap = 0, got = 0, nvars = 0;
	float *x = NULL;
	uint8_t *y = NULL;
	fv_err e = FV_OK;

	if (out)
		memset(out, 0, sizeof(*out));
	if (!path || !out) {
		e = fv_diag_set(d, FV_EINVAL, "fv_data_read_csv: path and out are required");
		goto fail;
	}
	if (opts)
		spec.csv = *opts;
	if ((e = fv_data_check_mapping(map, d)) != FV_OK)
		goto fail;
	if ((e = fv_source_open(&spec, map, &src, d)) != FV_OK)
		goto fail;
	nvars = map->nvars;
	do {
		while (cap - n < DS_BATCH && cap < FV_MAX_ROWS) {
			if ((e = ds_grow(nvars, &cap, &x, &y)) != FV_OK) {
				e = fv_diag_set(d, e, "out of memory for %zu rows", cap);
				goto fail;
			}
		}
		if ((e = fv_source_read(src, x + n * nvars, y + n, cap - n < DS_BATCH ? cap - n
										 : DS_BATCH,
					&got, d)) != FV_OK)
			goto fail;
		n += got;
		if (n == cap && cap == FV_MAX_ROWS && got) {
			size_t more = 0;
			float fx[FV_MAX_FEATURES];
			uint8_t fy;
			if ((e = fv_source_read(src, fx, &fy, 1, &more, d)) != FV_OK)
				goto fail;
			if (more) {
				e = fv_diag_set(d, FV_ELIMIT, "more than %u rows", (unsigned)FV_MAX_ROWS);
				goto fail;
			}
			break;
		}
	} while (got > 0);
	out->n = n;
	out->nvars = nvars;
	out->x = x;
	out->y = y;
	x = NULL;
	y = NULL;
	goto done;
fail:
	/* fv_csv_open names the path itself when the file cannot be opened. */
	if (path && d && strncmp(d->msg, path, strlen(path)) != 0)
		fv_diag_prefix(d, "%s: ", path);
done:
	fv_free(x);
	fv_free(y);
	fv_source_close(src);
	return e;
}

void fv_dataset_fini(struct fv_dataset *ds)
{
	if (!ds)
		return;
	fv_free(ds->x);
	fv_free(ds->y);
	memset(ds, 0, sizeof(*ds));
}
