/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Compile-time switches for bench/call_breakdown.sh, never set in a normal
 * build: each drops (or repeats) one part of a traced call's hot path, so
 * that part's cost is the difference to the full build measured in the same
 * run. SPANPROBE_ABLATE is a mask of ABLATE_* bits (bench/bench.mk builds
 * one spanprobe per mask). A build with any bit set is a measuring tool: it
 * loses spans, statistics or correctness on purpose. */
#ifndef SPANPROBE_BENCH_ABLATE_H
#define SPANPROBE_BENCH_ABLATE_H

#define ABLATE_EMPTY   (1u << 0)  /* span_enter/span_exit return at once: the trap alone */
#define ABLATE_HITS    (1u << 1)  /* no per-function hit counter */
#define ABLATE_STATS   (1u << 2)  /* no per-function statistics and histogram */
#define ABLATE_IDS     (1u << 3)  /* constant trace and span ids */
#define ABLATE_TIME    (1u << 4)  /* no clock reads (times are 0) */
#define ABLATE_WAKEUP  (1u << 5)  /* no wake-up rule: never wake the reader (it drains every 100 ms) */
#define ABLATE_RECORD  (1u << 6)  /* no ring-buffer record at all (reserve, fill, submit) */
#define ABLATE_EXC_ALWAYS (1u << 7) /* the exception in flight looked up on every call (as
				     * before thread_calls.exc_used): +1 lookup */
#define ABLATE_FILTERS (1u << 8)  /* no sampling verdict nor filter checks */
#define ABLATE_TGID    (1u << 9)  /* no traced-process check */
#define ABLATE_TS_TWICE (1u << 10) /* the thread's stack looked up twice: +1 lookup */
#define ABLATE_TASK_STORAGE (1u << 11) /* threads' stacks in task storage only (before
					 * thread slots) */
#define ABLATE_PY_TRAP (1u << 12)      /* the evaluator's entry stops before reading the
					* frame: the trap and the process checks alone */
#define ABLATE_PY_NO_LOOKUP (1u << 13) /* ... stops after reading the frame's code
					* object, before its verdict's lookup */

#ifdef SPANPROBE_ABLATE
#define ABLATED(part) ((SPANPROBE_ABLATE) & (part))
#else
#define ABLATED(part) 0
#endif

#endif /* SPANPROBE_BENCH_ABLATE_H */
