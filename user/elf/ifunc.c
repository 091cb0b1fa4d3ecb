// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* GNU ifuncs (memcpy, strlen... in glibc): the symbol's address is a
 * resolver, run by the loader, that returns the implementation for this CPU
 * (__memmove_avx_unaligned_erms). A uprobe on the resolver never fires
 * after start, so the function is probed at the implementation, found in a
 * live process: the loader wrote the resolver's result into every slot of
 * an R_X86_64_IRELATIVE relocation whose addend is that resolver (glibc
 * calls its own ifuncs through such slots), and /proc/PID/mem reads it.
 * Without such a process (or a slot) the function is skipped, naming the
 * implementations its resolver can pick (the addresses it loads). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "elf_internal.h"
#include "maps_identity.h"

#ifndef R_X86_64_IRELATIVE
#define R_X86_64_IRELATIVE 37
#endif

#define MAX_CANDIDATES 16
#define RESOLVER_PEEK 4096

void ifunc__describe_candidates(struct elf_binary *b, struct sym_entry *e)
{
	uint64_t refs[64], off, avail;
	size_t n, len = 0, cap = 0, shown = 0;
	char *list = NULL;
	bool exec;

	if (!b->dec || !elf_binary__vaddr_to_offset(b, e->pub.vaddr, e->shndx, &off, &avail, &exec) ||
	    !exec || off >= b->image_size)
		return;
	n = e->pub.size ? e->pub.size : RESOLVER_PEEK;
	if (n > avail)
		n = avail;
	if (n > b->image_size - off)
		n = b->image_size - off;
	n = x86_decoder__code_refs(b->dec, b->image + off, n, e->pub.vaddr, refs, 64);
	for (size_t i = 0; i < n && shown < MAX_CANDIDATES; i++) {
		const struct sym_entry *c = elf_binary__at(b, refs[i]);
		const char *name;
		size_t need;
		bool dup = false;

		if (!c || c->pub.is_ifunc || c == e || c->pub.skip == SKIP_NO_CODE)
			continue;
		name = c->pub.name;
		for (size_t j = 0; j < i; j++)
			dup |= refs[j] == refs[i];
		if (dup)
			continue;
		need = len + strlen(name) + 3;
		if (need > cap) {
			char *grown = realloc(list, need * 2);

			if (!grown)
				break;
			list = grown;
			cap = need * 2;
		}
		len += (size_t)sprintf(list + len, "%s%s", shown ? ", " : "", name);
		shown++;
	}
	free(e->pub.ifunc_candidates);
	e->pub.ifunc_candidates = list;
	if (list)
		e->pub.cost_reason = "GNU ifunc: the implementation is chosen at load time; "
				     "trace a candidate by name (-l -v lists them)";
}

/* The load base of b in process pid: -ENOENT when it does not map it. The
 * loader maps the code segment executable; other mappings of the file (a
 * reader's mmap, like libelf's in this very process) are not. */
static int load_base(const struct elf_binary *b, pid_t pid, uint64_t *base)
{
	char path[64], line[512];
	struct maps_identity id;
	struct stat st;
	FILE *f;
	int err = -ENOENT;

	if (fstat(b->fd, &st) < 0)
		return -errno;
	maps_identity__of(b->fd, &st, &id);
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (err && fgets(line, sizeof(line), f)) {
		unsigned long long start, end, pgoff, ino;
		unsigned int maj, min;
		char perms[8];

		if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu", &start, &end, perms, &pgoff, &maj,
			   &min, &ino) != 7)
			continue;
		if (!maps_identity__is(&id, maj, min, ino) || perms[2] != 'x')
			continue;
		for (size_t i = 0; i < b->nloads; i++) {
			const GElf_Phdr *ph = &b->loads[i];
			uint64_t seg_off = ph->p_offset & ~0xfffULL, seg_vaddr = ph->p_vaddr & ~0xfffULL;

			if (!(ph->p_flags & PF_X) || pgoff < seg_off ||
			    pgoff - seg_off >= ph->p_filesz + (ph->p_offset - seg_off))
				continue;
			*base = start - (seg_vaddr + (pgoff - seg_off));
			err = 0;
			break;
		}
	}
	fclose(f);
	return err;
}

