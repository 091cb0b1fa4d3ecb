// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Function shapes (tests/fixtures/elf_shapes.c, gcc -O2): names at one
 * address, compiler fragments, exits (returns, tail calls, hot/cold
 * split, jump tables, data in code, unknown size), refused entries, the
 * closest names, and libc's aliases and ifuncs. Expected instruction
 * addresses come from objdump, never hard-coded. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf_internal.h"
#include "unit.h"

#define SHAPES "build/fixtures/elf-shapes"

static struct elf_binary *open_or_fail(const char *path)
{
	struct elf_binary *b = NULL;
	int err = elf_binary__open(path, &b);

	if (err) {
		printf("  cannot open %s: %s (run `make fixtures` first)\n", path, strerror(-err));
		unit_failed_checks++;
	}
	return b;
}

static const struct func_symbol *only(struct elf_binary *b, const char *glob)
{
	const struct func_symbol **m = NULL;
	int n = elf_binary__match(b, glob, &m);

	return n == 1 ? m[0] : NULL;
}

/* How many `ret` objdump shows between a symbol and the next one. */
static int objdump_count(const char *path, const char *func, const char *mnemonic)
{
	char cmd[512], line[512];
	int n = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd),
		 "objdump -d --no-show-raw-insn '%s' | awk '/^[0-9a-f]+ <%s>:/{on=1;next} /^$/{on=0} on'",
		 path, func);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p))
		if (strstr(line, mnemonic))
			n++;
	pclose(p);
	return n;
}

static void test_aliases(void)
{
	static const char *const names[] = { "shape_public", "__shape_impl", "shape_weak" };
	struct elf_binary *b = open_or_fail(SHAPES);
	const struct func_symbol *first = NULL;

	if (!b)
		return;
	/* any of the three names finds the one function, shown by its public name */
	for (size_t i = 0; i < 3; i++) {
		const struct func_symbol *s = only(b, names[i]);

		CHECK(s != NULL);
		if (!s)
			continue;
		CHECK_STR(s->name, "shape_public");
		CHECK_INT(s->naliases, 2);
		if (first)
			CHECK(s == first);
		first = s;
	}
	/* a glob over all three gives it once */
	{
		const struct func_symbol **m = NULL;
		int n = elf_binary__match(b, "*shape_[piw]*", &m), hits = 0;

		for (int i = 0; i < n; i++)
			hits += strcmp(m[i]->name, "shape_public") == 0;
		CHECK_INT(hits, 1);
	}
	elf_binary__free(b);
}

static void test_fragments(void)
{
	struct elf_binary *b = open_or_fail(SHAPES);
	const struct func_symbol **m = NULL, *s;
	int n;

	if (!b)
		return;
	/* a glob without a '.' leaves fragments out */
	n = elf_binary__match(b, "shape_s*", &m);
	for (int i = 0; i < n; i++)
		CHECK(strchr(m[i]->name, '.') == NULL);
	CHECK(n >= 2); /* shape_split, shape_switch */
	/* named, or a glob with a '.', they come: .cold skipped with its reason */
	s = only(b, "shape_split.cold");
	CHECK(s && s->skip == SKIP_COLD_PART && s->cost == ATTACH_UNPROBEABLE);
	s = only(b, "shape_scale.constprop.0");
	CHECK(s && s->skip == SKIP_NONE);
	n = elf_binary__match(b, "*.cold", &m);
	CHECK(n >= 1);
	elf_binary__free(b);
}

static void test_refused_entries(void)
{
	static const char *const refused[] = { "shape_lock_entry", "shape_vex_entry" };
	struct elf_binary *b = open_or_fail(SHAPES);

	for (size_t i = 0; b && i < 2; i++) {
		const struct func_symbol *s = only(b, refused[i]);

		CHECK(s && s->skip == SKIP_REFUSED_INSN && s->cost == ATTACH_UNPROBEABLE);
		CHECK(s && s->cost_reason && strstr(s->cost_reason, "kernel"));
	}
	elf_binary__free(b);
}

