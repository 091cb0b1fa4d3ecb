// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Function calls by uprobe: one entry program and two return programs serve
 * every traced function, the attach cookie (probe_cookie.h) says which
 * function fired and how. Entry pushes a frame on the call's shadow stack
 * (call_stack.bpf.h: the thread's, or a Go goroutine's); the return pops it,
 * judges the return value against the function's error rule, and sends the
 * span. A return is seen by a uretprobe (span_exit) or, where the return
 * address must stay untouched, by plain uprobes on the function's exit
 * instructions (span_exit_site). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "call_stack.bpf.h"

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

/* An open frame at the entry slot of a call to func_id that is alive: its
 * function tail-jumped to func_id (marked at the jump, exit sites), or its
 * uretprobe still waits in the slot. */
static __always_inline bool tail_called_into(const struct open_call *top, __u32 func_id,
					     __u64 sp, bool go)
{
	if ((top->flags & FRAME_F_TAIL) && (top->flags >> FRAME_TAIL_SHIFT) == func_id)
		return true;
	return !go && slot_holds_trampoline(sp);
}

SEC("uprobe")
int BPF_UPROBE(span_enter)
{
	if (ABLATED(ABLATE_EMPTY)) /* bench/call_breakdown.sh: the trap alone */
		return 0;
	struct call_stack cs = {};
	__u64 pid_tgid = call_stack__begin(&cs);
	__u64 cookie = bpf_get_attach_cookie(ctx);
	__u32 func_id = cookie & COOKIE_FUNC_MASK;
	bool go = cookie & COOKIE_GO;
	struct open_call *top;
	__u64 *hits, now;
	bool keep;

	if (!traced_tgid(pid_tgid))
		return 0;
	if (!ABLATED(ABLATE_HITS)) {
		hits = bpf_map_lookup_elem(&func_hits, &func_id);
		if (hits)
			*hits += 1;
	}

	if (!call_stack__get(ctx, go, true, &cs)) {
		count(STAT_STACK_DROPS);
		return 0;
	}
	now = ABLATED(ABLATE_TIME) ? 0 : bpf_ktime_get_ns();
	top = shadow_stack__top(cs.tc);
	/* Go's prologue calls runtime.morestack when the stack is too small and
	 * then runs the entry again: same function, same depth from the stack
	 * top, still open. Not a second call. */
	if (go && top && top->func_id == func_id && top->entry_sp == cs.sp)
		return 0;
	/* A new call above an open frame's slot means that frame is gone; at the
	 * same slot too, unless it is a tail call. */
	keep = top && top->entry_sp == cs.sp && tail_called_into(top, func_id, cs.sp, go);
	call_stack__unwind(&cs, cs.sp, !keep, pid_tgid, now, SPAN_LOST_STACK_UNWIND);
	call_stack__settle(&cs, cs.sp);
	if (shadow_stack__push(cs.tc, func_id, cs.sp, 0, 0, now))
		call_args__capture(ctx, cs.tc, func_id);
	return 0;
}

/* Closes the innermost frame: judged against its function's rule with the
 * return value, or, when the return value is not known (a tail jump out),
 * sent without one. */
static __always_inline void pop_returned(struct thread_calls *tc, __u64 pid_tgid, __u64 now,
					 __u64 rc, bool have_ret, const bool on_stack)
{
	struct open_call *f = shadow_stack__top(tc);
	const struct func_rule *rule;
	__u32 func_id;
	__u64 ret = rc;
	__u8 flags = 0;

	if (!f)
		return;
	if (!have_ret) {
		shadow_stack__pop_as(tc, pid_tgid, now, 0, SPAN_F_NO_RETURN, on_stack);
		return;
	}
	func_id = f->func_id;
	rule = bpf_map_lookup_elem(&func_rules, &func_id);
	if (rule && judge_return(rule, &ret))
		flags |= SPAN_F_ERROR;
	shadow_stack__pop_as(tc, pid_tgid, now, ret, flags, on_stack);
}

struct tail_pops {
	struct thread_calls *tc;
	__u64 sp, pid_tgid, now, rc;
	bool have_ret;
};

