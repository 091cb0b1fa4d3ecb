// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonl_output.h"
#include "otlp_exporter.h"
#include "outputs.h"
#include "span.h"
#include "span_tree.h"

struct outputs {
	struct output_opts opts;
	FILE *file;                 /* --output-file, or NULL */
	struct otlp_config otlp_cfg;
	bool otlp_cfg_set;
	struct span_tree *tree;
	FILE *jsonl;
	struct otlp_exporter *otlp;
	/* written by the ring-buffer reader only; read by the metrics thread */
	struct output_counts counts;
	int error;
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

int outputs__start(struct outputs *o)
{
	FILE *to = o->file ? o->file : stdout;
	int err;

	if (o->opts.tree) {
		o->tree = span_tree__new(to, !o->file && isatty(STDOUT_FILENO) && !getenv("NO_COLOR"));
		if (!o->tree)
			return -ENOMEM;
	}
	if (o->opts.jsonl)
		o->jsonl = to;
	if (o->opts.otlp) {
		err = otlp_exporter__new(&o->otlp_cfg, &o->otlp);
		if (err)
			return err;
	}
	return 0;
}

/* One writer: a relaxed atomic store keeps the metrics thread's reads sound. */
#define COUNT(field, n) __atomic_store_n(&(field), (field) + (n), __ATOMIC_RELAXED)

int outputs__write(struct outputs *o, const struct span *s)
{
	COUNT(o->counts.spans, 1);
	COUNT(o->counts.errors, s->error);
	COUNT(o->counts.truncated, s->truncated);
	if (o->otlp)
		otlp_exporter__push(o->otlp, s);
	if (o->jsonl && jsonl_output__write(o->jsonl, s))
		o->error = -EIO;
	if (o->tree && span_tree__add(o->tree, s))
		o->error = -ENOMEM;
	return o->error;
}

void outputs__flush_lines(struct outputs *o)
{
	if (o->jsonl)
		fflush(o->jsonl);
}

void outputs__flush(struct outputs *o)
{
	if (!o)
		return;
	if (o->tree)
		span_tree__flush(o->tree);
	if (o->jsonl)
		fflush(o->jsonl);
	if (o->otlp)
		otlp_exporter__shutdown(o->otlp);
}

void outputs__counts(const struct outputs *o, struct output_counts *out)
{
	out->spans = __atomic_load_n(&o->counts.spans, __ATOMIC_RELAXED);
	out->errors = __atomic_load_n(&o->counts.errors, __ATOMIC_RELAXED);
	out->truncated = __atomic_load_n(&o->counts.truncated, __ATOMIC_RELAXED);
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
