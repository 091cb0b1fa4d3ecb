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
 * The maps here are __weak: every probe source (bpf/NAME.bpf.c) includes
 * this header, and the BPF linker (bpftool gen object) keeps one of each. */
#ifndef SPANPROBE_SHADOW_STACK_BPF_H
#define SPANPROBE_SHADOW_STACK_BPF_H

#include <bpf/bpf_endian.h>
#include "span_record.h"
#include "bench_ablate.h"

/* Frame indexes are masked so the verifier sees them in bounds; the barrier
 * keeps clang from dropping a mask it thinks redundant. */
#define DEPTH_MASK (SPAN_MAX_DEPTH - 1)
#define FRAME(tc, i) (&(tc)->frames[({ __u32 i_ = (i); barrier_var(i_); i_ & DEPTH_MASK; })])
_Static_assert((SPAN_MAX_DEPTH & DEPTH_MASK) == 0, "SPAN_MAX_DEPTH must be a power of two");

/* Unread bytes in a ring buffer that make a record wake the reader. */
#define WAKEUP_BYTES (256 << 10)

struct open_call {
	__u64 span_id;
	__u64 start_ns;
	__u64 entry_sp; /* stack pointer at entry: for a function, its return address's slot */
	__u64 key[2];   /* what the return must match, besides func_id (Python: the code's strings) */
	__u64 child_ns; /* time spent in traced calls made inside this one (self time) */
	__u32 func_id;
	__u32 flags;    /* the probe source's own (uprobe_calls: a tail call's marks); 0 at push */
	__u8 error_below; /* a call inside this one ended with an error (--errors-only) */
	__u8 args_slot;   /* 1 + the call_args.bpf.h slot of its arguments; 0: none */
	__u8 pad[6];
};

struct thread_calls {
	__u8 trace_id[16]; /* of the outermost open call */
	__u32 depth;       /* frames in use */
	__u32 overflow;    /* Python calls open beyond SPAN_MAX_DEPTH, not recorded */
	__u8 sampled;      /* the open trace's spans may be sent (the sampler's verdict) */
	__u8 args_used;    /* call_args.bpf.h slots in use */
	__u8 exc_used;     /* the thread has had an exception in flight (call_stack.bpf.h) */
	__u8 records;      /* span records sent, mod 256 (span_wakeup_flag) */
	__u8 pad[4];
	__u64 id_state;    /* the thread's id stream (next_id); 0: not seeded yet */
	struct open_call frames[SPAN_MAX_DEPTH];
};

/* What is sent (set by user space before load). send_spans false: the
 * summary-only mode, no span record at all (and no ids are drawn). */
const volatile bool send_spans __weak = true;
const volatile __u64 min_duration_ns __weak = 0; /* --min-duration; 0: off */
const volatile bool errors_only __weak = false;  /* --errors-only */
const volatile __u8 sample_mode __weak = 0;      /* SAMPLE_* (call_settings.h) */
const volatile __u64 sample_threshold __weak = 0;

/* 0 traces every process the probes are in; else only this tgid and, with
 * follow_tgids, the processes in traced_tgids: its descendants, kept by
 * process_events.bpf.c as they fork and exit. With follow_tgids and no
 * target, traced_tgids holds the processes chosen by selection (their
 * probes are theirs alone: nothing to filter) and their children join it. */
const volatile __u32 target_tgid __weak = 0;
const volatile bool follow_tgids __weak = false;

/* Open calls per thread. A thread's stack is found by its thread id in
 * thread_slots, an array whose lookup the verifier inlines (~2 ns), where
 * task storage costs a helper call (~40 ns per lookup here, twice per
 * traced call: bench/breakdown-results.md). A thread takes the slot its id
 * maps to on its first traced call when the slot is free, and gives it back
 * as it exits (thread_calls__release, from process_events.bpf.c). A thread
 * whose slot is held by another, or by a thread whose exit was missed (the
 * owner is checked by id and start time, so a reused id is another
 * thread), keeps its calls in its own task storage (open_calls), found
 * without hashing and freed by the kernel when the thread ends. */
