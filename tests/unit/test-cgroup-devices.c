/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cgroup v2 device programs (cgroups/cgroup-v2-devices.c) and the events duration parser.
 *
 * Part 1 (any user): the generated program's size and shape, and its verdicts, computed by a
 * small interpreter of exactly the instructions the generator emits (so the rule semantics --
 * default deny, last match wins, access must be a subset -- are checked without a kernel).
 *
 * Part 2 (root, a cgroup2 mount): the real thing.  The program is attached to a cgroup under the
 * unified hierarchy (the controller-less /sys/fs/cgroup/unified on this hybrid host, or
 * /sys/fs/cgroup on v2: BPF device programs work on any cgroup2), a forked child moves into it
 * and opens device nodes: allowed ones open, others fail with EPERM.  Re-applying replaces the
 * program (exactly one stays attached).  cgroup-helpers.h removes the test cgroup afterwards.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tap.h"
#include "cgroup-helpers.h"
#include "runtime/events.h"
#include "runtime/spec.h"

static pid_t test_pid;

/* ---------------------------------------------------------------- interpreter */

/* Run prog on one access; -1 on an instruction the generator should never emit. */
static int run_prog(const struct bpf_insn *p, size_t n, int type, int access, uint32_t major, uint32_t minor)
{
        struct bpf_cgroup_dev_ctx ctx = {
            .access_type = ((uint32_t)access << 16) | (uint32_t)type, .major = major, .minor = minor};
        uint64_t r[11] = {0};

        for (size_t pc = 0; pc < n; pc++) {
                const struct bpf_insn *i = &p[pc];
                switch (i->code) {
                case BPF_LDX | BPF_MEM | BPF_W:
                        if (i->src_reg != 1 || i->off < 0 || i->off > 8)
                                return -1;
                        r[i->dst_reg] = *(const uint32_t *)((const char *)&ctx + i->off);
                        break;
                case BPF_ALU | BPF_AND | BPF_K:
                        r[i->dst_reg] = (uint32_t)r[i->dst_reg] & (uint32_t)i->imm;
                        break;
                case BPF_ALU | BPF_RSH | BPF_K:
                        r[i->dst_reg] = (uint32_t)r[i->dst_reg] >> i->imm;
                        break;
                case BPF_ALU | BPF_MOV | BPF_X:
                        r[i->dst_reg] = (uint32_t)r[i->src_reg];
                        break;
                case BPF_ALU64 | BPF_MOV | BPF_K:
                        r[i->dst_reg] = (uint64_t)(int64_t)i->imm;
                        break;
                case BPF_JMP | BPF_JNE | BPF_K:
                        if (r[i->dst_reg] != (uint64_t)(int64_t)i->imm)
                                pc += i->off;
                        break;
                case BPF_JMP | BPF_JNE | BPF_X:
                        if (r[i->dst_reg] != r[i->src_reg])
                                pc += i->off;
                        break;
                case BPF_JMP | BPF_EXIT:
                        return (int)r[0];
                default:
                        return -1;
                }
        }
        return -1; /* fell off the end */
}

#define C BPF_DEVCG_DEV_CHAR
#define B BPF_DEVCG_DEV_BLOCK
#define R BPF_DEVCG_ACC_READ
#define W BPF_DEVCG_ACC_WRITE
#define M BPF_DEVCG_ACC_MKNOD

static int verdict(const struct silo_device_rule *rules, size_t n, int type, int acc, uint32_t maj,
                   uint32_t min)
{
        _cleanup_free_ struct bpf_insn *p = NULL;
        size_t np = 0;
        silo_error_t err = NULL;

        if (silo_cgroup_devices_prog(rules, n, &p, &np, &err) < 0) {
                silo_error_free(&err);
                return -2;
        }
        return run_prog(p, np, type, acc, maj, min);
}

