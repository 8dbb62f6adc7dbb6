/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cgroups: pure conversions and path rules, then the real thing on this host (root only):
 * create under /silo-test-<pid>/..., check the files, enter/pids/freeze/kill, destroy.
 *
 * The real part runs in a forked child; the parent then removes anything left in
 * <root>/<hierarchy>/silo-test-<pid> (killing what is in it), whatever happened to the child, so a
 * failed or crashed test never leaves cgroups behind.  Nothing else is ever touched.
 */
#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tap.h"
#include "cgroup-helpers.h"
#include "cgroups/cgroup-internal.h"
#include "runtime/util.h"

#define ROOT "/sys/fs/cgroup"
#define MB (1024LL * 1024LL)

static pid_t test_pid; /* the parent's pid names the test cgroups */

/* ---------------------------------------------------------------- pure parts */

static void test_conversions(void)
{
        int64_t v;
        char buf[32];
        silo_error_t err = NULL;

        is_int(silo_cgroup_shares_to_weight(0), 0, "shares 0 is unset");
        is_int(silo_cgroup_shares_to_weight(2), 1, "shares 2 -> weight 1");
        is_int(silo_cgroup_shares_to_weight(1024), 39, "shares 1024 -> weight 39");
        is_int(silo_cgroup_shares_to_weight(262144), 10000, "shares 262144 -> weight 10000");
        is_int(silo_cgroup_shares_to_weight(1), 1, "shares below 2 clamp to weight 1");
        is_int(silo_cgroup_shares_to_weight(1 << 30), 10000, "huge shares clamp to 10000");

        is_int(silo_cgroup_blkio_to_io_weight(0), 0, "blkio weight 0 is unset");
        is_int(silo_cgroup_blkio_to_io_weight(10), 1, "blkio 10 -> io 1");
        is_int(silo_cgroup_blkio_to_io_weight(500), 4950, "blkio 500 -> io 4950");
        is_int(silo_cgroup_blkio_to_io_weight(1000), 10000, "blkio 1000 -> io 10000");

        ok(silo_cgroup_swap_to_v2(SILO_UNSET, SILO_UNSET, &v, &err) == 0 && v == SILO_UNSET,
           "no swap: unset");
        ok(silo_cgroup_swap_to_v2(64 * MB, SILO_UNSET, &v, &err) == 0 && v == SILO_UNSET,
           "limit only: swap untouched");
        ok(silo_cgroup_swap_to_v2(-1, SILO_UNSET, &v, &err) == 0 && v == -1, "unlimited memory: swap max");
        ok(silo_cgroup_swap_to_v2(64 * MB, 128 * MB, &v, &err) == 0 && v == 64 * MB, "swap = memsw - limit");
        ok(silo_cgroup_swap_to_v2(64 * MB, 64 * MB, &v, &err) == 0 && v == 0, "swap == limit: no swap");
        ok(silo_cgroup_swap_to_v2(64 * MB, -1, &v, &err) == 0 && v == -1, "swap -1: max");
        ok(silo_cgroup_swap_to_v2(128 * MB, 64 * MB, &v, &err) < 0 && err &&
               strstr(err->msg, "/linux/resources/memory/swap"),
           "memsw below limit is an error naming the field");
        silo_error_free(&err);
        ok(silo_cgroup_swap_to_v2(SILO_UNSET, 64 * MB, &v, &err) < 0, "swap without limit is an error");
        silo_error_free(&err);
        silo_cgroup_fmt_limit(-1, buf, sizeof(buf));
        is_str(buf, "max", "-1 prints as max");
        silo_cgroup_fmt_limit(4096, buf, sizeof(buf));
        is_str(buf, "4096", "numbers print as numbers");
}

