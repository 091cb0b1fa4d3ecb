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
/* function, file, line, thread, return, truncated, reason, captured arguments */
#define SPAN_ATTRS_MAX (7 + SPAN_ARG_MAX)
#define RESOURCE_DETECTED 12 /* service, host, pid, parent pid, exe name, exe path, cmdline,
			      * container, k8s pod uid, pod name, namespace, container name */

/* Writing is cursor style (each put_ returns the byte after what it
 * wrote); sizes are worked out beforehand by the matching _size
 * functions, so a message's length can go in front of it. */
static inline size_t varint_size(uint64_t v)
{
	size_t n = 1;

	for (; v >= 0x80; v >>= 7)
		n++;
	return n;
}

static inline uint8_t *put_varint(uint8_t *p, uint64_t v)
{
	for (; v >= 0x80; v >>= 7)
		*p++ = (uint8_t)(v | 0x80);
	*p++ = (uint8_t)v;
	return p;
}

/* Every field number here is below 16: its tag is one byte. */
static inline uint8_t *put_tag(uint8_t *p, unsigned field, unsigned wire_type)
{
	*p++ = (uint8_t)(field << 3 | wire_type);
	return p;
}

/* The tag and length of a length-delimited field of len bytes. */
static inline size_t header_size(size_t len)
{
	return 1 + varint_size(len);
}

static inline uint8_t *put_header(uint8_t *p, unsigned field, size_t len)
{
	return put_varint(put_tag(p, field, WT_LEN), len);
}

static inline uint8_t *put_bytes(uint8_t *p, unsigned field, const void *data, size_t len)
{
	p = put_header(p, field, len);
	memcpy(p, data, len);
	return p + len;
}

static inline uint8_t *put_fixed64(uint8_t *p, unsigned field, uint64_t v)
{
	p = put_tag(p, field, WT_I64);
	for (int i = 0; i < 8; i++, v >>= 8)
		*p++ = (uint8_t)v;
	return p;
}

/* A KeyValue attribute (common.v1): string, int or bool AnyValue. */
enum value_kind { VALUE_STRING, VALUE_INT, VALUE_BOOL };

struct attr {
	const char *key;
	size_t key_len;
	enum value_kind kind;
	const char *str;
	size_t str_len;
	int64_t num;
};

#define ATTR_STR(k, s, n) ((struct attr){ k, sizeof(k) - 1, VALUE_STRING, s, n, 0 })
#define ATTR_INT(k, v) ((struct attr){ k, sizeof(k) - 1, VALUE_INT, NULL, 0, v })
#define ATTR_BOOL(k, v) ((struct attr){ k, sizeof(k) - 1, VALUE_BOOL, NULL, 0, v })

static inline size_t any_value_size(const struct attr *a)
{
	switch (a->kind) {
	case VALUE_STRING:
		return header_size(a->str_len) + a->str_len;
	case VALUE_INT:
		return 1 + varint_size((uint64_t)a->num);
	default:
		return 2;
	}
}

static inline size_t key_value_size(const struct attr *a)
{
	size_t any = any_value_size(a);

	return header_size(a->key_len) + a->key_len + header_size(any) + any;
}

/* The attribute as a field (its tag, length and KeyValue). */
static inline size_t attr_field_size(const struct attr *a)
{
	size_t kv = key_value_size(a);

	return header_size(kv) + kv;
}

static uint8_t *put_attr(uint8_t *p, unsigned field, const struct attr *a)
{
	p = put_header(p, field, key_value_size(a));
	p = put_bytes(p, 1, a->key, a->key_len);
	p = put_header(p, 2, any_value_size(a));
	switch (a->kind) {
	case VALUE_STRING:
		return put_bytes(p, 1, a->str, a->str_len);
	case VALUE_INT:
		return put_varint(put_tag(p, 3, WT_VARINT), (uint64_t)a->num);
	default:
		p = put_tag(p, 2, WT_VARINT);
		*p++ = a->num ? 1 : 0;
		return p;
	}
}

static size_t attrs_size(const struct attr *a, size_t n)
{
	size_t size = 0;

	for (size_t i = 0; i < n; i++)
		size += attr_field_size(&a[i]);
	return size;
}

