/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cmd.h"
#include "../runtime/util.h"

/* The default config.json: runc's defaults (a shell, 3 capabilities, the usual masked paths),
 * with hostname "silo".  --rootless: a user namespace mapping the caller, no network namespace,
 * sysfs bound from the host and no cgroup mount. */
static const char head[] =
        "{\n"
        "\t\"ociVersion\": \"1.2.1\",\n"
        "\t\"process\": {\n"
        "\t\t\"terminal\": true,\n"
        "\t\t\"user\": {\"uid\": 0, \"gid\": 0},\n"
        "\t\t\"args\": [\"sh\"],\n"
        "\t\t\"env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\", \"TERM=xterm\"],\n"
        "\t\t\"cwd\": \"/\",\n"
        "\t\t\"capabilities\": {\n"
        "\t\t\t\"bounding\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],\n"
        "\t\t\t\"effective\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],\n"
        "\t\t\t\"permitted\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"]\n"
        "\t\t},\n"
        "\t\t\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024}],\n"
        "\t\t\"noNewPrivileges\": true\n"
        "\t},\n"
        "\t\"root\": {\"path\": \"rootfs\", \"readonly\": true},\n"
        "\t\"hostname\": \"silo\",\n"
        "\t\"mounts\": [\n"
        "\t\t{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},\n"
        "\t\t{\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\",\n"
        "\t\t \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},\n"
        "\t\t{\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\",\n"
        "\t\t \"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\"%s]},\n"
        "\t\t{\"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\",\n"
        "\t\t \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\"]},\n"
        "\t\t{\"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\",\n"
        "\t\t \"options\": [\"nosuid\", \"noexec\", \"nodev\"]},\n";

static const char sys_root[] =
        "\t\t{\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\",\n"
        "\t\t \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"]},\n"
        "\t\t{\"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\",\n"
        "\t\t \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"relatime\", \"ro\"]}\n"
        "\t],\n";

static const char sys_rootless[] =
        "\t\t{\"destination\": \"/sys\", \"type\": \"none\", \"source\": \"/sys\",\n"
        "\t\t \"options\": [\"rbind\", \"nosuid\", \"noexec\", \"nodev\", \"ro\"]}\n"
        "\t],\n";

static const char linux_common[] =
        "\t\t\"maskedPaths\": [\"/proc/acpi\", \"/proc/asound\", \"/proc/kcore\", \"/proc/keys\",\n"
        "\t\t\t\"/proc/latency_stats\", \"/proc/timer_list\", \"/proc/timer_stats\", \"/proc/sched_debug\",\n"
        "\t\t\t\"/sys/firmware\", \"/proc/scsi\"],\n"
        "\t\t\"readonlyPaths\": [\"/proc/bus\", \"/proc/fs\", \"/proc/irq\", \"/proc/sys\",\n"
        "\t\t\t\"/proc/sysrq-trigger\"]\n"
        "\t}\n"
        "}\n";

int cmd_spec(struct silo_global *g, int argc, char **argv)
{
        const char *bundle = ".";
        bool rootless = false;
        const struct silo_opt opts[] = {{"bundle", 'b', OPT_STRING, &bundle},
                                        {"rootless", 0, OPT_BOOL, &rootless},
                                        {NULL, 0, 0, NULL}};
        silo_error_t err = NULL;
        struct silo_buf b = {0};
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -1;
        char **pos = NULL;
        int npos = 0;

        if (silo_parse_args(argc, argv, opts, false, &pos, &npos, &err) < 0)
                return silo_cmd_fail(&err);
        free(pos);
        if (npos > 0)
                return silo_cmd_usage("spec", "takes no arguments");
        silo_buf_printf(&b, head, rootless ? "" : ", \"gid=5\"");
        silo_buf_puts(&b, rootless ? sys_rootless : sys_root);
        silo_buf_puts(&b, "\t\"linux\": {\n");
        if (rootless)
                silo_buf_printf(&b,
                                "\t\t\"uidMappings\": [{\"containerID\": 0, \"hostID\": %u, \"size\": 1}],\n"
                                "\t\t\"gidMappings\": [{\"containerID\": 0, \"hostID\": %u, \"size\": 1}],\n"
                                "\t\t\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"ipc\"}, {\"type\": \"uts\"},\n"
                                "\t\t\t{\"type\": \"mount\"}, {\"type\": \"cgroup\"}, {\"type\": \"user\"}],\n",
                                (unsigned)geteuid(), (unsigned)getegid());
        else
                silo_buf_puts(&b, "\t\t\"resources\": {\"devices\": [{\"allow\": false, \"access\": \"rwm\"}]},\n"
                                  "\t\t\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\"}, {\"type\": \"ipc\"},\n"
                                  "\t\t\t{\"type\": \"uts\"}, {\"type\": \"mount\"}, {\"type\": \"cgroup\"}],\n");
        silo_buf_puts(&b, linux_common);

        path = silo_xasprintf("%s/config.json", bundle);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) {
                silo_buf_free(&b);
                if (errno == EEXIST)
                        return silo_cmd_usage("spec", "file '%s' exists: remove it first", path);
                silo_error_set(&err, errno, "spec: create '%s'", path);
                return silo_cmd_fail(&err);
        }
        int r = silo_write_all(fd, b.data, b.len);
        silo_buf_free(&b);
        if (r < 0) {
                silo_error_set(&err, -r, "spec: write '%s'", path);
                return silo_cmd_fail(&err);
        }
        return 0;
}
