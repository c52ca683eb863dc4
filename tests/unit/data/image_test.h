/* fedval tests: writing PNG files with libpng for the image-folder source (tests of
 * lib/data/source_images.c and the end-to-end `fedval eval --source images`). */
#ifndef FEDVAL_TEST_IMAGE_H
#define FEDVAL_TEST_IMAGE_H

#include <criterion/criterion.h>
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Write a w x h PNG of the given libpng colour type (GRAY, GRAY_ALPHA, RGB, RGB_ALPHA) and bit
 * depth (8 or 16) to path; s holds w * h * channels samples, interleaved by pixel, row-major.
 * interlace: PNG_INTERLACE_NONE or PNG_INTERLACE_ADAM7. */
static inline void it_write_png(const char *path, unsigned w, unsigned h, int color, int depth,
				int interlace, const uint16_t *s)
{
	int nch = color == PNG_COLOR_TYPE_GRAY	       ? 1
		  : color == PNG_COLOR_TYPE_GRAY_ALPHA ? 2
		  : color == PNG_COLOR_TYPE_RGB	       ? 3
						       : 4;
	size_t bps = depth == 16 ? 2 : 1, rowbytes = (size_t)w * nch * bps;
	unsigned char *buf = malloc(rowbytes * h);
	png_bytep *rows = malloc(h * sizeof(*rows));
	FILE *f = fopen(path, "wb");
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png ? png_create_info_struct(png) : NULL;

	cr_assert(buf && rows && f && png && info, "cannot write %s", path);
	for (size_t i = 0; i < (size_t)w * h * nch; i++) {
		if (bps == 2) {
			buf[2 * i] = (unsigned char)(s[i] >> 8);
			buf[2 * i + 1] = (unsigned char)(s[i] & 0xff);
		} else {
			buf[i] = (unsigned char)s[i];
		}
	}
	for (unsigned y = 0; y < h; y++)
		rows[y] = buf + y * rowbytes;
	cr_assert_eq(setjmp(png_jmpbuf(png)), 0, "libpng failed writing %s", path);
	png_init_io(png, f);
	png_set_IHDR(png, info, w, h, depth, color, interlace, PNG_COMPRESSION_TYPE_DEFAULT,
		     PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	png_write_image(png, rows);
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	cr_assert_eq(fclose(f), 0);
	free(rows);
	free(buf);
}

#endif
