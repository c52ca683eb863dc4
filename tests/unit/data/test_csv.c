/* Tests of lib/data/csv.c: the grammar stated at the top of that file, its limits and errors,
 * NA tokens and fv_csv_parse_double. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fedval/data.h"
#include "fedval/limits.h"
#include "fedval/util.h"
#include "unit/data/data_test.h"

static struct fv_csv *open_str(const char *text, const struct fv_csv_opts *o)
{
	struct fv_csv *c = NULL;
	struct fv_diag d = {{0}};
	fv_err e = fv_csv_open(dt_write_str(text), o, &c, &d);

	cr_assert_eq(e, FV_OK, "open: %s (%s)", fv_strerror(e), d.msg);
	return c;
}

/* Read the next record and check every field; fields given NULL-terminated. */
static void expect_rec(struct fv_csv *c, uint64_t line, const char *const *want)
{
	struct fv_diag d = {{0}};
	char **f = NULL;
	bool eof = true;
	size_t i;
	fv_err e = fv_csv_next(c, &f, &eof, &d);

	cr_assert_eq(e, FV_OK, "next: %s (%s)", fv_strerror(e), d.msg);
	cr_assert(!eof, "unexpected end of file");
	for (i = 0; want[i]; i++)
		cr_assert_str_eq(f[i], want[i], "field %zu", i);
	cr_assert_eq(i, fv_csv_ncols(c));
	cr_assert_eq(fv_csv_line(c), line, "line %llu, want %llu",
		     (unsigned long long)fv_csv_line(c), (unsigned long long)line);
}

static void expect_eof(struct fv_csv *c)
{
	struct fv_diag d = {{0}};
	char **f = NULL;
	bool eof = false;

	cr_assert_eq(fv_csv_next(c, &f, &eof, &d), FV_OK, "%s", d.msg);
	cr_assert(eof);
	/* End of file is sticky. */
	eof = false;
	cr_assert_eq(fv_csv_next(c, &f, &eof, &d), FV_OK);
	cr_assert(eof);
}

/* Expect fv_csv_next to fail with code e and a message containing every needle. */
static void expect_next_err(struct fv_csv *c, fv_err want, const char *n1, const char *n2)
{
	struct fv_diag d = {{0}};
	char **f = NULL;
	bool eof = false;
	fv_err e = fv_csv_next(c, &f, &eof, &d);

	cr_assert_eq(e, want, "got %s (%s)", fv_strerror(e), d.msg);
	if (n1)
		cr_assert_not_null(strstr(d.msg, n1), "'%s' not in '%s'", n1, d.msg);
	if (n2)
		cr_assert_not_null(strstr(d.msg, n2), "'%s' not in '%s'", n2, d.msg);
	/* The reader stays failed. */
	cr_assert_eq(fv_csv_next(c, &f, &eof, &d), want);
	cr_assert(!eof);
}

static void expect_open_err(const void *buf, size_t len, const struct fv_csv_opts *o, fv_err want,
			    const char *needle)
{
	struct fv_csv *c = (struct fv_csv *)1;
	struct fv_diag d = {{0}};
	fv_err e = fv_csv_open(dt_write(buf, len), o, &c, &d);

	cr_assert_eq(e, want, "got %s (%s)", fv_strerror(e), d.msg);
	cr_assert_null(c);
	if (needle)
		cr_assert_not_null(strstr(d.msg, needle), "'%s' not in '%s'", needle, d.msg);
}

#define REC(...) ((const char *const[]){__VA_ARGS__, NULL})

Test(csv, header_and_records)
{
	struct fv_csv *c = open_str("id,age,sex\n1,50,F\n2,61,M\n", NULL);

	cr_assert_eq(fv_csv_ncols(c), 3);
	cr_assert_str_eq(fv_csv_colname(c, 0), "id");
	cr_assert_str_eq(fv_csv_colname(c, 2), "sex");
	cr_assert_null(fv_csv_colname(c, 3));
	cr_assert_eq(fv_csv_find(c, "age"), 1);
	cr_assert_eq(fv_csv_find(c, "Age"), -1);
	cr_assert_eq(fv_csv_find(c, ""), -1);
	expect_rec(c, 2, REC("1", "50", "F"));
	expect_rec(c, 3, REC("2", "61", "M"));
	expect_eof(c);
	fv_csv_close(c);
}

Test(csv, last_record_without_line_end)
{
	struct fv_csv *c = open_str("a,b\n1,2", NULL);

	expect_rec(c, 2, REC("1", "2"));
	expect_eof(c);
	fv_csv_close(c);
}

Test(csv, quoted_delimiter)
{
	struct fv_csv *c = open_str("a,b\n\"x,y\",2\n\",\",\"\"\n", NULL);

	expect_rec(c, 2, REC("x,y", "2"));
	expect_rec(c, 3, REC(",", ""));
	expect_eof(c);
	fv_csv_close(c);
}

Test(csv, doubled_quotes)
{
	struct fv_csv *c = open_str("a,b\n\"say \"\"hi\"\"\",\"\"\"\"\n", NULL);

	expect_rec(c, 2, REC("say \"hi\"", "\""));
	fv_csv_close(c);
}

