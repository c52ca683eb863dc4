/* The hospital stays in control: manual approval, veto, release of exactly the reviewed bytes,
 * the site's allow-lists and budget, and the attacks of a coordinator (or an authority)
 * trying to isolate a patient: a tiny cohort, two cohorts one record apart, a threshold sweep
 * in one-record steps, the same job again and again. All through the real processes. */
#include <jansson.h>

#include "harness.h"

static struct fed F;
static char VID[128];

static void teardown(void)
{
	h_fed_cleanup(&F);
}

static void start(const char *policy, int rows)
{
	char *out = NULL;
	h_fed_init(&F);
	cr_assert_eq(
	    h_run(&out,
		  "cd %s && " H_BIN(
		      "fedval") " demo data --profile 0 --rows 2000 "
				"--out dev.csv && " H_BIN(
				    "fedval") " demo train --data dev.csv "
					      "--out-dir model && " H_BIN(
						  "fedval") " demo data --profile 1 "
							    "--rows %d --seed 3 --out a.csv 2>&1",
		  F.dir, rows),
	    0, "%s", out);
	free(out);
	h_node_add(&F, "hospital-a", "a.csv", policy);
	h_coord_start(&F);
	h_node_start(&F, 0);
	cr_assert_eq(h_cli(&F, &out, "vendor",
			   "model submit --model model/model.onnx --manifest model/manifest.json"),
		     0, "%s", out);
	h_last_line(out, VID, sizeof(VID));
	free(out);
}

/* A benchmark like the demo's with other thresholds and declarations. */
static void benchmark(const char *name, const char *thresholds, bool declared)
{
	char path[512], *out = NULL;
	json_error_t jerr;
	json_t *b = json_load_file(FV_SOURCE_DIR "/deploy/demo/benchmark.json", 0, &jerr);
	cr_assert(b);
	json_object_set_new(b, "name", json_string(name));
	json_object_set_new(b, "thresholds", json_loads(thresholds, JSON_DECODE_ANY, NULL));
	if (declared) {
		json_object_set_new(b, "legal_basis", json_string("GDPR Art. 9(2)(i)"));
		json_object_set_new(b, "purpose", json_string("post-market performance study"));
	}
	snprintf(path, sizeof(path), "%s/%s.json", F.dir, name);
	cr_assert_eq(json_dump_file(b, path, 0), 0);
	json_decref(b);
	cr_assert_eq(h_cli(&F, &out, "authority", "benchmark create %s.json 2>&1", name), 0, "%s",
		     out);
	free(out);
}

static void run_start(const char *bench, char *run, size_t cap)
{
	char *out = NULL;
	cr_assert_eq(
	    h_cli(&F, &out, "authority", "run start --benchmark %s --model %s", bench, VID), 0,
	    "%s", out);
	h_last_line(out, run, cap);
	free(out);
}

/* Wait for the run to complete and return `run status` output (caller frees). */
static char *run_wait(const char *run)
{
	char *out = NULL;
	cr_assert_eq(h_cli(&F, &out, "authority", "run status %s --wait 120", run), 0, "%s", out);
	return out;
}

/* Wait until `run status` shows `state` for the job. */
static void wait_state(const char *run, const char *state)
{
	for (int i = 0; i < 200; i++) {
		char *out = NULL;
		h_cli(&F, &out, "authority", "run status %s", run);
		bool ok = strstr(out, state) != NULL;
		free(out);
		if (ok)
			return;
		h_sleep_ms(100);
	}
	cr_assert_fail("job never reached state %s", state);
}

