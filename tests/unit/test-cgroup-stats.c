/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cgroup statistics and OOM events.
 *
 * Part 1 (any user): a hand-built struct silo_cgroup whose v1 hierarchy or unified directory is
 * a temp directory of fake cgroup files, to check the JSON byte for byte (runc's key names,
 * order and omissions) and the v2 OOM logic on an inotify-watched memory.events.
 *
 * Part 2 (root): real cgroups under /silo-test-stats-<pid> on this host (stats of a child that
 * touches 20 MiB, an OOM kill seen through oom_fd/oom_check), then the v2 code path on a cgroup2
 * mounted at a temp dir in a private mount namespace.  As in test-cgroup.c the real part runs in
 * a forked child and the parent removes whatever is left in <root>/<hierarchy>/silo-test-stats-<pid>
 * afterwards, killing what is in it.  Nothing else is touched.
 */
#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>
#include "tap.h"
#include "cgroup-helpers.h"
#include "cgroups/cgroup-internal.h"
#include "runtime/util.h"

#define ROOT "/sys/fs/cgroup"
#define MB (1024ULL * 1024ULL)

static pid_t test_pid;

/* ---------------------------------------------------------------- JSON helpers */

static yajl_val parse_json(const char *s)
{
        char errbuf[256] = "";
        yajl_val v = s ? yajl_tree_parse(s, errbuf, sizeof(errbuf)) : NULL;
        if (v == NULL)
                printf("#   JSON parse error: %s\n", errbuf);
        return v;
}

static yajl_val jget_path(yajl_val root, const char **path)
{
        return root ? yajl_tree_get(root, path, yajl_t_any) : NULL;
}
#define JGET(root, ...) jget_path(root, (const char *[]){__VA_ARGS__, NULL})

/* A JSON number as uint64 (yajl_tree keeps the digits), or `absent` when it is not there. */
static uint64_t jnum(yajl_val v, uint64_t absent)
{
        if (!YAJL_IS_NUMBER(v))
                return absent;
        return strtoull(YAJL_GET_NUMBER(v), NULL, 10);
}

/* ---------------------------------------------------------------- fake cgroup trees */

static void put(const char *dir, const char *file, const char *content)
{
        _cleanup_free_ char *p = silo_xasprintf("%s/%s", dir, file);
        _cleanup_close_ int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || silo_write_all(fd, content, strlen(content)) < 0)
                printf("#   cannot write %s\n", p);
}

static struct silo_cgroup *fake_cg(const char *base, const char *v1dir, const char *udir)
{
        static const char *const ctrls[] = {"cpu", "cpuacct", "cpuset", "memory", "pids", "blkio", "hugetlb"};
        struct silo_cgroup *cg = silo_xmalloc0(sizeof(*cg));

        cg->path = silo_xstrdup("/x");
        cg->root = silo_xstrdup(base);
        cg->dirfd = -1;
        cg->mode = v1dir ? SILO_CGROUP_V1 : SILO_CGROUP_V2;
        if (v1dir) {
                cg->v1 = silo_xmalloc0(sizeof(*cg->v1));
                cg->n_v1 = 1;
                cg->v1[0].mountpoint = silo_xstrdup(base);
                for (size_t i = 0; i < ARRAY_SIZE(ctrls); i++)
                        silo_strv_push(&cg->v1[0].controllers, silo_xstrdup(ctrls[i]));
                cg->v1[0].dir = silo_xstrdup(v1dir);
                cg->v1[0].n_existed = -1;
        }
        if (udir) {
                cg->has_unified = true;
                cg->unified.mountpoint = silo_xstrdup(base);
                cg->unified.dir = silo_xstrdup(udir);
                cg->unified.n_existed = -1;
        }
        return cg;
}

