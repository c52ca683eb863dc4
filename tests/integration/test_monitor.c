/* End-to-end test of `fedval monitor check` (cli/monitor.c) on report files shaped as
 * `fedval results --json` writes them (schema fedval.report/1): the built binary runs on
 * synthetic monitoring periods and its exit status and alerts are checked.
 *
 * Three sites, n = 2000 with 200 events each period; AUROC about 0.80 with a small
 * deterministic wobble; the DeLong variance is given its realistic size by Hanley & McNeil's
 * formula (Radiology 1982;143:29-36), about 0.019^2 at 0.80. In the drifting series site-b's
 * AUROC falls by 0.05 from period 3 on. Worked by hand (k = 0.5, h = 4; z against period 0
 * with both variances): site-b's z is -1.70, -1.90, -1.67, -1.84, so C- runs 1.20, 2.60,
 * 3.77, 5.10: the alarm is at period 6. */
#include <jansson.h>
#include <math.h>

#include "integration/harness.h"

#define PERIODS 8
#define NSITES	3
static const char *const site_name[NSITES] = {"site-a", "site-b", "site-c"};
static const double wobble[PERIODS] = {0, 0.004, -0.003, 0.002, -0.004, 0.003, -0.002, 0.001};
/* expected events: O/E stays within 2% of 1 */
static const double expected_ev[PERIODS] = {200, 198, 203, 201, 197, 202, 199, 200};

static double hanley_mcneil(double a, double n1, double n0)
{
	double q1 = a / (2 - a), q2 = 2 * a * a / (1 + a);
	return (a * (1 - a) + (n1 - 1) * (q1 - a * a) + (n0 - 1) * (q2 - a * a)) / (n1 * n0);
}

/* Case mix per site and period: age bands <65, [65, 80), >=80 of n = 2000, stable up to a
 * few records (site-c exactly); with mix_shift site-c's patients grow older from period 2 on
 * (45/40/15 % to 25/40/35 %: PSI = 0.2 ln(0.45/0.25) + 0.2 ln(0.35/0.15) = 0.287 >= 0.25). site-a
 * withholds its >=80 band in period 5 (too few events, say): compared through the remainder bin. */
static int mix_shift;

static json_t *case_mix(int s, int t)
{
	int w = s == 2 ? 0 : (int)(1000 * wobble[(t + s) % PERIODS]);
	int a = 900 + w, b = 800 - w, c = 300;
	if (mix_shift && s == 2 && t >= 2) {
		a = 500 + w;
		c = 700;
	}
	json_t *m = json_pack("[{s:s,s:s,s:i,s:i},{s:s,s:s,s:i,s:i},{s:s,s:s,s:i,s:i}]", "subgroup",
			      "age_band", "category", "<65", "n", a, "n_pos", a / 10, "subgroup",
			      "age_band", "category", "[65, 80)", "n", b, "n_pos", b / 10,
			      "subgroup", "age_band", "category", ">=80", "n", c, "n_pos", c / 10);
	if (s == 0 && t == 5)
		json_array_set_new(m, 2,
				   json_pack("{s:s,s:s,s:b}", "subgroup", "age_band", "category",
					     ">=80", "suppressed", 1));
	return m;
}

/* The site's dataset summary (docs/data-summary.md), only what monitoring reads: age with
 * mean 70 and sd 10 over 2000 valid values, wobbling by 0.1; with mix_shift site-c's mean
 * rises to 75 from period 2: SMD = 5 / sqrt((100 + 100) / 2) = 0.5, z = 5 / sqrt(2 * 100 /
 * 2000) = 15.8. A text column has no mean: never compared. */
static json_t *summary(int s, int t)
{
	double mean = 70 + (s == 2 ? 0 : 10 * wobble[(t + s) % PERIODS]);
	if (mix_shift && s == 2 && t >= 2)
		mean = 75;
	return json_pack("{s:s,s:i,s:[{s:s,s:i,s:f,s:f},{s:s,s:i,s:n,s:n}]}", "format",
			 "fedval-data-summary/1", "rows", 2000, "variables", "name", "age",
			 "n_valid", 2000, "mean", mean, "sd", 10.0, "name", "patient_id", "n_valid",
			 2000, "mean", "sd");
}

