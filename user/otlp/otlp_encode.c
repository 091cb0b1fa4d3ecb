// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The protobuf wire format written by hand, for the few messages OTLP trace
 * export needs. A span is encoded once, when it is queued; a request is
 * written around those bytes: per process a ResourceSpans header, its
 * Resource and InstrumentationScope, then the spans' bytes copied in. No
 * message tree, no second pass over a span at export time. Strings are not
 * copied until then: span names and files live in the probe table, process
 * facts in the process table, both outliving the queue. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "otlp_encode.h"
#include "otlp_exporter.h"
#include "process_info.h"
#include "span.h"
#include "version.h"

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2 };

#define SPAN_KIND_INTERNAL 1
#define STATUS_CODE_ERROR 2

/* A writer that only counts when p is NULL: one function gives a message's
 * size (for the length in front of it), then writes it. */
struct pbw {
	uint8_t *p;
	size_t n;
};

static inline void put_byte(struct pbw *w, uint8_t b)
{
	if (w->p)
		w->p[w->n] = b;
	w->n++;
}

static inline size_t varint_size(uint64_t v)
{
	size_t n = 1;

	for (; v >= 0x80; v >>= 7)
		n++;
	return n;
}

static inline void put_varint(struct pbw *w, uint64_t v)
{
	for (; v >= 0x80; v >>= 7)
		put_byte(w, (uint8_t)(v | 0x80));
	put_byte(w, (uint8_t)v);
}

static inline void put_tag(struct pbw *w, unsigned field, unsigned wire_type)
{
	put_varint(w, field << 3 | wire_type);
}

static inline void put_raw(struct pbw *w, const void *data, size_t len)
{
	if (w->p && len)
		memcpy(w->p + w->n, data, len);
	w->n += len;
}

/* The tag and length of a length-delimited field of len bytes. */
static inline void put_header(struct pbw *w, unsigned field, size_t len)
{
	put_tag(w, field, WT_LEN);
	put_varint(w, len);
}

static inline void put_bytes(struct pbw *w, unsigned field, const void *data, size_t len)
{
	put_header(w, field, len);
	put_raw(w, data, len);
}

static inline void put_fixed64(struct pbw *w, unsigned field, uint64_t v)
{
	put_tag(w, field, WT_I64);
	for (int i = 0; i < 8; i++, v >>= 8)
		put_byte(w, (uint8_t)v);
}

static inline size_t header_size(unsigned field, size_t len)
{
	return varint_size(field << 3 | WT_LEN) + varint_size(len);
}

/* A KeyValue attribute (common.v1): string, int or bool AnyValue. */
enum value_kind { VALUE_STRING, VALUE_INT, VALUE_BOOL };

struct attr_value {
	enum value_kind kind;
	const char *str;
	size_t str_len;
	int64_t num;
};

static void put_attr(struct pbw *w, unsigned field, const char *key, const struct attr_value *v)
{
	size_t key_len = strlen(key), any, kv;

	switch (v->kind) {
	case VALUE_STRING:
		any = header_size(1, v->str_len) + v->str_len;
		break;
	case VALUE_INT:
		any = 1 + varint_size((uint64_t)v->num);
		break;
	default:
		any = 2;
		break;
	}
	kv = header_size(1, key_len) + key_len + header_size(2, any) + any;
	put_header(w, field, kv);
	put_bytes(w, 1, key, key_len);
	put_header(w, 2, any);
	switch (v->kind) {
	case VALUE_STRING:
		put_bytes(w, 1, v->str, v->str_len);
		break;
	case VALUE_INT:
		put_tag(w, 3, WT_VARINT);
		put_varint(w, (uint64_t)v->num);
		break;
	default:
		put_tag(w, 2, WT_VARINT);
		put_byte(w, v->num ? 1 : 0);
		break;
	}
}

static void put_attr_str(struct pbw *w, unsigned field, const char *key, const char *value,
			 size_t max)
{
	struct attr_value v = { VALUE_STRING, value, strnlen(value, max), 0 };

	put_attr(w, field, key, &v);
}

static void put_attr_int(struct pbw *w, unsigned field, const char *key, int64_t value)
{
	struct attr_value v = { VALUE_INT, NULL, 0, value };

	put_attr(w, field, key, &v);
}

static void put_attr_bool(struct pbw *w, unsigned field, const char *key, bool value)
{
	struct attr_value v = { VALUE_BOOL, NULL, 0, value };

	put_attr(w, field, key, &v);
}

