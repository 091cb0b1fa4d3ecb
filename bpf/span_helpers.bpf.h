/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Small helpers both BPF objects (uprobes, Python) share. */
#ifndef SPANPROBE_SPAN_HELPERS_BPF_H
#define SPANPROBE_SPAN_HELPERS_BPF_H

/* Adds one to slot `stat` of a per-CPU u64 array of counters. */
static __always_inline void count_in(void *counters, __u32 stat)
{
	__u64 *v = bpf_map_lookup_elem(counters, &stat);

	if (v)
		*v += 1;
}

/* Trace and span ids: random, as W3C Trace Context asks. */
static __always_inline __u64 random_u64(void)
{
	return ((__u64)bpf_get_prandom_u32() << 32) | bpf_get_prandom_u32();
}

/* Unread bytes in a ring buffer that make a record wake the reader. */
#define WAKEUP_BYTES (256 << 10)

/* Waking the reader for every record costs the traced thread ~1 us; wake it
 * once, when a record of record_size bytes takes the unread data across
 * WAKEUP_BYTES (a reader already awake or stopped gains nothing from more).
 * User space also drains after each 100 ms poll, so a quiet trickle, or a
 * crossing two CPUs raced past, still arrives. Call after the reserve. */
static __always_inline __u64 wakeup_flag(void *ringbuf, __u64 record_size)
{
	/* a record's room: 8-byte header, 8-byte aligned */
	__u64 room = (record_size + 8 + 7) / 8 * 8;
	__u64 avail = bpf_ringbuf_query(ringbuf, BPF_RB_AVAIL_DATA);

	return avail >= WAKEUP_BYTES && avail < WAKEUP_BYTES + room ? BPF_RB_FORCE_WAKEUP
								    : BPF_RB_NO_WAKEUP;
}

/* The part of a span record every frame layout shares; SPAN_F_ROOT is added
 * when parent_span_id is 0. */
static __always_inline void fill_span_event(struct span_event *e, const __u8 trace_id[16],
					    __u64 span_id, __u64 parent_span_id, __u64 start_ns,
					    __u64 end_ns, __u64 pid_tgid, __u32 func_id, __u32 depth,
					    __u8 flags, __u8 lost_reason)
{
	__builtin_memcpy(e->trace_id, trace_id, sizeof(e->trace_id));
	e->span_id = span_id;
	e->parent_span_id = parent_span_id;
	e->start_ns = start_ns;
	e->end_ns = end_ns;
	e->ret = 0;
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->func_id = func_id;
	e->depth = depth;
	e->flags = parent_span_id ? flags : flags | SPAN_F_ROOT;
	e->lost_reason = lost_reason;
}

#endif
