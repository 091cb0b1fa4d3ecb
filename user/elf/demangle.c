// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Symbol names as people write them. The demangler is libiberty's (the one
 * binutils and gdb use): one call knows C++'s Itanium mangling and both Rust
 * manglings (legacy _ZN...17h<hash>E, shown without the hash, and v0 _R...),
 * where libstdc++'s __cxa_demangle knows C++ only. */
#include <stdlib.h>
#include <string.h>
#include <libiberty/demangle.h>

#include "elf_internal.h"

char *demangle(const char *linkage, bool with_params)
{
	if (!linkage || (strncmp(linkage, "_Z", 2) != 0 && strncmp(linkage, "_R", 2) != 0 &&
			 strncmp(linkage, "__Z", 3) != 0))
		return NULL;
	/* DMGL_ANSI keeps const/volatile; without DMGL_PARAMS: "Server::handle" */
	return cplus_demangle(linkage, DMGL_ANSI | (with_params ? DMGL_PARAMS : 0));
}

/* gcc names the pieces it splits off a function foo: foo.cold (the unlikely
 * path, jumped to, never called), foo.part.N (an outlined part, called from
 * foo), foo.isra.N / foo.constprop.N (clones with fewer arguments),
 * foo.lto_priv.N, foo.localalias. clang: foo.llvm.N, foo.specialized.N. */
bool is_fragment_name(const char *name, bool *cold)
{
	static const char *const suffixes[] = {
		".cold", ".part.", ".isra.", ".constprop.", ".lto_priv.", ".localalias",
		".llvm.", ".specialized.",
	};
	const char *dot;

	*cold = false;
	if (!name || !name[0] || name[0] == '.' || !(dot = strchr(name + 1, '.')))
		return false;
	for (; dot; dot = strchr(dot + 1, '.')) {
		for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
			size_t n = strlen(suffixes[i]);

			if (strncmp(dot, suffixes[i], n) != 0)
				continue;
			/* ".cold" exactly or ".cold.N" */
			if (i == 0) {
				if (dot[n] != '\0' && dot[n] != '.')
					continue;
				*cold = true;
			}
			return true;
		}
	}
	return false;
}
