/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * silo-testinit: the container program used by the integration tests.
 *
 * The test rootfs holds nothing but this binary (no shell, no libc, no /bin), so it is linked
 * statically and depends on libc only.  One binary, many sub-commands:
 *
 *     silo-testinit CMD [ARGS...]
 *
 * Every command prints its result on stdout, one fact per line, in a format that is easy to
 * compare from bash (see usage() below).  Success exits 0; a failure prints "silo-testinit: ..."
 * on stderr and exits non-zero (the "false" and "exit N" commands excepted, on purpose).
 *
 * Invariants:
 *  - The program never opens a file descriptor it leaves open across the commands that report
 *    on fds ("fds" reads /proc/self/fd through a DIR whose own fd it skips), so what "fds"
 *    prints is exactly what the runtime handed over.
 *  - Long-running commands (pause, spawn, signal-report) install a SIGTERM handler: as PID 1 of
 *    a pid namespace a process without a handler ignores SIGTERM, and the kill tests need a
 *    container that stops on SIGTERM like a well-behaved service.
 *  - stdout is line-buffered explicitly, so a test polling a log file sees each line as soon as
 *    it is produced even when stdout is a regular file or a pipe.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *prog = "silo-testinit";

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
        va_list ap;

        fflush(stdout);
        fprintf(stderr, "%s: ", prog);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        exit(1);
}

/* "EPERM" for errno values; glibc >= 2.32 knows every name. */
static const char *errno_name(int e)
{
        const char *n = strerrorname_np(e);
        return n ? n : "E?";
}

static void need_args(int argc, int n, const char *usage_line)
{
        if (argc < n)
                die("usage: %s %s", prog, usage_line);
}

static long parse_long(const char *s, const char *what)
{
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 0);
        if (errno || end == s || *end)
                die("invalid %s '%s'", what, s);
        return v;
}

/* Copy a whole file (or fd) to stdout. */
static int copy_fd(int fd)
{
        char buf[8192];
        ssize_t n;

        while ((n = read(fd, buf, sizeof(buf))) != 0) {
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                fwrite(buf, 1, (size_t)n, stdout);
        }
        return 0;
}

static void cat_path(const char *path)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        int r;

        if (fd < 0)
                die("open '%s': %s", path, strerror(errno));
        r = copy_fd(fd);
        close(fd);
        if (r < 0)
                die("read '%s': %s", path, strerror(-r));
}

/* Print the lines of /proc/self/status whose key starts with one of the given prefixes. */
static void status_fields(const char *const *keys)
{
        FILE *f = fopen("/proc/self/status", "re");
        char line[512];
        int found = 0;

        if (f == NULL)
                die("open /proc/self/status: %s", strerror(errno));
        while (fgets(line, sizeof(line), f)) {
                for (const char *const *k = keys; *k; k++) {
                        if (strncmp(line, *k, strlen(*k)) == 0) {
                                fputs(line, stdout);
                                found++;
                        }
                }
        }
        fclose(f);
        if (!found)
                die("field %s not found in /proc/self/status", keys[0]);
}

/* Only the value of one /proc/self/status field ("Seccomp:\t2" -> "2"). */
static void status_value(const char *key)
{
        FILE *f = fopen("/proc/self/status", "re");
        char line[512];
        size_t kl = strlen(key);

        if (f == NULL)
                die("open /proc/self/status: %s", strerror(errno));
        while (fgets(line, sizeof(line), f)) {
                if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
                        char *v = line + kl + 1;
                        while (*v == ' ' || *v == '\t')
                                v++;
                        fputs(v, stdout);
                        fclose(f);
                        return;
                }
        }
        fclose(f);
        die("field %s not found in /proc/self/status", key);
}

