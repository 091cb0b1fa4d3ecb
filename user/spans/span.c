// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Hex forms of span ids, as OTLP/JSON, W3C traceparent and Jaeger show them. */
#include "span.h"

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
