/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pure parts of the network module: port and subnet parsing, address allocation, names, the
 * text of /etc/hosts and /etc/resolv.conf, and the nft batches.  No I/O here, so all of it is
 * unit tested (tests/unit/test-netns.c).
 *
 * Rule layout in table `ip silo` (base chains created idempotently with `add`):
 *   prerouting (nat, dstnat) / output (nat, -100):
 *       [ip daddr H] fib daddr type local tcp dport HP dnat to C:CP     comment "<container tag>"
 *   postrouting (nat, srcnat):
 *       ip saddr <subnet> ip daddr != <subnet> tcp flags & (syn | ack) != syn accept
 *                                                                       comment "silo bridge <br>"
 *       ip saddr <subnet> ip daddr != <subnet> masquerade               comment "silo bridge <br>"
 *       oifname <br> ip saddr 127.0.0.0/8 masquerade                    comment "silo bridge <br>"
 *   forward (filter, 0):
 *       iifname <br> accept; oifname <br> accept                        comment "silo bridge <br>"
 * Tags never contain '"' (container ids are [A-Za-z0-9_+.-]), so they can be quoted as is.
 */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "netns.h"
#include "../runtime/util.h"

const char *silo_net_ip_str(uint32_t ip, char *buf)
{
        snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
        return buf;
}

static int parse_ip(const char *s, uint32_t *ret)
{
        struct in_addr a;
        if (inet_pton(AF_INET, s, &a) != 1)
                return -EINVAL;
        *ret = ntohl(a.s_addr);
        return 0;
}

static int parse_port(const char *s, uint16_t *ret)
{
        uint64_t v;
        if (silo_parse_u64(s, &v) < 0 || v == 0 || v > 65535)
                return -EINVAL;
        *ret = (uint16_t)v;
        return 0;
}

/* One item: [HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp] */
static int parse_one(char *item, struct silo_net_port *p, silo_error_t *err)
{
        char *proto = strchr(item, '/'), *fields[3];
        size_t n = 0;
        char *tok;
        _cleanup_free_ char *copy = silo_xstrdup(item);

        memset(p, 0, sizeof(*p));
        if (proto) {
                *proto++ = '\0';
                if (strcmp(proto, "udp") == 0)
                        p->udp = true;
                else if (strcmp(proto, "tcp") != 0)
                        return silo_error_set(err, 0, "invalid protocol '%s' in '%s' (tcp or udp)", proto,
                                              copy);
        }
        /* strtok_r would merge empty fields: split by hand */
        tok = item;
        for (;;) {
                char *c = strchr(tok, ':');
                if (n == 3)
                        return silo_error_set(err, 0,
                                              "invalid port mapping '%s' "
                                              "(expected [HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp])",
                                              copy);
                fields[n++] = tok;
                if (!c)
                        break;
                *c = '\0';
                tok = c + 1;
        }
        if (n < 2)
                return silo_error_set(err, 0,
                                      "invalid port mapping '%s' "
                                      "(expected [HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp])",
                                      copy);
        if (n == 3 && parse_ip(fields[0], &p->host_ip) < 0)
                return silo_error_set(err, 0, "invalid host IP '%s' in '%s'", fields[0], copy);
        if (parse_port(fields[n - 2], &p->host_port) < 0)
                return silo_error_set(err, 0, "invalid port '%s'", fields[n - 2]);
        if (parse_port(fields[n - 1], &p->ctr_port) < 0)
                return silo_error_set(err, 0, "invalid port '%s'", fields[n - 1]);
        return 0;
}

int silo_net_parse_ports(const char *s, struct silo_net_port **ret, size_t *ret_n, silo_error_t *err)
{
        _cleanup_free_ char *buf = silo_xstrdup(s ? s : "");
        _cleanup_free_ struct silo_net_port *v = NULL;
        size_t n = 0;
        char *item = buf;

        *ret = NULL;
        *ret_n = 0;
        if (*buf == '\0')
                return 0;
        for (;;) {
                char *comma = strchr(item, ',');
                if (comma)
                        *comma = '\0';
                if (*item == '\0')
                        return silo_error_set(err, 0, "empty port mapping");
                v = silo_xrealloc(v, (n + 1) * sizeof(*v));
                int r = parse_one(item, &v[n], err);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < n; i++)
                        if (v[i].host_port == v[n].host_port && v[i].udp == v[n].udp &&
                            (v[i].host_ip == 0 || v[n].host_ip == 0 || v[i].host_ip == v[n].host_ip))
                                return silo_error_set(err, 0, "host port %u/%s published twice",
                                                      v[n].host_port, v[n].udp ? "udp" : "tcp");
                n++;
                if (!comma)
                        break;
                item = comma + 1;
        }
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