static const struct {
        const char *name;
        int res;
} rlimits[] = {
        {"AS", RLIMIT_AS},           {"CORE", RLIMIT_CORE},         {"CPU", RLIMIT_CPU},
        {"DATA", RLIMIT_DATA},       {"FSIZE", RLIMIT_FSIZE},       {"LOCKS", RLIMIT_LOCKS},
        {"MEMLOCK", RLIMIT_MEMLOCK}, {"MSGQUEUE", RLIMIT_MSGQUEUE}, {"NICE", RLIMIT_NICE},
        {"NOFILE", RLIMIT_NOFILE},   {"NPROC", RLIMIT_NPROC},       {"RSS", RLIMIT_RSS},
        {"RTPRIO", RLIMIT_RTPRIO},   {"RTTIME", RLIMIT_RTTIME},     {"SIGPENDING", RLIMIT_SIGPENDING},
        {"STACK", RLIMIT_STACK},
};

static void print_rlim(rlim_t v)
{
        if (v == RLIM_INFINITY)
                fputs("unlimited", stdout);
        else
                printf("%llu", (unsigned long long)v);
}

static const char *file_type(mode_t m)
{
        switch (m & S_IFMT) {
        case S_IFREG:
                return "reg";
        case S_IFDIR:
                return "dir";
        case S_IFCHR:
                return "chr";
        case S_IFBLK:
                return "blk";
        case S_IFLNK:
                return "lnk";
        case S_IFIFO:
                return "fifo";
        case S_IFSOCK:
                return "sock";
        }
        return "unknown";
}

static volatile sig_atomic_t got_term;

static void on_term(int sig)
{
        got_term = 1;
}

static void install_term_handler(void)
{
        struct sigaction sa = {.sa_handler = on_term};

        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
}

/* pause: sleep until SIGTERM, then exit 0.  Other default-fatal signals still kill us. */
static int cmd_pause(void)
{
        install_term_handler();
        while (!got_term)
                pause();
        return 0;
}

/* spawn N: fork N children that pause, print their pids, then behave like "pause".  N is capped
 * so that a broken test can never turn this into a fork bomb. */
static int cmd_spawn(long n)
{
        if (n < 0 || n > 64)
                die("spawn: N must be between 0 and 64");
        install_term_handler();
        for (long i = 0; i < n; i++) {
                pid_t p;

                fflush(stdout);
                p = fork();
                if (p < 0)
                        die("fork: %s", strerror(errno));
                if (p == 0) {
                        /* children: plain pause, terminated by whatever signal the test sends */
                        for (;;)
                                pause();
                }
                printf("%d\n", (int)p);
        }
        printf("spawned %ld\n", n);
        fflush(stdout);
        while (!got_term) {
                pause();
                while (waitpid(-1, NULL, WNOHANG) > 0)
                        ;
        }
        return 0;
}

/* signal-report: print "ready", then the name of each signal received ("SIGUSR1"), one per line;
 * exit 0 after SIGTERM.  Signals are blocked and collected with sigwaitinfo so no handler races. */
static int cmd_signal_report(void)
{
        sigset_t all;

        sigfillset(&all);
        sigdelset(&all, SIGKILL);
        sigdelset(&all, SIGSTOP);
        /* leave the synchronous fault signals alone: blocking them makes a real fault fatal anyway */
        sigdelset(&all, SIGSEGV);
        sigdelset(&all, SIGBUS);
        sigdelset(&all, SIGILL);
        sigdelset(&all, SIGFPE);
        if (sigprocmask(SIG_BLOCK, &all, NULL) < 0)
                die("sigprocmask: %s", strerror(errno));
        printf("ready\n");
        fflush(stdout);
        for (;;) {
                siginfo_t si;
                int s = sigwaitinfo(&all, &si);
                const char *abbr;

                if (s < 0) {
                        if (errno == EINTR)
                                continue;
                        die("sigwaitinfo: %s", strerror(errno));
                }
                abbr = sigabbrev_np(s);
                if (abbr)
                        printf("SIG%s\n", abbr);
                else if (s >= SIGRTMIN && s <= SIGRTMAX)
                        printf("SIGRTMIN+%d\n", s - SIGRTMIN);
                else
                        printf("SIG%d\n", s);
                fflush(stdout);
                if (s == SIGTERM)
                        return 0;
        }
}

