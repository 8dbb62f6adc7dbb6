/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cgroup v2 device control: linux.resources.devices as a BPF_PROG_TYPE_CGROUP_DEVICE program.
 *
 * v2 has no devices controller; the kernel runs the eBPF programs attached to the cgroup (and
 * its ancestors) on every open/mknod of a device node and denies access when one returns 0.
 *
 * The program: the rule list is "deny everything", then the config's rules in order, then the
 * standard allow list every container gets (the same list as the v1 driver's devices.allow
 * lines); the LAST matching rule decides, as with v1 devices.allow/deny writes.  The generator
 * therefore emits one block per rule in reverse order, each ending in "return verdict", and
 * falls through to "return 0" (deny).  A rule matches when the device type matches (or the rule
 * is 'a'), major and minor match (or are wildcards), and every access bit requested is in the
 * rule's access set (runc's devicefilter semantics).
 *
 *   prologue: r2 = type (ctx->access_type & 0xffff), r3 = access (ctx->access_type >> 16),
 *             r4 = major, r5 = minor
 *   block:    [if r2 != TYPE goto next] [r1 = r3; r1 &= ACC; if r1 != r3 goto next]
 *             [if r4 != MAJOR goto next] [if r5 != MINOR goto next] r0 = ALLOW; exit
 *   tail:     r0 = 0; exit      (left out after a block that matches everything: "a *:* rwm")
 *
 * Invariants:
 *   - Raw bpf(2) syscalls, no libbpf.  Every fd is O_CLOEXEC (bpf fds are close-on-exec).
 *   - Replacing (update): the new program is attached (BPF_F_ALLOW_MULTI) BEFORE the old ones
 *     are detached, so there is never a moment without a filter.  Every program attached to the
 *     container's cgroup is silo's (silo created the cgroup), so all others are detached.
 *   - Attached programs live as long as the attachment: no fd is kept, and removing the cgroup
 *     releases them.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "cgroup-internal.h"
#include "../runtime/log.h"
#include "../runtime/util.h"

/* The standard allow list (runc's and crun's): mknod of anything, and the /dev nodes every
 * container has: null, zero, full, random, urandom, tty, console, ptmx, /dev/pts/N, net/tun. */
static const struct silo_device_rule default_rules[] = {
    {true, 'c', -1, -1, "m"},    {true, 'b', -1, -1, "m"}, {true, 'c', 1, 3, "rwm"},
    {true, 'c', 1, 8, "rwm"},    {true, 'c', 1, 7, "rwm"}, {true, 'c', 5, 0, "rwm"},
    {true, 'c', 1, 5, "rwm"},    {true, 'c', 1, 9, "rwm"}, {true, 'c', 5, 1, "rwm"},
    {true, 'c', 136, -1, "rwm"}, {true, 'c', 5, 2, "rwm"}, {true, 'c', 10, 200, "rwm"},
};

/* ---------------------------------------------------------------- instruction encoding */

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
        return (struct bpf_insn){.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
}

struct prog {
        struct bpf_insn *v;
        size_t n, cap;
};

static size_t emit(struct prog *p, struct bpf_insn i)
{
        if (p->n == p->cap) {
                p->cap = p->cap ? p->cap * 2 : 64;
                p->v = silo_xrealloc(p->v, p->cap * sizeof(*p->v));
        }
        p->v[p->n] = i;
        return p->n++;
}

#define LDX_W(dst, src, off) insn(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0)
#define ALU32_IMM(op, dst, imm) insn(BPF_ALU | (op) | BPF_K, dst, 0, 0, imm)
#define MOV32_REG(dst, src) insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV64_IMM(dst, imm) insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define JNE_IMM(dst, imm) insn(BPF_JMP | BPF_JNE | BPF_K, dst, 0, 0, imm)
#define JNE_REG(dst, src) insn(BPF_JMP | BPF_JNE | BPF_X, dst, src, 0, 0)
#define EXIT() insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

static int rule_access(const struct silo_device_rule *d, const char *field, int32_t *ret, silo_error_t *err)
{
        const char *a = d->access && *d->access ? d->access : "rwm";
        int32_t m = 0;

        for (const char *c = a; *c; c++) {
                switch (*c) {
                case 'r':
                        m |= BPF_DEVCG_ACC_READ;
                        break;
                case 'w':
                        m |= BPF_DEVCG_ACC_WRITE;
                        break;
                case 'm':
                        m |= BPF_DEVCG_ACC_MKNOD;
                        break;
                default:
                        return silo_error_set(
                            err, EINVAL, "%s/access: invalid access '%s' (want a subset of rwm)", field, a);
                }
        }
        *ret = m;
        return 0;
}

