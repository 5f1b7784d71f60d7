/* SPDX-License-Identifier: MIT */
/*
 * subnetra/version.h: the plugin ABI version.
 *
 * The host accepts a plugin whose abi_major equals SN_ABI_MAJOR and whose
 * abi_minor is <= SN_ABI_MINOR. Minors only append fields to structs and
 * operations to tables; a major bump is a new entry symbol
 * (sn_plugin_entry_v2) that can ship beside the old one.
 *
 * Changelog of minors:
 *   1.0  not released yet: it is frozen at the first release and until then
 *        changes in place, each change listed here.
 *        Descriptor, host API, packet/batch, egress, crypto, os operation
 *        tables.
 *        2026-12-01: os drop_privileges takes one struct sn_priv_args (user,
 *        SN_PRIV_* flags, err) instead of (user, err, err_len), so the host
 *        says whether the backend keeps the right to change routes.
 *        2026-12-01: counters challenge_rx, challenge_tx, response_rx,
 *        response_tx and drop reasons unverified, bad_response (protocol
 *        revision 2); counter ids renumbered so traffic counters and drop
 *        reasons each stay in one group.
 *        2026-12-08: drop reason epoch_limit after auth_fail (a peer's new
 *        epochs are tried at most once per 100 ms); the reasons after it
 *        move up by one.
 */
#ifndef SUBNETRA_VERSION_H
#define SUBNETRA_VERSION_H

#define SN_ABI_MAJOR 1
#define SN_ABI_MINOR 0

#define SN_VERSION_STRING "0.1.0"

#endif
