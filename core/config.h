/* SPDX-License-Identifier: MIT */
/*
 * core/config.h: the node configuration, loaded from YAML (libyaml) or, for
 * a name ending in .json, strict JSON (config_json.c), and checked against
 * every rule of docs/configuration.md.
 *
 * Everything a loaded config points to lives in its arena and is freed by
 * sn_config_free(). "Unset" is kept apart from "set to zero" with the
 * SN_CONF_HAS_* bits (STYLE rule 19); after a successful load, defaults are
 * filled in and the bits say what the file itself set.
 */
#ifndef SN_CONFIG_H
#define SN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "build_config.h"
#include "subnetra/packet.h"

#define SN_CONF_DEFAULT_MTU 1420
#define SN_CONF_DEFAULT_KEEPALIVE 25
/* node.slice_us: the packet thread's time slice asked of the kernel
 * (core/sched.c); 0 = the kernel's own, else SN_CONF_SLICE_MIN_US.. */
#define SN_CONF_DEFAULT_SLICE_US 100
#define SN_CONF_SLICE_MIN_US 100
#define SN_CONF_SLICE_MAX_US 100000
/* node.rt_priority: the packet thread's SCHED_FIFO priority (core/sched.c);
 * 0 = SCHED_OTHER as started */
#define SN_CONF_RT_PRIORITY_MAX 99
#define SN_CONF_DEFAULT_PORT 51820
/* Per platform (docs/configuration.md): macOS names utun devices itself
 * ("utun": the first free unit), its system volume is read-only and has no
 * /run, and its daemons keep state under /var/db; /var/run is emptied at
 * boot like /run. */
#ifdef __APPLE__
#define SN_CONF_DEFAULT_IFNAME "utun"
#define SN_CONF_DEFAULT_STATE_DIR "/var/db/subnetra"
#define SN_CONF_DEFAULT_SOCKET "/var/run/subnetra/subnetra.sock"
#define SN_CONF_DEFAULT_OS "darwin"
#else
#define SN_CONF_DEFAULT_IFNAME "subnetra0"
#define SN_CONF_DEFAULT_STATE_DIR "/var/lib/subnetra"
#define SN_CONF_DEFAULT_SOCKET "/run/subnetra/subnetra.sock"
#define SN_CONF_DEFAULT_OS "linux"
#endif
/* plugins.crypto unset: crypto_openssl where it is built (SN_DEFAULT_CRYPTO,
 * top-level CMakeLists.txt), falling back to crypto_chacha at load time
 * when it cannot be loaded (core/reactor.c); set, no fallback. */
#define SN_CONF_DEFAULT_CRYPTO SN_DEFAULT_CRYPTO
#define SN_CONF_FALLBACK_CRYPTO "chacha"
#define SN_CONF_DEFAULT_EGRESS "raw_direct"

enum sn_role { SN_ROLE_HUB = 1, SN_ROLE_SPOKE = 2 };

enum sn_action { SN_ACT_LOCAL = 1, SN_ACT_FORWARD = 2, SN_ACT_DROP = 3 };

/* Where a value stood in the file, for errors found after parsing. */
struct sn_conf_loc {
	uint32_t line;   /* 1-based; 0 = unknown */
	uint32_t column; /* 1-based */
	const char *file; /* the file it is in when not the config itself
			   * (a peers_dir file); NULL = the config */
};

/* sn_conf_peer.has */
#define SN_PEER_HAS_ENDPOINT 0x01u
#define SN_PEER_HAS_ADDRESS 0x02u
#define SN_PEER_HAS_PSK 0x04u     /* psk read from psk_file (only when key files are checked) */
#define SN_PEER_HAS_NAME 0x08u

