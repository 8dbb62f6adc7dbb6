/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * systemd cgroup driver: transient scope units over D-Bus (sd-bus, dlopen()ed), see
 * cgroup-systemd.h for the model.
 *
 * Create, in the order the container needs it:
 *   1. the init is cloned into silo's own cgroup and waits on the sync socket (sandbox-ns.c);
 *   2. StartTransientUnit("<prefix>-<name>.scope", PIDs=[init], Slice, Delegate=yes, resource
 *      properties), then wait for the job's JobRemoved signal: systemd has made the cgroup and
 *      moved the init into it;
 *   3. the cgroupfs drivers create what systemd did not (v1 hierarchies systemd does not manage),
 *      apply every resource (systemd has no property for many of them, and its rounding differs:
 *      the files must say what the config says) and enter the init into every hierarchy;
 *   4. only then is the init released (SYNC_GO), so no user code runs outside the scope.
 * update = SetUnitProperties + the cgroupfs apply; destroy = the cgroupfs kill/rmdir, then
 * StopUnit (a missing unit is not an error).
 *
 * Invariants:
 *   - The connection is systemd's private socket (/run/systemd/private, root only, no
 *     dbus-daemon needed) or else the system bus; libsystemd.so.0 is loaded on first use.
 *   - Every unit this process started is stopped again when a later step of create fails.
 *   - Device rules are not turned into DeviceAllow=: the cgroupfs drivers enforce them (v2 eBPF
 *     program attached next to systemd's, which only exists when a unit sets a device policy;
 *     v1 devices lists) and systemd leaves a delegated scope's own programs alone.
 */
#include "config.h"
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>
#include <systemd/sd-bus.h>
#include "cgroup-internal.h"
#include "cgroup-systemd.h"
#include "../runtime/log.h"
#include "../runtime/util.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define JOB_TIMEOUT_USEC (60ull * 1000000ull) /* TCG guests are slow */
#define DEFAULT_PERIOD 100000ull

/* ---------------------------------------------------------------- paths (pure) */

static bool unit_char_ok(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               strchr(":_.\\-@", c);
}

static bool has_suffix(const char *s, const char *suffix)
{
        size_t n = strlen(s), m = strlen(suffix);
        return n >= m && strcmp(s + n - m, suffix) == 0;
}

int silo_systemd_expand_slice(const char *slice, const char *field, char **ret, silo_error_t *err)
{
        struct silo_buf b = {0};
        size_t n = slice ? strlen(slice) : 0;
        const char *end;

        if (n < 6 || strcmp(slice + n - 6, ".slice") != 0 || n > 255)
                return silo_error_set(err, EINVAL, "%s: invalid slice name '%s' (want NAME.slice)", field,
                                      slice ? slice : "");
        if (strcmp(slice, "-.slice") == 0) {
                *ret = silo_xstrdup("");
                return 0;
        }
        end = slice + n - 6;
        for (const char *p = slice; p < end; p++)
                if (!unit_char_ok(*p) || *p == '@')
                        return silo_error_set(err, EINVAL, "%s: invalid character in slice name '%s'", field,
                                              slice);
        if (end == slice || slice[0] == '-' || end[-1] == '-' || strstr(slice, "--"))
                return silo_error_set(err, EINVAL, "%s: invalid slice name '%s' (empty component)", field,
                                      slice);
        /* every "-" ends one level: a-b-c.slice lives in a.slice/a-b.slice/a-b-c.slice */
        for (const char *p = slice; p <= end; p++) {
                if (p == end || *p == '-') {
                        silo_buf_putc(&b, '/');
                        silo_buf_put(&b, slice, (size_t)(p - slice));
                        silo_buf_puts(&b, ".slice");
                }
        }
        *ret = b.data;
        return 0;
}

