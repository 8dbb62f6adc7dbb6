/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the two sides of `silo migrate` (migrate.c: framing, helpers, source;
 * migrate-recv.c: destination).  The protocol is documented at the top of migrate.c. */
#ifndef SILO_MIGRATE_INTERNAL_H
#define SILO_MIGRATE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../runtime/error.h"

#define MIG_PROTO 1
#define MIG_MAX_FRAME (1u << 20)

enum {
        MSG_HELLO = 1,
        MSG_MKDIR,
        MSG_FILE,
        MSG_DATA,
        MSG_EOF,
        MSG_SYMLINK,
        MSG_CHECK,
        MSG_READY,
        MSG_ROUND,
        MSG_RESTORE,
        MSG_RUNNING,
        MSG_DONE,
        MSG_ERROR,
};

/* One frame; an ERROR frame received becomes *err.  mig_recv's *ret is NUL-terminated. */
int mig_send(int fd, uint32_t type, const void *p, size_t len, silo_error_t *err);
int mig_send_str(int fd, uint32_t type, const char *s, silo_error_t *err);
int mig_recv(int fd, uint32_t *ret_type, char **ret, size_t *ret_len, silo_error_t *err);
int mig_expect(int fd, uint32_t want, char **ret, silo_error_t *err);

double mig_now_ms(void);
void mig_kernel_release(char *buf, size_t n);
long mig_kernel_num(const char *rel);                                       /* "6.1.0-27-amd64" -> 6001 */
int mig_criu_version(silo_error_t *err);                                    /* libcriu loaded: e.g. 31701 */
int mig_criu_cpuinfo(const char *verb, const char *dir, silo_error_t *err); /* criu cpuinfo dump|check */
bool mig_name_ok(const char *s, size_t n); /* [A-Za-z0-9._-]+, not "." or ".." */

#endif
