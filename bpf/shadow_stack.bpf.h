/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The per-thread stack of open traced calls, shared by every probe source
 * (function uprobes, Python USDT, the Python evaluator): push on entry, pop
 * and send a span record on return, unwind frames whose return will never
 * fire, flush at thread exit. One stack per thread for all sources, so a C
 * function called from traced Python code nests under the Python span.
 *
 * Frames left without their return firing (longjmp, exceptions, a thread
 * exiting) are found by the stack pointer: a frame whose entry stack pointer
 * is below (deeper than) that of a later call on the same thread is gone.
 * Those are sent as truncated spans, so the nesting of later calls stays
 * right.
 *
 * Every frame that ends feeds the function's statistics (call_stats.bpf.h)
 * whether or not its span is sent; what is sent is decided here, once: the
 * trace's sampling verdict taken at its root, then the filters
 * (--min-duration, --errors-only), then the summary-only mode that sends
 * nothing.
 *
 * The parts: trace_state.bpf.h (types, settings, maps, the process filter),
 * thread_slots.bpf.h (where a thread's stack lives), record_emit.bpf.h (ids,
 * wake-ups, records); the stack operations are here. */
#ifndef SPANPROBE_SHADOW_STACK_BPF_H
#define SPANPROBE_SHADOW_STACK_BPF_H

#include "thread_slots.bpf.h"
#include "record_emit.bpf.h"

/* The depth of the innermost open frame when its entry stack pointer is
 * below limit (or at it, when inclusive): a call left without its return
 * firing, next to unwind. 0: none. */
static __always_inline __u32 shadow_stack__left_depth(struct thread_calls *tc, __u64 limit,
						      bool inclusive)
{
	__u32 d = tc->depth;
	__u64 sp;

	if (d == 0 || d > SPAN_MAX_DEPTH)
		return 0;
	sp = FRAME(tc, d - 1)->entry_sp;
	return sp < limit || (sp == limit && inclusive) ? d : 0;
}

struct shadow_unwind {
	struct thread_calls *tc;
	struct pending_exc *exc;
	__u64 limit, pid_tgid, now;
	bool inclusive;
	__u8 reason;
};

/* One frame of shadow_stack__unwind_exc; 1 stops the loop. */
static int shadow_unwind_one(__u32 i, void *arg)
{
	struct shadow_unwind *u = arg;
	struct thread_calls *tc = u->tc;
	struct pending_exc *exc = u->exc;
	struct exception_record *x;
	__u32 d = shadow_stack__left_depth(tc, u->limit, u->inclusive);

	if (!d)
		return 1;
	if (exc && exc->active && FRAME(tc, d - 1)->entry_sp > exc->since_sp) {
		x = shadow_stack__reserve_exception(tc, d - 1, u->pid_tgid, u->now);
		if (x) {
			__builtin_memcpy(x->type, exc->type, sizeof(x->type));
			__builtin_memcpy(x->message, exc->message, sizeof(x->message));
			x->span.flags |= exc->span_flags;
			shadow_stack__submit_exception(x);
		}
	} else {
		shadow_stack__emit_truncated(tc, d - 1, u->pid_tgid, u->now, u->reason);
	}
	tc->depth = d - 1;
	return 0;
}

/* Pops every open frame whose entry stack pointer is below `limit` (or at
 * it, when `inclusive`): those calls were left without their return
 * firing. With an exception in flight (exc, the stack's own: NULL when
 * none can be), the frames it left (above where it started) go as
 * exception records with status ERROR, the others as truncated spans. One
 * frame per bpf_loop step: the verifier checks the step once, where a loop
 * of SPAN_MAX_DEPTH steps written out took it 32 times over (most of the
 * object's load time: bench/README.md). */
