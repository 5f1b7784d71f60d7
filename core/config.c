/* SPDX-License-Identifier: MIT */
/*
 * core/config.c: loading a node config: reading the file, the top level
 * and the node, overlay, plugins, keepalive, control and metrics sections,
 * defaults, and the lookups. Peers and policy are in config_peer.c, the
 * checks that need the whole config in config_check.c, the YAML tree in
 * config_tree.c, the JSON tree in config_json.c.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <sodium.h>

#include "config_priv.h"

#define ECHO_MAX 64
/* 107 bytes on Linux, 103 on macOS: sun_path holds the terminating NUL */
#define SUN_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- node -------------------------------------------------------------- */

static int node_id(struct sn__ld *ld, const struct sn__cn *v, void *obj)
{
	ld->at_id = v;
	return sn__conf_u32(ld, v, 1, 0xFFFFFFFEu, &ld->c->node_id);
}

static int node_role(struct sn__ld *ld, const struct sn__cn *v, void *obj)
{
	int rc = sn__conf_scalar(ld, v, "hub or spoke");

	if (rc < 0)
		return rc;
	if (!strcmp(v->s, "hub"))
		ld->c->role = SN_ROLE_HUB;
	else if (!strcmp(v->s, "spoke"))
		ld->c->role = SN_ROLE_SPOKE;
	else
		return sn__conf_fail(ld, v, "'%.*s' is not a role (expected hub or spoke)", ECHO_MAX,
				     v->s);
	return 0;
}

static int node_key_file(struct sn__ld *ld, const struct sn__cn *v, void *obj)
{
	ld->at_key_file = v;
	return sn__conf_path(ld, v, &ld->c->private_key_file);
}

/* The ADDRESS of "ADDRESS:PORT" (n bytes of s; none: all addresses). */
static int listen_host(const char *s, size_t n, uint32_t *ip)
{
	char host[16]; /* "255.255.255.255" */

	*ip = 0;
	if (n == 0)
		return 0;
	if (n >= sizeof(host))
		return -EINVAL; /* never cut: 192.168.100.1001 is not 192.168.100.100 */
	memcpy(host, s, n);
	host[n] = '\0';
	return sn_ipv4_parse(host, ip);
}

/* "ADDRESS:PORT" or ":PORT" (colon: its last ':') into a. */
static int set_listen(struct sn__ld *ld, const struct sn__cn *v, const char *colon,
		      struct sn_addr *a)
{
	uint32_t ip = 0;
	uint16_t port;
	size_t n = (size_t)(colon - v->s);

	if (sn__conf_port(colon + 1, 0, &port) < 0)
		return sn__conf_fail(ld, v, "'%.*s' has a bad port (expected 0..65535)", ECHO_MAX, v->s);
	if (listen_host(v->s, n, &ip) < 0)
		return sn__conf_fail(ld, v, "'%.*s' is not an IPv4 address (listen takes \"ADDRESS:PORT\" with an IPv4 address, or \":PORT\")",
				     n > ECHO_MAX ? ECHO_MAX : (int)n, v->s);
	memset(a, 0, sizeof(*a));
	a->family = SN_AF_INET;
	a->port = port;
	a->ip[0] = (uint8_t)(ip >> 24);
	a->ip[1] = (uint8_t)(ip >> 16);
	a->ip[2] = (uint8_t)(ip >> 8);
	a->ip[3] = (uint8_t)ip;
	return 0;
}

/* A listen value: "ADDRESS:PORT" or ":PORT" into a. */
static int listen_value(struct sn__ld *ld, const struct sn__cn *v, struct sn_addr *a)
{
	const char *colon;
	int rc = sn__conf_scalar(ld, v, "\"ADDRESS:PORT\" or \":PORT\"");

	if (rc < 0)
		return rc;
	colon = strrchr(v->s, ':');
	if (!colon && strspn(v->s, "0123456789") == v->len)
		return sn__conf_fail(ld, v, "%.*s has no address part (did you mean \":%.*s\"?)",
				     ECHO_MAX, v->s, ECHO_MAX, v->s);
	if (!colon)
		return sn__conf_fail(ld, v, "'%.*s' has no port (expected \"ADDRESS:PORT\" or \":PORT\", e.g. \"0.0.0.0:51820\")",
				     ECHO_MAX, v->s);
	return set_listen(ld, v, colon, a);
}

