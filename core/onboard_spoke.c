/* SPDX-License-Identifier: MIT */
/*
 * core/onboard_spoke.c: `subnetra add-spoke` and `subnetra remove-spoke`
 * (docs/onboarding.md). The hub config is loaded with the daemon's loader
 * (so `peers:` and every peers_dir file count), the spoke gets the next
 * free id and overlay address, a key, its peers_dir entry and a complete
 * config of its own, and a running hub is asked to reload. The operator's
 * hub config is only read.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "keys.h"
#include "onboard.h"
#include "policy.h"

static const char add_usage[] =
	"usage: subnetra add-spoke NAME [--lan PREFIX]... [--dir DIR] [--hub CONFIG] [--out FILE]\n"
	"                              [--endpoint HOST:PORT] [--state-dir DIR] [--socket PATH]\n"
	"\n"
	"Add spoke NAME to the hub: the next free id and overlay address, a new key,\n"
	"its entry in the hub's peers_dir, and the spoke's own config (one file and\n"
	"its key, to copy to the branch). Then a running hub reloads.\n"
	"\n"
	"  --lan PREFIX          a LAN behind the spoke (repeat for more)\n"
	"  --dir DIR             the hub's directory (default /etc/subnetra)\n"
	"  --hub CONFIG          the hub's config (default DIR/hub.yaml)\n"
	"  --out FILE            the spoke's config (default DIR/spokes/NAME.yaml; its\n"
	"                        key goes beside it, NAME.key)\n"
	"  --endpoint HOST:PORT  where the spoke reaches the hub (default: what\n"
	"                        `subnetra init hub` noted in the hub config)\n"
	"  --state-dir DIR       the spoke's state directory (default /var/lib/subnetra/NAME)\n"
	"  --socket PATH         the spoke's control socket (default /run/subnetra/NAME.sock)\n";

static const char remove_usage[] =
	"usage: subnetra remove-spoke NAME [--dir DIR] [--hub CONFIG]\n"
	"\n"
	"Remove spoke NAME's file from the hub's peers_dir (and the spoke config\n"
	"add-spoke wrote with it), then a running hub reloads.\n"
	"\n"
	"  --dir DIR             the hub's directory (default /etc/subnetra)\n"
	"  --hub CONFIG          the hub's config (default DIR/hub.yaml)\n";

struct add_args {
	const char *name, *dir, *hub, *out, *endpoint, *state_dir, *socket;
	const char *lan[SN_ONBOARD_LIST_MAX];
	uint32_t n_lan;
};

/* Everything add-spoke writes, where, and the loaded hub. */
struct add {
	struct sn_config *hub;
	struct sn_onboard_meta meta;
	struct sn_onboard_spoke s;
	struct sn_prefix lans[SN_ONBOARD_LIST_MAX];
	uint8_t hub_pub[32];
	char peer[4096], out[4096], key[4096], key_file[4096], state[4096], sock[4096];
};

static int fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "subnetra: %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

/* The hub config, loaded as the daemon loads it, and its "# subnetra:" lines. */
static int load_hub(const char *cmd, const char *dir, const char *path, struct sn_config **c,
		    struct sn_onboard_meta *m)
{
	char def[4096], err[1024];
	char *text;
	size_t len;
	int rc;

	if (!path) {
		if (sn_onboard_path(def, sizeof(def), dir, "hub", ".yaml") < 0)
			return 1;
		path = def;
	}
	if (sn_config_load(path, c, err, sizeof(err)) < 0)
		return fail(cmd, "%s", err);
	if ((*c)->role != SN_ROLE_HUB || !(*c)->peers_dir)
		return fail(cmd, "%s: %s", path,
			    (*c)->role != SN_ROLE_HUB ?
				    "not a hub's config (node.role is spoke)" :
				    "has no peers_dir, where the tool puts one file per spoke (add `peers_dir: peers.d` to it, docs/configuration.md)");
	if ((rc = sn_onboard_read(path, &text, &len)) < 0)
		return fail(cmd, "cannot read %s: %s", path, strerror(-rc));
	rc = sn_onboard_meta_parse(text, len, m, err, sizeof(err));
	free(text);
	return rc < 0 ? fail(cmd, "%s: %s", path, err) : 0;
}

