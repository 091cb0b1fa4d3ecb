/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What python_probe.c keeps to itself, for its unit tests. */
#ifndef SPANPROBE_PYTHON_PROBE_INTERNAL_H
#define SPANPROBE_PYTHON_PROBE_INTERNAL_H

#include <stddef.h>
#include <linux/types.h>

#include "python_settings.h"

struct probe_spec;

/* The globs as the kernel side gets them: FILES globs first (a relative one
 * also as "*" "/" GLOB, to match the end of co_filename), then FUNCS globs;
 * duplicates dropped. */
struct py_globs {
	char globs[PY_MAX_GLOBS][PY_GLOB_LEN];
	size_t nfile_globs, nfunc_globs;
};

int py_globs__collect(struct py_globs *p, const struct probe_spec *specs, size_t nspecs);

#endif
