// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What the tracer counts in the kernel: losses by cause, hits per traced
 * function and per-function call statistics, for the summaries and the
 * Prometheus text. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf_symbols.h"
#include "kernel_counters.h"
#include "percpu_stats.h"
#include "probe_cost.h"
#include "span_decode.h"
#include "python_probe.h"
#include "python_source.h"
#include "spanprobe.skel.h"
#include "tracer_internal.h"

void tracer__kernel_stats(const struct tracer *t, uint64_t out[STAT_MAX])
{
	percpu_stats__sum_all(t->skel ? t->skel->maps.stats : NULL, out, STAT_MAX);
}

/* "spanprobe: python: 300 traced calls, 4100 evaluator entries; inlining
 * turned off in 1 interpreter, restored in 1" */
static void print_python(struct tracer *t, FILE *to)
{
	const struct python_probe *py = python_source__probe(tracer__source_state(t, &python_source));
	unsigned long long hooked, restored;
	uint64_t k[STAT_MAX];

	if (!t->skel || !py)
		return;
	tracer__kernel_stats(t, k);
	python_probe__counts(py, &hooked, &restored);
	fprintf(to, "spanprobe: python: %" PRIu64 " traced calls", k[STAT_PY_CALLS]);
	if (k[STAT_PY_EVAL_ENTRIES])
		fprintf(to, ", %" PRIu64 " evaluator entries", k[STAT_PY_EVAL_ENTRIES]);
	if (hooked)
		fprintf(to, "; inlining turned off in %llu interpreter%s, restored in %llu", hooked,
			hooked == 1 ? "" : "s", restored);
	fputc('\n', to);
}

void tracer__print_hits(struct tracer *t, FILE *to)
{
	print_python(t, to);
	if (!t->skel || t->table.nfuncs == 0 || (t->table.nfuncs > 16 && !t->opts.verbose))
		return;
	fprintf(to, "spanprobe: hits per function:");
	for (uint32_t i = 0; i < t->table.nfuncs; i++)
		fprintf(to, "%s %s %" PRIu64, i ? "," : "", t->table.funcs[i].sym->name,
			percpu_stats__sum(t->skel->maps.func_hits, i));
	fputc('\n', to);
}

/* A Prometheus label value: backslash, quote and newline escaped (Python
 * names and paths come from the traced process). */
static void write_label(FILE *to, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', to);
		if (*v == '\n') {
			fputs("\\n", to);
			continue;
		}
		fputc(*v, to);
	}
}

/* Python functions are found at run time: their calls come from the
 * kernel's statistics (calls that ended, by function and file). */
static void write_python_metrics(struct tracer *t, FILE *to)
{
	struct func_stats *fs;
	size_t n;

	if (!python_source__probe(tracer__source_state(t, &python_source)))
		return;
	fprintf(to, "# HELP spanprobe_python_functions_found Python functions matched so far.\n"
		    "# TYPE spanprobe_python_functions_found gauge\n"
		    "spanprobe_python_functions_found %zu\n",
		span_decoder__dyn_count(t->decoder));
	if (tracer__func_stats(t, &fs, &n))
		return;
	fprintf(to, "# HELP spanprobe_python_calls_total Calls of each traced Python function that "
		    "ended (returned, or left by an exception).\n"
		    "# TYPE spanprobe_python_calls_total counter\n");
	for (size_t i = 0; i < n; i++) {
		if (strcmp(fs[i].probe_class, "usdt") != 0)
			continue;
		fputs("spanprobe_python_calls_total{function=\"", to);
		write_label(to, fs[i].name);
		fputs("\",file=\"", to);
		write_label(to, fs[i].where);
		fprintf(to, "\"} %" PRIu64 "\n", (uint64_t)(fs[i].s.calls + fs[i].s.truncated));
	}
	free(fs);
}

