// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* -l and the skipped-functions warning, from the probe table. */
#include <stdio.h>
#include <string.h>

#include "elf_symbols.h"
#include "exit_sites.h"
#include "entry_site.h"
#include "probe_list.h"
#include "probe_table.h"

#define NAMES_SHOWN 3 /* names per reason in the warning line */

static void print_exits(FILE *out, const struct func_symbol *s)
{
	const struct func_exits *x = &s->exits;
	size_t single = 0, refused = 0, jumps = 0, indirect = 0;

	if (!x->known) {
		fprintf(out, "  exits unknown: %s", x->unknown_reason ? x->unknown_reason : "not read");
		return;
	}
	for (size_t i = 0; i < x->nrets; i++) {
		single += x->rets[i].cost == ATTACH_SINGLE_STEP;
		refused += x->rets[i].cost == ATTACH_UNPROBEABLE;
	}
	for (size_t i = 0; i < x->ntails; i++) {
		jumps += x->tails[i].kind != EXIT_INDIRECT_JMP;
		indirect += x->tails[i].kind == EXIT_INDIRECT_JMP;
	}
	fprintf(out, "  exits: %zu ret (%zu single-stepped%s%zu refused)", x->nrets, single,
		", ", refused);
	if (jumps)
		fprintf(out, ", %zu tail jump%s", jumps, jumps == 1 ? "" : "s");
	if (indirect)
		fprintf(out, ", %zu indirect jmp", indirect);
}

/* Why the entry probe is where it is: "entry: past 3 instructions to the
 * jcc (first emulated instruction...)" or the first instruction's verdict
 * and why the cheaper site was not taken. */
static void print_entry(FILE *out, const struct func_symbol *s, const struct entry_site *e)
{
	if (e->moved) {
		fprintf(out, "  entry: past %u instruction%s to the %s at +0x%llx (%s",
			s->body.nskipped, s->body.nskipped == 1 ? "" : "s", s->body.site_insn,
			(unsigned long long)(e->offset - e->code_start), e->why);
		if (e->sp_delta)
			fprintf(out, ": 0x%x", e->sp_delta);
		fputc(')', out);
		return;
	}
	if (e->why)
		fprintf(out, "  %s", e->why);
	if (e->cost == ATTACH_SINGLE_STEP && e->why_not)
		fprintf(out, " (not moved: %s)", e->why_not);
}

/* "return: uretprobe (C: ...)" or "return: 3 exit sites [single-step] (Go: ...)":
 * the cost is the dearest site's (a ret is always single-stepped). */
static void print_return(FILE *out, const struct traced_func *f)
{
	const struct func_exits *x = &f->sym->exits;
	enum attach_cost worst = ATTACH_NOP5;
	size_t n;

	if (f->ret_probe == RETURN_URETPROBE) {
		fprintf(out, "  return: uretprobe (%s)", f->ret_why ? f->ret_why : "");
		return;
	}
	n = exit_sites__count(f);
	for (size_t i = 0; i < x->nrets; i++)
		worst = x->rets[i].cost > worst ? x->rets[i].cost : worst;
	for (size_t i = 0; i < x->ntails; i++)
		if (x->tails[i].cost != ATTACH_UNPROBEABLE && x->tails[i].cost > worst)
			worst = x->tails[i].cost;
	if (n == 0)
		fprintf(out, "  return: none (no exit: the call ends when a later one shows it gone; %s)",
			f->ret_why ? f->ret_why : "");
	else
		fprintf(out, "  return: %zu exit site%s [%s] (%s%s)", n, n == 1 ? "" : "s",
			attach_cost__name(worst), f->ret_why ? f->ret_why : "",
			x->ntails ? "; a tail jump out of it ends the call with no return value" : "");
}

