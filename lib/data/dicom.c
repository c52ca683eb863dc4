/* fedval: a minimal DICOM Part 10 reader for the image-folder source (dicom.h), written from
 * the standard (PS3.10 §7 file format, PS3.5 §7 data elements, §A transfer syntaxes).
 *
 * Contract
 *   - The file: a 128-byte preamble (ignored), "DICM", the File Meta Information (group 0002,
 *     always Explicit VR Little Endian) with a Transfer Syntax UID (0002,0010), then the data
 *     set in that transfer syntax. Read: Implicit VR Little Endian (1.2.840.10008.1.2) and
 *     Explicit VR Little Endian (1.2.840.10008.1.2.1). Refused, naming the UID: every other
 *     transfer syntax (big endian, deflated, JPEG, JPEG-LS, JPEG 2000, RLE, ...).
 *   - Attributes interpreted, at the top level of the data set only (those inside sequences,
 *     such as an icon's, are skipped): Samples per Pixel (0028,0002), Photometric
 *     Interpretation (0028,0004), Planar Configuration (0028,0006), Number of Frames
 *     (0028,0008), Rows (0028,0010), Columns (0028,0011), Bits Allocated (0028,0100), Bits
 *     Stored (0028,0101), High Bit (0028,0102), Pixel Representation (0028,0103), Rescale
 *     Intercept (0028,1052), Rescale Slope (0028,1053), Pixel Data (7FE0,0010). Every other
 *     element is skipped by its length without looking at its value; an undefined-length
 *     sequence (SQ, or UN holding Implicit VR data) is walked item by item to its Sequence
 *     Delimitation Item, at most FV_MAX_DICOM_DEPTH deep.
 *   - Accepted images: one frame; Samples per Pixel 1 with MONOCHROME1 or MONOCHROME2, or 3 with
 *     RGB and Planar Configuration 0 or 1; Bits Allocated 8 or 16; Bits Stored 1..Bits
 *     Allocated with High Bit = Bits Stored - 1; Pixel Representation 0 or 1; Rescale Slope and
 *     Intercept both or neither, finite, |x| <= FV_MAX_DICOM_RESCALE, slope not 0; native
 *     (not encapsulated) Pixel Data of exactly Rows x Columns x Samples x Bits Allocated / 8
 *     bytes (plus one pad byte when that is odd). Anything else is refused with the attribute
 *     and the reason. A required attribute missing or given twice is refused.
 *   - Hostile input: every length is checked against the bytes left before it is used; no
 *     allocation; recursion bounded by FV_MAX_DICOM_DEPTH; work linear in the file's size. */
#include "dicom.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fedval/limits.h"

#define DCM_UNDEFINED 0xFFFFFFFFu
#define TS_IMPLICIT   "1.2.840.10008.1.2"
#define TS_EXPLICIT   "1.2.840.10008.1.2.1"

/* Attributes interpreted, one bit each in struct dcm_reader.seen. */
enum {
	A_SAMPLES,
	A_PHOTOMETRIC,
	A_PLANAR,
	A_FRAMES,
	A_ROWS,
	A_COLS,
	A_BITS_ALLOC,
	A_BITS_STORED,
	A_HIGH_BIT,
	A_PIXEL_REP,
	A_INTERCEPT,
	A_SLOPE,
	A_PIXEL_DATA,
	A_COUNT
};

static const struct {
	uint16_t group, elem;
	const char *name;
} attrs[A_COUNT] = {
    [A_SAMPLES] = {0x0028, 0x0002, "Samples per Pixel"},
    [A_PHOTOMETRIC] = {0x0028, 0x0004, "Photometric Interpretation"},
    [A_PLANAR] = {0x0028, 0x0006, "Planar Configuration"},
    [A_FRAMES] = {0x0028, 0x0008, "Number of Frames"},
    [A_ROWS] = {0x0028, 0x0010, "Rows"},
    [A_COLS] = {0x0028, 0x0011, "Columns"},
    [A_BITS_ALLOC] = {0x0028, 0x0100, "Bits Allocated"},
    [A_BITS_STORED] = {0x0028, 0x0101, "Bits Stored"},
    [A_HIGH_BIT] = {0x0028, 0x0102, "High Bit"},
    [A_PIXEL_REP] = {0x0028, 0x0103, "Pixel Representation"},
    [A_INTERCEPT] = {0x0028, 0x1052, "Rescale Intercept"},
    [A_SLOPE] = {0x0028, 0x1053, "Rescale Slope"},
    [A_PIXEL_DATA] = {0x7FE0, 0x0010, "Pixel Data"},
};

