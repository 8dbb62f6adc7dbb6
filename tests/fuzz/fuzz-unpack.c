/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the image tar reader/unpacker (image/unpack.c): every input is a layer
 * or outer archive (tar, possibly gzip/zstd compressed) unpacked into a fresh empty directory,
 * once as an OCI layer and once as a plain archive.  Built and run by tests/fuzz/run-fuzz.sh
 * (`make fuzz FUZZ_TARGET=unpack`); the corpus is tests/fuzz/corpus/unpack.
 *
 * Contracts checked besides what ASan/UBSan catch (abort() = a finding):
 *   - a failure returns < 0 with a non-empty message; success leaves no error behind;
 *   - nothing is ever created outside the target directory: the directory's parent (a private
 *     scratch dir) holds exactly the target afterwards, whatever the archive said ("..",
 *     absolute names, symlinks and hard links pointing out);
 *   - entries and bytes stay within the limits (small here, so that the limit paths are hit).
 *
 * Invariants: each input gets its own scratch directory under $TMPDIR, removed afterwards, so
 * inputs cannot influence each other.  libarchive and libcrypto are dlopen()ed by image/dl.c as
 * in silo itself (they are not instrumented; silo's code is).
 *
 * Linked with replay-main.c it replays the files named on the command line (any compiler, no
 * libFuzzer): `make check` replays the seed corpus that way.
 */
#include "config.h"
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "image/image.h"
#include "runtime/log.h"
#include "runtime/util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond)                                                                                          \
        do {                                                                                                 \
                if (!(cond))                                                                                 \
                        abort();                                                                             \
        } while (0)

static char scratch_base[4096];

static void remove_scratch(void)
{
        rmdir(scratch_base); /* empty between inputs */
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        const char *tmp = getenv("TMPDIR");
        silo_error_t err = NULL;

        /* silo's warnings would drown libFuzzer's own output (which must stay on stderr) */
        check(silo_log_init("/dev/null", "text", false, &err) == 0);
        snprintf(scratch_base, sizeof(scratch_base), "%s/silo-fuzz-unpack-XXXXXX", tmp ? tmp : "/tmp");
        check(mkdtemp(scratch_base) != NULL);
        atexit(remove_scratch);
        check(silo_image_dl_load(&err) == 0);
        return 0;
}

/* the scratch dir holds exactly one entry, "t" (the target) */
static void check_confined(int scratch)
{
        int fd = dup(scratch);
        DIR *d;
        struct dirent *de;
        int n = 0;

        check(fd >= 0);
        d = fdopendir(fd);
        check(d != NULL);
        rewinddir(d);
        while ((de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                check(strcmp(de->d_name, "t") == 0);
                n++;
        }
        closedir(d);
        check(n == 1);
}

static void unpack_once(const uint8_t *data, size_t size, enum silo_unpack_mode mode)
{
        struct silo_unpack_limits lim = {.max_entries = 64, .max_bytes = 1 << 20, .max_name = 1024};
        struct silo_unpack_result res;
        silo_error_t err = NULL;
        int scratch, dirfd, memfd, r;

        scratch = open(scratch_base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        check(scratch >= 0);
        check(mkdirat(scratch, "t", 0700) == 0);
        dirfd = openat(scratch, "t", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        check(dirfd >= 0);
        memfd = memfd_create("fuzz-input", MFD_CLOEXEC);
        check(memfd >= 0);
        check(size == 0 || write(memfd, data, size) == (ssize_t)size);
        check(lseek(memfd, 0, SEEK_SET) == 0);

        r = silo_unpack_fd(memfd, dirfd, mode, &lim, &res, &err);
        if (r < 0) {
                check(err != NULL && err->msg != NULL && err->msg[0] != '\0');
                silo_error_free(&err);
        } else {
                check(r == 0 && err == NULL);
                check(res.entries <= lim.max_entries);
                check(strncmp(res.diff_id, "sha256:", 7) == 0);
        }
        close(memfd);
        close(dirfd);
        check_confined(scratch);
        check(silo_rm_rf_at(scratch, "t") == 0);
        close(scratch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        unpack_once(data, size, SILO_UNPACK_LAYER);
        unpack_once(data, size, SILO_UNPACK_PLAIN);
        return 0;
}
