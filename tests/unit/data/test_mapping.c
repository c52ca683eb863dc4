/* Tests of the mapping layer of lib/data/source.c through the public API: variables and labels
 * given as columns or expressions, unit conversion, recoding, the cohort rule and its count,
 * and the messages that name the variable, the record and the value. CSV and SQLite files are
 * written to a scratch directory. */
#include <criterion/criterion.h>
#include <math.h>
#include <sqlite3.h>
#include <string.h>

#include "fedval/data.h"
#include "fedval/util.h"
#include "unit/data/data_test.h"

#define MAXR 64

struct got {
	size_t n;
	float x[MAXR * 4];
	uint8_t y[MAXR];
	uint64_t excluded;
};

/* Open spec with (vars, values, label[, cohort]) and read everything in batches of 3. */
static fv_err read_all(const struct fv_source_spec *spec, size_t nvars, const char *const *vars,
		       const char *const *values, const char *label, const char *cohort,
		       struct got *g, struct fv_diag *d)
{
	struct fv_mapping m = {nvars, vars, values, label};
	struct fv_source *s = NULL;
	size_t got;
	fv_err e;

	memset(g, 0, sizeof(*g));
	memset(d, 0, sizeof(*d));
	if ((e = fv_source_open(spec, &m, &s, d)) != FV_OK)
		return e;
	if (cohort && (e = fv_source_set_cohort(s, cohort, d)) != FV_OK)
		goto out;
	do {
		cr_assert(g->n + 3 <= MAXR);
		if ((e = fv_source_read(s, g->x + g->n * nvars, g->y + g->n, 3, &got, d)) != FV_OK)
			goto out;
		g->n += got;
	} while (got);
	g->excluded = fv_source_excluded(s);
	cr_assert_eq(fv_source_records(s), g->n);
out:
	fv_source_close(s);
	return e;
}

static struct fv_source_spec csv_spec(const char *text)
{
	struct fv_source_spec sp = {.kind = FV_SOURCE_CSV};
	sp.path = strdup(dt_write_str(text)); /* the caller frees it */
	return sp;
}

static void expect_msg(const struct fv_diag *d, const char *n1, const char *n2, const char *n3)
{
	const char *n[] = {n1, n2, n3};
	for (int i = 0; i < 3; i++)
		if (n[i])
			cr_assert_not_null(strstr(d->msg, n[i]), "'%s' not in '%s'", n[i], d->msg);
}

static const char *hf_csv = "id,AGE_MONTHS,sex,glucose_mg_dl,temp_f,adm,outcome,Weight (lb)\n"
			    "1,600,M,90.08,98.6,2021-12-31,no,150\n"
			    "2,240,F,180.16,100.4,2022-01-05,yes,120\n"
			    "3,120,F,72.064,97.7,2022-03-01,no,80\n"
			    "4,900,M,NA,99.5,2022-06-30,yes,200\n"
			    "5,720,F,126.112,98.6,2023-01-02,no,170\n";

