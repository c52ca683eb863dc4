/* fedval-coordinator internals shared by server.c (sockets, contexts) and handlers.c. */
#ifndef FEDVAL_COORD_H
#define FEDVAL_COORD_H

#include <stdbool.h>
#include <stdint.h>

#include "fedval/audit.h"
#include "fedval/crypto.h"
#include "fedval/limits.h"
#include "fedval/wire.h"
#include "store.h"

struct coord {
	struct store *store;
	struct fv_key *key;
	char name[FV_MAX_NAME + 1]; /* our principal name: CN of our certificate */
	char *cert_pem;
	char *ca_pem;
	size_t ca_len;
	char *models_dir;
	char *key_path; /* re-read only to hand the key to the TLS engine at start */
	int poll_wait_ms;
	struct fv_audit *audit; /* hash-chained record of every change (lib/audit) */
};

struct principal {
	char name[FV_MAX_NAME + 1];
	enum fv_role role;
	uint8_t pub[FV_PUBKEY_MAX];
	size_t pub_len;
	bool revoked;
};

/* Parked polls one principal may hold at once: a node (or a stolen node key) sending polls
 * in a loop cannot take every context from the other sites; further polls are answered at
 * once, empty. */
#define COORD_MAX_PARKED_PER_PRINCIPAL 4

/* One request being answered. Strings and buffers referenced by the reply live in `pool`
 * until the reply is sealed. */
struct req {
	struct coord *co;
	Fedval__Envelope *env; /* valid only inside coord_handle */
	const uint8_t *raw;    /* the signed request bytes, likewise */
	size_t raw_len;
	uint64_t seq; /* the request's sequence number, echoed in the reply */
	struct principal who;
	uint8_t *out; /* sealed reply */
	size_t out_len;
	bool park;	/* a poll with nothing to hand out: answer later */
	int wait_ms;	/* how long a parked poll may wait (the node's wish, capped) */
	bool park_slot; /* holds one of its principal's parked-poll slots */
	void **pool;
	size_t npool, cappool;
};

/* Append an audit entry (event, principal, SHA-256 of payload); failures are logged. */
void coord_audit(struct coord *co, const char *event, const char *principal, const void *payload,
		 size_t len);

/* Authenticate and answer one request; fills r->out or sets r->park. Never fails: errors
 * become signed Error replies. */
void coord_handle(struct coord *co, const uint8_t *buf, size_t len, struct req *r);
/* For a parked poll: if a job is ready for r->who (or final is true), seal the reply. */
bool coord_poll_again(struct coord *co, struct req *r, bool final);
void coord_req_fini(struct req *r);

/* At start: drop uploads left unfinished for FV_UPLOAD_STALE_S and every partial model file
 * (models_dir/<sha256>.part) no unfinished upload owns. Returns the files removed. */
size_t coord_sweep_uploads(struct coord *co);

/* Serve until *stop becomes non-zero. */
fv_err coord_serve(struct coord *co, const char *url, int parallel, volatile int *stop,
		   struct fv_diag *d);

#endif
