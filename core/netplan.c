/* SPDX-License-Identifier: MIT */
/*
 * core/netplan.c: `subnetrad --print-network-plan [--platform P]`: the host
 * commands that make a node's network work around the daemon, printed as a
 * commented script (RouterOS terminal commands for routeros):
 *
 *   1. the overlay interface's address and MTU (subnetrad sets them itself;
 *      shown commented out, for reference and manual setups);
 *   2. routes to the remote prefixes through the overlay, the same list the
 *      daemon adds (sn_routes_wanted); commented out unless
 *      overlay.manage_routes is false;
 *   3. IPv4 forwarding where the node routes a LAN (a hub, or a spoke with
 *      overlay.lans);
 *   4. a TCP MSS clamp to MTU - 40 (nftables, pf, RouterOS mangle);
 *   5. the firewall opening for a hub's UDP listen port.
 *
 * On routeros the plan runs subnetrad in a RouterOS container (veth, bridge,
 * mounts, container from the image scripts/container-image.sh builds) and
 * routes the overlay through the container's veth, in the property names
 * of the RouterOS version asked for (--routeros-version), and says how to
 * read `subnetra status` and upgrade the image.
 * The output depends on the config and the options only, so golden files
 * test it; with overlay.mtu unset, subnetrad first loads the plugins as
 * --check does for the MTU the node derives from its egress stack.
 */
#include "netplan.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "routes.h"

struct plan {
	const struct sn_config *c;
	FILE *f;
	const char *platform;
	struct sn_prefix *routes;   /* what the daemon routes through the overlay */
	uint32_t n_routes;
	uint32_t mss;               /* MTU - 40 */
	uint16_t port;              /* the hub's UDP port; 0 on a spoke */
	bool forwards;              /* routes a LAN: a hub, or a spoke with lans */
	uint32_t link;              /* routeros: the container link /24 */
	unsigned ros_minor;         /* routeros: 7.ros_minor */
};

static const char *pfx(const struct sn_prefix *p, char *buf)
{
	return sn_prefix_str(p, buf, 24);
}

static const char *ip(uint32_t a, char *buf)
{
	snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
	return buf;
}

static struct sn_prefix overlay_addr(const struct sn_config *c)
{
	return (struct sn_prefix){ c->address, c->subnet.len, { 0 } };
}

static void section(struct plan *p, const char *title)
{
	int n = fprintf(p->f, "\n# --- %s ", title);

	for (; n > 0 && n < 77; n++)
		fputc('-', p->f);
	fputc('\n', p->f);
}

/* "# " in front of a command the daemon runs itself. */
static const char *managed(const struct plan *p)
{
	return p->c->manage_routes ? "#   " : "";
}

static void header(struct plan *p)
{
	const struct sn_config *c = p->c;
	bool shell = strcmp(p->platform, "routeros") != 0;

	if (shell)
		fprintf(p->f, "#!/bin/sh\n");
	fprintf(p->f, "# Subnetra network plan: node %u (%s) on %s, from %s.\n", c->node_id,
		c->role == SN_ROLE_HUB ? "hub" : "spoke", p->platform, c->path);
	fprintf(p->f, "# Printed by `subnetrad --print-network-plan`; review it before use.\n");
	if (!shell)
		return;
	fprintf(p->f, "# Run it as root. Commented-out commands are what subnetrad does by\n"
		      "# itself, shown for reference and manual setups.\n"
		      "set -eu\n");
}

static void no_routes(struct plan *p)
{
	fprintf(p->f, "# None: this node routes no remote prefix through the overlay.\n");
}

static void routes_intro(struct plan *p, const char *dev)
{
	if (p->c->manage_routes)
		fprintf(p->f, "# subnetrad adds these at start and removes them at exit "
			      "(overlay.manage_routes):\n");
	else
		fprintf(p->f, "# overlay.manage_routes is false: add them yourself once subnetrad is\n"
			      "# up (%s exists only while it runs):\n", dev);
}

static void forwarding_intro(struct plan *p)
{
	char b[24];

	if (p->c->role == SN_ROLE_HUB) {
		fprintf(p->f, "# The hub relays between spokes inside subnetrad; forwarding lets overlay\n"
			      "# traffic reach the networks behind this host.\n");
		return;
	}
	fprintf(p->f, "# This spoke routes between its LAN");
	for (uint32_t i = 0; i < p->c->n_lans; i++)
		fprintf(p->f, "%s%s", i ? ", " : " ", pfx(&p->c->lans[i], b));
	fprintf(p->f, " and the overlay.\n");
}

