/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `silo events`: stats and OOM events of one container, as runc prints them.
 *
 * Invariants:
 *   - The container lock is NOT held while watching (silo_container_watch drops it): events may
 *     run for the container's whole life and must not block kill/delete/update.
 *   - The end of the container is seen through a pidfd of the init (checked against the recorded
 *     start time after opening, so a recycled pid is never watched); without pidfd_open the
 *     loop polls the init's liveness every WATCH_FALLBACK_MS.  A deleted cgroup also ends it.
 *   - An OOM kill that ends the container is still reported: the OOM counter is checked once
 *     more after the init died (v2 memory.events is notified asynchronously by the kernel).
 *   - runc keeps printing stats of a stopped container until killed; silo ends with status 0
 *     when the container stops (the stream has nothing left to say, and callers see EOF).
 */
#include "config.h"
#include <errno.h>
#include <stdint.h>
#include <math.h>
#include <poll.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include "../cgroups/cgroup.h"
#include "events.h"
#include "log.h"
#include "util.h"

#define WATCH_FALLBACK_MS 250

/* ---------------------------------------------------------------- durations */

int silo_parse_duration_ms(const char *s, uint64_t *ret, silo_error_t *err)
{
        static const struct {
                const char *unit;
                double ns;
        } units[] = {
            /* the longest unit that matches wins: "ms" over "m" */
            {"ns", 1},   {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"\xce\xbcs", 1e3},
            {"ms", 1e6}, {"s", 1e9},  {"m", 60e9},        {"h", 3600e9},
        };
        const char *p = s;
        double total = 0;

        if (s == NULL || *s == '\0')
                return silo_error_set(err, EINVAL, "invalid duration ''");
        if (*p == '+')
                p++;
        else if (*p == '-')
                return silo_error_set(err, EINVAL, "duration '%s' must be greater than 0", s);
        if (strcmp(p, "0") == 0) {
                *ret = 0;
                return 0;
        }
        while (*p) {
                char *end;
                double v;
                size_t best = 0, best_len = 0;

                if (!(*p >= '0' && *p <= '9') && *p != '.')
                        return silo_error_set(err, EINVAL, "invalid duration '%s'", s);
                errno = 0;
                v = strtod(p, &end);
                if (end == p || errno != 0 || !isfinite(v))
                        return silo_error_set(err, EINVAL, "invalid duration '%s'", s);
                p = end;
                for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
                        size_t n = strlen(units[i].unit);
                        if (strncmp(p, units[i].unit, n) == 0 && n > best_len) {
                                best = i;
                                best_len = n;
                        }
                }
                if (best_len == 0)
                        return silo_error_set(err, EINVAL, "missing or unknown unit in duration '%s'", s);
                total += v * units[best].ns;
                p += best_len;
        }
        if (total > 1e18)
                return silo_error_set(err, ERANGE, "duration '%s' is too large", s);
        *ret = (uint64_t)(total / 1e6);
        if ((double)*ret * 1e6 < total)
                (*ret)++;
        return 0;
}

/* ---------------------------------------------------------------- output */

/* One event line: {"type":TYPE,"id":ID[,"data":DATA]}\n.  DATA is already JSON. */
static int emit(int out, const char *type, const char *id, const char *data, silo_error_t *err)
{
        yajl_gen g = yajl_gen_alloc(NULL);
        const unsigned char *buf;
        size_t len;
        struct silo_buf b = {0};
        int r = 0;

        /* the id is validated, but let yajl do the quoting anyway */
        yajl_gen_string(g, (const unsigned char *)id, strlen(id));
        yajl_gen_get_buf(g, &buf, &len);
        silo_buf_printf(&b, "{\"type\":\"%s\",\"id\":%.*s", type, (int)len, (const char *)buf);
        yajl_gen_free(g);
        if (data)
                silo_buf_printf(&b, ",\"data\":%s", data);
        silo_buf_puts(&b, "}\n");
        if (silo_write_all(out, b.data, b.len) < 0)
                r = silo_error_set(err, errno, "events: write");
        silo_buf_free(&b);
        return r;
}

static int emit_stats(int out, const char *id, struct silo_cgroup *cg, silo_error_t *err)
{
        _cleanup_free_ char *json = NULL;
        int r = silo_cgroup_stats_json(cg, &json, err);

        if (r < 0)
                return r;
        return emit(out, "stats", id, json, err);
}

static uint64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- the watch loop */

struct watch {
        const char *id;
        int out;
        struct silo_cgroup *cg;
        pid_t pid;
        unsigned long long start_time;
        int pidfd; /* -1: poll liveness instead */
        int oomfd; /* -1: no OOM events (no memory controller) */
        uint64_t oom_last;
};

