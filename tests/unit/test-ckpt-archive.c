/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * checkpoint/archive.c's metadata: config.dump as silo_ckpt_config_json writes it for a container
 * (rootfsImageName, no sandbox) and for a VM snapshot ("sandbox":"vm", no image), parsed back
 * with yajl, and the byte form podman's readers have seen so far (field order, one line).
 *
 * Invariant: pure string functions, nothing on disk.
 */
#include "config.h"
#include <string.h>
#include "tap.h"
#include "checkpoint/archive.h"
#include "image/json.h"
#include "runtime/error.h"
#include "runtime/util.h"

int main(void)
{
        _cleanup_free_ char *c =
            silo_ckpt_config_json("c1", NULL, "/b \"q\"", "bb:1", "2026-01-02T03:04:05Z");
        _cleanup_free_ char *v = silo_ckpt_config_json("c2", "vm", "/b", NULL, "t0");
        silo_error_t err = NULL;
        yajl_val j = NULL;
        const char *pre =
            "{\"id\":\"c1\",\"name\":\"c1\",\"runtime\":\"silo\",\"runtimeVersion\":\"" SILO_VERSION
            "\",\"bundle\":\"/b \\\"q\\\"\",\"rootfsImageName\":\"bb:1\","
            "\"createdTime\":\"2026-01-02T03:04:05Z\",\"checkpointedTime\":\"";

        ok(strncmp(c, pre, strlen(pre)) == 0, "container: podman's names in order, strings escaped: %.*s",
           (int)strcspn(c, "\n"), c);
        ok(strchr(c, '\n') == c + strlen(c) - 1, "one line, newline-terminated");
        ok(silo_json_parse("config.dump", c, &j, &err) == 0, "container: parses%s%s", err ? ": " : "",
           err ? err->msg : "");
        if (j) {
                const char *t = silo_json_string(j, "checkpointedTime", NULL);
                ok(t && strlen(t) >= 20 && t[4] == '-' && t[10] == 'T', "checkpointedTime is RFC 3339: %s",
                   t ? t : "(none)");
                ok(silo_json_string(j, "sandbox", NULL) == NULL, "container: no sandbox field");
                yajl_tree_free(j);
                j = NULL;
        }
        silo_error_free(&err);
        ok(strstr(v, "\"runtimeVersion\":\"" SILO_VERSION "\",\"sandbox\":\"vm\",\"bundle\":\"/b\",") != NULL,
           "vm snapshot: sandbox after runtimeVersion: %.*s", (int)strcspn(v, "\n"), v);
        ok(strstr(v, "rootfsImageName") == NULL, "vm snapshot: no rootfsImageName");
        ok(silo_json_parse("config.dump", v, &j, &err) == 0, "vm snapshot: parses");
        if (j) {
                is_str(silo_json_string(j, "id", NULL), "c2", "vm snapshot: id");
                is_str(silo_json_string(j, "createdTime", NULL), "t0", "vm snapshot: createdTime");
                yajl_tree_free(j);
        }
        silo_error_free(&err);
        return done();
}