char *silo_net_ports_text(const struct silo_net_port *p, size_t n)
{
        struct silo_buf b = {0};
        char ip[16];

        silo_buf_puts(&b, "");
        for (size_t i = 0; i < n; i++)
                silo_buf_printf(&b, "%s%s:%u:%u/%s", i ? "," : "", silo_net_ip_str(p[i].host_ip, ip),
                                p[i].host_port, p[i].ctr_port, p[i].udp ? "udp" : "tcp");
        return b.data;
}

int silo_net_parse_subnet(const char *s, uint32_t *ret_addr, unsigned *ret_prefix, silo_error_t *err)
{
        _cleanup_free_ char *buf = silo_xstrdup(s ? s : "");
        char *slash = strchr(buf, '/');
        uint64_t len;
        uint32_t a;

        if (!slash)
                return silo_error_set(err, 0, "invalid subnet '%s' (expected a.b.c.d/len)", buf);
        *slash = '\0';
        if (parse_ip(buf, &a) < 0 || silo_parse_u64(slash + 1, &len) < 0)
                return silo_error_set(err, 0, "invalid subnet '%s/%s' (expected a.b.c.d/len)", buf,
                                      slash + 1);
        if (len < 8 || len > 30)
                return silo_error_set(err, 0, "invalid subnet '%s/%s': prefix length must be 8-30", buf,
                                      slash + 1);
        if (a & ~(0xffffffffu << (32 - len)))
                return silo_error_set(err, 0, "invalid subnet '%s/%s': host bits set", buf, slash + 1);
        *ret_addr = a;
        *ret_prefix = (unsigned)len;
        return 0;
}

