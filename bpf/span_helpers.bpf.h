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

#endif
