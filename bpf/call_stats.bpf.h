/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Per-function call statistics in the kernel, for the summary at exit:
 * calls, errors, truncated calls, total and self time, min/max and a latency
 * histogram (call_settings.h), per function and per CPU. Kept for every
 * call that ends, whatever is sent to user space: the summary is exact when
 * span records are sampled out, filtered out or lost, and costs no record
 * in the summary-only mode. The stack's pop and unwind paths feed it
 * (record_emit.bpf.h). */
#ifndef SPANPROBE_CALL_STATS_BPF_H
#define SPANPROBE_CALL_STATS_BPF_H

#include "call_settings.h"
#include "span_record.h"

/* Slots of call_stats: uprobe function ids [0, stats_uprobe_slots), then
 * run-time (Python) ids from DYN_FUNC_ID_BASE, stats_dyn_slots of them.
 * User space sizes the map to their sum before load; 0 and 0: no summary. */
const volatile __u32 stats_uprobe_slots __weak = 0;
const volatile __u32 stats_dyn_slots __weak = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1); /* set by user space */
	__type(key, __u32);
	__type(value, struct call_stats);
} call_stats SEC(".maps") __weak;

static __always_inline struct call_stats *call_stats__of(__u32 func_id)
{
	__u32 slot;

	if (func_id < DYN_FUNC_ID_BASE) {
		if (func_id >= stats_uprobe_slots)
			return NULL;
		slot = func_id;
	} else {
		slot = func_id - DYN_FUNC_ID_BASE;
		if (slot >= stats_dyn_slots)
			return NULL;
		slot += stats_uprobe_slots;
	}
	return bpf_map_lookup_elem(&call_stats, &slot);
}

/* A call of func_id ended after dur_ns, self_ns of it outside traced
 * calls (call_stats.bpf.c). A global function, so the verifier checks it
 * once: inlined at each of the many places a frame ends, the histogram's
 * branches multiplied the verifier's states (and the memory a load charges
 * to its cgroup) several times over. */
extern int call_stats__add(__u32 func_id, __u64 dur_ns, __u64 self_ns, __u8 flags);

#endif /* SPANPROBE_CALL_STATS_BPF_H */