#define SITE(out, fmt, ...)                                                                        \
	h_run(out, "cd %s && " H_BIN("fedval") " site " fmt " --config hospital-a.node.ini 2>&1",  \
	      F.dir, ##__VA_ARGS__)

Test(site_control, manual_approval_veto_and_release, .fini = teardown, .timeout = 180)
{
	char run[128], run2[128], *out = NULL, job[160], sha[80];

	start("[policy]\napproval = manual\nrequire_legal_basis = yes\n", 3000);
	benchmark("undeclared", "[0.2]", false);
	benchmark("declared", "[0.2, 0.3]", true);

	/* Without a declared legal basis the site's policy vetoes at once. */
	run_start("undeclared", run, sizeof(run));
	out = run_wait(run);
	cr_assert(strstr(out, "vetoed") && strstr(out, "legal_basis"), "%s", out);
	free(out);

	/* Declared: held for a person's decision, listed with what would be computed. */
	run_start("declared", run, sizeof(run));
	wait_state(run, " held");
	snprintf(job, sizeof(job), "%s.hospital-a", run);
	cr_assert_eq(SITE(&out, "jobs"), 0);
	cr_assert(strstr(out, job) && strstr(out, "GDPR Art. 9(2)(i)") &&
		      strstr(out, "waiting for approval") && strstr(out, "0.2 0.3"),
		  "%s", out);
	free(out);
	cr_assert_eq(SITE(&out, "release %s", job), 1, "release before a result: %s", out);
	free(out);
	cr_assert_eq(SITE(&out, "approve %s", job), 0, "%s", out);
	free(out);
	/* Evaluated, but nothing leaves before the release. */
	char log[512];
	snprintf(log, sizeof(log), "%s/hospital-a.log", F.dir);
	cr_assert(h_wait_log(log, "event=result_awaiting_release", 1, 30000));
	cr_assert_eq(SITE(&out, "results show %s --json", job), 0, "%s", out);
	json_t *shown = json_loads(out, 0, NULL);
	cr_assert(shown, "%s", out);
	snprintf(sha, sizeof(sha), "%s",
		 json_string_value(json_object_get(shown, "result_sha256")));
	cr_assert_eq(json_integer_value(json_object_get(shown, "n")), 3000);
	json_decref(shown);
	free(out);
	out = NULL;
	h_cli(&F, &out, "authority", "run status %s", run);
	cr_assert(strstr(out, " held"), "released too early: %s", out);
	free(out);
	/* Not publishable while the site's part is held back. */
	cr_assert_eq(h_cli(&F, &out, "authority", "run publish %s 2>&1", run), 1,
		     "published before the release: %s", out);
	cr_assert(strstr(out, "not in yet"), "%s", out);
	free(out);
	cr_assert_eq(SITE(&out, "release %s", job), 0, "%s", out);
	free(out);
	free(run_wait(run));
	cr_assert_eq(h_cli(&F, &out, "authority", "run publish %s", run), 0, "%s", out);
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority", "run status %s", run), 0);
	cr_assert(strstr(out, "complete, published"), "%s", out);
	free(out);
	/* The coordinator holds exactly the bytes the site reviewed. */
	char path[512];
	snprintf(path, sizeof(path), "%s/report.json", F.dir);
	cr_assert_eq(h_cli(&F, &out, "authority", "results %s --json %s 2>&1", run, path), 0, "%s",
		     out);
	free(out);
	json_t *rep = json_load_file(path, 0, NULL);
	cr_assert_str_eq(json_string_value(json_object_get(
			     json_array_get(json_object_get(rep, "sites"), 0), "result_sha256")),
			 sha);
	json_decref(rep);

	/* A veto with a reason, signed by the node and recorded by the coordinator. */
	run_start("declared", run2, sizeof(run2));
	wait_state(run2, " held");
	snprintf(job, sizeof(job), "%s.hospital-a", run2);
	cr_assert_eq(SITE(&out, "veto %s", job), 2, "veto without reason: %s", out);
	free(out);
	cr_assert_eq(SITE(&out, "veto %s --reason 'no DPIA for this vendor'", job), 0, "%s", out);
	free(out);
	out = run_wait(run2);
	cr_assert(strstr(out, "vetoed") && strstr(out, "no DPIA"), "%s", out);
	free(out);
	cr_assert_eq(h_run(&out,
			   "sqlite3 %s/coordinator.db \"SELECT count(*) FROM decisions "
			   "WHERE decision = 'vetoed' AND length(envelope) > 64\"",
			   F.dir),
		     0);
	cr_assert(atoi(out) == 2, "vetoes recorded with their signed envelopes: %s", out);
	free(out);
}

Test(site_control, allow_lists_and_budget, .fini = teardown, .timeout = 180)
{
	char run[128], *out = NULL;

	start("[policy]\nallowed_vendors = someone-else\n", 1000);
	benchmark("b1", "[0.2]", false);
	run_start("b1", run, sizeof(run));
	out = run_wait(run);
	cr_assert(strstr(out, "vetoed") && strstr(out, "allowed_vendors"), "%s", out);
	free(out);
	h_fed_cleanup(&F);

	/* Three results per period; the fourth identical job is refused. */
	start("[policy]\nbudget_results = 3\nbudget_period_days = 1\n", 1000);
	benchmark("b1", "[0.2]", false);
	for (int i = 0; i < 4; i++) {
		run_start("b1", run, sizeof(run));
		out = run_wait(run);
		if (i < 3)
			cr_assert(strstr(out, " done"), "run %d: %s", i, out);
		else
			cr_assert(strstr(out, "vetoed") && strstr(out, "budget"), "%s", out);
		free(out);
	}
}

Test(site_control, isolating_attacks_refused, .fini = teardown, .timeout = 180)
{
	char run[128], *out = NULL, path[512];

	start(NULL, 1000);
	/* A threshold sweep in tiny steps: rows too close to another row are withheld. */
	benchmark("sweep",
		  "[0.3, 0.3001, 0.3002, 0.3003, 0.3004, 0.3005, 0.3006, 0.3007, 0.3008, 0.5]",
		  false);
	run_start("sweep", run, sizeof(run));
	free(run_wait(run));
	snprintf(path, sizeof(path), "%s/sweep.report.json", F.dir);
	cr_assert_eq(h_cli(&F, &out, "authority", "results %s --json %s 2>&1", run, path), 0, "%s",
		     out);
	free(out);
	json_t *rep = json_load_file(path, 0, NULL), *rows, *row;
	rows = json_object_get(json_array_get(json_object_get(rep, "sites"), 0), "thresholds");
	size_t i, released = 0, withheld = 0;
	uint64_t last_calls = 0;
	json_array_foreach(rows, i, row)
	{
		if (json_is_true(json_object_get(row, "suppressed"))) {
			withheld++;
			continue;
		}
		uint64_t calls = (uint64_t)(json_integer_value(json_object_get(row, "tp")) +
					    json_integer_value(json_object_get(row, "fp")));
		if (released)
			cr_assert(calls == last_calls || last_calls - calls >= 5,
				  "two released rows differ by fewer than 5 calls");
		last_calls = calls;
		released++;
	}
	cr_assert_gt(withheld, 0, "a one-record threshold sweep was released whole");
	cr_assert_gt(released, 1);
	json_decref(rep);
	snprintf(path, sizeof(path), "%s/hospital-a.log", F.dir);
	cr_assert(h_count(path, "reason=differencing") > 0);

	/* Two cohorts one record apart: the second is refused. */
	benchmark("plain", "[0.2]", false);
	cr_assert_eq(h_run(NULL, "cd %s && tail -n 1 a.csv >> a.csv", F.dir), 0);
	run_start("plain", run, sizeof(run));
	out = run_wait(run);
	cr_assert(strstr(out, "failed") && strstr(out, "differencing"), "%s", out);
	free(out);
	h_fed_cleanup(&F);

	/* A cohort below the site's minimum size. */
	start(NULL, 30);
	benchmark("plain", "[0.2]", false);
	run_start("plain", run, sizeof(run));
	out = run_wait(run);
	cr_assert(strstr(out, "failed") && strstr(out, "minimum cohort"), "%s", out);
	free(out);
}

/* Subgroups under a strict minimum cell count: a category (or its complement) with fewer
 * records, events or non-events than the minimum is withheld, and never alone (secondary
 * suppression), so it cannot be recovered by subtraction from the whole. */
Test(site_control, subgroups_small_cells_withheld, .fini = teardown, .timeout = 120)
{
	char run[128], *out = NULL, path[512];

	start("[policy]\nmin_cell_count = 40\n", 1500);
	{
		json_error_t jerr;
		json_t *b = json_load_file(FV_SOURCE_DIR "/deploy/demo/benchmark.json", 0, &jerr);
		cr_assert(b);
		json_object_set_new(b, "name", json_string("subgroups"));
		json_object_set_new(b, "thresholds", json_loads("[0.2]", JSON_DECODE_ANY, NULL));
		json_object_set_new(
		    b, "subgroups",
		    json_loads("[{\"name\":\"age_band\",\"variable\":\"age\",\"edges\":[45,85]},"
			       "{\"name\":\"nyha\",\"variable\":\"nyha_class\"}]",
			       0, NULL));
		snprintf(path, sizeof(path), "%s/subgroups.json", F.dir);
		cr_assert_eq(json_dump_file(b, path, 0), 0);
		json_decref(b);
	}
	cr_assert_eq(h_cli(&F, &out, "authority", "benchmark create subgroups.json 2>&1"), 0, "%s",
		     out);
	free(out);
	run_start("subgroups", run, sizeof(run));
	free(run_wait(run));
	snprintf(path, sizeof(path), "%s/sub.report.json", F.dir);
	cr_assert_eq(h_cli(&F, &out, "authority", "results %s --json %s 2>&1", run, path), 0, "%s",
		     out);
	free(out);
	json_t *rep = json_load_file(path, 0, NULL), *sg, *cat;
	cr_assert(rep);
	uint64_t total = (uint64_t)json_integer_value(
	    json_object_get(json_array_get(json_object_get(rep, "sites"), 0), "n"));
	size_t i, k, subgroups = 0;
	json_array_foreach(json_object_get(rep, "subgroups"), i, sg)
	{
		size_t withheld = 0, cats = 0;
		subgroups++;
		json_array_foreach(json_object_get(sg, "categories"), k, cat)
		{
			cats++;
			if (json_integer_value(json_object_get(cat, "withheld_at_sites"))) {
				withheld++;
				continue;
			}
			uint64_t n = (uint64_t)json_integer_value(json_object_get(cat, "n"));
			cr_assert(n >= 40 && total - n >= 40,
				  "category released with n=%llu of %llu", (unsigned long long)n,
				  (unsigned long long)total);
		}
		cr_assert(withheld != 1 || cats == 1, "a single withheld category in %s",
			  json_string_value(json_object_get(sg, "subgroup")));
	}
	cr_assert_eq(subgroups, 2);
	/* What the withheld categories add up to (the whole minus the released ones) is itself
	 * no small cell. */
	json_t *site = json_array_get(json_object_get(rep, "sites"), 0);
	const char *names[2] = {"age_band", "nyha"};
	for (int g = 0; g < 2; g++) {
		uint64_t released = 0;
		json_array_foreach(json_object_get(site, "subgroups"), k, cat)
		{
			if (!strcmp(json_string_value(json_object_get(cat, "subgroup")), names[g]))
				released += (uint64_t)json_integer_value(json_object_get(cat, "n"));
		}
		cr_assert(total - released == 0 || total - released >= 40,
			  "%s: withheld categories add up to %llu", names[g],
			  (unsigned long long)(total - released));
	}
	json_decref(rep);
}

/* [policy] small_cells = coarsen: a subgroup's withheld categories are released together as
 * "(merged)" (counts, Brier and expected-event sums, threshold rows; no AUROC), so the site's
 * categories add up to its whole cohort while no small cell is released. */
Test(site_control, subgroups_coarsened, .fini = teardown, .timeout = 120)
{
	char run[128], *out = NULL, path[512];

	start("[policy]\nmin_cell_count = 40\nsmall_cells = coarsen\n", 1500);
	{
		json_t *b = json_load_file(FV_SOURCE_DIR "/deploy/demo/benchmark.json", 0, NULL);
		cr_assert(b);
		json_object_set_new(b, "name", json_string("coarse"));
		json_object_set_new(b, "thresholds", json_loads("[0.2]", JSON_DECODE_ANY, NULL));
		json_object_set_new(
		    b, "subgroups",
		    json_loads("[{\"name\":\"age_band\",\"variable\":\"age\",\"edges\":[45,85]},"
			       "{\"name\":\"nyha\",\"variable\":\"nyha_class\"}]",
			       0, NULL));
		snprintf(path, sizeof(path), "%s/coarse.json", F.dir);
		cr_assert_eq(json_dump_file(b, path, 0), 0);
		json_decref(b);
	}
	cr_assert_eq(h_cli(&F, &out, "authority", "benchmark create coarse.json 2>&1"), 0, "%s",
		     out);
	free(out);
	run_start("coarse", run, sizeof(run));
	free(run_wait(run));
	snprintf(path, sizeof(path), "%s/coarse.report.json", F.dir);
	cr_assert_eq(h_cli(&F, &out, "authority", "results %s --json %s 2>&1", run, path), 0, "%s",
		     out);
	free(out);
	json_t *rep = json_load_file(path, 0, NULL), *cat;
	json_t *site = json_array_get(json_object_get(rep, "sites"), 0);
	uint64_t total = (uint64_t)json_integer_value(json_object_get(site, "n"));
	const char *names[2] = {"age_band", "nyha"};
	int merged_seen = 0;
	size_t k;
	for (int g = 0; g < 2; g++) {
		uint64_t released = 0;
		int withheld = 0, merged = 0;
		json_array_foreach(json_object_get(site, "subgroups"), k, cat)
		{
			if (strcmp(json_string_value(json_object_get(cat, "subgroup")), names[g]))
				continue;
			if (json_is_true(json_object_get(cat, "suppressed"))) {
				withheld++;
				continue;
			}
			uint64_t n = (uint64_t)json_integer_value(json_object_get(cat, "n"));
			cr_assert(n >= 40, "%s", json_dumps(cat, 0));
			released += n;
			if (!strcmp(json_string_value(json_object_get(cat, "category")),
				    "(merged)"))
				merged++;
		}
		cr_assert_eq(merged, withheld >= 2 ? 1 : 0, "%s: %d withheld, %d merged", names[g],
			     withheld, merged);
		if (withheld)
			cr_assert_eq(released, total, "%s: categories with the merged one add up",
				     names[g]);
		merged_seen += merged;
	}
	cr_assert_geq(merged_seen, 1, "no subgroup was coarsened: %s",
		      json_dumps(json_object_get(site, "subgroups"), 0));
	json_decref(rep);
}

/* Benchmark lifecycle and dataset approval: a draft takes no runs; sites register their
 * datasets with a summary; with "dataset_approval": "required" only approved sites get jobs,
 * each naming the approved dataset; a closed benchmark takes no more runs. */
Test(site_control, lifecycle_and_dataset_approval, .fini = teardown, .timeout = 180)
{
	char run[128], *out = NULL, path[512], log[512];

	start("[data]\n", 1000);
	/* a second site */
	cr_assert_eq(h_run(NULL,
			   "cd %s && " H_BIN("fedval") " demo data --profile 2 --rows 800 "
						       "--seed 4 --out b.csv",
			   F.dir),
		     0);
	int b = h_node_add(&F, "hospital-b", "b.csv", NULL);
	h_node_start(&F, b);
	snprintf(log, sizeof(log), "%s/hospital-b.log", F.dir);
	cr_assert(h_wait_log(log, "event=dataset_registered", 1, 30000), "%s", h_slurp(log));
	snprintf(log, sizeof(log), "%s/hospital-a.log", F.dir);
	cr_assert(h_wait_log(log, "event=dataset_registered", 1, 30000), "%s", h_slurp(log));

	json_t *bj = json_load_file(FV_SOURCE_DIR "/deploy/demo/benchmark.json", 0, NULL);
	json_object_set_new(bj, "name", json_string("gated"));
	json_object_set_new(bj, "dataset_approval", json_string("required"));
	snprintf(path, sizeof(path), "%s/gated.json", F.dir);
	cr_assert_eq(json_dump_file(bj, path, 0), 0);
	json_decref(bj);
	cr_assert_eq(h_cli(&F, &out, "authority", "benchmark create --draft gated.json 2>&1"), 0,
		     "%s", out);
	free(out);
	cr_assert_eq(
	    h_cli(&F, &out, "authority", "run start --benchmark gated --model %s 2>&1", VID), 1,
	    "a draft benchmark took a run: %s", out);
	cr_assert(strstr(out, "draft"), "%s", out);
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority", "benchmark open gated@1"), 0, "%s", out);
	free(out);
	cr_assert_eq(
	    h_cli(&F, &out, "authority", "run start --benchmark gated --model %s 2>&1", VID), 1,
	    "a run without approved datasets: %s", out);
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority", "dataset list --benchmark gated --json"), 0, "%s",
		     out);
	json_t *list = json_loads(out, 0, NULL);
	free(out);
	cr_assert_eq(json_array_size(list), 2);
	json_t *first = json_array_get(list, 0);
	cr_assert_str_eq(json_string_value(json_object_get(first, "dataset")), "default");
	cr_assert(json_integer_value(json_object_get(first, "records")) == 1000);
	cr_assert(json_is_object(json_object_get(first, "summary")));
	json_decref(list);
	cr_assert_eq(h_cli(&F, &out, "authority",
			   "dataset approve --benchmark gated --node hospital-b --dataset default"),
		     0, "%s", out);
	free(out);
	run_start("gated", run, sizeof(run));
	out = run_wait(run);
	cr_assert(strstr(out, "hospital-b") && !strstr(out, "hospital-a"), "%s", out);
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority", "benchmark close gated@1"), 0, "%s", out);
	free(out);
	cr_assert_eq(
	    h_cli(&F, &out, "authority", "run start --benchmark gated --model %s 2>&1", VID), 1,
	    "a closed benchmark took a run: %s", out);
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority", "benchmark open gated@1 2>&1"), 1, "reopened: %s",
		     out);
	free(out);
}

