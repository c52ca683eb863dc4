/* A malicious coordinator for integration tests: it speaks the real wire protocol (nng REP over
 * tls+tcp on 127.0.0.1, envelopes sealed with the coordinator's key and certificate of the
 * test PKI, the messages of proto/fedval.proto) but builds whatever jobs a test asks for,
 * including ones the real coordinator's validation refuses, and can answer with forged or
 * replayed envelopes. It records what the node sends back (results, rounds, decisions) so a
 * test can check that every attack was refused or released only in disclosure-safe form.
 *
 * One thread serves one REP socket; a node is served in the order its requests arrive. Jobs are
 * offered once each, in the order they were queued. */
#ifndef FEDVAL_EVIL_COORDINATOR_H
#define FEDVAL_EVIL_COORDINATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fedval/err.h"
#include "fedval/wire.h"

struct evil;

/* Credentials of the coordinator (its certificate must carry role coordinator and the DNS
 * name the node dials) and of the federation CA, all PEM files. */
struct evil_opts {
	int port; /* listens on tls+tcp://127.0.0.1:port */
	const char *ca_file;
	const char *cert_file;
	const char *key_file;
};

fv_err evil_start(const struct evil_opts *o, struct evil **out, struct fv_diag *d);
/* Stop serving, join the thread, free everything (NULL is fine). */
void evil_stop(struct evil *e);

/* A model version as a vendor would have submitted it: the canonical manifest (vendor name and
 * model_sha256 filled in, as `fedval model submit` does), signed with the signer's key. The
 * chunks the fake serves are `bytes` (which a test may alter after the signature). */
struct evil_model {
	char *manifest;	 /* canonical JSON */
	char *cert_pem;	 /* the signer's certificate */
	char vendor[65]; /* ModelRef.vendor (the signer's CN unless a test changes it) */
	char version_id[FV_SHA256_HEX];
	char sha256[FV_SHA256_HEX]; /* of the bytes the vendor signed */
	uint8_t sig[FV_SIG_MAX];
	size_t sig_len;
	uint8_t *bytes; /* served as chunks under sha256 */
	size_t len;
};

/* Build m from a manifest file, an ONNX file and a signer (key and certificate files, the
 * certificate issued by the CA in ca_file). */
fv_err evil_model_load(struct evil_model *m, const char *manifest_file, const char *onnx_file,
		       const char *key_file, const char *cert_file, const char *ca_file,
		       struct fv_diag *d);
void evil_model_fini(struct evil_model *m);

/* Serve m's bytes (a copy) under m->sha256 from now on, replacing earlier bytes. */
fv_err evil_serve_model(struct evil *e, const struct evil_model *m);

/* Queue a job for the next poll: benchmark_json is sent as is (the real coordinator stores
 * only specs it validated; this one does not). round may be NULL. The job is packed at once,
 * so the arguments may go after the call. */
fv_err evil_queue_job(struct evil *e, const char *job_id, const char *run_id,
		      const char *benchmark_json, const struct evil_model *m,
		      const Fedval__RoundRequest *round);

/* How the next poll reply that carries a job (or, for EVIL_FORGE_ENROL, the next enrolment
 * reply) is forged. The job it carries is lost, as it would be with a real forger. */
enum evil_forgery {
	EVIL_HONEST = 0,
	EVIL_WRONG_KEY,	   /* sealed with another federation member's key */
	EVIL_STALE_SEQ,	   /* seq of an earlier request of the node */
	EVIL_REPLAY,	   /* the bytes of the last job-carrying poll reply, sent again */
	EVIL_FORGE_ENROL,  /* enrolment answered with a non-coordinator certificate and key */
	EVIL_GARBAGE_REPLY /* bytes that are no envelope */
};
/* key_file, cert_file: the other member (EVIL_WRONG_KEY, EVIL_FORGE_ENROL). */
fv_err evil_forge_next(struct evil *e, enum evil_forgery f, const char *key_file,
		       const char *cert_file, struct fv_diag *d);
/* Replies forged so far. */
int evil_forged(struct evil *e);

/* What the node sent back for a job. */
enum evil_kind { EVIL_NONE = 0, EVIL_RESULT, EVIL_ROUND, EVIL_DECISION };
struct evil_outcome {
	enum evil_kind kind;
	bool signature_ok; /* result: the node's signature over the bytes verifies */
	uint8_t *bytes;	   /* RESULT: packed SiteResult; ROUND: packed RoundResult */
	size_t len;
	char decision[16]; /* DECISION: held | vetoed */
	char reason[1024]; /* DECISION: its reason */
};

/* Wait up to timeout_ms for the first outcome for job_id (and take it). Returns false on
 * timeout. out->bytes is the caller's (free()). */
bool evil_wait(struct evil *e, const char *job_id, int timeout_ms, struct evil_outcome *out);
/* Outcomes received for job_id so far (taken or not). */
int evil_count(struct evil *e, const char *job_id);
/* Requests received, and requests whose envelope signature by the node did not verify. */
int evil_requests(struct evil *e, int *bad_signatures);

#endif
