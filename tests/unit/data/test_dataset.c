/* Tests of lib/data/dataset.c: fv_data_read_csv's mapping, its value checks and its messages,
 * and reading the public Wisconsin breast cancer data set shipped with scikit-learn. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "fedval/data.h"
#include "fedval/limits.h"
#include "fedval/util.h"
#include "unit/data/data_test.h"

static const char *const vars2[] = {"age", "sbp", NULL};
static const char *const cols2[] = {"AGE_Y", "SBP", NULL};

static struct fv_mapping map2(void)
{
	struct fv_mapping m = {2, vars2, cols2, "outcome"};
	return m;
}

static fv_err read_str(const char *text, const struct fv_csv_opts *o, const struct fv_mapping *m,
		       struct fv_dataset *ds, struct fv_diag *d)
{
	memset(d, 0, sizeof(*d));
	return fv_data_read_csv(dt_write_str(text), o, m, ds, d);
}

/* Expect failure with code e and a message holding every non-NULL needle; *out must be empty. */
static void expect_fail(const char *text, const struct fv_csv_opts *o, const struct fv_mapping *m,
			fv_err want, const char *n1, const char *n2, const char *n3)
{
	struct fv_dataset ds = {5, 5, (float *)8, (uint8_t *)8};
	struct fv_diag d;
	fv_err e = read_str(text, o, m, &ds, &d);
	const char *needles[] = {n1, n2, n3};
	size_t i;

	cr_assert_eq(e, want, "got %s (%s)", fv_strerror(e), d.msg);
	for (i = 0; i < 3; i++)
		if (needles[i])
			cr_assert_not_null(strstr(d.msg, needles[i]), "'%s' not in '%s'",
					   needles[i], d.msg);
	cr_assert_eq(ds.n, 0);
	cr_assert_null(ds.x);
	cr_assert_null(ds.y);
	fv_dataset_fini(&ds);
}

Test(dataset, reads_mapped_columns_in_variable_order)
{
	struct fv_mapping m = map2();
	struct fv_dataset ds;
	struct fv_diag d;

	/* Columns in another order than the variables, plus an unmapped text column. */
	cr_assert_eq(read_str("id,SBP,outcome,AGE_Y\n"
			      "p1,120,0,50\n"
			      "\"p,2\", 135.5 ,1,61\n"
			      "p3,-3e1,1.0,0.5\n",
			      NULL, &m, &ds, &d),
		     FV_OK, "%s", d.msg);
	cr_assert_eq(ds.n, 3);
	cr_assert_eq(ds.nvars, 2);
	cr_assert_float_eq(ds.x[0], 50.0f, 0);
	cr_assert_float_eq(ds.x[1], 120.0f, 0);
	cr_assert_float_eq(ds.x[2], 61.0f, 0);
	cr_assert_float_eq(ds.x[3], 135.5f, 0);
	cr_assert_float_eq(ds.x[4], 0.5f, 0);
	cr_assert_float_eq(ds.x[5], -30.0f, 0);
	cr_assert_eq(ds.y[0], 0);
	cr_assert_eq(ds.y[1], 1);
	cr_assert_eq(ds.y[2], 1);
	fv_dataset_fini(&ds);
	cr_assert_null(ds.x);
	fv_dataset_fini(&ds);
	fv_dataset_fini(NULL);
}

