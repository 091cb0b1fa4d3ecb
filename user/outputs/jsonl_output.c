// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* OTLP/JSON rules: hex ids, lowerCamelCase keys, 64-bit integers as decimal
 * strings, enums as integers. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl_output.h"
#include "process_info.h"
#include "span.h"

struct json_buf {
	char *buf;
	size_t len, used; /* used may exceed len: the size needed */
};

static void put_char(struct json_buf *j, char c)
{
	if (j->used + 1 < j->len)
		j->buf[j->used] = c;
	j->used++;
}

/* n bytes at once (the reader formats every span: a byte at a time cost
 * it about half its time per span); what does not fit is counted. */
static void put_bytes(struct json_buf *j, const char *s, size_t n)
{
	if (j->used + n < j->len) {
		memcpy(j->buf + j->used, s, n);
		j->used += n;
		return;
	}
	for (size_t i = 0; i < n; i++)
		put_char(j, s[i]);
}

static void put_raw(struct json_buf *j, const char *s)
{
	put_bytes(j, s, strlen(s));
}

/* A decimal integer, without printf's parsing of a format. */
static void put_u64(struct json_buf *j, uint64_t v)
{
	char digits[20];
	size_t n = sizeof(digits);

	do {
		digits[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put_bytes(j, digits + n, sizeof(digits) - n);
}

static void put_i64(struct json_buf *j, int64_t v)
{
	if (v < 0) {
		put_char(j, '-');
		put_u64(j, -(uint64_t)v);
		return;
	}
	put_u64(j, (uint64_t)v);
}

/* Formats straight into the buffer; like put_char, counts what would not fit. */
static void put_fmt(struct json_buf *j, const char *fmt, ...)
{
	size_t room = j->used < j->len ? j->len - j->used : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? j->buf + j->used : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		j->used += (size_t)n;
}

/* A JSON string. Bytes that are not valid UTF-8 become U+FFFD so the line
 * stays valid JSON whatever a symbol name holds. */
static void put_string(struct json_buf *j, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	put_char(j, '"');
	while (*p) {
		size_t run = 0;

		/* printable ASCII that needs no escape, in one copy */
		while (p[run] >= 0x20 && p[run] < 0x7f && p[run] != '"' && p[run] != '\\')
			run++;
		put_bytes(j, (const char *)p, run);
		p += run;
		if (!*p)
			break;
		unsigned char c = *p;
		int extra = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2
			  : (c & 0xf8) == 0xf0 ? 3 : -1;
		bool valid = extra >= 0 && !(extra == 1 && c < 0xc2);

		for (int k = 1; valid && k <= extra; k++)
			if ((p[k] & 0xc0) != 0x80)
				valid = false;
		if (!valid) {
			put_raw(j, "\\ufffd");
			p++;
			continue;
		}
		if (extra) {
			for (int k = 0; k <= extra; k++)
				put_char(j, (char)p[k]);
			p += extra + 1;
			continue;
		}
		switch (c) {
		case '"':  put_raw(j, "\\\""); break;
		case '\\': put_raw(j, "\\\\"); break;
		case '\n': put_raw(j, "\\n"); break;
		case '\r': put_raw(j, "\\r"); break;
		case '\t': put_raw(j, "\\t"); break;
		default:
			if (c < 0x20 || c == 0x7f)
				put_fmt(j, "\\u%04x", c);
			else
				put_char(j, (char)c);
		}
		p++;
	}
	put_char(j, '"');
}

static void put_attr_str(struct json_buf *j, bool *first, const char *key, const char *value)
{
	put_raw(j, *first ? "{\"key\":" : ",{\"key\":");
	*first = false;
	put_string(j, key);
	put_raw(j, ",\"value\":{\"stringValue\":");
	put_string(j, value);
	put_raw(j, "}}");
}

static void put_attr_int(struct json_buf *j, bool *first, const char *key, int64_t value)
{
	put_raw(j, *first ? "{\"key\":" : ",{\"key\":");
	*first = false;
	put_string(j, key);
	put_raw(j, ",\"value\":{\"intValue\":\"");
	put_i64(j, value);
	put_raw(j, "\"}}");
}

static void put_attr_bool(struct json_buf *j, bool *first, const char *key, bool value)
{
	put_raw(j, *first ? "{\"key\":" : ",{\"key\":");
	*first = false;
	put_string(j, key);
	put_fmt(j, ",\"value\":{\"boolValue\":%s}}", value ? "true" : "false");
}

size_t span__to_json(const struct span *s, char *buf, size_t len)
{
	struct json_buf j = { .buf = buf, .len = len };
	char trace_hex[33], id_hex[17];
	bool first = true;

	span__trace_id_hex(s, trace_hex);
	put_raw(&j, "{\"traceId\":\"");
	put_raw(&j, trace_hex);
	span__span_id_hex(s->span_id, id_hex);
	put_raw(&j, "\",\"spanId\":\"");
	put_raw(&j, id_hex);
	put_raw(&j, "\",\"parentSpanId\":\"");
	if (s->parent_span_id) {
		span__span_id_hex(s->parent_span_id, id_hex);
		put_raw(&j, id_hex);
	}
	put_raw(&j, "\",\"name\":");
	put_string(&j, s->name);
	/* SPAN_KIND_INTERNAL = 1 */
	put_raw(&j, ",\"kind\":1,\"startTimeUnixNano\":\"");
	put_u64(&j, s->start_unix_ns);
	put_raw(&j, "\",\"endTimeUnixNano\":\"");
	put_u64(&j, s->end_unix_ns);
	put_char(&j, '"');
	put_raw(&j, ",\"attributes\":[");
	put_attr_int(&j, &first, "process.pid", s->pid);
	put_attr_int(&j, &first, "thread.id", s->tid);
	put_attr_str(&j, &first, "code.function.name", s->name);
	if (s->code_file)
		put_attr_str(&j, &first, "code.file.path", s->code_file);
	if (s->code_line)
		put_attr_int(&j, &first, "code.line.number", s->code_line);
	if (s->has_ret) {
		if (s->ret_signed || s->ret >= 0)
			put_attr_int(&j, &first, "spanprobe.return_value", s->ret);
		else { /* an unsigned value above INT64_MAX: keep it exact as a string */
			char digits[24];

			snprintf(digits, sizeof(digits), "%" PRIu64, (uint64_t)s->ret);
			put_attr_str(&j, &first, "spanprobe.return_value", digits);
		}
	}
	if (s->proc && s->proc->parent_pid)
		put_attr_int(&j, &first, "process.parent_pid", s->proc->parent_pid);
	if (s->proc && s->proc->exe_name)
		put_attr_str(&j, &first, "process.executable.name", s->proc->exe_name);
	if (s->proc && s->proc->container_id)
		put_attr_str(&j, &first, "container.id", s->proc->container_id);
	if (s->proc && s->proc->k8s_pod_uid)
		put_attr_str(&j, &first, "k8s.pod.uid", s->proc->k8s_pod_uid);
	if (s->proc && s->proc->k8s_pod_name)
		put_attr_str(&j, &first, "k8s.pod.name", s->proc->k8s_pod_name);
	if (s->proc && s->proc->k8s_namespace)
		put_attr_str(&j, &first, "k8s.namespace.name", s->proc->k8s_namespace);
	if (s->proc && s->proc->k8s_container_name)
		put_attr_str(&j, &first, "k8s.container.name", s->proc->k8s_container_name);
	if (s->truncated) {
		put_attr_bool(&j, &first, "spanprobe.truncated", true);
		put_attr_str(&j, &first, "spanprobe.lost_reason", s->lost_reason);
	}
	for (size_t k = 0; k < s->nargs && k < SPAN_ARG_MAX; k++) {
		const struct span_arg *a = &s->args[k];

		if (a->str >= 0)
			put_attr_str(&j, &first, a->attr_key, s->arg_str[a->str]);
		else
			put_attr_int(&j, &first, a->attr_key, a->value);
	}
	put_raw(&j, "]");
	if (s->exception_type[0]) {
		bool efirst = true;

		put_raw(&j, ",\"events\":[{\"timeUnixNano\":\"");
		put_fmt(&j, "%" PRIu64, s->end_unix_ns);
		put_raw(&j, "\",\"name\":\"exception\",\"attributes\":[");
		put_attr_str(&j, &efirst, "exception.type", s->exception_type);
		if (s->exception_message[0])
			put_attr_str(&j, &efirst, "exception.message", s->exception_message);
		put_raw(&j, "]}]");
	}
	put_raw(&j, ",\"status\":{");
	if (s->error) {
		put_raw(&j, "\"code\":2,\"message\":");
		put_string(&j, s->status_message);
	} else {
		put_raw(&j, "\"code\":0");
	}
	put_raw(&j, "}}");
	if (len)
		buf[j.used < len ? j.used : len - 1] = '\0';
	return j.used;
}

int jsonl_output__write(FILE *out, const struct span *s)
{
	char line[2048], *big = NULL;
	size_t n = span__to_json(s, line, sizeof(line));
	const char *text = line;

	if (n >= sizeof(line)) {
		big = malloc(n + 1);
		if (!big)
			return -ENOMEM;
		span__to_json(s, big, n + 1);
		text = big;
	}
	fputs(text, out);
	fputc('\n', out);
	free(big);
	return ferror(out) ? -EIO : 0;
}
