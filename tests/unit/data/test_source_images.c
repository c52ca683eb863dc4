/* Tests of lib/data/source_images.c: an image folder with a CSV index read through
 * fv_source_open. Images are written at test time with libpng (image_test.h); every expected
 * pixel value is computed here from the samples written, by the formulas of
 * docs/data-sources.md ("Image folder"): sample / 255 (8-bit), sample / 65535 (16-bit), BT.601
 * luma 0.299 R + 0.587 G + 0.114 B for gray from RGB. */
#include <jansson.h>
#include <limits.h>
#include <sys/stat.h>

#include "data_test.h"
#include "image_test.h"

/* A fresh directory in the scratch area (static buffer). */
static const char *folder(void)
{
	static char dir[160];

	snprintf(dir, sizeof(dir), "%s", dt_path("imgs"));
	cr_assert_eq(mkdir(dir, 0700), 0);
	return dir;
}

static const char *in_dir(const char *dir, const char *name)
{
	static char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fwrite(text, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

static void write_text(const char *path, const char *text)
{
	write_file(path, text, strlen(text));
}

static struct fv_source_spec img_spec(const char *dir, unsigned c, unsigned h, unsigned w)
{
	struct fv_source_spec sp = {.kind = FV_SOURCE_IMAGES,
				    .path = strdup(in_dir(dir, "index.csv")),
				    .image_column = "file",
				    .image_channels = c,
				    .image_height = h,
				    .image_width = w};
	return sp;
}

#define MAXR 16
#define MAXV 16

struct got {
	size_t n;
	uint64_t excluded;
	float x[MAXR * MAXV];
	uint8_t y[MAXR];
};

static fv_err read_all(const struct fv_source_spec *sp, const struct fv_mapping *map,
		       const char *cohort, struct got *g, struct fv_diag *d)
{
	struct fv_source *s = NULL;
	size_t got;
	fv_err e;

	memset(g, 0, sizeof(*g));
	if ((e = fv_source_open(sp, map, &s, d)) != FV_OK)
		return e;
	if (cohort && (e = fv_source_set_cohort(s, cohort, d)) != FV_OK)
		goto out;
	do {
		cr_assert(g->n + 2 <= MAXR);
		if ((e = fv_source_read(s, g->x + g->n * map->nvars, g->y + g->n, 2, &got, d)) !=
		    FV_OK)
			goto out;
		g->n += got;
	} while (got);
	g->excluded = fv_source_excluded(s);
out:
	fv_source_close(s);
	return e;
}

static void expect_msg(const struct fv_diag *d, const char *n1, const char *n2)
{
	cr_assert_not_null(strstr(d->msg, n1), "'%s' not in '%s'", n1, d->msg);
	if (n2)
		cr_assert_not_null(strstr(d->msg, n2), "'%s' not in '%s'", n2, d->msg);
}

/* Samples of a 4x3 (w x h) image: distinct per pixel, channel and image. */
static uint16_t val(int img, int px, int ch, unsigned maxv)
{
	return (uint16_t)((img * 37 + px * 11 + ch * 53 + 5) % (maxv + 1));
}

static void fill(uint16_t *s, int img, int nch, unsigned maxv)
{
	for (int p = 0; p < 12; p++)
		for (int c = 0; c < nch; c++)
			s[p * nch + c] = val(img, p, c, maxv);
}

Test(images, gray8_exact_values_and_the_label)
{
	const char *dir = folder();
	static const char *const vars[] = {"pixel_0", "pixel_5", "pixel_11", "age"};
	struct fv_mapping map = {4, vars, vars, "y"};
	struct fv_source_spec sp = img_spec(dir, 1, 3, 4);
	uint16_t s[12];
	struct got g;
	struct fv_diag d;

	cr_assert_eq(mkdir(in_dir(dir, "sub"), 0700), 0);
	for (int i = 0; i < 3; i++) {
		char name[32];
		snprintf(name, sizeof(name), i == 2 ? "sub/g%d.png" : "g%d.png", i);
		fill(s, i, 1, 255);
		it_write_png(in_dir(dir, name), 4, 3, PNG_COLOR_TYPE_GRAY, 8, PNG_INTERLACE_NONE,
			     s);
	}
	write_text(in_dir(dir, "index.csv"),
		   "id,file,age,y\n1,g0.png,50,0\n2,./g1.png,61,1\n3,sub/g2.png,70,1\n");
	cr_assert_eq(read_all(&sp, &map, NULL, &g, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(g.n, 3);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(g.x[i * 4 + 0], (float)(val(i, 0, 0, 255) / 255.0));
		cr_assert_eq(g.x[i * 4 + 1], (float)(val(i, 5, 0, 255) / 255.0));
		cr_assert_eq(g.x[i * 4 + 2], (float)(val(i, 11, 0, 255) / 255.0));
	}
	cr_assert_eq(g.x[3], 50);
	cr_assert_eq(g.x[11], 70);
	cr_assert_eq(g.y[0], 0);
	cr_assert_eq(g.y[1], 1);
	cr_assert_eq(g.y[2], 1);
	free((char *)sp.path);
}

Test(images, columns_are_the_index_then_the_pixels)
{
	const char *dir = folder();
	struct fv_source_spec sp = img_spec(dir, 3, 2, 2);
	struct fv_source *s = NULL;
	struct fv_diag d;

	write_text(in_dir(dir, "index.csv"), "file,y\n");
	cr_assert_eq(fv_source_open(&sp, NULL, &s, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(fv_source_ncols(s), 2 + 12);
	cr_assert_str_eq(fv_source_colname(s, 1), "y");
	cr_assert_str_eq(fv_source_colname(s, 2), "pixel_0");
	cr_assert_str_eq(fv_source_colname(s, 13), "pixel_11");
	cr_assert_eq(fv_source_check_mapping(s, "v", "pixel_11", &d), FV_OK, "%s", d.msg);
	cr_assert_eq(fv_source_check_mapping(s, "v", "pixel_12", &d), FV_EINVAL);
	expect_msg(&d, "pixel_12", NULL);
	fv_source_close(s);
	free((char *)sp.path);
}

/* RGB to one channel by BT.601 luma, and RGB kept as three planes (C, H, W order). */
Test(images, rgb8_to_gray_and_to_planes)
{
	const char *dir = folder();
	static const char *const v1[] = {"pixel_0", "pixel_7"};
	static const char *const v3[] = {"pixel_0", "pixel_7", "pixel_12", "pixel_19", "pixel_31"};
	struct fv_mapping m1 = {2, v1, v1, "y"}, m3 = {5, v3, v3, "y"};
	struct fv_source_spec s1 = img_spec(dir, 1, 3, 4), s3 = img_spec(dir, 3, 3, 4);
	uint16_t s[36];
	struct got g;
	struct fv_diag d;

	fill(s, 4, 3, 255);
	it_write_png(in_dir(dir, "c.png"), 4, 3, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE, s);
	write_text(in_dir(dir, "index.csv"), "file,y\nc.png,1\n");
	cr_assert_eq(read_all(&s1, &m1, NULL, &g, &d), FV_OK, "%s", d.msg);
	for (int k = 0; k < 2; k++) {
		int p = k ? 7 : 0;
		double luma = 0.299 * val(4, p, 0, 255) + 0.587 * val(4, p, 1, 255) +
			      0.114 * val(4, p, 2, 255);
		cr_assert_eq(g.x[k], (float)(luma / 255.0), "pixel %d: %g", p, g.x[k]);
	}
	cr_assert_eq(read_all(&s3, &m3, NULL, &g, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(g.x[0], (float)(val(4, 0, 0, 255) / 255.0));
	cr_assert_eq(g.x[1], (float)(val(4, 7, 0, 255) / 255.0));
	cr_assert_eq(g.x[2], (float)(val(4, 0, 1, 255) / 255.0)); /* 12 = G plane, pixel 0 */
	cr_assert_eq(g.x[3], (float)(val(4, 7, 1, 255) / 255.0)); /* 19 = G plane, pixel 7 */
	cr_assert_eq(g.x[4], (float)(val(4, 7, 2, 255) / 255.0)); /* 31 = B plane, pixel 7 */
	free((char *)s1.path);
	free((char *)s3.path);
}

Test(images, gray_replicated_to_three_channels)
{
	const char *dir = folder();
	static const char *const v[] = {"pixel_5", "pixel_17", "pixel_29"};
	struct fv_mapping m = {3, v, v, "y"};
	struct fv_source_spec sp = img_spec(dir, 3, 3, 4);
	uint16_t s[12];
	struct got g;
	struct fv_diag d;

	fill(s, 2, 1, 255);
	it_write_png(in_dir(dir, "g.png"), 4, 3, PNG_COLOR_TYPE_GRAY, 8, PNG_INTERLACE_NONE, s);
	write_text(in_dir(dir, "index.csv"), "file,y\ng.png,0\n");
	cr_assert_eq(read_all(&sp, &m, NULL, &g, &d), FV_OK, "%s", d.msg);
	for (int c = 0; c < 3; c++)
		cr_assert_eq(g.x[c], (float)(val(2, 5, 0, 255) / 255.0));
	free((char *)sp.path);
}

Test(images, gray16_interlaced_alpha_and_scale)
{
	const char *dir = folder();
	static const char *const v[] = {"pixel_0", "pixel_6", "pixel_11"};
	struct fv_mapping m = {3, v, v, "y"};
	struct fv_source_spec sp = img_spec(dir, 1, 3, 4);
	uint16_t s[24], ga[24];
	struct got g;
	struct fv_diag d;

	fill(s, 1, 1, 65535);
	for (int i = 0; i < 12; i++)
		s[i] = (uint16_t)(s[i] * 1021u + 3u); /* use the high byte too */
	it_write_png(in_dir(dir, "a.png"), 4, 3, PNG_COLOR_TYPE_GRAY, 16, PNG_INTERLACE_ADAM7, s);
	fill(ga, 3, 2, 255); /* gray + alpha: the alpha is dropped */
	it_write_png(in_dir(dir, "b.png"), 4, 3, PNG_COLOR_TYPE_GRAY_ALPHA, 8, PNG_INTERLACE_NONE,
		     ga);
	write_text(in_dir(dir, "index.csv"), "file,y\na.png,0\nb.png,1\n");
	cr_assert_eq(read_all(&sp, &m, NULL, &g, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(g.n, 2);
	cr_assert_eq(g.x[0], (float)(s[0] / 65535.0));
	cr_assert_eq(g.x[1], (float)(s[6] / 65535.0));
	cr_assert_eq(g.x[2], (float)(s[11] / 65535.0));
	cr_assert_eq(g.x[3], (float)(ga[0] / 255.0));
	cr_assert_eq(g.x[5], (float)(ga[22] / 255.0));
	/* image_scale 1: raw 8-bit samples; a 16-bit sample divided by 257. */
	sp.image_scale = 1;
	cr_assert_eq(read_all(&sp, &m, NULL, &g, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(g.x[1], (float)(s[6] / 257.0));
	cr_assert_eq(g.x[4], (float)ga[12]);
	free((char *)sp.path);
}

/* The cohort rule reads index columns (and may read pixels); pixels in expressions. */
Test(images, cohort_rule_over_the_index_and_pixel_expressions)
{
	const char *dir = folder();
	static const char *const vars[] = {"p0", "p3x2"};
	static const char *const cols[] = {"pixel_0", "pixel_3 * 2"};
	struct fv_mapping m = {2, vars, cols, "y"};
	struct fv_source_spec sp = img_spec(dir, 1, 3, 4);
	uint16_t s[12];
	struct got g;
	struct fv_diag d;

	for (int i = 0; i < 4; i++) {
		char name[16];
		snprintf(name, sizeof(name), "%d.png", i);
		fill(s, i, 1, 255);
		it_write_png(in_dir(dir, name), 4, 3, PNG_COLOR_TYPE_GRAY, 8, PNG_INTERLACE_NONE,
			     s);
	}
	write_text(in_dir(dir, "index.csv"),
		   "file,age,y\n0.png,17,0\n1.png,40,1\n2.png,NA,0\n3.png,80,1\n");
	cr_assert_eq(read_all(&sp, &m, "not isna(age) and age >= 18 and not isna(pixel_0)", &g, &d),
		     FV_OK, "%s", d.msg);
	cr_assert_eq(g.n, 2);
	cr_assert_eq(g.excluded, 2);
	cr_assert_eq(g.x[0], (float)(val(1, 0, 0, 255) / 255.0));
	cr_assert_eq(g.x[1], (float)(2.0 * (float)(val(1, 3, 0, 255) / 255.0)));
	cr_assert_eq(g.x[2], (float)(val(3, 0, 0, 255) / 255.0));
	/* A pixel read as a date is an error that names the column, never the value. */
	cr_assert_eq(read_all(&sp, &m, "date(pixel_1) > 0", &g, &d), FV_EINVAL);
	expect_msg(&d, "pixel_1", "line 2");
	cr_assert_null(strstr(d.msg, "0."), "%s", d.msg);
	free((char *)sp.path);
}

/* One record per case: the index line and the file are named, the code is FV_EINVAL. */
static void expect_bad(const char *dir, const char *index, const char *line, const char *what)
{
	static const char *const v[] = {"pixel_0"};
	struct fv_mapping m = {1, v, v, "y"};
	struct fv_source_spec sp = img_spec(dir, 1, 3, 4);
	struct got g;
	struct fv_diag d;

	write_file(in_dir(dir, "index.csv"), index, strlen(index));
	cr_assert_eq(read_all(&sp, &m, NULL, &g, &d), FV_EINVAL, "%s: %s", index, d.msg);
	expect_msg(&d, line, what);
	free((char *)sp.path);
}

Test(images, bad_images_name_the_line_and_the_file)
{
	const char *dir = folder();
	uint16_t s[48] = {0}; /* up to 4x4 RGB */
	FILE *f;
	long len;
	char *buf;

	it_write_png(in_dir(dir, "ok.png"), 4, 3, PNG_COLOR_TYPE_GRAY, 8, PNG_INTERLACE_NONE, s);
	it_write_png(in_dir(dir, "big.png"), 5, 3, PNG_COLOR_TYPE_GRAY, 8, PNG_INTERLACE_NONE, s);
	it_write_png(in_dir(dir, "tall.png"), 4, 4, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE, s);
	write_text(in_dir(dir, "text.png"), "hello, not an image\n");
	write_text(in_dir(dir, "empty.png"), "");
	/* A PNG cut in the middle of its pixel data, and one missing only its IEND chunk. */
	f = fopen(in_dir(dir, "ok.png"), "rb");
	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = malloc((size_t)len);
	cr_assert_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	write_file(in_dir(dir, "cut.png"), buf, (size_t)len - 20);
	write_file(in_dir(dir, "noend.png"), buf, (size_t)len - 12);
	free(buf);

	expect_bad(dir, "file,y\nok.png,0\nmissing.png,1\n", "line 3", "missing.png");
	expect_bad(dir, "file,y\nok.png,0\nmissing.png,1\n", "line 3", "no such file");
	expect_bad(dir, "file,y\ncut.png,1\n", "line 2", "cut.png");
	expect_bad(dir, "file,y\nnoend.png,1\n", "line 2", "noend.png");
	expect_bad(dir, "file,y\ntext.png,1\n", "line 2", "text.png': not a PNG");
	expect_bad(dir, "file,y\nempty.png,1\n", "line 2", "not a PNG");
	expect_bad(dir, "file,y\nbig.png,1\n", "line 2", "big.png': is 5x3 pixels");
	expect_bad(dir, "file,y\ntall.png,1\n", "line 2", "expected 4x3");
	expect_bad(dir, "file,y\nok.png,0\n../ok.png,1\n", "line 3", "'..'");
	expect_bad(dir, "file,y\nsub/../../x.png,1\n", "line 2", "'..'");
	expect_bad(dir, "file,y\n/etc/passwd,1\n", "line 2", "absolute");
	expect_bad(dir, "file,y\nNA,1\n", "line 2", "image column 'file' is missing");
	expect_bad(dir, "file,y\n.,1\n", "line 2", "not a regular file");
}

Test(images, palette_and_low_bit_depths_are_refused)
{
	const char *dir = folder();
	uint16_t s[12] = {0, 1, 0, 1, 1, 1, 0, 0, 1, 0, 1, 0};
	png_color pal[2] = {{0, 0, 0}, {255, 255, 255}};
	FILE *f = fopen(in_dir(dir, "p.png"), "wb");
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png_create_info_struct(png);
	unsigned char rows[3][4];
	png_bytep rp[3] = {rows[0], rows[1], rows[2]};

	for (int i = 0; i < 12; i++)
		rows[i / 4][i % 4] = (unsigned char)s[i];
	png_init_io(png, f);
	png_set_IHDR(png, info, 4, 3, 8, PNG_COLOR_TYPE_PALETTE, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_set_PLTE(png, info, pal, 2);
	png_write_info(png, info);
	png_write_image(png, rp);
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	fclose(f);
	expect_bad(dir, "file,y\np.png,1\n", "line 2", "palette");
}

Test(images, bad_specs)
{
	const char *dir = folder();
	struct fv_source_spec sp = img_spec(dir, 1, 3, 4);
	struct fv_source *s = NULL;
	struct fv_diag d;

	write_text(in_dir(dir, "index.csv"), "file,pixel_2,y\n");
	cr_assert_eq(fv_source_open(&sp, NULL, &s, &d), FV_EINVAL);
	expect_msg(&d, "pixel_2", "name of a pixel column");
	write_text(in_dir(dir, "index.csv"), "path,y\n");
	cr_assert_eq(fv_source_open(&sp, NULL, &s, &d), FV_EINVAL);
	expect_msg(&d, "image_column 'file'", NULL);
	write_text(in_dir(dir, "index.csv"), "file,y\n");
	sp.image_channels = 2;
	cr_assert_eq(fv_source_open(&sp, NULL, &s, &d), FV_EINVAL);
	expect_msg(&d, "image_channels", NULL);
	sp.image_channels = 1;
	sp.image_height = 100; /* 100 * 100 > FV_MAX_FEATURES */
	sp.image_width = 100;
	cr_assert_eq(fv_source_open(&sp, NULL, &s, &d), FV_EINVAL);
	expect_msg(&d, "image shape", NULL);
	sp.image_height = 3;
	sp.image_width = 4;
	sp.image_scale = -1;
	cr_assert_eq(fv_source_open(&sp, NULL, &s, &d), FV_EINVAL);
	expect_msg(&d, "image_scale", NULL);
	sp.image_scale = 0;
	sp.image_column = NULL;
	cr_assert_eq(fv_source_open(&sp, NULL, &s, &d), FV_EINVAL);
	cr_assert_null(s);
	free((char *)sp.path);
}

Test(images, kind_names)
{
	enum fv_source_kind k;

	cr_assert_eq(fv_source_kind_parse("images", &k), FV_OK);
	cr_assert_eq(k, FV_SOURCE_IMAGES);
	cr_assert_str_eq(fv_source_kind_name(FV_SOURCE_IMAGES), "images");
}

/* The summary of an image folder describes its index; pixels are not summarised. */
Test(images, summary_reads_the_index_only)
{
	const char *dir = folder();
	struct fv_source_spec sp = img_spec(dir, 1, 3, 4);
	struct fv_summary_var v[2] = {{.name = "age", .column = "age"},
				      {.name = "p", .column = "pixel_0"}};
	struct fv_summary_opts o = {.nvars = 1, .vars = v, .label = "y", .label_column = "y"};
	json_t *j = NULL;
	struct fv_diag d;

	/* The images need not exist: none is decoded. */
	write_text(in_dir(dir, "index.csv"), "file,age,y\na.png,40,1\nb.png,50,0\n");
	cr_assert_eq(fv_data_summarise(&sp, &o, &j, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(json_integer_value(json_object_get(j, "rows")), 2);
	cr_assert_str_eq(json_string_value(json_object_get(j, "source")), "images");
	json_decref(j);
	o.nvars = 2;
	cr_assert_eq(fv_data_summarise(&sp, &o, &j, &d), FV_EINVAL);
	expect_msg(&d, "pixel_0", "not the pixels");
	free((char *)sp.path);
}