Test(csv, newline_inside_quotes)
{
	struct fv_csv *c = open_str("a,b\n\"l1\nl2\",3\n4,\"x\r\ny\"\n5,6\n", NULL);

	expect_rec(c, 2, REC("l1\nl2", "3"));
	/* A record is named by its first line; line counting continues after it. */
	expect_rec(c, 4, REC("4", "x\r\ny"));
	expect_rec(c, 6, REC("5", "6"));
	expect_eof(c);
	fv_csv_close(c);
}

Test(csv, crlf)
{
	struct fv_csv *c = open_str("a,b\r\n1,\"2\"\r\n3,4\n5,6\r", NULL);

	cr_assert_str_eq(fv_csv_colname(c, 1), "b");
	expect_rec(c, 2, REC("1", "2"));
	expect_rec(c, 3, REC("3", "4"));
	expect_rec(c, 4, REC("5", "6"));
	expect_eof(c);
	fv_csv_close(c);
}

Test(csv, lone_cr_refused)
{
	struct fv_csv *c = open_str("a,b\n1,2\r3,4\n", NULL);

	expect_next_err(c, FV_EINVAL, "line 2", "carriage return");
	fv_csv_close(c);
	expect_open_err("a\rb\n", 4, NULL, FV_EINVAL, "line 1");
}

Test(csv, header_quoted_names)
{
	struct fv_csv *c = open_str("\"a,1\",\"b \"\"x\"\"\"\n1,2\n", NULL);

	cr_assert_str_eq(fv_csv_colname(c, 0), "a,1");
	cr_assert_str_eq(fv_csv_colname(c, 1), "b \"x\"");
	fv_csv_close(c);
}

Test(csv, bom_skipped)
{
	struct fv_csv *c = open_str("\xef\xbb\xbf"
				    "a,b\n1,2\n",
				    NULL);

	cr_assert_str_eq(fv_csv_colname(c, 0), "a");
	cr_assert_eq(fv_csv_find(c, "a"), 0);
	expect_rec(c, 2, REC("1", "2"));
	fv_csv_close(c);
	/* Only at the very start: elsewhere it is data. */
	c = open_str("a,b\n\xef\xbb\xbf"
		     "1,2\n",
		     NULL);
	expect_rec(c, 2,
		   REC("\xef\xbb\xbf"
		       "1",
		       "2"));
	fv_csv_close(c);
	expect_open_err("\xef\xbb\xbf", 3, NULL, FV_EINVAL, "empty");
	expect_open_err("\xef\xbb", 2, NULL, FV_EINVAL, "UTF-8");
}

Test(csv, semicolon_and_decimal_comma)
{
	struct fv_csv_opts o = {.delimiter = ';', .decimal = ','};
	struct fv_csv *c = open_str("a;b\n1,5;\"x;y\"\n", &o);
	struct fv_diag d;
	double v = 0;

	expect_rec(c, 2, REC("1,5", "x;y"));
	cr_assert_eq(fv_csv_parse_double(c, "1,5", &v, &d), FV_OK, "%s", d.msg);
	cr_assert_float_eq(v, 1.5, 1e-15);
	cr_assert_eq(fv_csv_parse_double(c, "-0,25e2", &v, &d), FV_OK, "%s", d.msg);
	cr_assert_float_eq(v, -25.0, 1e-12);
	cr_assert_eq(fv_csv_parse_double(c, "1.5", &v, &d), FV_EINVAL);
	fv_csv_close(c);
}

Test(csv, tab_delimiter)
{
	struct fv_csv_opts o = {.delimiter = '\t'};
	struct fv_csv *c = open_str("a\tb c\n1,2\t 3 \n", &o);

	cr_assert_str_eq(fv_csv_colname(c, 1), "b c");
	expect_rec(c, 2, REC("1,2", " 3 "));
	fv_csv_close(c);
}

