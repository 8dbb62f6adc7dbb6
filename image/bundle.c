/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Image -> bundle: <data-root>/containers/<id>/{config.json, rootfs, upper, work, layers} with an
 * overlayfs (lowerdirs = the image's layers, top first) mounted on rootfs/, and config.json
 * generated from the image config as umoci/podman do (interfaces.md §4.3).
 *
 * Invariants:
 *  - the generated config records the container dir in the annotation run.silo.image.dir so
 *    that `delete` can remove it; image Labels can never set run.silo.* annotations;
 *  - removal trusts no path: the dir must be canonical (no symlinks), named
 *    <root>/containers/<valid id>, hold the .silo-container marker, and <root> must look like a
 *    data root; the overlay is detached first and rm -rf never crosses a mount point;
 *  - User names are resolved in the image's own /etc/passwd and /etc/group: read from the layer
 *    dirs as overlayfs would resolve them (image/ctr.c), or through RESOLVE_IN_ROOT on the
 *    mounted rootfs when a symlink is in the way.
 */
#include "config.h"
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "image.h"
#include "json.h"
#include "../runtime/fd.h"
#include "../runtime/log.h"
#include "../runtime/spec.h"
#include "../runtime/util.h"

#define MARKER ".silo-container"

/* ---- pure parsers ---- */

int silo_parse_bytes(const char *s, int64_t *ret)
{
        char *end;
        unsigned long long v;
        uint64_t mul = 1;

        if (!s || !isdigit((unsigned char)*s))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno)
                return -EINVAL;
        switch (tolower((unsigned char)*end)) {
        case '\0':
        case 'b':
                break;
        case 'k':
                mul = 1ULL << 10;
                break;
        case 'm':
                mul = 1ULL << 20;
                break;
        case 'g':
                mul = 1ULL << 30;
                break;
        case 't':
                mul = 1ULL << 40;
                break;
        default:
                return -EINVAL;
        }
        if (*end && end[1] && !((end[1] == 'b' || end[1] == 'B') && end[2] == '\0' && mul > 1))
                return -EINVAL;
        if (v > (uint64_t)INT64_MAX / mul)
                return -ERANGE;
        *ret = (int64_t)(v * mul);
        return 0;
}

int silo_parse_cpus(const char *s, int64_t *ret_quota)
{
        uint64_t ip = 0, frac = 0, scale = 100000; /* quota per 100000 us period */
        const char *p = s;

        if (!s || !*s)
                return -EINVAL;
        for (; isdigit((unsigned char)*p); p++) {
                ip = ip * 10 + (uint64_t)(*p - '0');
                if (ip > 1 << 20)
                        return -ERANGE;
        }
        if (*p == '.') {
                p++;
                for (uint64_t div = 10000; isdigit((unsigned char)*p); p++, div /= 10)
                        frac += (uint64_t)(*p - '0') * div;
        }
        if (*p || p == s || (ip == 0 && frac == 0))
                return -EINVAL;
        *ret_quota = (int64_t)(ip * scale + frac);
        return *ret_quota >= 1000 ? 0 : -ERANGE; /* the kernel's minimum quota is 1 ms */
}

static int parse_port(const char *s, size_t len)
{
        int v = 0;
        if (len == 0 || len > 5)
                return -1;
        for (size_t i = 0; i < len; i++) {
                if (!isdigit((unsigned char)s[i]))
                        return -1;
                v = v * 10 + (s[i] - '0');
        }
        return v >= 1 && v <= 65535 ? v : -1;
}

int silo_publish_validate(const char *p, silo_error_t *err)
{
        _cleanup_free_ char *s = silo_xstrdup(p);
        char *proto = strchr(s, '/'), *ctr, *host;

        if (proto) {
                *proto++ = '\0';
                if (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0)
                        return silo_error_set(err, 0, "--publish '%s': protocol must be tcp or udp", p);
        }
        ctr = strrchr(s, ':');
        if (!ctr)
                return silo_error_set(err, 0, "--publish '%s': want [HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp]", p);
        *ctr++ = '\0';
        host = s;
        if (s[0] == '[') { /* [v6]:port */
                char *close_b = strstr(s, "]:");
                unsigned char buf[16];
                if (!close_b)
                        return silo_error_set(err, 0, "--publish '%s': invalid host IP", p);
                *close_b = '\0';
                if (inet_pton(AF_INET6, s + 1, buf) != 1)
                        return silo_error_set(err, 0, "--publish '%s': invalid host IP '%s'", p, s + 1);
                host = close_b + 2;
        } else if (strchr(s, ':')) {
                char *c = strrchr(s, ':');
                unsigned char buf[4];
                *c = '\0';
                if (inet_pton(AF_INET, s, buf) != 1)
                        return silo_error_set(err, 0, "--publish '%s': invalid host IP '%s'", p, s);
                host = c + 1;
        }
        if (parse_port(host, strlen(host)) < 0 || parse_port(ctr, strlen(ctr)) < 0)
                return silo_error_set(err, 0, "--publish '%s': ports must be numbers in 1-65535", p);
        return 0;
}

