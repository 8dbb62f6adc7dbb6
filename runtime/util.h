/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Base helpers shared by every module: cleanup attributes (systemd naming), a growable
 * buffer, NULL-terminated string vectors, whole-file I/O on fds, and small parsers.
 * Nothing here logs or allocates an error except the *_at file helpers, which take err.
 */
#ifndef SILO_UTIL_H
#define SILO_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <dirent.h>
#include <unistd.h>
#include "error.h"

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(silo_freep)
#define _cleanup_close_ _cleanup_(silo_closep)
#define _cleanup_fclose_ _cleanup_(silo_fclosep)
#define _cleanup_closedir_ _cleanup_(silo_closedirp)
#define _cleanup_strv_free_ _cleanup_(silo_strv_freep)
#define _unused_ __attribute__((unused))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void silo_freep(void *p)
{
        free(*(void **)p);
}
static inline void silo_closep(int *fd)
{
        if (*fd >= 0)
                close(*fd);
}
static inline void silo_fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}
static inline void silo_closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}
void silo_strv_free(char **v);
static inline void silo_strv_freep(char ***v)
{
        silo_strv_free(*v);
}

/* Hand over ownership: returns the value and resets the variable so cleanup does nothing. */
#define TAKE_FD(fd)                                                                                          \
        ({                                                                                                   \
                int _fd_ = (fd);                                                                             \
                (fd) = -1;                                                                                   \
                _fd_;                                                                                        \
        })
#define TAKE_PTR(p)                                                                                          \
        ({                                                                                                   \
                __typeof__(p) _p_ = (p);                                                                     \
                (p) = NULL;                                                                                  \
                _p_;                                                                                         \
        })

void *silo_xmalloc0(size_t n);              /* aborts on OOM: allocation failure is not recoverable here */
void *silo_xrealloc(void *p, size_t n);
char *silo_xstrdup(const char *s);           /* NULL-safe */
char *silo_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Growable byte buffer, always NUL-terminated. */
struct silo_buf {
        char *data;
        size_t len, cap;
};
void silo_buf_putc(struct silo_buf *b, char c);
void silo_buf_puts(struct silo_buf *b, const char *s);
void silo_buf_put(struct silo_buf *b, const void *p, size_t n);
void silo_buf_printf(struct silo_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void silo_buf_free(struct silo_buf *b);

/* NULL-terminated string vectors. */
size_t silo_strv_len(char *const *v);
char **silo_strv_dup(char *const *v);
void silo_strv_push(char ***v, char *s); /* takes ownership of s */

/* I/O */
int silo_write_all(int fd, const void *buf, size_t n);
/* Read a whole file (opened relative to dirfd, O_CLOEXEC) with a size cap; NUL-terminated. */
int silo_read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len, silo_error_t *err);
int silo_read_fd(int fd, size_t max, char **ret, size_t *ret_len);
/* fork() with a connected, CLOEXEC socketpair of `type` (SOCK_STREAM, SOCK_SEQPACKET): returns
 * the pid in the parent and 0 in the child, each with its own end in *ret_fd (the other end is
 * closed); -errno on failure, nothing left open. */
pid_t silo_fork_socketpair(int type, int *ret_fd);
/* Write a small file that must already exist (cgroup, proc files).  No O_CREAT. */
int silo_write_file_at(int dirfd, const char *path, const char *data, size_t len, silo_error_t *err);
/* Write tmp file + fsync-less rename in the same directory.  Mode as given. */
int silo_write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                              silo_error_t *err);
/* Atomic write of an absolute/relative path (pid files). */
int silo_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, silo_error_t *err);
/* rm -rf on a directory relative to dirfd; never crosses mount points. */
int silo_rm_rf_at(int dirfd, const char *name);

/* Parsing */
int silo_parse_u64(const char *s, uint64_t *ret);  /* decimal only, whole string */
int silo_parse_i64(const char *s, int64_t *ret);
bool silo_str_has_prefix(const char *s, const char *prefix);
/* mountinfo's octal escapes ("\040" for a space) decoded in place */
void silo_mountinfo_unescape(char *s);

/* Time: "2026-01-02T03:04:05.123456789Z" */
void silo_rfc3339_now(char *buf, size_t n);

/* /proc/<pid>/stat field 22 (start time in clock ticks); 0 when the process is gone. */
unsigned long long silo_proc_start_time(pid_t pid);
/* True when pid exists, is not a zombie and (if start_time != 0) has that start time. */
bool silo_proc_alive(pid_t pid, unsigned long long start_time);

/* `ip link set lo up` in the caller's network namespace (a fresh one, where lo starts down):
 * 0, or -1 with errno.  Only ioctls on a socket: usable in a forked child. */
int silo_loopback_up(void);

/* Container ID check (runc): non-empty, [A-Za-z0-9_+.-], not "." or "..", at most 1024 bytes. */
bool silo_id_valid(const char *id);

#endif
