/* fedval fuzz target: fv_dicom_parse and fv_dicom_value (lib/data/dicom.c) on a hostile file,
 * then an accepted image through the image-folder source (lib/data/source_images.c): the image
 * and a one-line CSV index are memfds, the index's image path is the image's fd number, so
 * "/proc/self/fd/" is the folder.
 *
 * Build and run with libFuzzer (clang), from the repository root:
 *   clang -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
 *         -Iinclude -Ilib -Itests -I/usr/include/postgresql tests/fuzz/fuzz_dicom.c \
 *         lib/data/[a-z]*.c lib/crypto/[a-z]*.c lib/util/[a-z]*.c -lsqlite3 -lpq -lpng \
 *         -ljansson -lcrypto -linih -lm -lpthread -o /tmp/fuzz_dicom
 *   mkdir -p /tmp/dicom-corpus
 *   /tmp/fuzz_dicom -max_len=4096 -max_total_time=120 /tmp/dicom-corpus tests/fuzz/corpus/dicom
 * tests/unit/data/test_dicom_corpus.c replays tests/fuzz/corpus/dicom on every test run.
 * Define FV_FUZZ_NO_MAIN to compile this file into another program without
 * LLVMFuzzerTestOneInput. */
#include "fuzz/fuzz_dicom.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "data/dicom.h"
#include "fedval/data.h"
#include "fedval/limits.h"
#include "fuzz/fuzz_common.h"

/* The largest model input the source accepts (C x H x W). */
#define DF_MAX_VALUES FV_MAX_FEATURES

/* The accepted image read by the image-folder source with ch channels: every value must be the
 * reader's, divided as docs/data-sources.md says. */
static void through_source(const uint8_t *data, size_t size, const struct fv_dicom_image *im,
			   unsigned ch)
{
	static float x[DF_MAX_VALUES];
	static char names[DF_MAX_VALUES][32];
	const char *vars[DF_MAX_VALUES];
	size_t plane = (size_t)im->rows * im->cols, n = ch * plane, got = 0;
	double div = im->bits_allocated == 16 ? 257.0 * 255 : 255.0;
	char ipath[64], index[64], idxpath[64];
	struct fv_source_spec sp = {.kind = FV_SOURCE_IMAGES,
				    .path = idxpath,
				    .image_column = "file",
				    .image_channels = ch,
				    .image_height = im->rows,
				    .image_width = im->cols};
	struct fv_mapping map = {n, vars, vars, "y"};
	struct fv_source *s = NULL;
	struct fv_diag d = {{0}};
	uint8_t y[2];
	int fd = fuzz_memfd(data, size, ipath, sizeof(ipath)), ifd;
	fv_err e;

	for (size_t k = 0; k < n; k++) {
		snprintf(names[k], sizeof(names[k]), "pixel_%zu", k);
		vars[k] = names[k];
	}
	snprintf(index, sizeof(index), "file,y\n%s,1\n", ipath + strlen("/proc/self/fd/"));
	ifd = fuzz_memfd((const uint8_t *)index, strlen(index), idxpath, sizeof(idxpath));
	e = fuzz_check_err(fv_source_open(&sp, &map, &s, &d), &d, 0);
	FUZZ_CHECK(e == FV_OK);
	e = fuzz_check_err(fv_source_read(s, x, y, 2, &got, &d), &d, 0);
	FUZZ_CHECK(e == FV_OK && got == 1 && y[0] == 1);
	for (size_t k = 0; k < n; k++) {
		unsigned c = (unsigned)(k / plane), py = (unsigned)(k % plane / im->cols),
			 px = (unsigned)(k % im->cols);
		double want;
		if (im->samples == 1)
			want = fv_dicom_value(im, 0, py, px);
		else if (ch == 3)
			want = fv_dicom_value(im, c, py, px);
		else
			want = 0.299 * fv_dicom_value(im, 0, py, px) +
			       0.587 * fv_dicom_value(im, 1, py, px) +
			       0.114 * fv_dicom_value(im, 2, py, px);
		FUZZ_CHECK(x[k] == (float)(want / div));
	}
	fv_source_close(s);
	close(ifd);
	close(fd);
}

int fv_fuzz_dicom_one(const uint8_t *data, size_t size)
{
	static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	struct fv_dicom_image im;
	char why[256];
	size_t npx, need;
	fv_err e;

	why[0] = '\0';
	e = fuzz_check_err(fv_dicom_parse(data, size, &im, why, sizeof(why)), NULL,
			   FUZZ_ERR(FV_EINVAL));
	fuzz_result(e);
	if (e != FV_OK) {
		FUZZ_CHECK(why[0] != '\0' && memchr(why, '\0', sizeof(why)) != NULL);
		return 0;
	}
	FUZZ_CHECK(fv_dicom_is_dicom(data, size));
	FUZZ_CHECK(im.rows >= 1 && im.cols >= 1);
	FUZZ_CHECK(im.samples == 1 || im.samples == 3);
	FUZZ_CHECK(im.bits_allocated == 8 || im.bits_allocated == 16);
	FUZZ_CHECK(im.bits_stored >= 1 && im.bits_stored <= im.bits_allocated);
	FUZZ_CHECK((im.samples == 3) == (im.photometric == FV_DICOM_RGB));
	npx = (size_t)im.rows * im.cols * im.samples;
	FUZZ_CHECK(npx <= FV_MAX_DICOM_PIXELS);
	need = npx * (im.bits_allocated / 8);
	FUZZ_CHECK(im.pixels >= data + FV_DICOM_MAGIC_END && im.pixels <= data + size &&
		   need <= (size_t)(data + size - im.pixels));
	/* Every value, read by the reader's own accessor (ASan sees a read outside the input). */
	for (unsigned c = 0; c < im.samples; c++)
		for (unsigned y = 0; y < im.rows; y++)
			for (unsigned x = 0; x < im.cols; x++) {
				double v = fv_dicom_value(&im, c, y, x);
				FUZZ_CHECK(isfinite(v) &&
					   fabs(v) <= 65536.0 * FV_MAX_DICOM_RESCALE);
			}
	if (size >= sizeof(png_sig) && !memcmp(data, png_sig, sizeof(png_sig)))
		return 0; /* the source reads it as a PNG */
	if ((size_t)im.rows * im.cols * 3 <= DF_MAX_VALUES) {
		through_source(data, size, &im, 1);
		through_source(data, size, &im, 3);
	}
	return 0;
}

#ifndef FV_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fv_fuzz_dicom_one(data, size);
}
#endif
