/* Tests of lib/data/expr.c: the grammar and its precedence, every function, every unit
 * conversion against a published factor, missing values, and hostile input refused cleanly.
 * Records come from a fake cursor whose fields are set by each test. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/expr.h"
#include "data/source_int.h"
#include "fedval/util.h"

/* ---- a fake cursor: NA is "" or "NA", numbers as in SQL sources ---- */
static bool fk_is_na(struct fv_rows *r, const char *f)
{
	(void)r;
	return !strcmp(f, "") || !strcmp(f, "NA");
}

static fv_err fk_parse(struct fv_rows *r, const char *f, double *out, struct fv_diag *d)
{
	(void)r;
	return fv_rows_parse_decimal(f, out, d);
}

static const struct fv_rows_ops fk_ops = {NULL, NULL, fk_is_na, fk_parse, NULL, NULL, NULL, NULL};

enum { C_A, C_B, C_NA, C_NULL, C_SEX, C_ADM, C_DIS, C_TXT, C_ODD, C_AND, C_N };
static const char *const cols[C_N] = {"a",   "b",   "na",  "nul",	  "sex",
				      "adm", "dis", "txt", "Age (years)", "and"};
static char *fields[C_N];
static struct fv_rows fk_rows = {&fk_ops, C_N, (char **)cols, 0};
static const struct fv_expr_names names = {C_N, cols, 0, NULL, "the header"};

static void set_record(void)
{
	static char a[] = "6", b[] = "-2", na[] = "NA", sex[] = " F ", adm[] = "2024-02-28",
		    dis[] = "2024-03-01T10:30", txt[] = "high", odd[] = "42", and[] = "1";
	char *f[C_N] = {a, b, na, NULL, sex, adm, dis, txt, odd, and};
	memcpy(fields, f, sizeof(f));
}

/* Parse (must succeed) and evaluate src on the record; *f holds the fault. */
static enum fv_expr_status run_env(const char *src, const struct fv_expr_env *env, double *out,
				   struct fv_expr_fault *f)
{
	struct fv_expr *e = NULL;
	struct fv_diag d = {{0}};
	size_t pos;
	enum fv_expr_status st;

	set_record();
	cr_assert_eq(fv_expr_parse(src, strlen(src), &names, &e, &pos, &d), FV_OK,
		     "'%s': %s at %zu", src, d.msg, pos);
	*out = NAN;
	st = fv_expr_eval(e, env, out, f);
	fv_expr_free(e);
	return st;
}

static enum fv_expr_status run(const char *src, double *out, struct fv_expr_fault *f)
{
	struct fv_expr_env env = {&fk_rows, fields, NULL, NULL, NULL};
	return run_env(src, &env, out, f);
}

static double val(const char *src)
{
	struct fv_expr_fault f;
	double v;
	enum fv_expr_status st = run(src, &v, &f);

	cr_assert_eq(st, FV_EXPR_OK, "'%s': status %d (%s)", src, (int)st, f.why);
	return v;
}

#define EQ(src, want) cr_assert_eq(val(src), (double)(want), "'%s' = %.17g", src, val(src))
#define NEAR(src, want, tol)                                                                       \
	cr_assert(fabs(val(src) - (want)) <= (tol), "'%s' = %.17g, want %.17g", src, val(src),     \
		  (double)(want))

/* Evaluation must fail with status st and a fault whose why contains needle. */
static void eval_fails(const char *src, enum fv_expr_status st, const char *needle, long col)
{
	struct fv_expr_fault f;
	double v;
	enum fv_expr_status got = run(src, &v, &f);

	cr_assert_eq(got, st, "'%s': status %d, want %d", src, (int)got, (int)st);
	cr_assert_not_null(strstr(f.why, needle), "'%s': '%s' lacks '%s'", src, f.why, needle);
	cr_assert_eq(f.col, col, "'%s': column %ld", src, f.col);
}

/* Parsing src (len bytes) must fail with code e, at byte pos (or any if pos < 0), with needle
 * in the message. */
static void parse_fails_n(const char *src, size_t len, fv_err want, long pos, const char *needle)
{
	struct fv_expr *e = (struct fv_expr *)1;
	struct fv_diag d = {{0}};
	size_t at = 999999;
	fv_err got = fv_expr_parse(src, len, &names, &e, &at, &d);

	cr_assert_eq(got, want, "'%.60s': %s (%s)", src, fv_strerror(got), d.msg);
	cr_assert_null(e);
	if (pos >= 0)
		cr_assert_eq(at, (size_t)pos, "'%.60s': position %zu, want %ld (%s)", src, at, pos,
			     d.msg);
	if (needle)
		cr_assert_not_null(strstr(d.msg, needle), "'%.60s': '%s' lacks '%s'", src, d.msg,
				   needle);
}

