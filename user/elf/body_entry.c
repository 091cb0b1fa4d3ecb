// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A cheaper entry probe inside a function (struct body_entry): the search
 * is x86_decoder__find_body_entry's; this file says what may arrive in the
 * middle of the function's first instructions, which the probe would then
 * see as a call that never happened:
 *  - a jump of the function itself (its sweep, func_exits.c, is exact);
 *  - another symbol starting there (a second entry point of hand-written
 *    code);
 *  - a jump from elsewhere in the file: glibc's __mempcpy_*_erms, for one,
 *    set %rax and jump into __memmove_*_erms past its first instruction.
 *    Every rel32 jmp/jcc/call of the file, and every lea of a code address
 *    (computed goto), is found by reading the executable bytes at every
 *    offset (no decoding to lose step on: a false match by chance costs a
 *    cheaper site, never a wrong one). A rel8 jump reaches 128 bytes: the
 *    code around the function is decoded from its neighbours' starts
 *    (where none is close, or decoding fails, it is read raw too).
 * Go code is exempt from the file-wide read (tens of MiB): Go's compiler
 * and assembler jump only to function starts and to their own labels. */
#include <stdlib.h>
#include <string.h>

#include "elf_internal.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static bool in_exec_load(const struct elf_binary *b, uint64_t vaddr)
{
	for (size_t i = 0; i < b->nloads; i++) {
		const GElf_Phdr *ph = &b->loads[i];

		if ((ph->p_flags & PF_X) && vaddr >= ph->p_vaddr && vaddr - ph->p_vaddr < ph->p_filesz)
			return true;
	}
	return false;
}

static int32_t rel32_at(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return (int32_t)v;
}

/* Every target of e8/e9/0f 8x rel32 read at every byte of the executable
 * segments, sorted; once per file. false when out of memory. */
static bool build_rel32_targets(struct elf_binary *b)
{
	uint64_t *v = NULL;
	size_t n = 0, cap = 0;

	b->rel32_done = true;
	for (size_t i = 0; i < b->nloads; i++) {
		const GElf_Phdr *ph = &b->loads[i];
		const uint8_t *img;
		uint64_t size;

		if (!(ph->p_flags & PF_X) || ph->p_offset >= b->image_size)
			continue;
		img = b->image + ph->p_offset;
		size = ph->p_filesz;
		if (size > b->image_size - ph->p_offset)
			size = b->image_size - ph->p_offset;
		for (uint64_t k = 0; k + 6 <= size; k++) {
			uint64_t at = ph->p_vaddr + k, t;

			if (img[k] == 0xe8 || img[k] == 0xe9)
				t = at + 5 + (int64_t)rel32_at(img + k + 1);
			else if (img[k] == 0x0f && (img[k + 1] & 0xf0) == 0x80)
				t = at + 6 + (int64_t)rel32_at(img + k + 2);
			else if ((img[k] & 0xf0) == 0x40 && img[k + 1] == 0x8d &&
				 (img[k + 2] & 0xc7) == 0x05 && k + 7 <= size)
				/* lea rel32(%rip): a code address taken (computed goto) */
				t = at + 7 + (int64_t)rel32_at(img + k + 3);
			else
				continue;
			if (!in_exec_load(b, t))
				continue;
			if (n == cap) {
				size_t ncap = cap ? cap * 2 : 4096;
				uint64_t *grown = realloc(v, ncap * sizeof(*v));

				if (!grown) {
					free(v);
					return false;
				}
				v = grown;
				cap = ncap;
			}
			v[n++] = t;
		}
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_u64);
	b->rel32_targets = v;
	b->nrel32_targets = n;
	return true;
}

/* Bytes decoded before a function to find its neighbours' rel8 jumps from
 * an instruction start (a symbol's); past that, bytes are read raw. */
#define NEAR_DECODE_MAX 4096
/* Bytes after a function's end whose rel8 jumps could reach its prologue. */
#define NEAR_AFTER 160

struct landing_check {
	struct elf_binary *b;
	uint64_t lo, hi;          /* the function's main range [lo, hi) */
	const uint64_t *targets;  /* its own jumps' targets in that range */
	size_t ntargets;
	bool near_done;           /* near: jumps from around it into [lo, hi) */
	uint64_t *near;
	size_t nnear, cap;
	bool failed;              /* out of memory: everything "lands" */
};

static void near_add(struct landing_check *c, uint64_t target)
{
	if (target < c->lo || target >= c->hi)
		return;
	if (c->nnear == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 16;
		uint64_t *grown = realloc(c->near, ncap * sizeof(*grown));

		if (!grown) {
			c->failed = true;
			return;
		}
		c->near = grown;
		c->cap = ncap;
	}
	c->near[c->nnear++] = target;
}

/* The file's bytes at [from, to), or NULL when they are not all executable
 * code of the file. */
static const uint8_t *code_at(const struct elf_binary *b, uint64_t from, uint64_t to)
{
	uint64_t off, avail;
	bool exec;

	if (to <= from || !elf_binary__vaddr_to_offset(b, from, SHN_UNDEF, &off, &avail, &exec) ||
	    !exec || avail < to - from || off > b->image_size || b->image_size - off < to - from)
		return NULL;
	return b->image + off;
}

