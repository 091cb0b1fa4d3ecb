/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Where CPython 3.8-3.13 (x86-64, default build: not debug, not
 * free-threaded) keeps what the evaluator probes read: one struct
 * py_layout per interpreter, filled by user/python/cpython_layout.c and
 * read by the BPF side. Byte offsets and constants (some are negative),
 * PY_LAYOUT_ABSENT where the version has no such field. Plain fixed-width types; include <linux/types.h> or
 * vmlinux.h first.
 *
 * The list below is the only list of fields: the struct, the table printer
 * and the check against each version's own headers
 * (tests/tools/cpython_layout_from_headers.c) all expand it. */
#ifndef SPANPROBE_PYTHON_LAYOUT_H
#define SPANPROBE_PYTHON_LAYOUT_H

#define PY_LAYOUT_ABSENT (-0x7fffffff - 1) /* INT32_MIN */

/* X(name): one __s32 per field. */
#define PY_LAYOUT_FIELDS(X)                                                                  \
	/* _PyEval_EvalFrameDefault(frame, throwflag) on 3.8;                                */ \
	/* (tstate, frame, throwflag) from 3.9: the frame's argument index                   */ \
	X(eval_frame_arg)                                                                    \
	/* the evaluator's frame: PyFrameObject (3.8-3.10), _PyInterpreterFrame (3.11+)      */ \
	X(frame_code)          /* f_code; 3.13 f_executable (a code object, or None)         */ \
	X(frame_back)          /* f_back; 3.11+ previous                                     */ \
	X(frame_lasti)         /* int f_lasti, -1 before the first instruction (3.8-3.10)    */ \
	X(frame_stacktop)      /* 3.8/3.9: non-NULL after the evaluator returns = a yield    */ \
	X(frame_state)         /* 3.10: signed char f_state                                  */ \
	X(frame_state_suspended) /* 3.10: FRAME_SUSPENDED                                    */ \
	X(frame_owner)         /* 3.11+: char owner                                          */ \
	X(frame_owned_by_generator) /* 3.11+: FRAME_OWNED_BY_GENERATOR                       */ \
	/* 3.11+: a generator's frame is inside its PyGenObject; its int8 gi_frame_state     */ \
	/* is at frame + this (negative)                                                     */ \
	X(gen_state_from_frame)                                                              \
	X(gen_state_suspended)  /* FRAME_SUSPENDED                                           */ \
	X(gen_state_suspended_yield_from) /* 3.13 FRAME_SUSPENDED_YIELD_FROM, else = above  */ \
	/* PyCodeObject                                                                      */ \
	X(code_flags)                                                                        \
	X(code_gen_flags)      /* CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR           */ \
	X(code_filename)                                                                     \
	X(code_name)                                                                         \
	X(code_qualname)       /* 3.11+                                                      */ \
	X(code_firstlineno)                                                                  \
	/* PyUnicode: compact ASCII chars follow PyASCIIObject; compact non-ASCII chars      */ \
	/* (UCS1/2/4) follow PyCompactUnicodeObject, whose utf8 is NULL until asked for      */ \
	X(str_length)                                                                        \
	X(str_state)           /* the state bit field, read as a u32                         */ \
	X(str_compact_mask)                                                                  \
	X(str_ascii_mask)                                                                    \
	X(str_kind_mask)       /* 1, 2, 4 << shift                                           */ \
	X(str_kind_shift)                                                                    \
	X(str_ascii_data)      /* sizeof(PyASCIIObject)                                      */ \
	X(str_compact_data)    /* sizeof(PyCompactUnicodeObject)                             */ \
	X(str_utf8_length)                                                                   \
	X(str_utf8)                                                                          \
	/* PyThreadState; the exception leaving a frame (the evaluator returned NULL)        */ \
	X(tstate_interp)                                                                     \
	X(tstate_curexc_type)  /* 3.8-3.11 (value may be unnormalised: a str, a tuple, NULL) */ \
	X(tstate_curexc_value)                                                               \
	X(tstate_current_exception) /* 3.12+: the exception instance                         */ \
	/* _PyRuntimeState (at the symbol _PyRuntime) and PyInterpreterState                */ \
	X(runtime_tstate_current) /* 3.8-3.11 gilstate.tstate_current (3.8 has no tstate arg) */ \
	X(runtime_interpreters_head)                                                         \
	X(runtime_interpreters_main)                                                         \
	X(interp_next)                                                                       \
	X(interp_id)                                                                         \
	X(interp_eval_frame)   /* NULL: the default evaluator, which inlines calls (3.11+)   */ \
	/* objects                                                                           */ \
	X(ob_type)                                                                           \
	X(type_tp_name)                                                                      \
	X(tuple_size)                                                                        \
	X(tuple_item)                                                                        \
	X(exc_args)            /* PyBaseExceptionObject.args, a tuple                        */

struct py_layout {
	__u32 version; /* major << 8 | minor: 0x0308 .. 0x030d */
	__u32 pad;
#define PY_LAYOUT_STRUCT_FIELD(name) __s32 name;
	PY_LAYOUT_FIELDS(PY_LAYOUT_STRUCT_FIELD)
#undef PY_LAYOUT_STRUCT_FIELD
};

#endif /* SPANPROBE_PYTHON_LAYOUT_H */
