/* Tests of lib/data/summary.c: exact quality counts per variable (CSV and SQLite), small-cell
 * suppression with complementary suppression, no extreme record value in the output, a
 * fingerprint independent of record order, and one pass over 1M records in bounded memory. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "fedval/data.h"
#include "fedval/util.h"
#include "unit/data/data_test.h"

static json_t *summarise(const struct fv_source_spec *spec, const struct fv_summary_opts *o)
{
	struct fv_diag d = {{0}};
	json_t *j = NULL;

	cr_assert_eq(fv_data_summarise(spec, o, &j, &d), FV_OK, "%s", d.msg);
	cr_assert_not_null(j);
	return j;
}

static json_t *csv_summary(const char *text, const struct fv_summary_opts *o)
{
	struct fv_source_spec spec = {.kind = FV_SOURCE_CSV, .path = dt_write_str(text)};
	return summarise(&spec, o);
}

static json_t *var(json_t *j, const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach(json_object_get(j, "variables"), i, v)
	{
		if (!strcmp(json_string_value(json_object_get(v, "name")), name))
			return v;
	}
	cr_assert_fail("variable %s not in summary", name);
	return NULL;
}

static json_int_t num(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	cr_assert(json_is_integer(v), "%s is not an integer", k);
	return json_integer_value(v);
}

/* Counts of one data set with every kind of bad value, checked against a hand count. */
static const char quality_csv[] = "age,crp,y,sex\n"
				  "40,1.5,0,F\n"
				  "NA,2,1,M\n"
				  ",abc,0,F\n"
				  "150,3,1,M\n"
				  "17,NaN,0,F\n"
				  "x,4,,F\n"
				  "50,-1,2,M\n"
				  "60, 5 ,1,F\n";

static const struct fv_summary_var quality_vars[] = {
    {.name = "age", .column = "age", .has_min = true, .min = 18, .has_max = true, .max = 110},
    {.name = "crp_mg_l", .column = "crp", .has_min = true, .min = 0},
};

static void check_quality(json_t *j)
{
	json_t *age = var(j, "age"), *crp = var(j, "crp_mg_l"), *lab = json_object_get(j, "label");

	cr_assert_eq(num(j, "rows"), 8);
	/* age: missing NA and ""; invalid "x"; out of range 150 and 17; valid 40 50 60 */
	cr_assert_eq(num(age, "n_missing"), 2);
	cr_assert_eq(num(age, "n_present"), 6);
	cr_assert_eq(num(age, "n_invalid"), 1);
	cr_assert_eq(num(age, "n_out_of_range"), 2);
	cr_assert_eq(num(age, "n_valid"), 3);
	/* crp: missing NaN; invalid abc; out of range -1; valid 1.5 2 3 4 5 */
	cr_assert_eq(num(crp, "n_missing"), 1);
	cr_assert_eq(num(crp, "n_invalid"), 1);
	cr_assert_eq(num(crp, "n_out_of_range"), 1);
	cr_assert_eq(num(crp, "n_valid"), 5);
	cr_assert(json_is_null(json_object_get(crp, "declared_max")));
	cr_assert_eq(json_real_value(json_object_get(crp, "declared_min")), 0);
	/* label: 0 0 0 / 1 1 1 1 / missing / invalid 2 */
	cr_assert_eq(num(lab, "n_valid"), 6);
	cr_assert_eq(num(lab, "n_missing"), 1);
	cr_assert_eq(num(lab, "n_invalid"), 1);
	cr_assert_eq(num(lab, "positives"), 3);
	cr_assert_eq(num(lab, "negatives"), 3);
	cr_assert_float_eq(json_real_value(json_object_get(lab, "prevalence")), 0.5, 1e-12);
}

Test(summary, quality_counts_csv)
{
	struct fv_summary_opts o = {.nvars = 2,
				    .vars = quality_vars,
				    .label = "outcome",
				    .label_column = "y",
				    .min_cell = 1};
	json_t *j = csv_summary(quality_csv, &o);

	check_quality(j);
	json_decref(j);
}

