/* SPDX-License-Identifier: MIT */
/*
 * tests/tools/loadgen/spoke.c: one spoke of sn-loadgen, as docs/protocol.md
 * describes a spoke: it challenges its hub every second until the hub's
 * response verifies it (section 7), moves past a used epoch when the hub
 * reports one, answers the hub's challenges (rate limited per 100 ms),
 * keeps alive (every second until it hears from the hub, then every
 * keepalive interval), checks every datagram of the hub in the receive
 * order of section 6 (epoch, window, tag), follows the hub's new epoch,
 * and sends pings and stream packets once the hub has verified it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "loadgen.h"
#include "wire.h"

#define SEC 1000000000ull
#define GAP_NS 100000000ull /* one response per 100 ms */
#define HEAD 64

uint64_t lg_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * SEC + (uint64_t)t.tv_nsec;
}

static void derive(struct lg *g, void *key, const struct lg_spoke *s, uint32_t from, uint32_t to,
		   uint32_t epoch)
{
	g->cr.ops->dir_key(g->cr.inst, key, s->pair, from, to, epoch);
}

/* ---- sending ----------------------------------------------------------- */

static void send_raw(struct lg *g, struct lg_spoke *s, const uint8_t *d, uint32_t len)
{
	if (sendto(s->fd, d, len, 0, (const struct sockaddr *)&g->hub, sizeof(g->hub)) == (ssize_t)len)
		g->st.tx++;
}

/* Seal plain (len bytes) as flags with seq and send it to the hub. */
static void seal_send(struct lg *g, struct lg_spoke *s, uint8_t flags, const uint8_t *plain,
		      uint32_t len, uint64_t seq)
{
	uint8_t buf[HEAD + LG_MAX_DGRAM];
	struct sn_pkt p = { .buf = buf, .cap = sizeof(buf), .off = HEAD, .len = len };
	struct sn_wire_hdr h = { SN_WIRE_VERSION, flags, s->id, s->epoch, seq };

	if (len)
		memcpy(buf + HEAD, plain, len);
	if (sn_seal_pkt(&g->cr, s->tx_key, &h, &p) < 0)
		return;
	if (!(flags & (SN_WIRE_F_CHALLENGE | SN_WIRE_F_RESPONSE)) && s->heard &&
	    s->n_rec < LG_RECORD && p.len <= sizeof(s->rec[0])) {
		memcpy(s->rec[s->n_rec], sn_pkt_data(&p), p.len);
		s->rec_len[s->n_rec++] = (uint16_t)p.len;
	}
	send_raw(g, s, sn_pkt_data(&p), p.len);
}

static uint64_t random_seq(void)
{
	uint64_t v;

	randombytes_buf(&v, sizeof(v));
	return v | SN_WIRE_SEQ_RANDOM;
}

static void send_seq(struct lg *g, struct lg_spoke *s, uint8_t flags, const uint8_t *plain,
		     uint32_t len)
{
	s->last_tx_ns = lg_now();
	seal_send(g, s, flags, plain, len, s->tx_seq++);
}

static void send_challenge(struct lg *g, struct lg_spoke *s, uint64_t now)
{
	s->last_chal_ns = now;
	g->st.challenges_tx++;
	seal_send(g, s, SN_WIRE_F_CHALLENGE, s->chal, sizeof(s->chal), random_seq());
}

static void set_epoch(struct lg *g, struct lg_spoke *s, uint32_t epoch)
{
	s->epoch = epoch;
	s->tx_seq = 0;
	derive(g, s->tx_key, s, s->id, g->hub_id, epoch);
}

