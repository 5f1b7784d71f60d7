/* SPDX-License-Identifier: MIT */
/*
 * core/config_check.c: the checks that need the whole config, in order
 * (those between peers, docs/configuration.md's rules that need more than
 * one value, are in config_cross.c), the prefixes assigned to nodes,
 * endpoints and their name resolution, and reading key files.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <netinet/in.h>
#include <sodium.h>

#include "config_priv.h"

#define ECHO_MAX 64

/* ---- prefixes assigned to nodes ---------------------------------------- */

int sn__conf_add_asg(struct sn__ld *ld, const struct sn__cn *v, const struct sn_prefix *p,
		     enum sn__asg_kind kind, uint32_t owner)
{
	struct sn__asg *a = sn_arena_alloc(&ld->tmp, sizeof(*a));

	if (!a)
		return sn__conf_oom(ld);
	a->p = *p;
	a->kind = kind;
	a->owner = owner;
	a->loc = sn__conf_loc(v);
	a->path = sn_arena_strdup(&ld->tmp, ld->path);
	a->ref = v->file ? sn_arena_printf(&ld->tmp, "%s in %s", ld->path, v->file) : a->path;
	if (!a->path || !a->ref)
		return sn__conf_oom(ld);
	*ld->asg_tail = a;
	ld->asg_tail = &a->next;
	ld->n_asg++;
	return 0;
}

int sn__conf_prefixes(struct sn__ld *ld, const struct sn__cn *v, struct sn_prefix **out,
		      uint32_t *n, enum sn__asg_kind kind, uint32_t owner)
{
	const struct sn__cn *it;
	struct sn_prefix *p;
	uint32_t i = 0;
	size_t mark;
	int rc = sn__conf_seq(ld, v, "a list of prefixes such as [192.168.1.0/24]");

	if (rc < 0)
		return rc;
	p = sn_arena_alloc(&ld->c->arena, (v->n + 1) * sizeof(*p));
	if (!p)
		return sn__conf_oom(ld);
	for (it = v->first; it && rc == 0; it = it->next, i++) {
		mark = sn__conf_path_idx(ld, i);
		rc = sn__conf_prefix(ld, it, &p[i]);
		if (rc == 0)
			rc = sn__conf_add_asg(ld, it, &p[i], kind, owner);
		sn__conf_path_pop(ld, mark);
	}
	*out = v->n ? p : NULL;
	*n = i;
	return rc;
}

/* ---- endpoints --------------------------------------------------------- */

static void set_ipv4(struct sn_addr *a, const uint8_t ip[4], uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->family = SN_AF_INET;
	a->port = port;
	memcpy(a->ip, ip, 4);
}

static bool hostname_ok(const char *h)
{
	size_t n = strlen(h);

	return n > 0 && n <= 253 && h[0] != '-' && h[0] != '.' &&
	       strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == n &&
	       strspn(h, "0123456789.") != n;
}

static int resolve(struct sn__ld *ld, const struct sn__cn *v, const char *host, uint16_t port,
		   struct sn_addr *out)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_DGRAM };
	struct addrinfo *res = NULL;
	const struct sockaddr_in *sin;
	int rc = getaddrinfo(host, NULL, &hints, &res);

	if (rc != 0 || !res)
		return sn__conf_fail(ld, v, "cannot resolve '%s' to an IPv4 address: %s (use an IPv4 address or a name that resolves)",
				     host, rc ? gai_strerror(rc) : "no address");
	sin = (const struct sockaddr_in *)res->ai_addr;
	set_ipv4(out, (const uint8_t *)&sin->sin_addr, port);
	freeaddrinfo(res);
	return 0;
}

int sn__conf_endpoint(struct sn__ld *ld, const struct sn__cn *v, struct sn_addr *out)
{
	const char *s = v->s, *colon;
	char host[256];
	uint32_t ip;
	uint16_t port;
	uint8_t b[4];
	int rc = sn__conf_scalar(ld, v, "host:port, e.g. 203.0.113.1:51820");

	if (rc < 0)
		return rc;
	colon = strrchr(s, ':');
	if (s[0] == '[' || (colon && memchr(s, ':', (size_t)(colon - s))))
		return sn__conf_fail(ld, v, "IPv6 endpoints are not supported in this release (use an IPv4 address or a host name)");
	if (!colon || colon == s)
		return sn__conf_fail(ld, v, "'%.*s' is not host:port (e.g. 203.0.113.1:51820)",
				     ECHO_MAX, s);
	if (sn__conf_port(colon + 1, 1, &port) < 0)
		return sn__conf_fail(ld, v, "'%.*s' has a bad port (expected 1..65535)", ECHO_MAX, s);
	if ((size_t)(colon - s) >= sizeof(host))
		return sn__conf_fail(ld, v, "the host name is too long (at most 253 characters)");
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	if (sn_ipv4_parse(host, &ip) == 0) {
		b[0] = (uint8_t)(ip >> 24), b[1] = (uint8_t)(ip >> 16);
		b[2] = (uint8_t)(ip >> 8), b[3] = (uint8_t)ip;
		set_ipv4(out, b, port);
		return 0;
	}
	if (!hostname_ok(host))
		return sn__conf_fail(ld, v, "'%.*s' is neither an IPv4 address nor a host name",
				     ECHO_MAX, host);
	return resolve(ld, v, host, port, out);
}

