/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* One OTLP export attempt over libcurl: OTLP/HTTP (protobuf body) or
 * OTLP/gRPC (HTTP/2, length-prefixed message, status in trailers). One
 * CURL handle, reused so the connection stays open between batches. */
#ifndef SPANPROBE_OTLP_TRANSPORT_H
#define SPANPROBE_OTLP_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otlp_retry.h"

struct otlp_config;
struct otlp_transport;

/* cfg must outlive the transport. Returns 0, -ENOMEM or -EINVAL (a URL
 * libcurl rejects, printed). */
int otlp_transport__new(const struct otlp_config *cfg, struct otlp_transport **out);
/* Posts one encoded ExportTraceServiceRequest (gzip-compressed here when
 * configured), waiting at most timeout_ms, and says what happened in *res. */
void otlp_transport__send(struct otlp_transport *t, const uint8_t *body, size_t len,
			  uint32_t timeout_ms, struct otlp_result *res);
/* Makes a send in progress (and any later one) give up at deadline_ms on
 * CLOCK_MONOTONIC, as a shutdown requires; callable from any thread. */
void otlp_transport__abort_at(struct otlp_transport *t, uint64_t deadline_ms);
void otlp_transport__free(struct otlp_transport *t);

/* What one response said, collected from the header callback (headers and,
 * for gRPC, trailers: libcurl passes both) and the body. Public so the unit
 * tests can feed it lines and bodies. */
struct otlp_response {
	long http_status;
	int grpc_status;            /* -1: none seen */
	char grpc_message[256];     /* still percent-encoded */
	char retry_after[64];
	char *status_details;       /* grpc-status-details-bin, base64 */
	uint8_t *body;
	size_t body_len, body_cap;
};

void otlp_response__reset(struct otlp_response *r);
void otlp_response__header(struct otlp_response *r, const char *line, size_t len);
/* Classifies a completed exchange (no transport error): grpc selects the
 * gRPC rules; now is the wall clock for an HTTP-date Retry-After. */
void otlp_response__result(const struct otlp_response *r, bool grpc, time_t now,
			   struct otlp_result *res);
void otlp_response__release(struct otlp_response *r);

#endif
