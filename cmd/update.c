/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cmd.h"
#include "../runtime/spec.h"
#include "../runtime/util.h"

/* update [-r FILE|-] [runc's resource flags] ID: a linux.resources document and/or flags. */

/* "512m", "1G", "1024k", "100", "-1" (runc: docker's units.RAMInBytes, binary multiples). */
static int parse_size(const char *s, int64_t *ret)
{
        char *end;
        long long v;
        int64_t mult = 1;

        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno || end == s)
                return -EINVAL;
        if (*end) {
                switch (tolower((unsigned char)*end)) {
                case 'b': mult = 1; break;
                case 'k': mult = 1LL << 10; break;
                case 'm': mult = 1LL << 20; break;
                case 'g': mult = 1LL << 30; break;
                case 't': mult = 1LL << 40; break;
                default: return -EINVAL;
                }
                end++;
                if (*end && tolower((unsigned char)*end) == 'i')
                        end++;
                if (*end && tolower((unsigned char)*end) == 'b' && mult > 1)
                        end++;
                if (*end)
                        return -EINVAL;
        }
        if (v < -1 || (v > 0 && v > INT64_MAX / mult))
                return -ERANGE;
        *ret = v == -1 ? -1 : v * mult;
        return 0;
}

struct flag {
        const char *name;
        const char *value;
        bool size; /* memory units allowed */
};

int cmd_update(struct silo_global *g, int argc, char **argv)
{
        const char *resources = NULL, *cpus = NULL, *mems = NULL, *ignored = NULL;
        struct flag flags[] = {
                {"blkio-weight", NULL, false},   {"cpu-period", NULL, false},
                {"cpu-quota", NULL, false},      {"cpu-burst", NULL, false},
                {"cpu-share", NULL, false},      {"cpu-rt-period", NULL, false},
                {"cpu-rt-runtime", NULL, false}, {"memory", NULL, true},
                {"memory-reservation", NULL, true}, {"memory-swap", NULL, true},
                {"pids-limit", NULL, false},     {"cpu-idle", NULL, false},
        };
        struct silo_opt opts[ARRAY_SIZE(flags) + 8];
        struct silo_resources *r = NULL;
        _cleanup_free_ char *doc = NULL;
        silo_error_t err = NULL;
        const char *id = NULL;
        char **pos = NULL;
        size_t len = 0, k = 0;
        int npos = 0, rc;

        for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
                opts[k++] = (struct silo_opt){flags[i].name, 0, OPT_STRING, &flags[i].value};
        opts[k++] = (struct silo_opt){"resources", 'r', OPT_STRING, &resources};
        opts[k++] = (struct silo_opt){"cpuset-cpus", 0, OPT_STRING, &cpus};
        opts[k++] = (struct silo_opt){"cpuset-mems", 0, OPT_STRING, &mems};
        opts[k++] = (struct silo_opt){"kernel-memory", 0, OPT_STRING, &ignored};
        opts[k++] = (struct silo_opt){"kernel-memory-tcp", 0, OPT_STRING, &ignored};
        opts[k++] = (struct silo_opt){"l3-cache-schema", 0, OPT_STRING, &ignored};
        opts[k++] = (struct silo_opt){"mem-bw-schema", 0, OPT_STRING, &ignored};
        opts[k] = (struct silo_opt){NULL, 0, 0, NULL};

        if (silo_parse_args(argc, argv, opts, false, &pos, &npos, &err) < 0)
                return silo_cmd_fail(&err);
        rc = silo_cmd_need_id("update", npos, pos, &id);
        free(pos);
        if (rc)
                return rc;
        if (resources) {
                int r0 = strcmp(resources, "-") == 0 ? silo_read_fd(STDIN_FILENO, 1u << 20, &doc, &len)
                                                     : silo_read_file_at(AT_FDCWD, resources, 1u << 20, &doc, &len, &err);
                if (r0 < 0) {
                        if (err == NULL)
                                silo_error_set(&err, -r0, "--resources: read stdin");
                        return silo_cmd_fail(&err);
                }
        } else {
                doc = silo_xstrdup("{}");
                len = 2;
        }
        if (silo_resources_parse(doc, len, &r, &err) < 0)
                return silo_cmd_fail(&err);

        int64_t *fields[] = {&r->block_io.weight,     &r->cpu.period,           &r->cpu.quota,
                             &r->cpu.burst,           &r->cpu.shares,           &r->cpu.realtime_period,
                             &r->cpu.realtime_runtime, &r->memory.limit,        &r->memory.reservation,
                             &r->memory.swap,         &r->pids.limit,           &r->cpu.idle};
        for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
                int64_t v;
                if (flags[i].value == NULL)
                        continue;
                if ((flags[i].size ? parse_size(flags[i].value, &v) : silo_parse_i64(flags[i].value, &v)) < 0) {
                        silo_resources_free(r);
                        return silo_cmd_usage("update", "--%s: invalid value '%s'", flags[i].name, flags[i].value);
                }
                *fields[i] = v;
        }
        if (cpus) {
                free(r->cpu.cpus);
                r->cpu.cpus = silo_xstrdup(cpus);
        }
        if (mems) {
                free(r->cpu.mems);
                r->cpu.mems = silo_xstrdup(mems);
        }
        rc = silo_container_update(&g->ctx, id, r, &err);
        silo_resources_free(r);
        return rc < 0 ? silo_cmd_fail(&err) : 0;
}