static void test_generator(void)
{
        static const struct silo_device_rule deny_all[] = {{false, 'a', -1, -1, "rwm"}};
        static const struct silo_device_rule some[] = {
            {false, 'a', -1, -1, "rwm"},
            {true, 'c', 4, 1, "r"},           /* tty1, read only */
            {true, 'b', 8, SILO_UNSET, NULL}, /* every sd* disk, rwm */
            {false, 'c', 1, 3, "rwm"},        /* /dev/null denied, but the standard list comes after */
        };
        static const struct silo_device_rule allow_all[] = {{true, 0, SILO_UNSET, SILO_UNSET, NULL}};
        static const struct silo_device_rule bad_type[] = {{true, 'x', 1, 1, "r"}};
        static const struct silo_device_rule bad_access[] = {{true, 'c', 1, 1, "rq"}};
        _cleanup_free_ struct bpf_insn *p = NULL;
        silo_error_t err = NULL;
        size_t n = 0, ndef = silo_cgroup_devices_default_count();

        ok(silo_cgroup_devices_prog(deny_all, 1, &p, &n, &err) == 0, "program for [deny a]");
        /* prologue 6 + standard list (2 "m"-only wildcard-number rules of type 1 + access 3 +
         * verdict 2, 9 fixed rwm rules of type + major + minor + 2, c 136:* of 4) + the deny-all
         * block (verdict only: 2); no tail after it (unreachable code is refused) */
        is_int(ndef, 12, "standard allow list: 12 rules");
        is_int(n, 6 + 2 * 6 + 9 * 5 + 4 + 2, "instruction count");
        is_int(p[0].code, BPF_LDX | BPF_MEM | BPF_W, "starts by loading access_type");
        is_int(p[n - 1].code, BPF_JMP | BPF_EXIT, "ends with exit");
        is_int(p[n - 2].code, BPF_ALU64 | BPF_MOV | BPF_K, "the last block sets r0...");
        is_int(p[n - 2].imm, 0, "...to 0: default deny");
        free(p);
        p = NULL;
        ok(silo_cgroup_devices_prog(NULL, 0, &p, &n, &err) == 0 && n == 6 + 2 * 6 + 9 * 5 + 4 + 2,
           "no rules: the default-deny tail (2) instead of the deny-all block");
        free(p);
        p = NULL;
        ok(silo_cgroup_devices_prog(some, 4, &p, &n, &err) == 0 && n == 6 + 2 * 6 + 9 * 5 + 4 + 5 + 4 + 8 + 2,
           "[deny a, c 4:1 r, b 8:* rwm, deny c 1:3]: blocks of 5, 4, 8, 2 after the standard list");
        for (size_t i = 0; i < n; i++)
                if ((p[i].code & 0x07) == BPF_JMP && p[i].code != (BPF_JMP | BPF_EXIT) &&
                    (p[i].off <= 0 || i + 1 + (size_t)p[i].off >= n)) {
                        ok(0, "jump %zu lands inside the program, forward", i);
                        break;
                }
        ok(1, "every jump is forward and lands inside the program");

        /* the standard list */
        is_int(verdict(deny_all, 1, C, R | W, 1, 3), 1, "/dev/null rw allowed");
        is_int(verdict(deny_all, 1, C, R, 1, 5), 1, "/dev/zero r allowed");
        is_int(verdict(deny_all, 1, C, R | W, 136, 7), 1, "/dev/pts/7 allowed");
        is_int(verdict(deny_all, 1, C, R | W, 10, 200), 1, "/dev/net/tun allowed");
        is_int(verdict(deny_all, 1, C, M, 4, 1), 1, "mknod of any char device allowed");
        is_int(verdict(deny_all, 1, B, M, 8, 0), 1, "mknod of any block device allowed");
        is_int(verdict(deny_all, 1, C, R, 1, 1), 0, "/dev/mem denied");
        is_int(verdict(deny_all, 1, C, R, 1, 11), 0, "/dev/kmsg denied");
        is_int(verdict(deny_all, 1, B, R, 8, 0), 0, "block 8:0 read denied");
        is_int(verdict(deny_all, 1, C, R | M, 4, 1), 0, "r+m of 4:1 denied (r is not in 'm')");

        /* the config's rules, last match wins */
        is_int(verdict(some, 4, C, R, 4, 1), 1, "c 4:1 r allowed by its rule");
        is_int(verdict(some, 4, C, W, 4, 1), 0, "c 4:1 w denied (rule says r)");
        is_int(verdict(some, 4, C, R | W, 4, 1), 0, "c 4:1 rw denied (not a subset of r)");
        is_int(verdict(some, 4, C, R, 4, 2), 0, "c 4:2 denied (minor differs)");
        is_int(verdict(some, 4, B, R | W, 8, 17), 1, "b 8:17 allowed (minor wildcard)");
        is_int(verdict(some, 4, C, R | W, 8, 17), 0, "c 8:17 denied (type differs)");
        is_int(verdict(some, 4, C, R | W, 1, 3), 1, "c 1:3: the standard list is applied last");
        is_int(verdict(allow_all, 1, B, R | W, 253, 0), 1, "allow a: everything");
        is_int(verdict(NULL, 0, C, R, 1, 1), 0, "no rules: default deny + standard list");

        is_int(verdict(bad_type, 1, C, R, 1, 1), -2, "invalid type refused");
        ok(silo_cgroup_devices_prog(bad_access, 1, &p, &n, &err) < 0 && err && strstr(err->msg, "/access"),
           "invalid access refused, naming the field: %s", err ? err->msg : "");
        silo_error_free(&err);
}

static void test_duration(void)
{
        static const struct {
                const char *s;
                int64_t ms; /* -1 = error */
        } cases[] = {
            {"5s", 5000},    {"500ms", 500}, {"1m30s", 90000}, {"1.5s", 1500}, {"250us", 1},
            {"1h", 3600000}, {"0", 0},       {"2", -1},        {"", -1},       {"-1s", -1},
            {"5x", -1},      {"s", -1},      {"1ns", 1},       {"100ms", 100},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                silo_error_t err = NULL;
                uint64_t v = 0;
                int r = silo_parse_duration_ms(cases[i].s, &v, &err);
                if (cases[i].ms < 0)
                        ok(r < 0 && err, "duration '%s' refused", cases[i].s);
                else
                        ok(r == 0 && v == (uint64_t)cases[i].ms, "duration '%s' = %lld ms (got %llu)",
                           cases[i].s, (long long)cases[i].ms, (unsigned long long)v);
                silo_error_free(&err);
        }
}

