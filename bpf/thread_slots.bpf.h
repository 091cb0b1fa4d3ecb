/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Where a thread's stack of open calls lives: the slot of thread_slots its
 * id maps to, or its own task storage when that slot is taken (see
 * trace_state.bpf.h), and how a thread gives it back. */
#ifndef SPANPROBE_THREAD_SLOTS_BPF_H
#define SPANPROBE_THREAD_SLOTS_BPF_H

#include "trace_state.bpf.h"

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

#endif /* SPANPROBE_THREAD_SLOTS_BPF_H */