/* One frame that tail-jumped into the returning call from its slot; 1
 * stops the loop. A bpf_loop step (rare: tail calls between traced
 * functions), so the verifier checks pop_returned once more, not four
 * times more: its paths, inlined at each pop, took most of the load time. */
static int pop_tail_one(__u32 i, void *arg)
{
	struct tail_pops *t = arg;
	struct open_call *f = shadow_stack__top(t->tc);

	if (!f || f->entry_sp != t->sp || !(f->flags & FRAME_F_TAIL))
		return 1;
	/* the record written in place: this step's chain of calls (the
	 * program, this step, hist_bucket) has no room for it on Linux 6.1 */
	pop_returned(t->tc, t->pid_tgid, t->now, t->rc, t->have_ret, false);
	return 0;
}

/* The call of func_id whose entry slot is sp returns: frames deeper were
 * skipped over; the call's frame is closed, and so are the frames that
 * tail-jumped into it from the same slot (their return is its return). */
static __always_inline void finish_call(struct call_stack *cs, __u32 func_id, __u64 sp,
					__u64 pid_tgid, __u64 rc, bool have_ret)
{
	__u64 now = ABLATED(ABLATE_TIME) ? 0 : bpf_ktime_get_ns();
	struct open_call *f;

	call_stack__unwind(cs, sp, false, pid_tgid, now, SPAN_LOST_STACK_UNWIND);
	f = shadow_stack__top(cs->tc);
	/* Not our frame: a call deeper than SPAN_MAX_DEPTH that was not recorded,
	 * or a second return of a function that returns twice (setjmp, vfork). */
	if (!f || f->entry_sp != sp || f->func_id != func_id)
		goto out;
	pop_returned(cs->tc, pid_tgid, now, rc, have_ret, true);
	f = shadow_stack__top(cs->tc);
	if (f && f->entry_sp == sp && (f->flags & FRAME_F_TAIL)) {
		struct tail_pops t = {
			.tc = cs->tc, .sp = sp, .pid_tgid = pid_tgid, .now = now, .rc = rc,
			.have_ret = have_ret,
		};

		bpf_loop(4, pop_tail_one, &t, 0);
	}
out:
	call_stack__settle(cs, sp);
}

SEC("uretprobe")
int BPF_URETPROBE(span_exit, long rc)
{
	if (ABLATED(ABLATE_EMPTY))
		return 0;
	struct call_stack cs = {};
	__u64 pid_tgid = call_stack__begin(&cs);
	__u32 func_id = bpf_get_attach_cookie(ctx) & COOKIE_FUNC_MASK;

	if (!traced_tgid(pid_tgid))
		return 0;
	/* uretprobes are never used for Go functions: always the thread's stack */
	if (!call_stack__get(ctx, false, false, &cs))
		return 0;
	/* `ret` popped the return address: the entry slot is one word below. */
	finish_call(&cs, func_id, cs.sp - sizeof(__u64), pid_tgid, rc, true);
	return 0;
}

/* Does a jcc with condition code cc jump, given the flags? */
static __always_inline bool condition_holds(__u64 fl, __u32 cc)
{
	bool cf = fl & 0x1, pf = fl & 0x4, zf = fl & 0x40, sf = fl & 0x80, of = fl & 0x800;
	bool r = false;

	switch ((cc >> 1) & 7) {
	case 0: r = of; break;            /* jo */
	case 1: r = cf; break;            /* jb */
	case 2: r = zf; break;            /* je */
	case 3: r = cf || zf; break;      /* jbe */
	case 4: r = sf; break;            /* js */
	case 5: r = pf; break;            /* jp */
	case 6: r = sf != of; break;      /* jl */
	case 7: r = zf || sf != of; break; /* jle */
	}
	return (cc & 1) ? !r : r;
}

/* The general registers in the encoding's order (rax, rcx, rdx, rbx, rsp,
 * rbp, rsi, rdi, r8..r15), copied out so a register number can index them
 * (the verifier refuses a context pointer moved by a variable). */
