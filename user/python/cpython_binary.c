// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A CPython ELF file's version, evaluator and layout; see cpython_binary.h.
 *
 * Version: Py_Version (exported from 3.11, PY_VERSION_HEX); else the
 * version string Py_GetVersion() formats (found by decoding the function:
 * the first rip-relative address it loads that points at "3.X.Y..."); else
 * the soname or file name (libpython3.X.so, python3.X). The string and the
 * name must agree when both are there.
 *
 * interp->eval_frame: its offset is read from the first instruction of the
 * exported _PyInterpreterState_GetEvalFrameFunc (3.9+), decoded with
 * Capstone, and used when the pattern is the expected load; else the
 * table's. 3.13's _PyRuntime starts with _Py_DebugOffsets, read from the
 * file's initialised data. */
#include <capstone/capstone.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpython_binary.h"
#include "elf_raw.h"

struct elf_file {
	int fd;
	Elf *elf;
};

/* File offset of a link-time address inside a PT_LOAD's file bytes; 0 when
 * none holds it (.bss, or outside the file). */
static uint64_t lowest_load_vaddr(struct elf_file *f)
{
	uint64_t low = UINT64_MAX;
	size_t n;

	if (elf_getphdrnum(f->elf, &n))
		return 0;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(f->elf, i, &ph) && ph.p_type == PT_LOAD && ph.p_vaddr < low)
			low = ph.p_vaddr;
	}
	return low == UINT64_MAX ? 0 : low & ~0xfffULL;
}

static int read_vaddr(struct elf_file *f, uint64_t vaddr, void *buf, size_t len)
{
	uint64_t off = elf_raw__file_offset(f->elf, vaddr, len);

	return off && pread(f->fd, buf, len, off) == (ssize_t)len ? 0 : -EIO;
}

