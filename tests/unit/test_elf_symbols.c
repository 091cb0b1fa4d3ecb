// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* user/elf/ against the fixtures of tests/fixtures/elf_fixtures.mk (build
 * them with `make fixtures`; run from the repo root). Expected addresses
 * come from nm and objdump -F, expected lines from the "@name" markers in
 * the fixture sources: nothing here hard-codes an address. The instruction
 * verdicts have their own tests (test_x86_uprobe_insn.c). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf_internal.h"
#include "unit.h"

#define FIX "build/fixtures/"
#define TARGET_SRC "tests/fixtures/elf_target.c"
#define LIB_SRC "tests/fixtures/elf_target_lib.c"


/* ---- helpers: another tool's view of a fixture ---- */

static char *run_capture(const char *cmd)
{
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	FILE *p = popen(cmd, "r");
	size_t n;

	if (!buf || !p) {
		free(buf);
		if (p)
			pclose(p);
		return NULL;
	}
	while ((n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
		len += n;
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
	}
	buf[len] = '\0';
	pclose(p);
	return buf;
}

/* Address of name per `nm` (symtab) or `nm -D` (dynsym); 0 when absent. */
static uint64_t nm_address(const char *path, const char *name)
{
	char cmd[PATH_MAX + 64], *out, *line;
	uint64_t addr = 0;
	int pass;

	for (pass = 0; pass < 2 && !addr; pass++) {
		snprintf(cmd, sizeof(cmd), "nm %s --defined-only '%s' 2>/dev/null",
			 pass ? "-D" : "", path);
		out = run_capture(cmd);
		if (!out)
			continue;
		for (line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
			unsigned long long a;
			char type, sym[256];

			if (sscanf(line, "%llx %c %255s", &a, &type, sym) != 3)
				continue;
			if (strchr(sym, '@')) /* malloc@@GLIBC_2.2.5 */
				*strchr(sym, '@') = '\0';
			if (strcmp(sym, name) == 0) {
				addr = a;
				break;
			}
		}
		free(out);
	}
	return addr;
}

/* File offset objdump -F reports for name's first byte; UINT64_MAX if none. */
static uint64_t objdump_file_offset(const char *path, const char *name)
{
	char cmd[PATH_MAX + 64], key[300], *out, *at;
	unsigned long long off;
	uint64_t result = UINT64_MAX;

	snprintf(cmd, sizeof(cmd), "objdump -d -F '%s' 2>/dev/null", path);
	out = run_capture(cmd);
	if (!out)
		return result;
	snprintf(key, sizeof(key), "<%s> (File Offset: 0x", name);
	at = strstr(out, key);
	if (at && sscanf(at + strlen(key), "%llx", &off) == 1)
		result = off;
	free(out);
	return result;
}

/* File offset of vaddr through the PT_LOAD lines of `readelf -lW`. */
static uint64_t readelf_file_offset(const char *path, uint64_t vaddr)
{
	char cmd[PATH_MAX + 64], *out, *line;
	uint64_t result = UINT64_MAX;

	snprintf(cmd, sizeof(cmd), "readelf -lW '%s' 2>/dev/null", path);
	out = run_capture(cmd);
	if (!out)
		return result;
	for (line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned long long off, va, pa, filesz;

		if (sscanf(line, " LOAD 0x%llx 0x%llx 0x%llx 0x%llx", &off, &va, &pa, &filesz) == 4 &&
		    vaddr >= va && vaddr < va + filesz) {
			result = vaddr - va + off;
			break;
		}
	}
	free(out);
	return result;
}

/* Line of the "@name" marker in a fixture source; 0 when missing. */
static uint32_t marker_line(const char *src, const char *name)
{
	char line[512], marker[128];
	uint32_t n = 0;
	FILE *f = fopen(src, "r");

	if (!f)
		return 0;
	snprintf(marker, sizeof(marker), "/* @%s */", name);
	while (fgets(line, sizeof(line), f)) {
		n++;
		if (strstr(line, marker)) {
			fclose(f);
			return n;
		}
	}
	fclose(f);
	return 0;
}

static int read_bytes(const char *path, uint64_t off, unsigned char *buf, size_t n)
{
	int fd = open(path, O_RDONLY);
	ssize_t got;

	if (fd < 0)
		return -1;
	got = pread(fd, buf, n, (off_t)off);
	close(fd);
	return got == (ssize_t)n ? 0 : -1;
}

static bool is_endbr64(const unsigned char *p, size_t n)
{
	return n >= 4 && p[0] == 0xf3 && p[1] == 0x0f && p[2] == 0x1e && p[3] == 0xfa;
}

static const struct func_symbol *find_one(struct elf_binary *b, const char *name)
{
	const struct func_symbol **m = NULL;
	int n = elf_binary__match(b, name, &m);

	return n == 1 ? m[0] : NULL;
}

static int copy_prefix(const char *from, const char *to, size_t len)
{
	unsigned char buf[4096];
	int in = open(from, O_RDONLY), out;
	ssize_t got;
	int err = 0;

	if (in < 0)
		return -1;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (out < 0) {
		close(in);
		return -1;
	}
	while (len > 0 && (got = read(in, buf, len < sizeof(buf) ? len : sizeof(buf))) > 0) {
		if (write(out, buf, (size_t)got) != got)
			err = -1;
		len -= (size_t)got;
	}
	close(in);
	close(out);
	return err;
}

static size_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (size_t)st.st_size : 0;
}

