/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libarchive and libcrypto through dlopen(): loading them at exec time costs every silo
 * invocation ~4 ms (18 shared objects), and only import/export need them.  Each function is
 * declared with the type of the real prototype (__typeof__), so the compiler still checks
 * every call.  Call silo_image_dl_load() before using SA()/SC().
 */
#ifndef SILO_IMAGE_DL_H
#define SILO_IMAGE_DL_H
#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

// clang-format off
#define SILO_ARCHIVE_FUNCS(X) \
	X(archive_read_new) X(archive_read_free) X(archive_read_support_filter_all) \
	X(archive_read_support_format_tar) X(archive_read_support_format_raw) \
	X(archive_read_support_format_empty) X(archive_read_open) X(archive_read_open_filename) \
	X(archive_read_next_header) X(archive_read_data) X(archive_read_data_block) X(archive_error_string) \
	X(archive_errno) X(archive_filter_count) X(archive_entry_pathname) X(archive_entry_hardlink) \
	X(archive_entry_symlink) X(archive_entry_filetype) X(archive_entry_mode) X(archive_entry_uid) \
	X(archive_entry_gid) X(archive_entry_size) X(archive_entry_mtime) X(archive_entry_mtime_nsec) \
	X(archive_entry_rdevmajor) X(archive_entry_rdevminor) X(archive_entry_xattr_reset) \
	X(archive_entry_xattr_next) X(archive_write_new) X(archive_write_free) \
	X(archive_write_set_format_pax) X(archive_write_open_fd) X(archive_write_header) \
	X(archive_write_data) X(archive_write_close) X(archive_entry_new) X(archive_entry_free) \
	X(archive_entry_set_pathname) X(archive_entry_set_size) X(archive_entry_set_filetype) \
	X(archive_entry_set_perm) X(archive_entry_set_uid) X(archive_entry_set_gid) \
	X(archive_entry_set_mtime) X(archive_entry_set_symlink) X(archive_entry_set_rdevmajor) \
	X(archive_entry_set_rdevminor) X(archive_entry_xattr_add_entry) X(archive_entry_set_hardlink) \
	X(archive_write_set_bytes_in_last_block)

#define SILO_CRYPTO_FUNCS(X) \
	X(EVP_MD_CTX_new) X(EVP_MD_CTX_free) X(EVP_DigestInit_ex) X(EVP_DigestUpdate) X(EVP_DigestFinal_ex) \
	X(EVP_sha256)

// clang-format on
#define SILO_DL_FIELD(f) __typeof__(f) *f;
struct silo_archive_api {
        SILO_ARCHIVE_FUNCS(SILO_DL_FIELD)
};
struct silo_crypto_api {
        SILO_CRYPTO_FUNCS(SILO_DL_FIELD)
};
extern struct silo_archive_api silo_archive_api;
extern struct silo_crypto_api silo_crypto_api;
#define SA(f) (silo_archive_api.f)
#define SC(f) (silo_crypto_api.f)
#endif
