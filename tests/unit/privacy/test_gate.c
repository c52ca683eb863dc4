/* Tests lib/privacy/gate.c: the node's one outbound disclosure gate. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fedval/limits.h"
#include "fedval/privacy.h"
#include "fedval/util.h"
#include "fedval/wire.h"
#include "proto/fedval.pb-c.h"

static struct fv_policy pol;
static Fedval__SiteResult res;
static Fedval__ThresholdCounts rows[3], *rowp[3];

/* A correct result under the default policy (min_cell 5, min_cohort 50): n=100, 30 events,
 * three thresholds whose rows each add up to (30, 70). */
static void setup(void)
{
	const uint64_t c[3][4] = {{28, 50, 20, 2}, {20, 15, 55, 10}, {0, 0, 70, 30}};
	fv_policy_default(&pol);
	fedval__site_result__init(&res);
	res.job_id = "job-1";
	res.run_id = "run-1";
	res.node = "site-a";
	res.model_version_id = "abc";
	res.benchmark = "bench@1";
	res.status = 0;
	res.has_n = res.has_n_pos = 1;
	res.n = 100;
	res.n_pos = 30;
	res.has_auc = res.has_auc_var = res.has_brier_sum = res.has_sum_p = 1;
	res.auc = 0.8;
	res.auc_var = 0.001;
	res.brier_sum = 12.5;
	res.sum_p = 29.0;
	res.has_min_cell = 1;
	res.min_cell = 5;
	for (int i = 0; i < 3; i++) {
		fedval__threshold_counts__init(&rows[i]);
		rows[i].threshold = 0.1 + 0.4 * i;
		rows[i].tp = c[i][0];
		rows[i].fp = c[i][1];
		rows[i].tn = c[i][2];
		rows[i].fn = c[i][3];
		rowp[i] = &rows[i];
	}
	/* Row 0 has fn = 2: released suppressed, with its counts zeroed. */
	rows[0].tp = rows[0].fp = rows[0].tn = rows[0].fn = 0;
	rows[0].has_suppressed = rows[0].suppressed = 1;
	res.n_counts = 3;
	res.counts = rowp;
}

TestSuite(gate, .init = setup);

static uint8_t *pack(size_t *len)
{
	uint8_t *b = NULL;
	cr_assert_eq(fv_pb_pack(&res.base, &b, len), FV_OK);
	return b;
}

/* Pack res, append extra bytes and gate the result. */
static fv_err gate_extra(const uint8_t *extra, size_t n_extra, struct fv_diag *d)
{
	size_t len;
	uint8_t *b = pack(&len), *all = malloc(len + n_extra + 1);
	fv_err e;

	memcpy(all, b, len);
	if (n_extra)
		memcpy(all + len, extra, n_extra);
	d->msg[0] = '\0';
	e = fv_privacy_gate(&pol, all, len + n_extra, d);
	fv_free(b);
	free(all);
	return e;
}

static fv_err gate(struct fv_diag *d)
{
	return gate_extra(NULL, 0, d);
}

#define REFUSED(why)                                                                               \
	do {                                                                                       \
		struct fv_diag d_;                                                                 \
		cr_assert_eq(gate(&d_), FV_EREFUSED, "accepted: %s", why);                         \
		cr_assert_neq(d_.msg[0], '\0', "no reason given for: %s", why);                    \
	} while (0)

Test(gate, accepts_a_correct_result)
{
	struct fv_diag d;
	cr_assert_eq(gate(&d), FV_OK, "%s", d.msg);
	res.n_counts = 0;
	res.has_auc = res.has_auc_var = 0;
	cr_assert_eq(gate(&d), FV_OK, "no thresholds, no AUC: %s", d.msg);
}

Test(gate, accepts_boundaries)
{
	struct fv_diag d;
	/* n exactly min_cohort, classes exactly min_cell. */
	res.n = 50;
	res.n_pos = 5;
	res.n_counts = 1;
	rows[0].has_suppressed = rows[0].suppressed = 0;
	rows[0].tp = 5, rows[0].fn = 0, rows[0].fp = 40, rows[0].tn = 5;
	res.auc = 1.0;
	res.brier_sum = res.sum_p = 0;
	cr_assert_eq(gate(&d), FV_OK, "%s", d.msg);
	res.auc = 0.0;
	cr_assert_eq(gate(&d), FV_OK, "%s", d.msg);
}

