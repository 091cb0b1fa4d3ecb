// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Retry classification per the OTLP specification: HTTP status codes and
 * Retry-After forms, gRPC codes (RESOURCE_EXHAUSTED only with RetryInfo),
 * reading gRPC status from headers or trailers, partial success, backoff. */
#include <errno.h>
#include <stdlib.h>
#include <sys/types.h>

#include "google/rpc/status.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "otlp_retry.h"
#include "otlp_transport.h"
#include "unit.h"

ssize_t base64_decode(const char *in, uint8_t *out, size_t cap);
int64_t grpc_retry_info_ms(const char *details_b64);

static void test_http_status_table(void)
{
	static const struct {
		long status;
		enum otlp_outcome want;
	} rows[] = {
		{ 200, OTLP_OUTCOME_OK },     { 202, OTLP_OUTCOME_OK },
		{ 429, OTLP_OUTCOME_RETRY },  { 502, OTLP_OUTCOME_RETRY },
		{ 503, OTLP_OUTCOME_RETRY },  { 504, OTLP_OUTCOME_RETRY },
		{ 400, OTLP_OUTCOME_DROP },   { 401, OTLP_OUTCOME_DROP },
		{ 404, OTLP_OUTCOME_DROP },   { 408, OTLP_OUTCOME_DROP },
		{ 413, OTLP_OUTCOME_DROP },   { 500, OTLP_OUTCOME_DROP },
		{ 501, OTLP_OUTCOME_DROP },   { 301, OTLP_OUTCOME_DROP },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		CHECK_INT(otlp_retry__http_status(rows[i].status), rows[i].want);
}

static void test_grpc_status_table(void)
{
	for (int code = 0; code <= 16; code++) {
		enum otlp_outcome want = OTLP_OUTCOME_DROP;

		if (code == 0)
			want = OTLP_OUTCOME_OK;
		if (code == 1 || code == 4 || code == 10 || code == 11 || code == 14 || code == 15)
			want = OTLP_OUTCOME_RETRY;
		CHECK_INT(otlp_retry__grpc_status(code, false), want);
		if (code != 8)
			CHECK_INT(otlp_retry__grpc_status(code, true), want);
	}
	CHECK_INT(otlp_retry__grpc_status(8, false), OTLP_OUTCOME_DROP);
	CHECK_INT(otlp_retry__grpc_status(8, true), OTLP_OUTCOME_RETRY);
}

static void test_retry_after_table(void)
{
	/* Sun, 06 Nov 1994 08:49:37 GMT */
	const time_t now = 784111777;
	static const struct {
		const char *value;
		int64_t want_ms;
	} rows[] = {
		{ "0", 0 },
		{ "3", 3000 },
		{ " 120 ", 120000 },
		{ "Sun, 06 Nov 1994 08:49:47 GMT", 10000 },   /* IMF-fixdate */
		{ "Sunday, 06-Nov-94 08:49:57 GMT", 20000 },  /* RFC 850 */
		{ "Sun Nov  6 08:50:37 1994", 60000 },        /* asctime */
		{ "Sun, 06 Nov 1994 08:00:00 GMT", 0 },       /* in the past */
		{ "Mon, 07 Nov 1994 08:49:37 GMT", 86400000 }, /* a day: the longest wait */
		{ "Mon, 07 Nov 1994 08:49:38 GMT", -1 },      /* later, as for seconds */
		{ "Wed, 22 Oct 2028888288 00:00:00 GMT", -1 }, /* used to overflow in ms */
		{ "-1", -1 },
		{ "1.5", -1 },
		{ "soon", -1 },
		{ "", -1 },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int64_t got = otlp_retry__parse_retry_after(rows[i].value, now);

		if (got != rows[i].want_ms)
			printf("  row %zu '%s': got %lld\n", i, rows[i].value, (long long)got);
		CHECK_INT(got, rows[i].want_ms);
	}
	CHECK_INT(otlp_retry__parse_retry_after(NULL, now), -1);
}

static void test_backoff(void)
{
	/* 100 ms doubling, capped at 5 s, between half and all of it */
	static const uint32_t base[] = { 100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000 };

	for (unsigned a = 0; a < sizeof(base) / sizeof(base[0]); a++) {
		CHECK_INT(otlp_retry__backoff_ms(a, 0), base[a] / 2);
		CHECK_INT(otlp_retry__backoff_ms(a, base[a] / 2), base[a]);
		CHECK(otlp_retry__backoff_ms(a, 0xffffffffu) <= base[a]);
		CHECK(otlp_retry__backoff_ms(a, 0xffffffffu) >= base[a] / 2);
	}
	CHECK_INT(otlp_retry__backoff_ms(1000, 0), 2500);
}

static void feed(struct otlp_response *r, const char *line)
{
	otlp_response__header(r, line, strlen(line));
}

static void classify(const char *const *lines, const uint8_t *body, size_t len, bool grpc,
		     struct otlp_result *res)
{
	struct otlp_response r = { 0 };

	otlp_response__reset(&r);
	for (; *lines; lines++)
		feed(&r, *lines);
	if (len) {
		r.body = malloc(len);
		memcpy(r.body, body, len);
		r.body_len = r.body_cap = len;
	}
	otlp_response__result(&r, grpc, 0, res);
	otlp_response__release(&r);
}

#define LINES(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void test_http_responses(void)
{
	struct otlp_result res;

	classify(LINES("HTTP/1.1 200 OK\r\n", "Content-Type: application/x-protobuf\r\n", "\r\n"),
		 NULL, 0, false, &res);
	CHECK_INT(res.outcome, OTLP_OUTCOME_OK);
	CHECK_INT(res.rejected, 0);

	classify(LINES("HTTP/1.1 503 Service Unavailable\r\n", "Retry-After: 7\r\n", "\r\n"), NULL,
		 0, false, &res);
	CHECK_INT(res.outcome, OTLP_OUTCOME_RETRY);
	CHECK_INT(res.retry_after_ms, 7000);
	CHECK_STR(res.message, "HTTP 503");

	/* a 1xx before the final answer is forgotten */
	classify(LINES("HTTP/1.1 100 Continue\r\n", "\r\n", "HTTP/1.1 429 Too Many\r\n", "\r\n"), NULL,
		 0, false, &res);
	CHECK_INT(res.outcome, OTLP_OUTCOME_RETRY);
	CHECK_INT(res.retry_after_ms, -1);

	/* 400 with a google.rpc.Status body: dropped, message shown */
	Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
	uint8_t buf[256];
	size_t len;

	st.code = 3;
	st.message = "bad trace id";
	len = google__rpc__status__pack(&st, buf);
	classify(LINES("HTTP/1.1 400 Bad Request\r\n", "\r\n"), buf, len, false, &res);
	CHECK_INT(res.outcome, OTLP_OUTCOME_DROP);
	CHECK_STR(res.message, "HTTP 400: bad trace id");

	classify(LINES("HTTP/1.1 413 Too Large\r\n", "\r\n"), NULL, 0, false, &res);
	CHECK_INT(res.outcome, OTLP_OUTCOME_DROP);
	CHECK(strstr(res.hint, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE") != NULL);

	/* partial success in a 200 */
	Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse resp =
		OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_RESPONSE__INIT;
	Opentelemetry__Proto__Collector__Trace__V1__ExportTracePartialSuccess ps =
		OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_PARTIAL_SUCCESS__INIT;

	ps.rejected_spans = 3;
	ps.error_message = "spans too old";
	resp.partial_success = &ps;
	len = opentelemetry__proto__collector__trace__v1__export_trace_service_response__pack(&resp,
											      buf);
	classify(LINES("HTTP/1.1 200 OK\r\n", "\r\n"), buf, len, false, &res);
	CHECK_INT(res.outcome, OTLP_OUTCOME_OK);
	CHECK_INT(res.rejected, 3);
	CHECK_STR(res.message, "spans too old");
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void base64_encode(const uint8_t *in, size_t len, char *out)
{
	size_t i, n = 0;

	/* no padding, as gRPC sends -bin headers */
	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = in[i] << 16 | in[i + 1] << 8 | in[i + 2];

		out[n++] = b64[v >> 18];
		out[n++] = b64[v >> 12 & 63];
		out[n++] = b64[v >> 6 & 63];
		out[n++] = b64[v & 63];
	}
	if (len - i == 1) {
		out[n++] = b64[in[i] >> 2];
		out[n++] = b64[(in[i] & 3) << 4];
	} else if (len - i == 2) {
		uint32_t v = in[i] << 8 | in[i + 1];

		out[n++] = b64[v >> 10];
		out[n++] = b64[v >> 4 & 63];
		out[n++] = b64[(v & 15) << 2];
	}
	out[n] = '\0';
}

/* grpc-status-details-bin: a google.rpc.Status whose details hold a
 * RetryInfo of seconds + nanos. */
static void status_details(int64_t seconds, int32_t nanos, bool with_retry_info, char *out)
{
	Google__Protobuf__Duration d = GOOGLE__PROTOBUF__DURATION__INIT;
	Google__Rpc__RetryInfo ri = GOOGLE__RPC__RETRY_INFO__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT, *anys[1] = { &any };
	Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
	uint8_t ri_buf[64], st_buf[256];

	d.seconds = seconds;
	d.nanos = nanos;
	ri.retry_delay = &d;
	any.type_url = with_retry_info ? "type.googleapis.com/google.rpc.RetryInfo"
				       : "type.googleapis.com/google.rpc.DebugInfo";
	any.value.data = ri_buf;
	any.value.len = google__rpc__retry_info__pack(&ri, ri_buf);
	st.code = 8;
	st.message = "slow down";
	st.details = anys;
	st.n_details = 1;
	base64_encode(st_buf, google__rpc__status__pack(&st, st_buf), out);
}

static void test_grpc_responses(void)
{
	struct otlp_result res;
	char details[512], line[600];

	/* status in trailers after a normal header block */
	classify(LINES("HTTP/2 200 \r\n", "content-type: application/grpc\r\n", "\r\n",
		       "grpc-status: 14\r\n", "grpc-message: connection%20reset%3A%20peer\r\n"),
		 NULL, 0, true, &res);
	CHECK_INT(res.outcome, OTLP_OUTCOME_RETRY);
	CHECK_STR(res.message, "gRPC status 14 UNAVAILABLE: connection reset: peer");

	/* trailers-only response: the status comes with the headers */
	classify(LINES("HTTP/2 200 \r\n", "content-type: application/grpc\r\n",
		       "grpc-status: 3\r\n", "grpc-message: bad%20span\r\n", "\r\n"),
		 NULL, 0, true, &res);
	CHECK_INT(res.outcome, OTLP_OUTCOME_DROP);
	CHECK_STR(res.message, "gRPC status 3 INVALID_ARGUMENT: bad span");

	/* RESOURCE_EXHAUSTED: dropped without RetryInfo, retried after its delay with it */
	classify(LINES("HTTP/2 200 \r\n", "grpc-status: 8\r\n"), NULL, 0, true, &res);
	CHECK_INT(res.outcome, OTLP_OUTCOME_DROP);
	status_details(1, 500000000, true, details);
	CHECK_INT(grpc_retry_info_ms(details), 1500);
	snprintf(line, sizeof(line), "grpc-status-details-bin: %s\r\n", details);
	classify(LINES("HTTP/2 200 \r\n", "grpc-status: 8\r\n", line), NULL, 0, true, &res);
	CHECK_INT(res.outcome, OTLP_OUTCOME_RETRY);
	CHECK_INT(res.retry_after_ms, 1500);
	status_details(1, 0, false, details);
	CHECK_INT(grpc_retry_info_ms(details), -1);
	CHECK_INT(grpc_retry_info_ms("!!notbase64"), -1);

	/* OK with a framed ExportTraceServiceResponse carrying partial success */
	Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse resp =
		OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_RESPONSE__INIT;
	Opentelemetry__Proto__Collector__Trace__V1__ExportTracePartialSuccess ps =
		OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_PARTIAL_SUCCESS__INIT;
	uint8_t frame[128];
	size_t len;

	ps.rejected_spans = 2;
	resp.partial_success = &ps;
	len = opentelemetry__proto__collector__trace__v1__export_trace_service_response__pack(
		&resp, frame + 5);
	frame[0] = 0;
	frame[1] = frame[2] = frame[3] = 0;
	frame[4] = (uint8_t)len;
	classify(LINES("HTTP/2 200 \r\n", "\r\n", "grpc-status: 0\r\n"), frame, len + 5, true, &res);
	CHECK_INT(res.outcome, OTLP_OUTCOME_OK);
	CHECK_INT(res.rejected, 2);

	/* no grpc-status: an HTTP 503 from a proxy is UNAVAILABLE; a bare 200 is not OK */
	classify(LINES("HTTP/2 503 \r\n", "\r\n"), NULL, 0, true, &res);
	CHECK_INT(res.outcome, OTLP_OUTCOME_RETRY);
	classify(LINES("HTTP/2 200 \r\n", "\r\n"), NULL, 0, true, &res);
	CHECK_INT(res.outcome, OTLP_OUTCOME_DROP);
	classify(LINES("HTTP/2 404 \r\n", "\r\n"), NULL, 0, true, &res);
	CHECK_INT(res.outcome, OTLP_OUTCOME_DROP);
}

static void test_base64(void)
{
	uint8_t out[16];

	CHECK_INT(base64_decode("aGVsbG8=", out, sizeof(out)), 5);
	CHECK(memcmp(out, "hello", 5) == 0);
	CHECK_INT(base64_decode("aGVsbG8", out, sizeof(out)), 5);
	CHECK_INT(base64_decode("", out, sizeof(out)), 0);
	CHECK_INT(base64_decode("a*b", out, sizeof(out)), -EINVAL);
	CHECK_INT(base64_decode("aGVsbG8gd29ybGQgdGhpcyBpcyBsb25n", out, 4), -EINVAL);
}

int main(void)
{
	unit_prog = "otlp_retry";
	RUN(test_http_status_table);
	RUN(test_grpc_status_table);
	RUN(test_retry_after_table);
	RUN(test_backoff);
	RUN(test_http_responses);
	RUN(test_grpc_responses);
	RUN(test_base64);
	return unit_exit();
}
