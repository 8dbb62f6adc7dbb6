/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host <-> guest agent protocol of the VM sandbox, shared by vm/agent.c (guest, static, no
 * libsilo) and vm/supervisor.c (host).  One virtio-serial port named "silo" carries everything.
 *
 * Frame: u32 type, u32 session id, u32 length (little endian, x86 only), then `length` payload
 * bytes (at most SILO_VM_MAX_FRAME).  A frame is written with one write() per side; readers
 * must accumulate (the port is a byte stream).  Session 0 is the container's process; `exec`
 * sessions get ids 1.. from the supervisor, which also speaks this protocol to `silo exec` on
 * the unix socket <state>/vm.sock (there the id is always 0: the supervisor maps it).
 *
 * Sequence:
 *   host  -> CONFIG   the process: NUL-terminated "key\0value\0" pairs (see below), sent at once
 *   guest -> READY    rootfs mounted, process settings checked: the VM is "created"
 *   host  -> START    (OCI start) the guest forks and execs the process
 *   both  -> STDIN / STDOUT / STDERR data; an empty STDIN frame is EOF
 *   host  -> SIGNAL   u32 signal number, delivered to the process
 *   guest -> EXIT     u32 exit status as a shell sees it (code, or 128+signal); the guest then
 *                     idles and the host stops the VMM
 *   guest -> ERROR    a message; the agent cannot go on (host reports it and stops the VMM);
 *                     for a session > 0: that exec failed (the session is over)
 *   host  -> EXEC     (session n > 0) start another process: CONFIG's keys (arg, env, cwd,
 *                     uid, gid, gid+, rlimit, terminal, caps, nnp, seccomp, detach); then
 *                     STDIN/STDOUT/STDERR/SIGNAL/EXIT
 *   host  -> RESIZE   u16 rows, u16 cols: the session's terminal window size
 *   exec -d: the EXEC carries "detach" "1": the process's stdio is /dev/null in the guest, and
 *            the guest answers STARTED once execve() succeeded (ERROR with the reason if not);
 *            the client then sends DETACH to the supervisor (never forwarded) and hangs up: the
 *            supervisor leaves the process running and drops the session's later frames
 *
 * CONFIG keys (repeatable where it makes sense): arg, env, cwd, uid, gid, gid+ (additional),
 * hostname, rlimit ("RESOURCE SOFT HARD" as numbers, RLIM_INFINITY = -1), memory (bytes, the
 * guest cgroup's memory.max), pids (pids.max), net ("ADDR MASK GW" for the NIC), terminal ("1":
 * the process gets a pty in the guest; its output comes as STDOUT, there is no STDERR), caps
 * ("BND EFF INH PRM AMB", hex masks; absent: the capabilities stay root's), nnp ("1":
 * noNewPrivileges), seccomp ("FLAGS HEX": the BPF program compiled on the host by libseccomp,
 * its instructions as hex bytes, loaded with seccomp(2) in runtime/init.c's order), bind
 * ("<i> ro|rw DEST": entry <i> of the 9p share "binds" bound onto DEST), tmpfs ("MS_FLAGS
 * DATA|- DEST").  caps, nnp and seccomp are EXEC keys too.
 */
#ifndef SILO_VM_PROTO_H
#define SILO_VM_PROTO_H

#include <stdint.h>

#define SILO_VM_PORT "silo"
#define SILO_VM_MAX_FRAME (1u << 20)

enum silo_vm_msg {
        SILO_VM_CONFIG = 1,
        SILO_VM_READY = 2,
        SILO_VM_START = 3,
        SILO_VM_STDIN = 4,
        SILO_VM_STDOUT = 5,
        SILO_VM_STDERR = 6,
        SILO_VM_SIGNAL = 7,
        SILO_VM_EXIT = 8,
        SILO_VM_ERROR = 9,
        SILO_VM_EXEC = 10,
        SILO_VM_RESIZE = 11,
        SILO_VM_STARTED = 12, /* guest: a detached exec session's process was execve()d */
        SILO_VM_DETACH = 13,  /* exec client: its session outlives the connection */
};

struct silo_vm_hdr {
        uint32_t type;
        uint32_t id;
        uint32_t len;
};

#endif
