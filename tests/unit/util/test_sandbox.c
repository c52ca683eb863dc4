/* Tests lib/util/sandbox.c. Each test forks a child that enters the sandbox and does one thing;
 * the parent judges by waitpid: exit 0 = the allowed work ran and checked out, exit k = check k
 * failed, SIGSYS = the filter killed the child. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fedval/sandbox.h"
#include "fedval/util.h"

#if defined(__SANITIZE_ADDRESS__)
#define ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN 1
#endif
#endif
#ifndef ASAN
#define ASAN 0
#endif

typedef int (*child_fn)(void *arg);

/* Fork; in the child enter the sandbox with o and exit with fn's result (100 if entering
 * failed). Returns the wait status. */
static int run(const struct fv_sandbox_opts *o, child_fn fn, void *arg)
{
	int status = 0;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct fv_diag d = {{0}};
		if (fv_sandbox_enter(o, &d) != FV_OK) {
			fprintf(stderr, "%s\n", d.msg);
			_exit(100);
		}
		_exit(fn(arg));
	}
	while (waitpid(pid, &status, 0) < 0)
		cr_assert_eq(errno, EINTR);
	return status;
}

static void expect_ok(int status)
{
	cr_assert(WIFEXITED(status), "child killed by signal %d",
		  WIFSIGNALED(status) ? WTERMSIG(status) : -1);
	cr_assert_eq(WEXITSTATUS(status), 0, "child check %d failed", WEXITSTATUS(status));
}