static __always_inline void shadow_stack__unwind_exc(struct thread_calls *tc,
						     struct pending_exc *exc, __u64 limit,
						     bool inclusive, __u64 pid_tgid, __u64 now,
						     __u8 reason)
{
	struct shadow_unwind u = {
		.tc = tc, .exc = exc, .limit = limit, .pid_tgid = pid_tgid, .now = now,
		.inclusive = inclusive, .reason = reason,
	};

	/* the common case, nothing left behind, without a loop */
	if (!shadow_stack__left_depth(tc, limit, inclusive))
		return;
	bpf_loop(SPAN_MAX_DEPTH, shadow_unwind_one, &u, 0);
}

/* The same, for a stack on which no exception can be in flight. */
static __always_inline void shadow_stack__unwind(struct thread_calls *tc, __u64 limit,
						 bool inclusive, __u64 pid_tgid, __u64 now,
						 __u8 reason)
{
	shadow_stack__unwind_exc(tc, NULL, limit, inclusive, pid_tgid, now, reason);
}

/* Opens a frame for a new call; false (counted) when the stack is full. A
 * new thread-level trace starts when nothing is open. */
static __always_inline bool shadow_stack__push(struct thread_calls *tc, __u32 func_id, __u64 sp,
					       __u64 key0, __u64 key1, __u64 now)
{
	struct open_call *f;
	__u32 d = tc->depth;

	if (d >= SPAN_MAX_DEPTH) {
		count(STAT_DEPTH_DROPS);
		return false;
	}
	if (d == 0) {
		/* A new trace: its ids, and the sampler's verdict, once for all
		 * its calls. Nothing is drawn when nothing will be sent. */
		tc->sampled = send_spans && sample_mode != SAMPLE_ALWAYS_OFF;
		tc->args_used = 0;
		if (ABLATED(ABLATE_FILTERS))
			tc->sampled = 1;
		if (tc->sampled) {
			__u64 random_part = next_id(tc);

			*(__u64 *)&tc->trace_id[0] = next_id(tc);
			*(__u64 *)&tc->trace_id[8] = bpf_cpu_to_be64(random_part);
			if (!ABLATED(ABLATE_FILTERS) && sample_mode == SAMPLE_RATIO &&
			    (random_part & ((1ULL << SAMPLE_RANDOM_BITS) - 1)) < sample_threshold) {
				tc->sampled = false;
				count(STAT_UNSAMPLED);
			}
		}
	}
	f = FRAME(tc, d);
	/* never 0: 0 means "no parent" */
	f->span_id = tc->sampled ? next_id(tc) | 1 : 1;
	f->start_ns = now;
	f->entry_sp = sp;
	f->key[0] = key0;
	f->key[1] = key1;
	f->child_ns = 0;
	f->func_id = func_id;
	f->flags = 0;
	f->error_below = 0;
	f->args_slot = 0;
	tc->depth = d + 1;
	return true;
}

/* The innermost open frame, or NULL. */
static __always_inline struct open_call *shadow_stack__top(struct thread_calls *tc)
{
	__u32 d = tc->depth;

	if (d == 0 || d > SPAN_MAX_DEPTH)
		return NULL;
	return FRAME(tc, d - 1);
}

/* Closes the innermost frame as a finished call; on_stack (a constant at
 * each call site) as for shadow_stack__emit_as: false where the caller's
 * chain of calls has no room for the record on its stack. */
static __always_inline void shadow_stack__pop_as(struct thread_calls *tc, __u64 pid_tgid, __u64 now,
						 __u64 ret, __u8 flags, const bool on_stack)
{
	__u32 d = tc->depth;

	if (d == 0 || d > SPAN_MAX_DEPTH)
		return;
	shadow_stack__emit_as(tc, d - 1, pid_tgid, now, ret, flags, SPAN_LOST_NONE, on_stack);
	tc->depth = d - 1;
}

/* Closes the innermost frame as a finished call: the hot path. */
static __always_inline void shadow_stack__pop(struct thread_calls *tc, __u64 pid_tgid, __u64 now,
					      __u64 ret, __u8 flags)
{
	shadow_stack__pop_as(tc, pid_tgid, now, ret, flags, true);
}

#endif /* SPANPROBE_SHADOW_STACK_BPF_H */
