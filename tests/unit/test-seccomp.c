/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for runtime/seccomp.c and runtime/caps.c.
 *
 * Filters and capability changes are irreversible, so everything that loads a filter or changes
 * capabilities runs in a forked child; the child reports one '1'/'0' per check over a pipe and
 * the parent turns them into TAP lines.  The child sets PR_SET_NO_NEW_PRIVS itself (in a
 * container the runtime does, or holds CAP_SYS_ADMIN).
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include "caps.h"
#include "seccomp.h"
#include "tap.h"
#include "util.h"

#define MAX_CHECKS 32

/* ---- child plumbing ---------------------------------------------------------------------- */

static int result_fd = -1;

static void report(int cond)
{
        char c = cond ? '1' : '0';

        if (write(result_fd, &c, 1) != 1)
                _exit(120);
}

/* Run fn in a child; returns the wait status and fills results[] (NUL-terminated) from its reports. */
static int run_child(void (*fn)(const void *), const void *arg, char *results, size_t n)
{
        int p[2], status = 0;
        size_t len = 0;
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                abort();
        fflush(stdout);
        pid = fork();
        if (pid < 0)
                abort();
        if (pid == 0) {
                struct rlimit no_core = {0, 0};

                close(p[0]);
                result_fd = p[1];
                setrlimit(RLIMIT_CORE, &no_core); /* SIGSYS dumps core by default */
                fn(arg);
                _exit(0);
        }
        close(p[1]);
        for (;;) {
                ssize_t r = read(p[0], results + len, n - 1 - len);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        break;
                len += (size_t)r;
                if (len == n - 1)
                        break;
        }
        results[len] = '\0';
        close(p[0]);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        return status;
}

static void check_results(const char *results, const char *const *names)
{
        size_t i;

        for (i = 0; names[i]; i++)
                ok(results[i] == '1', "%s", names[i]);
}

/* ---- seccomp ----------------------------------------------------------------------------- */

static char *arch_3[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", NULL};

static char *n_getcwd[] = {"getcwd", NULL};
static char *n_personality[] = {"personality", NULL};
static char *n_unknown[] = {"silo_no_such_syscall", "getpgid", NULL};
static char *n_getuid[] = {"getuid", NULL};
static char *n_setns[] = {"setns", NULL};
static char *n_getpriority[] = {"getpriority", NULL};
static char *n_ioprio[] = {"ioprio_get", NULL};

static struct silo_seccomp_arg a_personality[] = {
    {.index = 0, .value = 0xffffffff, .op = SILO_SCMP_CMP_EQ},
};
/* Same index twice: OR (runc), so setns(100) and setns(101) both match. */
static struct silo_seccomp_arg a_setns[] = {
    {.index = 0, .value = 100, .op = SILO_SCMP_CMP_EQ},
    {.index = 0, .value = 101, .op = SILO_SCMP_CMP_EQ},
};
/* Different indexes: AND. */
static struct silo_seccomp_arg a_getpriority[] = {
    {.index = 0, .value = PRIO_PROCESS, .op = SILO_SCMP_CMP_EQ},
    {.index = 1, .value = 4242, .op = SILO_SCMP_CMP_EQ},
};
static struct silo_seccomp_arg a_ioprio[] = {
    {.index = 0, .value = 0xf0, .value_two = 0x70, .op = SILO_SCMP_CMP_MASKED_EQ},
};

static struct silo_seccomp_rule allow_rules[] = {
    {.names = n_getcwd, .action = SILO_SCMP_ERRNO, .errno_ret = 42},
    {.names = n_personality,
     .action = SILO_SCMP_ERRNO,
     .errno_ret = SILO_UNSET,
     .args = a_personality,
     .n_args = 1},
    {.names = n_unknown, .action = SILO_SCMP_ERRNO, .errno_ret = 46},
    {.names = n_getuid, .action = SILO_SCMP_ALLOW, .errno_ret = SILO_UNSET}, /* == default: skipped */
    {.names = n_setns, .action = SILO_SCMP_ERRNO, .errno_ret = 43, .args = a_setns, .n_args = 2},
    {.names = n_getpriority, .action = SILO_SCMP_ERRNO, .errno_ret = 44, .args = a_getpriority, .n_args = 2},
    {.names = n_ioprio, .action = SILO_SCMP_ERRNO, .errno_ret = 45, .args = a_ioprio, .n_args = 1},
};

static char *flags_all[] = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                            "SECCOMP_FILTER_FLAG_SPEC_ALLOW", NULL};

