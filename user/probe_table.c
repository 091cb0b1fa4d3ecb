// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf_symbols.h"
#include "probe_spec.h"
#include "probe_table.h"

static int open_binary(struct probe_table *t, const char *name, struct traced_binary **out)
{
	char path[PATH_MAX];
	struct traced_binary *b;
	int err;

	err = resolve_binary_path(name, path, sizeof(path));
	if (err) {
		if (strchr(name, '/'))
			fprintf(stderr, "spanprobe: %s: no such file (check the path in the probe)\n", name);
		else
			fprintf(stderr, "spanprobe: %s: not found on PATH nor as a library in the "
				"loader's directories (give a path, e.g. uprobe:./%s:FUNCS)\n", name, name);
		return err;
	}
	for (size_t i = 0; i < t->nbins; i++) {
		if (strcmp(t->bins[i].path, path) == 0) {
			*out = &t->bins[i];
			return 0;
		}
	}
	b = &t->bins[t->nbins]; /* room for one per spec was made up front */
	memset(b, 0, sizeof(*b));
	err = elf_binary__open(path, &b->elf);
	if (err) {
		switch (err) {
		case -EACCES:
			fprintf(stderr, "spanprobe: %s: permission denied (run as root)\n", path);
			break;
		case -EISDIR:
			fprintf(stderr, "spanprobe: %s: is a directory (name the executable or library)\n", path);
			break;
		case -ENOEXEC:
			fprintf(stderr, "spanprobe: %s: not an ELF file (name a compiled executable or "
				"shared library, not a script)\n", path);
			break;
		default:
			fprintf(stderr, "spanprobe: %s: can't read symbols: %s\n", path, strerror(-err));
		}
		return err;
	}
	b->path = strdup(path);
	b->spec_name = strdup(name);
	if (!b->path || !b->spec_name) {
		free(b->path);
		free(b->spec_name);
		elf_binary__free(b->elf);
		return -ENOMEM;
	}
	t->nbins++;
	*out = b;
	return 0;
}

static bool already_traced(const struct probe_table *t, const struct traced_binary *b,
			   const struct func_symbol *sym)
{
	for (size_t i = 0; i < t->nfuncs; i++)
		if (t->funcs[i].bin == b && t->funcs[i].sym == sym)
			return true;
	return false;
}

static int add_func(struct probe_table *t, const struct traced_binary *b, const struct func_symbol *sym)
{
	struct traced_func *grown, *f;

	if (already_traced(t, b, sym))
		return 0;
	if (t->nfuncs >= SPAN_MAX_FUNCS) {
		fprintf(stderr, "spanprobe: more than %d functions to trace (narrow the globs)\n",
			SPAN_MAX_FUNCS);
		return -E2BIG;
	}
	grown = realloc(t->funcs, (t->nfuncs + 1) * sizeof(*t->funcs));
	if (!grown)
		return -ENOMEM;
	t->funcs = grown;
	f = &t->funcs[t->nfuncs];
	memset(f, 0, sizeof(*f));
	f->id = t->nfuncs;
	f->bin = b;
	f->sym = sym;
	/* Without a rule, the return value is still shown: read it as its DWARF
	 * type, else as C's default int. */
	f->rule.err_op = ERR_OP_NONE;
	f->rule.ret_size = sym->ret_known && !sym->ret_void ? sym->ret_size : 4;
	f->rule.ret_signed = sym->ret_known && !sym->ret_void ? sym->ret_signed : 1;
	t->nfuncs++;
	return 0;
}

int probe_table__resolve(struct probe_table *t, const struct probe_spec *specs, size_t nspecs)
{
	struct traced_binary *b;
	int err;

	/* At most one binary per spec; allocated once so functions can point at them. */
	t->bins = calloc(nspecs ? nspecs : 1, sizeof(*t->bins));
	if (!t->bins)
		return -ENOMEM;
	for (size_t i = 0; i < nspecs; i++) {
		const struct probe_spec *spec = &specs[i];

		if (spec->kind != PROBE_UPROBE)
			continue;
		err = open_binary(t, spec->binary, &b);
		if (err)
			return err;

		for (size_t j = 0; j < spec->nfuncs; j++) {
			const struct func_symbol **syms;
			int n = elf_binary__match(b->elf, spec->funcs[j], &syms);

			if (n < 0) {
				fprintf(stderr, "spanprobe: %s: can't read symbols: %s\n", b->path,
					strerror(-n));
				return n;
			}
			if (n == 0) {
				if (!elf_binary__has_symtab(b->elf))
					fprintf(stderr, "spanprobe: no function matches '%s' in %s, which is "
						"stripped (no .symtab; rebuild without -s, or trace an "
						"exported function: spanprobe -l 'uprobe:%s:*')\n",
						spec->funcs[j], spec->binary, spec->binary);
				else
					fprintf(stderr, "spanprobe: no function matches '%s' in %s "
						"(try: spanprobe -l 'uprobe:%s:*')\n",
						spec->funcs[j], spec->binary, spec->binary);
				return -ENOENT;
			}
			for (int k = 0; k < n; k++) {
				err = add_func(t, b, syms[k]);
				if (err)
					return err;
			}
		}
	}
	return 0;
}

static bool rule_names(const struct error_rule *r, const char *name)
{
	for (size_t i = 0; i < r->nfuncs; i++)
		if (fnmatch(r->funcs[i], name, 0) == 0)
			return true;
	return false;
}

int probe_table__apply_rules(struct probe_table *t, const struct error_rule *rules, size_t nrules)
{
	for (size_t i = 0; i < nrules; i++) {
		const struct error_rule *r = &rules[i];
		size_t matched = 0;

		for (size_t j = 0; j < t->nfuncs; j++) {
			struct traced_func *f = &t->funcs[j];
			const struct func_symbol *sym = f->sym;

			if (!rule_names(r, sym->name))
				continue;
			if (sym->ret_known && sym->ret_void) {
				fprintf(stderr, "spanprobe: --error '%s': %s returns void, so no return "
					"value can mark it failed\n", r->text, sym->name);
				return -EINVAL;
			}
			matched++;
			f->rule.err_op = r->op;
			f->rule.err_value = r->null ? 0 : r->value;
			f->rule_text = r->text;
			if (r->null) {
				/* NULL judges a pointer, whatever DWARF says of the type */
				f->rule.ret_size = 8;
				f->rule.ret_signed = 0;
			}
		}
		if (!matched) {
			fprintf(stderr, "spanprobe: --error rule for '%s' names no traced function "
				"(add it to a probe, e.g. uprobe:./app:%s)\n", r->funcs[0], r->funcs[0]);
			return -ENOENT;
		}
	}
	return 0;
}

void probe_table__release(struct probe_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nbins; i++) {
		free(t->bins[i].path);
		free(t->bins[i].spec_name);
		elf_binary__free(t->bins[i].elf);
	}
	free(t->bins);
	free(t->funcs);
	memset(t, 0, sizeof(*t));
}