static void no_forwarding(struct plan *p)
{
	fprintf(p->f, "# Not needed: this spoke routes no LAN (overlay.lans is empty).\n");
}

static void spoke_no_port(struct plan *p)
{
	const struct sn_conf_peer *hub = p->c->n_peers ? &p->c->peers[0] : NULL;

	fprintf(p->f, "# Nothing to open: a spoke only sends to its hub (%s);\n"
		      "# the replies come back through connection tracking.\n",
		hub && hub->endpoint_text ? hub->endpoint_text : "hub.endpoint");
}

/* ---- linux ----------------------------------------------------------------- */

static void linux_iface(struct plan *p)
{
	const struct sn_config *c = p->c;
	struct sn_prefix ov = overlay_addr(c);
	char b[24];

	section(p, "1. Overlay interface");
	fprintf(p->f, "# subnetrad creates %s and sets its address and MTU itself:\n", c->ifname);
	fprintf(p->f, "#   ip link set dev %s mtu %u up\n", c->ifname, c->mtu);
	fprintf(p->f, "#   ip address add %s dev %s\n", pfx(&ov, b), c->ifname);
}

static void linux_routes(struct plan *p)
{
	char b[24];

	section(p, "2. Routes through the overlay");
	if (!p->n_routes) {
		no_routes(p);
		return;
	}
	routes_intro(p, p->c->ifname);
	for (uint32_t i = 0; i < p->n_routes; i++)
		fprintf(p->f, "%sip route replace %s dev %s\n", managed(p), pfx(&p->routes[i], b),
			p->c->ifname);
}

static void linux_forwarding(struct plan *p)
{
	section(p, "3. IPv4 forwarding");
	if (!p->forwards) {
		no_forwarding(p);
		return;
	}
	forwarding_intro(p);
	fprintf(p->f, "sysctl -w net.ipv4.ip_forward=1\n"
		      "echo 'net.ipv4.ip_forward = 1' > /etc/sysctl.d/90-subnetra.conf\n"
		      "# If your firewall filters forwarded traffic, let %s through, e.g.\n"
		      "#   nft insert rule inet filter forward iifname \"%s\" accept\n"
		      "#   nft insert rule inet filter forward oifname \"%s\" accept\n",
		p->c->ifname, p->c->ifname, p->c->ifname);
}

static void linux_mss(struct plan *p)
{
	const char *dev = p->c->ifname;

	section(p, "4. TCP MSS clamp");
	fprintf(p->f, "# MTU %u leaves a TCP MSS of %u (MTU - 40). Forwarded TCP connections\n"
		      "# through %s get a larger MSS in their SYN lowered to %u, so hosts\n"
		      "# with a 1500-byte MTU never send segments too big for the overlay. The\n"
		      "# table is subnetra's own: nft delete table inet subnetra removes it.\n",
		p->c->mtu, p->mss, dev, p->mss);
	fprintf(p->f, "nft -f - <<'NFT'\n"
		      "table inet subnetra\n"
		      "delete table inet subnetra\n"
		      "table inet subnetra {\n"
		      "\tchain forward {\n"
		      "\t\ttype filter hook forward priority mangle; policy accept;\n");
	fprintf(p->f, "\t\toifname \"%s\" tcp flags syn tcp option maxseg size %u-65535 "
		      "tcp option maxseg size set %u\n", dev, p->mss + 1, p->mss);
	fprintf(p->f, "\t\tiifname \"%s\" tcp flags syn tcp option maxseg size %u-65535 "
		      "tcp option maxseg size set %u\n", dev, p->mss + 1, p->mss);
	fprintf(p->f, "\t}\n}\nNFT\n");
}

static void linux_firewall(struct plan *p)
{
	section(p, "5. Firewall: the underlay port");
	if (!p->port) {
		spoke_no_port(p);
		return;
	}
	fprintf(p->f, "# Spokes send to UDP port %u on this host. With the usual nftables\n"
		      "# ruleset (table inet filter, chain input):\n", p->port);
	fprintf(p->f, "if nft list chain inet filter input >/dev/null 2>&1; then\n"
		      "\tnft insert rule inet filter input udp dport %u accept comment \\\"subnetra\\\"\n"
		      "fi\n", p->port);
	fprintf(p->f, "# with ufw:       ufw allow %u/udp\n"
		      "# with firewalld: firewall-cmd --permanent --add-port=%u/udp && "
		      "firewall-cmd --reload\n", p->port, p->port);
}

