// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Prints every field of struct py_layout (bpf/python_layout.h) as one
 * "name value" line, computed from a CPython version's own headers with
 * offsetof(): the source of truth the table in user/python/cpython_layout.c
 * is checked against (tests/integration/python_layouts.sh). Built once per
 * installed version:
 *   cc -DPy_BUILD_CORE -I PREFIX/include/python3.X -I PREFIX/include/python3.X/internal
 * A field of the list this file does not set is reported, and the exit
 * status is 1. */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <frameobject.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <linux/types.h>

#if PY_VERSION_HEX < 0x03080000 || PY_VERSION_HEX >= 0x030e0000
#error "only CPython 3.8 to 3.13 have a layout table"
#endif
#ifdef Py_GIL_DISABLED
#error "free-threaded builds have another layout"
#endif

#if PY_VERSION_HEX < 0x03090000
#include "internal/pycore_pystate.h"
#else
#include "internal/pycore_interp.h"
#include "internal/pycore_runtime.h"
#endif
#if PY_VERSION_HEX >= 0x030b0000
#include "internal/pycore_frame.h"
#endif
#if PY_VERSION_HEX >= 0x030d0000
#include "internal/pycore_genobject.h"
#endif

#include "python_layout.h"

#define ABSENT PY_LAYOUT_ABSENT
#define UNSET 0x7f7f7f7f

/* The evaluator's signature, proved by the compiler. */
#if PY_VERSION_HEX < 0x03090000
_Static_assert(__builtin_types_compatible_p(__typeof__(&_PyEval_EvalFrameDefault),
					    PyObject *(*)(PyFrameObject *, int)),
	       "3.8: _PyEval_EvalFrameDefault(frame, throwflag)");
#define EVAL_FRAME_ARG 0
#elif PY_VERSION_HEX < 0x030b0000
_Static_assert(__builtin_types_compatible_p(__typeof__(&_PyEval_EvalFrameDefault),
					    PyObject *(*)(PyThreadState *, PyFrameObject *, int)),
	       "3.9/3.10: _PyEval_EvalFrameDefault(tstate, frame, throwflag)");
#define EVAL_FRAME_ARG 1
#else
_Static_assert(__builtin_types_compatible_p(__typeof__(&_PyEval_EvalFrameDefault),
					    PyObject *(*)(PyThreadState *,
							  struct _PyInterpreterFrame *, int)),
	       "3.11+: _PyEval_EvalFrameDefault(tstate, frame, throwflag)");
#define EVAL_FRAME_ARG 1
#endif

/* The bits of PyASCIIObject.state, found by setting each bit field. */
static __u32 state_bits(int which)
{
	PyASCIIObject o;
	__u32 v;

	memset(&o, 0, sizeof(o));
	if (which == 0)
		o.state.compact = 1;
	else if (which == 1)
		o.state.ascii = 1;
	else
		o.state.kind = 7;
	memcpy(&v, &o.state, sizeof(v));
	return v;
}

