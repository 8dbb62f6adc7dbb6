/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Container networking: a NAT bridge with IPAM and published ports (leaf module).
 *
 * One bridge (default silo0, 10.99.0.0/16, gateway .1) per network; each container gets a veth
 * pair (host side "sv<ip in hex>", container side eth0 created directly in its netns), an IPv4
 * address from a file-lease IPAM, a default route via the gateway, and for published ports DNAT
 * rules in silo's own nftables table `ip silo`.
 *
 * Invariants:
 *   - everything a container adds can be found again from its lease file alone: the veth name
 *     derives from the IP, every per-container rule carries the comment silo_net_tag(ip, id),
 *     every per-bridge rule the comment "silo bridge <name>";  release therefore needs nothing
 *     from the (maybe crashed) process that set it up;
 *   - leases live in <lease_root>/<bridge>/<a.b.c.d>; every lease operation and every change of
 *     the bridge, its rules or a container's veth happens under flock(<lease_root>/<bridge>/lock);
 *   - a lease is live while its container init (pid + start time) lives, or, before the init
 *     exists, while the silo process that took it (pid + start time) lives; stale leases are
 *     reclaimed (veth, rules, file) by the next allocation or release on that bridge;
 *   - the bridge is "configured" once it is UP: it is brought up last, so a bridge that exists
 *     but is down (crash mid-setup) is configured again;
 *   - the bridge, its address and its shared rules (masquerade, forward) are KEPT when the last
 *     container goes, as the CNI bridge plugin does: deleting a bridge costs ~30 ms of kernel
 *     RCU waits (measured) on the delete of every last container and the next create pays
 *     for recreating it, while an idle bridge without containers carries no traffic.  Only
 *     per-container state (veth, DNAT rules, lease) is removed on delete.
 * Firewall rules go through libnftables and links through libmnl: nothing is ever exec'ed.
 */
#ifndef SILO_NETNS_H
#define SILO_NETNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "../runtime/error.h"

#define SILO_NET_DEFAULT_BRIDGE "silo0"
#define SILO_NET_DEFAULT_SUBNET "10.99.0.0/16"
#define SILO_NET_TABLE "silo" /* nft table `ip silo` */

/* One published port; addresses in host byte order. */
struct silo_net_port {
        uint32_t host_ip; /* 0: every local address */
        uint16_t host_port;
        uint16_t ctr_port;
        bool udp;
};

/* ---- pure helpers (netns/netcfg.c) ---------------------------------------------------------- */

/* Comma-separated "[HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp]" list; NULL or "" gives 0 ports.  Errors
 * name the offending item ("invalid port '70000'"); the caller prefixes the source. */
int silo_net_parse_ports(const char *s, struct silo_net_port **ret, size_t *ret_n, silo_error_t *err);
/* Canonical text of a port list ("0.0.0.0:8080:80/tcp,..."), the inverse of parse. */
char *silo_net_ports_text(const struct silo_net_port *p, size_t n);
/* "a.b.c.d/len" with 8 <= len <= 30 and no host bits set. */
int silo_net_parse_subnet(const char *s, uint32_t *ret_addr, unsigned *ret_prefix, silo_error_t *err);
/* Interface name usable for a bridge: 1-15 bytes of [A-Za-z0-9_.-]. */
bool silo_net_ifname_valid(const char *name);
/* "a.b.c.d" into buf (>= 16 bytes); returns buf. */
const char *silo_net_ip_str(uint32_t ip, char *buf);
/* Lowest free address in the subnet (not network, gateway = first, or broadcast) that is not
 * in used[]; 0 when the subnet is full. */
uint32_t silo_net_next_free(uint32_t subnet, unsigned prefix, const uint32_t *used, size_t n_used);
/* The container's eth0 MAC, derived from its address (02:53:a:b:c:d, locally administered): the
 * same address gives the same MAC on every node, so a restored or migrated container keeps both. */
void silo_net_mac(uint32_t ip, uint8_t mac[6]);
/* Host-side veth name for a container address ("sv0a630002"); buf >= 16 bytes. */
const char *silo_net_veth_name(uint32_t ip, char *buf);
/* The comment carried by every rule of one container. */
char *silo_net_tag(uint32_t ip, const char *id);

/* /etc/hosts, /etc/resolv.conf content.  host_resolv: the host's resolv.conf (may be NULL). */
char *silo_net_hosts_text(const char *hostname, uint32_t ip, uint32_t gateway);
char *silo_net_resolv_text(const char *host_resolv);