static void test_fake_v1(const char *base)
{
        _cleanup_free_ char *d = silo_xasprintf("%s/v1", base), *json = NULL;
        struct silo_cgroup *cg;
        silo_error_t err = NULL;
        uint64_t hz = (uint64_t)sysconf(_SC_CLK_TCK);
        yajl_val root;

        mkdir(d, 0755);
        put(d, "cpuacct.usage", "123456789\n");
        put(d, "cpuacct.usage_percpu", "100 200 \n");
        put(d, "cpuacct.usage_percpu_user", "60 150 \n");
        put(d, "cpuacct.usage_percpu_sys", "40 50 \n");
        put(d, "cpuacct.stat", "user 150\nsystem 50\n");
        put(d, "cpu.stat", "nr_periods 4\nnr_throttled 1\nthrottled_time 999\nnr_bursts 0\nburst_time 0\n");
        put(d, "cpuset.cpus", "0-2,4\n");
        put(d, "cpuset.mems", "0\n");
        put(d, "cpuset.cpu_exclusive", "1\n");
        put(d, "cpuset.sched_load_balance", "1\n");
        put(d, "cpuset.sched_relax_domain_level", "-1\n");
        put(d, "memory.usage_in_bytes", "4096\n");
        put(d, "memory.limit_in_bytes", "9223372036854771712\n");
        put(d, "memory.max_usage_in_bytes", "8192\n");
        put(d, "memory.failcnt", "0\n");
        put(d, "memory.memsw.usage_in_bytes", "5000\n");
        put(d, "memory.memsw.limit_in_bytes", "6000\n");
        put(d, "memory.memsw.failcnt", "7\n");
        put(d, "memory.kmem.tcp.usage_in_bytes", "0\n");
        put(d, "memory.stat", "cache 1024\nrss 3072\nhierarchical_memory_limit 9223372036854771712\nbogus\n");
        put(d, "pids.current", "2\n");
        put(d, "pids.max", "max\n");
        put(d, "blkio.bfq.io_service_bytes_recursive", "Total 0\n");
        put(d, "blkio.throttle.io_service_bytes_recursive",
            "8:0 Read 4096\n8:0 Write 0\n8:0 Sync 4096\n8:0 Async 0\n8:0 Discard 0\n8:0 Total 4096\nTotal "
            "4096\n");
        put(d, "blkio.throttle.io_serviced_recursive", "8:16 Read 1\nTotal 1\n");
        put(d, "hugetlb.2MB.usage_in_bytes", "2097152\n");
        put(d, "hugetlb.2MB.max_usage_in_bytes", "4194304\n");
        put(d, "hugetlb.2MB.failcnt", "3\n");
        put(d, "hugetlb.1GB.usage_in_bytes", "0\n");

        cg = fake_cg(base, d, NULL);
        ok(silo_cgroup_stats_json(cg, &json, &err) == 0, "v1 fake tree: stats");
        if (err)
                printf("#   %s\n", err->msg);
        silo_error_free(&err);
        root = parse_json(json);
        ok(root != NULL, "v1: valid JSON");
        is_int(jnum(JGET(root, "cpu", "usage", "total"), 0), 123456789,
               "v1: cpu.usage.total = cpuacct.usage");
        is_int(jnum(JGET(root, "cpu", "usage", "user"), 0), 150 * 1000000000ULL / hz, "v1: user ticks -> ns");
        is_int(jnum(JGET(root, "cpu", "usage", "kernel"), 0), 50 * 1000000000ULL / hz,
               "v1: system ticks -> ns");
        is_int(jnum(JGET(root, "cpu", "throttling", "throttledTime"), 0), 999, "v1: throttled_time (ns)");
        is_int(jnum(JGET(root, "memory", "cache"), 0), 1024, "v1: cache = raw cache");
        is_int(jnum(JGET(root, "memory", "raw", "rss"), 0), 3072, "v1: raw has memory.stat keys");
        ok(JGET(root, "memory", "raw", "bogus") == NULL, "v1: malformed memory.stat line skipped");
        is_int(jnum(JGET(root, "memory", "swap", "failcnt"), 0), 7, "v1: memsw -> swap");
        is_int(jnum(JGET(root, "memory", "kernel", "limit"), 1), 0, "v1: kernel entry present, limit 0");
        ok(JGET(root, "pids", "limit") == NULL, "v1: pids.max 'max' -> no limit");
        ok(JGET(root, "cpuset", "mem_hardwall") != NULL, "v1: cpuset flags always present");
        yajl_tree_free(root);
        is_str(
            json,
            "{\"cpu\":{\"usage\":{\"total\":123456789,\"percpu\":[100,200],\"percpu_kernel\":[40,50],"
            "\"percpu_user\":[60,150],\"kernel\":500000000,\"user\":1500000000},"
            "\"throttling\":{\"periods\":4,\"throttledPeriods\":1,\"throttledTime\":999}},"
            "\"cpuset\":{\"cpus\":[0,1,2,4],\"cpu_exclusive\":1,\"mems\":[0],\"mem_hardwall\":0,"
            "\"mem_exclusive\":0,\"memory_migrate\":0,\"memory_spread_page\":0,\"memory_spread_slab\":0,"
            "\"memory_pressure\":0,\"sched_load_balance\":1,\"sched_relax_domain_level\":-1},"
            "\"memory\":{\"cache\":1024,\"usage\":{\"limit\":9223372036854771712,\"usage\":4096,"
            "\"max\":8192,\"failcnt\":0},\"swap\":{\"limit\":6000,\"usage\":5000,\"failcnt\":7},"
            "\"kernel\":{\"limit\":0,\"failcnt\":0},\"kernelTCP\":{\"limit\":0,\"failcnt\":0},"
            "\"raw\":{\"cache\":1024,\"hierarchical_memory_limit\":9223372036854771712,\"rss\":3072}},"
            "\"pids\":{\"current\":2},"
            "\"blkio\":{\"ioServiceBytesRecursive\":[{\"major\":8,\"op\":\"Read\",\"value\":4096},"
            "{\"major\":8,\"op\":\"Write\"},{\"major\":8,\"op\":\"Sync\",\"value\":4096},"
            "{\"major\":8,\"op\":\"Async\"},{\"major\":8,\"op\":\"Discard\"},"
            "{\"major\":8,\"op\":\"Total\",\"value\":4096}],"
            "\"ioServicedRecursive\":[{\"major\":8,\"minor\":16,\"op\":\"Read\",\"value\":1}]},"
            "\"hugetlb\":{\"1GB\":{\"failcnt\":0},\"2MB\":{\"usage\":2097152,\"max\":4194304,\"failcnt\":3}},"
            "\"intel_rdt\":{},\"network_interfaces\":null}",
            "v1: the whole JSON (runc key names, order, omitempty, sorted maps)");
        if (hz != 100)
                printf("# (CLK_TCK is %llu: the byte-for-byte check above assumes 100)\n",
                       (unsigned long long)hz);
        silo_cgroup_free(cg);
}