static int node_listen(struct sn__ld *ld, const struct sn__cn *v, void *obj)
{
	ld->at_listen = v;
	ld->c->has |= SN_CONF_HAS_LISTEN;
	return listen_value(ld, v, &ld->c->listen);
}

static int node_state_dir(struct sn__ld *ld, const struct sn__cn *v, void *obj)
{
	ld->c->has |= SN_CONF_HAS_STATE_DIR;
	return sn__conf_path(ld, v, &ld->c->state_dir);
}

static int node_user(struct sn__ld *ld, const struct sn__cn *v, void *obj)
{
	ld->at_user = v;
	ld->c->has |= SN_CONF_HAS_USER;
	return sn__conf_name(ld, v, "a user name", &ld->c->user);
}

static int node_slice(struct sn__ld *ld, const struct sn__cn *v, void *obj)
{
	int rc = sn__conf_u32(ld, v, 0, SN_CONF_SLICE_MAX_US, &ld->c->slice_us);

	if (rc < 0)
		return rc;
	ld->c->has |= SN_CONF_HAS_SLICE;
	if (ld->c->slice_us && ld->c->slice_us < SN_CONF_SLICE_MIN_US)
		return sn__conf_fail(ld, v, "%u us is shorter than the kernel takes (expected 0 for the "
				     "kernel's default, or %u..%u microseconds)", ld->c->slice_us,
				     SN_CONF_SLICE_MIN_US, SN_CONF_SLICE_MAX_US);
	return 0;
}

static int node_rt_priority(struct sn__ld *ld, const struct sn__cn *v, void *obj)
{
	return sn__conf_u32(ld, v, 0, SN_CONF_RT_PRIORITY_MAX, &ld->c->rt_priority);
}

static const struct sn__field node_fields[] = {
	{ "id", node_id, true, "this node's id, 1..4294967294" },
	{ "role", node_role, true, "hub or spoke" },
	{ "private_key_file", node_key_file, true, "a file written by wg genkey" },
	{ "listen", node_listen, false, NULL },
	{ "state_dir", node_state_dir, false, NULL },
	{ "user", node_user, false, NULL },
	{ "slice_us", node_slice, false, NULL },
	{ "rt_priority", node_rt_priority, false, NULL },
};

/* ---- overlay ----------------------------------------------------------- */

static int ov_subnet(struct sn__ld *ld, const struct sn__cn *v, void *obj)
{
	ld->at_subnet = v;
	return sn__conf_prefix(ld, v, &ld->c->subnet);
}

static int ov_address(struct sn__ld *ld, const struct sn__cn *v, void *obj)
{
	ld->at_address = v;
	return sn__conf_ipv4(ld, v, &ld->c->address);
}

static int ov_mtu(struct sn__ld *ld, const struct sn__cn *v, void *obj)
{
	ld->c->has |= SN_CONF_HAS_MTU;
	ld->c->mtu_at = (struct sn_conf_loc){ v->line, v->col, v->file };
	return sn__conf_u32(ld, v, 576, 9000, &ld->c->mtu);
}

static bool ifname_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 15 || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

static int ov_interface(struct sn__ld *ld, const struct sn__cn *v, void *obj)
{
	int rc = sn__conf_scalar(ld, v, "an interface name");

	if (rc < 0)
		return rc;
	if (!ifname_ok(v->s, v->len))
		return sn__conf_fail(ld, v, "'%.*s' is not an interface name (1 to 15 letters, digits, '_', '.' or '-', e.g. subnetra0)",
				     ECHO_MAX, v->s);
	ld->c->has |= SN_CONF_HAS_IFNAME;
	ld->at_ifname = v;
	return sn__conf_str(ld, v, "an interface name", &ld->c->ifname);
}

static int ov_manage_routes(struct sn__ld *ld, const struct sn__cn *v, void *obj)
{
	return sn__conf_bool(ld, v, &ld->c->manage_routes);
}

static int ov_lans(struct sn__ld *ld, const struct sn__cn *v, void *obj)
{
	return sn__conf_prefixes(ld, v, &ld->c->lans, &ld->c->n_lans, SN__ASG_LAN, 0);
}