/* A long evaluation shows its progress in `fedval site status` and stops on `site cancel`; the
 * job is reported as cancelled by the site, with no statistics. */
Test(site_control, status_and_cancel, .fini = teardown, .timeout = 120)
{
	char run[128], *out = NULL, job[200], log[512];

	/* One-record batches on one thread make the evaluation slow enough to watch. */
	start("[node]\n", 1000);
	cr_assert_eq(
	    h_run(NULL,
		  "cd %s && " H_BIN(
		      "fedval") " demo data --profile 1 --rows 400000 "
				"--seed 9 --out a.csv && sed -i 's/^poll_wait_ms = 2000$/"
				"poll_wait_ms = 2000\\neval_threads = 1\\neval_batch_rows = 1/' "
				"hospital-a.node.ini",
		  F.dir),
	    0);
	h_stop(F.nodes[0], 10000);
	h_node_start(&F, 0);
	benchmark("slow", "[0.2]", false);
	run_start("slow", run, sizeof(run));
	snprintf(job, sizeof(job), "%s.hospital-a", run);
	snprintf(log, sizeof(log), "%s/hospital-a.log", F.dir);
	cr_assert(h_wait_log(log, "event=eval_progress", 1, 30000), "no progress: %s",
		  h_slurp(log));
	/* A CSV source knows how much is read: percentage and time left, once the node has
	 * relayed the worker's first progress report. */
	for (int i = 0; i < 50; i++) {
		cr_assert_eq(SITE(&out, "status"), 0, "%s", out);
		if (strstr(out, "s left") || i == 49)
			break;
		free(out);
		h_sleep_ms(100);
	}
	cr_assert(strstr(out, "evaluating") && strstr(out, job), "%s", out);
	cr_assert(strstr(out, "% read") && strstr(out, "s left"), "%s", out);
	free(out);
	cr_assert_eq(SITE(&out, "cancel %s", job), 0, "%s", out);
	free(out);
	out = run_wait(run);
	cr_assert(strstr(out, "failed") && strstr(out, "cancelled by the site"), "%s", out);
	free(out);
	cr_assert_eq(SITE(&out, "status --json"), 0);
	cr_assert(strstr(out, "\"cancelled\""), "%s", out);
	free(out);
}

