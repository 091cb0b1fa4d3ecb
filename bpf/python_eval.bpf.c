// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Python calls from CPython's evaluator, for interpreters without USDT
 * probes (the official images, pyenv, uv): a uprobe on the entry of
 * _PyEval_EvalFrameDefault, which every Python call enters on 3.8-3.10 and
 * on 3.11+ while interp->eval_frame is set (user space sets it: see
 * user/python/python_hooks.c), and probes on its return instructions (or a
 * uretprobe where those can't all be found). The frame argument leads to
 * the code object; python_code.bpf.h judges it once against the globs
 * (keyed by the addresses of its co_filename and co_name objects), the
 * verdict is kept under the code object's address too (py_code_verdicts:
 * a later call reads no string; with code objects' frees probed, not even
 * the names' addresses), and traced calls go on the thread's shadow stack
 * like any other source's.
 *
 * With uprobe sessions (6.13+), one program on a session link does both: its
 * entry asks for the return of a traced call only (non-zero skips it), so
 * untraced calls, nearly all, pay the entry alone. The return then comes as
 * a uretprobe's does, for traced frames only: user space picks the way
 * (python_eval_method.h).
 *
 * Returns are matched by the stack pointer: at the return instruction it
 * is what it was at entry (the slot of the return address), so an
 * untraced call's return, and a frame whose return was never seen, can't
 * be taken for the traced call.
 *
 * A NULL return value: an exception left the frame; its type and message
 * are read from the thread state saved at entry.
 *
 * Generators and coroutines: one span per call, from the first resume to
 * the return that finishes it (a value, an exception, or a close:
 * GeneratorExit is not an error), not one per resume. A suspended one
 * waits in py_gens under its frame's address; each resume is pushed again
 * with the same span id and start, so calls made in any resume are its
 * children. A resume with nothing traced open below it continues the trace
 * the generator started in. On 3.11+ the call that creates a generator
 * also runs the evaluator (RETURN_GENERATOR, frame not yet owned by the
 * generator): that is not a span. */
/* the one kfunc used is declared below, with the prototype this program is
 * built for, whatever kernel vmlinux.h was made from */
#define BPF_NO_KFUNC_PROTOTYPES
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "python_code.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* 6.13+ for a uprobe session program; weak: the object loads where it is
 * missing (py_eval_session is then left unloaded) */
extern bool bpf_session_is_return(void) __ksym __weak;

/* Set by user space before it detaches: no new call is opened, so none is
 * left waiting for a return probe already gone. */
volatile __u32 py_eval_detaching = 0;

/* open_call.key[1] = thread state | PY_FRAME_GEN (pointers are aligned) */
#define PY_FRAME_GEN 1ULL

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PY_MAX_EVAL_INTERPS);
	__type(key, __u32);
	__type(value, struct py_eval_interp);
} py_eval_interps SEC(".maps");

/* The key of the maps below: something of one process at an address (a
 * generator's frame, a code object, an interpreter). image: for code
 * objects, which program image of the process holds it (image_of below);
 * 0 in the other maps. */
struct proc_addr_key {
	__u32 tgid;
	__u32 image;
	__u64 addr;
};

/* The process's program image: an exec makes a new address space and
 * counts up the thread's self_exec_id, which threads made after it inherit.
 * A code object of the image before an exec is then never taken for one at
 * the same address after it. */
static __always_inline __u32 image_of_current(void)
{
	return (__u32)bpf_get_current_task_btf()->self_exec_id;
}

/* A suspended generator/coroutine's span, under its frame. */
struct gen_span {
	__u8 trace_id[16];
	__u64 span_id;
	__u64 start_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct proc_addr_key);
	__type(value, struct gen_span);
} py_gens SEC(".maps");

/* The verdict of a code object the evaluator ran, under the object's
 * address: later calls of it read the frame's code and look here, with no
 * read of the strings. The address must still hold the object judged.
 * Where the interpreter's code_dealloc is probed (py_code_dealloc below),
 * a freed object's verdict is deleted as it goes, so the address alone
 * says it: one user read per untraced call (each read costs about 0.1 µs,
 * a sixth of the call's trap: bench/python_eval_results.md). Elsewhere the
 * code's two name pointers are read too and must be the ones judged: a
 * code object holds its names, so the same address with the same names is
 * the same function, or one that would be judged the same. The verdict and
 * the function id themselves come from py_verdicts (per file and name: the
 * code objects of one function share an id). */
