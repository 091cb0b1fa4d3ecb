// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "call_settings.h"
#include "filter_spec.h"

int duration__parse(const char *text, uint64_t *ns, char *err, size_t errlen)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = { { "ns", 1 }, { "us", 1e3 }, { "µs", 1e3 }, { "ms", 1e6 }, { "s", 1e9 },
		      { "m", 60e9 } };
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (end == text || errno || !isfinite(v) || v < 0 || text[0] == '-' || text[0] == '+' ||
	    strchr(text, 'x') || strchr(text, 'X')) {
		snprintf(err, errlen, "bad duration '%s': expected a number and a unit (e.g. 10ms, "
			 "250us, 1.5s)", text);
		return -EINVAL;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) != 0)
			continue;
		v *= units[i].ns;
		if (v >= 1.8e19) {
			snprintf(err, errlen, "bad duration '%s': too long", text);
			return -EINVAL;
		}
		*ns = (uint64_t)(v + 0.5);
		return 0;
	}
	snprintf(err, errlen, "bad duration '%s': %s (use ns, us, ms, s or m, e.g. 10ms)", text,
		 *end ? "unknown unit" : "no unit");
	return -EINVAL;
}

static int parse_ratio(const char *arg, double *ratio, char *err, size_t errlen)
{
	char *end;
	double v;

	if (!arg || !*arg) {
		*ratio = 1.0; /* the specification's default */
		return 0;
	}
	errno = 0;
	v = strtod(arg, &end);
	if (end == arg || *end || errno || !isfinite(v) || v < 0 || v > 1) {
		snprintf(err, errlen, "bad OTEL_TRACES_SAMPLER_ARG '%s': expected a ratio from 0 to 1 "
			 "(e.g. 0.25)", arg);
		return -EINVAL;
	}
	*ratio = v;
	return 0;
}

int sampler__from_env(const char *name, const char *arg, struct sampler *out, char *err,
		      size_t errlen)
{
	const char *base;
	double ratio = 1.0;
	int ret;

	memset(out, 0, sizeof(*out));
	out->mode = SAMPLE_ALWAYS_ON;
	out->ratio = 1.0;
	snprintf(out->name, sizeof(out->name), "always_on");
	if (!name || !*name)
		return 0;
	/* every trace spanprobe makes has its root here: parent-based = root's */
	base = strncmp(name, "parentbased_", 12) == 0 ? name + 12 : name;
	if (strcmp(base, "always_on") == 0)
		return 0;
	if (strcmp(base, "always_off") == 0) {
		out->mode = SAMPLE_ALWAYS_OFF;
		out->ratio = 0;
		snprintf(out->name, sizeof(out->name), "always_off");
		return 0;
	}
	if (strcmp(base, "traceidratio") != 0) {
		snprintf(err, errlen, "OTEL_TRACES_SAMPLER '%s' is not one spanprobe knows (use "
			 "always_on, always_off, traceidratio or parentbased_traceidratio)", name);
		return -EINVAL;
	}
	ret = parse_ratio(arg, &ratio, err, errlen);
	if (ret)
		return ret;
	out->ratio = ratio;
	snprintf(out->name, sizeof(out->name), "traceidratio %g", ratio);
	if (ratio >= 1.0)
		return 0;
	out->mode = SAMPLE_RATIO;
	/* sampled when the 56 random bits R >= (1 - ratio) * 2^56 */
	out->threshold = (uint64_t)ldexp(1.0 - ratio, SAMPLE_RANDOM_BITS);
	if (out->threshold > (1ULL << SAMPLE_RANDOM_BITS))
		out->threshold = 1ULL << SAMPLE_RANDOM_BITS;
	return 0;
}
