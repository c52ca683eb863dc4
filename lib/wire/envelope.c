#include "fedval/limits.h"
#include "fedval/util.h"
#include "fedval/wire.h"

#include <string.h>

/* Domain separation: an envelope signature can never be replayed as a signature over some
 * other artefact (a manifest, a result), which are signed over different bytes. */
static const char sig_context[] = "fedval-envelope-v1";

/* The bytes a signature covers: context string, NUL, envelope packed without signature. */
static fv_err signed_bytes(const Fedval__Envelope *env, uint8_t **out, size_t *len)
{
	Fedval__Envelope copy = *env;
	size_t n, ctx = sizeof(sig_context);
	uint8_t *b;

	copy.has_signature = 0;
	copy.signature.len = 0;
	copy.signature.data = NULL;
	n = fedval__envelope__get_packed_size(&copy);
	b = fv_alloc(ctx + n);
	if (!b)
		return FV_ENOMEM;
	memcpy(b, sig_context, ctx);
	*len = ctx + fedval__envelope__pack(&copy, b + ctx);
	*out = b;
	return FV_OK;
}

fv_err fv_wire_seal(Fedval__Envelope *env, const char *principal, uint64_t seq,
		    const struct fv_key *k, uint8_t **out, size_t *len)
{
	uint8_t sig[FV_SIG_MAX];
	size_t siglen = sizeof(sig), n = 0;
	uint8_t *msg = NULL;
	fv_err e;

	env->version = FV_PROTOCOL_VERSION;
	env->principal = (char *)principal;
	env->seq = seq;
	env->has_signature = 0;
	if ((e = signed_bytes(env, &msg, &n)) != FV_OK)
		goto out;
	if ((e = fv_sign(k, msg, n, sig, &siglen)) != FV_OK)
		goto out;
	env->has_signature = 1;
	env->signature.data = sig;
	env->signature.len = siglen;
	e = fv_pb_pack(&env->base, out, len);
	env->signature.data = NULL;
	env->signature.len = 0;
	env->has_signature = 0;
out:
	fv_free(msg);
	return e;
}

fv_err fv_wire_open(const uint8_t *buf, size_t len, struct fv_pb **out, struct fv_diag *d)
{
	struct fv_pb *p = NULL;
	Fedval__Envelope *env;
	fv_err e;

	if (len > FV_MAX_ENVELOPE)
		return fv_diag_set(d, FV_ELIMIT, "envelope of %zu bytes exceeds %u", len,
				   FV_MAX_ENVELOPE);
	e = fv_pb_unpack(&fedval__envelope__descriptor, buf, len, FV_MAX_UNPACK_ALLOC, &p, d);
	if (e != FV_OK)
		return e;
	env = fv_wire_env(p);
	if (env->version != FV_PROTOCOL_VERSION) {
		e = fv_diag_set(d, FV_EUNSUPPORTED,
				"protocol version %u not supported (this side speaks %d)",
				env->version, FV_PROTOCOL_VERSION);
		goto fail;
	}
	if (env->body_case == FEDVAL__ENVELOPE__BODY__NOT_SET) {
		e = fv_diag_set(d, FV_EUNSUPPORTED, "envelope has no body this version understands");
		goto fail;
	}
	if (!env->has_signature || env->signature.len == 0 || env->signature.len > FV_SIG_MAX) {
		e = fv_diag_set(d, FV_EAUTH, "envelope is not signed");
		goto fail;
	}
	if (strnlen(env->principal, FV_MAX_NAME + 1) > FV_MAX_NAME) {
		e = fv_diag_set(d, FV_ELIMIT, "principal name longer than %d", FV_MAX_NAME);
		goto fail;
	}
	*out = p;
	return FV_OK;
fail:
	fv_pb_free(p);
	return e;
}

fv_err fv_wire_verify(const Fedval__Envelope *env, const uint8_t *pub, size_t pub_len)
{
	uint8_t *msg = NULL;
	size_t n = 0;
	fv_err e;

	if (!env->has_signature)
		return FV_EAUTH;
	if ((e = signed_bytes(env, &msg, &n)) != FV_OK)
		return e;
	e = fv_verify(pub, pub_len, msg, n, env->signature.data, env->signature.len);
	fv_free(msg);
	return e == FV_OK ? FV_OK : FV_EAUTH;
}

const char *fv_wire_body_name(Fedval__Envelope__BodyCase c)
{
	const ProtobufCFieldDescriptor *f =
	    protobuf_c_message_descriptor_get_field(&fedval__envelope__descriptor, (unsigned)c);
	return f ? f->name : "none";
}
