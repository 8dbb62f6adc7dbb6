/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the config.json, process.json and resources parsers (runtime/spec.c) and
 * the cross-field checks (runtime/validate.c).  Built and run by tests/fuzz/run-fuzz.sh.
 *
 * Every input is fed to the three entry points silo reads untrusted JSON with: create/run
 * (silo_spec_parse + silo_spec_validate), exec --process (silo_process_parse +
 * silo_process_validate) and update --resources (silo_resources_parse).  Besides what ASan and
 * UBSan catch, the target aborts when the documented contracts break, because a caller relying
 * on them would then misbehave:
 *   - a parse or validate failure returns < 0 with a non-empty message that starts with the JSON
 *     pointer or the document name; a success leaves no error behind;
 *   - a failed parse does not hand out a struct (callers free only on success);
 *   - decoding a mount's options again gives the same result (silo_mount_parse_options is
 *     exposed and may be called again on a parsed mount);
 *   - validate is pure: a second call gives the same verdict.
 *
 * Nothing is printed: silo's warnings (validate warns about ignored fields) go to /dev/null, so
 * libFuzzer's own output stays readable and the exec rate is not spent on writes to a terminal.
 *
 * Linked with replay-main.c (any compiler, no libFuzzer), it runs once per file named on the
 * command line: a plain regression replay of the seed corpus or of a crash artifact.
 */
#include "config.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "runtime/log.h"
#include "runtime/spec.h"
#include "runtime/validate.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond)                                                                                          \
        do {                                                                                                 \
                if (!(cond))                                                                                 \
                        abort();                                                                             \
        } while (0)

/* r < 0 comes with a message naming where (a JSON pointer or the document); r == 0 with none. */
static void check_error(int r, silo_error_t err, const char *doc)
{
        if (r == 0) {
                check(err == NULL);
                return;
        }
        check(r < 0);
        check(err != NULL && err->msg != NULL && err->msg[0] != '\0');
        check(err->msg[0] == '/' || strncmp(err->msg, doc, strlen(doc)) == 0);
}

static void check_mount_redecode(struct silo_mount *m)
{
        struct silo_mount before = *m;
        char *data = m->data ? strdup(m->data) : NULL;
        silo_error_t err = NULL;

        check(m->data == NULL || data != NULL);
        check(silo_mount_parse_options(m, &err) == 0 && err == NULL);
        check(m->flags == before.flags && m->clear_flags == before.clear_flags);
        check(m->propagation == before.propagation);
        check(m->rec_attr_set == before.rec_attr_set && m->rec_attr_clr == before.rec_attr_clr);
        check(m->bind == before.bind && m->idmap == before.idmap && m->ridmap == before.ridmap);
        check(m->tmpcopyup == before.tmpcopyup && m->copy_symlink == before.copy_symlink);
        check((data == NULL) == (m->data == NULL));
        check(data == NULL || strcmp(data, m->data) == 0);
        free(data);
}

static void fuzz_spec(const char *buf, size_t len)
{
        struct silo_spec *spec = NULL;
        silo_error_t err = NULL;
        int r, r2;

        r = silo_spec_parse(buf, len, &spec, &err);
        check_error(r, err, "config.json");
        silo_error_free(&err);
        if (r < 0) {
                check(spec == NULL);
                return;
        }
        check(spec != NULL);

        r = silo_spec_validate(spec, &err);
        check_error(r, err, "/");
        silo_error_free(&err);
        r2 = silo_spec_validate(spec, &err);
        check(r2 == r);
        silo_error_free(&err);

        for (size_t i = 0; i < spec->n_mounts; i++)
                check_mount_redecode(&spec->mounts[i]);
        /* the lookups the rest of the runtime uses on a parsed spec */
        for (int t = 0; t < _SILO_NS_MAX; t++)
                (void)silo_spec_namespace(spec, (enum silo_ns_type)t);
        for (size_t i = 0; i < spec->n_annotations; i++)
                check(silo_spec_annotation(spec, spec->annotations[i].key) != NULL);
        silo_spec_free(spec);
}

static void fuzz_process(const char *buf, size_t len)
{
        struct silo_process *p = NULL;
        silo_error_t err = NULL;
        int r;

        r = silo_process_parse(buf, len, &p, &err);
        check_error(r, err, "process.json");
        silo_error_free(&err);
        if (r < 0) {
                check(p == NULL);
                return;
        }
        check(p != NULL);
        r = silo_process_validate(p, "", &err);
        check_error(r, err, "/");
        silo_error_free(&err);
        silo_process_free(p);
}

static void fuzz_resources(const char *buf, size_t len)
{
        struct silo_resources *res = NULL;
        silo_error_t err = NULL;
        int r;

        r = silo_resources_parse(buf, len, &res, &err);
        check_error(r, err, "resources");
        silo_error_free(&err);
        if (r < 0) {
                check(res == NULL);
                return;
        }
        check(res != NULL);
        silo_resources_free(res);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        silo_error_t err = NULL;

        /* text format: in JSON mode warnings would be dropped before formatting, hiding that code */
        if (silo_log_init("/dev/null", "text", false, &err) < 0)
                abort();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        /* the parsers take (buf, len) and must not read past len nor need a terminating NUL */
        const char *buf = (const char *)data;

        fuzz_spec(buf, size);
        fuzz_process(buf, size);
        fuzz_resources(buf, size);
        return 0;
}