static struct silo_seccomp allow_profile = {
    .default_action = SILO_SCMP_ALLOW,
    .default_errno_ret = SILO_UNSET,
    .architectures = arch_3,
    .flags = flags_all,
    .syscalls = allow_rules,
    .n_syscalls = ARRAY_SIZE(allow_rules),
};

static bool fails_with(long r, int e)
{
        return r == -1 && errno == e;
}

#define X32_SYSCALL_BIT 0x40000000L
#define I386_NR_GETCWD 183L

#define I386_NR_GETPPID 64L

/* A syscall through the i386 entry point (int 0x80): returns -errno.  0 when not on x86_64. */
static long i386_syscall(long nr, long a, long b)
{
#ifdef __x86_64__
        long r;

        __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b) : "memory");
        return r;
#else
        return 0;
#endif
}

/* getcwd(NULL, 0): -ERANGE unfiltered, -42 when the filter covers SCMP_ARCH_X86 (a filter
 * without it would kill the caller: bad arch). */
static long i386_getcwd(void)
{
        return i386_syscall(I386_NR_GETCWD, 0, 0);
}

/* The kernel supports the i386 / x32 ABIs (CONFIG_IA32_EMULATION, CONFIG_X86_X32_ABI)? */
static bool have_i386, have_x32;

static void probe_abis(void)
{
#ifdef __x86_64__
        have_i386 = i386_getcwd() == -ERANGE;
        have_x32 = syscall(X32_SYSCALL_BIT | SYS_getcwd, NULL, 0) < 0 && errno == ERANGE;
#endif
}

