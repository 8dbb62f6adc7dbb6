/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Bridge-IP parity for the VM sandbox: with run.silo.network=bridge and a new network namespace
 * (what the namespace backend needs for the same), the guest owns the container's leased IP.
 *
 *   host: silo0 bridge --- sv<ip> veth ---+--- VMM's netns: eth0 --+-- br0 -- tap0 == qemu virtio-net
 *                                                                              == guest eth0 <ip>/<prefix>
 *
 * The VMM's jail creates its netns and tap0 (vm/supervisor.c, before it drops its capabilities)
 * and hands qemu the tap fd (-netdev tap,fd=5).  create's usual attach (silo_network_attach,
 * with the VMM as the "init") puts eth0 with the IP and route into that netns; then the IP is
 * taken off eth0 (else that netns would answer ARP and pings for the guest) and eth0 + tap0 are
 * enslaved to a bridge br0 there.  The guest agent configures the IP/gateway from CONFIG's
 * "net".  Leases, DNAT rules for published ports and release stay exactly the namespace
 * backend's (netns/net.c), keyed by the lease: delete needs nothing from here.
 *
 * Without a lease (network none/host, or a netns given by path) nothing changes: slirp or no
 * NIC, as before (sandbox-vm.c plan_net).
 */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "../netns/netns.h"
#include "network.h"
#include "sandbox-vm.h"
#include "sandbox.h"
#include "util.h"

#define ANN_SUBNET "run.silo.network.subnet"

/* The lease create's silo_network_prepare recorded ("network": bridge=..., ip=...); 0: none. */
static uint32_t leased_ip(const struct silo_container *c)
{
        _cleanup_free_ char *buf = NULL;
        struct in_addr a;
        char *save = NULL;

        if (c->dirfd < 0 || silo_read_file_at(c->dirfd, "network", 4096, &buf, NULL, NULL) < 0)
                return 0;
        for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
                if (silo_str_has_prefix(l, "ip=") && inet_pton(AF_INET, l + 3, &a) == 1)
                        return ntohl(a.s_addr);
        return 0;
}

int silo_vm_plan_tap(const struct silo_container *c, struct vm_plan *p, silo_error_t *err)
{
        const char *subnet = silo_spec_annotation(c->spec, ANN_SUBNET);
        uint32_t ip = leased_ip(c), net;
        unsigned prefix;
        int r;

        if (ip == 0)
                return 0;
        r = silo_net_parse_subnet(subnet ? subnet : SILO_NET_DEFAULT_SUBNET, &net, &prefix, err);
        if (r < 0)
                return silo_error_wrap(err, "/annotations/" ANN_SUBNET);
        p->tap = true;
        p->ip = ip;
        p->prefix = prefix;
        p->gw = net + 1; /* silo's bridge address (netns/net.c) */
        free(p->netdev);
        p->netdev = silo_xstrdup("tap,id=n0,fd=5");
        return 1;
}

/* CONFIG "net" for the agent: "ADDR MASK GW". */
char *silo_vm_tap_net_config(const struct vm_plan *p)
{
        char a[16], m[16], g[16];
        uint32_t mask = p->prefix ? 0xffffffffu << (32 - p->prefix) : 0;

        return silo_xasprintf("%s %s %s", silo_net_ip_str(p->ip, a), silo_net_ip_str(mask, m),
                              silo_net_ip_str(p->gw, g));
}

int silo_sandbox_vm_network_attach(struct silo_container *c, const struct vm_plan *p, silo_error_t *err)
{
        _cleanup_free_ char *nspath = NULL;
        _cleanup_close_ int nsfd = -1;
        struct mnl_socket *nl = NULL;
        int eth, tap = 0, br = 0, r;

        r = silo_network_attach(c, err); /* eth0 + IP + route into the VMM's netns, DNAT rules */
        if (r < 0 || !p->tap)
                return r;
        nspath = silo_xasprintf("/proc/%d/ns/net", (int)c->pid);
        nsfd = open(nspath, O_RDONLY | O_CLOEXEC);
        if (nsfd < 0)
                return silo_error_set(err, errno, "vm: the VMM's network namespace '%s'", nspath);
        r = silo_rtnl_open(nsfd, &nl, err);
        if (r < 0)
                return silo_error_wrap(err, "vm: bridge the guest's NIC");
        eth = r = silo_rtnl_link_index(nl, "eth0", NULL, err);
        if (r == 0)
                r = silo_error_set(err, ENODEV, "vm: no eth0 in the VMM's network namespace");
        if (r > 0) {
                tap = r = silo_rtnl_link_index(nl, "tap0", NULL, err);
                if (r == 0)
                        r = silo_error_set(err, ENODEV, "vm: no tap0 in the VMM's network namespace");
        }
        if (r > 0)
                r = silo_rtnl_addr_del(nl, eth, p->ip, p->prefix, err);
        if (r == 0)
                r = silo_rtnl_bridge_add(nl, "br0", err);
        if (r == 0) {
                br = r = silo_rtnl_link_index(nl, "br0", NULL, err);
                if (r == 0)
                        r = silo_error_set(err, ENODEV, "vm: bridge br0 vanished");
        }
        if (r > 0)
                r = silo_rtnl_link_set_master(nl, eth, br, err);
        if (r == 0)
                r = silo_rtnl_link_set_master(nl, tap, br, err);
        if (r == 0)
                r = silo_rtnl_link_up(nl, br, err);
        silo_rtnl_close(nl);
        return r < 0 ? silo_error_wrap(err, "vm: bridge the guest's NIC") : 0;
}
