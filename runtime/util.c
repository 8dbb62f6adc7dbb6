/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include "util.h"

void *silo_xmalloc0(size_t n)
{
        void *p = calloc(1, n ? n : 1);
        if (p == NULL)
                abort();
        return p;
}

void *silo_xrealloc(void *p, size_t n)
{
        p = realloc(p, n ? n : 1);
        if (p == NULL)
                abort();
        return p;
}

char *silo_xstrdup(const char *s)
{
        char *r;
        if (s == NULL)
                return NULL;
        r = strdup(s);
        if (r == NULL)
                abort();
        return r;
}

char *silo_xasprintf(const char *fmt, ...)
{
        va_list ap;
        char *s;
        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                abort();
        va_end(ap);
        return s;
}

static void buf_grow(struct silo_buf *b, size_t extra)
{
        if (b->len + extra + 1 <= b->cap)
                return;
        size_t cap = b->cap ? b->cap : 128;
        while (cap < b->len + extra + 1)
                cap *= 2;
        b->data = silo_xrealloc(b->data, cap);
        b->cap = cap;
}

void silo_buf_put(struct silo_buf *b, const void *p, size_t n)
{
        buf_grow(b, n);
        memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
}

void silo_buf_putc(struct silo_buf *b, char c)
{
        silo_buf_put(b, &c, 1);
}

void silo_buf_puts(struct silo_buf *b, const char *s)
{
        silo_buf_put(b, s, strlen(s));
}

void silo_buf_printf(struct silo_buf *b, const char *fmt, ...)
{
        va_list ap;
        int n;
        va_start(ap, fmt);
        n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        buf_grow(b, (size_t)n);
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
        b->len += (size_t)n;
}

void silo_buf_free(struct silo_buf *b)
{
        free(b->data);
        b->data = NULL;
        b->len = b->cap = 0;
}

void silo_strv_free(char **v)
{
        if (v == NULL)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}

size_t silo_strv_len(char *const *v)
{
        size_t n = 0;
        if (v)
                while (v[n])
                        n++;
        return n;
}

char **silo_strv_dup(char *const *v)
{
        size_t n = silo_strv_len(v);
        char **r = silo_xmalloc0((n + 1) * sizeof(char *));
        for (size_t i = 0; i < n; i++)
                r[i] = silo_xstrdup(v[i]);
        return r;
}

void silo_strv_push(char ***v, char *s)
{
        size_t n = silo_strv_len(*v);
        *v = silo_xrealloc(*v, (n + 2) * sizeof(char *));
        (*v)[n] = s;
        (*v)[n + 1] = NULL;
}

int silo_write_all(int fd, const void *buf, size_t n)
{
        const char *p = buf;
        while (n > 0) {
                ssize_t w = write(fd, p, n);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += w;
                n -= (size_t)w;
        }
        return 0;
}

pid_t silo_fork_socketpair(int type, int *ret_fd)
{
        int sv[2];
        pid_t pid;

        *ret_fd = -1;
        if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                int e = errno;
                close(sv[0]);
                close(sv[1]);
                return -e;
        }
        close(sv[pid == 0 ? 0 : 1]);
        *ret_fd = sv[pid == 0 ? 1 : 0];
        return pid;
}

int silo_read_fd(int fd, size_t max, char **ret, size_t *ret_len)
{
        struct silo_buf b = {0};
        char tmp[8192];

        for (;;) {
                ssize_t r = read(fd, tmp, sizeof(tmp));
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        int e = errno;
                        silo_buf_free(&b);
                        return -e;
                }
                if (r == 0)
                        break;
                if (b.len + (size_t)r > max) {
                        silo_buf_free(&b);
                        return -EFBIG;
                }
                silo_buf_put(&b, tmp, (size_t)r);
        }
        if (b.data == NULL)
                b.data = silo_xstrdup("");
        *ret = b.data;
        if (ret_len)
                *ret_len = b.len;
        return 0;
}

int silo_read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len, silo_error_t *err)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        int r;

        if (fd < 0)
                return silo_error_set(err, errno, "open '%s'", path);
        r = silo_read_fd(fd, max, ret, ret_len);
        if (r == -EFBIG)
                return silo_error_set(err, 0, "read '%s': file larger than %zu bytes", path, max);
        if (r < 0)
                return silo_error_set(err, -r, "read '%s'", path);
        return 0;
}

int silo_write_file_at(int dirfd, const char *path, const char *data, size_t len, silo_error_t *err)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        int r;

        if (fd < 0)
                return silo_error_set(err, errno, "open '%s'", path);
        r = silo_write_all(fd, data, len);
        if (r < 0)
                return silo_error_set(err, -r, "write '%s'", path);
        return 0;
}

