/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Checkpoint/restore of a vm-sandboxed container through qemu's own migration: the whole guest
 * (kernel, agent, the container's processes, the tmpfs upper of its rootfs) is one stream.
 *
 * Checkpoint (the container locked, running): QMP on <state>/qmp.sock: `stop`, `getfd` (the
 * image dir's vm.state, passed over the socket: qemu's seccomp filter forbids exec: URIs and it
 * sees no host paths), `migrate fd:`, poll `query-migrate` to "completed".  Then vm.json (the
 * marker: kernel sha256, initramfs name -- content-hashed --, RAM, vCPUs, NIC) and rootfs.erofs
 * (the guest's disk: a hard link when the image dir is on the same fs, else a copy) join it.
 * --leave-running: `cont`; otherwise the VM is stopped and the container removed (runc).
 *
 * Restore: create's path (state dir, cgroup, supervisor, jailed VMM) with the spawn hook: the
 * VMM gets vm.state as fd 4 and `-incoming fd:4`, the same machine (RAM/vCPUs from vm.json, same
 * devices); the supervisor `cont`s it once loaded and relays as after START.  The guest agent
 * keeps running: its channel is a new socketpair behind the same virtio-serial port.
 *
 * Invariants: a snapshot is only loaded into the very kernel and initramfs it was taken with
 * (checked before anything is started); a failed checkpoint resumes the guest and removes
 * vm.state; a failed restore leaves nothing (create's rollback: supervisor, VMM, cgroup, state).
 */
#include "config.h"
#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>
#include "../checkpoint/archive.h"
#include "../image/image.h"
#include "../image/json.h"
#include "../netns/netns.h"
#include "../vm/qmp.h"
#include "log.h"
#include "sandbox-vm-snapshot.h"
#include "sandbox-vm.h"
#include "sandbox.h"
#include "state.h"
#include "util.h"

#define SNAP_MARKER "vm.json"
#define SNAP_STREAM "vm.state"
#define SNAP_DISK "rootfs.erofs"
#define SNAP_NET "network.status"
#define MIGRATE_TIMEOUT_MS (10 * 60 * 1000)

struct snap_meta {
        char kernel_sha[72];
        char initrd[128];
        char kver[128];
        uint64_t mib, cpus;
        int net;     /* 0: no NIC, 1: slirp, 2: tap (bridge IP) */
        uint32_t ip; /* net 2: the address the guest has configured (its MAC says it) */
};

/* ---- helpers ------------------------------------------------------------------------------ */

static int mkdir_p(const char *path, silo_error_t *err)
{
        _cleanup_free_ char *p = silo_xstrdup(path);

        for (char *s = p + 1; *s; s++)
                if (*s == '/') {
                        *s = '\0';
                        if (mkdir(p, 0700) < 0 && errno != EEXIST)
                                return silo_error_set(err, errno, "--image-path: mkdir '%s'", p);
                        *s = '/';
                }
        if (mkdir(p, 0700) < 0 && errno != EEXIST)
                return silo_error_set(err, errno, "--image-path: mkdir '%s'", p);
        return 0;
}

/* sha256 of the (extracted, cached) vmlinux, itself cached beside it: hashing 60+ MB costs
 * ~0.2 s, once per kernel. */
static int kernel_sha(const char *vmlinux, char out[72], silo_error_t *err)
{
        _cleanup_free_ char *cache = silo_xasprintf("%s.sha256", vmlinux), *buf = NULL;
        _cleanup_close_ int fd = -1;
        struct silo_sha256 *h;
        char data[1 << 16];
        ssize_t n;

        if (silo_read_file_at(AT_FDCWD, cache, 128, &buf, NULL, NULL) == 0 && strlen(buf) == 71) {
                memcpy(out, buf, 72);
                return 0;
        }
        fd = open(vmlinux, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return silo_error_set(err, errno, "vm: read the guest kernel '%s'", vmlinux);
        if (silo_image_dl_load(err) < 0)
                return silo_error_ret(*err);
        h = silo_sha256_new();
        while ((n = read(fd, data, sizeof(data))) > 0 || (n < 0 && errno == EINTR))
                if (n > 0)
                        silo_sha256_update(h, data, (size_t)n);
        silo_sha256_final(h, out);
        if (n < 0)
                return silo_error_set(err, errno, "vm: read the guest kernel '%s'", vmlinux);
        silo_error_t e = NULL;
        if (silo_write_file_atomic(cache, out, 71, 0644, &e) < 0) /* only a cache */
                silo_error_free(&e);
        return 0;
}

/* dst (in dstfd) becomes src's content: a hard link if possible (the image is read-only for
 * the guest, never rewritten), else a copy. */
static int link_or_copy(int srcfd, const char *src, int dstfd, const char *dst, silo_error_t *err)
{
        _cleanup_close_ int in = -1, out = -1;
        struct stat st;

        unlinkat(dstfd, dst, 0);
        if (linkat(srcfd, src, dstfd, dst, 0) == 0)
                return 0;
        in = openat(srcfd, src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (in < 0 || fstat(in, &st) < 0)
                return silo_error_set(err, errno, "vm: read '%s'", src);
        out = openat(dstfd, dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (out < 0)
                return silo_error_set(err, errno, "vm: create '%s'", dst);
        for (off_t left = st.st_size; left > 0;) {
                ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
                if (n <= 0) {
                        int e = n < 0 ? errno : EIO;
                        unlinkat(dstfd, dst, 0);
                        return silo_error_set(err, e, "vm: copy '%s'", src);
                }
                left -= n;
        }
        return 0;
}

/* The running VMM's command line: which kernel/initramfs/RAM/vCPUs/NIC the guest really has (and
 * no 9p share: qemu blocks the migration of a guest that mounts one). */
static int running_machine(pid_t vmm, struct snap_meta *m, char **ret_kernel, silo_error_t *err)
{
        _cleanup_free_ char *path = silo_xasprintf("/proc/%d/cmdline", (int)vmm), *buf = NULL;
        size_t len;
        const char *initrd = NULL;

        if (silo_read_file_at(AT_FDCWD, path, 1 << 20, &buf, &len, err) < 0)
                return silo_error_wrap(err, "vm: the VMM's command line");
        *ret_kernel = NULL;
        for (size_t i = 0; i < len;) {
                const char *a = buf + i, *next = a + strlen(a) + 1;
                bool has_next = (size_t)(next - buf) < len;
                if (has_next && strcmp(a, "-kernel") == 0)
                        *ret_kernel = silo_xstrdup(next);
                else if (has_next && strcmp(a, "-initrd") == 0)
                        initrd = next;
                else if (has_next && strcmp(a, "-m") == 0)
                        silo_parse_u64(next, &m->mib);
                else if (has_next && strcmp(a, "-smp") == 0)
                        silo_parse_u64(next, &m->cpus);
                else if (has_next && strcmp(a, "-netdev") == 0)
                        m->net = silo_str_has_prefix(next, "tap,") ? 2 : 1;
                else if (has_next && strcmp(a, "-device") == 0 &&
                         silo_str_has_prefix(next, "virtio-9p-device"))
                        return silo_error_set(err, EOPNOTSUPP,
                                              "vm: the guest has host bind mounts (virtio-9p shares), whose "
                                              "state qemu cannot snapshot or migrate: not supported for it");
                else if (has_next && strcmp(a, "-device") == 0 && strstr(next, ",mac=52:54:")) {
                        unsigned o[4];
                        if (sscanf(strstr(next, ",mac=52:54:") + 11, "%x:%x:%x:%x", &o[0], &o[1], &o[2],
                                   &o[3]) == 4)
                                m->ip = o[0] << 24 | o[1] << 16 | o[2] << 8 | o[3];
                }
                i += strlen(a) + 1;
        }
        if (*ret_kernel == NULL || initrd == NULL || m->mib == 0 || m->cpus == 0)
                return silo_error_set(err, 0, "vm: pid %d is not a VMM started by silo", (int)vmm);
        snprintf(m->initrd, sizeof(m->initrd), "%s",
                 strrchr(initrd, '/') ? strrchr(initrd, '/') + 1 : initrd);
        return 0;
}

static char *meta_json(const struct snap_meta *m)
{
        struct silo_buf b = {0};

        silo_buf_puts(&b, "{\"sandbox\":\"vm\",\"format\":1,\"kernelSha256\":");
        silo_json_str(&b, m->kernel_sha);
        silo_buf_puts(&b, ",\"initrd\":");
        silo_json_str(&b, m->initrd);
        silo_buf_printf(&b, ",\"memoryMiB\":%llu,\"cpus\":%llu,\"net\":%s", (unsigned long long)m->mib,
                        (unsigned long long)m->cpus, m->net ? "true" : "false");
        if (m->net == 2) { /* bridge mode: the guest's own address, restored only on that one */
                char a[16];
                silo_buf_puts(&b, ",\"ip\":");
                silo_json_str(&b, silo_net_ip_str(m->ip, a));
        }
        silo_buf_puts(&b, "}\n");
        return b.data;
}

static int meta_read(const char *image_path, struct snap_meta *m, silo_error_t *err)
{
        _cleanup_free_ char *path = silo_xasprintf("%s/" SNAP_MARKER, image_path), *buf = NULL;
        const char *ks[] = {"kernelSha256", NULL}, *ir[] = {"initrd", NULL}, *mm[] = {"memoryMiB", NULL},
                   *cp[] = {"cpus", NULL}, *nt[] = {"net", NULL}, *sb[] = {"sandbox", NULL},
                   *ipk[] = {"ip", NULL};
        char ebuf[256];
        yajl_val v, k, i, mi, c, s;
        int r = 0;

        memset(m, 0, sizeof(*m));
        if (silo_read_file_at(AT_FDCWD, path, 1 << 16, &buf, NULL, err) < 0)
                return silo_error_ret(*err);
        v = yajl_tree_parse(buf, ebuf, sizeof(ebuf));
        if (v == NULL)
                return silo_error_set(err, EINVAL, "--image-path: '%s': %s", path, ebuf);
        k = yajl_tree_get(v, ks, yajl_t_string);
        i = yajl_tree_get(v, ir, yajl_t_string);
        mi = yajl_tree_get(v, mm, yajl_t_number);
        c = yajl_tree_get(v, cp, yajl_t_number);
        s = yajl_tree_get(v, sb, yajl_t_string);
        const char *sv = s ? YAJL_GET_STRING(s) : NULL;
        if (!k || !i || !mi || !c || !sv || strcmp(sv, "vm") != 0 || !YAJL_IS_INTEGER(mi) ||
            !YAJL_IS_INTEGER(c) || YAJL_GET_INTEGER(mi) <= 0 || YAJL_GET_INTEGER(c) <= 0) {
                r = silo_error_set(err, EINVAL, "--image-path: '%s' is not a valid VM snapshot marker", path);
        } else {
                snprintf(m->kernel_sha, sizeof(m->kernel_sha), "%s", YAJL_GET_STRING(k));
                snprintf(m->initrd, sizeof(m->initrd), "%s", YAJL_GET_STRING(i));
                m->mib = (uint64_t)YAJL_GET_INTEGER(mi);
                m->cpus = (uint64_t)YAJL_GET_INTEGER(c);
                m->net = YAJL_IS_TRUE(yajl_tree_get(v, nt, yajl_t_true));
                yajl_val ipv = yajl_tree_get(v, ipk, yajl_t_string);
                struct in_addr a;
                if (ipv && m->net) {
                        if (inet_pton(AF_INET, YAJL_GET_STRING(ipv), &a) != 1)
                                r = silo_error_set(err, EINVAL, "--image-path: '%s': bad \"ip\" '%s'", path,
                                                   YAJL_GET_STRING(ipv));
                        m->net = 2;
                        m->ip = ntohl(a.s_addr);
                }
        }
        yajl_tree_free(v);
        return r;
}

bool silo_vm_snapshot_in(const char *image_path)
{
        _cleanup_free_ char *p = image_path ? silo_xasprintf("%s/" SNAP_MARKER, image_path) : NULL;
        return p && access(p, F_OK) == 0;
}

/* ---- checkpoint --------------------------------------------------------------------------- */

struct dump_ctx {
        const struct silo_criu_opts *o;
        const char *image_path;
};

static int qmp_simple(int q, const char *cmd, silo_error_t *err)
{
        return silo_qmp_exec(q, cmd, -1, 30000, NULL, err);
}

/* stop, migrate into fd, wait; the guest is left stopped on success. */
static int save_guest(int q, int fd, silo_error_t *err)
{
        int r;

        /* qemu 7.2 caps migration at 32 MiB/s by default: this is a local file */
        r = qmp_simple(q,
                       "{\"execute\":\"migrate-set-parameters\",\"arguments\":{\"max-bandwidth\":"
                       "68719476736}}",
                       err);
        if (r == 0)
                r = qmp_simple(q, "{\"execute\":\"stop\"}", err);
        if (r == 0)
                r = silo_qmp_exec(q, "{\"execute\":\"getfd\",\"arguments\":{\"fdname\":\"silo-snap\"}}", fd,
                                  30000, NULL, err);
        if (r == 0)
                r = qmp_simple(q, "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"fd:silo-snap\"}}", err);
        for (int waited = 0; r == 0; waited += 20) {
                yajl_val v = NULL;
                r = silo_qmp_exec(q, "{\"execute\":\"query-migrate\"}", -1, 30000, &v, err);
                if (r < 0)
                        break;
                const char *st = silo_qmp_return_str(v, "status");
                if (st && strcmp(st, "completed") == 0) {
                        yajl_tree_free(v);
                        return 0;
                }
                if (st == NULL || strcmp(st, "failed") == 0 || strcmp(st, "cancelled") == 0) {
                        const char *d = silo_qmp_return_str(v, "error-desc");
                        r = silo_error_set(err, EIO, "vm: qemu's migration %s: %s", st ? st : "stopped",
                                           d ? d : "no reason given");
                } else if (waited > MIGRATE_TIMEOUT_MS) {
                        (void)qmp_simple(q, "{\"execute\":\"migrate_cancel\"}", NULL);
                        r = silo_error_set(err, ETIMEDOUT, "vm: saving the guest took more than %d s",
                                           MIGRATE_TIMEOUT_MS / 1000);
                }
                yajl_tree_free(v);
                if (r == 0)
                        usleep(20000);
        }
        return r;
}

static int export_snapshot(struct silo_container *c, const char *image_path, const char *out,
                           silo_error_t *err)
{
        _cleanup_free_ char *spec = NULL, *net = NULL, *cfg = NULL;
        struct silo_ckpt_meta m = {0};
        int r;

        r = silo_read_file_at(c->dirfd, "config.json", 16 << 20, &spec, NULL, err);
        if (r < 0)
                return r;
        /* config.dump's "sandbox":"vm" marks the archive as a VM snapshot (checkpoint/vm.json too) */
        m.spec_json = spec;
        m.config_json = cfg = silo_ckpt_config_json(c->id, "vm", c->state->bundle, NULL, c->state->created);
        m.network_json = net = silo_ckpt_network_status(c);
        return silo_ckpt_export(image_path, &m, out, err);
}

static int vm_dump(struct silo_container *c, const char *status, void *data, silo_error_t *err)
{
        struct dump_ctx *d = data;
        const struct silo_criu_opts *o = d->o;
        _cleanup_free_ char *qmp = silo_xasprintf("%s/%s/qmp.sock", c->ctx->root, c->id), *kernel = NULL,
                            *meta = NULL;
        _cleanup_close_ int imgfd = -1, fd = -1, q = -1;
        struct snap_meta m = {0};
        silo_error_t e = NULL;
        int r;

        if (strcmp(status, "running") != 0)
                return silo_error_set(err, 0, "Container cannot be checkpointed in %s state", status);
        r = running_machine(c->state->pid, &m, &kernel, err);
        if (r == 0)
                r = kernel_sha(kernel, m.kernel_sha, err);
        if (r == 0)
                r = mkdir_p(d->image_path, err);
        if (r < 0)
                return r;
        imgfd = open(d->image_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (imgfd < 0)
                return silo_error_set(err, errno, "--image-path: '%s'", d->image_path);
        unlinkat(imgfd, SNAP_MARKER, 0); /* a stale marker never describes a new stream */
        unlinkat(imgfd, SNAP_NET, 0);
        fd = openat(imgfd, SNAP_STREAM, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return silo_error_set(err, errno, "--image-path: create '%s/" SNAP_STREAM "'", d->image_path);
        q = silo_qmp_connect(qmp, 10000, -1, err);
        if (q < 0) {
                unlinkat(imgfd, SNAP_STREAM, 0);
                return silo_error_wrap(err, "vm: checkpoint: the VMM's monitor");
        }
        silo_debug("vm: saving the guest of '%s' into '%s'", c->id, d->image_path);
        r = save_guest(q, fd, err);
        if (r == 0 && fsync(fd) < 0)
                r = silo_error_set(err, errno, "--image-path: write '%s/" SNAP_STREAM "'", d->image_path);
        if (r == 0)
                r = link_or_copy(c->dirfd, SNAP_DISK, imgfd, SNAP_DISK, err);
        if (r == 0 && m.net == 2) {
                /* the namespace backend's record: restore leases the same address from it */
                _cleanup_free_ char *net = silo_ckpt_network_status(c);
                if (net)
                        r = silo_write_file_atomic_at(imgfd, SNAP_NET, net, strlen(net), 0600, err);
        }
        if (r == 0) {
                meta = meta_json(&m);
                r = silo_write_file_atomic_at(imgfd, SNAP_MARKER, meta, strlen(meta), 0600, err);
        }
        if (r == 0 && o->export_path)
                r = export_snapshot(c, d->image_path, o->export_path, err);
        if (r < 0 || o->leave_running) {
                /* the guest goes on as if nothing happened */
                if (qmp_simple(q, "{\"execute\":\"cont\"}", &e) < 0) {
                        silo_warn("vm: resume the guest after the checkpoint: %s, ignoring", e->msg);
                        silo_error_free(&e);
                }
        }
        if (r < 0) {
                unlinkat(imgfd, SNAP_STREAM, 0);
                unlinkat(imgfd, SNAP_MARKER, 0);
                unlinkat(imgfd, SNAP_DISK, 0);
                unlinkat(imgfd, SNAP_NET, 0);
                return silo_error_wrap(err, "checkpoint");
        }
        return o->leave_running ? 0 : 1; /* 1: stop the VM, remove the container (runc) */
}

int silo_vm_checkpoint(const struct silo_context *ctx, const struct silo_criu_opts *o, silo_error_t *err)
{
        _cleanup_free_ char *dir = NULL, *tmp = NULL;
        _cleanup_close_ int fd = -1;
        struct silo_state *st = NULL;
        silo_error_t e = NULL;
        bool vm;
        int r;

        if (!silo_id_valid(o->id))
                return 1;
        dir = silo_xasprintf("%s/%s", ctx->root, o->id);
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 || silo_state_read(fd, &st, &e) < 0) {
                silo_error_free(&e);
                return 1;
        }
        vm = st->sandbox && strcmp(st->sandbox, "vm") == 0;
        silo_state_free(st);
        if (!vm)
                return 1;
        if (o->pre_dump || o->parent_path || o->page_server || o->lazy_pages || o->auto_dedup)
                return silo_error_set(
                    err, EOPNOTSUPP,
                    "checkpoint: --pre-dump, --parent-path, --page-server, --lazy-pages and "
                    "--auto-dedup are CRIU's: a vm container is saved whole by its VMM");
        struct dump_ctx d = {o, o->image_path};
        if (d.image_path == NULL) { /* --export alone */
                tmp = silo_xasprintf("%s/@vmckpt-%s-XXXXXX", ctx->root, o->id);
                if (mkdtemp(tmp) == NULL)
                        return silo_error_set(err, errno, "mkdtemp '%s'", tmp);
                d.image_path = tmp;
        }
        r = silo_container_checkpoint(ctx, o->id, vm_dump, &d, err);
        if (tmp)
                silo_rm_rf_at(AT_FDCWD, tmp);
        return r < 0 ? r : 0;
}

/* ---- restore ------------------------------------------------------------------------------ */

struct restore_ctx {
        const struct silo_criu_opts *o;
        struct snap_meta m;
};

/* A snapshot is only loaded into the very kernel and initramfs it was taken with. */
static int same_assets(const struct silo_vm_assets *a, const struct snap_meta *m, silo_error_t *err)
{
        const char *base = strrchr(a->initrd, '/') ? strrchr(a->initrd, '/') + 1 : a->initrd;
        char sha[72];
        int r = kernel_sha(a->vmlinux, sha, err);

        if (r < 0)
                return r;
        if (strcmp(sha, m->kernel_sha) != 0)
                return silo_error_set(
                    err, 0,
                    "restore: the snapshot was taken with another guest kernel (%.19s..., this "
                    "host's '%s' is %.19s...)",
                    m->kernel_sha, a->kver, sha);
        if (strcmp(base, m->initrd) != 0)
                return silo_error_set(
                    err, 0,
                    "restore: the snapshot was taken with another guest initramfs ('%s', this "
                    "silo builds '%s': another agent or module set)",
                    m->initrd, base);
        return 0;
}

int silo_sandbox_vm_restore_spawn(struct silo_container *c, void *data, silo_error_t *err)
{
        struct restore_ctx *rc = data;
        const char *img = rc->o->image_path;
        _cleanup_close_ int imgfd = -1, stream = -1, dirfd = -1;
        struct vm_plan p;
        int r;

        if (c->spec->process == NULL)
                return silo_error_set(err, 0, "/process: required by the vm sandbox");
        if (c->spec->process->terminal)
                return silo_error_set(err, EOPNOTSUPP,
                                      "restore: a vm container with a terminal is not supported yet");
        r = silo_vm_network_prepare(c, err); /* the recorded address: create opts' net_ip */
        if (r < 0)
                return r;
        r = silo_vm_plan(c, &p, err);
        if (r < 0)
                goto out;
        r = same_assets(&p.assets, &rc->m, err);
        if (r < 0)
                goto out;
        if ((p.netdev != NULL) != (rc->m.net != 0)) {
                r = silo_error_set(err, 0,
                                   "/annotations/run.silo.network: the snapshot's VM has %s network "
                                   "device, this bundle asks for %s",
                                   rc->m.net ? "a" : "no", p.netdev ? "one" : "none");
                goto out;
        }
        if (rc->m.net == 2 && (!p.tap || p.ip != rc->m.ip)) {
                char a[16], b[16];
                r = silo_error_set(
                    err, 0,
                    "restore: the guest has the address %s configured, but %s%s (a bridge-mode "
                    "VM is restored on its own address: not with --ignore-static-ip)",
                    silo_net_ip_str(rc->m.ip, a), p.tap ? "the lease here is " : "",
                    p.tap ? silo_net_ip_str(p.ip, b) : "this bundle has no bridge lease");
                goto out;
        }
        /* the very machine that was saved */
        p.mib = rc->m.mib;
        p.cpus = rc->m.cpus;
        p.incoming = true;
        silo_vm_plan_argv(&p);
        r = silo_vm_fit_host_limit(c, p.mib, err);
        if (r < 0)
                goto out;
        imgfd = open(img, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        dirfd = open(p.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (imgfd < 0 || dirfd < 0) {
                r = silo_error_set(err, errno, "restore: open '%s'", imgfd < 0 ? img : p.dir);
                goto out;
        }
        r = link_or_copy(imgfd, SNAP_DISK, dirfd, "rootfs.erofs", err);
        if (r < 0)
                goto out;
        stream = openat(imgfd, SNAP_STREAM, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (stream < 0) {
                r = silo_error_set(err, errno, "--image-path: '%s/" SNAP_STREAM "'", img);
                goto out;
        }
        r = silo_vm_launch(c, &p, NULL, stream, err);
        if (r == 0 && p.tap) /* eth0 + DNAT as at create, the tap bridged to it */
                r = silo_sandbox_vm_network_attach(c, &p, err);
out:
        silo_vm_plan_free(&p);
        return r;
}

int silo_vm_restore(const struct silo_context *ctx, const struct silo_criu_opts *o, const char *net_ip,
                    int *ret_status, silo_error_t *err)
{
        struct restore_ctx rc = {.o = o};
        struct silo_create_opts create;
        int r;

        *ret_status = 0;
        r = meta_read(o->image_path, &rc.m, err);
        if (r < 0)
                return r;
        create = (struct silo_create_opts){
            .id = o->id,
            .bundle = o->bundle,
            .pid_file = o->pid_file,
            .console_socket = o->console_socket,
            .detach = o->detach,
            .sandbox = "vm",
            .spawn = silo_sandbox_vm_restore_spawn,
            .spawn_data = &rc,
            .net_ip = net_ip,
        };
        return silo_container_restore(ctx, &create, ret_status, err);
}

/* ---- migrate (checkpoint/migrate-vm.c) ------------------------------------------------------ */

int silo_vm_snapshot_meta(struct silo_container *c, char **ret_json, silo_error_t *err)
{
        _cleanup_free_ char *kernel = NULL;
        struct snap_meta m = {0};
        int r = running_machine(c->state->pid, &m, &kernel, err);

        if (r == 0)
                r = kernel_sha(kernel, m.kernel_sha, err);
        if (r < 0)
                return r;
        *ret_json = meta_json(&m);
        return 0;
}

/* an executable name in $PATH (the supervisor execs the VMM by name) */
static bool in_path(const char *name)
{
        _cleanup_free_ char *path = silo_xstrdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
        char *save = NULL;

        for (char *d = strtok_r(path, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                _cleanup_free_ char *f = silo_xasprintf("%s/%s", *d ? d : ".", name);
                if (access(f, X_OK) == 0)
                        return true;
        }
        return false;
}

int silo_vm_snapshot_host_check(const char *data_root, const char *bundle, const char *image_path,
                                silo_error_t *err)
{
        _cleanup_free_ char *agent = silo_vm_agent_path(), *path = NULL, *cfg = NULL;
        struct silo_vm_assets a = {0};
        struct silo_spec *spec = NULL;
        struct snap_meta m;
        size_t len;
        int r;

        if (!in_path("qemu-system-x86_64"))
                return silo_error_set(
                    err, ENOENT, "vm: qemu-system-x86_64 is not installed here (package qemu-system-x86)");
        r = meta_read(image_path, &m, err);
        if (r < 0)
                return r;
        path = silo_xasprintf("%s/config.json", bundle);
        if (silo_read_file_at(AT_FDCWD, path, 16 << 20, &cfg, &len, NULL) < 0)
                return 0; /* the caller's bundle check names it */
        r = silo_spec_parse(cfg, len, &spec, err);
        if (r < 0)
                return silo_error_wrap(err, "'%s'", path);
        r = silo_vm_assets(data_root, silo_spec_annotation(spec, "io.silo.vm.kernel"), agent, &a, err);
        if (r == 0)
                r = same_assets(&a, &m, err);
        silo_vm_assets_free(&a);
        silo_spec_free(spec);
        return r;
}