static void test_fake_v2(const char *base)
{
        _cleanup_free_ char *d = silo_xasprintf("%s/v2", base), *json = NULL;
        struct silo_cgroup *cg;
        silo_error_t err = NULL;

        mkdir(d, 0755);
        put(d, "cpu.stat",
            "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 10\nnr_throttled 2\n"
            "throttled_usec 7\nnr_bursts 0\nburst_usec 0\n");
        put(d, "cpu.pressure",
            "some avg10=1.50 avg60=0.00 avg300=0.00 total=123\n"
            "full avg10=0.00 avg60=0.00 avg300=0.00 total=45\n");
        put(d, "memory.current", "4096\n");
        put(d, "memory.max", "max\n");
        put(d, "memory.peak", "8192\n");
        put(d, "memory.stat", "file 100\nanon 200\n");
        put(d, "memory.swap.current", "10\n");
        put(d, "memory.swap.max", "1000\n");
        put(d, "pids.current", "3\n");
        put(d, "pids.max", "50\n");
        put(d, "io.stat", "8:0 rbytes=100 wbytes=200 rios=1 wios=0 dbytes=0 dios=0\n");
        put(d, "hugetlb.2MB.current", "0\n");
        put(d, "hugetlb.2MB.max", "max\n");
        put(d, "hugetlb.2MB.events", "max 5\n");
        put(d, "hugetlb.2MB.rsvd.current", "0\n");
        put(d, "hugetlb.1GB.current", "1073741824\n");

        cg = fake_cg(base, NULL, d);
        ok(silo_cgroup_stats_json(cg, &json, &err) == 0, "v2 fake tree: stats");
        if (err)
                printf("#   %s\n", err->msg);
        silo_error_free(&err);
        is_str(
            json,
            "{\"cpu\":{\"usage\":{\"total\":1500000,\"kernel\":500000,\"user\":1000000},"
            "\"throttling\":{\"periods\":10,\"throttledPeriods\":2,\"throttledTime\":7000},"
            "\"psi\":{\"some\":{\"avg10\":1.50,\"avg60\":0.00,\"avg300\":0.00,\"total\":123},"
            "\"full\":{\"avg10\":0.00,\"avg60\":0.00,\"avg300\":0.00,\"total\":45}}},"
            "\"cpuset\":{\"cpu_exclusive\":0,\"mem_hardwall\":0,\"mem_exclusive\":0,\"memory_migrate\":0,"
            "\"memory_spread_page\":0,\"memory_spread_slab\":0,\"memory_pressure\":0,"
            "\"sched_load_balance\":0,\"sched_relax_domain_level\":0},"
            "\"memory\":{\"cache\":100,\"usage\":{\"limit\":18446744073709551615,\"usage\":4096,"
            "\"max\":8192,\"failcnt\":0},\"swap\":{\"limit\":18446744073709551615,\"usage\":4106,"
            "\"failcnt\":0},\"kernel\":{\"limit\":0,\"failcnt\":0},\"kernelTCP\":{\"limit\":0,\"failcnt\":0},"
            "\"raw\":{\"anon\":200,\"file\":100}},"
            "\"pids\":{\"current\":3,\"limit\":50},"
            "\"blkio\":{\"ioServiceBytesRecursive\":[{\"major\":8,\"op\":\"Read\",\"value\":100},"
            "{\"major\":8,\"op\":\"Write\",\"value\":200}],"
            "\"ioServicedRecursive\":[{\"major\":8,\"op\":\"Read\",\"value\":1},{\"major\":8,\"op\":"
            "\"Write\"}]},"
            "\"hugetlb\":{\"1GB\":{\"usage\":1073741824,\"failcnt\":0},\"2MB\":{\"failcnt\":5}},"
            "\"intel_rdt\":{},\"network_interfaces\":null}",
            "v2: the whole JSON (usec -> ns, max -> 2^64-1, swap = mem+swap, sorted maps)");
        yajl_val root = parse_json(json);
        ok(root != NULL, "v2: valid JSON (2^64-1 included)");
        yajl_tree_free(root);
        free(json);
        json = NULL;

        /* a finite swap limit is reported as memory+swap, as runc's v1 compatibility does */
        put(d, "memory.max", "65536\n");
        ok(silo_cgroup_stats_json(cg, &json, &err) == 0, "v2: stats again");
        root = parse_json(json);
        is_int(jnum(JGET(root, "memory", "swap", "limit"), 0), 65536 + 1000,
               "v2: swap.limit = swap.max + memory.max");
        yajl_tree_free(root);
        silo_cgroup_free(cg);

        /* a v2 cgroup without controllers: only cpu.stat's usage lines */
        free(json);
        json = NULL;
        _cleanup_free_ char *e = silo_xasprintf("%s/v2-empty", base);
        mkdir(e, 0755);
        put(e, "cpu.stat", "usage_usec 0\nuser_usec 0\nsystem_usec 0\n");
        cg = fake_cg(base, NULL, e);
        ok(silo_cgroup_stats_json(cg, &json, &err) == 0, "v2 without controllers: stats");
        is_str(json,
               "{\"cpu\":{\"usage\":{\"kernel\":0,\"user\":0},\"throttling\":{}},"
               "\"cpuset\":{\"cpu_exclusive\":0,\"mem_hardwall\":0,\"mem_exclusive\":0,\"memory_migrate\":0,"
               "\"memory_spread_page\":0,\"memory_spread_slab\":0,\"memory_pressure\":0,"
               "\"sched_load_balance\":0,\"sched_relax_domain_level\":0},"
               "\"memory\":{\"usage\":{\"limit\":0,\"failcnt\":0},\"swap\":{\"limit\":0,\"failcnt\":0},"
               "\"kernel\":{\"limit\":0,\"failcnt\":0},\"kernelTCP\":{\"limit\":0,\"failcnt\":0}},"
               "\"pids\":{},\"blkio\":{},\"hugetlb\":{},\"intel_rdt\":{},\"network_interfaces\":null}",
               "v2 without controllers: the always-present fields only");
        free(json);
        json = NULL;
        silo_cgroup_free(cg);

        /* gone */
        _cleanup_free_ char *gone = silo_xasprintf("%s/nonexistent", base);
        cg = fake_cg(base, NULL, gone);
        ok(silo_cgroup_stats_json(cg, &json, &err) < 0 && err && strstr(err->msg, "does not exist") &&
               err->code == ENOENT,
           "missing cgroup: error says 'does not exist'");
        if (err)
                printf("#   %s\n", err->msg);
        silo_error_free(&err);
        int fd = -1;
        ok(silo_cgroup_oom_fd(cg, &fd, &err) < 0 && fd == -1 && strstr(err->msg, "does not exist"),
           "missing cgroup: no OOM fd");
        silo_error_free(&err);
        silo_cgroup_free(cg);
}