/* syscall-errno NAME [ARG]: make one raw system call and print "0" on success or the errno name.
 * Raw syscall() so that libc fallbacks (e.g. getcwd emulation) cannot hide a seccomp errno. */
static int cmd_syscall_errno(int argc, char **argv)
{
        const char *name = argv[0];
        const char *arg = argc > 1 ? argv[1] : NULL;
        char buf[PATH_MAX];
        long r;

        errno = 0;
        if (strcmp(name, "getcwd") == 0)
                r = syscall(SYS_getcwd, buf, sizeof(buf));
        else if (strcmp(name, "mkdir") == 0)
                r = syscall(SYS_mkdirat, AT_FDCWD, arg ? arg : "/tmp/silo-testinit.d", 0755);
        else if (strcmp(name, "chdir") == 0)
                r = syscall(SYS_chdir, arg ? arg : "/");
        else if (strcmp(name, "uname") == 0) {
                struct utsname u;
                r = syscall(SYS_uname, &u);
        } else if (strcmp(name, "getpid") == 0)
                r = syscall(SYS_getpid);
        else if (strcmp(name, "getppid") == 0)
                r = syscall(SYS_getppid);
        else if (strcmp(name, "personality") == 0)
                r = syscall(SYS_personality, arg ? (unsigned long)parse_long(arg, "persona") : 0xffffffffUL);
        else if (strcmp(name, "sethostname") == 0)
                r = syscall(SYS_sethostname, arg ? arg : "x", arg ? strlen(arg) : 1);
        else if (strcmp(name, "unshare") == 0)
                r = syscall(SYS_unshare, arg ? parse_long(arg, "flags") : 0L);
        else if (strcmp(name, "umask") == 0)
                r = syscall(SYS_umask, arg ? parse_long(arg, "mask") : 022L);
        else if (strcmp(name, "setuid") == 0)
                r = syscall(SYS_setuid, arg ? parse_long(arg, "uid") : 0L);
        else if (strcmp(name, "dup") == 0)
                r = syscall(SYS_dup, arg ? parse_long(arg, "fd") : 0L);
        else if (strcmp(name, "chmod") == 0)
                r = syscall(SYS_fchmodat, AT_FDCWD, arg ? arg : "/", 0755);
        else if (strcmp(name, "mount") == 0)
                r = syscall(SYS_mount, "none", arg ? arg : "/tmp", "tmpfs", 0UL, NULL);
        else if (strcmp(name, "kill") == 0)
                r = syscall(SYS_kill, (long)getpid(), arg ? parse_long(arg, "signal") : 0L);
        else
                die("syscall-errno: unknown syscall '%s'", name);
        if (r < 0)
                printf("%s\n", errno_name(errno));
        else
                printf("0\n");
        return 0;
}

static int cmd_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;
        int self;

        if (d == NULL)
                die("opendir /proc/self/fd: %s", strerror(errno));
        self = dirfd(d);
        while ((de = readdir(d)) != NULL) {
                char path[64], target[PATH_MAX];
                ssize_t n;
                int fd;

                if (de->d_name[0] == '.')
                        continue;
                fd = atoi(de->d_name);
                if (fd == self)
                        continue;
                snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
                n = readlink(path, target, sizeof(target) - 1);
                if (n < 0)
                        snprintf(target, sizeof(target), "?%s", errno_name(errno));
                else
                        target[n] = '\0';
                printf("%d %s\n", fd, target);
        }
        closedir(d);
        return 0;
}