/* ---- user lookup ---- */

void silo_user_spec_free(struct silo_user_spec *u)
{
        free(u->gids);
        free(u->home);
        u->gids = NULL;
        u->home = NULL;
}

static bool all_digits(const char *s)
{
        return *s && strspn(s, "0123456789") == strlen(s) && strlen(s) < 11;
}

/* read a colon file from the image; returns NULL content when missing */
static char *read_etc(int rootfd, const char *path)
{
        _cleanup_close_ int fd = rootfd >= 0 ? silo_open_in_root(rootfd, path, O_RDONLY, NULL) : -1;
        char *buf = NULL;
        size_t len;

        if (fd < 0 || silo_read_fd(fd, 4 << 20, &buf, &len) < 0)
                return NULL;
        return buf;
}

/* field i (0-based) of a colon line, copied */
static char *field(const char *line, int i)
{
        for (; i > 0 && line; i--) {
                line = strchr(line, ':');
                if (line)
                        line++;
        }
        if (!line)
                return NULL;
        return strndup(line, strcspn(line, ":\n"));
}

static char *find_line(char *buf, const char *key, int keyfield)
{
        for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                _cleanup_free_ char *f = field(l, keyfield);
                if (f && strcmp(f, key) == 0)
                        return l;
        }
        return NULL;
}

int silo_image_resolve_user(int rootfd, const char *user, struct silo_user_spec *ret, silo_error_t *err)
{
        _cleanup_free_ char *passwd = read_etc(rootfd, "/etc/passwd"), *group = read_etc(rootfd, "/etc/group");

        return silo_image_resolve_user_text(passwd, group, user, ret, err);
}

int silo_image_resolve_user_text(char *passwd, char *group, const char *user, struct silo_user_spec *ret,
                                 silo_error_t *err)
{
        _cleanup_free_ char *u = silo_xstrdup(user && *user ? user : "0");
        char *g = strchr(u, ':'), *line;
        uint64_t v;

        memset(ret, 0, sizeof(*ret));
        if (g)
                *g++ = '\0';
        if (all_digits(u)) {
                silo_parse_u64(u, &v);
                ret->uid = (uint32_t)v;
                line = passwd ? find_line(passwd, u, 2) : NULL;
        } else {
                line = passwd ? find_line(passwd, u, 0) : NULL;
                if (!line)
                        return silo_error_set(err, 0, "user '%s' not found in the image's /etc/passwd", u);
                _cleanup_free_ char *f = field(line, 2);
                if (!f || silo_parse_u64(f, &v) < 0)
                        return silo_error_set(err, 0, "/etc/passwd: bad uid for user '%s'", u);
                ret->uid = (uint32_t)v;
        }
        if (line) {
                _cleanup_free_ char *f = field(line, 3);
                if (f && silo_parse_u64(f, &v) == 0)
                        ret->gid = (uint32_t)v;
                ret->home = field(line, 5);
        }
        if (!ret->home || !*ret->home) {
                free(ret->home);
                ret->home = silo_xstrdup("/");
        }
        if (g) {
                if (all_digits(g)) {
                        silo_parse_u64(g, &v);
                        ret->gid = (uint32_t)v;
                } else {
                        char *gl = group ? find_line(group, g, 0) : NULL;
                        _cleanup_free_ char *f = gl ? field(gl, 2) : NULL;
                        if (!f || silo_parse_u64(f, &v) < 0) {
                                silo_user_spec_free(ret);
                                return silo_error_set(err, 0,
                                                      "group '%s' not found in the image's /etc/group", g);
                        }
                        ret->gid = (uint32_t)v;
                }
        } else if (!all_digits(u) && group) {
                /* supplementary groups: every group listing the user as a member */
                for (char *l = group; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                        _cleanup_free_ char *mem = field(l, 3), *gid = field(l, 2);
                        if (!mem || !gid || silo_parse_u64(gid, &v) < 0)
                                continue;
                        for (char *save = NULL, *m = strtok_r(mem, ",", &save); m;
                             m = strtok_r(NULL, ",", &save))
                                if (strcmp(m, u) == 0 && (uint32_t)v != ret->gid) {
                                        ret->gids =
                                            silo_xrealloc(ret->gids, sizeof(uint32_t) * (ret->ngids + 1));
                                        ret->gids[ret->ngids++] = (uint32_t)v;
                                }
                }
        }
        return 0;
}