static __always_inline void copy_regs(struct pt_regs *ctx, __u64 r[16])
{
	r[0] = ctx->ax;
	r[1] = ctx->cx;
	r[2] = ctx->dx;
	r[3] = ctx->bx;
	r[4] = ctx->sp;
	r[5] = ctx->bp;
	r[6] = ctx->si;
	r[7] = ctx->di;
	r[8] = ctx->r8;
	r[9] = ctx->r9;
	r[10] = ctx->r10;
	r[11] = ctx->r11;
	r[12] = ctx->r12;
	r[13] = ctx->r13;
	r[14] = ctx->r14;
	r[15] = ctx->r15;
}

/* Indirect jmps, by the index in the cookie. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_INDIRECT_SITES);
	__type(key, __u32);
	__type(value, struct indirect_site);
} indirect_sites SEC(".maps");

/* Does the indirect jmp at ip leave its function? Its target is read the
 * way the CPU is about to: a jump table's target is inside the function, a
 * tail call's is not. */
static __always_inline bool indirect_leaves(struct pt_regs *ctx, const struct indirect_site *s)
{
	__u64 ip = PT_REGS_IP(ctx), start = ip - s->site_off, target = 0, addr, r[16];

	copy_regs(ctx, r);
	if (!s->is_mem) {
		target = r[s->base & 15];
	} else {
		addr = (__u64)(__s64)s->disp;
		if (s->base == INDIRECT_REG_RIP)
			addr += ip + s->len;
		else if (s->base != INDIRECT_REG_NONE)
			addr += r[s->base & 15];
		if (s->index != INDIRECT_REG_NONE)
			addr += r[s->index & 15] * s->scale;
		if (bpf_probe_read_user(&target, sizeof(target), (void *)addr))
			return false; /* the CPU would fault too */
	}
	return target < start || target - start >= s->func_size;
}

/* A return instruction or a jump out of a traced function (exit sites, in
 * place of a uretprobe; see probe_cookie.h). */
SEC("uprobe")
int BPF_UPROBE(span_exit_site)
{
	struct call_stack cs = {};
	__u64 pid_tgid = call_stack__begin(&cs);
	__u64 cookie = bpf_get_attach_cookie(ctx);
	__u32 func_id = cookie & COOKIE_FUNC_MASK;
	__u32 kind = (cookie >> COOKIE_SITE_SHIFT) & COOKIE_SITE_MASK;
	__u32 arg = (cookie >> COOKIE_ARG_SHIFT) & COOKIE_ARG_MASK;
	bool go = cookie & COOKIE_GO;
	const struct indirect_site *site;
	bool have_ret = false, finish = false;
	struct open_call *f;
	__u64 rc = 0;

	if (!traced_tgid(pid_tgid))
		return 0;
	/* a conditional tail jump that does not jump is no exit */
	if ((cookie & COOKIE_COND) &&
	    !condition_holds(ctx->flags, (cookie >> COOKIE_CC_SHIFT) & COOKIE_CC_MASK))
		return 0;
	if (!call_stack__get(ctx, go, false, &cs))
		return 0;
	/* one finish_call after the switch, not one per kind: each place it is
	 * written, the verifier walks its loops again */
	switch (kind) {
	case EXIT_SITE_RET:
		/* before the ret: sp points at the return address, the entry slot */
		rc = PT_REGS_RC(ctx);
		have_ret = true;
		finish = true;
		break;
	case EXIT_SITE_INDIRECT:
		site = bpf_map_lookup_elem(&indirect_sites, &arg);
		f = shadow_stack__top(cs.tc);
		/* a tail call leaves with the frame torn down: sp at the entry slot */
		finish = site && f && f->func_id == func_id && f->entry_sp == cs.sp &&
			 indirect_leaves(ctx, site);
		break;
	case EXIT_SITE_TAIL_END:
		finish = true;
		break;
	case EXIT_SITE_TAIL_KEEP:
		/* the traced callee's entry keeps this frame open (at the same slot)
		 * and its return closes both */
		f = shadow_stack__top(cs.tc);
		if (f && f->func_id == func_id && f->entry_sp == cs.sp)
			f->flags = FRAME_F_TAIL | (arg << FRAME_TAIL_SHIFT);
		break;
	}
	if (finish)
		finish_call(&cs, func_id, cs.sp, pid_tgid, rc, have_ret);
	call_stack__put(&cs);
	return 0;
}
