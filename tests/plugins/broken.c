/* SPDX-License-Identifier: MIT */
/*
 * A minimal egress plugin built once per FLAW_* define: FLAW_good is a
 * correct plugin; every other variant breaks exactly one loader rule.
 */
#include <errno.h>
#include <stdio.h>
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

static int t_create(void *inst, const struct sn_create_args *a)
{
	for (uint32_t i = 0; i < a->options.count; i++) {
		snprintf(a->err, a->err_len, "unknown option '%s'", a->options.items[i].key);
		return -EINVAL;
	}
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
