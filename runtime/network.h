/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Glue between a container's config and the netns/ module: which network a container gets is
 * decided by its config alone (README "Networking"):
 *   - no network namespace, or one given by path (containerd, CRI-O): nothing is configured;
 *   - a new network namespace without the annotation run.silo.network=bridge: loopback only,
 *     exactly as runc (plain OCI bundles keep runc's behaviour);
 *   - a new network namespace with run.silo.network=bridge: bridge, veth, address, NAT, and the
 *     published ports of run.silo.ports=[HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp],...
 *     (run.silo.network.bridge / run.silo.network.subnet override silo0 / 10.99.0.0/16).
 * Three calls from container.c: prepare (before the init is cloned), attach (after, before
 * create returns) and release (delete and every failure path of create; idempotent, needs only
 * the state dir's "network" file and the leases).
 */
#ifndef SILO_NETWORK_H
#define SILO_NETWORK_H

#include "error.h"

struct silo_container;

/* Validate the annotations, lease an address, write hosts/hostname/resolv.conf into the state
 * dir and add their bind mounts to the in-memory spec. */
int silo_network_prepare(struct silo_container *c, silo_error_t *err);
/* Wire the init's netns (c->pid) to the bridge. */
int silo_network_attach(struct silo_container *c, silo_error_t *err);
/* Remove veth, rules and lease of container `id` whose state dir is state_dirfd. */
int silo_network_release(const char *root, int state_dirfd, const char *id, silo_error_t *err);

#endif
