/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The bridge network: leases (IPAM), attach and release.  See netns.h for the invariants.
 *
 * Lease file <lease_root>/<bridge>/<a.b.c.d>, key=value lines:
 *     id=<container id>
 *     subnet=<a.b.c.d/len>
 *     owner=<pid> <start time>     the silo process that took the lease
 *     init=<pid> <start time>      the container init, once attached (0 0 before)
 *     ports=<silo_net_ports_text>
 * Files are replaced atomically (write + rename), so a reader never sees half a lease.
 */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "netns.h"
#include "../runtime/fault.h"
#include "../runtime/log.h"
#include "../runtime/util.h"

struct lease {
        uint32_t ip;
        char *id;
        char *subnet;
        pid_t owner;
        unsigned long long owner_start;
        pid_t pid;
        unsigned long long pid_start;
        char *ports;
};

static void lease_clear(struct lease *l)
{
        free(l->id);
        free(l->subnet);
        free(l->ports);
        memset(l, 0, sizeof(*l));
}

static int lease_read(int dirfd, const char *name, struct lease *l)
{
        _cleanup_free_ char *buf = NULL;
        char *save = NULL;
        struct in_addr a;
        silo_error_t e = NULL;

        memset(l, 0, sizeof(*l));
        if (inet_pton(AF_INET, name, &a) != 1)
                return -EINVAL;
        if (silo_read_file_at(dirfd, name, 65536, &buf, NULL, &e) < 0) {
                silo_error_free(&e);
                return -ENOENT;
        }
        l->ip = ntohl(a.s_addr);
        for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *v = strchr(line, '=');
                if (!v)
                        continue;
                *v++ = '\0';
                if (strcmp(line, "id") == 0)
                        l->id = silo_xstrdup(v);
                else if (strcmp(line, "subnet") == 0)
                        l->subnet = silo_xstrdup(v);
                else if (strcmp(line, "ports") == 0)
                        l->ports = silo_xstrdup(v);
                else if (strcmp(line, "owner") == 0)
                        sscanf(v, "%d %llu", &l->owner, &l->owner_start);
                else if (strcmp(line, "init") == 0)
                        sscanf(v, "%d %llu", &l->pid, &l->pid_start);
        }
        if (!l->id)
                l->id = silo_xstrdup("");
        return 0;
}

static int lease_write(int dirfd, const struct lease *l, silo_error_t *err)
{
        _cleanup_free_ char *text = NULL;
        char name[16];

        text = silo_xasprintf("id=%s\nsubnet=%s\nowner=%d %llu\ninit=%d %llu\nports=%s\n", l->id, l->subnet,
                              (int)l->owner, l->owner_start, (int)l->pid, l->pid_start,
                              l->ports ? l->ports : "");
        return silo_write_file_atomic_at(dirfd, silo_net_ip_str(l->ip, name), text, strlen(text), 0644, err);
}

static bool lease_live(const struct lease *l)
{
        if (l->pid > 0)
                return silo_proc_alive(l->pid, l->pid_start);
        return l->owner > 0 && silo_proc_alive(l->owner, l->owner_start);
}

