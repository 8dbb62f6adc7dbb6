/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Host-side framing of the VM sandbox protocol (vm/proto.h), shared by the supervisor and
 * `silo exec`.  Blocking I/O: a peer writes each frame with one write(), so once poll() says a
 * frame has started the rest follows promptly.
 */
#include "config.h"
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "../runtime/util.h"
#include "proto.h"
#include "vm.h"

/* A peer that has gone (a session whose process exited while `silo exec` still forwards the
 * last of its stdin) is EPIPE, never SIGPIPE: `silo exec -t` must end with the process's status,
 * not be killed by the signal.  Every host-side peer is a socket; write() covers anything else. */
static int send_all(int fd, const char *p, size_t n)
{
        while (n > 0) {
                ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
                if (k < 0 && errno == ENOTSOCK)
                        return silo_write_all(fd, p, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                p += k;
                n -= (size_t)k;
        }
        return 0;
}

int silo_vm_send(int fd, uint32_t type, uint32_t id, const void *data, uint32_t len)
{
        struct silo_vm_hdr h = {type, id, len};
        char *buf = silo_xmalloc0(sizeof(h) + len);
        int r;

        memcpy(buf, &h, sizeof(h));
        if (len)
                memcpy(buf + sizeof(h), data, len);
        r = send_all(fd, buf, sizeof(h) + len);
        free(buf);
        return r;
}

static bool read_full(int fd, void *buf, size_t n)
{
        char *p = buf;
        while (n > 0) {
                ssize_t k = read(fd, p, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return false;
                p += k;
                n -= (size_t)k;
        }
        return true;
}

char *silo_vm_recv(int fd, struct silo_vm_hdr *h)
{
        char *buf;

        if (!read_full(fd, h, sizeof(*h)) || h->len > SILO_VM_MAX_FRAME)
                return NULL;
        buf = silo_xmalloc0(h->len + 1);
        if (!read_full(fd, buf, h->len)) {
                free(buf);
                return NULL;
        }
        return buf;
}
