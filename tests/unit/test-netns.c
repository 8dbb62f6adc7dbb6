/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pure parts of netns/: port and subnet parsing, IPAM allocation, names, etc files, nft text. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "../../netns/netns.h"
#include "../../runtime/util.h"
#include "tap.h"

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

static void test_ports(void)
{
        struct silo_net_port *p = NULL;
        silo_error_t e = NULL;
        size_t n = 0;

        is_int(silo_net_parse_ports("8080:80,127.0.0.1:53:53/udp,9000:9000/tcp", &p, &n, &e), 0,
               "ports parse");
        is_int(n, 3, "three mappings");
        ok(p[0].host_ip == 0 && p[0].host_port == 8080 && p[0].ctr_port == 80 && !p[0].udp, "8080:80");
        ok(p[1].host_ip == IP(127, 0, 0, 1) && p[1].host_port == 53 && p[1].ctr_port == 53 && p[1].udp,
           "127.0.0.1:53:53/udp");
        ok(p[2].host_port == 9000 && !p[2].udp, "explicit /tcp");
        char *t = silo_net_ports_text(p, n);
        is_str(t, "0.0.0.0:8080:80/tcp,127.0.0.1:53:53/udp,0.0.0.0:9000:9000/tcp", "canonical text");
        free(p);
        p = NULL;
        is_int(silo_net_parse_ports(t, &p, &n, &e), 0, "canonical text parses back");
        is_int(n, 3, "round trip count");
        free(p);
        free(t);
        p = NULL;
        is_int(silo_net_parse_ports("", &p, &n, &e), 0, "empty list");
        is_int(n, 0, "no ports");
        is_int(silo_net_parse_ports(NULL, &p, &n, &e), 0, "NULL list");

        static const struct {
                const char *in, *msg;
        } bad[] = {
            {"70000:80", "invalid port '70000'"},
            {"8080:0", "invalid port '0'"},
            {"80a:80", "invalid port '80a'"},
            {"8080", "invalid port mapping '8080' (expected [HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp])"},
            {"1:2:3:4", "invalid port mapping '1:2:3:4' (expected [HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp])"},
            {"8080:80/sctp", "invalid protocol 'sctp' in '8080:80/sctp' (tcp or udp)"},
            {"::1:80:80", "invalid port mapping '::1:80:80' (expected [HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp])"},
            {"300.1.1.1:80:80", "invalid host IP '300.1.1.1' in '300.1.1.1:80:80'"},
            {"8080:80,", "empty port mapping"},
            {"8080:80,1.2.3.4:8080:81", "host port 8080/tcp published twice"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                p = NULL;
                ok(silo_net_parse_ports(bad[i].in, &p, &n, &e) < 0, "'%s' refused", bad[i].in);
                is_str(e ? e->msg : NULL, bad[i].msg, "'%s' message", bad[i].in);
                silo_error_free(&e);
                free(p);
        }
        p = NULL;
        is_int(silo_net_parse_ports("8080:80,8080:80/udp,1.2.3.4:9000:1,1.2.3.5:9000:1", &p, &n, &e), 0,
               "same port on tcp+udp and on two host IPs");
        free(p);
}

static void test_subnet(void)
{
        uint32_t a;
        unsigned len;
        silo_error_t e = NULL;

        is_int(silo_net_parse_subnet("10.99.0.0/16", &a, &len, &e), 0, "default subnet");
        ok(a == IP(10, 99, 0, 0) && len == 16, "10.99.0.0/16 decoded");
        ok(silo_net_parse_subnet("10.99.0.1/16", &a, &len, &e) < 0, "host bits refused");
        is_str(e->msg, "invalid subnet '10.99.0.1/16': host bits set", "host bits message");
        silo_error_free(&e);
        ok(silo_net_parse_subnet("10.0.0.0/31", &a, &len, &e) < 0, "/31 refused");
        silo_error_free(&e);
        ok(silo_net_parse_subnet("10.0.0.0", &a, &len, &e) < 0, "no prefix refused");
        silo_error_free(&e);
        ok(silo_net_ifname_valid("silo0") && silo_net_ifname_valid("br-a.b_c"), "bridge names");
        ok(!silo_net_ifname_valid("") && !silo_net_ifname_valid("0123456789abcdef") &&
               !silo_net_ifname_valid("a/b") && !silo_net_ifname_valid("a b") && !silo_net_ifname_valid(".."),
           "bad bridge names");
}

static void test_ipam(void)
{
        uint32_t net = IP(10, 99, 0, 0);
        uint32_t used[] = {IP(10, 99, 0, 3), IP(10, 99, 0, 2), IP(10, 99, 0, 5)};

        is_int(silo_net_next_free(net, 16, NULL, 0), IP(10, 99, 0, 2),
               "first lease is .2 (.1 is the gateway)");
        is_int(silo_net_next_free(net, 16, used, 2), IP(10, 99, 0, 4), "skips used, unsorted input");
        is_int(silo_net_next_free(net, 16, used, 3), IP(10, 99, 0, 4), "lowest hole");
        uint32_t u30[] = {IP(10, 0, 0, 2)};
        is_int(silo_net_next_free(IP(10, 0, 0, 0), 30, NULL, 0), IP(10, 0, 0, 2), "/30 has one address");
        is_int(silo_net_next_free(IP(10, 0, 0, 0), 30, u30, 1), 0, "/30 full (broadcast never leased)");
        uint32_t *many = malloc(253 * sizeof(*many));
        for (int i = 0; i < 253; i++)
                many[i] = IP(10, 1, 0, 2 + i);
        is_int(silo_net_next_free(IP(10, 1, 0, 0), 24, many, 253), 0, "/24 full after 253 leases");
        is_int(silo_net_next_free(IP(10, 1, 0, 0), 23, many, 253), IP(10, 1, 0, 255),
               ".255 is a host in a /23");
        free(many);
        char b[16];
        is_str(silo_net_veth_name(IP(10, 99, 0, 2), b), "sv0a630002", "veth name from the address");
        char *tag = silo_net_tag(IP(10, 99, 1, 7), "web");
        is_str(tag, "silo 10.99.1.7 web", "rule tag");
        free(tag);
}

static void test_etc(void)
{
        char *h = silo_net_hosts_text("box", IP(10, 99, 0, 2), IP(10, 99, 0, 1));
        is_str(h,
               "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
               "10.99.0.1\thost.containers.internal host.docker.internal\n10.99.0.2\tbox\n",
               "hosts");
        free(h);
        char *r = silo_net_resolv_text(
            "# generated\nnameserver 127.0.0.53\noptions edns0\nnameserver 1.1.1.1\n"
            "search a.example b.example\nnameserver 2001:db8::1\nnameserver fe80::1%eth0\n"
            "nameserver   9.9.9.9  \n");
        is_str(r, "search a.example b.example\nnameserver 1.1.1.1\nnameserver 9.9.9.9\noptions edns0\n",
               "resolv.conf: order, loopback and IPv6 dropped");
        free(r);
        r = silo_net_resolv_text("nameserver 127.0.0.1\nnameserver ::1\n");
        is_str(r, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n",
               "resolv.conf: public fallback when only loopback");
        free(r);
        r = silo_net_resolv_text(NULL);
        is_str(r, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n", "resolv.conf: no host file");
        free(r);
}

static void test_nft(void)
{
        struct silo_net_port p[] = {{0, 8080, 80, false}, {IP(127, 0, 0, 1), 5353, 53, true}};
        char *rules = silo_nft_container_rules("silo 10.99.0.2 c1", IP(10, 99, 0, 2), p, 2);
        ok(strstr(rules, "add table ip silo\n") != NULL, "container rules create the table idempotently");
        ok(strstr(rules,
                  "add rule ip silo prerouting fib daddr type local tcp dport 8080 dnat to 10.99.0.2:80 "
                  "comment \"silo 10.99.0.2 c1\"\n") != NULL,
           "prerouting DNAT");
        ok(strstr(rules, "add rule ip silo output fib daddr type local tcp dport 8080 dnat to 10.99.0.2:80 "
                         "comment \"silo 10.99.0.2 c1\"\n") != NULL,
           "output DNAT (traffic from the host itself)");
        ok(strstr(rules,
                  "add rule ip silo output ip daddr 127.0.0.1 fib daddr type local udp dport 5353 dnat to "
                  "10.99.0.2:53 comment \"silo 10.99.0.2 c1\"\n") != NULL,
           "host IP + udp");
        free(rules);
        rules = silo_nft_bridge_rules("silo0", IP(10, 99, 0, 0), 16);
        ok(strstr(rules, "postrouting ip saddr 10.99.0.0/16 ip daddr != 10.99.0.0/16 masquerade comment "
                         "\"silo bridge silo0\"") != NULL,
           "subnet masquerade");
        const char *skip = strstr(rules, "postrouting ip saddr 10.99.0.0/16 ip daddr != 10.99.0.0/16 tcp flags & "
                                         "(syn | ack) != syn accept comment \"silo bridge silo0\"");
        ok(skip != NULL && skip < strstr(rules, "masquerade"),
           "TCP picked up mid-stream is not masqueraded (the rule comes first)");
        ok(strstr(rules, "postrouting oifname \"silo0\" ip saddr 127.0.0.0/8 masquerade") != NULL,
           "localhost masquerade towards the bridge");
        ok(strstr(rules, "forward iifname \"silo0\" accept") != NULL, "forward accept");
        free(rules);

        const char *listing = "table ip silo { # handle 9\n"
                              "\tchain prerouting { # handle 1\n"
                              "\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
                              "\t\tfib daddr type local tcp dport 8080 dnat to 10.99.0.2:80 comment \"silo "
                              "10.99.0.2 c1\" # handle 5\n"
                              "\t\tfib daddr type local tcp dport 8090 dnat to 10.99.0.3:80 comment \"silo "
                              "10.99.0.3 c10\" # handle 6\n"
                              "\t}\n"
                              "\tchain output { # handle 2\n"
                              "\t\ttype nat hook output priority -100; policy accept;\n"
                              "\t\tfib daddr type local tcp dport 8080 dnat to 10.99.0.2:80 comment \"silo "
                              "10.99.0.2 c1\" # handle 7\n"
                              "\t}\n"
                              "}\n";
        size_t others = 99;
        char *b = silo_nft_delete_batch(listing, "silo 10.99.0.2 c1", &others);
        is_str(b, "delete rule ip silo prerouting handle 5\ndelete rule ip silo output handle 7\n",
               "delete batch: exactly the tagged rules, per chain");
        is_int(others, 1, "one rule of another container left");
        free(b);
        b = silo_nft_delete_batch(listing, "silo 10.99.0.3 c", &others);
        ok(b == NULL, "a tag prefix matches nothing");
        is_int(others, 3, "all three left");
        b = silo_nft_delete_batch("", "x", &others);
        ok(b == NULL && others == 0, "empty listing");
}

int main(void)
{
        test_ports();
        test_subnet();
        test_ipam();
        test_etc();
        test_nft();
        return done();
}
