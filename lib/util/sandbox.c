/* The evaluation worker's sandbox: resource limits, no capabilities, no_new_privs and a
 * hand-written classic-BPF seccomp filter (no libseccomp). docs/sandbox.md lists every system
 * call the filter allows and why; keep the two in step. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* CLONE_*, F_OFD_*, si_syscall; the build defines it everywhere */
#endif
#include "fedval/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fedval/util.h"

#if defined(__x86_64__)
#define SB_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SB_ARCH AUDIT_ARCH_AARCH64
#else
#define SB_ARCH 0 /* fv_sandbox_enter refuses: no syscall table reviewed for this arch */
#endif

#if defined(__SANITIZE_ADDRESS__)
#define SB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SB_ASAN 1
#endif
#endif
#ifndef SB_ASAN
#define SB_ASAN 0
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SB_LO 0
#define SB_HI 4
#else
#define SB_LO 4
#define SB_HI 0
#endif
/* Offsets of the low and high 32 bits of argument i in struct seccomp_data. The kernel
 * truncates int arguments (flags, prot, cmd, domain) to their low 32 bits, so comparing those
 * checks exactly what the kernel acts on. */
#define ARG_LO(i) ((uint32_t)(offsetof(struct seccomp_data, args) + 8 * (i) + SB_LO))
#define ARG_HI(i) ((uint32_t)(offsetof(struct seccomp_data, args) + 8 * (i) + SB_HI))

#define RET_ALLOW    SECCOMP_RET_ALLOW
#define RET_ERRNO(e) (SECCOMP_RET_ERRNO | ((uint32_t)(e)&SECCOMP_RET_DATA))

/* The filter is built at run time (it embeds our pid and the options); this bounds it. */
#define SB_MAX_INSNS 512

struct prog {
	struct sock_filter f[SB_MAX_INSNS];
	size_t n;
	bool overflow;
	uint32_t deny; /* SECCOMP_RET_KILL_PROCESS, or SECCOMP_RET_TRAP when reporting */
};

static size_t emit(struct prog *p, uint16_t code, uint32_t k, uint8_t jt, uint8_t jf)
{
	if (p->n >= SB_MAX_INSNS) {
		p->overflow = true;
		return p->n;
	}
	p->f[p->n] = (struct sock_filter){code, jt, jf, k};
	return p->n++;
}

/* A rule is "if (nr == N) { block }" where the block ends in a return on every path, so the
 * accumulator (which the block may reload with an argument) needs no restoring after it. */
static size_t rule_begin(struct prog *p, long nr)
{
	return emit(p, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 0);
}

static void rule_end(struct prog *p, size_t at)
{
	size_t skip = p->n - at - 1;
	if (p->overflow || skip > 255) {
		p->overflow = true;
		return;
	}
	p->f[at].jf = (uint8_t)skip;
}

static void ret(struct prog *p, uint32_t action)
{
	emit(p, BPF_RET | BPF_K, action, 0, 0);
}

static void rule_ret(struct prog *p, long nr, uint32_t action)
{
	size_t at = rule_begin(p, nr);
	ret(p, action);
	rule_end(p, at);
}

/* Allow nr unless (low 32 bits of arg i) & mask is non-zero; then return action. */
static void rule_unless_bits(struct prog *p, long nr, int i, uint32_t mask, uint32_t action)
{
	size_t at = rule_begin(p, nr);
	emit(p, BPF_LD | BPF_W | BPF_ABS, ARG_LO(i), 0, 0);
	emit(p, BPF_JMP | BPF_JSET | BPF_K, mask, 0, 1);
	ret(p, action);
	ret(p, RET_ALLOW);
	rule_end(p, at);
}

