/* SPDX-License-Identifier: MIT */
/*
 * tests/support/tmpfiles.h: files on disk for the tests that load configs
 * from a private directory (test_config.c, test_config_peers_dir.c). Each
 * call asserts (cmocka) that it worked.
 */
#ifndef SN_TEST_TMPFILES_H
#define SN_TEST_TMPFILES_H

#include <stddef.h>
#include <sys/types.h>

/* path's bytes, at most len - 1 of them, NUL-terminated into buf. */
void tf_read(const char *path, char *buf, size_t len);
/* path created or truncated, text written, then chmod to mode (so that
 * the umask does not decide). */
void tf_write(const char *path, const char *text, mode_t mode);
/* from's text (up to 64 KiB) written to to with mode. */
void tf_copy(const char *from, const char *to, mode_t mode);
/* A fresh directory made from tmpl (ending in XXXXXX, rewritten in place),
 * chmod to mode, with a subdirectory keys/ (0700). */
void tf_dir(char *tmpl, mode_t mode);
/* dir/keys/name: a copy of the source tree's conf/keys/name, 0600. */
void tf_key(const char *dir, const char *name);
/* dir and everything below it removed. */
void tf_rmtree(const char *dir);

#endif
