#include "fedval/crypto.h"
#include "fedval/limits.h"
#include "fedval/util.h"
#include "fedval/wire.h"

#include <ctype.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>
#include <stdatomic.h>
#include <string.h>

struct fv_client {
	nng_socket sock;
	bool sock_open;
	nng_tls_config *tls;
	struct fv_key *key;
	char *cert_pem;
	char *ca_pem;
	size_t ca_len;
	char name[FV_MAX_NAME + 1];
	uint8_t coord_pub[FV_PUBKEY_MAX]; /* pinned at enrolment */
	size_t coord_pub_len;
	char coord_key_hex[FV_SHA256_HEX]; /* its SHA-256 */
	char pin[FV_SHA256_HEX];	   /* the key the node's policy requires, or "" */
	int timeout_ms;
	uint64_t last_seq;
};

const char *fv_client_name(const struct fv_client *c)
{
	return c->name;
}

const char *fv_client_coordinator_key(const struct fv_client *c)
{
	return c->coord_key_hex;
}

const char *fv_client_cert_pem(const struct fv_client *c)
{
	return c->cert_pem;
}

const struct fv_key *fv_client_key(const struct fv_client *c)
{
	return c->key;
}

uint64_t fv_client_next_seq(struct fv_client *c)
{
	uint64_t now = (uint64_t)fv_now_us();
	c->last_seq = now > c->last_seq ? now : c->last_seq + 1;
	return c->last_seq;
}

/* Host part of tls+tcp://host:port, for the TLS server name. */
static fv_err url_host(const char *url, char *host, size_t cap)
{
	const char *p = strstr(url, "://");
	const char *end;
	size_t n;

	if (!p)
		return FV_EINVAL;
	p += 3;
	if (*p == '[') {
		p++;
		end = strchr(p, ']');
	} else {
		end = strrchr(p, ':');
	}
	if (!end || end == p)
		return FV_EINVAL;
	n = (size_t)(end - p);
	if (n >= cap)
		return FV_ELIMIT;
	memcpy(host, p, n);
	host[n] = '\0';
	return FV_OK;
}

