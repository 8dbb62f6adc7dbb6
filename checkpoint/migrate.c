/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * silo migrate ID DEST: move a running container to another node (issue 6, interfaces.md §5.4,
 * §5.5): pre-flight on the destination, iterative pre-copy, a final freeze + dump, transfer,
 * restore at the destination, removal at the source.
 *
 * Transport: one byte stream.  DEST "tcp:HOST:PORT" connects to a `silo migrate --listen`
 * receiver; any other DEST is "[user@]host" and runs `RSH host REMOTE_SILO migrate --receive`
 * (RSH default "ssh", e.g. "ip netns exec" in the tests) with the stream on its stdin/stdout.
 *
 * Protocol, version 2 (MIG_PROTO).  Every message is a frame:
 *     u32 type (big endian) | u32 length (big endian, <= MIG_MAX_FRAME) | payload
 *   src -> dst  HELLO    JSON {"proto":2,"silo","criu","kernel","id","bundle","image","ip","bridge",
 *                             "imageDir","bootId","dirDev","dirIno"}
 *   src -> dst  MKDIR    "dir"                      one component
 *   src -> dst  FILE     "dir/name"                 then DATA* and EOF
 *   src -> dst  DATA     bytes of the open file
 *   src -> dst  EOF      ""                         the open file is complete
 *   src -> dst  SYMLINK  "dir/name\0../dir2"        CRIU's parent links, nothing else
 *   src -> dst  CHECK    ""                         pre-flight now (cpuinfo/ has been sent)
 *   dst -> src  READY    JSON {"silo","kernel","rootfs"}  or ERROR
 *   src -> dst  ROUND    JSON {"dir","pages"}       a pre-dump round is complete (informational)
 *   src -> dst  RESTORE  JSON {"dir"}               restore from dir now
 *   dst -> src  RUNNING  JSON {"restoreMs","lazyPages"}  or ERROR (lazyPages: pre-copied pages
 *                                                   the destination fills in after the restart)
 *   src -> dst  DONE     ""                         the source is gone: dst drops its images
 *   either      ERROR    "message"                  the sender gives up; the stream ends
 * The destination writes only below its own temporary dir <root>/@migrate-in-<worker pid>, one
 * level of plain names (no "..", no "/" at either end), files created O_EXCL|O_NOFOLLOW; links
 * must read "../<name>".
 * An image container (HELLO "imageDir": its container dir under the source's data root) also
 * sends "spec/config.json" before CHECK.  READY's "rootfs" says what the destination does with
 * its rootfs: "shared" = the very same dir is this node's too (same boot id, device and inode:
 * two roots on one machine), the destination restores from it and the source keeps it;
 * "diff" = the destination makes its own dir from the image in its data root, so the final dir
 * also carries rootfs-diff.tar + deleted.files (the overlay's upper dir, as checkpoint --export
 * writes them) and the source removes its dir once the container runs there.  A plain bundle
 * ("rootfs":"bundle") must be at the same path on both nodes, as runc's restore needs.
 * A vm container (HELLO "sandbox":"vm", no "criu"/cpuinfo) sends the files of a VM snapshot in
 * "vm/", vm.state being qemu's live migration stream, and no ROUND: checkpoint/migrate-vm.c.
 *
 * Invariants:
 *   - until the destination answers RUNNING the container runs at the source: pre-dumps leave
 *     it running, a failed final dump is resumed by CRIU, and a failure after the final dump
 *     (which stops the tasks and releases the container here, as `checkpoint` does) restores it
 *     in place from the same images, with its address (network.status) and its TCP connections
 *     (--tcp-established); RUNNING is the commit point, after which the local images go;
 *   - the destination keeps nothing of a migration that did not reach RUNNING: its worker
 *     removes the temporary dir, and the process that forked the worker removes it again after
 *     reaping it (a SIGKILLed worker included); a restore that fails is rolled back by restore;
 *   - a stream that breaks after the destination sent RUNNING but before the source read it is
 *     the one window where both sides may run the container (the destination keeps it: losing
 *     the container is worse); the source says so in its error;
 *   - progress lines go to stderr only when it is a terminal; the report goes to stdout.
 * --lazy-pages (post-copy, migrate-lazy.c): the final dump keeps the pages at the source and
 * serves them from a page server (RESTORE carries "pageServer":"IP:PORT"); the destination
 * restores with `criu lazy-pages` fetching them, answers RUNNING at once, and the source sends
 * DONE only when every page went over.  HELLO says "lazyPages":true so that the pre-flight asks
 * the destination's CRIU for userfaultfd support.
 * Pre-copy's restore is lazy too when it can be (migrate-recv.c dst_lazy_base, criu-lazy.c): the
 * pre-copied pages are all at the destination, so it restarts the tasks without them and its own
 * `criu lazy-pages` fills them in from the local images; nothing of that needs the source.
 */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include "archive.h"
