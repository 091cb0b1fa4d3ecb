// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Encode a batch, decode it with protobuf-c's own unpack, check every field:
 * resources grouped by pid, ids as big-endian bytes, empty parent for a
 * root, ERROR status, span attributes, truncated spans; encoder reuse. */
#include <stdlib.h>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "otlp_encode.h"
#include "otlp_exporter.h"
#include "process_info.h"
#include "span.h"
#include "unit.h"
#include "version.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest Request;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Trace__V1__Span Span;

static const KeyValue *find_attr(KeyValue **kv, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(kv[i]->key, key) == 0)
			return kv[i];
	}
	return NULL;
}

static const char *attr_str(KeyValue **kv, size_t n, const char *key)
{
	const KeyValue *a = find_attr(kv, n, key);

	if (!a || a->value->value_case !=
			  OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE)
		return NULL;
	return a->value->string_value;
}

static long long attr_int(KeyValue **kv, size_t n, const char *key)
{
	const KeyValue *a = find_attr(kv, n, key);

	if (!a || a->value->value_case != OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE)
		return -999999;
	return a->value->int_value;
}

static struct process_info proc_a = { .pid = 100, .exe_name = "app", .exe_path = "/opt/app",
				      .command_line = "app --flag x", .container_id = "c0ffee",
				      .k8s_pod_uid = "5f0c2a1e-8b7d-4c3e-9f10-2a3b4c5d6e7f",
				      .k8s_pod_name = "web-0", .k8s_namespace = "shop",
				      .k8s_container_name = "web" };
static struct process_info proc_b = { .pid = 200, .exe_name = "worker" };

static void make_spans(struct span *s)
{
	memset(s, 0, 4 * sizeof(*s));
	/* A root in process 100 */
	for (int i = 0; i < 16; i++)
		s[0].trace_id[i] = (uint8_t)(0xa0 + i);
	s[0].span_id = 0x0102030405060708ull;
	s[0].start_unix_ns = 1700000000000000001ull;
	s[0].end_unix_ns = 1700000000000000999ull;
	s[0].pid = 100;
	s[0].tid = 101;
	s[0].name = "handle";
	s[0].code_file = "/src/app.c";
	s[0].code_line = 42;
	s[0].has_ret = true;
	s[0].ret = 0;
	s[0].proc = &proc_a;
	/* its child, an error */
	s[1] = s[0];
	s[1].span_id = 0x1112131415161718ull;
	s[1].parent_span_id = s[0].span_id;
	s[1].name = "parse";
	s[1].code_line = 0; /* unknown line: no code.line.number */
	s[1].ret = -1;
	s[1].error = true;
	snprintf(s[1].status_message, sizeof(s[1].status_message), "parse returned -1");
	/* process 200, truncated, no source location */
	s[2] = s[0];
	s[2].pid = 200;
	s[2].tid = 201;
	s[2].span_id = 0x2122232425262728ull;
	s[2].name = "loop";
	s[2].code_file = NULL;
	s[2].has_ret = false;
	s[2].truncated = true;
	s[2].lost_reason = "thread exit";
	s[2].proc = &proc_b;
	/* process 100 again, after 200: must join the first group */
	s[3] = s[0];
	s[3].span_id = 0x3132333435363738ull;
	s[3].parent_span_id = s[0].span_id;
	s[3].name = "tail";
}

static Request *encode_and_decode(struct otlp_encoder *enc, const struct span *s, size_t n)
{
	uint8_t *buf = NULL;
	size_t cap = 0, len = 0;
	Request *req = NULL;

	CHECK_INT(otlp_encoder__encode(enc, s, n, &buf, &cap, &len), 0);
	CHECK(len > 0 || n == 0);
	req = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
		NULL, len, buf);
	free(buf);
	CHECK(req != NULL);
	return req;
}