/* Name, file and LANs free in the hub's network. */
static int check_new(struct add *w, const struct add_args *a)
{
	const struct sn_conf_peer *p = sn_onboard_peer_named(w->hub, a->name);
	char why[1024];

	if (sn_onboard_name_check(a->name, why, sizeof(why)) < 0)
		return fail("add-spoke", "%s", why);
	if (p)
		return fail("add-spoke", "there is a spoke called %s already (id %u, %s)", a->name,
			    p->id, p->file ? p->file : w->hub->path);
	if (sn_onboard_path(w->peer, sizeof(w->peer), w->hub->peers_dir, a->name, ".yaml") < 0)
		return 1;
	if (access(w->peer, F_OK) == 0)
		return fail("add-spoke", "%s exists already (remove it, or choose another name)",
			    w->peer);
	if (sn_onboard_prefixes("add-spoke", "--lan", a->lan, a->n_lan, w->lans) < 0)
		return 1;
	for (uint32_t i = 0; i < a->n_lan; i++)
		if (sn_onboard_lan_check(w->hub, &w->lans[i], why, sizeof(why)) < 0)
			return fail("add-spoke", "--lan %s", why);
	return 0;
}

/* The spoke config's path, its key beside it, the spoke's own paths. */
static int paths_of(struct add *w, const struct add_args *a)
{
	char spokes[4096], *slash;
	int rc;

	if (!a->out) {
		if (sn_onboard_path(spokes, sizeof(spokes), a->dir, "spokes", "") < 0)
			return 1;
		if ((rc = sn_onboard_mkdir(spokes)) < 0)
			return fail("add-spoke", "cannot create %s: %s", spokes, strerror(-rc));
		if (sn_onboard_path(w->out, sizeof(w->out), spokes, a->name, ".yaml") < 0)
			return 1;
	} else if (snprintf(w->out, sizeof(w->out), "%s", a->out) >= (int)sizeof(w->out)) {
		return fail("add-spoke", "--out: the path is too long");
	}
	if (sn_onboard_key_path(w->key, sizeof(w->key), w->out) < 0)
		return 1;
	slash = strrchr(w->key, '/');
	snprintf(w->key_file, sizeof(w->key_file), "%s", slash ? slash + 1 : w->key);
	return sn_onboard_node_paths(a->name, a->state_dir, a->socket, w->state, w->sock) < 0;
}

static int exists(const char *path)
{
	return access(path, F_OK) == 0 ?
		       fail("add-spoke", "%s exists already; nothing was written (remove it, or choose another --out)",
			    path) :
		       0;
}

/* Id, address, key pair and the spoke's record. */
static int allocate(struct add *w, const struct add_args *a, uint8_t priv[static 32])
{
	struct sn_onboard_spoke *s = &w->s;
	char why[512];

	if (sn_onboard_next_id(w->hub, &s->id) < 0)
		return fail("add-spoke", "%s: every node id is taken", w->hub->path);
	if (sn_onboard_next_address(w->hub, &s->address, why, sizeof(why)) < 0)
		return fail("add-spoke", "%s: %s", w->hub->path, why);
	s->endpoint = a->endpoint ? a->endpoint : w->meta.endpoint;
	if (!s->endpoint[0])
		return fail("add-spoke", "%s does not say where spokes reach the hub (no '# subnetra: endpoint HOST:PORT' line): give --endpoint HOST:PORT",
			    w->hub->path);
	if (sn_onboard_endpoint_check(s->endpoint, why, sizeof(why)) < 0)
		return fail("add-spoke", "--endpoint: %s", why);
	if (sn_key_generate(priv) < 0 || sn_key_public(s->public_key, priv) < 0 ||
	    sn_key_public(w->hub_pub, w->hub->private_key) < 0)
		return fail("add-spoke", "cannot make a key (the random generator failed)");
	s->name = a->name;
	s->key_file = w->key_file;
	s->state_dir = w->state;
	s->socket = w->sock;
	s->out = w->out;
	s->lans = w->lans;
	s->n_lans = a->n_lan;
	if (!w->meta.name[0])
		snprintf(w->meta.name, sizeof(w->meta.name), "hub");
	return 0;
}

static int render(const struct add *w, const struct sn_onboard_spoke *s, char **text,
		  size_t *len)
{
	FILE *f = open_memstream(text, len);

	if (!f)
		return fail("add-spoke", "out of memory");
	sn_onboard_spoke_text(f, s, w->hub, &w->meta, w->hub_pub);
	if (fclose(f) != 0) {
		free(*text);
		return fail("add-spoke", "out of memory");
	}
	return 0;
}

/* The spoke's config, judged by the loader and the policy builder of its
 * daemon. A host name in the endpoint is judged as an address: it has to
 * resolve on the branch, not here. */
