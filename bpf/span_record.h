/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Every record the BPF side sends to user space, and the settings user space
 * hands to it. Each ring-buffer record starts with a struct record_header
 * (kind, size); user/spans/span_decode.c reads every kind. Shared by bpf/
 * and user/; plain fixed-width types only, no includes. */
#ifndef SPANPROBE_SPAN_RECORD_H
#define SPANPROBE_SPAN_RECORD_H

/* Deepest nesting of traced calls kept per thread; deeper calls are counted
 * and not recorded, and their returns are recognised and ignored. */
#define SPAN_MAX_DEPTH 32
/* Most functions one run can trace by uprobe (array map of rules, cookies). */
#define SPAN_MAX_FUNCS 4096
/* Functions found at run time (Python code objects) get ids from here, so
 * they never collide with uprobe ids. */
#define DYN_FUNC_ID_BASE 0x80000000u

/* record_header.kind */
enum record_kind {
	REC_SPAN = 1,           /* struct span_record: a finished (or lost) call */
	REC_SPAN_EXCEPTION = 2, /* struct exception_record: a call left by an exception */
	REC_PY_FUNC = 3,        /* struct py_func_record: a traced Python function, first seen */
	REC_EXEC = 4,           /* struct exec_record: a process exec'd (control ring) */
	REC_FORK = 5,           /* struct proc_record: a traced process forked one (control ring) */
	REC_EXIT = 6,           /* struct proc_record: a traced process ended (control ring) */
	REC_PY_UNHOOKED = 7,    /* struct exec_record: a CPython 3.11+ interpreter of this
				 * process runs with inlining on (control ring) */
	REC_SPAN_ARGS = 8,      /* struct span_args_record: a span with the arguments captured at entry */
};

struct record_header {
	__u16 kind;  /* enum record_kind */
	__u16 size;  /* of the whole record, header included */
	__u32 pad;
};

/* span_record.flags */
#define SPAN_F_ERROR     (1u << 0) /* the return value matched the error rule, or an exception left */
#define SPAN_F_TRUNCATED (1u << 1) /* the return was never seen; end = when the loss was seen */
#define SPAN_F_ROOT      (1u << 2) /* no open parent: the span starts its trace */
#define SPAN_F_NO_RETURN (1u << 3) /* ended by a tail jump out: no return value seen, no rule judged */
/* REC_SPAN_EXCEPTION: how to read exception_record.type */
#define SPAN_F_EXC_CXX   (1u << 4) /* a C++ type_info name (mangled): demangle it */
#define SPAN_F_EXC_GO_PTR (1u << 5) /* Go: message read from the first field of the pointed-to
				     * value: kept only for types known to hold their text there */

/* Why a call was truncated (span_record.lost_reason) */
#define SPAN_LOST_NONE         0
#define SPAN_LOST_STACK_UNWIND 1 /* a later call/return showed the frame is gone (longjmp, exception) */
#define SPAN_LOST_THREAD_EXIT  2 /* the thread exited with the call open */
#define SPAN_LOST_EXEC         3 /* the thread exec'd a new program with the call open */
#define SPAN_LOST_STOPPED      4 /* tracing stopped with the call open (it runs on untraced) */

struct span_record {
	struct record_header hdr;
	__u8 trace_id[16];
	__u64 span_id;
	__u64 parent_span_id; /* 0 for a root */
	__u64 start_ns;       /* CLOCK_MONOTONIC */
	__u64 end_ns;
	__u64 ret;            /* raw return register, normalised to the rule's ret_size */
	__u32 pid;            /* tgid */
	__u32 tid;
	__u32 func_id;        /* < DYN_FUNC_ID_BASE: uprobe function; else a REC_PY_FUNC id */
	__u16 depth;          /* 0 for a root */
	__u8 flags;           /* SPAN_F_* */
	__u8 lost_reason;     /* SPAN_LOST_* */
};

#define EXC_TYPE_LEN 48
#define EXC_MESSAGE_LEN 96

/* A call left by an exception: the span, then what was raised ("" when it
 * could not be read). */
struct exception_record {
	struct span_record span; /* hdr.kind REC_SPAN_EXCEPTION; flags has SPAN_F_ERROR */
	char type[EXC_TYPE_LEN];
	char message[EXC_MESSAGE_LEN];
};

#define PY_FILE_LEN 256 /* co_filename bytes kept (longer paths are cut) */
#define PY_NAME_LEN 64  /* co_name bytes kept */

/* A traced Python function seen for the first time in a process; sent
 * before any span with its func_id, in the same ring. */
struct py_func_record {
	struct record_header hdr;
	__u32 func_id;
	__u32 pid;
	__u32 line;     /* the def line (first line of the code object) */
	__u32 pad;
	char file[PY_FILE_LEN];
	char name[PY_NAME_LEN];
};

/* A process exec'd: it may be the first of a new container holding a probed
 * path (REC_EXEC); or its Python interpreter needs inlining turned off
 * (REC_PY_UNHOOKED). On the control ring, so a flood of spans can't crowd
 * it out. */