static const struct sn__field overlay_fields[] = {
	{ "subnet", ov_subnet, true, "the overlay prefix, e.g. 10.0.0.0/24" },
	{ "address", ov_address, true, "this node's overlay address, e.g. 10.0.0.1" },
	{ "mtu", ov_mtu, false, NULL },
	{ "interface", ov_interface, false, NULL },
	{ "manage_routes", ov_manage_routes, false, NULL },
	{ "lans", ov_lans, false, NULL },
};

/* ---- plugins ----------------------------------------------------------- */

/* A plugin's name (letters, digits, '_'), or with path_ok a value with a
 * '/': the path of the .so itself, relative to the config's directory
 * unless absolute (the loader applies the file rules of
 * docs/configuration.md, "Files the daemon trusts", to it). */
static int plugin_choice(struct sn__ld *ld, const struct sn__cn *v, bool path_ok,
			 const char **out, struct sn_conf_loc *at)
{
	size_t i;
	int rc = sn__conf_scalar(ld, v, "a plugin name");

	if (rc < 0)
		return rc;
	if (at)
		*at = sn__conf_loc(v);
	if (path_ok && memchr(v->s, '/', v->len)) {
		if (v->len > SN_CONF_PLUGIN_PATH_MAX)
			return sn__conf_fail(ld, v, "a plugin path is at most %u bytes long",
					     SN_CONF_PLUGIN_PATH_MAX);
		return sn__conf_path(ld, v, out);
	}
	for (i = 0; i < v->len; i++)
		if (!isalnum((unsigned char)v->s[i]) && v->s[i] != '_')
			break;
	if (i < v->len || v->len > 64)
		return sn__conf_fail(ld, v, "'%.*s' is not a plugin name (letters, digits and '_', e.g. raw_direct%s)",
				     ECHO_MAX, v->s, path_ok ? ", or a path to the plugin's .so" : "");
	return sn__conf_str(ld, v, "a plugin name", out);
}

static int plugin_name(struct sn__ld *ld, const struct sn__cn *v, const char **out,
		       struct sn_conf_loc *at)
{
	return plugin_choice(ld, v, true, out, at);
}

static int pl_dir(struct sn__ld *ld, const struct sn__cn *v, void *obj)
{
	ld->c->has |= SN_CONF_HAS_PLUGIN_DIR;
	return sn__conf_path(ld, v, &ld->c->plugin_dir);
}

static int pl_os(struct sn__ld *ld, const struct sn__cn *v, void *obj)
{
	return plugin_name(ld, v, &ld->c->os, &ld->c->os_at);
}

static int pl_crypto(struct sn__ld *ld, const struct sn__cn *v, void *obj)
{
	ld->c->has |= SN_CONF_HAS_CRYPTO;
	return plugin_name(ld, v, &ld->c->crypto, &ld->c->crypto_at);
}

static int pl_egress(struct sn__ld *ld, const struct sn__cn *v, void *obj)
{
	return plugin_name(ld, v, &ld->c->egress, &ld->c->egress_at);
}

static int opt_values(struct sn__ld *ld, const struct sn__cn *m, struct sn_conf_plugin_opts *o)
{
	struct sn_arena *a = &ld->c->arena;
	const struct sn__cn *k;
	uint32_t i = 0;
	size_t mark;
	int rc;

	rc = sn__conf_keys(ld, m, "a mapping of option: value lines");
	if (rc < 0)
		return rc;
	o->keys = sn_arena_alloc(a, (m->n + 1) * sizeof(*o->keys));
	o->values = sn_arena_alloc(a, (m->n + 1) * sizeof(*o->values));
	if (!o->keys || !o->values)
		return sn__conf_oom(ld);
	for (k = m->first; k && rc == 0; k = k->next, i++) {
		mark = sn__conf_path_key(ld, k->s);
		rc = sn__conf_str(ld, k->val, "a single value", &o->values[i]);
		if (rc == 0)
			rc = sn__conf_str(ld, k, "an option name", &o->keys[i]);
		sn__conf_path_pop(ld, mark);
	}
	o->n = i;
	return rc;
}

