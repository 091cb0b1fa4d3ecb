/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The attach cookie of the function-call programs (bpf/uprobe_calls.bpf.c)
 * and of the exception hooks (bpf/exception_hooks.bpf.c): what user space
 * (user/probes/) packs and the BPF side unpacks. Shared by bpf/ and user/;
 * plain fixed-width types only, no includes.
 *
 * A call's return is seen one of two ways, chosen per function
 * (user/probes/return_rule.c):
 *  - a uretprobe: the kernel swaps the return address on the stack for its
 *    trampoline; cheap (~0.5 us), but Go's stack copying and C++/Rust's
 *    unwinder then meet an address they can't walk;
 *  - exit sites: a plain uprobe on each instruction that leaves the
 *    function (ret, a tail-call jmp); the return address stays untouched. */
#ifndef SPANPROBE_PROBE_COOKIE_H
#define SPANPROBE_PROBE_COOKIE_H

/* bits 0..15: the traced function's id (index in the probe table) */
#define COOKIE_FUNC_MASK 0xffffULL
/* bits 16..19: enum exit_site_kind (0 on entries and uretprobes) */
#define COOKIE_SITE_SHIFT 16
#define COOKIE_SITE_MASK 0xfULL
/* bits 20..23: a conditional tail jump's condition code (the low nibble of
 * the jcc opcode) */
#define COOKIE_CC_SHIFT 20
#define COOKIE_CC_MASK 0xfULL
/* bit 24: a Go function (register ABI, Go >= 1.17): its calls nest per
 * goroutine (g in r14), not per thread */
#define COOKIE_GO (1ULL << 24)
/* bit 25: the exit site is a conditional jump (jcc): an exit only when taken */
#define COOKIE_COND (1ULL << 25)
/* bits 48..63, entries only: bytes the instructions before a probe placed
 * past the function's first instructions moved sp down (sub $N,%rsp); the
 * call's entry sp is the probe's sp plus these */
#define COOKIE_SP_SHIFT 48
#define COOKIE_SP_MASK 0xffffULL
/* bits 32..47: EXIT_SITE_TAIL_KEEP: the id of the traced function jumped
 * to; EXIT_SITE_INDIRECT: the index of the site in the `indirect_sites` map */
#define COOKIE_ARG_SHIFT 32
#define COOKIE_ARG_MASK 0xffffULL

/* Which exit of the function a site is. */
enum exit_site_kind {
	EXIT_SITE_NONE = 0,     /* an entry (or a uretprobe) */
	EXIT_SITE_RET = 1,      /* ret: sp points at the entry slot; the return value in rax */
	EXIT_SITE_TAIL_END = 2, /* jmp/jcc to an untraced function: the call ends here, its
				 * return value unknown */
	EXIT_SITE_TAIL_KEEP = 3, /* jmp/jcc to a traced function: the callee nests under the
				  * call, and the callee's return ends both */
	EXIT_SITE_INDIRECT = 4, /* jmp *reg / *mem: a tail call when its target (read at run
				 * time) is outside the function, else a jump table */
};

/* An indirect jmp's operand and the function around it, for the run-time
 * test "does it leave the function?". */
#define INDIRECT_REG_NONE 0xff
#define INDIRECT_REG_RIP 0xfe
struct indirect_site {
	__u32 func_id;
	__u32 site_off;   /* of the jmp, from the function's first byte */
	__u32 func_size;  /* the function's bytes: [start, start + func_size) is inside */
	__s32 disp;
	__u8 is_mem;      /* jmp *disp(base,index,scale); else jmp *base */
	__u8 base;        /* 0..15 (rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8..r15),
			   * INDIRECT_REG_RIP or INDIRECT_REG_NONE */
	__u8 index;       /* 0..15 or INDIRECT_REG_NONE */
	__u8 scale;       /* 1, 2, 4, 8 */
	__u8 len;         /* instruction bytes (rip-relative: from its end) */
	__u8 go;          /* a Go function (COOKIE_GO) */
	__u8 pad[2];
};
#define MAX_INDIRECT_SITES 16384

/* Exception hooks: the cookie's low byte is the hook, bits 8..15 the index
 * of its facts in `hook_infos`. */
enum exc_hook {
	HOOK_CXX_THROW = 1,       /* __cxa_throw(obj, tinfo, dest): an exception starts */
	HOOK_CXX_RETHROW = 2,     /* __cxa_rethrow(): the caught one flies again */
	HOOK_CXX_BEGIN_CATCH = 3, /* __cxa_begin_catch(obj): a handler caught it */
	HOOK_RUST_PANIC = 4,      /* __rust_start_panic: a panic starts unwinding */
	HOOK_RUST_CATCH = 5,      /* __rust_panic_cleanup: catch_unwind caught it */
	HOOK_GO_PANIC = 6,        /* runtime.gopanic(e any) */
	HOOK_GO_FATAL = 7,        /* runtime.fatalpanic: no recover; the program dies */
};
#define HOOK_INFO_SHIFT 8
#define MAX_HOOKS 64

/* Per hook: where it sits as linked (for the load bias) and, for Go, where
 * type names are (runtime.types). */
struct hook_info {
	__u64 hook_vaddr;  /* the probed address of this hook, as linked */
	__u64 types_vaddr; /* Go: runtime.types (type names are offsets from it); 0 unknown */
};

#endif /* SPANPROBE_PROBE_COOKIE_H */