struct exec_record {
	struct record_header hdr;
	__u32 pid;
	__u32 pad;
	/* the process's start (ns since boot; /proc/PID/stat's starttime in
	 * clock ticks): user space reads the exec'ing process's root later, by
	 * PID, and must not take a process that reused the PID for it */
	__u64 start_boottime;
	/* REC_EXEC: the new program's name (comm, cut at 15 bytes): the
	 * process's name if it has ended when user space reads this */
	char comm[16];
};

/* A process joined or left the traced tree (REC_FORK, REC_EXIT). */
struct proc_record {
	struct record_header hdr;
	__u32 pid;
	__u32 ppid;       /* REC_FORK: the parent; REC_EXIT: 0 */
};

_Static_assert(sizeof(struct record_header) == 8, "record_header layout");
_Static_assert(sizeof(struct proc_record) == 16, "proc_record layout");
_Static_assert(sizeof(struct span_record) == 80, "span_record layout");
_Static_assert(sizeof(struct exception_record) == 80 + EXC_TYPE_LEN + EXC_MESSAGE_LEN,
	       "exception_record layout");
_Static_assert(sizeof(struct py_func_record) == 24 + PY_FILE_LEN + PY_NAME_LEN,
	       "py_func_record layout");
_Static_assert(sizeof(struct exec_record) == 40, "exec_record layout");

/* Arguments captured at a call's entry (--arg): at most ARG_MAX, from the
 * x86-64 SysV argument registers, of which at most ARG_MAX_STRINGS strings of
 * up to ARG_STR_LEN - 1 bytes. Which argument is which, and its type, the
 * function's arg_spec says (bpf/call_settings.h); the record carries values. */
#define ARG_MAX 6
#define ARG_MAX_STRINGS 2
#define ARG_STR_LEN 256

/* captured_args.flags[i] */
#define ARG_F_NULL      (1u << 0) /* a string argument was NULL: nothing read */
#define ARG_F_FAULT     (1u << 1) /* reading the string faulted (bad pointer, page not in memory) */
#define ARG_F_TRUNCATED (1u << 2) /* the string is longer than ARG_STR_LEN - 1 bytes: cut */
#define ARG_F_PTR_FAULT (1u << 3) /* pstring: reading the char * itself faulted */

struct captured_args {
	__u64 value[ARG_MAX];            /* the register (a string's: its pointer) */
	__u8 flags[ARG_MAX];             /* ARG_F_* */
	__u8 nargs;
	__u8 pad;
	char str[ARG_MAX_STRINGS][ARG_STR_LEN]; /* NUL-terminated */
};

/* A finished call of a function with --arg: the span, then its arguments. */
struct span_args_record {
	struct span_record span; /* hdr.kind REC_SPAN_ARGS */
	struct captured_args args;
};

_Static_assert(sizeof(struct captured_args) == 56 + ARG_MAX_STRINGS * ARG_STR_LEN,
	       "captured_args layout");
_Static_assert(sizeof(struct span_args_record) == 80 + sizeof(struct captured_args),
	       "span_args_record layout");

/* error_rule.op */
#define ERR_OP_NONE 0
#define ERR_OP_LT   1
#define ERR_OP_LE   2
#define ERR_OP_EQ   3
#define ERR_OP_NE   4
#define ERR_OP_GT   5
#define ERR_OP_GE   6

/* How each traced function's return value is read and judged; indexed by
 * the function id carried in the attach cookie. */
struct func_rule {
	__u8 err_op;      /* ERR_OP_* */
	__u8 ret_size;    /* 1, 2, 4 or 8 bytes: the return type's width */
	__u8 ret_signed;  /* sign-extend the return value */
	__u8 pad[5];
	__s64 err_value;  /* compared with the (sign-extended) return value */
};

/* Counters in the per-CPU array `stats`, summed by user space. */
enum stat_id {
	STAT_RINGBUF_DROPS, /* span records lost: ring buffer full */
	STAT_DEPTH_DROPS,   /* calls not recorded: nesting deeper than SPAN_MAX_DEPTH */
	STAT_STACK_DROPS,   /* calls not recorded: per-thread state could not be made */
	STAT_PY_CALLS,      /* entries of traced Python functions */
	STAT_EXEC_DROPS,    /* exec reports lost: their containers are not searched */
	STAT_TREE_DROPS,    /* forked processes not followed: the traced tree is full */
	STAT_PROC_DROPS,    /* fork/exit reports lost (the counts of processes seen) */
	STAT_PY_EVAL_ENTRIES, /* evaluator entries in traced processes (every Python call) */
	STAT_ARGS_DROPS,    /* calls whose arguments were not captured (captured calls nested too deep) */
	STAT_SUMMARY_DROPS, /* calls of functions beyond the summary's slots: not in the summary */
	STAT_UNSAMPLED,     /* traces not sent: the sampler said no */
	STAT_FILTERED,      /* spans not sent: --min-duration / --errors-only */
	STAT_MAX,
};

#endif /* SPANPROBE_SPAN_RECORD_H */
