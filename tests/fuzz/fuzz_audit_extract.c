/* fedval fuzz target: fv_audit_verify_extract (lib/audit/extract.c, entry.c) on bytes, checked
 * with the public half of the test key that signed the seeds (tests/fuzz/fuzz_key.h), and once
 * more with a key that is not a key.
 *
 * Build and run with libFuzzer (clang), from the repository root:
 *   clang -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
 *         -Iinclude -Ilib -Itests tests/fuzz/fuzz_audit_extract.c lib/audit/[a-z]*.c \
 *         lib/crypto/[a-z]*.c lib/util/[a-z]*.c \
 *         -ljansson -lcrypto -linih -lm -lpthread -o /tmp/fuzz_audit_extract
 *   mkdir -p /tmp/audit_extract-corpus
 *   /tmp/fuzz_audit_extract -max_len=16384 -max_total_time=120 /tmp/audit_extract-corpus \
 *         tests/fuzz/corpus/audit_extract
 * tests/unit/audit/test_audit_extract_corpus.c replays tests/fuzz/corpus/audit_extract on
 * every test run. Define FV_FUZZ_NO_MAIN to compile this file into another program without
 * LLVMFuzzerTestOneInput. */
#include "fuzz/fuzz_audit_extract.h"

#include "fedval/audit.h"
#include "fuzz/fuzz_audit_common.h"
#include "fuzz/fuzz_common.h"
#include "fuzz/fuzz_key.h"

#define EXTRACT_ERRS (FUZZ_ERR(FV_ECORRUPT) | FUZZ_ERR(FV_ELIMIT))

int fv_fuzz_audit_extract_one(const uint8_t *data, size_t size)
{
	static const uint8_t not_a_key[] = {0x30, 0x03, 0x02, 0x01, 0x00};
	struct fv_audit_verdict v;
	struct fv_diag d = {{0}};
	fv_err e, e2;

	e = fuzz_check_err(fv_audit_verify_extract((const char *)data, size, fuzz_test_pub,
						   sizeof(fuzz_test_pub), &v, &d),
			   &d, EXTRACT_ERRS);
	fuzz_result(e);
	fuzz_check_verdict(e, &v);
	d.msg[0] = '\0';
	e2 = fuzz_check_err(
	    fv_audit_verify_extract((const char *)data, size, not_a_key, sizeof(not_a_key), &v, &d),
	    &d, EXTRACT_ERRS | FUZZ_ERR(FV_ECRYPTO) | FUZZ_ERR(FV_EINVAL));
	FUZZ_CHECK(e2 != FV_OK);
	fuzz_check_verdict(e2, &v);
	return 0;
}

#ifndef FV_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fv_fuzz_audit_extract_one(data, size);
}
#endif
