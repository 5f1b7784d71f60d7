/* SPDX-License-Identifier: MIT */
/*
 * core/config_priv.h: internals shared by the config loader's files
 * (config.c: sections, config_tree.c: the YAML tree and typed getters,
 * config_json.c: the JSON tree, config_check.c: cross checks and key
 * files). Not for other modules.
 *
 * The loader first turns the whole file into a small tree (struct sn__cn)
 * that remembers the line and column of every node, then walks it with
 * per-section key tables, then runs the checks that need the whole config.
 */
#ifndef SN_CONFIG_PRIV_H
#define SN_CONFIG_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "config.h"
#include "fileperm.h"

enum sn__cn_kind { SN__CN_SCALAR = 1, SN__CN_SEQ = 2, SN__CN_MAP = 3 };

/* One YAML or JSON node. A mapping's children are its key nodes (scalars), each
 * pointing to its value; a sequence's children are its items. */
struct sn__cn {
	enum sn__cn_kind kind;
	bool plain;                /* scalar written without quotes */
	uint32_t line, col;        /* 1-based start */
	const char *file;          /* a peers_dir file; NULL: the config itself */
	const char *s;             /* scalar text, NUL-terminated */
	size_t len;
	struct sn__cn *first;      /* first item or key */
	struct sn__cn *next;       /* next sibling */
	struct sn__cn *val;        /* on a key: its value */
	uint32_t n;                /* number of items or keys */
};

/* Where an assigned prefix came from, for overlap messages. */
enum sn__asg_kind { SN__ASG_LAN = 1, SN__ASG_ROUTE = 2 };

struct sn__asg {
	struct sn__asg *next;
	struct sn_prefix p;
	enum sn__asg_kind kind;
	uint32_t owner;            /* 0 = this node, i + 1 = peers[i] */
	const char *path;          /* "peers[1].routes[0]" ("routes[0]" in a peers_dir file) */
	const char *ref;           /* how another value's message names it: path, or
				    * "routes[0] in FILE" for a peers_dir file */
	struct sn_conf_loc loc;
};

/* Where each peer's values stood (peer_at[i] goes with c->peers[i]). */
struct sn__peer_at {
	const struct sn__cn *id, *address, *public_key, *psk_file;
};

/* Loader state for one load. */
struct sn__ld {
	struct sn_config *c;
	const char *name;          /* file name as given, for messages */
	const char *dir;           /* absolute directory of the file */
	bool check_keys;           /* read key files, look up node.user */
	const struct sn_config *running; /* reload: the key comes from here (see sn_config_reload) */
	char *err;
	size_t err_len;
	bool failed;               /* err holds the first error */
	struct sn_arena tmp;       /* the tree and scratch, freed after the load */
	struct sn__cn *root;
	char path[256];            /* key path of the value being read */
	size_t plen;
	struct sn__asg *asg, **asg_tail;
	uint32_t n_asg;
	/* where the cross checks point to */
	const struct sn__cn *at_node, *at_id, *at_listen, *at_subnet, *at_address;
	const struct sn__cn *at_key_file, *at_user, *at_ifname;
	struct sn__peer_at *peer_at;
	struct sn_owners key_owners; /* who may own key and PSK files */
};

/* A key a section accepts. */
struct sn__field {
	const char *key;
	int (*fn)(struct sn__ld *ld, const struct sn__cn *v, void *obj);
	bool required;
	const char *hint;          /* added to "missing required key" */
};

#define SN__CONF_MAX_DEPTH 16
/* Bounds that fit 100,000 peers of ~600 bytes each, in peers: or in
 * peers_dir (docs/configuration.md, "Limits"). */
#define SN__CONF_MAX_SIZE (64u << 20)      /* the config file */
#define SN__CONF_PEER_FILE_MAX (64u << 10) /* one peers_dir file */
#define SN__CONF_PEERS_DIR_MAX (64u << 20) /* all peers_dir files together */

/* config_tree.c: the tree of buf at *root, read as JSON when its name (file,
 * else ld->name) ends in ".json" (any case), else as YAML; file names the
 * peers_dir file it came from (NULL: the config itself) in every node and
 * message. */
int sn__conf_parse(struct sn__ld *ld, const char *file, const char *buf, size_t len,
		   struct sn__cn **root);