static int key_open(struct sn__ld *ld, const char *file, const char *kp,
		    struct sn_conf_loc at, const char *tool)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	int e = errno;

	if (fd >= 0)
		return fd;
	if (e == ENOENT)
		return sn__conf_fail_at(ld, -e, kp, at,
					"%s does not exist (create it with: umask 077; %s > %s)", file,
					tool, file);
	if (e == EACCES && ld->running && ld->running->user)
		return sn__conf_fail_at(ld, -e, kp, at,
					"cannot read %s: %s (a reload runs as node.user '%s' and rereads "
					"PSK files: make the file owned by %s, mode 0600)", file,
					strerror(e), ld->running->user, ld->running->user);
	if (e == EACCES)
		return sn__conf_fail_at(ld, -e, kp, at,
					"cannot read %s: %s (run as root or as the file's owner)", file,
					strerror(e));
	return sn__conf_fail_at(ld, -e, kp, at, "cannot read %s: %s", file, strerror(e));
}

/* Who may own a key file: root, the daemon's euid and node.user (a reload
 * after the drop reads the keys as node.user). An unknown node.user adds
 * nobody here; the daemon reports it before it uses the user. */
static void key_owners(const struct sn_config *c, struct sn_owners *o)
{
	char why[256];
	uid_t uid;
	gid_t gid;

	sn_owners_init(o);
	if (c->user && sn_user_ids(c->user, &uid, &gid, why, sizeof(why)) == 0)
		sn_owners_add(o, uid);
}

static int key_trusted(struct sn__ld *ld, int fd, const char *file, const char *kp,
		       struct sn_conf_loc at)
{
	char why[1024];
	int rc = sn_file_trusted(fd, file, &ld->key_owners, why, sizeof(why));

	return rc < 0 ? sn__conf_fail_at(ld, rc, kp, at, "%s", why) : 0;
}

static int key_stat(struct sn__ld *ld, int fd, const char *file, const char *kp,
		    struct sn_conf_loc at)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return sn__conf_fail_at(ld, -errno, kp, at, "cannot stat %s: %s", file,
					strerror(errno));
	if (!S_ISREG(st.st_mode))
		return sn__conf_fail_at(ld, -EINVAL, kp, at,
					"%s is not a regular file (expected a file holding one key)", file);
	if (st.st_mode & 077)
		return sn__conf_fail_at(ld, -EACCES, kp, at,
					"%s is accessible by group or others (mode %04o; run chmod 600 %s)",
					file, (unsigned)(st.st_mode & 07777), file);
	return key_trusted(ld, fd, file, kp, at);
}

static ssize_t key_read(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* buf holds n bytes of the file: one base64 key, maybe a line end. */
static int key_decode(const char *buf, size_t n, uint8_t key[static 32])
{
	const char *end = NULL;
	size_t out = 0;

	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' ||
			 buf[n - 1] == '\t'))
		n--;
	if (n != 44)
		return -EINVAL;
	if (sodium_base642bin(key, 32, buf, n, NULL, &out, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 || out != 32 || end != buf + n) {
		sodium_memzero(key, 32); /* no part of a key left behind */
		return -EINVAL;
	}
	return 0;
}

int sn__conf_key_file(struct sn__ld *ld, const char *file, const char *key_path,
		      const struct sn__cn *at, const char *tool, uint8_t key[static 32])
{
	struct sn_conf_loc loc = sn__conf_loc(at);
	char buf[128];
	ssize_t n;
	int fd, rc;

	fd = key_open(ld, file, key_path, loc, tool);
	if (fd < 0)
		return fd;
	rc = key_stat(ld, fd, file, key_path, loc);
	n = rc < 0 ? 0 : key_read(fd, buf, sizeof(buf));
	close(fd);
	if (rc == 0 && n < 0)
		rc = sn__conf_fail_at(ld, (int)n, key_path, loc, "cannot read %s: %s", file,
				      strerror((int)-n));
	if (rc == 0 && (n == 0 || key_decode(buf, (size_t)n, key) < 0))
		rc = sn__conf_fail_at(ld, -EINVAL, key_path, loc,
				      "%s does not hold a key (expected one line of 44 base64 characters, as written by %s)",
				      file, tool);
	sodium_memzero(buf, sizeof(buf));
	return rc;
}

