/* SPDX-License-Identifier: MIT */
/*
 * core/ctl.h: the control socket, internal to core (ctl_server.c: the
 * socket and its connections; ctl_proto.c: request lines and commands;
 * ctl_format.c: status, peers, metrics and policy output). The tool's side
 * is ctl_client.c; docs/control.md describes the protocol.
 *
 * One request per connection: one line of at most SN_CTL_MAX_LINE bytes
 * (the newline not counted), words separated by spaces or tabs, at most
 * SN_CTL_MAX_ARGS words, an optional leading word "json" selecting JSON
 * output. No quoting: a quote is an ordinary character. The reply is the
 * command's output followed by one status line, "ok" or "error <reason>",
 * and then the server closes the connection.
 *
 * Everything a request produces lives in one arena of its own, freed when
 * the connection closes; the formatting functions take plain data (the
 * node and a clock value) so tests run them without a loop.
 */
#ifndef SN_CTL_H
#define SN_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "arena.h"

struct sn_node;
struct sn_addr;

#define SN_CTL_MAX_LINE 4096    /* bytes in a request line, newline excluded */
#define SN_CTL_MAX_ARGS 32      /* words in a request line, "json" included */
#define SN_CTL_MAX_CONNS 16     /* connections served at once */
#define SN_CTL_TIMEOUT_MS 5000  /* a connection's whole life */

struct sn__ctl_conn;

/* The server (node->ctl). Freed in the close callback of its last handle. */
struct sn_ctl {
	struct sn_node *node;
	uv_pipe_t server;
	char path[108];             /* the socket file (sun_path sized) */
	char name[108];             /* its last component */
	int dirfd;                  /* its directory, checked; -1 when closed */
	dev_t dev;                  /* the file we bound, so stop removes only it */
	ino_t ino;
	bool has_group;             /* control group configured */
	gid_t gid;                  /* its gid */
	char group[64];             /* its name, for messages */
	uint64_t timeout_ms;        /* per connection; tests shorten it */
	uint32_t max_conns;         /* SN_CTL_MAX_CONNS; tests may lower it */
	uint32_t n_conns;           /* connections being served */
	uint32_t refs;              /* open server handle + connections not yet freed */
	bool stopping;
	struct sn__ctl_conn *conns; /* every connection not yet freed */
};

/* Output of one request: a growing buffer in the request's arena. */
struct sn_ctl_out {
	struct sn_arena *arena;
	char *buf;   /* NUL-terminated */
	size_t len;
	size_t cap;
	int err;     /* -ENOMEM once growing failed; the output is then cut */
};

/* A request line split into words (ctl_proto.c). */
struct sn_ctl_req {
	bool json;                            /* a leading "json" word (not in argv) */
	uint32_t argc;
	char *argv[SN_CTL_MAX_ARGS];          /* NUL-terminated copies in the arena */
	const char *rest[SN_CTL_MAX_ARGS];    /* the line from argv[i] to its end */
	bool overflow;                        /* more than SN_CTL_MAX_ARGS words */
};

/* ctl_format.c: the output buffer */
void sn__ctl_out_init(struct sn_ctl_out *o, struct sn_arena *a);
void sn__ctl_out_reset(struct sn_ctl_out *o);
void sn__ctl_put(struct sn_ctl_out *o, const char *s);
void sn__ctl_printf(struct sn_ctl_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* s as a JSON string, quotes included */
void sn__ctl_json_str(struct sn_ctl_out *o, const char *s);

/* Which part of status to show: everything (zeroed), the node and the
 * count of peers by state only (summary), or the node and one peer. */
struct sn_ctl_sel {
	bool summary;
	const struct sn_peer *peer;
};

/* ctl_format.c: command output (no status line). now_ns is uv_hrtime(). */
void sn__ctl_status(struct sn_ctl_out *o, const struct sn_node *n, uint64_t now_ns, bool json,
		    const struct sn_ctl_sel *sel);
void sn__ctl_peers(struct sn_ctl_out *o, const struct sn_node *n, uint64_t now_ns, bool json);
void sn__ctl_metrics(struct sn_ctl_out *o, const struct sn_node *n, uint64_t now_ns);
void sn__ctl_policy_list(struct sn_ctl_out *o, const struct sn_node *n, bool json);
/* ctl_plugin.c: the plugins' own counters (status line, JSON member, metrics). */
struct sn_host;
void sn__ctl_plugin_text(struct sn_ctl_out *o, const struct sn_host *h);
void sn__ctl_plugin_json(struct sn_ctl_out *o, const struct sn_host *h);
void sn__ctl_plugin_metrics(struct sn_ctl_out *o, const struct sn_host *h);
/* An underlay address as status shows it: "172.31.2.2:51820", "[::1]:5",
 * "-" for none (buf of at least 64 bytes). */
const char *sn__ctl_addr_str(const struct sn_addr *a, char *buf, size_t len);
/* Human units: "1.5 MiB", "3.4M", "2h03m" (buf of at least 16 bytes). */
const char *sn__ctl_bytes(uint64_t v, char *buf, size_t len);
const char *sn__ctl_count(uint64_t v, char *buf, size_t len);
const char *sn__ctl_duration(uint64_t s, char *buf, size_t len);

/*
 * ctl_proto.c: split line (len bytes, NUL-terminated, no newline) into r,
 * copying words into a. 0, -EINVAL (a control character; reason in err) or
 * -ENOMEM. More than SN_CTL_MAX_ARGS words is not an error here: r->overflow
 * is set and the first SN_CTL_MAX_ARGS are kept (policy replace reads the
 * rest of the line itself).
 */
int sn__ctl_parse(struct sn_ctl_req *r, const char *line, size_t len, struct sn_arena *a,
		  char *err, size_t err_len);

/* How a request whose reply comes later (reload) says it is complete. */
struct sn_ctl_later {
	void (*done)(void *arg); /* called on the loop once the whole reply is in o */
	void *arg;
	void *pending;           /* set by exec: what the request waits in; a caller that
				  * goes away first passes it to sn_node_reload_forget_cb */
};

/* ctl_proto.c: run one request line (len bytes, NUL-terminated, no newline)
 * of the client uid (for the log lines of reloads and policy changes)
 * against n and write the whole reply, status line included, to o.
 * Returns 0 when o holds the reply, 1 when it comes later: later->done is
 * then called once it is in o (a reload runs off the loop). later may be
 * NULL on a node without a loop, where everything completes at once. */
int sn__ctl_exec(struct sn_node *n, const char *line, size_t len, uid_t uid, uint64_t now_ns,
		 struct sn_ctl_out *o, struct sn_ctl_later *later);

#endif
