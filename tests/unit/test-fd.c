/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fd.c (path resolution inside an untrusted root) against hostile trees, once with openat2 and
 * once with the forced userspace walk; then, as root only, rootfs.c end to end in a forked
 * child with its own mount namespace (prepare + pivot + finalize on a tiny rootfs in /tmp).
 *
 * "Stays inside" is checked by st_dev/st_ino: what an fd refers to must be the expected file
 * below the root, never the decoy with the same name outside it.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <linux/magic.h>
#include <unistd.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include "runtime/error.h"
#include "runtime/fd.h"
#include "runtime/rootfs.h"
#include "runtime/util.h"
#include "tap.h"

static char base[64];
static char root[128];
static int rootfd = -1;

static void xwrite(const char *rel, const char *content)
{
        char p[512];
        FILE *f;

        snprintf(p, sizeof(p), "%s/%s", base, rel);
        f = fopen(p, "w");
        if (!f) {
                perror(p);
                exit(2);
        }
        fputs(content, f);
        fclose(f);
}

static void xmkdir(const char *rel)
{
        char p[512];

        snprintf(p, sizeof(p), "%s/%s", base, rel);
        if (mkdir(p, 0755) < 0 && errno != EEXIST) {
                perror(p);
                exit(2);
        }
}

static void xsymlink(const char *target, const char *rel)
{
        char p[512];

        snprintf(p, sizeof(p), "%s/%s", base, rel);
        if (symlink(target, p) < 0) {
                perror(p);
                exit(2);
        }
}

/* st_dev/st_ino of base/rel, or 0 when missing. */
static ino_t ino_of(const char *rel, dev_t *dev)
{
        char p[512];
        struct stat st;

        snprintf(p, sizeof(p), "%s/%s", base, rel);
        if (lstat(p, &st) < 0)
                return 0;
        if (dev)
                *dev = st.st_dev;
        return st.st_ino;
}

static bool fd_is(int fd, const char *rel)
{
        struct stat st;
        dev_t dev = 0;
        ino_t ino = ino_of(rel, &dev);

        if (fd < 0 || ino == 0 || fstat(fd, &st) < 0)
                return false;
        return st.st_ino == ino && st.st_dev == dev;
}

static bool exists(const char *rel)
{
        return ino_of(rel, NULL) != 0;
}

static void build_tree(void)
{
        char p[512];
        int i;

        strcpy(base, "/tmp/silo-test-fd-XXXXXX");
        if (!mkdtemp(base)) {
                perror("mkdtemp");
                exit(2);
        }
        snprintf(root, sizeof(root), "%s/root", base);
        /* Decoys outside the root with the same names as the files inside. */
        xmkdir("etc");
        xwrite("etc/passwd", "OUTSIDE\n");
        xmkdir("outside");
        xmkdir("root");
        xmkdir("root/etc");
        xwrite("root/etc/passwd", "inside\n");
        xmkdir("root/outside");
        xmkdir("root/a");
        xmkdir("root/a/b");
        xwrite("root/a/b/c", "c\n");
        xsymlink("/etc", "root/abs");                       /* absolute: must mean root/etc */
        xsymlink("../../../../../..", "root/up");           /* climbs: clamped at the root */
        xsymlink("../../../../etc/passwd", "root/upchain"); /* -> root/etc/passwd */
        xsymlink("loop2", "root/loop1");
        xsymlink("loop1", "root/loop2");
        xsymlink("../../..", "root/a/b/dotdot");          /* symlinked parent dir, above root */
        xsymlink("/a/b", "root/linkdir");                 /* symlinked parent dir, inside */
        xsymlink("../outside", "root/esc");               /* relative, would be base/outside */
        xsymlink("/../../outside/dangle", "root/dangle"); /* dangling, absolute */
        xsymlink("/proc/self/root", "root/magic");        /* magic link name inside the root */
        xsymlink("/etc/passwd", "root/passwdlink");
        /* chain of 30 and 45 symlinks: below and above the 40 limit */
        for (i = 0; i < 45; i++) {
                snprintf(p, sizeof(p), "root/chain%d", i);
                char t[32];
                if (i == 0)
                        snprintf(t, sizeof(t), "/etc/passwd");
                else
                        snprintf(t, sizeof(t), "chain%d", i - 1);
                xsymlink(t, p);
        }
        rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0) {
                perror(root);
                exit(2);
        }
}

static int open_r(const char *path, int flags, int *code, char **msg)
{
        silo_error_t err = NULL;
        int fd = silo_open_in_root(rootfd, path, flags, &err);

        if (code)
                *code = fd < 0 ? -fd : 0;
        if (msg)
                *msg = err ? strdup(err->msg) : NULL;
        silo_error_free(&err);
        return fd;
}

