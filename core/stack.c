/* SPDX-License-Identifier: MIT */
/*
 * core/stack.c: the node's plugin stack (STYLE rule 26): the os, crypto
 * and egress plugins loaded and created with their options
 * (plugins.options.<name>), the default crypto plugin's fallback, their
 * unloading in reverse; and, once the setup has done everything that
 * needs root, the os backend's privilege drop (node.user). The reactor
 * calls them in its setup and teardown order; `--check` loads the stack
 * alone (daemon.c).
 */
#include "stack.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "node.h"
#include "wire.h"

static const struct sn_options *plugin_options(struct sn_node *n, const char *name,
					       struct sn_options *o, struct sn_option *items,
					       uint32_t max)
{
	const struct sn_conf_plugin_opts *po = sn_config_plugin_opts(n->cfg, name);

	memset(o, 0, sizeof(*o));
	if (!po)
		return o;
	for (uint32_t i = 0; i < po->n && i < max; i++) {
		items[i].key = po->keys[i];
		items[i].value = po->values[i];
	}
	o->items = items;
	o->count = po->n < max ? po->n : max;
	return o;
}

/* The plugin's options are those under the name it declares (the same as
 * the config's for a plugin chosen by name, not by path). */
static int load_one(struct sn_node *n, struct sn_plugin *p, uint32_t kind, const char *name,
		    char *err, size_t err_len)
{
	const struct sn_config *c = n->cfg;
	const struct sn_conf_loc *at = kind == SN_KIND_OS ? &c->os_at :
				       kind == SN_KIND_CRYPTO ? &c->crypto_at : &c->egress_at;
	char key[32];
	struct sn_option items[64];
	struct sn_options o;
	int r = sn_loader_load(kind, name, n->plugin_dir, p, err, err_len);

	if (r < 0) {
		snprintf(key, sizeof(key), "plugins.%s", sn_kind_name(kind));
		sn__plugin_err_at(c, at, key, err, err_len);
		return r;
	}
	return sn_plugin_create(p, &n->host, plugin_options(n, p->desc->name, &o, items, 64), err,
				err_len);
}

/* The longest sealed datagram the node sends: a full overlay MTU packet
 * (docs/protocol.md, section 3). */
static uint32_t datagram_max(const struct sn_node *n)
{
	return SN_WIRE_HDR_LEN + n->cfg->mtu + n->crypto.decl.overhead + SN_WIRE_TAG_LEN;
}

/* plugins.crypto unset: the build's default (crypto_openssl where it was
 * built), else crypto_chacha, the same protocol on libsodium, which the
 * daemon links anyway. Named in the config: that one or nothing. */
static int load_crypto(struct sn_node *n, char *err, size_t err_len)
{
	const char *name = n->cfg->crypto;
	int r = load_one(n, &n->crypto, SN_KIND_CRYPTO, name, err, err_len);

	if (r == 0 || (n->cfg->has & SN_CONF_HAS_CRYPTO) || !strcmp(name, SN_CONF_FALLBACK_CRYPTO))
		return r;
	sn_log(&n->host, SN_LOG_WARN, "plugins.crypto is not set and the default crypto plugin "
	       "'%s' cannot be used: %s; using '%s' instead (the same protocol; set "
	       "plugins.crypto to choose)", name, err, SN_CONF_FALLBACK_CRYPTO);
	sn_plugin_unload(&n->crypto);
	return load_one(n, &n->crypto, SN_KIND_CRYPTO, SN_CONF_FALLBACK_CRYPTO, err, err_len);
}

int sn_stack_options_check(const struct sn_node *n, const struct sn_config *c, char *err,
			   size_t err_len)
{
	const struct sn_plugin *pl[3 + SN_EGSTACK_BELOW] = {&n->os, &n->crypto, &n->egress};
	uint32_t k = 3;

	for (uint32_t i = 0; i < n->eg_stack.n; i++)
		pl[k++] = &n->eg_stack.below[i];
	return sn__plugin_options_check(c, pl, k, err, err_len);
}

