/* fedval verify: re-verify a JSON report offline, with nothing but the federation's CA
 * certificate: every site's certificate and signature over its exact result bytes, that the
 * numbers shown are those bytes' numbers, the vendor's signature over the manifest, the
 * manifest's digest as version id, and (optionally) the model file's digest. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "fedval/crypto.h"
#include "fedval/data.h"
#include "fedval/limits.h"
#include "fedval/util.h"

static const char verify_usage[] =
    "usage: fedval verify REPORT.json --ca CA.crt [--model MODEL.onnx] [--json]\n"
    "\n"
    "Re-verify a report written by 'fedval results --json' without the coordinator: each\n"
    "site's certificate (federation CA, role node, its name), its signature over the exact\n"
    "result bytes, that the report's numbers are those bytes' numbers; the vendor's\n"
    "certificate and signature over the canonical manifest, the manifest's SHA-256 as the\n"
    "version id and its model_sha256; with --model, the file's SHA-256. Exit 0 when every\n"
    "check holds, 1 otherwise (each failure is printed).\n";

struct checks {
	int ok, failed;
	json_t *list;
	bool print;
};

static void check(struct checks *c, const char *what, bool ok, const char *why)
{
	if (ok)
		c->ok++;
	else
		c->failed++;
	json_array_append_new(
	    c->list, json_pack("{s:s,s:b,s:s}", "check", what, "ok", ok, "reason", ok ? "" : why));
	if (c->print)
		printf("  %-4s %s%s%s\n", ok ? "ok" : "FAIL", what, ok ? "" : ": ", ok ? "" : why);
}

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static void verify_site(struct checks *c, const char *ca, size_t ca_len, const json_t *site,
			const json_t *report)
{
	const char *node = str(site, "node"), *pem = str(site, "node_cert_pem");
	const char *hex = str(site, "result_hex"), *sighex = str(site, "signature");
	struct fv_cert_info info;
	struct fv_diag d = {{0}};
	uint8_t sig[FV_SIG_MAX];
	size_t blen = strlen(hex) / 2, slen = strlen(sighex) / 2;
	uint8_t *bytes = fv_alloc(blen + 1);
	char what[160], sha[FV_SHA256_HEX];
	struct fv_pb *pb = NULL;

	fv_fmt(what, sizeof(what), "site %s: certificate", node);
	bool cert_ok = fv_cert_verify(ca, ca_len, pem, strlen(pem), &info, &d) == FV_OK &&
		       info.role == FV_ROLE_NODE && !strcmp(info.name, node);
	check(c, what, cert_ok, d.msg[0] ? d.msg : "not the node's certificate");
	fv_fmt(what, sizeof(what), "site %s: signature over the result bytes", node);
	bool sig_ok = cert_ok && bytes && slen <= FV_SIG_MAX &&
		      fv_unhex(hex, bytes, blen) == FV_OK && fv_unhex(sighex, sig, slen) == FV_OK &&
		      fv_verify(info.pub, info.pub_len, bytes, blen, sig, slen) == FV_OK;
	check(c, what, sig_ok, "does not verify");
	if (sig_ok) {
		fv_sha256_hex(bytes, blen, sha);
		fv_fmt(what, sizeof(what), "site %s: result_sha256", node);
		check(c, what, !strcmp(sha, str(site, "result_sha256")), "differs from the bytes");
	}
	if (sig_ok && fv_pb_unpack(&fedval__site_result__descriptor, bytes, blen,
				   FV_MAX_UNPACK_ALLOC, &pb, &d) == FV_OK) {
		const Fedval__SiteResult *r = (Fedval__SiteResult *)pb->msg;
		const json_t *auc = json_object_get(json_object_get(site, "auroc"), "estimate");
		bool same = !strcmp(r->run_id, str(json_object_get(report, "run"), "run_id")) &&
			    !strcmp(r->model_version_id,
				    str(json_object_get(report, "model"), "version_id")) &&
			    !strcmp(r->node, node);
		if (!r->status)
			same = same &&
			       (uint64_t)json_integer_value(json_object_get(site, "n")) == r->n &&
			       (uint64_t)json_integer_value(json_object_get(site, "n_pos")) ==
				   r->n_pos &&
			       (!r->has_auc || fabs(json_real_value(auc) - r->auc) < 1e-9);
		fv_fmt(what, sizeof(what), "site %s: report numbers are the signed numbers", node);
		check(c, what, same, "the report differs from the signed result");
		const json_t *sum = json_object_get(site, "data_summary");
		if (sum) {
			/* the dataset summary shown is the one the signed result names */
			char fp[65];
			bool bound = r->dataset_fingerprint &&
				     fv_data_summary_fingerprint(sum, fp, NULL) == FV_OK &&
				     !strcmp(fp, r->dataset_fingerprint);
			fv_fmt(what, sizeof(what), "site %s: data summary is the one signed", node);
			check(
			    c, what, bound,
			    "its fingerprint differs from the signed result's dataset_fingerprint");
		}
		fv_pb_free(pb);
	}
	fv_free(bytes);
}

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {{"ca", required_argument, NULL, 'a'},
					     {"model", required_argument, NULL, 'm'},
					     {"json", no_argument, NULL, 'j'},
					     {NULL, 0, NULL, 0}};
	const char *ca_path = NULL, *model = NULL;
	bool as_json = false;
	struct fv_diag d = {{0}};
	struct checks c = {0};
	uint8_t *ca = NULL, *bytes = NULL, sig[FV_SIG_MAX];
	size_t ca_len = 0, len = 0;
	json_t *rep = NULL, *m, *s;
	char sha[FV_SHA256_HEX];
	int o, bad = 0;
	size_t i;

	if (cli_wants_help(argc, argv, verify_usage))
		return CLI_OK;
	while ((o = cli_getopt(argc, argv, opts, verify_usage, &bad)) != -1) {
		if (o == 'a')
			ca_path = optarg;
		else if (o == 'm')
			model = optarg;
		else if (o == 'j')
			as_json = true;
	}
	if (bad)
		return CLI_USAGE;
	if (optind + 1 != argc || !ca_path)
		return cli_usage(verify_usage, "verify needs REPORT.json and --ca");
	if (cli_json_file(argv[optind], &rep, &d) != FV_OK ||
	    fv_file_read(ca_path, FV_MAX_CERT_PEM, &ca, &ca_len, &d) != FV_OK)
		return cli_fail("verify", &d);
	c.list = json_array();
	c.print = !as_json;
	if (c.print)
		printf("report %s\n", argv[optind]);
	m = json_object_get(rep, "model");
	{
		const char *pem = str(m, "vendor_cert_pem"), *man = str(m, "manifest_canonical");
		const char *sighex = str(m, "vendor_signature");
		struct fv_cert_info info;
		size_t slen = strlen(sighex) / 2;
		bool cert_ok =
		    fv_cert_verify((char *)ca, ca_len, pem, strlen(pem), &info, &d) == FV_OK &&
		    info.role == FV_ROLE_VENDOR && !strcmp(info.name, str(m, "vendor"));
		check(&c, "vendor certificate", cert_ok,
		      d.msg[0] ? d.msg : "not the vendor's certificate");
		check(&c, "vendor signature over the manifest",
		      cert_ok && slen <= FV_SIG_MAX && fv_unhex(sighex, sig, slen) == FV_OK &&
			  fv_verify(info.pub, info.pub_len, man, strlen(man), sig, slen) == FV_OK,
		      "does not verify");
		fv_sha256_hex(man, strlen(man), sha);
		check(&c, "version id = SHA-256 of the manifest",
		      !strcmp(sha, str(m, "version_id")), "differs");
		json_t *mj = json_loads(man, 0, NULL);
		check(&c, "manifest names the model's SHA-256",
		      !strcmp(str(mj, "model_sha256"), str(m, "onnx_sha256")), "differs");
		json_decref(mj);
	}
	if (model) {
		if (fv_file_read(model, FV_MAX_MODEL_BYTES, &bytes, &len, &d) == FV_OK) {
			fv_sha256_hex(bytes, len, sha);
			check(&c, "model file SHA-256", !strcmp(sha, str(m, "onnx_sha256")),
			      "the file is not the evaluated model");
		} else {
			check(&c, "model file readable", false, d.msg);
		}
		fv_free(bytes);
	}
	json_array_foreach(json_object_get(rep, "sites"), i, s)
	{
		if (json_object_get(s, "result_hex"))
			verify_site(&c, (char *)ca, ca_len, s, rep);
		else
			check(&c, str(s, "node"), false,
			      "the report carries no signed result bytes");
	}
	if (as_json) {
		json_t *j = json_pack("{s:I,s:I,s:O}", "ok", (json_int_t)c.ok, "failed",
				      (json_int_t)c.failed, "checks", c.list);
		json_dumpf(j, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(j);
	} else {
		printf("%d checks ok, %d failed\n", c.ok, c.failed);
	}
	json_decref(c.list);
	json_decref(rep);
	fv_free(ca);
	return c.failed ? CLI_FAIL : CLI_OK;
}
