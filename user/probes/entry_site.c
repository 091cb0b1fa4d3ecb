// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The rule for a traced function's entry site. The cheaper site found in its
 * code (struct body_entry) is taken unless:
 *  - the return is a uretprobe and the skipped instructions moved sp: the
 *    kernel takes the return address from where sp points when the probe
 *    fires, which is then no longer the return address;
 *  - the return is seen at exit sites and the cheaper site is one of them
 *    (a tail jmp as the first branch): one instruction would be both;
 *  - a --arg of the function reads a register the skipped instructions
 *    overwrite (the entry still holds it);
 *  - Go: the skipped instructions write r14, where the BPF side finds g.
 * A cookie carries the sp correction, so the call's frame is recorded at
 * its entry slot, where its return and every unwinding look for it. */
#include "exit_sites.h"
#include "entry_site.h"
#include "probe_cookie.h"

/* --arg's registers (rdi, rsi, rdx, rcx, r8, r9) in the encoding's order. */
static const uint8_t arg_gpr[ARG_MAX] = { 7, 6, 2, 1, 8, 9 };

static bool site_is_exit(const struct func_symbol *s, uint64_t offset)
{
	for (size_t i = 0; i < s->exits.ntails; i++)
		if (s->exits.tails[i].file_offset == offset)
			return true;
	for (size_t i = 0; i < s->exits.nrets; i++)
		if (s->exits.rets[i].file_offset == offset)
			return true;
	return false;
}

static const char *why_not_moved(const struct traced_func *f)
{
	const struct func_symbol *s = f->sym;
	const struct body_entry *b = &s->body;

	/* (a function whose first instruction is refused stays left out, as
	 * its symbol says: the cheaper site is for functions spanprobe traces) */
	if (s->skip != SKIP_NONE)
		return "";
	if (!b->found)
		return b->reason;
	if (b->file_offset == s->attach_offset || b->cost >= s->cost)
		return "";
	if (f->ret_probe == RETURN_URETPROBE && b->sp_delta)
		return "the instructions before its first emulated one move sp, and a uretprobe "
		       "takes the return address from sp";
	if (f->ret_probe == RETURN_EXIT_SITES && site_is_exit(s, b->file_offset))
		return "its first emulated instruction is one of its exits";
	for (size_t i = 0; i < f->args.spec.nargs && i < ARG_MAX; i++) {
		uint8_t reg = f->args.spec.slot[i].reg;

		if (reg < ARG_MAX && (b->clobbered & (1u << arg_gpr[reg])))
			return "an --arg of it reads a register the instructions before its first "
			       "emulated one overwrite";
	}
	if (f->bin->go_regabi && (b->clobbered & (1u << 14)))
		return "the instructions before its first emulated one write r14 (Go's g)";
	return NULL;
}

void entry_site__of(const struct traced_func *f, struct entry_site *out)
{
	const struct func_symbol *s = f->sym;
	const char *why_not = why_not_moved(f);

	out->offset = s->attach_offset;
	out->code_start = s->attach_offset - (s->skipped_endbr64 ? 4 : 0);
	out->cost = s->cost;
	out->sp_delta = 0;
	out->moved = false;
	out->why = s->cost_reason;
	out->why_not = why_not && *why_not ? why_not : NULL;
	if (why_not)
		return;
	out->offset = s->body.file_offset;
	out->cost = s->body.cost;
	out->sp_delta = s->body.sp_delta;
	out->moved = true;
	out->why = s->body.sp_delta ? "first emulated instruction, reached on every call, no jump "
				      "lands before it; sp moved by the skipped ones is given back"
				    : "first emulated instruction, reached on every call, no jump "
				      "lands before it";
}

uint64_t entry_site__cookie(const struct traced_func *f)
{
	struct entry_site e;

	entry_site__of(f, &e);
	return exit_sites__entry_cookie(f) |
	       ((uint64_t)(e.sp_delta & COOKIE_SP_MASK) << COOKIE_SP_SHIFT);
}
