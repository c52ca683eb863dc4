/* End to end: coordinator, three hospital nodes and the CLI as real processes on loopback, over
 * mutual TLS; a vendor model submitted, a benchmark run, results verified and pooled; the
 * coordinator restarted in the middle with nothing lost. */
#include <jansson.h>
#include <math.h>

#include "fedval/data.h"
#include "fedval/model.h"
#include "fedval/stats.h"

#include "fedval/limits.h"
#include "fedval/wire.h"
#include "harness.h"

static struct fed F;

static void teardown(void)
{
	h_fed_cleanup(&F);
}

/* Synthetic hospitals (profiles 1..3) and the vendor's model trained on profile 0. */
static void setup_synthetic(int rows)
{
	char *out = NULL;
	h_fed_init(&F);
	cr_assert_eq(h_run(&out,
			   "cd %s && " H_BIN("fedval") " demo data --profile 0 --rows 4000 "
						       "--out dev.csv && " H_BIN(
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
							       "%d --seed %d --out %s",
				   F.dir, p, rows, 10 + p, csv),
			     0);
		h_node_add(&F, name, csv, NULL);
	}
}

static void submit_and_run(char *vid, size_t vcap, char *run, size_t rcap)
{
	char *out = NULL;
	cr_assert_eq(h_cli(&F, &out, "vendor",
			   "model submit --model model/model.onnx --manifest model/manifest.json"),
		     0, "submit: %s", out);
	h_last_line(out, vid, vcap);
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority",
			   "benchmark create " FV_SOURCE_DIR "/deploy/demo/benchmark.json 2>&1"),
		     0, "benchmark: %s", out);
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority",
			   "run start --benchmark hf-readmission-30d --model %s", vid),
		     0, "run start: %s", out);
	h_last_line(out, run, rcap);
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority", "run status %s --wait 120 2>&1", run), 0,
		     "run status: %s", out);
	free(out);
}

static json_t *results_json(const char *run)
{
	char *out = NULL, path[512];
	json_error_t jerr;
	snprintf(path, sizeof(path), "%s/report-%ld.json", F.dir, (long)fv_now_us());
	cr_assert_eq(h_cli(&F, &out, "authority", "results %s --json %s 2>&1", run, path), 0,
		     "results: %s", out);
	free(out);
	json_t *j = json_load_file(path, 0, &jerr);
	cr_assert(j, "report: %s", jerr.text);
	return j;
}

static uint64_t iget(const json_t *o, const char *k)
{
	return (uint64_t)json_integer_value(json_object_get(o, k));
}

/* Every site verified and ok; pooled counts are exact sums of the sites' counts. */
static void check_report(const json_t *rep, int nsites)
{
	const json_t *sites = json_object_get(rep, "sites"),
		     *pooled = json_object_get(rep, "pooled");
	uint64_t n = 0, pos = 0;
	size_t i, t;
	json_t *s;

	cr_assert_eq(json_array_size(sites), (size_t)nsites);
	json_array_foreach(sites, i, s)
	{
		cr_assert(json_is_true(json_object_get(s, "verified")), "site %zu not verified", i);
		cr_assert_str_eq(json_string_value(json_object_get(s, "status")), "ok");
		n += iget(s, "n");
		pos += iget(s, "n_pos");
		double auc =
		    json_real_value(json_object_get(json_object_get(s, "auroc"), "estimate"));
		cr_assert(auc > 0.6 && auc < 0.95, "site AUROC %f implausible", auc);
	}
	cr_assert_eq(iget(pooled, "n"), n);
	cr_assert_eq(iget(pooled, "n_pos"), pos);
	json_t *rows = json_object_get(pooled, "thresholds"), *row;
	json_array_foreach(rows, t, row)
	{
		uint64_t tp = 0, fp = 0, tn = 0, fn = 0;
		json_array_foreach(sites, i, s)
		{
			json_t *c = json_array_get(json_object_get(s, "thresholds"), t);
			if (json_is_true(json_object_get(c, "suppressed")))
				continue;
			tp += iget(c, "tp");
			fp += iget(c, "fp");
			tn += iget(c, "tn");
			fn += iget(c, "fn");
		}
		cr_assert_eq(iget(row, "tp"), tp);
		cr_assert_eq(iget(row, "fp"), fp);
		cr_assert_eq(iget(row, "tn"), tn);
		cr_assert_eq(iget(row, "fn"), fn);
	}
}