int lg_spoke_setup(struct lg *g, struct lg_spoke *s, uint32_t i, const char *bind_ip,
		   uint16_t base_port)
{
	uint8_t priv[32], pub[32];
	int rcvbuf = 1 << 20;

	s->id = g->set.first_id + i;
	s->addr = lg_spoke_addr(&g->set, i);
	lg_spoke_key(&g->set, s->id, priv, pub);
	if (g->cr.ops->pair_key(g->cr.inst, s->pair, priv, pub, g->hub_pub, NULL) < 0)
		return -EINVAL;
	sodium_memzero(priv, sizeof(priv));
	set_epoch(g, s, g->epoch_min > (uint32_t)time(NULL) ? g->epoch_min : (uint32_t)time(NULL));
	randombytes_buf(s->chal, sizeof(s->chal));
	s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return -errno;
	/* room for a stream's packets while this process waits for the CPU
	 * (the kernel caps it at net.core.rmem_max; as root, FORCE lifts that) */
	if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	/* no SO_REUSEADDR: with it Linux may hand two sockets the same
	 * ephemeral port, and one spoke would get the other's datagrams */
	s->local.sin_family = AF_INET;
	s->local.sin_port = htons(base_port ? (uint16_t)(base_port + i) : 0);
	if (inet_pton(AF_INET, bind_ip, &s->local.sin_addr) != 1 ||
	    bind(s->fd, (struct sockaddr *)&s->local, sizeof(s->local)) < 0)
		return -errno;
	/* keepalives spread over the first second, not all at once */
	s->last_tx_ns = lg_now() - randombytes_uniform(1000) * 1000000ull;
	return 0;
}

/* ---- inner packets ---------------------------------------------------------- */

static uint16_t csum(const uint8_t *p, uint32_t n)
{
	uint32_t v = 0;

	for (uint32_t i = 0; i + 1 < n; i += 2)
		v += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		v += (uint32_t)p[n - 1] << 8;
	while (v >> 16)
		v = (v & 0xffff) + (v >> 16);
	return (uint16_t)~v;
}

/* An IPv4 header for proto, total length len, src -> dst, checksummed. */
static void ipv4(uint8_t *p, uint8_t proto, uint32_t len, uint32_t src, uint32_t dst)
{
	uint16_t c;

	memset(p, 0, 20);
	p[0] = 0x45;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[8] = 64;
	p[9] = proto;
	sn__store_be32(p + 12, src);
	sn__store_be32(p + 16, dst);
	c = csum(p, 20);
	p[10] = (uint8_t)(c >> 8);
	p[11] = (uint8_t)c;
}

static void send_ping(struct lg *g, struct lg_spoke *s, uint64_t now)
{
	uint8_t p[28];
	uint16_t c;

	ipv4(p, 1, sizeof(p), s->addr, g->ping_dst);
	memset(p + 20, 0, 8);
	p[20] = 8; /* echo request */
	p[24] = (uint8_t)(s->id >> 8);
	p[25] = (uint8_t)s->id;
	p[26] = (uint8_t)(s->ping_seq >> 8);
	p[27] = (uint8_t)s->ping_seq;
	c = csum(p + 20, 8);
	p[22] = (uint8_t)(c >> 8);
	p[23] = (uint8_t)c;
	s->ping_outstanding = s->ping_outstanding << 1 | 1;
	s->ping_seq++;
	s->last_ping_ns = now;
	g->st.pings_tx++;
	send_seq(g, s, 0, p, sizeof(p));
}

void lg_spoke_stream(struct lg *g, struct lg_spoke *s, uint64_t now)
{
	uint8_t p[44];

	if (!s->heard)
		return;
	ipv4(p, 17, sizeof(p), s->addr, g->stream_to);
	memset(p + 20, 0, 8);
	p[20] = p[22] = LG_STREAM_PORT >> 8;
	p[21] = p[23] = LG_STREAM_PORT & 255;
	p[25] = 24;
	sn__store_be64(p + 28, g->st.stream_tx++);
	sn__store_be64(p + 36, now);
	send_seq(g, s, 0, p, sizeof(p));
}

static void on_echo_reply(struct lg *g, struct lg_spoke *s, const uint8_t *icmp)
{
	uint16_t seq = (uint16_t)(icmp[6] << 8 | icmp[7]), k = (uint16_t)(s->ping_seq - 1 - seq);

	if (k >= 64 || (uint16_t)(icmp[4] << 8 | icmp[5]) != (uint16_t)s->id) {
		g->st.pings_bad++;
	} else if (s->ping_outstanding & (1ull << k)) {
		s->ping_outstanding &= ~(1ull << k);
		g->st.pings_ok++;
	} else {
		g->st.pings_dup++; /* answered twice: a replay was delivered */
	}
}

