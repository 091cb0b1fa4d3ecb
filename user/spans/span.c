// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Hex forms of span ids, as OTLP/JSON, W3C traceparent and Jaeger show them;
 * captured arguments as the text outputs show them. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <linux/types.h>

#include "call_settings.h"
#include "span.h"
#include "span_record.h"

static const char hex_digits[] = "0123456789abcdef";

void span__trace_id_hex(const struct span *s, char out[33])
{
	for (int i = 0; i < 16; i++) {
		out[2 * i] = hex_digits[s->trace_id[i] >> 4];
		out[2 * i + 1] = hex_digits[s->trace_id[i] & 0xf];
	}
	out[32] = '\0';
}

/* Most significant nibble first: the same order as the big-endian bytes the
 * OTLP encoder puts on the wire, so both forms name the same span. */
void span__span_id_hex(uint64_t id, char out[17])
{
	for (int i = 0; i < 16; i++)
		out[i] = hex_digits[(id >> (60 - 4 * i)) & 0xf];
	out[16] = '\0';
}

/* A quoted C string: printable ASCII as is, the rest escaped. */
static size_t quote(const char *s, bool cut, char *buf, size_t len)
{
	size_t n = 0;

	if (len < 8)
		return 0;
	buf[n++] = '"';
	for (const unsigned char *p = (const unsigned char *)s; *p && n + 6 < len; p++) {
		if (*p == '"' || *p == '\\')
			n += snprintf(buf + n, len - n, "\\%c", *p);
		else if (*p == '\n')
			n += snprintf(buf + n, len - n, "\\n");
		else if (*p == '\t')
			n += snprintf(buf + n, len - n, "\\t");
		else if (*p < 0x20 || *p >= 0x7f)
			n += snprintf(buf + n, len - n, "\\x%02x", *p);
		else
			buf[n++] = (char)*p;
	}
	buf[n++] = '"';
	if (cut && n + 3 < len) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return n;
}

const char *span_arg__text(const struct span *s, size_t i, char *buf, size_t len)
{
	const struct span_arg *a = &s->args[i];

	if (!len)
		return buf;
	buf[0] = '\0';
	switch (a->type) {
	case ARG_T_INT:
		snprintf(buf, len, "%" PRId64, a->value);
		break;
	case ARG_T_UINT:
		snprintf(buf, len, "%" PRIu64, (uint64_t)a->value);
		break;
	case ARG_T_HEX:
		snprintf(buf, len, "0x%" PRIx64, (uint64_t)a->value);
		break;
	case ARG_T_STR:
	case ARG_T_PSTR:
		if (a->flags & ARG_F_NULL)
			snprintf(buf, len, "NULL");
		else if (a->flags & (ARG_F_FAULT | ARG_F_PTR_FAULT) || a->str < 0)
			snprintf(buf, len, "%s", a->str >= 0 ? s->arg_str[a->str] : "<unreadable>");
		else {
			/* the attribute text ends in "..." when cut: quote without it */
			char raw[SPAN_ARG_STR_LEN];
			size_t n = strlen(s->arg_str[a->str]);
			bool cut = a->flags & ARG_F_TRUNCATED;

			snprintf(raw, sizeof(raw), "%.*s", (int)(cut && n >= 3 ? n - 3 : n),
				 s->arg_str[a->str]);
			quote(raw, cut, buf, len);
		}
		break;
	default:
		snprintf(buf, len, "?");
	}
	return buf;
}

void span__args_text(const struct span *s, char *buf, size_t len)
{
	size_t n = 0;
	char v[SPAN_ARG_STR_LEN * 4 + 16];

	if (!len)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < s->nargs && n + 1 < len; i++) {
		int w = snprintf(buf + n, len - n, "%s%s=%s", i ? ", " : "", s->args[i].name,
				 span_arg__text(s, i, v, sizeof(v)));
		if (w < 0)
			break;
		n += (size_t)w;
	}
}