Test(dataset, header_only_is_empty_dataset)
{
	struct fv_mapping m = map2();
	struct fv_dataset ds;
	struct fv_diag d;

	cr_assert_eq(read_str("AGE_Y,SBP,outcome\n", NULL, &m, &ds, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(ds.n, 0);
	cr_assert_eq(ds.nvars, 2);
	fv_dataset_fini(&ds);
}

Test(dataset, semicolon_decimal_comma)
{
	struct fv_csv_opts o = {.delimiter = ';', .decimal = ','};
	struct fv_mapping m = map2();
	struct fv_dataset ds;
	struct fv_diag d;

	cr_assert_eq(read_str("AGE_Y;SBP;outcome\n70,5;1,25e2;0,00\n", &o, &m, &ds, &d), FV_OK,
		     "%s", d.msg);
	cr_assert_eq(ds.n, 1);
	cr_assert_float_eq(ds.x[0], 70.5f, 0);
	cr_assert_float_eq(ds.x[1], 125.0f, 0);
	cr_assert_eq(ds.y[0], 0);
	fv_dataset_fini(&ds);
}

Test(dataset, many_rows_grow)
{
	struct fv_mapping m = map2();
	struct fv_dataset ds;
	struct fv_diag d;
	size_t n = 5000, i, len = 0, cap = n * 32 + 64;
	char *buf = malloc(cap);

	cr_assert_not_null(buf);
	len += (size_t)snprintf(buf + len, cap - len, "AGE_Y,SBP,outcome\n");
	for (i = 0; i < n; i++)
		len +=
		    (size_t)snprintf(buf + len, cap - len, "%zu,%zu.25,%d\n", i, i * 2, i % 3 == 0);
	cr_assert_eq(read_str(buf, NULL, &m, &ds, &d), FV_OK, "%s", d.msg);
	free(buf);
	cr_assert_eq(ds.n, n);
	for (i = 0; i < n; i++) {
		cr_assert_float_eq(ds.x[2 * i], (float)i, 0);
		cr_assert_float_eq(ds.x[2 * i + 1], (float)(i * 2) + 0.25f, 0);
		cr_assert_eq(ds.y[i], i % 3 == 0);
	}
	fv_dataset_fini(&ds);
}

Test(dataset, missing_column_named)
{
	struct fv_mapping m = map2();

	expect_fail("AGE,SBP,outcome\n1,2,0\n", NULL, &m, FV_EINVAL, "'age'", "'AGE_Y'",
		    "not in the header");
	expect_fail("AGE_Y,SBP,label\n1,2,0\n", NULL, &m, FV_EINVAL, "label", "'outcome'", NULL);
}

Test(dataset, non_numeric_value_names_variable_and_line)
{
	struct fv_mapping m = map2();

	expect_fail("AGE_Y,SBP,outcome\n1,2,0\n3,high,1\n", NULL, &m, FV_EINVAL, "line 3", "'sbp'",
		    "'high'");
	expect_fail("AGE_Y,SBP,outcome\n1,2,0\n\n\n3,\"1\n2\",1\n", NULL, &m, FV_EINVAL, "line 5",
		    "'sbp'", "not a number");
	/* NA tokens are missing values, which this layer refuses. */
	expect_fail("AGE_Y,SBP,outcome\nNA,2,0\n", NULL, &m, FV_EINVAL, "line 2", "'age'",
		    "missing");
	expect_fail("AGE_Y,SBP,outcome\n1,,0\n", NULL, &m, FV_EINVAL, "line 2", "'sbp'", "missing");
}

Test(dataset, value_quote_is_bounded)
{
	struct fv_mapping m = map2();
	struct fv_dataset ds;
	struct fv_diag d;
	char text[400];
	char *q;

	/* 100 letters, then a multibyte character straddling the 40-byte cut. */
	snprintf(text, sizeof(text), "AGE_Y,SBP,outcome\n1,%.39s\xc3\xa9%s,0\n",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		 "SECRETSECRETSECRETSECRETSECRETSECRETSECRETSECRETSECRET");
	cr_assert_eq(read_str(text, NULL, &m, &ds, &d), FV_EINVAL);
	cr_assert_null(strstr(d.msg, "SECRET"), "%s", d.msg);
	q = strstr(d.msg, "'aaa");
	cr_assert_not_null(q, "%s", d.msg);
	/* Cut before the two-byte character, not through it. */
	cr_assert_not_null(strstr(q, "a...'"), "%s", d.msg);

	/* Control characters are not copied into the message. */
	cr_assert_eq(read_str("AGE_Y,SBP,outcome\n1,\"x\ny\x1b\",0\n", NULL, &m, &ds, &d),
		     FV_EINVAL);
	cr_assert_not_null(strstr(d.msg, "'x?y?'"), "%s", d.msg);
}

Test(dataset, label_must_be_0_or_1)
{
	struct fv_mapping m = map2();
	static const char *const bad[] = {"2", "-1", "0.5", "yes", "true", "", "NA", "1e-9"};
	size_t i;
	char text[128];

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "AGE_Y,SBP,outcome\n1,2,0\n1,2,%s\n", bad[i]);
		expect_fail(text, NULL, &m, FV_EINVAL, "line 3", "label", "'outcome'");
	}
	/* Equal to 0 or 1 in any plain notation. */
	{
		struct fv_dataset ds;
		struct fv_diag d;
		cr_assert_eq(read_str("AGE_Y,SBP,outcome\n1,2,1.0\n1,2,0e5\n1,2, 1 \n1,2,-0\n",
				      NULL, &m, &ds, &d),
			     FV_OK, "%s", d.msg);
		cr_assert_eq(ds.n, 4);
		cr_assert_eq(ds.y[0], 1);
		cr_assert_eq(ds.y[1], 0);
		cr_assert_eq(ds.y[2], 1);
		cr_assert_eq(ds.y[3], 0);
		fv_dataset_fini(&ds);
	}
}