/* Allow nr when the low 32 bits of arg i are one of v[0..n); else return action. */
static void rule_arg_in(struct prog *p, long nr, int i, const uint32_t *v, size_t n,
			uint32_t action)
{
	size_t at = rule_begin(p, nr);
	emit(p, BPF_LD | BPF_W | BPF_ABS, ARG_LO(i), 0, 0);
	for (size_t j = 0; j < n; j++)
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, v[j], (uint8_t)(n - j), 0);
	ret(p, action);
	ret(p, RET_ALLOW);
	rule_end(p, at);
}

/* Allow nr when the whole 64-bit arg i equals v; else return action. */
static void rule_arg_eq64(struct prog *p, long nr, int i, uint64_t v, uint32_t action)
{
	size_t at = rule_begin(p, nr);
	emit(p, BPF_LD | BPF_W | BPF_ABS, ARG_HI(i), 0, 0);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(v >> 32), 0, 2);
	emit(p, BPF_LD | BPF_W | BPF_ABS, ARG_LO(i), 0, 0);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)v, 1, 0);
	ret(p, action);
	ret(p, RET_ALLOW);
	rule_end(p, at);
}

/* Namespace flags: never wanted, even on a thread. */
#define SB_CLONE_NS                                                                                \
	(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |             \
	 CLONE_NEWPID | CLONE_NEWNET)
/* Open flags that could create, truncate or write a file. */
#define SB_OPEN_WRITE (O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND)

static void rule_clone(struct prog *p)
{
	/* clone(flags, ...): flags is argument 0 on x86_64 and aarch64. Only threads
	 * (CLONE_THREAD, which the kernel accepts only with CLONE_SIGHAND and CLONE_VM). */
	size_t at = rule_begin(p, __NR_clone);
	emit(p, BPF_LD | BPF_W | BPF_ABS, ARG_LO(0), 0, 0);
	emit(p, BPF_JMP | BPF_JSET | BPF_K, SB_CLONE_NS, 2, 0);
	emit(p, BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, 0, 1);
	ret(p, RET_ALLOW);
	ret(p, p->deny);
	rule_end(p, at);
}

static void rule_open(struct prog *p, long nr, int flags_arg, bool allow)
{
	if (allow)
		rule_unless_bits(p, nr, flags_arg, SB_OPEN_WRITE, RET_ERRNO(EPERM));
	else
		rule_ret(p, nr, RET_ERRNO(EPERM));
}

/* Calls allowed whatever their arguments. */
static const long allowed[] = {
    /* I/O on descriptors the worker already holds */
    __NR_read, __NR_readv, __NR_pread64, __NR_preadv, __NR_preadv2, __NR_write, __NR_writev,
    __NR_lseek, __NR_close,
    /* metadata: glibc's fstat is newfstatat(fd, "", AT_EMPTY_PATH); SQLite stats and
     * access()es its journal's path before each read transaction */
    __NR_newfstatat, __NR_statx, __NR_fstat, __NR_faccessat, __NR_faccessat2,
#ifdef __NR_stat
    __NR_stat, __NR_lstat, __NR_access,
#endif
    /* memory (mmap and mprotect are checked below) */
    __NR_brk, __NR_munmap, __NR_mremap, __NR_madvise,
    /* threads and their synchronisation */
    __NR_futex, __NR_set_robust_list, __NR_rseq, __NR_sched_yield, __NR_sched_getaffinity,
    __NR_getcpu,
    /* signals: the time limit (alarm), thread stacks, returning from handlers */
    __NR_rt_sigprocmask, __NR_rt_sigaction, __NR_rt_sigreturn, __NR_sigaltstack,
    __NR_restart_syscall, __NR_setitimer, __NR_getitimer,
#ifdef __NR_alarm
    __NR_alarm,
#endif
    /* identity and time */
    __NR_getpid, __NR_gettid, __NR_getuid, __NR_geteuid, __NR_getgid, __NR_getegid,
    __NR_clock_gettime, __NR_clock_getres, __NR_clock_nanosleep, __NR_nanosleep, __NR_gettimeofday,
#ifdef __NR_time
    __NR_time,
#endif
    __NR_getrandom,
#ifdef __NR_getrlimit
    __NR_getrlimit,
#endif
    /* glibc's qsort asks for the physical memory size (sysconf(_SC_PHYS_PAGES)) before it
     * picks its merge buffer; read-only, it reveals nothing the worker could send out */
    __NR_sysinfo, __NR_exit, __NR_exit_group};

