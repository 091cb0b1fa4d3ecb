/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What to do after one OTLP export attempt, as the OTLP specification's
 * "Failures and retries" says: retry only what may succeed later, honour the
 * server's wait, else back off exponentially with jitter. */
#ifndef SPANPROBE_OTLP_RETRY_H
#define SPANPROBE_OTLP_RETRY_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

enum otlp_outcome {
	OTLP_OUTCOME_OK,     /* delivered (maybe with some spans rejected) */
	OTLP_OUTCOME_RETRY,  /* send the same request again later */
	OTLP_OUTCOME_DROP,   /* will not succeed: drop the batch and count it */
};

/* The result of one export attempt. */
struct otlp_result {
	enum otlp_outcome outcome;
	int64_t retry_after_ms;  /* the server's wait (Retry-After, RetryInfo), or -1 */
	int64_t rejected;        /* partial success: spans the server rejected */
	char message[256];       /* OK: partial success message; else what failed */
	const char *hint;        /* what the user can do about it, or "" */
};

/* HTTP status of an OTLP/HTTP response: 2xx OK; 429, 502, 503, 504 retry;
 * anything else drop. */
enum otlp_outcome otlp_retry__http_status(long status);
/* gRPC status: 0 OK; CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE,
 * UNAVAILABLE, DATA_LOSS retry; RESOURCE_EXHAUSTED retries only when the
 * server sent RetryInfo; anything else drop. */
enum otlp_outcome otlp_retry__grpc_status(int code, bool has_retry_info);
/* Retry-After as delay-seconds or an HTTP-date, in ms from now (0 for a
 * date in the past); -1 when the value is neither. */
int64_t otlp_retry__parse_retry_after(const char *value, time_t now);
/* The wait before retry number attempt (0-based): 100 ms doubling up to a
 * 5 s cap, with "equal jitter" (half fixed, half from random) so clients
 * that failed together do not retry together. */
uint32_t otlp_retry__backoff_ms(unsigned attempt, uint32_t random);
/* The gRPC status code's name ("UNAVAILABLE"), for messages. */
const char *otlp_retry__grpc_code_name(int code);

#endif
