/* SPDX-License-Identifier: MIT */
/*
 * A minimal egress plugin built once per FLAW_* define: FLAW_good is a
 * correct plugin; every other variant breaks exactly one loader rule.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <subnetra/sdk.h>

struct inst {
	int opened;
};

static int t_open(void *inst, const struct sn_egress_open *a)
{
	((struct inst *)inst)->opened = 1;
	return 0;
}

static int t_fd(void *inst)
{
	return -EBADF;
}

static int t_local(void *inst, struct sn_addr *out)
{
	return -ENOTCONN;
}

static int t_recv(void *inst, struct sn_pkt **pkts, uint32_t n)
{
	return 0;
}

__attribute__((unused)) static int t_send(void *inst, struct sn_pkt *const *pkts, uint32_t n)
{
	return 0;
}

static const struct sn_egress_ops ops = {
	.struct_size = sizeof(struct sn_egress_ops),
	.open = t_open,
	.fd = t_fd,
	.local_addr = t_local,
	.recv_batch = t_recv,
#ifndef FLAW_missing_op
	.send_batch = t_send,
#endif
};

static int t_probe(char *why, uint32_t len)
{
#ifdef FLAW_probe_no
	snprintf(why, len, "needs hardware this machine does not have");
	return -ENODEV;
#else
	return 0;
#endif
}

/* Options of t_good: tailroom: N declares N bytes at create (room_set);
 * counter: NAME registers a counter NAME and adds 1 to it (counters of a
 * plugin must be visible as soon as create returns). */
static int t_option(const struct sn_create_args *a, const struct sn_option *o)
{
	int r;

	if (!strcmp(o->key, "tailroom"))
		return a->api->room_set(a->host, 0, (uint32_t)strtoul(o->value, NULL, 10), 0);
	if (!strcmp(o->key, "counter")) {
		r = a->api->counter_register(a->host, o->value, "A test counter.");
		if (r >= 0)
			a->api->counter_add(a->host, (uint32_t)r, 1);
		return r < 0 ? r : 0;
	}
	snprintf(a->err, a->err_len, "unknown option '%s'", o->key);
	return -EINVAL;
}

static int t_create(void *inst, const struct sn_create_args *a)
{
	int r;

	for (uint32_t i = 0; i < a->options.count; i++)
		if ((r = t_option(a, &a->options.items[i])) < 0)
			return r;
	return 0;
}

static void t_destroy(void *inst)
{
}

static const struct sn_plugin_desc desc = {
#ifdef FLAW_major
	.abi_major = SN_ABI_MAJOR + 1,
#else
	.abi_major = SN_ABI_MAJOR,
#endif
#ifdef FLAW_minor
	.abi_minor = SN_ABI_MINOR + 1,
#else
	.abi_minor = SN_ABI_MINOR,
#endif
	.struct_size = sizeof(struct sn_plugin_desc),
#ifdef FLAW_kind
	.kind = SN_KIND_OS,
#else
	.kind = SN_KIND_EGRESS,
#endif
#ifdef FLAW_noname
	.name = "somebody_else",
#else
	.name = FLAW_NAME,
#endif
	.version = "0",
	.description = "loader test plugin",
	.instance_size = sizeof(struct inst),
#ifdef FLAW_badalign
	.instance_align = 24,
#endif
#ifdef FLAW_bigtail
	.tailroom = 1u << 30,
#endif
	.probe = t_probe,
	.create = t_create,
	.destroy = t_destroy,
	.ops = &ops,
};

#ifndef FLAW_nosym
SN_PLUGIN_EXPORT const struct sn_plugin_desc *sn_plugin_entry_v1(void)
{
	return &desc;
}
#else
SN_PLUGIN_EXPORT const struct sn_plugin_desc *sn_plugin_entry_v0(void)
{
	return &desc;
}
#endif