#define THREAD_SLOTS 1024
_Static_assert((THREAD_SLOTS & (THREAD_SLOTS - 1)) == 0, "THREAD_SLOTS must be a power of two");

struct thread_slot {
	__u32 tid;   /* the owner; 0: free */
	__u32 pad;
	__u64 start; /* the owner's start_time */
	struct thread_calls calls;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, THREAD_SLOTS);
	__type(key, __u32);
	__type(value, struct thread_slot);
} thread_slots SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct thread_calls);
} open_calls SEC(".maps") __weak;

/* Threads with their calls in open_calls (not in a slot): while there are
 * none, a thread without a slot has no calls, and no lookup is made. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} stored_threads SEC(".maps") __weak;

/* Span, exception and Python function records. 4 MiB by default (--ring-buffer):
 * about 47,000 span records, half a second of 100,000 spans/s unread; user
 * space maps it twice, so it counts twice in spanprobe's RSS. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} events SEC(".maps") __weak;

/* The traced process tree (with follow_tgids): tgid -> its parent's tgid. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u32);
} traced_tgids SEC(".maps") __weak;

/* Exec, fork and exit reports and other rare control records; separate from
 * `events`, so a flood of spans can't crowd them out. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 << 10);
} control SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps") __weak;

static __always_inline void count(enum stat_id stat)
{
	__u32 key = stat;
	__u64 *v = bpf_map_lookup_elem(&stats, &key);

	if (v)
		*v += 1;
}

static __always_inline bool tgid_in_tree(__u32 tgid)
{
	if (target_tgid && tgid == target_tgid)
		return true;
	return follow_tgids && bpf_map_lookup_elem(&traced_tgids, &tgid);
}

static __always_inline bool tgid_is_traced(__u32 tgid)
{
	return !target_tgid || tgid_in_tree(tgid);
}

static __always_inline bool traced_tgid(__u64 pid_tgid)
{
	if (ABLATED(ABLATE_TGID))
		return true;
	return tgid_is_traced(pid_tgid >> 32);
}

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

#include "call_stats.bpf.h"
#include "call_args.bpf.h"

static __always_inline struct thread_slot *thread_slot__of(__u32 tid)
{
	__u32 idx = tid & (THREAD_SLOTS - 1);

	return bpf_map_lookup_elem(&thread_slots, &idx);
}

static __always_inline struct thread_calls *thread_calls__lookup(struct task_struct *task,
								 bool create)
{
	__u32 tid = task->pid, zero = 0;
	__u64 start = task->start_time, *stored;
	struct thread_slot *s = NULL;
	struct thread_calls *tc;

	if (!ABLATED(ABLATE_TASK_STORAGE)) {
		s = thread_slot__of(tid);
		if (s && s->tid == tid && s->start == start)
			return &s->calls;
	}
	stored = bpf_map_lookup_elem(&stored_threads, &zero);
	if (!stored)
		return NULL;
	if (ABLATED(ABLATE_TASK_STORAGE))
		return bpf_task_storage_get(&open_calls, task, NULL,
					    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
	if (*stored) {
		tc = bpf_task_storage_get(&open_calls, task, NULL, 0);
		if (tc)
			return tc;
	}
	if (!create)
		return NULL;
	if (s && s->tid == 0 && __sync_val_compare_and_swap(&s->tid, 0, tid) == 0) {
		/* the thread's own from now on: nobody else reads or writes it */
		s->start = start;
		__builtin_memset(&s->calls, 0, __builtin_offsetof(struct thread_calls, frames));
		return &s->calls;
	}
	/* created zeroed (depth 0) */
	tc = bpf_task_storage_get(&open_calls, task, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (tc)
		__sync_fetch_and_add(stored, 1);
	return tc;
}

/* The calls open on task (the current one); with create, made empty on the
 * thread's first traced call. NULL: none (or they can't be made). */
