/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The pure parts of the systemd cgroup driver: slice path expansion, cgroupsPath parsing, and
 * the conversion of OCI resources to unit properties.  No systemd (or D-Bus) needed.
 */
#include "config.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "cgroups/cgroup-internal.h"
#include "cgroups/cgroup-systemd.h"
#include "runtime/util.h"

static void expand_ok(const char *slice, const char *want)
{
        silo_error_t e = NULL;
        char *got = NULL;
        int r = silo_systemd_expand_slice(slice, "f", &got, &e);

        ok(r == 0, "expand '%s' succeeds%s%s", slice, e ? ": " : "", e ? e->msg : "");
        is_str(got, want, "expand '%s'", slice);
        free(got);
        silo_error_free(&e);
}

static void expand_bad(const char *slice)
{
        silo_error_t e = NULL;
        char *got = NULL;
        int r = silo_systemd_expand_slice(slice, "/linux/cgroupsPath", &got, &e);

        ok(r < 0 && got == NULL && e && strstr(e->msg, "/linux/cgroupsPath"), "'%s' refused (%s)", slice,
           e ? e->msg : "no error");
        silo_error_free(&e);
}

static void path_ok(const char *cp, const char *id, const char *want)
{
        silo_error_t e = NULL;
        char *got = NULL;

        ok(silo_systemd_cgroup_path(cp, id, &got, &e) == 0, "cgroupsPath '%s' accepted%s%s",
           cp ? cp : "(null)", e ? ": " : "", e ? e->msg : "");
        is_str(got, want, "cgroupsPath '%s'", cp ? cp : "(null)");
        free(got);
        silo_error_free(&e);
}

static void path_bad(const char *cp, const char *what)
{
        silo_error_t e = NULL;
        char *got = NULL;
        int r = silo_systemd_cgroup_path(cp, "ctr", &got, &e);

        ok(r < 0 && got == NULL && e && strstr(e->msg, "/linux/cgroupsPath") && strstr(e->msg, what),
           "cgroupsPath '%s' refused: %s", cp, e ? e->msg : "no error");
        free(got);
        silo_error_free(&e);
}

static void test_paths(void)
{
        expand_ok("-.slice", "");
        expand_ok("system.slice", "/system.slice");
        expand_ok("a-b.slice", "/a.slice/a-b.slice");
        expand_ok("a-b-c.slice", "/a.slice/a-b.slice/a-b-c.slice");
        expand_ok("machine.slice", "/machine.slice");
        expand_bad("");
        expand_bad("system");
        expand_bad(".slice");
        expand_bad("a/b.slice");
        expand_bad("-a.slice");
        expand_bad("a-.slice");
        expand_bad("a--b.slice");
        expand_bad("a@b.slice");

        path_ok(NULL, "c1", "/system.slice/silo-c1.scope");
        path_ok("", "c1", "/system.slice/silo-c1.scope");
        path_ok("system.slice:docker:1234", "x", "/system.slice/docker-1234.scope");
        path_ok(":silo:abc", "x", "/system.slice/silo-abc.scope");
        path_ok("a-b.slice:p:n", "x", "/a.slice/a-b.slice/p-n.scope");
        path_ok("-.slice:p:n", "x", "/p-n.scope");
        path_ok("user.slice::n", "x", "/user.slice/n.scope");
        path_bad("/silo/abc", "slice:prefix:name");
        path_bad("a:b", "slice:prefix:name");
        path_bad("a.slice:b:c:d", "slice:prefix:name");
        path_bad("a.slice:b:", "empty unit name");
        path_bad("nota:b:c", "invalid slice name");
        path_bad("a.slice:b:c/d", "invalid character");
        path_bad("a.slice:b:c.slice", "slice as the container's unit");
}

static void test_conversions(void)
{
        silo_error_t e = NULL;
        uint8_t *m = NULL;
        size_t n = 0;

        is_int(silo_systemd_quota_per_sec(50000, 100000), 500000, "50ms/100ms = 500ms per second");
        is_int(silo_systemd_quota_per_sec(100000, 100000), 1000000, "one cpu");
        is_int(silo_systemd_quota_per_sec(12345, 100000), 130000, "rounded up to 10 ms");
        is_int(silo_systemd_quota_per_sec(20000, 0), 200000, "period 0 means 100 ms");
        ok(silo_systemd_quota_per_sec(-1, 100000) == SILO_SD_INFINITY, "-1 = infinity");
        is_int(silo_systemd_quota_per_sec(1000, 1000000), 10000, "1ms/1s = 1 ms rounded up to 10 ms");

        ok(silo_systemd_cpuset_mask("0-3", "f", &m, &n, &e) == 0 && n == 1 && m[0] == 0x0f, "0-3 -> 0x0f");
        free(m);
        ok(silo_systemd_cpuset_mask("1,3,8-9", "f", &m, &n, &e) == 0 && n == 2 && m[0] == 0x0a &&
               m[1] == 0x03,
           "1,3,8-9 -> 0a 03");
        free(m);
        ok(silo_systemd_cpuset_mask("0", "f", &m, &n, &e) == 0 && n == 1 && m[0] == 1, "0 -> 01");
        free(m);
        ok(silo_systemd_cpuset_mask("17", "f", &m, &n, &e) == 0 && n == 3 && m[0] == 0 && m[2] == 2,
           "17 -> 00 00 02");
        free(m);
        m = NULL;
        const char *bad[] = {"", "a", "3-1", "1-", "1,,2", "-1", "1 2", "99999"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                ok(silo_systemd_cpuset_mask(bad[i], "/linux/resources/cpu/cpus", &m, &n, &e) < 0 && e &&
                       strstr(e->msg, "/linux/resources/cpu/cpus"),
                   "cpu list '%s' refused", bad[i]);
                silo_error_free(&e);
        }
}