struct code_verdict {
	__u64 file_ptr;
	__u64 name_ptr;
	__u32 func_id; /* 0: not traced */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct proc_addr_key);
	__type(value, struct code_verdict);
} py_code_verdicts SEC(".maps");

/* 3.11+ interpreters seen running with inlining on, and when last reported
 * (at most one report per interpreter per 10 ms). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct proc_addr_key);
	__type(value, __u64);
} py_unhooked SEC(".maps");

#define UNHOOKED_REPORT_NS (10 * 1000 * 1000)

/* Entries per CPU, for looking at the interpreter's eval_frame on one entry
 * in UNHOOKED_CHECK_EVERY only: its two reads on every entry were a fifth
 * of the entry's cost (bench/python_flask_results.md), and an interpreter
 * running unhooked enters the evaluator thousands of times while it starts
 * (each import), so it is still found within moments. */
#define UNHOOKED_CHECK_EVERY 16

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} py_unhooked_tick SEC(".maps");

static __always_inline bool unhooked_check_due(void)
{
	__u32 zero = 0, *n = bpf_map_lookup_elem(&py_unhooked_tick, &zero);

	return !n || ((*n)++ % UNHOOKED_CHECK_EVERY) == 0;
}

/* Where a str object's characters are as UTF-8: compact ASCII strings (file
 * and function names nearly always) hold them after the header; other
 * compact strings have their UTF-8 form cached in utf8 (NULL until asked
 * for: then 0, and the code object is judged again at its next call). */
static __always_inline __u64 str_chars(const struct py_layout *l, __u64 obj)
{
	__u32 state = 0;
	__u64 utf8 = 0;

	if (!obj || bpf_probe_read_user(&state, sizeof(state), (void *)(obj + l->str_state)))
		return 0;
	if (!(state & l->str_compact_mask))
		return 0; /* a legacy string (a str subclass): not a code object's */
	if (state & l->str_ascii_mask)
		return obj + l->str_ascii_data;
	if (bpf_probe_read_user(&utf8, sizeof(utf8), (void *)(obj + l->str_utf8)))
		return 0;
	return utf8;
}

/* The exception leaving a frame (the evaluator returned NULL): its type's
 * tp_name and, when args[0] is a str, the message. 3.8-3.11 keep
 * curexc_type/curexc_value (the value may still be the bare message str or
 * NULL: not normalised); 3.12+ keep the instance in current_exception. */
static __always_inline void read_exception(const struct py_layout *l, __u64 tstate,
					   struct exception_record *out)
{
	__u64 type = 0, value = 0, vtype = 0, args = 0, n = 0, obj = 0, p = 0;
	__u64 chars;

	if (!tstate)
		return;
	if (l->tstate_current_exception != PY_LAYOUT_ABSENT) {
		if (bpf_probe_read_user(&value, sizeof(value),
					(void *)(tstate + l->tstate_current_exception)) || !value ||
		    bpf_probe_read_user(&type, sizeof(type), (void *)(value + l->ob_type)))
			return;
	} else {
		bpf_probe_read_user(&type, sizeof(type), (void *)(tstate + l->tstate_curexc_type));
		bpf_probe_read_user(&value, sizeof(value), (void *)(tstate + l->tstate_curexc_value));
	}
	if (!type)
		return;
	if (!bpf_probe_read_user(&p, sizeof(p), (void *)(type + l->type_tp_name)))
		bpf_probe_read_user_str(out->type, sizeof(out->type), (void *)p);
	if (!value || bpf_probe_read_user(&vtype, sizeof(vtype), (void *)(value + l->ob_type)))
		return;
	obj = value;
	if (vtype == type) { /* the instance: its args[0] */
		if (bpf_probe_read_user(&args, sizeof(args), (void *)(value + l->exc_args)) || !args ||
		    bpf_probe_read_user(&n, sizeof(n), (void *)(args + l->tuple_size)) || n < 1 ||
		    bpf_probe_read_user(&obj, sizeof(obj), (void *)(args + l->tuple_item)) || !obj)
			return;
	}
	/* a str? its type's tp_name is "str" */
	if (bpf_probe_read_user(&vtype, sizeof(vtype), (void *)(obj + l->ob_type)) ||
	    bpf_probe_read_user(&p, sizeof(p), (void *)(vtype + l->type_tp_name)) ||
	    bpf_probe_read_user(&n, 4, (void *)p) || (__u32)n != ('s' | 't' << 8 | 'r' << 16))
		return;
	chars = str_chars(l, obj);
	if (chars)
		bpf_probe_read_user_str(out->message, sizeof(out->message), (void *)chars);
}

