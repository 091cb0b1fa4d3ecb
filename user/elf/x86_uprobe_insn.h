/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the kernel does with a uprobe on one x86-64 instruction: emulate it,
 * single-step it out of line, or refuse it. Capstone decodes; this module
 * only applies the rules of arch/x86/kernel/uprobes.c. */
#ifndef SPANPROBE_X86_UPROBE_INSN_H
#define SPANPROBE_X86_UPROBE_INSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elf_symbols.h"

/* The rules differ by kernel version. */
struct uprobe_rules {
	bool nop_patterns;   /* 6.16+: the kernel's own nop encodings (0f 1f ...) emulated */
	bool nop5_optimized; /* 6.18+: a 5-byte nop becomes a call to a trampoline */
	bool push_emulated;  /* a probed push is emulated (no single step) */
};

/* The rules of the kernel named by release ("6.18.4-..."); unknown: the
 * oldest (nothing beyond 0x90 nops, push, jmp/call/jcc emulated). */
void uprobe_rules__for_release(const char *release, struct uprobe_rules *r);
/* What the running kernel was found to do (the tracer probes it: a
 * distribution kernel may have backported what its version number lacks);
 * replaces the rules read from uname. */
void uprobe_rules__set_running(const struct uprobe_rules *r);
/* The running kernel's (set, or from uname, read once). */
const struct uprobe_rules *uprobe_rules__running(void);

enum insn_kind {
	INSN_OTHER,
	INSN_ENDBR64,
	INSN_RET,          /* ret, ret imm16 */
	INSN_JMP,          /* jmp rel */
	INSN_JCC,          /* jcc rel */
	INSN_JMP_INDIRECT, /* jmp *reg, jmp *mem */
	INSN_CALL,
	INSN_TRAP,         /* int3, ud2, hlt: padding or "can't get here" */
};

struct insn_probe {
	enum attach_cost cost;
	const char *reason;  /* static text: why that cost */
	enum insn_kind kind;
	uint8_t len;         /* 0: not decodable */
	uint64_t target;     /* INSN_JMP, INSN_JCC, INSN_CALL: the target vaddr */
};

struct x86_decoder;

/* -ENOMEM, or -EINVAL when Capstone can't open x86-64 mode. */
int x86_decoder__new(const struct uprobe_rules *rules, struct x86_decoder **out);
void x86_decoder__free(struct x86_decoder *d);

/* The instruction at code[0..n), at vaddr and file offset off (a 5-byte nop
 * is only optimized when it does not cross a page). */
void x86_decoder__classify(struct x86_decoder *d, const uint8_t *code, size_t n, uint64_t vaddr,
			   uint64_t off, struct insn_probe *out);

/* The cheapest entry probe of a function whose first bytes are code[0..n):
 * fills attach_offset, cost, cost_reason, skipped_endbr64 and skip. */
void x86_decoder__choose_entry(struct x86_decoder *d, const uint8_t *code, size_t n,
			       uint64_t vaddr, uint64_t off, struct func_symbol *s);


/* Most instructions skipped on the way to a cheaper entry: prologues reach
 * their first branch within a few. */
#define BODY_ENTRY_MAX_SKIP 16

/* The first instruction past code[0] (code[0..n) at vaddr, file offset off:
 * one function's bytes) the kernel emulates, with what the instructions
 * before it do to sp and the registers, into out (see struct body_entry).
 * Every instruction skipped must fall through to the next: a branch, a
 * trap, a system call (the span would start after it) or an sp change
 * other than sub/add/lea of a constant or a push ends the search at the
 * entry. lands(ctx, vaddr) tells whether anything arrives at vaddr other
 * than by running the instruction before it (a jump, another symbol's
 * start): then the site can't be at or past vaddr. */
void x86_decoder__find_body_entry(struct x86_decoder *d, const uint8_t *code, size_t n,
				  uint64_t vaddr, uint64_t off,
				  bool (*lands)(void *ctx, uint64_t vaddr), void *ctx,
				  struct body_entry *out);

/* The addresses code[0..n) (at vaddr) loads with `lea disp(%rip)` or
 * jumps/calls to directly: what an ifunc resolver may return. Up to max in
 * out; returns how many. */
size_t x86_decoder__code_refs(struct x86_decoder *d, const uint8_t *code, size_t n, uint64_t vaddr,
			      uint64_t *out, size_t max);
#endif /* SPANPROBE_X86_UPROBE_INSN_H */