static struct silo_resources unset_resources(void)
{
        struct silo_resources r;

        memset(&r, 0, sizeof(r));
        r.memory.limit = r.memory.reservation = r.memory.swap = r.memory.kernel = r.memory.kernel_tcp =
            r.memory.swappiness = SILO_UNSET;
        r.cpu.shares = r.cpu.quota = r.cpu.burst = r.cpu.period = r.cpu.realtime_runtime =
            r.cpu.realtime_period = r.cpu.idle = SILO_UNSET;
        r.pids.limit = SILO_UNSET;
        r.block_io.weight = r.block_io.leaf_weight = SILO_UNSET;
        r.network.class_id = SILO_UNSET;
        return r;
}

static uint64_t prop_u(const struct silo_sd_props *p, const char *name)
{
        const struct silo_sd_prop *q = silo_sd_props_find(p, name);
        return q ? q->u : 0xdead;
}

static void test_props(void)
{
        struct silo_resources r = unset_resources();
        struct silo_sd_props p = {0};
        silo_error_t e = NULL;

        ok(silo_systemd_resource_props(&r, true, &p, &e) == 0 && p.n == 0, "nothing set: no properties");
        silo_sd_props_free(&p);

        r.memory.limit = 64 << 20;
        r.memory.reservation = 32 << 20;
        r.memory.swap = 96 << 20;
        r.cpu.shares = 1024;
        r.cpu.quota = 50000;
        r.cpu.period = 100000;
        r.cpu.cpus = (char *)"0-1";
        r.cpu.mems = (char *)"0";
        r.pids.limit = 32;
        r.block_io.weight = 500;
        ok(silo_systemd_resource_props(&r, true, &p, &e) == 0, "v2 properties");
        is_int(prop_u(&p, "MemoryMax"), 64 << 20, "MemoryMax");
        is_int(prop_u(&p, "MemoryLow"), 32 << 20, "MemoryLow");
        is_int(prop_u(&p, "MemorySwapMax"), 32 << 20, "MemorySwapMax = swap - limit");
        is_int(prop_u(&p, "CPUWeight"), silo_cgroup_shares_to_weight(1024), "CPUWeight from shares");
        is_int(prop_u(&p, "CPUWeight"), 39, "1024 shares = weight 39 (runc's formula)");
        is_int(prop_u(&p, "CPUQuotaPerSecUSec"), 500000, "CPUQuotaPerSecUSec");
        is_int(prop_u(&p, "CPUQuotaPeriodUSec"), 100000, "CPUQuotaPeriodUSec");
        is_int(prop_u(&p, "TasksMax"), 32, "TasksMax");
        is_int(prop_u(&p, "IOWeight"), silo_cgroup_blkio_to_io_weight(500), "IOWeight from blkio weight");
        const struct silo_sd_prop *c = silo_sd_props_find(&p, "AllowedCPUs");
        ok(c && c->type == SILO_SD_BYTES && c->n_bytes == 1 && c->bytes[0] == 3, "AllowedCPUs 0-1 = 03");
        c = silo_sd_props_find(&p, "AllowedMemoryNodes");
        ok(c && c->n_bytes == 1 && c->bytes[0] == 1, "AllowedMemoryNodes 0 = 01");
        ok(silo_sd_props_find(&p, "MemoryLimit") == NULL, "no v1 MemoryLimit on v2");
        silo_sd_props_free(&p);

        ok(silo_systemd_resource_props(&r, false, &p, &e) == 0, "v1 properties");
        is_int(prop_u(&p, "MemoryLimit"), 64 << 20, "MemoryLimit on v1");
        is_int(prop_u(&p, "CPUShares"), 1024, "CPUShares on v1");
        is_int(prop_u(&p, "BlockIOWeight"), 500, "BlockIOWeight on v1");
        ok(!silo_sd_props_find(&p, "MemoryMax") && !silo_sd_props_find(&p, "AllowedCPUs") &&
               !silo_sd_props_find(&p, "MemorySwapMax"),
           "no v2-only properties on v1");
        silo_sd_props_free(&p);

        r = unset_resources();
        r.memory.limit = -1;
        r.pids.limit = 0;
        r.cpu.quota = -1;
        ok(silo_systemd_resource_props(&r, true, &p, &e) == 0, "unlimited values");
        ok(prop_u(&p, "MemoryMax") == SILO_SD_INFINITY, "memory -1 = infinity");
        ok(prop_u(&p, "TasksMax") == SILO_SD_INFINITY, "pids 0 = infinity");
        ok(prop_u(&p, "CPUQuotaPerSecUSec") == SILO_SD_INFINITY, "quota -1 = infinity");
        ok(silo_sd_props_find(&p, "MemorySwapMax") == NULL, "no swap given: no MemorySwapMax");
        silo_sd_props_free(&p);

        r = unset_resources();
        r.cpu.cpus = (char *)"0-x";
        ok(silo_systemd_resource_props(&r, true, &p, &e) < 0 && p.n == 0 && e &&
               strstr(e->msg, "/linux/resources/cpu/cpus"),
           "a bad cpu list fails naming the field: %s", e ? e->msg : "");
        silo_error_free(&e);
}

int main(void)
{
        test_paths();
        test_conversions();
        test_props();
        return done();
}
