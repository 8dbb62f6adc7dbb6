/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What silo records besides CRIU's images (issue 6): network.status, the attachment of a bridge
 * container written at dump and read back at restore so it keeps its address; the archive of
 * checkpoint --export (archive.c's format: images, spec.dump, config.dump, network.status and an
 * image container's rootfs changes) and its way back in at restore --import.  Split from
 * checkpoint.c, which drives CRIU and calls in here (checkpoint-internal.h).
 *
 * Invariants:
 *   - nothing here talks to CRIU: an archive is made from complete images (after the dump) and
 *     unpacked before CRIU runs;
 *   - --import unpacks only into a private locked dir under the state root (ckpt_state_tmpdir),
 *     removed here on every failure; on success the caller removes it after the restore;
 *   - an image container dir made here is removed here on failure, and is the caller's (*ret_made)
 *     once returned; the same node's kept dir (same id) is reused, never made or removed;
 *   - a missing or unreadable network record is "no record": the restore then leases any address.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/file.h>
#include <unistd.h>
#include "archive.h"
#include "checkpoint.h"
#include "checkpoint-internal.h"
#include "../image/image.h"
#include "../image/json.h"
#include "../netns/netns.h"
#include "../runtime/log.h"
#include "../runtime/sandbox.h"
#include "../runtime/spec.h"
#include "../runtime/util.h"

/* ---- the network record ------------------------------------------------------------------- */

/* The leased address of a bridge container, from its state dir's "network" file. */
static int ip_of(struct silo_container *c, uint32_t *ret)
{
        _cleanup_free_ char *buf = NULL;
        const char *p;
        struct in_addr a;
        char ip[16];

        if (silo_read_file_at(c->dirfd, "network", 4096, &buf, NULL, NULL) < 0)
                return -ENOENT;
        p = strstr(buf, "ip=");
        if (p == NULL || sscanf(p + 3, "%15[0-9.]", ip) != 1 || inet_pton(AF_INET, ip, &a) != 1)
                return -ENOENT;
        *ret = ntohl(a.s_addr);
        return 0;
}

/* network.status: silo's attachment ("network" file of the state dir: bridge, ip), the MAC
 * (derived from the ip, netns.h) and published ports.  Restore leases the same ip from it. */
char *ckpt_network_json(struct silo_container *c)
{
        _cleanup_free_ char *buf = NULL;
        uint32_t ip;
        const char *ports = silo_spec_annotation(c->spec, "run.silo.ports");
        struct silo_buf b = {0};
        char *save = NULL;

        if (silo_read_file_at(c->dirfd, "network", 4096, &buf, NULL, NULL) < 0)
                return NULL;
        silo_buf_putc(&b, '{');
        for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *eq = strchr(line, '=');
                if (eq == NULL)
                        continue;
                *eq = '\0';
                silo_json_str(&b, line);
                silo_buf_putc(&b, ':');
                silo_json_str(&b, eq + 1);
                silo_buf_putc(&b, ',');
        }
        if (ip_of(c, &ip) == 0) {
                uint8_t mac[6];
                char m[18];
                silo_net_mac(ip, mac);
                snprintf(m, sizeof(m), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                         mac[4], mac[5]);
                silo_buf_puts(&b, "\"mac\":");
                silo_json_str(&b, m);
                silo_buf_putc(&b, ',');
        }
        silo_buf_puts(&b, "\"ports\":");
        silo_json_str(&b, ports ? ports : "");
        silo_buf_putc(&b, '}');
        return b.data;
}

char *silo_ckpt_network_status(struct silo_container *c) /* the vm sandbox's snapshot records it too */
{
        return ckpt_network_json(c);
}

int ckpt_export_archive(struct silo_container *c, const struct silo_criu_opts *o, silo_error_t *err)
{
        _cleanup_free_ char *spec = NULL, *cfg = NULL, *net = NULL;
        const char *image = silo_spec_annotation(c->spec, SILO_ANNOT_IMAGE_NAME);
        const char *dir = silo_spec_annotation(c->spec, SILO_ANNOT_IMAGE_DIR);
        struct silo_ckpt_meta m;
        int r = silo_read_file_at(c->dirfd, "config.json", 16 << 20, &spec, NULL, err);

        if (r < 0)
                return r;
        if (dir) { /* the overlay's upper dir, OCI whiteout form (`image diff`), + deleted.files */
                r = silo_ckpt_rootfs_export(dir, o->image_path, err);
                if (r < 0)
                        return silo_error_wrap(err, "--export: rootfs changes");
        }
        /* checkpointedTime: now, once the images and the rootfs changes are complete */
        cfg = silo_ckpt_config_json(c->id, NULL, c->state->bundle, image ? image : "", c->state->created);
        net = ckpt_network_json(c);
        m = (struct silo_ckpt_meta){.spec_json = spec, .config_json = cfg, .network_json = net};
        return silo_ckpt_export(o->image_path, &m, o->export_path, err);
}

/* ---- restore --import --------------------------------------------------------------------- */

/*
 * An image container's dir made on this node (restore --import, migrate to a node with its own
 * data root): from the image in data_root's store, with the config given (its image dir
 * annotation rewritten to point here) and the rootfs changes of srcfd (rootfs-diff.tar,
 * deleted.files) in its fresh upper dir, before CRIU runs.  Removed again on failure; the
 * caller's once returned (restore's rollback leaves image container dirs to their maker).
 */