/* ---- the tables ---- */

#define ANY -1

struct fixture {
	const char *path;
	const char *src;
	int c_cost;     /* class of every compiled function (ANY: not checked) */
	int c_skip;     /* skipped_endbr64 of compiled functions (ANY: not checked) */
	int c_endbr;    /* compiled functions start with endbr64 (ANY: not checked) */
	bool shared;
	bool asm_funcs; /* has the hand-written asm_* entries */
};

static const struct fixture fixtures[] = {
	/* gcc -O0: push %rbp; mov %rsp,%rbp */
	{ FIX "elf-pie", TARGET_SRC, ATTACH_EMULATED, ANY, ANY, true, true },
	{ FIX "elf-nopie", TARGET_SRC, ATTACH_EMULATED, ANY, ANY, false, true },
	/* clang -O2 CET + frame pointer: endbr64; push %rbp */
	{ FIX "elf-cet-fp", TARGET_SRC, ATTACH_EMULATED, true, true, true, true },
	/* gcc -O2 leaf functions: lea/mov/movl first */
	{ FIX "elf-o2", TARGET_SRC, ATTACH_SINGLE_STEP, false, false, true, true },
	/* gcc -O2 CET: endbr64; lea... stays at the symbol */
	{ FIX "elf-cet-o2", TARGET_SRC, ATTACH_SINGLE_STEP, false, true, true, true },
	/* gcc -pg -mfentry -mnop-mcount: nopl 0x0(%rax,%rax,1); push %rbp */
	{ FIX "elf-nop5", TARGET_SRC, ATTACH_NOP5, false, false, false, true },
	{ FIX "libelf-target.so", LIB_SRC, ATTACH_EMULATED, ANY, ANY, true, false },
};

struct target_func {
	const char *name;
	const char *src;
	bool ret_known, ret_void, ret_pointer, ret_signed;
	int ret_size;
};

static const struct target_func target_funcs[] = {
	{ "fn_int", TARGET_SRC, true, false, false, true, 4 },
	{ "fn_unsigned", TARGET_SRC, true, false, false, false, 4 },
	{ "fn_long", TARGET_SRC, true, false, false, true, 8 },
	{ "fn_charp", TARGET_SRC, true, false, true, false, 8 },
	{ "fn_void", TARGET_SRC, true, true, false, false, 0 },
	{ "fn_i8", TARGET_SRC, true, false, false, true, 1 },
	{ "fn_u16", TARGET_SRC, true, false, false, false, 2 },
	{ "fn_short", TARGET_SRC, true, false, false, true, 2 },
	{ "fn_enum", TARGET_SRC, true, false, false, false, 4 },
	{ "fn_senum", TARGET_SRC, true, false, false, true, 4 },
	{ "fn_typedef", TARGET_SRC, true, false, false, true, 8 },
	{ "fn_double", TARGET_SRC, false, false, false, false, 0 }, /* xmm0 */
	{ "fn_struct", TARGET_SRC, false, false, false, false, 0 }, /* not rax */
	{ "fn_a", TARGET_SRC, true, false, false, true, 4 },
	{ "fn_b", TARGET_SRC, true, false, false, true, 4 },
	{ "fn_static", TARGET_SRC, true, false, false, true, 4 },
	{ "lib_int", LIB_SRC, true, false, false, true, 4 },
	{ "lib_charp", LIB_SRC, true, false, true, false, 8 },
	{ "lib_void", LIB_SRC, true, true, false, false, 0 },
	{ "lib_u8", LIB_SRC, true, false, false, false, 1 },
	{ "lib_static", LIB_SRC, true, false, false, true, 8 },
	{ "lib_calls_static", LIB_SRC, true, false, false, true, 8 },
};

