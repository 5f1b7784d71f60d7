/* SPDX-License-Identifier: MIT */
/*
 * tests/test_os_linux.c: the os_linux plugin, loaded as the daemon loads it
 * (dlopen of the built .so). Everything that touches a device runs as root
 * in a private network namespace that main() enters first and that dies
 * with the process, so nothing leaks to the host; without root those tests
 * are skipped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netinet/udp.h>

#include "gso.h"
#include "host.h"
#include "internal.h"
#include "ipref.h"
#include "pool.h"
#include "subnetra/sdk.h"

#define PLUGIN_PATH SN_TEST_BINARY_DIR "/plugins/os_linux.so"
#define POOL_COUNT 64
#define MAX_INST 3
#define PEER 7
#define POLL_MS 1000
#define MAX_POLLS 10
#define IFNAME "sntest0"
#define TUN_ADDR 0x0a630001u /* 10.99.0.1 */
#define REMOTE 0x0a630002u   /* 10.99.0.2, routed into the TUN by the /24 */

static bool in_netns; /* root, and main() entered a private namespace */

struct fx {
	void *dl;
	const struct sn_plugin_desc *desc;
	const struct sn_os_ops *ops;
	struct sn_pool pool;
	struct sn_host host;
	uint64_t peer_ctr[SN_CTR_MAX];
	void *inst[MAX_INST];
	int n_inst;
	int ctl; /* AF_INET socket for interface ioctls */
	char err[256];
};

static uint64_t *peer_counters(void *ctx, uint32_t peer_id)
{
	struct fx *f = ctx;

	return peer_id == PEER ? f->peer_ctr : NULL;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	sn_plugin_entry_fn entry;

	assert_non_null(f);
	f->dl = dlopen(PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);
	if (!f->dl)
		fail_msg("dlopen %s: %s", PLUGIN_PATH, dlerror());
	entry = (sn_plugin_entry_fn)dlsym(f->dl, SN_PLUGIN_ENTRY_V1);
	assert_non_null(entry);
	f->desc = entry();
	assert_int_equal(f->desc->kind, SN_KIND_OS);
	assert_string_equal(f->desc->name, "linux");
	f->ops = f->desc->ops;
	assert_int_equal(sn_pool_init(&f->pool, POOL_COUNT, 64, 2048, 64, false), 0);
	sn_host_init(&f->host, NULL, &f->pool);
	f->host.peer_counters = peer_counters;
	f->host.ctx = f;
	f->host.log_level = SN_LOG_ERROR;
	f->ctl = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(f->ctl >= 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	for (int i = 0; i < f->n_inst; i++) {
		f->desc->destroy(f->inst[i]);
		free(f->inst[i]);
	}
	close(f->ctl);
	sn_pool_destroy(&f->pool);
	dlclose(f->dl);
	free(f);
	return 0;
}

static void need_netns(void)
{
	if (!in_netns)
		skip();
}

static void *create(struct fx *f, const struct sn_option *opts, uint32_t n, int *rc)
{
	size_t align = f->desc->instance_align ? f->desc->instance_align : 16;
	size_t size = (f->desc->instance_size + align - 1) / align * align;
	struct sn_create_args args = {
		.struct_size = sizeof(args),
		.host = &f->host,
		.api = sn_host_api_table(),
		.options = {.items = opts, .count = n},
		.err = f->err,
		.err_len = sizeof(f->err),
	};
	void *inst = aligned_alloc(align, size);

	assert_non_null(inst);
	memset(inst, 0, size);
	f->err[0] = '\0';
	*rc = f->desc->create(inst, &args);
	if (*rc) {
		free(inst);
		return NULL;
	}
	assert_true(f->n_inst < MAX_INST);
	f->inst[f->n_inst++] = inst;
	return inst;
}

static struct sn_tun_config config(struct fx *f, const char *name, uint32_t flags)
{
	struct sn_tun_config cfg = {
		.struct_size = sizeof(cfg),
		.flags = flags,
		.ifname = name,
		.mtu = 1400,
		.addr = TUN_ADDR,
		.prefix_len = 24,
		.err = f->err,
		.err_len = sizeof(f->err),
	};

	return cfg;
}

/* The device, with these options; *offload what tun_open reported. */
static void *open_tun_opts(struct fx *f, const struct sn_option *opts, uint32_t n,
			   uint32_t *offload)
{
	struct sn_tun_config cfg = config(f, IFNAME, 0);
	int rc;
	void *inst = create(f, opts, n, &rc);

	assert_int_equal(rc, 0);
	rc = f->ops->tun_open(inst, &cfg);
	if (rc)
		fail_msg("tun_open: %d %s", rc, f->err);
	if (offload)
		*offload = cfg.offload;
	return inst;
}

static void *open_tun(struct fx *f)
{
	return open_tun_opts(f, NULL, 0, NULL);
}

static int if_ioctl(struct fx *f, unsigned long req, struct ifreq *ifr, const char *name)
{
	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, IFNAMSIZ, "%s", name);
	return ioctl(f->ctl, req, ifr);
}

