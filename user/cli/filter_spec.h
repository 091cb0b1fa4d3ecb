/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What is sent and what is summarised, as the options and the environment
 * say: --min-duration, --errors-only, OTEL_TRACES_SAMPLER(_ARG), the
 * summary. Parsing is pure string work (table-driven unit tests); the
 * kernel applies the result (bpf/shadow_stack.bpf.h). */
#ifndef SPANPROBE_FILTER_SPEC_H
#define SPANPROBE_FILTER_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sampler {
	uint8_t mode;          /* SAMPLE_* (call_settings.h) */
	uint64_t threshold;    /* SAMPLE_RATIO: (1 - ratio) * 2^56 */
	double ratio;          /* 1 for always_on, 0 for always_off */
	char name[48];         /* "traceidratio 0.25", for messages */
};

/* "250us", "10ms", "1.5s", "100ns", "2m" (a number and a unit: ns, us, ms,
 * s, m; no unit is an error, as is a negative or an overflow). 0, or
 * -EINVAL with a reason in err. */
int duration__parse(const char *text, uint64_t *ns, char *err, size_t errlen);
/* The sampler the OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG values
 * (either may be NULL or empty: unset) choose, as the OpenTelemetry SDKs
 * read them: always_on, always_off, traceidratio, parentbased_always_on,
 * parentbased_always_off, parentbased_traceidratio (every trace spanprobe
 * makes starts at a root of its own, so parentbased_X is X); the ratio's
 * default is 1.0. Unknown names and bad ratios are errors (-EINVAL, a
 * reason in err), not silently replaced. */
int sampler__from_env(const char *name, const char *arg, struct sampler *out, char *err,
		      size_t errlen);

#endif
