/* Replays the summary fuzz seed corpus (tests/fuzz/corpus/summary) through the fuzz target
 * tests/fuzz/fuzz_summary.c (fv_data_summarise), with 200 deterministic mutations of each seed, so
 * the corpus and the target's invariants are checked on every test run, with or without libFuzzer.
 */
#include <criterion/criterion.h>
#include <string.h>

#define FV_FUZZ_NO_MAIN
#include "fuzz/fuzz_summary.c"
#include "fuzz/fuzz_replay.h"

Test(summary_corpus, replay, .timeout = 120)
{
	fuzz_replay("summary", fv_fuzz_summary_one, 200, 10);
}

Test(summary_corpus, edge_inputs)
{
	/* Inputs too odd to keep as files. */
	static const uint8_t in[][4] = {
	    {0}, {0xff}, {0x0a}, {0x00, 0x00}, {0xff, 0xff, 0xff, 0xff}};
	static const size_t len[] = {1, 1, 1, 2, 4};

	fv_fuzz_summary_one((const uint8_t *)"", 0);
	for (size_t i = 0; i < sizeof(len) / sizeof(len[0]); i++)
		fv_fuzz_summary_one(in[i], len[i]);
	fv_fuzz_summary_one((const uint8_t *)"age,crp,y,sex\n", 14);
	fv_fuzz_summary_one((const uint8_t *)"age,crp,y,sex", 13);
}
