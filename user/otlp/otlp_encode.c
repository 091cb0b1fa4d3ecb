// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Builds the protobuf-c message tree for a batch out of arrays the encoder
 * owns and reuses (no per-span malloc), then packs it. Strings are not
 * copied: span names and files live in the probe table, process facts in
 * the process table, both outliving the batch. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "otlp_encode.h"
#include "otlp_exporter.h"
#include "process_info.h"
#include "span.h"
#include "unittest.h"
#include "version.h"

typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;
typedef Opentelemetry__Proto__Trace__V1__Span Span;
typedef Opentelemetry__Proto__Trace__V1__Status Status;
typedef Opentelemetry__Proto__Trace__V1__Span__Event Event;
typedef Opentelemetry__Proto__Trace__V1__ResourceSpans ResourceSpans;
typedef Opentelemetry__Proto__Trace__V1__ScopeSpans ScopeSpans;
typedef Opentelemetry__Proto__Resource__V1__Resource Resource;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope Scope;
typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest Request;

/* function, file, line, thread, return, truncated, reason, captured arguments */
#define SPAN_ATTRS_MAX (7 + SPAN_ARG_MAX)
#define RESOURCE_DETECTED 11 /* service, host, pid, parent pid, exe name, exe path, cmdline,
			      * container, k8s pod uid, pod name, namespace */

/* One traced process in the batch. */
struct encode_group {
	uint32_t pid;
	const struct process_info *proc;
	size_t count, next;
	ResourceSpans rs;
	Resource resource;
	ScopeSpans ss;
	ScopeSpans *ss_ptr;
};

struct otlp_encoder {
	const char *service_name;
	const char *host_name;
	char *const *resource_attrs;
	size_t resource_attr_count;
	Scope scope;

	size_t cap;                 /* spans the arrays below hold */
	Span *spans;
	Span **span_ptrs;           /* grouped by process */
	Status *status;
	KeyValue *kv;               /* SPAN_ATTRS_MAX per span */
	KeyValue **kv_ptrs;
	AnyValue *av;
	uint8_t (*ids)[16];         /* span id, parent id: big-endian */
	Event *events;              /* one "exception" event per span, when it has one */
	Event **event_ptrs;
	KeyValue *ev_kv;            /* 2 per span: exception.type, exception.message */
	KeyValue **ev_kv_ptrs;
	AnyValue *ev_av;
	uint32_t *group_of;

	size_t group_cap;
	struct encode_group *groups;
	ResourceSpans **rs_ptrs;
	KeyValue *res_kv;           /* (RESOURCE_DETECTED + attrs) per group */
	KeyValue **res_kv_ptrs;
	AnyValue *res_av;
};

static int grow(void *pp, size_t n, size_t size)
{
	void *p = realloc(*(void **)pp, n * size);

	if (!p)
		return -ENOMEM;
	*(void **)pp = p;
	return 0;
}

static int encoder_reserve(struct otlp_encoder *enc, size_t n)
{
	if (n > enc->cap) {
		if (grow(&enc->spans, n, sizeof(Span)) || grow(&enc->span_ptrs, n, sizeof(Span *)) ||
		    grow(&enc->status, n, sizeof(Status)) ||
		    grow(&enc->kv, n * SPAN_ATTRS_MAX, sizeof(KeyValue)) ||
		    grow(&enc->kv_ptrs, n * SPAN_ATTRS_MAX, sizeof(KeyValue *)) ||
		    grow(&enc->av, n * SPAN_ATTRS_MAX, sizeof(AnyValue)) ||
		    grow(&enc->ids, n, sizeof(*enc->ids)) ||
		    grow(&enc->events, n, sizeof(Event)) || grow(&enc->event_ptrs, n, sizeof(Event *)) ||
		    grow(&enc->ev_kv, n * 2, sizeof(KeyValue)) ||
		    grow(&enc->ev_kv_ptrs, n * 2, sizeof(KeyValue *)) ||
		    grow(&enc->ev_av, n * 2, sizeof(AnyValue)) ||
		    grow(&enc->group_of, n, sizeof(uint32_t)))
			return -ENOMEM;
		enc->cap = n;
	}
	return 0;
}