static void plan_linux(struct plan *p)
{
	linux_iface(p);
	linux_routes(p);
	linux_forwarding(p);
	linux_mss(p);
	linux_firewall(p);
}

/* ---- macos ----------------------------------------------------------------- */

static void macos_iface(struct plan *p)
{
	const struct sn_config *c = p->c;
	uint32_t mask = c->subnet.len ? ~0u << (32 - c->subnet.len) : 0;
	char a[16], m[16], b[24];

	section(p, "1. Overlay interface");
	if (c->role == SN_ROLE_HUB)
		fprintf(p->f, "# Note: subnetrad's macOS backend is meant for spokes.\n");
	fprintf(p->f, "# subnetrad opens a utun device (the kernel picks its number; subnetrad\n"
		      "# logs it) and sets its address and MTU itself:\n");
	fprintf(p->f, "#   ifconfig utunN inet %s %s netmask %s mtu %u up\n", ip(c->address, a), a,
		ip(mask, m), c->mtu);
	fprintf(p->f, "#   route -q -n add -net %s -interface utunN\n", pfx(&c->subnet, b));
	fprintf(p->f, "# The commands below find the device by its overlay address: start\n"
		      "# subnetrad first.\n");
	fprintf(p->f, "IF=$(ifconfig | awk '/^[a-z]/ { i = $1; sub(/:$/, \"\", i) } "
		      "$1 == \"inet\" && $2 == \"%s\" { print i; exit }')\n", a);
	fprintf(p->f, "[ -n \"$IF\" ] || { echo \"no interface has %s: start subnetrad first\" >&2; "
		      "exit 1; }\n", a);
}

static void macos_routes(struct plan *p)
{
	char b[24];

	section(p, "2. Routes through the overlay");
	if (!p->n_routes) {
		no_routes(p);
		return;
	}
	routes_intro(p, "the utun device");
	for (uint32_t i = 0; i < p->n_routes; i++)
		fprintf(p->f, "%sroute -q -n add -net %s -interface \"$IF\"\n", managed(p),
			pfx(&p->routes[i], b));
}

static void macos_forwarding(struct plan *p)
{
	section(p, "3. IPv4 forwarding");
	if (!p->forwards) {
		no_forwarding(p);
		return;
	}
	forwarding_intro(p);
	fprintf(p->f, "# Lasts until reboot; add net.inet.ip.forwarding=1 to /etc/sysctl.conf\n"
		      "# to keep it.\n"
		      "sysctl -w net.inet.ip.forwarding=1\n");
}

static void macos_pf(struct plan *p)
{
	section(p, p->port ? "4. pf: TCP MSS clamp and the underlay port" : "4. pf: TCP MSS clamp");
	fprintf(p->f, "# MTU %u leaves a TCP MSS of %u (MTU - 40). The rules go into the anchor\n"
		      "# com.apple/subnetra, which the stock /etc/pf.conf already evaluates\n"
		      "# (anchor \"com.apple/*\"); pfctl -a com.apple/subnetra -F all removes them.\n",
		p->c->mtu, p->mss);
	if (p->port)
		fprintf(p->f, "# Spokes send to UDP port %u on this host.\n", p->port);
	fprintf(p->f, "pfctl -a com.apple/subnetra -f - <<PF\n"
		      "scrub on $IF all max-mss %u\n", p->mss);
	if (p->port)
		fprintf(p->f, "pass in proto udp from any to any port %u\n", p->port);
	fprintf(p->f, "PF\n"
		      "pfctl -E\n");
}

static void plan_macos(struct plan *p)
{
	macos_iface(p);
	macos_routes(p);
	macos_forwarding(p);
	macos_pf(p);
	if (!p->port) {
		section(p, "5. Firewall: the underlay port");
		spoke_no_port(p);
	}
}

/* ---- routeros -------------------------------------------------------------- */

#define ROS_VETH "veth-subnetra"
#define ROS_BRIDGE "br-subnetra"
#define ROS_TAG "comment=subnetra"

static bool overlap(const struct sn_prefix *a, const struct sn_prefix *b)
{
	uint8_t len = a->len < b->len ? a->len : b->len;
	uint32_t mask = len ? ~0u << (32 - len) : 0;

	return (a->addr & mask) == (b->addr & mask);
}