static __always_inline struct thread_calls *thread_calls__of(struct task_struct *task, bool create)
{
	if (ABLATED(ABLATE_TS_TWICE) && !thread_calls__lookup(task, create))
		return NULL;
	return thread_calls__lookup(task, create);
}

/* task (the current one) is exiting: its slot is free again. */
static __always_inline void thread_calls__release(struct task_struct *task)
{
	__u32 tid = task->pid, zero = 0;
	struct thread_slot *s = thread_slot__of(tid);
	__u64 *stored;

	if (s && s->tid == tid && s->start == task->start_time) {
		s->start = 0;
		__sync_lock_test_and_set(&s->tid, 0); /* xchg: after start, for the next claim */
		return;
	}
	stored = bpf_map_lookup_elem(&stored_threads, &zero);
	if (stored && *stored && bpf_task_storage_get(&open_calls, task, NULL, 0))
		__sync_fetch_and_sub(stored, 1);
}

/* A thread other than its process's leader exec'd: de_thread gave it the
 * leader's id and start time, so its calls, if in a slot, are in the one
 * of its former id, old_tid, no longer found by thread_calls__of. Returns
 * them and frees the slot (the caller ends them first: nothing runs on
 * this thread meanwhile). The owner is known by id alone: no other thread
 * can have taken a slot that was not free. */
static __always_inline struct thread_calls *thread_calls__take_former(__u32 old_tid)
{
	struct thread_slot *s = thread_slot__of(old_tid);

	if (!s || s->tid != old_tid)
		return NULL;
	return &s->calls;
}

static __always_inline void thread_calls__release_former(__u32 old_tid)
{
	struct thread_slot *s = thread_slot__of(old_tid);

	if (s && s->tid == old_tid) {
		s->start = 0;
		__sync_lock_test_and_set(&s->tid, 0);
	}
}

static __always_inline struct thread_calls *thread_calls__get(bool create)
{
	return thread_calls__of(bpf_get_current_task_btf(), create);
}

/* The current task, and its pid_tgid as bpf_get_current_pid_tgid() gives
 * it (global ids), read from the task: one helper call where two were.
 * Every helper call costs ~10 ns on kernels whose returns are mitigated
 * (SRSO's safe RET on AMD), more than the work of most. */
static __always_inline struct task_struct *current_task(__u64 *pid_tgid)
{
	struct task_struct *task = bpf_get_current_task_btf();

	*pid_tgid = (__u64)task->tgid << 32 | (__u32)task->pid;
	return task;
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
	__u64 limit, pid_tgid, now;
	bool inclusive;
	__u8 reason;
};

/* One frame of shadow_stack__unwind; 1 stops the loop. */
static int shadow_unwind_one(__u32 i, void *arg)
{
	struct shadow_unwind *u = arg;
	struct thread_calls *tc = u->tc;
	__u32 d = shadow_stack__left_depth(tc, u->limit, u->inclusive);

	if (!d)
		return 1;
	shadow_stack__emit_truncated(tc, d - 1, u->pid_tgid, u->now, u->reason);
	tc->depth = d - 1;
	return 0;
}

/* Pops (as truncated spans) every open frame whose entry stack pointer is
 * below `limit` (or at it, when `inclusive`): those calls were left without
 * their return firing. One frame per bpf_loop step: the verifier checks the
 * step once, where a loop of SPAN_MAX_DEPTH steps written out took it 32
 * times over (most of the object's load time: bench/README.md). */
static __always_inline void shadow_stack__unwind(struct thread_calls *tc, __u64 limit,
						 bool inclusive, __u64 pid_tgid, __u64 now,
						 __u8 reason)
{
	struct shadow_unwind u = {
		.tc = tc, .limit = limit, .pid_tgid = pid_tgid, .now = now,
		.inclusive = inclusive, .reason = reason,
	};

	/* the common case, nothing left behind, without a loop */
	if (!shadow_stack__left_depth(tc, limit, inclusive))
		return;
	bpf_loop(SPAN_MAX_DEPTH, shadow_unwind_one, &u, 0);
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
