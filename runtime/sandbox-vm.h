/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internals of the VM sandbox shared by sandbox-vm.c (create), sandbox-vm-config.c (the agent's
 * payloads) and sandbox-vm-snapshot.c (checkpoint/restore through qemu's migration).  Not part
 * of the runtime's interface. */
#ifndef SILO_SANDBOX_VM_H
#define SILO_SANDBOX_VM_H

#include <stdbool.h>
#include <stdint.h>
#include "../vm/vm.h"
#include "container.h"
#include "util.h"

struct vm_plan {
        struct silo_vm_assets assets;
        char *netdev; /* -netdev user,... or NULL: no network */
        char *dir, *erofs, *log, *console, *sock, *qmp;
        uint64_t mib, cpus, boot_timeout_ms;
        bool kvm;
        bool incoming; /* restore: -incoming fd:4 (the supervisor's incoming_fd) */
        bool tap;      /* bridge-IP mode (sandbox-vm-net.c): the guest owns ip/prefix, via gw */
        uint32_t ip, gw;
        unsigned prefix;
        /* host bind mounts carried into the guest (create only): binds[2i] the host source,
         * binds[2i+1] its stand-in <dir>/binds/<i>, which the supervisor binds the source onto
         * in the VMM's mount namespace; <dir>/binds is exported as the 9p share "binds" */
        char **binds;
        unsigned long *bind_flags; /* MS_REC, MS_RDONLY of each */
        size_t n_binds;
        char **argv;
};

/* Everything create derives from the container (sizes, accel, assets, paths, network, argv). */
int silo_vm_plan(struct silo_container *c, struct vm_plan *p, silo_error_t *err);
/* The guest agent binary ($SILO_VM_AGENT, next to silo, or the installed one). */
char *silo_vm_agent_path(void);
/* (Re)build p->argv from p's fields. */
void silo_vm_plan_argv(struct vm_plan *p);
void silo_vm_plan_free(struct vm_plan *p);
/* linux.resources of the container (NULL: none) and its memory limit (0: none) */
const struct silo_resources *silo_vm_resources(const struct silo_container *c);
int64_t silo_vm_memory_limit(const struct silo_container *c);
/* sandbox-vm-config.c: create's CONFIG payload (plans the bind stand-ins into p: rebuild
 * p->argv afterwards), and an exec's EXEC payload (prog: the container's seccomp, or NULL) */
int silo_vm_guest_config(struct silo_container *c, struct vm_plan *p, struct silo_buf *b, silo_error_t *err);
struct silo_seccomp_prog;
struct silo_process;
int silo_vm_exec_config(const struct silo_process *p, const struct silo_seccomp_prog *prog, bool detach,
                        struct silo_buf *b, silo_error_t *err);
/* Raise the container cgroup's memory limit so the VMM fits (guest RAM + overhead). */
int silo_vm_fit_host_limit(struct silo_container *c, uint64_t guest_mib, silo_error_t *err);
/* Start the supervisor + VMM and wait until the guest is up; incoming_fd >= 0: load that
 * snapshot instead of booting (config unused). */
int silo_vm_launch(struct silo_container *c, struct vm_plan *p, const struct silo_buf *config,
                   int incoming_fd, silo_error_t *err);
int silo_vm_read_verdict(int fd, pid_t *ret_vmm, silo_error_t *err);

/* The bridge lease of a vm container (run.silo.network=bridge and a netns of its own), as
 * create's silo_network_prepare does it for the namespace backend; 0 without one. */
int silo_vm_network_prepare(struct silo_container *c, silo_error_t *err);
/* sandbox-vm-net.c: 1 and p set up for a tap NIC when the container holds a bridge lease, else 0 */
int silo_vm_plan_tap(const struct silo_container *c, struct vm_plan *p, silo_error_t *err);
char *silo_vm_tap_net_config(const struct vm_plan *p);
/* create's network attach for a vm container: the namespace backend's, then the tap bridged in */
int silo_sandbox_vm_network_attach(struct silo_container *c, const struct vm_plan *p, silo_error_t *err);

#endif
