/* SPDX-License-Identifier: MIT */
/*
 * core/onboard_init.c: `subnetra init hub` (docs/onboarding.md): a hub
 * config and key in DIR (default /etc/subnetra), and the empty peers.d/
 * the config names as its peers_dir, where `subnetra add-spoke` puts the
 * spokes. The text is checked with the daemon's loader before anything
 * is written, and loaded again from the written file at the end.
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

static const char usage[] =
	"usage: subnetra init hub [--dir DIR] [--name NAME] [--overlay PREFIX] [--address ADDR]\n"
	"                         [--listen ADDR:PORT] [--endpoint HOST:PORT] [--lan PREFIX]...\n"
	"                         [--spoke-route PREFIX]... [--state-dir DIR] [--socket PATH] [--force]\n"
	"\n"
	"Write DIR/NAME.yaml, DIR/NAME.key (mode 0600) and the empty DIR/peers.d/ that\n"
	"`subnetra add-spoke` fills. Existing files are never replaced; with --force\n"
	"the config is written again and an existing key is kept.\n"
	"\n"
	"  --dir DIR             default /etc/subnetra (created mode 0700)\n"
	"  --name NAME           the hub's name and its files' (default hub: subnetrad@hub)\n"
	"  --overlay PREFIX      the overlay subnet (default 10.0.0.0/24)\n"
	"  --address ADDR        the hub's overlay address (default: the subnet's first)\n"
	"  --listen ADDR:PORT    UDP address to listen on (default 0.0.0.0:51820)\n"
	"  --endpoint HOST:PORT  where spokes reach the hub (required unless --listen\n"
	"                        names an address)\n"
	"  --lan PREFIX          a LAN behind the hub (repeat for more)\n"
	"  --spoke-route PREFIX  a prefix every spoke reaches through the hub, e.g. the\n"
	"                        range the branch LANs come from (repeat for more)\n"
	"  --state-dir DIR       default /var/lib/subnetra/NAME\n"
	"  --socket PATH         the control socket (default /run/subnetra/NAME.sock)\n";

struct init_args {
	const char *dir, *name, *overlay, *address, *listen, *endpoint, *state_dir, *socket;
	const char *lan[SN_ONBOARD_LIST_MAX], *route[SN_ONBOARD_LIST_MAX];
	uint32_t n_lan, n_route;
	int force;
};

struct init_paths {
	char conf[4096], key[4096], peers[4096], state[4096], sock[4096];
};

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "subnetra: init hub: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

/* The default endpoint: the listen address when it names one. */
static const char *endpoint_of(const struct init_args *a)
{
	if (a->endpoint)
		return a->endpoint;
	if (strncmp(a->listen, "0.0.0.0:", 8) && a->listen[0] != ':')
		return a->listen;
	return NULL;
}

static int first_address(const struct sn_prefix *p, uint32_t *out)
{
	uint32_t mask = p->len ? 0xFFFFFFFFu << (32 - p->len) : 0;

	*out = (p->addr & mask) + (p->len == 31 ? 0 : 1);
	return 0;
}

/* Fill h from a: parse what the loader cannot name by a line of ours. */
static int hub_of(const struct init_args *a, struct sn_onboard_hub *h, struct sn_prefix *lans,
		  struct sn_prefix *routes, const struct init_paths *p)
{
	char why[256];

	h->name = a->name;
	h->listen = a->listen;
	h->state_dir = p->state;
	h->socket = p->sock;
	if (sn_onboard_name_check(a->name, why, sizeof(why)) < 0)
		return fail("--name: %s", why);
	if (!(h->endpoint = endpoint_of(a)))
		return fail("--endpoint HOST:PORT is required: where the spokes reach this hub (--listen %s names no address)",
			    a->listen);
	if (sn_onboard_endpoint_check(h->endpoint, why, sizeof(why)) < 0)
		return fail("--endpoint: %s", why);
	if (sn_prefix_parse(a->overlay, &h->overlay, why, sizeof(why)) < 0)
		return fail("--overlay %s: %s", a->overlay, why);
	if (a->address ? sn_ipv4_parse(a->address, &h->address) < 0 :
			 first_address(&h->overlay, &h->address) < 0)
		return fail("--address '%s' is not an IPv4 address (e.g. 10.0.0.1)", a->address);
	if (sn_onboard_prefixes("init hub", "--lan", a->lan, a->n_lan, lans) < 0 ||
	    sn_onboard_prefixes("init hub", "--spoke-route", a->route, a->n_route, routes) < 0)
		return 1;
	h->lans = lans;
	h->n_lans = a->n_lan;
	h->spoke_routes = routes;
	h->n_spoke_routes = a->n_route;
	return 0;
}

static int paths_of(const struct init_args *a, struct init_paths *p)
{
	return sn_onboard_path(p->conf, sizeof(p->conf), a->dir, a->name, ".yaml") < 0 ||
	       sn_onboard_path(p->key, sizeof(p->key), a->dir, a->name, ".key") < 0 ||
	       sn_onboard_path(p->peers, sizeof(p->peers), a->dir, "peers.d", "") < 0 ||
	       sn_onboard_node_paths(a->name, a->state_dir, a->socket, p->state, p->sock) < 0;
}

/* The config text, checked by the loader as the daemon will read it
 * (without the key file, which may not exist yet). */
