/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Cross-field checks on a parsed spec.  Pure: no syscalls, no filesystem access, so it is unit
 * tested and fuzzed with spec.c.  Each error names the offending field as a JSON pointer.
 */
#ifndef SILO_VALIDATE_H
#define SILO_VALIDATE_H

#include "spec.h"

/* Checks for create/run.  require_process: start needs process (create may omit it). */
int silo_spec_validate(const struct silo_spec *spec, silo_error_t *err);
/* Checks a process (config's or exec's): args non-empty, absolute cwd, env form, rlimits... */
int silo_process_validate(const struct silo_process *p, const char *pointer, silo_error_t *err);

#endif
