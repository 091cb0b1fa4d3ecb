// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The functions of an ELF file and where to probe them.
 *
 * elf_binary__open reads .symtab and .dynsym once (libelf over an mmap of
 * the file) -- or, when the file is stripped, its separate debug file's
 * .symtab, or Go's .gopclntab -- and keeps one function per address: names
 * at one address (malloc and __libc_malloc, free and cfree) are one function
 * shown by its public name, the others listed as aliases. Each function's
 * address becomes a file offset through the PT_LOAD segment that holds it,
 * and its first instruction picks the attach point and cost class
 * (x86_uprobe_insn.c). DWARF and the exits are read only for matched
 * functions.
 *
 * Everything read from the file is bounds-checked: the file may be truncated
 * or corrupt (and is fuzzed). */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf_internal.h"

#ifndef EM_X86_64
#define EM_X86_64 62
#endif

#define CODE_PEEK 16 /* bytes the kernel reads to decode a probed instruction */

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

const char *skip_reason__name(enum skip_reason r)
{
	switch (r) {
	case SKIP_NONE: return "none";
	case SKIP_REFUSED_INSN: return "first instruction refused by the kernel";
	case SKIP_IFUNC: return "GNU ifunc not resolved";
	case SKIP_NO_CODE: return "no code in the file";
	case SKIP_COLD_PART: return ".cold fragment, not an entry";
	case SKIP_KERNEL_REFUSED: return "refused by the kernel at attach";
	case SKIP_SAME_CODE: return "same code as another traced function";
	case SKIP_EXITS_UNKNOWN: return "return needs exit sites, which are not all known";
	case SKIP_NO_EXIT_PROGRAM: return "return needs exit sites, whose program the kernel refused";
	case SKIP_REASON_MAX: break;
	}
	return "unknown";
}

const char *exit_kind__name(enum exit_kind k)
{
	switch (k) {
	case EXIT_RET: return "ret";
	case EXIT_TAIL_JMP: return "tail jmp";
	case EXIT_TAIL_JCC: return "tail jcc";
	case EXIT_INDIRECT_JMP: return "indirect jmp";
	}
	return "unknown";
}

/* File offset of vaddr through the PT_LOAD holding it (falling back to the
 * symbol's section when the file has no program headers). *avail is how many
 * file bytes follow it within that segment/section; *exec whether it is
 * executable. Returns false when no loaded part of the file holds vaddr. */
bool elf_binary__vaddr_to_offset(const struct elf_binary *b, uint64_t vaddr, size_t shndx,
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
	if (vaddr < shdr.sh_addr || vaddr - shdr.sh_addr >= shdr.sh_size ||
	    shdr.sh_offset > b->image_size)
		return false;
	*off = vaddr - shdr.sh_addr + shdr.sh_offset;
	*avail = shdr.sh_size - (vaddr - shdr.sh_addr);
	*exec = shdr.sh_flags & SHF_EXECINSTR;
	return true;
}

static void set_unprobeable(struct func_symbol *s, enum skip_reason why, const char *text)
{
	s->cost = ATTACH_UNPROBEABLE;
	s->skip = why;
	s->cost_reason = text;
}

