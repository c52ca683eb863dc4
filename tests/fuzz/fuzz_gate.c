/* fedval fuzz target: fv_privacy_gate (lib/privacy/gate.c), the node's one outbound gate, on
 * arbitrary bytes. Beyond "no crash": whatever the gate lets out is decoded again here and
 * every released count checked against the policy by code that shares nothing with the gate
 * but the protobuf decoder.
 *
 * Build and run with libFuzzer (clang), from the repository root:
 *   clang -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
 *         -Iinclude -Ilib -Itests -I/work/build-fuzz/gen tests/fuzz/fuzz_gate.c \
 *         lib/privacy/gate.c lib/wire/pb.c lib/util/[a-z]*.c \
 *         /work/build-fuzz/gen/proto/fedval.pb-c.c \
 *         -lprotobuf-c -linih -lm -lpthread -o /tmp/fuzz_gate
 *   mkdir -p /tmp/gate-corpus
 *   /tmp/fuzz_gate -max_len=4096 -max_total_time=120 /tmp/gate-corpus tests/fuzz/corpus/gate
 * tests/unit/privacy/test_gate_corpus.c replays tests/fuzz/corpus/gate on every test run.
 * Define FV_FUZZ_NO_MAIN to compile this file into another program without
 * LLVMFuzzerTestOneInput. */
#include "fuzz/fuzz_gate.h"

#include <math.h>
#include <string.h>

#include "fedval/limits.h"
#include "fedval/privacy.h"
#include "fedval/wire.h"
#include "fuzz/fuzz_common.h"

static int cell_ok(const struct fv_policy *p, uint64_t c)
{
	return c == 0 || c >= p->min_cell;
}

static void check_rows(const struct fv_policy *p, Fedval__ThresholdCounts *const *rows, size_t n,
		       uint64_t total, uint64_t pos)
{
	FUZZ_CHECK(n <= FV_MAX_THRESHOLDS);
	for (size_t i = 0; i < n; i++) {
		const Fedval__ThresholdCounts *c = rows[i];
		FUZZ_CHECK(c->base.n_unknown_fields == 0);
		if (c->has_suppressed && c->suppressed) {
			FUZZ_CHECK(c->tp == 0 && c->fp == 0 && c->tn == 0 && c->fn == 0);
			continue;
		}
		FUZZ_CHECK(cell_ok(p, c->tp) && cell_ok(p, c->fp) && cell_ok(p, c->tn) &&
			   cell_ok(p, c->fn));
		FUZZ_CHECK(c->tp <= pos && c->tp + c->fn == pos);
		FUZZ_CHECK(c->fp <= total - pos && c->fp + c->tn == total - pos);
	}
}

/* The policy, checked again on a result the gate accepted. */
/* A released regression, survival or multiclass result: the task's statistics only, every
 * count 0 or at least the minimum, withheld classes never recoverable by subtraction. */
static void check_task(const struct fv_policy *p, const Fedval__SiteResult *r)
{
	FUZZ_CHECK(r->task && r->has_n && r->n >= p->min_cohort && cell_ok(p, r->n));
	FUZZ_CHECK(!r->n_counts && !r->has_auc && !r->has_auc_var && !r->has_brier_sum &&
		   !r->has_sum_p && !r->n_subgroups && !r->n_comparisons && !r->n_operating_points);
	FUZZ_CHECK(!!r->regression + !!r->survival + !!r->multiclass == 1);
	if (r->regression) {
		const Fedval__RegressionSums *g = r->regression;
		FUZZ_CHECK(!strcmp(r->task, "regression") && !r->has_n_pos);
		FUZZ_CHECK(g->syy >= 0 && g->spp >= 0 && g->sae >= 0 && g->sse >= 0);
		FUZZ_CHECK(
		    isfinite(g->mean_y + g->mean_p + g->syy + g->spp + g->spy + g->sae + g->sse));
	} else if (r->survival) {
		FUZZ_CHECK(!strcmp(r->task, "survival") && r->has_n_pos && r->n_pos <= r->n);
		FUZZ_CHECK(cell_ok(p, r->n_pos) && cell_ok(p, r->n - r->n_pos));
		FUZZ_CHECK(r->survival->concordant2 <= 2 * r->survival->comparable);
		FUZZ_CHECK(r->n > UINT32_MAX || r->survival->comparable <= r->n * (r->n - 1) / 2);
	} else {
		const Fedval__MulticlassResult *m = r->multiclass;
		uint64_t rel = 0, withheld = 0;
		FUZZ_CHECK(!strcmp(r->task, "multiclass") && !r->has_n_pos);
		FUZZ_CHECK(m->classes >= 3 && m->classes <= FV_MAX_CLASSES &&
			   m->n_per_class == m->classes);
		for (size_t k = 0; k < m->n_per_class; k++) {
			const Fedval__ClassResult *c = m->per_class[k];
			uint64_t sum = 0;
			if (c->has_suppressed && c->suppressed) {
				FUZZ_CHECK(!c->has_n && !c->has_auc && !c->n_predicted);
				withheld++;
				continue;
			}
			FUZZ_CHECK(c->has_n && c->n <= r->n && cell_ok(p, c->n) &&
				   cell_ok(p, r->n - c->n));
			rel += c->n;
			FUZZ_CHECK(!c->n_predicted || c->n_predicted == m->classes);
			for (size_t j = 0; j < c->n_predicted; j++) {
				FUZZ_CHECK(cell_ok(p, c->predicted[j]) &&
					   c->predicted[j] <= c->n - sum);
				sum += c->predicted[j];
			}
			FUZZ_CHECK(!c->n_predicted || sum == c->n);
		}
		FUZZ_CHECK(rel <= r->n && withheld != 1 && cell_ok(p, r->n - rel));
	}
}

