/* SPDX-License-Identifier: MIT */
/*
 * core/ctl_server.c: the control socket on the node's loop: a Unix stream
 * socket (mode 0660, group control.group) whose clients are checked with
 * SO_PEERCRED and SO_PEERGROUPS (the kernel's record, no user database
 * lookup on the loop), one request per connection (ctl_proto.c runs it).
 *
 * The socket file is made without a window for a swapped path: its
 * directory must be changeable by root or the daemon's user only and is
 * opened without following a link; bind() runs with that directory as the
 * working directory and a umask that yields mode 0660; the group is set
 * relative to the directory's fd (docs/control.md, Permissions).
 *
 * Bounded by construction: at most max_conns connections are served at
 * once (more get an error reply and are closed), a request line has at
 * most SN_CTL_MAX_LINE bytes in a fixed buffer, and every connection is
 * closed timeout_ms after it was accepted whatever it does. A write error
 * (the client went away) only closes that connection; SIGPIPE is ignored.
 * Each connection owns one arena holding its reply, freed with it in the
 * close callback.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "fileperm.h"
#include "node.h"
#include "sock.h"

struct sn__ctl_conn {
	struct sn_ctl *ctl;
	struct sn__ctl_conn *prev, *next;
	uv_pipe_t pipe;
	uv_timer_t timer;
	uv_write_t wr;
	struct sn_arena arena;
	struct sn_ctl_out out;
	uint32_t open;      /* handles not yet closed */
	bool counted;       /* in ctl->n_conns */
	bool closing;
	bool replying;      /* the request is read; no more reads */
	bool waiting;       /* its reply comes later (a reload) */
	uid_t uid;          /* the client's, from SO_PEERCRED (for the log) */
	struct sn_ctl_later later;
	size_t len;         /* bytes in buf */
	char buf[SN_CTL_MAX_LINE + 2];
};

/* ---- freeing --------------------------------------------------------------- */

static void ctl_unref(struct sn_ctl *ctl)
{
	if (--ctl->refs == 0)
		free(ctl);
}

static void on_server_closed(uv_handle_t *h)
{
	ctl_unref(h->data);
}

static void on_conn_closed(uv_handle_t *h)
{
	struct sn__ctl_conn *c = h->data;
	struct sn_ctl *ctl = c->ctl;

	if (--c->open)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		ctl->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	sn_arena_free(&c->arena);
	free(c);
	ctl_unref(ctl);
}

static void conn_close(struct sn__ctl_conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	if (c->waiting)
		sn_node_reload_forget_cb(c->ctl->node, c->later.pending);
	c->waiting = false;
	if (c->counted)
		c->ctl->n_conns--;
	c->counted = false;
	uv_close((uv_handle_t *)&c->pipe, on_conn_closed);
	uv_close((uv_handle_t *)&c->timer, on_conn_closed);
}

/* ---- replying -------------------------------------------------------------- */

static void on_written(uv_write_t *w, int status)
{
	conn_close(w->data);
}

/* Send whatever is in c->out, then close. */
static void send_reply(struct sn__ctl_conn *c)
{
	uv_buf_t b;

	c->replying = true;
	uv_read_stop((uv_stream_t *)&c->pipe);
	if (c->out.err || !c->out.len) {
		conn_close(c);
		return;
	}
	b = uv_buf_init(c->out.buf, (unsigned)c->out.len);
	c->wr.data = c;
	if (uv_write(&c->wr, (uv_stream_t *)&c->pipe, &b, 1, on_written) < 0)
		conn_close(c);
}

static void reply_error(struct sn__ctl_conn *c, const char *msg)
{
	sn__ctl_printf(&c->out, "error %s\n", msg);
	send_reply(c);
}

/* A reload's reply is ready. Only a connection still waiting for it
 * answers: a reload that finished before exec returned replies through
 * exec's own return. */
static void reply_later(void *arg)
{
	struct sn__ctl_conn *c = arg;

	if (!c->waiting)
		return;
	c->waiting = false;
	send_reply(c);
}

static void run_request(struct sn__ctl_conn *c, size_t len)
{
	c->buf[len] = '\0';
	c->later.done = reply_later;
	c->later.arg = c;
	c->later.pending = NULL;
	c->replying = true;
	uv_read_stop((uv_stream_t *)&c->pipe);
	if (sn__ctl_exec(c->ctl->node, c->buf, len, c->uid, uv_hrtime(), &c->out, &c->later) == 1) {
		c->waiting = true; /* the idle timeout no longer applies: a reload is bounded */
		uv_timer_stop(&c->timer);
		return;
	}
	send_reply(c);
}

