/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Lookups in any libelf handle, for readers that need one section, symbol
 * or file offset and not a whole elf_binary (the Python interpreter and
 * layout readers): the one copy of each walk. */
#ifndef SPANPROBE_ELF_RAW_H
#define SPANPROBE_ELF_RAW_H

#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdint.h>

/* The section named name, or NULL; fills *sh. */
Elf_Scn *elf_raw__section(Elf *elf, const char *name, GElf_Shdr *sh);
/* The defined symbol named name in .symtab or .dynsym (the first found). */
bool elf_raw__symbol(Elf *elf, const char *name, GElf_Sym *out);
/* The file offset of len bytes at the link-time address vaddr, inside one
 * PT_LOAD's file bytes; 0 when none holds them (.bss, outside the file). */
uint64_t elf_raw__file_offset(Elf *elf, uint64_t vaddr, uint64_t len);
/* As elf_raw__file_offset, in an executable PT_LOAD only (code). */
uint64_t elf_raw__code_file_offset(Elf *elf, uint64_t vaddr, uint64_t len);
/* The link-time address a relative relocation stores at vaddr (the
 * R_X86_64_RELATIVE entry's addend in a position-independent file, whose
 * bytes there may hold 0); false when there is none. */
bool elf_raw__relative_target(Elf *elf, uint64_t vaddr, uint64_t *target);

#endif
