/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `silo events`: runc's event stream (interfaces.md §1.12), one JSON object per line:
 *   {"type":"stats","id":ID,"data":{...}}   every interval, or once with --stats
 *   {"type":"oom","id":ID}                  whenever the kernel OOM-kills in the container's cgroup
 */
#ifndef SILO_EVENTS_H
#define SILO_EVENTS_H

#include <stdbool.h>
#include <stdint.h>
#include "container.h"
#include "error.h"

struct silo_events_opts {
        bool stats_once;      /* --stats: one stats event, then exit */
        uint64_t interval_ms; /* --interval, > 0 */
};

/* Parse a Go time.ParseDuration string ("5s", "500ms", "1m30s", "1.5s", "250us") into
 * milliseconds (sub-millisecond remainders are rounded up so that a non-zero duration never
 * becomes 0).  A bare number other than "0" is refused as Go does ("missing unit"). */
int silo_parse_duration_ms(const char *s, uint64_t *ret, silo_error_t *err);

/* Write events for container `id` to fd `out` until the container stops (or just one stats
 * event with stats_once).  Fails with runc's "container with id ID is not running" when it has
 * stopped already. */
int silo_container_events(const struct silo_context *ctx, const char *id, const struct silo_events_opts *o,
                          int out, silo_error_t *err);

#endif
