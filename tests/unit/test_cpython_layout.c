// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* CPython layouts without a process: which versions have a table, the
 * version parser, the eval_frame load decoder on the instruction streams
 * seen in builds (and ones it must refuse), and 3.13's _Py_DebugOffsets
 * checks on hostile bytes. The table's values are checked against each
 * version's headers by tests/integration/python_layouts.sh. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "cpython_binary.h"
#include "cpython_layout.h"
#include "unit.h"

static void test_supported_versions(void)
{
	static const struct {
		unsigned major, minor;
		int err;
	} cases[] = {
		{ 2, 7, -ENOTSUP }, { 3, 6, -ENOTSUP }, { 3, 7, -ENOTSUP }, { 3, 8, 0 },
		{ 3, 10, 0 },       { 3, 13, 0 },       { 3, 14, -ENOTSUP }, { 4, 0, -ENOTSUP },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct py_layout l;

		CHECK_INT(cpython_layout__table(cases[i].major, cases[i].minor, &l), cases[i].err);
		CHECK((cpython_layout__unsupported(cases[i].major, cases[i].minor) == NULL) ==
		      (cases[i].err == 0));
		if (!cases[i].err)
			CHECK_INT(l.version, cases[i].major << 8 | cases[i].minor);
	}
}

static void test_parse_version(void)
{
	static const struct {
		const char *s;
		bool ok;
		unsigned major, minor;
	} cases[] = {
		{ "3.10.13", true, 3, 10 },
		{ "3.8.18 (%.80s) %.80s", true, 3, 8 },
		{ "3.13.0rc1", true, 3, 13 },
		{ "2.7.18", true, 2, 7 },
		{ "3.10", false, 0, 0 },  /* a micro is always there */
		{ "v3.10.1", false, 0, 0 },
		{ "%.80s (%.80s)", false, 0, 0 },
		{ "3.", false, 0, 0 },
		{ "", false, 0, 0 },
		{ "3.999.1", false, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned major = 0, minor = 0;

		CHECK_INT(cpython_binary__parse_version(cases[i].s, &major, &minor), cases[i].ok);
		if (cases[i].ok) {
			CHECK_INT(major, cases[i].major);
			CHECK_INT(minor, cases[i].minor);
		}
	}
}

static void test_decode_eval_frame_load(void)
{
	static const struct {
		const char *what;
		uint8_t code[16];
		size_t len;
		int err;
		int32_t off;
	} cases[] = {
		/* 3.12.1 pyenv: mov 0x6d0(%rdi),%rax; test %rax,%rax */
		{ "pyenv 3.12", { 0x48, 0x8b, 0x87, 0xd0, 0x06, 0, 0, 0x48, 0x85, 0xc0 }, 10, 0, 0x6d0 },
		/* CET build: endbr64 first */
		{ "endbr64", { 0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x8b, 0x87, 0x58, 0x05, 0, 0, 0xc3 }, 12, 0,
		  0x558 },
		/* disp8 form: mov 0x40(%rdi),%rax */
		{ "disp8", { 0x48, 0x8b, 0x47, 0x40, 0xc3 }, 5, 0, 0x40 },
		/* another register as the destination: mov 0x590(%rdi),%rdx */
		{ "rdx", { 0x48, 0x8b, 0x97, 0x90, 0x05, 0, 0, 0xc3 }, 8, 0, 0x590 },
		/* 32-bit load: not a pointer */
		{ "mov eax", { 0x8b, 0x87, 0x90, 0x05, 0, 0, 0xc3 }, 7, -ENOENT, 0 },
		/* another base register */
		{ "rsi base", { 0x48, 0x8b, 0x86, 0x90, 0x05, 0, 0, 0xc3 }, 8, -ENOENT, 0 },
		/* rip-relative: a global, not a field */
		{ "rip", { 0x48, 0x8b, 0x05, 0x90, 0x05, 0, 0, 0xc3 }, 8, -ENOENT, 0 },
		/* a prologue first (an instrumented build) */
		{ "push", { 0x55, 0x48, 0x8b, 0x87, 0x90, 0x05, 0, 0 }, 8, -ENOENT, 0 },
		/* negative displacement */
		{ "negative", { 0x48, 0x8b, 0x87, 0xf0, 0xff, 0xff, 0xff }, 7, -ENOENT, 0 },
		/* cut short */
		{ "truncated", { 0x48, 0x8b, 0x87, 0xd0 }, 4, -ENOENT, 0 },
		{ "empty", { 0 }, 0, -ENOENT, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int32_t off = -1;
		int err = cpython_binary__decode_field_load(cases[i].code, cases[i].len, 0x1000, &off);

		if (err != cases[i].err || (!err && off != cases[i].off))
			printf("  case %s: err %d off 0x%x\n", cases[i].what, err, off);
		CHECK_INT(err, cases[i].err);
		if (!cases[i].err)
			CHECK_INT(off, cases[i].off);
	}
}

/* _Py_DebugOffsets as 3.13.0 publishes them (from the pyenv build); the
 * fields are uint64_t, laid out as in cpython_layout.c. */
static void make_debug_offsets(uint64_t *d, size_t n)
{
	memset(d, 0, n * sizeof(*d));
	memcpy(d, "xdebugpy", 8);
	d[1] = 0x030d00f0; /* version */
	d[2] = 0;          /* free_threaded */
	d[3] = 1536;       /* runtime_state.size */
	d[5] = 632;        /* interpreters_head */
	d[6] = 10000;      /* interpreter_state.size */
	d[7] = 7272;       /* id */
	d[8] = 7264;       /* next */
	d[19] = 400;       /* thread_state.size */
	d[22] = 16;        /* interp */
	d[28] = 80;        /* interpreter_frame.size */
	d[29] = 8;         /* previous */
	d[30] = 0;         /* executable */
	d[33] = 70;        /* owner */
	d[34] = 200;       /* code_object.size */
	d[35] = 112;       /* filename */
	d[36] = 120;       /* name */
	d[37] = 128;       /* qualname */
	d[39] = 68;        /* firstlineno */
	d[44] = 16;        /* pyobject.size */
	d[45] = 8;         /* ob_type */
	d[46] = 400;       /* type_object.size */
	d[47] = 24;        /* tp_name */
	d[50] = 32;        /* tuple_object.size */
	d[51] = 24;        /* ob_item */
	d[52] = 16;        /* ob_size */
	d[67] = 64;        /* unicode_object.size */
	d[68] = 32;        /* state */
	d[69] = 16;        /* length */
	d[70] = 40;        /* asciiobject_size */
}

static void test_debug_offsets(void)
{
	uint64_t d[96];
	struct py_layout table, l;
	bool ft;

	CHECK_INT(cpython_layout__debug_offsets_size(), 71 * 8);
	cpython_layout__table(3, 13, &table);

	make_debug_offsets(d, 96);
	l = table;
	CHECK_INT(cpython_layout__apply_debug_offsets(&l, d, sizeof(d), 0x030d00f0, &ft), 0);
	CHECK(memcmp(&l, &table, sizeof(l)) == 0); /* 3.13.0 publishes what the table says */

	d[36] = 9999; /* a name offset past the code object */
	l = table;
	CHECK_INT(cpython_layout__apply_debug_offsets(&l, d, sizeof(d), 0x030d00f0, &ft), -EINVAL);
	CHECK(memcmp(&l, &table, sizeof(l)) == 0); /* untouched on error */

	make_debug_offsets(d, 96);
	d[2] = 1;
	CHECK_INT(cpython_layout__apply_debug_offsets(&l, d, sizeof(d), 0x030d00f0, &ft), -ENOTSUP);
	CHECK(ft);

	make_debug_offsets(d, 96);
	d[1] = 0x030e00f0; /* 3.14's debug offsets have another layout */
	CHECK_INT(cpython_layout__apply_debug_offsets(&l, d, sizeof(d), 0x030d00f0, &ft), -EINVAL);

	make_debug_offsets(d, 96);
	memcpy(d, "xdebugpx", 8);
	CHECK_INT(cpython_layout__apply_debug_offsets(&l, d, sizeof(d), 0x030d00f0, &ft), -ENOENT);
	CHECK_INT(cpython_layout__apply_debug_offsets(&l, d, 16, 0x030d00f0, &ft), -ENOENT);
}

int main(void)
{
	unit_prog = "test_cpython_layout";
	RUN(test_supported_versions);
	RUN(test_parse_version);
	RUN(test_decode_eval_frame_load);
	RUN(test_debug_offsets);
	return unit_exit();
}
