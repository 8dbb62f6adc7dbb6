/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * silo-criu.so's silo_criu_lazy_base (checkpoint/criu-lazy.c) on a synthetic chain of CRIU
 * images: the first round's pages file becomes the top level, patched with every newer copy;
 * pages newer than it stay with the chain; a task that freed memory since the first round, and
 * a task newer than it, are restored eagerly; a pagemap silo does not understand, or a dump
 * without a parent, is left alone.  Pure file work: no criu run, so it runs on the host.
 *
 * The images are written here by hand in CRIU's format (magics, u32-length-prefixed protobuf
 * records, raw pages), so the test does not share the plugin's encoder.
 */
#include "config.h"
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tap.h"
#include "checkpoint/criu-dl.h"
#include "runtime/error.h"
#include "runtime/util.h"

#ifndef HAVE_CRIU
int main(void)
{
        skip_all("built without CRIU support");
}
#else
#define bail(...)                                                                                            \
        do {                                                                                                 \
                printf("Bail out! ");                                                                        \
                printf(__VA_ARGS__);                                                                         \
                printf("\n");                                                                                \
                exit(1);                                                                                     \
        } while (0)
#define PG 4096u
#define PARENT 1u
#define LAZY 2u
#define PRESENT 4u

struct ent {
        uint64_t vaddr;
        uint32_t nr, flags;
        char tag; /* present pages: page k holds tag + k (every byte) */
};

static size_t varint(unsigned char *p, uint64_t v)
{
        size_t n = 0;
        do {
                p[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
                v >>= 7;
        } while (v);
        return n;
}

static void record(FILE *f, const unsigned char *b, uint32_t n)
{
        fwrite(&n, 4, 1, f);
        fwrite(b, 1, n, f);
}

/* dir/pagemap-PID.img and dir/pages-ID.img */
static void write_dump(const char *dir, int pid, uint32_t id, const struct ent *e, size_t n)
{
        char path[PATH_MAX];
        uint32_t magic[2] = {0x54564319u, 0x56084025u};
        unsigned char b[64];
        FILE *f, *pf;

        snprintf(path, sizeof(path), "%s/pagemap-%d.img", dir, pid);
        f = fopen(path, "wb");
        snprintf(path, sizeof(path), "%s/pages-%u.img", dir, id);
        pf = fopen(path, "wb");
        if (f == NULL || pf == NULL)
                bail("create in '%s'", dir);
        fwrite(magic, 4, 2, f);
        b[0] = 0x08;
        record(f, b, (uint32_t)(1 + varint(b + 1, id)));
        for (size_t i = 0; i < n; i++) {
                size_t k = 0;
                b[k++] = 0x08;
                k += varint(b + k, e[i].vaddr);
                b[k++] = 0x10;
                k += varint(b + k, e[i].nr);
                b[k++] = 0x20;
                k += varint(b + k, e[i].flags);
                record(f, b, (uint32_t)k);
                if (e[i].flags & PRESENT)
                        for (uint32_t p = 0; p < e[i].nr; p++) {
                                char page[PG];
                                memset(page, e[i].tag + (char)p, PG);
                                fwrite(page, 1, PG, pf);
                        }
        }
        fclose(f);
        fclose(pf);
}

static uint64_t get_varint(const unsigned char **p)
{
        uint64_t v = 0;
        for (int s = 0;; s += 7) {
                unsigned char c = *(*p)++;
                v |= (uint64_t)(c & 0x7f) << s;
                if (!(c & 0x80))
                        return v;
        }
}

/* the entries of a pagemap (vaddr, nr, flags), *ret_id its pages id; the count */
static size_t read_pagemap(const char *path, struct ent *e, size_t max, uint32_t *ret_id)
{
        unsigned char buf[4096];
        FILE *f = fopen(path, "rb");
        size_t len, pos = 8, n = 0;
        bool head = true;

        if (f == NULL)
                return 0;
        len = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        while (pos + 4 <= len && n < max) {
                uint32_t rl;
                memcpy(&rl, buf + pos, 4);
                pos += 4;
                const unsigned char *p = buf + pos, *end = buf + pos + rl;
                struct ent x = {0};
                while (p < end) {
                        unsigned tag = *p++;
                        uint64_t v = get_varint(&p);
                        if (head && tag == 0x08)
                                *ret_id = (uint32_t)v;
                        else if (tag == 0x08)
                                x.vaddr = v;
                        else if (tag == 0x10)
                                x.nr = (uint32_t)v;
                        else if (tag == 0x20)
                                x.flags = (uint32_t)v;
                }
                if (!head)
                        e[n++] = x;
                head = false;
                pos += rl;
        }
        return n;
}

static char page_byte(const char *path, uint64_t off)
{
        char c = 0;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || pread(fd, &c, 1, (off_t)off) != 1)
                c = '?';
        if (fd >= 0)
                close(fd);
        return c;
}

