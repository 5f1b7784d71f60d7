/* SPDX-License-Identifier: MIT */
/*
 * core/egstack.c: loading, attaching, reconfiguring and unloading the egress
 * stack (egstack.h; docs/plugin-sdk.md, "Composition").
 */
#include "egstack.h"

#include "node.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define OVER "over"
#define MAX_OPTS 64

static bool is_layer(const struct sn_plugin *p)
{
	const struct sn_egress_ops *ops = sn_plugin_ops(p);

	return (ops->flags & SN_EGRESS_F_LAYER) != 0;
}

/* The value of option key of plugin name in c, or NULL. */
static const char *option(const struct sn_config *c, const char *name, const char *key)
{
	const struct sn_conf_plugin_opts *po = sn_config_plugin_opts(c, name);

	for (uint32_t i = 0; po && i < po->n; i++)
		if (!strcmp(po->keys[i], key))
			return po->values[i];
	return NULL;
}

const struct sn_options *sn_egstack_options(const struct sn_config *c, const char *name,
					  bool layer, struct sn_options *o,
					  struct sn_option *items, uint32_t max)
{
	const struct sn_conf_plugin_opts *po = sn_config_plugin_opts(c, name);
	uint32_t k = 0;

	memset(o, 0, sizeof(*o));
	for (uint32_t i = 0; po && i < po->n && k < max; i++) {
		if (layer && !strcmp(po->keys[i], OVER))
			continue;
		items[k].key = po->keys[i];
		items[k++].value = po->values[i];
	}
	o->items = k ? items : NULL;
	o->count = k;
	return o;
}

struct sn_plugin *sn_egstack_layer(struct sn_egstack *s, struct sn_plugin *top, uint32_t i)
{
	return i == 0 ? top : &s->below[i - 1];
}

/* The config name of the stack's egress i in c: plugins.egress for the top,
 * then each layer's `over` (default raw_direct), which is also the key of
 * its options. */
static const char *layer_name(const struct sn_egstack *s, const struct sn_config *c, uint32_t i)
{
	const char *name = c->egress, *over;

	(void)s;
	for (uint32_t j = 0; j < i; j++) {
		over = option(c, name, OVER);
		name = over ? over : SN_CONF_DEFAULT_EGRESS;
	}
	return name;
}

/* A layer's deliver: to the layer above's lower_deliver. */
static int deliver_up(void *ctx, struct sn_pkt *const *pkts, uint32_t n)
{
	struct sn_plugin *above = ctx;
	const struct sn_egress_ops *ops = sn_plugin_ops(above);

	if (!SN_HAS_OP(struct sn_egress_ops, ops, lower_deliver))
		return -ENOTSUP;
	return ops->lower_deliver(above->inst, pkts, n);
}

/* Load and create egress name into p with handle h; check what a layer
 * must have and that only a layer has `over`. */
static int load_egress(const struct sn_config *c, const char *name, const char *dir,
		       struct sn_plugin *p, struct sn_host *h, char *err, size_t err_len)
{
	struct sn_option items[MAX_OPTS];
	struct sn_options o;
	const struct sn_egress_ops *ops;
	int r = sn_loader_load(SN_KIND_EGRESS, name, dir, p, err, err_len);

	if (r < 0) {
		if (name == c->egress)
			sn__plugin_err_at(c, &c->egress_at, "plugins.egress", err, err_len);
		return r;
	}
	ops = sn_plugin_ops(p);
	if (is_layer(p) && !SN_HAS_OP(struct sn_egress_ops, ops, attach)) {
		snprintf(err, err_len, "%s: declares SN_EGRESS_F_LAYER but has no attach operation",
			 p->path);
		return -EINVAL;
	}
	if (!is_layer(p) && option(c, name, OVER)) {
		snprintf(err, err_len, "%s: plugins.options.%s.over: egress '%s' moves datagrams "
			 "itself and cannot sit over another (only a layer, SN_EGRESS_F_LAYER, "
			 "can); remove 'over'", c->path, name, p->desc->name);
		return -EINVAL;
	}
	/* options go under the name the plugin declares (the config's, but for
	 * a plugin chosen by path) */
	return sn_plugin_create(p, h, sn_egstack_options(c, p->desc->name, is_layer(p), &o, items,
							 MAX_OPTS), err, err_len);
}

/* Sums of room over layers i.. of the stack (i = 0: the whole). */
static void sums(struct sn_egstack *s, struct sn_plugin *top, uint32_t i, uint32_t *head,
		 uint32_t *tail, uint32_t *over)
{
	*head = *tail = *over = 0;
	for (; i <= s->n; i++) {
		const struct sn_host_decl *d = &sn_egstack_layer(s, top, i)->decl;

		*head += d->headroom;
		*tail += d->tailroom;
		*over += d->overhead;
	}
}

