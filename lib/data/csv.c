/* fedval: a streaming CSV reader (RFC 4180 plus the few extensions real exports need).
 *
 * What is accepted
 *   - A header line is required; its names must be valid UTF-8 and distinct. At most
 *     FV_MAX_CSV_COLS columns.
 *   - A UTF-8 byte order mark at the very start of the file is skipped.
 *   - Records end with LF or CRLF (mixing is allowed); a CR immediately before end of file ends
 *     the last record as well. A CR anywhere else outside quotes is an error, because old-Mac
 *     CR-only files would otherwise be read as one giant record.
 *   - Fields are separated by the configured delimiter (default ','). A field that starts with
 *     '"' is quoted: it may hold delimiters, CR, LF and doubled quotes ("" stands for one ").
 *     After the closing quote only a delimiter or the end of the record may follow. A quote
 *     inside an unquoted field is an error (RFC 4180 forbids it, and guessing what the writer
 *     meant could shift values between columns).
 *   - Blank lines (no byte at all between two line ends) are skipped wherever they occur, so a
 *     trailing empty line does not count as a record. A single-column file must therefore write
 *     an empty value as "" (which is a one-field record whose value is the empty string).
 *   - Every record must have exactly as many fields as the header.
 *
 * What is refused (the message always names the 1-based physical line)
 *   - a record (raw bytes, quotes included, line end excluded) longer than FV_MAX_CSV_LINE:
 *     FV_ELIMIT; this bounds the memory one record can take;
 *   - more header columns than FV_MAX_CSV_COLS: FV_ELIMIT;
 *   - a NUL byte anywhere, an unterminated quote at end of file, a stray quote or CR, invalid
 *     UTF-8 or a duplicate name in the header, a record with the wrong number of fields:
 *     FV_EINVAL. Field values are not checked for UTF-8: the caller decides what they mean.
 *   - After any error the reader stays failed: later fv_csv_next calls return the same code.
 *
 * Line numbers count physical lines from 1 (the header is line 1, the BOM does not count).
 * A record holding quoted line breaks spans several lines; it is named by its first line.
 *
 * NA tokens
 *   With opts->na_tokens == NULL the tokens are "", "NA", "NaN" and "null" (exact, case
 *   sensitive). A caller passes {NULL} for "no value is missing". fv_csv_is_na compares a field
 *   with leading and trailing blanks (space, tab) removed, so " NA" and "" and "  " all match
 *   the defaults. The reader copies the tokens; the caller's array need not outlive the call.
 *
 * Numbers
 *   fv_csv_parse_double accepts only plain decimal notation with the configured decimal mark:
 *   [+-] digits [mark digits] [e|E [+-] digits], surrounding blanks ignored. No thousands
 *   separators, hex floats, "inf" or "nan". Conversion goes through fv_parse_double (strtod),
 *   which reads '.' in the C locale; a program that switches LC_NUMERIC to a ',' locale gets
 *   errors, never silently wrong values, because the whole string must be consumed.
 *
 * I/O: the file is read through a 256 KiB buffer with read(2); memory held by a reader is that
 * buffer plus at most about 2 * FV_MAX_CSV_LINE for the current record, plus the header.
 * A record without quotes, CR or NUL that lies whole in the buffer (the common case) is split
 * in place: its delimiters and line end become NULs in the buffer, found 16 bytes at a time
 * (SSE2 on x86-64, a byte loop elsewhere). Every other record goes through the byte-by-byte
 * state machine, which alone reports errors; both give the same fields.
 * A reader is not thread-safe; distinct readers are independent. */
#include "fedval/data.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <pthread.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "csv_int.h"
#include "fedval/limits.h"
#include "fedval/util.h"

/* Read buffer: large enough that few records straddle its end and read(2) is rarely called,
 * small enough to stay in a core's L2 cache with the parsing's other data. */
#define CSV_BUF_SIZE (256u * 1024)
/* Zero bytes after the buffer's end: the record scanner loads 16 bytes at a time and the number
 * parser 8, possibly past the last byte read; these reads stay inside the allocation. */
#define CSV_BUF_PAD 64
#define CSV_EOF	    (-1)
/* Longest number text fv_csv_parse_double converts (after trimming); longer is "not a number".
 * 128 bytes hold any double written with 17 significant digits and a long exponent many times
 * over; it only bounds a stack buffer. */
#define CSV_MAX_NUMBER 128
/* Longest header name quoted in a message. */
#define CSV_NAME_QUOTE 60

static const char *const default_na[] = {"", "NA", "NaN", "null", NULL};

struct fv_csv {
	int fd;
	unsigned char *buf; /* CSV_BUF_SIZE bytes of input (+ CSV_BUF_PAD zeros); [pos, len) not
			       yet consumed; [0, pos) may hold a record split in place */
	size_t len, pos;
	bool in_eof;  /* read(2) returned 0 */
	int in_errno; /* read(2) failed with this errno; 0 if not */
	char delim, decimal;
	char **na;	 /* owned copies of the NA tokens */
	size_t *na_len;	 /* their lengths */
	bool na_numeric; /* some NA token holds a digit ("-999") */
	size_t nna;
	size_t ncols;
	char **names; /* ncols owned header names */
	char *rec;    /* current record: its stored fields back to back, each NUL-terminated */
	size_t rec_cap;
	size_t *offs; /* start of each stored field in rec */
	size_t offs_cap;
	char **fields;	   /* ncols pointers into rec or buf, handed out by fv_csv_next */
	uint64_t line;	   /* physical line the next byte belongs to (1-based) */
	uint64_t rec_line; /* first line of the record last read or attempted */
	fv_err failed;	   /* sticky error; FV_OK while healthy */
	bool at_end;
	uint64_t size;	  /* bytes in the file (a regular file), 0 if unknown */
	uint64_t read_in; /* bytes read(2) so far */
	uint64_t limit;	  /* fv_csv_set_range: no byte at or past this file offset is read */
	uint64_t at;	  /* file offset of buf[len] */
};

/* ---- input buffer ---- */

/* Move unread bytes to the front and read once more. Returns the number of bytes added (0 at
 * end of file or on error; c->in_errno tells which). */
