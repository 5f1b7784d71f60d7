/* SPDX-License-Identifier: MIT */
/*
 * core/config_aqm.c: the aqm section (docs/configuration.md, "aqm"):
 *
 *   aqm: off                                # no AQM
 *   aqm: { target_ms: 5, interval_ms: 100 } # CoDel (the default when absent)
 *
 * Milliseconds may have up to three decimals (0.5 is 500 us).
 */
#include <errno.h>
#include <string.h>

#include "aqm.h"
#include "config_priv.h"

#define AQM_MAX_US 10000000u /* 10 s */
/* The shortest target: a datagram waits about this long in the socket for a
 * busy loop to wake up and read its batch even on an idle link (50-200 us on
 * the bench machine), so a lower target would signal senders that are not
 * queueing at all and starve the link. */
#define AQM_TARGET_MIN_US 500u

/* "5", "0.5", "12.25": milliseconds as microseconds; -EINVAL otherwise. */
static int parse_ms(const char *s, size_t len, uint32_t *us)
{
	uint64_t v = 0, scale = 1000;
	size_t i = 0;

	if (!len || s[0] < '0' || s[0] > '9')
		return -EINVAL;
	for (; i < len && s[i] >= '0' && s[i] <= '9' && v <= AQM_MAX_US; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	v *= 1000;
	if (i < len && s[i] == '.') {
		for (i++; i < len && s[i] >= '0' && s[i] <= '9' && scale > 1; i++)
			v += (uint64_t)(s[i] - '0') * (scale /= 10);
		if (i < len || s[len - 1] == '.')
			return -EINVAL; /* more than three decimals, or none */
	}
	if (i < len || v > AQM_MAX_US)
		return -EINVAL;
	*us = (uint32_t)v;
	return 0;
}

static int ms_value(struct sn__ld *ld, const struct sn__cn *v, uint32_t *out)
{
	int rc = sn__conf_scalar(ld, v, "milliseconds, e.g. 5 or 0.5");

	if (rc < 0)
		return rc;
	if (parse_ms(v->s, v->len, out) < 0 || *out == 0)
		return sn__conf_fail(ld, v, "'%.*s' is not a time in milliseconds (expected a number "
				     "above 0 and up to 10000, with at most three decimals, e.g. 5 or 0.5)",
				     40, v->s);
	return 0;
}

static int target(struct sn__ld *ld, const struct sn__cn *v, void *obj)
{
	int rc = ms_value(ld, v, &ld->c->aqm_target_us);

	if (rc == 0 && ld->c->aqm_target_us < AQM_TARGET_MIN_US)
		return sn__conf_fail(ld, v, "%.*s ms is below 0.5 ms (expected 0.5 to 10000): a datagram "
				     "waits that long in the socket for the packet loop to wake up even on "
				     "an idle link, so CoDel would signal senders that do not queue",
				     40, v->s);
	return rc;
}

static int interval(struct sn__ld *ld, const struct sn__cn *v, void *obj)
{
	return ms_value(ld, v, &ld->c->aqm_interval_us);
}

static const struct sn__field aqm_fields[] = {
	{ "target_ms", target, false, NULL },
	{ "interval_ms", interval, false, NULL },
};

static int aqm_map(struct sn__ld *ld, const struct sn__cn *v)
{
	struct sn_config *c = ld->c;
	int rc = sn__conf_map(ld, v, aqm_fields, sizeof(aqm_fields) / sizeof(aqm_fields[0]), NULL);

	if (rc < 0)
		return rc;
	if (c->aqm_target_us >= c->aqm_interval_us)
		return sn__conf_fail(ld, v, "target_ms (%u us) must be shorter than interval_ms (%u us): "
				     "CoDel acts on a delay that lasted an interval (RFC 8289 suggests "
				     "a target of 5-10 %% of the interval)",
				     c->aqm_target_us, c->aqm_interval_us);
	return 0;
}

int sn__conf_aqm(struct sn__ld *ld)
{
	const struct sn__cn *v = sn__conf_get(ld->root, "aqm");
	struct sn_config *c = ld->c;
	size_t mark;
	int rc = 0;

	c->aqm_on = true;
	c->aqm_target_us = SN_AQM_TARGET_US;
	c->aqm_interval_us = SN_AQM_INTERVAL_US;
	if (!v)
		return 0;
	mark = sn__conf_path_key(ld, "aqm");
	c->has |= SN_CONF_HAS_AQM;
	if (v->kind == SN__CN_SCALAR && v->plain && (!strcmp(v->s, "off") || !strcmp(v->s, "false")))
		c->aqm_on = false;
	else if (v->kind == SN__CN_SCALAR && v->plain && (!strcmp(v->s, "on") || !strcmp(v->s, "true")))
		c->aqm_on = true;
	else if (v->kind == SN__CN_MAP)
		rc = aqm_map(ld, v);
	else
		rc = sn__conf_fail(ld, v, "expected off, on, or { target_ms: 5, interval_ms: 100 }");
	sn__conf_path_pop(ld, mark);
	return rc;
}