void elf_binary__place(const struct elf_binary *b, struct sym_entry *e)
{
	struct func_symbol *s = &e->pub;
	uint64_t off = 0, avail = 0;
	bool exec = false;
	size_t n;

	s->file_offset = 0;
	s->attach_offset = 0;
	s->skipped_endbr64 = false;
	s->skip = SKIP_NONE;
	if (!elf_binary__vaddr_to_offset(b, s->vaddr, e->shndx, &off, &avail, &exec)) {
		set_unprobeable(s, SKIP_NO_CODE, "address not in any loaded part of the file");
		return;
	}
	s->file_offset = off;
	s->attach_offset = off;
	if (s->is_ifunc) {
		set_unprobeable(s, SKIP_IFUNC, "GNU ifunc: the symbol is a resolver, probe the "
				"implementation it returns");
		return;
	}
	if (!exec) {
		set_unprobeable(s, SKIP_NO_CODE, "not in an executable segment");
		return;
	}
	if (off >= b->image_size) {
		set_unprobeable(s, SKIP_NO_CODE, "no code bytes in the file");
		return;
	}
	if (e->cold) {
		set_unprobeable(s, SKIP_COLD_PART, ".cold fragment: the unlikely path of a function, "
				"jumped to, never called");
		return;
	}
	if (b->ehdr.e_machine != EM_X86_64 || !b->dec) {
		s->cost = ATTACH_SINGLE_STEP;
		s->cost_reason = "unknown arch";
		return;
	}
	n = CODE_PEEK;
	if (avail < n)
		n = avail;
	if (b->image_size - off < n)
		n = b->image_size - off;
	x86_decoder__choose_entry(b->dec, b->image + off, n, s->vaddr, off, s);
}

/* ---- reading symbol tables ---- */

static int leading_underscores(const char *name)
{
	int n = 0;

	while (name[n] == '_')
		n++;
	return n;
}

int sym_list__add(struct sym_list *l, const char *name, uint64_t vaddr, uint64_t size,
		  size_t shndx, int rank, bool ifunc)
{
	struct sym_entry *e;

	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 256;
		struct sym_entry *grown = realloc(l->v, ncap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		l->v = grown;
		l->cap = ncap;
	}
	e = &l->v[l->n];
	memset(e, 0, sizeof(*e));
	e->pub.linkage_name = strdup(name);
	if (!e->pub.linkage_name)
		return -ENOMEM;
	l->n++;
	e->pub.vaddr = vaddr;
	e->pub.size = size;
	e->pub.is_ifunc = ifunc;
	e->shndx = shndx;
	e->rank = rank;
	e->fragment = is_fragment_name(name, &e->cold);
	return 0;
}

static void entry__release(struct sym_entry *e)
{
	struct func_symbol *s = &e->pub;

	if (s->name != s->linkage_name)
		free(s->name);
	free(s->linkage_name);
	for (size_t i = 0; i < s->naliases; i++)
		free(s->aliases[i]);
	free(s->aliases);
	free(s->decl_file);
	params__release(s);
	free(s->ifunc_impl);
	free(s->ifunc_candidates);
	func_exits__release(&s->exits);
	free(e->plain);
}

void sym_list__free(struct sym_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		entry__release(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

/* Among symbols of one name: a default-version (not hidden) definition,
 * then global over weak over local. */
static int symbol_rank(int bind, bool hidden_version)
{
	return (hidden_version ? 0 : 4) + (bind == STB_GLOBAL ? 2 : bind == STB_WEAK ? 1 : 0);
}

static int cmp_name_rank(const void *a, const void *b)
{
	const struct sym_entry *x = a, *y = b;
	int c = strcmp(x->pub.linkage_name, y->pub.linkage_name);

	if (c)
		return c;
	if (x->rank != y->rank)
		return y->rank - x->rank;
	return (x->pub.vaddr > y->pub.vaddr) - (x->pub.vaddr < y->pub.vaddr);
}

/* Address order; at one address the name to show first: a function before
 * an ifunc, visible version, not local, fewer leading underscores (malloc
 * over __libc_malloc, strcoll_l over __strcoll_l), global over weak,
 * shorter, then by name. */
static int cmp_addr_pref(const void *a, const void *b)
{
	const struct sym_entry *x = a, *y = b;
	int c;

	if (x->pub.vaddr != y->pub.vaddr)
		return (x->pub.vaddr > y->pub.vaddr) - (x->pub.vaddr < y->pub.vaddr);
	if (x->pub.is_ifunc != y->pub.is_ifunc)
		return x->pub.is_ifunc - y->pub.is_ifunc;
	if ((x->rank >= 4) != (y->rank >= 4))
		return (y->rank >= 4) - (x->rank >= 4);
	if (((x->rank & 3) == 0) != ((y->rank & 3) == 0))
		return ((x->rank & 3) == 0) - ((y->rank & 3) == 0);
	c = leading_underscores(x->pub.linkage_name) - leading_underscores(y->pub.linkage_name);
	if (c)
		return c;
	if (x->rank != y->rank)
		return y->rank - x->rank;
	if (x->fragment != y->fragment)
		return x->fragment - y->fragment;
	c = (int)strlen(x->pub.linkage_name) - (int)strlen(y->pub.linkage_name);
	if (c)
		return c;
	return strcmp(x->pub.linkage_name, y->pub.linkage_name);
}

static Elf_Data *find_versym(Elf *elf, size_t dynsym_index)
{
	size_t size = 0;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	if (!elf_rawfile(elf, &size))
		return NULL;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_GNU_versym)
			continue;
		if (sh.sh_link != dynsym_index || sh.sh_offset > size || sh.sh_size > size - sh.sh_offset)
			return NULL;
		return elf_getdata(scn, NULL);
	}
	return NULL;
}

