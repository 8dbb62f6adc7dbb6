/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nftables through libnftables (the same parser the nft CLI uses, fed a batch buffer; one
 * batch is one kernel transaction, so a batch either applies whole or not at all).  Only table
 * `ip silo` is ever touched.
 *
 * The library is dlopen()ed on first use instead of linked: it drags in libnftnl, libjansson,
 * libgmp and libxtables, which cost every silo invocation ~0.4 ms in the dynamic loader
 * (measured: `silo --version` 0.9 -> 1.3 ms), while only bridge networking needs it.
 *
 * One context (and so one nfnetlink socket) per process: closing an nftables socket after a
 * transaction waits for the kernel's deferred transaction cleanup (~10 ms measured here), so
 * a release that lists and then deletes would pay that twice with a context per command.
 */
#include "config.h"
#include <errno.h>
#include <dlfcn.h>
#include <string.h>
#include <nftables/libnftables.h>
#include "netns.h"
#include "../runtime/log.h"
#include "../runtime/util.h"

static struct {
        struct nft_ctx *(*ctx_new)(uint32_t);
        int (*buffer_output)(struct nft_ctx *);
        int (*buffer_error)(struct nft_ctx *);
        void (*set_flags)(struct nft_ctx *, unsigned int);
        int (*run_cmd)(struct nft_ctx *, const char *);
        const char *(*get_output)(struct nft_ctx *);
        const char *(*get_error)(struct nft_ctx *);
} lib;

static int load(silo_error_t *err)
{
        static void *h;
        if (h)
                return 0;
        h = dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
        if (h == NULL)
                return silo_error_set(err, 0, "nftables: load libnftables.so.1: %s", dlerror());
#define SYM(field, name)                                                                                     \
        do {                                                                                                 \
                *(void **)&lib.field = dlsym(h, #name);                                                      \
                if (lib.field == NULL) {                                                                     \
                        dlclose(h);                                                                          \
                        h = NULL;                                                                            \
                        return silo_error_set(err, 0, "nftables: libnftables.so.1 lacks " #name);            \
                }                                                                                            \
        } while (0)
        SYM(ctx_new, nft_ctx_new);
        SYM(buffer_output, nft_ctx_buffer_output);
        SYM(buffer_error, nft_ctx_buffer_error);
        SYM(set_flags, nft_ctx_output_set_flags);
        SYM(run_cmd, nft_run_cmd_from_buffer);
        SYM(get_output, nft_ctx_get_output_buffer);
        SYM(get_error, nft_ctx_get_error_buffer);
#undef SYM
        return 0;
}

static int run(const char *batch, bool handles, char **ret_output, silo_error_t *err)
{
        static struct nft_ctx *ctx;
        int r = load(err);

        if (r < 0)
                return r;
        if (ctx == NULL) {
                ctx = lib.ctx_new(NFT_CTX_DEFAULT);
                if (ctx == NULL)
                        return silo_error_set(err, ENOMEM, "nftables: create context");
                lib.buffer_output(ctx);
                lib.buffer_error(ctx);
        }
        lib.set_flags(ctx, handles ? NFT_CTX_OUTPUT_HANDLE : 0);
        silo_debug("nft: %s", batch);
        if (lib.run_cmd(ctx, batch) != 0) {
                const char *e = lib.get_error(ctx);
                _cleanup_free_ char *msg = silo_xstrdup(e && *e ? e : "failed");
                size_t n = strlen(msg);
                while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
                        msg[--n] = '\0';
                /* the first line is the message; the rest repeats the command with carets */
                char *nl = strchr(msg, '\n');
                if (nl)
                        *nl = '\0';
                r = silo_error_set(err, strstr(msg, "No such file") ? ENOENT : 0, "nftables: %s", msg);
        } else if (ret_output) {
                *ret_output = silo_xstrdup(lib.get_output(ctx));
        }
        /* reading a buffer rewinds it: drain both so the next command starts clean */
        lib.get_output(ctx);
        lib.get_error(ctx);
        return r;
}

int silo_nft_run(const char *batch, char **ret_output, silo_error_t *err)
{
        return run(batch, false, ret_output, err);
}

int silo_nft_delete_tagged(const char *tag, long *ret_others, silo_error_t *err)
{
        _cleanup_free_ char *listing = NULL, *batch = NULL;
        size_t others = 0;
        int r;

        if (ret_others)
                *ret_others = -1;
        r = run("list table ip " SILO_NET_TABLE, true, &listing, err);
        if (r == -ENOENT) {
                silo_error_free(err);
                return 0;
        }
        if (r < 0)
                return r;
        batch = silo_nft_delete_batch(listing, tag, &others);
        if (ret_others)
                *ret_others = (long)others;
        if (batch == NULL)
                return 0;
        return run(batch, false, NULL, err);
}
