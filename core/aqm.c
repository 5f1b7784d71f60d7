/* SPDX-License-Identifier: MIT */
/*
 * core/aqm.c: CoDel (RFC 8289) and the ECN mark (aqm.h). The names and
 * the order follow the RFC's pseudocode, section 5: ok_to_drop is
 * dodequeue's test, sn_aqm_check its dequeue with the drop loop unrolled
 * across packets (each later packet is the one the RFC would look at
 * next).
 */
#include "aqm.h"

#include "csum.h"

#define ECN_MASK 0x03u
#define ECN_CE 0x03u

/* floor(sqrt(v)) */
static uint64_t isqrt(uint64_t v)
{
	uint64_t r = 0, bit = (uint64_t)1 << 62;

	while (bit > v)
		bit >>= 2;
	for (; bit; bit >>= 2) {
		if (v >= r + bit) {
			v -= r + bit;
			r = (r >> 1) + bit;
		} else {
			r >>= 1;
		}
	}
	return r;
}

/* t + interval / sqrt(count), in 16 bits of fixed point. */
static uint64_t control_law(uint64_t t, uint32_t count, uint64_t interval)
{
	uint64_t root = isqrt((uint64_t)count << 32); /* sqrt(count) << 16 */

	return t + (interval << 16) / (root ? root : 1);
}

static bool ok_to_drop(struct sn_aqm *q, uint64_t sojourn, uint64_t now, uint64_t target,
		       uint64_t interval)
{
	if (sojourn < target) {
		q->first_above = 0;
		return false;
	}
	if (q->first_above == 0) {
		q->first_above = now + interval;
		return false;
	}
	return now >= q->first_above;
}

enum sn_aqm_verdict sn_aqm_check(struct sn_aqm *q, uint64_t sojourn, uint64_t now,
				 uint64_t target, uint64_t interval)
{
	bool ok = ok_to_drop(q, sojourn, now, target, interval);
	uint32_t delta;

	if (q->dropping) {
		if (!ok) {
			q->dropping = false;
			return SN_AQM_PASS;
		}
		if (now < q->drop_next)
			return SN_AQM_PASS;
		q->count++;
		q->drop_next = control_law(q->drop_next, q->count, interval);
		return SN_AQM_SIGNAL;
	}
	if (!ok)
		return SN_AQM_PASS;
	/* enter the dropping state; if it ended a short while ago, carry on
	 * at about the rate it stopped at (RFC 8289 section 5.6) */
	q->dropping = true;
	delta = q->count - q->lastcount;
	q->count = delta > 1 && (int64_t)(now - q->drop_next) < (int64_t)(16 * interval) ? delta : 1;
	q->drop_next = control_law(now, q->count, interval);
	q->lastcount = q->count;
	return SN_AQM_SIGNAL;
}

bool sn_aqm_mark(uint8_t *ip, uint32_t len)
{
	uint8_t old[2];

	if (len < 20 || !(ip[1] & ECN_MASK))
		return false; /* Not-ECT: the sender would not see a mark */
	old[0] = ip[0];
	old[1] = ip[1];
	ip[1] |= ECN_CE;
	sn_csum_replace16(ip + 10, old, ip);
	return true;
}