/* The hand-written entries: one per attach decision, the same everywhere. */
static const struct {
	const char *name;
	enum attach_cost cost;
	bool skip;
} asm_funcs[] = {
	{ "asm_endbr_push_r12", ATTACH_EMULATED, true },
	{ "asm_endbr_nop5", ATTACH_NOP5, true },
	{ "asm_endbr_mov", ATTACH_SINGLE_STEP, false },
	{ "asm_xchg_nop", ATTACH_EMULATED, false },
	{ "asm_mov", ATTACH_SINGLE_STEP, false },
	{ "asm_jmp", ATTACH_EMULATED, false },
};

static struct elf_binary *open_fixture(const char *path)
{
	struct elf_binary *b = NULL;
	int err = elf_binary__open(path, &b);

	if (err) {
		printf("  cannot open %s: %s (run `make fixtures` first)\n", path, strerror(-err));
		unit_failed_checks++;
	}
	return b;
}

/* ---- tests ---- */

static void test_cost_names(void)
{
	CHECK_STR(attach_cost__name(ATTACH_NOP5), "nop5");
	CHECK_STR(attach_cost__name(ATTACH_EMULATED), "emulated");
	CHECK_STR(attach_cost__name(ATTACH_SINGLE_STEP), "single-step");
	CHECK_STR(attach_cost__name(ATTACH_UNPROBEABLE), "unprobeable");
}

/* Each fixture × function: found, vaddr = nm, file_offset = objdump -F, cost
 * class and attach point, and the bytes at the attach point agree. */
static void test_fixture_symbols(void)
{
	size_t f, i;

	for (f = 0; f < sizeof(fixtures) / sizeof(fixtures[0]); f++) {
		const struct fixture *fx = &fixtures[f];
		struct elf_binary *b = open_fixture(fx->path);

		if (!b)
			continue;
		CHECK(elf_binary__has_symtab(b));
		CHECK_INT(elf_binary__is_shared(b), fx->shared);
		for (i = 0; i < sizeof(target_funcs) / sizeof(target_funcs[0]); i++) {
			const struct target_func *t = &target_funcs[i];
			const struct func_symbol *s = find_one(b, t->name);
			unsigned char head[4];

			if (strcmp(t->src, fx->src) != 0) {
				CHECK(s == NULL);
				continue;
			}
			if (!s) {
				printf("  %s: %s not found\n", fx->path, t->name);
				unit_failed_checks++;
				continue;
			}
			CHECK_INT(s->vaddr, nm_address(fx->path, t->name));
			CHECK_INT(s->file_offset, objdump_file_offset(fx->path, t->name));
			CHECK(s->size > 0);
			if (fx->c_cost != ANY && (int)s->cost != fx->c_cost) {
				printf("  %s %s: cost %s (%s), want %s\n", fx->path, t->name,
				       attach_cost__name(s->cost), s->cost_reason,
				       attach_cost__name(fx->c_cost));
				unit_failed_checks++;
			}
			if (fx->c_skip != ANY)
				CHECK_INT(s->skipped_endbr64, fx->c_skip);
			CHECK_INT(s->attach_offset, s->file_offset + (s->skipped_endbr64 ? 4 : 0));
			CHECK(read_bytes(fx->path, s->file_offset, head, 4) == 0);
			if (s->skipped_endbr64)
				CHECK(is_endbr64(head, 4));
			if (fx->c_endbr != ANY)
				CHECK_INT(is_endbr64(head, 4), fx->c_endbr);
			CHECK(s->skip == SKIP_NONE);
			CHECK(s->cost_reason != NULL);
		}
		for (i = 0; fx->asm_funcs && i < sizeof(asm_funcs) / sizeof(asm_funcs[0]); i++) {
			const struct func_symbol *s = find_one(b, asm_funcs[i].name);

			CHECK(s != NULL);
			if (!s)
				continue;
			CHECK_INT(s->file_offset, objdump_file_offset(fx->path, s->name));
			CHECK_STR(attach_cost__name(s->cost), attach_cost__name(asm_funcs[i].cost));
			CHECK_INT(s->skipped_endbr64, asm_funcs[i].skip);
			CHECK(!s->has_dwarf); /* top-level asm has no DW_TAG_subprogram */
		}
		elf_binary__free(b);
	}
}