/* 0 = nothing, 1 = emitted an OOM event; the fd is dropped once the cgroup is gone */
static int check_oom(struct watch *w, silo_error_t *err)
{
        silo_error_t e = NULL;
        int r;

        if (w->oomfd < 0)
                return 0;
        r = silo_cgroup_oom_check(w->cg, w->oomfd, &w->oom_last, &e);
        if (r < 0) {
                silo_debug("events: %s, no more OOM events", e->msg);
                silo_error_free(&e);
                close(w->oomfd);
                w->oomfd = -1;
                return 0;
        }
        if (r == 0)
                return 0;
        r = emit(w->out, "oom", w->id, NULL, err);
        return r < 0 ? r : 1;
}

static int open_watch(struct watch *w, silo_error_t *err)
{
        silo_error_t e = NULL;
        int r;

        w->pidfd = (int)syscall(SYS_pidfd_open, w->pid, 0);
        if (w->pidfd < 0 && errno == ESRCH)
                return silo_error_set(err, 0, "container with id %s is not running", w->id);
        if (w->pidfd < 0)
                silo_debug("events: pidfd_open %d: %s, polling instead", (int)w->pid, strerror(errno));
        /* the pid may have been recycled between the state check and pidfd_open */
        if (!silo_proc_alive(w->pid, w->start_time))
                return silo_error_set(err, 0, "container with id %s is not running", w->id);
        r = silo_cgroup_oom_fd(w->cg, &w->oomfd, &e);
        if (r < 0) {
                /* no memory controller: stats only (runc logs and goes on too) */
                silo_debug("events: %s", e->msg);
                silo_error_free(&e);
                w->oomfd = -1;
                return 0;
        }
        /* record the current oom_kill count: only new kills are events */
        if (silo_cgroup_oom_check(w->cg, w->oomfd, &w->oom_last, &e) < 0) {
                silo_error_free(&e);
                close(w->oomfd);
                w->oomfd = -1;
        }
        return 0;
}

static int watch_loop(struct watch *w, uint64_t interval_ms, silo_error_t *err)
{
        uint64_t next = now_ms() + interval_ms;
        int r;

        for (;;) {
                struct pollfd p[2];
                nfds_t n = 0;
                int pid_idx = -1, oom_idx = -1, timeout;
                uint64_t now = now_ms();
                bool stopped = false;

                timeout = next > now ? (int)(next - now > INT32_MAX ? INT32_MAX : next - now) : 0;
                if (w->pidfd < 0 && timeout > WATCH_FALLBACK_MS)
                        timeout = WATCH_FALLBACK_MS;
                if (w->pidfd >= 0) {
                        pid_idx = (int)n;
                        p[n++] = (struct pollfd){.fd = w->pidfd, .events = POLLIN};
                }
                if (w->oomfd >= 0) {
                        oom_idx = (int)n;
                        p[n++] = (struct pollfd){.fd = w->oomfd, .events = POLLIN};
                }
                r = poll(p, n, timeout);
                if (r < 0 && errno != EINTR)
                        return silo_error_set(err, errno, "events: poll");
                if (r > 0 && oom_idx >= 0 && p[oom_idx].revents) {
                        r = check_oom(w, err);
                        if (r < 0)
                                return r;
                }
                if (pid_idx >= 0)
                        stopped = r > 0 && p[pid_idx].revents;
                else
                        stopped = !silo_proc_alive(w->pid, w->start_time);
                if (stopped) {
                        /* v2 notifies memory.events from a workqueue: the counter is read
                         * directly, whether or not the inotify event has arrived yet */
                        r = check_oom(w, err);
                        return r < 0 ? r : 0;
                }
                now = now_ms();
                if (now >= next) {
                        silo_error_t e = NULL;
                        if (emit_stats(w->out, w->id, w->cg, &e) < 0) {
                                /* a closed reader or a deleted cgroup ends the stream; anything
                                 * else is reported and the next tick tries again, as runc does */
                                if (e->code == EPIPE) {
                                        *err = e;
                                        return -EPIPE;
                                }
                                if (e->code == ENOENT) {
                                        silo_error_free(&e);
                                        return 0;
                                }
                                silo_warn("events: %s", e->msg);
                                silo_error_free(&e);
                        }
                        next += interval_ms;
                        if (next <= now)
                                next = now + interval_ms;
                }
        }
}

int silo_container_events(const struct silo_context *ctx, const char *id, const struct silo_events_opts *o,
                          int out, silo_error_t *err)
{
        struct watch w = {.id = id, .out = out, .pidfd = -1, .oomfd = -1};
        int r;

        r = silo_container_watch(ctx, id, &w.cg, &w.pid, &w.start_time, err);
        if (r < 0)
                return r;
        if (o->stats_once) {
                r = emit_stats(out, id, w.cg, err);
                silo_cgroup_free(w.cg);
                return r;
        }
        if (o->interval_ms == 0) {
                silo_cgroup_free(w.cg);
                return silo_error_set(err, 0, "duration interval must be greater than 0");
        }
        r = open_watch(&w, err);
        if (r == 0)
                r = watch_loop(&w, o->interval_ms, err);
        if (w.pidfd >= 0)
                close(w.pidfd);
        if (w.oomfd >= 0)
                close(w.oomfd);
        silo_cgroup_free(w.cg);
        return r;
}