static void test_paths(void)
{
        char *p;

        p = silo_cgroup_path_for(NULL, "abc");
        is_str(p, "/silo/abc", "default path");
        free(p);
        p = silo_cgroup_path_for("a/b", "abc");
        is_str(p, "/a/b", "relative path is relative to the hierarchy root");
        free(p);
        p = silo_cgroup_path_for("/x/y", "abc");
        is_str(p, "/x/y", "absolute path kept");
        free(p);

        p = silo_cgroup_normalize_path("//a///b/");
        is_str(p, "/a/b", "normalised");
        free(p);
        ok(silo_cgroup_normalize_path("/") == NULL, "'/' refused");
        ok(silo_cgroup_normalize_path("/a/../b") == NULL, "'..' refused");
        ok(silo_cgroup_normalize_path("/a/./b") == NULL, "'.' refused");

        ok(silo_cgroup_parent_removable("/silo/x", 1), "/silo is silo's");
        ok(silo_cgroup_parent_removable("/silo/x/y", 2), "/silo/x is silo's");
        ok(!silo_cgroup_parent_removable("/silos/x", 1), "/silos is not");
        ok(!silo_cgroup_parent_removable("/kubepods/x", 1), "other trees are not");
}

/* ---------------------------------------------------------------- helpers for the real part */

static void init_resources(struct silo_resources *r)
{
        memset(r, 0, sizeof(*r));
        r->memory.limit = r->memory.reservation = r->memory.swap = SILO_UNSET;
        r->memory.kernel = r->memory.kernel_tcp = r->memory.swappiness = SILO_UNSET;
        r->memory.disable_oom_killer = r->memory.use_hierarchy = r->memory.check_before_update = -1;
        r->cpu.shares = r->cpu.quota = r->cpu.burst = r->cpu.period = SILO_UNSET;
        r->cpu.realtime_runtime = r->cpu.realtime_period = r->cpu.idle = SILO_UNSET;
        r->pids.limit = SILO_UNSET;
        r->block_io.weight = r->block_io.leaf_weight = SILO_UNSET;
        r->network.class_id = SILO_UNSET;
}

static char *read_cg(const char *hier, const char *path, const char *file)
{
        _cleanup_free_ char *dir = silo_xasprintf(ROOT "/%s%s", hier, path);
        char *v = NULL;
        if (silo_cg_read(dir, file, &v) < 0)
                return silo_xstrdup("(unreadable)");
        return v;
}

static void check_file(const char *hier, const char *path, const char *file, const char *want)
{
        char *v = read_cg(hier, path, file);
        is_str(v, want, "%s/%s = %s", hier, file, want);
        free(v);
}

static pid_t spawn_sleeper(void)
{
        pid_t pid = fork();
        if (pid == 0) {
                for (;;)
                        pause();
        }
        return pid;
}

static pid_t clone_into(int dirfd)
{
        struct clone_args args = {
            .flags = CLONE_INTO_CGROUP,
            .exit_signal = SIGCHLD,
            .cgroup = (uint64_t)dirfd,
        };
        long pid = syscall(SYS_clone3, &args, sizeof(args));
        if (pid == 0) {
                for (;;)
                        pause();
        }
        return (pid_t)pid;
}

static bool in_cgroup(pid_t pid, const char *line)
{
        _cleanup_free_ char *p = silo_xasprintf("/proc/%d/cgroup", (int)pid), *buf = NULL;
        if (silo_read_file_at(AT_FDCWD, p, 1 << 16, &buf, NULL, NULL) < 0)
                return false;
        for (char *l = buf, *next; l && *l; l = next) {
                next = strchr(l, '\n');
                if (next)
                        *next++ = '\0';
                /* skip the hierarchy id: "4:memory:/a" matches "memory:/a", "0::/a" matches ":/a" */
                const char *c = strchr(l, ':');
                if (c && strcmp(c + 1, line) == 0)
                        return true;
        }
        return false;
}

static bool contains(const pid_t *pids, size_t n, pid_t pid)
{
        for (size_t i = 0; i < n; i++)
                if (pids[i] == pid)
                        return true;
        return false;
}

