// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* OTLP over libcurl. HTTP: POST the protobuf to .../v1/traces. gRPC: the
 * same message in a 5-byte-prefixed frame, POSTed over HTTP/2 to the
 * TraceService/Export method; the status arrives in trailers (or in the
 * headers of a trailers-only response), both of which libcurl hands to the
 * header callback. Requests run side by side on one multi handle, driven by
 * the exporter's thread. */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <zlib.h>

#include "google/rpc/status.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "base64.h"
#include "otlp_encode.h"
#include "otlp_exporter.h"
#include "otlp_transport.h"
#include "percent_decode.h"
#include "unittest.h"
#include "version.h"

#define GRPC_EXPORT_PATH "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
#define RESPONSE_MAX (4u << 20) /* the specification's recommended response limit */
#define RETRY_INFO_TYPE "type.googleapis.com/google.rpc.RetryInfo"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse ExportResponse;

struct otlp_transport {
	const struct otlp_config *cfg;
	bool grpc;
	CURLM *multi;
	struct curl_slist *headers;
	char *url;
	_Atomic uint64_t abort_at_ms; /* CLOCK_MONOTONIC; 0: never */
};

struct otlp_request {
	void *owner;
	CURL *curl;
	bool active;             /* added to the multi handle */
	bool fresh_connection;   /* the last attempt failed: don't reuse its connection */
	uint32_t timeout_ms;
	uint8_t *wire;           /* gzip output (after room for the gRPC prefix) */
	size_t wire_cap;
	struct otlp_response resp;
	char curl_error[CURL_ERROR_SIZE];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void curl_init(void)
{
	curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void otlp_response__reset(struct otlp_response *r)
{
	r->http_status = 0;
	r->grpc_status = -1;
	r->grpc_message[0] = '\0';
	r->retry_after[0] = '\0';
	free(r->status_details);
	r->status_details = NULL;
	r->body_len = 0;
}

void otlp_response__release(struct otlp_response *r)
{
	free(r->status_details);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* Copies a header's value (blanks and CRLF trimmed) into out. */
static size_t header_value(const char *line, size_t len, size_t name_len, char *out, size_t cap)
{
	const char *v = line + name_len;
	size_t n = len - name_len;

	while (n && isspace((unsigned char)*v))
		v++, n--;
	while (n && isspace((unsigned char)v[n - 1]))
		n--;
	if (n >= cap)
		n = cap - 1;
	memcpy(out, v, n);
	out[n] = '\0';
	return n;
}

static bool header_is(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name);

	return len > n && strncasecmp(line, name, n) == 0;
}

void otlp_response__header(struct otlp_response *r, const char *line, size_t len)
{
	char value[32];

	if (header_is(line, len, "HTTP/")) {
		/* A new response (after a 1xx, or a redirect): forget the last. */
		char first[64];
		long status = 0;

		/* libcurl's header lines are not NUL-terminated: sscanf needs a copy. */
		memcpy(first, line, len < sizeof(first) ? len : sizeof(first) - 1);
		first[len < sizeof(first) ? len : sizeof(first) - 1] = '\0';
		otlp_response__reset(r);
		if (sscanf(first, "HTTP/%*s %ld", &status) == 1)
			r->http_status = status;
	} else if (header_is(line, len, "grpc-status:")) {
		header_value(line, len, 12, value, sizeof(value));
		r->grpc_status = isdigit((unsigned char)value[0]) ? atoi(value) : 2 /* UNKNOWN */;
	} else if (header_is(line, len, "grpc-message:")) {
		header_value(line, len, 13, r->grpc_message, sizeof(r->grpc_message));
	} else if (header_is(line, len, "retry-after:")) {
		header_value(line, len, 12, r->retry_after, sizeof(r->retry_after));
	} else if (header_is(line, len, "grpc-status-details-bin:")) {
		free(r->status_details);
		r->status_details = malloc(len);
		if (r->status_details)
			header_value(line, len, 24, r->status_details, len);
	}
}

static size_t on_header(char *line, size_t size, size_t n, void *ctx)
{
	otlp_response__header(ctx, line, size * n);
	return size * n;
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
	struct otlp_response *r = ctx;
	size_t len = size * n;

	/* Keep what fits under the limit; the rest is not needed to classify. */
	if (r->body_len + len > RESPONSE_MAX)
		return len;
	if (r->body_len + len > r->body_cap) {
		size_t cap = (r->body_len + len) * 2;
		uint8_t *grown = realloc(r->body, cap);

		if (!grown)
			return len;
		r->body = grown;
		r->body_cap = cap;
	}
	memcpy(r->body + r->body_len, data, len);
	r->body_len += len;
	return len;
}

/* A request still waiting when the shutdown deadline passes is abandoned:
 * its own timeout (OTEL_EXPORTER_OTLP_TIMEOUT) may be much later. libcurl
 * calls this at least once a second while a transfer waits. */
static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct otlp_transport *t = ctx;
	uint64_t abort_at = atomic_load(&t->abort_at_ms);
	struct timespec ts;

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	if (!abort_at)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 >= abort_at;
}

void otlp_transport__abort_at(struct otlp_transport *t, uint64_t deadline_ms)
{
	if (t)
		atomic_store(&t->abort_at_ms, deadline_ms ? deadline_ms : 1);
}

/* gRPC's -bin header value (base64 with or without padding) into out;
 * the decoded length, or -EINVAL (not base64, or longer than cap). */
UNITTEST ssize_t base64_decode(const char *in, uint8_t *out, size_t cap)
{
	size_t len;
	char *raw;
	int err = base64__decode_lenient(in, &raw, &len);

	if (err)
		return err;
	if (len > cap) {
		free(raw);
		return -EINVAL;
	}
	memcpy(out, raw, len);
	free(raw);
	return (ssize_t)len;
}

/* The wait a google.rpc.Status in grpc-status-details-bin asks for through
 * a google.rpc.RetryInfo detail, in ms; -1 when there is none. */
UNITTEST int64_t grpc_retry_info_ms(const char *details_b64)
{
	Google__Rpc__Status *status = NULL;
	uint8_t *raw = NULL;
	int64_t ms = -1;
	ssize_t len;

	if (!details_b64)
		return -1;
	raw = malloc(strlen(details_b64) + 1);
	if (!raw)
		goto cleanup;
	len = base64_decode(details_b64, raw, strlen(details_b64) + 1);
	if (len < 0)
		goto cleanup;
	status = google__rpc__status__unpack(NULL, (size_t)len, raw);
	if (!status)
		goto cleanup;
	for (size_t i = 0; i < status->n_details; i++) {
		Google__Protobuf__Any *any = status->details[i];
		Google__Rpc__RetryInfo *info;

		if (!any->type_url || strcmp(any->type_url, RETRY_INFO_TYPE) != 0)
			continue;
		info = google__rpc__retry_info__unpack(NULL, any->value.len, any->value.data);
		if (!info)
			continue;
		ms = 0;
		if (info->retry_delay && info->retry_delay->seconds >= 0)
			ms = info->retry_delay->seconds * 1000 + info->retry_delay->nanos / 1000000;
		google__rpc__retry_info__free_unpacked(info, NULL);
		break;
	}
cleanup:
	google__rpc__status__free_unpacked(status, NULL);
	free(raw);
	return ms;
}

/* partial_success of an ExportTraceServiceResponse, when the body is one. */
static void read_partial_success(const uint8_t *body, size_t len, struct otlp_result *res)
{
	ExportResponse *resp;

	if (!len)
		return;
	resp = opentelemetry__proto__collector__trace__v1__export_trace_service_response__unpack(
		NULL, len, body);
	if (!resp)
		return;
	if (resp->partial_success) {
		res->rejected = resp->partial_success->rejected_spans;
		if (resp->partial_success->error_message)
			snprintf(res->message, sizeof(res->message), "%s",
				 resp->partial_success->error_message);
	}
	opentelemetry__proto__collector__trace__v1__export_trace_service_response__free_unpacked(
		resp, NULL);
}

/* The message of a google.rpc.Status body (OTLP/HTTP error responses). */
static void read_status_message(const uint8_t *body, size_t len, char *out, size_t cap)
{
	Google__Rpc__Status *status = len ? google__rpc__status__unpack(NULL, len, body) : NULL;

	if (status && status->message && *status->message)
		snprintf(out, cap, ": %s", status->message);
	google__rpc__status__free_unpacked(status, NULL);
}

static const char *http_hint(long status)
{
	switch (status) {
	case 401:
	case 403:
		return " (set credentials in OTEL_EXPORTER_OTLP_HEADERS)";
	case 404:
		return " (OTLP/HTTP posts to .../v1/traces: check OTEL_EXPORTER_OTLP_ENDPOINT, or "
		       "OTEL_EXPORTER_OTLP_PROTOCOL=grpc for a gRPC port)";
	case 413:
		return " (request too large: lower OTEL_BSP_MAX_EXPORT_BATCH_SIZE)";
	case 415:
		return " (the server does not take application/x-protobuf; is it an OTLP receiver?)";
	default:
		return otlp_retry__http_status(status) == OTLP_OUTCOME_RETRY
			       ? " (the collector is overloaded or restarting)"
			       : "";
	}
}

static void http_result(const struct otlp_response *r, time_t now, struct otlp_result *res)
{
	char detail[160] = "";

	res->outcome = otlp_retry__http_status(r->http_status);
	if (res->outcome == OTLP_OUTCOME_OK) {
		read_partial_success(r->body, r->body_len, res);
		return;
	}
	if (res->outcome == OTLP_OUTCOME_RETRY && r->retry_after[0])
		res->retry_after_ms = otlp_retry__parse_retry_after(r->retry_after, now);
	read_status_message(r->body, r->body_len, detail, sizeof(detail));
	snprintf(res->message, sizeof(res->message), "HTTP %ld%s", r->http_status, detail);
	res->hint = http_hint(r->http_status);
}

static void grpc_result(const struct otlp_response *r, time_t now, struct otlp_result *res)
{
	int64_t retry_info_ms;
	char *message = NULL;

	if (r->grpc_status < 0) {
		/* No gRPC status: a proxy or a non-gRPC server answered. gRPC maps
		 * HTTP 429/502/503/504 to UNAVAILABLE, the rest to failures. */
		res->outcome = r->http_status == 200 ? OTLP_OUTCOME_DROP
						     : otlp_retry__http_status(r->http_status);
		if (res->outcome == OTLP_OUTCOME_OK)
			res->outcome = OTLP_OUTCOME_DROP;
		if (res->outcome == OTLP_OUTCOME_RETRY && r->retry_after[0])
			res->retry_after_ms = otlp_retry__parse_retry_after(r->retry_after, now);
		snprintf(res->message, sizeof(res->message), "HTTP %ld without a gRPC status",
			 r->http_status);
		res->hint = " (is this an OTLP/gRPC endpoint? OTLP/HTTP is usually port 4318: "
			    "set OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf)";
		return;
	}
	retry_info_ms = grpc_retry_info_ms(r->status_details);
	res->outcome = otlp_retry__grpc_status(r->grpc_status, retry_info_ms >= 0);
	if (res->outcome == OTLP_OUTCOME_OK) {
		/* One length-prefixed message: flag, 4-byte big-endian length. */
		if (r->body_len >= 5 && r->body[0] == 0) {
			size_t len = (size_t)r->body[1] << 24 | (size_t)r->body[2] << 16 |
				     (size_t)r->body[3] << 8 | r->body[4];

			if (len <= r->body_len - 5)
				read_partial_success(r->body + 5, len, res);
		}
		return;
	}
	if (res->outcome == OTLP_OUTCOME_RETRY && retry_info_ms >= 0)
		res->retry_after_ms = retry_info_ms;
	percent_decode(r->grpc_message, strlen(r->grpc_message), &message);
	snprintf(res->message, sizeof(res->message), "gRPC status %d %s%s%s", r->grpc_status,
		 otlp_retry__grpc_code_name(r->grpc_status), message && *message ? ": " : "",
		 message ? message : r->grpc_message);
	free(message);
	switch (r->grpc_status) {
	case 12: /* UNIMPLEMENTED */
		res->hint = " (is this an OTLP trace receiver? set OTEL_EXPORTER_OTLP_ENDPOINT)";
		break;
	case 7:  /* PERMISSION_DENIED */
	case 16: /* UNAUTHENTICATED */
		res->hint = " (set credentials in OTEL_EXPORTER_OTLP_HEADERS)";
		break;
	case 14:
		res->hint = " (the collector is overloaded or restarting)";
		break;
	default:
		break;
	}
}

void otlp_response__result(const struct otlp_response *r, bool grpc, time_t now,
			   struct otlp_result *res)
{
	memset(res, 0, sizeof(*res));
	res->retry_after_ms = -1;
	res->hint = "";
	if (grpc)
		grpc_result(r, now, res);
	else
		http_result(r, now, res);
}

/* Did the last request go over a connection opened for an earlier one? */
static bool reused_connection(struct otlp_request *r)
{
	long opened = -1;

	return curl_easy_getinfo(r->curl, CURLINFO_NUM_CONNECTS, &opened) == CURLE_OK &&
	       opened == 0;
}

/* A failure before any response: connection failures are retryable (the
 * collector may be restarting), TLS and usage problems are not. */
static void curl_failure(struct otlp_transport *t, struct otlp_request *r, CURLcode rc,
			 struct otlp_result *res)
{
	const char *detail = r->curl_error[0] ? r->curl_error : curl_easy_strerror(rc);
	uint32_t timeout_ms = r->timeout_ms;

