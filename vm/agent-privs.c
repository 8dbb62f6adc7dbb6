/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * silo-vm-agent: the process's privileges, what runtime/init.c does on the host, without libcap
 * or libseccomp (the agent is static and links nothing but libc): the capability sets through
 * prctl/capset, the seccomp filter the host compiled (vm/proto.h "seccomp") through seccomp(2).
 * The caller (agent.c child()) keeps init.c's order; see agent.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "agent.h"

static int cap_last(void)
{
        int n = 0;
        while (n < 63 && prctl(PR_CAPBSET_READ, n + 1, 0, 0, 0) >= 0)
                n++;
        return n;
}

/* before the uid switch: the bounding set (needs CAP_SETPCAP), caps kept across setuid */
bool agent_caps_bound(const struct config *c)
{
        int last = cap_last();

        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return false;
        for (int i = 0; i <= last; i++)
                if (!(c->cap_bnd & (UINT64_C(1) << i)) && prctl(PR_CAPBSET_DROP, i, 0, 0, 0) < 0)
                        return false;
        return true;
}

/* after it: exactly the effective/permitted/inheritable masks asked for, then ambient (the
 * kernel drops ambient bits not in both permitted and inheritable, so it comes last) */
bool agent_caps_set(const struct config *c)
{
        int last = cap_last();
        uint64_t mask = last >= 63 ? UINT64_MAX : (UINT64_C(1) << (last + 1)) - 1;
        struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
        struct __user_cap_data_struct d[2];
        uint64_t eff = c->cap_eff & mask, prm = c->cap_prm & mask, inh = c->cap_inh & mask;

        d[0] = (struct __user_cap_data_struct){(uint32_t)eff, (uint32_t)prm, (uint32_t)inh};
        d[1] = (struct __user_cap_data_struct){(uint32_t)(eff >> 32), (uint32_t)(prm >> 32),
                                               (uint32_t)(inh >> 32)};
        if (syscall(SYS_capset, &h, d) < 0)
                return false;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return false;
        for (int i = 0; i <= last; i++)
                if ((c->cap_amb & (UINT64_C(1) << i)) &&
                    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, i, 0, 0) < 0)
                        return false;
        prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
        return true;
}

static int unhex(char ch)
{
        return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* the host's BPF program (vm/proto.h "seccomp"), decoded and loaded */
bool agent_seccomp_load(const struct config *c)
{
        size_t n = strlen(c->seccomp) / 2;
        struct sock_filter *f = malloc(n + 1);
        unsigned char *b = (unsigned char *)f;
        struct sock_fprog prog;

        errno = EINVAL;
        if (f == NULL || n == 0 || n % sizeof(*f) != 0 || n / sizeof(*f) > BPF_MAXINSNS)
                return false;
        for (size_t i = 0; i < n; i++) {
                int hi = unhex(c->seccomp[2 * i]), lo = unhex(c->seccomp[2 * i + 1]);
                if (hi < 0 || lo < 0)
                        return false;
                b[i] = (unsigned char)(hi << 4 | lo);
        }
        prog = (struct sock_fprog){(unsigned short)(n / sizeof(*f)), f};
        return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, c->seccomp_flags, &prog) == 0;
}
