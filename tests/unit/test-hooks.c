/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for runtime/hooks.c: stdin state, exact env, error texts, timeout, fd hygiene. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime/hooks.h"
#include "runtime/util.h"
#include "tests/unit/tap.h"

static char tmpdir[] = "/tmp/silo-test-hooks.XXXXXX";

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *slurp(const char *path)
{
        char *s = NULL;
        silo_error_t e = NULL;

        if (silo_read_file_at(AT_FDCWD, path, 1 << 20, &s, NULL, &e) < 0) {
                silo_error_free(&e);
                return NULL;
        }
        return s;
}

/* Run a hook; returns the return value and stores the error text (or NULL) in *text. */
static int run(const char *path, char **args, char **env, int64_t timeout, const char *state, char **text)
{
        struct silo_hook h = {.path = (char *)path, .args = args, .env = env, .timeout = timeout};
        silo_error_t e = NULL;
        int r = silo_hook_run(&h, state, &e);

        *text = r < 0 ? silo_error_text(e) : NULL;
        silo_error_free(&e);
        return r;
}

static void test_stdin_state(void)
{
        const char *state = "{\"ociVersion\":\"1.2.1\",\"id\":\"c1\",\"status\":\"created\",\"pid\":42,"
                            "\"bundle\":\"/b\",\"annotations\":{\"k\":\"v \\\"q\\\"\"}}";
        _cleanup_free_ char *out = silo_xasprintf("%s/state.json", tmpdir);
        _cleanup_free_ char *envout = silo_xasprintf("OUT=%s", out);
        char *args[] = {"sh", "-c", "cat > \"$OUT\"", NULL};
        char *env[] = {envout, NULL};
        _cleanup_free_ char *text = NULL, *got = NULL;

        is_int(run("/bin/sh", args, env, SILO_UNSET, state, &text), 0, "hook reading stdin succeeds");
        got = slurp(out);
        is_str(got, state, "hook sees the exact state JSON on stdin");
}

static void test_exact_env(void)
{
        _cleanup_free_ char *out = silo_xasprintf("%s/env.txt", tmpdir);
        _cleanup_free_ char *envout = silo_xasprintf("OUT=%s", out);
        _cleanup_free_ char *want = silo_xasprintf("A_B=c d=e\nFOO=bar\nOUT=%s\n", out);
        /* dash exports PWD on its own (drop it) and reorders the environment (sort it). */
        char *args[] = {"sh", "-c", "unset PWD; /usr/bin/env | LC_ALL=C /usr/bin/sort > \"$OUT\"", NULL};
        char *env[] = {envout, "FOO=bar", "A_B=c d=e", NULL};
        _cleanup_free_ char *text = NULL, *got = NULL;

        setenv("SILO_TEST_LEAK", "1", 1);
        is_int(run("/bin/sh", args, env, SILO_UNSET, "{}", &text), 0, "env hook succeeds");
        got = slurp(out);
        is_str(got, want, "hook sees exactly the given env");
        unsetenv("SILO_TEST_LEAK");
}

static void test_empty_env_and_default_args(void)
{
        /* No args: argv = {path}; no env: empty environment.  `env` with no args prints it. */
        _cleanup_free_ char *text = NULL;
        char *args[] = {"sh", "-c", "test -z \"$(/usr/bin/env | grep -v '^PWD=')\" || exit 7", NULL};

        is_int(run("/bin/sh", args, NULL, SILO_UNSET, "{}", &text), 0, "NULL env gives an empty environment");
        free(text);
        text = NULL;
        is_int(run("/bin/true", NULL, NULL, SILO_UNSET, "{}", &text), 0, "NULL args runs {path}");
}

static void test_failure_text(void)
{
        char *args[] = {"sh", "-c", "echo oops; echo 'more trouble' >&2; exit 3", NULL};
        _cleanup_free_ char *text = NULL;
        int r = run("/bin/sh", args, NULL, SILO_UNSET, "{}", &text);

        ok(r < 0, "failing hook returns an error");
        is_str(text, "hook '/bin/sh': exited with status 3: oops; more trouble",
               "error text has status and output");
}

static void test_signal_text(void)
{
        char *args[] = {"sh", "-c", "kill -9 $$", NULL};
        _cleanup_free_ char *text = NULL;

        ok(run("/bin/sh", args, NULL, SILO_UNSET, "{}", &text) < 0, "signalled hook fails");
        is_str(text, "hook '/bin/sh': killed by signal 9", "error text names the signal");
}

