/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Cross-field checks on a parsed spec (runc's configs/validate, crun's checks at create).
 *
 * Invariants:
 *   - Pure: no syscalls and no filesystem access (only silo_warn for ignored fields), so every rule
 *     is unit tested and fuzzed together with spec.c.  Checks that need the host (does a namespace
 *     path exist, is it the host's netns) belong to the code that opens those paths.
 *   - The first failing rule wins; its message starts with the JSON pointer of the offending field.
 *   - spec.c already refused wrong types, out-of-range numbers and unknown enum names; this file
 *     still checks enum-like fields that are kept as plain characters or numbers (device types,
 *     personality domain), because other code may build a spec without the parser.
 */
#include "config.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include "log.h"
#include "util.h"
#include "validate.h"

#define QUOTE_MAX 128
#define fail(err, ...) silo_error_set(err, 0, __VA_ARGS__)

static bool is_abs(const char *p)
{
        return p && p[0] == '/';
}

static bool has_ns(const struct silo_spec *s, enum silo_ns_type t)
{
        return silo_spec_namespace(s, t) != NULL;
}

/* RFC 6901 escaping of a key used as a pointer component (sysctl and cgroup file names). */
static char *ptr_escape(const char *key)
{
        struct silo_buf b = {0};

        silo_buf_puts(&b, "");
        for (; *key; key++) {
                if (*key == '~')
                        silo_buf_puts(&b, "~0");
                else if (*key == '/')
                        silo_buf_puts(&b, "~1");
                else
                        silo_buf_putc(&b, *key);
        }
        return b.data;
}

/* Digits, ',' and '-' only: "0-3,7".  The real parse happens where the mask is used. */
static bool cpu_list_ok(const char *s)
{
        if (*s == '\0')
                return true;
        for (const char *p = s; *p; p++)
                if (!((*p >= '0' && *p <= '9') || *p == ',' || *p == '-'))
                        return false;
        return true;
}

/* A name that ends up as one path component or one token of a cgroup file write. */
static bool token_ok(const char *s, bool allow_dot_start)
{
        if (s == NULL || *s == '\0' || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
                return false;
        if (!allow_dot_start && s[0] == '.')
                return false;
        for (const char *p = s; *p; p++)
                if ((unsigned char)*p <= ' ' || *p == '/' || *p == 0x7f)
                        return false;
        return true;
}

static int validate_id_mappings(const struct silo_id_mapping *m, size_t n, const char *ptr, silo_error_t *err)
{
        for (size_t i = 0; i < n; i++) {
                if (m[i].size == 0)
                        return fail(err, "%s/%zu/size: must be greater than zero", ptr, i);
                if ((uint64_t)m[i].container_id + m[i].size > UINT64_C(1) << 32 ||
                    (uint64_t)m[i].host_id + m[i].size > UINT64_C(1) << 32)
                        return fail(err, "%s/%zu: range does not fit in 32 bits", ptr, i);
        }
        return 0;
}

static int validate_scheduler(const struct silo_scheduler *s, const char *ptr, silo_error_t *err)
{
        bool rt = s->policy == 1 /* FIFO */ || s->policy == 2 /* RR */;

        if (!s->present)
                return 0;
        if (s->nice < -20 || s->nice > 19)
                return fail(err, "%s/scheduler/nice: %" PRId32 " is out of range (-20..19)", ptr, s->nice);
        if (s->priority != 0 && !rt)
                return fail(err, "%s/scheduler/priority: only valid with SCHED_FIFO or SCHED_RR", ptr);
        if (s->policy != 6 /* DEADLINE */ && (s->runtime || s->deadline || s->period))
                return silo_error_set(err, 0,
                                      "%s/scheduler: runtime, deadline and period are only valid with "
                                      "SCHED_DEADLINE",
                                      ptr);
        return 0;
}

int silo_process_validate(const struct silo_process *p, const char *pointer, silo_error_t *err)
{
        const char *ptr = pointer ? pointer : "";
        int r;

        if (p->args == NULL || p->args[0] == NULL)
                return fail(err, "%s/args: must not be empty", ptr);
        if (!is_abs(p->cwd))
                return fail(err, "%s/cwd: must be an absolute path", ptr);
        for (size_t i = 0; p->env && p->env[i]; i++) {
                const char *eq = strchr(p->env[i], '=');
                if (eq == NULL || eq == p->env[i])
                        return fail(err, "%s/env/%zu: '%.*s' is not of the form KEY=VALUE", ptr, i, QUOTE_MAX,
                                    p->env[i]);
        }
        for (size_t i = 0; i < p->n_rlimits; i++) {
                const struct silo_rlimit *rl = &p->rlimits[i];
                if (rl->soft > rl->hard)
                        return silo_error_set(
                            err, 0, "%s/rlimits/%zu: soft limit %" PRIu64 " exceeds hard limit %" PRIu64, ptr,
                            i, rl->soft, rl->hard);
                for (size_t j = 0; j < i; j++)
                        if (p->rlimits[j].resource == rl->resource)
                                return fail(err, "%s/rlimits/%zu/type: duplicate '%s'", ptr, i,
                                            rl->type ? rl->type : "?");
        }
        if (p->oom_score_adj != SILO_UNSET && (p->oom_score_adj < -1000 || p->oom_score_adj > 1000))
                return fail(err, "%s/oomScoreAdj: %" PRId64 " is out of range (-1000..1000)", ptr,
                            p->oom_score_adj);
        if (p->user.umask != SILO_UNSET && (p->user.umask < 0 || p->user.umask > 0777))
                return fail(err, "%s/user/umask: %#" PRIo64 " is larger than 0777", ptr,
                            (uint64_t)p->user.umask);
        if (p->has_console_size && !p->terminal)
                silo_warn("%s/consoleSize: set without terminal, ignoring", ptr);
        r = validate_scheduler(&p->scheduler, ptr, err);
        if (r < 0)
                return r;
        if (p->io_priority.present && (p->io_priority.priority < 0 || p->io_priority.priority > 7))
                return fail(err, "%s/ioPriority/priority: %d is out of range (0..7)", ptr,
                            p->io_priority.priority);
        if (p->exec_cpu_affinity_initial && !cpu_list_ok(p->exec_cpu_affinity_initial))
                return fail(err, "%s/execCPUAffinity/initial: '%.*s' is not a CPU list", ptr, QUOTE_MAX,
                            p->exec_cpu_affinity_initial);
        if (p->exec_cpu_affinity_final && !cpu_list_ok(p->exec_cpu_affinity_final))
                return fail(err, "%s/execCPUAffinity/final: '%.*s' is not a CPU list", ptr, QUOTE_MAX,
                            p->exec_cpu_affinity_final);
        return 0;
}

/* "1", "1.2.1", "1.0.0-rc.1": the major version must be exactly 1. */
static bool version_supported(const char *v)
{
        return v[0] == '1' && (v[1] == '\0' || v[1] == '.' || v[1] == '-' || v[1] == '+');
}

static int validate_mounts(const struct silo_spec *s, silo_error_t *err)
{
        for (size_t i = 0; i < s->n_mounts; i++) {
                const struct silo_mount *m = &s->mounts[i];
                char ptr[64];
                int r;

                /* relative destinations are allowed since runtime-spec 1.2 (taken relative to /) */
                if (m->destination == NULL || m->destination[0] == '\0')
                        return fail(err, "/mounts/%zu/destination: must not be empty", i);
                snprintf(ptr, sizeof(ptr), "/mounts/%zu/uidMappings", i);
                r = validate_id_mappings(m->uid_mappings, m->n_uid_mappings, ptr, err);
                if (r < 0)
                        return r;
                snprintf(ptr, sizeof(ptr), "/mounts/%zu/gidMappings", i);
                r = validate_id_mappings(m->gid_mappings, m->n_gid_mappings, ptr, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int validate_hooks(const struct silo_spec *s, silo_error_t *err)
{
        for (int k = 0; k < _SILO_HOOK_MAX; k++)
                for (size_t i = 0; i < s->n_hooks[k]; i++) {
                        const struct silo_hook *h = &s->hooks[k][i];
                        const char *name = silo_hook_kind_name(k);

                        if (!is_abs(h->path))
                                return fail(err, "/hooks/%s/%zu/path: must be an absolute path", name, i);
                        if (h->timeout != SILO_UNSET && h->timeout <= 0)
                                return fail(err, "/hooks/%s/%zu/timeout: must be greater than zero", name, i);
                }
        return 0;
}

static int validate_namespaces(const struct silo_spec *s, silo_error_t *err)
{
        const struct silo_linux *l = s->linux_;
        const struct silo_namespace *userns = silo_spec_namespace(s, SILO_NS_USER);
        const struct silo_namespace *timens = silo_spec_namespace(s, SILO_NS_TIME);
        int r;

        if (l == NULL)
                return 0;
        for (size_t i = 0; i < l->n_namespaces; i++) {
                const struct silo_namespace *ns = &l->namespaces[i];
                if (ns->path && !is_abs(ns->path))
                        return fail(err, "/linux/namespaces/%zu/path: must be an absolute path", i);
                if (ns->type == SILO_NS_USER && ns->path == NULL &&
                    (l->n_uid_mappings == 0 || l->n_gid_mappings == 0))
                        return silo_error_set(err, 0,
                                              "/linux/namespaces/%zu: a new user namespace needs "
                                              "/linux/uidMappings and /linux/gidMappings",
                                              i);
        }
        if (!userns && l->n_uid_mappings)
                return fail(err, "/linux/uidMappings: requires a user namespace");
        if (!userns && l->n_gid_mappings)
                return fail(err, "/linux/gidMappings: requires a user namespace");
        r = validate_id_mappings(l->uid_mappings, l->n_uid_mappings, "/linux/uidMappings", err);
        if (r < 0)
                return r;
        r = validate_id_mappings(l->gid_mappings, l->n_gid_mappings, "/linux/gidMappings", err);
        if (r < 0)
                return r;
        if (l->time_boottime.present || l->time_monotonic.present) {
                if (!timens)
                        return fail(err, "/linux/timeOffsets: requires a time namespace");
                /* offsets can only be written before the first process enters the namespace */
                if (timens->path)
                        return fail(err, "/linux/timeOffsets: cannot be set when joining an "
                                         "existing time namespace");
                if (l->time_boottime.nanosecs >= 1000000000u)
                        return fail(err, "/linux/timeOffsets/boottime/nanosecs: must be below 1e9");
                if (l->time_monotonic.nanosecs >= 1000000000u)
                        return fail(err, "/linux/timeOffsets/monotonic/nanosecs: must be below 1e9");
        }
        return 0;
}

/*
 * Only namespaced sysctls may be set, and only when the container has that namespace (runc's
 * rule: the namespace is in the config, created or joined).  Whether a joined netns is the host's
 * needs syscalls and is checked where the netns is opened.  Names are also checked as paths:
 * they become /proc/sys/<a>/<b>, so no empty, "." or ".." components.
 */
static int validate_sysctl(const struct silo_spec *s, silo_error_t *err)
{
        const struct silo_linux *l = s->linux_;

        for (size_t i = 0; l && i < l->n_sysctl; i++) {
                const char *k = l->sysctl[i].key;
                _cleanup_free_ char *ptr = ptr_escape(k);
                _cleanup_free_ char *name = silo_xstrdup(k);
                bool ok_path = name[0] != '\0';
                enum silo_ns_type need;

                for (char *p = name; *p; p++)
                        if (*p == '/') /* runc accepts "net/ipv4/ip_forward" too */
                                *p = '.';
                for (char *comp = name, *dot; ok_path && comp; comp = dot ? dot + 1 : NULL) {
                        dot = strchr(comp, '.');
                        size_t n = dot ? (size_t)(dot - comp) : strlen(comp);
                        if (n == 0 || (n == 2 && comp[0] == '.' && comp[1] == '.'))
                                ok_path = false;
                }
                if (!ok_path)
                        return fail(err, "/linux/sysctl/%s: invalid name", ptr);
                if (silo_str_has_prefix(name, "kernel.msg") || silo_str_has_prefix(name, "kernel.shm") ||
                    strcmp(name, "kernel.sem") == 0 || strcmp(name, "kernel.sem_next_id") == 0 ||
                    silo_str_has_prefix(name, "fs.mqueue."))
                        need = SILO_NS_IPC;
                else if (silo_str_has_prefix(name, "net."))
                        need = SILO_NS_NETWORK;
                else if (strcmp(name, "kernel.hostname") == 0 || strcmp(name, "kernel.domainname") == 0)
                        need = SILO_NS_UTS;
                else
                        return fail(err, "/linux/sysctl/%s: not namespaced", ptr);
                if (!has_ns(s, need))
                        return fail(err, "/linux/sysctl/%s: requires %s namespace", ptr,
                                    need == SILO_NS_IPC   ? "an IPC"
                                    : need == SILO_NS_UTS ? "a UTS"
                                                          : "a network");
        }
        return 0;
}

static int validate_devices(const struct silo_linux *l, silo_error_t *err)
{
        for (size_t i = 0; i < l->n_devices; i++) {
                const struct silo_device *d = &l->devices[i];

                if (!is_abs(d->path))
                        return fail(err, "/linux/devices/%zu/path: must be an absolute path", i);
                if (d->type != 'c' && d->type != 'b' && d->type != 'u' && d->type != 'p')
                        return fail(err, "/linux/devices/%zu/type: must be c, b, u or p", i);
                if (d->type == 'p')
                        continue;
                if (d->major == SILO_UNSET || d->minor == SILO_UNSET)
                        return fail(err, "/linux/devices/%zu: type '%c' needs major and minor", i, d->type);
                if (d->major < 0 || d->major > UINT32_MAX || d->minor < 0 || d->minor > UINT32_MAX)
                        return fail(err, "/linux/devices/%zu: major/minor out of range", i);
        }
        return 0;
}

static int validate_resources(const struct silo_resources *res, silo_error_t *err)
{
        for (size_t i = 0; i < res->n_devices; i++) {
                const struct silo_device_rule *d = &res->devices[i];

                if (d->type != 0 && d->type != 'a' && d->type != 'c' && d->type != 'b')
                        return fail(err, "/linux/resources/devices/%zu/type: must be a, c or b", i);
                if (d->access && d->access[strspn(d->access, "rwm")] != '\0')
                        return silo_error_set(
                            err, 0,
                            "/linux/resources/devices/%zu/access: '%.*s' is not a subset of "
                            "'rwm'",
                            i, QUOTE_MAX, d->access);
                if ((d->major != SILO_UNSET && d->major < -1) || (d->minor != SILO_UNSET && d->minor < -1))
                        return fail(err, "/linux/resources/devices/%zu: major/minor must be >= -1", i);
        }
        if (res->memory.swap != SILO_UNSET && res->memory.limit != SILO_UNSET && res->memory.swap != -1 &&
            res->memory.limit != -1 && res->memory.swap < res->memory.limit)
                return silo_error_set(err, 0,
                                      "/linux/resources/memory/swap: %" PRId64
                                      " is below memory.limit %" PRId64 " (swap is memory+swap)",
                                      res->memory.swap, res->memory.limit);
        if (res->cpu.idle != SILO_UNSET && res->cpu.idle != 0 && res->cpu.idle != 1)
                return fail(err, "/linux/resources/cpu/idle: must be 0 or 1");
        if (res->cpu.cpus && !cpu_list_ok(res->cpu.cpus))
                return fail(err, "/linux/resources/cpu/cpus: '%.*s' is not a CPU list", QUOTE_MAX,
                            res->cpu.cpus);
        if (res->cpu.mems && !cpu_list_ok(res->cpu.mems))
                return fail(err, "/linux/resources/cpu/mems: '%.*s' is not a node list", QUOTE_MAX,
                            res->cpu.mems);
        /* These strings become cgroup file names or tokens of a cgroup file write: no '/', no
         * whitespace (a newline would inject a second rule), no "." or "..". */
        for (size_t i = 0; i < res->n_hugepage_limits; i++)
                if (!token_ok(res->hugepage_limits[i].page_size, false))
                        return fail(err, "/linux/resources/hugepageLimits/%zu/pageSize: invalid", i);
        for (size_t i = 0; i < res->network.n_priorities; i++) {
                const char *n = res->network.priorities[i].name;
                if (!token_ok(n, true) || strlen(n) >= 16 /* IFNAMSIZ */)
                        return fail(err,
                                    "/linux/resources/network/priorities/%zu/name: invalid "
                                    "interface name",
                                    i);
        }
        for (size_t i = 0; i < res->n_rdma; i++)
                if (!token_ok(res->rdma[i].device, true)) {
                        _cleanup_free_ char *ptr = ptr_escape(res->rdma[i].device);
                        return fail(err, "/linux/resources/rdma/%s: invalid device name", ptr);
                }
        for (size_t i = 0; i < res->n_unified; i++)
                if (!token_ok(res->unified[i].key, false)) {
                        _cleanup_free_ char *ptr = ptr_escape(res->unified[i].key);
                        return fail(err, "/linux/resources/unified/%s: invalid cgroup file name", ptr);
                }
        return 0;
}

static bool errno_action(enum silo_seccomp_action a)
{
        return a == SILO_SCMP_ERRNO || a == SILO_SCMP_TRACE;
}

static int validate_seccomp(const struct silo_seccomp *sc, silo_error_t *err)
{
        if (sc->default_errno_ret != SILO_UNSET && !errno_action(sc->default_action))
                return fail(err, "/linux/seccomp/defaultErrnoRet: only valid with a "
                                 "SCMP_ACT_ERRNO or SCMP_ACT_TRACE defaultAction");
        /* runc: the notify fd must come from a filter that lets the runtime run (and write) first */
        if (sc->default_action == SILO_SCMP_NOTIFY)
                return fail(err, "/linux/seccomp/defaultAction: SCMP_ACT_NOTIFY cannot be the "
                                 "default action");
        for (size_t i = 0; i < sc->n_syscalls; i++) {
                const struct silo_seccomp_rule *rule = &sc->syscalls[i];

                if (rule->names == NULL || rule->names[0] == NULL)
                        return fail(err, "/linux/seccomp/syscalls/%zu/names: must not be empty", i);
                for (size_t j = 0; rule->names[j]; j++)
                        if (rule->names[j][0] == '\0')
                                return fail(err, "/linux/seccomp/syscalls/%zu/names/%zu: empty", i, j);
                if (rule->errno_ret != SILO_UNSET && !errno_action(rule->action))
                        return fail(err,
                                    "/linux/seccomp/syscalls/%zu/errnoRet: only valid with "
                                    "SCMP_ACT_ERRNO or SCMP_ACT_TRACE",
                                    i);
                if (rule->action == SILO_SCMP_NOTIFY && (sc->listener_path == NULL || !*sc->listener_path))
                        return fail(err,
                                    "/linux/seccomp/syscalls/%zu/action: SCMP_ACT_NOTIFY "
                                    "requires /linux/seccomp/listenerPath",
                                    i);
                for (size_t j = 0; j < rule->n_args; j++)
                        if (rule->args[j].index > 5)
                                return fail(err,
                                            "/linux/seccomp/syscalls/%zu/args/%zu/index: "
                                            "must be below 6",
                                            i, j);
        }
        return 0;
}

static int validate_paths(char **v, const char *what, silo_error_t *err)
{
        for (size_t i = 0; v && v[i]; i++)
                if (!is_abs(v[i]))
                        return fail(err, "/linux/%s/%zu: '%.*s' is not an absolute path", what, i, QUOTE_MAX,
                                    v[i]);
        return 0;
}

static int validate_linux(const struct silo_spec *s, silo_error_t *err)
{
        const struct silo_linux *l = s->linux_;
        int r;

        if (l == NULL)
                return 0;
        r = validate_sysctl(s, err);
        if (r < 0)
                return r;
        r = validate_devices(l, err);
        if (r < 0)
                return r;
        if (l->resources) {
                r = validate_resources(l->resources, err);
                if (r < 0)
                        return r;
        }
        /* the fs driver joins it under the cgroup root: ".." would leave it */
        if (l->cgroups_path) {
                _cleanup_free_ char *p = silo_xasprintf("/%s/", l->cgroups_path);
                if (strstr(p, "/../"))
                        return fail(err, "/linux/cgroupsPath: '%.*s' must not contain '..'", QUOTE_MAX,
                                    l->cgroups_path);
        }
        r = validate_paths(l->masked_paths, "maskedPaths", err);
        if (r < 0)
                return r;
        r = validate_paths(l->readonly_paths, "readonlyPaths", err);
        if (r < 0)
                return r;
        if (l->seccomp) {
                r = validate_seccomp(l->seccomp, err);
                if (r < 0)
                        return r;
        }
        if (l->has_personality && l->personality_domain != PER_LINUX && l->personality_domain != PER_LINUX32)
                return fail(err, "/linux/personality/domain: must be LINUX or LINUX32");
        return 0;
}

int silo_spec_validate(const struct silo_spec *s, silo_error_t *err)
{
        int r;

        if (s->oci_version == NULL || s->oci_version[0] == '\0')
                return fail(err, "/ociVersion: missing");
        if (!version_supported(s->oci_version))
                return fail(err, "/ociVersion: unsupported version '%.*s' (want 1.x)", QUOTE_MAX,
                            s->oci_version);
        if (s->root.path == NULL || s->root.path[0] == '\0')
                return fail(err, "/root/path: missing");
        if (s->process) {
                r = silo_process_validate(s->process, "/process", err);
                if (r < 0)
                        return r;
        }
        /* runc: the namespace must be in the config (new or joined) to change its names */
        if (s->hostname && s->hostname[0] && !has_ns(s, SILO_NS_UTS))
                return fail(err, "/hostname: requires a UTS namespace");
        if (s->domainname && s->domainname[0] && !has_ns(s, SILO_NS_UTS))
                return fail(err, "/domainname: requires a UTS namespace");
        r = validate_mounts(s, err);
        if (r < 0)
                return r;
        r = validate_hooks(s, err);
        if (r < 0)
                return r;
        r = validate_namespaces(s, err);
        if (r < 0)
                return r;
        return validate_linux(s, err);
}
