/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What a run reports about itself: the summary line at exit and the
 * Prometheus text of --metrics-addr, from the tracer's kernel counters and
 * the outputs' counts. */
#ifndef SPANPROBE_REPORT_H
#define SPANPROBE_REPORT_H

#include <stdio.h>

struct tracer;
struct outputs;

struct report_sources {
	struct tracer *tracer;
	struct outputs *outputs;
	const char *output_name; /* where tree/jsonl go, for the summary */
};

/* "spanprobe: N spans (E errors, T truncated); lost L (...)[; OTLP ...]" */
void report__summary(const struct report_sources *r, FILE *to);
/* A metrics_collect_fn: ctx is a struct report_sources. */
void report__metrics(void *ctx, FILE *to);

#endif
