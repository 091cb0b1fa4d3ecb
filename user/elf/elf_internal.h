/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the files of user/elf/ share about an open binary (and what its
 * tests may look at). Not for other modules: they use elf_symbols.h. */
#ifndef SPANPROBE_ELF_INTERNAL_H
#define SPANPROBE_ELF_INTERNAL_H

#include <gelf.h>
#include <libelf.h>
#include <elfutils/libdw.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "elf_raw.h"
#include "elf_symbols.h"
#include "in_root.h"
#include "x86_uprobe_insn.h"

/* A function with what only user/elf needs: the public part comes first so
 * match results can point at it. */
struct sym_entry {
	struct func_symbol pub;
	int rank;              /* which of the names at one address is shown: higher wins */
	size_t shndx;
	char *plain;           /* demangled without parameters ("Server::handle"), or NULL */
	bool fragment;         /* compiler fragment: .cold, .part.N, .isra.N, ... */
	bool cold;             /* a .cold fragment */
	bool dwarf_done;       /* DWARF looked up (found or not) */
	bool exits_done;       /* exits scanned */
};

/* The growing list symbol readers add to. */
struct sym_list {
	struct sym_entry *v;
	size_t n, cap;
};

struct subprogram {
	Dwarf_Off die_off;
	Dwarf_Addr entry_pc;
	bool has_pc;
	const char *name; /* owned by libdw */
};

struct dwarf_cu {
	Dwarf_Off die_off;
	struct subprogram *subs; /* NULL until a function of this CU is matched */
	size_t nsubs;
	bool indexed;
};

struct pc_range {
	Dwarf_Addr lo, hi; /* [lo, hi) */
	size_t cu;         /* index into cus */
};

struct match_result {
	struct match_result *next;
	const struct func_symbol **syms;
};

struct elf_binary {
	int fd;
	void *map;        /* the file, mapped private and writable (see elf_binary__open) */
	size_t map_size;
	Elf *elf;
	const unsigned char *image; /* the whole file, as libelf mapped it */
	size_t image_size;
	GElf_Ehdr ehdr;
	bool has_symtab;
	const char *sym_source;     /* ".symtab", ".dynsym", ".gopclntab" or debug_path */
	char *path;

	GElf_Phdr *loads; /* PT_LOAD segments */
	size_t nloads;

	struct sym_entry *syms; /* one per address, address order */
	size_t nsyms;
	struct sym_entry **by_name; /* syms by linkage name (fragment lookup) */

	struct match_result *results; /* every match array handed out */
	struct x86_decoder *dec;      /* NULL for other machines */

	/* every rel32 jump/call target read in the executable bytes, sorted
	 * (body_entry.c), made on first need */
	bool rel32_done;
	uint64_t *rel32_targets;
	size_t nrel32_targets;

	/* Go */
	bool is_go;
	char *go_version;

	/* separate debug file (build-id or .gnu_debuglink), opened on first need,
	 * looked up in the root the file was found in: lookup_root (in_root.h;
	 * IN_ROOT_HOST for spanprobe's own, owned otherwise, closed once tried),
	 * next to lookup_path, the file's path in that root */
	int lookup_root;
	char *lookup_path;
	bool debug_tried;
	int debug_fd;
	Elf *debug_elf;
	char *debug_path;

	/* DWARF, opened on first need */
	bool dwarf_tried;
	Dwarf *dwarf;
	/* its dwz alternate file (.gnu_debugaltlink), found in lookup_root */
	Dwarf *alt_dwarf;
	Elf *alt_elf;
	int alt_fd;
	struct dwarf_cu *cus;
	size_t ncus;
	Dwarf_Aranges *aranges;  /* .debug_aranges, owned by libdw */
	size_t naranges;
	struct pc_range *ranges; /* without aranges: CU ranges sorted by lo */
	size_t nranges;
};

/* elf_symbols.c */
int sym_list__add(struct sym_list *l, const char *name, uint64_t vaddr, uint64_t size,
		  size_t shndx, int rank, bool ifunc);
void sym_list__free(struct sym_list *l);
/* File offset of vaddr (see elf_symbols.c); false when no loaded part holds it. */
bool elf_binary__vaddr_to_offset(const struct elf_binary *b, uint64_t vaddr, size_t shndx,
				 uint64_t *off, uint64_t *avail, bool *exec);
/* The function starting exactly at vaddr, or NULL. */
struct sym_entry *elf_binary__at(const struct elf_binary *b, uint64_t vaddr);
/* The function (not fragment) named name (linkage), or NULL. */
struct sym_entry *elf_binary__by_name(const struct elf_binary *b, const char *name);
/* Sets the attach point and cost of a function from its code. */
void elf_binary__place(const struct elf_binary *b, struct sym_entry *e);

/* elf_debug_file.c */
bool elf_read_build_id(Elf *elf, const unsigned char **id, size_t *len);
/* Opens the separate debug file once (b->debug_elf, NULL when none). */
void elf_debug_file__open(struct elf_binary *b);
void elf_debug_file__close(struct elf_binary *b);

/* elf_dwarf.c */
void elf_dwarf__fill(struct elf_binary *b, struct sym_entry *e);
void elf_dwarf__free(struct elf_binary *b);
void read_return_type(Dwarf_Die *fn, struct func_symbol *s);

/* elf_params.c */
void read_params(Dwarf_Die *fn, struct func_symbol *s);
void params__release(struct func_symbol *s);

/* func_exits.c */
void func_exits__fill(struct elf_binary *b, struct sym_entry *e);
void func_exits__release(struct func_exits *x);

/* body_entry.c */
/* The cheaper entry of code (a function with a size, whose sweep is exact:
 * targets[0..ntargets) are its own jumps' targets in its main range). */
void body_entry__fill(struct elf_binary *b, const struct sym_entry *code, const uint64_t *targets,
		      size_t ntargets, struct body_entry *out);

/* go_symbols.c */
/* Marks b as Go (and its version) from its notes and sections. */
void go_symbols__detect(struct elf_binary *b);
/* Adds the functions of .gopclntab (Go 1.18+); -ENOEXEC when absent or
 * not understood. */
int go_symbols__read(struct elf_binary *b, struct sym_list *out);
/* "go1.26.0" from a .go.buildinfo image, or NULL (malloc'd). */
char *go_buildinfo_version(const unsigned char *data, size_t size);

/* ifunc.c */
void ifunc__describe_candidates(struct elf_binary *b, struct sym_entry *e);

/* closest_names.c */
/* Edit distance (optimal string alignment: a swap of two neighbours counts
 * one, as in sqlite3_stpe -> sqlite3_step); stops counting past limit. */
size_t name_distance(const char *a, const char *b, size_t limit);

/* demangle.c */
/* C++ (Itanium) and Rust (legacy and v0) names: malloc'd, NULL when not mangled. */
char *demangle(const char *linkage, bool with_params);
/* A compiler fragment suffix: .cold, .part.N, .isra.N, .constprop.N, .lto_priv.N... */
bool is_fragment_name(const char *name, bool *cold);

#endif /* SPANPROBE_ELF_INTERNAL_H */
