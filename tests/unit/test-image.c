/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pure parts of the image module: references, whiteouts, digests, config generation, parsers,
 * user lookup in an image rootfs. */
#include "config.h"
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>
#include "tap.h"
#include "../../image/dl.h"
#include "../../image/image.h"
#include "../../image/json.h"
#include "../../runtime/util.h"

static void test_refs(void)
{
        silo_error_t err = NULL;
        char *r;

        r = silo_image_ref_normalize("busybox", &err);
        is_str(r, "busybox:latest", "NAME gets :latest");
        free(r);
        r = silo_image_ref_normalize("reg.example:5000/a/b", &err);
        is_str(r, "reg.example:5000/a/b:latest", "registry port is not a tag");
        free(r);
        r = silo_image_ref_normalize("a/b:1.2-x_y", &err);
        is_str(r, "a/b:1.2-x_y", "NAME:TAG kept");
        free(r);
        static const char *const bad[] = {"",
                                          "UPPER",
                                          "a b",
                                          "a:",
                                          "a:-x",
                                          "/abs",
                                          "a//b",
                                          "../x",
                                          "a:t/x",
                                          "x:"
                                          "t@y"};
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                r = silo_image_ref_normalize(bad[i], &err);
                ok(r == NULL && err != NULL, "invalid reference '%s' refused", bad[i]);
                silo_error_free(&err);
        }
}

static void test_whiteouts(void)
{
        const char *t = NULL;
        is_int(silo_whiteout_kind("file", &t), 0, "plain name");
        is_int(silo_whiteout_kind(".wh..wh..opq", &t), 1, "opaque marker");
        is_int(silo_whiteout_kind(".wh.foo", &t), 2, "whiteout");
        is_str(t, "foo", "whiteout target");
        ok(silo_whiteout_kind(".wh.", &t) < 0, "bare .wh. is invalid");
        ok(silo_whiteout_kind(".wh..", &t) < 0, ".wh.. is invalid");
        ok(silo_whiteout_kind(".wh...", &t) < 0, ".wh... is invalid");
}