static int pl_options(struct sn__ld *ld, const struct sn__cn *m, void *obj)
{
	struct sn_config *c = ld->c;
	const struct sn__cn *k;
	size_t mark;
	int rc;

	rc = sn__conf_keys(ld, m, "a mapping of plugin name: { option: value }");
	if (rc < 0)
		return rc;
	c->plugin_opts = sn_arena_alloc(&c->arena, (m->n + 1) * sizeof(*c->plugin_opts));
	if (!c->plugin_opts)
		return sn__conf_oom(ld);
	for (k = m->first; k && rc == 0; k = k->next) {
		struct sn_conf_plugin_opts *o = &c->plugin_opts[c->n_plugin_opts++];

		mark = sn__conf_path_key(ld, k->s);
		rc = plugin_choice(ld, k, false, &o->plugin, &o->loc);
		if (rc == 0)
			rc = opt_values(ld, k->val, o);
		sn__conf_path_pop(ld, mark);
	}
	return rc;
}

static const struct sn__field plugin_fields[] = {
	{ "directory", pl_dir, false, NULL },
	{ "os", pl_os, false, NULL },
	{ "crypto", pl_crypto, false, NULL },
	{ "egress", pl_egress, false, NULL },
	{ "options", pl_options, false, NULL },
};

/* ---- control ----------------------------------------------------------- */

static int ctl_socket(struct sn__ld *ld, const struct sn__cn *v, void *obj)
{
	const char *s;
	int rc = sn__conf_path(ld, v, &s);

	if (rc < 0)
		return rc;
	if (strlen(s) > SUN_PATH_MAX)
		return sn__conf_fail(ld, v, "%s is %zu bytes long (a socket path holds at most %zu; use a shorter one)",
				     s, strlen(s), SUN_PATH_MAX);
	ld->c->control_socket = s;
	ld->c->has |= SN_CONF_HAS_SOCKET;
	return 0;
}

static int ctl_group(struct sn__ld *ld, const struct sn__cn *v, void *obj)
{
	ld->c->has |= SN_CONF_HAS_GROUP;
	return sn__conf_name(ld, v, "a group name", &ld->c->control_group);
}

static const struct sn__field control_fields[] = {
	{ "socket", ctl_socket, false, NULL },
	{ "group", ctl_group, false, NULL },
};

/* ---- metrics ----------------------------------------------------------- */

static int metrics_listen(struct sn__ld *ld, const struct sn__cn *v, void *obj)
{
	int rc = listen_value(ld, v, &ld->c->metrics_listen);

	if (rc == 0 && ld->c->metrics_listen.port == 0)
		rc = sn__conf_fail(ld, v, "the metrics need a fixed port, not 0 (e.g. \"127.0.0.1:9586\")");
	ld->c->has |= SN_CONF_HAS_METRICS;
	return rc;
}

static const struct sn__field metrics_fields[] = {
	{ "listen", metrics_listen, true, "where GET /metrics is served, e.g. \"127.0.0.1:9586\"" },
};

/* ---- top level --------------------------------------------------------- */

static int seen(struct sn__ld *ld, const struct sn__cn *v, void *obj)
{
	return 0;
}

static const struct sn__field top_fields[] = {
	{ "node", seen, true, "it holds id, role and private_key_file" },
	{ "overlay", seen, true, "it holds subnet and address" },
	{ "plugins", seen, false, NULL },
	{ "peers", seen, false, NULL },
	{ "peers_dir", seen, false, NULL },
	{ "hub", seen, false, NULL },
	{ "keepalive", seen, false, NULL },
	{ "aqm", seen, false, NULL },
	{ "policy", seen, false, NULL },
	{ "control", seen, false, NULL },
	{ "metrics", seen, false, NULL },
};

static int section(struct sn__ld *ld, const char *key, const struct sn__field *f, size_t n)
{
	const struct sn__cn *v = sn__conf_get(ld->root, key);
	size_t mark;
	int rc;

	if (!v)
		return 0;
	mark = sn__conf_path_key(ld, key);
	rc = sn__conf_map(ld, v, f, n, NULL);
	sn__conf_path_pop(ld, mark);
	return rc;
}