static int cmd_id(void)
{
        gid_t groups[NGROUPS_MAX];
        int n = getgroups(NGROUPS_MAX, groups);

        if (n < 0)
                die("getgroups: %s", strerror(errno));
        printf("uid=%u gid=%u groups=", (unsigned)getuid(), (unsigned)getgid());
        for (int i = 0; i < n; i++)
                printf("%s%u", i ? "," : "", (unsigned)groups[i]);
        printf("\n");
        return 0;
}

static int cmd_rlimit(const char *name)
{
        struct rlimit rl;

        if (strncasecmp(name, "RLIMIT_", 7) == 0)
                name += 7;
        for (size_t i = 0; i < sizeof(rlimits) / sizeof(rlimits[0]); i++) {
                if (strcasecmp(rlimits[i].name, name) != 0)
                        continue;
                if (getrlimit(rlimits[i].res, &rl) < 0)
                        die("getrlimit %s: %s", name, strerror(errno));
                print_rlim(rl.rlim_cur);
                putchar(' ');
                print_rlim(rl.rlim_max);
                putchar('\n');
                return 0;
        }
        die("unknown rlimit '%s'", name);
}

static int cmd_stat(const char *path)
{
        struct stat st;

        if (lstat(path, &st) < 0)
                die("stat '%s': %s", path, strerror(errno));
        printf("type=%s mode=%04o rdev=%u:%u uid=%u gid=%u\n", file_type(st.st_mode),
               (unsigned)(st.st_mode & 07777), major(st.st_rdev), minor(st.st_rdev), (unsigned)st.st_uid,
               (unsigned)st.st_gid);
        return 0;
}

/* access PATH MODE: MODE is any of "rwx" or "f" (existence).  Prints "ok" or the errno name;
 * exit status 0 only for "ok". */
static int cmd_access(const char *path, const char *mode)
{
        int m = 0;

        for (const char *p = mode; *p; p++) {
                switch (*p) {
                case 'r':
                        m |= R_OK;
                        break;
                case 'w':
                        m |= W_OK;
                        break;
                case 'x':
                        m |= X_OK;
                        break;
                case 'f':
                        break;
                default:
                        die("access: bad mode '%s' (use r, w, x, f)", mode);
                }
        }
        if (access(path, m) < 0) {
                printf("%s\n", errno_name(errno));
                return 1;
        }
        printf("ok\n");
        return 0;
}

/* open-write PATH: try to open PATH for writing (no O_CREAT); print "ok" or the errno name. */
static int cmd_open_write(const char *path)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);

        if (fd < 0) {
                printf("%s\n", errno_name(errno));
                return 1;
        }
        close(fd);
        printf("ok\n");
        return 0;
}

static int cmd_open_read(const char *path)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

        if (fd < 0) {
                printf("%s\n", errno_name(errno));
                return 1;
        }
        close(fd);
        printf("ok\n");
        return 0;
}

/* mknod PATH c|b MAJ MIN: "ok" or the errno name */
static int cmd_mknod(const char *path, const char *type, long maj, long min)
{
        mode_t t = strcmp(type, "b") == 0 ? S_IFBLK : S_IFCHR;

        if (mknod(path, t | 0666, makedev((unsigned)maj, (unsigned)min)) < 0) {
                printf("%s\n", errno_name(errno));
                return 1;
        }
        printf("ok\n");
        return 0;
}

/* memhog MB [pause]: allocate and touch MB MiB of anonymous memory (progress every 8 MiB), then
 * exit 0, or with "pause" keep it and wait to be killed */
static int cmd_memhog(long mb, bool hold)
{
        const size_t chunk = 1 << 20;

        if (mb < 0)
                die("memhog: MB must be >= 0");
        for (long i = 0; i < mb; i++) {
                char *p = malloc(chunk);
                if (p == NULL)
                        die("memhog: malloc: %s", strerror(errno));
                memset(p, 0x5a, chunk); /* touch every page: it is charged now */
                if ((i + 1) % 8 == 0)
                        printf("allocated %ld MiB\n", i + 1);
        }
        printf("memhog done %ld MiB\n", mb);
        if (hold)
                return cmd_pause();
        return 0;
}

