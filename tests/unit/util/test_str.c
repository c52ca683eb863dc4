/* Tests lib/util/str.c: strict number parsing, bounded formatting, hex. */
#include <criterion/criterion.h>
#include <float.h>
#include <limits.h>
#include <string.h>

#include "fedval/util.h"

Test(parse_long, accepts_whole_numbers_in_range)
{
	long v = 0;
	cr_assert_eq(fv_parse_long("42", 0, 100, &v), FV_OK);
	cr_assert_eq(v, 42);
	cr_assert_eq(fv_parse_long("-7", -10, 10, &v), FV_OK);
	cr_assert_eq(v, -7);
	cr_assert_eq(fv_parse_long("0", 0, 0, &v), FV_OK);
	cr_assert_eq(fv_parse_long("100", 0, 100, &v), FV_OK, "max is inclusive");
	cr_assert_eq(fv_parse_long("9223372036854775807", LONG_MIN, LONG_MAX, &v), FV_OK);
	cr_assert_eq(v, LONG_MAX);
}

Test(parse_long, refuses_junk_range_and_overflow)
{
	long v = 1234;
	const char *bad[] = {"",
			     "abc",
			     "12abc",
			     "1.5",
			     "0x10",
			     "12 ",
			     " 12",
			     "\t5",
			     "+",
			     "-",
			     "1e3",
			     "5\n",
			     "99999999999999999999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(fv_parse_long(bad[i], LONG_MIN, LONG_MAX, &v), FV_EINVAL, "'%s'",
			     bad[i]);
	cr_assert_eq(fv_parse_long(NULL, 0, 10, &v), FV_EINVAL);
	cr_assert_eq(fv_parse_long("101", 0, 100, &v), FV_EINVAL);
	cr_assert_eq(fv_parse_long("-1", 0, 100, &v), FV_EINVAL);
	cr_assert_eq(v, 1234, "out is untouched on error");
}

Test(parse_double, accepts_finite_numbers)
{
	double v = 0;
	cr_assert_eq(fv_parse_double("0.25", &v), FV_OK);
	cr_assert_float_eq(v, 0.25, 0);
	cr_assert_eq(fv_parse_double("-1e-3", &v), FV_OK);
	cr_assert_float_eq(v, -1e-3, 1e-18);
	cr_assert_eq(fv_parse_double("7", &v), FV_OK);
	cr_assert_float_eq(v, 7.0, 0);
	/* Underflow to a subnormal or zero is a valid (tiny) number, not an error. */
	cr_assert_eq(fv_parse_double("1e-320", &v), FV_OK);
	cr_assert(v >= 0 && v < DBL_MIN);
}

