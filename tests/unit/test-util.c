/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests (TAP) for runtime/util.c and runtime/error.c.
 *
 * Everything runs in a private temporary directory created with mkdtemp() under $TMPDIR (or
 * /tmp) and removed at the end; nothing needs root and nothing is mounted.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <regex.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "error.h"
#include "util.h"
#include "../../vm/proto.h"
#include "../../vm/vm.h"
#include "tap.h"

static char tmpdir[PATH_MAX];

static int count_entries(const char *dir)
{
        DIR *d = opendir(dir);
        struct dirent *de;
        int n = 0;

        if (d == NULL)
                return -1;
        while ((de = readdir(d)) != NULL)
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

static void test_parse(void)
{
        uint64_t u = 0;
        int64_t i = 0;

        is_int(silo_parse_u64("0", &u), 0, "u64: 0");
        is_int(u, 0, "u64: 0 value");
        is_int(silo_parse_u64("18446744073709551615", &u), 0, "u64: max");
        ok(u == UINT64_MAX, "u64: max value");
        is_int(silo_parse_u64("18446744073709551616", &u), -EINVAL, "u64: max+1 overflows");
        is_int(silo_parse_u64("", &u), -EINVAL, "u64: empty");
        is_int(silo_parse_u64(NULL, &u), -EINVAL, "u64: NULL");
        is_int(silo_parse_u64("-1", &u), -EINVAL, "u64: negative rejected (strtoull would wrap)");
        is_int(silo_parse_u64("+1", &u), -EINVAL, "u64: explicit plus rejected");
        is_int(silo_parse_u64(" 1", &u), -EINVAL, "u64: leading space");
        is_int(silo_parse_u64("1 ", &u), -EINVAL, "u64: trailing space");
        is_int(silo_parse_u64("12abc", &u), -EINVAL, "u64: trailing garbage");
        is_int(silo_parse_u64("0x10", &u), -EINVAL, "u64: decimal only");
        u = 0;
        is_int(silo_parse_u64("010", &u), 0, "u64: leading zero accepted");
        is_int(u, 10, "u64: leading zero is decimal, not octal");

        is_int(silo_parse_i64("-9223372036854775808", &i), 0, "i64: min");
        ok(i == INT64_MIN, "i64: min value");
        is_int(silo_parse_i64("9223372036854775807", &i), 0, "i64: max");
        ok(i == INT64_MAX, "i64: max value");
        is_int(silo_parse_i64("9223372036854775808", &i), -EINVAL, "i64: max+1 overflows");
        is_int(silo_parse_i64("-9223372036854775809", &i), -EINVAL, "i64: min-1 overflows");
        is_int(silo_parse_i64("-42", &i), 0, "i64: negative");
        is_int(i, -42, "i64: negative value");
        is_int(silo_parse_i64("", &i), -EINVAL, "i64: empty");
        is_int(silo_parse_i64(NULL, &i), -EINVAL, "i64: NULL");
        is_int(silo_parse_i64("-", &i), -EINVAL, "i64: lone minus");
        is_int(silo_parse_i64(" 5", &i), -EINVAL, "i64: leading space");
        is_int(silo_parse_i64("5x", &i), -EINVAL, "i64: trailing garbage");
}

static void test_id(void)
{
        char longid[1100];

        ok(silo_id_valid("abc"), "id: plain");
        ok(silo_id_valid("A-b_c.d+e9"), "id: every allowed character class");
        ok(silo_id_valid("a"), "id: one character");
        ok(silo_id_valid("..."), "id: three dots is a valid name");
        ok(silo_id_valid(".hidden"), "id: leading dot");
        ok(!silo_id_valid(""), "id: empty");
        ok(!silo_id_valid(NULL), "id: NULL");
        ok(!silo_id_valid("."), "id: dot");
        ok(!silo_id_valid(".."), "id: dotdot");
        ok(!silo_id_valid("a/b"), "id: slash");
        ok(!silo_id_valid("/abs"), "id: leading slash");
        ok(!silo_id_valid("a b"), "id: space");
        ok(!silo_id_valid("a\nb"), "id: newline");
        ok(!silo_id_valid("a:b"), "id: colon");
        ok(!silo_id_valid("caf\xc3\xa9"), "id: non-ASCII");
        memset(longid, 'x', 1024);
        longid[1024] = '\0';
        ok(silo_id_valid(longid), "id: 1024 bytes is the limit");
        memset(longid, 'x', 1025);
        longid[1025] = '\0';
        ok(!silo_id_valid(longid), "id: 1025 bytes is too long");
}

static void test_buf(void)
{
        struct silo_buf b = {0};
        char big[5000];

        silo_buf_puts(&b, "hello");
        silo_buf_putc(&b, ' ');
        silo_buf_printf(&b, "%s %d", "world", 42);
        is_str(b.data, "hello world 42", "buf: puts/putc/printf");
        is_int(b.len, strlen("hello world 42"), "buf: len");
        silo_buf_put(&b, "\0x", 2);
        is_int(b.len, 16, "buf: put counts embedded NUL");
        ok(b.data[b.len] == '\0', "buf: stays NUL-terminated");
        memset(big, 'a', sizeof(big));
        silo_buf_put(&b, big, sizeof(big));
        is_int(b.len, 16 + sizeof(big), "buf: grows past initial capacity");
        ok(b.cap > b.len && b.data[b.len] == '\0', "buf: capacity and terminator after growth");
        silo_buf_free(&b);
        ok(b.data == NULL && b.len == 0 && b.cap == 0, "buf: free resets");
        silo_buf_printf(&b, "%s", "");
        is_int(b.len, 0, "buf: empty printf");
        silo_buf_free(&b);
}

static void test_strv(void)
{
        char **v = NULL, **d;

        is_int(silo_strv_len(NULL), 0, "strv: len of NULL");
        silo_strv_push(&v, silo_xstrdup("a"));
        silo_strv_push(&v, silo_xstrdup("b"));
        silo_strv_push(&v, silo_xstrdup("c"));
        is_int(silo_strv_len(v), 3, "strv: push x3");
        ok(v[3] == NULL, "strv: NULL-terminated");
        d = silo_strv_dup(v);
        is_int(silo_strv_len(d), 3, "strv: dup len");
        is_str(d[2], "c", "strv: dup content");
        ok(d[0] != v[0], "strv: dup is deep");
        silo_strv_free(v);
        silo_strv_free(d);
        silo_strv_free(NULL);
        d = silo_strv_dup(NULL);
        ok(d != NULL && d[0] == NULL, "strv: dup of NULL is an empty vector");
        silo_strv_free(d);
        {
                _cleanup_strv_free_ char **c = silo_strv_dup((char *[]){"x", NULL});
                is_str(c[0], "x", "strv: cleanup attribute");
        }
}

static void test_atomic_write(void)
{
        silo_error_t err = NULL;
        char path[PATH_MAX + 16], *data = NULL;
        size_t len = 0;
        struct stat st;
        int dfd;
        static const char content[] = "12345";

        snprintf(path, sizeof(path), "%s/atomic", tmpdir);
        mkdir(path, 0755);
        dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ok(dfd >= 0, "atomic: open dir");

        is_int(silo_write_file_atomic_at(dfd, "pid", content, 5, 0644, &err), 0, "atomic: write");
        is_int(count_entries(path), 1, "atomic: no temporary file left");
        is_int(silo_read_file_at(dfd, "pid", 4096, &data, &len, &err), 0, "atomic: read back");
        is_int(len, 5, "atomic: exact length, no newline added");
        is_str(data, content, "atomic: exact content");
        free(data);
        data = NULL;
        ok(fstatat(dfd, "pid", &st, 0) == 0 && (st.st_mode & 07777) == 0644, "atomic: mode as given");

        /* replace an existing file with shorter content and another mode */
        is_int(silo_write_file_atomic_at(dfd, "pid", "9", 1, 0600, &err), 0, "atomic: overwrite");
        is_int(silo_read_file_at(dfd, "pid", 4096, &data, &len, &err), 0, "atomic: read overwritten");
        is_str(data, "9", "atomic: overwritten content is exact (no tail of the old one)");
        free(data);
        data = NULL;
        ok(fstatat(dfd, "pid", &st, 0) == 0 && (st.st_mode & 07777) == 0600, "atomic: new mode");
        is_int(count_entries(path), 1, "atomic: still no temporary file");

        /* a path with a directory component, through the AT_FDCWD wrapper */
        snprintf(path, sizeof(path), "%s/atomic/abs.pid", tmpdir);
        is_int(silo_write_file_atomic(path, "77", 2, 0644, &err), 0, "atomic: absolute path");
        is_int(silo_read_file_at(AT_FDCWD, path, 4096, &data, &len, &err), 0, "atomic: read absolute");
        is_str(data, "77", "atomic: absolute content");
        free(data);
        data = NULL;
        snprintf(path, sizeof(path), "%s/atomic", tmpdir);
        is_int(count_entries(path), 2, "atomic: only the two target files exist");

        /* failure: directory missing; the error names the path and carries errno */
        ok(silo_write_file_atomic_at(dfd, "nodir/pid", "1", 1, 0644, &err) < 0, "atomic: missing dir fails");
        ok(err != NULL && err->code == ENOENT, "atomic: error code ENOENT");
        ok(err != NULL && strstr(err->msg, "nodir") != NULL, "atomic: error names the path");
        silo_error_free(&err);

        /* read cap */
        ok(silo_read_file_at(dfd, "pid", 0, &data, &len, &err) < 0, "read: size cap enforced");
        ok(err != NULL && strstr(err->msg, "larger") != NULL, "read: cap error message");
        silo_error_free(&err);
        ok(silo_read_file_at(dfd, "missing", 10, &data, &len, &err) == -ENOENT, "read: missing file");
        silo_error_free(&err);

        /* write_file_at requires an existing file (cgroup/proc semantics) */
        ok(silo_write_file_at(dfd, "notthere", "x", 1, &err) == -ENOENT, "write_file_at: no O_CREAT");
        silo_error_free(&err);
        is_int(silo_write_file_at(dfd, "pid", "5", 1, &err), 0, "write_file_at: existing file");
        close(dfd);
}

static void test_rm_rf(void)
{
        char path[PATH_MAX + 32];
        int dfd;

        snprintf(path, sizeof(path), "%s/tree", tmpdir);
        mkdir(path, 0755);
        snprintf(path, sizeof(path), "%s/tree/a", tmpdir);
        mkdir(path, 0755);
        snprintf(path, sizeof(path), "%s/tree/a/b", tmpdir);
        mkdir(path, 0755);
        snprintf(path, sizeof(path), "%s/tree/a/b/file", tmpdir);
        close(open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
        snprintf(path, sizeof(path), "%s/tree/a/ro", tmpdir);
        mkdir(path, 0555); /* root can still remove it; for others rmdir of an empty 0555 dir works */
        snprintf(path, sizeof(path), "%s/tree/link", tmpdir);
        ok(symlink(tmpdir, path) == 0, "rm_rf: symlink to the parent created");
        snprintf(path, sizeof(path), "%s/tree/.hidden", tmpdir);
        close(open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));

        dfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        is_int(silo_rm_rf_at(dfd, "tree"), 0, "rm_rf: removes a tree");
        snprintf(path, sizeof(path), "%s/tree", tmpdir);
        ok(access(path, F_OK) < 0 && errno == ENOENT, "rm_rf: tree is gone");
        /* the symlink was removed, not followed */
        ok(access(tmpdir, F_OK) == 0, "rm_rf: symlink target survives");
        snprintf(path, sizeof(path), "%s/keep", tmpdir);
        mkdir(path, 0755);
        ok(access(path, F_OK) == 0, "rm_rf: sibling of the removed tree untouched");
        is_int(silo_rm_rf_at(dfd, "tree"), 0, "rm_rf: missing path is success");
        snprintf(path, sizeof(path), "%s/plainfile", tmpdir);
        close(open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
        is_int(silo_rm_rf_at(dfd, "plainfile"), 0, "rm_rf: a plain file");
        ok(access(path, F_OK) < 0, "rm_rf: plain file gone");
        close(dfd);
}

static void test_error(void)
{
        silo_error_t err = NULL;
        char *text;
        int r;

        r = silo_error_set(&err, ENOENT, "open '%s'", "/x");
        is_int(r, -ENOENT, "error: set returns -code");
        is_int(err->code, ENOENT, "error: code kept");
        is_str(err->msg, "open '/x'", "error: message formatted, no strerror");
        text = silo_error_text(err);
        is_str(text, "open '/x': no such file or directory", "error: text appends strerror, lower-cased as Go prints it");
        free(text);

        r = silo_error_wrap(&err, "create container '%s'", "c1");
        is_int(r, -ENOENT, "error: wrap returns the same value");
        is_str(err->msg, "create container 'c1': open '/x'", "error: wrap prefixes");
        is_int(silo_error_ret(err), -ENOENT, "error: ret");

        r = silo_error_set(&err, 0, "invalid '%s'", "/process/args");
        is_int(r, -EINVAL, "error: code 0 returns -EINVAL");
        text = silo_error_text(err);
        is_str(text, "invalid '/process/args'", "error: text without errno has no suffix");
        free(text);
        is_int(silo_error_ret(err), -EINVAL, "error: ret without code");

        r = silo_error_set(&err, -EPERM, "negative code");
        is_int(r, -EPERM, "error: negative code normalised");
        is_int(err->code, EPERM, "error: stored positive");

        silo_error_free(&err);
        ok(err == NULL, "error: free resets");
        silo_error_free(&err);
        ok(1, "error: double free is harmless");
        is_int(silo_error_set(NULL, EACCES, "nobody listens"), -EACCES, "error: NULL err still returns");
        is_int(silo_error_wrap(&err, "nothing to wrap"), -EINVAL, "error: wrap of no error");
        text = silo_error_text(NULL);
        is_str(text, "unknown error", "error: text of NULL");
        free(text);
        is_int(silo_error_ret(NULL), -EINVAL, "error: ret of NULL");
}

static void test_rfc3339(void)
{
        char buf[64];
        regex_t re;
        time_t before = time(NULL), after;
        struct tm tm = {0};

        silo_rfc3339_now(buf, sizeof(buf));
        after = time(NULL);
        ok(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{9}Z$",
                   REG_EXTENDED | REG_NOSUB) == 0,
           "rfc3339: regex compiles");
        ok(regexec(&re, buf, 0, NULL, 0) == 0, "rfc3339: '%s' matches", buf);
        regfree(&re);
        ok(strptime(buf, "%Y-%m-%dT%H:%M:%S", &tm) != NULL, "rfc3339: parses");
        {
                time_t t = timegm(&tm);
                ok(t >= before && t <= after, "rfc3339: is now, in UTC");
        }
        silo_rfc3339_now(buf, 11);
        is_int(strlen(buf), 10, "rfc3339: truncates safely to the buffer");
}

static void test_proc(void)
{
        unsigned long long st = silo_proc_start_time(getpid());
        pid_t child;
        int status;

        ok(st > 0, "proc: own start time");
        ok(silo_proc_alive(getpid(), 0), "proc: self alive, any start time");
        ok(silo_proc_alive(getpid(), st), "proc: self alive, matching start time");
        ok(!silo_proc_alive(getpid(), st + 1), "proc: start time mismatch means not alive (pid reuse)");
        ok(!silo_proc_alive(0, 0), "proc: pid 0");
        ok(!silo_proc_alive(-1, 0), "proc: negative pid");

        child = fork();
        if (child == 0) {
                pause();
                _exit(0);
        }
        ok(child > 0, "proc: fork");
        ok(silo_proc_alive(child, silo_proc_start_time(child)), "proc: running child alive");
        kill(child, SIGKILL);
        /* zombie: not alive although /proc/<pid> exists */
        for (int i = 0; i < 200; i++) {
                if (silo_proc_start_time(child) == 0)
                        break;
                usleep(10000);
        }
        is_int(silo_proc_start_time(child), 0, "proc: zombie has no start time");
        ok(!silo_proc_alive(child, 0), "proc: zombie is not alive");
        waitpid(child, &status, 0);
        ok(!silo_proc_alive(child, 0), "proc: reaped child is not alive");
        is_int(silo_proc_start_time(child), 0, "proc: reaped child start time 0");
}

static void test_misc(void)
{
        ok(silo_str_has_prefix("/proc/self", "/proc"), "prefix: yes");
        ok(silo_str_has_prefix("abc", ""), "prefix: empty prefix");
        ok(!silo_str_has_prefix("/pro", "/proc"), "prefix: shorter string");
        {
                _cleanup_free_ char *s = silo_xasprintf("%s-%d", "a", 1);
                is_str(s, "a-1", "xasprintf");
        }
        ok(silo_xstrdup(NULL) == NULL, "xstrdup(NULL)");
        {
                int p[2];
                char *data = NULL;
                size_t len = 0;
                ok(pipe(p) == 0, "read_fd: pipe");
                is_int(silo_write_all(p[1], "abc", 3), 0, "write_all");
                close(p[1]);
                is_int(silo_read_fd(p[0], 100, &data, &len), 0, "read_fd");
                is_str(data, "abc", "read_fd content");
                free(data);
                close(p[0]);
        }
}

/* vm/frame.c: a frame to a peer that is gone is an error, never a SIGPIPE, even with SIGPIPE
 * blocked (silo exec blocks it for its signalfd: a pending one killed it once the mask was
 * restored, exit 141, in CI's vm.bats exec -t test). */
static void test_vm_frame(void)
{
        int sv[2];
        sigset_t block, pending, old;
        struct silo_vm_hdr h;
        char *f;

        ok(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "vm frame: socketpair");
        is_int(silo_vm_send(sv[0], SILO_VM_STDIN, 3, "abc", 3), 0, "vm frame: send");
        f = silo_vm_recv(sv[1], &h);
        ok(f && h.type == SILO_VM_STDIN && h.id == 3 && h.len == 3 && memcmp(f, "abc", 3) == 0,
           "vm frame: received as sent");
        free(f);
        close(sv[1]);
        sigemptyset(&block);
        sigaddset(&block, SIGPIPE);
        sigprocmask(SIG_BLOCK, &block, &old);
        is_int(silo_vm_send(sv[0], SILO_VM_STDIN, 3, "abc", 3), -EPIPE, "vm frame: peer gone is -EPIPE");
        sigpending(&pending);
        ok(!sigismember(&pending, SIGPIPE), "vm frame: no SIGPIPE left pending");
        sigprocmask(SIG_SETMASK, &old, NULL);
        close(sv[0]);
}

int main(void)
{
        const char *t = getenv("TMPDIR");

        snprintf(tmpdir, sizeof(tmpdir), "%s/silo-test-util.XXXXXX", t && *t ? t : "/tmp");
        if (mkdtemp(tmpdir) == NULL) {
                printf("1..0 # SKIP cannot create a temporary directory\n");
                return 0;
        }
        test_parse();
        test_id();
        test_buf();
        test_strv();
        test_atomic_write();
        test_rm_rf();
        test_error();
        test_rfc3339();
        test_proc();
        test_misc();
        test_vm_frame();
        {
                int dfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                is_int(silo_rm_rf_at(dfd, tmpdir + 1), 0, "cleanup of the temporary directory");
                close(dfd);
        }
        return done();
}
