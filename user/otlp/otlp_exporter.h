/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* OTLP trace export (gRPC and HTTP/protobuf) on its own thread, batched like
 * the SDKs' BatchSpanProcessor; the caller never waits on the network. */
#ifndef SPANPROBE_OTLP_EXPORTER_H
#define SPANPROBE_OTLP_EXPORTER_H

#include <stdbool.h>
#include <stdint.h>

struct span;

enum otlp_protocol { OTLP_GRPC, OTLP_HTTP_PROTOBUF };

struct otlp_config {
	enum otlp_protocol protocol;
	char *endpoint;            /* full URL actually posted to (HTTP: .../v1/traces) */
	char **headers;            /* "key: value" lines, NULL-terminated, or NULL */
	uint32_t timeout_ms;       /* per export request */
	bool gzip;
	bool insecure;
	char *certificate;         /* PEM CA file, or NULL */
	char *client_key;
	char *client_certificate;
	char *service_name;        /* NULL: each process's executable name */
	char **resource_attrs;     /* "key", "value" pairs, NULL-terminated, or NULL */
	uint32_t schedule_delay_ms;
	uint32_t export_timeout_ms;
	uint32_t max_queue_size;
	uint32_t max_export_batch_size;
	char *host_name;
};

/* Fills cfg from the OTEL_* environment as the specification defines it,
 * then applies the non-NULL overrides (from --endpoint, --protocol,
 * --service-name). Prints one line and returns -EINVAL on a bad value. */
int otlp_config__from_env(struct otlp_config *cfg, const char *endpoint,
			  const char *protocol, const char *service_name);
void otlp_config__release(struct otlp_config *cfg);

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
