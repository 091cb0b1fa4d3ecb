// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Kernel records -> spans -> trees: names, times, error messages, truncated
 * calls, Python function announcements and exceptions, and records that name
 * no known function or are malformed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "elf_symbols.h"
#include "probe_table.h"
#include "span.h"
#include "span_decode.h"
#include "span_record.h"
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

static struct span_record record(uint32_t func, uint64_t id, uint64_t parent, uint64_t start,
				 uint64_t end, uint8_t flags, uint64_t ret)
{
	struct span_record e = { .hdr = { .kind = REC_SPAN, .size = sizeof(e) },
				 .span_id = id, .parent_span_id = parent, .start_ns = start,
				 .end_ns = end, .pid = 10, .tid = 11, .func_id = func, .flags = flags,
				 .ret = ret, .depth = parent ? 1 : 0 };

	memset(e.trace_id, 0x5a, sizeof(e.trace_id));
	return e;
}

/* Decodes one record with a fresh decoder: 1 when it gave a span. */
static int decode(struct span *s, const void *rec, size_t size, int64_t mono_to_real)
{
	struct span_decoder *d = span_decoder__new(&table, mono_to_real, NULL);
	int rc = span_decoder__decode(d, rec, size, s);

	span_decoder__free(d);
	return rc;
}

static void test_decode(void)
{
	struct span s;
	struct span_record e = record(1, 7, 3, 100, 250, SPAN_F_ERROR, (uint64_t)-1);

	CHECK_INT(decode(&s, &e, sizeof(e), 1000), 1);
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
	CHECK_INT(decode(&s, &e, sizeof(e), 0), 1);
	CHECK(!s.has_ret);
	CHECK(!s.error);

	/* truncated: no return value, a reason */
	e = record(2, 9, 3, 260, 280, SPAN_F_TRUNCATED, 0);
	e.lost_reason = SPAN_LOST_THREAD_EXIT;
	CHECK_INT(decode(&s, &e, sizeof(e), 0), 1);
	CHECK(s.truncated);
	CHECK(!s.has_ret);
	CHECK_STR(s.lost_reason, "thread exited inside the call");
	e.lost_reason = SPAN_LOST_EXEC;
	CHECK_INT(decode(&s, &e, sizeof(e), 0), 1);
	CHECK_STR(s.lost_reason, "the program was replaced (exec) inside the call");
	e.lost_reason = SPAN_LOST_STOPPED;
	CHECK_INT(decode(&s, &e, sizeof(e), 0), 1);
	CHECK_STR(s.lost_reason, "tracing stopped inside the call");

	/* unknown function id: ignored, not a crash */
	e = record(3, 1, 0, 0, 1, 0, 0);
	CHECK_INT(decode(&s, &e, sizeof(e), 0), -ENOENT);
	e = record(0xffffffff, 1, 0, 0, 1, 0, 0);
	CHECK_INT(decode(&s, &e, sizeof(e), 0), -ENOENT);
}

static void test_records_to_tree(void)
{
	/* foo -> goo (error), then zoo left by longjmp; kernel order: children first */
	struct span_record events[] = {
		record(1, 7, 3, 100, 250, SPAN_F_ERROR, (uint64_t)-1),
		record(2, 9, 3, 260, 280, SPAN_F_TRUNCATED, 0),
		record(0, 3, 0, 50, 300, 0, 0),
	};
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct span_tree *t = span_tree__new(f, false);

	events[1].lost_reason = SPAN_LOST_STACK_UNWIND;
	struct span_decoder *d = span_decoder__new(&table, 0, NULL);

	for (size_t i = 0; i < 3; i++) {
		struct span s;

		CHECK_INT(span_decoder__decode(d, &events[i], sizeof(events[i]), &s), 1);
		CHECK_INT(span_tree__add(t, &s), 0);
	}
	span_decoder__free(d);
	span_tree__free(t);
	fclose(f);
	/* the table's functions are nop5 probes: a 250 ns call is mostly the probes' */
	CHECK(strstr(text, "foo  250 ns (probe: ~550 ns of it, nop5)  (+0 ns)\n"));
	CHECK(strstr(text, "├─ goo  150 ns (probe: ~550 ns of it, nop5)  (+50 ns)  = -1  ERROR: goo "
			   "returned -1 (error rule ret<0)\n"));
	CHECK(strstr(text, "└─ zoo  20 ns  (+210 ns)  TRUNCATED: left without return (longjmp or unwinding)\n"));
	free(text);
}

