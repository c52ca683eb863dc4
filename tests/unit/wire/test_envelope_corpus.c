/* Replays the envelope fuzz seed corpus (tests/fuzz/corpus/envelope) through the fuzz target
 * tests/fuzz/fuzz_envelope.c (fv_wire_open, fv_wire_verify), with 300 deterministic mutations of
 * each seed, so the corpus and the target's invariants are checked on every test run, with or
 * without libFuzzer. */
#include <criterion/criterion.h>
#include <string.h>

#define FV_FUZZ_NO_MAIN
#include "fuzz/fuzz_envelope.c"
#include "fuzz/fuzz_replay.h"

Test(envelope_corpus, replay, .timeout = 120)
{
	fuzz_replay("envelope", fv_fuzz_envelope_one, 300, 10);
}

Test(envelope_corpus, edge_inputs)
{
	/* Inputs too odd to keep as files. */
	static const uint8_t in[][4] = {
	    {0}, {0xff}, {0x0a}, {0x00, 0x00}, {0xff, 0xff, 0xff, 0xff}};
	static const size_t len[] = {1, 1, 1, 2, 4};

	fv_fuzz_envelope_one((const uint8_t *)"", 0);
	for (size_t i = 0; i < sizeof(len) / sizeof(len[0]); i++)
		fv_fuzz_envelope_one(in[i], len[i]);
}