Test(mapping, renamed_columns_and_plain_names)
{
	static const char *const vars[] = {"age", "weight"};
	static const char *const vals[] = {"AGE_MONTHS", "Weight (lb)"}; /* a name, unquoted */
	struct fv_source_spec sp = csv_spec("AGE_MONTHS,Weight (lb),y\n1,2,0\n3,4.5,1\n");
	struct got g;
	struct fv_diag d;

	cr_assert_eq(read_all(&sp, 2, vars, vals, "y", NULL, &g, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(g.n, 2);
	cr_assert_eq(g.x[0], 1);
	cr_assert_eq(g.x[1], 2);
	cr_assert_eq(g.x[3], 4.5f);
	cr_assert_eq(g.y[1], 1);
	cr_assert_eq(g.excluded, 0);
	free((void *)sp.path);
}

Test(mapping, expressions_conversion_and_recode)
{
	static const char *const vars[] = {"age", "glucose", "sex", "temp"};
	static const char *const vals[] = {
	    "AGE_MONTHS / 12",
	    /* Glucose 180.16 g/mol: 18.016 mg/dL = 1 mmol/L. */
	    "convert(glucose_mg_dl, \"mg/dL\", \"mmol/L\", \"glucose\")",
	    "recode(sex, \"M\" = 1, \"F\" = 0)",
	    "round(convert(temp_f, \"F\", \"C\"), 1)",
	};
	struct fv_source_spec sp = csv_spec(hf_csv);
	struct got g;
	struct fv_diag d;

	/* Record 4's glucose is missing: leave it out with the cohort rule. */
	cr_assert_eq(read_all(&sp, 4, vars, vals, "recode(outcome, \"yes\" = 1, \"no\" = 0)",
			      "not isna(glucose)", &g, &d),
		     FV_OK, "%s", d.msg);
	cr_assert_eq(g.n, 4);
	cr_assert_eq(g.excluded, 1);
	cr_assert_float_eq(g.x[0], 50, 1e-6);
	cr_assert_float_eq(g.x[1], 5, 1e-6);
	cr_assert_float_eq(g.x[2], 1, 0);
	cr_assert_float_eq(g.x[3], 37, 1e-6);
	cr_assert_float_eq(g.x[4 + 1], 10, 1e-6);
	cr_assert_float_eq(g.x[4 + 2], 0, 0);
	cr_assert_float_eq(g.x[4 + 3], 38, 1e-6);
	cr_assert_float_eq(g.x[8 + 1], 4, 1e-6);
	cr_assert_float_eq(g.x[8 + 3], 36.5, 1e-6);
	cr_assert_float_eq(g.x[12 + 1], 7, 1e-6);
	cr_assert_eq(g.y[0], 0);
	cr_assert_eq(g.y[1], 1);
	cr_assert_eq(g.y[3], 0);
	free((void *)sp.path);
}

Test(mapping, cohort_rule_on_mapped_variables_and_dates)
{
	static const char *const vars[] = {"age", "sex"};
	static const char *const vals[] = {"AGE_MONTHS / 12", "recode(sex, \"M\" = 1, \"F\" = 0)"};
	struct fv_source_spec sp = csv_spec(hf_csv);
	struct got g;
	struct fv_diag d;

	/* 'age' is the mapped variable (years), 'adm' a source column read as a date. Record 4
	 * has a missing glucose, which is not mapped here and so never read. */
	cr_assert_eq(read_all(&sp, 2, vars, vals, "recode(outcome, \"yes\" = 1, \"no\" = 0)",
			      "age >= 18 and date(adm) >= date(\"2022-01-01\") and "
			      "date(adm) < date(\"2023-01-01\")",
			      &g, &d),
		     FV_OK, "%s", d.msg);
	/* Kept: record 2 (20 y, 2022-01-05) and 4 (75 y, 2022-06-30). Out: 1 (2021), 3 (10 y),
	 * 5 (2023). */
	cr_assert_eq(g.n, 2);
	cr_assert_eq(g.excluded, 3);
	cr_assert_float_eq(g.x[0], 20, 1e-6);
	cr_assert_float_eq(g.x[2], 75, 1e-6);
	cr_assert_eq(g.y[0], 1);
	cr_assert_eq(g.y[1], 1);
	/* A rule that keeps nobody: an empty, valid result. */
	cr_assert_eq(read_all(&sp, 2, vars, vals, "recode(outcome, \"yes\" = 1, \"no\" = 0)",
			      "age > 200", &g, &d),
		     FV_OK, "%s", d.msg);
	cr_assert_eq(g.n, 0);
	cr_assert_eq(g.excluded, 5);
	free((void *)sp.path);
}

Test(mapping, cohort_missing_values_need_isna)
{
	static const char *const vars[] = {"glucose"};
	static const char *const vals[] = {"glucose_mg_dl"};
	struct fv_source_spec sp = csv_spec(hf_csv);
	struct got g;
	struct fv_diag d;

	cr_assert_eq(read_all(&sp, 1, vars, vals, "recode(outcome, \"yes\" = 1, \"no\" = 0)",
			      "glucose > 80", &g, &d),
		     FV_EINVAL);
	expect_msg(&d, "line 5", "cohort rule: variable 'glucose' (column 'glucose_mg_dl')",
		   "value 'NA' is missing (guard it with isna())");
	/* Guarded: the record with the missing value is left out, the others judged. */
	cr_assert_eq(read_all(&sp, 1, vars, vals, "recode(outcome, \"yes\" = 1, \"no\" = 0)",
			      "not isna(glucose) and glucose > 80", &g, &d),
		     FV_OK, "%s", d.msg);
	cr_assert_eq(g.n, 3);
	cr_assert_eq(g.excluded, 2);
	/* Kept with its missing value: then the variable itself fails, naming line and value. */
	cr_assert_eq(read_all(&sp, 1, vars, vals, "recode(outcome, \"yes\" = 1, \"no\" = 0)",
			      "isna(glucose) or glucose > 80", &g, &d),
		     FV_EINVAL);
	expect_msg(&d, "line 5: variable 'glucose' (column 'glucose_mg_dl')", "value 'NA'",
		   "is missing");
	/* A rule must be true or false. */
	cr_assert_eq(read_all(&sp, 1, vars, vals, "recode(outcome, \"yes\" = 1, \"no\" = 0)",
			      "glucose_mg_dl * 0 + 2", &g, &d),
		     FV_EINVAL);
	expect_msg(&d, "line 2", "cohort rule gives 2", NULL);
	free((void *)sp.path);
}

Test(mapping, errors_name_variable_record_and_value)
{
	static const char *const vars[] = {"sex"};
	struct fv_source_spec sp = csv_spec("sex,y,w,h\nM,0,70,1.8\nF,1,60,0\nX,0,1,1\n");
	struct got g;
	struct fv_diag d;
	const char *vals[1];

	vals[0] = "recode(sex, \"M\" = 1, \"F\" = 0)";
	cr_assert_eq(read_all(&sp, 1, vars, vals, "y", NULL, &g, &d), FV_EINVAL);
	expect_msg(&d, "line 4: variable 'sex' (column 'sex')", "value 'X'",
		   "matches no case of recode()");
	vals[0] = "recode(sex, \"M\" = 1, \"F\" = 0, else = -1)";
	cr_assert_eq(read_all(&sp, 1, vars, vals, "y", NULL, &g, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(g.x[2], -1);
	vals[0] = "w / (h * h)";
	cr_assert_eq(read_all(&sp, 1, vars, vals, "y", NULL, &g, &d), FV_EINVAL);
	expect_msg(&d, "line 3: variable 'sex': division by zero", "character 3", NULL);
	vals[0] = "log(h)";
	cr_assert_eq(read_all(&sp, 1, vars, vals, "y", NULL, &g, &d), FV_EINVAL);
	expect_msg(&d, "line 3: variable 'sex': log() needs a number > 0, got 0", NULL, NULL);
	vals[0] = "sex * 2";
	cr_assert_eq(read_all(&sp, 1, vars, vals, "y", NULL, &g, &d), FV_EINVAL);
	expect_msg(&d, "line 2: variable 'sex' (column 'sex')", "value 'M' is not a number", NULL);
	vals[0] = "exp(w * 1.3)"; /* e^91 = 3.3e39: finite, but not as a float */
	cr_assert_eq(read_all(&sp, 1, vars, vals, "y", NULL, &g, &d), FV_EINVAL);
	expect_msg(&d, "line 2: variable 'sex': result 3.3", "out of range for a 32-bit float",
		   NULL);
	/* The label as an expression must give 0 or 1. */
	vals[0] = "w";
	cr_assert_eq(read_all(&sp, 1, vars, vals, "y + 1", NULL, &g, &d), FV_EINVAL);
	expect_msg(&d, "line 3: label: result 2 is not 0 or 1", NULL, NULL);
	cr_assert_eq(
	    read_all(&sp, 1, vars, vals, "recode(sex, \"M\" = 1, \"F\" = 0)", NULL, &g, &d),
	    FV_EINVAL);
	expect_msg(&d, "line 4: label (column 'sex'): value 'X' matches no case", NULL, NULL);
	free((void *)sp.path);
}

Test(mapping, quoted_values_are_bounded)
{
	static const char *const vars[] = {"v"};
	static const char *const vals[] = {"date(d)"};
	struct fv_source_spec sp =
	    csv_spec("d,y\n"
		     "2020-01-01 plus a very long tail that goes SECRETSECRETSECRETSECRET,0\n");
	struct got g;
	struct fv_diag d;

	cr_assert_eq(read_all(&sp, 1, vars, vals, "y", NULL, &g, &d), FV_EINVAL);
	expect_msg(&d, "line 2: variable 'v' (column 'd')", "is not a date", "...'");
	cr_assert_null(strstr(d.msg, "SECRET"), "%s", d.msg);
	free((void *)sp.path);
}

Test(mapping, parse_errors_name_variable_and_position)
{
	static const char *const vars[] = {"age", "glucose"};
	const char *vals[2] = {"AGE_MONTHS / 12", "convert(glucose_mg_dl, \"mg/dL\", \"mmol/L\")"};
	struct fv_source_spec sp = csv_spec(hf_csv);
	struct fv_source *s = NULL;
	struct fv_mapping m = {2, vars, vals, "outcome"};
	struct fv_diag d = {{0}};
	struct got g;

	cr_assert_eq(fv_source_open(&sp, &m, &s, &d), FV_EINVAL);
	cr_assert_null(s);
	expect_msg(&d, "variable 'glucose': convert(): mass to amount needs the analyte",
		   "(at character 1)\n  convert(glucose_mg_dl", "\n  ^");
	vals[1] = "(glucose_mg_dl + 1";
	cr_assert_eq(fv_source_open(&sp, &m, &s, &d), FV_EINVAL);
	expect_msg(&d, "variable 'glucose': expected ')' (at character 19)",
		   "  (glucose_mg_dl + 1\n                    ^", NULL);
	/* An unknown lone name keeps the short message. */
	vals[1] = "glucose";
	cr_assert_eq(fv_source_open(&sp, &m, &s, &d), FV_EINVAL);
	cr_assert_str_eq(d.msg, "variable 'glucose': column 'glucose' is not in the header");
	vals[1] = "glucose_mg_dl";
	cr_assert_eq(read_all(&sp, 2, vars, vals, "outcome == \"yes\"", NULL, &g, &d), FV_EINVAL);
	expect_msg(&d, "label: text in quotes", "(at character 12)", NULL);
	cr_assert_eq(read_all(&sp, 2, vars, vals, "recode(outcome, \"yes\" = 1, \"no\" = 0)",
			      "agee > 3", &g, &d),
		     FV_EINVAL);
	expect_msg(&d, "cohort rule: 'agee' is neither a benchmark variable nor a column", NULL,
		   NULL);
	free((void *)sp.path);
}

Test(mapping, predictor_may_not_read_the_label)
{
	static const char *const vars[] = {"age", "leak"};
	static const char *const vals[] = {"AGE_MONTHS",
					   "AGE_MONTHS + recode(outcome, \"yes\" = 1, "
					   "else = 0)"};
	struct fv_source_spec sp = csv_spec(hf_csv);
	struct got g;
	struct fv_diag d;

	cr_assert_eq(
	    read_all(&sp, 2, vars, vals, "recode(outcome, \"yes\" = 1, \"no\" = 0)", NULL, &g, &d),
	    FV_EINVAL);
	expect_msg(&d, "variable 'leak' reads column 'outcome', which is the label column", NULL,
		   NULL);
	free((void *)sp.path);
}

Test(mapping, set_cohort_state_and_check_mapping)
{
	static const char *const vars[] = {"age"};
	static const char *const vals[] = {"AGE_MONTHS"};
	struct fv_source_spec sp = csv_spec(hf_csv);
	struct fv_mapping m = {1, vars, vals, "recode(outcome, \"yes\" = 1, \"no\" = 0)"};
	struct fv_source *s = NULL;
	struct fv_diag d = {{0}};
	float x[8];
	uint8_t y[8];
	size_t got;

	cr_assert_eq(fv_source_open(&sp, &m, &s, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(fv_source_set_cohort(s, "age > 1", &d), FV_OK, "%s", d.msg);
	/* Replaced by a later call before reading. */
	cr_assert_eq(fv_source_set_cohort(s, "age > 300", &d), FV_OK, "%s", d.msg);
	cr_assert_eq(fv_source_read(s, x, y, 8, &got, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(got, 3);
	cr_assert_eq(fv_source_excluded(s), 2);
	cr_assert_eq(fv_source_set_cohort(s, "age > 1", &d), FV_ESTATE);
	/* --check-config: a value checked against the columns alone. */
	cr_assert_eq(
	    fv_source_check_mapping(s, "bmi", "convert(`Weight (lb)`, \"lb\", \"kg\") / 3", &d),
	    FV_OK, "%s", d.msg);
	cr_assert_eq(fv_source_check_mapping(s, "bmi", "Weight (lb)", &d), FV_OK, "%s", d.msg);
	cr_assert_eq(fv_source_check_mapping(s, "bmi", "weight / 3", &d), FV_EINVAL);
	expect_msg(&d, "variable 'bmi': column 'weight' is not in the header", "^", NULL);
	fv_source_close(s);
	/* Without a mapping there is no cohort to restrict. */
	cr_assert_eq(fv_source_open(&sp, NULL, &s, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(fv_source_set_cohort(s, "1", &d), FV_ESTATE);
	cr_assert_eq(fv_source_check_mapping(s, "x", "AGE_MONTHS * 2", &d), FV_OK, "%s", d.msg);
	fv_source_close(s);
	free((void *)sp.path);
}

/* ---- SQLite: NULL is the missing value, records are "row N" ---- */
static const char *make_db(void)
{
	static char path[200];
	sqlite3 *db;
	char *err = NULL;

	snprintf(path, sizeof(path), "%s", dt_path("m.db"));
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db,
				  "CREATE TABLE adm(id INTEGER, creat_mg_dl REAL, sex TEXT, "
				  "admitted TEXT, readmitted TEXT);"
				  "INSERT INTO adm VALUES (1, 1.0, 'male', '2022-02-01', 'Y'),"
				  "(2, 2.5, 'female', '2022-03-01', 'N'),"
				  "(3, NULL, 'female', '2021-05-01', 'N'),"
				  "(4, 0.8, 'female', '2022-05-01 08:15:00', 'Y'),"
				  "(5, 1.2, NULL, '2022-06-01', 'N');",
				  NULL, NULL, &err),
		     SQLITE_OK, "%s", err ? err : "");
	sqlite3_close(db);
	return path;
}

Test(mapping, sqlite_conversion_recode_and_cohort)
{
	static const char *const vars[] = {"creatinine", "female"};
	const char *vals[] = {/* Creatinine 113.12 g/mol: 1 mg/dL = 88.4 umol/L. */
			      "convert(creat_mg_dl, \"mg/dL\", \"µmol/L\", \"creatinine\")",
			      "recode(sex, \"female\" = 1, \"male\" = 0)"};
	struct fv_source_spec sp = {.kind = FV_SOURCE_SQLITE, .path = make_db(), .table = "adm"};
	struct got g;
	struct fv_diag d;

	/* Row 3 (NULL creatinine) falls outside the date window before its value is needed. */
	cr_assert_eq(read_all(&sp, 2, vars, vals, "recode(readmitted, \"Y\" = 1, \"N\" = 0)",
			      "date(admitted) >= date(\"2022-01-01\") and not isna(sex)", &g, &d),
		     FV_OK, "%s", d.msg);
	cr_assert_eq(g.n, 3);
	cr_assert_eq(g.excluded, 2);
	cr_assert_float_eq(g.x[0], 88.4, 0.01);
	cr_assert_float_eq(g.x[1], 0, 0);
	cr_assert_float_eq(g.x[2], 2.5 * 88.4, 0.03);
	cr_assert_float_eq(g.x[3], 1, 0);
	cr_assert_float_eq(g.x[4], 0.8 * 88.4, 0.01);
	cr_assert_eq(g.y[0], 1);
	cr_assert_eq(g.y[1], 0);
	cr_assert_eq(g.y[2], 1);
	/* Without the window, row 3's NULL is an error naming the row. */
	cr_assert_eq(read_all(&sp, 2, vars, vals, "recode(readmitted, \"Y\" = 1, \"N\" = 0)",
			      "not isna(sex)", &g, &d),
		     FV_EINVAL);
	expect_msg(&d, "row 3: variable 'creatinine' (column 'creat_mg_dl')", "value ''",
		   "is missing");
	/* A SQL NULL in a recoded column is missing too, not the else case. */
	vals[1] = "recode(sex, \"female\" = 1, else = 0)";
	cr_assert_eq(read_all(&sp, 2, vars, vals, "recode(readmitted, \"Y\" = 1, \"N\" = 0)",
			      "not isna(creatinine)", &g, &d),
		     FV_EINVAL);
	expect_msg(&d, "row 5: variable 'female' (column 'sex')", "is missing", NULL);
}

Test(mapping, alloc_failure)
{
	static const char *const vars[] = {"age", "sex"};
	static const char *const vals[] = {"AGE_MONTHS / 12", "recode(sex, \"M\" = 1, \"F\" = 0)"};
	struct fv_source_spec sp = csv_spec(hf_csv);
	struct fv_mapping m = {2, vars, vals, "recode(outcome, \"yes\" = 1, \"no\" = 0)"};
	long k;

	for (k = 1; k < 100; k++) {
		struct fv_source *s = NULL;
		struct fv_diag d;
		fv_err e;
		fv_alloc_fail_after(k);
		e = fv_source_open(&sp, &m, &s, &d);
		if (e == FV_OK)
			e = fv_source_set_cohort(s, "age > 18", &d);
		fv_alloc_fail_after(0);
		fv_source_close(s);
		if (e == FV_OK)
			break;
		cr_assert_eq(e, FV_ENOMEM, "k=%ld: %s (%s)", k, fv_strerror(e), d.msg);
	}
	cr_assert(k > 1 && k < 100);
	free((void *)sp.path);
}

/* Plain-column variables and labels are read through the CSV reader's shortcut
 * (fv_csv_try_number); whatever it does not take goes through the expression, so a numeric
 * NA token, blanks, long or out-of-range numbers mean exactly what they mean elsewhere. */
Test(mapping, plain_columns_numeric_na_and_odd_numbers)
{
	static const char *const vars[] = {"w"};
	static const char *const vals[] = {"w"};
	static const char *const na999[] = {"-999", NULL};
	struct fv_source_spec sp =
	    csv_spec("w,y\n-999.5,0\n\" 2.5 \",1\n0.0000000000000000000000012345,0\n-999,1\n");
	struct got g;
	struct fv_diag d;

	cr_assert_eq(read_all(&sp, 1, vars, vals, "y", NULL, &g, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(g.n, 4);
	cr_assert_eq(g.x[0], -999.5f);
	cr_assert_eq(g.x[1], 2.5f);
	cr_assert_eq(g.x[2], 1.2345e-24f);
	cr_assert_eq(g.x[3], -999.0f);
	cr_assert_eq(g.y[3], 1);
	sp.csv.na_tokens = na999;
	cr_assert_eq(read_all(&sp, 1, vars, vals, "y", NULL, &g, &d), FV_EINVAL);
	expect_msg(&d, "line 5: variable 'w' (column 'w')", "missing", NULL);
	free((void *)sp.path);
	sp = csv_spec("w,y\n1,0\n2,NA\n");
	cr_assert_eq(read_all(&sp, 1, vars, vals, "y", NULL, &g, &d), FV_EINVAL);
	expect_msg(&d, "line 3: label", "missing", NULL);
	free((void *)sp.path);
	sp = csv_spec("w,y\n1e999,0\n");
	cr_assert_eq(read_all(&sp, 1, vars, vals, "y", NULL, &g, &d), FV_EINVAL);
	expect_msg(&d, "line 2: variable 'w' (column 'w')", "1e999", NULL);
	free((void *)sp.path);
}
