/* SPDX-License-Identifier: MIT */
/*
 * core/onboard.h: growing a network with the subnetra tool (`subnetra init
 * hub`, `add-spoke`, `remove-spoke`; docs/onboarding.md).
 *
 * The hub's config is read with the daemon's own loader (sn_config_load),
 * so the tool sees exactly the ids, addresses and prefixes the daemon sees,
 * from `peers:` and from `peers_dir` alike. A spoke is added by writing one
 * file into peers_dir (the operator's hub config is never rewritten) and
 * asking a running hub to reload.
 *
 * Allocation (onboard.c) is pure: it reads a loaded config and decides.
 * The files are written by onboard_file.c (atomic, never over an existing
 * file), their text by onboard_text.c, the commands are onboard_init.c and
 * onboard_spoke.c.
 */
#ifndef SN_ONBOARD_H
#define SN_ONBOARD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

#define SN_ONBOARD_NAME_MAX 64   /* as a peer's name (docs/configuration.md) */
#define SN_ONBOARD_ENDPOINT_MAX 262 /* a DNS name (253), ':' and a port */
#define SN_ONBOARD_SPOKE_ROUTES_MAX 64

/*
 * What `init hub` remembers for `add-spoke` in comment lines of the hub
 * config ("# subnetra: KEY VALUE"; the daemon's loader never sees a
 * comment, so the file stays a valid config):
 *   name NAME            the hub's name in the spokes' configs
 *   endpoint HOST:PORT   where the spokes reach the hub
 *   spoke-route PREFIX   a prefix every spoke reaches through the hub
 *                        (e.g. the range the branch LANs come from)
 * and, in a peers_dir entry written by `add-spoke`:
 *   spoke-config PATH    the spoke config written with it (remove-spoke
 *                        removes it and its key too)
 */
struct sn_onboard_meta {
	char name[SN_ONBOARD_NAME_MAX + 1];
	char endpoint[SN_ONBOARD_ENDPOINT_MAX + 1];
	struct sn_prefix spoke_routes[SN_ONBOARD_SPOKE_ROUTES_MAX];
	uint32_t n_spoke_routes;
	char spoke_config[4096]; /* in a peers_dir entry: the spoke config written with it */
};

/* The "# subnetra:" lines of a hub config's text. A line of that form
 * with an unknown key or a bad value is an error naming its line (-EINVAL);
 * other comments are ignored. */
int sn_onboard_meta_parse(const char *text, size_t len, struct sn_onboard_meta *m, char *why,
			  size_t why_len);

/* A spoke name: the rules of a peer's name in a config (1 to 64 printable
 * characters, no spaces) and, since it also names the spoke's files, no
 * '/', no leading '.' (peers_dir ignores dotfiles) and no leading '-'.
 * 0 or -EINVAL with the reason. */
int sn_onboard_name_check(const char *name, char *why, size_t why_len);

/* The peer of c called name (its name, or "peer-<id>" when it has none). */
const struct sn_conf_peer *sn_onboard_peer_named(const struct sn_config *c, const char *name);

/* The lowest id that is neither the node's nor a peer's: 0 or -ENOSPC. */
int sn_onboard_next_id(const struct sn_config *c, uint32_t *out);

/* The lowest usable address of the overlay subnet (not its network or
 * broadcast address, both usable in a /31) that no node has: 0, or
 * -ENOSPC with why saying so. */
int sn_onboard_next_address(const struct sn_config *c, uint32_t *out, char *why, size_t why_len);

/* May a new spoke own lan? Not when it overlaps the overlay subnet, a LAN
 * of the hub or a route of a peer (-EEXIST, why names the owner and its
 * file). 0 when it may. */
int sn_onboard_lan_check(const struct sn_config *c, const struct sn_prefix *lan, char *why,
			 size_t why_len);

/* HOST:PORT as a spoke's hub.endpoint takes it (an IPv4 address or a
 * host name, port 1..65535), checked without resolving. 0 or -EINVAL. */
int sn_onboard_endpoint_check(const char *ep, char *why, size_t why_len);

/* Is p inside one of the spoke routes? */
int sn_onboard_covered(const struct sn_onboard_meta *m, const struct sn_prefix *p);

/* ---- onboard_text.c: the files' text (YAML) ---- */