static size_t csv_refill(struct fv_csv *c)
{
	ssize_t r;

	if (c->in_eof || c->in_errno)
		return 0;
	if (c->pos > 0) {
		memmove(c->buf, c->buf + c->pos, c->len - c->pos);
		c->len -= c->pos;
		c->pos = 0;
	}
	if (c->len == CSV_BUF_SIZE)
		return 0;
	size_t want = CSV_BUF_SIZE - c->len;
	if (c->limit) {
		if (c->at >= c->limit) {
			c->in_eof = true;
			return 0;
		}
		if (want > c->limit - c->at)
			want = (size_t)(c->limit - c->at);
	}
	do {
		r = read(c->fd, c->buf + c->len, want);
	} while (r < 0 && errno == EINTR);
	if (r < 0) {
		c->in_errno = errno ? errno : EIO;
		return 0;
	}
	if (r == 0) {
		c->in_eof = true;
		return 0;
	}
	c->len += (size_t)r;
	c->read_in += (uint64_t)r;
	c->at += (uint64_t)r;
	return (size_t)r;
}

static inline int csv_getc(struct fv_csv *c)
{
	if (c->pos == c->len && csv_refill(c) == 0)
		return CSV_EOF;
	return c->buf[c->pos++];
}

static inline int csv_peek(struct fv_csv *c)
{
	if (c->pos == c->len && csv_refill(c) == 0)
		return CSV_EOF;
	return c->buf[c->pos];
}

/* ---- record parsing ---- */

/* Make room for one more byte plus the NUL that will end the field. */
static fv_err csv_rec_reserve(struct fv_csv *c, size_t used)
{
	size_t need, ncap;
	char *nr;

	if (fv_add_overflow(used, 2, &need))
		return FV_ENOMEM;
	if (need <= c->rec_cap)
		return FV_OK;
	ncap = c->rec_cap ? c->rec_cap : 4096;
	while (ncap < need)
		if (fv_mul_overflow(ncap, 2, &ncap))
			return FV_ENOMEM;
	nr = fv_realloc(c->rec, ncap);
	if (!nr)
		return FV_ENOMEM;
	c->rec = nr;
	c->rec_cap = ncap;
	return FV_OK;
}

/* Record the field that occupies rec[*fstart, *used) as field number *nf. Fields beyond
 * maxstore are counted but not kept (their bytes were never stored). */
static fv_err csv_end_field(struct fv_csv *c, size_t maxstore, size_t *nf, size_t *used,
			    size_t *fstart)
{
	fv_err e = FV_OK;

	if (*nf < maxstore) {
		if (*nf >= c->offs_cap) {
			size_t ncap = c->offs_cap ? c->offs_cap * 2 : 64, bytes;
			size_t *no;
			if (ncap > maxstore)
				ncap = maxstore;
			if (fv_mul_overflow(ncap, sizeof(*no), &bytes)) {
				e = FV_ENOMEM;
				goto out;
			}
			no = fv_realloc(c->offs, bytes);
			if (!no) {
				e = FV_ENOMEM;
				goto out;
			}
			c->offs = no;
			c->offs_cap = ncap;
		}
		if ((e = csv_rec_reserve(c, *used)) != FV_OK)
			goto out;
		c->rec[(*used)++] = '\0';
		c->offs[*nf] = *fstart;
		*fstart = *used;
	}
	(*nf)++;
out:
	return e;
}

enum csv_state { ST_FIELD_START, ST_UNQUOTED, ST_QUOTED, ST_QUOTE_END };

/* Bit mask of the bytes of b[0, 16) that are the delimiter (*md) and of those the fast path
 * must not pass over: line feed, quote, CR, NUL (*ms). b may extend past the data: the caller
 * masks the bits beyond it. */
static inline void csv_scan16(const unsigned char *b, unsigned char delim, unsigned *md,
			      unsigned *ms)
{
#if defined(__SSE2__)
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)b);
	__m128i s = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('\n')),
					      _mm_cmpeq_epi8(x, _mm_set1_epi8('"'))),
				 _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('\r')),
					      _mm_cmpeq_epi8(x, _mm_setzero_si128())));
	*md = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8((char)delim)));
	*ms = (unsigned)_mm_movemask_epi8(s);
#else
	unsigned d = 0, sp = 0;
	for (unsigned k = 0; k < 16; k++) {
		unsigned char ch = b[k];
		d |= (unsigned)(ch == delim) << k;
		sp |= (unsigned)(ch == '\n' || ch == '"' || ch == '\r' || ch == '\0') << k;
	}
	*md = d;
	*ms = sp;
#endif
}

/* The common record, whole in the buffer: ends with LF or CRLF, holds no quote, CR or NUL,
 * at most maxstore fields, not blank, not longer than FV_MAX_CSV_LINE. It is split in place:
 * each delimiter and the line end become NULs in buf and c->fields points at the fields there
 * (valid until the next refill, i.e. the next fv_csv_next). Returns false, having changed and
 * consumed nothing, for any other record: the state machine then reads it (and reports any
 * error). Needs c->fields for maxstore fields (after the header). */
static bool csv_fast_record(struct fv_csv *c, size_t maxstore, size_t *nfields)
{
	unsigned char *b = c->buf + c->pos;
	size_t avail = c->len - c->pos, nf = 0, i, rn, n;
	const unsigned char delim = (unsigned char)c->delim;
	char **f = c->fields;

	if (!avail || maxstore == 0 || !f)
		return false;
	f[0] = (char *)b;
	for (i = 0;; i += 16) {
		unsigned md, ms;
		if (i >= avail || i > FV_MAX_CSV_LINE)
			return false; /* no line end in the buffer, or too long */
		csv_scan16(b + i, delim, &md, &ms);
		if (avail - i < 16) {
			unsigned keep = (1u << (avail - i)) - 1;
			md &= keep;
			ms &= keep;
		}
		if (ms)
			md &= (1u << __builtin_ctz(ms)) - 1; /* delimiters before the stop */
		while (md) {
			size_t j = i + (size_t)__builtin_ctz(md);
			md &= md - 1;
			if (++nf >= maxstore)
				return false;
			f[nf] = (char *)b + j + 1;
		}
		if (ms) {
			n = i + (size_t)__builtin_ctz(ms);
			if (b[n] == '\n') {
				rn = n;
			} else if (b[n] == '\r' && n + 1 < avail && b[n + 1] == '\n') {
				rn = n++;
			} else {
				return false; /* quote, NUL, lone CR, or CR at the buffer's end */
			}
			break;
		}
	}
	if (rn == 0 || rn > FV_MAX_CSV_LINE)
		return false;
	for (i = 1; i <= nf; i++)
		f[i][-1] = '\0';
	b[rn] = '\0';
	*nfields = nf + 1;
	c->pos += n + 1;
	c->rec_line = c->line++;
	return true;
}

