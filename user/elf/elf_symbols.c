// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Function symbols of an ELF file and where to probe them.
 *
 * elf_binary__open reads .symtab and .dynsym once (libelf over an mmap of
 * the file), converts each function's address to a file offset through the
 * PT_LOAD segment that holds it, and decodes its first instruction to pick
 * the attach point and cost class. DWARF (libdw) is opened only when a match
 * needs it, and each compile unit is indexed only when one of its functions
 * is matched, so listing every symbol of libc stays cheap.
 *
 * Everything read from the file is bounds-checked: the file may be truncated
 * or corrupt (and is fuzzed). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <gelf.h>
#include <glob.h>
#include <libelf.h>
#include <elfutils/libdw.h>
#include <dwarf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf_symbols.h"
#include "unittest.h"

#ifndef EM_X86_64
#define EM_X86_64 62
#endif
#ifndef NT_GNU_BUILD_ID
#define NT_GNU_BUILD_ID 3
#endif

#define CODE_PEEK 16 /* bytes of a function read to classify its entry */

/* A symbol with what only this file needs: the public part comes first so
 * match results can point at it. */
struct sym_entry {
	struct func_symbol pub;
	int rank;        /* dedup preference: default version, global binding */
	bool dwarf_done; /* DWARF looked up (found or not) */
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
	Elf *elf;
	const unsigned char *image; /* the whole file, as libelf mapped it */
	size_t image_size;
	GElf_Ehdr ehdr;
	bool has_symtab;
	char *path;

	GElf_Phdr *loads; /* PT_LOAD segments */
	size_t nloads;

	struct sym_entry *syms; /* deduplicated, address order */
	size_t nsyms;

	struct match_result *results; /* every match array handed out */

	/* DWARF, opened on first need */
	bool dwarf_tried;
	Dwarf *dwarf;
	int debug_fd;     /* separate debug file, or -1 */
	Elf *debug_elf;
	struct dwarf_cu *cus;
	size_t ncus;
	Dwarf_Aranges *aranges;  /* .debug_aranges, owned by libdw */
	size_t naranges;
	struct pc_range *ranges; /* without aranges: CU ranges sorted by lo */
	size_t nranges;
};

const char *attach_cost__name(enum attach_cost c)
{
	switch (c) {
	case ATTACH_NOP5: return "nop5";
	case ATTACH_EMULATED: return "emulated";
	case ATTACH_SINGLE_STEP: return "single-step";
	case ATTACH_UNPROBEABLE: return "unprobeable";
	}
	return "unknown";
}

/* ---- x86-64 entry decoding ---- */

enum entry_insn {
	INSN_NOP5,     /* 0f 1f 44 00 00 */
	INSN_PUSH_RBP, /* 55 */
	INSN_PUSH,     /* 50-57, 41 50-57 */
	INSN_NOP,      /* 90, 66 90, [66..] [2e] 0f 1f /0 */
	INSN_BRANCH,   /* jmp/call rel, jcc: emulated by the kernel */
	INSN_OTHER,
};

UNITTEST bool is_endbr64(const unsigned char *p, size_t n)
{
	return n >= 4 && p[0] == 0xf3 && p[1] == 0x0f && p[2] == 0x1e && p[3] == 0xfa;
}

/* The kind of the instruction at p (n bytes available), for the x86 uprobe
 * emulation rules (arch/x86/kernel/uprobes.c). */
UNITTEST enum entry_insn classify_insn(const unsigned char *p, size_t n)
{
	size_t i = 0;

	if (n == 0)
		return INSN_OTHER;
	if (n >= 5 && p[0] == 0x0f && p[1] == 0x1f && p[2] == 0x44 && p[3] == 0x00 &&
	    p[4] == 0x00)
		return INSN_NOP5;
	if (p[0] == 0x55)
		return INSN_PUSH_RBP;
	if (p[0] >= 0x50 && p[0] <= 0x57)
		return INSN_PUSH;
	if (n >= 2 && p[0] == 0x41 && p[1] >= 0x50 && p[1] <= 0x57)
		return INSN_PUSH;
	if (p[0] == 0x90)
		return INSN_NOP;
	/* Prefixed nops: 66 90, 66 0f 1f .., 66 2e 0f 1f 84 .. */
	while (i < n && i < 8 && p[i] == 0x66)
		i++;
	if (i > 0 && i < n && p[i] == 0x90)
		return INSN_NOP;
	if (i < n && p[i] == 0x2e)
		i++;
	if (i + 2 < n && p[i] == 0x0f && p[i + 1] == 0x1f && (p[i + 2] & 0x38) == 0)
		return INSN_NOP;
	/* Unprefixed relative branches */
	if (p[0] == 0xe8 || p[0] == 0xe9 || p[0] == 0xeb || (p[0] >= 0x70 && p[0] <= 0x7f))
		return INSN_BRANCH;
	if (n >= 2 && p[0] == 0x0f && p[1] >= 0x80 && p[1] <= 0x8f)
		return INSN_BRANCH;
	return INSN_OTHER;
}

