// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Python calls from the interpreter's USDT probes python:function__entry and
 * python:function__return (filename, funcname, line). Both fire for every
 * Python function of the process; python_code.bpf.h decides once per code
 * object whether it is traced, and traced calls go on the thread's shadow
 * stack like any other (shadow_stack.bpf.h).
 *
 * CPython 3.11 skips function__entry for calls made from Python code
 * (gh-98894) unless the frame runs through the tracing dispatch, which it
 * does while the `line` probe's semaphore is non-zero. User space raises that
 * semaphore with a uprobe that never fires (see user/python/python_probe.c),
 * so every frame start passes function__entry.
 *
 * A call left by an exception still fires function__return; the thread
 * state's current exception (curexc_type, set while unwinding, NULL on a
 * normal return or a yield) tells them apart, and its type and message go
 * with the span. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/usdt.bpf.h>
#include "python_code.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PY_MAX_INTERPS);
	__type(key, __u32);
	__type(value, struct py_interp_info);
} py_interps SEC(".maps");

static __always_inline bool read_exception(struct pt_regs *ctx, struct exception_record *out)
{
	__u32 idx = (__u32)bpf_usdt_cookie(ctx);
	const struct py_interp_info *in = bpf_map_lookup_elem(&py_interps, &idx);
	__u64 bias, tstate = 0, type = 0, value = 0, vtype = 0, obj = 0, args = 0, n = 0, p = 0;
	__u32 state = 0, tname = 0;

	if (!in || !in->tstate_addr)
		return false;
	/* the load bias of a PIE or shared library is page aligned */
	bias = (PT_REGS_IP(ctx) - in->return_probe_addr) & ~0xfffULL;
	if (bpf_probe_read_user(&tstate, sizeof(tstate), (void *)(in->tstate_addr + bias)) || !tstate)
		return false;
	if (bpf_probe_read_user(&type, sizeof(type), (void *)(tstate + in->curexc_type_off)) || !type)
		return false;
	if (!out)
		return true;
	/* PyTypeObject.tp_name: after ob_refcnt, ob_type, ob_size */
	if (!bpf_probe_read_user(&p, sizeof(p), (void *)(type + 24)))
		bpf_probe_read_user_str(out->type, sizeof(out->type), (void *)p);

	/* The value is the exception instance (raised from Python), or still
	 * the bare message str (set from C, not yet normalised). */
	bpf_probe_read_user(&value, sizeof(value), (void *)(tstate + in->curexc_value_off));
	if (!value || bpf_probe_read_user(&vtype, sizeof(vtype), (void *)(value + 8)))
		return true;
	obj = value;
	if (vtype == type) {
		if (bpf_probe_read_user(&args, sizeof(args), (void *)(value + in->exc_args_off)) || !args)
			return true;
		/* a tuple: ob_size at 16, items from 24 */
		if (bpf_probe_read_user(&n, sizeof(n), (void *)(args + 16)) || n < 1 ||
		    bpf_probe_read_user(&obj, sizeof(obj), (void *)(args + 24)) || !obj)
			return true;
	}
	/* a str? its type's tp_name is "str" */
	if (bpf_probe_read_user(&vtype, sizeof(vtype), (void *)(obj + 8)) ||
	    bpf_probe_read_user(&p, sizeof(p), (void *)(vtype + 24)) ||
	    bpf_probe_read_user(&tname, sizeof(tname), (void *)p) ||
	    tname != ('s' | 't' << 8 | 'r' << 16))
		return true;
	/* compact (bit 5) and ASCII (bit 6): the characters follow the header */
	if (bpf_probe_read_user(&state, sizeof(state), (void *)(obj + in->str_state_off)) ||
	    (state & 0x60) != 0x60)
		return true;
	bpf_probe_read_user_str(out->message, sizeof(out->message),
				(void *)(obj + in->str_data_off));
	return true;
}


SEC("usdt")
int BPF_USDT(py_entry, void *file, void *name, int line)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct verdict_key k = { .tgid = pid_tgid >> 32, .file_ptr = (__u64)file,
				 .name_ptr = (__u64)name };
	struct thread_calls *tc;
	__u32 func_id;

	if (!traced_tgid(pid_tgid))
		return 0;
	func_id = py_code_id(&k, line, true);
	if (!func_id)
		return 0;
	tc = thread_calls__get(true);
	if (!tc) {
		count(STAT_STACK_DROPS);
		return 0;
	}
	py_call_enter(tc, func_id, PT_REGS_SP(ctx), k.file_ptr, k.name_ptr, pid_tgid);
	return 0;
}

SEC("usdt")
int BPF_USDT(py_return, void *file, void *name, int line)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct verdict_key k = { .tgid = pid_tgid >> 32, .file_ptr = (__u64)file,
				 .name_ptr = (__u64)name };
	struct exception_record *x;
	struct thread_calls *tc;
	struct open_call *f;
	__u64 now;

	if (!traced_tgid(pid_tgid))
		return 0;
	/* Most returns are of untraced functions with nothing open: one lookup. */
	tc = thread_calls__get(false);
	if (!tc)
		return 0;
	if (tc->overflow) {
		/* traced calls return in LIFO order: this one was not recorded */
		if (py_code_id(&k, line, false))
			tc->overflow--;
		return 0;
	}
	f = shadow_stack__top(tc);
	if (!f || f->key[0] != k.file_ptr || f->key[1] != k.name_ptr)
		return 0; /* an untraced function, or a return whose entry was not seen */
	now = bpf_ktime_get_ns();
	if (!read_exception(ctx, NULL)) {
		shadow_stack__pop(tc, pid_tgid, now, 0, 0);
		return 0;
	}
	x = shadow_stack__reserve_exception(tc, tc->depth - 1, pid_tgid, now);
	if (x) {
		read_exception(ctx, x);
		shadow_stack__submit_exception(x);
	}
	tc->depth--;
	return 0;
}

/* Raises the `line` semaphore (see the top comment); attached where it never
 * runs, so this body is only a placeholder. */
SEC("uprobe")
int py_line_semaphore(struct pt_regs *ctx)
{
	return 0;
}
