/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The main() of the fuzz targets' replay programs (tests/fuzz/fuzz-*-replay, any compiler, no
 * libFuzzer): runs the target once per file named on the command line, as libFuzzer would with
 * a corpus or a crash artifact.  `make check` replays the seed corpora this way.
 *
 * Each input is handed over in an exact-size heap copy, so an ASan build sees a read past len.
 */
#include "config.h"
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "runtime/util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
        LLVMFuzzerInitialize(&argc, &argv);
        for (int i = 1; i < argc; i++) {
                silo_error_t err = NULL;
                char *buf = NULL, *copy;
                size_t len = 0;

                if (silo_read_file_at(AT_FDCWD, argv[i], 16u << 20, &buf, &len, &err) < 0) {
                        fprintf(stderr, "%s: %s\n", argv[i], err->msg);
                        return 1;
                }
                copy = malloc(len ? len : 1);
                if (copy == NULL)
                        abort();
                memcpy(copy, buf, len);
                free(buf);
                LLVMFuzzerTestOneInput((const uint8_t *)copy, len);
                free(copy);
        }
        return 0;
}
