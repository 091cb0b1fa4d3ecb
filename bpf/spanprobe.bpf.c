// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* One uprobe and one uretprobe program serve every traced function: the
 * attach cookie says which function fired. Each thread keeps a shadow stack
 * of its open traced calls; a return pops its frame and sends one span record
 * to user space through the ring buffer.
 *
 * Calls that never return (longjmp, C++ exceptions, thread exit) are found by
 * the stack pointer: a frame whose entry stack pointer is at or below the
 * stack pointer of a later call on the same thread is gone. Those frames are
 * sent as truncated spans so the nesting of later calls stays right. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "span_event.h"
#include "span_helpers.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* 0 traces every process that maps a probed file; else only this tgid. */
const volatile __u32 target_tgid = 0;
/* Report execs, so user space can find probed paths in new containers. */
const volatile bool watch_execs = false;

/* Frame indexes are masked so the verifier sees them in bounds; the barrier
 * keeps clang from dropping a mask it thinks redundant. */
#define DEPTH_MASK (SPAN_MAX_DEPTH - 1)
#define FRAME(tc, i) (&(tc)->frames[({ __u32 i_ = (i); barrier_var(i_); i_ & DEPTH_MASK; })])
_Static_assert((SPAN_MAX_DEPTH & DEPTH_MASK) == 0, "SPAN_MAX_DEPTH must be a power of two");

struct open_frame {
	__u64 span_id;
	__u64 start_ns;
	__u64 entry_sp; /* stack pointer at entry: the return address's slot */
	__u32 func_id;
	__u32 pad;
};

struct thread_calls {
	__u8 trace_id[16]; /* of the outermost open call */
	__u32 depth;       /* frames in use */
	__u32 pad;
	struct open_frame frames[SPAN_MAX_DEPTH];
};

/* Open calls per thread, in the thread's own task storage: found without
 * hashing, and freed by the kernel when the thread ends. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct thread_calls);
} open_calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SPAN_MAX_FUNCS);
	__type(key, __u32);
	__type(value, struct func_rule);
} func_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

/* tgids that just exec'd (only with watch_execs). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 << 10);
} execs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* Entries per traced function (attach cookie), for per-probe hit counts. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SPAN_MAX_FUNCS);
	__type(key, __u32);
	__type(value, __u64);
} func_hits SEC(".maps");

static __always_inline void count(__u32 stat)
{
	count_in(&stats, stat);
}

/* Sign- or zero-extend the return register to the function's return type and
 * tell whether it matches the error rule. */
static __always_inline bool judge_return(const struct func_rule *rule, __u64 *ret)
{
	__u64 raw = *ret;
	__s64 sv;
	__u64 uv;

	switch (rule->ret_size) {
	case 1:
		sv = (__s8)raw;
		uv = (__u8)raw;
		break;
	case 2:
		sv = (__s16)raw;
		uv = (__u16)raw;
		break;
	case 4:
		sv = (__s32)raw;
		uv = (__u32)raw;
		break;
	default:
		sv = (__s64)raw;
		uv = raw;
		break;
	}
	*ret = rule->ret_signed ? (__u64)sv : uv;

	if (rule->ret_signed) {
		switch (rule->err_op) {
		case ERR_OP_LT: return sv < rule->err_value;
		case ERR_OP_LE: return sv <= rule->err_value;
		case ERR_OP_EQ: return sv == rule->err_value;
		case ERR_OP_NE: return sv != rule->err_value;
		case ERR_OP_GT: return sv > rule->err_value;
		case ERR_OP_GE: return sv >= rule->err_value;
		}
		return false;
	}
	switch (rule->err_op) {
	case ERR_OP_LT: return uv < (__u64)rule->err_value;
	case ERR_OP_LE: return uv <= (__u64)rule->err_value;
	case ERR_OP_EQ: return uv == (__u64)rule->err_value;
	case ERR_OP_NE: return uv != (__u64)rule->err_value;
	case ERR_OP_GT: return uv > (__u64)rule->err_value;
	case ERR_OP_GE: return uv >= (__u64)rule->err_value;
	}
	return false;
}

/* Send frame idx of tc as a span record. */
static __always_inline void emit_span(struct thread_calls *tc, __u32 idx, __u64 pid_tgid,
				      __u64 end_ns, __u64 ret, __u8 flags, __u8 lost_reason)
{
	struct open_frame *f;
	struct span_event *e;

	if (idx >= SPAN_MAX_DEPTH)
		return;
	f = FRAME(tc, idx);

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(STAT_RINGBUF_DROPS);
		return;
	}
	fill_span_event(e, tc->trace_id, f->span_id, idx > 0 ? FRAME(tc, idx - 1)->span_id : 0,
			f->start_ns, end_ns, pid_tgid, f->func_id, idx, flags, lost_reason);
	e->ret = ret;
	bpf_ringbuf_submit(e, wakeup_flag(&events, sizeof(*e)));
}

/* Pop (as truncated spans) every open frame whose entry stack slot is below
 * `limit` (or at it, when `inclusive`): those calls were left without their
 * return firing. */
