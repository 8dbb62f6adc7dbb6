/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fault injection for the hardening suite (tests/integration/fault.bats).
 *
 *     SILO_FAULT=create.after-clone silo create ...     silo SIGKILLs itself at that point
 *     SILO_FAULT=a,b                                    at whichever of the points comes first
 *     SILO_FAULT=list silo                              prints every point, one per line, exits 0
 *
 * A point is one line in the code path, `SILO_FAULT_POINT("verb.where");`, in the silo process
 * itself (never in the container init or an exec'd child: the fault being simulated is the
 * runtime dying, e.g. OOM-killed or its caller's timeout firing).  What must hold afterwards:
 * `delete --force ID` exits 0 and nothing is left behind (tests/lib/leakcheck.sh).
 *
 * Invariants:
 *  - every point named in the code is in silo_fault_points[] (fault.c); fault.bats compares the
 *    list with the sources, so a point cannot be added without being exercised;
 *  - without SILO_FAULT in the environment a point costs one cached branch: the variable is read
 *    once per process;
 *  - SIGKILL, not abort() or exit(): no cleanup handler, atexit or buffered output runs, exactly
 *    as when the kernel's OOM killer picks silo.
 */
#ifndef SILO_FAULT_H
#define SILO_FAULT_H

#include "error.h"
#include <stdio.h>

extern const char *const silo_fault_points[];

/* Kill the calling process with SIGKILL when `point` is named in $SILO_FAULT. */
void silo_fault_point(const char *point);

/* For main(): returns 1 for SILO_FAULT=list (the caller prints silo_fault_points and exits 0),
 * 0 otherwise; an unknown name in SILO_FAULT is an error (a typo would otherwise silently test
 * nothing). */
int silo_fault_setup(silo_error_t *err);

/* Print the points, one per line; returns 0. */
int silo_fault_print(FILE *f);

#define SILO_FAULT_POINT(name) silo_fault_point(name)

#endif