static uint8_t *put_attrs(uint8_t *p, unsigned field, const struct attr *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p = put_attr(p, field, &a[i]);
	return p;
}

/* Span.Event: the semantic conventions' "exception" event. */
static size_t exception_attrs(const struct span *s, struct attr *a)
{
	size_t n = 0;

	a[n++] = ATTR_STR("exception.type", s->exception_type,
			  strnlen(s->exception_type, sizeof(s->exception_type)));
	if (s->exception_message[0])
		a[n++] = ATTR_STR("exception.message", s->exception_message,
				  strnlen(s->exception_message, sizeof(s->exception_message)));
	return n;
}

static size_t event_size(const struct attr *a, size_t n)
{
	return 9 + header_size(9) + 9 + attrs_size(a, n);
}

static uint8_t *put_event(uint8_t *p, const struct span *s, const struct attr *a, size_t n)
{
	p = put_header(p, 11, event_size(a, n));
	p = put_fixed64(p, 1, s->end_unix_ns);
	p = put_bytes(p, 2, "exception", 9);
	return put_attrs(p, 3, a, n);
}

static size_t status_size(size_t message_len)
{
	return (message_len ? header_size(message_len) + message_len : 0) + 2;
}

static uint8_t *put_status(uint8_t *p, const struct span *s, size_t message_len)
{
	p = put_header(p, 15, status_size(message_len));
	if (message_len)
		p = put_bytes(p, 2, s->status_message, message_len);
	return put_varint(put_tag(p, 3, WT_VARINT), STATUS_CODE_ERROR);
}

static uint8_t *put_id(uint8_t *p, unsigned field, uint64_t id)
{
	p = put_header(p, field, 8);
	for (int i = 7; i >= 0; i--, id >>= 8)
		p[i] = (uint8_t)id;
	return p + 8;
}

/* The attributes of a span. */
static size_t span_attrs(const struct span *s, size_t name_len, struct attr *a)
{
	size_t n = 0;

	if (s->name)
		a[n++] = ATTR_STR("code.function.name", s->name, name_len);
	if (s->code_file) {
		a[n++] = ATTR_STR("code.file.path", s->code_file, strlen(s->code_file));
		if (s->code_line)
			a[n++] = ATTR_INT("code.line.number", s->code_line);
	}
	a[n++] = ATTR_INT("thread.id", s->tid);
	if (s->has_ret)
		a[n++] = ATTR_INT("spanprobe.return_value", s->ret);
	if (s->truncated) {
		a[n++] = ATTR_BOOL("spanprobe.truncated", true);
		if (s->lost_reason)
			a[n++] = ATTR_STR("spanprobe.lost_reason", s->lost_reason,
					  strlen(s->lost_reason));
	}
	/* captured arguments: strings as their text, integers as ints */
	for (size_t k = 0; k < s->nargs && k < SPAN_ARG_MAX; k++) {
		const struct span_arg *arg = &s->args[k];
		size_t key_len = strlen(arg->attr_key);

		if (arg->str >= 0)
			a[n++] = (struct attr){ arg->attr_key, key_len, VALUE_STRING,
						s->arg_str[arg->str], strlen(s->arg_str[arg->str]), 0 };
		else
			a[n++] = (struct attr){ arg->attr_key, key_len, VALUE_INT, NULL, 0,
						arg->value };
	}
	return n;
}

/* trace.v1.Span, framed as a ScopeSpans.spans field: ids big-endian, a
 * root's parent id left out. Returns the end, or NULL when it would not
 * fit in room bytes. */