static int spoke_text(const struct add *w, char **text, size_t *len)
{
	struct sn_onboard_spoke probe = w->s;
	char ep[SN_ONBOARD_ENDPOINT_MAX + 16], err[1024], *ptext = NULL;
	struct sn_config *c = NULL;
	struct sn_policy *pol = NULL;
	size_t plen = 0;
	uint32_t addr;
	int rc = 1;

	snprintf(ep, sizeof(ep), "%s", probe.endpoint);
	*strrchr(ep, ':') = 0;
	if (sn_ipv4_parse(ep, &addr) < 0)
		snprintf(ep, sizeof(ep), "192.0.2.1%s", strrchr(probe.endpoint, ':'));
	else
		snprintf(ep, sizeof(ep), "%s", probe.endpoint);
	probe.endpoint = ep;
	if (render(w, &probe, &ptext, &plen))
		return 1;
	if (sn_config_load_buffer(w->out, ptext, plen, false, &c, err, sizeof(err)) < 0 ||
	    sn_policy_from_config(c, NULL, 0, 1, &pol, err, sizeof(err)) < 0)
		fail("add-spoke", "the spoke config would not load: %s", err);
	else
		rc = render(w, &w->s, text, len);
	sn_policy_free(pol);
	if (c)
		sn_config_free(c);
	free(ptext);
	return rc;
}

/* Remove the first n files add-spoke wrote (a later step failed). */
static void undo(const struct add *w, int n)
{
	const char *f[] = {w->key, w->out, w->peer};

	while (n-- > 0)
		unlink(f[n]);
}

/* The key, the spoke config, then the peers_dir entry: the hub learns of
 * the spoke only when the spoke's files are complete. */
static int write_files(const struct add *w, const uint8_t priv[static 32], const char *text,
		       size_t len)
{
	char *peer = NULL;
	size_t plen = 0;
	FILE *f = open_memstream(&peer, &plen);
	int rc = 0, n;

	if (!f)
		return fail("add-spoke", "out of memory");
	sn_onboard_peer_text(f, &w->s);
	if (fclose(f) != 0)
		return fail("add-spoke", "out of memory");
	const struct { const char *path, *data; size_t len; } files[] = {
		{w->key, NULL, 0}, {w->out, text, len}, {w->peer, peer, plen},
	};
	for (n = 0; n < 3 && rc == 0; n++) {
		rc = n ? sn_onboard_write(files[n].path, files[n].data, files[n].len, 0) :
			 sn_onboard_write_key(w->key, priv);
		if (rc < 0)
			fail("add-spoke", "cannot write %s: %s", files[n].path, strerror(-rc));
	}
	free(peer);
	if (rc < 0)
		undo(w, n - 1);
	return rc < 0;
}

/* The hub config with the new file, loaded as the running hub will on
 * reload; on failure the spoke's files go again. */
static int recheck(struct add *w)
{
	struct sn_config *c = NULL;
	char err[1024];

	if (sn_config_load(w->hub->path, &c, err, sizeof(err)) < 0) {
		undo(w, 3);
		return fail("add-spoke", "the hub config would not load with the new spoke, so it was not added: %s",
			    err);
	}
	sn_config_free(w->hub);
	w->hub = c;
	return 0;
}

static void summary(const struct add *w)
{
	char b[20], a[16];
	uint32_t x = w->s.address;

	snprintf(a, sizeof(a), "%u.%u.%u.%u", x >> 24, (x >> 16) & 255, (x >> 8) & 255, x & 255);
	printf("added spoke %s: id %u, overlay address %s", w->s.name, w->s.id, a);
	for (uint32_t i = 0; i < w->s.n_lans; i++)
		printf("%s%s", i ? ", " : ", LANs ", sn_prefix_str(&w->lans[i], b, sizeof(b)));
	printf("\n  wrote %s (the hub's entry)\n  wrote %s and %s: copy both to /etc/subnetra/ on the branch, then\n"
	       "    systemctl enable --now subnetrad@%s   (or: subnetrad -c /etc/subnetra/%s.yaml)\n",
	       w->peer, w->out, w->key, w->s.name, w->s.name);
	for (uint32_t i = 0; i < w->s.n_lans; i++)
		if (w->hub->n_peers > 1 && !sn_onboard_covered(&w->meta, &w->lans[i]))
			printf("  note: %s lies outside every spoke route of the hub, so spokes added before this one reach it only once it is in their hub.routes\n",
			       sn_prefix_str(&w->lans[i], b, sizeof(b)));
}

