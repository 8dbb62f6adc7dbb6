/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CLI layer: one file per verb.  A verb parses its own flags (runc's names and aliases), turns
 * relative paths into absolute ones against the caller's cwd, calls one silo_container_* function
 * and reports an error once.  Return value = process exit code.
 */
#ifndef SILO_CMD_H
#define SILO_CMD_H

#include <stdbool.h>
#include "../runtime/container.h"
#include "../runtime/error.h"

struct silo_global {
        struct silo_context ctx;
        const char *log_path;
        const char *log_format;
        const char *data_root; /* images: --data-root */
};

/* OPT_OPTIONAL: a string whose value is optional and taken from the next argument only when it
 * is one of true|false|auto (--rootless, as runc accepts it) */
/* OPT_TRISTATE: a boolean into an int that the caller pre-sets to -1 ("not given") */
enum silo_opt_type { OPT_BOOL, OPT_STRING, OPT_INT, OPT_STRV, OPT_OPTIONAL, OPT_TRISTATE };

struct silo_opt {
        const char *name; /* long name without dashes; also accepted with a single dash */
        char short_name;  /* 0 = none */
        enum silo_opt_type type;
        void *target; /* bool*, const char**, int*, char*** */
};

/*
 * Parse argv[1..] (argv[0] is the verb).  Accepts --name value, --name=value, -name value,
 * -x value, bool --name / --name=true|false, repeated flags, and "--".  With stop_at_first
 * positional (exec, kill, ps), everything after the first non-option is positional.
 * Positional args are returned in *ret_pos (pointers into argv).
 */
int silo_parse_args(int argc, char **argv, const struct silo_opt *opts, bool stop_at_positional, char ***ret_pos,
                    int *ret_npos, silo_error_t *err);
/* Absolute path of p relative to the caller's cwd (not resolved). Caller frees. */
char *silo_abs_path(const char *p);
/* Report err once (log sink + stderr), free it, return 1. */
int silo_cmd_fail(silo_error_t *err);
/* Usage error for a verb: "<verb>: <msg>" + 1. */
int silo_cmd_usage(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Common: exactly one positional argument, the container id. */
int silo_cmd_need_id(const char *verb, int npos, char **pos, const char **ret_id);

int cmd_create(struct silo_global *g, int argc, char **argv);
int cmd_start(struct silo_global *g, int argc, char **argv);
int cmd_run(struct silo_global *g, int argc, char **argv);
int cmd_state(struct silo_global *g, int argc, char **argv);
int cmd_kill(struct silo_global *g, int argc, char **argv);
int cmd_delete(struct silo_global *g, int argc, char **argv);
int cmd_list(struct silo_global *g, int argc, char **argv);
int cmd_spec(struct silo_global *g, int argc, char **argv);
int cmd_features(struct silo_global *g, int argc, char **argv);
int cmd_pause(struct silo_global *g, int argc, char **argv);
int cmd_resume(struct silo_global *g, int argc, char **argv);
int cmd_ps(struct silo_global *g, int argc, char **argv);
int cmd_update(struct silo_global *g, int argc, char **argv);
int cmd_exec(struct silo_global *g, int argc, char **argv);
int cmd_events(struct silo_global *g, int argc, char **argv);
/* checkpoint/restore through CRIU (cmd/checkpoint.c) */
int cmd_checkpoint(struct silo_global *g, int argc, char **argv);
int cmd_restore(struct silo_global *g, int argc, char **argv);
int cmd_migrate(struct silo_global *g, int argc, char **argv); /* cmd/migrate.c */
/* images (cmd/image.c): `silo image ...`, and create/run when --image is given */
int cmd_image(struct silo_global *g, int argc, char **argv);
bool silo_cmd_wants_image(int argc, char **argv);
int cmd_image_run(struct silo_global *g, int argc, char **argv, bool is_run);

#endif
