/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* python:INTERPRETER:FILES:FUNCS probes: Python function calls as spans,
 * from the interpreter's USDT probes (bpf/python.bpf.c). Resolves the
 * specs, loads and attaches the BPF side, and turns its records into struct
 * span for the same outputs as the uprobe side. */
#ifndef SPANPROBE_PYTHON_PROBE_H
#define SPANPROBE_PYTHON_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <linux/types.h>

#include "span_event.h"
#include "python_event.h"

struct probe_spec;
struct process_table;
struct ring_buffer;
struct span;
struct python_probe;

/* The globs as the kernel side gets them: FILES globs first (a relative one
 * also as "*" "/" GLOB, to match the end of co_filename), then FUNCS globs;
 * duplicates dropped. */
struct py_globs {
	char globs[PY_MAX_GLOBS][PY_GLOB_LEN];
	size_t nfile_globs, nfunc_globs;
};

/* Receives each finished Python span; a non-zero return stops the ring
 * buffer's current consume, as a ring buffer callback's does. */
typedef int (*python_span_fn)(void *ctx, const struct span *s);

/* Resolves the python: specs among specs (others are skipped), opens and
 * loads the BPF side for target (a tgid, or -1: every process). *out is
 * NULL, and 0 returned, when there is no python: spec. Errors print one line
 * and return a negative errno. */
int python_probe__load(const struct probe_spec *specs, size_t nspecs, pid_t target,
		       struct python_probe **out);
/* Attaches to target (-1: every process running the interpreters). */
int python_probe__attach(struct python_probe *p, pid_t target);
/* Adds the Python records' ring buffer to *rb (creating it when NULL);
 * finished spans go to fn. */
int python_probe__add_ring(struct python_probe *p, struct ring_buffer **rb, python_span_fn fn,
			   void *ctx, int64_t mono_to_real_ns, struct process_table *procs);
/* Stops new calls from being seen (queued records can still be read). */
void python_probe__detach(struct python_probe *p);
/* Adds the BPF side's counters (STAT_*) to out. */
void python_probe__add_stats(const struct python_probe *p, uint64_t out[STAT_MAX]);
/* Interpreters and globs, for -v and --dry-run. */
void python_probe__describe(const struct python_probe *p, FILE *to);
void python_probe__free(struct python_probe *p);

#endif /* SPANPROBE_PYTHON_PROBE_H */