static int killed_by(pid_t pid)
{
        int st;
        if (waitpid(pid, &st, 0) != pid)
                return -1;
        return WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

/* Directories named silo-test-<pid> under every hierarchy (also the unified one). */
static int count_leftovers(const char *sub, bool verbose)
{
        _cleanup_closedir_ DIR *d = opendir(ROOT);
        struct dirent *de;
        int n = 0;

        while (d && (de = readdir(d)) != NULL) {
                if (de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *p =
                    silo_xasprintf(ROOT "/%s/silo-test-%d%s", de->d_name, (int)test_pid, sub);
                struct stat st;
                if (stat(p, &st) == 0) {
                        if (verbose)
                                printf("#   left behind: %s\n", p);
                        n++;
                }
        }
        return n;
}

static char *mkpath(const char *sub)
{
        return silo_xasprintf("/silo-test-%d%s", (int)test_pid, sub);
}

static bool err_has(silo_error_t err, const char *s)
{
        if (err == NULL || strstr(err->msg, s) == NULL) {
                printf("#   error: %s\n", err ? err->msg : "(none)");
                return false;
        }
        return true;
}

/* ---------------------------------------------------------------- the real part */

static void test_lifecycle(enum silo_cgroup_mode mode)
{
        _cleanup_free_ char *path = mkpath("/a"), *line = NULL;
        struct silo_cgroup *cg = NULL;
        struct silo_resources r;
        silo_error_t err = NULL;
        pid_t *pids = NULL, p1, p2 = -1;
        size_t n = 0;
        bool v1 = mode != SILO_CGROUP_V2;

        init_resources(&r);
        r.memory.limit = 64 * MB;
        r.cpu.quota = 50000;
        r.cpu.period = 100000;
        r.cpu.shares = 512;
        r.cpu.cpus = "0";
        r.cpu.mems = "0";
        r.pids.limit = 10;

        ok(silo_cgroup_create(path, &r, &cg, &err) == 0, "create %s", path);
        if (cg == NULL) {
                printf("#   %s\n", err ? err->msg : "?");
                silo_error_free(&err);
                return;
        }
        is_str(silo_cgroup_path(cg), path, "path recorded");
        is_int(silo_cgroup_mode(cg), mode, "mode recorded");
        if (v1) {
                check_file("memory", path, "memory.limit_in_bytes", "67108864");
                check_file("cpu", path, "cpu.cfs_quota_us", "50000");
                check_file("cpu", path, "cpu.cfs_period_us", "100000");
                check_file("cpu", path, "cpu.shares", "512");
                check_file("cpuset", path, "cpuset.cpus", "0");
                check_file("cpuset", path, "cpuset.mems", "0");
                check_file("pids", path, "pids.max", "10");
                /* the parent silo created got the root's cpuset copied down */
                _cleanup_free_ char *parent = mkpath(""), *rootcpus = read_cg("cpuset", "", "cpuset.cpus");
                check_file("cpuset", parent, "cpuset.cpus", rootcpus);
        } else {
                check_file("", path, "memory.max", "67108864");
                check_file("", path, "cpu.max", "50000 100000");
                check_file("", path, "cpu.weight", "20");
                check_file("", path, "cpuset.cpus", "0");
                check_file("", path, "pids.max", "10");
        }
        if (mode != SILO_CGROUP_V1)
                ok(silo_cgroup_dirfd(cg) >= 0, "dirfd for CLONE_INTO_CGROUP");

        /* enter a forked child */
        p1 = spawn_sleeper();
        ok(p1 > 0 && silo_cgroup_enter(cg, p1, &err) == 0, "enter pid %d", (int)p1);
        if (v1) {
                line = silo_xasprintf("memory:%s", path);
                ok(in_cgroup(p1, line), "child in the memory hierarchy");
                free(line);
        }
        if (mode != SILO_CGROUP_V1) {
                line = silo_xasprintf(":%s", path);
                ok(in_cgroup(p1, line), "child in the unified hierarchy");
        }

        /* clone3(CLONE_INTO_CGROUP) lands directly in the unified tree */
        if (mode != SILO_CGROUP_V1) {
                p2 = clone_into(silo_cgroup_dirfd(cg));
                ok(p2 > 0 && in_cgroup(p2, line), "clone3(CLONE_INTO_CGROUP) child placed at birth");
                ok(p2 > 0 && silo_cgroup_enter(cg, p2, &err) == 0,
                   "enter of an already placed pid is harmless");
        }

        ok(silo_cgroup_pids(cg, &pids, &n, &err) == 0 && contains(pids, n, p1) &&
               (p2 <= 0 || contains(pids, n, p2)),
           "pids lists the children");
        is_int(n, p2 > 0 ? 2 : 1, "and nothing else");
        free(pids);

        ok(silo_cgroup_freeze(cg, true, &err) == 0, "freeze");
        ok(silo_cgroup_is_frozen(cg), "is frozen");
        if (v1)
                check_file("freezer", path, "freezer.state", "FROZEN");
        ok(silo_cgroup_freeze(cg, false, &err) == 0, "thaw");
        ok(!silo_cgroup_is_frozen(cg), "is thawed");

        /* update: lower memory+swap, then raise them (the write order must follow) */
        if (v1 && silo_cg_has(ROOT "/memory", "memory.memsw.limit_in_bytes")) {
                _cleanup_free_ char *swapdir = silo_xasprintf(ROOT "/memory%s", path);
                init_resources(&r);
                r.memory.limit = 256 * MB;
                r.memory.swap = 512 * MB;
                ok(silo_cgroup_apply(cg, &r, &err) == 0, "raise memory and memsw");
                check_file("memory", path, "memory.memsw.limit_in_bytes", "536870912");
                r.memory.limit = 32 * MB;
                r.memory.swap = 48 * MB;
                ok(silo_cgroup_apply(cg, &r, &err) == 0, "lower memory and memsw");
                check_file("memory", path, "memory.limit_in_bytes", "33554432");
                check_file("memory", path, "memory.memsw.limit_in_bytes", "50331648");
                r.memory.kernel_tcp = 16 * MB;
                if (silo_cg_has(swapdir, "memory.kmem.tcp.limit_in_bytes")) {
                        ok(silo_cgroup_apply(cg, &r, &err) == 0, "kernelTCP applied");
                        check_file("memory", path, "memory.kmem.tcp.limit_in_bytes", "16777216");
                }
                r.memory.kernel_tcp = SILO_UNSET;
                r.memory.swap = 16 * MB;
                ok(silo_cgroup_apply(cg, &r, &err) < 0 && err_has(err, "/linux/resources/memory/swap: write "
                                                                       "'memory.memsw.limit_in_bytes' in '"),
                   "memsw below the limit: error names field and file");
                silo_error_free(&err);
        }

        /* errors name the field and the file */
        init_resources(&r);
        r.cpu.cpus = "4095";
        if (silo_cgroup_apply(cg, &r, &err) < 0) {
                _cleanup_free_ char *want =
                    silo_xasprintf("/linux/resources/cpu/cpus: write 'cpuset.cpus' in '%s%s%s'", ROOT,
                                   v1 ? "/cpuset" : "", path);
                ok(err_has(err, want), "bad cpus: error names field and file");
        } else {
                ok(0, "bad cpus refused");
        }
        silo_error_free(&err);
        if (v1) {
                struct silo_kv kv = {.key = "memory.high", .value = "1000000"};
                init_resources(&r);
                r.unified = &kv;
                r.n_unified = 1;
                ok(silo_cgroup_apply(cg, &r, &err) < 0 &&
                       err_has(err, "/linux/resources/unified: requires cgroup v2"),
                   "unified map refused on %s", silo_cgroup_mode_name(mode));
                silo_error_free(&err);
        }

        ok(silo_cgroup_kill_all(cg, SIGKILL, &err) == 0, "kill_all SIGKILL");
        is_int(killed_by(p1), SIGKILL, "child 1 killed");
        if (p2 > 0)
                is_int(killed_by(p2), SIGKILL, "child 2 killed");

        /* the freeze-signal-thaw path */
        p1 = spawn_sleeper();
        ok(silo_cgroup_enter(cg, p1, &err) == 0, "enter another child");
        ok(silo_cgroup_kill_all(cg, SIGTERM, &err) == 0, "kill_all SIGTERM");
        is_int(killed_by(p1), SIGTERM, "child got SIGTERM");
        ok(!silo_cgroup_is_frozen(cg), "not left frozen");

        /* destroy with a live process in it */
        p1 = spawn_sleeper();
        ok(silo_cgroup_enter(cg, p1, &err) == 0, "enter a child to be destroyed");
        ok(silo_cgroup_destroy(cg, &err) == 0, "destroy");
        if (err)
                printf("#   %s\n", err->msg);
        silo_error_free(&err);
        is_int(killed_by(p1), SIGKILL, "destroy killed it");
        is_int(count_leftovers("", true), 0, "no silo-test-%d directory remains in any hierarchy",
               (int)test_pid);
        silo_cgroup_free(cg);

        /* already gone: success */
        cg = NULL;
        ok(silo_cgroup_open(path, &cg, &err) == 0 && silo_cgroup_destroy(cg, &err) == 0,
           "destroying a cgroup that is gone succeeds");
        silo_cgroup_free(cg);
        silo_error_free(&err);
}

static void test_rollback(void)
{
        _cleanup_free_ char *path = mkpath("/rb/leaf");
        struct silo_cgroup *cg = NULL;
        struct silo_resources r;
        silo_error_t err = NULL;

        init_resources(&r);
        r.pids.limit = 5;
        r.cpu.cpus = "4095"; /* no such cpu */
        ok(silo_cgroup_create(path, &r, &cg, &err) < 0 && cg == NULL, "create with a bad resource fails");
        silo_error_free(&err);
        is_int(count_leftovers("", true), 0, "and leaves nothing behind");

        ok(silo_cgroup_create("/", NULL, &cg, &err) < 0 && err_has(err, "/linux/cgroupsPath"),
           "the hierarchy root is refused");
        silo_error_free(&err);
}

static void test_parents(void)
{
        _cleanup_free_ char *px = mkpath("/p/x"), *py = mkpath("/p/y");
        struct silo_cgroup *cx = NULL, *cy = NULL, *ox = NULL;
        silo_error_t err = NULL;

        ok(silo_cgroup_create(px, NULL, &cx, &err) == 0, "create %s", px);
        ok(silo_cgroup_create(py, NULL, &cy, &err) == 0, "create %s next to it", py);
        silo_error_free(&err);
        if (!cx || !cy)
                goto out;
        /* another process (silo delete) only knows the path: outside /silo it removes the leaf only */
        ok(silo_cgroup_open(px, &ox, &err) == 0 && silo_cgroup_destroy(ox, &err) == 0,
           "destroy x from its path");
        is_int(count_leftovers("/p/x", true), 0, "x removed");
        ok(count_leftovers("/p/y", false) > 0, "y untouched");
        /* cy did not create /p: it keeps it */
        ok(silo_cgroup_destroy(cy, &err) == 0, "destroy y");
        ok(count_leftovers("/p", false) > 0, "p kept by the one that did not create it");
        /* cx created /p and /silo-test-<pid>: now empty, they go */
        ok(silo_cgroup_destroy(cx, &err) == 0, "destroy x again from its creator");
        is_int(count_leftovers("", true), 0, "parents created by this process removed");
out:
        silo_error_free(&err);
        silo_cgroup_free(ox);
        silo_cgroup_free(cx);
        silo_cgroup_free(cy);
}

static int run_tests(void)
{
        enum silo_cgroup_mode mode = silo_cgroup_detect_mode();

        printf("# cgroup mode: %s\n", silo_cgroup_mode_name(mode));
        test_conversions();
        test_paths();
        test_lifecycle(mode);
        test_rollback();
        test_parents();
        return done();
}

int main(void)
{
        _cleanup_free_ char *name = NULL;

        if (geteuid() != 0)
                skip_all("needs root (real cgroups)");
        test_pid = getpid();
        name = silo_xasprintf("silo-test-%d", (int)test_pid);
        return cg_test_run_forked(name, run_tests, 120);
}