/* ---- reading --------------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct sn__ctl_conn *c = h->data;

	b->base = c->buf + c->len;
	b->len = sizeof(c->buf) - 1 - c->len;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	struct sn__ctl_conn *c = s->data;
	char *nl;

	if (c->replying || c->closing || nread == 0)
		return;
	if (nread == UV_EOF) {
		run_request(c, c->len);  /* the client half-closed: the line ends here */
		return;
	}
	if (nread < 0) {
		conn_close(c);
		return;
	}
	nl = memchr(c->buf + c->len, '\n', (size_t)nread);
	c->len += (size_t)nread;
	if (nl)
		run_request(c, (size_t)(nl - c->buf));
	else if (c->len > SN_CTL_MAX_LINE)
		reply_error(c, "request too long (max 4096 bytes)");
}

static void on_timeout(uv_timer_t *t)
{
	struct sn__ctl_conn *c = t->data;

	if (!c->replying) {
		sn__ctl_out_reset(&c->out);
		sn__ctl_printf(&c->out, "error no request within %llu ms\n",
			       (unsigned long long)c->ctl->timeout_ms);
		if (!c->out.err) {
			uv_buf_t b = uv_buf_init(c->out.buf, (unsigned)c->out.len);

			uv_try_write((uv_stream_t *)&c->pipe, &b, 1);
		}
	}
	conn_close(c);
}

/* ---- accepting ------------------------------------------------------------- */

static int peer_cred(uv_pipe_t *p, uid_t *uid, gid_t *gid)
{
	uv_os_fd_t fd;

	if (uv_fileno((uv_handle_t *)p, &fd) < 0)
		return -EBADF;
#ifdef SO_PEERCRED
	struct ucred uc;
	socklen_t len = sizeof(uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		return -errno;
	*uid = uc.uid;
	*gid = uc.gid;
#else
	if (getpeereid(fd, uid, gid) < 0)
		return -errno;
#endif
	return 0;
}

#ifdef SO_PEERGROUPS
static bool has_gid(const gid_t *v, size_t n, gid_t want)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == want)
			return true;
	return false;
}
#endif

/* Whether the process at the other end of fd had want among its
 * supplementary groups when it connected, as the kernel recorded them
 * (SO_PEERGROUPS): no user database lookup, nothing that blocks. */
static int peer_has_group(int fd, gid_t want, bool *in)
{
#ifdef SO_PEERGROUPS
	gid_t small[64], *v = small;
	socklen_t len = sizeof(small);
	int r = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, v, &len);

	if (r < 0 && errno == ERANGE) {
		if (!(v = malloc(len)))
			return -ENOMEM;
		r = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, v, &len);
	}
	r = r < 0 ? -errno : 0;
	if (r == 0)
		*in = has_gid(v, len / sizeof(*v), want);
	if (v != small)
		free(v);
	return r;
#else
	return -ENOTSUP;
#endif
}

/* Whether the client runs with the control group, as its effective or a
 * supplementary group. */
static bool client_in_group(uv_pipe_t *p, gid_t gid, gid_t want)
{
	uv_os_fd_t fd;
	bool in = false;

	if (gid == want)
		return true;
	return uv_fileno((uv_handle_t *)p, &fd) == 0 && peer_has_group(fd, want, &in) == 0 && in;
}

/* NULL when the client may talk to us, else why not. */
static const char *refusal(struct sn__ctl_conn *c, char *why, size_t len)
{
	struct sn_ctl *ctl = c->ctl;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	int r = peer_cred(&c->pipe, &uid, &gid);

	c->uid = uid;
	if (r < 0)
		snprintf(why, len, "permission denied: cannot read the client's credentials");
	else if (uid == 0 || (ctl->has_group && client_in_group(&c->pipe, gid, ctl->gid)))
		return NULL;
	else if (ctl->has_group)
		snprintf(why, len, "permission denied: not root and not in group %s", ctl->group);
	else
		snprintf(why, len, "permission denied: not root (no control.group is configured)");
	sn_log(&ctl->node->host, SN_LOG_WARN, "control: refused a client (uid %d): %s", (int)uid,
	       why);
	return why;
}

static struct sn__ctl_conn *conn_new(struct sn_ctl *ctl)
{
	struct sn__ctl_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->ctl = ctl;
	sn_arena_init(&c->arena, 0);
	sn__ctl_out_init(&c->out, &c->arena);
	uv_pipe_init(ctl->server.loop, &c->pipe, 0);
	uv_timer_init(ctl->server.loop, &c->timer);
	c->pipe.data = c->timer.data = c;
	c->open = 2;
	c->next = ctl->conns;
	if (ctl->conns)
		ctl->conns->prev = c;
	ctl->conns = c;
	ctl->refs++;
	return c;
}

