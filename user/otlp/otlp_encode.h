/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Spans -> one OTLP ExportTraceServiceRequest in protobuf, written straight
 * as bytes (no message tree). A span is encoded once, when it is queued,
 * into an otlp_batch; a request is the batches' span bytes grouped under one
 * ResourceSpans per traced process, copied once into the request body. */
#ifndef SPANPROBE_OTLP_ENCODE_H
#define SPANPROBE_OTLP_ENCODE_H

#include <stddef.h>
#include <stdint.h>

struct otlp_config;
struct process_info;
struct span;
struct otlp_encoder;

/* Spans as they wait to be exported: each one's Span message, framed as a
 * ScopeSpans.spans field, back to back in bytes, plus what the request
 * needs to group them by process. About 150-250 bytes a span. */
struct otlp_batch_span {
	uint32_t pid;
	uint32_t offset, len;               /* in bytes */
	const struct process_info *proc;    /* outlives the span (process table) */
};

struct otlp_batch {
	uint8_t *bytes;
	size_t len, cap;
	struct otlp_batch_span *spans;
	uint32_t n, spans_cap;
	struct otlp_batch *next;            /* the exporter's queue */
};

/* Appends s, encoded. Returns 0 or -ENOMEM (the batch is unchanged). */
int otlp_batch__add(struct otlp_batch *b, const struct span *s);
void otlp_batch__reset(struct otlp_batch *b);
void otlp_batch__free(struct otlp_batch *b); /* its buffers, not b */

/* cfg (service name, host name, resource attributes) must outlive the encoder. */
int otlp_encoder__new(const struct otlp_config *cfg, struct otlp_encoder **out);

/* Bytes a request body keeps free in front of the message (the gRPC frame
 * prefix is written there, so the message is not copied again). */
#define OTLP_BODY_HEADROOM 5

/* The request of every span in the linked batches from first on: written
 * at *buf + OTLP_BODY_HEADROOM, growing *buf (and *cap) with realloc when it
 * is too small; *len is the message's size. Returns 0 or -ENOMEM. */
int otlp_encoder__request(struct otlp_encoder *enc, const struct otlp_batch *first,
			  uint8_t **buf, size_t *cap, size_t *len);

/* spans[0..n) as one request into *buf (no headroom): for tests and the
 * benchmark. Returns 0 or -ENOMEM. */
int otlp_encoder__encode(struct otlp_encoder *enc, const struct span *spans, size_t n,
			 uint8_t **buf, size_t *cap, size_t *len);
void otlp_encoder__free(struct otlp_encoder *enc);

#endif
