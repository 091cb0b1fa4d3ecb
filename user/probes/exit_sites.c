// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A function's exit instructions as probe points. Capstone decodes the
 * operand of an indirect jmp, so the BPF side can read the target the CPU
 * is about to jump to and tell a jump table (inside the function) from a
 * tail call (outside) — the bytes alone can't. */
#include <capstone/capstone.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "elf_symbols.h"
#include "exit_sites.h"
#include "probe_cookie.h"

_Static_assert(SPAN_MAX_FUNCS - 1 <= COOKIE_FUNC_MASK, "function ids must fit the cookie");

int probe_points__push(struct probe_points *p, unsigned long offset, uint64_t cookie)
{
	if (p->n == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 64;
		struct probe_point *grown = realloc(p->v, ncap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		p->v = grown;
		p->cap = ncap;
	}
	p->v[p->n++] = (struct probe_point){ offset, cookie };
	return 0;
}

uint64_t exit_sites__entry_cookie(const struct traced_func *f)
{
	return f->id | (f->bin->go_regabi ? COOKIE_GO : 0);
}

/* A notrack jmp is a jump table's dispatch, and the kernel refuses it. */
static bool is_exit_probe(const struct exit_site *s)
{
	return !(s->kind == EXIT_INDIRECT_JMP && s->cost == ATTACH_UNPROBEABLE);
}

size_t exit_sites__count(const struct traced_func *f)
{
	const struct func_exits *x = &f->sym->exits;
	size_t n = x->nrets;

	for (size_t i = 0; i < x->ntails; i++)
		n += is_exit_probe(&x->tails[i]);
	return n;
}

/* The traced function of f's file that a direct jump to target enters. */
static const struct traced_func *traced_at(const struct probe_table *t, const struct traced_func *f,
					   uint64_t target)
{
	for (size_t i = 0; i < t->nfuncs; i++) {
		const struct traced_func *g = &t->funcs[i];

		if (g->bin == f->bin && g->skip == SKIP_NONE && g->sym->vaddr == target &&
		    !g->sym->is_ifunc)
			return g;
	}
	return NULL;
}

static uint8_t reg_number(x86_reg r)
{
	static const x86_reg regs[16] = {
		X86_REG_RAX, X86_REG_RCX, X86_REG_RDX, X86_REG_RBX, X86_REG_RSP, X86_REG_RBP,
		X86_REG_RSI, X86_REG_RDI, X86_REG_R8, X86_REG_R9, X86_REG_R10, X86_REG_R11,
		X86_REG_R12, X86_REG_R13, X86_REG_R14, X86_REG_R15,
	};

	if (r == X86_REG_RIP)
		return INDIRECT_REG_RIP;
	for (uint8_t i = 0; i < 16; i++)
		if (regs[i] == r)
			return i;
	return INDIRECT_REG_NONE;
}

/* The operand of the indirect jmp at s; false when it is not one we can
 * read at run time (then the function is not given exit sites). */
static bool decode_indirect(const struct traced_func *f, const struct exit_site *s,
			    struct indirect_site *out)
{
	static csh cs;
	static bool opened;
	const uint8_t *code = elf_binary__file_bytes(f->bin->elf, s->file_offset, s->len);
	const cs_x86_op *op;
	cs_insn *insn = NULL;
	bool ok = false;

	if (!code)
		return false;
	if (!opened) {
		if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
			return false;
		cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
		opened = true;
	}
	if (cs_disasm(cs, code, s->len, s->vaddr, 1, &insn) != 1)
		return false;
	if (insn->detail->x86.op_count != 1)
		goto out;
	op = &insn->detail->x86.operands[0];
	memset(out, 0, sizeof(*out));
	out->len = s->len;
	if (op->type == X86_OP_REG) {
		out->base = reg_number(op->reg);
		ok = out->base < 16;
	} else if (op->type == X86_OP_MEM && op->mem.segment == X86_REG_INVALID) {
		out->is_mem = 1;
		out->base = op->mem.base == X86_REG_INVALID ? INDIRECT_REG_NONE : reg_number(op->mem.base);
		out->index = op->mem.index == X86_REG_INVALID ? INDIRECT_REG_NONE
							     : reg_number(op->mem.index);
		out->scale = (uint8_t)op->mem.scale;
		out->disp = (int32_t)op->mem.disp;
		ok = (op->mem.base == X86_REG_INVALID || out->base != INDIRECT_REG_NONE) &&
		     (op->mem.index == X86_REG_INVALID || out->index < 16) &&
		     op->mem.disp == (int64_t)out->disp;
	}
out:
	cs_free(insn, 1);
	return ok;
}

static int add_indirect(const struct traced_func *f, const struct exit_site *s,
			struct probe_points *out, struct indirect_sink *ind)
{
	struct indirect_site site;
	uint64_t func_start = f->sym->is_ifunc ? 0 : f->sym->vaddr;
	uint32_t idx;

	if (!decode_indirect(f, s, &site) || func_start == 0 || s->vaddr < func_start)
		return -ENOEXEC;
	for (idx = 0; idx < ind->next; idx++)
		if (ind->keys[idx].func_id == f->id && ind->keys[idx].file_offset == s->file_offset)
			goto have_slot;
	if (ind->next >= MAX_INDIRECT_SITES)
		return -E2BIG;
	if (ind->next % 64 == 0) {
		struct indirect_key *grown = realloc(ind->keys, (ind->next + 64) * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		ind->keys = grown;
	}
	idx = ind->next++;
	ind->keys[idx] = (struct indirect_key){ f->id, s->file_offset };
	site.func_id = f->id;
	site.site_off = (uint32_t)(s->vaddr - func_start);
	site.func_size = (uint32_t)f->sym->size;
	site.go = f->bin->go_regabi;
	if (ind->map_fd >= 0 && bpf_map_update_elem(ind->map_fd, &idx, &site, 0))
		return -errno;
have_slot:
	return probe_points__push(out, s->file_offset,
			  exit_sites__entry_cookie(f) |
				  ((uint64_t)EXIT_SITE_INDIRECT << COOKIE_SITE_SHIFT) |
				  ((uint64_t)idx << COOKIE_ARG_SHIFT));
}

/* The condition code of a jcc: 7x rel8 or 0f 8x rel32. */
static int jcc_condition(const struct traced_func *f, const struct exit_site *s)
{
	const uint8_t *code = elf_binary__file_bytes(f->bin->elf, s->file_offset, s->len);
	size_t i = 0;

	if (!code)
		return -1;
	/* skip prefixes (bnd 0xf2, branch hints 0x2e/0x3e) */
	while (i < s->len && (code[i] == 0xf2 || code[i] == 0x2e || code[i] == 0x3e))
		i++;
	if (i < s->len && code[i] >= 0x70 && code[i] <= 0x7f)
		return code[i] & 0xf;
	if (i + 1 < s->len && code[i] == 0x0f && code[i + 1] >= 0x80 && code[i + 1] <= 0x8f)
		return code[i + 1] & 0xf;
	return -1;
}

bool exit_sites__decodable(const struct traced_func *f)
{
	const struct func_exits *x = &f->sym->exits;
	struct indirect_site site;

	for (size_t i = 0; i < x->ntails; i++) {
		const struct exit_site *s = &x->tails[i];

		if (!is_exit_probe(s))
			continue;
		if (s->kind == EXIT_INDIRECT_JMP && (f->sym->is_ifunc || !decode_indirect(f, s, &site)))
			return false;
		if (s->kind == EXIT_TAIL_JCC && jcc_condition(f, s) < 0)
			return false;
	}
	return true;
}

int exit_sites__add(const struct probe_table *t, const struct traced_func *f,
		    struct probe_points *out, struct indirect_sink *ind)
{
	const struct func_exits *x = &f->sym->exits;
	uint64_t base = exit_sites__entry_cookie(f);
	int err;

	for (size_t i = 0; i < x->nrets; i++) {
		err = probe_points__push(out, x->rets[i].file_offset,
				 base | ((uint64_t)EXIT_SITE_RET << COOKIE_SITE_SHIFT));
		if (err)
			return err;
	}
	for (size_t i = 0; i < x->ntails; i++) {
		const struct exit_site *s = &x->tails[i];
		const struct traced_func *callee;
		uint64_t cookie = base;

		if (!is_exit_probe(s))
			continue;
		if (s->kind == EXIT_INDIRECT_JMP) {
			err = add_indirect(f, s, out, ind);
			if (err)
				return err;
			continue;
		}
		if (s->kind == EXIT_TAIL_JCC) {
			int cc = jcc_condition(f, s);

			if (cc < 0)
				return -ENOEXEC;
			cookie |= COOKIE_COND | ((uint64_t)cc << COOKIE_CC_SHIFT);
		}
		callee = traced_at(t, f, s->target);
		if (callee)
			cookie |= ((uint64_t)EXIT_SITE_TAIL_KEEP << COOKIE_SITE_SHIFT) |
				  ((uint64_t)callee->id << COOKIE_ARG_SHIFT);
		else
			cookie |= (uint64_t)EXIT_SITE_TAIL_END << COOKIE_SITE_SHIFT;
		err = probe_points__push(out, s->file_offset, cookie);
		if (err)
			return err;
	}
	return 0;
}

void indirect_sink__release(struct indirect_sink *s)
{
	free(s->keys);
	s->keys = NULL;
	s->next = 0;
}

void probe_points__release(struct probe_points *p)
{
	free(p->v);
	memset(p, 0, sizeof(*p));
}
