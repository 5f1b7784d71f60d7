/* SPDX-License-Identifier: MIT */
/*
 * subnetra/host.h: the services the host (subnetrad) offers to plugins.
 *
 * Plugins link nothing from the daemon and see no libuv type: everything
 * they need from the host comes through this table, which the host passes
 * to create() together with an opaque struct sn_host handle. Both stay
 * valid until destroy() returns.
 *
 * Every function here must be called from the loop thread only (the daemon
 * is single-threaded). None of them blocks.
 */
#ifndef SUBNETRA_HOST_H
#define SUBNETRA_HOST_H

#include <stdint.h>
#include "subnetra/packet.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sn_host;  /* opaque: the daemon's side */
struct sn_timer; /* opaque: a host timer */

/* Plugin-defined counters (counter_register). */
#define SN_PLUGIN_COUNTERS_MAX 16 /* counters one plugin may register */
#define SN_COUNTER_NAME_MAX 32    /* bytes of a counter name, NUL not included */
#define SN_COUNTER_HELP_MAX 160   /* bytes of its help text, NUL not included */

enum sn_log_level {
	SN_LOG_ERROR = 0,
	SN_LOG_WARN = 1,
	SN_LOG_INFO = 2,
	SN_LOG_DEBUG = 3
};

/* Timer callback: arg is what timer_new was given. */
typedef void (*sn_timer_cb)(void *arg);

struct sn_host_api {
	uint32_t abi_major;   /* SN_ABI_MAJOR of the host */
	uint32_t abi_minor;   /* SN_ABI_MINOR of the host */
	uint32_t struct_size; /* sizeof(struct sn_host_api) in the host */
	uint32_t reserved;

	/* Log a message (printf format, no trailing newline needed). Messages
	 * at the same call site are rate-limited by the host. The host adds
	 * its own prefix and the level (core/log.h: "subnetrad: warning: "),
	 * not the plugin's name: start the message with it ("raw_direct:
	 * ..."). Messages above the daemon's log level are dropped; ask
	 * log_enabled() before building an expensive one. */
	void (*log)(struct sn_host *h, int level, const char *fmt, ...)
#if defined(__GNUC__)
		__attribute__((format(printf, 3, 4)))
#endif
		;

	/* Monotonic clock in nanoseconds. */
	uint64_t (*now_ns)(struct sn_host *h);

	/* Take a free packet from the pool: off = the stack's headroom, len = 0.
	 * Returns NULL when the pool is empty (count SN_CTR_DROP_NO_BUFFER).
	 * The caller owns the packet until it hands it on or releases it. */
	struct sn_pkt *(*pkt_alloc)(struct sn_host *h);

	/* Return a packet the caller owns to the pool. */
	void (*pkt_release)(struct sn_host *h, struct sn_pkt *p);

	/* Add n to node-wide counter id (enum sn_counter). peer_id 0 counts for
	 * the node only; otherwise the peer's counter moves too. */
	void (*count)(struct sn_host *h, uint32_t id, uint32_t peer_id, uint64_t n);

	/* Timers run on the loop thread. timer_new allocates (control path
	 * only, never per packet) and returns NULL on failure (also when the
	 * host has no loop: --check, tests); it works from create() on.
	 * timer_free may be called from the timer's own callback, and must be
	 * called for every timer by destroy() at the latest (the host stops
	 * them all before that). Times are milliseconds; repeat 0 means
	 * one-shot. */
	struct sn_timer *(*timer_new)(struct sn_host *h, sn_timer_cb cb, void *arg);
	int (*timer_start)(struct sn_host *h, struct sn_timer *t, uint64_t timeout_ms,
			   uint64_t repeat_ms);
	void (*timer_stop)(struct sn_host *h, struct sn_timer *t);
	void (*timer_free)(struct sn_host *h, struct sn_timer *t);

	/* For egress plugins that produce received datagrams outside
	 * recv_batch (from a timer, after reassembly or repair): hand n
	 * datagrams to the host's receive path. The host takes all n packets
	 * (it owns them after the call) and returns n, or a negative errno
	 * before taking any. */
	int (*deliver)(struct sn_host *h, struct sn_pkt *const *pkts, uint32_t n);

	/* Register a counter of this plugin, from create() only (-EPERM
	 * later): name is 1..SN_COUNTER_NAME_MAX bytes of [a-z0-9_] starting
	 * with a letter, unique in the plugin (-EEXIST), help one line of
	 * 1..SN_COUNTER_HELP_MAX printable ASCII bytes without '\\' or '"'
	 * (-EINVAL otherwise); the host copies both. Returns the counter's
	 * index (>= 0) for counter_add, or -ENOSPC past
	 * SN_PLUGIN_COUNTERS_MAX (or when the host's table is full). The
	 * counter starts at 0, is node-wide (no per-peer figure) and shows
	 * under the plugin's name in `subnetra status` ("plugin NAME: ..."),
	 * `subnetra --json status` ("plugins": {NAME: {counter: value}}) and
	 * `subnetra metrics` (subnetra_plugin_NAME_COUNTER_total with help as
	 * its HELP); see docs/control.md. It lives until the plugin is
	 * destroyed. */
	int (*counter_register)(struct sn_host *h, const char *name, const char *help);

	/* Add n to the counter at index (from counter_register). For the
	 * packet path: no allocation, no lock, no check beyond the bounds of
	 * the host's table (a wrong index is ignored). */
	void (*counter_add)(struct sn_host *h, uint32_t index, uint64_t n);

	/* 1 when a message at level (enum sn_log_level) would be logged,
	 * else 0. */
	int (*log_enabled)(struct sn_host *h, int level);

	/* Declare the plugin's room sizes (subnetra/packet.h defines them),
	 * from create() only, when they depend on the options: they replace
	 * the descriptor's headroom, tailroom and overhead. 0, -EPERM outside
	 * create(), -EINVAL when one is above SN_ROOM_MAX: the host then
	 * refuses the plugin after create() returns, with an error naming it
	 * and the size, whatever create() returns. */
	int (*room_set)(struct sn_host *h, uint32_t headroom, uint32_t tailroom,
			uint32_t overhead);
};

/* The rules of counter_register: a name of 1..SN_COUNTER_NAME_MAX bytes
 * of [a-z0-9_] starting with a letter; a help text of 1..SN_COUNTER_HELP_MAX
 * printable ASCII bytes without '\\' or '"'. */
static inline int sn_counter_name_ok(const char *s)
{
	uint32_t i;

	if (!s || !(*s >= 'a' && *s <= 'z'))
		return 0;
	for (i = 0; s[i]; i++)
		if (i == SN_COUNTER_NAME_MAX ||
		    !((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

static inline int sn_counter_help_ok(const char *s)
{
	uint32_t i;

	if (!s || !*s)
		return 0;
	for (i = 0; s[i]; i++)
		if (i == SN_COUNTER_HELP_MAX || s[i] < 0x20 || s[i] > 0x7e || s[i] == '\\' ||
		    s[i] == '"')
			return 0;
	return 1;
}

#ifdef __cplusplus
}
#endif
#endif
