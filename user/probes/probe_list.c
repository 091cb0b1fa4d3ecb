// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "elf_symbols.h"
#include "probe_list.h"
#include "probe_table.h"

void probe_list__print(const struct probe_table *t, bool verbose, FILE *to)
{
	for (size_t i = 0; i < t->nfuncs; i++) {
		const struct func_symbol *s = t->funcs[i].sym;

		fprintf(to, "uprobe:%s:%s", t->funcs[i].bin->path, s->name);
		if (s->cost == ATTACH_UNPROBEABLE)
			fprintf(to, "  (can't probe: %s)", s->cost_reason ? s->cost_reason : "?");
		else
			fprintf(to, "  [%s%s]", attach_cost__name(s->cost),
				s->skipped_endbr64 ? ", past endbr64" : "");
		if (verbose) {
			if (s->cost_reason && s->cost != ATTACH_UNPROBEABLE)
				fprintf(to, "  %s", s->cost_reason);
			if (s->decl_file)
				fprintf(to, "  %s:%u", s->decl_file, s->decl_line);
		}
		fputc('\n', to);
	}
}