static void on_stream(struct lg *g, const uint8_t *udp, uint64_t now)
{
	static const uint64_t edges[5] = { 500000, 1000000, 2000000, 5000000, 10000000 };
	struct lg_stats *st = &g->st;
	uint64_t seq = sn__load_be64(udp + 8), gap = st->stream_last_ns ? now - st->stream_last_ns : 0;

	if (gap > st->stream_gap_max_ns)
		st->stream_gap_max_ns = gap;
	for (int i = 0; i < 5; i++)
		st->stream_gaps[i] += gap >= edges[i];
	st->stream_last_ns = now;
	if (seq > st->stream_next_seq)
		st->stream_lost += seq - st->stream_next_seq;
	if (seq >= st->stream_next_seq)
		st->stream_next_seq = seq + 1;
	st->stream_rx++;
}

/* A data datagram's plaintext: an echo reply for us, or a stream packet. */
static void on_inner(struct lg *g, struct lg_spoke *s, const uint8_t *p, uint32_t len)
{
	uint32_t ihl = (p[0] & 15u) * 4;

	if (len < 28 || p[0] >> 4 != 4 || ihl < 20 || ihl + 8 > len) {
		g->st.drop_other++;
		return;
	}
	if (p[9] == 1 && p[ihl] == 0)
		on_echo_reply(g, s, p + ihl);
	else if (p[9] == 17 && ihl + 24 <= len && sn__load_be16(p + ihl + 2) == LG_STREAM_PORT)
		on_stream(g, p + ihl, lg_now());
	else
		g->st.drop_other++;
}

/* ---- receiving ---------------------------------------------------------------- */

/* The key for the hub's epoch: the accepted one's, or a candidate. */
static void *key_for(struct lg *g, struct lg_spoke *s, uint32_t epoch)
{
	if (s->has_hub_epoch && epoch == s->hub_epoch)
		return s->rx_key;
	if (!s->cand_valid || s->cand_epoch != epoch) {
		derive(g, s->cand_key, s, g->hub_id, s->id, epoch);
		s->cand_valid = true;
		s->cand_epoch = epoch;
	}
	return s->cand_key;
}

static void note_epoch(struct lg *g, uint32_t epoch, uint64_t now)
{
	for (uint32_t i = 0; i < g->n_ep; i++)
		if (g->ep[i].epoch == epoch)
			return;
	if (g->n_ep == sizeof(g->ep) / sizeof(g->ep[0])) {
		memmove(g->ep, g->ep + 1, sizeof(g->ep) - sizeof(g->ep[0]));
		g->n_ep--;
	}
	g->ep[g->n_ep].epoch = epoch;
	g->ep[g->n_ep].first_ns = now;
	g->ep[g->n_ep].all_ns = 0;
	g->ep[g->n_ep++].heard = 0;
}

static void take_epoch(struct lg_spoke *s, uint32_t epoch, void *key)
{
	if (key == s->cand_key) {
		s->cand_key = s->rx_key;
		s->rx_key = key;
		s->cand_valid = false;
	}
	s->has_hub_epoch = true;
	s->hub_epoch = epoch;
}

/* The hub has verified us: we heard from it in its epoch. */
static void heard(struct lg *g, struct lg_spoke *s, uint64_t now)
{
	if (s->heard && s->heard_epoch == s->hub_epoch)
		return;
	s->heard = true;
	s->heard_epoch = s->hub_epoch;
	s->heard_ns = now;
	note_epoch(g, s->hub_epoch, now);
	for (uint32_t i = 0; i < g->n_ep; i++)
		if (g->ep[i].epoch == s->hub_epoch && ++g->ep[i].heard == g->n && !g->ep[i].all_ns)
			g->ep[i].all_ns = now;
}

static void on_challenge(struct lg *g, struct lg_spoke *s, const struct sn_wire_hdr *h,
			 const uint8_t *plain, uint64_t now)
{
	uint8_t r[SN_WIRE_RESPONSE_LEN];

	note_epoch(g, h->epoch, now);
	if (now - s->last_resp_ns < GAP_NS)
		return;
	s->last_resp_ns = now;
	s->answered_epoch = h->epoch;
	memcpy(r, plain, SN_WIRE_CHALLENGE_LEN);
	sn__store_be32(r + 16, s->has_hub_epoch ? s->hub_epoch : 0);
	sn__store_be64(r + 20, s->tx_seq);
	g->st.responses_tx++;
	seal_send(g, s, SN_WIRE_F_RESPONSE, r, sizeof(r), random_seq());
}

/* Our challenge answered: the hub is verified (section 7); move past our
 * epoch if the hub has accepted it before, then say so with a keepalive. */