static void child_allow_profile(const void *arg)
{
        const struct silo_seccomp_prog *prog = arg;
        char buf[4096], dir[] = "/tmp/silo-test-seccomp-XXXXXX", sub[64];
        silo_error_t err = NULL;
        int listener = 123;

        if (mkdtemp(dir) == NULL)
                _exit(121);
        snprintf(sub, sizeof(sub), "%s/d", dir);
        report(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
        report(silo_seccomp_load(prog, &listener, &err) == 0 && listener == -1);
        errno = 0;
        report(getcwd(buf, sizeof(buf)) == NULL && errno == 42);
        report(mkdir(sub, 0700) == 0 && rmdir(sub) == 0);
        report(fails_with(syscall(SYS_personality, 0xffffffffUL), EPERM));
        report(syscall(SYS_personality, 0xfffffffeUL) >= 0 || errno != EPERM);
        report(fails_with(syscall(SYS_getpgid, 0), 46));
        report(fails_with(syscall(SYS_setns, 100, 0), 43) && fails_with(syscall(SYS_setns, 101, 0), 43));
        report(fails_with(syscall(SYS_setns, 102, 0), EBADF));
        report(fails_with(syscall(SYS_getpriority, PRIO_PROCESS, 4242), 44));
        report(syscall(SYS_getpriority, PRIO_PROCESS, 0) >= 0);
        report(fails_with(syscall(SYS_ioprio_get, 0x71, 0), 45));
        report(!fails_with(syscall(SYS_ioprio_get, 1, 0), 45));
        report(!have_i386 || i386_getcwd() == -42);
        report(!have_x32 || fails_with(syscall(X32_SYSCALL_BIT | SYS_getcwd, NULL, 0), 42));
        rmdir(dir);
        silo_error_free(&err);
}

static const char *const allow_checks[] = {
    "child: PR_SET_NO_NEW_PRIVS",
    "child: filter loaded, no listener fd",
    "getcwd fails with errnoRet 42",
    "mkdir/rmdir still allowed",
    "personality(0xffffffff) -> EPERM (default errnoRet)",
    "personality(0xfffffffe) not matched",
    "unknown syscall name ignored, the rest of the rule applies (getpgid -> 46)",
    "same arg index twice: OR (setns 100 and 101 -> 43)",
    "same arg index twice: other values not matched (setns 102 -> EBADF)",
    "different arg indexes: AND matched (getpriority(PRIO_PROCESS, 4242) -> 44)",
    "different arg indexes: AND not matched",
    "MASKED_EQ matched (ioprio_get(0x71) -> 45)",
    "MASKED_EQ not matched",
    "SCMP_ARCH_X86 covered (i386 getcwd -> 42, or no ia32 emulation)",
    "SCMP_ARCH_X32 covered (x32 getcwd -> 42, or no x32 ABI)",
    NULL,
};

static void test_allow_profile(void)
{
        struct silo_seccomp_prog *prog = NULL;
        silo_error_t err = NULL;
        char results[MAX_CHECKS];
        int r, status;

        r = silo_seccomp_compile(&allow_profile, &prog, &err);
        is_int(r, 0, "compile ALLOW profile (%s)", err ? err->msg : "ok");
        if (r < 0) {
                silo_error_free(&err);
                return;
        }
        ok(prog->len > 0 && prog->filter != NULL, "BPF exported (%u instructions)", prog->len);
        is_int(prog->flags,
               SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW,
               "flags stored in prog->flags");
        ok(!prog->notify, "no notify");

        printf("# kernel ABIs: i386 %s, x32 %s\n", have_i386 ? "yes" : "no", have_x32 ? "yes" : "no");
        status = run_child(child_allow_profile, prog, results, sizeof(results));
        ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child exited cleanly (status 0x%x)", status);
        check_results(results, allow_checks);
        silo_seccomp_prog_free(prog);
}

static char *n_whitelist[] = {"write", "exit_group", "exit", "getpid", "rt_sigreturn", NULL};
static struct silo_seccomp_rule kill_rules[] = {
    {.names = n_whitelist, .action = SILO_SCMP_ALLOW, .errno_ret = SILO_UNSET},
};
static struct silo_seccomp kill_profile = {
    .default_action = SILO_SCMP_KILL_PROCESS,
    .default_errno_ret = SILO_UNSET,
    .syscalls = kill_rules,
    .n_syscalls = ARRAY_SIZE(kill_rules),
};

static void child_kill_profile(const void *arg)
{
        silo_error_t err = NULL;

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || silo_seccomp_load(arg, NULL, &err) < 0)
                _exit(122);
        report(syscall(SYS_getpid) > 0); /* whitelisted */
        syscall(SYS_getppid);            /* not whitelisted: SIGSYS */
        report(0);
        _exit(0);
}

static void test_kill_profile(void)
{
        struct silo_seccomp_prog *prog = NULL;
        silo_error_t err = NULL;
        char results[MAX_CHECKS];
        int r, status;

        r = silo_seccomp_compile(&kill_profile, &prog, &err);
        is_int(r, 0, "compile KILL_PROCESS whitelist (%s)", err ? err->msg : "ok");
        if (r < 0) {
                silo_error_free(&err);
                return;
        }
        status = run_child(child_kill_profile, prog, results, sizeof(results));
        is_str(results, "1", "whitelisted syscall worked, nothing ran after the forbidden one");
        ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS, "child killed by SIGSYS (status 0x%x)", status);
        silo_seccomp_prog_free(prog);
}