Test(dataset, nonfinite_refused)
{
	static const char *const none[] = {NULL};
	struct fv_csv_opts o = {.na_tokens = none};
	struct fv_mapping m = map2();

	expect_fail("AGE_Y,SBP,outcome\n1,inf,0\n", NULL, &m, FV_EINVAL, "line 2", "'sbp'",
		    "finite");
	expect_fail("AGE_Y,SBP,outcome\n1,-Infinity,0\n", NULL, &m, FV_EINVAL, "'sbp'", NULL, NULL);
	/* "NaN" is an NA token by default; without NA tokens it is still not a number. */
	expect_fail("AGE_Y,SBP,outcome\n1,NaN,0\n", &o, &m, FV_EINVAL, "'sbp'", "finite", NULL);
	expect_fail("AGE_Y,SBP,outcome\n1e309,1,0\n", NULL, &m, FV_EINVAL, "'age'", NULL, NULL);
	/* Finite as a double, infinite as a float. */
	expect_fail("AGE_Y,SBP,outcome\n1e39,1,0\n", NULL, &m, FV_EINVAL, "'age'", "float", NULL);
	expect_fail("AGE_Y,SBP,outcome\n-1e39,1,0\n", NULL, &m, FV_EINVAL, "'age'", "float", NULL);
}

Test(dataset, bad_mappings)
{
	static const char *const v_label[] = {"age", "y", NULL};
	static const char *const c_label[] = {"AGE_Y", "outcome", NULL};
	static const char *const v_dup[] = {"age", "age", NULL};
	static const char *const v_null[] = {"age", NULL, NULL};
	const char *text = "AGE_Y,SBP,outcome\n1,2,0\n";
	struct fv_mapping m;

	m = (struct fv_mapping){2, v_label, c_label, "outcome"};
	expect_fail(text, NULL, &m, FV_EINVAL, "'y'", "'outcome'", "label column");
	m = (struct fv_mapping){2, v_dup, cols2, "outcome"};
	expect_fail(text, NULL, &m, FV_EINVAL, "twice", NULL, NULL);
	m = (struct fv_mapping){2, v_null, cols2, "outcome"};
	expect_fail(text, NULL, &m, FV_EINVAL, "variable 2", NULL, NULL);
	m = (struct fv_mapping){0, vars2, cols2, "outcome"};
	expect_fail(text, NULL, &m, FV_EINVAL, NULL, NULL, NULL);
	m = (struct fv_mapping){2, vars2, cols2, NULL};
	expect_fail(text, NULL, &m, FV_EINVAL, NULL, NULL, NULL);
	expect_fail(text, NULL, NULL, FV_EINVAL, NULL, NULL, NULL);
}

Test(dataset, file_and_reader_errors)
{
	struct fv_mapping m = map2();
	struct fv_dataset ds = {1, 1, NULL, NULL};
	struct fv_diag d;
	size_t n = FV_MAX_CSV_LINE + 64, i;
	char *buf;

	cr_assert_eq(fv_data_read_csv("/nonexistent/d.csv", NULL, &m, &ds, &d), FV_ENOTFOUND);
	cr_assert_eq(ds.n, 0);
	cr_assert_not_null(strstr(d.msg, "/nonexistent/d.csv"), "%s", d.msg);
	/* The path is named once, not twice. */
	cr_assert_null(strstr(strstr(d.msg, "/nonexistent/d.csv") + 1, "/nonexistent/d.csv"), "%s",
		       d.msg);
	ds = (struct fv_dataset){1, 1, NULL, NULL};
	cr_assert_eq(fv_data_read_csv(NULL, NULL, &m, &ds, &d), FV_EINVAL);
	cr_assert_eq(ds.n, 0);
	expect_fail("AGE_Y,SBP,outcome\n1,2\n", NULL, &m, FV_EINVAL, "line 2", NULL, NULL);
	expect_fail("", NULL, &m, FV_EINVAL, "empty", NULL, NULL);

	buf = malloc(n + 1);
	cr_assert_not_null(buf);
	i = (size_t)snprintf(buf, n, "AGE_Y,SBP,outcome\n1,2,0\n");
	memset(buf + i, '7', n - i - 1);
	buf[n - 1] = '\n';
	buf[n] = '\0';
	expect_fail(buf, NULL, &m, FV_ELIMIT, "line 3", NULL, NULL);
	free(buf);
}

Test(dataset, alloc_failure)
{
	struct fv_mapping m = map2();
	const char *p = dt_write_str("AGE_Y,SBP,outcome\n1,2,0\n3,4,1\n");
	long k;

	for (k = 1; k < 64; k++) {
		struct fv_dataset ds;
		struct fv_diag d;
		fv_err e;

		fv_alloc_fail_after(k);
		e = fv_data_read_csv(p, NULL, &m, &ds, &d);
		fv_alloc_fail_after(0);
		if (e == FV_OK) {
			cr_assert_eq(ds.n, 2);
			fv_dataset_fini(&ds);
			break;
		}
		cr_assert_eq(e, FV_ENOMEM, "k=%ld: %s (%s)", k, fv_strerror(e), d.msg);
		cr_assert_null(ds.x);
	}
	cr_assert(k > 1 && k < 64);
}

