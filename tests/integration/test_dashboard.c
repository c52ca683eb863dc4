/* The coordinator's HTTPS dashboard end to end: a real federation (coordinator with
 * `dashboard = https://127.0.0.1:0`, three hospital nodes, the CLI) runs a benchmark; the
 * JSON API is fetched with curl over HTTPS against the federation CA, and the page is driven in
 * headless Chromium. Expected statistics come from `fedval results --json` on the same run
 * (the dashboard must show what the CLI shows). */
#include <math.h>

#include "dash_harness.h"
#include "fedval/limits.h"

static struct fed F;

static void teardown(void)
{
	h_fed_cleanup(&F);
}

/* A federation with a finished run of the demo model on the demo benchmark at nsites
 * hospitals; a second benchmark whose title is an HTML injection attempt. */
static int setup_run(int nsites, char *vid, size_t vcap, char *run, size_t rcap)
{
	char *out = NULL, path[512];

	h_fed_init(&F);
	dh_enable(&F);
	cr_assert_eq(h_run(&out,
			   "cd %s && " H_BIN("fedval") " demo data --profile 0 --rows 3000 --out "
						       "dev.csv && " H_BIN(
							   "fedval") " demo train --data dev.csv "
								     "--out-dir model 2>&1",
			   F.dir),
		     0, "%s", out);
	free(out);
	for (int p = 1; p <= nsites; p++) {
		char name[32], csv[64];
		snprintf(name, sizeof(name), "hospital-%c", 'a' + p - 1);
		snprintf(csv, sizeof(csv), "%s.csv", name);
		cr_assert_eq(h_run(NULL,
				   "cd %s && " H_BIN("fedval") " demo data --profile %d --rows "
							       "1500 --seed %d --out %s",
				   F.dir, p, 20 + p, csv),
			     0);
		h_node_add(&F, name, csv, NULL);
	}
	h_coord_start(&F);
	int port = dh_port(&F);
	for (int i = 0; i < F.nnodes; i++)
		h_node_start(&F, i);
	cr_assert_eq(h_cli(&F, &out, "vendor",
			   "model submit --model model/model.onnx --manifest model/manifest.json"),
		     0, "submit: %s", out);
	h_last_line(out, vid, vcap);
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority",
			   "benchmark create " FV_SOURCE_DIR "/deploy/demo/benchmark.json 2>&1"),
		     0, "benchmark: %s", out);
	free(out);
	/* The same spec under another name, with markup in its title. */
	json_error_t jerr;
	json_t *b = json_load_file(FV_SOURCE_DIR "/deploy/demo/benchmark.json", 0, &jerr);
	cr_assert(b, "%s", jerr.text);
	json_object_set_new(b, "name", json_string("evil-bench"));
	json_object_set_new(b, "title",
			    json_string("<img src=x onerror=alert(1)><script>alert(2)</script>"));
	snprintf(path, sizeof(path), "%s/evil.json", F.dir);
	cr_assert_eq(json_dump_file(b, path, 0), 0);
	json_decref(b);
	cr_assert_eq(h_cli(&F, &out, "authority", "benchmark create evil.json 2>&1"), 0, "%s", out);
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority",
			   "run start --benchmark hf-readmission-30d --model %s", vid),
		     0, "run start: %s", out);
	h_last_line(out, run, rcap);
	free(out);
	cr_assert_eq(h_cli(&F, &out, "authority", "run status %s --wait 120 2>&1", run), 0,
		     "run status: %s", out);
	free(out);
	return port;
}

static json_t *cli_report(const char *run)
{
	char *out = NULL, path[512];
	json_error_t jerr;
	snprintf(path, sizeof(path), "%s/report.json", F.dir);
	cr_assert_eq(h_cli(&F, &out, "authority", "results %s --json %s 2>&1", run, path), 0,
		     "results: %s", out);
	free(out);
	json_t *j = json_load_file(path, 0, &jerr);
	cr_assert(j, "report: %s", jerr.text);
	return j;
}