/* Sets e (an ifunc) to be probed at impl. */
static int use_implementation(struct elf_binary *b, struct sym_entry *e, const struct sym_entry *impl)
{
	char *name = strdup(impl->pub.name);

	if (!name)
		return -ENOMEM;
	free(e->pub.ifunc_impl);
	e->pub.ifunc_impl = name;
	e->pub.attach_offset = impl->pub.attach_offset;
	e->pub.skipped_endbr64 = impl->pub.skipped_endbr64;
	e->pub.cost = impl->pub.cost;
	e->pub.skip = impl->pub.skip;
	e->pub.cost_reason = impl->pub.skip == SKIP_NONE
				     ? "GNU ifunc: probed at the implementation the process uses"
				     : impl->pub.cost_reason;
	if (e->exits_done)
		func_exits__fill(b, e);
	return 0;
}

int elf_binary__resolve_ifuncs(struct elf_binary *b, pid_t pid)
{
	char mem_path[64];
	uint64_t base;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	int resolved = 0, fd = -1, err;

	if (!b)
		return -EINVAL;
	if (pid <= 0)
		pid = getpid();
	err = load_base(b, pid, &base);
	if (err)
		return err;
	snprintf(mem_path, sizeof(mem_path), "/proc/%d/mem", (int)pid);
	fd = open(mem_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	while ((scn = elf_nextscn(b->elf, scn)) != NULL) {
		Elf_Data *data;
		size_t count;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || sh.sh_entsize == 0 ||
		    sh.sh_offset > b->image_size || sh.sh_size > b->image_size - sh.sh_offset)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		count = data->d_size / sh.sh_entsize;
		for (size_t i = 0; i < count; i++) {
			struct sym_entry *e, *impl;
			uint64_t slot;
			GElf_Rela r;

			if (!gelf_getrela(data, (int)i, &r) ||
			    GELF_R_TYPE(r.r_info) != R_X86_64_IRELATIVE)
				continue;
			e = elf_binary__at(b, (uint64_t)r.r_addend);
			/* the function at the address may come first: find the ifunc */
			while (e && e < b->syms + b->nsyms && e->pub.vaddr == (uint64_t)r.r_addend &&
			       !e->pub.is_ifunc)
				e++;
			if (!e || e >= b->syms + b->nsyms || !e->pub.is_ifunc ||
			    e->pub.vaddr != (uint64_t)r.r_addend || e->pub.ifunc_impl)
				continue;
			if (pread(fd, &slot, sizeof(slot), (off_t)(base + r.r_offset)) !=
			    (ssize_t)sizeof(slot))
				continue;
			impl = slot >= base ? elf_binary__at(b, slot - base) : NULL;
			if (!impl || impl->pub.is_ifunc)
				continue;
			err = use_implementation(b, e, impl);
			if (err)
				goto cleanup;
			resolved++;
		}
	}
	/* memcpy and memmove may share one implementation: say so */
	for (size_t i = 0; i < b->nsyms; i++) {
		struct sym_entry *e = &b->syms[i];

		if (!e->pub.is_ifunc || !e->pub.ifunc_impl || e->pub.skip != SKIP_NONE)
			continue;
		for (size_t j = 0; j < b->nsyms; j++) {
			const struct sym_entry *o = &b->syms[j];

			if (o != e && o->pub.is_ifunc && o->pub.ifunc_impl &&
			    o->pub.attach_offset == e->pub.attach_offset) {
				e->pub.cost_reason = "GNU ifunc: probed at the implementation the process "
						     "uses, which another ifunc resolves to as well: its "
						     "calls count here too";
				break;
			}
		}
	}
	err = resolved;
cleanup:
	close(fd);
	return err;
}
