// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* DWARF facts of matched functions (libdw): declaration file and line, and
 * the return type as far as spanprobe can show it from rax. The file's own
 * DWARF, else its separate debug file's. Compile units are listed once;
 * the DIEs of one unit are read only when one of its functions is matched,
 * so listing every symbol of libc stays cheap. */
#include <dwarf.h>
#include <elfutils/libdwelf.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf_internal.h"

static int cmp_range(const void *a, const void *b)
{
	const struct pc_range *x = a, *y = b;

	return (x->lo > y->lo) - (x->lo < y->lo);
}

/* Lists the compile units, and when there is no .debug_aranges (clang
 * leaves it out) the address ranges each covers. No DIE below the unit is
 * read here. */
static int index_units(struct elf_binary *b, bool with_ranges)
{
	Dwarf_Off off = 0, next;
	size_t hsize, cap_cus = 0, cap_ranges = 0;
	uint8_t unit_type;
	Dwarf_Die cudie;

	while (dwarf_next_unit(b->dwarf, off, &next, &hsize, NULL, NULL, NULL, NULL, NULL,
			       NULL) == 0) {
		Dwarf_Addr base, lo, hi;
		ptrdiff_t roff = 0;

		if (!dwarf_offdie(b->dwarf, off + hsize, &cudie) ||
		    dwarf_cu_info(cudie.cu, NULL, &unit_type, NULL, NULL, NULL, NULL, NULL) != 0 ||
		    (unit_type != DW_UT_compile && unit_type != DW_UT_partial &&
		     unit_type != DW_UT_skeleton)) {
			off = next;
			continue;
		}
		if (b->ncus == cap_cus) {
			size_t ncap = cap_cus ? cap_cus * 2 : 64;
			struct dwarf_cu *n = realloc(b->cus, ncap * sizeof(*n));

			if (!n)
				return -ENOMEM;
			b->cus = n;
			cap_cus = ncap;
		}
		memset(&b->cus[b->ncus], 0, sizeof(b->cus[0]));
		b->cus[b->ncus].die_off = dwarf_dieoffset(&cudie);
		while (with_ranges && (roff = dwarf_ranges(&cudie, roff, &base, &lo, &hi)) > 0) {
			if (hi <= lo)
				continue;
			if (b->nranges == cap_ranges) {
				size_t ncap = cap_ranges ? cap_ranges * 2 : 64;
				struct pc_range *n = realloc(b->ranges, ncap * sizeof(*n));

				if (!n)
					return -ENOMEM;
				b->ranges = n;
				cap_ranges = ncap;
			}
			b->ranges[b->nranges++] = (struct pc_range){ lo, hi, b->ncus };
		}
		b->ncus++;
		off = next;
	}
	if (b->nranges > 1)
		qsort(b->ranges, b->nranges, sizeof(*b->ranges), cmp_range);
	return 0;
}

/* Opens candidate (in lookup_root) as the alternate file with this build-id. */
static bool try_alt_file(struct elf_binary *b, const char *candidate, const void *id, ssize_t id_len)
{
	const unsigned char *got;
	size_t got_len;
	Elf *elf = NULL;
	Dwarf *dw = NULL;
	int fd = in_root__open(b->lookup_root, candidate, NULL);

	if (fd < 0)
		return false;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || !elf_read_build_id(elf, &got, &got_len) ||
	    (ssize_t)got_len != id_len || memcmp(got, id, got_len) != 0 ||
	    !(dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL))) {
		if (elf)
			elf_end(elf);
		close(fd);
		return false;
	}
	b->alt_fd = fd;
	b->alt_elf = elf;
	b->alt_dwarf = dw;
	return true;
}

/* A dwz-compressed file's shared DWARF (.gnu_debugaltlink). libdw looks for
 * it itself, on spanprobe's own filesystem, at a path the file names: for a
 * file of a container it is looked for here instead, in the container's
 * root; without it the file stands in for its own alternate (the names its
 * DWARF keeps there read wrong, and nothing else is opened). */
static void set_alt_dwarf(struct elf_binary *b, Dwarf *dw)
{
	char path[PATH_MAX], hex[130], dir[PATH_MAX], *slash;
	const unsigned char *id;
	const char *name;
	ssize_t len;
	size_t n = 0;

	if (b->lookup_root == IN_ROOT_HOST)
		return; /* spanprobe's own file: libdw's own lookup is right */
	len = dwelf_dwarf_gnu_debugaltlink(dw, &name, (const void **)&id);
	if (len <= 0)
		return; /* none: libdw opens nothing */
	for (ssize_t i = 0; i < len && i < 64; i++)
		n += (size_t)snprintf(hex + n, sizeof(hex) - n, "%02x", id[i]);
	if (b->lookup_root >= 0 && len >= 2 &&
	    (((size_t)snprintf(path, sizeof(path), "/usr/lib/debug/.build-id/%.2s/%s.debug", hex,
			       hex + 2) < sizeof(path) && try_alt_file(b, path, id, len)) ||
	     (name[0] == '/' && try_alt_file(b, name, id, len)))) {
		dwarf_setalt(dw, b->alt_dwarf);
		return;
	}
	if (b->lookup_root >= 0 && name[0] != '/' && b->lookup_path) {
		snprintf(dir, sizeof(dir), "%s", b->lookup_path);
		slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) < sizeof(path) &&
		    try_alt_file(b, path, id, len)) {
			dwarf_setalt(dw, b->alt_dwarf);
			return;
		}
	}
	dwarf_setalt(dw, dw);
}