static void parse_fails(const char *src, fv_err want, long pos, const char *needle)
{
	parse_fails_n(src, strlen(src), want, pos, needle);
}

Test(expr, numbers_and_precedence)
{
	EQ("42", 42);
	EQ("1.5e3", 1500);
	EQ(".25", 0.25);
	EQ("1 + 2 * 3", 7);
	EQ("(1 + 2) * 3", 9);
	EQ("2 - 3 - 4", -5); /* left-associative */
	EQ("8 / 4 / 2", 1);
	EQ("-2 * 3", -6);
	EQ("2 * -3", -6);
	EQ("1 - -1", 2);
	EQ("- - 2", 2);
	EQ("-a + b", -8);
	EQ("a * b / 4", -3);
	EQ("1 + 2 < 4", 1); /* arithmetic before comparison */
	EQ("1 < 2 and 3 < 2", 0);
	EQ("1 or 0 and 0", 1); /* and before or */
	EQ("(1 or 0) and 0", 0);
	EQ("not 1 < 2", 0); /* not applies to the comparison */
	EQ("not 0 and 0", 0);
	EQ("not not 5", 1);
	EQ("3 and 4", 1); /* any non-zero is true; results are 0/1 */
}

Test(expr, comparisons)
{
	EQ("a < 6", 0);
	EQ("a <= 6", 1);
	EQ("a > 5.999", 1);
	EQ("a >= 7", 0);
	EQ("a == 6", 1);
	EQ("a != 6", 0);
	EQ("b == -2", 1);
	parse_fails("1 < 2 < 3", FV_EINVAL, 6, "do not chain");
	parse_fails("a = 1", FV_EINVAL, 2, "'=='");
	parse_fails("a && b", FV_EINVAL, 2, "'and'");
	parse_fails("a || b", FV_EINVAL, 2, "'or'");
	parse_fails("!a", FV_EINVAL, 0, "'not'");
}

Test(expr, names)
{
	EQ("`Age (years)`", 42);
	EQ("`Age (years)` / 2", 21);
	EQ("`and` + 1", 2); /* a reserved word as a column, in backticks */
	EQ("`a` * a", 36);
	parse_fails("and + 1", FV_EINVAL, 0, "reserved");
	parse_fails("weight / 2", FV_EINVAL, 0, "column 'weight' is not in the header");
	parse_fails("a + \"b\"", FV_EINVAL, 4, "backticks");
	parse_fails("`a", FV_EINVAL, 0, "not closed");
	parse_fails("``", FV_EINVAL, 0, "empty");
	parse_fails("foo(1)", FV_EINVAL, 0, "unknown function 'foo'");
}

Test(expr, functions)
{
	NEAR("log(exp(1))", 1, 1e-15);
	NEAR("log(a)", log(6), 0);
	EQ("exp(0)", 1);
	EQ("sqrt(16)", 4);
	EQ("abs(b)", 2);
	EQ("abs(-0.5)", 0.5);
	EQ("min(3, a, 2)", 2);
	EQ("max(3, a, 2)", 6);
	EQ("min(b, 1)", -2);
	EQ("round(2.5)", 3); /* half away from zero */
	EQ("round(-2.5)", -3);
	EQ("round(2.4)", 2);
	NEAR("round(1.23456, 2)", 1.23, 1e-15);
	EQ("if(a > 5, 10, 20)", 10);
	EQ("if(0, 10, 20)", 20);
	EQ("if(0, 1 / 0, 3)", 3);  /* the branch not taken is not evaluated */
	EQ("if(1, 3, log(0))", 3); /* ... on either side */
	EQ("isna(na)", 1);
	EQ("isna(nul)", 1); /* SQL NULL */
	EQ("isna(a)", 0);
	EQ("isna(a + na)", 1); /* missing anywhere inside */
	EQ("isna(na) or na > 3", 1);
	EQ("not isna(na) and na > 3", 0);
	parse_fails("min(1)", FV_EINVAL, -1, "at least 2");
	parse_fails("log(1, 2)", FV_EINVAL, -1, "takes 1 argument");
	parse_fails("if(1, 2)", FV_EINVAL, -1, "','");
	parse_fails("round(1, 1.5)", FV_EINVAL, 9, "whole number");
	parse_fails("round(1, 16)", FV_EINVAL, 9, "0 to 15");
}

