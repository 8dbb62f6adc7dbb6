/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * silo-criu.so: the restore of a pre-copied migration, made lazy (silo migrate, destination).
 *
 * Why.  A pre-copy migration ends with a final dump whose pagemap mostly says PE_PARENT: the
 * pages are in the pre-dump rounds that went over while the container ran.  CRIU restores such
 * pages eagerly (only PE_LAZY entries are left to `criu lazy-pages`), so the restore reads the
 * whole memory into the new process inside the downtime, page fault by page fault.  Flagging the
 * parent entries PE_LAZY does not work with CRIU 3.17: its lazy-pages daemon completes a read
 * (UFFDIO_COPY) only for the top level of the image chain (io_complete is set on the top
 * page_read, not on its parents), so a page read from a parent would never arrive.
 *
 * What.  The first pre-dump round ("base", the deepest level of the chain, which has no parent)
 * holds a complete copy of the memory as it was then, in pages-<id>.img.  A new image dir OUT is
 * made whose pagemaps use that very file (a hard link) as their top level:
 *   - every page of the base that a later level (another round, or the final dump) holds a newer
 *     copy of is patched in place in the base file with that copy (the dirty set: small);
 *   - the entry keeps the lazy flag CRIU gave the dump that wrote the newest copy (CRIU decides
 *     per page which can be lazy: private anonymous memory, not the stack page of a thread);
 *   - pages the final dump covers that the base lacks (memory allocated since) become PE_PARENT
 *     entries, resolved eagerly by CRIU through OUT/parent -> the final dump and its chain.
 * Every other image of the final dump is hard-linked into OUT.  `criu restore --lazy-pages`
 * then starts the tasks with only the eager part in place and `criu lazy-pages` fills the rest
 * from the local file while they run: the downtime no longer grows with the memory size.
 *
 * When a slot of the base no longer has a page at the final dump (memory freed or unmapped
 * since), the layout of the top-level file cannot express it (present pages are consumed from
 * pages-<id>.img in order; a slot cannot be dropped without rewriting the file), so that task
 * is restored as before: all its entries PE_PARENT, eagerly through the chain; the other tasks
 * stay lazy.  Neither the plan nor a failure in the middle changes anything CRIU would read from
 * the original chain (a patched slot holds a page that the chain always reads from a later
 * level), so a caller can always fall back to a plain restore of the final dump.
 *
 * Image format (CRIU's, stable): a pagemap file is a magic (IMG_COMMON_MAGIC + PAGEMAP_MAGIC, or
 * one older magic), then records of u32 length + protobuf: one PagemapHead, then PagemapEntry
 * sorted by vaddr; pages-<pages_id>.img is raw, the PE_PRESENT entries' pages in order.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "gen/pagemap.pb-c.h"

#define EXPORT __attribute__((visibility("default")))

#define PE_PARENT (1u << 0)
#define PE_LAZY (1u << 1)
#define PE_PRESENT (1u << 2)
#define IMG_COMMON_MAGIC 0x54564319u
#define IMG_SERVICE_MAGIC 0x55105940u
#define MAX_LEVELS 64
#define MAX_PAGEMAP_SIZE (256u << 20)
#define MAX_RECORD (1u << 20)
#define MAX_TASK_PAGES (1ull << 26) /* 256 GiB of 4 KiB pages per task: planned page by page */

struct pm { /* one pagemap-<pid>.img */
        unsigned char hdr[8];
        size_t hdr_len;
        uint32_t pages_id;
        PagemapEntry **e;
        uint64_t *off; /* each entry's byte offset in the pages file (present entries) */
        size_t n;
        uint64_t pages;   /* all entries' */
        uint64_t present; /* bytes the pages file must hold */
};

struct plan { /* the new top-level pagemap of one task, and the patches of its base file */
        PagemapEntry *e;
        size_t n, cap;
        struct patch {
                uint64_t dst, src, len;
                int level;
        } * p;
        size_t np, pcap;
        unsigned long lazy_pages;
};

