// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* --min-duration durations and the OTEL_TRACES_SAMPLER settings:
 * table-driven, bad input included. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <linux/types.h>

#include "call_settings.h"
#include "filter_spec.h"
#include "unit.h"

static void test_durations(void)
{
	static const struct {
		const char *text;
		int err;
		uint64_t ns;
	} cases[] = {
		{ "10ms", 0, 10000000 },   { "250us", 0, 250000 },  { "1.5s", 0, 1500000000 },
		{ "100ns", 0, 100 },       { "2m", 0, 120000000000ull }, { "0.5us", 0, 500 },
		{ "1e3us", 0, 1000000 },   { "0ms", 0, 0 },
		{ "10", -EINVAL, 0 },      /* no unit */
		{ "10 ms", -EINVAL, 0 },   { "ms", -EINVAL, 0 },   { "", -EINVAL, 0 },
		{ "-1ms", -EINVAL, 0 },    { "+1ms", -EINVAL, 0 }, { "10h", -EINVAL, 0 },
		{ "0x10ms", -EINVAL, 0 },  { "nanms", -EINVAL, 0 }, { "infs", -EINVAL, 0 },
		{ "1e30s", -EINVAL, 0 },   { "10msx", -EINVAL, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256] = "";
		uint64_t ns = 12345;
		int ret = duration__parse(cases[i].text, &ns, err, sizeof(err));

		CHECK_INT(ret, cases[i].err);
		if (ret)
			CHECK(err[0] != '\0');
		else
			CHECK_INT(ns, cases[i].ns);
	}
}

static void test_samplers(void)
{
	static const struct {
		const char *name, *arg;
		int err;
		uint8_t mode;
		double ratio;
	} cases[] = {
		{ NULL, NULL, 0, SAMPLE_ALWAYS_ON, 1 },
		{ "", "0.5", 0, SAMPLE_ALWAYS_ON, 1 },          /* empty is unset */
		{ "always_on", NULL, 0, SAMPLE_ALWAYS_ON, 1 },
		{ "always_off", NULL, 0, SAMPLE_ALWAYS_OFF, 0 },
		{ "parentbased_always_off", NULL, 0, SAMPLE_ALWAYS_OFF, 0 },
		{ "traceidratio", "0.25", 0, SAMPLE_RATIO, 0.25 },
		{ "parentbased_traceidratio", "0.25", 0, SAMPLE_RATIO, 0.25 },
		{ "traceidratio", NULL, 0, SAMPLE_ALWAYS_ON, 1 }, /* the default ratio is 1 */
		{ "traceidratio", "1", 0, SAMPLE_ALWAYS_ON, 1 },
		{ "traceidratio", "0", 0, SAMPLE_RATIO, 0 },
		{ "traceidratio", "1.5", -EINVAL, 0, 0 },
		{ "traceidratio", "-0.1", -EINVAL, 0, 0 },
		{ "traceidratio", "abc", -EINVAL, 0, 0 },
		{ "traceidratio", "0.5x", -EINVAL, 0, 0 },
		{ "traceidratio", "nan", -EINVAL, 0, 0 },
		{ "jaeger_remote", NULL, -EINVAL, 0, 0 },
		{ "TraceIdRatio", "0.5", -EINVAL, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sampler s;
		char err[256] = "";
		int ret = sampler__from_env(cases[i].name, cases[i].arg, &s, err, sizeof(err));

		CHECK_INT(ret, cases[i].err);
		if (ret) {
			CHECK(err[0] != '\0');
			continue;
		}
		CHECK_INT(s.mode, cases[i].mode);
		CHECK(fabs(s.ratio - cases[i].ratio) < 1e-12);
	}
}

/* Sampled when the trace id's 56 random bits R >= threshold: the share of
 * R values kept is the ratio, at both ends. */
static void test_sampler_threshold(void)
{
	static const double ratios[] = { 0, 0.25, 0.5, 0.999 };

	for (size_t i = 0; i < sizeof(ratios) / sizeof(ratios[0]); i++) {
		struct sampler s;
		char err[128], arg[32];
		double kept;

		snprintf(arg, sizeof(arg), "%g", ratios[i]);
		CHECK_INT(sampler__from_env("traceidratio", arg, &s, err, sizeof(err)), 0);
		kept = 1.0 - (double)s.threshold / ldexp(1.0, SAMPLE_RANDOM_BITS);
		CHECK(fabs(kept - ratios[i]) < 1e-9);
		CHECK(s.threshold <= 1ull << SAMPLE_RANDOM_BITS);
	}
}

int main(void)
{
	unit_prog = "filter_spec";
	RUN(test_durations);
	RUN(test_samplers);
	RUN(test_sampler_threshold);
	return unit_exit();
}
