/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The VM sandbox's CONFIG and EXEC payloads for the guest agent (vm/proto.h): the process
 * (args, env, user, rlimits, capabilities, noNewPrivileges, the host-compiled seccomp filter),
 * the guest's settings (hostname, read-only root, NIC, memory/pids limits), and the config's
 * mounts the guest makes: tmpfs ones, and host bind mounts through the 9p share "binds" whose
 * stand-ins plan_binds prepares for the supervisor (vm_plan.binds).
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include "log.h"
#include "sandbox.h"
#include "sandbox-vm.h"
#include "seccomp.h"
#include "util.h"

/* ---- the process ----------------------------------------------------- */

static void kv(struct silo_buf *b, const char *k, const char *v)
{
        silo_buf_put(b, k, strlen(k) + 1);
        silo_buf_put(b, v, strlen(v) + 1);
}

/* The keys of one process (CONFIG and EXEC). */
static void process_config(const struct silo_process *p, struct silo_buf *b)
{
        char num[64];

        for (char **a = p->args; a && *a; a++)
                kv(b, "arg", *a);
        for (char **e = p->env; e && *e; e++)
                kv(b, "env", *e);
        kv(b, "cwd", p->cwd ? p->cwd : "/");
        if (p->terminal)
                kv(b, "terminal", "1");
        snprintf(num, sizeof(num), "%u", p->user.uid);
        kv(b, "uid", num);
        snprintf(num, sizeof(num), "%u", p->user.gid);
        kv(b, "gid", num);
        for (size_t i = 0; i < p->user.n_additional_gids; i++) {
                snprintf(num, sizeof(num), "%u", p->user.additional_gids[i]);
                kv(b, "gid+", num);
        }
        for (size_t i = 0; i < p->n_rlimits; i++) {
                const struct silo_rlimit *l = &p->rlimits[i];
                snprintf(num, sizeof(num), "%d %lld %lld", l->resource,
                         l->soft == RLIM_INFINITY ? -1LL : (long long)l->soft,
                         l->hard == RLIM_INFINITY ? -1LL : (long long)l->hard);
                kv(b, "rlimit", num);
        }
        if (p->caps.present) {
                char caps[5 * 17 + 1];
                snprintf(caps, sizeof(caps), "%llx %llx %llx %llx %llx", (unsigned long long)p->caps.bounding,
                         (unsigned long long)p->caps.effective, (unsigned long long)p->caps.inheritable,
                         (unsigned long long)p->caps.permitted, (unsigned long long)p->caps.ambient);
                kv(b, "caps", caps);
        }
        if (p->no_new_privileges)
                kv(b, "nnp", "1");
}

/*
 * /linux/seccomp for the guest, which has no libseccomp: the program compiled on the host with
 * libseccomp, exactly as for a namespace container (create compiles it into c->seccomp; exec
 * here), goes as "seccomp" = "FLAGS HEX" (the BPF instructions as hex bytes) and the agent loads
 * it with seccomp(2) in init.c's order.  SCMP_ACT_NOTIFY needs a listener on the host for a
 * process that lives in the guest: refused by name.  The container's filter also applies to
 * exec'd processes, as with runc.
 */
static int seccomp_config(const struct silo_seccomp_prog *prog, struct silo_buf *b, silo_error_t *err)
{
        static const char hex[] = "0123456789abcdef";
        const unsigned char *bytes;
        struct silo_buf v = {0};
        size_t n;

        if (prog == NULL)
                return 0;
        if (prog->notify)
                return silo_error_set(
                    err, EOPNOTSUPP,
                    "/linux/seccomp: SCMP_ACT_NOTIFY is not supported by the vm sandbox (the "
                    "process runs in the guest)");
        silo_buf_printf(&v, "%u ", prog->flags);
        bytes = (const unsigned char *)prog->filter;
        n = (size_t)prog->len * sizeof(*prog->filter);
        for (size_t i = 0; i < n; i++) {
                char h[2] = {hex[bytes[i] >> 4], hex[bytes[i] & 15]};
                silo_buf_put(&v, h, 2);
        }
        silo_buf_put(&v, "", 1);
        kv(b, "seccomp", v.data);
        silo_buf_free(&v);
        return 0;
}

static void build_config(const struct silo_container *c, const struct vm_plan *p, struct silo_buf *b)
{
        const struct silo_resources *r = silo_vm_resources(c);
        char num[64];

        process_config(c->spec->process, b);
        if (c->spec->hostname && *c->spec->hostname)
                kv(b, "hostname", c->spec->hostname);
        if (c->spec->root.readonly)
                kv(b, "readonly", "1");
        if (p->tap) {
                _cleanup_free_ char *net = silo_vm_tap_net_config(p);
                kv(b, "net", net);
        } else if (p->netdev) {
                kv(b, "net", "10.0.2.15 255.255.255.0 10.0.2.2"); /* slirp's defaults */
        }
        if (silo_vm_memory_limit(c)) {
                snprintf(num, sizeof(num), "%lld", (long long)silo_vm_memory_limit(c));
                kv(b, "memory", num);
        }
        if (r && r->pids.limit != SILO_UNSET && r->pids.limit > 0) {
                snprintf(num, sizeof(num), "%lld", (long long)r->pids.limit);
                kv(b, "pids", num);
        }
}

/* ---- mounts ------------------------------------------------------------------------------ */