/* 3.11+: a call entering the evaluator from an interpreter whose eval_frame
 * is NULL (a process started after spanprobe, a new subinterpreter, or one
 * whose hook was undone) runs the calls it makes inlined: ask user space to
 * set it, once per interpreter per 10 ms. */
static __always_inline void report_unhooked(const struct py_layout *l, __u64 tstate,
					    __u64 pid_tgid)
{
	struct proc_addr_key k = { .tgid = pid_tgid >> 32 };
	__u64 eval_frame = 1, now, *last;
	struct exec_record *e;

	if (bpf_probe_read_user(&k.addr, sizeof(k.addr), (void *)(tstate + l->tstate_interp)) ||
	    !k.addr ||
	    bpf_probe_read_user(&eval_frame, sizeof(eval_frame),
				(void *)(k.addr + l->interp_eval_frame)) ||
	    eval_frame)
		return;
	now = bpf_ktime_get_ns();
	last = bpf_map_lookup_elem(&py_unhooked, &k);
	if (last && now - *last < UNHOOKED_REPORT_NS)
		return;
	bpf_map_update_elem(&py_unhooked, &k, &now, BPF_ANY);
	e = bpf_ringbuf_reserve(&control, sizeof(*e), 0);
	if (!e) {
		count(STAT_EXEC_DROPS);
		return;
	}
	e->hdr.kind = REC_PY_UNHOOKED;
	e->hdr.size = sizeof(*e);
	e->hdr.pad = 0;
	e->pid = k.tgid;
	e->pad = 0;
	e->start_boottime = 0; /* not needed: the process is asked by its pid alone */
	e->comm[0] = 0;
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
}

/* The function id of a code object not in py_code_verdicts (or whose names
 * changed): its verdict per file and name, judged on first sight, then
 * remembered under the code object unless the judging could not finish
 * (judged again at its next call). */
static __always_inline __u32 code_func_id(const struct py_eval_interp *in, __u64 bias,
					  const struct proc_addr_key *ck, const __u64 *ptrs,
					  struct verdict_key *k)
{
	struct code_verdict cv = { .file_ptr = ptrs[0], .name_ptr = ptrs[1] };
	const struct py_layout *l = &in->l;
	__u64 code = ck->addr;
	__u64 name8 = 0;
	__s64 cached;

	if (l->version >= 0x030d) { /* f_executable: a code object, or None */
		__u64 type = 0;

		bpf_probe_read_user(&type, sizeof(type), (void *)(code + l->ob_type));
		if (type != bias + in->code_type_addr)
			return 0;
	}
	k->file_ptr = ptrs[0];
	k->name_ptr = ptrs[1];
	/* the first characters of a compact ASCII name; for another str, header
	 * bytes as stable: either way a reused object reads differently */
	bpf_probe_read_user(&name8, sizeof(name8), (void *)(k->name_ptr + l->str_ascii_data));
	cached = py_code_cached(k, name8);
	if (cached < 0) {
		__s32 line = 0;
		__u64 file_chars = str_chars(l, k->file_ptr), name_chars = str_chars(l, k->name_ptr);

		if (!file_chars || !name_chars)
			return 0;
		bpf_probe_read_user(&line, sizeof(line), (void *)(code + l->code_firstlineno));
		judge_code(k, file_chars, name_chars, name8, line);
		cached = py_code_cached(k, name8);
		if (cached < 0)
			return 0;
	}
	cv.func_id = cached;
	bpf_map_update_elem(&py_code_verdicts, ck, &cv, BPF_ANY);
	return cv.func_id;
}

/* A call entering the evaluator: true when it was pushed as a traced call
 * (its return is then wanted). */