Test(gate, accepts_a_failed_result_with_reason_only)
{
	struct fv_diag d;
	res.status = 1;
	res.reason = "cohort below the site's minimum cohort size";
	res.has_n = res.has_n_pos = 0;
	res.n_counts = 0;
	res.has_auc = res.has_auc_var = res.has_brier_sum = res.has_sum_p = 0;
	cr_assert_eq(gate(&d), FV_OK, "%s", d.msg);
}

Test(gate, refuses_small_cells)
{
	rows[1].tp = 3; /* tp + fn no longer adds up either; the small cell is found first */
	rows[1].fn = 27;
	REFUSED("tp=3");
	setup();
	rows[1].tp = 26, rows[1].fn = 4;
	REFUSED("fn=4");
	setup();
	rows[1].fp = 1, rows[1].tn = 69;
	REFUSED("fp=1");
	setup();
	rows[1].fp = 66, rows[1].tn = 4;
	REFUSED("tn=4");
}

Test(gate, refuses_suppressed_row_with_counts)
{
	rows[0].tp = 28, rows[0].fp = 50, rows[0].tn = 20, rows[0].fn = 2;
	REFUSED("suppressed row holding counts");
	rows[0].tp = rows[0].fp = rows[0].tn = 0;
	rows[0].fn = 2;
	REFUSED("suppressed row holding one count");
}

Test(gate, refuses_counts_not_adding_up)
{
	rows[1].tp = 21;
	REFUSED("tp + fn != n_pos");
	setup();
	rows[1].tn = 56;
	REFUSED("fp + tn != n - n_pos");
	setup();
	rows[2].tn = 80;
	REFUSED("row 2 negatives");
}

Test(gate, refuses_wrapping_counts)
{
	/* tp + fn == n_pos modulo 2^64: 64 bits of anything per cell. */
	rows[1].tp = UINT64_MAX - 4;
	rows[1].fn = 35;
	REFUSED("tp + fn wraps to n_pos");
	setup();
	rows[1].fp = 0xdeadbeefcafef00dull;
	rows[1].tn = 70 - rows[1].fp;
	REFUSED("fp + tn wraps to n - n_pos");
}

Test(gate, refuses_small_cohort_and_classes)
{
	res.n = 49;
	res.n_pos = 20;
	res.n_counts = 0;
	REFUSED("n below min_cohort");
	setup();
	res.n_counts = 0;
	res.n_pos = 4;
	REFUSED("n_pos below min_cell");
	res.n_pos = 97;
	REFUSED("n - n_pos below min_cell");
	res.n_pos = 101;
	REFUSED("n_pos > n");
	res.n_pos = 30;
	res.has_n = 0;
	REFUSED("no n");
	res.has_n = 1;
	res.has_n_pos = 0;
	REFUSED("no n_pos");
}

Test(gate, refuses_failed_result_with_statistics)
{
	res.status = 1;
	res.reason = "failed";
	res.has_auc = res.has_auc_var = res.has_brier_sum = res.has_sum_p = 0;
	res.n_counts = 0;
	res.has_n_pos = 0;
	REFUSED("failed result with n");
	res.has_n = 0;
	res.has_n_pos = 1;
	REFUSED("failed result with n_pos");
	res.has_n_pos = 0;
	res.n_counts = 1;
	REFUSED("failed result with counts");
	res.n_counts = 0;
	res.has_sum_p = 1;
	REFUSED("failed result with sum_p");
	res.has_sum_p = 0;
	/* counts of site-supplied predictions describe the data too */
	res.has_unmatched_records = 1;
	res.unmatched_records = 1;
	REFUSED("failed result with unmatched records");
	res.has_unmatched_records = 0;
	res.has_duplicate_keys = 1;
	res.duplicate_keys = 1;
	REFUSED("failed result with duplicate keys");
	res.has_duplicate_keys = 0;
	res.has_unused_predictions = 1;
	res.unused_predictions = 9;
	REFUSED("failed result with unused predictions");
	res.has_unused_predictions = 0;
	res.has_site_supplied_predictions = res.site_supplied_predictions = 1;
	REFUSED("failed result marked site-supplied");
	res.has_site_supplied_predictions = 0;
	res.status = 2;
	REFUSED("unknown status");
}