/* Read one record. Fields are stored for the first maxstore columns; *nfields receives the
 * number of fields the record really had. For the header (header == true) more than maxstore
 * fields is FV_ELIMIT. At a clean end of file *eof is set and *nfields is 0. *inplace is set
 * when the record was split in place and c->fields already points at its fields; otherwise
 * they are in rec at offs. */
static fv_err csv_read_record(struct fv_csv *c, size_t maxstore, bool header, size_t *nfields,
			      bool *eof, bool *inplace, struct fv_diag *d)
{
	enum csv_state st = ST_FIELD_START;
	size_t raw = 0, used = 0, fstart = 0, nf = 0;
	uint64_t quote_line = 0;
	fv_err e = FV_OK;
	int ch;

	*eof = false;
	*nfields = 0;
	*inplace = false;
	if (!header) {
		if (csv_fast_record(c, maxstore, nfields)) {
			*inplace = true;
			return FV_OK;
		}
		/* A record cut by the buffer's end: move it to the front, read on, try again. */
		if (c->pos > 0 && !c->in_eof && !c->in_errno && csv_refill(c) > 0 &&
		    csv_fast_record(c, maxstore, nfields)) {
			*inplace = true;
			return FV_OK;
		}
	}
	c->rec_line = c->line;
	for (;;) {
		ch = csv_getc(c);
		if (ch == CSV_EOF)
			break;
		if (ch == '\0') {
			e = fv_diag_set(d, FV_EINVAL, "line %llu: NUL byte in the file",
					(unsigned long long)c->line);
			goto out;
		}
		if (ch == '\r' && st != ST_QUOTED) {
			int nx = csv_peek(c);
			if (nx == '\n')
				continue; /* CRLF: the LF ends the record */
			if (nx != CSV_EOF) {
				e = fv_diag_set(d, FV_EINVAL,
						"line %llu: carriage return not followed by a line "
						"feed outside quotes",
						(unsigned long long)c->line);
				goto out;
			}
			ch = '\n'; /* CR as the very last byte ends the record */
			c->line--;
		}
		if (ch == '\n' && st != ST_QUOTED) {
			c->line++;
			if (st == ST_FIELD_START && raw == 0) {
				c->rec_line = c->line; /* blank line: skip */
				continue;
			}
			if ((e = csv_end_field(c, maxstore, &nf, &used, &fstart)) != FV_OK)
				goto nomem;
			goto done;
		}
		if (++raw > FV_MAX_CSV_LINE) {
			e = fv_diag_set(d, FV_ELIMIT, "line %llu: record longer than %u bytes",
					(unsigned long long)c->rec_line, (unsigned)FV_MAX_CSV_LINE);
			goto out;
		}
		switch (st) {
		case ST_FIELD_START:
			if (ch == '"') {
				st = ST_QUOTED;
				quote_line = c->line;
				continue;
			}
			if (ch == c->delim) {
				if ((e = csv_end_field(c, maxstore, &nf, &used, &fstart)) != FV_OK)
					goto nomem;
				continue;
			}
			st = ST_UNQUOTED;
			break;
		case ST_UNQUOTED:
			if (ch == c->delim) {
				if ((e = csv_end_field(c, maxstore, &nf, &used, &fstart)) != FV_OK)
					goto nomem;
				st = ST_FIELD_START;
				continue;
			}
			if (ch == '"') {
				e = fv_diag_set(
				    d, FV_EINVAL,
				    "line %llu: quote character inside an unquoted field "
				    "(field %zu)",
				    (unsigned long long)c->line, nf + 1);
				goto out;
			}
			break;
		case ST_QUOTED:
			if (ch == '"') {
				st = ST_QUOTE_END;
				continue;
			}
			if (ch == '\n')
				c->line++;
			break;
		case ST_QUOTE_END:
			if (ch == '"') {
				st = ST_QUOTED; /* doubled quote stands for one */
				break;
			}
			if (ch == c->delim) {
				if ((e = csv_end_field(c, maxstore, &nf, &used, &fstart)) != FV_OK)
					goto nomem;
				st = ST_FIELD_START;
				continue;
			}
			e = fv_diag_set(d, FV_EINVAL,
					"line %llu: unexpected character after a closing quote "
					"(field %zu)",
					(unsigned long long)c->line, nf + 1);
			goto out;
		}
		if (nf < maxstore) {
			if ((e = csv_rec_reserve(c, used)) != FV_OK)
				goto nomem;
			c->rec[used++] = (char)ch;
		}
		if (st == ST_UNQUOTED) {
			/* Fast path: the rest of an unquoted field within the buffer in one copy.
			 * It stops before any byte the state machine must see, and before the
			 * record length limit, which the slow path then reports. */
			size_t p = c->pos, lim = c->len, run;
			if (lim - p > FV_MAX_CSV_LINE - raw)
				lim = p + (FV_MAX_CSV_LINE - raw);
			while (p < lim) {
				char x = c->buf[p];
				if (x == c->delim || x == '\n' || x == '\r' || x == '"' ||
				    x == '\0')
					break;
				p++;
			}
			run = p - c->pos;
			if (run) {
				if (nf < maxstore) {
					if ((e = csv_rec_reserve(c, used + run)) != FV_OK)
						goto nomem;
					memcpy(c->rec + used, c->buf + c->pos, run);
					used += run;
				}
				raw += run;
				c->pos = p;
			}
		}
	}

	/* End of input. */
	if (c->in_errno) {
		e = fv_diag_set(d, FV_EIO, "line %llu: read failed: %s",
				(unsigned long long)c->line, strerror(c->in_errno));
		goto out;
	}
	if (st == ST_QUOTED) {
		e = fv_diag_set(d, FV_EINVAL,
				"line %llu: quoted field opened here is not closed at end of file",
				(unsigned long long)quote_line);
		goto out;
	}
	if (st == ST_FIELD_START && raw == 0) {
		*eof = true;
		goto out;
	}
	if ((e = csv_end_field(c, maxstore, &nf, &used, &fstart)) != FV_OK)
		goto nomem;
done:
	if (header && nf > maxstore) {
		e = fv_diag_set(d, FV_ELIMIT, "line %llu: header has more than %u columns",
				(unsigned long long)c->rec_line, (unsigned)FV_MAX_CSV_COLS);
		goto out;
	}
	*nfields = nf;
	goto out;
nomem:
	e = fv_diag_set(d, e, "line %llu: out of memory reading the record",
			(unsigned long long)c->rec_line);
out:
	return e;
}

