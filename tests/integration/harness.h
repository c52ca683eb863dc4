/* Integration-test harness: a real federation in a temporary directory. The coordinator, the
 * nodes and the CLI run as separate processes (the binaries of this build) on a loopback port;
 * nothing is mocked. */
#ifndef FEDVAL_TEST_HARNESS_H
#define FEDVAL_TEST_HARNESS_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fedval/crypto.h"
#include "fedval/util.h"

#define H_UNUSED    __attribute__((unused))
#define H_BIN(name) FV_BUILD_DIR "/" name

struct fed {
	char dir[256];
	int port;
	char url[64];
	pid_t coord;
	pid_t nodes[8];
	char node_names[8][32];
	int nnodes;
};

static H_UNUSED void h_write(const char *path, const char *fmt, ...)
{
	va_list ap;
	FILE *f = fopen(path, "w");
	cr_assert(f, "cannot write %s", path);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

/* Read a whole (small) file; "" when absent. Caller frees. */
static H_UNUSED char *h_slurp(const char *path)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	struct fv_diag d;
	if (fv_file_read(path, 64u << 20, &buf, &len, &d) != FV_OK)
		return strdup("");
	return (char *)buf;
}

static H_UNUSED void h_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Run a shell command, capture stdout into *out (may be NULL), stderr into the same when
 * merge. Returns the exit status. */