Test(gate, refuses_non_finite_and_out_of_range)
{
	const double bad_auc[] = {NAN, INFINITY, -0.01, 1.01};
	for (int i = 0; i < 4; i++) {
		setup();
		res.auc = bad_auc[i];
		REFUSED("auc");
	}
	setup();
	res.auc_var = NAN;
	REFUSED("auc_var NaN");
	setup();
	res.brier_sum = INFINITY;
	REFUSED("brier_sum inf");
	setup();
	res.sum_p = -INFINITY;
	REFUSED("sum_p -inf");
	setup();
	res.sum_p = NAN;
	REFUSED("sum_p NaN");
}

Test(gate, refuses_oversized_result)
{
	struct fv_diag d;
	size_t len;
	uint8_t *b = pack(&len);
	pol.max_result_bytes = len - 1;
	cr_assert_eq(fv_privacy_gate(&pol, b, len, &d), FV_EREFUSED);
	cr_assert_not_null(strstr(d.msg, "bytes"), "%s", d.msg);
	pol.max_result_bytes = len;
	cr_assert_eq(fv_privacy_gate(&pol, b, len, &d), FV_OK, "%s", d.msg);
	fv_free(b);

	/* A long reason smuggled into a failed result. */
	setup();
	char *why = malloc(FV_MAX_TEXT + 2);
	memset(why, 'r', FV_MAX_TEXT + 1);
	why[FV_MAX_TEXT + 1] = '\0';
	res.status = 1;
	res.reason = why;
	res.has_n = res.has_n_pos = 0;
	res.n_counts = 0;
	res.has_auc = res.has_auc_var = res.has_brier_sum = res.has_sum_p = 0;
	REFUSED("reason over FV_MAX_TEXT");
	free(why);
}

Test(gate, refuses_text_smuggled_into_digest_fields)
{
	struct fv_diag d;
	char hex[65];
	memset(hex, 'a', 64);
	hex[64] = '\0';
	res.dataset_fingerprint = res.mapping_sha256 = res.model_sha256 = hex;
	cr_assert_eq(gate(&d), FV_OK, "%s", d.msg);
	res.dataset_fingerprint = "patient 4711, born 1950-02-03, HIV positive";
	REFUSED("free text in dataset_fingerprint");
	res.dataset_fingerprint = hex;
	res.mapping_sha256 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	REFUSED("upper-case digest");
	res.mapping_sha256 = hex;
	char soft[FV_MAX_NAME + 2];
	memset(soft, 's', sizeof(soft) - 1);
	soft[sizeof(soft) - 1] = '\0';
	res.software = soft;
	REFUSED("software string over FV_MAX_NAME");
}

Test(gate, operating_points_obey_the_row_rules)
{
	struct fv_diag d;
	Fedval__ThresholdCounts row = FEDVAL__THRESHOLD_COUNTS__INIT;
	Fedval__OperatingPoint op = FEDVAL__OPERATING_POINT__INIT, *opp[1] = {&op};
	row.threshold = 0.2;
	row.tp = 24, row.fp = 30, row.tn = 40, row.fn = 6; /* adds up to (30, 70) */
	op.target = "sensitivity";
	op.has_value = 1;
	op.value = 0.8;
	op.counts = &row;
	res.n_operating_points = 1;
	res.operating_points = opp;
	cr_assert_eq(gate(&d), FV_OK, "%s", d.msg);
	row.tp = 26, row.fn = 4;
	REFUSED("an operating point with a cell below the minimum");
	row.tp = 24, row.fn = 6, row.tn = 41;
	REFUSED("operating-point counts not adding up to the cohort");
	row.tn = 40;
	op.target = "patient-4711";
	REFUSED("free text as the target");
	op.target = "declared";
	REFUSED("a declared threshold with a target value");
	op.has_value = 0;
	cr_assert_eq(gate(&d), FV_OK, "%s", d.msg);
	op.counts = NULL;
	REFUSED("an operating point without its row");
	op.counts = &row;
	res.status = 1;
	res.reason = "no data";
	res.has_n = res.has_n_pos = 0;
	res.n_counts = 0;
	res.has_auc = res.has_auc_var = res.has_brier_sum = res.has_sum_p = 0;
	REFUSED("operating points in a failed result");
}