/* Write period t's report to dir/pT.json; site-b drops by `drop` from period 3. */
static void write_report(const char *dir, int t, double drop)
{
	char path[512];
	json_t *sites = json_array();
	for (int s = 0; s < NSITES; s++) {
		double a = 0.80 + (s == 1 ? wobble[t] : 0.5 * wobble[(t + 2 * s) % PERIODS]);
		if (s == 1 && t >= 3)
			a -= drop;
		json_array_append_new(
		    sites, json_pack("{s:s,s:b,s:s,s:i,s:i,s:{s:f,s:f,s:s},s:f,s:f,s:o}", "node",
				     site_name[s], "verified", 1, "status", "ok", "n", 2000,
				     "n_pos", 200, "auroc", "estimate", a, "delong_variance",
				     hanley_mcneil(a, 200, 1800), "method", "DeLong",
				     "expected_events", expected_ev[t], "observed_expected",
				     200 / expected_ev[t], "subgroups", case_mix(s, t)));
		json_object_set_new(json_array_get(sites, (size_t)s), "data_summary",
				    summary(s, t));
	}
	/* a failed site is ignored, not an error */
	json_array_append_new(sites, json_pack("{s:s,s:b,s:s,s:s}", "node", "site-d", "verified", 1,
					       "status", "failed", "reason", "no data"));
	char run[32];
	snprintf(run, sizeof(run), "run-%d", t);
	json_t *rep = json_pack("{s:s,s:{s:s},s:{s:s},s:o}", "schema", "fedval.report/1", "run",
				"run_id", run, "model", "version_id", "abc123", "sites", sites);
	snprintf(path, sizeof(path), "%s/p%d.json", dir, t);
	cr_assert_eq(json_dump_file(rep, path, JSON_INDENT(2) | JSON_SORT_KEYS), 0);
	json_decref(rep);
}

static char dir[64];

static void series(double drop)
{
	mix_shift = 0;
	snprintf(dir, sizeof(dir), "/tmp/fv-monitor-XXXXXX");
	cr_assert(mkdtemp(dir));
	for (int t = 0; t < PERIODS; t++)
		write_report(dir, t, drop);
}

static void cleanup(void)
{
	char *out = NULL;
	if (dir[0])
		h_run(&out, "rm -rf '%s'", dir);
	free(out);
}

#define FILES                                                                                      \
	"%s/p0.json %s/p1.json %s/p2.json %s/p3.json %s/p4.json %s/p5.json %s/p6.json %s/p7.json"
#define DIRS dir, dir, dir, dir, dir, dir, dir, dir

Test(monitor, drifting_site_raises_alert, .fini = cleanup)
{
	char *out = NULL;
	series(0.05);
	int rc = h_run(&out, H_BIN("fedval") " monitor check --baseline " FILES " 2>&1", DIRS);
	cr_assert_eq(rc, 1, "exit %d, output:\n%s", rc, out);
	cr_assert(strstr(out, "ALERT: site-b auroc drift at period 6"), "%s", out);
	cr_assert(!strstr(out, "ALERT: site-a"), "%s", out);
	cr_assert(!strstr(out, "ALERT: site-c"), "%s", out);
	cr_assert(!strstr(out, " oe drift"), "O/E is stable: %s", out);
	cr_assert(strstr(out, "site-d") == NULL || strstr(out, "ALERT: site-d") == NULL);
	/* the table row of the alarm */
	cr_assert(strstr(out, "ALARM"), "%s", out);
	free(out);
}

Test(monitor, stable_series_exits_zero, .fini = cleanup)
{
	char *out = NULL;
	series(0.0);
	int rc = h_run(&out, H_BIN("fedval") " monitor check --baseline " FILES " 2>&1", DIRS);
	cr_assert_eq(rc, 0, "exit %d, output:\n%s", rc, out);
	cr_assert(!strstr(out, "ALERT"), "%s", out);
	cr_assert(strstr(out, "no drift"), "%s", out);
	free(out);
}