Test(federation, end_to_end_restart_and_immutable_versions, .fini = teardown, .timeout = 300)
{
	char vid[128], run[128], run2[128], *out = NULL;

	setup_synthetic(3000);
	h_coord_start(&F);
	for (int i = 0; i < F.nnodes; i++)
		h_node_start(&F, i);
	submit_and_run(vid, sizeof(vid), run, sizeof(run));
	json_t *rep = results_json(run);
	check_report(rep, 3);
	/* Claims vs measured: the manifest's claimed AUROC and sensitivity/specificity at 0.2,
	 * each against every site and the pooled value, the verdict following the interval. */
	size_t ci, nsens = 0, nauc = 0;
	json_t *cl;
	json_array_foreach(json_object_get(rep, "claims"), ci, cl)
	{
		const char *m = json_string_value(json_object_get(cl, "metric"));
		const char *v = json_string_value(json_object_get(cl, "verdict"));
		double c = json_number_value(json_object_get(cl, "claimed"));
		double lo = json_number_value(json_object_get(cl, "ci_low"));
		double hi = json_number_value(json_object_get(cl, "ci_high"));
		nsens += !strcmp(m, "sensitivity@0.2");
		nauc += !strcmp(m, "auroc");
		cr_assert_str_eq(v, c > hi   ? "claim above the interval"
				    : c < lo ? "claim below the interval"
					     : "consistent");
	}
	cr_assert_eq(nsens, 4, "sensitivity claims: 3 sites and pooled");
	cr_assert_eq(nauc, 4, "AUROC claims: 3 sites and pooled");

	/* The report re-verifies offline with only the CA; a changed number does not. */
	cr_assert_eq(
	    h_run(&out,
		  "cd %s && " H_BIN("fedval") " verify $(ls report-*.json | head -1) "
					      "--ca pki/ca/ca.crt --model model/model.onnx 2>&1",
		  F.dir),
	    0, "%s", out);
	free(out);
	cr_assert_eq(h_run(&out,
			   "cd %s && /usr/bin/python3 -c \"import json,glob; f=sorted(glob."
			   "glob('report-*.json'))[0]; r=json.load(open(f)); r['sites'][1]['n']"
			   "+=1; json.dump(r,open('tampered.json','w'))\" && " H_BIN(
			       "fedval") " verify tampered.json --ca pki/ca/ca.crt 2>&1",
			   F.dir),
		     1, "a tampered report verified: %s", out);
	cr_assert(strstr(out, "FAIL") && strstr(out, "signed numbers"), "%s", out);
	free(out);

	/* Each site's dataset summary is in the report, bound to its signed result by the
	 * fingerprint; a changed summary no longer verifies. Each site's operating points: the
	 * benchmark's two targets and the vendor's declared threshold 0.2, whose counts are the
	 * benchmark's row at 0.2. */
	{
		size_t si;
		json_t *st;
		json_array_foreach(json_object_get(rep, "sites"), si, st)
		{
			json_t *ops = json_object_get(st, "operating_points");
			cr_assert_eq(json_array_size(ops), 3, "%s", json_dumps(st, 0));
			json_t *sens = json_array_get(ops, 0), *decl = json_array_get(ops, 2);
			cr_assert_str_eq(json_string_value(json_object_get(sens, "target")),
					 "sensitivity");
			double se = json_number_value(
			    json_object_get(json_object_get(sens, "sensitivity"), "estimate"));
			cr_assert_geq(se, 0.8, "the site's threshold reaches the target");
			double t = json_number_value(json_object_get(sens, "threshold"));
			cr_assert_float_eq(t * 100, round(t * 100), 1e-9,
					   "threshold %g off the grid", t);
			cr_assert_str_eq(json_string_value(json_object_get(decl, "target")),
					 "declared");
			json_t *row = json_array_get(json_object_get(st, "thresholds"), 1);
			cr_assert_float_eq(json_number_value(json_object_get(row, "threshold")),
					   0.2, 1e-12);
			cr_assert_eq(json_integer_value(json_object_get(decl, "tp")),
				     json_integer_value(json_object_get(row, "tp")));
			cr_assert_eq(json_integer_value(json_object_get(decl, "fp")),
				     json_integer_value(json_object_get(row, "fp")));
		}
		json_array_foreach(json_object_get(rep, "sites"), si, st)
		{
			json_t *sum = json_object_get(st, "data_summary");
			cr_assert(json_is_object(sum), "no data summary: %s", json_dumps(st, 0));
			cr_assert_str_eq(json_string_value(json_object_get(sum, "fingerprint")),
					 json_string_value(json_object_get(
					     json_object_get(st, "dataset"), "fingerprint")));
			cr_assert_eq(json_integer_value(json_object_get(sum, "rows")),
				     json_integer_value(json_object_get(st, "n")),
				     "the summary describes the records evaluated");
		}
	}
	cr_assert_eq(h_run(&out,
			   "cd %s && /usr/bin/python3 -c \"import json,glob; f=sorted(glob."
			   "glob('report-*.json'))[0]; r=json.load(open(f)); "
			   "r['sites'][0]['data_summary']['rows']+=1; "
			   "json.dump(r,open('tampered2.json','w'))\" && " H_BIN(
			       "fedval") " verify tampered2.json --ca pki/ca/ca.crt 2>&1",
			   F.dir),
		     1, "a changed data summary verified: %s", out);
	cr_assert(strstr(out, "data summary is the one signed"), "%s", out);
	free(out);

	/* A benchmark asking for an operating point the platform does not know is refused with
	 * the field named. */
	cr_assert_eq(
	    h_run(&out,
		  "cd %s && sed 's/\"name\": \"hf-readmission-30d\"/\"name\": \"op-bad\"/; "
		  "s/\"target\": \"specificity\"/\"target\": \"ppv\"/' " FV_SOURCE_DIR
		  "/deploy/demo/benchmark.json > op-bad.json",
		  F.dir),
	    0);
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority", "benchmark create %s/op-bad.json 2>&1", F.dir), 1,
		     "%s", out);
	cr_assert(strstr(out, "operating_points[1].target"), "%s", out);
	free(out);

	/* The same version again is accepted as is; changed content under it is refused. */
	cr_assert_eq(h_cli(&F, &out, "vendor",
			   "model submit --model model/model.onnx --manifest model/manifest.json"),
		     0);
	free(out);
	cr_assert_eq(h_run(NULL,
			   "cd %s && sed -i 's/\"intended_use\": \"/\"intended_use\": \"changed "
			   "/' model/manifest.json",
			   F.dir),
		     0);
	cr_assert_eq(
	    h_cli(&F, &out, "vendor",
		  "model submit --model model/model.onnx --manifest model/manifest.json 2>&1"),
	    1, "changed manifest accepted: %s", out);
	cr_assert(strstr(out, "immutable"), "%s", out);
	free(out);

	/* Restart the coordinator: runs, models and results survive; nodes come back. */
	cr_assert_eq(h_stop(F.coord, 10000), 0, "coordinator did not stop cleanly");
	char log[512];
	snprintf(log, sizeof(log), "%s/coordinator.log", F.dir);
	cr_assert(h_count(log, "event=stopped") == 1);
	h_coord_start(&F);
	for (int i = 0; i < F.nnodes; i++) {
		char nlog[512];
		snprintf(nlog, sizeof(nlog), "%s/%s.log", F.dir, F.node_names[i]);
		cr_assert(h_wait_log(nlog, "event=enrolled", 2, 90000), "node %d did not reconnect",
			  i);
	}
	json_t *again = results_json(run);
	for (size_t i = 0; i < 3; i++)
		cr_assert_str_eq(
		    json_string_value(json_object_get(
			json_array_get(json_object_get(rep, "sites"), i), "result_sha256")),
		    json_string_value(json_object_get(
			json_array_get(json_object_get(again, "sites"), i), "result_sha256")));
	cr_assert_eq(h_cli(&F, &out, "authority",
			   "run start --benchmark hf-readmission-30d@1 --model %s", vid),
		     0, "%s", out);
	h_last_line(out, run2, sizeof(run2));
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority", "run status %s --wait 120 2>&1", run2), 0, "%s",
		     out);
	free(out);
	json_t *second = results_json(run2);
	check_report(second, 3);
	/* Same data, same model: the same statistics. */
	cr_assert_eq(iget(json_object_get(second, "pooled"), "n"),
		     iget(json_object_get(rep, "pooled"), "n"));
	json_decref(rep);
	json_decref(again);
	json_decref(second);

	/* Every daemon stops cleanly on SIGTERM, even in the middle of a long poll. */
	for (int i = 0; i < F.nnodes; i++) {
		cr_assert_eq(h_stop(F.nodes[i], 10000), 0);
		F.nodes[i] = 0;
	}
	cr_assert_eq(h_stop(F.coord, 10000), 0);
	F.coord = 0;

	/* Both sides kept hash-chained audit logs; a changed byte is found. */
	cr_assert_eq(
	    h_run(
		&out,
		"cd %s && " H_BIN(
		    "fedval") " audit verify coordinator-audit.log "
			      "&& " H_BIN("fedval") " audit verify hospital-a.state/node-audit.log",
		F.dir),
	    0, "%s", out);
	cr_assert(strstr(out, "ok: "), "%s", out);
	free(out);
	cr_assert(h_count(log, "event=audit_append_failed") == 0);
	cr_assert_eq(
	    h_run(&out,
		  "cd %s && sed -i '3s/submit_model/submit_modem/; "
		  "3s/create_benchmark/create_benchmarl/; 3s/enrol/enrok/' "
		  "coordinator-audit.log && " H_BIN("fedval") " audit verify coordinator-audit.log",
		  F.dir),
	    1, "a tampered audit log verified: %s", out);
	free(out);
}

