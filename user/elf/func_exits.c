// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Where a function leaves: its return instructions, and the jumps that
 * leave it (tail calls), found by disassembling its bytes with Capstone,
 * each with the cost of a uprobe there. A probe on every exit instead of a
 * uretprobe leaves the return address alone, which Go's stack copying and
 * C++'s unwinder need.
 *
 * The list is complete (exits.known) only when that can be shown:
 *  - the symbol has a size (a size 0 symbol, hand-written asm without
 *    .size, has no known end: nothing is claimed);
 *  - every byte of the function decodes as instructions. Compilers for
 *    x86-64 put jump tables in .rodata, not in the code, so a linear sweep
 *    meets only instructions; data inside code shows up as bytes that do
 *    not decode, or as a jump to nowhere, and then nothing is claimed
 *    rather than a probe put on what may be the middle of an instruction;
 *  - every direct jump inside the function lands on the start of an
 *    instruction of the sweep (else the sweep ran through data and lost
 *    step: nothing is claimed);
 *  - every direct jump leaving the function lands on the start of a known
 *    function or a PLT stub (a tail call). The hot/cold split of gcc is followed: the
 *    .cold fragment foo.cold is part of foo, its returns are foo's returns
 *    and jumps between the two are internal. A jump to an address that
 *    is no function's start (a .cold part without a symbol, in a stripped
 *    file) makes the list unknown.
 * An indirect jmp (*%rax, *mem) is reported with the tail calls: it is a
 * jump table's dispatch or a tail call, and bytes alone can't tell. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf_internal.h"

#define MAX_RANGES 8
#define MAX_FUNC_BYTES (64u << 20) /* no real function is bigger */

struct code_range {
	uint64_t lo, hi; /* [lo, hi) vaddrs */
	bool cold;
};

static bool in_ranges(const struct code_range *r, size_t n, uint64_t vaddr)
{
	for (size_t i = 0; i < n; i++)
		if (vaddr >= r[i].lo && vaddr < r[i].hi)
			return true;
	return false;
}

static int push_site(struct exit_site **v, size_t *n, const struct exit_site *site)
{
	struct exit_site *grown = realloc(*v, (*n + 1) * sizeof(**v));

	if (!grown)
		return -1;
	*v = grown;
	(*v)[(*n)++] = *site;
	return 0;
}

static int cmp_entry_name_prefix(const void *key, const void *elem)
{
	const struct sym_entry *const *e = elem;

	return strcmp(key, (*e)->pub.linkage_name);
}

/* The .cold fragments of a function named name: name.cold, name.cold.N. */
static void add_cold_ranges(const struct elf_binary *b, const char *name, struct code_range *r,
			    size_t *n)
{
	char key[512];
	size_t lo = 0, hi = b->nsyms, klen;

	if ((size_t)snprintf(key, sizeof(key), "%s.cold", name) >= sizeof(key) || !b->by_name)
		return;
	klen = strlen(key);
	/* lower bound of key in by_name */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cmp_entry_name_prefix(key, &b->by_name[mid]) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < b->nsyms && *n < MAX_RANGES; lo++) {
		const struct sym_entry *c = b->by_name[lo];
		const char *cn = c->pub.linkage_name;

		if (strncmp(cn, key, klen) != 0)
			break;
		if ((cn[klen] != '\0' && cn[klen] != '.') || !c->cold || c->pub.size == 0)
			continue;
		r[*n] = (struct code_range){ c->pub.vaddr, c->pub.vaddr + c->pub.size, true };
		(*n)++;
	}
}

static void set_unknown(struct func_exits *x, const char *why)
{
	func_exits__release(x);
	x->known = false;
	x->unknown_reason = why;
}

/* Instruction starts of the sweep and the jump targets inside the function. */
struct sweep {
	uint8_t *starts;   /* bit per byte of the main range */
	uint64_t lo, size;
	uint64_t *targets; /* internal direct jump targets in the main range */
	size_t ntargets, cap;
	/* a jump leaves, not to a function start: the exits are unknown, but
	 * the sweep goes on, for the cheaper entry (which needs it whole) */
	const char *stray;
};

static void sweep__mark(struct sweep *w, uint64_t vaddr)
{
	if (w->starts && vaddr >= w->lo && vaddr - w->lo < w->size)
		w->starts[(vaddr - w->lo) / 8] |= (uint8_t)(1u << ((vaddr - w->lo) % 8));
}

static bool sweep__is_start(const struct sweep *w, uint64_t vaddr)
{
	return w->starts[(vaddr - w->lo) / 8] & (1u << ((vaddr - w->lo) % 8));
}

static int sweep__target(struct sweep *w, uint64_t vaddr)
{
	if (vaddr < w->lo || vaddr - w->lo >= w->size)
		return 0;
	if (w->ntargets == w->cap) {
		size_t ncap = w->cap ? w->cap * 2 : 16;
		uint64_t *grown = realloc(w->targets, ncap * sizeof(*grown));

		if (!grown)
			return -1;
		w->targets = grown;
		w->cap = ncap;
	}
	w->targets[w->ntargets++] = vaddr;
	return 0;
}

/* A PLT stub: a tail call to an imported function goes there. */
static bool in_plt(const struct elf_binary *b, uint64_t vaddr)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(b->elf, &shstrndx) != 0)
		return false;
	while ((scn = elf_nextscn(b->elf, scn)) != NULL) {
		const char *name;

		if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_EXECINSTR) || vaddr < sh.sh_addr ||
		    vaddr - sh.sh_addr >= sh.sh_size)
			continue;
		name = elf_strptr(b->elf, shstrndx, sh.sh_name);
		return name && strncmp(name, ".plt", 4) == 0;
	}
	return false;
}