/*
 * Host bind mounts (volumes, an orchestrator's files) go into the guest over virtio-9p without
 * showing a host directory beyond the sources themselves: one share, the stand-in dir
 * <state>/binds, holds an entry <i> per mount (a dir or a file, as its source is) onto which the
 * supervisor binds the source inside the VMM's own mount namespace (nothing is mounted on the
 * host), read-only there for "ro", so the host kernel refuses the VMM's writes to it.  The agent
 * mounts the share and binds its <i> onto the destination in the rootfs.  The binds silo adds
 * from its own state dir (network files) are not carried: the guest makes its own.  qemu refuses
 * to migrate a guest with a 9p share mounted: checkpoint and migrate say so (snapshot.c).
 */
static bool carried_bind(const struct silo_container *c, const struct silo_mount *m)
{
        size_t n = strlen(c->ctx->root);
        return m->bind && !(m->source && strncmp(m->source, c->ctx->root, n) == 0 && m->source[n] == '/');
}

static int plan_binds(const struct silo_container *c, struct vm_plan *p, silo_error_t *err)
{
        _cleanup_free_ char *dir = silo_xasprintf("%s/binds", p->dir);

        for (size_t i = 0; i < c->spec->n_mounts; i++) {
                const struct silo_mount *m = &c->spec->mounts[i];
                struct stat st;
                char *x;
                int fd = -1, r;

                if (!carried_bind(c, m))
                        continue;
                if (m->source == NULL || stat(m->source, &st) < 0)
                        return silo_error_set(err, m->source ? errno : EINVAL, "/mounts/%zu: source '%s'", i,
                                              m->source ? m->source : "");
                if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
                        return silo_error_set(err, EOPNOTSUPP,
                                              "/mounts/%zu: '%s' is neither a directory nor a file: the vm "
                                              "sandbox carries only those into the guest",
                                              i, m->source);
                if (p->n_binds == 0 && mkdir(dir, 0700) < 0 && errno != EEXIST)
                        return silo_error_set(err, errno, "mkdir '%s'", dir);
                x = silo_xasprintf("%s/%zu", dir, p->n_binds);
                if (S_ISDIR(st.st_mode)
                        ? mkdir(x, 0755) < 0 && errno != EEXIST
                        : (fd = open(x, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644)) < 0) {
                        r = silo_error_set(err, errno, "the stand-in '%s' of /mounts/%zu", x, i);
                        free(x);
                        return r;
                }
                if (fd >= 0)
                        close(fd);
                silo_strv_push(&p->binds, silo_xstrdup(m->source));
                silo_strv_push(&p->binds, x);
                p->bind_flags = silo_xrealloc(p->bind_flags, (p->n_binds + 1) * sizeof(*p->bind_flags));
                p->bind_flags[p->n_binds++] = m->flags & (MS_REC | MS_RDONLY);
        }
        return 0;
}

/* The config's tmpfs mounts the guest does not make itself (it has its own /dev and /dev/shm):
 * "tmpfs" keys "MS_FLAGS DATA|- DESTINATION", mounted by the agent like the binds. */
static void tmpfs_config(const struct silo_container *c, struct silo_buf *b)
{
        for (size_t i = 0; i < c->spec->n_mounts; i++) {
                const struct silo_mount *m = &c->spec->mounts[i];
                const char *d = m->destination;
                if (m->bind || m->type == NULL || strcmp(m->type, "tmpfs") != 0 || d == NULL || d[0] != '/' ||
                    strcmp(d, "/dev") == 0 || strcmp(d, "/dev/shm") == 0 || silo_str_has_prefix(d, "/proc") ||
                    silo_str_has_prefix(d, "/sys"))
                        continue;
                _cleanup_free_ char *v = silo_xasprintf(
                    "%lu %s %s", m->flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME),
                    m->data && *m->data && !strchr(m->data, ' ') ? m->data : "-", d);
                kv(b, "tmpfs", v);
        }
}

/* the agent's "bind" keys: "<i> ro|rw DESTINATION" (the destination last: it may hold spaces) */
static void bind_config(const struct silo_container *c, const struct vm_plan *p, struct silo_buf *b)
{
        size_t n = 0;

        for (size_t i = 0; i < c->spec->n_mounts && n < p->n_binds; i++) {
                const struct silo_mount *m = &c->spec->mounts[i];
                if (!carried_bind(c, m))
                        continue;
                _cleanup_free_ char *v = silo_xasprintf(
                    "%zu %s %s", n, (p->bind_flags[n] & MS_RDONLY) ? "ro" : "rw", m->destination);
                kv(b, "bind", v);
                n++;
        }
}

/* ---- entry points ------------------------------------------------------------------------ */

int silo_vm_guest_config(struct silo_container *c, struct vm_plan *p, struct silo_buf *b, silo_error_t *err)
{
        int r = plan_binds(c, p, err);

        if (r < 0)
                return r;
        build_config(c, p, b);
        bind_config(c, p, b);
        tmpfs_config(c, b);
        return seccomp_config(c->seccomp, b, err);
}

int silo_vm_exec_config(const struct silo_process *p, const struct silo_seccomp_prog *prog, bool detach,
                        struct silo_buf *b, silo_error_t *err)
{
        process_config(p, b);
        if (detach)
                kv(b, "detach", "1");
        return seccomp_config(prog, b, err);
}