Test(gate, refuses_bytes_that_do_not_decode)
{
	struct fv_diag d;
	size_t len;
	uint8_t *b = pack(&len);
	const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};

	cr_assert_eq(fv_privacy_gate(&pol, b, len - 1, &d), FV_EREFUSED, "truncated");
	cr_assert_eq(fv_privacy_gate(&pol, junk, sizeof(junk), &d), FV_EREFUSED);
	cr_assert_neq(d.msg[0], '\0');
	cr_assert_eq(fv_privacy_gate(&pol, (const uint8_t *)"", 0, &d), FV_EREFUSED,
		     "required fields missing");
	fv_free(b);
}

Test(gate, refuses_unknown_fields)
{
	struct fv_diag d;
	/* Field 99, varint 1. */
	const uint8_t varint[] = {0x98, 0x06, 0x01};
	/* Field 99, length-delimited: the record-level data the gate exists to stop. */
	uint8_t blob[64] = {0x9a, 0x06};
	const char rec[] = "patient=123456 age=54 dx=C50.9";
	blob[2] = (uint8_t)strlen(rec);
	memcpy(blob + 3, rec, strlen(rec));

	cr_assert_eq(gate_extra(varint, sizeof(varint), &d), FV_EREFUSED);
	cr_assert_not_null(strstr(d.msg, "schema"), "%s", d.msg);
	cr_assert_eq(gate_extra(blob, 3 + strlen(rec), &d), FV_EREFUSED);
	cr_assert_not_null(strstr(d.msg, "schema"), "%s", d.msg);

	/* The same inside a threshold row (protobuf-c keeps a length-prefixed unknown field's
	 * bytes after the tag, length included: blob + 2). */
	ProtobufCMessageUnknownField uf = {.tag = 7,
					   .wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED,
					   .len = 1 + strlen(rec),
					   .data = blob + 2};
	rows[1].base.n_unknown_fields = 1;
	rows[1].base.unknown_fields = &uf;
	cr_assert_eq(gate(&d), FV_EREFUSED);
	cr_assert_not_null(strstr(d.msg, "schema"), "%s", d.msg);

	/* And in a failed result, where no statistics are checked. */
	setup();
	res.status = 1;
	res.has_n = res.has_n_pos = 0;
	res.n_counts = 0;
	res.has_auc = res.has_auc_var = res.has_brier_sum = res.has_sum_p = 0;
	cr_assert_eq(gate(&d), FV_OK, "%s", d.msg);
	cr_assert_eq(gate_extra(blob, 3 + strlen(rec), &d), FV_EREFUSED);
}

Test(gate, refuses_overridden_duplicate_fields)
{
	/* Protobuf keeps the last of repeated scalar fields, so an earlier copy of n carries
	 * anything past a check of the decoded message. */
	struct fv_diag d;
	const uint8_t dup_n[] = {0x40, 0xb9, 0x60, /* n = 12345 (hidden) */
				 0x40, 100};	   /* n = 100 (what the checks see) */
	const uint8_t dup_node[] = {0x1a, 4,   'l', 'e', 'a', 'k', 0x1a,
				    6,	  's', 'i', 't', 'e', '-', 'a'};
	cr_assert_eq(gate_extra(dup_n, sizeof(dup_n), &d), FV_EREFUSED);
	cr_assert_neq(d.msg[0], '\0');
	cr_assert_eq(gate_extra(dup_node, sizeof(dup_node), &d), FV_EREFUSED);
}