static int encoder_reserve_groups(struct otlp_encoder *enc, size_t n)
{
	size_t res_per = RESOURCE_DETECTED + enc->resource_attr_count;

	if (n <= enc->group_cap)
		return 0;
	if (grow(&enc->groups, n, sizeof(struct encode_group)) ||
	    grow(&enc->rs_ptrs, n, sizeof(ResourceSpans *)) ||
	    grow(&enc->res_kv, n * res_per, sizeof(KeyValue)) ||
	    grow(&enc->res_kv_ptrs, n * res_per, sizeof(KeyValue *)) ||
	    grow(&enc->res_av, n * res_per, sizeof(AnyValue)))
		return -ENOMEM;
	enc->group_cap = n;
	return 0;
}

int otlp_encoder__new(const struct otlp_config *cfg, struct otlp_encoder **out)
{
	static const Scope scope_init = OPENTELEMETRY__PROTO__COMMON__V1__INSTRUMENTATION_SCOPE__INIT;
	struct otlp_encoder *enc = calloc(1, sizeof(*enc));

	*out = NULL;
	if (!enc)
		return -ENOMEM;
	enc->service_name = cfg->service_name;
	enc->host_name = cfg->host_name;
	enc->resource_attrs = cfg->resource_attrs;
	for (char *const *kv = cfg->resource_attrs; kv && *kv; kv += 2)
		enc->resource_attr_count++;
	enc->scope = scope_init;
	enc->scope.name = "spanprobe";
	enc->scope.version = SPANPROBE_VERSION;
	*out = enc;
	return 0;
}

