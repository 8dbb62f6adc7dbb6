/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Logging.  One sink per process: stderr (default) or the --log FILE (opened O_APPEND,
 * O_CLOEXEC, so it never leaks into a container), in text or JSON-lines format.
 *
 * JSON lines look like {"level":"error","msg":"...","time":"RFC3339"}.  Podman parses the whole
 * log file as ONE object, so in JSON mode only errors are written unless --debug is given;
 * containerd keeps the last error line.  An error written to a log file is also copied to
 * stderr as plain text (callers such as conmon read stderr).
 *
 * Library code logs only at debug and warning level; errors are reported once by cmd/.
 */
#ifndef SILO_LOG_H
#define SILO_LOG_H

#include <stdbool.h>
#include "error.h"

enum silo_log_level { SILO_LOG_ERROR, SILO_LOG_WARNING, SILO_LOG_INFO, SILO_LOG_DEBUG };

int silo_log_init(const char *path, const char *format, bool debug, silo_error_t *err);
bool silo_log_debug_enabled(void);
/* fd of the log file or -1; used to keep it open across the init child's fd cleanup. */
int silo_log_fd(void);
void silo_log(enum silo_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print an error once: to the log sink and, if that is a file, also to stderr. */
void silo_log_error(const silo_error_t err);
/* Tag prefixed to text lines, e.g. "silo" or "silo:[1:INIT]". */
void silo_log_set_tag(const char *tag);

#define silo_debug(...)                                                                                      \
        do {                                                                                                 \
                if (silo_log_debug_enabled())                                                               \
                        silo_log(SILO_LOG_DEBUG, __VA_ARGS__);                                               \
        } while (0)
#define silo_warn(...) silo_log(SILO_LOG_WARNING, __VA_ARGS__)

#endif
