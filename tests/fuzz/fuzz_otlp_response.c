// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer target: what an OTLP peer answers. The input is
 *     FLAG HEADER-LINE\n HEADER-LINE\n ... \n\n BODY
 * FLAG's low bit picks gRPC (1) or OTLP/HTTP (0). Each header line goes to
 * otlp_response__header exactly as libcurl passes one: a buffer of that
 * length, CRLF included, not NUL-terminated. The body (for gRPC: frames) is
 * what the write callback would have collected. Then the exchange is
 * classified, which parses Retry-After, grpc-status, the percent-encoded
 * grpc-message, base64 grpc-status-details-bin (RetryInfo) and the protobuf
 * bodies (partial success, google.rpc.Status). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "otlp_retry.h"
#include "otlp_transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct otlp_response r;
	struct otlp_result res;
	const uint8_t *p, *end = data + size;
	bool grpc;

	if (size < 1)
		return 0;
	grpc = data[0] & 1;
	memset(&r, 0, sizeof(r));
	otlp_response__reset(&r);
	for (p = data + 1; p < end;) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		char *line;

		if (len == 1 || (len == 2 && p[0] == '\r')) { /* blank line: the body follows */
			p += len;
			break;
		}
		line = malloc(len);
		if (!line)
			abort();
		memcpy(line, p, len);
		otlp_response__header(&r, line, len);
		free(line);
		p += len;
	}
	if (p < end) {
		r.body_len = (size_t)(end - p);
		r.body_cap = r.body_len;
		r.body = malloc(r.body_len);
		if (!r.body)
			abort();
		memcpy(r.body, p, r.body_len);
	}
	/* 2026-01-01, so HTTP-date Retry-After values land on both sides of now */
	otlp_response__result(&r, grpc, 1767225600, &res);
	if (res.outcome > OTLP_OUTCOME_DROP || !res.hint || !memchr(res.message, '\0', sizeof(res.message)))
		abort();
	if (res.retry_after_ms < -1)
		abort();
	(void)otlp_retry__parse_retry_after(r.retry_after, 1767225600);
	otlp_response__release(&r);
	return 0;
}
