/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Driver for bench/net-bench.sh: the netns/ module alone, without a container, one process per
 * operation like `silo create` / `silo delete` (and like the CNI plugins it is compared with):
 *
 *   silo-net-bench add LEASE_ROOT PID    lease + attach the netns of PID (veth, addresses,
 *                                        routes, masquerade, 1 published port 8080:80)
 *   silo-net-bench del LEASE_ROOT        release it all again
 *
 * Container id "bench", bridge silo0, 10.99.0.0/16: what a container create/delete does.
 */
#include "config.h"
#include <stdio.h>
#include <string.h>
#include "../netns/netns.h"
#include "../runtime/util.h"

int main(int argc, char **argv)
{
        struct silo_net_port port = {0, 8080, 80, false};
        struct silo_net_config cfg = {0};
        silo_error_t err = NULL;
        uint64_t pid = 0;
        uint32_t ip;
        int r;

        if (argc < 3 || (strcmp(argv[1], "add") == 0 && (argc != 4 || silo_parse_u64(argv[3], &pid) < 0)) ||
            (strcmp(argv[1], "del") == 0 && argc != 3) ||
            (strcmp(argv[1], "add") && strcmp(argv[1], "del"))) {
                fprintf(stderr, "usage: %s add LEASE_ROOT PID | del LEASE_ROOT\n", argv[0]);
                return 2;
        }
        cfg.lease_root = argv[2];
        cfg.id = "bench";
        cfg.bridge = SILO_NET_DEFAULT_BRIDGE;
        silo_net_parse_subnet(SILO_NET_DEFAULT_SUBNET, &cfg.subnet, &cfg.prefix, &err);
        cfg.ports = &port;
        cfg.n_ports = 1;
        if (strcmp(argv[1], "add") == 0) {
                r = silo_net_lease(&cfg, &ip, &err);
                if (r == 0)
                        r = silo_net_attach(&cfg, ip, (pid_t)pid, silo_proc_start_time((pid_t)pid), &err);
        } else {
                r = silo_net_release(cfg.lease_root, cfg.bridge, cfg.id, &err);
        }
        if (r < 0) {
                char *t = silo_error_text(err);
                fprintf(stderr, "silo-net-bench: %s\n", t);
                return 1;
        }
        return 0;
}
