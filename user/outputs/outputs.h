/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Where finished spans go: the tree, jsonl and OTLP outputs chosen with -o,
 * and the span counts the summary and the metrics report. */
#ifndef SPANPROBE_OUTPUTS_H
#define SPANPROBE_OUTPUTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct span;
struct otlp_stats;
struct outputs;

struct output_opts {
	bool tree, jsonl, otlp;
	bool lines;              /* one line a finished call */
	bool summary;            /* -o summary: the summary is an output (alone: no spans sent) */
	const char *file;        /* tree/jsonl go here instead of stdout, or NULL */
	/* override the OTEL_* environment, or NULL */
	const char *endpoint, *protocol, *service_name;
};

struct output_counts {
	uint64_t spans, errors, truncated;
	uint64_t unwritten; /* spans tree/jsonl could not write (write failed, no memory) */
};

/* Checks the OTLP settings and opens the file; prints one line and returns a
 * negative errno on a bad setting. The outputs start with outputs__start. */
int outputs__open(const struct output_opts *o, struct outputs **out);
/* How full the buffer spans come from is, in percent (see
 * otlp_exporter__set_backlog); before outputs__start. */
void outputs__set_backlog(struct outputs *o, unsigned (*fn)(void *ctx), void *ctx);
/* Starts the tree and the OTLP exporter (its thread). */
int outputs__start(struct outputs *o);
/* One finished span to every output. A write failure is reported once, with
 * its cause; the spans that output can't take from then on are counted as
 * unwritten. A negative return means no output is left to take spans (stop
 * tracing, and keep draining: spans are still counted). */
int outputs__write(struct outputs *o, const struct span *s);
/* Pushes what was written so far to the file or pipe (after each batch:
 * `tail -f` and `| jq` see spans as they come); negative as outputs__write. */
int outputs__flush_lines(struct outputs *o);
/* The summary's default rule: tree or lines showed more than this many
 * traces (a flood no one reads back), so the summary follows them. */
#define OUTPUTS_FLOOD_TRACES 100
bool outputs__flooded(const struct outputs *o);
/* Where the summary goes: the span output (stdout or --output-file), or
 * standard error when jsonl is written there (its lines stay JSON) or the
 * output failed. */
FILE *outputs__summary_stream(const struct outputs *o);
/* strerror of the write failure of tree/jsonl, or NULL. */
const char *outputs__write_error(const struct outputs *o);
/* Prints incomplete trees, flushes the files, and shuts the exporter down
 * (within its export timeout). */
void outputs__flush(struct outputs *o);
/* Safe from another thread (the metrics server). */
void outputs__counts(const struct outputs *o, struct output_counts *out);
/* false when there is no OTLP output. */
bool outputs__otlp_stats(struct outputs *o, struct otlp_stats *out);
void outputs__free(struct outputs *o);

#endif