static bool used(const struct plan *p, const struct sn_prefix *x)
{
	const struct sn_config *c = p->c;

	if (overlap(x, &c->subnet))
		return true;
	for (uint32_t i = 0; i < c->n_lans; i++)
		if (overlap(x, &c->lans[i]))
			return true;
	for (uint32_t i = 0; i < p->n_routes; i++)
		if (overlap(x, &p->routes[i]))
			return true;
	return false;
}

/* The container link: the first of 172.17.0.0/24 .. 172.31.0.0/24 the
 * config does not use (172.17.0.0/24 is what RouterOS's manual uses). */
static uint32_t pick_link(const struct plan *p)
{
	for (uint32_t b = 17; b <= 31; b++) {
		struct sn_prefix x = { (172u << 24) | (b << 16), 24, { 0 } };

		if (!used(p, &x))
			return x.addr;
	}
	return (172u << 24) | (17u << 16);
}

/* The container properties that RouterOS renamed: env lists became
 * envlists in 7.20 (an env's name= its list=), mounts became mount lists
 * in 7.21 (a mount's name= its list=); 7.20 also brought the stopped flag
 * and /container/shell cmd= (docs/network-plan.md names the sources). */
struct ros_names {
	const char *env_key, *envs, *mount_key, *mounts;
	bool stopped_flag, shell_cmd;
};

static struct ros_names ros_names(unsigned minor)
{
	return (struct ros_names){
		.env_key = minor >= 20 ? "list" : "name",
		.envs = minor >= 20 ? "envlists" : "envlist",
		.mount_key = minor >= 21 ? "list" : "name",
		.mounts = minor >= 21 ? "mountlists" : "mounts",
		.stopped_flag = minor >= 20,
		.shell_cmd = minor >= 20,
	};
}

static void ros_header(struct plan *p)
{
	char a[16];

	fprintf(p->f, "# RouterOS 7.%u commands (--routeros-version; the container's env and\n"
		      "# mount properties differ before 7.20 and 7.21) that run subnetrad in a\n"
		      "# container; paste them into the terminal. Needs the container package,\n"
		      "# enabled once with\n"
		      "#   /system/device-mode/update container=yes\n", p->ros_minor);
	if (p->ros_minor > 21)
		fprintf(p->f, "# Written against 7.19, 7.20 and 7.21: 7.%u gets 7.21's names.\n",
			p->ros_minor);
	fprintf(p->f, "# The container reaches the router through %s at %s/24.\n", ROS_VETH,
		ip(p->link + 2, a));
}

static void ros_veth(struct plan *p)
{
	char a[16], g[16], n[16];

	ip(p->link + 2, a);
	ip(p->link + 1, g);
	ip(p->link, n);
	section(p, "1. A veth for the container, on a bridge of its own");
	fprintf(p->f, "/interface/veth add name=%s address=%s/24 gateway=%s %s\n", ROS_VETH, a, g,
		ROS_TAG);
	fprintf(p->f, "/interface/bridge add name=%s %s\n", ROS_BRIDGE, ROS_TAG);
	fprintf(p->f, "/interface/bridge/port add bridge=%s interface=%s %s\n", ROS_BRIDGE, ROS_VETH,
		ROS_TAG);
	fprintf(p->f, "/ip/address add address=%s/24 interface=%s %s\n", g, ROS_BRIDGE, ROS_TAG);
	fprintf(p->f, "/ip/firewall/nat add chain=srcnat src-address=%s/24 action=masquerade %s\n",
		n, ROS_TAG);
}

/* path below the config's directory ("keys/hub.key"), or NULL. */
static const char *below_conf(const struct sn_config *c, const char *path)
{
	const char *slash = strrchr(c->path, '/');
	char dir[4096], cwd[2048];
	size_t n;

	if (c->path[0] == '/')
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - c->path), c->path);
	else if (getcwd(cwd, sizeof(cwd)))
		snprintf(dir, sizeof(dir), "%s/%.*s", cwd, slash ? (int)(slash - c->path) : 0,
			 c->path);
	else
		return NULL;
	n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		dir[--n] = '\0';
	return !strncmp(path, dir, n) && path[n] == '/' ? path + n + 1 : NULL;
}