/* Site-supplied predictions: a site whose vendor appliance only exports scores joins them to
 * its labelled records by key. With every record scored, the statistics equal those the node
 * computes by running the same model on the same data; unmatched and duplicated keys are
 * counted. */
Test(site_control, site_supplied_predictions, .fini = teardown, .timeout = 120)
{
	char run[128], *out = NULL, path[512];

	/* min_cell_count 1: the second run differs from the first by a few records, which the
	 * differencing protection would otherwise (rightly) refuse. */
	start("[predictions]\nmodel = hf-readmit-lr\npath = preds.csv\nkey = patient_id\n"
	      "score = probability\ndata_key = patient_id\n[policy]\nmin_cell_count = 1\n",
	      1200);
	/* hospital-b: the same records, the model run by the node */
	int b = h_node_add(&F, "hospital-b", "a.csv", NULL);
	h_node_start(&F, b);
	cr_assert_eq(
	    h_run(&out,
		  "cd %s && " H_BIN(
		      "fedval") " model run model/model.onnx --csv a.csv --features "
				"$(/usr/bin/python3 -c \"import json; "
				"print(','.join(json.load(open('model/"
				"manifest.json'))['input']['variables']))\") --out scores.csv 2>&1 "
				"&& "
				"/usr/bin/python3 -c \"import csv; ids=[r['patient_id'] for r in "
				"csv.DictReader("
				"open('a.csv'))]; s=[r['probability'] for r in "
				"csv.DictReader(open('scores.csv'))];"
				" w=open('preds.csv','w'); w.write('patient_id,probability\\n'); "
				"[w.write(i+','+p+'\\n') for i,p in zip(ids,s)]\"",
		  F.dir),
	    0, "%s", out);
	free(out);
	benchmark("byo", "[0.2]", false);
	run_start("byo", run, sizeof(run));
	free(run_wait(run));
	snprintf(path, sizeof(path), "%s/byo.json", F.dir);
	cr_assert_eq(h_cli(&F, &out, "authority", "results %s --json %s 2>&1", run, path), 0, "%s",
		     out);
	cr_assert(strstr(out, "site-supplied predictions"), "%s", out);
	free(out);
	json_t *rep = json_load_file(path, 0, NULL);
	json_t *sa = json_array_get(json_object_get(rep, "sites"), 0);
	json_t *sb = json_array_get(json_object_get(rep, "sites"), 1);
	cr_assert_str_eq(json_string_value(json_object_get(sa, "node")), "hospital-a");
	cr_assert(json_is_true(json_object_get(sa, "site_supplied_predictions")));
	cr_assert(!json_object_get(sb, "site_supplied_predictions"));
	cr_assert_eq(json_integer_value(json_object_get(sa, "n")),
		     json_integer_value(json_object_get(sb, "n")));
	cr_assert_float_eq(
	    json_real_value(json_object_get(json_object_get(sa, "auroc"), "estimate")),
	    json_real_value(json_object_get(json_object_get(sb, "auroc"), "estimate")), 1e-12);
	json_decref(rep);

	/* 10 records without a prediction, 6 keys listed twice: 16 records unmatched; 7
	 * predictions for keys the data does not have. */
	cr_assert_eq(h_run(&out,
			   "cd %s && /usr/bin/python3 -c \"l=open('preds.csv').read().splitlines();"
			   " h,r=l[0],l[1:]; x=[','.join(['X%%d' %% i]+r[0].split(',')[1:]) for i "
			   "in range(7)]; r=r[10:]+r[10:16]+x; open('preds.csv','w').write("
			   "'\\n'.join([h]+r)+'\\n')\"",
			   F.dir),
		     0, "%s", out);
	free(out);
	run_start("byo", run, sizeof(run));
	free(run_wait(run));
	cr_assert_eq(h_cli(&F, &out, "authority", "results %s --json %s 2>&1", run, path), 0, "%s",
		     out);
	free(out);
	rep = json_load_file(path, 0, NULL);
	sa = json_array_get(json_object_get(rep, "sites"), 0);
	cr_assert_eq(json_integer_value(json_object_get(sa, "unmatched_records")), 16);
	cr_assert_eq(json_integer_value(json_object_get(sa, "duplicate_keys")), 6);
	cr_assert_eq(json_integer_value(json_object_get(sa, "unused_predictions")), 7);
	cr_assert_eq(json_integer_value(json_object_get(sa, "n")), 1200 - 16);
	json_decref(rep);
}

