/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* OTLP export requests over libcurl: OTLP/HTTP (protobuf body) or OTLP/gRPC
 * (HTTP/2, length-prefixed message, status in trailers). Several requests
 * can be in flight at once, driven by one thread through a libcurl multi
 * handle: over gRPC as streams of one HTTP/2 connection, over HTTP/1.1 on a
 * connection each; connections are kept and reused between requests. */
#ifndef SPANPROBE_OTLP_TRANSPORT_H
#define SPANPROBE_OTLP_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otlp_retry.h"

struct otlp_config;
struct otlp_transport;
struct otlp_request;

/* cfg must outlive the transport. Returns 0, -ENOMEM or -EINVAL (a URL
 * libcurl rejects, printed). */
int otlp_transport__new(const struct otlp_config *cfg, struct otlp_transport **out);
/* Every request must be freed before its transport. */
void otlp_transport__free(struct otlp_transport *t);

/* One request in flight at a time; owner is given back by __owner. */
int otlp_request__new(struct otlp_transport *t, void *owner, struct otlp_request **out);
void *otlp_request__owner(const struct otlp_request *r);
void otlp_request__free(struct otlp_transport *t, struct otlp_request *r);

/* Starts posting one encoded ExportTraceServiceRequest, body[0..len),
 * gzip-compressed here when configured, giving up after timeout_ms. The
 * OTLP_BODY_HEADROOM bytes before body must be writable (the gRPC frame
 * prefix goes there), and body must stay as it is until the request is
 * done. Returns 0, or -1 with what went wrong in *res. */
int otlp_transport__start(struct otlp_transport *t, struct otlp_request *r, uint8_t *body,
			  size_t len, uint32_t timeout_ms, struct otlp_result *res);
/* Moves the requests in flight along, waiting at most timeout_ms for the
 * network or a wakeup. */
void otlp_transport__wait(struct otlp_transport *t, uint32_t timeout_ms);
/* A request that has ended since the last call, and what happened in *res;
 * NULL when there is none. */
struct otlp_request *otlp_transport__done(struct otlp_transport *t, struct otlp_result *res);
/* Abandons a request in flight (its connection is not reused). */
void otlp_transport__cancel(struct otlp_transport *t, struct otlp_request *r);
/* Ends a wait early; callable from any thread. */
void otlp_transport__wakeup(struct otlp_transport *t);
/* Makes requests in progress (and any later one) give up at deadline_ms on
 * CLOCK_MONOTONIC, as a shutdown requires; callable from any thread. */
void otlp_transport__abort_at(struct otlp_transport *t, uint64_t deadline_ms);

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