#include "checkpoint.h"
#include "criu-dl.h"
#include "migrate.h"
#include "migrate-internal.h"
#include "../image/image.h"
#include "../image/json.h"
#include "../netns/netns.h"
#include "../runtime/log.h"
#include "../runtime/spec.h"
#include "../runtime/util.h"

#define MIG_DEFAULT_ROUNDS 5

/* ---- framing ------------------------------------------------------------------------------ */

static int read_full(int fd, void *buf, size_t n)
{
        for (size_t off = 0; off < n;) {
                ssize_t k = read(fd, (char *)buf + off, n - off);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return k == 0 ? -EPIPE : -errno;
                off += (size_t)k;
        }
        return 0;
}

int mig_send(int fd, uint32_t type, const void *p, size_t len, silo_error_t *err)
{
        uint32_t h[2] = {htonl(type), htonl((uint32_t)len)};
        int r = silo_write_all(fd, h, sizeof(h));

        if (r == 0 && len)
                r = silo_write_all(fd, p, len);
        return r < 0 ? silo_error_set(err, -r, "migrate: send to the other side") : 0;
}

int mig_send_str(int fd, uint32_t type, const char *s, silo_error_t *err)
{
        return mig_send(fd, type, s, s ? strlen(s) : 0, err);
}

/* One frame into *ret (NUL-terminated, caller frees).  An ERROR frame becomes the error. */
int mig_recv(int fd, uint32_t *ret_type, char **ret, size_t *ret_len, silo_error_t *err)
{
        uint32_t h[2];
        char *p;
        int r = read_full(fd, h, sizeof(h));

        if (r < 0)
                return silo_error_set(err, r == -EPIPE ? 0 : -r, "migrate: %s",
                                      r == -EPIPE ? "the other side closed the connection"
                                                  : "receive from the other side");
        h[0] = ntohl(h[0]);
        h[1] = ntohl(h[1]);
        if (h[1] > MIG_MAX_FRAME || h[0] < MSG_HELLO || h[0] > MSG_ERROR)
                return silo_error_set(err, EPROTO, "migrate: bad frame (type %u, length %u)", h[0], h[1]);
        p = silo_xmalloc0(h[1] + 1);
        r = read_full(fd, p, h[1]);
        if (r < 0) {
                free(p);
                return silo_error_set(err, r == -EPIPE ? 0 : -r,
                                      "migrate: the other side closed the connection in a frame");
        }
        if (h[0] == MSG_ERROR) {
                r = silo_error_set(err, 0, "%s", p);
                free(p);
                return r;
        }
        *ret_type = h[0];
        *ret = p;
        if (ret_len)
                *ret_len = h[1];
        return 0;
}

/* Receive a frame of exactly `want`. */
int mig_expect(int fd, uint32_t want, char **ret, silo_error_t *err)
{
        uint32_t t;
        int r = mig_recv(fd, &t, ret, NULL, err);

        if (r == 0 && t != want) {
                free(*ret);
                return silo_error_set(err, EPROTO, "migrate: unexpected message %u (wanted %u)", t, want);
        }
        return r;
}

/* ---- helpers ------------------------------------------------------------------------------ */

double mig_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static char *mib(uint64_t bytes)
{
        return silo_xasprintf("%.1f MiB", bytes / 1048576.0);
}

void mig_kernel_release(char *buf, size_t n)
{
        struct utsname u;
        snprintf(buf, n, "%s", uname(&u) == 0 ? u.release : "?");
}

/* major * 1000 + minor of a kernel release ("6.1.0-27-amd64" -> 6001) */
long mig_kernel_num(const char *rel)
{
        long a = 0, b = 0;
        sscanf(rel, "%ld.%ld", &a, &b);
        return a * 1000 + b;
}

#ifdef HAVE_CRIU
int mig_criu_version(silo_error_t *err)
{
        criu_opts *co = NULL;
        int v;

        if (CR(criu_local_init_opts)(&co) < 0)
                return silo_error_set(err, ENOMEM, "criu: init options");
        v = CR(criu_local_get_version)(co);
        CR(criu_local_free_opts)(co);
        return v > 0 ? v : silo_error_set(err, v < 0 ? -v : 0, "criu: cannot get its version");
}
#endif

