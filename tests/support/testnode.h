/* SPDX-License-Identifier: MIT */
/*
 * tests/support/testnode.h: a node built by hand for unit tests, the way
 * reactor.c builds one minus the loop, the TUN device and the socket: a
 * config from conf/ with its real key (so a hub and a spoke built this way
 * can talk to each other), the crypto plugin from the build tree, peers for
 * a given epoch, the policy, a packet pool, and fake os and egress backends
 * that keep what they are handed until the test looks at it.
 */
#ifndef SN_TESTNODE_H
#define SN_TESTNODE_H

#include <stdbool.h>
#include <stdint.h>

#include "node.h"

#define TN_MAX 256

struct tn {
	struct sn_node *n;
	struct sn_addr addr;           /* this node's underlay address */
	struct sn_pkt *sent[TN_MAX];   /* datagrams handed to the egress, in order */
	uint32_t n_sent;
	struct sn_pkt *tun[TN_MAX];    /* packets written to the TUN device */
	uint32_t n_tun;
	uint32_t take;                 /* 0: the fakes take every entry, else at most this many a call */
};

/* conf is "hub", "spoke-a" or "spoke-b"; addr is the node's underlay address
 * (a.b.c.d:port). Fails the test on any error. */
struct tn *tn_new(const char *conf, uint32_t epoch, const char *addr);
void tn_free(struct tn *t);

/* Release what was sent and written. */
void tn_clear(struct tn *t);

/* Hand every datagram from sent to to's receive path, as if they came from
 * from's address; from's sent list is emptied. Returns how many. */
uint32_t tn_pass(struct tn *from, struct tn *to);

/* A datagram of kind flags from `from` to `to`, sealed with from's own keys
 * for to (its tx key and epoch): plaintext p[0..len), the given seq, in a
 * packet of to's pool with its source address from's. flip >= 0 flips that
 * byte of the sealed datagram (a forgery). The test owns the packet. */
struct sn_pkt *tn_craft(struct tn *from, struct tn *to, uint8_t flags, const void *p,
			uint32_t len, uint64_t seq, int flip);

/* Give to the receive path of t one datagram (taken). */
void tn_rx(struct tn *t, struct sn_pkt *p);

/* The peer of t with this id (fails the test when missing). */
struct sn_peer *tn_peer(struct tn *t, uint32_t id);

/* A counter of t's peer id (node-wide when id is 0). */
uint64_t tn_ctr(struct tn *t, uint32_t id, uint32_t ctr);

/* Forget the verification rate limit and the limit on new candidate
 * epochs (as if more than 100 ms passed). */
void tn_later(struct tn *t);

/* Decode the header of a sent datagram. */
struct sn_wire_hdr tn_hdr(const struct sn_pkt *p);

/* A small well-formed IPv4/UDP packet src -> dst ("10.0.0.2") in buf;
 * returns its length. */
uint32_t tn_ipv4(uint8_t *buf, const char *src, const char *dst);

#endif