static void sub(const char *top, const char *name, char *out, size_t n)
{
        snprintf(out, n, "%s/%s", top, name);
        if (mkdir(out, 0700) < 0)
                bail("mkdir '%s'", out);
}

int main(void)
{
        char exe[PATH_MAX], plugin[PATH_MAX + 32], top[] = "/tmp/silo-criu-lazy-XXXXXX";
        char pre1[PATH_MAX], pre2[PATH_MAX], fin[PATH_MAX], path[PATH_MAX + 64], why[512];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        const uint64_t A = 0x10000000, B = 0x20000000, C = 0x30000000, D = 0x40000000, E = 0x50000000;
        silo_error_t err = NULL;
        unsigned long lazy = 0;
        struct ent got[32];
        uint32_t id = 0;
        int dfd, r;

        if (n <= 0)
                skip_all("no /proc/self/exe");
        exe[n] = '\0';
        *strrchr(exe, '/') = '\0';
        snprintf(plugin, sizeof(plugin), "%s/../../silo-criu.so", exe);
        silo_criu_plugin_path = plugin;
        if (access(plugin, R_OK) < 0 || silo_criu_dl_load(&err) < 0)
                skip_all("silo-criu.so not built");
        if (mkdtemp(top) == NULL)
                bail("mkdtemp");
        sub(top, "pre1", pre1, sizeof(pre1));
        sub(top, "pre2", pre2, sizeof(pre2));
        sub(top, "final", fin, sizeof(fin));
        dfd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        /* task 1: A (8 lazy pages), B (4 eager pages, e.g. a stack), C new since the first round */
        write_dump(pre1, 1, 1, (struct ent[]){{A, 8, PRESENT | LAZY, 'a'}, {B, 4, PRESENT, 'b'}}, 2);
        write_dump(pre2, 1, 1,
                   (struct ent[]){{A, 2, PARENT, 0},
                                  {A + 2 * PG, 1, PRESENT | LAZY, 'x'},
                                  {A + 3 * PG, 5, PARENT, 0},
                                  {B, 4, PARENT, 0}},
                   4);
        write_dump(fin, 1, 1,
                   (struct ent[]){{A, 1, PRESENT | LAZY, 'y'},
                                  {A + PG, 7, PARENT, 0},
                                  {B, 4, PARENT, 0},
                                  {C, 2, PRESENT | LAZY, 'c'}},
                   4);
        /* task 9: one page of E freed since the first round; task 7: newer than the first round */
        write_dump(pre1, 9, 2, (struct ent[]){{E, 3, PRESENT | LAZY, 'e'}}, 1);
        write_dump(pre2, 9, 2, (struct ent[]){{E, 3, PARENT, 0}}, 1);
        write_dump(fin, 9, 2, (struct ent[]){{E, 2, PARENT, 0}}, 1);
        write_dump(fin, 7, 3, (struct ent[]){{D, 1, PRESENT | LAZY, 'd'}}, 1);
        snprintf(path, sizeof(path), "%s/inventory.img", fin);
        silo_write_file_atomic_at(AT_FDCWD, path, "inv", 3, 0600, NULL);
        if (symlink("../pre1", (snprintf(path, sizeof(path), "%s/parent", pre2), path)) < 0 ||
            symlink("../pre2", (snprintf(path, sizeof(path), "%s/parent", fin), path)) < 0)
                bail("symlink");

        /* a dump without a parent is not one */
        r = CR(silo_criu_lazy_base)(dfd, "pre1", "lazy", &lazy, why, sizeof(why));
        ok(r == 0 && strstr(why, "no parent"), "no parent: left alone (%d: %s)", r, why);

        r = CR(silo_criu_lazy_base)(dfd, "final", "lazy", &lazy, why, sizeof(why));
        ok(r == 1, "a lazy dir is made (%d: %s)", r, why);
        ok(lazy == 8, "the 8 lazy pages of the first round are left to the daemon (%lu)", lazy);
        ok(strstr(why, "pagemap-9.img") && strstr(why, "gone since"),
           "task 9 freed memory: eager, named (%s)", why);

        snprintf(path, sizeof(path), "%s/lazy/pagemap-1.img", top);
        n = (ssize_t)read_pagemap(path, got, 32, &id);
        ok(n == 3 && got[0].vaddr == A && got[0].nr == 8 && got[0].flags == (PRESENT | LAZY) &&
               got[1].vaddr == B && got[1].nr == 4 && got[1].flags == PRESENT && got[2].vaddr == C &&
               got[2].nr == 2 && got[2].flags == PARENT,
           "task 1: A lazy from the base, B eager from the base, C through the chain (%zd entries)", n);
        snprintf(path, sizeof(path), "%s/lazy/pages-%u.img", top, id);
        ok(page_byte(path, 0) == 'y' && page_byte(path, PG) == 'a' + 1 && page_byte(path, 2 * PG) == 'x' &&
               page_byte(path, 3 * PG) == 'a' + 3 && page_byte(path, 8 * PG) == 'b',
           "the base holds the newest copy of each page (final's, the 2nd round's, its own)");
        snprintf(path, sizeof(path), "%s/pages-1.img", pre1);
        ok(page_byte(path, 0) == 'y', "patched in place: the top is the first round's very file");

        snprintf(path, sizeof(path), "%s/lazy/pagemap-9.img", top);
        n = (ssize_t)read_pagemap(path, got, 32, &id);
        ok(n == 1 && got[0].vaddr == E && got[0].nr == 2 && got[0].flags == PARENT,
           "task 9 wholly through the chain (%zd entries)", n);
        snprintf(path, sizeof(path), "%s/pages-2.img", pre1);
        ok(page_byte(path, 0) == 'e', "and its base untouched");
        snprintf(path, sizeof(path), "%s/lazy/pagemap-7.img", top);
        n = (ssize_t)read_pagemap(path, got, 32, &id);
        ok(n == 1 && got[0].vaddr == D && got[0].flags == PARENT, "task 7 (newer) through the chain");

        snprintf(path, sizeof(path), "%s/lazy/parent", top);
        char target[64] = "";
        ok(readlink(path, target, sizeof(target) - 1) > 0 && strcmp(target, "../final") == 0,
           "the lazy dir's parent is the final dump");
        snprintf(path, sizeof(path), "%s/lazy/inventory.img", top);
        ok(access(path, F_OK) == 0, "the final dump's other images are there");

        /* a pagemap silo does not understand: nothing made */
        write_dump(fin, 11, 4, (struct ent[]){{D + 8 * PG, 1, PRESENT | 64, 'z'}}, 1);
        r = CR(silo_criu_lazy_base)(dfd, "final", "lazy2", &lazy, why, sizeof(why));
        snprintf(path, sizeof(path), "%s/lazy2", top);
        ok(r == 0 && strstr(why, "pagemap-11.img") && access(path, F_OK) < 0,
           "an unknown flag: left alone, no dir (%d: %s)", r, why);

        close(dfd);
        silo_rm_rf_at(AT_FDCWD, top);
        return done();
}
#endif
