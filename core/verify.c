/* SPDX-License-Identifier: MIT */
/*
 * core/verify.c: the challenge and response of docs/protocol.md,
 * "Verifying a peer", and the epoch move it may call for.
 *
 * Nothing here allocates: a challenge takes one pool packet, a response
 * reuses the challenge's own packet. Random seqs (top bit set) and
 * challenge bytes come from libsodium's randombytes; both are rare, rate
 * limited per (peer, address), and never more than one per received
 * datagram.
 */
#include "verify.h"

#include <sodium.h>
#include <string.h>

#include "node.h"

/* ---- rate limit ------------------------------------------------------------ */

static uint32_t rl_hash(uint32_t peer_id, uint8_t kind, const struct sn_addr *to)
{
	uint32_t h = peer_id * 2654435761u ^ kind * 40503u ^ to->port * 2246822519u;

	for (int i = 0; i < 4; i++)
		h = (h ^ to->ip[i]) * 16777619u;
	return (h ^ h >> 15) % SN_VERIFY_RL_SLOTS;
}

static bool rl_match(const struct sn_verify_rl *rl, uint32_t i, uint32_t peer_id, uint8_t kind,
		     const struct sn_addr *to)
{
	return rl->slot[i].peer_id == peer_id && rl->slot[i].kind == kind &&
	       !memcmp(&rl->slot[i].to, to, sizeof(*to));
}

/* Would a datagram of kind to (peer, to) be allowed now? Changes nothing:
 * a forged datagram must not use up the real peer's allowance. */
static bool rl_allows(const struct sn_verify_rl *rl, uint32_t peer_id, uint8_t kind,
		      const struct sn_addr *to, uint64_t now)
{
	uint32_t i = rl_hash(peer_id, kind, to);

	return !rl_match(rl, i, peer_id, kind, to) || now - rl->slot[i].last_ns >= SN_VERIFY_GAP_NS;
}

static void rl_take(struct sn_verify_rl *rl, uint32_t peer_id, uint8_t kind,
		    const struct sn_addr *to, uint64_t now)
{
	uint32_t i = rl_hash(peer_id, kind, to);

	rl->slot[i].peer_id = peer_id;
	rl->slot[i].kind = kind;
	rl->slot[i].to = *to;
	rl->slot[i].last_ns = now;
}

/* ---- sending ------------------------------------------------------------------ */

/* Seal p's plaintext as a challenge or response to peer at to, from our
 * local address from (NONE: the OS picks): our epoch, a random seq with
 * the top bit set, no sequenced seq taken. */
static void seal_random(struct sn_node *n, struct sn_peer *peer, struct sn_pkt *p, uint8_t kind,
			const struct sn_addr *to, const struct sn_addr *from, uint32_t counter)
{
	struct sn_addr src = *from; /* from may be p's own */

	struct sn_wire_hdr h = {
		.version = SN_WIRE_VERSION,
		.flags = kind,
		.key_id = n->cfg->node_id,
		.epoch = peer->s.tx_epoch,
	};

	randombytes_buf(&h.seq, sizeof(h.seq));
	h.seq |= SN_WIRE_SEQ_RANDOM;
	if (sn_seal_pkt(&n->cr, peer->tx_key, &h, p) < 0)
		return sn__dp_drop(n, p, SN_CTR_DROP_TX_ERROR, peer);
	p->addr = *to;
	p->local = src;
	p->peer_id = peer->id;
	sn__dp_count(n, peer, counter, 1);
	sn__dp_stage_udp(n, p);
}

void sn_verify_challenge(struct sn_node *n, struct sn_peer *peer, const struct sn_addr *to,
			 const struct sn_addr *from, uint64_t now)
{
	struct sn_pkt *p;

	if (!rl_allows(&n->verify_rl, peer->id, SN_WIRE_F_CHALLENGE, to, now))
		return;
	p = sn_pool_get(&n->pool);
	if (!p) {
		sn__dp_count(n, peer, SN_CTR_DROP_NO_BUFFER, 1);
		return;
	}
	rl_take(&n->verify_rl, peer->id, SN_WIRE_F_CHALLENGE, to, now);
	memcpy(sn_pkt_data(p), peer->s.challenge, SN_WIRE_CHALLENGE_LEN);
	p->len = SN_WIRE_CHALLENGE_LEN;
	seal_random(n, peer, p, SN_WIRE_F_CHALLENGE, to, from, SN_CTR_CHALLENGE_TX);
}

/* ---- receiving ---------------------------------------------------------------- */

/* Open p with the key of h's epoch (the accepted one, or a candidate):
 * the key, or NULL with *reason (auth_fail, epoch_limit) when it does not
 * open. A candidate that opens a challenge or a response is an epoch the
 * peer really used: it does not use up the peer's allowance of one new
 * candidate per 100 ms, so a peer that challenges us in one epoch and
 * then moves to a new one (a rolled-back state directory) gets its new
 * epoch in at once (docs/protocol.md section 6, step 7). */
