/* Replays the audit_log fuzz seed corpus (tests/fuzz/corpus/audit_log) through the fuzz target
 * tests/fuzz/fuzz_audit_log.c (fv_audit_verify_file), with 300 deterministic mutations of each
 * seed, so the corpus and the target's invariants are checked on every test run, with or without
 * libFuzzer. */
#include <criterion/criterion.h>
#include <string.h>

#define FV_FUZZ_NO_MAIN
#include "fuzz/fuzz_audit_log.c"
#include "fuzz/fuzz_replay.h"

Test(audit_log_corpus, replay, .timeout = 120)
{
	fuzz_replay("audit_log", fv_fuzz_audit_log_one, 300, 10);
}

Test(audit_log_corpus, edge_inputs)
{
	/* Inputs too odd to keep as files. */
	static const uint8_t in[][4] = {
	    {0}, {0xff}, {0x0a}, {0x00, 0x00}, {0xff, 0xff, 0xff, 0xff}};
	static const size_t len[] = {1, 1, 1, 2, 4};

	fv_fuzz_audit_log_one((const uint8_t *)"", 0);
	for (size_t i = 0; i < sizeof(len) / sizeof(len[0]); i++)
		fv_fuzz_audit_log_one(in[i], len[i]);
	fv_fuzz_audit_log_one((const uint8_t *)"\n", 1);
	fv_fuzz_audit_log_one((const uint8_t *)"{}", 2);
	fv_fuzz_audit_log_one((const uint8_t *)"{}\n", 3);
}