/* ---------------------------------------------------------------- real kernel */

static char *unified_root(void)
{
        struct statfs sf;

        if (statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == SILO_CGROUP2_SUPER_MAGIC)
                return silo_xstrdup("/sys/fs/cgroup");
        if (statfs("/sys/fs/cgroup/unified", &sf) == 0 && sf.f_type == SILO_CGROUP2_SUPER_MAGIC)
                return silo_xstrdup("/sys/fs/cgroup/unified");
        return NULL;
}

/* In a child moved into dir: open path with flags; the errno (0 = opened). */
static int open_in(const char *dir, const char *path, int flags)
{
        int pfd[2], res = -1;
        pid_t pid;

        if (pipe2(pfd, O_CLOEXEC) < 0)
                return -1;
        pid = fork();
        if (pid == 0) {
                int e = 0;
                if (silo_cg_enter_dir(dir, getpid(), NULL) < 0)
                        e = 1000;
                else if (open(path, flags | O_CLOEXEC) < 0)
                        e = errno;
                (void)!write(pfd[1], &e, sizeof(e));
                _exit(0);
        }
        close(pfd[1]);
        if (pid > 0 && read(pfd[0], &res, sizeof(res)) != sizeof(res))
                res = -1;
        close(pfd[0]);
        if (pid > 0)
                waitpid(pid, NULL, 0);
        return res;
}

static int count_progs(const char *dir)
{
        uint32_t ids[16], n = 16;
        silo_error_t err = NULL;

        if (silo_cgroup_devices_query(dir, ids, &n, &err) < 0) {
                printf("# %s (errno %d)\n", err->msg, err->code);
                silo_error_free(&err);
                return -1;
        }
        return (int)n;
}

static int run_real(void)
{
        static const struct silo_device_rule deny_all[] = {{false, 'a', -1, -1, "rwm"}};
        static const struct silo_device_rule kmsg_ro[] = {{false, 'a', -1, -1, "rwm"},
                                                          {true, 'c', 1, 11, "r"}};
        _cleanup_free_ char *root = unified_root(), *dir = NULL;
        silo_error_t err = NULL;
        struct stat st;
        int r;

        test_generator();
        test_duration();
        if (root == NULL || stat("/dev/kmsg", &st) < 0) {
                printf("# no cgroup2 mount or no /dev/kmsg: kernel part skipped\n");
                return done();
        }
        dir = silo_xasprintf("%s/silo-test-devices-%d", root, (int)test_pid);
        if (mkdir(dir, 0755) < 0) {
                ok(0, "mkdir %s: %s", dir, strerror(errno));
                return done();
        }
        is_int(open_in(dir, "/dev/kmsg", O_RDONLY), 0, "no program: /dev/kmsg opens");
        r = silo_cgroup_devices_apply(dir, deny_all, 1, &err);
        ok(r == 0, "attach [deny a]: %s (%d)", err ? err->msg : "ok", err ? err->code : 0);
        silo_error_free(&err);
        is_int(count_progs(dir), 1, "one program attached");
        is_int(open_in(dir, "/dev/null", O_RDWR), 0, "/dev/null opens (standard list)");
        is_int(open_in(dir, "/dev/zero", O_RDONLY), 0, "/dev/zero opens (standard list)");
        is_int(open_in(dir, "/dev/kmsg", O_RDONLY), EPERM, "/dev/kmsg: EPERM");
        r = silo_cgroup_devices_apply(dir, kmsg_ro, 2, &err);
        ok(r == 0, "replace with [deny a, allow c 1:11 r]: %s", err ? err->msg : "ok");
        silo_error_free(&err);
        is_int(count_progs(dir), 1, "still exactly one program attached (the old one detached)");
        is_int(open_in(dir, "/dev/kmsg", O_RDONLY), 0, "/dev/kmsg opens for reading now");
        is_int(open_in(dir, "/dev/kmsg", O_WRONLY), EPERM, "/dev/kmsg for writing: EPERM");
        is_int(open_in(dir, "/dev/full", O_WRONLY), 0, "/dev/full still opens (standard list)");
        ok(rmdir(dir) == 0, "the cgroup is removed with its program");
        return done();
}

int main(void)
{
        _cleanup_free_ char *name = NULL;

        if (geteuid() != 0) {
                test_generator();
                test_duration();
                return done();
        }
        test_pid = getpid();
        name = silo_xasprintf("silo-test-devices-%d", (int)test_pid);
        return cg_test_run_forked(name, run_real, 60);
}