static void expect_killed(int status)
{
	cr_assert(WIFSIGNALED(status), "child was not killed (exit %d)",
		  WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	cr_assert_eq(WTERMSIG(status), SIGSYS, "killed by signal %d, not SIGSYS", WTERMSIG(status));
}

/* Both deny modes must kill: the silent one and the reporting one. */
static void expect_killed_both(struct fv_sandbox_opts o, child_fn fn, void *arg)
{
	o.report = false;
	expect_killed(run(&o, fn, arg));
	o.report = true;
	expect_killed(run(&o, fn, arg));
}

/* ---- allowed work ---- */

static int do_memory(void *arg)
{
	size_t big = 64u << 20;
	char *p = malloc(big), *q;
	void *small[1000];

	(void)arg;
	if (!p)
		return 1;
	memset(p, 0x5a, big);
	if (!(q = realloc(p, 2 * big))) /* mremap */
		return 2;
	if (q[big - 1] != 0x5a)
		return 3;
	free(q);
	for (size_t i = 0; i < 1000; i++)
		if (!(small[i] = fv_alloc(16 + i)))
			return 4;
	for (size_t i = 0; i < 1000; i++)
		fv_free(small[i]);
	if (!(p = calloc(1000, 4096)) || p[4095] != 0)
		return 5;
	free(p);
	return 0;
}

Test(sandbox, malloc_big_and_small)
{
	expect_ok(run(NULL, do_memory, NULL));
}

struct shared {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done;
	double sum;
};

static void *thread_main(void *arg)
{
	struct shared *s = arg;
	double *v = malloc(100000 * sizeof(double)), acc = 0;
	struct timespec ts = {0, 1000000};
	if (!v)
		return NULL;
	for (size_t i = 0; i < 100000; i++)
		acc += (v[i] = (double)i);
	nanosleep(&ts, NULL);
	free(v);
	pthread_mutex_lock(&s->mu);
	s->sum += acc;
	s->done++;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static int do_threads(void *arg)
{
	struct shared s = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
	pthread_t t[8];
	(void)arg;
	for (int i = 0; i < 8; i++)
		if (pthread_create(&t[i], NULL, thread_main, &s) != 0)
			return 1;
	pthread_mutex_lock(&s.mu);
	while (s.done < 8)
		pthread_cond_wait(&s.cv, &s.mu);
	pthread_mutex_unlock(&s.mu);
	for (int i = 0; i < 8; i++)
		if (pthread_join(t[i], NULL) != 0)
			return 2;
	return s.sum == 8 * (99999.0 * 100000.0 / 2) ? 0 : 3;
}

Test(sandbox, threads)
{
	struct fv_sandbox_opts o = {.report = true};
	expect_ok(run(&o, do_threads, NULL));
}

static int do_pipe_write(void *arg)
{
	int fd = *(int *)arg;
	uint64_t v[512];
	for (size_t i = 0; i < 512; i++)
		v[i] = i * 2654435761u;
	/* The worker's log lines go to stderr. */
	fv_log(FV_LOG_INFO, "sandbox_test", "step=pipe_write");
	return write(fd, v, sizeof(v)) == (ssize_t)sizeof(v) ? 0 : 1;
}

Test(sandbox, pipe_write_and_log)
{
	int fds[2];
	uint64_t v[512];
	size_t got = 0;
	cr_assert_eq(pipe(fds), 0);
	expect_ok(run(NULL, do_pipe_write, &fds[1]));
	close(fds[1]);
	while (got < sizeof(v)) {
		ssize_t r = read(fds[0], (char *)v + got, sizeof(v) - got);
		cr_assert_gt(r, 0);
		got += (size_t)r;
	}
	close(fds[0]);
	for (size_t i = 0; i < 512; i++)
		cr_assert_eq(v[i], i * 2654435761u);
}

static char tmpdir[64], tmpfile_path[128];

static void mkfile(void)
{
	FILE *f;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fv-sandbox.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(tmpfile_path, sizeof(tmpfile_path), "%s/data.txt", tmpdir);
	cr_assert_not_null(f = fopen(tmpfile_path, "w"));
	for (int i = 0; i < 10000; i++)
		fprintf(f, "%d\n", i);
	fclose(f);
}

static void rmfile(void)
{
	char p[160];
	unlink(tmpfile_path);
	snprintf(p, sizeof(p), "%s/new.txt", tmpdir);
	unlink(p);
	rmdir(tmpdir);
}

static int do_read_open_file(void *arg)
{
	int fd = *(int *)arg;
	struct stat st;
	char buf[16];
	FILE *f;
	int v, n = 0;

	if (fstat(fd, &st) != 0 || st.st_size < 10000)
		return 1;
	if (pread(fd, buf, 4, 10) != 4 || memcmp(buf, "5\n6\n", 4) != 0)
		return 2;
	if (lseek(fd, 0, SEEK_SET) != 0)
		return 3;
	/* stdio on an inherited descriptor: fstat, read, lseek, fcntl. */
	if (!(f = fdopen(fd, "r")))
		return 4;
	while (fscanf(f, "%d", &v) == 1 && v == n)
		n++;
	fclose(f);
	return n == 10000 ? 0 : 5;
}

Test(sandbox, read_already_open_file, .init = mkfile, .fini = rmfile)
{
	int fd = open(tmpfile_path, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	expect_ok(run(NULL, do_read_open_file, &fd));
	close(fd);
}

static int do_open_calls(void *arg)
{
	const struct fv_sandbox_opts *o = arg;
	char p[160];
	int fd;

	fd = open(tmpfile_path, O_RDONLY);
	if (o->allow_open_rdonly ? fd < 0 : (fd >= 0 || errno != EPERM))
		return 1;
	if (fd >= 0)
		close(fd);
	/* Opens that could write fail with EPERM whatever the options. */
	if (open(tmpfile_path, O_WRONLY) >= 0 || errno != EPERM)
		return 2;
	if (open(tmpfile_path, O_RDWR) >= 0 || errno != EPERM)
		return 3;
	if (open(tmpfile_path, O_RDONLY | O_APPEND) >= 0 || errno != EPERM)
		return 4;
	snprintf(p, sizeof(p), "%s/new.txt", tmpdir);
	if (open(p, O_RDONLY | O_CREAT, 0600) >= 0 || errno != EPERM)
		return 5;
	if (fopen(p, "w") || errno != EPERM)
		return 6;
	if (access(p, F_OK) == 0)
		return 7;
	return 0;
}

static int nofile_run(struct fv_sandbox_opts o)
{
	int status = run(&o, do_open_calls, &o);
	char p[160];
	snprintf(p, sizeof(p), "%s/new.txt", tmpdir);
	cr_assert_neq(access(p, F_OK), 0, "the sandboxed child created a file");
	return status;
}

Test(sandbox, open_refused_by_default, .init = mkfile, .fini = rmfile)
{
	expect_ok(nofile_run((struct fv_sandbox_opts){.report = true}));
}

Test(sandbox, open_read_only_when_allowed, .init = mkfile, .fini = rmfile)
{
	expect_ok(nofile_run((struct fv_sandbox_opts){.allow_open_rdonly = true, .report = true}));
}

static int do_limits(void *arg)
{
	int fd = *(int *)arg;
	struct rlimit rl;
	if (getrlimit(RLIMIT_FSIZE, &rl) != 0 || rl.rlim_cur != 0 || rl.rlim_max != 0)
		return 1;
	if (getrlimit(RLIMIT_CORE, &rl) != 0 || rl.rlim_cur != 0 || rl.rlim_max != 0)
		return 2;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_max != 20)
		return 3;
	/* A descriptor open for writing cannot grow its file: EFBIG, not SIGXFSZ. */
	if (write(fd, "x", 1) != -1 || errno != EFBIG)
		return 4;
	/* dup above the descriptor limit fails. */
	if (fcntl(0, F_DUPFD, 30) != -1 || errno != EINVAL)
		return 5;
	/* Limits cannot be raised again. */
	rl.rlim_cur = rl.rlim_max = 1024;
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
		return 6;
	return 0;
}

Test(sandbox, resource_limits, .init = mkfile, .fini = rmfile)
{
	struct fv_sandbox_opts o = {.max_open_files = 20, .report = true};
	int fd = open(tmpfile_path, O_WRONLY | O_APPEND | O_CLOEXEC);
	struct stat st, st2;
	cr_assert_geq(fd, 0);
	cr_assert_eq(fstat(fd, &st), 0);
	expect_ok(run(&o, do_limits, &fd));
	cr_assert_eq(fstat(fd, &st2), 0);
	cr_assert_eq(st.st_size, st2.st_size);
	close(fd);
}

static int do_grow(void *arg)
{
	return write(*(int *)arg, "x", 1) == 1 ? 0 : 1;
}

/* allow_file_growth leaves RLIMIT_FSIZE alone, so stderr redirected to a log file works. */
Test(sandbox, file_growth_when_allowed, .init = mkfile, .fini = rmfile)
{
	struct fv_sandbox_opts o = {.allow_file_growth = true, .report = true};
	int fd = open(tmpfile_path, O_WRONLY | O_APPEND | O_CLOEXEC);
	struct stat st, st2;
	cr_assert_geq(fd, 0);
	cr_assert_eq(fstat(fd, &st), 0);
	expect_ok(run(&o, do_grow, &fd));
	cr_assert_eq(fstat(fd, &st2), 0);
	cr_assert_eq(st2.st_size, st.st_size + 1);
	close(fd);
}

static int do_big_alloc(void *arg)
{
	struct rlimit rl;
	void *p = malloc(512u << 20);
	(void)arg;
	if (getrlimit(RLIMIT_AS, &rl) != 0)
		return 1;
	if (ASAN) /* documented: no RLIMIT_AS under AddressSanitizer */
		return rl.rlim_cur == RLIM_INFINITY && p ? 0 : 2;
	return rl.rlim_cur == (256u << 20) && !p ? 0 : 3;
}

Test(sandbox, memory_cap)
{
	struct fv_sandbox_opts o = {.max_memory = 256u << 20, .report = true};
	expect_ok(run(&o, do_big_alloc, NULL));
}

static int do_alarm(void *arg)
{
	struct timespec ts = {0, 10000000};
	(void)arg;
	alarm(1);
	for (int i = 0; i < 500; i++)
		clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
	return 0;
}

/* The worker's time limit (alarm) still kills it, with SIGALRM. */
Test(sandbox, alarm_time_limit)
{
	int status = run(NULL, do_alarm, NULL);
	cr_assert(WIFSIGNALED(status));
	cr_assert_eq(WTERMSIG(status), SIGALRM);
}

static int do_benign_refusals(void *arg)
{
	(void)arg;
	if (isatty(0) || errno != ENOTTY) /* ioctl refused: ENOTTY */
		return 1;
	if (syscall(SYS_clone3, NULL, 0) != -1 || errno != ENOSYS)
		return 2;
	if (fcntl(1, F_SETOWN, getpid()) != -1 || errno != EPERM)
		return 3;
	if (socket(AF_INET, SOCK_STREAM, 0) != -1 || errno != EPERM)
		return 4;
	if (socket(AF_UNIX, SOCK_STREAM, 0) != -1 || errno != EPERM)
		return 5;
	return 0;
}

Test(sandbox, refusals_that_fail_cleanly)
{
	expect_ok(run(NULL, do_benign_refusals, NULL));
}

/* ---- sockets ---- */

static int do_socket_io(void *arg)
{
	int fd = *(int *)arg;
	char buf[8];
	if (send(fd, "ping", 4, 0) != 4)
		return 1;
	if (recv(fd, buf, 4, 0) != 4 || memcmp(buf, "pong", 4) != 0)
		return 2;
	if (socket(AF_INET, SOCK_STREAM, 0) != -1 || errno != EPERM)
		return 3;
	return 0;
}

static int do_socket_new(void *arg)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	(void)arg;
	if (fd < 0)
		return 1;
	close(fd);
	if (socket(AF_NETLINK, SOCK_RAW, 0) != -1 || errno != EPERM)
		return 2;
	return 0;
}

static int do_send(void *arg)
{
	return send(*(int *)arg, "x", 1, 0) == 1 ? 0 : 1;
}

Test(sandbox, sockets_only_when_allowed)
{
	int sv[2];
	char buf[8];
	struct fv_sandbox_opts io = {.allow_socket_io = true, .report = true};
	struct fv_sandbox_opts net = {.allow_network = true, .report = true};

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	cr_assert_eq(send(sv[0], "pong", 4, 0), 4);
	expect_ok(run(&io, do_socket_io, &sv[1]));
	cr_assert_eq(recv(sv[0], buf, 4, 0), 4);
	cr_assert_eq(memcmp(buf, "ping", 4), 0);
	expect_ok(run(&net, do_socket_new, NULL));
	/* Without either option, socket calls on an inherited socket kill. */
	expect_killed_both((struct fv_sandbox_opts){0}, do_send, &sv[1]);
	close(sv[0]);
	close(sv[1]);
}

/* ---- forbidden ---- */

static int do_execve(void *arg)
{
	char *argv[] = {"/bin/true", NULL}, *envp[] = {NULL};
	(void)arg;
	execve(argv[0], argv, envp);
	return 1;
}

Test(sandbox, execve_kills)
{
	expect_killed_both((struct fv_sandbox_opts){.allow_open_rdonly = true}, do_execve, NULL);
}

static int do_fork(void *arg)
{
	pid_t pid;
	(void)arg;
	pid = fork();
	if (pid == 0)
		_exit(0);
	return 1;
}

Test(sandbox, fork_kills)
{
	expect_killed_both((struct fv_sandbox_opts){0}, do_fork, NULL);
}

static int do_raw_clone(void *arg)
{
	(void)arg;
	/* clone(SIGCHLD): a process, not a thread. */
	if (syscall(SYS_clone, (long)SIGCHLD, 0L, 0L, 0L, 0L) == 0)
		_exit(0);
	return 1;
}

Test(sandbox, clone_without_thread_kills)
{
	expect_killed_both((struct fv_sandbox_opts){0}, do_raw_clone, NULL);
}

static int do_ptrace(void *arg)
{
	(void)arg;
	ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	return 1;
}

Test(sandbox, ptrace_kills)
{
	expect_killed_both((struct fv_sandbox_opts){0}, do_ptrace, NULL);
}

static int do_mprotect_exec(void *arg)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	(void)arg;
	if (p == MAP_FAILED)
		return 1;
	mprotect(p, 4096, PROT_READ | PROT_EXEC);
	return 2;
}

