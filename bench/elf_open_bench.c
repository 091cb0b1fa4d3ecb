// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* How long reading a library's functions takes: open (symbols, aliases,
 * entry verdicts) and match '*' (DWARF and exits of every function), best
 * of N runs. Moved here from the unit tests, where a time limit made CI a
 * coin toss on a cold machine. usage: elf-open-bench [LIB] [RUNS] */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "elf_symbols.h"

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	const char *lib = argc > 1 ? argv[1] : "libc";
	int runs = argc > 2 ? atoi(argv[2]) : 5, n = 0;
	double best_open = 1e9, best_match = 1e9;
	char path[PATH_MAX];

	if (resolve_binary_path(lib, path, sizeof(path)) != 0) {
		fprintf(stderr, "elf-open-bench: %s not found\n", lib);
		return 1;
	}
	for (int r = 0; r < runs; r++) {
		const struct func_symbol **m;
		struct elf_binary *b;
		double t0 = now_ms(), t1;

		if (elf_binary__open(path, &b) != 0)
			return 1;
		t1 = now_ms();
		n = elf_binary__match(b, "*", &m);
		if (t1 - t0 < best_open)
			best_open = t1 - t0;
		if (now_ms() - t1 < best_match)
			best_match = now_ms() - t1;
		elf_binary__free(b);
	}
	printf("| %s | %d functions | open %.1f ms | match '*' (DWARF, exits) %.1f ms |\n", path, n,
	       best_open, best_match);
	return 0;
}