void otlp_encoder__free(struct otlp_encoder *enc)
{
	if (!enc)
		return;
	free(enc->spans);
	free(enc->span_ptrs);
	free(enc->status);
	free(enc->kv);
	free(enc->kv_ptrs);
	free(enc->av);
	free(enc->ids);
	free(enc->events);
	free(enc->event_ptrs);
	free(enc->ev_kv);
	free(enc->ev_kv_ptrs);
	free(enc->ev_av);
	free(enc->group_of);
	free(enc->groups);
	free(enc->rs_ptrs);
	free(enc->res_kv);
	free(enc->res_kv_ptrs);
	free(enc->res_av);
	free(enc);
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* protobuf-c's string fields are char * but packing never writes them. */
static inline void attr_str(KeyValue *kv, AnyValue *av, const char *key, const char *value)
{
	static const KeyValue kv_init = OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
	static const AnyValue av_init = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;

	*kv = kv_init;
	*av = av_init;
	kv->key = (char *)key;
	kv->value = av;
	av->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
	av->string_value = (char *)value;
}

static inline void attr_int(KeyValue *kv, AnyValue *av, const char *key, int64_t value)
{
	attr_str(kv, av, key, NULL);
	av->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
	av->int_value = value;
}

static inline void attr_bool(KeyValue *kv, AnyValue *av, const char *key, bool value)
{
	attr_str(kv, av, key, NULL);
	av->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
	av->bool_value = value;
}

static void encode_span(struct otlp_encoder *enc, size_t i, const struct span *s)
{
	static const Span span_init = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__INIT;
	static const Status status_init = OPENTELEMETRY__PROTO__TRACE__V1__STATUS__INIT;
	KeyValue *kv = &enc->kv[i * SPAN_ATTRS_MAX], **kv_ptrs = &enc->kv_ptrs[i * SPAN_ATTRS_MAX];
	AnyValue *av = &enc->av[i * SPAN_ATTRS_MAX];
	Span *pb = &enc->spans[i];
	size_t n = 0;

	*pb = span_init;
	pb->trace_id.data = (uint8_t *)s->trace_id;
	pb->trace_id.len = 16;
	put_be64(enc->ids[i], s->span_id);
	pb->span_id.data = enc->ids[i];
	pb->span_id.len = 8;
	if (s->parent_span_id) { /* a root's parent id stays empty */
		put_be64(enc->ids[i] + 8, s->parent_span_id);
		pb->parent_span_id.data = enc->ids[i] + 8;
		pb->parent_span_id.len = 8;
	}
	pb->name = (char *)(s->name ? s->name : "");
	pb->kind = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_INTERNAL;
	pb->start_time_unix_nano = s->start_unix_ns;
	pb->end_time_unix_nano = s->end_unix_ns;

	if (s->name)
		attr_str(&kv[n], &av[n], "code.function.name", s->name), n++;
	if (s->code_file) {
		attr_str(&kv[n], &av[n], "code.file.path", s->code_file), n++;
		if (s->code_line)
			attr_int(&kv[n], &av[n], "code.line.number", s->code_line), n++;
	}
	attr_int(&kv[n], &av[n], "thread.id", s->tid), n++;
	if (s->has_ret)
		attr_int(&kv[n], &av[n], "spanprobe.return_value", s->ret), n++;
	if (s->truncated) {
		attr_bool(&kv[n], &av[n], "spanprobe.truncated", true), n++;
		if (s->lost_reason)
			attr_str(&kv[n], &av[n], "spanprobe.lost_reason", s->lost_reason), n++;
	}
	/* arguments: strings as their text (in the span itself), integers as ints */
	for (size_t k = 0; k < s->nargs && k < SPAN_ARG_MAX; k++, n++) {
		const struct span_arg *a = &s->args[k];

		if (a->str >= 0)
			attr_str(&kv[n], &av[n], a->attr_key, s->arg_str[a->str]);
		else
			attr_int(&kv[n], &av[n], a->attr_key, a->value);
	}
	for (size_t k = 0; k < n; k++)
		kv_ptrs[k] = &kv[k];
	pb->attributes = kv_ptrs;
	pb->n_attributes = n;

	if (s->exception_type[0]) {
		static const Event event_init = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__EVENT__INIT;
		KeyValue *ekv = &enc->ev_kv[i * 2], **ekv_ptrs = &enc->ev_kv_ptrs[i * 2];
		AnyValue *eav = &enc->ev_av[i * 2];
		Event *ev = &enc->events[i];
		size_t m = 0;

		/* the semantic conventions' exception event */
		attr_str(&ekv[m], &eav[m], "exception.type", s->exception_type), m++;
		if (s->exception_message[0])
			attr_str(&ekv[m], &eav[m], "exception.message", s->exception_message), m++;
		for (size_t k = 0; k < m; k++)
			ekv_ptrs[k] = &ekv[k];
		*ev = event_init;
		ev->name = "exception";
		ev->time_unix_nano = s->end_unix_ns;
		ev->attributes = ekv_ptrs;
		ev->n_attributes = m;
		enc->event_ptrs[i] = ev;
		pb->events = &enc->event_ptrs[i];
		pb->n_events = 1;
	}

	if (s->error) {
		Status *st = &enc->status[i];

		*st = status_init;
		st->code = OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR;
		st->message = (char *)s->status_message;
		pb->status = st;
	}
}

static bool resource_attr_given(const struct otlp_encoder *enc, const char *key)
{
	for (size_t k = 0; k < enc->resource_attr_count; k++) {
		if (strcmp(enc->resource_attrs[2 * k], key) == 0)
			return true;
	}
	return false;
}

/* Resource attributes of one process: what spanprobe detects, then
 * OTEL_RESOURCE_ATTRIBUTES, which wins over a detected key of the same
 * name (keys must be unique). service.name was settled in the config. */
static void encode_resource(struct otlp_encoder *enc, size_t g)
{
	static const Resource resource_init = OPENTELEMETRY__PROTO__RESOURCE__V1__RESOURCE__INIT;
	size_t per = RESOURCE_DETECTED + enc->resource_attr_count, n = 0;
	KeyValue *kv = &enc->res_kv[g * per], **kv_ptrs = &enc->res_kv_ptrs[g * per];
	AnyValue *av = &enc->res_av[g * per];
	struct encode_group *grp = &enc->groups[g];
	const struct process_info *p = grp->proc;
	const char *service = enc->service_name;

	if (!service)
		service = p && p->exe_name ? p->exe_name : "unknown_service";
	attr_str(&kv[n], &av[n], "service.name", service), n++;
	if (enc->host_name)
		attr_str(&kv[n], &av[n], "host.name", enc->host_name), n++;
	attr_int(&kv[n], &av[n], "process.pid", grp->pid), n++;
	if (p && p->parent_pid)
		attr_int(&kv[n], &av[n], "process.parent_pid", p->parent_pid), n++;
	if (p && p->exe_name)
		attr_str(&kv[n], &av[n], "process.executable.name", p->exe_name), n++;
	if (p && p->exe_path)
		attr_str(&kv[n], &av[n], "process.executable.path", p->exe_path), n++;
	if (p && p->command_line)
		attr_str(&kv[n], &av[n], "process.command_line", p->command_line), n++;
	if (p && p->container_id)
		attr_str(&kv[n], &av[n], "container.id", p->container_id), n++;
	if (p && p->k8s_pod_uid)
		attr_str(&kv[n], &av[n], "k8s.pod.uid", p->k8s_pod_uid), n++;
	if (p && p->k8s_pod_name)
		attr_str(&kv[n], &av[n], "k8s.pod.name", p->k8s_pod_name), n++;
	if (p && p->k8s_namespace)
		attr_str(&kv[n], &av[n], "k8s.namespace.name", p->k8s_namespace), n++;
	if (enc->resource_attr_count) {
		size_t kept = 0;

		for (size_t k = 0; k < n; k++) {
			if (!resource_attr_given(enc, kv[k].key))
				kv[kept] = kv[k], av[kept] = av[k], kv[kept].value = &av[kept], kept++;
		}
		n = kept;
		for (size_t k = 0; k < enc->resource_attr_count; k++, n++)
			attr_str(&kv[n], &av[n], enc->resource_attrs[2 * k],
				 enc->resource_attrs[2 * k + 1]);
	}
	for (size_t k = 0; k < n; k++)
		kv_ptrs[k] = &kv[k];
	grp->resource = resource_init;
	grp->resource.attributes = kv_ptrs;
	grp->resource.n_attributes = n;
}

/* Assigns each span its process group; spans of one process usually come
 * in runs, so the last group is checked first. Returns the group count. */
static size_t group_spans(struct otlp_encoder *enc, const struct span *spans, size_t n)
{
	size_t groups = 0, last = 0, g;

	for (size_t i = 0; i < n; i++) {
		uint32_t pid = spans[i].pid;

		if (groups && enc->groups[last].pid == pid) {
			g = last;
		} else {
			for (g = 0; g < groups && enc->groups[g].pid != pid; g++)
				;
			if (g == groups) {
				enc->groups[g].pid = pid;
				enc->groups[g].proc = spans[i].proc;
				enc->groups[g].count = 0;
				groups++;
			}
			last = g;
		}
		if (!enc->groups[g].proc)
			enc->groups[g].proc = spans[i].proc;
		enc->groups[g].count++;
		enc->group_of[i] = (uint32_t)g;
	}
	return groups;
}

UNITTEST int otlp_encoder__build(struct otlp_encoder *enc, const struct span *spans, size_t n,
				 Request *req)
{
	static const Request req_init =
		OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_REQUEST__INIT;
	static const ResourceSpans rs_init = OPENTELEMETRY__PROTO__TRACE__V1__RESOURCE_SPANS__INIT;
	static const ScopeSpans ss_init = OPENTELEMETRY__PROTO__TRACE__V1__SCOPE_SPANS__INIT;
	size_t groups, offset = 0;
	int err;

	*req = req_init;
	if (n == 0)
		return 0;
	err = encoder_reserve(enc, n);
	if (!err)
		err = encoder_reserve_groups(enc, n);
	if (err)
		return err;
	groups = group_spans(enc, spans, n);
	for (size_t g = 0; g < groups; g++) {
		struct encode_group *grp = &enc->groups[g];

		grp->next = offset;
		offset += grp->count;
		encode_resource(enc, g);
		grp->ss = ss_init;
		grp->ss.scope = &enc->scope;
		grp->ss.spans = &enc->span_ptrs[grp->next];
		grp->ss.n_spans = grp->count;
		grp->ss_ptr = &grp->ss;
		grp->rs = rs_init;
		grp->rs.resource = &grp->resource;
		grp->rs.scope_spans = &grp->ss_ptr;
		grp->rs.n_scope_spans = 1;
		enc->rs_ptrs[g] = &grp->rs;
	}
	for (size_t i = 0; i < n; i++) {
		encode_span(enc, i, &spans[i]);
		enc->span_ptrs[enc->groups[enc->group_of[i]].next++] = &enc->spans[i];
	}
	req->resource_spans = enc->rs_ptrs;
	req->n_resource_spans = groups;
	return 0;
}

int otlp_encoder__encode(struct otlp_encoder *enc, const struct span *spans, size_t n,
			 uint8_t **buf, size_t *cap, size_t *len)
{
	Request req;
	size_t size;
	int err;

	*len = 0;
	err = otlp_encoder__build(enc, spans, n, &req);
	if (err)
		return err;
	size = protobuf_c_message_get_packed_size(&req.base);
	if (size > *cap || !*buf) {
		uint8_t *grown = realloc(*buf, size ? size : 1);

		if (!grown)
			return -ENOMEM;
		*buf = grown;
		*cap = size ? size : 1;
	}
	*len = protobuf_c_message_pack(&req.base, *buf);
	return 0;
}
