/* Replays the DICOM fuzz seed corpus (tests/fuzz/corpus/dicom) through the fuzz target
 * tests/fuzz/fuzz_dicom.c (fv_dicom_parse, then an accepted image through the image-folder
 * source), with 300 deterministic mutations of each seed, so the corpus and the target's
 * invariants are checked on every test run, with or without libFuzzer. */
#include <criterion/criterion.h>
#include <string.h>

#define FV_FUZZ_NO_MAIN
#include "fuzz/fuzz_dicom.c"
#include "fuzz/fuzz_replay.h"

Test(dicom_corpus, replay, .timeout = 120)
{
	fuzz_replay("dicom", fv_fuzz_dicom_one, 300, 10);
}

Test(dicom_corpus, edge_inputs)
{
	/* Inputs too odd to keep as files: empty, short, a bare preamble and magic. */
	static uint8_t pre[FV_DICOM_MAGIC_END + 8];

	fv_fuzz_dicom_one((const uint8_t *)"", 0);
	fv_fuzz_dicom_one((const uint8_t *)"DICM", 4);
	memcpy(pre + 128, "DICM", 4);
	for (size_t n = 0; n <= sizeof(pre); n++)
		fv_fuzz_dicom_one(pre, n);
	memset(pre + FV_DICOM_MAGIC_END, 0xff, 8);
	fv_fuzz_dicom_one(pre, sizeof(pre));
}