static int emit_rule(struct prog *p, const struct silo_device_rule *d, const char *field, silo_error_t *err)
{
        const int32_t all = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;
        size_t jumps[5], nj = 0;
        int32_t acc = 0;
        int rc;

        rc = rule_access(d, field, &acc, err);
        if (rc < 0)
                return rc;
        switch (d->type) {
        case 0:
        case 'a':
                break;
        case 'c':
                jumps[nj++] = emit(p, JNE_IMM(2, BPF_DEVCG_DEV_CHAR));
                break;
        case 'b':
                jumps[nj++] = emit(p, JNE_IMM(2, BPF_DEVCG_DEV_BLOCK));
                break;
        default:
                return silo_error_set(err, EINVAL, "%s/type: invalid device type '%c'", field, d->type);
        }
        if (acc != all) {
                emit(p, MOV32_REG(1, 3));
                emit(p, ALU32_IMM(BPF_AND, 1, acc));
                jumps[nj++] = emit(p, JNE_REG(1, 3));
        }
        if (d->major != SILO_UNSET && d->major >= 0) {
                if (d->major > INT32_MAX)
                        return silo_error_set(err, ERANGE, "%s/major: %" PRId64 " is out of range", field,
                                              d->major);
                jumps[nj++] = emit(p, JNE_IMM(4, (int32_t)d->major));
        }
        if (d->minor != SILO_UNSET && d->minor >= 0) {
                if (d->minor > INT32_MAX)
                        return silo_error_set(err, ERANGE, "%s/minor: %" PRId64 " is out of range", field,
                                              d->minor);
                jumps[nj++] = emit(p, JNE_IMM(5, (int32_t)d->minor));
        }
        emit(p, MOV64_IMM(0, d->allow ? 1 : 0));
        emit(p, EXIT());
        /* every "goto next" lands on the instruction after this block's exit */
        for (size_t i = 0; i < nj; i++)
                p->v[jumps[i]].off = (int16_t)(p->n - (jumps[i] + 1));
        return nj == 0; /* 1: matches everything, what follows is unreachable */
}

int silo_cgroup_devices_prog(const struct silo_device_rule *rules, size_t n, struct bpf_insn **ret,
                             size_t *ret_n, silo_error_t *err)
{
        struct prog p = {0};
        int rc = 0;

        emit(&p, LDX_W(2, 1, offsetof(struct bpf_cgroup_dev_ctx, access_type)));
        emit(&p, ALU32_IMM(BPF_AND, 2, 0xffff));
        emit(&p, LDX_W(3, 1, offsetof(struct bpf_cgroup_dev_ctx, access_type)));
        emit(&p, ALU32_IMM(BPF_RSH, 3, 16));
        emit(&p, LDX_W(4, 1, offsetof(struct bpf_cgroup_dev_ctx, major)));
        emit(&p, LDX_W(5, 1, offsetof(struct bpf_cgroup_dev_ctx, minor)));
        /* last match wins: the standard list (applied last) first, then the config's rules
         * from the end */
        for (size_t i = ARRAY_SIZE(default_rules); rc == 0 && i-- > 0;)
                rc = emit_rule(&p, &default_rules[i], "/linux/resources/devices", err);
        /* the verifier refuses unreachable instructions: nothing after a rule that matches
         * every access ("a *:* rwm"), not even the default-deny tail */
        for (size_t i = n; rc == 0 && i-- > 0;) {
                char field[64];
                snprintf(field, sizeof(field), "/linux/resources/devices/%zu", i);
                rc = emit_rule(&p, &rules[i], field, err);
        }
        if (rc < 0) {
                free(p.v);
                return rc;
        }
        if (rc == 0) {
                emit(&p, MOV64_IMM(0, 0));
                emit(&p, EXIT());
        }
        *ret = p.v;
        *ret_n = p.n;
        return 0;
}

size_t silo_cgroup_devices_default_count(void)
{
        return ARRAY_SIZE(default_rules);
}

/* ---------------------------------------------------------------- bpf(2) */