static struct py_func_record py_func(uint32_t id, const char *name, const char *file, uint32_t line)
{
	struct py_func_record r = { .hdr = { .kind = REC_PY_FUNC, .size = sizeof(r) },
				    .func_id = id, .pid = 10, .line = line };

	snprintf(r.name, sizeof(r.name), "%s", name);
	snprintf(r.file, sizeof(r.file), "%s", file);
	return r;
}

/* A Python function is named by its announcement; a call left by an
 * exception carries type and message into the status. */
static void test_python_records(void)
{
	struct span_decoder *d = span_decoder__new(&table, 0, NULL);
	struct py_func_record goo = py_func(DYN_FUNC_ID_BASE + 1, "goo", "/srv/app.py", 12);
	struct span_record plain = record(DYN_FUNC_ID_BASE + 1, 5, 0, 10, 20, 0, 0);
	struct exception_record x = { .span = record(DYN_FUNC_ID_BASE + 1, 6, 0, 30, 40,
						      SPAN_F_ERROR, 0) };
	struct span s;

	/* before its announcement: names nothing */
	CHECK_INT(span_decoder__decode(d, &plain, sizeof(plain), &s), -ENOENT);
	CHECK_INT(span_decoder__decode(d, &goo, sizeof(goo), &s), 0);
	CHECK_INT(span_decoder__decode(d, &plain, sizeof(plain), &s), 1);
	CHECK_STR(s.name, "goo");
	CHECK_STR(s.code_file, "/srv/app.py");
	CHECK_INT(s.code_line, 12);
	CHECK(!s.has_ret);
	CHECK(!s.error);

	x.span.hdr = (struct record_header){ .kind = REC_SPAN_EXCEPTION, .size = sizeof(x) };
	snprintf(x.type, sizeof(x.type), "Exception");
	snprintf(x.message, sizeof(x.message), "Error in goo");
	CHECK_INT(span_decoder__decode(d, &x, sizeof(x), &s), 1);
	CHECK(s.error);
	CHECK_STR(s.exception_type, "Exception");
	CHECK_STR(s.exception_message, "Error in goo");
	CHECK_STR(s.status_message, "Exception: Error in goo");
	/* nothing readable about the exception: still an error, said so */
	x.type[0] = x.message[0] = 0;
	CHECK_INT(span_decoder__decode(d, &x, sizeof(x), &s), 1);
	CHECK_STR(s.status_message, "goo left by an exception");
	span_decoder__free(d);
}

/* Native exceptions and tail jumps: a C++ type_info name demangled, a Go
 * panic's text kept only for error types that hold it in their first
 * field, no return value for a call ended by a jump out of it. */