Test(csv, bad_options)
{
	static const char text[] = "a,b\n";
	const struct fv_csv_opts bad[] = {
	    {.delimiter = '"'},	 {.delimiter = 'a'},	    {.delimiter = '5'}, {.delimiter = ' '},
	    {.delimiter = '\n'}, {.delimiter = '\r'},	    {.decimal = ','},	{.decimal = ';'},
	    {.delimiter = '.'},	 {.delimiter = (char)0xc3},
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_open_err(text, strlen(text), &bad[i], FV_EINVAL, NULL);
}

Test(csv, na_tokens_default)
{
	struct fv_csv *c = open_str("a\n1\n", NULL);

	cr_assert(fv_csv_is_na(c, ""));
	cr_assert(fv_csv_is_na(c, "  "));
	cr_assert(fv_csv_is_na(c, "NA"));
	cr_assert(fv_csv_is_na(c, " NA\t"));
	cr_assert(fv_csv_is_na(c, "NaN"));
	cr_assert(fv_csv_is_na(c, "null"));
	cr_assert(!fv_csv_is_na(c, "na"));
	cr_assert(!fv_csv_is_na(c, "N/A"));
	cr_assert(!fv_csv_is_na(c, "NAN"));
	cr_assert(!fv_csv_is_na(c, "0"));
	fv_csv_close(c);
}

Test(csv, na_tokens_custom)
{
	char tok[8] = "N/A";
	const char *toks[] = {tok, "-", NULL};
	const char *none[] = {NULL};
	struct fv_csv_opts o = {.na_tokens = toks};
	struct fv_csv *c = open_str("a\n1\n", &o);

	/* The tokens were copied at open. */
	memcpy(tok, "zz", 3);
	cr_assert(fv_csv_is_na(c, "N/A"));
	cr_assert(fv_csv_is_na(c, " - "));
	cr_assert(!fv_csv_is_na(c, "zz"));
	cr_assert(!fv_csv_is_na(c, "NA"));
	cr_assert(!fv_csv_is_na(c, ""));
	fv_csv_close(c);

	o.na_tokens = none;
	c = open_str("a\n1\n", &o);
	cr_assert(!fv_csv_is_na(c, ""));
	cr_assert(!fv_csv_is_na(c, "NA"));
	fv_csv_close(c);
}

Test(csv, wrong_column_count_names_line)
{
	struct fv_csv *c = open_str("a,b,c\n1,2,3\n\n4,5\n", NULL);

	expect_rec(c, 2, REC("1", "2", "3"));
	expect_next_err(c, FV_EINVAL, "line 4", "2 fields");
	fv_csv_close(c);

	c = open_str("a,b\n1,2\n1,2,3\n", NULL);
	expect_rec(c, 2, REC("1", "2"));
	expect_next_err(c, FV_EINVAL, "line 3", "3 fields");
	fv_csv_close(c);

	/* Many more fields than the header: counted, not stored. */
	c = open_str("a\n1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20\n", NULL);
	expect_next_err(c, FV_EINVAL, "line 2", "20 fields");
	fv_csv_close(c);
}

Test(csv, trailing_delimiter_is_empty_field)
{
	struct fv_csv *c = open_str("a,b,c\n1,2,\n,,\n", NULL);

	expect_rec(c, 2, REC("1", "2", ""));
	expect_rec(c, 3, REC("", "", ""));
	fv_csv_close(c);
}

Test(csv, blank_lines_skipped)
{
	struct fv_csv *c = open_str("\n\r\na,b\n\n1,2\r\n\r\n\n3,4\n\n\n", NULL);

	cr_assert_eq(fv_csv_ncols(c), 2);
	expect_rec(c, 5, REC("1", "2"));
	expect_rec(c, 8, REC("3", "4"));
	expect_eof(c);
	fv_csv_close(c);
}

Test(csv, single_column_empty_value)
{
	struct fv_csv *c = open_str("a\n\"\"\nx\n", NULL);

	expect_rec(c, 2, REC(""));
	expect_rec(c, 3, REC("x"));
	expect_eof(c);
	fv_csv_close(c);
}

Test(csv, unterminated_quote_at_eof)
{
	struct fv_csv *c = open_str("a,b\n1,2\n3,\"abc\n\ndef", NULL);

	expect_rec(c, 2, REC("1", "2"));
	expect_next_err(c, FV_EINVAL, "line 3", "not closed");
	fv_csv_close(c);
	expect_open_err("\"a,b\n", 5, NULL, FV_EINVAL, "line 1");
}

Test(csv, stray_quotes)
{
	struct fv_csv *c = open_str("a,b\n1,ab\"c\"\n", NULL);

	expect_next_err(c, FV_EINVAL, "line 2", "quote");
	fv_csv_close(c);
	c = open_str("a,b\n1,\"ab\"c\n", NULL);
	expect_next_err(c, FV_EINVAL, "line 2", "closing quote");
	fv_csv_close(c);
	c = open_str("a,b\n1,\"ab\" \n", NULL);
	expect_next_err(c, FV_EINVAL, "line 2", "closing quote");
	fv_csv_close(c);
}

Test(csv, nul_byte)
{
	static const char rec[] = "a,b\n1,2\n3,4\0\n";
	static const char hdr[] = "a,\0b\n";
	struct fv_csv *c = NULL;
	struct fv_diag d;

	cr_assert_eq(fv_csv_open(dt_write(rec, sizeof(rec) - 1), NULL, &c, &d), FV_OK);
	expect_rec(c, 2, REC("1", "2"));
	expect_next_err(c, FV_EINVAL, "line 3", "NUL");
	fv_csv_close(c);
	expect_open_err(hdr, sizeof(hdr) - 1, NULL, FV_EINVAL, "NUL");
	/* Inside quotes too. */
	c = NULL;
	cr_assert_eq(fv_csv_open(dt_write("a\n\"x\0y\"\n", 8), NULL, &c, &d), FV_OK);
	expect_next_err(c, FV_EINVAL, "line 2", "NUL");
	fv_csv_close(c);
}

Test(csv, empty_file)
{
	expect_open_err("", 0, NULL, FV_EINVAL, "empty");
	expect_open_err("\n\n\r\n", 4, NULL, FV_EINVAL, "no header");
}

Test(csv, header_only)
{
	struct fv_csv *c = open_str("a,b\n", NULL);

	cr_assert_eq(fv_csv_ncols(c), 2);
	expect_eof(c);
	fv_csv_close(c);
	c = open_str("a,b", NULL);
	cr_assert_eq(fv_csv_ncols(c), 2);
	expect_eof(c);
	fv_csv_close(c);
}

Test(csv, bad_header)
{
	expect_open_err("a,b,a\n", 6, NULL, FV_EINVAL, "duplicate column name 'a'");
	expect_open_err("a,,\n", 4, NULL, FV_EINVAL, "duplicate");
	expect_open_err("a,\xc3\x28\n", 5, NULL, FV_EINVAL, "not valid UTF-8");
	expect_open_err("a,\xc0\xaf\n", 5, NULL, FV_EINVAL, "UTF-8");	  /* overlong */
	expect_open_err("a,\xed\xa0\x80\n", 6, NULL, FV_EINVAL, "UTF-8"); /* surrogate */
	expect_open_err("a,\xf4\x90\x80\x80\n", 7, NULL, FV_EINVAL, "UTF-8");

	struct fv_csv *c = open_str("caf\xc3\xa9,\xe2\x82\xac,\xf0\x9f\x98\x80\n", NULL);
	cr_assert_eq(fv_csv_find(c, "caf\xc3\xa9"), 0);
	fv_csv_close(c);
}

Test(csv, file_errors)
{
	struct fv_csv *c = NULL;
	struct fv_diag d;

	cr_assert_eq(fv_csv_open("/nonexistent/x.csv", NULL, &c, &d), FV_ENOTFOUND);
	cr_assert_null(c);
	cr_assert_eq(fv_csv_open(NULL, NULL, &c, &d), FV_EINVAL);
	/* A directory opens but cannot be read. */
	cr_assert_eq(fv_csv_open("/tmp", NULL, &c, &d), FV_EIO, "%s", d.msg);
	cr_assert_null(c);
}

/* A file of n bytes: header "a,b", then one record whose first field is n - 7 'x's. */
static const char *long_line_file(size_t fieldlen)
{
	size_t len = 4 + fieldlen + 3, i;
	char *buf = malloc(len);
	const char *p;

	cr_assert_not_null(buf);
	memcpy(buf, "a,b\n", 4);
	for (i = 0; i < fieldlen; i++)
		buf[4 + i] = 'x';
	memcpy(buf + 4 + fieldlen, ",1\n", 3);
	p = dt_write(buf, len);
	free(buf);
	return p;
}

Test(csv, line_at_limit_accepted)
{
	struct fv_csv *c = NULL;
	struct fv_diag d;
	char **f;
	bool eof;

	/* The record is the field plus ",1": exactly FV_MAX_CSV_LINE bytes. */
	cr_assert_eq(fv_csv_open(long_line_file(FV_MAX_CSV_LINE - 2), NULL, &c, &d), FV_OK);
	cr_assert_eq(fv_csv_next(c, &f, &eof, &d), FV_OK, "%s", d.msg);
	cr_assert(!eof);
	cr_assert_eq(strlen(f[0]), FV_MAX_CSV_LINE - 2);
	cr_assert_str_eq(f[1], "1");
	expect_eof(c);
	fv_csv_close(c);
}

Test(csv, overlong_line_refused)
{
	struct fv_csv *c = NULL;
	struct fv_diag d;

	cr_assert_eq(fv_csv_open(long_line_file(FV_MAX_CSV_LINE - 1), NULL, &c, &d), FV_OK);
	expect_next_err(c, FV_ELIMIT, "line 2", "longer than");
	fv_csv_close(c);
}

Test(csv, overlong_quoted_line_refused)
{
	/* Quotes and quoted line ends count; the record is named by its first line. */
	size_t n = FV_MAX_CSV_LINE + 16, i;
	char *buf = malloc(n);
	struct fv_csv *c = NULL;
	struct fv_diag d;

	cr_assert_not_null(buf);
	memcpy(buf, "a\n1\n\"", 5);
	for (i = 5; i < n - 2; i++)
		buf[i] = i % 100 ? 'y' : '\n';
	memcpy(buf + n - 2, "\"\n", 2);
	cr_assert_eq(fv_csv_open(dt_write(buf, n), NULL, &c, &d), FV_OK);
	free(buf);
	expect_rec(c, 2, REC("1"));
	expect_next_err(c, FV_ELIMIT, "line 3", NULL);
	fv_csv_close(c);
}

Test(csv, overlong_header_refused)
{
	size_t n = FV_MAX_CSV_LINE + 2, i;
	char *buf = malloc(n);

	cr_assert_not_null(buf);
	for (i = 0; i < n - 1; i++)
		buf[i] = 'h';
	buf[n - 1] = '\n';
	expect_open_err(buf, n, NULL, FV_ELIMIT, "line 1");
	free(buf);
}

/* A header of ncols columns named c1..cN. */
static char *wide_header(size_t ncols, size_t *len)
{
	size_t cap = ncols * 8 + 2, n = 0, i;
	char *buf = malloc(cap);

	cr_assert_not_null(buf);
	for (i = 0; i < ncols; i++)
		n += (size_t)snprintf(buf + n, cap - n, "%sc%zu", i ? "," : "", i + 1);
	buf[n++] = '\n';
	*len = n;
	return buf;
}

Test(csv, column_limit)
{
	struct fv_csv *c = NULL;
	struct fv_diag d;
	size_t len;
	char *h = wide_header(FV_MAX_CSV_COLS, &len);
	char **f;
	bool eof;

	cr_assert_eq(fv_csv_open(dt_write(h, len), NULL, &c, &d), FV_OK, "%s", d.msg);
	free(h);
	cr_assert_eq(fv_csv_ncols(c), FV_MAX_CSV_COLS);
	cr_assert_eq(fv_csv_find(c, "c4096"), 4095);
	cr_assert_eq(fv_csv_next(c, &f, &eof, &d), FV_OK);
	cr_assert(eof);
	fv_csv_close(c);

	h = wide_header(FV_MAX_CSV_COLS + 1, &len);
	expect_open_err(h, len, NULL, FV_ELIMIT, "columns");
	free(h);
}

Test(csv, records_across_buffer_boundaries)
{
	/* Well over the 64 KiB read buffer, with a long field and CRLFs landing anywhere. */
	size_t rows = 20000, cap = 2 * 1024 * 1024, n = 0, i;
	char *buf = malloc(cap), *big = malloc(200001);
	struct fv_csv *c = NULL;
	struct fv_diag d;
	char **f;
	bool eof;

	cr_assert_not_null(buf);
	cr_assert_not_null(big);
	memset(big, 'q', 200000);
	big[200000] = '\0';
	n += (size_t)snprintf(buf + n, cap - n, "i,s\r\n");
	for (i = 0; i < rows; i++) {
		if (i == 777) {
			n += (size_t)snprintf(buf + n, cap - n, "%zu,\"%s\"\r\n", i, big);
			continue;
		}
		n += (size_t)snprintf(buf + n, cap - n, "%zu,\"v,%zu\"\r\n", i, i * 7);
	}
	cr_assert(n < cap);
	cr_assert_eq(fv_csv_open(dt_write(buf, n), NULL, &c, &d), FV_OK);
	for (i = 0; i < rows; i++) {
		char want[40];
		cr_assert_eq(fv_csv_next(c, &f, &eof, &d), FV_OK, "%s", d.msg);
		cr_assert(!eof);
		snprintf(want, sizeof(want), "%zu", i);
		cr_assert_str_eq(f[0], want);
		if (i == 777) {
			cr_assert_str_eq(f[1], big);
		} else {
			snprintf(want, sizeof(want), "v,%zu", i * 7);
			cr_assert_str_eq(f[1], want);
		}
		cr_assert_eq(fv_csv_line(c), i + 2);
	}
	expect_eof(c);
	fv_csv_close(c);
	free(buf);
	free(big);
}

Test(csv, close_null)
{
	fv_csv_close(NULL);
}

Test(csv, open_alloc_failure)
{
	/* Every allocation point of open fails cleanly (ASan reports any leak). */
	const char *p = dt_write_str("a,b,c\n1,2,3\n");
	long k;

	for (k = 1; k < 64; k++) {
		struct fv_csv *c = NULL;
		struct fv_diag d;
		fv_err e;

		fv_alloc_fail_after(k);
		e = fv_csv_open(p, NULL, &c, &d);
		fv_alloc_fail_after(0);
		if (e == FV_OK) {
			fv_csv_close(c);
			break;
		}
		cr_assert_eq(e, FV_ENOMEM, "k=%ld: %s (%s)", k, fv_strerror(e), d.msg);
		cr_assert_null(c);
	}
	cr_assert(k > 1 && k < 64);
}

/* ---- fv_csv_parse_double ---- */

static struct fv_csv *num_reader(void)
{
	return open_str("a\n", NULL);
}

Test(csv_number, accepted)
{
	static const struct {
		const char *s;
		double v;
	} ok[] = {
	    {"0", 0},	      {" 2.5 ", 2.5}, {"\t-1e-3", -1e-3}, {"-1E+3", -1000},
	    {"+7", 7},	      {"5.", 5},      {".25", 0.25},	  {"00012", 12},
	    {"1e300", 1e300}, {"-0.0", -0.0}, {"1e-400", 0},	  {"123456789012", 123456789012.0},
	};
	struct fv_csv *c = num_reader();
	struct fv_diag d;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		double v = -99;
		cr_assert_eq(fv_csv_parse_double(c, ok[i].s, &v, &d), FV_OK, "'%s': %s", ok[i].s,
			     d.msg);
		cr_assert_float_eq(v, ok[i].v, 1e-12 * (ok[i].v < 0 ? -ok[i].v : ok[i].v),
				   "'%s' -> %g", ok[i].s, v);
	}
	fv_csv_close(c);
}