/* Picks the attach point and cost for a function whose first bytes are
 * code[0..n). */
UNITTEST void classify_entry(const unsigned char *code, size_t n, uint64_t file_offset,
			     struct func_symbol *s)
{
	enum entry_insn next;

	s->attach_offset = file_offset;
	s->skipped_endbr64 = false;
	if (n == 0) {
		s->cost = ATTACH_UNPROBEABLE;
		s->cost_reason = "no code bytes in the file";
		return;
	}
	if (is_endbr64(code, n)) {
		next = classify_insn(code + 4, n - 4);
		if (next == INSN_OTHER) {
			s->cost = ATTACH_SINGLE_STEP;
			s->cost_reason = "endbr64 then a non-emulated instruction: "
					 "probed at the symbol, single-stepped";
			return;
		}
		s->attach_offset = file_offset + 4;
		s->skipped_endbr64 = true;
		switch (next) {
		case INSN_NOP5:
			s->cost = ATTACH_NOP5;
			s->cost_reason = "endbr64 then 5-byte nop: probed past endbr64, "
					 "trap turned into a call";
			return;
		case INSN_PUSH_RBP:
			s->cost = ATTACH_EMULATED;
			s->cost_reason = "endbr64 then push %rbp: probed past endbr64, "
					 "push emulated";
			return;
		case INSN_PUSH:
			s->cost = ATTACH_EMULATED;
			s->cost_reason = "endbr64 then push: probed past endbr64, push emulated";
			return;
		case INSN_NOP:
			s->cost = ATTACH_EMULATED;
			s->cost_reason = "endbr64 then nop: probed past endbr64, nop emulated";
			return;
		default:
			s->cost = ATTACH_EMULATED;
			s->cost_reason = "endbr64 then jmp/call: probed past endbr64, "
					 "branch emulated";
			return;
		}
	}
	switch (classify_insn(code, n)) {
	case INSN_NOP5:
		s->cost = ATTACH_NOP5;
		s->cost_reason = "5-byte nop: trap turned into a call";
		return;
	case INSN_PUSH_RBP:
		s->cost = ATTACH_EMULATED;
		s->cost_reason = "push %rbp: emulated";
		return;
	case INSN_PUSH:
		s->cost = ATTACH_EMULATED;
		s->cost_reason = "push: emulated";
		return;
	case INSN_NOP:
		s->cost = ATTACH_EMULATED;
		s->cost_reason = "nop: emulated";
		return;
	case INSN_BRANCH:
		s->cost = ATTACH_EMULATED;
		s->cost_reason = "jmp/call: emulated";
		return;
	default:
		s->cost = ATTACH_SINGLE_STEP;
		s->cost_reason = "first instruction single-stepped out of line";
		return;
	}
}

/* ---- symbols ---- */

/* File offset of vaddr through the PT_LOAD holding it (falling back to the
 * symbol's section when the file has no program headers). *avail is how many
 * file bytes follow it within that segment/section; *exec whether it is
 * executable. Returns false when no loaded part of the file holds vaddr. */