/* Appends the defined functions of one symbol table of elf (the binary's
 * or its debug file's) to l. */
static int read_symtab(Elf *elf, Elf_Scn *scn, struct sym_list *l)
{
	size_t i, count, entsize, size = 0;
	Elf_Data *data, *versym = NULL;
	GElf_Shdr sh;

	if (!gelf_getshdr(scn, &sh) || !elf_rawfile(elf, &size))
		return -ENOEXEC;
	entsize = gelf_fsize(elf, ELF_T_SYM, 1, EV_CURRENT);
	if (entsize == 0 || sh.sh_type == SHT_NOBITS || sh.sh_offset > size ||
	    sh.sh_size > size - sh.sh_offset)
		return -ENOEXEC;
	if (sh.sh_type == SHT_DYNSYM)
		versym = find_versym(elf, elf_ndxscn(scn));
	data = elf_getdata(scn, NULL);
	if (!data)
		return -ENOEXEC;
	count = data->d_size / entsize;
	for (i = 0; i < count; i++) {
		GElf_Sym sym;
		GElf_Versym vs = 0;
		const char *name, *at;
		char *plain = NULL;
		bool hidden = false;
		int type, err;

		if (!gelf_getsym(data, (int)i, &sym))
			break;
		type = GELF_ST_TYPE(sym.st_info);
		if (type != STT_FUNC && type != STT_GNU_IFUNC)
			continue;
		if (sym.st_shndx == SHN_UNDEF || sym.st_value == 0)
			continue;
		if (sym.st_shndx == SHN_ABS || sym.st_shndx == SHN_COMMON)
			continue;
		name = elf_strptr(elf, sh.sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		if (versym && i < versym->d_size / sizeof(GElf_Versym) &&
		    gelf_getversym(versym, (int)i, &vs))
			hidden = vs & 0x8000;
		/* .symtab spells versions into names: "memcpy@@GLIBC_2.14" is
		 * the default memcpy, "memcpy@GLIBC_2.2.5" an old one */
		at = strchr(name, '@');
		if (at && at > name) {
			hidden |= at[1] != '@';
			plain = strndup(name, (size_t)(at - name));
			if (!plain)
				return -ENOMEM;
			name = plain;
		}
		err = sym_list__add(l, name, sym.st_value, sym.st_size, sym.st_shndx,
				    symbol_rank(GELF_ST_BIND(sym.st_info), hidden),
				    type == STT_GNU_IFUNC);
		free(plain);
		if (err)
			return err;
	}
	return 0;
}

/* Every .symtab and .dynsym of elf; *symtab tells whether one was a .symtab. */
static int read_tables(Elf *elf, struct sym_list *l, bool *symtab)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	int err;

	*symtab = false;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		if (!gelf_getshdr(scn, &sh))
			return -ENOEXEC;
		if (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM)
			continue;
		if (sh.sh_type == SHT_SYMTAB)
			*symtab = true;
		err = read_symtab(elf, scn, l);
		if (err)
			return err;
	}
	return 0;
}

