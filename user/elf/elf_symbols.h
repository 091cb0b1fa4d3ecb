/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Function symbols of an ELF file (.symtab and .dynsym, via libelf), their
 * DWARF facts (via libdw), and where to put a uprobe on each. */
#ifndef SPANPROBE_ELF_SYMBOLS_H
#define SPANPROBE_ELF_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a uprobe hit costs at the chosen attach point, cheapest first. */
enum attach_cost {
	ATTACH_NOP5,           /* 5-byte nop: the kernel turns the trap into a call */
	ATTACH_EMULATED,       /* push/nop/jmp...: emulated, no single-step */
	ATTACH_SINGLE_STEP,    /* any other instruction: executed out of line */
	ATTACH_UNPROBEABLE,    /* can't be probed (ifunc, no code, outside text) */
};

struct func_symbol {
	char *name;
	uint64_t vaddr;          /* st_value */
	uint64_t size;           /* st_size */
	uint64_t file_offset;    /* of the symbol's first byte: what uprobes take */
	uint64_t attach_offset;  /* file offset actually probed (past endbr64 when cheaper) */
	enum attach_cost cost;
	bool skipped_endbr64;    /* attach_offset = file_offset + 4 */
	const char *cost_reason; /* static text for -l -v: "push %rbp, emulated" */
	/* From DWARF, when the file (or its debug link) has it */
	bool has_dwarf;
	char *decl_file;         /* NULL when unknown */
	uint32_t decl_line;
	bool ret_known;          /* return type found and its value is in rax:
				  * false for float/double (xmm0), struct/union,
				  * __int128, and without DWARF */
	bool ret_void;
	uint8_t ret_size;        /* 1, 2, 4, 8 */
	bool ret_signed;
	bool ret_pointer;
};

struct elf_binary;

/* Opens path (already resolved) and reads its symbols. Errors: -ENOENT
 * (missing), -EACCES, -EISDIR, -ENOEXEC (not an ELF file or truncated),
 * -EINVAL. */
int elf_binary__open(const char *path, struct elf_binary **out);
/* true when the file has a .symtab (not stripped) */
bool elf_binary__has_symtab(const struct elf_binary *b);
bool elf_binary__is_shared(const struct elf_binary *b); /* ET_DYN: PIE or library */
/* Function symbols whose name matches the shell glob, deduplicated by name,
 * in address order. *out points into the binary (valid until free, also
 * across later matches). DWARF is read here, only for the matched symbols.
 * Returns the count (0 = none) or a negative errno. */
int elf_binary__match(struct elf_binary *b, const char *glob,
		      const struct func_symbol ***out);
void elf_binary__free(struct elf_binary *b);

/* Resolves a probe's BINARY as bpftrace does: a path (with '/') is used as is;
 * a bare name is looked up on PATH, then as a shared library in the loader's
 * directories ("libc" -> /lib/x86_64-linux-gnu/libc.so.6, "libssl.so.3").
 * Returns 0 and the absolute (realpath) path in out, or -ENOENT (also
 * -errno of realpath for a path, -ENAMETOOLONG when out is too small,
 * -EINVAL for an empty name). */
int resolve_binary_path(const char *name, char *out, size_t out_len);

const char *attach_cost__name(enum attach_cost c); /* "nop5", "emulated", ... */

#endif /* SPANPROBE_ELF_SYMBOLS_H */
