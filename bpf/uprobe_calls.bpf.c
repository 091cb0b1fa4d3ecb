// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Function calls by uprobe: one entry and one return program serve every
 * traced function, the attach cookie says which function fired. Entry pushes
 * a frame on the thread's shadow stack (shadow_stack.bpf.h); the return pops
 * it, judges the return value against the function's error rule, and sends
 * the span. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "shadow_stack.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SPAN_MAX_FUNCS);
	__type(key, __u32);
	__type(value, struct func_rule);
} func_rules SEC(".maps");

/* Entries per traced function (attach cookie), for per-probe hit counts. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SPAN_MAX_FUNCS);
	__type(key, __u32);
	__type(value, __u64);
} func_hits SEC(".maps");

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
	__u32 func_id = (__u32)bpf_get_attach_cookie(ctx);
	struct open_call *top;
	struct thread_calls *tc;
	__u64 *hits, now;

	if (!traced_tgid(pid_tgid))
		return 0;
	hits = bpf_map_lookup_elem(&func_hits, &func_id);
	if (hits)
		*hits += 1;

	tc = thread_calls__get(true);
	if (!tc) {
		count(STAT_STACK_DROPS);
		return 0;
	}
	now = bpf_ktime_get_ns();
	/* A new call above an open frame's slot means that frame is gone; at the
	 * same slot too, unless it is a tail call. */
	top = shadow_stack__top(tc);
	shadow_stack__unwind(tc, sp, !(top && top->entry_sp == sp && slot_holds_trampoline(sp)),
			     pid_tgid, now, SPAN_LOST_STACK_UNWIND);
	if (shadow_stack__push(tc, func_id, sp, 0, 0, now))
		call_args__capture(ctx, tc, func_id);
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
	struct open_call *f;
	__u64 ret = rc, now;
	__u8 flags = 0;

	if (!traced_tgid(pid_tgid))
		return 0;
	tc = thread_calls__get(false);
	if (!tc)
		return 0;
	now = bpf_ktime_get_ns();
	/* Frames deeper than the returning call were skipped over. */
	shadow_stack__unwind(tc, entry_sp, false, pid_tgid, now, SPAN_LOST_STACK_UNWIND);

	f = shadow_stack__top(tc);
	/* Not our frame: a call deeper than SPAN_MAX_DEPTH that was not recorded. */
	if (!f || f->entry_sp != entry_sp || f->func_id != func_id)
		return 0;
	rule = bpf_map_lookup_elem(&func_rules, &func_id);
	if (rule && judge_return(rule, &ret))
		flags |= SPAN_F_ERROR;
	shadow_stack__pop(tc, pid_tgid, now, ret, flags);
	return 0;
}