fv_err fv_client_open(const struct fv_client_opts *o, struct fv_client **out, struct fv_diag *d)
{
	struct fv_client *c = fv_calloc(1, sizeof(*c));
	struct fv_cert_info info;
	uint8_t *buf = NULL;
	size_t len = 0;
	char host[256];
	fv_err e;
	int rv;

	if (!c)
		return fv_diag_set(d, FV_ENOMEM, "out of memory");
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : FV_REQUEST_TIMEOUT_MS;
	if (o->coordinator_key_sha256) {
		const char *k = o->coordinator_key_sha256;
		size_t i, n = strlen(k);
		for (i = 0; n == FV_SHA256_HEX - 1 && i < n && isxdigit((unsigned char)k[i]); i++)
			c->pin[i] = (char)tolower((unsigned char)k[i]);
		if (n != FV_SHA256_HEX - 1 || i != n) {
			e = fv_diag_set(d, FV_EINVAL,
					"coordinator key pin '%.80s' is not a SHA-256 in hex (64 "
					"digits)",
					k);
			goto fail;
		}
	}
	if (strncmp(o->url, "tls+tcp://", 10) != 0) {
		e = fv_diag_set(d, FV_EINVAL, "coordinator url '%s' must start with tls+tcp://",
				o->url);
		goto fail;
	}
	if ((e = url_host(o->url, host, sizeof(host))) != FV_OK) {
		e = fv_diag_set(d, FV_EINVAL, "coordinator url '%s' has no host:port", o->url);
		goto fail;
	}
	if ((e = fv_key_load(o->key_file, &c->key, d)) != FV_OK)
		goto fail;
	if ((e = fv_file_read(o->cert_file, FV_MAX_CERT_PEM, &buf, &len, d)) != FV_OK)
		goto fail;
	c->cert_pem = (char *)buf;
	buf = NULL;
	if ((e = fv_file_read(o->ca_file, FV_MAX_CERT_PEM, &buf, &len, d)) != FV_OK)
		goto fail;
	c->ca_pem = (char *)buf;
	c->ca_len = len;
	buf = NULL;
	/* Our own certificate must be one the coordinator will accept; say so now, not after a
	 * handshake that fails without a reason. */
	if ((e = fv_cert_verify(c->ca_pem, c->ca_len, c->cert_pem, strlen(c->cert_pem), &info,
				d)) != FV_OK) {
		fv_diag_prefix(d, "%s: ", o->cert_file);
		goto fail;
	}
	fv_strlcpy(c->name, info.name, sizeof(c->name));

	if ((rv = nng_tls_config_alloc(&c->tls, NNG_TLS_MODE_CLIENT)) != 0 ||
	    (rv = nng_tls_config_auth_mode(c->tls, NNG_TLS_AUTH_MODE_REQUIRED)) != 0 ||
	    (rv = nng_tls_config_ca_file(c->tls, o->ca_file)) != 0 ||
	    (rv = nng_tls_config_server_name(c->tls, host)) != 0) {
		e = fv_diag_set(d, FV_ECRYPTO, "TLS configuration: %s", nng_strerror(rv));
		goto fail;
	}
	if ((e = fv_file_read(o->key_file, FV_MAX_CERT_PEM, &buf, &len, d)) != FV_OK)
		goto fail;
	rv = nng_tls_config_own_cert(c->tls, c->cert_pem, (const char *)buf, NULL);
	memset(buf, 0, len);
	fv_free(buf);
	buf = NULL;
	if (rv != 0) {
		e = fv_diag_set(d, FV_ECRYPTO, "TLS own certificate/key: %s", nng_strerror(rv));
		goto fail;
	}
	if ((rv = nng_req0_open(&c->sock)) != 0) {
		e = fv_diag_set(d, FV_EIO, "socket: %s", nng_strerror(rv));
		goto fail;
	}
	c->sock_open = true;
	/* No automatic resend: a resent request would carry a used sequence number. Callers
	 * retry with a fresh envelope instead, and every request is idempotent. */
	nng_socket_set_ms(c->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, FV_MAX_ENVELOPE);
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMINT, 100);
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMAXT, 5000);
	if ((rv = nng_socket_set_ptr(c->sock, NNG_OPT_TLS_CONFIG, c->tls)) != 0) {
		e = fv_diag_set(d, FV_EIO, "socket TLS option: %s", nng_strerror(rv));
		goto fail;
	}
	/* Synchronous dial: a refused handshake or an absent coordinator is reported now. */
	if ((rv = nng_dial(c->sock, o->url, NULL, 0)) != 0) {
		e = fv_diag_set(d, rv == NNG_ECONNREFUSED ? FV_EIO : FV_ECRYPTO,
				"cannot connect to %s: %s", o->url, nng_strerror(rv));
		if (rv == NNG_ECONNREFUSED || rv == NNG_EADDRINVAL || rv == NNG_ETIMEDOUT ||
		    rv == NNG_ECONNRESET || rv == NNG_ECLOSED)
			e = FV_EIO;
		goto fail;
	}
	*out = c;
	return FV_OK;
fail:
	fv_free(buf);
	fv_client_close(c);
	return e;
}

void fv_client_close(struct fv_client *c)
{
	if (!c)
		return;
	if (c->sock_open)
		nng_close(c->sock);
	if (c->tls)
		nng_tls_config_free(c->tls);
	fv_key_free(c->key);
	fv_free(c->cert_pem);
	fv_free(c->ca_pem);
	fv_free(c);
}

void fv_client_interrupt(struct fv_client *c)
{
	/* nng_close aborts a blocked send or receive with NNG_ECLOSED; closing again later in
	 * fv_client_close is harmless. */
	if (c && c->sock_open)
		nng_close(c->sock);
}

