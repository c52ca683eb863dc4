/* Monitoring schedules end to end (coordinator/schedule.c, cli/schedule.c): a schedule with
 * cadence PT3S starts runs by itself at three real nodes; after the baseline run one site's
 * data is replaced by a cohort with another risk relationship (`fedval demo data --profile 3`)
 * while the coordinator is down; after the restart the schedule continues, the site's AUROC
 * drops and the schedule's CUSUM alert fires. `monitor schedule list --check` then exits 1.
 *
 * Why one drifted period suffices with k = 0.5, h = 4: with 6000 records the demo model's
 * AUROC is about 0.77 (SE about 0.009) on profile 2 and 0.69 (SE about 0.008) on profile 3
 * (`fedval eval`), a change of about -0.39 on the logit scale with SE about 0.06: z about -6,
 * so C- = 5.5 > 4 at the first drifted period. The unchanged sites evaluate the same records
 * each period, so their z is exactly 0. */
#include <jansson.h>

#include "harness.h"

static struct fed F;

static void teardown(void)
{
	h_fed_cleanup(&F);
}

static json_t *list_json(void)
{
	char *out = NULL;
	json_error_t jerr;
	int rc = h_cli(&F, &out, "authority", "monitor schedule list --json");
	cr_assert_eq(rc, 0, "schedule list: %s", out);
	json_t *j = json_loads(out, 0, &jerr);
	cr_assert(j, "list JSON: %s: %s", jerr.text, out);
	free(out);
	return j;
}

static size_t complete_runs(const json_t *sch)
{
	size_t i, n = 0;
	json_t *r;
	json_array_foreach(json_object_get(sch, "runs"), i, r) n +=
	    !strcmp(json_string_value(json_object_get(r, "state")), "complete");
	return n;
}