static int do_mmap_exec(void *arg)
{
	(void)arg;
	mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return 1;
}

Test(sandbox, executable_memory_kills)
{
	expect_killed_both((struct fv_sandbox_opts){0}, do_mprotect_exec, NULL);
	expect_killed_both((struct fv_sandbox_opts){0}, do_mmap_exec, NULL);
}

static int do_socket_connect(void *arg)
{
	(void)arg;
	connect(0, NULL, 0);
	return 1;
}

Test(sandbox, connect_without_network_kills)
{
	expect_killed_both((struct fv_sandbox_opts){.allow_socket_io = true}, do_socket_connect,
			   NULL);
}

static int do_signal_other(void *arg)
{
	(void)arg;
	kill(getppid(), 0);
	return 1;
}

static int do_prlimit_other(void *arg)
{
	struct rlimit rl;
	(void)arg;
	prlimit(getppid(), RLIMIT_NOFILE, NULL, &rl);
	return 1;
}

Test(sandbox, touching_other_processes_kills)
{
	expect_killed_both((struct fv_sandbox_opts){0}, do_signal_other, NULL);
	expect_killed_both((struct fv_sandbox_opts){0}, do_prlimit_other, NULL);
}

#if defined(__x86_64__)
static int do_x32(void *arg)
{
	(void)arg;
	syscall(0x40000000L | SYS_getpid);
	return 1;
}