static void check_span_ids(const Span *pb, const struct span *s)
{
	uint8_t id[8];

	CHECK_INT(pb->trace_id.len, 16);
	CHECK(pb->trace_id.len == 16 && memcmp(pb->trace_id.data, s->trace_id, 16) == 0);
	for (int i = 0; i < 8; i++)
		id[i] = (uint8_t)(s->span_id >> (56 - 8 * i));
	CHECK(pb->span_id.len == 8 && memcmp(pb->span_id.data, id, 8) == 0);
	if (!s->parent_span_id) {
		CHECK_INT(pb->parent_span_id.len, 0);
	} else {
		for (int i = 0; i < 8; i++)
			id[i] = (uint8_t)(s->parent_span_id >> (56 - 8 * i));
		CHECK(pb->parent_span_id.len == 8 && memcmp(pb->parent_span_id.data, id, 8) == 0);
	}
}

static void test_round_trip(void)
{
	struct otlp_config cfg = { .host_name = "box" };
	struct otlp_encoder *enc = NULL;
	struct span s[4];
	Request *req;

	make_spans(s);
	CHECK_INT(otlp_encoder__new(&cfg, &enc), 0);
	req = encode_and_decode(enc, s, 4);
	if (!req)
		goto cleanup;
	CHECK_INT(req->n_resource_spans, 2);
	if (req->n_resource_spans != 2)
		goto cleanup;

	/* resource of process 100: every detected attribute */
	Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = req->resource_spans[0];
	KeyValue **ra = rs->resource->attributes;
	size_t nra = rs->resource->n_attributes;

	CHECK_STR(attr_str(ra, nra, "service.name"), "app");
	CHECK_STR(attr_str(ra, nra, "host.name"), "box");
	CHECK_INT(attr_int(ra, nra, "process.pid"), 100);
	CHECK_STR(attr_str(ra, nra, "process.executable.name"), "app");
	CHECK_STR(attr_str(ra, nra, "process.executable.path"), "/opt/app");
	CHECK_STR(attr_str(ra, nra, "process.command_line"), "app --flag x");
	CHECK_STR(attr_str(ra, nra, "container.id"), "c0ffee");
	CHECK_STR(attr_str(ra, nra, "k8s.pod.uid"), "5f0c2a1e-8b7d-4c3e-9f10-2a3b4c5d6e7f");
	CHECK_STR(attr_str(ra, nra, "k8s.pod.name"), "web-0");
	CHECK_STR(attr_str(ra, nra, "k8s.namespace.name"), "shop");
	CHECK_STR(attr_str(ra, nra, "k8s.container.name"), "web");
	CHECK_INT(nra, 11);
	CHECK_INT(rs->n_scope_spans, 1);
	CHECK_STR(rs->scope_spans[0]->scope->name, "spanprobe");
	CHECK_STR(rs->scope_spans[0]->scope->version, SPANPROBE_VERSION);
	CHECK_INT(rs->scope_spans[0]->n_spans, 3);

	Span **sp = rs->scope_spans[0]->spans;
	/* root */
	CHECK_STR(sp[0]->name, "handle");
	CHECK_INT(sp[0]->kind, OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_INTERNAL);
	CHECK(sp[0]->start_time_unix_nano == s[0].start_unix_ns);
	CHECK(sp[0]->end_time_unix_nano == s[0].end_unix_ns);
	check_span_ids(sp[0], &s[0]);
	CHECK(sp[0]->status == NULL);
	CHECK_STR(attr_str(sp[0]->attributes, sp[0]->n_attributes, "code.function.name"), "handle");
	CHECK_STR(attr_str(sp[0]->attributes, sp[0]->n_attributes, "code.file.path"), "/src/app.c");
	CHECK_INT(attr_int(sp[0]->attributes, sp[0]->n_attributes, "code.line.number"), 42);
	CHECK_INT(attr_int(sp[0]->attributes, sp[0]->n_attributes, "thread.id"), 101);
	CHECK_INT(attr_int(sp[0]->attributes, sp[0]->n_attributes, "spanprobe.return_value"), 0);
	CHECK(find_attr(sp[0]->attributes, sp[0]->n_attributes, "spanprobe.truncated") == NULL);
	CHECK_INT(sp[0]->n_attributes, 5);
	/* child with ERROR status */
	CHECK_STR(sp[1]->name, "parse");
	check_span_ids(sp[1], &s[1]);
	CHECK(sp[1]->status != NULL);
	if (sp[1]->status) {
		CHECK_INT(sp[1]->status->code,
			  OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR);
		CHECK_STR(sp[1]->status->message, "parse returned -1");
	}
	CHECK_INT(attr_int(sp[1]->attributes, sp[1]->n_attributes, "spanprobe.return_value"), -1);
	CHECK(find_attr(sp[1]->attributes, sp[1]->n_attributes, "code.line.number") == NULL);
	/* the span that came after process 200's */
	CHECK_STR(sp[2]->name, "tail");
	check_span_ids(sp[2], &s[3]);

	/* process 200: only what is known; truncated span */
	rs = req->resource_spans[1];
	ra = rs->resource->attributes;
	nra = rs->resource->n_attributes;
	CHECK_STR(attr_str(ra, nra, "service.name"), "worker");
	CHECK_INT(attr_int(ra, nra, "process.pid"), 200);
	CHECK(find_attr(ra, nra, "process.executable.path") == NULL);
	CHECK(find_attr(ra, nra, "container.id") == NULL);
	CHECK_INT(rs->scope_spans[0]->n_spans, 1);
	sp = rs->scope_spans[0]->spans;
	CHECK_STR(sp[0]->name, "loop");
	CHECK(find_attr(sp[0]->attributes, sp[0]->n_attributes, "spanprobe.return_value") == NULL);
	CHECK(find_attr(sp[0]->attributes, sp[0]->n_attributes, "code.file.path") == NULL);
	const KeyValue *t = find_attr(sp[0]->attributes, sp[0]->n_attributes, "spanprobe.truncated");
	CHECK(t && t->value->value_case ==
			   OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE &&
	      t->value->bool_value);
	CHECK_STR(attr_str(sp[0]->attributes, sp[0]->n_attributes, "spanprobe.lost_reason"),
		  "thread exit");
cleanup:
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req,
												 NULL);
	otlp_encoder__free(enc);
}

