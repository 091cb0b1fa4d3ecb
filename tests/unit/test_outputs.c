// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The tree and jsonl outputs, from hand-made spans. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl_output.h"
#include "span.h"
#include "span_tree.h"
#include "unit.h"

void format_duration(uint64_t ns, char *buf, size_t len);

static struct span make_span(const char *name, uint8_t trace, uint64_t id, uint64_t parent,
			     uint64_t start, uint64_t end)
{
	struct span s = { .span_id = id, .parent_span_id = parent, .start_unix_ns = start,
			  .end_unix_ns = end, .pid = 42, .tid = 43, .name = name, .ret_signed = true,
			  .has_ret = true, .ret_kind = SPAN_RET_SIGNED };

	memset(s.trace_id, trace, sizeof(s.trace_id));
	return s;
}

static void test_json_encoding(void)
{
	static const struct {
		const char *name, *want; /* want: the "name" member as encoded */
	} names[] = {
		{ "foo", "\"name\":\"foo\"" },
		{ "a\"b\\c", "\"name\":\"a\\\"b\\\\c\"" },
		{ "tab\there\nnl", "\"name\":\"tab\\there\\nnl\"" },
		{ "ctl\x01x", "\"name\":\"ctl\\u0001x\"" },
		{ "bad\xff\xfeutf8", "\"name\":\"bad\\ufffd\\ufffdutf8\"" },
		{ "caf\xc3\xa9", "\"name\":\"caf\xc3\xa9\"" },
		{ "trunc\xe2\x82", "\"name\":\"trunc\\ufffd\\ufffd\"" },
	};
	char buf[4096];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct span s = make_span(names[i].name, 0xab, 0x1122334455667788ULL, 0, 1, 2);

		span__to_json(&s, buf, sizeof(buf));
		if (!strstr(buf, names[i].want)) {
			printf("  %s not in %s\n", names[i].want, buf);
			CHECK(0);
		}
	}
}

static void test_json_fields(void)
{
	struct span root = make_span("foo", 0x0f, 0x00000000000000ffULL, 0, 1795572741572773022ULL,
				     1795572741572806212ULL);
	struct span child = make_span("goo", 0x0f, 2, 0x00000000000000ffULL, 5, 6);
	char buf[4096];
	size_t need;

	span__to_json(&root, buf, sizeof(buf));
	CHECK(strstr(buf, "\"traceId\":\"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f\""));
	CHECK(strstr(buf, "\"spanId\":\"00000000000000ff\""));
	CHECK(strstr(buf, "\"parentSpanId\":\"\""));
	/* 64-bit integers as decimal strings, exactly */
	CHECK(strstr(buf, "\"startTimeUnixNano\":\"1795572741572773022\""));
	CHECK(strstr(buf, "\"endTimeUnixNano\":\"1795572741572806212\""));
	CHECK(strstr(buf, "\"status\":{\"code\":0}"));

	child.error = true;
	child.ret = -1;
	snprintf(child.status_message, sizeof(child.status_message), "goo returned -1");
	span__to_json(&child, buf, sizeof(buf));
	CHECK(strstr(buf, "\"parentSpanId\":\"00000000000000ff\""));
	CHECK(strstr(buf, "\"status\":{\"code\":2,\"message\":\"goo returned -1\"}"));
	CHECK(strstr(buf, "{\"key\":\"spanprobe.return_value\",\"value\":{\"intValue\":\"-1\"}}"));

	/* unsigned return above INT64_MAX stays exact */
	child.ret_signed = false;
	child.ret = (int64_t)0xffffffffffffffffULL;
	span__to_json(&child, buf, sizeof(buf));
	CHECK(strstr(buf, "\"stringValue\":\"18446744073709551615\""));

	/* a call left by an exception: the OTel exception event at its end */
	snprintf(child.exception_type, sizeof(child.exception_type), "ValueError");
	snprintf(child.exception_message, sizeof(child.exception_message), "bad \"v\"");
	span__to_json(&child, buf, sizeof(buf));
	CHECK(strstr(buf, ",\"events\":[{\"timeUnixNano\":\"6\",\"name\":\"exception\",\"attributes\":["
			  "{\"key\":\"exception.type\",\"value\":{\"stringValue\":\"ValueError\"}},"
			  "{\"key\":\"exception.message\",\"value\":{\"stringValue\":\"bad \\\"v\\\"\"}}]}]"));

	/* a tiny buffer reports the size needed and stays terminated */
	need = span__to_json(&root, buf, 10);
	CHECK(need > 100);
	CHECK_INT(strlen(buf), 9);
}

