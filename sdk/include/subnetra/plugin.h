/* SPDX-License-Identifier: MIT */
/*
 * subnetra/plugin.h: the plugin descriptor and entry symbol.
 *
 * A plugin is a shared object that exports exactly one symbol per ABI
 * major, sn_plugin_entry_v1(), returning a pointer to a constant
 * descriptor. The host checks, after dlopen():
 *   - abi_major == SN_ABI_MAJOR and abi_minor <= SN_ABI_MINOR,
 *   - kind matches the slot the config chose it for,
 *   - every required operation of the kind's table is present,
 *   - probe() (if any) says the plugin can run here,
 * and refuses the plugin with an error naming the file otherwise.
 *
 * Lifetime: the host allocates instance_size zeroed bytes aligned to
 * instance_align, calls create() once, uses the ops table, calls destroy()
 * once, then frees the memory. create() failing means destroy() is not
 * called (the plugin cleans up its partial state itself).
 *
 * Structs in this header are append-only: a field added in a minor carries
 * a "since 1.N" comment; struct_size tells the reader how much the writer
 * knew about. Read optional trailing fields with SN_HAS_FIELD().
 */
#ifndef SUBNETRA_PLUGIN_H
#define SUBNETRA_PLUGIN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "subnetra/version.h"
#include "subnetra/packet.h"
#include "subnetra/counters.h"
#include "subnetra/host.h"

#ifdef __cplusplus
extern "C" {
#endif

enum sn_plugin_kind {
	SN_KIND_EGRESS = 1, /* underlay transport: struct sn_egress_ops */
	SN_KIND_CRYPTO = 2, /* AEAD and key schedule: struct sn_crypto_ops */
	SN_KIND_OS = 3      /* TUN device and routes: struct sn_os_ops */
};

/* One per-plugin option from the config (plugins.options.<name>.<key>).
 * Both strings are owned by the host and valid during create() and
 * reconfigure() only: copy what you keep. */
struct sn_option {
	const char *key;
	const char *value;
};

struct sn_options {
	const struct sn_option *items; /* count entries; NULL when count == 0 */
	uint32_t count;
	uint32_t reserved;
};

/* Arguments of create(). Owned by the host, valid during the call only
 * except host and api, which stay valid until destroy() returns. */
struct sn_create_args {
	uint32_t struct_size;         /* sizeof(struct sn_create_args) in the host */
	uint32_t reserved;
	struct sn_host *host;         /* pass back to every api call */
	const struct sn_host_api *api;
	struct sn_options options;    /* this plugin's options from the config */
	char *err;                    /* on failure write a one-line reason here */
	uint32_t err_len;             /* bytes at err, including the NUL */
	uint32_t reserved2;
};

struct sn_plugin_desc {
	uint32_t abi_major;      /* SN_ABI_MAJOR the plugin was built against */
	uint32_t abi_minor;      /* SN_ABI_MINOR the plugin was built against */
	uint32_t struct_size;    /* sizeof(struct sn_plugin_desc) in the plugin */
	uint32_t kind;           /* enum sn_plugin_kind */
	const char *name;        /* config name, e.g. "raw_direct"; static storage */
	const char *version;     /* the plugin's own version; static storage */
	const char *description; /* one line for --check and --help; static storage */
	uint32_t instance_size;  /* bytes the host allocates for an instance */
	uint32_t instance_align; /* alignment of the instance (power of 2, 0 = 16) */
	uint32_t headroom;       /* bytes the plugin needs in front of the data */
	uint32_t tailroom;       /* bytes the plugin needs behind the data */
	uint32_t overhead;       /* bytes it adds to each datagram on the wire */
	uint32_t reserved;

	/* Optional: can the plugin run on this machine? 0 if yes; otherwise a
	 * negative errno and a one-line reason in why. Called before create(). */
	int (*probe)(char *why, uint32_t why_len);

	/* Required: initialise the zeroed instance. 0 or a negative errno (and
	 * a reason in args->err). */
	int (*create)(void *inst, const struct sn_create_args *args);

	/* Required: release everything create() and later calls acquired. The
	 * host frees inst afterwards. */
	void (*destroy)(void *inst);

	/* Required: the kind's operation table (struct sn_egress_ops,
	 * sn_crypto_ops or sn_os_ops); static storage. */
	const void *ops;
};

/* The entry symbol. Plugins define it with SN_PLUGIN_EXPORT. */
typedef const struct sn_plugin_desc *(*sn_plugin_entry_fn)(void);
#define SN_PLUGIN_ENTRY_V1 "sn_plugin_entry_v1"

#if defined(__GNUC__)
#define SN_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define SN_PLUGIN_EXPORT
#endif

/* What a plugin defines (SN_PLUGIN_ENTRY) and the host looks up with
 * dlsym(); declared here so a plugin's unit test can call it directly. */
SN_PLUGIN_EXPORT const struct sn_plugin_desc *sn_plugin_entry_v1(void);

#if defined(__cplusplus)
#define SN__ALIGNOF(T) alignof(T)
#else
#define SN__ALIGNOF(T) _Alignof(T)
#endif

/*
 * The descriptor fields every plugin sets the same way: the ABI it was
 * built against, the descriptor's size, its kind and name, and the size
 * and alignment of its instance type T. Then add the rest:
 *
 *   static const struct sn_plugin_desc desc = {
 *       SN_PLUGIN_DESC_INIT(SN_KIND_EGRESS, "mine", struct mine),
 *       .version = "1.0.0",
 *       .description = "what it does, in one line",
 *       .create = mine_create,
 *       .destroy = mine_destroy,
 *       .ops = &mine_ops,
 *   };
 *   SN_PLUGIN_ENTRY(desc)
 */
#define SN_PLUGIN_DESC_INIT(kind_, name_, T) \
	.abi_major = SN_ABI_MAJOR, .abi_minor = SN_ABI_MINOR, \
	.struct_size = sizeof(struct sn_plugin_desc), .kind = (kind_), .name = (name_), \
	.instance_size = sizeof(T), .instance_align = SN__ALIGNOF(T)

/* Defines the entry symbol returning &desc_. */
#define SN_PLUGIN_ENTRY(desc_) \
	SN_PLUGIN_EXPORT const struct sn_plugin_desc *sn_plugin_entry_v1(void) \
	{ \
		return &(desc_); \
	}

/* Write a one-line reason into an err buffer of the host's (create's
 * args->err, tun_open's cfg->err, ...): printf-style, cut to len bytes
 * including the NUL; nothing when buf is NULL or len 0. */
static inline void sn_errf(char *buf, uint32_t len, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 3, 4)))
#endif
	;
static inline void sn_errf(char *buf, uint32_t len, const char *fmt, ...)
{
	va_list ap;

	if (!buf || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* True when a struct of struct_size bytes includes member m of type T. */
#define SN_HAS_FIELD(T, obj, m) \
	((obj)->struct_size >= offsetof(T, m) + sizeof(((T *)0)->m))

/* True when an ops table carries the optional operation m (present in the
 * plugin's struct and not NULL). */
#define SN_HAS_OP(T, ops, m) (SN_HAS_FIELD(T, ops, m) && (ops)->m != NULL)

#ifdef __cplusplus
}
#endif
#endif
