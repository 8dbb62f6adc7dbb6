/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Lazy loading of libarchive and libcrypto (see dl.h for why). */
#include "config.h"
#include <dlfcn.h>
#include <stdbool.h>
#include "dl.h"
#include "image.h"

struct silo_archive_api silo_archive_api;
struct silo_crypto_api silo_crypto_api;

static int load(const char *soname, const char *const *names, void **slots, size_t n, silo_error_t *err)
{
        void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);

        if (h == NULL)
                return silo_error_set(err, 0, "images need '%s' (install libarchive13 / libssl3): %s", soname,
                                      dlerror());
        for (size_t i = 0; i < n; i++) {
                slots[i] = dlsym(h, names[i]);
                if (slots[i] == NULL)
                        return silo_error_set(err, 0, "'%s' lacks symbol '%s'", soname, names[i]);
        }
        return 0; /* the handle stays loaded for the life of the process */
}

#define SILO_DL_NAME(f) #f,
int silo_image_dl_load(silo_error_t *err)
{
        static bool loaded;
        static const char *const anames[] = {SILO_ARCHIVE_FUNCS(SILO_DL_NAME)};
        static const char *const cnames[] = {SILO_CRYPTO_FUNCS(SILO_DL_NAME)};
        int r;

        if (loaded)
                return 0;
        _Static_assert(sizeof(silo_archive_api) == sizeof(anames) / sizeof(anames[0]) * sizeof(void *),
                       "api");
        _Static_assert(sizeof(silo_crypto_api) == sizeof(cnames) / sizeof(cnames[0]) * sizeof(void *), "api");
        r = load(SILO_LIBARCHIVE_SONAME, anames, (void **)&silo_archive_api,
                 sizeof(anames) / sizeof(anames[0]), err);
        if (r == 0)
                r = load(SILO_LIBCRYPTO_SONAME, cnames, (void **)&silo_crypto_api,
                         sizeof(cnames) / sizeof(cnames[0]), err);
        if (r == 0)
                loaded = true;
        return r;
}
