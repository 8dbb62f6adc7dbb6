/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Capabilities through libcap: names <-> numbers, and applying the five sets in the child. */
#ifndef SILO_CAPS_H
#define SILO_CAPS_H

#include "spec.h"

int silo_cap_from_name(const char *name); /* "CAP_SYS_ADMIN" -> 21; -1 when unknown */
const char *silo_cap_name(int cap);       /* static string "CAP_SYS_ADMIN", NULL when out of range */
int silo_cap_last(void);                  /* highest capability the kernel knows */
/* Drop every capability not in c->bounding from the bounding set (needs CAP_SETPCAP). */
int silo_caps_drop_bounding(const struct silo_caps *c, silo_error_t *err);
/* Set effective/permitted/inheritable with capset, then raise the ambient set.  Called after
 * the uid/gid switch (done with PR_SET_KEEPCAPS). */
int silo_caps_apply(const struct silo_caps *c, silo_error_t *err);
/* Default set used by `silo spec` and exec --cap parsing. */
extern const char *const silo_default_caps[];

#endif