static double num_at(const json_t *o, const char *k1, const char *k2)
{
	const json_t *x = json_object_get(o, k1);
	return json_number_value(k2 ? json_object_get(x, k2) : x);
}

/* 403 with a JSON error whose message contains `why`. */
static void expect_refused(int port, const char *path, const char *extra, const char *why)
{
	json_t *j = NULL;
	int st = dh_fetch(&F, port, path, extra, NULL, &j);
	cr_expect_eq(st, 403, "%s %s: status %d", path, extra ? extra : "", st);
	cr_assert(json_is_object(j), "%s: body is not JSON", path);
	cr_expect_str_eq(json_string_value(json_object_get(j, "error")), "forbidden");
	const char *m = json_string_value(json_object_get(j, "message"));
	cr_expect(m && strstr(m, why), "%s: message '%s', expected '%s'", path, m ? m : "", why);
	json_decref(j);
}

Test(dashboard, api_shapes_access_and_statistics, .fini = teardown, .timeout = 400)
{
	char vid[128], run[128], tok[2048], bad[2048], hdr[4400], path[3500], *out = NULL;
	json_t *j = NULL, *x;
	size_t i;
	int port = setup_run(3, vid, sizeof(vid), run, sizeof(run));
	int64_t now = fv_now_us() / 1000000;

	/* ---- public: benchmarks, models, sites, runs with progress ---- */
	cr_assert_eq(dh_fetch(&F, port, "/api/v1/benchmarks", NULL, NULL, &j), 200);
	cr_assert_eq(json_array_size(json_object_get(j, "benchmarks")), 2);
	json_array_foreach(json_object_get(j, "benchmarks"), i, x)
	{
		cr_expect(json_is_string(json_object_get(x, "name")));
		cr_expect(json_is_string(json_object_get(x, "version")));
		cr_expect(json_is_string(json_object_get(x, "created")));
		cr_expect(json_is_array(json_object_get(json_object_get(x, "spec"), "thresholds")));
	}
	json_decref(j);

	cr_assert_eq(dh_fetch(&F, port, "/api/v1/models", NULL, NULL, &j), 200);
	x = json_array_get(json_object_get(j, "models"), 0);
	cr_expect_str_eq(json_string_value(json_object_get(x, "version_id")), vid);
	cr_expect_str_eq(json_string_value(json_object_get(x, "vendor")), "vendor");
	json_decref(j);

	cr_assert_eq(dh_fetch(&F, port, "/api/v1/sites", NULL, NULL, &j), 200);
	cr_assert_eq(json_array_size(json_object_get(j, "sites")), 3);
	json_array_foreach(json_object_get(j, "sites"), i, x)
	{
		char want[32];
		snprintf(want, sizeof(want), "hospital-%c", (int)('a' + i));
		cr_expect_str_eq(json_string_value(json_object_get(x, "name")), want);
		cr_expect(json_is_string(json_object_get(x, "enrolled")));
		cr_expect(json_is_string(json_object_get(x, "last_seen")), "site %zu never seen",
			  i);
		const char *sw = json_string_value(json_object_get(x, "software"));
		cr_expect(sw && strstr(sw, "fedval"), "software '%s'", sw ? sw : "(null)");
		cr_expect(json_is_false(json_object_get(x, "revoked")));
		/* the dataset each node registered when it connected */
		json_t *ds = json_array_get(json_object_get(x, "datasets"), 0);
		cr_expect(ds && json_integer_value(json_object_get(ds, "records")) > 0,
			  "site %zu: no registered dataset", i);
		cr_expect(ds &&
			  strlen(json_string_value(json_object_get(ds, "fingerprint"))) == 64);
	}
	json_decref(j);

	cr_assert_eq(dh_fetch(&F, port, "/api/v1/runs", NULL, NULL, &j), 200);
	x = json_array_get(json_object_get(j, "runs"), 0);
	cr_expect_str_eq(json_string_value(json_object_get(x, "run_id")), run);
	cr_expect_str_eq(json_string_value(json_object_get(x, "state")), "complete");
	cr_expect_eq(num_at(x, "progress", "done"), 3);
	cr_expect_eq(num_at(x, "progress", "total"), 3);
	cr_expect_eq(json_array_size(json_object_get(x, "jobs")), 3);
	cr_expect_str_eq(
	    json_string_value(json_object_get(json_object_get(x, "model"), "version_id")), vid);
	json_decref(j);

	/* ---- results and leaderboards need an authority ---- */
	snprintf(path, sizeof(path), "/api/v1/runs/%s", run);
	expect_refused(port, path, NULL, "authority token");
	expect_refused(port, "/api/v1/leaderboard?benchmark=hf-readmission-30d", NULL,
		       "authority token");

	dh_token_cli(&F, "authority", tok, sizeof(tok));
	snprintf(hdr, sizeof(hdr), "-H 'Authorization: Bearer %s'", tok);
	cr_assert_eq(dh_fetch(&F, port, path, hdr, NULL, &j), 200);
	json_t *rep = cli_report(run);
	json_t *sites = json_object_get(j, "sites"), *rsites = json_object_get(rep, "sites");
	cr_assert_eq(json_array_size(sites), 3);
	json_array_foreach(sites, i, x)
	{
		json_t *r = json_array_get(rsites, i);
		cr_expect(json_is_true(json_object_get(x, "verified")));
		cr_expect_str_eq(json_string_value(json_object_get(x, "node")),
				 json_string_value(json_object_get(r, "node")));
		cr_expect_eq(num_at(x, "n", NULL), num_at(r, "n", NULL));
		cr_expect_eq(num_at(x, "n_pos", NULL), num_at(r, "n_pos", NULL));
		cr_expect(fabs(num_at(x, "auroc", "estimate") - num_at(r, "auroc", "estimate")) <
			  1e-9);
		cr_expect(fabs(num_at(x, "auroc", "ci_low") - num_at(r, "auroc", "ci_low")) < 1e-9);
		cr_expect(fabs(num_at(x, "brier", NULL) - num_at(r, "brier", NULL)) < 1e-9);
		cr_expect(fabs(num_at(x, "observed_expected", NULL) -
			       num_at(r, "observed_expected", NULL)) < 1e-9);
	}
	json_t *pd = json_object_get(j, "pooled"), *pr = json_object_get(rep, "pooled");
	cr_expect_eq(num_at(pd, "n", NULL), num_at(pr, "n", NULL));
	cr_expect_eq(num_at(pd, "n_pos", NULL), num_at(pr, "n_pos", NULL));
	double re = num_at(pr, "auroc_random_effects", "estimate");
	cr_expect(re > 0.5 && re < 1);
	cr_expect(fabs(num_at(pd, "auroc_random_effects", "estimate") - re) < 1e-9);
	cr_expect(fabs(num_at(pd, "auroc_random_effects", "ci_low") -
		       num_at(pr, "auroc_random_effects", "ci_low")) < 1e-9);
	json_t *tr = json_object_get(pd, "thresholds"), *trr = json_object_get(pr, "thresholds");
	cr_expect_eq(json_array_size(tr), json_array_size(trr));
	json_array_foreach(tr, i, x)
	{
		cr_expect_eq(num_at(x, "tp", NULL), num_at(json_array_get(trr, i), "tp", NULL));
		cr_expect_eq(num_at(x, "tn", NULL), num_at(json_array_get(trr, i), "tn", NULL));
	}
	json_decref(j);

	/* Leaderboard via ?token= (the browser's way): one model, the three sites pooled. */
	snprintf(path, sizeof(path), "/api/v1/leaderboard?benchmark=hf-readmission-30d&token=%s",
		 tok);
	cr_assert_eq(dh_fetch(&F, port, path, NULL, NULL, &j), 200);
	x = json_array_get(json_object_get(j, "models"), 0);
	cr_assert(x);
	cr_expect_eq(json_array_size(json_object_get(j, "models")), 1);
	cr_expect_str_eq(json_string_value(json_object_get(x, "version_id")), vid);
	cr_expect_eq(num_at(x, "rank", NULL), 1);
	cr_expect_eq(num_at(x, "sites", NULL), 3);
	cr_expect(fabs(num_at(x, "auroc", "estimate") - re) < 1e-9);
	json_decref(j);
	/* A benchmark name that is SQL is a bound parameter: no rows, no error. */
	snprintf(path, sizeof(path), "/api/v1/leaderboard?benchmark=x%%27%%20OR%%201=1--&token=%s",
		 tok);
	cr_assert_eq(dh_fetch(&F, port, path, NULL, NULL, &j), 200);
	cr_expect_eq(json_array_size(json_object_get(j, "models")), 0);
	json_decref(j);
	json_decref(rep);

	/* ---- refused tokens ---- */
	snprintf(path, sizeof(path), "/api/v1/runs/%s", run);
	dh_token_claims(&F, "authority", "authority", now - 10, bad, sizeof(bad));
	snprintf(hdr, sizeof(hdr), "-H 'Authorization: Bearer %s'", bad);
	expect_refused(port, path, hdr, "expired");
	/* Forged: claims of the authority signed with the vendor's key. */
	dh_token_claims(&F, "vendor", "authority", now + 600, bad, sizeof(bad));
	snprintf(hdr, sizeof(hdr), "-H 'Authorization: Bearer %s'", bad);
	expect_refused(port, path, hdr, "does not verify");
	/* A vendor's own valid signature is not an authority's. */
	dh_token_claims(&F, "vendor", "vendor", now + 600, bad, sizeof(bad));
	snprintf(hdr, sizeof(hdr), "-H 'Authorization: Bearer %s'", bad);
	expect_refused(port, path, hdr, "not an authority");
	/* The CLI refuses to make one for a vendor at all. */
	cr_expect_neq(h_cli(&F, &out, "vendor", "dashboard token 2>&1"), 0);
	free(out);
	/* Lifetime beyond the maximum; another audience; a swapped claim under a real signature. */
	dh_token_claims(&F, "authority", "authority", now + 400LL * 24 * 3600, bad, sizeof(bad));
	snprintf(hdr, sizeof(hdr), "-H 'Authorization: Bearer %s'", bad);
	expect_refused(port, path, hdr, "lifetime");
	dh_token_raw(&F, "authority",
		     "{\"aud\":\"other\",\"exp\":9999999999,\"sub\":\"authority\"}", bad,
		     sizeof(bad));
	snprintf(hdr, sizeof(hdr), "-H 'Authorization: Bearer %s'", bad);
	expect_refused(port, path, hdr, "malformed");
	{
		char other[2048], mixed[4096];
		dh_token_claims(&F, "authority", "authority", now + 100, other, sizeof(other));
		/* claims of `other` with the signature of `tok` */
		snprintf(mixed, sizeof(mixed), "%.*s%s", (int)(strchr(other, '.') - other), other,
			 strchr(tok, '.'));
		snprintf(hdr, sizeof(hdr), "-H 'Authorization: Bearer %s'", mixed);
		expect_refused(port, path, hdr, "does not verify");
	}
	expect_refused(port, path, "-H 'Authorization: Bearer not.a-token!'", "malformed");
	snprintf(path, sizeof(path), "/api/v1/runs/%s?token=%%00", run);
	expect_refused(port, path, NULL, "malformed");

	/* Revocation ends a token at once. */
	h_issue(&F, FV_ROLE_AUTHORITY, "auditor");
	h_profile(&F, "auditor");
	cr_assert_eq(h_cli(&F, &out, "auditor", "run status 2>&1"), 0, "%s", out); /* enrols */
	free(out);
	dh_token_cli(&F, "auditor", bad, sizeof(bad));
	snprintf(hdr, sizeof(hdr), "-H 'Authorization: Bearer %s'", bad);
	snprintf(path, sizeof(path), "/api/v1/runs/%s", run);
	cr_expect_eq(dh_fetch(&F, port, path, hdr, NULL, NULL), 200);
	cr_assert_eq(h_cli(&F, &out, "authority",
			   "principal revoke auditor --reason 'left the authority' 2>&1"),
		     0, "%s", out);
	free(out);
	expect_refused(port, path, hdr, "revoked");

	/* ---- hostile requests ---- */
	cr_expect_eq(dh_fetch(&F, port, "/nope", NULL, NULL, &j), 404);
	cr_expect_str_eq(json_string_value(json_object_get(j, "error")), "not_found");
	json_decref(j);
	snprintf(hdr, sizeof(hdr), "-H 'Authorization: Bearer %s'", tok);
	cr_expect_eq(dh_fetch(&F, port, "/api/v1/runs/..%2F..%2Fetc", hdr, NULL, NULL), 404);
	cr_expect_eq(dh_fetch(&F, port, "/api/v1/runs/x%27%20OR%20%271%27=%271", hdr, NULL, NULL),
		     404);
	cr_expect_eq(dh_fetch(&F, port, "/api/v1/runs", "-X POST -d x=1", NULL, &j), 405);
	cr_expect_str_eq(json_string_value(json_object_get(j, "error")), "method_not_allowed");
	json_decref(j);
	cr_expect_eq(dh_fetch(&F, port, "/api/v1/runs", "-X DELETE", NULL, NULL), 405);
	cr_expect_eq(dh_fetch(&F, port, "/api/v1/runs", "-I", NULL, NULL), 200); /* HEAD */
	cr_expect_eq(dh_fetch(&F, port, "/%zz", NULL, NULL, NULL), 400);
	memset(path, 'a', 3000);
	memcpy(path, "/api/v1/", 8);
	path[3000] = '\0';
	cr_expect_eq(dh_fetch(&F, port, path, NULL, NULL, NULL), 414);
	/* A 7 KB header: refused by nng's bounded reader or answered; either way the server
	 * keeps serving. */
	{
		char big[7400];
		snprintf(big, sizeof(big), "-H 'X-Big: ");
		size_t k = strlen(big);
		memset(big + k, 'b', 7000);
		snprintf(big + k + 7000, sizeof(big) - k - 7000, "'");
		int st = dh_fetch(&F, port, "/api/v1/runs", big, NULL, NULL);
		cr_expect(st == 200 || st == 400 || st == 431 || st == 0, "status %d", st);
	}
	cr_expect_eq(dh_fetch(&F, port, "/api/v1/runs", NULL, NULL, NULL), 200);

	/* ---- a published run's results are public ---- */
	snprintf(path, sizeof(path), "/api/v1/runs/%s", run);
	expect_refused(port, path, NULL, "authority token");
	cr_assert_eq(h_cli(&F, &out, "authority", "run publish %s 2>&1", run), 0, "%s", out);
	free(out);
	cr_assert_eq(dh_fetch(&F, port, path, NULL, NULL, &j), 200);
	cr_expect(json_is_string(json_object_get(j, "published")));
	cr_expect_eq(json_array_size(json_object_get(j, "sites")), 3);
	json_decref(j);
	cr_assert_eq(dh_fetch(&F, port, "/api/v1/runs", NULL, NULL, &j), 200);
	cr_expect(json_is_string(
	    json_object_get(json_array_get(json_object_get(j, "runs"), 0), "published")));
	json_decref(j);
}