/* Span.Event: the semantic conventions' "exception" event. */
static void event_fields(struct pbw *w, const struct span *s)
{
	put_fixed64(w, 1, s->end_unix_ns);
	put_bytes(w, 2, "exception", 9);
	put_attr_str(w, 3, "exception.type", s->exception_type, sizeof(s->exception_type));
	if (s->exception_message[0])
		put_attr_str(w, 3, "exception.message", s->exception_message,
			     sizeof(s->exception_message));
}

static void status_fields(struct pbw *w, const struct span *s)
{
	size_t len = strnlen(s->status_message, sizeof(s->status_message));

	if (len)
		put_bytes(w, 2, s->status_message, len);
	put_tag(w, 3, WT_VARINT);
	put_varint(w, STATUS_CODE_ERROR);
}

static void put_id(struct pbw *w, unsigned field, uint64_t id)
{
	uint8_t be[8];

	for (int i = 7; i >= 0; i--, id >>= 8)
		be[i] = (uint8_t)id;
	put_bytes(w, field, be, 8);
}

/* trace.v1.Span: ids big-endian, a root's parent id left out. */
static void span_fields(struct pbw *w, const struct span *s)
{
	const char *name = s->name ? s->name : "";
	struct pbw sub = { 0 };

	put_bytes(w, 1, s->trace_id, sizeof(s->trace_id));
	put_id(w, 2, s->span_id);
	if (s->parent_span_id)
		put_id(w, 4, s->parent_span_id);
	put_bytes(w, 5, name, strlen(name));
	put_tag(w, 6, WT_VARINT);
	put_varint(w, SPAN_KIND_INTERNAL);
	put_fixed64(w, 7, s->start_unix_ns);
	put_fixed64(w, 8, s->end_unix_ns);
	if (s->name)
		put_attr_str(w, 9, "code.function.name", s->name, SIZE_MAX);
	if (s->code_file) {
		put_attr_str(w, 9, "code.file.path", s->code_file, SIZE_MAX);
		if (s->code_line)
			put_attr_int(w, 9, "code.line.number", s->code_line);
	}
	put_attr_int(w, 9, "thread.id", s->tid);
	if (s->has_ret)
		put_attr_int(w, 9, "spanprobe.return_value", s->ret);
	if (s->truncated) {
		put_attr_bool(w, 9, "spanprobe.truncated", true);
		if (s->lost_reason)
			put_attr_str(w, 9, "spanprobe.lost_reason", s->lost_reason, SIZE_MAX);
	}
	if (s->exception_type[0]) {
		event_fields(&sub, s);
		put_header(w, 11, sub.n);
		event_fields(w, s);
	}
	if (s->error) {
		sub.n = 0;
		status_fields(&sub, s);
		put_header(w, 15, sub.n);
		status_fields(w, s);
	}
}

static int grow(void *pp, size_t *cap, size_t need, size_t size, size_t first)
{
	size_t n = *cap ? *cap : first;
	void *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	p = realloc(*(void **)pp, n * size);
	if (!p)
		return -ENOMEM;
	*(void **)pp = p;
	*cap = n;
	return 0;
}

int otlp_batch__add(struct otlp_batch *b, const struct span *s)
{
	struct pbw size = { 0 }, w;
	size_t body, framed, spans_cap = b->spans_cap;

	span_fields(&size, s);
	body = size.n;
	framed = header_size(2, body) + body; /* ScopeSpans.spans */
	if (b->len + framed > UINT32_MAX)
		return -ENOMEM;
	if (grow(&b->bytes, &b->cap, b->len + framed, 1, 16384) ||
	    grow(&b->spans, &spans_cap, b->n + 1, sizeof(*b->spans), 64))
		return -ENOMEM;
	b->spans_cap = (uint32_t)spans_cap;
	w.p = b->bytes + b->len;
	w.n = 0;
	put_header(&w, 2, body);
	span_fields(&w, s);
	b->spans[b->n++] = (struct otlp_batch_span){ s->pid, (uint32_t)b->len, (uint32_t)framed,
						     s->proc };
	b->len += framed;
	return 0;
}

void otlp_batch__reset(struct otlp_batch *b)
{
	b->len = 0;
	b->n = 0;
	b->next = NULL;
}

void otlp_batch__free(struct otlp_batch *b)
{
	if (!b)
		return;
	free(b->bytes);
	free(b->spans);
	memset(b, 0, sizeof(*b));
}

/* One traced process in a request. */
struct encode_group {
	uint32_t pid;
	const struct process_info *proc;
	size_t span_bytes;
	size_t res_offset, res_len; /* its Resource message in the encoder's res */
	size_t cursor;              /* where its next span goes in the body */
};

struct otlp_encoder {
	const char *service_name;
	const char *host_name;
	char *const *resource_attrs;
	size_t resource_attr_count;
	uint8_t *scope; /* the InstrumentationScope message, the same in every request */
	size_t scope_len;

