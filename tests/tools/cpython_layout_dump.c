// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Prints a CPython layout in the format of cpython_layout_from_headers.c:
 *   cpython-layout-dump --table 3.10     the table's layout of 3.10
 *   cpython-layout-dump --elf FILE       what spanprobe reads from FILE
 *                                        (version, table, decoded offsets,
 *                                        3.13's _Py_DebugOffsets); how each
 *                                        was found goes to stderr
 * Exit status 1 (with spanprobe's one-line message) when there is no layout. */
#include <stdio.h>
#include <string.h>

#include "cpython_binary.h"
#include "cpython_layout.h"

int main(int argc, char **argv)
{
	struct cpython_binary b;
	struct py_layout l;
	unsigned major, minor;
	char v[32];

	if (argc == 3 && strcmp(argv[1], "--table") == 0) {
		snprintf(v, sizeof(v), "%s.", argv[2]);
		if (!cpython_binary__parse_version(v, &major, &minor) ||
		    cpython_layout__table(major, minor, &l)) {
			fprintf(stderr, "no table for %s\n", argv[2]);
			return 1;
		}
		cpython_layout__print(&l, stdout);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "--elf") == 0) {
		if (cpython_binary__inspect(argv[2], NULL, &b))
			return 1;
		fprintf(stderr, "%s: CPython %u.%u (version from %s; layout: %s; eval_frame: %s); "
			"_PyEval_EvalFrameDefault at 0x%llx (file offset 0x%llx), _PyRuntime 0x%llx, "
			"PyCode_Type 0x%llx; inlining must be turned off: %s; code objects freed at "
			"0x%llx (%s)\n",
			b.path, b.major, b.minor, b.version_how, b.layout_how, b.eval_frame_how,
			(unsigned long long)b.eval_addr, (unsigned long long)b.eval_offset,
			(unsigned long long)b.runtime_addr, (unsigned long long)b.code_type_addr,
			b.needs_eval_frame_hook ? "yes" : "no", (unsigned long long)b.code_dealloc_addr,
			b.code_dealloc_how);
		cpython_layout__print(&b.layout, stdout);
		return 0;
	}
	fprintf(stderr, "usage: %s --table 3.X | --elf FILE\n", argv[0]);
	return 2;
}