Test(federation, daemons_refuse_readable_keys_and_bad_config, .fini = teardown, .timeout = 60)
{
	char *out = NULL;
	h_fed_init(&F);
	cr_assert_eq(h_run(NULL, "chmod 0644 %s/pki/coordinator.key", F.dir), 0);
	cr_assert_eq(h_run(&out,
			   "cd %s && " H_BIN("fedval-coordinator") " --config "
								   "coordinator.ini 2>&1",
			   F.dir),
		     1);
	cr_assert(strstr(out, "coordinator.key"), "%s", out);
	free(out);
	cr_assert_eq(h_run(NULL,
			   "chmod 0600 %s/pki/coordinator.key && echo 'bogus = 1' >> "
			   "%s/coordinator.ini",
			   F.dir, F.dir),
		     0);
	cr_assert_eq(
	    h_run(&out,
		  "cd %s && " H_BIN("fedval-coordinator") " --config "
							  "coordinator.ini --check-config 2>&1",
		  F.dir),
	    1);
	cr_assert(strstr(out, "bogus"), "error should name the unknown key: %s", out);
	free(out);
	int i = h_node_add(&F, "hospital-a", "a.csv", NULL);
	(void)i;
	cr_assert_eq(h_run(NULL, "chmod 0640 %s/pki/hospital-a.key", F.dir), 0);
	cr_assert_eq(h_run(&out,
			   "cd %s && " H_BIN("fedval-node") " --config hospital-a.node.ini "
							    "2>&1",
			   F.dir),
		     1);
	cr_assert(strstr(out, "hospital-a.key"), "%s", out);
	free(out);
	cr_assert_eq(
	    h_run(NULL,
		  H_BIN("fedval") " --help >/dev/null && " H_BIN(
		      "fedval-node") " --help >/dev/null && " H_BIN("fedval-coordinator") " --help "
											  ">/dev/"
											  "null"),
	    0);
	const char *cmds[] = {"pki init",
			      "pki issue",
			      "model submit",
			      "model accept",
			      "model reject",
			      "model inspect",
			      "model run",
			      "model conformance",
			      "benchmark create",
			      "benchmark open",
			      "benchmark close",
			      "dataset list",
			      "dataset approve",
			      "run start",
			      "run status",
			      "results",
			      "report html",
			      "monitor check",
			      "eval",
			      "principal revoke",
			      "site jobs",
			      "site summary",
			      "site approve",
			      "site veto",
			      "site release",
			      "audit verify",
			      "audit export",
			      "dashboard token",
			      "demo data",
			      "demo train"};
	for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++) {
		cr_assert_eq(h_run(&out, H_BIN("fedval") " %s --help", cmds[k]), 0, "%s", cmds[k]);
		cr_assert(strstr(out, "usage: fedval"), "%s --help: %s", cmds[k], out);
		free(out);
	}
}