static void check_released(const struct fv_policy *p, const uint8_t *data, size_t size)
{
	struct fv_pb *pb = NULL;
	const Fedval__SiteResult *r;

	FUZZ_CHECK(size <= p->max_result_bytes);
	FUZZ_CHECK(fv_pb_unpack(&fedval__site_result__descriptor, data, size, FV_MAX_UNPACK_ALLOC,
				&pb, NULL) == FV_OK);
	r = (const Fedval__SiteResult *)pb->msg;
	FUZZ_CHECK(r->base.n_unknown_fields == 0 && r->status <= 1);
	FUZZ_CHECK(!r->reason || strlen(r->reason) <= FV_MAX_TEXT);
	if (r->status != 0) {
		FUZZ_CHECK(!r->has_n && !r->has_n_pos && !r->n_counts && !r->has_auc &&
			   !r->n_subgroups && !r->n_comparisons && !r->regression && !r->survival &&
			   !r->multiclass);
		goto out;
	}
	if (r->task || r->regression || r->survival || r->multiclass) {
		check_task(p, r);
		goto out;
	}
	FUZZ_CHECK(r->has_n && r->has_n_pos && r->n_pos <= r->n && r->n >= p->min_cohort);
	FUZZ_CHECK(cell_ok(p, r->n_pos) && cell_ok(p, r->n - r->n_pos));
	check_rows(p, r->counts, r->n_counts, r->n, r->n_pos);
	FUZZ_CHECK(!r->has_auc || (r->auc >= 0 && r->auc <= 1));
	FUZZ_CHECK(!r->has_auc_var || isfinite(r->auc_var));
	FUZZ_CHECK(r->n_subgroups <= FV_MAX_SUBGROUP_RESULTS);
	for (size_t i = 0; i < r->n_subgroups; i++) {
		const Fedval__SubgroupResult *g = r->subgroups[i];
		FUZZ_CHECK(g->base.n_unknown_fields == 0);
		if (g->has_suppressed && g->suppressed) {
			FUZZ_CHECK(!g->has_n && !g->has_n_pos && !g->has_auc && !g->n_counts);
			continue;
		}
		FUZZ_CHECK(g->has_n && g->has_n_pos && g->n_pos <= g->n && g->n <= r->n);
		FUZZ_CHECK(cell_ok(p, g->n) && cell_ok(p, g->n_pos) && cell_ok(p, g->n - g->n_pos));
		FUZZ_CHECK(cell_ok(p, r->n - g->n) && cell_ok(p, r->n_pos - g->n_pos));
		check_rows(p, g->counts, g->n_counts, g->n, g->n_pos);
	}
	FUZZ_CHECK(r->n_comparisons <= FV_MAX_COMPARE);
	for (size_t i = 0; i < r->n_comparisons; i++)
		FUZZ_CHECK(r->comparisons[i]->auc >= 0 && r->comparisons[i]->auc <= 1 &&
			   isfinite(r->comparisons[i]->auc_var));
out:
	fv_pb_free(pb);
}

static fv_err gate(const struct fv_policy *p, const uint8_t *data, size_t size)
{
	struct fv_diag d = {{0}};
	fv_err e = fuzz_check_err(fv_privacy_gate(p, data, size, &d), &d, FUZZ_ERR(FV_EREFUSED));

	if (e == FV_OK)
		check_released(p, data, size);
	return e;
}

int fv_fuzz_gate_one(const uint8_t *data, size_t size)
{
	struct fv_policy def, strict,
	    loose = {.min_cell = 1, .min_cohort = 0, .max_result_bytes = FV_MAX_ENVELOPE};

	fv_policy_default(&def);
	strict = def;
	strict.min_cell = 11;
	fuzz_result(gate(&def, data, size));
	/* A stricter policy never lets out what the default one refused. */
	if (gate(&strict, data, size) == FV_OK)
		FUZZ_CHECK(fuzz_tally.last == FV_OK || size > def.max_result_bytes);
	gate(&loose, data, size);
	return 0;
}

#ifndef FV_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fv_fuzz_gate_one(data, size);
}
#endif
