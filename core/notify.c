/* SPDX-License-Identifier: MIT */
/*
 * core/notify.c: the sd_notify(3) protocol by hand (see notify.h) and the
 * node's messages through it: READY=1 once the node is up, RELOADING=1 and
 * READY=1 around a SIGHUP reload, STOPPING=1, and a STATUS= line kept
 * current while the node runs.
 */
#include "notify.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "node.h"
#include "sock.h"

#define SN_NOTIFY_REFRESH_MS 2000 /* how often STATUS= is looked at again */
#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* macOS: a datagram socket raises no SIGPIPE there */
#endif

int sn_notify_open(struct sn_notify *n, const char *path, char *err, size_t err_len)
{
	size_t len = path ? strlen(path) : 0;
	int fd;

	n->on = false;
	if (!len)
		return 0;
	memset(&n->addr, 0, sizeof(n->addr));
	n->addr.sun_family = AF_UNIX;
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(n->addr.sun_path)) {
		snprintf(err, err_len, "NOTIFY_SOCKET=%s is not a socket path (expected an absolute "
			 "path or an @abstract name of at most %zu bytes): not telling the service "
			 "manager anything", path, sizeof(n->addr.sun_path) - 1);
		return -EINVAL;
	}
	memcpy(n->addr.sun_path, path, len);
	if (path[0] == '@')
		n->addr.sun_path[0] = '\0'; /* abstract: no NUL at the end either */
	n->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (path[0] == '/'));
	fd = sn_socket(AF_UNIX, SOCK_DGRAM, 0, true);
	if (fd < 0) {
		snprintf(err, err_len, "cannot make a socket for NOTIFY_SOCKET=%s: %s", path,
			 strerror(-fd));
		return fd;
	}
	n->fd = fd;
	n->on = true;
	return 0;
}

int sn_notify_send(struct sn_notify *n, const char *msg)
{
	int e;

	if (!n->on)
		return 0;
	if (sendto(n->fd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL,
		   (const struct sockaddr *)&n->addr, n->addr_len) >= 0)
		return 0;
	e = errno;
	if (!n->warned) {
		n->warned = true;
		sn_log(n->log, SN_LOG_WARN, "cannot tell the service manager how the node is "
		       "(NOTIFY_SOCKET): %s; carrying on, further failures are not logged",
		       strerror(e));
	}
	return -e;
}

void sn_notify_close(struct sn_notify *n)
{
	if (n->on)
		close(n->fd);
	n->on = false;
}

/* ---- the node's messages ------------------------------------------------ */

void sn_node_status_line(const struct sn_node *n, char *buf, size_t len)
{
	uint32_t verified = 0;

	for (uint32_t i = 0; i < n->peers.n; i++)
		verified += n->peers.v[i]->s.state == SN_PEER_VERIFIED;
	snprintf(buf, len, "epoch %u, %u peer%s, %u verified, %llu reload%s", n->epoch, n->peers.n,
		 n->peers.n == 1 ? "" : "s", verified, (unsigned long long)n->reloads,
		 n->reloads == 1 ? "" : "s");
}

/* msg (may be "") followed by STATUS= when that changed or force is set. */
static void send_with_status(struct sn_node *n, const char *msg, bool force)
{
	char status[sizeof(n->notify.last_status)], out[512];

	sn_node_status_line(n, status, sizeof(status));
	if (!force && !msg[0] && !strcmp(status, n->notify.last_status))
		return;
	snprintf(out, sizeof(out), "%sSTATUS=%s", msg, status);
	if (sn_notify_send(&n->notify, out) == 0)
		memcpy(n->notify.last_status, status, sizeof(status));
}

static void on_refresh(uv_timer_t *t)
{
	send_with_status(t->data, "", false);
}

/* The refresh runs on the node's loop, closed with the other handles. */
static void start_refresh(struct sn_node *n)
{
	uv_timer_t *t = &n->notify.status_timer;

	if (!n->host.loop || t->loop)
		return;
	uv_timer_init(n->host.loop, t);
	t->data = n;
	uv_timer_start(t, on_refresh, SN_NOTIFY_REFRESH_MS, SN_NOTIFY_REFRESH_MS);
	uv_unref((uv_handle_t *)t);
}

void sn_node_notify_ready(struct sn_node *n)
{
	if (!n->notify.on)
		return;
	send_with_status(n, "READY=1\n", true);
	start_refresh(n);
}

void sn_node_notify_reloading(struct sn_node *n)
{
	struct timespec ts;
	char msg[512];

	if (!n->notify.on)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading %s",
		 (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000,
		 n->config_path);
	sn_notify_send(&n->notify, msg);
	n->notify.last_status[0] = '\0';
}

void sn_node_notify_stopping(struct sn_node *n)
{
	sn_notify_send(&n->notify, "STOPPING=1\nSTATUS=stopping");
}