Test(summary, quality_counts_sqlite)
{
	struct fv_summary_opts o = {.nvars = 2,
				    .vars = quality_vars,
				    .label = "outcome",
				    .label_column = "y",
				    .min_cell = 1};
	const char *path = dt_path("q.sqlite");
	struct fv_source_spec spec = {.kind = FV_SOURCE_SQLITE, .path = path, .table = "t"};
	sqlite3 *db;
	json_t *j;

	/* Same records as the CSV; SQL NULL stands for the CSV's NA/empty/NaN tokens, and 'NA'
	 * stays in one place as text that is not a number... except that the SQLite source treats
	 * no token as missing, so the CSV's missing tokens are NULL here. */
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(
	    sqlite3_exec(db,
			 "CREATE TABLE t(age, crp, y, sex);"
			 "INSERT INTO t VALUES(40,1.5,0,'F'),(NULL,2,1,'M'),(NULL,'abc',0,'F'),"
			 "(150,3,1,'M'),(17,NULL,0,'F'),('x',4,NULL,'F'),(50,-1,2,'M'),"
			 "(60,5,1,'F');",
			 NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	j = summarise(&spec, &o);
	check_quality(j);
	cr_assert_str_eq(json_string_value(json_object_get(j, "source")), "sqlite");
	json_decref(j);
}

static json_t *group(json_t *j, const char *name)
{
	size_t i;
	json_t *g;

	json_array_foreach(json_object_get(j, "subgroups"), i, g)
	{
		if (!strcmp(json_string_value(json_object_get(g, "name")), name))
			return g;
	}
	cr_assert_fail("subgroup %s not in summary", name);
	return NULL;
}

/* The cell of a category or band, or NULL when it is not listed. */
static json_t *cell(json_t *g, const char *value)
{
	size_t i;
	json_t *c;

	json_array_foreach(json_object_get(g, "cells"), i, c)
	{
		if (!strcmp(json_string_value(json_object_get(c, "value")), value))
			return c;
	}
	return NULL;
}

/* CSV text with the given count of records per scanner and age. */
static char *cohort(const char *const *scanner, const int *count, size_t ncat, const int *ages,
		    size_t nages)
{
	char *buf = NULL;
	size_t len = 0, r = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	fprintf(f, "age,scanner,y\n");
	for (size_t c = 0; c < ncat; c++)
		for (int i = 0; i < count[c]; i++, r++)
			fprintf(f, "%d,%s,%d\n", ages[r % nages], scanner[c], (int)(r % 3 == 0));
	fclose(f);
	return buf;
}

Test(summary, small_cells_suppressed_with_complement)
{
	static const char *const scanners[] = {"GE", "Philips", "Siemens", "Toshiba-rare"};
	static const int counts[] = {40, 7, 30, 2};
	static const int ages[] = {30, 50, 70};
	static const double edges[] = {40, 65};
	struct fv_summary_subgroup sg[] = {
	    {.name = "scanner", .column = "scanner"},
	    {.name = "age_band", .column = "age", .nedges = 2, .edges = edges},
	};
	struct fv_summary_opts o = {
	    .nsubgroups = 2, .subgroups = sg, .label = "y", .label_column = "y", .min_cell = 5};
	char *text = cohort(scanners, counts, 4, ages, 3);
	json_t *j = csv_summary(text, &o), *g = group(j, "scanner"), *b;
	char *dump = json_dumps(j, 0);

	/* Toshiba-rare (2) is below 5; alone its count would follow from the total (79), so the
	 * next smallest cell (Philips, 7) is suppressed as well. Neither is named. */
	cr_assert_eq(num(cell(g, "GE"), "n"), 40);
	cr_assert_eq(num(cell(g, "Siemens"), "n"), 30);
	cr_assert_null(cell(g, "Philips"));
	cr_assert_null(cell(g, "Toshiba-rare"));
	cr_assert_null(strstr(dump, "Toshiba"));
	cr_assert_eq(num(g, "suppressed_cells"), 2);
	cr_assert_eq(num(g, "hidden_categories"), 2);
	cr_assert_eq(num(g, "missing"), 0);
	/* Bands: 79 records cycling 30, 50, 70: 27, 26, 26; none small. */
	b = group(j, "age_band");
	cr_assert_eq(num(cell(b, "<40"), "n"), 27);
	cr_assert_eq(num(cell(b, "[40,65)"), "n"), 26);
	cr_assert_eq(num(cell(b, ">=65"), "n"), 26);
	free(dump);
	json_decref(j);
	free(text);
}

Test(summary, band_suppression_keeps_names_and_hides_counts)
{
	static const double edges[] = {18, 65};
	struct fv_summary_subgroup sg[] = {
	    {.name = "age_band", .column = "age", .nedges = 2, .edges = edges}};
	struct fv_summary_opts o = {.nsubgroups = 1, .subgroups = sg, .min_cell = 5};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_t *j, *b;

	/* 3 under 18 (primary), 6 missing (complement: smallest released non-zero cell), 40
	 * adults, 20 older. */
	fprintf(f, "age\n");
	for (int i = 0; i < 3; i++)
		fprintf(f, "10\n");
	for (int i = 0; i < 6; i++)
		fprintf(f, "NA\n");
	for (int i = 0; i < 40; i++)
		fprintf(f, "40\n");
	for (int i = 0; i < 20; i++)
		fprintf(f, "80\n");
	fclose(f);
	j = csv_summary(buf, &o);
	b = group(j, "age_band");
	cr_assert(json_is_null(json_object_get(cell(b, "<18"), "n")));
	cr_assert(json_is_null(json_object_get(b, "missing")));
	cr_assert_eq(num(cell(b, "[18,65)"), "n"), 40);
	cr_assert_eq(num(cell(b, ">=65"), "n"), 20);
	cr_assert_eq(num(b, "suppressed_cells"), 2);
	json_decref(j);
	free(buf);
}

Test(summary, small_label_class_suppressed)
{
	struct fv_summary_opts o = {.label = "y", .label_column = "y", .min_cell = 5};
	json_t *j = csv_summary("y\n1\n0\n0\n0\n0\n0\n0\n0\n", &o),
	       *lab = json_object_get(j, "label");

	cr_assert_eq(num(lab, "n_valid"), 8);
	cr_assert(json_is_null(json_object_get(lab, "positives")));
	cr_assert(json_is_null(json_object_get(lab, "negatives")));
	cr_assert(json_is_null(json_object_get(lab, "prevalence")));
	json_decref(j);
}

Test(summary, no_extreme_value_leaks)
{
	struct fv_summary_var v[] = {{.name = "bnp", .column = "bnp"}};
	struct fv_summary_opts o = {.nvars = 1, .vars = v, .min_cell = 5};
	char *buf = NULL, *dump;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_t *j, *x;

	fprintf(f, "bnp\n");
	for (int i = 0; i < 1000; i++)
		fprintf(f, "%d.%d\n", 100 + (i * 37) % 400, i % 10);
	fprintf(f, "987654.321\n"); /* one patient far above everyone */
	fprintf(f, "1.23456\n");    /* and one far below */
	fclose(f);
	j = csv_summary(buf, &o);
	x = var(j, "bnp");
	dump = json_dumps(j, JSON_REAL_PRECISION(17));
	cr_assert_null(strstr(dump, "987"), "%s", dump);
	cr_assert_null(strstr(dump, "1.23"), "%s", dump);
	/* The released extremes are the 5th smallest/largest to 2 digits: 100.x, 499.x. */
	cr_assert_eq(json_real_value(json_object_get(x, "min")), 100);
	cr_assert_eq(json_real_value(json_object_get(x, "max")), 500);
	/* Winsorised: the outlier does not drag the mean (about 300) toward 1300. */
	cr_assert(json_real_value(json_object_get(x, "mean")) < 310, "%s", dump);
	cr_assert(json_real_value(json_object_get(x, "mean")) > 290, "%s", dump);
	cr_assert_float_eq(json_real_value(json_object_get(x, "median")), 300, 3);
	/* No released number is a record value: every one is a short decimal. */
	free(dump);
	json_decref(j);
	free(buf);
}

Test(summary, too_few_values_are_not_described)
{
	struct fv_summary_var v[] = {{.name = "a", .column = "a"}};
	struct fv_summary_opts o = {.nvars = 1, .vars = v, .min_cell = 5};
	json_t *j = csv_summary("a\n1\n2\n3\n4\n5\n6\n7\n8\n9\n", &o), *x = var(j, "a");

	cr_assert_eq(num(x, "n_valid"), 9);
	cr_assert(json_is_null(json_object_get(x, "mean")));
	cr_assert(json_is_null(json_object_get(x, "min")));
	cr_assert(json_is_null(json_object_get(x, "median")));
	json_decref(j);
}

Test(summary, fingerprint_stable_across_row_order)
{
	static const char *const scanners[] = {"A", "B", "C"};
	static const int counts[] = {300, 200, 3};
	static const int ages[] = {23, 41, 67, 88, 35, 59};
	static const double edges[] = {40, 65};
	struct fv_summary_var v[] = {{.name = "age", .column = "age"}};
	struct fv_summary_subgroup sg[] = {
	    {.name = "scanner", .column = "scanner"},
	    {.name = "age_band", .column = "age", .nedges = 2, .edges = edges}};
	struct fv_summary_opts o = {.nvars = 1,
				    .vars = v,
				    .nsubgroups = 2,
				    .subgroups = sg,
				    .label = "y",
				    .label_column = "y",
				    .min_cell = 5};
	char *text = cohort(scanners, counts, 3, ages, 6), *rev, *p, hex[65];
	size_t len = strlen(text), hl = strcspn(text, "\n") + 1, w = hl;
	json_t *a, *b;
	struct fv_diag d;

	/* The same records in reverse order (header first). */
	rev = malloc(len + 1);
	memcpy(rev, text, hl);
	for (p = text + len - 1; p > text + hl - 1;) {
		char *q = p - 1;
		while (q >= text + hl && *q != '\n')
			q--;
		memcpy(rev + w, q + 1, (size_t)(p - q));
		w += (size_t)(p - q);
		p = q;
	}
	rev[w] = '\0';
	cr_assert_eq(w, len);
	cr_assert_str_neq(rev, text);
	a = csv_summary(text, &o);
	b = csv_summary(rev, &o);
	cr_assert_eq(strlen(json_string_value(json_object_get(a, "fingerprint"))), 64);
	cr_assert_str_eq(json_string_value(json_object_get(a, "fingerprint")),
			 json_string_value(json_object_get(b, "fingerprint")));
	cr_assert(json_equal(a, b));
	cr_assert_eq(fv_data_summary_fingerprint(a, hex, &d), FV_OK);
	cr_assert_str_eq(hex, json_string_value(json_object_get(a, "fingerprint")));
	json_decref(a);
	json_decref(b);
	free(rev);
	free(text);
}

Test(summary, missing_column_and_bad_opts)
{
	struct fv_summary_var v[] = {{.name = "age", .column = "nope"}};
	struct fv_summary_var bad[] = {
	    {.name = "age", .column = "a", .has_min = true, .min = 5, .has_max = true, .max = 1}};
	struct fv_summary_opts o = {.nvars = 1, .vars = v, .min_cell = 5};
	struct fv_source_spec spec = {.kind = FV_SOURCE_CSV, .path = dt_write_str("a\n1\n")};
	struct fv_diag d = {{0}};
	json_t *j = NULL;

	cr_assert_eq(fv_data_summarise(&spec, &o, &j, &d), FV_EINVAL);
	cr_assert_not_null(strstr(d.msg, "column 'nope'"), "%s", d.msg);
	cr_assert_null(j);
	o.vars = bad;
	cr_assert_eq(fv_data_summarise(&spec, &o, &j, &d), FV_EINVAL);
}

Test(summary, too_many_categories_is_a_limit)
{
	struct fv_summary_subgroup sg[] = {{.name = "id", .column = "id"}};
	struct fv_summary_opts o = {.nsubgroups = 1, .subgroups = sg, .min_cell = 5};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct fv_source_spec spec = {.kind = FV_SOURCE_CSV};
	struct fv_diag d = {{0}};
	json_t *j = NULL;

	fprintf(f, "id\n");
	for (int i = 0; i < 1000; i++)
		fprintf(f, "patient-%d\n", i);
	fclose(f);
	spec.path = dt_write_str(buf);
	cr_assert_eq(fv_data_summarise(&spec, &o, &j, &d), FV_ELIMIT);
	cr_assert_null(strstr(d.msg, "patient-"), "no record value in the message: %s", d.msg);
	free(buf);
}

static long peak_rss_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

Test(summary, million_rows_bounded_memory, .timeout = 120)
{
	const char *const *pred = fv_synth_hf_predictors();
	struct fv_summary_var v[64];
	static const double edges[] = {50, 65, 80};
	struct fv_summary_subgroup sg[] = {
	    {.name = "sex", .column = "sex_male"},
	    {.name = "age_band", .column = "age", .nedges = 3, .edges = edges}};
	struct fv_summary_opts o = {.vars = v,
				    .nsubgroups = 2,
				    .subgroups = sg,
				    .label = "readmit_30d",
				    .label_column = fv_synth_hf_label(),
				    .min_cell = 5};
	struct fv_source_spec spec = {.kind = FV_SOURCE_CSV, .path = NULL};
	struct fv_diag d = {{0}};
	char path[200];
	FILE *f;
	long before;
	json_t *j = NULL;

	while (pred[o.nvars] && o.nvars < 64) {
		v[o.nvars].name = v[o.nvars].column = pred[o.nvars];
		v[o.nvars].has_min = v[o.nvars].has_max = false;
		o.nvars++;
	}
	v[0].has_min = true; /* age in the declared adult range */
	v[0].min = 18;
	v[0].has_max = true;
	v[0].max = 110;
	snprintf(path, sizeof(path), "%s", dt_path("big.csv"));
	f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert_eq(fv_synth_hf_write(f, 1, 7, 1000000, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(fclose(f), 0);
	spec.path = path;
	before = peak_rss_kb();
	cr_assert_eq(fv_data_summarise(&spec, &o, &j, &d), FV_OK, "%s", d.msg);
	cr_assert_lt(peak_rss_kb() - before, 50 * 1024, "peak RSS grew by %ld kB",
		     peak_rss_kb() - before);
	cr_assert_eq(num(j, "rows"), 1000000);
	cr_assert_eq(num(var(j, "age"), "n_valid") + num(var(j, "age"), "n_out_of_range"), 1000000);
	cr_assert_eq(num(json_object_get(j, "label"), "n_valid"), 1000000);
	json_decref(j);
}
