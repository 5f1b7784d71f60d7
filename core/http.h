/* SPDX-License-Identifier: MIT */
/*
 * core/http.h: the metrics over HTTP (`metrics: { listen: ADDRESS:PORT }`,
 * docs/control.md, "Metrics over HTTP"): GET /metrics on the node's loop
 * with libuv TCP, the body exactly what `subnetra metrics` prints
 * (sn__ctl_metrics).
 *
 * Bounded by construction, so a scraper (or anyone who can reach the
 * port) never holds up forwarding: at most SN_HTTP_MAX_CONNS requests are
 * served at once and at most SN_HTTP_MAX_PER_HOST from one host, so one
 * abusive client cannot take every slot (more get 503 and are closed;
 * beyond SN_HTTP_MAX_REFUSING refusals in flight the rest wait in the
 * kernel's backlog), a request
 * head has at most SN_HTTP_MAX_REQUEST bytes in a fixed buffer (more: 431),
 * and it must be complete SN_HTTP_TIMEOUT_MS after the connection was
 * accepted (else 408: a slowloris client costs a slot for that long and
 * no more). One request per connection: every reply says
 * "Connection: close", then the server half-closes and drains what the
 * client still sends for SN_HTTP_LINGER_MS, so the reply is not lost to a
 * reset. HTTP/1.0 and HTTP/1.1; GET and HEAD; any path but /metrics
 * (a query string is ignored) is 404.
 */
#ifndef SN_HTTP_H
#define SN_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct sn_node;

#define SN_HTTP_MAX_CONNS 8       /* requests served at once */
#define SN_HTTP_MAX_PER_HOST 4    /* of them from one client address */
#define SN_HTTP_MAX_REFUSING 8    /* 503 replies in flight at once */
#define SN_HTTP_MAX_REQUEST 4096  /* bytes of a request head */
#define SN_HTTP_TIMEOUT_MS 5000   /* from accept to a complete request head */
#define SN_HTTP_LINGER_MS 1000    /* draining after the reply */

/* A parsed request head. */
struct sn_http_req {
	int status;   /* the reply: 200 (serve /metrics), or 400, 404, 405, 431, 505 */
	bool head;    /* HEAD: the reply without its body */
};

/* buf[0..len) so far: 0 while the head is incomplete and could still fit
 * (more bytes are needed), else 1 with r filled in (a head longer than
 * SN_HTTP_MAX_REQUEST is 431 as soon as that many bytes came). */
int sn_http_parse(const char *buf, size_t len, struct sn_http_req *r);

/* The status line and headers of a reply with a body of body_len bytes
 * into buf: its length (cut to len - 1). */
size_t sn_http_head(char *buf, size_t len, int status, size_t body_len);

/* The server (node->http). Freed in the close callback of its last handle. */
struct sn__http_conn;
struct sn_http {
	struct sn_node *node;
	uv_tcp_t server;
	uint64_t timeout_ms;        /* SN_HTTP_TIMEOUT_MS; tests shorten it */
	uint32_t max_conns;         /* SN_HTTP_MAX_CONNS; tests may lower it */
	uint32_t n_conns;           /* requests being served */
	uint32_t n_refusing;        /* 503 replies not yet closed */
	bool waiting;               /* a connection waits in libuv to be accepted */
	bool stopping;
	uint32_t refs;              /* open server handle + connections not yet freed */
	uint64_t served, refused;   /* replies sent (any status), 503s */
	struct sn__http_conn *conns;
};

/* Start serving when the config has metrics.listen (nothing otherwise).
 * 0 or -errno with a message naming the address. Setup, on the loop. */
int sn_http_start(struct sn_node *n, char *err, size_t err_len);
/* Close the server and every connection (teardown). */
void sn_http_stop(struct sn_node *n);

#endif