int silo_ckpt_image_dir_make(const char *data_root, const char *state_root, const char *image, const char *id,
                             const char *spec_json, int srcfd, char **ret_dir, silo_error_t *err)
{
        _cleanup_free_ char *json = NULL, *newdir = NULL;
        struct silo_spec *nspec = NULL;
        struct silo_store s = {.dirfd = -1, .gc_lock = -1};
        int r;

        if (image == NULL || *image == '\0')
                return silo_error_set(err, EINVAL, "the container's config names no image (annotation '%s')",
                                      SILO_ANNOT_IMAGE_NAME);
        r = silo_store_open(&s, data_root, false, err);
        if (r == 0 && flock(s.gc_lock, LOCK_SH) < 0) /* prune must not take the layers meanwhile */
                r = silo_error_set(err, errno, "lock '%s/gc.lock'", data_root);
        if (r < 0) {
                silo_store_close(&s);
                return silo_error_wrap(err,
                                       "the container ran from image '%s', but there is no image store at '%s' "
                                       "(import the image first)",
                                       image, data_root);
        }
        newdir = silo_xasprintf("%s/containers/%s", s.root, id);
        json = silo_ckpt_spec_set_image_dir(spec_json, newdir, err);
        if (json == NULL) {
                silo_store_close(&s);
                return silo_error_ret(*err);
        }
        free(newdir);
        newdir = NULL;
        r = silo_image_container_dir_create(&s, image, id, state_root, json, &newdir, err);
        silo_store_close(&s);
        if (r < 0)
                return silo_error_wrap(err, "the container ran from image '%s'%s", image,
                                       r == -ENOENT ? " (import it into this node's data root first)" : "");
        r = silo_spec_parse(json, strlen(json), &nspec, err);
        if (r == 0)
                r = silo_ckpt_rootfs_import(srcfd, newdir, nspec, id, err);
        silo_spec_free(nspec);
        if (r < 0) {
                silo_image_bundle_discard(newdir);
                return r;
        }
        *ret_dir = TAKE_PTR(newdir);
        return 0;
}

/* An image container's rootfs at --import.  Same node, same id: its container dir is still
 * there (checkpoint keeps it) and already holds the changes; otherwise it is made here. */
static int import_image_dir(const struct silo_context *ctx, const struct silo_criu_opts *o,
                            const struct silo_spec *spec, const char *spec_json, int srcfd, char **ret_bundle,
                            bool *ret_made, silo_error_t *err)
{
        const char *dir = silo_spec_annotation(spec, SILO_ANNOT_IMAGE_DIR);
        const char *base = strrchr(dir, '/');
        _cleanup_free_ char *cfg = silo_xasprintf("%s/config.json", dir);
        int r;

        if (base && strcmp(base + 1, o->id) == 0 && access(cfg, F_OK) == 0) {
                *ret_bundle = silo_xstrdup(dir);
                return 0;
        }
        r = silo_ckpt_image_dir_make(o->data_root ? o->data_root : silo_data_root_default(), ctx->root,
                                     silo_spec_annotation(spec, SILO_ANNOT_IMAGE_NAME), o->id, spec_json, srcfd,
                                     ret_bundle, err);
        if (r < 0)
                return silo_error_wrap(err, "--import");
        *ret_made = true;
        return 0;
}

/*
 * --import: unpack into a private dir under the state root; the images are restored from its
 * checkpoint/.  A container that ran from an image restores from its image dir when this node
 * has it (same node: checkpoint keeps it); a plain bundle is expected at --bundle.
 */
int ckpt_import_archive(const struct silo_context *ctx, const struct silo_criu_opts *o, char **ret_tmp,
                        char **ret_bundle, bool *ret_made, silo_error_t *err)
{
        _cleanup_free_ char *tmp = NULL, *buf = NULL;
        _cleanup_close_ int dirfd = -1;
        struct silo_spec *spec = NULL;
        const char *dir;
        size_t len;
        int r;

        if (!silo_id_valid(o->id))
                return silo_error_set(err, 0, "invalid container ID format: '%s'", o->id ? o->id : "");
        tmp = ckpt_state_tmpdir(ctx, "import", o->id, err);
        if (tmp == NULL)
                return silo_error_ret(*err);
        dirfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        r = dirfd < 0 ? silo_error_set(err, errno, "'%s'", tmp)
                      : silo_ckpt_import(o->import_path, dirfd, err);
        if (r == 0)
                r = silo_read_file_at(dirfd, "spec.dump", 16 << 20, &buf, &len, err);
        if (r == 0)
                r = silo_spec_parse(buf, len, &spec, err);
        if (r < 0) {
                silo_rm_rf_at(AT_FDCWD, tmp);
                return r;
        }
        dir = silo_spec_annotation(spec, SILO_ANNOT_IMAGE_DIR);
        *ret_bundle = NULL;
        if (dir) {
                r = import_image_dir(ctx, o, spec, buf, dirfd, ret_bundle, ret_made, err);
                if (r < 0) {
                        silo_spec_free(spec);
                        silo_rm_rf_at(AT_FDCWD, tmp);
                        return r;
                }
        }
        silo_spec_free(spec);
        *ret_tmp = TAKE_PTR(tmp);
        return 0;
}

/* The address the container had (network.status of the archive or of the image dir): a bridge
 * container is restored on it, so established connections and clients keep working. */
int ckpt_recorded_ip(const char *dir, char **ret, silo_error_t *err)
{
        _cleanup_free_ char *path = silo_xasprintf("%s/network.status", dir), *buf = NULL;
        yajl_val v = NULL;
        const char *ip;
        int r;

        *ret = NULL;
        if (silo_read_file_at(AT_FDCWD, path, 1 << 16, &buf, NULL, NULL) < 0)
                return 0; /* not a bridge container, or made before silo recorded it */
        r = silo_json_parse(path, buf, &v, err);
        if (r < 0)
                return r;
        ip = silo_json_string(v, "ip", NULL);
        if (ip && *ip)
                *ret = silo_xstrdup(ip);
        yajl_tree_free(v);
        return 0;
}
