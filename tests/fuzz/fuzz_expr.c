/* fedval fuzz target: the mapping-expression language (lib/data/expr.c): fv_expr_parse against
 * fixed column and variable names, then fv_expr_eval on one record, fv_expr_mark and, for a
 * refused expression, fv_expr_caret at the reported position.
 *
 * Input: "<expression>\0<field 0>\0<field 1>\0..."; fields beyond those given are SQL NULLs.
 * Fields "" and "NA" are missing-value tokens; numbers are read as the SQL sources read them.
 *
 * Build and run with libFuzzer (clang), from the repository root:
 *   clang -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
 *         -Iinclude -Ilib -Itests tests/fuzz/fuzz_expr.c lib/data/[a-z]*.c \
 *         lib/crypto/[a-z]*.c lib/util/[a-z]*.c -I/usr/include/postgresql \
 *         -lsqlite3 -lpq -ljansson -lcrypto -linih -lm -lpthread -o /tmp/fuzz_expr
 *   mkdir -p /tmp/expr-corpus
 *   /tmp/fuzz_expr -max_len=2048 -max_total_time=120 -dict=tests/fuzz/expr.dict \
 *         /tmp/expr-corpus tests/fuzz/corpus/expr
 * tests/unit/data/test_expr_corpus.c replays tests/fuzz/corpus/expr on every test run.
 * Define FV_FUZZ_NO_MAIN to compile this file into another program without
 * LLVMFuzzerTestOneInput. */
#include "fuzz/fuzz_expr.h"

#include <math.h>
#include <string.h>

#include "data/expr.h"
#include "data/source_int.h"
#include "fedval/util.h"
#include "fuzz/fuzz_common.h"

enum { FX_NCOLS = 8, FX_NVARS = 3 };

static const char *const fx_cols[FX_NCOLS] = {"a",   "b",   "c",   "Age (years)",
					      "and", "sex", "adm", "dis"};
static const char *const fx_vars[FX_NVARS] = {"age", "sbp", "flag"};

static bool fx_is_na(struct fv_rows *r, const char *f)
{
	(void)r;
	return !strcmp(f, "") || !strcmp(f, "NA");
}

static fv_err fx_parse(struct fv_rows *r, const char *f, double *out, struct fv_diag *d)
{
	(void)r;
	return fv_rows_parse_decimal(f, out, d);
}

static const struct fv_rows_ops fx_ops = {NULL, NULL, fx_is_na, fx_parse, NULL, NULL, NULL, NULL};

/* Variables of a cohort rule: age is 42.5, sbp is missing, flag fails. */
static enum fv_expr_status fx_var(void *ctx, size_t var, double *out, struct fv_expr_fault *f)
{
	(void)ctx;
	FUZZ_CHECK(var < FX_NVARS);
	if (var == 0) {
		*out = 42.5;
		return FV_EXPR_OK;
	}
	memset(f, 0, sizeof(*f));
	f->col = -1;
	f->var = (long)var;
	f->why = var == 1 ? "is missing" : "is not a number";
	return var == 1 ? FV_EXPR_MISSING : FV_EXPR_FAIL;
}

static void fx_check_fault(enum fv_expr_status st, const struct fv_expr_fault *f, size_t len)
{
	if (st == FV_EXPR_OK)
		return;
	FUZZ_CHECK(st == FV_EXPR_MISSING || st == FV_EXPR_FAIL);
	FUZZ_CHECK(f->why != NULL && f->why[0] != '\0');
	FUZZ_CHECK(memchr(f->reason, '\0', sizeof(f->reason)) != NULL);
	FUZZ_CHECK(f->col >= -1 && f->col < FX_NCOLS);
	FUZZ_CHECK(f->var >= -1 && f->var < FX_NVARS);
	FUZZ_CHECK(f->pos <= len);
	if (f->has_num)
		FUZZ_CHECK(!isnan(f->num) || st == FV_EXPR_FAIL);
}

int fv_fuzz_expr_one(const uint8_t *data, size_t size)
{
	char *fields[FX_NCOLS] = {NULL};
	struct fv_rows rows = {&fx_ops, FX_NCOLS, (char **)fx_cols, 0};
	struct fv_expr_names names = {FX_NCOLS, fx_cols, FX_NVARS, fx_vars, "the header"};
	struct fv_expr_env env = {&rows, fields, fx_var, NULL, NULL};
	struct fv_expr *e = NULL;
	struct fv_expr_fault f;
	struct fv_diag d = {{0}};
	uint8_t cols[FX_NCOLS], vars[FX_NVARS];
	char caret[256];
	char *copy;
	const char *src;
	size_t len, pos = (size_t)-1, col;
	double v1 = 0, v2 = 0;
	enum fv_expr_status s1, s2;
	fv_err err;

	/* A NUL-terminated copy: fields are C strings. */
	copy = fv_alloc(size + 1);
	FUZZ_CHECK(copy != NULL);
	memcpy(copy, data, size);
	copy[size] = '\0';
	src = copy;
	len = strlen(copy);
	for (size_t off = len + 1, i = 0; off <= size && i < FX_NCOLS; i++) {
		fields[i] = copy + off;
		off += strlen(copy + off) + 1;
	}
	for (size_t i = 0; i < FX_NCOLS; i++) {
		double days;
		if (fields[i] && fv_expr_parse_date(fields[i], &days))
			FUZZ_CHECK(isfinite(days));
	}

	err = fuzz_check_err(fv_expr_parse(src, len, &names, &e, &pos, &d), &d,
			     FUZZ_ERR(FV_EINVAL) | FUZZ_ERR(FV_ELIMIT));
	fuzz_result(err);
	if (err != FV_OK) {
		FUZZ_CHECK(e == NULL && pos <= len);
		fv_expr_caret(caret, sizeof(caret), src, len, pos);
		FUZZ_CHECK(memchr(caret, '\0', sizeof(caret)) != NULL && strchr(caret, '^'));
		fv_expr_caret(caret, 7, src, len, pos);
		FUZZ_CHECK(strlen(caret) < 7);
		goto out;
	}
	memset(cols, 0, sizeof(cols));
	memset(vars, 0, sizeof(vars));
	fv_expr_mark(e, cols, vars);
	for (size_t i = 0; i < FX_NCOLS; i++)
		FUZZ_CHECK(cols[i] <= 1);
	if (fv_expr_is_column(e, &col))
		FUZZ_CHECK(col < FX_NCOLS && cols[col] == 1);

	s1 = fv_expr_eval(e, &env, &v1, &f);
	fx_check_fault(s1, &f, len);
	if (s1 == FV_EXPR_OK)
		FUZZ_CHECK(isfinite(v1));
	/* Evaluation keeps no state: the same record gives the same outcome. */
	s2 = fv_expr_eval(e, &env, &v2, &f);
	FUZZ_CHECK(s1 == s2 && (s1 != FV_EXPR_OK || v1 == v2));

	/* A record of only SQL NULLs. */
	memset(fields, 0, sizeof(fields));
	s1 = fv_expr_eval(e, &env, &v1, &f);
	fx_check_fault(s1, &f, len);
	if (s1 == FV_EXPR_OK)
		FUZZ_CHECK(isfinite(v1));
out:
	fv_expr_free(e);
	fv_free(copy);
	return 0;
}

#ifndef FV_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fv_fuzz_expr_one(data, size);
}
#endif