static void on_response(struct lg *g, struct lg_spoke *s, const struct sn_wire_hdr *h,
			const uint8_t *plain, void *key, uint64_t now)
{
	uint32_t reported = sn__load_be32(plain + 16), now_s = (uint32_t)time(NULL);

	if (s->hub_verified || sodium_memcmp(plain, s->chal, SN_WIRE_CHALLENGE_LEN)) {
		g->st.drop_other++;
		return;
	}
	g->st.responses_rx++;
	s->hub_verified = true;
	take_epoch(s, h->epoch, key);
	sn_replay_floor(&s->win, sn__load_be64(plain + 20));
	note_epoch(g, h->epoch, now);
	if (reported > s->epoch || (reported == s->epoch && s->answered_epoch != h->epoch)) {
		g->st.epoch_moves++;
		set_epoch(g, s, reported + 1 > now_s ? reported + 1 : now_s);
	}
	send_seq(g, s, SN_WIRE_F_KEEPALIVE, NULL, 0);
}

static void on_sequenced(struct lg *g, struct lg_spoke *s, const struct sn_wire_hdr *h,
			 const uint8_t *plain, uint32_t len, void *key, uint64_t now)
{
	if (!s->has_hub_epoch || h->epoch != s->hub_epoch) {
		take_epoch(s, h->epoch, key);
		sn_replay_reset(&s->win);
	}
	sn_replay_update(&s->win, h->seq);
	heard(g, s, now);
	if (h->flags & SN_WIRE_F_KEEPALIVE)
		g->st.keepalives_rx++;
	else {
		g->st.data_rx++;
		on_inner(g, s, plain, len);
	}
}

void lg_spoke_rx(struct lg *g, struct lg_spoke *s, uint8_t *buf, uint32_t len,
		 const struct sockaddr_in *from)
{
	struct sn_pkt p = { .buf = buf, .cap = len, .off = 0, .len = len };
	struct sn_wire_hdr h;
	uint64_t now = lg_now();
	bool seq_kind;
	void *key;

	g->st.rx++;
	if (sn_wire_decode(buf, len, &h) || h.key_id != g->hub_id) {
		g->st.drop_other++;
		return;
	}
	seq_kind = !(h.flags & (SN_WIRE_F_CHALLENGE | SN_WIRE_F_RESPONSE));
	if (seq_kind && !s->hub_verified) {
		g->st.drop_unverified++;
		return;
	}
	if (seq_kind && s->has_hub_epoch && h.epoch < s->hub_epoch) {
		g->st.drop_stale++;
		return;
	}
	if (seq_kind && s->has_hub_epoch && h.epoch == s->hub_epoch && !sn_replay_check(&s->win, h.seq)) {
		g->st.drop_replay++;
		return;
	}
	key = key_for(g, s, h.epoch);
	if (sn_open_pkt(&g->cr, key, &h, &p) < 0) {
		g->st.drop_auth++;
		return;
	}
	if (h.flags & SN_WIRE_F_CHALLENGE)
		on_challenge(g, s, &h, sn_pkt_data(&p), now);
	else if (h.flags & SN_WIRE_F_RESPONSE)
		on_response(g, s, &h, sn_pkt_data(&p), key, now);
	else
		on_sequenced(g, s, &h, sn_pkt_data(&p), p.len, key, now);
	(void)from;
}

/* ---- timers ----------------------------------------------------------------- */

void lg_spoke_tick(struct lg *g, struct lg_spoke *s, uint64_t now)
{
	uint64_t every = s->heard ? g->keepalive_ns : SEC;

	if (!s->hub_verified) {
		if (now - s->last_chal_ns >= SEC)
			send_challenge(g, s, now);
		return;
	}
	if (g->keepalive_ns && now - s->last_tx_ns >= every)
		send_seq(g, s, SN_WIRE_F_KEEPALIVE, NULL, 0);
	if (s->heard && g->ping_every_ns && now - s->last_ping_ns >= g->ping_every_ns)
		send_ping(g, s, now);
}

void lg_spoke_replay(struct lg *g, struct lg_spoke *s)
{
	for (uint32_t i = 0; i < s->n_rec; i++) {
		send_raw(g, s, s->rec[i], s->rec_len[i]);
		g->st.replayed++;
	}
}
