/* fedval fuzz target: fv_audit_verify_file (lib/audit/log.c, entry.c) on a hostile log file.
 * The file is a memfd read back through /proc/self/fd/N.
 *
 * Build and run with libFuzzer (clang), from the repository root:
 *   clang -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
 *         -Iinclude -Ilib -Itests tests/fuzz/fuzz_audit_log.c lib/audit/[a-z]*.c \
 *         lib/crypto/[a-z]*.c lib/util/[a-z]*.c \
 *         -ljansson -lcrypto -linih -lm -lpthread -o /tmp/fuzz_audit_log
 *   mkdir -p /tmp/audit_log-corpus
 *   /tmp/fuzz_audit_log -max_len=16384 -max_total_time=120 /tmp/audit_log-corpus \
 *         tests/fuzz/corpus/audit_log
 * tests/unit/audit/test_audit_log_corpus.c replays tests/fuzz/corpus/audit_log on every test
 * run. Define FV_FUZZ_NO_MAIN to compile this file into another program without
 * LLVMFuzzerTestOneInput. */
#include "fuzz/fuzz_audit_log.h"

#include "fedval/audit.h"
#include "fuzz/fuzz_audit_common.h"
#include "fuzz/fuzz_common.h"

int fv_fuzz_audit_log_one(const uint8_t *data, size_t size)
{
	struct fv_audit_verdict v;
	struct fv_diag d = {{0}};
	char path[64];
	int fd = fuzz_memfd(data, size, path, sizeof(path));
	fv_err e;

	e = fuzz_check_err(fv_audit_verify_file(path, &v, &d), &d, FUZZ_ERR(FV_ECORRUPT));
	fuzz_result(e);
	fuzz_check_verdict(e, &v);
	if (e == FV_OK)
		FUZZ_CHECK(v.entries == 0 || v.first_seq == 1);
	else
		FUZZ_CHECK(v.bad_line == v.entries + 1);
	close(fd);
	return 0;
}

#ifndef FV_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fv_fuzz_audit_log_one(data, size);
}
#endif
