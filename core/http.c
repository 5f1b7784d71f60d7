/* SPDX-License-Identifier: MIT */
/*
 * core/http.c: the metrics over HTTP (core/http.h): the request-head
 * parser, the reply heads, and the server on the node's loop. Each
 * connection owns one arena holding its reply, freed with it in the close
 * callback of its last handle.
 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl.h"
#include "node.h"

/* ---- parsing a request head ------------------------------------------- */

/* Just past the empty line that ends the head, or 0. Lines end in CRLF or
 * LF (RFC 9112, section 2.2). */
static size_t head_end(const char *b, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (b[i] != '\n')
			continue;
		if (i + 1 < len && b[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && b[i + 1] == '\r' && b[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

static bool tchar(char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool all_tchar(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!tchar(s[i]))
			return false;
	return n > 0;
}

/* The path of a request target (origin form, or absolute form), without
 * its query: [*p, *p + *n). */
static bool target_path(const char *t, size_t tn, const char **p, size_t *n)
{
	size_t i = 0;

	if (tn > 7 && !strncasecmp(t, "http://", 7)) {
		for (i = 7; i < tn && t[i] != '/'; i++)
			;
		if (i == tn) {
			*p = "/";
			*n = 1;
			return true;
		}
	}
	if (t[i] != '/')
		return false;
	*p = t + i;
	for (*n = 0; i + *n < tn && t[i + *n] != '?' && t[i + *n] != '#'; (*n)++)
		;
	return true;
}

static int version(const char *v, size_t n)
{
	if (n != 8 || strncmp(v, "HTTP/", 5) || v[5] < '0' || v[5] > '9' || v[6] != '.' ||
	    v[7] < '0' || v[7] > '9')
		return 400;
	return v[5] == '1' && (v[7] == '0' || v[7] == '1') ? 0 : 505;
}

/* "METHOD SP TARGET SP VERSION" (n bytes, no line end). */
static int request_line(const char *l, size_t n, struct sn_http_req *r)
{
	const char *sp1 = memchr(l, ' ', n), *sp2, *path;
	size_t path_n;
	int v;

	for (size_t i = 0; i < n; i++)
		if ((unsigned char)l[i] <= ' ' && l[i] != ' ')
			return 400;
	if (!sp1 || !(sp2 = memchr(sp1 + 1, ' ', (size_t)(l + n - sp1 - 1))) ||
	    memchr(sp2 + 1, ' ', (size_t)(l + n - sp2 - 1)) || sp2 == sp1 + 1 ||
	    !all_tchar(l, (size_t)(sp1 - l)))
		return 400;
	if ((v = version(sp2 + 1, (size_t)(l + n - sp2 - 1))))
		return v;
	r->head = sp1 - l == 4 && !memcmp(l, "HEAD", 4);
	if (!r->head && !(sp1 - l == 3 && !memcmp(l, "GET", 3)))
		return 405;
	if (!target_path(sp1 + 1, (size_t)(sp2 - sp1 - 1), &path, &path_n))
		return 400;
	return path_n == 8 && !memcmp(path, "/metrics", 8) ? 200 : 404;
}

/* "NAME: value" (no folding, no control character but HT). */
static bool header_line(const char *l, size_t n)
{
	const char *colon = memchr(l, ':', n);

	for (size_t i = 0; i < n; i++)
		if (((unsigned char)l[i] < ' ' && l[i] != '\t') || l[i] == 0x7f)
			return false;
	return colon && all_tchar(l, (size_t)(colon - l));
}

/* The next line of [*at, end): its length without the line end; *at moves
 * past it. */
static size_t next_line(const char *b, size_t *at, size_t end, const char **line)
{
	const char *nl = memchr(b + *at, '\n', end - *at);
	size_t n = (size_t)(nl - (b + *at));

	*line = b + *at;
	*at += n + 1;
	return n && (*line)[n - 1] == '\r' ? n - 1 : n;
}

int sn_http_parse(const char *buf, size_t len, struct sn_http_req *r)
{
	size_t end = head_end(buf, len), at = 0, n;
	const char *l;

	memset(r, 0, sizeof(*r));
	if (!end && len < SN_HTTP_MAX_REQUEST)
		return 0;
	if (!end) {
		r->status = 431;
		return 1;
	}
	n = next_line(buf, &at, end, &l);
	r->status = request_line(l, n, r);
	while (r->status != 400 && (n = next_line(buf, &at, end, &l)) > 0)
		if (!header_line(l, n))
			r->status = 400;
	return 1;
}

/* ---- reply heads -------------------------------------------------------- */

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Internal Server Error";
	}
}

size_t sn_http_head(char *buf, size_t len, int status, size_t body_len)
{
	int n = snprintf(buf, len,
			 "HTTP/1.1 %d %s\r\n"
			 "Content-Type: %s\r\n"
			 "Content-Length: %zu\r\n"
			 "%s"
			 "Connection: close\r\n"
			 "\r\n",
			 status, reason(status),
			 status == 200 ? "text/plain; version=0.0.4; charset=utf-8"
				       : "text/plain; charset=utf-8",
			 body_len,
			 status == 405 ? "Allow: GET, HEAD\r\n" : status == 503 ? "Retry-After: 1\r\n" : "");

	if (n < 0 || !len)
		return 0;
	return (size_t)n < len ? (size_t)n : len - 1;
}

/* The body of an error reply. */
static const char *error_body(int status)
{
	switch (status) {
	case 404: return "404 Not Found: this server has only /metrics\n";
	case 405: return "405 Method Not Allowed: GET or HEAD /metrics\n";
	case 408: return "408 Request Timeout: the request did not arrive in time\n";
	case 431: return "431 Request Header Fields Too Large: at most 4096 bytes\n";
	case 503: return "503 Service Unavailable: too many connections, try again\n";
	case 505: return "505 HTTP Version Not Supported: HTTP/1.0 or HTTP/1.1\n";
	case 500: return "500 Internal Server Error: out of memory\n";
	default: return "400 Bad Request\n";
	}
}

/* ---- connections ------------------------------------------------------- */

struct sn__http_conn {
	struct sn_http *srv;
	struct sn__http_conn *prev, *next;
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_write_t wr;
	uv_shutdown_t sd;
	struct sn_arena arena;
	struct sn_ctl_out out;      /* the body */
	char head[256];
	uint32_t open;              /* handles not yet closed */
	enum { UNCOUNTED, SERVED, REFUSED } kind; /* in srv->n_conns, in n_refusing */
	struct sockaddr_storage peer; /* the client's address */
	bool replied;               /* the request is answered: drain, then close */
	bool written;               /* the reply is with the kernel */
	bool eof;                   /* the client will send nothing more */
	bool closing;
	size_t len;                 /* bytes of the request head in buf */
	char buf[SN_HTTP_MAX_REQUEST];
};

static void srv_unref(struct sn_http *srv)
{
	if (--srv->refs == 0)
		free(srv);
}

static void accept_one(struct sn_http *srv);

static void on_conn_closed(uv_handle_t *h)
{
	struct sn__http_conn *c = h->data;
	struct sn_http *srv = c->srv;

	if (--c->open)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->kind == SERVED)
		srv->n_conns--;
	else if (c->kind == REFUSED)
		srv->n_refusing--;
	sn_arena_free(&c->arena);
	free(c);
	if (srv->waiting && !srv->stopping)
		accept_one(srv); /* a slot is free: take the one libuv holds */
	srv_unref(srv);
}

static void conn_close(struct sn__http_conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
	uv_close((uv_handle_t *)&c->timer, on_conn_closed);
}

static void on_timeout(uv_timer_t *t);

/* The reply is out: half-close, then drain what the client still sends
 * until it closes too or the linger ends (a close with unread bytes would
 * reset the connection and could take the reply with it). */
static void on_shutdown(uv_shutdown_t *sd, int status)
{
	struct sn__http_conn *c = sd->data;

	if (status < 0)
		conn_close(c);
}

static void on_written(uv_write_t *w, int status)
{
	struct sn__http_conn *c = w->data;

	c->written = true;
	if (status < 0 || c->closing || c->eof) {
		conn_close(c); /* nothing unread is left behind: no reset */
		return;
	}
	c->sd.data = c;
	if (uv_shutdown(&c->sd, (uv_stream_t *)&c->tcp, on_shutdown) < 0)
		conn_close(c);
	else
		uv_timer_start(&c->timer, on_timeout, SN_HTTP_LINGER_MS, 0);
}

static void reply(struct sn__http_conn *c, int status, bool head_only)
{
	const char *body = status == 200 ? c->out.buf : error_body(status);
	size_t body_len = status == 200 ? c->out.len : strlen(body);
	uv_buf_t b[2];

	c->replied = true;
	c->srv->served++;
	b[0] = uv_buf_init(c->head, (unsigned)sn_http_head(c->head, sizeof(c->head), status, body_len));
	b[1] = uv_buf_init((char *)body, (unsigned)body_len);
	c->wr.data = c;
	if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, b, head_only ? 1 : 2, on_written) < 0)
		conn_close(c);
}

