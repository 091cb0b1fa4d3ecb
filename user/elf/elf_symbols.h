/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The functions of an ELF file (.symtab, .dynsym, a separate debug file's
 * .symtab, or Go's .gopclntab), their DWARF facts (libdw), where to put a
 * uprobe on each and at which instructions each one leaves (Capstone). */
#ifndef SPANPROBE_ELF_SYMBOLS_H
#define SPANPROBE_ELF_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "binary_path.h"

/* What a uprobe hit costs at an instruction, cheapest first (the kernel's
 * rules in arch/x86/kernel/uprobes.c, for the running kernel's version). */
enum attach_cost {
	ATTACH_NOP5,           /* 5-byte nop: the kernel turns the trap into a call (6.18+) */
	ATTACH_EMULATED,       /* push/nop/jmp/call/jcc: emulated, no single-step */
	ATTACH_SINGLE_STEP,    /* any other instruction: executed out of line */
	ATTACH_UNPROBEABLE,    /* can't be probed: see skip */
};

/* Why a function is left out of a run instead of attached. */
enum skip_reason {
	SKIP_NONE,
	SKIP_REFUSED_INSN,    /* the kernel refuses to probe its first instruction (lock prefix...) */
	SKIP_IFUNC,           /* GNU ifunc whose implementation is unknown */
	SKIP_NO_CODE,         /* no code bytes in the file, or not in an executable segment */
	SKIP_COLD_PART,       /* a .cold fragment: the unlikely part of a function, not an entry */
	SKIP_KERNEL_REFUSED,  /* predicted probeable, refused by the kernel at attach */
	SKIP_SAME_CODE,       /* same code as another traced function (a resolved ifunc's
			       * implementation shared by two): traced once */
	SKIP_EXITS_UNKNOWN,   /* its return must be seen at its exits (Go, C++, Rust, returns
			       * twice), which are not all known: never a uretprobe instead */
	SKIP_NO_EXIT_PROGRAM, /* its return must be seen at its exits, and the kernel refused
			       * the exit-site program (object_load.c) */
	SKIP_REASON_MAX
};

/* Where a function leaves, for probes on return instructions instead of a
 * uretprobe (which replaces the return address: Go's stack copying and C++
 * unwinding must not see that). */
enum exit_kind {
	EXIT_RET,           /* ret, ret imm16 (also rep/bnd ret): returns to the caller */
	EXIT_TAIL_JMP,      /* jmp rel to outside the function: a tail call */
	EXIT_TAIL_JCC,      /* jcc rel to outside the function: a conditional tail call */
	EXIT_INDIRECT_JMP,  /* jmp *reg/mem: a tail call or a jump table, can't tell */
};

struct exit_site {
	uint64_t file_offset;   /* what a uprobe takes */
	uint64_t vaddr;
	uint64_t target;        /* direct jumps: the target's vaddr; else 0 */
	enum exit_kind kind;
	enum attach_cost cost;  /* of a uprobe there: ret is single-stepped (not emulated) */
	uint8_t len;            /* instruction bytes */
	bool in_cold_part;      /* in the function's .cold fragment */
};

struct func_exits {
	bool known;                 /* every instruction decoded: rets and tails are complete */
	const char *unknown_reason; /* when !known: "size unknown (0)", "undecodable bytes at +0x12" */
	struct exit_site *rets;     /* EXIT_RET */
	size_t nrets;
	struct exit_site *tails;    /* EXIT_TAIL_JMP, EXIT_TAIL_JCC, EXIT_INDIRECT_JMP */
	size_t ntails;
	size_t ncalls;              /* call instructions: 0 (and no tails) is a leaf, which no
				     * exception can unwind through */
};

/* How a parameter is passed and what it holds, as far as --arg can read it
 * from the x86-64 SysV argument registers. */
enum param_kind {
	PARAM_INT,          /* integer, enum or bool of 1-8 bytes: one general register */
	PARAM_POINTER,      /* a pointer (or reference) to anything but char */
	PARAM_STRING,       /* char * (any signedness, const or not) */
	PARAM_STRING_PTR,   /* char ** */
	PARAM_OTHER,        /* float, struct, union, __int128...: not in one general register */
};

struct func_param {
	char *name;         /* NULL when DWARF names none */
	enum param_kind kind;
	uint8_t size;       /* PARAM_INT: bytes */
	bool is_signed;
};

struct func_symbol {
	char *name;              /* shown in spans and -l: demangled for C++/Rust, else = linkage_name */
	char *linkage_name;      /* the symbol as written in the file (mangled) */
	char **aliases;          /* other linkage names at the same address (e.g. __libc_malloc) */
	size_t naliases;
	uint64_t vaddr;          /* st_value (for an ifunc: the resolver's) */
	uint64_t size;           /* st_size (0: unknown) */
	uint64_t file_offset;    /* of the symbol's first byte */
	uint64_t attach_offset;  /* file offset actually probed (past endbr64 when cheaper;
				  * a resolved ifunc's implementation) */
	enum attach_cost cost;
	bool skipped_endbr64;    /* attach_offset = file_offset + 4 */
	const char *cost_reason; /* static text for -l -v: "push %rbp, emulated" */
	enum skip_reason skip;   /* SKIP_NONE exactly when cost != ATTACH_UNPROBEABLE */
	/* GNU ifunc: the implementation this process (or this machine) uses */
	bool is_ifunc;
	char *ifunc_impl;        /* its name, NULL when unresolved */
	char *ifunc_candidates;  /* unresolved: "a, b, c" found in the resolver, or NULL */
	/* exits (filled by elf_binary__match) */
	struct func_exits exits;
	/* From DWARF, when the file (or its debug file) has it */
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
	/* formal parameters in order (C++'s `this` first), when DWARF has them */
	bool params_known;
	struct func_param *params;
	size_t nparams;
};

struct elf_binary;

/* Opens path (already resolved) and reads its symbols. Errors: -ENOENT
 * (missing), -EACCES, -EISDIR, -ENOEXEC (not an ELF file or truncated),
 * -EINVAL. */
int elf_binary__open(const char *path, struct elf_binary **out);
/* Reads the file open at fd (a copy of fd is kept; name is for messages).
 * Its separate debug file is looked up in lookup_root (in_root.h: a
 * container's root directory, copied; IN_ROOT_HOST: spanprobe's own)
 * around lookup_path, the file's path in that root. */
int elf_binary__open_fd(int fd, const char *name, int lookup_root, const char *lookup_path,
			struct elf_binary **out);
/* true when the file has a .symtab (not stripped) */
bool elf_binary__has_symtab(const struct elf_binary *b);
/* Where the function names came from: ".symtab", ".dynsym", ".gopclntab",
 * or the path of the separate debug file whose .symtab was read. */
const char *elf_binary__symbol_source(const struct elf_binary *b);
bool elf_binary__is_shared(const struct elf_binary *b); /* ET_DYN: PIE or library */
/* A Go program (build id note, buildinfo or pclntab): probe its return
 * instructions, never a uretprobe; goroutines are the unit of nesting. */
bool elf_binary__is_go(const struct elf_binary *b);
/* "go1.26.0" from the buildinfo, or NULL */
const char *elf_binary__go_version(const struct elf_binary *b);

/* The language whose unwinding the file's frames must survive, from its
 * symbols (see elf_lang.c). */
enum binary_lang {
	LANG_C,     /* nothing unwinds through it but longjmp and thread exit */
	LANG_CXX,   /* refers to __gxx_personality_v0: C++ exceptions */
	LANG_RUST,  /* refers to rust_eh_personality: panics unwind */
	LANG_GO,    /* Go: the runtime copies and walks goroutine stacks */
	LANG_UNKNOWN_EH, /* no symbols at all, but landing pads (.gcc_except_table) */
};
enum binary_lang elf_binary__lang(const struct elf_binary *b);
const char *binary_lang__name(enum binary_lang l); /* "C", "C++", ... */
/* The address (as linked) of the named symbol of any type in .symtab or
 * .dynsym (defined only); false when absent. */
bool elf_binary__symbol_vaddr(const struct elf_binary *b, const char *name, uint64_t *vaddr);
/* The file's bytes [off, off + len), or NULL when past its end. */
const uint8_t *elf_binary__file_bytes(const struct elf_binary *b, uint64_t off, size_t len);
/* The address of section name, or 0. */
uint64_t elf_binary__section_vaddr(const struct elf_binary *b, const char *name);

/* Functions whose name (linkage, demangled, demangled without parameters,
 * or an alias) matches the shell glob, one per address, in address order.
 * Compiler fragments (.cold, .part.N, .isra.N, .constprop.N, .lto_priv.N)
 * match only a glob that has a '.'. *out points into the binary (valid
 * until free, also across later matches). DWARF and exits are read here,
 * only for the matched functions. Returns the count (0 = none) or a
 * negative errno. */
int elf_binary__match(struct elf_binary *b, const char *glob,
		      const struct func_symbol ***out);
/* Resolves the GNU ifuncs to the implementation process pid uses (0: this
 * process, when it maps the same file) by reading the IRELATIVE-relocated
 * slot in its memory. Functions already matched are updated. Returns how
 * many were resolved, or a negative errno (-ESRCH: pid gone, -ENOENT: the
 * process does not map this file). */
int elf_binary__resolve_ifuncs(struct elf_binary *b, pid_t pid);
/* Up to max names closest to name (edit distance over linkage and
 * demangled names), best first; returns how many. Pointers into b. */
size_t elf_binary__closest_names(const struct elf_binary *b, const char *name,
				 const char **out, size_t max);
/* How many function names the file has (after merging aliases). */
size_t elf_binary__count(const struct elf_binary *b);
/* Separate debug info for a stripped file: fills build_id (hex, "" when
 * none) and debuglink (file name, "" when none). */
void elf_binary__debug_hints(const struct elf_binary *b, char *build_id, size_t build_id_len,
			     char *debuglink, size_t debuglink_len);
void elf_binary__free(struct elf_binary *b);

const char *attach_cost__name(enum attach_cost c); /* "nop5", "emulated", ... */
const char *skip_reason__name(enum skip_reason r); /* "refused instruction", ... */
const char *exit_kind__name(enum exit_kind k);     /* "ret", "tail jmp", ... */

#endif /* SPANPROBE_ELF_SYMBOLS_H */