static void run_open_tests(const char *mode)
{
        int fd, code;
        char *msg = NULL;
        struct stat st;

        fd = open_r("/etc/passwd", O_RDONLY, NULL, NULL);
        ok(fd_is(fd, "root/etc/passwd"), "%s: /etc/passwd is root/etc/passwd", mode);
        if (fd >= 0) {
                char buf[16] = {0};
                ok(read(fd, buf, sizeof(buf) - 1) > 0 && strcmp(buf, "inside\n") == 0,
                   "%s: O_RDONLY fd reads the inside file", mode);
                close(fd);
        }
        fd = open_r("abs/passwd", O_RDONLY, NULL, NULL);
        ok(fd_is(fd, "root/etc/passwd"), "%s: absolute symlink /etc resolves in root", mode);
        close(fd);
        fd = open_r("../../../etc/passwd", O_RDONLY, NULL, NULL);
        ok(fd_is(fd, "root/etc/passwd"), "%s: leading ../.. clamped at root", mode);
        close(fd);
        fd = open_r("up/etc/passwd", O_PATH, NULL, NULL);
        ok(fd_is(fd, "root/etc/passwd"), "%s: ../../.. symlink clamped at root", mode);
        close(fd);
        fd = open_r("upchain", O_RDONLY, NULL, NULL);
        ok(fd_is(fd, "root/etc/passwd"), "%s: ../../../../etc/passwd symlink in root", mode);
        close(fd);
        fd = open_r("a/b/dotdot/etc/passwd", O_RDONLY, NULL, NULL);
        ok(fd_is(fd, "root/etc/passwd"), "%s: symlinked parent (../../..) clamped", mode);
        close(fd);
        fd = open_r("linkdir/c", O_RDONLY, NULL, NULL);
        ok(fd_is(fd, "root/a/b/c"), "%s: symlinked parent directory inside", mode);
        close(fd);
        fd = open_r("linkdir/../../etc/passwd", O_RDONLY, NULL, NULL);
        ok(fd_is(fd, "root/etc/passwd"), "%s: .. after a symlinked dir follows the target", mode);
        close(fd);
        fd = open_r("/", O_PATH | O_DIRECTORY, NULL, NULL);
        ok(fd_is(fd, "root"), "%s: '/' is the root", mode);
        close(fd);
        fd = open_r("..", O_RDONLY | O_DIRECTORY, NULL, NULL);
        ok(fd_is(fd, "root"), "%s: '..' is the root", mode);
        close(fd);
        fd = open_r("esc", O_PATH, NULL, NULL);
        ok(fd_is(fd, "root/outside"), "%s: ../outside symlink is root/outside", mode);
        close(fd);
        fd = open_r("loop1", O_RDONLY, &code, NULL);
        ok(fd < 0 && code == ELOOP, "%s: symlink loop -> ELOOP (got %d)", mode, code);
        fd = open_r("chain29", O_RDONLY, NULL, NULL);
        ok(fd_is(fd, "root/etc/passwd"), "%s: 30 nested symlinks resolve", mode);
        close(fd);
        fd = open_r("chain44", O_RDONLY, &code, NULL);
        ok(fd < 0 && code == ELOOP, "%s: 45 nested symlinks -> ELOOP (got %d)", mode, code);
        fd = open_r("magic/etc/passwd", O_RDONLY, &code, NULL);
        ok(fd < 0 && code == ENOENT, "%s: /proc/self/root symlink is looked up inside (got %d)", mode, code);
        fd = open_r("/nonexistent/x", O_RDONLY, &code, &msg);
        ok(fd < 0 && code == ENOENT && msg && strstr(msg, "'/nonexistent/x'"), "%s: ENOENT names path (%s)",
           mode, msg ? msg : "");
        free(msg);
        fd = open_r("etc/passwd/x", O_RDONLY, &code, NULL);
        ok(fd < 0 && code == ENOTDIR, "%s: file as a directory -> ENOTDIR (got %d)", mode, code);
        fd = open_r("abs", O_PATH | O_NOFOLLOW, NULL, NULL);
        ok(fd >= 0 && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode) && fd_is(fd, "root/abs"),
           "%s: O_PATH|O_NOFOLLOW returns the symlink itself", mode);
        close(fd);
        fd = open_r("abs", O_RDONLY | O_NOFOLLOW, &code, NULL);
        ok(fd < 0 && code == ELOOP, "%s: O_NOFOLLOW on a symlink -> ELOOP (got %d)", mode, code);
        fd = open_r("passwdlink", O_WRONLY | O_APPEND, NULL, NULL);
        ok(fd_is(fd, "root/etc/passwd"), "%s: O_WRONLY through an absolute symlink", mode);
        close(fd);
        fd = open_r("a/", O_PATH, NULL, NULL);
        ok(fd_is(fd, "root/a"), "%s: trailing slash", mode);
        close(fd);
        fd = open_r("a/b/c/", O_RDONLY, &code, NULL);
        ok(fd < 0 && code == ENOTDIR, "%s: trailing slash on a file -> ENOTDIR (got %d)", mode, code);
}