/* nft batch texts.  Shared: table, base chains and the bridge's rules (masquerade of the subnet
 * and of 127.0.0.0/8 towards the bridge, forward accept).  Container: the DNAT rules. */
char *silo_nft_bridge_rules(const char *bridge, uint32_t subnet, unsigned prefix);
char *silo_nft_container_rules(const char *tag, uint32_t ip, const struct silo_net_port *p, size_t n);
/* From `list table` output with handles: a batch deleting every rule whose comment is exactly
 * `tag` (NULL when there is none); *ret_others counts the rules left. */
char *silo_nft_delete_batch(const char *listing, const char *tag, size_t *ret_others);

/* ---- the network (netns/net.c) -------------------------------------------------------------- */

struct silo_net_config {
        const char *lease_root; /* e.g. <state root>/@net: one directory per bridge below it */
        const char *id;         /* container id */
        const char *bridge;
        uint32_t subnet;
        unsigned prefix;
        const struct silo_net_port *ports;
        size_t n_ports;
        uint32_t want_ip; /* 0: lowest free; else exactly this address or an error (restore, migrate) */
};

/* Take a lease (reclaiming stale ones; refusing a host port another live container publishes).
 * With cfg->want_ip, that address or an error naming the address and the container holding it. */
int silo_net_lease(const struct silo_net_config *cfg, uint32_t *ret_ip, silo_error_t *err);
/* Wire the container whose init is `pid` (start time `start`) to the bridge: bridge and table
 * if needed, veth, addresses, routes, DNAT rules; then record the init in the lease. */
int silo_net_attach(const struct silo_net_config *cfg, uint32_t ip, pid_t pid, unsigned long long start,
                    silo_error_t *err);
/* The id of the live container holding `ip` on `bridge` (allocated), or NULL when it is free.
 * Read only (migrate's pre-flight on the destination). */
int silo_net_ip_holder(const char *lease_root, const char *bridge, uint32_t ip, char **ret_id,
                       silo_error_t *err);
/* Undo lease + attach for `id` from the lease files alone; idempotent. */
int silo_net_release(const char *lease_root, const char *bridge, const char *id, silo_error_t *err);

/* ---- low level (netns/rtnl.c, netns/nft.c) ---------------------------------------------- */

struct mnl_socket;
int silo_rtnl_open(int netns_fd, struct mnl_socket **ret, silo_error_t *err); /* netns_fd -1: ours */
void silo_rtnl_close(struct mnl_socket *nl);
/* vm sandbox bridge mode */
int silo_rtnl_link_set_master(struct mnl_socket *nl, int ifindex, int master, silo_error_t *err);
int silo_rtnl_addr_del(struct mnl_socket *nl, int ifindex, uint32_t ip, unsigned prefix, silo_error_t *err);
/* ifindex, 0 when absent; *ret_up tells IFF_UP */
int silo_rtnl_link_index(struct mnl_socket *nl, const char *name, bool *ret_up, silo_error_t *err);
int silo_rtnl_bridge_add(struct mnl_socket *nl, const char *name, silo_error_t *err);
int silo_rtnl_veth_add(struct mnl_socket *nl, const char *name, int master, const char *peer,
                       int peer_netns_fd, silo_error_t *err);
/* Set the link's hardware address (before it is up). */
int silo_rtnl_link_set_mac(struct mnl_socket *nl, int ifindex, const uint8_t mac[6], silo_error_t *err);
int silo_rtnl_link_del(struct mnl_socket *nl, const char *name, silo_error_t *err); /* absent: 0 */
int silo_rtnl_link_up(struct mnl_socket *nl, int ifindex, silo_error_t *err);
int silo_rtnl_addr_add(struct mnl_socket *nl, int ifindex, uint32_t ip, unsigned prefix, silo_error_t *err);
int silo_rtnl_route_default(struct mnl_socket *nl, int ifindex, uint32_t gateway, silo_error_t *err);
/* Write a sysctl under /proc/sys/net of the caller's netns ("ipv4/ip_forward"). */
int silo_net_sysctl(const char *key, const char *value, silo_error_t *err);

int silo_nft_run(const char *batch, char **ret_output, silo_error_t *err);
/* Delete every rule tagged `tag`; *ret_others (may be NULL) counts the other rules left, or
 * -1 when the table does not exist. */
int silo_nft_delete_tagged(const char *tag, long *ret_others, silo_error_t *err);

#endif
