// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Process and thread lifecycle, for every probe source: a thread exiting
 * with calls open flushes them as truncated spans; an exec is reported so
 * user space can look for probed paths in a new container; with
 * follow_tgids, the traced process tree grows as its processes fork (in the
 * kernel, before the child first runs: its first call is traced) and
 * shrinks as they exit (a reused PID is never taken for a traced one);
 * when tracing stops, calls still open are sent as truncated. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "call_stack.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Report execs (set when an absolute path is probed system-wide). */
const volatile bool watch_execs = false;

static __always_inline void send_proc_record(__u16 kind, __u32 pid, __u32 ppid)
{
	struct proc_record *e = bpf_ringbuf_reserve(&control, sizeof(*e), 0);

	if (!e) {
		count(STAT_PROC_DROPS);
		return;
	}
	e->hdr.kind = kind;
	e->hdr.size = sizeof(*e);
	e->hdr.pad = 0;
	e->pid = pid;
	e->ppid = ppid;
	bpf_ringbuf_submit(e, 0);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(process_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ppid = BPF_CORE_READ(parent, tgid), pid = BPF_CORE_READ(child, tgid);

	/* a new thread shares its process's tgid: nothing to add */
	if (!follow_tgids || pid == ppid || !tgid_in_tree(ppid))
		return 0;
	if (bpf_map_update_elem(&traced_tgids, &pid, &ppid, BPF_ANY)) {
		count(STAT_TREE_DROPS);
		return 0;
	}
	send_proc_record(REC_FORK, pid, ppid);
	return 0;
}

/* A thread exiting with open calls: send them as truncated, and give its
 * thread slot back (task storage goes with the task). The last thread of a
 * traced process leaves the tree. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(thread_exit, struct task_struct *task)
{
	struct thread_calls *tc = thread_calls__of(task, false);
	__u32 tgid;

	if (tc) {
		shadow_stack__unwind(tc, ~0ULL, true, bpf_get_current_pid_tgid(),
				     bpf_ktime_get_ns(), SPAN_LOST_THREAD_EXIT);
		thread_calls__release(task);
	}
	if (!follow_tgids || BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	tgid = BPF_CORE_READ(task, tgid);
	if (tgid == target_tgid || bpf_map_delete_elem(&traced_tgids, &tgid) == 0)
		send_proc_record(REC_EXIT, tgid, 0);
	return 0;
}

/* Calls open across an exec never return: the program they were in is
 * gone. They end here as truncated; without this they would stay on the
 * thread's stack (task storage and thread slots outlive an exec) and the
 * new program's calls would nest under them, in the old trace.
 * Reporting the exec is rare enough to wake user space for each. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(process_exec, struct task_struct *p, pid_t old_pid)
{
	struct thread_calls *tc = thread_calls__of(p, false);
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct exec_record *e;

	if (tc) {
		shadow_stack__unwind(tc, ~0ULL, true, pid_tgid, bpf_ktime_get_ns(), SPAN_LOST_EXEC);
	} else if ((__u32)old_pid != (__u32)pid_tgid) {
		/* not the leader: its calls were made under its former id */
		tc = thread_calls__take_former(old_pid);
		if (tc) {
			shadow_stack__unwind(tc, ~0ULL, true, (pid_tgid & ~0xffffffffULL) | (__u32)old_pid,
					     bpf_ktime_get_ns(), SPAN_LOST_EXEC);
			thread_calls__release_former(old_pid);
		}
	}
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
	/* de_thread gave the exec'ing thread the leader's start time */
	e->start_boottime = bpf_get_current_task_btf()->group_leader->start_boottime;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* One goroutine stack still open at the stop (bpf_for_each_map_elem
 * over go_stacks): the thread that ran the goroutine last is not known
 * here; its process id stands in. */
static long go_stack_at_stop(struct bpf_map *map, struct go_key *key, struct go_stack *s,
			     void *unused)
{
	shadow_stack__unwind(&s->calls, ~0ULL, true, (__u64)key->tgid << 32 | key->tgid,
			     bpf_ktime_get_ns(), SPAN_LOST_STOPPED);
	return 0;
}

/* Tracing stops. User space detaches every probe, then runs this iterator
 * once, before its last read of the ring: a call still open then (a request
 * in progress, a sleep) will never be seen returning, and without a record
 * its children's spans would point at a parent nobody sent. It ends here as
 * truncated at the stop; the program runs on untraced. Each thread's stack
 * comes with its task; the goroutine stacks at the iterator's last call
 * (task NULL), walked with bpf_for_each_map_elem: some kernels refuse
 * iter/bpf_map_elem programs, and this needs none. */
SEC("iter/task")
int open_calls_at_stop(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct thread_calls *tc;

	if (!task) {
		bpf_for_each_map_elem(&go_stacks, go_stack_at_stop, NULL, 0);
		return 0;
	}
	tc = thread_calls__of(task, false);
	if (tc)
		shadow_stack__unwind(tc, ~0ULL, true, (__u64)task->tgid << 32 | (__u32)task->pid,
				     bpf_ktime_get_ns(), SPAN_LOST_STOPPED);
	return 0;
}