bool silo_net_ifname_valid(const char *name)
{
        size_t n = name ? strlen(name) : 0;
        if (n == 0 || n > 15 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = name[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-' || c == '.'))
                        return false;
        }
        return true;
}

static int cmp_u32(const void *a, const void *b)
{
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
        return x < y ? -1 : x > y;
}

uint32_t silo_net_next_free(uint32_t subnet, unsigned prefix, const uint32_t *used, size_t n_used)
{
        uint32_t last = subnet | ~(0xffffffffu << (32 - prefix)); /* broadcast */
        _cleanup_free_ uint32_t *s = silo_xmalloc0((n_used + 1) * sizeof(*s));
        size_t j = 0;

        if (n_used) /* used may be NULL then */
                memcpy(s, used, n_used * sizeof(*s));
        qsort(s, n_used, sizeof(*s), cmp_u32);
        for (uint32_t ip = subnet + 2; ip < last; ip++) { /* .0 network, .1 gateway */
                while (j < n_used && s[j] < ip)
                        j++;
                if (j < n_used && s[j] == ip)
                        continue;
                return ip;
        }
        return 0;
}

const char *silo_net_veth_name(uint32_t ip, char *buf)
{
        snprintf(buf, 16, "sv%08x", ip);
        return buf;
}

void silo_net_mac(uint32_t ip, uint8_t mac[6])
{
        mac[0] = 0x02; /* locally administered, unicast */
        mac[1] = 0x53;
        for (int i = 0; i < 4; i++)
                mac[2 + i] = (uint8_t)(ip >> (24 - 8 * i));
}

char *silo_net_tag(uint32_t ip, const char *id)
{
        char s[16];
        /* nft comments are limited to 128 bytes; the address makes a truncated id unique */
        return silo_xasprintf("silo %s %.96s", silo_net_ip_str(ip, s), id);
}

char *silo_net_hosts_text(const char *hostname, uint32_t ip, uint32_t gateway)
{
        char a[16], g[16];
        return silo_xasprintf("127.0.0.1\tlocalhost\n"
                              "::1\tlocalhost ip6-localhost ip6-loopback\n"
                              "%s\thost.containers.internal host.docker.internal\n"
                              "%s\t%s\n",
                              silo_net_ip_str(gateway, g), silo_net_ip_str(ip, a), hostname);
}

/* interfaces.md §3.6: search lines, then nameservers minus loopback/IPv6/zoned ones (the
 * container has its own netns and no IPv6), public fallbacks only when none is left, options. */
char *silo_net_resolv_text(const char *host_resolv)
{
        struct silo_buf search = {0}, ns = {0}, opts = {0}, out = {0};
        _cleanup_free_ char *copy = silo_xstrdup(host_resolv ? host_resolv : "");
        char *save = NULL;
        size_t n_ns = 0;

        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *p = line + strspn(line, " \t");
                if (silo_str_has_prefix(p, "nameserver") && (p[10] == ' ' || p[10] == '\t')) {
                        char *a = p + 10 + strspn(p + 10, " \t");
                        a[strcspn(a, " \t\r")] = '\0';
                        struct in_addr v4;
                        if (inet_pton(AF_INET, a, &v4) != 1 || (ntohl(v4.s_addr) >> 24) == 127)
                                continue; /* IPv6, zoned, loopback or garbage */
                        silo_buf_printf(&ns, "nameserver %s\n", a);
                        n_ns++;
                } else if (silo_str_has_prefix(p, "search") || silo_str_has_prefix(p, "domain")) {
                        silo_buf_printf(&search, "%s\n", p);
                } else if (silo_str_has_prefix(p, "options")) {
                        silo_buf_printf(&opts, "%s\n", p);
                }
        }
        if (n_ns == 0)
                silo_buf_puts(&ns, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
        silo_buf_puts(&out, search.data ? search.data : "");
        silo_buf_puts(&out, ns.data);
        silo_buf_puts(&out, opts.data ? opts.data : "");
        silo_buf_free(&search);
        silo_buf_free(&ns);
        silo_buf_free(&opts);
        return out.data;
}

static const char base_chains[] =
    "add table ip " SILO_NET_TABLE "\n"
    "add chain ip " SILO_NET_TABLE
    " prerouting { type nat hook prerouting priority dstnat; policy accept; }\n"
    "add chain ip " SILO_NET_TABLE " output { type nat hook output priority -100; policy accept; }\n"
    "add chain ip " SILO_NET_TABLE
    " postrouting { type nat hook postrouting priority srcnat; policy accept; }\n"
    "add chain ip " SILO_NET_TABLE " forward { type filter hook forward priority filter; policy accept; }\n";

char *silo_nft_bridge_rules(const char *bridge, uint32_t subnet, unsigned prefix)
{
        char s[16];
        const char *t = "add rule ip " SILO_NET_TABLE;
        silo_net_ip_str(subnet, s);
        return silo_xasprintf(
            "%s"
            /* a TCP connection conntrack picks up mid-stream (a restored or migrated socket's
             * first packet here) keeps its address: NAT only what starts with a SYN */
            "%s postrouting ip saddr %s/%u ip daddr != %s/%u tcp flags & (syn | ack) != syn accept "
            "comment \"silo bridge %s\"\n"
            "%s postrouting ip saddr %s/%u ip daddr != %s/%u masquerade comment \"silo bridge %s\"\n"
            "%s postrouting oifname \"%s\" ip saddr 127.0.0.0/8 masquerade "
            "comment \"silo bridge %s\"\n"
            "%s forward iifname \"%s\" accept comment \"silo bridge %s\"\n"
            "%s forward oifname \"%s\" accept comment \"silo bridge %s\"\n",
            base_chains, t, s, prefix, s, prefix, bridge, t, s, prefix, s, prefix, bridge, t, bridge, bridge, t,
            bridge, bridge, t, bridge, bridge);
}

char *silo_nft_container_rules(const char *tag, uint32_t ip, const struct silo_net_port *p, size_t n)
{
        static const char *const chains[] = {"prerouting", "output"};
        struct silo_buf b = {0};
        char c[16], h[16];

        silo_buf_puts(&b, base_chains);
        silo_net_ip_str(ip, c);
        for (size_t i = 0; i < n; i++) {
                for (size_t k = 0; k < ARRAY_SIZE(chains); k++) {
                        silo_buf_printf(&b, "add rule ip " SILO_NET_TABLE " %s ", chains[k]);
                        if (p[i].host_ip)
                                silo_buf_printf(&b, "ip daddr %s ", silo_net_ip_str(p[i].host_ip, h));
                        silo_buf_printf(&b, "fib daddr type local %s dport %u dnat to %s:%u comment \"%s\"\n",
                                        p[i].udp ? "udp" : "tcp", p[i].host_port, c, p[i].ctr_port, tag);
                }
        }
        return b.data;
}

/*
 * `nft -a list table ip silo` prints one rule per line, ending in
 *     ... comment "TAG" # handle N
 * inside "chain NAME {" blocks.  Only our own rules are in this table.
 */
char *silo_nft_delete_batch(const char *listing, const char *tag, size_t *ret_others)
{
        _cleanup_free_ char *copy = silo_xstrdup(listing ? listing : "");
        _cleanup_free_ char *want = silo_xasprintf("comment \"%s\" # handle ", tag);
        struct silo_buf b = {0};
        char chain[256] = "", *save = NULL;
        size_t others = 0;

        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *p = line + strspn(line, " \t"), *h;
                if (silo_str_has_prefix(p, "chain ")) {
                        size_t len = strcspn(p + 6, " {");
                        if (len >= sizeof(chain))
                                len = sizeof(chain) - 1;
                        memcpy(chain, p + 6, len);
                        chain[len] = '\0';
                        continue;
                }
                if (silo_str_has_prefix(p, "table ") || silo_str_has_prefix(p, "type ") || !*chain)
                        continue;
                h = strstr(p, " # handle ");
                if (!h)
                        continue;
                char *m = strstr(p, want);
                if (m && m + strlen(want) == h + strlen(" # handle "))
                        silo_buf_printf(&b, "delete rule ip " SILO_NET_TABLE " %s handle %s\n", chain,
                                        h + strlen(" # handle "));
                else
                        others++;
        }
        if (ret_others)
                *ret_others = others;
        return b.data; /* NULL when nothing matched */
}