/* A reload never rereads the private key: it was read as root at start,
 * and the dropped user (node.user) cannot read it. A changed
 * private_key_file is refused by the reload itself (a restart applies it). */
static int private_key(struct sn__ld *ld)
{
	struct sn_config *c = ld->c;

	if (ld->running) {
		memcpy(c->private_key, ld->running->private_key, 32);
		return 0;
	}
	return sn__conf_key_file(ld, c->private_key_file, "node.private_key_file", ld->at_key_file,
				 "wg genkey", c->private_key);
}

/* node.user must exist and not be root. getpwnam() may block (NSS): this
 * runs when a config is loaded at start, before the loop; a reload cannot
 * change node.user and skips it. */
static int check_user(struct sn__ld *ld)
{
	const char *user = ld->c->user;
	struct sn_conf_loc at = sn__conf_loc(ld->at_user);
	struct passwd *pw;
	int e;

	if (!user || ld->running)
		return 0;
	errno = 0;
	pw = getpwnam(user);
	e = errno;
	if (e == ENOENT || e == ESRCH || e == EBADF || e == EPERM)
		e = 0; /* getpwnam(3): all of these mean "not found" */
	if (!pw)
		return sn__conf_fail_at(ld, e ? -e : -ENOENT, "node.user", at,
					"no such user '%s'%s%s (create one for subnetrad, e.g. useradd "
					"--system --no-create-home %s, or remove node.user)", user,
					e ? ": " : "", e ? strerror(e) : "", user);
	if (pw->pw_uid == 0)
		return sn__conf_fail_at(ld, -EINVAL, "node.user", at,
					"'%s' is uid 0, so the daemon would keep every privilege "
					"(name an unprivileged user, or remove node.user)", user);
	return 0;
}

static int check_key_files(struct sn__ld *ld)
{
	struct sn_config *c = ld->c;
	uint8_t pub[32];
	char path[1100];
	uint32_t i;
	int rc;

	key_owners(c, &ld->key_owners);
	rc = private_key(ld);
	if (rc == 0 && sodium_init() < 0)
		rc = sn__conf_fail_at(ld, -EIO, NULL, (struct sn_conf_loc){ 0, 0, NULL },
				      "cannot initialise libsodium");
	if (rc == 0 && crypto_scalarmult_base(pub, c->private_key) == 0)
		rc = sn__conf_check_public_keys(ld, pub);
	for (i = 0; i < c->n_peers && rc == 0; i++) {
		struct sn_conf_peer *p = &c->peers[i];

		if (!p->psk_file)
			continue;
		sn__conf_peer_path(path, sizeof(path), p, "psk_file");
		rc = sn__conf_key_file(ld, p->psk_file, path, ld->peer_at[i].psk_file, "wg genpsk",
				       p->psk);
		if (rc == 0)
			p->has |= SN_PEER_HAS_PSK;
	}
	return rc;
}

/* ---- the interface name for the OS plugin ------------------------------ */

/* "utun" or "utunN", N a unit number 0..65534 without leading zeros: what
 * plugins/os_darwin/darwin.c takes, since macOS names utun devices itself. */
static bool utun_name(const char *s)
{
	size_t n = strlen(s);

	if (strncmp(s, "utun", 4) != 0)
		return false;
	if (n == 4)
		return true;
	if (n > 9 || (s[4] == '0' && n > 5) || strspn(s + 4, "0123456789") != n - 4)
		return false;
	return strtoul(s + 4, NULL, 10) <= 65534;
}

static int check_ifname(struct sn__ld *ld)
{
	const struct sn_config *c = ld->c;
	const char *os = c->os ? c->os : SN_CONF_DEFAULT_OS;

	if (!(c->has & SN_CONF_HAS_IFNAME) || strcmp(os, "darwin") != 0 || utun_name(c->ifname))
		return 0;
	return sn__conf_fail_at(ld, -EINVAL, "overlay.interface", sn__conf_loc(ld->at_ifname),
				"'%s' is not a utun device name (macOS names them itself: utun "
				"for the first free one, or utunN, e.g. utun7)", c->ifname);
}

int sn__conf_check(struct sn__ld *ld)
{
	int rc = sn__conf_check_ids(ld);

	if (rc == 0)
		rc = sn__conf_check_addresses(ld);
	if (rc == 0)
		rc = sn__conf_check_overlaps(ld);
	if (rc == 0)
		rc = sn__conf_check_public_keys(ld, NULL);
	if (rc == 0)
		rc = check_ifname(ld);
	if (rc == 0 && ld->check_keys)
		rc = check_key_files(ld);
	if (rc == 0 && ld->check_keys)
		rc = check_user(ld);
	return rc;
}
