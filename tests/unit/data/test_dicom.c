/* Tests of lib/data/dicom.c through the image-folder source (lib/data/source_images.c).
 * DICOM files are written at test time by tests/unit/data/make_dicom.py with pydicom, which also
 * gives the expected values: pydicom's pixel_array (MONOCHROME1 inverted within Bits Stored)
 * with its apply_modality_lut (Rescale Slope and Intercept). Here they are only divided by
 * image_scale (8-bit) or 257 * image_scale (16-bit), and turned to BT.601 luma for a gray model
 * of an RGB image, as docs/data-sources.md ("Image folder") says. */
#include <jansson.h>
#include <limits.h>
#include <sys/stat.h>

#include "data/dicom.h"
#include "data_test.h"
#include "image_test.h"

static char dir[160];
static json_t *ref; /* make_dicom.py's output */

static void make_files(void)
{
	char cmd[512];
	json_error_t err;
	FILE *p;

	if (ref)
		return;
	snprintf(dir, sizeof(dir), "%s", dt_path("dicom"));
	cr_assert_eq(mkdir(dir, 0700), 0);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 '%s/tests/unit/data/make_dicom.py' '%s'",
		 FV_SOURCE_DIR, dir);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	ref = json_loadf(p, 0, &err);
	cr_assert_eq(pclose(p), 0, "%s failed (is python3-pydicom installed?)", cmd);
	cr_assert_not_null(ref, "%s: %s", cmd, err.text);
}