static uint32_t ifr_inet(const struct sockaddr *sa)
{
	struct sockaddr_in sin;

	memcpy(&sin, sa, sizeof(sin));
	assert_int_equal(sin.sin_family, AF_INET);
	return ntohl(sin.sin_addr.s_addr);
}

/* ---- device ---- */

static void test_linux_probe_passes(void **state)
{
	struct fx *f = *state;
	char why[128] = "";

	assert_non_null(f->desc->probe);
	assert_int_equal(f->desc->probe(why, sizeof(why)), 0);
}

static void test_linux_tun_open_configures_device(void **state)
{
	struct fx *f = *state;
	struct ifreq ifr;
	void *inst;
	int fd;

	need_netns();
	inst = open_tun(f);
	assert_string_equal(f->ops->tun_name(inst), IFNAME);
	fd = f->ops->tun_fd(inst);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(if_ioctl(f, SIOCGIFMTU, &ifr, IFNAME), 0);
	assert_int_equal(ifr.ifr_mtu, 1400);
	assert_int_equal(if_ioctl(f, SIOCGIFADDR, &ifr, IFNAME), 0);
	assert_int_equal(ifr_inet(&ifr.ifr_addr), TUN_ADDR);
	assert_int_equal(if_ioctl(f, SIOCGIFNETMASK, &ifr, IFNAME), 0);
	assert_int_equal(ifr_inet(&ifr.ifr_netmask), 0xffffff00u);
	assert_int_equal(if_ioctl(f, SIOCGIFFLAGS, &ifr, IFNAME), 0);
	assert_true(ifr.ifr_flags & IFF_UP);
	assert_int_equal(if_ioctl(f, SIOCGIFTXQLEN, &ifr, IFNAME), 0);
	assert_int_equal(ifr.ifr_qlen, 1000); /* with offloads, where txq.c starts */
}

static void test_linux_tun_destroy_removes_device(void **state)
{
	struct fx *f = *state;
	struct ifreq ifr;

	need_netns();
	open_tun(f);
	f->desc->destroy(f->inst[0]);
	free(f->inst[0]);
	f->n_inst = 0;
	assert_int_equal(if_ioctl(f, SIOCGIFINDEX, &ifr, IFNAME), -1);
	assert_int_equal(errno, ENODEV);
}

static void test_linux_tun_open_name_too_long_fails(void **state)
{
	struct fx *f = *state;
	struct sn_tun_config cfg = config(f, "sntest-name-too-long", 0);
	int rc;
	void *inst = create(f, NULL, 0, &rc);

	assert_int_equal(rc, 0);
	assert_int_equal(f->ops->tun_open(inst, &cfg), -EINVAL);
	assert_non_null(strstr(f->err, "interface name 'sntest-name-too-long' is too long"));
	assert_true(f->ops->tun_fd(inst) < 0);
}

static void test_linux_tun_open_bad_mtu_fails(void **state)
{
	struct fx *f = *state;
	struct sn_tun_config cfg = config(f, IFNAME, 0);
	int rc;
	void *inst = create(f, NULL, 0, &rc);

	assert_int_equal(rc, 0);
	cfg.mtu = 40;
	assert_int_equal(f->ops->tun_open(inst, &cfg), -EINVAL);
	assert_non_null(strstr(f->err, "MTU 40 is out of range"));
}

static void test_linux_tun_open_busy_name_fails(void **state)
{
	struct fx *f = *state;
	struct sn_tun_config cfg = config(f, IFNAME, 0);
	int rc;
	void *inst;

	need_netns();
	open_tun(f);
	inst = create(f, NULL, 0, &rc);
	assert_int_equal(f->ops->tun_open(inst, &cfg), -EBUSY);
	assert_non_null(strstr(f->err, "TUNSETIFF " IFNAME ": "));
}