static int add_alias(struct sym_entry *to, struct sym_entry *from)
{
	char **grown = realloc(to->pub.aliases, (to->pub.naliases + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	to->pub.aliases = grown;
	to->pub.aliases[to->pub.naliases++] = from->pub.linkage_name;
	from->pub.linkage_name = NULL;
	return 0;
}

/* The name shown: demangled when mangled. */
static int name_entry(struct sym_entry *e)
{
	char *full = demangle(e->pub.linkage_name, true);

	e->pub.name = full ? full : e->pub.linkage_name;
	if (full) {
		e->plain = demangle(e->pub.linkage_name, false);
		if (e->plain && strcmp(e->plain, full) == 0) {
			free(e->plain);
			e->plain = NULL;
		}
	}
	return 0;
}

static int cmp_by_name(const void *a, const void *b)
{
	const struct sym_entry *const *x = a, *const *y = b;

	return strcmp((*x)->pub.linkage_name, (*y)->pub.linkage_name);
}

/* One entry per name, then one per address with the others as aliases. */
static int merge_symbols(struct elf_binary *b, struct sym_list *l)
{
	size_t i, kept;
	int err;

	if (l->n > 1) {
		qsort(l->v, l->n, sizeof(*l->v), cmp_name_rank);
		for (i = 1, kept = 1; i < l->n; i++) {
			if (strcmp(l->v[i].pub.linkage_name, l->v[kept - 1].pub.linkage_name) == 0) {
				entry__release(&l->v[i]);
				continue;
			}
			l->v[kept++] = l->v[i];
		}
		l->n = kept;
		qsort(l->v, l->n, sizeof(*l->v), cmp_addr_pref);
		for (i = 1, kept = 1; i < l->n; i++) {
			struct sym_entry *head = &l->v[kept - 1];

			if (l->v[i].pub.vaddr == head->pub.vaddr &&
			    l->v[i].pub.is_ifunc == head->pub.is_ifunc) {
				err = add_alias(head, &l->v[i]);
				entry__release(&l->v[i]);
				if (err)
					return err;
				continue;
			}
			l->v[kept++] = l->v[i];
		}
		l->n = kept;
	}
	for (i = 0; i < l->n; i++) {
		err = name_entry(&l->v[i]);
		if (err)
			return err;
		/* a function with a public name is not a fragment because of an alias */
		l->v[i].fragment = is_fragment_name(l->v[i].pub.linkage_name, &l->v[i].cold);
	}
	b->syms = l->v;
	b->nsyms = l->n;
	l->v = NULL;
	l->n = l->cap = 0;
	b->by_name = calloc(b->nsyms ? b->nsyms : 1, sizeof(*b->by_name));
	if (!b->by_name)
		return -ENOMEM;
	for (i = 0; i < b->nsyms; i++)
		b->by_name[i] = &b->syms[i];
	qsort(b->by_name, b->nsyms, sizeof(*b->by_name), cmp_by_name);
	for (i = 0; i < b->nsyms; i++)
		elf_binary__place(b, &b->syms[i]);
	for (i = 0; i < b->nsyms; i++)
		if (b->syms[i].pub.is_ifunc)
			ifunc__describe_candidates(b, &b->syms[i]);
	return 0;
}

static int read_symbols(struct elf_binary *b)
{
	struct sym_list l = { 0 };
	bool symtab = false;
	int err;

	go_symbols__detect(b);
	err = read_tables(b->elf, &l, &b->has_symtab);
	if (err)
		goto cleanup;
	b->sym_source = b->has_symtab ? ".symtab" : ".dynsym";
	if (!b->has_symtab) {
		/* stripped: a debug file's .symtab names what .dynsym does not */
		elf_debug_file__open(b);
		if (b->debug_elf) {
			size_t before = l.n;

			err = read_tables(b->debug_elf, &l, &symtab);
			if (err) {
				/* a broken debug file: keep what the binary has */
				while (l.n > before)
					entry__release(&l.v[--l.n]);
				err = 0;
			} else if (symtab) {
				b->sym_source = b->debug_path;
			}
		}
	}
	if (!b->has_symtab && !symtab && b->is_go && go_symbols__read(b, &l) == 0)
		b->sym_source = ".gopclntab";
	err = merge_symbols(b, &l);
cleanup:
	sym_list__free(&l);
	return err;
}

static int cmp_vaddr_key(const void *key, const void *elem)
{
	uint64_t k = *(const uint64_t *)key;
	const struct sym_entry *e = elem;

	return (k > e->pub.vaddr) - (k < e->pub.vaddr);
}

struct sym_entry *elf_binary__at(const struct elf_binary *b, uint64_t vaddr)
{
	struct sym_entry *e;

	if (!b->nsyms)
		return NULL;
	e = bsearch(&vaddr, b->syms, b->nsyms, sizeof(*b->syms), cmp_vaddr_key);
	/* an ifunc and a function may share the address: prefer the function */
	while (e && e > b->syms && e[-1].pub.vaddr == vaddr)
		e--;
	return e;
}

static int cmp_name_key(const void *key, const void *elem)
{
	const struct sym_entry *const *e = elem;

	return strcmp(key, (*e)->pub.linkage_name);
}

struct sym_entry *elf_binary__by_name(const struct elf_binary *b, const char *name)
{
	struct sym_entry **e;

	if (!b->nsyms || !b->by_name)
		return NULL;
	e = bsearch(name, b->by_name, b->nsyms, sizeof(*b->by_name), cmp_name_key);
	return e ? *e : NULL;
}

/* ---- opening ---- */

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

/* Reads the file open at b->fd. */
static int read_file(struct elf_binary *b)
{
	struct stat st;
	size_t size = 0;
	char *image;
	int err;

	if (fstat(b->fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (st.st_size < (off_t)sizeof(Elf32_Ehdr))
		return -ENOEXEC;
	elf_version(EV_CURRENT);
	/* Writable (copy-on-write, never written back): the kernel puts the
	 * int3 of every uprobe on this file -- another tracer's, a previous
	 * run's -- into each read-only private mapping of it, but never into
	 * a writable one, so the code bytes read here are the file's. */
	b->map_size = (size_t)st.st_size;
	b->map = mmap(NULL, b->map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, b->fd, 0);
	if (b->map == MAP_FAILED) {
		b->map = NULL;
		return -errno;
	}
	b->elf = elf_memory(b->map, b->map_size);
	if (!b->elf || elf_kind(b->elf) != ELF_K_ELF)
		return -ENOEXEC;
	image = elf_rawfile(b->elf, &size);
	if (!image || size == 0 || !gelf_getehdr(b->elf, &b->ehdr))
		return -ENOEXEC;
	b->image = (const unsigned char *)image;
	b->image_size = size;
	if (b->ehdr.e_type != ET_EXEC && b->ehdr.e_type != ET_DYN)
		return -ENOEXEC; /* relocatable objects and cores can't be probed */
	err = check_section_headers(b);
	if (err)
		return err;
	err = read_load_segments(b);
	if (err)
		return err;
	if (b->ehdr.e_machine == EM_X86_64 && gelf_getclass(b->elf) == ELFCLASS64) {
		err = x86_decoder__new(uprobe_rules__running(), &b->dec);
		if (err)
			return err;
	}
	return read_symbols(b);
}

static struct elf_binary *binary_new(const char *name, const char *lookup_path)
{
	struct elf_binary *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->fd = -1;
	b->debug_fd = -1;
	b->alt_fd = -1;
	b->lookup_root = IN_ROOT_HOST;
	b->path = strdup(name);
	b->lookup_path = strdup(lookup_path);
	if (!b->path || !b->lookup_path) {
		free(b->path);
		free(b->lookup_path);
		free(b);
		return NULL;
	}
	return b;
}

int elf_binary__open(const char *path, struct elf_binary **out)
{
	struct elf_binary *b;
	int err;

	*out = NULL;
	b = binary_new(path, path);
	if (!b)
		return -ENOMEM;
	b->fd = open(path, O_RDONLY | O_CLOEXEC);
	err = b->fd < 0 ? -errno : read_file(b);
	if (err) {
		elf_binary__free(b);
		return err;
	}
	*out = b;
	return 0;
}

int elf_binary__open_fd(int fd, const char *name, int lookup_root, const char *lookup_path,
			struct elf_binary **out)
{
	struct elf_binary *b;
	int err = 0;

	*out = NULL;
	b = binary_new(name, lookup_path);
	if (!b)
		return -ENOMEM;
	b->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (b->fd < 0)
		err = -errno;
	if (lookup_root != IN_ROOT_HOST && lookup_root < 0)
		b->debug_tried = true; /* no root to look in: no debug file */
	if (!err && lookup_root >= 0) {
		b->lookup_root = fcntl(lookup_root, F_DUPFD_CLOEXEC, 0);
		if (b->lookup_root < 0) {
			b->lookup_root = IN_ROOT_HOST;
			err = -errno;
		}
	}
	if (!err)
		err = read_file(b);
	if (err) {
		elf_binary__free(b);
		return err;
	}
	*out = b;
	return 0;
}

bool elf_binary__has_symtab(const struct elf_binary *b)
{
	return b && b->has_symtab;
}

const char *elf_binary__symbol_source(const struct elf_binary *b)
{
	return b && b->sym_source ? b->sym_source : "none";
}

bool elf_binary__is_shared(const struct elf_binary *b)
{
	return b && b->ehdr.e_type == ET_DYN;
}

const uint8_t *elf_binary__file_bytes(const struct elf_binary *b, uint64_t off, size_t len)
{
	if (!b || off > b->image_size || len > b->image_size - off)
		return NULL;
	return b->image + off;
}

bool elf_binary__is_go(const struct elf_binary *b)
{
	return b && b->is_go;
}

const char *elf_binary__go_version(const struct elf_binary *b)
{
	return b ? b->go_version : NULL;
}

size_t elf_binary__count(const struct elf_binary *b)
{
	return b ? b->nsyms : 0;
}

/* ---- matching ---- */

static bool glob_matches(const struct sym_entry *e, const char *glob);

int elf_binary__match(struct elf_binary *b, const char *glob, const struct func_symbol ***out)
{
	struct match_result *r = NULL;
	bool fragments = glob && strchr(glob, '.') != NULL;
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

		if (e->fragment && !fragments)
			continue;
		if (!glob_matches(e, glob))
			continue;
		if (!e->dwarf_done)
			elf_dwarf__fill(b, e);
		if (!e->exits_done)
			func_exits__fill(b, e);
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
	elf_dwarf__free(b);
	elf_debug_file__close(b);
	for (i = 0; i < b->nsyms; i++)
		entry__release(&b->syms[i]);
	free(b->syms);
	free(b->by_name);
	free(b->rel32_targets);
	x86_decoder__free(b->dec);
	free(b->go_version);
	free(b->loads);
	if (b->elf)
		elf_end(b->elf);
	if (b->map)
		munmap(b->map, b->map_size);
	if (b->fd >= 0)
		close(b->fd);
	if (b->lookup_root >= 0)
		close(b->lookup_root);
	free(b->lookup_path);
	free(b->path);
	free(b);
}

/* ---- names: globs and the closest names ---- */

static bool glob_matches(const struct sym_entry *e, const char *glob)
{
	const struct func_symbol *s = &e->pub;

	if (fnmatch(glob, s->linkage_name, 0) == 0)
		return true;
	if (s->name != s->linkage_name && fnmatch(glob, s->name, 0) == 0)
		return true;
	if (e->plain && fnmatch(glob, e->plain, 0) == 0)
		return true;
	for (size_t i = 0; i < s->naliases; i++)
		if (fnmatch(glob, s->aliases[i], 0) == 0)
			return true;
	return false;
}
