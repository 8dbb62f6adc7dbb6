/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include "cmd.h"
#include "../checkpoint/criu-dl.h"
#include "../runtime/caps.h"
#include "../runtime/seccomp.h"
#include "../runtime/spec.h"
#include "../runtime/util.h"

/*
 * runtime-spec features.md: what silo RECOGNISES (compile-time knowledge), not what this host
 * supports.  Only list what is really parsed and applied: containerd and CRI-O gate user
 * namespaces on mountExtensions.idmap and recursive read-only on "rro".
 */
static void strv_json(struct silo_buf *b, const char *const *v)
{
        silo_buf_putc(b, '[');
        for (size_t i = 0; v[i]; i++)
                silo_buf_printf(b, "%s\"%s\"", i ? "," : "", v[i]);
        silo_buf_putc(b, ']');
}

int cmd_features(struct silo_global *g, int argc, char **argv)
{
        static const char *const hooks[] = {"prestart", "createRuntime", "createContainer", "startContainer",
                                            "poststart", "poststop", NULL};
        static const char *const mount_opts[] = {
                "async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "lazytime", "mand",
                "noatime", "nodev", "nodiratime", "noexec", "nolazytime", "nomand", "norelatime", "nostrictatime",
                "nosuid", "nosymfollow", "private", "rbind", "relatime", "remount", "ro", "rprivate", "rro",
                "rrw", "rnosuid", "rsuid", "rnodev", "rdev", "rnoexec", "rexec", "rnoatime", "ratime",
                "rrelatime", "rnorelatime", "rstrictatime", "rnostrictatime", "rnodiratime", "rdiratime",
                "rnosymfollow", "rsymfollow", "rshared", "rslave", "runbindable", "rw", "shared", "slave",
                "strictatime", "suid", "symfollow", "sync", "unbindable", NULL};
        static const char *const namespaces[] = {"cgroup", "ipc", "mount", "network", "pid", "time", "user",
                                                 "uts", NULL};
        const struct scmp_version *v = seccomp_version();
        struct silo_buf b = {0};
        const char *caps[64] = {0};
        int nc = 0;

        (void)g;
        (void)argc;
        (void)argv;
        for (int c = 0; c <= silo_cap_last() && nc < 63; c++)
                if (silo_cap_name(c))
                        caps[nc++] = silo_cap_name(c);

        silo_buf_puts(&b, "{\n    \"ociVersionMin\": \"1.0.0\",\n    \"ociVersionMax\": \"1.2.1\",\n    \"hooks\": ");
        strv_json(&b, hooks);
        silo_buf_puts(&b, ",\n    \"mountOptions\": ");
        strv_json(&b, mount_opts);
        silo_buf_puts(&b, ",\n    \"linux\": {\n        \"namespaces\": ");
        strv_json(&b, namespaces);
        silo_buf_puts(&b, ",\n        \"capabilities\": ");
        strv_json(&b, caps);
        silo_buf_puts(&b, ",\n        \"cgroup\": {\"v1\": true, \"v2\": true, \"systemd\": true, "
                          "\"systemdUser\": false, \"rdma\": true},\n        \"seccomp\": {\"enabled\": true, "
                          "\"actions\": ");
        strv_json(&b, silo_seccomp_action_names);
        silo_buf_puts(&b, ", \"operators\": ");
        strv_json(&b, silo_seccomp_op_names);
        silo_buf_puts(&b, ", \"archs\": ");
        strv_json(&b, silo_seccomp_arch_names);
        silo_buf_puts(&b, ", \"knownFlags\": ");
        strv_json(&b, silo_seccomp_flag_names);
        silo_buf_puts(&b, ", \"supportedFlags\": ");
        strv_json(&b, silo_seccomp_flag_names);
        silo_buf_puts(&b, "},\n        \"apparmor\": {\"enabled\": false},\n        \"selinux\": {\"enabled\": false},\n"
                          "        \"intelRdt\": {\"enabled\": false},\n"
                          "        \"mountExtensions\": {\"idmap\": {\"enabled\": false}}\n    },\n");
        silo_buf_printf(&b,
                        "    \"annotations\": {\n        \"io.github.seccomp.libseccomp.version\": \"%u.%u.%u\",\n"
                        "        \"org.opencontainers.runc.checkpoint.enabled\": \"%s\",\n"
                        "        \"io.silo.checkpoint.features\": \"%s\",\n"
                        "        \"io.silo.version\": \"%s\"\n    },\n"
                        "    \"potentiallyUnsafeConfigAnnotations\": [\"bundle\"]\n}\n",
                        v->major, v->minor, v->micro, silo_criu_available() ? "true" : "false",
                        silo_criu_features(), SILO_VERSION);
        fputs(b.data, stdout);
        silo_buf_free(&b);
        return fflush(stdout) == 0 ? 0 : 1;
}