static uint64_t page_size;

/* "why" of the caller: the reason OUT was not made (return 0) or the error (return < 0) */
struct why {
        char *buf;
        size_t len;
};

__attribute__((format(printf, 3, 4))) static int say(const struct why *w, int ret, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(w->buf, w->len, fmt, ap);
        va_end(ap);
        return ret;
}

static void pm_free(struct pm *pm)
{
        for (size_t i = 0; i < pm->n; i++)
                pagemap_entry__free_unpacked(pm->e[i], NULL);
        free(pm->e);
        free(pm->off);
        memset(pm, 0, sizeof(*pm));
}

static int read_all(int fd, unsigned char **ret, size_t *ret_len)
{
        struct stat st;
        unsigned char *b;
        size_t off = 0;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (st.st_size < 0 || (uint64_t)st.st_size > MAX_PAGEMAP_SIZE)
                return -EFBIG;
        b = malloc((size_t)st.st_size + 1);
        if (b == NULL)
                return -ENOMEM;
        while (off < (size_t)st.st_size) {
                ssize_t k = pread(fd, b + off, (size_t)st.st_size - off, (off_t)off);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        free(b);
                        return k < 0 ? -errno : -EIO;
                }
                off += (size_t)k;
        }
        *ret = b;
        *ret_len = off;
        return 0;
}

enum { PM_MISSING, PM_LOADED, PM_ALIEN /* not a pagemap silo understands: w says why */ };

/* PM_*, or -errno (w says why) */
static int pm_load(int dfd, const char *name, struct pm *pm, const struct why *w)
{
        unsigned char *b = NULL;
        size_t len = 0, pos, cap = 0;
        uint32_t m;
        int fd, r;

        memset(pm, 0, sizeof(*pm));
        fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? PM_MISSING : say(w, -errno, "%s: %s", name, strerror(errno));
        r = read_all(fd, &b, &len);
        close(fd);
        if (r < 0)
                return say(w, r, "%s: %s", name, strerror(-r));
        if (len < 4)
                goto bad;
        memcpy(&m, b, 4);
        pm->hdr_len = (m == IMG_COMMON_MAGIC || m == IMG_SERVICE_MAGIC) ? 8 : 4;
        if (len < pm->hdr_len)
                goto bad;
        memcpy(pm->hdr, b, pm->hdr_len);
        for (pos = pm->hdr_len; pos < len;) {
                uint32_t rl;
                if (len - pos < 4)
                        goto bad;
                memcpy(&rl, b + pos, 4);
                pos += 4;
                if (rl > MAX_RECORD || rl > len - pos)
                        goto bad;
                if (pos == pm->hdr_len + 4) { /* the head */
                        PagemapHead *h = pagemap_head__unpack(NULL, rl, b + pos);
                        if (h == NULL)
                                goto bad;
                        pm->pages_id = h->pages_id;
                        pagemap_head__free_unpacked(h, NULL);
                } else {
                        PagemapEntry *e = pagemap_entry__unpack(NULL, rl, b + pos);
                        if (e == NULL)
                                goto bad;
                        if (e->has_in_parent && e->in_parent) /* the pre-3.x encoding */
                                e->flags |= PE_PARENT;
                        else if (!e->has_flags)
                                e->flags = PE_PRESENT;
                        if (pm->n == cap) {
                                size_t nc = cap ? cap * 2 : 64;
                                PagemapEntry **ne = realloc(pm->e, nc * sizeof(*ne));
                                if (ne == NULL) {
                                        pagemap_entry__free_unpacked(e, NULL);
                                        free(b);
                                        pm_free(pm);
                                        return say(w, -ENOMEM, "%s: out of memory", name);
                                }
                                pm->e = ne;
                                cap = nc;
                        }
                        pm->e[pm->n++] = e;
                }
                pos += rl;
        }
        if (pos == pm->hdr_len)
                goto bad; /* no head */
        free(b);
        pm->off = calloc(pm->n ? pm->n : 1, sizeof(*pm->off));
        if (pm->off == NULL) {
                pm_free(pm);
                return say(w, -ENOMEM, "%s: out of memory", name);
        }
        uint64_t off = 0, end = 0;
        for (size_t i = 0; i < pm->n; i++) {
                PagemapEntry *e = pm->e[i];
                if ((e->flags & ~(PE_PARENT | PE_LAZY | PE_PRESENT)) || e->nr_pages == 0 ||
                    e->vaddr % page_size || e->vaddr < end || e->vaddr + e->nr_pages * page_size < e->vaddr) {
                        say(w, PM_ALIEN, "%s: entry %zu (flags %#x) is not one silo understands", name, i,
                            e->flags);
                        pm_free(pm);
                        return PM_ALIEN;
                }
                end = e->vaddr + e->nr_pages * page_size;
                pm->off[i] = off;
                pm->pages += e->nr_pages;
                if (e->flags & PE_PRESENT)
                        off += e->nr_pages * page_size;
        }
        pm->present = off;
        if (pm->pages > MAX_TASK_PAGES) {
                pm_free(pm);
                return say(w, PM_ALIEN, "%s: more than %llu pages", name, (unsigned long long)MAX_TASK_PAGES);
        }
        return PM_LOADED;
bad:
        free(b);
        pm_free(pm);
        return say(w, PM_ALIEN, "%s: not a CRIU pagemap image silo can read", name);
}

