/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The runtime-spec config.json, parsed into plain C structs.
 *
 * spec.c reads config.json with yajl_tree and fills these structs through dispatch tables
 * (one table per JSON object, systemd style): every key silo understands is listed there,
 * with its type.  Wrong types, out-of-range numbers and unknown enum values are errors that
 * name the field as a JSON pointer ("/linux/resources/memory/limit: expected an integer").
 * Unknown keys are ignored (forward compatibility, as runc does).
 *
 * Conventions:
 *   - optional integers use SILO_UNSET (INT64_MIN) when absent;
 *   - optional booleans are int8 tri-states: -1 absent, 0 false, 1 true;
 *   - string vectors are NULL-terminated (char **) and may be NULL when absent;
 *   - arrays of structs come with an n_ count.
 *
 * validate.c then checks cross-field rules without syscalls; both are unit tested and fuzzed.
 */
#ifndef SILO_SPEC_H
#define SILO_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "error.h"

#define SILO_UNSET INT64_MIN
#define SILO_SPEC_MAX_SIZE (4u << 20) /* config.json larger than this is refused */
#define SILO_SPEC_MAX_DEPTH 64

struct silo_kv {
        char *key;
        char *value;
};

struct silo_rlimit {
        int resource; /* RLIMIT_* */
        char *type;   /* "RLIMIT_NOFILE" as given */
        uint64_t soft, hard;
};

/* Capability sets as bitmasks of CAP_* numbers (bit n = capability n). */
struct silo_caps {
        bool present; /* process.capabilities given */
        uint64_t bounding, effective, inheritable, permitted, ambient;
};

struct silo_user {
        uint32_t uid, gid;
        int64_t umask; /* SILO_UNSET or 0..0777 */
        uint32_t *additional_gids;
        size_t n_additional_gids;
        char *username;
};

struct silo_scheduler {
        bool present;
        int policy; /* SCHED_* */
        int32_t nice;
        int32_t priority;
        uint64_t flags; /* SCHED_FLAG_* */
        uint64_t runtime, deadline, period;
};

struct silo_io_priority {
        bool present;
        int klass; /* IOPRIO_CLASS_RT=1, BE=2, IDLE=3 */
        int priority;
};

struct silo_process {
        bool terminal;
        bool has_console_size;
        uint32_t console_height, console_width;
        struct silo_user user;
        char **args;
        char *command_line; /* Windows only; ignored */
        char **env;
        char *cwd;
        struct silo_caps caps;
        struct silo_rlimit *rlimits;
        size_t n_rlimits;
        bool no_new_privileges;
        char *apparmor_profile;
        int64_t oom_score_adj; /* SILO_UNSET or -1000..1000 */
        char *selinux_label;
        struct silo_scheduler scheduler;
        struct silo_io_priority io_priority;
        char *exec_cpu_affinity_initial; /* CPU list strings */
        char *exec_cpu_affinity_final;
};

/* A mount, with its options already decoded (spec.c: silo_mount_parse_options). */
struct silo_id_mapping {
        uint32_t container_id, host_id, size;
};

struct silo_mount {
        char *destination;
        char *type;
        char *source;
        char **options; /* as given */
        /* decoded options */
        unsigned long flags;       /* MS_* to set (MS_RDONLY, MS_NOSUID, MS_BIND, MS_REC, ...) */
        unsigned long clear_flags; /* MS_* explicitly cleared ("rw", "suid", "dev", "exec", ...) */
        unsigned long propagation; /* MS_SHARED|MS_SLAVE|MS_PRIVATE|MS_UNBINDABLE, maybe |MS_REC */
        uint64_t rec_attr_set;     /* MOUNT_ATTR_* for recursive mount_setattr ("rro", "rnosuid", ...) */
        uint64_t rec_attr_clr;
        char *data;                /* the remaining, filesystem-specific options joined with ',' */
        bool bind;                 /* "bind" or "rbind" (flags has MS_BIND, and MS_REC for rbind) */
        bool idmap, ridmap;        /* "idmap" / "ridmap" */
        bool tmpcopyup;            /* "tmpcopyup" (crun extension) */
        bool copy_symlink;         /* "copy-symlink" (crun extension) */
        struct silo_id_mapping *uid_mappings, *gid_mappings;
        size_t n_uid_mappings, n_gid_mappings;
};

