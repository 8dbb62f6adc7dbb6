/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include "sync.h"
#include "util.h"

struct wire_hdr {
        uint32_t type;
        int32_t value;
};

int silo_sync_send(int sock, uint32_t type, int32_t value, const char *payload, size_t len, int fd)
{
        struct wire_hdr h = {type, value};
        struct iovec iov[2] = {{&h, sizeof(h)}, {(void *)payload, payload ? len : 0}};
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = payload && len ? 2 : 1};

        if (len > SILO_SYNC_MAX_PAYLOAD)
                return -EMSGSIZE;
        if (fd >= 0) {
                memset(&u, 0, sizeof(u));
                mh.msg_control = u.buf;
                mh.msg_controllen = sizeof(u.buf);
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &fd, sizeof(int));
        }
        for (;;) {
                if (sendmsg(sock, &mh, MSG_NOSIGNAL) >= 0)
                        return 0;
                if (errno != EINTR)
                        return -errno;
        }
}

int silo_sync_recv(int sock, struct silo_sync_msg *msg)
{
        struct wire_hdr h;
        _cleanup_free_ char *buf = silo_xmalloc0(SILO_SYNC_MAX_PAYLOAD + 1);
        struct iovec iov[2] = {{&h, sizeof(h)}, {buf, SILO_SYNC_MAX_PAYLOAD}};
        union {
                char b[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2, .msg_control = u.b, .msg_controllen = sizeof(u.b)};
        ssize_t n;

        memset(msg, 0, sizeof(*msg));
        msg->fd = -1;
        do
                n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        if (n == 0)
                return -EPIPE;
        if ((size_t)n < sizeof(h))
                return -EBADMSG;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
                        memcpy(&msg->fd, CMSG_DATA(c), sizeof(int));
        msg->type = h.type;
        msg->value = h.value;
        msg->len = (size_t)n - sizeof(h);
        if (msg->len) {
                buf[msg->len] = '\0';
                msg->payload = TAKE_PTR(buf);
        }
        return 0;
}

void silo_sync_msg_clear(struct silo_sync_msg *msg)
{
        free(msg->payload);
        msg->payload = NULL;
        if (msg->fd >= 0)
                close(msg->fd);
        msg->fd = -1;
}

void silo_sync_send_error(int sock, const silo_error_t err)
{
        const char *m = err && err->msg ? err->msg : "unknown error";
        (void)silo_sync_send(sock, SYNC_ERROR, err ? err->code : 0, m, strlen(m), -1);
}

int silo_sync_expect(int sock, uint32_t type, struct silo_sync_msg *msg, silo_error_t *err)
{
        int r = silo_sync_recv(sock, msg);
        if (r == -EPIPE)
                return silo_error_set(err, 0, "container init exited during setup");
        if (r < 0)
                return silo_error_set(err, -r, "sync socket");
        if (msg->type == SYNC_ERROR) {
                r = silo_error_set(err, msg->value, "%s", msg->payload ? msg->payload : "error");
                silo_sync_msg_clear(msg);
                return r;
        }
        if (msg->type != type) {
                uint32_t got = msg->type;
                silo_sync_msg_clear(msg);
                return silo_error_set(err, EPROTO, "sync: expected message %u, got %u", type, got);
        }
        return 0;
}