static int mk(bool dir, const char *path, mode_t mode, int *code, char **msg)
{
        silo_error_t err = NULL;
        int fd = dir ? silo_mkdir_in_root(rootfd, path, mode, &err)
                     : silo_mkfile_in_root(rootfd, path, mode, &err);

        if (code)
                *code = fd < 0 ? -fd : 0;
        if (msg)
                *msg = err ? strdup(err->msg) : NULL;
        silo_error_free(&err);
        return fd;
}

static void run_create_tests(const char *mode, const char *tag)
{
        char p[256], q[256];
        int fd, code;
        char *msg = NULL;
        struct stat st;

        snprintf(p, sizeof(p), "esc/%s/sub/dir", tag);
        fd = mk(true, p, 0755, NULL, NULL);
        snprintf(q, sizeof(q), "root/outside/%s/sub/dir", tag);
        ok(fd_is(fd, q), "%s: mkdir through ../outside symlink lands in root/outside", mode);
        snprintf(q, sizeof(q), "outside/%s", tag);
        ok(!exists(q), "%s: nothing created outside the root", mode);
        close(fd);
        fd = mk(true, p, 0755, NULL, NULL);
        snprintf(q, sizeof(q), "root/outside/%s/sub/dir", tag);
        ok(fd_is(fd, q), "%s: mkdir of an existing directory returns it", mode);
        close(fd);

        snprintf(p, sizeof(p), "up/up/%s-d", tag);
        fd = mk(true, p, 0700, NULL, NULL);
        snprintf(q, sizeof(q), "root/%s-d", tag);
        ok(fd_is(fd, q) && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode), "%s: mkdir via ../../.. clamped",
           mode);
        close(fd);

        fd = mk(true, "etc/passwd/x", 0755, &code, &msg);
        ok(fd < 0 && code == ENOTDIR && msg && strstr(msg, "mkdir 'etc/passwd/x' in rootfs"),
           "%s: mkdir below a file -> ENOTDIR naming the path (%s)", mode, msg ? msg : "");
        free(msg);
        fd = mk(true, "etc/passwd", 0755, &code, NULL);
        ok(fd < 0 && code == ENOTDIR, "%s: mkdir over a file -> ENOTDIR (got %d)", mode, code);
        fd = mk(true, "loop1/x", 0755, &code, NULL);
        ok(fd < 0 && code == ELOOP, "%s: mkdir through a symlink loop -> ELOOP (got %d)", mode, code);

        snprintf(p, sizeof(p), "/esc/%s-f/file", tag);
        fd = mk(false, p, 0600, NULL, NULL);
        snprintf(q, sizeof(q), "root/outside/%s-f/file", tag);
        ok(fd_is(fd, q) && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0600,
           "%s: mkfile creates parents and file inside, mode 0600", mode);
        snprintf(q, sizeof(q), "outside/%s-f", tag);
        ok(!exists(q), "%s: mkfile created nothing outside", mode);
        close(fd);
        fd = mk(false, "passwdlink", 0600, NULL, NULL);
        ok(fd_is(fd, "root/etc/passwd"), "%s: mkfile reuses an existing file via a symlink", mode);
        close(fd);
        fd = mk(false, "a/b", 0600, &code, NULL);
        ok(fd < 0 && code == EISDIR, "%s: mkfile on a directory -> EISDIR (got %d)", mode, code);
        if (strcmp(tag, "fb") == 0) /* the dangling link is consumed by the first run */
                unlink(strcat(strcpy(p, base), "/root/outside/dangle"));
        fd = mk(false, "dangle", 0644, NULL, NULL);
        ok(fd_is(fd, "root/outside/dangle"), "%s: mkfile through a dangling absolute symlink stays in", mode);
        ok(!exists("outside/dangle"), "%s: dangling target not created outside", mode);
        close(fd);
        fd = mk(false, "/", 0644, &code, NULL);
        ok(fd < 0 && code == EISDIR, "%s: mkfile '/' -> EISDIR", mode);
}