/* The code of a function symbol, at most len bytes. */
static int read_function(struct elf_file *f, const char *name, uint8_t *buf, size_t *len,
			 uint64_t *addr)
{
	GElf_Sym sym;

	if (!elf_raw__symbol(f->elf, name, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC)
		return -ENOENT;
	if (sym.st_size && sym.st_size < *len)
		*len = sym.st_size;
	*addr = sym.st_value;
	return read_vaddr(f, sym.st_value, buf, *len);
}

bool cpython_binary__parse_version(const char *s, unsigned *major, unsigned *minor)
{
	char *end;
	unsigned long a, b;

	if (s[0] < '0' || s[0] > '9')
		return false;
	a = strtoul(s, &end, 10);
	if (*end != '.' || end[1] < '0' || end[1] > '9')
		return false;
	b = strtoul(end + 1, &end, 10);
	if (*end != '.' || a > 9 || b > 99)
		return false;
	*major = a;
	*minor = b;
	return true;
}

int cpython_binary__decode_field_load(const uint8_t *code, size_t len, uint64_t addr,
				      int32_t *off)
{
	csh cs;
	cs_insn *insn = NULL;
	size_t n, i = 0;
	int err = -ENOENT;

	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
		return -ENOMEM;
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	n = cs_disasm(cs, code, len, addr, 2, &insn);
	if (n > 0 && insn[0].id == X86_INS_ENDBR64)
		i = 1;
	if (i < n) {
		const cs_x86 *x = &insn[i].detail->x86;

		if (insn[i].id == X86_INS_MOV && x->op_count == 2 && x->operands[0].type == X86_OP_REG &&
		    x->operands[0].size == 8 && x->operands[1].type == X86_OP_MEM &&
		    x->operands[1].mem.base == X86_REG_RDI &&
		    x->operands[1].mem.index == X86_REG_INVALID &&
		    x->operands[1].mem.segment == X86_REG_INVALID && x->operands[1].mem.disp > 0 &&
		    x->operands[1].mem.disp < (1 << 20)) {
			*off = (int32_t)x->operands[1].mem.disp;
			err = 0;
		}
	}
	if (n)
		cs_free(insn, n);
	cs_close(&cs);
	return err;
}

/* The version string Py_GetVersion() formats: PY_VERSION, or a format with
 * it folded in ("3.10.13 (%.80s) %.80s"), loaded rip-relative. */
static bool version_from_get_version(struct elf_file *f, unsigned *major, unsigned *minor)
{
	uint8_t code[256];
	size_t len = sizeof(code), n;
	uint64_t addr;
	cs_insn *insn = NULL;
	csh cs;
	bool found = false;

	if (read_function(f, "Py_GetVersion", code, &len, &addr))
		return false;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
		return false;
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	n = cs_disasm(cs, code, len, addr, 64, &insn);
	for (size_t i = 0; i < n && !found; i++) {
		const cs_x86 *x = &insn[i].detail->x86;
		char s[16] = "";

		if (insn[i].id == X86_INS_RET)
			break;
		if (insn[i].id != X86_INS_LEA || x->op_count != 2 ||
		    x->operands[1].type != X86_OP_MEM || x->operands[1].mem.base != X86_REG_RIP)
			continue;
		if (read_vaddr(f, insn[i].address + insn[i].size + x->operands[1].mem.disp, s,
			       sizeof(s) - 1))
			continue;
		found = cpython_binary__parse_version(s, major, minor);
	}
	if (n)
		cs_free(insn, n);
	cs_close(&cs);
	return found;
}

/* "libpython3.10.so.1.0", "libpython3.13t.so", "python3.10": major.minor,
 * and whether a 't' (free-threaded ABI) follows. */
static bool version_from_name(const char *name, unsigned *major, unsigned *minor, bool *ft)
{
	const char *base = strrchr(name, '/'), *p;

	base = base ? base + 1 : name;
	p = strncmp(base, "libpython", 9) == 0 ? base + 9
	    : strncmp(base, "python", 6) == 0  ? base + 6
					       : NULL;
	if (!p || p[0] < '0' || p[0] > '9' || p[1] != '.')
		return false;
	*major = p[0] - '0';
	*minor = strtoul(p + 2, (char **)&p, 10);
	*ft = *p == 't';
	return true;
}

static const char *soname(struct elf_file *f)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(f->elf, scn))) {
		Elf_Data *data;
		GElf_Dyn dyn;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		for (size_t i = 0; data && i < sh.sh_size / sh.sh_entsize; i++)
			if (gelf_getdyn(data, i, &dyn) && dyn.d_tag == DT_SONAME)
				return elf_strptr(f->elf, sh.sh_link, dyn.d_un.d_val);
	}
	return NULL;
}

static int find_version(struct elf_file *f, struct cpython_binary *b)
{
	const char *so = soname(f);
	unsigned smaj = 0, smin = 0, nmaj = 0, nmin = 0;
	bool ft = false, from_string, from_name;
	GElf_Sym sym;
	uint32_t hex;

	from_name = version_from_name(so ? so : b->name, &nmaj, &nmin, &ft);
	if (ft) {
		fprintf(stderr, "spanprobe: %s is a free-threaded CPython build (%s): not supported "
			"(its objects have another layout); use the default build\n", b->name,
			so ? so : "its name says so");
		return -ENOTSUP;
	}
	if (elf_raw__symbol(f->elf, "Py_Version", &sym) &&
	    !read_vaddr(f, sym.st_value, &hex, sizeof(hex)) && (hex >> 24) >= 3) {
		b->version_hex = hex;
		b->major = hex >> 24;
		b->minor = (hex >> 16) & 0xff;
		b->version_how = "Py_Version";
		return 0;
	}
	from_string = version_from_get_version(f, &smaj, &smin);
	if (from_string && from_name && (smaj != nmaj || smin != nmin)) {
		fprintf(stderr, "spanprobe: %s: Py_GetVersion says %u.%u but its name says %u.%u; "
			"can't tell which CPython layout applies\n", b->name, smaj, smin, nmaj, nmin);
		return -ENOENT;
	}
	if (from_string) {
		b->major = smaj;
		b->minor = smin;
		b->version_how = "the string Py_GetVersion formats";
	} else if (from_name) {
		b->major = nmaj;
		b->minor = nmin;
		b->version_how = so ? "the soname" : "the file name";
	} else if (!elf_raw__symbol(f->elf, "_PyEval_EvalFrameDefault", &sym)) {
		fprintf(stderr, "spanprobe: %s defines no _PyEval_EvalFrameDefault: not a CPython "
			"interpreter, or one whose interpreter is in the libpython3.X.so it loads "
			"(give that file, or trace by PID)\n", b->name);
		return -ENOENT;
	} else {
		fprintf(stderr, "spanprobe: %s: can't tell its CPython version (no Py_Version, no "
			"version string in Py_GetVersion, no libpython3.X/python3.X name)\n", b->name);
		return -ENOENT;
	}
	return 0;
}

