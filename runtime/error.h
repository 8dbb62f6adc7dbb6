/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Error contract used by every module.
 *
 * A function that can fail takes `silo_error_t *err` as its last parameter and returns a
 * negative value (-errno, or -EINVAL when there is no errno) after filling *err with an
 * allocated error.  Library code never prints errors: only cmd/ does, once, through
 * silo_error_report().  The message names what was wrong (a JSON pointer such as
 * '/process/args', a path or a hook) and, when `code` is non-zero, strerror(code) is
 * appended when the error is printed.
 *
 * Errors cross process boundaries (init child -> parent) as {code, message} over the sync
 * socket and are rebuilt with silo_error_set(err, code, "%s", msg) on the other side.
 */
#ifndef SILO_ERROR_H
#define SILO_ERROR_H

#include <stdarg.h>

struct silo_error {
        int code;  /* errno value, 0 when the error has none */
        char *msg; /* without the strerror suffix */
};
typedef struct silo_error *silo_error_t;

/* Set *err (freeing any previous one) and return a negative value: -code, or -EINVAL. */
int silo_error_set(silo_error_t *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int silo_error_setv(silo_error_t *err, int code, const char *fmt, va_list ap);
/* Prefix the existing error with context: "context: old message".  Returns the same negative value. */
int silo_error_wrap(silo_error_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The full text: "msg: strerror(code)".  Caller frees. */
char *silo_error_text(const silo_error_t err);
void silo_error_free(silo_error_t *err);
/* Negative return value matching an existing error. */
int silo_error_ret(const silo_error_t err);

#endif