/* the entry covering addr, or -1 */
static ssize_t pm_find(const struct pm *pm, uint64_t addr)
{
        size_t lo = 0, hi = pm->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                const PagemapEntry *e = pm->e[mid];
                if (addr < e->vaddr)
                        hi = mid;
                else if (addr >= e->vaddr + e->nr_pages * page_size)
                        lo = mid + 1;
                else
                        return (ssize_t)mid;
        }
        return -1;
}

/* Where the newest copy of the page at addr is: the first level from the top with it present. */
static bool resolve(struct pm *const *lv, int nlev, uint64_t addr, int *ret_level, uint64_t *ret_off,
                    uint32_t *ret_flags)
{
        for (int l = 0; l < nlev && lv[l]; l++) {
                ssize_t i = pm_find(lv[l], addr);
                const PagemapEntry *e;
                if (i < 0)
                        return false;
                e = lv[l]->e[i];
                if (e->flags & PE_PARENT)
                        continue;
                if (!(e->flags & PE_PRESENT)) /* a lazy dump's page: not in any file here */
                        return false;
                *ret_level = l;
                *ret_off = lv[l]->off[i] + (addr - e->vaddr);
                *ret_flags = e->flags;
                return true;
        }
        return false;
}

static int emit(struct plan *p, uint64_t addr, uint32_t flags)
{
        PagemapEntry *last = p->n ? &p->e[p->n - 1] : NULL;

        if (last && last->flags == flags && last->vaddr + last->nr_pages * page_size == addr) {
                last->nr_pages++;
        } else {
                if (p->n == p->cap) {
                        size_t nc = p->cap ? p->cap * 2 : 64;
                        PagemapEntry *ne = realloc(p->e, nc * sizeof(*ne));
                        if (ne == NULL)
                                return -ENOMEM;
                        p->e = ne;
                        p->cap = nc;
                }
                last = &p->e[p->n++];
                pagemap_entry__init(last);
                last->vaddr = addr;
                last->nr_pages = 1;
                last->has_flags = true;
                last->flags = flags;
        }
        if (flags & PE_LAZY)
                p->lazy_pages++;
        return 0;
}