int silo_write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                              silo_error_t *err)
{
        _cleanup_free_ char *tmp = NULL;
        const char *base = strrchr(name, '/');
        _cleanup_close_ int fd = -1;
        int r;

        if (base)
                tmp = silo_xasprintf("%.*s/.%s.%d.tmp", (int)(base - name), name, base + 1, (int)getpid());
        else
                tmp = silo_xasprintf(".%s.%d.tmp", name, (int)getpid());
        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return silo_error_set(err, errno, "create '%s'", tmp);
        r = silo_write_all(fd, data, len);
        if (r == 0 && fchmod(fd, mode) < 0)
                r = -errno;
        if (r < 0) {
                unlinkat(dirfd, tmp, 0);
                return silo_error_set(err, -r, "write '%s'", tmp);
        }
        if (renameat(dirfd, tmp, dirfd, name) < 0) {
                int e = errno;
                unlinkat(dirfd, tmp, 0);
                return silo_error_set(err, e, "rename '%s' to '%s'", tmp, name);
        }
        return 0;
}

int silo_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, silo_error_t *err)
{
        return silo_write_file_atomic_at(AT_FDCWD, path, data, len, mode, err);
}

static int rm_rf_children(int dfd, dev_t dev)
{
        _cleanup_closedir_ DIR *d = fdopendir(dfd);
        struct dirent *de;
        int ret = 0;

        if (d == NULL) {
                close(dfd);
                return -errno;
        }
        while ((de = readdir(d)) != NULL) {
                struct stat st;
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (S_ISDIR(st.st_mode)) {
                        if (st.st_dev != dev) {
                                ret = -EBUSY; /* a mount point: never descend */
                                continue;
                        }
                        int cfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (cfd >= 0) {
                                int r = rm_rf_children(cfd, dev);
                                if (r < 0)
                                        ret = r;
                        }
                        if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0 && ret == 0)
                                ret = -errno;
                } else if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT && ret == 0) {
                        ret = -errno;
                }
        }
        return ret;
}

int silo_rm_rf_at(int dirfd, const char *name)
{
        struct stat st;
        int fd, r;

        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return unlinkat(dirfd, name, 0) < 0 ? -errno : 0;
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = rm_rf_children(fd, st.st_dev);
        if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return r < 0 ? r : -errno;
        return r;
}

int silo_parse_u64(const char *s, uint64_t *ret)
{
        char *end;
        unsigned long long v;
        if (s == NULL || *s == '\0' || *s == '-' || *s == '+' || *s == ' ')
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || *end)
                return -EINVAL;
        *ret = v;
        return 0;
}

int silo_parse_i64(const char *s, int64_t *ret)
{
        char *end;
        long long v;
        if (s == NULL || *s == '\0' || *s == ' ')
                return -EINVAL;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno || *end)
                return -EINVAL;
        *ret = v;
        return 0;
}

bool silo_str_has_prefix(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

void silo_rfc3339_now(char *buf, size_t n)
{
        struct timespec ts;
        struct tm tm;
        char tmp[32];

        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf, n, "%s.%09ldZ", tmp, ts.tv_nsec);
}

unsigned long long silo_proc_start_time(pid_t pid)
{
        char path[64], buf[1024];
        _cleanup_close_ int fd = -1;
        ssize_t n;
        char *p;
        unsigned long long st = 0;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return 0;
        buf[n] = '\0';
        /* comm may contain spaces and parentheses: fields start after the last ')' */
        p = strrchr(buf, ')');
        if (p == NULL || p[1] == '\0')
                return 0;
        p += 2; /* now at field 3 (state) */
        if (*p == 'Z' || *p == 'X')
                return 0;
        for (int field = 3; field < 22 && p; field++) {
                p = strchr(p, ' ');
                if (p)
                        p++;
        }
        if (p)
                st = strtoull(p, NULL, 10);
        return st;
}

bool silo_proc_alive(pid_t pid, unsigned long long start_time)
{
        unsigned long long st;
        if (pid <= 0)
                return false;
        st = silo_proc_start_time(pid);
        if (st == 0)
                return false;
        return start_time == 0 || st == start_time;
}

bool silo_id_valid(const char *id)
{
        size_t n = 0;
        if (id == NULL || *id == '\0' || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
                return false;
        for (const char *p = id; *p; p++, n++) {
                char c = *p;
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                      c == '+' || c == '.' || c == '-'))
                        return false;
        }
        return n <= 1024;
}

int silo_loopback_up(void)
{
        struct ifreq ifr = {0};
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = -1, e;

        if (fd < 0)
                return -1;
        strcpy(ifr.ifr_name, "lo");
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
                ifr.ifr_flags |= IFF_UP;
                r = ioctl(fd, SIOCSIFFLAGS, &ifr);
        }
        e = errno;
        close(fd);
        errno = e;
        return r;
}

/* mountinfo's octal escapes ("\040" for a space) decoded in place. */
void silo_mountinfo_unescape(char *s)
{
        char *o = s;

        for (; *s; s++) {
                if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
                    s[3] <= '7') {
                        *o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
                        s += 3;
                } else {
                        *o++ = *s;
                }
        }
        *o = '\0';
}
