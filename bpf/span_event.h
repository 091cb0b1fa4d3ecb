/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The record the BPF side sends to user space for each finished (or lost)
 * call, and the per-function rules user space hands to the BPF side.
 * Shared by bpf/spanprobe.bpf.c and user/; plain fixed-width types only. */
#ifndef SPANPROBE_SPAN_EVENT_H
#define SPANPROBE_SPAN_EVENT_H

/* Deepest nesting of traced calls kept per thread; deeper calls are counted
 * and not recorded, and their returns are recognised and ignored. */
#define SPAN_MAX_DEPTH 32
/* Most functions one run can trace (array map of rules, cookie range). */
#define SPAN_MAX_FUNCS 4096

/* span_event.flags */
#define SPAN_F_ERROR     (1u << 0) /* the return value matched the error rule */
#define SPAN_F_TRUNCATED (1u << 1) /* the return was never seen; end = detection */
#define SPAN_F_ROOT      (1u << 2) /* no open parent: the span starts its trace */

/* Why a call was truncated (span_event.lost_reason) */
#define SPAN_LOST_NONE        0
#define SPAN_LOST_STACK_UNWIND 1 /* a later call/return showed the frame is gone (longjmp, exception) */
#define SPAN_LOST_THREAD_EXIT 2 /* the thread exited with the call open */

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

struct span_event {
	__u8 trace_id[16];
	__u64 span_id;
	__u64 parent_span_id; /* 0 for a root */
	__u64 start_ns;       /* CLOCK_MONOTONIC */
	__u64 end_ns;
	__u64 ret;            /* raw return register, normalised to ret_size */
	__u32 pid;            /* tgid */
	__u32 tid;
	__u32 func_id;
	__u16 depth;          /* 0 for a root */
	__u8 flags;           /* SPAN_F_* */
	__u8 lost_reason;     /* SPAN_LOST_* */
};

/* Counters in the per-CPU array `stats`, summed by user space. */
#define STAT_RINGBUF_DROPS 0 /* span records lost: ring buffer full */
#define STAT_DEPTH_DROPS   1 /* calls not recorded: nesting deeper than SPAN_MAX_DEPTH */
#define STAT_STACK_DROPS   2 /* calls not recorded: per-thread state could not be made */
#define STAT_CALLS         3 /* entries seen where no per-function counter is kept */
#define STAT_EXEC_DROPS    4 /* exec reports lost: their containers are not searched */
#define STAT_MAX           5

#endif /* SPANPROBE_SPAN_EVENT_H */