/* 3.13: the offsets the interpreter publishes at the start of _PyRuntime. */
static int apply_debug_offsets(struct elf_file *f, struct cpython_binary *b)
{
	size_t len = cpython_layout__debug_offsets_size();
	uint8_t *buf = malloc(len);
	bool ft = false;
	int err;

	if (!buf)
		return -ENOMEM;
	err = read_vaddr(f, b->runtime_addr, buf, len);
	if (!err)
		err = cpython_layout__apply_debug_offsets(&b->layout, buf, len, b->version_hex, &ft);
	free(buf);
	if (ft) {
		fprintf(stderr, "spanprobe: %s is a free-threaded CPython build (_Py_DebugOffsets "
			"says so): not supported (its objects have another layout); use the default "
			"build\n", b->name);
		return -ENOTSUP;
	}
	if (err) {
		fprintf(stderr, "spanprobe: %s: CPython %u.%u's _PyRuntime does not start with "
			"usable _Py_DebugOffsets (%s); is it a modified build?\n", b->name, b->major,
			b->minor, strerror(-err));
		return err == -ENOMEM ? err : -ENOTSUP;
	}
	b->layout_how = "table, with _Py_DebugOffsets from _PyRuntime";
	return 0;
}

static void find_eval_frame_offset(struct elf_file *f, struct cpython_binary *b)
{
	uint8_t code[32];
	size_t len = sizeof(code);
	uint64_t addr;
	int32_t off;

	if (read_function(f, "_PyInterpreterState_GetEvalFrameFunc", code, &len, &addr)) {
		b->eval_frame_how = "table (no _PyInterpreterState_GetEvalFrameFunc before 3.9)";
		return;
	}
	if (cpython_binary__decode_field_load(code, len, addr, &off)) {
		b->eval_frame_how = "table (_PyInterpreterState_GetEvalFrameFunc does not start "
				    "with the expected load)";
		return;
	}
	b->eval_frame_how = off == b->layout.interp_eval_frame
				    ? "decoded from _PyInterpreterState_GetEvalFrameFunc (= table)"
				    : "decoded from _PyInterpreterState_GetEvalFrameFunc (table differs)";
	b->layout.interp_eval_frame = off;
}

/* PyTypeObject's tp_dealloc: after the variable-size header (refcount,
 * type, size) and tp_name, tp_basicsize, tp_itemsize, in 3.8-3.13. */
#define TYPE_TP_DEALLOC 48

/* code_dealloc, where every code object is freed: by its name where the
 * file keeps local symbols, else as PyCode_Type's tp_dealloc (the slot's
 * bytes in a fixed-address file, its relocation in a position-independent
 * one). Not finding it costs speed only (python_eval.bpf.c). */