static bool vaddr_to_offset(const struct elf_binary *b, uint64_t vaddr, size_t shndx,
			    uint64_t *off, uint64_t *avail, bool *exec)
{
	GElf_Shdr shdr;
	Elf_Scn *scn;
	size_t i;

	for (i = 0; i < b->nloads; i++) {
		const GElf_Phdr *ph = &b->loads[i];

		if (vaddr >= ph->p_vaddr && vaddr - ph->p_vaddr < ph->p_filesz) {
			*off = vaddr - ph->p_vaddr + ph->p_offset;
			*avail = ph->p_filesz - (vaddr - ph->p_vaddr);
			*exec = ph->p_flags & PF_X;
			return true;
		}
	}
	if (b->nloads > 0 || shndx == SHN_UNDEF || shndx >= SHN_LORESERVE)
		return false;
	scn = elf_getscn(b->elf, shndx);
	if (!scn || !gelf_getshdr(scn, &shdr) || shdr.sh_type == SHT_NOBITS)
		return false;
	if (vaddr < shdr.sh_addr || vaddr - shdr.sh_addr >= shdr.sh_size)
		return false;
	*off = vaddr - shdr.sh_addr + shdr.sh_offset;
	*avail = shdr.sh_size - (vaddr - shdr.sh_addr);
	*exec = shdr.sh_flags & SHF_EXECINSTR;
	return true;
}

static void place_symbol(const struct elf_binary *b, size_t shndx, bool ifunc,
			 struct func_symbol *s)
{
	uint64_t off = 0, avail = 0;
	bool exec = false;
	size_t n;

	s->file_offset = 0;
	s->attach_offset = 0;
	s->skipped_endbr64 = false;
	if (!vaddr_to_offset(b, s->vaddr, shndx, &off, &avail, &exec)) {
		s->cost = ATTACH_UNPROBEABLE;
		s->cost_reason = "address not in any loaded part of the file";
		return;
	}
	s->file_offset = off;
	s->attach_offset = off;
	if (ifunc) {
		s->cost = ATTACH_UNPROBEABLE;
		s->cost_reason = "GNU ifunc: the symbol is a resolver, probe the "
				 "implementation it returns";
		return;
	}
	if (!exec) {
		s->cost = ATTACH_UNPROBEABLE;
		s->cost_reason = "not in an executable segment";
		return;
	}
	if (off >= b->image_size) {
		s->cost = ATTACH_UNPROBEABLE;
		s->cost_reason = "no code bytes in the file";
		return;
	}
	n = CODE_PEEK;
	if (avail < n)
		n = avail;
	if (b->image_size - off < n)
		n = b->image_size - off;
	if (s->size > 0 && s->size < n)
		n = s->size;
	if (b->ehdr.e_machine != EM_X86_64) {
		s->cost = ATTACH_SINGLE_STEP;
		s->cost_reason = "unknown arch";
		return;
	}
	classify_entry(b->image + off, n, off, s);
}

/* Higher is preferred among symbols of the same name: a default-version
 * (not hidden) definition, then global over local. */
static int symbol_rank(int bind, bool hidden_version)
{
	return (hidden_version ? 0 : 2) + (bind != STB_LOCAL ? 1 : 0);
}

static int cmp_name_rank(const void *a, const void *b)
{
	const struct sym_entry *x = a, *y = b;
	int c = strcmp(x->pub.name, y->pub.name);

	if (c)
		return c;
	if (x->rank != y->rank)
		return y->rank - x->rank;
	return (x->pub.vaddr > y->pub.vaddr) - (x->pub.vaddr < y->pub.vaddr);
}

static int cmp_addr(const void *a, const void *b)
{
	const struct sym_entry *x = a, *y = b;

	if (x->pub.vaddr != y->pub.vaddr)
		return (x->pub.vaddr > y->pub.vaddr) - (x->pub.vaddr < y->pub.vaddr);
	return strcmp(x->pub.name, y->pub.name);
}

static bool section_in_file(const struct elf_binary *b, const GElf_Shdr *sh)
{
	return sh->sh_type == SHT_NOBITS ||
	       (sh->sh_offset <= b->image_size && sh->sh_size <= b->image_size - sh->sh_offset);
}

