/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What every probe source shares in the kernel: the per-thread stack's
 * types, the settings user space fills in before load, the maps (thread
 * slots, the ring buffers, the traced processes, the counters) and the
 * process filter. The maps are __weak: every probe source (bpf/NAME.bpf.c)
 * includes this header, and the BPF linker (bpftool gen object) keeps one
 * of each. */
#ifndef SPANPROBE_TRACE_STATE_BPF_H
#define SPANPROBE_TRACE_STATE_BPF_H

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

/* An exception or panic in flight on one stack. */
struct pending_exc {
	__u32 active;
	__u8 span_flags;   /* SPAN_F_EXC_* for the decoder */
	__u8 pad[3];
	__u64 since_sp;    /* (virtual) sp where it started: frames above are left */
	__u64 clear_above; /* the first call or return above this sp ends it (after the
			    * frames it left are sent); ~0: only a catch ends it */
	char type[EXC_TYPE_LEN];
	char message[EXC_MESSAGE_LEN];
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

#endif /* SPANPROBE_TRACE_STATE_BPF_H */
