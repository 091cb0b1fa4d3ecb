// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer target: the command line's probe specs and error rules.
 * The first byte picks the parser (even: probe_spec__parse, odd:
 * error_rule__parse); the rest is the text, as argv would give it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe_spec.h"

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
	if (data[0] & 1) {
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
			if (!p.nfuncs || !p.funcs)
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