/* Site-supplied predictions from a SQLite read-only query ([predictions] source = sqlite):
 * the same result as the model run by the node on the same records, and --check-config shows
 * the predictions source and names a column that is not there. */
Test(site_control, site_supplied_predictions_from_sqlite, .fini = teardown, .timeout = 120)
{
	char run[128], *out = NULL, path[512];

	start("[predictions]\nmodel = hf-readmit-lr\nsource = sqlite\npath = preds.db\n"
	      "query = SELECT patient_id AS pid, probability FROM preds\nkey = pid\n"
	      "score = probability\ndata_key = patient_id\n[policy]\nmin_cell_count = 1\n",
	      800);
	int b = h_node_add(&F, "hospital-b", "a.csv", NULL);
	h_node_start(&F, b);
	cr_assert_eq(
	    h_run(
		&out,
		"cd %s && " H_BIN(
		    "fedval") " model run model/model.onnx --csv a.csv --features "
			      "$(/usr/bin/python3 -c \"import json; "
			      "print(','.join(json.load(open('model/"
			      "manifest.json'))['input']['variables']))\") --out scores.csv 2>&1 "
			      "&& /usr/bin/python3 -c \"import csv,sqlite3; ids=[r['patient_id'] "
			      "for r in csv.DictReader(open('a.csv'))]; s=[float(r['probability']) "
			      "for r in csv.DictReader(open('scores.csv'))]; db=sqlite3.connect("
			      "'preds.db'); db.execute('CREATE TABLE preds (patient_id TEXT, "
			      "probability REAL)'); db.executemany('INSERT INTO preds VALUES "
			      "(?,?)',"
			      " zip(ids,s)); db.commit()\"",
		F.dir),
	    0, "%s", out);
	free(out);
	benchmark("byosq", "[0.2]", false);
	run_start("byosq", run, sizeof(run));
	free(run_wait(run));
	snprintf(path, sizeof(path), "%s/byosq.json", F.dir);
	cr_assert_eq(h_cli(&F, &out, "authority", "results %s --json %s 2>&1", run, path), 0, "%s",
		     out);
	free(out);
	json_t *rep = json_load_file(path, 0, NULL);
	json_t *sa = json_array_get(json_object_get(rep, "sites"), 0);
	json_t *sb = json_array_get(json_object_get(rep, "sites"), 1);
	cr_assert_str_eq(json_string_value(json_object_get(sa, "node")), "hospital-a");
	cr_assert(json_is_true(json_object_get(sa, "site_supplied_predictions")));
	cr_assert_eq(json_integer_value(json_object_get(sa, "n")), 800);
	cr_assert_eq(json_integer_value(json_object_get(sa, "unmatched_records")), 0);
	cr_assert_float_eq(
	    json_real_value(json_object_get(json_object_get(sa, "auroc"), "estimate")),
	    json_real_value(json_object_get(json_object_get(sb, "auroc"), "estimate")), 1e-6);
	json_decref(rep);

	cr_assert_eq(h_run(&out,
			   "cd %s && " H_BIN("fedval-node") " --config hospital-a.node.ini "
							    "--check-config 2>&1",
			   F.dir),
		     0, "%s", out);
	cr_assert(strstr(out, "predictions       sqlite"), "%s", out);
	free(out);
	cr_assert_eq(h_run(NULL,
			   "cd %s && sed -i 's/^score = probability/score = risk/' "
			   "hospital-a.node.ini",
			   F.dir),
		     0);
	cr_assert_eq(h_run(&out,
			   "cd %s && " H_BIN("fedval-node") " --config hospital-a.node.ini "
							    "--check-config 2>&1",
			   F.dir),
		     1, "%s", out);
	cr_assert(strstr(out, "[predictions] score: no column 'risk'"), "%s", out);
	free(out);
	cr_assert_eq(h_run(NULL,
			   "cd %s && sed -i 's/^source = sqlite/source = images/' "
			   "hospital-a.node.ini",
			   F.dir),
		     0);
	cr_assert_neq(h_run(&out,
			    "cd %s && " H_BIN("fedval-node") " --config hospital-a.node.ini "
							     "--check-config 2>&1",
			    F.dir),
		      0, "%s", out);
	cr_assert(strstr(out, "[predictions] source = 'images'"), "%s", out);
	free(out);
}