static void test_linux_tun_open_no_addr_leaves_address(void **state)
{
	struct fx *f = *state;
	struct sn_tun_config cfg = config(f, "", SN_TUN_F_NO_ADDR);
	struct ifreq ifr;
	int rc;
	void *inst = create(f, NULL, 0, &rc);
	const char *name;

	need_netns();
	assert_int_equal(f->ops->tun_open(inst, &cfg), 0);
	name = f->ops->tun_name(inst);
	assert_true(name[0] != '\0'); /* the kernel chose it */
	assert_int_equal(if_ioctl(f, SIOCGIFADDR, &ifr, name), -1);
	assert_int_equal(errno, EADDRNOTAVAIL);
	assert_int_equal(if_ioctl(f, SIOCGIFFLAGS, &ifr, name), 0);
	assert_true(ifr.ifr_flags & IFF_UP);
}

static void test_linux_option_txqueuelen(void **state)
{
	struct fx *f = *state;
	const struct sn_option good = {"txqueuelen", "250"}, bad = {"txqlen", "1"};
	struct sn_tun_config cfg = config(f, IFNAME, 0);
	struct ifreq ifr;
	int rc;
	void *inst;

	assert_null(create(f, &bad, 1, &rc));
	assert_int_equal(rc, -EINVAL);
	assert_string_equal(f->err, "linux: unknown option 'txqlen' (known: txqueuelen, offload)");
	inst = create(f, &good, 1, &rc);
	assert_int_equal(rc, 0);
	need_netns();
	assert_int_equal(f->ops->tun_open(inst, &cfg), 0);
	assert_int_equal(if_ioctl(f, SIOCGIFTXQLEN, &ifr, IFNAME), 0);
	assert_int_equal(ifr.ifr_qlen, 250);
}

/* ---- routes ---- */

/* Where the kernel would send to dst: 0 and our source address, or -errno. */
static int route_src(uint32_t dst, uint32_t *src)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(9)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(dst);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		rc = -errno;
	else if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		*src = ntohl(sa.sin_addr.s_addr);
	close(fd);
	return rc;
}

static void test_linux_route_add_del(void **state)
{
	struct fx *f = *state;
	const struct sn_prefix p = {.addr = 0x0a620000u, .len = 16}; /* 10.98.0.0/16 */
	uint32_t src = 0;
	void *inst;

	need_netns();
	inst = open_tun(f);
	assert_int_equal(route_src(0x0a620101u, &src), -ENETUNREACH);
	assert_int_equal(f->ops->route_add(inst, &p), 0);
	assert_int_equal(route_src(0x0a620101u, &src), 0);
	assert_int_equal(src, TUN_ADDR);
	assert_int_equal(f->ops->route_add(inst, &p), -EEXIST);
	assert_int_equal(f->ops->route_del(inst, &p), 0);
	assert_int_equal(route_src(0x0a620101u, &src), -ENETUNREACH);
	assert_int_equal(f->ops->route_del(inst, &p), -ESRCH);
}

static void test_linux_route_host_and_default(void **state)
{
	struct fx *f = *state;
	const struct sn_prefix host = {.addr = 0x0a610005u, .len = 32}, any = {0, 0, {0}};
	uint32_t src = 0;
	void *inst;

	need_netns();
	inst = open_tun(f);
	assert_int_equal(f->ops->route_add(inst, &host), 0);
	assert_int_equal(route_src(0x0a610005u, &src), 0);
	assert_int_equal(route_src(0x0a610006u, &src), -ENETUNREACH);
	assert_int_equal(f->ops->route_add(inst, &any), 0);
	assert_int_equal(route_src(0x08080808u, &src), 0);
	assert_int_equal(f->ops->route_del(inst, &any), 0);
	assert_int_equal(f->ops->route_del(inst, &host), 0);
}

static void test_linux_route_rejects_bad_prefix(void **state)
{
	struct fx *f = *state;
	const struct sn_prefix bits = {.addr = 0x0a620001u, .len = 16}, len = {.addr = 0, .len = 33};
	void *inst;
	int rc;

	inst = create(f, NULL, 0, &rc);
	assert_int_equal(f->ops->route_add(inst, &bits), -ENODEV); /* not open yet */
	need_netns();
	inst = open_tun(f);
	assert_int_equal(f->ops->route_add(inst, &bits), -EINVAL);
	assert_int_equal(f->ops->route_add(inst, &len), -EINVAL);
}

/* ---- packets ---- */