Test(gate, refuses_oversized_varint_in_small_field)
{
	/* suppressed is a bool and status a uint32: protobuf-c keeps 1 bit / 32 bits of a 64-bit
	 * varint, the bytes on the wire keep all of it. Rebuild the message by hand with
	 * status = 2^32 (decodes as 0). */
	struct fv_diag d;
	size_t len, o = 0;
	uint8_t *b;
	uint8_t all[1024];
	res.status = 0;
	b = pack(&len);
	/* status (field 6, tag 0x30) is packed as 0x30 0x00; find and widen it. */
	for (size_t i = 0; i + 1 < len; i++)
		if (b[i] == 0x30 && b[i + 1] == 0x00) {
			memcpy(all, b, i);
			o = i;
			const uint8_t wide[] = {0x30, 0x80, 0x80, 0x80, 0x80, 0x10};
			memcpy(all + o, wide, sizeof(wide));
			o += sizeof(wide);
			memcpy(all + o, b + i + 2, len - i - 2);
			o += len - i - 2;
			break;
		}
	cr_assert(o > 0, "status field not found");
	cr_assert_eq(fv_privacy_gate(&pol, b, len, &d), FV_OK, "%s", d.msg);
	cr_assert_eq(fv_privacy_gate(&pol, all, o, &d), FV_EREFUSED);
	fv_free(b);
}

Test(gate, out_of_memory_refuses)
{
	size_t len;
	uint8_t *b = pack(&len);
	for (long k = 1; k < 40; k++) {
		fv_err e;
		fv_alloc_fail_after(k);
		e = fv_privacy_gate(&pol, b, len, NULL);
		fv_alloc_fail_after(0);
		if (e == FV_OK)
			break;
		cr_assert_neq(e, FV_OK);
	}
	fv_free(b);
}

Test(cell, cell_ok)
{
	struct fv_policy p;
	fv_policy_default(&p);
	cr_assert_eq(p.min_cell, 5);
	cr_assert(fv_privacy_cell_ok(&p, 0), "0 is released");
	for (uint64_t c = 1; c < 5; c++)
		cr_assert_not(fv_privacy_cell_ok(&p, c), "%llu", (unsigned long long)c);
	cr_assert(fv_privacy_cell_ok(&p, 5));
	cr_assert(fv_privacy_cell_ok(&p, 6));
	cr_assert(fv_privacy_cell_ok(&p, UINT64_MAX));
	p.min_cell = 1;
	cr_assert(fv_privacy_cell_ok(&p, 1));
	p.min_cell = 11;
	cr_assert_not(fv_privacy_cell_ok(&p, 10));
	cr_assert(fv_privacy_cell_ok(&p, 11));
}

Test(cell, confusion_truth_table)
{
	struct fv_policy p;
	fv_policy_default(&p);
	/* Each cell small (2), zero or large (9): released only when no cell is small. */
	const uint64_t vals[3] = {2, 0, 9};
	for (int i = 0; i < 81; i++) {
		int a = i % 3, b = i / 3 % 3, c = i / 9 % 3, e = i / 27 % 3;
		struct fv_confusion cf = {vals[a], vals[b], vals[c], vals[e]};
		int want = a != 0 && b != 0 && c != 0 && e != 0;
		cr_assert_eq(!!fv_privacy_confusion_ok(&p, &cf), want,
			     "tp=%llu fp=%llu tn=%llu fn=%llu", (unsigned long long)cf.tp,
			     (unsigned long long)cf.fp, (unsigned long long)cf.tn,
			     (unsigned long long)cf.fn);
	}
}

/* ---- rounds of a multi-round fit ---- */

static fv_err gate_round(const Fedval__RoundResult *rr, const uint8_t *extra, size_t n_extra)
{
	struct fv_diag d = {{0}};
	uint8_t *b = NULL, *all;
	size_t len = 0;
	fv_err e;
	cr_assert_eq(fv_pb_pack(&rr->base, &b, &len), FV_OK);
	all = malloc(len + n_extra + 1);
	memcpy(all, b, len);
	if (n_extra)
		memcpy(all + len, extra, n_extra);
	e = fv_privacy_gate_round(&pol, all, len + n_extra, &d);
	fv_free(b);
	free(all);
	return e;
}

/* A round carries two gradient sums, four Hessian sums, n and the log-likelihood: every
 * attempt to carry per-record values through it is refused. */