/* Site-supplied predictions of several appliance versions in one export: with
 * [predictions] version_column the node uses only the rows of the job's model version (the
 * manifest's "version"), so a key scored by two versions is not a duplicate and the other
 * version's scores do not leak into the result; with no row of that version the job fails
 * and the node log says why. */
Test(site_control, site_supplied_predictions_by_model_version, .fini = teardown, .timeout = 120)
{
	char run[128], *out = NULL, path[512];

	start("[predictions]\nmodel = hf-readmit-lr\npath = preds.csv\nkey = patient_id\n"
	      "score = probability\ndata_key = patient_id\nversion_column = model_version\n"
	      "[policy]\nmin_cell_count = 1\n",
	      1000);
	int b = h_node_add(&F, "hospital-b", "a.csv", NULL);
	h_node_start(&F, b);
	/* each patient scored by the model (version 1.0.0) and by an older version 0.9 whose
	 * scores are noise */
	cr_assert_eq(
	    h_run(
		&out,
		"cd %s && " H_BIN(
		    "fedval") " model run model/model.onnx --csv a.csv --features "
			      "$(/usr/bin/python3 -c \"import json; "
			      "print(','.join(json.load(open('model/"
			      "manifest.json'))['input']['variables']))\") --out scores.csv 2>&1 "
			      "&& /usr/bin/python3 -c \"import csv,random; random.seed(1); ids=[r["
			      "'patient_id'] for r in csv.DictReader(open('a.csv'))]; s=[r["
			      "'probability'] for r in csv.DictReader(open('scores.csv'))]; w=open("
			      "'preds.csv','w'); "
			      "w.write('model_version,patient_id,probability\\n'); "
			      "[w.write('0.9,'+i+','+str(random.random())+'\\n')+w.write('1.0.0,'+"
			      "i+"
			      "','+p+'\\n') for i,p in zip(ids,s)]\"",
		F.dir),
	    0, "%s", out);
	free(out);
	benchmark("byov", "[0.2]", false);
	run_start("byov", run, sizeof(run));
	free(run_wait(run));
	snprintf(path, sizeof(path), "%s/byov.json", F.dir);
	cr_assert_eq(h_cli(&F, &out, "authority", "results %s --json %s 2>&1", run, path), 0, "%s",
		     out);
	free(out);
	json_t *rep = json_load_file(path, 0, NULL);
	json_t *sa = json_array_get(json_object_get(rep, "sites"), 0);
	json_t *sb = json_array_get(json_object_get(rep, "sites"), 1);
	cr_assert(json_is_true(json_object_get(sa, "site_supplied_predictions")));
	cr_assert_eq(json_integer_value(json_object_get(sa, "duplicate_keys")), 0,
		     "a key scored by two versions is no duplicate");
	cr_assert_float_eq(
	    json_real_value(json_object_get(json_object_get(sa, "auroc"), "estimate")),
	    json_real_value(json_object_get(json_object_get(sb, "auroc"), "estimate")), 1e-12);
	json_decref(rep);
	char log[512];
	snprintf(log, sizeof(log), "%s/hospital-a.log", F.dir);
	cr_assert_geq(h_count(log, "event=predictions_version version=1.0.0 used=1000 "
				   "other_versions=1000"),
		      1);

	/* Only the old version in the export: the job fails, the log names the version. */
	cr_assert_eq(h_run(NULL, "cd %s && sed -i '/^1.0.0,/d' preds.csv", F.dir), 0);
	run_start("byov", run, sizeof(run));
	out = run_wait(run);
	cr_assert(strstr(out, "failed"), "%s", out);
	free(out);
	cr_assert_geq(h_count(log, "no prediction of model version"), 1);
}

/* Differential privacy ([policy] dp_*): released counts carry discrete Laplace noise (they
 * differ from the exact counts `fedval eval` computes on the same file, yet still add up),
 * AUROC and subgroups are not released, recalibration rounds are refused, and the epsilon
 * budget refuses the job that would overspend it. */
Test(site_control, differential_privacy_noise_and_budget, .fini = teardown, .timeout = 240)
{
	char run[128], *out = NULL, path[512];
	json_error_t jerr;

	start("[policy]\ndp_mechanism = laplace\ndp_epsilon = 1\ndp_budget_epsilon = 2.5\n", 1000);
	benchmark("b1", "[0.2, 0.5]", false);
	cr_assert_eq(h_run(&out,
			   "cd %s && " H_BIN("fedval") " eval --model model/model.onnx "
						       "--benchmark b1.json --manifest "
						       "model/manifest.json --data a.csv --json "
						       "> exact.json 2>&1",
			   F.dir),
		     0, "%s", out);
	free(out);
	snprintf(path, sizeof(path), "%s/exact.json", F.dir);
	json_t *exact = json_load_file(path, 0, &jerr);
	cr_assert(exact, "%s", jerr.text);

	cr_assert_eq(
	    h_cli(&F, &out, "authority", "run start --benchmark b1 --model %s --recalibrate", VID),
	    0, "%s", out);
	h_last_line(out, run, sizeof(run));
	free(out);
	out = run_wait(run);
	cr_assert(strstr(out, "failed"), "%s", out);
	free(out);

	size_t differ = 0;
	for (int i = 0; i < 3; i++) {
		run_start("b1", run, sizeof(run));
		out = run_wait(run);
		if (i == 2) {
			cr_assert(strstr(out, "vetoed") &&
				      strstr(out, "differential-privacy budget"),
				  "%s", out);
			free(out);
			break;
		}
		cr_assert(strstr(out, " done"), "run %d: %s", i, out);
		free(out);
		snprintf(path, sizeof(path), "%s/dp%d.json", F.dir, i);
		cr_assert_eq(h_cli(&F, &out, "authority", "results %s --json %s 2>&1", run, path),
			     0, "%s", out);
		free(out);
		json_t *rep = json_load_file(path, 0, &jerr);
		cr_assert(rep, "%s", jerr.text);
		json_t *site = json_array_get(json_object_get(rep, "sites"), 0);
		json_t *dp = json_object_get(site, "differential_privacy");
		cr_assert_str_eq(json_string_value(json_object_get(dp, "mechanism")), "laplace");
		cr_assert(json_object_get(site, "auroc") == NULL, "AUROC released under DP");
		cr_assert(strstr(json_string_value(json_object_get(site, "auroc_not_estimable")),
				 "differential-privacy"));
		json_int_t n = json_integer_value(json_object_get(site, "n")),
			   pos = json_integer_value(json_object_get(site, "n_pos"));
		differ += n != json_integer_value(json_object_get(exact, "n"));
		differ += pos != json_integer_value(json_object_get(exact, "n_pos"));
		size_t t;
		json_t *row;
		json_array_foreach(json_object_get(site, "thresholds"), t, row)
		{
			if (json_is_true(json_object_get(row, "suppressed")))
				continue;
			json_int_t tp = json_integer_value(json_object_get(row, "tp")),
				   fp = json_integer_value(json_object_get(row, "fp")),
				   tn = json_integer_value(json_object_get(row, "tn")),
				   fn = json_integer_value(json_object_get(row, "fn"));
			cr_assert_eq(tp + fn, pos);
			cr_assert_eq(fp + tn, n - pos);
			json_t *ex = json_array_get(json_object_get(exact, "thresholds"), t);
			differ += tp != json_integer_value(json_object_get(ex, "tp"));
			differ += fp != json_integer_value(json_object_get(ex, "fp"));
		}
		char *sub = json_dumps(json_object_get(rep, "subgroups"), 0);
		cr_assert(!sub || !strstr(sub, "\"tp\""), "subgroup counts released under DP: %s",
			  sub);
		free(sub);
		json_decref(rep);
	}
	cr_assert_gt(differ, 0, "no count carried noise");
	json_decref(exact);
	/* The noised result is still the signed one, and the report says it carries noise. */
	cr_assert_eq(
	    h_run(&out,
		  "cd %s && " H_BIN("fedval") " verify dp0.json --ca pki/ca/ca.crt && " H_BIN(
		      "fedval") " report html dp0.json --out dp0.html && grep -c "
				"'differential privacy (laplace' dp0.html 2>&1",
		  F.dir),
	    0, "%s", out);
	free(out);
	snprintf(path, sizeof(path), "%s/hospital-a.log", F.dir);
	cr_assert_eq(h_count(path, "event=dp_noise_added"), 2);
}

