// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What the tracer counts in the kernel: losses by cause and hits per traced
 * function, for the summary and the Prometheus text. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>

#include "elf_symbols.h"
#include "percpu_stats.h"
#include "python_probe.h"
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
	unsigned long long hooked, restored;
	uint64_t k[STAT_MAX];

	if (!t->skel || !t->python)
		return;
	tracer__kernel_stats(t, k);
	python_probe__counts(t->python, &hooked, &restored);
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
	tracer__kernel_stats(t, k);
	fprintf(to, "# HELP spanprobe_spans_lost_total Calls not turned into spans, by cause.\n"
		    "# TYPE spanprobe_spans_lost_total counter\n"
		    "spanprobe_spans_lost_total{cause=\"ring_buffer_full\"} %" PRIu64 "\n"
		    "spanprobe_spans_lost_total{cause=\"nesting_too_deep\"} %" PRIu64 "\n"
		    "spanprobe_spans_lost_total{cause=\"no_thread_slot\"} %" PRIu64 "\n"
		    "# HELP spanprobe_exec_reports_lost_total Process execs not reported: their containers were not searched for probed paths.\n"
		    "# TYPE spanprobe_exec_reports_lost_total counter\n"
		    "spanprobe_exec_reports_lost_total %" PRIu64 "\n",
		k[STAT_RINGBUF_DROPS], k[STAT_DEPTH_DROPS], k[STAT_STACK_DROPS], k[STAT_EXEC_DROPS]);
}