static void test_timeout(void)
{
        char *args[] = {"sleep", "10", NULL};
        _cleanup_free_ char *text = NULL;
        double t0 = now_s(), el;
        int r = run("/bin/sleep", args, NULL, 1, "{}", &text);

        el = now_s() - t0;
        ok(r < 0, "hook past its timeout fails");
        is_str(text, "hook '/bin/sleep': timed out after 1s", "timeout error text");
        ok(el >= 0.9 && el < 3, "timeout kills after ~1s (%.2fs)", el);
}

static void test_nonexistent(void)
{
        _cleanup_free_ char *text = NULL;

        ok(run("/nonexistent/hook", NULL, NULL, SILO_UNSET, "{}", &text) < 0, "missing hook fails");
        is_str(text, "hook '/nonexistent/hook': exec: no such file or directory", "exec errno reported");
}

static void test_no_fd_leak(void)
{
        _cleanup_free_ char *out = silo_xasprintf("%s/fds.txt", tmpdir);
        _cleanup_free_ char *envout = silo_xasprintf("OUT=%s", out);
        char *args[] = {"sh", "-c", "exec ls -l /proc/self/fd > \"$OUT\"", NULL};
        char *env[] = {envout, "PATH=/usr/bin:/bin", NULL};
        _cleanup_free_ char *text = NULL, *got = NULL;
        /* No O_CLOEXEC on purpose; /dev/null is not among the hook's own fds (pipes, the file). */
        int leak = open("/dev/null", O_RDONLY), leak2 = dup2(leak, 57);
        bool extra = false;

        is_int(run("/bin/sh", args, env, SILO_UNSET, "{}", &text), 0, "ls hook succeeds");
        got = slurp(out);
        ok(got != NULL, "fd listing written");
        ok(got && !strstr(got, "-> /dev/null"), "fd %d (no CLOEXEC) not inherited", leak);
        ok(got && !strstr(got, " 57 -> "), "fd 57 (no CLOEXEC) not inherited");
        /* Only 0,1,2 and ls's own directory fd may show up. */
        for (char *l = got; l && *l;) {
                char *nl = strchr(l, '\n'), *arrow = strstr(l, " -> ");
                if (nl)
                        *nl = '\0';
                if (arrow && arrow < l + strlen(l)) {
                        char *p = arrow;
                        while (p > l && p[-1] != ' ')
                                p--;
                        int fd = atoi(p);
                        if (fd > 2 && !strstr(arrow, "/proc/")) {
                                printf("# unexpected fd line: %s\n", l);
                                extra = true;
                        }
                }
                l = nl ? nl + 1 : l + strlen(l);
        }
        ok(!extra, "no fd other than 0,1,2 (and ls's own) in the hook");
        close(leak);
        close(leak2);
}

static void test_large_state_not_read(void)
{
        size_t n = 256 * 1024;
        _cleanup_free_ char *state = malloc(n + 1);
        _cleanup_free_ char *text = NULL;
        char *args[] = {"sleep", "0.3", NULL};
        struct sigaction sa;
        double t0, el;

        memset(state, 'x', n);
        state[n] = '\0';
        t0 = now_s();
        is_int(run("/bin/true", NULL, NULL, 5, state, &text), 0, "hook ignoring a 256 KiB state succeeds");
        el = now_s() - t0;
        ok(el < 2, "and does not block us (%.2fs)", el);
        free(text);
        text = NULL;
        is_int(run("/bin/sleep", args, NULL, 5, state, &text), 0, "slow hook ignoring stdin succeeds");
        ok(sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL, "SIGPIPE disposition restored");
}

static void test_big_output(void)
{
        char *args[] = {"sh", "-c", "head -c 1000000 /dev/zero | tr '\\0' x; exit 1", NULL};
        char *env[] = {"PATH=/usr/bin:/bin", NULL};
        _cleanup_free_ char *text = NULL;

        ok(run("/bin/sh", args, env, 10, "{}", &text) < 0, "hook with 1 MB output fails as told");
        ok(text && strlen(text) < 4096 + 200, "captured output is capped (%zu bytes)",
           text ? strlen(text) : 0);
        ok(text && strstr(text, "exited with status 1: xxxx") && strstr(text, "..."), "truncation marked");
}

static void test_background_child(void)
{
        /* The hook exits but leaves a child holding its stdout: we must not wait for it. */
        char *args[] = {"sh", "-c", "sleep 2 & exit 0", NULL};
        char *env[] = {"PATH=/usr/bin:/bin", NULL};
        _cleanup_free_ char *text = NULL;
        double t0 = now_s(), el;

        is_int(run("/bin/sh", args, env, SILO_UNSET, "{}", &text), 0,
               "hook with a background child succeeds");
        el = now_s() - t0;
        ok(el < 1.5, "without waiting for the background child (%.2fs)", el);
}

