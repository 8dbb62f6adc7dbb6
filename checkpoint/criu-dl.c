/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Lazy loading of silo-criu.so, CRIU's RPC client (see criu-dl.h for why). */
#include "config.h"
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdbool.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "criu-dl.h"
#include "../runtime/util.h"

#ifdef HAVE_CRIU
struct silo_criu_api silo_criu_api;

/*
 * The plugin next to the binary (the build tree: `./silo` and `./silo-criu.so`), else the
 * installed one in pkglibdir.  Both are as trusted as the binary itself.
 */
const char *silo_criu_plugin_path;

static char *plugin_path(void)
{
        char exe[PATH_MAX], *slash;

        if (silo_criu_plugin_path)
                return silo_xstrdup(silo_criu_plugin_path);
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

        if (n > 0) {
                exe[n] = '\0';
                slash = strrchr(exe, '/');
                if (slash) {
                        char *p = silo_xasprintf("%.*s/silo-criu.so", (int)(slash - exe), exe);
                        if (access(p, R_OK) == 0)
                                return p;
                        free(p);
                }
        }
        return silo_xstrdup(SILO_PKGLIBDIR "/silo-criu.so");
}

#define SILO_CRIU_NAME(f) #f,
int silo_criu_dl_load(silo_error_t *err)
{
        static const char *const names[] = {SILO_CRIU_FUNCS(SILO_CRIU_NAME)};
        static bool loaded;
        void **slots = (void **)&silo_criu_api;
        _cleanup_free_ char *path = NULL;
        void *h;

        _Static_assert(sizeof(silo_criu_api) == sizeof(names) / sizeof(names[0]) * sizeof(void *), "api");
        if (loaded)
                return 0;
        path = plugin_path();
        h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (h == NULL)
                return silo_error_set(err, 0, "checkpoint/restore needs silo's CRIU plugin '%s': %s", path,
                                      dlerror());
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                slots[i] = dlsym(h, names[i]);
                if (slots[i] == NULL)
                        return silo_error_set(err, 0, "'%s' lacks symbol '%s'", path, names[i]);
        }
        loaded = true; /* the handle stays loaded for the life of the process */
        return 0;
}

bool silo_criu_available(void)
{
        _cleanup_free_ char *path = plugin_path();

        if (access(path, R_OK) < 0)
                return false;
        /* the plugin runs the criu binary (swrk mode) found in PATH */
        return access("/usr/sbin/criu", X_OK) == 0 || access("/usr/bin/criu", X_OK) == 0 ||
               access("/usr/local/sbin/criu", X_OK) == 0;
}

int silo_criu_page_server_start(const char *image_path, const char *work_path, const char *address, int port,
                                pid_t *ret_pid, int *ret_port, silo_error_t *err)
{
        _cleanup_free_ char *pidfile = NULL, *buf = NULL;
        const char *work = work_path ? work_path : image_path;
        char port_s[16];
        uint64_t pid = 0;
        int status;
        pid_t child;

        if (port <= 0 || port > 65535)
                return silo_error_set(err, EINVAL, "page server: port %d out of range", port);
        if (mkdir(image_path, 0700) < 0 && errno != EEXIST)
                return silo_error_set(err, errno, "page server: mkdir '%s'", image_path);
        pidfile = silo_xasprintf("%s/page-server.pid", work);
        unlink(pidfile);
        snprintf(port_s, sizeof(port_s), "%d", port);
        child = fork();
        if (child < 0)
                return silo_error_set(err, errno, "page server: fork");
        if (child == 0) {
                int null = open("/dev/null", O_RDWR); /* its stdio, not CLOEXEC on purpose */
                if (null >= 0) {
                        dup2(null, 0);
                        dup2(null, 1);
                        dup2(null, 2);
                }
                execlp("criu", "criu", "page-server", "-D", image_path, "-W", work, "--address",
                       address ? address : "0.0.0.0", "--port", port_s, "-d", "--pidfile", pidfile, "-o",
                       "page-server.log", "-v4", (char *)NULL);
                _exit(127);
        }
        /* -d: criu returns once the daemon listens (and wrote its pid file) */
        while (waitpid(child, &status, 0) < 0)
                if (errno != EINTR)
                        return silo_error_set(err, errno, "page server: waitpid");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return silo_error_set(err, 0,
                                      "page server on '%s:%d' failed (criu exit status %d; log: '%s/%s')",
                                      address ? address : "0.0.0.0", port,
                                      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), work,
                                      "page-server.log");
        if (silo_read_file_at(AT_FDCWD, pidfile, 64, &buf, NULL, err) < 0)
                return silo_error_wrap(err, "page server");
        buf[strcspn(buf, "\n")] = '\0';
        if (silo_parse_u64(buf, &pid) < 0 || pid == 0 || pid > INT_MAX)
                return silo_error_set(err, EINVAL, "page server: bad pid file '%s'", pidfile);
        *ret_pid = (pid_t)pid;
        *ret_port = port;
        return 0;
}

const char *silo_criu_features(void)
{
        if (!silo_criu_available())
                return "";
        /* the sysctl exists exactly when the kernel is built with CONFIG_USERFAULTFD */
        if (access("/proc/sys/vm/unprivileged_userfaultfd", F_OK) == 0 ||
            access("/dev/userfaultfd", F_OK) == 0)
                return "lazy-pages,page-server,status-fd,empty-ns";
        return "page-server,status-fd,empty-ns";
}
#else
int silo_criu_dl_load(silo_error_t *err)
{
        return silo_error_set(err, EOPNOTSUPP,
                              "checkpoint/restore: this silo was built without CRIU support "
                              "(./configure --with-criu, needs the criu package)");
}

bool silo_criu_available(void)
{
        return false;
}

const char *silo_criu_features(void)
{
        return "";
}

int silo_criu_page_server_start(const char *image_path, const char *work_path, const char *address, int port,
                                pid_t *ret_pid, int *ret_port, silo_error_t *err)
{
        (void)image_path;
        (void)work_path;
        (void)address;
        (void)port;
        (void)ret_pid;
        (void)ret_port;
        return silo_criu_dl_load(err);
}
#endif
