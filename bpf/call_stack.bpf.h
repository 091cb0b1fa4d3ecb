/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Which shadow stack a function call belongs to, and the exception (C++,
 * Rust) or panic (Go) in flight on it. Shared by the function-call
 * programs (uprobe_calls.bpf.c) and the exception hooks
 * (exception_hooks.bpf.c); the frames themselves are shadow_stack.bpf.h's.
 *
 * Threads: the thread's stack of open calls (its thread slot, or task
 * storage), ordered by the stack pointer.
 *
 * Go (register ABI, Go >= 1.17): goroutines move between threads, so the
 * goroutine (g, in r14 at every Go function's entry and exit) is the unit
 * of nesting: its stack lives in a hash keyed by (tgid, g), dropped
 * when its last open call ends. Go copies a goroutine's stack elsewhere
 * when it grows, which moves every frame by the same amount but keeps its
 * distance from the stack's top (g.stack.hi): frames store a virtual stack
 * pointer GO_VSP_TOP - (hi - sp), ordered like the real one and unchanged
 * by a copy, so the shadow_stack functions work on it unchanged.
 *
 * Exceptions: an exception or panic starting (a hook) is noted on the
 * stack; while it is in flight, frames found dead by the stack pointer
 * (below a later call or return) become exception records with status
 * ERROR instead of truncated spans. */
#ifndef SPANPROBE_CALL_STACK_BPF_H
#define SPANPROBE_CALL_STACK_BPF_H

#include "shadow_stack.bpf.h"
#include "probe_cookie.h"

/* open_call.flags: low 16 bits */
#define FRAME_F_TAIL 1 /* left by a tail jump to a traced function (its id in
			* the high 16 bits): that callee's return ends this
			* call too */
#define FRAME_TAIL_SHIFT 16

#define GO_VSP_TOP (1ULL << 62)
#define GO_MAX_STACKS 16384

struct thread_exc {
	struct pending_exc cur;
	struct pending_exc caught; /* the last one caught: __cxa_rethrow throws it again */
};

/* C++/Rust exceptions in flight, per thread; made by the throw hooks only
 * for threads with open calls, which mark the thread's calls
 * (thread_calls.exc_used) so the threads that never throw skip the lookup. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct thread_exc);
} thread_excs SEC(".maps") __weak;

struct go_key {
	__u32 tgid;
	__u32 pad;
	__u64 g;
};

struct go_stack {
	struct thread_calls calls;
	struct pending_exc exc;
};

/* Goroutines with open traced calls, allocated as they come (~1.8 KiB
 * each). A goroutine's first traced call when GO_MAX_STACKS are inside
 * traced calls at once is not recorded, and counted (STAT_STACK_DROPS). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, GO_MAX_STACKS);
	__type(key, struct go_key);
	__type(value, struct go_stack);
} go_stacks SEC(".maps") __weak;

/* A zeroed go_stack to create entries from (too big for the BPF stack). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct go_stack);
} go_stack_zero SEC(".maps") __weak;

struct call_stack {
	struct task_struct *task; /* the current task; NULL: call_stack__get finds it */
	__u64 pid_tgid;           /* with task */
	struct thread_calls *tc;
	struct pending_exc *exc; /* NULL: none can be in flight */
	__u64 sp;                /* the stack pointer as frames store it (Go: virtual) */
	bool go;
	struct go_key key;
};

/* runtime.g starts with its stack bounds: stack.lo, stack.hi. */
struct go_stack_bounds {
	__u64 lo, hi;
};

/* The current task and pid_tgid into cs, before call_stack__get (which
 * otherwise finds them itself); returns pid_tgid. */
static __always_inline __u64 call_stack__begin(struct call_stack *cs)
{
	cs->task = current_task(&cs->pid_tgid);
	return cs->pid_tgid;
}

/* The calls stack of the current thread (go: goroutine) at sp; false when
 * there is none (and create is false or it can't be made). */
static __always_inline bool call_stack__get(struct pt_regs *ctx, bool go, bool create,
					    struct call_stack *cs)
{
	__u64 sp = PT_REGS_SP(ctx);

	if (!cs->task)
		call_stack__begin(cs);
	cs->go = go;
	cs->exc = NULL;
	if (!go) {
		struct thread_exc *x;

		cs->sp = sp;
		cs->tc = thread_calls__of(cs->task, create);
		if (!cs->tc)
			return false;
		/* only a thread that has had an exception has one to look up */
		if (!cs->tc->exc_used && !ABLATED(ABLATE_EXC_ALWAYS))
			return true;
		x = bpf_task_storage_get(&thread_excs, cs->task, NULL, 0);
		if (x)
			cs->exc = &x->cur;
		return true;
	} else {
		struct go_stack_bounds st = {};
		struct go_stack *s;
		__u32 zero = 0;

		cs->key.tgid = cs->pid_tgid >> 32;
		cs->key.pad = 0;
		cs->key.g = ctx->r14;
		/* r14 is g only in Go code: check that sp is on g's stack */
		if (!cs->key.g || bpf_probe_read_user(&st, sizeof(st), (void *)cs->key.g) ||
		    sp < st.lo || sp > st.hi || st.hi - st.lo > (1ULL << 40))
			return false;
		cs->sp = GO_VSP_TOP - (st.hi - sp);
		s = bpf_map_lookup_elem(&go_stacks, &cs->key);
		if (!s && create) {
			struct go_stack *z = bpf_map_lookup_elem(&go_stack_zero, &zero);

			if (!z)
				return false;
			bpf_map_update_elem(&go_stacks, &cs->key, z, BPF_NOEXIST);
			s = bpf_map_lookup_elem(&go_stacks, &cs->key);
		}
		if (!s)
			return false;
		cs->tc = &s->calls;
		cs->exc = &s->exc;
		return true;
	}
}

/* A goroutine with nothing open and nothing in flight gives its entry back. */
static __always_inline void call_stack__put(struct call_stack *cs)
{
	if (cs->go && cs->tc->depth == 0 && !(cs->exc && cs->exc->active))
		bpf_map_delete_elem(&go_stacks, &cs->key);
}

/* Pops every open frame whose entry sp is below limit (or at it, when
 * inclusive): calls left without their return firing; with an exception in
 * flight, the ones it left go as exception records (shadow_stack.bpf.h). */
static __always_inline void call_stack__unwind(struct call_stack *cs, __u64 limit, bool inclusive,
					       __u64 pid_tgid, __u64 now, __u8 reason)
{
	shadow_stack__unwind_exc(cs->tc, cs->exc, limit, inclusive, pid_tgid, now, reason);
}

/* A call or return at sp: once above where the exception asked, the
 * frames it left have been sent; it is over. */
static __always_inline void call_stack__settle(struct call_stack *cs, __u64 sp)
{
	if (cs->exc && cs->exc->active && sp > cs->exc->clear_above)
		cs->exc->active = 0;
}

#endif /* SPANPROBE_CALL_STACK_BPF_H */
