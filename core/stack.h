/* SPDX-License-Identifier: MIT */
/* core/stack.h: the node's plugin stack (stack.c). */
#ifndef SN_STACK_H
#define SN_STACK_H

#include <stddef.h>

struct sn_config;
struct sn_node;

/* Load and create the os, crypto and egress plugins of n->cfg from
 * n->plugin_dir, and set the node's operation tables. 0 or -errno with
 * the reason in err (what was loaded stays for sn_stack_unload). */
int sn_stack_load(struct sn_node *n, char *err, size_t err_len);
/* Refuse options in config c under a name that no loaded plugin declares,
 * the egresses below the top of the egress stack included ("did you
 * mean"). 0 or -errno with the reason in err. */
int sn_stack_options_check(const struct sn_node *n, const struct sn_config *c, char *err,
			   size_t err_len);
/* overlay.mtu over the loaded egress stack into n->mtu (core/mtu.h):
 * logs the automatic MTU, warns of a set one whose datagrams exceed a
 * 1500-byte underlay. sn_stack_load calls it. */
void sn_stack_mtu(struct sn_node *n);
/* Destroy and unload the plugins, egress first. */
void sn_stack_unload(struct sn_node *n);
/* node.user: switch users through the os backend, keeping only the right
 * to change routes when the node manages them. 0 (also without
 * node.user) or -errno with the reason in err. */
int sn_stack_drop_privileges(struct sn_node *n, char *err, size_t err_len);

#endif
