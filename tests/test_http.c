/* SPDX-License-Identifier: MIT */
/*
 * tests/test_http.c: the metrics over HTTP (core/http.c). The request-head
 * parser on a table (methods, paths, versions, line ends, malformed and
 * oversized heads, every cut short), the reply heads, and the server on a
 * real loop with a hand-built hub: GET /metrics gives exactly what
 * `subnetra metrics` gives; more than max_conns connections get 503 while
 * the others are served; a huge head gets 431; a slow one gets 408 when
 * its time is up, and none of them holds up the rest.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl.h"
#include "http.h"
#include "node.h"
#include "testnode.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the parser ----------------------------------------------------------- */

static void test_http_parse_table(void **state)
{
	static const struct {
		const char *in;
		int status;   /* 0: more bytes needed */
		bool head;
	} t[] = {
		{ "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 200, false },
		{ "GET /metrics HTTP/1.0\r\n\r\n", 200, false },
		{ "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 200, true },
		{ "GET /metrics HTTP/1.1\nHost: x\n\n", 200, false },        /* LF only */
		{ "GET /metrics?x=1&y HTTP/1.1\r\n\r\n", 200, false },       /* a query is ignored */
		{ "GET http://127.0.0.1:9586/metrics HTTP/1.1\r\n\r\n", 200, false }, /* absolute form */
		{ "GET /metrics HTTP/1.1\r\nAccept: text/plain;version=0.0.4;q=0.9,*/*;q=0.1\r\n"
		  "Accept-Encoding: gzip\r\nUser-Agent: Prometheus/2.42.0\r\n"
		  "X-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n", 200, false },
		{ "GET /metrics HTTP/1.1\r\nX-Empty:\r\nX-Tab: a\tb\r\n\r\n", 200, false },
		/* other paths */
		{ "GET / HTTP/1.1\r\n\r\n", 404, false },
		{ "GET /metrics/ HTTP/1.1\r\n\r\n", 404, false },
		{ "GET /Metrics HTTP/1.1\r\n\r\n", 404, false },
		{ "GET /metricsx HTTP/1.1\r\n\r\n", 404, false },
		{ "GET /../metrics HTTP/1.1\r\n\r\n", 404, false },
		{ "HEAD /x HTTP/1.0\r\n\r\n", 404, true },
		{ "GET http://h HTTP/1.1\r\n\r\n", 404, false },
		/* methods */
		{ "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405, false },
		{ "PUT /metrics HTTP/1.1\r\n\r\n", 405, false },
		{ "get /metrics HTTP/1.1\r\n\r\n", 405, false },
		/* versions */
		{ "GET /metrics HTTP/2.0\r\n\r\n", 505, false },
		{ "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, false },
		{ "GET /metrics HTTP/1.2\r\n\r\n", 505, false },
		{ "GET /metrics HTTP/0.9\r\n\r\n", 505, false },
		{ "GET /metrics HTTP/11\r\n\r\n", 400, false },
		{ "GET /metrics http/1.1\r\n\r\n", 400, false },
		{ "GET /metrics\r\n\r\n", 400, false },
		/* malformed */
		{ "\r\n\r\n", 400, false },
		{ "GET  /metrics HTTP/1.1\r\n\r\n", 400, false },
		{ "GET /metrics  HTTP/1.1\r\n\r\n", 400, false },
		{ "GET /metrics HTTP/1.1 x\r\n\r\n", 400, false },
		{ "GET\t/metrics HTTP/1.1\r\n\r\n", 400, false },
		{ "G(T /metrics HTTP/1.1\r\n\r\n", 400, false },
		{ "GET metrics HTTP/1.1\r\n\r\n", 400, false },
		{ "GET /met\x01rics HTTP/1.1\r\n\r\n", 400, false },
		{ "GET /metrics HTTP/1.1\r\nNo colon here\r\n\r\n", 400, false },
		{ "GET /metrics HTTP/1.1\r\nHost : x\r\n\r\n", 400, false },
		{ "GET /metrics HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400, false },
		{ "GET /metrics HTTP/1.1\r\nX: a\x01z\r\n\r\n", 400, false },
		/* not complete yet */
		{ "", 0, false },
		{ "GET /metrics HTTP/1.1", 0, false },
		{ "GET /metrics HTTP/1.1\r\n", 0, false },
		{ "GET /metrics HTTP/1.1\r\nHost: x\r\n", 0, false },
		{ "GET /metrics HTTP/1.1\r\nHost: x\r\n\r", 0, false },
	};
	struct sn_http_req r;

	for (size_t i = 0; i < N(t); i++) {
		int done = sn_http_parse(t[i].in, strlen(t[i].in), &r);

		if (done != (t[i].status != 0) || (done && r.status != t[i].status))
			print_error("case %zu: '%s': %d %d\n", i, t[i].in, done, r.status);
		assert_int_equal(done, t[i].status != 0);
		if (!done)
			continue;
		assert_int_equal(r.status, t[i].status);
		assert_int_equal(r.head, t[i].head);
	}
}

/* Every prefix of a complete head is "more bytes"; the head itself answers. */
static void test_http_parse_every_cut(void **state)
{
	static const char head[] = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9586\r\nAccept: */*\r\n\r\n";
	struct sn_http_req r;

	for (size_t n = 0; n < sizeof(head) - 1; n++)
		assert_int_equal(sn_http_parse(head, n, &r), 0);
	assert_int_equal(sn_http_parse(head, sizeof(head) - 1, &r), 1);
	assert_int_equal(r.status, 200);
}

/* A head that does not end within SN_HTTP_MAX_REQUEST bytes is 431 as
 * soon as that many came; one that ends inside is read. */
static void test_http_parse_size_limit(void **state)
{
	static char buf[SN_HTTP_MAX_REQUEST];
	static const char start[] = "GET /metrics HTTP/1.1\r\nX: ";
	struct sn_http_req r;

	memset(buf, 'a', sizeof(buf));
	memcpy(buf, start, sizeof(start) - 1);
	assert_int_equal(sn_http_parse(buf, sizeof(buf) - 1, &r), 0);
	assert_int_equal(sn_http_parse(buf, sizeof(buf), &r), 1);
	assert_int_equal(r.status, 431);
	memcpy(buf + sizeof(buf) - 4, "\r\n\r\n", 4);
	assert_int_equal(sn_http_parse(buf, sizeof(buf), &r), 1);
	assert_int_equal(r.status, 200);
}

static void test_http_reply_heads(void **state)
{
	char buf[512];

	sn_http_head(buf, sizeof(buf), 200, 1234);
	assert_string_equal(buf, "HTTP/1.1 200 OK\r\n"
				 "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
				 "Content-Length: 1234\r\n"
				 "Connection: close\r\n\r\n");
	sn_http_head(buf, sizeof(buf), 405, 5);
	assert_string_equal(buf, "HTTP/1.1 405 Method Not Allowed\r\n"
				 "Content-Type: text/plain; charset=utf-8\r\n"
				 "Content-Length: 5\r\n"
				 "Allow: GET, HEAD\r\n"
				 "Connection: close\r\n\r\n");
	sn_http_head(buf, sizeof(buf), 503, 0);
	assert_string_equal(buf, "HTTP/1.1 503 Service Unavailable\r\n"
				 "Content-Type: text/plain; charset=utf-8\r\n"
				 "Content-Length: 0\r\n"
				 "Retry-After: 1\r\n"
				 "Connection: close\r\n\r\n");
	assert_int_equal(sn_http_head(buf, 10, 404, 0), 9);
	assert_string_equal(buf, "HTTP/1.1 ");
}

/* ---- the server on a loop -------------------------------------------------- */

struct fx {
	struct tn *t;
	uint16_t port;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct sockaddr_in sin;
	int len = sizeof(sin);
	char err[256];

	f->t = tn_new("hub", 1700000000, "172.31.2.1:51820");
	assert_int_equal(uv_loop_init(&f->t->n->loop), 0);
	f->t->n->host.loop = &f->t->n->loop;
	f->t->n->cfg->has |= SN_CONF_HAS_METRICS;
	f->t->n->cfg->metrics_listen = (struct sn_addr){ .family = SN_AF_INET, .port = 0,
							 .ip = { 127, 0, 0, 1 } };
	if (sn_http_start(f->t->n, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(uv_tcp_getsockname(&f->t->n->http->server, (struct sockaddr *)&sin, &len), 0);
	f->port = ntohs(sin.sin_port);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	sn_http_stop(f->t->n);
	uv_run(&f->t->n->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->t->n->loop), 0);
	f->t->n->host.loop = NULL;
	tn_free(f->t);
	free(f);
	return 0;
}

/* A connection from 127.0.0.<host> (every 127/8 address is this host's). */
static int client_from(const struct fx *f, uint8_t host)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(f->port) };
	struct sockaddr_in src = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	src.sin_addr.s_addr = htonl(0x7f000000u | host);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&src, sizeof(src)), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

static int client(const struct fx *f)
{
	return client_from(f, 1);
}

static void send_str(int fd, const char *s)
{
	assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

/* Run the loop until fd has a whole reply (the server closed), or ms pass. */
static char *reply_of(struct fx *f, int fd, int ms)
{
	static char buf[1 << 20];
	size_t len = 0;

	for (int i = 0; i < ms; i++) {
		ssize_t n;

		uv_run(&f->t->n->loop, UV_RUN_NOWAIT);
		n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		if (n == 0)
			break;
		if (n > 0) {
			len += (size_t)n;
			continue;
		}
		assert_true(errno == EAGAIN || errno == ECONNRESET);
		if (errno == ECONNRESET)
			break;
		usleep(1000);
	}
	buf[len] = '\0';
	return buf;
}

static const char *body_of(const char *reply)
{
	const char *b = strstr(reply, "\r\n\r\n");

	assert_non_null(b);
	return b + 4;
}

static void test_http_serves_metrics(void **state)
{
	struct fx *f = *state;
	struct sn_arena a;
	struct sn_ctl_out o;
	const char *r;
	char want[64];
	int fd = client(f);

	send_str(fd, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
	r = reply_of(f, fd, 3000);
	close(fd);
	assert_true(!strncmp(r, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; "
			     "charset=utf-8\r\n", 73));
	/* the body is what `subnetra metrics` prints, but for the clock */
	sn_arena_init(&a, 0);
	sn__ctl_out_init(&o, &a);
	sn__ctl_metrics(&o, f->t->n, uv_hrtime());
	snprintf(want, sizeof(want), "Content-Length: %zu\r\n", o.len);
	assert_non_null(strstr(r, want));
	assert_int_equal(strlen(body_of(r)), o.len);
	assert_non_null(strstr(body_of(r), "\nsubnetra_peer_up{peer=\"spoke-a\",id=\"2\"} 0\n"));
	assert_non_null(strstr(body_of(r), "\nsubnetra_peer_last_rx_age_seconds{peer=\"spoke-b\",id=\"3\"} +Inf\n"));
	/* all but the uptime, which may have ticked */
	assert_string_equal(strstr(body_of(r), "# HELP subnetra_epoch "),
			    strstr(o.buf, "# HELP subnetra_epoch "));
	sn_arena_free(&a);

	/* HTTP/1.0, HEAD: the head alone, with the body's length */
	fd = client(f);
	send_str(fd, "HEAD /metrics HTTP/1.0\r\n\r\n");
	r = reply_of(f, fd, 3000);
	close(fd);
	assert_non_null(strstr(r, "\r\nConnection: close\r\n\r\n"));
	assert_string_equal(body_of(r), "");

	/* another path */
	fd = client(f);
	send_str(fd, "GET /index.html HTTP/1.1\r\n\r\n");
	r = reply_of(f, fd, 3000);
	close(fd);
	assert_true(!strncmp(r, "HTTP/1.1 404 Not Found\r\n", 24));
	assert_string_equal(body_of(r), "404 Not Found: this server has only /metrics\n");
	assert_int_equal(f->t->n->http->served, 3);
}

/* A client that sends its request and half-closes gets the whole reply. */
static void test_http_half_close(void **state)
{
	struct fx *f = *state;
	int fd = client(f);
	const char *r;

	send_str(fd, "GET /metrics HTTP/1.0\r\n\r\n");
	shutdown(fd, SHUT_WR);
	r = reply_of(f, fd, 3000);
	close(fd);
	assert_true(!strncmp(r, "HTTP/1.1 200 OK\r\n", 17));
	assert_non_null(strstr(body_of(r), "subnetra_node_info"));
	/* half-closed before the head was complete: 400 */
	fd = client(f);
	send_str(fd, "GET /metrics HTTP/1.0\r\n");
	shutdown(fd, SHUT_WR);
	r = reply_of(f, fd, 3000);
	close(fd);
	assert_true(!strncmp(r, "HTTP/1.1 400 Bad Request\r\n", 26));
}

/* Run the loop until the server serves want connections. */
static void until_served(struct fx *f, uint32_t want)
{
	for (int i = 0; i < 500 && f->t->n->http->n_conns != want; i++) {
		uv_run(&f->t->n->loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
	if (f->t->n->http->n_conns != want)
		print_error("served %u refusing %u waiting %d\n", f->t->n->http->n_conns,
			    f->t->n->http->n_refusing, f->t->n->http->waiting);
	assert_int_equal(f->t->n->http->n_conns, want);
}

/* One GET /metrics from 127.0.0.<host>: the reply's status line. */
static char *scrape(struct fx *f, uint8_t host)
{
	static char line[64];
	int fd = client_from(f, host);
	const char *r;

	send_str(fd, "GET /metrics HTTP/1.1\r\n\r\n");
	r = reply_of(f, fd, 3000);
	close(fd);
	snprintf(line, sizeof(line), "%.*s", (int)strcspn(r, "\r"), r);
	return line;
}

/* Clients that send nothing (or a byte at a time): one host gets at most
 * SN_HTTP_MAX_PER_HOST slots, the next from it 503 at once while another
 * host is served; with every slot taken anyone gets 503; the slow ones get
 * 408 when their time is up, and then everyone is served again. */
static void test_http_limits(void **state)
{
	struct fx *f = *state;
	struct sn_http *srv = f->t->n->http;
	int idle[SN_HTTP_MAX_CONNS];
	const char *r;

	srv->timeout_ms = 600;
	for (int i = 0; i < SN_HTTP_MAX_PER_HOST; i++)
		idle[i] = client_from(f, 2);
	until_served(f, SN_HTTP_MAX_PER_HOST);
	assert_string_equal(scrape(f, 2), "HTTP/1.1 503 Service Unavailable");
	assert_string_equal(scrape(f, 1), "HTTP/1.1 200 OK");
	until_served(f, SN_HTTP_MAX_PER_HOST); /* that one is gone */
	for (int i = SN_HTTP_MAX_PER_HOST; i < SN_HTTP_MAX_CONNS; i++)
		idle[i] = client_from(f, (uint8_t)(3 + i));
	until_served(f, SN_HTTP_MAX_CONNS);
	assert_string_equal(scrape(f, 1), "HTTP/1.1 503 Service Unavailable");
	assert_int_equal(srv->refused, 2);
	/* slowloris: a byte at a time is not a request */
	for (int i = 0; i < SN_HTTP_MAX_CONNS; i++)
		send_str(idle[i], "G");
	for (int i = 0; i < SN_HTTP_MAX_CONNS; i++) {
		r = reply_of(f, idle[i], 3000);
		assert_true(!strncmp(r, "HTTP/1.1 408 Request Timeout\r\n", 30));
		close(idle[i]);
	}
	until_served(f, 0);
	assert_string_equal(scrape(f, 2), "HTTP/1.1 200 OK");
}

/* A head of more than SN_HTTP_MAX_REQUEST bytes: 431, and the reply
 * arrives although the client goes on sending (it is drained). */
static void test_http_huge_request(void **state)
{
	struct fx *f = *state;
	static char big[64 * 1024];
	const char *r;
	size_t sent = 0;
	int fd = client(f);

	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
	for (int i = 0; i < 2000 && sent < sizeof(big); i++) {
		ssize_t n = send(fd, big + sent, sizeof(big) - sent, MSG_NOSIGNAL);

		if (n > 0)
			sent += (size_t)n;
		uv_run(&f->t->n->loop, UV_RUN_NOWAIT);
	}
	r = reply_of(f, fd, 3000);
	close(fd);
	assert_true(!strncmp(r, "HTTP/1.1 431 Request Header Fields Too Large\r\n", 46));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_parse_table),
		cmocka_unit_test(test_http_parse_every_cut),
		cmocka_unit_test(test_http_parse_size_limit),
		cmocka_unit_test(test_http_reply_heads),
		cmocka_unit_test_setup_teardown(test_http_serves_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_half_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_huge_request, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
