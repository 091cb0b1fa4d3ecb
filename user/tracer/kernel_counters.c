// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The one table of the BPF programs' counters: what each is called in the
 * summary line and in Prometheus. A counter added to enum stat_id without a
 * row here fails the build. */
#include <inttypes.h>
#include <string.h>

#include "kernel_counters.h"
#include "call_settings.h"

#define STR_(x) #x
#define STR(x) STR_(x)

enum shown_as {
	LOST,   /* one of the causes in "lost N (...)" */
	NOTE,   /* a clause of its own, when not 0 */
	PYTHON, /* on the python line (tracer_stats.c), metrics only here */
};

struct kernel_counter {
	enum stat_id id;
	enum shown_as shown;
	const char *before, *after; /* the summary's words around the count */
	const char *metric;         /* name{labels} */
	const char *help;           /* the metric name's HELP text (its first row) */
};

static const struct kernel_counter counters[] = {
	{ STAT_RINGBUF_DROPS, LOST, "ring buffer full ", "",
	  "spanprobe_spans_lost_total{cause=\"ring_buffer_full\"}",
	  "Calls not turned into spans, by cause." },
	{ STAT_DEPTH_DROPS, LOST, "nesting > " STR(SPAN_MAX_DEPTH) " ", "",
	  "spanprobe_spans_lost_total{cause=\"nesting_too_deep\"}", NULL },
	{ STAT_STACK_DROPS, LOST, "no thread slot ", "",
	  "spanprobe_spans_lost_total{cause=\"no_thread_slot\"}", NULL },
	{ STAT_TREE_DROPS, NOTE, "", " started processes not followed (the traced tree is full)",
	  "spanprobe_processes_not_followed_total",
	  "Started processes not followed: the traced process tree is full." },
	{ STAT_PROC_DROPS, NOTE, "",
	  " fork/exit reports lost (processes then followed or let go late)",
	  "spanprobe_process_reports_lost_total",
	  "Fork and exit reports lost: processes followed or let go late." },
	{ STAT_EXEC_DROPS, NOTE, "exec reports lost ",
	  " (containers started then were not searched)", "spanprobe_exec_reports_lost_total",
	  "Process execs not reported: their containers were not searched for probed paths." },
	{ STAT_UNSAMPLED, NOTE, "", " traces not sampled", "spanprobe_traces_unsampled_total",
	  "Traces the sampler (OTEL_TRACES_SAMPLER) left out." },
	{ STAT_FILTERED, NOTE, "", " spans filtered out", "spanprobe_spans_filtered_total",
	  "Spans left out by --min-duration or --errors-only." },
	{ STAT_ARGS_DROPS, NOTE, "arguments not captured for ",
	  " calls (captured calls nested deeper than " STR(ARG_SLOTS) ")",
	  "spanprobe_args_not_captured_total",
	  "Calls sent without their --arg values: captured calls nested deeper than " STR(
		  ARG_SLOTS) "." },
	{ STAT_SUMMARY_DROPS, NOTE, "", " calls not in the summary (more functions than its slots)",
	  "spanprobe_summary_calls_dropped_total",
	  "Calls left out of the per-function statistics: more functions than its slots." },
	{ STAT_PY_CALLS, PYTHON, "", "", "spanprobe_python_traced_calls_total",
	  "Entries of traced Python functions." },
	{ STAT_PY_EVAL_ENTRIES, PYTHON, "", "", "spanprobe_python_evaluator_entries_total",
	  "Python calls that entered the evaluator probe in traced processes, traced or not." },
};

_Static_assert(sizeof(counters) / sizeof(counters[0]) == STAT_MAX,
	       "every stat_id needs a row in kernel_counters.c");

#define FOR_EACH_COUNTER(c) \
	for (const struct kernel_counter *c = counters; c < counters + STAT_MAX; c++)

void kernel_counters__summary_lost(const uint64_t k[STAT_MAX], FILE *to)
{
	uint64_t total = 0;
	const char *sep = "";

	FOR_EACH_COUNTER(c)
		if (c->shown == LOST)
			total += k[c->id];
	fprintf(to, "lost %" PRIu64 " (", total);
	FOR_EACH_COUNTER(c) {
		if (c->shown != LOST)
			continue;
		fprintf(to, "%s%s%" PRIu64 "%s", sep, c->before, k[c->id], c->after);
		sep = ", ";
	}
	fputc(')', to);
}

void kernel_counters__summary_notes(const uint64_t k[STAT_MAX], FILE *to)
{
	FOR_EACH_COUNTER(c)
		if (c->shown == NOTE && k[c->id])
			fprintf(to, "; %s%" PRIu64 "%s", c->before, k[c->id], c->after);
}

void kernel_counters__metrics(const uint64_t k[STAT_MAX], FILE *to)
{
	FOR_EACH_COUNTER(c) {
		if (c->help) {
			int name_len = (int)strcspn(c->metric, "{");

			fprintf(to, "# HELP %.*s %s\n# TYPE %.*s counter\n", name_len, c->metric,
				c->help, name_len, c->metric);
		}
		fprintf(to, "%s %" PRIu64 "\n", c->metric, k[c->id]);
	}
}
