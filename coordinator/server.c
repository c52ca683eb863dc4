/* The coordinator's socket: one nng REP socket over tls+tcp, a pool of contexts each with its
 * own aio, so requests are served in parallel and long polls wait without blocking others. */
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/tls/tls.h>
#include <nng/supplemental/util/platform.h>
#include <string.h>

#include "coord.h"
#include "fedval/limits.h"
#include "fedval/util.h"

/* A parked poll re-checks for a job this often (ms). */
#define POLL_RECHECK_MS 200

enum wstate { W_RECV, W_WAIT, W_SEND };

struct worker {
	struct coord *co;
	nng_ctx ctx;
	nng_aio *aio;
	enum wstate state;
	struct req r;
	int64_t deadline_ms;
};

static void recv_next(struct worker *w)
{
	coord_req_fini(&w->r);
	memset(&w->r, 0, sizeof(w->r));
	w->state = W_RECV;
	nng_ctx_recv(w->ctx, w->aio);
}

static void send_reply(struct worker *w)
{
	nng_msg *m = NULL;

	if (!w->r.out || nng_msg_alloc(&m, 0) != 0 ||
	    nng_msg_append(m, w->r.out, w->r.out_len) != 0) {
		/* Nothing to send (sealing failed, logged there): the client times out. */
		if (m)
			nng_msg_free(m);
		recv_next(w);
		return;
	}
	coord_req_fini(&w->r);
	nng_aio_set_msg(w->aio, m);
	w->state = W_SEND;
	nng_ctx_send(w->ctx, w->aio);
}

static void worker_cb(void *arg)
{
	struct worker *w = arg;
	int rv = nng_aio_result(w->aio);
	nng_msg *m;

	switch (w->state) {
	case W_RECV:
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
			return;
		if (rv != 0) {
			recv_next(w);
			return;
		}
		m = nng_aio_get_msg(w->aio);
		coord_handle(w->co, nng_msg_body(m), nng_msg_len(m), &w->r);
		nng_msg_free(m);
		if (w->r.park) {
			w->deadline_ms = fv_mono_ms() + w->r.wait_ms;
			w->state = W_WAIT;
			nng_sleep_aio(POLL_RECHECK_MS, w->aio);
			return;
		}
		send_reply(w);
		return;
	case W_WAIT:
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
			return;
		if (coord_poll_again(w->co, &w->r, fv_mono_ms() >= w->deadline_ms))
			send_reply(w);
		else
			nng_sleep_aio(POLL_RECHECK_MS, w->aio);
		return;
	case W_SEND:
		if (rv != 0) {
			nng_msg_free(nng_aio_get_msg(w->aio));
			if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
				return;
		}
		recv_next(w);
		return;
	}
}

static void pipe_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	nng_sockaddr sa;
	char addr[64] = "?";
	bool verified = false;

	(void)arg;
	if (nng_pipe_get_addr(p, NNG_OPT_REMADDR, &sa) == 0 && sa.s_family == NNG_AF_INET) {
		const uint8_t *ip = (const uint8_t *)&sa.s_in.sa_addr;
		const uint8_t *pp = (const uint8_t *)&sa.s_in.sa_port; /* network order */
		unsigned port = (unsigned)pp[0] << 8 | pp[1];
		fv_fmt(addr, sizeof(addr), "%u.%u.%u.%u:%u", ip[0], ip[1], ip[2], ip[3], port);
	}
	nng_pipe_get_bool(p, NNG_OPT_TLS_VERIFIED, &verified);
	fv_log(FV_LOG_INFO, ev == NNG_PIPE_EV_ADD_POST ? "peer_connected" : "peer_disconnected",
	       "pipe=%u addr=%s tls_verified=%s", nng_pipe_id(p), addr, verified ? "yes" : "no");
}

fv_err coord_serve(struct coord *co, const char *url, int parallel, volatile int *stop,
		   struct fv_diag *d)
{
	nng_socket sock;
	nng_listener l;
	nng_tls_config *tls = NULL;
	struct worker *ws = NULL;
	uint8_t *key = NULL;
	size_t key_len = 0;
	fv_err e = FV_OK;
	int rv, started = 0;

	if ((rv = nng_rep0_open(&sock)) != 0)
		return fv_diag_set(d, FV_EIO, "socket: %s", nng_strerror(rv));
	nng_socket_set_size(sock, NNG_OPT_RECVMAXSZ, FV_MAX_ENVELOPE);
	nng_pipe_notify(sock, NNG_PIPE_EV_ADD_POST, pipe_event, NULL);
	nng_pipe_notify(sock, NNG_PIPE_EV_REM_POST, pipe_event, NULL);
	if ((rv = nng_tls_config_alloc(&tls, NNG_TLS_MODE_SERVER)) != 0 ||
	    (rv = nng_tls_config_auth_mode(tls, NNG_TLS_AUTH_MODE_REQUIRED)) != 0) {
		e = fv_diag_set(d, FV_ECRYPTO, "TLS configuration: %s", nng_strerror(rv));
		goto out;
	}
	if ((rv = nng_tls_config_ca_chain(tls, co->ca_pem, NULL)) != 0) {
		e = fv_diag_set(d, FV_ECRYPTO, "TLS CA: %s", nng_strerror(rv));
		goto out;
	}
	if ((e = fv_file_read(co->key_path, FV_MAX_CERT_PEM, &key, &key_len, d)) != FV_OK)
		goto out;
	rv = nng_tls_config_own_cert(tls, co->cert_pem, (const char *)key, NULL);
	memset(key, 0, key_len);
	if (rv != 0) {
		e = fv_diag_set(d, FV_ECRYPTO, "TLS certificate/key: %s", nng_strerror(rv));
		goto out;
	}
	if ((rv = nng_listener_create(&l, sock, url)) != 0 ||
	    (rv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, tls)) != 0 ||
	    (rv = nng_listener_start(l, 0)) != 0) {
		e = fv_diag_set(d, FV_EIO, "listen on %s: %s", url, nng_strerror(rv));
		goto out;
	}
	if (!(ws = fv_calloc((size_t)parallel, sizeof(*ws)))) {
		e = fv_diag_set(d, FV_ENOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < parallel; i++) {
		ws[i].co = co;
		if ((rv = nng_aio_alloc(&ws[i].aio, worker_cb, &ws[i])) != 0 ||
		    (rv = nng_ctx_open(&ws[i].ctx, sock)) != 0) {
			e = fv_diag_set(d, FV_EIO, "context: %s", nng_strerror(rv));
			goto out;
		}
		started++;
		recv_next(&ws[i]);
	}
	fv_log(FV_LOG_INFO, "listening", "url=%s contexts=%d", url, parallel);
	while (!*stop)
		nng_msleep(100);
	fv_log(FV_LOG_INFO, "shutting_down", "reason=signal");
out:
	nng_close(sock);
	for (int i = 0; ws && i < parallel; i++) {
		if (ws[i].aio) {
			nng_aio_stop(ws[i].aio);
			nng_aio_free(ws[i].aio);
		}
		coord_req_fini(&ws[i].r);
	}
	(void)started;
	fv_free(ws);
	fv_free(key);
	if (tls)
		nng_tls_config_free(tls);
	return e;
}
