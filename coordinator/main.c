/* fedval-coordinator: holds benchmarks, frozen models, jobs and results; nodes dial in over
 * mutually authenticated TLS. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "coord.h"
#include "dashboard.h"
#include "schedule.h"
#include "fedval/config.h"
#include "fedval/crypto.h"
#include "fedval/limits.h"
#include "fedval/util.h"

static volatile int stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static const char usage[] =
    "usage: fedval-coordinator --config FILE [--check-config]\n"
    "\n"
    "Serve a fedval federation: benchmarks, frozen model versions, jobs and results.\n"
    "\n"
    "  -c, --config FILE    coordinator configuration (INI; see deploy/coordinator.ini.example)\n"
    "      --check-config   validate the configuration, print the effective settings, exit\n"
    "  -h, --help           this text\n"
    "  -V, --version        print the version\n"
    "\n"
    "Stops cleanly on SIGTERM or SIGINT. Logs go to stderr as key=value lines.\n";

static const char *const known_keys[] = {
    "coordinator.listen",    "coordinator.ca",	      "coordinator.cert",
    "coordinator.key",	     "coordinator.store",     "coordinator.models_dir",
    "coordinator.log_level", "coordinator.parallel",  "coordinator.poll_wait_ms",
    "coordinator.audit_log", "coordinator.dashboard", NULL,
};

struct settings {
	const char *listen, *ca, *cert, *key, *store, *models_dir, *log_level;
	const char *dashboard; /* https://HOST:PORT, or NULL: no dashboard */
	long parallel, poll_wait_ms;
};

static fv_err settings_load(struct fv_config *cfg, struct settings *s, struct fv_diag *d)
{
	fv_err e;
	if ((e = fv_config_check_known(cfg, known_keys, d)) ||
	    (e = fv_config_require(cfg, "coordinator", "listen", &s->listen, d)) ||
	    (e = fv_config_require(cfg, "coordinator", "ca", &s->ca, d)) ||
	    (e = fv_config_require(cfg, "coordinator", "cert", &s->cert, d)) ||
	    (e = fv_config_require(cfg, "coordinator", "key", &s->key, d)) ||
	    (e = fv_config_require(cfg, "coordinator", "store", &s->store, d)) ||
	    (e = fv_config_require(cfg, "coordinator", "models_dir", &s->models_dir, d)) ||
	    (e = fv_config_long(cfg, "coordinator", "parallel", 1024, 1, 65536, &s->parallel, d)) ||
	    (e = fv_config_long(cfg, "coordinator", "poll_wait_ms", FV_POLL_WAIT_MS, 100,
				FV_REQUEST_TIMEOUT_MS - 5000, &s->poll_wait_ms, d)))
		return e;
	s->log_level = fv_config_get(cfg, "coordinator", "log_level");
	if (!s->log_level)
		s->log_level = "info";
	s->dashboard = fv_config_get(cfg, "coordinator", "dashboard");
	if (s->dashboard && strncmp(s->dashboard, "https://", 8) != 0)
		return fv_diag_set(d, FV_EINVAL,
				   "%s: [coordinator] dashboard = '%s' must be an https:// URL",
				   fv_config_path(cfg), s->dashboard);
	if (strncmp(s->listen, "tls+tcp://", 10) != 0)
		return fv_diag_set(d, FV_EINVAL,
				   "%s: [coordinator] listen = '%s' must be a tls+tcp:// URL",
				   fv_config_path(cfg), s->listen);
	return FV_OK;
}