Test(sandbox, x32_abi_kills)
{
	expect_killed_both((struct fv_sandbox_opts){0}, do_x32, NULL);
}
#endif

static int do_in_thread_fork(void *arg)
{
	(void)arg;
	return do_fork(NULL);
}

static void *fork_thread(void *arg)
{
	(void)arg;
	do_in_thread_fork(NULL);
	return NULL;
}

static int do_thread_then_fork(void *arg)
{
	pthread_t t;
	(void)arg;
	if (pthread_create(&t, NULL, fork_thread, NULL) != 0)
		return 1;
	pthread_join(t, NULL);
	return 2;
}

/* A thread started after entering is filtered too. */
Test(sandbox, filter_covers_new_threads)
{
	expect_killed_both((struct fv_sandbox_opts){0}, do_thread_then_fork, NULL);
}

/* Run fn in a sandboxed child whose stderr is a pipe; return what it wrote and its status. */
static int run_capture(child_fn fn, char *buf, size_t cap)
{
	int fds[2], status;
	size_t got = 0;
	pid_t pid;
	ssize_t r;

	cr_assert_eq(pipe(fds), 0);
	fflush(NULL);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct fv_sandbox_opts o = {.report = true};
		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		if (fv_sandbox_enter(&o, NULL) != FV_OK)
			_exit(100);
		_exit(fn(NULL));
	}
	close(fds[1]);
	while (got < cap - 1 && (r = read(fds[0], buf + got, cap - 1 - got)) > 0)
		got += (size_t)r;
	buf[got] = '\0';
	close(fds[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	return status;
}

/* Reporting mode names the refused call on stderr before dying. */
Test(sandbox, report_names_the_call)
{
	char buf[512], want[96];
	int status = run_capture(do_ptrace, buf, sizeof(buf));
	expect_killed(status);
	snprintf(want, sizeof(want), "event=sandbox_violation syscall=%d\n", (int)SYS_ptrace);
	cr_assert_not_null(strstr(buf, want), "stderr: %s", buf);
}

#if ASAN
/* In sanitizer builds a sanitizer's report still comes out of the sandbox (unsymbolized: the
 * symbolizer cannot be started) and the sanitizer, not the filter, ends the process. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds" /* the overflow is the point */
static int do_heap_overflow(void *arg)
{
	volatile char *p = malloc(16);
	(void)arg;
	p[16] = 1;
	return 0;
}
#pragma GCC diagnostic pop

static int do_int_overflow(void *arg)
{
	volatile int x = INT32_MAX;
	(void)arg;
	x = x + 1;
	return 0;
}

Test(sandbox, sanitizer_reports_inside)
{
	static char buf[65536];
	int status = run_capture(do_heap_overflow, buf, sizeof(buf));
	/* The sanitizer ends it: by exit, or by abort() under ASAN_OPTIONS=abort_on_error=1 (as
	 * deploy/test.sh runs) — never the filter's SIGSYS. */
	cr_assert(WIFEXITED(status) || (WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT),
		  "stderr: %s", buf);
	cr_assert_not_null(strstr(buf, "heap-buffer-overflow"), "stderr: %s", buf);
	cr_assert_null(strstr(buf, "sandbox_violation"), "stderr: %s", buf);
	status = run_capture(do_int_overflow, buf, sizeof(buf));
	cr_assert(WIFEXITED(status) || (WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT),
		  "stderr: %s", buf);
	cr_assert_not_null(strstr(buf, "signed integer overflow"), "stderr: %s", buf);
	cr_assert_null(strstr(buf, "sandbox_violation"), "stderr: %s", buf);
}
#endif

/* ---- fv_sandbox_close_fds ---- */

Test(sandbox, close_fds_keeps_only_the_listed, .init = mkfile, .fini = rmfile)
{
	int fd[6], status;
	pid_t pid;

	for (int i = 0; i < 6; i++)
		cr_assert_geq(fd[i] = open(tmpfile_path, O_RDONLY), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int keep[2] = {fd[1], fd[4]};
		if (fv_sandbox_close_fds(keep, 2, NULL) != FV_OK)
			_exit(1);
		for (int i = 0; i < 6; i++) {
			bool open_now = fcntl(fd[i], F_GETFD) >= 0;
			if (open_now != (i == 1 || i == 4))
				_exit(2 + i);
		}
		if (fcntl(STDERR_FILENO, F_GETFD) < 0)
			_exit(9);
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	expect_ok(status);
	for (int i = 0; i < 6; i++)
		close(fd[i]);
	cr_assert_eq(fv_sandbox_close_fds((int[]){-1}, 1, NULL), FV_EINVAL);
}
