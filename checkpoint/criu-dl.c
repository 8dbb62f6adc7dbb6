/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Lazy loading of silo-criu.so, CRIU's RPC client (see criu-dl.h for why). */
#include "config.h"
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
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
        _cleanup_close_ int imgfd = -1, workfd = -1;
        criu_opts *co = NULL;
        int r = silo_criu_dl_load(err), pid = 0, got = 0;

        if (r < 0)
                return r;
        if (mkdir(image_path, 0700) < 0 && errno != EEXIST)
                return silo_error_set(err, errno, "page server: mkdir '%s'", image_path);
        imgfd = open(image_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (imgfd < 0)
                return silo_error_set(err, errno, "page server: '%s'", image_path);
        if (work_path) {
                workfd = open(work_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (workfd < 0)
                        return silo_error_set(err, errno, "page server: work dir '%s'", work_path);
        }
        if (CR(criu_local_init_opts)(&co) < 0)
                return silo_error_set(err, ENOMEM, "criu: init options");
        CR(criu_local_set_images_dir_fd)(co, imgfd);
        if (workfd >= 0)
                CR(criu_local_set_work_dir_fd)(co, workfd);
        CR(criu_local_set_log_level)(co, 4);
        if (CR(criu_local_set_log_file)(co, "page-server.log") < 0 ||
            CR(criu_local_set_page_server_address_port)(co, address ? address : "0.0.0.0", port) < 0) {
                CR(criu_local_free_opts)(co);
                return silo_error_set(err, ENOMEM, "criu: page server options");
        }
        r = CR(silo_criu_page_server)(co, &pid, &got);
        CR(criu_local_free_opts)(co);
        if (r < 0)
                return silo_error_set(err, r > -4096 && r != -EBADE ? -r : 0,
                                      "page server on '%s:%d': %s (log: '%s/%s')",
                                      address ? address : "0.0.0.0", port, CR(silo_criu_last_error)(),
                                      work_path ? work_path : image_path, "page-server.log");
        *ret_pid = pid;
        *ret_port = got ? got : port;
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
