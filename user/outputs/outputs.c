// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonl_output.h"
#include "lines_output.h"
#include "otlp_exporter.h"
#include "outputs.h"
#include "span.h"
#include "span_tree.h"

struct outputs {
	struct output_opts opts;
	FILE *file;                 /* --output-file, or NULL */
	FILE *to;                   /* where tree and jsonl go: file, or stdout */
	const char *to_name;        /* for messages */
	int write_errno;            /* the first failure writing `to`; 0: none */
	/* Spans handed to tree/jsonl, those jsonl printed into `to`, and those
	 * known to have left the stdio buffer (a successful flush). What a
	 * failure loses is handed - confirmed. */
	uint64_t handed, jsonl_printed, lines_printed, confirmed;
	uint64_t roots_shown;       /* traces (root spans) tree or lines showed: the flood rule */
	bool color;
	bool lines;
	struct otlp_config otlp_cfg;
	bool otlp_cfg_set;
	struct span_tree *tree;
	FILE *jsonl;
	struct otlp_exporter *otlp;
	unsigned (*backlog)(void *ctx); /* the ring buffer's fill, for the exporter */
	void *backlog_ctx;
	/* written by the ring-buffer reader only; read by the metrics thread */
	struct output_counts counts;
};

int outputs__open(const struct output_opts *o, struct outputs **out)
{
	struct outputs *os = calloc(1, sizeof(*os));
	int err = 0;

	*out = NULL;
	if (!os)
		return -ENOMEM;
	os->opts = *o;
	if (o->file) {
		os->file = fopen(o->file, "w");
		if (!os->file) {
			err = -errno;
			fprintf(stderr, "spanprobe: can't write %s: %s\n", o->file, strerror(errno));
			goto cleanup;
		}
	}
	if (o->otlp) {
		err = otlp_config__from_env(&os->otlp_cfg, o->endpoint, o->protocol, o->service_name);
		if (err)
			goto cleanup;
		os->otlp_cfg_set = true;
	}
	*out = os;
	return 0;
cleanup:
	outputs__free(os);
	return err;
}

void outputs__set_backlog(struct outputs *o, unsigned (*fn)(void *ctx), void *ctx)
{
	o->backlog = fn;
	o->backlog_ctx = ctx;
}

int outputs__start(struct outputs *o)
{
	FILE *to = o->file ? o->file : stdout;
	int err;

	o->to = to;
	o->to_name = o->opts.file ? o->opts.file : "standard output";
	o->color = !o->file && isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
	o->lines = o->opts.lines;
	if (o->opts.tree) {
		o->tree = span_tree__new(to, o->color);
		if (!o->tree)
			return -ENOMEM;
	}
	if (o->opts.jsonl)
		o->jsonl = to;
	if (o->opts.otlp) {
		err = otlp_exporter__new(&o->otlp_cfg, &o->otlp);
		if (err)
			return err;
		otlp_exporter__set_backlog(o->otlp, o->backlog, o->backlog_ctx);
	}
	return 0;
}

/* One writer: a relaxed atomic store keeps the metrics thread's reads sound. */
#define COUNT(field, n) __atomic_store_n(&(field), (field) + (n), __ATOMIC_RELAXED)

static const char *write_error_hint(int err)
{
	switch (err) {
	case EPIPE:  return " (the reader of the pipe is gone)";
	case ENOSPC:
	case EDQUOT: return " (the disk is full: free space, or choose another --output-file)";
	case EBADF:  return " (standard output is closed)";
	default:     return "";
	}
}

/* The first write failure on `to` is reported once; tree and jsonl stop
 * writing there, and each span they would have written is counted. */
static void write_failed(struct outputs *o, int err)
{
	if (o->write_errno)
		return;
	o->write_errno = err ? err : EIO;
	fprintf(stderr, "spanprobe: writing spans to %s failed: %s%s; %s\n", o->to_name,
		strerror(o->write_errno), write_error_hint(o->write_errno),
		o->otlp ? "the OTLP export goes on" : "stopping");
}

/* Nothing is left to take spans: tracing can stop. */
static int outputs_left(const struct outputs *o)
{
	return o->write_errno && !o->otlp ? -EPIPE : 0;
}