	res->outcome = OTLP_OUTCOME_RETRY;
	switch (rc) {
	case CURLE_COULDNT_CONNECT: {
		long os_errno = 0;

		curl_easy_getinfo(r->curl, CURLINFO_OS_ERRNO, &os_errno);
		if (os_errno == ECONNREFUSED)
			snprintf(res->message, sizeof(res->message), "connection refused");
		else
			snprintf(res->message, sizeof(res->message), "cannot connect: %s",
				 os_errno ? strerror((int)os_errno) : detail);
		res->hint = " (is the collector running? set OTEL_EXPORTER_OTLP_ENDPOINT)";
		break;
	}
	case CURLE_COULDNT_RESOLVE_HOST:
		snprintf(res->message, sizeof(res->message), "cannot resolve the host name");
		res->hint = " (check the host in OTEL_EXPORTER_OTLP_ENDPOINT)";
		break;
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(res->message, sizeof(res->message), "no answer within %u ms", timeout_ms);
		res->hint = " (is the collector overloaded? raise OTEL_EXPORTER_OTLP_TIMEOUT)";
		break;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2_STREAM:
		snprintf(res->message, sizeof(res->message), "connection lost: %s", detail);
		break;
	case CURLE_ABORTED_BY_CALLBACK: /* on_progress: shutdown deadline */
		res->outcome = OTLP_OUTCOME_DROP;
		snprintf(res->message, sizeof(res->message), "shutdown timeout reached");
		res->hint = " (raise OTEL_BSP_EXPORT_TIMEOUT)";
		break;
	case CURLE_HTTP2:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_WEIRD_SERVER_REPLY:
		/* On a connection kept from an earlier export, the peer went away
		 * (a collector restarted): lost, retried on a new connection. */
		if (reused_connection(r)) {
			snprintf(res->message, sizeof(res->message), "connection lost: %s", detail);
			break;
		}
		/* Else usually a protocol mismatch: gRPC to an HTTP/1 port or back. */
		res->outcome = OTLP_OUTCOME_DROP;
		snprintf(res->message, sizeof(res->message), "%s", detail);
		res->hint = t->grpc ? " (is this a gRPC port? OTLP/gRPC is usually 4317, "
				      "OTLP/HTTP 4318: check OTEL_EXPORTER_OTLP_PROTOCOL)"
				    : " (is this an OTLP/HTTP port? OTLP/HTTP is usually 4318, "
				      "gRPC 4317: check OTEL_EXPORTER_OTLP_PROTOCOL)";
		break;
	default:
		res->outcome = OTLP_OUTCOME_DROP;
		snprintf(res->message, sizeof(res->message), "%s", detail);
		if (strstr(detail, "SSL") || strstr(detail, "certificate") || strstr(detail, "TLS"))
			res->hint = " (set OTEL_EXPORTER_OTLP_CERTIFICATE, or use http:// for a "
				    "plaintext collector)";
		break;
	}
}

static int wire_reserve(struct otlp_request *r, size_t n)
{
	uint8_t *grown;

	if (n <= r->wire_cap)
		return 0;
	grown = realloc(r->wire, n);
	if (!grown)
		return -ENOMEM;
	r->wire = grown;
	r->wire_cap = n;
	return 0;
}

/* gzip (not raw deflate or zlib: Content-Encoding and grpc-encoding both
 * name gzip) of in into r->wire at offset; returns the compressed size. */
static ssize_t gzip_into_wire(struct otlp_request *r, size_t offset, const uint8_t *in,
			      size_t len)
{
	z_stream zs = { 0 };
	size_t bound;
	ssize_t out;

	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	bound = deflateBound(&zs, len) + 32;
	if (wire_reserve(r, offset + bound)) {
		deflateEnd(&zs);
		return -ENOMEM;
	}
	zs.next_in = (uint8_t *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = r->wire + offset;
	zs.avail_out = (uInt)bound;
	out = deflate(&zs, Z_FINISH) == Z_STREAM_END ? (ssize_t)zs.total_out : -EIO;
	deflateEnd(&zs);
	return out;
}

/* The request body as it goes on the wire: gzip and/or gRPC framing (the
 * prefix written in the headroom before body), or the message itself. */
static int wire_body(struct otlp_transport *t, struct otlp_request *r, uint8_t *body, size_t len,
		     const uint8_t **out, size_t *out_len)
{
	size_t prefix = t->grpc ? 5 : 0;
	uint8_t *frame = body - prefix;
	ssize_t n = (ssize_t)len;

	if (t->cfg->gzip) {
		n = gzip_into_wire(r, prefix, body, len);
		if (n < 0)
			return (int)n;
		frame = r->wire;
	}
	if (t->grpc) {
		frame[0] = t->cfg->gzip ? 1 : 0; /* compressed flag */
		frame[1] = (uint8_t)(n >> 24);
		frame[2] = (uint8_t)(n >> 16);
		frame[3] = (uint8_t)(n >> 8);
		frame[4] = (uint8_t)n;
	}
	*out = frame;
	*out_len = prefix + (size_t)n;
	return 0;
}

int otlp_transport__start(struct otlp_transport *t, struct otlp_request *r, uint8_t *body,
			  size_t len, uint32_t timeout_ms, struct otlp_result *res)
{
	const uint8_t *wire;
	size_t wire_len;
	CURLMcode mc;

	memset(res, 0, sizeof(*res));
	res->retry_after_ms = -1;
	res->hint = "";
	if (wire_body(t, r, body, len, &wire, &wire_len)) {
		res->outcome = OTLP_OUTCOME_DROP;
		snprintf(res->message, sizeof(res->message), "out of memory compressing a request");
		return -1;
	}
	otlp_response__reset(&r->resp);
	r->curl_error[0] = '\0';
	r->timeout_ms = timeout_ms;
	curl_easy_setopt(r->curl, CURLOPT_POSTFIELDS, (const char *)wire);
	curl_easy_setopt(r->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)wire_len);
	curl_easy_setopt(r->curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(r->curl, CURLOPT_FRESH_CONNECT, r->fresh_connection ? 1L : 0L);
	mc = curl_multi_add_handle(t->multi, r->curl);
	if (mc != CURLM_OK) {
		res->outcome = OTLP_OUTCOME_DROP;
		snprintf(res->message, sizeof(res->message), "cannot start a request: %s",
			 curl_multi_strerror(mc));
		return -1;
	}
	r->active = true;
	return 0;
}

void otlp_transport__wait(struct otlp_transport *t, uint32_t timeout_ms)
{
	int running = 0;

	/* Poll, then perform: a perform before the poll could end a transfer
	 * and then sleep the whole timeout on its reported end. (A handle just
	 * added has a timeout of 0: the poll returns at once to start it.) */
	curl_multi_poll(t->multi, NULL, 0, (int)timeout_ms, NULL);
	curl_multi_perform(t->multi, &running);
}

struct otlp_request *otlp_transport__done(struct otlp_transport *t, struct otlp_result *res)
{
	struct otlp_request *r = NULL;
	CURLMsg *msg;
	int left;
	CURLcode rc;

	while ((msg = curl_multi_info_read(t->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		rc = msg->data.result;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		if (!r)
			continue;
		memset(res, 0, sizeof(*res));
		res->retry_after_ms = -1;
		res->hint = "";
		if (rc != CURLE_OK) {
			curl_failure(t, r, rc, res);
		} else {
			curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &r->resp.http_status);
			otlp_response__result(&r->resp, t->grpc, time(NULL), res);
		}
		/* After a failure the connection may be what failed. */
		r->fresh_connection = rc != CURLE_OK;
		curl_multi_remove_handle(t->multi, r->curl);
		r->active = false;
		return r;
	}
	return NULL;
}

void otlp_transport__cancel(struct otlp_transport *t, struct otlp_request *r)
{
	if (!r || !r->active)
		return;
	curl_multi_remove_handle(t->multi, r->curl);
	r->active = false;
	r->fresh_connection = true;
}

void otlp_transport__wakeup(struct otlp_transport *t)
{
	if (t)
		curl_multi_wakeup(t->multi);
}

/* gRPC posts to the method path on the endpoint's origin; any path in the
 * endpoint is not part of a gRPC address. */
static int grpc_url(const char *endpoint, char **out)
{
	CURLU *u = curl_url();
	int err = -EINVAL;
	char *url = NULL;

	if (!u)
		return -ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, endpoint, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_PATH, GRPC_EXPORT_PATH, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_QUERY, NULL, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK)
		goto cleanup;
	*out = strdup(url);
	err = *out ? 0 : -ENOMEM;
cleanup:
	curl_free(url);
	curl_url_cleanup(u);
	return err;
}

static int add_header(struct curl_slist **list, const char *line)
{
	struct curl_slist *l = curl_slist_append(*list, line);

	if (!l)
		return -ENOMEM;
	*list = l;
	return 0;
}

static int build_headers(struct otlp_transport *t)
{
	const struct otlp_config *cfg = t->cfg;
	int err = 0;

	if (t->grpc) {
		err = add_header(&t->headers, "Content-Type: application/grpc");
		/* gRPC requires te: trailers; servers reject requests without it. */
		err = err ?: add_header(&t->headers, "TE: trailers");
		err = err ?: add_header(&t->headers, "grpc-accept-encoding: identity");
		if (cfg->gzip)
			err = err ?: add_header(&t->headers, "grpc-encoding: gzip");
	} else {
		err = add_header(&t->headers, "Content-Type: application/x-protobuf");
		if (cfg->gzip)
			err = err ?: add_header(&t->headers, "Content-Encoding: gzip");
	}
	/* No "Expect: 100-continue" round trip before each batch. */
	err = err ?: add_header(&t->headers, "Expect:");
	for (char **h = cfg->headers; !err && h && *h; h++)
		err = add_header(&t->headers, *h);
	return err;
}

/* libcurl checks a URL only when a transfer starts: check it up front. */
static bool url_is_valid(const char *url)
{
	CURLU *u = curl_url();
	bool ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK;

	curl_url_cleanup(u);
	return ok;
}

int otlp_transport__new(const struct otlp_config *cfg, struct otlp_transport **out)
{
	struct otlp_transport *t = NULL;
	int err;

	*out = NULL;
	pthread_once(&curl_once, curl_init);
	if (curl_init_result != CURLE_OK) {
		fprintf(stderr, "spanprobe: cannot initialize libcurl: %s\n",
			curl_easy_strerror(curl_init_result));
		return -EIO;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->cfg = cfg;
	t->grpc = cfg->protocol == OTLP_GRPC;
	t->multi = curl_multi_init();
	if (!t->multi) {
		err = -ENOMEM;
		goto cleanup;
	}
	/* Streams of one HTTP/2 connection (gRPC): the default, said aloud. */
	curl_multi_setopt(t->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	if (t->grpc) {
		err = grpc_url(cfg->endpoint, &t->url);
	} else {
		t->url = strdup(cfg->endpoint);
		err = t->url ? 0 : -ENOMEM;
	}
	if (!err && !url_is_valid(t->url))
		err = -EINVAL; /* else every export would fail, each span dropped */
	if (err == -EINVAL)
		fprintf(stderr, "spanprobe: OTLP endpoint '%s' is not a URL libcurl accepts\n",
			cfg->endpoint);
	if (err)
		goto cleanup;
	err = build_headers(t);
	if (err)
		goto cleanup;
	*out = t;
	t = NULL;
cleanup:
	if (err == -ENOMEM)
		fprintf(stderr, "spanprobe: out of memory setting up the OTLP exporter\n");
	otlp_transport__free(t);
	return err;
}

void otlp_transport__free(struct otlp_transport *t)
{
	if (!t)
		return;
	curl_multi_cleanup(t->multi);
	curl_slist_free_all(t->headers);
	free(t->url);
	free(t);
}

int otlp_request__new(struct otlp_transport *t, void *owner, struct otlp_request **out)
{
	const struct otlp_config *cfg = t->cfg;
	struct otlp_request *r = calloc(1, sizeof(*r));
	CURL *c;

	*out = NULL;
	if (!r || !(r->curl = curl_easy_init())) {
		free(r);
		fprintf(stderr, "spanprobe: out of memory setting up the OTLP exporter\n");
		return -ENOMEM;
	}
	r->owner = owner;
	r->resp.grpc_status = -1;
	c = r->curl;
	curl_easy_setopt(c, CURLOPT_PRIVATE, r);
	curl_easy_setopt(c, CURLOPT_URL, t->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, t->headers);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "spanprobe/" SPANPROBE_VERSION);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* not on the main thread */
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->curl_error);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &r->resp);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->resp);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, t);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->timeout_ms);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	if (t->grpc && strncmp(t->url, "http://", 7) == 0) {
		/* Plaintext gRPC has no ALPN to negotiate HTTP/2 with: h2c. */
		curl_easy_setopt(c, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
		/* libcurl before 8.0.0 fails every request on a reused prior-knowledge
		 * connection with "Error in the HTTP2 framing layer" (curl #10634):
		 * every export after the first was dropped. One connection each. */
		if (curl_version_info(CURLVERSION_NOW)->version_num < 0x080000)
			curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
	} else if (t->grpc) {
		curl_easy_setopt(c, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
	}
	/* A request started while the HTTP/2 connection is still being set up
	 * waits for it, and becomes a stream of it, instead of opening another. */
	if (t->grpc)
		curl_easy_setopt(c, CURLOPT_PIPEWAIT, 1L);
	if (cfg->certificate)
		curl_easy_setopt(c, CURLOPT_CAINFO, cfg->certificate);
	if (cfg->client_certificate)
		curl_easy_setopt(c, CURLOPT_SSLCERT, cfg->client_certificate);
	if (cfg->client_key)
		curl_easy_setopt(c, CURLOPT_SSLKEY, cfg->client_key);
	*out = r;
	return 0;
}

void *otlp_request__owner(const struct otlp_request *r)
{
	return r->owner;
}

void otlp_request__free(struct otlp_transport *t, struct otlp_request *r)
{
	if (!r)
		return;
	otlp_transport__cancel(t, r);
	curl_easy_cleanup(r->curl);
	free(r->wire);
	otlp_response__release(&r->resp);
	free(r);
}