static void test_digests(void)
{
        silo_error_t err = NULL;
        char d[72];
        ok(silo_image_dl_load(&err) == 0, "libarchive and libcrypto load");
        struct silo_sha256 *h = silo_sha256_new();
        silo_sha256_update(h, "ab", 2);
        silo_sha256_update(h, "c", 1);
        silo_sha256_final(h, d);
        is_str(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256 of abc");
        ok(silo_digest_valid(d), "valid digest");
        ok(!silo_digest_valid("sha256:BA7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
           "uppercase hex refused");
        ok(!silo_digest_valid("sha512:ba78"), "other algorithms refused");
        ok(!silo_digest_valid("sha256:../../etc/passwd"), "path-like digest refused");
        ok(silo_digest_check("layer", d, d, &err) == 0, "equal digests pass");
        ok(silo_digest_check("layer", d, "sha256:00", &err) < 0 && strstr(err->msg, d) &&
               strstr(err->msg, "mismatch"),
           "mismatch names the digest: %s", err ? err->msg : "");
        silo_error_free(&err);
}

static void test_parsers(void)
{
        silo_error_t err = NULL;
        int64_t v = 0;
        ok(silo_parse_bytes("512m", &v) == 0 && v == 512LL << 20, "512m");
        ok(silo_parse_bytes("1G", &v) == 0 && v == 1LL << 30, "1G");
        ok(silo_parse_bytes("4096", &v) == 0 && v == 4096, "plain bytes");
        ok(silo_parse_bytes("64mb", &v) == 0 && v == 64LL << 20, "64mb");
        ok(silo_parse_bytes("12x", &v) < 0 && silo_parse_bytes("-1", &v) < 0 && silo_parse_bytes("", &v) < 0,
           "bad sizes refused");
        ok(silo_parse_cpus("0.5", &v) == 0 && v == 50000, "--cpus 0.5 = 50000/100000");
        ok(silo_parse_cpus("2", &v) == 0 && v == 200000, "--cpus 2");
        ok(silo_parse_cpus("0", &v) < 0 && silo_parse_cpus("abc", &v) < 0 && silo_parse_cpus("1.5x", &v) < 0,
           "bad cpus refused");
        static const char *const good[] = {"8080:80", "127.0.0.1:8080:80/tcp", "53:53/udp", "[::1]:80:80",
                                           "65535:1"};
        for (size_t i = 0; i < ARRAY_SIZE(good); i++)
                ok(silo_publish_validate(good[i], &err) == 0, "publish '%s' accepted", good[i]);
        static const char *const bad[] = {"80",         "0:80",   "80:65536",   "a:80", "1.2.3:80:80",
                                          "80:80/sctp", "80:80/", "[::1:80:80", ":80"};
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                ok(silo_publish_validate(bad[i], &err) < 0, "publish '%s' refused", bad[i]);
                silo_error_free(&err);
        }
}

static const char image_cfg[] =
    "{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2020-01-01T00:00:00Z\","
    "\"config\":{\"Entrypoint\":[\"/bin/ep\"],\"Cmd\":[\"arg1\"],\"Env\":[\"PATH=/custom\",\"A=1\"],"
    "\"WorkingDir\":\"/work\",\"ExposedPorts\":{\"80/tcp\":{}},"
    "\"Labels\":{\"run.silo.image.dir\":\"/"
    "etc\",\"org.opencontainers.image.created\":\"label\",\"x\":\"y\"}},"
    "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";

static yajl_val gen(struct silo_image_run_opts *o, struct silo_user_spec *u, const char *dir, char **text)
{
        silo_error_t err = NULL;
        yajl_val v = NULL;
        *text = NULL;
        if (silo_image_gen_config(image_cfg, strlen(image_cfg), o, u, dir, text, &err) < 0) {
                printf("# gen: %s\n", err->msg);
                silo_error_free(&err);
                return NULL;
        }
        silo_json_parse("config", *text, &v, &err);
        return v;
}

static const char *arr_str(yajl_val v, const char *k1, const char *k2, size_t i)
{
        yajl_val a = silo_json_get(v, k1, k2, yajl_t_array);
        return a && i < YAJL_GET_ARRAY(a)->len ? YAJL_GET_STRING(YAJL_GET_ARRAY(a)->values[i]) : NULL;
}

static bool has_env(yajl_val v, const char *kv)
{
        for (size_t i = 0; arr_str(v, "process", "env", i); i++)
                if (strcmp(arr_str(v, "process", "env", i), kv) == 0)
                        return true;
        return false;
}

static void test_config(void)
{
        struct silo_user_spec u = {.uid = 1000, .gid = 1000, .home = (char *)"/home/app"};
        char *env[] = {"A=2", "NEW=x", NULL}, *args[] = {"x", "y", NULL},
             *pub[] = {"8080:80", "53:53/udp", NULL};
        struct silo_image_run_opts o = {.image = "img:1", .id = "ctr", .net = "none"};
        char *text;
        yajl_val v = gen(&o, &u, "/data/containers/ctr", &text), ns;

        ok(v != NULL, "config generated");
        is_str(arr_str(v, "process", "args", 0), "/bin/ep", "args = Entrypoint ++ Cmd (0)");
        is_str(arr_str(v, "process", "args", 1), "arg1", "args = Entrypoint ++ Cmd (1)");
        is_str(silo_json_string(v, "process", "cwd"), "/work", "WorkingDir -> cwd");
        ok(has_env(v, "PATH=/custom") && has_env(v, "A=1") && has_env(v, "HOME=/home/app") &&
               has_env(v, "HOSTNAME=ctr"),
           "image Env kept, HOME and HOSTNAME added");
        is_str(silo_json_string(v, "annotations", "run.silo.image.dir"), "/data/containers/ctr",
               "labels cannot set run.silo.* annotations");
        is_str(silo_json_string(v, "annotations", "org.opencontainers.image.created"), "label", "Labels win");
        is_str(silo_json_string(v, "annotations", "org.opencontainers.image.exposedPorts"), "80/tcp",
               "ExposedPorts recorded");
        ok(silo_json_string(v, "annotations", "run.silo.network") == NULL,
           "--net none: no network annotation");
        ns = silo_json_get(v, "linux", "namespaces", yajl_t_array);
        ok(ns && strstr(text, "{\"type\": \"network\"}") != NULL, "--net none: new network namespace");
        ok(silo_json_get(silo_json_get(v, "process", "user", yajl_t_object), "uid", NULL, yajl_t_number) &&
               strstr(text, "\"uid\": 1000, \"gid\": 1000"),
           "user from the resolved spec");
        ok(strstr(text, "CAP_NET_BIND_SERVICE") && strstr(text, "maskedPaths") &&
               strstr(text, "/sys/fs/cgroup"),
           "defaults like silo spec");
        yajl_tree_free(v);
        free(text);

        o.env = env;
        o.args = args;
        o.workdir = "/w";
        o.net = "bridge";
        o.publish = pub;
        o.read_only = true;
        o.tty = true;
        o.memory = "64m";
        o.pids_limit = 32;
        o.cpus = "0.5";
        v = gen(&o, &u, NULL, &text);
        ok(v != NULL, "config with options generated");
        is_str(arr_str(v, "process", "args", 1), "x", "CMD replaces Cmd");
        ok(arr_str(v, "process", "args", 3) == NULL &&
               strcmp(arr_str(v, "process", "args", 0), "/bin/ep") == 0,
           "Entrypoint kept");
        ok(has_env(v, "A=2") && !has_env(v, "A=1") && has_env(v, "NEW=x") && has_env(v, "TERM=xterm"),
           "-e overrides image Env, -t sets TERM");
        is_str(silo_json_string(v, "process", "cwd"), "/w", "-w");
        is_str(silo_json_string(v, "annotations", "run.silo.network"), "bridge", "bridge annotation");
        is_str(silo_json_string(v, "annotations", "run.silo.ports"), "8080:80,53:53/udp", "ports as given");
        ok(strstr(text, "\"readonly\": true") && strstr(text, "\"terminal\": true"), "--read-only, -t");
        ok(strstr(text, "\"limit\": 67108864") && strstr(text, "\"pids\": {\"limit\": 32}") &&
               strstr(text, "\"quota\": 50000"),
           "memory, pids, cpu limits");
        yajl_tree_free(v);
        free(text);

        o.net = "host";
        o.publish = NULL;
        v = gen(&o, &u, NULL, &text);
        ok(v && !strstr(text, "\"network\""), "--net host: no network namespace");
        yajl_tree_free(v);
        free(text);
        o.net = "container:x";
        o.netns_path = "/proc/42/ns/net";
        v = gen(&o, &u, NULL, &text);
        ok(v && strstr(text, "\"path\": \"/proc/42/ns/net\""), "--net container: joins the netns path");
        yajl_tree_free(v);
        free(text);
        o.net = "none";
        o.publish = pub;
        v = gen(&o, &u, NULL, &text);
        ok(v == NULL, "--publish without bridge refused");
        o.publish = NULL;
        o.entrypoint = "";
        o.args = NULL;
        v = gen(&o, &u, NULL, &text);
        ok(v == NULL, "no command at all refused");
}

static void test_user(void)
{
        char dir[] = "/tmp/silo-test-image-XXXXXX";
        struct silo_user_spec u;
        silo_error_t err = NULL;
        int fd;

        ok(mkdtemp(dir) != NULL, "temp rootfs");
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        mkdirat(fd, "etc", 0755);
        silo_write_file_atomic_at(fd, "etc/passwd",
                                  "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001:a:/home/app:/bin/sh\n", 63,
                                  0644, NULL);
        silo_write_file_atomic_at(
            fd, "etc/group", "root:x:0:\napp:x:1001:\nwheel:x:10:root,app\naudio:x:29:app\n", 56, 0644, NULL);
        ok(silo_image_resolve_user(fd, "app", &u, &err) == 0 && u.uid == 1000 && u.gid == 1001 &&
               u.ngids == 2 && strcmp(u.home, "/home/app") == 0,
           "name -> uid, gid, supplementary groups, home");
        silo_user_spec_free(&u);
        ok(silo_image_resolve_user(fd, "app:wheel", &u, &err) == 0 && u.gid == 10 && u.ngids == 0,
           "user:group: no supplementary groups");
        silo_user_spec_free(&u);
        ok(silo_image_resolve_user(fd, "1000:5", &u, &err) == 0 && u.uid == 1000 && u.gid == 5,
           "uid:gid verbatim");
        silo_user_spec_free(&u);
        ok(silo_image_resolve_user(fd, "4242", &u, &err) == 0 && u.uid == 4242 && u.gid == 0,
           "unknown uid ok");
        silo_user_spec_free(&u);
        ok(silo_image_resolve_user(fd, "nobody", &u, &err) < 0 && strstr(err->msg, "nobody"),
           "unknown user error");
        silo_error_free(&err);
        ok(silo_image_resolve_user(fd, "app:nogroup", &u, &err) < 0, "unknown group error");
        silo_error_free(&err);
        /* /etc/passwd as a symlink escaping the root resolves inside it */
        unlinkat(fd, "etc/passwd", 0);
        symlinkat("/../../../etc/passwd", fd, "etc/passwd");
        ok(silo_image_resolve_user(fd, "app", &u, &err) < 0, "passwd symlink does not escape the rootfs");
        silo_error_free(&err);
        close(fd);
        silo_rm_rf_at(AT_FDCWD, dir);
}

/* write a tar with libarchive: entries "NAME" (file), "NAME/" (dir) */
static void write_tar(const char *path, const char *const *names)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        struct archive *a = SA(archive_write_new)();
        SA(archive_write_set_format_pax)(a);
        SA(archive_write_open_fd)(a, fd);
        for (size_t i = 0; names[i]; i++) {
                struct archive_entry *e = SA(archive_entry_new)();
                size_t l = strlen(names[i]);
                bool dir = names[i][l - 1] == '/';
                SA(archive_entry_set_pathname)(e, names[i]);
                SA(archive_entry_set_filetype)(e, dir ? AE_IFDIR : AE_IFREG);
                SA(archive_entry_set_perm)(e, dir ? 0755 : 0644);
                SA(archive_entry_set_size)(e, dir ? 0 : 2);
                SA(archive_write_header)(a, e);
                if (!dir)
                        SA(archive_write_data)(a, "x\n", 2);
                SA(archive_entry_free)(e);
        }
        SA(archive_write_close)(a);
        SA(archive_write_free)(a);
        close(fd);
}

