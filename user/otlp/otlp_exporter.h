/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* OTLP trace export (gRPC and HTTP/protobuf) on its own thread, batched like
 * the SDKs' BatchSpanProcessor; the caller never waits on the network. */
#ifndef SPANPROBE_OTLP_EXPORTER_H
#define SPANPROBE_OTLP_EXPORTER_H

#include <stdbool.h>
#include <stdint.h>

#include "otlp_config.h"

struct span;

struct otlp_stats {
	uint64_t exported;   /* spans the peer accepted */
	uint64_t rejected;   /* spans the peer reported as rejected (partial success) */
	uint64_t dropped;    /* queue full, non-retryable failure, or shutdown timeout */
	uint64_t retries;
	uint64_t failed_requests;
};

struct otlp_exporter;

int otlp_exporter__new(const struct otlp_config *cfg, struct otlp_exporter **out);
/* Copies the span into the queue; when the queue is full the span is dropped
 * and counted. Never blocks on the network. */
void otlp_exporter__push(struct otlp_exporter *e, const struct span *s);
/* How full, in percent, the buffer spans come from is (the kernel ring
 * buffer): with it, a push into a full queue may wait longer while that
 * buffer has room, and not at all once it is half full. Called by the
 * pushing thread, from within push. Set before the first push. */
typedef unsigned (*otlp_backlog_fn)(void *ctx);
void otlp_exporter__set_backlog(struct otlp_exporter *e, otlp_backlog_fn fn, void *ctx);
/* Flushes everything queued, giving up after the export timeout, and stops
 * the thread. Safe to call once before free. */
void otlp_exporter__shutdown(struct otlp_exporter *e);
void otlp_exporter__stats(struct otlp_exporter *e, struct otlp_stats *out);
void otlp_exporter__free(struct otlp_exporter *e);

#endif /* SPANPROBE_OTLP_EXPORTER_H */