static int keepalive(struct sn__ld *ld)
{
	const struct sn__cn *v = sn__conf_get(ld->root, "keepalive");
	size_t mark;
	int rc;

	if (!v)
		return 0;
	mark = sn__conf_path_key(ld, "keepalive");
	rc = sn__conf_u32(ld, v, 0, 3600, &ld->c->keepalive);
	sn__conf_path_pop(ld, mark);
	ld->c->has |= SN_CONF_HAS_KEEPALIVE;
	return rc;
}

static int hub_listen(struct sn__ld *ld)
{
	struct sn_conf_loc none = { 0, 0, NULL };

	if (ld->c->role != SN_ROLE_HUB)
		return 0;
	if (!ld->at_listen)
		return sn__conf_fail_at(ld, -EINVAL, "node", ld->at_node ? sn__conf_loc(ld->at_node) : none,
					"missing required key 'listen' (a hub listens on a fixed port, e.g. listen: \"0.0.0.0:51820\")");
	if (ld->c->listen.port == 0)
		return sn__conf_fail_at(ld, -EINVAL, "node.listen", sn__conf_loc(ld->at_listen),
					"a hub needs a fixed port, not 0 (e.g. \"0.0.0.0:51820\")");
	return 0;
}

static int decode(struct sn__ld *ld)
{
	const struct sn__cn *r = ld->root;
	int rc;

	if (!r || (r->kind == SN__CN_SCALAR && r->plain && !r->len))
		return sn__conf_fail_at(ld, -EINVAL, NULL, (struct sn_conf_loc){ 1, 1, NULL },
					"the file is empty (expected the sections node: and overlay:)");
	if (r->kind != SN__CN_MAP)
		return sn__conf_fail(ld, r, "expected a mapping of sections (node:, overlay:, ...), got %s",
				     r->kind == SN__CN_SEQ ? "a list" : "a single value");
	rc = sn__conf_map(ld, r, top_fields, N(top_fields), NULL);
	ld->at_node = sn__conf_get(r, "node");
	if (rc == 0)
		rc = section(ld, "node", node_fields, N(node_fields));
	if (rc == 0)
		rc = hub_listen(ld);
	if (rc == 0)
		rc = section(ld, "overlay", overlay_fields, N(overlay_fields));
	if (rc == 0)
		rc = section(ld, "plugins", plugin_fields, N(plugin_fields));
	if (rc == 0)
		rc = sn__conf_peers(ld);
	if (rc == 0)
		rc = keepalive(ld);
	if (rc == 0)
		rc = sn__conf_aqm(ld);
	if (rc == 0)
		rc = sn__conf_policy(ld, sn__conf_get(r, "policy"));
	if (rc == 0)
		rc = section(ld, "control", control_fields, N(control_fields));
	if (rc == 0)
		rc = section(ld, "metrics", metrics_fields, N(metrics_fields));
	return rc;
}

/* ---- defaults and the load itself -------------------------------------- */

static int defaults(struct sn_config *c)
{
	struct sn_arena *a = &c->arena;
	uint32_t i;

	if (!(c->has & SN_CONF_HAS_MTU))
		c->mtu = SN_CONF_DEFAULT_MTU;
	if (!(c->has & SN_CONF_HAS_KEEPALIVE))
		c->keepalive = SN_CONF_DEFAULT_KEEPALIVE;
	if (!(c->has & SN_CONF_HAS_SLICE))
		c->slice_us = SN_CONF_DEFAULT_SLICE_US;
	if (!c->ifname)
		c->ifname = SN_CONF_DEFAULT_IFNAME;
	if (!c->state_dir)
		c->state_dir = SN_CONF_DEFAULT_STATE_DIR;
	if (!c->control_socket)
		c->control_socket = SN_CONF_DEFAULT_SOCKET;
	if (!c->os)
		c->os = SN_CONF_DEFAULT_OS;
	if (!c->crypto)
		c->crypto = SN_CONF_DEFAULT_CRYPTO;
	if (!c->egress)
		c->egress = SN_CONF_DEFAULT_EGRESS;
	for (i = 0; i < c->n_peers; i++) {
		if (!c->peers[i].name)
			c->peers[i].name = sn_arena_printf(a, "peer-%u", c->peers[i].id);
		if (!c->peers[i].name)
			return -ENOMEM;
	}
	return 0;
}

