// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer target: the ELF/DWARF symbol reader on mutated ELF files. Each
 * input is written to a memfd and opened by its /proc path, as spanprobe
 * opens a binary; every function symbol is then matched ('*'), which reads
 * the DWARF of each and picks its attach point. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "elf_symbols.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct func_symbol **syms = NULL;
	struct elf_binary *b = NULL;
	char path[64];
	int fd, n;

	fd = memfd_create("fuzz-elf", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (elf_binary__open(path, &b) == 0) {
		(void)elf_binary__has_symtab(b);
		(void)elf_binary__is_shared(b);
		n = elf_binary__match(b, "*", &syms);
		for (int i = 0; i < n; i++) {
			const struct func_symbol *s = syms[i];

			if (!s->name || s->cost > ATTACH_UNPROBEABLE)
				abort();
			(void)attach_cost__name(s->cost);
		}
		/* a second match reuses what the first read */
		n = elf_binary__match(b, "m*", &syms);
		(void)n;
		elf_binary__free(b);
	}
	close(fd);
	return 0;
}
