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
 *        2026-12-02: offloads and AQM (issue 8). struct sn_pkt: csum_start
 *        and csum_offset where `reserved` was, time_ns appended (72 bytes);
 *        SN_PKT_F_GSO defined (a super-packet from the TUN device) and
 *        joined by SN_PKT_F_CSUM (partial checksum) and SN_PKT_F_RUN (a
 *        run of entries for the kernel's segmentation), with the
 *        SN_GSO_* limits and SN_PKT_BIG_ROOM (subnetra/packet.h,
 *        "Offloads"). recv_batch and tun_read_batch take struct sn_pkt **
 *        (the backend may reorder the lent entries); recv_batch may keep
 *        datagrams for the next call, which the host then makes.
 *        sn_tun_config.offload (out, where reserved2 was) with
 *        SN_TUN_OFFLOAD_RX/TX, so tun_open takes a non-const config. send_batch and tun_write_batch: a backend
 *        counts the taken packets it fails itself, the host counts the
 *        rest. Counters tun_rx_gso, tun_tx_gso, rx_gro, tx_gso,
 *        aqm_marked; drop reason aqm.
 *        2026-12-02: drop reason epoch_limit after auth_fail (a peer's new
 *        epochs are tried at most once per 100 ms); the reasons after it
 *        move up by one.
 *        2026-12-02: struct sn_pkt: `local` appended (the local underlay
 *        address a datagram came to, and the one to send from; IP_PKTINFO
 *        in raw_direct) with a `reserved` word after it (96 bytes);
 *        packet.h, "Local addresses".
 *        2026-12-02: plugin counters, log level and room sizes (issue
 *        10). sn_host_api: counter_register and counter_add (counters a
 *        plugin names and describes at create, shown under its name in
 *        status, JSON and metrics; SN_PLUGIN_COUNTERS_MAX,
 *        SN_COUNTER_NAME_MAX, SN_COUNTER_HELP_MAX), log_enabled, room_set
 *        (headroom, tailroom and overhead declared at create, replacing
 *        the descriptor's); 128 bytes. SN_ROOM_MAX (1024) bounds each room
 *        size; the host refuses a plugin above it, naming it.
 *        SN_BATCH (64, subnetra/packet.h) exported; SN_PKT_F_KEEPALIVE
 *        removed (the host never set it; bit 0x0001 stays free);
 *        sn_pkt.user is 0 on every packet from the pool and never read by
 *        the host; SN_PLUGIN_DESC_INIT and SN_PLUGIN_ENTRY (plugin.h);
 *        subnetra/options.h (option parsing, header only);
 *        sn_plugin_entry_v1 declared in plugin.h; sn_counter_name_ok and
 *        sn_counter_help_ok (host.h); the mock host (share/subnetra/sdk/mock).
 *        2026-12-02: composition (issue 10). SN_EGRESS_F_LAYER and the
 *        egress operations attach (struct sn_egress_lower: the egress
 *        below, its summed headroom and overhead, datagram_max),
 *        and lower_deliver appended to sn_egress_ops (a layer's counters are
 *        plugin counters, counter_register);
 *        SN_EGRESS_MAX_LAYERS and sn_egress_mark_runs()
 *        in subnetra/egress.h. host_api.deliver now reaches the receive
 *        path (held while the host is inside the egress), and below the
 *        top of a stack the layer above; open() gets rcvbuf and sndbuf.
 *        2026-12-02: sn_errf() (plugin.h, header only): the printf into
 *        an err buffer that every plugin wrote for itself.
 */
#ifndef SUBNETRA_VERSION_H
#define SUBNETRA_VERSION_H

#define SN_ABI_MAJOR 1
#define SN_ABI_MINOR 0

#define SN_VERSION_STRING "0.1.0"

#endif
