/* SPDX-License-Identifier: MIT */
/*
 * core/routes.h: the kernel routes of a node (STYLE rule 26). What a config
 * wants routed through the overlay (every FORWARD prefix outside the
 * overlay subnet: the peers' routes and the FORWARD rules), the difference
 * between two such sets (a reload, new run-time rules), and the set this
 * node added, which it removes again at exit. The wanted set is a function
 * of the config alone, so the network plan (netplan.c) prints the same
 * list the daemon adds without a node; the rest works on a node's os
 * backend, on the control path only.
 */
#ifndef SN_ROUTES_H
#define SN_ROUTES_H

#include <stdint.h>

#include "config.h"

struct sn_node;
struct sn_policy_rule;

/* The routes a node added and must remove at exit (malloc'd). */
struct sn_routes {
	struct sn_prefix *v;
	uint32_t n, cap;
};

/* The prefixes config c routes through the overlay: every peer's routes,
 * then the FORWARD rules, in config order (a prefix may repeat). A
 * malloc'd array the caller frees, *n set; NULL when out of memory. */
struct sn_prefix *sn_routes_wanted(const struct sn_config *c, uint32_t *n);

/* The kernel routes to remove and to add to go from what (old config, old
 * run-time rules) wanted to what (new config, new rules) wants: a merge of
 * two sorted lists, so a worker thread can work it out and the commit only
 * makes the changes. Empty when nc does not manage routes. */
struct sn_route_diff {
	struct sn_prefix *add, *del; /* malloc'd */
	uint32_t n_add, n_del;
};
/* 0, or -ENOMEM with d empty. */
int sn_routes_diff(struct sn_route_diff *d, const struct sn_config *oc,
		   const struct sn_policy_rule *ort, uint32_t n_ort, const struct sn_config *nc,
		   const struct sn_policy_rule *nrt, uint32_t n_nrt);
void sn_routes_diff_free(struct sn_route_diff *d);

/* ---- a node's routes (its os backend; failures are logged) ---- */

/* At setup: a route for every prefix the node's config wants, unless the
 * operator manages routes (overlay.manage_routes false). 0 or -ENOMEM. */
int sn_routes_install(struct sn_node *n);
/* Add p through the overlay interface and remember it; an existing route
 * is left alone (and not removed at exit). */
void sn_routes_add(struct sn_node *n, const struct sn_prefix *p);
/* Remove p if this node added it. */
void sn_routes_del(struct sn_node *n, const struct sn_prefix *p);
/* Make the changes of d. */
void sn_routes_apply(struct sn_node *n, const struct sn_route_diff *d);
/* Work out and make the changes between two (config, rules) pairs. */
void sn_routes_sync(struct sn_node *n, const struct sn_config *oc,
		    const struct sn_policy_rule *ort, uint32_t n_ort, const struct sn_config *nc,
		    const struct sn_policy_rule *nrt, uint32_t n_nrt);
/* At exit: remove every route this node added, free the list. */
void sn_routes_remove_all(struct sn_node *n);

#endif
