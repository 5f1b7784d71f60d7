/* SPDX-License-Identifier: MIT */
/*
 * core/ctl_client.c: the subnetra tool's side of the control protocol.
 *
 * One request per connection: the tool writes one line (the command and its
 * arguments separated by spaces, "json" prepended for --json), then reads
 * the reply until the daemon closes. The reply's last line is "ok" or
 * "error <reason>"; everything before it is the command's output.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "sock.h"
#include "tool.h"

#define REPLY_TIMEOUT_MS 10000

/* quiet: no message when nothing listens there (no file, refused). */
static int connect_to(const char *path, bool quiet)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "subnetra: control socket path too long: %s\n", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	fd = sn_socket(AF_UNIX, SOCK_STREAM, 0, false);
	if (fd < 0)
		return fd;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;

		if (!quiet || (e != ENOENT && e != ECONNREFUSED))
			fprintf(stderr, "subnetra: cannot connect to %s: %s%s\n", path, strerror(e),
				e == ENOENT || e == ECONNREFUSED ? " (is subnetrad running?)" :
				e == EACCES ? " (run as root or as a member of the control group)" : "");
		close(fd);
		return -e;
	}
	return fd;
}

static int send_request(int fd, const struct sn_tool_opts *o, int argc, char **argv)
{
	char line[4096];
	size_t n = 0;

	if (o->json)
		n += (size_t)snprintf(line, sizeof(line), "json ");
	for (int i = 0; i < argc && n < sizeof(line); i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s", argv[i],
				      i + 1 < argc ? " " : "\n");
	if (n >= sizeof(line)) {
		fprintf(stderr, "subnetra: request too long\n");
		return -E2BIG;
	}
	if (write(fd, line, n) != (ssize_t)n) {
		fprintf(stderr, "subnetra: cannot send the request: %s\n", strerror(errno));
		return -EIO;
	}
	shutdown(fd, SHUT_WR);
	return 0;
}

/* Read the whole reply; print all but the status line; return exit code. */
static int read_reply(int fd)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap), *last;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ssize_t r;
	int rc;

	if (!buf)
		return 1;
	for (;;) {
		if (n + 1 >= cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb) {
				free(buf);
				return 1;
			}
			buf = nb;
			cap *= 2;
		}
		if (poll(&p, 1, REPLY_TIMEOUT_MS) <= 0) {
			fprintf(stderr, "subnetra: no reply from the daemon within %d s\n",
				REPLY_TIMEOUT_MS / 1000);
			free(buf);
			return 1;
		}
		r = read(fd, buf + n, cap - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = 0;
	if (n && buf[n - 1] == '\n')
		buf[--n] = 0;
	last = strrchr(buf, '\n');
	last = last ? last + 1 : buf;
	fwrite(buf, 1, (size_t)(last - buf), stdout);
	if (!strcmp(last, "ok")) {
		rc = 0;
	} else if (!strncmp(last, "error ", 6)) {
		fprintf(stderr, "subnetra: %s\n", last + 6);
		rc = 1;
	} else {
		fprintf(stderr, "subnetra: the daemon closed the connection without a status line\n");
		rc = 1;
	}
	free(buf);
	return rc;
}

static const char *socket_path(const struct sn_tool_opts *o, struct sn_config **cfg)
{
	char err[1024];

	if (o->socket)
		return o->socket;
	if (o->config) {
		/* only the socket path: the tool may run as a control-group member
		 * who cannot read the keys, or while a name does not resolve */
		if (sn_config_load_socket(o->config, cfg, err, sizeof(err)) < 0) {
			fprintf(stderr, "subnetra: %s\n", err);
			return NULL;
		}
		return (*cfg)->control_socket;
	}
	return SN_CONF_DEFAULT_SOCKET;
}

static int run(const struct sn_tool_opts *o, int argc, char **argv, bool quiet)
{
	struct sn_config *cfg = NULL;
	const char *path = socket_path(o, &cfg);
	int fd, rc = 1;

	if (!path)
		return 1;
	fd = connect_to(path, quiet);
	if (quiet && (fd == -ENOENT || fd == -ECONNREFUSED))
		rc = SN_TOOL_NOT_RUNNING;
	if (fd >= 0) {
		if (send_request(fd, o, argc, argv) == 0)
			rc = read_reply(fd);
		close(fd);
	}
	if (cfg)
		sn_config_free(cfg);
	return rc;
}

int sn_tool_control(const struct sn_tool_opts *o, int argc, char **argv)
{
	return run(o, argc, argv, false);
}

int sn_tool_control_if_running(const struct sn_tool_opts *o, int argc, char **argv)
{
	return run(o, argc, argv, true);
}