static const char *in_dir(const char *name)
{
	static char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static void write_text(const char *name, const char *text)
{
	FILE *f = fopen(in_dir(name), "w");

	cr_assert_not_null(f);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

#define MAXV (3 * 3 * 5)

/* Read the one record of index.csv with shape ch x h x w into x (all pixels). */
static fv_err read_one(unsigned ch, unsigned h, unsigned w, double scale, float *x,
		       struct fv_diag *d)
{
	static char names[MAXV][24];
	const char *vars[MAXV];
	struct fv_source_spec sp = {.kind = FV_SOURCE_IMAGES,
				    .image_column = "file",
				    .image_channels = ch,
				    .image_height = h,
				    .image_width = w,
				    .image_scale = scale};
	struct fv_mapping map = {ch * h * w, vars, vars, "y"};
	struct fv_source *s = NULL;
	char path[PATH_MAX];
	uint8_t y[2];
	size_t got = 0;
	fv_err e;

	cr_assert_leq(ch * h * w, MAXV);
	for (unsigned k = 0; k < ch * h * w; k++) {
		snprintf(names[k], sizeof(names[k]), "pixel_%u", k);
		vars[k] = names[k];
	}
	snprintf(path, sizeof(path), "%s", in_dir("index.csv"));
	sp.path = path;
	if ((e = fv_source_open(&sp, &map, &s, d)) != FV_OK)
		return e;
	e = fv_source_read(s, x, y, 2, &got, d);
	if (e == FV_OK)
		cr_assert_eq(got, 1);
	fv_source_close(s);
	return e;
}

static void index_of(const char *file)
{
	char text[256];

	snprintf(text, sizeof(text), "file,y\n%s,1\n", file);
	write_text("index.csv", text);
}

/* Every good file, as a gray and as an RGB model reads it, equals pydicom's values. */
Test(dicom, pixels_equal_pydicom)
{
	json_t *good, *c;
	const char *name;
	size_t n = 0;

	make_files();
	good = json_object_get(ref, "good");
	json_object_foreach(good, name, c)
	{
		unsigned rows = (unsigned)json_integer_value(json_object_get(c, "rows")),
			 cols = (unsigned)json_integer_value(json_object_get(c, "cols")),
			 spp = (unsigned)json_integer_value(json_object_get(c, "samples"));
		double div =
		    json_integer_value(json_object_get(c, "bits")) == 16 ? 257.0 * 255 : 255.0;
		json_t *v = json_object_get(c, "values");
		size_t plane = (size_t)rows * cols;
		float x[MAXV];
		struct fv_diag d;

		cr_assert_eq(json_array_size(v), plane * spp, "%s", name);
		index_of(name);
		for (unsigned ch = 1; ch <= 3; ch += 2) {
			cr_assert_eq(read_one(ch, rows, cols, 0, x, &d), FV_OK, "%s: %s", name,
				     d.msg);
			for (size_t k = 0; k < ch * plane; k++) {
				size_t o = k % plane, c0 = k / plane;
				double want;
				if (spp == 1)
					want = json_real_value(json_array_get(v, o));
				else if (ch == 3)
					want = json_real_value(json_array_get(v, c0 * plane + o));
				else
					want =
					    0.299 * json_real_value(json_array_get(v, o)) +
					    0.587 * json_real_value(json_array_get(v, plane + o)) +
					    0.114 *
						json_real_value(json_array_get(v, 2 * plane + o));
				cr_assert_eq(x[k], (float)(want / div),
					     "%s, %u channels, pixel_%zu: %.9g, "
					     "expected %.9g",
					     name, ch, k, x[k], want / div);
			}
		}
		n++;
	}
	cr_assert_geq(n, 11);
}

/* image_scale divides as for PNG: 1 gives the modality values of 8-bit images, and 16-bit
 * values divided by 257. */
Test(dicom, image_scale)
{
	json_t *c;
	float x[MAXV];
	struct fv_diag d;

	make_files();
	c = json_object_get(json_object_get(ref, "good"), "u16-rescale-explicit.dcm");
	index_of("u16-rescale-explicit.dcm");
	cr_assert_eq(read_one(1, 3, 4, 1, x, &d), FV_OK, "%s", d.msg);
	for (size_t k = 0; k < 12; k++)
		cr_assert_eq(
		    x[k], (float)(json_real_value(json_array_get(json_object_get(c, "values"), k)) /
				  257.0));
	c = json_object_get(json_object_get(ref, "good"), "mono1-8.dcm");
	index_of("mono1-8.dcm");
	cr_assert_eq(read_one(1, 3, 4, 1, x, &d), FV_OK, "%s", d.msg);
	for (size_t k = 0; k < 12; k++)
		cr_assert_eq(
		    x[k], (float)json_real_value(json_array_get(json_object_get(c, "values"), k)));
}

/* PNG and DICOM files side by side in one index. */
Test(dicom, png_and_dicom_in_one_folder)
{
	static const char *const vars[] = {"pixel_0", "pixel_11"};
	struct fv_mapping map = {2, vars, vars, "y"};
	char path[PATH_MAX];
	struct fv_source_spec sp = {.kind = FV_SOURCE_IMAGES,
				    .image_column = "file",
				    .image_channels = 1,
				    .image_height = 3,
				    .image_width = 4};
	struct fv_source *s = NULL;
	json_t *v;
	uint16_t px[12];
	float x[6];
	uint8_t y[3];
	size_t got;
	struct fv_diag d;

	make_files();
	for (int i = 0; i < 12; i++)
		px[i] = (uint16_t)(i * 20);
	it_write_png(in_dir("p.png"), 4, 3, PNG_COLOR_TYPE_GRAY, 8, PNG_INTERLACE_NONE, px);
	write_text("index.csv",
		   "file,y\nmono8-implicit.dcm,0\np.png,1\ns12-sequences-implicit,1\n");
	snprintf(path, sizeof(path), "%s", in_dir("index.csv"));
	sp.path = path;
	cr_assert_eq(fv_source_open(&sp, &map, &s, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(fv_source_read(s, x, y, 3, &got, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(got, 3);
	v = json_object_get(json_object_get(json_object_get(ref, "good"), "mono8-implicit.dcm"),
			    "values");
	cr_assert_eq(x[0], (float)(json_real_value(json_array_get(v, 0)) / 255.0));
	cr_assert_eq(x[1], (float)(json_real_value(json_array_get(v, 11)) / 255.0));
	cr_assert_eq(x[2], 0.0f);
	cr_assert_eq(x[3], (float)(220 / 255.0));
	v = json_object_get(json_object_get(json_object_get(ref, "good"), "s12-sequences-implicit"),
			    "values");
	cr_assert_eq(x[5], (float)(json_real_value(json_array_get(v, 11)) / (257.0 * 255)));
	fv_source_close(s);
}

/* Each bad file: FV_EINVAL naming the index line, the file and why. */
Test(dicom, bad_files_are_refused_with_a_reason)
{
	json_t *bad, *why;
	const char *name;
	float x[MAXV];
	size_t n = 0;

	make_files();
	bad = json_object_get(ref, "bad");
	json_object_foreach(bad, name, why)
	{
		struct fv_diag d;
		char shown[128];
		index_of(name);
		cr_assert_eq(read_one(1, 3, 4, 0, x, &d), FV_EINVAL, "%s accepted", name);
		snprintf(shown, sizeof(shown), "line 2: image '%s': ", name);
		cr_assert_not_null(strstr(d.msg, shown), "%s: %s", name, d.msg);
		cr_assert_not_null(strstr(d.msg, json_string_value(why)), "%s: '%s' not in '%s'",
				   name, json_string_value(why), d.msg);
		n++;
	}
	cr_assert_geq(n, 18);
}

/* What is not a PNG or a DICOM file, by extension and magic. */
Test(dicom, neither_png_nor_dicom)
{
	float x[MAXV];
	struct fv_diag d;

	make_files();
	write_text("text.dcm", "hello");
	write_text("text.bin", "hello, this is not an image at all");
	write_text("text.png", "hello");
	index_of("text.dcm");
	cr_assert_eq(read_one(1, 3, 4, 0, x, &d), FV_EINVAL);
	cr_assert_not_null(strstr(d.msg, "text.dcm': not a DICOM file"), "%s", d.msg);
	index_of("text.bin");
	cr_assert_eq(read_one(1, 3, 4, 0, x, &d), FV_EINVAL);
	cr_assert_not_null(strstr(d.msg, "neither a PNG nor a DICOM file"), "%s", d.msg);
	index_of("text.png");
	cr_assert_eq(read_one(1, 3, 4, 0, x, &d), FV_EINVAL);
	cr_assert_not_null(strstr(d.msg, "text.png': not a PNG file"), "%s", d.msg);
}

/* The parser alone, on a hand-written Explicit VR file: an undefined-length UN element holds
 * Implicit VR items (PS3.5 §6.2.2), and a tag inside a sequence is not the image's. */
static size_t put(uint8_t *b, size_t at, const void *p, size_t n)
{
	memcpy(b + at, p, n);
	return at + n;
}

static size_t us_el(uint8_t *b, size_t at, uint16_t g, uint16_t e, uint16_t v)
{
	uint8_t h[10] = {
	    (uint8_t)g, (uint8_t)(g >> 8), (uint8_t)e,	     (uint8_t)(e >> 8), 'U', 'S', 2,
	    0,		(uint8_t)v,	   (uint8_t)(v >> 8)};
	return put(b, at, h, sizeof(h));
}

Test(dicom, parser_un_sequence_and_nested_tags)
{
	uint8_t b[512] = {0};
	size_t at = 128;
	struct fv_dicom_image im;
	char why[256];
	static const uint8_t ts[] = "\x02\x00\x10\x00UI\x14\x00"
				    "1.2.840.10008.1.2.1\0";
	/* (0009,1001) UN, undefined length: one undefined-length item holding, in Implicit VR,
	 * Rows = 99 (must be ignored), then the item and sequence delimiters. */
	static const uint8_t un[] = {0x09, 0x00, 0x01, 0x10, 'U',  'N',	 0,    0,    0xff, 0xff,
				     0xff, 0xff, 0xfe, 0xff, 0x00, 0xe0, 0xff, 0xff, 0xff, 0xff,
				     0x28, 0x00, 0x10, 0x00, 2,	   0,	 0,    0,    99,   0,
				     0xfe, 0xff, 0x0d, 0xe0, 0,	   0,	 0,    0,    0xfe, 0xff,
				     0xdd, 0xe0, 0,    0,    0,	   0};
	static const uint8_t pi[] = "\x28\x00\x04\x00"
				    "CS\x0c\x00MONOCHROME2 ";
	static const uint8_t pd[] = {0xe0, 0x7f, 0x10, 0x00, 'O', 'B', 0, 0, 2, 0, 0, 0, 5, 250};

	at = put(b, at, "DICM", 4);
	at = put(b, at, ts, sizeof(ts) - 1);
	at = put(b, at, un, sizeof(un));
	at = us_el(b, at, 0x0028, 0x0002, 1);
	at = put(b, at, pi, sizeof(pi) - 1);
	at = us_el(b, at, 0x0028, 0x0010, 1);
	at = us_el(b, at, 0x0028, 0x0011, 2);
	at = us_el(b, at, 0x0028, 0x0100, 8);
	at = us_el(b, at, 0x0028, 0x0101, 8);
	at = us_el(b, at, 0x0028, 0x0102, 7);
	at = us_el(b, at, 0x0028, 0x0103, 1);
	at = put(b, at, pd, sizeof(pd));
	cr_assert_eq(fv_dicom_parse(b, at, &im, why, sizeof(why)), FV_OK, "%s", why);
	cr_assert_eq(im.rows, 1);
	cr_assert_eq(im.cols, 2);
	cr_assert(im.explicit_vr);
	cr_assert_eq(fv_dicom_value(&im, 0, 0, 0), 5);
	cr_assert_eq(fv_dicom_value(&im, 0, 0, 1), -6); /* signed 8-bit 250 */
	/* Rows twice at the top level. */
	cr_assert_eq(fv_dicom_parse(b, us_el(b, at, 0x0028, 0x0010, 1), &im, why, sizeof(why)),
		     FV_EINVAL);
	cr_assert_not_null(strstr(why, "Rows (0028,0010) appears twice"), "%s", why);
	/* Every truncation is refused, never read past. */
	for (size_t n = 0; n < at; n++) {
		uint8_t *cut = malloc(n ? n : 1);
		memcpy(cut, b, n);
		cr_assert_eq(fv_dicom_parse(cut, n, &im, why, sizeof(why)), FV_EINVAL, "%zu", n);
		cr_assert(why[0]);
		free(cut);
	}
}