static char *file_digest(const char *path)
{
        char d[72], buf[4096];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n;
        struct silo_sha256 *h = silo_sha256_new();
        while ((n = read(fd, buf, sizeof(buf))) > 0)
                silo_sha256_update(h, buf, (size_t)n);
        close(fd);
        silo_sha256_final(h, d);
        return silo_xstrdup(d);
}

/* Unpack the tar file at `tar` into the dir dfd as `mode`; 0 or -errno (err set). */
static int unpack_file(const char *tar, int dfd, enum silo_unpack_mode mode, struct silo_unpack_result *res,
                       silo_error_t *err)
{
        struct silo_unpack_limits lim;
        int fd = open(tar, O_RDONLY | O_CLOEXEC), r;

        silo_unpack_limits_default(&lim);
        r = silo_unpack_fd(fd, dfd, mode, &lim, res, err);
        close(fd);
        return r;
}

static void test_unpack_whiteouts(void)
{
        static const char *const names[] = {"dir/", "dir/.wh..wh..opq", "dir/new", ".wh.gone", "sub/.wh.x", NULL};
        char dir[] = "/tmp/silo-test-unpack-XXXXXX";
        struct silo_unpack_result res;
        silo_error_t err = NULL;
        struct stat st;
        char v[4] = "";
        int fd, dfd;

        if (geteuid() != 0) {
                ok(1, "# SKIP whiteout conversion needs root (mknod, trusted xattrs)");
                return;
        }
        ok(mkdtemp(dir) != NULL, "temp dir");
        _cleanup_free_ char *tar = silo_xasprintf("%s/l.tar", dir), *upper = silo_xasprintf("%s/upper", dir);
        _cleanup_free_ char *out = silo_xasprintf("%s/diff.tar", dir);
        write_tar(tar, names);
        _cleanup_free_ char *want = file_digest(tar);
        mkdir(upper, 0755);
        dfd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ok(unpack_file(tar, dfd, SILO_UNPACK_LAYER, &res, &err) == 0, "unpack a layer with whiteouts");
        is_str(res.diff_id, want, "diff_id = sha256 of the uncompressed tar");
        is_str(res.blob_digest, want, "blob digest of an uncompressed tar is the same");
        ok(fstatat(dfd, "gone", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0),
           ".wh.gone -> 0:0 char device 'gone'");
        ok(fstatat(dfd, ".wh.gone", &st, AT_SYMLINK_NOFOLLOW) < 0, "no .wh. file written");
        ok(fstatat(dfd, "sub/x", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISCHR(st.st_mode), "whiteout in a new subdir");
        fd = openat(dfd, "dir", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ok(fd >= 0 && fgetxattr(fd, "trusted.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y',
           ".wh..wh..opq -> trusted.overlay.opaque=y");
        if (fd >= 0)
                close(fd);
        ok(fstatat(dfd, "dir/new", &st, 0) == 0 && fstatat(dfd, "dir/.wh..wh..opq", &st, 0) < 0,
           "opaque dir keeps the entries of its own layer");
        close(dfd);

        /* and back: the upper dir as an OCI layer has the .wh. forms again */
        fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        ok(silo_image_diff(dir, fd, &err) == 0, "diff of the unpacked dir");
        close(fd);
        {
                struct archive *a = SA(archive_read_new)();
                struct archive_entry *e;
                struct silo_buf seen = {0};
                SA(archive_read_support_format_tar)(a);
                SA(archive_read_open_filename)(a, out, 10240);
                while (SA(archive_read_next_header)(a, &e) == ARCHIVE_OK)
                        silo_buf_printf(&seen, "%s;", SA(archive_entry_pathname)(e));
                SA(archive_read_free)(a);
                ok(seen.data && strstr(seen.data, ".wh.gone;") && strstr(seen.data, "dir/.wh..wh..opq;") &&
                           strstr(seen.data, "sub/.wh.x;") && strstr(seen.data, "dir/new;"),
                   "diff: whiteouts back in OCI form: %s", seen.data ? seen.data : "");
                silo_buf_free(&seen);
        }
        silo_rm_rf_at(AT_FDCWD, dir);
        silo_error_free(&err);
}

/* silo_image_tar_tree + SILO_UNPACK_TREE: a tmpfs's tree as it was (checkpoint/tmpfs.c) */
static void test_tar_tree(void)
{
        char dir[] = "/tmp/silo-tree.XXXXXX";
        struct silo_unpack_result res;
        silo_error_t err = NULL;
        struct stat st;
        char t[64] = "";
        int src, dst, fd;

        if (geteuid() != 0) {
                ok(1, "# SKIP device nodes need root");
                return;
        }
        ok(mkdtemp(dir) != NULL, "temp dir");
        _cleanup_free_ char *a = silo_xasprintf("%s/a", dir), *b = silo_xasprintf("%s/b", dir);
        _cleanup_free_ char *tar = silo_xasprintf("%s/t.tar", dir);
        mkdir(a, 0755);
        mkdir(b, 0700);
        chmod(a, 01777);
        src = open(a, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        mknodat(src, "null", S_IFCHR | 0666, makedev(1, 3));
        fchmodat(src, "null", 0666, 0);
        symlinkat("/proc/self/fd", src, "fd");
        mkdirat(src, "pts", 0755);
        fd = openat(src, ".wh.plain", O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
        ok(fd >= 0 && write(fd, "x", 1) == 1, "a file named like a whiteout");
        close(fd);
        fd = open(tar, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        ok(silo_image_tar_tree(src, fd, &err) == 0, "tar of the tree");
        close(fd);
        close(src);
        dst = open(b, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ok(unpack_file(tar, dst, SILO_UNPACK_TREE, &res, &err) == 0, "unpacked as a tree");
        ok(fstat(dst, &st) == 0 && (st.st_mode & 07777) == 01777, "the root's mode came along: %o",
           st.st_mode & 07777);
        ok(fstatat(dst, "null", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISCHR(st.st_mode) &&
               st.st_rdev == makedev(1, 3) && (st.st_mode & 0777) == 0666,
           "device node 1:3 0666");
        ok(readlinkat(dst, "fd", t, sizeof(t) - 1) > 0 && strcmp(t, "/proc/self/fd") == 0, "symlink kept");
        ok(fstatat(dst, "pts", &st, 0) == 0 && S_ISDIR(st.st_mode), "empty dir kept");
        ok(fstatat(dst, ".wh.plain", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) && st.st_size == 1 &&
               (st.st_mode & 0777) == 0640,
           "'.wh.' names are plain files in a tree");
        close(dst);
        if (err)
                printf("# %s\n", err->msg);
        silo_rm_rf_at(AT_FDCWD, dir);
        silo_error_free(&err);
}

int main(void)
{
        test_refs();
        test_whiteouts();
        test_digests();
        test_parsers();
        test_config();
        test_user();
        test_unpack_whiteouts();
        test_tar_tree();
        return done();
}