static __always_inline bool eval_entry(struct pt_regs *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 idx = (__u32)bpf_get_attach_cookie(ctx);
	struct verdict_key k = { .tgid = pid_tgid >> 32 };
	struct proc_addr_key ck = { .tgid = k.tgid };
	const struct py_eval_interp *in;
	const struct code_verdict *cv;
	const struct py_layout *l;
	__u64 frame, code = 0, tstate = 0, sp = PT_REGS_SP(ctx), bias, now;
	__u64 ptrs[2] = {};
	struct gen_span *g = NULL;
	struct thread_calls *tc;
	__u32 flags = 0, func_id;
	bool gen;

	if (!traced_tgid(pid_tgid) || py_eval_detaching)
		return false;
	count(STAT_PY_EVAL_ENTRIES);
	in = bpf_map_lookup_elem(&py_eval_interps, &idx);
	if (!in)
		return false;
	l = &in->l;
	bias = PT_REGS_IP(ctx) - in->entry_addr;
	if (l->eval_frame_arg == 0) { /* 3.8: (frame, throwflag) */
		frame = PT_REGS_PARM1(ctx);
		bpf_probe_read_user(&tstate, sizeof(tstate),
				    (void *)(bias + in->runtime_addr + l->runtime_tstate_current));
	} else {
		tstate = PT_REGS_PARM1(ctx);
		frame = PT_REGS_PARM2(ctx);
	}
	if (in->needs_hook && tstate && unhooked_check_due())
		report_unhooked(l, tstate, pid_tgid);
	if (ABLATED(ABLATE_PY_TRAP)) /* bench/python_entry_cost.sh */
		return false;
	if (bpf_probe_read_user(&code, sizeof(code), (void *)(frame + l->frame_code)) || !code)
		return false;
	if (ABLATED(ABLATE_PY_NO_LOOKUP))
		return false;
	ck.addr = code;
	ck.image = image_of_current();
	cv = bpf_map_lookup_elem(&py_code_verdicts, &ck);
	if (cv && in->frees_watched) {
		func_id = cv->func_id;
	} else {
		/* co_filename and co_name are adjacent in every version (user
		 * space checks); on 3.13 f_executable may be None, whose bytes
		 * here are no cached code object's names */
		if (bpf_probe_read_user(ptrs, sizeof(ptrs), (void *)(code + l->code_filename)))
			return false;
		if (cv && cv->file_ptr == ptrs[0] && cv->name_ptr == ptrs[1])
			func_id = cv->func_id;
		else
			func_id = code_func_id(in, bias, &ck, ptrs, &k);
	}
	if (!func_id)
		return false;

	bpf_probe_read_user(&flags, sizeof(flags), (void *)(code + l->code_flags));
	gen = flags & l->code_gen_flags;
	if (gen) {
		struct proc_addr_key gk = { .tgid = k.tgid, .addr = frame };

		if (l->frame_owner != PY_LAYOUT_ABSENT) {
			__s8 owner = 0;

			bpf_probe_read_user(&owner, sizeof(owner), (void *)(frame + l->frame_owner));
			if (owner != l->frame_owned_by_generator)
				return false; /* RETURN_GENERATOR: making it, not running it */
		}
		g = bpf_map_lookup_elem(&py_gens, &gk);
	}
	count(STAT_PY_CALLS);
	tc = thread_calls__get(true);
	if (!tc) {
		count(STAT_STACK_DROPS);
		return false;
	}
	now = bpf_ktime_get_ns();
	/* Every Python call is a C call of the evaluator here: an open frame
	 * entered at or below this stack pointer has returned unseen. */
	shadow_stack__unwind(tc, sp, true, pid_tgid, now, SPAN_LOST_STACK_UNWIND);
	if (!shadow_stack__push(tc, func_id, sp, frame, tstate | (gen ? PY_FRAME_GEN : 0), now))
		return false;
	if (g) { /* a resume: the span opened at the first one goes on */
		struct open_call *f = shadow_stack__top(tc);

		if (f) {
			f->span_id = g->span_id;
			f->start_ns = g->start_ns;
		}
		if (tc->depth == 1)
			__builtin_memcpy(tc->trace_id, g->trace_id, sizeof(tc->trace_id));
	}
	return true;
}

SEC("uprobe")
int BPF_UPROBE(py_eval_entry)
{
	eval_entry(ctx);
	return 0;
}

/* Did the generator frame yield (suspended) rather than finish? */
static __always_inline bool yielded(const struct py_layout *l, __u64 frame)
{
	if (l->frame_stacktop != PY_LAYOUT_ABSENT) { /* 3.8/3.9 */
		__u64 top = 0;

		bpf_probe_read_user(&top, sizeof(top), (void *)(frame + l->frame_stacktop));
		return top != 0;
	}
	if (l->frame_state != PY_LAYOUT_ABSENT) { /* 3.10 */
		__s8 st = 0;

		bpf_probe_read_user(&st, sizeof(st), (void *)(frame + l->frame_state));
		return st == l->frame_state_suspended;
	}
	if (l->gen_state_from_frame != PY_LAYOUT_ABSENT) { /* 3.11+ */
		__s8 st = 0;

		bpf_probe_read_user(&st, sizeof(st), (void *)(frame + l->gen_state_from_frame));
		return st == l->gen_state_suspended || st == l->gen_state_suspended_yield_from;
	}
	return false;
}

