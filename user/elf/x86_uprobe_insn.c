// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The kernel's verdict on a uprobe at one x86-64 instruction.
 *
 * Capstone finds the instruction's length, kind and branch target; the
 * verdict follows arch/x86/kernel/uprobes.c (arch_uprobe_analyze_insn):
 *  - refused (-ENOTSUPP/-ENOEXEC): undecodable; an es/cs/ss/ds segment or
 *    lock prefix (so `lock decl (%rdi)`, and `notrack jmp`, whose 3e is a
 *    ds prefix); mov to %ss; a first opcode byte outside the kernel's
 *    good-instruction table. That table is looked up with the first opcode
 *    byte only: every 0f-escaped instruction passes (0f itself is marked
 *    good), and for VEX/EVEX instructions the byte is the opcode inside
 *    the VEX map (so vmovdqu, VEX 6f, is refused like outs);
 *  - emulated: opcode 0x90 with any prefixes (nop, pause); since 6.16 the
 *    kernel's own nop encodings (x86_nops[1..]); jmp rel8/rel32, call rel32
 *    and jcc unless a 66 prefix is present (then refused); push reg, alone
 *    or with REX 41;
 *  - since 6.18 a 5-byte nop (0f 1f 44 00 00) not crossing a page is turned
 *    into a call into a trampoline: the cheapest;
 *  - everything else is single-stepped out of line, ret included.
 * The emulation is chosen by the opcode byte alone too: the kernel accepts
 * a VEX/EVEX instruction whose opcode byte is 70-7f/e8/e9/eb/90 and then
 * emulates it as a jcc/call/jmp/nop (EVEX vpbroadcastb, 7a, becomes a
 * `jp`; glibc's __strchr_evex starts with it), and REX.B 90 (xchg
 * %eax,%r8d) as a nop: the program would run wrongly, so those are
 * reported unprobeable, never probed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <capstone/capstone.h>

#include "x86_uprobe_insn.h"

struct x86_decoder {
	csh cs;
	cs_insn *insn; /* one reusable instruction for cs_disasm_iter */
	struct uprobe_rules rules;
};

void uprobe_rules__for_release(const char *release, struct uprobe_rules *r)
{
	int major = 0, minor = 0;

	memset(r, 0, sizeof(*r));
	r->push_emulated = true; /* in every kernel spanprobe can run on */
	if (!release || sscanf(release, "%d.%d", &major, &minor) != 2)
		return;
	r->nop_patterns = major > 6 || (major == 6 && minor >= 16);
	r->nop5_optimized = major > 6 || (major == 6 && minor >= 18);
}

static struct uprobe_rules rules;
static bool rules_done;

void uprobe_rules__set_running(const struct uprobe_rules *r)
{
	rules = *r;
	rules_done = true;
}

const struct uprobe_rules *uprobe_rules__running(void)
{
	struct utsname u;

	if (!rules_done) {
		uprobe_rules__for_release(uname(&u) == 0 ? u.release : NULL, &rules);
		rules_done = true;
	}
	return &rules;
}

int x86_decoder__new(const struct uprobe_rules *rules, struct x86_decoder **out)
{
	struct x86_decoder *d = calloc(1, sizeof(*d));

	*out = NULL;
	if (!d)
		return -ENOMEM;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &d->cs) != CS_ERR_OK) {
		free(d);
		return -EINVAL;
	}
	cs_option(d->cs, CS_OPT_DETAIL, CS_OPT_ON);
	d->insn = cs_malloc(d->cs);
	if (!d->insn) {
		cs_close(&d->cs);
		free(d);
		return -ENOMEM;
	}
	d->rules = *rules;
	*out = d;
	return 0;
}

void x86_decoder__free(struct x86_decoder *d)
{
	if (!d)
		return;
	cs_free(d->insn, 1);
	cs_close(&d->cs);
	free(d);
}

