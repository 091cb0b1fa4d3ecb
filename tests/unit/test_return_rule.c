// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* How each function's return is seen (user/probes/return_rule.c): the
 * file's language from its personality references, exit sites for Go, for
 * C++/Rust functions that call or jump out (leaves keep the uretprobe), for
 * the functions that return twice in any file; a function whose exits are
 * unknown is skipped, never given a uretprobe instead; the exit probes
 * (ret, tail jumps kept or ending the call, jcc conditions). Fixtures from
 * the Makefile; Go and Rust SKIP without their toolchain. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf_symbols.h"
#include "exit_sites.h"
#include "probe_cookie.h"
#include "probe_spec.h"
#include "probe_table.h"
#include "return_rule.h"
#include "unit.h"

#define FIX "build/fixtures/"

/* Resolves one probe spec into t; false (and a failed check) on error. */
static bool resolve(struct probe_table *t, struct probe_spec *spec, const char *text,
		    enum return_choice choice)
{
	char err[256];

	memset(t, 0, sizeof(*t));
	t->returns = choice;
	if (probe_spec__parse(text, spec, err, sizeof(err)) != 0) {
		printf("  bad spec %s: %s\n", text, err);
		unit_failed_checks++;
		return false;
	}
	if (probe_table__resolve(t, spec, 1, -1, false) != 0) {
		printf("  can't resolve %s\n", text);
		unit_failed_checks++;
		probe_spec__release(spec);
		return false;
	}
	return true;
}

static const struct traced_func *by_name(const struct probe_table *t, const char *name)
{
	for (size_t i = 0; i < t->nfuncs; i++)
		if (strcmp(t->funcs[i].sym->name, name) == 0 ||
		    strcmp(t->funcs[i].sym->linkage_name, name) == 0)
			return &t->funcs[i];
	printf("  %s not resolved\n", name);
	unit_failed_checks++;
	return NULL;
}

static void done(struct probe_table *t, struct probe_spec *spec)
{
	probe_table__release(t);
	probe_spec__release(spec);
}

static bool built(const char *path, const char *test)
{
	if (access(path, X_OK) == 0)
		return true;
	UNIT_SKIP(test, "%s not built (its toolchain is missing)", path);
	return false;
}

static void test_languages(void)
{
	static const struct {
		const char *path;
		enum binary_lang lang;
		bool optional;
	} cases[] = {
		{ FIX "elf-shapes", LANG_C, false },
		{ FIX "cpp-exceptions", LANG_CXX, false },
		{ FIX "cpp-app", LANG_CXX, false },
		{ FIX "go-returns", LANG_GO, true },
		{ FIX "rust-panics", LANG_RUST, true },
		{ FIX "rust-app-v0", LANG_RUST, true },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct elf_binary *b = NULL;

		if (cases[i].optional && access(cases[i].path, F_OK) != 0)
			continue;
		CHECK_INT(elf_binary__open(cases[i].path, &b), 0);
		if (!b)
			continue;
		if (elf_binary__lang(b) != cases[i].lang)
			printf("  %s: %s\n", cases[i].path, binary_lang__name(elf_binary__lang(b)));
		CHECK_INT(elf_binary__lang(b), cases[i].lang);
		elf_binary__free(b);
	}
}

static void test_cxx_rule(void)
{
	struct probe_table t;
	struct probe_spec spec;
	const struct traced_func *f;

	if (!resolve(&t, &spec, "uprobe:" FIX "cpp-exceptions:descend,thrower,issue_handler,main",
		     RETURNS_AUTO))
		return;
	f = by_name(&t, "descend(int, int, int, int*)");
	CHECK(f && f->skip == SKIP_NONE && f->ret_probe == RETURN_EXIT_SITES);
	f = by_name(&t, "issue_handler(int)");
	CHECK(f && f->ret_probe == RETURN_EXIT_SITES);
	CHECK_STR(f ? f->ret_why : NULL, "C++: exceptions unwind through it");
	done(&t, &spec);

	/* a leaf of a C++ file: nothing can unwind through it */
	if (!resolve(&t, &spec, "uprobe:" FIX "cpp-app:shop::twice*", RETURNS_AUTO))
		return;
	for (size_t i = 0; i < t.nfuncs; i++) {
		const struct func_exits *x = &t.funcs[i].sym->exits;

		CHECK(x->known && x->ncalls == 0 && x->ntails == 0);
		CHECK(t.funcs[i].ret_probe == RETURN_URETPROBE);
		CHECK_STR(t.funcs[i].ret_why, "C++ leaf: nothing unwinds through it");
	}
	done(&t, &spec);

	/* the override */
	if (!resolve(&t, &spec, "uprobe:" FIX "cpp-exceptions:descend", RETURNS_URETPROBE))
		return;
	CHECK(t.nfuncs == 1 && t.funcs[0].ret_probe == RETURN_URETPROBE);
	done(&t, &spec);
}