/* ---- the public Wisconsin diagnostic breast cancer data (scikit-learn's copy) ---- */

#define BC_PATH "/usr/lib/python3/dist-packages/sklearn/datasets/data/breast_cancer.csv"
/* Feature names in column order, from sklearn.datasets.load_breast_cancer (feature_names). */
static const char *const bc_features[] = {
    "mean radius",
    "mean texture",
    "mean perimeter",
    "mean area",
    "mean smoothness",
    "mean compactness",
    "mean concavity",
    "mean concave points",
    "mean symmetry",
    "mean fractal dimension",
    "radius error",
    "texture error",
    "perimeter error",
    "area error",
    "smoothness error",
    "compactness error",
    "concavity error",
    "concave points error",
    "symmetry error",
    "fractal dimension error",
    "worst radius",
    "worst texture",
    "worst perimeter",
    "worst area",
    "worst smoothness",
    "worst compactness",
    "worst concavity",
    "worst concave points",
    "worst symmetry",
    "worst fractal dimension",
    NULL,
};

static bool bc_available(void)
{
	struct stat st;
	return stat(BC_PATH, &st) == 0;
}

Test(breast_cancer, raw_file_first_line_is_not_a_header)
{
	struct fv_csv *c = NULL;
	struct fv_diag d;
	char **f;
	bool eof;

	cr_assert(bc_available(), "%s missing: deploy/install-deps.sh installs python3-sklearn",
		  BC_PATH);
	/* "569,30,malignant,benign" (n, p, class names) reads as a 4-column header; the first
	 * data line then has 31 fields and the reader refuses it, naming line 2. Nothing is
	 * silently misread. */
	cr_assert_eq(fv_csv_open(BC_PATH, NULL, &c, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(fv_csv_ncols(c), 4);
	cr_assert_str_eq(fv_csv_colname(c, 0), "569");
	cr_assert_eq(fv_csv_next(c, &f, &eof, &d), FV_EINVAL);
	cr_assert_not_null(strstr(d.msg, "line 2"), "%s", d.msg);
	cr_assert_not_null(strstr(d.msg, "31 fields"), "%s", d.msg);
	fv_csv_close(c);
}

Test(breast_cancer, converted_file_reads)
{
	char cols[31][16];
	const char *colp[31];
	struct fv_mapping m;
	struct fv_dataset ds;
	struct fv_diag d;
	char line[4096], path[200];
	FILE *in, *out;
	size_t i, ones = 0, rows = 0;
	double sum0 = 0;

	cr_assert(bc_available(), "%s missing: deploy/install-deps.sh installs python3-sklearn",
		  BC_PATH);
	/* Replace the count line with a header: f1..f30 and target (0 malignant, 1 benign). */
	snprintf(path, sizeof(path), "%s", dt_path("breast_cancer.csv"));
	in = fopen(BC_PATH, "r");
	out = fopen(path, "w");
	cr_assert_not_null(in);
	cr_assert_not_null(out);
	cr_assert_not_null(fgets(line, sizeof(line), in));
	cr_assert_eq(strncmp(line, "569,30,", 7), 0);
	for (i = 0; i < 30; i++) {
		snprintf(cols[i], sizeof(cols[i]), "f%zu", i + 1);
		colp[i] = cols[i];
		fprintf(out, "%s,", cols[i]);
	}
	colp[30] = NULL;
	fprintf(out, "target\n");
	while (fgets(line, sizeof(line), in))
		fputs(line, out);
	fclose(in);
	cr_assert_eq(fclose(out), 0);

	m = (struct fv_mapping){30, bc_features, colp, "target"};
	cr_assert_eq(fv_data_read_csv(path, NULL, &m, &ds, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(ds.n, 569);
	cr_assert_eq(ds.nvars, 30);
	for (i = 0; i < ds.n; i++) {
		ones += ds.y[i];
		sum0 += ds.x[i * 30];
		rows++;
	}
	/* 357 benign, 212 malignant (UCI data set description). */
	cr_assert_eq(ones, 357);
	/* First row from the file: 17.99,10.38,... worst fractal dimension 0.1189, target 0. */
	cr_assert_float_eq(ds.x[0], 17.99f, 0);
	cr_assert_float_eq(ds.x[1], 10.38f, 0);
	cr_assert_float_eq(ds.x[29], 0.1189f, 0);
	cr_assert_eq(ds.y[0], 0);
	/* Mean radius averages 14.127 (sklearn describe()). */
	cr_assert_float_eq(sum0 / (double)rows, 14.127, 0.001);
	fv_dataset_fini(&ds);
}
