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
 *   1.0  first release: descriptor, host API, packet/batch, egress, crypto,
 *        os operation tables. Before the release, os drop_privileges
 *        changed from (user, err, err_len) to one struct sn_priv_args
 *        (user, SN_PRIV_* flags, err), so the host says whether the
 *        backend keeps the right to change routes.
 */
#ifndef SUBNETRA_VERSION_H
#define SUBNETRA_VERSION_H

#define SN_ABI_MAJOR 1
#define SN_ABI_MINOR 0

#define SN_VERSION_STRING "0.1.0"

#endif
