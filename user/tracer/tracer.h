/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* One tracing run, in libbpf-bootstrap's shape: new (resolve the probes) ->
 * start (open, configure, load and attach the BPF object; the command of -c
 * is started held) -> run (release the command, poll the ring buffers until
 * asked to stop or the traced process ends, then detach and drain) -> free.
 * Every probe source plugs in here (probe_source.h). */
#ifndef SPANPROBE_TRACER_H
#define SPANPROBE_TRACER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <linux/types.h>

#include "func_stats.h"
#include "span_record.h"

struct probe_spec;
struct error_rule;
struct arg_rule;
struct span;
struct tracer;

struct pod_watch;

struct tracer_opts {
	const struct probe_spec *specs;
	size_t nspecs;
	const struct error_rule *rules;
	size_t nrules;
	pid_t pid;          /* -p, or -1 */
	const char *cmd;    /* -c, or NULL */
	bool cmd_stdout_to_stderr; /* the command's stdout goes to spanprobe's stderr */
	bool wait;          /* an absolute path found nowhere yet is not an error */
	bool follow;        /* -c/-p: also trace the process's descendants */
	struct selection *selection; /* without -p/-c: the processes to trace (borrowed) */
	bool verbose;
	bool dry_run;
	bool list;          /* only resolve, for -l */
	int returns;        /* --return-probes: enum return_choice (probe_table.h) */
	uint64_t ring_buffer_bytes; /* --ring-buffer: the span ring's size; 0: the object's */
	const struct arg_rule *arg_rules; /* --arg */
	size_t narg_rules;
	/* What the kernel sends and keeps (bpf/shadow_stack.bpf.h) */
	bool summary_only;  /* no span record at all: the statistics alone */
	bool no_stats;      /* no per-function statistics (--no-summary) */
	uint64_t min_duration_ns;
	bool errors_only;
	uint8_t sample_mode;       /* SAMPLE_* */
	uint64_t sample_threshold;
	/* this node's pods from the API server (node_pods.h), or NULL: names
	 * the pods of traced processes; outlives the tracer */
	struct pod_watch *pods;
};


/* Where spans go: span() gets each finished span; drained(), when set, runs
 * after each read of the ring buffers, so outputs can flush what a batch
 * wrote. A negative return of either stops the run (what is queued is still
 * drained into span()). */
struct tracer_sink {
	int (*span)(void *ctx, const struct span *s);
	int (*drained)(void *ctx);
	void *ctx;
};

/* Resolves every probe. Errors print one line and return a negative errno. */
int tracer__new(const struct tracer_opts *o, struct tracer **out);
/* -l: what each probe source resolved. */
void tracer__print_list(struct tracer *t, FILE *out);
/* Loads and attaches everything. With -v or --dry-run, says what was
 * attached and how long it took. */
int tracer__start(struct tracer *t);
/* Lets the command of -c run and reads spans until *stop, the end of the
 * traced process, or an error; then detaches and drains what is queued. */
int tracer__run(struct tracer *t, const struct tracer_sink *sink, const volatile sig_atomic_t *stop);
/* true once tracer__run got to reading spans: a summary is due. */
bool tracer__ran(const struct tracer *t);
/* The exit status spanprobe should give: the command's with -c (127 when it
 * could not be run), else 0. */
int tracer__exit_code(const struct tracer *t);
/* How full the span ring buffer is, in percent (0 before it is read); takes
 * a struct tracer * as void * to serve as an outputs backlog function. For
 * the thread that runs tracer__run. */
unsigned tracer__ring_backlog_pct(void *tracer);
/* Asks the run loop to decide again which processes selection chooses
 * (the pods changed); safe from any thread. */
void tracer__request_rescan(struct tracer *t);
/* Selection's processes and pods traced (chosen) now and so far; pods are
 * those the processes' cgroups name. Safe from the metrics thread (the
 * totals are read at exit). */
struct selection_counts {
	bool selecting;
	size_t procs_now, pods_now, procs_total, pods_total;
};
void tracer__selection_counts(const struct tracer *t, struct selection_counts *out);
/* With -c/-p following descendants, or with selection: processes traced so
 * far; else 0. */
size_t tracer__processes_seen(const struct tracer *t);
/* Kernel-side counters (STAT_*), summed over CPUs. */
void tracer__kernel_stats(const struct tracer *t, uint64_t out[STAT_MAX]);
/* "spanprobe: hits per function: foo 200, goo 200" when short enough to read. */
void tracer__print_hits(struct tracer *t, FILE *to);
/* Prometheus text of the kernel side (hits per function, losses by cause);
 * safe from the metrics thread. */
void tracer__write_metrics(struct tracer *t, FILE *to);
/* Every function's statistics that saw a call (finished or truncated):
 * *out (malloc'd, freed by the caller) and its count; 0 or -ENOMEM. None
 * with no_stats. Safe from the metrics thread. */
int tracer__func_stats(struct tracer *t, struct func_stats **out, size_t *n);
void tracer__free(struct tracer *t);

#endif