/* A model of several chunks whose download was interrupted after the first chunk: the node
 * resumes at chunk 1, verifies the whole digest and evaluates. The padding is a doc_string
 * field (ModelProto field 6) appended to a real logistic-regression model: valid protobuf,
 * ignored by the runtime, and random so that it does not compress away. */
Test(federation, interrupted_model_download_resumes, .fini = teardown, .timeout = 180)
{
	char *out = NULL, vid[128], run[128], path[600], sha[FV_SHA256_HEX];
	uint8_t *model = NULL;
	size_t len = 0, pad = 2u * 1024 * 1024 + 12345;
	struct fv_diag d;

	setup_synthetic(1500);
	snprintf(path, sizeof(path), "%s/model/model.onnx", F.dir);
	cr_assert_eq(fv_file_read(path, 1 << 26, &model, &len, &d), FV_OK);
	model = realloc(model, len + pad + 16);
	model[len++] = 0x32; /* field 6, length-delimited */
	for (size_t v = pad;; v >>= 7) {
		model[len++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		if (v <= 0x7f)
			break;
	}
	srand(42);
	for (size_t i = 0; i < pad; i++)
		model[len++] = (uint8_t) "0123456789abcdef"[rand() % 16];
	cr_assert_eq(fv_file_write_atomic(path, model, len, 0644, &d), FV_OK);
	fv_sha256_hex(model, len, sha);
	cr_assert_gt(fv_chunk_count(len), 2);
	/* Hospital A already holds chunk 0 and part of chunk 1 from an earlier attempt. */
	snprintf(path, sizeof(path), "%s/hospital-a.cache", F.dir);
	cr_assert_eq(fv_mkdir_p(path, 0700, &d), FV_OK);
	snprintf(path, sizeof(path), "%s/hospital-a.cache/%s.part", F.dir, sha);
	cr_assert_eq(fv_file_write_atomic(path, model, FV_MODEL_CHUNK_RAW + 1000, 0600, &d), FV_OK);
	free(model);

	h_coord_start(&F);
	for (int i = 0; i < F.nnodes; i++)
		h_node_start(&F, i);
	submit_and_run(vid, sizeof(vid), run, sizeof(run));
	json_t *rep = results_json(run);
	check_report(rep, 3);
	json_decref(rep);
	snprintf(path, sizeof(path), "%s/hospital-a.log", F.dir);
	cr_assert_eq(h_count(path, "event=model_download_resume"), 1, "%s", out = h_slurp(path));
	cr_assert(h_count(path, "chunk=1 count=3") == 1);
	snprintf(path, sizeof(path), "%s/hospital-b.log", F.dir);
	cr_assert_eq(h_count(path, "event=model_download_resume"), 0);
	snprintf(path, sizeof(path), "%s/hospital-a.cache/%s.onnx", F.dir, sha);
	cr_assert_eq(access(path, F_OK), 0, "model not cached under its digest");
	free(out);
}

/* Head to head: a second vendor's model evaluated on the same records. Its AUROC inside the
 * paired run equals the AUROC of a run of that model alone, and the pooled paired difference
 * covers every site. */
Test(federation, head_to_head_paired_on_same_records, .fini = teardown, .timeout = 180)
{
	char vid[128], vid2[128], run[128], run2[128], *out = NULL;

	setup_synthetic(2000);
	h_issue(&F, FV_ROLE_VENDOR, "vendor2");
	h_profile(&F, "vendor2");
	cr_assert_eq(
	    h_run(&out,
		  "cd %s && " H_BIN(
		      "fedval") " demo train --data dev.csv --out-dir "
				"model2 --name other --variables age,bnp,sodium,ckd,nyha_class "
				"2>&1",
		  F.dir),
	    0, "%s", out);
	free(out);
	h_coord_start(&F);
	for (int i = 0; i < F.nnodes; i++)
		h_node_start(&F, i);
	submit_and_run(vid, sizeof(vid), run, sizeof(run));
	cr_assert_eq(
	    h_cli(&F, &out, "vendor2",
		  "model submit --model model2/model.onnx --manifest model2/manifest.json"),
	    0, "%s", out);
	h_last_line(out, vid2, sizeof(vid2));
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority",
			   "run start --benchmark hf-readmission-30d --model %s --compare %s", vid,
			   vid2),
		     0, "%s", out);
	h_last_line(out, run, sizeof(run));
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority", "run status %s --wait 120", run), 0, "%s", out);
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority",
			   "run start --benchmark hf-readmission-30d --model %s", vid2),
		     0, "%s", out);
	h_last_line(out, run2, sizeof(run2));
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority", "run status %s --wait 120", run2), 0, "%s", out);
	free(out);
	json_t *paired = results_json(run), *alone = results_json(run2);
	json_t *h2h = json_object_get(paired, "head_to_head");
	json_t *pd = json_array_get(json_object_get(h2h, "pooled_differences"), 0);
	cr_assert(pd, "no pooled difference");
	cr_assert_eq(json_integer_value(json_object_get(pd, "sites")), 3);
	cr_assert_eq(json_array_size(json_object_get(h2h, "leaderboard")), 2);
	/* Per site, the paired difference is B's AUROC minus A's at that site, and its interval
	 * is narrower than the unpaired one (positive covariance on the same records). */
	json_t *sd = json_object_get(h2h, "site_differences");
	cr_assert_eq(json_array_size(sd), 3, "%s", json_dumps(h2h, 0));
	{
		size_t k;
		json_t *x;
		json_array_foreach(sd, k, x)
		{
			const char *node = json_string_value(json_object_get(x, "site"));
			json_t *site = NULL, *ss;
			size_t q;
			json_array_foreach(
			    json_object_get(alone, "sites"), q,
			    ss) if (!strcmp(json_string_value(json_object_get(ss, "node")), node))
			    site = ss;
			json_t *sa = NULL;
			json_array_foreach(
			    json_object_get(paired, "sites"), q,
			    ss) if (!strcmp(json_string_value(json_object_get(ss, "node")), node))
			    sa = ss;
			cr_assert(site && sa, "site %s", node);
			double b = json_real_value(
			    json_object_get(json_object_get(site, "auroc"), "estimate"));
			double a = json_real_value(
			    json_object_get(json_object_get(sa, "auroc"), "estimate"));
			double va = json_real_value(
			    json_object_get(json_object_get(sa, "auroc"), "delong_variance"));
			double vb = json_real_value(
			    json_object_get(json_object_get(site, "auroc"), "delong_variance"));
			cr_assert_float_eq(json_real_value(json_object_get(x, "difference")), b - a,
					   1e-9);
			cr_assert_lt(json_real_value(json_object_get(x, "variance")), va + vb);
		}
	}
	/* Model B's AUROC per site, paired vs alone: the same records give the same number. */
	json_t *lb = json_object_get(h2h, "models");
	double pooled_b = json_real_value(json_object_get(json_array_get(lb, 1), "auroc"));
	double alone_re = json_real_value(json_object_get(
	    json_object_get(json_object_get(alone, "pooled"), "auroc_random_effects"), "estimate"));
	cr_assert_float_eq(pooled_b, alone_re, 1e-9, "paired %f vs alone %f", pooled_b, alone_re);
	json_decref(paired);
	json_decref(alone);
}

