/* Tests lib/wire/pb.c: protobuf unpacking under an allocation budget. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "fedval/limits.h"
#include "fedval/util.h"
#include "fedval/wire.h"

static void disarm(void)
{
	fv_alloc_fail_after(0);
}

TestSuite(pb, .fini = disarm);

/* A StartRunReply with n empty job ids: 2 bytes each on the wire, far more unpacked. */
static void many_ids(size_t n, uint8_t **out, size_t *len)
{
	Fedval__StartRunReply r = FEDVAL__START_RUN_REPLY__INIT;
	char **ids = malloc(n * sizeof(*ids));
	for (size_t i = 0; i < n; i++)
		ids[i] = "";
	r.run_id = "run-1";
	r.n_job_ids = n;
	r.job_ids = ids;
	cr_assert_eq(fv_pb_pack(&r.base, out, len), FV_OK);
	free(ids);
}

Test(pb, unpack_within_budget_and_budget_returns)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	struct fv_pb *p = NULL;
	struct fv_diag d;

	many_ids(10, &buf, &len);
	cr_assert_eq(fv_pb_unpack(&fedval__start_run_reply__descriptor, buf, len, 65536, &p, &d),
		     FV_OK, "%s", d.msg);
	cr_assert(p->used > 0 && p->used <= p->cap);
	cr_assert_eq(((Fedval__StartRunReply *)p->msg)->n_job_ids, 10);
	cr_assert_str_eq(((Fedval__StartRunReply *)p->msg)->run_id, "run-1");
	fv_pb_free(p);
	fv_pb_free(NULL);
	fv_free(buf);
}

Test(pb, over_budget_is_elimit)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	struct fv_pb *p = NULL;
	struct fv_diag d;

	many_ids(1000, &buf, &len);
	cr_assert(len < 4096, "the input itself is small (%zu bytes)", len);
	cr_assert_eq(fv_pb_unpack(&fedval__start_run_reply__descriptor, buf, len, 4096, &p, &d),
		     FV_ELIMIT, "%s", d.msg);
	cr_assert_null(p);
	cr_assert_not_null(strstr(d.msg, "4096"), "%s", d.msg);
	/* A budget far above the input size, but below what unpacking needs. */
	fv_free(buf);
	many_ids(100000, &buf, &len);
	cr_assert_eq(fv_pb_unpack(&fedval__start_run_reply__descriptor, buf, len, 4 * len, &p, &d),
		     FV_ELIMIT, "%s", d.msg);
	cr_assert_eq(fv_pb_unpack(&fedval__start_run_reply__descriptor, buf, len, 64 * len, &p, &d),
		     FV_OK, "%s", d.msg);
	fv_pb_free(p);
	fv_free(buf);
}

Test(pb, envelope_under_size_limit_that_explodes_is_elimit)
{
	/* An envelope just under FV_MAX_ENVELOPE made of ~1M two-byte unknown fields (field 5,
	 * varint 0): protobuf-c keeps each as a 32-byte record plus a copy of its data, well
	 * over FV_MAX_UNPACK_ALLOC. */
	Fedval__Envelope env = FEDVAL__ENVELOPE__INIT;
	Fedval__PollJobs poll = FEDVAL__POLL_JOBS__INIT;
	uint8_t *head = NULL, *buf = malloc(FV_MAX_ENVELOPE);
	size_t hlen = 0, len;
	struct fv_pb *p = NULL;
	struct fv_diag d;

	env.version = 1;
	env.principal = "site-a";
	env.body_case = FEDVAL__ENVELOPE__BODY_POLL;
	env.poll = &poll;
	cr_assert_eq(fv_pb_pack(&env.base, &head, &hlen), FV_OK);
	memcpy(buf, head, hlen);
	len = hlen;
	while (len + 2 <= FV_MAX_ENVELOPE) {
		buf[len++] = 5 << 3;
		buf[len++] = 0;
	}
	cr_assert_eq(fv_wire_open(buf, len, &p, &d), FV_ELIMIT, "%s", d.msg);
	cr_assert_null(p);
	/* The same with a few unknown fields is merely unsigned. */
	cr_assert_eq(fv_wire_open(buf, hlen + 20, &p, &d), FV_EAUTH, "%s", d.msg);
	fv_free(head);
	free(buf);
}

Test(pb, malformed_is_eproto)
{
	const uint8_t bad[] = {0x0a, 0x10, 'a'}; /* length 16, one byte present */
	struct fv_pb *p = NULL;
	struct fv_diag d;
	cr_assert_eq(
	    fv_pb_unpack(&fedval__start_run_reply__descriptor, bad, sizeof(bad), 65536, &p, &d),
	    FV_EPROTO, "%s", d.msg);
	cr_assert_null(p);
	cr_assert_not_null(strstr(d.msg, "malformed"), "%s", d.msg);
}

Test(pb, out_of_memory_is_enomem)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	struct fv_pb *p = NULL;

	many_ids(10, &buf, &len);
	for (long k = 1; k < 6; k++) {
		fv_alloc_fail_after(k);
		cr_assert_eq(
		    fv_pb_unpack(&fedval__start_run_reply__descriptor, buf, len, 65536, &p, NULL),
		    FV_ENOMEM, "allocation %ld", k);
		fv_alloc_fail_after(0);
		cr_assert_null(p);
	}
	fv_free(buf);
}
