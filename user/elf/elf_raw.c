// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>

#include "elf_raw.h"

Elf_Scn *elf_raw__section(Elf *elf, const char *name, GElf_Shdr *sh)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return NULL;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		const char *n;

		if (!gelf_getshdr(scn, sh))
			continue;
		n = elf_strptr(elf, shstrndx, sh->sh_name);
		if (n && strcmp(n, name) == 0)
			return scn;
	}
	return NULL;
}

bool elf_raw__symbol(Elf *elf, const char *name, GElf_Sym *out)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_DYNSYM && sh.sh_type != SHT_SYMTAB))
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || !sh.sh_entsize)
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			const char *n;

			if (!gelf_getsym(data, i, out) || out->st_shndx == SHN_UNDEF)
				continue;
			n = elf_strptr(elf, sh.sh_link, out->st_name);
			if (n && strcmp(n, name) == 0)
				return true;
		}
	}
	return false;
}

static uint64_t load_file_offset(Elf *elf, uint64_t vaddr, uint64_t len, bool code)
{
	size_t n;

	if (elf_getphdrnum(elf, &n))
		return 0;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD || (code && !(ph.p_flags & PF_X)))
			continue;
		if (vaddr >= ph.p_vaddr && vaddr + len <= ph.p_vaddr + ph.p_filesz)
			return vaddr - ph.p_vaddr + ph.p_offset;
	}
	return 0;
}

uint64_t elf_raw__file_offset(Elf *elf, uint64_t vaddr, uint64_t len)
{
	return load_file_offset(elf, vaddr, len, false);
}

uint64_t elf_raw__code_file_offset(Elf *elf, uint64_t vaddr, uint64_t len)
{
	return load_file_offset(elf, vaddr, len, true);
}

bool elf_raw__relative_target(Elf *elf, uint64_t vaddr, uint64_t *target)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		for (size_t i = 0; data && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Rela r;

			if (!gelf_getrela(data, i, &r) || r.r_offset != vaddr)
				continue;
			if (GELF_R_TYPE(r.r_info) != R_X86_64_RELATIVE)
				return false;
			*target = (uint64_t)r.r_addend;
			return true;
		}
	}
	return false;
}