/* The federated recalibration fit: rounds of Newton steps in which each site returns only its
 * gradient, Hessian and log-likelihood equal a logistic fit of y on logit(p) over all records
 * pooled in one place. */
Test(federation, recalibration_rounds_equal_pooled_fit, .fini = teardown, .timeout = 240)
{
	char vid[128], run[128], *out = NULL, path[512];
	struct fv_diag d = {{0}};

	setup_synthetic(1500);
	h_coord_start(&F);
	for (int i = 0; i < F.nnodes; i++)
		h_node_start(&F, i);
	submit_and_run(vid, sizeof(vid), run, sizeof(run));
	cr_assert_eq(h_cli(&F, &out, "authority",
			   "run start --benchmark hf-readmission-30d --model %s --recalibrate",
			   vid),
		     0, "%s", out);
	h_last_line(out, run, sizeof(run));
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority", "run status %s --wait 200", run), 0, "%s", out);
	free(out);
	json_t *rep = results_json(run);
	json_t *fit = json_object_get(rep, "recalibration");
	cr_assert_str_eq(json_string_value(json_object_get(fit, "status")), "converged");
	double a = json_real_value(json_object_get(fit, "intercept"));
	double b = json_real_value(json_object_get(fit, "slope"));

	/* The pooled reference: the same model on every record, one logistic regression. */
	const char *const *preds = fv_synth_hf_predictors();
	size_t np = 0, total = 0;
	while (preds[np])
		np++;
	uint8_t *bytes = NULL;
	size_t len = 0;
	struct fv_model *m = NULL;
	snprintf(path, sizeof(path), "%s/model/model.onnx", F.dir);
	cr_assert_eq(fv_file_read(path, 1 << 26, &bytes, &len, &d), FV_OK);
	cr_assert_eq(fv_model_load(bytes, len, &m, &d), FV_OK, "%s", d.msg);
	fv_free(bytes);
	double *x = malloc(3 * 1500 * sizeof(double));
	uint8_t *y = malloc(3 * 1500);
	for (int s = 0; s < 3; s++) {
		struct fv_dataset ds = {0};
		struct fv_mapping map = {np, preds, preds, fv_synth_hf_label()};
		double *p;
		snprintf(path, sizeof(path), "%s/hospital-%c.csv", F.dir, 'a' + s);
		cr_assert_eq(fv_data_read_csv(path, NULL, &map, &ds, &d), FV_OK, "%s", d.msg);
		p = malloc(ds.n * sizeof(double));
		cr_assert_eq(fv_model_predict(m, ds.x, ds.n, p, &d), FV_OK);
		for (size_t i = 0; i < ds.n; i++) {
			x[total] = log(p[i] / (1 - p[i]));
			y[total++] = ds.y[i];
		}
		free(p);
		fv_dataset_fini(&ds);
	}
	fv_model_free(m);
	double coef, icpt;
	cr_assert_eq(fv_stats_logreg_fit(x, y, total, 1, 0.0, &coef, &icpt, &d), FV_OK, "%s",
		     d.msg);
	free(x);
	free(y);
	cr_assert_float_eq(a, icpt, 1e-7, "intercept %.12f vs pooled %.12f", a, icpt);
	cr_assert_float_eq(b, coef, 1e-7, "slope %.12f vs pooled %.12f", b, coef);
	json_decref(rep);
}

