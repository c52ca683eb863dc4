/* Regression, survival and multiclass benchmarks end to end: coordinator, three hospital nodes
 * and the CLI as real processes over mutual TLS. Each task's model is evaluated at every site
 * and pooled; the sites' and pooled metrics are compared with an independent computation at
 * test time (tests/integration/make_tasks.py: numpy, scikit-learn, a brute-force Harrell's C),
 * and a site's signed result passes `fedval verify`. */
#include <jansson.h>
#include <math.h>

#include "dash_harness.h"

static struct fed F;

static void teardown(void)
{
	h_fed_cleanup(&F);
}

static const char MAPPING[] = "[mapping]\nx1 = a1\nx2 = a2\nx3 = a3\nlos = stay_days\n"
			      "followup = fu_years\nevent = readmitted\nseverity = sev_class\n";

static json_t *EXPECTED;

static void setup(void)
{
	char *out = NULL, path[512];
	json_error_t jerr;

	h_fed_init(&F);
	dh_enable(&F);
	cr_assert_eq(h_run(&out,
			   "/usr/bin/python3 " FV_SOURCE_DIR
			   "/tests/integration/make_tasks.py %s 2>&1",
			   F.dir),
		     0, "make_tasks.py: %s", out);
	free(out);
	snprintf(path, sizeof(path), "%s/expected.json", F.dir);
	cr_assert((EXPECTED = json_load_file(path, 0, &jerr)), "%s", jerr.text);
	for (int s = 0; s < 3; s++) {
		char name[32], csv[64];
		snprintf(name, sizeof(name), "hospital-%c", 'a' + s);
		snprintf(csv, sizeof(csv), "%s.csv", name);
		h_node_add(&F, name, csv, MAPPING);
	}
	h_coord_start(&F);
	for (int i = 0; i < F.nnodes; i++)
		h_node_start(&F, i);
}

static void cleanup(void)
{
	json_decref(EXPECTED);
	EXPECTED = NULL;
	teardown();
}

/* Submit the task's model, create its benchmark, run it and return the JSON report. */
static json_t *run_task(const char *task, const char *bench)
{
	char *out = NULL, vid[128], run[128], path[512];
	json_error_t jerr;

	cr_assert_eq(h_cli(&F, &out, "vendor",
			   "model submit --model %s.onnx --manifest %s.manifest.json 2>&1", task,
			   task),
		     0, "submit: %s", out);
	h_last_line(out, vid, sizeof(vid));
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority", "benchmark create %s.bench.json 2>&1", task), 0,
		     "benchmark: %s", out);
	free(out);
	cr_assert_eq(
	    h_cli(&F, &out, "authority", "run start --benchmark %s --model %s 2>&1", bench, vid), 0,
	    "run start: %s", out);
	h_last_line(out, run, sizeof(run));
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority", "run status %s --wait 120 2>&1", run), 0,
		     "run status: %s", out);
	free(out);
	snprintf(path, sizeof(path), "%s/%s-report.json", F.dir, task);
	cr_assert_eq(h_cli(&F, &out, "authority", "results %s --json %s 2>&1", run, path), 0,
		     "results: %s", out);
	free(out);
	json_t *rep = json_load_file(path, 0, &jerr);
	cr_assert(rep, "report: %s", jerr.text);
	cr_assert_str_eq(json_string_value(json_object_get(rep, "task")),
			 task[0] == 'r'	  ? "regression"
			 : task[0] == 's' ? "survival"
					  : "multiclass");
	/* every site's signed result verifies offline */
	cr_assert_eq(h_run(&out, "cd %s && " H_BIN("fedval") " verify %s --ca pki/ca/ca.crt 2>&1",
			   F.dir, path),
		     0, "verify: %s", out);
	free(out);
	return rep;
}

static double num(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	cr_assert(json_is_number(v), "'%s' is not a number", k);
	return json_number_value(v);
}

static const json_t *site_expected(const char *node)
{
	const json_t *e = json_object_get(json_object_get(EXPECTED, "sites"), node);
	cr_assert(e, "no expected values for %s", node);
	return e;
}

