// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Process and thread lifecycle, for every probe source: a thread exiting
 * with calls open flushes them as truncated spans; an exec is reported so
 * user space can look for probed paths in a new container. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "shadow_stack.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Report execs (set when an absolute path is probed system-wide). */
const volatile bool watch_execs = false;

/* A thread exiting with open calls: send them as truncated. The storage
 * itself goes with the task. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(thread_exit, struct task_struct *task)
{
	struct thread_calls *tc = bpf_task_storage_get(&open_calls, task, NULL, 0);

	if (!tc)
		return 0;
	shadow_stack__unwind(tc, ~0ULL, true, bpf_get_current_pid_tgid(), bpf_ktime_get_ns(),
			     SPAN_LOST_THREAD_EXIT);
	return 0;
}

/* Rare enough to wake user space for each. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(process_exec)
{
	struct exec_record *e;

	if (!watch_execs)
		return 0;
	e = bpf_ringbuf_reserve(&control, sizeof(*e), 0);
	if (!e) {
		count(STAT_EXEC_DROPS);
		return 0;
	}
	e->hdr.kind = REC_EXEC;
	e->hdr.size = sizeof(*e);
	e->hdr.pad = 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->pad = 0;
	bpf_ringbuf_submit(e, 0);
	return 0;
}