static void test_fixture_dwarf(void)
{
	size_t f, i;

	for (f = 0; f < sizeof(fixtures) / sizeof(fixtures[0]); f++) {
		const struct fixture *fx = &fixtures[f];
		struct elf_binary *b = open_fixture(fx->path);

		if (!b)
			continue;
		for (i = 0; i < sizeof(target_funcs) / sizeof(target_funcs[0]); i++) {
			const struct target_func *t = &target_funcs[i];
			const struct func_symbol *s;
			size_t flen;

			if (strcmp(t->src, fx->src) != 0)
				continue;
			s = find_one(b, t->name);
			if (!s)
				continue; /* reported by test_fixture_symbols */
			if (!s->has_dwarf) {
				printf("  %s %s: no DWARF\n", fx->path, t->name);
				unit_failed_checks++;
				continue;
			}
			CHECK_INT(s->decl_line, marker_line(t->src, t->name));
			flen = s->decl_file ? strlen(s->decl_file) : 0;
			CHECK(flen >= strlen(t->src) &&
			      strcmp(s->decl_file + flen - strlen(t->src), t->src) == 0);
			CHECK_INT(s->ret_known, t->ret_known);
			if (!t->ret_known)
				continue;
			if (s->ret_void != t->ret_void || s->ret_pointer != t->ret_pointer ||
			    s->ret_signed != t->ret_signed ||
			    (!t->ret_void && s->ret_size != t->ret_size)) {
				printf("  %s %s: void=%d ptr=%d signed=%d size=%d, want %d %d %d %d\n",
				       fx->path, t->name, s->ret_void, s->ret_pointer, s->ret_signed,
				       s->ret_size, t->ret_void, t->ret_pointer, t->ret_signed,
				       t->ret_size);
				unit_failed_checks++;
			}
		}
		elf_binary__free(b);
	}
}

static void test_ifunc_unprobeable(void)
{
	static const char *const cases[][2] = {
		{ FIX "elf-pie", "fn_ifunc" },
		{ FIX "elf-nopie", "fn_ifunc" },
		{ FIX "libelf-target.so", "lib_ifunc" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct elf_binary *b = open_fixture(cases[i][0]);
		const struct func_symbol *s;

		if (!b)
			continue;
		s = find_one(b, cases[i][1]);
		CHECK(s != NULL);
		if (s) {
			CHECK_INT(s->cost, ATTACH_UNPROBEABLE);
			CHECK(s->cost_reason && strstr(s->cost_reason, "ifunc"));
			CHECK_INT(s->vaddr, nm_address(cases[i][0], cases[i][1]));
		}
		elf_binary__free(b);
	}
}

static void test_stripped(void)
{
	struct elf_binary *b = open_fixture(FIX "elf-stripped");
	const struct func_symbol **m = NULL;

	if (!b)
		return;
	CHECK(!elf_binary__has_symtab(b));
	CHECK(elf_binary__is_shared(b));
	CHECK_INT(elf_binary__match(b, "fn_static", &m), 0);
	CHECK_INT(elf_binary__match(b, "fn_int", &m), 0);
	elf_binary__free(b);
}

static void test_shared_lib_dynsym_only(void)
{
	/* The exported functions stay findable in a stripped library (.dynsym),
	 * with the same addresses; the static one goes. */
	const char *stripped = "/tmp/spanprobe-test-libelf-stripped.so";
	struct elf_binary *full, *b = NULL;
	const struct func_symbol *s, *f;
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "strip -o %s " FIX "libelf-target.so", stripped);
	CHECK(system(cmd) == 0);
	CHECK_INT(elf_binary__open(stripped, &b), 0);
	full = open_fixture(FIX "libelf-target.so");
	if (b && full) {
		CHECK(!elf_binary__has_symtab(b));
		CHECK(elf_binary__is_shared(b));
		s = find_one(b, "lib_int");
		f = find_one(full, "lib_int");
		CHECK(s && f && s->vaddr == f->vaddr && s->file_offset == f->file_offset);
		CHECK(s && s->cost == ATTACH_EMULATED && !s->has_dwarf);
		CHECK(find_one(b, "lib_static") == NULL);
		CHECK(find_one(full, "lib_static") != NULL);
	}
	elf_binary__free(b);
	elf_binary__free(full);
	unlink(stripped);
}

