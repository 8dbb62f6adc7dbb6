/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "util.h"

static int log_fd = -1; /* -1: stderr */
static bool log_json;
static bool log_debug;
static const char *log_tag = "silo";

static const char *const level_names[] = {"error", "warning", "info", "debug"};

int silo_log_init(const char *path, const char *format, bool debug, silo_error_t *err)
{
        log_debug = debug;
        if (format) {
                if (strcmp(format, "json") == 0)
                        log_json = true;
                else if (strcmp(format, "text") == 0)
                        log_json = false;
                else
                        return silo_error_set(err, 0, "--log-format: unknown format '%s' (want text or json)",
                                              format);
        }
        if (path && *path) {
                /* crun accepts "file:PATH"; journald/syslog targets are not supported here */
                if (strncmp(path, "file:", 5) == 0)
                        path += 5;
                int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
                if (fd < 0)
                        return silo_error_set(err, errno, "--log: open '%s'", path);
                log_fd = fd;
        }
        return 0;
}

bool silo_log_debug_enabled(void)
{
        return log_debug;
}

int silo_log_fd(void)
{
        return log_fd;
}

void silo_log_set_tag(const char *tag)
{
        log_tag = tag;
}

static void json_escape(struct silo_buf *b, const char *s)
{
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (c == '"' || c == '\\')
                        silo_buf_printf(b, "\\%c", c);
                else if (c == '\n')
                        silo_buf_puts(b, "\\n");
                else if (c == '\t')
                        silo_buf_puts(b, "\\t");
                else if (c < 0x20)
                        silo_buf_printf(b, "\\u%04x", c);
                else
                        silo_buf_putc(b, (char)c);
        }
}

static void emit(int fd, bool json, enum silo_log_level level, const char *msg)
{
        struct silo_buf b = {0};
        char ts[64];

        silo_rfc3339_now(ts, sizeof(ts));
        if (json) {
                silo_buf_printf(&b, "{\"level\":\"%s\",\"msg\":\"", level_names[level]);
                json_escape(&b, msg);
                silo_buf_printf(&b, "\",\"time\":\"%s\"}\n", ts);
        } else if (fd >= 0) {
                silo_buf_printf(&b, "%s %s[%d]: %s: %s\n", ts, log_tag, (int)getpid(), level_names[level], msg);
        } else if (level == SILO_LOG_ERROR) {
                silo_buf_printf(&b, "%s: %s\n", log_tag, msg);
        } else {
                silo_buf_printf(&b, "%s: %s: %s\n", log_tag, level_names[level], msg);
        }
        if (b.data)
                (void)silo_write_all(fd >= 0 ? fd : STDERR_FILENO, b.data, b.len);
        silo_buf_free(&b);
}

void silo_log(enum silo_log_level level, const char *fmt, ...)
{
        char *msg = NULL;
        va_list ap;
        int saved = errno;

        if (level == SILO_LOG_DEBUG && !log_debug)
                return;
        /* Podman reads the JSON log as a single object: keep it to the one error. */
        if (log_json && log_fd >= 0 && level != SILO_LOG_ERROR && !log_debug)
                return;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        if (msg) {
                emit(log_fd, log_json && log_fd >= 0, level, msg);
                free(msg);
        }
        errno = saved;
}

void silo_log_error(const silo_error_t err)
{
        char *text = silo_error_text(err);

        if (text == NULL)
                return;
        emit(log_fd, log_json && log_fd >= 0, SILO_LOG_ERROR, text);
        if (log_fd >= 0)
                emit(-1, false, SILO_LOG_ERROR, text);
        free(text);
}