static void raise_nofile(void)
{
	/* Each node holds a connection; 1000 nodes need more than the default 1024 fds. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
					     {"check-config", no_argument, NULL, 'C'},
					     {"help", no_argument, NULL, 'h'},
					     {"version", no_argument, NULL, 'V'},
					     {NULL, 0, NULL, 0}};
	const char *config_path = NULL;
	bool check_only = false;
	struct fv_config *cfg = NULL;
	struct settings s = {0};
	struct coord co = {0};
	struct dashboard *dash = NULL;
	struct scheduler *sched = NULL; /* monitoring schedules (schedule.c) */
	struct fv_cert_info info;
	struct fv_diag d = {{0}};
	char *ca = NULL, *cert = NULL, *key = NULL, *store = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	int c, rc = 1;
	fv_err e;

	while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 'C':
			check_only = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'V':
			puts("fedval-coordinator " FV_VERSION_STRING);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (!config_path || optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	fv_log_set_component("coordinator");
	if ((e = fv_config_load(config_path, &cfg, &d)) || (e = settings_load(cfg, &s, &d)))
		goto fail;
	if (!strcmp(s.log_level, "debug"))
		fv_log_set_level(FV_LOG_DEBUG);
	ca = fv_config_resolve(cfg, s.ca);
	cert = fv_config_resolve(cfg, s.cert);
	key = fv_config_resolve(cfg, s.key);
	store = fv_config_resolve(cfg, s.store);
	co.models_dir = fv_config_resolve(cfg, s.models_dir);
	co.key_path = key;
	co.poll_wait_ms = (int)s.poll_wait_ms;
	if (!ca || !cert || !key || !store || !co.models_dir) {
		e = fv_diag_set(&d, FV_ENOMEM, "out of memory");
		goto fail;
	}
	/* Refuses a group- or world-readable key before anything else happens. */
	if ((e = fv_key_load(key, &co.key, &d)) != FV_OK)
		goto fail;
	if ((e = fv_file_read(ca, FV_MAX_CERT_PEM, &buf, &len, &d)) != FV_OK)
		goto fail;
	co.ca_pem = (char *)buf;
	co.ca_len = len;
	if ((e = fv_file_read(cert, FV_MAX_CERT_PEM, &buf, &len, &d)) != FV_OK)
		goto fail;
	co.cert_pem = (char *)buf;
	if ((e = fv_cert_verify(co.ca_pem, co.ca_len, co.cert_pem, len, &info, &d)) != FV_OK) {
		fv_diag_prefix(&d, "%s: ", cert);
		goto fail;
	}
	if (info.role != FV_ROLE_COORDINATOR) {
		e = fv_diag_set(&d, FV_EINVAL, "%s: certificate role is %s, not coordinator", cert,
				fv_role_name(info.role));
		goto fail;
	}
	fv_strlcpy(co.name, info.name, sizeof(co.name));
	/* What hospitals pin as [policy] coordinator_key. */
	char key_hex[FV_SHA256_HEX];
	{
		uint8_t pub[FV_PUBKEY_MAX];
		size_t plen = 0;
		if ((e = fv_key_public_der(co.key, pub, sizeof(pub), &plen)) != FV_OK) {
			fv_diag_set(&d, e, "%s: cannot encode the public key", key);
			goto fail;
		}
		fv_sha256_hex(pub, plen, key_hex);
	}
	if (check_only) {
		printf("key_sha256    %s (hospitals may pin it: [policy] coordinator_key)\n",
		       key_hex);
		printf("config        %s\nlisten        %s\nca            %s\ncert          %s "
		       "(name %s, role coordinator)\nkey           %s (mode ok)\nstore         %s\n"
		       "models_dir    %s\nparallel      %ld\npoll_wait_ms  %ld\nlog_level     %s\n"
		       "dashboard     %s\n",
		       config_path, s.listen, ca, cert, co.name, key, store, co.models_dir,
		       s.parallel, s.poll_wait_ms, s.log_level, s.dashboard ? s.dashboard : "off");
		rc = 0;
		goto out;
	}
	if ((e = fv_mkdir_p(co.models_dir, 0750, &d)) != FV_OK)
		goto fail;
	if ((e = store_open(store, &co.store, &d)) != FV_OK)
		goto fail;
	coord_sweep_uploads(&co);
	{
		/* Every change is recorded in a hash chain beside the store. */
		const char *al = fv_config_get(cfg, "coordinator", "audit_log");
		char *ap = fv_config_resolve(cfg, al ? al : "coordinator-audit.log");
		e = ap ? fv_audit_open(ap, &co.audit, &d) : FV_ENOMEM;
		if (e == FV_OK)
			coord_audit(&co, "coordinator_start", co.name, FV_VERSION_STRING,
				    strlen(FV_VERSION_STRING));
		fv_log(FV_LOG_INFO, "coordinator_key", "sha256=%s", key_hex);
		fv_free(ap);
		if (e != FV_OK)
			goto fail;
	}
	raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	{
		struct sigaction sa = {0};
		sa.sa_handler = on_signal;
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
	}
	fv_log(FV_LOG_INFO, "starting", "version=%s name=%s store=%s schema=%d", FV_VERSION_STRING,
	       co.name, store, store_schema_version(co.store));
	if (s.dashboard && (e = dashboard_start(&co, s.dashboard, &dash, &d)) != FV_OK)
		goto fail;
	if ((e = scheduler_start(&co, &sched, &d)) != FV_OK)
		goto fail;
	if ((e = coord_serve(&co, s.listen, (int)s.parallel, &stop_flag, &d)) != FV_OK)
		goto fail;
	fv_log(FV_LOG_INFO, "stopped", "status=clean");
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "fedval-coordinator: %s\n", d.msg[0] ? d.msg : fv_strerror(e));
	fv_log(FV_LOG_ERROR, "fatal", "code=%s", fv_strerror(e));
out:
	scheduler_stop(sched); /* before the store and the audit log it writes */
	dashboard_stop(dash);  /* before the store and the key it reads */
	if (co.audit)
		coord_audit(&co, "coordinator_stop", co.name, "", 0);
	fv_audit_close(co.audit);
	store_close(co.store);
	fv_key_free(co.key);
	fv_free(co.ca_pem);
	fv_free(co.cert_pem);
	fv_free(co.models_dir);
	fv_free(ca);
	fv_free(cert);
	fv_free(key);
	fv_free(store);
	fv_config_free(cfg);
	return rc;
}
