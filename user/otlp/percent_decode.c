// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>

#include "percent_decode.h"

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int percent_decode(const char *in, size_t len, char **out)
{
	char *buf = malloc(len + 1);
	size_t i, n = 0;
	int hi, lo, err;

	*out = NULL;
	if (!buf)
		return -ENOMEM;
	for (i = 0; i < len; i++) {
		if (in[i] != '%') {
			buf[n++] = in[i];
			continue;
		}
		hi = i + 2 < len ? hex_value(in[i + 1]) : -1;
		lo = hi >= 0 ? hex_value(in[i + 2]) : -1;
		/* An embedded NUL would silently cut the value short. */
		if (hi < 0 || lo < 0 || (hi | lo) == 0) {
			err = -EINVAL;
			goto cleanup;
		}
		buf[n++] = (char)(hi << 4 | lo);
		i += 2;
	}
	buf[n] = '\0';
	*out = buf;
	return 0;
cleanup:
	free(buf);
	return err;
}
