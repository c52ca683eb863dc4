/* The HTML output buffer and the escaping of untrusted text. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fedval/util.h"
#include "report/report_int.h"

static bool grow(struct rp_buf *b, size_t more)
{
	size_t need, cap;
	char *p;

	if (b->oom)
		return false;
	if (fv_add_overflow(b->len, more + 1, &need))
		goto fail;
	if (need <= b->cap)
		return true;
	cap = b->cap ? b->cap : 16384;
	while (cap < need)
		if (fv_mul_overflow(cap, 2, &cap))
			goto fail;
	if (!(p = fv_realloc(b->p, cap)))
		goto fail;
	b->p = p;
	b->cap = cap;
	return true;
fail:
	b->oom = true;
	return false;
}

void rp_putn(struct rp_buf *b, const char *s, size_t n)
{
	if (!grow(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void rp_put(struct rp_buf *b, const char *s)
{
	rp_putn(b, s, strlen(s));
}

void rp_printf(struct rp_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !grow(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Length of the UTF-8 sequence starting at s (1 for a stray byte, which is then replaced). */
static size_t seqlen(const unsigned char *s, size_t left)
{
	size_t n = s[0] < 0x80		   ? 1
		   : (s[0] & 0xE0) == 0xC0 ? 2
		   : (s[0] & 0xF0) == 0xE0 ? 3
		   : (s[0] & 0xF8) == 0xF0 ? 4
					   : 0;
	if (n == 0 || n > left)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return n;
}

/* Bidirectional embeddings, overrides and isolates (U+202A..U+202E, U+2066..U+2069): they
 * could make a site name display as something else. */
static bool is_bidi(const unsigned char *s, size_t n)
{
	return n == 3 && s[0] == 0xE2 &&
	       ((s[1] == 0x80 && s[2] >= 0xAA && s[2] <= 0xAE) ||
		(s[1] == 0x81 && s[2] >= 0xA6 && s[2] <= 0xA9));
}

void rp_esc(struct rp_buf *b, const char *str, size_t max)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	size_t len = strlen((const char *)s), i = 0;
	bool cut = false;

	if (max && len > max) {
		len = max;
		cut = true;
	}
	while (i < len) {
		size_t n = seqlen(s + i, len - i);
		unsigned char c = s[i];
		if (n == 0 || (n == 1 && ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7F)) ||
		    is_bidi(s + i, n)) {
			if (n == 0 && cut && len - i < 4)
				break; /* a character cut by the length limit */
			rp_put(b, "\xEF\xBF\xBD");
			i += n ? n : 1;
			continue;
		}
		switch (c) {
		case '&':
			rp_put(b, "&amp;");
			break;
		case '<':
			rp_put(b, "&lt;");
			break;
		case '>':
			rp_put(b, "&gt;");
			break;
		case '"':
			rp_put(b, "&quot;");
			break;
		case '\'':
			rp_put(b, "&#39;");
			break;
		default:
			rp_putn(b, (const char *)s + i, n);
		}
		i += n;
	}
	if (cut)
		rp_put(b, "\xE2\x80\xA6");
}

void rp_num(struct rp_buf *b, double v, int prec)
{
	if (!isfinite(v))
		rp_put(b, "\xE2\x80\x93");
	else
		rp_printf(b, "%.*f", prec, v);
}

void rp_ci(struct rp_buf *b, double est, double lo, double hi, int prec)
{
	rp_num(b, est, prec);
	if (!isfinite(lo) && !isfinite(hi))
		return;
	rp_put(b, " <span class=\"ci\">(");
	rp_num(b, lo, prec);
	rp_put(b, "\xE2\x80\x93");
	rp_num(b, hi, prec);
	rp_put(b, ")</span>");
}