struct sn_conf_peer {
	uint32_t has;                  /* SN_PEER_HAS_* */
	uint32_t id;                   /* node id, 1..0xFFFFFFFE */
	const char *name;              /* label for status; "peer-<id>" when unset */
	uint8_t public_key[32];
	uint8_t psk[32];               /* valid with SN_PEER_HAS_PSK */
	const char *endpoint_text;     /* as written ("host:port"), for messages */
	struct sn_addr endpoint;       /* resolved at load; family NONE when unset */
	uint32_t address;              /* overlay address, host order (SN_PEER_HAS_ADDRESS) */
	struct sn_prefix *routes;      /* prefixes routed to this peer (LANs behind it) */
	uint32_t n_routes;
	struct sn_conf_loc loc;        /* where the peer's entry starts */
	const char *key_path;          /* "peers[1]" or "hub", or the peers_dir file's
					* path, for messages */
	const char *file;              /* the peers_dir file it came from; NULL when the
					* config itself holds it (its keys are then named
					* KEY alone in messages, not key_path.KEY) */
	const char *psk_file;          /* resolved path of psk_file; NULL when unset */
};

struct sn_conf_rule {
	struct sn_prefix prefix;
	enum sn_action action; /* SN_ACT_FORWARD or SN_ACT_DROP (LOCAL comes from node config) */
	uint32_t peer_id;      /* with SN_ACT_FORWARD */
	struct sn_conf_loc loc;
};

/* One plugin's option list (plugins.options.<plugin name>). */
struct sn_conf_plugin_opts {
	const char *plugin;         /* plugin name, e.g. "raw_direct" (the name the
				     * plugin declares, also for one chosen by path) */
	struct sn_conf_loc loc;     /* where the name stands */
	const char **keys;          /* n entries */
	const char **values;        /* n entries; scalars as written */
	uint32_t n;
};

#define SN_CONF_PLUGIN_PATH_MAX 500 /* bytes of a plugin chosen by path */

/* sn_config.has */
#define SN_CONF_HAS_LISTEN 0x0001u
#define SN_CONF_HAS_MTU 0x0002u
#define SN_CONF_HAS_KEEPALIVE 0x0004u
#define SN_CONF_HAS_IFNAME 0x0008u
#define SN_CONF_HAS_STATE_DIR 0x0010u
#define SN_CONF_HAS_SOCKET 0x0020u
#define SN_CONF_HAS_GROUP 0x0040u
#define SN_CONF_HAS_PLUGIN_DIR 0x0080u
#define SN_CONF_HAS_USER 0x0100u
#define SN_CONF_HAS_METRICS 0x0200u
#define SN_CONF_HAS_CRYPTO 0x0400u   /* plugins.crypto given: no fallback */
#define SN_CONF_HAS_AQM 0x0800u
#define SN_CONF_HAS_SLICE 0x1000u

struct sn_config {
	struct sn_arena arena;     /* owns everything below */
	const char *path;          /* the file it was loaded from */
	uint32_t has;              /* SN_CONF_HAS_* */

	/* node */
	uint32_t node_id;
	enum sn_role role;
	const char *private_key_file;
	uint8_t private_key[32];   /* read from private_key_file at load */
	struct sn_addr listen;     /* family NONE + port 0 = any (spoke default) */
	const char *state_dir;
	const char *user;          /* drop root to this user after setup; NULL = stay */
	uint32_t slice_us;         /* the packet thread's time slice, 0 = the kernel's */
	uint32_t rt_priority;      /* the packet thread's SCHED_FIFO priority, 0 = none */

	/* overlay */
	struct sn_prefix subnet;
	uint32_t address;          /* this node's overlay address, host order */
	uint32_t mtu;              /* 576..9000 (SN_CONF_HAS_MTU; else the default) */
	struct sn_conf_loc mtu_at; /* where it stands (line 0: not set) */
	const char *ifname;
	bool manage_routes;        /* add/remove routes at start/exit (default true) */
	struct sn_prefix *lans;    /* this node's own LAN prefixes (LOCAL) */
	uint32_t n_lans;

	/* plugins */
	const char *plugin_dir;    /* NULL = the built-in install location */
	const char *os;            /* plugin names, or (with a '/') resolved paths of .so files */
	const char *crypto;
	const char *egress;
	struct sn_conf_loc os_at, crypto_at, egress_at; /* where they stand (line 0: default) */
	struct sn_conf_plugin_opts *plugin_opts;
	uint32_t n_plugin_opts;

