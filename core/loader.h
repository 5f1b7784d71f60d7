/* SPDX-License-Identifier: MIT */
/*
 * core/loader.h: finding, checking, creating and unloading plugins.
 *
 * Built-in and dlopen()ed plugins share one descriptor format and one
 * registry. A name without '/' is looked up among the built-ins, then as
 * DIR/<kind>_<name>.so; a name with '/' is a path to a shared object.
 * Every way loading can fail yields one line naming the file and the reason.
 */
#ifndef SN_LOADER_H
#define SN_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "host.h"
#include "subnetra/sdk.h"

struct sn_plugin {
	const struct sn_plugin_desc *desc;
	uint32_t kind;   /* the slot it was loaded for */
	void *handle;    /* dlopen() handle; NULL for a built-in */
	void *inst;      /* instance memory (after sn_plugin_create) */
	char path[512];  /* the file, or "built-in:<name>" */
	struct sn_host_decl decl; /* its room sizes and counters (from load, create);
				   * the host points at it: do not move a created plugin */
	struct sn_host *host;     /* the host it was created with (its counters) */
};

/* Register a built-in plugin (before any load): a plugin linked into the
 * program instead of a file, for unit tests (test_loader, test_fec_xor:
 * test egresses beside real ones); subnetrad registers none. 0, or
 * -ENOSPC when full. */
int sn_loader_register_builtin(sn_plugin_entry_fn entry);

/* The kind's file-name prefix: "egress", "crypto", "os". */
const char *sn_kind_name(uint32_t kind);

/*
 * Find name for kind, dlopen it (RTLD_NOW | RTLD_LOCAL) and check it: entry
 * symbol, ABI version, kind, required operations, availability probe.
 * 0 and *out filled, or a negative errno with the reason in err.
 */
int sn_loader_load(uint32_t kind, const char *name, const char *dir, struct sn_plugin *out,
		   char *err, size_t err_len);

/* Allocate the instance and call create(), during which the plugin may
 * declare room sizes and counters (core/host.h, struct sn_host_decl); room
 * above SN_ROOM_MAX is refused here, naming the plugin. On failure nothing
 * is left to unload but the library (sn_plugin_unload still works). */
int sn_plugin_create(struct sn_plugin *p, struct sn_host *host, const struct sn_options *opts,
		     char *err, size_t err_len);

/* destroy() if created, free the instance, dlclose. Safe on a zeroed struct. */
void sn_plugin_unload(struct sn_plugin *p);

static inline const void *sn_plugin_ops(const struct sn_plugin *p)
{
	return p->desc->ops;
}

#endif