/* mkdir -p <lease_root>/<bridge>, open it, take the lock. */
static int lock_bridge(const char *lease_root, const char *bridge, bool create, int *ret_dirfd,
                       int *ret_lockfd, silo_error_t *err)
{
        _cleanup_free_ char *dir = silo_xasprintf("%s/%s", lease_root, bridge);
        _cleanup_close_ int dfd = -1, lfd = -1;

        if (create &&
            ((mkdir(lease_root, 0700) < 0 && errno != EEXIST) || (mkdir(dir, 0700) < 0 && errno != EEXIST)))
                return silo_error_set(err, errno, "create lease directory '%s'", dir);
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return silo_error_set(err, errno, "open lease directory '%s'", dir);
        lfd = openat(dfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (lfd < 0)
                return silo_error_set(err, errno, "open '%s/lock'", dir);
        while (flock(lfd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return silo_error_set(err, errno, "lock '%s/lock'", dir);
        *ret_dirfd = TAKE_FD(dfd);
        *ret_lockfd = TAKE_FD(lfd);
        return 0;
}

/* ".<name>.<pid>.tmp" of silo_write_file_atomic_at whose writer died (SIGKILL between create
 * and rename): removed, under the lease lock, so a killed create leaves nothing behind. */
static void stale_tmp_remove(int dirfd, const char *name)
{
        size_t len = strlen(name);
        const char *dot;
        char *end;
        long pid;

        if (len < 6 || strcmp(name + len - 4, ".tmp") != 0)
                return;
        for (dot = name + len - 5; dot > name && *dot != '.'; dot--)
                ;
        pid = strtol(dot + 1, &end, 10);
        if (dot == name || pid <= 0 || end != name + len - 4 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
                return;
        unlinkat(dirfd, name, 0);
}

/* All leases of the directory (names that are addresses), in *ret. */
static int lease_scan(int dirfd, struct lease **ret, size_t *ret_n, silo_error_t *err)
{
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_closedir_ DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        struct lease *v = NULL;
        struct dirent *de;
        size_t n = 0;

        if (d == NULL) {
                if (fd >= 0)
                        close(fd);
                return silo_error_set(err, errno, "read lease directory");
        }
        while ((de = readdir(d)) != NULL) {
                struct lease l;
                if (de->d_name[0] == '.') {
                        stale_tmp_remove(dirfd, de->d_name);
                        continue;
                }
                if (lease_read(dirfd, de->d_name, &l) < 0)
                        continue;
                v = silo_xrealloc(v, (n + 1) * sizeof(*v));
                v[n++] = l;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

static void leases_free(struct lease *v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                lease_clear(&v[i]);
        free(v);
}

/* Remove what one lease stands for: its DNAT rules, its host veth (the peer goes with it), the
 * file.  Everything is derived from the lease. */
static int lease_cleanup(int dirfd, struct mnl_socket **nl, const struct lease *l, silo_error_t *err)
{
        char veth[16], name[16];
        int r;

        if (l->ports && *l->ports) {
                _cleanup_free_ char *tag = silo_net_tag(l->ip, l->id);
                r = silo_nft_delete_tagged(tag, NULL, err);
                if (r < 0)
                        return r;
        }
        if (*nl == NULL && (r = silo_rtnl_open(-1, nl, err)) < 0)
                return r;
        r = silo_rtnl_link_del(*nl, silo_net_veth_name(l->ip, veth), err);
        if (r < 0)
                return r;
        if (unlinkat(dirfd, silo_net_ip_str(l->ip, name), 0) < 0 && errno != ENOENT)
                return silo_error_set(err, errno, "remove lease '%s'", name);
        silo_debug("released %s of container '%s'", name, l->id);
        return 0;
}

static bool ports_conflict(const char *text, const struct silo_net_port *p, size_t n, unsigned *ret_port)
{
        _cleanup_free_ struct silo_net_port *q = NULL;
        size_t m = 0;
        silo_error_t e = NULL;

        if (silo_net_parse_ports(text, &q, &m, &e) < 0) {
                silo_error_free(&e);
                return false;
        }
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < m; j++)
                        if (p[i].host_port == q[j].host_port && p[i].udp == q[j].udp &&
                            (!p[i].host_ip || !q[j].host_ip || p[i].host_ip == q[j].host_ip)) {
                                *ret_port = p[i].host_port;
                                return true;
                        }
        return false;
}

int silo_net_lease(const struct silo_net_config *cfg, uint32_t *ret_ip, silo_error_t *err)
{
        _cleanup_close_ int dirfd = -1, lockfd = -1;
        _cleanup_free_ uint32_t *used = NULL;
        _cleanup_free_ char *subnet = NULL, *ports = NULL;
        struct mnl_socket *nl = NULL;
        struct lease *v = NULL, l = {0};
        size_t n = 0, n_used = 0;
        char s[16];
        int r;

        r = lock_bridge(cfg->lease_root, cfg->bridge, true, &dirfd, &lockfd, err);
        if (r < 0)
                return r;
        r = lease_scan(dirfd, &v, &n, err);
        if (r < 0)
                return r;
        subnet = silo_xasprintf("%s/%u", silo_net_ip_str(cfg->subnet, s), cfg->prefix);
        if (cfg->want_ip) {
                uint32_t mask = cfg->prefix ? ~0u << (32 - cfg->prefix) : 0;
                if ((cfg->want_ip & mask) != cfg->subnet || cfg->want_ip == cfg->subnet ||
                    cfg->want_ip == cfg->subnet + 1 || cfg->want_ip == (cfg->subnet | ~mask)) {
                        r = silo_error_set(err, EINVAL,
                                           "address '%s' is not a container address of subnet '%s'",
                                           silo_net_ip_str(cfg->want_ip, s), subnet);
                        goto out;
                }
        }
        used = silo_xmalloc0((n + 1) * sizeof(*used));
        for (size_t i = 0; i < n; i++) {
                unsigned port;
                /* the same id again means its previous incarnation is gone (its state dir too) */
                if (strcmp(v[i].id, cfg->id) == 0 || !lease_live(&v[i])) {
                        r = lease_cleanup(dirfd, &nl, &v[i], err);
                        if (r < 0)
                                goto out;
                        continue;
                }
                if (v[i].subnet && strcmp(v[i].subnet, subnet) != 0) {
                        r = silo_error_set(err, 0, "bridge '%s' already uses subnet '%s' (container '%s')",
                                           cfg->bridge, v[i].subnet, v[i].id);
                        goto out;
                }
                if (v[i].ports && ports_conflict(v[i].ports, cfg->ports, cfg->n_ports, &port)) {
                        r = silo_error_set(err, EADDRINUSE,
                                           "host port %u is already published by container '%s'", port,
                                           v[i].id);
                        goto out;
                }
                if (cfg->want_ip && v[i].ip == cfg->want_ip) {
                        r = silo_error_set(err, EADDRINUSE, "address '%s' is held by container '%s'",
                                           silo_net_ip_str(cfg->want_ip, s), v[i].id);
                        goto out;
                }
                used[n_used++] = v[i].ip;
        }
        l.ip = cfg->want_ip ? cfg->want_ip : silo_net_next_free(cfg->subnet, cfg->prefix, used, n_used);
        if (l.ip == 0) {
                r = silo_error_set(err, ENOSPC, "no free address left in subnet '%s'", subnet);
                goto out;
        }
        l.id = (char *)cfg->id;
        l.subnet = subnet;
        l.owner = getpid();
        l.owner_start = silo_proc_start_time(l.owner);
        l.ports = ports = silo_net_ports_text(cfg->ports, cfg->n_ports);
        r = lease_write(dirfd, &l, err);
        if (r == 0)
                *ret_ip = l.ip;
out:
        silo_rtnl_close(nl);
        leases_free(v, n);
        return r;
}

/* Bridge, its address, sysctls and shared rules; UP last marks it configured (netns.h). */
static int bridge_setup(struct mnl_socket *nl, const struct silo_net_config *cfg, int *ret_index,
                        silo_error_t *err)
{
        _cleanup_free_ char *tag = silo_xasprintf("silo bridge %s", cfg->bridge), *rules = NULL, *key = NULL;
        bool up = false;
        int idx, r;

        idx = silo_rtnl_link_index(nl, cfg->bridge, &up, err);
        if (idx < 0)
                return idx;
        if (idx > 0 && up) {
                *ret_index = idx;
                return 0;
        }
        r = silo_nft_delete_tagged(tag, NULL, err);
        if (r < 0)
                return r;
        rules = silo_nft_bridge_rules(cfg->bridge, cfg->subnet, cfg->prefix);
        r = silo_nft_run(rules, NULL, err);
        if (r < 0)
                return r;
        if (idx == 0) {
                r = silo_rtnl_bridge_add(nl, cfg->bridge, err);
                if (r < 0)
                        return r;
                idx = silo_rtnl_link_index(nl, cfg->bridge, NULL, err);
                if (idx <= 0)
                        return idx < 0 ? idx
                                       : silo_error_set(err, ENODEV, "bridge '%s' vanished", cfg->bridge);
        }
        r = silo_rtnl_addr_add(nl, idx, cfg->subnet + 1, cfg->prefix, err);
        if (r < 0)
                return r;
        r = silo_net_sysctl("ipv4/ip_forward", "1", err);
        if (r < 0)
                return r;
        /* DNAT of 127.0.0.1:HOSTPORT needs martian local sources routed out of the bridge */
        key = silo_xasprintf("ipv4/conf/%s/route_localnet", cfg->bridge);
        r = silo_net_sysctl(key, "1", err);
        if (r < 0)
                return r;
        r = silo_rtnl_link_up(nl, idx, err);
        if (r < 0)
                return r;
        *ret_index = idx;
        return 0;
}

/* Inside the container: lo up, eth0 address + up, default route. */
static int configure_inside(int nsfd, uint32_t ip, const struct silo_net_config *cfg, silo_error_t *err)
{
        struct mnl_socket *nl = NULL;
        int lo, eth, r;

        r = silo_rtnl_open(nsfd, &nl, err);
        if (r < 0)
                return r;
        lo = silo_rtnl_link_index(nl, "lo", NULL, err);
        eth = lo < 0 ? lo : silo_rtnl_link_index(nl, "eth0", NULL, err);
        r = eth < 0                 ? eth
            : (lo == 0 || eth == 0) ? silo_error_set(err, ENODEV, "container: no lo or eth0")
                                    : 0;
        if (r == 0)
                r = silo_rtnl_link_up(nl, lo, err);
        if (r == 0) { /* derived from the address: a restored/migrated container keeps its MAC */
                uint8_t mac[6];
                silo_net_mac(ip, mac);
                r = silo_rtnl_link_set_mac(nl, eth, mac, err);
        }
        if (r == 0)
                r = silo_rtnl_addr_add(nl, eth, ip, cfg->prefix, err);
        if (r == 0)
                r = silo_rtnl_link_up(nl, eth, err);
        if (r == 0)
                r = silo_rtnl_route_default(nl, eth, cfg->subnet + 1, err);
        silo_rtnl_close(nl);
        return r < 0 ? silo_error_wrap(err, "container network namespace") : 0;
}

int silo_net_attach(const struct silo_net_config *cfg, uint32_t ip, pid_t pid, unsigned long long start,
                    silo_error_t *err)
{
        _cleanup_close_ int dirfd = -1, lockfd = -1, nsfd = -1;
        _cleanup_free_ char *nspath = silo_xasprintf("/proc/%d/ns/net", (int)pid);
        struct mnl_socket *nl = NULL;
        struct lease l = {0};
        char veth[16], name[16];
        int br = 0, idx, r;

        r = lock_bridge(cfg->lease_root, cfg->bridge, false, &dirfd, &lockfd, err);
        if (r < 0)
                return r;
        SILO_FAULT_POINT("net.after-lease");
        if (lease_read(dirfd, silo_net_ip_str(ip, name), &l) < 0 || strcmp(l.id, cfg->id) != 0) {
                lease_clear(&l);
                return silo_error_set(err, ENOENT, "lease '%s' of container '%s' is gone", name, cfg->id);
        }
        nsfd = open(nspath, O_RDONLY | O_CLOEXEC);
        if (nsfd < 0) {
                r = silo_error_set(err, errno, "open '%s'", nspath);
                goto out;
        }
        /* never wire (or later tear down) the namespace silo itself runs in */
        struct stat a, b;
        if (fstat(nsfd, &a) < 0 || stat("/proc/self/ns/net", &b) < 0 ||
            (a.st_ino == b.st_ino && a.st_dev == b.st_dev)) {
                r = silo_error_set(err, EINVAL, "'%s' is silo's own network namespace", nspath);
                goto out;
        }
        r = silo_rtnl_open(-1, &nl, err);
        if (r < 0)
                goto out;
        r = bridge_setup(nl, cfg, &br, err);
        if (r < 0)
                goto out;
        silo_net_veth_name(ip, veth);
        r = silo_rtnl_link_del(nl, veth, err); /* a leftover of a crashed holder of this address */
        if (r == 0)
                r = silo_rtnl_veth_add(nl, veth, br, "eth0", nsfd, err);
        if (r < 0)
                goto out;
        SILO_FAULT_POINT("net.after-veth");
        idx = silo_rtnl_link_index(nl, veth, NULL, err);
        r = idx < 0 ? idx : silo_rtnl_link_up(nl, idx, err);
        if (r < 0)
                goto out;
        r = configure_inside(nsfd, ip, cfg, err);
        if (r < 0)
                goto out;
        if (cfg->n_ports) {
                _cleanup_free_ char *tag = silo_net_tag(ip, cfg->id);
                _cleanup_free_ char *rules = silo_nft_container_rules(tag, ip, cfg->ports, cfg->n_ports);
                r = silo_nft_run(rules, NULL, err);
                if (r < 0)
                        goto out;
        }
        l.pid = pid;
        l.pid_start = start;
        r = lease_write(dirfd, &l, err);
out:
        silo_rtnl_close(nl);
        lease_clear(&l);
        return r;
}

int silo_net_ip_holder(const char *lease_root, const char *bridge, uint32_t ip, char **ret_id,
                       silo_error_t *err)
{
        _cleanup_close_ int dirfd = -1, lockfd = -1;
        _cleanup_free_ char *dir = silo_xasprintf("%s/%s", lease_root, bridge);
        struct lease l;
        char name[16];
        int r;

        *ret_id = NULL;
        if (access(dir, F_OK) < 0 && errno == ENOENT)
                return 0;
        r = lock_bridge(lease_root, bridge, false, &dirfd, &lockfd, err);
        if (r < 0)
                return r;
        if (lease_read(dirfd, silo_net_ip_str(ip, name), &l) < 0)
                return 0;
        if (lease_live(&l))
                *ret_id = TAKE_PTR(l.id);
        lease_clear(&l);
        return 0;
}

int silo_net_release(const char *lease_root, const char *bridge, const char *id, silo_error_t *err)
{
        _cleanup_close_ int dirfd = -1, lockfd = -1;
        _cleanup_free_ char *dir = silo_xasprintf("%s/%s", lease_root, bridge);
        struct mnl_socket *nl = NULL;
        struct lease *v = NULL;
        size_t n = 0;
        int r;

        if (access(dir, F_OK) < 0 && errno == ENOENT)
                return 0;
        r = lock_bridge(lease_root, bridge, false, &dirfd, &lockfd, err);
        if (r < 0)
                return r;
        r = lease_scan(dirfd, &v, &n, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                if (strcmp(v[i].id, id) != 0 && lease_live(&v[i]))
                        continue;
                r = lease_cleanup(dirfd, &nl, &v[i], err);
                if (r < 0)
                        goto out;
        }
out:
        silo_rtnl_close(nl);
        leases_free(v, n);
        return r;
}
