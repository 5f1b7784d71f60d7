/* SPDX-License-Identifier: MIT */
/*
 * core/plugin_opts.c: the config's plugin choices meet the loaded plugins:
 * a load error gets the config location of the choice in front, and every
 * plugins.options.<name> must name a loaded plugin (docs/configuration.md,
 * "plugins"), else its options would be silently ignored.
 */
#include <stdio.h>
#include <string.h>

#include "node.h"

void sn__plugin_err_at(const struct sn_config *c, const struct sn_conf_loc *at, const char *key,
		       char *err, size_t err_len)
{
	char was[2048];

	if (!at->line)
		return;
	snprintf(was, sizeof(was), "%s", err);
	snprintf(err, err_len, "%s:%u:%u: %s: %s", at->file ? at->file : c->path, at->line,
		 at->column, key, was);
}

int sn__plugin_options_check(const struct sn_config *c, const struct sn_plugin *const *pl,
			     uint32_t n, char *err, size_t err_len)
{
	const char *names[8], *hint;
	char loaded[256] = "";
	size_t used = 0;
	uint32_t k = n < 8 ? n : 8;

	for (uint32_t i = 0; i < k; i++) {
		names[i] = pl[i]->desc ? pl[i]->desc->name : NULL;
		if (!names[i])
			continue;
		used += (size_t)snprintf(loaded + used, sizeof(loaded) - used, "%s%s", used ? ", " : "",
					 names[i]);
		if (used >= sizeof(loaded))
			used = sizeof(loaded) - 1;
	}
	for (uint32_t i = 0; i < c->n_plugin_opts; i++) {
		const struct sn_conf_plugin_opts *o = &c->plugin_opts[i];
		uint32_t j;

		for (j = 0; j < k && (!names[j] || strcmp(names[j], o->plugin)); j++)
			;
		if (j < k)
			continue;
		hint = sn_opt_closest(o->plugin, names, k);
		snprintf(err, err_len, "%s:%u:%u: plugins.options.%s: no plugin of that name is "
			 "loaded%s%s%s (loaded: %s)", o->loc.file ? o->loc.file : c->path, o->loc.line,
			 o->loc.column, o->plugin, hint ? "; did you mean '" : "", hint ? hint : "",
			 hint ? "'?" : "", loaded);
		return -EINVAL;
	}
	return 0;
}