static void open_dwarf(struct elf_binary *b)
{
	b->dwarf_tried = true;
	b->dwarf = dwarf_begin_elf(b->elf, DWARF_C_READ, NULL);
	if (!b->dwarf) {
		elf_debug_file__open(b);
		if (b->debug_elf)
			b->dwarf = dwarf_begin_elf(b->debug_elf, DWARF_C_READ, NULL);
	}
	if (!b->dwarf)
		return;
	set_alt_dwarf(b, b->dwarf);
	if (dwarf_getaranges(b->dwarf, &b->aranges, &b->naranges) != 0)
		b->naranges = 0;
	if (index_units(b, b->naranges == 0) != 0) {
		/* out of memory: carry on without DWARF */
		free(b->cus);
		free(b->ranges);
		b->cus = NULL;
		b->ranges = NULL;
		b->ncus = b->nranges = 0;
	}
}

/* The unit whose ranges hold pc, or -1. */
static ssize_t unit_of_pc(const struct elf_binary *b, Dwarf_Addr pc)
{
	size_t lo = 0, hi = b->nranges;

	if (b->naranges > 0) {
		Dwarf_Arange *ar = dwarf_getarange_addr(b->aranges, pc);
		Dwarf_Off die_off;

		if (!ar || dwarf_getarangeinfo(ar, NULL, NULL, &die_off) != 0)
			return -1;
		hi = b->ncus;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (b->cus[mid].die_off == die_off)
				return (ssize_t)mid;
			if (b->cus[mid].die_off < die_off)
				lo = mid + 1;
			else
				hi = mid;
		}
		return -1;
	}

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (b->ranges[mid].lo <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* lo = first range starting above pc; check the few before it. */
	for (size_t i = lo; i > 0 && lo - i < 4; i--) {
		const struct pc_range *r = &b->ranges[i - 1];

		if (pc >= r->lo && pc < r->hi)
			return (ssize_t)r->cu;
	}
	return -1;
}

static int add_subprogram(struct dwarf_cu *cu, size_t *cap, Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	struct subprogram *s;

	if (cu->nsubs == *cap) {
		size_t ncap = *cap ? *cap * 2 : 32;
		struct subprogram *n = realloc(cu->subs, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		cu->subs = n;
		*cap = ncap;
	}
	s = &cu->subs[cu->nsubs++];
	s->die_off = dwarf_dieoffset(die);
	s->has_pc = dwarf_entrypc(die, &s->entry_pc) == 0;
	s->name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));
	return 0;
}