/* The metrics, as `subnetra metrics` prints them (ctl_proto.c). */
static void serve(struct sn__http_conn *c, bool head_only)
{
	struct sn_node *n = c->srv->node;

	sn_node_kernel_counters(n);
	sn__ctl_metrics(&c->out, n, uv_hrtime());
	reply(c, c->out.err ? 500 : 200, head_only);
}

static void on_timeout(uv_timer_t *t)
{
	struct sn__http_conn *c = t->data;

	if (c->replied) {
		conn_close(c); /* the linger is over */
		return;
	}
	reply(c, 408, false); /* what the client sends meanwhile is drained */
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct sn__http_conn *c = h->data;

	/* once answered, what comes is read into the same buffer and dropped */
	b->base = c->replied ? c->buf : c->buf + c->len;
	b->len = c->replied ? sizeof(c->buf) : sizeof(c->buf) - c->len;
}

/* The client half-closed or failed: once the reply is with the kernel the
 * connection can go; before the request was complete it gets a 400. */
static void on_end(struct sn__http_conn *c, ssize_t why)
{
	c->eof = true;
	uv_read_stop((uv_stream_t *)&c->tcp);
	if (why != UV_EOF || c->written)
		conn_close(c);
	else if (!c->replied)
		reply(c, 400, false);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	struct sn__http_conn *c = s->data;
	struct sn_http_req r;

	if (nread < 0) {
		on_end(c, nread);
		return;
	}
	if (c->replied || nread == 0)
		return;
	c->len += (size_t)nread;
	if (!sn_http_parse(c->buf, c->len, &r))
		return;
	if (r.status == 200)
		serve(c, r.head);
	else
		reply(c, r.status, r.head);
}

