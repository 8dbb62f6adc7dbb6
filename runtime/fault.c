/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fault injection points (see fault.h).  The table below is the list `SILO_FAULT=list` prints
 * and fault.bats iterates over; fault.bats also checks it against the SILO_FAULT_POINT() lines
 * in the sources, so the two cannot drift apart.
 *
 * Invariants: $SILO_FAULT is read once per process (the first point reached, or
 * silo_fault_setup); nothing here allocates, so a point is safe anywhere in the silo process.
 */
#include "config.h"
#include <signal.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fault.h"
#include "error.h"

const char *const silo_fault_points[] = {
        /* create / run (runtime/container.c, runtime/sandbox-ns.c) */
        "create.after-state-dir",
        "create.after-cgroup",
        "create.after-fifo",
        "create.after-network-prepare",
        "create.after-clone",
        "create.after-network-attach",
        "create.before-created",
        "create.done",
        /* start */
        "start.before-release",
        "start.after-release",
        /* exec (runtime/sandbox-ns.c) */
        "exec.after-clone",
        "exec.before-wait",
        /* delete */
        "delete.after-kill",
        "delete.after-cgroup",
        "delete.after-network",
        "delete.before-state-remove",
        /* network setup (netns/net.c) */
        "net.after-lease",
        "net.after-veth",
        /* image import (image/import.c, image/unpack.c) and run --image (image/ctr.c) */
        "image.unpack-mid-layer",
        "image.before-layer-rename",
        "image.before-index",
        "image.ctr-after-mount",
        /* checkpoint / restore (checkpoint/checkpoint.c, checkpoint/archive.c) */
        "checkpoint.before-dump",
        "checkpoint.after-dump",
        "checkpoint.mid-export",
        "restore.import-mid-unpack",
        "restore.import-after-diff",
        "restore.after-cgroup",
        "restore.after-criu",
        /* silo migrate, the destination (checkpoint/migrate-recv.c) */
        "migrate.before-restore",
        NULL,
};

static const char *fault_env(void)
{
        static bool read;
        static const char *v;

        if (!read) {
                v = getenv("SILO_FAULT");
                if (v && v[0] == '\0')
                        v = NULL;
                read = true;
        }
        return v;
}

/* Is `point` one of the comma-separated names in `list`? */
static bool named(const char *list, const char *point)
{
        size_t n = strlen(point);

        for (const char *p = list; p && *p;) {
                size_t len = strcspn(p, ",");
                if (len == n && strncmp(p, point, n) == 0)
                        return true;
                p += len;
                if (*p == ',')
                        p++;
        }
        return false;
}

void silo_fault_point(const char *point)
{
        const char *v = fault_env();

        if (v && named(v, point))
                kill(getpid(), SIGKILL);
}

int silo_fault_print(FILE *f)
{
        for (size_t i = 0; silo_fault_points[i]; i++)
                fprintf(f, "%s\n", silo_fault_points[i]);
        return 0;
}

int silo_fault_setup(silo_error_t *err)
{
        const char *v = fault_env();

        if (v == NULL)
                return 0;
        if (strcmp(v, "list") == 0)
                return 1;
        for (const char *p = v; *p;) {
                size_t len = strcspn(p, ",");
                bool known = false;
                for (size_t i = 0; silo_fault_points[i] && !known; i++)
                        known = strlen(silo_fault_points[i]) == len && strncmp(silo_fault_points[i], p, len) == 0;
                if (!known)
                        return silo_error_set(err, 0, "SILO_FAULT: unknown fault point '%.*s' "
                                                      "(SILO_FAULT=list silo prints them)", (int)len, p);
                p += len;
                if (*p == ',')
                        p++;
        }
        return 0;
}
