/* fedval fuzz target: a received envelope (lib/wire/envelope.c, pb.c): fv_wire_open, then the
 * signature check against the test key and a re-pack that must open again to the same bytes.
 *
 * Build and run with libFuzzer (clang), from the repository root, after a cmake configure into
 * /work/build-fuzz (for the protoc-c output under gen/):
 *   clang -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
 *         -Iinclude -Ilib -Itests -I/work/build-fuzz/gen tests/fuzz/fuzz_envelope.c \
 *         lib/wire/envelope.c lib/wire/pb.c lib/crypto/[a-z]*.c lib/util/[a-z]*.c \
 *         /work/build-fuzz/gen/proto/fedval.pb-c.c \
 *         -lprotobuf-c -lcrypto -linih -lm -lpthread -o /tmp/fuzz_envelope
 *   mkdir -p /tmp/envelope-corpus
 *   /tmp/fuzz_envelope -max_len=8192 -max_total_time=120 /tmp/envelope-corpus \
 *         tests/fuzz/corpus/envelope
 * tests/unit/wire/test_envelope_corpus.c replays tests/fuzz/corpus/envelope on every test run.
 * Define FV_FUZZ_NO_MAIN to compile this file into another program without
 * LLVMFuzzerTestOneInput. */
#include "fuzz/fuzz_envelope.h"

#include <string.h>

#include "fedval/limits.h"
#include "fedval/util.h"
#include "fedval/wire.h"
#include "fuzz/fuzz_common.h"
#include "fuzz/fuzz_key.h"
#include "fuzz/fuzz_pbwalk.h"

#define OPEN_ERRS                                                                                  \
	(FUZZ_ERR(FV_EPROTO) | FUZZ_ERR(FV_ELIMIT) | FUZZ_ERR(FV_EUNSUPPORTED) | FUZZ_ERR(FV_EAUTH))

int fv_fuzz_envelope_one(const uint8_t *data, size_t size)
{
	struct fv_pb *p = NULL, *again = NULL;
	struct fv_diag d = {{0}};
	Fedval__Envelope *env;
	uint8_t *packed = NULL, *repacked = NULL;
	size_t plen = 0, rlen = 0;
	fv_err e, v;

	e = fuzz_check_err(fv_wire_open(data, size, &p, &d), &d, OPEN_ERRS);
	fuzz_result(e);
	if (e != FV_OK)
		return 0;
	FUZZ_CHECK(p->used <= p->cap);
	env = fv_wire_env(p);
	FUZZ_CHECK(env->version == FV_PROTOCOL_VERSION);
	FUZZ_CHECK(env->principal && strlen(env->principal) <= FV_MAX_NAME);
	FUZZ_CHECK(env->has_signature && env->signature.len > 0 &&
		   env->signature.len <= FV_SIG_MAX);
	FUZZ_CHECK(env->body_case != FEDVAL__ENVELOPE__BODY__NOT_SET);
	FUZZ_CHECK(strcmp(fv_wire_body_name(env->body_case), "none") != 0);

	/* The signature either verifies with the test key or is refused as EAUTH. */
	v = fuzz_check_err(fv_wire_verify(env, fuzz_test_pub, sizeof(fuzz_test_pub)), NULL,
			   FUZZ_ERR(FV_EAUTH) | FUZZ_ERR(FV_ENOMEM));
	fuzz_result(v);

	/* What protobuf-c packs from the decoded message opens again, and is a fixed point
	 * (unknown fields aside: tests/fuzz/fuzz_pbwalk.h). */
	FUZZ_CHECK(fv_pb_pack(&env->base, &packed, &plen) == FV_OK);
	if (plen <= FV_MAX_ENVELOPE && !fuzz_pb_has_unknown(&env->base)) {
		FUZZ_CHECK(fuzz_check_err(fv_wire_open(packed, plen, &again, &d), &d, 0) == FV_OK);
		FUZZ_CHECK(fv_pb_pack(&fv_wire_env(again)->base, &repacked, &rlen) == FV_OK);
		FUZZ_CHECK(rlen == plen && memcmp(packed, repacked, plen) == 0);
		/* The signed bytes do not depend on how the fields were encoded on the wire. */
		FUZZ_CHECK(
		    fv_wire_verify(fv_wire_env(again), fuzz_test_pub, sizeof(fuzz_test_pub)) == v);
	}
	fv_free(repacked);
	fv_free(packed);
	fv_pb_free(again);
	fv_pb_free(p);
	return 0;
}

#ifndef FV_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fv_fuzz_envelope_one(data, size);
}
#endif