int silo_systemd_cgroup_path(const char *cgroups_path, const char *id, char **ret, silo_error_t *err)
{
        const char *field = "/linux/cgroupsPath";
        _cleanup_free_ char *slice = NULL, *prefix = NULL, *name = NULL, *dir = NULL, *unit = NULL;

        if (cgroups_path == NULL || *cgroups_path == '\0') {
                slice = silo_xstrdup("system.slice");
                prefix = silo_xstrdup("silo");
                name = silo_xstrdup(id);
        } else {
                const char *c1 = strchr(cgroups_path, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (c2 == NULL || strchr(c2 + 1, ':'))
                        return silo_error_set(err, EINVAL,
                                              "%s: '%s': want \"slice:prefix:name\" with the "
                                              "systemd cgroup driver",
                                              field, cgroups_path);
                slice = silo_xasprintf("%.*s", (int)(c1 - cgroups_path), cgroups_path);
                prefix = silo_xasprintf("%.*s", (int)(c2 - c1 - 1), c1 + 1);
                name = silo_xstrdup(c2 + 1);
                if (*slice == '\0') {
                        free(slice);
                        slice = silo_xstrdup("system.slice");
                }
        }
        if (*name == '\0')
                return silo_error_set(err, EINVAL, "%s: '%s': empty unit name", field, cgroups_path);
        if (has_suffix(name, ".slice"))
                return silo_error_set(err, EOPNOTSUPP,
                                      "%s: '%s': a slice as the container's unit is not "
                                      "supported, give a scope name",
                                      field, cgroups_path);
        if (silo_systemd_expand_slice(slice, field, &dir, err) < 0)
                return silo_error_ret(*err);
        unit = *prefix ? silo_xasprintf("%s-%s.scope", prefix, name) : silo_xasprintf("%s.scope", name);
        for (const char *p = unit; *p; p++)
                if (!unit_char_ok(*p))
                        return silo_error_set(err, EINVAL,
                                              "%s: '%s': invalid character '%c' in unit name '%s'", field,
                                              cgroups_path, *p, unit);
        if (strlen(unit) > 255)
                return silo_error_set(err, ENAMETOOLONG, "%s: unit name '%s' is too long", field, unit);
        *ret = silo_xasprintf("%s/%s", dir, unit);
        return 0;
}

/* ---------------------------------------------------------------- properties (pure) */

uint64_t silo_systemd_quota_per_sec(int64_t quota, uint64_t period)
{
        uint64_t v;

        if (quota <= 0)
                return SILO_SD_INFINITY;
        if (period == 0)
                period = DEFAULT_PERIOD;
        v = (uint64_t)quota * 1000000ull / period;
        if (v % 10000)
                v = (v / 10000 + 1) * 10000;
        return v;
}

int silo_systemd_cpuset_mask(const char *list, const char *field, uint8_t **ret, size_t *ret_n,
                             silo_error_t *err)
{
        _cleanup_free_ uint8_t *mask = NULL;
        size_t n = 0;
        const char *p = list;

        while (*p) {
                char *e;
                unsigned long a, b;

                if (*p < '0' || *p > '9')
                        goto bad;
                a = strtoul(p, &e, 10);
                b = a;
                if (*e == '-') {
                        if (e[1] < '0' || e[1] > '9')
                                goto bad;
                        b = strtoul(e + 1, &e, 10);
                }
                if (b < a || b >= 8192 || (*e != ',' && *e != '\0'))
                        goto bad;
                if (b / 8 + 1 > n) {
                        mask = silo_xrealloc(mask, b / 8 + 1);
                        memset(mask + n, 0, b / 8 + 1 - n);
                        n = b / 8 + 1;
                }
                for (unsigned long i = a; i <= b; i++)
                        mask[i / 8] |= (uint8_t)(1u << (i % 8));
                p = *e ? e + 1 : e;
        }
        if (n == 0)
                goto bad;
        *ret = TAKE_PTR(mask);
        *ret_n = n;
        return 0;
bad:
        return silo_error_set(err, EINVAL, "%s: invalid cpu/node list '%s'", field, list);
}

static struct silo_sd_prop *prop_add(struct silo_sd_props *p, const char *name, enum silo_sd_type t)
{
        p->v = silo_xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
        p->v[p->n] = (struct silo_sd_prop){.name = name, .type = t};
        return &p->v[p->n++];
}

static void prop_u64(struct silo_sd_props *p, const char *name, uint64_t v)
{
        prop_add(p, name, SILO_SD_U64)->u = v;
}

/* OCI: > 0 a limit, -1 (or any negative) unlimited, SILO_UNSET / 0 nothing */
static bool limit_set(int64_t v, uint64_t *out)
{
        if (v == SILO_UNSET || v == 0)
                return false;
        *out = v < 0 ? SILO_SD_INFINITY : (uint64_t)v;
        return true;
}

int silo_systemd_resource_props(const struct silo_resources *r, bool v2, struct silo_sd_props *ret,
                                silo_error_t *err)
{
        struct silo_sd_props p = {0};
        uint64_t v;

        *ret = p;
        if (r == NULL)
                return 0;
        if (limit_set(r->memory.limit, &v))
                prop_u64(&p, v2 ? "MemoryMax" : "MemoryLimit", v);
        if (v2 && r->memory.reservation != SILO_UNSET && r->memory.reservation > 0)
                prop_u64(&p, "MemoryLow", (uint64_t)r->memory.reservation);
        if (v2 && r->memory.swap != SILO_UNSET && r->memory.swap != 0) {
                int64_t s;
                if (silo_cgroup_swap_to_v2(r->memory.limit, r->memory.swap, &s, err) < 0)
                        goto fail;
                if (s != SILO_UNSET)
                        prop_u64(&p, "MemorySwapMax", s < 0 ? SILO_SD_INFINITY : (uint64_t)s);
        }
        if (r->cpu.shares != SILO_UNSET && r->cpu.shares > 0) {
                if (v2)
                        prop_u64(&p, "CPUWeight", silo_cgroup_shares_to_weight((uint64_t)r->cpu.shares));
                else
                        prop_u64(&p, "CPUShares", (uint64_t)r->cpu.shares);
        }
        if (r->cpu.quota != SILO_UNSET && r->cpu.quota != 0) {
                uint64_t period = r->cpu.period != SILO_UNSET && r->cpu.period > 0 ? (uint64_t)r->cpu.period
                                                                                   : DEFAULT_PERIOD;
                prop_u64(&p, "CPUQuotaPerSecUSec", silo_systemd_quota_per_sec(r->cpu.quota, period));
        }
        if (r->cpu.period != SILO_UNSET && r->cpu.period > 0)
                prop_u64(&p, "CPUQuotaPeriodUSec", (uint64_t)r->cpu.period);
        if (v2 && r->cpu.cpus && *r->cpu.cpus) {
                struct silo_sd_prop *q = prop_add(&p, "AllowedCPUs", SILO_SD_BYTES);
                if (silo_systemd_cpuset_mask(r->cpu.cpus, "/linux/resources/cpu/cpus", &q->bytes, &q->n_bytes,
                                             err) < 0)
                        goto fail;
        }
        if (v2 && r->cpu.mems && *r->cpu.mems) {
                struct silo_sd_prop *q = prop_add(&p, "AllowedMemoryNodes", SILO_SD_BYTES);
                if (silo_systemd_cpuset_mask(r->cpu.mems, "/linux/resources/cpu/mems", &q->bytes, &q->n_bytes,
                                             err) < 0)
                        goto fail;
        }
        if (r->pids.limit != SILO_UNSET)
                prop_u64(&p, "TasksMax", r->pids.limit > 0 ? (uint64_t)r->pids.limit : SILO_SD_INFINITY);
        if (r->block_io.weight != SILO_UNSET && r->block_io.weight > 0) {
                if (v2)
                        prop_u64(&p, "IOWeight",
                                 silo_cgroup_blkio_to_io_weight((uint64_t)r->block_io.weight));
                else
                        prop_u64(&p, "BlockIOWeight", (uint64_t)r->block_io.weight);
        }
        *ret = p;
        return 0;
fail:
        silo_sd_props_free(&p);
        return silo_error_ret(*err);
}

const struct silo_sd_prop *silo_sd_props_find(const struct silo_sd_props *p, const char *name)
{
        for (size_t i = 0; i < p->n; i++)
                if (strcmp(p->v[i].name, name) == 0)
                        return &p->v[i];
        return NULL;
}

void silo_sd_props_free(struct silo_sd_props *p)
{
        for (size_t i = 0; i < p->n; i++) {
                free(p->v[i].s);
                free(p->v[i].bytes);
        }
        free(p->v);
        p->v = NULL;
        p->n = 0;
}

/* ---------------------------------------------------------------- sd-bus, dlopen()ed */

// clang-format off
#define SD_FUNCS(X) \
        X(sd_bus_new) X(sd_bus_set_address) X(sd_bus_start) X(sd_bus_open_system) \
        X(sd_bus_flush_close_unref) X(sd_bus_message_new_method_call) X(sd_bus_message_append) \
        X(sd_bus_message_append_array) X(sd_bus_message_open_container) X(sd_bus_message_close_container) \
        X(sd_bus_call) X(sd_bus_message_read) X(sd_bus_message_unref) X(sd_bus_error_free) \
        X(sd_bus_error_has_name) X(sd_bus_match_signal) X(sd_bus_process) X(sd_bus_wait) X(sd_bus_slot_unref)
// clang-format on
#define SD_FIELD(f) __typeof__(f) *f;
#define SD_NAME(f) #f,
static struct {
        SD_FUNCS(SD_FIELD)
} sd;
#define SD(f) (sd.f)

static int sd_load(silo_error_t *err)
{
        static const char *const names[] = {SD_FUNCS(SD_NAME)};
        static bool loaded;
        void **slots = (void **)&sd;
        void *h;

        _Static_assert(sizeof(sd) == sizeof(names) / sizeof(names[0]) * sizeof(void *), "sd api");
        if (loaded)
                return 0;
        h = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
        if (h == NULL)
                return silo_error_set(
                    err, 0, "--systemd-cgroup needs 'libsystemd.so.0' (install libsystemd0): %s", dlerror());
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                slots[i] = dlsym(h, names[i]);
                if (slots[i] == NULL)
                        return silo_error_set(err, 0, "'libsystemd.so.0' lacks symbol '%s'", names[i]);
        }
        loaded = true;
        return 0; /* stays loaded for the life of the process */
}

