/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"
#include <string.h>
#include "json.h"

void silo_json_str(struct silo_buf *b, const char *s)
{
        silo_buf_putc(b, '"');
        for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
                if (*p == '"' || *p == '\\') {
                        silo_buf_putc(b, '\\');
                        silo_buf_putc(b, (char)*p);
                } else if (*p < 0x20) {
                        silo_buf_printf(b, "\\u%04x", *p);
                } else
                        silo_buf_putc(b, (char)*p);
        }
        silo_buf_putc(b, '"');
}

yajl_val silo_json_get(yajl_val v, const char *k1, const char *k2, yajl_type t)
{
        const char *path[3] = {k1, k2, NULL};
        return v ? yajl_tree_get(v, path, t) : NULL;
}

const char *silo_json_string(yajl_val v, const char *k1, const char *k2)
{
        yajl_val s = silo_json_get(v, k1, k2, yajl_t_string);
        return s ? YAJL_GET_STRING(s) : NULL;
}

int silo_json_parse(const char *what, const char *buf, yajl_val *ret, silo_error_t *err)
{
        char ebuf[256];

        *ret = yajl_tree_parse(buf, ebuf, sizeof(ebuf));
        if (*ret == NULL) {
                ebuf[strcspn(ebuf, "\n")] = '\0';
                return silo_error_set(err, 0, "%s: invalid JSON: %s", what, ebuf);
        }
        if (!YAJL_IS_OBJECT(*ret) && !YAJL_IS_ARRAY(*ret)) {
                yajl_tree_free(*ret);
                *ret = NULL;
                return silo_error_set(err, 0, "%s: not a JSON object", what);
        }
        return 0;
}
