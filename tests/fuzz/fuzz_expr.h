/* fedval fuzz target: the mapping-expression parser and evaluator, callable from libFuzzer and from
 * the corpus replay test (tests/unit/data/test_expr_corpus.c). */
#ifndef FEDVAL_FUZZ_EXPR_H
#define FEDVAL_FUZZ_EXPR_H

#include <stddef.h>
#include <stdint.h>

/* Input "<expression>\0<field 0>\0<field 1>...": parsed against fixed column and variable
 * names, then evaluated on the record (missing fields are SQL NULLs).
 * Returns 0; a bug shows as a crash, a sanitizer report or an abort on a broken invariant. */
int fv_fuzz_expr_one(const uint8_t *data, size_t size);

#endif
