/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sha256 digests in OCI form ("sha256:<hex>") through libcrypto's EVP interface. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "dl.h"
#include "image.h"
#include "../runtime/util.h"

struct silo_sha256 {
        EVP_MD_CTX *ctx;
};

struct silo_sha256 *silo_sha256_new(void)
{
        struct silo_sha256 *h = silo_xmalloc0(sizeof(*h));

        h->ctx = SC(EVP_MD_CTX_new)();
        if (h->ctx == NULL || SC(EVP_DigestInit_ex)(h->ctx, SC(EVP_sha256)(), NULL) != 1)
                abort(); /* only on OOM */
        return h;
}

void silo_sha256_update(struct silo_sha256 *h, const void *p, size_t n)
{
        if (n)
                SC(EVP_DigestUpdate)(h->ctx, p, n);
}

void silo_sha256_final(struct silo_sha256 *h, char out[72])
{
        unsigned char md[32];
        unsigned int len = 0;

        SC(EVP_DigestFinal_ex)(h->ctx, md, &len);
        SC(EVP_MD_CTX_free)(h->ctx);
        free(h);
        strcpy(out, "sha256:");
        for (unsigned i = 0; i < 32; i++)
                sprintf(out + 7 + 2 * i, "%02x", md[i]);
}

bool silo_digest_valid(const char *d)
{
        if (d == NULL || strncmp(d, "sha256:", 7) != 0 || strlen(d) != 71)
                return false;
        for (const char *p = d + 7; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        return false;
        return true;
}

int silo_digest_check(const char *what, const char *expected, const char *got, silo_error_t *err)
{
        if (strcmp(expected, got) == 0)
                return 0;
        return silo_error_set(err, 0, "%s: digest mismatch: expected '%s', content hashes to '%s'", what,
                              expected, got);
}