static void test_config_resource(void)
{
	char *attrs[] = { "deployment.environment", "prod", "host.name", "override", NULL };
	struct otlp_config cfg = { .host_name = "box", .service_name = "svc",
				   .resource_attrs = attrs };
	struct otlp_encoder *enc = NULL;
	struct span s[4];
	Request *req;

	make_spans(s);
	s[0].proc = NULL; /* the process table had nothing: still a valid resource */
	CHECK_INT(otlp_encoder__new(&cfg, &enc), 0);
	req = encode_and_decode(enc, s, 1);
	if (req && req->n_resource_spans == 1) {
		KeyValue **ra = req->resource_spans[0]->resource->attributes;
		size_t nra = req->resource_spans[0]->resource->n_attributes;
		size_t hosts = 0;

		CHECK_STR(attr_str(ra, nra, "service.name"), "svc");
		CHECK_STR(attr_str(ra, nra, "deployment.environment"), "prod");
		/* OTEL_RESOURCE_ATTRIBUTES wins, and keys stay unique */
		CHECK_STR(attr_str(ra, nra, "host.name"), "override");
		for (size_t i = 0; i < nra; i++)
			hosts += strcmp(ra[i]->key, "host.name") == 0;
		CHECK_INT(hosts, 1);
		CHECK_INT(attr_int(ra, nra, "process.pid"), 100);
	}
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req,
												 NULL);
	otlp_encoder__free(enc);
}

/* The encoder reuses its arrays: a big batch, then a small one, then many
 * processes, each decoding to exactly what was given. */