/* ---- accepting ---------------------------------------------------------- */

static struct sn__http_conn *conn_new(struct sn_http *srv)
{
	struct sn__http_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->srv = srv;
	sn_arena_init(&c->arena, 0);
	sn__ctl_out_init(&c->out, &c->arena);
	uv_tcp_init(srv->server.loop, &c->tcp);
	uv_timer_init(srv->server.loop, &c->timer);
	c->tcp.data = c->timer.data = c;
	c->open = 2;
	c->next = srv->conns;
	if (srv->conns)
		srv->conns->prev = c;
	srv->conns = c;
	srv->refs++;
	return c;
}

static bool same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return a->ss_family == AF_INET6 &&
	       !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		       &((const struct sockaddr_in6 *)b)->sin6_addr, 16);
}

/* Requests being served for the host c connects from. */
static uint32_t from_host(const struct sn_http *srv, const struct sn__http_conn *c)
{
	uint32_t k = 0;

	for (const struct sn__http_conn *o = srv->conns; o; o = o->next)
		k += o != c && o->kind == SERVED && same_host(&o->peer, &c->peer);
	return k;
}

static void start_serving(struct sn__http_conn *c)
{
	c->kind = SERVED;
	c->srv->n_conns++;
	uv_timer_start(&c->timer, on_timeout, c->srv->timeout_ms, 0);
}

