/* Tests of lib/data/synth.c: determinism, shape, value ranges, per-profile prevalence, and that
 * the output reads back through fv_data_read_csv. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fedval/data.h"
#include "fedval/limits.h"
#include "fedval/util.h"
#include "unit/data/data_test.h"

struct gen {
	char *buf;
	size_t len;
};

static struct gen gen(int profile, uint64_t seed, size_t rows)
{
	struct gen g = {NULL, 0};
	struct fv_diag d = {{0}};
	FILE *f = open_memstream(&g.buf, &g.len);

	cr_assert_not_null(f);
	cr_assert_eq(fv_synth_hf_write(f, profile, seed, rows, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(fclose(f), 0);
	return g;
}

static size_t count_lines(const struct gen *g)
{
	size_t i, n = 0;

	for (i = 0; i < g->len; i++)
		n += g->buf[i] == '\n';
	return n;
}

/* FNV-1a, 64 bit: enough to pin the output of a fixed call. */
static uint64_t fnv1a(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325u;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3u;
	}
	return h;
}

/* Read a generated cohort back with every predictor mapped to its own column. */
static void read_back(const struct gen *g, struct fv_dataset *ds)
{
	const char *const *pred = fv_synth_hf_predictors();
	struct fv_mapping m;
	struct fv_diag d;
	size_t n = 0;

	while (pred[n])
		n++;
	m = (struct fv_mapping){n, pred, pred, fv_synth_hf_label()};
	cr_assert_eq(fv_data_read_csv(dt_write(g->buf, g->len), NULL, &m, ds, &d), FV_OK, "%s",
		     d.msg);
	cr_assert_eq(ds->nvars, n);
}

Test(synth, deterministic)
{
	struct gen a = gen(1, 1234, 3000), b = gen(1, 1234, 3000);
	struct gen other_seed = gen(1, 1235, 3000), other_profile = gen(2, 1234, 3000);
	struct gen prefix = gen(1, 1234, 100);

	cr_assert_eq(a.len, b.len);
	cr_assert_eq(memcmp(a.buf, b.buf, a.len), 0);
	/* Different seed or profile: a different cohort, not just a different id prefix. */
	cr_assert(other_seed.len != a.len || memcmp(other_seed.buf, a.buf, a.len) != 0);
	cr_assert_str_neq(strchr(a.buf, '\n') + 9, strchr(other_profile.buf, '\n') + 9);
	/* Fewer rows: a prefix of the longer cohort. */
	cr_assert_eq(memcmp(prefix.buf, a.buf, prefix.len), 0);
	free(a.buf);
	free(b.buf);
	free(other_seed.buf);
	free(other_profile.buf);
	free(prefix.buf);
}

Test(synth, pinned_output)
{
	/* Recorded from this implementation (gcc 12, x86-64, glibc); synth.c promises the same
	 * bytes on every IEEE-754 platform. A change here changes every demo hospital. */
	static const struct {
		int profile;
		uint64_t seed;
		size_t rows;
		uint64_t hash;
	} pins[] = {
	    {0, 0, 1000, 0x6cf06cab002f3c2au},
	    {3, 42, 1000, 0xfc62a0176718707bu},
	};
	size_t i;

	for (i = 0; i < sizeof(pins) / sizeof(pins[0]); i++) {
		struct gen g = gen(pins[i].profile, pins[i].seed, pins[i].rows);
		uint64_t h = fnv1a(g.buf, g.len);
		cr_assert_eq(h, pins[i].hash, "profile %d: 0x%016llx", pins[i].profile,
			     (unsigned long long)h);
		free(g.buf);
	}
}

Test(synth, header_and_row_count)
{
	const char *const *pred = fv_synth_hf_predictors();
	static const size_t counts[] = {0, 1, 2, 999, 4321};
	char header[1024];
	size_t n = 0, i, len = 0;

	while (pred[n])
		n++;
	cr_assert(n >= 18 && n <= 24, "%zu predictors", n);
	cr_assert_str_eq(fv_synth_hf_label(), "readmit_30d");
	len += (size_t)snprintf(header + len, sizeof(header) - len, "patient_id");
	for (i = 0; i < n; i++) {
		cr_assert_neq(strcmp(pred[i], fv_synth_hf_label()), 0);
		len += (size_t)snprintf(header + len, sizeof(header) - len, ",%s", pred[i]);
	}
	snprintf(header + len, sizeof(header) - len, ",readmit_30d\n");

	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		struct gen g = gen(0, 7, counts[i]);
		cr_assert_eq(strncmp(g.buf, header, strlen(header)), 0, "%.300s", g.buf);
		cr_assert_eq(count_lines(&g), counts[i] + 1);
		cr_assert_eq(g.buf[g.len - 1], '\n');
		free(g.buf);
	}
}

Test(synth, patient_ids)
{
	static const char prefix[] = "DABC";
	int p;

	for (p = 0; p < 4; p++) {
		struct gen g = gen(p, 9, 3);
		char want[16];
		char *row = strchr(g.buf, '\n') + 1;
		snprintf(want, sizeof(want), "%c000001,", prefix[p]);
		cr_assert_eq(strncmp(row, want, 8), 0, "%.20s", row);
		row = strchr(row, '\n') + 1;
		snprintf(want, sizeof(want), "%c000002,", prefix[p]);
		cr_assert_eq(strncmp(row, want, 8), 0, "%.20s", row);
		free(g.buf);
	}
}