static bool readable(int fd, int timeout_ms)
{
        struct pollfd p = {.fd = fd, .events = POLLIN};
        return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

/* The v2 logic on a fake memory.events: inotify sees plain file writes as well. */
static void test_fake_oom_v2(const char *base)
{
        _cleanup_free_ char *d = silo_xasprintf("%s/oom", base);
        struct silo_cgroup *cg;
        silo_error_t err = NULL;
        uint64_t last = 0;
        int fd = -1;

        mkdir(d, 0755);
        cg = fake_cg(base, NULL, d);
        ok(silo_cgroup_oom_fd(cg, &fd, &err) == -EOPNOTSUPP && err &&
               strstr(err->msg, "no memory controller"),
           "v2 without memory.events: -EOPNOTSUPP");
        silo_error_free(&err);

        put(d, "memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 2\noom_group_kill 0\n");
        ok(silo_cgroup_oom_fd(cg, &fd, &err) == 0 && fd >= 0, "v2: oom fd (inotify)");
        ok(fcntl(fd, F_GETFD) & FD_CLOEXEC, "v2: oom fd is O_CLOEXEC");
        is_int(silo_cgroup_oom_check(cg, fd, &last, &err), 1, "priming: earlier kills counted once");
        is_int(last, 2, "priming: *last = oom_kill");
        ok(!readable(fd, 0), "not readable before anything changes");
        put(d, "memory.events", "low 0\nhigh 0\nmax 1\noom 0\noom_kill 2\noom_group_kill 0\n");
        ok(readable(fd, 1000), "readable after memory.events changed");
        is_int(silo_cgroup_oom_check(cg, fd, &last, &err), 0, "another counter moved: not an OOM kill");
        ok(!readable(fd, 0), "the check drained the fd");
        put(d, "memory.events", "low 0\nhigh 0\nmax 2\noom 1\noom_kill 3\noom_group_kill 0\n");
        ok(readable(fd, 1000), "readable after an OOM kill");
        is_int(silo_cgroup_oom_check(cg, fd, &last, &err), 1, "oom_kill moved: OOM");
        is_int(last, 3, "*last updated");

        /* the cgroup removed: memory.events disappears and the watch goes (IN_IGNORED) */
        _cleanup_free_ char *ev = silo_xasprintf("%s/memory.events", d);
        unlink(ev);
        ok(readable(fd, 1000), "readable when memory.events goes away");
        ok(silo_cgroup_oom_check(cg, fd, &last, &err) == -ENOENT && strstr(err->msg, "does not exist"),
           "then oom_check says the cgroup does not exist");
        silo_error_free(&err);
        close(fd);
        silo_cgroup_free(cg);
}

static void run_fake_tests(void)
{
        char base[] = "/tmp/silo-test-stats-fake-XXXXXX";

        if (mkdtemp(base) == NULL) {
                ok(0, "mkdtemp: %s", strerror(errno));
                return;
        }
        test_fake_v1(base);
        test_fake_v2(base);
        test_fake_oom_v2(base);
        silo_rm_rf_at(AT_FDCWD, base);
}

/* ---------------------------------------------------------------- real cgroups: helpers */

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

static char *mkpath(const char *sub)
{
        return silo_xasprintf("/silo-test-stats-%d%s", (int)test_pid, sub);
}

struct child {
        pid_t pid;
        int go, ready;
};

static uint64_t cpu_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A child that waits for "go" (so that it is in the cgroup before it allocates: v1 does not move
 * charges with a task), touches `bytes` of fresh memory, burns `spin_ms` of CPU, says "ready" and
 * sleeps. */
static bool spawn_toucher(struct child *c, size_t bytes, unsigned spin_ms)
{
        int go[2], ready[2];

        if (pipe2(go, O_CLOEXEC) < 0)
                return false;
        if (pipe2(ready, O_CLOEXEC) < 0) {
                close(go[0]);
                close(go[1]);
                return false;
        }
        fflush(stdout);
        c->pid = fork();
        if (c->pid == 0) {
                char b;
                volatile char *m;
                uint64_t end;

                close(go[1]);
                close(ready[0]);
                if (read(go[0], &b, 1) != 1)
                        _exit(1);
                m = malloc(bytes);
                if (m == NULL)
                        _exit(2);
                for (size_t i = 0; i < bytes; i += 4096)
                        m[i] = 1;
                for (end = cpu_ms() + spin_ms; cpu_ms() < end;)
                        ;
                if (write(ready[1], "x", 1) != 1)
                        _exit(3);
                for (;;)
                        pause();
        }
        close(go[0]);
        close(ready[1]);
        c->go = go[1];
        c->ready = ready[0];
        return c->pid > 0;
}

static bool child_go(struct child *c)
{
        return write(c->go, "x", 1) == 1;
}

static bool child_ready(struct child *c, int timeout_ms)
{
        char b;
        return readable(c->ready, timeout_ms) && read(c->ready, &b, 1) == 1;
}

static int killed_by(pid_t pid)
{
        int st;
        if (waitpid(pid, &st, 0) != pid)
                return -1;
        return WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

static void child_end(struct child *c)
{
        if (c->pid > 0) {
                kill(c->pid, SIGKILL);
                waitpid(c->pid, NULL, 0);
        }
        close(c->go);
        close(c->ready);
        c->pid = -1;
}

static bool err_has(silo_error_t err, const char *s)
{
        if (err == NULL || strstr(err->msg, s) == NULL) {
                printf("#   error: %s\n", err ? err->msg : "(none)");
                return false;
        }
        return true;
}

static char *stats_of(struct silo_cgroup *cg)
{
        silo_error_t err = NULL;
        char *json = NULL;

        if (silo_cgroup_stats_json(cg, &json, &err) < 0) {
                printf("#   stats: %s\n", err ? err->msg : "?");
                silo_error_free(&err);
                return NULL;
        }
        return json;
}

/* ---------------------------------------------------------------- real cgroups: tests */

static void test_real_stats(enum silo_cgroup_mode mode)
{
        _cleanup_free_ char *path = mkpath("/s"), *json = NULL;
        struct silo_cgroup *cg = NULL;
        struct silo_resources r;
        silo_error_t err = NULL;
        struct child c = {.pid = -1, .go = -1, .ready = -1};
        yajl_val root;

        init_resources(&r);
        r.pids.limit = 100;
        ok(silo_cgroup_create(path, &r, &cg, &err) == 0, "create %s", path);
        if (cg == NULL) {
                printf("#   %s\n", err ? err->msg : "?");
                silo_error_free(&err);
                return;
        }
        ok(spawn_toucher(&c, 20 * MB, 20) && silo_cgroup_enter(cg, c.pid, &err) == 0, "child entered");
        ok(child_go(&c) && child_ready(&c, 10000), "child touched 20 MiB");

        json = stats_of(cg);
        root = parse_json(json);
        ok(root != NULL, "stats are valid JSON");
        printf("# %.300s...\n", json ? json : "(null)");
        ok(jnum(JGET(root, "memory", "usage", "usage"), 0) > 10 * MB, "memory.usage.usage > 10 MiB (%llu)",
           (unsigned long long)jnum(JGET(root, "memory", "usage", "usage"), 0));
        ok(jnum(JGET(root, "pids", "current"), 0) >= 1, "pids.current >= 1");
        is_int(jnum(JGET(root, "pids", "limit"), 0), 100, "pids.limit = 100");
        ok(jnum(JGET(root, "cpu", "usage", "total"), 0) > 0, "cpu.usage.total > 0");
        ok(YAJL_IS_NUMBER(JGET(root, "cpu", "usage", "kernel")) &&
               YAJL_IS_NUMBER(JGET(root, "cpu", "usage", "user")),
           "cpu.usage.kernel and .user present");
        ok(YAJL_IS_NUMBER(JGET(root, "memory", "usage", "limit")) &&
               YAJL_IS_NUMBER(JGET(root, "memory", "usage", "failcnt")),
           "memory.usage.limit and .failcnt present");
        ok(YAJL_IS_OBJECT(JGET(root, "memory", "raw")), "memory.raw present");
        ok(YAJL_IS_OBJECT(JGET(root, "blkio")) && YAJL_IS_OBJECT(JGET(root, "hugetlb")),
           "blkio and hugetlb objects");
        if (mode != SILO_CGROUP_V2) {
                ok(YAJL_IS_NUMBER(JGET(root, "memory", "raw", "rss")), "v1 memory.stat keys in raw");
                yajl_val cpus = JGET(root, "cpuset", "cpus");
                ok(YAJL_IS_ARRAY(cpus) && cpus->u.array.len >= 1, "cpuset.cpus expanded");
        }
        yajl_tree_free(root);

        child_end(&c);
        ok(silo_cgroup_destroy(cg, &err) == 0, "destroy");
        silo_error_free(&err);
        free(json);
        json = NULL;
        ok(silo_cgroup_stats_json(cg, &json, &err) < 0 && err_has(err, "does not exist"),
           "stats of a removed cgroup: 'does not exist'");
        silo_error_free(&err);
        silo_cgroup_free(cg);
}

static bool host_has_swap(void)
{
        _cleanup_free_ char *buf = NULL;
        size_t n = 0;

        if (silo_read_file_at(AT_FDCWD, "/proc/swaps", 1 << 16, &buf, &n, NULL) < 0)
                return true; /* unknown: be safe */
        char *nl = strchr(buf, '\n');
        return nl && nl[1] != '\0';
}

static void test_real_oom(enum silo_cgroup_mode mode)
{
        _cleanup_free_ char *path = mkpath("/oom"), *json = NULL;
        struct silo_cgroup *cg = NULL;
        struct silo_resources r;
        silo_error_t err = NULL;
        struct child c = {.pid = -1, .go = -1, .ready = -1};
        uint64_t last = 0;
        int fd = -1;
        bool memsw;
        yajl_val root;

        init_resources(&r);
        r.memory.limit = 32 * MB;
        /* With swap on, limit memory+swap too, or the child swaps instead of dying.  Not otherwise:
         * memsw is charged first, and recent kernels (seen on 6.18) count failcnt on memory only. */
        memsw = mode != SILO_CGROUP_V2 && host_has_swap() &&
                silo_cg_has(ROOT "/memory", "memory.memsw.limit_in_bytes");
        if (memsw)
                r.memory.swap = 32 * MB;
        ok(silo_cgroup_create(path, &r, &cg, &err) == 0, "create %s with a 32 MiB limit", path);
        if (cg == NULL) {
                printf("#   %s\n", err ? err->msg : "?");
                silo_error_free(&err);
                return;
        }
        ok(silo_cgroup_oom_fd(cg, &fd, &err) == 0 && fd >= 0, "oom fd");
        if (fd < 0) {
                printf("#   %s\n", err ? err->msg : "?");
                silo_error_free(&err);
                goto out;
        }
        is_int(silo_cgroup_oom_check(cg, fd, &last, &err), 0, "priming check: no OOM yet, does not block");
        ok(!readable(fd, 0), "not readable yet");
        ok(spawn_toucher(&c, 256 * MB, 0) && silo_cgroup_enter(cg, c.pid, &err) == 0, "child entered");
        ok(child_go(&c), "child allocates 256 MiB");
        ok(readable(fd, 5000), "OOM fd readable within 5 s");
        is_int(silo_cgroup_oom_check(cg, fd, &last, &err), 1, "oom_check: OOM");
        is_int(killed_by(c.pid), SIGKILL, "the child was OOM-killed");
        c.pid = -1;

        json = stats_of(cg);
        root = parse_json(json);
        is_int(jnum(JGET(root, "memory", "usage", "limit"), 0), 32 * MB, "memory.usage.limit = 32 MiB");
        if (mode != SILO_CGROUP_V2 && !memsw)
                ok(jnum(JGET(root, "memory", "usage", "failcnt"), 0) > 0, "memory.usage.failcnt > 0");
        yajl_tree_free(root);

        /* removal fires the fd too (v1: the kernel signals registered eventfds after rmdir; v2:
         * the inotify watch goes): oom_check must not call that an OOM */
        child_end(&c);
        ok(silo_cgroup_destroy(cg, &err) == 0, "destroy");
        silo_error_free(&err);
        ok(readable(fd, 2000), "fd readable after the cgroup was removed");
        ok(silo_cgroup_oom_check(cg, fd, &last, &err) == -ENOENT && err_has(err, "does not exist"),
           "then oom_check: 'does not exist', not an OOM");
        silo_error_free(&err);
out:
        if (fd >= 0)
                close(fd);
        child_end(&c);
        silo_cgroup_destroy(cg, NULL);
        silo_cgroup_free(cg);
}

/* The v2 driver on this host's cgroup2 tree (controller-less on hybrid hosts), mounted at a temp
 * dir in a private mount namespace and reached through SILO_CGROUP_ROOT. */
static void test_real_v2(void)
{
        char tmp[] = "/tmp/silo-test-stats-v2-XXXXXX";
        _cleanup_free_ char *path = mkpath("/v2"), *json = NULL;
        struct silo_cgroup *cg = NULL;
        silo_error_t err = NULL;
        struct child c = {.pid = -1, .go = -1, .ready = -1};
        yajl_val root;
        int fd = -1, r;

        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                ok(0, "private mount namespace: %s", strerror(errno));
                return;
        }
        if (mkdtemp(tmp) == NULL ||
            mount("cgroup2", tmp, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
                ok(0, "mount cgroup2 at %s: %s", tmp, strerror(errno));
                rmdir(tmp);
                return;
        }
        setenv("SILO_CGROUP_ROOT", tmp, 1);
        is_int(silo_cgroup_detect_mode(), SILO_CGROUP_V2, "SILO_CGROUP_ROOT=%s is v2", tmp);
        ok(silo_cgroup_create(path, NULL, &cg, &err) == 0, "create %s (v2)", path);
        if (cg == NULL) {
                printf("#   %s\n", err ? err->msg : "?");
                silo_error_free(&err);
                goto out;
        }

        json = stats_of(cg);
        root = parse_json(json);
        ok(root != NULL, "v2, empty cgroup: valid JSON");
        printf("# %s\n", json ? json : "(null)");
        is_int(jnum(JGET(root, "pids", "current"), 0), 0, "v2, empty: pids absent or zero");
        is_int(jnum(JGET(root, "memory", "usage", "usage"), 0), 0, "v2, empty: memory usage absent or zero");
        ok(YAJL_IS_NUMBER(JGET(root, "cpu", "usage", "kernel")) &&
               YAJL_IS_NUMBER(JGET(root, "memory", "usage", "limit")),
           "v2, empty: the always-present fields are there");
        yajl_tree_free(root);
        free(json);

        /* cpu.stat's usage lines exist without the cpu controller */
        ok(spawn_toucher(&c, 1 * MB, 30) && silo_cgroup_enter(cg, c.pid, &err) == 0, "child entered (v2)");
        ok(child_go(&c) && child_ready(&c, 10000), "child burnt 30 ms of CPU");
        json = stats_of(cg);
        root = parse_json(json);
        ok(jnum(JGET(root, "cpu", "usage", "total"), 0) >= 10 * 1000000ULL,
           "v2: cpu.usage.total >= 10 ms (%llu ns)",
           (unsigned long long)jnum(JGET(root, "cpu", "usage", "total"), 0));
        yajl_tree_free(root);

        r = silo_cgroup_oom_fd(cg, &fd, &err);
        if (silo_cg_has(cg->unified.dir, "memory.events"))
                ok(r == 0 && fd >= 0, "v2 with a memory controller: oom fd");
        else
                ok(r == -EOPNOTSUPP && err_has(err, "no memory controller"),
                   "v2 without memory controller: -EOPNOTSUPP");
        silo_error_free(&err);
        if (fd >= 0)
                close(fd);

        child_end(&c);
        ok(silo_cgroup_destroy(cg, &err) == 0, "destroy (v2)");
        silo_error_free(&err);
        silo_cgroup_free(cg);
out:
        unsetenv("SILO_CGROUP_ROOT");
        umount2(tmp, MNT_DETACH);
        rmdir(tmp);
}

static int run_real_tests(void)
{
        enum silo_cgroup_mode mode = silo_cgroup_detect_mode();

        printf("# cgroup mode: %s\n", silo_cgroup_mode_name(mode));
        run_fake_tests();
        test_real_stats(mode);
        test_real_oom(mode);
        test_real_v2(); /* last: it leaves this process in another mount namespace */
        return done();
}

/* ---------------------------------------------------------------- main (safety net: cgroup-helpers.h) */

int main(void)
{
        _cleanup_free_ char *name = NULL;

        if (geteuid() != 0) {
                printf("# not root: only the fake-tree tests run\n");
                run_fake_tests();
                return done();
        }
        test_pid = getpid();
        name = silo_xasprintf("silo-test-stats-%d", (int)test_pid);
        return cg_test_run_forked(name, run_real_tests, 120);
}