/* Using sockets the worker already holds (a PostgreSQL connection). */
static const long socket_io[] = {
#ifdef __NR_poll
    __NR_poll,
#endif
    __NR_ppoll,	     __NR_sendto,      __NR_recvfrom,	 __NR_sendmsg,
    __NR_recvmsg,    __NR_sendmmsg,    __NR_recvmmsg,	 __NR_getsockopt,
    __NR_setsockopt, __NR_getsockname, __NR_getpeername, __NR_shutdown};

/* What the sanitizer run-times need on top, in ASan+UBSan builds only (docs/sandbox.md):
 * UBSan's first report reads readlink("/proc/self/exe"). Normal ASan operation needs nothing
 * more; LeakSanitizer cannot run in the sandbox (it ptraces), so the worker must _exit. */
static const long asan_extra[] = {
#ifdef __NR_readlink
    __NR_readlink,
#endif
    __NR_readlinkat};

static void build(struct prog *p, const struct fv_sandbox_opts *o)
{
	static const uint32_t fcntl_ok[] = {
	    F_DUPFD,	 F_DUPFD_CLOEXEC, F_GETFD,	F_SETFD,    F_GETFL,
	    F_SETFL,	 F_GETLK,	  F_SETLK,	F_SETLKW,   F_OFD_GETLK,
	    F_OFD_SETLK, F_OFD_SETLKW,	  F_GETPIPE_SZ, F_GET_SEALS};
	static const uint32_t domains[] = {AF_UNIX, AF_INET, AF_INET6};
	bool net = o->allow_network, sockio = net || o->allow_socket_io;
	bool open_ro = o->allow_open_rdonly;

	/* Wrong architecture (a 32-bit or foreign ABI has other numbers): kill. */
	emit(p, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch), 0, 0);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, SB_ARCH, 1, 0);
	ret(p, SECCOMP_RET_KILL_PROCESS);
	emit(p, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr), 0, 0);
#if defined(__x86_64__)
	/* x32 calls share AUDIT_ARCH_X86_64 but set bit 30 of the number. */
	emit(p, BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1);
	ret(p, p->deny);
#endif
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		rule_ret(p, allowed[i], RET_ALLOW);
	for (size_t i = 0; sockio && i < sizeof(socket_io) / sizeof(socket_io[0]); i++)
		rule_ret(p, socket_io[i], RET_ALLOW);
	for (size_t i = 0; SB_ASAN && i < sizeof(asan_extra) / sizeof(asan_extra[0]); i++)
		rule_ret(p, asan_extra[i], RET_ALLOW);

	/* No executable memory: the interpreter never generates code. */
	rule_unless_bits(p, __NR_mmap, 2, PROT_EXEC, p->deny);
	rule_unless_bits(p, __NR_mprotect, 2, PROT_EXEC, p->deny);
	rule_clone(p);
	/* clone3 passes its flags in memory, out of the filter's reach: ENOSYS makes glibc fall
	 * back to clone, whose flags are checked above. */
	rule_ret(p, __NR_clone3, RET_ERRNO(ENOSYS));
	/* Signals to ourselves only (raise, abort); tgkill's first argument is the tgid. */
	rule_arg_eq64(p, __NR_tgkill, 0, (uint64_t)getpid(), p->deny);
	/* prlimit64(0, ...) is getrlimit/setrlimit of this process; another pid could lower
	 * another same-user process's limits. */
	rule_arg_eq64(p, __NR_prlimit64, 0, 0, p->deny);
	rule_arg_in(p, __NR_fcntl, 1, fcntl_ok, sizeof(fcntl_ok) / sizeof(fcntl_ok[0]),
		    RET_ERRNO(EPERM));
	/* No device control; ENOTTY keeps isatty() and stdio working. */
	rule_ret(p, __NR_ioctl, RET_ERRNO(ENOTTY));
	rule_open(p, __NR_openat, 2, open_ro);