static int udp_socket(uint32_t bind_addr, uint16_t *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(bind_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static void send_udp(int fd, uint32_t dst, uint16_t port, size_t len)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	char buf[512];

	assert_true(len <= sizeof(buf));
	memset(buf, 'x', len);
	sa.sin_addr.s_addr = htonl(dst);
	assert_int_equal(sendto(fd, buf, len, 0, (struct sockaddr *)&sa, sizeof(sa)), (ssize_t)len);
}

static bool wait_readable(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	return poll(&pfd, 1, POLL_MS) == 1;
}

static uint32_t be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Read from the TUN with packets lent from pool until one is an IPv4 UDP
 * packet to dst:port (bounded); returns its length or 0. */
static uint32_t read_udp_to(struct fx *f, void *inst, struct sn_pool *pool, uint32_t dst,
			    uint16_t port)
{
	struct sn_pkt *p[4];
	uint32_t found = 0;
	int k;

	for (int tries = 0; !found && tries < MAX_POLLS; tries++) {
		if (!wait_readable(f->ops->tun_fd(inst)))
			continue;
		for (int i = 0; i < 4; i++)
			assert_non_null(p[i] = sn_pool_get(pool));
		k = f->ops->tun_read_batch(inst, p, 4);
		assert_true(k >= 0 && k <= 4);
		for (int i = 0; i < k && !found; i++) {
			const uint8_t *d = sn_pkt_data(p[i]);

			if (p[i]->len >= 28 && d[0] == 0x45 && d[9] == IPPROTO_UDP &&
			    be32(d + 16) == dst && (d[22] << 8 | d[23]) == port)
				found = p[i]->len;
		}
		for (int i = 0; i < 4; i++)
			sn_pool_put(pool, p[i]);
	}
	return found;
}

static void test_linux_tun_read_gets_routed_datagram(void **state)
{
	struct fx *f = *state;
	struct sn_pkt *p;
	uint16_t port;
	void *inst;
	int fd;

	need_netns();
	inst = open_tun(f);
	p = sn_pool_get(&f->pool);
	assert_int_equal(f->ops->tun_read_batch(inst, &p, 1), 0); /* nothing yet */
	sn_pool_put(&f->pool, p);
	fd = udp_socket(0, &port);
	send_udp(fd, REMOTE, 7777, 5);
	assert_int_equal(read_udp_to(f, inst, &f->pool, REMOTE, 7777), 20 + 8 + 5);
	assert_int_equal(f->pool.n_free, POOL_COUNT);
	close(fd);
}

/* A packet longer than the lent room is counted too_big, never handed up,
 * and the read goes on with the next one. */
static void test_linux_tun_read_too_big_dropped(void **state)
{
	struct fx *f = *state;
	struct sn_pool small;
	uint16_t port;
	void *inst;
	int fd;

	need_netns();
	inst = open_tun(f);
	assert_int_equal(sn_pool_init(&small, 8, 0, 64, 0, false), 0);
	fd = udp_socket(0, &port);
	send_udp(fd, REMOTE, 7000, 200);
	send_udp(fd, REMOTE, 7001, 10);
	assert_int_equal(read_udp_to(f, inst, &small, REMOTE, 7001), 38);
	send_udp(fd, REMOTE, 7002, 37);
	send_udp(fd, REMOTE, 7003, 36); /* exactly the 64 bytes of room */
	assert_int_equal(read_udp_to(f, inst, &small, REMOTE, 7003), 64);
	assert_int_equal(f->host.counters[SN_CTR_DROP_TOO_BIG], 2);
	assert_int_equal(small.n_free, 8);
	sn_pool_destroy(&small);
	close(fd);
}

static uint16_t ip_checksum(const uint8_t *h, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < len; i += 2)
		sum += (uint32_t)h[i] << 8 | h[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static void put32(uint8_t *b, uint32_t v)
{
	put16(b, (uint16_t)(v >> 16));
	put16(b + 2, (uint16_t)v);
}

/* An IPv4/UDP packet src:sport -> dst:dport carrying payload (UDP
 * checksum 0: none). */
static struct sn_pkt *udp_packet(struct sn_pool *pool, uint32_t src, uint16_t sport,
				 uint32_t dst, uint16_t dport, const char *payload)
{
	struct sn_pkt *p = sn_pool_get(pool);
	size_t n = strlen(payload);
	uint8_t *d;

	assert_non_null(p);
	d = sn_pkt_data(p);
	memset(d, 0, 28);
	d[0] = 0x45;
	put16(d + 2, (uint16_t)(28 + n));
	d[8] = 64;
	d[9] = IPPROTO_UDP;
	put32(d + 12, src);
	put32(d + 16, dst);
	put16(d + 10, ip_checksum(d, 20));
	put16(d + 20, sport);
	put16(d + 22, dport);
	put16(d + 24, (uint16_t)(8 + n));
	memcpy(d + 28, payload, n);
	p->len = (uint32_t)(28 + n);
	return p;
}

static void test_linux_tun_write_delivers_to_socket(void **state)
{
	struct fx *f = *state;
	struct sockaddr_in from;
	socklen_t len = sizeof(from);
	struct sn_pkt *p;
	char buf[64];
	uint16_t port;
	void *inst;
	int fd;

	need_netns();
	inst = open_tun(f);
	fd = udp_socket(TUN_ADDR, &port);
	p = udp_packet(&f->pool, REMOTE, 9999, TUN_ADDR, port, "ping");
	assert_int_equal(f->ops->tun_write_batch(inst, &p, 1), 1);
	assert_int_equal(f->pool.n_free, POOL_COUNT);
	assert_true(wait_readable(fd));
	assert_int_equal(recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &len),
			 4);
	assert_memory_equal(buf, "ping", 4);
	assert_int_equal(ntohl(from.sin_addr.s_addr), REMOTE);
	assert_int_equal(ntohs(from.sin_port), 9999);
	assert_int_equal(f->host.counters[SN_CTR_DROP_TUN_ERROR], 0);
	close(fd);
}

/* The driver refuses a packet that is neither IPv4 nor IPv6 (EINVAL): it
 * is taken, counted for its peer, released, and the next one still goes. */
static void test_linux_tun_write_error_counted(void **state)
{
	struct fx *f = *state;
	struct sn_pkt *p[2];
	char buf[64];
	uint16_t port;
	void *inst;
	int fd;

	need_netns();
	inst = open_tun(f);
	fd = udp_socket(TUN_ADDR, &port);
	p[0] = udp_packet(&f->pool, REMOTE, 9999, TUN_ADDR, port, "bad");
	sn_pkt_data(p[0])[0] = 0x05; /* version 0 */
	p[0]->peer_id = PEER;
	p[1] = udp_packet(&f->pool, REMOTE, 9999, TUN_ADDR, port, "good");
	assert_int_equal(f->ops->tun_write_batch(inst, p, 2), 2);
	assert_int_equal(f->pool.n_free, POOL_COUNT);
	assert_int_equal(f->host.counters[SN_CTR_DROP_TUN_ERROR], 1);
	assert_int_equal(f->peer_ctr[SN_CTR_DROP_TUN_ERROR], 1);
	assert_true(wait_readable(fd));
	assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), 4);
	assert_memory_equal(buf, "good", 4);
	close(fd);
}