static volatile sig_atomic_t alarms;
static void on_alarm(int sig)
{
        alarms++;
}

static void test_eintr(void)
{
        struct sigaction sa = {.sa_handler = on_alarm}, old;
        struct itimerval it = {.it_interval = {0, 5000}, .it_value = {0, 5000}}, off = {0};
        char *args[] = {"sh", "-c", "sleep 0.3; cat >/dev/null; exit 0", NULL};
        char *env[] = {"PATH=/usr/bin:/bin", NULL};
        _cleanup_free_ char *text = NULL;
        int r;

        sigemptyset(&sa.sa_mask); /* no SA_RESTART: every syscall may see EINTR */
        sigaction(SIGALRM, &sa, &old);
        setitimer(ITIMER_REAL, &it, NULL);
        r = run("/bin/sh", args, env, 5, "{\"a\":1}", &text);
        setitimer(ITIMER_REAL, &off, NULL);
        sigaction(SIGALRM, &old, NULL);
        is_int(r, 0, "hook survives a storm of EINTR (%d alarms)", (int)alarms);
        if (text)
                printf("# %s\n", text);
}

static void test_sigchld_ignored(void)
{
        struct sigaction sa = {.sa_handler = SIG_IGN}, old;
        char *args[] = {"sh", "-c", "exit 4", NULL};
        _cleanup_free_ char *text = NULL;

        sigemptyset(&sa.sa_mask);
        sigaction(SIGCHLD, &sa, &old);
        ok(run("/bin/sh", args, NULL, SILO_UNSET, "{}", &text) < 0, "exit status seen with SIGCHLD ignored");
        is_str(text, "hook '/bin/sh': exited with status 4", "status text with SIGCHLD ignored");
        sigaction(SIGCHLD, NULL, &sa);
        ok(sa.sa_handler == SIG_IGN, "SIGCHLD disposition restored");
        sigaction(SIGCHLD, &old, NULL);
}

static void test_hooks_run(void)
{
        char *ok_args[] = {"sh", "-c", "exit 0", NULL};
        char *bad_args[] = {"sh", "-c", "echo nope; exit 2", NULL};
        struct silo_hook hooks[2] = {
            {.path = "/bin/sh", .args = ok_args, .timeout = SILO_UNSET},
            {.path = "/bin/sh", .args = bad_args, .timeout = SILO_UNSET},
        };
        struct silo_spec spec;
        silo_error_t e = NULL;
        _cleanup_free_ char *text = NULL;

        memset(&spec, 0, sizeof(spec));
        is_int(silo_hooks_run(&spec, SILO_HOOK_CREATE_RUNTIME, "{}", &e), 0, "no hooks: nothing to do");
        spec.hooks[SILO_HOOK_CREATE_RUNTIME] = hooks;
        spec.n_hooks[SILO_HOOK_CREATE_RUNTIME] = 1;
        is_int(silo_hooks_run(&spec, SILO_HOOK_CREATE_RUNTIME, "{}", &e), 0, "one good hook");
        spec.n_hooks[SILO_HOOK_CREATE_RUNTIME] = 2;
        ok(silo_hooks_run(&spec, SILO_HOOK_CREATE_RUNTIME, "{}", &e) < 0, "second hook fails");
        text = silo_error_text(e);
        is_str(text, "createRuntime hook #1: hook '/bin/sh': exited with status 2: nope",
               "wrapped with kind and index");
        silo_error_free(&e);
}

static void test_no_zombies(void)
{
        pid_t w = waitpid(-1, NULL, WNOHANG);
        ok(w < 0 && errno == ECHILD, "no child left behind (zombie or running)");
}

int main(void)
{
        if (!mkdtemp(tmpdir)) {
                perror("mkdtemp");
                return 1;
        }
        test_stdin_state();
        test_exact_env();
        test_empty_env_and_default_args();
        test_failure_text();
        test_signal_text();
        test_timeout();
        test_nonexistent();
        test_no_fd_leak();
        test_large_state_not_read();
        test_big_output();
        test_background_child();
        test_eintr();
        test_sigchld_ignored();
        test_hooks_run();
        test_no_zombies();
        silo_rm_rf_at(AT_FDCWD, tmpdir);
        return done();
}