static long col(const char *name)
{
	const char *const *pred = fv_synth_hf_predictors();
	long i;

	for (i = 0; pred[i]; i++)
		if (strcmp(pred[i], name) == 0)
			return i;
	cr_assert_fail("no column %s", name);
	return -1;
}

Test(synth, reads_back_with_plausible_values)
{
	static const struct {
		const char *name;
		float lo, hi;
	} range[] = {
	    {"age", 25, 99},
	    {"sex_male", 0, 1},
	    {"ejection_fraction", 10, 75},
	    {"nyha_class", 1, 4},
	    {"systolic_bp", 70, 220},
	    {"heart_rate", 40, 160},
	    {"sodium", 115, 155},
	    {"creatinine", 0.4f, 9.0f},
	    {"bnp", 20, 35000},
	    {"hemoglobin", 6, 18},
	    {"bmi", 15, 60},
	    {"diabetes", 0, 1},
	    {"copd", 0, 1},
	    {"ckd", 0, 1},
	    {"atrial_fibrillation", 0, 1},
	    {"prior_admissions_12m", 0, 15},
	    {"length_of_stay", 1, 60},
	    {"loop_diuretic_dose", 0, 500},
	    {"beta_blocker", 0, 1},
	    {"ace_arb", 0, 1},
	    {"discharge_home", 0, 1},
	};
	struct gen g = gen(0, 3, 4000);
	struct fv_dataset ds;
	size_t i, r;

	read_back(&g, &ds);
	cr_assert_eq(ds.n, 4000);
	cr_assert_eq(ds.nvars, sizeof(range) / sizeof(range[0]));
	for (i = 0; i < sizeof(range) / sizeof(range[0]); i++) {
		long k = col(range[i].name);
		float mn = 1e30f, mx = -1e30f;
		for (r = 0; r < ds.n; r++) {
			float v = ds.x[r * ds.nvars + (size_t)k];
			cr_assert(v >= range[i].lo && v <= range[i].hi, "%s = %g", range[i].name,
				  v);
			mn = v < mn ? v : mn;
			mx = v > mx ? v : mx;
		}
		/* Not constant. */
		cr_assert(mx > mn, "%s is constant", range[i].name);
	}
	for (r = 0; r < ds.n; r++) {
		float v = ds.x[r * ds.nvars + (size_t)col("loop_diuretic_dose")];
		cr_assert_eq((long)v % 20, 0, "loop dose %g", v);
	}
	fv_dataset_fini(&ds);
	free(g.buf);
}

static double prevalence(int profile)
{
	struct gen g = gen(profile, 2026, 20000);
	struct fv_dataset ds;
	size_t i, ones = 0;
	double p;

	read_back(&g, &ds);
	cr_assert_eq(ds.n, 20000);
	for (i = 0; i < ds.n; i++)
		ones += ds.y[i];
	p = (double)ones / (double)ds.n;
	fv_dataset_fini(&ds);
	free(g.buf);
	return p;
}

Test(synth, profiles_differ_in_prevalence)
{
	/* Targets from the comment at the top of synth.c: 17%, 20%, 12%, 28%. With 20000 rows
	 * the standard error is below 0.35 points, so +-2.5 points is a safe band. */
	static const double target[] = {0.17, 0.20, 0.12, 0.28};
	double p[4];
	int i;

	for (i = 0; i < 4; i++) {
		p[i] = prevalence(i);
		cr_assert(p[i] > target[i] - 0.025 && p[i] < target[i] + 0.025,
			  "profile %d: prevalence %.4f, target %.2f", i, p[i], target[i]);
	}
	/* Hospitals A..C differ visibly from each other: B < A < C, at least 5 points apart. */
	cr_assert(p[2] + 0.05 < p[1], "B %.4f, A %.4f", p[2], p[1]);
	cr_assert(p[1] + 0.05 < p[3], "A %.4f, C %.4f", p[1], p[3]);
}

Test(synth, errors)
{
	struct fv_diag d;
	char *buf = NULL;
	size_t len = 0;
	FILE *full, *f;

	f = open_memstream(&buf, &len);
	cr_assert_not_null(f);
	cr_assert_eq(fv_synth_hf_write(f, -1, 0, 10, &d), FV_EINVAL);
	cr_assert_eq(fv_synth_hf_write(f, 4, 0, 10, &d), FV_EINVAL);
	cr_assert_not_null(strstr(d.msg, "profile 4"), "%s", d.msg);
	cr_assert_eq(fv_synth_hf_write(f, 0, 0, (size_t)FV_MAX_ROWS + 1, &d), FV_ELIMIT);
	cr_assert_eq(fv_synth_hf_write(NULL, 0, 0, 10, &d), FV_EINVAL);
	fclose(f);
	cr_assert_eq(len, 0, "nothing written on a refused call");
	free(buf);

	full = fopen("/dev/full", "w");
	if (full) {
		cr_assert_eq(fv_synth_hf_write(full, 0, 0, 2000, &d), FV_EIO);
		fclose(full);
	}
}

Test(synth, alloc_failure)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct fv_diag d;

	cr_assert_not_null(f);
	fv_alloc_fail_after(1);
	cr_assert_eq(fv_synth_hf_write(f, 0, 0, 10, &d), FV_ENOMEM);
	fv_alloc_fail_after(0);
	fclose(f);
	free(buf);
}
