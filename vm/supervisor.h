/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The VM sandbox's per-container supervisor (vm/supervisor.c explains the design). */
#ifndef SILO_VM_SUPERVISOR_H
#define SILO_VM_SUPERVISOR_H

#include <stdbool.h>
#include <stddef.h>

struct silo_cgroup;

struct silo_vm_super {
        char **argv;     /* the VMM command line; its agent channel is fd 3 */
        int vmm_fd;      /* the VMM's end of the agent channel (socketpair) */
        int ctl_fd;      /* ours */
        int notify_fd;   /* to silo: "R<vmm pid>" or "E<message>" */
        int state_dirfd; /* unlocked fd of the state dir (exec.fifo) */
        struct silo_cgroup *cgroup;
        const char *log_path;     /* the VMM's stdout/stderr */
        const char *console_path; /* the guest's serial console */
        const char *sock_path;    /* exec sessions connect here */
        const char *config;       /* CONFIG payload */
        size_t config_len;
        long boot_timeout_ms;
        bool keep_netns; /* published ports: slirp listens in the caller's netns */
        bool tap;        /* bridge-IP mode: tap0 in the VMM's own netns, its fd 5 */
        int tty_fd;      /* process.terminal: the host pty's peer (raw), else -1 */
        /* restore of a VM snapshot: the saved migration stream (the VMM's fd 4, -incoming fd:4),
         * else -1; the guest is resumed through QMP at qmp_path instead of booted */
        int incoming_fd;
        const char *qmp_path;
        /* host bind mounts for the guest's 9p share: binds[2i] bound onto binds[2i+1] in the
         * VMM's mount namespace, bind_flags[i]: MS_REC (rbind), MS_RDONLY (ro, recursively) */
        char **binds;
        const unsigned long *bind_flags;
        size_t n_binds;
};

/* Run the supervisor in the calling (freshly forked) process; never returns.  Exit status: the
 * container's (code, or 128+signal), 1 when boot failed (already reported on notify_fd), 255
 * when the VM stopped without an exit status. */
__attribute__((noreturn)) void silo_vm_supervise(const struct silo_vm_super *a);

#endif
