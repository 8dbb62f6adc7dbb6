/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "error.h"

int silo_error_ret(const silo_error_t err)
{
        if (err && err->code > 0)
                return -err->code;
        return -EINVAL;
}

int silo_error_setv(silo_error_t *err, int code, const char *fmt, va_list ap)
{
        struct silo_error *e;
        char *msg = NULL;

        if (code < 0)
                code = -code;
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        if (err == NULL) {
                free(msg);
                return code > 0 ? -code : -EINVAL;
        }
        silo_error_free(err);
        e = calloc(1, sizeof(*e));
        if (e == NULL) {
                free(msg);
                return -ENOMEM;
        }
        e->code = code;
        e->msg = msg ? msg : strdup("out of memory");
        *err = e;
        return silo_error_ret(e);
}

int silo_error_set(silo_error_t *err, int code, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = silo_error_setv(err, code, fmt, ap);
        va_end(ap);
        return r;
}

int silo_error_wrap(silo_error_t *err, const char *fmt, ...)
{
        char *ctx = NULL, *msg = NULL;
        va_list ap;

        if (err == NULL || *err == NULL)
                return -EINVAL;
        va_start(ap, fmt);
        if (vasprintf(&ctx, fmt, ap) < 0)
                ctx = NULL;
        va_end(ap);
        if (ctx && asprintf(&msg, "%s: %s", ctx, (*err)->msg) >= 0) {
                free((*err)->msg);
                (*err)->msg = msg;
        }
        free(ctx);
        return silo_error_ret(*err);
}

char *silo_error_text(const silo_error_t err)
{
        char *s = NULL;

        if (err == NULL)
                return strdup("unknown error");
        if (err->code > 0) {
                /* Go's (and so runc's) errno texts are lower case ("no such file or directory");
                 * callers such as podman match on them */
                const char *e = strerror(err->code);
                if (asprintf(&s, "%s: %c%s", err->msg, tolower((unsigned char)e[0]), e + 1) < 0)
                        return NULL;
                return s;
        }
        return strdup(err->msg);
}

void silo_error_free(silo_error_t *err)
{
        if (err == NULL || *err == NULL)
                return;
        free((*err)->msg);
        free(*err);
        *err = NULL;
}