static uint8_t *put_span(uint8_t *p, size_t room, const struct span *s)
{
	struct attr attrs[SPAN_ATTRS_MAX], exc[2];
	const char *name = s->name ? s->name : "";
	size_t name_len = strlen(name), n_attrs = span_attrs(s, name_len, attrs), n_exc = 0;
	size_t status_len = 0, size;

	size = 2 + 16 + 2 + 8 + (s->parent_span_id ? 2 + 8 : 0) + header_size(name_len) +
	       name_len + 2 + 9 + 9 + attrs_size(attrs, n_attrs);
	if (s->exception_type[0]) {
		n_exc = exception_attrs(s, exc);
		size += header_size(event_size(exc, n_exc)) + event_size(exc, n_exc);
	}
	if (s->error) {
		status_len = strnlen(s->status_message, sizeof(s->status_message));
		size += header_size(status_size(status_len)) + status_size(status_len);
	}
	if (header_size(size) + size > room)
		return NULL;
	p = put_header(p, 2, size);
	p = put_bytes(p, 1, s->trace_id, sizeof(s->trace_id));
	p = put_id(p, 2, s->span_id);
	if (s->parent_span_id)
		p = put_id(p, 4, s->parent_span_id);
	p = put_bytes(p, 5, name, name_len);
	p = put_varint(put_tag(p, 6, WT_VARINT), SPAN_KIND_INTERNAL);
	p = put_fixed64(p, 7, s->start_unix_ns);
	p = put_fixed64(p, 8, s->end_unix_ns);
	p = put_attrs(p, 9, attrs, n_attrs);
	if (n_exc)
		p = put_event(p, s, exc, n_exc);
	if (s->error)
		p = put_status(p, s, status_len);
	return p;
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
	size_t spans_cap = b->spans_cap, room = 1024;
	uint8_t *end;

	if (grow(&b->spans, &spans_cap, b->n + 1, sizeof(*b->spans), 64))
		return -ENOMEM;
	b->spans_cap = (uint32_t)spans_cap;
	/* Most spans fit in 1 KiB: try that much room first. */
	for (;;) {
		if (b->len + room > UINT32_MAX || grow(&b->bytes, &b->cap, b->len + room, 1, 16384))
			return -ENOMEM;
		end = put_span(b->bytes + b->len, b->cap - b->len, s);
		if (end)
			break;
		room = (b->cap - b->len) * 2;
	}
	b->spans[b->n++] = (struct otlp_batch_span){ s->pid, (uint32_t)b->len,
						     (uint32_t)(end - (b->bytes + b->len)), s->proc };
	b->len = (size_t)(end - b->bytes);
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

int otlp_encoder__new(const struct otlp_config *cfg, struct otlp_encoder **out)
{
	struct otlp_encoder *enc = calloc(1, sizeof(*enc));
	size_t version_len = strlen(SPANPROBE_VERSION);
	uint8_t *p;

	*out = NULL;
	if (!enc)
		return -ENOMEM;
	enc->service_name = cfg->service_name;
	enc->host_name = cfg->host_name;
	enc->resource_attrs = cfg->resource_attrs;
	for (char *const *kv = cfg->resource_attrs; kv && *kv; kv += 2)
		enc->resource_attr_count++;
	/* InstrumentationScope: name, version */
	enc->scope_len = header_size(9) + 9 + header_size(version_len) + version_len;
	enc->scope = malloc(enc->scope_len);
	if (!enc->scope) {
		free(enc);
		return -ENOMEM;
	}
	p = put_bytes(enc->scope, 1, "spanprobe", 9);
	put_bytes(p, 2, SPANPROBE_VERSION, version_len);
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
static void add_detected(struct attr *a, size_t *n, const struct otlp_encoder *enc,
			 const char *key, const char *value)
{
	if (value && !resource_attr_given(enc, key))
		a[(*n)++] = (struct attr){ key, strlen(key), VALUE_STRING, value, strlen(value), 0 };
}

/* Resource attributes of one process (at most RESOURCE_DETECTED plus the
 * configured ones): what spanprobe detects, then OTEL_RESOURCE_ATTRIBUTES.
 * service.name was settled in the config. */
static size_t resource_attrs(const struct otlp_encoder *enc, const struct encode_group *grp,
			     struct attr *a)
{
	const struct process_info *p = grp->proc;
	const char *service = enc->service_name;
	size_t n = 0;

	if (!service)
		service = p && p->exe_name ? p->exe_name : "unknown_service";
	add_detected(a, &n, enc, "service.name", service);
	add_detected(a, &n, enc, "host.name", enc->host_name);
	if (!resource_attr_given(enc, "process.pid"))
		a[n++] = ATTR_INT("process.pid", grp->pid);
	if (p && p->parent_pid && !resource_attr_given(enc, "process.parent_pid"))
		a[n++] = ATTR_INT("process.parent_pid", p->parent_pid);
	if (p) {
		add_detected(a, &n, enc, "process.executable.name", p->exe_name);
		add_detected(a, &n, enc, "process.executable.path", p->exe_path);
		add_detected(a, &n, enc, "process.command_line", p->command_line);
		add_detected(a, &n, enc, "container.id", p->container_id);
		add_detected(a, &n, enc, "k8s.pod.uid", p->k8s_pod_uid);
		add_detected(a, &n, enc, "k8s.pod.name", p->k8s_pod_name);
		add_detected(a, &n, enc, "k8s.namespace.name", p->k8s_namespace);
		add_detected(a, &n, enc, "k8s.container.name", p->k8s_container_name);
	}
	for (size_t k = 0; k < enc->resource_attr_count; k++) {
		const char *key = enc->resource_attrs[2 * k], *value = enc->resource_attrs[2 * k + 1];

		a[n++] = (struct attr){ key, strlen(key), VALUE_STRING, value, strlen(value), 0 };
	}
	return n;
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
	size_t total = 0, n;
	struct attr *a;
	int err;

	a = malloc((RESOURCE_DETECTED + enc->resource_attr_count) * sizeof(*a));
	if (!a)
		return -ENOMEM;
	for (size_t g = 0; g < groups; g++) {
		n = resource_attrs(enc, &enc->groups[g], a);
		enc->groups[g].res_offset = total;
		enc->groups[g].res_len = attrs_size(a, n);
		total += enc->groups[g].res_len;
	}
	err = grow(&enc->res, &enc->res_cap, total ? total : 1, 1, 4096);
	for (size_t g = 0; g < groups && !err; g++) {
		n = resource_attrs(enc, &enc->groups[g], a);
		put_attrs(enc->res + enc->groups[g].res_offset, 1, a, n);
	}
	free(a);
	return err;
}

static size_t scope_spans_size(const struct otlp_encoder *enc, const struct encode_group *grp)
{
	return header_size(enc->scope_len) + enc->scope_len + grp->span_bytes;
}

static size_t resource_spans_size(const struct otlp_encoder *enc, const struct encode_group *grp)
{
	size_t ss = scope_spans_size(enc, grp);

	return header_size(grp->res_len) + grp->res_len + header_size(ss) + ss;
}

static int request_at(struct otlp_encoder *enc, const struct otlp_batch *first, size_t headroom,
		      uint8_t **buf, size_t *cap, size_t *len)
{
	size_t groups, total = 0, k = 0;
	uint8_t *body, *p;
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

		total += header_size(rs) + rs;
	}
	if (!*buf || *cap < headroom + total) {
		uint8_t *grown = realloc(*buf, headroom + total ? headroom + total : 1);

		if (!grown)
			return -ENOMEM;
		*buf = grown;
		*cap = headroom + total ? headroom + total : 1;
	}
	/* The headers of every group, each followed by room for its spans. */
	body = p = *buf + headroom;
	for (size_t g = 0; g < groups; g++) {
		struct encode_group *grp = &enc->groups[g];

		p = put_header(p, 1, resource_spans_size(enc, grp));
		p = put_bytes(p, 1, enc->res + grp->res_offset, grp->res_len);
		p = put_header(p, 2, scope_spans_size(enc, grp));
		p = put_bytes(p, 1, enc->scope, enc->scope_len);
		grp->cursor = (size_t)(p - body);
		p += grp->span_bytes;
	}
	/* The spans' bytes, each into its process's room. */
	for (const struct otlp_batch *b = first; b; b = b->next) {
		if (groups == 1) {
			memcpy(body + enc->groups[0].cursor, b->bytes, b->len);
			enc->groups[0].cursor += b->len;
			continue;
		}
		for (uint32_t i = 0; i < b->n; i++, k++) {
			const struct otlp_batch_span *sp = &b->spans[i];
			struct encode_group *grp = &enc->groups[enc->group_of[k]];

			memcpy(body + grp->cursor, b->bytes + sp->offset, sp->len);
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