int main(void)
{
	struct py_layout l;
	int err = 0;
	__u32 kind_mask = state_bits(2);

	memset(&l, 0x7f, sizeof(l)); /* UNSET: every field must be set below */
	l.version = PY_MAJOR_VERSION << 8 | PY_MINOR_VERSION;
	l.eval_frame_arg = EVAL_FRAME_ARG;

#if PY_VERSION_HEX < 0x030b0000
	l.frame_code = offsetof(PyFrameObject, f_code);
	l.frame_back = offsetof(PyFrameObject, f_back);
	l.frame_lasti = offsetof(PyFrameObject, f_lasti);
	l.frame_owner = ABSENT;
	l.frame_owned_by_generator = ABSENT;
	l.gen_state_from_frame = ABSENT;
	l.gen_state_suspended = ABSENT;
	l.gen_state_suspended_yield_from = ABSENT;
#if PY_VERSION_HEX < 0x030a0000
	l.frame_stacktop = offsetof(PyFrameObject, f_stacktop);
	l.frame_state = ABSENT;
	l.frame_state_suspended = ABSENT;
#else
	l.frame_stacktop = ABSENT;
	l.frame_state = offsetof(PyFrameObject, f_state);
	l.frame_state_suspended = FRAME_SUSPENDED;
	_Static_assert(sizeof(((PyFrameObject *)0)->f_state) == 1, "f_state is one byte");
#endif
#else
#if PY_VERSION_HEX < 0x030d0000
	l.frame_code = offsetof(struct _PyInterpreterFrame, f_code);
#else
	l.frame_code = offsetof(struct _PyInterpreterFrame, f_executable);
#endif
	l.frame_back = offsetof(struct _PyInterpreterFrame, previous);
	l.frame_lasti = ABSENT;
	l.frame_stacktop = ABSENT;
	l.frame_state = ABSENT;
	l.frame_state_suspended = ABSENT;
	l.frame_owner = offsetof(struct _PyInterpreterFrame, owner);
	l.frame_owned_by_generator = FRAME_OWNED_BY_GENERATOR;
	l.gen_state_from_frame =
		(int)offsetof(PyGenObject, gi_frame_state) - (int)offsetof(PyGenObject, gi_iframe);
	_Static_assert(sizeof(((PyGenObject *)0)->gi_frame_state) == 1, "gi_frame_state is int8");
	l.gen_state_suspended = FRAME_SUSPENDED;
#if PY_VERSION_HEX >= 0x030d0000
	l.gen_state_suspended_yield_from = FRAME_SUSPENDED_YIELD_FROM;
#else
	l.gen_state_suspended_yield_from = FRAME_SUSPENDED;
#endif
#endif

	l.code_flags = offsetof(PyCodeObject, co_flags);
	l.code_gen_flags = CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR;
	l.code_filename = offsetof(PyCodeObject, co_filename);
	l.code_name = offsetof(PyCodeObject, co_name);
#if PY_VERSION_HEX >= 0x030b0000
	l.code_qualname = offsetof(PyCodeObject, co_qualname);
#else
	l.code_qualname = ABSENT;
#endif
	l.code_firstlineno = offsetof(PyCodeObject, co_firstlineno);

	l.str_length = offsetof(PyASCIIObject, length);
	l.str_state = offsetof(PyASCIIObject, state);
	l.str_compact_mask = state_bits(0);
	l.str_ascii_mask = state_bits(1);
	l.str_kind_shift = __builtin_ctz(kind_mask);
	l.str_kind_mask = kind_mask;
	l.str_ascii_data = sizeof(PyASCIIObject);
	l.str_compact_data = sizeof(PyCompactUnicodeObject);
	l.str_utf8_length = offsetof(PyCompactUnicodeObject, utf8_length);
	l.str_utf8 = offsetof(PyCompactUnicodeObject, utf8);

	l.tstate_interp = offsetof(PyThreadState, interp);
#if PY_VERSION_HEX < 0x030c0000
	l.tstate_curexc_type = offsetof(PyThreadState, curexc_type);
	l.tstate_curexc_value = offsetof(PyThreadState, curexc_value);
	l.tstate_current_exception = ABSENT;
	l.runtime_tstate_current = offsetof(_PyRuntimeState, gilstate.tstate_current);
#else
	l.tstate_curexc_type = ABSENT;
	l.tstate_curexc_value = ABSENT;
	l.tstate_current_exception = offsetof(PyThreadState, current_exception);
	l.runtime_tstate_current = ABSENT; /* a thread-local variable from 3.12 */
#endif
	l.runtime_interpreters_head = offsetof(_PyRuntimeState, interpreters.head);
	l.runtime_interpreters_main = offsetof(_PyRuntimeState, interpreters.main);
	l.interp_next = offsetof(PyInterpreterState, next);
	l.interp_id = offsetof(PyInterpreterState, id);
	l.interp_eval_frame = offsetof(PyInterpreterState, eval_frame);

	l.ob_type = offsetof(PyObject, ob_type);
	l.type_tp_name = offsetof(PyTypeObject, tp_name);
	l.tuple_size = offsetof(PyVarObject, ob_size);
	l.tuple_item = offsetof(PyTupleObject, ob_item);
	l.exc_args = offsetof(PyBaseExceptionObject, args);

	printf("version 0x%04x\n", l.version);
#define PRINT_FIELD(name)                                                    \
	if (l.name == UNSET) {                                               \
		printf(#name " UNSET\n");                                    \
		err = 1;                                                     \
	} else if (l.name == ABSENT) {                                       \
		printf(#name " absent\n");                                   \
	} else {                                                             \
		printf(#name " %d\n", l.name);                               \
	}
	PY_LAYOUT_FIELDS(PRINT_FIELD)
	return err;
}