/*
 * memcheck MB FILE: memory whose content is checked over and over, for moves of a process
 * (checkpoint/restore, migrate): MB MiB where every 8-byte word holds a function of its index
 * ("cold": written once), its first 64 pages rewritten each generation ("hot": dirty in every
 * dump), and a 64 KiB region added every 10 generations (memory newer than any earlier dump).
 * Each generation rewrites the hot pages, checks every word, then writes "gen N ok" to FILE; a
 * wrong word writes "BAD ..." there and the process stops changing anything (pause).
 */
static uint64_t mc_word(uint64_t i, uint64_t salt)
{
        return (i + 1) * 0x9e3779b97f4a7c15ull ^ salt;
}

static void mc_report(const char *file, const char *fmt, ...)
{
        char buf[256];
        va_list ap;
        int fd, n;

        va_start(ap, fmt);
        n = vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
                (void)!write(fd, buf, (size_t)n);
                close(fd);
        }
}

static int cmd_memcheck(long mb, const char *file)
{
        const uint64_t words = (uint64_t)mb << 17, hot = 64 * 4096 / 8, extra_words = 65536 / 8;
        uint64_t *m, *extra[64];
        unsigned nextra = 0;

        if (mb <= 0 || mb > 4096)
                die("memcheck: MB must be 1..4096");
        /* MAP_NORESERVE: the regions added later never merge into this mapping (a merge marks the
         * whole of it soft-dirty, which every later dump would then take again) */
        m = mmap(NULL, (size_t)mb << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED)
                die("memcheck: mmap: %s", strerror(errno));
        for (uint64_t i = 0; i < words; i++)
                m[i] = mc_word(i, 0);
        for (uint64_t gen = 1;; gen++) {
                if (gen % 10 == 0 && nextra < 64) {
                        uint64_t *x = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                        if (x == MAP_FAILED)
                                die("memcheck: mmap: %s", strerror(errno));
                        for (uint64_t i = 0; i < extra_words; i++)
                                x[i] = mc_word(i, nextra + 1);
                        extra[nextra++] = x;
                }
                for (uint64_t i = 0; i < hot && i < words; i++)
                        m[i] = mc_word(i, gen << 32);
                for (uint64_t i = 0; i < words; i++) {
                        uint64_t want = mc_word(i, i < hot ? gen << 32 : 0);
                        if (m[i] != want) {
                                mc_report(file, "BAD gen %llu word %llu: %#llx, not %#llx\n", (unsigned long long)gen,
                                          (unsigned long long)i, (unsigned long long)m[i],
                                          (unsigned long long)want);
                                return cmd_pause();
                        }
                }
                for (unsigned k = 0; k < nextra; k++)
                        for (uint64_t i = 0; i < extra_words; i++)
                                if (extra[k][i] != mc_word(i, k + 1)) {
                                        mc_report(file, "BAD gen %llu region %u word %llu\n",
                                                  (unsigned long long)gen, k, (unsigned long long)i);
                                        return cmd_pause();
                                }
                mc_report(file, "gen %llu ok\n", (unsigned long long)gen);
                usleep(20000);
        }
}

/* forkbomb N: fork pausing children until fork fails or N exist; print "forkbomb K ERRNO"
 * (ERRNO "none" when all N were forked), then wait to be killed */
static int cmd_forkbomb(long n)
{
        long k = 0;
        const char *why = "none";

        install_term_handler();
        for (; k < n; k++) {
                pid_t p;
                fflush(stdout);
                p = fork();
                if (p < 0) {
                        why = errno_name(errno);
                        break;
                }
                if (p == 0)
                        for (;;)
                                pause();
        }
        printf("forkbomb %ld %s\n", k, why);
        fflush(stdout);
        while (!got_term) {
                pause();
                while (waitpid(-1, NULL, WNOHANG) > 0)
                        ;
        }
        return 0;
}

