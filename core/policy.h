/* SPDX-License-Identifier: MIT */
/*
 * core/policy.h: the policy tree (IPv4 prefix -> LOCAL / FORWARD peer /
 * DROP, longest-prefix match) and the RCU slot the data plane reads it from.
 *
 * Why a stride trie. Every packet is looked up twice (inner source, then
 * destination), so the lookup must be short, predictable and allocation
 * free. The tree is a multibit trie with a fixed stride of SN_POLICY_STRIDE
 * bits (4: 16 entries of 4 bytes, one cache line per node) built by
 * controlled prefix expansion and leaf pushing: each entry holds either a
 * child node or the rule that is the longest match for every address
 * reaching it. A lookup is then one indexed load per level, at most 32 /
 * SN_POLICY_STRIDE = 8 levels, with one well-predicted branch per level and
 * no backtracking. A path-compressed binary trie uses less memory but walks
 * up to 32 nodes and has to remember the best match on the way down; policy
 * tables here are small (tens to thousands of prefixes) so the memory costs
 * little: a prefix adds at most 7 nodes (448 bytes).
 *
 * A tree is immutable once built. It owns one arena holding the tree header,
 * the sorted rules and the nodes, all sized exactly before they are filled;
 * building allocates (control path), lookups never do.
 *
 * Validation (sn_policy_build refuses the whole set, building nothing):
 * - prefix length 0..32, no host bits set past the length;
 * - action LOCAL, FORWARD or DROP; LOCAL only with origin LOCAL;
 * - FORWARD names a peer id from the caller's set of configured peers;
 * - one rule per prefix (no two rules with the same address and length);
 * - a FORWARD rule may not lie inside a LOCAL prefix (it would steal this
 *   node's own traffic), nor inside a prefix the node config routes to
 *   another peer (origin PEER: it would hijack that peer's traffic, and let
 *   the wrong peer pass the inner-source check). A FORWARD rule that
 *   contains such a prefix is fine: the longer prefix still wins.
 * - DROP rules may cover anything.
 *
 * The RCU contract (struct sn_policy_slot). One writer (the control plane)
 * builds a new tree and publishes it with a single release store; readers
 * take the active tree with one acquire load, which makes every byte of the
 * tree that was written before the publish visible to them. A reader holds
 * the pointer only inside one callback (one batch of packets) and never keeps
 * it across a return to the event loop. The replaced tree is put on a retired
 * list, linked through the tree itself so publishing cannot fail, and freed
 * by sn_policy_reclaim(), which the reactor calls from a uv_check callback:
 * by then every callback of the loop iteration has returned, so the loop
 * thread is in a quiescent state and no reader can still hold a retired
 * tree. The daemon has one thread, so that is the whole grace period. A
 * reader on another thread would see correct trees (acquire/release), but
 * the caller would then have to call sn_policy_reclaim() only after every
 * such thread has passed a quiescent state of its own since the publish.
 */
#ifndef SN_POLICY_H
#define SN_POLICY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "subnetra/packet.h"

/* Bits per trie level; must divide 32. */
#define SN_POLICY_STRIDE 4
/* Most rules one tree takes. */
#define SN_POLICY_MAX_RULES (1u << 20)

/* Where a rule came from (struct sn_policy_rule.origin). */
enum sn_policy_origin {
	SN_POLICY_ORIGIN_LOCAL = 1,   /* node config: own overlay /32 and own LANs */
	SN_POLICY_ORIGIN_PEER = 2,    /* node config: a peer's address and routes, a spoke's subnet */
	SN_POLICY_ORIGIN_CONFIG = 3,  /* an explicit rule in the config's rules list */
	SN_POLICY_ORIGIN_RUNTIME = 4  /* injected through the control socket */
};

struct sn_policy_rule {
	struct sn_prefix prefix;
	enum sn_action action;
	uint32_t peer_id; /* with SN_ACT_FORWARD, else 0 */
	uint32_t origin;  /* enum sn_policy_origin */
};

struct sn_policy;