/* Every decimal converts to exactly the double strtod gives (correct rounding): random
 * decimals of 1 to 25 significant digits, with and without a point, leading zeros and an
 * exponent, then values on and next to the midpoints between two doubles, where a conversion
 * that rounds twice goes wrong (2^53 + 1 is halfway between 2^53 and 2^53 + 2). Both decimal
 * marks. Bit for bit: -0.0 and 0.0 differ. */
static uint64_t xs = 88172645463325252ull;
static uint64_t xorshift(void)
{
	xs ^= xs << 13;
	xs ^= xs >> 7;
	xs ^= xs << 17;
	return xs;
}

static void expect_strtod(struct fv_csv *c, char mark, const char *s)
{
	char local[160];
	struct fv_diag d;
	double v = -99, r = strtod(s, NULL);

	fv_strlcpy(local, s, sizeof(local));
	for (char *p = local; *p; p++)
		if (*p == '.')
			*p = mark;
	cr_assert_eq(fv_csv_parse_double(c, local, &v, &d), FV_OK, "'%s': %s", local, d.msg);
	cr_assert_eq(memcmp(&v, &r, sizeof(v)), 0, "'%s' -> %.17g, strtod %.17g", local, v, r);
}

Test(csv_number, equals_strtod_bit_for_bit, .timeout = 30)
{
	static const char *const hard[] = {
	    "9007199254740993",
	    "9007199254740995",
	    "9007199254740992.5",
	    "4503599627370496.5",
	    "4503599627370497.5",
	    "18446744073709551615",
	    "1844674407370955161.5",
	    "9223372036854775808",
	    "0.30000000000000004",
	    "0.1",
	    "2.2250738585072014e-308",
	    "4.9e-324",
	    "1.7976931348623157e308",
	    "123456789012345678e-27",
	    "1e27",
	    "1e28",
	    "1e-27",
	    "1.00000000000000011102230246251565404236316680908203125",
	    "0.500000000000000166533453693773481063544750213623046875",
	    "-0",
	    "-0e5",
	    "0.000000000000000000000000000001"};
	struct fv_csv *dot = num_reader();
	struct fv_csv *comma = open_str("a;b\n", &(struct fv_csv_opts){';', ',', NULL});
	char s[96];

	for (size_t i = 0; i < sizeof(hard) / sizeof(hard[0]); i++) {
		expect_strtod(dot, '.', hard[i]);
		expect_strtod(comma, ',', hard[i]);
	}
	/* decimals m * 2^-k + half an ulp, written exactly (up to 40 digits) */
	for (int i = 0; i < 20000; i++) {
		double a = (double)(xorshift() >> 11) / 9007199254740992.0 * 1000;
		double b = nextafter(a, 2000);
		long double mid = ((long double)a + (long double)b) / 2;
		snprintf(s, sizeof(s), "%.30Lg", mid);
		expect_strtod(dot, '.', s);
	}
	for (int i = 0; i < 400000; i++) {
		uint64_t r = xorshift();
		int digits = 1 + (int)(r % 25), point = (int)((r >> 8) % (unsigned)(digits + 1));
		int lead = (int)((r >> 16) % 3), n = 0;
		if ((r >> 20) & 1)
			s[n++] = '-';
		for (int k = 0; k < lead; k++)
			s[n++] = '0';
		for (int k = 0; k < digits; k++) {
			if (k == point && (r >> 21) & 1)
				s[n++] = '.';
			s[n++] = (char)('0' + xorshift() % 10);
		}
		if ((r >> 22) % 4 == 0)
			n += snprintf(s + n, sizeof(s) - (size_t)n, "e%d",
				      (int)((r >> 24) % 81) - 40);
		s[n] = '\0';
		expect_strtod(dot, '.', s);
		if (i % 8 == 0)
			expect_strtod(comma, ',', s);
	}
	fv_csv_close(dot);
	fv_csv_close(comma);
}

