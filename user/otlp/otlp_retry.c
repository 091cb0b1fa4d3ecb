// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <curl/curl.h>
#include <stdlib.h>

#include "otlp_retry.h"

#define BACKOFF_INITIAL_MS 100
#define BACKOFF_MAX_MS 5000

enum otlp_outcome otlp_retry__http_status(long status)
{
	if (status >= 200 && status < 300)
		return OTLP_OUTCOME_OK;
	switch (status) {
	case 429: /* Too Many Requests */
	case 502: /* Bad Gateway */
	case 503: /* Service Unavailable */
	case 504: /* Gateway Timeout */
		return OTLP_OUTCOME_RETRY;
	default:
		return OTLP_OUTCOME_DROP;
	}
}

enum otlp_outcome otlp_retry__grpc_status(int code, bool has_retry_info)
{
	switch (code) {
	case 0:
		return OTLP_OUTCOME_OK;
	case 1:  /* CANCELLED */
	case 4:  /* DEADLINE_EXCEEDED */
	case 10: /* ABORTED */
	case 11: /* OUT_OF_RANGE */
	case 14: /* UNAVAILABLE */
	case 15: /* DATA_LOSS */
		return OTLP_OUTCOME_RETRY;
	case 8:  /* RESOURCE_EXHAUSTED: only when the server says recovery is possible */
		return has_retry_info ? OTLP_OUTCOME_RETRY : OTLP_OUTCOME_DROP;
	default:
		return OTLP_OUTCOME_DROP;
	}
}

int64_t otlp_retry__parse_retry_after(const char *value, time_t now)
{
	const char *p = value;
	time_t when;
	char *end;

	if (!value)
		return -1;
	while (isspace((unsigned char)*p))
		p++;
	if (isdigit((unsigned char)*p)) {
		long long secs = strtoll(p, &end, 10);

		while (isspace((unsigned char)*end))
			end++;
		if (*end || secs < 0 || secs > 24 * 3600)
			return -1;
		return secs * 1000;
	}
	/* libcurl's parser knows the three HTTP date formats RFC 9110 allows. */
	when = curl_getdate(p, NULL);
	if (when == -1)
		return -1;
	/* A date more than a day ahead is as implausible as such a delay in
	 * seconds (and far enough ahead, overflows in ms). */
	if (when > now && when - now > 24 * 3600)
		return -1;
	return when > now ? (int64_t)(when - now) * 1000 : 0;
}

uint32_t otlp_retry__backoff_ms(unsigned attempt, uint32_t random)
{
	uint32_t base = BACKOFF_MAX_MS;

	if (attempt < 16)
		base = BACKOFF_INITIAL_MS << attempt;
	if (base > BACKOFF_MAX_MS)
		base = BACKOFF_MAX_MS;
	return base / 2 + random % (base / 2 + 1);
}

const char *otlp_retry__grpc_code_name(int code)
{
	static const char *const names[] = {
		"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
		"NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
		"FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL",
		"UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
	};

	return code >= 0 && code < (int)(sizeof(names) / sizeof(names[0])) ? names[code]
									  : "unknown status";
}