Test(gate, round_results_carry_only_bounded_sums)
{
	double g[2] = {1.5, -0.25}, h[4] = {40, 3, 3, 12}, many[400];
	Fedval__RoundResult rr = FEDVAL__ROUND_RESULT__INIT;
	rr.job_id = "job-1";
	rr.step = 3;
	rr.has_n = rr.has_ll = 1;
	rr.n = 100;
	rr.ll = -55.5;
	rr.n_g = 2;
	rr.g = g;
	rr.n_h = 4;
	rr.h = h;
	cr_assert_eq(gate_round(&rr, NULL, 0), FV_OK);
	/* per-record "gradients": 400 values where a model has at most 16 coefficients */
	for (int i = 0; i < 400; i++)
		many[i] = i * 0.01;
	rr.n_g = 20;
	rr.g = many;
	rr.n_h = 400;
	rr.h = many;
	cr_assert_eq(gate_round(&rr, NULL, 0), FV_EREFUSED, "record-level vector passed");
	rr.n_g = 2;
	rr.g = g;
	rr.n_h = 3;
	rr.h = h;
	cr_assert_eq(gate_round(&rr, NULL, 0), FV_EREFUSED, "Hessian of the wrong size passed");
	rr.n_h = 4;
	rr.n = 10;
	cr_assert_eq(gate_round(&rr, NULL, 0), FV_EREFUSED, "cohort below the minimum passed");
	rr.n = 100;
	g[0] = NAN;
	cr_assert_eq(gate_round(&rr, NULL, 0), FV_EREFUSED, "NaN passed");
	g[0] = 1.5;
	/* an unknown field 15 (varint 7) and a second copy of field 5 (n) hidden after it */
	const uint8_t unknown[] = {0x78, 0x07}, dup_n[] = {0x28, 0x01};
	cr_assert_eq(gate_round(&rr, unknown, sizeof(unknown)), FV_EREFUSED);
	cr_assert_eq(gate_round(&rr, dup_n, sizeof(dup_n)), FV_EREFUSED);
	/* a failed round says why and carries nothing */
	rr.has_status = 1;
	rr.status = 1;
	rr.reason = "failed";
	cr_assert_eq(gate_round(&rr, NULL, 0), FV_EREFUSED, "failed round with sums passed");
	rr.has_n = rr.has_ll = 0;
	rr.n_g = rr.n_h = 0;
	cr_assert_eq(gate_round(&rr, NULL, 0), FV_OK);
}

/* Counts about site-supplied predictions describe records too: each 0 or at least the
 * minimum cell count. */
Test(gate, site_supplied_counts_obey_the_minimum_cell)
{
	struct fv_diag d = {{0}};
	res.has_site_supplied_predictions = res.site_supplied_predictions = 1;
	res.has_unmatched_records = res.has_duplicate_keys = res.has_unused_predictions = 1;
	res.unmatched_records = 16;
	res.duplicate_keys = 6;
	res.unused_predictions = 7;
	cr_assert_eq(gate_extra(NULL, 0, &d), FV_OK, "%s", d.msg);
	res.unused_predictions = 3;
	REFUSED("unused predictions below min_cell");
	res.unused_predictions = 0;
	cr_assert_eq(gate_extra(NULL, 0, &d), FV_OK, "%s", d.msg);
	res.duplicate_keys = 2;
	REFUSED("duplicate keys below min_cell");
}

/* ---- regression, survival and multiclass results ---- */

/* The binary fields of the fixture cleared: what a task result starts from. */
static void as_task(const char *task)
{
	res.task = (char *)task;
	res.n_counts = 0;
	res.has_auc = res.has_auc_var = res.has_brier_sum = res.has_sum_p = 0;
	res.has_n_pos = 0;
}

