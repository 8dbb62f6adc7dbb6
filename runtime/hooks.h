/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * OCI hooks: run with exactly the given args (argv[0] included) and env, the container state JSON
 * on stdin, stdout/stderr captured (bounded) and quoted in the error when the hook fails, and a
 * SIGKILL when `timeout` seconds pass.  The hook never inherits a silo fd other than 0/1/2.
 */
#ifndef SILO_HOOKS_H
#define SILO_HOOKS_H

#include "spec.h"

/* Run one hook.  Error text: "hook '<path>': exited with status 3: <captured output>",
 * "... killed by signal 9", "... timed out after 5s", or the exec errno. */
int silo_hook_run(const struct silo_hook *h, const char *state_json, silo_error_t *err);
/* Run all hooks of a kind in order; stops at the first failure, wrapping the error with
 * "<kind> hook #<i>". */
int silo_hooks_run(const struct silo_spec *spec, enum silo_hook_kind kind, const char *state_json,
                   silo_error_t *err);

#endif