static void *open_any_epoch(struct sn_node *n, struct sn_peer *peer, const struct sn_wire_hdr *h,
			    struct sn_pkt *p, uint64_t now, uint32_t *reason)
{
	void *key = sn__dp_epoch_key(n, peer, h->epoch, now, reason);

	if (!key || sn_open_pkt(&n->cr, key, h, p) < 0)
		return NULL;
	if (key == peer->cand_key)
		peer->cand_tried = false;
	return key;
}

void sn_verify_on_challenge(struct sn_node *n, struct sn_peer *peer, const struct sn_wire_hdr *h,
			    struct sn_pkt *p, uint64_t now)
{
	const struct sn_session *s = &peer->s;
	uint32_t reason;
	uint8_t *d;

	if (!open_any_epoch(n, peer, h, p, now, &reason))
		return sn__dp_drop(n, p, reason, peer);
	sn__dp_count(n, peer, SN_CTR_CHALLENGE_RX, 1);
	if (!rl_allows(&n->verify_rl, peer->id, SN_WIRE_F_RESPONSE, &p->addr, now))
		return sn_pool_put(&n->pool, p);
	rl_take(&n->verify_rl, peer->id, SN_WIRE_F_RESPONSE, &p->addr, now);
	peer->s.answered_epoch = h->epoch;
	/* the response in the challenge's own buffer: its 16 bytes, then what
	 * we accept from the peer and the seq we will use next */
	d = sn_pkt_data(p);
	sn__store_be32(d + SN_WIRE_CHALLENGE_LEN, s->rx_has_epoch ? s->rx_epoch : 0);
	sn__store_be64(d + SN_WIRE_CHALLENGE_LEN + 4, s->tx_seq);
	p->len = SN_WIRE_RESPONSE_LEN;
	seal_random(n, peer, p, SN_WIRE_F_RESPONSE, &p->addr, sn__dp_local(n, p),
		    SN_CTR_RESPONSE_TX);
}

void sn_verify_on_unverified(struct sn_node *n, struct sn_peer *peer,
			     const struct sn_wire_hdr *h, struct sn_pkt *p, uint64_t now)
{
	struct sn_addr src = p->addr, dst = *sn__dp_local(n, p);
	uint32_t reason;
	bool chal = rl_allows(&n->verify_rl, peer->id, SN_WIRE_F_CHALLENGE, &src, now) &&
		    open_any_epoch(n, peer, h, p, now, &reason);

	sn__dp_drop(n, p, SN_CTR_DROP_UNVERIFIED, peer);
	if (!chal)
		return;
	/* the once-a-second challenges go on to where they go (a remembered
	 * endpoint, an earlier source) until their tries are spent: a
	 * replayer must not divert them from the real peer */
	if (!peer->s.chal_tries) {
		peer->s.chal_to = src;
		peer->s.chal_from = dst;
		peer->s.chal_tries = SN_VERIFY_TRIES;
	}
	sn_verify_challenge(n, peer, &src, &dst, now);
}

/*
 * Must we move to a new epoch before we send peer anything: has it accepted
 * our epoch before? A report above our epoch says so. A report of exactly
 * our epoch says so too, unless our own response explains it: when the
 * peer started after us it challenged us, and our answer, sealed in our
 * epoch, made it accept that epoch (with the floor our answer set, so
 * nothing sequenced of ours was used). We count an answer only to a
 * challenge in the epoch the peer's response now comes in, i.e. of its
 * current run, not one replayed from an earlier run. docs/protocol.md,
 * "Verifying a peer", says why the letter of the rule would otherwise move
 * a hub's epoch on every simultaneous restart.
 */
static bool epoch_used(const struct sn_node *n, const struct sn_peer *peer, uint32_t reported,
		       uint32_t peer_epoch)
{
	if (reported != n->epoch)
		return reported > n->epoch;
	return peer->s.answered_epoch != peer_epoch;
}

/* A peer just verified gets one keepalive at once (unless keepalives are
 * off, keepalive: 0): to a hub it says "I
 * speak now", which earns us the hub's challenge if it restarted with us;
 * to a spoke, that we verified it (a spoke repeats its keepalives every
 * second until it hears from us). docs/protocol.md, "Endpoints, NAT and
 * keepalive". */
static void announce(struct sn_node *n, struct sn_peer *peer)
{
	if (n->cfg->keepalive) /* keepalive: 0 means none at all */
		sn__dp_stage_keepalive(n, peer);
}

/* The peer's response matched: it is verified (docs/protocol.md,
 * "Verifying a peer", what C does on a matching RESPONSE). */
