/* SPDX-License-Identifier: MIT */
/*
 * core/ctl_plugin.c: the counters plugins register (sn_host_api.
 * counter_register) in status, JSON status and metrics, each under its
 * plugin's name, in the order they were registered (docs/plugin-sdk.md,
 * "Host services"; docs/control.md, "status" and "metrics").
 */
#include "ctl.h"
#include "host.h"

/* True when counter i is the first live one of its plugin. */
static bool first_of_plugin(const struct sn_host *h, uint32_t i)
{
	if (!h->pctr[i].owner)
		return false;
	for (uint32_t j = 0; j < i; j++)
		if (h->pctr[j].owner == h->pctr[i].owner)
			return false;
	return true;
}

/* "  plugin    fec_xor: groups 12, recovered 3" for each plugin with counters. */
void sn__ctl_plugin_text(struct sn_ctl_out *o, const struct sn_host *h)
{
	for (uint32_t i = 0; i < h->n_pctr; i++) {
		const struct sn_host_decl *d = h->pctr[i].owner;
		bool sep = false;

		if (!first_of_plugin(h, i))
			continue;
		sn__ctl_printf(o, "  plugin    %s:", d->name);
		for (uint32_t j = i; j < h->n_pctr; j++) {
			if (h->pctr[j].owner != d)
				continue;
			sn__ctl_printf(o, "%s %s %llu", sep ? "," : "", h->pctr[j].name,
				       (unsigned long long)h->pctr_val[j]);
			sep = true;
		}
		sn__ctl_put(o, "\n");
	}
}

/* "plugins":{"fec_xor":{"groups":12,"recovered":3}} ({} without any). */
void sn__ctl_plugin_json(struct sn_ctl_out *o, const struct sn_host *h)
{
	bool sep = false;

	sn__ctl_put(o, "\"plugins\":{");
	for (uint32_t i = 0; i < h->n_pctr; i++) {
		const struct sn_host_decl *d = h->pctr[i].owner;
		bool inner = false;

		if (!first_of_plugin(h, i))
			continue;
		sn__ctl_put(o, sep ? "," : "");
		sn__ctl_json_str(o, d->name);
		sn__ctl_put(o, ":{");
		for (uint32_t j = i; j < h->n_pctr; j++) {
			if (h->pctr[j].owner != d)
				continue;
			sn__ctl_printf(o, "%s\"%s\":%llu", inner ? "," : "", h->pctr[j].name,
				       (unsigned long long)h->pctr_val[j]);
			inner = true;
		}
		sn__ctl_put(o, "}");
		sep = true;
	}
	sn__ctl_put(o, "}");
}

/* subnetra_plugin_<plugin>_<counter>_total, with the plugin's help text. */
void sn__ctl_plugin_metrics(struct sn_ctl_out *o, const struct sn_host *h)
{
	for (uint32_t i = 0; i < h->n_pctr; i++) {
		const struct sn_host_pctr *c = &h->pctr[i];

		if (!c->owner)
			continue;
		sn__ctl_printf(o, "# HELP subnetra_plugin_%s_%s_total %s\n"
			       "# TYPE subnetra_plugin_%s_%s_total counter\n"
			       "subnetra_plugin_%s_%s_total %llu\n", c->owner->name, c->name, c->help,
			       c->owner->name, c->name, c->owner->name, c->name,
			       (unsigned long long)h->pctr_val[i]);
	}
}