Test(parse_double, refuses_nan_inf_junk_and_overflow)
{
	double v = 3.5;
	const char *bad[] = {"",       "nan",  "NaN",  "inf",  "-inf", "infinity", "1e999",
			     "-1e999", "1.5x", " 1.5", "1.5 ", "abc",  ".",	   "1,5"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(fv_parse_double(bad[i], &v), FV_EINVAL, "'%s'", bad[i]);
	cr_assert_eq(fv_parse_double(NULL, &v), FV_EINVAL);
	cr_assert_float_eq(v, 3.5, 0, "out is untouched on error");
}

Test(fmt, fits_and_truncation_is_an_error)
{
	char buf[8];
	cr_assert_eq(fv_fmt(buf, sizeof(buf), "%s", "1234567"), FV_OK);
	cr_assert_str_eq(buf, "1234567");
	cr_assert_eq(fv_fmt(buf, sizeof(buf), "%s", "12345678"), FV_ELIMIT);
	cr_assert_eq(strlen(buf), 7, "truncated output is still terminated");
	cr_assert_eq(fv_fmt(buf, sizeof(buf), "%d-%d", 1234, 5678), FV_ELIMIT);
	cr_assert_eq(fv_fmt(buf, 1, "%s", ""), FV_OK);
	cr_assert_eq(fv_fmt(buf, 1, "%s", "x"), FV_ELIMIT);
}

Test(strlcpy, truncates_and_returns_source_length)
{
	char buf[4];
	cr_assert_eq(fv_strlcpy(buf, "abcdef", sizeof(buf)), 6);
	cr_assert_str_eq(buf, "abc");
	cr_assert_eq(fv_strlcpy(buf, "ab", sizeof(buf)), 2);
	cr_assert_str_eq(buf, "ab");
}

Test(hex, round_trip)
{
	uint8_t in[256], out[256];
	char hex[513];
	for (int i = 0; i < 256; i++)
		in[i] = (uint8_t)i;
	fv_hex(in, sizeof(in), hex);
	cr_assert_eq(strlen(hex), 512);
	cr_assert_eq(strncmp(hex, "000102", 6), 0);
	cr_assert_str_eq(hex + 506, "fdfeff");
	cr_assert_eq(fv_unhex(hex, out, sizeof(out)), FV_OK);
	cr_assert_arr_eq(in, out, sizeof(in));
	cr_assert_eq(fv_unhex("ABcdEf", out, 3), FV_OK, "upper case accepted");
	cr_assert_eq(out[0], 0xab);
	cr_assert_eq(out[2], 0xef);
	fv_hex(in, 0, hex);
	cr_assert_str_eq(hex, "");
}

Test(hex, refuses_bad_input)
{
	uint8_t out[4];
	cr_assert_eq(fv_unhex("0g", out, 1), FV_EINVAL);
	cr_assert_eq(fv_unhex("g0", out, 1), FV_EINVAL);
	cr_assert_eq(fv_unhex("abc", out, 2), FV_EINVAL, "odd length");
	cr_assert_eq(fv_unhex("ab", out, 2), FV_EINVAL, "too short");
	cr_assert_eq(fv_unhex("aabbcc", out, 2), FV_EINVAL, "too long");
	cr_assert_eq(fv_unhex(" a", out, 1), FV_EINVAL);
	cr_assert_eq(fv_unhex("-1", out, 1), FV_EINVAL);
}

Test(overflow, mul_and_add)
{
	size_t r;
	cr_assert_not(fv_mul_overflow(3, 4, &r));
	cr_assert_eq(r, 12);
	cr_assert_not(fv_mul_overflow(SIZE_MAX, 1, &r));
	cr_assert_not(fv_mul_overflow(SIZE_MAX, 0, &r));
	cr_assert(fv_mul_overflow(SIZE_MAX, 2, &r));
	cr_assert(fv_mul_overflow((size_t)1 << (sizeof(size_t) * 4),
				  (size_t)1 << (sizeof(size_t) * 4), &r));
	cr_assert_not(fv_add_overflow(SIZE_MAX - 1, 1, &r));
	cr_assert_eq(r, SIZE_MAX);
	cr_assert(fv_add_overflow(SIZE_MAX, 1, &r));
	cr_assert(fv_add_overflow(SIZE_MAX / 2 + 1, SIZE_MAX / 2 + 1, &r));
}

Test(time, iso_format)
{
	char buf[32];
	fv_time_iso(0, buf, sizeof(buf));
	cr_assert_str_eq(buf, "1970-01-01T00:00:00Z");
	fv_time_iso(1795600800LL * 1000000, buf, sizeof(buf));
	cr_assert_str_eq(buf, "2026-11-25T10:00:00Z");
	cr_assert(fv_now_us() > 1700000000LL * 1000000);
	cr_assert(fv_mono_ms() <= fv_mono_ms());
}

Test(err, strerror_and_diag)
{
	struct fv_diag d;
	cr_assert_str_eq(fv_strerror(FV_OK), "ok");
	cr_assert_str_eq(fv_strerror(FV_ELIMIT), "limit exceeded");
	cr_assert_str_eq(fv_strerror(FV_ERR_COUNT), "unknown error");
	cr_assert_str_eq(fv_strerror((fv_err)-1), "unknown error");
	for (int e = 0; e < FV_ERR_COUNT; e++)
		cr_assert_not_null(fv_strerror((fv_err)e));
	cr_assert_eq(fv_diag_set(&d, FV_EINVAL, "bad %s", "x"), FV_EINVAL);
	cr_assert_str_eq(d.msg, "bad x");
	fv_diag_prefix(&d, "reading %s: ", "f.ini");
	cr_assert_str_eq(d.msg, "reading f.ini: bad x");
	cr_assert_eq(fv_diag_set(NULL, FV_EIO, "ignored"), FV_EIO);
}