/* ---- header checks ---- */

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool csv_utf8_valid(const unsigned char *s)
{
	while (*s) {
		unsigned char b = *s;
		uint32_t cp;
		int n, i;

		if (b < 0x80) {
			s++;
			continue;
		}
		if (b >= 0xc2 && b <= 0xdf) {
			n = 1;
			cp = b & 0x1f;
		} else if (b >= 0xe0 && b <= 0xef) {
			n = 2;
			cp = b & 0x0f;
		} else if (b >= 0xf0 && b <= 0xf4) {
			n = 3;
			cp = b & 0x07;
		} else {
			return false;
		}
		for (i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		s += n + 1;
	}
	return true;
}

/* Copy a header name into buf for a message: at most CSV_NAME_QUOTE bytes, control characters
 * shown as '?'. */
static const char *csv_show_name(char *buf, size_t cap, const char *s)
{
	size_t i, n = 0;

	for (i = 0; s[i] && n + 4 < cap && i < CSV_NAME_QUOTE; i++)
		buf[n++] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	if (s[i] && n + 4 < cap) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

static int csv_cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static fv_err csv_check_header(struct fv_csv *c, struct fv_diag *d)
{
	char shown[CSV_NAME_QUOTE + 8];
	char **sorted = NULL;
	fv_err e = FV_OK;
	size_t i;

	for (i = 0; i < c->ncols; i++) {
		if (!csv_utf8_valid((const unsigned char *)c->names[i])) {
			e = fv_diag_set(d, FV_EINVAL,
					"line %llu: name of column %zu is not valid UTF-8",
					(unsigned long long)c->rec_line, i + 1);
			goto out;
		}
	}
	sorted = fv_calloc(c->ncols, sizeof(*sorted));
	if (!sorted) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory checking the header");
		goto out;
	}
	memcpy(sorted, c->names, c->ncols * sizeof(*sorted));
	qsort(sorted, c->ncols, sizeof(*sorted), csv_cmp_name);
	for (i = 1; i < c->ncols; i++) {
		if (strcmp(sorted[i - 1], sorted[i]) == 0) {
			e = fv_diag_set(d, FV_EINVAL, "line %llu: duplicate column name '%s'",
					(unsigned long long)c->rec_line,
					csv_show_name(shown, sizeof(shown), sorted[i]));
			goto out;
		}
	}
out:
	fv_free(sorted);
	return e;
}

/* ---- public API ---- */

void fv_csv_close(struct fv_csv *c)
{
	size_t i;

	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	if (c->na)
		for (i = 0; i < c->nna; i++)
			fv_free(c->na[i]);
	fv_free(c->na);
	fv_free(c->na_len);
	if (c->names)
		for (i = 0; i < c->ncols; i++)
			fv_free(c->names[i]);
	fv_free(c->names);
	fv_free(c->buf);
	fv_free(c->rec);
	fv_free(c->offs);
	fv_free(c->fields);
	fv_free(c);
}

static bool csv_is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static bool csv_is_alpha(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static fv_err csv_apply_opts(struct fv_csv *c, const struct fv_csv_opts *opts, struct fv_diag *d)
{
	const char *const *na = default_na;
	fv_err e = FV_OK;
	size_t i, n = 0;

	c->delim = ',';
	c->decimal = '.';
	if (opts) {
		if (opts->delimiter)
			c->delim = opts->delimiter;
		if (opts->decimal)
			c->decimal = opts->decimal;
		if (opts->na_tokens)
			na = opts->na_tokens;
	}
	/* Tab or ASCII punctuation: letters, digits, blanks, quotes and line ends would make
	 * values ambiguous. */
	if (!(c->delim == '\t' || (c->delim > 0x20 && c->delim < 0x7f && c->delim != '"' &&
				   !csv_is_digit(c->delim) && !csv_is_alpha(c->delim)))) {
		e = fv_diag_set(d, FV_EINVAL, "CSV delimiter 0x%02x is not allowed",
				(unsigned)(unsigned char)c->delim);
		goto out;
	}
	if ((c->decimal != '.' && c->decimal != ',') || c->decimal == c->delim) {
		e = fv_diag_set(
		    d, FV_EINVAL,
		    "CSV decimal mark must be '.' or ',' and differ from the delimiter");
		goto out;
	}
	while (na[n])
		n++;
	c->na = fv_calloc(n ? n : 1, sizeof(*c->na));
	c->na_len = fv_calloc(n ? n : 1, sizeof(*c->na_len));
	if (!c->na || !c->na_len) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		c->na[i] = fv_strdup(na[i]);
		if (!c->na[i]) {
			e = fv_diag_set(d, FV_ENOMEM, "out of memory");
			goto out;
		}
		c->na_len[i] = strlen(na[i]);
		if (strpbrk(na[i], "0123456789"))
			c->na_numeric = true;
		c->nna = i + 1;
	}
out:
	return e;
}

fv_err fv_csv_open(const char *path, const struct fv_csv_opts *opts, struct fv_csv **out,
		   struct fv_diag *d)
{
	struct fv_csv *c = NULL;
	size_t nf, i;
	bool eof, inplace;
	fv_err e = FV_OK;

	if (!path || !out) {
		e = fv_diag_set(d, FV_EINVAL, "fv_csv_open: path and out are required");
		goto fail;
	}
	*out = NULL;
	c = fv_calloc(1, sizeof(*c));
	if (!c) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto fail;
	}
	c->fd = -1;
	c->line = 1;
	if ((e = csv_apply_opts(c, opts, d)) != FV_OK)
		goto fail;
	c->buf = fv_calloc(1, CSV_BUF_SIZE + CSV_BUF_PAD);
	if (!c->buf) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto fail;
	}
	c->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (c->fd < 0) {
		e = fv_diag_set(d, errno == ENOENT ? FV_ENOTFOUND : FV_EIO, "%s: %s", path,
				strerror(errno));
		goto fail;
	}
	struct stat st;
	if (fstat(c->fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
		c->size = (uint64_t)st.st_size;

	/* Byte order mark: only at the very start, only the UTF-8 one. */
	while (c->len - c->pos < 3 && csv_refill(c) > 0)
		;
	if (c->len - c->pos >= 3 && memcmp(c->buf + c->pos, "\xef\xbb\xbf", 3) == 0)
		c->pos += 3;

	if ((e = csv_read_record(c, FV_MAX_CSV_COLS, true, &nf, &eof, &inplace, d)) != FV_OK)
		goto fail;
	if (eof) {
		e = fv_diag_set(d, FV_EINVAL, "line %llu: no header line (the file is empty)",
				(unsigned long long)c->line);
		goto fail;
	}
	c->names = fv_calloc(nf, sizeof(*c->names));
	if (!c->names) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; i < nf; i++) {
		c->names[i] = fv_strdup(c->rec + c->offs[i]);
		if (!c->names[i]) {
			e = fv_diag_set(d, FV_ENOMEM, "out of memory");
			goto fail;
		}
		c->ncols = i + 1;
	}
	if ((e = csv_check_header(c, d)) != FV_OK)
		goto fail;
	/* From here on exactly ncols offsets and field pointers are needed. */
	if (c->offs_cap < nf) {
		size_t *no = fv_calloc(nf, sizeof(*no));
		if (!no) {
			e = fv_diag_set(d, FV_ENOMEM, "out of memory");
			goto fail;
		}
		fv_free(c->offs);
		c->offs = no;
		c->offs_cap = nf;
	}
	c->fields = fv_calloc(nf, sizeof(*c->fields));
	if (!c->fields) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto fail;
	}
	*out = c;
	return FV_OK;
