// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Which unwinding a file's frames must survive, from its symbols.
 *
 * Measured on Debian's files and the test fixtures: a C++ file refers to
 * the personality routine __gxx_personality_v0 (as an undefined symbol in
 * .dynsym when libstdc++ is shared, defined when linked in), a Rust file
 * to rust_eh_personality; C files to neither. The other signs are not
 * reliable: libc.so.6 has a .gcc_except_table (C cleanups for thread
 * cancellation) and Rust's legacy mangling makes _Z names too (cargo:
 * 10,302 of them). Only a file with no symbol table at all falls back to
 * .gcc_except_table: it has landing pads, so something unwinds. */
#include <string.h>

#include "elf_internal.h"

/* Calls fn for each symbol name of .symtab and .dynsym (defined or not)
 * until it returns true. */
static bool any_symbol(const struct elf_binary *b, bool (*fn)(const char *, const GElf_Sym *, void *),
		       void *arg)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(b->elf, scn)) != NULL) {
		Elf_Data *data;
		size_t n;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) ||
		    sh.sh_entsize == 0)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		n = sh.sh_size / sh.sh_entsize;
		for (size_t i = 1; i < n; i++) {
			GElf_Sym sym;
			const char *name;

			if (!gelf_getsym(data, (int)i, &sym))
				continue;
			name = elf_strptr(b->elf, sh.sh_link, sym.st_name);
			if (name && fn(name, &sym, arg))
				return true;
		}
	}
	return false;
}

struct lang_scan {
	bool cxx, rust, any;
};

static bool note_personality(const char *name, const GElf_Sym *sym, void *arg)
{
	struct lang_scan *s = arg;

	(void)sym;
	s->any = true;
	/* versioned references read "__gxx_personality_v0@CXXABI_1.3" only in
	 * tools' output: the string table has the plain name */
	if (strcmp(name, "__gxx_personality_v0") == 0)
		s->cxx = true;
	else if (strcmp(name, "rust_eh_personality") == 0)
		s->rust = true;
	return s->cxx && s->rust;
}

enum binary_lang elf_binary__lang(const struct elf_binary *b)
{
	struct lang_scan s = { false, false, false };
	GElf_Shdr sh;

	if (!b)
		return LANG_C;
	if (b->is_go)
		return LANG_GO;
	any_symbol(b, note_personality, &s);
	if (s.rust)
		return LANG_RUST;
	if (s.cxx)
		return LANG_CXX;
	if (!s.any && elf_raw__section(b->elf, ".gcc_except_table", &sh))
		return LANG_UNKNOWN_EH;
	return LANG_C;
}

const char *binary_lang__name(enum binary_lang l)
{
	switch (l) {
	case LANG_C: return "C";
	case LANG_CXX: return "C++";
	case LANG_RUST: return "Rust";
	case LANG_GO: return "Go";
	case LANG_UNKNOWN_EH: return "unknown language with landing pads";
	}
	return "?";
}

struct symbol_find {
	const char *name;
	uint64_t vaddr;
};

static bool is_wanted(const char *name, const GElf_Sym *sym, void *arg)
{
	struct symbol_find *f = arg;

	if (sym->st_shndx == SHN_UNDEF || strcmp(name, f->name) != 0)
		return false;
	f->vaddr = sym->st_value;
	return true;
}

bool elf_binary__symbol_vaddr(const struct elf_binary *b, const char *name, uint64_t *vaddr)
{
	struct symbol_find f = { name, 0 };

	if (!b || !any_symbol(b, is_wanted, &f))
		return false;
	*vaddr = f.vaddr;
	return true;
}

uint64_t elf_binary__section_vaddr(const struct elf_binary *b, const char *name)
{
	GElf_Shdr sh;

	return b && elf_raw__section(b->elf, name, &sh) ? sh.sh_addr : 0;
}