static void fd_tests(void)
{
        char buf[64];

        is_str(silo_fd_path(7, buf), "/proc/self/fd/7", "silo_fd_path");
        build_tree();
        silo_fd_force_fallback(false);
        run_open_tests("openat2");
        run_create_tests("openat2", "o2");
        silo_fd_force_fallback(true);
        run_open_tests("fallback");
        run_create_tests("fallback", "fb");
        silo_fd_force_fallback(false);
}

/* ---- root-only: rootfs.c end to end ---------------------------------------------------- */

/* The child reports "1 text" / "0 text" lines over a pipe; the parent turns them into TAP. */
static int report_fd = -1;

static void rep(bool c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rep(bool c, const char *fmt, ...)
{
        char line[1024];
        va_list ap;
        int n;

        n = snprintf(line, sizeof(line), "%d ", c ? 1 : 0);
        va_start(ap, fmt);
        n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
        va_end(ap);
        if (n > (int)sizeof(line) - 2)
                n = (int)sizeof(line) - 2;
        line[n++] = '\n';
        if (write(report_fd, line, (size_t)n) < 0)
                _exit(3);
}

static char rbase[64];
static pid_t main_pid; /* names the escape target; getppid() is 0 in a new pid ns */

static void rwrite(const char *rel, const char *content)
{
        char p[512];
        FILE *f;

        snprintf(p, sizeof(p), "%s/%s", rbase, rel);
        f = fopen(p, "w");
        if (!f) {
                perror(p);
                exit(2);
        }
        fputs(content, f);
        fclose(f);
}

static void rmk(const char *rel)
{
        char p[512];

        snprintf(p, sizeof(p), "%s/%s", rbase, rel);
        if (mkdir(p, 0755) < 0 && errno != EEXIST) {
                perror(p);
                exit(2);
        }
}

static void build_rootfs(void)
{
        char p[512], t[128];

        strcpy(rbase, "/tmp/silo-test-rootfs-XXXXXX");
        if (!mkdtemp(rbase)) {
                perror("mkdtemp");
                exit(2);
        }
        rmk("vol");
        rwrite("vol/file", "vol\n");
        rwrite("hostname", "bound-hostname\n");
        rmk("rootfs");
        rmk("rootfs/proc");
        rmk("rootfs/dev");
        rmk("rootfs/sys");
        rmk("rootfs/etc");
        rmk("rootfs/data");
        rmk("rootfs/ro");
        rmk("rootfs/maskdir");
        rmk("rootfs/tmp");
        rwrite("rootfs/etc/hostname", "image-hostname\n");
        rwrite("rootfs/etc/secret", "topsecret\n");
        rwrite("rootfs/ro/file", "ro\n");
        rwrite("rootfs/maskdir/x", "x\n");
        /* A mount destination that tries to climb out of the rootfs. */
        snprintf(t, sizeof(t), "/../../../../silo-escape-%d", (int)getpid());
        snprintf(p, sizeof(p), "%s/rootfs/evil", rbase);
        if (symlink(t, p) < 0) {
                perror(p);
                exit(2);
        }
        if (access("/bin/busybox", X_OK) == 0) {
                char cmd[600];
                rmk("rootfs/bin");
                snprintf(cmd, sizeof(cmd), "cp /bin/busybox '%s/rootfs/bin/busybox'", rbase);
                if (system(cmd) != 0)
                        printf("# copying busybox failed (not needed)\n");
        }
}

static struct silo_mount mk_mount(const char *dest, const char *type, const char *src, unsigned long flags,
                                  const char *data)
{
        struct silo_mount m = {0};

        m.destination = (char *)dest;
        m.type = (char *)type;
        m.source = (char *)src;
        m.flags = flags;
        m.data = (char *)data;
        m.bind = (flags & MS_BIND) != 0;
        return m;
}

static bool is_chr(const char *path, unsigned maj, unsigned min, mode_t mode)
{
        struct stat st;

        return lstat(path, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(maj, min) &&
               (mode == 0 || (st.st_mode & 07777) == mode);
}

static long fs_type(const char *path)
{
        struct statfs sfs;

        return statfs(path, &sfs) == 0 ? (long)sfs.f_type : -1;
}

static int create_errno(const char *path)
{
        int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);

        if (fd >= 0) {
                close(fd);
                unlink(path);
                return 0;
        }
        return errno;
}

static void rootfs_checks(int mode)
{
        bool fallback = mode != 0;
        struct stat st;
        struct statvfs sv;
        char buf[256] = {0}, p[128];
        int fd, e;
        ssize_t n;

        rep(is_chr("/dev/null", 1, 3, 0666), "/dev/null is char 1:3 mode 0666");
        rep(is_chr("/dev/zero", 1, 5, 0666) && is_chr("/dev/full", 1, 7, 0666) &&
                is_chr("/dev/random", 1, 8, 0666) && is_chr("/dev/urandom", 1, 9, 0666) &&
                is_chr("/dev/tty", 5, 0, 0666),
            "/dev/{zero,full,random,urandom,tty} are the default devices");
        if (mode == 3)
                rep(is_chr("/dev/fuse", 10, 229, 0), "linux.devices entry bound from the host");
        else
                rep(is_chr("/dev/mydev", 1, 3, 0600) && lstat("/dev/mydev", &st) == 0 && st.st_uid == 1 &&
                        st.st_gid == 2,
                    "linux.devices entry: mode 0600, owner 1:2");
        n = readlink("/dev/ptmx", buf, sizeof(buf) - 1);
        rep(n == 8 && memcmp(buf, "pts/ptmx", 8) == 0, "/dev/ptmx -> pts/ptmx");
        rep(is_chr("/dev/pts/ptmx", 5, 2, 0666), "/dev/pts/ptmx is a new devpts instance (ptmxmode=0666)");
        memset(buf, 0, sizeof(buf));
        n = readlink("/dev/fd", buf, sizeof(buf) - 1);
        rep(n > 0 && strcmp(buf, "/proc/self/fd") == 0, "/dev/fd -> /proc/self/fd");
        rep(lstat("/dev/console", &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0600,
            "/dev/console placeholder, mode 0600");
        rep(fs_type("/proc") == PROC_SUPER_MAGIC, "/proc is procfs");
        rep(fs_type("/dev") == TMPFS_MAGIC && fs_type("/dev/shm") == TMPFS_MAGIC,
            "/dev and /dev/shm are tmpfs");
        rep(fs_type("/dev/mqueue") == 0x19800202, "/dev/mqueue is mqueue");
        rep(fs_type("/sys") == SYSFS_MAGIC && statvfs("/sys", &sv) == 0 && (sv.f_flag & ST_RDONLY),
            "/sys is a read-only sysfs");
        rep(fs_type("/sys/fs/cgroup") == TMPFS_MAGIC || fs_type("/sys/fs/cgroup") == 0x63677270,
            "/sys/fs/cgroup mounted (tmpfs of v1 hierarchies, or cgroup2)");
        if (fs_type("/sys/fs/cgroup") == TMPFS_MAGIC) {
                rep(fs_type("/sys/fs/cgroup/memory") == CGROUP_SUPER_MAGIC,
                    "/sys/fs/cgroup/memory is cgroup v1");
                e = mkdir("/sys/fs/cgroup/memory/silo-test-x", 0755) < 0 ? errno : 0;
                rep(e == EROFS, "/sys/fs/cgroup/memory is read-only (errno %d)", e);
                rep(lstat("/sys/fs/cgroup/cpu", &st) == 0, "/sys/fs/cgroup/cpu exists (comount link or dir)");
        }
        e = create_errno("/data/newfile");
        rep(e == EROFS, "bind mount with ro: creating a file fails with EROFS (errno %d)", e);
        rep(statvfs("/data", &sv) == 0 && (sv.f_flag & ST_NOSUID) && (sv.f_flag & ST_RDONLY),
            "bind mount has nosuid and ro");
        fd = open("/data/file", O_RDONLY | O_CLOEXEC);
        memset(buf, 0, sizeof(buf));
        rep(fd >= 0 && read(fd, buf, sizeof(buf) - 1) == 4 && strcmp(buf, "vol\n") == 0,
            "bind source is visible");
        if (fd >= 0)
                close(fd);
        fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
        memset(buf, 0, sizeof(buf));
        rep(fd >= 0 && read(fd, buf, sizeof(buf) - 1) > 0 && strcmp(buf, "bound-hostname\n") == 0,
            "file bind mount over /etc/hostname");
        if (fd >= 0)
                close(fd);
        fd = open("/etc/hostname", O_WRONLY | O_CLOEXEC);
        e = fd < 0 ? errno : 0;
        rep(e == EROFS, "file bind mount is read-only (errno %d)", e);
        if (fd >= 0)
                close(fd);
        fd = open("/etc/secret", O_RDONLY | O_CLOEXEC);
        rep(fd >= 0 && read(fd, buf, sizeof(buf)) == 0, "masked file reads empty");
        if (fd >= 0)
                close(fd);
        rep(is_chr("/etc/secret", 1, 3, 0), "masked file is /dev/null");
        rep(is_chr("/proc/keys", 1, 3, 0), "/proc/keys masked");
        rep(fs_type("/maskdir") == TMPFS_MAGIC && access("/maskdir/x", F_OK) < 0,
            "masked dir is an empty tmpfs");
        e = create_errno("/maskdir/y");
        rep(e == EROFS, "masked dir is read-only (errno %d)", e);
        if (mode != 2) {
                e = create_errno("/rro/newfile");
                rep(e == EROFS, "rbind with rro: creating a file fails with EROFS (errno %d)", e);
        }
        e = create_errno("/ro/newfile");
        rep(e == EROFS, "readonly path: creating a file fails with EROFS (errno %d)", e);
        fd = open("/proc/sys/kernel/hostname", O_WRONLY | O_CLOEXEC);
        e = fd < 0 ? errno : 0;
        rep(e == EROFS, "readonly path /proc/sys: write open fails with EROFS (errno %d)", e);
        if (fd >= 0)
                close(fd);
        e = mkdir("/newdir", 0755) < 0 ? errno : 0;
        rep(e == EROFS, "'/' is read-only (errno %d)", e);
        rep(statvfs("/", &sv) == 0 && (sv.f_flag & ST_RDONLY), "'/' has ST_RDONLY");
        snprintf(p, sizeof(p), "/silo-escape-%d", (int)main_pid);
        rep(fs_type(p) == TMPFS_MAGIC, "mount on the escaping symlink landed inside the rootfs (%s)", p);
        rep(access(rbase, F_OK) < 0 && access("/rootfs", F_OK) < 0, "the old root is gone");
        rep(getcwd(buf, sizeof(buf)) && strcmp(buf, "/") == 0, "cwd is '/'");
        if (fallback) {
                /* these runs asked for rootfsPropagation rshared */
                _cleanup_free_ char *mi = NULL;
                silo_error_t err = NULL;
                bool shared = false;
                if (silo_read_file_at(AT_FDCWD, "/proc/self/mountinfo", 1 << 20, &mi, NULL, &err) == 0) {
                        char *line = mi;
                        while (line && *line) {
                                char *nl = strchr(line, '\n'), *f4;
                                int k;
                                if (nl)
                                        *nl = '\0';
                                for (k = 0, f4 = line; k < 4 && f4; k++) {
                                        f4 = strchr(f4, ' ');
                                        if (f4)
                                                f4++;
                                }
                                if (f4 && strncmp(f4, "/ ", 2) == 0 && strstr(f4, "shared:"))
                                        shared = true;
                                line = nl ? nl + 1 : NULL;
                        }
                }
                silo_error_free(&err);
                rep(shared, "rootfsPropagation rshared applied to '/'");
        }
}

/* Pretend to be an old kernel: the new mount API, mount_setattr, openat2 and statx fail ENOSYS.
 * (A raw filter: <seccomp.h> would resolve to runtime/seccomp.h with -Iruntime.) */
static bool old_kernel(void)
{
        static const int calls[] = {SYS_open_tree, SYS_move_mount, SYS_mount_setattr, SYS_fsopen,
                                    SYS_fsconfig,  SYS_fsmount,    SYS_openat2,       SYS_statx};
        struct sock_filter f[4 + 2 * ARRAY_SIZE(calls) + 1];
        struct sock_fprog prog = {.filter = f};
        size_t k, n = 0;

        f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
        f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
        f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
        f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
        for (k = 0; k < ARRAY_SIZE(calls); k++) {
                f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)calls[k], 0, 1);
                f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
        }
        f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
        prog.len = (unsigned short)n;
        return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == 0;
}

