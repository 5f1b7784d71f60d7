/* SPDX-License-Identifier: MIT */
/*
 * tests/test_notify.c: the sd_notify protocol of core/notify.c against a
 * datagram socket of the test's own (a path and an abstract name), its
 * refusals, that a full or missing receiver never blocks or stops the
 * sender, and the node's messages: READY=1 with STATUS=, RELOADING=1 with
 * MONOTONIC_USEC= on SIGHUP and READY=1 once that reload is done.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "notify.h"
#include "node.h"
#include "testnode.h"

struct rx {
	int fd;
	char name[108]; /* as NOTIFY_SOCKET would say it */
	char dir[64];
};

/* A receiver bound to a path in a fresh directory, or to an abstract name. */
static void rx_open(struct rx *r, bool abstract)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	socklen_t len;

	memset(r, 0, sizeof(*r));
	r->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(r->fd >= 0);
	if (abstract) {
		snprintf(r->name, sizeof(r->name), "@sn-test-notify-%d-%ld", (int)getpid(),
			 (long)random());
		memcpy(a.sun_path + 1, r->name + 1, strlen(r->name) - 1);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(r->name));
	} else {
		snprintf(r->dir, sizeof(r->dir), "/tmp/sn-notify.XXXXXX");
		assert_non_null(mkdtemp(r->dir));
		snprintf(r->name, sizeof(r->name), "%s/notify", r->dir);
		snprintf(a.sun_path, sizeof(a.sun_path), "%s", r->name);
		len = sizeof(a);
	}
	assert_int_equal(bind(r->fd, (struct sockaddr *)&a, len), 0);
}

static void rx_close(struct rx *r)
{
	close(r->fd);
	if (r->dir[0]) {
		unlink(r->name);
		rmdir(r->dir);
	}
}

/* The next datagram, or "" when none is waiting. */
static const char *rx_next(struct rx *r, char *buf, size_t len)
{
	ssize_t k = recv(r->fd, buf, len - 1, MSG_DONTWAIT);

	buf[k > 0 ? k : 0] = '\0';
	return buf;
}

static void test_notify_open_off(void **state)
{
	struct sn_notify n = {0};
	char err[256] = "";

	assert_int_equal(sn_notify_open(&n, NULL, err, sizeof(err)), 0);
	assert_false(n.on);
	assert_int_equal(sn_notify_open(&n, "", err, sizeof(err)), 0);
	assert_false(n.on);
	assert_int_equal(sn_notify_send(&n, "READY=1"), 0);
	assert_string_equal(err, "");
}

