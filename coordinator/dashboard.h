/* The coordinator's read-only dashboard: an HTTPS server (nng's HTTP server over TLS with the
 * coordinator's own certificate) serving one HTML page at / and a JSON API under /api/v1.
 * See docs/dashboard.md for the endpoints, the token format and the access rules.
 *
 * Thread-safety: requests are answered on nng's threads; every store query holds the store's
 * lock. Lifecycle: dashboard_start before serving, dashboard_stop before the store and the
 * coordinator's key and certificates are freed (it waits for requests in progress). */
#ifndef FEDVAL_COORD_DASHBOARD_H
#define FEDVAL_COORD_DASHBOARD_H

#include "coord.h"
#include "fedval/err.h"

/* Hostile-input limits of the dashboard (candidates for include/fedval/limits.h). */
#ifndef FV_DASH_MAX_URI
/* Request target (path and query); nng also caps the whole request head at 8 KiB. */
#define FV_DASH_MAX_URI 2048
#endif
#ifndef FV_DASH_MAX_TOKEN
/* A bearer token: a base64url JSON claim of a few dozen bytes plus a DER signature. */
#define FV_DASH_MAX_TOKEN 1024
#endif
#ifndef FV_DASH_MAX_TOKEN_HOURS
/* Longest token lifetime the dashboard accepts (tokens carry no revocation list of their own;
 * revoking the principal in the registry ends them at once). */
#define FV_DASH_MAX_TOKEN_HOURS (24 * 31)
#endif
#ifndef FV_DASH_MAX_RUNS
/* Runs listed by /api/v1/runs (newest first) and pooled by one leaderboard. */
#define FV_DASH_MAX_RUNS 500
#endif

/* Audience claim a dashboard token must carry, so that a signature made for another purpose
 * can never pass as a token. */
#define FV_DASH_TOKEN_AUD "fedval-dashboard"

struct dashboard;

/* Listen on url (https://HOST:PORT; port 0 picks a free port, logged as
 * event=dashboard_listening port=N) with co's certificate and key. co must outlive the
 * dashboard. */
fv_err dashboard_start(struct coord *co, const char *url, struct dashboard **out,
		       struct fv_diag *d);
/* Stop serving and wait for requests in progress; accepts NULL. */
void dashboard_stop(struct dashboard *db);
/* The port actually bound (useful with port 0). */
int dashboard_port(const struct dashboard *db);

#endif