Test(expr, recode)
{
	EQ("recode(sex, \"M\" = 1, \"F\" = 0)", 0); /* blanks around the value ignored */
	EQ("recode(sex, 'M' = 1, 'F' = 2)", 2);
	EQ("recode(sex, \"m\" = 1, \"f\" = 0, else = -1)", -1); /* case-sensitive */
	EQ("recode(a, 5 = 50, 6 = 60)", 60);			/* numeric cases */
	EQ("recode(a, \"6.0\" = 1, 6 = 2)", 2);			/* text "6" is not "6.0" */
	EQ("recode(b, -2 = 7)", 7);
	EQ("recode(txt, 1 = 1, else = 9)", 9); /* text never equals a numeric case */
	EQ("recode(`Age (years)`, \"42\" = 1)", 1);
	EQ("isna(recode(na, \"x\" = 1))", 1); /* missing stays missing: else does not catch it */
	eval_fails("recode(sex, \"M\" = 1)", FV_EXPR_FAIL, "matches no case", C_SEX);
	eval_fails("recode(na, \"M\" = 1, else = 0)", FV_EXPR_MISSING, "missing", C_NA);
	parse_fails("recode(sex, \"M\" = 1, \"M\" = 2)", FV_EINVAL, 21, "twice");
	parse_fails("recode(a, 1 = 1, 1.0 = 2)", FV_EINVAL, 17, "twice");
	parse_fails("recode(sex, else = 1, \"M\" = 2)", FV_EINVAL, -1, "last");
	parse_fails("recode(sex)", FV_EINVAL, -1, "at least one case");
	parse_fails("recode(sex, \"M\" = a)", FV_EINVAL, -1, "expected a number");
	parse_fails("recode(1 + a, 1 = 2)", FV_EINVAL, 7, "column");
	parse_fails("recode(zz, 1 = 2)", FV_EINVAL, 7, "'zz' is not in the header");
}

Test(expr, dates)
{
	double d;

	EQ("date(\"1970-01-01\")", 0);
	EQ("date(\"1970-01-02\")", 1);
	EQ("date(\"1969-12-31\")", -1);
	/* 2000-03-01: 30 years of 365 days + 7 leap days (1972..1996) + Jan-Feb 2000 (31 + 29);
	 * 2000-01-01 is Unix time 946684800 = 10957 days. */
	EQ("date(\"2000-03-01\")", 30 * 365 + 7 + 60);
	EQ("date(adm)", 19781); /* 2024-02-28; Python: date(2024,2,28).toordinal() - 719163 */
	EQ("date(dis)", 19783); /* the time of day is ignored */
	EQ("days_between(adm, dis)", 2); /* 2024 is a leap year */
	EQ("days_between(\"2023-02-28\", \"2023-03-01\")", 1);
	EQ("days_between(date(adm), date(adm) + 7)", 7);
	EQ("days_between(adm, \"2024-02-01\")", -27);
	EQ("date(adm) >= date(\"2024-01-01\") and date(adm) < date(\"2025-01-01\")", 1);
	eval_fails("date(txt)", FV_EXPR_FAIL, "not a date", C_TXT);
	eval_fails("date(na)", FV_EXPR_MISSING, "missing", C_NA);
	parse_fails("date(\"2023-02-29\")", FV_EINVAL, 5, "not a date");
	parse_fails("date(a + 1)", FV_EINVAL, -1, NULL);
	cr_assert(fv_expr_parse_date(" 2024-02-29 ", &d));
	cr_assert(fv_expr_parse_date("2024-02-29 23:59:60.5", &d));
	cr_assert(fv_expr_parse_date("9999-12-31", &d));
	cr_assert(fv_expr_parse_date("0001-01-01", &d));
	cr_assert_eq(d, -719162); /* Python: date(1,1,1).toordinal() - 719163 */
	cr_assert_not(fv_expr_parse_date("1900-02-29", &d));
	cr_assert(fv_expr_parse_date("2000-02-29", &d));
	cr_assert_not(fv_expr_parse_date("2024-13-01", &d));
	cr_assert_not(fv_expr_parse_date("2024-04-31", &d));
	cr_assert_not(fv_expr_parse_date("0000-01-01", &d));
	cr_assert_not(fv_expr_parse_date("2024-1-01", &d));
	cr_assert_not(fv_expr_parse_date("24-01-01", &d));
	cr_assert_not(fv_expr_parse_date("2024-01-01Z", &d));
	cr_assert_not(fv_expr_parse_date("2024-01-01T25:00", &d));
	cr_assert_not(fv_expr_parse_date("2024-01-01T10", &d));
	cr_assert_not(fv_expr_parse_date("01/02/2024", &d));
	cr_assert_not(fv_expr_parse_date("", &d));
}