/* Spans tree and jsonl have both printed into `to`. */
static uint64_t printed(const struct outputs *o)
{
	uint64_t n = o->handed;

	if (o->jsonl && o->jsonl_printed < n)
		n = o->jsonl_printed;
	if (o->lines && o->lines_printed < n)
		n = o->lines_printed;
	if (o->tree && span_tree__printed(o->tree) < n)
		n = span_tree__printed(o->tree);
	return n;
}

static void count_unwritten(struct outputs *o)
{
	__atomic_store_n(&o->counts.unwritten, o->handed - o->confirmed, __ATOMIC_RELAXED);
}

/* After a flush: what was printed is out, or the write failed. */
static void check_written(struct outputs *o, bool flush_ok)
{
	if (flush_ok && !ferror(o->to))
		o->confirmed = printed(o);
	else
		write_failed(o, errno);
	count_unwritten(o);
}

int outputs__write(struct outputs *o, const struct span *s)
{
#ifdef MUTANT_DROP_SPAN /* make test-mutants: every 50th span lost silently */
	static unsigned mutant_n;
	if (++mutant_n % 50 == 0)
		return o->jsonl || o->tree || o->lines ? outputs_left(o) : 0;
#endif
	COUNT(o->counts.spans, 1);
	COUNT(o->counts.errors, s->error);
#ifdef MUTANT_TRUNCATION_UNCOUNTED /* make test-mutants: truncations not counted */
	COUNT(o->counts.truncated, 0);
#else
	COUNT(o->counts.truncated, s->truncated);
#endif
	if (o->otlp)
		otlp_exporter__push(o->otlp, s);
	if (!o->jsonl && !o->tree && !o->lines)
		return 0;
	o->handed++;
	if (o->write_errno) {
		count_unwritten(o);
		return outputs_left(o);
	}
	errno = 0;
	if (o->jsonl && jsonl_output__write(o->jsonl, s) != -ENOMEM)
		o->jsonl_printed++;
	if (o->lines && lines_output__write(o->to, s, o->color) != -ENOMEM)
		o->lines_printed++;
	if (o->tree)
		span_tree__add(o->tree, s); /* no memory: the span stays unprinted */
	if ((o->tree || o->lines) && !s->parent_span_id)
		o->roots_shown++;
	if (ferror(o->to))
		check_written(o, false);
	return outputs_left(o);
}

int outputs__flush_lines(struct outputs *o)
{
	if ((o->jsonl || o->tree || o->lines) && !o->write_errno)
		check_written(o, fflush(o->to) != EOF);
	return outputs_left(o);
}

void outputs__flush(struct outputs *o)
{
	if (!o)
		return;
	if (o->tree && !o->write_errno)
		span_tree__flush(o->tree);
	if ((o->jsonl || o->tree || o->lines) && !o->write_errno)
		check_written(o, fflush(o->to) != EOF);
	if (o->otlp)
		otlp_exporter__shutdown(o->otlp);
}

bool outputs__flooded(const struct outputs *o)
{
	return o && o->roots_shown > OUTPUTS_FLOOD_TRACES;
}

FILE *outputs__summary_stream(const struct outputs *o)
{
	if (!o || !o->to || o->write_errno || o->jsonl)
		return stderr;
	return o->to;
}

const char *outputs__write_error(const struct outputs *o)
{
	return o && o->write_errno ? strerror(o->write_errno) : NULL;
}

void outputs__counts(const struct outputs *o, struct output_counts *out)
{
	out->spans = __atomic_load_n(&o->counts.spans, __ATOMIC_RELAXED);
	out->errors = __atomic_load_n(&o->counts.errors, __ATOMIC_RELAXED);
	out->truncated = __atomic_load_n(&o->counts.truncated, __ATOMIC_RELAXED);
	out->unwritten = __atomic_load_n(&o->counts.unwritten, __ATOMIC_RELAXED);
}

bool outputs__otlp_stats(struct outputs *o, struct otlp_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!o || !o->otlp)
		return false;
	otlp_exporter__stats(o->otlp, out);
	return true;
}

void outputs__free(struct outputs *o)
{
	if (!o)
		return;
	otlp_exporter__free(o->otlp);
	span_tree__free(o->tree);
	if (o->file)
		fclose(o->file);
	if (o->otlp_cfg_set)
		otlp_config__release(&o->otlp_cfg);
	free(o);
}