/* Appends the defined functions of one symbol table to *syms. */
static int read_symtab(struct elf_binary *b, Elf_Scn *scn, const GElf_Shdr *sh,
		       Elf_Data *versym, struct sym_entry **syms, size_t *nsyms, size_t *cap)
{
	size_t i, count, entsize;
	Elf_Data *data;

	entsize = gelf_fsize(b->elf, ELF_T_SYM, 1, EV_CURRENT);
	if (entsize == 0 || !section_in_file(b, sh) || sh->sh_type == SHT_NOBITS)
		return -ENOEXEC;
	data = elf_getdata(scn, NULL);
	if (!data)
		return -ENOEXEC;
	count = data->d_size / entsize;
	for (i = 0; i < count; i++) {
		GElf_Sym sym;
		GElf_Versym vs = 0;
		struct sym_entry *e;
		const char *name;
		int type;
		bool hidden = false;

		if (!gelf_getsym(data, (int)i, &sym))
			break;
		type = GELF_ST_TYPE(sym.st_info);
		if (type != STT_FUNC && type != STT_GNU_IFUNC)
			continue;
		if (sym.st_shndx == SHN_UNDEF || sym.st_value == 0)
			continue;
		if (sym.st_shndx == SHN_ABS || sym.st_shndx == SHN_COMMON)
			continue;
		name = elf_strptr(b->elf, sh->sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		if (versym && i < versym->d_size / sizeof(GElf_Versym) &&
		    gelf_getversym(versym, (int)i, &vs))
			hidden = vs & 0x8000;
		if (*nsyms == *cap) {
			size_t ncap = *cap ? *cap * 2 : 256;
			struct sym_entry *n = realloc(*syms, ncap * sizeof(*n));

			if (!n)
				return -ENOMEM;
			*syms = n;
			*cap = ncap;
		}
		e = &(*syms)[*nsyms];
		memset(e, 0, sizeof(*e));
		e->pub.name = strdup(name);
		if (!e->pub.name)
			return -ENOMEM;
		(*nsyms)++;
		e->pub.vaddr = sym.st_value;
		e->pub.size = sym.st_size;
		e->rank = symbol_rank(GELF_ST_BIND(sym.st_info), hidden);
		place_symbol(b, sym.st_shndx, type == STT_GNU_IFUNC, &e->pub);
	}
	return 0;
}

static Elf_Data *find_versym(Elf *elf, size_t dynsym_index, size_t image_size)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_GNU_versym)
			continue;
		if (sh.sh_link != dynsym_index || sh.sh_offset > image_size ||
		    sh.sh_size > image_size - sh.sh_offset)
			return NULL;
		return elf_getdata(scn, NULL);
	}
	return NULL;
}

static void free_entries(struct sym_entry *syms, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(syms[i].pub.name);
		free(syms[i].pub.decl_file);
	}
	free(syms);
}

static int read_symbols(struct elf_binary *b)
{
	struct sym_entry *syms = NULL;
	size_t nsyms = 0, cap = 0, i, kept;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	int err = 0;

	while ((scn = elf_nextscn(b->elf, scn)) != NULL) {
		Elf_Data *versym = NULL;

		if (!gelf_getshdr(scn, &sh)) {
			err = -ENOEXEC;
			goto cleanup;
		}
		if (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM)
			continue;
		if (sh.sh_type == SHT_SYMTAB)
			b->has_symtab = true;
		else
			versym = find_versym(b->elf, elf_ndxscn(scn), b->image_size);
		err = read_symtab(b, scn, &sh, versym, &syms, &nsyms, &cap);
		if (err)
			goto cleanup;
	}
	if (nsyms > 1) {
		/* Deduplicate by name, keeping the preferred definition. */
		qsort(syms, nsyms, sizeof(*syms), cmp_name_rank);
		for (i = 1, kept = 1; i < nsyms; i++) {
			if (strcmp(syms[i].pub.name, syms[kept - 1].pub.name) == 0) {
				free(syms[i].pub.name);
				continue;
			}
			syms[kept++] = syms[i];
		}
		nsyms = kept;
		qsort(syms, nsyms, sizeof(*syms), cmp_addr);
	}
	b->syms = syms;
	b->nsyms = nsyms;
	syms = NULL;
	nsyms = 0;
cleanup:
	free_entries(syms, nsyms);
	return err;
}