static void refuse(struct sn__http_conn *c)
{
	c->kind = REFUSED;
	c->srv->n_refusing++;
	c->srv->refused++;
	reply(c, 503, false); /* what the client sends meanwhile is drained */
}

/* Take the connection libuv holds, unless every slot (served and refusing)
 * is taken: then it waits there, and the kernel's backlog behind it, until
 * a connection closes. A request is served while fewer than max_conns are
 * and fewer than SN_HTTP_MAX_PER_HOST come from the same host, else 503. */
static void accept_one(struct sn_http *srv)
{
	struct sn__http_conn *c;
	int len = sizeof(c->peer);

	srv->waiting = true;
	if (srv->n_conns >= srv->max_conns && srv->n_refusing >= SN_HTTP_MAX_REFUSING)
		return;
	if (!(c = conn_new(srv)))
		return; /* no memory: try again when a connection closes */
	srv->waiting = false;
	if (uv_accept((uv_stream_t *)&srv->server, (uv_stream_t *)&c->tcp) < 0 ||
	    uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&c->peer, &len) < 0 ||
	    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0) {
		conn_close(c);
		return;
	}
	if (srv->n_conns < srv->max_conns && from_host(srv, c) < SN_HTTP_MAX_PER_HOST)
		start_serving(c);
	else if (srv->n_refusing < SN_HTTP_MAX_REFUSING)
		refuse(c);
	else
		conn_close(c);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct sn_http *srv = server->data;

	if (status < 0 || srv->stopping)
		return;
	accept_one(srv);
}

/* ---- start and stop ------------------------------------------------------ */

static void on_server_closed(uv_handle_t *h)
{
	srv_unref(h->data);
}

static void sockaddr_of(const struct sn_addr *a, struct sockaddr_in *sin)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(a->port);
	memcpy(&sin->sin_addr, a->ip, 4);
}

static int listen_on(struct sn_http *srv, const struct sn_config *cf, char *err, size_t err_len)
{
	struct sockaddr_in sin;
	char where[64];
	int r;

	sockaddr_of(&cf->metrics_listen, &sin);
	sn__ctl_addr_str(&cf->metrics_listen, where, sizeof(where));
	if ((r = uv_tcp_bind(&srv->server, (const struct sockaddr *)&sin, 0)) < 0 ||
	    (r = uv_listen((uv_stream_t *)&srv->server, 64, on_connection)) < 0)
		snprintf(err, err_len, "%s: metrics.listen: cannot serve metrics on %s: %s",
			 cf->path, where, uv_strerror(r));
	return r;
}

int sn_http_start(struct sn_node *n, char *err, size_t err_len)
{
	const struct sn_config *cf = n->cfg;
	struct sn_http *srv;
	int r;

	if (!(cf->has & SN_CONF_HAS_METRICS))
		return 0;
	if (!(srv = calloc(1, sizeof(*srv)))) {
		snprintf(err, err_len, "out of memory for the metrics server");
		return -ENOMEM;
	}
	srv->node = n;
	srv->timeout_ms = SN_HTTP_TIMEOUT_MS;
	srv->max_conns = SN_HTTP_MAX_CONNS;
	srv->refs = 1;
	uv_tcp_init(&n->loop, &srv->server);
	srv->server.data = srv;
	if ((r = listen_on(srv, cf, err, err_len)) < 0) {
		srv->stopping = true;
		uv_close((uv_handle_t *)&srv->server, on_server_closed);
		return r;
	}
	n->http = srv;
	return 0;
}

void sn_http_stop(struct sn_node *n)
{
	struct sn_http *srv = n->http;

	if (!srv)
		return;
	n->http = NULL;
	srv->stopping = true;
	for (struct sn__http_conn *c = srv->conns; c; c = c->next)
		conn_close(c);
	uv_close((uv_handle_t *)&srv->server, on_server_closed);
}