static void test_globs(void)
{
	static const struct {
		const char *glob;
		const char *names[4];
		int count; /* -1: at least the names */
	} cases[] = {
		{ "fn_?", { "fn_a", "fn_b" }, 2 },
		{ "fn_int", { "fn_int" }, 1 },
		{ "nomatch", { NULL }, 0 },
		{ "fn_[ab]", { "fn_a", "fn_b" }, 2 },
		{ "*", { "main", "fn_int", "asm_mov" }, -1 },
		{ "asm_endbr_*", { "asm_endbr_push_r12", "asm_endbr_nop5", "asm_endbr_mov" }, 3 },
	};
	struct elf_binary *b = open_fixture(FIX "elf-pie");
	size_t i, j;

	if (!b)
		return;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct func_symbol **m = NULL;
		int n = elf_binary__match(b, cases[i].glob, &m), k;

		if (cases[i].count >= 0)
			CHECK_INT(n, cases[i].count);
		else
			CHECK(n > 10);
		for (j = 0; j < 4 && cases[i].names[j]; j++) {
			bool seen = false;

			for (k = 0; k < n; k++)
				seen |= strcmp(m[k]->name, cases[i].names[j]) == 0;
			if (!seen) {
				printf("  glob %s: %s missing\n", cases[i].glob, cases[i].names[j]);
				unit_failed_checks++;
			}
		}
		for (k = 1; k < n; k++)
			CHECK(m[k - 1]->vaddr <= m[k]->vaddr);
	}
	elf_binary__free(b);
}

/* '*' on every fixture: address order, one entry per name, and an earlier
 * result stays valid after a later match. */
static void test_order_and_dedup(void)
{
	size_t f;

	for (f = 0; f < sizeof(fixtures) / sizeof(fixtures[0]); f++) {
		struct elf_binary *b = open_fixture(fixtures[f].path);
		const struct func_symbol **all = NULL, **one = NULL;
		int n, i, j;

		if (!b)
			continue;
		n = elf_binary__match(b, "*", &all);
		CHECK(n > 5);
		for (i = 1; i < n; i++)
			CHECK(all[i - 1]->vaddr <= all[i]->vaddr);
		for (i = 0; i < n; i++)
			for (j = i + 1; j < n; j++)
				if (strcmp(all[i]->name, all[j]->name) == 0) {
					printf("  %s: %s twice\n", fixtures[f].path, all[i]->name);
					unit_failed_checks++;
				}
		CHECK_INT(elf_binary__match(b, "nomatch", &one), 0);
		CHECK(n > 0 && all[0]->name && all[n - 1]->name);
		elf_binary__free(b);
	}
}

static void test_bad_input(void)
{
	const char *text = "/tmp/spanprobe-test-elf-text.txt";
	const char *trunc = "/tmp/spanprobe-test-elf-trunc";
	const char *empty = "/tmp/spanprobe-test-elf-empty";
	const char *noread = "/tmp/spanprobe-test-elf-noread";
	struct elf_binary *b = (struct elf_binary *)&b;
	FILE *f;

	f = fopen(text, "w");
	if (f) {
		fputs("#!/bin/sh\necho this is not an ELF file, but it is long enough\n", f);
		fclose(f);
	}
	CHECK(copy_prefix(FIX "elf-pie", trunc, 100) == 0);
	f = fopen(empty, "w");
	if (f)
		fclose(f);
	CHECK(copy_prefix(FIX "elf-pie", noread, 4096) == 0);
	chmod(noread, 0);

	CHECK_INT(elf_binary__open("/nonexistent/spanprobe-nope", &b), -ENOENT);
	CHECK(b == NULL);
	CHECK_INT(elf_binary__open("tests", &b), -EISDIR);
	CHECK_INT(elf_binary__open(text, &b), -ENOEXEC);
	CHECK_INT(elf_binary__open(trunc, &b), -ENOEXEC);
	CHECK_INT(elf_binary__open(empty, &b), -ENOEXEC);
	CHECK_INT(elf_binary__open("/dev/null", &b), -EINVAL);
	if (geteuid() != 0) /* root reads anything */
		CHECK_INT(elf_binary__open(noread, &b), -EACCES);
	CHECK(b == NULL);
	elf_binary__free(NULL);
	CHECK(!elf_binary__has_symtab(NULL));
	CHECK(!elf_binary__is_shared(NULL));
	unlink(text);
	unlink(trunc);
	unlink(empty);
	unlink(noread);
}