/* Headless Chromium renders the page: the script ran (runs table filled from the API, results
 * link present for the authority, the leaderboard filled), the injected title is text, and
 * the console stayed clean (a CSP violation or a failed fetch would print there). */
static void browse(int port, const char *query, char **dom, char **console)
{
	char *err = NULL;
	h_run(dom,
	      "cd %s && timeout 60 chromium --headless --no-sandbox --disable-gpu "
	      "--ignore-certificate-errors --user-data-dir=%s/chromium-profile "
	      "--enable-logging=stderr --v=0 --virtual-time-budget=10000 --dump-dom "
	      "'https://127.0.0.1:%d/%s' 2>chromium.err",
	      F.dir, F.dir, port, query);
	h_run(&err, "grep ':CONSOLE' %s/chromium.err", F.dir);
	*console = err;
}

Test(dashboard, page_in_headless_chromium, .fini = teardown, .timeout = 400)
{
	char vid[128], run[128], tok[2048], q[2200], *dom = NULL, *console = NULL, *body = NULL;
	int port = setup_run(2, vid, sizeof(vid), run, sizeof(run));

	/* The page itself: HTML, with a CSP that allows only its own inline script and style. */
	cr_assert_eq(dh_fetch(&F, port, "/", NULL, &body, NULL), 200);
	cr_expect(strstr(body, "<!doctype html>") == body);
	free(body);
	{
		char *hdrs = NULL;
		h_run(&hdrs,
		      "curl -sS -o /dev/null -D - --cacert %s/pki/ca/ca.crt --resolve "
		      "localhost:%d:127.0.0.1 https://localhost:%d/",
		      F.dir, port, port);
		cr_expect(strstr(hdrs, "Content-Security-Policy: default-src 'none'; script-src "
				       "'sha256-"),
			  "%s", hdrs);
		cr_expect(strstr(hdrs, "text/html"), "%s", hdrs);
		free(hdrs);
	}

	/* As an authority. */
	dh_token_cli(&F, "authority", tok, sizeof(tok));
	snprintf(q, sizeof(q), "?token=%s", tok);
	browse(port, q, &dom, &console);
	cr_assert(strstr(dom, "<section id=\"runs\" data-loaded=\"yes\""),
		  "the page script did not fill the runs table:\n%s", dom);
	char want[256];
	snprintf(want, sizeof(want), "<tr data-run=\"%s\">", run);
	cr_expect(strstr(dom, want), "run %s not in the runs table:\n%s", run, dom);
	cr_expect(strstr(dom, " 2/2</span>"), "progress 2/2 not shown:\n%s", dom);
	snprintf(want, sizeof(want), "href=\"#run=%s\">results</a>", run);
	cr_expect(strstr(dom, want), "no results link:\n%s", dom);
	cr_expect(strstr(dom, "signed in as authority authority"), "%s", dom);
	cr_expect(strstr(dom, "<td>hospital-a</td>") && strstr(dom, "<td>hospital-b</td>"),
		  "sites missing:\n%s", dom);
	cr_expect(strstr(dom, "<h3>hf-readmission-30d</h3>"), "leaderboard missing:\n%s", dom);
	cr_expect(strstr(dom, "<section id=\"monitoring\" data-loaded=\"yes\""),
		  "the monitoring section did not load:\n%s", dom);
	/* the injected title is text, not markup */
	cr_expect(strstr(dom, "&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;"), "%s", dom);
	cr_expect(!strstr(dom, "<img src=\"x\""), "markup injected:\n%s", dom);
	cr_expect_str_eq(console, "", "console messages:\n%s", console);
	free(dom);
	free(console);

	/* The results view of the run (hash link), as the link would open it. */
	snprintf(q, sizeof(q), "?token=%s#run=%s", tok, run);
	browse(port, q, &dom, &console);
	cr_expect(strstr(dom, "ok, signature verified"), "no per-site results:\n%s", dom);
	cr_expect(strstr(dom, "Pooled (2 sites)"), "no pooled line:\n%s", dom);
	cr_expect_str_eq(console, "", "console messages:\n%s", console);
	free(dom);
	free(console);

	/* Without a token: public parts only, no failed requests in the console. */
	browse(port, "", &dom, &console);
	cr_assert(strstr(dom, "<section id=\"runs\" data-loaded=\"yes\""), "%s", dom);
	cr_expect(strstr(dom, "authority only"), "%s", dom);
	cr_expect(strstr(dom, "not signed in"), "%s", dom);
	cr_expect(!strstr(dom, "<h3>hf-readmission-30d</h3>"), "leaderboard shown:\n%s", dom);
	cr_expect_str_eq(console, "", "console messages:\n%s", console);
	free(dom);
	free(console);
}