/* -ENOSYS stub: default EPERM; syscalls above the highest one named (exit_group) get ENOSYS. */
static char *arch_2[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", NULL};
static char *n_enosys[] = {"write", "exit", "exit_group", "getpid", "rt_sigreturn", "silo_newer_syscall",
                           NULL};
static struct silo_seccomp_rule enosys_rules[] = {
    {.names = n_enosys, .action = SILO_SCMP_ALLOW, .errno_ret = SILO_UNSET},
};
static struct silo_seccomp enosys_profile = {
    .default_action = SILO_SCMP_ERRNO,
    .default_errno_ret = SILO_UNSET,
    .architectures = arch_2,
    .syscalls = enosys_rules,
    .n_syscalls = ARRAY_SIZE(enosys_rules),
};

static void child_enosys_profile(const void *arg)
{
        silo_error_t err = NULL;

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || silo_seccomp_load(arg, NULL, &err) < 0)
                _exit(122);
        report(syscall(SYS_getpid) > 0);
        report(fails_with(syscall(SYS_getppid), EPERM));
        report(fails_with(syscall(SYS_clone3, NULL, 0), ENOSYS));
        report(fails_with(syscall(1000), ENOSYS));
        report(!have_i386 || i386_syscall(I386_NR_GETPPID, 0, 0) == -EPERM);
        report(!have_i386 || i386_syscall(1000, 0, 0) == -ENOSYS);
        /* Raw exit: sanitizer runtimes' _exit paths need syscalls this whitelist denies. */
        syscall(SYS_exit_group, 0);
}

static const char *const enosys_checks[] = {
    "enosys: listed syscall allowed",
    "enosys: unlisted older syscall (getppid) -> default EPERM",
    "enosys: newer syscall (clone3) -> ENOSYS",
    "enosys: unassigned number 1000 -> ENOSYS",
    "enosys: i386 getppid -> EPERM (or no ia32 emulation)",
    "enosys: i386 1000 -> ENOSYS (or no ia32 emulation)",
    NULL,
};

static void test_enosys_profile(void)
{
        struct silo_seccomp_prog *prog = NULL;
        silo_error_t err = NULL;
        char results[MAX_CHECKS];
        int r, status;

        r = silo_seccomp_compile(&enosys_profile, &prog, &err);
        is_int(r, 0, "compile ERRNO whitelist (%s)", err ? err->msg : "ok");
        if (r < 0) {
                silo_error_free(&err);
                return;
        }
        status = run_child(child_enosys_profile, prog, results, sizeof(results));
        ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "enosys child exited cleanly (status 0x%x)",
           status);
        check_results(results, enosys_checks);
        silo_seccomp_prog_free(prog);
}

/* A small classic-BPF interpreter for what libseccomp and the stub emit, to check the x32 paths
 * of the stub on kernels without CONFIG_X86_X32_ABI.  Returns the SECCOMP_RET_* value, or 0xdead
 * for an instruction it does not know. */
static uint32_t bpf_run(const struct silo_seccomp_prog *p, uint32_t arch, uint32_t nr)
{
        struct seccomp_data d = {.nr = (int)nr, .arch = arch};
        uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {0};

        for (size_t pc = 0; pc < p->len; pc++) {
                const struct sock_filter *f = &p->filter[pc];
                uint32_t k = f->k;

                switch (f->code) {
                case BPF_LD | BPF_W | BPF_ABS:
                        if (k + 4 > sizeof(d))
                                return 0xdead;
                        memcpy(&a, (const char *)&d + k, 4);
                        break;
                case BPF_LD | BPF_MEM:
                        a = mem[k % BPF_MEMWORDS];
                        break;
                case BPF_LDX | BPF_MEM:
                        x = mem[k % BPF_MEMWORDS];
                        break;
                case BPF_ST:
                        mem[k % BPF_MEMWORDS] = a;
                        break;
                case BPF_STX:
                        mem[k % BPF_MEMWORDS] = x;
                        break;
                case BPF_ALU | BPF_AND | BPF_K:
                        a &= k;
                        break;
                case BPF_JMP | BPF_JA:
                        pc += k;
                        break;
                case BPF_JMP | BPF_JEQ | BPF_K:
                        pc += a == k ? f->jt : f->jf;
                        break;
                case BPF_JMP | BPF_JGT | BPF_K:
                        pc += a > k ? f->jt : f->jf;
                        break;
                case BPF_JMP | BPF_JGE | BPF_K:
                        pc += a >= k ? f->jt : f->jf;
                        break;
                case BPF_JMP | BPF_JSET | BPF_K:
                        pc += (a & k) ? f->jt : f->jf;
                        break;
                case BPF_RET | BPF_K:
                        return k;
                default:
                        return 0xdead;
                }
        }
        return 0xdead;
}