fail:
	fv_csv_close(c);
	return e;
}

size_t fv_csv_ncols(const struct fv_csv *c)
{
	return c->ncols;
}

const char *fv_csv_colname(const struct fv_csv *c, size_t i)
{
	return i < c->ncols ? c->names[i] : NULL;
}

long fv_csv_find(const struct fv_csv *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->ncols; i++)
		if (strcmp(c->names[i], name) == 0)
			return (long)i;
	return -1;
}

uint64_t fv_csv_line(const struct fv_csv *c)
{
	return c->rec_line;
}

fv_err fv_csv_next(struct fv_csv *c, char ***fields, bool *eof, struct fv_diag *d)
{
	size_t nf, i;
	bool inplace;
	fv_err e = FV_OK;

	*eof = false;
	if (c->failed) {
		e = fv_diag_set(d, c->failed, "line %llu: reader stopped after an earlier error",
				(unsigned long long)c->rec_line);
		goto out;
	}
	if (c->at_end) {
		*eof = true;
		goto out;
	}
	e = csv_read_record(c, c->ncols, false, &nf, eof, &inplace, d);
	if (e != FV_OK)
		goto out;
	if (*eof) {
		c->at_end = true;
		goto out;
	}
	if (nf != c->ncols) {
		e = fv_diag_set(d, FV_EINVAL,
				"line %llu: record has %zu fields, the header has %zu",
				(unsigned long long)c->rec_line, nf, c->ncols);
		goto out;
	}
	if (!inplace)
		for (i = 0; i < c->ncols; i++)
			c->fields[i] = c->rec + c->offs[i];
	*fields = c->fields;
out:
	if (e != FV_OK)
		c->failed = e;
	return e;
}

static void csv_trim(const char *s, const char **start, size_t *len)
{
	size_t n = strlen(s);

	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	*start = s;
	*len = n;
}

bool fv_csv_is_na(const struct fv_csv *c, const char *field)
{
	const char *s;
	size_t n, i;

	/* A field starting with a digit is no NA token unless some token does too. */
	if (field[0] >= '0' && field[0] <= '9' && !c->na_numeric)
		return false;
	csv_trim(field, &s, &n);
	for (i = 0; i < c->nna; i++)
		if (c->na_len[i] == n && memcmp(c->na[i], s, n) == 0)
			return true;
	return false;
}

/* Case-insensitive prefix test for the words strtod would read as infinity or NaN. */
static bool csv_is_nonfinite_word(const char *s, size_t n)
{
	static const char *const words[] = {"inf", "infinity", "nan"};
	size_t i, j;

	if (n > 0 && (*s == '+' || *s == '-')) {
		s++;
		n--;
	}
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strlen(words[i]) != n)
			continue;
		for (j = 0; j < n; j++)
			if ((s[j] | 0x20) != words[i][j])
				break;
		if (j == n)
			return true;
	}
	return false;
}

/* The exact fast paths of fv_csv_parse_double. s is a NUL-terminated string; the path takes it
 * when s is exactly [+-] digits [mark digits] [e|E [+-] digits], at most CSV_MAX_NUMBER bytes,
 * with at most 19 significant digits, so its value is m * 10^p with m < 2^64 exact in
 * integers. Returns false (the caller checks the syntax and falls back to strtod) for anything
 * else and whenever the result could differ from strtod's correctly rounded double:
 *   - Clinger: m <= 2^53 and |p| <= 22. m and 10^|p| are exact doubles, so one IEEE
 *     multiplication or division rounds once: the correctly rounded value.
 *   - x87 extended precision (64-bit significand), m < 2^64 and |p| <= 27: m and 10^|p| (5^27 <
 *     2^64) are exact long doubles, so L = m op 10^|p| is the exact value rounded once to 64
 *     bits. Rounding L to 53 bits gives the correctly rounded double unless L lies exactly on
 *     a midpoint between two doubles (its 11 extra bits are 100 0000 0000): every midpoint is a
 *     64-bit value, the exact value is within half a 64-bit ulp of L, so a midpoint other than
 *     L cannot lie between them. On a midpoint the second rounding may be wrong: strtod then.
 *     The results lie between 1e-27 and 2e46, never subnormal, never overflowing.
 * Both assume the default rounding mode (round to nearest even), as strtod's results do.
 * padded: at least 8 readable bytes follow every byte of s up to its NUL (a field in the
 * reader's buffer), so digits may be read 8 at a time. */
static inline bool csv_digit(unsigned char ch)
{
	return (unsigned)(ch - '0') < 10;
}

/* The leading run of decimal digits in the 8 bytes at p (little-endian word w): its length. */
static inline unsigned csv_digits8_len(uint64_t w)
{
	/* A byte is a digit iff its high nibble is 3 and adding 6 keeps it so; a carry out of a
	 * non-digit byte can only disturb bytes after it, never the first non-digit. */
	uint64_t y = (w & 0xf0f0f0f0f0f0f0f0ull) |
		     (((w + 0x0606060606060606ull) & 0xf0f0f0f0f0f0f0f0ull) >> 4);
	uint64_t z = y ^ 0x3333333333333333ull; /* zero bytes: digits */
	uint64_t nz = (((z & 0x7f7f7f7f7f7f7f7full) + 0x7f7f7f7f7f7f7f7full) | z) &
		      0x8080808080808080ull; /* high bit of each non-digit byte */
	return nz ? (unsigned)__builtin_ctzll(nz) / 8 : 8;
}

