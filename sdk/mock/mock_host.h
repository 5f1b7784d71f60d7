/* SPDX-License-Identifier: MIT */
/*
 * mock_host.h: a host for plugin unit tests, shipped with the SDK.
 *
 * Compile mock_host.c (installed beside this file, in
 * share/subnetra/sdk/mock/; CMake: ${SUBNETRA_MOCK_HOST_DIR}) into your
 * test program together with your plugin's sources, then drive the plugin
 * the way subnetrad would, with nothing of the daemon:
 *
 *   struct sn_host *h = sn_mock_new(64, 64, 2048);   // pool: 64 packets
 *   struct sn_create_args a = sn_mock_args(h, &opts, err, sizeof(err));
 *   rc = desc->create(inst, &a);                     // counters, room_set
 *   sn_mock_created(h);                              // create() is over
 *   ... call the ops, sn_mock_advance(h, 10) to run timers due in 10 ms,
 *   ... check sn_mock_counter(h, "mine"), sn_mock_count(h, SN_CTR_...),
 *   ... sn_mock_log(h), sn_mock_delivered(h, &n), sn_mock_pool_free(h)
 *   desc->destroy(inst);
 *   sn_mock_free(h);
 *
 * It implements every call of struct sn_host_api with the host's rules
 * (subnetra/host.h): a fixed pool (pkt_alloc returns NULL when empty, off =
 * the headroom asked for, user = 0), node counters, plugin counters with the
 * same name rules and limits, counter_register and room_set during create
 * only, a clock and timers driven by the test, log lines kept in memory
 * (level filter, no rate limit), deliver keeping what it is given. Not
 * thread-safe, like the host's loop thread.
 */
#ifndef SUBNETRA_MOCK_HOST_H
#define SUBNETRA_MOCK_HOST_H

#include <subnetra/sdk.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A host with a pool of pkts packets, each with headroom bytes before the
 * data and room bytes from there; the clock at 1 s; log level DEBUG.
 * NULL when out of memory. */
struct sn_host *sn_mock_new(uint32_t pkts, uint32_t headroom, uint32_t room);
/* Frees everything, the packets delivered and the timers included. */
void sn_mock_free(struct sn_host *h);

const struct sn_host_api *sn_mock_api(void);

/* create() arguments for a plugin under test (opts may be NULL); marks the
 * host as in create() until sn_mock_created(). */
struct sn_create_args sn_mock_args(struct sn_host *h, const struct sn_options *opts, char *err,
				   uint32_t err_len);
void sn_mock_created(struct sn_host *h);

/* Log level (enum sn_log_level) the mock keeps messages up to. */
void sn_mock_log_level(struct sn_host *h, int level);
/* Every line kept so far, "LEVEL: text\n" each (LEVEL: error, warning,
 * info, debug); "" when none. sn_mock_log_clear() forgets them. */
const char *sn_mock_log(const struct sn_host *h);
void sn_mock_log_clear(struct sn_host *h);

/* Move the clock forward by ms and run every timer that falls due, in
 * time order (a periodic one as often as it falls due). Returns how many
 * callbacks ran. */
uint32_t sn_mock_advance(struct sn_host *h, uint64_t ms);
/* Timers started and not stopped or fired (one-shot) yet. */
uint32_t sn_mock_timers_armed(const struct sn_host *h);

/* Node counter id (enum sn_counter); the same for peer peer_id (0 when
 * the peer was never counted). */
uint64_t sn_mock_count(const struct sn_host *h, uint32_t id);
uint64_t sn_mock_peer_count(const struct sn_host *h, uint32_t peer_id, uint32_t id);
/* The plugin counter named name: its value, or UINT64_MAX when none was
 * registered; its help text, or NULL. */
uint64_t sn_mock_counter(const struct sn_host *h, const char *name);
const char *sn_mock_counter_help(const struct sn_host *h, const char *name);

/* What room_set() declared (0 when it was not called). */
void sn_mock_room(const struct sn_host *h, uint32_t *headroom, uint32_t *tailroom,
		  uint32_t *overhead);

/* Packets free in the pool: equal to the count given to sn_mock_new when
 * nobody holds one (a leak test). */
uint32_t sn_mock_pool_free(const struct sn_host *h);

/* Packets handed to deliver(), in order; they stay the mock's (returned to
 * the pool by sn_mock_delivered_clear or sn_mock_free). */
struct sn_pkt *const *sn_mock_delivered(const struct sn_host *h, uint32_t *n);
void sn_mock_delivered_clear(struct sn_host *h);

#ifdef __cplusplus
}
#endif
#endif