#define AUDIT_X86_64 0xc000003eu
#define AUDIT_I386 0x40000003u
#define RET_ERRNO(e) (SECCOMP_RET_ERRNO | (e))

static void test_enosys_bpf(void)
{
        struct silo_seccomp p3 = enosys_profile, p1 = enosys_profile, pa = enosys_profile;
        struct silo_seccomp_prog *prog = NULL;
        silo_error_t err = NULL;
        const uint32_t x32 = 0x40000000u;

        p3.architectures = arch_3;
        if (silo_seccomp_compile(&p3, &prog, &err) == 0) {
                is_int(bpf_run(prog, AUDIT_X86_64, SYS_write), SECCOMP_RET_ALLOW,
                       "bpf: x86_64 write allowed");
                is_int(bpf_run(prog, AUDIT_X86_64, SYS_getppid), RET_ERRNO(EPERM),
                       "bpf: x86_64 getppid EPERM");
                is_int(bpf_run(prog, AUDIT_X86_64, 1000), RET_ERRNO(ENOSYS), "bpf: x86_64 1000 ENOSYS");
                is_int(bpf_run(prog, AUDIT_X86_64, x32 | 1), SECCOMP_RET_ALLOW, "bpf: x32 write allowed");
                is_int(bpf_run(prog, AUDIT_X86_64, x32 | SYS_getppid), RET_ERRNO(EPERM),
                       "bpf: x32 getppid EPERM");
                is_int(bpf_run(prog, AUDIT_X86_64, x32 | 1000), RET_ERRNO(ENOSYS), "bpf: x32 1000 ENOSYS");
                is_int(bpf_run(prog, AUDIT_I386, 4), SECCOMP_RET_ALLOW, "bpf: i386 write allowed");
                is_int(bpf_run(prog, AUDIT_I386, 1000), RET_ERRNO(ENOSYS), "bpf: i386 1000 ENOSYS");
                is_int(bpf_run(prog, 0xb7u /* not in the filter */, 1000), SECCOMP_RET_KILL_THREAD,
                       "bpf: other arch -> bad arch action");
        } else {
                ok(0, "compile x86_64+x86+x32 ERRNO whitelist: %s", err->msg);
        }
        silo_seccomp_prog_free(prog);
        prog = NULL;

        /* x86_64 only: x32 calls are not the stub's business (libseccomp's bad-arch action). */
        p1.architectures = NULL;
        if (silo_seccomp_compile(&p1, &prog, &err) == 0) {
                is_int(bpf_run(prog, AUDIT_X86_64, 1000), RET_ERRNO(ENOSYS), "bpf: native only, 1000 ENOSYS");
                ok(bpf_run(prog, AUDIT_X86_64, x32 | 1000) != RET_ERRNO(ENOSYS),
                   "bpf: native only, x32 call not turned into ENOSYS");
        } else {
                ok(0, "compile native ERRNO whitelist: %s", err->msg);
        }
        silo_seccomp_prog_free(prog);
        prog = NULL;

        /* Permissive default: no stub, unlisted numbers get the default action. */
        pa.default_action = SILO_SCMP_LOG;
        if (silo_seccomp_compile(&pa, &prog, &err) == 0)
                is_int(bpf_run(prog, AUDIT_X86_64, 1000), SECCOMP_RET_LOG, "bpf: LOG default, no stub");
        else
                ok(0, "compile LOG profile: %s", err->msg);
        silo_seccomp_prog_free(prog);
        silo_error_free(&err);
}

static char *n_notify[] = {"getppid", NULL};
static char *flags_wait_killable[] = {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", "SECCOMP_FILTER_FLAG_TSYNC",
                                      NULL};
static struct silo_seccomp_rule notify_rules[] = {
    {.names = n_notify, .action = SILO_SCMP_NOTIFY, .errno_ret = SILO_UNSET},
};
static struct silo_seccomp notify_profile = {
    .default_action = SILO_SCMP_ALLOW,
    .default_errno_ret = SILO_UNSET,
    .flags = flags_wait_killable,
    .syscalls = notify_rules,
    .n_syscalls = ARRAY_SIZE(notify_rules),
};