static int add_patch(struct plan *p, uint64_t dst, int level, uint64_t src)
{
        struct patch *last = p->np ? &p->p[p->np - 1] : NULL;

        if (last && last->level == level && last->dst + last->len == dst && last->src + last->len == src) {
                last->len += page_size;
                return 0;
        }
        if (p->np == p->pcap) {
                size_t nc = p->pcap ? p->pcap * 2 : 64;
                struct patch *np = realloc(p->p, nc * sizeof(*np));
                if (np == NULL)
                        return -ENOMEM;
                p->p = np;
                p->pcap = nc;
        }
        p->p[p->np++] = (struct patch){.dst = dst, .src = src, .len = page_size, .level = level};
        return 0;
}

/* A task restored as before: every page of the final dump through the chain, eagerly. */
static int plan_eager(const struct pm *fin, struct plan *p)
{
        int r;

        for (size_t i = 0; i < fin->n; i++)
                for (uint64_t k = 0; k < fin->e[i]->nr_pages; k++)
                        if ((r = emit(p, fin->e[i]->vaddr + k * page_size, PE_PARENT)) < 0)
                                return r;
        return 1;
}

/*
 * The new top level of one task: lv[0] the final dump, lv[nlev-1] the base (NULL: the task is
 * newer than the base).  1 = planned, 0 = not possible (w), <0 -errno.
 */
static int plan_task(struct pm *const *lv, int nlev, const char *name, struct plan *p, const struct why *w)
{
        const struct pm *fin = lv[0], *base = lv[nlev - 1];
        uint64_t base_pages = 0, used = 0;
        size_t bi = 0;
        int r;

        if (base == NULL)
                return plan_eager(fin, p);
        for (size_t i = 0; i < base->n; i++) {
                if ((base->e[i]->flags & (PE_PARENT | PE_PRESENT)) != PE_PRESENT)
                        return say(w, 0, "%s: the first round is not a complete dump", name);
                base_pages += base->e[i]->nr_pages;
        }
        for (size_t i = 0; i < fin->n; i++) {
                const PagemapEntry *fe = fin->e[i];
                for (uint64_t k = 0; k < fe->nr_pages; k++) {
                        uint64_t addr = fe->vaddr + k * page_size, src = 0;
                        uint32_t flags = 0;
                        int level = 0;

                        while (bi < base->n && base->e[bi]->vaddr + base->e[bi]->nr_pages * page_size <= addr)
                                bi++;
                        if (!resolve(lv, nlev, addr, &level, &src, &flags))
                                return say(w, 0, "%s: no copy of the page at %#llx in the chain", name,
                                           (unsigned long long)addr);
                        if (bi < base->n && addr >= base->e[bi]->vaddr) { /* a slot of the base */
                                uint64_t dst = base->off[bi] + (addr - base->e[bi]->vaddr);
                                if (level != nlev - 1 && (r = add_patch(p, dst, level, src)) < 0)
                                        return r;
                                r = emit(p, addr, PE_PRESENT | (flags & PE_LAZY));
                                used++;
                        } else {
                                r = emit(p, addr, PE_PARENT);
                        }
                        if (r < 0)
                                return r;
                }
        }
        if (used != base_pages)
                return say(w, 0,
                           "%s: %llu of the %llu pages of the first round are gone since (freed or unmapped)",
                           name, (unsigned long long)(base_pages - used), (unsigned long long)base_pages);
        return 1;
}

/* In the kernel (copy_file_range): no buffer here, and a reflink where the file system has one */
static int copy_range(int to, uint64_t dst, int from, uint64_t src, uint64_t len)
{
        loff_t in = (loff_t)src, out = (loff_t)dst;

        while (len) {
                ssize_t k = copy_file_range(from, &in, to, &out, (size_t)len, 0);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return k < 0 ? -errno : -EIO; /* 0: the source file ended early */
                len -= (uint64_t)k;
        }
        return 0;
}

static int write_all(int fd, const void *p, size_t n)
{
        for (size_t off = 0; off < n;) {
                ssize_t k = write(fd, (const char *)p + off, n - off);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                off += (size_t)k;
        }
        return 0;
}