static void ros_files(struct plan *p)
{
	const struct sn_config *c = p->c;
	const char *key = below_conf(c, c->private_key_file);
	struct sn_prefix ov = overlay_addr(c);
	char b[24];

	fprintf(p->f, "# Build the image for this router's CPU on a Linux machine, from this\n"
		      "# repository: scripts/container-image.sh ARCH, with ARCH arm64 for the\n"
		      "# architecture-name (/system/resource/print) arm64 (RB5009, CCR2004,\n"
		      "# hAP ax), armhf for arm (older ARM boards), amd64 for x86_64 or x86.\n"
		      "# Copy the file it writes, build/image/subnetrad-ARCH.tar, to disk1/\n"
		      "# (the block below picks this router's; disk1 is a disk /disk/print\n"
		      "# shows, an external one where the router has one).\n");
	fprintf(p->f, "# Copy the config as disk1/subnetra/etc/subnetra.yaml, with its key file\n"
		      "# (%s): any file mode will do, the image's entrypoint uses a\n"
		      "# 0600 copy of a key file readable by others and says so in the log.\n",
		key ? key : "node.private_key_file");
	if (!key)
		fprintf(p->f, "# But node.private_key_file (%s) is not inside the config's\n"
			      "# directory: give it relative to the config (e.g. keys/node.key), or\n"
			      "# the entrypoint cannot stand in for it.\n", c->private_key_file);
	fprintf(p->f, "# The config's relative paths (keys/, state/, run/) resolve inside\n"
		      "# disk1/subnetra/etc, so the epoch state survives image upgrades. In the\n"
		      "# container, subnetrad creates %s with %s, MTU %u, and\n"
		      "# its routes; the entrypoint turns on IPv4 forwarding there.\n",
		c->ifname, pfx(&ov, b), c->mtu);
}

/* A peer endpoint given by host name, or NULL. */
static const char *named_endpoint(const struct sn_config *c)
{
	for (uint32_t i = 0; i < c->n_peers; i++) {
		const char *e = c->peers[i].endpoint_text, *colon;
		char host[256];
		struct in_addr a;

		if (!e || !(colon = strrchr(e, ':')))
			continue;
		snprintf(host, sizeof(host), "%.*s", (int)(colon - e), e);
		if (inet_pton(AF_INET, host, &a) != 1)
			return e;
	}
	return NULL;
}

/* The stopped test of a container $c, in this version's terms. */
static const char *ros_stopped(const struct plan *p)
{
	return ros_names(p->ros_minor).stopped_flag ? "[/container/get $c stopped]" :
						      "([/container/get $c status] = \"stopped\")";
}

static void ros_add(struct plan *p, const char *dns)
{
	struct ros_names n = ros_names(p->ros_minor);
	char g[16];

	fprintf(p->f, "# Add the container, wait until RouterOS has extracted the image (the\n"
		      "# container shows stopped), then start it:\n");
	fprintf(p->f, "{\n"
		      "  :local arch [/system/resource/get architecture-name]\n"
		      "  :local image \"\"\n"
		      "  :if ($arch = \"arm64\") do={ :set image \"arm64\" }\n"
		      "  :if ($arch = \"arm\") do={ :set image \"armhf\" }\n"
		      "  :if (($arch = \"x86_64\") || ($arch = \"x86\")) do={ :set image \"amd64\" }\n"
		      "  :if ($image = \"\") do={ :error (\"subnetra: no image for \" . $arch) }\n");
	fprintf(p->f, "  :local c [/container/add file=(\"disk1/subnetrad-\" . $image . \".tar\") "
		      "interface=%s root-dir=disk1/subnetra/root %s=subnetra-etc %s=subnetra%s%s "
		      "start-on-boot=yes logging=yes %s]\n",
		ROS_VETH, n.mounts, n.envs, dns ? " dns=" : "", dns ? ip(p->link + 1, g) : "",
		ROS_TAG);
	fprintf(p->f, "  :local t 0\n"
		      "  :while ((!%s) && ($t < 300)) do={ :delay 2s; :set t ($t + 2) }\n"
		      "  :if (!%s) do={ :error \"subnetra: the image is not extracted after 300 s "
		      "(/log/print where topics~container)\" }\n"
		      "  /container/start $c\n"
		      "}\n", ros_stopped(p), ros_stopped(p));
}

