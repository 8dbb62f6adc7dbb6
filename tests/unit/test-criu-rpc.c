/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * silo-criu.so, CRIU's RPC client (issue 6), against the installed criu: VERSION and
 * FEATURE_CHECK requests, silo_criu_page_server_start (the criu binary), the
 * error naming the request, and an option set built and freed (ASan sees the frees).  Dumps and
 * restores need the v2 guest (tests/integration-v2/checkpoint*.bats).
 *
 * Invariant: the page server runs in a network namespace of this test's own (unshare), on its
 * loopback, and is killed; its image dir is a mkdtemp under /tmp, removed at the end.
 */
#include "config.h"
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
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
int main(void)
{
        char exe[PATH_MAX], plugin[PATH_MAX + 32], dir[] = "/tmp/silo-criu-rpc-XXXXXX";
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        struct criu_feature_check f = {.mem_track = true, .lazy_pages = true};
        silo_error_t err = NULL;
        criu_opts *co = NULL;
        pid_t ps = 0;
        int port = 0, r;
        bool kernel_ok;

        if (geteuid() != 0)
                skip_all("needs root (criu)");
        if (n <= 0)
                skip_all("no /proc/self/exe");
        exe[n] = '\0';
        *strrchr(exe, '/') = '\0';
        snprintf(plugin, sizeof(plugin), "%s/../../silo-criu.so", exe); /* tests/unit/ -> build dir */
        silo_criu_plugin_path = plugin;
        if (access(plugin, R_OK) < 0 || !silo_criu_available())
                skip_all("silo-criu.so or criu not installed");
        if (unshare(CLONE_NEWNET) < 0 || silo_loopback_up() < 0)
                skip_all("cannot make a network namespace");

        r = silo_criu_dl_load(&err);
        ok(r == 0, "the plugin loads, every slot resolved%s%s", err ? ": " : "", err ? err->msg : "");
        if (r < 0)
                return done();

        r = CR(criu_local_get_version)(NULL);
        ok(r >= 30000, "VERSION: criu %d.%d.%d", r / 10000, r / 100 % 100, r % 100);

        /* CRIU 3.17 cannot init on some kernels (the CI host's 6.18: vdso); it says so, named */
        r = CR(criu_local_feature_check)(NULL, &f, sizeof(f));
        kernel_ok = r == 0;
        ok(r == 0 || (r == -EBADE && strstr(CR(silo_criu_last_error)(), "CRIU request FEATURE_CHECK")),
           "FEATURE_CHECK answers (%s; mem_track %d, lazy_pages %d)",
           r == 0 ? "ok" : CR(silo_criu_last_error)(), f.mem_track, f.lazy_pages);

        /* an option set with every kind of field, freed without a request */
        ok(CR(criu_local_init_opts)(&co) == 0, "init_opts");
        CR(criu_local_set_pid)(co, 1);
        ok(CR(criu_local_add_ext_mount)(co, "/a", "/b") == 0 &&
               CR(criu_local_add_ext_mount)(co, "/c", "/d") == 0 &&
               CR(criu_local_add_cg_root)(co, NULL, "/x") == 0 &&
               CR(criu_local_add_inherit_fd)(co, 5, "k") == 0 &&
               CR(criu_local_add_external)(co, "net[1]:k") == 0 && CR(criu_local_set_root)(co, "/r") == 0 &&
               CR(criu_local_set_parent_images)(co, "../p") == 0 &&
               CR(criu_local_set_log_file)(co, "l") == 0 &&
               CR(criu_local_set_page_server_address_port)(co, "127.0.0.1", 1) == 0,
           "repeated and string options accumulate");
        CR(silo_criu_set_empty_ns)(co, CLONE_NEWNET);
        CR(silo_criu_set_lazy_pages)(co, true);
        CR(silo_criu_set_status_fd)(co, 1);
        CR(criu_local_free_opts)(co);

        if (mkdtemp(dir) == NULL)
                return done();
        r = kernel_ok ? silo_criu_page_server_start(dir, NULL, "127.0.0.1", 27555, &ps, &port, &err) : -1;
        if (!kernel_ok)
                printf("# skipping the page server: CRIU does not work on this kernel\n");
        else
                ok(r == 0 && ps > 0 && port > 0, "page server: a daemon listens (pid %d, port %d)%s%s",
                   (int)ps, port, err ? ": " : "", err ? err->msg : "");
        if (r == 0) {
                struct sockaddr_in a = {.sin_family = AF_INET,
                                        .sin_port = htons((uint16_t)port),
                                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
                int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                ok(s >= 0 && connect(s, (struct sockaddr *)&a, sizeof(a)) == 0,
                   "the page server accepts a connection");
                if (s >= 0)
                        close(s);
                if (ps > 0)
                        kill(ps, SIGKILL);
        }
        silo_error_free(&err);

        /* a refused request names itself and CRIU's reason; a failed page server its log */
        f = (struct criu_feature_check){0};
        r = CR(criu_local_feature_check)(NULL, &f, 0);
        is_int(r, -EINVAL, "a short feature struct is refused");
        r = silo_criu_page_server_start(dir, NULL, "not-an-address", 1, &ps, &port, &err);
        ok(r < 0 && err && strstr(err->msg, "page-server.log"), "a failed page server names its log: %s",
           err ? err->msg : "(no error)");
        silo_error_free(&err);
        silo_rm_rf_at(AT_FDCWD, dir);
        return done();
}
#endif