/* ---- offloads ---- */

/* The queue's length follows the byte-weighted size of what is read
 * (plugins/os_linux/txq.c): TXQ_BUDGET bytes of it, within its bounds,
 * changed only when off by half. */
static void test_linux_txq_length_follows_traffic(void **state)
{
	static const struct {
		uint32_t small, n_small, big, n_big, cur, want;
	} cases[] = {
		{ 92, 100, 0, 0, 1000, 1000 },          /* too few bytes to judge */
		{ 0, 0, 65536, 100, 1000, TXQ_MIN },     /* TSO super-packets */
		{ 92, 100000, 0, 0, TXQ_MIN, TXQ_MAX },  /* a small-packet flood */
		{ 1400, 1000, 0, 0, 1000, 1000 },        /* 748 is not off by half */
		{ 1400, 1000, 0, 0, TXQ_MIN, 748 },
		{ 92, 9000, 65536, 1000, 1000, TXQ_MIN }, /* the bytes are in the big ones */
		{ 0, 0, 16384, 100, 1000, 64 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t b = (uint64_t)cases[i].small * cases[i].n_small +
			     (uint64_t)cases[i].big * cases[i].n_big;
		uint64_t sq = (uint64_t)cases[i].small * cases[i].small * cases[i].n_small +
			      (uint64_t)cases[i].big * cases[i].big * cases[i].n_big;

		assert_int_equal(sn__lx_txq_want(b, sq, cases[i].cur), cases[i].want);
	}
}

/* On by default where the kernel has them (this one: 6.2 or later), with
 * the shorter queue; offload: false gives a plain device. */
static void test_linux_offload_option(void **state)
{
	struct fx *f = *state;
	const struct sn_option off = {"offload", "false"}, bad = {"offload", "maybe"};
	struct ifreq ifr;
	uint32_t got;
	int rc;

	assert_null(create(f, &bad, 1, &rc));
	assert_string_equal(f->err, "linux: option offload: 'maybe' is not true or false");
	assert_true(f->ops->flags & SN_OS_F_GSO);
	need_netns();
	open_tun_opts(f, NULL, 0, &got);
	assert_int_equal(got, SN_TUN_OFFLOAD_RX | SN_TUN_OFFLOAD_TX);
	assert_int_equal(if_ioctl(f, SIOCGIFTXQLEN, &ifr, IFNAME), 0);
	assert_int_equal(ifr.ifr_qlen, TXQ_MAX);
	f->desc->destroy(f->inst[--f->n_inst]);
	free(f->inst[f->n_inst]);
	open_tun_opts(f, &off, 1, &got);
	assert_int_equal(got, 0);
	assert_int_equal(if_ioctl(f, SIOCGIFTXQLEN, &ifr, IFNAME), 0);
	assert_int_equal(ifr.ifr_qlen, 1000);
}

/* Read with n normal packets and one big one until a UDP packet to port
 * comes; returns it (the caller releases every entry) or NULL. */
static struct sn_pkt *read_one_to(struct fx *f, void *inst, struct sn_pkt **p, uint16_t port)
{
	for (int tries = 0; tries < MAX_POLLS; tries++) {
		int k;

		if (!wait_readable(f->ops->tun_fd(inst)))
			continue;
		for (int i = 0; i < 4; i++)
			assert_non_null(p[i] = sn_pool_get(&f->pool));
		assert_non_null(p[4] = sn_pool_get_big(&f->pool));
		k = f->ops->tun_read_batch(inst, p, 5);
		assert_true(k >= 0 && k <= 5);
		for (int i = 0; i < k; i++) {
			const uint8_t *d = sn_pkt_data(p[i]);

			if (p[i]->len >= 28 && d[9] == IPPROTO_UDP && (d[22] << 8 | d[23]) == port) {
				if (i) { /* in front for the caller */
					struct sn_pkt *t = p[0];

					p[0] = p[i], p[i] = t;
				}
				return p[0];
			}
		}
		for (int i = 0; i < 5; i++)
			sn_pool_put(&f->pool, p[i]);
	}
	return NULL;
}

/* A datagram sent through the device comes with its checksum left to us
 * (SN_PKT_F_CSUM), which the host's completion makes right. */
static void test_linux_offload_read_partial_checksum(void **state)
{
	struct fx *f = *state;
	struct sn_pkt *p[5], *q;
	uint16_t port;
	uint32_t got;
	void *inst;
	int fd;

	need_netns();
	inst = open_tun_opts(f, NULL, 0, &got);
	assert_int_equal(sn_pool_add_big(&f->pool, 2, false), 0);
	fd = udp_socket(0, &port);
	send_udp(fd, REMOTE, 7100, 100);
	assert_non_null(q = read_one_to(f, inst, p, 7100));
	assert_int_equal(q->len, 128);
	assert_true(q->flags & SN_PKT_F_CSUM);
	assert_false(q->flags & SN_PKT_F_GSO);
	assert_true(sn_pkt_room(q) < SN_PKT_BIG_ROOM); /* no copy for a small one */
	assert_int_equal(q->csum_start, 20);
	assert_int_equal(q->csum_offset, 6);
	assert_int_equal(sn_gso_csum(sn_pkt_data(q), q->len, q->csum_start, q->csum_offset), 0);
	assert_true(ipref_valid(sn_pkt_data(q), q->len));
	for (int i = 0; i < 5; i++)
		sn_pool_put(&f->pool, p[i]);
	assert_int_equal(f->pool.n_free, POOL_COUNT);
	assert_int_equal(f->pool.n_big_free, 2);
	close(fd);
}

/* A UDP GSO send (UDP_SEGMENT) larger than a normal packet's room reaches
 * us as one super-packet in the big packet, moved to the front of the
 * batch; cut, it is the datagrams. */
static void test_linux_offload_read_uso_super_packet(void **state)
{
	struct fx *f = *state;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(7200)};
	static char buf[9800];
	struct sn_pkt *p[5], *q;
	struct sn_gso g;
	uint16_t port;
	uint32_t got;
	void *inst;
	int fd, seg = 1000;

	need_netns();
	inst = open_tun_opts(f, NULL, 0, &got);
	assert_int_equal(sn_pool_add_big(&f->pool, 2, false), 0);
	fd = udp_socket(0, &port);
	if (setsockopt(fd, SOL_UDP, UDP_SEGMENT, &seg, sizeof(seg)) != 0)
		skip();
	memset(buf, 'u', sizeof(buf));
	sa.sin_addr.s_addr = htonl(REMOTE);
	assert_int_equal(sendto(fd, buf, sizeof(buf), 0, (struct sockaddr *)&sa, sizeof(sa)),
			 (ssize_t)sizeof(buf));
	assert_non_null(q = read_one_to(f, inst, p, 7200));
	if (!(q->flags & SN_PKT_F_GSO))
		skip(); /* a kernel without USO: cut by the kernel itself */
	assert_true(sn_pkt_room(q) >= SN_PKT_BIG_ROOM);
	assert_int_equal(q->len, 28 + sizeof(buf));
	assert_int_equal(q->gso_size, 1000);
	assert_true(q->flags & SN_PKT_F_CSUM);
	assert_int_equal(sn_gso_init(&g, sn_pkt_data(q), q->len, q->gso_size), 0);
	assert_int_equal(g.segs, 10);
	for (uint32_t i = 0; i < g.segs; i++) {
		uint8_t out[1100];
		uint32_t n = sn_gso_seg_len(&g, i);

		sn_gso_seg(&g, i, out);
		assert_true(ipref_valid(out, n));
		assert_int_equal(n, i < 9 ? 1028 : 828);
	}
	for (int i = 0; i < 5; i++)
		sn_pool_put(&f->pool, p[i]);
	assert_int_equal(f->pool.n_free, POOL_COUNT);
	assert_int_equal(f->pool.n_big_free, 2);
	close(fd);
}