static int bus_open(sd_bus **ret, silo_error_t *err)
{
        sd_bus *b = NULL;
        int r;

        r = sd_load(err);
        if (r < 0)
                return r;
        /* the private socket needs no dbus-daemon and answers faster */
        if (geteuid() == 0 && access("/run/systemd/private", F_OK) == 0) {
                r = SD(sd_bus_new)(&b);
                if (r >= 0)
                        r = SD(sd_bus_set_address)(b, "unix:path=/run/systemd/private");
                if (r >= 0)
                        r = SD(sd_bus_start)(b);
                if (r >= 0) {
                        *ret = b;
                        return 0;
                }
                silo_debug("systemd private socket: %s, trying the system bus", strerror(-r));
                SD(sd_bus_flush_close_unref)(b);
                b = NULL;
        }
        r = SD(sd_bus_open_system)(&b);
        if (r < 0)
                return silo_error_set(err, -r, "--systemd-cgroup: cannot connect to systemd over D-Bus");
        *ret = b;
        return 0;
}

static void bus_close(sd_bus **b)
{
        if (*b)
                SD(sd_bus_flush_close_unref)(*b);
        *b = NULL;
}

static void msg_unref(sd_bus_message **m)
{
        if (*m)
                SD(sd_bus_message_unref)(*m);
        *m = NULL;
}