enum silo_ns_type {
        SILO_NS_PID,
        SILO_NS_NETWORK,
        SILO_NS_MOUNT,
        SILO_NS_IPC,
        SILO_NS_UTS,
        SILO_NS_USER,
        SILO_NS_CGROUP,
        SILO_NS_TIME,
        _SILO_NS_MAX,
};

struct silo_namespace {
        enum silo_ns_type type;
        char *path; /* NULL: create a new one */
};

struct silo_device {
        char *path;
        char type; /* 'c', 'b', 'u', 'p' */
        int64_t major, minor;
        int64_t file_mode; /* SILO_UNSET or mode bits (without S_IFMT) */
        int64_t uid, gid;  /* SILO_UNSET when absent */
};

/* linux.resources.devices entry (device cgroup rule). */
struct silo_device_rule {
        bool allow;
        char type;            /* 'a', 'c', 'b' (0 when absent = 'a') */
        int64_t major, minor; /* -1 (or SILO_UNSET) = wildcard */
        char *access;         /* subset of "rwm"; NULL = "rwm" */
};

struct silo_weight_device {
        int64_t major, minor;
        int64_t weight, leaf_weight; /* SILO_UNSET when absent */
};

struct silo_throttle_device {
        int64_t major, minor;
        uint64_t rate;
};

struct silo_hugepage_limit {
        char *page_size; /* "2MB" */
        uint64_t limit;
};

struct silo_rdma_limit {
        char *device;
        int64_t hca_handles, hca_objects; /* SILO_UNSET when absent */
};

struct silo_net_priority {
        char *name;
        uint32_t priority;
};

struct silo_resources {
        struct silo_device_rule *devices;
        size_t n_devices;
        struct {
                int64_t limit, reservation, swap, kernel, kernel_tcp, swappiness;
                int8_t disable_oom_killer, use_hierarchy, check_before_update;
        } memory;
        struct {
                int64_t shares, quota, burst, period, realtime_runtime, realtime_period, idle;
                char *cpus, *mems;
        } cpu;
        struct {
                int64_t limit; /* SILO_UNSET, or <= 0 = unlimited */
        } pids;
        struct {
                int64_t weight, leaf_weight;
                struct silo_weight_device *weight_device;
                size_t n_weight_device;
                struct silo_throttle_device *throttle_read_bps, *throttle_write_bps, *throttle_read_iops,
                        *throttle_write_iops;
                size_t n_throttle_read_bps, n_throttle_write_bps, n_throttle_read_iops, n_throttle_write_iops;
        } block_io;
        struct silo_hugepage_limit *hugepage_limits;
        size_t n_hugepage_limits;
        struct {
                int64_t class_id;
                struct silo_net_priority *priorities;
                size_t n_priorities;
        } network;
        struct silo_rdma_limit *rdma;
        size_t n_rdma;
        struct silo_kv *unified;
        size_t n_unified;
};

enum silo_seccomp_action {
        SILO_SCMP_KILL, /* = KILL_THREAD */
        SILO_SCMP_KILL_PROCESS,
        SILO_SCMP_KILL_THREAD,
        SILO_SCMP_TRAP,
        SILO_SCMP_ERRNO,
        SILO_SCMP_TRACE,
        SILO_SCMP_ALLOW,
        SILO_SCMP_LOG,
        SILO_SCMP_NOTIFY,
};

enum silo_seccomp_op {
        SILO_SCMP_CMP_NE,
        SILO_SCMP_CMP_LT,
        SILO_SCMP_CMP_LE,
        SILO_SCMP_CMP_EQ,
        SILO_SCMP_CMP_GE,
        SILO_SCMP_CMP_GT,
        SILO_SCMP_CMP_MASKED_EQ,
};

struct silo_seccomp_arg {
        uint32_t index;
        uint64_t value, value_two;
        enum silo_seccomp_op op;
};

struct silo_seccomp_rule {
        char **names;
        enum silo_seccomp_action action;
        int64_t errno_ret; /* SILO_UNSET: EPERM */
        struct silo_seccomp_arg *args;
        size_t n_args;
};

