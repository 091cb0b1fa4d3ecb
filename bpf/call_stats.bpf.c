// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The per-function statistics every ending frame feeds (call_stats.bpf.h):
 * one global function, verified once for every program that calls it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "shadow_stack.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* A call of func_id ended after dur_ns, self_ns of it outside traced
 * calls. Atomic adds: a program preempted on its CPU by another run of it
 * must not lose a count. */
__noinline int call_stats__add(__u32 func_id, __u64 dur_ns, __u64 self_ns, __u8 flags)
{
	struct call_stats *s;
	__u32 b;

	s = call_stats__of(func_id);
	if (!s) {
		count(STAT_SUMMARY_DROPS);
		return 0;
	}
	if (flags & SPAN_F_TRUNCATED) {
		__sync_fetch_and_add(&s->truncated, 1);
		return 0;
	}
	__sync_fetch_and_add(&s->calls, 1);
	if (flags & SPAN_F_ERROR)
		__sync_fetch_and_add(&s->errors, 1);
	__sync_fetch_and_add(&s->total_ns, dur_ns);
	__sync_fetch_and_add(&s->self_ns, self_ns);
	if (dur_ns > s->max_ns)
		s->max_ns = dur_ns;
	if (!s->min_ns || dur_ns < s->min_ns)
		s->min_ns = dur_ns;
	b = hist_bucket(dur_ns);
	if (b < HIST_BUCKETS)
		__sync_fetch_and_add(&s->hist[b], 1);
	return 0;
}