/* fedval model run scores a CSV: one row per record, a header naming the output. */
Test(federation, model_run_scores_a_csv, .fini = teardown, .timeout = 60)
{
	char *out = NULL;
	setup_synthetic(300);
	cr_assert_eq(
	    h_run(&out,
		  "cd %s && " H_BIN(
		      "fedval") " model run model/model.onnx --csv "
				"hospital-a.csv --features $(/usr/bin/python3 -c \"import json; "
				"print(','.join(json.load(open('model/manifest.json'))['input']"
				"['variables']))\") --out scores.csv 2>&1 && wc -l < scores.csv && "
				"head -2 scores.csv",
		  F.dir),
	    0, "%s", out);
	cr_assert(strstr(out, "301\nprobability\n0."), "%s", out);
	free(out);
	cr_assert_eq(h_run(&out,
			   "cd %s && " H_BIN("fedval") " model run model/model.onnx --csv "
						       "hospital-a.csv --out - 2>&1",
			   F.dir),
		     1, "%s", out);
	cr_assert(strstr(out, "takes 21 features"), "%s", out);
	free(out);
}

/* Sites whose labels the model separates perfectly (label = score > 0.25 at every site): the
 * pooled recalibration likelihood has no
 * maximum, Newton's iterates grow without bound, and the nodes refuse a round once they leave
 * their bounds (a steep curve is a threshold in disguise). The fit fails with the reason; no
 * round beyond the bounds is evaluated. */
