/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config.json -> struct silo_spec, through yajl_tree and per-object dispatch tables.
 *
 * Invariants:
 *   - Every JSON object silo understands has one static table of {key, handler, offset}; a handler
 *     decodes one value into the C field at base + offset.  Unknown keys are ignored, null means
 *     absent, and when a key is repeated the last occurrence wins (as with Go's encoding/json).
 *   - Every error names the value as a JSON pointer kept in jctx.ptr ("/process/user/uid: ...").
 *   - Output structs are owned by their parent as soon as they are allocated, so the *_free
 *     functions release a half-filled spec after any error: no handler keeps private state.
 *   - The document is bounded before yajl builds the tree (size cap, nesting depth, no \u0000),
 *     and integers are decoded from their text, so no input can crash or overflow anything here.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h> /* MS_* and, through <linux/mount.h>, MOUNT_ATTR_* */
#include <sys/personality.h>
#include <sys/resource.h>
#include <yajl/yajl_tree.h>
#include "log.h"
#include "spec.h"
#include "util.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256 /* Linux 5.10 */
#endif

/* Longest user string quoted in an error message. */
#define QUOTE_MAX 128

struct jctx {
        struct silo_buf ptr; /* JSON pointer of the value being decoded */
        const char *doc;     /* names the document in errors about the root value */
        silo_error_t *err;
};

struct jfield;
typedef int (*jhandler)(struct jctx *c, yajl_val v, void *dst, const struct jfield *f);

struct jfield {
        const char *key;
        jhandler fn;
        size_t offset;   /* of the destination field in the struct the table describes */
        size_t n_offset; /* j_objarray, j_u32array: the element count field */
        const void *aux; /* sub-table, enum table or array descriptor */
        bool mandatory;  /* error when absent (only fields with no representable default) */
};

/* An array of objects (or a map of objects), decoded into a C array plus a count. */
struct jarray {
        size_t size;
        const struct jfield *fields;
        void (*init)(void *elem);
        int (*post)(struct jctx *c, void *arr, size_t i); /* after element i is decoded */
        size_t key_offset;                                /* j_objmap: char * that gets the key */
};

struct jenum {
        const char *name;
        int value;
};

#define F(k, fn, st, m) {k, fn, offsetof(st, m), 0, NULL, false}
#define FX(k, fn, st, m, aux) {k, fn, offsetof(st, m), 0, aux, false}
#define FM(k, fn, st, m, aux) {k, fn, offsetof(st, m), 0, aux, true}
#define FN(k, fn, st, m, nm, aux) {k, fn, offsetof(st, m), offsetof(st, nm), aux, false}
#define FS(k, fn) {k, fn, 0, 0, NULL, false} /* the handler gets the whole struct */
#define FI(k, aux) {k, j_object, 0, 0, aux, false} /* flattened into the same struct */
#define FEND {NULL, NULL, 0, 0, NULL, false}
#define JARRAY(type, fields, init, post) {sizeof(type), fields, init, post, 0}

static int jerr(struct jctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int jerr(struct jctx *c, const char *fmt, ...)
{
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        /* keys are user strings too: a pointer through a 1 MiB key must not make a 1 MiB message */
        return silo_error_set(c->err, 0, "%.*s: %s", 1024, c->ptr.len ? c->ptr.data : c->doc,
                              msg ? msg : "out of memory");
}

/* Append "/key" with RFC 6901 escaping ('~' -> "~0", '/' -> "~1"); returns the old length. */
static size_t jpush_key(struct silo_buf *b, const char *key)
{
        size_t old = b->len;

        silo_buf_putc(b, '/');
        for (; *key; key++) {
                if (*key == '~')
                        silo_buf_puts(b, "~0");
                else if (*key == '/')
                        silo_buf_puts(b, "~1");
                else
                        silo_buf_putc(b, *key);
        }
        return old;
}

static size_t jpush_index(struct silo_buf *b, size_t i)
{
        size_t old = b->len;

        silo_buf_printf(b, "/%zu", i);
        return old;
}

static void jpop(struct silo_buf *b, size_t old)
{
        b->len = old;
        if (b->data)
                b->data[old] = '\0';
}

static int dispatch(struct jctx *c, yajl_val v, const struct jfield *fields, void *base)
{
        if (!YAJL_IS_OBJECT(v))
                return jerr(c, "expected an object");
        for (const struct jfield *f = fields; f->key; f++) {
                yajl_val x = NULL;
                size_t old;
                int r;

                for (size_t i = v->u.object.len; i > 0; i--)
                        if (strcmp(v->u.object.keys[i - 1], f->key) == 0) {
                                x = v->u.object.values[i - 1];
                                break;
                        }
                old = jpush_key(&c->ptr, f->key);
                if (x == NULL || YAJL_IS_NULL(x))
                        r = f->mandatory ? jerr(c, "missing") : 0;
                else
                        r = f->fn(c, x, (char *)base + f->offset, f);
                jpop(&c->ptr, old);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- scalars ---------------------------------------------------------------------------------- */

/*
 * Decode an integer in [min, max] from the number's text.  yajl_tree keeps integers as long long
 * and flags the rest as doubles, which loses uint64 values above INT64_MAX (seccomp argument masks,
 * "unlimited" hugetlb limits): the text in u.number.r is the only exact source.  Fractions and
 * exponents are refused, as Go's encoding/json does for integer fields.  Negative results come
 * back two's-complement in *ret.
 */
static int jint(struct jctx *c, yajl_val v, int64_t min, uint64_t max, uint64_t *ret)
{
        const char *kind = min < 0 ? "an integer" : "an unsigned integer";
        const char *s, *p;
        uint64_t mag = 0;
        bool neg;

        if (!YAJL_IS_NUMBER(v) || v->u.number.r == NULL)
                return jerr(c, "expected %s", kind);
        s = v->u.number.r;
        neg = *s == '-';
        p = s + neg;
        if (*p == '\0')
                return jerr(c, "expected %s", kind);
        for (; *p; p++) {
                unsigned d = (unsigned)(*p - '0');

                if (d > 9)
                        return jerr(c, "expected %s, got %.*s", kind, QUOTE_MAX, s);
                if (mag > (UINT64_MAX - d) / 10)
                        return jerr(c, "%.*s is out of range", QUOTE_MAX, s);
                mag = mag * 10 + d;
        }
        if (neg && mag != 0) {
                if (min >= 0)
                        return jerr(c, "expected %s, got %.*s", kind, QUOTE_MAX, s);
                if (mag > (uint64_t)(-(min + 1)) + 1)
                        return jerr(c, "%s is out of range (%" PRId64 "..%" PRIu64 ")", s, min, max);
                *ret = (uint64_t)0 - mag;
                return 0;
        }
        if (mag > max)
                return jerr(c, "%s is out of range (%" PRId64 "..%" PRIu64 ")", s, min, max);
        *ret = mag;
        return 0;
}

#define INT_HANDLER(name, type, min, max)                                                                   \
        static int name(struct jctx *c, yajl_val v, void *dst, const struct jfield *f)                      \
        {                                                                                                    \
                uint64_t u;                                                                                  \
                int r = jint(c, v, min, max, &u);                                                            \
                if (r < 0)                                                                                   \
                        return r;                                                                            \
                *(type *)dst = (type)u;                                                                      \
                return 0;                                                                                    \
        }
INT_HANDLER(j_i64, int64_t, INT64_MIN, INT64_MAX)
INT_HANDLER(j_u64, uint64_t, 0, UINT64_MAX)
INT_HANDLER(j_u32, uint32_t, 0, UINT32_MAX)
INT_HANDLER(j_i32, int32_t, INT32_MIN, INT32_MAX)
INT_HANDLER(j_int, int, INT_MIN, INT_MAX)
INT_HANDLER(j_u63, int64_t, 0, INT64_MAX)          /* Go uint64 kept in an int64 field */
INT_HANDLER(j_u32_i64, int64_t, 0, UINT32_MAX)     /* Go *uint32 kept in an int64 field */
INT_HANDLER(j_u16_i64, int64_t, 0, UINT16_MAX)     /* Go *uint16 (blkio weights) */

/* Device fileMode: the spec's value is a mode; keep the permission bits (header contract). */
static int j_file_mode(struct jctx *c, yajl_val v, void *dst, const struct jfield *f)
{
        uint64_t u;
        int r = jint(c, v, 0, UINT32_MAX, &u);

        if (r < 0)
                return r;
        *(int64_t *)dst = (int64_t)(u & 07777);
        return 0;
}

static int j_string(struct jctx *c, yajl_val v, void *dst, const struct jfield *f)
{
        if (!YAJL_IS_STRING(v))
                return jerr(c, "expected a string");
        free(*(char **)dst);
        *(char **)dst = silo_xstrdup(v->u.string);
        return 0;
}

static int j_bool(struct jctx *c, yajl_val v, void *dst, const struct jfield *f)
{
        if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
                return jerr(c, "expected a boolean");
        *(bool *)dst = YAJL_IS_TRUE(v);
        return 0;
}

static int j_tristate(struct jctx *c, yajl_val v, void *dst, const struct jfield *f)
{
        if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
                return jerr(c, "expected a boolean");
        *(int8_t *)dst = YAJL_IS_TRUE(v) ? 1 : 0;
        return 0;
}

/* A one-character string ("c", "b", ...); which characters are allowed is validate.c's business. */
static int j_char(struct jctx *c, yajl_val v, void *dst, const struct jfield *f)
{
        if (!YAJL_IS_STRING(v) || v->u.string[0] == '\0' || v->u.string[1] != '\0')
                return jerr(c, "expected a one-character string");
        *(char *)dst = v->u.string[0];
        return 0;
}

static int enum_lookup(struct jctx *c, yajl_val v, const struct jenum *e, int *ret)
{
        if (!YAJL_IS_STRING(v))
                return jerr(c, "expected a string");
        for (; e->name; e++)
                if (strcmp(e->name, v->u.string) == 0) {
                        *ret = e->value;
                        return 0;
                }
        return jerr(c, "unknown value '%.*s'", QUOTE_MAX, v->u.string);
}

static int j_enum(struct jctx *c, yajl_val v, void *dst, const struct jfield *f)
{
        return enum_lookup(c, v, f->aux, (int *)dst);
}

static int j_strv(struct jctx *c, yajl_val v, void *dst, const struct jfield *f)
{
        char **strv;
        size_t n;

        if (!YAJL_IS_ARRAY(v))
                return jerr(c, "expected an array of strings");
        n = v->u.array.len;
        for (size_t i = 0; i < n; i++)
                if (!YAJL_IS_STRING(v->u.array.values[i])) {
                        size_t old = jpush_index(&c->ptr, i);
                        int r = jerr(c, "expected a string");
                        jpop(&c->ptr, old);
                        return r;
                }
        strv = silo_xmalloc0((n + 1) * sizeof(char *));
        for (size_t i = 0; i < n; i++)
                strv[i] = silo_xstrdup(v->u.array.values[i]->u.string);
        silo_strv_free(*(char ***)dst);
        *(char ***)dst = strv;
        return 0;
}

static int j_u32array(struct jctx *c, yajl_val v, void *dst, const struct jfield *f)
{
        size_t *pn = (size_t *)((char *)dst - f->offset + f->n_offset);
        uint32_t *a;
        size_t n;

        if (!YAJL_IS_ARRAY(v))
                return jerr(c, "expected an array");
        n = v->u.array.len;
        a = silo_xmalloc0(n * sizeof(uint32_t));
        free(*(uint32_t **)dst);
        *(uint32_t **)dst = a;
        *pn = n;
        for (size_t i = 0; i < n; i++) {
                size_t old = jpush_index(&c->ptr, i);
                int r = j_u32(c, v->u.array.values[i], &a[i], f);
                jpop(&c->ptr, old);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- composites ------------------------------------------------------------------------------- */

/* An object decoded into the struct at dst: an embedded struct, or (offset 0) the same struct as the
 * parent's, for JSON objects that are flattened into it ("root", "memory", "execCPUAffinity"). */
static int j_object(struct jctx *c, yajl_val v, void *dst, const struct jfield *f)
{
        return dispatch(c, v, f->aux, dst);
}

/* Same, and set the bool at n_offset in the parent ("present", "has_console_size", ...). */
static int j_present(struct jctx *c, yajl_val v, void *dst, const struct jfield *f)
{
        *(bool *)((char *)dst - f->offset + f->n_offset) = true;
        return dispatch(c, v, f->aux, dst);
}

static int j_objarray(struct jctx *c, yajl_val v, void *dst, const struct jfield *f)
{
        const struct jarray *d = f->aux;
        size_t *pn = (size_t *)((char *)dst - f->offset + f->n_offset);
        char *arr;
        size_t n;

        if (!YAJL_IS_ARRAY(v))
                return jerr(c, "expected an array");
        n = v->u.array.len;
        /* Never overwritten (each key is dispatched once), and handed to the parent at once. */
        arr = n ? silo_xmalloc0(n * d->size) : NULL;
        if (d->init)
                for (size_t i = 0; i < n; i++)
                        d->init(arr + i * d->size);
        *(void **)dst = arr;
        *pn = n;
        for (size_t i = 0; i < n; i++) {
                size_t old = jpush_index(&c->ptr, i);
                int r = dispatch(c, v->u.array.values[i], d->fields, arr + i * d->size);
                if (r >= 0 && d->post)
                        r = d->post(c, arr, i);
                jpop(&c->ptr, old);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A map of objects ("rdma"): one element per non-null member, the key stored at key_offset. */
static int j_objmap(struct jctx *c, yajl_val v, void *dst, const struct jfield *f)
{
        const struct jarray *d = f->aux;
        size_t *pn = (size_t *)((char *)dst - f->offset + f->n_offset);
        char *arr;

        if (!YAJL_IS_OBJECT(v))
                return jerr(c, "expected an object");
        arr = v->u.object.len ? silo_xmalloc0(v->u.object.len * d->size) : NULL;
        *(void **)dst = arr;
        *pn = 0;
        for (size_t i = 0; i < v->u.object.len; i++) {
                char *elem = arr + *pn * d->size;
                size_t old;
                int r;

                if (YAJL_IS_NULL(v->u.object.values[i]))
                        continue;
                if (d->init)
                        d->init(elem);
                *(char **)(elem + d->key_offset) = silo_xstrdup(v->u.object.keys[i]);
                (*pn)++;
                old = jpush_key(&c->ptr, v->u.object.keys[i]);
                r = dispatch(c, v->u.object.values[i], d->fields, elem);
                jpop(&c->ptr, old);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int kv_cmp_idx(const void *a, const void *b, void *arg)
{
        const struct silo_kv *kv = arg;
        size_t i = *(const size_t *)a, j = *(const size_t *)b;
        int r = strcmp(kv[i].key, kv[j].key);

        return r ? r : (i < j ? -1 : i > j);
}

/* A string->string map (annotations, sysctl, unified).  Duplicate keys: the last one wins, as in
 * Go; sorting indices keeps this O(n log n) on hostile documents, and document order is kept. */
static int j_kvmap(struct jctx *c, yajl_val v, void *dst, const struct jfield *f)
{
        size_t *pn = (size_t *)((char *)dst - f->offset + f->n_offset);
        _cleanup_free_ size_t *idx = NULL;
        struct silo_kv *kv;
        size_t n = 0, m = 0;

        if (!YAJL_IS_OBJECT(v))
                return jerr(c, "expected an object");
        for (size_t i = 0; i < v->u.object.len; i++) {
                yajl_val x = v->u.object.values[i];
                if (YAJL_IS_NULL(x))
                        continue;
                if (!YAJL_IS_STRING(x)) {
                        size_t old = jpush_key(&c->ptr, v->u.object.keys[i]);
                        int r = jerr(c, "expected a string");
                        jpop(&c->ptr, old);
                        return r;
                }
                n++;
        }
        kv = n ? silo_xmalloc0(n * sizeof(*kv)) : NULL;
        for (size_t i = 0; i < v->u.object.len; i++)
                if (YAJL_IS_STRING(v->u.object.values[i])) {
                        kv[m].key = silo_xstrdup(v->u.object.keys[i]);
                        kv[m].value = silo_xstrdup(v->u.object.values[i]->u.string);
                        m++;
                }
        if (n > 1) {
                idx = silo_xmalloc0(n * sizeof(size_t));
                for (size_t i = 0; i < n; i++)
                        idx[i] = i;
                qsort_r(idx, n, sizeof(size_t), kv_cmp_idx, kv);
                for (size_t i = 0; i + 1 < n; i++)
                        if (strcmp(kv[idx[i]].key, kv[idx[i + 1]].key) == 0) {
                                free(kv[idx[i]].key);
                                free(kv[idx[i]].value);
                                kv[idx[i]].key = NULL;
                        }
                m = 0;
                for (size_t i = 0; i < n; i++)
                        if (kv[i].key)
                                kv[m++] = kv[i];
                n = m;
        }
        *(struct silo_kv **)dst = kv;
        *pn = n;
        return 0;
}

/* ---- lookups ---------------------------------------------------------------------------------- */

static const struct jenum ns_names[] = {
        {"pid", SILO_NS_PID},     {"network", SILO_NS_NETWORK}, {"mount", SILO_NS_MOUNT},
        {"ipc", SILO_NS_IPC},     {"uts", SILO_NS_UTS},         {"user", SILO_NS_USER},
        {"cgroup", SILO_NS_CGROUP}, {"time", SILO_NS_TIME},     {NULL, 0},
};

const char *silo_ns_type_name(enum silo_ns_type t)
{
        for (const struct jenum *e = ns_names; e->name; e++)
                if (e->value == (int)t)
                        return e->name;
        return NULL;
}

int silo_ns_type_from_name(const char *name)
{
        for (const struct jenum *e = ns_names; name && e->name; e++)
                if (strcmp(e->name, name) == 0)
                        return e->value;
        return -1;
}

int silo_ns_clone_flag(enum silo_ns_type t)
{
        static const int flags[_SILO_NS_MAX] = {
                [SILO_NS_PID] = CLONE_NEWPID,       [SILO_NS_NETWORK] = CLONE_NEWNET,
                [SILO_NS_MOUNT] = CLONE_NEWNS,      [SILO_NS_IPC] = CLONE_NEWIPC,
                [SILO_NS_UTS] = CLONE_NEWUTS,       [SILO_NS_USER] = CLONE_NEWUSER,
                [SILO_NS_CGROUP] = CLONE_NEWCGROUP, [SILO_NS_TIME] = CLONE_NEWTIME,
        };
        return (unsigned)t < _SILO_NS_MAX ? flags[t] : 0;
}

const struct silo_namespace *silo_spec_namespace(const struct silo_spec *spec, enum silo_ns_type t)
{
        if (spec == NULL || spec->linux_ == NULL)
                return NULL;
        for (size_t i = 0; i < spec->linux_->n_namespaces; i++)
                if (spec->linux_->namespaces[i].type == t)
                        return &spec->linux_->namespaces[i];
        return NULL;
}

const char *silo_spec_annotation(const struct silo_spec *spec, const char *key)
{
        if (spec == NULL || key == NULL)
                return NULL;
        for (size_t i = 0; i < spec->n_annotations; i++)
                if (strcmp(spec->annotations[i].key, key) == 0)
                        return spec->annotations[i].value;
        return NULL;
}

static const char *const hook_names[_SILO_HOOK_MAX] = {
        [SILO_HOOK_PRESTART] = "prestart",
        [SILO_HOOK_CREATE_RUNTIME] = "createRuntime",
        [SILO_HOOK_CREATE_CONTAINER] = "createContainer",
        [SILO_HOOK_START_CONTAINER] = "startContainer",
        [SILO_HOOK_POSTSTART] = "poststart",
        [SILO_HOOK_POSTSTOP] = "poststop",
};

const char *silo_hook_kind_name(enum silo_hook_kind k)
{
        return (unsigned)k < _SILO_HOOK_MAX ? hook_names[k] : NULL;
}

/* ---- mount options ---------------------------------------------------------------------------- */

enum mopt_kind {
        MO_SET, MO_CLR, MO_BIND, MO_PROP, MO_RSET, MO_RCLR, MO_IDMAP, MO_RIDMAP, MO_TMPCOPYUP, MO_COPYSYM
};

static const struct mount_opt {
        const char *name;
        enum mopt_kind kind;
        uint64_t flag;
} mount_opts[] = {
        {"ro", MO_SET, MS_RDONLY},
        {"rw", MO_CLR, MS_RDONLY},
        {"suid", MO_CLR, MS_NOSUID},
        {"nosuid", MO_SET, MS_NOSUID},
        {"dev", MO_CLR, MS_NODEV},
        {"nodev", MO_SET, MS_NODEV},
        {"exec", MO_CLR, MS_NOEXEC},
        {"noexec", MO_SET, MS_NOEXEC},
        {"sync", MO_SET, MS_SYNCHRONOUS},
        {"async", MO_CLR, MS_SYNCHRONOUS},
        {"dirsync", MO_SET, MS_DIRSYNC},
        {"remount", MO_SET, MS_REMOUNT},
        {"mand", MO_SET, MS_MANDLOCK},
        {"nomand", MO_CLR, MS_MANDLOCK},
        {"atime", MO_CLR, MS_NOATIME},
        {"noatime", MO_SET, MS_NOATIME},
        {"diratime", MO_CLR, MS_NODIRATIME},
        {"nodiratime", MO_SET, MS_NODIRATIME},
        {"relatime", MO_SET, MS_RELATIME},
        {"norelatime", MO_CLR, MS_RELATIME},
        {"strictatime", MO_SET, MS_STRICTATIME},
        {"nostrictatime", MO_CLR, MS_STRICTATIME},
        {"lazytime", MO_SET, MS_LAZYTIME},
        {"nolazytime", MO_CLR, MS_LAZYTIME},
        {"symfollow", MO_CLR, MS_NOSYMFOLLOW},
        {"nosymfollow", MO_SET, MS_NOSYMFOLLOW},
        {"bind", MO_BIND, MS_BIND},
        {"rbind", MO_BIND, MS_BIND | MS_REC},
        {"shared", MO_PROP, MS_SHARED},
        {"rshared", MO_PROP, MS_SHARED | MS_REC},
        {"slave", MO_PROP, MS_SLAVE},
        {"rslave", MO_PROP, MS_SLAVE | MS_REC},
        {"private", MO_PROP, MS_PRIVATE},
        {"rprivate", MO_PROP, MS_PRIVATE | MS_REC},
        {"unbindable", MO_PROP, MS_UNBINDABLE},
        {"runbindable", MO_PROP, MS_UNBINDABLE | MS_REC},
        /* recursive mount_setattr(2) attributes (Linux 5.12; nosymfollow 5.14) */
        {"rro", MO_RSET, MOUNT_ATTR_RDONLY},
        {"rrw", MO_RCLR, MOUNT_ATTR_RDONLY},
        {"rnosuid", MO_RSET, MOUNT_ATTR_NOSUID},
        {"rsuid", MO_RCLR, MOUNT_ATTR_NOSUID},
        {"rnodev", MO_RSET, MOUNT_ATTR_NODEV},
        {"rdev", MO_RCLR, MOUNT_ATTR_NODEV},
        {"rnoexec", MO_RSET, MOUNT_ATTR_NOEXEC},
        {"rexec", MO_RCLR, MOUNT_ATTR_NOEXEC},
        {"rnodiratime", MO_RSET, MOUNT_ATTR_NODIRATIME},
        {"rdiratime", MO_RCLR, MOUNT_ATTR_NODIRATIME},
        {"rrelatime", MO_RSET, MOUNT_ATTR_RELATIME},
        {"rnorelatime", MO_RCLR, MOUNT_ATTR_RELATIME},
        {"rnoatime", MO_RSET, MOUNT_ATTR_NOATIME},
        {"ratime", MO_RCLR, MOUNT_ATTR_NOATIME},
        {"rstrictatime", MO_RSET, MOUNT_ATTR_STRICTATIME},
        {"rnostrictatime", MO_RCLR, MOUNT_ATTR_STRICTATIME},
        {"rnosymfollow", MO_RSET, MOUNT_ATTR_NOSYMFOLLOW},
        {"rsymfollow", MO_RCLR, MOUNT_ATTR_NOSYMFOLLOW},
        {"idmap", MO_IDMAP, 0},
        {"ridmap", MO_RIDMAP, 0},
        {"tmpcopyup", MO_TMPCOPYUP, 0},
        {"copy-symlink", MO_COPYSYM, 0},
};

/* mount(2) copies at most one page of data and needs it NUL-terminated. */
#define MOUNT_DATA_MAX 4095

int silo_mount_parse_options(struct silo_mount *m, silo_error_t *err)
{
        struct silo_buf data = {0};

        m->flags = m->clear_flags = m->propagation = 0;
        m->rec_attr_set = m->rec_attr_clr = 0;
        m->bind = m->idmap = m->ridmap = m->tmpcopyup = m->copy_symlink = false;
        free(m->data);
        m->data = NULL;
        if (m->type && strcmp(m->type, "bind") == 0) {
                m->bind = true;
                m->flags |= MS_BIND;
        }
        for (char **o = m->options; o && *o; o++) {
                const struct mount_opt *mo = NULL;

                if (**o == '\0')
                        continue;
                for (size_t i = 0; i < ARRAY_SIZE(mount_opts); i++)
                        if (strcmp(mount_opts[i].name, *o) == 0) {
                                mo = &mount_opts[i];
                                break;
                        }
                if (mo == NULL) {
                        if (data.len)
                                silo_buf_putc(&data, ',');
                        silo_buf_puts(&data, *o);
                        if (data.len > MOUNT_DATA_MAX) {
                                silo_buf_free(&data);
                                return silo_error_set(err, 0,
                                                      "option '%.*s': filesystem data longer than %d bytes",
                                                      QUOTE_MAX, *o, MOUNT_DATA_MAX);
                        }
                        continue;
                }
                switch (mo->kind) {
                case MO_SET:
                        m->flags |= mo->flag;
                        m->clear_flags &= ~mo->flag;
                        break;
                case MO_CLR:
                        m->clear_flags |= mo->flag;
                        m->flags &= ~mo->flag;
                        break;
                case MO_BIND:
                        m->bind = true;
                        m->flags |= mo->flag;
                        break;
                case MO_PROP:
                        /* runc applies each propagation option in turn: the last one decides */
                        m->propagation = mo->flag;
                        break;
                case MO_RSET:
                        m->rec_attr_set |= mo->flag;
                        m->rec_attr_clr &= ~mo->flag;
                        /* mount_setattr(2): an atime mode in attr_set needs MOUNT_ATTR__ATIME in attr_clr */
                        if ((mo->flag & MOUNT_ATTR__ATIME) == mo->flag)
                                m->rec_attr_clr |= MOUNT_ATTR__ATIME;
                        break;
                case MO_RCLR:
                        m->rec_attr_clr |= mo->flag;
                        m->rec_attr_set &= ~mo->flag;
                        break;
                case MO_RIDMAP:
                        /* ridmap is idmap applied to the whole tree: consumers checking idmap see it */
                        m->ridmap = true;
                        m->idmap = true;
                        break;
                case MO_IDMAP:
                        m->idmap = true;
                        break;
                case MO_TMPCOPYUP:
                        m->tmpcopyup = true;
                        break;
                case MO_COPYSYM:
                        m->copy_symlink = true;
                        break;
                }
        }
        m->data = data.data;
        return 0;
}

/* ---- process ---------------------------------------------------------------------------------- */

/* Only "CAP_" + upper-case names, as runc: cap_from_name() alone also takes "12", "chown" and
 * "cap_chown+ep".  Capabilities above 63 cannot be held in the bitmask. */
static bool cap_lookup(const char *s, cap_value_t *ret)
{
        if (strncmp(s, "CAP_", 4) != 0 || s[4] == '\0')
                return false;
        for (const char *p = s + 4; *p; p++)
                if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
                        return false;
        return cap_from_name(s, ret) == 0 && *ret >= 0 && *ret < 64;
}

static int j_capset(struct jctx *c, yajl_val v, void *dst, const struct jfield *f)
{
        struct silo_buf unknown = {0};
        uint64_t mask = 0;

        if (!YAJL_IS_ARRAY(v))
                return jerr(c, "expected an array of strings");
        for (size_t i = 0; i < v->u.array.len; i++) {
                yajl_val x = v->u.array.values[i];
                cap_value_t cap;

                if (!YAJL_IS_STRING(x)) {
                        size_t old = jpush_index(&c->ptr, i);
                        int r = jerr(c, "expected a string");
                        jpop(&c->ptr, old);
                        silo_buf_free(&unknown);
                        return r;
                }
                if (cap_lookup(x->u.string, &cap))
                        mask |= UINT64_C(1) << cap;
                else if (unknown.len < 512)
                        silo_buf_printf(&unknown, "%s'%.*s'", unknown.len ? ", " : "", QUOTE_MAX,
                                        x->u.string);
                else if (unknown.data[unknown.len - 1] != '.')
                        silo_buf_puts(&unknown, ", ...");
        }
        /* runc: unknown or unavailable capabilities are one warning, not an error, so that a config
         * written for a newer kernel still runs. */
        if (unknown.len)
                silo_warn("%s: ignoring unknown capabilities %s", c->ptr.data, unknown.data);
        silo_buf_free(&unknown);
        *(uint64_t *)dst = mask;
        return 0;
}

static const struct jfield caps_fields[] = {
        F("bounding", j_capset, struct silo_caps, bounding),
        F("effective", j_capset, struct silo_caps, effective),
        F("inheritable", j_capset, struct silo_caps, inheritable),
        F("permitted", j_capset, struct silo_caps, permitted),
        F("ambient", j_capset, struct silo_caps, ambient),
        FEND,
};

/* Flags given as an array of names, OR-ed together; aux is the name table. */
static int j_flagset(struct jctx *c, yajl_val v, void *dst, const struct jfield *f)
{
        uint64_t mask = 0;

        if (!YAJL_IS_ARRAY(v))
                return jerr(c, "expected an array of strings");
        for (size_t i = 0; i < v->u.array.len; i++) {
                size_t old = jpush_index(&c->ptr, i);
                int bit = 0, r = enum_lookup(c, v->u.array.values[i], f->aux, &bit);

                jpop(&c->ptr, old);
                if (r < 0)
                        return r;
                mask |= (uint64_t)(unsigned)bit;
        }
        *(uint64_t *)dst = mask;
        return 0;
}

static const struct jenum rlimit_names[] = {
        {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},
        {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_DATA", RLIMIT_DATA},
        {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
        {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
        {"RLIMIT_NICE", RLIMIT_NICE},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
        {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
        {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},
        {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK},
        {NULL, 0},
};

static int j_rlimit_type(struct jctx *c, yajl_val v, void *dst, const struct jfield *f)
{
        struct silo_rlimit *rl = dst;
        int r = enum_lookup(c, v, rlimit_names, &rl->resource);

        if (r < 0)
                return r;
        rl->type = silo_xstrdup(v->u.string);
        return 0;
}

static const struct jfield rlimit_fields[] = {
        {"type", j_rlimit_type, 0, 0, NULL, true},
        F("soft", j_u64, struct silo_rlimit, soft),
        F("hard", j_u64, struct silo_rlimit, hard),
        FEND,
};
static const struct jarray rlimit_array = JARRAY(struct silo_rlimit, rlimit_fields, NULL, NULL);

/* Kernel values (uapi linux/sched.h); SCHED_ISO is reserved but named by the spec. */
static const struct jenum sched_policies[] = {
        {"SCHED_OTHER", 0}, {"SCHED_FIFO", 1}, {"SCHED_RR", 2},       {"SCHED_BATCH", 3},
        {"SCHED_ISO", 4},   {"SCHED_IDLE", 5}, {"SCHED_DEADLINE", 6}, {NULL, 0},
};
static const struct jenum sched_flags[] = {
        {"SCHED_FLAG_RESET_ON_FORK", 0x01}, {"SCHED_FLAG_RECLAIM", 0x02},
        {"SCHED_FLAG_DL_OVERRUN", 0x04},    {"SCHED_FLAG_KEEP_POLICY", 0x08},
        {"SCHED_FLAG_KEEP_PARAMS", 0x10},   {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
        {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40}, {NULL, 0},
};
static const struct jfield scheduler_fields[] = {
        FM("policy", j_enum, struct silo_scheduler, policy, sched_policies),
        F("nice", j_i32, struct silo_scheduler, nice),
        F("priority", j_i32, struct silo_scheduler, priority),
        FX("flags", j_flagset, struct silo_scheduler, flags, sched_flags),
        F("runtime", j_u64, struct silo_scheduler, runtime),
        F("deadline", j_u64, struct silo_scheduler, deadline),
        F("period", j_u64, struct silo_scheduler, period),
        FEND,
};

static const struct jenum ioprio_classes[] = {
        {"IOPRIO_CLASS_RT", 1}, {"IOPRIO_CLASS_BE", 2}, {"IOPRIO_CLASS_IDLE", 3}, {NULL, 0},
};
static const struct jfield ioprio_fields[] = {
        FM("class", j_enum, struct silo_io_priority, klass, ioprio_classes),
        F("priority", j_int, struct silo_io_priority, priority),
        FEND,
};

static const struct jfield console_fields[] = {
        F("height", j_u32, struct silo_process, console_height),
        F("width", j_u32, struct silo_process, console_width),
        FEND,
};

static const struct jfield user_fields[] = {
        F("uid", j_u32, struct silo_user, uid),
        F("gid", j_u32, struct silo_user, gid),
        F("umask", j_u32_i64, struct silo_user, umask),
        FN("additionalGids", j_u32array, struct silo_user, additional_gids, n_additional_gids, NULL),
        F("username", j_string, struct silo_user, username),
        FEND,
};

static const struct jfield affinity_fields[] = {
        F("initial", j_string, struct silo_process, exec_cpu_affinity_initial),
        F("final", j_string, struct silo_process, exec_cpu_affinity_final),
        FEND,
};

static const struct jfield process_fields[] = {
        F("terminal", j_bool, struct silo_process, terminal),
        {"consoleSize", j_present, 0, offsetof(struct silo_process, has_console_size), console_fields, false},
        FX("user", j_object, struct silo_process, user, user_fields),
        F("args", j_strv, struct silo_process, args),
        F("commandLine", j_string, struct silo_process, command_line),
        F("env", j_strv, struct silo_process, env),
        F("cwd", j_string, struct silo_process, cwd),
        FN("capabilities", j_present, struct silo_process, caps, caps.present, caps_fields),
        FN("rlimits", j_objarray, struct silo_process, rlimits, n_rlimits, &rlimit_array),
        F("noNewPrivileges", j_bool, struct silo_process, no_new_privileges),
        F("apparmorProfile", j_string, struct silo_process, apparmor_profile),
        F("oomScoreAdj", j_i64, struct silo_process, oom_score_adj),
        F("selinuxLabel", j_string, struct silo_process, selinux_label),
        FN("scheduler", j_present, struct silo_process, scheduler, scheduler.present, scheduler_fields),
        FN("ioPriority", j_present, struct silo_process, io_priority, io_priority.present, ioprio_fields),
        FI("execCPUAffinity", affinity_fields),
        FEND,
};

static struct silo_process *process_new(void)
{
        struct silo_process *p = silo_xmalloc0(sizeof(*p));

        p->user.umask = SILO_UNSET;
        p->oom_score_adj = SILO_UNSET;
        return p;
}

static int j_process(struct jctx *c, yajl_val v, void *dst, const struct jfield *f)
{
        struct silo_process *p = process_new();

        *(struct silo_process **)dst = p;
        return dispatch(c, v, process_fields, p);
}

/* ---- mounts, hooks ---------------------------------------------------------------------------- */

static const struct jfield idmap_fields[] = {
        F("containerID", j_u32, struct silo_id_mapping, container_id),
        F("hostID", j_u32, struct silo_id_mapping, host_id),
        F("size", j_u32, struct silo_id_mapping, size),
        FEND,
};
static const struct jarray idmap_array = JARRAY(struct silo_id_mapping, idmap_fields, NULL, NULL);

static int mount_post(struct jctx *c, void *arr, size_t i)
{
        int r = silo_mount_parse_options(&((struct silo_mount *)arr)[i], c->err);

        if (r < 0)
                silo_error_wrap(c->err, "%s/options", c->ptr.data);
        return r;
}

static const struct jfield mount_fields[] = {
        F("destination", j_string, struct silo_mount, destination),
        F("type", j_string, struct silo_mount, type),
        F("source", j_string, struct silo_mount, source),
        F("options", j_strv, struct silo_mount, options),
        FN("uidMappings", j_objarray, struct silo_mount, uid_mappings, n_uid_mappings, &idmap_array),
        FN("gidMappings", j_objarray, struct silo_mount, gid_mappings, n_gid_mappings, &idmap_array),
        FEND,
};
static const struct jarray mount_array = JARRAY(struct silo_mount, mount_fields, NULL, mount_post);

static void hook_init(void *p)
{
        ((struct silo_hook *)p)->timeout = SILO_UNSET;
}

static const struct jfield hook_fields[] = {
        F("path", j_string, struct silo_hook, path),
        F("args", j_strv, struct silo_hook, args),
        F("env", j_strv, struct silo_hook, env),
        F("timeout", j_i64, struct silo_hook, timeout),
        FEND,
};
static const struct jarray hook_array = JARRAY(struct silo_hook, hook_fields, hook_init, NULL);

#define HOOK(name, k) FN(name, j_objarray, struct silo_spec, hooks[k], n_hooks[k], &hook_array)
static const struct jfield hooks_fields[] = {
        HOOK("prestart", SILO_HOOK_PRESTART),
        HOOK("createRuntime", SILO_HOOK_CREATE_RUNTIME),
        HOOK("createContainer", SILO_HOOK_CREATE_CONTAINER),
        HOOK("startContainer", SILO_HOOK_START_CONTAINER),
        HOOK("poststart", SILO_HOOK_POSTSTART),
        HOOK("poststop", SILO_HOOK_POSTSTOP),
        FEND,
};

/* ---- linux.resources -------------------------------------------------------------------------- */

static void devrule_init(void *p)
{
        struct silo_device_rule *d = p;

        d->major = d->minor = SILO_UNSET;
}

static const struct jfield devrule_fields[] = {
        F("allow", j_bool, struct silo_device_rule, allow),
        F("type", j_char, struct silo_device_rule, type),
        F("major", j_i64, struct silo_device_rule, major),
        F("minor", j_i64, struct silo_device_rule, minor),
        F("access", j_string, struct silo_device_rule, access),
        FEND,
};
static const struct jarray devrule_array =
        JARRAY(struct silo_device_rule, devrule_fields, devrule_init, NULL);

static const struct jfield memory_fields[] = {
        F("limit", j_i64, struct silo_resources, memory.limit),
        F("reservation", j_i64, struct silo_resources, memory.reservation),
        F("swap", j_i64, struct silo_resources, memory.swap),
        F("kernel", j_i64, struct silo_resources, memory.kernel),
        F("kernelTCP", j_i64, struct silo_resources, memory.kernel_tcp),
        F("swappiness", j_u63, struct silo_resources, memory.swappiness),
        F("disableOOMKiller", j_tristate, struct silo_resources, memory.disable_oom_killer),
        F("useHierarchy", j_tristate, struct silo_resources, memory.use_hierarchy),
        F("checkBeforeUpdate", j_tristate, struct silo_resources, memory.check_before_update),
        FEND,
};

static const struct jfield cpu_fields[] = {
        F("shares", j_u63, struct silo_resources, cpu.shares),
        F("quota", j_i64, struct silo_resources, cpu.quota),
        F("burst", j_u63, struct silo_resources, cpu.burst),
        F("period", j_u63, struct silo_resources, cpu.period),
        F("realtimeRuntime", j_i64, struct silo_resources, cpu.realtime_runtime),
        F("realtimePeriod", j_u63, struct silo_resources, cpu.realtime_period),
        F("cpus", j_string, struct silo_resources, cpu.cpus),
        F("mems", j_string, struct silo_resources, cpu.mems),
        F("idle", j_i64, struct silo_resources, cpu.idle),
        FEND,
};

static const struct jfield pids_fields[] = {
        F("limit", j_i64, struct silo_resources, pids.limit),
        FEND,
};

static void wdev_init(void *p)
{
        struct silo_weight_device *w = p;

        w->weight = w->leaf_weight = SILO_UNSET;
}

static const struct jfield wdev_fields[] = {
        F("major", j_i64, struct silo_weight_device, major),
        F("minor", j_i64, struct silo_weight_device, minor),
        F("weight", j_u16_i64, struct silo_weight_device, weight),
        F("leafWeight", j_u16_i64, struct silo_weight_device, leaf_weight),
        FEND,
};
static const struct jarray wdev_array = JARRAY(struct silo_weight_device, wdev_fields, wdev_init, NULL);

static const struct jfield throttle_fields[] = {
        F("major", j_i64, struct silo_throttle_device, major),
        F("minor", j_i64, struct silo_throttle_device, minor),
        F("rate", j_u64, struct silo_throttle_device, rate),
        FEND,
};
static const struct jarray throttle_array = JARRAY(struct silo_throttle_device, throttle_fields, NULL, NULL);

static const struct jfield blkio_fields[] = {
        F("weight", j_u16_i64, struct silo_resources, block_io.weight),
        F("leafWeight", j_u16_i64, struct silo_resources, block_io.leaf_weight),
        FN("weightDevice", j_objarray, struct silo_resources, block_io.weight_device,
           block_io.n_weight_device, &wdev_array),
        FN("throttleReadBpsDevice", j_objarray, struct silo_resources, block_io.throttle_read_bps,
           block_io.n_throttle_read_bps, &throttle_array),
        FN("throttleWriteBpsDevice", j_objarray, struct silo_resources, block_io.throttle_write_bps,
           block_io.n_throttle_write_bps, &throttle_array),
        FN("throttleReadIOPSDevice", j_objarray, struct silo_resources, block_io.throttle_read_iops,
           block_io.n_throttle_read_iops, &throttle_array),
        FN("throttleWriteIOPSDevice", j_objarray, struct silo_resources, block_io.throttle_write_iops,
           block_io.n_throttle_write_iops, &throttle_array),
        FEND,
};

static const struct jfield hugepage_fields[] = {
        F("pageSize", j_string, struct silo_hugepage_limit, page_size),
        F("limit", j_u64, struct silo_hugepage_limit, limit),
        FEND,
};
static const struct jarray hugepage_array = JARRAY(struct silo_hugepage_limit, hugepage_fields, NULL, NULL);

static const struct jfield netprio_fields[] = {
        F("name", j_string, struct silo_net_priority, name),
        F("priority", j_u32, struct silo_net_priority, priority),
        FEND,
};
static const struct jarray netprio_array = JARRAY(struct silo_net_priority, netprio_fields, NULL, NULL);

static const struct jfield network_fields[] = {
        F("classID", j_u32_i64, struct silo_resources, network.class_id),
        FN("priorities", j_objarray, struct silo_resources, network.priorities, network.n_priorities,
           &netprio_array),
        FEND,
};

static void rdma_init(void *p)
{
        struct silo_rdma_limit *l = p;

        l->hca_handles = l->hca_objects = SILO_UNSET;
}

static const struct jfield rdma_fields[] = {
        F("hcaHandles", j_u32_i64, struct silo_rdma_limit, hca_handles),
        F("hcaObjects", j_u32_i64, struct silo_rdma_limit, hca_objects),
        FEND,
};
static const struct jarray rdma_map = {sizeof(struct silo_rdma_limit), rdma_fields, rdma_init, NULL,
                                       offsetof(struct silo_rdma_limit, device)};

static const struct jfield resources_fields[] = {
        FN("devices", j_objarray, struct silo_resources, devices, n_devices, &devrule_array),
        FI("memory", memory_fields),
        FI("cpu", cpu_fields),
        FI("pids", pids_fields),
        FI("blockIO", blkio_fields),
        FN("hugepageLimits", j_objarray, struct silo_resources, hugepage_limits, n_hugepage_limits,
           &hugepage_array),
        FI("network", network_fields),
        FN("rdma", j_objmap, struct silo_resources, rdma, n_rdma, &rdma_map),
        FN("unified", j_kvmap, struct silo_resources, unified, n_unified, NULL),
        FEND,
};

static struct silo_resources *resources_new(void)
{
        struct silo_resources *r = silo_xmalloc0(sizeof(*r));

        r->memory.limit = r->memory.reservation = r->memory.swap = SILO_UNSET;
        r->memory.kernel = r->memory.kernel_tcp = r->memory.swappiness = SILO_UNSET;
        r->memory.disable_oom_killer = r->memory.use_hierarchy = r->memory.check_before_update = -1;
        r->cpu.shares = r->cpu.quota = r->cpu.burst = r->cpu.period = SILO_UNSET;
        r->cpu.realtime_runtime = r->cpu.realtime_period = r->cpu.idle = SILO_UNSET;
        r->pids.limit = SILO_UNSET;
        r->block_io.weight = r->block_io.leaf_weight = SILO_UNSET;
        r->network.class_id = SILO_UNSET;
        return r;
}

static int j_resources(struct jctx *c, yajl_val v, void *dst, const struct jfield *f)
{
        struct silo_resources *r = resources_new();

        *(struct silo_resources **)dst = r;
        return dispatch(c, v, resources_fields, r);
}

/* ---- linux.seccomp ---------------------------------------------------------------------------- */

static const struct jenum seccomp_actions[] = {
        {"SCMP_ACT_KILL", SILO_SCMP_KILL},     {"SCMP_ACT_KILL_PROCESS", SILO_SCMP_KILL_PROCESS},
        {"SCMP_ACT_KILL_THREAD", SILO_SCMP_KILL_THREAD}, {"SCMP_ACT_TRAP", SILO_SCMP_TRAP},
        {"SCMP_ACT_ERRNO", SILO_SCMP_ERRNO},   {"SCMP_ACT_TRACE", SILO_SCMP_TRACE},
        {"SCMP_ACT_ALLOW", SILO_SCMP_ALLOW},   {"SCMP_ACT_LOG", SILO_SCMP_LOG},
        {"SCMP_ACT_NOTIFY", SILO_SCMP_NOTIFY}, {NULL, 0},
};
static const struct jenum seccomp_ops[] = {
        {"SCMP_CMP_NE", SILO_SCMP_CMP_NE}, {"SCMP_CMP_LT", SILO_SCMP_CMP_LT},
        {"SCMP_CMP_LE", SILO_SCMP_CMP_LE}, {"SCMP_CMP_EQ", SILO_SCMP_CMP_EQ},
        {"SCMP_CMP_GE", SILO_SCMP_CMP_GE}, {"SCMP_CMP_GT", SILO_SCMP_CMP_GT},
        {"SCMP_CMP_MASKED_EQ", SILO_SCMP_CMP_MASKED_EQ}, {NULL, 0},
};

static const struct jfield scarg_fields[] = {
        F("index", j_u32, struct silo_seccomp_arg, index),
        F("value", j_u64, struct silo_seccomp_arg, value),
        F("valueTwo", j_u64, struct silo_seccomp_arg, value_two),
        FM("op", j_enum, struct silo_seccomp_arg, op, seccomp_ops),
        FEND,
};
static const struct jarray scarg_array = JARRAY(struct silo_seccomp_arg, scarg_fields, NULL, NULL);

static void scrule_init(void *p)
{
        ((struct silo_seccomp_rule *)p)->errno_ret = SILO_UNSET;
}

static const struct jfield scrule_fields[] = {
        F("names", j_strv, struct silo_seccomp_rule, names),
        FM("action", j_enum, struct silo_seccomp_rule, action, seccomp_actions),
        F("errnoRet", j_u32_i64, struct silo_seccomp_rule, errno_ret),
        FN("args", j_objarray, struct silo_seccomp_rule, args, n_args, &scarg_array),
        FEND,
};
static const struct jarray scrule_array = JARRAY(struct silo_seccomp_rule, scrule_fields, scrule_init, NULL);

static const struct jfield seccomp_fields[] = {
        FM("defaultAction", j_enum, struct silo_seccomp, default_action, seccomp_actions),
        F("defaultErrnoRet", j_u32_i64, struct silo_seccomp, default_errno_ret),
        F("architectures", j_strv, struct silo_seccomp, architectures),
        F("flags", j_strv, struct silo_seccomp, flags),
        F("listenerPath", j_string, struct silo_seccomp, listener_path),
        F("listenerMetadata", j_string, struct silo_seccomp, listener_metadata),
        FN("syscalls", j_objarray, struct silo_seccomp, syscalls, n_syscalls, &scrule_array),
        FEND,
};

static int j_seccomp(struct jctx *c, yajl_val v, void *dst, const struct jfield *f)
{
        struct silo_seccomp *s = silo_xmalloc0(sizeof(*s));

        s->default_errno_ret = SILO_UNSET;
        *(struct silo_seccomp **)dst = s;
        return dispatch(c, v, seccomp_fields, s);
}

/* ---- linux ------------------------------------------------------------------------------------ */

static int ns_post(struct jctx *c, void *arr, size_t i)
{
        struct silo_namespace *ns = arr;

        if (ns[i].path && ns[i].path[0] == '\0') { /* runc: an empty path means "create one" */
                free(ns[i].path);
                ns[i].path = NULL;
        }
        for (size_t j = 0; j < i; j++)
                if (ns[j].type == ns[i].type) {
                        size_t old = jpush_key(&c->ptr, "type");
                        int r = jerr(c, "duplicate namespace '%s'", silo_ns_type_name(ns[i].type));
                        jpop(&c->ptr, old);
                        return r;
                }
        return 0;
}

static const struct jfield ns_fields[] = {
        FM("type", j_enum, struct silo_namespace, type, ns_names),
        F("path", j_string, struct silo_namespace, path),
        FEND,
};
static const struct jarray ns_array = JARRAY(struct silo_namespace, ns_fields, NULL, ns_post);

static void device_init(void *p)
{
        struct silo_device *d = p;

        d->major = d->minor = d->file_mode = d->uid = d->gid = SILO_UNSET;
}

static const struct jfield device_fields[] = {
        F("path", j_string, struct silo_device, path),
        FM("type", j_char, struct silo_device, type, NULL),
        F("major", j_i64, struct silo_device, major),
        F("minor", j_i64, struct silo_device, minor),
        F("fileMode", j_file_mode, struct silo_device, file_mode),
        F("uid", j_u32_i64, struct silo_device, uid),
        F("gid", j_u32_i64, struct silo_device, gid),
        FEND,
};
static const struct jarray device_array = JARRAY(struct silo_device, device_fields, device_init, NULL);

static const struct jfield time_offset_fields[] = {
        F("secs", j_i64, struct silo_time_offset, secs),
        F("nanosecs", j_u32, struct silo_time_offset, nanosecs),
        FEND,
};

static int j_time_offsets(struct jctx *c, yajl_val v, void *dst, const struct jfield *f)
{
        struct silo_linux *l = dst;

        if (!YAJL_IS_OBJECT(v))
                return jerr(c, "expected an object");
        for (size_t i = 0; i < v->u.object.len; i++) {
                const char *clock = v->u.object.keys[i];
                size_t old = jpush_key(&c->ptr, clock);
                struct silo_time_offset *t = NULL;
                int r = 0;

                if (strcmp(clock, "boottime") == 0)
                        t = &l->time_boottime;
                else if (strcmp(clock, "monotonic") == 0)
                        t = &l->time_monotonic;
                else
                        r = jerr(c, "unknown clock (want boottime or monotonic)");
                if (t && !YAJL_IS_NULL(v->u.object.values[i])) {
                        r = dispatch(c, v->u.object.values[i], time_offset_fields, t);
                        t->present = true;
                }
                jpop(&c->ptr, old);
                if (r < 0)
                        return r;
        }
        return 0;
}

static const struct jenum propagations[] = {
        {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC}, {"slave", MS_SLAVE},
        {"rslave", MS_SLAVE | MS_REC}, {"private", MS_PRIVATE},         {"rprivate", MS_PRIVATE | MS_REC},
        {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC}, {"", 0},
        {NULL, 0},
};

static int j_rootfs_propagation(struct jctx *c, yajl_val v, void *dst, const struct jfield *f)
{
        struct silo_linux *l = dst;
        int flags = 0;
        int r = enum_lookup(c, v, propagations, &flags);

        if (r < 0)
                return r;
        free(l->rootfs_propagation);
        l->rootfs_propagation = silo_xstrdup(v->u.string);
        l->rootfs_propagation_flags = (unsigned long)(unsigned)flags;
        return 0;
}

static const struct jenum personality_domains[] = {
        {"LINUX", PER_LINUX}, {"LINUX32", PER_LINUX32}, {NULL, 0},
};

static int j_persona_domain(struct jctx *c, yajl_val v, void *dst, const struct jfield *f)
{
        int d = 0;
        int r = enum_lookup(c, v, personality_domains, &d);

        if (r >= 0)
                *(unsigned long *)dst = (unsigned long)(unsigned)d;
        return r;
}

static const struct jfield personality_fields[] = {
        FM("domain", j_persona_domain, struct silo_linux, personality_domain, NULL),
        F("flags", j_strv, struct silo_linux, personality_flags),
        FEND,
};

static const struct jfield linux_fields[] = {
        FN("namespaces", j_objarray, struct silo_linux, namespaces, n_namespaces, &ns_array),
        FN("uidMappings", j_objarray, struct silo_linux, uid_mappings, n_uid_mappings, &idmap_array),
        FN("gidMappings", j_objarray, struct silo_linux, gid_mappings, n_gid_mappings, &idmap_array),
        FS("timeOffsets", j_time_offsets),
        FN("devices", j_objarray, struct silo_linux, devices, n_devices, &device_array),
        F("cgroupsPath", j_string, struct silo_linux, cgroups_path),
        F("resources", j_resources, struct silo_linux, resources),
        FS("rootfsPropagation", j_rootfs_propagation),
        F("maskedPaths", j_strv, struct silo_linux, masked_paths),
        F("readonlyPaths", j_strv, struct silo_linux, readonly_paths),
        F("mountLabel", j_string, struct silo_linux, mount_label),
        FN("sysctl", j_kvmap, struct silo_linux, sysctl, n_sysctl, NULL),
        F("seccomp", j_seccomp, struct silo_linux, seccomp),
        {"personality", j_present, 0, offsetof(struct silo_linux, has_personality), personality_fields,
         false},
        FEND,
};

static int j_linux(struct jctx *c, yajl_val v, void *dst, const struct jfield *f)
{
        struct silo_linux *l = silo_xmalloc0(sizeof(*l));

        *(struct silo_linux **)dst = l;
        return dispatch(c, v, linux_fields, l);
}

/* ---- the document ----------------------------------------------------------------------------- */

static const struct jfield root_fields[] = {
        F("path", j_string, struct silo_spec, root.path),
        F("readonly", j_bool, struct silo_spec, root.readonly),
        FEND,
};

static const struct jfield spec_fields[] = {
        F("ociVersion", j_string, struct silo_spec, oci_version),
        FI("root", root_fields),
        F("process", j_process, struct silo_spec, process),
        F("hostname", j_string, struct silo_spec, hostname),
        F("domainname", j_string, struct silo_spec, domainname),
        FN("mounts", j_objarray, struct silo_spec, mounts, n_mounts, &mount_array),
        FI("hooks", hooks_fields),
        FN("annotations", j_kvmap, struct silo_spec, annotations, n_annotations, NULL),
        F("linux", j_linux, struct silo_spec, linux_),
        FEND,
};

/*
 * Bound the document before yajl builds a tree of it.  yajl_tree_free() recurses once per nesting
 * level, so 4 MiB of '[' would overflow the stack while the tree is freed: checking the tree after
 * the parse is too late.  Counting brackets outside strings and comments (yajl_tree_parse accepts
 * comments) gives exactly yajl's depth for every prefix yajl accepts, and yajl stops at the first
 * error, so the tree it builds is never deeper than what is checked here.  Strings with \u0000 are
 * refused too: yajl decodes them into C strings that would silently end early
 * ("/etc/passwd\u0000.conf" would become "/etc/passwd").
 */
static int prescan(const char *doc, const char *s, size_t len, silo_error_t *err)
{
        unsigned depth = 0;

        for (size_t i = 0; i < len; i++) {
                if (s[i] == '"') {
                        for (i++; i < len && s[i] != '"'; i++) {
                                if (s[i] != '\\' || i + 1 >= len)
                                        continue;
                                i++;
                                if (s[i] == 'u' && len - i > 4 && memcmp(s + i + 1, "0000", 4) == 0)
                                        return silo_error_set(err, 0, "%s: parse error: NUL character "
                                                              "(\\u0000) in a string", doc);
                        }
                } else if (s[i] == '/' && i + 1 < len && s[i + 1] == '*') {
                        const char *end = memmem(s + i + 2, len - i - 2, "*/", 2);
                        i = end ? (size_t)(end - s) + 1 : len;
                } else if (s[i] == '/' && i + 1 < len && s[i + 1] == '/') {
                        const char *end = memchr(s + i, '\n', len - i);
                        i = end ? (size_t)(end - s) : len;
                } else if (s[i] == '[' || s[i] == '{') {
                        if (++depth > SILO_SPEC_MAX_DEPTH)
                                return silo_error_set(err, 0, "%s: nested deeper than %d levels", doc,
                                                      SILO_SPEC_MAX_DEPTH);
                } else if ((s[i] == ']' || s[i] == '}') && depth > 0) {
                        depth--;
                }
        }
        return 0;
}

static int parse_tree(const char *doc, const char *buf, size_t len, yajl_val *ret, silo_error_t *err)
{
        _cleanup_free_ char *copy = NULL;
        char ebuf[256] = "";
        const char *msg;
        yajl_val v;
        int r;

        if (buf == NULL && len > 0)
                return silo_error_set(err, EINVAL, "%s: no data", doc);
        if (len > SILO_SPEC_MAX_SIZE)
                return silo_error_set(err, EFBIG, "%s: larger than %u bytes", doc, SILO_SPEC_MAX_SIZE);
        /* yajl_tree_parse() takes a C string: an embedded NUL would silently cut the document */
        if (len > 0 && memchr(buf, '\0', len))
                return silo_error_set(err, 0, "%s: parse error: NUL byte in the document", doc);
        r = prescan(doc, buf, len, err);
        if (r < 0)
                return r;
        copy = silo_xmalloc0(len + 1);
        if (len > 0)
                memcpy(copy, buf, len);
        v = yajl_tree_parse(copy, ebuf, sizeof(ebuf));
        if (v == NULL) {
                /* yajl's message is "parse error: what\n<excerpt>\n<arrow>": keep the first line */
                ebuf[strcspn(ebuf, "\n")] = '\0';
                msg = silo_str_has_prefix(ebuf, "parse error: ") ? ebuf + strlen("parse error: ") : ebuf;
                return silo_error_set(err, 0, "%s: parse error: %s", doc, *msg ? msg : "invalid JSON");
        }
        *ret = v;
        return 0;
}

static int parse_with(const char *doc, const char *buf, size_t len, const struct jfield *fields, void *base,
                      silo_error_t *err)
{
        struct jctx c = {.doc = doc, .err = err};
        yajl_val root = NULL;
        int r;

        r = parse_tree(doc, buf, len, &root, err);
        if (r < 0)
                return r;
        if (!YAJL_IS_OBJECT(root))
                r = silo_error_set(err, 0, "%s: expected a JSON object", doc);
        else
                r = dispatch(&c, root, fields, base);
        silo_buf_free(&c.ptr);
        yajl_tree_free(root);
        return r;
}

static int spec_parse_doc(const char *doc, const char *buf, size_t len, struct silo_spec **ret,
                          silo_error_t *err)
{
        struct silo_spec *spec = silo_xmalloc0(sizeof(*spec));
        int r = parse_with(doc, buf, len, spec_fields, spec, err);

        if (r < 0) {
                silo_spec_free(spec);
                return r;
        }
        *ret = spec;
        return 0;
}

int silo_spec_parse(const char *buf, size_t len, struct silo_spec **ret, silo_error_t *err)
{
        return spec_parse_doc("config.json", buf, len, ret, err);
}

int silo_spec_load(const char *path, struct silo_spec **ret, silo_error_t *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r;

        r = silo_read_file_at(AT_FDCWD, path, SILO_SPEC_MAX_SIZE, &buf, &len, err);
        if (r < 0)
                return r;
        return spec_parse_doc(path, buf, len, ret, err);
}

int silo_process_parse(const char *buf, size_t len, struct silo_process **ret, silo_error_t *err)
{
        struct silo_process *p = process_new();
        int r = parse_with("process.json", buf, len, process_fields, p, err);

        if (r < 0) {
                silo_process_free(p);
                return r;
        }
        *ret = p;
        return 0;
}

int silo_resources_parse(const char *buf, size_t len, struct silo_resources **ret, silo_error_t *err)
{
        struct silo_resources *res = resources_new();
        int r = parse_with("resources", buf, len, resources_fields, res, err);

        if (r < 0) {
                silo_resources_free(res);
                return r;
        }
        *ret = res;
        return 0;
}

/* ---- freeing ---------------------------------------------------------------------------------- */

static void kv_free(struct silo_kv *kv, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(kv[i].key);
                free(kv[i].value);
        }
        free(kv);
}

void silo_process_free(struct silo_process *p)
{
        if (p == NULL)
                return;
        free(p->user.additional_gids);
        free(p->user.username);
        silo_strv_free(p->args);
        free(p->command_line);
        silo_strv_free(p->env);
        free(p->cwd);
        for (size_t i = 0; i < p->n_rlimits; i++)
                free(p->rlimits[i].type);
        free(p->rlimits);
        free(p->apparmor_profile);
        free(p->selinux_label);
        free(p->exec_cpu_affinity_initial);
        free(p->exec_cpu_affinity_final);
        free(p);
}

void silo_resources_free(struct silo_resources *r)
{
        if (r == NULL)
                return;
        for (size_t i = 0; i < r->n_devices; i++)
                free(r->devices[i].access);
        free(r->devices);
        free(r->cpu.cpus);
        free(r->cpu.mems);
        free(r->block_io.weight_device);
        free(r->block_io.throttle_read_bps);
        free(r->block_io.throttle_write_bps);
        free(r->block_io.throttle_read_iops);
        free(r->block_io.throttle_write_iops);
        for (size_t i = 0; i < r->n_hugepage_limits; i++)
                free(r->hugepage_limits[i].page_size);
        free(r->hugepage_limits);
        for (size_t i = 0; i < r->network.n_priorities; i++)
                free(r->network.priorities[i].name);
        free(r->network.priorities);
        for (size_t i = 0; i < r->n_rdma; i++)
                free(r->rdma[i].device);
        free(r->rdma);
        kv_free(r->unified, r->n_unified);
        free(r);
}

static void seccomp_free(struct silo_seccomp *s)
{
        if (s == NULL)
                return;
        silo_strv_free(s->architectures);
        silo_strv_free(s->flags);
        free(s->listener_path);
        free(s->listener_metadata);
        for (size_t i = 0; i < s->n_syscalls; i++) {
                silo_strv_free(s->syscalls[i].names);
                free(s->syscalls[i].args);
        }
        free(s->syscalls);
        free(s);
}

static void linux_free(struct silo_linux *l)
{
        if (l == NULL)
                return;
        for (size_t i = 0; i < l->n_namespaces; i++)
                free(l->namespaces[i].path);
        free(l->namespaces);
        free(l->uid_mappings);
        free(l->gid_mappings);
        for (size_t i = 0; i < l->n_devices; i++)
                free(l->devices[i].path);
        free(l->devices);
        free(l->cgroups_path);
        silo_resources_free(l->resources);
        free(l->rootfs_propagation);
        silo_strv_free(l->masked_paths);
        silo_strv_free(l->readonly_paths);
        free(l->mount_label);
        kv_free(l->sysctl, l->n_sysctl);
        seccomp_free(l->seccomp);
        silo_strv_free(l->personality_flags);
        free(l);
}

void silo_spec_free(struct silo_spec *spec)
{
        if (spec == NULL)
                return;
        free(spec->oci_version);
        free(spec->root.path);
        silo_process_free(spec->process);
        free(spec->hostname);
        free(spec->domainname);
        for (size_t i = 0; i < spec->n_mounts; i++) {
                struct silo_mount *m = &spec->mounts[i];
                free(m->destination);
                free(m->type);
                free(m->source);
                silo_strv_free(m->options);
                free(m->data);
                free(m->uid_mappings);
                free(m->gid_mappings);
        }
        free(spec->mounts);
        for (size_t k = 0; k < _SILO_HOOK_MAX; k++) {
                for (size_t i = 0; i < spec->n_hooks[k]; i++) {
                        free(spec->hooks[k][i].path);
                        silo_strv_free(spec->hooks[k][i].args);
                        silo_strv_free(spec->hooks[k][i].env);
                }
                free(spec->hooks[k]);
        }
        kv_free(spec->annotations, spec->n_annotations);
        linux_free(spec->linux_);
        free(spec);
}
