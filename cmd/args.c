/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd.h"
#include "../runtime/log.h"
#include "../runtime/util.h"

static const struct silo_opt *find_long(const struct silo_opt *opts, const char *name, size_t len)
{
        for (const struct silo_opt *o = opts; o && o->name; o++)
                if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
                        return o;
        return NULL;
}

static const struct silo_opt *find_short(const struct silo_opt *opts, char c)
{
        for (const struct silo_opt *o = opts; o && o->name; o++)
                if (o->short_name && o->short_name == c)
                        return o;
        return NULL;
}

static int set_opt(const struct silo_opt *o, const char *flag, const char *value, silo_error_t *err)
{
        switch (o->type) {
        case OPT_BOOL:
        case OPT_TRISTATE: {
                int v;
                if (value == NULL || strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
                        v = 1;
                else if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0)
                        v = 0;
                else
                        return silo_error_set(err, 0, "%s: invalid boolean value '%s'", flag, value);
                if (o->type == OPT_BOOL)
                        *(bool *)o->target = v;
                else
                        *(int *)o->target = v;
                return 0;
        }
        case OPT_STRING:
                *(const char **)o->target = value;
                return 0;
        case OPT_INT: {
                int64_t v;
                if (silo_parse_i64(value, &v) < 0 || v < INT_MIN || v > INT_MAX)
                        return silo_error_set(err, 0, "%s: invalid number '%s'", flag, value);
                *(int *)o->target = (int)v;
                return 0;
        }
        case OPT_STRV:
                silo_strv_push((char ***)o->target, silo_xstrdup(value));
                return 0;
        case OPT_OPTIONAL:
                *(const char **)o->target = value ? value : "true";
                return 0;
        }
        return 0;
}

int silo_parse_args(int argc, char **argv, const struct silo_opt *opts, bool stop_at_positional, char ***ret_pos,
                    int *ret_npos, silo_error_t *err)
{
        char **pos = silo_xmalloc0(sizeof(char *) * (size_t)(argc + 1));
        int npos = 0, r;

        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                const struct silo_opt *o = NULL;
                const char *value = NULL;

                if (strcmp(a, "--") == 0) {
                        while (++i < argc)
                                pos[npos++] = argv[i];
                        break;
                }
                if (a[0] != '-' || a[1] == '\0' || (stop_at_positional && npos > 0)) {
                        pos[npos++] = argv[i];
                        continue;
                }
                const char *name = a + (a[1] == '-' ? 2 : 1);
                const char *eq = strchr(name, '=');
                size_t len = eq ? (size_t)(eq - name) : strlen(name);
                /* single dash: a long name (go's flag package style: -no-subreaper) or a short one */
                o = find_long(opts, name, len);
                if (o == NULL && a[1] != '-' && len == 1)
                        o = find_short(opts, name[0]);
                if (o == NULL) {
                        free(pos);
                        return silo_error_set(err, 0, "flag provided but not defined: '%s'", a);
                }
                if (eq)
                        value = eq + 1;
                else if (o->type == OPT_OPTIONAL) {
                        if (i + 1 < argc && (strcmp(argv[i + 1], "true") == 0 || strcmp(argv[i + 1], "false") == 0 ||
                                             strcmp(argv[i + 1], "auto") == 0))
                                value = argv[++i];
                } else if (o->type != OPT_BOOL && o->type != OPT_TRISTATE) {
                        if (i + 1 >= argc) {
                                free(pos);
                                return silo_error_set(err, 0, "flag needs an argument: '%s'", a);
                        }
                        value = argv[++i];
                }
                r = set_opt(o, a, value, err);
                if (r < 0) {
                        free(pos);
                        return r;
                }
        }
        *ret_pos = pos;
        *ret_npos = npos;
        return 0;
}

char *silo_abs_path(const char *p)
{
        char cwd[PATH_MAX];

        if (p == NULL)
                return NULL;
        /* an existing path is canonicalised ("/b/." -> "/b"), as runc's filepath.Abs cleans it */
        if (realpath(p, cwd))
                return silo_xstrdup(cwd);
        if (p[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
                return silo_xstrdup(p);
        return silo_xasprintf("%s/%s", cwd, p);
}

int silo_cmd_fail(silo_error_t *err)
{
        silo_log_error(*err);
        silo_error_free(err);
        return 1;
}

int silo_cmd_usage(const char *verb, const char *fmt, ...)
{
        silo_error_t err = NULL;
        va_list ap;
        char *msg = NULL;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        silo_error_set(&err, 0, "%s: %s", verb, msg ? msg : "usage error");
        free(msg);
        return silo_cmd_fail(&err);
}

int silo_cmd_need_id(const char *verb, int npos, char **pos, const char **ret_id)
{
        if (npos < 1)
                return silo_cmd_usage(verb, "requires a container id (\"silo %s [options] <container-id>\")", verb);
        if (npos > 1)
                return silo_cmd_usage(verb, "expects exactly one container id, got %d arguments", npos);
        *ret_id = pos[0];
        return 0;
}