struct sn_onboard_hub {
	const char *name;         /* the hub's name (its files: NAME.yaml, NAME.key) */
	struct sn_prefix overlay;
	uint32_t address;
	const char *listen;       /* "ADDR:PORT" */
	const char *endpoint;     /* HOST:PORT the spokes use */
	const char *state_dir;
	const char *socket;
	struct sn_prefix *lans, *spoke_routes;
	uint32_t n_lans, n_spoke_routes;
};

struct sn_onboard_spoke {
	const char *name;
	uint32_t id, address;
	const char *key_file;     /* as written in the spoke config (beside it) */
	const char *state_dir;
	const char *socket;
	const char *endpoint;
	const char *out;          /* the spoke config's path (noted in the peer file) */
	struct sn_prefix *lans;
	uint32_t n_lans;
	uint8_t public_key[32];
};

/* Write a YAML scalar: plain when it is safe, else double-quoted. */
void sn_onboard_put_str(FILE *f, const char *s);
void sn_onboard_hub_text(FILE *f, const struct sn_onboard_hub *h);
/* The peers_dir entry of spoke s. */
void sn_onboard_peer_text(FILE *f, const struct sn_onboard_spoke *s);
/* The spoke's whole config, its hub being c (hub_pub its public key). */
void sn_onboard_spoke_text(FILE *f, const struct sn_onboard_spoke *s, const struct sn_config *c,
			   const struct sn_onboard_meta *m, const uint8_t hub_pub[static 32]);

/* ---- onboard_file.c ---- */

/* Write len bytes of data to path, mode 0600: into a dotfile beside it,
 * fsynced, then linked to path, so path appears complete or not at all
 * and an existing path is never replaced (-EEXIST) unless replace. */
int sn_onboard_write(const char *path, const char *data, size_t len, int replace);
/* A private key as its file (base64 and a newline), written by
 * sn_onboard_write without replacing; the text is wiped after. */
int sn_onboard_write_key(const char *path, const uint8_t key[static 32]);
/* mkdir path (mode 0700) unless it is a directory already. */
int sn_onboard_mkdir(const char *path);
/* Read a whole (small) file; free *out. */
int sn_onboard_read(const char *path, char **out, size_t *len);
/* Reload the hub of config c if it is running and say what happened;
 * returns the tool's exit status (0 also when it is not running). */
int sn_onboard_reload(const struct sn_config *c);

/* ---- onboard_args.c: the commands' options ---- */

#define SN_ONBOARD_DEFAULT_DIR "/etc/subnetra"
#define SN_ONBOARD_LIST_MAX 64 /* values of one repeated option (--lan) */

struct sn_onboard_opt {
	const char *name;   /* "--lan" */
	const char **value; /* an option with a value: the last one given */
	const char **list;  /* a repeated option: every value, at most SN_ONBOARD_LIST_MAX */
	uint32_t *n;        /* with list: how many */
	int *flag;          /* an option without a value: set to 1 */
};

/* Parse argv[1..argc-1] (argv[0] is the command word): "--opt VALUE",
 * "--opt=VALUE", flags, and up to max_pos other words into pos (*n_pos).
 * 0; 1 when --help or -h was given (usage printed to stdout); 2 on a usage
 * error (said on stderr, with usage). */
int sn_onboard_args(int argc, char **argv, const struct sn_onboard_opt *opts, const char **pos,
		    uint32_t max_pos, uint32_t *n_pos, const char *usage);

/* Parse n prefixes of option opt into out; 0, or -EINVAL (said). */
int sn_onboard_prefixes(const char *cmd, const char *opt, const char *const *s, uint32_t n,
			struct sn_prefix *out);

/* dir/name into buf; -ENAMETOOLONG (said) when it does not fit. */
int sn_onboard_path(char *buf, size_t len, const char *dir, const char *name, const char *ext);

/* A node's own state directory and control socket: state_dir and socket
 * when given, else the daemon's defaults for a node called name
 * (/var/lib/subnetra/NAME, /run/subnetra/NAME.sock). -ENAMETOOLONG (said)
 * when one does not fit its 4096 bytes. */
int sn_onboard_node_paths(const char *name, const char *state_dir, const char *socket,
			  char state[static 4096], char sock[static 4096]);

/* The key file beside a spoke config: conf without its extension, and
 * ".key" (spokes/branch-a.yaml: spokes/branch-a.key). */
int sn_onboard_key_path(char *buf, size_t len, const char *conf);

/* ---- the commands (argv[0] is the command word) ---- */
int sn_onboard_init(int argc, char **argv);
int sn_onboard_add_spoke(int argc, char **argv);
int sn_onboard_remove_spoke(int argc, char **argv);

#endif
