/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Guest assets of the VM sandbox, cached under <data-root>/vm/:
 *   vmlinux-<h>   the ELF kernel extracted from a bzImage (its PVH note lets qemu jump straight
 *                 into 64-bit code: ~2 s less per boot under TCG than the guest decompressing
 *                 itself); h = sha256 of the bzImage's path, size, mtime and inode
 *   initrd-<h>    newc cpio: /init = silo-vm-agent, /modules, /modules.net, /modules.rw,
 *                 /modules.9p (load order), /lib/<module>.ko,
 *                 /dev/console; h = sha256 of the agent, the modules and the kernel version
 *
 * Invariants: cache files are only ever complete (written to a temporary name, renamed), so
 * readers need no lock; builders serialize on flock(<data-root>/vm/.lock) held only while
 * building.  A bzImage without an xz payload that decompresses to an ELF is used as it is (qemu
 * then boots it directly, slower, or refuses it with its own message).
 */
#include "config.h"
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <lzma.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "../image/image.h"
#include "../runtime/log.h"
#include "../runtime/util.h"
#include "vm.h"

/* Modules the agent needs, beyond what the Debian kernel has built in (crc32c_generic: a soft
 * dependency of libcrc32c, which erofs needs; modules.dep does not list it). */
static const char *const guest_modules[] = {"virtio_mmio", "virtio_blk", "virtio_console", "crc32c_generic",
                                            "erofs"};
/* Loaded only when the container has a network (/modules.net): ~30 ms less per boot without. */
static const char *const net_modules[] = {"virtio_net"};
/* Loaded only for a writable root (/modules.rw: the tmpfs-upper overlay); a read-only root is
 * the erofs image itself (one insmod and two mounts less). */
static const char *const rw_modules[] = {"overlay"};
/* Loaded only when host bind mounts are carried in as virtio-9p shares (/modules.9p). */
static const char *const p9_modules[] = {"9pnet_virtio", "9p"};

#define MAX_KERNEL (512u << 20)

static char *xstrndup(const char *s, size_t n)
{
        char *p = strndup(s, n);
        if (p == NULL)
                abort();
        return p;
}