static void on_connection(uv_stream_t *server, int status)
{
	struct sn_ctl *ctl = server->data;
	struct sn__ctl_conn *c;
	char why[160];

	if (status < 0 || ctl->stopping)
		return;
	if (!(c = conn_new(ctl))) {
		sn_log(&ctl->node->host, SN_LOG_ERROR, "control: out of memory for a connection");
		return;
	}
	if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0) {
		conn_close(c);
		return;
	}
	uv_timer_start(&c->timer, on_timeout, ctl->timeout_ms, 0);
	if (ctl->n_conns >= ctl->max_conns) {
		snprintf(why, sizeof(why), "too many control connections (max %u); try again",
			 ctl->max_conns);
		reply_error(c, why);
		return;
	}
	if (refusal(c, why, sizeof(why))) {
		reply_error(c, why);
		return;
	}
	c->counted = true;
	ctl->n_conns++;
	if (uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read) < 0)
		conn_close(c);
}

/* ---- the socket file -------------------------------------------------------- */

static int set_path(struct sn_ctl *ctl, const struct sn_config *cf, char *err, size_t err_len)
{
	const char *p = cf->control_socket;

	if (strlen(p) >= sizeof(ctl->path) || strlen(p) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		snprintf(err, err_len, "%s: control.socket: %s is too long for a Unix socket "
			 "(at most %zu bytes)", cf->path, p, sizeof(ctl->path) - 1);
		return -ENAMETOOLONG;
	}
	snprintf(ctl->path, sizeof(ctl->path), "%s", p);
	return 0;
}

static int resolve_group(struct sn_ctl *ctl, const struct sn_config *cf, char *err, size_t err_len)
{
	struct group gr, *res = NULL;
	char buf[4096];
	int r;

	if (!cf->control_group || !*cf->control_group)
		return 0;
	snprintf(ctl->group, sizeof(ctl->group), "%s", cf->control_group);
	r = getgrnam_r(cf->control_group, &gr, buf, sizeof(buf), &res);
	if (r != 0 || !res) {
		snprintf(err, err_len, "%s: control.group: unknown group '%s' (create it, e.g. "
			 "groupadd --system %s, or remove the key to allow root only)", cf->path,
			 cf->control_group, cf->control_group);
		return r ? -r : -ENOENT;
	}
	ctl->gid = gr.gr_gid;
	ctl->has_group = true;
	return 0;
}

/* The kernel must tell us a client's groups (checked once, at start). */
static int probe_groups(const struct sn_ctl *ctl, const struct sn_config *cf, char *err,
			size_t err_len)
{
	bool in = false;
	int sv[2], r;

	if (!ctl->has_group)
		return 0;
	if ((r = sn_socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) < 0)
		return r;
	r = peer_has_group(sv[0], ctl->gid, &in);
	close(sv[0]);
	close(sv[1]);
	if (r == -ENOPROTOOPT || r == -ENOTSUP)
		snprintf(err, err_len, "%s: control.group: this system cannot tell which groups a "
			 "client is in (SO_PEERGROUPS needs Linux 4.13 or later); remove control.group "
			 "to allow root only", cf->path);
	else if (r < 0)
		snprintf(err, err_len, "%s: control.group: cannot read a client's groups "
			 "(SO_PEERGROUPS): %s", cf->path, strerror(-r));
	return r;
}

/* mkdir -p of the socket's directory d, mode 0755 for what is created.
 * The daemon's umask (077) would narrow mkdir's mode: fchmod what we made,
 * opened without following a link someone may have put in its place. */
static int make_dir(const char *d, const char *path, char *err, size_t err_len)
{
	char buf[sizeof(((struct sn_ctl *)0)->path)];

	snprintf(buf, sizeof(buf), "%s", d);
	for (char *p = buf + 1;; p++) {
		char c = *p;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) == 0) {
			int fd = open(buf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (fd >= 0) {
				fchmod(fd, 0755);
				close(fd);
			}
		} else if (errno != EEXIST) {
			int e = errno;

			snprintf(err, err_len, "cannot create %s for the control socket %s: %s", buf,
				 path, strerror(e));
			return -e;
		}
		*p = c;
		if (!c)
			return 0;
	}
}

/* Split ctl->path into its directory (into d) and ctl->name. */
static void split_path(struct sn_ctl *ctl, char *d, size_t len)
{
	const char *s = strrchr(ctl->path, '/');

	if (!s)
		snprintf(d, len, ".");
	else if (s == ctl->path)
		snprintf(d, len, "/");
	else
		snprintf(d, len, "%.*s", (int)(s - ctl->path), ctl->path);
	snprintf(ctl->name, sizeof(ctl->name), "%s", s ? s + 1 : ctl->path);
}