/* Not crashing on corrupt files: truncations everywhere and byte flips in
 * the headers (what a fuzzer tries first). Run it under SANITIZE=1. */
static void test_corrupt_files(void)
{
	const char *src = FIX "elf-cet-fp";
	const char *tmp = "/tmp/spanprobe-test-elf-corrupt";
	size_t size = file_size(src), len, i;
	unsigned char *orig;
	unsigned int seed = 12345;
	int opened = 0;

	CHECK(size > 0);
	if (size == 0)
		return;
	orig = malloc(size);
	if (!orig || read_bytes(src, 0, orig, size) != 0) {
		free(orig);
		CHECK(0);
		return;
	}
	for (len = 0; len < size; len += len < 512 ? 7 : 997) {
		struct elf_binary *b = NULL;
		const struct func_symbol **m;

		copy_prefix(src, tmp, len);
		if (elf_binary__open(tmp, &b) == 0) {
			opened++;
			elf_binary__match(b, "*", &m);
			elf_binary__free(b);
		}
	}
	for (i = 0; i < 300; i++) {
		struct elf_binary *b = NULL;
		const struct func_symbol **m;
		unsigned char *mut = malloc(size);
		int fd, k;

		if (!mut)
			break;
		memcpy(mut, orig, size);
		for (k = 0; k < 4; k++) {
			size_t at;

			seed = seed * 1103515245u + 12345u;
			/* headers at both ends: ehdr+phdrs first, shdrs last */
			at = (seed >> 8) % 1024;
			if (seed & 1)
				at = size - 1 - (at % (size < 2048 ? size : 2048));
			if (at < size)
				mut[at] = (unsigned char)(seed >> 16);
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			if (write(fd, mut, size) != (ssize_t)size)
				CHECK(0);
			close(fd);
		}
		free(mut);
		if (elf_binary__open(tmp, &b) == 0) {
			opened++;
			elf_binary__match(b, "*", &m);
			elf_binary__free(b);
		}
	}
	CHECK(opened > 0);
	free(orig);
	unlink(tmp);
}

/* An ELF for another machine: symbols still listed, no decoding. */
static void test_other_arch(void)
{
	const char *tmp = "/tmp/spanprobe-test-elf-arm64";
	size_t size = file_size(FIX "elf-pie");
	struct elf_binary *b = NULL;
	const struct func_symbol *s;
	unsigned char machine[2] = { 183, 0 }; /* EM_AARCH64, little-endian */
	int fd;

	CHECK(copy_prefix(FIX "elf-pie", tmp, size) == 0);
	fd = open(tmp, O_WRONLY);
	CHECK(fd >= 0 && pwrite(fd, machine, 2, 18) == 2);
	if (fd >= 0)
		close(fd);
	CHECK_INT(elf_binary__open(tmp, &b), 0);
	s = b ? find_one(b, "fn_int") : NULL;
	CHECK(s != NULL);
	if (s) {
		CHECK_INT(s->cost, ATTACH_SINGLE_STEP);
		CHECK_STR(s->cost_reason, "unknown arch");
		CHECK_INT(s->attach_offset, s->file_offset);
	}
	elf_binary__free(b);
	unlink(tmp);
}

/* libc as the system has it: counted, merged, classified (the time this
 * takes is measured in bench/, not here). */