#define _cleanup_bus_ _cleanup_(bus_close)
#define _cleanup_msg_ _cleanup_(msg_unref)

static int append_prop(sd_bus_message *m, const struct silo_sd_prop *p)
{
        int r;

        switch (p->type) {
        case SILO_SD_U64:
                return SD(sd_bus_message_append)(m, "(sv)", p->name, "t", p->u);
        case SILO_SD_BOOL:
                return SD(sd_bus_message_append)(m, "(sv)", p->name, "b", (int)p->u);
        case SILO_SD_STR:
                return SD(sd_bus_message_append)(m, "(sv)", p->name, "s", p->s);
        case SILO_SD_BYTES:
                r = SD(sd_bus_message_open_container)(m, 'r', "sv");
                if (r >= 0)
                        r = SD(sd_bus_message_append)(m, "s", p->name);
                if (r >= 0)
                        r = SD(sd_bus_message_open_container)(m, 'v', "ay");
                if (r >= 0)
                        r = SD(sd_bus_message_append_array)(m, 'y', p->bytes, p->n_bytes);
                if (r >= 0)
                        r = SD(sd_bus_message_close_container)(m);
                if (r >= 0)
                        r = SD(sd_bus_message_close_container)(m);
                return r;
        }
        return -EINVAL;
}