/* Each factor against the published one it must reproduce (see the table in expr.c). */
Test(expr, unit_conversions)
{
	/* Glucose, 180.16 g/mol: 1 mmol/L = 18.016 mg/dL (Young 1987; AMA SI table: mg/dL x
	 * 0.0555 = mmol/L). */
	NEAR("convert(18.016, \"mg/dL\", \"mmol/L\", \"glucose\")", 1, 1e-12);
	NEAR("convert(1, \"mmol/L\", \"mg/dL\", \"glucose\")", 18.016, 1e-12);
	NEAR("convert(100, \"mg/dl\", \"mmol/l\", \"Glucose\")", 5.5506, 1e-4);
	/* Creatinine, 113.12 g/mol: 1 mg/dL = 88.4 umol/L (KDIGO 2012 CKD guideline, units note:
	 * "88.4"; Young 1987). */
	NEAR("convert(1, \"mg/dL\", \"umol/L\", \"creatinine\")", 88.4, 0.01);
	NEAR("convert(1, \"mg/dL\", \"\xc2\xb5mol/L\", \"creatinine\")", 88.4, 0.01);
	NEAR("convert(1, \"mg/dL\", \"\xce\xbcmol/L\", \"creatinine\")", 88.4, 0.01);
	NEAR("convert(88.4, \"umol/L\", \"mg/dL\", \"creatinine\")", 1, 1e-3);
	/* Cholesterol, 386.65 g/mol: 1 mmol/L = 38.67 mg/dL (AMA SI table: mg/dL x 0.0259). */
	NEAR("convert(1, \"mmol/L\", \"mg/dL\", \"cholesterol\")", 38.67, 0.006);
	NEAR("convert(200, \"mg/dL\", \"mmol/L\", \"cholesterol\")", 200 * 0.02586, 1e-3);
	/* Triglycerides as triolein: 1 mmol/L = 88.5 mg/dL (AMA SI table: mg/dL x 0.0113). */
	NEAR("convert(1, \"mmol/L\", \"mg/dL\", \"triglycerides\")", 88.5, 0.1);
	/* Haemoglobin (monomer, 16 114.5 g/mol): g/dL x 0.6206 = mmol/L (Young 1987; the Dutch
	 * convention, NHG). g/dL x 10 = g/L by definition. */
	NEAR("convert(1, \"g/dL\", \"mmol/L\", \"haemoglobin\")", 0.6206, 5e-5);
	NEAR("convert(8.7, \"mmol/L\", \"g/dL\", \"hemoglobin\")", 8.7 / 0.6206, 0.002);
	EQ("convert(13.5, \"g/dL\", \"g/L\")", 135);
	NEAR("convert(135, \"g/L\", \"g/dL\", \"haemoglobin\")", 13.5, 1e-12);
	/* BNP and NT-proBNP: pg/mL and ng/L are the same quantity (1 pg/mL = 1e-9 g/L). */
	NEAR("convert(450, \"pg/mL\", \"ng/L\", \"nt-probnp\")", 450, 1e-9);
	NEAR("convert(450, \"pg/mL\", \"ng/L\", \"bnp\")", 450, 1e-9);
	NEAR("convert(1, \"ng/mL\", \"pg/mL\")", 1000, 1e-9);
	/* Temperature: degC = (degF - 32) x 5/9, K = degC + 273.15 (NIST SP 811, B.8). */
	NEAR("convert(98.6, \"F\", \"C\")", 37, 1e-12);
	NEAR("convert(-40, \"\xc2\xb0"
	     "F\", \"degC\")",
	     -40, 1e-12);
	NEAR("convert(100, \"C\", \"F\")", 212, 1e-12);
	NEAR("convert(0, \"C\", \"K\")", 273.15, 1e-12);
	/* Mass: 1 lb = 0.45359237 kg exactly (1959 agreement). */
	NEAR("convert(1, \"lb\", \"kg\")", 0.45359237, 1e-15);
	NEAR("convert(100, \"kg\", \"lb\")", 220.46226218, 1e-8);
	EQ("convert(2500, \"g\", \"kg\")", 2.5);
	/* Length: 1 in = 2.54 cm exactly (1959 agreement). */
	NEAR("convert(1, \"in\", \"cm\")", 2.54, 1e-13);
	NEAR("convert(6, \"ft\", \"cm\")", 182.88, 1e-12);
	NEAR("convert(175, \"cm\", \"m\")", 1.75, 1e-15);
	/* On a column, inside arithmetic: BMI from pounds (a * 30 = 180) and inches (a * 11 = 66).
	 */
	NEAR("convert(a * 30, \"lb\", \"kg\") / (convert(a * 11, \"in\", \"m\") * "
	     "convert(a * 11, \"in\", \"m\"))",
	     180 * 0.45359237 / (66 * 0.0254 * 66 * 0.0254), 1e-12);
}