/* The same decimals as fields of a file: the reader splits records in its buffer and converts
 * digits there 8 at a time, a path a string outside the reader never takes. Fields of every
 * length next to each other and at the end of records (LF and CRLF), so the 8-byte reads
 * meet delimiters, line ends and the buffer's end in every position. */
static void random_decimal(char *s, size_t cap, char mark)
{
	uint64_t r = xorshift();
	int digits = 1 + (int)(r % 25), point = (int)((r >> 8) % (unsigned)(digits + 1));
	int lead = (int)((r >> 16) % 3), n = 0;
	if ((r >> 20) & 1)
		s[n++] = '-';
	for (int k = 0; k < lead; k++)
		s[n++] = '0';
	for (int k = 0; k < digits; k++) {
		if (k == point && (r >> 21) & 1)
			s[n++] = mark;
		s[n++] = (char)('0' + xorshift() % 10);
	}
	if ((r >> 22) % 4 == 0)
		n += snprintf(s + n, cap - (size_t)n, "e%d", (int)((r >> 24) % 81) - 40);
	s[n] = '\0';
}

static void decimals_through_reader(char delim, char mark)
{
	size_t rows = 60000, cols = 3, cap = rows * cols * 40 + 64, n = 0, bad = 0;
	char *text = malloc(cap), s[96];
	struct fv_csv *c = NULL;
	struct fv_diag d;
	char **f;
	bool eof;

	cr_assert_not_null(text);
	n += (size_t)snprintf(text, cap, "a%cb%cc\n", delim, delim);
	for (size_t i = 0; i < rows; i++)
		for (size_t k = 0; k < cols; k++) {
			random_decimal(s, sizeof(s), mark);
			n += (size_t)snprintf(text + n, cap - n, "%s%s", s,
					      k + 1 < cols ? (char[]){delim, 0}
					      : i % 3 == 0 ? "\r\n"
							   : "\n");
		}
	cr_assert(n < cap);
	cr_assert_eq(
	    fv_csv_open(dt_write(text, n), &(struct fv_csv_opts){delim, mark, NULL}, &c, &d), FV_OK,
	    "%s", d.msg);
	for (size_t i = 0; i < rows; i++) {
		cr_assert_eq(fv_csv_next(c, &f, &eof, &d), FV_OK, "%s", d.msg);
		cr_assert(!eof);
		for (size_t k = 0; k < cols; k++) {
			double v = -99, r;
			fv_strlcpy(s, f[k], sizeof(s));
			for (char *p = s; *p; p++)
				if (*p == mark)
					*p = '.';
			r = strtod(s, NULL);
			cr_assert_eq(fv_csv_parse_double(c, f[k], &v, &d), FV_OK, "'%s': %s", f[k],
				     d.msg);
			bad += memcmp(&v, &r, sizeof(v)) != 0;
			cr_assert_eq(memcmp(&v, &r, sizeof(v)), 0, "line %zu '%s' -> %.17g, %.17g",
				     i + 2, f[k], v, r);
		}
	}
	expect_eof(c);
	cr_assert_eq(bad, 0);
	fv_csv_close(c);
	free(text);
}