static __always_inline bool is_generator_exit(const char *t)
{
	return t[0] == 'G' && t[1] == 'e' && t[2] == 'n' && t[3] == 'e' && t[9] == 'E' &&
	       t[12] == 't' && t[13] == 0;
}

/* The evaluator returns `ret` with the stack pointer at sp (the entry's). */
static __always_inline int eval_return(struct pt_regs *ctx, __u64 sp, __u64 ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 idx = (__u32)bpf_get_attach_cookie(ctx);
	const struct py_eval_interp *in;
	struct exception_record *x;
	struct thread_calls *tc;
	struct open_call *f;
	__u64 now, frame, tstate;
	bool gen;

	if (!traced_tgid(pid_tgid))
		return 0;
	/* most returns are of untraced calls with nothing open: one lookup */
	tc = thread_calls__get(false);
	if (!tc || !tc->depth)
		return 0;
	now = bpf_ktime_get_ns();
	shadow_stack__unwind(tc, sp, false, pid_tgid, now, SPAN_LOST_STACK_UNWIND);
	f = shadow_stack__top(tc);
	if (!f || f->entry_sp != sp || f->func_id < DYN_FUNC_ID_BASE)
		return 0; /* an untraced call returned */
	in = bpf_map_lookup_elem(&py_eval_interps, &idx);
	if (!in)
		return 0;
	frame = f->key[0];
	tstate = f->key[1] & ~PY_FRAME_GEN;
	gen = f->key[1] & PY_FRAME_GEN;
	if (gen) {
		struct proc_addr_key gk = { .tgid = pid_tgid >> 32, .addr = frame };

		if (ret && yielded(&in->l, frame)) {
			struct gen_span g = { .span_id = f->span_id, .start_ns = f->start_ns };

			__builtin_memcpy(g.trace_id, tc->trace_id, sizeof(g.trace_id));
			bpf_map_update_elem(&py_gens, &gk, &g, BPF_ANY);
			tc->depth--; /* suspended: the span goes on at the next resume */
			return 0;
		}
		bpf_map_delete_elem(&py_gens, &gk);
	}
	if (ret) {
		shadow_stack__pop(tc, pid_tgid, now, 0, 0);
		return 0;
	}
	x = shadow_stack__reserve_exception(tc, tc->depth - 1, pid_tgid, now);
	if (!x) {
		tc->depth--;
		return 0;
	}
	read_exception(&in->l, tstate, x);
	if (gen && is_generator_exit(x->type)) { /* closed: finished normally */
		bpf_ringbuf_discard(x, 0);
		shadow_stack__pop(tc, pid_tgid, now, 0, 0);
		return 0;
	}
	shadow_stack__submit_exception(x);
	tc->depth--;
	return 0;
}

/* On each return instruction of the evaluator: the stack pointer still
 * holds the return address, as at entry. */
SEC("uprobe")
int BPF_UPROBE(py_eval_ret_insn)
{
	return eval_return(ctx, PT_REGS_SP(ctx), PT_REGS_RC(ctx));
}

/* Where the return instructions can't all be found: after the return,
 * the return address has been popped. */
SEC("uretprobe")
int BPF_URETPROBE(py_eval_return)
{
	return eval_return(ctx, PT_REGS_SP(ctx) - 8, PT_REGS_RC(ctx));
}

/* Entry and return on one uprobe session link (user space sets the attach
 * type: libbpf 1.4 does not know "uprobe.session"). The entry returns 0 to
 * have this call's return run the program again, 1 to skip it. After the
 * return the return address has been popped, as for a uretprobe. */
SEC("uprobe.multi")
int BPF_UPROBE(py_eval_session)
{
	if (bpf_session_is_return())
		return eval_return(ctx, PT_REGS_SP(ctx) - 8, PT_REGS_RC(ctx));
	return eval_entry(ctx) ? 0 : 1;
}

/* The interpreter's code_dealloc (PyCode_Type's tp_dealloc): a code object
 * is freed, and its verdict with it, so that another object the allocator
 * puts at its address is judged afresh. Code objects are rarely freed in a
 * running service (a function defined again, code compiled at run time),
 * so this probe is hit rarely. */
SEC("uprobe")
int BPF_UPROBE(py_code_dealloc)
{
	struct proc_addr_key ck = {
		.tgid = bpf_get_current_pid_tgid() >> 32,
		.image = image_of_current(),
		.addr = PT_REGS_PARM1(ctx),
	};

	bpf_map_delete_elem(&py_code_verdicts, &ck);
	return 0;
}