static void test_notify_open_refuses(void **state)
{
	static const struct {
		const char *path;
		const char *says;
	} bad[] = {
		{"run/systemd/notify", "not a socket path"},
		{"vsock:2:1234", "expected an absolute path or an @abstract name"},
		{"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "of at most 107 bytes"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sn_notify n = {0};
		char err[512] = "";

		assert_int_equal(sn_notify_open(&n, bad[i].path, err, sizeof(err)), -EINVAL);
		assert_false(n.on);
		assert_non_null(strstr(err, bad[i].says));
		assert_non_null(strstr(err, bad[i].path));
		assert_int_equal(sn_notify_send(&n, "READY=1"), 0);
	}
}

static void test_notify_send_path_and_abstract(void **state)
{
	for (int abstract = 0; abstract < 2; abstract++) {
		struct sn_notify n = {0};
		struct rx r;
		char err[256], buf[256];

		rx_open(&r, abstract);
		assert_int_equal(sn_notify_open(&n, r.name, err, sizeof(err)), 0);
		assert_true(n.on);
		assert_int_equal(sn_notify_send(&n, "READY=1\nSTATUS=up"), 0);
		assert_string_equal(rx_next(&r, buf, sizeof(buf)), "READY=1\nSTATUS=up");
		assert_string_equal(rx_next(&r, buf, sizeof(buf)), "");
		sn_notify_close(&n);
		assert_false(n.on);
		rx_close(&r);
	}
}

/* Nobody reads: the queue fills and the sender gets -EAGAIN at once, it
 * never waits. Nobody listens: -ECONNREFUSED or -ENOENT, logged once. */
static void test_notify_never_blocks(void **state)
{
	struct sn_notify n = {0};
	struct rx r;
	char err[256];
	int rc = 0, sent = 0;
	time_t t0 = time(NULL);

	rx_open(&r, false);
	assert_int_equal(sn_notify_open(&n, r.name, err, sizeof(err)), 0);
	while (sent < 100000 && (rc = sn_notify_send(&n, "STATUS=filling")) == 0)
		sent++;
	assert_int_equal(rc, -EAGAIN);
	assert_true(sent > 0);
	assert_true(n.warned);
	assert_true(time(NULL) - t0 < 5);
	rx_close(&r);
	rc = sn_notify_send(&n, "READY=1");
	assert_true(rc == -ECONNREFUSED || rc == -ENOENT);
	sn_notify_close(&n);
}

/* The node's messages, in the order a SIGHUP makes them. */
static void test_notify_node_ready_reload(void **state)
{
	struct tn *t = tn_new("hub", 7, "172.31.2.1:51820");
	struct sn_node *n = t->n;
	struct rx r;
	char err[256], buf[512], want[128];
	const char *m;
	struct timespec ts;
	unsigned long long usec, now;

	rx_open(&r, true);
	assert_int_equal(sn_notify_open(&n->notify, r.name, err, sizeof(err)), 0);
	assert_int_equal(n->peers.n, 2);
	n->peers.v[1]->s.state = SN_PEER_VERIFIED;
	sn_node_notify_ready(n);
	assert_string_equal(rx_next(&r, buf, sizeof(buf)),
			    "READY=1\nSTATUS=epoch 7, 2 peers, 1 verified, 0 reloads");
	sn_node_status_line(n, want, sizeof(want));
	assert_string_equal(want, "epoch 7, 2 peers, 1 verified, 0 reloads");

	/* SIGHUP: the reload of a file that is not there is refused, and the
	 * service manager still hears that it is over */
	n->config_path = "/nonexistent/sn-test-notify.yaml";
	sn_node_reload_signal(n);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000;
	m = rx_next(&r, buf, sizeof(buf));
	assert_int_equal(strncmp(m, "RELOADING=1\nMONOTONIC_USEC=", 27), 0);
	usec = strtoull(m + 27, NULL, 10);
	assert_true(usec <= now && now - usec < 5000000);
	assert_non_null(strstr(m, "\nSTATUS=reloading /nonexistent/sn-test-notify.yaml"));
	assert_string_equal(rx_next(&r, buf, sizeof(buf)),
			    "READY=1\nSTATUS=epoch 7, 2 peers, 1 verified, 0 reloads");
	assert_string_equal(rx_next(&r, buf, sizeof(buf)), "");

	sn_node_notify_stopping(n);
	assert_string_equal(rx_next(&r, buf, sizeof(buf)), "STOPPING=1\nSTATUS=stopping");
	sn_notify_close(&n->notify);
	rx_close(&r);
	tn_free(t);
}

/* A node nobody started as a service (zeroed notify) tells nobody. */
static void test_notify_node_without_manager(void **state)
{
	struct tn *t = tn_new("spoke-a", 3, "172.31.2.2:40000");

	assert_false(t->n->notify.on);
	sn_node_notify_ready(t->n);
	sn_node_notify_reloading(t->n);
	sn_node_notify_stopping(t->n);
	assert_false(t->n->notify.warned);
	tn_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notify_open_off),
		cmocka_unit_test(test_notify_open_refuses),
		cmocka_unit_test(test_notify_send_path_and_abstract),
		cmocka_unit_test(test_notify_never_blocks),
		cmocka_unit_test(test_notify_node_ready_reload),
		cmocka_unit_test(test_notify_node_without_manager),
	};

	srandom((unsigned)getpid());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