struct dcm_reader {
	const uint8_t *buf;
	size_t len;
	bool explicit_vr; /* of the data set (the meta group is always explicit) */
	char *why;
	size_t cap;
	unsigned seen;				   /* bits of A_* found at the top level */
	unsigned us[A_COUNT];			   /* values of the US attributes */
	char text[A_COUNT][FV_MAX_DICOM_TEXT + 1]; /* trimmed values of the text attributes */
	size_t px_off, px_len;			   /* Pixel Data */
};

/* One element's header. */
struct dcm_elem {
	uint16_t group, elem;
	char vr[3];   /* "" for items and delimiters, and in Implicit VR */
	uint32_t len; /* DCM_UNDEFINED for an undefined length */
	size_t value; /* offset of the value */
};

static fv_err refuse(struct dcm_reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static fv_err refuse(struct dcm_reader *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->why, r->cap, fmt, ap);
	va_end(ap);
	return FV_EINVAL;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

/* Explicit VR: whether the VR has the long header form (2 reserved bytes, 32-bit length);
 * -1 for a VR not in PS3.5 Table 6.2-1. */
static int vr_long_form(const char *vr)
{
	static const char *const longs[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ",
					    "SV", "UC", "UN", "UR", "UT", "UV"};
	static const char *const shorts[] = {"AE", "AS", "AT", "CS", "DA", "DS", "DT",
					     "FL", "FD", "IS", "LO", "LT", "PN", "SH",
					     "SL", "SS", "ST", "TM", "UI", "UL", "US"};

	for (size_t i = 0; i < sizeof(longs) / sizeof(longs[0]); i++)
		if (!strcmp(vr, longs[i]))
			return 1;
	for (size_t i = 0; i < sizeof(shorts) / sizeof(shorts[0]); i++)
		if (!strcmp(vr, shorts[i]))
			return 0;
	return -1;
}

/* Read the element header at *pos. Items and delimiters (group FFFE) have no VR in any
 * transfer syntax. A defined length must fit in the bytes left. */
static fv_err read_header(struct dcm_reader *r, size_t pos, bool explicit_vr, struct dcm_elem *el)
{
	const uint8_t *p = r->buf + pos;
	size_t left = r->len - pos, hdr = 8;

	if (left < 8)
		return refuse(r, "truncated: an element header at byte %zu is cut off", pos);
	el->group = le16(p);
	el->elem = le16(p + 2);
	el->vr[0] = '\0';
	if (el->group == 0xFFFE || !explicit_vr) {
		el->len = le32(p + 4);
	} else {
		int lf;
		el->vr[0] = (char)p[4];
		el->vr[1] = (char)p[5];
		el->vr[2] = '\0';
		if ((lf = vr_long_form(el->vr)) < 0)
			return refuse(r, "element (%04X,%04X) at byte %zu: not a DICOM VR",
				      el->group, el->elem, pos);
		if (lf) {
			if (left < 12)
				return refuse(
				    r, "truncated: an element header at byte %zu is cut off", pos);
			el->len = le32(p + 8);
			hdr = 12;
		} else {
			el->len = le16(p + 6);
		}
	}
	el->value = pos + hdr;
	if (el->len != DCM_UNDEFINED && el->len > r->len - el->value)
		return refuse(
		    r,
		    "element (%04X,%04X) at byte %zu: length %lu runs past the end of the "
		    "file (%zu bytes left)",
		    el->group, el->elem, pos, (unsigned long)el->len, r->len - el->value);
	return FV_OK;
}

/* A text value trimmed of leading blanks and trailing blanks and NULs (PS3.5 §6.2 padding). */
static fv_err keep_text(struct dcm_reader *r, int a, const struct dcm_elem *el)
{
	const char *s = (const char *)r->buf + el->value;
	size_t n = el->len;

	while (n && (s[n - 1] == ' ' || s[n - 1] == '\0'))
		n--;
	while (n && *s == ' ') {
		s++;
		n--;
	}
	if (n > FV_MAX_DICOM_TEXT)
		return refuse(r, "%s (%04X,%04X) is longer than %d bytes", attrs[a].name,
			      attrs[a].group, attrs[a].elem, FV_MAX_DICOM_TEXT);
	memcpy(r->text[a], s, n);
	r->text[a][n] = '\0';
	return FV_OK;
}

/* Record an attribute of the top-level data set. */
static fv_err keep(struct dcm_reader *r, const struct dcm_elem *el)
{
	int a;

	for (a = 0; a < A_COUNT; a++)
		if (attrs[a].group == el->group && attrs[a].elem == el->elem)
			break;
	if (a == A_COUNT)
		return FV_OK;
	if (r->seen & (1u << a))
		return refuse(r, "%s (%04X,%04X) appears twice", attrs[a].name, el->group,
			      el->elem);
	r->seen |= 1u << a;
	switch (a) {
	case A_PHOTOMETRIC:
	case A_FRAMES:
	case A_INTERCEPT:
	case A_SLOPE:
		return keep_text(r, a, el);
	case A_PIXEL_DATA:
		r->px_off = el->value;
		r->px_len = el->len;
		return FV_OK;
	default:
		if (el->len != 2)
			return refuse(r, "%s (%04X,%04X) has length %lu; expected one 16-bit value",
				      attrs[a].name, el->group, el->elem, (unsigned long)el->len);
		r->us[a] = le16(r->buf + el->value);
		return FV_OK;
	}
}

static fv_err walk_sequence(struct dcm_reader *r, size_t *pos, bool explicit_vr, unsigned depth);

/* The elements from *pos: to end, or (in_item) to the Item Delimitation Item that closes an
 * undefined-length item. depth 0 is the top-level data set, whose attributes are kept. */
static fv_err walk_dataset(struct dcm_reader *r, size_t *pos, size_t end, bool explicit_vr,
			   unsigned depth, bool in_item)
{
	struct dcm_elem el;
	fv_err e;

	while (*pos < end) {
		if ((e = read_header(r, *pos, explicit_vr, &el)) != FV_OK)
			return e;
		if (el.group == 0xFFFE) {
			if (in_item && el.elem == 0xE00D) {
				*pos = el.value;
				return FV_OK;
			}
			return refuse(r, "unexpected item tag (FFFE,%04X) at byte %zu", el.elem,
				      *pos);
		}
		if (el.len == DCM_UNDEFINED) {
			bool seq_explicit = explicit_vr;
			if (el.group == 0x7FE0 && el.elem == 0x0010)
				return refuse(r, "Pixel Data (7FE0,0010) is encapsulated "
						 "(compressed); only native pixel data is read");
			/* PS3.5 §6.2.2: an undefined-length UN holds Implicit VR items. */
			if (explicit_vr && !strcmp(el.vr, "UN"))
				seq_explicit = false;
			else if (explicit_vr && strcmp(el.vr, "SQ") != 0)
				return refuse(r,
					      "element (%04X,%04X) at byte %zu: undefined length "
					      "with VR %s",
					      el.group, el.elem, *pos, el.vr);
			*pos = el.value;
			if ((e = walk_sequence(r, pos, seq_explicit, depth + 1)) != FV_OK)
				return e;
			if (*pos > end)
				return refuse(r, "a sequence runs past the end of its item");
			continue;
		}
		if (depth == 0 && (e = keep(r, &el)) != FV_OK)
			return e;
		*pos = el.value + el.len;
	}
	if (in_item)
		return refuse(r, "truncated: an undefined-length item has no Item Delimitation "
				 "Item");
	if (*pos != end)
		return refuse(r, "an item's elements run past its length");
	return FV_OK;
}

/* The items of an undefined-length sequence, *pos at the first, to its Sequence Delimitation
 * Item. Items are skipped by their length or walked to their Item Delimitation Item. */
static fv_err walk_sequence(struct dcm_reader *r, size_t *pos, bool explicit_vr, unsigned depth)
{
	struct dcm_elem el;
	fv_err e;

	if (depth > FV_MAX_DICOM_DEPTH)
		return refuse(r, "sequences nested deeper than %d levels", FV_MAX_DICOM_DEPTH);
	for (;;) {
		if ((e = read_header(r, *pos, explicit_vr, &el)) != FV_OK)
			return e;
		if (el.group != 0xFFFE || (el.elem != 0xE000 && el.elem != 0xE0DD))
			return refuse(r,
				      "element (%04X,%04X) at byte %zu where a sequence item "
				      "was expected",
				      el.group, el.elem, *pos);
		*pos = el.value;
		if (el.elem == 0xE0DD)
			return FV_OK;
		if (el.len != DCM_UNDEFINED) {
			size_t end = el.value + el.len;
			/* A defined-length item is walked too: an undefined length inside it must
			 * end inside it. */
			if ((e = walk_dataset(r, pos, end, explicit_vr, depth, false)) != FV_OK)
				return e;
		} else if ((e = walk_dataset(r, pos, r->len, explicit_vr, depth, true)) != FV_OK) {
			return e;
		}
	}
}

/* The File Meta Information: Explicit VR Little Endian elements of group 0002 from byte 132.
 * Sets r->explicit_vr from the Transfer Syntax UID. */
static fv_err read_meta(struct dcm_reader *r, size_t *pos)
{
	struct dcm_elem el;
	char ts[FV_MAX_DICOM_TEXT + 1] = "";
	bool have_ts = false;
	fv_err e;

	while (*pos + 2 <= r->len && le16(r->buf + *pos) == 0x0002) {
		if ((e = read_header(r, *pos, true, &el)) != FV_OK)
			return e;
		if (el.len == DCM_UNDEFINED)
			return refuse(r, "file meta element (0002,%04X) has an undefined length",
				      el.elem);
		if (el.elem == 0x0010) {
			const char *s = (const char *)r->buf + el.value;
			size_t n = el.len;
			while (n && (s[n - 1] == ' ' || s[n - 1] == '\0'))
				n--;
			if (have_ts)
				return refuse(r, "Transfer Syntax UID (0002,0010) appears twice");
			if (n > FV_MAX_DICOM_TEXT)
				return refuse(r,
					      "Transfer Syntax UID (0002,0010) is longer than %d "
					      "bytes",
					      FV_MAX_DICOM_TEXT);
			for (size_t i = 0; i < n; i++)
				ts[i] = (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ? s[i] : '?';
			ts[n] = '\0';
			have_ts = true;
		}
		*pos = el.value + el.len;
	}
	if (!have_ts)
		return refuse(r, "no Transfer Syntax UID (0002,0010) in the file meta information");
	if (!strcmp(ts, TS_IMPLICIT)) {
		r->explicit_vr = false;
	} else if (!strcmp(ts, TS_EXPLICIT)) {
		r->explicit_vr = true;
	} else {
		const char *what =
		    !strcmp(ts, "1.2.840.10008.1.2.2")	    ? "big endian"
		    : !strcmp(ts, "1.2.840.10008.1.2.1.99") ? "deflated"
		    : !strncmp(ts, "1.2.840.10008.1.2.4.", 20) || !strcmp(ts, "1.2.840.10008.1.2.5")
			? "compressed"
			: "not supported";
		return refuse(r,
			      "transfer syntax %s (0002,0010) is %s; only uncompressed Implicit or "
			      "Explicit VR Little Endian is read",
			      ts, what);
	}
	return FV_OK;
}

/* A decimal string (DS) or integer string (IS): digits, sign, point, exponent; no hex, inf,
 * nan or second value. */
static bool parse_number(const char *s, double *out)
{
	char *end;

	if (!*s || strspn(s, "0123456789+-.eE") != strlen(s))
		return false;
	*out = strtod(s, &end);
	return *end == '\0' && isfinite(*out);
}

/* Whether each attribute present has an accepted value, and all required are present. */
static fv_err check_image(struct dcm_reader *r, struct fv_dicom_image *im)
{
	static const int required[] = {A_SAMPLES,  A_PHOTOMETRIC, A_ROWS,
				       A_COLS,	   A_BITS_ALLOC,  A_BITS_STORED,
				       A_HIGH_BIT, A_PIXEL_REP,	  A_PIXEL_DATA};
	const char *pi = r->text[A_PHOTOMETRIC];
	uint64_t npx, need;
	double v;

	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		int a = required[i];
		if (!(r->seen & (1u << a)))
			return refuse(r, "no %s (%04X,%04X)", attrs[a].name, attrs[a].group,
				      attrs[a].elem);
	}
	im->rows = r->us[A_ROWS];
	im->cols = r->us[A_COLS];
	im->samples = r->us[A_SAMPLES];
	im->bits_allocated = r->us[A_BITS_ALLOC];
	im->bits_stored = r->us[A_BITS_STORED];
	im->explicit_vr = r->explicit_vr;
	if (im->samples != 1 && im->samples != 3)
		return refuse(r, "Samples per Pixel (0028,0002) is %u; 1 or 3 are read",
			      im->samples);
	if (!strcmp(pi, "MONOCHROME1") || !strcmp(pi, "MONOCHROME2")) {
		im->photometric = pi[10] == '1' ? FV_DICOM_MONOCHROME1 : FV_DICOM_MONOCHROME2;
		if (im->samples != 1)
			return refuse(r, "Photometric Interpretation %s with Samples per Pixel %u",
				      pi, im->samples);
	} else if (!strcmp(pi, "RGB")) {
		im->photometric = FV_DICOM_RGB;
		if (im->samples != 3)
			return refuse(r, "Photometric Interpretation RGB with Samples per Pixel %u",
				      im->samples);
	} else {
		char shown[FV_MAX_DICOM_TEXT + 1];
		size_t i;
		for (i = 0; pi[i]; i++)
			shown[i] = pi[i] >= 0x20 && pi[i] < 0x7f ? pi[i] : '?';
		shown[i] = '\0';
		return refuse(r,
			      "Photometric Interpretation (0028,0004) '%s' is not read; "
			      "MONOCHROME1, MONOCHROME2 or RGB",
			      shown);
	}
	if (im->samples == 3) {
		if (!(r->seen & (1u << A_PLANAR)))
			return refuse(r, "no Planar Configuration (0028,0006) for an RGB image");
		if (r->us[A_PLANAR] > 1)
			return refuse(r, "Planar Configuration (0028,0006) is %u; 0 or 1",
				      r->us[A_PLANAR]);
		im->planar = r->us[A_PLANAR] == 1;
	}
	if (r->seen & (1u << A_FRAMES) && (!parse_number(r->text[A_FRAMES], &v) || v != 1))
		return refuse(r, "Number of Frames (0028,0008) is not 1; one frame is read");
	if (im->bits_allocated != 8 && im->bits_allocated != 16)
		return refuse(r, "Bits Allocated (0028,0100) is %u; 8 or 16 are read",
			      im->bits_allocated);
	if (im->bits_stored < 1 || im->bits_stored > im->bits_allocated)
		return refuse(r, "Bits Stored (0028,0101) is %u with Bits Allocated %u",
			      im->bits_stored, im->bits_allocated);
	if (r->us[A_HIGH_BIT] != im->bits_stored - 1)
		return refuse(r, "High Bit (0028,0102) is %u; Bits Stored - 1 (%u) is read",
			      r->us[A_HIGH_BIT], im->bits_stored - 1);
	if (r->us[A_PIXEL_REP] > 1)
		return refuse(r, "Pixel Representation (0028,0103) is %u; 0 or 1",
			      r->us[A_PIXEL_REP]);
	im->is_signed = r->us[A_PIXEL_REP] == 1;
	im->slope = 1;
	im->intercept = 0;
	if (!!(r->seen & (1u << A_SLOPE)) != !!(r->seen & (1u << A_INTERCEPT)))
		return refuse(r, "Rescale Slope (0028,1053) and Rescale Intercept (0028,1052): "
				 "both or neither");
	if (r->seen & (1u << A_SLOPE)) {
		if (!parse_number(r->text[A_SLOPE], &im->slope) ||
		    !(fabs(im->slope) <= FV_MAX_DICOM_RESCALE) || im->slope == 0)
			return refuse(r,
				      "Rescale Slope (0028,1053) is not a number from -%g to "
				      "%g other than 0",
				      FV_MAX_DICOM_RESCALE, FV_MAX_DICOM_RESCALE);
		if (!parse_number(r->text[A_INTERCEPT], &im->intercept) ||
		    !(fabs(im->intercept) <= FV_MAX_DICOM_RESCALE))
			return refuse(r,
				      "Rescale Intercept (0028,1052) is not a number from -%g "
				      "to %g",
				      FV_MAX_DICOM_RESCALE, FV_MAX_DICOM_RESCALE);
	}
	if (!im->rows || !im->cols)
		return refuse(r, "an empty image (Rows %u, Columns %u)", im->rows, im->cols);
	npx = (uint64_t)im->rows * im->cols * im->samples;
	if (npx > FV_MAX_DICOM_PIXELS)
		return refuse(r, "Rows x Columns x Samples per Pixel = %llu values: more than %u",
			      (unsigned long long)npx, (unsigned)FV_MAX_DICOM_PIXELS);
	need = npx * (im->bits_allocated / 8);
	if (r->px_len != need && !(need % 2 == 1 && r->px_len == need + 1))
		return refuse(r,
			      "Pixel Data (7FE0,0010) has %zu bytes; Rows x Columns x Samples per "
			      "Pixel x Bits Allocated / 8 = %llu (one frame)",
			      r->px_len, (unsigned long long)need);
	im->pixels = r->buf + r->px_off;
	return FV_OK;
}

bool fv_dicom_is_dicom(const uint8_t *buf, size_t len)
{
	return len >= FV_DICOM_MAGIC_END && !memcmp(buf + 128, "DICM", 4);
}

fv_err fv_dicom_parse(const uint8_t *buf, size_t len, struct fv_dicom_image *im, char *why,
		      size_t cap)
{
	struct dcm_reader rd, *r = &rd; /* about 1 KiB: on the stack, nothing allocated */
	size_t pos = FV_DICOM_MAGIC_END;
	fv_err e;

	memset(im, 0, sizeof(*im));
	memset(&rd, 0, sizeof(rd));
	r->buf = buf;
	r->len = len;
	r->why = why;
	r->cap = cap;
	if (!fv_dicom_is_dicom(buf, len))
		return refuse(r, "not a DICOM file (no 'DICM' after a 128-byte preamble)");
	if ((e = read_meta(r, &pos)) != FV_OK)
		return e;
	if ((e = walk_dataset(r, &pos, len, r->explicit_vr, 0, false)) != FV_OK)
		return e;
	return check_image(r, im);
}

double fv_dicom_value(const struct fv_dicom_image *im, unsigned c, unsigned y, unsigned x)
{
	size_t plane = (size_t)im->rows * im->cols, at = (size_t)y * im->cols + x, k;
	unsigned bs = im->bits_stored;
	long v, lo, hi;

	k = im->samples == 1 ? at : im->planar ? c * plane + at : at * 3 + c;
	v = im->bits_allocated == 8 ? im->pixels[k] : le16(im->pixels + 2 * k);
	v &= (1L << bs) - 1;
	if (im->is_signed) {
		lo = -(1L << (bs - 1));
		hi = (1L << (bs - 1)) - 1;
		if (v > hi)
			v -= 1L << bs;
	} else {
		lo = 0;
		hi = (1L << bs) - 1;
	}
	if (im->photometric == FV_DICOM_MONOCHROME1)
		v = lo + hi - v;
	return im->slope * (double)v + im->intercept;
}