	/* peers: every spoke on a hub (peers: first, then peers_dir's files in
	 * name order); exactly the hub on a spoke */
	struct sn_conf_peer *peers;
	uint32_t n_peers;
	uint32_t *by_id;           /* indexes into peers, sorted by id (sn_config_peer) */
	const char *peers_dir;     /* resolved peers_dir; NULL when unset */

	uint32_t keepalive;        /* seconds, 0 = off */

	/* aqm: CoDel on what arrives from the underlay (core/aqm.h) */
	bool aqm_on;               /* default true */
	uint32_t aqm_target_us;    /* default 5000 */
	uint32_t aqm_interval_us;  /* default 100000, > target */

	struct sn_conf_rule *rules; /* explicit policy rules, in file order */
	uint32_t n_rules;

	/* control socket */
	const char *control_socket;
	const char *control_group; /* NULL = root only */

	/* metrics over HTTP (SN_CONF_HAS_METRICS): where GET /metrics is
	 * served; family NONE when there is no metrics section */
	struct sn_addr metrics_listen;
};

/*
 * Load and check path. On success returns 0 and *out (free it with
 * sn_config_free). On failure returns a negative errno and writes one line
 * to err in the form "FILE:LINE:COL: KEY.PATH: what is wrong (what would be
 * right)". The file itself, and the key and PSK files it names, are refused
 * (-EPERM) when anyone but root or the daemon's user could change them
 * (core/fileperm.h; a key may also belong to node.user). Blocking file I/O,
 * user and name lookups: call before the loop runs.
 */
int sn_config_load(const char *path, struct sn_config **out, char *err, size_t err_len);

/*
 * Reload (SIGHUP, `subnetra reload`): load path as sn_config_load does, but
 * take the private key from running, the config the node runs with, instead
 * of reading node.private_key_file: that file was read at start, as root,
 * and after the drop to node.user it is unreadable. A changed
 * private_key_file loads; sn_node_reload refuses it (a restart applies it).
 * PSK files are read again and must be readable by node.user (the error
 * says so). node.user is not looked up again (a reload cannot change it).
 */
int sn_config_reload(const char *path, const struct sn_config *running, struct sn_config **out,
		     char *err, size_t err_len);

/* Same from a buffer (tests, fuzzing); name is used in messages and its
 * directory anchors relative paths. Skips the private key file, PSK files
 * and the node.user lookup when check_key_file is false (private_key is
 * zeroed, no SN_PEER_HAS_PSK). */
int sn_config_load_buffer(const char *name, const char *buf, size_t len, bool check_key_file,
			  struct sn_config **out, char *err, size_t err_len);

/* For the subnetra tool: path parsed (YAML or JSON syntax is checked) but
 * only control.socket taken from it, resolved against the file's
 * directory; nothing else is checked, read or looked up (no key file, no
 * name resolution), so the tool works for a control-group member and
 * during a DNS outage. Every other field of *out is zero. */
int sn_config_load_socket(const char *path, struct sn_config **out, char *err, size_t err_len);

void sn_config_free(struct sn_config *c);

/* The peer with this id, or NULL (a binary search: O(log n)). */
const struct sn_conf_peer *sn_config_peer(const struct sn_config *c, uint32_t id);

/* The options of plugin name, or NULL. */
const struct sn_conf_plugin_opts *sn_config_plugin_opts(const struct sn_config *c,
							const char *name);

/* Parse "a.b.c.d/len" strictly (host bits are an error). 0 or -EINVAL with
 * a reason in err ("has host bits set (did you mean 192.168.1.0/24?)"). */
int sn_prefix_parse(const char *s, struct sn_prefix *out, char *err, size_t err_len);
/* Format a prefix into buf (at least 19 bytes). */
const char *sn_prefix_str(const struct sn_prefix *p, char *buf, size_t len);
/* Parse a dotted IPv4 address (host order). 0 or -EINVAL. */
int sn_ipv4_parse(const char *s, uint32_t *out);

#endif