Test(gate, regression_sums_are_bounded_aggregates)
{
	struct fv_diag d;
	Fedval__RegressionSums g = FEDVAL__REGRESSION_SUMS__INIT;
	g.mean_y = 7.5;
	g.mean_p = 7.1;
	g.syy = 400;
	g.spp = 300;
	g.spy = 250;
	g.sae = 120;
	g.sse = 210;
	as_task("regression");
	res.regression = &g;
	cr_assert_eq(gate(&d), FV_OK, "%s", d.msg);
	res.n = 49; /* below the minimum cohort */
	REFUSED("regression cohort below the minimum");
	res.n = 100;
	g.sse = -1;
	REFUSED("negative sum of squares");
	g.sse = NAN;
	REFUSED("NaN sum");
	g.sse = 210;
	res.has_n_pos = 1; /* a regression has no events */
	REFUSED("n_pos on a regression");
	res.has_n_pos = 0;
	res.n_counts = 3; /* binary rows beside the task's sums */
	REFUSED("threshold rows on a regression");
	res.n_counts = 0;
	res.task = "regression; DROP TABLE";
	REFUSED("unknown task text");
	res.task = NULL;
	REFUSED("task sums without a task");
}

Test(gate, survival_counts_obey_the_cell_rules)
{
	struct fv_diag d;
	Fedval__SurvivalCounts s = FEDVAL__SURVIVAL_COUNTS__INIT;
	s.comparable = 2000;
	s.concordant2 = 2900;
	as_task("survival");
	res.has_n_pos = 1;
	res.n_pos = 30;
	res.survival = &s;
	cr_assert_eq(gate(&d), FV_OK, "%s", d.msg);
	res.n_pos = 3; /* three events: a small cell */
	REFUSED("events below the minimum cell");
	res.n_pos = 97; /* three non-events */
	REFUSED("non-events below the minimum cell");
	res.n_pos = 30;
	s.concordant2 = 4001; /* more than all pairs concordant */
	REFUSED("concordant pairs exceed the comparable ones");
	s.concordant2 = 2900;
	s.comparable = 100 * 99 / 2 + 1; /* more pairs than n records have */
	REFUSED("more comparable pairs than n (n - 1) / 2");
}

Test(gate, multiclass_counts_obey_the_cell_rules)
{
	struct fv_diag d;
	Fedval__MulticlassResult m = FEDVAL__MULTICLASS_RESULT__INIT;
	Fedval__ClassResult c[3], *cp[3];
	uint64_t pred[3][3] = {{30, 5, 5}, {5, 25, 0}, {0, 10, 20}};
	for (int k = 0; k < 3; k++) {
		fedval__class_result__init(&c[k]);
		c[k].index = (uint32_t)k;
		c[k].has_n = 1;
		c[k].n = pred[k][0] + pred[k][1] + pred[k][2];
		c[k].has_auc = c[k].has_auc_var = 1;
		c[k].auc = 0.8;
		c[k].auc_var = 0.002;
		c[k].n_predicted = 3;
		c[k].predicted = pred[k];
		cp[k] = &c[k];
	}
	m.classes = 3;
	m.n_per_class = 3;
	m.per_class = cp;
	as_task("multiclass");
	res.multiclass = &m;
	cr_assert_eq(gate(&d), FV_OK, "%s", d.msg);
	pred[0][1] = 4; /* a confusion cell of 4 records */
	pred[0][0] = 31;
	REFUSED("confusion cell below the minimum");
	pred[0][1] = 5;
	pred[0][0] = 29; /* the row no longer adds up to its class */
	REFUSED("confusion row not adding up");
	pred[0][0] = 30;
	/* one class withheld alone: the cohort minus the others gives it back */
	c[1].has_suppressed = c[1].suppressed = 1;
	c[1].has_n = c[1].has_auc = c[1].has_auc_var = 0;
	c[1].n_predicted = 0;
	REFUSED("exactly one withheld class");
	c[2].has_suppressed = c[2].suppressed = 1;
	c[2].has_n = c[2].has_auc = c[2].has_auc_var = 0;
	c[2].n_predicted = 0;
	cr_assert_eq(gate(&d), FV_OK, "two withheld classes summing to 60: %s", d.msg);
	c[2].has_n = 1; /* a withheld class that still carries its count */
	REFUSED("withheld class with numbers");
	c[2].has_n = 0;
	c[1].index = 2; /* classes out of order */
	REFUSED("class index out of order");
	c[1].index = 1;
	m.classes = 17;
	REFUSED("too many classes");
}