/* The absolute directory of the file name, for relative paths. */
static const char *dir_of(struct sn_arena *a, const char *name)
{
	const char *slash = strrchr(name, '/');
	char cwd[4096];
	size_t n = slash ? (size_t)(slash - name) : 0;

	if (slash == name)
		return "/";
	if (name[0] == '/')
		return sn_arena_strndup(a, name, n);
	if (!getcwd(cwd, sizeof(cwd)))
		return slash ? sn_arena_strndup(a, name, n) : ".";
	if (!slash || (n == 1 && name[0] == '.'))
		return sn_arena_strdup(a, cwd);
	return sn_arena_printf(a, "%s/%.*s", strcmp(cwd, "/") ? cwd : "", (int)n, name);
}

static struct sn_config *config_new(const char *name)
{
	struct sn_arena a;
	struct sn_config *c;

	sn_arena_init_secret(&a, 0); /* it holds the private key and PSKs */
	c = sn_arena_alloc(&a, sizeof(*c));
	if (!c) {
		sn_arena_free(&a);
		return NULL;
	}
	c->arena = a;
	c->manage_routes = true;
	c->path = sn_arena_strdup(&c->arena, name);
	if (!c->path) {
		sn_config_free(c);
		return NULL;
	}
	return c;
}

static int load(struct sn__ld *ld, const char *buf, size_t len)
{
	int rc;

	ld->dir = dir_of(&ld->c->arena, ld->name);
	if (!ld->dir)
		return sn__conf_oom(ld);
	if (len > SN__CONF_MAX_SIZE)
		return sn__conf_fail_at(ld, -EFBIG, NULL, (struct sn_conf_loc){ 0, 0, NULL },
					"the file is larger than %u bytes (is it really a config?)",
					SN__CONF_MAX_SIZE);
	rc = sn__conf_parse(ld, NULL, buf, len, &ld->root);
	if (rc == 0)
		rc = decode(ld);
	if (rc == 0)
		rc = sn__conf_check(ld);
	if (rc == 0 && defaults(ld->c) < 0)
		rc = sn__conf_oom(ld);
	return rc;
}

static int load_buffer(const char *name, const char *buf, size_t len, bool check_files,
		       const struct sn_config *running, struct sn_config **out, char *err,
		       size_t err_len)
{
	struct sn__ld ld = { .name = name, .check_keys = check_files, .running = running,
			     .err = err, .err_len = err_len };
	int rc;

	*out = NULL;
	if (err && err_len)
		err[0] = '\0';
	ld.c = config_new(name);
	if (!ld.c) {
		if (err && err_len)
			snprintf(err, err_len, "%s: out of memory", name);
		return -ENOMEM;
	}
	/* the tree of a big config is megabytes, made on a reload's worker:
	 * pages of its own, given back when the load is done */
	sn_arena_init_mapped(&ld.tmp, 1u << 20);
	ld.asg_tail = &ld.asg;
	rc = load(&ld, buf, len);
	sn_arena_free(&ld.tmp);
	if (rc < 0) {
		sn_config_free(ld.c);
		return rc;
	}
	*out = ld.c;
	return 0;
}

int sn_config_load_buffer(const char *name, const char *buf, size_t len, bool check_key_file,
			  struct sn_config **out, char *err, size_t err_len)
{
	return load_buffer(name, buf, len, check_key_file, NULL, out, err, err_len);
}


/* Only control.socket, for the subnetra tool: the file is parsed (a syntax
 * error is still an error) but nothing else is decoded, checked, read or
 * resolved (docs/control.md: the tool reads only the socket path). */
static int socket_only(struct sn__ld *ld, const char *buf, size_t len)
{
	const struct sn__cn *ctl, *v;
	int rc;

	ld->dir = dir_of(&ld->c->arena, ld->name);
	if (!ld->dir)
		return sn__conf_oom(ld);
	if ((rc = sn__conf_parse(ld, NULL, buf, len, &ld->root)) < 0)
		return rc;
	ctl = ld->root && ld->root->kind == SN__CN_MAP ? sn__conf_get(ld->root, "control") : NULL;
	v = ctl && ctl->kind == SN__CN_MAP ? sn__conf_get(ctl, "socket") : NULL;
	if (v && (rc = ctl_socket(ld, v, NULL)) < 0)
		return rc;
	if (!ld->c->control_socket)
		ld->c->control_socket = SN_CONF_DEFAULT_SOCKET;
	return 0;
}