Test(expr, unit_errors)
{
	parse_fails("convert(a, \"mg/dL\", \"mmol/L\")", FV_EINVAL, 0, "needs the analyte");
	parse_fails("convert(a, \"mg/dL\", \"mmol/L\", \"unobtainium\")", FV_EINVAL, 30,
		    "unknown analyte");
	parse_fails("convert(a, \"pg/mL\", \"pmol/L\", \"bnp\")", FV_EINVAL, 0, "no molar mass");
	parse_fails("convert(a, \"mg/dL\", \"kg\")", FV_EINVAL, 0, "cannot convert");
	parse_fails("convert(a, \"F\", \"cm\")", FV_EINVAL, 0, "a temperature to a length");
	parse_fails("convert(a, \"furlong\", \"cm\")", FV_EINVAL, 11, "unknown unit 'furlong'");
	parse_fails("convert(a, \"MG/DL\", \"g/L\")", FV_EINVAL, 11, "unknown unit");
	parse_fails("convert(a, mg, \"g/L\")", FV_EINVAL, 11, "in quotes");
	parse_fails("convert(a, \"g/L\")", FV_EINVAL, -1, "unit");
}

Test(expr, evaluation_errors)
{
	struct fv_expr_fault f;
	double v;

	eval_fails("a / (b + 2)", FV_EXPR_FAIL, "division by zero", -1);
	eval_fails("log(b)", FV_EXPR_FAIL, "> 0", -1);
	eval_fails("log(0)", FV_EXPR_FAIL, "> 0", -1);
	eval_fails("sqrt(b)", FV_EXPR_FAIL, ">= 0", -1);
	eval_fails("exp(1000)", FV_EXPR_FAIL, "not finite", -1);
	eval_fails("1e308 * 10", FV_EXPR_FAIL, "not finite", -1);
	eval_fails("-1e308 - 1e308", FV_EXPR_FAIL, "not finite", -1);
	eval_fails("txt + 1", FV_EXPR_FAIL, "is", C_TXT);
	eval_fails("a + na", FV_EXPR_MISSING, "missing", C_NA);
	eval_fails("nul * 2", FV_EXPR_MISSING, "missing", C_NULL);
	eval_fails("isna(txt + 1)", FV_EXPR_FAIL, "is", C_TXT); /* bad is not missing */
	EQ("isna(txt)", 0); /* a column is asked, not read as a number */
	EQ("isna(sex)", 0);
	/* The fault says where and what. */
	cr_assert_eq(run("1 + log(b)", &v, &f), FV_EXPR_FAIL);
	cr_assert_eq(f.pos, 4);
	cr_assert(f.has_num);
	cr_assert_eq(f.num, -2);
	cr_assert_eq(run("a + txt", &v, &f), FV_EXPR_FAIL);
	cr_assert_str_eq(f.value, "high");
	cr_assert_str_eq(f.reason, "not a number");
	cr_assert_eq(f.pos, 4);
}

/* A cohort rule reads variables through the environment's callback. */
static enum fv_expr_status fake_var(void *ctx, size_t i, double *out, struct fv_expr_fault *f)
{
	int *calls = ctx;
	calls[i]++;
	if (i == 1) {
		f->why = "is missing";
		f->var = 1;
		f->col = -1;
		return FV_EXPR_MISSING;
	}
	*out = 10.0 * (double)(i + 1);
	return FV_EXPR_OK;
}

