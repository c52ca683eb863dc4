/* fedval fuzz targets: the CSV reader, callable from libFuzzer and from the corpus replay test
 * (tests/unit/data/test_csv_corpus.c). */
#ifndef FEDVAL_FUZZ_CSV_H
#define FEDVAL_FUZZ_CSV_H

#include <stddef.h>
#include <stdint.h>

/* Run the input through fv_csv_open/fv_csv_next to the end (three option sets), every field
 * through fv_csv_is_na and fv_csv_parse_double, and the whole file through fv_data_read_csv.
 * Returns 0; a bug shows as a crash, a sanitizer report or an abort on a broken invariant. */
int fv_fuzz_csv_one(const uint8_t *data, size_t size);

#endif
