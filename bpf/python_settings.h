/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Settings user space hands to the Python probe sources (bpf/python_*.bpf.c):
 * the file and function globs, and where each interpreter keeps what the
 * BPF side reads. Records are in span_record.h. Plain fixed-width types only. */
#ifndef SPANPROBE_PYTHON_SETTINGS_H
#define SPANPROBE_PYTHON_SETTINGS_H

#define PY_GLOB_LEN 128
#define PY_MAX_GLOBS 16 /* file globs and function globs together */
#define PY_MAX_INTERPS 8
/* CPython files (libpython or static interpreter, one per inode: a container
 * has its own) whose evaluator is probed. */
#define PY_MAX_EVAL_INTERPS 32

#include "python_layout.h"

/* Where one interpreter keeps its current exception; indexed by the USDT
 * cookie. Addresses are link-time; the load bias is found from the probe's
 * address (ip - return_probe_addr). tstate_addr 0: exceptions not readable. */
struct py_interp_info {
	__u64 return_probe_addr; /* link-time address of function__return */
	__u64 tstate_addr;       /* link-time address of the current PyThreadState* */
	__u32 curexc_type_off;   /* offsets in PyThreadState */
	__u32 curexc_value_off;
	__u32 exc_args_off;      /* PyBaseExceptionObject.args */
	__u32 str_data_off;      /* first byte of a compact ASCII str */
	__u32 str_state_off;     /* PyASCIIObject.state */
	__u32 pad;
};

/* One CPython file whose _PyEval_EvalFrameDefault is probed (the evaluator
 * path, for interpreters without USDT); indexed by the attach cookie of its
 * entry and return probes. Addresses are link-time: the load bias is the
 * entry probe's address minus entry_addr. */
struct py_eval_interp {
	struct py_layout l;
	__u64 entry_addr;     /* where the entry probe is: _PyEval_EvalFrameDefault (+4
			       * past an endbr64) */
	__u64 runtime_addr;   /* _PyRuntime */
	__u64 code_type_addr; /* PyCode_Type */
	__u32 needs_hook;     /* 3.11+: calls are inlined unless interp->eval_frame is set */
	__u32 frees_watched;  /* code_dealloc is probed (py_code_dealloc): a code object's
			       * verdict stands by its address alone */
};

#endif /* SPANPROBE_PYTHON_SETTINGS_H */