static void verified(struct sn_node *n, struct sn_peer *peer, const struct sn_wire_hdr *h,
		     void *key, const struct sn_pkt *p, uint64_t now)
{
	struct sn_session *s = &peer->s;
	const uint8_t *d = sn_pkt_data(p);
	uint32_t reported = sn__load_be32(d + SN_WIRE_CHALLENGE_LEN);
	bool move = epoch_used(n, peer, reported, h->epoch);

	sn__dp_take_epoch(peer, h->epoch, key);
	sn_replay_floor(&s->rx_window, sn__load_be64(d + SN_WIRE_CHALLENGE_LEN + 4));
	s->endpoint = p->addr;
	s->local = *sn__dp_local(n, p);
	s->last_rx_ns = now;
	s->verified_ns = now;
	sodium_memzero(s->challenge, sizeof(s->challenge));
	memset(&s->chal_to, 0, sizeof(s->chal_to));
	memset(&s->chal_from, 0, sizeof(s->chal_from));
	sn__dp_count(n, peer, SN_CTR_RESPONSE_RX, 1);
	if (move) {
		/* our epoch was used before: move past it before we send (a
		 * report of the last epochs leaves no epoch to move to: the
		 * persisting fails and says so, and the peer waits) */
		s->state = SN_PEER_EPOCH_WAIT;
		sn_verify_request_epoch(n, reported < UINT32_MAX ? reported + 1 : UINT32_MAX);
		return;
	}
	s->state = SN_PEER_VERIFIED;
	announce(n, peer);
}

void sn_verify_on_response(struct sn_node *n, struct sn_peer *peer, const struct sn_wire_hdr *h,
			   struct sn_pkt *p, uint64_t now)
{
	uint32_t reason;
	void *key = open_any_epoch(n, peer, h, p, now, &reason);

	if (!key)
		return sn__dp_drop(n, p, reason, peer);
	if (peer->s.state != SN_PEER_UNVERIFIED ||
	    sodium_memcmp(sn_pkt_data(p), peer->s.challenge, SN_WIRE_CHALLENGE_LEN))
		return sn__dp_drop(n, p, SN_CTR_DROP_BAD_RESPONSE, peer);
	verified(n, peer, h, key, p, now);
	sn_pool_put(&n->pool, p);
}

/* ---- the once-a-second round ------------------------------------------------ */

bool sn_verify_round(struct sn_node *n, uint64_t now, uint32_t from, uint32_t count)
{
	bool pending = false;

	for (uint32_t i = from; i < from + count && i < n->peers.n; i++) {
		struct sn_peer *peer = n->peers.v[i];
		struct sn_session *s = &peer->s;

		if (s->state != SN_PEER_UNVERIFIED)
			continue;
		pending = true;
		if (peer->static_endpoint)
			sn_verify_challenge(n, peer, &s->endpoint, &s->local, now);
		else if (s->chal_to.family != SN_AF_NONE && s->chal_tries) {
			s->chal_tries--;
			sn_verify_challenge(n, peer, &s->chal_to, &s->chal_from, now);
		}
	}
	sn_dp_flush(n);
	if (from == 0 && n->emove.target > n->epoch) {
		sn_verify_request_epoch(n, n->emove.target);
		pending = true;
	}
	return pending;
}

bool sn_verify_tick(struct sn_node *n, uint64_t now)
{
	return sn_verify_round(n, now, 0, n->peers.n);
}

/* ---- moving to a new epoch ---------------------------------------------------- */

void sn_verify_request_epoch(struct sn_node *n, uint32_t target)
{
	if (target > n->emove.target)
		n->emove.target = target;
	if (!n->emove.running && n->persist_epoch)
		n->persist_epoch(n);
}

void sn_verify_epoch_moved(struct sn_node *n, uint32_t epoch)
{
	bool done = epoch >= n->emove.target;

	n->epoch = epoch;
	for (uint32_t i = 0; i < n->peers.n; i++) {
		struct sn_peer *peer = n->peers.v[i];

		peer->s.tx_epoch = epoch;
		peer->s.tx_seq = 0;
		peer->s.answered_epoch = 0;
		if (n->cr.ops->dir_key(n->cr.inst, peer->tx_key, peer->pair_key, n->cfg->node_id,
				       peer->id, epoch) < 0) {
			/* cannot happen (the pair key worked at start); if it
			 * did, never send with the old epoch's key */
			peer->s.state = SN_PEER_EPOCH_WAIT;
			continue;
		}
		if (done && peer->s.state == SN_PEER_EPOCH_WAIT) {
			peer->s.state = SN_PEER_VERIFIED;
			announce(n, peer);
		}
	}
	sn_dp_flush(n);
}
