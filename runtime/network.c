/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Container networking glue (see network.h for the modes).
 *
 * The state dir's "network" file is written BEFORE the lease is taken and names the bridge (and,
 * once leased, the address): release reads it and nothing else from the container, so a create
 * SIGKILLed at any point leaves a state that `delete --force` can undo.  The generated etc
 * files live in the state dir too and go away with it.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "../netns/netns.h"
#include "log.h"
#include "network.h"
#include "sandbox.h"
#include "util.h"

#define ANN_MODE "run.silo.network"
#define ANN_PORTS "run.silo.ports"
#define ANN_BRIDGE "run.silo.network.bridge"
#define ANN_SUBNET "run.silo.network.subnet"
#define ANN_IP "run.silo.network.ip"

struct netcfg {
        struct silo_net_config cfg;
        char *lease_root;
        struct silo_net_port *ports;
};

static void netcfg_clear(struct netcfg *n)
{
        free(n->lease_root);
        free(n->ports);
}

/* 1: bridge networking, 0: nothing to configure. */
static int netcfg_load(const struct silo_container *c, struct netcfg *n, silo_error_t *err)
{
        const struct silo_spec *spec = c->spec;
        const char *mode = silo_spec_annotation(spec, ANN_MODE),
                   *ports = silo_spec_annotation(spec, ANN_PORTS);
        const char *bridge = silo_spec_annotation(spec, ANN_BRIDGE),
                   *subnet = silo_spec_annotation(spec, ANN_SUBNET);
        const struct silo_namespace *ns = silo_spec_namespace(spec, SILO_NS_NETWORK);
        int r;

        memset(n, 0, sizeof(*n));
        if (mode == NULL || strcmp(mode, "none") == 0 || strcmp(mode, "host") == 0) {
                if (ports && *ports)
                        return silo_error_set(err, 0,
                                              ANN_PORTS ": publishing ports needs " ANN_MODE "=bridge");
                return 0;
        }
        if (strcmp(mode, "bridge") != 0)
                return silo_error_set(err, 0, ANN_MODE ": invalid value '%s' (bridge, none or host)", mode);
        if (ns == NULL)
                return silo_error_set(err, 0,
                                      ANN_MODE ": 'bridge' needs a new network namespace "
                                               "(/linux/namespaces has none)");
        if (ns->path && *ns->path) {
                silo_debug(ANN_MODE ": the network namespace '%s' is given by path: configuring nothing",
                           ns->path);
                return 0;
        }
        n->cfg.bridge = bridge ? bridge : SILO_NET_DEFAULT_BRIDGE;
        if (!silo_net_ifname_valid(n->cfg.bridge))
                return silo_error_set(err, 0, ANN_BRIDGE ": invalid interface name '%s'", n->cfg.bridge);
        r = silo_net_parse_subnet(subnet ? subnet : SILO_NET_DEFAULT_SUBNET, &n->cfg.subnet, &n->cfg.prefix,
                                  err);
        if (r < 0)
                return silo_error_wrap(err, ANN_SUBNET);
        r = silo_net_parse_ports(ports, &n->ports, &n->cfg.n_ports, err);
        if (r < 0)
                return silo_error_wrap(err, ANN_PORTS);
        n->cfg.ports = n->ports;
        /* a static address: restore/migrate's (the one the container had) or the config's own */
        const char *want = c->opts && c->opts->net_ip ? c->opts->net_ip : silo_spec_annotation(spec, ANN_IP);
        if (want && *want) {
                struct in_addr a;
                if (inet_pton(AF_INET, want, &a) != 1)
                        return silo_error_set(err, EINVAL, ANN_IP ": invalid IPv4 address '%s'", want);
                n->cfg.want_ip = ntohl(a.s_addr);
        }
        n->cfg.id = c->id;
        n->cfg.lease_root = n->lease_root = silo_xasprintf("%s/@net", c->ctx->root);
        return 1;
}

static char *host_resolv_conf(void)
{
        _cleanup_free_ char *buf = NULL;
        silo_error_t e = NULL;

        if (silo_read_file_at(AT_FDCWD, "/etc/resolv.conf", 1 << 20, &buf, NULL, &e) < 0) {
                silo_error_free(&e);
                return NULL;
        }
        /* systemd-resolved's stub: the real upstream servers are in its other file */
        if (strstr(buf, "nameserver 127.0.0.53")) {
                char *up = NULL;
                if (silo_read_file_at(AT_FDCWD, "/run/systemd/resolve/resolv.conf", 1 << 20, &up, NULL, &e) ==
                    0) {
                        free(buf);
                        return up;
                }
                silo_error_free(&e);
        }
        return TAKE_PTR(buf);
}

static bool has_mount(const struct silo_spec *spec, const char *dest)
{
        for (size_t i = 0; i < spec->n_mounts; i++)
                if (spec->mounts[i].destination && strcmp(spec->mounts[i].destination, dest) == 0)
                        return true;
        return false;
}

/* Bind mount (read-write, as podman) of <state dir>/<name> onto /etc/<name>, unless the config
 * already mounts something there (the user's choice wins). */
