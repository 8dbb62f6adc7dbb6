/* SPDX-License-Identifier: GPL-2.0-or-later */
/* silo-vm-agent (vm/agent.c): the process config it received, and its helper files. */
#ifndef SILO_VM_AGENT_H
#define SILO_VM_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

/* CONFIG or EXEC (vm/proto.h), parsed: the strings point into the frame's buffer */
struct config {
        char **args, **env, *cwd, *hostname;
        uid_t uid;
        gid_t gid;
        gid_t gids[64];
        int n_gids;
        struct {
                int res;
                struct rlimit rl;
        } rlimits[32];
        int n_rlimits;
        char *memory, *pids;
        char *net; /* "ADDRESS NETMASK GATEWAY" for eth0, or NULL: loopback only */
        bool terminal;
        bool detach;   /* exec -d: stdio on /dev/null, STARTED once execve succeeded */
        bool readonly; /* root.readonly: the erofs image is the root, no overlay */
        bool caps;     /* process.capabilities given: the five sets below */
        uint64_t cap_bnd, cap_eff, cap_inh, cap_prm, cap_amb;
        bool nnp;               /* process.noNewPrivileges */
        const char *seccomp;    /* the host-compiled BPF program as hex, or NULL */
        unsigned seccomp_flags; /* SECCOMP_FILTER_FLAG_* */
        struct {
                char *name; /* its entry in the 9p share "binds": the host's source */
                bool ro;
                const char *dest;
        } binds[64];
        int n_binds;
        struct {
                unsigned long flags; /* MS_RDONLY, MS_NOSUID, ... */
                const char *data;    /* NULL: none */
                const char *dest;
        } tmpfs[32];
        int n_tmpfs;
};

/* agent-privs.c, in the child, in init.c's order: bounding set (before the uid switch, keeps
 * caps across it), the other sets (after it), the seccomp filter; false with errno set */
bool agent_caps_bound(const struct config *c);
bool agent_caps_set(const struct config *c);
bool agent_seccomp_load(const struct config *c);

/* agent-fs.c: path opened inside the rootfs rootfd (symlinks resolved in it) */
int agent_open_in_root(int rootfd, const char *path, int flags);
/* the mount point dest in the rootfs, made (a dir, or a file when !dir) with its missing
 * parents, each resolved inside the rootfs; an O_PATH fd of it, or -1 */
int agent_mount_point(int rootfd, const char *dest, bool dir);

#endif