static int add(const struct add_args *a)
{
	struct add *w = calloc(1, sizeof(*w));
	uint8_t priv[32];
	char *text = NULL;
	size_t len = 0;
	int rc = 1;

	if (!w)
		return fail("add-spoke", "out of memory");
	if (load_hub("add-spoke", a->dir, a->hub, &w->hub, &w->meta) == 0 && check_new(w, a) == 0 &&
	    paths_of(w, a) == 0 && exists(w->out) == 0 && exists(w->key) == 0 &&
	    allocate(w, a, priv) == 0 && spoke_text(w, &text, &len) == 0 &&
	    write_files(w, priv, text, len) == 0 && recheck(w) == 0) {
		summary(w);
		rc = sn_onboard_reload(w->hub);
	}
	sodium_memzero(priv, sizeof(priv));
	free(text);
	if (w->hub)
		sn_config_free(w->hub);
	free(w);
	return rc;
}

int sn_onboard_add_spoke(int argc, char **argv)
{
	struct add_args a = {.dir = SN_ONBOARD_DEFAULT_DIR};
	const struct sn_onboard_opt opts[] = {
		{"--dir", &a.dir, NULL, NULL, NULL},
		{"--hub", &a.hub, NULL, NULL, NULL},
		{"--out", &a.out, NULL, NULL, NULL},
		{"--endpoint", &a.endpoint, NULL, NULL, NULL},
		{"--state-dir", &a.state_dir, NULL, NULL, NULL},
		{"--socket", &a.socket, NULL, NULL, NULL},
		{"--lan", NULL, a.lan, &a.n_lan, NULL},
		{NULL, NULL, NULL, NULL, NULL},
	};
	uint32_t n_pos;
	int rc = sn_onboard_args(argc, argv, opts, &a.name, 1, &n_pos, add_usage);

	if (rc)
		return rc == 1 ? 0 : rc;
	if (n_pos != 1) {
		fprintf(stderr, "subnetra: add-spoke: name the spoke (subnetra add-spoke NAME [--lan PREFIX]...; see --help)\n");
		return 2;
	}
	return add(&a);
}

/* ---- remove-spoke ---- */

/* The spoke config add-spoke noted in its entry ("" when none). */
static void spoke_config_of(const char *entry, char *out, size_t len)
{
	struct sn_onboard_meta m;
	char *text, why[512];
	size_t n;

	out[0] = 0;
	if (sn_onboard_read(entry, &text, &n) < 0)
		return;
	if (sn_onboard_meta_parse(text, n, &m, why, sizeof(why)) == 0)
		snprintf(out, len, "%s", m.spoke_config);
	free(text);
}

static void remove_if_there(const char *path)
{
	if (path[0] && unlink(path) == 0)
		printf("  removed %s\n", path);
}

static int remove_one(const struct sn_config *c, const char *name)
{
	const struct sn_conf_peer *p = sn_onboard_peer_named(c, name);
	char conf[4096], key[4096];

	if (!p)
		return fail("remove-spoke", "%s has no spoke called %s (%u spoke(s); `subnetra -c %s peers` lists those that run)",
			    c->path, name, c->n_peers, c->path);
	if (!p->file)
		return fail("remove-spoke", "%s is in %s itself (peers:, line %u), not in its peers_dir: remove it there by hand, then reload",
			    name, c->path, p->loc.line);
	spoke_config_of(p->file, conf, sizeof(conf));
	if (unlink(p->file) < 0)
		return fail("remove-spoke", "cannot remove %s: %s", p->file, strerror(errno));
	printf("removed spoke %s (id %u): %s\n", name, p->id, p->file);
	if (conf[0] && sn_onboard_key_path(key, sizeof(key), conf) == 0) {
		remove_if_there(conf);
		remove_if_there(key);
	}
	return 0;
}

int sn_onboard_remove_spoke(int argc, char **argv)
{
	const char *dir = SN_ONBOARD_DEFAULT_DIR, *hub = NULL, *name;
	const struct sn_onboard_opt opts[] = {
		{"--dir", &dir, NULL, NULL, NULL},
		{"--hub", &hub, NULL, NULL, NULL},
		{NULL, NULL, NULL, NULL, NULL},
	};
	struct sn_onboard_meta m;
	struct sn_config *c = NULL;
	char why[512];
	uint32_t n_pos;
	int rc = sn_onboard_args(argc, argv, opts, &name, 1, &n_pos, remove_usage);

	if (rc)
		return rc == 1 ? 0 : rc;
	if (n_pos != 1) {
		fprintf(stderr, "subnetra: remove-spoke: name the spoke (subnetra remove-spoke NAME; see --help)\n");
		return 2;
	}
	if (sn_onboard_name_check(name, why, sizeof(why)) < 0)
		return fail("remove-spoke", "%s", why);
	if (load_hub("remove-spoke", dir, hub, &c, &m) == 0 && remove_one(c, name) == 0)
		rc = sn_onboard_reload(c);
	else
		rc = 1;
	if (c)
		sn_config_free(c);
	return rc;
}