static void child_notify_profile(const void *arg)
{
        silo_error_t err = NULL;
        int listener = -1;

        report(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
        report(silo_seccomp_load(arg, &listener, &err) == 0);
        report(listener >= 0 && fcntl(listener, F_GETFD) >= 0);
        silo_error_free(&err);
}

static const char *const notify_checks[] = {
    "notify child: PR_SET_NO_NEW_PRIVS",
    "notify child: filter with NEW_LISTENER|TSYNC|WAIT_KILLABLE_RECV loaded",
    "notify child: listener fd returned",
    NULL,
};

static void test_notify_profile(void)
{
        struct silo_seccomp_prog *prog = NULL;
        silo_error_t err = NULL;
        char results[MAX_CHECKS];
        int r, status;

        r = silo_seccomp_compile(&notify_profile, &prog, &err);
        is_int(r, 0, "compile NOTIFY profile (%s)", err ? err->msg : "ok");
        if (r < 0) {
                silo_error_free(&err);
                return;
        }
        ok(prog->notify, "prog->notify set by a NOTIFY rule");
        status = run_child(child_notify_profile, prog, results, sizeof(results));
        ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "notify child exited cleanly (status 0x%x)",
           status);
        check_results(results, notify_checks);
        silo_seccomp_prog_free(prog);
}

/* Compile `s`, expect failure whose message starts with `prefix`. */
static void expect_error(const struct silo_seccomp *s, const char *prefix, const char *what)
{
        struct silo_seccomp_prog *prog = NULL;
        silo_error_t err = NULL;
        int r = silo_seccomp_compile(s, &prog, &err);

        ok(r < 0 && err && silo_str_has_prefix(err->msg, prefix), "%s: '%s'", what,
           err ? err->msg : "(none)");
        silo_seccomp_prog_free(prog);
        silo_error_free(&err);
}

