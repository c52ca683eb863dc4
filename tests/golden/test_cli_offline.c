/* The auditors' offline commands against published values and their properties.
 *  - fedval meta on the BCG vaccine trials (Colditz et al. 1994, as in R metafor's dat.bcg;
 *    log risk ratios from the 2x2 counts): metafor's documented results, DerSimonian-Laird
 *    tau2 = 0.3088, mu = -0.7141, I2 = 92.12 %; REML tau2 = 0.3132, mu = -0.7145 (metafor
 *    documentation and its tests, see tests/golden/test_stats_meta.c for the sources).
 *  - fedval stats: the same numbers whatever the order of the rows; a site without negatives
 *    gives "not estimable" with a reason, never NaN. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BIN FV_BUILD_DIR "/fedval"

static const int bcg[13][4] = {
    {4, 119, 11, 128},	     {6, 300, 29, 274},	       {3, 228, 11, 209},
    {62, 13536, 248, 12619}, {33, 5036, 47, 5761},     {180, 1361, 372, 1079},
    {8, 2537, 10, 619},	     {505, 87886, 499, 87892}, {29, 7470, 45, 7232},
    {17, 1699, 65, 1600},    {186, 50448, 141, 27197}, {5, 2493, 3, 2338},
    {27, 16886, 29, 17825}};

static json_t *run_json(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	json_error_t err;
	cr_assert(p);
	json_t *j = json_loadf(p, 0, &err);
	cr_assert_eq(pclose(p), 0, "%s failed", cmd);
	cr_assert(j, "%s: %s", cmd, err.text);
	return j;
}

Test(golden_cli, meta_bcg_matches_metafor)
{
	char path[] = "/tmp/fv-bcg-XXXXXX", cmd[512];
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	fprintf(f, "yi,vi\n");
	for (int i = 0; i < 13; i++) {
		double a = bcg[i][0], b = bcg[i][1], c = bcg[i][2], d = bcg[i][3];
		fprintf(f, "%.17g,%.17g\n", log((a / (a + b)) / (c / (c + d))),
			1 / a - 1 / (a + b) + 1 / c - 1 / (c + d));
	}
	fclose(f);
	snprintf(cmd, sizeof(cmd), BIN " meta --csv %s --yi yi --vi vi --method DL --json", path);
	json_t *dl = run_json(cmd);
	cr_assert_float_eq(json_real_value(json_object_get(dl, "tau2")), 0.3088, 5e-5);
	cr_assert_float_eq(json_real_value(json_object_get(dl, "mu")), -0.7141, 5e-5);
	cr_assert_float_eq(json_real_value(json_object_get(dl, "i2")), 92.12, 5e-3);
	snprintf(cmd, sizeof(cmd), BIN " meta --csv %s --yi yi --vi vi --method REML --json", path);
	json_t *reml = run_json(cmd);
	cr_assert_float_eq(json_real_value(json_object_get(reml, "tau2")), 0.3132, 5e-5);
	cr_assert_float_eq(json_real_value(json_object_get(reml, "mu")), -0.7145, 5e-5);
	json_decref(dl);
	json_decref(reml);
	unlink(path);
}

Test(golden_cli, stats_row_order_and_not_estimable)
{
	char a[] = "/tmp/fv-stats-a-XXXXXX", b[] = "/tmp/fv-stats-b-XXXXXX", cmd[512];
	FILE *fa = fdopen(mkstemp(a), "w"), *fb = fdopen(mkstemp(b), "w");
	char *lines[600];
	int n = 0;
	srand(3);
	fprintf(fa, "score,label,site\n");
	fprintf(fb, "score,label,site\n");
	for (int i = 0; i < 500; i++) {
		int y = rand() % 4 == 0, s = i % 3;
		double p = (double)(rand() % 1000) / 1000.0 * 0.7 + (y ? 0.3 : 0.0);
		lines[n] = malloc(64);
		snprintf(lines[n++], 64, "%.3f,%d,site-%c\n", p, y, 'a' + s);
	}
	/* a site with positives only */
	for (int i = 0; i < 20; i++) {
		lines[n] = malloc(64);
		snprintf(lines[n++], 64, "0.9%02d,1,site-z\n", i);
	}
	for (int i = 0; i < n; i++)
		fputs(lines[i], fa);
	for (int i = n - 1; i >= 0; i--) {
		fputs(lines[i], fb);
		free(lines[i]);
	}
	fclose(fa);
	fclose(fb);
	snprintf(cmd, sizeof(cmd),
		 BIN " stats --csv %s --score score --label label --site site --threshold 0.5 "
		     "--json",
		 a);
	json_t *ja = run_json(cmd);
	snprintf(cmd, sizeof(cmd),
		 BIN " stats --csv %s --score score --label label --site site --threshold 0.5 "
		     "--json",
		 b);
	json_t *jb = run_json(cmd);
	cr_assert(json_equal(json_object_get(ja, "pooled"), json_object_get(jb, "pooled")),
		  "row order changed the pooled statistics");
	size_t i;
	json_t *s, *z = NULL;
	json_array_foreach(json_object_get(ja, "sites"), i,
			   s) if (!strcmp(json_string_value(json_object_get(s, "site")), "site-z"))
	    z = s;
	cr_assert(z);
	json_t *auc = json_object_get(z, "auroc");
	cr_assert(json_is_null(json_object_get(auc, "estimate")));
	cr_assert_str_eq(json_string_value(json_object_get(auc, "reason")), "no negatives");
	char *txt = json_dumps(ja, 0);
	cr_assert(!strstr(txt, "NaN") && !strstr(txt, "nan"), "NaN in the report");
	free(txt);
	json_decref(ja);
	json_decref(jb);
	unlink(a);
	unlink(b);
}