#ifdef __NR_open
	rule_open(p, __NR_open, 1, open_ro);
#endif
	/* openat2 takes its flags in memory: ENOSYS, callers fall back to openat. */
	rule_ret(p, __NR_openat2, RET_ERRNO(ENOSYS));
	if (net) {
		rule_arg_in(p, __NR_socket, 0, domains, sizeof(domains) / sizeof(domains[0]),
			    RET_ERRNO(EPERM));
		rule_ret(p, __NR_connect, RET_ALLOW);
	} else {
		/* libpq's cancel request and glibc's nscd lookup try a socket: fail cleanly. */
		rule_ret(p, __NR_socket, RET_ERRNO(EPERM));
	}
	ret(p, p->deny);
}

static void sigsys_report(int sig, siginfo_t *si, void *uc)
{
	static const char pre[] = "level=error event=sandbox_violation syscall=";
	char buf[sizeof(pre) + 16];
	char num[12];
	size_t n = sizeof(pre) - 1, k = 0;
	unsigned v = si->si_syscall < 0 ? 0u : (unsigned)si->si_syscall;

	(void)uc;
	memcpy(buf, pre, n);
	do
		num[k++] = (char)('0' + v % 10);
	while ((v /= 10) && k < sizeof(num));
	while (k)
		buf[n++] = num[--k];
	buf[n++] = '\n';
	if (write(STDERR_FILENO, buf, n) < 0) {
		/* nothing more to do: we are about to die */
	}
	/* SA_RESETHAND restored the default action and SA_NODEFER left SIGSYS unblocked. */
	raise(sig);
}

static fv_err set_limit(int res, rlim_t v, const char *name, struct fv_diag *d)
{
	struct rlimit rl = {v, v};
	if (getrlimit(res, &rl) == 0 && rl.rlim_max != RLIM_INFINITY && rl.rlim_max < v)
		v = rl.rlim_max; /* never raise: lowering is all an unprivileged process may do */
	rl.rlim_cur = rl.rlim_max = v;
	if (setrlimit(res, &rl) != 0)
		return fv_diag_set(d, FV_EIO, "sandbox: setrlimit(%s): %s", name, strerror(errno));
	return FV_OK;
}

/* Empty every capability set (bounding and ambient too, where CAP_SETPCAP allows). */
static fv_err drop_caps(struct fv_diag *d)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct c[_LINUX_CAPABILITY_U32S_3];
	bool any = false;

	memset(c, 0, sizeof(c));
	if (syscall(SYS_capget, &h, c) != 0)
		return fv_diag_set(d, FV_EIO, "sandbox: capget: %s", strerror(errno));
	for (size_t i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		any = any || c[i].effective || c[i].permitted || c[i].inheritable;
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (!any)
		return FV_OK;
	/* Stops at the first unknown capability (EINVAL); EPERM without CAP_SETPCAP. */
	for (unsigned long cap = 0; cap < 64; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno == EINVAL)
			break;
	memset(c, 0, sizeof(c));
	if (syscall(SYS_capset, &h, c) != 0)
		return fv_diag_set(d, FV_EIO, "sandbox: capset: %s", strerror(errno));
	return FV_OK;
}