/* The value of the k (1..8) digits at the start of w, as csv_digits8_len measured them. */
static inline uint64_t csv_digits8_value(uint64_t w, unsigned k)
{
	w -= 0x3030303030303030ull;
	w <<= 8 * (8 - k); /* the k digits to the top bytes: the bytes below are leading zeros */
	w = w * 10 + (w >> 8); /* pairs: byte 2i holds digits 2i, 2i+1 as a value 0..99 */
	w = (((w & 0x000000ff000000ffull) * 0x000f424000000064ull) +
	     (((w >> 16) & 0x000000ff000000ffull) * 0x0000271000000001ull)) >>
	    32;
	return (uint32_t)w;
}

static const uint64_t csv_pow10u[] = {1ull,	 10ull,	     100ull,	  1000ull,     10000ull,
				      100000ull, 1000000ull, 10000000ull, 100000000ull};

/* Append the run of digits at p to *m (which may wrap: the caller counts the digits) and
 * return the first byte after it. With padded, 8 bytes at a time and without a branch per
 * digit; the run is cut after more than CSV_MAX_NUMBER digits, which the caller refuses. */
static inline __attribute__((always_inline)) const unsigned char *
csv_digits(const unsigned char *p, uint64_t *m, bool padded)
{
	uint64_t v = *m;
	if (padded) {
		const unsigned char *p0 = p;
		for (;;) {
			uint64_t w;
			unsigned k;
			memcpy(&w, p, 8);
			k = csv_digits8_len(w);
			if (k == 0)
				break;
			v = v * csv_pow10u[k] + csv_digits8_value(w, k);
			p += k;
			if (k < 8 || p - p0 > CSV_MAX_NUMBER)
				break;
		}
	} else {
		while (csv_digit(*p))
			v = v * 10 + (uint64_t)(*p++ - '0');
	}
	*m = v;
	return p;
}

static inline __attribute__((always_inline)) bool fast_decimal(const char *str, char decimal,
							       bool padded, double *out)
{
	/* Index pw + 22, pw in [-22, 22]. */
	static const double p10_mul[45] = {
	    1,	 1,   1,    1,	  1,	1,    1,    1,	  1,	1,    1,    1,	  1,	1,    1,
	    1,	 1,   1,    1,	  1,	1,    1,    1e0,  1e1,	1e2,  1e3,  1e4,  1e5,	1e6,  1e7,
	    1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
	static const double p10_div[45] = {
	    1e22, 1e21, 1e20, 1e19, 1e18, 1e17, 1e16, 1e15, 1e14, 1e13, 1e12, 1e11, 1e10, 1e9, 1e8,
	    1e7,  1e6,	1e5,  1e4,  1e3,  1e2,	1e1,  1e0,  1,	  1,	1,    1,    1,	  1,   1,
	    1,	  1,	1,    1,    1,	  1,	1,    1,    1,	  1,	1,    1,    1,	  1,   1};
	const unsigned char *s = (const unsigned char *)str, *p = s, *d0, *f0 = NULL;
	uint64_t m = 0;
	size_t nint, nfrac = 0;
	int exp = 0, pw;
	bool neg = false;
	double v;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	d0 = p;
	/* Integer parts are mostly short: bytewise here is faster than words. */
	p = csv_digits(p, &m, false);
	nint = (size_t)(p - d0);
	if (*p == (unsigned char)decimal) {
		f0 = ++p;
		p = csv_digits(p, &m, padded);
		nfrac = (size_t)(p - f0);
	}
	if (nint + nfrac == 0)
		return false;
	if ((*p | 0x20) == 'e') {
		bool eneg = false;
		const unsigned char *e0;
		p++;
		if (*p == '+' || *p == '-')
			eneg = *p++ == '-';
		for (e0 = p; csv_digit(*p); p++)
			if (exp < 10000)
				exp = exp * 10 + (*p - '0');
		if (p == e0)
			return false;
		if (eneg)
			exp = -exp;
	}
	if (*p != '\0' || p - s > CSV_MAX_NUMBER)
		return false;
	if (nint + nfrac > 19) {
		/* Leading zeros (before and after the mark) are not significant; m wrapped
		 * only if more than 19 digits are. */
		size_t lz = 0;
		const unsigned char *q = d0;
		for (; *q == '0' || (*q == (unsigned char)decimal && q + 1 == f0); q++)
			lz += *q == '0';
		if (nint + nfrac - lz > 19)
			return false;
	}
	pw = exp - (int)nfrac;
	if (m == 0) {
		v = 0;
	} else if (m <= (1ull << 53) && pw >= -22 && pw <= 22) {
		/* m * 10^pw for pw >= 0, m / 10^-pw below: one factor is 1, so one rounding,
		 * and no branch on the sign of pw (integers and decimals alternate by column). */
		v = (double)(int64_t)m * p10_mul[pw + 22] / p10_div[pw + 22];
	} else {
#if LDBL_MANT_DIG == 64 && (defined(__x86_64__) || defined(__i386__))
		static const long double p10l[] = {1e0L,  1e1L,	 1e2L,	1e3L,  1e4L,  1e5L,  1e6L,
						   1e7L,  1e8L,	 1e9L,	1e10L, 1e11L, 1e12L, 1e13L,
						   1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L, 1e20L,
						   1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L};
		long double l;
		uint64_t sig;
		if (pw < -27 || pw > 27)
			return false;
		l = pw < 0 ? (long double)m / p10l[-pw] : (long double)m * p10l[pw];
		memcpy(&sig, &l, sizeof(sig)); /* x87: the 64-bit significand comes first */
		if ((sig & 0x7ff) == 0x400)
			return false;
		v = (double)l;
#else
		return false;
#endif
	}
	*out = neg ? -v : v;
	return true;
}

/* fv_csv_parse_double for what the fast path did not take: blanks, syntax errors, more than
 * 19 significant digits, exponents beyond the fast path's range. */
static __attribute__((noinline)) fv_err csv_parse_slow(const struct fv_csv *c, const char *field,
						       double *out, struct fv_diag *d)
{
	char tmp[CSV_MAX_NUMBER + 1];
	const char *s;
	size_t n, i = 0, mant = 0;
	fv_err e = FV_OK;

	csv_trim(field, &s, &n);
	if (n == 0) {
		e = fv_diag_set(d, FV_EINVAL, "empty");
		goto out;
	}
	if (csv_is_nonfinite_word(s, n)) {
		e = fv_diag_set(d, FV_EINVAL, "not a finite number");
		goto out;
	}
	if (n > CSV_MAX_NUMBER) {
		e = fv_diag_set(d, FV_EINVAL, "not a number (longer than %d characters)",
				CSV_MAX_NUMBER);
		goto out;
	}
	if (s[i] == '+' || s[i] == '-')
		i++;
	while (i < n && csv_is_digit(s[i]))
		i++, mant++;
	if (i < n && s[i] == c->decimal) {
		i++;
		while (i < n && csv_is_digit(s[i]))
			i++, mant++;
	}
	if (mant == 0)
		goto syntax;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		size_t exp = 0;
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		while (i < n && csv_is_digit(s[i]))
			i++, exp++;
		if (exp == 0)
			goto syntax;
	}
	if (i != n)
		goto syntax;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (fast_decimal(tmp, c->decimal, false, out))
		goto out;
	if (c->decimal != '.')
		for (i = 0; i < n; i++)
			if (tmp[i] == c->decimal)
				tmp[i] = '.';
	if (fv_parse_double(tmp, out) != FV_OK) {
		e = fv_diag_set(d, FV_EINVAL, "out of range or not convertible");
		goto out;
	}
	goto out;
syntax:
	e = fv_diag_set(d, FV_EINVAL, "not a number");
out:
	return e;
}

