/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Records and settings shared by bpf/python.bpf.c and user/python_probe.c,
 * on top of span_event.h: Python calls are sent as struct span_event, with
 * function ids of their own, plus one record per newly seen Python function.
 * Plain fixed-width types only; include span_event.h first. */
#ifndef SPANPROBE_PYTHON_EVENT_H
#define SPANPROBE_PYTHON_EVENT_H

/* Python function ids start here, so they never collide with uprobe ids. */
#define PY_FUNC_ID_BASE 0x80000000u

#define PY_FILE_LEN 256 /* co_filename bytes kept (longer paths are cut) */
#define PY_NAME_LEN 64  /* co_name bytes kept */
#define PY_GLOB_LEN 128
#define PY_MAX_GLOBS 16 /* file globs and function globs together */
#define PY_MAX_INTERPS 8

/* The first field of every record in `py_events` that is not a span. */
#define PY_REC_CODE 1

/* A traced Python function seen for the first time in a process; sent
 * before any span with its func_id. */
struct py_code_event {
	__u32 kind;     /* PY_REC_CODE */
	__u32 func_id;
	__u32 pid;
	__u32 line;     /* line reported at the first entry (the def line) */
	char file[PY_FILE_LEN];
	char name[PY_NAME_LEN];
};

/* A call left by an exception: the span record followed by what was raised.
 * Sent instead of a bare struct span_event, told apart by its size. */
struct py_error_span {
	struct span_event span;     /* flags has SPAN_F_ERROR */
	char exc_type[48];          /* tp_name of the exception type, or "" */
	char exc_message[96];       /* str(args[0]) when a plain str, or "" */
};

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

#endif /* SPANPROBE_PYTHON_EVENT_H */