/* spin N: N processes (this one and N-1 children) burning CPU until killed */
static int cmd_spin(long n)
{
        volatile unsigned long x = 0;

        for (long i = 1; i < n; i++) {
                pid_t p = fork();
                if (p < 0)
                        die("spin: fork: %s", strerror(errno));
                if (p == 0)
                        break;
        }
        for (;;)
                x++;
        return 0;
}

static int cmd_sysctl(const char *name)
{
        char path[PATH_MAX];
        size_t n;

        n = (size_t)snprintf(path, sizeof(path), "/proc/sys/%s", name);
        if (n >= sizeof(path))
                die("sysctl name too long");
        for (char *p = path + strlen("/proc/sys/"); *p; p++)
                if (*p == '.')
                        *p = '/';
        cat_path(path);
        return 0;
}

/* write FILE DATA: create/truncate FILE with DATA (no newline added); DATA "-" copies stdin. */
static int cmd_write(const char *path, const char *data)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);

        if (fd < 0)
                die("open '%s': %s", path, strerror(errno));
        if (strcmp(data, "-") == 0) {
                char buf[8192];
                ssize_t n;
                while ((n = read(0, buf, sizeof(buf))) > 0)
                        if (write(fd, buf, (size_t)n) != n)
                                die("write '%s': %s", path, strerror(errno));
        } else {
                size_t len = strlen(data);
                if (write(fd, data, len) != (ssize_t)len)
                        die("write '%s': %s", path, strerror(errno));
        }
        if (close(fd) < 0)
                die("close '%s': %s", path, strerror(errno));
        return 0;
}

static int cmd_ls(const char *path)
{
        struct dirent **list;
        int n = scandir(path, &list, NULL, alphasort);

        if (n < 0)
                die("scandir '%s': %s", path, strerror(errno));
        for (int i = 0; i < n; i++) {
                if (strcmp(list[i]->d_name, ".") && strcmp(list[i]->d_name, ".."))
                        printf("%s\n", list[i]->d_name);
                free(list[i]);
        }
        free(list);
        return 0;
}

static int cmd_sleep(const char *secs)
{
        char *end;
        double d = strtod(secs, &end);
        struct timespec ts;

        if (end == secs || *end || d < 0)
                die("invalid seconds '%s'", secs);
        ts.tv_sec = (time_t)d;
        ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
        return 0;
}

static void usage(FILE *f)
{
        fprintf(f, "usage: %s CMD [ARGS]\n"
                   "  true | false | exit N | echo ARGS... | cat FILE | write FILE DATA|- | ls DIR\n"
                   "  sleep SECS | pause | spawn N | signal-report\n"
                   "  hostname | domainname | id | caps | seccomp | nonewprivs | cwd | env | getenv NAME\n"
                   "  mounts | cgroup | fds | isatty FD | ttysize | umask | rlimit NAME | oom_score_adj\n"
                   "  pid | ppid | personality | stat PATH | access PATH MODE | open-write PATH\n"
                   "  mkdir PATH | readlink PATH | sysctl NAME | syscall-errno NAME [ARG]\n"
                   "  open-read PATH | mknod PATH c|b MAJ MIN | memhog MB [pause] | forkbomb N | spin N\n"
                   "  memcheck MB FILE\n",
                prog);
}