static void ros_container(struct plan *p)
{
	struct ros_names n = ros_names(p->ros_minor);
	const char *dns = named_endpoint(p->c);
	char g[16];

	section(p, "2. The container");
	ros_files(p);
	if (dns)
		fprintf(p->f, "# The hub is given by name (%s): the container asks the router's\n"
			      "# DNS at %s (/ip/dns/set allow-remote-requests=yes, with the input\n"
			      "# firewall keeping the WAN out), or put another resolver in dns=.\n",
			dns, ip(p->link + 1, g));
	fprintf(p->f, "/container/envs add %s=subnetra key=SUBNETRA_CONFIG "
		      "value=/etc/subnetra/subnetra.yaml\n", n.env_key);
	fprintf(p->f, "/container/mounts add %s=subnetra-etc src=disk1/subnetra/etc "
		      "dst=/etc/subnetra\n", n.mount_key);
	ros_add(p, dns);
}

static void ros_routes(struct plan *p)
{
	char b[24], g[16];

	ip(p->link + 2, g);
	section(p, "3. Routes through the container");
	fprintf(p->f, "/ip/route add dst-address=%s gateway=%s %s\n", pfx(&p->c->subnet, b), g,
		ROS_TAG);
	for (uint32_t i = 0; i < p->n_routes; i++)
		fprintf(p->f, "/ip/route add dst-address=%s gateway=%s %s\n", pfx(&p->routes[i], b),
			g, ROS_TAG);
}

static void ros_mss(struct plan *p)
{
	static const char *const dir[2] = { "out-interface", "in-interface" };

	section(p, "4. TCP MSS clamp");
	fprintf(p->f, "# MTU %u leaves a TCP MSS of %u (MTU - 40).\n", p->c->mtu, p->mss);
	for (int i = 0; i < 2; i++)
		fprintf(p->f, "/ip/firewall/mangle add chain=forward protocol=tcp tcp-flags=syn "
			      "tcp-mss=%u-65535 %s=%s action=change-mss new-mss=%u passthrough=yes %s\n",
			p->mss + 1, dir[i], ROS_BRIDGE, p->mss, ROS_TAG);
}

static void ros_firewall(struct plan *p)
{
	char a[16];

	section(p, "5. Firewall: the underlay port");
	if (!p->port) {
		fprintf(p->f, "# Nothing to open: a spoke only sends to its hub; the masquerade above\n"
			      "# carries that traffic.\n");
		return;
	}
	ip(p->link + 2, a);
	fprintf(p->f, "# Spokes send to UDP port %u on this router: pass it to the container.\n",
		p->port);
	fprintf(p->f, "/ip/firewall/nat add chain=dstnat protocol=udp dst-port=%u "
		      "in-interface-list=WAN action=dst-nat to-addresses=%s to-ports=%u %s\n",
		p->port, a, p->port, ROS_TAG);
	fprintf(p->f, "/ip/firewall/filter add chain=forward protocol=udp dst-port=%u "
		      "dst-address=%s action=accept %s\n", p->port, a, ROS_TAG);
	fprintf(p->f, "# Move that rule above any drop rule of the forward chain.\n");
}

static void ros_status(struct plan *p)
{
	section(p, "6. Status and upgrades");
	fprintf(p->f, "# subnetrad's status (peers, counters, drops by reason):\n");
	if (ros_names(p->ros_minor).shell_cmd)
		fprintf(p->f, "#   /container/shell [find %s] cmd=\"subnetra status\"\n", ROS_TAG);
	else
		fprintf(p->f, "#   /container/shell [find %s]\n"
			      "# then type subnetra status (the image's /bin/sh runs one command a line).\n",
			ROS_TAG);
	fprintf(p->f, "# Its log: /log/print where topics~\"container\"\n"
		      "# To upgrade, copy the new subnetrad-ARCH.tar over the old one, run\n"
		      "#   { :local c [/container/find where %s]; :do { /container/stop $c } on-error={};"
		      " :local t 0;"
		      " :while ((!%s) && ($t < 60)) do={ :delay 1s; :set t ($t + 1) };"
		      " /container/remove $c }\n"
		      "#   :do { /file/remove disk1/subnetra/root } on-error={}\n"
		      "# and paste the { ... } block of part 2 again. The config, the keys and\n"
		      "# the state stay in disk1/subnetra/etc.\n", ROS_TAG, ros_stopped(p));
}

static void plan_routeros(struct plan *p)
{
	p->link = pick_link(p);
	ros_header(p);
	ros_veth(p);
	ros_container(p);
	ros_routes(p);
	ros_mss(p);
	ros_firewall(p);
	ros_status(p);
}

