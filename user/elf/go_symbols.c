// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Go binaries: recognising one, its Go version, and its functions from the
 * runtime's own table (.gopclntab), which `go build -ldflags=-s` keeps when
 * it drops .symtab: the runtime needs it for stack traces and GC.
 *
 * pclntab layout since Go 1.18 (runtime/symtab.go, pcHeader; magic
 * 0xfffffff0 for 1.18-1.19, 0xfffffff1 since 1.20, same layout):
 *   u32 magic; u8 pad1, pad2 (0); u8 minLC; u8 ptrSize;
 *   then ptrSize words: nfunc, nfiles, textStart, funcnameOffset, cuOffset,
 *   filetabOffset, pctabOffset, pclnOffset.
 * At pclnOffset: nfunc+1 pairs {u32 entryOff, u32 funcOff} sorted by entry,
 * entryOff relative to textStart, the last one the end of the text. At
 * pclnOffset+funcOff a _func starting {u32 entryOff, i32 nameOff}, the name
 * NUL-terminated at funcnameOffset+nameOff. A function's size is the next
 * entry minus its own. Older tables (Go 1.2-1.17) are not read.
 *
 * The buildinfo (.go.buildinfo, Go 1.18+ "inline strings" form): 14 bytes
 * "\xff Go buildinf:", u8 ptrSize, u8 flags (bit 1: inline), padding to 32,
 * then a uvarint length and the version ("go1.26.0"). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "elf_internal.h"

#define GO_MAGIC_118 0xfffffff0u
#define GO_MAGIC_120 0xfffffff1u

static uint64_t read_le(const unsigned char *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = n; i > 0; i--)
		v = (v << 8) | p[i - 1];
	return v;
}

char *go_buildinfo_version(const unsigned char *data, size_t size)
{
	static const char magic[] = "\xff Go buildinf:";
	uint64_t len = 0;
	size_t i = 32;
	int shift = 0;
	char *v;

	if (!data || size < 33 || memcmp(data, magic, 14) != 0 || !(data[15] & 2))
		return NULL;
	for (; i < size && shift < 64; i++, shift += 7) {
		len |= (uint64_t)(data[i] & 0x7f) << shift;
		if (!(data[i] & 0x80))
			break;
	}
	if (i >= size || len == 0 || len > 64 || len > size - i - 1)
		return NULL;
	v = strndup((const char *)data + i + 1, (size_t)len);
	if (v && strncmp(v, "go", 2) != 0 && strncmp(v, "devel", 5) != 0) {
		free(v);
		return NULL;
	}
	return v;
}

/* The bytes of a section that lie in the file, or NULL. */
static const unsigned char *section_bytes(const struct elf_binary *b, const char *name,
					  GElf_Shdr *sh)
{
	if (!elf_raw__section(b->elf, name, sh) || sh->sh_type == SHT_NOBITS ||
	    sh->sh_offset > b->image_size || sh->sh_size > b->image_size - sh->sh_offset)
		return NULL;
	return b->image + sh->sh_offset;
}

void go_symbols__detect(struct elf_binary *b)
{
	const unsigned char *info;
	GElf_Shdr sh;

	info = section_bytes(b, ".go.buildinfo", &sh);
	if (info) {
		b->is_go = true;
		b->go_version = go_buildinfo_version(info, sh.sh_size);
	}
	if (elf_raw__section(b->elf, ".note.go.buildid", &sh) ||
	    elf_raw__section(b->elf, ".gopclntab", &sh))
		b->is_go = true;
}

struct pcln {
	const unsigned char *p; /* the table */
	size_t size;
	unsigned ptr;
	uint64_t nfunc, text, names, funcs;
};

/* Checks a pcHeader at p (size bytes available). */
static bool pcln_header(const unsigned char *p, size_t size, struct pcln *t)
{
	uint32_t magic;

	if (size < 8 + 8 * 8)
		return false;
	magic = (uint32_t)read_le(p, 4);
	if ((magic != GO_MAGIC_118 && magic != GO_MAGIC_120) || p[4] || p[5] ||
	    (p[6] != 1 && p[6] != 2 && p[6] != 4) || p[7] != 8)
		return false;
	t->p = p;
	t->size = size;
	t->ptr = p[7];
	t->nfunc = read_le(p + 8, 8);
	t->text = read_le(p + 8 + 2 * 8, 8);
	t->names = read_le(p + 8 + 3 * 8, 8);
	t->funcs = read_le(p + 8 + 7 * 8, 8);
	return t->names < size && t->funcs < size && t->nfunc > 0 &&
	       t->nfunc < (size - t->funcs) / 8;
}

/* .gopclntab, or (PIE builds keep it inside .data.rel.ro) a header found
 * by its magic in a read-only data section. */
static bool find_pcln(const struct elf_binary *b, struct pcln *t)
{
	static const char *const holders[] = { ".data.rel.ro", ".rodata" };
	const unsigned char *p;
	GElf_Shdr sh;

	p = section_bytes(b, ".gopclntab", &sh);
	if (p)
		return pcln_header(p, sh.sh_size, t);
	for (size_t h = 0; h < sizeof(holders) / sizeof(holders[0]); h++) {
		p = section_bytes(b, holders[h], &sh);
		for (size_t off = 0; p && off + 72 <= sh.sh_size; off += 8)
			if ((p[off] == 0xf0 || p[off] == 0xf1) && p[off + 1] == 0xff &&
			    p[off + 2] == 0xff && p[off + 3] == 0xff &&
			    pcln_header(p + off, sh.sh_size - off, t))
				return true;
	}
	return false;
}

int go_symbols__read(struct elf_binary *b, struct sym_list *out)
{
	struct pcln t;
	GElf_Shdr text;
	uint64_t i;
	int err;

	if (!find_pcln(b, &t))
		return -ENOEXEC;
	if (t.text == 0) {
		/* a PIE's textStart is filled by a relocation: runtime.text is .text */
		if (!elf_raw__section(b->elf, ".text", &text))
			return -ENOEXEC;
		t.text = text.sh_addr;
	}
	for (i = 0; i < t.nfunc; i++) {
		const unsigned char *ft = t.p + t.funcs + i * 8;
		uint32_t entry = (uint32_t)read_le(ft, 4), funcoff = (uint32_t)read_le(ft + 4, 4);
		uint32_t next = (uint32_t)read_le(ft + 8, 4);
		uint64_t fpos = t.funcs + funcoff;
		const char *name;
		int32_t nameoff;
		size_t room;

		if (fpos > t.size - 8 || next < entry)
			continue;
		nameoff = (int32_t)read_le(t.p + fpos + 4, 4);
		if (nameoff < 0 || t.names + (uint64_t)nameoff >= t.size)
			continue;
		name = (const char *)t.p + t.names + nameoff;
		room = t.size - (t.names + (uint64_t)nameoff);
		if (!memchr(name, '\0', room < 4096 ? room : 4096) || !*name)
			continue;
		err = sym_list__add(out, name, t.text + entry, next - entry, SHN_UNDEF, 6, false);
		if (err)
			return err;
	}
	return 0;
}