static void test_exits(void)
{
	static const struct {
		const char *func;
		bool known;
		int rets;        /* -1: as many as objdump shows */
		int tail_jmps, indirect, cold_rets;
		const char *why; /* part of the reason when unknown */
	} cases[] = {
		{ "shape_callee", true, 1, 0, 0, 0, NULL },
		{ "shape_public", true, 1, 0, 0, 0, NULL },
		{ "shape_tail", true, 0, 1, 0, 0, NULL },
		{ "shape_split", true, 2, 0, 0, 1, NULL },     /* one of them in shape_split.cold */
		{ "shape_switch", true, -1, -1, 1, 0, NULL },  /* jump table: the dispatch jmp */
		{ "shape_ret_imm", true, 1, 0, 0, 0, NULL },   /* ret $0 */
		{ "shape_lock_entry", true, 1, 0, 0, 0, NULL },
		{ "shape_data_in_code", false, 0, 0, 0, 0, "" },
		{ "shape_no_size", false, 0, 0, 0, 0, "size unknown" },
	};
	struct elf_binary *b = open_or_fail(SHAPES);

	for (size_t i = 0; b && i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct func_symbol *s = only(b, cases[i].func);
		const struct func_exits *x;
		int tail_jmps = 0, indirect = 0, cold = 0;

		if (!s) {
			printf("  %s not found\n", cases[i].func);
			unit_failed_checks++;
			continue;
		}
		x = &s->exits;
		if (x->known != cases[i].known) {
			printf("  %s: known=%d (%s)\n", cases[i].func, x->known,
			       x->unknown_reason ? x->unknown_reason : "");
			unit_failed_checks++;
			continue;
		}
		if (!x->known) {
			CHECK(x->unknown_reason && strstr(x->unknown_reason, cases[i].why));
			CHECK(x->nrets == 0 && x->ntails == 0);
			continue;
		}
		for (size_t k = 0; k < x->ntails; k++) {
			tail_jmps += x->tails[k].kind == EXIT_TAIL_JMP || x->tails[k].kind == EXIT_TAIL_JCC;
			indirect += x->tails[k].kind == EXIT_INDIRECT_JMP;
			CHECK(x->tails[k].kind == EXIT_INDIRECT_JMP || x->tails[k].target != 0);
		}
		for (size_t k = 0; k < x->nrets; k++) {
			cold += x->rets[k].in_cold_part;
			CHECK_INT(x->rets[k].kind, EXIT_RET);
			/* ret is single-stepped: the kernel does not emulate it */
			CHECK_INT(x->rets[k].cost, ATTACH_SINGLE_STEP);
			CHECK(x->rets[k].file_offset > 0);
		}
		if (cases[i].rets >= 0)
			CHECK_INT(x->nrets, cases[i].rets);
		else
			CHECK_INT(x->nrets, objdump_count(SHAPES, cases[i].func, "ret"));
		if (cases[i].tail_jmps >= 0)
			CHECK_INT(tail_jmps, cases[i].tail_jmps);
		CHECK_INT(indirect, cases[i].indirect);
		CHECK_INT(cold, cases[i].cold_rets);
	}
	elf_binary__free(b);
}

/* The tail call of shape_tail lands on shape_callee's first byte. */
static void test_tail_target(void)
{
	struct elf_binary *b = open_or_fail(SHAPES);
	const struct func_symbol *tail, *callee;

	if (!b)
		return;
	tail = only(b, "shape_tail");
	callee = only(b, "shape_callee");
	CHECK(tail && callee && tail->exits.ntails == 1 && tail->exits.tails[0].target == callee->vaddr);
	elf_binary__free(b);
}