/* A run written is one super-packet to the kernel, which hands the local
 * socket its datagrams. */
static void test_linux_offload_write_run(void **state)
{
	struct fx *f = *state;
	struct sn_pkt *p[3];
	char buf[600];
	uint16_t port;
	uint32_t got, ps;
	uint8_t *d;
	void *inst;
	int fd;

	need_netns();
	inst = open_tun_opts(f, NULL, 0, &got);
	if (!(got & SN_TUN_OFFLOAD_TX))
		skip();
	fd = udp_socket(TUN_ADDR, &port);
	p[0] = udp_packet(&f->pool, REMOTE, 9999, TUN_ADDR, port, "");
	d = sn_pkt_data(p[0]);
	d[2] = (28 + 3 * 400) >> 8, d[3] = (28 + 3 * 400) & 0xff, d[10] = d[11] = 0;
	put16(d + 10, ip_checksum(d, 20));
	put16(d + 24, 8 + 3 * 400);
	ps = ipref_pseudo(d, 8 + 3 * 400);
	while (ps >> 16)
		ps = (ps & 0xffff) + (ps >> 16);
	put16(d + 26, (uint16_t)ps); /* partial: the pseudo-header only */
	memset(d + 28, 'a', 400);
	p[0]->len = 428;
	p[0]->flags = SN_PKT_F_RUN | SN_PKT_F_CSUM;
	p[0]->csum_start = 20, p[0]->csum_offset = 6, p[0]->gso_size = 400, p[0]->gso_segs = 3;
	for (int i = 1; i < 3; i++) {
		assert_non_null(p[i] = sn_pool_get(&f->pool));
		memset(sn_pkt_data(p[i]), 'a' + i, 400);
		p[i]->len = 400;
	}
	assert_int_equal(f->ops->tun_write_batch(inst, p, 3), 3);
	assert_int_equal(f->pool.n_free, POOL_COUNT);
	for (int i = 0; i < 3; i++) {
		assert_true(wait_readable(fd));
		assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), 400);
		assert_int_equal(buf[0], 'a' + i);
		assert_int_equal(buf[399], 'a' + i);
	}
	assert_int_equal(f->host.counters[SN_CTR_DROP_TUN_ERROR], 0);
	close(fd);
}