/* [policy] coordinator_key pins the coordinator's key: a node pinning another key refuses to
 * enrol even though the federation CA certified the coordinator (and says why); a node pinning
 * the key `fedval-coordinator --check-config` prints enrols. */
Test(site_control, coordinator_key_pin, .fini = teardown, .timeout = 120)
{
	char *out = NULL, key[80] = "", log[512];

	h_fed_init(&F);
	cr_assert_eq(
	    h_run(&out,
		  "cd %s && " H_BIN("fedval") " demo data --profile 1 --rows 200 --out "
					      "a.csv >/dev/null && " H_BIN(
						  "fedval-coordinator") " --config "
									"coordinator.ini "
									"--check-config | "
									"awk '/^key_sha256/ "
									"{print $2}'",
		  F.dir),
	    0, "%s", out);
	sscanf(out, "%79s", key);
	free(out);
	cr_assert_eq(strlen(key), 64, "no key fingerprint: '%s'", key);
	h_coord_start(&F);
	char ini[256];
	snprintf(ini, sizeof(ini), "[policy]\ncoordinator_key = %064d\n", 0);
	h_node_add(&F, "hospital-a", "a.csv", ini);
	snprintf(ini, sizeof(ini), "[policy]\ncoordinator_key = %s\n", key);
	h_node_add(&F, "hospital-b", "a.csv", ini);
	snprintf(log, sizeof(log), "%s/hospital-a.log", F.dir);
	char *argv[] = {H_BIN("fedval-node"), "--config", "hospital-a.node.ini", NULL};
	F.nodes[0] = h_spawn(F.dir, log, argv);
	cr_assert(h_wait_log(log, "not the one this site pinned", 1, 20000), "%s", h_slurp(log));
	cr_assert_eq(h_count(log, "event=enrolled"), 0);
	h_node_start(&F, 1);
	snprintf(log, sizeof(log), "%s/hospital-b.log", F.dir);
	cr_assert_eq(h_count(log, "pinned=yes"), 1, "%s", h_slurp(log));
}

/* [policy] rounding_base and min_subgroup_size: every released count is a multiple of the
 * base (and the rows still add up), subgroup categories smaller than the minimum are withheld;
 * a base below the minimum cell count is refused at start with the key named. */
Test(site_control, rounding_and_min_subgroup_size, .fini = teardown, .timeout = 180)
{
	char run[128], *out = NULL, path[512];
	json_error_t jerr;

	start("[policy]\nrounding_base = 10\nmin_subgroup_size = 400\n", 1000);
	benchmark("b1", "[0.2, 0.5]", false);
	run_start("b1", run, sizeof(run));
	free(run_wait(run));
	snprintf(path, sizeof(path), "%s/r.json", F.dir);
	cr_assert_eq(h_cli(&F, &out, "authority", "results %s --json %s 2>&1", run, path), 0, "%s",
		     out);
	free(out);
	json_t *rep = json_load_file(path, 0, &jerr);
	cr_assert(rep, "%s", jerr.text);
	json_t *site = json_array_get(json_object_get(rep, "sites"), 0);
	json_int_t n = json_integer_value(json_object_get(site, "n")),
		   pos = json_integer_value(json_object_get(site, "n_pos"));
	cr_assert(n % 10 == 0 && pos % 10 == 0 && n > 0, "n %lld n_pos %lld", (long long)n,
		  (long long)pos);
	size_t i, k, released = 0, withheld = 0;
	json_t *row, *sub, *cat;
	json_array_foreach(json_object_get(site, "thresholds"), i, row)
	{
		const char *c[] = {"tp", "fp", "tn", "fn"};
		for (int j = 0; j < 4; j++)
			cr_assert_eq(json_integer_value(json_object_get(row, c[j])) % 10, 0);
		cr_assert_eq(json_integer_value(json_object_get(row, "tp")) +
				 json_integer_value(json_object_get(row, "fn")),
			     pos);
	}
	json_array_foreach(json_object_get(rep, "subgroups"), i, sub)
	{
		json_array_foreach(json_object_get(sub, "categories"), k, cat)
		{
			if (json_integer_value(json_object_get(cat, "withheld_at_sites")) > 0) {
				withheld++;
				continue;
			}
			json_int_t cn = json_integer_value(json_object_get(cat, "n"));
			cr_assert(cn >= 400 && cn % 10 == 0, "category n %lld", (long long)cn);
			released++;
		}
	}
	cr_assert_gt(released, 0);
	cr_assert_gt(withheld, 0, "no category below 400 records was withheld");
	json_decref(rep);
	h_fed_cleanup(&F);

	h_fed_init(&F);
	h_node_add(&F, "hospital-a", "a.csv", "[policy]\nrounding_base = 3\n");
	cr_assert_neq(h_run(&out,
			    "cd %s && " H_BIN("fedval-node") " --config hospital-a.node.ini "
							     "--check-config 2>&1",
			    F.dir),
		      0);
	cr_assert(strstr(out, "rounding_base"), "%s", out);
	free(out);
}