Test(csv_number, equals_strtod_in_the_reader, .timeout = 30)
{
	decimals_through_reader(',', '.');
	decimals_through_reader(';', ',');
}

Test(csv_number, refused)
{
	static const char *const bad[] = {
	    "",
	    "  ",
	    "1e",
	    "1e+",
	    "inf",
	    "-inf",
	    "Infinity",
	    "nan",
	    "NaN",
	    "-nan",
	    "0x10",
	    "1,5",
	    "1.2.3",
	    "1 000",
	    "1_000",
	    "abc",
	    "1e5x",
	    "--1",
	    "+",
	    ".",
	    "e5",
	    "1e309",
	    "-1e400",
	    "1d5",
	    "0x1p3",
	    "1.5f",
	    "nan(1)",
	    "\xc2\xa0"
	    "1",
	};
	struct fv_csv *c = num_reader();
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fv_diag d = {{0}};
		double v = 42;
		cr_assert_eq(fv_csv_parse_double(c, bad[i], &v, &d), FV_EINVAL, "'%s' accepted",
			     bad[i]);
		cr_assert(d.msg[0] != '\0', "'%s': no reason", bad[i]);
		cr_assert_eq(v, 42, "'%s': output written on failure", bad[i]);
	}
	fv_csv_close(c);
}

