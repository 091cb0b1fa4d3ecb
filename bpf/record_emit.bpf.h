/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Records out of the stack: trace and span ids, the reader's wake-up rule,
 * and span and exception records filled from a frame and sent (after the
 * sampler and the filters, with the frame's statistics and arguments). */
#ifndef SPANPROBE_RECORD_EMIT_BPF_H
#define SPANPROBE_RECORD_EMIT_BPF_H

#include <bpf/bpf_endian.h>
#include "trace_state.bpf.h"
#include "call_stats.bpf.h"
#include "call_args.bpf.h"

static __always_inline __u64 random_u64(void)
{
	return ((__u64)bpf_get_prandom_u32() << 32) | bpf_get_prandom_u32();
}

/* Trace and span ids, random-looking and unique as W3C Trace Context asks,
 * without a helper call: each thread draws from its own splitmix64 stream
 * (a Weyl sequence through a bijective 64-bit mixer, whose output passes
 * the usual statistical tests), started at a random point when the thread
 * first needs an id. Within a thread no value repeats before 2^64 draws;
 * two threads' streams meet only if their random starts fall within the
 * number of ids drawn of each other, which is as likely as a collision of
 * independent random ids. The low 56 bits the sampler reads are as
 * uniform as the whole. (bpf_get_prandom_u32 per id cost ~17 ns a call,
 * six calls at a trace's root; see bench/breakdown-results.md.) */
static __always_inline __u64 next_id(struct thread_calls *tc)
{
	__u64 z;

	if (ABLATED(ABLATE_IDS))
		return 0x0123456789abcdefULL;
	if (!tc->id_state)
		tc->id_state = random_u64() | 1;
	z = tc->id_state += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Waking the reader for every record costs the traced thread ~1 us; wake it
 * once per WAKEUP_BYTES of unread records: when a record takes the unread
 * data across a multiple of WAKEUP_BYTES (a reader already awake or stopped
 * gains nothing from more; one that missed a wake-up gets the next).
 * User space also drains after each 100 ms poll, so a quiet trickle, or a
 * crossing two CPUs raced past, still arrives. unread: the unread bytes
 * with this record; window: how far past a multiple still counts (a
 * record's room when every record looks, wider when only some do). */
static __always_inline __u64 wakeup_rule(__u64 unread, __u64 window)
{
	return unread >= WAKEUP_BYTES && unread % WAKEUP_BYTES < window ? BPF_RB_FORCE_WAKEUP
									 : BPF_RB_NO_WAKEUP;
}

/* A record's room in a ring buffer: 8-byte header, 8-byte aligned. */
#define RECORD_ROOM(size) (((size) + 8 + 7) / 8 * 8)

/* For a record of record_size bytes, already reserved. */
static __always_inline __u64 wakeup_flag(void *ringbuf, __u64 record_size)
{
	if (ABLATED(ABLATE_WAKEUP))
		return BPF_RB_NO_WAKEUP;
	return wakeup_rule(bpf_ringbuf_query(ringbuf, BPF_RB_AVAIL_DATA), RECORD_ROOM(record_size));
}

/* Span records, the bulk: only every WAKEUP_CHECK_EVERY-th record of a
 * thread asks the ring (a helper call, ~10 ns) how much is unread, with a
 * window twice as many records wide; for a record of record_size bytes
 * about to be written. */
#define WAKEUP_CHECK_EVERY 16
static __always_inline __u64 span_wakeup_flag(struct thread_calls *tc, void *ringbuf,
					      __u64 record_size)
{
	__u64 room = RECORD_ROOM(record_size);

	if (ABLATED(ABLATE_WAKEUP) || ++tc->records % WAKEUP_CHECK_EVERY)
		return BPF_RB_NO_WAKEUP;
	return wakeup_rule(bpf_ringbuf_query(ringbuf, BPF_RB_AVAIL_DATA) + room,
			   2 * WAKEUP_CHECK_EVERY * room);
}

/* Fills the span part of a record for frame idx (idx < depth). */
static __always_inline void fill_span(struct span_record *e, __u16 kind, __u16 size,
				      struct thread_calls *tc, __u32 idx, __u64 pid_tgid,
				      __u64 end_ns, __u64 ret, __u8 flags, __u8 lost_reason)
{
	struct open_call *f = FRAME(tc, idx);
	__u64 parent = idx > 0 ? FRAME(tc, idx - 1)->span_id : 0;

	e->hdr.kind = kind;
	e->hdr.size = size;
	e->hdr.pad = 0;
	__builtin_memcpy(e->trace_id, tc->trace_id, sizeof(e->trace_id));
	e->span_id = f->span_id;
	e->parent_span_id = parent;
	e->start_ns = f->start_ns;
	e->end_ns = end_ns;
	e->ret = ret;
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->func_id = f->func_id;
	e->depth = idx;
	e->flags = parent ? flags : flags | SPAN_F_ROOT;
	e->lost_reason = lost_reason;
}

/* Frame idx ends at end_ns: its duration goes into its function's
 * statistics and its parent's time in children, an error into its parent's
 * error_below. Returns whether its span is sent: the trace was sampled, and
 * with filters, the call lasted at least min_duration_ns or ended with an
 * error or above one (either filter keeps it when both are given). A
 * parent's interval holds its children's, so a kept slow call's ancestors
 * are kept too, and an error's ancestors by error_below: a kept span's
 * parent is always kept, and every kept trace has its root. */
static __always_inline bool shadow_stack__finish(struct thread_calls *tc, __u32 idx, __u64 end_ns,
						 __u8 flags)
{
	struct open_call *f = FRAME(tc, idx);
	__u64 dur = end_ns - f->start_ns;
	bool on_error_path = (flags & SPAN_F_ERROR) || f->error_below;

	/* the test is here, on rodata: with the statistics off (--no-stats) the
	 * verifier drops the call, which a global function's body can't */
	if (!ABLATED(ABLATE_STATS) && (stats_uprobe_slots || stats_dyn_slots))
		call_stats__add(f->func_id, dur, dur > f->child_ns ? dur - f->child_ns : 0, flags);
	if (idx > 0) {
		struct open_call *parent = FRAME(tc, idx - 1);

		parent->child_ns += dur;
		if (on_error_path)
			parent->error_below = 1;
	}
	if (ABLATED(ABLATE_FILTERS))
		return true;
	if (!send_spans)
		return false;
	if (!tc->sampled)
		return false;
	if (!min_duration_ns && !errors_only)
		return true;
	if ((min_duration_ns && dur >= min_duration_ns) || (errors_only && on_error_path))
		return true;
	count(STAT_FILTERED);
	return false;
}

/* Ends frame idx and sends it as a span record (with its arguments when
 * they were captured) unless finish says not to. on_stack (a constant at
 * each call site): the record is built on the BPF stack and copied by one
 * helper call, where reserve and submit are two; the pop of a returning
 * call, the hot path, does that. Truncated spans (unwinding, rare) are
 * written in place: the 80 bytes on the stack would take the unwind loop's
 * step (call_stack.bpf.h) past the 512 bytes Linux 6.1 allows a chain of
 * calls. */
static __always_inline void shadow_stack__emit_body(struct thread_calls *tc, __u32 idx, __u64 pid_tgid,
						    __u64 end_ns, __u64 ret, __u8 flags,
						    __u8 lost_reason, const bool on_stack)
{
	struct captured_args *args;
	struct span_args_record *ea;
	struct span_record rec, *e;
	bool send;

	if (idx >= SPAN_MAX_DEPTH)
		return;
	send = shadow_stack__finish(tc, idx, end_ns, flags);
	args = call_args__take(tc, FRAME(tc, idx));
	if (!send)
		return;
	if (ABLATED(ABLATE_RECORD))
		return;
	if (args) {
		ea = bpf_ringbuf_reserve(&events, sizeof(*ea), 0);
		if (!ea) {
			count(STAT_RINGBUF_DROPS);
			return;
		}
		fill_span(&ea->span, REC_SPAN_ARGS, sizeof(*ea), tc, idx, pid_tgid, end_ns, ret,
			  flags, lost_reason);
		bpf_probe_read_kernel(&ea->args, sizeof(ea->args), args);
		bpf_ringbuf_submit(ea, wakeup_flag(&events, sizeof(*ea)));
		return;
	}
	if (!on_stack) {
		e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
		if (!e) {
			count(STAT_RINGBUF_DROPS);
			return;
		}
		fill_span(e, REC_SPAN, sizeof(*e), tc, idx, pid_tgid, end_ns, ret, flags,
			  lost_reason);
		bpf_ringbuf_submit(e, wakeup_flag(&events, sizeof(*e)));
		return;
	}
	fill_span(&rec, REC_SPAN, sizeof(rec), tc, idx, pid_tgid, end_ns, ret, flags, lost_reason);
	if (bpf_ringbuf_output(&events, &rec, sizeof(rec), span_wakeup_flag(tc, &events, sizeof(rec))))
		count(STAT_RINGBUF_DROPS);
}

/* shadow_stack__emit_body as two global functions (span_emit.bpf.c), one
 * per place the record is built: the verifier checks each once, where
 * inlined at every place a frame ends (each pop, each unwinding step, each
 * tail pop) its paths multiplied the verifier's states, and with them the
 * memory a load charges to its cgroup. how: frame index, flags << 8,
 * lost_reason << 16. */
extern int span_emit_on_stack(struct thread_calls *tc, __u64 pid_tgid, __u64 end_ns, __u64 ret,
			      __u32 how);
extern int span_emit_in_place(struct thread_calls *tc, __u64 pid_tgid, __u64 end_ns, __u64 ret,
			      __u32 how);

static __always_inline void shadow_stack__emit_as(struct thread_calls *tc, __u32 idx, __u64 pid_tgid,
						  __u64 end_ns, __u64 ret, __u8 flags,
						  __u8 lost_reason, const bool on_stack)
{
	__u32 how = (idx & 0xff) | (__u32)flags << 8 | (__u32)lost_reason << 16;

	if (on_stack)
		span_emit_on_stack(tc, pid_tgid, end_ns, ret, how);
	else
		span_emit_in_place(tc, pid_tgid, end_ns, ret, how);
}

/* A returning call's span: the hot path. */
static __always_inline void shadow_stack__emit(struct thread_calls *tc, __u32 idx, __u64 pid_tgid,
					       __u64 end_ns, __u64 ret, __u8 flags)
{
	shadow_stack__emit_as(tc, idx, pid_tgid, end_ns, ret, flags, SPAN_LOST_NONE, true);
}

/* A call left without its return: a truncated span. */
static __always_inline void shadow_stack__emit_truncated(struct thread_calls *tc, __u32 idx,
							 __u64 pid_tgid, __u64 now, __u8 reason)
{
	shadow_stack__emit_as(tc, idx, pid_tgid, now, 0, SPAN_F_TRUNCATED, reason, false);
}

/* Ends frame idx as left by an exception and reserves its record with the
 * span part filled; the caller writes type and message, then submits with
 * shadow_stack__submit_exception. NULL when it is not to be sent (sampling,
 * filters, summary-only) or the ring is full (counted). */
static __always_inline struct exception_record *
shadow_stack__reserve_exception(struct thread_calls *tc, __u32 idx, __u64 pid_tgid, __u64 end_ns)
{
	struct exception_record *e;

	if (idx >= SPAN_MAX_DEPTH)
		return NULL;
	call_args__take(tc, FRAME(tc, idx));
	if (!shadow_stack__finish(tc, idx, end_ns, SPAN_F_ERROR))
		return NULL;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(STAT_RINGBUF_DROPS);
		return NULL;
	}
	fill_span(&e->span, REC_SPAN_EXCEPTION, sizeof(*e), tc, idx, pid_tgid, end_ns, 0,
		  SPAN_F_ERROR, SPAN_LOST_NONE);
	e->type[0] = 0;
	e->message[0] = 0;
	return e;
}

static __always_inline void shadow_stack__submit_exception(struct exception_record *e)
{
	bpf_ringbuf_submit(e, wakeup_flag(&events, sizeof(*e)));
}

#endif /* SPANPROBE_RECORD_EMIT_BPF_H */