static void test_c_rule(void)
{
	struct probe_table t;
	struct probe_spec spec;
	const struct traced_func *f;

	if (!resolve(&t, &spec, "uprobe:" FIX "elf-shapes:shape_tail,shape_no_size", RETURNS_AUTO))
		return;
	f = by_name(&t, "shape_tail");
	CHECK(f && f->ret_probe == RETURN_URETPROBE);
	CHECK_STR(f ? f->ret_why : NULL, "C: nothing unwinds through it");
	/* exits unknown: fine for a uretprobe */
	f = by_name(&t, "shape_no_size");
	CHECK(f && f->skip == SKIP_NONE && f->ret_probe == RETURN_URETPROBE);
	done(&t, &spec);

	/* forced exit sites: no size, no exits: skipped, never a uretprobe */
	if (!resolve(&t, &spec, "uprobe:" FIX "elf-shapes:shape_no_size,shape_data_in_code",
		     RETURNS_EXITS))
		return;
	for (size_t i = 0; i < t.nfuncs; i++)
		CHECK_INT(t.funcs[i].skip, SKIP_EXITS_UNKNOWN);
	done(&t, &spec);
}

/* setjmp & co. in libc: exit sites in a C library */
static void test_returns_twice(void)
{
	struct probe_table t;
	struct probe_spec spec;

	if (!resolve(&t, &spec, "uprobe:libc:vfork,_setjmp,__sigsetjmp,getcontext,malloc", RETURNS_AUTO))
		return;
	for (size_t i = 0; i < t.nfuncs; i++) {
		const struct traced_func *f = &t.funcs[i];
		bool twice = strcmp(f->sym->name, "malloc") != 0;

		CHECK_INT(return_rule__returns_twice(f->sym), twice);
		if (f->skip == SKIP_NONE)
			CHECK_INT(f->ret_probe, twice ? RETURN_EXIT_SITES : RETURN_URETPROBE);
		else
			CHECK_INT(f->skip, SKIP_EXITS_UNKNOWN);
	}
	done(&t, &spec);
}

static void test_go_rule(void)
{
	struct probe_table t;
	struct probe_spec spec;

	if (!built(FIX "go-returns", "test_go_rule"))
		return;
	if (!resolve(&t, &spec, "uprobe:" FIX "go-returns:main.*", RETURNS_AUTO))
		return;
	CHECK(t.nbins == 1 && t.bins[0]->go_regabi);
	for (size_t i = 0; i < t.nfuncs; i++)
		if (t.funcs[i].skip == SKIP_NONE) {
			CHECK_INT(t.funcs[i].ret_probe, RETURN_EXIT_SITES);
			CHECK(exit_sites__entry_cookie(&t.funcs[i]) & COOKIE_GO);
		}
	done(&t, &spec);
}

/* elf-shapes' shape_tail jmps to shape_callee: kept open when the callee is
 * traced, ended when not; its switch's indirect jmp is decided at run time. */
static void test_exit_probes(void)
{
	struct indirect_sink sink = { .map_fd = -1 };
	struct probe_points pts = { 0 };
	struct probe_table t;
	struct probe_spec spec;
	const struct traced_func *f;

	if (!resolve(&t, &spec, "uprobe:" FIX "elf-shapes:shape_tail,shape_callee,shape_switch",
		     RETURNS_EXITS))
		return;
	f = by_name(&t, "shape_tail");
	CHECK(f && exit_sites__add(&t, f, &pts, &sink) == 0);
	CHECK_INT(pts.n, 1);
	if (f && pts.n == 1) {
		CHECK_INT((pts.v[0].cookie >> COOKIE_SITE_SHIFT) & COOKIE_SITE_MASK, EXIT_SITE_TAIL_KEEP);
		CHECK_INT((pts.v[0].cookie >> COOKIE_ARG_SHIFT) & COOKIE_ARG_MASK,
			  by_name(&t, "shape_callee")->id);
		CHECK_INT(pts.v[0].cookie & COOKIE_FUNC_MASK, f->id);
	}
	pts.n = 0;
	f = by_name(&t, "shape_switch");
	CHECK(f && exit_sites__add(&t, f, &pts, &sink) == 0);
	CHECK_INT(sink.next, 1); /* its jump table's jmp */
	CHECK_INT(pts.n, exit_sites__count(f));
	probe_points__release(&pts);
	done(&t, &spec);

	if (!resolve(&t, &spec, "uprobe:" FIX "elf-shapes:shape_tail", RETURNS_EXITS))
		return;
	CHECK(exit_sites__add(&t, &t.funcs[0], &pts, &sink) == 0);
	CHECK(pts.n == 1 && ((pts.v[0].cookie >> COOKIE_SITE_SHIFT) & COOKIE_SITE_MASK) == EXIT_SITE_TAIL_END);
	probe_points__release(&pts);
	indirect_sink__release(&sink);
	done(&t, &spec);
}

static void test_parse_choice(void)
{
	enum return_choice c;

	CHECK(return_choice__parse("auto", &c) == 0 && c == RETURNS_AUTO);
	CHECK(return_choice__parse("exits", &c) == 0 && c == RETURNS_EXITS);
	CHECK(return_choice__parse("uretprobe", &c) == 0 && c == RETURNS_URETPROBE);
	CHECK(return_choice__parse("uretprobes", &c) != 0);
	CHECK(go_version_at_least("go1.17", 1, 17) && go_version_at_least("go1.26.8", 1, 17) &&
	      !go_version_at_least("go1.16.15", 1, 17) && !go_version_at_least(NULL, 1, 17) &&
	      go_version_at_least("go2.0", 1, 17));
}

int main(void)
{
	unit_prog = "return_rule";
	RUN(test_languages);
	RUN(test_cxx_rule);
	RUN(test_c_rule);
	RUN(test_returns_twice);
	RUN(test_go_rule);
	RUN(test_exit_probes);
	RUN(test_parse_choice);
	return unit_exit();
}