/* ---- entry points ---------------------------------------------------------- */

bool sn_netplan_platform_ok(const char *platform)
{
	return !platform || !strcmp(platform, "linux") || !strcmp(platform, "macos") ||
	       !strcmp(platform, "routeros");
}

/* A decimal number of 1..3 digits at *s; moves *s past it. */
static int number(const char **s, unsigned *v)
{
	const char *p = *s;

	for (*v = 0; *p >= '0' && *p <= '9' && p - *s < 3; p++)
		*v = *v * 10 + (unsigned)(*p - '0');
	if (p == *s || (*p >= '0' && *p <= '9'))
		return -EINVAL;
	*s = p;
	return 0;
}

int sn_netplan_routeros_version(const char *v, unsigned *minor, char *err, size_t err_len)
{
	const char *s = v ? v : SN_NETPLAN_ROUTEROS_DEFAULT;
	unsigned major, patch;

	if (number(&s, &major) < 0 || *s++ != '.' || number(&s, minor) < 0 ||
	    (*s == '.' && (s++, number(&s, &patch) < 0)) || *s) {
		snprintf(err, err_len, "--routeros-version: '%s' is not a RouterOS version "
			 "(expected 7.MINOR, e.g. 7.19, 7.20 or 7.21)", v);
		return -EINVAL;
	}
	if (major != 7 || *minor < 4) {
		snprintf(err, err_len, "--routeros-version: %s has no containers (the container "
			 "package came with RouterOS 7.4; the plan is written for 7.19, 7.20 and "
			 "7.21)", v);
		return -EINVAL;
	}
	return 0;
}

int sn_netplan_print(const struct sn_config *c, const char *platform,
		     const char *routeros_version, FILE *out)
{
	struct plan p = { .c = c, .f = out, .platform = platform ? platform : "linux" };
	char err[256];

	if (!sn_netplan_platform_ok(platform) ||
	    sn_netplan_routeros_version(routeros_version, &p.ros_minor, err, sizeof(err)) < 0)
		return -EINVAL;
	p.routes = sn_routes_wanted(c, &p.n_routes);
	if (!p.routes)
		return -ENOMEM;
	p.mss = c->mtu - 40;
	p.port = c->role == SN_ROLE_HUB ? (c->listen.port ? c->listen.port : SN_CONF_DEFAULT_PORT) : 0;
	p.forwards = c->role == SN_ROLE_HUB || c->n_lans > 0;
	header(&p);
	if (!strcmp(p.platform, "linux"))
		plan_linux(&p);
	else if (!strcmp(p.platform, "macos"))
		plan_macos(&p);
	else
		plan_routeros(&p);
	free(p.routes);
	return 0;
}

/* overlay.mtu unset: the plan's MTU (and MSS clamp) is the one the node
 * derives from its egress stack, so the stack is loaded as --check does. */
static void plan_mtu(const struct sn_daemon_opts *o, struct sn_config *c)
{
	char err[2048];
	unsigned mtu;

	if (c->has & SN_CONF_HAS_MTU)
		return;
	if (sn_daemon_mtu(o, &mtu, err, sizeof(err)) < 0) {
		fprintf(stderr, "subnetrad: warning: cannot load the plugins to work out the automatic "
			"MTU (%s): the plan assumes %u; set overlay.mtu to plan for another\n", err,
			c->mtu);
		return;
	}
	c->mtu = mtu;
}

int sn_daemon_plan(const struct sn_daemon_opts *o, FILE *out)
{
	struct sn_config *c;
	char err[2048];
	unsigned minor;
	int r;

	if (!sn_netplan_platform_ok(o->platform)) {
		fprintf(stderr, "subnetrad: unknown platform '%s' (expected linux, macos or routeros)\n",
			o->platform);
		return 2;
	}
	if (sn_netplan_routeros_version(o->routeros_version, &minor, err, sizeof(err)) < 0) {
		fprintf(stderr, "subnetrad: %s\n", err);
		return 2;
	}
	if (sn_config_load(o->config, &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "subnetrad: %s\n", err);
		return 1;
	}
	plan_mtu(o, c);
	r = sn_netplan_print(c, o->platform, o->routeros_version, out);
	if (r < 0)
		fprintf(stderr, "subnetrad: cannot print the network plan: %s\n", strerror(-r));
	sn_config_free(c);
	return r < 0 ? 1 : 0;
}