/*
 * Mode 3: a user namespace (uid/gid 0 mapped to 0, one id each), with new mount, pid and ipc
 * namespaces but the host's netns: no mknod (devices are bound from the host), sysfs is the
 * host's /sys rbound, and the mounts inherited from the host carry locked flags.
 */
static bool enter_userns(void)
{
        pid_t pid;
        int status;

        if (unshare(CLONE_NEWUSER) < 0) {
                /* user namespaces disabled (sysctl, seccomp of a CI container): not our bug */
                rep(true, "# SKIP unshare(CLONE_NEWUSER): %s", strerror(errno));
                _exit(0);
        }
        if (silo_write_file_at(AT_FDCWD, "/proc/self/setgroups", "deny", 4, NULL) < 0 ||
            silo_write_file_at(AT_FDCWD, "/proc/self/uid_map", "0 0 1", 5, NULL) < 0 ||
            silo_write_file_at(AT_FDCWD, "/proc/self/gid_map", "0 0 1", 5, NULL) < 0) {
                rep(false, "write id maps");
                return false;
        }
        if (unshare(CLONE_NEWPID | CLONE_NEWIPC) < 0) {
                rep(false, "unshare(CLONE_NEWPID|CLONE_NEWIPC): %s", strerror(errno));
                return false;
        }
        pid = fork(); /* the child is pid 1 of the new pid namespace, which proc needs */
        if (pid < 0)
                return false;
        if (pid == 0)
                return true;
        if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
                _exit(1);
        _exit(WEXITSTATUS(status));
}

