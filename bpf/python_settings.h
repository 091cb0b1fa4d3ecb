/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Settings user space hands to the Python probe sources (bpf/python_*.bpf.c):
 * the file and function globs, and where each interpreter keeps what the
 * BPF side reads. Records are in span_record.h. Plain fixed-width types only. */
#ifndef SPANPROBE_PYTHON_SETTINGS_H
#define SPANPROBE_PYTHON_SETTINGS_H

#define PY_GLOB_LEN 128
#define PY_MAX_GLOBS 16 /* file globs and function globs together */
#define PY_MAX_INTERPS 8

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

#endif /* SPANPROBE_PYTHON_SETTINGS_H */