fv_err fv_sandbox_enter(const struct fv_sandbox_opts *o, struct fv_diag *d)
{
	static const struct fv_sandbox_opts defaults = {0};
	static struct prog p; /* 4 KiB: keep it off small thread stacks */
	struct sock_fprog fp;
	fv_err e = FV_OK;
	long r;

	if (!o)
		o = &defaults;
	if (SB_ARCH == 0)
		return fv_diag_set(d, FV_EUNSUPPORTED, "sandbox: no filter for this architecture");
	if ((e = set_limit(RLIMIT_NOFILE,
			   o->max_open_files ? o->max_open_files : FV_SANDBOX_DEFAULT_NOFILE,
			   "RLIMIT_NOFILE", d)) != FV_OK)
		goto out;
	if (!o->allow_file_growth && (e = set_limit(RLIMIT_FSIZE, 0, "RLIMIT_FSIZE", d)) != FV_OK)
		goto out;
	if ((e = set_limit(RLIMIT_CORE, 0, "RLIMIT_CORE", d)) != FV_OK)
		goto out;
	if (o->max_memory && !SB_ASAN &&
	    (e = set_limit(RLIMIT_AS, (rlim_t)o->max_memory, "RLIMIT_AS", d)) != FV_OK)
		goto out;
	/* With RLIMIT_FSIZE 0, a write that would grow a regular file (stderr redirected to a
	 * log file, an inherited descriptor) fails with EFBIG instead of killing us. */
	if (signal(SIGXFSZ, SIG_IGN) == SIG_ERR) {
		e = fv_diag_set(d, FV_EIO, "sandbox: SIGXFSZ: %s", strerror(errno));
		goto out;
	}
	if ((e = drop_caps(d)) != FV_OK)
		goto out;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		e = fv_diag_set(d, FV_EIO, "sandbox: PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		goto out;
	}
	memset(&p, 0, sizeof(p));
	p.deny = SECCOMP_RET_KILL_PROCESS;
	if (o->report) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = sigsys_report;
		sa.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_NODEFER;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGSYS, &sa, NULL) != 0) {
			e = fv_diag_set(d, FV_EIO, "sandbox: SIGSYS handler: %s", strerror(errno));
			goto out;
		}
		p.deny = SECCOMP_RET_TRAP;
	}
	build(&p, o);
	if (p.overflow) {
		e = fv_diag_set(d, FV_EIO, "sandbox: filter larger than %d instructions",
				SB_MAX_INSNS);
		goto out;
	}
	fp.len = (unsigned short)p.n;
	fp.filter = p.f;
	/* TSYNC: every thread (OpenBLAS may have started some) gets the filter, or none does;
	 * a positive result names a thread that could not be synchronised. */
	r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &fp);
	if (r != 0) {
		e = fv_diag_set(d, FV_EIO, "sandbox: seccomp: %s",
				r > 0 ? "another thread cannot be synchronised" : strerror(errno));
		goto out;
	}
out:
	return e;
}

/* The smallest fd in keep that is >= lo, or -1. */
static long next_keep(const int *keep, size_t nkeep, long lo)
{
	long best = -1;
	for (size_t i = 0; i < nkeep; i++)
		if (keep[i] >= lo && (best < 0 || keep[i] < best))
			best = keep[i];
	return best;
}

static void close_span(long lo, long hi)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)lo, (unsigned)hi, 0) == 0)
		return;
#endif
	/* Kernel before 5.9: close one by one up to the descriptor limit. */
	if (hi > 65535) {
		long max = sysconf(_SC_OPEN_MAX);
		hi = max > 0 && max < 65536 ? max - 1 : 65535;
	}
	for (long fd = lo; fd <= hi; fd++)
		(void)close((int)fd);
}

fv_err fv_sandbox_close_fds(const int *keep, size_t nkeep, struct fv_diag *d)
{
	long lo = 3;

	for (size_t i = 0; i < nkeep; i++)
		if (keep[i] < 0)
			return fv_diag_set(d, FV_EINVAL, "sandbox: bad descriptor %d to keep",
					   keep[i]);
	for (;;) {
		long k = next_keep(keep, nkeep, lo);
		if (k < 0) {
			close_span(lo, (long)~0u);
			break;
		}
		if (k > lo)
			close_span(lo, k - 1);
		lo = k + 1;
	}
	return FV_OK;
}
