/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * linux.seccomp -> classic BPF, compiled with libseccomp in the parent; loaded with seccomp(2).
 *
 * Invariants:
 *   - silo_seccomp_compile() does all the library work (and all allocation) before clone, so the
 *     container init only has a ready-made sock_filter array to hand to the kernel.
 *   - silo_seccomp_load() makes no libseccomp call and does not allocate on success: it runs in
 *     the container init right before execve, possibly after the filter denies brk/mmap.
 *   - The filter is loaded by us, not by seccomp_load(), so libseccomp's filter attributes that
 *     only matter at load time (NNP, TSYNC, LOG, SSB) are not used: the SECCOMP_FILTER_FLAG_*
 *     bits live in prog->flags, and NO_NEW_PRIVS is the runtime's business (process.noNewPrivileges).
 *   - Semantics follow runc: unknown syscall names are ignored (profiles such as moby's name
 *     syscalls newer than the installed libseccomp), rules whose action is the default action are
 *     skipped (libseccomp refuses them), and several conditions on the same argument index turn
 *     into one rule per condition (OR) instead of a single ANDed rule.
 *   - Unless the default action is permissive, an -ENOSYS stub is put in front of libseccomp's
 *     program: per architecture, syscall numbers above the highest one the profile names return
 *     ENOSYS instead of the default action, so that libcs fall back (clone3 -> clone) when the
 *     profile predates a syscall.  The stub only uses forward jumps to its own end, so it is
 *     position independent of the program appended after it.
 */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#ifndef SCMP_VER_MAJOR
#error "<seccomp.h> resolved to runtime/seccomp.h: put runtime/ on the path with -iquote, not -I"
#endif
#include "log.h"
#include "seccomp.h"
#include "util.h"

#ifndef SECCOMP_FILTER_FLAG_SPEC_ALLOW
#define SECCOMP_FILTER_FLAG_SPEC_ALLOW (1UL << 2)
#endif
#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif
#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

#define SCMP_ARCH_PREFIX "SCMP_ARCH_"
#define SECCOMP_MAX_ARGS 6 /* syscall arguments the kernel passes in seccomp_data */

const char *const silo_seccomp_action_names[] = {
    "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO",  "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_LOG",   "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP",         NULL,
};

const char *const silo_seccomp_op_names[] = {
    "SCMP_CMP_EQ", "SCMP_CMP_GE",        "SCMP_CMP_GT", "SCMP_CMP_LE",
    "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE", NULL,
};

/* The architectures libseccomp 2.5 resolves (seccomp_arch_resolve_name of the lowercased suffix). */
const char *const silo_seccomp_arch_names[] = {
    "SCMP_ARCH_AARCH64",   "SCMP_ARCH_ARM",      "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",
    "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",   "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32",
    "SCMP_ARCH_PARISC",    "SCMP_ARCH_PARISC64", "SCMP_ARCH_PPC",      "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE",   "SCMP_ARCH_RISCV64",  "SCMP_ARCH_S390",     "SCMP_ARCH_S390X",
    "SCMP_ARCH_X32",       "SCMP_ARCH_X86",      "SCMP_ARCH_X86_64",   NULL,
};

/* Valid in runtime-spec 1.2.1 but only known to libseccomp >= 2.6: never the native arch of a
 * binary linked against 2.5, so a profile listing them (for portability) is not an error. */
static const char *const newer_arch_names[] = {
    "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB", NULL,
};

static const struct {
        const char *name;
        unsigned int flag;
} flag_table[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
};

const char *const silo_seccomp_flag_names[] = {
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
    NULL,
};

static void seccomp_releasep(scmp_filter_ctx *ctx)
{
        if (*ctx)
                seccomp_release(*ctx);
}

static bool strv_contains(const char *const *v, const char *s)
{
        for (; *v; v++)
                if (strcmp(*v, s) == 0)
                        return true;
        return false;
}

/* errnoRet/defaultErrnoRet: the kernel keeps 16 bits of SECCOMP_RET_DATA. */
static int errno_value(int64_t v, const char *pointer, uint32_t *ret, silo_error_t *err)
{
        if (v == SILO_UNSET) {
                *ret = EPERM;
                return 0;
        }
        if (v < 0 || v > 0xffff)
                return silo_error_set(err, 0, "%s: errno %lld out of range (0-65535)", pointer, (long long)v);
        *ret = (uint32_t)v;
        return 0;
}