static int append_props(sd_bus_message *m, const struct silo_sd_props *p)
{
        for (size_t i = 0; i < p->n; i++) {
                int r = append_prop(m, &p->v[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

struct job_wait {
        const char *job; /* object path of the job we wait for; NULL until known */
        bool done;
        char result[64];
};

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
        struct job_wait *w = userdata;
        const char *path = NULL, *unit = NULL, *result = NULL;
        uint32_t id;

        if (SD(sd_bus_message_read)(m, "uoss", &id, &path, &unit, &result) < 0)
                return 0;
        if (w->job && strcmp(w->job, path) == 0) {
                w->done = true;
                snprintf(w->result, sizeof(w->result), "%s", result);
        }
        return 0;
}

/* Call a Manager method whose reply is a job path, and wait until that job is done. */
static int call_job(sd_bus *bus, sd_bus_message *m, const char *what, const char *unit, bool missing_ok,
                    silo_error_t *err)
{
        sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_msg_ sd_bus_message *reply = NULL;
        sd_bus_slot *slot = NULL;
        struct job_wait w = {0};
        uint64_t deadline = silo_cg_now_ms() + JOB_TIMEOUT_USEC / 1000;
        int r;

        /* subscribe before the call: the job may finish before the reply is read */
        r = SD(sd_bus_match_signal)(bus, &slot, SD_DEST, SD_PATH, SD_MANAGER, "JobRemoved", on_job_removed,
                                    &w);
        if (r < 0)
                return silo_error_set(err, -r, "%s unit '%s': subscribe to JobRemoved", what, unit);
        r = SD(sd_bus_call)(bus, m, JOB_TIMEOUT_USEC, &e, &reply);
        if (r < 0) {
                if (missing_ok && (SD(sd_bus_error_has_name)(&e, "org.freedesktop.systemd1.NoSuchUnit") ||
                                   SD(sd_bus_error_has_name)(&e, "org.freedesktop.systemd1.LoadFailed"))) {
                        r = 0;
                } else {
                        r = silo_error_set(err, -r, "%s unit '%s': %s", what, unit,
                                           e.message ? e.message : strerror(-r));
                }
                goto out;
        }
        r = SD(sd_bus_message_read)(reply, "o", &w.job);
        if (r < 0) {
                r = silo_error_set(err, -r, "%s unit '%s': bad reply", what, unit);
                goto out;
        }
        while (!w.done) {
                uint64_t now = silo_cg_now_ms();
                r = SD(sd_bus_process)(bus, NULL);
                if (r < 0) {
                        r = silo_error_set(err, -r, "%s unit '%s': waiting for job '%s'", what, unit, w.job);
                        goto out;
                }
                if (r > 0)
                        continue;
                if (now >= deadline) {
                        r = silo_error_set(err, ETIMEDOUT, "%s unit '%s': job '%s' did not finish", what,
                                           unit, w.job);
                        goto out;
                }
                r = SD(sd_bus_wait)(bus, (deadline - now) * 1000);
                if (r < 0) {
                        r = silo_error_set(err, -r, "%s unit '%s': waiting for job '%s'", what, unit, w.job);
                        goto out;
                }
        }
        r = 0;
        if (strcmp(w.result, "done") != 0)
                r = silo_error_set(err, 0, "%s unit '%s': job %s", what, unit, w.result);
out:
        SD(sd_bus_error_free)(&e);
        SD(sd_bus_slot_unref)(slot);
        return r;
}

static int new_call(sd_bus *bus, const char *method, sd_bus_message **ret, silo_error_t *err)
{
        int r = SD(sd_bus_message_new_method_call)(bus, ret, SD_DEST, SD_PATH, SD_MANAGER, method);
        if (r < 0)
                return silo_error_set(err, -r, "D-Bus message for %s", method);
        return 0;
}

/* basename of the cgroup path = the unit; its parent's basename = the slice ("-.slice": root) */
static void unit_and_slice(const char *path, char **unit, char **slice)
{
        const char *u = strrchr(path, '/'), *s;

        u = u ? u + 1 : path;
        *unit = silo_xstrdup(u);
        s = u - 1;
        while (s > path && s[-1] != '/')
                s--;
        *slice = s < u - 1 ? silo_xasprintf("%.*s", (int)(u - 1 - s), s) : silo_xstrdup("-.slice");
}

static int start_unit(sd_bus *bus, const char *path, pid_t pid, const struct silo_resources *res, bool v2,
                      silo_error_t *err)
{
        _cleanup_free_ char *unit = NULL, *slice = NULL;
        _cleanup_msg_ sd_bus_message *m = NULL, *reset = NULL;
        struct silo_sd_props props = {0};
        int r;

        unit_and_slice(path, &unit, &slice);
        r = silo_systemd_resource_props(res, v2, &props, err);
        if (r < 0)
                return r;
        /* a failed unit of the same name would make the start fail: best effort */
        if (new_call(bus, "ResetFailedUnit", &reset, NULL) == 0 &&
            SD(sd_bus_message_append)(reset, "s", unit) >= 0)
                SD(sd_bus_call)(bus, reset, JOB_TIMEOUT_USEC, NULL, NULL);

        r = new_call(bus, "StartTransientUnit", &m, err);
        if (r < 0)
                goto out;
        r = SD(sd_bus_message_append)(m, "ss", unit, "fail");
        if (r >= 0)
                r = SD(sd_bus_message_open_container)(m, 'a', "(sv)");
        if (r >= 0)
                r = SD(sd_bus_message_append)(m, "(sv)(sv)(sv)(sv)(sv)", "Description", "s", "silo container",
                                              "Slice", "s", slice, "Delegate", "b", 1, "DefaultDependencies",
                                              "b", 0, "CollectMode", "s", "inactive-or-failed");
        if (r >= 0)
                r = SD(sd_bus_message_append)(m, "(sv)(sv)(sv)(sv)", "MemoryAccounting", "b", 1,
                                              "CPUAccounting", "b", 1, "TasksAccounting", "b", 1,
                                              v2 ? "IOAccounting" : "BlockIOAccounting", "b", 1);
        if (r >= 0)
                r = SD(sd_bus_message_append)(m, "(sv)", "PIDs", "au", 1, (uint32_t)pid);
        if (r >= 0)
                r = append_props(m, &props);
        if (r >= 0)
                r = SD(sd_bus_message_close_container)(m);
        if (r >= 0)
                r = SD(sd_bus_message_append)(m, "a(sa(sv))", 0);
        if (r < 0) {
                r = silo_error_set(err, -r, "D-Bus message for unit '%s'", unit);
                goto out;
        }
        r = call_job(bus, m, "/linux/cgroupsPath: start", unit, false, err);
        if (r == 0)
                silo_debug("systemd unit '%s' started in '%s' for pid %d", unit, slice, (int)pid);
out:
        silo_sd_props_free(&props);
        return r;
}

static int stop_unit(sd_bus *bus, const char *unit, silo_error_t *err)
{
        _cleanup_msg_ sd_bus_message *m = NULL;
        int r = new_call(bus, "StopUnit", &m, err);

        if (r < 0)
                return r;
        r = SD(sd_bus_message_append)(m, "ss", unit, "replace");
        if (r < 0)
                return silo_error_set(err, -r, "D-Bus message for unit '%s'", unit);
        return call_job(bus, m, "stop", unit, true, err);
}

/* ---------------------------------------------------------------- the driver's entry points */

bool silo_cgroup_systemd_running(void)
{
        return access("/run/systemd/system", F_OK) == 0;
}

int silo_cgroup_systemd_create(const char *path, pid_t pid, const struct silo_resources *res,
                               struct silo_cgroup **ret, silo_error_t *err)
{
        _cleanup_bus_ sd_bus *bus = NULL;
        struct silo_cgroup *cg = NULL;
        bool v2 = silo_cgroup_detect_mode() == SILO_CGROUP_V2;
        int r;

        r = bus_open(&bus, err);
        if (r < 0)
                return r;
        r = start_unit(bus, path, pid, res, v2, err);
        if (r < 0)
                return r;
        /* what systemd made exists already; the cgroupfs drivers make the rest (v1 hierarchies
         * systemd does not manage) and write every resource */
        r = silo_cgroup_create(path, res, &cg, err);
        if (r == 0)
                r = silo_cgroup_enter(cg, pid, err);
        if (r < 0) {
                silo_error_t e = NULL;
                if (cg)
                        silo_cgroup_destroy(cg, NULL);
                silo_cgroup_free(cg);
                cg = NULL;
                {
                        _cleanup_free_ char *unit = NULL, *slice = NULL;
                        unit_and_slice(path, &unit, &slice);
                        if (stop_unit(bus, unit, &e) < 0)
                                silo_debug("rollback: %s", e->msg);
                }
                silo_error_free(&e);
                return r;
        }
        silo_cgroup_set_systemd(cg);
        *ret = cg;
        return 0;
}

int silo_systemd_set_properties(struct silo_cgroup *cg, const struct silo_resources *res, silo_error_t *err)
{
        _cleanup_bus_ sd_bus *bus = NULL;
        _cleanup_msg_ sd_bus_message *m = NULL, *reply = NULL;
        struct silo_sd_props props = {0};
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        r = silo_systemd_resource_props(res, cg->mode == SILO_CGROUP_V2, &props, err);
        if (r < 0 || props.n == 0)
                goto out;
        r = bus_open(&bus, err);
        if (r < 0)
                goto out;
        r = new_call(bus, "SetUnitProperties", &m, err);
        if (r < 0)
                goto out;
        r = SD(sd_bus_message_append)(m, "sb", cg->systemd_unit, 1);
        if (r >= 0)
                r = SD(sd_bus_message_open_container)(m, 'a', "(sv)");
        if (r >= 0)
                r = append_props(m, &props);
        if (r >= 0)
                r = SD(sd_bus_message_close_container)(m);
        if (r < 0) {
                r = silo_error_set(err, -r, "D-Bus message for unit '%s'", cg->systemd_unit);
                goto out;
        }
        r = SD(sd_bus_call)(bus, m, JOB_TIMEOUT_USEC, &e, &reply);
        if (r < 0)
                r = silo_error_set(err, -r, "set properties of unit '%s': %s", cg->systemd_unit,
                                   e.message ? e.message : strerror(-r));
out:
        if (bus)
                SD(sd_bus_error_free)(&e);
        silo_sd_props_free(&props);
        return r < 0 ? r : 0;
}

int silo_systemd_stop(struct silo_cgroup *cg, silo_error_t *err)
{
        _cleanup_bus_ sd_bus *bus = NULL;
        int r = bus_open(&bus, err);

        if (r < 0)
                return r;
        return stop_unit(bus, cg->systemd_unit, err);
}

void silo_cgroup_set_systemd(struct silo_cgroup *cg)
{
        const char *u = strrchr(cg->path, '/');

        free(cg->systemd_unit);
        cg->systemd_unit = silo_xstrdup(u ? u + 1 : cg->path);
}