/* ---- config generation ---- */

static const char *env_key_end(const char *kv)
{
        const char *e = strchr(kv, '=');
        return e ? e : kv + strlen(kv);
}

static void env_set(char ***env, const char *kv, bool override)
{
        size_t kl = (size_t)(env_key_end(kv) - kv);
        for (size_t i = 0; *env && (*env)[i]; i++)
                if (strncmp((*env)[i], kv, kl) == 0 && ((*env)[i][kl] == '=' || (*env)[i][kl] == '\0')) {
                        if (override) {
                                free((*env)[i]);
                                (*env)[i] = silo_xstrdup(kv);
                        }
                        return;
                }
        silo_strv_push(env, silo_xstrdup(kv));
}

static void strv_from_json(yajl_val arr, char ***out)
{
        for (size_t i = 0; arr && YAJL_IS_ARRAY(arr) && i < YAJL_GET_ARRAY(arr)->len; i++)
                if (YAJL_IS_STRING(YAJL_GET_ARRAY(arr)->values[i]))
                        silo_strv_push(out, silo_xstrdup(YAJL_GET_STRING(YAJL_GET_ARRAY(arr)->values[i])));
}

static void put_strv(struct silo_buf *b, char **v)
{
        silo_buf_putc(b, '[');
        for (size_t i = 0; v && v[i]; i++) {
                if (i)
                        silo_buf_puts(b, ", ");
                silo_json_str(b, v[i]);
        }
        silo_buf_putc(b, ']');
}

static void put_annot(struct silo_buf *b, bool *first, const char *k, const char *v)
{
        silo_buf_puts(b, *first ? "\n\t\t" : ",\n\t\t");
        *first = false;
        silo_json_str(b, k);
        silo_buf_puts(b, ": ");
        silo_json_str(b, v);
}

static const char mounts_json[] =
    "\t\"mounts\": [\n"
    "\t\t{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},\n"
    "\t\t{\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\",\n"
    "\t\t \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},\n"
    "\t\t{\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\",\n"
    "\t\t \"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\", "
    "\"gid=5\"]},\n"
    "\t\t{\"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\",\n"
    "\t\t \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\"]},\n"
    "\t\t{\"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\",\n"
    "\t\t \"options\": [\"nosuid\", \"noexec\", \"nodev\"]},\n"
    "\t\t{\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\",\n"
    "\t\t \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"]},\n"
    "\t\t{\"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\",\n"
    "\t\t \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"relatime\", \"ro\"]}\n"
    "\t],\n";

static const char paths_json[] =
    "\t\t\"maskedPaths\": [\"/proc/acpi\", \"/proc/asound\", \"/proc/kcore\", \"/proc/keys\",\n"
    "\t\t\t\"/proc/latency_stats\", \"/proc/timer_list\", \"/proc/timer_stats\", \"/proc/sched_debug\",\n"
    "\t\t\t\"/sys/firmware\", \"/proc/scsi\"],\n"
    "\t\t\"readonlyPaths\": [\"/proc/bus\", \"/proc/fs\", \"/proc/irq\", \"/proc/sys\",\n"
    "\t\t\t\"/proc/sysrq-trigger\"]\n";

