// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf_raw.h"
#include "python_interp.h"

/* File offset of a link-time address, through the PT_LOAD segment holding
 * it; 0 when none does. */
/* The python provider's probes from .note.stapsdt (SystemTap SDT v3 notes:
 * pc, base, semaphore, then "provider\0name\0args\0"). */
static void read_usdt_notes(Elf *elf, struct python_interp *in)
{
	GElf_Shdr sh, base_sh;
	Elf_Scn *scn = elf_raw__section(elf, ".note.stapsdt", &sh);
	Elf_Scn *base = elf_raw__section(elf, ".stapsdt.base", &base_sh);
	Elf_Data *data;
	size_t off = 0, name_off, desc_off;
	GElf_Nhdr nh;

	if (!scn || !(data = elf_getdata(scn, NULL)))
		return;
	while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		const char *desc = (const char *)data->d_buf + desc_off;
		const char *provider, *probe;
		struct usdt_site *site = NULL;
		uint64_t a[3];

		if (nh.n_type != 3 || nh.n_namesz != 8 || nh.n_descsz < sizeof(a) + 2 ||
		    memcmp((const char *)data->d_buf + name_off, "stapsdt", 8))
			continue;
		memcpy(a, desc, sizeof(a));
		provider = desc + sizeof(a);
		probe = memchr(provider, 0, nh.n_descsz - sizeof(a));
		if (!probe || strcmp(provider, "python"))
			continue;
		probe++;
		if (probe >= desc + nh.n_descsz || !memchr(probe, 0, desc + nh.n_descsz - probe))
			continue;
		if (strcmp(probe, "function__entry") == 0)
			site = &in->entry;
		else if (strcmp(probe, "function__return") == 0)
			site = &in->ret;
		else if (strcmp(probe, "line") == 0)
			site = &in->line;
		else if (strcmp(probe, "audit") == 0 && a[2])
			site = &in->idle;
		if (!site)
			continue;
		/* prelinked files: the note's base is where .stapsdt.base was */
		if (base && a[1])
			a[0] += base_sh.sh_addr - a[1];
		site->found = true;
		site->addr = a[0];
		site->offset = elf_raw__file_offset(elf, a[0], 1);
		site->sema_offset = a[2] ? elf_raw__file_offset(elf, a[2], 1) : 0;
	}
}

static int read_at(int fd, uint64_t offset, void *buf, size_t len)
{
	return offset && pread(fd, buf, len, offset) == (ssize_t)len ? 0 : -EIO;
}

uint64_t decode_rip_load(const uint8_t *code, size_t len, uint64_t addr)
{
	static const uint8_t endbr64[] = { 0xf3, 0x0f, 0x1e, 0xfa };
	int32_t disp;

	if (len >= 4 && memcmp(code, endbr64, 4) == 0) {
		code += 4;
		len -= 4;
		addr += 4;
	}
	/* REX.W 8B /r with ModRM 00 reg 101: mov reg64, [rip + disp32] */
	if (len < 7 || (code[0] & 0xfb) != 0x48 || code[1] != 0x8b || (code[2] & 0xc7) != 0x05)
		return 0;
	memcpy(&disp, code + 3, sizeof(disp));
	return addr + 7 + (int64_t)disp;
}

/* The current thread state: in 3.11 a global, _PyRuntime.gilstate.tstate_current,
 * which PyThreadState_Get() loads with its first instruction. */
static void find_tstate(Elf *elf, int fd, struct python_interp *in)
{
	GElf_Sym sym;
	uint8_t code[16];

	if ((in->version >> 16) != 0x030b)
		return; /* thread-state offsets known for 3.11 only */
	if (elf_raw__symbol(elf, "PyThreadState_Get", &sym) &&
	    !read_at(fd, elf_raw__file_offset(elf, sym.st_value, 1), code, sizeof(code))) {
		in->tstate_addr = decode_rip_load(code, sizeof(code), sym.st_value);
		in->tstate_how = "decoded from PyThreadState_Get";
	}
	if (!in->tstate_addr && elf_raw__symbol(elf, "_PyRuntime", &sym)) {
		in->tstate_addr = sym.st_value + 576; /* offsetof gilstate.tstate_current, 3.11 */
		in->tstate_how = "_PyRuntime + 576 (3.11 layout)";
	}
}

bool python_interp__needs_line_semaphore(const struct python_interp *in)
{
	return (in->version >> 16) == 0x030b;
}

bool python_interp__has_usdt(const char *path)
{
	struct python_interp *in = calloc(1, sizeof(*in));
	Elf *elf = NULL;
	bool found = false;
	int fd;

	if (!in)
		return false;
	elf_version(EV_CURRENT);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		elf = elf_begin(fd, ELF_C_READ, NULL);
		if (elf && elf_kind(elf) == ELF_K_ELF)
			read_usdt_notes(elf, in);
		found = in->entry.found && in->ret.found;
		elf_end(elf);
		close(fd);
	}
	free(in);
	return found;
}

int python_interp__inspect(const char *path, const char *name, struct python_interp *in)
{
	Elf *elf = NULL;
	GElf_Sym sym;
	uint32_t version;
	int fd, err;

	memset(in, 0, sizeof(*in));
	snprintf(in->path, sizeof(in->path), "%s", path);
	if (!name)
		name = path;
	elf_version(EV_CURRENT);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		fprintf(stderr, "spanprobe: can't open the interpreter %s: %s\n", name, strerror(errno));
		return err;
	}
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		err = -ENOEXEC;
		fprintf(stderr, "spanprobe: %s is not an ELF file (give the interpreter binary, "
			"e.g. /usr/bin/python3.11, not a script or wrapper)\n", name);
		goto cleanup;
	}
	read_usdt_notes(elf, in);
	if (!in->entry.found || !in->ret.found) {
		err = -ENOENT;
		fprintf(stderr, "spanprobe: %s has no python:function__entry/function__return USDT "
			"probes (use a CPython built --with-dtrace, e.g. Debian's /usr/bin/python3.11; "
			"check with: readelf -n %s)\n", name, name);
		goto cleanup;
	}
	if (elf_raw__symbol(elf, "Py_Version", &sym) &&
	    !read_at(fd, elf_raw__file_offset(elf, sym.st_value, 1), &version, sizeof(version)))
		in->version = version;
	find_tstate(elf, fd, in);
	if (python_interp__needs_line_semaphore(in) && (!in->line.sema_offset || !in->idle.found)) {
		err = -ENOENT;
		fprintf(stderr, "spanprobe: %s is CPython 3.11 but lacks the line and audit USDT "
			"probes needed to see calls made from Python code\n", name);
		goto cleanup;
	}
	err = 0;
cleanup:
	elf_end(elf);
	close(fd);
	return err;
}