Test(federation, recalibration_round_beyond_bounds_refused, .fini = teardown, .timeout = 240)
{
	char vid[128], run[128], *out = NULL;

	setup_synthetic(600);
	for (int s = 0; s < 3; s++) {
		cr_assert_eq(
		    h_run(
			&out,
			"cd %s && " H_BIN(
			    "fedval") " model run model/model.onnx --csv hospital-%c.csv "
				      "--features $(/usr/bin/python3 -c \"import json; "
				      "print(','.join(json.load(open('model/manifest.json'))"
				      "['input']['variables']))\") --out s.csv 2>&1 && "
				      "/usr/bin/python3 -c \"import csv; "
				      "s=[float(r['probability']) for r in "
				      "csv.DictReader(open('s.csv'))]; "
				      "cut=0.25; rows=list(csv.reader(open("
				      "'hospital-%c.csv'))); i=rows[0].index('%s'); "
				      "[r.__setitem__(i, '1' if v > cut else '0') for r, v in "
				      "zip(rows[1:], s)]; csv.writer(open('hospital-%c.csv', 'w'), "
				      "lineterminator='\\n').writerows(rows)\" 2>&1",
			F.dir, 'a' + s, 'a' + s, fv_synth_hf_label(), 'a' + s),
		    0, "%s", out);
		free(out);
	}
	h_coord_start(&F);
	for (int i = 0; i < F.nnodes; i++)
		h_node_start(&F, i);
	submit_and_run(vid, sizeof(vid), run, sizeof(run));
	cr_assert_eq(h_cli(&F, &out, "authority",
			   "run start --benchmark hf-readmission-30d --model %s --recalibrate",
			   vid),
		     0, "%s", out);
	h_last_line(out, run, sizeof(run));
	free(out);
	h_cli(&F, &out, "authority", "run status %s --wait 200 2>&1", run);
	free(out);
	json_t *rep = results_json(run);
	json_t *fit = json_object_get(rep, "recalibration");
	char *txt = json_dumps(fit, JSON_COMPACT);
	cr_assert_str_neq(json_string_value(json_object_get(fit, "status")), "converged",
			  "a separated fit converged: %s", txt);
	free(txt);
	char path[512];
	snprintf(path, sizeof(path), "%s/hospital-a.log", F.dir);
	cr_assert_gt(h_count(path, "round_out_of_bounds"), 0, "no round refused by the node");
	json_decref(rep);
}