static int sys_bpf(int cmd, union bpf_attr *attr)
{
        return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static int load_prog(const struct bpf_insn *insns, size_t n, int *ret_fd, silo_error_t *err)
{
        static char log[4096];
        union bpf_attr attr;
        int fd;

        memset(&attr, 0, sizeof(attr));
        attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        attr.insns = (uint64_t)(uintptr_t)insns;
        attr.insn_cnt = (uint32_t)n;
        attr.license = (uint64_t)(uintptr_t) "GPL";
        fd = sys_bpf(BPF_PROG_LOAD, &attr);
        if (fd < 0 && (errno == EACCES || errno == EINVAL)) {
                /* the verifier refused it: load again with a log to say why */
                int saved = errno;
                log[0] = '\0';
                attr.log_buf = (uint64_t)(uintptr_t)log;
                attr.log_size = sizeof(log);
                attr.log_level = 1;
                fd = sys_bpf(BPF_PROG_LOAD, &attr);
                if (fd < 0)
                        return silo_error_set(err, saved,
                                              "/linux/resources/devices: the kernel refused the "
                                              "device program (%zu instructions): %.300s",
                                              n, log);
        }
        if (fd < 0)
                return silo_error_set(err, errno,
                                      "/linux/resources/devices: bpf(BPF_PROG_LOAD) of the device program");
        *ret_fd = fd;
        return 0;
}

/* Ids of the device programs attached to the cgroup itself (not inherited ones). */
static int query_progs(int cgfd, uint32_t *ids, uint32_t *n, silo_error_t *err)
{
        union bpf_attr attr;

        memset(&attr, 0, sizeof(attr));
        attr.query.target_fd = (uint32_t)cgfd;
        attr.query.attach_type = BPF_CGROUP_DEVICE;
        attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
        attr.query.prog_cnt = *n;
        if (sys_bpf(BPF_PROG_QUERY, &attr) < 0)
                return silo_error_set(err, errno, "/linux/resources/devices: bpf(BPF_PROG_QUERY)");
        *n = attr.query.prog_cnt;
        return 0;
}

int silo_cgroup_devices_query(const char *dir, uint32_t *ids, uint32_t *n, silo_error_t *err)
{
        _cleanup_close_ int cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (cgfd < 0)
                return silo_error_set(err, errno, "open '%s'", dir);
        return query_progs(cgfd, ids, n, err);
}

int silo_cgroup_devices_apply(const char *dir, const struct silo_device_rule *rules, size_t n,
                              silo_error_t *err)
{
        _cleanup_close_ int cgfd = -1, progfd = -1;
        _cleanup_free_ struct bpf_insn *insns = NULL;
        uint32_t old[64], n_old = ARRAY_SIZE(old);
        union bpf_attr attr;
        size_t n_insns;
        int rc;

        rc = silo_cgroup_devices_prog(rules, n, &insns, &n_insns, err);
        if (rc < 0)
                return rc;
        cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cgfd < 0)
                return silo_error_set(err, errno, "/linux/resources/devices: open '%s'", dir);
        rc = query_progs(cgfd, old, &n_old, err);
        if (rc < 0)
                return rc;
        if (n_old > ARRAY_SIZE(old))
                return silo_error_set(
                    err, E2BIG, "/linux/resources/devices: %" PRIu32 " device programs attached to '%s'",
                    n_old, dir);
        rc = load_prog(insns, n_insns, &progfd, err);
        if (rc < 0)
                return rc;
        memset(&attr, 0, sizeof(attr));
        attr.target_fd = (uint32_t)cgfd;
        attr.attach_bpf_fd = (uint32_t)progfd;
        attr.attach_type = BPF_CGROUP_DEVICE;
        attr.attach_flags = BPF_F_ALLOW_MULTI;
        if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0)
                return silo_error_set(err, errno, "/linux/resources/devices: bpf(BPF_PROG_ATTACH) to '%s'",
                                      dir);
        /* the new program is in force: now drop the previous ones */
        for (uint32_t i = 0; i < n_old; i++) {
                _cleanup_close_ int oldfd = -1;

                memset(&attr, 0, sizeof(attr));
                attr.prog_id = old[i];
                oldfd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
                if (oldfd < 0) {
                        if (errno == ENOENT)
                                continue; /* detached meanwhile */
                        return silo_error_set(
                            err, errno, "/linux/resources/devices: bpf(BPF_PROG_GET_FD_BY_ID %" PRIu32 ")",
                            old[i]);
                }
                memset(&attr, 0, sizeof(attr));
                attr.target_fd = (uint32_t)cgfd;
                attr.attach_bpf_fd = (uint32_t)oldfd;
                attr.attach_type = BPF_CGROUP_DEVICE;
                if (sys_bpf(BPF_PROG_DETACH, &attr) < 0 && errno != ENOENT)
                        return silo_error_set(
                            err, errno,
                            "/linux/resources/devices: bpf(BPF_PROG_DETACH) of program %" PRIu32 " from '%s'",
                            old[i], dir);
        }
        silo_debug("device program (%zu instructions) attached to '%s', %" PRIu32 " old one(s) detached",
                   n_insns, dir, n_old);
        return 0;
}