#define REL(a, b, tol)                                                                             \
	cr_assert(fabs((a) - (b)) <= (tol)*fmax(1.0, fabs(b)), "%s: %.12g vs %.12g", #a, (a), (b))

/* `fedval stats --task` on every site's records with the models' outputs (all.csv) publishes
 * what the federation published: each site's metrics and the pooled ones, key by key. */
static void same_numbers(const json_t *a, const json_t *b, const char *where)
{
	const char *key;
	const json_t *v;
	size_t i;
	json_t *x;

	if (json_is_number(a)) {
		cr_assert(json_is_number(b), "%s: a number offline, not in the federation", where);
		double p = json_number_value(a), q = json_number_value(b);
		cr_assert(fabs(p - q) <= 1e-6 * fmax(1.0, fabs(q)),
			  "%s: offline %.12g, federated %.12g", where, p, q);
	} else if (json_is_object(a)) {
		json_object_foreach((json_t *)a, key, v)
		{
			char w[256];
			snprintf(w, sizeof(w), "%s.%s", where, key);
			/* a one-site class AUROC has "sites" 1 either way; tau2 etc. need k >= 2 */
			if (!json_object_get(b, key))
				cr_assert_fail("%s: only offline", w);
			same_numbers(v, json_object_get(b, key), w);
		}
	} else if (json_is_array(a)) {
		cr_assert_eq(json_array_size(a), json_array_size(b), "%s: lengths", where);
		json_array_foreach((json_t *)a, i, x)
		{
			char w[256];
			snprintf(w, sizeof(w), "%s[%zu]", where, i);
			same_numbers(x, json_array_get(b, i), w);
		}
	}
}

static void offline_equals(const json_t *rep, const char *task, const char *cols)
{
	char *out = NULL;
	json_error_t jerr;
	size_t i;
	json_t *s;

	cr_assert_eq(h_run(&out,
			   "cd %s && " H_BIN("fedval") " stats --task %s --csv all.csv %s --site "
						       "site --json",
			   F.dir, task, cols),
		     0, "fedval stats --task %s: %s", task, out);
	json_t *off = json_loads(out, 0, &jerr);
	cr_assert(off, "%s: %s", jerr.text, out);
	free(out);
	same_numbers(json_object_get(off, "pooled"), json_object_get(rep, "pooled"), "pooled");
	json_array_foreach(json_object_get(off, "sites"), i, s)
	{
		const char *site = json_string_value(json_object_get(s, "site"));
		size_t k;
		json_t *fs;
		bool found = false;
		json_array_foreach(json_object_get(rep, "sites"), k, fs)
		{
			if (strcmp(json_string_value(json_object_get(fs, "node")), site))
				continue;
			found = true;
			json_t *m = json_deep_copy(s);
			json_object_del(m, "site");
			same_numbers(m, json_object_get(fs, "metrics"), site);
			json_decref(m);
		}
		cr_assert(found, "no federated result for %s", site);
	}
	json_decref(off);
}

/* A benchmark the coordinator must refuse, with the field named in the error. */
static void bench_refused(const char *json, const char *field)
{
	char *out = NULL, path[512];
	snprintf(path, sizeof(path), "%s/bad.bench.json", F.dir);
	h_write(path, "%s", json);
	cr_assert_neq(h_cli(&F, &out, "authority", "benchmark create bad.bench.json 2>&1"), 0,
		      "accepted: %s", json);
	cr_assert(strstr(out, field), "error does not name '%s': %s", field, out);
	free(out);
}

Test(tasks, regression_survival_multiclass, .init = setup, .fini = cleanup, .timeout = 300)
{
	json_t *rep, *s;
	size_t i;

	/* specs the coordinator refuses at creation */
	const char vars[] = "\"variables\":[{\"name\":\"x1\"},{\"name\":\"x2\"}]";
	char buf[512];
	snprintf(buf, sizeof(buf),
		 "{\"name\":\"b\",\"version\":\"1\",\"task\":\"survival\",\"label\":"
		 "\"event\",%s}",
		 vars);
	bench_refused(buf, "'time'");
	snprintf(buf, sizeof(buf),
		 "{\"name\":\"b\",\"version\":\"1\",\"task\":\"multiclass\",\"classes\":2,"
		 "\"label\":\"s\",%s}",
		 vars);
	bench_refused(buf, "'classes'");
	snprintf(buf, sizeof(buf),
		 "{\"name\":\"b\",\"version\":\"1\",\"task\":\"regression\",\"label\":\"y\","
		 "\"thresholds\":[0.5],%s}",
		 vars);
	bench_refused(buf, "'thresholds'");
	snprintf(buf, sizeof(buf),
		 "{\"name\":\"b\",\"version\":\"1\",\"task\":\"ordinal\",\"label\":\"y\",%s}",
		 vars);
	bench_refused(buf, "ordinal");
	/* two subgroups cutting one variable (attack 36): refused at the coordinator too */
	snprintf(buf, sizeof(buf),
		 "{\"name\":\"b\",\"version\":\"1\",\"task\":\"binary\",\"label\":\"y\","
		 "\"thresholds\":[0.5],\"subgroups\":[{\"name\":\"lo\",\"variable\":\"x1\","
		 "\"edges\":[0.5]},{\"name\":\"hi\",\"variable\":\"x1\",\"edges\":[0.6]}],%s}",
		 vars);
	bench_refused(buf, "same variable");

	/* ---- regression: per site and pooled (exact pooling of the sites' sums) ---- */
	rep = run_task("reg", "los-regression");
	cr_assert_eq(json_array_size(json_object_get(rep, "sites")), 3);
	json_array_foreach(json_object_get(rep, "sites"), i, s)
	{
		const json_t *m = json_object_get(s, "metrics"),
			     *e = site_expected(json_string_value(json_object_get(s, "node")));
		cr_assert(json_is_true(json_object_get(s, "verified")));
		cr_assert_eq((uint64_t)num(m, "n"), (uint64_t)num(e, "n"));
		REL(num(m, "mae"), num(e, "mae"), 1e-6);
		REL(num(m, "rmse"), num(e, "rmse"), 1e-6);
		REL(num(m, "r2"), num(e, "r2"), 1e-6);
	}
	const json_t *pooled = json_object_get(rep, "pooled"),
		     *pe = json_object_get(EXPECTED, "pooled");
	cr_assert_eq((uint64_t)num(pooled, "n"), 2100);
	REL(num(pooled, "mae"), num(pe, "mae"), 1e-6);
	REL(num(pooled, "rmse"), num(pe, "rmse"), 1e-6);
	REL(num(pooled, "r2"), num(pe, "r2"), 1e-6);
	REL(num(pooled, "calibration_slope"), num(pe, "calibration_slope"), 1e-6);
	REL(num(pooled, "calibration_intercept"), num(pe, "calibration_intercept"), 1e-6);
	offline_equals(rep, "regression", "--score pred --label los");

	/* the dashboard gives the authority the same metrics (lib/report/tasks.c) */
	{
		char tok[2048], hdr[2200], path[256];
		json_t *j = NULL;
		int port = dh_port(&F);
		dh_token_cli(&F, "authority", tok, sizeof(tok));
		snprintf(hdr, sizeof(hdr), "-H 'Authorization: Bearer %s'", tok);
		snprintf(path, sizeof(path), "/api/v1/runs/%s",
			 json_string_value(json_object_get(json_object_get(rep, "run"), "run_id")));
		cr_assert_eq(dh_fetch(&F, port, path, hdr, NULL, &j), 200);
		cr_assert_str_eq(json_string_value(json_object_get(j, "task")), "regression");
		const json_t *dp = json_object_get(j, "pooled");
		REL(num(dp, "r2"), num(json_object_get(rep, "pooled"), "r2"), 1e-9);
		REL(num(dp, "mae"), num(json_object_get(rep, "pooled"), "mae"), 1e-9);
		cr_assert(json_is_object(
		    json_object_get(json_array_get(json_object_get(j, "sites"), 0), "metrics")));
		json_decref(j);
	}
	/* scheduled monitoring watches AUROC, O/E and case mix: binary benchmarks only */
	{
		char *out = NULL;
		const json_t *model = json_object_get(rep, "model");
		cr_assert_neq(h_cli(&F, &out, "authority",
				    "monitor schedule add --benchmark los-regression --model %s "
				    "--cadence P30D 2>&1",
				    json_string_value(json_object_get(model, "version_id"))),
			      0, "a regression benchmark was scheduled: %s", out);
		cr_assert(strstr(out, "binary benchmarks only"), "%s", out);
		free(out);
	}
	json_decref(rep);

	/* ---- survival: per-site Harrell's C; pooled = the site-stratified C ---- */
	rep = run_task("surv", "time-to-event");
	uint64_t comp = 0, conc2 = 0;
	json_array_foreach(json_object_get(rep, "sites"), i, s)
	{
		const json_t *m = json_object_get(s, "metrics"),
			     *e = site_expected(json_string_value(json_object_get(s, "node")));
		cr_assert_eq((uint64_t)num(m, "events"), (uint64_t)num(e, "events"));
		cr_assert_eq((uint64_t)num(m, "comparable_pairs"),
			     (uint64_t)num(e, "comparable_pairs"));
		double c = num(e, "concordant2") / (2.0 * num(e, "comparable_pairs"));
		REL(num(m, "c_index"), c, 1e-9); /* the report keeps 10 digits */
		comp += (uint64_t)num(e, "comparable_pairs");
		conc2 += (uint64_t)num(e, "concordant2");
	}
	pooled = json_object_get(rep, "pooled");
	offline_equals(rep, "survival", "--score risk --label event --time fu");
	cr_assert_eq((uint64_t)num(pooled, "comparable_pairs"), comp);
	REL(num(pooled, "c_index"), (double)conc2 / (2.0 * (double)comp), 1e-9);
	json_decref(rep);

	/* ---- multiclass: one-vs-rest AUROC per class and confusion rows per site ---- */
	rep = run_task("mc", "severity");
	json_array_foreach(json_object_get(rep, "sites"), i, s)
	{
		const json_t *m = json_object_get(s, "metrics"),
			     *e = site_expected(json_string_value(json_object_get(s, "node")));
		cr_assert_eq(json_integer_value(json_object_get(m, "classes")), 3);
		for (size_t c = 0; c < 3; c++) {
			const json_t *k = json_array_get(json_object_get(m, "per_class"), c);
			const json_t *row = json_array_get(json_object_get(e, "confusion"), c);
			REL(num(json_object_get(k, "auroc"), "estimate"),
			    json_number_value(json_array_get(json_object_get(e, "auroc"), c)),
			    1e-9);
			for (size_t p = 0; p < 3; p++)
				cr_assert_eq(json_integer_value(json_array_get(
						 json_object_get(k, "predicted"), p)),
					     json_integer_value(json_array_get(row, p)),
					     "site %zu class %zu predicted %zu", i, c, p);
		}
	}
	pooled = json_object_get(rep, "pooled");
	cr_assert_eq((uint64_t)num(pooled, "n"), 2100);
	offline_equals(rep, "multiclass", "--score p0,p1,p2 --label sev");
	double macro = num(pooled, "macro_auroc");
	cr_assert(macro > 0.7 && macro < 0.95, "macro AUROC %g", macro);
	/* pooled confusion rows are the sums of the sites' rows */
	for (size_t c = 0; c < 3; c++) {
		const json_t *k = json_array_get(json_object_get(pooled, "per_class"), c);
		for (size_t p = 0; p < 3; p++) {
			json_int_t sum = 0;
			const char *names[] = {"hospital-a", "hospital-b", "hospital-c"};
			for (size_t t = 0; t < 3; t++)
				sum += json_integer_value(json_array_get(
				    json_array_get(
					json_object_get(site_expected(names[t]), "confusion"), c),
				    p));
			cr_assert_eq(
			    json_integer_value(json_array_get(json_object_get(k, "predicted"), p)),
			    sum);
		}
	}
	json_decref(rep);
}
