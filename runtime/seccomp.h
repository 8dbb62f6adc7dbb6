/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Seccomp: the filter is compiled with libseccomp in the PARENT, before clone (no allocation
 * or library work in the container), and loaded in the child with seccomp(2) as close to
 * execve as the process's privileges allow (see init.c for the ordering, as runc explains it).
 */
#ifndef SILO_SECCOMP_H
#define SILO_SECCOMP_H

#include <stdbool.h>
#include <linux/filter.h>
#include "spec.h"

struct silo_seccomp_prog {
        struct sock_filter *filter;
        unsigned short len;
        unsigned int flags; /* SECCOMP_FILTER_FLAG_* for seccomp(SECCOMP_SET_MODE_FILTER) */
        bool notify;        /* some rule uses SCMP_ACT_NOTIFY: load with NEW_LISTENER */
};

/* Compile linux.seccomp into BPF.  Errors name the field (/linux/seccomp/syscalls/3/names/0). */
int silo_seccomp_compile(const struct silo_seccomp *s, struct silo_seccomp_prog **ret, silo_error_t *err);
/* Load in the calling process.  *ret_listener_fd gets the notify fd (or -1). */
int silo_seccomp_load(const struct silo_seccomp_prog *p, int *ret_listener_fd, silo_error_t *err);
void silo_seccomp_prog_free(struct silo_seccomp_prog *p);
/* For features: supported action/operator/arch/flag names. */
extern const char *const silo_seccomp_action_names[];
extern const char *const silo_seccomp_op_names[];
extern const char *const silo_seccomp_arch_names[];
extern const char *const silo_seccomp_flag_names[];

#endif