static void test_linux_before_open_is_error(void **state)
{
	struct fx *f = *state;
	struct sn_pkt *p = sn_pool_get(&f->pool);
	int rc;
	void *inst = create(f, NULL, 0, &rc);

	assert_int_equal(rc, 0);
	assert_true(f->ops->tun_fd(inst) < 0);
	assert_string_equal(f->ops->tun_name(inst), "");
	assert_true(f->ops->tun_read_batch(inst, &p, 1) < 0);
	assert_true(f->ops->tun_write_batch(inst, &p, 1) < 0);
	sn_pool_put(&f->pool, p);
}

/* ---- privileges ---- */

/* What a child saw after drop_privileges: the call, a route change, and
 * its own /proc/self/status. */
struct drop_seen {
	int rc, route_rc, nnp;
	char err[256];
	unsigned long long eff, prm, bnd, amb;
	unsigned uid[4];
};

static unsigned long long status_hex(const char *text, const char *key)
{
	const char *p = strstr(text, key);

	return p ? strtoull(p + strlen(key), NULL, 16) : ~0ull;
}

static void read_status(struct drop_seen *d)
{
	char text[8192] = "";
	const char *u;
	int fd = open("/proc/self/status", O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof(text) - 1);

	if (fd >= 0)
		close(fd);
	text[n > 0 ? n : 0] = '\0';
	d->eff = status_hex(text, "CapEff:");
	d->prm = status_hex(text, "CapPrm:");
	d->bnd = status_hex(text, "CapBnd:");
	d->amb = status_hex(text, "CapAmb:");
	d->nnp = (int)status_hex(text, "NoNewPrivs:");
	u = strstr(text, "Uid:");
	if (u)
		sscanf(u + 4, "%u %u %u %u", &d->uid[0], &d->uid[1], &d->uid[2], &d->uid[3]);
}

