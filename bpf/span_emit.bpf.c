// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The record of an ending frame (shadow_stack.bpf.h): global functions,
 * verified once for every program that ends frames. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "shadow_stack.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline int emit(struct thread_calls *tc, __u64 pid_tgid, __u64 end_ns, __u64 ret,
				__u32 how, const bool on_stack)
{
	if (!tc)
		return 0;
	shadow_stack__emit_body(tc, how & 0xff, pid_tgid, end_ns, ret, (__u8)(how >> 8),
				(__u8)(how >> 16), on_stack);
	return 0;
}

__noinline int span_emit_on_stack(struct thread_calls *tc, __u64 pid_tgid, __u64 end_ns,
					   __u64 ret, __u32 how)
{
	return emit(tc, pid_tgid, end_ns, ret, how, true);
}

__noinline int span_emit_in_place(struct thread_calls *tc, __u64 pid_tgid, __u64 end_ns,
					   __u64 ret, __u32 how)
{
	return emit(tc, pid_tgid, end_ns, ret, how, false);
}