int silo_image_gen_config(const char *image_config, size_t len, const struct silo_image_run_opts *o,
                          const struct silo_user_spec *user, const char *container_dir, char **ret,
                          silo_error_t *err)
{
        _cleanup_strv_free_ char **args = silo_xmalloc0(sizeof(char *)),
                                 **env = silo_xmalloc0(sizeof(char *));
        struct silo_buf b = {0};
        yajl_val root = NULL, c, v;
        const char *net = o->net ? o->net : "bridge", *cwd;
        char hostname[65];
        bool first = true;
        int64_t mem = 0, quota = 0;
        int r;

        r = silo_json_parse("image config", image_config, &root, err);
        if (r < 0)
                return r;
        c = silo_json_get(root, "config", NULL, yajl_t_object);
        if (o->entrypoint) {
                if (*o->entrypoint)
                        silo_strv_push(&args, silo_xstrdup(o->entrypoint));
        } else
                strv_from_json(silo_json_get(c, "Entrypoint", NULL, yajl_t_array), &args);
        if (o->args && o->args[0]) {
                for (size_t i = 0; o->args[i]; i++)
                        silo_strv_push(&args, silo_xstrdup(o->args[i]));
        } else if (!o->entrypoint)
                strv_from_json(silo_json_get(c, "Cmd", NULL, yajl_t_array), &args);
        if (!args[0]) {
                r = silo_error_set(err, 0, "image '%s' has neither Entrypoint nor Cmd: give a command",
                                   o->image);
                goto out;
        }
        cwd = o->workdir && *o->workdir ? o->workdir : silo_json_string(c, "WorkingDir", NULL);
        if (!cwd || !*cwd)
                cwd = "/";
        if (cwd[0] != '/') {
                r = silo_error_set(err, 0, "working directory '%s' must be absolute", cwd);
                goto out;
        }
        snprintf(hostname, sizeof(hostname), "%s", o->hostname ? o->hostname : o->id);

        /* env: image Env, converter defaults that do not override it, then -e */
        strv_from_json(silo_json_get(c, "Env", NULL, yajl_t_array), &env);
        env_set(&env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", false);
        if (o->tty)
                env_set(&env, "TERM=xterm", false);
        {
                _cleanup_free_ char *h = silo_xasprintf("HOSTNAME=%s", hostname), *home = NULL;
                env_set(&env, h, true);
                home = silo_xasprintf("HOME=%s", user && user->home ? user->home : "/");
                env_set(&env, home, false);
        }
        for (size_t i = 0; o->env && o->env[i]; i++) {
                if (strchr(o->env[i], '=')) {
                        env_set(&env, o->env[i], true);
                } else if (getenv(o->env[i])) { /* -e NAME: take it from silo's environment */
                        _cleanup_free_ char *kv = silo_xasprintf("%s=%s", o->env[i], getenv(o->env[i]));
                        env_set(&env, kv, true);
                }
        }
        if (o->memory && silo_parse_bytes(o->memory, &mem) < 0) {
                r = silo_error_set(err, 0, "--memory '%s': want BYTES or a number with k, m or g", o->memory);
                goto out;
        }
        if (o->cpus && silo_parse_cpus(o->cpus, &quota) < 0) {
                r = silo_error_set(err, 0, "--cpus '%s': want a positive number such as 0.5", o->cpus);
                goto out;
        }
        if (strcmp(net, "none") && strcmp(net, "host") && strcmp(net, "bridge") &&
            !silo_str_has_prefix(net, "container:")) {
                r = silo_error_set(err, 0, "--net '%s': want none, host, bridge or container:ID", net);
                goto out;
        }
        for (size_t i = 0; o->publish && o->publish[i]; i++) {
                r = silo_publish_validate(o->publish[i], err);
                if (r < 0)
                        goto out;
        }
        if (o->publish && o->publish[0] && strcmp(net, "bridge") != 0) {
                r = silo_error_set(err, 0, "--publish needs --net bridge");
                goto out;
        }

        silo_buf_puts(&b, "{\n\t\"ociVersion\": \"1.2.1\",\n\t\"process\": {\n");
        silo_buf_printf(&b, "\t\t\"terminal\": %s,\n", o->tty ? "true" : "false");
        silo_buf_printf(&b, "\t\t\"user\": {\"uid\": %u, \"gid\": %u", user ? user->uid : 0,
                        user ? user->gid : 0);
        if (user && user->ngids) {
                silo_buf_puts(&b, ", \"additionalGids\": [");
                for (size_t i = 0; i < user->ngids; i++)
                        silo_buf_printf(&b, "%s%u", i ? ", " : "", user->gids[i]);
                silo_buf_putc(&b, ']');
        }
        silo_buf_puts(&b, "},\n\t\t\"args\": ");
        put_strv(&b, args);
        silo_buf_puts(&b, ",\n\t\t\"env\": ");
        put_strv(&b, env);
        silo_buf_puts(&b, ",\n\t\t\"cwd\": ");
        silo_json_str(&b, cwd);
        silo_buf_puts(&b,
                      ",\n\t\t\"capabilities\": {\n"
                      "\t\t\t\"bounding\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],\n"
                      "\t\t\t\"effective\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],\n"
                      "\t\t\t\"permitted\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"]\n"
                      "\t\t},\n"
                      "\t\t\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024}],\n"
                      "\t\t\"noNewPrivileges\": true\n\t},\n");
        silo_buf_printf(&b, "\t\"root\": {\"path\": \"rootfs\", \"readonly\": %s},\n",
                        o->read_only ? "true" : "false");
        silo_buf_puts(&b, "\t\"hostname\": ");
        silo_json_str(&b, hostname);
        silo_buf_puts(&b, ",\n");
        silo_buf_puts(&b, mounts_json);

        /* annotations: implicit image ones, Labels (win, except run.silo.*), then silo's own */
        silo_buf_puts(&b, "\t\"annotations\": {");
        {
                static const char *const keys[][2] = {{"os", "os"},
                                                      {"architecture", "architecture"},
                                                      {"variant", "variant"},
                                                      {"author", "author"},
                                                      {"created", "created"}};
                v = silo_json_get(c, "Labels", NULL, yajl_t_object);
                for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
                        const char *val = silo_json_string(root, keys[i][0], NULL);
                        _cleanup_free_ char *k = silo_xasprintf("org.opencontainers.image.%s", keys[i][1]);
                        if (val && !(v && yajl_tree_get(v, (const char *[]){k, NULL}, yajl_t_any)))
                                put_annot(&b, &first, k, val);
                }
                const char *ss = silo_json_string(c, "StopSignal", NULL);
                if (ss &&
                    !(v && yajl_tree_get(v, (const char *[]){"org.opencontainers.image.stopSignal", NULL},
                                         yajl_t_any)))
                        put_annot(&b, &first, "org.opencontainers.image.stopSignal", ss);
                yajl_val ep = silo_json_get(c, "ExposedPorts", NULL, yajl_t_object);
                if (ep && YAJL_GET_OBJECT(ep)->len) {
                        struct silo_buf p = {0};
                        for (size_t i = 0; i < YAJL_GET_OBJECT(ep)->len; i++)
                                silo_buf_printf(&p, "%s%s", i ? "," : "", YAJL_GET_OBJECT(ep)->keys[i]);
                        put_annot(&b, &first, "org.opencontainers.image.exposedPorts", p.data);
                        silo_buf_free(&p);
                }
                for (size_t i = 0; v && i < YAJL_GET_OBJECT(v)->len; i++) {
                        const char *k = YAJL_GET_OBJECT(v)->keys[i];
                        if (silo_str_has_prefix(k, "run.silo.") ||
                            !YAJL_IS_STRING(YAJL_GET_OBJECT(v)->values[i]))
                                continue;
                        put_annot(&b, &first, k, YAJL_GET_STRING(YAJL_GET_OBJECT(v)->values[i]));
                }
        }
        put_annot(&b, &first, SILO_ANNOT_IMAGE_NAME, o->image);
        if (container_dir)
                put_annot(&b, &first, SILO_ANNOT_IMAGE_DIR, container_dir);
        if (strcmp(net, "bridge") == 0) {
                struct silo_buf p = {0};
                put_annot(&b, &first, "run.silo.network", "bridge");
                for (size_t i = 0; o->publish && o->publish[i]; i++)
                        silo_buf_printf(&p, "%s%s", i ? "," : "", o->publish[i]);
                put_annot(&b, &first, "run.silo.ports", p.data ? p.data : "");
                silo_buf_free(&p);
        }
        silo_buf_puts(&b, "\n\t},\n\t\"linux\": {\n\t\t\"resources\": {\"devices\": [{\"allow\": false, "
                          "\"access\": \"rwm\"}]");
        if (mem)
                silo_buf_printf(&b, ", \"memory\": {\"limit\": %lld}", (long long)mem);
        if (o->pids_limit)
                silo_buf_printf(&b, ", \"pids\": {\"limit\": %lld}", (long long)o->pids_limit);
        if (quota)
                silo_buf_printf(&b, ", \"cpu\": {\"quota\": %lld, \"period\": 100000}", (long long)quota);
        silo_buf_puts(
            &b, "},\n\t\t\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"ipc\"}, {\"type\": \"uts\"}, "
                "{\"type\": \"mount\"}, {\"type\": \"cgroup\"}");
        if (strcmp(net, "none") == 0 || strcmp(net, "bridge") == 0)
                silo_buf_puts(&b, ", {\"type\": \"network\"}");
        else if (silo_str_has_prefix(net, "container:")) {
                if (!o->netns_path) {
                        r = silo_error_set(err, 0, "--net '%s': container not resolved", net);
                        goto out;
                }
                silo_buf_puts(&b, ", {\"type\": \"network\", \"path\": ");
                silo_json_str(&b, o->netns_path);
                silo_buf_putc(&b, '}');
        }
        silo_buf_puts(&b, "],\n");
        silo_buf_puts(&b, paths_json);
        silo_buf_puts(&b, "\t}\n}\n");
        *ret = TAKE_PTR(b.data);
out:
        silo_buf_free(&b);
        yajl_tree_free(root);
        return r;
}