static int make_text(const struct sn_onboard_hub *h, const char *path, char **text, size_t *len)
{
	struct sn_config *c = NULL;
	char err[1024];
	FILE *f = open_memstream(text, len);

	if (!f)
		return fail("%s", strerror(errno));
	sn_onboard_hub_text(f, h);
	if (fclose(f) != 0)
		return fail("%s", strerror(errno));
	if (sn_config_load_buffer(path, *text, *len, false, &c, err, sizeof(err)) < 0) {
		free(*text);
		return fail("%s", err);
	}
	sn_config_free(c);
	return 0;
}

static int write_key(const char *path, uint8_t pub[static 32])
{
	uint8_t k[32];
	int rc;

	if (sn_key_generate(k) < 0 || sn_key_public(pub, k) < 0)
		return fail("cannot make a key (the random generator failed)");
	rc = sn_onboard_write_key(path, k);
	sodium_memzero(k, sizeof(k));
	return rc < 0 ? fail("cannot write %s: %s", path, strerror(-rc)) : 0;
}

/* Existing files: refused without --force; with it the key is kept. */
static int existing(const struct init_args *a, const struct init_paths *p, int *have_key)
{
	*have_key = access(p->key, F_OK) == 0;
	if (a->force)
		return 0;
	if (access(p->conf, F_OK) == 0)
		return fail("%s exists; nothing was written (remove it, or use --force to write the config again and keep %s)",
			    p->conf, p->key);
	if (*have_key)
		return fail("%s exists; nothing was written (remove it, or use --force to keep that key and write %s)",
			    p->key, p->conf);
	return 0;
}

static int dirs(const struct init_paths *p, const char *dir)
{
	int rc = sn_onboard_mkdir(dir);

	if (rc < 0)
		return fail("cannot create the directory %s: %s", dir, strerror(-rc));
	if ((rc = sn_onboard_mkdir(p->peers)) < 0)
		return fail("cannot create the directory %s: %s", p->peers, strerror(-rc));
	return 0;
}

/* The written files, loaded as the daemon loads them. */
static int final_check(const struct init_paths *p, const struct sn_onboard_hub *h, int kept)
{
	struct sn_config *c = NULL;
	uint8_t pub[32];
	char err[1024], b64[SN_KEY_B64_LEN + 1], net[20];

	if (sn_config_load(p->conf, &c, err, sizeof(err)) < 0)
		return fail("the written config does not load: %s", err);
	sn_key_public(pub, c->private_key);
	sn_key_to_b64(b64, pub);
	sn_config_free(c);
	printf("wrote %s: hub '%s', overlay %s, address %u.%u.%u.%u, listen %s; spokes reach it at %s\n",
	       p->conf, h->name, sn_prefix_str(&h->overlay, net, sizeof(net)), h->address >> 24,
	       (h->address >> 16) & 255, (h->address >> 8) & 255, h->address & 255, h->listen,
	       h->endpoint);
	printf("%s %s: public key %s\n", kept ? "kept" : "wrote", p->key, b64);
	printf("spokes go to %s: subnetra add-spoke NAME --lan PREFIX\n", p->peers);
	return 0;
}

static int run(const struct init_args *a)
{
	struct sn_prefix lans[SN_ONBOARD_LIST_MAX], routes[SN_ONBOARD_LIST_MAX];
	struct sn_onboard_hub h = {0};
	struct init_paths p;
	uint8_t pub[32];
	char *text = NULL;
	size_t len = 0;
	int rc, have_key;

	if (paths_of(a, &p) || hub_of(a, &h, lans, routes, &p) || existing(a, &p, &have_key) ||
	    dirs(&p, a->dir) || make_text(&h, p.conf, &text, &len))
		return 1;
	rc = have_key ? 0 : write_key(p.key, pub);
	if (rc == 0 && (rc = sn_onboard_write(p.conf, text, len, a->force)) < 0)
		rc = fail("cannot write %s: %s", p.conf, strerror(-rc));
	free(text);
	return rc ? 1 : final_check(&p, &h, have_key);
}

int sn_onboard_init(int argc, char **argv)
{
	struct init_args a = {.dir = SN_ONBOARD_DEFAULT_DIR, .name = "hub",
			      .overlay = "10.0.0.0/24", .listen = "0.0.0.0:51820"};
	const struct sn_onboard_opt opts[] = {
		{"--dir", &a.dir, NULL, NULL, NULL},
		{"--name", &a.name, NULL, NULL, NULL},
		{"--overlay", &a.overlay, NULL, NULL, NULL},
		{"--address", &a.address, NULL, NULL, NULL},
		{"--listen", &a.listen, NULL, NULL, NULL},
		{"--endpoint", &a.endpoint, NULL, NULL, NULL},
		{"--state-dir", &a.state_dir, NULL, NULL, NULL},
		{"--socket", &a.socket, NULL, NULL, NULL},
		{"--lan", NULL, a.lan, &a.n_lan, NULL},
		{"--spoke-route", NULL, a.route, &a.n_route, NULL},
		{"--force", NULL, NULL, NULL, &a.force},
		{NULL, NULL, NULL, NULL, NULL},
	};
	const char *pos[1];
	uint32_t n_pos;
	int rc = sn_onboard_args(argc, argv, opts, pos, 1, &n_pos, usage);

	if (rc)
		return rc == 1 ? 0 : rc;
	if (n_pos != 1 || strcmp(pos[0], "hub")) {
		fprintf(stderr, "subnetra: init: %s (see subnetra init --help)\n",
			n_pos && !strcmp(pos[0], "spoke") ?
				"a spoke's config is made on the hub: subnetra add-spoke NAME" :
				"say what to make: subnetra init hub");
		return 2;
	}
	return run(&a);
}