static void test_closest_names(void)
{
	static const struct {
		const char *typo, *want; /* want NULL: nothing close */
	} cases[] = {
		{ "shape_pubilc", "shape_public" },  /* swapped letters */
		{ "shape_calee", "shape_callee" },   /* one missing */
		{ "__shape_imp", "__shape_impl" },   /* an alias */
		{ "shape_tial", "shape_tail" },
		{ "zzzzqqqq", NULL },
		{ "", NULL },
		{ "x", NULL },
	};
	struct elf_binary *b = open_or_fail(SHAPES);
	char huge[4096];

	for (size_t i = 0; b && i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got[3];
		size_t n = elf_binary__closest_names(b, cases[i].typo, got, 3);

		if (!cases[i].want) {
			CHECK_INT(n, 0);
			continue;
		}
		CHECK(n >= 1);
		if (n >= 1)
			CHECK_STR(got[0], cases[i].want);
	}
	memset(huge, 'a', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	if (b) {
		const char *got[3];

		CHECK_INT(elf_binary__closest_names(b, huge, got, 3), 0);
		CHECK_INT(elf_binary__closest_names(b, "shape_pubilc", got, 0), 0);
		CHECK_INT(elf_binary__closest_names(NULL, "x", got, 3), 0);
	}
	elf_binary__free(b);
}

static void test_name_distance(void)
{
	static const struct {
		const char *a, *b;
		size_t limit, want;
	} cases[] = {
		{ "sqlite3_stpe", "sqlite3_step", 3, 1 },
		{ "malloc", "malloc", 3, 0 },
		{ "malloc", "calloc", 3, 1 },
		{ "free", "cfree", 3, 1 },
		{ "abc", "", 5, 3 },
		{ "", "", 1, 0 },
		{ "abcdef", "ghijkl", 2, 3 }, /* beyond the limit: limit + 1 */
		{ "short", "a_much_longer_name", 3, 4 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_INT(name_distance(cases[i].a, cases[i].b, cases[i].limit), cases[i].want);
}

/* libc: aliases merged by address, ifuncs resolved in this process. */
static void test_libc_aliases_ifuncs(void)
{
	static const char *const merged[][2] = {
		{ "__libc_malloc", "malloc" },
		{ "cfree", "free" },
		{ "__libc_free", "free" },
		{ "__strcoll_l", "strcoll_l" },
	};
	char path[PATH_MAX];
	struct elf_binary *b = NULL;
	const struct func_symbol *s;
	int resolved;

	CHECK_INT(resolve_binary_path("libc", path, sizeof(path)), 0);
	b = open_or_fail(path);
	if (!b)
		return;
	for (size_t i = 0; i < sizeof(merged) / sizeof(merged[0]); i++) {
		s = only(b, merged[i][0]);
		CHECK(s != NULL);
		if (s)
			CHECK_STR(s->name, merged[i][1]);
	}
	s = only(b, "pthread_spin_lock");
	CHECK(s && s->skip == SKIP_REFUSED_INSN);
	/* the cheaper entry: __mempcpy_avx_unaligned_erms sets %rax and jumps
	 * into __memmove_avx_unaligned_erms past its first instruction, so the
	 * latter's probe stays at its first instruction; read's first branch
	 * is a few bytes in, reached on every call */
	s = only(b, "__memmove_avx_unaligned_erms");
	CHECK(s && !s->body.found && s->body.reason && strstr(s->body.reason, "jump"));
	s = only(b, "read");
	CHECK(s && s->body.found && s->body.file_offset > s->file_offset &&
	      s->body.cost == ATTACH_EMULATED);
	/* this process maps the same libc: its memcpy is resolved here */
	resolved = elf_binary__resolve_ifuncs(b, 0);
	CHECK(resolved > 10);
	s = only(b, "memcpy");
	CHECK(s && s->is_ifunc && s->ifunc_impl && strncmp(s->ifunc_impl, "__mem", 5) == 0);
	if (s && s->ifunc_impl) {
		const struct func_symbol *impl = only(b, s->ifunc_impl);

		CHECK(impl && impl->attach_offset == s->attach_offset);
		CHECK(s->exits.known == (impl && impl->exits.known));
	}
	/* bad input */
	CHECK_INT(elf_binary__resolve_ifuncs(NULL, 0), -EINVAL);
	CHECK(elf_binary__resolve_ifuncs(b, 0x3ffffff0) == -ESRCH);
	elf_binary__free(b);
	/* a file this process does not map */
	b = open_or_fail(SHAPES);
	if (b)
		CHECK_INT(elf_binary__resolve_ifuncs(b, 0), -ENOENT);
	elf_binary__free(b);
}

static void test_debug_hints(void)
{
	struct elf_binary *b = open_or_fail("build/fixtures/elf-stripped");
	char id[130], link[256];

	if (!b)
		return;
	elf_binary__debug_hints(b, id, sizeof(id), link, sizeof(link));
	CHECK(strlen(id) >= 16); /* gcc links a build-id by default */
	CHECK_STR(elf_binary__symbol_source(b), ".dynsym");
	elf_binary__debug_hints(NULL, id, sizeof(id), link, sizeof(link));
	CHECK_STR(id, "");
	CHECK_STR(link, "");
	elf_binary__free(b);
}

int main(void)
{
	unit_prog = "elf_shapes";
	RUN(test_aliases);
	RUN(test_fragments);
	RUN(test_refused_entries);
	RUN(test_exits);
	RUN(test_tail_target);
	RUN(test_closest_names);
	RUN(test_name_distance);
	RUN(test_libc_aliases_ifuncs);
	RUN(test_debug_hints);
	return unit_exit();
}