static __always_inline void pop_dead_frames(struct thread_calls *tc, __u64 limit, bool inclusive,
					    __u64 pid_tgid, __u64 now, __u8 reason)
{
	for (int i = 0; i < SPAN_MAX_DEPTH; i++) {
		__u32 d = tc->depth;
		__u64 sp;

		if (d == 0 || d > SPAN_MAX_DEPTH)
			return;
		sp = FRAME(tc, d - 1)->entry_sp;
		if (sp > limit || (sp == limit && !inclusive))
			return;
		emit_span(tc, d - 1, pid_tgid, now, 0, SPAN_F_TRUNCATED, reason);
		tc->depth = d - 1;
	}
}

/* Does the return-address slot at sp hold the uretprobe trampoline? Then an
 * open frame at the same slot is alive: a tail call (jmp) entered this
 * function from it, and both returns will fire. Otherwise a frame at this
 * slot was left without returning (longjmp) and a new call reused its slot.
 * The kernel tells its own return instances apart the same way. */
static __always_inline bool slot_holds_trampoline(__u64 sp)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 trampoline = BPF_CORE_READ(task, mm, uprobes_state.xol_area, vaddr);
	__u64 ret_addr = 0;

	if (!trampoline || bpf_probe_read_user(&ret_addr, sizeof(ret_addr), (void *)sp))
		return false;
	return ret_addr == trampoline;
}

SEC("uprobe")
int BPF_UPROBE(span_enter)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 sp = PT_REGS_SP(ctx);
	struct thread_calls *tc;
	struct open_frame *f;
	__u64 now;
	__u32 d;

	__u32 func_id = (__u32)bpf_get_attach_cookie(ctx);
	__u64 *hits;

	if (target_tgid && (pid_tgid >> 32) != target_tgid)
		return 0;
	hits = bpf_map_lookup_elem(&func_hits, &func_id);
	if (hits)
		*hits += 1;

	/* created zeroed (depth 0) on the thread's first traced call */
	tc = bpf_task_storage_get(&open_calls, bpf_get_current_task_btf(), NULL,
				  BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!tc) {
		count(STAT_STACK_DROPS);
		return 0;
	}
	now = bpf_ktime_get_ns();
	/* A new call above an open frame's slot means that frame is gone; at the
	 * same slot too, unless it is a tail call. */
	d = tc->depth;
	pop_dead_frames(tc, sp,
			!(d && FRAME(tc, d - 1)->entry_sp == sp && slot_holds_trampoline(sp)),
			pid_tgid, now, SPAN_LOST_STACK_UNWIND);

	d = tc->depth;
	if (d >= SPAN_MAX_DEPTH) {
		count(STAT_DEPTH_DROPS);
		return 0;
	}
	if (d == 0) {
		*(__u64 *)&tc->trace_id[0] = random_u64();
		*(__u64 *)&tc->trace_id[8] = random_u64();
	}
	f = FRAME(tc, d);
	f->span_id = random_u64() | 1; /* never 0: 0 means "no parent" */
	f->entry_sp = sp;
	f->func_id = func_id;
	f->start_ns = now;
	tc->depth = d + 1;
	return 0;
}

SEC("uretprobe")
int BPF_URETPROBE(span_exit, long rc)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	/* `ret` popped the return address: the entry slot is one word below. */
	__u64 entry_sp = PT_REGS_SP(ctx) - sizeof(__u64);
	__u32 func_id = (__u32)bpf_get_attach_cookie(ctx);
	const struct func_rule *rule;
	struct thread_calls *tc;
	struct open_frame *f;
	__u64 ret = rc, now;
	__u8 flags = 0;
	__u32 d;

	if (target_tgid && (pid_tgid >> 32) != target_tgid)
		return 0;
	tc = bpf_task_storage_get(&open_calls, bpf_get_current_task_btf(), NULL, 0);
	if (!tc)
		return 0;
	now = bpf_ktime_get_ns();
	/* Frames deeper than the returning call were skipped over. */
	pop_dead_frames(tc, entry_sp, false, pid_tgid, now, SPAN_LOST_STACK_UNWIND);

	d = tc->depth;
	if (d == 0 || d > SPAN_MAX_DEPTH)
		return 0;
	f = FRAME(tc, d - 1);
	/* Not our frame: a call deeper than SPAN_MAX_DEPTH that was not recorded. */
	if (f->entry_sp != entry_sp || f->func_id != func_id)
		return 0;

	rule = bpf_map_lookup_elem(&func_rules, &func_id);
	if (rule && judge_return(rule, &ret))
		flags |= SPAN_F_ERROR;
	emit_span(tc, d - 1, pid_tgid, now, ret, flags, SPAN_LOST_NONE);
	tc->depth = d - 1;
	return 0;
}

/* A thread exiting with open calls: send them as truncated and forget it. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(thread_exit, struct task_struct *task)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct thread_calls *tc;

	tc = bpf_task_storage_get(&open_calls, task, NULL, 0);
	if (!tc)
		return 0;
	/* the storage itself goes with the task */
	pop_dead_frames(tc, ~0ULL, true, pid_tgid, bpf_ktime_get_ns(), SPAN_LOST_THREAD_EXIT);
	return 0;
}

/* A process exec'd: it may be the first of a new container holding a probed
 * path. Rare enough to wake user space for each. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(process_exec)
{
	__u32 *tgid;

	if (!watch_execs)
		return 0;
	tgid = bpf_ringbuf_reserve(&execs, sizeof(*tgid), 0);
	if (!tgid) {
		count(STAT_EXEC_DROPS);
		return 0;
	}
	*tgid = bpf_get_current_pid_tgid() >> 32;
	bpf_ringbuf_submit(tgid, 0);
	return 0;
}