static int action_value(enum silo_seccomp_action a, int64_t errno_ret, const char *errno_pointer,
                        const char *pointer, uint32_t *ret, silo_error_t *err)
{
        uint32_t e = EPERM;
        int r;

        switch (a) {
        case SILO_SCMP_KILL:
        case SILO_SCMP_KILL_THREAD:
                *ret = SCMP_ACT_KILL_THREAD;
                return 0;
        case SILO_SCMP_KILL_PROCESS:
                *ret = SCMP_ACT_KILL_PROCESS;
                return 0;
        case SILO_SCMP_TRAP:
                *ret = SCMP_ACT_TRAP;
                return 0;
        case SILO_SCMP_ERRNO:
        case SILO_SCMP_TRACE:
                r = errno_value(errno_ret, errno_pointer, &e, err);
                if (r < 0)
                        return r;
                *ret = a == SILO_SCMP_ERRNO ? SCMP_ACT_ERRNO(e) : SCMP_ACT_TRACE(e);
                return 0;
        case SILO_SCMP_ALLOW:
                *ret = SCMP_ACT_ALLOW;
                return 0;
        case SILO_SCMP_LOG:
                *ret = SCMP_ACT_LOG;
                return 0;
        case SILO_SCMP_NOTIFY:
                *ret = SCMP_ACT_NOTIFY;
                return 0;
        }
        return silo_error_set(err, 0, "%s: unknown action %d", pointer, (int)a);
}

static int op_value(enum silo_seccomp_op op, enum scmp_compare *ret)
{
        switch (op) {
        case SILO_SCMP_CMP_NE:
                *ret = SCMP_CMP_NE;
                return 0;
        case SILO_SCMP_CMP_LT:
                *ret = SCMP_CMP_LT;
                return 0;
        case SILO_SCMP_CMP_LE:
                *ret = SCMP_CMP_LE;
                return 0;
        case SILO_SCMP_CMP_EQ:
                *ret = SCMP_CMP_EQ;
                return 0;
        case SILO_SCMP_CMP_GE:
                *ret = SCMP_CMP_GE;
                return 0;
        case SILO_SCMP_CMP_GT:
                *ret = SCMP_CMP_GT;
                return 0;
        case SILO_SCMP_CMP_MASKED_EQ:
                *ret = SCMP_CMP_MASKED_EQ;
                return 0;
        }
        return -EINVAL;
}

/* Architectures in the filter: the native one plus those of linux.seccomp.architectures. */
struct arch_set {
        uint32_t tokens[32];
        size_t n;
};

static void arch_set_add(struct arch_set *set, uint32_t token)
{
        for (size_t i = 0; i < set->n; i++)
                if (set->tokens[i] == token)
                        return;
        if (set->n < ARRAY_SIZE(set->tokens))
                set->tokens[set->n++] = token;
}

static int add_architectures(scmp_filter_ctx ctx, char *const *archs, struct arch_set *set, silo_error_t *err)
{
        for (size_t i = 0; archs && archs[i]; i++) {
                const char *name = archs[i];
                char lower[32];
                uint32_t token;
                size_t n;
                int r;

                if (!silo_str_has_prefix(name, SCMP_ARCH_PREFIX))
                        goto unknown;
                n = strlen(name + strlen(SCMP_ARCH_PREFIX));
                if (n == 0 || n >= sizeof(lower))
                        goto unknown;
                for (size_t j = 0; j <= n; j++)
                        lower[j] = (char)tolower((unsigned char)name[strlen(SCMP_ARCH_PREFIX) + j]);
                token = seccomp_arch_resolve_name(lower);
                if (token == 0) {
                        if (strv_contains(newer_arch_names, name)) {
                                silo_warn(
                                    "/linux/seccomp/architectures/%zu: architecture '%s' is not supported "
                                    "by libseccomp %u.%u, ignoring",
                                    i, name, seccomp_version()->major, seccomp_version()->minor);
                                continue;
                        }
                        goto unknown;
                }
                r = seccomp_arch_add(ctx, token);
                if (r == -EDOM) {
                        /* One filter only holds arches of one byte order (e.g. s390x next to x86_64);
                         * such an arch can never run here, so a multi-arch profile still works. */
                        silo_warn("/linux/seccomp/architectures/%zu: architecture '%s' has a different byte "
                                  "order than the native one, ignoring",
                                  i, name);
                        continue;
                }
                if (r < 0 && r != -EEXIST) /* EEXIST: the native arch, always present */
                        return silo_error_set(
                            err, -r, "/linux/seccomp/architectures/%zu: adding architecture '%s'", i, name);
                arch_set_add(set, token);
                continue;
        unknown:
                return silo_error_set(err, 0, "/linux/seccomp/architectures/%zu: unknown architecture '%s'",
                                      i, name);
        }
        return 0;
}