static int read_load_segments(struct elf_binary *b)
{
	size_t phnum, i;

	if (elf_getphdrnum(b->elf, &phnum) != 0)
		return -ENOEXEC;
	/* libelf reports 0 headers when they lie past the end of the file */
	if (b->ehdr.e_phnum != PN_XNUM && b->ehdr.e_phnum > phnum)
		phnum = b->ehdr.e_phnum;
	if (phnum == 0)
		return 0;
	if (b->ehdr.e_phoff > b->image_size ||
	    (uint64_t)phnum * b->ehdr.e_phentsize > b->image_size - b->ehdr.e_phoff)
		return -ENOEXEC;
	b->loads = calloc(phnum, sizeof(*b->loads));
	if (!b->loads)
		return -ENOMEM;
	for (i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(b->elf, (int)i, &ph))
			return -ENOEXEC;
		if (ph.p_type != PT_LOAD)
			continue;
		/* Clamp a segment claiming more file bytes than the file has. */
		if (ph.p_offset > b->image_size)
			continue;
		if (ph.p_filesz > b->image_size - ph.p_offset)
			ph.p_filesz = b->image_size - ph.p_offset;
		b->loads[b->nloads++] = ph;
	}
	return 0;
}

/* The section headers must lie inside the file; libelf reads them lazily. */
static int check_section_headers(struct elf_binary *b)
{
	size_t shnum;

	if (elf_getshdrnum(b->elf, &shnum) != 0)
		return -ENOEXEC;
	/* libelf reports 0 sections when the table lies past the end of the
	 * file; e_shnum 0 with e_shoff set means "count in section 0". */
	if (b->ehdr.e_shnum > shnum)
		shnum = b->ehdr.e_shnum;
	if (shnum == 0 && b->ehdr.e_shoff != 0)
		shnum = 1;
	if (shnum == 0)
		return 0;
	if (b->ehdr.e_shoff > b->image_size || b->ehdr.e_shentsize == 0 ||
	    (uint64_t)shnum * b->ehdr.e_shentsize > b->image_size - b->ehdr.e_shoff)
		return -ENOEXEC;
	return 0;
}

int elf_binary__open(const char *path, struct elf_binary **out)
{
	struct elf_binary *b = NULL;
	struct stat st;
	size_t size = 0;
	char *image;
	int err;

	*out = NULL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->fd = -1;
	b->debug_fd = -1;
	b->path = strdup(path);
	if (!b->path) {
		err = -ENOMEM;
		goto cleanup;
	}
	b->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (b->fd < 0) {
		err = -errno;
		goto cleanup;
	}
	if (fstat(b->fd, &st) < 0) {
		err = -errno;
		goto cleanup;
	}
	if (S_ISDIR(st.st_mode)) {
		err = -EISDIR;
		goto cleanup;
	}
	if (!S_ISREG(st.st_mode)) {
		err = -EINVAL;
		goto cleanup;
	}
	if (st.st_size < (off_t)sizeof(Elf32_Ehdr)) {
		err = -ENOEXEC;
		goto cleanup;
	}
	elf_version(EV_CURRENT);
	b->elf = elf_begin(b->fd, ELF_C_READ_MMAP, NULL);
	if (!b->elf || elf_kind(b->elf) != ELF_K_ELF) {
		err = -ENOEXEC;
		goto cleanup;
	}
	image = elf_rawfile(b->elf, &size);
	if (!image || size == 0 || !gelf_getehdr(b->elf, &b->ehdr)) {
		err = -ENOEXEC;
		goto cleanup;
	}
	b->image = (const unsigned char *)image;
	b->image_size = size;
	if (b->ehdr.e_type != ET_EXEC && b->ehdr.e_type != ET_DYN) {
		err = -ENOEXEC; /* relocatable objects and cores can't be probed */
		goto cleanup;
	}
	err = check_section_headers(b);
	if (err)
		goto cleanup;
	err = read_load_segments(b);
	if (err)
		goto cleanup;
	err = read_symbols(b);
	if (err)
		goto cleanup;
	*out = b;
	b = NULL;
cleanup:
	elf_binary__free(b);
	return err;
}

bool elf_binary__has_symtab(const struct elf_binary *b)
{
	return b && b->has_symtab;
}

bool elf_binary__is_shared(const struct elf_binary *b)
{
	return b && b->ehdr.e_type == ET_DYN;
}

/* ---- DWARF ---- */

/* The GNU build-id note of elf, or false. */
static bool read_build_id(Elf *elf, const unsigned char **id, size_t *len)
{
	size_t size = 0;
	const char *image = elf_rawfile(elf, &size);
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	if (!image)
		return false;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		Elf_Data *data;
		GElf_Nhdr nhdr;
		size_t off = 0, name_off, desc_off;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		if (sh.sh_offset > size || sh.sh_size > size - sh.sh_offset)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		while ((off = gelf_getnote(data, off, &nhdr, &name_off, &desc_off)) > 0) {
			if (nhdr.n_type == NT_GNU_BUILD_ID && nhdr.n_namesz == 4 &&
			    memcmp((const char *)data->d_buf + name_off, "GNU", 4) == 0 &&
			    nhdr.n_descsz > 0) {
				*id = (const unsigned char *)data->d_buf + desc_off;
				*len = nhdr.n_descsz;
				return true;
			}
		}
	}
	return false;
}