/*
 * Check rules and build a tree from them. peers (n_peers ids) is the set of
 * configured peers FORWARD rules may name. On success returns 0 and *out;
 * on failure returns -EINVAL (a bad rule), -EEXIST (two rules for one
 * prefix), -E2BIG (more than SN_POLICY_MAX_RULES) or -ENOMEM, writes one line
 * to err that starts with the offending prefix, and leaves *out untouched.
 * The rules are copied; the caller keeps its array.
 */
int sn_policy_build(const struct sn_policy_rule *rules, uint32_t n, const uint32_t *peers,
		    uint32_t n_peers, uint64_t version, struct sn_policy **out, char *err,
		    size_t err_len);

/*
 * Build the tree of a node from its config (docs/control.md, "policy"):
 * LOCAL: own overlay /32 and own LANs; hub: each peer's overlay /32 and
 * routes -> FORWARD that peer; spoke: the overlay subnet and the hub's routes
 * -> FORWARD hub (all origin LOCAL or PEER); then c->rules (origin CONFIG),
 * then extra (runtime rules: their origin is forced to RUNTIME). Errors as
 * sn_policy_build, prefixed with where the bad rule came from
 * ("FILE:LINE:COL: policy[2]: ...", "runtime rule 0: ..."). The tree keeps no
 * pointer into c or extra: either can be freed while the tree lives on.
 */
int sn_policy_from_config(const struct sn_config *c, const struct sn_policy_rule *extra,
			  uint32_t n_extra, uint64_t version, struct sn_policy **out, char *err,
			  size_t err_len);

/* The rule that matches addr (host order) longest, or NULL for no route. */
const struct sn_policy_rule *sn_policy_lookup(const struct sn_policy *t, uint32_t addr);

/* Inner-source check (docs/protocol.md, section 6 step 10): src routes to
 * FORWARD peer_id. */
bool sn_policy_src_ok(const struct sn_policy *t, uint32_t src, uint32_t peer_id);

/* The rule for exactly this prefix, or NULL (for "policy delete"). */
const struct sn_policy_rule *sn_policy_find(const struct sn_policy *t, struct sn_prefix p);

uint64_t sn_policy_version(const struct sn_policy *t);
uint32_t sn_policy_count(const struct sn_policy *t);
/* Bytes the tree holds (rules, nodes, header), for status. */
size_t sn_policy_mem(const struct sn_policy *t);
/* All rules sorted by address, then prefix length; *n gets the count. Valid
 * as long as the tree. */
const struct sn_policy_rule *sn_policy_rules(const struct sn_policy *t, uint32_t *n);

/* Free a tree that was never published (a published one is the slot's). */
void sn_policy_free(struct sn_policy *t);

/* The RCU holder of the active tree; see the contract at the top. */
struct sn_policy_slot {
	_Atomic(struct sn_policy *) active; /* NULL until the first publish */
	struct sn_policy *retired;          /* replaced trees, not yet freed */
	uint32_t n_retired;
};

/* An empty slot. Publish a tree before the data plane reads from it. */
void sn_policy_slot_init(struct sn_policy_slot *s);

/* The tree to look up in (acquire load); NULL only before the first publish.
 * Hold it for one callback at most. */
static inline const struct sn_policy *sn_policy_active(const struct sn_policy_slot *s)
{
	return atomic_load_explicit(&s->active, memory_order_acquire);
}

/* Make next (not NULL) the active tree with one release store; the slot owns
 * it. The previous tree, if any, is retired: still readable until
 * sn_policy_reclaim. Writer side only; cannot fail. */
void sn_policy_publish(struct sn_policy_slot *s, struct sn_policy *next);

/* Free every retired tree. Call only in a quiescent state (a uv_check
 * callback on the loop thread). */
void sn_policy_reclaim(struct sn_policy_slot *s);

/* Free the active tree and every retired one. */
void sn_policy_slot_destroy(struct sn_policy_slot *s);

/* Internal (policy.c <-> policy_config.c): sn_policy_build that also says
 * which rule was refused (*bad = its index in rules, UINT32_MAX if none). */
int sn__policy_build(const struct sn_policy_rule *rules, uint32_t n, const uint32_t *peers,
		     uint32_t n_peers, uint64_t version, struct sn_policy **out, uint32_t *bad,
		     char *err, size_t err_len);

#endif