static int add_etc_mount(struct silo_container *c, const char *name, silo_error_t *err)
{
        _cleanup_free_ char *dest = silo_xasprintf("/etc/%s", name);
        struct silo_mount *m;

        if (has_mount(c->spec, dest))
                return 0;
        c->spec->mounts = silo_xrealloc(c->spec->mounts, (c->spec->n_mounts + 1) * sizeof(*c->spec->mounts));
        m = &c->spec->mounts[c->spec->n_mounts++];
        memset(m, 0, sizeof(*m));
        m->destination = TAKE_PTR(dest);
        m->type = silo_xstrdup("bind");
        m->source = silo_xasprintf("%s/%s/%s", c->ctx->root, c->id, name);
        silo_strv_push(&m->options, silo_xstrdup("bind"));
        silo_strv_push(&m->options, silo_xstrdup("rprivate"));
        return silo_mount_parse_options(m, err);
}

static int write_etc(struct silo_container *c, const struct netcfg *n, uint32_t ip, silo_error_t *err)
{
        _cleanup_free_ char *hostname = NULL, *hostname_file = NULL, *hosts = NULL, *resolv = NULL,
                            *host = NULL;
        static const char *const names[] = {"hostname", "hosts", "resolv.conf"};
        int r;

        if (c->spec->hostname && *c->spec->hostname)
                hostname = silo_xstrdup(c->spec->hostname);
        else
                hostname = silo_xasprintf("%.12s", c->id);
        hostname_file = silo_xasprintf("%s\n", hostname);
        hosts = silo_net_hosts_text(hostname, ip, n->cfg.subnet + 1);
        host = host_resolv_conf();
        resolv = silo_net_resolv_text(host);
        const char *texts[] = {hostname_file, hosts, resolv};
        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
                r = silo_write_file_atomic_at(c->dirfd, names[i], texts[i], strlen(texts[i]), 0644, err);
                if (r < 0)
                        return r;
                r = add_etc_mount(c, names[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int write_pointer(int dirfd, const char *bridge, uint32_t ip, silo_error_t *err)
{
        char s[16];
        _cleanup_free_ char *text =
            silo_xasprintf("bridge=%s\nip=%s\n", bridge, ip ? silo_net_ip_str(ip, s) : "");
        return silo_write_file_atomic_at(dirfd, "network", text, strlen(text), 0600, err);
}

/* The "network" file: bridge name and address. 0 when there is none. */
static int read_pointer(int dirfd, char **ret_bridge, uint32_t *ret_ip)
{
        _cleanup_free_ char *buf = NULL;
        char *save = NULL;
        silo_error_t e = NULL;

        *ret_bridge = NULL;
        *ret_ip = 0;
        if (silo_read_file_at(dirfd, "network", 4096, &buf, NULL, &e) < 0) {
                silo_error_free(&e);
                return 0;
        }
        for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                struct in_addr a;
                if (silo_str_has_prefix(line, "bridge=") && silo_net_ifname_valid(line + 7)) {
                        free(*ret_bridge);
                        *ret_bridge = silo_xstrdup(line + 7);
                } else if (silo_str_has_prefix(line, "ip=") && inet_pton(AF_INET, line + 3, &a) == 1) {
                        *ret_ip = ntohl(a.s_addr);
                }
        }
        return *ret_bridge ? 1 : 0;
}

int silo_network_prepare(struct silo_container *c, silo_error_t *err)
{
        struct netcfg n;
        uint32_t ip = 0;
        int r;

        r = netcfg_load(c, &n, err);
        if (r <= 0)
                goto out;
        r = write_pointer(c->dirfd, n.cfg.bridge, 0, err);
        if (r == 0)
                r = silo_net_lease(&n.cfg, &ip, err);
        if (r == 0)
                r = write_pointer(c->dirfd, n.cfg.bridge, ip, err);
        if (r == 0)
                r = write_etc(c, &n, ip, err);
        if (r < 0)
                silo_error_wrap(err, "network '%s'", n.cfg.bridge);
out:
        netcfg_clear(&n);
        return r < 0 ? r : 0;
}

int silo_network_attach(struct silo_container *c, silo_error_t *err)
{
        _cleanup_free_ char *bridge = NULL;
        struct netcfg n;
        uint32_t ip;
        int r;

        r = netcfg_load(c, &n, err);
        if (r <= 0)
                goto out;
        if (read_pointer(c->dirfd, &bridge, &ip) <= 0 || ip == 0) {
                r = silo_error_set(err, ENOENT, "network '%s': no address leased", n.cfg.bridge);
                goto out;
        }
        r = silo_net_attach(&n.cfg, ip, c->pid, c->state->pid_start_time, err);
        if (r < 0)
                silo_error_wrap(err, "network '%s'", n.cfg.bridge);
out:
        netcfg_clear(&n);
        return r < 0 ? r : 0;
}

int silo_network_release(const char *root, int state_dirfd, const char *id, silo_error_t *err)
{
        _cleanup_free_ char *bridge = NULL, *lease_root = NULL;
        uint32_t ip;
        int r;

        if (state_dirfd < 0 || read_pointer(state_dirfd, &bridge, &ip) <= 0)
                return 0;
        lease_root = silo_xasprintf("%s/@net", root);
        r = silo_net_release(lease_root, bridge, id, err);
        if (r < 0)
                return silo_error_wrap(err, "network '%s'", bridge);
        /* released: a second delete has nothing left to do */
        unlinkat(state_dirfd, "network", 0);
        return 0;
}