Test(csv_number, reasons)
{
	struct fv_csv *c = num_reader();
	struct fv_diag d;
	double v;
	char longnum[300];

	cr_assert_eq(fv_csv_parse_double(c, " ", &v, &d), FV_EINVAL);
	cr_assert_str_eq(d.msg, "empty");
	cr_assert_eq(fv_csv_parse_double(c, "x", &v, &d), FV_EINVAL);
	cr_assert_str_eq(d.msg, "not a number");
	cr_assert_eq(fv_csv_parse_double(c, "inf", &v, &d), FV_EINVAL);
	cr_assert_not_null(strstr(d.msg, "finite"));
	memset(longnum, '1', sizeof(longnum) - 1);
	longnum[sizeof(longnum) - 1] = '\0';
	cr_assert_eq(fv_csv_parse_double(c, longnum, &v, &d), FV_EINVAL);
	fv_csv_close(c);
}

/* Progress is the share of the file consumed: 0 after the header of a large file, rising,
 * 1 at the end. */
Test(csv, progress_through_the_file)
{
	char path[] = "/tmp/fv-csv-progress-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	struct fv_csv *c = NULL;
	struct fv_diag d = {{0}};
	char **fields;
	bool eof = false;
	double last = 0, mid = -1;

	cr_assert(f);
	fputs("a,b\n", f);
	for (int i = 0; i < 100000; i++)
		fprintf(f, "%d,%d\n", i, i * 3);
	fclose(f);
	cr_assert_eq(fv_csv_open(path, NULL, &c, &d), FV_OK, "%s", d.msg);
	cr_assert_lt(fv_csv_progress(c), 0.2);
	for (int i = 0; !eof; i++) {
		cr_assert_eq(fv_csv_next(c, &fields, &eof, &d), FV_OK, "%s", d.msg);
		double p = fv_csv_progress(c);
		cr_assert_geq(p, last);
		last = p;
		if (i == 50000)
			mid = p;
	}
	cr_assert(mid > 0.4 && mid < 0.6, "halfway at %g", mid);
	cr_assert_eq(last, 1.0);
	fv_csv_close(c);
	unlink(path);
}

/* fv_csv_split + fv_csv_set_range: parts start at record boundaries (a line feed inside a
 * quoted field is none), know their physical line, and together hold every record once. */
Test(csv, split_into_parts_at_record_boundaries)
{
	char text[8192];
	size_t len = 0;
	len += (size_t)snprintf(text + len, sizeof(text) - len, "id,note\n");
	for (int i = 0; i < 200; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					i % 7 == 3 ? "%d,\"two\nlines \"\"q\"\"\"\n" : "%d,plain\n",
					i);
	char path[200];
	fv_strlcpy(path, dt_write(text, len), sizeof(path));
	uint64_t start[16], line[16];
	size_t got = 0;
	struct fv_diag d = {{0}};
	cr_assert_eq(fv_csv_split(path, 16, start, line, &got, &d), FV_OK, "%s", d.msg);
	cr_assert(got >= 8 && got <= 16, "%zu parts", got);
	int next_id = 0;
	for (size_t p = 0; p < got; p++) {
		struct fv_csv *c = NULL;
		uint64_t end = p + 1 < got ? start[p + 1] : (uint64_t)len;
		cr_assert(start[p] > 0 && text[start[p] - 1] == '\n');
		cr_assert_eq(fv_csv_open(path, NULL, &c, &d), FV_OK, "%s", d.msg);
		cr_assert_eq(fv_csv_set_range(c, start[p], end, line[p], &d), FV_OK, "%s", d.msg);
		for (;;) {
			char **f = NULL;
			bool eof = false;
			cr_assert_eq(fv_csv_next(c, &f, &eof, &d), FV_OK, "part %zu: %s", p, d.msg);
			if (eof)
				break;
			cr_assert_eq(atoi(f[0]), next_id, "part %zu", p);
			/* physical line of the record: header, then one line per record and
			 * one more for each earlier two-line record */
			uint64_t want = 2 + (uint64_t)next_id + (uint64_t)((next_id + 3) / 7);
			cr_assert_eq(fv_csv_line(c), want, "record %d", next_id);
			next_id++;
		}
		fv_csv_close(c);
	}
	cr_assert_eq(next_id, 200, "every record once");
	/* a file with a header only has no parts */
	fv_strlcpy(path, dt_write_str("a,b\n"), sizeof(path));
	cr_assert_eq(fv_csv_split(path, 4, start, line, &got, &d), FV_OK);
	cr_assert_eq(got, 0);
}