void tracer__write_metrics(struct tracer *t, FILE *to)
{
	uint64_t k[STAT_MAX];

	fprintf(to, "# HELP spanprobe_probe_hits_total Calls of each traced function seen by its entry probe.\n"
		    "# TYPE spanprobe_probe_hits_total counter\n");
	pthread_mutex_lock(&t->table_lock);
	for (uint32_t i = 0; i < t->table.nfuncs; i++) {
		const struct traced_func *f = &t->table.funcs[i];

		/* names are C identifiers and paths: nothing to escape but quotes */
		fprintf(to, "spanprobe_probe_hits_total{function=\"%s\",binary=\"%s\"} %" PRIu64 "\n",
			f->sym->name, f->bin->spec_name, percpu_stats__sum(t->skel->maps.func_hits, i));
	}
	pthread_mutex_unlock(&t->table_lock);
	write_python_metrics(t, to);
	tracer__kernel_stats(t, k);
	kernel_counters__metrics(k, to);
}


/* Adds one CPU's statistics of a function into sum. */
static void add_cpu(struct call_stats *sum, const struct call_stats *c)
{
	sum->calls += c->calls;
	sum->errors += c->errors;
	sum->truncated += c->truncated;
	sum->total_ns += c->total_ns;
	sum->self_ns += c->self_ns;
	if (c->max_ns > sum->max_ns)
		sum->max_ns = c->max_ns;
	if (c->min_ns && (!sum->min_ns || c->min_ns < sum->min_ns))
		sum->min_ns = c->min_ns;
	for (size_t b = 0; b < HIST_BUCKETS; b++)
		sum->hist[b] += c->hist[b];
}

/* Names the function of statistics slot i; false when it names none. */
static bool name_slot(struct tracer *t, uint32_t i, struct func_stats *f)
{
	if (i < t->stats_uprobe_slots) {
		const struct traced_func *tf;
		struct probe_cost cost;

		if (i >= t->table.nfuncs)
			return false;
		tf = &t->table.funcs[i];
		snprintf(f->name, sizeof(f->name), "%s", tf->sym->name);
		snprintf(f->where, sizeof(f->where), "%s", tf->bin->spec_name);
		probe_cost__of(tf, &cost);
		f->probe_class = cost.cls;
		f->probe_overhead_ns = cost.overhead_ns;
		return true;
	}
	f->probe_class = "usdt";
	f->probe_overhead_ns = 0;
	return span_decoder__dyn_name(t->decoder, DYN_FUNC_ID_BASE + (i - t->stats_uprobe_slots),
				      f->name, sizeof(f->name), f->where, sizeof(f->where));
}

int tracer__func_stats(struct tracer *t, struct func_stats **out, size_t *n)
{
	uint32_t slots = t->stats_uprobe_slots + t->stats_dyn_slots;
	int ncpus = libbpf_num_possible_cpus();
	struct call_stats *percpu = NULL;
	struct func_stats *list = NULL;
	size_t count = 0;
	int err = 0;

	*out = NULL;
	*n = 0;
	if (!t->skel || !slots || ncpus <= 0)
		return 0;
	percpu = calloc(ncpus, sizeof(*percpu));
	list = calloc(slots, sizeof(*list));
	if (!percpu || !list) {
		err = -ENOMEM;
		goto cleanup;
	}
	pthread_mutex_lock(&t->table_lock);
	for (uint32_t i = 0; i < slots; i++) {
		struct func_stats *f = &list[count];

		if (bpf_map__lookup_elem(t->skel->maps.call_stats, &i, sizeof(i), percpu,
					 sizeof(*percpu) * ncpus, 0))
			continue;
		memset(&f->s, 0, sizeof(f->s));
		for (int c = 0; c < ncpus; c++)
			add_cpu(&f->s, &percpu[c]);
		if (!f->s.calls && !f->s.truncated)
			continue;
		if (!name_slot(t, i, f))
			snprintf(f->name, sizeof(f->name), "function #%u", i);
		count++;
	}
	pthread_mutex_unlock(&t->table_lock);
	*out = list;
	*n = count;
	list = NULL;
cleanup:
	free(percpu);
	free(list);
	return err;
}