static bool has_suffix(const char *s, const char *suffix)
{
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* mkdir -p with 0700 for what it creates */
static int mkdir_p(const char *path, silo_error_t *err)
{
        _cleanup_free_ char *p = silo_xstrdup(path);

        for (char *s = p + 1;; s++) {
                if (*s == '/' || *s == '\0') {
                        char c = *s;
                        *s = '\0';
                        if (mkdir(p, 0700) < 0 && errno != EEXIST)
                                return silo_error_set(err, errno, "create '%s'", p);
                        *s = c;
                        if (c == '\0')
                                return 0;
                }
        }
}

/* ---- xz through liblzma, dlopen()ed: only the first boot of a kernel needs it ------------- */

struct lzma_api {
        __typeof__(lzma_stream_decoder) *stream_decoder;
        __typeof__(lzma_code) *code;
        __typeof__(lzma_end) *end;
};

static int lzma_load(struct lzma_api *a, silo_error_t *err)
{
        void *h = dlopen("liblzma.so.5", RTLD_NOW | RTLD_LOCAL);
        if (h == NULL)
                return silo_error_set(err, 0, "load liblzma.so.5 (package liblzma5): %s", dlerror());
        a->stream_decoder = (__typeof__(a->stream_decoder))dlsym(h, "lzma_stream_decoder");
        a->code = (__typeof__(a->code))dlsym(h, "lzma_code");
        a->end = (__typeof__(a->end))dlsym(h, "lzma_end");
        if (!a->stream_decoder || !a->code || !a->end)
                return silo_error_set(err, 0, "liblzma.so.5: missing symbols");
        return 0;
}

/* Decompress the xz stream at in[0..n) into a malloc'ed buffer; trailing data after the stream
 * is fine (a bzImage has some).  Returns the size, 0 when it is not a good stream. */
static size_t unxz(const struct lzma_api *a, const unsigned char *in, size_t n, unsigned char **ret)
{
        lzma_stream s = LZMA_STREAM_INIT;
        size_t cap = 64u << 20;
        unsigned char *out = silo_xmalloc0(cap);
        lzma_ret lr;

        *ret = NULL;
        if (a->stream_decoder(&s, UINT64_MAX, 0) != LZMA_OK) {
                free(out);
                return 0;
        }
        s.next_in = in;
        s.avail_in = n;
        s.next_out = out;
        s.avail_out = cap;
        while ((lr = a->code(&s, LZMA_FINISH)) == LZMA_OK || (lr == LZMA_BUF_ERROR && s.avail_out == 0)) {
                if (s.avail_out == 0) {
                        if (cap >= MAX_KERNEL)
                                break;
                        out = silo_xrealloc(out, cap * 2);
                        s.next_out = out + cap;
                        s.avail_out = cap;
                        cap *= 2;
                }
        }
        size_t got = (size_t)s.total_out;
        a->end(&s);
        if (lr != LZMA_STREAM_END) {
                free(out);
                return 0;
        }
        *ret = out;
        return got;
}

static bool is_elf(const unsigned char *p, size_t n)
{
        return n > 64 && memcmp(p, "\177ELF", 4) == 0;
}

static int read_file(const char *path, unsigned char **ret, size_t *ret_n, const char *what,
                     silo_error_t *err)
{
        char *buf = NULL;
        size_t n = 0;
        silo_error_t e = NULL;

        if (silo_read_file_at(AT_FDCWD, path, MAX_KERNEL, &buf, &n, &e) < 0) {
                int code = e->code;
                silo_error_free(&e);
                return silo_error_set(err, code, "%s: '%s'", what, path);
        }
        *ret = (unsigned char *)buf;
        *ret_n = n;
        return 0;
}

static int extract_vmlinux(const char *kernel, const char *out, silo_error_t *err)
{
        static const unsigned char xz_magic[6] = {0xfd, '7', 'z', 'X', 'Z', 0};
        _cleanup_free_ unsigned char *img = NULL;
        unsigned char *elf = NULL;
        size_t n, m = 0;
        struct lzma_api a;
        int r;

        r = read_file(kernel, &img, &n, "--vm-kernel", err);
        if (r < 0)
                return r;
        if (is_elf(img, n))
                return silo_write_file_atomic(out, img, n, 0644, err);
        r = lzma_load(&a, err);
        if (r < 0)
                return r;
        /* the magic may occur by chance before the payload: try each until one decodes to ELF */
        for (size_t off = 0; off + 6 < n; off++) {
                const unsigned char *p = memchr(img + off, 0xfd, n - off);
                if (p == NULL)
                        break;
                off = (size_t)(p - img);
                if (memcmp(p, xz_magic, 6) != 0)
                        continue;
                m = unxz(&a, p, n - off, &elf);
                if (m && is_elf(elf, m))
                        break;
                free(elf);
                elf = NULL;
                m = 0;
        }
        if (elf == NULL) {
                silo_debug("vm: no xz-compressed ELF in '%s': booting it as it is", kernel);
                return silo_write_file_atomic(out, img, n, 0644, err);
        }
        r = silo_write_file_atomic(out, elf, m, 0644, err);
        free(elf);
        return r;
}

/* ---- initramfs ---------------------------------------------------------------------------- */

static void cpio_add(struct silo_buf *b, const char *name, mode_t mode, unsigned rdev_major,
                     unsigned rdev_minor, const void *data, size_t len)
{
        static unsigned ino = 1;
        static const char zeros[4];
        size_t nlen = strlen(name) + 1;

        silo_buf_printf(b, "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X", ino++,
                        (unsigned)mode, 0u, 0u, 1u, 0u, len, 0u, 0u, rdev_major, rdev_minor, nlen, 0u);
        silo_buf_put(b, name, nlen);
        silo_buf_put(b, zeros, (4 - (110 + nlen) % 4) % 4);
        if (len) {
                silo_buf_put(b, data, len);
                silo_buf_put(b, zeros, (4 - len % 4) % 4);
        }
}

/* modules.dep: "kernel/x/a.ko: kernel/y/b.ko kernel/z/c.ko" (dependencies of a, deepest last) */
static void add_module(const char *dep, const char *kver, const char *name, char ***order)
{
        _cleanup_free_ char *needle = silo_xasprintf("/%s.ko", name);
        const char *line = dep;

        while (line && *line) {
                const char *eol = strchr(line, '\n'), *colon = strchr(line, ':');
                size_t len = eol ? (size_t)(eol - line) : strlen(line);
                if (colon && colon < line + len) {
                        _cleanup_free_ char *path = xstrndup(line, (size_t)(colon - line));
                        const char *base = strrchr(path, '/');
                        size_t nl = strlen(needle);
                        if (base && strncmp(base, needle, nl) == 0 && (base[nl] == '\0' || base[nl] == '.')) {
                                /* dependencies first (reverse order of the list) */
                                _cleanup_strv_free_ char **deps = NULL;
                                _cleanup_free_ char *rest =
                                    xstrndup(colon + 1, len - (size_t)(colon + 1 - line));
                                char *save = NULL;
                                for (char *t = strtok_r(rest, " \t", &save); t;
                                     t = strtok_r(NULL, " \t", &save))
                                        silo_strv_push(&deps, silo_xstrdup(t));
                                size_t nd = silo_strv_len(deps);
                                for (size_t i = nd; i-- > 0;) {
                                        bool seen = false;
                                        for (char **o = *order; o && *o; o++)
                                                seen |= strcmp(*o, deps[i]) == 0;
                                        if (!seen)
                                                silo_strv_push(order, silo_xstrdup(deps[i]));
                                }
                                for (char **o = *order; o && *o; o++)
                                        if (strcmp(*o, path) == 0)
                                                return;
                                silo_strv_push(order, TAKE_PTR(path));
                                return;
                        }
                }
                line = eol ? eol + 1 : NULL;
        }
        silo_debug("vm: module '%s' not in modules.dep of %s (built in?)", name, kver);
}

static int build_initrd(const char *agent, const char *kver, const char *cache_dir, char **ret,
                        silo_error_t *err)
{
        _cleanup_free_ char *dep_path = silo_xasprintf("/lib/modules/%s/modules.dep", kver), *dep = NULL;
        _cleanup_free_ unsigned char *agent_bin = NULL;
        _cleanup_strv_free_ char **order = NULL;
        struct silo_buf mods = {0}, list = {0}, list_net = {0}, list_rw = {0}, list_9p = {0}, cpio = {0};
        size_t n_base, n_net, n_rw;
        struct silo_sha256 *h;
        struct lzma_api a;
        bool have_lzma = false;
        size_t agent_n, dep_n;
        char digest[72];
        int r;

        r = read_file(agent, &agent_bin, &agent_n, "guest agent (set SILO_VM_AGENT)", err);
        if (r < 0)
                return r;
        if (silo_read_file_at(AT_FDCWD, dep_path, 16u << 20, &dep, &dep_n, err) < 0)
                return silo_error_wrap(err, "guest kernel %s: modules (package linux-image-%s)", kver, kver);
        for (size_t i = 0; i < ARRAY_SIZE(guest_modules); i++)
                add_module(dep, kver, guest_modules[i], &order);
        n_base = silo_strv_len(order);
        for (size_t i = 0; i < ARRAY_SIZE(net_modules); i++)
                add_module(dep, kver, net_modules[i], &order);
        n_net = silo_strv_len(order);
        for (size_t i = 0; i < ARRAY_SIZE(rw_modules); i++)
                add_module(dep, kver, rw_modules[i], &order);
        n_rw = silo_strv_len(order);
        for (size_t i = 0; i < ARRAY_SIZE(p9_modules); i++)
                add_module(dep, kver, p9_modules[i], &order);

        h = silo_sha256_new();
        silo_sha256_update(h, kver, strlen(kver) + 1);
        silo_sha256_update(h, agent_bin, agent_n);
        cpio_add(&cpio, "dev", S_IFDIR | 0755, 0, 0, NULL, 0);
        cpio_add(&cpio, "dev/console", S_IFCHR | 0600, 5, 1, NULL, 0);
        cpio_add(&cpio, "lib", S_IFDIR | 0755, 0, 0, NULL, 0);
        cpio_add(&cpio, "init", S_IFREG | 0755, 0, 0, agent_bin, agent_n);
        for (char **o = order; o && *o; o++) {
                _cleanup_free_ char *path = silo_xasprintf("/lib/modules/%s/%s", kver, *o);
                _cleanup_free_ unsigned char *ko = NULL;
                unsigned char *plain = NULL;
                size_t n;
                const char *base = strrchr(*o, '/') + 1;
                _cleanup_free_ char *name = xstrndup(base, strstr(base, ".ko") - base + 3);

                r = read_file(path, &ko, &n, "guest kernel module", err);
                if (r < 0)
                        goto out;
                if (has_suffix(*o, ".xz")) {
                        if (!have_lzma && (r = lzma_load(&a, err)) < 0)
                                goto out;
                        have_lzma = true;
                        n = unxz(&a, ko, n, &plain);
                        if (n == 0) {
                                r = silo_error_set(err, 0, "guest kernel module: '%s': bad xz data", path);
                                goto out;
                        }
                } else if (strcmp(*o + strlen(*o) - 3, ".ko") != 0) {
                        r = silo_error_set(err, 0, "guest kernel module: '%s': unsupported compression",
                                           path);
                        goto out;
                }
                _cleanup_free_ char *dst = silo_xasprintf("lib/%s", name);
                cpio_add(&cpio, dst, S_IFREG | 0644, 0, 0, plain ? plain : ko, n);
                silo_sha256_update(h, plain ? plain : ko, n);
                free(plain);
                size_t k = (size_t)(o - order);
                silo_buf_printf(k < n_base  ? &list
                                : k < n_net ? &list_net
                                : k < n_rw  ? &list_rw
                                            : &list_9p,
                                "%s\n", name);
        }
        cpio_add(&cpio, "modules", S_IFREG | 0644, 0, 0, list.data, list.len);
        cpio_add(&cpio, "modules.net", S_IFREG | 0644, 0, 0, list_net.data, list_net.len);
        cpio_add(&cpio, "modules.rw", S_IFREG | 0644, 0, 0, list_rw.data, list_rw.len);
        cpio_add(&cpio, "modules.9p", S_IFREG | 0644, 0, 0, list_9p.data, list_9p.len);
        cpio_add(&cpio, "TRAILER!!!", 0, 0, 0, NULL, 0);
        silo_sha256_final(h, digest);
        h = NULL;
        *ret = silo_xasprintf("%s/initrd-%.16s", cache_dir, digest + 7);
        if (access(*ret, R_OK) != 0)
                r = silo_write_file_atomic(*ret, cpio.data, cpio.len, 0644, err);
        else
                r = 0;
out:
        if (h) {
                char tmp[72];
                silo_sha256_final(h, tmp);
        }
        free(mods.data);
        free(list.data);
        free(list_net.data);
        free(list_rw.data);
        free(list_9p.data);
        free(cpio.data);
        if (r < 0) {
                free(*ret);
                *ret = NULL;
        }
        return r;
}

/* Newest /boot/vmlinuz-* by version order. */
static char *default_kernel(void)
{
        _cleanup_closedir_ DIR *d = opendir("/boot");
        struct dirent *de;
        char *best = NULL;

        while (d && (de = readdir(d)) != NULL)
                if (strncmp(de->d_name, "vmlinuz-", 8) == 0 &&
                    (best == NULL || strverscmp(de->d_name, best) > 0)) {
                        free(best);
                        best = silo_xstrdup(de->d_name);
                }
        if (best == NULL)
                return NULL;
        char *p = silo_xasprintf("/boot/%s", best);
        free(best);
        return p;
}

int silo_vm_assets(const char *data_root, const char *kernel_opt, const char *agent,
                   struct silo_vm_assets *ret, silo_error_t *err)
{
        _cleanup_free_ char *kernel = NULL, *cache = NULL, *key = NULL, *lock_path = NULL;
        _cleanup_close_ int lock = -1;
        const char *base;
        struct silo_sha256 *h;
        struct stat st;
        char digest[72];
        int r;

        memset(ret, 0, sizeof(*ret));
        kernel = kernel_opt ? silo_xstrdup(kernel_opt) : default_kernel();
        if (kernel == NULL)
                return silo_error_set(err, ENOENT,
                                      "--vm-kernel: no /boot/vmlinuz-* (apt-get install linux-image-amd64)");
        if (stat(kernel, &st) < 0 || !S_ISREG(st.st_mode))
                return silo_error_set(err, errno ? errno : EINVAL, "--vm-kernel: '%s'", kernel);
        base = strrchr(kernel, '/') ? strrchr(kernel, '/') + 1 : kernel;
        if (strncmp(base, "vmlinuz-", 8) != 0 && strncmp(base, "vmlinux-", 8) != 0)
                return silo_error_set(err, 0,
                                      "--vm-kernel: '%s': cannot tell the kernel version "
                                      "(expected a name like vmlinuz-VERSION)",
                                      kernel);
        ret->kver = silo_xstrdup(base + 8);
        r = silo_image_dl_load(err);
        if (r < 0)
                return r;
        cache = silo_xasprintf("%s/vm", data_root);
        r = mkdir_p(cache, err);
        if (r < 0)
                return r;
        lock_path = silo_xasprintf("%s/.lock", cache);
        lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (lock < 0)
                return silo_error_set(err, errno, "open '%s'", lock_path);
        while (flock(lock, LOCK_EX) < 0)
                if (errno != EINTR)
                        return silo_error_set(err, errno, "lock '%s'", lock_path);

        h = silo_sha256_new();
        key = silo_xasprintf("%s\n%lld\n%lld.%ld\n%llu", kernel, (long long)st.st_size,
                             (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, (unsigned long long)st.st_ino);
        silo_sha256_update(h, key, strlen(key));
        silo_sha256_final(h, digest);
        ret->vmlinux = silo_xasprintf("%s/vmlinux-%.16s", cache, digest + 7);
        if (access(ret->vmlinux, R_OK) != 0) {
                r = extract_vmlinux(kernel, ret->vmlinux, err);
                if (r < 0)
                        goto fail;
        }
        r = build_initrd(agent, ret->kver, cache, &ret->initrd, err);
        if (r < 0)
                goto fail;
        return 0;
fail:
        silo_vm_assets_free(ret);
        return r;
}

void silo_vm_assets_free(struct silo_vm_assets *a)
{
        free(a->vmlinux);
        free(a->initrd);
        free(a->kver);
        memset(a, 0, sizeof(*a));
}