static void find_code_dealloc(struct elf_file *f, struct cpython_binary *b)
{
	uint64_t addr = 0, slot = b->code_type_addr + TYPE_TP_DEALLOC;
	GElf_Sym sym;

	if (elf_raw__symbol(f->elf, "code_dealloc", &sym) && GELF_ST_TYPE(sym.st_info) == STT_FUNC) {
		addr = sym.st_value;
		b->code_dealloc_how = "code_dealloc, by its symbol";
	} else if ((!read_vaddr(f, slot, &addr, sizeof(addr)) && addr) ||
		   elf_raw__relative_target(f->elf, slot, &addr)) {
		b->code_dealloc_how = "code_dealloc, as PyCode_Type's tp_dealloc";
	}
	b->code_dealloc_offset = addr ? elf_raw__code_file_offset(f->elf, addr, 1) : 0;
	b->code_dealloc_addr = b->code_dealloc_offset ? addr : 0;
	if (!b->code_dealloc_offset)
		b->code_dealloc_how = "not found (no code_dealloc symbol, no PyCode_Type.tp_dealloc "
				      "in the file's code): each call also reads its code object's names";
}

int cpython_binary__inspect(const char *path, const char *name, struct cpython_binary *b)
{
	struct elf_file f = { .fd = -1 };
	const char *why;
	GElf_Sym sym;
	int err;

	memset(b, 0, sizeof(*b));
	snprintf(b->path, sizeof(b->path), "%s", path);
	snprintf(b->name, sizeof(b->name), "%s", name ? name : path);
	elf_version(EV_CURRENT);
	f.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f.fd < 0) {
		err = -errno;
		fprintf(stderr, "spanprobe: can't open the Python interpreter %s: %s\n", b->name,
			strerror(errno));
		return err == -ENOENT ? err : -EIO;
	}
	f.elf = elf_begin(f.fd, ELF_C_READ, NULL);
	if (!f.elf || elf_kind(f.elf) != ELF_K_ELF) {
		err = -ENOEXEC;
		fprintf(stderr, "spanprobe: %s is not an ELF file (give the interpreter binary or "
			"its libpython3.X.so, not a script or wrapper)\n", b->name);
		goto cleanup;
	}
	err = find_version(&f, b);
	if (err)
		goto cleanup;
	why = cpython_layout__unsupported(b->major, b->minor);
	if (why) {
		err = -ENOTSUP;
		fprintf(stderr, "spanprobe: %s is CPython %u.%u: not supported: %s\n", b->name,
			b->major, b->minor, why);
		goto cleanup;
	}
	if (!elf_raw__symbol(f.elf, "_PyEval_EvalFrameDefault", &sym) ||
	    GELF_ST_TYPE(sym.st_info) != STT_FUNC) {
		err = -ENOENT;
		fprintf(stderr, "spanprobe: %s defines no _PyEval_EvalFrameDefault: the interpreter "
			"is in the libpython3.%u.so it loads; give that file (or trace by PID)\n",
			b->name, b->minor);
		goto cleanup;
	}
	b->eval_addr = sym.st_value;
	b->eval_size = sym.st_size;
	b->eval_offset = elf_raw__file_offset(f.elf, sym.st_value, 1);
	b->load_vaddr = lowest_load_vaddr(&f);
	if (elf_raw__symbol(f.elf, "_PyRuntime", &sym))
		b->runtime_addr = sym.st_value;
	if (elf_raw__symbol(f.elf, "PyCode_Type", &sym))
		b->code_type_addr = sym.st_value;
	if (!b->eval_offset || !b->runtime_addr || !b->code_type_addr) {
		err = -ENOENT;
		fprintf(stderr, "spanprobe: %s lacks _PyRuntime or PyCode_Type, or its evaluator "
			"is outside the file: not a CPython %u.%u this spanprobe can read\n", b->name,
			b->major, b->minor);
		goto cleanup;
	}
	cpython_layout__table(b->major, b->minor, &b->layout);
	b->layout_how = "table";
	if (b->minor >= 13) {
		err = apply_debug_offsets(&f, b);
		if (err)
			goto cleanup;
	}
	find_eval_frame_offset(&f, b);
	find_code_dealloc(&f, b);
	b->needs_eval_frame_hook = b->minor >= 11;
	err = 0;
cleanup:
	elf_end(f.elf);
	close(f.fd);
	return err;
}