	struct encode_group *groups;
	size_t group_cap;
	uint32_t *group_of; /* per span of the request */
	size_t group_of_cap;
	uint8_t *res;
	size_t res_cap;
	struct otlp_batch scratch; /* otlp_encoder__encode's */
};

static void scope_fields(struct pbw *w)
{
	put_bytes(w, 1, "spanprobe", 9);
	put_bytes(w, 2, SPANPROBE_VERSION, strlen(SPANPROBE_VERSION));
}

int otlp_encoder__new(const struct otlp_config *cfg, struct otlp_encoder **out)
{
	struct otlp_encoder *enc = calloc(1, sizeof(*enc));
	struct pbw w = { 0 };

	*out = NULL;
	if (!enc)
		return -ENOMEM;
	enc->service_name = cfg->service_name;
	enc->host_name = cfg->host_name;
	enc->resource_attrs = cfg->resource_attrs;
	for (char *const *kv = cfg->resource_attrs; kv && *kv; kv += 2)
		enc->resource_attr_count++;
	scope_fields(&w);
	enc->scope = malloc(w.n);
	if (!enc->scope) {
		free(enc);
		return -ENOMEM;
	}
	enc->scope_len = w.n;
	w.p = enc->scope;
	w.n = 0;
	scope_fields(&w);
	*out = enc;
	return 0;
}

void otlp_encoder__free(struct otlp_encoder *enc)
{
	if (!enc)
		return;
	free(enc->scope);
	free(enc->groups);
	free(enc->group_of);
	free(enc->res);
	otlp_batch__free(&enc->scratch);
	free(enc);
}

static bool resource_attr_given(const struct otlp_encoder *enc, const char *key)
{
	for (size_t k = 0; k < enc->resource_attr_count; k++) {
		if (strcmp(enc->resource_attrs[2 * k], key) == 0)
			return true;
	}
	return false;
}

/* A detected resource attribute, unless OTEL_RESOURCE_ATTRIBUTES has the
 * key: that one wins (keys must be unique). */
static void put_detected(struct pbw *w, const struct otlp_encoder *enc, const char *key,
			 const char *value)
{
	if (value && !resource_attr_given(enc, key))
		put_attr_str(w, 1, key, value, SIZE_MAX);
}

/* Resource attributes of one process: what spanprobe detects, then
 * OTEL_RESOURCE_ATTRIBUTES. service.name was settled in the config. */
static void resource_fields(struct pbw *w, const struct otlp_encoder *enc,
			    const struct encode_group *grp)
{
	const struct process_info *p = grp->proc;
	const char *service = enc->service_name;

	if (!service)
		service = p && p->exe_name ? p->exe_name : "unknown_service";
	put_detected(w, enc, "service.name", service);
	put_detected(w, enc, "host.name", enc->host_name);
	if (!resource_attr_given(enc, "process.pid"))
		put_attr_int(w, 1, "process.pid", grp->pid);
	if (p) {
		put_detected(w, enc, "process.executable.name", p->exe_name);
		put_detected(w, enc, "process.executable.path", p->exe_path);
		put_detected(w, enc, "process.command_line", p->command_line);
		put_detected(w, enc, "container.id", p->container_id);
		put_detected(w, enc, "k8s.pod.uid", p->k8s_pod_uid);
		put_detected(w, enc, "k8s.pod.name", p->k8s_pod_name);
		put_detected(w, enc, "k8s.namespace.name", p->k8s_namespace);
	}
	for (size_t k = 0; k < enc->resource_attr_count; k++)
		put_attr_str(w, 1, enc->resource_attrs[2 * k], enc->resource_attrs[2 * k + 1],
			     SIZE_MAX);
}

/* Assigns each span its process group; spans of one process usually come
 * in runs, so the last group is checked first. Returns the group count,
 * or 0 with -ENOMEM in *err. */
static size_t group_spans(struct otlp_encoder *enc, const struct otlp_batch *first, int *err)
{
	size_t groups = 0, last = 0, k = 0, total = 0, g;

	for (const struct otlp_batch *b = first; b; b = b->next)
		total += b->n;
	*err = grow(&enc->group_of, &enc->group_of_cap, total, sizeof(uint32_t), 512);
	for (const struct otlp_batch *b = first; b && !*err; b = b->next) {
		for (uint32_t i = 0; i < b->n; i++, k++) {
			const struct otlp_batch_span *sp = &b->spans[i];

			if (groups && enc->groups[last].pid == sp->pid) {
				g = last;
			} else {
				for (g = 0; g < groups && enc->groups[g].pid != sp->pid; g++)
					;
				if (g == groups) {
					*err = grow(&enc->groups, &enc->group_cap, groups + 1,
						    sizeof(*enc->groups), 8);
					if (*err)
						return 0;
					enc->groups[g] = (struct encode_group){ .pid = sp->pid,
										.proc = sp->proc };
					groups++;
				}
				last = g;
			}
			if (!enc->groups[g].proc)
				enc->groups[g].proc = sp->proc;
			enc->groups[g].span_bytes += sp->len;
			enc->group_of[k] = (uint32_t)g;
		}
	}
	return *err ? 0 : groups;
}

