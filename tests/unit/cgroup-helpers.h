/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The safety net shared by the unit tests that use real cgroups (test-cgroup, test-cgroup-stats,
 * test-cgroup-devices): the tests run in a forked child; the parent then removes the test's own
 * cgroup tree <root>/<hierarchy>/<name> (and <root>/<name> on a pure v2 host), killing what is
 * in it, whatever happened to the child, so a failed or crashed test never leaves cgroups
 * behind.  Nothing but the directory named `name` (always "silo-test-...-<pid>") is touched.
 */
#ifndef SILO_TEST_CGROUP_HELPERS_H
#define SILO_TEST_CGROUP_HELPERS_H

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cgroups/cgroup-internal.h"
#include "runtime/util.h"

#ifndef CG_TEST_ROOT
#define CG_TEST_ROOT "/sys/fs/cgroup"
#endif

/* Pass 1 thaws and kills everything in the tree, pass 2 removes it: a frozen task only dies once
 * thawed, and the freezer hierarchy may come after the others in readdir order. */
static void cg_test_sweep(const char *dir, bool remove)
{
        _cleanup_closedir_ DIR *d = opendir(dir);
        _cleanup_free_ char *procs = NULL;
        struct dirent *de;

        if (d == NULL)
                return;
        if (!remove) {
                silo_cg_write(dir, "freezer.state", "THAWED", NULL, NULL);
                silo_cg_write(dir, "cgroup.freeze", "0", NULL, NULL);
                if (silo_cg_read(dir, "cgroup.procs", &procs) == 0)
                        for (char *l = procs; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
                                if (atoi(l) > 0)
                                        kill(atoi(l), SIGKILL);
        }
        while ((de = readdir(d)) != NULL) {
                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *sub = silo_xasprintf("%s/%s", dir, de->d_name);
                cg_test_sweep(sub, remove);
        }
        if (remove)
                for (int i = 0; i < 300 && rmdir(dir) < 0 && errno == EBUSY; i++) {
                        while (waitpid(-1, NULL, WNOHANG) > 0) /* orphans of the test child */
                                ;
                        usleep(10000);
                }
}

/* Remove every <root>/<hier>/<name> and <root>/<name>; returns how many existed. */
static int cg_test_cleanup(const char *name)
{
        int left = 0;

        for (int pass = 0; pass < 2; pass++) {
                _cleanup_closedir_ DIR *d = opendir(CG_TEST_ROOT);
                struct dirent *de;
                bool top_done = false;

                while (d) {
                        _cleanup_free_ char *p = NULL;

                        de = readdir(d);
                        if (de == NULL && top_done)
                                break;
                        if (de == NULL) {
                                p = silo_xasprintf(CG_TEST_ROOT "/%s", name); /* pure v2 */
                                top_done = true;
                        } else if (de->d_name[0] != '.' && strcmp(de->d_name, name) != 0) {
                                p = silo_xasprintf(CG_TEST_ROOT "/%s/%s", de->d_name, name);
                        } else {
                                continue;
                        }
                        if (access(p, F_OK) != 0)
                                continue;
                        if (pass == 0) {
                                printf("# cleanup: removing %s\n", p);
                                left++;
                        }
                        cg_test_sweep(p, pass == 1);
                        if (pass == 1 && access(p, F_OK) == 0)
                                printf("# cleanup: could not remove %s\n", p);
                }
        }
        return left;
}

/* Run fn in a forked child (alarm after `seconds`), then clean up `name`.  The exit status for
 * main(): the child's, or 1 when it died or left cgroups behind. */
static int cg_test_run_forked(const char *name, int (*fn)(void), unsigned seconds)
{
        pid_t child;
        int st = 0;

        /* children orphaned by a crashed test child come to us, to be reaped during cleanup */
        prctl(PR_SET_CHILD_SUBREAPER, 1);
        fflush(stdout);
        child = fork();
        if (child < 0)
                return 1;
        if (child == 0) {
                alarm(seconds);
                int rc = fn();
                fflush(stdout);
                _exit(rc);
        }
        while (waitpid(child, &st, 0) < 0 && errno == EINTR)
                ;
        /* the children of the test child are reparented: anything still in our cgroups dies here */
        if (cg_test_cleanup(name) > 0) {
                printf("# the test left cgroups behind (removed now)\n");
                return 1;
        }
        if (!WIFEXITED(st)) {
                printf("# test process died (status 0x%x)\n", st);
                return 1;
        }
        return WEXITSTATUS(st);
}

#endif
