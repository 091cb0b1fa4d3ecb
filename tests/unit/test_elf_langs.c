// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Names by language: C++ and Rust demangled (libiberty) and matched by
 * globs either way, Go from .symtab or from .gopclntab when stripped, the
 * Go version from the buildinfo, compiler fragment suffixes. Fixtures from
 * tests/fixtures/elf_fixtures.mk; Go and Rust ones SKIP when their
 * toolchain is absent. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf_internal.h"
#include "unit.h"

#define FIX "build/fixtures/"

static struct elf_binary *open_fixture(const char *path, bool may_skip, const char *test)
{
	struct elf_binary *b = NULL;
	int err;

	if (may_skip && access(path, F_OK) != 0) {
		UNIT_SKIP(test, "%s not built (its toolchain is missing)", path);
		return NULL;
	}
	err = elf_binary__open(path, &b);
	if (err) {
		printf("  cannot open %s: %s (run `make fixtures` first)\n", path, strerror(-err));
		unit_failed_checks++;
	}
	return b;
}

static bool has_name(const struct func_symbol **m, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(m[i]->name, name) == 0)
			return true;
	return false;
}

static void test_demangle(void)
{
	static const struct {
		const char *in, *full, *plain; /* NULL: not mangled / can't */
	} cases[] = {
		{ "_ZN4shop6Server6handleEi", "shop::Server::handle(int)", "shop::Server::handle" },
		{ "_ZNK4shop6ServereqERKS0_", "shop::Server::operator==(shop::Server const&) const",
		  "shop::Server::operator==" },
		{ "_Z7throweri", "thrower(int)", "thrower" },
		{ "_ZN8rust_app6server6Server6handle17h5e0ad6232bed6f39E",
		  "rust_app::server::Server::handle", "rust_app::server::Server::handle" },
		{ "_RNvNtCs8meVnLymLYX_8rust_app6server5twice", "rust_app::server::twice",
		  "rust_app::server::twice" },
		{ "malloc", NULL, NULL },
		{ "main.(*Server).Handle", NULL, NULL },
		{ "_Z", NULL, NULL },
		{ "_Zzzzz", NULL, NULL },
		{ "_R", NULL, NULL },
		{ "", NULL, NULL },
		{ NULL, NULL, NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *full = demangle(cases[i].in, true), *plain = demangle(cases[i].in, false);

		if (cases[i].full)
			CHECK_STR(full, cases[i].full);
		else
			CHECK(full == NULL);
		if (cases[i].plain)
			CHECK_STR(plain, cases[i].plain);
		else
			CHECK(plain == NULL);
		free(full);
		free(plain);
	}
}

static void test_fragment_names(void)
{
	static const struct {
		const char *name;
		bool fragment, cold;
	} cases[] = {
		{ "foo.cold", true, true },
		{ "foo.cold.3", true, true },
		{ "foo.part.0", true, false },
		{ "foo.isra.0", true, false },
		{ "foo.constprop.0.isra.0", true, false },
		{ "foo.lto_priv.0", true, false },
		{ "_ZN3fooEv.cold", true, true },
		{ "foo.coldest", false, false },
		{ "main.(*Server).Handle", false, false },
		{ "foo", false, false },
		{ ".cold", false, false },
		{ "", false, false },
		{ NULL, false, false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool cold = true;

		CHECK_INT(is_fragment_name(cases[i].name, &cold), cases[i].fragment);
		CHECK_INT(cold, cases[i].cold);
	}
}

static void test_cpp(void)
{
	static const struct {
		const char *glob;
		int count;
		const char *name; /* one of the matches */
	} cases[] = {
		{ "shop::Server::*", 3, "shop::Server::handle(int)" },
		{ "shop::Server::handle", 2, "shop::Server::handle(int)" },
		{ "shop::Server::handle(int)", 1, "shop::Server::handle(int)" },
		{ "_ZN4shop6Server6handleEi", 1, "shop::Server::handle(int)" },
		{ "_ZN4shop*", 4, "double shop::twice<double>(double)" }, /* not _ZNK4shop */
		{ "shop::twice<*>", 2, "int shop::twice<int>(int)" },
		{ "*operator==*", 1, "shop::Server::operator==(shop::Server const&) const" },
		{ "shop::Nope::*", 0, NULL },
	};
	struct elf_binary *b = open_fixture(FIX "cpp-app", false, "test_cpp");

	for (size_t i = 0; b && i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct func_symbol **m = NULL;
		int n = elf_binary__match(b, cases[i].glob, &m);

		if (n != cases[i].count) {
			printf("  %s: %d matches, want %d\n", cases[i].glob, n, cases[i].count);
			unit_failed_checks++;
		}
		if (cases[i].name && !has_name(m, n, cases[i].name)) {
			printf("  %s: %s missing\n", cases[i].glob, cases[i].name);
			unit_failed_checks++;
		}
		for (int k = 0; k < n; k++) {
			CHECK(m[k]->linkage_name && strncmp(m[k]->linkage_name, "_Z", 2) == 0);
			CHECK(m[k]->name != m[k]->linkage_name);
		}
	}
	if (b) {
		const char *close[3];

		CHECK(elf_binary__closest_names(b, "shop::Server::handel", close, 3) >= 1);
	}
	elf_binary__free(b);
}

static void test_rust(void)
{
	static const char *const builds[] = { FIX "rust-app-v0", FIX "rust-app-legacy" };

	for (size_t i = 0; i < 2; i++) {
		struct elf_binary *b = open_fixture(builds[i], true, "test_rust");
		const struct func_symbol **m = NULL;
		int n;

		if (!b)
			return;
		n = elf_binary__match(b, "rust_app::server::*", &m);
		CHECK(n >= 1);
		for (int k = 0; k < n; k++) {
			/* the legacy hash component ("::h0123456789abcdef") is left out */
			const char *last = strrchr(m[k]->name, ':');

			CHECK(last && !(last[1] == 'h' && strlen(last + 1) == 17));
		}
		n = elf_binary__match(b, "*Server*handle*", &m);
		CHECK_INT(n, 1);
		elf_binary__free(b);
	}
}

/* Go, unstripped (.symtab) and stripped (.gopclntab): the same functions
 * at the same addresses, Go's own names, the version, exits known. */
static void test_go(void)
{
	static const char *const funcs[] = { "main.(*Server).Handle", "main.work", "main.main" };
	struct elf_binary *full = open_fixture(FIX "go-app", true, "test_go");
	struct elf_binary *stripped = full ? open_fixture(FIX "go-app-stripped", false, "test_go") : NULL;

	if (!full || !stripped)
		goto cleanup;
	CHECK(elf_binary__is_go(full) && elf_binary__is_go(stripped));
	CHECK(elf_binary__has_symtab(full) && !elf_binary__has_symtab(stripped));
	CHECK_STR(elf_binary__symbol_source(stripped), ".gopclntab");
	CHECK(elf_binary__go_version(stripped) &&
	      strncmp(elf_binary__go_version(stripped), "go1.", 4) == 0);
	for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++) {
		const struct func_symbol **a = NULL, **b = NULL;
		int na = elf_binary__match(full, funcs[i], &a), nb = elf_binary__match(stripped, funcs[i], &b);

		CHECK_INT(na, 1);
		CHECK_INT(nb, 1);
		if (na != 1 || nb != 1)
			continue;
		CHECK_INT(a[0]->vaddr, b[0]->vaddr);
		CHECK_INT(a[0]->file_offset, b[0]->file_offset);
		CHECK(b[0]->size >= a[0]->size); /* pclntab sizes include the padding */
		CHECK(b[0]->exits.known && b[0]->exits.nrets >= 1);
		CHECK(b[0]->skip == SKIP_NONE);
	}
	{
		const struct func_symbol **m = NULL;

		CHECK(elf_binary__match(stripped, "runtime.*", &m) > 100);
		CHECK(elf_binary__match(stripped, "main.(\\*Server).*", &m) == 1);
	}
	CHECK(!elf_binary__is_go(NULL));
	CHECK(elf_binary__go_version(NULL) == NULL);
cleanup:
	elf_binary__free(full);
	elf_binary__free(stripped);
}

static void test_go_buildinfo(void)
{
	unsigned char good[64] = "\xff Go buildinf:";
	unsigned char buf[64];
	char *v;

	good[14] = 8;
	good[15] = 2;
	good[32] = 8;
	memcpy(good + 33, "go1.26.0", 8);
	v = go_buildinfo_version(good, sizeof(good));
	CHECK_STR(v, "go1.26.0");
	free(v);
	/* bad input: short, wrong magic, old format, length past the end, not "go..." */
	CHECK(go_buildinfo_version(good, 20) == NULL);
	CHECK(go_buildinfo_version(NULL, 64) == NULL);
	memcpy(buf, good, sizeof(buf));
	buf[1] = 'X';
	CHECK(go_buildinfo_version(buf, sizeof(buf)) == NULL);
	memcpy(buf, good, sizeof(buf));
	buf[15] = 0;
	CHECK(go_buildinfo_version(buf, sizeof(buf)) == NULL);
	memcpy(buf, good, sizeof(buf));
	buf[32] = 60;
	CHECK(go_buildinfo_version(buf, sizeof(buf)) == NULL);
	memcpy(buf, good, sizeof(buf));
	buf[32] = 0x80 | 1;
	buf[33] = 0x80;
	CHECK(go_buildinfo_version(buf, 35) == NULL);
	memcpy(buf, good, sizeof(buf));
	memcpy(buf + 33, "xx1.26.0", 8);
	CHECK(go_buildinfo_version(buf, sizeof(buf)) == NULL);
}

/* A C binary is not Go; a stripped Go binary whose pclntab is corrupt still
 * opens (with no function names). */
static void test_go_corrupt(void)
{
	const char *tmp = "/tmp/spanprobe-test-go-corrupt";
	char cmd[512];
	struct elf_binary *b = NULL;

	if (access(FIX "go-app-stripped", F_OK) != 0) {
		UNIT_SKIP("test_go_corrupt", "go-app-stripped not built");
		return;
	}
	b = open_fixture(FIX "elf-pie", false, "test_go_corrupt");
	CHECK(b && !elf_binary__is_go(b));
	elf_binary__free(b);
	b = NULL;
	/* overwrite the pclntab magic */
	snprintf(cmd, sizeof(cmd),
		 "cp " FIX "go-app-stripped %s && off=$(readelf -SW %s | "
		 "awk '{for (i = 1; i < NF; i++) if ($i == \".gopclntab\") print $(i + 3)}') && "
		 "printf '\\x00\\x00\\x00\\x00' | dd of=%s bs=1 seek=$((0x$off)) conv=notrunc status=none",
		 tmp, tmp, tmp);
	CHECK(system(cmd) == 0);
	CHECK_INT(elf_binary__open(tmp, &b), 0);
	if (b) {
		const struct func_symbol **m = NULL;

		CHECK(elf_binary__is_go(b));
		CHECK(elf_binary__match(b, "main.*", &m) == 0);
	}
	elf_binary__free(b);
	unlink(tmp);
}

int main(void)
{
	unit_prog = "elf_langs";
	RUN(test_demangle);
	RUN(test_fragment_names);
	RUN(test_cpp);
	RUN(test_rust);
	RUN(test_go);
	RUN(test_go_buildinfo);
	RUN(test_go_corrupt);
	return unit_exit();
}
