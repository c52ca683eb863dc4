/* fedval report html: render a JSON run report (schema fedval.report/1, from
 * `fedval results --json`) as one self-contained HTML file. Offline: no connection, no
 * profile. The signatures were verified when the JSON was written; this command shows the
 * outcome and does not verify again. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "fedval/report.h"
#include "fedval/util.h"

static const char report_html_usage[] =
    "usage: fedval report html REPORT.json --out REPORT.html [--method reml|dl] [--hk]\n"
    "                          [--level 0.95] [--title TEXT] [--json]\n"
    "\n"
    "Render a run's JSON report (written by `fedval results --json`) as one self-contained\n"
    "HTML file: inline CSS and SVG charts (forest plot of AUROC with a random-effects\n"
    "meta-analysis, operating points in ROC space, observed/expected, prevalence), tables\n"
    "with intervals, methods, provenance (digests, signatures) and a TRIPOD+AI / STARD-AI\n"
    "shaped checklist. No script and no external resource; print it to PDF from a browser.\n"
    "\n"
    "  --out FILE      HTML file to write ('-' = stdout); required\n"
    "  --method M      between-site variance of the pooled AUROC: reml (default) or dl\n"
    "  --hk            Hartung-Knapp-Sidik-Jonkman interval for the pooled AUROC\n"
    "  --level P       interval level in (0, 1) (default 0.95)\n"
    "  --title TEXT    page title (default: \"Validation report: MODEL VERSION\")\n"
    "  --json          print {\"out\", \"bytes\"} as JSON on stdout when done\n"
    "\n"
    "Exit status: 0 written, 1 the report is invalid or cannot be written, 2 bad usage.\n";

int cmd_report_html(int argc, char **argv)
{
	static const struct option opts[] = {{"out", required_argument, NULL, 'o'},
					     {"method", required_argument, NULL, 'm'},
					     {"hk", no_argument, NULL, 'k'},
					     {"level", required_argument, NULL, 'l'},
					     {"title", required_argument, NULL, 't'},
					     {"json", no_argument, NULL, 'j'},
					     {NULL, 0, NULL, 0}};
	struct fv_report_opts o;
	struct fv_diag d = {{0}};
	const char *out = NULL;
	json_t *report = NULL;
	char *html = NULL;
	size_t len = 0;
	int c, bad = 0, rc = CLI_FAIL;
	bool as_json = false;

	if (cli_wants_help(argc, argv, report_html_usage))
		return CLI_OK;
	fv_report_opts_init(&o);
	while ((c = cli_getopt(argc, argv, opts, report_html_usage, &bad)) != -1) {
		if (c == 'o') {
			out = optarg;
		} else if (c == 'm') {
			if (!strcmp(optarg, "reml"))
				o.meta = FV_META_REML;
			else if (!strcmp(optarg, "dl"))
				o.meta = FV_META_DL;
			else
				return cli_usage(report_html_usage,
						 "--method must be reml or dl, not '%s'", optarg);
		} else if (c == 'k') {
			o.hk = 1;
		} else if (c == 'l') {
			if (fv_parse_double(optarg, &o.conf) != FV_OK ||
			    !(o.conf > 0 && o.conf < 1))
				return cli_usage(report_html_usage,
						 "--level must be a number in (0, 1), not '%s'",
						 optarg);
		} else if (c == 't') {
			o.title = optarg;
		} else if (c == 'j') {
			as_json = true;
		}
	}
	if (bad)
		return CLI_USAGE;
	if (optind + 1 != argc)
		return cli_usage(report_html_usage, "report html needs one REPORT.json");
	if (!out)
		return cli_usage(report_html_usage, "report html needs --out FILE");
	if (cli_json_file(argv[optind], &report, &d) != FV_OK)
		goto out;
	if (fv_report_html(report, &o, &html, &len, &d) != FV_OK) {
		fv_diag_prefix(&d, "%s: ", argv[optind]);
		goto out;
	}
	if (!strcmp(out, "-")) {
		if (fwrite(html, 1, len, stdout) != len || fflush(stdout) != 0) {
			fv_diag_set(&d, FV_EIO, "cannot write the HTML to stdout");
			goto out;
		}
	} else if (fv_file_write_atomic(out, html, len, 0644, &d) != FV_OK) {
		goto out;
	}
	if (as_json && strcmp(out, "-") != 0) {
		json_t *j = json_pack("{s:s,s:I,s:s}", "out", out, "bytes", (json_int_t)len,
				      "schema", FV_REPORT_SCHEMA);
		if (j) {
			json_dumpf(j, stdout, JSON_INDENT(2));
			putchar('\n');
		}
		json_decref(j);
	} else if (strcmp(out, "-") != 0) {
		fprintf(stderr, "report written to %s (%zu bytes)\n", out, len);
	}
	rc = CLI_OK;
out:
	if (rc != CLI_OK)
		cli_fail("report html", &d);
	fv_free(html);
	json_decref(report);
	return rc;
}
