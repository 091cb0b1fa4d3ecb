// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Kernel records -> spans -> trees: names, times, error messages, truncated
 * calls, and records naming no known function. */
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "elf_symbols.h"
#include "probe_table.h"
#include "span.h"
#include "span_decode.h"
#include "span_event.h"
#include "span_tree.h"
#include "unit.h"

static struct func_symbol syms[3] = {
	{ .name = "foo", .ret_known = true, .ret_void = true },
	{ .name = "goo", .ret_known = true, .ret_size = 4, .ret_signed = true, .decl_file = "app.c", .decl_line = 44 },
	{ .name = "zoo" },
};
static struct traced_func funcs[3];
static struct probe_table table = { .funcs = funcs, .nfuncs = 3 };

static void setup(void)
{
	for (int i = 0; i < 3; i++) {
		funcs[i].id = i;
		funcs[i].sym = &syms[i];
		funcs[i].rule.ret_size = 4;
		funcs[i].rule.ret_signed = 1;
	}
	funcs[1].rule_text = "ret<0";
}

static struct span_event record(uint32_t func, uint64_t id, uint64_t parent, uint64_t start,
				uint64_t end, uint8_t flags, uint64_t ret)
{
	struct span_event e = { .span_id = id, .parent_span_id = parent, .start_ns = start,
				.end_ns = end, .pid = 10, .tid = 11, .func_id = func, .flags = flags,
				.ret = ret, .depth = parent ? 1 : 0 };

	memset(e.trace_id, 0x5a, sizeof(e.trace_id));
	return e;
}

static void test_decode(void)
{
	struct span s;
	struct span_event e = record(1, 7, 3, 100, 250, SPAN_F_ERROR, (uint64_t)-1);

	CHECK_INT(span__from_event(&s, &e, &table, 1000, NULL), 0);
	CHECK_STR(s.name, "goo");
	CHECK_INT(s.start_unix_ns, 1100);
	CHECK_INT(s.end_unix_ns, 1250);
	CHECK_INT(s.parent_span_id, 3);
	CHECK(s.error);
	CHECK(s.has_ret);
	CHECK_INT(s.ret, -1);
	CHECK_STR(s.status_message, "goo returned -1 (error rule ret<0)");
	CHECK_STR(s.code_file, "app.c");
	CHECK_INT(s.code_line, 44);

	/* void function: no return value shown */
	e = record(0, 3, 0, 50, 300, 0, 12345);
	CHECK_INT(span__from_event(&s, &e, &table, 0, NULL), 0);
	CHECK(!s.has_ret);
	CHECK(!s.error);

	/* truncated: no return value, a reason */
	e = record(2, 9, 3, 260, 280, SPAN_F_TRUNCATED, 0);
	e.lost_reason = SPAN_LOST_THREAD_EXIT;
	CHECK_INT(span__from_event(&s, &e, &table, 0, NULL), 0);
	CHECK(s.truncated);
	CHECK(!s.has_ret);
	CHECK_STR(s.lost_reason, "thread exited inside the call");

	/* unknown function id: ignored, not a crash */
	e = record(3, 1, 0, 0, 1, 0, 0);
	CHECK_INT(span__from_event(&s, &e, &table, 0, NULL), -2 /* -ENOENT */);
	e = record(0xffffffff, 1, 0, 0, 1, 0, 0);
	CHECK_INT(span__from_event(&s, &e, &table, 0, NULL), -2);
}

static void test_records_to_tree(void)
{
	/* foo -> goo (error), then zoo left by longjmp; kernel order: children first */
	struct span_event events[] = {
		record(1, 7, 3, 100, 250, SPAN_F_ERROR, (uint64_t)-1),
		record(2, 9, 3, 260, 280, SPAN_F_TRUNCATED, 0),
		record(0, 3, 0, 50, 300, 0, 0),
	};
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct span_tree *t = span_tree__new(f, false);

	events[1].lost_reason = SPAN_LOST_STACK_UNWIND;
	for (size_t i = 0; i < 3; i++) {
		struct span s;

		CHECK_INT(span__from_event(&s, &events[i], &table, 0, NULL), 0);
		CHECK_INT(span_tree__add(t, &s), 0);
	}
	span_tree__free(t);
	fclose(f);
	CHECK(strstr(text, "foo  250 ns  (+0 ns)\n"));
	CHECK(strstr(text, "├─ goo  150 ns  (+50 ns)  = -1  ERROR: goo returned -1 (error rule ret<0)\n"));
	CHECK(strstr(text, "└─ zoo  20 ns  (+210 ns)  TRUNCATED: left without return (longjmp or unwinding)\n"));
	free(text);
}

int main(void)
{
	unit_prog = "span_decode";
	setup();
	RUN(test_decode);
	RUN(test_records_to_tree);
	return unit_exit();
}