static int write_record(int fd, const ProtobufCMessage *m)
{
        size_t n = protobuf_c_message_get_packed_size(m);
        uint32_t len = (uint32_t)n;
        unsigned char stackbuf[64], *b = n <= sizeof(stackbuf) ? stackbuf : malloc(n);
        int r;

        if (b == NULL)
                return -ENOMEM;
        protobuf_c_message_pack(m, b);
        r = write_all(fd, &len, 4);
        if (r == 0)
                r = write_all(fd, b, n);
        if (b != stackbuf)
                free(b);
        return r;
}

static int write_pagemap(int outfd, const char *name, const struct pm *fin, uint32_t pages_id,
                         const struct plan *p)
{
        PagemapHead h = PAGEMAP_HEAD__INIT;
        int fd, r;

        fd = openat(outfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        h.pages_id = pages_id;
        r = write_all(fd, fin->hdr, fin->hdr_len);
        if (r == 0)
                r = write_record(fd, &h.base);
        for (size_t i = 0; r == 0 && i < p->n; i++)
                r = write_record(fd, &p->e[i].base);
        if (close(fd) < 0 && r == 0)
                r = -errno;
        return r;
}

static bool task_pagemap(const char *n, char *pid, size_t pidlen)
{
        size_t l = strlen(n), d;

        if (strncmp(n, "pagemap-", 8) != 0 || l < 13 || strcmp(n + l - 4, ".img") != 0)
                return false;
        d = l - 12;
        if (d >= pidlen || strspn(n + 8, "0123456789") != d)
                return false;
        memcpy(pid, n + 8, d);
        pid[d] = '\0';
        return true;
}

/* The final dir's files into OUT (hard links) but its task pagemaps and its parent link; the
 * highest pages-<id>.img id in it. */
static int link_final(int finfd, int outfd, uint32_t *ret_max_id, const struct why *w)
{
        DIR *d = fdopendir(dup(finfd));
        struct dirent *de;
        char pid[32];
        int r = 0;

        if (d == NULL)
                return say(w, -errno, "final dump: %s", strerror(errno));
        rewinddir(d); /* a dup shares the offset of the directory */
        *ret_max_id = 0;
        while ((de = readdir(d)) != NULL) {
                unsigned id;
                int end = 0;
                if (de->d_name[0] == '.' || strcmp(de->d_name, "parent") == 0 ||
                    task_pagemap(de->d_name, pid, sizeof(pid)))
                        continue;
                if (sscanf(de->d_name, "pages-%u.img%n", &id, &end) == 1 && de->d_name[end] == '\0' &&
                    id > *ret_max_id)
                        *ret_max_id = id;
                if (linkat(finfd, de->d_name, outfd, de->d_name, 0) < 0) {
                        r = say(w, -errno, "link '%s': %s", de->d_name, strerror(errno));
                        break;
                }
        }
        closedir(d);
        return r;
}

static void plan_free(struct plan *p)
{
        free(p->e);
        free(p->p);
        memset(p, 0, sizeof(*p));
}

static int open_levels(int dirfd, const char *final, int *fds, int *ret_n, const struct why *w)
{
        int n = 0;

        fds[n] = openat(dirfd, final, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fds[n] < 0)
                return say(w, -errno, "'%s': %s", final, strerror(errno));
        for (n = 1; n < MAX_LEVELS; n++) {
                fds[n] = openat(fds[n - 1], "parent", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fds[n] < 0) {
                        if (errno != ENOENT)
                                return *ret_n = n,
                                       say(w, -errno, "parent of level %d: %s", n - 1, strerror(errno));
                        break;
                }
        }
        *ret_n = n;
        return n == MAX_LEVELS ? say(w, 0, "more than %d levels of parents", MAX_LEVELS - 1) : 1;
}

/* One task: plan, patch its base file, write its pagemap, link its base file into OUT. */
static int one_task(const int *fds, int nlev, int outfd, const char *pid, uint32_t pages_id,
                    unsigned long *lazy, unsigned *eager, const struct why *w)
{
        struct pm lv[MAX_LEVELS];
        struct pm *lp[MAX_LEVELS];
        struct plan p = {0};
        int pfd[MAX_LEVELS];
        char name[64], pages[64];
        bool use_base;
        int r = 1, l;

        snprintf(name, sizeof(name), "pagemap-%s.img", pid);
        for (l = 0; l < nlev; l++) {
                lp[l] = NULL;
                pfd[l] = -1;
        }
        for (l = 0; l < nlev; l++) {
                r = pm_load(fds[l], name, &lv[l], w);
                if (r < 0)
                        goto out;
                if (r == PM_ALIEN) {
                        r = 0;
                        goto out;
                }
                if (r == PM_MISSING) {
                        if (l == 0) {
                                r = say(w, -ENOENT, "%s: not in the final dump", name);
                                goto out;
                        }
                        break; /* a task newer than this level: CRIU resolves it eagerly */
                }
                lp[l] = &lv[l];
        }
        use_base = lp[nlev - 1] != NULL;
        r = plan_task(lp, nlev, name, &p, w);
        if (r == 0) { /* this task as before (w says why); the others may still be lazy */
                plan_free(&p);
                r = plan_eager(&lv[0], &p);
                use_base = false; /* an empty pages file at the top */
                (*eager)++;
        }
        if (r <= 0)
                goto out;
        for (size_t i = 0; i < p.np; i++) { /* the pages files of the levels the patches read */
                l = p.p[i].level;
                if (pfd[l] < 0) {
                        snprintf(pages, sizeof(pages), "pages-%u.img", lv[l].pages_id);
                        pfd[l] = openat(fds[l], pages, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                        if (pfd[l] < 0) {
                                r = say(w, -errno, "level %d: %s: %s", l, pages, strerror(errno));
                                goto out;
                        }
                }
        }
        if (use_base) {
                snprintf(pages, sizeof(pages), "pages-%u.img", lv[nlev - 1].pages_id);
                pfd[nlev - 1] = openat(fds[nlev - 1], pages, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
                if (pfd[nlev - 1] < 0) {
                        r = say(w, -errno, "base: %s: %s", pages, strerror(errno));
                        goto out;
                }
                for (l = 0; l < nlev; l++) { /* every file as long as its pagemap says */
                        struct stat st;
                        if (pfd[l] >= 0 && (fstat(pfd[l], &st) < 0 || (uint64_t)st.st_size < lv[l].present)) {
                                r = say(w, -EPROTO, "%s: the pages file of level %d is short", name, l);
                                goto out;
                        }
                }
                for (size_t i = 0; i < p.np; i++) {
                        r = copy_range(pfd[nlev - 1], p.p[i].dst, pfd[p.p[i].level], p.p[i].src, p.p[i].len);
                        if (r < 0) {
                                say(w, r, "%s: patch the base: %s", name, strerror(-r));
                                goto out;
                        }
                }
                char to[64];
                snprintf(to, sizeof(to), "pages-%u.img", pages_id);
                if (linkat(fds[nlev - 1], pages, outfd, to, 0) < 0) {
                        r = say(w, -errno, "link the base %s: %s", pages, strerror(errno));
                        goto out;
                }
        } else { /* nothing present at the top: an empty pages file */
                char to[64];
                int fd;
                snprintf(to, sizeof(to), "pages-%u.img", pages_id);
                fd = openat(outfd, to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                if (fd < 0) {
                        r = say(w, -errno, "%s: %s", to, strerror(errno));
                        goto out;
                }
                close(fd);
        }
        r = write_pagemap(outfd, name, &lv[0], pages_id, &p);
        if (r < 0) {
                say(w, r, "write %s: %s", name, strerror(-r));
                goto out;
        }
        *lazy += p.lazy_pages;
        r = 1;
out:
        for (l = 0; l < nlev; l++) {
                if (pfd[l] >= 0)
                        close(pfd[l]);
                if (lp[l])
                        pm_free(&lv[l]);
        }
        plan_free(&p);
        return r;
}

static void rm_out(int dirfd, const char *out)
{
        int fd = openat(dirfd, out, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        struct dirent *de;

        if (d == NULL) {
                if (fd >= 0)
                        close(fd);
                return;
        }
        while ((de = readdir(d)) != NULL)
                if (de->d_name[0] != '.' || (de->d_name[1] && strcmp(de->d_name, "..") != 0))
                        unlinkat(fd, de->d_name, 0);
        closedir(d);
        unlinkat(dirfd, out, AT_REMOVEDIR);
}

/*
 * dirfd: the dir holding the image dirs; final: the final dump's dir there, whose "parent" links
 * lead to the first (complete) pre-dump; out: the dir to make next to it.
 * 1: out is ready for `criu restore --lazy-pages` with `criu lazy-pages` on it, *ret_lazy pages
 * are left to the daemon (why: "" or why some task is restored eagerly, e.g. it freed memory
 * since the first round); 0: this dump is not restored that way (why says why; out does not
 * exist; restore from final as usual); <0: -errno (why; out does not exist).
 */
EXPORT int silo_criu_lazy_base(int dirfd, const char *final, const char *out, unsigned long *ret_lazy,
                               char *why, size_t whylen)
{
        const struct why w = {why, whylen};
        int fds[MAX_LEVELS], nlev = 0, outfd = -1, r;
        unsigned long lazy = 0;
        unsigned eager = 0;
        uint32_t id = 0;
        DIR *d = NULL;
        struct dirent *de;
        char pid[32];

        why[0] = '\0';
        *ret_lazy = 0;
        page_size = (uint64_t)sysconf(_SC_PAGESIZE);
        r = open_levels(dirfd, final, fds, &nlev, &w);
        if (r <= 0)
                goto out;
        if (nlev < 2) {
                r = say(&w, 0, "the final dump has no parent (no pre-copy round)");
                goto out;
        }
        if (mkdirat(dirfd, out, 0700) < 0) {
                r = say(&w, -errno, "mkdir '%s': %s", out, strerror(errno));
                goto out;
        }
        outfd = openat(dirfd, out, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (outfd < 0) {
                r = say(&w, -errno, "'%s': %s", out, strerror(errno));
                goto fail;
        }
        r = link_final(fds[0], outfd, &id, &w);
        if (r < 0)
                goto fail;
        d = fdopendir(dup(fds[0]));
        if (d == NULL) {
                r = say(&w, -errno, "final dump: %s", strerror(errno));
                goto fail;
        }
        rewinddir(d); /* link_final read the same open directory */
        r = 1;
        while (r > 0 && (de = readdir(d)) != NULL)
                if (task_pagemap(de->d_name, pid, sizeof(pid)))
                        r = one_task(fds, nlev, outfd, pid, ++id, &lazy, &eager, &w);
        if (r <= 0)
                goto fail;
        char link[PATH_MAX];
        snprintf(link, sizeof(link), "../%s", final);
        if (symlinkat(link, outfd, "parent") < 0) {
                r = say(&w, -errno, "symlink '%s/parent': %s", out, strerror(errno));
                goto fail;
        }
        if (lazy == 0) {
                char last[256];
                snprintf(last, sizeof(last), "%s", why);
                r = say(&w, 0, "no page of the pre-copy can be restored lazily%s%s", *last ? ": " : "", last);
                goto fail;
        }
        if (eager == 0)
                why[0] = '\0';
        *ret_lazy = lazy;
        r = 1;
        goto out;
fail:
        rm_out(dirfd, out);
out:
        if (d)
                closedir(d);
        if (outfd >= 0)
                close(outfd);
        for (int l = 0; l < nlev; l++)
                if (fds[l] >= 0)
                        close(fds[l]);
        return r;
}