int sn_config_load_socket(const char *path, struct sn_config **out, char *err, size_t err_len)
{
	struct sn__ld ld = { .name = path, .err = err, .err_len = err_len };
	char *buf = NULL;
	size_t len = 0;
	int fd, rc;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	rc = fd < 0 ? -errno : sn__conf_read_all(fd, SN__CONF_MAX_SIZE, &buf, &len);
	if (fd >= 0)
		close(fd);
	if (rc < 0) {
		snprintf(err, err_len, "%s: cannot read the config: %s", path, strerror(-rc));
		return rc;
	}
	if (!(ld.c = config_new(path))) {
		free(buf);
		snprintf(err, err_len, "%s: out of memory", path);
		return -ENOMEM;
	}
	sn_arena_init(&ld.tmp, 0);
	rc = socket_only(&ld, buf, len);
	sn_arena_free(&ld.tmp);
	free(buf);
	if (rc < 0)
		sn_config_free(ld.c);
	else
		*out = ld.c;
	return rc;
}

int sn__conf_read_all(int fd, size_t max, char **out, size_t *len)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	ssize_t n;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if ((uint64_t)st.st_size > max) /* off_t is 32 bits on armhf */
		return -EFBIG;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return -errno;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	*out = buf;
	*len = got;
	return 0;
}

/* The config grants root (it names plugins, keys, paths): only root or the
 * daemon's user may be able to change it (core/fileperm.h). */
static int config_trusted(int fd, const char *path, char *err, size_t err_len)
{
	char why[2048];
	struct sn_owners o;
	int rc;

	sn_owners_init(&o);
	rc = sn_file_trusted(fd, path, &o, why, sizeof(why));
	if (rc < 0 && err && err_len)
		snprintf(err, err_len, "%s", why);
	return rc;
}

static int load_path(const char *path, const struct sn_config *running, struct sn_config **out,
		     char *err, size_t err_len)
{
	char *buf = NULL;
	size_t len = 0;
	int fd, rc;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	rc = fd < 0 ? -errno : sn__conf_read_all(fd, SN__CONF_MAX_SIZE, &buf, &len);
	if (rc < 0) {
		char why[128] = "";

		if (rc == -EFBIG)
			snprintf(why, sizeof(why), " (a config is at most %u MiB)",
				 SN__CONF_MAX_SIZE >> 20);
		else if (rc == -EACCES && running && running->user)
			snprintf(why, sizeof(why), " (a reload runs as node.user '%.32s': make the "
				 "file readable by that user)", running->user);
		if (err && err_len)
			snprintf(err, err_len, "%s: cannot read the config: %s%s", path, strerror(-rc),
				 why);
	} else if ((rc = config_trusted(fd, path, err, err_len)) == 0) {
		rc = load_buffer(path, buf, len, true, running, out, err, err_len);
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

int sn_config_load(const char *path, struct sn_config **out, char *err, size_t err_len)
{
	return load_path(path, NULL, out, err, err_len);
}

int sn_config_reload(const char *path, const struct sn_config *running, struct sn_config **out,
		     char *err, size_t err_len)
{
	return load_path(path, running, out, err, err_len);
}

void sn_config_free(struct sn_config *c)
{
	struct sn_arena a;
	uint32_t i;

	if (!c)
		return;
	sodium_memzero(c->private_key, sizeof(c->private_key));
	for (i = 0; i < c->n_peers; i++)
		sodium_memzero(c->peers[i].psk, sizeof(c->peers[i].psk));
	a = c->arena;
	sn_arena_free(&a);
}

const struct sn_conf_plugin_opts *sn_config_plugin_opts(const struct sn_config *c,
							const char *name)
{
	uint32_t i;

	for (i = 0; i < c->n_plugin_opts; i++)
		if (!strcmp(c->plugin_opts[i].plugin, name))
			return &c->plugin_opts[i];
	return NULL;
}