static fv_err call_raw(struct fv_client *c, Fedval__Envelope *req, int timeout_ms, bool verify,
		       struct fv_pb **reply, struct fv_diag *d)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	uint64_t seq = fv_client_next_seq(c);
	nng_msg *msg = NULL;
	struct fv_pb *rp = NULL;
	Fedval__Envelope *env;
	fv_err e;
	int rv;

	if ((e = fv_wire_seal(req, c->name, seq, c->key, &buf, &len)) != FV_OK)
		return fv_diag_set(d, e, "sealing request: %s", fv_strerror(e));
	nng_socket_set_ms(c->sock, NNG_OPT_RECVTIMEO, timeout_ms > 0 ? timeout_ms : c->timeout_ms);
	nng_socket_set_ms(c->sock, NNG_OPT_SENDTIMEO, c->timeout_ms);
	rv = nng_send(c->sock, buf, len, 0);
	fv_free(buf);
	if (rv != 0)
		return fv_diag_set(d, rv == NNG_ETIMEDOUT ? FV_ETIMEDOUT : FV_EIO, "send: %s",
				   nng_strerror(rv));
	if ((rv = nng_recvmsg(c->sock, &msg, 0)) != 0)
		return fv_diag_set(d, rv == NNG_ETIMEDOUT ? FV_ETIMEDOUT : FV_EIO,
				   "no reply from coordinator: %s", nng_strerror(rv));
	e = fv_wire_open(nng_msg_body(msg), nng_msg_len(msg), &rp, d);
	nng_msg_free(msg);
	if (e != FV_OK) {
		fv_diag_prefix(d, "reply: ");
		return e;
	}
	env = fv_wire_env(rp);
	if (env->seq != seq) {
		e = fv_diag_set(d, FV_EAUTH, "reply answers request %llu, not %llu",
				(unsigned long long)env->seq, (unsigned long long)seq);
		goto fail;
	}
	if (verify && fv_wire_verify(env, c->coord_pub, c->coord_pub_len) != FV_OK) {
		e = fv_diag_set(d, FV_EAUTH, "reply is not signed by the enrolled coordinator");
		goto fail;
	}
	if (env->body_case == FEDVAL__ENVELOPE__BODY_ERROR) {
		uint32_t code = env->error->code;
		e = code > 0 && code < FV_ERR_COUNT ? (fv_err)code : FV_EPROTO;
		fv_diag_set(d, e, "%s", env->error->message);
		goto fail;
	}
	*reply = rp;
	return FV_OK;
fail:
	fv_pb_free(rp);
	return e;
}

fv_err fv_client_enrol(struct fv_client *c, struct fv_diag *d)
{
	Fedval__Envelope req = FEDVAL__ENVELOPE__INIT;
	Fedval__EnrolRequest body = FEDVAL__ENROL_REQUEST__INIT;
	struct fv_cert_info info;
	struct fv_pb *rp = NULL;
	Fedval__Envelope *env;
	const char *pem;
	fv_err e;

	body.cert_pem = c->cert_pem;
	body.software = "fedval " FV_VERSION_STRING;
	req.body_case = FEDVAL__ENVELOPE__BODY_ENROL;
	req.enrol = &body;
	/* The reply's signature can only be checked once we know the coordinator's key, which
	 * this very reply carries: check its certificate against the CA first, then the
	 * signature with the key it holds. */
	if ((e = call_raw(c, &req, 0, false, &rp, d)) != FV_OK)
		return e;
	env = fv_wire_env(rp);
	if (env->body_case != FEDVAL__ENVELOPE__BODY_ENROL_REPLY) {
		e = fv_diag_set(d, FV_EPROTO, "enrol: unexpected reply %s",
				fv_wire_body_name(env->body_case));
		goto out;
	}
	pem = env->enrol_reply->coordinator_cert_pem;
	if ((e = fv_cert_verify(c->ca_pem, c->ca_len, pem, strlen(pem), &info, d)) != FV_OK) {
		fv_diag_prefix(d, "coordinator certificate: ");
		goto out;
	}
	if (info.role != FV_ROLE_COORDINATOR) {
		e = fv_diag_set(d, FV_EAUTH, "enrol: peer certificate role is %s, not coordinator",
				fv_role_name(info.role));
		goto out;
	}
	if (fv_wire_verify(env, info.pub, info.pub_len) != FV_OK) {
		e = fv_diag_set(d, FV_EAUTH,
				"enrol: reply signature does not match the coordinator "
				"certificate");
		goto out;
	}
	char hex[FV_SHA256_HEX];
	fv_sha256_hex(info.pub, info.pub_len, hex);
	if (c->pin[0] && strcmp(hex, c->pin) != 0) {
		e = fv_diag_set(d, FV_EAUTH,
				"enrol: the coordinator's key %s is not the one this site pinned "
				"(coordinator_key = %s)",
				hex, c->pin);
		goto out;
	}
	memcpy(c->coord_pub, info.pub, info.pub_len);
	c->coord_pub_len = info.pub_len;
	memcpy(c->coord_key_hex, hex, sizeof(hex));
out:
	fv_pb_free(rp);
	return e;
}

fv_err fv_client_call(struct fv_client *c, Fedval__Envelope *req, int timeout_ms,
		      struct fv_pb **reply, struct fv_diag *d)
{
	if (c->coord_pub_len == 0)
		return fv_diag_set(d, FV_ESTATE, "not enrolled with the coordinator");
	return call_raw(c, req, timeout_ms, true, reply, d);
}
