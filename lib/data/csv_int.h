/* fedval CSV reader, internal: what lib/data's own sources may use beyond fedval/data.h. */
#ifndef FEDVAL_DATA_CSV_INT_H
#define FEDVAL_DATA_CSV_INT_H

#include <stdbool.h>

#include "fedval/data.h"

/* The common case of fv_csv_is_na + fv_csv_parse_double in one call: true with *out when
 * field is a plain decimal (no blanks, at most 19 significant digits, exponent within the exact
 * fast path) that is not an NA token; *out is then what fv_csv_parse_double gives. false
 * says nothing about the field: the caller asks those two functions. */
bool fv_csv_try_number(const struct fv_csv *c, const char *field, double *out);

#endif