/* Each group's Resource message, into enc->res. */
static int encode_resources(struct otlp_encoder *enc, size_t groups)
{
	size_t total = 0;
	struct pbw w = { 0 };
	int err;

	for (size_t g = 0; g < groups; g++) {
		w.n = 0;
		resource_fields(&w, enc, &enc->groups[g]);
		enc->groups[g].res_offset = total;
		enc->groups[g].res_len = w.n;
		total += w.n;
	}
	err = grow(&enc->res, &enc->res_cap, total ? total : 1, 1, 4096);
	if (err)
		return err;
	for (size_t g = 0; g < groups; g++) {
		w.p = enc->res + enc->groups[g].res_offset;
		w.n = 0;
		resource_fields(&w, enc, &enc->groups[g]);
	}
	return 0;
}

static size_t scope_spans_size(const struct otlp_encoder *enc, const struct encode_group *grp)
{
	return header_size(1, enc->scope_len) + enc->scope_len + grp->span_bytes;
}

static size_t resource_spans_size(const struct otlp_encoder *enc, const struct encode_group *grp)
{
	size_t ss = scope_spans_size(enc, grp);

	return header_size(1, grp->res_len) + grp->res_len + header_size(2, ss) + ss;
}

static int request_at(struct otlp_encoder *enc, const struct otlp_batch *first, size_t headroom,
		      uint8_t **buf, size_t *cap, size_t *len)
{
	size_t groups, total = 0, k = 0;
	struct pbw w;
	int err;

	*len = 0;
	groups = group_spans(enc, first, &err);
	if (err)
		return err;
	err = encode_resources(enc, groups);
	if (err)
		return err;
	for (size_t g = 0; g < groups; g++) {
		size_t rs = resource_spans_size(enc, &enc->groups[g]);

		total += header_size(1, rs) + rs;
	}
	if (!*buf || *cap < headroom + total) {
		uint8_t *grown = realloc(*buf, headroom + total ? headroom + total : 1);

		if (!grown)
			return -ENOMEM;
		*buf = grown;
		*cap = headroom + total ? headroom + total : 1;
	}
	/* The headers of every group, each followed by room for its spans. */
	w.p = *buf + headroom;
	w.n = 0;
	for (size_t g = 0; g < groups; g++) {
		struct encode_group *grp = &enc->groups[g];

		put_header(&w, 1, resource_spans_size(enc, grp));
		put_bytes(&w, 1, enc->res + grp->res_offset, grp->res_len);
		put_header(&w, 2, scope_spans_size(enc, grp));
		put_bytes(&w, 1, enc->scope, enc->scope_len);
		grp->cursor = w.n;
		w.n += grp->span_bytes;
	}
	/* The spans' bytes, each into its process's room. */
	for (const struct otlp_batch *b = first; b; b = b->next) {
		if (groups == 1) {
			memcpy(w.p + enc->groups[0].cursor, b->bytes, b->len);
			enc->groups[0].cursor += b->len;
			continue;
		}
		for (uint32_t i = 0; i < b->n; i++, k++) {
			const struct otlp_batch_span *sp = &b->spans[i];
			struct encode_group *grp = &enc->groups[enc->group_of[k]];

			memcpy(w.p + grp->cursor, b->bytes + sp->offset, sp->len);
			grp->cursor += sp->len;
		}
	}
	*len = total;
	return 0;
}

int otlp_encoder__request(struct otlp_encoder *enc, const struct otlp_batch *first,
			  uint8_t **buf, size_t *cap, size_t *len)
{
	return request_at(enc, first, OTLP_BODY_HEADROOM, buf, cap, len);
}

int otlp_encoder__encode(struct otlp_encoder *enc, const struct span *spans, size_t n,
			 uint8_t **buf, size_t *cap, size_t *len)
{
	int err;

	otlp_batch__reset(&enc->scratch);
	for (size_t i = 0; i < n; i++) {
		err = otlp_batch__add(&enc->scratch, &spans[i]);
		if (err)
			return err;
	}
	return request_at(enc, &enc->scratch, 0, buf, cap, len);
}
