/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Lazy loading of libcriu (see criu-dl.h for why). */
#include "config.h"
#include <dlfcn.h>
#include <stdbool.h>
#include <unistd.h>
#include "criu-dl.h"

#ifdef HAVE_CRIU
struct silo_criu_api silo_criu_api;

#define SILO_CRIU_NAME(f) #f,
int silo_criu_dl_load(silo_error_t *err)
{
        static const char *const names[] = {SILO_CRIU_FUNCS(SILO_CRIU_NAME)};
        static bool loaded;
        void **slots = (void **)&silo_criu_api;
        void *h;

        _Static_assert(sizeof(silo_criu_api) == sizeof(names) / sizeof(names[0]) * sizeof(void *), "api");
        if (loaded)
                return 0;
        h = dlopen(SILO_LIBCRIU_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (h == NULL)
                return silo_error_set(err, 0, "checkpoint/restore needs '%s' (install the criu package): %s",
                                      SILO_LIBCRIU_SONAME, dlerror());
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                slots[i] = dlsym(h, names[i]);
                if (slots[i] == NULL)
                        return silo_error_set(err, 0, "'%s' lacks symbol '%s'", SILO_LIBCRIU_SONAME,
                                              names[i]);
        }
        loaded = true; /* the handle stays loaded for the life of the process */
        return 0;
}

bool silo_criu_available(void)
{
        void *h = dlopen(SILO_LIBCRIU_SONAME, RTLD_LAZY | RTLD_LOCAL | RTLD_NOLOAD);

        if (h == NULL)
                h = dlopen(SILO_LIBCRIU_SONAME, RTLD_LAZY | RTLD_LOCAL);
        if (h == NULL)
                return false;
        dlclose(h);
        /* libcriu runs the criu binary (swrk mode) found in PATH */
        return access("/usr/sbin/criu", X_OK) == 0 || access("/usr/bin/criu", X_OK) == 0 ||
               access("/usr/local/sbin/criu", X_OK) == 0;
}
#else
int silo_criu_dl_load(silo_error_t *err)
{
        return silo_error_set(err, EOPNOTSUPP,
                              "checkpoint/restore: this silo was built without CRIU support "
                              "(./configure --with-criu, needs the criu package)");
}

bool silo_criu_available(void)
{
        return false;
}
#endif
