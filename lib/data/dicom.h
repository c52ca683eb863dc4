/* fedval data, internal: a minimal reader of DICOM Part 10 files (PS3.10 file format, PS3.5
 * data encoding) for the image-folder source: one uncompressed single-frame image, the few
 * attributes of the Image Pixel module that say how to read its pixels, and the rescale.
 * Written from the standard; see the top of dicom.c for exactly what is read and refused.
 *
 * The reader works on a file already in memory (at most FV_MAX_IMAGE_BYTES), never allocates,
 * and never reads outside [buf, buf + len). Thread-safety: no state outside its arguments. */
#ifndef FEDVAL_DATA_DICOM_H
#define FEDVAL_DATA_DICOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fedval/err.h"

/* "DICM" follows a 128-byte preamble: a file shorter than this is not a DICOM file. */
#define FV_DICOM_MAGIC_END 132

enum fv_dicom_photometric {
	FV_DICOM_MONOCHROME1 = 1, /* gray, the lowest value shown white: inverted when read */
	FV_DICOM_MONOCHROME2,	  /* gray, the lowest value shown black */
	FV_DICOM_RGB,
};

/* An image as fv_dicom_parse found it. pixels points into the caller's buffer. */
struct fv_dicom_image {
	unsigned rows, cols;
	unsigned samples;	 /* Samples per Pixel: 1 (MONOCHROME1/2) or 3 (RGB) */
	unsigned bits_allocated; /* 8 or 16 */
	unsigned bits_stored;	 /* 1 .. bits_allocated; High Bit is bits_stored - 1 */
	bool is_signed;		 /* Pixel Representation 1: two's complement in bits_stored */
	bool planar;		 /* RGB only: R plane, G plane, B plane (else RGBRGB...) */
	bool explicit_vr;	 /* the transfer syntax (both are little endian) */
	enum fv_dicom_photometric photometric;
	double slope, intercept; /* Rescale Slope and Intercept; 1 and 0 when absent */
	const uint8_t *pixels;	 /* rows * cols * samples little-endian values */
};

/* Whether buf (len bytes) starts like a DICOM Part 10 file: "DICM" at byte 128. */
bool fv_dicom_is_dicom(const uint8_t *buf, size_t len);

/* Parse the DICOM Part 10 file buf[0 .. len). FV_OK fills *im; FV_EINVAL puts a reason into why
 * (cap bytes, NUL-terminated) naming the attribute or tag and what is wrong, never a pixel or
 * any other attribute's value (only the transfer syntax UID and Photometric Interpretation are
 * quoted, printable characters only). */
fv_err fv_dicom_parse(const uint8_t *buf, size_t len, struct fv_dicom_image *im, char *why,
		      size_t cap);

/* The value of sample c (0 .. samples-1) of the pixel at row y, column x: the stored value
 * (masked to bits_stored, sign-extended when signed), for MONOCHROME1 inverted within the range
 * of bits_stored (lo + hi - v), then slope * v + intercept. Always finite; |value| <= 65535 *
 * FV_MAX_DICOM_RESCALE + FV_MAX_DICOM_RESCALE. */
double fv_dicom_value(const struct fv_dicom_image *im, unsigned c, unsigned y, unsigned x);

#endif