static int parse_flags(char *const *flags, unsigned int *ret, silo_error_t *err)
{
        unsigned int f = 0;

        for (size_t i = 0; flags && flags[i]; i++) {
                size_t j;

                for (j = 0; j < ARRAY_SIZE(flag_table); j++)
                        if (strcmp(flags[i], flag_table[j].name) == 0)
                                break;
                if (j == ARRAY_SIZE(flag_table))
                        return silo_error_set(err, 0, "/linux/seccomp/flags/%zu: unknown seccomp flag '%s'",
                                              i, flags[i]);
                f |= flag_table[j].flag;
        }
        *ret = f;
        return 0;
}

/* One syscall name of one rule (cmps built from its args).  Returns 1 when a rule was added. */
static int add_rule_for_name(scmp_filter_ctx ctx, const struct silo_seccomp_rule *rule, size_t ri, size_t ni,
                             uint32_t action, const struct scmp_arg_cmp *cmps, bool split, silo_error_t *err)
{
        const char *name = rule->names[ni];
        int nr, r;

        if (name[0] == '\0')
                return silo_error_set(err, 0, "/linux/seccomp/syscalls/%zu/names/%zu: empty syscall name", ri,
                                      ni);
        nr = seccomp_syscall_resolve_name(name);
        if (nr == __NR_SCMP_ERROR) {
                silo_debug("seccomp: syscall '%s' unknown to libseccomp, ignoring", name);
                return 0;
        }

        if (!split) {
                r = seccomp_rule_add_array(ctx, action, nr, (unsigned int)rule->n_args, cmps);
        } else {
                r = 0;
                for (size_t k = 0; k < rule->n_args && r >= 0; k++)
                        r = seccomp_rule_add_array(ctx, action, nr, 1, &cmps[k]);
        }
        if (r < 0)
                return silo_error_set(err, -r,
                                      "/linux/seccomp/syscalls/%zu/names/%zu: adding rule for syscall '%s'",
                                      ri, ni, name);
        return 1;
}

static int add_rule(scmp_filter_ctx ctx, const struct silo_seccomp_rule *rule, size_t ri,
                    uint32_t default_action, bool *notify, silo_error_t *err)
{
        _cleanup_free_ struct scmp_arg_cmp *cmps = NULL;
        unsigned int per_index[SECCOMP_MAX_ARGS] = {0};
        char pointer[96], errno_pointer[96];
        bool split = false;
        uint32_t action;
        int r;

        snprintf(pointer, sizeof(pointer), "/linux/seccomp/syscalls/%zu/action", ri);
        snprintf(errno_pointer, sizeof(errno_pointer), "/linux/seccomp/syscalls/%zu/errnoRet", ri);
        r = action_value(rule->action, rule->errno_ret, errno_pointer, pointer, &action, err);
        if (r < 0)
                return r;

        if (rule->n_args > 0) {
                cmps = silo_xmalloc0(rule->n_args * sizeof(*cmps));
                for (size_t k = 0; k < rule->n_args; k++) {
                        const struct silo_seccomp_arg *a = &rule->args[k];
                        enum scmp_compare op;

                        if (a->index >= SECCOMP_MAX_ARGS)
                                return silo_error_set(
                                    err, 0,
                                    "/linux/seccomp/syscalls/%zu/args/%zu/index: %u out of range "
                                    "(0-5)",
                                    ri, k, a->index);
                        if (op_value(a->op, &op) < 0)
                                return silo_error_set(err, 0,
                                                      "/linux/seccomp/syscalls/%zu/args/%zu/op: unknown "
                                                      "operator %d",
                                                      ri, k, (int)a->op);
                        /* MASKED_EQ: value is the mask, valueTwo the expected result (as runc). */
                        cmps[k] = (struct scmp_arg_cmp){
                            .arg = a->index,
                            .op = op,
                            .datum_a = a->value,
                            .datum_b = a->value_two,
                        };
                        if (++per_index[a->index] > 1)
                                split = true;
                }
        }

        if (action == default_action) {
                /* libseccomp refuses rules equal to the default; they would be no-ops anyway. */
                silo_debug("seccomp: /linux/seccomp/syscalls/%zu has the default action, skipping", ri);
                return 0;
        }

        for (size_t ni = 0; rule->names && rule->names[ni]; ni++) {
                r = add_rule_for_name(ctx, rule, ri, ni, action, cmps, split, err);
                if (r < 0)
                        return r;
                if (r > 0 && action == SCMP_ACT_NOTIFY)
                        *notify = true;
        }
        return 0;
}