static void test_errors(void)
{
        char *bad_arch[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_FOO", NULL};
        char *bad_arch2[] = {"x86_64", NULL};
        char *newer_arch[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_LOONGARCH64", NULL};
        char *bad_flag[] = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_NOPE", NULL};
        char *n_one[] = {"getpid", NULL};
        char *n_empty[] = {"getpid", "", NULL};
        struct silo_seccomp_arg bad_index[] = {{.index = 6, .value = 1, .op = SILO_SCMP_CMP_EQ}};
        struct silo_seccomp_rule rules[4] = {
            {.names = n_one, .action = SILO_SCMP_ERRNO, .errno_ret = SILO_UNSET},
            {.names = n_one, .action = SILO_SCMP_ERRNO, .errno_ret = SILO_UNSET},
            {.names = n_one, .action = SILO_SCMP_ERRNO, .errno_ret = SILO_UNSET},
            {.names = n_one, .action = (enum silo_seccomp_action)99, .errno_ret = SILO_UNSET},
        };
        struct silo_seccomp s = {
            .default_action = SILO_SCMP_ALLOW,
            .default_errno_ret = SILO_UNSET,
            .architectures = bad_arch,
        };
        struct silo_seccomp_prog *prog = NULL;
        silo_error_t err = NULL;
        int r;

        expect_error(&s, "/linux/seccomp/architectures/1: unknown architecture 'SCMP_ARCH_FOO'", "bad arch");
        s.architectures = bad_arch2;
        expect_error(&s, "/linux/seccomp/architectures/0: unknown architecture 'x86_64'",
                     "arch without prefix");

        s.architectures = newer_arch;
        r = silo_seccomp_compile(&s, &prog, &err);
        ok(r == 0, "libseccomp 2.6 arch (LOONGARCH64) is skipped with a warning");
        silo_seccomp_prog_free(prog);
        prog = NULL;
        silo_error_free(&err);
        s.architectures = NULL;

        s.flags = bad_flag;
        expect_error(&s, "/linux/seccomp/flags/1: unknown seccomp flag 'SECCOMP_FILTER_FLAG_NOPE'",
                     "bad flag");
        s.flags = NULL;

        s.syscalls = rules;
        s.n_syscalls = 4;
        expect_error(&s, "/linux/seccomp/syscalls/3/action", "bad action");
        rules[3].action = SILO_SCMP_ERRNO;

        rules[1].errno_ret = 70000;
        expect_error(&s, "/linux/seccomp/syscalls/1/errnoRet", "errnoRet out of range");
        rules[1].errno_ret = SILO_UNSET;

        rules[2].args = bad_index;
        rules[2].n_args = 1;
        expect_error(&s, "/linux/seccomp/syscalls/2/args/0/index", "arg index out of range");
        rules[2].args = NULL;
        rules[2].n_args = 0;

        rules[0].names = n_empty;
        expect_error(&s, "/linux/seccomp/syscalls/0/names/1", "empty syscall name");
        rules[0].names = n_one;

        s.default_action = (enum silo_seccomp_action)77;
        expect_error(&s, "/linux/seccomp/defaultAction", "bad default action");
        s.default_action = SILO_SCMP_ERRNO;
        s.default_errno_ret = -1;
        expect_error(&s, "/linux/seccomp/defaultErrnoRet", "bad defaultErrnoRet");

        /* Every rule equals the default (ERRNO/EPERM): all skipped, still a valid program. */
        s.default_errno_ret = SILO_UNSET;
        r = silo_seccomp_compile(&s, &prog, &err);
        ok(r == 0 && prog && prog->len > 0, "rules equal to the default action are skipped");
        silo_seccomp_prog_free(prog);
        silo_error_free(&err);

        /* Default NOTIFY sets notify. */
        s.default_action = SILO_SCMP_NOTIFY;
        s.syscalls = NULL;
        s.n_syscalls = 0;
        prog = NULL;
        r = silo_seccomp_compile(&s, &prog, &err);
        ok(r == 0 && prog && prog->notify, "default NOTIFY sets prog->notify");
        silo_seccomp_prog_free(prog);
        silo_error_free(&err);
}

static size_t strv_count(const char *const *v)
{
        size_t n = 0;

        while (v[n])
                n++;
        return n;
}

static void test_names(void)
{
        is_int(strv_count(silo_seccomp_action_names), 9, "9 action names");
        is_int(strv_count(silo_seccomp_op_names), 7, "7 operator names");
        ok(strv_count(silo_seccomp_arch_names) >= 19, "arch names");
        is_int(strv_count(silo_seccomp_flag_names), 4, "4 flag names");
}

/* ---- capabilities ------------------------------------------------------------------------ */

#define BIT(c) (UINT64_C(1) << (c))

static void test_cap_names(void)
{
        int last = silo_cap_last(), bad = 0;

        ok(last >= 40, "cap_last %d >= 40", last);
        is_int(silo_cap_from_name("CAP_SYS_ADMIN"), 21, "CAP_SYS_ADMIN = 21");
        is_int(silo_cap_from_name("CAP_CHOWN"), 0, "CAP_CHOWN = 0");
        is_int(silo_cap_from_name("CAP_CHECKPOINT_RESTORE"), 40, "CAP_CHECKPOINT_RESTORE = 40");
        is_str(silo_cap_name(21), "CAP_SYS_ADMIN", "name of 21");
        is_str(silo_cap_name(0), "CAP_CHOWN", "name of 0");
        ok(silo_cap_name(21) == silo_cap_name(21), "name is a stable static string");
        for (int c = 0; c <= last && c <= 40; c++)
                if (silo_cap_name(c) == NULL || silo_cap_from_name(silo_cap_name(c)) != c)
                        bad++;
        is_int(bad, 0, "name <-> number round trip for 0..%d", last < 40 ? last : 40);
        is_int(silo_cap_from_name("cap_sys_admin"), -1, "lower case refused");
        is_int(silo_cap_from_name("CAP_NOPE"), -1, "unknown name refused");
        is_int(silo_cap_from_name("21"), -1, "number refused");
        is_int(silo_cap_from_name("CAP_21"), -1, "CAP_<number> refused");
        is_int(silo_cap_from_name("SYS_ADMIN"), -1, "missing CAP_ prefix refused");
        ok(silo_cap_name(-1) == NULL && silo_cap_name(64) == NULL, "out of range -> NULL");
        ok(strv_count(silo_default_caps) == 3 && strcmp(silo_default_caps[0], "CAP_AUDIT_WRITE") == 0 &&
               strcmp(silo_default_caps[1], "CAP_KILL") == 0 &&
               strcmp(silo_default_caps[2], "CAP_NET_BIND_SERVICE") == 0,
           "default caps are runc spec's three");
}

static uint64_t status_mask(const char *key)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
        char line[256];
        size_t n = strlen(key);

        while (f && fgets(line, sizeof(line), f))
                if (strncmp(line, key, n) == 0 && line[n] == ':')
                        return strtoull(line + n + 1, NULL, 16);
        return UINT64_MAX;
}

static const struct silo_caps reduced = {
    .present = true,
    .bounding = BIT(CAP_CHOWN) | BIT(CAP_KILL) | BIT(CAP_NET_BIND_SERVICE),
    .effective = BIT(CAP_KILL) | BIT(CAP_NET_BIND_SERVICE),
    .permitted = BIT(CAP_CHOWN) | BIT(CAP_KILL) | BIT(CAP_NET_BIND_SERVICE),
    .inheritable = BIT(CAP_NET_BIND_SERVICE),
    .ambient = BIT(CAP_NET_BIND_SERVICE),
};

static void child_caps(const void *arg)
{
        struct silo_caps more = reduced;
        silo_error_t err = NULL;

        (void)arg;
        report(silo_caps_drop_bounding(&reduced, &err) == 0);
        /* an ambient cap missing from I is skipped, as runc does (its own `spec` asks for that) */
        more.ambient |= BIT(CAP_KILL);
        report(silo_caps_apply(&more, &err) == 0);
        more = reduced;
        report(status_mask("CapEff") == reduced.effective);
        report(status_mask("CapPrm") == reduced.permitted);
        report(status_mask("CapInh") == reduced.inheritable);
        report(status_mask("CapBnd") == reduced.bounding);
        report(status_mask("CapAmb") == reduced.ambient);

        /* Gaining a permitted cap back is impossible: the error names it. */
        more.permitted |= BIT(CAP_SYS_ADMIN);
        report(silo_caps_apply(&more, &err) < 0 && err && strstr(err->msg, "'CAP_SYS_ADMIN'") != NULL);
        silo_error_free(&err);

        /* Dropping everything clears ambient too. */
        more = (struct silo_caps){.present = true};
        report(silo_caps_apply(&more, &err) == 0 && status_mask("CapEff") == 0 &&
               status_mask("CapAmb") == 0 && status_mask("CapPrm") == 0);
        silo_error_free(&err);
}

static const char *const caps_checks[] = {
    "caps child: bounding dropped",
    "caps child: E/P/I/ambient applied (ambient CAP_KILL without I skipped)",
    "CapEff matches",
    "CapPrm matches",
    "CapInh matches",
    "CapBnd matches",
    "CapAmb matches",
    "raising a cap missing from P fails naming it",
    "empty set applied, ambient cleared",
    NULL,
};

static void test_caps_apply(void)
{
        char results[MAX_CHECKS];
        int status;

        if (geteuid() != 0 || status_mask("CapEff") != status_mask("CapBnd")) {
                printf("ok %d # SKIP caps apply: needs root with a full effective set\n", ++tap_n);
                return;
        }
        status = run_child(child_caps, NULL, results, sizeof(results));
        ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "caps child exited cleanly (status 0x%x)", status);
        check_results(results, caps_checks);
}

int main(void)
{
        test_names();
        test_errors();
        probe_abis();
        test_allow_profile();
        test_kill_profile();
        test_enosys_profile();
        test_enosys_bpf();
        test_notify_profile();
        test_cap_names();
        test_caps_apply();
        return done();
}