/* The directory, opened without following a link, may be changed by root
 * or the daemon's user only: then nobody else can swap the socket file, and
 * everything below happens relative to this fd. */
static int open_dir(struct sn_ctl *ctl, const char *d, char *err, size_t err_len)
{
	struct stat st;
	struct sn_owners o;

	ctl->dirfd = open(d, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (ctl->dirfd < 0) {
		int e = errno;

		if (lstat(d, &st) == 0 && S_ISLNK(st.st_mode)) {
			snprintf(err, err_len, "control socket directory %s is a symbolic link, which "
				 "the daemon does not follow (name the real directory in control.socket)", d);
			return -ELOOP;
		}
		snprintf(err, err_len, "control socket directory %s: %s", d, strerror(e));
		return -e;
	}
	sn_owners_init(&o);
	return sn_dir_fd_trusted(ctl->dirfd, d, "control socket directory", &o, err, err_len);
}

/* Run fn (bind or connect) on fd with the bare socket name, the working
 * directory set to the socket's directory: no component of the path can be
 * swapped under it. The process is single-threaded at this point (setup). */
static int at_dir(const struct sn_ctl *ctl, int (*fn)(int, const struct sockaddr *, socklen_t),
		  int fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
#ifdef O_PATH
	int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
#else
	int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
#endif
	int r, e;

	if (cwd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", ctl->name);
	if (fchdir(ctl->dirfd) < 0) {
		e = errno;
		close(cwd);
		return -e;
	}
	r = fn(fd, (const struct sockaddr *)&sa, sizeof(sa));
	e = errno;
	if (fchdir(cwd) < 0 && r == 0) {
		r = -1;
		e = errno;
	}
	close(cwd);
	return r < 0 ? -e : 0;
}

/* Remove a socket file nobody answers on; refuse when somebody does. */
static int clear_stale(const struct sn_ctl *ctl, char *err, size_t err_len)
{
	struct stat st;
	int fd, r;

	if (fstatat(ctl->dirfd, ctl->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, err_len, "%s exists and is not a socket (remove it, or set "
			 "control.socket to another path)", ctl->path);
		return -EEXIST;
	}
	fd = sn_socket(AF_UNIX, SOCK_STREAM, 0, true);
	if (fd < 0)
		return fd;
	r = at_dir(ctl, connect, fd);
	close(fd);
	if (r == 0 || r == -EAGAIN || r == -EINPROGRESS) {
		snprintf(err, err_len, "control socket %s is in use by another subnetrad", ctl->path);
		return -EADDRINUSE;
	}
	if (r != -ECONNREFUSED && r != -ENOENT) {
		snprintf(err, err_len, "cannot tell whether control socket %s is in use: %s",
			 ctl->path, strerror(-r));
		return r;
	}
	unlinkat(ctl->dirfd, ctl->name, 0);
	return 0;
}

/* A socket bound at the name with mode 0660 from the start: Linux gives the
 * new file the socket inode's mode (fchmod before bind) less the umask,
 * other systems 0777 less the umask; umask 0117 covers both. */
static int bind_socket(struct sn_ctl *ctl, char *err, size_t err_len)
{
	int fd = sn_socket(AF_UNIX, SOCK_STREAM, 0, false), r;
	mode_t mask;

	if (fd < 0) {
		snprintf(err, err_len, "cannot create the control socket: %s", strerror(-fd));
		return fd;
	}
	if (fchmod(fd, 0660) < 0 && errno != EINVAL && errno != EOPNOTSUPP) {
		r = -errno;
		snprintf(err, err_len, "cannot set mode 0660 on the control socket: %s", strerror(-r));
		close(fd);
		return r;
	}
	mask = umask(0117);
	r = at_dir(ctl, bind, fd);
	umask(mask);
	if (r < 0) {
		snprintf(err, err_len, "cannot bind the control socket %s: %s", ctl->path,
			 strerror(-r));
		close(fd);
		return r;
	}
	return fd;
}

/* The file we bound: mode 0660 (a default ACL may have widened it), the
 * control group. In a directory only root and we can write, the name is
 * still ours. */
static int set_perms(struct sn_ctl *ctl, char *err, size_t err_len)
{
	struct stat st;

	if (fstatat(ctl->dirfd, ctl->name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISSOCK(st.st_mode)) {
		snprintf(err, err_len, "the control socket %s vanished after bind", ctl->path);
		return -ENOENT;
	}
	ctl->dev = st.st_dev;
	ctl->ino = st.st_ino;
	if ((st.st_mode & 07777) != 0660 && fchmodat(ctl->dirfd, ctl->name, 0660, 0) < 0) {
		snprintf(err, err_len, "cannot set mode 0660 on the control socket %s: %s",
			 ctl->path, strerror(errno));
		return -errno;
	}
	if (ctl->has_group &&
	    fchownat(ctl->dirfd, ctl->name, (uid_t)-1, ctl->gid, AT_SYMLINK_NOFOLLOW) < 0) {
		snprintf(err, err_len, "cannot give the control socket %s to group %s: %s",
			 ctl->path, ctl->group, strerror(errno));
		return -errno;
	}
	return 0;
}

static int listen_on(struct sn_ctl *ctl, char *err, size_t err_len)
{
	int fd = bind_socket(ctl, err, err_len), r;

	if (fd < 0)
		return fd;
	if ((r = set_perms(ctl, err, err_len)) < 0) {
		close(fd);
		goto fail;
	}
	if ((r = uv_pipe_open(&ctl->server, fd)) < 0) {
		snprintf(err, err_len, "cannot use the control socket %s: %s", ctl->path,
			 uv_strerror(r));
		close(fd);
		goto fail;
	}
	r = uv_listen((uv_stream_t *)&ctl->server, 64, on_connection);
	if (r == 0)
		return 0;
	snprintf(err, err_len, "cannot listen on the control socket %s: %s", ctl->path,
		 uv_strerror(r));
fail:
	unlinkat(ctl->dirfd, ctl->name, 0);
	return r;
}

/* Remove the socket file if it is still the one we bound. */
static void remove_file(const struct sn_ctl *ctl)
{
	struct stat st;

	if (fstatat(ctl->dirfd, ctl->name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_dev == ctl->dev && st.st_ino == ctl->ino)
		unlinkat(ctl->dirfd, ctl->name, 0);
}

static void close_dir(struct sn_ctl *ctl)
{
	if (ctl->dirfd >= 0)
		close(ctl->dirfd);
	ctl->dirfd = -1;
}

/* ---- start and stop -------------------------------------------------------- */

static struct sn_ctl *ctl_new(struct sn_node *n)
{
	struct sn_ctl *ctl = calloc(1, sizeof(*ctl));

	if (!ctl)
		return NULL;
	ctl->node = n;
	ctl->dirfd = -1;
	ctl->timeout_ms = SN_CTL_TIMEOUT_MS;
	ctl->max_conns = SN_CTL_MAX_CONNS;
	return ctl;
}

int sn_ctl_start(struct sn_node *n, char *err, size_t err_len)
{
	const struct sn_config *cf = n->cfg;
	char dir[sizeof(((struct sn_ctl *)0)->path)];
	struct sn_ctl *ctl;
	int r;

	if (!cf->control_socket || !*cf->control_socket)
		return 0;
	if (!(ctl = ctl_new(n))) {
		snprintf(err, err_len, "out of memory for the control socket");
		return -ENOMEM;
	}
	if ((r = set_path(ctl, cf, err, err_len)) == 0)
		split_path(ctl, dir, sizeof(dir));
	if (r < 0 || (r = resolve_group(ctl, cf, err, err_len)) < 0 ||
	    (r = probe_groups(ctl, cf, err, err_len)) < 0 ||
	    (r = make_dir(dir, ctl->path, err, err_len)) < 0 ||
	    (r = open_dir(ctl, dir, err, err_len)) < 0 ||
	    (r = clear_stale(ctl, err, err_len)) < 0) {
		close_dir(ctl);
		free(ctl);
		return r;
	}
	/* A client that hangs up before its reply is written must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	uv_pipe_init(&n->loop, &ctl->server, 0);
	ctl->server.data = ctl;
	ctl->refs = 1;
	if ((r = listen_on(ctl, err, err_len)) < 0) {
		close_dir(ctl);
		ctl->stopping = true;
		uv_close((uv_handle_t *)&ctl->server, on_server_closed);
		return r;
	}
	n->ctl = ctl;
	return 0;
}

void sn_ctl_stop(struct sn_node *n)
{
	struct sn_ctl *ctl = n->ctl;

	if (!ctl)
		return;
	n->ctl = NULL;
	ctl->stopping = true;
	for (struct sn__ctl_conn *c = ctl->conns; c; c = c->next)
		conn_close(c);
	remove_file(ctl);
	close_dir(ctl);
	uv_close((uv_handle_t *)&ctl->server, on_server_closed);
}