/* Attach layer i to layer i + 1. */
static int attach(struct sn_egstack *s, struct sn_plugin *top, uint32_t i, uint32_t datagram_max,
		  char *err, size_t err_len)
{
	struct sn_plugin *up = sn_egstack_layer(s, top, i), *low = &s->below[i];
	const struct sn_egress_ops *ops = sn_plugin_ops(up), *lops = sn_plugin_ops(low);
	struct sn_egress_lower l = {
		.struct_size = sizeof(l),
		.flags = lops->flags,
		.name = low->desc->name,
		.inst = low->inst,
		.ops = lops,
		.datagram_max = datagram_max,
	};
	uint32_t tail;
	char why[256] = "";
	int r;

	sums(s, top, i + 1, &l.headroom, &tail, &l.overhead);
	r = ops->attach(up->inst, &l, why, sizeof(why));
	if (r < 0)
		snprintf(err, err_len, "%s: cannot sit over '%s': %s", up->path, low->desc->name,
			 why[0] ? why : strerror(-r));
	return r;
}

int sn_egstack_load(struct sn_egstack *s, struct sn_plugin *top, struct sn_host *node,
		  const struct sn_config *c, const char *dir, uint32_t datagram_max, char *err,
		  size_t err_len)
{
	struct sn_plugin *up = top;
	const char *name;
	int r;

	memset(s, 0, sizeof(*s));
	if ((r = load_egress(c, c->egress, dir, top, node, err, err_len)) < 0)
		return r;
	while (is_layer(up)) {
		name = layer_name(s, c, s->n + 1);
		if (s->n == SN_EGSTACK_BELOW) {
			snprintf(err, err_len, "%s: plugins.options.%s.over: more than %u egress "
				 "layers stacked (a loop of 'over'?)", c->path, layer_name(s, c, s->n),
				 SN_EGRESS_MAX_LAYERS);
			return -ELOOP;
		}
		s->above[s->n] = up;
		sn_host_init_layer(&s->host[s->n], node, deliver_up, up);
		if ((r = load_egress(c, name, dir, &s->below[s->n], &s->host[s->n], err, err_len)) < 0)
			return r;
		up = &s->below[s->n++];
	}
	for (uint32_t i = s->n; i-- > 0;)
		if ((r = attach(s, top, i, datagram_max, err, err_len)) < 0)
			return r;
	sums(s, top, 0, &s->headroom, &s->tailroom, &s->overhead);
	return 0;
}

void sn_egstack_unload(struct sn_egstack *s, struct sn_plugin *top)
{
	sn_plugin_unload(top);
	for (uint32_t i = 0; i < SN_EGSTACK_BELOW; i++) /* a failed load's too */
		sn_plugin_unload(&s->below[i]);
	s->n = 0;
}

/* Options equal (a missing list equals an empty one). */
bool sn_egstack_opts_eq(const struct sn_conf_plugin_opts *a, const struct sn_conf_plugin_opts *b)
{
	if (!a || !b)
		return !a == !b || (a ? a->n : b->n) == 0;
	if (a->n != b->n)
		return false;
	for (uint32_t i = 0; i < a->n; i++)
		if (strcmp(a->keys[i], b->keys[i]) || strcmp(a->values[i], b->values[i]))
			return false;
	return true;
}

static bool layer_changed(struct sn_egstack *s, const struct sn_config *old,
			  const struct sn_config *c, uint32_t i)
{
	return !sn_egstack_opts_eq(sn_config_plugin_opts(old, layer_name(s, old, i)),
				 sn_config_plugin_opts(c, layer_name(s, c, i)));
}

int sn_egstack_reload_check(struct sn_egstack *s, struct sn_plugin *top, const struct sn_config *old,
			  const struct sn_config *c, bool *changed, char *err, size_t err_len)
{
	*changed = false;
	for (uint32_t i = 0; i <= s->n; i++) {
		const char *name = layer_name(s, c, i), *was = layer_name(s, old, i);
		const struct sn_egress_ops *ops;

		if (i > 0 && strcmp(name, was)) {
			snprintf(err, err_len, "%s: plugins.options.%s.over changed from '%s' to "
				 "'%s': restart subnetrad to stack egresses anew", c->path,
				 layer_name(s, c, i - 1), was, name);
			return -ENOTSUP;
		}
		if (!layer_changed(s, old, c, i))
			continue;
		ops = top->desc ? sn_plugin_ops(sn_egstack_layer(s, top, i)) : NULL;
		if (!ops || !SN_HAS_OP(struct sn_egress_ops, ops, reconfigure)) {
			snprintf(err, err_len, "%s: plugins.options.%s changed, and plugin '%s' cannot "
				 "apply options at run time: restart subnetrad to apply them",
				 c->path, name, name);
			return -ENOTSUP;
		}
		*changed = true;
	}
	return 0;
}

int sn_egstack_reconfigure(struct sn_egstack *s, struct sn_plugin *top, const struct sn_config *old,
			 const struct sn_config *c, char *err, size_t err_len)
{
	struct sn_option items[MAX_OPTS];
	struct sn_options o;
	char why[256];
	int r;

	for (uint32_t i = 0; i <= s->n; i++) {
		struct sn_plugin *p = sn_egstack_layer(s, top, i);
		const struct sn_egress_ops *ops = sn_plugin_ops(p);
		const char *name = layer_name(s, c, i);

		if (!layer_changed(s, old, c, i))
			continue;
		why[0] = '\0';
		r = ops->reconfigure(p->inst, sn_egstack_options(c, name, is_layer(p), &o, items, MAX_OPTS),
				     why, sizeof(why));
		if (r < 0) {
			snprintf(err, err_len, "%s: plugins.options.%s: %s", c->path, name,
				 why[0] ? why : strerror(-r));
			return r;
		}
	}
	return 0;
}
