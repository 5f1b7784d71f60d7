/* SPDX-License-Identifier: MIT */
/*
 * core/onboard_text.c: the YAML the onboarding commands write (a hub
 * config, a peers_dir entry, a spoke config), in the shape of the
 * installed examples (contrib/examples). The commands check every text
 * with the daemon's loader before they write it (onboard_init.c,
 * onboard_spoke.c), so a mistake here is an error, not a broken file.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "keys.h"
#include "onboard.h"

/* Plain YAML is safe for what starts with a letter or '/' and holds only
 * these characters, unless YAML would read it as a boolean or null. */
static int plain_ok(const char *s)
{
	static const char *const special[] = {"true", "false", "yes", "no", "on", "off", "null", "y", "n"};

	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '/'))
		return 0;
	if (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./+=-") !=
	    strlen(s))
		return 0;
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		if (!strcasecmp(s, special[i]))
			return 0;
	return 1;
}

void sn_onboard_put_str(FILE *f, const char *s)
{
	if (plain_ok(s)) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void put_kv(FILE *f, const char *indent, const char *key, const char *val)
{
	fprintf(f, "%s%s: ", indent, key);
	sn_onboard_put_str(f, val);
	fputc('\n', f);
}

static void put_prefixes(FILE *f, const char *indent, const char *key,
			 const struct sn_prefix *p, uint32_t n)
{
	char b[20];

	if (!n)
		return;
	fprintf(f, "%s%s: [", indent, key);
	for (uint32_t i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? ", " : "", sn_prefix_str(&p[i], b, sizeof(b)));
	fputs("]\n", f);
}

static void put_ipv4(FILE *f, const char *indent, const char *key, uint32_t a)
{
	fprintf(f, "%s%s: %u.%u.%u.%u\n", indent, key, a >> 24, (a >> 16) & 255, (a >> 8) & 255,
		a & 255);
}

static void hub_header(FILE *f, const struct sn_onboard_hub *h)
{
	char b[20];

	fprintf(f,
		"# Subnetra hub '%s', written by `subnetra init hub`. Every key: subnetra.conf(5).\n"
		"#\n"
		"# Spokes are added with `subnetra add-spoke NAME --lan PREFIX` and removed\n"
		"# with `subnetra remove-spoke NAME`: one file each in peers.d/ (peers_dir\n"
		"# below), then a reload. Those commands never rewrite this file, so edit\n"
		"# it freely; they read the \"# subnetra:\" lines below, keep them.\n",
		h->name);
	fprintf(f, "# subnetra: name %s\n# subnetra: endpoint %s\n", h->name, h->endpoint);
	for (uint32_t i = 0; i < h->n_spoke_routes; i++)
		fprintf(f, "# subnetra: spoke-route %s\n",
			sn_prefix_str(&h->spoke_routes[i], b, sizeof(b)));
}

void sn_onboard_hub_text(FILE *f, const struct sn_onboard_hub *h)
{
	char key[80], b[20];

	hub_header(f, h);
	snprintf(key, sizeof(key), "%s.key", h->name);
	fputs("\nnode:\n  id: 1\n  role: hub\n", f);
	put_kv(f, "  ", "private_key_file", key);
	fprintf(f, "  listen: \"%s\"\n", h->listen);
	put_kv(f, "  ", "state_dir", h->state_dir);
	fprintf(f, "\noverlay:\n  subnet: %s\n", sn_prefix_str(&h->overlay, b, sizeof(b)));
	put_ipv4(f, "  ", "address", h->address);
	put_prefixes(f, "  ", "lans", h->lans, h->n_lans);
	fputs("\nkeepalive: 25\n\ncontrol:\n", f);
	put_kv(f, "  ", "socket", h->socket);
	fputs("\n# one file per spoke, written by `subnetra add-spoke`\npeers_dir: peers.d\n", f);
}

void sn_onboard_peer_text(FILE *f, const struct sn_onboard_spoke *s)
{
	char pub[SN_KEY_B64_LEN + 1];

	sn_key_to_b64(pub, s->public_key);
	fprintf(f, "# spoke '%s', written by `subnetra add-spoke`; `subnetra remove-spoke %s` removes it\n",
		s->name, s->name);
	fprintf(f, "# subnetra: spoke-config %s\n", s->out);
	fprintf(f, "id: %u\n", s->id);
	put_kv(f, "", "name", s->name);
	fprintf(f, "public_key: %s\n", pub);
	put_ipv4(f, "", "address", s->address);
	put_prefixes(f, "", "routes", s->lans, s->n_lans);
}

static void put_route(FILE *f, const struct sn_onboard_meta *m, const struct sn_prefix *p,
		      int *n)
{
	char b[20];

	if (sn_onboard_covered(m, p))
		return;
	fprintf(f, "%s%s", *n ? ", " : "  routes: [", sn_prefix_str(p, b, sizeof(b)));
	(*n)++;
}

/* hub.routes: the hub's LANs and the other spokes' LANs that no spoke
 * route covers (those reach the hub by the policy rules instead). */
static void hub_routes(FILE *f, const struct sn_config *c, const struct sn_onboard_meta *m)
{
	int n = 0;

	for (uint32_t i = 0; i < c->n_lans; i++)
		put_route(f, m, &c->lans[i], &n);
	for (uint32_t i = 0; i < c->n_peers; i++)
		for (uint32_t j = 0; j < c->peers[i].n_routes; j++)
			put_route(f, m, &c->peers[i].routes[j], &n);
	if (n)
		fputs("]  # the hub's and the other spokes' LANs\n", f);
}

static void spoke_header(FILE *f, const struct sn_onboard_spoke *s)
{
	fprintf(f,
		"# Subnetra spoke '%s', written by `subnetra add-spoke` on the hub.\n"
		"# Every key: subnetra.conf(5). Copy this file and %s (its private key,\n"
		"# mode 0600) to /etc/subnetra/ on the branch, then:\n"
		"#\n"
		"#   subnetrad -c /etc/subnetra/%s.yaml --check\n"
		"#   systemctl enable --now subnetrad@%s\n",
		s->name, s->key_file, s->name, s->name);
}

void sn_onboard_spoke_text(FILE *f, const struct sn_onboard_spoke *s, const struct sn_config *c,
			   const struct sn_onboard_meta *m, const uint8_t hub_pub[static 32])
{
	char pub[SN_KEY_B64_LEN + 1], b[20];

	spoke_header(f, s);
	fprintf(f, "\nnode:\n  id: %u\n  role: spoke\n", s->id);
	put_kv(f, "  ", "private_key_file", s->key_file);
	put_kv(f, "  ", "state_dir", s->state_dir);
	fprintf(f, "\noverlay:\n  subnet: %s\n", sn_prefix_str(&c->subnet, b, sizeof(b)));
	put_ipv4(f, "  ", "address", s->address);
	if (c->has & SN_CONF_HAS_MTU) /* else the spoke derives it from its own egress */
		fprintf(f, "  mtu: %u\n", c->mtu);
	put_prefixes(f, "  ", "lans", s->lans, s->n_lans);
	sn_key_to_b64(pub, hub_pub);
	fprintf(f, "\nhub:\n  id: %u\n", c->node_id);
	put_kv(f, "  ", "name", m->name);
	fprintf(f, "  public_key: %s\n  endpoint: %s\n", pub, s->endpoint);
	put_ipv4(f, "  ", "address", c->address);
	hub_routes(f, c, m);
	if (m->n_spoke_routes)
		fputs("\npolicy:                       # the spoke routes: every branch LAN, through the hub\n",
		      f);
	for (uint32_t i = 0; i < m->n_spoke_routes; i++)
		fprintf(f, "  - { prefix: %s, action: forward, peer: %u }\n",
			sn_prefix_str(&m->spoke_routes[i], b, sizeof(b)), c->node_id);
	fputs("\nkeepalive: 25                  # keeps NAT pinholes open\n\ncontrol:\n", f);
	put_kv(f, "  ", "socket", s->socket);
}
