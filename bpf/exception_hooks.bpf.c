// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Exceptions and panics that leave traced calls: C++ (__cxa_throw and
 * friends, in libstdc++ or the binary), Rust (the std runtime's panic entry
 * and catch_unwind's cleanup) and Go (runtime.gopanic, runtime.fatalpanic).
 * One program; the attach cookie says which hook fired (probe_cookie.h).
 *
 * A throw notes what flies on the stack of open calls (call_stack.bpf.h);
 * the frames it leaves are found dead by the stack pointer, as any, and are
 * then sent as exception records (status ERROR, the OTel exception event)
 * instead of truncated spans: at the catch, or at the next call or return
 * above them. A call that catches the exception itself returns normally and
 * is closed at its return as usual. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "call_stack.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_HOOKS);
	__type(key, __u32);
	__type(value, struct hook_info);
} hook_infos SEC(".maps");

static __always_inline void note_exception(struct pending_exc *e, __u64 sp, __u8 span_flags)
{
	e->active = 1;
	e->since_sp = sp;
	e->clear_above = ~0ULL;
	e->span_flags = span_flags;
	e->type[0] = 0;
	e->message[0] = 0;
}

/* libstdc++'s std::runtime_error and std::logic_error keep their what()
 * text in a reference-counted string whose only member, the character
 * pointer, follows the vtable pointer: at obj + 8. So do the classes built
 * on them by single inheritance (std::out_of_range, std::system_error, a
 * program's own), whose type_info is a __si_class_type_info: vtable, name,
 * base type_info. */
static const char runtime_error_name[] = "St13runtime_error";
static const char logic_error_name[] = "St11logic_error";

