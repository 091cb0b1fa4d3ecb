/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the evaluator probe needs from a CPython ELF file (a libpython3.X.so
 * or a python binary that contains the interpreter), read from the file
 * alone: its version, where _PyEval_EvalFrameDefault is, and the layout of
 * the structures the probe reads (cpython_layout.h), corrected from the
 * file's own code and data where it says more than the table. Works on
 * stripped files: every symbol used is in .dynsym. */
#ifndef SPANPROBE_CPYTHON_BINARY_H
#define SPANPROBE_CPYTHON_BINARY_H

#include <stdbool.h>
#include <stdint.h>

#include "cpython_layout.h"

struct cpython_binary {
	char path[4096];            /* what is opened and probed (/proc/self/fd/N: held open) */
	char name[4096];            /* for messages; its file name may tell the version */
	unsigned major, minor;
	uint32_t version_hex;       /* PY_VERSION_HEX when known (Py_Version, 3.11+), else 0 */
	const char *version_how;    /* for -v: where the version was read */
	struct py_layout layout;
	const char *layout_how;     /* for -v: table, or table + _Py_DebugOffsets */
	const char *eval_frame_how; /* for -v: how interp_eval_frame was found */
	/* link-time addresses (add the load bias in a process) and file offsets */
	uint64_t eval_addr;         /* _PyEval_EvalFrameDefault */
	uint64_t eval_size;
	uint64_t eval_offset;       /* its file offset: where the uprobe goes */
	uint64_t runtime_addr;      /* _PyRuntime */
	uint64_t code_type_addr;    /* PyCode_Type: a frame's code object has this type */
	uint64_t code_dealloc_addr;   /* code_dealloc, where a code object is freed */
	uint64_t code_dealloc_offset; /* its file offset; 0: not found */
	const char *code_dealloc_how; /* for -v: how it was found, or why not */
	uint64_t load_vaddr;        /* lowest PT_LOAD address, page aligned: the mapping of
				     * file offset 0 is there plus the load bias */
	/* 3.11+: calls from Python code run inlined in one evaluator call unless
	 * interp->eval_frame is set (to _PyEval_EvalFrameDefault itself). */
	bool needs_eval_frame_hook;
};

/* Reads path (name: the file for messages, NULL for path itself). Returns
 * 0; or prints one line naming the cause and a fix and
 * returns -ENOENT (no such file; not a CPython interpreter or libpython),
 * -ENOEXEC (not an ELF file), -ENOTSUP (a version or build without a
 * layout: Python 2, 3.7 and older, 3.14 and newer, free-threaded), -EIO. */
int cpython_binary__inspect(const char *path, const char *name, struct cpython_binary *out);

/* The offset `mov OFF(%rdi), %reg` loads at the start of code (after an
 * endbr64): how _PyInterpreterState_GetEvalFrameFunc(interp) reads
 * interp->eval_frame. -ENOENT when the code starts otherwise. Exposed for
 * unit tests. */
int cpython_binary__decode_field_load(const uint8_t *code, size_t len, uint64_t addr,
				      int32_t *off);

/* major.minor from a "3.10.13..." string; false when it does not start so. */
bool cpython_binary__parse_version(const char *s, unsigned *major, unsigned *minor);

#endif /* SPANPROBE_CPYTHON_BINARY_H */