int sn__conf_fail(struct sn__ld *ld, const struct sn__cn *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int sn__conf_fail_at(struct sn__ld *ld, int rc, const char *path, struct sn_conf_loc loc,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
size_t sn__conf_path_key(struct sn__ld *ld, const char *key);
size_t sn__conf_path_idx(struct sn__ld *ld, uint32_t i);
void sn__conf_path_pop(struct sn__ld *ld, size_t mark);
int sn__conf_map(struct sn__ld *ld, const struct sn__cn *m, const struct sn__field *f,
		 size_t n, void *obj);
const struct sn__cn *sn__conf_key(const struct sn__cn *m, const char *key);
const struct sn__cn *sn__conf_get(const struct sn__cn *m, const char *key);
int sn__conf_keys(struct sn__ld *ld, const struct sn__cn *m, const char *what);
int sn__conf_seq(struct sn__ld *ld, const struct sn__cn *v, const char *what);
int sn__conf_scalar(struct sn__ld *ld, const struct sn__cn *v, const char *what);
int sn__conf_u32(struct sn__ld *ld, const struct sn__cn *v, uint32_t min, uint32_t max,
		 uint32_t *out);
int sn__conf_bool(struct sn__ld *ld, const struct sn__cn *v, bool *out);
int sn__conf_str(struct sn__ld *ld, const struct sn__cn *v, const char *what,
		 const char **out);
int sn__conf_prefix(struct sn__ld *ld, const struct sn__cn *v, struct sn_prefix *out);
int sn__conf_ipv4(struct sn__ld *ld, const struct sn__cn *v, uint32_t *out);
int sn__conf_port(const char *s, uint32_t min, uint16_t *out);
int sn__conf_path(struct sn__ld *ld, const struct sn__cn *v, const char **out);
int sn__conf_name(struct sn__ld *ld, const struct sn__cn *v, const char *what, const char **out);
struct sn_conf_loc sn__conf_loc(const struct sn__cn *v);
/* A message that names its file already (fileperm.h's), as it is. */
int sn__conf_fail_raw(struct sn__ld *ld, int rc, const char *msg);
int sn__conf_oom(struct sn__ld *ld);

/* config_json.c: strict JSON (RFC 8259) into the same tree at *root (file
 * as for sn__conf_parse); whitespace only leaves *root NULL */
int sn__conf_parse_json(struct sn__ld *ld, const char *file, const char *buf, size_t len,
			struct sn__cn **root);

/* config_check.c */
int sn__conf_check(struct sn__ld *ld);
int sn__conf_add_asg(struct sn__ld *ld, const struct sn__cn *v, const struct sn_prefix *p,
		     enum sn__asg_kind kind, uint32_t owner);
int sn__conf_endpoint(struct sn__ld *ld, const struct sn__cn *v, struct sn_addr *out);
int sn__conf_prefixes(struct sn__ld *ld, const struct sn__cn *v, struct sn_prefix **out,
		      uint32_t *n, enum sn__asg_kind kind, uint32_t owner);
int sn__conf_key_file(struct sn__ld *ld, const char *file, const char *key_path,
		      const struct sn__cn *at, const char *tool, uint8_t key[static 32]);

/* config_aqm.c: the aqm section, defaults included. */
int sn__conf_aqm(struct sn__ld *ld);

/* config_peer.c */
int sn__conf_peers(struct sn__ld *ld);
int sn__conf_policy(struct sn__ld *ld, const struct sn__cn *v);
/* One peer mapping m into c->peers[i] with the keys of a hub's peers:
 * entries (key_path and file already set by the caller). */
int sn__conf_spoke(struct sn__ld *ld, const struct sn__cn *m, uint32_t i);

/* config_peers_dir.c: peers_dir's files, sorted by name. *n files of at
 * most SN__CONF_PEER_FILE_MAX bytes each read and parsed into roots[]
 * (mappings, in ld->tmp) and names[] (their paths, in the config's arena:
 * the trees' nodes and the peers' locations point to them). */
int sn__conf_peers_dir(struct sn__ld *ld, const struct sn__cn *v, struct sn__cn ***roots,
		       const char ***names, uint32_t *n);

/* config.c: read a whole file of at most max bytes (-EFBIG when larger). */
int sn__conf_read_all(int fd, size_t max, char **out, size_t *len);

/* config_cross.c: the rules between peers, in O(n log n) (sort, then
 * neighbours): ids, overlay addresses, public keys, overlapping prefixes,
 * duplicate mapping keys; and c->by_id. */
int sn__conf_index_ids(struct sn__ld *ld);
int sn__conf_check_ids(struct sn__ld *ld);
int sn__conf_check_addresses(struct sn__ld *ld);
int sn__conf_check_overlaps(struct sn__ld *ld);
int sn__conf_check_public_keys(struct sn__ld *ld, const uint8_t *own);
/* first[i] (n entries, in ld->tmp): the smallest j with strcmp(keys[j],
 * keys[i]) == 0 (i itself when none before it). NULL when out of memory. */
uint32_t *sn__conf_first_strs(struct sn__ld *ld, const char *const *keys, uint32_t n);
const char *sn__conf_peer_path(char *buf, size_t len, const struct sn_conf_peer *p,
			       const char *key);
const char *sn__conf_peer_ref(char *buf, size_t len, const struct sn_conf_peer *p,
			      const char *key);

/* prefix.c */
const char *sn__ipv4_str(uint32_t a, char *buf, size_t len);
bool sn__prefix_overlap(const struct sn_prefix *a, const struct sn_prefix *b);
bool sn__prefix_has(const struct sn_prefix *p, uint32_t addr);

#endif