Test(expr, variables_of_a_cohort_rule)
{
	static const char *const vars[] = {"age", "sbp", "a"};
	struct fv_expr_names vn = {C_N, cols, 3, vars, "the header"};
	int calls[3] = {0};
	struct fv_expr_env env = {&fk_rows, fields, fake_var, calls, NULL};
	struct fv_expr *e = NULL;
	struct fv_diag d;
	struct fv_expr_fault f;
	uint8_t cm[C_N] = {0}, vm[3] = {0};
	size_t pos;
	double v;
	const char *src = "age >= 10 and (isna(sbp) or sbp > 3) and a == 30 and b < 0";

	set_record();
	cr_assert_eq(fv_expr_parse(src, strlen(src), &vn, &e, &pos, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(fv_expr_eval(e, &env, &v, &f), FV_EXPR_OK);
	cr_assert_eq(v, 1);
	cr_assert_eq(calls[0], 1);
	cr_assert_eq(calls[2], 1); /* 'a' is the variable, not the column of that name */
	fv_expr_mark(e, cm, vm);
	cr_assert(vm[0] && vm[1] && vm[2]);
	cr_assert(cm[C_B] && !cm[C_A]);
	fv_expr_free(e);
	/* Short-circuit: the right side of a false 'and' is never asked for. */
	calls[1] = 0;
	src = "age > 100 and sbp > 3";
	cr_assert_eq(fv_expr_parse(src, strlen(src), &vn, &e, &pos, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(fv_expr_eval(e, &env, &v, &f), FV_EXPR_OK);
	cr_assert_eq(v, 0);
	cr_assert_eq(calls[1], 0);
	fv_expr_free(e);
	/* Without the guard the missing variable is reported as such. */
	src = "sbp > 3";
	cr_assert_eq(fv_expr_parse(src, strlen(src), &vn, &e, &pos, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(fv_expr_eval(e, &env, &v, &f), FV_EXPR_MISSING);
	cr_assert_eq(f.var, 1);
	fv_expr_free(e);
	parse_fails_n("zz > 1", 6, FV_EINVAL, 0, NULL);
	cr_assert_eq(fv_expr_parse("zz > 1", 6, &vn, &e, &pos, &d), FV_EINVAL);
	cr_assert_not_null(strstr(d.msg, "neither a benchmark variable nor a column"), "%s", d.msg);
}

Test(expr, syntax_errors_point_at_the_place)
{
	parse_fails("", FV_EINVAL, 0, "empty");
	parse_fails("   ", FV_EINVAL, 0, "empty");
	parse_fails("a +", FV_EINVAL, 3, "ends too early");
	parse_fails("(a + 1", FV_EINVAL, 6, "')'");
	parse_fails("a + 1)", FV_EINVAL, 5, "unbalanced");
	parse_fails("a b", FV_EINVAL, 2, "operator");
	parse_fails("a + $", FV_EINVAL, 4, "'$'");
	parse_fails("2x", FV_EINVAL, 1, "after a number");
	parse_fails("1.2.3", FV_EINVAL, 3, "after a number");
	parse_fails("1e+", FV_EINVAL, 0, "exponent");
	parse_fails("a ^ 2", FV_EINVAL, 2, "'^'");
	parse_fails("convert(a, \"mg/dL\", \"mmol/L\", \"glucose\"", FV_EINVAL, 39, "')'");
	parse_fails("recode(sex, \"M\" = 1", FV_EINVAL, 19, "')'");
	parse_fails("recode(sex, \"M\" 1)", FV_EINVAL, 16, "'='");
}

Test(expr, caret_line)
{
	char buf[256], want[256];
	const char *src = "convert(glu, \"mg/dL\", \"mmol\")";

	fv_expr_caret(buf, sizeof(buf), src, strlen(src), 22);
	snprintf(want, sizeof(want), "  %s\n  %*s^", src, 22, "");
	cr_assert_str_eq(buf, want);
	/* Under UTF-8 the caret counts characters: 8 of them (10 bytes) before the x. */
	src = "`\xc3\xa2ge` + x";
	fv_expr_caret(buf, sizeof(buf), src, strlen(src), 9);
	snprintf(want, sizeof(want), "  %s\n  %*s^", src, 8, "");
	cr_assert_str_eq(buf, want);
	/* A long expression is cut to a window around the place; control bytes shown as '?'. */
	{
		char longsrc[400];
		memset(longsrc, 'a', sizeof(longsrc));
		longsrc[300] = '\x01';
		fv_expr_caret(buf, sizeof(buf), longsrc, sizeof(longsrc), 300);
		cr_assert(strlen(buf) < 200, "%s", buf);
		cr_assert_not_null(strstr(buf, "  ..."));
		cr_assert_not_null(strstr(buf, "?"));
		cr_assert_eq(strchr(buf, '?') - buf, strchr(buf, '^') - (strchr(buf, '\n') + 1),
			     "%s", buf);
	}
	/* A tiny buffer is never overrun. */
	fv_expr_caret(buf, 5, src, strlen(src), 3);
	cr_assert_eq(strlen(buf), 4);
}

/* ---- hostile input ---- */
static char *repeat(const char *pre, size_t n, const char *mid, const char *post)
{
	size_t lp = strlen(pre), lm = strlen(mid), lq = strlen(post);
	char *s = malloc(lp * n + lm + lq * n + 1), *o = s;

	cr_assert_not_null(s);
	for (size_t i = 0; i < n; i++, o += lp)
		memcpy(o, pre, lp);
	memcpy(o, mid, lm);
	o += lm;
	for (size_t i = 0; i < n; i++, o += lq)
		memcpy(o, post, lq);
	*o = '\0';
	return s;
}

Test(expr, hostile_nesting_and_size)
{
	char *s;

	/* Just inside the limit, then just outside. */
	s = repeat("(", FV_EXPR_MAX_DEPTH - 2, "1", ")");
	EQ(s, 1);
	free(s);
	s = repeat("(", 1000, "1", ")");
	parse_fails(s, FV_ELIMIT, -1, "deep");
	free(s);
	s = repeat("-", 200, "1", "");
	parse_fails(s, FV_ELIMIT, -1, "deep");
	free(s);
	s = repeat("not ", 200, "1", "");
	parse_fails(s, FV_ELIMIT, -1, "deep");
	free(s);
	s = repeat("abs(", 200, "1", ")");
	parse_fails(s, FV_ELIMIT, -1, "deep");
	free(s);
	/* A flat chain makes a deep tree, which is refused too (the evaluator recurses). */
	s = repeat("1+", 40, "1", "");
	EQ(s, 41);
	free(s);
	s = repeat("1+", 200, "1", "");
	parse_fails(s, FV_ELIMIT, -1, "deep");
	free(s);
	/* Too long. */
	s = repeat(" ", FV_EXPR_MAX_LEN, "1", "");
	parse_fails(s, FV_ELIMIT, -1, "longer than");
	free(s);
	/* Too many parts: max() of max()es, each within the argument limit. */
	{
		char *inner = repeat("1,", 100, "1", ""), *big;
		size_t n = 12, cap = n * (strlen(inner) + 8) + 16, len = 0;
		big = malloc(cap);
		cr_assert_not_null(big);
		len += (size_t)snprintf(big, cap, "max(");
		for (size_t i = 0; i < n; i++)
			len += (size_t)snprintf(big + len, cap - len, "%smax(%s)", i ? "," : "",
						inner);
		snprintf(big + len, cap - len, ")");
		parse_fails(big, FV_ELIMIT, -1, "more than 1024 parts");
		free(big);
		free(inner);
	}
	s = repeat("1,", FV_EXPR_MAX_ARGS, "1", "");
	{
		size_t cap = strlen(s) + 8;
		char *call = malloc(cap);
		cr_assert_not_null(call);
		snprintf(call, cap, "min(%s)", s);
		parse_fails(call, FV_ELIMIT, -1, "arguments");
		free(call);
	}
	free(s);
}

Test(expr, hostile_tokens)
{
	char name[FV_EXPR_MAX_NAME + 8];

	parse_fails("1e999", FV_EINVAL, 0, "out of range");
	parse_fails("-1e999", FV_EINVAL, 1, "out of range");
	EQ("1e-999", 0); /* underflow to zero is harmless */
	parse_fails("1000000000000000000000000000000000000000000000000000000000000000000000",
		    FV_ELIMIT, 0, "longer than");
	EQ("179769313486231570000000000000000000000000000000000000000000 * 0", 0);
	memset(name, 'n', sizeof(name));
	name[FV_EXPR_MAX_NAME + 1] = '\0';
	parse_fails(name, FV_ELIMIT, 0, "name longer");
	name[0] = '`';
	name[FV_EXPR_MAX_NAME + 1] = 'n';
	name[FV_EXPR_MAX_NAME + 2] = '`';
	name[FV_EXPR_MAX_NAME + 3] = '\0';
	parse_fails(name, FV_ELIMIT, 0, "name longer");
	name[0] = '"';
	name[FV_EXPR_MAX_NAME + 2] = '"';
	{
		char call[sizeof(name) + 32];
		snprintf(call, sizeof(call), "recode(sex, %s = 1)", name);
		parse_fails(call, FV_ELIMIT, 12, "text longer");
	}
	/* NUL bytes inside the given length are refused, not silently cut. */
	parse_fails_n("a\0+1", 4, FV_EINVAL, 1, "NUL");
	parse_fails_n("`a\0`", 4, FV_EINVAL, 2, "control");
	parse_fails_n("recode(sex, \"M\0\" = 1)", 20, FV_EINVAL, 14, "control");
	parse_fails("a +\x01 1", FV_EINVAL, 3, "control");
	parse_fails("a \x7f", FV_EINVAL, 2, "control");
	parse_fails("a + \xff", FV_EINVAL, 4, "column '\xff'"); /* a name, but no such column */
	parse_fails("\"unterminated", FV_EINVAL, 0, "not closed");
}

/* Blanks of every kind separate tokens. */
Test(expr, blanks)
{
	EQ("a\n+\tb\r", 4);
	EQ("  max ( a ,b )  ", 6);
}

/* Random token soup: every input either parses or is refused with a message; none crashes,
 * leaks or reads out of bounds (run under ASan in CI). */
Test(expr, random_token_soup)
{
	static const char *const toks[] = {"a",
					   "b",
					   "na",
					   "sex",
					   "1",
					   "2.5",
					   "1e300",
					   "(",
					   ")",
					   ",",
					   "+",
					   "-",
					   "*",
					   "/",
					   "<",
					   "==",
					   "and",
					   "or",
					   "not",
					   "if(",
					   "min(",
					   "log(",
					   "recode(",
					   "\"M\"",
					   "=",
					   "else",
					   "date(",
					   "\"2020-01-01\"",
					   "convert(",
					   "\"mg/dL\"",
					   "\"mmol/L\"",
					   "\"glucose\"",
					   "isna(",
					   "days_between(",
					   "`Age (years)`",
					   "round(",
					   "`",
					   "\"",
					   " "};
	uint64_t x = 0x9e3779b97f4a7c15ull;
	size_t ok = 0;

	set_record();
	for (int it = 0; it < 20000; it++) {
		char src[512];
		size_t len = 0, n;
		struct fv_expr *e = NULL;
		struct fv_diag d = {{0}};
		size_t pos = 0;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		n = 1 + x % 24;
		for (size_t i = 0; i < n; i++) {
			const char *t;
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			t = toks[x % (sizeof(toks) / sizeof(toks[0]))];
			if (len + strlen(t) + 1 >= sizeof(src))
				break;
			memcpy(src + len, t, strlen(t));
			len += strlen(t);
		}
		src[len] = '\0';
		if (fv_expr_parse(src, len, &names, &e, &pos, &d) == FV_OK) {
			struct fv_expr_env env = {&fk_rows, fields, NULL, NULL, NULL};
			struct fv_expr_fault f;
			double v;
			enum fv_expr_status st = fv_expr_eval(e, &env, &v, &f);
			cr_assert(st == FV_EXPR_OK ? isfinite(v) : f.why != NULL, "%s", src);
			fv_expr_free(e);
			ok++;
		} else {
			cr_assert_null(e);
			cr_assert(d.msg[0] != '\0', "%s", src);
			cr_assert(pos <= len, "%s: %zu", src, pos);
		}
	}
	cr_assert(ok > 100, "only %zu parsed", ok);
}

Test(expr, alloc_failure)
{
	const char *src = "recode(sex, \"M\" = 1, else = 0) + min(a, b, 3)";
	long k;

	for (k = 1; k < 16; k++) {
		struct fv_expr *e = NULL;
		struct fv_diag d;
		size_t pos;
		fv_err err;
		fv_alloc_fail_after(k);
		err = fv_expr_parse(src, strlen(src), &names, &e, &pos, &d);
		fv_alloc_fail_after(0);
		if (err == FV_OK) {
			fv_expr_free(e);
			break;
		}
		cr_assert_eq(err, FV_ENOMEM, "k=%ld: %s", k, d.msg);
		cr_assert_null(e);
	}
	cr_assert(k > 1 && k < 16);
}