bool fv_csv_try_number(const struct fv_csv *c, const char *field, double *out)
{
	/* Without a digit in any NA token no NA token can pass fast_decimal, which needs a
	 * digit and no blanks. */
	uintptr_t fa = (uintptr_t)field, ba = (uintptr_t)c->buf;
	if (c->na_numeric && fv_csv_is_na(c, field))
		return false;
	if (fa >= ba && fa < ba + c->len)
		return fast_decimal(field, c->decimal, true, out);
	return fast_decimal(field, c->decimal, false, out);
}

fv_err fv_csv_parse_double(const struct fv_csv *c, const char *field, double *out,
			   struct fv_diag *d)
{
	/* Most fields are plain decimals: try the exact fast path before the full checks. A
	 * field split in place lies in the buffer, followed by its padding: digits may be read
	 * in words there. */
	uintptr_t fa = (uintptr_t)field, ba = (uintptr_t)c->buf;
	if (fa >= ba && fa < ba + c->len) {
		if (fast_decimal(field, c->decimal, true, out))
			return FV_OK;
	} else if (fast_decimal(field, c->decimal, false, out)) {
		return FV_OK;
	}
	return csv_parse_slow(c, field, out, d);
}

double fv_csv_progress(const struct fv_csv *c)
{
	uint64_t done;
	if (!c->size)
		return -1;
	done = c->read_in - (c->len - c->pos);
	return done >= c->size ? 1.0 : (double)done / (double)c->size;
}

fv_err fv_csv_set_range(struct fv_csv *c, uint64_t start, uint64_t end, uint64_t line,
			struct fv_diag *d)
{
	if (!c || end <= start || line == 0)
		return fv_diag_set(d, FV_EINVAL, "fv_csv_set_range: bad range");
	if (lseek(c->fd, (off_t)start, SEEK_SET) != (off_t)start)
		return fv_diag_set(d, FV_EIO, "cannot seek to byte %llu: %s",
				   (unsigned long long)start, strerror(errno));
	c->pos = c->len = 0;
	c->in_eof = c->at_end = false;
	c->in_errno = 0;
	c->at = start;
	c->limit = end;
	c->line = c->rec_line = line;
	c->read_in = 0;
	c->size = end - start;
	return FV_OK;
}

/* Bit i of *nl / *q: byte b[i] (i < 64) is a line feed / a quote. */
static inline void csv_scan64(const unsigned char *b, uint64_t *nl, uint64_t *q)
{
#if defined(__SSE2__)
	uint64_t n = 0, qq = 0;
	for (unsigned k = 0; k < 4; k++) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(b + 16 * k));
		n |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('\n')))
		     << (16 * k);
		qq |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')))
		      << (16 * k);
	}
	*nl = n;
	*q = qq;
#else
	uint64_t n = 0, qq = 0;
	for (unsigned k = 0; k < 64; k++) {
		n |= (uint64_t)(b[k] == '\n') << k;
		qq |= (uint64_t)(b[k] == '"') << k;
	}
	*nl = n;
	*q = qq;
#endif
}

/* Bytes fv_csv_split reads at a time, per scanning thread. */
#define CSV_SPLIT_BUF (1024u * 1024)
/* fv_csv_split scans with one more thread for every this many bytes of records (up to the
 * online cores, at most CSV_SPLIT_THREADS): below it a thread costs more than it saves. */
#define CSV_SPLIT_PER_THREAD (1ull << 20)
#define CSV_SPLIT_THREADS    8

/* What one scan of bytes [from, to) of the file found, knowing nothing of what came before:
 * its line feeds and quotes, and for each parity p the first line feed after an even (p = 0)
 * or odd (p = 1) number of the chunk's quotes, with the line feeds up to and including it.
 * A line feed there ends a record iff the quotes before the chunk have parity p. */
struct csv_chunk {
	uint64_t from, to;
	uint64_t nl, quotes;
	uint64_t cand[2], cand_nl[2]; /* cand: offset of the line feed + 1, 0 if none */
	int err;		      /* errno of a failed read, 0 if none */
};

struct csv_scan_job {
	int fd;
	struct csv_chunk *ch;
	size_t first, count, stride; /* chunks first, first + stride, ... (count in all) */
};

static void csv_scan_chunk(int fd, unsigned char *buf, struct csv_chunk *ch)
{
	uint64_t off = ch->from, nl_seen = 0, q_seen = 0;
	bool found[2] = {false, false};

	while (off < ch->to) {
		size_t want = ch->to - off > CSV_SPLIT_BUF ? CSV_SPLIT_BUF : (size_t)(ch->to - off);
		ssize_t r;
		do {
			r = pread(fd, buf, want, (off_t)off);
		} while (r < 0 && errno == EINTR);
		if (r <= 0) {
			ch->err = r < 0 ? (errno ? errno : EIO) : EIO; /* shorter than at fstat */
			return;
		}
		memset(buf + r, 0, 64); /* the last block's loads: zeros match nothing */
		for (ssize_t i = 0; i < r; i += 64) {
			uint64_t nl, q, bits;
			csv_scan64(buf + i, &nl, &q);
			if (found[0] && found[1]) {
				nl_seen += (uint64_t)__builtin_popcountll(nl);
				q_seen += (uint64_t)__builtin_popcountll(q);
				continue;
			}
			for (bits = nl | q; bits; bits &= bits - 1) {
				unsigned j = (unsigned)__builtin_ctzll(bits);
				if (q >> j & 1) {
					q_seen++;
					continue;
				}
				nl_seen++;
				if (!found[q_seen & 1]) {
					found[q_seen & 1] = true;
					ch->cand[q_seen & 1] = off + (uint64_t)i + j + 1;
					ch->cand_nl[q_seen & 1] = nl_seen;
				}
			}
		}
		off += (uint64_t)r;
	}
	ch->nl = nl_seen;
	ch->quotes = q_seen;
}

