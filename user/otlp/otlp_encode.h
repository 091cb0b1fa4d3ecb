/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Spans -> one OTLP ExportTraceServiceRequest in protobuf, one ResourceSpans
 * per traced process. The encoder keeps its protobuf-c structs between
 * batches, so encoding allocates only when a batch is bigger than any
 * before it. Not thread-safe: one per exporter thread. */
#ifndef SPANPROBE_OTLP_ENCODE_H
#define SPANPROBE_OTLP_ENCODE_H

#include <stddef.h>
#include <stdint.h>

struct otlp_config;
struct span;
struct otlp_encoder;

/* cfg (service name, host name, resource attributes) must outlive the encoder. */
int otlp_encoder__new(const struct otlp_config *cfg, struct otlp_encoder **out);
/* Encodes spans[0..n) into *buf, growing it (and *cap) with realloc when it
 * is too small; *len is the encoded size. Returns 0 or -ENOMEM. */
int otlp_encoder__encode(struct otlp_encoder *enc, const struct span *spans, size_t n,
			 uint8_t **buf, size_t *cap, size_t *len);
void otlp_encoder__free(struct otlp_encoder *enc);

#endif