static H_UNUSED int h_run(char **out, const char *fmt, ...)
{
	char cmd[8192], buf[4096];
	va_list ap;
	FILE *p;
	size_t len = 0, cap = 1, r;
	char *acc = calloc(1, 1);

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	cr_assert(p, "popen %s", cmd);
	while ((r = fread(buf, 1, sizeof(buf), p)) > 0) {
		if (len + r + 1 > cap) {
			cap = (len + r + 1) * 2;
			acc = realloc(acc, cap);
		}
		memcpy(acc + len, buf, r);
		len += r;
		acc[len] = '\0';
	}
	int st = pclose(p);
	if (out)
		*out = acc;
	else
		free(acc);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* Start a program with its stderr (logs) appended to log, in directory cwd. */
static H_UNUSED pid_t h_spawn(const char *cwd, const char *log, char *const argv[])
{
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd < 0 || chdir(cwd) != 0)
			_exit(126);
		dup2(fd, 2);
		dup2(fd, 1);
		close(fd);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* SIGTERM and wait (up to timeout_ms, then SIGKILL). Returns the exit status, or 128+signal. */
static H_UNUSED int h_stop(pid_t pid, int timeout_ms)
{
	int st = 0;
	if (pid <= 0)
		return -1;
	kill(pid, SIGTERM);
	for (int t = 0; t < timeout_ms; t += 50) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		h_sleep_ms(50);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return 255;
}

/* Wait until file path contains needle `count` times. */
static H_UNUSED bool h_wait_log(const char *path, const char *needle, int count, int timeout_ms)
{
	for (int t = 0; t <= timeout_ms; t += 100) {
		char *s = h_slurp(path);
		int n = 0;
		for (const char *p = s; (p = strstr(p, needle)); p++)
			n++;
		free(s);
		if (n >= count)
			return true;
		h_sleep_ms(100);
	}
	return false;
}

static H_UNUSED int h_count(const char *path, const char *needle)
{
	char *s = h_slurp(path);
	int n = 0;
	for (const char *p = s; (p = strstr(p, needle)); p++)
		n++;
	free(s);
	return n;
}

static H_UNUSED void h_issue(struct fed *f, enum fv_role role, const char *name)
{
	struct fv_diag d = {{0}};
	char ca[512], out[512];
	const char *dns[] = {"localhost", NULL};
	snprintf(ca, sizeof(ca), "%s/pki/ca", f->dir);
	snprintf(out, sizeof(out), "%s/pki", f->dir);
	cr_assert(fv_pki_issue(ca, role, name, role == FV_ROLE_COORDINATOR ? dns : NULL, 30, out,
			       &d) == FV_OK,
		  "issue %s: %s", name, d.msg);
}

static H_UNUSED void h_profile(struct fed *f, const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s.ini", f->dir, name);
	h_write(path,
		"[client]\nurl = %s\nca = pki/ca/ca.crt\ncert = pki/%s.crt\nkey = pki/%s.key\n",
		f->url, name, name);
}

/* A loopback port nobody listens on now: the kernel's choice for port 0 (tests run in
 * parallel; a random pick could collide). */
static H_UNUSED int h_free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;
	cr_assert(fd >= 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* A fresh federation directory: CA, coordinator, authority "authority", vendor "vendor". */
static H_UNUSED void h_fed_init(struct fed *f)
{
	struct fv_diag d = {{0}};
	char path[512];

	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/fedval-it-XXXXXX");
	cr_assert(mkdtemp(f->dir));
	f->port = h_free_port();
	snprintf(f->url, sizeof(f->url), "tls+tcp://localhost:%d", f->port);
	snprintf(path, sizeof(path), "%s/pki/ca", f->dir);
	cr_assert(fv_pki_init(path, "test-ca", 30, &d) == FV_OK, "%s", d.msg);
	h_issue(f, FV_ROLE_COORDINATOR, "coordinator");
	h_issue(f, FV_ROLE_AUTHORITY, "authority");
	h_issue(f, FV_ROLE_VENDOR, "vendor");
	h_profile(f, "authority");
	h_profile(f, "vendor");
	snprintf(path, sizeof(path), "%s/coordinator.ini", f->dir);
	h_write(
	    path,
	    "[coordinator]\nlisten = tls+tcp://127.0.0.1:%d\nca = pki/ca/ca.crt\ncert = "
	    "pki/coordinator.crt\nkey = pki/coordinator.key\nstore = coordinator.db\nmodels_dir = "
	    "models\npoll_wait_ms = 2000\n",
	    f->port);
}

/* Run the CLI as `who` (a profile in the federation dir). */
#define h_cli(f, out, who, fmt, ...)                                                               \
	h_run(out, "cd %s && " H_BIN("fedval") " " fmt " --config %s.ini", (f)->dir,               \
	      ##__VA_ARGS__, who)

static H_UNUSED void h_coord_start(struct fed *f)
{
	char log[512];
	char *argv[] = {H_BIN("fedval-coordinator"), "--config", "coordinator.ini", NULL};
	snprintf(log, sizeof(log), "%s/coordinator.log", f->dir);
	f->coord = h_spawn(f->dir, log, argv);
	for (int i = 0; i < 100; i++) {
		if (h_run(NULL,
			  "cd %s && " H_BIN("fedval") " run status --config authority.ini "
						      "2>&1",
			  f->dir) == 0)
			return;
		h_sleep_ms(100);
	}
	cr_assert_fail("coordinator did not come up; log:\n%s", h_slurp(log));
}

/* Add a node with data file `csv` (copied path) and extra INI text; issue its certificate. */
static H_UNUSED int h_node_add(struct fed *f, const char *name, const char *csv,
			       const char *extra_ini)
{
	char path[512];
	int i = f->nnodes++;
	snprintf(f->node_names[i], sizeof(f->node_names[i]), "%s", name);
	h_issue(f, FV_ROLE_NODE, name);
	snprintf(path, sizeof(path), "%s/%s.node.ini", f->dir, name);
	h_write(
	    path,
	    "[node]\ncoordinator = %s\nca = pki/ca/ca.crt\ncert = pki/%s.crt\nkey = pki/%s.key\n"
	    "cache_dir = %s.cache\nstate_dir = %s.state\npoll_wait_ms = 2000\nreconnect_max_ms = "
	    "2000\n\n[data]\npath = "
	    "%s\n\n%s",
	    f->url, name, name, name, name, csv, extra_ini ? extra_ini : "");
	return i;
}

static H_UNUSED void h_node_start(struct fed *f, int i)
{
	char log[512], cfg[512];
	snprintf(log, sizeof(log), "%s/%s.log", f->dir, f->node_names[i]);
	snprintf(cfg, sizeof(cfg), "%s.node.ini", f->node_names[i]);
	char *argv[] = {H_BIN("fedval-node"), "--config", cfg, NULL};
	int before = h_count(log, "event=enrolled");
	f->nodes[i] = h_spawn(f->dir, log, argv);
	cr_assert(h_wait_log(log, "event=enrolled", before + 1, 20000),
		  "node %s did not enrol:\n%s", f->node_names[i], h_slurp(log));
}

/* Stop every daemon still running; each must exit 0 on SIGTERM (under ASan this also catches
 * leaks and memory errors in the daemons, which exit non-zero then). */
static H_UNUSED void h_fed_stop(struct fed *f)
{
	int rc;
	for (int i = 0; i < f->nnodes; i++) {
		if (f->nodes[i] > 0) {
			rc = h_stop(f->nodes[i], 30000);
			cr_expect_eq(rc, 0, "node %s exited with status %d (log %s/%s.log)",
				     f->node_names[i], rc, f->dir, f->node_names[i]);
		}
		f->nodes[i] = 0;
	}
	if (f->coord > 0) {
		rc = h_stop(f->coord, 30000);
		cr_expect_eq(rc, 0, "coordinator exited with status %d (log %s/coordinator.log)",
			     rc, f->dir);
	}
	f->coord = 0;
}

static H_UNUSED void h_fed_cleanup(struct fed *f)
{
	h_fed_stop(f);
	if (!getenv("FEDVAL_KEEP_TEST_DIRS") && f->dir[0])
		h_run(NULL, "rm -rf %s", f->dir);
}

/* Last line of s (trimmed), e.g. an id printed by the CLI. */
static H_UNUSED void h_last_line(const char *s, char *out, size_t cap)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		n--;
	size_t b = n;
	while (b && s[b - 1] != '\n')
		b--;
	snprintf(out, cap, "%.*s", (int)(n - b), s + b);
}

#endif