#define X32_SYSCALL_BIT 0x40000000u
#define STUB_MAX 255 /* jt/jf are 8 bits: every target inside the stub stays reachable */

struct stub_arch {
        uint32_t audit;            /* AUDIT_ARCH_* as the kernel reports it in seccomp_data.arch */
        int64_t max_main, max_x32; /* highest syscall number named by the profile, -1 if none */
};

static void stub_note(const struct silo_seccomp *s, uint32_t token, struct stub_arch *a)
{
        bool x32 = token == SCMP_ARCH_X32;

        for (size_t i = 0; i < s->n_syscalls; i++)
                for (char **n = s->syscalls[i].names; n && *n; n++) {
                        int nr = seccomp_syscall_resolve_name_arch(token, *n);

                        if (nr < 0) /* unknown, or a pseudo-syscall this arch lacks */
                                continue;
                        if (x32 && nr > a->max_x32)
                                a->max_x32 = nr;
                        if (!x32 && nr > a->max_main)
                                a->max_main = nr;
                }
}

/* ld nr; [jset x32 bit, for AUDIT_ARCH_X86_64]; one jgt per mode present. */
static size_t section_len(const struct stub_arch *a)
{
        return 1 + (a->audit == SCMP_ARCH_X86_64 ? 1 : 0) + (a->max_main >= 0 && a->max_x32 >= 0 ? 2 : 1);
}

static struct sock_filter stmt(uint16_t code, uint32_t k)
{
        return (struct sock_filter){.code = code, .k = k};
}

static struct sock_filter jump(uint16_t code, uint32_t k, size_t pos, size_t jt, size_t jf)
{
        return (struct sock_filter){
            .code = code, .jt = (uint8_t)(jt - pos - 1), .jf = (uint8_t)(jf - pos - 1), .k = k};
}

/* Build the -ENOSYS stub (see the top of the file) into f; returns its length, 0 for none.
 * Layout: load arch; one jeq per arch to its section; ja filter; sections; ret ENOSYS; (filter). */
static size_t build_enosys_stub(const struct silo_seccomp *s, const struct arch_set *set,
                                struct sock_filter f[STUB_MAX])
{
        struct stub_arch archs[ARRAY_SIZE(set->tokens)];
        size_t n = 0, len, pos = 0, section, enosys, filter;

        for (size_t i = 0; i < set->n; i++) {
                uint32_t audit = set->tokens[i] == SCMP_ARCH_X32 ? SCMP_ARCH_X86_64 : set->tokens[i];
                size_t j;

                for (j = 0; j < n && archs[j].audit != audit; j++)
                        ;
                if (j == n)
                        archs[n++] = (struct stub_arch){.audit = audit, .max_main = -1, .max_x32 = -1};
                stub_note(s, set->tokens[i], &archs[j]);
        }

        /* Drop arches the profile names no syscall for: nothing to compare against. */
        len = 0;
        for (size_t i = 0; i < n; i++)
                if (archs[i].max_main >= 0 || archs[i].max_x32 >= 0)
                        archs[len++] = archs[i];
        n = len;
        if (n == 0)
                return 0;

        /* Sizes first, so every jump target is known: all targets lie inside the stub, which stays
         * far below 255 instructions (at most 19 arches of 5 instructions). */
        len = 1 + n + 1;
        for (size_t i = 0; i < n; i++)
                len += section_len(&archs[i]);
        len += 1;
        if (len > STUB_MAX)
                return 0;
        enosys = len - 1;
        filter = len;