Test(schedule, runs_by_itself_detects_drift_survives_restart, .fini = teardown, .timeout = 300)
{
	char *out = NULL, vid[128], sid[64], log[512];
	int64_t t0;

	h_fed_init(&F);
	cr_assert_eq(h_run(&out,
			   "cd %s && " H_BIN("fedval") " demo data --profile 0 --rows 4000 --out "
						       "dev.csv && " H_BIN(
							   "fedval") " demo train --data dev.csv "
								     "--out-dir model 2>&1",
			   F.dir),
		     0, "%s", out);
	free(out);
	for (int p = 1; p <= 3; p++) {
		char name[32], csv[64];
		snprintf(name, sizeof(name), "hospital-%c", 'a' + p - 1);
		snprintf(csv, sizeof(csv), "%s.csv", name);
		cr_assert_eq(h_run(NULL,
				   "cd %s && " H_BIN("fedval") " demo data --profile %d --rows "
							       "6000 --seed %d --out %s",
				   F.dir, p, 10 + p, csv),
			     0);
		h_node_add(&F, name, csv, NULL);
	}
	/* the drifted cohort hospital-b will have from the second period on */
	cr_assert_eq(h_run(NULL,
			   "cd %s && " H_BIN("fedval") " demo data --profile 3 --rows 6000 --seed "
						       "99 --out drifted.csv",
			   F.dir),
		     0);
	h_coord_start(&F);
	for (int i = 0; i < F.nnodes; i++)
		h_node_start(&F, i);
	cr_assert_eq(h_cli(&F, &out, "vendor",
			   "model submit --model model/model.onnx --manifest model/manifest.json"),
		     0, "submit: %s", out);
	h_last_line(out, vid, sizeof(vid));
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority",
			   "benchmark create " FV_SOURCE_DIR "/deploy/demo/benchmark.json 2>&1"),
		     0, "benchmark: %s", out);
	free(out);

	/* Usage errors and refusals first. */
	cr_assert_eq(h_cli(&F, NULL, "authority",
			   "monitor schedule add --benchmark hf-readmission-30d --model %s 2>&1",
			   vid),
		     2);
	cr_assert_eq(h_cli(&F, &out, "authority",
			   "monitor schedule add --benchmark hf-readmission-30d --model %s "
			   "--cadence PT0S 2>&1",
			   vid),
		     1, "%s", out);
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority",
			   "monitor schedule add --benchmark hf-readmission-30d --model %s "
			   "--mdr-class IIx 2>&1",
			   vid),
		     1, "%s", out);
	free(out);
	cr_assert_eq(h_cli(&F, &out, "vendor",
			   "monitor schedule add --benchmark hf-readmission-30d --model %s "
			   "--cadence PT3S 2>&1",
			   vid),
		     1, "a vendor added a schedule: %s", out);
	free(out);

	t0 = fv_now_us();
	cr_assert_eq(h_cli(&F, &out, "authority",
			   "monitor schedule add --benchmark hf-readmission-30d --model %s "
			   "--cadence PT3S --mdr-class IIb --max-runs 3 2>&1",
			   vid),
		     0, "schedule add: %s", out);
	h_last_line(out, sid, sizeof(sid));
	free(out);
	cr_assert(!strncmp(sid, "sch-", 4), "%s", sid);
	/* one schedule per (benchmark, model) */
	cr_assert_eq(h_cli(&F, &out, "authority",
			   "monitor schedule add --benchmark hf-readmission-30d --model %s "
			   "--cadence P1M 2>&1",
			   vid),
		     1, "%s", out);
	free(out);

	/* The baseline run starts by itself and completes. */
	json_t *j = NULL, *sch = NULL;
	for (int i = 0; i < 300; i++) {
		json_decref(j);
		j = list_json();
		sch = json_array_get(json_object_get(j, "schedules"), 0);
		if (sch && complete_runs(sch) >= 1)
			break;
		h_sleep_ms(100);
	}
	cr_assert(sch && complete_runs(sch) >= 1, "no baseline run completed");
	cr_assert_str_eq(json_string_value(json_object_get(sch, "id")), sid);
	cr_assert_str_eq(json_string_value(json_object_get(sch, "mdr_class")), "IIb");
	cr_assert_str_eq(json_string_value(json_object_get(sch, "cadence")), "PT3S");
	json_t *r0 = json_array_get(json_object_get(sch, "runs"), 0);
	cr_assert(json_is_string(json_object_get(r0, "window_start")));
	json_decref(j);
	j = NULL;

	/* Restart the coordinator in the middle; hospital-b's data drifts meanwhile. */
	cr_assert_eq(h_stop(F.coord, 10000), 0, "coordinator did not stop cleanly");
	F.coord = 0;
	cr_assert_eq(h_run(NULL, "cd %s && mv drifted.csv hospital-b.csv", F.dir), 0);
	h_coord_start(&F);

	/* Three runs in all, the alert raised, all within a minute of adding the schedule. */
	bool alert = false;
	while ((fv_now_us() - t0) < 60 * 1000000LL) {
		json_decref(j);
		j = list_json();
		sch = json_array_get(json_object_get(j, "schedules"), 0);
		alert = json_is_true(json_object_get(sch, "alert"));
		/* the drift state follows a run's completion within a scheduler tick */
		if (sch && complete_runs(sch) >= 3 && alert &&
		    json_integer_value(json_object_get(sch, "periods")) == 3)
			break;
		h_sleep_ms(250);
	}
	snprintf(log, sizeof(log), "%s/coordinator.log", F.dir);
	cr_assert(sch, "schedule lost over the restart");
	cr_assert_eq(json_array_size(json_object_get(sch, "runs")), 3, "runs: %s",
		     json_dumps(sch, 0));
	cr_assert_eq(complete_runs(sch), 3, "%s\n%s", json_dumps(sch, 0), h_slurp(log));
	cr_assert(alert, "no alert: %s", json_dumps(sch, 0));
	cr_assert_eq(json_integer_value(json_object_get(sch, "periods")), 3);
	bool site_b = false;
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(sch, "alerts"), i, a)
	{
		const char *site = json_string_value(json_object_get(a, "site"));
		cr_assert(strcmp(site, "hospital-a") && strcmp(site, "hospital-c"),
			  "unchanged site alarmed: %s", json_dumps(a, 0));
		if (!strcmp(site, "hospital-b") &&
		    !strcmp(json_string_value(json_object_get(a, "metric")), "auroc")) {
			site_b = true;
			cr_assert_str_eq(json_string_value(json_object_get(a, "direction")),
					 "down");
		}
	}
	cr_assert(site_b, "no AUROC alert for hospital-b: %s", json_dumps(sch, 0));
	json_decref(j);

	/* Input drift of the case mix: hospital-b's new cohort is older (profile 3, age mean 70,
	 * against 65 with SD 12): age bands <65 / [65, 80) / >=80 move from about .50/.39/.11 to
	 * .34/.45/.21, PSI about 0.135 — a moderate shift, significant with 6000 records, below
	 * the alert limit 0.25. The unchanged sites evaluate the same records: PSI 0. */
	{
		json_error_t jerr;
		cr_assert_eq(h_cli(&F, &out, "authority", "monitor schedule list %s --json", sid),
			     0);
		j = json_loads(out, 0, &jerr);
		cr_assert(j, "%s", out);
		free(out);
		json_t *drift =
		    json_object_get(json_array_get(json_object_get(j, "schedules"), 0), "drift");
		json_t *se;
		int seen = 0;
		json_array_foreach(json_object_get(drift, "series"), i, se)
		{
			const char *site = json_string_value(json_object_get(se, "site"));
			if (strcmp(json_string_value(json_object_get(se, "metric")),
				   "input:age_band"))
				continue;
			json_t *p1 = json_array_get(json_object_get(se, "points"), 1);
			double psi = json_number_value(json_object_get(p1, "psi"));
			seen++;
			if (!strcmp(site, "hospital-b")) {
				cr_assert(psi > 0.09 && psi < 0.2, "PSI %g: %s", psi,
					  json_dumps(se, 0));
				cr_assert_lt(json_number_value(json_object_get(p1, "p_holm")),
					     1e-6);
			} else {
				cr_assert_lt(psi, 1e-12, "%s", json_dumps(se, 0));
			}
		}
		cr_assert_eq(seen, 3, "input series: %s", json_dumps(drift, 0));
		json_decref(j);
	}

	cr_assert_geq(h_count(log, "event=monitor_alert"), 1);
	cr_assert_geq(h_count(log, "event=schedule_run_started"), 3);
	cr_assert_eq(h_count(log, "event=starting"), 2);
	/* hospital-b's node saw its data file change and registered a new summary */
	{
		char nlog[512];
		snprintf(nlog, sizeof(nlog), "%s/hospital-b.log", F.dir);
		cr_assert_geq(h_count(nlog, "event=dataset_changed"), 1);
		snprintf(nlog, sizeof(nlog), "%s/hospital-a.log", F.dir);
		cr_assert_eq(h_count(nlog, "event=dataset_changed"), 0);
	}

	/* The text list shows it; --check turns it into exit status 1. */
	cr_assert_eq(h_cli(&F, &out, "authority", "monitor schedule list"), 0);
	cr_assert(strstr(out, "ALERT: hospital-b auroc drift"), "%s", out);
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority", "monitor schedule list --check 2>&1"), 1, "%s",
		     out);
	free(out);

	/* max_runs: no fourth run; then remove. */
	h_sleep_ms(3500);
	j = list_json();
	cr_assert_eq(json_array_size(json_object_get(
			 json_array_get(json_object_get(j, "schedules"), 0), "runs")),
		     3);
	json_decref(j);
	cr_assert_eq(h_cli(&F, &out, "authority", "monitor schedule remove %s", sid), 0, "%s", out);
	free(out);
	cr_assert_eq(h_cli(&F, NULL, "authority", "monitor schedule remove %s 2>&1", sid), 1);
	cr_assert_eq(h_cli(&F, &out, "authority", "monitor schedule list --check"), 0, "%s", out);
	cr_assert(strstr(out, "no schedules"), "%s", out);
	free(out);

	/* A schedule added by an authority that is later revoked ends with it: nothing runs in
	 * a revoked principal's name. */
	h_issue(&F, FV_ROLE_AUTHORITY, "authority2");
	h_profile(&F, "authority2");
	cr_assert_eq(h_cli(&F, &out, "authority2",
			   "monitor schedule add --benchmark hf-readmission-30d --model %s "
			   "--cadence P1M 2>&1",
			   vid),
		     0, "schedule add: %s", out);
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority", "monitor schedule list"), 0);
	cr_assert(!strstr(out, "no schedules"), "%s", out);
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority",
			   "principal revoke authority2 --reason 'left the agency' 2>&1"),
		     0, "%s", out);
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority", "monitor schedule list"), 0);
	cr_assert(strstr(out, "no schedules"), "the revoked authority's schedule stays: %s", out);
	free(out);
	cr_assert_eq(h_count(log, "event=schedule_removed count=1"), 1);
}