int main(int argc, char **argv)
{
        const char *cmd;

        setvbuf(stdout, NULL, _IOLBF, 0);
        if (argc < 2) {
                usage(stderr);
                return 2;
        }
        cmd = argv[1];
        argc -= 2;
        argv += 2; /* argv[0] is now the first argument of the command */

        if (strcmp(cmd, "true") == 0)
                return 0;
        if (strcmp(cmd, "false") == 0)
                return 1;
        if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0) {
                usage(stdout);
                return 0;
        }
        if (strcmp(cmd, "exit") == 0) {
                need_args(argc, 1, "exit N");
                return (int)parse_long(argv[0], "exit code");
        }
        if (strcmp(cmd, "echo") == 0) {
                for (int i = 0; i < argc; i++)
                        printf("%s%s", i ? " " : "", argv[i]);
                printf("\n");
                return 0;
        }
        if (strcmp(cmd, "cat") == 0) {
                need_args(argc, 1, "cat FILE");
                if (strcmp(argv[0], "-") == 0) {
                        int r = copy_fd(0);
                        if (r < 0)
                                die("read stdin: %s", strerror(-r));
                } else {
                        cat_path(argv[0]);
                }
                return 0;
        }
        if (strcmp(cmd, "write") == 0) {
                need_args(argc, 2, "write FILE DATA");
                return cmd_write(argv[0], argv[1]);
        }
        if (strcmp(cmd, "ls") == 0) {
                need_args(argc, 1, "ls DIR");
                return cmd_ls(argv[0]);
        }
        if (strcmp(cmd, "sleep") == 0) {
                need_args(argc, 1, "sleep SECS");
                return cmd_sleep(argv[0]);
        }
        if (strcmp(cmd, "pause") == 0)
                return cmd_pause();
        if (strcmp(cmd, "spawn") == 0) {
                need_args(argc, 1, "spawn N");
                return cmd_spawn(parse_long(argv[0], "count"));
        }
        if (strcmp(cmd, "signal-report") == 0)
                return cmd_signal_report();
        if (strcmp(cmd, "hostname") == 0 || strcmp(cmd, "domainname") == 0) {
                struct utsname u;
                if (uname(&u) < 0)
                        die("uname: %s", strerror(errno));
                printf("%s\n", cmd[0] == 'h' ? u.nodename : u.domainname);
                return 0;
        }
        if (strcmp(cmd, "id") == 0)
                return cmd_id();
        if (strcmp(cmd, "caps") == 0) {
                static const char *const keys[] = {"CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:",
                                                   NULL};
                status_fields(keys);
                return 0;
        }
        if (strcmp(cmd, "seccomp") == 0) {
                status_value("Seccomp");
                return 0;
        }
        if (strcmp(cmd, "nonewprivs") == 0) {
                status_value("NoNewPrivs");
                return 0;
        }
        if (strcmp(cmd, "cwd") == 0) {
                char buf[PATH_MAX];
                if (getcwd(buf, sizeof(buf)) == NULL)
                        die("getcwd: %s", strerror(errno));
                printf("%s\n", buf);
                return 0;
        }
        if (strcmp(cmd, "env") == 0) {
                for (char **e = environ; e && *e; e++)
                        printf("%s\n", *e);
                return 0;
        }
        if (strcmp(cmd, "getenv") == 0) {
                const char *v;
                need_args(argc, 1, "getenv NAME");
                v = getenv(argv[0]);
                if (v == NULL)
                        die("%s is not set", argv[0]);
                printf("%s\n", v);
                return 0;
        }
        if (strcmp(cmd, "mounts") == 0) {
                cat_path("/proc/self/mountinfo");
                return 0;
        }
        if (strcmp(cmd, "cgroup") == 0) {
                cat_path("/proc/self/cgroup");
                return 0;
        }
        if (strcmp(cmd, "fds") == 0)
                return cmd_fds();
        if (strcmp(cmd, "isatty") == 0) {
                need_args(argc, 1, "isatty FD");
                if (isatty((int)parse_long(argv[0], "fd"))) {
                        printf("tty\n");
                        return 0;
                }
                printf("not a tty\n");
                return 1;
        }
        if (strcmp(cmd, "ttysize") == 0) {
                struct winsize ws;
                if (ioctl(0, TIOCGWINSZ, &ws) < 0)
                        die("TIOCGWINSZ: %s", strerror(errno));
                printf("%u %u\n", ws.ws_row, ws.ws_col);
                return 0;
        }
        if (strcmp(cmd, "umask") == 0) {
                mode_t m = umask(0);
                umask(m);
                printf("%04o\n", (unsigned)m);
                return 0;
        }
        if (strcmp(cmd, "rlimit") == 0) {
                need_args(argc, 1, "rlimit NAME");
                return cmd_rlimit(argv[0]);
        }
        if (strcmp(cmd, "oom_score_adj") == 0) {
                cat_path("/proc/self/oom_score_adj");
                return 0;
        }
        if (strcmp(cmd, "pid") == 0) {
                printf("%d\n", (int)getpid());
                return 0;
        }
        if (strcmp(cmd, "ppid") == 0) {
                printf("%d\n", (int)getppid());
                return 0;
        }
        if (strcmp(cmd, "personality") == 0) {
                int p = personality(0xffffffff);
                if (p < 0)
                        die("personality: %s", strerror(errno));
                printf("0x%x\n", (unsigned)p);
                return 0;
        }
        if (strcmp(cmd, "stat") == 0) {
                need_args(argc, 1, "stat PATH");
                return cmd_stat(argv[0]);
        }
        if (strcmp(cmd, "access") == 0) {
                need_args(argc, 2, "access PATH MODE");
                return cmd_access(argv[0], argv[1]);
        }
        if (strcmp(cmd, "open-write") == 0) {
                need_args(argc, 1, "open-write PATH");
                return cmd_open_write(argv[0]);
        }
        if (strcmp(cmd, "mkdir") == 0) {
                need_args(argc, 1, "mkdir PATH");
                if (mkdir(argv[0], 0755) < 0)
                        die("mkdir '%s': %s", argv[0], strerror(errno));
                return 0;
        }
        if (strcmp(cmd, "readlink") == 0) {
                char buf[PATH_MAX];
                ssize_t n;
                need_args(argc, 1, "readlink PATH");
                n = readlink(argv[0], buf, sizeof(buf) - 1);
                if (n < 0)
                        die("readlink '%s': %s", argv[0], strerror(errno));
                buf[n] = '\0';
                printf("%s\n", buf);
                return 0;
        }
        if (strcmp(cmd, "sysctl") == 0) {
                need_args(argc, 1, "sysctl NAME");
                return cmd_sysctl(argv[0]);
        }
        if (strcmp(cmd, "syscall-errno") == 0) {
                need_args(argc, 1, "syscall-errno NAME [ARG]");
                return cmd_syscall_errno(argc, argv);
        }
        if (strcmp(cmd, "open-read") == 0) {
                need_args(argc, 1, "open-read PATH");
                return cmd_open_read(argv[0]);
        }
        if (strcmp(cmd, "mknod") == 0) {
                need_args(argc, 4, "mknod PATH c|b MAJ MIN");
                return cmd_mknod(argv[0], argv[1], parse_long(argv[2], "major"), parse_long(argv[3], "minor"));
        }
        if (strcmp(cmd, "memhog") == 0) {
                need_args(argc, 1, "memhog MB [pause]");
                return cmd_memhog(parse_long(argv[0], "MB"), argc > 1 && strcmp(argv[1], "pause") == 0);
        }
        if (strcmp(cmd, "memcheck") == 0) {
                need_args(argc, 2, "memcheck MB FILE");
                return cmd_memcheck(parse_long(argv[0], "MB"), argv[1]);
        }
        if (strcmp(cmd, "forkbomb") == 0) {
                need_args(argc, 1, "forkbomb N");
                return cmd_forkbomb(parse_long(argv[0], "count"));
        }
        if (strcmp(cmd, "spin") == 0) {
                need_args(argc, 1, "spin N");
                return cmd_spin(parse_long(argv[0], "count"));
        }
        fprintf(stderr, "%s: unknown command '%s'\n", prog, cmd);
        usage(stderr);
        return 2;
}
