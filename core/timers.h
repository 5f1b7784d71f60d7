/* SPDX-License-Identifier: MIT */
/*
 * core/timers.h: when the node's periodic work runs (timers.c): the
 * spokes' keepalives, the verification round, the log's look at the peers
 * (up, silent, back) with the drop summary, the endpoint names' look
 * (resolve.h). The reactor owns the handles.
 */
#ifndef SN_TIMERS_H
#define SN_TIMERS_H

struct sn_node;

/* (Re)start the keepalive, verification, log and endpoint-name timers
 * (setup, reload; the log's peer list and the names follow the config). Nothing on a node without
 * its handles (tests). */
void sn_timers_restart(struct sn_node *n);
/* The verification round in a second, unless it is running already. */
void sn_timers_verify_start(struct sn_node *n);

#endif
