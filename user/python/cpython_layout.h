/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The layout of CPython 3.8-3.13's structures as the evaluator probe reads
 * them (struct py_layout, bpf/python_layout.h): a table per minor version,
 * checked against each version's own headers by
 * tests/integration/python_layouts.sh, and the 3.13 interpreter's own
 * _Py_DebugOffsets laid over it where they cover a field. */
#ifndef SPANPROBE_CPYTHON_LAYOUT_H
#define SPANPROBE_CPYTHON_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>

#include "python_layout.h"

#define CPYTHON_MIN_MINOR 8  /* 3.8 */
#define CPYTHON_MAX_MINOR 13 /* 3.13 */

/* Why major.minor has no layout, as the end of a sentence ("CPython 3.7 is
 * not supported: ..."), or NULL when it has one. */
const char *cpython_layout__unsupported(unsigned major, unsigned minor);

/* The table's layout of 3.minor. 0, or -ENOTSUP (see cpython_layout__unsupported). */
int cpython_layout__table(unsigned major, unsigned minor, struct py_layout *out);

/* The start of _PyRuntime on 3.13 (the bytes of its .data initialiser will
 * do): checks the cookie "xdebugpy", that its version is py_version_hex's
 * 3.13, and that the build is not free-threaded, then lays the offsets it
 * publishes over *l. Returns 0; -ENOENT (no cookie: not 3.13's layout),
 * -ENOTSUP (free-threaded), -EINVAL (another version, or a published
 * offset that can't be right). *free_threaded is set when the build is. */
int cpython_layout__apply_debug_offsets(struct py_layout *l, const void *runtime, size_t len,
					uint32_t py_version_hex, bool *free_threaded);
/* Bytes of _PyRuntime that cpython_layout__apply_debug_offsets reads. */
size_t cpython_layout__debug_offsets_size(void);

/* "version 0x030a" then "NAME VALUE" per field ("absent" for
 * PY_LAYOUT_ABSENT): the format tests/tools/cpython_layout_from_headers.c
 * prints. */
void cpython_layout__print(const struct py_layout *l, FILE *f);

#endif /* SPANPROBE_CPYTHON_LAYOUT_H */