static __always_inline bool same_name(const char *a, const char *b, int n)
{
	for (int i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

static __always_inline bool cxx_message_at_8(__u64 tinfo)
{
	for (int level = 0; level < 6 && tinfo; level++) {
		char name[24] = {};
		__u64 p = 0;

		if (bpf_probe_read_user(&p, sizeof(p), (void *)(tinfo + 8)) ||
		    bpf_probe_read_user_str(name, sizeof(name), (void *)p) < 0)
			return false;
		if (same_name(name, runtime_error_name, sizeof(runtime_error_name)) ||
		    same_name(name, logic_error_name, sizeof(logic_error_name)))
			return true;
		/* the base of a __si_class_type_info; for other kinds this reads
		 * something that is no type_info, whose name then matches nothing */
		if (bpf_probe_read_user(&tinfo, sizeof(tinfo), (void *)(tinfo + 16)))
			return false;
	}
	return false;
}

/* __cxa_throw(void *obj, std::type_info *tinfo, void (*dest)(void *)) */
static __always_inline void cxx_throw(struct pt_regs *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct thread_calls *tc = thread_calls__get(false);
	__u64 obj = PT_REGS_PARM1(ctx), tinfo = PT_REGS_PARM2(ctx), name = 0, msg = 0;
	struct thread_exc *x;

	if (!tc || tc->depth == 0)
		return; /* nothing open: nothing to leave */
	x = bpf_task_storage_get(&thread_excs, task, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!x)
		return;
	tc->exc_used = 1;
	note_exception(&x->cur, PT_REGS_SP(ctx), SPAN_F_EXC_CXX);
	if (bpf_probe_read_user(&name, sizeof(name), (void *)(tinfo + 8)) || !name)
		return;
	/* gcc marks the names of types with internal linkage with a '*' */
	if (bpf_probe_read_user_str(x->cur.type, sizeof(x->cur.type), (void *)name) > 0 &&
	    x->cur.type[0] == '*')
		bpf_probe_read_user_str(x->cur.type, sizeof(x->cur.type), (void *)(name + 1));
	if (cxx_message_at_8(tinfo) &&
	    !bpf_probe_read_user(&msg, sizeof(msg), (void *)(obj + 8)) && msg)
		bpf_probe_read_user_str(x->cur.message, sizeof(x->cur.message), (void *)msg);
}

/* __cxa_rethrow(): the exception caught last flies again. */
static __always_inline void cxx_rethrow(struct pt_regs *ctx)
{
	struct thread_exc *x = bpf_task_storage_get(&thread_excs, bpf_get_current_task_btf(),
						    NULL, 0);

	if (!x || !x->caught.active)
		return;
	__builtin_memcpy(&x->cur, &x->caught, sizeof(x->cur));
	x->cur.since_sp = PT_REGS_SP(ctx);
	x->cur.clear_above = ~0ULL;
}

/* A handler caught it (__cxa_begin_catch, called from the catching
 * function's landing pad): the calls that function made are gone, their
 * entry slots at or below this call's. */
static __always_inline void caught(struct pt_regs *ctx, bool rust)
{
	struct call_stack cs = {};

	if (!call_stack__get(ctx, false, false, &cs) || !cs.exc || !cs.exc->active)
		return;
	call_stack__unwind(&cs, cs.sp, true, bpf_get_current_pid_tgid(), bpf_ktime_get_ns(),
			   SPAN_LOST_STACK_UNWIND);
	if (rust) {
		/* catch_unwind's cleanup runs a few frames below the function
		 * that caught, so calls it made may sit above this one's slot:
		 * the next call or return (there or above) sends them */
		cs.exc->clear_above = 0;
		return;
	}
	__builtin_memcpy(&((struct thread_exc *)cs.exc)->caught, cs.exc, sizeof(*cs.exc));
	cs.exc->active = 0;
}

static __always_inline void rust_panic(struct pt_regs *ctx)
{
	struct thread_calls *tc = thread_calls__get(false);
	struct thread_exc *x;

	if (!tc || tc->depth == 0)
		return;
	x = bpf_task_storage_get(&thread_excs, bpf_get_current_task_btf(), NULL,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!x)
		return;
	tc->exc_used = 1;
	note_exception(&x->cur, PT_REGS_SP(ctx), 0);
	__builtin_memcpy(x->cur.type, "panic", 6);
}

/* Go's runtime type (internal/abi.Type): kind at 23, tflag at 20, the name's
 * offset from runtime.types at 40. */
#define GO_TYPE_TFLAG 20
#define GO_TYPE_KIND 23
#define GO_TYPE_STR 40
#define GO_TFLAG_EXTRA_STAR 2
#define GO_KIND_MASK 0x1f
#define GO_KIND_PTR 22
#define GO_KIND_STRING 24

/* A Go string header's bytes into buf (NUL-terminated, cut to fit). */
static __always_inline void read_go_string(char *buf, __u32 size, __u64 hdr_addr)
{
	struct { __u64 ptr, len; } h = {};
	__u64 n;

	buf[0] = 0;
	if (bpf_probe_read_user(&h, sizeof(h), (void *)hdr_addr) || !h.ptr)
		return;
	n = h.len < size - 1 ? h.len : size - 1;
	n &= 0x7f;
	if (n && n < size && !bpf_probe_read_user(buf, n, (void *)h.ptr))
		buf[n & 0x7f] = 0;
}

/* runtime.gopanic(e any): the type word in rax, the data word in rbx. */
static __always_inline void go_panic(struct pt_regs *ctx, const struct hook_info *info)
{
	__u64 type = ctx->ax, data = ctx->bx, bias, name_addr;
	struct call_stack cs = {};
	__u8 kind = 0, tflag = 0, hdr[3] = {};
	__s32 str = 0;
	__u32 len, skip, n;
	struct pending_exc *e;

	if (!call_stack__get(ctx, true, false, &cs) || cs.tc->depth == 0)
		return;
	e = cs.exc;
	/* deferred calls run below gopanic; the first call or return above it
	 * comes after a recover, or never */
	note_exception(e, cs.sp, 0);
	e->clear_above = cs.sp;
	if (!type || bpf_probe_read_user(&kind, 1, (void *)(type + GO_TYPE_KIND)) ||
	    bpf_probe_read_user(&tflag, 1, (void *)(type + GO_TYPE_TFLAG)) ||
	    bpf_probe_read_user(&str, sizeof(str), (void *)(type + GO_TYPE_STR)))
		return;
	kind &= GO_KIND_MASK;
	if (kind == GO_KIND_STRING) {
		read_go_string(e->message, sizeof(e->message), data);
	} else if (kind == GO_KIND_PTR) {
		/* *errors.errorString, *fmt.wrapError: the text is the first field;
		 * user space keeps it only for such types */
		read_go_string(e->message, sizeof(e->message), data);
		e->span_flags |= SPAN_F_EXC_GO_PTR;
	}
	if (!info || !info->types_vaddr)
		return;
	/* abi.Name: a flags byte, the length as a varint, the bytes */
	bias = PT_REGS_IP(ctx) - info->hook_vaddr;
	name_addr = info->types_vaddr + bias + (__s64)str;
	if (bpf_probe_read_user(hdr, sizeof(hdr), (void *)name_addr))
		return;
	if (hdr[1] & 0x80) {
		len = (hdr[1] & 0x7f) | ((__u32)hdr[2] << 7);
		skip = 3;
	} else {
		len = hdr[1];
		skip = 2;
	}
	if ((tflag & GO_TFLAG_EXTRA_STAR) && len > 0) {
		skip++;
		len--;
	}
	n = len < EXC_TYPE_LEN - 1 ? len : EXC_TYPE_LEN - 1;
	/* bounded after the barrier: 6.1's verifier does not carry a bound
	 * checked on one register to the copy clang reads the size from */
	barrier_var(n);
	n &= 0x3f;
	if (n && !bpf_probe_read_user(e->type, n, (void *)(name_addr + skip)))
		e->type[n] = 0;
}

/* runtime.fatalpanic: no deferred call recovered; the program dies. Every
 * open call of the goroutine was left by the panic. */
static __always_inline void go_fatal(struct pt_regs *ctx)
{
	struct call_stack cs = {};

	if (!call_stack__get(ctx, true, false, &cs))
		return;
	call_stack__unwind(&cs, ~0ULL, true, bpf_get_current_pid_tgid(), bpf_ktime_get_ns(),
			   SPAN_LOST_STACK_UNWIND);
	if (cs.exc)
		cs.exc->active = 0;
	call_stack__put(&cs);
}

SEC("uprobe")
int BPF_UPROBE(exception_hook)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);
	__u32 idx = (cookie >> HOOK_INFO_SHIFT) & 0xff;
	const struct hook_info *info;

	if (!traced_tgid(bpf_get_current_pid_tgid()))
		return 0;
	switch (cookie & 0xff) {
	case HOOK_CXX_THROW:
		cxx_throw(ctx);
		break;
	case HOOK_CXX_RETHROW:
		cxx_rethrow(ctx);
		break;
	case HOOK_CXX_BEGIN_CATCH:
		caught(ctx, false);
		break;
	case HOOK_RUST_PANIC:
		rust_panic(ctx);
		break;
	case HOOK_RUST_CATCH:
		caught(ctx, true);
		break;
	case HOOK_GO_PANIC:
		info = bpf_map_lookup_elem(&hook_infos, &idx);
		go_panic(ctx, info);
		break;
	case HOOK_GO_FATAL:
		go_fatal(ctx);
		break;
	}
	return 0;
}