static void test_reuse_and_many_pids(void)
{
	struct otlp_config cfg = { .host_name = "box" };
	struct otlp_encoder *enc = NULL;
	size_t n = 1000;
	struct span *s = calloc(n, sizeof(*s));
	Request *req;
	size_t total;

	CHECK_INT(otlp_encoder__new(&cfg, &enc), 0);
	for (size_t i = 0; i < n; i++) {
		s[i].span_id = i + 1;
		s[i].pid = 1000 + (uint32_t)(i % 37);
		s[i].name = "f";
	}
	for (int round = 0; round < 3; round++) {
		size_t count = round == 1 ? 3 : n;

		req = encode_and_decode(enc, s, count);
		if (!req)
			break;
		CHECK_INT(req->n_resource_spans, count < 37 ? count : 37);
		total = 0;
		for (size_t r = 0; r < req->n_resource_spans; r++) {
			Opentelemetry__Proto__Trace__V1__ScopeSpans *ss =
				req->resource_spans[r]->scope_spans[0];

			for (size_t k = 0; k < ss->n_spans; k++) {
				/* every span sits under its own pid's resource */
				uint64_t id = 0;

				for (int b = 0; b < 8; b++)
					id = id << 8 | ss->spans[k]->span_id.data[b];
				CHECK_INT(s[id - 1].pid, 1000 + r);
			}
			total += ss->n_spans;
		}
		CHECK_INT(total, count);
		opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
			req, NULL);
	}
	/* an empty batch is an empty request */
	req = encode_and_decode(enc, s, 0);
	if (req)
		CHECK_INT(req->n_resource_spans, 0);
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req,
												 NULL);
	otlp_encoder__free(enc);
	free(s);
}

static void test_hex(void)
{
	struct span s = { 0 };
	char trace[33], id[17];

	for (int i = 0; i < 16; i++)
		s.trace_id[i] = (uint8_t)(i * 17);
	span__trace_id_hex(&s, trace);
	CHECK_STR(trace, "00112233445566778899aabbccddeeff");
	span__span_id_hex(0x0102030405060708ull, id);
	CHECK_STR(id, "0102030405060708");
	span__span_id_hex(0xfedcba9876543210ull, id);
	CHECK_STR(id, "fedcba9876543210");
	span__span_id_hex(0, id);
	CHECK_STR(id, "0000000000000000");
}

/* A call left by an exception carries the semantic conventions' event. */
static void test_exception_event(void)
{
	struct otlp_config cfg = { .host_name = "box" };
	struct otlp_encoder *enc = NULL;
	struct span s[4];
	Request *req;

	make_spans(s);
	snprintf(s[1].exception_type, sizeof(s[1].exception_type), "ValueError");
	snprintf(s[1].exception_message, sizeof(s[1].exception_message), "bad \"value\"");
	snprintf(s[2].exception_type, sizeof(s[2].exception_type), "KeyError"); /* no message */
	CHECK_INT(otlp_encoder__new(&cfg, &enc), 0);
	req = encode_and_decode(enc, s, 4);
	if (!req)
		goto cleanup;
	size_t events = 0;
	for (size_t r = 0; r < req->n_resource_spans; r++) {
		Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = req->resource_spans[r]->scope_spans[0];

		for (size_t k = 0; k < ss->n_spans; k++) {
			Opentelemetry__Proto__Trace__V1__Span *sp = ss->spans[k];

			events += sp->n_events;
			if (sp->n_events != 1)
				continue;
			CHECK_STR(sp->events[0]->name, "exception");
			CHECK(sp->events[0]->time_unix_nano == sp->end_time_unix_nano);
			if (strcmp(attr_str(sp->events[0]->attributes, sp->events[0]->n_attributes,
					    "exception.type"), "ValueError") == 0) {
				CHECK_STR(attr_str(sp->events[0]->attributes, sp->events[0]->n_attributes,
						   "exception.message"), "bad \"value\"");
			} else {
				CHECK_STR(attr_str(sp->events[0]->attributes, sp->events[0]->n_attributes,
						   "exception.type"), "KeyError");
				CHECK_INT(sp->events[0]->n_attributes, 1);
			}
		}
	}
	CHECK_INT(events, 2);
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req, NULL);
cleanup:
	otlp_encoder__free(enc);
}

int main(void)
{
	unit_prog = "otlp_encode";
	RUN(test_round_trip);
	RUN(test_exception_event);
	RUN(test_config_resource);
	RUN(test_reuse_and_many_pids);
	RUN(test_hex);
	return unit_exit();
}