static void *csv_scan_thread(void *arg)
{
	struct csv_scan_job *job = arg;
	unsigned char *buf = fv_alloc(CSV_SPLIT_BUF + 64);

	for (size_t k = 0; k < job->count; k++) {
		struct csv_chunk *ch = &job->ch[job->first + k * job->stride];
		if (!buf)
			ch->err = ENOMEM;
		else
			csv_scan_chunk(job->fd, buf, ch);
	}
	fv_free(buf);
	return NULL;
}

fv_err fv_csv_split(const char *path, size_t nparts, uint64_t *start, uint64_t *line, size_t *got,
		    struct fv_diag *d)
{
	unsigned char *buf = NULL;
	struct csv_chunk *ch = NULL;
	uint64_t size, off = 0, lines = 1, hstart = 0, step;
	bool quoted = false, content = false;
	size_t k = 0, nthreads, started = 0;
	struct csv_scan_job jobs[CSV_SPLIT_THREADS];
	pthread_t tid[CSV_SPLIT_THREADS];
	struct stat st;
	int fd;
	fv_err e = FV_OK;

	*got = 0;
	if (!path || nparts == 0 || !start || !line)
		return fv_diag_set(d, FV_EINVAL, "fv_csv_split: bad arguments");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return fv_diag_set(d, errno == ENOENT ? FV_ENOTFOUND : FV_EIO, "%s: %s", path,
				   strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		e = fv_diag_set(d, FV_EINVAL, "%s: not a regular file", path);
		goto out;
	}
	size = (uint64_t)st.st_size;
	if (!(buf = fv_alloc(CSV_SPLIT_BUF + 64))) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto out;
	}
	/* Record ends are the line feeds outside quotes ("" inside a quoted field toggles
	 * twice, so the parity of the quotes seen says where we are). The first record is the
	 * header, read here byte by byte: part 0 starts after it. */
	while (!hstart) {
		ssize_t r;
		do {
			r = read(fd, buf, CSV_SPLIT_BUF);
		} while (r < 0 && errno == EINTR);
		if (r < 0) {
			e = fv_diag_set(d, FV_EIO, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			goto out; /* no record after the header: no parts */
		for (ssize_t i = 0; i < r; i++) {
			unsigned char ch0 = buf[i];
			/* blank lines before the header are skipped, as is a byte order mark */
			if (ch0 != '\n' && ch0 != '\r' &&
			    !(off + (uint64_t)i < 3 && off == 0 && r >= 3 &&
			      !memcmp(buf, "\xef\xbb\xbf", 3)))
				content = true;
			if (ch0 == '"') {
				quoted = !quoted;
			} else if (ch0 == '\n') {
				lines++;
				if (!quoted && content) {
					hstart = off + (uint64_t)i + 1;
					break;
				}
			}
		}
		off += (uint64_t)r;
	}
	if (hstart >= size)
		goto out;
	start[k] = hstart;
	line[k++] = lines;
	/* The records' bytes in nparts chunks of about equal size, scanned in parallel. Part j
	 * (j >= 1) starts after the first line feed outside quotes at or after the start of
	 * chunk j; the quotes counted in chunks 0..j-1 say which candidate that is. */
	step = (size - hstart) / nparts;
	if (step == 0)
		nparts = 1;
	if (!(ch = fv_calloc(nparts, sizeof(*ch)))) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t j = 0; j < nparts; j++) {
		ch[j].from = j ? hstart + j * step - 1 : hstart;
		ch[j].to = j + 1 < nparts ? hstart + (j + 1) * step - 1 : size;
	}
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	nthreads = (size_t)((size - hstart) / CSV_SPLIT_PER_THREAD) + 1;
	if (nthreads > (size_t)(ncpu > 0 ? ncpu : 1))
		nthreads = (size_t)(ncpu > 0 ? ncpu : 1);
	if (nthreads > CSV_SPLIT_THREADS)
		nthreads = CSV_SPLIT_THREADS;
	if (nthreads > nparts)
		nthreads = nparts;
	for (size_t t = 0; t < nthreads; t++)
		jobs[t] = (struct csv_scan_job){fd, ch, t, (nparts - t + nthreads - 1) / nthreads,
						nthreads};
	/* Thread 0's chunks are scanned here; a thread that cannot start leaves its chunks to
	 * this thread too. */
	for (size_t t = 1; t < nthreads; t++) {
		if (pthread_create(&tid[t], NULL, csv_scan_thread, &jobs[t]) != 0)
			break;
		started = t;
	}
	for (size_t c0 = 0; c0 < jobs[0].count; c0++)
		csv_scan_chunk(fd, buf, &ch[c0 * nthreads]);
	for (size_t t = 1; t <= started; t++)
		pthread_join(tid[t], NULL);
	for (size_t t = started + 1; t < nthreads; t++)
		csv_scan_thread(&jobs[t]);
	for (size_t j = 0; j < nparts; j++) {
		if (ch[j].err) {
			e = fv_diag_set(d, FV_EIO, "%s: %s", path, strerror(ch[j].err));
			goto out;
		}
	}
	/* Chunk 0 starts outside quotes (after the header). */
	uint64_t qpar = 0, nl_before = 0;
	for (size_t j = 1; j < nparts; j++) {
		qpar += ch[j - 1].quotes;
		nl_before += ch[j - 1].nl;
		/* The cut: this chunk's candidate for the parity here, or a later chunk's. */
		uint64_t q = qpar, nl = nl_before;
		for (size_t i = j; i < nparts; i++) {
			uint64_t at = ch[i].cand[q & 1];
			if (at) {
				if (at > start[k - 1] && at < size && k < nparts) {
					start[k] = at;
					line[k++] = lines + nl + ch[i].cand_nl[q & 1];
				}
				break;
			}
			q += ch[i].quotes;
			nl += ch[i].nl;
		}
	}
	*got = k;
out:
	fv_free(ch);
	fv_free(buf);
	close(fd);
	return e;
}