static void test_native_exceptions(void)
{
	struct span_decoder *d = span_decoder__new(&table, 0, NULL);
	struct exception_record x = { .span = record(1, 6, 0, 30, 40, SPAN_F_ERROR | SPAN_F_EXC_CXX, 0) };
	struct span_record tail = record(1, 7, 0, 50, 60, SPAN_F_NO_RETURN, 0);
	struct span s;

	x.span.hdr = (struct record_header){ .kind = REC_SPAN_EXCEPTION, .size = sizeof(x) };
	snprintf(x.type, sizeof(x.type), "St13runtime_error");
	snprintf(x.message, sizeof(x.message), "bad 3");
	CHECK_INT(span_decoder__decode(d, &x, sizeof(x), &s), 1);
	CHECK_STR(s.exception_type, "std::runtime_error");
	CHECK_STR(s.status_message, "std::runtime_error: bad 3");
	CHECK(s.error && !s.has_ret && !s.truncated);
	snprintf(x.type, sizeof(x.type), "N4shop5ErrorE");
	x.message[0] = 0;
	CHECK_INT(span_decoder__decode(d, &x, sizeof(x), &s), 1);
	CHECK_STR(s.exception_type, "shop::Error");
	snprintf(x.type, sizeof(x.type), "i");
	CHECK_INT(span_decoder__decode(d, &x, sizeof(x), &s), 1);
	CHECK_STR(s.exception_type, "int");

	x.span.flags = SPAN_F_ERROR | SPAN_F_EXC_GO_PTR;
	snprintf(x.type, sizeof(x.type), "*errors.errorString");
	snprintf(x.message, sizeof(x.message), "bad 4");
	CHECK_INT(span_decoder__decode(d, &x, sizeof(x), &s), 1);
	CHECK_STR(s.status_message, "*errors.errorString: bad 4");
	snprintf(x.type, sizeof(x.type), "*main.myErr");
	CHECK_INT(span_decoder__decode(d, &x, sizeof(x), &s), 1);
	CHECK_STR(s.exception_message, "");
	CHECK_STR(s.status_message, "*main.myErr");

	CHECK_INT(span_decoder__decode(d, &tail, sizeof(tail), &s), 1);
	CHECK(!s.has_ret && !s.error && !s.truncated);
	span_decoder__free(d);
}

/* Sizes and kinds that don't add up are refused, never read past the end. */
static void test_malformed(void)
{
	struct span_decoder *d = span_decoder__new(&table, 0, NULL);
	struct span_record e = record(0, 1, 0, 0, 1, 0, 0);
	struct exec_record ex = { .hdr = { .kind = REC_EXEC, .size = sizeof(ex) }, .pid = 42,
				  .start_boottime = 123456789, .comm = "0123456789abcdef" };
	struct proc_record fork = { .hdr = { .kind = REC_FORK, .size = sizeof(fork) }, .pid = 43,
				    .ppid = 42 };
	struct control_event c;
	struct span s;

	CHECK_INT(span_decoder__decode(d, &e, 4, &s), -EINVAL);           /* shorter than a header */
	CHECK_INT(span_decoder__decode(d, &e, sizeof(e) - 8, &s), -EINVAL); /* cut */
	e.hdr.size = sizeof(e) - 8;
	CHECK_INT(span_decoder__decode(d, &e, sizeof(e), &s), -EINVAL);   /* wrong size for kind */
	e.hdr = (struct record_header){ .kind = 99, .size = sizeof(e) };
	CHECK_INT(span_decoder__decode(d, &e, sizeof(e), &s), -EINVAL);   /* unknown kind */
	CHECK_INT(span_decoder__control(&ex, sizeof(ex), &c), 0);
	CHECK_INT(c.kind, REC_EXEC);
	CHECK_INT(c.pid, 42);
	CHECK_INT(c.start_boottime, 123456789);
	CHECK_STR(c.comm, "0123456789abcde"); /* terminated, whatever the kernel wrote */
	CHECK_INT(span_decoder__control(&fork, sizeof(fork), &c), 0);
	CHECK_INT(c.kind, REC_FORK);
	CHECK_INT(c.ppid, 42);
	CHECK_INT(span_decoder__control(&ex, 8, &c), -EINVAL);
	CHECK_INT(span_decoder__control(&e, sizeof(e), &c), -EINVAL);
	fork.pid = 0x80000000u; /* not a pid */
	CHECK_INT(span_decoder__control(&fork, sizeof(fork), &c), -EINVAL);
	span_decoder__free(d);
}

int main(void)
{
	unit_prog = "span_decode";
	setup();
	RUN(test_decode);
	RUN(test_records_to_tree);
	RUN(test_python_records);
	RUN(test_native_exceptions);
	RUN(test_malformed);
	return unit_exit();
}
