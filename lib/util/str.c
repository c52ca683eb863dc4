#include "fedval/util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

fv_err fv_fmt(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
	return (n < 0 || (size_t)n >= cap) ? FV_ELIMIT : FV_OK;
}

size_t fv_strlcpy(char *dst, const char *src, size_t cap)
{
	size_t len = strlen(src);
	if (cap) {
		size_t n = len < cap - 1 ? len : cap - 1;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

void fv_hex(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

fv_err fv_unhex(const char *in, uint8_t *out, size_t n)
{
	if (strlen(in) != 2 * n)
		return FV_EINVAL;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(in[2 * i]), lo = hexval(in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return FV_EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return FV_OK;
}

/* strtol/strtod skip leading white space; "whole string" means none is accepted. */
static bool starts_clean(const char *s)
{
	return s && *s && !isspace((unsigned char)*s);
}

fv_err fv_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;
	if (!starts_clean(s))
		return FV_EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end != '\0' || v < min || v > max)
		return FV_EINVAL;
	*out = v;
	return FV_OK;
}

fv_err fv_parse_double(const char *s, double *out)
{
	char *end;
	double v;
	if (!starts_clean(s))
		return FV_EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno == ERANGE && fabs(v) > 1.0)
		return FV_EINVAL;
	if (*end != '\0' || !isfinite(v))
		return FV_EINVAL;
	*out = v;
	return FV_OK;
}

int64_t fv_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t fv_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void fv_time_iso(int64_t us, char *out, size_t cap)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
