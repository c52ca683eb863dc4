/* fedval: the wire. Envelopes (proto/fedval.proto) sealed with the sender's signature, unpacked
 * under a memory cap, model chunks in zstd frames, and the client side of a connection to the
 * coordinator. */
#ifndef FEDVAL_WIRE_H
#define FEDVAL_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fedval/crypto.h"
#include "fedval/err.h"
#include "proto/fedval.pb-c.h"

#define FV_PROTOCOL_VERSION 1

/* A message unpacked under a byte budget; free with fv_pb_free. */
struct fv_pb {
	ProtobufCMessage *msg;
	ProtobufCAllocator alloc;
	size_t used, cap;
};

/* Unpack buf as a message of type desc with at most cap bytes of allocation.
 * FV_EPROTO (malformed) or FV_ELIMIT (over budget) with a message in d. */
fv_err fv_pb_unpack(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
		    size_t cap, struct fv_pb **out, struct fv_diag *d);
void fv_pb_free(struct fv_pb *p);
/* Pack a message into a fresh buffer (fv_free). */
fv_err fv_pb_pack(const ProtobufCMessage *m, uint8_t **out, size_t *len);

/* Fill version, principal and seq, sign with k and pack. The body must already be set. */
fv_err fv_wire_seal(Fedval__Envelope *env, const char *principal, uint64_t seq,
		    const struct fv_key *k, uint8_t **out, size_t *len);
/* Unpack an envelope (capped) and check its protocol version and that a body is present. The
 * signature is not checked here: the receiver first looks up who `principal` is. */
fv_err fv_wire_open(const uint8_t *buf, size_t len, struct fv_pb **out, struct fv_diag *d);
/* Check the envelope's signature with the sender's DER public key. */
fv_err fv_wire_verify(const Fedval__Envelope *env, const uint8_t *pub, size_t pub_len);
static inline Fedval__Envelope *fv_wire_env(struct fv_pb *p)
{
	return (Fedval__Envelope *)p->msg;
}
/* Name of a body case for logs ("poll", "submit_result", ...). */
const char *fv_wire_body_name(Fedval__Envelope__BodyCase c);

/* zstd frame of one chunk; out must hold FV_MODEL_CHUNK_MAX bytes. */
fv_err fv_chunk_compress(const uint8_t *raw, size_t n, uint8_t *out, size_t *out_len);
/* Decompress a frame whose content must be exactly `expect` bytes. */
fv_err fv_chunk_decompress(const uint8_t *frame, size_t n, uint8_t *out, size_t expect);
/* Number of chunks for an artefact of size bytes. */
uint32_t fv_chunk_count(uint64_t size);

/* ---- client side of a connection to the coordinator ---- */
struct fv_client_opts {
	const char *url;       /* tls+tcp://host:port */
	const char *ca_file;   /* federation CA certificate (PEM) */
	const char *cert_file; /* own certificate (PEM) */
	const char *key_file;  /* own private key (PEM, mode 0600) */
	const char *software;  /* e.g. "fedval-node 0.1.0" */
	int timeout_ms;	       /* per request; 0: FV_REQUEST_TIMEOUT_MS */
	/* Optional: hex SHA-256 of the coordinator's DER public key. Enrolment is refused
	 * (FV_EAUTH) with any other coordinator key, even one the federation CA certified. */
	const char *coordinator_key_sha256;
};

struct fv_client;
/* Load credentials and dial synchronously, so that a refused TLS handshake is reported here
 * rather than retried silently. The principal name is the certificate's CN. */
fv_err fv_client_open(const struct fv_client_opts *o, struct fv_client **out, struct fv_diag *d);
void fv_client_close(struct fv_client *c);
/* Abort a call blocked in another thread (e.g. a long poll on SIGTERM); the client can then
 * only be closed. */
void fv_client_interrupt(struct fv_client *c);
/* Enrol (idempotent): send our certificate, check the coordinator's certificate against the
 * federation CA and pin its key for verifying every later reply. */
fv_err fv_client_enrol(struct fv_client *c, struct fv_diag *d);
/* Send req (body set by the caller, header filled here), wait up to timeout_ms (0: default),
 * verify the reply's signature and sequence number. An Error reply becomes its fv_err with
 * the coordinator's message in d. On FV_OK *reply holds the envelope (fv_pb_free). */
fv_err fv_client_call(struct fv_client *c, Fedval__Envelope *req, int timeout_ms,
		      struct fv_pb **reply, struct fv_diag *d);
const char *fv_client_name(const struct fv_client *c);
/* Hex SHA-256 of the coordinator's DER public key, once enrolled ("" before). */
const char *fv_client_coordinator_key(const struct fv_client *c);
const char *fv_client_cert_pem(const struct fv_client *c);
const struct fv_key *fv_client_key(const struct fv_client *c);
/* Next sequence number: strictly increasing across processes of one principal because it is
 * derived from the wall clock in microseconds. */
uint64_t fv_client_next_seq(struct fv_client *c);

#endif