Test(monitor, json_output_and_metric_choice, .fini = cleanup)
{
	char *out = NULL, path[128];
	json_error_t err;
	series(0.05);
	snprintf(path, sizeof(path), "%s/out.json", dir);
	int rc = h_run(&out, H_BIN("fedval") " monitor check --json --baseline " FILES " > %s 2>&1",
		       DIRS, path);
	cr_assert_eq(rc, 1);
	free(out);
	/* stdout is the JSON; the ALERT line went to stderr (here into the same file, after) */
	rc = h_run(&out, H_BIN("fedval") " monitor check --json --baseline " FILES " 2>/dev/null",
		   DIRS);
	cr_assert_eq(rc, 1);
	json_t *j = json_loads(out, 0, &err);
	cr_assert(j, "not JSON: %s\n%s", err.text, out);
	cr_assert_str_eq(json_string_value(json_object_get(j, "schema")), "fedval.monitor/1");
	json_t *alerts = json_object_get(j, "alerts");
	cr_assert_eq(json_array_size(alerts), 1, "%s", out);
	json_t *a = json_array_get(alerts, 0);
	cr_assert_str_eq(json_string_value(json_object_get(a, "site")), "site-b");
	cr_assert_str_eq(json_string_value(json_object_get(a, "metric")), "auroc");
	cr_assert_eq(json_integer_value(json_object_get(a, "period")), 6);
	cr_assert_str_eq(json_string_value(json_object_get(a, "direction")), "down");
	cr_assert_eq(json_array_size(json_object_get(j, "periods")), PERIODS);
	json_decref(j);
	free(out);
	/* only O/E: no alarm */
	rc = h_run(&out, H_BIN("fedval") " monitor check --metric oe --baseline " FILES " 2>&1",
		   DIRS);
	cr_assert_eq(rc, 0, "%s", out);
	free(out);
	/* a tighter scheme (h = 2) catches site-b earlier: C- 2.60 > 2 at period 4 */
	rc = h_run(&out, H_BIN("fedval") " monitor check --h 2 --baseline " FILES " 2>&1", DIRS);
	cr_assert_eq(rc, 1, "%s", out);
	cr_assert(strstr(out, "ALERT: site-b auroc drift at period 4"), "%s", out);
	free(out);
}

