/* Tests lib/wire/envelope.c: sealing, opening and verifying signed envelopes. */
#include "wire_test.h"

#include "fedval/limits.h"

static struct t_pki pki;

static void setup(void)
{
	t_pki_init(&pki);
}

static void teardown(void)
{
	t_pki_fini(&pki);
}

TestSuite(envelope, .init = setup, .fini = teardown);

/* Seal an Error envelope whose message is `text`. */
static void seal_error(const char *text, uint8_t **out, size_t *len)
{
	Fedval__Envelope env = FEDVAL__ENVELOPE__INIT;
	Fedval__Error err = FEDVAL__ERROR__INIT;

	err.code = FV_EINVAL;
	err.message = (char *)text;
	env.body_case = FEDVAL__ENVELOPE__BODY_ERROR;
	env.error = &err;
	cr_assert_eq(fv_wire_seal(&env, "site-a", 1234, pki.key, out, len), FV_OK);
	cr_assert_not(env.has_signature, "seal leaves the caller's envelope unsigned");
}

Test(envelope, seal_open_verify_round_trip)
{
	Fedval__Envelope env = FEDVAL__ENVELOPE__INIT;
	Fedval__PollJobs poll = FEDVAL__POLL_JOBS__INIT;
	struct fv_pb *pb = NULL;
	struct fv_diag d;
	uint8_t *buf = NULL;
	size_t len = 0;
	Fedval__Envelope *got;

	poll.has_wait_ms = 1;
	poll.wait_ms = 25000;
	env.body_case = FEDVAL__ENVELOPE__BODY_POLL;
	env.poll = &poll;
	cr_assert_eq(fv_wire_seal(&env, "site-a", 42, pki.key, &buf, &len), FV_OK);
	cr_assert_eq(fv_wire_open(buf, len, &pb, &d), FV_OK, "%s", d.msg);
	got = fv_wire_env(pb);
	cr_assert_eq(got->version, FV_PROTOCOL_VERSION);
	cr_assert_str_eq(got->principal, "site-a");
	cr_assert_eq(got->seq, 42);
	cr_assert_eq(got->body_case, FEDVAL__ENVELOPE__BODY_POLL);
	cr_assert_eq(got->poll->wait_ms, 25000);
	cr_assert_str_eq(fv_wire_body_name(got->body_case), "poll");
	cr_assert_eq(fv_wire_verify(got, pki.pub, pki.pub_len), FV_OK);
	fv_pb_free(pb);
	fv_free(buf);
}

Test(envelope, tampered_body_fails_verify)
{
	struct fv_pb *pb = NULL;
	uint8_t *buf = NULL, *hit;
	size_t len = 0;

	seal_error("hello world", &buf, &len);
	hit = memmem(buf, len, "hello", 5);
	cr_assert_not_null(hit);
	hit[0] = 'j';
	cr_assert_eq(fv_wire_open(buf, len, &pb, NULL), FV_OK, "still well-formed");
	cr_assert_str_eq(fv_wire_env(pb)->error->message, "jello world");
	cr_assert_eq(fv_wire_verify(fv_wire_env(pb), pki.pub, pki.pub_len), FV_EAUTH);
	fv_pb_free(pb);
	fv_free(buf);
}

Test(envelope, tampered_header_fails_verify)
{
	struct fv_pb *pb = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;

	seal_error("x", &buf, &len);
	cr_assert_eq(fv_wire_open(buf, len, &pb, NULL), FV_OK);
	fv_wire_env(pb)->seq++; /* a replayed message with a new sequence number */
	cr_assert_eq(fv_wire_verify(fv_wire_env(pb), pki.pub, pki.pub_len), FV_EAUTH);
	fv_pb_free(pb);
	fv_free(buf);
}

Test(envelope, wrong_key_fails)
{
	struct fv_key *other = NULL;
	uint8_t pub[FV_PUBKEY_MAX], *buf = NULL;
	size_t pub_len = 0, len = 0;
	struct fv_pb *pb = NULL;

	t_pki_key(&pki, "site-b", &other, pub, &pub_len);
	seal_error("x", &buf, &len);
	cr_assert_eq(fv_wire_open(buf, len, &pb, NULL), FV_OK);
	cr_assert_eq(fv_wire_verify(fv_wire_env(pb), pub, pub_len), FV_EAUTH);
	cr_assert_eq(fv_wire_verify(fv_wire_env(pb), pub, 10), FV_EAUTH, "garbage key");
	fv_pb_free(pb);
	fv_free(buf);
	fv_key_free(other);
}

Test(envelope, signature_removed_fails)
{
	struct fv_pb *pb = NULL;
	uint8_t *buf = NULL, *again = NULL;
	size_t len = 0, alen = 0;
	struct fv_diag d;
	Fedval__Envelope *env;

	seal_error("x", &buf, &len);
	cr_assert_eq(fv_wire_open(buf, len, &pb, NULL), FV_OK);
	env = fv_wire_env(pb);
	env->has_signature = 0;
	cr_assert_eq(fv_wire_verify(env, pki.pub, pki.pub_len), FV_EAUTH);
	/* The same envelope sent without its signature is refused on opening. */
	cr_assert_eq(fv_pb_pack(&env->base, &again, &alen), FV_OK);
	fv_pb_free(pb);
	pb = NULL;
	cr_assert_eq(fv_wire_open(again, alen, &pb, &d), FV_EAUTH);
	cr_assert_null(pb);
	cr_assert_not_null(strstr(d.msg, "not signed"), "%s", d.msg);
	fv_free(again);
	fv_free(buf);
}

