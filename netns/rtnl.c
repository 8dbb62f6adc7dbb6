/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rtnetlink through libmnl: links (bridge, veth), addresses, the default route.
 *
 * A socket talks to the netns it was created in, for its whole life: to configure the inside of
 * a container, silo_rtnl_open() enters the container's netns just long enough to create the
 * socket and comes back (the runtime has no threads, so this cannot confuse anybody), which
 * costs two setns() calls instead of a forked helper.  Every request asks for an ACK and
 * returns -errno from it.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include "netns.h"
#include "../runtime/util.h"

int silo_rtnl_open(int netns_fd, struct mnl_socket **ret, silo_error_t *err)
{
        _cleanup_close_ int self = -1;
        struct mnl_socket *nl;
        int e = 0;

        if (netns_fd >= 0) {
                self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
                if (self < 0)
                        return silo_error_set(err, errno, "open /proc/self/ns/net");
                if (setns(netns_fd, CLONE_NEWNET) < 0)
                        return silo_error_set(err, errno, "enter the container network namespace");
        }
        nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
        if (nl == NULL || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
                e = errno ? errno : EIO;
        if (netns_fd >= 0 && setns(self, CLONE_NEWNET) < 0)
                abort(); /* cannot happen for root; going on in the wrong netns would be worse */
        if (e) {
                if (nl)
                        mnl_socket_close(nl);
                return silo_error_set(err, e, "open rtnetlink socket");
        }
        *ret = nl;
        return 0;
}

void silo_rtnl_close(struct mnl_socket *nl)
{
        if (nl)
                mnl_socket_close(nl);
}

struct link_info {
        int index;
        unsigned flags;
};

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
        const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
        struct link_info *li = data;
        li->index = ifi->ifi_index;
        li->flags = ifi->ifi_flags;
        return MNL_CB_OK;
}

/* Send one request and process replies until the ACK (or the end of a dump). */
static int talk(struct mnl_socket *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
        char buf[MNL_SOCKET_BUFFER_SIZE];
        unsigned portid = mnl_socket_get_portid(nl);
        static unsigned seq;
        int r;

        nlh->nlmsg_seq = ++seq ? seq : ++seq;
        nlh->nlmsg_flags |= NLM_F_ACK;
        if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
                return -errno;
        for (;;) {
                ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
                if (n < 0)
                        return -errno;
                r = mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, portid, cb, data);
                if (r < 0)
                        return -errno;
                if (r == MNL_CB_STOP)
                        return 0;
        }
}

static struct nlmsghdr *msg_link(char *buf, uint16_t type, uint16_t flags, struct ifinfomsg **ret_ifi)
{
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = NLM_F_REQUEST | flags;
        struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
        ifi->ifi_family = AF_UNSPEC;
        if (ret_ifi)
                *ret_ifi = ifi;
        return nlh;
}

int silo_rtnl_link_index(struct mnl_socket *nl, const char *name, bool *ret_up, silo_error_t *err)
{
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct nlmsghdr *nlh = msg_link(buf, RTM_GETLINK, 0, NULL);
        struct link_info li = {0};
        int r;

        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        r = talk(nl, nlh, link_cb, &li);
        if (r == -ENODEV)
                return 0;
        if (r < 0)
                return silo_error_set(err, -r, "look up link '%s'", name);
        if (ret_up)
                *ret_up = li.flags & IFF_UP;
        return li.index;
}

int silo_rtnl_bridge_add(struct mnl_socket *nl, const char *name, silo_error_t *err)
{
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct nlmsghdr *nlh = msg_link(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, NULL);
        struct nlattr *li;
        int r;

        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
        mnl_attr_nest_end(nlh, li);
        r = talk(nl, nlh, NULL, NULL);
        if (r < 0 && r != -EEXIST)
                return silo_error_set(err, -r, "create bridge '%s'", name);
        return 0;
}

int silo_rtnl_veth_add(struct mnl_socket *nl, const char *name, int master, const char *peer,
                       int peer_netns_fd, silo_error_t *err)
{
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct nlmsghdr *nlh = msg_link(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, NULL);
        struct nlattr *li, *data, *pn;
        struct ifinfomsg *pifi;
        int r;

        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        if (master > 0)
                mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
        li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
        data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
        pn = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
        /* the peer's ifinfomsg sits right at the start of the VETH_INFO_PEER payload */
        pifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*pifi));
        memset(pifi, 0, sizeof(*pifi));
        mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
        if (peer_netns_fd >= 0)
                mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
        mnl_attr_nest_end(nlh, pn);
        mnl_attr_nest_end(nlh, data);
        mnl_attr_nest_end(nlh, li);
        r = talk(nl, nlh, NULL, NULL);
        if (r < 0)
                return silo_error_set(err, -r, "create veth pair '%s'/'%s'", name, peer);
        return 0;
}

int silo_rtnl_link_del(struct mnl_socket *nl, const char *name, silo_error_t *err)
{
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct nlmsghdr *nlh = msg_link(buf, RTM_DELLINK, 0, NULL);
        int r;

        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        r = talk(nl, nlh, NULL, NULL);
        if (r < 0 && r != -ENODEV)
                return silo_error_set(err, -r, "delete link '%s'", name);
        return 0;
}