static void rootfs_child(int mode)
{
        bool fallback = mode != 0;
        struct silo_mount mounts[11];
        struct silo_device dev = {
            .path = "/dev/mydev", .type = 'c', .major = 1, .minor = 3, .file_mode = 0600, .uid = 1, .gid = 2};
        char *masked[] = {"/etc/secret", "/maskdir", "/proc/keys", "/nonexistent", NULL};
        char *ro[] = {"/ro", "/proc/sys", NULL};
        struct silo_linux lx = {0};
        struct silo_process proc = {0};
        struct silo_spec spec = {0};
        struct silo_rootfs_opts o = {0};
        char rootfs[128], esc[64], hostfile[128];
        silo_error_t err = NULL;
        size_t n = 0;
        int r;

        silo_fd_force_fallback(mode == 1);
        if (mode == 3 && !enter_userns())
                _exit(1);
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                rep(false, "unshare(CLONE_NEWNS): %s", strerror(errno));
                _exit(1);
        }
        if (mode == 2 && !old_kernel()) {
                rep(false, "seccomp filter for the old-kernel emulation");
                _exit(1);
        }
        snprintf(rootfs, sizeof(rootfs), "%s/rootfs", rbase);
        snprintf(esc, sizeof(esc), "/evil");
        snprintf(hostfile, sizeof(hostfile), "%s/hostname", rbase);
        mounts[n++] = mk_mount("/proc", "proc", "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL);
        mounts[n++] = mk_mount("/dev", "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
        /* gid 5 is not mapped in the mode-3 user namespace (EINVAL), as for rootless runc */
        mounts[n++] = mk_mount("/dev/pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
                               mode == 3 ? "mode=0620" : "mode=0620,gid=5");
        mounts[n++] = mk_mount("dev/shm", "tmpfs", "shm", MS_NOSUID | MS_NOEXEC | MS_NODEV, "mode=1777");
        mounts[n++] = mk_mount("/dev/mqueue", "mqueue", "mqueue", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL);
        mounts[n++] = mk_mount("/sys", "sysfs", "sysfs", MS_RDONLY | MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL);
        mounts[n++] = mk_mount("/sys/fs/cgroup", "cgroup", "cgroup",
                               MS_RDONLY | MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL);
        mounts[n++] = mk_mount("/data/", "bind", "vol", MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID, NULL);
        mounts[n++] = mk_mount("/etc/../etc/hostname", NULL, hostfile, MS_BIND | MS_RDONLY, NULL);
        mounts[n++] = mk_mount(esc, "tmpfs", "tmpfs", 0, NULL);
        if (mode != 2) { /* "rbind,rro,rprivate": needs mount_setattr (5.12) */
                mounts[n] = mk_mount("/rro", NULL, "vol", MS_BIND | MS_REC, NULL);
                mounts[n].rec_attr_set = MOUNT_ATTR_RDONLY;
                mounts[n++].propagation = MS_PRIVATE | MS_REC;
        }
        spec.mounts = mounts;
        spec.n_mounts = n;
        spec.root.readonly = true;
        proc.terminal = true;
        spec.process = &proc;
        if (mode == 3) {
                /* A host node is bound in a user namespace: it has to exist on the host. */
                dev = (struct silo_device){.path = "/dev/fuse",
                                           .type = 'c',
                                           .major = 10,
                                           .minor = 229,
                                           .file_mode = SILO_UNSET,
                                           .uid = SILO_UNSET,
                                           .gid = SILO_UNSET};
                o.in_userns = true;
        }
        lx.devices = &dev;
        lx.n_devices = 1;
        lx.masked_paths = masked;
        lx.readonly_paths = ro;
        if (fallback) {
                lx.rootfs_propagation = "rshared";
                lx.rootfs_propagation_flags = MS_SHARED | MS_REC;
        }
        spec.linux_ = &lx;
        o.rootfs = rootfs;
        o.bundle = rbase;

        r = silo_rootfs_prepare(&spec, &o, &err);
        rep(r == 0, "silo_rootfs_prepare%s%s", err ? ": " : "", err ? err->msg : "");
        if (r < 0)
                _exit(1);
        r = silo_rootfs_pivot(&o, &err);
        rep(r == 0, "silo_rootfs_pivot%s%s", err ? ": " : "", err ? err->msg : "");
        if (r < 0)
                _exit(1);
        r = silo_rootfs_finalize(&spec, &err);
        rep(r == 0, "silo_rootfs_finalize%s%s", err ? ": " : "", err ? err->msg : "");
        if (r < 0)
                _exit(1);
        rootfs_checks(mode);
        _exit(0);
}

/* prepare with one bad mount: the error must name the field. */
static void rootfs_error_child(int which)
{
        struct silo_mount m;
        struct silo_spec spec = {0};
        struct silo_rootfs_opts o = {0};
        char rootfs[128];
        silo_error_t err = NULL;
        int r;

        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                _exit(1);
        snprintf(rootfs, sizeof(rootfs), "%s/rootfs", rbase);
        if (which == 0)
                m = mk_mount("/data", "bind", "does-not-exist", MS_BIND, NULL);
        else if (which == 1)
                m = mk_mount("/proc/acpi", "tmpfs", "tmpfs", 0, NULL);
        else
                m = mk_mount("/evil", "proc", "proc", 0, NULL);
        spec.mounts = &m;
        spec.n_mounts = 1;
        o.rootfs = rootfs;
        o.bundle = rbase;
        r = silo_rootfs_prepare(&spec, &o, &err);
        if (which == 0)
                rep(r < 0 && err && strstr(err->msg, "/mounts/0/source") &&
                        strstr(err->msg, "does-not-exist"),
                    "missing bind source: error names /mounts/0/source (%s)", err ? err->msg : "no error");
        else if (which == 1)
                rep(r < 0 && err && strstr(err->msg, "/mounts/0/destination"),
                    "mount inside /proc refused (%s)", err ? err->msg : "no error");
        else
                rep(r < 0 && err && strstr(err->msg, "symlink"), "proc onto a symlink refused (%s)",
                    err ? err->msg : "no error");
        _exit(0);
}

static void run_child(void (*fn)(int), int arg, const char *label)
{
        int pfd[2], status = 0;
        pid_t pid;
        FILE *f;
        char line[1100];

        if (pipe2(pfd, O_CLOEXEC) < 0) {
                ok(false, "%s: pipe", label);
                return;
        }
        fflush(stdout);
        pid = fork();
        if (pid == 0) {
                close(pfd[0]);
                report_fd = pfd[1];
                fn(arg);
                _exit(0);
        }
        close(pfd[1]);
        f = fdopen(pfd[0], "r");
        while (f && fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\n")] = '\0';
                ok(line[0] == '1', "%s: %s", label, line + 2);
        }
        if (f)
                fclose(f);
        waitpid(pid, &status, 0);
        ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: child exited cleanly (status 0x%x)", label,
           status);
}

