/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Arguments captured at a call's entry (--arg), for functions whose id has
 * an arg_spec: register values, and strings read from user memory. They
 * wait in the thread's own task storage (a small stack of slots, used in
 * call order, freed as the calls end) until the call ends, when
 * shadow_stack.bpf.h sends them with the span. A read that faults is
 * marked in the record, never dropped. */
#ifndef SPANPROBE_CALL_ARGS_BPF_H
#define SPANPROBE_CALL_ARGS_BPF_H

#include "call_settings.h"
#include "trace_state.bpf.h"

/* Calls with captured arguments open at once on one thread; more (nested
 * deeper) are sent without them and counted (STAT_ARGS_DROPS). */
_Static_assert((ARG_SLOTS & (ARG_SLOTS - 1)) == 0, "ARG_SLOTS must be a power of two");
_Static_assert(ARG_MAX_STRINGS == 2, "the string index mask below");

/* Set when some function has an arg_spec: other runs skip the lookup. */
const volatile bool capture_args __weak = false;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SPAN_MAX_FUNCS);
	__type(key, __u32);
	__type(value, struct arg_spec);
} func_args SEC(".maps") __weak;

struct thread_args {
	struct captured_args slot[ARG_SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct thread_args);
} open_args SEC(".maps") __weak;

/* Reads the string at ptr into out; returns ARG_F_* flags. */
static __always_inline __u8 read_arg_string(char *out, __u64 ptr)
{
	long n;
	char next = 0;

	out[0] = 0;
	if (!ptr)
		return ARG_F_NULL;
	n = bpf_probe_read_user_str(out, ARG_STR_LEN, (void *)ptr);
	if (n < 0) {
		out[0] = 0;
		return ARG_F_FAULT;
	}
	/* a full buffer: the string either ends right there or goes on */
	if (n == ARG_STR_LEN &&
	    (bpf_probe_read_user(&next, 1, (void *)(ptr + ARG_STR_LEN - 1)) || next))
		return ARG_F_TRUNCATED;
	return 0;
}

/* Captures the arguments of the call just pushed (the top frame). */
static __always_inline void call_args__capture(struct pt_regs *ctx, struct thread_calls *tc,
					       __u32 func_id)
{
	const struct arg_spec *spec;
	struct captured_args *a;
	struct thread_args *ta;
	struct open_call *f;
	__u64 regs[8];
	__u32 d = tc->depth, used = tc->args_used;

	if (!capture_args || func_id >= SPAN_MAX_FUNCS)
		return;
	spec = bpf_map_lookup_elem(&func_args, &func_id);
	if (!spec || !spec->nargs || d == 0 || d > SPAN_MAX_DEPTH)
		return;
	f = FRAME(tc, d - 1);
	if (f->func_id != func_id || f->args_slot)
		return; /* the push failed: nothing to attach them to */
	if (used >= ARG_SLOTS) {
		count(STAT_ARGS_DROPS);
		return;
	}
	ta = bpf_task_storage_get(&open_args, bpf_get_current_task_btf(), NULL,
				  BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!ta) {
		count(STAT_ARGS_DROPS);
		return;
	}
	/* Each register read at its fixed offset in the context (the verifier
	 * refuses a computed one), then picked by index from the stack. */
	regs[0] = PT_REGS_PARM1(ctx);
	regs[1] = PT_REGS_PARM2(ctx);
	regs[2] = PT_REGS_PARM3(ctx);
	regs[3] = PT_REGS_PARM4(ctx);
	regs[4] = PT_REGS_PARM5(ctx);
	regs[5] = PT_REGS_PARM6(ctx);
	regs[6] = regs[7] = 0;
	a = &ta->slot[used & (ARG_SLOTS - 1)];
	a->nargs = spec->nargs;
	for (int i = 0; i < ARG_MAX; i++) {
		const struct arg_slot *s = &spec->slot[i];
		__u64 v, p = 0;

		if (i >= spec->nargs)
			break;
		v = regs[s->reg & 7];
		a->value[i] = v;
		a->flags[i] = 0;
		if (s->type == ARG_T_PSTR) {
			if (!v)
				a->flags[i] = ARG_F_NULL;
			else if (bpf_probe_read_user(&p, sizeof(p), (void *)v))
				a->flags[i] = ARG_F_PTR_FAULT;
			else
				a->flags[i] = read_arg_string(a->str[s->str & 1], p);
		} else if (s->type == ARG_T_STR) {
			a->flags[i] = read_arg_string(a->str[s->str & 1], v);
		}
	}
	f->args_slot = used + 1;
	tc->args_used = used + 1;
}

/* The arguments of frame f, or NULL; the slot is freed (the caller copies
 * them out before anything else runs on this thread). */
static __always_inline struct captured_args *call_args__take(struct thread_calls *tc,
							    struct open_call *f)
{
	struct thread_args *ta;
	__u32 slot = f->args_slot;

	if (!slot)
		return NULL;
	f->args_slot = 0;
	tc->args_used = slot - 1;
	ta = bpf_task_storage_get(&open_args, bpf_get_current_task_btf(), NULL, 0);
	if (!ta)
		return NULL;
	return &ta->slot[(slot - 1) & (ARG_SLOTS - 1)];
}

#endif /* SPANPROBE_CALL_ARGS_BPF_H */