static char *tree_output(const struct span *spans, size_t n, bool flush)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct span_tree *t = span_tree__new(f, false);

	for (size_t i = 0; i < n; i++)
		span_tree__add(t, &spans[i]);
	if (flush)
		span_tree__flush(t);
	span_tree__free(t);
	fclose(f);
	return text;
}

static void test_tree(void)
{
	/* children first, as the kernel sends them */
	struct span spans[] = {
		make_span("goo", 1, 2, 1, 1100, 1200),
		make_span("zoo", 1, 3, 1, 1300, 5000),
		make_span("foo", 1, 1, 0, 1000, 6000),
	};
	char *out;

	spans[0].error = true;
	snprintf(spans[0].status_message, sizeof(spans[0].status_message), "goo returned -1");
	out = tree_output(spans, 3, false);
	/* the header carries the trace's wall-clock start (local time) */
	CHECK(strstr(out, "trace 01010101010101010101010101010101  pid 42  tid 43  at 19"));
	CHECK(strstr(out, "foo  5.0 us  (+0 ns)"));
	CHECK(strstr(out, "├─ goo  100 ns  (+100 ns)  = 0  ERROR: goo returned -1\n"));
	CHECK(strstr(out, "└─ zoo  3.7 us  (+300 ns)"));
	/* goo printed before zoo */
	CHECK(strstr(out, "goo") < strstr(out, "zoo"));
	free(out);

	/* without the root, nothing until flush, then marked incomplete */
	out = tree_output(spans, 2, false);
	CHECK_STR(out, "");
	free(out);
	out = tree_output(spans, 2, true);
	CHECK(strstr(out, "(incomplete: its root was not seen)"));
	CHECK(strstr(out, "goo"));
	free(out);

	/* a new trace on the same thread flushes the old one as incomplete */
	struct span two[] = { make_span("goo", 1, 2, 1, 1, 2), make_span("foo", 2, 9, 0, 3, 4) };
	out = tree_output(two, 2, false);
	CHECK(strstr(out, "incomplete"));
	CHECK(strstr(out, "trace 02020202"));
	free(out);
}

static void test_durations(void)
{
	static const struct {
		uint64_t ns;
		const char *want;
	} cases[] = {
		{ 0, "0 ns" }, { 999, "999 ns" }, { 1500, "1.5 us" }, { 2500000, "2.500 ms" },
		{ 5002000000ULL, "5.002 s" },
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		format_duration(cases[i].ns, buf, sizeof(buf));
		CHECK_STR(buf, cases[i].want);
	}
}

/* Return values print by type: none for void, signed/unsigned by DWARF,
 * 0x... or NULL for pointers, and said to be unknown without DWARF. */
static void test_tree_return_values(void)
{
	static const struct {
		enum span_ret_kind kind;
		int64_t ret;
		const char *want, *not_want;
	} cases[] = {
		{ SPAN_RET_NONE, 7, "foo  1.0 us  (+0 ns)\n", "=" },
		{ SPAN_RET_SIGNED, -1, "  = -1\n", NULL },
		{ SPAN_RET_UNSIGNED, -1, "  = 18446744073709551615\n", NULL },
		{ SPAN_RET_POINTER, 0x7ffd1234, "  = 0x7ffd1234\n", NULL },
		{ SPAN_RET_POINTER, 0, "  = NULL\n", NULL },
		{ SPAN_RET_UNKNOWN, 42, "  = 42 (type unknown, read as int)\n", NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct span s = make_span("foo", 9, 1, 0, 1000, 2000);
		char *out;

		s.ret_kind = cases[i].kind;
		s.has_ret = cases[i].kind != SPAN_RET_NONE;
		s.ret_signed = cases[i].kind == SPAN_RET_SIGNED || cases[i].kind == SPAN_RET_UNKNOWN;
		s.ret = cases[i].ret;
		out = tree_output(&s, 1, false);
		if (!out || !strstr(out, cases[i].want) ||
		    (cases[i].not_want && strstr(strstr(out, "foo"), cases[i].not_want))) {
			printf("  case %zu: want '%s' in:\n%s", i, cases[i].want, out ? out : "(null)");
			CHECK(0);
		}
		free(out);
	}
}

int main(void)
{
	unit_prog = "outputs";
	RUN(test_json_encoding);
	RUN(test_json_fields);
	RUN(test_tree);
	RUN(test_tree_return_values);
	RUN(test_durations);
	return unit_exit();
}
