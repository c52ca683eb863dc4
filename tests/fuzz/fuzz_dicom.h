/* fedval fuzz target: the DICOM reader (lib/data/dicom.c) alone and through the image-folder
 * source, callable from libFuzzer and from the corpus replay test
 * (tests/unit/data/test_dicom_corpus.c). */
#ifndef FEDVAL_FUZZ_DICOM_H
#define FEDVAL_FUZZ_DICOM_H

#include <stddef.h>
#include <stdint.h>

/* Parse the input as a DICOM Part 10 file; an accepted image must be consistent (sizes, pixels
 * inside the input, finite bounded values), and, when small enough for a model, must read
 * through fv_source_open/fv_source_read of an image folder to exactly the reader's values.
 * Returns 0; a bug shows as a crash, a sanitizer report or an abort on a broken invariant. */
int fv_fuzz_dicom_one(const uint8_t *data, size_t size);

#endif