Test(monitor, case_mix_shift_raises_input_alert, .fini = cleanup)
{
	char *out = NULL;
	series(0.0);
	mix_shift = 1;
	for (int t = 0; t < PERIODS; t++)
		write_report(dir, t, 0.0);
	int rc = h_run(&out, H_BIN("fedval") " monitor check --baseline " FILES " 2>&1", DIRS);
	cr_assert_eq(rc, 1, "exit %d, output:\n%s", rc, out);
	cr_assert(strstr(out, "ALERT: site-c input:age_band drift at period 2 (shift: PSI 0.287"),
		  "%s", out);
	cr_assert(!strstr(out, "ALERT: site-a"), "a withheld band is not a shift:\n%s", out);
	cr_assert(!strstr(out, "ALERT: site-b"), "%s", out);
	cr_assert(!strstr(out, "auroc drift"), "%s", out);
	cr_assert(strstr(out, "input case mix per subgroup"), "%s", out);
	/* the variable summaries: site-c's age moved by half an SD */
	cr_assert(strstr(out, "ALERT: site-c variable:age drift at period 2 (shift: SMD 0.500"),
		  "%s", out);
	cr_assert(!strstr(out, "variable:patient_id"), "%s", out);
	cr_assert(!strstr(out, "ALERT: site-a variable"), "%s", out);
	free(out);

	/* JSON: the input series and the alert */
	json_error_t err;
	rc = h_run(&out, H_BIN("fedval") " monitor check --json --baseline " FILES " 2>/dev/null",
		   DIRS);
	cr_assert_eq(rc, 1);
	json_t *j = json_loads(out, 0, &err);
	cr_assert(j, "not JSON: %s\n%s", err.text, out);
	json_t *alerts = json_object_get(j, "alerts");
	cr_assert_eq(json_array_size(alerts), 2, "%s", out);
	json_t *a = json_array_get(alerts, 0);
	cr_assert_str_eq(json_string_value(json_object_get(a, "metric")), "input:age_band");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(alerts, 1), "metric")),
			 "variable:age");
	cr_assert_eq(json_array_size(json_object_get(j, "variables")), NSITES, "%s", out);
	cr_assert_str_eq(json_string_value(json_object_get(a, "direction")), "shift");
	cr_assert_eq(json_array_size(json_object_get(j, "inputs")), NSITES, "%s", out);
	json_t *in = json_array_get(json_object_get(j, "inputs"), 2);
	json_t *p2 = json_array_get(json_object_get(in, "points"), 2);
	cr_assert_float_eq(json_real_value(json_object_get(p2, "psi")),
			   0.2 * log(0.45 / 0.25) + 0.2 * log(0.35 / 0.15), 1e-9, "%s", out);
	/* site-a's period 5: one band withheld, two compared plus the remainder */
	json_t *a5 = json_array_get(
	    json_object_get(json_array_get(json_object_get(j, "inputs"), 0), "points"), 5);
	cr_assert_eq(json_integer_value(json_object_get(a5, "categories_compared")), 2, "%s", out);
	json_decref(j);
	free(out);

	/* performance only: no alarm; a looser PSI limit does not help a stable site */
	rc = h_run(&out, H_BIN("fedval") " monitor check --metric both --baseline " FILES " 2>&1",
		   DIRS);
	cr_assert_eq(rc, 0, "%s", out);
	free(out);
	rc = h_run(
	    &out,
	    H_BIN("fedval") " monitor check --metric input --psi 0.3 --smd 0.6 --baseline " FILES
			    " 2>&1",
	    DIRS);
	cr_assert_eq(rc, 0, "PSI 0.287 is below 0.3:\n%s", out);
	free(out);
	cr_assert_eq(h_run(NULL,
			   H_BIN("fedval") " monitor check --alpha 2 --baseline %s/p0.json "
					   "%s/p1.json 2>/dev/null",
			   dir, dir),
		     2);
}

Test(monitor, usage_and_bad_input, .fini = cleanup)
{
	char *out = NULL;
	series(0.0);
	cr_assert_eq(h_run(&out, H_BIN("fedval") " monitor check --help"), 0);
	cr_assert(strstr(out, "usage: fedval monitor check"), "%s", out);
	free(out);
	cr_assert_eq(h_run(NULL, H_BIN("fedval") " monitor check %s/p1.json 2>/dev/null", dir), 2);
	cr_assert_eq(
	    h_run(NULL, H_BIN("fedval") " monitor check --baseline %s/p0.json 2>/dev/null", dir), 2,
	    "a baseline alone is not a series");
	cr_assert_eq(h_run(NULL,
			   H_BIN("fedval") " monitor check --metric auc --baseline %s/p0.json "
					   "%s/p1.json 2>/dev/null",
			   dir, dir),
		     2);
	cr_assert_eq(h_run(NULL,
			   H_BIN("fedval") " monitor check --h 0 --baseline %s/p0.json "
					   "%s/p1.json 2>/dev/null",
			   dir, dir),
		     2);
	char bad[128];
	snprintf(bad, sizeof(bad), "%s/bad.json", dir);
	h_write(bad, "{\"schema\": \"something/2\", \"sites\": []}");
	int rc =
	    h_run(&out, H_BIN("fedval") " monitor check --baseline %s/p0.json %s 2>&1", dir, bad);
	cr_assert_eq(rc, 1);
	cr_assert(strstr(out, "not a fedval.report/1 report"), "%s", out);
	free(out);
	rc = h_run(&out, H_BIN("fedval") " monitor check --baseline %s/p0.json %s/none.json 2>&1",
		   dir, dir);
	cr_assert_eq(rc, 1, "%s", out);
	free(out);
}
