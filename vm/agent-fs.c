/* SPDX-License-Identifier: GPL-2.0-or-later */
/* silo-vm-agent: paths inside the container rootfs (openat2 RESOLVE_IN_ROOT), see agent.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "agent.h"

/* path inside the rootfs: every component, symlinks included, resolved in it */
int agent_open_in_root(int rootfd, const char *path, int flags)
{
        struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC),
                               .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
        return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
}

/* the mount point of a bind at dest in the rootfs, made (as a dir, or as a file when !dir) with
 * its missing parents, each resolved inside the rootfs; an O_PATH fd of it */
int agent_mount_point(int rootfd, const char *dest, bool dir)
{
        char path[4096];
        size_t n = strlen(dest);

        if (n >= sizeof(path))
                return -1;
        memcpy(path, dest, n + 1);
        for (char *p = path + 1;; p++) {
                if (*p != '/' && *p != '\0')
                        continue;
                char saved = *p, *slash;
                int fd, parent;
                bool last = saved == '\0';
                *p = '\0';
                fd = agent_open_in_root(rootfd, path, O_PATH);
                if (fd < 0 && errno == ENOENT) {
                        slash = strrchr(path, '/');
                        *slash = '\0';
                        parent = agent_open_in_root(rootfd, *path ? path : "/", O_PATH | O_DIRECTORY);
                        *slash = '/';
                        if (parent < 0)
                                return -1;
                        if (!last || dir) {
                                if (mkdirat(parent, slash + 1, 0755) < 0 && errno != EEXIST)
                                        return close(parent), -1;
                        } else {
                                int f = openat(parent, slash + 1, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
                                               0644);
                                if (f < 0)
                                        return close(parent), -1;
                                close(f);
                        }
                        close(parent);
                        fd = agent_open_in_root(rootfd, path, O_PATH);
                }
                if (fd < 0 || last)
                        return fd;
                close(fd);
                *p = saved;
        }
}