        f[pos++] = stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
        section = 1 + n + 1;
        for (size_t i = 0; i < n; i++) {
                f[pos] = jump(BPF_JMP | BPF_JEQ | BPF_K, archs[i].audit, pos, section, pos + 1);
                pos++;
                section += section_len(&archs[i]);
        }
        f[pos] = stmt(BPF_JMP | BPF_JA, (uint32_t)(filter - pos - 1));
        pos++;

        for (size_t i = 0; i < n; i++) {
                const struct stub_arch *a = &archs[i];

                f[pos++] = stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
                if (a->audit != SCMP_ARCH_X86_64) {
                        f[pos] = jump(BPF_JMP | BPF_JGT | BPF_K, (uint32_t)a->max_main, pos, enosys, filter);
                        pos++;
                        continue;
                }
                /* x86_64 and x32 share AUDIT_ARCH_X86_64; x32 numbers carry bit 30.  A mode the
                 * profile does not list goes to the filter untouched (bad arch action there). */
                if (a->max_main >= 0 && a->max_x32 >= 0) {
                        f[pos] = jump(BPF_JMP | BPF_JSET | BPF_K, X32_SYSCALL_BIT, pos, pos + 2, pos + 1);
                        pos++;
                        f[pos] = jump(BPF_JMP | BPF_JGT | BPF_K, (uint32_t)a->max_main, pos, enosys, filter);
                        pos++;
                        f[pos] = jump(BPF_JMP | BPF_JGT | BPF_K, (uint32_t)a->max_x32, pos, enosys, filter);
                        pos++;
                } else if (a->max_main >= 0) {
                        f[pos] = jump(BPF_JMP | BPF_JSET | BPF_K, X32_SYSCALL_BIT, pos, filter, pos + 1);
                        pos++;
                        f[pos] = jump(BPF_JMP | BPF_JGT | BPF_K, (uint32_t)a->max_main, pos, enosys, filter);
                        pos++;
                } else {
                        f[pos] = jump(BPF_JMP | BPF_JSET | BPF_K, X32_SYSCALL_BIT, pos, pos + 1, filter);
                        pos++;
                        f[pos] = jump(BPF_JMP | BPF_JGT | BPF_K, (uint32_t)a->max_x32, pos, enosys, filter);
                        pos++;
                }
        }
        f[pos++] = stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
        return pos;
}

/* The stub is pointless when unknown syscalls are allowed anyway or already get ENOSYS. */
static bool want_enosys_stub(uint32_t default_action)
{
        return default_action != SCMP_ACT_ALLOW && default_action != SCMP_ACT_LOG &&
               default_action != SCMP_ACT_ERRNO(ENOSYS);
}

/* seccomp_export_bpf() only writes to an fd in 2.5 (no _mem variant): go through a memfd. */
static int export_bpf(scmp_filter_ctx ctx, const struct sock_filter *stub, size_t stub_len,
                      struct silo_seccomp_prog *prog, silo_error_t *err)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r;

        fd = memfd_create("silo-seccomp", MFD_CLOEXEC);
        if (fd < 0)
                return silo_error_set(err, errno, "seccomp: memfd_create");
        r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return silo_error_set(err, -r, "/linux/seccomp: exporting the BPF program");
        if (lseek(fd, 0, SEEK_SET) < 0)
                return silo_error_set(err, errno, "seccomp: lseek");
        r = silo_read_fd(fd, (BPF_MAXINSNS + 1) * sizeof(struct sock_filter), &buf, &len);
        if (r == -EFBIG || len / sizeof(struct sock_filter) + stub_len > BPF_MAXINSNS)
                return silo_error_set(
                    err, 0, "/linux/seccomp: filter larger than the kernel's %d instructions", BPF_MAXINSNS);
        if (r < 0)
                return silo_error_set(err, -r, "seccomp: reading the exported BPF program");
        if (len == 0 || len % sizeof(struct sock_filter) != 0)
                return silo_error_set(err, 0, "seccomp: libseccomp exported a malformed program (%zu bytes)",
                                      len);
        prog->filter = silo_xmalloc0(stub_len * sizeof(struct sock_filter) + len);
        if (stub_len > 0)
                memcpy(prog->filter, stub, stub_len * sizeof(struct sock_filter));
        memcpy(prog->filter + stub_len, buf, len);
        prog->len = (unsigned short)(stub_len + len / sizeof(struct sock_filter));
        return 0;
}