void probe_list__print(const struct probe_table *t, bool verbose, FILE *out)
{
	for (size_t i = 0; i < t->nfuncs; i++) {
		const struct traced_func *f = &t->funcs[i];
		const struct func_symbol *s = f->sym;
		struct entry_site entry;

		entry_site__of(f, &entry);
		fprintf(out, "uprobe:%s:%s", f->bin->path, s->name);
		if (f->skip == SKIP_SAME_CODE && f->same_as < t->nfuncs)
			fprintf(out, "  (traced as %s: same code)", t->funcs[f->same_as].sym->name);
		else if (f->skip == SKIP_EXITS_UNKNOWN)
			fprintf(out, "  (can't probe: %s: %s; %s)", skip_reason__name(f->skip),
				s->exits.known ? "an exit instruction can't be probed"
					       : s->exits.unknown_reason, f->ret_why ? f->ret_why : "");
		else if (f->skip != SKIP_NONE)
			fprintf(out, "  (can't probe: %s)",
				s->cost_reason && s->skip != SKIP_NONE ? s->cost_reason
								       : skip_reason__name(f->skip));
		else if (entry.moved)
			fprintf(out, "  [%s, at +0x%llx]", attach_cost__name(entry.cost),
				(unsigned long long)(entry.offset - entry.code_start));
		else
			fprintf(out, "  [%s%s]", attach_cost__name(entry.cost),
				s->skipped_endbr64 ? ", past endbr64" : "");
		if (s->is_ifunc && s->ifunc_impl)
			fprintf(out, "  ifunc -> %s", s->ifunc_impl);
		if (s->naliases) {
			fprintf(out, "  (also ");
			for (size_t k = 0; k < s->naliases; k++)
				fprintf(out, "%s%s", k ? ", " : "", s->aliases[k]);
			fputc(')', out);
		}
		if (verbose) {
			fprintf(out, "  offset 0x%llx", (unsigned long long)entry.offset);
			if (f->skip == SKIP_NONE)
				print_entry(out, s, &entry);
			if (s->name != s->linkage_name && strcmp(s->name, s->linkage_name) != 0)
				fprintf(out, "  symbol %s", s->linkage_name);
			if (s->decl_file)
				fprintf(out, "  %s:%u", s->decl_file, s->decl_line);
			if (s->is_ifunc && !s->ifunc_impl && s->ifunc_candidates)
				fprintf(out, "  candidates: %s", s->ifunc_candidates);
			if (f->skip == SKIP_NONE) {
				print_exits(out, s);
				print_return(out, f);
			}
		}
		fputc('\n', out);
	}
}

void probe_list__print_skipped(FILE *out, const struct probe_table *t, const struct traced_binary *only)
{
	size_t counts[SKIP_REASON_MAX] = { 0 }, total = 0, all = 0;
	bool first = true;

	for (size_t i = 0; i < t->nfuncs; i++) {
		if (only && t->funcs[i].bin != only)
			continue;
		all++;
		if (t->funcs[i].skip != SKIP_NONE && t->funcs[i].skip < SKIP_REASON_MAX) {
			counts[t->funcs[i].skip]++;
			total++;
		}
	}
	if (total == 0)
		return;
	fprintf(out, "spanprobe: warning: %zu of %zu functions not traced:", total, all);
	for (int r = SKIP_NONE + 1; r < SKIP_REASON_MAX; r++) {
		size_t shown = 0;

		if (!counts[r])
			continue;
		fprintf(out, "%s %zu %s (", first ? "" : ";", counts[r], skip_reason__name(r));
		first = false;
		for (size_t i = 0; i < t->nfuncs && shown < NAMES_SHOWN; i++) {
			if ((only && t->funcs[i].bin != only) || t->funcs[i].skip != (enum skip_reason)r)
				continue;
			fprintf(out, "%s%s", shown ? ", " : "", t->funcs[i].sym->name);
			shown++;
		}
		fprintf(out, "%s)", counts[r] > shown ? ", ..." : "");
	}
	fprintf(out, "; -l -v says why\n");
}

/* " (2 emulated, 1 single-step: ~4 us of each call is the probe's)": what
 * the probes cost, by class, so slow-looking short calls are understood. */
void probe_list__cost_classes(const struct probe_table *table, char *buf, size_t len)
{
	size_t count[ATTACH_UNPROBEABLE + 1] = { 0 }, n = 0, kinds = 0;
	static const enum attach_cost order[] = { ATTACH_SINGLE_STEP, ATTACH_EMULATED, ATTACH_NOP5 };

	buf[0] = '\0';
	for (size_t i = 0; i < table->nfuncs; i++) {
		struct entry_site entry;

		if (table->funcs[i].skip != SKIP_NONE)
			continue;
		entry_site__of(&table->funcs[i], &entry);
		if (entry.cost <= ATTACH_UNPROBEABLE)
			count[entry.cost]++;
	}
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]) && n + 1 < len; k++) {
		if (!count[order[k]])
			continue;
		n += snprintf(buf + n, len - n, "%s%zu %s", kinds++ ? ", " : " (", count[order[k]],
			      attach_cost__name(order[k]));
	}
	if (kinds && n + 1 < len)
		n += snprintf(buf + n, len - n, "%s)", count[ATTACH_SINGLE_STEP] ?
			      ": a single-stepped probe adds microseconds to each call" : "");
}