/* The egress stack, top first, for the MTU's messages. */
static uint32_t mtu_layers(struct sn_node *n, struct sn_mtu_layer *l)
{
	struct sn_egstack *s = &n->eg_stack;

	for (uint32_t i = 0; i <= s->n; i++) {
		const struct sn_plugin *p = sn_egstack_layer(s, &n->egress, i);

		l[i] = (struct sn_mtu_layer){ p->desc->name, p->decl.overhead };
	}
	return s->n + 1;
}

/* overlay.mtu over the loaded stack: the automatic one logged, a set one
 * whose datagrams exceed a 1500-byte underlay warned of (mtu.h). */
void sn_stack_mtu(struct sn_node *n)
{
	struct sn_mtu_layer l[SN_EGRESS_MAX_LAYERS];
	uint32_t k = mtu_layers(n, l);
	char line[768];

	sn_mtu_resolve(&n->mtu, n->cfg, n->eg_stack.overhead, n->crypto.decl.overhead);
	if (sn_mtu_describe(&n->mtu, l, k, line, sizeof(line)))
		sn_log(&n->host, SN_LOG_INFO, "%s", line);
	if (sn_mtu_warning(&n->mtu, n->cfg, l, k, line, sizeof(line)))
		sn_log(&n->host, SN_LOG_WARN, "%s", line);
}

int sn_stack_load(struct sn_node *n, char *err, size_t err_len)
{
	int r;

	if ((r = load_one(n, &n->os, SN_KIND_OS, n->cfg->os, err, err_len)) < 0 ||
	    (r = load_crypto(n, err, err_len)) < 0 ||
	    (r = sn_egstack_load(&n->eg_stack, &n->egress, &n->host, n->cfg, n->plugin_dir,
				 datagram_max(n), err, err_len)) < 0)
		return r;
	if ((r = sn_stack_options_check(n, n->cfg, err, err_len)) < 0)
		return r;
	sn_stack_mtu(n);
	n->os_ops = sn_plugin_ops(&n->os);
	n->eg_ops = sn_plugin_ops(&n->egress);
	n->cr.ops = sn_plugin_ops(&n->crypto);
	n->cr.inst = n->crypto.inst;
	return 0;
}

void sn_stack_unload(struct sn_node *n)
{
	sn_egstack_unload(&n->eg_stack, &n->egress);
	sn_plugin_unload(&n->crypto);
	sn_plugin_unload(&n->os);
}

/* node.user: everything that needs root is done; the os backend switches
 * users keeping only what later route changes need, and only when the node
 * manages routes (run-time rules, reload and exit change them). */
int sn_stack_drop_privileges(struct sn_node *n, char *err, size_t err_len)
{
	char why[256] = "";
	bool keep = n->cfg->manage_routes;
	struct sn_priv_args a = {
		.struct_size = sizeof(a),
		.flags = keep ? SN_PRIV_KEEP_NET_ADMIN : 0,
		.user = n->cfg->user,
		.err = why,
		.err_len = sizeof(why),
	};
	int r;

	if (!n->cfg->user)
		return 0;
	if (!SN_HAS_OP(struct sn_os_ops, n->os_ops, drop_privileges)) {
		snprintf(err, err_len, "%s: node.user is set, but os plugin '%s' cannot drop "
			 "privileges (remove node.user or use another os plugin)",
			 n->cfg->path, n->os.desc->name);
		return -ENOTSUP;
	}
	r = n->os_ops->drop_privileges(n->os.inst, &a);
	if (r < 0)
		snprintf(err, err_len, "%s: %s", n->cfg->path, why[0] ? why : strerror(-r));
	else
		sn_log(&n->host, SN_LOG_INFO, "running as user %s, %s", n->cfg->user,
		       keep ? "keeping only the right to change routes (overlay.manage_routes)"
			    : "with no privileges (overlay.manage_routes is false)");
	return r;
}