/* One-byte opcodes the kernel's 64-bit good-instruction table refuses. */
static bool opcode1_refused(uint8_t op)
{
	static const uint8_t refused[] = {
		0x06, 0x07, 0x0e, 0x16, 0x17, 0x1e, 0x1f, 0x27, 0x2f, 0x37, 0x3f,
		0x60, 0x61, 0x62, 0x6c, 0x6d, 0x6e, 0x6f, 0x82, 0x9a,
		0xcc, 0xcd, 0xce, 0xcf, 0xd4, 0xd5, 0xd6,
		0xe4, 0xe5, 0xe6, 0xe7, 0xea, 0xec, 0xed, 0xee, 0xef,
		0xf1, 0xf4, 0xfa, 0xfb,
	};

	return memchr(refused, op, sizeof(refused)) != NULL;
}

/* The kernel's nop encodings (x86_nops for 64-bit), by length. Longer
 * ones start with a cs prefix, which is refused before this is asked. */
static bool is_kernel_nop(const uint8_t *p, size_t len)
{
	static const uint8_t nops[][9] = {
		{ 0 },
		{ 0x90 },
		{ 0x66, 0x90 },
		{ 0x0f, 0x1f, 0x00 },
		{ 0x0f, 0x1f, 0x40, 0x00 },
		{ 0x0f, 0x1f, 0x44, 0x00, 0x00 },
		{ 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 },
		{ 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00 },
		{ 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
		{ 0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
	};

	return len >= 1 && len <= 9 && memcmp(p, nops[len], len) == 0;
}

/* How the kernel's decoder sees the bytes: prefixes, REX, VEX, opcode. */
struct raw_view {
	bool bad_prefix;   /* es/cs/ss/ds or lock */
	bool opsize;       /* 66 */
	uint8_t rex;       /* 0: none */
	bool vex;          /* VEX or EVEX: opcode1 is the byte inside the map */
	uint8_t opcode1, opcode2;
	uint8_t nbytes;    /* opcode bytes: 1, 2 (0f xx) or 3 (0f 38/3a xx) */
};

static void raw_view(const uint8_t *p, size_t len, struct raw_view *v)
{
	size_t i = 0;

	memset(v, 0, sizeof(*v));
	for (; i < len; i++) {
		uint8_t b = p[i];

		if (b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0xf0)
			v->bad_prefix = true;
		else if (b == 0x66)
			v->opsize = true;
		else if (b != 0x64 && b != 0x65 && b != 0x67 && b != 0xf2 && b != 0xf3)
			break;
	}
	if (i < len && (p[i] & 0xf0) == 0x40)
		v->rex = p[i++];
	if (i < len && (p[i] == 0xc4 || p[i] == 0xc5 || p[i] == 0x62)) {
		size_t skip = p[i] == 0xc5 ? 2 : p[i] == 0xc4 ? 3 : 4;

		v->vex = true;
		i += skip;
		v->nbytes = 1;
		v->opcode1 = i < len ? p[i] : 0;
		return;
	}
	if (i >= len)
		return;
	v->opcode1 = p[i];
	v->nbytes = 1;
	if (p[i] == 0x0f && i + 1 < len) {
		v->opcode2 = p[i + 1];
		v->nbytes = (p[i + 1] == 0x38 || p[i + 1] == 0x3a) ? 3 : 2;
	}
}

static bool is_cond_jmp_opcode(uint8_t op)
{
	return op >= 0x70 && op <= 0x7f;
}

static void kind_of(const cs_insn *in, struct insn_probe *out)
{
	const cs_x86 *x = &in->detail->x86;
	bool imm = x->op_count == 1 && x->operands[0].type == X86_OP_IMM;

	out->kind = INSN_OTHER;
	switch (in->id) {
	case X86_INS_ENDBR64:
		out->kind = INSN_ENDBR64;
		return;
	case X86_INS_RET:
		out->kind = INSN_RET;
		return;
	case X86_INS_INT3:
	case X86_INS_UD2:
	case X86_INS_HLT:
		out->kind = INSN_TRAP;
		return;
	case X86_INS_CALL:
		out->kind = INSN_CALL;
		if (imm)
			out->target = (uint64_t)x->operands[0].imm;
		return;
	case X86_INS_JMP:
		out->kind = imm ? INSN_JMP : INSN_JMP_INDIRECT;
		if (imm)
			out->target = (uint64_t)x->operands[0].imm;
		return;
	default:
		break;
	}
	for (uint8_t g = 0; g < in->detail->groups_count; g++) {
		if (in->detail->groups[g] == X86_GRP_JUMP && imm && in->id != X86_INS_LJMP) {
			out->kind = INSN_JCC;
			out->target = (uint64_t)x->operands[0].imm;
		}
	}
}

void x86_decoder__classify(struct x86_decoder *d, const uint8_t *code, size_t n, uint64_t vaddr,
			   uint64_t off, struct insn_probe *out)
{
	const uint8_t *p = code;
	uint64_t addr = vaddr;
	struct raw_view v;
	uint8_t reg;

	memset(out, 0, sizeof(*out));
	out->cost = ATTACH_UNPROBEABLE;
	if (n == 0) {
		out->reason = "no code bytes in the file";
		return;
	}
	if (!cs_disasm_iter(d->cs, &p, &n, &addr, d->insn)) {
		out->reason = "the instruction can't be decoded (the kernel refuses it too)";
		return;
	}
	out->len = (uint8_t)d->insn->size;
	kind_of(d->insn, out);
	raw_view(code, out->len, &v);
	reg = (d->insn->detail->x86.modrm >> 3) & 7;

	if (v.bad_prefix) {
		out->reason = "lock or segment prefix (also notrack): the kernel refuses it";
		return;
	}
	if (v.opcode1 == 0x8e && !v.vex && v.nbytes == 1 && reg == 2) {
		out->reason = "mov to %ss: the kernel refuses it";
		return;
	}
	if (opcode1_refused(v.opcode1)) {
		out->reason = v.vex ? "VEX/EVEX instruction whose opcode byte the kernel's table "
				      "refuses"
				    : "an instruction the kernel refuses to probe (int, in/out, hlt...)";
		return;
	}
	/* (push emulation wants at most 2 bytes: no VEX instruction is taken for one) */
	if (v.vex && (v.opcode1 == 0x90 || v.opcode1 == 0xe8 || v.opcode1 == 0xe9 ||
		      v.opcode1 == 0xeb || is_cond_jmp_opcode(v.opcode1))) {
		out->reason = "VEX instruction the kernel would emulate as a branch or nop: "
			      "not probed";
		return;
	}
	if (!v.vex && v.nbytes == 1 && v.opcode1 == 0x90 && (v.rex & 1)) {
		out->reason = "xchg %eax,%r8d the kernel would emulate as a nop: not probed";
		return;
	}

	if (d->rules.nop5_optimized && out->len == 5 && is_kernel_nop(code, 5) &&
	    (off & 0xfff) <= 0x1000 - 5) {
		out->cost = ATTACH_NOP5;
		out->reason = "5-byte nop: trap turned into a call";
		return;
	}
	if (!v.vex && v.nbytes == 1 && v.opcode1 == 0x90) {
		out->cost = ATTACH_EMULATED;
		out->reason = "nop: emulated";
		return;
	}
	if (d->rules.nop_patterns && is_kernel_nop(code, out->len)) {
		out->cost = ATTACH_EMULATED;
		out->reason = "nop: emulated";
		return;
	}
	if (!v.vex && ((v.nbytes == 1 && (v.opcode1 == 0xe8 || v.opcode1 == 0xe9 ||
					  v.opcode1 == 0xeb || is_cond_jmp_opcode(v.opcode1))) ||
		       (v.nbytes == 2 && v.opcode1 == 0x0f && v.opcode2 >= 0x80 &&
			v.opcode2 <= 0x8f))) {
		if (v.opsize) {
			out->reason = "branch with a 66 prefix: the kernel refuses it";
			return;
		}
		out->cost = ATTACH_EMULATED;
		out->reason = "jmp/call/jcc: emulated";
		return;
	}
	if (d->rules.push_emulated && !v.vex && v.nbytes == 1 && v.opcode1 >= 0x50 &&
	    v.opcode1 <= 0x57 && (out->len == 1 || (out->len == 2 && v.rex == 0x41))) {
		out->cost = ATTACH_EMULATED;
		out->reason = v.opcode1 == 0x55 && out->len == 1 ? "push %rbp: emulated"
								 : "push: emulated";
		return;
	}
	out->cost = ATTACH_SINGLE_STEP;
	out->reason = out->kind == INSN_RET ? "ret: single-stepped out of line (not emulated)"
					    : "first instruction single-stepped out of line";
}

void x86_decoder__choose_entry(struct x86_decoder *d, const uint8_t *code, size_t n,
			       uint64_t vaddr, uint64_t off, struct func_symbol *s)
{
	struct insn_probe first, next;

	s->attach_offset = off;
	s->skipped_endbr64 = false;
	x86_decoder__classify(d, code, n, vaddr, off, &first);
	if (first.kind == INSN_ENDBR64 && first.len == 4) {
		x86_decoder__classify(d, code + 4, n - 4, vaddr + 4, off + 4, &next);
		if (next.cost == ATTACH_NOP5 || next.cost == ATTACH_EMULATED) {
			s->attach_offset = off + 4;
			s->skipped_endbr64 = true;
			s->cost = next.cost;
			s->skip = SKIP_NONE;
			if (next.cost == ATTACH_NOP5)
				s->cost_reason = "endbr64 then 5-byte nop: probed past endbr64, "
						 "trap turned into a call";
			else if (strncmp(next.reason, "push", 4) == 0)
				s->cost_reason = "endbr64 then push: probed past endbr64, push emulated";
			else if (strncmp(next.reason, "nop", 3) == 0)
				s->cost_reason = "endbr64 then nop: probed past endbr64, nop emulated";
			else
				s->cost_reason = "endbr64 then jmp/call/jcc: probed past endbr64, "
						 "branch emulated";
			return;
		}
		s->cost = ATTACH_SINGLE_STEP;
		s->skip = SKIP_NONE;
		s->cost_reason = "endbr64 then a non-emulated instruction: probed at the symbol, "
				 "single-stepped";
		return;
	}
	s->cost = first.cost;
	s->cost_reason = first.reason;
	s->skip = first.cost == ATTACH_UNPROBEABLE
			  ? (n == 0 ? SKIP_NO_CODE : SKIP_REFUSED_INSN)
			  : SKIP_NONE;
}

size_t x86_decoder__code_refs(struct x86_decoder *d, const uint8_t *code, size_t n, uint64_t vaddr,
			      uint64_t *out, size_t max)
{
	const uint8_t *p = code;
	uint64_t addr = vaddr;
	size_t found = 0;

	while (found < max && cs_disasm_iter(d->cs, &p, &n, &addr, d->insn)) {
		const cs_x86 *x = &d->insn->detail->x86;
		uint64_t ref = 0;

		if (d->insn->id == X86_INS_LEA && x->op_count == 2 &&
		    x->operands[1].type == X86_OP_MEM && x->operands[1].mem.base == X86_REG_RIP &&
		    x->operands[1].mem.index == X86_REG_INVALID)
			ref = addr + (uint64_t)x->operands[1].mem.disp; /* addr: next insn */
		else if ((d->insn->id == X86_INS_JMP || d->insn->id == X86_INS_CALL) &&
			 x->op_count == 1 && x->operands[0].type == X86_OP_IMM)
			ref = (uint64_t)x->operands[0].imm;
		if (ref)
			out[found++] = ref;
		if (d->insn->id == X86_INS_INT3)
			break;
	}
	return found;
}

/* Capstone's name of a general register (any width) as its number in the
 * encoding's order (rax=0 ... r15=15), or -1. */
static int gpr_number(unsigned r)
{
	switch (r) {
	case X86_REG_RAX: case X86_REG_EAX: case X86_REG_AX: case X86_REG_AH: case X86_REG_AL:
		return 0;
	case X86_REG_RCX: case X86_REG_ECX: case X86_REG_CX: case X86_REG_CH: case X86_REG_CL:
		return 1;
	case X86_REG_RDX: case X86_REG_EDX: case X86_REG_DX: case X86_REG_DH: case X86_REG_DL:
		return 2;
	case X86_REG_RBX: case X86_REG_EBX: case X86_REG_BX: case X86_REG_BH: case X86_REG_BL:
		return 3;
	case X86_REG_RSP: case X86_REG_ESP: case X86_REG_SP: case X86_REG_SPL:
		return 4;
	case X86_REG_RBP: case X86_REG_EBP: case X86_REG_BP: case X86_REG_BPL:
		return 5;
	case X86_REG_RSI: case X86_REG_ESI: case X86_REG_SI: case X86_REG_SIL:
		return 6;
	case X86_REG_RDI: case X86_REG_EDI: case X86_REG_DI: case X86_REG_DIL:
		return 7;
	case X86_REG_R8: case X86_REG_R8D: case X86_REG_R8W: case X86_REG_R8B:
		return 8;
	case X86_REG_R9: case X86_REG_R9D: case X86_REG_R9W: case X86_REG_R9B:
		return 9;
	case X86_REG_R10: case X86_REG_R10D: case X86_REG_R10W: case X86_REG_R10B:
		return 10;
	case X86_REG_R11: case X86_REG_R11D: case X86_REG_R11W: case X86_REG_R11B:
		return 11;
	case X86_REG_R12: case X86_REG_R12D: case X86_REG_R12W: case X86_REG_R12B:
		return 12;
	case X86_REG_R13: case X86_REG_R13D: case X86_REG_R13W: case X86_REG_R13B:
		return 13;
	case X86_REG_R14: case X86_REG_R14D: case X86_REG_R14W: case X86_REG_R14B:
		return 14;
	case X86_REG_R15: case X86_REG_R15D: case X86_REG_R15W: case X86_REG_R15B:
		return 15;
	default:
		return -1;
	}
}

/* How the decoded instruction moves sp: true with *down (bytes; negative:
 * up) for push, sub/add $imm,%rsp and lea disp(%rsp),%rsp; false when it
 * writes sp any other way. Instructions that leave sp alone: true, 0. */
static bool sp_move(const cs_insn *in, uint16_t written, int64_t *down)
{
	const cs_x86 *x = &in->detail->x86;
	const cs_x86_op *o = x->operands;

	*down = 0;
	if (!(written & (1u << 4)))
		return true;
	if (in->id == X86_INS_PUSH && x->op_count == 1 && o[0].size == 8) {
		*down = 8;
		return true;
	}
	if (x->op_count != 2 || o[0].type != X86_OP_REG || o[0].reg != X86_REG_RSP)
		return false;
	if (in->id == X86_INS_SUB && o[1].type == X86_OP_IMM) {
		*down = o[1].imm;
		return true;
	}
	if (in->id == X86_INS_ADD && o[1].type == X86_OP_IMM) {
		*down = -o[1].imm;
		return true;
	}
	if (in->id == X86_INS_LEA && o[1].type == X86_OP_MEM && o[1].mem.base == X86_REG_RSP &&
	    o[1].mem.index == X86_REG_INVALID && o[1].mem.segment == X86_REG_INVALID) {
		*down = -o[1].mem.disp;
		return true;
	}
	return false;
}

/* Instructions that end the search though they fall through: a system call
 * or a string loop may take any time, which the span would not count. */
static bool may_take_long(const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;

	for (uint8_t g = 0; g < in->detail->groups_count; g++)
		if (in->detail->groups[g] == X86_GRP_INT || in->detail->groups[g] == X86_GRP_IRET)
			return true;
	switch (in->id) {
	case X86_INS_SYSCALL: case X86_INS_SYSENTER: case X86_INS_PAUSE:
		return true;
	default:
		break;
	}
	return x->prefix[0] == X86_PREFIX_REP || x->prefix[0] == X86_PREFIX_REPNE;
}

static const char *site_name(const struct insn_probe *p)
{
	if (p->cost == ATTACH_NOP5)
		return "5-byte nop";
	switch (p->kind) {
	case INSN_JCC: return "jcc";
	case INSN_JMP: return "jmp";
	case INSN_CALL: return "call";
	default: break;
	}
	return strncmp(p->reason, "push", 4) == 0 ? "push" : "nop";
}

void x86_decoder__find_body_entry(struct x86_decoder *d, const uint8_t *code, size_t n,
				  uint64_t vaddr, uint64_t off,
				  bool (*lands)(void *ctx, uint64_t vaddr), void *ctx,
				  struct body_entry *out)
{
	int64_t down = 0;
	size_t pos = 0;

	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; pos < n; i++) {
		struct insn_probe p;
		cs_regs rd, wr;
		uint8_t nrd = 0, nwr = 0;
		uint16_t written = 0;
		int64_t move;

		if (pos > 0 && lands(ctx, vaddr + pos)) {
			out->reason = "a jump (or another symbol) lands among its first instructions";
			return;
		}
		x86_decoder__classify(d, code + pos, n - pos, vaddr + pos, off + pos, &p);
		/* (one the kernel refuses to probe, a lock-prefixed or VEX one, runs
		 * like any other when skipped) */
		if (p.len == 0) {
			out->reason = "bytes that do not decode come before any emulated instruction";
			return;
		}
		if (p.cost == ATTACH_EMULATED || p.cost == ATTACH_NOP5) {
			if (down < 0 || down > 0xffff) {
				out->reason = "the instructions before the first emulated one move sp "
					      "up, or too far";
				return;
			}
			out->found = true;
			out->file_offset = off + pos;
			out->cost = p.cost;
			out->sp_delta = (uint32_t)down;
			out->nskipped = (uint8_t)i;
			out->site_insn = site_name(&p);
			return;
		}
		if (i >= BODY_ENTRY_MAX_SKIP) {
			out->reason = "no instruction the kernel emulates among its first 16";
			return;
		}
		if (p.kind != INSN_OTHER && p.kind != INSN_ENDBR64) {
			out->reason = p.kind == INSN_RET || p.kind == INSN_TRAP
					      ? "it returns (or traps) before any emulated instruction"
					      : "an indirect branch (single-stepped) comes first";
			return;
		}
		if (may_take_long(d->insn)) {
			out->reason = "a system call or string loop comes before any emulated "
				      "instruction: the span would start after it";
			return;
		}
		if (cs_regs_access(d->cs, d->insn, rd, &nrd, wr, &nwr) != CS_ERR_OK) {
			out->reason = "Capstone can't tell what an instruction before it writes";
			return;
		}
		for (uint8_t k = 0; k < nwr; k++) {
			int g = gpr_number(wr[k]);

			if (g >= 0)
				written |= (uint16_t)(1u << g);
		}
		if (!sp_move(d->insn, written, &move)) {
			out->reason = "an instruction before the first emulated one sets sp in a way "
				      "the call's stack slot can't be found from";
			return;
		}
		down += move;
		out->clobbered |= written & (uint16_t)~(1u << 4);
		pos += p.len;
	}
	out->reason = "no instruction the kernel emulates before its end";
}
