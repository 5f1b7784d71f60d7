/* SPDX-License-Identifier: MIT */
/*
 * core/egstack.h: the egress stack (docs/plugin-sdk.md, "Composition"). The
 * egress plugins.egress names is the top, the one the host drives; when it
 * is a layer (SN_EGRESS_F_LAYER) the egress its option `over` names (else
 * raw_direct) is loaded below it, and so on down to one that moves
 * datagrams itself, at most SN_EGRESS_MAX_LAYERS in all. `over` is the
 * host's: a layer's create() and reconfigure() never see it.
 */
#ifndef SN_EGSTACK_H
#define SN_EGSTACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "host.h"
#include "loader.h"

#define SN_EGSTACK_BELOW (SN_EGRESS_MAX_LAYERS - 1)

struct sn_egstack {
	struct sn_plugin below[SN_EGSTACK_BELOW];   /* below[0] is right under the top */
	struct sn_host host[SN_EGSTACK_BELOW];      /* below[i]'s handle: deliver goes up */
	struct sn_plugin *above[SN_EGSTACK_BELOW];  /* the layer right above below[i] */
	uint32_t n;                               /* egresses below the top */
	uint32_t headroom, tailroom, overhead;    /* summed over the stack, top included */
};

/* Load and create the egress stack named by c: the top into *top (with the
 * node's handle), the rest into s (each with a handle of its own), then
 * attach every layer to the egress below it, bottom up. datagram_max is the
 * longest datagram the host sends (struct sn_egress_lower). 0, or a
 * negative errno with one line in err naming the plugin and the config
 * key; what was loaded stays for sn_egstack_unload. */
int sn_egstack_load(struct sn_egstack *s, struct sn_plugin *top, struct sn_host *node,
		  const struct sn_config *c, const char *dir, uint32_t datagram_max, char *err,
		  size_t err_len);

/* Destroy and unload top first, then each egress below it. Safe on a
 * zeroed stack and top. */
void sn_egstack_unload(struct sn_egstack *s, struct sn_plugin *top);

/* A plugin's options from c as create() and reconfigure() get them:
 * `over` left out for an egress layer, at most max items. */
const struct sn_options *sn_egstack_options(const struct sn_config *c, const char *name,
					  bool layer, struct sn_options *o,
					  struct sn_option *items, uint32_t max);

/* The stack's egress number i (0 = top, then below[0], ...). */
struct sn_plugin *sn_egstack_layer(struct sn_egstack *s, struct sn_plugin *top, uint32_t i);

/* Options equal (a missing list equals an empty one). */
bool sn_egstack_opts_eq(const struct sn_conf_plugin_opts *a, const struct sn_conf_plugin_opts *b);

/* Reload: may the running stack take the options of config c (old is the
 * running config)? 0 with *changed set when some egress's options changed
 * and each such one can apply them (reconfigure); -ENOTSUP with a reason
 * when `over` changed anywhere or an egress cannot. */
int sn_egstack_reload_check(struct sn_egstack *s, struct sn_plugin *top, const struct sn_config *old,
			  const struct sn_config *c, bool *changed, char *err, size_t err_len);

/* Reload's commit: every egress of the stack whose options differ between
 * old and c gets them (reconfigure). 0 or the first error (reason in err). */
int sn_egstack_reconfigure(struct sn_egstack *s, struct sn_plugin *top, const struct sn_config *old,
			 const struct sn_config *c, char *err, size_t err_len);

#endif
