/* SPDX-License-Identifier: MIT */
/*
 * core/notify.h: telling a service manager how the node is doing, with the
 * readiness protocol of systemd's sd_notify(3), written here so the daemon
 * needs no libsystemd: one AF_UNIX datagram of "KEY=VALUE" lines to the
 * socket named by $NOTIFY_SOCKET (a path, or an abstract name written with
 * a leading '@'). Without $NOTIFY_SOCKET everything here does nothing.
 *
 * Nothing here ever blocks the loop: the datagram is sent MSG_DONTWAIT and
 * a failure is logged once, then ignored (the node runs on regardless).
 */
#ifndef SN_NOTIFY_H
#define SN_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <uv.h>

struct sn_host;
struct sn_node;

struct sn_notify {
	bool on;                   /* a service manager listens (zeroed: off) */
	int fd;                    /* the datagram socket, while on */
	struct sockaddr_un addr;
	socklen_t addr_len;
	bool warned;               /* a failed send was logged already */
	struct sn_host *log;       /* where that one message goes (NULL: stderr) */
	char last_status[128];     /* the STATUS= sent last, so only changes go out */
	uv_timer_t status_timer;   /* refreshes STATUS= while the node runs */
};

/* Open the socket for path (the value of $NOTIFY_SOCKET; NULL or "" turns
 * notification off, returning 0). -EINVAL for a path that is neither
 * absolute nor '@'-abstract or does not fit sun_path, -errno when no
 * socket can be made; err says which, and notification stays off. */
int sn_notify_open(struct sn_notify *n, const char *path, char *err, size_t err_len);
/* Send msg ("READY=1\nSTATUS=..."): 0, or -errno (logged the first time
 * only). A no-op returning 0 when notification is off. */
int sn_notify_send(struct sn_notify *n, const char *msg);
void sn_notify_close(struct sn_notify *n);

/* The node's messages (notify.c; each a no-op without a service manager):
 *   sn_node_notify_ready      READY=1 with STATUS=, at start and when a
 *                             SIGHUP reload is done (applied or refused);
 *                             starts the STATUS= refresh on the node's loop
 *   sn_node_notify_reloading  RELOADING=1 with MONOTONIC_USEC=, on SIGHUP
 *   sn_node_notify_stopping   STOPPING=1, once the loop has stopped
 * STATUS= reads "epoch E, P peers, V verified" (and the reload count). */
void sn_node_notify_ready(struct sn_node *n);
void sn_node_notify_reloading(struct sn_node *n);
void sn_node_notify_stopping(struct sn_node *n);
/* The status text for n into buf (also what `STATUS=` carries). */
void sn_node_status_line(const struct sn_node *n, char *buf, size_t len);

#endif