static void test_libc(void)
{
	char path[PATH_MAX];
	struct elf_binary *b = NULL;
	const struct func_symbol **m = NULL;
	const struct func_symbol *s;
	int n;

	CHECK_INT(resolve_binary_path("libc", path, sizeof(path)), 0);
	CHECK_INT(elf_binary__open(path, &b), 0);
	n = b ? elf_binary__match(b, "*", &m) : 0;
	printf("  libc: %d functions (names from %s)\n", n, elf_binary__symbol_source(b));
	CHECK(n > 1000);
	if (b) {
		CHECK(elf_binary__is_shared(b));
		CHECK(!elf_binary__is_go(b));
		s = find_one(b, "malloc");
		CHECK(s && s->vaddr == nm_address(path, "malloc"));
		CHECK(s && s->file_offset == readelf_file_offset(path, s->vaddr));
		if (s && s->has_dwarf) { /* libc6-dbg installed */
			CHECK(s->ret_known && s->ret_pointer && s->ret_size == 8);
			CHECK(s->decl_file && strstr(s->decl_file, "malloc.c"));
			CHECK(s->decl_line > 0);
		}
		/* glibc's memcpy is an ifunc: skipped, with its candidates */
		s = find_one(b, "memcpy");
		CHECK(s && s->cost == ATTACH_UNPROBEABLE && s->skip == SKIP_IFUNC && s->is_ifunc);
		CHECK(s && s->ifunc_candidates && strstr(s->ifunc_candidates, "__mem"));
	}
	elf_binary__free(b);
}

static void test_resolve_binary_path(void)
{
	char out[PATH_MAX], want[PATH_MAX], *real;
	char small[8];
	const char *saved = getenv("LD_LIBRARY_PATH");

	CHECK_INT(resolve_binary_path("libc", out, sizeof(out)), 0);
	CHECK(strstr(out, "/libc.so.6") != NULL);
	CHECK(out[0] == '/');

	CHECK_INT(resolve_binary_path("c", out, sizeof(out)), 0);
	CHECK(strstr(out, "/libc.so.6") != NULL);

	CHECK_INT(resolve_binary_path("libc.so.6", out, sizeof(out)), 0);
	CHECK(strstr(out, "/libc.so.6") != NULL);

	/* ls: the PATH lookup, then realpath */
	CHECK_INT(resolve_binary_path("ls", out, sizeof(out)), 0);
	real = realpath("/usr/bin/ls", NULL);
	if (!real)
		real = realpath("/bin/ls", NULL);
	CHECK_STR(out, real);
	free(real);

	CHECK_INT(resolve_binary_path("spanprobe-no-such-binary", out, sizeof(out)), -ENOENT);
	CHECK_INT(resolve_binary_path("/nonexistent/spanprobe", out, sizeof(out)), -ENOENT);
	CHECK_INT(resolve_binary_path("libc", small, sizeof(small)), -ENAMETOOLONG);
	CHECK_INT(resolve_binary_path("", out, sizeof(out)), -EINVAL);

	/* a relative path is made absolute */
	CHECK_INT(resolve_binary_path(FIX "elf-pie", out, sizeof(out)), 0);
	real = realpath(FIX "elf-pie", NULL);
	CHECK_STR(out, real);
	free(real);

	/* libssl.so.3 exact, when installed */
	if (resolve_binary_path("libssl.so.3", out, sizeof(out)) == 0)
		CHECK(strstr(out, "libssl.so.3") != NULL);

	/* LD_LIBRARY_PATH: the fixture library by its short name */
	if (getcwd(want, sizeof(want)) && strlen(want) + 20 < sizeof(want)) {
		strcat(want, "/" FIX);
		setenv("LD_LIBRARY_PATH", want, 1);
		CHECK_INT(resolve_binary_path("elf-target", out, sizeof(out)), 0);
		real = realpath(FIX "libelf-target.so", NULL);
		CHECK_STR(out, real);
		free(real);
		if (saved)
			setenv("LD_LIBRARY_PATH", saved, 1);
		else
			unsetenv("LD_LIBRARY_PATH");
	}
}

int main(void)
{
	unit_prog = "elf_symbols";
	RUN(test_cost_names);
		RUN(test_fixture_symbols);
	RUN(test_fixture_dwarf);
	RUN(test_ifunc_unprobeable);
	RUN(test_stripped);
	RUN(test_shared_lib_dynsym_only);
	RUN(test_globs);
	RUN(test_order_and_dedup);
	RUN(test_bad_input);
	RUN(test_corrupt_files);
	RUN(test_other_arch);
	RUN(test_libc);
	RUN(test_resolve_binary_path);
	return unit_exit();
}
