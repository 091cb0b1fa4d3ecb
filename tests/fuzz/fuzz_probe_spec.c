// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer target: the command line's probe specs, error rules, --arg
 * specs, durations and sampler settings. The first byte picks the parser
 * (odd: error_rule__parse; else bit 1 clear: probe_spec__parse; bit 1 set:
 * arg_rule__parse, or with bit 2 also set duration__parse and
 * sampler__from_env); the rest is the text, as argv would give it. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arg_spec.h"
#include "filter_spec.h"
#include "probe_spec.h"

static void fuzz_arg_spec(const char *text, bool filters)
{
	char err[512];

	if (filters) {
		struct sampler smp;
		uint64_t ns;

		if (duration__parse(text, &ns, err, sizeof(err)) != 0 && !memchr(err, '\0', sizeof(err)))
			abort();
		if (sampler__from_env("traceidratio", text, &smp, err, sizeof(err)) == 0 &&
		    (smp.ratio < 0 || smp.ratio > 1 || smp.threshold > 1ull << 56))
			abort(); /* a ratio is within [0, 1] */
		sampler__from_env(text, "0.5", &smp, err, sizeof(err));
		return;
	}
	struct arg_rule r;

	memset(&r, 0, sizeof(r));
	if (arg_rule__parse(text, &r, err, sizeof(err)) == 0) {
		if (!r.nfuncs || !r.nitems || r.nitems > ARG_MAX)
			abort(); /* a parsed rule names functions and arguments */
		for (size_t i = 0; i < r.nitems; i++)
			if (!r.items[i].name || !r.items[i].attr_key || r.items[i].index >= ARG_MAX)
				abort();
		arg_rule__release(&r);
	} else if (!memchr(err, '\0', sizeof(err))) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], *text;

	if (size < 1)
		return 0;
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0'; /* argv strings end at the first NUL */
	if (!(data[0] & 1) && (data[0] & 2)) {
		fuzz_arg_spec(text, data[0] & 4);
	} else if (data[0] & 1) {
		struct error_rule r;

		memset(&r, 0, sizeof(r));
		if (error_rule__parse(text, &r, err, sizeof(err)) == 0) {
			if (!r.nfuncs || !r.funcs || !r.text)
				abort(); /* a parsed rule names functions and a condition */
			error_rule__release(&r);
		} else if (!memchr(err, '\0', sizeof(err))) {
			abort();
		}
	} else {
		struct probe_spec p;
		char **list = NULL;
		size_t n = 0;

		memset(&p, 0, sizeof(p));
		if (probe_spec__parse(text, &p, err, sizeof(err)) == 0) {
			/* python:INTERPRETER alone (for -l) names no functions */
			bool listing = p.kind == PROBE_PYTHON && !p.files && !p.nfuncs;

			if (!p.binary || (!listing && (!p.nfuncs || !p.funcs)))
				abort();
			for (size_t i = 0; i < p.nfuncs; i++)
				if (!p.funcs[i] || !p.funcs[i][0])
					abort(); /* empty names are an error, not a probe */
			probe_spec__release(&p);
		}
		if (split_list(text, &list, &n) == 0)
			free_list(list);
	}
	free(text);
	return 0;
}