/* The same over a file of a few MB, which fv_csv_split scans in 1 MiB reads, 64-byte blocks and
 * (on a machine with several cores) on several threads: quoted line feeds, quoted delimiters
 * and CRLFs anywhere, a byte order mark and blank lines before the header. Every record is
 * read exactly once, in order, on its physical line. */
Test(csv, split_large_file_with_quotes, .timeout = 30)
{
	size_t rows = 150000, cap = rows * 40 + 64, len = 0;
	char *text = malloc(cap), path[200];
	uint64_t *want_line = malloc(rows * sizeof(uint64_t)), phys = 5;
	cr_assert_not_null(text);
	cr_assert_not_null(want_line);
	len += (size_t)snprintf(text, cap, "\xef\xbb\xbf\n\r\nid,\"n\no\"\n");
	for (size_t i = 0; i < rows; i++) {
		want_line[i] = phys;
		switch (xorshift() % 8) {
		case 0:
			len +=
			    (size_t)snprintf(text + len, cap - len, "%zu,\"a\n\"\"b\"\"\n\"\n", i);
			phys += 3;
			break;
		case 1:
			len += (size_t)snprintf(text + len, cap - len, "%zu,\"x,y\"\r\n", i);
			phys++;
			break;
		default:
			len += (size_t)snprintf(text + len, cap - len, "%zu,%zu\n", i, i * 13);
			phys++;
		}
	}
	cr_assert(len < cap);
	fv_strlcpy(path, dt_write(text, len), sizeof(path));
	for (size_t nparts = 1; nparts <= 13; nparts += 6) {
		uint64_t start[16], line[16];
		size_t got = 0, next = 0;
		struct fv_diag d = {{0}};
		cr_assert_eq(fv_csv_split(path, nparts, start, line, &got, &d), FV_OK, "%s", d.msg);
		cr_assert_eq(got, nparts);
		for (size_t p = 0; p < got; p++) {
			struct fv_csv *c = NULL;
			uint64_t end = p + 1 < got ? start[p + 1] : (uint64_t)len;
			cr_assert(text[start[p] - 1] == '\n');
			cr_assert_eq(fv_csv_open(path, NULL, &c, &d), FV_OK, "%s", d.msg);
			cr_assert_eq(fv_csv_set_range(c, start[p], end, line[p], &d), FV_OK);
			for (;;) {
				char **f = NULL;
				bool eof = false;
				cr_assert_eq(fv_csv_next(c, &f, &eof, &d), FV_OK, "%s", d.msg);
				if (eof)
					break;
				/* plain checks here: criterion's per record are slow under ASan */
				if (next >= rows || strtoull(f[0], NULL, 10) != next ||
				    fv_csv_line(c) != want_line[next])
					cr_assert_fail(
					    "record %zu (part %zu of %zu): id %s, line %llu", next,
					    p, nparts, f[0], (unsigned long long)fv_csv_line(c));
				next++;
			}
			fv_csv_close(c);
		}
		cr_assert_eq(next, rows, "%zu parts: every record once", nparts);
	}
	free(text);
	free(want_line);
}

/* Records split in place with up to 16 delimiters in one 16-byte block (empty fields), one
 * field too many or too few: the field pointers written four at a time never pass the array. */
Test(csv, many_empty_fields_in_place)
{
	char text[512];
	size_t n = 0, i;
	for (i = 0; i < 40; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%sc%zu", i ? "," : "", i);
	n += (size_t)snprintf(text + n, sizeof(text) - n, "\n");
	for (i = 0; i < 39; i++)
		text[n++] = ',';
	text[n++] = '\n';
	for (i = 0; i < 40; i++)
		text[n++] = ',';
	text[n++] = '\n';
	text[n] = '\0';
	struct fv_csv *c = open_str(text, NULL);
	struct fv_diag d = {{0}};
	char **f = NULL;
	bool eof = false;
	cr_assert_eq(fv_csv_next(c, &f, &eof, &d), FV_OK, "%s", d.msg);
	for (i = 0; i < 40; i++)
		cr_assert_str_eq(f[i], "");
	expect_next_err(c, FV_EINVAL, "line 3", "41 fields");
	fv_csv_close(c);
	text[n - 2] = '\n'; /* the last record: 40 fields with 39 commas ... */
	text[n - 3] = '\n'; /* ... now a record of 38 commas and a blank line */
	c = open_str(text, NULL);
	cr_assert_eq(fv_csv_next(c, &f, &eof, &d), FV_OK, "%s", d.msg);
	expect_next_err(c, FV_EINVAL, "line 3", "39 fields");
	fv_csv_close(c);
}