static void rootfs_tests(void)
{
        char p[128], cmd[200];

        if (geteuid() != 0) {
                ok(true, "# SKIP rootfs tests need root");
                return;
        }
        main_pid = getpid();
        build_rootfs();
        run_child(rootfs_child, 0, "rootfs/openat2");
        snprintf(p, sizeof(p), "/silo-escape-%d", (int)getpid());
        ok(access(p, F_OK) < 0, "nothing created at host %s", p);
        /* The first run created the devices etc. in the image dirs only through tmpfs mounts; reuse it. */
        run_child(rootfs_child, 1, "rootfs/fallback");
        ok(access(p, F_OK) < 0, "nothing created at host %s (fallback)", p);
        /* Pre-5.2 mount API, pre-5.6 openat2, pre-5.12 mount_setattr: the legacy code paths. */
        run_child(rootfs_child, 2, "rootfs/old-kernel");
        ok(access(p, F_OK) < 0, "nothing created at host %s (old kernel)", p);
        run_child(rootfs_child, 3, "rootfs/userns");
        ok(access(p, F_OK) < 0, "nothing created at host %s (userns)", p);
        run_child(rootfs_error_child, 0, "rootfs/errors");
        run_child(rootfs_error_child, 1, "rootfs/errors");
        run_child(rootfs_error_child, 2, "rootfs/errors");
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", rbase);
        if (system(cmd) != 0)
                printf("# could not remove %s\n", rbase);
}

int main(void)
{
        fd_tests();
        rootfs_tests();
        {
                char cmd[128];
                snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
                if (system(cmd) != 0)
                        printf("# could not remove %s\n", base);
        }
        return done();
}