/* Pack an envelope by hand (no seal), with a dummy signature. */
static void pack_raw(Fedval__Envelope *env, uint8_t **out, size_t *len)
{
	static uint8_t sig[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	env->has_signature = 1;
	env->signature.data = sig;
	env->signature.len = sizeof(sig);
	cr_assert_eq(fv_pb_pack(&env->base, out, len), FV_OK);
}

Test(envelope, other_version_refused)
{
	Fedval__Envelope env = FEDVAL__ENVELOPE__INIT;
	Fedval__PollJobs poll = FEDVAL__POLL_JOBS__INIT;
	struct fv_pb *pb = NULL;
	struct fv_diag d;
	uint8_t *buf = NULL;
	size_t len = 0;

	env.principal = "site-a";
	env.body_case = FEDVAL__ENVELOPE__BODY_POLL;
	env.poll = &poll;
	const uint32_t versions[] = {0, 2, UINT32_MAX};
	for (size_t i = 0; i < 3; i++) {
		env.version = versions[i];
		pack_raw(&env, &buf, &len);
		cr_assert_eq(fv_wire_open(buf, len, &pb, &d), FV_EUNSUPPORTED, "version %u",
			     versions[i]);
		cr_assert_null(pb);
		cr_assert_not_null(strstr(d.msg, "version"), "%s", d.msg);
		fv_free(buf);
	}
	env.version = 1;
	pack_raw(&env, &buf, &len);
	cr_assert_eq(fv_wire_open(buf, len, &pb, &d), FV_OK, "%s", d.msg);
	fv_pb_free(pb);
	fv_free(buf);
}

Test(envelope, no_body_refused)
{
	Fedval__Envelope env = FEDVAL__ENVELOPE__INIT;
	struct fv_pb *pb = NULL;
	struct fv_diag d;
	uint8_t *buf = NULL;
	size_t len = 0;

	env.version = 1;
	env.principal = "site-a";
	pack_raw(&env, &buf, &len);
	cr_assert_eq(fv_wire_open(buf, len, &pb, &d), FV_EUNSUPPORTED);
	cr_assert_null(pb);
	cr_assert_not_null(strstr(d.msg, "body"), "%s", d.msg);
	fv_free(buf);
}

Test(envelope, long_principal_refused)
{
	Fedval__Envelope env = FEDVAL__ENVELOPE__INIT;
	Fedval__PollJobs poll = FEDVAL__POLL_JOBS__INIT;
	char name[FV_MAX_NAME + 2];
	struct fv_pb *pb = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	env.version = 1;
	env.principal = name;
	env.body_case = FEDVAL__ENVELOPE__BODY_POLL;
	env.poll = &poll;
	pack_raw(&env, &buf, &len);
	cr_assert_eq(fv_wire_open(buf, len, &pb, NULL), FV_ELIMIT);
	fv_free(buf);
}

Test(envelope, oversized_envelope_refused)
{
	uint8_t *big = calloc(1, FV_MAX_ENVELOPE + 1);
	struct fv_pb *pb = NULL;
	cr_assert_eq(fv_wire_open(big, FV_MAX_ENVELOPE + 1, &pb, NULL), FV_ELIMIT);
	cr_assert_null(pb);
	free(big);
}

Test(envelope, random_bytes_refused_without_crash)
{
	uint8_t buf[512];
	uint64_t x = 0x9e3779b97f4a7c15ull;
	struct fv_diag d;

	for (int round = 0; round < 2000; round++) {
		struct fv_pb *pb = NULL;
		size_t len = (size_t)(round % 512) + 1;
		for (size_t i = 0; i < len; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = (uint8_t)x;
		}
		cr_assert_eq(fv_wire_open(buf, len, &pb, &d), FV_EPROTO, "round %d: %s", round,
			     d.msg);
		cr_assert_null(pb);
	}
	cr_assert_eq(fv_wire_open((const uint8_t *)"", 0, &(struct fv_pb *){NULL}, &d), FV_EPROTO,
		     "empty input lacks the required fields");
}

Test(envelope, truncated_bytes_refused)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	struct fv_diag d;

	seal_error("some longer error text so the body is the last, big field", &buf, &len);
	cr_assert_eq(fv_wire_open(buf, len - 1, &(struct fv_pb *){NULL}, &d), FV_EPROTO, "%s",
		     d.msg);
	for (size_t n = 0; n < len; n++) {
		struct fv_pb *pb = NULL;
		uint8_t *copy = malloc(n ? n : 1); /* exact size: ASan sees any over-read */
		fv_err e;
		memcpy(copy, buf, n);
		e = fv_wire_open(copy, n, &pb, &d);
		cr_assert_neq(e, FV_OK, "prefix of %zu bytes accepted", n);
		cr_assert_null(pb);
		free(copy);
	}
	fv_free(buf);
}
