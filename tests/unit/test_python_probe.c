// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* python: probes without the kernel: globs as the BPF side gets them, and
 * finding the thread-state global in PyThreadState_Get's first instruction. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>

#include "probe_spec.h"
#include "python_interp.h"
#include "python_probe_internal.h"
#include "unit.h"


static void test_globs(void)
{
	static const struct {
		const char *specs[3];
		int err;
		const char *files, *funcs; /* joined with '|' */
	} cases[] = {
		{ { "python:/usr/bin/python3.11:app.py:foo,goo,zoo" }, 0, "app.py|*/app.py", "foo|goo|zoo" },
		{ { "python:py:*:f" }, 0, "*", "f" },
		{ { "python:py:/srv/app.py:f*" }, 0, "/srv/app.py", "f*" },
		{ { "python:py:*.py:f" }, 0, "*.py", "f" },
		/* merged, duplicates dropped; a name equal to a file glob is kept */
		{ { "python:py:a.py:f,g", "python:py:a.py:g,h", "uprobe:./app:x" }, 0,
		  "a.py|*/a.py", "f|g|h" },
		{ { "python:py:*:*", "python:py:x:*" }, 0, "*|x|*/x", "*" },
		{ { "python:py:a.py:[ab]" }, -EINVAL, NULL, NULL },
		{ { "python:py:a.py:a,b,c,d,e,f,g,h,i,j,k,l,m,n,o" }, -E2BIG, NULL, NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct probe_spec specs[3] = {};
		struct py_globs g = {};
		char files[1024] = "", funcs[1024] = "", err[256];
		size_t n = 0;
		int rc;

		for (; n < 3 && cases[i].specs[n]; n++)
			CHECK_INT(probe_spec__parse(cases[i].specs[n], &specs[n], err, sizeof(err)), 0);
		rc = py_globs__collect(&g, specs, n);
		CHECK_INT(rc, cases[i].err);
		if (!rc) {
			for (size_t k = 0; k < g.nfile_globs; k++)
				snprintf(files + strlen(files), sizeof(files) - strlen(files), "%s%s",
					 k ? "|" : "", g.globs[k]);
			for (size_t k = 0; k < g.nfunc_globs; k++)
				snprintf(funcs + strlen(funcs), sizeof(funcs) - strlen(funcs), "%s%s",
					 k ? "|" : "", g.globs[g.nfile_globs + k]);
			CHECK_STR(files, cases[i].files);
			CHECK_STR(funcs, cases[i].funcs);
		}
		for (size_t k = 0; k < n; k++)
			probe_spec__release(&specs[k]);
	}
}

static void test_decode_rip_load(void)
{
	/* Debian's 3.11 PyThreadState_Get: mov 0x578e39(%rip),%rax at 0x4dd620 */
	static const uint8_t mov_rax[] = { 0x48, 0x8b, 0x05, 0x39, 0x8e, 0x57, 0x00, 0x48, 0x85, 0xc0 };
	static const uint8_t endbr_mov[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x8b, 0x05, 0xf0, 0xff, 0xff, 0xff };
	static const uint8_t mov_r8[] = { 0x4c, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00 };
	static const uint8_t push_rbp[] = { 0x55, 0x48, 0x89, 0xe5, 0x90, 0x90, 0x90, 0x90 };
	static const uint8_t mov_rbx_index[] = { 0x48, 0x8b, 0x04, 0x25, 0, 0, 0, 0 };

	CHECK_INT(decode_rip_load(mov_rax, sizeof(mov_rax), 0x4dd620), 0xa56460);
	CHECK_INT(decode_rip_load(endbr_mov, sizeof(endbr_mov), 0x1000), 0x1000 + 4 + 7 - 16);
	CHECK_INT(decode_rip_load(mov_r8, sizeof(mov_r8), 0x2000), 0x2000 + 7 + 0x10);
	CHECK_INT(decode_rip_load(push_rbp, sizeof(push_rbp), 0x2000), 0);
	CHECK_INT(decode_rip_load(mov_rbx_index, sizeof(mov_rbx_index), 0x2000), 0);
	CHECK_INT(decode_rip_load(mov_rax, 5, 0x4dd620), 0); /* truncated */
}

int main(void)
{
	unit_prog = "python_probe";
	RUN(test_globs);
	RUN(test_decode_rip_load);
	return unit_exit();
}
