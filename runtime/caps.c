/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Capabilities through libcap: "CAP_*" names <-> numbers, and applying the five sets.
 *
 * Invariants:
 *   - Names are the OCI spelling, "CAP_" + upper case (libcap's own text form is lower case);
 *     numeric forms that cap_from_name() would accept ("21") are refused.
 *   - Capabilities above silo_cap_last() (the running kernel's CAP_LAST_CAP) are never passed
 *     to the kernel: spec parsing may know names the kernel does not.
 *   - silo_caps_apply() sets E/P/I to exactly the requested masks.  Inheritable is only what the
 *     config asks for (CVE-2022-29162: never add inheritable caps implicitly).  Ambient comes
 *     last because the kernel clears ambient bits not present in both P and I.
 */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include "caps.h"
#include "log.h"
#include "util.h"

#define CAP_BITS 64

/* runc `spec`'s example config: bounding/effective/permitted (inheritable and ambient empty). */
const char *const silo_default_caps[] = {
    "CAP_AUDIT_WRITE",
    "CAP_KILL",
    "CAP_NET_BIND_SERVICE",
    NULL,
};

static void cap_freep(cap_t *c)
{
        if (*c)
                cap_free(*c);
}

int silo_cap_last(void)
{
        /* libcap probes the kernel (PR_CAPBSET_READ) once, at library load. */
        int n = (int)cap_max_bits();

        if (n <= 0 || n > CAP_BITS)
                n = CAP_LAST_CAP + 1;
        return n - 1;
}

int silo_cap_from_name(const char *name)
{
        cap_value_t v;

        if (name == NULL || !silo_str_has_prefix(name, "CAP_") || name[4] == '\0')
                return -1;
        for (const char *p = name + 4; *p; p++)
                if (!(isupper((unsigned char)*p) || *p == '_' || isdigit((unsigned char)*p)))
                        return -1;
        if (isdigit((unsigned char)name[4]))
                return -1;
        if (cap_from_name(name, &v) < 0 || v < 0 || v >= CAP_BITS)
                return -1;
        return (int)v;
}

const char *silo_cap_name(int cap)
{
        /* Built lazily from libcap and kept for the process lifetime, so callers get a static string. */
        static char *names[CAP_BITS];
        char *s;

        if (cap < 0 || cap >= CAP_BITS)
                return NULL;
        if (names[cap])
                return names[cap];
        s = cap_to_name((cap_value_t)cap);
        if (s == NULL)
                return NULL;
        /* libcap prints capabilities it has no name for as their number. */
        if (!silo_str_has_prefix(s, "cap_")) {
                cap_free(s);
                return NULL;
        }
        names[cap] = silo_xstrdup(s);
        cap_free(s);
        for (char *p = names[cap]; *p; p++)
                *p = (char)toupper((unsigned char)*p);
        return names[cap];
}

static const char *cap_label(int cap, char *buf, size_t n)
{
        const char *name = silo_cap_name(cap);

        if (name)
                return name;
        snprintf(buf, n, "%d", cap);
        return buf;
}

int silo_caps_drop_bounding(const struct silo_caps *c, silo_error_t *err)
{
        int last = silo_cap_last();

        for (int cap = 0; cap <= last; cap++) {
                char buf[16];
                int in;

                if (c->bounding & (UINT64_C(1) << cap))
                        continue;
                in = cap_get_bound((cap_value_t)cap);
                if (in <= 0) /* already gone (or unknown to the kernel) */
                        continue;
                if (cap_drop_bound((cap_value_t)cap) < 0)
                        return silo_error_set(err, errno, "/process/capabilities/bounding: dropping '%s'",
                                              cap_label(cap, buf, sizeof(buf)));
        }
        return 0;
}

/* After an EPERM from capset: name a requested cap the process can no longer gain. */
static int explain_capset_failure(const struct silo_caps *c, uint64_t mask, int e, silo_error_t *err)
{
        _cleanup_(cap_freep) cap_t cur = cap_get_proc();
        const uint64_t requested = c->permitted | c->effective;
        char buf[16];

        for (int cap = 0; cur && cap < CAP_BITS; cap++) {
                cap_flag_value_t v = CAP_CLEAR;

                if (!(mask & requested & (UINT64_C(1) << cap)))
                        continue;
                if (cap_get_flag(cur, (cap_value_t)cap, CAP_PERMITTED, &v) == 0 && v == CAP_CLEAR)
                        return silo_error_set(
                            err, e,
                            "/process/capabilities: '%s' is not in the runtime's permitted set "
                            "(missing from the host's bounding set?)",
                            cap_label(cap, buf, sizeof(buf)));
        }
        return silo_error_set(err, e, "/process/capabilities: setting effective/permitted/inheritable");
}

int silo_caps_apply(const struct silo_caps *c, silo_error_t *err)
{
        _cleanup_(cap_freep) cap_t caps = NULL;
        int last = silo_cap_last();
        uint64_t mask = last >= CAP_BITS - 1 ? UINT64_MAX : (UINT64_C(1) << (last + 1)) - 1;
        static const struct {
                cap_flag_t flag;
                size_t offset;
        } sets[] = {
            {CAP_EFFECTIVE, offsetof(struct silo_caps, effective)},
            {CAP_PERMITTED, offsetof(struct silo_caps, permitted)},
            {CAP_INHERITABLE, offsetof(struct silo_caps, inheritable)},
        };
        char buf[16];

        if ((c->effective | c->permitted | c->inheritable | c->ambient) & ~mask)
                silo_debug("capabilities above CAP_LAST_CAP %d requested, ignoring them", last);

        /* runc's own `spec` lists ambient capabilities without inheritable ones: the kernel
         * refuses to raise those, and runc skips them silently.  So do we (a debug line says so). */
        uint64_t ambient = c->ambient & c->permitted & c->inheritable & mask;
        for (int cap = 0; cap <= last; cap++)
                if ((c->ambient & ~ambient & mask) & (UINT64_C(1) << cap))
                        silo_debug("/process/capabilities/ambient: '%s' is not in the permitted and inheritable "
                                   "sets, not raising it", cap_label(cap, buf, sizeof(buf)));

        caps = cap_init(); /* all clear */
        if (caps == NULL)
                return silo_error_set(err, errno, "cap_init");
        for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
                uint64_t bits = *(const uint64_t *)((const char *)c + sets[i].offset) & mask;

                for (int cap = 0; cap <= last; cap++) {
                        cap_value_t v = (cap_value_t)cap;

                        if (!(bits & (UINT64_C(1) << cap)))
                                continue;
                        if (cap_set_flag(caps, sets[i].flag, 1, &v, CAP_SET) < 0)
                                return silo_error_set(err, errno, "cap_set_flag '%s'",
                                                      cap_label(cap, buf, sizeof(buf)));
                }
        }
        if (cap_set_proc(caps) < 0) {
                int e = errno;

                if (e == EPERM)
                        return explain_capset_failure(c, mask, e, err);
                return silo_error_set(err, e,
                                      "/process/capabilities: setting effective/permitted/inheritable");
        }

        /* Ambient: the kernel requires each cap in both P and I (and clears it when either goes). */
        if (cap_reset_ambient() < 0 && ambient)
                return silo_error_set(err, errno, "/process/capabilities/ambient: clearing the ambient set");
        for (int cap = 0; cap <= last; cap++) {
                if (!(ambient & (UINT64_C(1) << cap)))
                        continue;
                if (cap_set_ambient((cap_value_t)cap, CAP_SET) < 0)
                        return silo_error_set(err, errno, "/process/capabilities/ambient: raising '%s'",
                                              cap_label(cap, buf, sizeof(buf)));
        }
        return 0;
}