/* Every rel8 jump read at every byte of [from, to). */
static void near_raw(struct landing_check *c, uint64_t from, uint64_t to)
{
	for (uint64_t q = from; q < to; q++) {
		const uint8_t *p = code_at(c->b, q, q + 2);

		if (p && ((p[0] & 0xf0) == 0x70 || p[0] == 0xeb || (p[0] >= 0xe0 && p[0] <= 0xe3)))
			near_add(c, q + 2 + (uint64_t)(int64_t)(int8_t)p[1]);
	}
}

/* Direct jumps of the instructions decoded from from (an instruction start)
 * to to; where decoding fails, the rest is read raw. */
static void near_decode(struct landing_check *c, uint64_t from, uint64_t to)
{
	const uint8_t *p = code_at(c->b, from, to);
	uint64_t at = from;

	while (p && at < to) {
		struct insn_probe in;
		uint64_t off = (uint64_t)(p - c->b->image) + (at - from);

		x86_decoder__classify(c->b->dec, p + (at - from), (size_t)(to - at), at, off, &in);
		if (in.len == 0)
			break;
		if (in.kind == INSN_JMP || in.kind == INSN_JCC || in.kind == INSN_CALL)
			near_add(c, in.target);
		at += in.len;
	}
	if (at < to)
		near_raw(c, at, to);
}

/* The last function starting at or before vaddr, or NULL. */
static const struct sym_entry *symbol_before(const struct elf_binary *b, uint64_t vaddr)
{
	size_t l = 0, h = b->nsyms;

	while (l < h) {
		size_t mid = l + (h - l) / 2;

		if (b->syms[mid].pub.vaddr <= vaddr)
			l = mid + 1;
		else
			h = mid;
	}
	return l ? &b->syms[l - 1] : NULL;
}

/* Decodes [from, to) from each function start in it (and from from). */
static void near_decode_by_symbol(struct landing_check *c, uint64_t from, uint64_t to)
{
	const struct sym_entry *e = symbol_before(c->b, from);
	const struct sym_entry *end = c->b->syms + c->b->nsyms;
	uint64_t at = from;

	e = e ? e + 1 : c->b->syms;
	for (; at < to; e++) {
		uint64_t next = e < end && e->pub.vaddr < to ? e->pub.vaddr : to;

		if (next > at)
			near_decode(c, at, next);
		at = next > at ? next : at;
		if (e >= end)
			break;
	}
}

/* Jumps from the code around the function (rel8 reaches 128 bytes): from
 * the function before it, decoded from its start when that is close,
 * and from the bytes after its end. */
static void near_fill(struct landing_check *c)
{
	uint64_t reach = c->lo > 129 ? c->lo - 129 : 0;
	const struct sym_entry *before = symbol_before(c->b, reach);

	c->near_done = true;
	if (before && c->lo - before->pub.vaddr <= NEAR_DECODE_MAX) {
		near_decode_by_symbol(c, before->pub.vaddr, c->lo);
	} else {
		const struct sym_entry *first = symbol_before(c->b, c->lo - 1);
		uint64_t sync = first && first->pub.vaddr > reach ? first->pub.vaddr : c->lo;

		near_raw(c, reach, sync);
		near_decode_by_symbol(c, sync, c->lo);
	}
	near_decode_by_symbol(c, c->hi, c->hi + NEAR_AFTER);
}

static bool lands(void *ctx, uint64_t vaddr)
{
	struct landing_check *c = ctx;
	struct elf_binary *b = c->b;

	if (c->failed)
		return true;
	for (size_t i = 0; i < c->ntargets; i++)
		if (c->targets[i] == vaddr)
			return true;
	if (elf_binary__at(b, vaddr))
		return true;
	if (b->is_go)
		return false;
	if (!b->rel32_done && !build_rel32_targets(b)) {
		c->failed = true;
		return true;
	}
	if (b->nrel32_targets &&
	    bsearch(&vaddr, b->rel32_targets, b->nrel32_targets, sizeof(uint64_t), cmp_u64))
		return true;
	if (!c->near_done)
		near_fill(c);
	for (size_t i = 0; i < c->nnear; i++)
		if (c->near[i] == vaddr)
			return true;
	return c->failed;
}

void body_entry__fill(struct elf_binary *b, const struct sym_entry *code, const uint64_t *targets,
		      size_t ntargets, struct body_entry *out)
{
	struct landing_check c = {
		.b = b, .lo = code->pub.vaddr, .hi = code->pub.vaddr + code->pub.size,
		.targets = targets, .ntargets = ntargets,
	};
	uint64_t off = code->pub.file_offset;

	memset(out, 0, sizeof(*out));
	if (!b->dec || off >= b->image_size || code->pub.size > b->image_size - off) {
		out->reason = "its code is not in the file";
		return;
	}
	x86_decoder__find_body_entry(b->dec, b->image + off, code->pub.size, code->pub.vaddr, off,
				     lands, &c, out);
	free(c.near);
	if (c.failed) {
		memset(out, 0, sizeof(*out));
		out->reason = "out of memory";
	}
}
