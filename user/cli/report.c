// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <inttypes.h>
#include <linux/types.h>

#include "kernel_counters.h"
#include "otlp_exporter.h"
#include "outputs.h"
#include "report.h"
#include "span_record.h"
#include "tracer.h"

void report__summary(const struct report_sources *r, FILE *to)
{
	struct selection_counts sel;
	uint64_t k[STAT_MAX];
	struct output_counts c;
	struct otlp_stats os;

	tracer__kernel_stats(r->tracer, k);
	outputs__counts(r->outputs, &c);
	fprintf(to, "spanprobe: %" PRIu64 " spans (%" PRIu64 " errors, %" PRIu64 " truncated); ",
		c.spans, c.errors, c.truncated);
	kernel_counters__summary_lost(k, to);
	if (c.unwritten)
		fprintf(to, "; %" PRIu64 " not written to %s (%s)", c.unwritten,
			r->output_name, outputs__write_error(r->outputs) ?: "out of memory");
	tracer__selection_counts(r->tracer, &sel);
	if (sel.selecting && sel.pods_total) /* processes in pods (by their cgroup) */
		fprintf(to, "; %zu process%s and %zu pod%s traced", sel.procs_total,
			sel.procs_total == 1 ? "" : "es", sel.pods_total, sel.pods_total == 1 ? "" : "s");
	else if (sel.selecting)
		fprintf(to, "; %zu process%s traced", sel.procs_total, sel.procs_total == 1 ? "" : "es");
	else if (tracer__processes_seen(r->tracer))
		fprintf(to, "; %zu processes traced", tracer__processes_seen(r->tracer));
	kernel_counters__summary_notes(k, to);
	if (outputs__otlp_stats(r->outputs, &os))
		fprintf(to, "; OTLP exported %" PRIu64 ", dropped %" PRIu64 ", rejected %" PRIu64
			", retries %" PRIu64, os.exported, os.dropped, os.rejected, os.retries);
	fputc('\n', to);
}

void report__metrics(void *ctx, FILE *to)
{
	const struct report_sources *r = ctx;
	struct selection_counts sel;
	struct output_counts c;
	struct otlp_stats os;

	tracer__write_metrics(r->tracer, to);
	tracer__selection_counts(r->tracer, &sel);
	if (sel.selecting)
		fprintf(to, "# HELP spanprobe_processes_traced Processes chosen (--exe, --namespace, "
			    "--pod-selector, --container) and probed now.\n"
			    "# TYPE spanprobe_processes_traced gauge\nspanprobe_processes_traced %zu\n"
			    "# HELP spanprobe_pods_traced Pods with a chosen process now.\n"
			    "# TYPE spanprobe_pods_traced gauge\nspanprobe_pods_traced %zu\n",
			sel.procs_now, sel.pods_now);
	outputs__counts(r->outputs, &c);
	fprintf(to, "# TYPE spanprobe_spans_total counter\nspanprobe_spans_total %" PRIu64 "\n"
		    "# TYPE spanprobe_span_errors_total counter\nspanprobe_span_errors_total %" PRIu64 "\n"
		    "# TYPE spanprobe_spans_truncated_total counter\nspanprobe_spans_truncated_total %" PRIu64 "\n"
		    "# HELP spanprobe_spans_unwritten_total Spans the tree or jsonl output could not write.\n"
		    "# TYPE spanprobe_spans_unwritten_total counter\nspanprobe_spans_unwritten_total %" PRIu64 "\n",
		c.spans, c.errors, c.truncated, c.unwritten);
	if (outputs__otlp_stats(r->outputs, &os))
		fprintf(to, "# TYPE spanprobe_otlp_spans_exported_total counter\nspanprobe_otlp_spans_exported_total %" PRIu64 "\n"
			    "# TYPE spanprobe_otlp_spans_dropped_total counter\nspanprobe_otlp_spans_dropped_total %" PRIu64 "\n"
			    "# TYPE spanprobe_otlp_spans_rejected_total counter\nspanprobe_otlp_spans_rejected_total %" PRIu64 "\n"
			    "# TYPE spanprobe_otlp_retries_total counter\nspanprobe_otlp_retries_total %" PRIu64 "\n"
			    "# TYPE spanprobe_otlp_failed_requests_total counter\nspanprobe_otlp_failed_requests_total %" PRIu64 "\n",
			os.exported, os.dropped, os.rejected, os.retries, os.failed_requests);
}
