/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The OTLP exporter's settings: what the OTEL_* environment says (as the
 * OpenTelemetry specification reads it), with spanprobe's overrides. */
#ifndef SPANPROBE_OTLP_CONFIG_H
#define SPANPROBE_OTLP_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

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

#endif