int silo_rtnl_link_up(struct mnl_socket *nl, int ifindex, silo_error_t *err)
{
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct ifinfomsg *ifi;
        struct nlmsghdr *nlh = msg_link(buf, RTM_NEWLINK, 0, &ifi);
        int r;

        ifi->ifi_index = ifindex;
        ifi->ifi_flags = IFF_UP;
        ifi->ifi_change = IFF_UP;
        r = talk(nl, nlh, NULL, NULL);
        if (r < 0)
                return silo_error_set(err, -r, "set link %d up", ifindex);
        return 0;
}

int silo_rtnl_link_set_mac(struct mnl_socket *nl, int ifindex, const uint8_t mac[6], silo_error_t *err)
{
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct ifinfomsg *ifi;
        struct nlmsghdr *nlh = msg_link(buf, RTM_NEWLINK, 0, &ifi);
        int r;

        ifi->ifi_index = ifindex;
        mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac);
        r = talk(nl, nlh, NULL, NULL);
        if (r < 0)
                return silo_error_set(err, -r, "set the address of link %d", ifindex);
        return 0;
}

int silo_rtnl_addr_add(struct mnl_socket *nl, int ifindex, uint32_t ip, unsigned prefix, silo_error_t *err)
{
        char buf[MNL_SOCKET_BUFFER_SIZE], s[16];
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        struct ifaddrmsg *ifa;
        uint32_t be = htonl(ip), bcast = htonl(ip | ~(0xffffffffu << (32 - prefix)));
        int r;

        nlh->nlmsg_type = RTM_NEWADDR;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE;
        ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
        ifa->ifa_family = AF_INET;
        ifa->ifa_prefixlen = (unsigned char)prefix;
        ifa->ifa_scope = RT_SCOPE_UNIVERSE;
        ifa->ifa_index = (unsigned)ifindex;
        mnl_attr_put_u32(nlh, IFA_LOCAL, be);
        mnl_attr_put_u32(nlh, IFA_ADDRESS, be);
        mnl_attr_put_u32(nlh, IFA_BROADCAST, bcast);
        r = talk(nl, nlh, NULL, NULL);
        if (r < 0)
                return silo_error_set(err, -r, "add address %s/%u", silo_net_ip_str(ip, s), prefix);
        return 0;
}

int silo_rtnl_route_default(struct mnl_socket *nl, int ifindex, uint32_t gateway, silo_error_t *err)
{
        char buf[MNL_SOCKET_BUFFER_SIZE], s[16];
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        struct rtmsg *rtm;
        int r;

        nlh->nlmsg_type = RTM_NEWROUTE;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE;
        rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
        rtm->rtm_family = AF_INET;
        rtm->rtm_dst_len = 0;
        rtm->rtm_table = RT_TABLE_MAIN;
        rtm->rtm_protocol = RTPROT_BOOT;
        rtm->rtm_scope = RT_SCOPE_UNIVERSE;
        rtm->rtm_type = RTN_UNICAST;
        mnl_attr_put_u32(nlh, RTA_GATEWAY, htonl(gateway));
        mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
        r = talk(nl, nlh, NULL, NULL);
        if (r < 0)
                return silo_error_set(err, -r, "add default route via %s", silo_net_ip_str(gateway, s));
        return 0;
}

int silo_net_sysctl(const char *key, const char *value, silo_error_t *err)
{
        _cleanup_free_ char *path = silo_xasprintf("/proc/sys/net/%s", key);
        return silo_write_file_at(AT_FDCWD, path, value, strlen(value), err);
}

/* For the vm sandbox's bridge mode (runtime/sandbox-vm-net.c): enslave a link, drop an address. */
int silo_rtnl_link_set_master(struct mnl_socket *nl, int ifindex, int master, silo_error_t *err)
{
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct ifinfomsg *ifi;
        struct nlmsghdr *nlh = msg_link(buf, RTM_NEWLINK, 0, &ifi);
        int r;

        ifi->ifi_index = ifindex;
        mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
        r = talk(nl, nlh, NULL, NULL);
        if (r < 0)
                return silo_error_set(err, -r, "attach link %d to bridge %d", ifindex, master);
        return 0;
}

int silo_rtnl_addr_del(struct mnl_socket *nl, int ifindex, uint32_t ip, unsigned prefix, silo_error_t *err)
{
        char buf[MNL_SOCKET_BUFFER_SIZE], s[16];
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        struct ifaddrmsg *ifa;
        int r;

        nlh->nlmsg_type = RTM_DELADDR;
        nlh->nlmsg_flags = NLM_F_REQUEST;
        ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
        ifa->ifa_family = AF_INET;
        ifa->ifa_prefixlen = (unsigned char)prefix;
        ifa->ifa_index = (unsigned)ifindex;
        mnl_attr_put_u32(nlh, IFA_LOCAL, htonl(ip));
        r = talk(nl, nlh, NULL, NULL);
        if (r < 0 && r != -EADDRNOTAVAIL)
                return silo_error_set(err, -r, "remove address %s/%u", silo_net_ip_str(ip, s), prefix);
        return 0;
}