/* Scans one range; false (and x unknown) when the exits can't be shown. */
static bool scan_range(struct elf_binary *b, const struct code_range *r, const struct code_range *all,
		       size_t nall, struct sweep *w, struct func_exits *x)
{
	uint64_t off, avail, vaddr = r->lo;
	bool exec;

	if (!elf_binary__vaddr_to_offset(b, r->lo, SHN_UNDEF, &off, &avail, &exec) || !exec ||
	    off >= b->image_size) {
		set_unknown(x, "code not in the file");
		return false;
	}
	if (avail > b->image_size - off)
		avail = b->image_size - off;
	if (r->hi - r->lo > avail) {
		set_unknown(x, "the symbol's size runs past its segment");
		return false;
	}
	while (vaddr < r->hi) {
		uint64_t at = off + (vaddr - r->lo);
		struct insn_probe p;
		struct exit_site site;

		x86_decoder__classify(b->dec, b->image + at, (size_t)(r->hi - vaddr), vaddr, at, &p);
		sweep__mark(w, vaddr);
		if (p.len == 0) {
			set_unknown(x, "bytes that do not decode as instructions (data in code?)");
			return false;
		}
		memset(&site, 0, sizeof(site));
		site.file_offset = at;
		site.vaddr = vaddr;
		site.cost = p.cost;
		site.len = p.len;
		site.in_cold_part = r->cold;
		switch (p.kind) {
		case INSN_RET:
			site.kind = EXIT_RET;
			if (push_site(&x->rets, &x->nrets, &site))
				goto nomem;
			break;
		case INSN_JMP:
		case INSN_JCC:
			if (in_ranges(all, nall, p.target)) {
				if (sweep__target(w, p.target))
					goto nomem;
				break;
			}
			if (!elf_binary__at(b, p.target) && !in_plt(b, p.target)) {
				w->stray = "a jump leaves the function, not to a function start "
					   "(a .cold part without a symbol?)";
				break;
			}
			site.kind = p.kind == INSN_JMP ? EXIT_TAIL_JMP : EXIT_TAIL_JCC;
			site.target = p.target;
			if (push_site(&x->tails, &x->ntails, &site))
				goto nomem;
			break;
		case INSN_CALL:
			x->ncalls++;
			if (in_ranges(all, nall, p.target) && sweep__target(w, p.target))
				goto nomem;
			break;
		case INSN_JMP_INDIRECT:
			site.kind = EXIT_INDIRECT_JMP;
			if (push_site(&x->tails, &x->ntails, &site))
				goto nomem;
			break;
		default:
			break;
		}
		vaddr += p.len;
	}
	return true;
nomem:
	set_unknown(x, "out of memory");
	return false;
}

void func_exits__fill(struct elf_binary *b, struct sym_entry *e)
{
	struct func_exits *x = &e->pub.exits;
	struct code_range r[MAX_RANGES];
	const struct sym_entry *code = e;
	struct sweep w = { 0 };
	size_t n = 0;

	e->exits_done = true;
	func_exits__release(x);
	x->known = false;
	memset(&e->pub.body, 0, sizeof(e->pub.body));
	e->pub.body.reason = "its instructions are not all known (see its exits)";
	if (!b->dec) {
		x->unknown_reason = "not x86-64 code";
		return;
	}
	if (e->pub.is_ifunc) {
		/* the implementation's exits, once resolved */
		code = e->pub.ifunc_impl ? elf_binary__by_name(b, e->pub.ifunc_impl) : NULL;
		if (!code || code->pub.is_ifunc) {
			x->unknown_reason = "GNU ifunc not resolved";
			return;
		}
	}
	if (code->pub.skip == SKIP_NO_CODE) {
		x->unknown_reason = "no code in the file";
		return;
	}
	if (code->pub.size == 0) {
		x->unknown_reason = "size unknown (0 in the symbol table): no end to scan to";
		return;
	}
	{
		uint64_t off, avail;
		bool exec;

		/* a size past its segment (a corrupt file) is not scanned, nor allocated for */
		if (!elf_binary__vaddr_to_offset(b, code->pub.vaddr, code->shndx, &off, &avail, &exec) ||
		    code->pub.size > avail || code->pub.size > MAX_FUNC_BYTES) {
			x->unknown_reason = "the symbol's size runs past its segment";
			return;
		}
	}
	r[n++] = (struct code_range){ code->pub.vaddr, code->pub.vaddr + code->pub.size, false };
	if (!code->cold) {
		add_cold_ranges(b, code->pub.linkage_name, r, &n);
		for (size_t i = 0; i < code->pub.naliases; i++)
			add_cold_ranges(b, code->pub.aliases[i], r, &n);
	}
	w.lo = r[0].lo;
	w.size = r[0].hi - r[0].lo;
	w.starts = calloc(w.size / 8 + 1, 1);
	if (!w.starts) {
		set_unknown(x, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++)
		if (!scan_range(b, &r[i], r, n, &w, x))
			goto cleanup;
	for (size_t i = 0; i < w.ntargets; i++) {
		if (!sweep__is_start(&w, w.targets[i])) {
			set_unknown(x, "a jump lands inside an instruction of the sweep (data in code?)");
			goto cleanup;
		}
	}
	body_entry__fill(b, code, w.targets, w.ntargets, &e->pub.body);
	if (w.stray) {
		set_unknown(x, w.stray);
		goto cleanup;
	}
	x->known = true;
	x->unknown_reason = NULL;
cleanup:
	free(w.starts);
	free(w.targets);
}

void func_exits__release(struct func_exits *x)
{
	free(x->rets);
	free(x->tails);
	x->rets = x->tails = NULL;
	x->nrets = x->ntails = x->ncalls = 0;
}
