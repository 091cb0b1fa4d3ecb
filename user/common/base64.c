// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int sextet(char c, bool lenient)
{
	const char *p = c ? strchr(alphabet, c) : NULL;

	if (lenient && (c == '-' || c == '_'))
		return c == '-' ? 62 : 63;
	return p ? (int)(p - alphabet) : -1;
}

static int decode(const char *text, bool lenient, char **out, size_t *out_len)
{
	size_t cap = strlen(text) / 4 * 3 + 3, len = 0;
	unsigned char *buf = malloc(cap + 1);
	uint32_t group = 0;
	int have = 0, pad = 0;

	*out = NULL;
	*out_len = 0;
	if (!buf)
		return -ENOMEM;
	for (const char *p = text; *p; p++) {
		int v;

		if (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
			continue;
		if (*p == '=') {
			pad++;
			continue;
		}
		v = sextet(*p, lenient);
		if (v < 0 || pad)
			goto bad; /* a letter outside the alphabet, or data after '=' */
		group = group << 6 | (uint32_t)v;
		if (++have == 4) {
			buf[len++] = group >> 16;
			buf[len++] = group >> 8;
			buf[len++] = group;
			group = 0;
			have = 0;
		}
	}
	/* What is left must be a group that padding completes (or, lenient,
	 * that it would have). */
	if (have == 1 || (have && pad != 4 - have && !(lenient && !pad)) || (!have && pad))
		goto bad;
	if (have == 2) {
		buf[len++] = group >> 4;
	} else if (have == 3) {
		buf[len++] = group >> 10;
		buf[len++] = group >> 2;
	}
	buf[len] = '\0';
	*out = (char *)buf;
	*out_len = len;
	return 0;
bad:
	free(buf);
	return -EINVAL;
}

int base64__decode(const char *text, char **out, size_t *out_len)
{
	return decode(text, false, out, out_len);
}

int base64__decode_lenient(const char *text, char **out, size_t *out_len)
{
	return decode(text, true, out, out_len);
}

char *base64__encode(const void *data, size_t len)
{
	const unsigned char *in = data;
	char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t g = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0) |
			     (i + 2 < len ? in[i + 2] : 0);

		*o++ = alphabet[g >> 18 & 63];
		*o++ = alphabet[g >> 12 & 63];
		*o++ = i + 1 < len ? alphabet[g >> 6 & 63] : '=';
		*o++ = i + 2 < len ? alphabet[g & 63] : '=';
	}
	*o = '\0';
	return out;
}