/* Opens candidate as the debug file of b when it has DWARF (and the same
 * build-id, when b has one). */
static bool try_debug_file(struct elf_binary *b, const char *candidate)
{
	const unsigned char *want = NULL, *got = NULL;
	size_t want_len = 0, got_len = 0;
	struct stat st_main, st_dbg;
	Elf *elf = NULL;
	Dwarf *dw = NULL;
	int fd;

	fd = open(candidate, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (fstat(fd, &st_dbg) < 0 || !S_ISREG(st_dbg.st_mode) || fstat(b->fd, &st_main) < 0 ||
	    (st_dbg.st_dev == st_main.st_dev && st_dbg.st_ino == st_main.st_ino))
		goto cleanup;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF)
		goto cleanup;
	if (read_build_id(b->elf, &want, &want_len) &&
	    (!read_build_id(elf, &got, &got_len) || got_len != want_len ||
	     memcmp(got, want, want_len) != 0))
		goto cleanup;
	dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	if (!dw)
		goto cleanup;
	b->dwarf = dw;
	b->debug_elf = elf;
	b->debug_fd = fd;
	elf = NULL;
	fd = -1;
cleanup:
	elf_end(elf);
	if (fd >= 0)
		close(fd);
	return dw != NULL;
}

/* Looks for separate debug info: /usr/lib/debug/.build-id/xx/yyyy.debug,
 * then .gnu_debuglink next to the file, in .debug/, under /usr/lib/debug. */
static void open_debug_file(struct elf_binary *b)
{
	const unsigned char *id;
	char path[PATH_MAX], dir[PATH_MAX], *slash;
	size_t len, i, n;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	size_t shstrndx;

	if (read_build_id(b->elf, &id, &len) && len >= 2 && len <= 64) {
		n = (size_t)snprintf(path, sizeof(path), "/usr/lib/debug/.build-id/%02x/", id[0]);
		for (i = 1; i < len && n + 3 < sizeof(path); i++)
			n += (size_t)snprintf(path + n, sizeof(path) - n, "%02x", id[i]);
		if (n + 7 < sizeof(path)) {
			strcpy(path + n, ".debug");
			if (try_debug_file(b, path))
				return;
		}
	}
	if (elf_getshdrstrndx(b->elf, &shstrndx) != 0)
		return;
	while ((scn = elf_nextscn(b->elf, scn)) != NULL) {
		const char *secname, *link;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		secname = elf_strptr(b->elf, shstrndx, sh.sh_name);
		if (!secname || strcmp(secname, ".gnu_debuglink") != 0)
			continue;
		if (sh.sh_offset > b->image_size || sh.sh_size > b->image_size - sh.sh_offset)
			return;
		data = elf_getdata(scn, NULL);
		if (!data || data->d_size < 2)
			return;
		link = data->d_buf;
		if (!memchr(link, '\0', data->d_size) || !*link || strchr(link, '/'))
			return;
		snprintf(dir, sizeof(dir), "%s", b->path);
		slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
		else
			strcpy(dir, ".");
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, link) < sizeof(path) &&
		    try_debug_file(b, path))
			return;
		if ((size_t)snprintf(path, sizeof(path), "%s/.debug/%s", dir, link) < sizeof(path) &&
		    try_debug_file(b, path))
			return;
		if (dir[0] == '/' &&
		    (size_t)snprintf(path, sizeof(path), "/usr/lib/debug%s/%s", dir, link) <
			    sizeof(path))
			try_debug_file(b, path);
		return;
	}
}

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

static void open_dwarf(struct elf_binary *b)
{
	b->dwarf_tried = true;
	b->dwarf = dwarf_begin_elf(b->elf, DWARF_C_READ, NULL);
	if (!b->dwarf)
		open_debug_file(b);
	if (!b->dwarf)
		return;
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
UNITTEST void read_return_type(Dwarf_Die *fn, struct func_symbol *s)
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

static void fill_dwarf(struct elf_binary *b, struct sym_entry *e)
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
		if (!by_name && sp->name && strcmp(sp->name, s->name) == 0)
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
}

