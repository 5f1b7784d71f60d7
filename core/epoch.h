/* SPDX-License-Identifier: MIT */
/*
 * core/epoch.h: the session epoch (wire-protocol.md section 4), persisted
 * durably in the state directory before the first datagram is sent.
 */
#ifndef SN_EPOCH_H
#define SN_EPOCH_H

#include <stddef.h>
#include <stdint.h>

/*
 * Pick epoch = max(now, last + 1, min_epoch), where last is read from DIR/epoch, and
 * persist it (write DIR/epoch.tmp, fsync, rename, fsync the directory).
 * Creates DIR (mode 0700) if missing. 0 and *out, or a negative errno with a
 * reason in err: a node that cannot persist its epoch must not start.
 */
int sn_epoch_next(const char *dir, uint64_t now, uint32_t min_epoch, uint32_t *out, char *err,
		  size_t err_len);

#endif