struct silo_seccomp {
        enum silo_seccomp_action default_action;
        int64_t default_errno_ret; /* SILO_UNSET: EPERM */
        char **architectures;      /* "SCMP_ARCH_X86_64", ... */
        char **flags;              /* "SECCOMP_FILTER_FLAG_LOG", ... */
        char *listener_path;
        char *listener_metadata;
        struct silo_seccomp_rule *syscalls;
        size_t n_syscalls;
};

struct silo_hook {
        char *path;
        char **args;
        char **env;
        int64_t timeout; /* seconds; SILO_UNSET = none */
};

enum silo_hook_kind {
        SILO_HOOK_PRESTART,
        SILO_HOOK_CREATE_RUNTIME,
        SILO_HOOK_CREATE_CONTAINER,
        SILO_HOOK_START_CONTAINER,
        SILO_HOOK_POSTSTART,
        SILO_HOOK_POSTSTOP,
        _SILO_HOOK_MAX,
};

struct silo_time_offset {
        bool present;
        int64_t secs;
        uint32_t nanosecs;
};

struct silo_linux {
        struct silo_namespace *namespaces;
        size_t n_namespaces;
        struct silo_id_mapping *uid_mappings, *gid_mappings;
        size_t n_uid_mappings, n_gid_mappings;
        struct silo_time_offset time_boottime, time_monotonic;
        struct silo_device *devices;
        size_t n_devices;
        char *cgroups_path;
        struct silo_resources *resources; /* NULL when absent */
        char *rootfs_propagation;         /* "shared", "slave", "private", "unbindable", r-variants */
        unsigned long rootfs_propagation_flags; /* decoded; 0 when absent */
        char **masked_paths;
        char **readonly_paths;
        char *mount_label;
        struct silo_kv *sysctl;
        size_t n_sysctl;
        struct silo_seccomp *seccomp; /* NULL when absent */
        bool has_personality;
        unsigned long personality_domain; /* PER_LINUX / PER_LINUX32 */
        char **personality_flags;
};

struct silo_spec {
        char *oci_version;
        struct {
                char *path;
                bool readonly;
        } root;
        struct silo_process *process; /* NULL when absent (allowed until start) */
        char *hostname;
        char *domainname;
        struct silo_mount *mounts;
        size_t n_mounts;
        struct silo_hook *hooks[_SILO_HOOK_MAX];
        size_t n_hooks[_SILO_HOOK_MAX];
        struct silo_kv *annotations;
        size_t n_annotations;
        struct silo_linux *linux_; /* NULL when absent */
};

/* Parse a config.json document (buf, len bytes).  On error *err names the JSON pointer. */
int silo_spec_parse(const char *buf, size_t len, struct silo_spec **ret, silo_error_t *err);
/* Read and parse <path> (bounded by SILO_SPEC_MAX_SIZE). */
int silo_spec_load(const char *path, struct silo_spec **ret, silo_error_t *err);
/* Parse a process.json (exec --process) document into a silo_process. */
int silo_process_parse(const char *buf, size_t len, struct silo_process **ret, silo_error_t *err);
/* Parse a linux.resources document (update --resources). */
int silo_resources_parse(const char *buf, size_t len, struct silo_resources **ret, silo_error_t *err);
void silo_spec_free(struct silo_spec *spec);
void silo_process_free(struct silo_process *p);
void silo_resources_free(struct silo_resources *r);

/* Decode one mount's options list into the decoded fields of m (used by the parser; exposed
 * for unit tests).  Errors name the option. */
int silo_mount_parse_options(struct silo_mount *m, silo_error_t *err);

/* Lookups */
const char *silo_ns_type_name(enum silo_ns_type t); /* "pid", "network", ... (spec names) */
int silo_ns_type_from_name(const char *name);       /* -1 when unknown */
int silo_ns_clone_flag(enum silo_ns_type t);         /* CLONE_NEW* */
const struct silo_namespace *silo_spec_namespace(const struct silo_spec *spec, enum silo_ns_type t);
const char *silo_spec_annotation(const struct silo_spec *spec, const char *key);
const char *silo_hook_kind_name(enum silo_hook_kind k); /* "prestart", "createRuntime", ... */

#endif