/* `criu cpuinfo dump|check -D dir`; on failure the reason from its log. */
int mig_criu_cpuinfo(const char *verb, const char *dir, silo_error_t *err)
{
        _cleanup_free_ char *log = NULL, *buf = NULL;
        int status = 0;
        pid_t pid = fork();

        if (pid < 0)
                return silo_error_set(err, errno, "fork");
        if (pid == 0) {
                int nul = open("/dev/null", O_RDWR);
                if (nul >= 0) {
                        dup2(nul, 0);
                        dup2(nul, 1);
                        dup2(nul, 2);
                }
                execlp("criu", "criu", "cpuinfo", verb, "-D", dir, "-o", "cpuinfo.log", "-v2", (char *)NULL);
                _exit(127);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return silo_error_set(err, errno, "waitpid");
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        log = silo_xasprintf("%s/cpuinfo.log", dir);
        if (silo_read_file_at(AT_FDCWD, log, 1 << 20, &buf, NULL, NULL) == 0) {
                char *e = strstr(buf, "Error");
                char *nl = e ? strchr(e, '\n') : NULL;
                if (nl)
                        *nl = '\0';
                if (e)
                        return silo_error_set(err, 0, "criu cpuinfo %s: %s", verb, e);
        }
        return silo_error_set(err, 0, "criu cpuinfo %s failed (exit status %d)", verb,
                              WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/* A plain name: [A-Za-z0-9._-], not "." or "..". */
bool mig_name_ok(const char *s, size_t n)
{
        if (n == 0 || n > 200 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!(s[i] == '.' || s[i] == '_' || s[i] == '-' || (s[i] >= '0' && s[i] <= '9') ||
                      (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
                        return false;
        return true;
}

void mig_boot_id(char buf[40])
{
        _cleanup_free_ char *b = NULL;

        buf[0] = '\0';
        if (silo_read_file_at(AT_FDCWD, "/proc/sys/kernel/random/boot_id", 64, &b, NULL, NULL) == 0)
                snprintf(buf, 40, "%.*s", (int)strcspn(b, "\n"), b);
}

/* ---- source: sending a directory ------------------------------------------------------------- */

/* Send every file and parent link of <base>/<dir>; *ret_pages: bytes of pages-*.img (the dirty
 * set of that round), *ret_bytes: everything sent. */
static int send_dir(int fd, const char *base, const char *dir, uint64_t *ret_pages, uint64_t *ret_bytes,
                    silo_error_t *err)
{
        _cleanup_free_ char *path = silo_xasprintf("%s/%s", base, dir);
        _cleanup_closedir_ DIR *d = opendir(path);
        _cleanup_free_ char *buf = silo_xmalloc0(MIG_MAX_FRAME);
        struct dirent *de;
        int r;

        *ret_pages = *ret_bytes = 0;
        if (d == NULL)
                return silo_error_set(err, errno, "'%s'", path);
        r = mig_send_str(fd, MSG_MKDIR, dir, err);
        while (r == 0 && (de = readdir(d)) != NULL) {
                _cleanup_free_ char *rel = silo_xasprintf("%s/%s", dir, de->d_name);
                _cleanup_close_ int f = -1;
                struct stat st;

                if (de->d_name[0] == '.' && (de->d_name[1] == '\0' || strcmp(de->d_name, "..") == 0))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return silo_error_set(err, errno, "'%s/%s'", path, de->d_name);
                if (S_ISLNK(st.st_mode)) {
                        char target[256];
                        ssize_t n = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
                        struct silo_buf b = {0};
                        if (n < 0)
                                return silo_error_set(err, errno, "'%s/%s'", path, de->d_name);
                        target[n] = '\0';
                        silo_buf_puts(&b, rel);
                        silo_buf_putc(&b, '\0');
                        silo_buf_puts(&b, target);
                        r = mig_send(fd, MSG_SYMLINK, b.data, b.len, err);
                        silo_buf_free(&b);
                        continue;
                }
                if (!S_ISREG(st.st_mode))
                        continue;
                f = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                if (f < 0)
                        return silo_error_set(err, errno, "'%s/%s'", path, de->d_name);
                r = mig_send_str(fd, MSG_FILE, rel, err);
                for (;;) {
                        ssize_t n = r < 0 ? 0 : read(f, buf, MIG_MAX_FRAME);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0)
                                return silo_error_set(err, errno, "read '%s/%s'", path, de->d_name);
                        if (n == 0)
                                break;
                        r = mig_send(fd, MSG_DATA, buf, (size_t)n, err);
                        *ret_bytes += (uint64_t)n;
                        if (silo_str_has_prefix(de->d_name, "pages-"))
                                *ret_pages += (uint64_t)n;
                }
                if (r == 0)
                        r = mig_send(fd, MSG_EOF, NULL, 0, err);
        }
        return r;
}

/* ---- source: transport ---------------------------------------------------------------------- */

int mig_connect_tcp(const char *hostport, silo_error_t *err)
{
        _cleanup_free_ char *h = silo_xstrdup(hostport);
        char *colon = strrchr(h, ':');
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
        int fd = -1, r, e = 0;

        if (colon == NULL || colon == h || colon[1] == '\0')
                return silo_error_set(err, EINVAL, "migrate: destination 'tcp:%s' is not tcp:HOST:PORT",
                                      hostport);
        *colon = '\0';
        if (h[0] == '[' && colon[-1] == ']') { /* tcp:[::1]:7000 */
                colon[-1] = '\0';
                memmove(h, h + 1, strlen(h));
        }
        r = getaddrinfo(h, colon + 1, &hints, &res);
        if (r != 0)
                return silo_error_set(err, 0, "migrate: destination 'tcp:%s': %s", hostport, gai_strerror(r));
        for (struct addrinfo *a = res; a; a = a->ai_next) {
                fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
                if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) == 0)
                        break;
                e = errno;
                if (fd >= 0)
                        close(fd);
                fd = -1;
        }
        freeaddrinfo(res);
        return fd >= 0 ? fd : silo_error_set(err, e, "migrate: connect to 'tcp:%s'", hostport);
}

/* RSH HOST REMOTE_SILO migrate --receive, with the stream on its stdin/stdout. */
int mig_spawn_rsh(const struct silo_migrate_opts *o, pid_t *ret_pid, silo_error_t *err)
{
        const char *rsh = o->rsh ? o->rsh : getenv("SILO_MIGRATE_RSH");
        const char *remote = o->remote_silo ? o->remote_silo : getenv("SILO_MIGRATE_REMOTE_SILO");
        _cleanup_free_ char *cmd = NULL;
        int fd;
        pid_t pid;

        if (!rsh || !*rsh)
                rsh = "ssh";
        if (!remote || !*remote)
                remote = "silo";
        if (o->dest[0] == '-' || strpbrk(o->dest, " \t\n;&|`$<>'\"\\"))
                return silo_error_set(err, EINVAL, "migrate: destination '%s' is not [user@]host", o->dest);
        /* rsh and the remote command are the user's shell fragments; the host is "$1" */
        cmd = silo_xasprintf("exec %s \"$1\" %s migrate --receive", rsh, remote);
        pid = silo_fork_socketpair(SOCK_STREAM, &fd);
        if (pid < 0)
                return silo_error_set(err, -pid, "migrate: fork the remote shell");
        if (pid == 0) {
                dup2(fd, 0);
                dup2(fd, 1);
                execl("/bin/sh", "sh", "-c", cmd, "sh", o->dest, (char *)NULL);
                _exit(127);
        }
        silo_debug("migrate: %s", cmd);
        *ret_pid = pid;
        return fd;
}

/* ---- source ------------------------------------------------------------------------------- */

struct src_info {
        char *status, *bundle, *image, *image_dir, *ip, *bridge;
        char *config;      /* the container's config.json (an image container's goes along) */
        struct stat dir_st; /* of image_dir: the destination tells whether it is its own too */
};

static void src_info_clear(struct src_info *s)
{
        free(s->status);
        free(s->bundle);
        free(s->image);
        free(s->image_dir);
        free(s->ip);
        free(s->bridge);
        free(s->config);
}

/* What the destination must know and check, from the container's state dir. */
static int src_load(const struct silo_context *ctx, const char *id, struct src_info *s, silo_error_t *err)
{
        _cleanup_free_ char *json = NULL, *cfg = NULL, *net = NULL, *path = NULL;
        struct silo_spec *spec = NULL;
        yajl_val v = NULL;
        size_t len;
        int r;

        r = silo_container_state(ctx, id, &json, err);
        if (r == 0)
                r = silo_json_parse("state", json, &v, err);
        if (r < 0)
                return r;
        s->status = silo_xstrdup(silo_json_string(v, "status", NULL));
        s->bundle = silo_xstrdup(silo_json_string(v, "bundle", NULL));
        yajl_tree_free(v);
        path = silo_xasprintf("%s/%s/config.json", ctx->root, id);
        r = silo_read_file_at(AT_FDCWD, path, 16 << 20, &cfg, &len, err);
        if (r == 0)
                r = silo_spec_parse(cfg, len, &spec, err);
        if (r < 0)
                return r;
        s->image = silo_xstrdup(silo_spec_annotation(spec, SILO_ANNOT_IMAGE_NAME));
        s->image_dir = silo_xstrdup(silo_spec_annotation(spec, SILO_ANNOT_IMAGE_DIR));
        silo_spec_free(spec);
        if (s->image_dir && stat(s->image_dir, &s->dir_st) < 0)
                return silo_error_set(err, errno, "the container dir '%s'", s->image_dir);
        s->config = TAKE_PTR(cfg);
        free(path);
        path = silo_xasprintf("%s/%s/network", ctx->root, id);
        if (silo_read_file_at(AT_FDCWD, path, 4096, &net, NULL, NULL) == 0) {
                char *save = NULL;
                for (char *l = strtok_r(net, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
                        if (silo_str_has_prefix(l, "bridge="))
                                s->bridge = silo_xstrdup(l + 7);
                        else if (silo_str_has_prefix(l, "ip=") && l[3])
                                s->ip = silo_xstrdup(l + 3);
        }
        return 0;
}

static char *hello_json(const char *id, const struct src_info *s, int criu, bool tcp, bool lazy)
{
        struct silo_buf b = {0};
        char kernel[128];

        mig_kernel_release(kernel, sizeof(kernel));
        silo_buf_printf(&b, "{\"proto\":%d,\"silo\":\"%s\",\"criu\":%d,\"kernel\":", MIG_PROTO, SILO_VERSION,
                        criu);
        silo_json_str(&b, kernel);
        silo_buf_puts(&b, ",\"id\":");
        silo_json_str(&b, id);
        silo_buf_puts(&b, ",\"bundle\":");
        silo_json_str(&b, s->bundle ? s->bundle : "");
        silo_buf_puts(&b, ",\"image\":");
        silo_json_str(&b, s->image ? s->image : "");
        silo_buf_puts(&b, ",\"ip\":");
        silo_json_str(&b, s->ip ? s->ip : "");
        silo_buf_puts(&b, ",\"bridge\":");
        silo_json_str(&b, s->bridge ? s->bridge : "");
        if (s->image_dir) {
                char boot[40];
                mig_boot_id(boot);
                silo_buf_puts(&b, ",\"imageDir\":");
                silo_json_str(&b, s->image_dir);
                silo_buf_puts(&b, ",\"bootId\":");
                silo_json_str(&b, boot);
                silo_buf_printf(&b, ",\"dirDev\":\"%llu\",\"dirIno\":\"%llu\"", (unsigned long long)s->dir_st.st_dev,
                                (unsigned long long)s->dir_st.st_ino);
        }
        silo_buf_printf(&b, ",\"tcpEstablished\":%s,\"lazyPages\":%s}", tcp ? "true" : "false",
                        lazy ? "true" : "false");
        return b.data;
}

struct src_run {
        const struct silo_context *ctx;
        const struct silo_migrate_opts *o;
        const struct src_info *info;
        const char *tmp;
        int fd;
        int rounds;
        uint64_t pages[16];
        double round_ms[16];
        uint64_t final_pages, final_bytes;
        double t_freeze, t_dumped, t_sent, t_running, restore_ms, t_pages;
        double lazy_restore_pages; /* RUNNING's "lazyPages": left to the destination's lazy-pages */
        bool dumped; /* the final dump stopped the container here: a failure restores it in place */
        bool tcp;    /* the stream is a tcp: connection */
        bool rootfs_diff; /* READY "rootfs":"diff": the final dir carries the rootfs changes, and
                           * the container dir here goes once the destination runs it */
        struct mig_lazy lazy; /* --lazy-pages: the dump serving the pages (pid 0: none) */
};

static void progress(const struct src_run *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void progress(const struct src_run *m, const char *fmt, ...)
{
        va_list ap;

        if (!m->o->progress)
                return;
        va_start(ap, fmt);
        fprintf(stderr, "migrate %s: ", m->o->id);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
}

static struct silo_criu_opts dump_opts(const struct src_run *m, const char *dir, const char *parent)
{
        return (struct silo_criu_opts){
            .id = m->o->id,
            .image_path = dir,
            .parent_path = parent,
            .tcp_established = m->o->tcp_established,
            .status_fd = -1,
        };
}

/* Pre-copy: pre-dump rounds while the container runs, each round's pages streamed at once.
 * Stops after max_rounds, when the dirty set stops shrinking, or when it is small. */
static int precopy(struct src_run *m, silo_error_t *err)
{
        int max = m->o->max_rounds < 0 ? MIG_DEFAULT_ROUNDS : m->o->max_rounds;

        if (max > (int)ARRAY_SIZE(m->pages))
                max = ARRAY_SIZE(m->pages);
        for (int i = 1; i <= max; i++) {
                _cleanup_free_ char *name = silo_xasprintf("pre%d", i);
                _cleanup_free_ char *dir = silo_xasprintf("%s/%s", m->tmp, name);
                _cleanup_free_ char *parent = i > 1 ? silo_xasprintf("../pre%d", i - 1) : NULL;
                _cleanup_free_ char *json = NULL, *sz = NULL;
                struct silo_criu_opts co = dump_opts(m, dir, parent);
                uint64_t bytes;
                double t0 = mig_now_ms();
                int r;

                co.pre_dump = true;
                r = silo_checkpoint(m->ctx, &co, err);
                if (r == 0)
                        r = send_dir(m->fd, m->tmp, name, &m->pages[i - 1], &bytes, err);
                if (r < 0)
                        return silo_error_wrap(err, "pre-dump round %d", i);
                json = silo_xasprintf("{\"dir\":\"%s\",\"pages\":%llu}", name,
                                      (unsigned long long)m->pages[i - 1]);
                r = mig_send_str(m->fd, MSG_ROUND, json, err);
                if (r < 0)
                        return r;
                m->round_ms[i - 1] = mig_now_ms() - t0;
                m->rounds = i;
                sz = mib(m->pages[i - 1]);
                progress(m, "round %d: %s of pages in %.0f ms", i, sz, m->round_ms[i - 1]);
                if (m->pages[i - 1] < (256u << 10) || (i > 1 && m->pages[i - 1] >= m->pages[i - 2]))
                        break;
        }
        return 0;
}

/*
 * Freeze + final dump (the container stops here), send what is left, restore there.  With
 * --lazy-pages the dump leaves the memory in the frozen tasks and serves it from a page server
 * (migrate-lazy.c): the destination restores without it and runs at once; the pages follow.
 */
static int final_stage(struct src_run *m, silo_error_t *err)
{
        _cleanup_free_ char *dir = silo_xasprintf("%s/final", m->tmp);
        _cleanup_free_ char *parent = m->rounds ? silo_xasprintf("../pre%d", m->rounds) : NULL;
        _cleanup_free_ char *reply = NULL, *restore = NULL;
        struct silo_criu_opts co = dump_opts(m, dir, parent);
        yajl_val v = NULL;
        int r;

        m->t_freeze = mig_now_ms();
        if (m->o->lazy_pages) {
                r = mig_lazy_dump_start(m->ctx, &co, &m->lazy, err);
                if (r < 0)
                        return silo_error_wrap(err, "final dump");
                struct silo_buf b = {0};
                silo_buf_puts(&b, "{\"dir\":\"final\",\"pageServer\":");
                silo_json_str(&b, m->lazy.addr);
                silo_buf_puts(&b, "}");
                restore = b.data;
        } else {
                r = silo_checkpoint(m->ctx, &co, err);
                if (r < 0)
                        return silo_error_wrap(err, "final dump");
                m->dumped = true;
                restore = silo_xstrdup("{\"dir\":\"final\"}");
        }
        if (m->rootfs_diff) { /* stopped (or frozen, post-copy): the upper dir holds still */
                r = silo_ckpt_rootfs_export(m->info->image_dir, dir, err);
                if (r < 0)
                        return silo_error_wrap(err, "final dump: the rootfs changes");
        }
        m->t_dumped = mig_now_ms();
        r = send_dir(m->fd, m->tmp, "final", &m->final_pages, &m->final_bytes, err);
        if (r == 0)
                r = mig_send_str(m->fd, MSG_RESTORE, restore, err);
        m->t_sent = mig_now_ms();
        if (r == 0)
                r = mig_expect(m->fd, MSG_RUNNING, &reply, err);
        if (r < 0)
                return r;
        m->t_running = mig_now_ms();
        if (silo_json_parse("RUNNING", reply, &v, NULL) == 0) {
                yajl_val t = silo_json_get(v, "restoreMs", NULL, yajl_t_number);
                m->restore_ms = t ? YAJL_GET_DOUBLE(t) : 0;
                t = silo_json_get(v, "lazyPages", NULL, yajl_t_number);
                m->lazy_restore_pages = t ? YAJL_GET_DOUBLE(t) : 0;
                yajl_tree_free(v);
        }
        if (m->lazy.pid > 0) { /* committed: it runs there; the memory goes on flowing */
                mig_lazy_commit(&m->lazy);
                progress(m, "running at the destination; serving the memory");
                r = mig_lazy_dump_wait(&m->lazy, err);
                m->t_pages = mig_now_ms();
                if (r < 0)
                        return silo_error_wrap(err,
                                               "migrate: '%s' runs at '%s' but the transfer of its memory "
                                               "from here failed (post-copy: it may not survive there)",
                                               m->o->id, m->o->dest);
        }
        return 0;
}

/* The destination failed after the final dump: the container comes back here from the same
 * images (same address, same connections). */
static int restore_here(struct src_run *m, silo_error_t *err)
{
        _cleanup_free_ char *dir = silo_xasprintf("%s/final", m->tmp);
        struct silo_criu_opts co = {
            .id = m->o->id,
            .image_path = dir,
            .bundle = m->info->bundle,
            .detach = true,
            .tcp_established = m->o->tcp_established,
            .status_fd = -1,
        };
        int status;

        return silo_restore(m->ctx, &co, &status, err);
}

static void report(const struct src_run *m)
{
        struct silo_buf b = {0};
        double downtime = m->t_running - m->t_freeze;

        silo_buf_printf(&b, "migrated '%s' to '%s': %d pre-copy round%s", m->o->id, m->o->dest, m->rounds,
                        m->rounds == 1 ? "" : "s");
        for (int i = 0; i < m->rounds; i++)
                silo_buf_printf(&b, "%s%.1f MiB in %.0f ms", i ? ", " : " (", m->pages[i] / 1048576.0,
                                m->round_ms[i]);
        silo_buf_printf(&b, "%s; final dump %.1f MiB of pages, %.1f MiB in all\n", m->rounds ? ")" : "",
                        m->final_pages / 1048576.0, m->final_bytes / 1048576.0);
        silo_buf_printf(&b,
                        "downtime %.0f ms (freeze+dump %.0f ms, transfer %.0f ms, restore %.0f ms, "
                        "other %.0f ms)\n",
                        downtime, m->t_dumped - m->t_freeze, m->t_sent - m->t_dumped, m->restore_ms,
                        m->t_running - m->t_sent - m->restore_ms);
        if (m->o->lazy_pages)
                silo_buf_printf(&b, "post-copy: the memory followed in %.0f ms after the restart\n",
                                m->t_pages - m->t_running);
        else if (m->lazy_restore_pages > 0)
                silo_buf_printf(&b,
                                "lazy restore: %.1f MiB of the pre-copy filled in at the destination after the "
                                "restart\n",
                                m->lazy_restore_pages * (double)sysconf(_SC_PAGESIZE) / 1048576.0);
        fputs(b.data, stdout);
        fflush(stdout);
        silo_buf_free(&b);
}

static char *src_tmpdir(const struct silo_context *ctx, const char *id, silo_error_t *err)
{
        char *t = silo_xasprintf("%s/@migrate-%s-XXXXXX", ctx->root, id);

        if (mkdtemp(t) == NULL) {
                silo_error_set(err, errno, "mkdtemp '%s'", t);
                free(t);
                return NULL;
        }
        return t;
}

/* An image container's config.json, as "spec/config.json" (the destination makes its dir from it) */
static int send_spec(int fd, const char *tmp, const char *config, silo_error_t *err)
{
        _cleanup_free_ char *dir = silo_xasprintf("%s/spec", tmp);
        _cleanup_close_ int dfd = -1;
        uint64_t pages, bytes;
        int r;

        if (mkdir(dir, 0700) < 0 || (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                return silo_error_set(err, errno, "mkdir '%s'", dir);
        r = silo_write_file_atomic_at(dfd, "config.json", config, strlen(config), 0600, err);
        if (r < 0)
                return r;
        return send_dir(fd, tmp, "spec", &pages, &bytes, err);
}

/* After the commit ("rootfs":"diff"): the destination runs the container from its own dir;
 * this one (the overlay's upper and work dirs) has nothing left to serve. */
static void remove_image_dir(const struct src_run *m)
{
        silo_error_t e = NULL;

        if (silo_image_bundle_remove(m->info->image_dir, &e) < 0) {
                silo_warn("migrate: %s (the container runs at '%s'; remove it by hand), ignoring", e->msg,
                          m->o->dest);
                silo_error_free(&e);
        }
}

int silo_migrate(const struct silo_context *ctx, const struct silo_migrate_opts *o, silo_error_t *err)
{
        struct src_info info = {0};
        struct src_run m = {.ctx = ctx, .o = o, .info = &info, .fd = -1, .lazy = MIG_LAZY_INIT};
        _cleanup_free_ char *tmp = NULL, *hello = NULL, *ready = NULL, *cpu = NULL;
        pid_t rsh = 0;
        int r, criu = 0;

        if (!silo_id_valid(o->id))
                return silo_error_set(err, 0, "invalid container ID format: '%s'", o->id ? o->id : "");
        if (o->page_server && !o->lazy_pages)
                return silo_error_set(err, EINVAL, "--page-server: only with --lazy-pages");
        if (o->page_server && !mig_lazy_addr_ok(o->page_server))
                return silo_error_set(err, EINVAL, "--page-server: '%s' is not IP:PORT", o->page_server);
        if (o->lazy_pages && !o->page_server && !silo_str_has_prefix(o->dest, "tcp:"))
                return silo_error_set(err, EINVAL,
                                      "migrate --lazy-pages through a remote shell needs --page-server IP:PORT "
                                      "(an address of this node the destination can reach)");
        r = mig_vm_source(ctx, o, err); /* vm sandbox: qemu's live migration (migrate-vm.c) */
        if (r <= 0)
                return r;
        r = silo_criu_dl_load(err);
#ifdef HAVE_CRIU
        if (r == 0)
                r = criu = mig_criu_version(err);
#endif
        if (r < 0)
                return r;
        signal(SIGPIPE, SIG_IGN);
        r = src_load(ctx, o->id, &info, err);
        if (r == 0 && strcmp(info.status, "running") != 0)
                r = silo_error_set(err, 0, "migrate: container '%s' is %s, not running", o->id, info.status);
        if (r < 0)
                goto out;
        tmp = src_tmpdir(ctx, o->id, err);
        if (tmp == NULL) {
                r = silo_error_ret(*err);
                goto out;
        }
        m.tmp = tmp;
        cpu = silo_xasprintf("%s/cpuinfo", tmp);
        if (mkdir(cpu, 0700) < 0) {
                r = silo_error_set(err, errno, "mkdir '%s'", cpu);
                goto out;
        }
        r = mig_criu_cpuinfo("dump", cpu, err);
        if (r < 0)
                goto out;
        m.tcp = silo_str_has_prefix(o->dest, "tcp:");
        m.fd = m.tcp ? mig_connect_tcp(o->dest + 4, err) : mig_spawn_rsh(o, &rsh, err);
        if (m.fd < 0) {
                r = m.fd;
                goto out;
        }
        if (o->lazy_pages) {
                r = mig_lazy_listen(&m.lazy, m.fd, m.tcp, o->page_server, err);
                if (r < 0)
                        goto out;
        }
        /* hello, the CPU description, then the destination's verdict */
        hello = hello_json(o->id, &info, criu, o->tcp_established, o->lazy_pages);
        uint64_t pages, bytes;
        r = mig_send_str(m.fd, MSG_HELLO, hello, err);
        if (r == 0)
                r = send_dir(m.fd, tmp, "cpuinfo", &pages, &bytes, err);
        if (r == 0 && info.image_dir)
                r = send_spec(m.fd, tmp, info.config, err);
        if (r == 0)
                r = mig_send(m.fd, MSG_CHECK, NULL, 0, err);
        if (r == 0)
                r = mig_expect(m.fd, MSG_READY, &ready, err);
        if (r == 0) {
                yajl_val v = NULL;
                r = silo_json_parse("READY", ready, &v, err);
                if (r == 0) {
                        const char *fs = silo_json_string(v, "rootfs", NULL);
                        m.rootfs_diff = fs && strcmp(fs, "diff") == 0;
                        if (info.image_dir && !(fs && (strcmp(fs, "diff") == 0 || strcmp(fs, "shared") == 0)))
                                r = silo_error_set(err, EPROTO, "migrate: READY says nothing of the rootfs");
                }
                yajl_tree_free(v);
        }
        if (r < 0) {
                silo_error_wrap(err, "migrate: pre-flight on '%s' failed, the container keeps running here",
                                o->dest);
                goto out;
        }
        progress(&m, "destination ready: %s", ready);
        r = precopy(&m, err);
        if (r == 0)
                r = final_stage(&m, err);
        if (r < 0) {
                silo_error_t e = NULL;
                /* tell the destination (it may be gone already) */
                _cleanup_free_ char *text = silo_error_text(*err);
                mig_send_str(m.fd, MSG_ERROR, text, &e);
                silo_error_free(&e);
                if (m.t_running > 0) {
                        /* post-copy after the commit: nothing to roll back */
                } else if (m.lazy.pid > 0) {
                        mig_lazy_abort(ctx, o->id, &m.lazy);
                        silo_error_wrap(err, "migrate: the container keeps running here%s",
                                        o->tcp_established ? " (its established TCP connections are lost: CRIU "
                                                             "leaves them locked after a failed lazy dump)"
                                                           : "");
                } else if (m.dumped) {
                        if (restore_here(&m, &e) < 0) {
                                _cleanup_free_ char *t2 = silo_error_text(e);
                                silo_error_wrap(err,
                                                "migrate: restoring '%s' here failed too (%s); its images "
                                                "are kept in '%s'",
                                                o->id, t2, tmp);
                                silo_error_free(&e);
                                free(TAKE_PTR(tmp)); /* keep them */
                                goto out;
                        }
                        silo_error_wrap(err,
                                        "migrate: the container runs here again (restored from its final "
                                        "dump; if the destination reported RUNNING but the stream broke, "
                                        "check it)");
                } else {
                        silo_error_wrap(err, "migrate: the container keeps running here");
                }
                goto out;
        }
        /* committed: the destination runs it; the source was released by the final dump */
        {
                silo_error_t e = NULL;
                if (mig_send(m.fd, MSG_DONE, NULL, 0, &e) < 0) {
                        silo_warn("migrate: could not tell '%s' that the source is gone, ignoring", o->dest);
                        silo_error_free(&e);
                }
        }
        report(&m);
        r = 0;
out:
        if (m.fd >= 0)
                close(m.fd);
        if (rsh > 0) {
                int st = 0;
                while (waitpid(rsh, &st, 0) < 0 && errno == EINTR)
                        ;
                if (r == 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
                        silo_warn("migrate: the remote receiver exited with status %d, ignoring",
                                  WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
        }
        if (tmp)
                silo_rm_rf_at(AT_FDCWD, tmp);
        mig_lazy_abort(ctx, o->id, &m.lazy); /* nothing left running behind us (a no-op when done) */
        if (m.rootfs_diff && m.t_running > 0) /* it runs there from a dir of its own */
                remove_image_dir(&m);
        free(m.lazy.addr);
        src_info_clear(&info);
        return r;
}