/* Collects the subprograms of a unit (and of namespaces/classes in it). */
static int index_children(struct dwarf_cu *cu, size_t *cap, Dwarf_Die *parent, int depth)
{
	Dwarf_Die child;
	int err;

	if (depth > 8 || dwarf_child(parent, &child) != 0)
		return 0;
	do {
		switch (dwarf_tag(&child)) {
		case DW_TAG_subprogram:
			if (dwarf_hasattr(&child, DW_AT_declaration))
				break;
			err = add_subprogram(cu, cap, &child);
			if (err)
				return err;
			break;
		case DW_TAG_namespace:
		case DW_TAG_class_type:
		case DW_TAG_structure_type:
		case DW_TAG_union_type:
			err = index_children(cu, cap, &child, depth + 1);
			if (err)
				return err;
			break;
		default:
			break;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return 0;
}

static void index_unit(struct elf_binary *b, struct dwarf_cu *cu)
{
	Dwarf_Die cudie;
	size_t cap = 0;

	cu->indexed = true;
	if (!dwarf_offdie(b->dwarf, cu->die_off, &cudie))
		return;
	if (index_children(cu, &cap, &cudie, 0) != 0) {
		free(cu->subs);
		cu->subs = NULL;
		cu->nsubs = 0;
	}
}

/* Return type facts from a subprogram's DW_AT_type. */
void read_return_type(Dwarf_Die *fn, struct func_symbol *s)
{
	Dwarf_Attribute attr;
	Dwarf_Die type, under;
	Dwarf_Word enc;
	int depth, size;

	if (!dwarf_attr_integrate(fn, DW_AT_type, &attr)) {
		s->ret_known = true;
		s->ret_void = true;
		return;
	}
	if (!dwarf_formref_die(&attr, &type))
		return;
	for (depth = 0; depth < 16; depth++) {
		switch (dwarf_tag(&type)) {
		case DW_TAG_typedef:
		case DW_TAG_const_type:
		case DW_TAG_volatile_type:
		case DW_TAG_restrict_type:
		case DW_TAG_atomic_type:
			if (!dwarf_attr(&type, DW_AT_type, &attr)) {
				s->ret_known = true; /* const void */
				s->ret_void = true;
				return;
			}
			if (!dwarf_formref_die(&attr, &type))
				return;
			continue;
		case DW_TAG_pointer_type:
		case DW_TAG_reference_type:
		case DW_TAG_rvalue_reference_type:
			size = dwarf_bytesize(&type);
			s->ret_known = true;
			s->ret_pointer = true;
			s->ret_signed = false;
			s->ret_size = size == 4 ? 4 : 8;
			return;
		case DW_TAG_base_type:
			size = dwarf_bytesize(&type);
			if (size != 1 && size != 2 && size != 4 && size != 8)
				return; /* __int128 and friends: not in one register */
			if (dwarf_formudata(dwarf_attr(&type, DW_AT_encoding, &attr), &enc) != 0)
				return;
			if (enc == DW_ATE_float || enc == DW_ATE_complex_float ||
			    enc == DW_ATE_decimal_float)
				return; /* returned in xmm0, not rax */
			s->ret_known = true;
			s->ret_size = (uint8_t)size;
			s->ret_signed = enc == DW_ATE_signed || enc == DW_ATE_signed_char;
			return;
		case DW_TAG_enumeration_type:
			size = dwarf_bytesize(&type);
			if (size != 1 && size != 2 && size != 4 && size != 8)
				return;
			s->ret_known = true;
			s->ret_size = (uint8_t)size;
			s->ret_signed = false;
			if (dwarf_attr(&type, DW_AT_type, &attr) && dwarf_formref_die(&attr, &under)) {
				/* the underlying type says; follow typedefs to its base */
				Dwarf_Die holder = under;

				for (int i = 0; i < 8 && dwarf_tag(&holder) == DW_TAG_typedef; i++) {
					if (!dwarf_attr(&holder, DW_AT_type, &attr) ||
					    !dwarf_formref_die(&attr, &holder))
						break;
				}
				if (dwarf_tag(&holder) == DW_TAG_base_type &&
				    dwarf_formudata(dwarf_attr(&holder, DW_AT_encoding, &attr),
						    &enc) == 0)
					s->ret_signed = enc == DW_ATE_signed ||
							enc == DW_ATE_signed_char;
				return;
			}
			/* No underlying type: signed when an enumerator is negative. */
			if (dwarf_child(&type, &under) == 0) {
				do {
					Dwarf_Sword v;

					if (dwarf_tag(&under) == DW_TAG_enumerator &&
					    dwarf_attr(&under, DW_AT_const_value, &attr) &&
					    dwarf_whatform(&attr) == DW_FORM_sdata &&
					    dwarf_formsdata(&attr, &v) == 0 && v < 0)
						s->ret_signed = true;
				} while (dwarf_siblingof(&under, &under) == 0);
			}
			return;
		default:
			return; /* struct, union, array...: not a value in rax */
		}
	}
}

void elf_dwarf__fill(struct elf_binary *b, struct sym_entry *e)
{
	struct func_symbol *s = &e->pub;
	const struct subprogram *by_pc = NULL, *by_name = NULL;
	struct dwarf_cu *cu;
	Dwarf_Die die;
	const char *file;
	ssize_t cu_index;
	size_t i;
	int line;

	e->dwarf_done = true;
	if (!b->dwarf_tried)
		open_dwarf(b);
	if (!b->dwarf)
		return;
	cu_index = unit_of_pc(b, s->vaddr);
	if (cu_index < 0)
		return;
	cu = &b->cus[cu_index];
	if (!cu->indexed)
		index_unit(b, cu);
	for (i = 0; i < cu->nsubs; i++) {
		const struct subprogram *sp = &cu->subs[i];

		if (sp->has_pc && sp->entry_pc == s->vaddr) {
			by_pc = sp;
			break;
		}
		if (!by_name && sp->name && strcmp(sp->name, s->linkage_name) == 0)
			by_name = sp;
	}
	if (!by_pc)
		by_pc = by_name;
	if (!by_pc || !dwarf_offdie(b->dwarf, by_pc->die_off, &die))
		return;
	s->has_dwarf = true;
	file = dwarf_decl_file(&die);
	if (file)
		s->decl_file = strdup(file); /* NULL on ENOMEM: "unknown" */
	if (dwarf_decl_line(&die, &line) == 0 && line > 0)
		s->decl_line = (uint32_t)line;
	read_return_type(&die, s);
	read_params(&die, s);
}


void elf_dwarf__free(struct elf_binary *b)
{
	for (size_t i = 0; i < b->ncus; i++)
		free(b->cus[i].subs);
	free(b->cus);
	free(b->ranges);
	if (b->dwarf)
		dwarf_end(b->dwarf);
	if (b->alt_dwarf)
		dwarf_end(b->alt_dwarf);
	if (b->alt_elf)
		elf_end(b->alt_elf);
	if (b->alt_fd >= 0)
		close(b->alt_fd);
	b->alt_dwarf = NULL;
	b->alt_elf = NULL;
	b->alt_fd = -1;
	b->cus = NULL;
	b->ranges = NULL;
	b->dwarf = NULL;
	b->ncus = b->nranges = 0;
}
