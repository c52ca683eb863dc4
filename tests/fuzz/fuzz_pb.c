/* fedval fuzz target: fv_pb_unpack (lib/wire/pb.c) of the messages a coordinator and a node
 * unpack from a peer: SiteResult, SubmitResult and Job, each under the full envelope budget and
 * under a tight one (so that the budget's refusal path runs too).
 *
 * Build and run with libFuzzer (clang), from the repository root, after a cmake configure into
 * /work/build-fuzz (for the protoc-c output under gen/):
 *   clang -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
 *         -Iinclude -Ilib -Itests -I/work/build-fuzz/gen tests/fuzz/fuzz_pb.c lib/wire/pb.c \
 *         lib/util/[a-z]*.c /work/build-fuzz/gen/proto/fedval.pb-c.c \
 *         -lprotobuf-c -linih -lm -lpthread -o /tmp/fuzz_pb
 *   mkdir -p /tmp/pb-corpus
 *   /tmp/fuzz_pb -max_len=8192 -max_total_time=120 /tmp/pb-corpus tests/fuzz/corpus/pb
 * tests/unit/wire/test_pb_corpus.c replays tests/fuzz/corpus/pb on every test run.
 * Define FV_FUZZ_NO_MAIN to compile this file into another program without
 * LLVMFuzzerTestOneInput. */
#include "fuzz/fuzz_pb.h"

#include <string.h>

#include "fedval/limits.h"
#include "fedval/util.h"
#include "fedval/wire.h"
#include "fuzz/fuzz_common.h"
#include "fuzz/fuzz_pbwalk.h"

#define PB_ERRS (FUZZ_ERR(FV_EPROTO) | FUZZ_ERR(FV_ELIMIT))

/* Unpack under cap; on success the packed form must unpack again to the same bytes. */
static fv_err fuzz_unpack(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t size,
			  size_t cap)
{
	struct fv_pb *p = NULL, *again = NULL;
	struct fv_diag d = {{0}};
	uint8_t *packed = NULL, *repacked = NULL;
	size_t plen = 0, rlen = 0;
	fv_err e;

	e = fuzz_check_err(fv_pb_unpack(desc, data, size, cap, &p, &d), &d, PB_ERRS);
	if (e != FV_OK)
		return e;
	FUZZ_CHECK(p->msg && p->msg->descriptor == desc && p->used <= p->cap);
	if (!fuzz_pb_has_unknown(p->msg)) {
		FUZZ_CHECK(fv_pb_pack(p->msg, &packed, &plen) == FV_OK);
		FUZZ_CHECK(fuzz_check_err(
			       fv_pb_unpack(desc, packed, plen, FV_MAX_UNPACK_ALLOC, &again, &d),
			       &d, 0) == FV_OK);
		FUZZ_CHECK(fv_pb_pack(again->msg, &repacked, &rlen) == FV_OK);
		FUZZ_CHECK(rlen == plen && memcmp(packed, repacked, plen) == 0);
	}
	if (desc == &fedval__submit_result__descriptor) {
		/* The coordinator goes on to unpack the signed result inside. */
		const Fedval__SubmitResult *s = (const Fedval__SubmitResult *)p->msg;
		fuzz_unpack(&fedval__site_result__descriptor, s->result.data, s->result.len,
			    FV_MAX_UNPACK_ALLOC);
	}
	fv_free(repacked);
	fv_free(packed);
	fv_pb_free(again);
	fv_pb_free(p);
	return e;
}

int fv_fuzz_pb_one(const uint8_t *data, size_t size)
{
	static const ProtobufCMessageDescriptor *const descs[] = {
	    &fedval__site_result__descriptor, &fedval__submit_result__descriptor,
	    &fedval__job__descriptor};
	fv_err best = FV_EPROTO;

	if (size > FV_MAX_ENVELOPE)
		return 0;
	for (size_t i = 0; i < sizeof(descs) / sizeof(descs[0]); i++) {
		if (fuzz_unpack(descs[i], data, size, FV_MAX_UNPACK_ALLOC) == FV_OK)
			best = FV_OK;
		/* A budget smaller than the input: refused as ELIMIT or EPROTO, never a crash. */
		fuzz_unpack(descs[i], data, size, size / 2 + 64);
	}
	fuzz_result(best);
	return 0;
}

#ifndef FV_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fv_fuzz_pb_one(data, size);
}
#endif