/* A benchmark may not set a site's policy. The authority's CLI is refused by the coordinator
 * (the field named); a coordinator operator who writes such a field into the store anyway
 * gets a signed veto from the node, which neither obeys nor ignores it. */
Test(site_control, policy_fields_in_a_benchmark_refused, .fini = teardown, .timeout = 120)
{
	char run[128], *out = NULL, path[512];

	start(NULL, 1000);
	json_t *b = json_load_file(FV_SOURCE_DIR "/deploy/demo/benchmark.json", 0, NULL);
	cr_assert(b);
	json_object_set_new(b, "name", json_string("lax"));
	json_object_set_new(b, "min_cell_count", json_integer(1));
	snprintf(path, sizeof(path), "%s/lax.json", F.dir);
	cr_assert_eq(json_dump_file(b, path, 0), 0);
	json_decref(b);
	cr_assert_neq(h_cli(&F, &out, "authority", "benchmark create lax.json 2>&1"), 0, "%s", out);
	cr_assert(strstr(out, "min_cell_count"), "%s", out);
	free(out);

	benchmark("b1", "[0.2]", false);
	cr_assert_eq(h_run(&out,
			   "cd %s && sqlite3 coordinator.db \"UPDATE benchmarks SET spec_json = "
			   "json_set(spec_json, '$.min_cell_count', 1) WHERE name = 'b1'\" 2>&1",
			   F.dir),
		     0, "%s", out);
	free(out);
	run_start("b1", run, sizeof(run));
	out = run_wait(run);
	cr_assert(strstr(out, "vetoed") && strstr(out, "policy setting"), "%s", out);
	free(out);
}

/* Differencing through a subgroup: the cohort grows by 13 records (allowed: at least the
 * minimum cell), but the male category by only 3. The male category is withheld (it would
 * isolate those 3 records against the earlier release) and, by secondary suppression, the
 * female one too; the node log says why. */
Test(site_control, subgroup_differencing_against_earlier_release, .fini = teardown, .timeout = 180)
{
	char run[128], *out = NULL, path[512];

	start(NULL, 1000);
	benchmark("b1", "[0.2]", false);
	run_start("b1", run, sizeof(run));
	free(run_wait(run));
	cr_assert_eq(h_run(&out,
			   "cd %s && awk -F, 'NR > 1 && $3 == \"1\"' a.csv | head -3 > extra && "
			   "awk -F, 'NR > 1 && $3 == \"0\"' a.csv | head -10 >> extra && cat "
			   "extra >> a.csv 2>&1",
			   F.dir),
		     0, "%s", out);
	free(out);
	run_start("b1", run, sizeof(run));
	out = run_wait(run);
	cr_assert(strstr(out, " done"), "%s", out);
	free(out);
	snprintf(path, sizeof(path), "%s/r2.json", F.dir);
	cr_assert_eq(h_cli(&F, &out, "authority", "results %s --json %s 2>&1", run, path), 0, "%s",
		     out);
	free(out);
	json_t *rep = json_load_file(path, 0, NULL), *sub, *cat;
	size_t i, k;
	bool sex_seen = false;
	cr_assert(rep);
	json_array_foreach(json_object_get(rep, "subgroups"), i, sub)
	{
		if (strcmp(json_string_value(json_object_get(sub, "subgroup")), "sex"))
			continue;
		sex_seen = true;
		json_array_foreach(json_object_get(sub, "categories"), k, cat)
		    cr_assert_gt(json_integer_value(json_object_get(cat, "withheld_at_sites")), 0,
				 "sex = %s released after a 3-record change",
				 json_string_value(json_object_get(cat, "category")));
	}
	cr_assert(sex_seen);
	json_decref(rep);
	snprintf(path, sizeof(path), "%s/hospital-a.log", F.dir);
	cr_assert_gt(h_count(path, "subgroup=sex category=1 reason=differencing"), 0);
}

/* The authority reviews a vendor's submission: with "model_acceptance": "required" a run
 * takes accepted versions only; a vendor cannot accept its own model; a rejection needs and
 * shows a reason; a later acceptance lets the run start. */
Test(site_control, model_acceptance_required, .fini = teardown, .timeout = 120)
{
	char run[128], *out = NULL, path[512];

	start(NULL, 1000);
	json_t *b = json_load_file(FV_SOURCE_DIR "/deploy/demo/benchmark.json", 0, NULL);
	cr_assert(b);
	json_object_set_new(b, "name", json_string("reviewed"));
	json_object_set_new(b, "model_acceptance", json_string("maybe"));
	snprintf(path, sizeof(path), "%s/reviewed.json", F.dir);
	cr_assert_eq(json_dump_file(b, path, 0), 0);
	cr_assert_neq(h_cli(&F, &out, "authority", "benchmark create reviewed.json 2>&1"), 0);
	cr_assert(strstr(out, "model_acceptance"), "%s", out);
	free(out);
	json_object_set_new(b, "model_acceptance", json_string("required"));
	cr_assert_eq(json_dump_file(b, path, 0), 0);
	json_decref(b);
	cr_assert_eq(h_cli(&F, &out, "authority", "benchmark create reviewed.json 2>&1"), 0, "%s",
		     out);
	free(out);

	cr_assert_neq(
	    h_cli(&F, &out, "authority", "run start --benchmark reviewed --model %s 2>&1", VID), 0);
	cr_assert(strstr(out, "submitted, not accepted"), "%s", out);
	free(out);
	cr_assert_neq(h_cli(&F, &out, "vendor", "model accept %s 2>&1", VID), 0);
	cr_assert(strstr(out, "may not send"), "%s", out);
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority", "model reject %s 2>&1", VID), 2, "%s", out);
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority",
			   "model reject %s --reason 'no CE marking stated' 2>&1", VID),
		     0, "%s", out);
	cr_assert(strstr(out, "rejected"), "%s", out);
	free(out);
	cr_assert_neq(
	    h_cli(&F, &out, "authority", "run start --benchmark reviewed --model %s 2>&1", VID), 0);
	cr_assert(strstr(out, "rejected") && strstr(out, "no CE marking stated"), "%s", out);
	free(out);
	cr_assert_eq(
	    h_cli(&F, &out, "authority", "model accept %s --reason 'CE 0123 shown' 2>&1", VID), 0,
	    "%s", out);
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority", "run start --benchmark reviewed --model %s", VID),
		     0, "%s", out);
	h_last_line(out, run, sizeof(run));
	free(out);
	out = run_wait(run);
	cr_assert(strstr(out, " done"), "%s", out);
	free(out);
}
