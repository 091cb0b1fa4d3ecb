// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer target: one line of a --config file, as getline gives it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1), *words[2] = { NULL, NULL };
	const char *why = NULL;
	int nwords = -1, err;

	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	err = config_line__parse(line, words, &nwords, &why);
	if (nwords < 0 || nwords > 2 || (err && nwords) || (err == -22 && !why))
		abort();
	for (int i = 0; i < nwords; i++) {
		if (!words[i])
			abort();
		free(words[i]);
	}
	free(line);
	return 0;
}