int elf_binary__match(struct elf_binary *b, const char *glob, const struct func_symbol ***out)
{
	struct match_result *r = NULL;
	size_t i, n = 0;
	int err;

	if (!b || !glob || !out)
		return -EINVAL;
	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r) {
		err = -ENOMEM;
		goto cleanup;
	}
	r->syms = calloc(b->nsyms + 1, sizeof(*r->syms));
	if (!r->syms) {
		err = -ENOMEM;
		goto cleanup;
	}
	if (b->nsyms > INT_MAX) {
		err = -E2BIG;
		goto cleanup;
	}
	for (i = 0; i < b->nsyms; i++) {
		struct sym_entry *e = &b->syms[i];

		if (fnmatch(glob, e->pub.name, 0) != 0)
			continue;
		if (!e->dwarf_done)
			fill_dwarf(b, e);
		r->syms[n++] = &e->pub;
	}
	/* Kept until elf_binary__free: earlier results stay valid. */
	r->next = b->results;
	b->results = r;
	*out = r->syms;
	r = NULL;
	err = (int)n;
cleanup:
	if (r)
		free(r->syms);
	free(r);
	return err;
}

void elf_binary__free(struct elf_binary *b)
{
	size_t i;

	if (!b)
		return;
	while (b->results) {
		struct match_result *next = b->results->next;

		free(b->results->syms);
		free(b->results);
		b->results = next;
	}
	for (i = 0; i < b->ncus; i++)
		free(b->cus[i].subs);
	free(b->cus);
	free(b->ranges);
	if (b->dwarf)
		dwarf_end(b->dwarf);
	if (b->debug_elf)
		elf_end(b->debug_elf);
	if (b->debug_fd >= 0)
		close(b->debug_fd);
	free_entries(b->syms, b->nsyms);
	free(b->loads);
	if (b->elf)
		elf_end(b->elf);
	if (b->fd >= 0)
		close(b->fd);
	free(b->path);
	free(b);
}

/* ---- resolving a probe's BINARY ---- */

#if defined(__x86_64__)
#define MULTIARCH "x86_64-linux-gnu"
#elif defined(__aarch64__)
#define MULTIARCH "aarch64-linux-gnu"
#else
#define MULTIARCH "unknown-linux-gnu"
#endif

static const char *const default_lib_dirs[] = {
	"/lib/" MULTIARCH, "/usr/lib/" MULTIARCH, "/lib64", "/usr/lib64", "/lib", "/usr/lib",
};

#define MAX_LIB_DIRS 64

struct dir_list {
	char *dirs[MAX_LIB_DIRS];
	size_t n;
};

static void dir_list__add(struct dir_list *l, const char *dir, size_t len)
{
	size_t i;

	if (len == 0 || dir[0] != '/' || l->n == MAX_LIB_DIRS)
		return;
	for (i = 0; i < l->n; i++)
		if (strlen(l->dirs[i]) == len && strncmp(l->dirs[i], dir, len) == 0)
			return;
	l->dirs[l->n] = strndup(dir, len);
	if (l->dirs[l->n])
		l->n++;
}

/* Reads an ld.so.conf-style file: directory lines and "include GLOB". */
static void read_ld_so_conf(struct dir_list *l, const char *path, int depth)
{
	char line[PATH_MAX];
	FILE *f;

	if (depth > 2)
		return;
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *end;

		end = strchr(p, '#');
		if (end)
			*end = '\0';
		while (isspace((unsigned char)*p))
			p++;
		end = p + strlen(p);
		while (end > p && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (strncmp(p, "include", 7) == 0 && isspace((unsigned char)p[7])) {
			glob_t g;
			size_t i;

			p += 8;
			while (isspace((unsigned char)*p))
				p++;
			if (glob(p, 0, NULL, &g) == 0) {
				for (i = 0; i < g.gl_pathc; i++)
					read_ld_so_conf(l, g.gl_pathv[i], depth + 1);
			}
			globfree(&g);
			continue;
		}
		dir_list__add(l, p, strlen(p));
	}
	fclose(f);
}

static void dir_list__free(struct dir_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->dirs[i]);
	l->n = 0;
}