int silo_seccomp_compile(const struct silo_seccomp *s, struct silo_seccomp_prog **ret, silo_error_t *err)
{
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        struct sock_filter stub[STUB_MAX];
        struct arch_set archs = {.n = 0};
        struct silo_seccomp_prog *prog;
        size_t stub_len = 0;
        uint32_t default_action;
        unsigned int flags = 0;
        bool notify;
        int r;

        r = action_value(s->default_action, s->default_errno_ret, "/linux/seccomp/defaultErrnoRet",
                         "/linux/seccomp/defaultAction", &default_action, err);
        if (r < 0)
                return r;
        r = parse_flags(s->flags, &flags, err);
        if (r < 0)
                return r;
        notify = default_action == SCMP_ACT_NOTIFY;

        ctx = seccomp_init(default_action);
        if (ctx == NULL)
                return silo_error_set(err, 0, "/linux/seccomp/defaultAction: libseccomp refused the action");
        /* We load the filter ourselves; NO_NEW_PRIVS is set (or not) by the runtime per the spec. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        if (r < 0)
                return silo_error_set(err, -r, "seccomp: clearing SCMP_FLTATR_CTL_NNP");

        arch_set_add(&archs, seccomp_arch_native());
        r = add_architectures(ctx, s->architectures, &archs, err);
        if (r < 0)
                return r;

        for (size_t i = 0; i < s->n_syscalls; i++) {
                r = add_rule(ctx, &s->syscalls[i], i, default_action, &notify, err);
                if (r < 0)
                        return r;
        }

        if (want_enosys_stub(default_action))
                stub_len = build_enosys_stub(s, &archs, stub);

        prog = silo_xmalloc0(sizeof(*prog));
        r = export_bpf(ctx, stub, stub_len, prog, err);
        if (r < 0) {
                silo_seccomp_prog_free(prog);
                return r;
        }
        prog->flags = flags;
        prog->notify = notify;
        silo_debug("seccomp: compiled %u BPF instructions (%zu of them the ENOSYS stub), flags 0x%x%s",
                   prog->len, stub_len, flags, notify ? ", notify" : "");
        *ret = prog;
        return 0;
}

static int do_seccomp(unsigned int flags, const struct sock_fprog *fprog)
{
        return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, fprog);
}

int silo_seccomp_load(const struct silo_seccomp_prog *p, int *ret_listener_fd, silo_error_t *err)
{
        const unsigned int optional = SECCOMP_FILTER_FLAG_SPEC_ALLOW | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
        struct sock_fprog fprog = {.len = p->len, .filter = p->filter};
        unsigned int flags = p->flags;
        int r;

        if (ret_listener_fd)
                *ret_listener_fd = -1;
        if (p->notify) {
                flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
                /* TSYNC and NEW_LISTENER both want the return value: the kernel (5.7+) only accepts
                 * the pair with TSYNC_ESRCH, which is what libseccomp does too. */
                if (flags & SECCOMP_FILTER_FLAG_TSYNC)
                        flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
        } else {
                /* Meaningless without a listener, and the kernel rejects it with EINVAL. */
                flags &= ~(unsigned int)SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
        }

        r = do_seccomp(flags, &fprog);
        if (r < 0 && errno == EINVAL && (flags & optional)) {
                /* SPEC_ALLOW needs 4.17, WAIT_KILLABLE_RECV 5.19: degrade like runc does. */
                silo_warn("seccomp: kernel rejected SECCOMP_FILTER_FLAG_SPEC_ALLOW/WAIT_KILLABLE_RECV, "
                          "loading the filter without them");
                flags &= ~optional;
                r = do_seccomp(flags, &fprog);
        }
        if (r < 0) {
                if (errno == EACCES)
                        return silo_error_set(err, errno,
                                              "seccomp: loading the filter needs noNewPrivileges "
                                              "or CAP_SYS_ADMIN");
                return silo_error_set(err, errno, "seccomp: loading the filter (flags 0x%x)", flags);
        }
        if (p->notify) {
                if (ret_listener_fd)
                        *ret_listener_fd = r;
                else
                        close(r);
        }
        return 0;
}

void silo_seccomp_prog_free(struct silo_seccomp_prog *p)
{
        if (p == NULL)
                return;
        free(p->filter);
        free(p);
}
