/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Input bounds (issue 8): hostile sizes and shapes of config.json and of container ids must end
 * in a clear error naming the field (or in a successful parse), never in a crash, a hang or an
 * unbounded allocation.  Complements test-spec.c (exact depth/size limits) with the extremes:
 * nesting far past the limit, nesting-like characters inside strings, huge counts of args and
 * env entries, a malformed env entry among many, NUL bytes, and every id shape.
 *
 * Invariant: each case builds its document in memory; nothing touches the file system.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "runtime/error.h"
#include "runtime/log.h"
#include "runtime/spec.h"
#include "runtime/util.h"
#include "runtime/validate.h"

static const char head[] = "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"}, "
                           "\"linux\": {\"namespaces\": [{\"type\": \"mount\"}]}, ";

/* parse + validate buf; returns the result, *msg = the error message (static copy) or "" */
static int parse_validate(const char *buf, size_t len, const char **msg)
{
        static char last[512];
        struct silo_spec *spec = NULL;
        silo_error_t err = NULL;
        int r = silo_spec_parse(buf, len, &spec, &err);

        if (r == 0)
                r = silo_spec_validate(spec, &err);
        snprintf(last, sizeof(last), "%s", err && err->msg ? err->msg : "");
        *msg = last;
        silo_error_free(&err);
        silo_spec_free(spec);
        return r;
}

static char *process_with(const char *key, size_t n, const char *item, const char *odd, size_t odd_at)
{
        struct silo_buf b = {0};

        silo_buf_printf(&b, "%s\"process\": {\"cwd\": \"/\", \"args\": [\"/bin/true\"], \"%s\": [", head, key);
        for (size_t i = 0; i < n; i++)
                silo_buf_printf(&b, "%s\"%s\"", i ? "," : "", odd && i == odd_at ? odd : item);
        silo_buf_printf(&b, "]}}");
        return b.data;
}

static void test_nesting(void)
{
        const char *msg;
        struct silo_buf b = {0};
        int r;

        /* 100000 levels: refused by the pre-scan before yajl recurses (a stack overflow otherwise) */
        silo_buf_printf(&b, "{\"ociVersion\": \"1.0.2\", \"x\": ");
        for (int i = 0; i < 100000; i++)
                silo_buf_printf(&b, "[");
        for (int i = 0; i < 100000; i++)
                silo_buf_printf(&b, "]");
        silo_buf_printf(&b, "}");
        r = parse_validate(b.data, b.len, &msg);
        ok(r < 0 && strstr(msg, "nested deeper than") != NULL, "100000 nested arrays refused: %s", msg);
        silo_buf_free(&b);

        /* brackets inside strings are not nesting */
        memset(&b, 0, sizeof(b));
        silo_buf_printf(&b, "%s\"process\": {\"cwd\": \"/\", \"args\": [\"/bin/true\", \"", head);
        for (int i = 0; i < 10000; i++)
                silo_buf_printf(&b, "[{");
        silo_buf_printf(&b, "\"]}}");
        r = parse_validate(b.data, b.len, &msg);
        ok(r == 0, "brackets inside a string do not count as nesting (%s)", msg);
        silo_buf_free(&b);
}

static void test_counts(void)
{
        const char *msg;
        char *doc;
        int r;

        doc = process_with("env", 100000, "K=v", NULL, 0);
        r = parse_validate(doc, strlen(doc), &msg);
        ok(r == 0, "100000 env entries parse (%s)", msg);
        free(doc);

        doc = process_with("env", 50000, "K=v", "NOEQUALS", 43210);
        r = parse_validate(doc, strlen(doc), &msg);
        ok(r < 0 && strstr(msg, "/process/env/43210") != NULL, "bad env entry 43210 of 50000 is named: %s", msg);
        free(doc);

        doc = process_with("env", 1000, "K=v", "=nokey", 999);
        r = parse_validate(doc, strlen(doc), &msg);
        ok(r < 0 && strstr(msg, "/process/env/999") != NULL, "env entry without a key is named: %s", msg);
        free(doc);

        /* args: the key is replaced, so args holds n items */
        struct silo_buf b = {0};
        silo_buf_printf(&b, "%s\"process\": {\"cwd\": \"/\", \"args\": [", head);
        for (int i = 0; i < 200000; i++)
                silo_buf_printf(&b, "%s\"a\"", i ? "," : "");
        silo_buf_printf(&b, "]}}");
        r = parse_validate(b.data, b.len, &msg);
        ok(r == 0, "200000 args parse (%s)", msg);
        silo_buf_free(&b);

        /* wrong types in a long list: the index is named */
        doc = process_with("env", 3000, "K=v", NULL, 0);
        char *p = strstr(doc, "\"K=v\",\"K=v\"");
        if (p)
                memcpy(p, "12345,", 6); /* "K=v", -> 12345, : a number among strings */
        r = parse_validate(doc, strlen(doc), &msg);
        ok(r < 0 && strstr(msg, "/process/env/") != NULL, "a number in env is named: %s", msg);
        free(doc);
}

static void test_size_and_bytes(void)
{
        const char *msg;
        size_t n = SILO_SPEC_MAX_SIZE + 1;
        char *big = malloc(n);
        int r;

        if (big == NULL)
                abort();
        /* a valid-looking prefix, then a huge string: refused on size, before parsing */
        memset(big, 'x', n);
        memcpy(big, "{\"ociVersion\": \"", 16);
        r = parse_validate(big, n, &msg);
        ok(r < 0 && strstr(msg, "config.json") != NULL, "config.json over the size limit refused: %s", msg);
        free(big);

        static const char nul[] = "{\"ociVersion\": \"1.0.2\\u0000\"}";
        r = parse_validate(nul, sizeof(nul) - 1, &msg);
        ok(r < 0 && msg[0] != '\0', "\\u0000 in a string refused: %s", msg);

        static const char embedded[] = "{\"ociVersion\": \"1.0.2\"}\0{\"x\": 1}";
        r = parse_validate(embedded, sizeof(embedded) - 1, &msg);
        ok(r < 0 && msg[0] != '\0', "a NUL byte after the document refused: %s", msg);

        r = parse_validate("", 0, &msg);
        ok(r < 0 && msg[0] != '\0', "empty config.json refused: %s", msg);
}

static void test_ids(void)
{
        char id[2048];

        memset(id, 'a', 1024);
        id[1024] = '\0';
        ok(silo_id_valid(id), "id: 1024 characters accepted");
        id[1024] = 'a';
        id[1025] = '\0';
        ok(!silo_id_valid(id), "id: 1025 characters refused");
        ok(!silo_id_valid("a\nb"), "id: newline refused");
        ok(!silo_id_valid("a\tb"), "id: tab refused");
        ok(!silo_id_valid("\xc3\xa9"), "id: non-ASCII refused");
        ok(!silo_id_valid("a/b") && !silo_id_valid("../a") && !silo_id_valid(".."), "id: path shapes refused");
        ok(!silo_id_valid("a:b") && !silo_id_valid("a@b") && !silo_id_valid("a*"), "id: punctuation refused");
        ok(!silo_id_valid(NULL) && !silo_id_valid(""), "id: NULL and empty refused");
}

int main(void)
{
        silo_error_t err = NULL;

        /* warnings about ignored fields are not what is tested here */
        if (silo_log_init("/dev/null", "text", false, &err) < 0)
                return 1;
        test_nesting();
        test_counts();
        test_size_and_bytes();
        test_ids();
        return done();
}