static bool is_elf_file(const char *path)
{
	unsigned char magic[4];
	struct stat st;
	bool ok;
	int fd;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ok = read(fd, magic, sizeof(magic)) == (ssize_t)sizeof(magic) &&
	     memcmp(magic, ELFMAG, SELFMAG) == 0;
	close(fd);
	return ok;
}

static int copy_realpath(const char *path, char *out, size_t out_len)
{
	char *real = realpath(path, NULL);
	int err = 0;

	if (!real)
		return -errno;
	if (strlen(real) >= out_len)
		err = -ENAMETOOLONG;
	else
		strcpy(out, real);
	free(real);
	return err;
}

static bool find_on_path(const char *name, char *found, size_t found_len)
{
	const char *path = getenv("PATH"), *p, *end;
	struct stat st;

	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path;; p = end + 1) {
		size_t len;

		end = strchr(p, ':');
		if (!end)
			end = p + strlen(p);
		len = (size_t)(end - p);
		if ((size_t)snprintf(found, found_len, "%.*s/%s", (int)(len ? len : 1),
				     len ? p : ".", name) < found_len &&
		    stat(found, &st) == 0 && S_ISREG(st.st_mode) && access(found, X_OK) == 0)
			return true;
		if (!*end)
			return false;
	}
}

/* The highest version among dir/NAME.so* and dir/libNAME.so* ELF files. */
static bool find_versioned(const char *dir, const char *name, char *found, size_t found_len)
{
	static const char *const patterns[] = { "%s/%s.so*", "%s/lib%s.so*" };
	const char *best = NULL;
	glob_t g[2];
	bool have[2] = { false, false }, ok = false;
	char pattern[PATH_MAX];
	size_t i, j;

	for (i = 0; i < 2; i++) {
		if ((size_t)snprintf(pattern, sizeof(pattern), patterns[i], dir, name) >=
		    sizeof(pattern))
			continue;
		have[i] = glob(pattern, 0, NULL, &g[i]) == 0;
		if (!have[i])
			continue;
		for (j = 0; j < g[i].gl_pathc; j++) {
			const char *c = g[i].gl_pathv[j];

			if (best && strverscmp(strrchr(c, '/'), strrchr(best, '/')) <= 0)
				continue;
			if (is_elf_file(c))
				best = c;
		}
	}
	if (best && strlen(best) < found_len) {
		strcpy(found, best);
		ok = true;
	}
	for (i = 0; i < 2; i++)
		if (have[i])
			globfree(&g[i]);
	return ok;
}

int resolve_binary_path(const char *name, char *out, size_t out_len)
{
	struct dir_list dirs = { .n = 0 };
	char found[PATH_MAX];
	const char *env, *p, *end;
	size_t i;
	int err = -ENOENT;

	if (!name || !*name || !out || out_len == 0)
		return -EINVAL;
	if (strchr(name, '/'))
		return copy_realpath(name, out, out_len);
	if (find_on_path(name, found, sizeof(found)))
		return copy_realpath(found, out, out_len);

	env = getenv("LD_LIBRARY_PATH");
	for (p = env; p && *p; p = *end ? end + 1 : end) {
		end = p + strcspn(p, ":;");
		dir_list__add(&dirs, p, (size_t)(end - p));
	}
	read_ld_so_conf(&dirs, "/etc/ld.so.conf", 0);
	for (i = 0; i < sizeof(default_lib_dirs) / sizeof(default_lib_dirs[0]); i++)
		dir_list__add(&dirs, default_lib_dirs[i], strlen(default_lib_dirs[i]));

	for (i = 0; i < dirs.n; i++) {
		if ((size_t)snprintf(found, sizeof(found), "%s/%s", dirs.dirs[i], name) <
			    sizeof(found) &&
		    is_elf_file(found)) {
			err = copy_realpath(found, out, out_len);
			goto cleanup;
		}
	}
	if (strpbrk(name, "*?[\\"))
		goto cleanup; /* no globbing on a name that is itself a pattern */
	for (i = 0; i < dirs.n; i++) {
		if (find_versioned(dirs.dirs[i], name, found, sizeof(found))) {
			err = copy_realpath(found, out, out_len);
			goto cleanup;
		}
	}
cleanup:
	dir_list__free(&dirs);
	return err;
}
