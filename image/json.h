/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small JSON helpers for image metadata: string escaping into a silo_buf and yajl_tree access. */
#ifndef SILO_IMAGE_JSON_H
#define SILO_IMAGE_JSON_H
#include <yajl/yajl_tree.h>
#include "../runtime/util.h"

void silo_json_str(struct silo_buf *b, const char *s); /* "..." with escapes */
/* yajl_tree_get with a varargs-free path of one or two keys */
yajl_val silo_json_get(yajl_val v, const char *k1, const char *k2, yajl_type t);
const char *silo_json_string(yajl_val v, const char *k1, const char *k2);
/* parse with size cap; errors name `what` */
int silo_json_parse(const char *what, const char *buf, yajl_val *ret, silo_error_t *err);
#endif