/* Drop in a child (the test process stays root); no cmocka in the child. */
static struct drop_seen drop_in_child(struct fx *f, void *inst, const char *user, uint32_t flags)
{
	const struct sn_prefix p = {.addr = 0x0a620000u, .len = 16}; /* 10.98.0.0/16 */
	struct drop_seen d;
	int fds[2], st = 0;
	pid_t pid;

	memset(&d, 0, sizeof(d));
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sn_priv_args a = {.struct_size = sizeof(a), .flags = flags, .user = user,
					 .err = d.err, .err_len = sizeof(d.err)};

		d.rc = f->ops->drop_privileges(inst, &a);
		d.route_rc = f->ops->route_add(inst, &p);
		read_status(&d);
		_exit(write(fds[1], &d, sizeof(d)) == (ssize_t)sizeof(d) ? 0 : 1);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], &d, sizeof(d)), (ssize_t)sizeof(d));
	close(fds[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return d;
}

static void test_linux_drop_privileges(void **state)
{
	static const struct {
		const char *user;
		uint32_t flags;
		int rc, route_rc;
		unsigned long long caps; /* effective = permitted after a drop */
		const char *err;
	} cases[] = {
		{ "nobody", SN_PRIV_KEEP_NET_ADMIN, 0, 0, 1ull << 12, "" },
		{ "nobody", 0, 0, -EPERM, 0, "" },
		{ "root", SN_PRIV_KEEP_NET_ADMIN, -EINVAL, 0, 0,
		  "node.user: 'root' is uid 0, so the daemon would keep every privilege (name an unprivileged user, or remove node.user)" },
		{ "sn-no-such-user", 0, -ENOENT, 0, 0, "node.user: no such user 'sn-no-such-user'" },
	};
	struct fx *f = *state;
	struct passwd *pw = getpwnam("nobody");
	unsigned nobody;
	void *inst;

	need_netns();
	if (!pw)
		skip();
	nobody = (unsigned)pw->pw_uid;
	inst = open_tun(f);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct drop_seen d = drop_in_child(f, inst, cases[i].user, cases[i].flags);

		assert_int_equal(d.rc, cases[i].rc);
		assert_string_equal(d.err, cases[i].err);
		if (d.rc < 0) {
			assert_int_equal(d.uid[0], 0); /* refused before anything changed */
			assert_int_not_equal(d.bnd, 0);
			continue;
		}
		assert_int_equal(d.route_rc, cases[i].route_rc);
		for (int k = 0; k < 4; k++)
			assert_int_equal(d.uid[k], nobody);
		assert_int_equal(d.eff, cases[i].caps);
		assert_int_equal(d.prm, cases[i].caps);
		assert_int_equal(d.bnd, 0);
		assert_int_equal(d.amb, 0);
		assert_int_equal(d.nnp, 1);
	}
}

/* ---- main ---- */

static int lo_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = -1;

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return rc;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_linux_probe_passes),
		T(test_linux_before_open_is_error),
		T(test_linux_tun_open_name_too_long_fails),
		T(test_linux_tun_open_bad_mtu_fails),
		T(test_linux_tun_open_configures_device),
		T(test_linux_tun_destroy_removes_device),
		T(test_linux_tun_open_busy_name_fails),
		T(test_linux_tun_open_no_addr_leaves_address),
		T(test_linux_option_txqueuelen),
		T(test_linux_route_add_del),
		T(test_linux_route_host_and_default),
		T(test_linux_route_rejects_bad_prefix),
		T(test_linux_tun_read_gets_routed_datagram),
		T(test_linux_tun_read_too_big_dropped),
		T(test_linux_tun_write_delivers_to_socket),
		T(test_linux_tun_write_error_counted),
		T(test_linux_offload_option),
		cmocka_unit_test(test_linux_txq_length_follows_traffic),
		T(test_linux_offload_read_partial_checksum),
		T(test_linux_offload_read_uso_super_packet),
		T(test_linux_offload_write_run),
		T(test_linux_drop_privileges),
	};

	if (geteuid() == 0) {
		in_netns = unshare(CLONE_NEWNET) == 0 && lo_up() == 0;
		if (!in_netns)
			fprintf(stderr, "test_os_linux: no private network namespace: %s\n",
				strerror(errno));
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
